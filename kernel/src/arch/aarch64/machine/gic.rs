//! The GICv2 of QEMU `virt` (seL4 `src/arch/arm/machine/gic_v2.c`): the distributor (GICD)
//! and CPU 0's CPU interface (GICC), reached through the kernel's device block.
//!
//! Claiming: an IRQ entry (or the idle loop) reads GICC_IAR, which activates the highest
//! pending interrupt, and writes it back to GICC_EOIR at once (priority drop and
//! deactivation: EOImode 0); as on riscv64, the kernel keeps a device interrupt masked at the
//! distributor from delivery until `seL4_IRQHandler_Ack`. The kernel timer's PPI is named
//! to the generic code as the timer; a device interrupt's number waits in [`CLAIMED`] for
//! `irq_claim`.

use super::kdev;
use crate::entry::Interrupt;
use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// GICD registers.
const GICD_CTLR: usize = 0x000;
const GICD_TYPER: usize = 0x004;
const GICD_ISENABLER: usize = 0x100;
const GICD_ICENABLER: usize = 0x180;
const GICD_ICPENDR: usize = 0x280;
const GICD_IPRIORITYR: usize = 0x400;
const GICD_ITARGETSR: usize = 0x800;
const GICD_ICFGR: usize = 0xc00;
const GICD_IGROUPR: usize = 0x080;
const GICD_CPENDSGIR: usize = 0xf10;
/// GICC registers.
const GICC_CTLR: usize = 0x00;
const GICC_PMR: usize = 0x04;
const GICC_BPR: usize = 0x08;
const GICC_IAR: usize = 0x0c;
const GICC_EOIR: usize = 0x10;

/// INTID field of GICC_IAR.
const IAR_INTID_MASK: u32 = 0x3ff;
/// GICC_IAR when nothing is pending.
const IRQ_NONE: u32 = 1023;

/// Kernel-virtual addresses of the distributor and the CPU interface (0 before [`init`]).
static GICD: AtomicUsize = AtomicUsize::new(0);
static GICC: AtomicUsize = AtomicUsize::new(0);
/// Interrupt lines the distributor has (32 * (ITLinesNumber + 1)).
static NIRQS: AtomicUsize = AtomicUsize::new(0);
/// The device interrupt the last claim returned, plus one (0: none).
static CLAIMED: AtomicUsize = AtomicUsize::new(0);

fn read(base: &AtomicUsize, off: usize) -> u32 {
    // SAFETY: the base is the GIC's MMIO window in the kernel's device block (set from the
    // device tree) and `off` one of its 32-bit registers.
    unsafe { core::ptr::read_volatile((base.load(Relaxed) + off) as *const u32) }
}

fn write(base: &AtomicUsize, off: usize, v: u32) {
    // SAFETY: as in `read`.
    unsafe { core::ptr::write_volatile((base.load(Relaxed) + off) as *mut u32, v) }
}

/// Sets the GIC up (seL4 `dist_init` and `cpu_iface_init`): every interrupt disabled and not
/// pending, priority 0, routed to this CPU, SPIs level-triggered, all in group 0; the CPU
/// interface lets priorities below 0xf0 through.
pub fn init(dist_paddr: u64, cpu_paddr: u64) {
    GICD.store(kdev(dist_paddr), Relaxed);
    GICC.store(kdev(cpu_paddr), Relaxed);
    let nirqs = 32 * ((read(&GICD, GICD_TYPER) as usize & 0x1f) + 1);
    NIRQS.store(nirqs, Relaxed);
    write(&GICD, GICD_CTLR, 0);
    for i in (0..nirqs).step_by(32) {
        write(&GICD, GICD_ICENABLER + i / 8, u32::MAX);
        write(&GICD, GICD_ICPENDR + i / 8, u32::MAX);
        write(&GICD, GICD_IGROUPR + i / 8, 0);
    }
    for i in (0..nirqs).step_by(4) {
        write(&GICD, GICD_IPRIORITYR + i, 0);
    }
    // Route every SPI to the CPU interface the banked target registers name for us.
    let mut me = (read(&GICD, GICD_ITARGETSR) | read(&GICD, GICD_ITARGETSR + 4)) & 0xff;
    if me == 0 {
        me = 1;
    }
    for i in (32..nirqs).step_by(4) {
        write(&GICD, GICD_ITARGETSR + i, me * 0x0101_0101);
    }
    for i in (64..nirqs).step_by(16) {
        write(&GICD, GICD_ICFGR + i / 4, 0x5555_5555);
    }
    for i in (0..16).step_by(4) {
        write(&GICD, GICD_CPENDSGIR + i, u32::MAX);
    }
    write(&GICD, GICD_CTLR, 1);

    write(&GICC, GICC_CTLR, 0);
    write(&GICC, GICC_PMR, 0xf0);
    write(&GICC, GICC_BPR, 3);
    loop {
        let iar = read(&GICC, GICC_IAR);
        if iar & IAR_INTID_MASK >= IRQ_NONE - 3 {
            break;
        }
        write(&GICC, GICC_EOIR, iar);
    }
    write(&GICC, GICC_CTLR, 1);
}

/// GICD_SGIR: raises an SGI (target list in bits 23..16, INTID in 3..0).
const GICD_SGIR: usize = 0xf00;

/// seL4 `plat_sendSGI` (GICv2): raises SGI `irq` at CPU interface `target` (the target-list
/// filter 0: the listed CPUs only).
pub fn send_sgi(irq: u8, target: u32) {
    if GICD.load(Relaxed) == 0 {
        return;
    }
    write(
        &GICD,
        GICD_SGIR,
        (1u32 << (16 + (target & 7))) | (irq as u32 & 0xf),
    );
}

/// Masks (`disable`) or unmasks interrupt `irq` at the distributor.
pub fn mask(irq: usize, disable: bool) {
    if GICD.load(Relaxed) == 0 || irq >= NIRQS.load(Relaxed) {
        return;
    }
    let off = if disable {
        GICD_ICENABLER
    } else {
        GICD_ISENABLER
    };
    write(&GICD, off + (irq / 32) * 4, 1 << (irq % 32));
}

/// `setIRQTrigger`: interrupt `irq` becomes edge-triggered (`edge`) or level-triggered
/// (the upper bit of its GICD_ICFGR field). SGIs are always edge-triggered and PPIs fixed on
/// QEMU: the write has no effect there.
pub fn set_trigger(irq: usize, edge: bool) {
    if GICD.load(Relaxed) == 0 || irq >= NIRQS.load(Relaxed) {
        return;
    }
    let off = GICD_ICFGR + (irq / 16) * 4;
    let bit = 1u32 << ((irq % 16) * 2 + 1);
    let v = read(&GICD, off);
    write(&GICD, off, if edge { v | bit } else { v & !bit });
}

/// Claims the highest-priority pending interrupt and completes it at once; returns what it is
/// for the trap entry: the kernel timer, a device interrupt (its number then waits for
/// [`take_claimed`]), or nothing.
pub fn claim_for_entry() -> Interrupt {
    if GICC.load(Relaxed) == 0 {
        return Interrupt::Spurious;
    }
    let iar = read(&GICC, GICC_IAR);
    let intid = iar & IAR_INTID_MASK;
    let kind = crate::arch::aarch64::cause::interrupt(intid);
    if kind != Interrupt::Spurious {
        write(&GICC, GICC_EOIR, iar);
    }
    if kind == Interrupt::External {
        CLAIMED.store(intid as usize + 1, Relaxed);
    }
    kind
}

/// The device interrupt [`claim_for_entry`] claimed last, once.
pub fn take_claimed() -> Option<usize> {
    CLAIMED.swap(0, Relaxed).checked_sub(1)
}
