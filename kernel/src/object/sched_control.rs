//! The SchedControl cap (MCS; seL4 `src/object/schedcontrol.c`): one per core, it configures
//! scheduling contexts with `seL4_SchedControl_ConfigureFlags` (budget, period, extra refills,
//! badge, flags). Decoded into a [`SchedControlInvocation`] (no side effect), then performed by
//! [`invoke_sched_control`].
#![forbid(unsafe_code)]

use crate::arch::us_to_ticks;
use crate::cap::Cap;
use crate::error::SyscallError;
use crate::invocation::InvocationArgs;
use crate::object::sched_context::{
    refill_new, refill_slots, refill_sufficient, refill_update, resume, sc_active, sc_tcb, ScRef,
    MAX_PERIOD_US, MIN_BUDGET, MIN_BUDGET_US, MIN_REFILLS, SCHED_CONTEXT_SPORADIC,
};
use crate::sched::mcs::{commit_time, release_remove};
use crate::sched::{possible_switch_to, reschedule_required, sched_dequeue};
use crate::state::Kernel;
use crate::user_err;
use abi::InvocationLabel;

/// `TIME_ARG_SIZE`: words per time argument (one on 64-bit).
const TIME_ARG_SIZE: usize = 1;

/// A decoded SchedControl invocation: `seL4_SchedControl_ConfigureFlags`, every argument
/// checked and converted to ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchedControlInvocation {
    /// The scheduling context to configure.
    pub sc: ScRef,
    /// The SchedControl cap's core.
    pub core: u64,
    /// Budget in ticks.
    pub budget: u64,
    /// Period in ticks (= `budget`: round robin).
    pub period: u64,
    /// Refills at most: extra refills + `MIN_REFILLS`.
    pub max_refills: u64,
    /// The badge of its timeout faults.
    pub badge: u64,
    /// `seL4_SchedContext_*` flags.
    pub flags: u64,
}

/// `decodeSchedControlInvocation` / `decodeSchedControl_ConfigureFlags` for the SchedControl
/// cap of `core`, in seL4's order: no extra cap, then fewer than 5 words: `TruncatedMessage`;
/// budget (µs) over `MAX_PERIOD_US`, period over it, budget under `MIN_BUDGET`, period under it:
/// `RangeError(MIN_BUDGET_US, MAX_PERIOD_US)`; budget over period: `RangeError(MIN_BUDGET_US,
/// period)`; extra cap not a SchedContext: `InvalidCapability(1)`; extra refills over what the
/// object holds less `MIN_REFILLS`: `RangeError(0, that)`. Other labels: `IllegalOperation`.
pub fn decode_sched_control_invocation(
    label: InvocationLabel,
    args: &impl InvocationArgs,
    core: u64,
) -> Result<SchedControlInvocation, SyscallError> {
    if label != InvocationLabel::SchedControlConfigureFlags {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "SchedControl invocation: Illegal operation attempted."
        ));
    }
    let Some((target, _)) = args.extra_cap_cold(0) else {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "SchedControl_ConfigureFlags: Truncated message."
        ));
    };
    if args.len() < TIME_ARG_SIZE * 2 + 3 {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "SchedControl_configureFlags: truncated message."
        ));
    }
    let out_of_range = SyscallError::RangeError(MIN_BUDGET_US, MAX_PERIOD_US);
    let budget_us = args.mr(0);
    if budget_us > MAX_PERIOD_US {
        return Err(user_err!(
            out_of_range,
            "SchedControl_ConfigureFlags: budget out of range."
        ));
    }
    let budget = us_to_ticks(budget_us);
    let period_us = args.mr(TIME_ARG_SIZE);
    if period_us > MAX_PERIOD_US {
        return Err(user_err!(
            out_of_range,
            "SchedControl_ConfigureFlags: period out of range."
        ));
    }
    let period = us_to_ticks(period_us);
    if budget < MIN_BUDGET {
        return Err(user_err!(
            out_of_range,
            "SchedControl_ConfigureFlags: budget out of range."
        ));
    }
    if period < MIN_BUDGET {
        return Err(user_err!(
            out_of_range,
            "SchedControl_ConfigureFlags: period out of range."
        ));
    }
    if budget > period {
        return Err(user_err!(
            SyscallError::RangeError(MIN_BUDGET_US, period_us),
            "SchedControl_ConfigureFlags: budget must be <= period"
        ));
    }
    let Cap::SchedContext { ptr, size_bits } = target else {
        return Err(user_err!(
            SyscallError::InvalidCapability(1),
            "SchedControl_ConfigureFlags: target cap not a scheduling context cap"
        ));
    };
    let extra_refills = args.mr(TIME_ARG_SIZE * 2);
    let max_extra = refill_slots(size_bits as u64).saturating_sub(MIN_REFILLS);
    if extra_refills > max_extra {
        return Err(user_err!(
            SyscallError::RangeError(0, max_extra),
            "Max refills invalid, got {extra_refills}, max {max_extra}"
        ));
    }
    Ok(SchedControlInvocation {
        sc: ptr,
        core,
        budget,
        period,
        max_refills: extra_refills + MIN_REFILLS,
        badge: args.mr(TIME_ARG_SIZE * 2 + 1),
        flags: args.mr(TIME_ARG_SIZE * 2 + 2),
    })
}

/// `invokeSchedControl_ConfigureFlags`: takes the SC's thread out of the queues (charging the
/// time used so far if the SC is the current one), sets the refills (round robin if budget =
/// period; `refill_update` if the SC is active and its thread runnable, keeping the bandwidth
/// it already used; else `refill_new`, the whole budget from now), then lets the thread run
/// again (`schedContext_resume`; a switch to it, or a new choice if it is the current one), and
/// sets badge and flags.
pub fn invoke_sched_control(k: &mut Kernel, inv: SchedControlInvocation) {
    let SchedControlInvocation {
        sc,
        core: _,
        budget,
        period,
        max_refills,
        badge,
        flags,
    } = inv;
    let thread = sc_tcb(sc);
    if !thread.is_null() {
        release_remove(k, thread);
        sched_dequeue(k, thread);
        if k.cur_sc == sc {
            // seL4 `assert(checkBudget())`: the syscall's budget check passed, so the head
            // refill covers what is consumed (the check itself only exists in debug builds).
            debug_assert!(refill_sufficient(sc, k.consumed));
            commit_time(k);
        }
    }
    if budget == period {
        // Round robin: period 0, so the budget is always ready to be refilled.
        refill_new(sc, MIN_REFILLS, budget, 0, k.cur_time);
    } else if sc_active(sc) && !thread.is_null() && thread.state().is_runnable() {
        refill_update(sc, period, budget, max_refills, k.cur_time);
    } else {
        refill_new(sc, max_refills, budget, period, k.cur_time);
    }
    debug_assert!(sc_active(sc));
    if !thread.is_null() {
        resume(k, sc);
        if thread.state().is_runnable() && thread != k.cur_thread {
            possible_switch_to(k, thread);
        }
        if thread == k.cur_thread {
            reschedule_required(k);
        }
    }
    sc.with(|s| {
        s.badge = badge;
        s.sporadic = (flags & SCHED_CONTEXT_SPORADIC != 0) as u64;
    });
}
