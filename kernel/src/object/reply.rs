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
