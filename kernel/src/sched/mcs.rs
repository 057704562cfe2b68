//! The MCS parts of the scheduler (seL4 `src/kernel/thread.c`, `include/kernel/thread.h`,
//! `src/object/tcb.c` and `src/api/syscall.c` under `CONFIG_KERNEL_MCS`): time accounting,
//! budget checks and charging, the release queue, and the one-shot timer.
//!
//! Time: `k.cur_time` (`ksCurTime`) is the clock at the last kernel entry
//! ([`update_timestamp`]); `k.consumed` (`ksConsumed`) the ticks since they were last charged
//! to `k.cur_sc` (`ksCurSC`) by [`commit_time`] or [`charge_budget`]. The idle thread (the
//! null TCB) runs on `k.cur_sc` = null, which stands for seL4's idle SC: never charged, a
//! fixed round-robin head refill of `CONFIG_BOOT_THREAD_TIME_SLICE` ([`IDLE_BUDGET`]).
//!
//! Each kernel entry updates the time and checks the current budget
//! ([`do_if_budget`], seL4's `MCS_DO_IF_BUDGET`); `schedule` then wakes released threads
//! ([`awaken`]), and on its way out makes the chosen thread's SC current
//! ([`switch_sched_context`]) and, if anything changed, programs the timer for the earlier of
//! the end of the current head refill and the release queue's first refill
//! ([`set_next_interrupt`]).
#![forbid(unsafe_code)]

use super::{
    is_idle, is_schedulable, possible_switch_to, reschedule_required, sched_append, sched_dequeue,
    set_thread_state, Queue,
};
use crate::mem::Link;
use crate::object::sched_context::{
    is_round_robin, refill_budget_check, refill_head, refill_ready, refill_size, refill_sufficient,
    refill_tail, refill_unblock_check, sc_active, sc_constant_bandwidth, tcb_sc, ScRef, MIN_BUDGET,
    MIN_REFILLS,
};
use crate::object::tcb::{TcbRef, ThreadState};
use crate::state::Kernel;
use abi::config::NUM_DOMAINS;

/// The idle SC's head refill (seL4 configures the idle thread's SC with
/// `CONFIG_BOOT_THREAD_TIME_SLICE` ms, round robin, and never charges it), in ticks.
pub const IDLE_BUDGET: u64 = crate::arch::us_to_ticks(abi::config::BOOT_THREAD_TIME_SLICE * 1000);

/// Whether `sc` is the idle thread's (the null SC).
#[inline(always)]
fn is_idle_sc(sc: ScRef) -> bool {
    sc.is_null()
}

/// `refill_sufficient(ksCurSC, usage)`, with the idle SC's fixed head refill.
#[inline(always)]
fn cur_sc_sufficient(k: &Kernel, usage: u64) -> bool {
    if is_idle_sc(k.cur_sc) {
        IDLE_BUDGET.saturating_sub(usage) >= MIN_BUDGET
    } else {
        refill_sufficient(k.cur_sc, usage)
    }
}

/// `sc_active(ksCurSC)` (the idle SC is active).
#[inline(always)]
fn cur_sc_active(k: &Kernel) -> bool {
    is_idle_sc(k.cur_sc) || sc_active(k.cur_sc)
}

/// Boot (`init_core_state` under MCS): the current thread's SC becomes current, nothing is
/// consumed yet, the time is now, and the timer is programmed on the way out.
pub fn init_core_state(k: &mut Kernel) {
    k.cur_sc = tcb_sc(k.cur_thread);
    k.consumed = 0;
    k.reprogram = true;
    k.sched.release_queue = Queue::default();
    k.cur_time = crate::arch::get_current_time();
}

/// `updateTimestamp`: reads the clock into `k.cur_time` and adds the time since the last
/// entry to `k.consumed` (and takes it off the domain's time).
pub fn update_timestamp(k: &mut Kernel) {
    let prev = k.cur_time;
    k.cur_time = crate::arch::get_current_time();
    debug_assert!(k.cur_time < crate::object::sched_context::MAX_RELEASE_TIME);
    let consumed = k.cur_time.wrapping_sub(prev);
    k.consumed += consumed;
    if NUM_DOMAINS > 1 {
        if consumed + MIN_BUDGET >= k.sched.domain_time {
            k.sched.domain_time = 0;
        } else {
            k.sched.domain_time -= consumed;
        }
    }
}

/// `isCurDomainExpired`.
#[inline(always)]
pub fn is_cur_domain_expired(k: &Kernel) -> bool {
    NUM_DOMAINS > 1 && k.sched.domain_time == 0
}

/// `checkDomainTime`: the domain's time is up: choose again (in the next domain).
pub fn check_domain_time(k: &mut Kernel) {
    if is_cur_domain_expired(k) {
        k.reprogram = true;
        reschedule_required(k);
    }
}

/// `commitTime`: charges `k.consumed` to the current SC (round robin: moved from the head to
/// the tail; otherwise `refill_budget_check`) and to its consumed count. The idle SC and an
/// unconfigured one are not charged. Resets `k.consumed`.
pub fn commit_time(k: &mut Kernel) {
    let sc = k.cur_sc;
    if !is_idle_sc(sc) && sc_active(sc) {
        let consumed = k.consumed;
        if consumed > 0 {
            debug_assert!(refill_sufficient(sc, consumed));
            debug_assert!(refill_ready(sc, k.cur_time));
            if is_round_robin(sc) {
                debug_assert_eq!(refill_size(sc), MIN_REFILLS);
                // Only what the head holds (all of `consumed` when `check_budget` ran first).
                let used = consumed.min(refill_head(sc).get().amount);
                refill_head(sc).with(|r| r.amount -= used);
                refill_tail(sc).with(|r| r.amount += used);
            } else {
                refill_budget_check(sc, consumed);
            }
        }
        sc.with(|s| s.consumed += consumed);
    }
    k.consumed = 0;
}

/// `checkBudget`: whether the current thread may go on: its head refill still holds
/// `MIN_BUDGET` after charging `k.consumed` and the domain has time left. If the budget is
/// used up it is charged ([`charge_budget`], which may raise a timeout fault).
pub fn check_budget(k: &mut Kernel) -> bool {
    if cur_sc_sufficient(k, k.consumed) {
        return !is_cur_domain_expired(k);
    }
    charge_budget(k, k.consumed, true);
    false
}

/// `checkBudgetRestart`: [`check_budget`]; if the budget ran out and the thread is still
/// runnable it will re-execute its syscall (`Restart`).
pub fn check_budget_restart(k: &mut Kernel) -> bool {
    let result = check_budget(k);
    let cur = k.cur_thread;
    if !result && !is_idle(cur) && cur.state().is_runnable() {
        set_thread_state(k, cur, ThreadState::Restart);
    }
    result
}

/// `MCS_DO_IF_BUDGET`'s condition: updates the time and checks the budget
/// ([`update_timestamp`], [`check_budget_restart`]); the kernel entry does its work only if
/// this is true (else the thread restarts the syscall when it next runs).
pub fn do_if_budget(k: &mut Kernel) -> bool {
    update_timestamp(k);
    check_budget_restart(k)
}

/// `chargeBudget`: the current SC's head refill is used up after `consumed` ticks: they are
/// charged (round robin: the whole budget is refilled at once), and the current thread's
/// time slice ends ([`end_timeslice`]; a timeout fault only if `can_timeout_fault`).
pub fn charge_budget(k: &mut Kernel, consumed: u64, can_timeout_fault: bool) {
    let sc = k.cur_sc;
    if !is_idle_sc(sc) {
        if is_round_robin(sc) {
            debug_assert_eq!(refill_size(sc), MIN_REFILLS);
            let (head, tail) = (refill_head(sc).get(), refill_tail(sc).get());
            refill_head(sc).with(|r| r.amount = head.amount + tail.amount);
            refill_tail(sc).with(|r| r.amount = 0);
        } else {
            refill_budget_check(sc, consumed);
        }
        debug_assert!(refill_head(sc).get().amount >= MIN_BUDGET);
        sc.with(|s| s.consumed += consumed);
    }
    k.consumed = 0;
    let cur = k.cur_thread;
    if is_schedulable(cur) {
        debug_assert!(tcb_sc(cur) == k.cur_sc);
        end_timeslice(k, can_timeout_fault);
        reschedule_required(k);
        k.reprogram = true;
    }
}

/// `endTimeslice`: the current thread's head refill is used up: a timeout fault to its
/// timeout handler (if allowed, the SC is not round robin and the handler is valid); else, if
/// the next refill is ready and sufficient already, to the back of its ready queue; else to
/// the release queue until it is.
pub fn end_timeslice(k: &mut Kernel, can_timeout_fault: bool) {
    let sc = k.cur_sc;
    let cur = k.cur_thread;
    if can_timeout_fault && !is_round_robin(sc) && crate::ipc::valid_timeout_handler(cur) {
        let badge = sc.with(|s| s.badge);
        crate::ipc::handle_timeout(k, cur, badge);
    } else if refill_ready(sc, k.cur_time) && refill_sufficient(sc, 0) {
        debug_assert!(cur.with(|x| x.queued) == 0);
        sched_append(k, cur);
    } else {
        postpone(k, sc);
    }
}

/// `switchSchedContext`: the chosen thread's SC becomes current. If it changes, the timer is
/// reprogrammed and a constant-bandwidth SC's refills are brought up to date
/// (`refill_unblock_check`); whenever the timer is reprogrammed, the time so far is charged to
/// the previous SC first ([`commit_time`]).
pub fn switch_sched_context(k: &mut Kernel) {
    let next = tcb_sc(k.cur_thread);
    if k.cur_sc != next {
        k.reprogram = true;
        if !is_idle_sc(next) && sc_constant_bandwidth(next) {
            refill_unblock_check(next, k.cur_time);
        }
        debug_assert!(is_idle_sc(next) || refill_ready(next, k.cur_time));
        debug_assert!(is_idle_sc(next) || refill_sufficient(next, 0));
    }
    if k.reprogram {
        commit_time(k);
    }
    k.cur_sc = next;
}

/// `setNextInterrupt`: the timer fires at the earliest of the end of the current thread's head
/// refill, the end of the domain's time (several domains only) and the release queue's first
/// refill, less the timer's precision (`getTimerPrecision`).
pub fn set_next_interrupt(k: &mut Kernel) {
    let sc = tcb_sc(k.cur_thread);
    let head_amount = if is_idle_sc(sc) {
        IDLE_BUDGET
    } else {
        refill_head(sc).get().amount
    };
    let mut next = k.cur_time + head_amount;
    if NUM_DOMAINS > 1 {
        next = next.min(k.cur_time + k.sched.domain_time);
    }
    if let Some(rlq_head) = k.sched.release_queue.head.get() {
        next = next.min(ready_time(rlq_head));
    }
    debug_assert!(next >= k.cur_time);
    crate::arch::set_deadline(next.saturating_sub(crate::arch::TIMER_PRECISION_TICKS));
}

/// `postpone`: `sc`'s thread waits in the release queue for its next refill.
pub fn postpone(k: &mut Kernel, sc: ScRef) {
    let tcb = sc.with(|s| s.tcb).get();
    debug_assert!(tcb.is_some());
    let Some(tcb) = tcb else {
        return;
    };
    sched_dequeue(k, tcb);
    release_enqueue(k, tcb);
    k.reprogram = true;
}

/// `tcbReadyTime`: the time of the head refill of `t`'s SC.
#[inline(always)]
fn ready_time(t: TcbRef) -> u64 {
    refill_head(tcb_sc(t)).get().time
}

/// `tcbReleaseEnqueue`: inserts `t` (not in a ready queue) into the release queue, after every
/// thread whose head refill is not later than its own; the timer is reprogrammed if it becomes
/// the first.
pub fn release_enqueue(k: &mut Kernel, t: TcbRef) {
    debug_assert!(t.with(|x| x.in_release_queue) == 0);
    debug_assert!(t.with(|x| x.queued) == 0);
    if t.with(|x| x.in_release_queue) != 0 {
        return;
    }
    let new_time = ready_time(t);
    let q = k.sched.release_queue;
    let a = Link::to(t);
    let (head, tail) = (q.head.get(), q.tail.get());
    match (head, tail) {
        (Some(head), _) if new_time >= ready_time(head) => {
            let tail = tail.unwrap_or(head);
            if ready_time(tail) <= new_time {
                // Append.
                t.with(|x| {
                    x.sched_prev = q.tail;
                    x.sched_next = Link::NONE;
                });
                tail.with(|x| x.sched_next = a);
                k.sched.release_queue.tail = a;
            } else {
                // Before the first thread whose refill is later (`find_time_after`); there
                // is one, and it is not the head.
                let mut after = head;
                while new_time >= ready_time(after) {
                    match after.with(|x| x.sched_next).get() {
                        Some(n) => after = n,
                        None => break,
                    }
                }
                let before = after.with(|x| x.sched_prev);
                debug_assert!(before.is_some() && !before.is(after));
                t.with(|x| {
                    x.sched_prev = before;
                    x.sched_next = Link::to(after);
                });
                after.with(|x| x.sched_prev = a);
                if let Some(before) = before.get() {
                    before.with(|x| x.sched_next = a);
                }
            }
        }
        _ => {
            // Prepend.
            t.with(|x| {
                x.sched_prev = Link::NONE;
                x.sched_next = q.head;
            });
            match head {
                None => k.sched.release_queue.tail = a,
                Some(head) => head.with(|x| x.sched_prev = a),
            }
            k.sched.release_queue.head = a;
        }
    }
    t.with(|x| x.in_release_queue = 1);
    if q.head != k.sched.release_queue.head {
        k.reprogram = true;
    }
}

/// `tcbReleaseRemove`: takes `t` out of the release queue if it is in it (reprogramming the
/// timer if it was the first).
pub fn release_remove(k: &mut Kernel, t: TcbRef) {
    if is_idle(t) || t.with(|x| x.in_release_queue) == 0 {
        return;
    }
    if k.sched.release_queue.head.is(t) {
        k.reprogram = true;
    }
    let (next, prev) = t.with(|x| (x.sched_next, x.sched_prev));
    match prev.get() {
        None => k.sched.release_queue.head = next,
        Some(p) => p.with(|x| x.sched_next = next),
    }
    match next.get() {
        None => k.sched.release_queue.tail = prev,
        Some(n) => n.with(|x| x.sched_prev = prev),
    }
    t.with(|x| {
        x.sched_next = Link::NONE;
        x.sched_prev = Link::NONE;
        x.in_release_queue = 0;
    });
}

/// `release_q_non_empty_and_ready`.
fn release_queue_ready(k: &Kernel) -> bool {
    k.sched
        .release_queue
        .head
        .get()
        .is_some_and(|h| refill_ready(tcb_sc(h), k.cur_time))
}

/// Whether `schedule` would change nothing: no scheduling decision pending, no timer to
/// program, the current SC is the current thread's, no thread to release at the current
/// time and the domain's time not up. True at every kernel entry from user level: the last
/// exit ran `schedule`, or the IPC fastpath, which changes none of these (it moves the
/// current SC with the thread it switches to), and the time (`k.cur_time`) changes only at
/// `update_timestamp`. So a syscall that reads no time and changes nothing may return
/// without `schedule`, as seL4's `handleUnknownSyscall` does for `seL4_BenchmarkNullSyscall`
/// (the host tests check this at every syscall entry, `testing::syscall_trap`).
pub fn settled(k: &Kernel) -> bool {
    k.sched.action == super::SchedulerAction::ResumeCurrentThread
        && !k.reprogram
        && k.cur_sc == tcb_sc(k.cur_thread)
        && !release_queue_ready(k)
        && !is_cur_domain_expired(k)
}

/// `tcbReleaseDequeue`: the first thread of the release queue leaves it and may run.
fn release_dequeue(k: &mut Kernel) {
    let Some(awakened) = k.sched.release_queue.head.get() else {
        return;
    };
    debug_assert!(awakened != k.cur_thread);
    release_remove(k, awakened);
    debug_assert!(!is_round_robin(tcb_sc(awakened)));
    debug_assert!(refill_sufficient(tcb_sc(awakened), 0));
    possible_switch_to(k, awakened);
}

/// `awaken`: every thread in the release queue whose head refill is ready leaves it.
pub fn awaken(k: &mut Kernel) {
    while release_queue_ready(k) {
        release_dequeue(k);
    }
}

/// `handleYield` (MCS): the current thread gives up the rest of its head refill (charged in
/// full), but its SC's consumed count only grows by the time really used.
pub fn handle_yield(k: &mut Kernel) {
    let sc = k.cur_sc;
    if is_idle_sc(sc) {
        return;
    }
    let consumed = sc.with(|s| s.consumed) + k.consumed;
    let head = refill_head(sc).get();
    charge_budget(k, head.amount, false);
    sc.with(|s| s.consumed = consumed);
}

/// `mcsPreemptionPoint` (`handleSyscall` after an invocation that was preempted): a
/// schedulable current thread has its budget checked; otherwise the time is charged to the
/// current SC if it is still configured, or dropped.
pub fn mcs_preemption_point(k: &mut Kernel) {
    if is_schedulable(k.cur_thread) {
        check_budget(k);
    } else if !is_idle_sc(k.cur_sc) && sc_active(k.cur_sc) {
        charge_budget(k, k.consumed, false);
    } else {
        k.consumed = 0;
    }
}

/// The MCS part of `preemptionPoint` (checked with the pending interrupts, every
/// `MAX_NUM_WORK_UNITS_PER_PREEMPTION` units): updates the time; true if the domain's time is
/// up or the current SC is unconfigured or short of budget.
pub fn preemption_due(k: &mut Kernel) -> bool {
    update_timestamp(k);
    is_cur_domain_expired(k) || !(cur_sc_active(k) && cur_sc_sufficient(k, k.consumed))
}

/// The kernel timer's interrupt under MCS (`handleInterrupt` for `IRQTimer`): acknowledged;
/// the timer is programmed again on the way out.
pub fn timer_interrupt(k: &mut Kernel) {
    crate::arch::ack_deadline_irq();
    k.reprogram = true;
}

#[cfg(test)]
#[path = "mcs_tests.rs"]
mod tests;
