//! The domain cap and its invocations (seL4 `src/object/domain.c`): `seL4_DomainSet_Set` moves a
//! thread to a scheduling domain; `seL4_DomainSet_ScheduleConfigure` and
//! `seL4_DomainSet_ScheduleSetStart` change the domain schedule at run time (the schedule itself
//! and the switch between domains are in `sched.rs`). Decoded into a [`DomainInvocation`] (no
//! side effect), then performed by [`invoke_domain`].
#![forbid(unsafe_code)]

use crate::cap::Cap;
use crate::error::SyscallError;
use crate::invocation::InvocationArgs;
use crate::object::tcb::TcbRef;
use crate::sched::{reschedule_required_cold, sched_dequeue_cold, sched_enqueue_cold};
use crate::state::Kernel;
use crate::user_err;
use abi::config::{NUM_DOMAINS, NUM_DOMAIN_SCHEDULES};
use abi::InvocationLabel;

/// `DSCHED_MAX_DURATION` (`include/object/domain.h`): a domain schedule entry keeps its
/// duration in 56 bits.
pub const DSCHED_MAX_DURATION: u64 = u64::MAX >> 8;

/// A decoded domain cap invocation.
#[derive(Clone, Copy, Debug)]
pub enum DomainInvocation {
    /// `seL4_DomainSet_Set`: move the thread to the domain.
    SetDomain(TcbRef, u64),
    /// `seL4_DomainSet_ScheduleConfigure`: set entry `index` of the domain schedule.
    ScheduleConfigure {
        index: usize,
        domain: u64,
        duration: u64,
    },
    /// `seL4_DomainSet_ScheduleSetStart`: restart the domain schedule at `index`.
    ScheduleSetStart(usize),
}

/// Whether entry `index` of the domain schedule is an end marker (domain and duration 0;
/// seL4 `dschedule_is_end_marker`).
fn is_end_marker(k: &Kernel, index: usize) -> bool {
    k.sched
        .domain_schedule
        .get(index)
        .is_none_or(|e| e.domain == 0 && e.duration == 0)
}

/// `decodeDomainInvocation` (`seL4_DomainSet_*`):
/// - Set: `TruncatedMessage` (no MR), `InvalidArgument(0)` (domain ≥ `CONFIG_NUM_DOMAINS`),
///   `TruncatedMessage` (no cap), `InvalidArgument(1)` (not a thread cap).
/// - ScheduleConfigure(index, domain, duration): `TruncatedMessage` (fewer than 3 MRs),
///   `RangeError(0, NUM_DOMAIN_SCHEDULES - 2)` (index: the last entry stays an end marker),
///   `RangeError(0, NUM_DOMAINS - 1)` (domain), `InvalidArgument(2)` (duration over 56 bits),
///   `InvalidArgument(1)` (duration 0 with a non-zero domain), `InvalidArgument(2)` (duration 0
///   at the start index).
/// - ScheduleSetStart(index): `TruncatedMessage`, `RangeError(0, NUM_DOMAIN_SCHEDULES - 1)`,
///   `InvalidArgument(0)` (the entry is an end marker).
pub fn decode_domain_invocation(
    k: &Kernel,
    label: InvocationLabel,
    args: &impl InvocationArgs,
) -> Result<DomainInvocation, SyscallError> {
    let schedules = NUM_DOMAIN_SCHEDULES as u64;
    match label {
        InvocationLabel::DomainSetSet => {
            if args.len() == 0 {
                return Err(user_err!(
                    SyscallError::TruncatedMessage,
                    "Domain Configure: Truncated message."
                ));
            }
            let domain = args.mr(0);
            if domain >= NUM_DOMAINS as u64 {
                return Err(user_err!(
                    SyscallError::InvalidArgument(0),
                    "Domain Configure: invalid domain ({domain} >= {NUM_DOMAINS})."
                ));
            }
            let Some((tcap, _)) = args.extra_cap_cold(0) else {
                return Err(user_err!(
                    SyscallError::TruncatedMessage,
                    "Domain Configure: Truncated message."
                ));
            };
            let Cap::Thread { tcb } = tcap else {
                return Err(user_err!(
                    SyscallError::InvalidArgument(1),
                    "Domain Configure: thread cap required."
                ));
            };
            Ok(DomainInvocation::SetDomain(tcb, domain))
        }
        InvocationLabel::DomainScheduleConfigure => {
            if args.len() < 3 {
                return Err(user_err!(
                    SyscallError::TruncatedMessage,
                    "Domain Schedule Configure: Truncated message."
                ));
            }
            let (index, domain, duration) = (args.mr(0), args.mr(1), args.mr(2));
            if index >= schedules.saturating_sub(1) {
                return Err(user_err!(
                    SyscallError::RangeError(0, schedules.saturating_sub(2)),
                    "Domain Schedule Configure: Invalid index."
                ));
            }
            if domain >= NUM_DOMAINS as u64 {
                return Err(user_err!(
                    SyscallError::RangeError(0, NUM_DOMAINS as u64 - 1),
                    "Domain Schedule Configure: Invalid domain."
                ));
            }
            if duration > DSCHED_MAX_DURATION {
                return Err(user_err!(
                    SyscallError::InvalidArgument(2),
                    "Domain Schedule Configure: Duration must fit in 56 bits."
                ));
            }
            if duration == 0 && domain != 0 {
                return Err(user_err!(
                    SyscallError::InvalidArgument(1),
                    "Domain Schedule Configure: Both domain and duration must be zero for end markers."
                ));
            }
            if index == k.sched.domain_schedule_start as u64 && duration == 0 {
                return Err(user_err!(
                    SyscallError::InvalidArgument(2),
                    "Domain Schedule Configure: Starting schedule's duration must not be zero."
                ));
            }
            Ok(DomainInvocation::ScheduleConfigure {
                index: index as usize,
                domain,
                duration,
            })
        }
        InvocationLabel::DomainScheduleSetStart => {
            if args.len() < 1 {
                return Err(user_err!(
                    SyscallError::TruncatedMessage,
                    "Domain Schedule Set Start: Truncated message."
                ));
            }
            let index = args.mr(0);
            if index >= schedules {
                return Err(user_err!(
                    SyscallError::RangeError(0, schedules.saturating_sub(1)),
                    "Domain Schedule Set Start: Invalid index."
                ));
            }
            if is_end_marker(k, index as usize) {
                return Err(user_err!(
                    SyscallError::InvalidArgument(0),
                    "Domain Schedule Set Start: Starting schedule must not be an end marker."
                ));
            }
            Ok(DomainInvocation::ScheduleSetStart(index as usize))
        }
        _ => Err(user_err!(
            SyscallError::IllegalOperation,
            "Domain: Illegal operation."
        )),
    }
}

/// Performs a decoded domain invocation (`invokeDomainSetSet`,
/// `invokeDomainScheduleConfigure`, `invokeDomainScheduleSetStart`).
pub fn invoke_domain(k: &mut Kernel, inv: DomainInvocation) {
    match inv {
        DomainInvocation::SetDomain(t, domain) => set_domain(k, t, domain),
        DomainInvocation::ScheduleConfigure {
            index,
            domain,
            duration,
        } => {
            if let Some(e) = k.sched.domain_schedule.get_mut(index) {
                *e = crate::sched::DomainScheduleEntry { domain, duration };
            }
        }
        DomainInvocation::ScheduleSetStart(index) => {
            // End the current schedule: the next choice moves to the new start entry.
            k.sched.domain_schedule_start = index;
            k.sched.domain_time = 0;
            k.sched.domain_schedule_index = NUM_DOMAIN_SCHEDULES.saturating_sub(2);
            reschedule_required_cold(k);
        }
    }
}

/// `setDomain`: moves the thread to another domain's ready queues.
pub fn set_domain(k: &mut Kernel, t: TcbRef, domain: u64) {
    sched_dequeue_cold(k, t);
    t.with(|x| x.domain = domain);
    if crate::sched::is_schedulable(t) {
        sched_enqueue_cold(k, t);
    }
    if t == k.cur_thread {
        reschedule_required_cold(k);
    }
}

#[cfg(test)]
#[path = "domain_tests.rs"]
mod tests;
