//! Scheduling contexts (MCS; seL4 `src/object/schedcontext.c`, `src/kernel/sporadic.c`,
//! `include/object/structures.h`, manual §6.1 "Scheduling contexts").
//!
//! A SchedContext object is 2^`size_bits` bytes (`seL4_MinSchedContextBits` = 7 at least, the
//! size chosen at retype): a [`SchedContext`] header of 96 bytes, then an array of
//! [`Refill`]s that fills the rest, used as a circular buffer from `refill_head` to
//! `refill_tail`. Times are in timer ticks (`ticks_t`; 10 per µs on this platform).
#![forbid(unsafe_code)]

use crate::mem::PPtr;

/// One refill (`refill_t`): `amount` ticks usable from time `time` on (absolute ticks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Refill {
    /// `rTime`: when the refill becomes usable.
    pub time: u64,
    /// `rAmount`: ticks it holds.
    pub amount: u64,
}

/// The scheduling-context header (`sched_context_t`), 12 words. Links are kernel-virtual
/// addresses, 0 for none.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct SchedContext {
    /// `scPeriod`: ticks; 0 for a round-robin SC (budget = period).
    pub period: u64,
    /// `scConsumed`: ticks used since the last `seL4_SchedContext_Consumed` or timeout fault.
    pub consumed: u64,
    /// `scCore`: the core it provides time on (0: one core).
    pub core: u64,
    /// `scTcb`: the thread it is bound to (or lent to by donation).
    pub tcb: u64,
    /// `scReply`: the most recent Reply object in the call stack it was donated along.
    pub reply: u64,
    /// `scNotification`: the notification it is bound to.
    pub notification: u64,
    /// `scBadge`: the word sent with its timeout faults.
    pub badge: u64,
    /// `scYieldFrom`: the thread that yielded to it (`seL4_SchedContext_YieldTo`).
    pub yield_from: u64,
    /// `scRefillMax`: refills in use at most; 0 while unconfigured.
    pub refill_max: u64,
    /// `scRefillHead`: index of the head refill.
    pub refill_head: u64,
    /// `scRefillTail`: index of the tail refill.
    pub refill_tail: u64,
    /// `scSporadic`: 1 if sporadic (`seL4_SchedContext_Sporadic`), else 0.
    pub sporadic: u64,
}

/// Bytes before the refill array: `seL4_CoreSchedContextBytes` minus `MIN_REFILLS` refills.
pub const HEADER_BYTES: u64 = abi::object::CORE_SCHED_CONTEXT_BYTES - MIN_REFILLS * REFILL_BYTES;
/// `seL4_RefillSizeBytes`.
pub const REFILL_BYTES: u64 = abi::object::REFILL_SIZE_BYTES;
/// `MIN_REFILLS`: every configured SC has room for at least two refills.
pub const MIN_REFILLS: u64 = 2;

const _: () = assert!(core::mem::size_of::<SchedContext>() as u64 == HEADER_BYTES);
const _: () = assert!(core::mem::size_of::<Refill>() as u64 == REFILL_BYTES);

/// `refill_absolute_max`: how many refills a SchedContext of 2^`size_bits` bytes holds.
pub const fn refill_slots(size_bits: u64) -> u64 {
    ((1u64 << size_bits) - HEADER_BYTES) / REFILL_BYTES
}

/// A scheduling context in object memory.
pub type ScRef = PPtr<SchedContext>;

impl ScRef {
    /// The `i`-th slot of the refill array.
    #[inline(always)]
    pub fn refill(self, i: u64) -> PPtr<Refill> {
        self.byte_add::<Refill>(HEADER_BYTES as usize)
            .add(i as usize)
    }
}

// ---- LEAD-STUB: placeholders until the SchedContext work (branch mcs-time) lands; each is
// replaced by the real seL4 algorithm there. Not reachable from a booted system yet (no MCS
// boot).
use crate::object::tcb::TcbRef;
use crate::state::Kernel;

/// `schedContext_donate(sc, to)`.
pub fn donate(_k: &mut Kernel, sc: ScRef, to: TcbRef) {
    let from = sc.get().tcb as usize;
    if from != 0 {
        TcbRef::new(from).with(|x| x.sched_context = 0);
    }
    sc.with(|s| s.tcb = to.addr() as u64);
    to.with(|x| x.sched_context = sc.addr() as u64);
}
/// `schedContext_resume(sc)`.
pub fn resume(_k: &mut Kernel, _sc: ScRef) {}
/// `refill_unblock_check` on `t`'s SchedContext if it is sporadic and not the current one.
pub fn unblock_check_unless_current(_k: &mut Kernel, _t: TcbRef) {}
/// `refill_ready(sc)`.
pub fn refill_ready(_k: &Kernel, _sc: ScRef) -> bool {
    true
}
/// `refill_sufficient(sc, usage)`.
pub fn refill_sufficient(_sc: ScRef, _usage: u64) -> bool {
    true
}
/// `refill_head(sc)`.
pub fn refill_head(sc: ScRef) -> Refill {
    sc.refill(sc.get().refill_head).get()
}
/// `schedContext_updateConsumed(sc)`: µs.
pub fn update_consumed(_k: &mut Kernel, sc: ScRef) -> u64 {
    sc.with(|s| core::mem::take(&mut s.consumed)) / 10
}
/// `schedContextMaybeUnbindNtfn(ntfn)`.
pub fn maybe_unbind_ntfn(_k: &mut Kernel, _n: crate::object::notification::NtfnRef) {}
/// Finalising the last cap to a SchedContext.
pub fn finalise(_k: &mut Kernel, _sc: ScRef) {}
/// A decoded SchedContext invocation.
#[derive(Clone, Copy, Debug)]
pub enum SchedContextInvocation {}
/// `decodeSchedContextInvocation`.
pub fn decode_sched_context_invocation(
    _k: &mut Kernel,
    _label: abi::InvocationLabel,
    _args: &impl crate::invocation::InvocationArgs,
    _sc: ScRef,
) -> Result<SchedContextInvocation, crate::error::SyscallError> {
    Err(crate::error::SyscallError::IllegalOperation)
}
/// `invokeSchedContext_*`.
pub fn invoke_sched_context(_k: &mut Kernel, i: SchedContextInvocation, _t: TcbRef, _call: bool) {
    match i {}
}
