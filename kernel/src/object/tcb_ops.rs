//! Thread lifecycle operations (seL4 `src/object/tcb.c`, `src/kernel/thread.c`): suspend,
//! restart, deletion, in both configurations (MCS: `mcs` feature, `CONFIG_KERNEL_MCS`).

use crate::ipc::cancel_ipc;
#[cfg(not(feature = "mcs"))]
use crate::ipc::setup_reply_master;
use crate::object::tcb::{TcbRef, ThreadState};
#[cfg(not(feature = "mcs"))]
use crate::sched::sched_enqueue_cold;
use crate::sched::{possible_switch_to, sched_dequeue, set_thread_state};
use crate::state::Kernel;

/// `suspend`: cancels the thread's IPC, makes it inactive and takes it off the ready queue
/// (MCS: and the release queue, and cancels its `seL4_SchedContext_YieldTo`). A running thread
/// will resume at its next instruction when restarted.
pub fn suspend(k: &mut Kernel, t: TcbRef) {
    cancel_ipc(k, t);
    if t.state() == ThreadState::Running {
        let pc = t.reg(crate::arch::regs::NEXT_IP);
        t.with(|x| x.fault_ip = pc);
    }
    #[cfg(not(feature = "mcs"))]
    {
        set_thread_state(k, t, ThreadState::Inactive);
        sched_dequeue(k, t);
    }
    #[cfg(feature = "mcs")]
    {
        sched_dequeue(k, t);
        crate::sched::mcs::release_remove(k, t);
        crate::object::sched_context::cancel_yield_to(t);
        set_thread_state(k, t, ThreadState::Inactive);
    }
}

/// `isStopped`: inactive or blocked (on send, receive, notification or reply).
pub fn is_stopped(t: TcbRef) -> bool {
    matches!(
        t.state(),
        ThreadState::Inactive
            | ThreadState::BlockedOnReceive
            | ThreadState::BlockedOnSend
            | ThreadState::BlockedOnNotification
            | ThreadState::BlockedOnReply
    )
}

/// `restart` (non-MCS): a stopped thread becomes runnable, re-executing from its restart pc.
#[cfg(not(feature = "mcs"))]
pub fn restart(k: &mut Kernel, t: TcbRef) {
    if is_stopped(t) {
        cancel_ipc(k, t);
        setup_reply_master(t);
        set_thread_state(k, t, ThreadState::Restart);
        sched_enqueue_cold(k, t);
        possible_switch_to(k, t);
    }
}

/// `restart` (MCS): a stopped thread becomes runnable, re-executing from its restart pc; it
/// runs once its scheduling context lets it: a sporadic SC other than the current one first
/// gets `refill_unblock_check`, then `schedContext_resume` (an SC without budget now sends
/// the thread to the release queue), and a schedulable thread is offered to the scheduler. A
/// thread without an SC stays in `Restart` until it gets one.
#[cfg(feature = "mcs")]
pub fn restart(k: &mut Kernel, t: TcbRef) {
    use crate::object::sched_context as sc_mod;
    if is_stopped(t) {
        cancel_ipc(k, t);
        set_thread_state(k, t, ThreadState::Restart);
        if let Some(sc) = t.with(|x| x.sched_context).get() {
            if sc_mod::sc_sporadic(sc)
                && sc != k.cur_sc
                && sc_mod::refill_unblock_check(sc, k.cur_time)
            {
                k.reprogram = true;
            }
            sc_mod::resume(k, sc);
        }
        if crate::sched::is_schedulable(t) {
            possible_switch_to(k, t);
        }
    }
}

/// The parts of `finaliseCap` for the last thread cap before its slots are cleared: unbind its
/// notification, (MCS) unbind its scheduling context and complete a yield to it, and suspend
/// it.
pub fn prepare_delete(k: &mut Kernel, t: TcbRef) {
    crate::object::notification::unbind_tcb(t);
    #[cfg(feature = "mcs")]
    {
        use crate::object::sched_context as sc_mod;
        if let Some(sc) = t.with(|x| x.sched_context).get() {
            sc_mod::unbind_tcb(k, sc);
            if let Some(from) = sc.with(|x| x.yield_from).get() {
                sc_mod::complete_yield_to(from);
            }
        }
    }
    suspend(k, t);
    if k.fpu_owner.is(t) {
        k.fpu_owner = crate::mem::Link::NONE;
        t.with(|x| x.context.disable_fpu());
    }
}

/// The FPU invariant that lets a switch of threads do no FPU work (seL4 switches FPU state
/// eagerly in `Arch_switchToThread`; the result for threads is the same): the FPU registers
/// hold the state of `Kernel::fpu_owner`, and every thread other than the owner has the FPU
/// disabled in its saved context (riscv64: `sstatus.FS` Off), so its first FP instruction traps to
/// [`fpu_lazy_load`], which makes it the owner and re-executes the instruction. The owner is
/// never a thread with `seL4_TCBFlag_fpuDisabled` (setting the flag releases the FPU), so for
/// such a thread an FP instruction is an illegal-instruction user exception, as on seL4.
///
/// Kept by [`fpu_lazy_load`] (the old owner's FPU is disabled), [`fpu_release`] (the releasing
/// thread's too), thread deletion (the owner is forgotten) and new TCBs (FPU disabled).
/// Checked before every return to user level in debug builds.
pub fn fpu_invariant_holds(k: &Kernel, t: TcbRef) -> bool {
    let (enabled, flags) = t.with(|x| (x.context.fpu_enabled(), x.flags));
    if k.fpu_owner.is(t) {
        enabled && flags & crate::object::tcb::TCB_FLAG_FPU_DISABLED == 0
    } else {
        !enabled
    }
}

/// The lazy half of FPU switching: `t` executed an FP instruction while not owning the FPU.
/// Returns whether that was the case (then the FPU now holds `t`'s state and the instruction is
/// re-executed); false means a genuine illegal instruction (or a thread with the FPU disabled).
pub fn fpu_lazy_load(k: &mut Kernel, t: TcbRef) -> bool {
    let (enabled, flags) = t.with(|x| (x.context.fpu_enabled(), x.flags));
    if enabled || flags & crate::object::tcb::TCB_FLAG_FPU_DISABLED != 0 || k.fpu_owner.is(t) {
        return false;
    }
    if let Some(owner) = k.fpu_owner.get() {
        owner.with(|o| {
            if o.context.fpu_dirty() {
                crate::arch::fpu_save(&mut o.context.fpu);
            }
            o.context.disable_fpu();
        });
    }
    t.with(|x| {
        crate::arch::fpu_load(&x.context.fpu);
        x.context.enable_fpu();
    });
    k.fpu_owner = crate::mem::Link::to(t);
    true
}

/// `fpuRelease`: the thread gives up the FPU (its FPU was disabled or it is leaving): its
/// registers are saved if it owns the FPU, and the FPU has no owner; its FPU is disabled (see
/// [`fpu_invariant_holds`]).
pub fn fpu_release(k: &mut Kernel, t: TcbRef) {
    if k.fpu_owner.is(t) {
        t.with(|x| {
            if x.context.fpu_dirty() {
                crate::arch::fpu_save(&mut x.context.fpu);
            }
            x.context.disable_fpu();
        });
        k.fpu_owner = crate::mem::Link::NONE;
    }
}
