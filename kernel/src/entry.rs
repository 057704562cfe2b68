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
/// [`fastpath_call_entry`]); elsewhere (host tests) it is tried here, on the saved registers.
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
    if t.addr() != k.activated {
        switch_to(k, t);
    }
    debug_assert!(crate::object::tcb_ops::fpu_invariant_holds(k, t));
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
    crate::arch::set_vm_root(k, t);
    k.activated = t.addr();
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
    k.activated = t.addr();
    debug_assert!(crate::object::tcb_ops::fpu_invariant_holds(k, t));
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
/// caller's `a0` and `a1` still live ([`crate::fastpath::FastArgs`]): runs the fastpath, or
/// if it does not apply (it then changed nothing) the full path. Returns the context to
/// restore. Without the `fastpath` feature the trap entry does not call it.
#[cfg(target_os = "none")]
pub extern "C" fn fastpath_call_entry(cptr: u64, info: u64) -> *mut ArchContext {
    #[cfg(feature = "fastpath")]
    {
        let a = crate::fastpath::FastArgs {
            cptr,
            info,
            #[cfg(feature = "mcs")]
            reply: 0,
        };
        if let Some(ctx) = run_fastpath(crate::fastpath::call, a) {
            return ctx;
        }
    }
    let _ = (cptr, info);
    fastpath_call_fallback()
}

/// [`fastpath_call_entry`] for `seL4_ReplyRecv`.
#[cfg(all(target_os = "none", not(feature = "mcs")))]
pub extern "C" fn fastpath_reply_recv_entry(cptr: u64, info: u64) -> *mut ArchContext {
    #[cfg(feature = "fastpath")]
    {
        let a = crate::fastpath::FastArgs { cptr, info };
        if let Some(ctx) = run_fastpath(crate::fastpath::reply_recv, a) {
            return ctx;
        }
    }
    let _ = (cptr, info);
    fastpath_reply_recv_fallback()
}

/// [`fastpath_call_entry`] for `seL4_ReplyRecv` under MCS: also with the caller's `a6` (the
/// Reply cap's CPtr) as `reply` (seL4's `c_handle_fastpath_reply_recv(cptr, msgInfo, reply)`).
#[cfg(all(target_os = "none", feature = "mcs"))]
pub extern "C" fn fastpath_reply_recv_entry(cptr: u64, info: u64, reply: u64) -> *mut ArchContext {
    #[cfg(feature = "fastpath")]
    {
        let a = crate::fastpath::FastArgs { cptr, info, reply };
        if let Some(ctx) = run_fastpath(crate::fastpath::reply_recv, a) {
            return ctx;
        }
    }
    let _ = (cptr, info, reply);
    fastpath_reply_recv_fallback()
}

/// Runs one of the fastpath functions on the caller's `a0`/`a1` (MCS: and `a6`): the context
/// to restore, or `None` when it did not apply (nothing changed).
#[cfg(all(target_os = "none", feature = "fastpath"))]
#[inline(always)]
fn run_fastpath(
    fastpath: fn(&mut Kernel, crate::fastpath::FastArgs) -> Option<crate::object::tcb::TcbRef>,
    a: crate::fastpath::FastArgs,
) -> Option<*mut ArchContext> {
    crate::state::with_kernel(|k| {
        // seL4's `c_entry_hook`/`c_exit_hook` around the fastpath. If the fastpath does not
        // apply, the full path reads the entry time again.
        #[cfg(feature = "track_utilisation")]
        crate::benchmark::entry_hook(k);
        let ctx = fastpath(k, a).map(|t| fastpath_exit(k, t));
        #[cfg(feature = "track_utilisation")]
        if ctx.is_some() {
            crate::benchmark::exit_hook(k);
        }
        ctx
    })
}

/// The full path for a `seL4_Call` the fastpath did not take: a separate function, so that
/// the fastpath ends in a tail call and needs no stack frame.
#[cfg(target_os = "none")]
#[inline(never)]
extern "C" fn fastpath_call_fallback() -> *mut ArchContext {
    crate::state::with_kernel(|k| {
        #[cfg(feature = "track_utilisation")]
        crate::benchmark::entry_hook(k);
        crate::log::set_current_thread(k.cur_thread);
        crate::syscall::dispatch_call(k, activate_or_idle)
    })
}

/// [`fastpath_call_fallback`] for `seL4_ReplyRecv`.
#[cfg(target_os = "none")]
#[inline(never)]
extern "C" fn fastpath_reply_recv_fallback() -> *mut ArchContext {
    crate::state::with_kernel(|k| {
        #[cfg(feature = "track_utilisation")]
        crate::benchmark::entry_hook(k);
        crate::log::set_current_thread(k.cur_thread);
        crate::syscall::dispatch_reply_recv(k, activate_or_idle)
    })
}

/// Entry from the trap path for an `ecall` (that the fastpath, if any, did not take): what
/// [`handle_user_trap`] does for [`Event::Syscall`], with the syscall dispatch inlined (no
/// cause to decode, one stack frame). Returns the context to restore.
#[cfg(target_os = "none")]
#[inline(never)]
pub extern "C" fn syscall_entry() -> *mut ArchContext {
    crate::state::with_kernel(|k| {
        #[cfg(feature = "track_utilisation")]
        crate::benchmark::entry_hook(k);
        crate::log::set_current_thread(k.cur_thread);
        crate::syscall::dispatch_syscall(k, exit_to_user, activate_or_idle)
    })
}

/// [`activate_or_idle`] after a syscall, with its commonest case inline and no call: the
/// thread that made the syscall runs on, and nothing it depends on changed (no scheduling
/// decision pending, still `Running`, the CPU still set up for it). Everything else goes to
/// [`activate_or_idle`] out of line.
#[cfg(target_os = "none")]
#[inline(always)]
fn exit_to_user(k: &mut Kernel) -> *mut ArchContext {
    #[cfg(not(feature = "mcs"))]
    if k.sched.action == crate::sched::SchedulerAction::ResumeCurrentThread {
        let t = k.cur_thread;
        if !is_idle(t) && t.state() == ThreadState::Running && t.addr() == k.activated {
            #[cfg(feature = "track_utilisation")]
            crate::benchmark::exit_hook(k);
            debug_assert!(crate::object::tcb_ops::fpu_invariant_holds(k, t));
            return t.context_ptr();
        }
    }
    activate_or_idle_out_of_line(k)
}

/// [`activate_or_idle`] in a function of its own.
#[cfg(target_os = "none")]
#[inline(never)]
fn activate_or_idle_out_of_line(k: &mut Kernel) -> *mut ArchContext {
    activate_or_idle(k)
}
