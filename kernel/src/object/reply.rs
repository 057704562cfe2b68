//! Reply objects (MCS; seL4 `src/object/reply.c`, manual §4.2.4 "Reply objects"): the object a
//! receiver names in `seL4_Recv`/`seL4_ReplyRecv` to get the right to answer its caller. While
//! a caller waits, its Reply object links it (`tcb`) and, if the caller's scheduling context
//! was donated, the call stack: `prev` the Reply of the call before, `next` the next one or
//! the donated SchedContext at the head.
#![forbid(unsafe_code)]

use crate::mem::{EitherLink, Link, Linked, PPtr};
use crate::object::sched_context::{ScRef, SchedContext};
use crate::object::tcb::Tcb;

/// A `call_stack_t` word: the SchedContext at the head of the stack (seL4's `isHead`), or
/// (bit 0 set) a Reply object. The opposite of seL4's bit (its `isHead` is bit 0 set): a head
/// word is then the SchedContext's address itself, which the MCS fastpath compares with the
/// current thread's SchedContext and stores without an `or` (the word is internal).
pub type CallStack = EitherLink<SchedContext, Reply>;

/// A Reply object (`reply_t`), 2^`seL4_ReplyBits` = 32 bytes.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct Reply {
    /// `replyTCB`: the caller blocked on it (BlockedOnReply), or the receiver blocked with it
    /// (BlockedOnReceive); or none.
    pub tcb: Link<Tcb>,
    /// `replyPrev`: the Reply of the call before in the call stack (a `call_stack_t` that is
    /// never the head).
    pub prev: Link<Reply>,
    /// `replyNext`: the Reply of the call after, or the SchedContext at the head.
    pub next: CallStack,
    /// Unused (the object is 32 bytes).
    pub _pad: u64,
}

const _: () = assert!(core::mem::size_of::<Reply>() as u64 == 1 << abi::object::REPLY_BITS);

/// A Reply object in object memory.
pub type ReplyRef = PPtr<Reply>;

use crate::object::sched_context;
use crate::object::tcb::{TcbRef, ThreadState};
use crate::sched::set_thread_state;
use crate::state::Kernel;

/// The Reply object in `t`'s thread state, if any.
pub fn reply_of(t: TcbRef) -> Option<ReplyRef> {
    t.with(|x| x.reply_object).get()
}

/// `reply_unlink(reply, tcb)`: cuts the link between a Reply object and the thread blocked
/// with it (receiving or waiting for the reply); the thread becomes Inactive.
pub fn unlink(k: &mut Kernel, reply: ReplyRef, t: TcbRef) {
    debug_assert!(reply.get().tcb.is(t));
    reply.with(|r| r.tcb = Link::NONE);
    t.with(|x| x.reply_object = Link::NONE);
    set_thread_state(k, t, ThreadState::Inactive);
}

/// A thread taken out of an endpoint queue: if it was receiving with a Reply object, the two
/// are unlinked (seL4 `cancelIPC`, `removeAndRestartEPQueuedThread`).
pub fn unlink_receiver(k: &mut Kernel, t: TcbRef) {
    if t.state() == ThreadState::BlockedOnReceive {
        if let Some(r) = reply_of(t) {
            unlink(k, r, t);
        }
    }
}

/// `reply_push(caller, callee, reply, can_donate)`: the caller waits on `reply` for the
/// callee's answer; if the caller's SchedContext may go along and the callee has none, it is
/// pushed on the call stack and donated to the callee.
pub fn push(k: &mut Kernel, caller: TcbRef, callee: TcbRef, reply: ReplyRef, can_donate: bool) {
    let sc_donated = caller.with(|x| x.sched_context).get();
    debug_assert!({
        let r = reply.get();
        r.tcb.is_none() && r.prev.is_none() && r.next.is_none()
    });
    reply.with(|r| r.tcb = Link::to(caller));
    caller.with(|x| x.reply_object = Link::to(reply));
    set_thread_state(k, caller, ThreadState::BlockedOnReply);
    let Some(sc_donated) = sc_donated else {
        return;
    };
    if callee.with(|x| x.sched_context).is_none() && can_donate {
        let old_caller = sc_donated.with(|s| s.reply);
        if let Some(old) = old_caller.get() {
            old.with(|r| r.next = CallStack::to_b(reply));
        }
        reply.with(|r| {
            r.prev = old_caller;
            r.next = CallStack::to_a(sc_donated);
        });
        sc_donated.with(|s| s.reply = Link::to(reply));
        sched_context::donate(k, sc_donated, callee);
    }
}

/// `reply_pop(reply, tcb)`: the reply at the head of the call stack of `sc` (its `next`) is
/// answered: `sc` goes back to the caller `t` (unless it got another one meanwhile) and the
/// stack shrinks by one.
fn pop(k: &mut Kernel, reply: ReplyRef, t: TcbRef, sc: ScRef) {
    let r = reply.get();
    debug_assert!(r.tcb.is(t) && r.next.a() == Some(sc));
    sc.with(|s| s.reply = r.prev);
    if let Some(prev) = r.prev.get() {
        prev.with(|p| p.next = r.next);
    }
    reply.with(|x| x.next = CallStack::NONE);
    if t.with(|x| x.sched_context).is_none() {
        sched_context::donate(k, sc, t);
    }
    reply.with(|x| x.prev = Link::NONE);
    unlink(k, reply, t);
}

/// `reply_remove(reply, tcb)`: `t`, blocked on `reply`, stops waiting for it (the reply is
/// used or cancelled). At the head of the call stack the SchedContext goes back (`pop`);
/// in the middle the stack is cut there.
pub fn remove(k: &mut Kernel, reply: ReplyRef, t: TcbRef) {
    let r = reply.get();
    match r.next.get() {
        Some(Linked::A(sc)) => {
            pop(k, reply, t, sc);
            return;
        }
        Some(Linked::B(next)) => next.with(|n| n.prev = Link::NONE),
        None => {}
    }
    cut(k, reply, r.prev.get(), t);
}

/// `reply_remove_tcb(tcb)`: `t`, BlockedOnReply, is cancelled: its Reply leaves the call
/// stack without returning any SchedContext.
pub fn remove_tcb(k: &mut Kernel, t: TcbRef) {
    let Some(reply) = reply_of(t) else {
        set_thread_state(k, t, ThreadState::Inactive);
        return;
    };
    let r = reply.get();
    match r.next.get() {
        Some(Linked::A(sc)) => sc.with(|s| s.reply = Link::NONE),
        Some(Linked::B(next)) => next.with(|n| n.prev = Link::NONE),
        None => {}
    }
    cut(k, reply, r.prev.get(), t);
}

/// The end of `reply_remove` and `reply_remove_tcb`: the stack is cut above `reply` (the
/// Reply before it, `prev`, if any, no longer links to it), `reply` links nothing, and `t`
/// stops waiting on it.
#[inline(always)]
fn cut(k: &mut Kernel, reply: ReplyRef, prev: Option<ReplyRef>, t: TcbRef) {
    if let Some(prev) = prev {
        prev.with(|p| p.next = CallStack::NONE);
    }
    reply.with(|x| {
        x.prev = Link::NONE;
        x.next = CallStack::NONE;
    });
    unlink(k, reply, t);
}

/// Finalising the last cap to a Reply object (seL4 `finaliseCap` for `cap_reply_cap`): a
/// thread linked with it stops waiting: a caller leaves the call stack and becomes Inactive,
/// a receiver's receive is cancelled.
pub fn finalise(k: &mut Kernel, reply: ReplyRef) {
    let Some(t) = reply.get().tcb.get() else {
        return;
    };
    match t.state() {
        ThreadState::BlockedOnReply => remove(k, reply, t),
        ThreadState::BlockedOnReceive => crate::ipc::cancel_ipc(k, t),
        _ => {}
    }
}
