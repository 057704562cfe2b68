//! Endpoints and synchronous IPC (seL4 `src/object/endpoint.c`, manual §4 "Message passing").
//!
//! An endpoint is idle, or has a queue of threads all sending or all receiving. A sender and a
//! receiver meet, the message is transferred (`ipc::do_ipc_transfer`) and both continue; a
//! `seL4_Call` leaves the caller waiting for a reply through a reply cap given to the receiver.

use crate::cap::Cap;
use crate::ipc;
use crate::mem::{EitherLink, Link, PPtr, TaggedLink};
use crate::object::tcb::{Tcb, TcbRef, ThreadState};
use crate::object::tcb_queue::TcbQueue;
#[cfg(not(feature = "mcs"))]
use crate::sched::sched_enqueue_cold;
use crate::sched::{possible_switch_to, reschedule_required_cold, set_thread_state};
use crate::state::Kernel;

/// An endpoint object: 16 bytes.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct Endpoint {
    /// Queue head TCB with the [`EpState`] in the low 2 bits.
    pub head_state: TaggedLink<Tcb>,
    /// Queue tail TCB.
    pub tail: Link<Tcb>,
}

const _: () = assert!(core::mem::size_of::<Endpoint>() == 1 << abi::object::ENDPOINT_BITS);

/// Endpoint states (`EPState_Idle`, `EPState_Send`, `EPState_Recv`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EpState {
    /// No thread waiting.
    Idle = 0,
    /// Senders waiting.
    Send = 1,
    /// Receivers waiting.
    Recv = 2,
}

/// Per-thread IPC flags kept in `Tcb::blocking_flags`.
///
/// The two grant flags are the bits of the endpoint rights (`cap::ep_right`), so that the
/// IPC fastpath sets them from a cap with one `andi`.
pub mod flags {
    /// The blocked sender may grant caps / the receiver's cap has the Grant right.
    pub const CAN_GRANT: u64 = crate::cap::ep_right::GRANT;
    /// The blocked sender may grant a reply cap.
    pub const CAN_GRANT_REPLY: u64 = crate::cap::ep_right::GRANT_REPLY;
    /// The blocked send is a `seL4_Call`.
    pub const IS_CALL: u64 = 1;
    const _: () = assert!(IS_CALL & (CAN_GRANT | CAN_GRANT_REPLY) == 0);
}

/// An endpoint in object memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EpRef(pub PPtr<Endpoint>);

impl EpRef {
    /// Its kernel-virtual address (output and comparisons).
    pub fn addr(self) -> usize {
        self.0.addr()
    }
    /// Its state.
    pub fn state(self) -> EpState {
        match self.0.get().head_state.tag() {
            1 => EpState::Send,
            2 => EpState::Recv,
            _ => EpState::Idle,
        }
    }
    /// The first queued thread.
    pub fn head(self) -> Option<TcbRef> {
        self.queue().first()
    }
    fn queue(self) -> TcbQueue {
        let e = self.0.get();
        TcbQueue {
            head: e.head_state.get(),
            tail: e.tail.get(),
        }
    }
    /// Stores the queue; an empty queue makes the endpoint idle.
    fn set(self, q: TcbQueue, s: EpState) {
        let s = if q.head.is_none() { EpState::Idle } else { s };
        self.0.set(Endpoint {
            head_state: TaggedLink::new(q.head, s as u64),
            tail: Link::from_opt(q.tail),
        });
    }
    /// Appends `t` to the queue, which then holds threads in state `s` (MCS: in priority
    /// order, seL4 `tcbEPAppend`).
    pub fn append(self, t: TcbRef, s: EpState) {
        #[cfg(not(feature = "mcs"))]
        self.set(self.queue().append(t), s);
        #[cfg(feature = "mcs")]
        self.set(self.queue().insert_by_priority(t), s);
    }
    /// MCS: puts `t`, queued here, back in priority order after its priority changed
    /// (`reorderEP`).
    #[cfg(feature = "mcs")]
    pub fn reorder(self, t: TcbRef) {
        let s = self.state();
        let q = self.queue().remove(t);
        self.set(q.insert_by_priority(t), s);
    }
    /// The first word: head TCB | [`EpState`] (for the IPC fastpath).
    #[inline(always)]
    pub fn head_state(self) -> TaggedLink<Tcb> {
        self.0.with(|e| e.head_state)
    }
    /// Removes the head `head` of a queue of receivers (the IPC fastpath; [`Self::dequeue`]
    /// for the first thread).
    #[inline(always)]
    pub fn dequeue_recv_head(self, head: TcbRef) {
        debug_assert!(self.head() == Some(head) && self.state() == EpState::Recv);
        debug_assert!(head.with(|x| x.ep_prev).is_none());
        match head.with(|x| x.ep_next.take()) {
            None => self.0.set(Endpoint::default()),
            Some(next) => {
                next.with(|x| x.ep_prev = Link::NONE);
                self.0
                    .with(|e| e.head_state = TaggedLink::new(Some(next), EpState::Recv as u64));
            }
        }
    }
    /// Appends `t` to an idle endpoint or a queue of receivers (the IPC fastpath;
    /// [`Self::append`] with [`EpState::Recv`]).
    #[inline(always)]
    ///
    /// `t` is in no queue, so its links are none already (every removal clears them) and only
    /// `ep_prev` changes, if the queue is not empty.
    pub fn append_recv(self, t: TcbRef) {
        self.append_recv_after(t, self.0.with(|e| e.tail).get());
    }

    /// [`Self::append_recv`] with the queue's tail `tail` already read (by a caller that
    /// looked at it: the MCS fastpath), so that it is not read again.
    #[inline(always)]
    pub fn append_recv_after(self, t: TcbRef, tail: Option<TcbRef>) {
        debug_assert!(self.state() != EpState::Send);
        debug_assert!(t.with(|x| x.ep_prev.is_none() && x.ep_next.is_none()));
        debug_assert!(tail == self.0.with(|e| e.tail).get());
        match tail {
            None => self.0.set(Endpoint {
                head_state: TaggedLink::new(Some(t), EpState::Recv as u64),
                tail: Link::to(t),
            }),
            Some(tail) => {
                t.with(|x| x.ep_prev = Link::to(tail));
                tail.with(|x| x.ep_next = Link::to(t));
                self.0.with(|e| e.tail = Link::to(t));
            }
        }
    }
    /// Removes `t` from the queue (it must be queued here); the endpoint goes idle when empty.
    pub fn dequeue(self, t: TcbRef) {
        self.set(self.queue().remove(t), self.state());
    }
}

/// The blocking half of `sendIPC` when no receiver waits: `thread` queues on `ep` as a
/// sender, keeping what the receiver will need (badge, grant rights, whether it is a call).
#[inline(always)]
fn block_on_send(
    k: &mut Kernel,
    thread: TcbRef,
    ep: EpRef,
    badge: u64,
    can_grant: bool,
    can_grant_reply: bool,
    do_call: bool,
) {
    thread.with(|x| {
        x.blocking_object = EitherLink::to_a(ep.0);
        x.blocking_badge = badge;
        x.blocking_flags = (can_grant as u64 * flags::CAN_GRANT)
            | (can_grant_reply as u64 * flags::CAN_GRANT_REPLY)
            | (do_call as u64 * flags::IS_CALL);
    });
    set_thread_state(k, thread, ThreadState::BlockedOnSend);
    ep.append(thread, EpState::Send);
}

#[cfg(not(feature = "mcs"))]
/// `sendIPC(blocking, do_call, badge, can_grant, can_grant_reply, thread, ep)`.
#[allow(clippy::too_many_arguments)]
pub fn send_ipc(
    k: &mut Kernel,
    blocking: bool,
    do_call: bool,
    badge: u64,
    can_grant: bool,
    can_grant_reply: bool,
    thread: TcbRef,
    ep: EpRef,
) {
    match ep.state() {
        EpState::Idle | EpState::Send => {
            if blocking {
                block_on_send(k, thread, ep, badge, can_grant, can_grant_reply, do_call);
            }
        }
        EpState::Recv => {
            let Some(dest) = ep.head() else { return };
            ep.dequeue(dest);
            ipc::do_ipc_transfer(k, thread, Some(ep), badge, can_grant, dest);
            let reply_can_grant = dest.with(|x| x.blocking_flags & flags::CAN_GRANT != 0);
            set_thread_state(k, dest, ThreadState::Running);
            possible_switch_to(k, dest);
            if do_call {
                if can_grant || can_grant_reply {
                    ipc::setup_caller_cap(k, thread, dest, reply_can_grant);
                } else {
                    set_thread_state(k, thread, ThreadState::Inactive);
                }
            }
        }
    }
}

#[cfg(not(feature = "mcs"))]
/// `receiveIPC(thread, cap, is_blocking)` for an endpoint cap `cap` with the Read right.
pub fn receive_ipc(k: &mut Kernel, thread: TcbRef, cap: Cap, is_blocking: bool) {
    let Cap::Endpoint {
        ptr: ep, rights, ..
    } = cap
    else {
        return;
    };
    // A bound notification that is already active is received first.
    let bound = thread.with(|x| x.bound_notification.get());
    if let Some(b) = bound.map(crate::object::notification::NtfnRef) {
        if b.is_active() {
            crate::object::notification::complete_signal(k, b, thread);
            return;
        }
    }
    match ep.state() {
        EpState::Idle | EpState::Recv => {
            if is_blocking {
                thread.with(|x| {
                    x.blocking_object = EitherLink::to_a(ep.0);
                    x.blocking_flags = rights.grant as u64 * flags::CAN_GRANT;
                });
                set_thread_state(k, thread, ThreadState::BlockedOnReceive);
                ep.append(thread, EpState::Recv);
            } else {
                ipc::do_nb_recv_failed_transfer(thread);
            }
        }
        EpState::Send => {
            let Some(sender) = ep.head() else { return };
            ep.dequeue(sender);
            let (badge, f) = sender.with(|x| (x.blocking_badge, x.blocking_flags));
            ipc::do_ipc_transfer(
                k,
                sender,
                Some(ep),
                badge,
                f & flags::CAN_GRANT != 0,
                thread,
            );
            if f & flags::IS_CALL != 0 {
                if f & (flags::CAN_GRANT | flags::CAN_GRANT_REPLY) != 0 {
                    ipc::setup_caller_cap(k, sender, thread, rights.grant);
                } else {
                    set_thread_state(k, sender, ThreadState::Inactive);
                }
            } else {
                set_thread_state(k, sender, ThreadState::Running);
                possible_switch_to(k, sender);
            }
        }
    }
}

#[cfg(not(feature = "mcs"))]
/// `cancelAllIPC`: every thread queued on the endpoint restarts its syscall; the endpoint goes
/// idle.
pub fn cancel_all_ipc(k: &mut Kernel, ep: EpRef) {
    let q = ep.queue();
    ep.set(TcbQueue::default(), EpState::Idle);
    // The scheduler helpers out of line (`sched::*_cold`), here and in the other cancel
    // loops: no measured path restarts threads this way.
    q.drain(|x| {
        x.set_state(ThreadState::Restart);
        sched_enqueue_cold(k, x);
    });
    reschedule_required_cold(k);
}

/// `cancelBadgedSends`: threads queued to send on the endpoint with `badge` leave the queue
/// and restart their syscall (MCS: or stay Inactive if they were sending a fault).
pub fn cancel_badged_sends(k: &mut Kernel, ep: EpRef, badge: u64) {
    if ep.state() != EpState::Send {
        return;
    }
    let mut t = ep.head();
    while let Some(x) = t {
        let next = x.with(|y| y.ep_next.get());
        if x.with(|y| y.blocking_badge) == badge {
            ep.dequeue(x);
            #[cfg(not(feature = "mcs"))]
            {
                x.set_state(ThreadState::Restart);
                sched_enqueue_cold(k, x);
            }
            #[cfg(feature = "mcs")]
            restart_if_no_fault(k, x);
        }
        t = next;
    }
    reschedule_required_cold(k);
}

/// MCS: `sendIPC(blocking, do_call, badge, can_grant, can_grant_reply, can_donate, thread,
/// ep)`. A call (or a fault message) that meets a receiver with a Reply object leaves the
/// sender BlockedOnReply on it, and its SchedContext goes to a receiver that has none if
/// `can_donate`; without a Reply object (or without grant rights) the caller becomes
/// Inactive. A plain send may also lend the SchedContext (`seL4_NBSendRecv`).
#[cfg(feature = "mcs")]
#[allow(clippy::too_many_arguments)]
pub fn send_ipc(
    k: &mut Kernel,
    blocking: bool,
    do_call: bool,
    badge: u64,
    can_grant: bool,
    can_grant_reply: bool,
    can_donate: bool,
    thread: TcbRef,
    ep: EpRef,
) {
    use crate::object::reply;
    use crate::object::sched_context as sc;
    match ep.state() {
        EpState::Idle | EpState::Send => {
            if blocking {
                block_on_send(k, thread, ep, badge, can_grant, can_grant_reply, do_call);
            }
        }
        EpState::Recv => {
            let Some(dest) = ep.head() else { return };
            ep.dequeue(dest);
            ipc::do_ipc_transfer(k, thread, Some(ep), badge, can_grant, dest);
            let reply = reply::reply_of(dest);
            if let Some(r) = reply {
                reply::unlink(k, r, dest);
            }
            if do_call || ipc::Fault::is_pending(thread) {
                match reply {
                    Some(r) if can_grant || can_grant_reply => {
                        reply::push(k, thread, dest, r, can_donate)
                    }
                    _ => set_thread_state(k, thread, ThreadState::Inactive),
                }
            } else if can_donate && dest.with(|x| x.sched_context).is_none() {
                sc::donate(k, sc::tcb_sc(thread), dest);
            }
            set_thread_state(k, dest, ThreadState::Running);
            sc::unblock_check_unless_current(k, dest);
            possible_switch_to(k, dest);
        }
    }
}

/// MCS: `receiveIPC(thread, cap, is_blocking, reply)` for an endpoint cap with the Read
/// right; `reply` is the Reply object the receiver named (`seL4_Recv`'s reply cap), if any.
#[cfg(feature = "mcs")]
pub fn receive_ipc(
    k: &mut Kernel,
    thread: TcbRef,
    cap: Cap,
    is_blocking: bool,
    reply: Option<crate::object::reply::ReplyRef>,
) {
    use crate::object::notification::{self as ntfn, NtfnRef};
    use crate::object::reply as rp;
    use crate::object::sched_context as sc;
    let Cap::Endpoint { ptr: ep, .. } = cap else {
        return;
    };
    if let Some(r) = reply {
        if let Some(owner) = r.get().tcb.get().filter(|&o| o != thread) {
            crate::user_error!("Reply object already has unexecuted reply!");
            ipc::cancel_ipc(k, owner);
        }
    }
    // A bound notification that is already active is received first.
    let bound = thread.with(|x| x.bound_notification.get()).map(NtfnRef);
    if let Some(b) = bound {
        if b.is_active() {
            ntfn::complete_signal(k, b, thread);
            return;
        }
        // A passive server waiting on its endpoint gives back the SchedContext its bound
        // notification lent it.
        if is_blocking {
            ntfn::maybe_return_sched_context(k, b, thread);
        }
    }
    match ep.state() {
        EpState::Idle | EpState::Recv => {
            if is_blocking {
                thread.with(|x| {
                    x.blocking_object = EitherLink::to_a(ep.0);
                    x.reply_object = Link::from_opt(reply);
                });
                set_thread_state(k, thread, ThreadState::BlockedOnReceive);
                if let Some(r) = reply {
                    r.with(|x| x.tcb = Link::to(thread));
                }
                ep.append(thread, EpState::Recv);
            } else {
                ipc::do_nb_recv_failed_transfer(thread);
            }
        }
        EpState::Send => {
            let Some(sender) = ep.head() else { return };
            ep.dequeue(sender);
            let (badge, f) = sender.with(|x| (x.blocking_badge, x.blocking_flags));
            let can_grant = f & flags::CAN_GRANT != 0;
            let can_grant_reply = f & flags::CAN_GRANT_REPLY != 0;
            ipc::do_ipc_transfer(k, sender, Some(ep), badge, can_grant, thread);
            sc::unblock_check_unless_current(k, sender);
            let fault = ipc::Fault::load(sender);
            if f & flags::IS_CALL != 0 || fault.is_some() {
                match reply {
                    Some(r) if can_grant || can_grant_reply => {
                        let can_donate = sender.with(|x| x.sched_context).is_some()
                            && !matches!(fault, Some(ipc::Fault::Timeout { .. }));
                        rp::push(k, sender, thread, r, can_donate);
                    }
                    _ => set_thread_state(k, sender, ThreadState::Inactive),
                }
            } else {
                set_thread_state(k, sender, ThreadState::Running);
                possible_switch_to(k, sender);
            }
        }
    }
}

/// MCS `restart_thread_if_no_fault`: a thread taken off a queue restarts its syscall, unless
/// it was sending a fault message (then it stays Inactive).
#[cfg(feature = "mcs")]
fn restart_if_no_fault(k: &mut Kernel, t: TcbRef) {
    if ipc::Fault::is_pending(t) {
        set_thread_state(k, t, ThreadState::Inactive);
    } else {
        set_thread_state(k, t, ThreadState::Restart);
        crate::object::sched_context::unblock_check_unless_current(k, t);
        possible_switch_to(k, t);
    }
}

/// MCS `cancelAllIPC`: every thread queued on the endpoint leaves it (a receiver's Reply
/// object is unlinked) and restarts its syscall, or stays Inactive if it was sending a fault.
#[cfg(feature = "mcs")]
pub fn cancel_all_ipc(k: &mut Kernel, ep: EpRef) {
    if ep.state() == EpState::Idle {
        return;
    }
    while let Some(t) = ep.head() {
        ep.dequeue(t);
        crate::object::reply::unlink_receiver(k, t);
        restart_if_no_fault(k, t);
    }
    reschedule_required_cold(k);
}
