//! Reply objects (MCS; seL4 `src/object/reply.c`, manual §4.2.4 "Reply objects"): the object a
//! receiver names in `seL4_Recv`/`seL4_ReplyRecv` to get the right to answer its caller. While
//! a caller waits, its Reply object links it (`tcb`) and, if the caller's scheduling context
//! was donated, the call stack: `prev` the Reply of the call before, `next` the next one or
//! the donated SchedContext at the head.
#![forbid(unsafe_code)]

use crate::mem::PPtr;

/// `call_stack_t` word: the pointer, with bit 0 set when it names a SchedContext (the head of
/// the stack, `isHead`) rather than a Reply.
pub const CALL_STACK_HEAD_BIT: u64 = 1;

/// A Reply object (`reply_t`), 2^`seL4_ReplyBits` = 32 bytes.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct Reply {
    /// `replyTCB`: the caller blocked on it (BlockedOnReply), or the receiver blocked with it
    /// (BlockedOnReceive); 0 for none.
    pub tcb: u64,
    /// `replyPrev`: call-stack word (see [`CALL_STACK_HEAD_BIT`]).
    pub prev: u64,
    /// `replyNext`: call-stack word.
    pub next: u64,
    /// Unused (the object is 32 bytes).
    pub _pad: u64,
}

const _: () = assert!(core::mem::size_of::<Reply>() as u64 == 1 << abi::object::REPLY_BITS);

/// A Reply object in object memory.
pub type ReplyRef = PPtr<Reply>;

use crate::object::sched_context::{self, ScRef};
use crate::object::tcb::{TcbRef, ThreadState};
use crate::sched::set_thread_state;
use crate::state::Kernel;

/// A call-stack word naming a Reply object (`call_stack_new(reply, false)`).
fn stack_reply(r: usize) -> u64 {
    r as u64
}

/// A call-stack word naming the SchedContext at the head of the stack
/// (`call_stack_new(sc, true)`).
fn stack_head(sc: ScRef) -> u64 {
    sc.addr() as u64 | CALL_STACK_HEAD_BIT
}

/// The pointer of a call-stack word (`call_stack_get_callStackPtr`).
fn stack_ptr(w: u64) -> usize {
    (w & !CALL_STACK_HEAD_BIT) as usize
}

/// Whether a call-stack word names the head SchedContext (`call_stack_get_isHead`).
fn stack_is_head(w: u64) -> bool {
    w & CALL_STACK_HEAD_BIT != 0
}

/// The Reply object in `t`'s thread state, if any.
pub fn reply_of(t: TcbRef) -> Option<ReplyRef> {
    let r = t.with(|x| x.reply_object) as usize;
    (r != 0).then(|| ReplyRef::new(r))
}

/// `reply_unlink(reply, tcb)`: cuts the link between a Reply object and the thread blocked
/// with it (receiving or waiting for the reply); the thread becomes Inactive.
pub fn unlink(k: &mut Kernel, reply: ReplyRef, t: TcbRef) {
    debug_assert!(reply.get().tcb == t.addr() as u64);
    reply.with(|r| r.tcb = 0);
    t.with(|x| x.reply_object = 0);
    set_thread_state(k, t, ThreadState::Inactive);
}

/// `reply_push(caller, callee, reply, can_donate)`: the caller waits on `reply` for the
/// callee's answer; if the caller's SchedContext may go along and the callee has none, it is
/// pushed on the call stack and donated to the callee.
pub fn push(k: &mut Kernel, caller: TcbRef, callee: TcbRef, reply: ReplyRef, can_donate: bool) {
    let sc_donated = ScRef::new(caller.with(|x| x.sched_context) as usize);
    debug_assert!(reply.get().tcb == 0 && reply.get().prev == 0 && reply.get().next == 0);
    reply.with(|r| r.tcb = caller.addr() as u64);
    caller.with(|x| x.reply_object = reply.addr() as u64);
    set_thread_state(k, caller, ThreadState::BlockedOnReply);
    if sc_donated.addr() != 0 && callee.with(|x| x.sched_context) == 0 && can_donate {
        let old_caller = sc_donated.with(|s| s.reply) as usize;
        if old_caller != 0 {
            ReplyRef::new(old_caller).with(|r| r.next = stack_reply(reply.addr()));
        }
        reply.with(|r| {
            r.prev = stack_reply(old_caller);
            r.next = stack_head(sc_donated);
        });
        sc_donated.with(|s| s.reply = reply.addr() as u64);
        sched_context::donate(k, sc_donated, callee);
    }
}

/// `reply_pop(reply, tcb)`: the reply at the head of a call stack is answered: the donated
/// SchedContext goes back to the caller `t` (unless it got another one meanwhile) and the
/// stack shrinks by one.
pub fn pop(k: &mut Kernel, reply: ReplyRef, t: TcbRef) {
    let r = reply.get();
    debug_assert!(r.tcb == t.addr() as u64 && stack_is_head(r.next));
    let sc = ScRef::new(stack_ptr(r.next));
    let prev = stack_ptr(r.prev);
    sc.with(|s| s.reply = prev as u64);
    if prev != 0 {
        ReplyRef::new(prev).with(|p| p.next = r.next);
    }
    reply.with(|x| x.next = 0);
    if t.with(|x| x.sched_context) == 0 {
        sched_context::donate(k, sc, t);
    }
    reply.with(|x| x.prev = 0);
    unlink(k, reply, t);
}

/// `reply_remove(reply, tcb)`: `t`, blocked on `reply`, stops waiting for it (the reply is
/// used or cancelled). At the head of the call stack the SchedContext goes back (`pop`);
/// in the middle the stack is cut there.
pub fn remove(k: &mut Kernel, reply: ReplyRef, t: TcbRef) {
    let r = reply.get();
    let (next, prev) = (stack_ptr(r.next), stack_ptr(r.prev));
    if next != 0 && stack_is_head(r.next) {
        pop(k, reply, t);
        return;
    }
    if next != 0 {
        ReplyRef::new(next).with(|n| n.prev = 0);
    }
    if prev != 0 {
        ReplyRef::new(prev).with(|p| p.next = 0);
    }
    reply.with(|x| {
        x.prev = 0;
        x.next = 0;
    });
    unlink(k, reply, t);
}

/// `reply_remove_tcb(tcb)`: `t`, BlockedOnReply, is cancelled: its Reply leaves the call
/// stack without returning any SchedContext.
pub fn remove_tcb(k: &mut Kernel, t: TcbRef) {
    let Some(reply) = reply_of(t) else {
        set_thread_state(k, t, ThreadState::Inactive);
        return;
    };
    let r = reply.get();
    let (next, prev) = (stack_ptr(r.next), stack_ptr(r.prev));
    if next != 0 {
        if stack_is_head(r.next) {
            ScRef::new(next).with(|s| s.reply = 0);
        } else {
            ReplyRef::new(next).with(|n| n.prev = 0);
        }
    }
    if prev != 0 {
        ReplyRef::new(prev).with(|p| p.next = 0);
    }
    reply.with(|x| {
        x.prev = 0;
        x.next = 0;
    });
    unlink(k, reply, t);
}

/// Finalising the last cap to a Reply object (seL4 `finaliseCap` for `cap_reply_cap`): a
/// thread linked with it stops waiting: a caller leaves the call stack and becomes Inactive,
/// a receiver's receive is cancelled.
pub fn finalise(k: &mut Kernel, reply: ReplyRef) {
    let tcb = reply.get().tcb as usize;
    if tcb == 0 {
        return;
    }
    let t = TcbRef::new(tcb);
    match t.state() {
        ThreadState::BlockedOnReply => remove(k, reply, t),
        ThreadState::BlockedOnReceive => crate::ipc::cancel_ipc(k, t),
        _ => {}
    }
}
