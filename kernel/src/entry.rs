//! Kernel entry from user mode: syscalls, exceptions and interrupts (seL4 `c_handle_syscall`,
//! `c_handle_exception`, `c_handle_interrupt` in `src/arch/riscv/c_traps.c`), and the choice of
//! the thread to return to.
#![forbid(unsafe_code)]

use crate::arch::ArchContext;
use crate::ipc::{handle_fault, Fault};
use crate::object::tcb::ThreadState;
use crate::sched::{is_idle, schedule};
use crate::state::Kernel;
use crate::syscall::handle_syscall;

/// `scause` of an `ecall` from U-mode.
pub const CAUSE_USER_ECALL: u64 = 8;
/// `scause` bit set for interrupts.
pub const CAUSE_INTERRUPT: u64 = 1 << 63;
/// Interrupt cause of the supervisor timer.
pub const IRQ_S_TIMER: u64 = 5;
/// Interrupt cause of supervisor external interrupts (the PLIC).
pub const IRQ_S_EXTERNAL: u64 = 9;

/// Handles one trap of the current thread in kernel `k`. Its registers are saved in its
/// context with the pc of the trapping instruction.
///
/// On the machine the trap entry has already tried the IPC fastpath (see
/// [`fastpath_call_entry`]); elsewhere (host tests) it is tried here, on the saved registers.
#[inline(always)]
pub fn handle_trap(k: &mut Kernel, scause: u64, stval: u64) -> Handled {
    crate::log::set_current_thread(k.cur_thread);
    if scause == CAUSE_USER_ECALL {
        #[cfg(all(feature = "fastpath", not(target_os = "none")))]
        if let Some(t) = crate::fastpath::try_fastpath(k) {
            fastpath_exit(k, t);
            return Handled::Fastpath;
        }
        handle_syscall(k);
    } else {
        handle_trap_slow(k, scause, stval);
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

/// Interrupts and exceptions (everything but `ecall`).
#[inline(never)]
fn handle_trap_slow(k: &mut Kernel, scause: u64, stval: u64) {
    let t = k.cur_thread;
    if scause & CAUSE_INTERRUPT != 0 {
        // The interrupted thread resumes where it was (seL4 saves FaultIP on every entry).
        if !is_idle(t) {
            let pc = t.reg(0);
            t.with(|x| x.fault_ip = pc);
        }
        handle_interrupt(k, scause & !CAUSE_INTERRUPT);
        return;
    }
    // An FP instruction of a thread whose FPU state is not loaded (lazy switching).
    if scause == 2 && crate::object::tcb_ops::fpu_lazy_load(k, t) {
        return;
    }
    let pc = t.reg(0);
    t.with(|x| x.fault_ip = pc);
    let fault = match scause {
        // Instruction, load and store page faults and access faults are VM faults; seL4
        // reports the access-fault cause as the FSR.
        1 | 12 => Fault::VmFault {
            addr: stval,
            fsr: 1,
            prefetch: true,
        },
        5 | 13 => Fault::VmFault {
            addr: stval,
            fsr: 5,
            prefetch: false,
        },
        7 | 15 => Fault::VmFault {
            addr: stval,
            fsr: 7,
            prefetch: false,
        },
        _ => Fault::UserException {
            number: scause,
            code: 0,
        },
    };
    handle_fault(k, t, fault);
}

/// `handleInterruptEntry`: the kernel's timer ticks the scheduler; a device interrupt is
/// claimed from the interrupt controller and forwarded to its notification.
pub fn handle_interrupt(k: &mut Kernel, cause: u64) {
    match cause {
        IRQ_S_TIMER => {
            crate::sched::timer_tick(k);
            crate::arch::reset_timer();
        }
        IRQ_S_EXTERNAL => {
            if let Some(irq) = crate::arch::irq_claim() {
                crate::object::interrupt::handle_interrupt(k, irq);
            }
        }
        _ => {}
    }
}

/// `schedule` + `activateThread`: picks the thread to run and prepares it (a thread in
/// `Restart` re-executes its syscall) and its address space. Returns its register context, or
/// `None` when no thread is runnable (the idle thread runs).
#[inline(always)]
pub fn activate(k: &mut Kernel) -> Option<*mut ArchContext> {
    if k.sched.action != crate::sched::SchedulerAction::ResumeCurrentThread {
        schedule(k);
    }
    let t = k.cur_thread;
    if is_idle(t) {
        return None;
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
    t.set_reg(0, ip);
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
/// fastpath). Returns its register context.
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
        let cause = crate::arch::riscv64::machine::wait_for_interrupt();
        handle_interrupt(k, cause);
        if let Some(ctx) = activate(k) {
            return ctx;
        }
    }
}

/// Entry from the architecture's trap path: handles the trap of the current thread and returns
/// the context to restore.
#[cfg(target_os = "none")]
pub fn handle_user_trap(scause: u64, stval: u64) -> *mut ArchContext {
    crate::state::with_kernel(|k| {
        handle_trap(k, scause, stval);
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
        if let Some(ctx) = run_fastpath(crate::fastpath::call, cptr, info) {
            return ctx;
        }
    }
    let _ = (cptr, info);
    fastpath_fallback()
}

/// [`fastpath_call_entry`] for `seL4_ReplyRecv`.
#[cfg(target_os = "none")]
pub extern "C" fn fastpath_reply_recv_entry(cptr: u64, info: u64) -> *mut ArchContext {
    #[cfg(feature = "fastpath")]
    {
        if let Some(ctx) = run_fastpath(crate::fastpath::reply_recv, cptr, info) {
            return ctx;
        }
    }
    let _ = (cptr, info);
    fastpath_fallback()
}

/// Runs one of the fastpath functions on the caller's `a0`/`a1`: the context to restore, or
/// `None` when it did not apply (nothing changed).
#[cfg(all(target_os = "none", feature = "fastpath"))]
#[inline(always)]
fn run_fastpath(
    fastpath: fn(&mut Kernel, crate::fastpath::FastArgs) -> Option<crate::object::tcb::TcbRef>,
    cptr: u64,
    info: u64,
) -> Option<*mut ArchContext> {
    let a = crate::fastpath::FastArgs { cptr, info };
    crate::state::with_kernel(|k| fastpath(k, a).map(|t| fastpath_exit(k, t)))
}

/// The full path for an `ecall` the fastpath did not take: a separate function, so that the
/// fastpath ends in a tail call and needs no stack frame.
#[cfg(target_os = "none")]
#[inline(never)]
extern "C" fn fastpath_fallback() -> *mut ArchContext {
    handle_user_trap(CAUSE_USER_ECALL, 0)
}
