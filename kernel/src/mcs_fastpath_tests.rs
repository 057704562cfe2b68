//! The MCS IPC fastpath (`fastpath.rs` under `mcs`, seL4 16.0.0 `fastpath_call` and
//! `fastpath_reply_recv` under `CONFIG_KERNEL_MCS`) against the full path: the same syscalls
//! with the fastpath on and off (`Kernel::fastpath_off`) end in the same kernel state (thread
//! states, SchedContext ownership, Reply objects and call stacks, queues, registers, time),
//! and the fastpath is taken where seL4 takes it (`Kernel::fastpath_hits`).

use crate::arch::host::advance_time;
use crate::arch::regs;
use crate::arch::riscv64::context::reg;
use crate::cap::Cap;
use crate::ipc::Fault;
use crate::object::reply::{CallStack, ReplyRef};
use crate::object::sched_context::{refill_head, tcb_sc, ScRef};
use crate::object::tcb::{tcb_slot, TcbRef, ThreadState};
use crate::sched::is_schedulable;
use crate::testing::*;
use abi::{InvocationLabel as L, MessageInfo, ObjectType as T, Syscall};
use proptest::prelude::*;

/// Three threads (TCB caps at `e + 10 + 2i`, each with a SchedContext of its own), two
/// endpoints (`ep[0]`, `ep[1]`, the second the threads' fault handler) and three Reply
/// objects.
struct World {
    s: System,
    ts: Vec<TcbRef>,
    ep: [u64; 2],
    rp: [u64; 3],
    e: u64,
}

/// Named words of kernel state, and each thread's pending fault.
type Snapshot = (Vec<(&'static str, usize, u64)>, Vec<Option<Fault>>);

fn world(fastpath_off: bool, prios: [u64; 3]) -> World {
    let mut s = System::boot();
    s.k.fastpath_off = fastpath_off;
    let root = s.root;
    crate::sched::sched_dequeue(&mut s.k, root);
    root.with(|x| x.priority = 1);
    let e = s.bootinfo().empty.start;
    let ep = [s.make(T::Endpoint, 0, e), s.make(T::Endpoint, 0, e + 1)];
    let rp = [
        s.make(T::Reply, 0, e + 2),
        s.make(T::Reply, 0, e + 3),
        s.make(T::Reply, 0, e + 4),
    ];
    let ts: Vec<TcbRef> = prios
        .iter()
        .enumerate()
        .map(|(i, &p)| s.spawn(p, e + 10 + 2 * i as u64))
        .collect();
    // The fault handler: a copy of endpoint 1's cap (`TCB_SetSpace` would also replace the
    // one-level root CNode cap, which the fastpath needs).
    let src = s.root_slot(ep[1]);
    for t in &ts {
        crate::cte::cte_insert(src.cap(), src, t.slot(tcb_slot::FAULT_HANDLER));
    }
    World { s, ts, ep, rp, e }
}

impl World {
    /// Thread `i` makes syscall `sys` on `a0` with the Reply cap `a6` and a message of
    /// `mrs`; returns whether the fastpath took it.
    fn sys(
        &mut self,
        i: usize,
        sys: Syscall,
        a0: u64,
        a6: u64,
        info: MessageInfo,
        mrs: &[u64],
    ) -> bool {
        let t = self.ts[i];
        self.s.run_as(t);
        // Every thread's cached address space is current (as after it last ran), so that
        // the fastpath's own precondition does not hide seL4's conditions.
        for &x in &self.ts {
            crate::arch::set_vm_root(&self.s.k, x);
        }
        t.set_reg(regs::REPLY, a6);
        let hits = self.s.k.fastpath_hits;
        self.s.sys(sys, a0, info, mrs, &[]);
        self.s.k.fastpath_hits > hits
    }
    fn sc_of(&self, i: usize) -> ScRef {
        match self
            .s
            .root_slot(System::sc_slot_of(self.e + 10 + 2 * i as u64))
            .cap()
        {
            Cap::SchedContext { ptr, .. } => ptr,
            c => panic!("{c:?}"),
        }
    }
    fn reply(&self, r: usize) -> ReplyRef {
        match self.s.root_slot(self.rp[r]).cap() {
            Cap::Reply { ptr, .. } => ptr,
            c => panic!("{c:?}"),
        }
    }
    /// The root task unbinds thread `i`'s own SchedContext (it becomes passive); an error if
    /// it is not bound to it, in both systems alike.
    fn unbind(&mut self, i: usize) {
        let sc = System::sc_slot_of(self.e + 10 + 2 * i as u64);
        let root = self.s.root;
        self.s.run_as(root);
        self.s.call(sc, L::SchedContextUnbind, &[], &[]);
    }
    /// The root task binds thread `i`'s own SchedContext to it again (an error if either is
    /// bound).
    fn bind(&mut self, i: usize) {
        let sc = System::sc_slot_of(self.e + 10 + 2 * i as u64);
        let root = self.s.root;
        self.s.run_as(root);
        self.s
            .call(sc, L::SchedContextBind, &[], &[self.e + 10 + 2 * i as u64]);
    }

    /// The root task deletes the object in root CNode slot `slot` and makes a new one of
    /// type `t` there.
    fn renew(&mut self, slot: u64, t: T) {
        let root = self.s.root;
        self.s.run_as(root);
        ok_empty(self.s.cnode(L::CNodeDelete, &[slot, 64], &[]));
        // Restarted threads may have preempted the root task.
        self.s.run_as(root);
        self.s.make(t, 0, slot);
        let _ = self.s.schedule();
    }

    /// Everything the IPC paths touch, word by word, kernel addresses relative to the
    /// simulated RAM (the systems' RAM lies at different host addresses): each thread's TCB
    /// fields and registers, the SchedContexts, the Reply objects, the endpoints, the current
    /// thread and SC, the time and the scheduler action; and each thread's pending fault.
    fn snapshot(&self) -> Snapshot {
        let (base, size) = (self.s.mem.pptr() as u64, self.s.mem.size() as u64);
        // (Bit 0 marks the head of a call stack.)
        let rel = |a: u64| {
            let p = a & !1;
            if p >= base && p < base + size {
                (p - base) | (a & 1)
            } else {
                a
            }
        };
        let mut v = Vec::new();
        for (i, t) in self.ts.iter().enumerate() {
            t.with(|x| {
                for (r, w) in x.context.regs.iter().enumerate() {
                    v.push(("reg", i * 100 + r, *w));
                }
                v.push(("sstatus", i, x.context.sstatus));
                v.push(("state", i, x.state));
                v.push(("blocking_object", i, rel(x.blocking_object.word())));
                v.push(("blocking_badge", i, x.blocking_badge));
                v.push(("blocking_flags", i, x.blocking_flags));
                v.push(("fault_ip", i, x.fault_ip));
                v.push(("queued", i, x.queued));
                v.push(("in_release_queue", i, x.in_release_queue));
                v.push(("sched_next", i, rel(x.sched_next.addr() as u64)));
                v.push(("sched_prev", i, rel(x.sched_prev.addr() as u64)));
                v.push(("ep_next", i, rel(x.ep_next.addr() as u64)));
                v.push(("ep_prev", i, rel(x.ep_prev.addr() as u64)));
                v.push(("sched_context", i, rel(x.sched_context.addr() as u64)));
                v.push(("reply_object", i, rel(x.reply_object.addr() as u64)));
                v.push(("yield_to", i, rel(x.yield_to.addr() as u64)));
            });
            let sc = self.sc_of(i);
            let x = sc.get();
            v.push(("sc_tcb", i, rel(x.tcb.addr() as u64)));
            v.push(("sc_reply", i, rel(x.reply.addr() as u64)));
            v.push(("sc_consumed", i, x.consumed));
            let h = refill_head(sc).get();
            v.push(("sc_head", i, h.time));
            v.push(("sc_head_amount", i, h.amount));
        }
        for r in 0..3 {
            let x = self.reply(r).get();
            v.push(("reply_tcb", r, rel(x.tcb.addr() as u64)));
            v.push(("reply_prev", r, rel(x.prev.addr() as u64)));
            v.push(("reply_next", r, rel(x.next.word())));
        }
        for (i, &ep) in self.ep.iter().enumerate() {
            let Cap::Endpoint { ptr, .. } = self.s.root_slot(ep).cap() else {
                panic!("endpoint cap")
            };
            let e = ptr.0.get();
            let w = e.head_state.word();
            v.push(("ep_head", i, rel(w & !3) | (w & 3)));
            v.push(("ep_tail", i, rel(e.tail.addr() as u64)));
        }
        let k = &self.s.k;
        v.push(("cur_thread", 0, rel(k.cur_thread.addr() as u64)));
        v.push(("cur_sc", 0, rel(k.cur_sc.addr() as u64)));
        v.push(("cur_time", 0, k.cur_time));
        v.push(("consumed", 0, k.consumed));
        v.push(("reprogram", 0, k.reprogram as u64));
        let action = match k.sched.action {
            crate::sched::SchedulerAction::ResumeCurrentThread => 0,
            crate::sched::SchedulerAction::ChooseNewThread => 1,
            crate::sched::SchedulerAction::SwitchToThread(t) => 2 + rel(t.addr() as u64),
        };
        v.push(("action", 0, action));
        (v, self.ts.iter().map(|&t| Fault::load(t)).collect())
    }
}

fn info(label: u64, len: u64) -> MessageInfo {
    MessageInfo::new(label, 0, 0, len)
}

fn head(sc: ScRef) -> u64 {
    CallStack::to_a(sc).word()
}

fn links(r: ReplyRef) -> (u64, u64, u64) {
    let x = r.get();
    (x.tcb.addr() as u64, x.prev.addr() as u64, x.next.word())
}

/// A passive server (thread 0, priority `server_prio`) waiting on endpoint 0 with Reply
/// object 0, and a client (thread 1, priority `client_prio`); thread 2 (priority
/// `other_prio`) is ready.
fn passive_server(
    fastpath_off: bool,
    server_prio: u64,
    client_prio: u64,
    other_prio: u64,
) -> World {
    let mut w = world(fastpath_off, [server_prio, client_prio, other_prio]);
    let (ep, rp) = (w.ep[0], w.rp[0]);
    assert!(!w.sys(0, Syscall::Recv, ep, rp, info(0, 0), &[]));
    w.unbind(0);
    assert_eq!(tcb_sc(w.ts[0]).addr(), 0);
    w
}

/// Call and ReplyRecv with a passive server: both take the fastpath; the SC goes to the
/// server on top of the call stack and comes back; the same state as the full path's.
#[test]
fn fastpath_takes_call_and_reply_recv_with_a_passive_server() {
    let run = |off: bool| {
        let mut w = passive_server(off, 100, 100, 50);
        let (server, client, csc, r) = (w.ts[0], w.ts[1], w.sc_of(1), w.reply(0));
        let (ep, rp) = (w.ep[0], w.rp[0]);
        let hit = w.sys(1, Syscall::Call, ep, 0, info(7, 2), &[11, 22]);
        assert_eq!(hit, !off, "Call to a passive server");
        assert_eq!(w.s.k.cur_thread, server);
        assert_eq!(
            (client.state(), server.state()),
            (ThreadState::BlockedOnReply, ThreadState::Running)
        );
        assert_eq!((tcb_sc(client).addr(), tcb_sc(server)), (0, csc));
        assert_eq!(
            (csc.get().tcb.addr() as u64, csc.get().reply.addr() as u64),
            (server.addr() as u64, r.addr() as u64)
        );
        assert_eq!(links(r), (client.addr() as u64, 0, head(csc)));
        assert_eq!(
            (
                client.with(|x| x.reply_object.addr() as u64),
                server.with(|x| x.reply_object.addr() as u64)
            ),
            (r.addr() as u64, 0)
        );
        assert_eq!(
            (
                server.reg(reg::A1),
                server.reg(reg::A2),
                server.reg(reg::A2 + 1)
            ),
            (info(7, 2).0, 11, 22)
        );
        assert_eq!(w.s.k.cur_sc, csc);
        let mid = w.snapshot();
        let hit = w.sys(0, Syscall::ReplyRecv, ep, rp, info(9, 1), &[33]);
        assert_eq!(hit, !off, "ReplyRecv to the caller");
        assert_eq!(w.s.k.cur_thread, client);
        assert_eq!(
            (client.state(), server.state()),
            (ThreadState::Running, ThreadState::BlockedOnReceive)
        );
        assert_eq!((tcb_sc(client), tcb_sc(server).addr()), (csc, 0));
        assert_eq!(
            (csc.get().tcb.addr() as u64, csc.get().reply.addr() as u64),
            (client.addr() as u64, 0)
        );
        assert_eq!(links(r), (server.addr() as u64, 0, 0));
        assert_eq!(
            (client.reg(reg::A1), client.reg(reg::A2)),
            (info(9, 1).0, 33)
        );
        (mid, w.snapshot())
    };
    assert_eq!(run(false), run(true));
}

/// The usual shape of a passive server: higher priority than its clients. ReplyRecv still
/// takes the fastpath (seL4's `isHighestPrio` test: no ready thread above the client), but
/// not with a ready thread between the two priorities (the full path runs that one).
#[test]
fn reply_recv_to_a_lower_priority_caller_checks_the_ready_queues() {
    for (other, expect) in [(50, true), (70, false)] {
        let run = |off: bool| {
            let mut w = passive_server(off, 100, 60, other);
            let (ep, rp) = (w.ep[0], w.rp[0]);
            assert_eq!(w.sys(1, Syscall::Call, ep, 0, info(0, 0), &[]), !off);
            let hit = w.sys(0, Syscall::ReplyRecv, ep, rp, info(0, 0), &[]);
            assert_eq!(hit, expect && !off, "other thread at {other}");
            let next = if expect { w.ts[1] } else { w.ts[2] };
            assert_eq!(w.s.k.cur_thread, next);
            w.snapshot()
        };
        assert_eq!(run(false), run(true));
    }
}

/// A Call to a lower-priority passive server takes the fastpath only if no ready thread is
/// above the server (seL4's fastpath with `isHighestPrio`).
#[test]
fn call_to_a_lower_priority_server_checks_the_ready_queues() {
    for (other, expect) in [(50, true), (70, false)] {
        let run = |off: bool| {
            let mut w = passive_server(off, 60, 100, other);
            let hit = w.sys(1, Syscall::Call, w.ep[0], 0, info(0, 0), &[]);
            assert_eq!(hit, expect && !off, "other thread at {other}");
            let next = if expect { w.ts[0] } else { w.ts[2] };
            assert_eq!(w.s.k.cur_thread, next);
            w.snapshot()
        };
        assert_eq!(run(false), run(true));
    }
}

/// Nested calls through two passive servers (1 -> 0 -> 2): each Call pushes on the call
/// stack (the old top's `next` names the new Reply object) and each ReplyRecv pops, all on
/// the fastpath.
#[test]
fn nested_passive_calls_on_the_fastpath() {
    let run = |off: bool| {
        let mut w = world(off, [60, 50, 70]);
        let (ep, rp) = (w.ep, w.rp);
        assert!(!w.sys(0, Syscall::Recv, ep[0], rp[0], info(0, 0), &[]));
        assert!(!w.sys(2, Syscall::Recv, ep[1], rp[2], info(0, 0), &[]));
        w.unbind(0);
        w.unbind(2);
        let (sc, r0, r2) = (w.sc_of(1), w.reply(0), w.reply(2));
        let mut hits = vec![];
        hits.push(w.sys(1, Syscall::Call, ep[0], 0, info(0, 1), &[1]));
        hits.push(w.sys(0, Syscall::Call, ep[1], 0, info(0, 1), &[2]));
        assert_eq!((w.s.k.cur_thread, tcb_sc(w.ts[2])), (w.ts[2], sc));
        assert_eq!(
            links(r2),
            (w.ts[0].addr() as u64, r0.addr() as u64, head(sc))
        );
        assert_eq!(
            links(r0),
            (w.ts[1].addr() as u64, 0, CallStack::to_b(r2).word())
        );
        assert_eq!(sc.get().reply.addr() as u64, r2.addr() as u64);
        hits.push(w.sys(2, Syscall::ReplyRecv, ep[1], rp[2], info(0, 1), &[3]));
        assert_eq!((w.s.k.cur_thread, tcb_sc(w.ts[0])), (w.ts[0], sc));
        assert_eq!(links(r0), (w.ts[1].addr() as u64, 0, head(sc)));
        assert_eq!(sc.get().reply.addr() as u64, r0.addr() as u64);
        hits.push(w.sys(0, Syscall::ReplyRecv, ep[0], rp[0], info(0, 1), &[4]));
        assert_eq!((w.s.k.cur_thread, tcb_sc(w.ts[1])), (w.ts[1], sc));
        assert_eq!((sc.get().reply.addr() as u64, w.ts[1].reg(reg::A2)), (0, 4));
        assert_eq!(hits, [!off; 4]);
        w.snapshot()
    };
    assert_eq!(run(false), run(true));
}

/// Where seL4 falls back to the full path, so does this one: an active server (it has an
/// SC), a server waiting without a Reply object (`seL4_Wait`), an endpoint cap without
/// grant rights, a long message, a Reply cap that is not at the head of the replier's call
/// stack (the Call did not donate), `a6` not a Reply cap, a caller that got an SC back
/// meanwhile, a fault pending on the caller.
#[test]
fn fastpath_falls_back_where_sel4_does() {
    // Each case: set-up, then the syscall that must take the full path.
    type Case = fn(&mut World) -> bool;
    let cases: [(&str, Case); 8] = [
        ("active server", |w| {
            assert!(!w.sys(0, Syscall::Recv, w.ep[0], w.rp[0], info(0, 0), &[]));
            w.sys(1, Syscall::Call, w.ep[0], 0, info(0, 0), &[])
        }),
        ("no Reply object", |w| {
            assert!(!w.sys(0, Syscall::Wait, w.ep[0], 0, info(0, 0), &[]));
            w.unbind(0);
            w.sys(1, Syscall::Call, w.ep[0], 0, info(0, 0), &[])
        }),
        ("no grant rights", |w| {
            assert!(!w.sys(0, Syscall::Recv, w.ep[0], w.rp[0], info(0, 0), &[]));
            w.unbind(0);
            let e = w.e;
            let root = w.s.root;
            w.s.run_as(root);
            ok_empty(w.s.cnode(
                L::CNodeMint,
                &[e + 30, 64, w.ep[0], 64, abi::CapRights::READ_WRITE.0, 5],
                &[abi::bootinfo::slot::INIT_THREAD_CNODE],
            ));
            w.sys(1, Syscall::Call, e + 30, 0, info(0, 0), &[])
        }),
        ("long message", |w| {
            assert!(!w.sys(0, Syscall::Recv, w.ep[0], w.rp[0], info(0, 0), &[]));
            w.unbind(0);
            w.sys(1, Syscall::Call, w.ep[0], 0, info(0, 5), &[1, 2, 3, 4, 5])
        }),
        ("reply without donation", |w| {
            assert!(!w.sys(0, Syscall::Recv, w.ep[0], w.rp[0], info(0, 0), &[]));
            assert!(!w.sys(1, Syscall::Call, w.ep[0], 0, info(0, 0), &[]));
            w.sys(0, Syscall::ReplyRecv, w.ep[0], w.rp[0], info(0, 0), &[])
        }),
        ("a6 not a Reply cap", |w| {
            assert!(!w.sys(0, Syscall::Recv, w.ep[0], w.rp[0], info(0, 0), &[]));
            w.unbind(0);
            let on = !w.s.k.fastpath_off;
            assert_eq!(w.sys(1, Syscall::Call, w.ep[0], 0, info(0, 0), &[]), on);
            w.sys(0, Syscall::ReplyRecv, w.ep[0], w.ep[1], info(0, 0), &[])
        }),
        ("caller has an SC", |w| {
            assert!(!w.sys(0, Syscall::Recv, w.ep[0], w.rp[0], info(0, 0), &[]));
            w.unbind(0);
            let on = !w.s.k.fastpath_off;
            assert_eq!(w.sys(1, Syscall::Call, w.ep[0], 0, info(0, 0), &[]), on);
            // Thread 2's SC goes to the waiting caller.
            let (e, t1) = (w.e, w.e + 12);
            let root = w.s.root;
            w.s.run_as(root);
            ok_empty(w.s.call(System::sc_slot_of(e + 14), L::SchedContextUnbind, &[], &[]));
            ok_empty(w.s.call(System::sc_slot_of(e + 14), L::SchedContextBind, &[], &[t1]));
            let server = w.ts[0];
            w.s.run_as(server);
            w.sys(0, Syscall::ReplyRecv, w.ep[0], w.rp[0], info(0, 0), &[])
        }),
        ("fault pending on the caller", |w| {
            // Thread 1's fault goes to the passive handler, thread 0, waiting on endpoint 1.
            assert!(!w.sys(0, Syscall::Recv, w.ep[1], w.rp[0], info(0, 0), &[]));
            w.unbind(0);
            let t = w.ts[1];
            w.s.run_as(t);
            crate::entry::handle_trap(&mut w.s.k, crate::arch::riscv64::cause::decode(13, 0x1000));
            w.s.schedule();
            assert_eq!(w.s.k.cur_thread, w.ts[0]);
            w.sys(0, Syscall::ReplyRecv, w.ep[1], w.rp[0], info(0, 0), &[])
        }),
    ];
    for (name, case) in cases {
        let run = |off: bool| {
            let mut w = world(off, [100, 100, 50]);
            assert!(!case(&mut w), "{name}: the full path");
            w.snapshot()
        };
        assert_eq!(run(false), run(true), "{name}");
    }
}

/// As in seL4, the fastpath does no time accounting: the clock is not read and the budget
/// not checked; the time is charged at the next kernel entry, to the SchedContext that was
/// current all along, so the two paths agree again after it.
#[test]
fn fastpath_leaves_the_time_to_the_next_entry() {
    let run = |off: bool| {
        let mut w = passive_server(off, 100, 100, 50);
        let (ep, rp, csc) = (w.ep[0], w.rp[0], w.sc_of(1));
        let t0 = w.s.k.cur_time;
        advance_time(300);
        assert_eq!(w.sys(1, Syscall::Call, ep, 0, info(0, 0), &[]), !off);
        let after_call = (w.s.k.cur_time, w.s.k.consumed);
        assert_eq!(after_call, if off { (t0 + 300, 300) } else { (t0, 0) });
        advance_time(200);
        assert_eq!(w.sys(0, Syscall::ReplyRecv, ep, rp, info(0, 0), &[]), !off);
        // A slow syscall of the client (yield) charges everything to its SC.
        advance_time(100);
        assert!(!w.sys(1, Syscall::Yield, 0, 0, info(0, 0), &[]));
        assert_eq!(w.s.k.cur_time, t0 + 600);
        // The two runs share the simulated clock: absolute times left out.
        let (mut v, faults) = w.snapshot();
        v.retain(|&(name, _, _)| name != "cur_time" && name != "sc_head");
        (csc.get().consumed, (v, faults))
    };
    let (fast, slow) = (run(false), run(true));
    assert_eq!(fast.0, 600);
    assert_eq!(fast, slow);
}

#[derive(Clone, Debug)]
enum Op {
    /// Thread `t` runs syscall `sys` on endpoint `ep` (2: endpoint `t / 2`) with Reply object `r` in a6 (`None`:
    /// its own, Reply object `t`). `t` 3..6: the current thread, if it is one of the three
    /// (else `t` - 3).
    Sys {
        t: usize,
        sys: u8,
        ep: usize,
        r: Option<usize>,
        len: u64,
        label: u64,
    },
    /// Thread `t` takes a VM fault (its handler: endpoint 1).
    Fault { t: usize },
    /// The root task unbinds thread `t`'s own SchedContext.
    Unbind { t: usize },
    /// The root task binds thread `t`'s own SchedContext to it.
    Bind { t: usize },
    /// The root task deletes Reply object `r` and makes a new one in its slot.
    RenewReply { r: usize },
    /// The root task deletes endpoint `ep` (its queued threads restart) and makes a new one
    /// in its slot.
    RenewEp { ep: usize },
    /// The root task suspends thread `t` and resumes it (it leaves any IPC and restarts).
    Restart { t: usize },
}

fn op() -> impl Strategy<Value = Op> {
    // Weighted towards the fastpath's cases: Call, ReplyRecv and Recv on one endpoint.
    let sys =
        prop_oneof![4 => Just(0u8), 4 => Just(1u8), 2 => Just(2u8), 1 => Just(3u8), 1 => Just(4u8)];
    // 2: the thread's own endpoint (thread 2: endpoint 1, the others endpoint 0).
    let ep = prop_oneof![2 => Just(0usize), 1 => Just(1usize), 3 => Just(2usize)];
    let r = prop_oneof![3 => Just(None), 1 => (0usize..3).prop_map(Some)];
    // Threads 3..6: the current thread (else thread t - 3).
    let t = prop_oneof![1 => 0usize..3, 3 => 3usize..6];
    let sys_op =
        (t, sys, ep, r, 0u64..7, 0u64..4).prop_map(|(t, sys, ep, r, len, label)| Op::Sys {
            t,
            sys,
            ep,
            r,
            len,
            label,
        });
    prop_oneof![
        24 => sys_op,
        2 => (0usize..3).prop_map(|t| Op::Fault { t }),
        3 => (0usize..3).prop_map(|t| Op::Unbind { t }),
        2 => (0usize..3).prop_map(|t| Op::Bind { t }),
        1 => (0usize..3).prop_map(|r| Op::RenewReply { r }),
        2 => (0usize..2).prop_map(|ep| Op::RenewEp { ep }),
        3 => (0usize..3).prop_map(|t| Op::Restart { t }),
    ]
}

/// Whether thread `t` may run now as the scheduler's choice: schedulable, and no ready or
/// running thread above it (the invariant the fastpath, like seL4's, relies on).
fn may_run(w: &World, t: TcbRef) -> bool {
    let prio = t.with(|x| x.priority);
    let cur = w.s.k.cur_thread;
    is_schedulable(t)
        && w.s.k.sched.none_ready_above(0, prio)
        && (cur == t || cur == w.s.root || !is_schedulable(cur) || cur.with(|x| x.priority) <= prio)
}

/// A case: priorities (thread 0's at least thread 1's), which threads start as passive servers
/// (thread 0 always), and operations that begin with thread 1 calling thread 0 and thread 0
/// answering with ReplyRecv: the MCS fastpath's Call and ReplyRecv.
fn case() -> impl Strategy<Value = ([u64; 3], usize, Vec<Op>)> {
    let prefix = [(1, 0, 2), (0, 1, 1)].map(|(t, sys, len)| Op::Sys {
        t,
        sys,
        ep: 0,
        r: None,
        len,
        label: 1,
    });
    (
        proptest::array::uniform3(prop_oneof![Just(90u64), Just(100), Just(150)]),
        0usize..2,
        proptest::collection::vec(op(), 1..40),
    )
        .prop_map(move |(mut prios, passive, ops)| {
            if prios[0] < prios[1] {
                prios.swap(0, 1);
            }
            let ops = prefix.iter().cloned().chain(ops).collect();
            (prios, 1 | passive << 1, ops)
        })
}

/// Random IPC between three threads with SchedContexts, passive servers, Reply objects, faults,
/// binding and unbinding, objects deleted under them, reaches the same state step by step with
/// the fastpath and without it; the fastpath must handle syscalls in at least three cases out
/// of four (else the property compares the full path with itself).
#[test]
fn mcs_fastpath_and_full_path_reach_the_same_state() {
    let mut runner = proptest::test_runner::TestRunner::new(crate::testing::proptest_config(256));
    let cases = std::cell::Cell::new((0u32, 0u32));
    let result = runner.run(&case(), |(prios, passive, ops)| {
        let mut a = world(false, prios);
        let mut b = world(true, prios);
        // Passive servers to start with: thread 0 on endpoint 0 (bit 0), thread 2 on
        // endpoint 1 (bit 1), each with its own Reply object.
        for w in [&mut a, &mut b] {
            w.s.mem.enter();
            for (bit, t) in [(1, 0), (2, 2)] {
                if passive & bit != 0 {
                    let (ep, rp) = (w.ep[t / 2], w.rp[t]);
                    w.sys(t, Syscall::Recv, ep, rp, info(0, 0), &[]);
                    w.unbind(t);
                }
            }
        }
        for op in ops {
            for w in [&mut a, &mut b] {
                // Physical addresses (retype) must reach this machine's memory.
                w.s.mem.enter();
                match op {
                    Op::Sys {
                        t,
                        sys,
                        ep,
                        r,
                        len,
                        label,
                    } => {
                        // Mostly the thread the scheduler runs now, if it is one of the three.
                        let cur = w.ts.iter().position(|&x| x == w.s.k.cur_thread);
                        let t = if t < 3 { t } else { cur.unwrap_or(t - 3) };
                        let th = w.ts[t];
                        if !may_run(w, th) {
                            continue;
                        }
                        let sys = [
                            Syscall::Call,
                            Syscall::ReplyRecv,
                            Syscall::Recv,
                            Syscall::Send,
                            Syscall::Wait,
                        ][sys as usize];
                        let mrs: Vec<u64> = (0..len).map(|i| 100 * (t as u64 + 1) + i).collect();
                        let ep = if ep < 2 { ep } else { t / 2 };
                        let (ep, rp) = (w.ep[ep], w.rp[r.unwrap_or(t)]);
                        w.sys(t, sys, ep, rp, info(label, len), &mrs);
                    }
                    Op::Fault { t } => {
                        let th = w.ts[t];
                        if !may_run(w, th) {
                            continue;
                        }
                        w.s.run_as(th);
                        crate::entry::handle_trap(
                            &mut w.s.k,
                            crate::arch::riscv64::cause::decode(13, 0x1000 * (t as u64 + 1)),
                        );
                        let _ = w.s.schedule();
                    }
                    Op::Unbind { t } => w.unbind(t),
                    Op::Bind { t } => w.bind(t),
                    Op::RenewReply { r } => w.renew(w.rp[r], T::Reply),
                    Op::RenewEp { ep } => {
                        w.renew(w.ep[ep], T::Endpoint);
                        // The threads' fault handler cap went with endpoint 1.
                        if ep == 1 {
                            let src = w.s.root_slot(w.ep[1]);
                            for t in &w.ts {
                                let slot = t.slot(tcb_slot::FAULT_HANDLER);
                                if slot.cap() == Cap::Null {
                                    crate::cte::cte_insert(src.cap(), src, slot);
                                }
                            }
                        }
                    }
                    Op::Restart { t } => {
                        let tcb = w.e + 10 + 2 * t as u64;
                        let root = w.s.root;
                        w.s.run_as(root);
                        ok_empty(w.s.call(tcb, L::TCBSuspend, &[], &[]));
                        w.s.run_as(root);
                        ok_empty(w.s.call(tcb, L::TCBResume, &[], &[]));
                    }
                }
            }
            prop_assert_eq!(a.snapshot(), b.snapshot());
        }
        prop_assert_eq!(b.s.k.fastpath_hits, 0);
        let (n, hit) = cases.get();
        cases.set((n + 1, hit + (a.s.k.fastpath_hits > 0) as u32));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (n, hit) = cases.get();
    assert!(
        4 * hit >= 3 * n,
        "the fastpath ran in {hit} of {n} cases only"
    );
}
