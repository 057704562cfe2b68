//! Host tests of the domain cap's invocations through the syscall path (seL4 16.0.0
//! `src/object/domain.c`): each invocation's effect, and each error with its MRs, in seL4's
//! order.

use super::{invoke_domain, DomainInvocation};
use crate::testing::{fails, ok, System};
use abi::bootinfo::slot;
use abi::config::{NUM_DOMAINS, NUM_DOMAIN_SCHEDULES};
use abi::{Error, InvocationLabel as L};

const CNODE: u64 = slot::INIT_THREAD_CNODE;
const ROOT_TCB: u64 = slot::INIT_THREAD_TCB;
const DOMAIN: u64 = slot::DOMAIN;

fn boot() -> (System, u64) {
    let s = System::boot();
    let e = s.bootinfo().empty.start;
    (s, e)
}

#[test]
fn domain_set_and_domain_schedule() {
    let (mut s, e) = boot();
    let t = s.spawn(100, e);
    let nd = NUM_DOMAINS as u64;
    let ns = NUM_DOMAIN_SCHEDULES as u64;
    ok(s.call(DOMAIN, L::DomainSetSet, &[nd - 1], &[e]));
    assert_eq!(t.with(|x| x.domain), nd - 1);
    assert!(
        t.with(|x| x.queued) != 0,
        "a runnable thread is queued in its new domain"
    );
    ok(s.call(DOMAIN, L::DomainSetSet, &[0], &[ROOT_TCB]));
    assert_eq!(s.k.cur_thread, s.root);
    fails(
        s.call(DOMAIN, L::DomainSetSet, &[], &[e]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        s.call(DOMAIN, L::DomainSetSet, &[nd], &[e]),
        Error::InvalidArgument,
        &[0],
    );
    fails(
        s.call(DOMAIN, L::DomainSetSet, &[nd], &[]),
        Error::InvalidArgument,
        &[0],
    );
    fails(
        s.call(DOMAIN, L::DomainSetSet, &[0], &[]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        s.call(DOMAIN, L::DomainSetSet, &[0], &[CNODE]),
        Error::InvalidArgument,
        &[1],
    );
    // The schedule: the last entry stays an end marker.
    ok(s.call(DOMAIN, L::DomainScheduleConfigure, &[0, 0, 10], &[]));
    assert_eq!(
        s.k.sched.domain_schedule[0],
        crate::sched::DomainScheduleEntry {
            domain: 0,
            duration: 10
        }
    );
    fails(
        s.call(DOMAIN, L::DomainScheduleConfigure, &[0, 0], &[]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        s.call(DOMAIN, L::DomainScheduleConfigure, &[ns - 1, 0, 5], &[]),
        Error::RangeError,
        &[0, ns - 2],
    );
    fails(
        s.call(DOMAIN, L::DomainScheduleConfigure, &[0, nd, 5], &[]),
        Error::RangeError,
        &[0, nd - 1],
    );
    fails(
        s.call(DOMAIN, L::DomainScheduleConfigure, &[0, 0, 1 << 56], &[]),
        Error::InvalidArgument,
        &[2],
    );
    fails(
        s.call(DOMAIN, L::DomainScheduleConfigure, &[0, 0, 0], &[]),
        Error::InvalidArgument,
        &[2],
    );
    assert_eq!(s.k.sched.domain_schedule[0].duration, 10);
    ok(s.call(
        DOMAIN,
        L::DomainScheduleConfigure,
        &[0, 0, (1 << 56) - 1],
        &[],
    ));
    fails(
        s.call(DOMAIN, L::DomainScheduleSetStart, &[], &[]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        s.call(DOMAIN, L::DomainScheduleSetStart, &[ns], &[]),
        Error::RangeError,
        &[0, ns - 1],
    );
    fails(
        s.call(DOMAIN, L::DomainScheduleSetStart, &[ns - 1], &[]),
        Error::InvalidArgument,
        &[0],
    );
    ok(s.call(DOMAIN, L::DomainScheduleSetStart, &[0], &[]));
    assert_eq!(s.k.sched.domain_schedule_start, 0);
    assert_eq!(s.k.cur_thread, s.root);
    fails(
        s.call(DOMAIN, L::TCBSuspend, &[], &[]),
        Error::IllegalOperation,
        &[],
    );
}

#[test]
fn domain_schedule_set_start_ends_the_current_domain() {
    // Checked on the decoded invocation, before the scheduler consumes the state.
    let (mut s, _) = boot();
    invoke_domain(&mut s.k, DomainInvocation::ScheduleSetStart(0));
    assert_eq!(s.k.sched.domain_time, 0);
    assert_eq!(s.k.sched.domain_schedule_index, NUM_DOMAIN_SCHEDULES - 2);
    assert_eq!(
        s.k.sched.action,
        crate::sched::SchedulerAction::ChooseNewThread
    );
}

/// seL4 16.0.0 `init_core_state`: boot leaves domain 0 running for `DSCHED_MAX_DURATION` with
/// that as the schedule's first entry, so that a kernel with several domains (Microkit's 16)
/// does not expire domain 0 at once (which, under MCS, re-arms the timer in the past for ever).
#[test]
fn boot_runs_domain_zero_for_the_longest_duration() {
    let (s, _) = boot();
    let max = super::DSCHED_MAX_DURATION;
    assert_eq!(max, (1 << 56) - 1);
    assert_eq!(s.k.sched.domain_time, max);
    assert_eq!(
        s.k.sched.domain_schedule[0],
        crate::sched::DomainScheduleEntry {
            domain: 0,
            duration: max
        }
    );
    assert!(s.k.sched.domain_schedule[1..]
        .iter()
        .all(|e| e.duration == 0 && e.domain == 0));
    assert_eq!((s.k.cur_domain, s.k.sched.domain_schedule_index), (0, 0));
}
