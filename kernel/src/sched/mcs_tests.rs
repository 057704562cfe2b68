//! Host tests of the MCS time code: the sporadic-server refill algorithm against seL4's
//! invariants (property tests over random configure/run/unblock/update sequences), the
//! ConfigureFlags checks and their order, binding, donation, the release queue and the timer.
//! Objects live in a plain host buffer; the kernel is a fresh [`Kernel`].

use crate::arch::{us_to_ticks, TIMER_PRECISION_TICKS};
use crate::cap::Cap;
use crate::cte::Slot;
use crate::error::SyscallError;
use crate::invocation::InvocationArgs;
use crate::object::notification::NtfnRef;
use crate::object::sched_context::*;
use crate::object::sched_control::{
    decode_sched_control_invocation, invoke_sched_control, SchedControlInvocation,
};
use crate::object::tcb::{TcbRef, ThreadState};
use crate::sched::mcs::*;
use crate::sched::{is_schedulable, SchedulerAction};
use crate::state::Kernel;
use abi::InvocationLabel;
use proptest::prelude::*;

/// Zeroed, aligned host memory for test objects (a bump allocator).
struct Objects {
    buf: Vec<u64>,
    next: usize,
}

impl Objects {
    fn new() -> Objects {
        Objects {
            buf: vec![0; 1 << 17],
            next: 0,
        }
    }
    /// A zeroed object of 2^`bits` bytes, aligned to its size.
    fn alloc(&mut self, bits: u32) -> usize {
        let base = self.buf.as_ptr() as usize;
        let size = 1usize << bits;
        let start = (base + self.next + size - 1) & !(size - 1);
        self.next = start + size - base;
        assert!(
            self.next <= self.buf.len() * 8,
            "test object memory exhausted"
        );
        start
    }
    fn sc(&mut self, bits: u32) -> ScRef {
        ScRef::sim(self.alloc(bits))
    }
    fn tcb(&mut self) -> TcbRef {
        let t = TcbRef::sim(self.alloc(abi::object::TCB_BITS as u32));
        crate::object::tcb::init_tcb(t, 0);
        t
    }
    fn ntfn(&mut self) -> NtfnRef {
        NtfnRef(crate::mem::PPtr::sim(
            self.alloc(abi::object::NOTIFICATION_BITS as u32),
        ))
    }
}

fn kernel() -> Box<Kernel> {
    let mut k = Box::new(Kernel::new());
    k.cur_time = 1_000_000;
    k
}

/// Every refill of `sc`, head first.
fn refills(sc: ScRef) -> Vec<Refill> {
    let (mut i, tail, max) = sc.with(|s| (s.refill_head, s.refill_tail, s.refill_max));
    let mut v = vec![sc.refill(i).get()];
    while i != tail {
        i = if i + 1 == max { 0 } else { i + 1 };
        v.push(sc.refill(i).get());
    }
    v
}

/// seL4's refill invariants: indices in range, size within the maximum (which fits the
/// object), amounts adding up to the budget, refills ordered and not overlapping (non round
/// robin), the head at least `MIN_BUDGET`; round robin: exactly two refills.
fn check_invariants(sc: ScRef, budget: u64, slots: u64) -> Result<(), TestCaseError> {
    let (head, tail, max) = sc.with(|s| (s.refill_head, s.refill_tail, s.refill_max));
    prop_assert!(
        max >= MIN_REFILLS && max <= slots,
        "max {max} slots {slots}"
    );
    prop_assert!(head < max && tail < max);
    let r = refills(sc);
    prop_assert_eq!(r.len() as u64, refill_size(sc));
    prop_assert!(refill_size(sc) <= max);
    prop_assert_eq!(r.iter().map(|x| x.amount).sum::<u64>(), budget);
    prop_assert_eq!(refill_sum(sc), budget);
    prop_assert!(r[0].amount >= MIN_BUDGET, "head {:?}", r[0]);
    if is_round_robin(sc) {
        prop_assert_eq!(r.len() as u64, MIN_REFILLS);
    } else {
        for w in r.windows(2) {
            prop_assert!(w[0].time + w[0].amount <= w[1].time, "unordered {:?}", r);
        }
        prop_assert!(refill_ordered(sc));
    }
    Ok(())
}

#[derive(Clone, Debug)]
enum Op {
    /// The thread runs `usage` ticks from when its head refill is ready, then is charged.
    Run(u64),
    /// Time passes.
    Wait(u64),
    /// The thread wakes up (`refill_unblock_check`).
    Unblock,
    /// ConfigureFlags on the active SC (`refill_update`).
    Update {
        budget_us: u64,
        period_us: u64,
        extra: u64,
    },
}

fn params() -> impl Strategy<Value = (u64, u64)> {
    (20u64..3000, 0u64..5000).prop_map(|(b, extra)| (b, b + extra))
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        4 => (1u64..40_000).prop_map(Op::Run),
        2 => (0u64..60_000).prop_map(Op::Wait),
        2 => Just(Op::Unblock),
        1 => (params(), 0u64..8).prop_map(|((budget_us, period_us), extra)| Op::Update {
            budget_us,
            period_us,
            extra
        }),
    ];
    proptest::collection::vec(op, 0..60)
}

proptest! {
    /// Random configure/run/wait/unblock/update sequences keep seL4's refill invariants.
    #[test]
    fn refills_keep_sel4_invariants(
        bits in 7u32..=9,
        (budget_us, period_us) in params(),
        extra in 0u64..40,
        ops in ops(),
    ) {
        let mut o = Objects::new();
        let sc = o.sc(bits);
        let slots = refill_slots(bits as u64);
        let rr = budget_us == period_us;
        let max = if rr { MIN_REFILLS } else { (extra % (slots - 1)) + MIN_REFILLS };
        let mut budget = us_to_ticks(budget_us);
        let mut now = 5_000u64;
        refill_new(sc, max, budget, if rr { 0 } else { us_to_ticks(period_us) }, now);
        check_invariants(sc, budget, slots)?;
        for op in ops {
            match op {
                Op::Run(usage) => {
                    let head = refill_head(sc).get();
                    now = now.max(head.time);
                    now += usage;
                    if is_round_robin(sc) {
                        // commitTime / chargeBudget for round robin.
                        let used = usage.min(head.amount);
                        refill_head(sc).with(|r| r.amount -= used);
                        refill_tail(sc).with(|r| r.amount += used);
                        if !refill_sufficient(sc, 0) {
                            let (h, t) = (refill_head(sc).get(), refill_tail(sc).get());
                            refill_head(sc).with(|r| r.amount = h.amount + t.amount);
                            refill_tail(sc).with(|r| r.amount = 0);
                        }
                    } else {
                        refill_budget_check(sc, usage);
                    }
                }
                Op::Wait(t) => now += t,
                Op::Unblock => {
                    refill_unblock_check(sc, now);
                }
                Op::Update { budget_us, period_us, extra } => {
                    let b = us_to_ticks(budget_us);
                    if budget_us == period_us {
                        refill_new(sc, MIN_REFILLS, b, 0, now);
                    } else {
                        let m = (extra % (slots - 1)) + MIN_REFILLS;
                        refill_update(sc, us_to_ticks(period_us), b, m, now);
                    }
                    budget = b;
                }
            }
            check_invariants(sc, budget, slots)?;
        }
    }

    /// The sporadic server's guarantee, as seL4 keeps it: a thread that runs whenever its
    /// head refill allows (never past the head's end: the timer stops it there) executes at
    /// most its budget in any window of one period, but for what merging a head refill
    /// shorter than `MIN_BUDGET` into the next one brings forward (seL4 delays the merged
    /// refill's start by the head's amount so that it ends no later, which lets up to that
    /// amount run early).
    #[test]
    fn at_most_the_budget_in_any_period(
        (budget_us, period_us) in params().prop_filter("not round robin", |(b, p)| b != p),
        bits in 7u32..=9,
        steps in proptest::collection::vec((1u64..20_000, 0u64..30_000, any::<bool>()), 1..40),
    ) {
        let mut o = Objects::new();
        let sc = o.sc(bits);
        let (budget, period) = (us_to_ticks(budget_us), us_to_ticks(period_us));
        let mut now = 10_000u64;
        refill_new(sc, refill_slots(bits as u64), budget, period, now);
        let mut ran: Vec<(u64, u64)> = vec![];
        let mut blocked = true;
        for (usage, wait, keeps_running) in steps {
            let start = now.max(refill_head(sc).get().time);
            if start != now || blocked {
                // The thread is dispatched again (after waiting for its refill, or after
                // blocking): `switchSchedContext`/wake-up bring the head up to now.
                refill_unblock_check(sc, start);
            }
            let used = usage.min(refill_head(sc).get().amount);
            ran.push((start, start + used));
            refill_budget_check(sc, used);
            now = start + used;
            blocked = !keeps_running;
            if blocked {
                now += wait;
            }
        }
        for &(s, _) in &ran {
            let w: u64 = ran
                .iter()
                .map(|&(a, b)| b.min(s + period).saturating_sub(a.max(s)))
                .sum();
            prop_assert!(
                w < budget + MIN_BUDGET,
                "{} > {} in [{}, +{}): {:?}", w, budget, s, period, ran
            );
        }
    }
}

#[test]
fn constants_of_the_reference_build() {
    assert_eq!((MIN_BUDGET_US, MIN_BUDGET), (20, 200));
    assert_eq!(MAX_PERIOD_US, 230_584_300_921_369_395);
    // `UINT64_MAX - 5 * usToTicks(MAX_PERIOD_US)` with 10 ticks a microsecond.
    assert_eq!(MAX_RELEASE_TIME, 6_917_529_027_641_081_865);
    assert_eq!(refill_slots(7), 2);
    assert_eq!(refill_slots(8), 10);
    assert_eq!(IDLE_BUDGET, 50_000);
}

#[test]
fn refill_new_round_robin_has_an_empty_tail() {
    let mut o = Objects::new();
    let sc = o.sc(7);
    refill_new(sc, MIN_REFILLS, 50_000, 0, 77);
    assert_eq!(
        refills(sc),
        [
            Refill {
                time: 77,
                amount: 50_000
            },
            Refill {
                time: 77,
                amount: 0
            }
        ]
    );
    assert!(is_round_robin(sc) && sc_active(sc));
}

#[test]
fn budget_check_splits_and_merges_as_sel4() {
    let mut o = Objects::new();
    let sc = o.sc(7); // two refills
    refill_new(sc, 2, 1000, 5000, 0);
    refill_budget_check(sc, 300);
    assert_eq!(
        refills(sc),
        [
            Refill {
                time: 300,
                amount: 700
            },
            Refill {
                time: 5000,
                amount: 300
            }
        ]
    );
    // Used time adjacent to the tail merges into it.
    refill_budget_check(sc, 400);
    assert_eq!(
        refills(sc),
        [
            Refill {
                time: 700,
                amount: 300
            },
            Refill {
                time: 5000,
                amount: 700
            }
        ]
    );
    // Using what would leave less than MIN_BUDGET in the head merges the head forward.
    // (150@850 would stay: it joins 850@5000, which starts 150 earlier.)
    refill_budget_check(sc, 150);
    assert_eq!(
        refills(sc),
        [Refill {
            time: 4850,
            amount: 1000
        }]
    );
}

#[test]
fn unblock_check_moves_a_ready_head_to_now_and_merges_overlaps() {
    let mut o = Objects::new();
    let sc = o.sc(8);
    refill_new(sc, 5, 1000, 10_000, 0);
    refill_budget_check(sc, 400); // head 600@400, tail 400@10000
    assert!(!refill_unblock_check(sc, 100));
    assert!(refill_unblock_check(sc, 9_700));
    // The head now runs 9700..10300 and overlaps the refill at 10000: merged.
    assert_eq!(
        refills(sc),
        [Refill {
            time: 9_700,
            amount: 1000
        }]
    );
}

/// A mock of the invocation arguments: words and extra caps.
struct Args {
    mrs: Vec<u64>,
    caps: Vec<Cap>,
}

impl InvocationArgs for Args {
    fn len(&self) -> usize {
        self.mrs.len()
    }
    fn mr(&self, i: usize) -> u64 {
        self.mrs.get(i).copied().unwrap_or(0)
    }
    fn extra_cap(&self, i: usize) -> Option<(Cap, Slot)> {
        self.caps
            .get(i)
            .map(|&c| (c, Slot(crate::mem::PPtr::sim(0))))
    }
    fn extra_cptr(&self, i: usize) -> u64 {
        i as u64
    }
    fn is_call(&self) -> bool {
        true
    }
}

fn configure(mrs: &[u64], caps: &[Cap]) -> Result<SchedControlInvocation, SyscallError> {
    let a = Args {
        mrs: mrs.to_vec(),
        caps: caps.to_vec(),
    };
    decode_sched_control_invocation(InvocationLabel::SchedControlConfigureFlags, &a, 0)
}

#[test]
fn configure_flags_errors_in_sel4_order() {
    let sc = Cap::SchedContext {
        ptr: crate::mem::PPtr::sim(0x1000),
        size_bits: 8,
    };
    let ep = Cap::Endpoint {
        ptr: crate::object::endpoint::EpRef(crate::mem::PPtr::sim(0x1000)),
        badge: 0,
        rights: Default::default(),
    };
    let range = SyscallError::RangeError(MIN_BUDGET_US, MAX_PERIOD_US);
    let big = MAX_PERIOD_US + 1;
    // No cap first, even with a short message.
    assert_eq!(configure(&[], &[]), Err(SyscallError::TruncatedMessage));
    assert_eq!(
        configure(&[1000, 1000, 0, 0], &[sc]),
        Err(SyscallError::TruncatedMessage)
    );
    // Range checks before the cap type.
    assert_eq!(configure(&[big, 10, 0, 0, 0], &[ep]), Err(range));
    assert_eq!(configure(&[10, big, 0, 0, 0], &[ep]), Err(range));
    assert_eq!(configure(&[19, 1000, 0, 0, 0], &[ep]), Err(range));
    assert_eq!(configure(&[20, 19, 0, 0, 0], &[ep]), Err(range));
    assert_eq!(
        configure(&[2000, 1000, 0, 0, 0], &[ep]),
        Err(SyscallError::RangeError(MIN_BUDGET_US, 1000))
    );
    assert_eq!(
        configure(&[20, 1000, 0, 0, 0], &[ep]),
        Err(SyscallError::InvalidCapability(1))
    );
    // Extra refills: at most the slots of the object less two.
    assert_eq!(
        configure(&[20, 1000, 9, 0, 0], &[sc]),
        Err(SyscallError::RangeError(0, 8))
    );
    let ok = configure(&[20, 1000, 8, 7, 1], &[sc]).unwrap();
    assert_eq!(
        ok,
        SchedControlInvocation {
            sc: ScRef::sim(0x1000),
            core: 0,
            budget: 200,
            period: 10_000,
            max_refills: 10,
            badge: 7,
            flags: 1
        }
    );
    let a = Args {
        mrs: vec![],
        caps: vec![],
    };
    assert_eq!(
        decode_sched_control_invocation(InvocationLabel::SchedContextBind, &a, 0),
        Err(SyscallError::IllegalOperation)
    );
}

/// The range checks' boundaries are seL4's: a budget or period of exactly `MAX_PERIOD_US`
/// and a period of exactly `MIN_BUDGET_US` are accepted (only values beyond them are
/// `RangeError`s), and so is a budget equal to its period.
#[test]
fn configure_flags_accepts_the_boundaries() {
    let sc = Cap::SchedContext {
        ptr: crate::mem::PPtr::sim(0x1000),
        size_bits: 8,
    };
    let ok = |budget_us: u64, period_us: u64| {
        let inv = configure(&[budget_us, period_us, 0, 3, 0], &[sc]).unwrap();
        assert_eq!(
            (inv.budget, inv.period, inv.max_refills, inv.badge),
            (
                us_to_ticks(budget_us),
                us_to_ticks(period_us),
                MIN_REFILLS,
                3
            )
        );
    };
    ok(MAX_PERIOD_US, MAX_PERIOD_US);
    ok(MIN_BUDGET_US, MAX_PERIOD_US);
    ok(MIN_BUDGET_US, MIN_BUDGET_US);
    ok(MIN_BUDGET_US, MIN_BUDGET_US + 1);
    let range = SyscallError::RangeError(MIN_BUDGET_US, MAX_PERIOD_US);
    assert_eq!(
        configure(&[MAX_PERIOD_US + 1, MAX_PERIOD_US, 0, 0, 0], &[sc]),
        Err(range)
    );
    assert_eq!(
        configure(&[MIN_BUDGET_US, MAX_PERIOD_US + 1, 0, 0, 0], &[sc]),
        Err(range)
    );
    assert_eq!(
        configure(&[MIN_BUDGET_US + 1, MIN_BUDGET_US, 0, 0, 0], &[sc]),
        Err(SyscallError::RangeError(MIN_BUDGET_US, MIN_BUDGET_US))
    );
}

/// A thread in `state` bound to a fresh SC configured with `budget`/`period` ticks.
fn bound_thread(
    k: &mut Kernel,
    o: &mut Objects,
    budget: u64,
    period: u64,
    state: ThreadState,
) -> (TcbRef, ScRef) {
    let t = o.tcb();
    t.with(|x| x.priority = 10);
    t.set_state(state);
    let sc = o.sc(8);
    refill_new(sc, 4, budget, period, k.cur_time);
    bind_tcb(k, sc, t);
    (t, sc)
}

#[test]
fn bind_unbind_and_donate() {
    let mut k = kernel();
    let mut o = Objects::new();
    let (t, sc) = bound_thread(&mut k, &mut o, 1000, 1000, ThreadState::Running);
    assert_eq!((tcb_sc(t), sc_tcb(sc)), (sc, t));
    assert!(is_schedulable(t) && t.with(|x| x.queued) == 1);
    assert_eq!(k.sched.action, SchedulerAction::ChooseNewThread);

    // Donation moves the SC: the old thread leaves the ready queue.
    let u = o.tcb();
    u.set_state(ThreadState::Running);
    donate(&mut k, sc, u);
    assert_eq!((tcb_sc(t).addr(), tcb_sc(u), sc_tcb(sc)), (0, sc, u));
    assert!(!is_schedulable(t) && t.with(|x| x.queued) == 0);
    assert!(is_schedulable(u));

    unbind_tcb(&mut k, sc);
    assert_eq!((tcb_sc(u).addr(), sc_tcb(sc).addr()), (0, 0));

    // Notifications.
    let n = o.ntfn();
    bind_ntfn(sc, n);
    assert_eq!(
        n.0.with(|x| x.sched_context.addr() as u64),
        sc.addr() as u64
    );
    maybe_unbind_ntfn(n);
    assert_eq!(
        (
            n.0.with(|x| x.sched_context.addr() as u64),
            sc.with(|s| s.notification.addr() as u64)
        ),
        (0, 0)
    );

    // Finalise: unbound, unconfigured.
    bind_tcb(&mut k, sc, t);
    bind_ntfn(sc, n);
    finalise(&mut k, sc);
    assert_eq!(
        (
            tcb_sc(t).addr(),
            n.0.with(|x| x.sched_context.addr() as u64)
        ),
        (0, 0)
    );
    assert!(!sc_active(sc));
}

#[test]
fn release_queue_is_sorted_by_head_refill_time() {
    let mut k = kernel();
    let mut o = Objects::new();
    let now = k.cur_time;
    let mut threads = vec![];
    // Heads at now + d for these d; equal times keep their order.
    for (i, d) in [5000u64, 1000, 3000, 1000, 9000, 0].into_iter().enumerate() {
        let (t, sc) = bound_thread(&mut k, &mut o, 1000, 100_000, ThreadState::Inactive);
        refill_head(sc).with(|r| r.time = now + d + 1);
        t.set_state(ThreadState::Running);
        postpone(&mut k, sc);
        threads.push((i, d, t));
    }
    let mut order = vec![];
    let mut p = k.sched.release_queue.head.get();
    while let Some(t) = p {
        order.push(threads.iter().find(|x| x.2 == t).unwrap().0);
        p = t.with(|x| x.sched_next).get();
    }
    assert_eq!(order, [5, 1, 3, 2, 0, 4]);
    assert!(threads.iter().all(|x| !is_schedulable(x.2)));
    assert!(k.sched.release_queue.tail.is(threads[4].2));

    // The timer: the earlier of the current head refill's end and the first release.
    k.set_cur_thread(TcbRef::sim(0));
    set_next_interrupt(&mut k);
    assert_eq!(
        crate::arch::host::deadline(),
        now + 1 - TIMER_PRECISION_TICKS
    );

    // Time passes: the threads due leave the queue, in order.
    k.cur_time = now + 3001;
    k.sched.action = SchedulerAction::ResumeCurrentThread;
    awaken(&mut k);
    let left: Vec<_> = threads
        .iter()
        .filter(|x| x.2.with(|t| t.in_release_queue) == 0)
        .map(|x| x.0)
        .collect();
    assert_eq!(left, [1, 2, 3, 5]);
    assert!(k.sched.release_queue.head.is(threads[0].2));
    assert!(left.iter().all(|&i| is_schedulable(threads[i].2)));

    // Removing from the middle keeps the links.
    release_remove(&mut k, threads[0].2);
    assert!(k.sched.release_queue.head.is(threads[4].2));
    assert!(threads[4].2.with(|x| x.sched_prev).is_none());
}

#[test]
fn budget_runs_out_round_robin_requeues_and_sporadic_waits() {
    let mut k = kernel();
    let mut o = Objects::new();
    // Round robin: charged in full, back to the ready queue at once.
    let (t, sc) = bound_thread(&mut k, &mut o, 1000, 1000, ThreadState::Running);
    refill_new(sc, MIN_REFILLS, 1000, 0, k.cur_time);
    crate::sched::sched_dequeue(&mut k, t);
    k.set_cur_thread(t);
    k.cur_sc = sc;
    k.sched.action = SchedulerAction::ResumeCurrentThread;
    k.consumed = 900;
    assert!(!check_budget(&mut k));
    assert_eq!(refill_head(sc).get().amount, 1000);
    assert_eq!(sc.with(|s| s.consumed), 900);
    assert!(t.with(|x| x.queued) == 1 && k.reprogram);
    assert_eq!(k.sched.action, SchedulerAction::ChooseNewThread);

    // Sporadic: the used time comes back a period later; the thread waits for it.
    let (u, sc2) = bound_thread(&mut k, &mut o, 1000, 10_000, ThreadState::Running);
    refill_new(sc2, 2, 1000, 10_000, k.cur_time);
    crate::sched::sched_dequeue(&mut k, u);
    k.set_cur_thread(u);
    k.cur_sc = sc2;
    k.consumed = 850;
    k.sched.action = SchedulerAction::ResumeCurrentThread;
    assert!(!check_budget(&mut k));
    assert_eq!(u.with(|x| x.in_release_queue), 1);
    assert!(!is_schedulable(u));
    assert_eq!(sc2.with(|s| s.consumed), 850);
    assert_eq!(update_consumed(sc2), 85);
    assert_eq!(sc2.with(|s| s.consumed), 0);
    let head = refill_head(sc2).get();
    assert!(head.time > k.cur_time);
    // Its release: at the head's time it is awakened (another thread runs meanwhile).
    k.set_cur_thread(TcbRef::sim(0));
    k.cur_time = head.time;
    awaken(&mut k);
    assert!(is_schedulable(u));
}

#[test]
fn configure_flags_on_the_running_sc_keeps_its_used_bandwidth() {
    let mut k = kernel();
    let mut o = Objects::new();
    let (t, sc) = bound_thread(&mut k, &mut o, 2000, 10_000, ThreadState::Running);
    crate::sched::sched_dequeue(&mut k, t);
    k.set_cur_thread(t);
    k.cur_sc = sc;
    k.consumed = 500;
    let now = k.cur_time;
    invoke_sched_control(
        &mut k,
        SchedControlInvocation {
            sc,
            core: 0,
            budget: 1000,
            period: 20_000,
            max_refills: 3,
            badge: 5,
            flags: SCHED_CONTEXT_SPORADIC,
        },
    );
    // The 500 used were committed first; the head keeps what is left of it, cut to the
    // new budget (1000 of 1500), and nothing more comes.
    assert_eq!(k.consumed, 0);
    assert_eq!(sc.with(|s| s.consumed), 500);
    assert_eq!(refill_sum(sc), 1000);
    assert_eq!(
        refills(sc)[0],
        Refill {
            time: now + 500,
            amount: 1000
        }
    );
    assert_eq!(
        sc.with(|s| (s.badge, s.sporadic, s.period, s.refill_max)),
        (5, 1, 20_000, 3)
    );
    assert_eq!(k.sched.action, SchedulerAction::ChooseNewThread);

    // Round robin on an inactive thread: refill_new with an empty tail.
    t.set_state(ThreadState::Inactive);
    invoke_sched_control(
        &mut k,
        SchedControlInvocation {
            sc,
            core: 0,
            budget: 3000,
            period: 3000,
            max_refills: 9,
            badge: 0,
            flags: 0,
        },
    );
    assert_eq!(refill_size(sc), 2);
    assert_eq!(sc.with(|s| (s.period, s.refill_max, s.sporadic)), (0, 2, 0));
}

/// ConfigureFlags on an active SC whose budget is not in use (no thread, or a thread that is
/// not runnable) is `refill_new`: the whole new budget in one refill from now, whatever was
/// used before (`refill_update`, which keeps the used head, is only for a runnable thread).
#[test]
fn configure_flags_on_an_sc_not_in_use_starts_afresh() {
    let mut k = kernel();
    let mut o = Objects::new();
    let configure = |k: &mut Kernel, sc| {
        invoke_sched_control(
            k,
            SchedControlInvocation {
                sc,
                core: 0,
                budget: 1000,
                period: 20_000,
                max_refills: 3,
                badge: 9,
                flags: 0,
            },
        )
    };
    let sc = o.sc(8);
    refill_new(sc, 4, 2000, 10_000, k.cur_time);
    refill_budget_check(sc, 500); // head 1500 from now + 500, 500 a period later
    k.cur_time += 100;
    let now = k.cur_time;
    configure(&mut k, sc);
    assert_eq!(
        refills(sc),
        [Refill {
            time: now,
            amount: 1000
        }]
    );
    assert_eq!(
        sc.with(|s| (s.period, s.refill_max, s.badge)),
        (20_000, 3, 9)
    );

    let (t, sc) = bound_thread(&mut k, &mut o, 2000, 10_000, ThreadState::Inactive);
    refill_budget_check(sc, 500);
    k.cur_time += 100;
    let now = k.cur_time;
    configure(&mut k, sc);
    assert_eq!(
        refills(sc),
        [Refill {
            time: now,
            amount: 1000
        }]
    );
    assert_eq!(
        (t.with(|x| x.queued), t.with(|x| x.in_release_queue)),
        (0, 0)
    );
}

/// ConfigureFlags takes the SC's thread out of the scheduler's queues and puts it back as
/// seL4 does: a runnable thread that is not the current one through `possibleSwitchTo` (the
/// thread to switch to if the current one may go on, else queued), the current thread by
/// `rescheduleRequired` (a new choice on the way out).
#[test]
fn configure_flags_gives_the_thread_back_to_the_scheduler() {
    let mut k = kernel();
    let mut o = Objects::new();
    let inv = |sc| SchedControlInvocation {
        sc,
        core: 0,
        budget: 1000,
        period: 20_000,
        max_refills: 3,
        badge: 0,
        flags: 0,
    };
    let (t, sc) = bound_thread(&mut k, &mut o, 2000, 10_000, ThreadState::Running);
    assert_eq!(t.with(|x| x.queued), 1);
    let cur = o.tcb();
    k.set_cur_thread(cur);
    // The current thread may go on: the SC's thread is the one to switch to, not queued.
    k.sched.action = SchedulerAction::ResumeCurrentThread;
    invoke_sched_control(&mut k, inv(sc));
    assert_eq!(k.sched.action, SchedulerAction::SwitchToThread(t));
    assert_eq!(t.with(|x| x.queued), 0);
    // A choice is due already: the thread is queued for it.
    k.sched.action = SchedulerAction::ChooseNewThread;
    invoke_sched_control(&mut k, inv(sc));
    assert_eq!(k.sched.action, SchedulerAction::ChooseNewThread);
    assert_eq!(t.with(|x| x.queued), 1);
    // The SC's thread is the current one: a new choice, and it is not queued.
    crate::sched::sched_dequeue(&mut k, t);
    k.set_cur_thread(t);
    k.cur_sc = sc;
    k.sched.action = SchedulerAction::ResumeCurrentThread;
    invoke_sched_control(&mut k, inv(sc));
    assert_eq!(k.sched.action, SchedulerAction::ChooseNewThread);
    assert_eq!(t.with(|x| x.queued), 0);
}

#[test]
fn sched_context_decode_checks() {
    let mut k = kernel();
    let mut o = Objects::new();
    let (t, sc) = bound_thread(&mut k, &mut o, 1000, 1000, ThreadState::Running);
    let other = o.tcb();
    let dec = |k: &Kernel, label, caps: &[Cap], who| {
        let a = Args {
            mrs: vec![],
            caps: caps.to_vec(),
        };
        decode_sched_context_invocation(k, label, &a, sc, who).map(|_| ())
    };
    use InvocationLabel::*;
    let tc = |t: TcbRef| Cap::Thread { tcb: t };
    assert_eq!(
        dec(&k, SchedContextBind, &[], other),
        Err(SyscallError::TruncatedMessage)
    );
    assert_eq!(
        dec(&k, SchedContextBind, &[tc(other)], other),
        Err(SyscallError::IllegalOperation)
    );
    assert_eq!(
        dec(&k, SchedContextBind, &[Cap::Null], other),
        Err(SyscallError::InvalidCapability(1))
    );
    assert_eq!(
        dec(&k, SchedContextUnbindObject, &[tc(other)], other),
        Err(SyscallError::IllegalOperation)
    );
    assert_eq!(
        dec(&k, SchedContextUnbindObject, &[tc(t)], t),
        Err(SyscallError::IllegalOperation)
    );
    assert_eq!(dec(&k, SchedContextUnbindObject, &[tc(t)], other), Ok(()));
    assert_eq!(
        dec(&k, SchedContextUnbind, &[], t),
        Err(SyscallError::IllegalOperation)
    );
    assert_eq!(dec(&k, SchedContextUnbind, &[], other), Ok(()));
    assert_eq!(
        dec(&k, SchedContextYieldTo, &[], t),
        Err(SyscallError::IllegalOperation)
    );
    // The invoker's MCP must cover the thread's priority.
    assert_eq!(
        dec(&k, SchedContextYieldTo, &[], other),
        Err(SyscallError::IllegalOperation)
    );
    other.with(|x| x.mcp = 10);
    assert_eq!(dec(&k, SchedContextYieldTo, &[], other), Ok(()));
    assert_eq!(dec(&k, SchedContextConsumed, &[], other), Ok(()));
    assert_eq!(
        dec(&k, CNodeCopy, &[], other),
        Err(SyscallError::IllegalOperation)
    );
}

/// With several domains (`num_domains_16`, Microkit's configuration), `updateTimestamp` takes
/// the time consumed off the domain's time and ends it (0) once it would leave no more than
/// `MIN_BUDGET`; then the domain is expired and `checkDomainTime` asks for a new choice and a
/// timer reprogram. The timer is due no later than the end of the domain's time.
#[cfg(feature = "num_domains_16")]
#[test]
fn the_domains_time_runs_down_to_min_budget() {
    let mut k = kernel();
    crate::arch::host::set_time(k.cur_time);
    k.sched.domain_time = 10_000;
    crate::arch::host::advance_time(1000);
    update_timestamp(&mut k);
    assert_eq!((k.sched.domain_time, k.consumed), (9000, 1000));
    assert!(!is_cur_domain_expired(&k));
    k.sched.action = SchedulerAction::ResumeCurrentThread;
    k.reprogram = false;
    check_domain_time(&mut k);
    assert_eq!(
        (k.sched.action, k.reprogram),
        (SchedulerAction::ResumeCurrentThread, false)
    );
    // The timer: the idle thread's head refill would last longer than the domain.
    set_next_interrupt(&mut k);
    assert_eq!(
        crate::arch::host::deadline(),
        k.cur_time + 9000 - TIMER_PRECISION_TICKS
    );
    // 8799 more: 201 left, more than MIN_BUDGET.
    crate::arch::host::advance_time(9000 - 201);
    update_timestamp(&mut k);
    assert_eq!(k.sched.domain_time, 201);
    assert!(!is_cur_domain_expired(&k));
    // One more tick leaves MIN_BUDGET: the domain's time is up.
    crate::arch::host::advance_time(1);
    update_timestamp(&mut k);
    assert_eq!((k.sched.domain_time, k.consumed), (0, 9800));
    assert!(is_cur_domain_expired(&k));
    check_domain_time(&mut k);
    assert_eq!(
        (k.sched.action, k.reprogram),
        (SchedulerAction::ChooseNewThread, true)
    );
}

/// With one domain (the default configuration) seL4 keeps no domain time under MCS
/// (`numDomains > 1` in `updateTimestamp`, `isCurDomainExpired`): the time consumed is not
/// taken off it, a domain time of 0 (as `seL4_DomainSet_ScheduleSetStart` leaves it until the
/// next choice) does not expire the domain, and the timer ignores it.
#[cfg(not(feature = "num_domains_16"))]
#[test]
fn one_domain_has_no_domain_time() {
    let mut k = kernel();
    crate::arch::host::set_time(k.cur_time);
    k.sched.domain_time = 300;
    crate::arch::host::advance_time(200);
    update_timestamp(&mut k);
    assert_eq!((k.sched.domain_time, k.consumed), (300, 200));
    set_next_interrupt(&mut k);
    assert_eq!(
        crate::arch::host::deadline(),
        k.cur_time + IDLE_BUDGET - TIMER_PRECISION_TICKS
    );
    k.sched.domain_time = 0;
    assert!(!is_cur_domain_expired(&k));
    k.sched.action = SchedulerAction::ResumeCurrentThread;
    k.reprogram = false;
    check_domain_time(&mut k);
    assert_eq!(
        (k.sched.action, k.reprogram),
        (SchedulerAction::ResumeCurrentThread, false)
    );
}

/// `tcbReleaseRemove` of a thread that is not in the release queue changes nothing: not the
/// release queue (whose links a ready thread's `sched_next`/`sched_prev` would otherwise be
/// taken for), not the thread's place in its ready queue, and the timer is not reprogrammed.
#[test]
fn release_remove_of_a_thread_not_released_changes_nothing() {
    let mut k = kernel();
    let mut o = Objects::new();
    let (a, asc) = bound_thread(&mut k, &mut o, 1000, 100_000, ThreadState::Inactive);
    refill_head(asc).with(|r| r.time = k.cur_time + 5000);
    a.set_state(ThreadState::Running);
    postpone(&mut k, asc);
    let (b, _) = bound_thread(&mut k, &mut o, 1000, 1000, ThreadState::Running);
    let (c, _) = bound_thread(&mut k, &mut o, 1000, 1000, ThreadState::Running);
    assert_eq!((b.with(|x| x.queued), c.with(|x| x.queued)), (1, 1));
    let idle = o.tcb(); // neither queued
    k.reprogram = false;
    for t in [b, c, idle] {
        release_remove(&mut k, t);
    }
    assert!(k.sched.release_queue.head.is(a) && k.sched.release_queue.tail.is(a));
    assert_eq!(a.with(|x| x.in_release_queue), 1);
    // Enqueued at the head: c before b.
    assert!(c.with(|x| x.sched_next).is(b) && b.with(|x| x.sched_prev).is(c));
    assert!(!k.reprogram);
    release_remove(&mut k, a);
    assert!(k.sched.release_queue.head.is_none() && k.sched.release_queue.tail.is_none());
    assert!(k.reprogram);
}

/// `mcsPreemptionPoint` after a preempted operation whose current thread is no longer
/// schedulable: the time so far is charged to the current SC if it is still configured
/// (`chargeBudget(ksConsumed, false)`: refills and consumed count), else dropped, the SC left
/// as it was.
#[test]
fn preempted_operation_charges_a_configured_sc_or_drops_the_time() {
    let mut k = kernel();
    let mut o = Objects::new();
    let (t, sc) = bound_thread(&mut k, &mut o, 1000, 10_000, ThreadState::Inactive);
    let start = k.cur_time;
    k.set_cur_thread(t);
    k.cur_sc = sc;
    k.cur_time += 300;
    k.consumed = 300;
    mcs_preemption_point(&mut k);
    assert_eq!((k.consumed, sc.with(|s| s.consumed)), (0, 300));
    assert_eq!(
        refills(sc),
        [
            Refill {
                time: start + 300,
                amount: 700
            },
            Refill {
                time: start + 10_000,
                amount: 300
            }
        ]
    );
    // Unconfigured (finalised): nothing is charged.
    let before = refills(sc);
    let max = sc.with(|s| s.refill_max);
    sc.with(|s| s.refill_max = 0);
    k.consumed = 200;
    mcs_preemption_point(&mut k);
    assert_eq!((k.consumed, sc.with(|s| s.consumed)), (0, 300));
    sc.with(|s| s.refill_max = max);
    assert_eq!(refills(sc), before);
}

/// `refill_ordered` and `refill_sum` (seL4 `sporadic.c`, the debug build's refill sanity
/// checks) on a buffer that wraps around the end of the refill array: refills that touch
/// (one ends where the next starts) are ordered, one that starts a tick early is not; round
/// robin is always ordered.
#[test]
fn refill_ordered_and_sum_on_a_wrapped_buffer() {
    let mut o = Objects::new();
    let sc = o.sc(8);
    refill_new(sc, 5, 1000, 10_000, 0);
    // Slots 3, 4, 0, 1 in use: 300@1000, 200@1300, 400@1500, 100@1900 (each touching the next).
    let wrapped = [
        (3, 1000, 300),
        (4, 1300, 200),
        (0, 1500, 400),
        (1, 1900, 100),
    ];
    for (i, time, amount) in wrapped {
        sc.refill(i).set(Refill { time, amount });
    }
    sc.with(|s| {
        s.refill_head = 3;
        s.refill_tail = 1;
    });
    assert_eq!(refill_size(sc), 4);
    assert_eq!(refill_sum(sc), 1000);
    assert!(refill_ordered(sc), "touching refills are ordered");
    // The last refill starts one tick before the one before it ends.
    sc.refill(1).with(|r| r.time = 1899);
    assert!(!refill_ordered(sc));
    // Round robin: not checked.
    sc.with(|s| s.period = 0);
    assert!(refill_ordered(sc));
}

/// `refill_budget_check` on a head refill at `MAX_RELEASE_TIME` (seL4 `sporadic.c`): a head
/// that far in time is neither charged in full nor split (`head_refill_overrun` and the split
/// both require `rTime < MAX_RELEASE_TIME`); one tick earlier it is split.
#[test]
fn budget_check_leaves_a_head_at_max_release_time_alone() {
    let mut o = Objects::new();
    let sc = o.sc(8);
    refill_new(sc, 4, 1000, 10_000, MAX_RELEASE_TIME);
    refill_budget_check(sc, 300);
    assert_eq!(
        refills(sc),
        [Refill {
            time: MAX_RELEASE_TIME,
            amount: 1000
        }]
    );
    // The whole head used: not moved a period on either.
    refill_budget_check(sc, 1000);
    assert_eq!(
        refills(sc),
        [Refill {
            time: MAX_RELEASE_TIME,
            amount: 1000
        }]
    );
    let t = MAX_RELEASE_TIME - 1;
    refill_new(sc, 4, 1000, 10_000, t);
    refill_budget_check(sc, 300);
    assert_eq!(
        refills(sc),
        [
            Refill {
                time: t + 300,
                amount: 700
            },
            Refill {
                time: t + 10_000,
                amount: 300
            }
        ]
    );
}

/// `schedContext_bindTCB` of a runnable thread and an SC whose head refill is not ready
/// (`schedContext_resume`, seL4 `schedcontext.c`): the thread goes to the release queue
/// (`postpone`, which sets `ksReprogram`), not to the ready queue; bound to an SC whose
/// refill is ready it is queued to run.
#[test]
fn binding_an_sc_whose_refill_is_not_ready_postpones_the_thread() {
    let mut k = kernel();
    let mut o = Objects::new();
    let now = k.cur_time;
    let sc = o.sc(8);
    refill_new(sc, 4, 1000, 5000, now);
    // The whole budget used: the head refill comes back a period later.
    refill_budget_check(sc, 1000);
    assert_eq!(
        refills(sc),
        [Refill {
            time: now + 5000,
            amount: 1000
        }]
    );
    let t = o.tcb();
    t.with(|x| x.priority = 10);
    t.set_state(ThreadState::Restart);
    k.reprogram = false;
    bind_tcb(&mut k, sc, t);
    assert_eq!((tcb_sc(t), sc_tcb(sc)), (sc, t));
    assert_eq!(
        (t.with(|x| x.in_release_queue), t.with(|x| x.queued)),
        (1, 0)
    );
    assert!(k.sched.release_queue.head.is(t));
    assert!(k.reprogram && !is_schedulable(t));

    // Ready: queued at once.
    let sc2 = o.sc(8);
    refill_new(sc2, 4, 1000, 5000, now);
    let u = o.tcb();
    u.with(|x| x.priority = 10);
    u.set_state(ThreadState::Restart);
    bind_tcb(&mut k, sc2, u);
    assert_eq!(
        (u.with(|x| x.in_release_queue), u.with(|x| x.queued)),
        (0, 1)
    );
    assert!(is_schedulable(u));
    assert!(k.sched.release_queue.head.is(t) && k.sched.release_queue.tail.is(t));
}

/// `schedContext_bindTCB` of a sporadic, configured SC (seL4 `schedcontext.c`): unless it is
/// the current SC, its ready head refill is brought up to now (`refill_unblock_check`, which
/// sets `ksReprogram`); the current SC is left as it is.
#[test]
fn binding_a_sporadic_sc_brings_its_refill_up_to_date_unless_current() {
    let mut k = kernel();
    let mut o = Objects::new();
    let now = k.cur_time;
    let bind = |k: &mut Kernel, o: &mut Objects, current: bool| {
        let sc = o.sc(8);
        refill_new(sc, 4, 1000, 5000, now - 500);
        sc.with(|s| s.sporadic = 1);
        if current {
            k.cur_sc = sc;
        }
        let t = o.tcb();
        t.with(|x| x.priority = 10);
        t.set_state(ThreadState::Inactive);
        k.reprogram = false;
        bind_tcb(k, sc, t);
        (refills(sc), k.reprogram)
    };
    let r = |time| Refill { time, amount: 1000 };
    assert_eq!(bind(&mut k, &mut o, false), (vec![r(now)], true));
    assert_eq!(bind(&mut k, &mut o, true), (vec![r(now - 500)], false));
}

/// `schedContext_updateConsumed` (seL4 `schedcontext.c`): at most `getMaxTicksToUs()` ticks
/// are converted at a time, the rest stays; below that, all of it, and the count is reset.
#[test]
fn update_consumed_converts_at_most_max_ticks_to_us() {
    let mut o = Objects::new();
    let sc = o.sc(8);
    let max = crate::arch::MAX_TICKS_TO_US;
    sc.with(|s| s.consumed = max);
    assert_eq!(update_consumed(sc), crate::arch::ticks_to_us(max));
    assert_eq!(sc.get().consumed, 0);
    sc.with(|s| s.consumed = max - 1);
    assert_eq!(update_consumed(sc), crate::arch::ticks_to_us(max - 1));
    assert_eq!(sc.get().consumed, 0);
    sc.with(|s| s.consumed = 12_345);
    assert_eq!(update_consumed(sc), crate::arch::ticks_to_us(12_345));
    assert_eq!(sc.get().consumed, 0);
}

/// `schedule_used` with the refill buffer full (seL4 `sporadic.c`): time used that neither
/// touches nor overlaps the tail is merged into it, the tail delayed so that it ends where the
/// new refill would have ended.
#[test]
fn a_full_buffer_delays_the_tail_to_merge_used_time() {
    let mut o = Objects::new();
    let sc = o.sc(7); // two refills
    refill_new(sc, 2, 1000, 5000, 0);
    refill_budget_check(sc, 300);
    assert!(refill_unblock_check(sc, 1000));
    let r = |time, amount| Refill { time, amount };
    assert_eq!(refills(sc), [r(1000, 700), r(5000, 300)]);
    assert!(refill_full(sc));
    // 300 used from 1000 comes back at 6000; the tail ends at 5300.
    refill_budget_check(sc, 300);
    assert_eq!(refills(sc), [r(1300, 400), r(5700, 600)]);
}

/// `refill_budget_check` (seL4 `sporadic.c`, `head_refill_insufficient`): a head left with
/// exactly `MIN_BUDGET` is sufficient and stays; one tick less and it merges into the next
/// refill.
#[test]
fn a_head_of_exactly_min_budget_is_not_merged() {
    let mut o = Objects::new();
    let sc = o.sc(8);
    let r = |time, amount| Refill { time, amount };
    refill_new(sc, 4, 1000, 5000, 0);
    refill_budget_check(sc, 1000 - MIN_BUDGET);
    assert_eq!(
        refills(sc),
        [r(800, MIN_BUDGET), r(5000, 1000 - MIN_BUDGET)]
    );
    refill_new(sc, 4, 1000, 5000, 0);
    refill_budget_check(sc, 1000 - MIN_BUDGET + 1);
    assert_eq!(refills(sc), [r(5000 - MIN_BUDGET + 1, 1000)]);
}
