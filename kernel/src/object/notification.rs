//! Notifications (seL4 `src/object/notification.c`, manual §5 "Notifications"): a word of
//! badge bits that `Signal` ORs into, and that `Wait` or `Poll` return and clear. A TCB bound to
//! a notification also receives its signals while blocked in `seL4_Recv` on an endpoint.

use crate::arch::regs;
use crate::cap::Cap;
use crate::mem::PPtr;
use crate::object::tcb::{TcbRef, ThreadState};
use crate::object::tcb_queue::TcbQueue;
use crate::sched::{possible_switch_to, reschedule_required, sched_enqueue, set_thread_state};
use crate::state::Kernel;

/// A notification object: 32 bytes (MCS: 2^6 bytes, of which 40 are used).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct Notification {
    /// Queue head TCB with the [`NtfnState`] in the low 2 bits.
    pub head_state: u64,
    /// Queue tail TCB.
    pub tail: u64,
    /// The notification word (OR of signalled badges) while active.
    pub word: u64,
    /// Bound TCB (kernel-virtual) or 0.
    pub bound_tcb: u64,
    /// MCS: the scheduling context bound to it (`ntfnSchedContext`), lent to a passive
    /// thread that receives a signal; 0 for none.
    #[cfg(feature = "mcs")]
    pub sched_context: u64,
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
    /// The notification at kernel-virtual address `ptr`.
    pub fn at(ptr: usize) -> Self {
        NtfnRef(PPtr::new(ptr))
    }
    /// Its state.
    pub fn state(self) -> NtfnState {
        match self.0.get().head_state & 3 {
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
            head: (n.head_state & !3) as usize,
            tail: n.tail as usize,
        }
    }
    /// Stores the queue of waiting threads: Waiting, or Idle when empty.
    fn set_queue(self, q: TcbQueue) {
        let s = if q.head == 0 {
            NtfnState::Idle
        } else {
            NtfnState::Waiting
        };
        self.0.with(|n| {
            n.head_state = q.head as u64 | s as u64;
            n.tail = q.tail as u64;
        });
    }
    fn set_active(self, word: u64) {
        self.0.with(|n| {
            n.head_state = NtfnState::Active as u64;
            n.tail = 0;
            n.word = word;
        });
    }
    fn append(self, t: TcbRef) {
        self.set_queue(self.queue().append(t));
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
            let bound = n.0.get().bound_tcb as usize;
            if bound != 0 {
                let t = TcbRef::new(bound);
                if t.state() == ThreadState::BlockedOnReceive {
                    crate::ipc::cancel_ipc(k, t);
                    set_thread_state(k, t, ThreadState::Running);
                    t.set_reg(regs::BADGE, badge);
                    possible_switch_to(k, t);
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
            possible_switch_to(k, t);
        }
        NtfnState::Active => n.0.with(|x| x.word |= badge),
    }
}

/// `receiveSignal(thread, cap, is_blocking)`: `seL4_Wait` (blocking) or `seL4_Poll`.
pub fn receive_signal(k: &mut Kernel, thread: TcbRef, cap: Cap, is_blocking: bool) {
    let Cap::Notification { ptr, .. } = cap else {
        return;
    };
    let n = NtfnRef::at(ptr);
    match n.state() {
        NtfnState::Idle | NtfnState::Waiting => {
            if is_blocking {
                thread.with(|x| x.blocking_object = ptr as u64);
                set_thread_state(k, thread, ThreadState::BlockedOnNotification);
                n.append(thread);
            } else {
                crate::ipc::do_nb_recv_failed_transfer(thread);
            }
        }
        NtfnState::Active => {
            let w = n.0.get().word;
            thread.set_reg(regs::BADGE, w);
            n.0.with(|x| {
                x.head_state = 0;
                x.word = 0;
            });
        }
    }
}

/// `completeSignal`: a bound thread takes the pending signal while entering `seL4_Recv`.
pub fn complete_signal(_k: &mut Kernel, n: NtfnRef, t: TcbRef) {
    let w = n.0.get().word;
    t.set_reg(regs::BADGE, w);
    n.0.with(|x| {
        x.head_state = 0;
        x.word = 0;
    });
}

/// `cancelAllSignals`: waiting threads restart their syscall.
pub fn cancel_all_signals(k: &mut Kernel, n: NtfnRef) {
    if n.state() != NtfnState::Waiting {
        return;
    }
    let q = n.queue();
    n.set_queue(TcbQueue::default());
    q.drain(|x| {
        x.set_state(ThreadState::Restart);
        sched_enqueue(k, x);
    });
    reschedule_required(k);
}

/// `bindNotification(tcb, ntfn)`.
pub fn bind(t: TcbRef, n: NtfnRef) {
    n.0.with(|x| x.bound_tcb = t.addr() as u64);
    t.with(|x| x.bound_notification = n.0.addr() as u64);
}

/// `unbindNotification(tcb)`: detaches the thread's bound notification, if any.
pub fn unbind_tcb(t: TcbRef) {
    let b = t.with(|x| core::mem::take(&mut x.bound_notification)) as usize;
    if b != 0 {
        NtfnRef::at(b).0.with(|x| x.bound_tcb = 0);
    }
}

/// Deleting the last cap to a notification (`finaliseCap`): unbind its TCB and release waiters.
pub fn unbind_and_cancel_all(k: &mut Kernel, ptr: usize) {
    let n = NtfnRef::at(ptr);
    let bound = n.0.get().bound_tcb as usize;
    if bound != 0 {
        unbind_tcb(TcbRef::new(bound));
    }
    cancel_all_signals(k, n);
}
