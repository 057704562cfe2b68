//! The aarch64 machine layer for QEMU `virt` (`-machine virt -cpu cortex-a53`, GICv2), booted
//! as a Linux arm64 `Image` by QEMU's `-kernel` with `-initrd`, or by a loader with seL4's boot
//! protocol: everything that touches the hardware (system registers, MMIO, trap entry and
//! exit, the device tree).
//!
//! # Memory layout (EL1, TTBR1_EL1 with a 39-bit upper region: T1SZ = 25, a level-1 root)
//!
//! | virtual range                                   | maps to (physical)   | use                     |
//! |-------------------------------------------------|----------------------|-------------------------|
//! | `0x0000_0000_0000_0000..0x0000_8000_0000_0000`  | per thread (TTBR0)   | user space (48 bits)    |
//! | `PPTR_BASE = 0xFFFF_FF80_0000_0000..PPTR_TOP`   | `0..511 GiB`         | the window onto physical memory (Normal write-back, 1 GiB blocks); the kernel image lies in it |
//! | `KDEV_BASE = PPTR_TOP = 0xFFFF_FFFF_C000_0000..` | `0..1 GiB`          | the kernel's devices (Device-nGnRnE, one 1 GiB block) |
//!
//! As in seL4, `PPTR_BASE` is physical address 0, so the kernel image (loaded at physical
//! `0x4020_0000` by QEMU) runs at `0xFFFF_FF80_4020_0000` and every kernel address is
//! `PPTR_BASE + paddr`. Unlike seL4 (4-level tables, 2 MiB pages, one 4 KiB page per device at
//! `0xFFFF_FFFF_FFE0_0000`), the kernel's table is one level-1 table of 1 GiB blocks, and the
//! devices are reached through the 1 GiB device block, which holds all of QEMU `virt`'s
//! devices below RAM. User VSpaces are entirely in TTBR0_EL1 and hold no kernel mapping.
//!
//! # Sub-modules
//! - [`boot`]: the `Image` header and `_start` (both hand-offs), the EL2 → EL1 drop, the boot
//!   page tables, the kernel stack, early init, the kernel image's and its boot-only part's
//!   extents.
//! - [`trap`]: the exception vectors, entry and exit.
//! - [`gic`]: the GICv2 distributor and CPU interface.
//! - [`devicetree`]: the device tree QEMU passes in x0 (a loader in x4/x5), parsed into
//!   `BootParams` with the shared reader (`crate::arch::devicetree`).
//! - [`fpu`]: saving and loading q0..q31, FPSR, FPCR.

pub mod boot;
pub mod devicetree;
pub mod fpu;
pub mod gic;
pub use gic::send_sgi;
pub mod trap;

use core::arch::asm;
use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

pub use trap::restore_user_context;

/// Start of the kernel's window onto physical memory: physical address `p` is at
/// `PPTR_BASE + p` (seL4 `PPTR_BASE` for aarch64 without the hypervisor).
pub const PPTR_BASE: usize = 0xFFFF_FF80_0000_0000;
/// End of the window (exclusive), also where the kernel's device block starts (seL4
/// `PPTR_TOP`).
pub const PPTR_TOP: usize = 0xFFFF_FFFF_C000_0000;
/// Physical addresses below this are in the window (511 GiB).
pub const PADDR_TOP: u64 = (PPTR_TOP - PPTR_BASE) as u64;
const _: () = assert!(PADDR_TOP == super::PADDR_TOP);
/// Where the kernel reaches device registers: physical `p` (below [`KDEV_SIZE`]) is at
/// `KDEV_BASE + p`.
pub const KDEV_BASE: usize = PPTR_TOP;
/// Physical addresses below this can be kernel devices (the one 1 GiB device block).
pub const KDEV_SIZE: u64 = 1 << 30;
/// Physical address QEMU loads the image at (RAM base + `text_offset` of the `Image`
/// header), the kernel ELF's physical base (`link-aarch64.ld`), where `_start` is.
pub const KERNEL_ELF_PADDR_BASE: u64 = 0x4020_0000;
/// Size of the kernel stack used at boot and for every trap (no nesting).
pub const KERNEL_STACK_SIZE: usize = 64 * 1024;

/// The kernel-virtual address of physical address `p`, through the window (seL4
/// `ptrFromPAddr`): plain arithmetic; only addresses below [`PADDR_TOP`] give an address the
/// kernel may dereference (device untypeds reach 2^40 and wrap around to names only
/// [`pptr_to_paddr`] turns back).
#[inline(always)]
pub fn paddr_to_pptr(p: u64) -> usize {
    (p as usize).wrapping_add(PPTR_BASE)
}

/// The physical address of kernel-virtual address `v` (the inverse of [`paddr_to_pptr`]; the
/// kernel image is in the window too).
#[inline(always)]
pub fn pptr_to_paddr(v: usize) -> u64 {
    v.wrapping_sub(PPTR_BASE) as u64
}

/// The kernel-virtual address of the device register at physical `p` (below [`KDEV_SIZE`]).
#[inline(always)]
pub fn kdev(p: u64) -> usize {
    KDEV_BASE + (p & (KDEV_SIZE - 1)) as usize
}

/// Physical address of the console PL011 (QEMU `virt`'s, until the device tree says otherwise;
/// 0: no console).
static UART_PADDR: AtomicU64 = AtomicU64::new(0x0900_0000);

/// PL011 registers: data, flags (TXFF = bit 5: transmit FIFO full).
const UARTDR: usize = 0x00;
const UARTFR: usize = 0x18;
const UARTFR_TXFF: u32 = 1 << 5;

/// Records where the console UART is (from the device tree).
pub(crate) fn set_uart(paddr: u64) {
    UART_PADDR.store(paddr, Ordering::Relaxed);
}

/// Writes one byte to the PL011 console, waiting while its FIFO is full; a line feed goes out
/// as CR LF, as seL4's Arm console does (`uart_console_putchar`, `include/drivers/uart.h`), so
/// that `seL4_DebugPutChar` output is byte for byte seL4's.
pub fn put_char(c: u8) {
    let p = UART_PADDR.load(Ordering::Relaxed);
    if p == 0 || p >= KDEV_SIZE {
        return;
    }
    let base = kdev(p);
    let raw = |b: u8| {
        // SAFETY: `base` is the PL011's MMIO window in the kernel's device block (mapped
        // Device-nGnRnE); reading its flag register and writing its data register have no
        // effect on memory the kernel uses.
        unsafe {
            while core::ptr::read_volatile((base + UARTFR) as *const u32) & UARTFR_TXFF != 0 {}
            core::ptr::write_volatile((base + UARTDR) as *mut u32, b as u32);
        }
    };
    if c == b'\n' {
        raw(b'\r');
    }
    raw(c);
}

/// PSCI conduit of [`halt`]: 0 `hvc`, 1 `smc` (from the device tree).
static PSCI_SMC: AtomicU8 = AtomicU8::new(0);

/// Records how PSCI is called.
pub(crate) fn set_psci(conduit: super::platform::PsciConduit) {
    let v = matches!(conduit, super::platform::PsciConduit::Smc) as u8;
    PSCI_SMC.store(v, Ordering::Relaxed);
}

/// PSCI `SYSTEM_OFF` (function 0x8400_0008): QEMU exits with status 0.
pub const PSCI_SYSTEM_OFF: u64 = 0x8400_0008;

/// Calls PSCI `SYSTEM_OFF` and does not return.
pub fn psci_system_off() -> ! {
    let f = PSCI_SYSTEM_OFF;
    if PSCI_SMC.load(Ordering::Relaxed) != 0 {
        // SAFETY: a PSCI call to the firmware; SYSTEM_OFF does not return.
        unsafe { asm!("smc #0", inout("x0") f => _, options(nomem, nostack)) };
    } else {
        // SAFETY: as above, through the hypervisor conduit (QEMU implements PSCI itself).
        unsafe { asm!("hvc #0", inout("x0") f => _, options(nomem, nostack)) };
    }
    park()
}

/// seL4 `doSMC` (`src/arch/arm/object/smc.c`): a Secure Monitor Call (`smc #0`) with x0..x7
/// = `regs`; returns x0..x7 as the monitor leaves them. x8..x17 may be clobbered (SMC Calling
/// Convention), as seL4 declares. What answers is the firmware at EL3 or, on QEMU `virt` with
/// `virtualization=on` and no EL3 firmware, QEMU's own PSCI; where nothing does (no EL2 or
/// EL3, PSCI through `hvc`) `smc` is an undefined instruction in the kernel, as under seL4.
pub fn smc_call(regs: [u64; 8]) -> [u64; 8] {
    let mut r = regs;
    // SAFETY: `smc #0` hands x0..x7 to the secure monitor (or QEMU's PSCI); it changes no
    // memory the kernel owns, and the registers it may change are declared.
    unsafe {
        asm!(
            "smc #0",
            inout("x0") r[0], inout("x1") r[1], inout("x2") r[2], inout("x3") r[3],
            inout("x4") r[4], inout("x5") r[5], inout("x6") r[6], inout("x7") r[7],
            out("x8") _, out("x9") _, out("x10") _, out("x11") _, out("x12") _,
            out("x13") _, out("x14") _, out("x15") _, out("x16") _, out("x17") _,
            options(nostack),
        )
    };
    r
}

/// Whether [`halt`] is trying semihosting (a trap in the kernel then means semihosting is
/// off: `trap` falls back to PSCI).
pub(crate) static SEMIHOSTING_EXIT: AtomicU8 = AtomicU8::new(0);

/// Stops the machine. QEMU exits with status 0 if `success`. Otherwise it exits with status 1
/// if semihosting is on (`-semihosting-config enable=on`, which `cargo xtask` passes: the
/// Arm semihosting `SYS_EXIT` with `ADP_Stopped_ApplicationExit` and code 1); without it the
/// `hlt` traps and the kernel powers off with PSCI (status 0).
pub fn halt(success: bool) -> ! {
    if !success {
        SEMIHOSTING_EXIT.store(1, Ordering::SeqCst);
        // ADP_Stopped_ApplicationExit, exit code 1.
        let block: [u64; 2] = [0x2_0026, 1];
        // SAFETY: the semihosting call `SYS_EXIT` (0x18) with x1 pointing at its parameter
        // block; QEMU exits and never returns here. Without semihosting `hlt` is an undefined
        // instruction and the kernel trap handler calls `psci_system_off`.
        unsafe { asm!("hlt #0xf000", in("x0") 0x18u64, in("x1") block.as_ptr(), options(nostack)) };
    }
    psci_system_off()
}

/// Waits for ever (interrupts are masked in the kernel, so `wfi` only pauses).
fn park() -> ! {
    loop {
        // SAFETY: `wfi` only waits.
        unsafe { asm!("wfi", options(nomem, nostack)) };
    }
}

/// The kernel has no page table user VSpaces copy entries from (they are in TTBR0 alone).
pub fn kernel_root_page_table() -> Option<super::vspace::PtRef> {
    None
}

/// Writes TTBR0_EL1 (the user address space and its ASID) if it changes. No TLB flush:
/// translations are tagged with ASIDs, and every page-table change and ASID reuse is flushed
/// where it happens.
#[inline(always)]
fn write_ttbr0(v: u64) {
    let cur: u64;
    // SAFETY: reading TTBR0_EL1 has no side effect.
    unsafe { asm!("mrs {0}, ttbr0_el1", out(reg) cur, options(nomem, nostack)) };
    if cur != v {
        // SAFETY: only the translation of user addresses (TTBR0) changes; the kernel runs in
        // TTBR1 and reaches user memory through the window. `isb` makes the new root visible
        // to the next user access.
        unsafe { asm!("msr ttbr0_el1, {0}", "isb", in(reg) v, options(nostack)) };
    }
}

/// `setVMRoot` for a thread whose cached TTBR0 value is current (checked by the caller, the
/// IPC fastpath).
#[inline(always)]
pub fn set_vm_root_cached(t: crate::object::tcb::TcbRef) {
    let v = t.with(|x| x.arch.vm_ttbr0);
    write_ttbr0(v);
}

/// seL4's `setVMRoot`: switches to the VSpace of thread `t`, or to the empty global user
/// VSpace (ASID 0) if it has no valid one (any user access then faults).
pub fn set_vm_root(k: &crate::state::Kernel, t: crate::object::tcb::TcbRef) {
    let (gen, cached) = t.with(|x| (x.vm_gen, x.arch.vm_ttbr0));
    let v = if gen == k.vm_gen {
        cached
    } else {
        let v = match super::vspace::vm_root_of(k, t) {
            Some((root, asid)) => super::vspace::ttbr0(root, asid),
            None => super::vspace::ttbr0(boot::global_user_vspace_paddr(), 0),
        };
        t.with(|x| {
            x.arch.vm_ttbr0 = v;
            x.vm_gen = k.vm_gen;
        });
        v
    };
    write_ttbr0(v);
}

/// Flushes the TLB entry of the page at `vaddr` in address space `asid` (`tlbi vae1` after the
/// table write is visible to the walker).
pub fn flush_page(vaddr: u64, asid: u16) {
    let arg = (asid as u64) << 48 | ((vaddr >> 12) & ((1 << 44) - 1));
    // SAFETY: barriers and a TLB invalidation only affect address-translation caching.
    unsafe { asm!("dsb ishst", "tlbi vae1, {0}", "dsb ish", "isb", in(reg) arg, options(nostack)) };
}

/// Makes a page table write that turned an invalid entry valid visible to the table walker
/// (`dsb ishst`) before the kernel returns to a thread that may use it (no TLB holds an invalid
/// entry, so there is nothing to invalidate).
pub fn pte_barrier() {
    // SAFETY: a barrier only orders memory accesses.
    unsafe { asm!("dsb ishst", options(nostack)) };
}

/// Flushes the TLB entries of address space `asid` (`tlbi aside1`).
pub fn flush_asid(asid: u16) {
    let arg = (asid as u64) << 48;
    // SAFETY: as in `flush_page`.
    unsafe {
        asm!("dsb ishst", "tlbi aside1, {0}", "dsb ish", "isb", in(reg) arg, options(nostack))
    };
}

/// The address of the kernel's global state (`crate::mem`'s `KERNEL`, symbol
/// `kernel_state`): `adrp` and `add`.
#[inline(always)]
pub fn kernel_state_addr() -> usize {
    let a: usize;
    // SAFETY: only computes an address.
    unsafe {
        asm!(
            "adrp {0}, kernel_state",
            "add {0}, {0}, :lo12:kernel_state",
            out(reg) a,
            options(pure, nomem, nostack, preserves_flags)
        )
    };
    a
}

/// `x` unchanged, as a value the compiler cannot see through (an empty `asm!`, no
/// instruction; see the riscv64 machine's `opaque`).
#[inline(always)]
pub fn opaque(mut x: u64) -> u64 {
    // SAFETY: the block is empty: it reads and writes only the register holding `x`.
    unsafe { asm!("/* {0} */", inout(reg) x, options(pure, nomem, nostack, preserves_flags)) };
    x
}

/// The thread whose trap this is: the current thread (the aarch64 trap entry passes no
/// context to the fastpath; `ctx` is not used).
#[inline(always)]
pub fn trapped_thread(k: &crate::state::Kernel, _ctx: u64) -> crate::object::tcb::TcbRef {
    k.cur_thread
}

/// Whether the IPC fastpath checks the message info shifted left by 52 against the bound
/// kept in `Kernel::fastpath_info_bound` rather than its low 12 bits against 4 (aarch64: `and` with 0xfff is one instruction, so the mask and a compare with 4 are cheaper than a load).
pub const FASTPATH_INFO_BOUND_LOADED: bool = false;

/// `x >> (s mod 64)` (see the riscv64 machine's `shr_mod64`; here plain Rust).
#[inline(always)]
pub fn shr_mod64(x: u64, s: u64) -> u64 {
    x.wrapping_shr(s as u32)
}

/// `x << (s mod 64)` (see `shr_mod64`).
#[inline(always)]
pub fn shl_mod64(x: u64, s: u64) -> u64 {
    x.wrapping_shl(s as u32)
}

/// Flushes every TLB entry of every address space (`tlbi vmalle1`).
pub fn flush_all() {
    // SAFETY: as in `flush_page`.
    unsafe {
        asm!(
            "dsb ishst",
            "tlbi vmalle1",
            "dsb ish",
            "isb",
            options(nostack)
        )
    };
}

/// Sets up the platform's devices before the root task is created: PSCI as the device tree
/// says, preemption points ask [`irq_pending`], the GIC starts with every interrupt masked
/// (generic boot unmasks the kernel timer's PPI, `initIRQs`), the kernel timer runs with its
/// deadline at the end of time until the first tick or deadline is set (seL4
/// `initGenericTimer`).
pub fn init_platform(k: &mut crate::state::Kernel, p: &super::platform::Platform) {
    k.irq_pending = irq_pending;
    set_psci(p.psci);
    if let Some(g) = p.gic {
        gic::init(g.distributor, g.cpu_interface);
    }
    // SAFETY: programming the EL1 virtual timer, which only the kernel uses.
    unsafe { asm!("msr cntv_cval_el0, {0}", in(reg) u64::MAX, options(nomem, nostack)) };
    boot::enable_timer();
}

/// Whether an IRQ is pending (ISR_EL1.I); the kernel runs with IRQs masked, so preemption
/// points ask this (seL4's `isIRQPending`).
pub fn irq_pending() -> bool {
    let isr: u64;
    // SAFETY: reading ISR_EL1 has no side effect.
    unsafe { asm!("mrs {0}, isr_el1", out(reg) isr, options(nomem, nostack)) };
    isr & (1 << 7) != 0
}

/// The cycle counter (seL4 `timestamp()`: PMCCNTR_EL0), for utilisation accounting.
#[cfg(feature = "track_utilisation")]
#[inline(always)]
pub fn timestamp() -> u64 {
    let v: u64;
    // SAFETY: reading the cycle counter has no side effect (boot enables it).
    unsafe { asm!("mrs {0}, pmccntr_el0", out(reg) v, options(nomem, nostack)) };
    v
}

/// The virtual counter (CNTVCT_EL0), in ticks of the generic timer.
#[inline(always)]
pub fn read_time() -> u64 {
    let v: u64;
    // SAFETY: reading the counter has no side effect; `isb` orders it after earlier
    // instructions.
    unsafe { asm!("isb", "mrs {0}, cntvct_el0", out(reg) v, options(nomem, nostack)) };
    v
}

/// Arms the kernel timer for the next tick (`resetTimer`, non-MCS): `CNTV_TVAL_EL0` =
/// `TIMER_RELOAD`, which also deasserts the timer's interrupt.
#[cfg(not(feature = "mcs"))]
pub fn reset_timer() {
    // SAFETY: programming the EL1 virtual timer, which only the kernel uses.
    unsafe {
        asm!("msr cntv_tval_el0, {0}", "isb", in(reg) super::timer::TIMER_RELOAD, options(nomem, nostack))
    };
}

/// `getCurrentTime` (MCS): the virtual counter.
#[cfg(feature = "mcs")]
#[inline(always)]
pub fn get_current_time() -> u64 {
    read_time()
}

/// `setDeadline` (MCS): the timer fires when the counter reaches `deadline` (one in the past
/// fires at once).
#[cfg(feature = "mcs")]
pub fn set_deadline(deadline: u64) {
    // SAFETY: programming the EL1 virtual timer, which only the kernel uses.
    unsafe { asm!("msr cntv_cval_el0, {0}", "isb", in(reg) deadline, options(nomem, nostack)) };
}

/// `ackDeadlineIRQ` (MCS): the deadline moves to the end of time, which deasserts the
/// interrupt.
#[cfg(feature = "mcs")]
pub fn ack_deadline_irq() {
    set_deadline(u64::MAX);
}

/// The idle loop's wait: sleeps until an interrupt is pending (IRQs stay masked in the
/// kernel; `wfi` wakes on a pending one anyway), claims it and returns which.
pub fn wait_for_interrupt() -> crate::entry::Interrupt {
    loop {
        // SAFETY: `wfi` only waits.
        unsafe { asm!("wfi", options(nomem, nostack)) };
        let i = gic::claim_for_entry();
        if i != crate::entry::Interrupt::Spurious {
            return i;
        }
    }
}

/// Stores the FPU registers into `s` (see [`fpu::save`]).
pub fn fpu_save(s: &mut super::context::FpuState) {
    fpu::save(s)
}

/// Loads the FPU registers from `s` (see [`fpu::load`]).
pub fn fpu_load(s: &super::context::FpuState) {
    fpu::load(s)
}

/// Masks or unmasks a device interrupt at the GIC distributor.
pub fn irq_mask(irq: usize, disable: bool) {
    gic::mask(irq, disable)
}

/// The device interrupt the last IRQ entry claimed from the GIC (see
/// [`gic::claim_for_entry`]).
pub fn irq_claim() -> Option<usize> {
    gic::take_claimed()
}

/// Sets a shared interrupt's trigger (`setIRQTrigger`: edge if `edge`, else level).
pub fn set_irq_trigger(irq: usize, edge: bool) {
    gic::set_trigger(irq, edge)
}

/// Cache maintenance by user virtual address for `op` over `start..=end` of the VSpace
/// `vspace` with `asid` (seL4 `performVSpaceFlush`/`performPageFlush` without the
/// hypervisor: the thread's own VSpace is switched in for the operation if it is not the
/// current one, then switched back).
#[allow(clippy::too_many_arguments)]
pub fn flush_user_range(
    k: &crate::state::Kernel,
    thread: crate::object::tcb::TcbRef,
    op: super::objects::CacheOp,
    vspace: super::vspace::PtRef,
    asid: u16,
    start: u64,
    end: u64,
    _pstart: u64,
) {
    use super::objects::CacheOp;
    let cur = super::vspace::vm_root_of(k, thread);
    let target = (pptr_to_paddr(vspace.addr()), asid);
    let switched = cur != Some(target);
    if switched {
        write_ttbr0(super::vspace::ttbr0(target.0, target.1));
    }
    const LINE: u64 = 64; // CONFIG_L1_CACHE_LINE_SIZE_BITS 6
    let mut a = start & !(LINE - 1);
    while a <= end {
        // SAFETY: data and instruction cache maintenance by virtual address on user addresses
        // the VSpace maps (checked by the decoder; a fault would be a translation fault,
        // which these instructions report as such, from EL1 only in the kernel's own trap).
        unsafe {
            match op {
                CacheOp::CleanData => asm!("dc cvac, {0}", in(reg) a, options(nostack)),
                CacheOp::InvalidateData => asm!("dc ivac, {0}", in(reg) a, options(nostack)),
                CacheOp::CleanInvalidateData => asm!("dc civac, {0}", in(reg) a, options(nostack)),
                CacheOp::UnifyInstruction => asm!("dc cvau, {0}", in(reg) a, options(nostack)),
            }
        }
        a += LINE;
    }
    if op == CacheOp::UnifyInstruction {
        let mut a = start & !(LINE - 1);
        // SAFETY: as above; `dsb` orders the cleans before the invalidations.
        unsafe { asm!("dsb ish", options(nostack)) };
        while a <= end {
            // SAFETY: instruction cache invalidation by address.
            unsafe { asm!("ic ivau, {0}", in(reg) a, options(nostack)) };
            a += LINE;
        }
    }
    // SAFETY: barriers only.
    unsafe { asm!("dsb ish", "isb", options(nostack)) };
    if switched {
        let back = match cur {
            Some((root, asid)) => super::vspace::ttbr0(root, asid),
            None => super::vspace::ttbr0(boot::global_user_vspace_paddr(), 0),
        };
        write_ttbr0(back);
    }
}
