//! The one shape of an invocation (seL4 `decodeInvocation` / `performInvocation_*` in
//! `src/object/objecttype.c`).
//!
//! Every object's decoder reads the message through [`InvocationArgs`] and turns it into a
//! typed invocation: every check, in seL4's order, with seL4's error, saying why in a
//! `userError` line (`user_err!`/`user_try!`), and no side effect. The objects' invocations
//! together are [`Invocation`]. The syscall layer (`syscall.rs`) decodes, puts the invoking
//! thread in `Restart`, and performs the invocation in one step that cannot fail (long
//! operations stop at preemption points; the thread stays in `Restart` and the syscall runs
//! again). The architecture's capabilities are decoded and performed by `crate::arch`.
#![forbid(unsafe_code)]

use crate::cap::Cap;
use crate::cte::Slot;
use crate::object::cnode::CNodeInvocation;
use crate::object::domain::DomainInvocation;
use crate::object::endpoint::EpRef;
use crate::object::interrupt::{IrqControlInvocation, IrqHandlerInvocation};
use crate::object::notification::NtfnRef;
#[cfg(not(feature = "mcs"))]
use crate::object::tcb::TcbRef;
use crate::object::untyped::RetypeInvocation;

/// The arguments of an invocation as decoders read them: its message registers and extra
/// caps, already looked up by the syscall layer (`lookupExtraCaps`).
pub trait InvocationArgs {
    /// Message length in words (already limited to what the thread can pass).
    fn len(&self) -> usize;
    /// Whether the message has no words.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Message register `i` (`getSyscallArg`).
    fn mr(&self, i: usize) -> u64;
    /// Extra cap `i`, if present: its cap and slot.
    fn extra_cap(&self, i: usize) -> Option<(Cap, Slot)>;
    /// [`Self::extra_cap`] for the decoders of invocations no fast or measured path makes
    /// (TCB, SchedContext, SchedControl, IRQ and domain invocations): the syscall layer's
    /// arguments decode the cap out of line there, one copy for all of them, where
    /// [`Self::extra_cap`] is inlined into each decoder (about 500 bytes of runtime text).
    fn extra_cap_cold(&self, i: usize) -> Option<(Cap, Slot)> {
        self.extra_cap(i)
    }
    /// The slot of extra cap `i`, if present (for decoders that read the cap themselves or
    /// only test its presence; the syscall layer's arguments then decode nothing).
    fn extra_slot(&self, i: usize) -> Option<Slot> {
        self.extra_cap(i).map(|(_, s)| s)
    }
    /// The CPtr the caller gave for extra cap `i` (named in `userError` lines).
    fn extra_cptr(&self, i: usize) -> u64;
    /// Whether the invocation is a `seL4_Call` (invocations that return values reply only
    /// then).
    fn is_call(&self) -> bool;
}

/// A decoded invocation of a capability that is neither the architecture's nor a thread's
/// (those two are performed where they are decoded, `syscall::decode_and_perform`, so that
/// their large values are not copied into this one): what to do, every argument checked.
#[derive(Clone, Copy, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Invocation {
    /// A CNode invocation (`invokeCNode*`).
    CNode(CNodeInvocation),
    /// `seL4_Untyped_Retype` (`invokeUntyped_Retype`).
    Untyped(RetypeInvocation),
    /// A domain cap invocation (`invokeDomain*`).
    Domain(DomainInvocation),
    /// `seL4_IRQControl_Get*` (`invokeIRQControl`).
    IrqControl(IrqControlInvocation),
    /// An IRQHandler invocation (`invokeIRQHandler_*`).
    IrqHandler(IrqHandlerInvocation),
    /// A send on an endpoint (`performInvocation_Endpoint`, seL4 `sendIPC`).
    Endpoint {
        /// The endpoint.
        ep: EpRef,
        /// The cap's badge.
        badge: u64,
        /// The cap's grant right.
        can_grant: bool,
        /// The cap's grant-reply right.
        can_grant_reply: bool,
        /// `seL4_Send`/`seL4_Call` (block until received), not `seL4_NBSend`.
        block: bool,
        /// `seL4_Call`.
        call: bool,
        /// MCS: the caller's SchedContext may be lent to a passive receiver.
        #[cfg(feature = "mcs")]
        can_donate: bool,
    },
    /// A signal (`performInvocation_Notification`, seL4 `sendSignal`).
    Notification {
        /// The notification.
        ntfn: NtfnRef,
        /// The cap's badge.
        badge: u64,
    },
    /// A reply through a reply cap (`performInvocation_Reply`, seL4 `doReplyTransfer`).
    #[cfg(not(feature = "mcs"))]
    Reply {
        /// The thread waiting for the reply.
        caller: TcbRef,
        /// The reply cap's slot.
        slot: Slot,
        /// The reply cap's grant right.
        can_grant: bool,
    },
    /// MCS: a reply through a Reply object (`performInvocation_Reply`, `doReplyTransfer`).
    #[cfg(feature = "mcs")]
    Reply {
        /// The Reply object.
        reply: crate::object::reply::ReplyRef,
        /// The Reply cap's grant right.
        can_grant: bool,
    },
    /// MCS: a SchedContext invocation (`invokeSchedContext_*`).
    #[cfg(feature = "mcs")]
    SchedContext(crate::object::sched_context::SchedContextInvocation),
    /// MCS: `seL4_SchedControl_ConfigureFlags` (`invokeSchedControl_ConfigureFlags`).
    #[cfg(feature = "mcs")]
    SchedControl(crate::object::sched_control::SchedControlInvocation),
}
