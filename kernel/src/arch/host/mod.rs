//! The host stand-in for the machine: used by `cargo test`.
//!
//! Physical memory is simulated by a host allocation; a thread-local offset maps simulated
//! physical addresses to host addresses, so that each test thread has its own machine.

use std::cell::Cell;

thread_local! {
    static PHYS_OFFSET: Cell<usize> = const { Cell::new(0) };
    static CONSOLE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Sets the offset from simulated physical addresses to host addresses for this thread.
pub fn set_phys_offset(offset: usize) {
    PHYS_OFFSET.with(|o| o.set(offset));
}

/// The kernel-virtual (here: host) address of physical address `p`.
pub fn paddr_to_pptr(p: u64) -> usize {
    (p as usize).wrapping_add(PHYS_OFFSET.with(|o| o.get()))
}

/// The physical address of kernel-virtual (host) address `v`.
pub fn pptr_to_paddr(v: usize) -> u64 {
    v.wrapping_sub(PHYS_OFFSET.with(|o| o.get())) as u64
}

/// Appends a byte to this thread's simulated console.
pub fn put_char(c: u8) {
    CONSOLE.with(|b| b.borrow_mut().push(c));
}

/// Takes what was written to this thread's simulated console.
pub fn take_console() -> Vec<u8> {
    CONSOLE.with(|b| core::mem::take(&mut *b.borrow_mut()))
}

/// How many bytes this thread's simulated console holds.
pub fn console_len() -> usize {
    CONSOLE.with(|b| b.borrow().len())
}

/// A copy of what this thread's simulated console holds from byte `from` on.
pub fn console_since(from: usize) -> Vec<u8> {
    CONSOLE.with(|b| b.borrow().get(from..).unwrap_or_default().to_vec())
}

/// On the host, halting the machine ends the test thread.
pub fn halt(success: bool) -> ! {
    panic!("machine halted (success: {success})")
}

/// TLB maintenance is not simulated.
pub fn flush_page(_vaddr: u64, _asid: u16) {}
/// TLB maintenance is not simulated.
pub fn flush_asid(_asid: u16) {}
/// TLB maintenance is not simulated.
pub fn flush_all() {}
/// The host has no kernel page table: new VSpaces get no global mappings.
pub fn kernel_root_page_table() -> Option<crate::arch::riscv64::vspace::PtRef> {
    None
}

/// Address-space switching is not simulated; the per-thread cache of the machine's version
/// is (the thread's `vm_gen` becomes current), so that the IPC fastpath's check of it behaves
/// as on the machine.
pub fn set_vm_root(k: &crate::state::Kernel, t: crate::object::tcb::TcbRef) {
    t.with(|x| x.vm_gen = k.vm_gen);
}

/// `x` unchanged (the machine's `opaque` hides it from the optimiser; the host needs not).
#[inline(always)]
pub fn opaque(x: u64) -> u64 {
    x
}

/// Whether the IPC fastpath checks the message info shifted left by 52 against the bound
/// kept in `Kernel::fastpath_info_bound` rather than its low 12 bits against 4 (the host: as riscv64, whose kernel the host tests simulate).
pub const FASTPATH_INFO_BOUND_LOADED: bool = true;

/// `x >> (s mod 64)` (the machine's `shr_mod64`).
#[inline(always)]
pub fn shr_mod64(x: u64, s: u64) -> u64 {
    x.wrapping_shr(s as u32)
}

/// `x << (s mod 64)` (the machine's `shl_mod64`).
#[inline(always)]
pub fn shl_mod64(x: u64, s: u64) -> u64 {
    x.wrapping_shl(s as u32)
}

/// The host has no address spaces to switch.
pub fn set_vm_root_cached(_t: crate::object::tcb::TcbRef) {}

/// The host has no timer tick (non-MCS).
#[cfg(not(feature = "mcs"))]
pub fn reset_timer() {}

thread_local! {
    /// MCS: the simulated `time` counter, in ticks; tests move it with [`advance_time`].
    static TIME: Cell<u64> = const { Cell::new(0) };
    /// MCS: the last deadline programmed with [`set_deadline`] (`u64::MAX`: none).
    static DEADLINE: Cell<u64> = const { Cell::new(u64::MAX) };
}

/// `getCurrentTime` (MCS): this thread's simulated clock, in ticks.
#[cfg(feature = "mcs")]
pub fn get_current_time() -> u64 {
    TIME.with(|t| t.get())
}

/// `setDeadline` (MCS): records the simulated one-shot timer's deadline.
#[cfg(feature = "mcs")]
pub fn set_deadline(deadline: u64) {
    DEADLINE.with(|d| d.set(deadline));
}

/// `ackDeadlineIRQ` (MCS): nothing to acknowledge.
#[cfg(feature = "mcs")]
pub fn ack_deadline_irq() {}

/// Moves this thread's simulated clock forward by `ticks`.
pub fn advance_time(ticks: u64) {
    TIME.with(|t| t.set(t.get() + ticks));
}

/// Sets this thread's simulated clock (tests start machines at a chosen time).
pub fn set_time(ticks: u64) {
    TIME.with(|t| t.set(ticks));
}

/// The simulated clock without the MCS accessor (for tests of either configuration).
pub fn time() -> u64 {
    TIME.with(|t| t.get())
}

/// The deadline the kernel last programmed (`u64::MAX` if none).
pub fn deadline() -> u64 {
    DEADLINE.with(|d| d.get())
}

/// Whether the simulated timer interrupt is due: the clock reached the deadline.
pub fn timer_due() -> bool {
    time() >= deadline()
}

/// The host has no FPU state to switch.
pub fn fpu_save(_s: &mut crate::arch::riscv64::context::FpuState) {}
/// The host has no FPU state to switch.
pub fn fpu_load(_s: &crate::arch::riscv64::context::FpuState) {}

thread_local! {
    static IRQ_MASKED: std::cell::RefCell<[bool; 128]> = const { std::cell::RefCell::new([true; 128]) };
    static IRQ_PENDING: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Interrupt trigger modes are not simulated (`setIRQTrigger`).
pub fn set_irq_trigger(_irq: usize, _edge: bool) {}

/// Masks or unmasks a simulated interrupt line.
pub fn irq_mask(irq: usize, disable: bool) {
    IRQ_MASKED.with(|m| m.borrow_mut()[irq % 128] = disable);
}

/// Whether a simulated interrupt line is masked.
pub fn irq_is_masked(irq: usize) -> bool {
    IRQ_MASKED.with(|m| m.borrow()[irq % 128])
}

/// Raises a simulated device interrupt (claimed by the next `irq_claim` if unmasked).
pub fn raise_irq(irq: usize) {
    IRQ_PENDING.with(|p| p.borrow_mut().push(irq));
}

/// Claims the first pending unmasked simulated interrupt.
pub fn irq_claim() -> Option<usize> {
    IRQ_PENDING.with(|p| {
        let mut p = p.borrow_mut();
        let i = p.iter().position(|&irq| !irq_is_masked(irq))?;
        Some(p.remove(i))
    })
}

#[cfg(feature = "track_utilisation")]
thread_local! {
    /// The simulated cycle counter (`track_utilisation`).
    static CYCLES: Cell<u64> = const { Cell::new(0) };
}

/// The simulated cycle counter: each read returns it and then advances it by one, so that
/// every kernel entry takes a cycle; tests add user time with [`advance_cycles`].
#[cfg(feature = "track_utilisation")]
pub fn timestamp() -> u64 {
    CYCLES.with(|c| {
        let v = c.get();
        c.set(v + 1);
        v
    })
}

/// Host only: `n` cycles pass (time spent in user mode, as far as the accounting sees).
#[cfg(feature = "track_utilisation")]
pub fn advance_cycles(n: u64) {
    CYCLES.with(|c| c.set(c.get() + n));
}

/// Puts this thread's simulated machine back to its power-on state: every interrupt line
/// masked and none pending, the clock at 0 with no deadline, the cycle counter at 0, the
/// console empty (the syscall fuzzer runs many machines one after another on one thread).
pub fn reset_machine() {
    IRQ_MASKED.with(|m| *m.borrow_mut() = [true; 128]);
    IRQ_PENDING.with(|p| p.borrow_mut().clear());
    TIME.with(|t| t.set(0));
    DEADLINE.with(|d| d.set(u64::MAX));
    #[cfg(feature = "track_utilisation")]
    CYCLES.with(|c| c.set(0));
    CONSOLE.with(|b| b.borrow_mut().clear());
}
