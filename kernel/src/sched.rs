//! The scheduler (seL4 `src/kernel/thread.c`): ready queues per domain and priority with a
//! two-level bitmap, round robin within a priority, the scheduler action that defers switching
//! until the kernel exits, time slices and domains. With the `mcs` feature
//! (`CONFIG_KERNEL_MCS`) a thread is schedulable only with an active scheduling context that
//! is not waiting in the release queue, and `schedule` also wakes released threads, switches
//! the current scheduling context and programs the timer (`sched::mcs`).
#![forbid(unsafe_code)]

use crate::mem::Link;
use crate::object::domain::DSCHED_MAX_DURATION;
use crate::object::tcb::{Tcb, TcbRef, ThreadState};
use crate::state::Kernel;
#[cfg(not(feature = "mcs"))]
use abi::config::TIME_SLICE;
use abi::config::{NUM_DOMAINS, NUM_PRIORITIES};

#[cfg(feature = "mcs")]
pub mod mcs;

/// Priorities per bitmap word.
const WORD: usize = 64;
/// Words of the second-level bitmap per domain.
const L2_WORDS: usize = NUM_PRIORITIES / WORD;

/// What the scheduler does before the kernel returns to user level
/// (`ksSchedulerAction`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchedulerAction {
    /// Keep running the current thread.
    ResumeCurrentThread,
    /// Pick the highest-priority ready thread.
    ChooseNewThread,
    /// Switch to this thread (if it still beats the ready queues).
    SwitchToThread(TcbRef),
}

/// One ready queue: a doubly linked list through `sched_next`/`sched_prev`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Queue {
    /// First TCB, or none.
    pub head: Link<Tcb>,
    /// Last TCB, or none.
    pub tail: Link<Tcb>,
}

/// One entry of the domain schedule (`dschedule_t`): run `domain` for `duration` ticks.
/// A duration of 0 marks the end of the schedule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DomainScheduleEntry {
    /// The domain.
    pub domain: u64,
    /// Length in timer ticks; 0 ends the schedule.
    pub duration: u64,
}

/// Scheduler state (part of [`Kernel`]); the scheduler action first (the exit path reads it).
#[repr(C)]
pub struct Scheduler {
    /// The scheduler action.
    pub action: SchedulerAction,
    /// Ticks left in the current domain (`ksDomainTime`).
    pub domain_time: u64,
    /// Index of the running entry (`ksDomScheduleIdx`).
    pub domain_schedule_index: usize,
    /// Where the schedule starts again after its end (`ksDomScheduleStart`).
    pub domain_schedule_start: usize,
    /// The domain schedule (`ksDomSchedule`), set up by `seL4_DomainSet_ScheduleConfigure`.
    pub domain_schedule: [DomainScheduleEntry; abi::config::NUM_DOMAIN_SCHEDULES],
    /// First-level bitmap: bit i set if second-level word i is non-zero.
    pub l1: [u64; NUM_DOMAINS],
    /// Second-level bitmap: bit p % 64 of word p / 64 set if queue p is non-empty.
    pub l2: [[u64; L2_WORDS]; NUM_DOMAINS],
    /// Ready queues, indexed by `domain * NUM_PRIORITIES + priority`.
    pub queues: [Queue; NUM_DOMAINS * NUM_PRIORITIES],
    /// MCS: threads waiting for their next refill, in order of its time
    /// (`ksReleaseQueue`), linked through `sched_next`/`sched_prev`.
    #[cfg(feature = "mcs")]
    pub release_queue: Queue,
}

impl Scheduler {
    /// Empty queues; the domain schedule runs domain 0 for the longest time an entry holds
    /// (seL4 16.0.0 `init_core_state`: `ksDomSchedule[0]` = (0, `DSCHED_MAX_DURATION`), and
    /// `ksDomainTime` the same), so that with several domains (`CONFIG_NUM_DOMAINS` > 1) the
    /// first domain does not expire until user level configures a schedule.
    pub const fn new() -> Scheduler {
        let mut ds = [DomainScheduleEntry {
            domain: 0,
            duration: 0,
        }; abi::config::NUM_DOMAIN_SCHEDULES];
        ds[0] = DomainScheduleEntry {
            domain: 0,
            duration: DSCHED_MAX_DURATION,
        };
        Scheduler {
            queues: [Queue {
                head: Link::NONE,
                tail: Link::NONE,
            }; NUM_DOMAINS * NUM_PRIORITIES],
            l1: [0; NUM_DOMAINS],
            l2: [[0; L2_WORDS]; NUM_DOMAINS],
            action: SchedulerAction::ResumeCurrentThread,
            domain_time: DSCHED_MAX_DURATION,
            domain_schedule: ds,
            domain_schedule_index: 0,
            domain_schedule_start: 0,
            #[cfg(feature = "mcs")]
            release_queue: Queue {
                head: Link::NONE,
                tail: Link::NONE,
            },
        }
    }

    #[inline(always)]
    fn highest_prio(&self, dom: usize) -> Option<usize> {
        let l1 = self.l1[dom];
        if l1 == 0 {
            return None;
        }
        let w = msb_index(l1);
        let b = msb_index(self.l2[dom][w]);
        Some(w * WORD + b)
    }

    /// `isHighestPrio(dom, prio)` without finding the highest priority: no ready queue of
    /// `dom` above `prio` (for the MCS IPC fastpath; no calls, no bit scan).
    #[cfg(feature = "mcs")]
    #[inline(always)]
    pub fn none_ready_above(&self, dom: usize, prio: u64) -> bool {
        let w = (prio / WORD as u64) as usize;
        let (Some(&l1), Some(l2)) = (self.l1.get(dom), self.l2.get(dom)) else {
            return false;
        };
        let Some(&l2) = l2.get(w) else {
            return false;
        };
        // Two shifts: `w` + 1 and `prio % 64` + 1 may be 64.
        l1 >> w >> 1 == 0 && l2 >> (prio % WORD as u64) >> 1 == 0
    }

    fn set_bit(&mut self, dom: usize, prio: usize) {
        self.l2[dom][prio / WORD] |= 1 << (prio % WORD);
        self.l1[dom] |= 1 << (prio / WORD);
    }

    fn clear_bit(&mut self, dom: usize, prio: usize) {
        self.l2[dom][prio / WORD] &= !(1 << (prio % WORD));
        if self.l2[dom][prio / WORD] == 0 {
            self.l1[dom] &= !(1 << (prio / WORD));
        }
    }
}

// The index of the highest set bit of `x` (not 0), `63 - x.leading_zeros()`, as the
// architecture computes it best (riscv64: halving steps and a byte table, since RV64GC has no
// count-leading-zeros instruction; aarch64: `clz`).
use crate::arch::msb_index;

impl Default for Scheduler {
    fn default() -> Self {
        Scheduler::new()
    }
}

/// The ready-queue set of domain `dom` (domains beyond the configuration share the last).
#[allow(clippy::absurd_extreme_comparisons, clippy::modulo_one)]
fn domain_index(dom: u64) -> usize {
    if (dom as usize) < NUM_DOMAINS {
        dom as usize
    } else {
        NUM_DOMAINS - 1
    }
}

fn qindex(dom: u64, prio: u64) -> (usize, usize, usize) {
    let (d, p) = (domain_index(dom), (prio as usize).min(NUM_PRIORITIES - 1));
    (d * NUM_PRIORITIES + p, d, p)
}

/// Whether `t` is the idle thread (the kernel represents it by the null TCB).
pub fn is_idle(t: TcbRef) -> bool {
    t.is_null()
}

/// `isSchedulable` (non-MCS: `isRunnable`).
#[cfg(not(feature = "mcs"))]
pub fn is_schedulable(t: TcbRef) -> bool {
    !is_idle(t) && t.state().is_runnable()
}

/// `isSchedulable` (MCS): runnable, with an active scheduling context, not in the release
/// queue.
#[cfg(feature = "mcs")]
pub fn is_schedulable(t: TcbRef) -> bool {
    if is_idle(t) || !t.state().is_runnable() {
        return false;
    }
    let (sc, in_release) = t.with(|x| (x.sched_context, x.in_release_queue));
    in_release == 0
        && sc
            .get()
            .is_some_and(crate::object::sched_context::sc_active)
}

/// `tcbSchedEnqueue`: puts a runnable thread at the head of its ready queue.
pub fn sched_enqueue(k: &mut Kernel, t: TcbRef) {
    insert(k, t, true)
}

/// `tcbSchedAppend`: puts a runnable thread at the tail of its ready queue.
pub fn sched_append(k: &mut Kernel, t: TcbRef) {
    insert(k, t, false)
}

fn insert(k: &mut Kernel, t: TcbRef, at_head: bool) {
    if is_idle(t) || t.with(|x| x.queued) != 0 {
        return;
    }
    // seL4 asserts that a queued thread is schedulable with a sufficient head refill; one
    // without a scheduling context must never be chosen (`switchSchedContext` needs one).
    #[cfg(feature = "mcs")]
    {
        debug_assert!(
            is_schedulable(t),
            "sched_enqueue of an unschedulable thread"
        );
        if t.with(|x| x.sched_context).is_none() {
            return;
        }
    }
    let (dom, prio) = t.with(|x| (x.domain, x.priority));
    let (i, d, p) = qindex(dom, prio);
    let q = k.sched.queues[i];
    match (q.head.get(), q.tail.get()) {
        (Some(head), Some(tail)) => {
            if at_head {
                head.with(|x| x.sched_prev = Link::to(t));
                t.with(|x| {
                    x.sched_next = q.head;
                    x.sched_prev = Link::NONE;
                });
                k.sched.queues[i].head = Link::to(t);
            } else {
                tail.with(|x| x.sched_next = Link::to(t));
                t.with(|x| {
                    x.sched_prev = q.tail;
                    x.sched_next = Link::NONE;
                });
                k.sched.queues[i].tail = Link::to(t);
            }
        }
        _ => {
            k.sched.set_bit(d, p);
            k.sched.queues[i] = Queue {
                head: Link::to(t),
                tail: Link::to(t),
            };
            t.with(|x| {
                x.sched_next = Link::NONE;
                x.sched_prev = Link::NONE;
            });
        }
    }
    t.with(|x| x.queued = 1);
}

/// `tcbSchedDequeue`: removes a thread from its ready queue if it is in one.
pub fn sched_dequeue(k: &mut Kernel, t: TcbRef) {
    if is_idle(t) || t.with(|x| x.queued) == 0 {
        return;
    }
    let (dom, prio, next, prev) = t.with(|x| (x.domain, x.priority, x.sched_next, x.sched_prev));
    let (i, d, p) = qindex(dom, prio);
    match prev.get() {
        None => k.sched.queues[i].head = next,
        Some(prev) => prev.with(|x| x.sched_next = next),
    }
    match next.get() {
        None => k.sched.queues[i].tail = prev,
        Some(next) => next.with(|x| x.sched_prev = prev),
    }
    if k.sched.queues[i].head.is_none() {
        k.sched.clear_bit(d, p);
    }
    t.with(|x| {
        x.queued = 0;
        x.sched_next = Link::NONE;
        x.sched_prev = Link::NONE;
    });
}

/// `rescheduleRequired`: the current choice is void; choose again on kernel exit (MCS: the
/// chosen thread is queued only if it is still schedulable).
pub fn reschedule_required(k: &mut Kernel) {
    if let SchedulerAction::SwitchToThread(t) = k.sched.action {
        #[cfg(not(feature = "mcs"))]
        sched_enqueue(k, t);
        #[cfg(feature = "mcs")]
        if is_schedulable(t) {
            sched_enqueue(k, t);
        }
    }
    k.sched.action = SchedulerAction::ChooseNewThread;
}

/// [`sched_enqueue`] out of line, for callers no measured path takes (domain and priority
/// changes, cancelled badged sends, `seL4_SchedContext_YieldTo`): one copy instead of one
/// inlined in each.
#[inline(never)]
pub fn sched_enqueue_cold(k: &mut Kernel, t: TcbRef) {
    sched_enqueue(k, t);
}

/// [`sched_append`] out of line, for the end of a time slice (`timerTick`, which no measured
/// path runs): one copy instead of one inlined there.
#[cfg(not(feature = "mcs"))]
#[inline(never)]
pub fn sched_append_cold(k: &mut Kernel, t: TcbRef) {
    sched_append(k, t);
}

/// [`sched_dequeue`] out of line, for the callers of [`sched_enqueue_cold`].
#[inline(never)]
pub fn sched_dequeue_cold(k: &mut Kernel, t: TcbRef) {
    sched_dequeue(k, t);
}

/// [`reschedule_required`] out of line, for the callers no measured path takes (invocations
/// that change the current thread, domain changes, cancelled badged sends): one copy of it
/// instead of one inlined in each.
#[inline(never)]
pub fn reschedule_required_cold(k: &mut Kernel) {
    reschedule_required(k);
}

/// `possibleSwitchTo`: `target` became runnable; switch to it on exit if it should run (MCS:
/// only a thread with a scheduling context that is not in the release queue).
pub fn possible_switch_to(k: &mut Kernel, target: TcbRef) {
    #[cfg(feature = "mcs")]
    if target.with(|x| x.sched_context.is_none() || x.in_release_queue != 0) {
        return;
    }
    if k.cur_domain != target.with(|x| x.domain) {
        sched_enqueue(k, target);
    } else if k.sched.action != SchedulerAction::ResumeCurrentThread {
        reschedule_required(k);
        sched_enqueue(k, target);
    } else {
        k.sched.action = SchedulerAction::SwitchToThread(target);
    }
}

/// `setThreadState`: sets the state and, if the current thread stopped being runnable,
/// asks for a reschedule (`scheduleTCB`).
pub fn set_thread_state(k: &mut Kernel, t: TcbRef, s: ThreadState) {
    t.set_state(s);
    schedule_tcb(k, t);
}

/// `scheduleTCB`.
pub fn schedule_tcb(k: &mut Kernel, t: TcbRef) {
    if t == k.cur_thread
        && k.sched.action == SchedulerAction::ResumeCurrentThread
        && !is_schedulable(t)
    {
        reschedule_required(k);
    }
}

fn switch_to_thread(k: &mut Kernel, t: TcbRef) {
    #[cfg(feature = "track_utilisation")]
    crate::benchmark::switch(k, k.cur_thread, t);
    sched_dequeue(k, t);
    k.set_cur_thread(t);
}

fn next_domain(k: &mut Kernel) {
    let s = &mut k.sched;
    s.domain_schedule_index += 1;
    if s.domain_schedule_index >= s.domain_schedule.len()
        || s.domain_schedule[s.domain_schedule_index].duration == 0
    {
        s.domain_schedule_index = s.domain_schedule_start;
    }
    let e = s.domain_schedule[s.domain_schedule_index];
    k.work_units = 0;
    #[cfg(feature = "mcs")]
    {
        k.reprogram = true;
    }
    k.cur_domain = e.domain;
    k.sched.domain_time = e.duration;
}

fn choose_thread(k: &mut Kernel) {
    let dom = if NUM_DOMAINS > 1 {
        k.cur_domain as usize
    } else {
        0
    };
    // The bitmap names non-empty queues only, so a set bit always yields a head.
    let head = |p: usize| k.sched.queues[dom * NUM_PRIORITIES + p].head.get();
    match k.sched.highest_prio(dom).and_then(head) {
        Some(t) => switch_to_thread(k, t),
        None => {
            // `switchToIdleThread`.
            #[cfg(feature = "track_utilisation")]
            crate::benchmark::switch(k, k.cur_thread, TcbRef::NULL);
            k.set_cur_thread(TcbRef::NULL)
        }
    }
}

fn schedule_choose_new_thread(k: &mut Kernel) {
    if k.sched.domain_time == 0 {
        next_domain(k);
    }
    choose_thread(k);
}

/// Whether choosing a new thread would choose `cur`, the current thread, runnable and not
/// queued, again: `schedule` would put it at the head of its ready queue (`tcbSchedEnqueue`),
/// no domain switch is due (`domain_time` is not 0), it
/// belongs to the domain `chooseThread` looks at, and no ready queue of that domain has a higher
/// priority. Then `chooseThread` takes it off that queue again and every queue is as it was:
/// `schedule` may skip both steps (sel4bench's "reschedule current thread",
/// `seL4_TCB_SetPriority` on itself; docs/PERFORMANCE.md).
#[inline(always)]
fn chosen_again(k: &Kernel, cur: TcbRef) -> bool {
    let (dom, prio) = cur.with(|x| (x.domain, x.priority));
    let choose_dom = if NUM_DOMAINS > 1 {
        k.cur_domain as usize
    } else {
        0
    };
    let (_, d, p) = qindex(dom, prio);
    k.sched.domain_time != 0 && d == choose_dom && k.sched.highest_prio(d).is_none_or(|h| p >= h)
}

/// `isHighestPrio(dom, prio)`: no ready thread of the domain has a higher priority.
pub fn is_highest_prio(k: &Kernel, dom: u64, prio: u64) -> bool {
    let d = domain_index(dom);
    k.sched.highest_prio(d).is_none_or(|p| prio as usize >= p)
}

/// `schedule`: carries out the scheduler action. Afterwards `k.cur_thread` is the thread to
/// run (the null TCB for idle). MCS: first wakes the threads whose refills are due
/// (`awaken`) and checks the domain's time; afterwards makes the thread's scheduling context
/// current and programs the timer if anything changed (`switchSchedContext`,
/// `setNextInterrupt`). Without MCS it is called only when the action is not
/// `ResumeCurrentThread`; with MCS on every exit.
#[inline(never)]
pub fn schedule(k: &mut Kernel) {
    #[cfg(feature = "mcs")]
    {
        mcs::awaken(k);
        mcs::check_domain_time(k);
    }
    if k.sched.action != SchedulerAction::ResumeCurrentThread {
        let cur = k.cur_thread;
        let was_runnable = is_schedulable(cur);
        match k.sched.action {
            SchedulerAction::ChooseNewThread => {
                // `tcbSchedEnqueue(cur)` (a no-op for a queued thread, as after a yield), then
                // `scheduleChooseNewThread`, unless that would choose `cur` again.
                if was_runnable && cur.with(|x| x.queued) == 0 && chosen_again(k, cur) {
                    #[cfg(feature = "track_utilisation")]
                    crate::benchmark::switch(k, cur, cur);
                } else {
                    if was_runnable {
                        sched_enqueue(k, cur);
                    }
                    schedule_choose_new_thread(k);
                }
            }
            SchedulerAction::SwitchToThread(cand) => {
                if was_runnable {
                    sched_enqueue(k, cur);
                }
                let cand_prio = cand.with(|x| x.priority);
                let cur_prio = if is_idle(cur) {
                    0
                } else {
                    cur.with(|x| x.priority)
                };
                let fastfail = is_idle(cur) || cand_prio < cur_prio;
                // Back to its queue: at the head (`tcbSchedEnqueue`) if another ready thread
                // has a higher priority, else at the tail (`tcbSchedAppend`) if it has the
                // priority of the runnable current thread; one inlined queue insertion for
                // both.
                let to_head = fastfail && !is_highest_prio(k, k.cur_domain, cand_prio);
                if to_head || (was_runnable && cand_prio == cur_prio) {
                    insert(k, cand, to_head);
                    k.sched.action = SchedulerAction::ChooseNewThread;
                    schedule_choose_new_thread(k);
                } else {
                    switch_to_thread(k, cand);
                }
            }
            SchedulerAction::ResumeCurrentThread => {}
        }
    }
    k.sched.action = SchedulerAction::ResumeCurrentThread;
    #[cfg(feature = "mcs")]
    {
        mcs::switch_sched_context(k);
        if k.reprogram {
            mcs::set_next_interrupt(k);
            k.reprogram = false;
        }
    }
}

/// `timerTick` (non-MCS): charges the running thread a tick of its time slice; at the end of the slice it
/// goes to the back of its queue.
#[cfg(not(feature = "mcs"))]
pub fn timer_tick(k: &mut Kernel) {
    let cur = k.cur_thread;
    if !is_idle(cur) && cur.state() == ThreadState::Running {
        let ts = cur.with(|x| x.time_slice);
        if ts > 1 {
            cur.with(|x| x.time_slice = ts - 1);
        } else {
            cur.with(|x| x.time_slice = TIME_SLICE);
            sched_append_cold(k, cur);
            reschedule_required_cold(k);
        }
    }
    if NUM_DOMAINS > 1 {
        k.sched.domain_time = k.sched.domain_time.saturating_sub(1);
        if k.sched.domain_time == 0 {
            reschedule_required(k);
        }
    }
}

#[cfg(test)]
mod tests {
    /// The MCS fastpath's bitmap test agrees with `isHighestPrio` for every priority.
    #[cfg(feature = "mcs")]
    #[test]
    fn none_ready_above_is_is_highest_prio() {
        use super::{is_highest_prio, Scheduler, NUM_PRIORITIES};
        let mut k = crate::state::Kernel::new();
        let sets: [&[usize]; 6] = [&[], &[0], &[63], &[64, 3], &[255], &[1, 100, 191, 192]];
        for set in sets {
            k.sched = Scheduler::new();
            for &p in set {
                k.sched.set_bit(0, p);
            }
            for prio in 0..NUM_PRIORITIES as u64 {
                assert_eq!(
                    k.sched.none_ready_above(0, prio),
                    is_highest_prio(&k, 0, prio),
                    "{set:?} {prio}"
                );
            }
        }
    }
}
