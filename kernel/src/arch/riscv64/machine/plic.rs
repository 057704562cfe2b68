//! The platform-level interrupt controller (SiFive/RISC-V PLIC) of QEMU `virt`, hart 0's
//! supervisor context.

use super::paddr_to_pptr;
use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// Source priority registers (4 bytes per source).
const PRIO: usize = 0x0;
/// Enable bits of context 1 (hart 0, S-mode).
const ENABLE: usize = 0x2000 + 0x80;
/// Threshold of context 1.
const THRESHOLD: usize = 0x20_0000 + 0x1000;
/// Claim/complete of context 1.
const CLAIM: usize = THRESHOLD + 4;

/// Kernel-virtual address of the PLIC (0 before `init`).
static PLIC_BASE: AtomicUsize = AtomicUsize::new(0);
/// Number of sources.
static PLIC_NDEV: AtomicUsize = AtomicUsize::new(0);

fn base() -> usize {
    PLIC_BASE.load(Relaxed)
}

fn read(off: usize) -> u32 {
    // SAFETY: `base()` is the PLIC's MMIO window in the kernel window (set from the device tree)
    // and `off` one of its 32-bit registers.
    unsafe { core::ptr::read_volatile((base() + off) as *const u32) }
}

fn write(off: usize, v: u32) {
    // SAFETY: as in `read`.
    unsafe { core::ptr::write_volatile((base() + off) as *mut u32, v) }
}

/// Sets up the PLIC at physical `paddr` with `ndev` sources: every source masked, priority 1,
/// threshold 0, nothing left claimed.
pub fn init(paddr: u64, ndev: u32) {
    PLIC_BASE.store(paddr_to_pptr(paddr), Relaxed);
    PLIC_NDEV.store(ndev as usize, Relaxed);
    for irq in 1..=ndev as usize {
        mask(irq, true);
        write(PRIO + 4 * irq, 1);
    }
    write(THRESHOLD, 0);
    while let Some(i) = claim_raw() {
        write(CLAIM, i as u32);
    }
}

fn claim_raw() -> Option<usize> {
    if base() == 0 {
        return None;
    }
    let irq = read(CLAIM) as usize;
    (irq != 0).then_some(irq)
}

/// Masks (`disable`) or unmasks interrupt source `irq`.
pub fn mask(irq: usize, disable: bool) {
    if base() == 0 || irq == 0 || irq > PLIC_NDEV.load(Relaxed) {
        return;
    }
    let off = ENABLE + (irq / 32) * 4;
    let v = read(off);
    let bit = 1u32 << (irq % 32);
    write(off, if disable { v & !bit } else { v | bit });
    if !disable {
        // QEMU's PLIC re-evaluates pending interrupts on threshold writes but not on enable
        // writes: rewrite the threshold so that a line raised while masked interrupts now.
        write(THRESHOLD, 0);
    }
}

/// Claims the highest-priority pending interrupt and completes the claim at once (as seL4 does
/// on QEMU `virt`); the kernel masks the source itself until user level acknowledges it.
pub fn claim() -> Option<usize> {
    let irq = claim_raw()?;
    write(CLAIM, irq as u32);
    Some(irq)
}
