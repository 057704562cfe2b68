//! Kernel entry from user mode: syscalls, exceptions and interrupts (seL4 `handleSyscall`,
//! `handleUserLevelFault`, `handleVMFaultEvent`, `handleInterruptEntry` in
//! `src/api/syscall.c`), and the choice of the thread to return to.
//!
//! The architecture's trap path decodes what happened into an [`Event`] (riscv64:
//! `arch::riscv64::cause::decode`) and calls [`handle_trap`]; nothing here knows a trap cause
//! register.
#![forbid(unsafe_code)]

use crate::arch::ArchContext;
use crate::ipc::{handle_fault, Fault};
use crate::object::tcb::ThreadState;
use crate::sched::{is_idle, schedule};
use crate::state::Kernel;
use crate::syscall::handle_syscall;

/// Why the kernel was entered from user mode, as the architecture's trap path decoded it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A system call: number and arguments are in the thread's registers.
    Syscall,
    /// An interrupt.
    Interrupt(Interrupt),
    /// A fault of the thread (VM fault or user exception), sent to its fault handler.
    Fault(Fault),
    /// An instruction the CPU refused that may be an FPU instruction of a thread whose FPU
    /// state is not loaded (lazy FPU switching); if it is not, it is the fault.
    MaybeFpuTrap(Fault),
}

/// An interrupt, as the architecture's trap path names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interrupt {
    /// The kernel's timer (the scheduler's tick).
    Timer,
    /// A device interrupt, to be claimed from the interrupt controller.
    External,
    /// Nothing the kernel uses (e.g. a software interrupt): ignored.
    Spurious,
}

/// Handles one kernel entry of the current thread in kernel `k`. Its registers are saved in its
/// context with the pc of the instruction that trapped.
///
/// On the machine the trap entry has already tried the IPC fastpath (see
/// `fastpath_call_entry`); elsewhere (host tests) it is tried here, on the saved registers.
#[inline(always)]
pub fn handle_trap(k: &mut Kernel, event: Event) -> Handled {
    #[cfg(feature = "track_utilisation")]
    crate::benchmark::entry_hook(k);
    crate::log::set_current_thread(k.cur_thread);
    match event {
        Event::Syscall => {
            #[cfg(all(feature = "fastpath", not(target_os = "none")))]
            if let Some(t) = crate::fastpath::try_fastpath(k) {
                fastpath_exit(k, t);
                return Handled::Fastpath;
            }
            handle_syscall(k);
        }
        // Each kind out of line with small arguments: no path pays for the others' frames.
        Event::Interrupt(irq) => handle_interrupt_entry(k, irq),
        Event::Fault(f) => handle_fault_entry(k, f),
        Event::MaybeFpuTrap(f) => handle_maybe_fpu_trap(k, f),
    }
    Handled::Full
}

/// How [`handle_trap`] handled a trap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    /// By the IPC fastpath: the partner thread is current and runnable, and no scheduling
    /// decision is pending, so the return needs no `schedule`.
    Fastpath,
    /// By the full path: `activate` decides who runs.
    Full,
}

/// An interrupt taken while a user thread ran: it resumes where it was (seL4 saves FaultIP on
/// every entry).
#[inline(always)]
fn handle_interrupt_entry(k: &mut Kernel, irq: Interrupt) {
    let t = k.cur_thread;
    if !is_idle(t) {
        let pc = t.reg(crate::arch::regs::NEXT_IP);
        t.with(|x| x.fault_ip = pc);
    }
    handle_interrupt(k, irq);
}

/// An FP instruction of a thread whose FPU state is not loaded (lazy switching), or else the
/// fault `f`.
#[inline(never)]
fn handle_maybe_fpu_trap(k: &mut Kernel, f: Fault) {
    if !crate::object::tcb_ops::fpu_lazy_load(k, k.cur_thread) {
        handle_fault_entry(k, f);
    }
}

/// `handleUserLevelFault`/`handleVMFaultEvent`: the thread's fault goes to its handler (MCS:
/// if its budget allows, `MCS_DO_IF_BUDGET`; else it takes the fault again when it next runs).
#[inline(never)]
fn handle_fault_entry(k: &mut Kernel, f: Fault) {
    let t = k.cur_thread;
    let pc = t.reg(crate::arch::regs::NEXT_IP);
    t.with(|x| x.fault_ip = pc);
    #[cfg(feature = "mcs")]
    if !crate::sched::mcs::do_if_budget(k) {
        return;
    }
    handle_fault(k, t, f);
}

/// `handleInterruptEntry`: the kernel's timer ticks the scheduler; a device interrupt is
/// claimed from the interrupt controller and forwarded to its notification. MCS: the time is
/// updated and the current budget checked first (`updateTimestamp`, `checkBudget`); the
/// one-shot timer's interrupt only asks for the timer to be programmed again.
pub fn handle_interrupt(k: &mut Kernel, irq: Interrupt) {
    #[cfg(feature = "mcs")]
    {
        crate::sched::mcs::update_timestamp(k);
        crate::sched::mcs::check_budget(k);
    }
    match irq {
        #[cfg(not(feature = "mcs"))]
        Interrupt::Timer => {
            crate::sched::timer_tick(k);
            crate::arch::reset_timer();
        }
        #[cfg(feature = "mcs")]
        Interrupt::Timer => crate::sched::mcs::timer_interrupt(k),
        Interrupt::External => {
            if let Some(irq) = crate::arch::irq_claim() {
                crate::object::interrupt::handle_interrupt(k, irq);
            }
        }
        Interrupt::Spurious => {}
    }
}

/// `schedule` + `activateThread`: picks the thread to run and prepares it (a thread in
/// `Restart` re-executes its syscall) and its address space. Returns its register context, or
/// `None` when no thread is runnable (the idle thread runs).
///
/// MCS: `schedule` runs on every exit (it wakes released threads and programs the timer), and
/// a thread that yielded to an SC gets its reply first (`schedContext_completeYieldTo`).
///
/// With `track_utilisation` this is the kernel's exit (seL4's `c_exit_hook`).
#[inline(always)]
pub fn activate(k: &mut Kernel) -> Option<*mut ArchContext> {
    let ctx = activate_thread(k);
    #[cfg(feature = "track_utilisation")]
    crate::benchmark::exit_hook(k);
    ctx
}

/// [`activate`] without the exit hook.
#[inline(always)]
fn activate_thread(k: &mut Kernel) -> Option<*mut ArchContext> {
    #[cfg(not(feature = "mcs"))]
    if k.sched.action != crate::sched::SchedulerAction::ResumeCurrentThread {
        schedule(k);
    }
    #[cfg(feature = "mcs")]
    schedule(k);
    let t = k.cur_thread;
    if is_idle(t) {
        return None;
    }
    #[cfg(feature = "mcs")]
    if t.with(|x| x.yield_to).is_some() {
        crate::object::sched_context::complete_yield_to(t);
        debug_assert!(t.state() == ThreadState::Running);
    }
    if t.state() != ThreadState::Running && !restart_thread(t) {
        return None;
    }
    if !k.activated_current() {
        switch_to(k, t);
    }
    debug_assert!(crate::object::tcb_ops::fpu_invariant_holds(k, t));
    debug_assert!(t.with(|x| x.context.returns_to_user()));
    Some(t.context_ptr())
}

/// A thread in `Restart` re-executes its syscall: its pc goes back to the restart pc. Returns
/// false for a thread that is not runnable (which `schedule` never picks).
#[inline(never)]
fn restart_thread(t: crate::object::tcb::TcbRef) -> bool {
    if t.state() != ThreadState::Restart {
        return false;
    }
    let ip = t.with(|x| x.fault_ip);
    t.set_reg(crate::arch::regs::NEXT_IP, ip);
    t.set_state(ThreadState::Running);
    true
}

/// Gives the CPU's address space to `t` (seL4 `Arch_switchToThread`; FPU state needs no work
/// here, see `tcb_ops::fpu_invariant_holds`); done only when the thread changes, or after
/// `Kernel::activated` was cleared because something it depends on (VSpace, ASIDs) may have
/// changed.
#[inline(never)]
fn switch_to(k: &mut Kernel, t: crate::object::tcb::TcbRef) {
    debug_assert!(t == k.cur_thread);
    crate::arch::set_vm_root(k, t);
    k.set_activated_current();
}

/// The fastpath's [`activate`]: `t` is runnable, no scheduling decision is pending, it is not
/// the thread the CPU was set up for, and its cached `satp` is current (all checked by the
/// fastpath). Returns its register context. MCS: no `schedule` either (as seL4's fastpath):
/// the SchedContext is the current one (`k.cur_sc`), the timer needs no new deadline, and
/// the time is charged at the next kernel entry.
#[cfg(feature = "fastpath")]
#[inline(always)]
fn fastpath_exit(k: &mut Kernel, t: crate::object::tcb::TcbRef) -> *mut ArchContext {
    crate::arch::set_vm_root_cached(t);
    debug_assert!(t == k.cur_thread && k.activated_current());
    debug_assert!(crate::object::tcb_ops::fpu_invariant_holds(k, t));
    debug_assert!(t.with(|x| x.context.returns_to_user()));
    t.context_ptr()
}

/// The thread to return to, idling with interrupts enabled until there is one.
#[cfg(target_os = "none")]
#[inline(always)]
pub fn activate_or_idle(k: &mut Kernel) -> *mut ArchContext {
    match activate(k) {
        Some(ctx) => ctx,
        None => idle(k),
    }
}

/// The idle thread: waits for interrupts until a thread is runnable.
#[cfg(target_os = "none")]
#[inline(never)]
fn idle(k: &mut Kernel) -> *mut ArchContext {
    loop {
        let irq = crate::arch::wait_for_interrupt();
        #[cfg(feature = "track_utilisation")]
        crate::benchmark::entry_hook(k);
        handle_interrupt(k, irq);
        if let Some(ctx) = activate(k) {
            return ctx;
        }
    }
}

/// Entry from the architecture's trap path: handles the kernel entry of the current thread and
/// returns the context to restore. `event` decodes the entry; it runs inside the kernel-state
/// closure, so that the decode and [`handle_trap`]'s dispatch compile to one branch tree and
/// only the trap's raw words cross the call.
#[cfg(target_os = "none")]
#[inline(always)]
pub fn handle_user_trap(event: impl FnOnce() -> Event) -> *mut ArchContext {
    crate::state::with_kernel(|k| {
        handle_trap(k, event());
        activate_or_idle(k)
    })
}

/// Entry from the trap path for an `ecall` with `a7` = `seL4_SysCall`, called with the
/// caller's `a0` and `a1` still live, the pc of the `ecall` and the address of the caller's
/// saved context (riscv64: its TCB's; [`crate::arch::trapped_thread`])
/// ([`crate::fastpath::FastArgs`]): runs the fastpath and leaves to user mode from there
/// (`arch::fastpath_restore`), or if it does not apply (it then changed nothing) runs the
/// full path and returns the context to restore. Without the `fastpath` feature the trap
/// entry does not call it.
#[cfg(target_os = "none")]
pub extern "C" fn fastpath_call_entry(cptr: u64, info: u64, pc: u64, ctx: u64) -> *mut ArchContext {
    #[cfg(feature = "fastpath")]
    run_fastpath(crate::fastpath::call, cptr, info, pc, ctx, 0);
    let _ = (cptr, info, ctx);
    crate::arch::fastpath_call_slow(pc)
}

/// [`fastpath_call_entry`] for `seL4_ReplyRecv`.
#[cfg(all(target_os = "none", not(feature = "mcs")))]
pub extern "C" fn fastpath_reply_recv_entry(
    cptr: u64,
    info: u64,
    pc: u64,
    ctx: u64,
) -> *mut ArchContext {
    #[cfg(feature = "fastpath")]
    run_fastpath(crate::fastpath::reply_recv, cptr, info, pc, ctx, 0);
    let _ = (cptr, info, ctx);
    crate::arch::fastpath_reply_recv_slow(pc)
}

/// [`fastpath_call_entry`] for `seL4_ReplyRecv` under MCS: also with the caller's `a6` (the
/// Reply cap's CPtr) as `reply` (seL4's `c_handle_fastpath_reply_recv(cptr, msgInfo, reply)`),
/// the seventh argument so that it arrives in `a6` where the caller left it (`a4`, `a5` are
/// not used).
#[cfg(all(target_os = "none", feature = "mcs"))]
pub extern "C" fn fastpath_reply_recv_entry(
    cptr: u64,
    info: u64,
    pc: u64,
    ctx: u64,
    _a4: u64,
    _a5: u64,
    reply: u64,
) -> *mut ArchContext {
    #[cfg(feature = "fastpath")]
    run_fastpath(crate::fastpath::reply_recv, cptr, info, pc, ctx, reply);
    let _ = (cptr, info, ctx, reply);
    crate::arch::fastpath_reply_recv_slow(pc)
}

/// Runs one of the fastpath functions on the caller's arguments and, if it applied, leaves
/// to user mode in the thread it switched to; returns only when it did not apply (nothing
/// changed). `reply`: MCS ReplyRecv's Reply cap CPtr (else unused).
#[cfg(all(target_os = "none", feature = "fastpath"))]
#[inline(always)]
fn run_fastpath(
    fastpath: fn(&mut Kernel, crate::fastpath::FastArgs) -> Option<crate::fastpath::Switched>,
    cptr: u64,
    info: u64,
    pc: u64,
    ctx: u64,
    reply: u64,
) {
    let _ = reply;
    let done = crate::state::with_kernel(|k| {
        // seL4's `c_entry_hook`/`c_exit_hook` around the fastpath. If the fastpath does not
        // apply, the full path reads the entry time again.
        #[cfg(feature = "track_utilisation")]
        crate::benchmark::entry_hook(k);
        let a = crate::fastpath::FastArgs {
            cur: crate::arch::trapped_thread(k, ctx),
            cptr,
            info,
            pc,
            #[cfg(feature = "mcs")]
            reply,
        };
        let r = fastpath(k, a);
        if let Some(s) = r {
            fastpath_exit(k, s.to);
        }
        #[cfg(feature = "track_utilisation")]
        if r.is_some() {
            crate::benchmark::exit_hook(k);
        }
        r
    });
    if let Some(s) = done {
        crate::arch::fastpath_restore(s.to, s.badge, s.info)
    }
}

/// The full path for a `seL4_Call` the fastpath did not take: a separate function, so that
/// the fastpath ends in a tail call and needs no stack frame. `pc` is the `ecall`'s, which
/// the trap entry left for the fastpath to store: the syscall dispatch stores it (as the
/// pc past the `ecall`, and as `FaultIP`), which completes the caller's saved context.
#[cfg(target_os = "none")]
#[inline(never)]
pub extern "C" fn fastpath_call_fallback(pc: u64) -> *mut ArchContext {
    crate::state::with_kernel(|k| {
        #[cfg(feature = "track_utilisation")]
        crate::benchmark::entry_hook(k);
        crate::log::set_current_thread(k.cur_thread);
        crate::syscall::dispatch_call(k, pc, activate_or_idle)
    })
}

/// [`fastpath_call_fallback`] for `seL4_ReplyRecv`.
#[cfg(target_os = "none")]
#[inline(never)]
pub extern "C" fn fastpath_reply_recv_fallback(pc: u64) -> *mut ArchContext {
    crate::state::with_kernel(|k| {
        #[cfg(feature = "track_utilisation")]
        crate::benchmark::entry_hook(k);
        crate::log::set_current_thread(k.cur_thread);
        crate::syscall::dispatch_reply_recv(k, pc, activate_or_idle)
    })
}

/// What [`syscall_entry`] returns to the trap path: the context to restore (the low word: the
/// first return register) and in the high word (the second return register) 1 if the
/// architecture's exit may leave out the registers that the kernel's code keeps (riscv64:
/// `s0`..`s11`, `gp`, `tp`), because the thread to resume is the one whose trap this is and
/// nothing else of its saved context was written ([`resumes_unchanged`]), else 0. MCS: only
/// the benchmark null syscall resumes so (every other syscall's exit runs `schedule`, which
/// may switch threads, and loads everything).
///
/// A `u128`, not a structure of two words: the C calling convention returns both in the two
/// return registers, and the syscall handlers, which end with the exit (`syscall::then`),
/// return the same type, so that the dispatch tail-calls them (a structure has another
/// type in the compiler's C and Rust conventions, and the dispatch then needed a frame).
#[cfg(target_os = "none")]
#[repr(transparent)]
pub struct SyscallExit(u128);

#[cfg(target_os = "none")]
impl SyscallExit {
    /// Restore all of `ctx`.
    #[inline(always)]
    fn full(ctx: *mut ArchContext) -> Self {
        SyscallExit(ctx as usize as u128)
    }

    /// Resume `ctx` without the registers the kernel's code keeps.
    #[inline(always)]
    fn resume(ctx: *mut ArchContext) -> Self {
        SyscallExit(ctx as usize as u128 | 1 << 64)
    }
}

/// Entry from the trap path for an `ecall` (that the fastpath, if any, did not take): what
/// [`handle_user_trap`] does for [`Event::Syscall`], with the syscall dispatch inlined (no
/// cause to decode, no stack frame on its way to a handler). Returns the context to restore
/// and how ([`SyscallExit`]).
///
/// The arguments are the registers as the trap entry leaves them, so that it moves none:
/// the pc of the `ecall` in the third argument register (riscv64 `a2`: the entry does not
/// store it in the context, the syscall dispatch does) and the syscall number in the eighth
/// (`a7`, where the caller put it); the others are the caller's and not read here.
#[cfg(target_os = "none")]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn syscall_entry(
    _a0: u64,
    _a1: u64,
    pc: u64,
    _a3: u64,
    _a4: u64,
    _a5: u64,
    _a6: u64,
    number: u64,
) -> SyscallExit {
    crate::state::with_kernel(|k| {
        #[cfg(feature = "track_utilisation")]
        crate::benchmark::entry_hook(k);
        crate::log::set_current_thread(k.cur_thread);
        crate::syscall::dispatch_syscall::<_, true>(k, pc, number, exit_to_user, exit_after_syscall)
    })
}

/// [`activate_or_idle`] after a syscall, with its commonest case inline and no call: the
/// thread that made the syscall runs on, unchanged ([`resumes_unchanged`]); the trap path
/// then resumes it without loading the registers the kernel's code keeps
/// ([`SyscallExit`]). Everything else goes to [`activate_or_idle`] out of line.
#[cfg(target_os = "none")]
#[inline(always)]
fn exit_to_user(k: &mut Kernel) -> SyscallExit {
    if let Some(e) = resume_unchanged(k) {
        return e;
    }
    activate_or_idle_out_of_line(k)
}

/// [`exit_to_user`] with [`activate_or_idle`] inline: the way out of every other syscall.
#[cfg(target_os = "none")]
#[inline(always)]
fn exit_after_syscall(k: &mut Kernel) -> SyscallExit {
    #[cfg(not(feature = "mcs"))]
    if let Some(e) = resume_unchanged(k) {
        return e;
    }
    SyscallExit::full(activate_or_idle(k))
}

/// The fast case of [`exit_to_user`]: the current thread's context, to be resumed without
/// the registers the kernel's code keeps, if [`resumes_unchanged`].
#[cfg(target_os = "none")]
#[inline(always)]
fn resume_unchanged(k: &mut Kernel) -> Option<SyscallExit> {
    if resumes_unchanged(k) {
        let t = k.cur_thread;
        #[cfg(feature = "track_utilisation")]
        crate::benchmark::exit_hook(k);
        debug_assert!(crate::object::tcb_ops::fpu_invariant_holds(k, t));
        debug_assert!(t.with(|x| x.context.returns_to_user()));
        return Some(SyscallExit::resume(t.context_ptr()));
    }
    None
}

/// Whether, at the end of a syscall's full path, the thread that made it runs on and its
/// saved registers other than those the kernel's code may overwrite anyway (the
/// caller-saved ones, `sp`, the pc) are as its trap saved them: no scheduling decision is
/// pending (so no `schedule`, the only thing that switches threads, runs: the current
/// thread is the one that trapped), it is still `Running`, and the CPU is still set up for
/// it (`Kernel::activated_current`).
///
/// What may write a current thread's other registers is a TCB invocation on it
/// (CopyRegisters onto itself, SetTLSBase on itself; WriteRegisters onto itself is refused):
/// every invocation of a cap other than an IPC or architecture cap clears `activated`
/// (`syscall::handle_invocation`), and those three also ask for a reschedule (as seL4's
/// do), each of which fails this test. IPC writes a receiver's message registers, badge and
/// message info (argument registers: loaded by every exit) and a faulting thread's
/// registers on a fault reply (that thread waited for the reply, so it is not the one that
/// trapped). The host tests check the result on every syscall of the test harness and the
/// fuzzer (`testing::check_resume`).
///
/// MCS: tested only after the benchmark null syscall, which changes nothing (seL4's
/// `handleUnknownSyscall` returns without `schedule` too); `schedule` then has nothing to do
/// (`sched::mcs::settled`, true at every kernel entry). Every other MCS syscall's exit runs
/// `schedule` (seL4's `handleSyscall`) and loads every register.
#[inline(always)]
pub fn resumes_unchanged(k: &Kernel) -> bool {
    #[cfg(feature = "mcs")]
    debug_assert!(crate::sched::mcs::settled(k));
    k.sched.action == crate::sched::SchedulerAction::ResumeCurrentThread && {
        let t = k.cur_thread;
        debug_assert!(!is_idle(t));
        t.state() == ThreadState::Running && k.activated_current()
    }
}

/// [`activate_or_idle`] in a function of its own, for a full restore.
#[cfg(target_os = "none")]
#[inline(never)]
fn activate_or_idle_out_of_line(k: &mut Kernel) -> SyscallExit {
    SyscallExit::full(activate_or_idle(k))
}
