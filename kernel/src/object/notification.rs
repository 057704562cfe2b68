//! Notifications (seL4 `src/object/notification.c`, manual §5 "Notifications"): a word of
//! badge bits that `Signal` ORs into, and that `Wait` or `Poll` return and clear. A TCB bound to
//! a notification also receives its signals while blocked in `seL4_Recv` on an endpoint.

use crate::arch::regs;
use crate::cap::Cap;
use crate::mem::{EitherLink, Link, PPtr, TaggedLink};
use crate::object::tcb::{Tcb, TcbRef, ThreadState};
use crate::object::tcb_queue::TcbQueue;
#[cfg(feature = "mcs")]
use crate::sched::reschedule_required;
#[cfg(not(feature = "mcs"))]
use crate::sched::sched_enqueue_cold;
use crate::sched::{possible_switch_to, reschedule_required_cold, set_thread_state};
use crate::state::Kernel;

/// A notification object: 32 bytes (MCS: 2^6 bytes, of which 40 are used).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct Notification {
    /// Queue head TCB with the [`NtfnState`] in the low 2 bits.
    pub head_state: TaggedLink<Tcb>,
    /// Queue tail TCB.
    pub tail: Link<Tcb>,
    /// The notification word (OR of signalled badges) while active.
    pub word: u64,
    /// Bound TCB, or none.
    pub bound_tcb: Link<Tcb>,
    /// MCS: the scheduling context bound to it (`ntfnSchedContext`), lent to a passive
    /// thread that receives a signal; or none.
    #[cfg(feature = "mcs")]
    pub sched_context: Link<crate::object::sched_context::SchedContext>,
}

const _: () = assert!(core::mem::size_of::<Notification>() <= 1 << abi::object::NOTIFICATION_BITS);

/// `NtfnState_Idle`, `NtfnState_Waiting`, `NtfnState_Active`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NtfnState {
    /// Nothing pending, nobody waiting.
    Idle = 0,
    /// Threads waiting.
    Waiting = 1,
    /// Signalled; the word holds the badges.
    Active = 2,
}

/// A notification in object memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NtfnRef(pub PPtr<Notification>);

impl NtfnRef {
    /// Its kernel-virtual address (output and comparisons).
    pub fn addr(self) -> usize {
        self.0.addr()
    }
    /// Its state.
    pub fn state(self) -> NtfnState {
        match self.0.get().head_state.tag() {
            1 => NtfnState::Waiting,
            2 => NtfnState::Active,
            _ => NtfnState::Idle,
        }
    }
    /// Whether it is active (signalled, not yet received).
    pub fn is_active(self) -> bool {
        self.state() == NtfnState::Active
    }
    fn head(self) -> Option<TcbRef> {
        self.queue().first()
    }
    fn queue(self) -> TcbQueue {
        let n = self.0.get();
        TcbQueue {
            head: n.head_state.get(),
            tail: n.tail.get(),
        }
    }
    /// Stores the queue of waiting threads: Waiting, or Idle when empty.
    fn set_queue(self, q: TcbQueue) {
        let s = if q.head.is_none() {
            NtfnState::Idle
        } else {
            NtfnState::Waiting
        };
        self.0.with(|n| {
            n.head_state = TaggedLink::new(q.head, s as u64);
            n.tail = Link::from_opt(q.tail);
        });
    }
    fn set_active(self, word: u64) {
        self.0.with(|n| {
            n.head_state = TaggedLink::new(None, NtfnState::Active as u64);
            n.tail = Link::NONE;
            n.word = word;
        });
    }
    /// Queues a waiting thread (MCS: in priority order, `tcbNTFNAppend`).
    fn append(self, t: TcbRef) {
        #[cfg(not(feature = "mcs"))]
        self.set_queue(self.queue().append(t));
        #[cfg(feature = "mcs")]
        self.set_queue(self.queue().insert_by_priority(t));
    }
    /// MCS: puts `t`, waiting here, back in priority order after its priority changed
    /// (`reorderNTFN`).
    #[cfg(feature = "mcs")]
    pub fn reorder(self, t: TcbRef) {
        let q = self.queue().remove(t);
        self.set_queue(q.insert_by_priority(t));
    }
    /// MCS: the SchedContext bound to it, if any.
    #[cfg(feature = "mcs")]
    pub fn sched_context(self) -> Option<crate::object::sched_context::ScRef> {
        self.0.get().sched_context.get()
    }
    /// Removes a waiting thread; the notification goes idle when no one waits.
    pub fn dequeue(self, t: TcbRef) {
        self.set_queue(self.queue().remove(t));
    }
}

/// `sendSignal(ntfn, badge)`.
pub fn send_signal(k: &mut Kernel, n: NtfnRef, badge: u64) {
    match n.state() {
        NtfnState::Idle => {
            if let Some(t) = n.0.get().bound_tcb.get() {
                if t.state() == ThreadState::BlockedOnReceive {
                    crate::ipc::cancel_ipc(k, t);
                    set_thread_state(k, t, ThreadState::Running);
                    t.set_reg(regs::BADGE, badge);
                    wake(k, n, t);
                    return;
                }
            }
            n.set_active(badge);
        }
        NtfnState::Waiting => {
            let Some(t) = n.head() else { return };
            n.dequeue(t);
            set_thread_state(k, t, ThreadState::Running);
            t.set_reg(regs::BADGE, badge);
            wake(k, n, t);
        }
        NtfnState::Active => n.0.with(|x| x.word |= badge),
    }
}

/// A thread that a signal on `n` made Running may run: non-MCS always; MCS if it has (or
/// borrows from the notification) a SchedContext (`MCS_DO_IF_SC`), with the refill check of
/// a sporadic SchedContext that wakes up.
#[inline(always)]
fn wake(k: &mut Kernel, n: NtfnRef, t: TcbRef) {
    #[cfg(not(feature = "mcs"))]
    let _ = n;
    #[cfg(feature = "mcs")]
    {
        maybe_donate_sched_context(k, t, n);
        if !crate::sched::is_schedulable(t) {
            crate::object::sched_context::unblock_check_unless_current(k, t);
            return;
        }
    }
    possible_switch_to(k, t);
    #[cfg(feature = "mcs")]
    crate::object::sched_context::unblock_check_unless_current(k, t);
}

/// MCS `maybeDonateSchedContext`: a passive thread woken by a signal borrows the
/// notification's SchedContext if no one else has it.
#[cfg(feature = "mcs")]
fn maybe_donate_sched_context(k: &mut Kernel, t: TcbRef, n: NtfnRef) {
    use crate::object::sched_context as sc;
    if t.with(|x| x.sched_context).is_some() {
        return;
    }
    if let Some(s) = n.sched_context() {
        if s.get().tcb.is_none() {
            sc::donate(k, s, t);
            sc::resume(k, s);
        }
    }
}

/// MCS `maybeReturnSchedContext`: a thread that borrowed the notification's SchedContext
/// gives it back when it waits again.
#[cfg(feature = "mcs")]
pub fn maybe_return_sched_context(k: &mut Kernel, n: NtfnRef, t: TcbRef) {
    if let Some(s) = n.sched_context() {
        if t.with(|x| x.sched_context).is(s) {
            t.with(|x| x.sched_context = Link::NONE);
            s.with(|x| x.tcb = Link::NONE);
            if t == k.cur_thread {
                reschedule_required(k);
            }
        }
    }
}

/// `receiveSignal(thread, cap, is_blocking)`: `seL4_Wait` (blocking) or `seL4_Poll`.
pub fn receive_signal(k: &mut Kernel, thread: TcbRef, cap: Cap, is_blocking: bool) {
    let Cap::Notification { ptr: n, .. } = cap else {
        return;
    };
    match n.state() {
        NtfnState::Idle | NtfnState::Waiting => {
            if is_blocking {
                thread.with(|x| x.blocking_object = EitherLink::to_b(n.0));
                set_thread_state(k, thread, ThreadState::BlockedOnNotification);
                n.append(thread);
                #[cfg(feature = "mcs")]
                maybe_return_sched_context(k, n, thread);
            } else {
                crate::ipc::do_nb_recv_failed_transfer(thread);
            }
        }
        NtfnState::Active => {
            let w = n.0.get().word;
            thread.set_reg(regs::BADGE, w);
            n.0.with(|x| {
                x.head_state = TaggedLink::default();
                x.word = 0;
            });
            #[cfg(feature = "mcs")]
            {
                maybe_donate_sched_context(k, thread, n);
                crate::object::sched_context::unblock_check_unless_current(k, thread);
            }
        }
    }
}

/// `completeSignal`: a bound thread takes the pending signal while entering `seL4_Recv`.
pub fn complete_signal(_k: &mut Kernel, n: NtfnRef, t: TcbRef) {
    let w = n.0.get().word;
    t.set_reg(regs::BADGE, w);
    n.0.with(|x| {
        x.head_state = TaggedLink::default();
        x.word = 0;
    });
    #[cfg(feature = "mcs")]
    {
        maybe_donate_sched_context(_k, t, n);
        // Only a SchedContext that came from the notification is checked.
        if n.sched_context() == t.with(|x| x.sched_context).get() {
            crate::object::sched_context::unblock_check_unless_current(_k, t);
        }
    }
}

/// `cancelAllSignals`: waiting threads restart their syscall.
pub fn cancel_all_signals(k: &mut Kernel, n: NtfnRef) {
    if n.state() != NtfnState::Waiting {
        return;
    }
    #[cfg(not(feature = "mcs"))]
    {
        let q = n.queue();
        n.set_queue(TcbQueue::default());
        q.drain(|x| {
            x.set_state(ThreadState::Restart);
            sched_enqueue_cold(k, x);
        });
    }
    // MCS `removeAndRestartNTFNQueuedThread`.
    #[cfg(feature = "mcs")]
    while let Some(x) = n.head() {
        n.dequeue(x);
        set_thread_state(k, x, ThreadState::Restart);
        crate::object::sched_context::unblock_check_unless_current(k, x);
        possible_switch_to(k, x);
    }
    reschedule_required_cold(k);
}

/// `bindNotification(tcb, ntfn)`.
pub fn bind(t: TcbRef, n: NtfnRef) {
    n.0.with(|x| x.bound_tcb = Link::to(t));
    t.with(|x| x.bound_notification = Link::to(n.0));
}

/// `unbindNotification(tcb)`: detaches the thread's bound notification, if any.
pub fn unbind_tcb(t: TcbRef) {
    if let Some(b) = t.with(|x| x.bound_notification.take()) {
        b.with(|x| x.bound_tcb = Link::NONE);
    }
}

/// Deleting the last cap to a notification (`finaliseCap`): unbind its TCB and release waiters.
pub fn unbind_and_cancel_all(k: &mut Kernel, n: NtfnRef) {
    #[cfg(feature = "mcs")]
    crate::object::sched_context::maybe_unbind_ntfn(n);
    if let Some(bound) = n.0.get().bound_tcb.get() {
        unbind_tcb(bound);
    }
    cancel_all_signals(k, n);
}
