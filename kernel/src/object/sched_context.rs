//! Scheduling contexts (MCS; seL4 `src/object/schedcontext.c`, `src/kernel/sporadic.c`,
//! `include/kernel/sporadic.h`, `include/object/structures.h`, manual §6.1 "Scheduling
//! contexts").
//!
//! A SchedContext object is 2^`size_bits` bytes (`seL4_MinSchedContextBits` = 7 at least, the
//! size chosen at retype): a [`SchedContext`] header of 96 bytes, then an array of
//! [`Refill`]s that fills the rest, used as a circular buffer from `refill_head` to
//! `refill_tail` (at most `refill_max` entries; always at least one). Times are in timer ticks
//! (`ticks_t`; `crate::arch::us_to_ticks` converts the µs of the ABI).
//!
//! The refill algorithm is seL4's sporadic server (Stanovich et al., "Defects of the POSIX
//! sporadic server and how to correct them"): the amounts of all refills add up to the budget;
//! time used is cut from the head and comes back one period after the head's time as a new
//! refill at the tail (merged into the tail when the buffer is full); the head is kept at
//! least [`MIN_BUDGET`] long by merging. Round-robin SCs (budget = period, stored period 0)
//! keep exactly two refills: the head holds what is left, the tail what was used.
//!
//! The binding operations (TCB, notification, donation, yield-to), the SchedContext
//! invocations ([`decode_sched_context_invocation`] → [`SchedContextInvocation`] →
//! [`invoke_sched_context`]) and the finalisation of the last cap ([`finalise`]) are here too;
//! the scheduler's side (charging, the release queue, the timer) is `crate::sched::mcs`.
#![forbid(unsafe_code)]

use crate::arch::{regs, ticks_to_us, us_to_ticks, KERNEL_WCET_TICKS, KERNEL_WCET_US};
use crate::cap::Cap;
use crate::error::SyscallError;
use crate::invocation::InvocationArgs;
use crate::mem::{Link, PPtr};
use crate::object::notification::{Notification, NtfnRef};
use crate::object::reply::{CallStack, Reply};
use crate::object::tcb::{Tcb, TcbRef, ThreadState};
use crate::sched::mcs::{postpone, release_remove};
use crate::sched::{
    is_schedulable, reschedule_required, sched_dequeue, sched_enqueue, set_thread_state,
    SchedulerAction,
};
use crate::state::{ipc_buffer_pptr, set_mr, Kernel};
use crate::user_err;
use abi::config::KERNEL_WCET_SCALE;
use abi::{InvocationLabel, MessageInfo};

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
    pub tcb: Link<Tcb>,
    /// `scReply`: the most recent Reply object in the call stack it was donated along.
    pub reply: Link<Reply>,
    /// `scNotification`: the notification it is bound to.
    pub notification: Link<Notification>,
    /// `scBadge`: the word sent with its timeout faults.
    pub badge: u64,
    /// `scYieldFrom`: the thread that yielded to it (`seL4_SchedContext_YieldTo`).
    pub yield_from: Link<Tcb>,
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
        self.trailing::<Refill>(i as usize)
    }
}

/// `seL4_SchedContext_Sporadic`: the only ConfigureFlags flag.
pub const SCHED_CONTEXT_SPORADIC: u64 = 1;

/// `MIN_BUDGET_US`: a thread needs at least this much budget to enter and leave the kernel
/// (`2 * getKernelWcetUs() * CONFIG_KERNEL_WCET_SCALE`): 20 µs.
pub const MIN_BUDGET_US: u64 = 2 * KERNEL_WCET_US * KERNEL_WCET_SCALE;
/// `MIN_BUDGET` in ticks: 200.
pub const MIN_BUDGET: u64 = 2 * KERNEL_WCET_TICKS * KERNEL_WCET_SCALE;
/// `MAX_PERIOD_US` (`CONFIG_KERNEL_STATIC_MAX_PERIOD_US` 0: `getMaxUsToTicks() / 8`), the
/// largest budget or period ConfigureFlags takes.
pub const MAX_PERIOD_US: u64 = crate::arch::MAX_US_TO_TICKS / 8;
/// `MAX_RELEASE_TIME`: refills are never pushed past this time (keeps `time + 5 periods` from
/// overflowing).
pub const MAX_RELEASE_TIME: u64 = u64::MAX - 5 * us_to_ticks(MAX_PERIOD_US);

// ---------------------------------------------------------------------------------------------
// The refill buffer (include/kernel/sporadic.h, src/kernel/sporadic.c)
// ---------------------------------------------------------------------------------------------

/// `refill_head`: the head refill's slot.
#[inline(always)]
pub fn refill_head(sc: ScRef) -> PPtr<Refill> {
    sc.refill(sc.with(|s| s.refill_head))
}

/// `refill_tail`: the tail refill's slot.
#[inline(always)]
pub fn refill_tail(sc: ScRef) -> PPtr<Refill> {
    sc.refill(sc.with(|s| s.refill_tail))
}

/// `refill_next`: the index after `index` in the circular buffer.
#[inline(always)]
fn refill_next(sc: ScRef, index: u64) -> u64 {
    let max = sc.with(|s| s.refill_max);
    if index == max.wrapping_sub(1) {
        0
    } else {
        index + 1
    }
}

/// `refill_size`: refills in use.
pub fn refill_size(sc: ScRef) -> u64 {
    let (head, tail, max) = sc.with(|s| (s.refill_head, s.refill_tail, s.refill_max));
    if head <= tail {
        tail - head + 1
    } else {
        tail + 1 + max.wrapping_sub(head)
    }
}

/// `refill_full`: every slot up to `refill_max` is in use.
pub fn refill_full(sc: ScRef) -> bool {
    refill_size(sc) == sc.with(|s| s.refill_max)
}

/// `refill_single`: one refill in use (head = tail).
pub fn refill_single(sc: ScRef) -> bool {
    sc.with(|s| s.refill_head == s.refill_tail)
}

/// `refill_capacity`: what is left of the head refill after charging `usage` (0 if it does
/// not cover it).
#[inline(always)]
pub fn refill_capacity(sc: ScRef, usage: u64) -> u64 {
    refill_head(sc).get().amount.saturating_sub(usage)
}

/// `refill_sufficient`: the head refill still holds [`MIN_BUDGET`] after charging `usage`
/// (enough to enter and leave the kernel).
#[inline(always)]
pub fn refill_sufficient(sc: ScRef, usage: u64) -> bool {
    refill_capacity(sc, usage) >= MIN_BUDGET
}

/// `refill_ready`: the head refill may be used at time `now` (`ksCurTime`).
#[inline(always)]
pub fn refill_ready(sc: ScRef, now: u64) -> bool {
    refill_head(sc).get().time <= now
}

/// `sc_active`: configured (ConfigureFlags ran since it was created or finalised).
#[inline(always)]
pub fn sc_active(sc: ScRef) -> bool {
    sc.with(|s| s.refill_max) > 0
}

/// `sc_released`: active, and the head refill is ready at `now`.
pub fn sc_released(sc: ScRef, now: u64) -> bool {
    if sc_active(sc) {
        debug_assert!(refill_sufficient(sc, 0));
        refill_ready(sc, now)
    } else {
        false
    }
}

/// `sc_sporadic`: a non-null SC configured with `seL4_SchedContext_Sporadic` (its refills
/// are delayed when its thread wakes up).
#[inline(always)]
pub fn sc_sporadic(sc: ScRef) -> bool {
    !sc.is_null() && sc.with(|s| s.sporadic) != 0
}

/// `sc_constant_bandwidth`: not sporadic (refills delayed when its thread becomes current).
#[inline(always)]
pub fn sc_constant_bandwidth(sc: ScRef) -> bool {
    sc.with(|s| s.sporadic) == 0
}

/// `isRoundRobin`: budget = period (stored period 0).
#[inline(always)]
pub fn is_round_robin(sc: ScRef) -> bool {
    sc.with(|s| s.period) == 0
}

/// `refill_sum`: the amounts of all refills in use (= the budget, an invariant).
pub fn refill_sum(sc: ScRef) -> u64 {
    let tail = sc.with(|s| s.refill_tail);
    let mut current = sc.with(|s| s.refill_head);
    let mut sum = sc.refill(current).get().amount;
    while current != tail {
        current = refill_next(sc, current);
        sum += sc.refill(current).get().amount;
    }
    sum
}

/// `refill_ordered`: each refill ends no later than the next one starts (round robin: always).
pub fn refill_ordered(sc: ScRef) -> bool {
    if is_round_robin(sc) {
        return true;
    }
    let tail = sc.with(|s| s.refill_tail);
    let mut current = sc.with(|s| s.refill_head);
    while current != tail {
        let next = refill_next(sc, current);
        let (c, n) = (sc.refill(current).get(), sc.refill(next).get());
        if c.time + c.amount > n.time {
            return false;
        }
        current = next;
    }
    true
}

/// `refill_pop_head`: removes and returns the head refill (never the last one).
fn refill_pop_head(sc: ScRef) -> Refill {
    debug_assert!(!refill_single(sc));
    let refill = refill_head(sc).get();
    let head = sc.with(|s| s.refill_head);
    let next = refill_next(sc, head);
    sc.with(|s| s.refill_head = next);
    refill
}

/// `refill_add_tail`: appends a refill (there is room).
fn refill_add_tail(sc: ScRef, refill: Refill) {
    debug_assert!(refill_size(sc) < sc.with(|s| s.refill_max));
    let tail = sc.with(|s| s.refill_tail);
    let new_tail = refill_next(sc, tail);
    sc.with(|s| s.refill_tail = new_tail);
    sc.refill(new_tail).set(refill);
}

/// `maybe_add_empty_tail`: a round-robin SC gets an empty tail refill, where the time it used
/// is kept.
fn maybe_add_empty_tail(sc: ScRef) {
    if is_round_robin(sc) {
        let time = refill_head(sc).get().time;
        refill_add_tail(sc, Refill { time, amount: 0 });
        debug_assert_eq!(refill_size(sc), MIN_REFILLS);
    }
}

/// `refill_new`: (re)configures an SC that is not in use: `budget` (≥ [`MIN_BUDGET`]) usable
/// from `now` in one refill, at most `max_refills` refills, `period` (0: round robin).
pub fn refill_new(sc: ScRef, max_refills: u64, budget: u64, period: u64, now: u64) {
    sc.with(|s| {
        s.period = period;
        s.refill_head = 0;
        s.refill_tail = 0;
        s.refill_max = max_refills;
    });
    debug_assert!(budget >= MIN_BUDGET);
    sc.refill(0).set(Refill {
        time: now,
        amount: budget,
    });
    maybe_add_empty_tail(sc);
    debug_assert_eq!(refill_sum(sc), budget);
}

/// `refill_update`: reconfigures an active SC whose thread may be running without giving it
/// more than `new_budget` in any window of `new_period`: the head refill is kept (cut to the
/// new budget), the rest of the new budget comes a period after it.
pub fn refill_update(sc: ScRef, new_period: u64, new_budget: u64, new_max_refills: u64, now: u64) {
    debug_assert!(sc_active(sc));
    // Move the head to slot 0 and truncate the buffer to it, so that no index is out of range
    // once the maximum changes.
    let head = refill_head(sc).get();
    sc.refill(0).set(head);
    sc.with(|s| {
        s.refill_head = 0;
        s.refill_tail = 0;
        s.refill_max = new_max_refills;
        s.period = new_period;
    });
    if refill_ready(sc, now) {
        sc.refill(0).with(|r| r.time = now);
    }
    let head = sc.refill(0).get();
    if head.amount >= new_budget {
        sc.refill(0).with(|r| r.amount = new_budget);
        maybe_add_empty_tail(sc);
    } else {
        refill_add_tail(
            sc,
            Refill {
                amount: new_budget - head.amount,
                time: head.time + new_period,
            },
        );
    }
    debug_assert_eq!(refill_sum(sc), new_budget);
}

/// `schedule_used`: the time in `new` comes back at its time: merged into the tail if they
/// touch or overlap, else appended, else (buffer full) the tail is delayed and merged with it.
fn schedule_used(sc: ScRef, new: Refill) {
    let tail = refill_tail(sc).get();
    if tail.time + tail.amount >= new.time {
        refill_tail(sc).with(|r| r.amount = tail.amount + new.amount);
    } else if !refill_full(sc) {
        refill_add_tail(sc, new);
    } else {
        refill_tail(sc).with(|r| {
            r.time = new.time - tail.amount;
            r.amount = tail.amount + new.amount;
        });
    }
}

/// `refill_head_overlapping`: the refill after the head starts before the head ends.
fn refill_head_overlapping(sc: ScRef) -> bool {
    if refill_single(sc) {
        return false;
    }
    let head = refill_head(sc).get();
    let next = refill_next(sc, sc.with(|s| s.refill_head));
    sc.refill(next).get().time <= head.time + head.amount
}

/// `head_refill_overrun`: `usage` uses up the whole head refill (and the head is not at the
/// end of time).
fn head_refill_overrun(sc: ScRef, usage: u64) -> bool {
    let head = refill_head(sc).get();
    head.amount <= usage && head.time < MAX_RELEASE_TIME
}

/// `charge_entire_head_refill`: the head refill is used up: it comes back a period later.
/// Returns the usage left to charge.
fn charge_entire_head_refill(sc: ScRef, usage: u64) -> u64 {
    let head = refill_head(sc).get();
    let period = sc.with(|s| s.period);
    if refill_single(sc) {
        refill_head(sc).with(|r| r.time = head.time + period);
    } else {
        let mut old_head = refill_pop_head(sc);
        old_head.time += period;
        schedule_used(sc, old_head);
    }
    usage - head.amount
}

/// `handle_overrun`: charges whole head refills while `usage` covers them.
fn handle_overrun(sc: ScRef, usage: u64) -> u64 {
    let mut usage = usage;
    while head_refill_overrun(sc, usage) {
        usage = charge_entire_head_refill(sc, usage);
    }
    usage
}

/// `merge_nonoverlapping_head_refill`: the head is too short: it joins the next refill, which
/// starts earlier by as much (so it ends no later).
fn merge_nonoverlapping_head_refill(sc: ScRef) {
    let head = refill_pop_head(sc);
    refill_head(sc).with(|r| {
        r.amount += head.amount;
        r.time -= head.amount;
    });
}

/// `refill_budget_check`: charges `usage` ticks to `sc` (seL4: `ksCurSC`, not round robin):
/// whole head refills it covers come back a period later, the rest is cut from the head and
/// comes back a period after the head's time; then the head is merged forward until it holds
/// at least [`MIN_BUDGET`].
pub fn refill_budget_check(sc: ScRef, usage: u64) {
    debug_assert!(!is_round_robin(sc));
    #[cfg(debug_assertions)]
    let sum = refill_sum(sc);
    let usage = handle_overrun(sc, usage);
    let head = refill_head(sc).get();
    if usage > 0 && head.time < MAX_RELEASE_TIME {
        debug_assert!(head.amount > usage);
        let period = sc.with(|s| s.period);
        let used = Refill {
            amount: usage,
            time: head.time + period,
        };
        refill_head(sc).with(|r| {
            r.amount = head.amount - usage;
            // Keep the head no more than a period before the tail, so that new refills are
            // never added before the tail.
            r.time = head.time + usage;
        });
        schedule_used(sc, used);
    }
    while refill_head(sc).get().amount < MIN_BUDGET && !refill_single(sc) {
        merge_nonoverlapping_head_refill(sc);
    }
    #[cfg(debug_assertions)]
    {
        debug_assert_eq!(refill_sum(sc), sum);
        debug_assert!(refill_ordered(sc));
    }
}

/// `merge_overlapping_head_refill`: the head absorbs the next refill, keeping its own time.
fn merge_overlapping_head_refill(sc: ScRef) {
    let old_head = refill_pop_head(sc);
    refill_head(sc).with(|r| {
        r.time = old_head.time;
        r.amount += old_head.amount;
    });
}

/// `refill_unblock_check`: the SC's thread becomes runnable at `now`: if the head refill is
/// ready it starts now, and refills it overlaps merge into it (round robin: nothing). Returns
/// whether the head moved (seL4 then sets `ksReprogram`).
pub fn refill_unblock_check(sc: ScRef, now: u64) -> bool {
    if is_round_robin(sc) {
        return false;
    }
    #[cfg(debug_assertions)]
    let sum = refill_sum(sc);
    let mut moved = false;
    if refill_ready(sc, now) {
        refill_head(sc).with(|r| r.time = now);
        moved = true;
        while refill_head_overlapping(sc) {
            merge_overlapping_head_refill(sc);
        }
        debug_assert!(refill_sufficient(sc, 0));
    }
    #[cfg(debug_assertions)]
    {
        debug_assert_eq!(refill_sum(sc), sum);
        debug_assert!(refill_ordered(sc));
    }
    moved
}

// ---------------------------------------------------------------------------------------------
// Binding (src/object/schedcontext.c)
// ---------------------------------------------------------------------------------------------

/// The scheduling context of `t` (`tcbSchedContext`; null for none and for the idle thread).
#[inline(always)]
pub fn tcb_sc(t: TcbRef) -> ScRef {
    if t.is_null() {
        return ScRef::NULL;
    }
    t.with(|x| x.sched_context).get().unwrap_or(ScRef::NULL)
}

/// The thread `sc` is bound to (`scTcb`; null for none).
#[inline(always)]
pub fn sc_tcb(sc: ScRef) -> TcbRef {
    sc.with(|s| s.tcb).get().unwrap_or(TcbRef::NULL)
}

/// What the IPC paths do for a thread that wakes up (seL4 `endpoint.c`, `notification.c`,
/// `restart`): if its SchedContext is sporadic and not the current one, its refills are
/// brought up to date (`refill_unblock_check`); the timer is reprogrammed if they changed.
pub fn unblock_check_unless_current(k: &mut Kernel, t: TcbRef) {
    let sc = tcb_sc(t);
    if !sc.is_null() && sc_sporadic(sc) && sc != k.cur_sc && refill_unblock_check(sc, k.cur_time) {
        k.reprogram = true;
    }
}

/// `schedContext_resume`: `sc`'s thread is schedulable but its head refill is not ready or
/// too short: it goes to the release queue.
pub fn resume(k: &mut Kernel, sc: ScRef) {
    if sc.is_null() {
        return;
    }
    let tcb = sc_tcb(sc);
    debug_assert!(!tcb.is_null());
    if is_schedulable(tcb) && !(refill_ready(sc, k.cur_time) && refill_sufficient(sc, 0)) {
        debug_assert!(tcb.with(|x| x.queued) == 0);
        postpone(k, sc);
    }
}

/// `schedContext_bindTCB`: binds `sc` and `tcb` (neither bound); a sporadic SC's refills are
/// brought up to date, and the thread is queued if it can run now.
pub fn bind_tcb(k: &mut Kernel, sc: ScRef, tcb: TcbRef) {
    debug_assert!(sc.with(|s| s.tcb).is_none());
    debug_assert!(tcb.with(|x| x.sched_context).is_none());
    tcb.with(|x| x.sched_context = Link::to(sc));
    sc.with(|s| s.tcb = Link::to(tcb));
    if sc_sporadic(sc) && sc_active(sc) && sc != k.cur_sc && refill_unblock_check(sc, k.cur_time) {
        k.reprogram = true;
    }
    resume(k, sc);
    if is_schedulable(tcb) {
        sched_enqueue(k, tcb);
        reschedule_required(k);
    }
}

/// `schedContext_unbindTCB`: unbinds `sc` from its thread (there is one), which leaves the
/// ready and release queues.
pub fn unbind_tcb(k: &mut Kernel, sc: ScRef) {
    let tcb = sc_tcb(sc);
    debug_assert!(!tcb.is_null());
    if tcb.is_null() {
        return;
    }
    if tcb == k.cur_thread {
        reschedule_required(k);
    }
    sched_dequeue(k, tcb);
    release_remove(k, tcb);
    tcb.with(|x| x.sched_context = Link::NONE);
    sc.with(|s| s.tcb = Link::NONE);
}

/// `schedContext_unbindAllTCBs`: unbinds `sc`'s thread if it has one.
pub fn unbind_all_tcbs(k: &mut Kernel, sc: ScRef) {
    if sc.with(|s| s.tcb).is_some() {
        unbind_tcb(k, sc);
    }
}

/// `schedContext_donate`: `sc` moves from its thread (if any) to `to`, which has none
/// (IPC donation).
pub fn donate(k: &mut Kernel, sc: ScRef, to: TcbRef) {
    debug_assert!(!sc.is_null() && !to.is_null());
    debug_assert!(to.with(|x| x.sched_context).is_none());
    let from = sc_tcb(sc);
    if !from.is_null() {
        sched_dequeue(k, from);
        release_remove(k, from);
        from.with(|x| x.sched_context = Link::NONE);
        if from == k.cur_thread || k.sched.action == SchedulerAction::SwitchToThread(from) {
            reschedule_required(k);
        }
    }
    sc.with(|s| s.tcb = Link::to(to));
    to.with(|x| x.sched_context = Link::to(sc));
}

/// `schedContext_bindNtfn`: binds `sc` and `ntfn` (neither bound).
pub fn bind_ntfn(sc: ScRef, ntfn: NtfnRef) {
    ntfn.0.with(|n| n.sched_context = Link::to(sc));
    sc.with(|s| s.notification = Link::to(ntfn.0));
}

/// `schedContext_unbindNtfn`: unbinds `sc` from its notification, if any.
pub fn unbind_ntfn(sc: ScRef) {
    if sc.is_null() {
        return;
    }
    if let Some(n) = sc.with(|s| s.notification).get() {
        n.with(|n| n.sched_context = Link::NONE);
        sc.with(|s| s.notification = Link::NONE);
    }
}

/// `schedContextMaybeUnbindNtfn`: unbinds the SC bound to `ntfn`, if any (notification
/// finalisation).
pub fn maybe_unbind_ntfn(ntfn: NtfnRef) {
    if let Some(sc) = ntfn.0.with(|n| n.sched_context).get() {
        unbind_ntfn(sc);
    }
}

/// `schedContext_unbindReply`: cuts the call stack at `sc`: the Reply it was donated along
/// no longer names it.
pub fn unbind_reply(sc: ScRef) {
    if sc.is_null() {
        return;
    }
    if let Some(reply) = sc.with(|s| s.reply).get() {
        debug_assert!(reply.with(|x| x.next).a().is_some());
        reply.with(|x| x.next = CallStack::NONE);
        sc.with(|s| s.reply = Link::NONE);
    }
}

/// `schedContext_updateConsumed`: the time `sc` consumed since the last call, in µs (at most
/// what `ticksToUs` takes; the rest stays), and resets it.
#[allow(clippy::absurd_extreme_comparisons)] // MAX_TICKS_TO_US is u64::MAX on this platform
pub fn update_consumed(sc: ScRef) -> u64 {
    let consumed = sc.with(|s| s.consumed);
    if consumed >= crate::arch::MAX_TICKS_TO_US {
        sc.with(|s| s.consumed -= crate::arch::MAX_TICKS_TO_US);
        ticks_to_us(crate::arch::MAX_TICKS_TO_US)
    } else {
        sc.with(|s| s.consumed = 0);
        ticks_to_us(consumed)
    }
}

/// `setConsumed`: takes `sc`'s consumed time and, if `write_msg`, replies it to `thread`
/// (`replyFromKernel_consumed`: label 0, badge 0, one word).
fn set_consumed(sc: ScRef, thread: TcbRef, write_msg: bool) {
    let consumed = update_consumed(sc);
    if write_msg {
        let buffer = ipc_buffer_pptr(thread, true);
        thread.set_reg(regs::BADGE, 0);
        let len = set_mr(thread, buffer, 0, consumed) as u64;
        thread.set_reg(regs::MSG_INFO, MessageInfo::new(0, 0, 0, len).0);
    }
}

/// `schedContext_cancelYieldTo`: `tcb` no longer yields to an SC.
pub fn cancel_yield_to(tcb: TcbRef) {
    if tcb.is_null() {
        return;
    }
    if let Some(to) = tcb.with(|x| x.yield_to).get() {
        to.with(|s| s.yield_from = Link::NONE);
        tcb.with(|x| x.yield_to = Link::NONE);
    }
}

/// `schedContext_completeYieldTo`: the `seL4_SchedContext_YieldTo` of `yielder` ends: it gets
/// the consumed time of the SC it yielded to as its reply.
pub fn complete_yield_to(yielder: TcbRef) {
    if yielder.is_null() {
        return;
    }
    if let Some(to) = yielder.with(|x| x.yield_to).get() {
        set_consumed(to, yielder, true);
        cancel_yield_to(yielder);
    }
}

/// What `finaliseCap` does with the last cap to a scheduling context: unbinds its thread,
/// notification and call stack, completes a yield to it, and marks it unconfigured.
pub fn finalise(k: &mut Kernel, sc: ScRef) {
    unbind_all_tcbs(k, sc);
    unbind_ntfn(sc);
    unbind_reply(sc);
    if let Some(from) = sc.with(|s| s.yield_from).get() {
        complete_yield_to(from);
    }
    sc.with(|s| {
        s.refill_max = 0;
        s.sporadic = 0;
    });
}

/// `configure_sched_context` (boot): binds `sc` to `tcb` with a round-robin budget of
/// `timeslice` ticks from `k.cur_time`.
pub fn configure_sched_context(k: &Kernel, tcb: TcbRef, sc: ScRef, timeslice: u64) {
    tcb.with(|x| x.sched_context = Link::to(sc));
    refill_new(sc, MIN_REFILLS, timeslice, 0, k.cur_time);
    sc.with(|s| s.tcb = Link::to(tcb));
}

/// The root thread's scheduling context (`create_initial_thread`): `CONFIG_BOOT_THREAD_TIME_SLICE`
/// ms round robin, starting at the current time (which it reads into `k.cur_time`).
pub fn configure_root(k: &mut Kernel, tcb: TcbRef, sc: ScRef) {
    k.cur_time = crate::arch::get_current_time();
    let slice = us_to_ticks(abi::config::BOOT_THREAD_TIME_SLICE * 1000);
    configure_sched_context(k, tcb, sc, slice);
}

// ---------------------------------------------------------------------------------------------
// Invocations
// ---------------------------------------------------------------------------------------------

/// The object a SchedContext Bind or UnbindObject names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScObject {
    /// A thread.
    Tcb(TcbRef),
    /// A notification.
    Notification(NtfnRef),
}

/// A decoded SchedContext invocation (`decodeSchedContextInvocation`).
#[derive(Clone, Copy, Debug)]
pub enum SchedContextInvocation {
    /// `seL4_SchedContext_Consumed`.
    Consumed(ScRef),
    /// `seL4_SchedContext_Bind`.
    Bind(ScRef, ScObject),
    /// `seL4_SchedContext_UnbindObject`.
    UnbindObject(ScRef, ScObject),
    /// `seL4_SchedContext_Unbind`.
    Unbind(ScRef),
    /// `seL4_SchedContext_YieldTo`.
    YieldTo(ScRef),
}

/// `isBlocked`.
fn is_blocked(t: TcbRef) -> bool {
    matches!(
        t.state(),
        ThreadState::BlockedOnReceive
            | ThreadState::BlockedOnSend
            | ThreadState::BlockedOnNotification
            | ThreadState::BlockedOnReply
    )
}

/// `decodeSchedContextInvocation` for the SchedContext `sc` invoked by `thread` (the current
/// thread), in seL4's order:
/// - Consumed: no checks.
/// - Bind: `TruncatedMessage` (no extra cap); thread: `IllegalOperation` (SC bound to a
///   thread, thread has an SC, thread blocked and the SC not released); notification:
///   `IllegalOperation` (SC bound to a notification, notification has an SC); any other cap
///   `InvalidCapability(1)`.
/// - UnbindObject: `TruncatedMessage`; thread: `IllegalOperation` (not the SC's thread, or the
///   invoker's own); notification: `IllegalOperation` (not the SC's); else
///   `InvalidCapability(1)`.
/// - Unbind: `IllegalOperation` if the SC is the invoker's.
/// - YieldTo: `IllegalOperation` (no thread, its own thread, the thread's priority above the
///   invoker's MCP, the invoker already yielding).
/// - Other labels: `IllegalOperation`.
pub fn decode_sched_context_invocation(
    k: &Kernel,
    label: InvocationLabel,
    args: &impl InvocationArgs,
    sc: ScRef,
    thread: TcbRef,
) -> Result<SchedContextInvocation, SyscallError> {
    match label {
        InvocationLabel::SchedContextConsumed => Ok(SchedContextInvocation::Consumed(sc)),
        InvocationLabel::SchedContextBind => {
            let Some((cap, _)) = args.extra_cap_cold(0) else {
                return Err(user_err!(
                    SyscallError::TruncatedMessage,
                    "SchedContext_Bind: Truncated Message."
                ));
            };
            match cap {
                Cap::Thread { tcb } => {
                    if sc.with(|s| s.tcb).is_some() {
                        return Err(user_err!(
                            SyscallError::IllegalOperation,
                            "SchedContext_Bind: sched context already bound."
                        ));
                    }
                    if tcb.with(|x| x.sched_context).is_some() {
                        return Err(user_err!(
                            SyscallError::IllegalOperation,
                            "SchedContext_Bind: tcb already bound."
                        ));
                    }
                    if is_blocked(tcb) && !sc_released(sc, k.cur_time) {
                        return Err(user_err!(
                            SyscallError::IllegalOperation,
                            "SchedContext_Bind: tcb blocked and scheduling context not schedulable."
                        ));
                    }
                    Ok(SchedContextInvocation::Bind(sc, ScObject::Tcb(tcb)))
                }
                Cap::Notification { ptr: ntfn, .. } => {
                    if sc.with(|s| s.notification).is_some() {
                        return Err(user_err!(
                            SyscallError::IllegalOperation,
                            "SchedContext_Bind: sched context already bound."
                        ));
                    }
                    if ntfn.0.with(|n| n.sched_context).is_some() {
                        return Err(user_err!(
                            SyscallError::IllegalOperation,
                            "SchedContext_Bind: notification already bound"
                        ));
                    }
                    Ok(SchedContextInvocation::Bind(
                        sc,
                        ScObject::Notification(ntfn),
                    ))
                }
                _ => Err(user_err!(
                    SyscallError::InvalidCapability(1),
                    "SchedContext_Bind: invalid cap."
                )),
            }
        }
        InvocationLabel::SchedContextUnbindObject => {
            let Some((cap, _)) = args.extra_cap_cold(0) else {
                return Err(user_err!(
                    SyscallError::TruncatedMessage,
                    "SchedContext_Unbind: Truncated message."
                ));
            };
            match cap {
                Cap::Thread { tcb } => {
                    if !sc.with(|s| s.tcb).is(tcb) {
                        return Err(user_err!(
                            SyscallError::IllegalOperation,
                            "SchedContext UnbindObject: object not bound"
                        ));
                    }
                    if tcb == thread {
                        return Err(user_err!(
                            SyscallError::IllegalOperation,
                            "SchedContext UnbindObject: cannot unbind sc of current thread"
                        ));
                    }
                    Ok(SchedContextInvocation::UnbindObject(sc, ScObject::Tcb(tcb)))
                }
                Cap::Notification { ptr, .. } => {
                    if !sc.with(|s| s.notification).is(ptr.0) {
                        return Err(user_err!(
                            SyscallError::IllegalOperation,
                            "SchedContext UnbindObject: object not bound"
                        ));
                    }
                    Ok(SchedContextInvocation::UnbindObject(
                        sc,
                        ScObject::Notification(ptr),
                    ))
                }
                _ => Err(user_err!(
                    SyscallError::InvalidCapability(1),
                    "SchedContext_Unbind: invalid cap"
                )),
            }
        }
        InvocationLabel::SchedContextUnbind => {
            if sc.with(|s| s.tcb).is(thread) {
                return Err(user_err!(
                    SyscallError::IllegalOperation,
                    "SchedContext UnbindObject: cannot unbind sc of current thread"
                ));
            }
            Ok(SchedContextInvocation::Unbind(sc))
        }
        InvocationLabel::SchedContextYieldTo => {
            let tcb = sc_tcb(sc);
            if tcb.is_null() {
                return Err(user_err!(
                    SyscallError::IllegalOperation,
                    "SchedContext_YieldTo: cannot yield to an inactive sched context"
                ));
            }
            if tcb == thread {
                return Err(user_err!(
                    SyscallError::IllegalOperation,
                    "SchedContext_YieldTo: cannot seL4_SchedContext_YieldTo on self"
                ));
            }
            let (prio, mcp) = (tcb.with(|x| x.priority), thread.with(|x| x.mcp));
            if prio > mcp {
                return Err(user_err!(
                    SyscallError::IllegalOperation,
                    "SchedContext_YieldTo: insufficient mcp ({mcp}) to yield to a thread with prio ({prio})"
                ));
            }
            if thread.with(|x| x.yield_to).is_some() {
                return Err(user_err!(
                    SyscallError::IllegalOperation,
                    "SchedContext_YieldTo: cannot seL4_SchedContext_YieldTo to more than on SC at a time"
                ));
            }
            Ok(SchedContextInvocation::YieldTo(sc))
        }
        _ => Err(user_err!(
            SyscallError::IllegalOperation,
            "SchedContext invocation: Illegal operation attempted."
        )),
    }
}

/// Performs a decoded SchedContext invocation of `thread` (in `Restart`; `call`: it came with
/// `seL4_Call`, so Consumed and YieldTo reply with the consumed µs). Consumed, and a YieldTo
/// that returns at once, leave `thread` `Running` (they replied). A YieldTo that switches to
/// the SC's thread and the other invocations leave it in `Restart`, which the syscall layer
/// turns into `Running` with an empty reply (seL4's `handleInvocation`); for that YieldTo,
/// [`complete_yield_to`] writes the consumed time into the yielder's reply registers when the
/// SC's time ends (`schedContext_completeYieldTo`).
pub fn invoke_sched_context(
    k: &mut Kernel,
    inv: SchedContextInvocation,
    thread: TcbRef,
    call: bool,
) {
    match inv {
        SchedContextInvocation::Consumed(sc) => {
            set_consumed(sc, thread, call);
            set_thread_state(k, thread, ThreadState::Running);
        }
        SchedContextInvocation::Bind(sc, ScObject::Tcb(t)) => bind_tcb(k, sc, t),
        SchedContextInvocation::Bind(sc, ScObject::Notification(n)) => bind_ntfn(sc, n),
        SchedContextInvocation::UnbindObject(sc, ScObject::Tcb(_)) => unbind_tcb(k, sc),
        SchedContextInvocation::UnbindObject(sc, ScObject::Notification(_)) => unbind_ntfn(sc),
        SchedContextInvocation::Unbind(sc) => {
            unbind_all_tcbs(k, sc);
            unbind_ntfn(sc);
            unbind_reply(sc);
        }
        SchedContextInvocation::YieldTo(sc) => invoke_yield_to(k, sc, thread, call),
    }
}

/// `invokeSchedContext_YieldTo`.
fn invoke_yield_to(k: &mut Kernel, sc: ScRef, thread: TcbRef, call: bool) {
    if let Some(from) = sc.with(|s| s.yield_from).get() {
        complete_yield_to(from);
        debug_assert!(sc.with(|s| s.yield_from).is_none());
    }
    // If the thread is schedulable from here on, its head refill is ready and sufficient.
    resume(k, sc);
    let tcb = sc_tcb(sc);
    let return_now = if is_schedulable(tcb) {
        if tcb.with(|x| x.priority) < thread.with(|x| x.priority) {
            crate::sched::sched_dequeue_cold(k, tcb);
            crate::sched::sched_enqueue_cold(k, tcb);
            true
        } else {
            thread.with(|x| x.yield_to = Link::to(sc));
            sc.with(|s| s.yield_from = Link::to(thread));
            crate::sched::sched_dequeue_cold(k, tcb);
            crate::sched::sched_enqueue_cold(k, thread);
            crate::sched::sched_enqueue_cold(k, tcb);
            reschedule_required(k);
            false
        }
    } else {
        true
    };
    if return_now {
        set_consumed(sc, thread, call);
        set_thread_state(k, thread, ThreadState::Running);
    }
}
