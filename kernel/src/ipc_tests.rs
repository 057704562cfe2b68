//! Host tests of threads, scheduling, IPC, notifications and faults, with several simulated
//! threads driven through the syscall path.

use crate::cap::Cap;
use crate::object::tcb::{TcbRef, ThreadState};
use crate::testing::*;
use abi::bootinfo::slot;
use abi::{CapRights, InvocationLabel as L, MessageInfo, ObjectType as T, Syscall};

const CNODE: u64 = slot::INIT_THREAD_CNODE;

struct World {
    s: System,
    e: u64,
}

fn world() -> World {
    let s = System::boot();
    let e = s.bootinfo().empty.start;
    World { s, e }
}

fn mint(s: &mut System, dest: u64, src: u64, rights: CapRights, badge: u64) {
    let r = s.cnode(
        L::CNodeMint,
        &[dest, 64, src, 64, rights.0, badge],
        &[CNODE],
    );
    assert_eq!(r.info.label(), 0, "{r:?}");
}

fn info(label: u64, caps: u64, len: u64) -> MessageInfo {
    MessageInfo::new(label, 0, caps, len)
}

// Threads without SchedContexts and receives without Reply objects (MCS: mcs_tests).
#[cfg(not(feature = "mcs"))]
#[test]
fn rendezvous_receiver_first_then_sender_with_badge_and_long_message() {
    let World { mut s, e } = world();
    let ep = s.make(T::Endpoint, 0, e);
    mint(&mut s, e + 1, ep, CapRights::ALL, 0x77);
    let server = s.spawn(100, e + 10);
    let client = s.spawn(100, e + 12);
    s.run_as(server);
    let (t, _) = s.sys(Syscall::Recv, ep, info(0, 0, 0), &[], &[]);
    assert_eq!(t.state(), ThreadState::BlockedOnReceive);
    s.run_as(client);
    let mrs: Vec<u64> = (0..10).map(|i| 1000 + i).collect();
    s.sys(Syscall::Send, e + 1, info(42, 0, 10), &mrs, &[]);
    assert_eq!(client.state(), ThreadState::Running);
    assert_eq!(server.state(), ThreadState::Running);
    let r = System::regs_of(server);
    assert_eq!(server.reg(10), 0x77, "badge in a0");
    assert_eq!((r.info.label(), r.info.length()), (42, 10));
    assert_eq!(r.mrs, [1000, 1001, 1002, 1003, 1004, 1005]);
    let b = s.buffer_of(server);
    assert_eq!(crate::mem::PPtr::<u64>::sim(b + 8 + 9 * 8).get(), 1009);
}

// Non-MCS reply caps, fault-handler CPtrs and time slices; MCS: mcs_tests.
#[cfg(not(feature = "mcs"))]
#[test]
fn rendezvous_sender_first_and_call_reply() {
    let World { mut s, e } = world();
    let ep = s.make(T::Endpoint, 0, e);
    let server = s.spawn(100, e + 10);
    let client = s.spawn(100, e + 12);
    s.run_as(client);
    s.sys(Syscall::Call, ep, info(5, 0, 2), &[7, 8], &[]);
    assert_eq!(client.state(), ThreadState::BlockedOnSend);
    s.run_as(server);
    s.sys(Syscall::Recv, ep, info(0, 0, 0), &[], &[]);
    assert_eq!(client.state(), ThreadState::BlockedOnReply);
    let r = System::regs_of(server);
    assert_eq!((r.info.label(), r.mrs[0], r.mrs[1]), (5, 7, 8));
    assert!(matches!(
        server.slot(crate::object::tcb::tcb_slot::CALLER).cap(),
        Cap::Reply { master: false, .. }
    ));
    // ReplyRecv: the client gets the reply, the server waits again.
    s.run_as(server);
    s.sys(Syscall::ReplyRecv, ep, info(9, 0, 1), &[99], &[]);
    assert_eq!(client.state(), ThreadState::Running);
    assert_eq!(server.state(), ThreadState::BlockedOnReceive);
    let r = System::regs_of(client);
    assert_eq!(
        (r.info.label(), r.info.length(), r.mrs[0], client.reg(10)),
        (9, 1, 99, 0)
    );
    assert!(
        server.slot(crate::object::tcb::tcb_slot::CALLER).is_empty(),
        "reply cap used up"
    );
}

/// A reply cap names a thread too, but only a thread cap is the authority of the priority
/// invocations (seL4 `decodeSetPriority` and friends: `cap_get_capType(authCap) !=
/// cap_thread_cap` is `InvalidCapability` 1): a saved reply cap to a caller is refused, the
/// caller's priority untouched.
#[cfg(not(feature = "mcs"))]
#[test]
fn a_reply_cap_is_not_a_priority_authority() {
    let World { mut s, e } = world();
    let ep = s.make(T::Endpoint, 0, e);
    let client = s.spawn(100, e + 12);
    s.run_as(client);
    s.sys(Syscall::Call, ep, info(5, 0, 0), &[], &[]);
    assert_eq!(client.state(), ThreadState::BlockedOnSend);
    let root = s.root;
    s.run_as(root);
    s.sys(Syscall::Recv, ep, info(0, 0, 0), &[], &[]);
    assert_eq!(client.state(), ThreadState::BlockedOnReply);
    let r = s.cnode(L::CNodeSaveCaller, &[e + 20, 64], &[]);
    assert_eq!(r.info.label(), 0, "{r:?}");
    assert!(matches!(
        s.root_slot(e + 20).cap(),
        Cap::Reply { master: false, .. }
    ));
    let tcb = slot::INIT_THREAD_TCB;
    let prio = |t: TcbRef| t.with(|x| (x.priority, x.mcp));
    let before = prio(root);
    for label in [L::TCBSetPriority, L::TCBSetMCPriority] {
        let r = s.call(tcb, label, &[10], &[e + 20]);
        assert_eq!(
            r.info.label(),
            abi::Error::InvalidCapability as u64,
            "{label:?}"
        );
        assert_eq!(r.mrs[0], 1, "{label:?}: the authority is cap 1");
    }
    let r = s.call(tcb, L::TCBSetSchedParams, &[10, 10], &[e + 20]);
    assert_eq!(r.info.label(), abi::Error::InvalidCapability as u64);
    assert_eq!(prio(root), before);
    // The thread cap itself is accepted.
    let r = s.call(tcb, L::TCBSetPriority, &[200], &[tcb]);
    assert_eq!(r.info.label(), 0, "{r:?}");
    assert_eq!(prio(root).0, 200);
}

// Threads without SchedContexts and receives without Reply objects (MCS: mcs_tests).
#[cfg(not(feature = "mcs"))]
#[test]
fn message_is_truncated_to_registers_without_a_receive_buffer() {
    let World { mut s, e } = world();
    let ep = s.make(T::Endpoint, 0, e);
    let server = s.spawn(100, e + 10);
    let client = s.spawn(100, e + 12);
    crate::object::cnode::cte_delete_one(
        &mut s.k,
        server.slot(crate::object::tcb::tcb_slot::BUFFER),
    );
    s.run_as(server);
    s.sys(Syscall::Recv, ep, info(0, 0, 0), &[], &[]);
    s.run_as(client);
    s.sys(
        Syscall::Send,
        ep,
        info(1, 0, 8),
        &[1, 2, 3, 4, 5, 6, 7, 8],
        &[],
    );
    assert_eq!(MessageInfo(server.reg(11)).length(), 4);
}

// Threads without SchedContexts and receives without Reply objects (MCS: mcs_tests).
#[cfg(not(feature = "mcs"))]
#[test]
fn capability_transfer_grant_unwrap_and_failures() {
    let World { mut s, e } = world();
    let ep = s.make(T::Endpoint, 0, e);
    let ntfn = s.make(T::Notification, 0, e + 1);
    mint(&mut s, e + 2, ep, CapRights::ALL, 5); // badged, with grant
    mint(
        &mut s,
        e + 3,
        ep,
        CapRights::new(false, false, true, true),
        6,
    ); // no grant
    let server = s.spawn(100, e + 10);
    let client = s.spawn(100, e + 12);
    // The server receives into slot e+20.
    let sb = s.buffer_of(server);
    for (off, v) in [(1000, CNODE), (1008, e + 20), (1016, 64)] {
        crate::mem::PPtr::<u64>::sim(sb + off).set(v);
    }
    s.run_as(server);
    s.sys(Syscall::Recv, ep, info(0, 0, 0), &[], &[]);
    s.run_as(client);
    // Send the notification and a cap to the endpoint itself (unwrapped to its badge).
    s.sys(Syscall::Send, e + 2, info(0, 2, 0), &[], &[ntfn, e + 2]);
    let ri = MessageInfo(server.reg(11));
    assert_eq!((ri.extra_caps(), ri.caps_unwrapped()), (2, 0b10));
    assert!(matches!(
        s.root_slot(e + 20).cap(),
        Cap::Notification { .. }
    ));
    assert_eq!(
        crate::mem::PPtr::<u64>::sim(sb + 976 + 8).get(),
        5,
        "unwrapped badge"
    );
    // Without Grant no caps travel.
    s.run_as(server);
    s.sys(Syscall::Recv, ep, info(0, 0, 0), &[], &[]);
    s.run_as(client);
    crate::mem::PPtr::<u64>::sim(sb + 1008).set(e + 21);
    s.sys(Syscall::Send, e + 3, info(0, 1, 0), &[], &[ntfn]);
    assert_eq!(MessageInfo(server.reg(11)).extra_caps(), 0);
    assert!(s.root_slot(e + 21).is_empty());
    // An occupied receive slot: nothing transferred.
    s.run_as(server);
    s.sys(Syscall::Recv, ep, info(0, 0, 0), &[], &[]);
    s.run_as(client);
    crate::mem::PPtr::<u64>::sim(sb + 1008).set(e + 20);
    s.sys(Syscall::Send, e + 2, info(0, 1, 0), &[], &[ntfn]);
    assert_eq!(MessageInfo(server.reg(11)).extra_caps(), 0);
    // Sender first: the receiver takes the flags the sender blocked with, and without Grant
    // no caps travel either (a cargo-mutants survivor, docs/TESTING.md).
    s.run_as(client);
    crate::mem::PPtr::<u64>::sim(sb + 1008).set(e + 21);
    s.sys(Syscall::Send, e + 3, info(0, 1, 0), &[], &[ntfn]);
    assert_eq!(client.state(), ThreadState::BlockedOnSend);
    s.run_as(server);
    s.sys(Syscall::Recv, ep, info(0, 0, 0), &[], &[]);
    assert_eq!(MessageInfo(server.reg(11)).extra_caps(), 0);
    assert!(s.root_slot(e + 21).is_empty());
    // With Grant they do.
    s.run_as(client);
    s.sys(Syscall::Send, e + 2, info(0, 1, 0), &[], &[ntfn]);
    s.run_as(server);
    s.sys(Syscall::Recv, ep, info(0, 0, 0), &[], &[]);
    assert_eq!(MessageInfo(server.reg(11)).extra_caps(), 1);
    assert!(matches!(
        s.root_slot(e + 21).cap(),
        Cap::Notification { .. }
    ));
    // An invalid extra cap CPtr: the sender takes a cap fault (it has no handler, so it stops)
    // and nothing is sent.
    s.run_as(server);
    s.sys(Syscall::Recv, ep, info(0, 0, 0), &[], &[]);
    s.run_as(client);
    s.sys(Syscall::Send, e + 2, info(3, 1, 0), &[], &[1 << 40]);
    assert_eq!(server.state(), ThreadState::BlockedOnReceive);
    assert_eq!(client.state(), ThreadState::Inactive);
}

// Threads without SchedContexts and receives without Reply objects (MCS: mcs_tests).
#[cfg(not(feature = "mcs"))]
#[test]
fn waking_a_higher_priority_thread_preempts_the_sender() {
    let World { mut s, e } = world();
    let ep = s.make(T::Endpoint, 0, e);
    // The root task stays ready at a low priority so that it does not win every choice.
    s.root.with(|x| x.priority = 10);
    let high = s.spawn(200, e + 10);
    let low = s.spawn(50, e + 12);
    s.run_as(high);
    s.sys(Syscall::Recv, ep, info(0, 0, 0), &[], &[]);
    s.run_as(low);
    s.sys(Syscall::Send, ep, info(0, 0, 0), &[], &[]);
    assert_eq!(
        s.k.cur_thread, high,
        "the woken higher-priority thread runs"
    );
    // Same priority: the sender keeps running (with `high` out of the way).
    crate::object::tcb_ops::suspend(&mut s.k, high);
    let peer = s.spawn(50, e + 14);
    s.run_as(peer);
    s.sys(Syscall::Recv, ep, info(0, 0, 0), &[], &[]);
    s.run_as(low);
    s.sys(Syscall::Send, ep, info(0, 0, 0), &[], &[]);
    assert_eq!(s.k.cur_thread, low);
}

// Non-MCS reply caps, fault-handler CPtrs and time slices; MCS: mcs_tests.
#[cfg(not(feature = "mcs"))]
#[test]
fn round_robin_after_a_time_slice_and_yield() {
    let World { mut s, e } = world();
    let root = s.root;
    root.with(|x| x.priority = 10);
    let a = s.spawn(10, e + 10);
    let b = s.spawn(10, e + 12);
    s.run_as(a);
    for _ in 0..abi::config::TIME_SLICE - 1 {
        crate::entry::handle_interrupt(&mut s.k, crate::entry::Interrupt::Timer);
        assert_eq!(s.schedule(), Some(a));
    }
    crate::entry::handle_interrupt(&mut s.k, crate::entry::Interrupt::Timer);
    let next = s.schedule().unwrap();
    assert_ne!(
        next, a,
        "time slice over: another thread of the same priority runs"
    );
    assert!(next == b || next == root);
    // Yield moves the current thread to the back of its queue.
    let cur = s.k.cur_thread;
    s.sys(Syscall::Yield, 0, info(0, 0, 0), &[], &[]);
    assert_ne!(s.k.cur_thread, cur);
}

// Threads without SchedContexts and receives without Reply objects (MCS: mcs_tests).
#[cfg(not(feature = "mcs"))]
#[test]
fn notifications_signal_or_wait_poll_and_bound_recv() {
    let World { mut s, e } = world();
    let n = s.make(T::Notification, 0, e);
    mint(&mut s, e + 1, n, CapRights::ALL, 0b01);
    mint(&mut s, e + 2, n, CapRights::ALL, 0b10);
    let w = s.spawn(100, e + 10);
    s.run_as(w);
    // Poll with nothing pending: badge 0.
    s.sys(Syscall::NBRecv, n, info(0, 0, 0), &[], &[]);
    assert_eq!(w.reg(10), 0);
    // Two signals OR together; Wait returns and clears.
    s.sys(Syscall::Send, e + 1, info(0, 0, 0), &[], &[]);
    s.sys(Syscall::Send, e + 2, info(0, 0, 0), &[], &[]);
    s.sys(Syscall::Recv, n, info(0, 0, 0), &[], &[]);
    assert_eq!((w.reg(10), w.state()), (0b11, ThreadState::Running));
    // Blocking wait, then a signal wakes it with the badge.
    s.sys(Syscall::Recv, n, info(0, 0, 0), &[], &[]);
    assert_eq!(w.state(), ThreadState::BlockedOnNotification);
    let root = s.root;
    s.run_as(root);
    s.sys(Syscall::Send, e + 2, info(0, 0, 0), &[], &[]);
    assert_eq!((w.state(), w.reg(10)), (ThreadState::Running, 0b10));
    // Bound notification: a thread blocked in Recv on an endpoint is woken by a signal.
    let ep = s.make(T::Endpoint, 0, e + 3);
    crate::object::notification::bind(
        w,
        match s.root_slot(n).cap() {
            Cap::Notification { ptr, .. } => ptr,
            _ => unreachable!(),
        },
    );
    s.run_as(w);
    s.sys(Syscall::Recv, ep, info(0, 0, 0), &[], &[]);
    assert_eq!(w.state(), ThreadState::BlockedOnReceive);
    s.run_as(root);
    s.sys(Syscall::Send, e + 1, info(0, 0, 0), &[], &[]);
    assert_eq!((w.state(), w.reg(10)), (ThreadState::Running, 0b01));
    // A pending signal is taken at Recv on the endpoint without blocking.
    s.sys(Syscall::Send, e + 2, info(0, 0, 0), &[], &[]);
    s.run_as(w);
    s.sys(Syscall::Recv, ep, info(0, 0, 0), &[], &[]);
    assert_eq!((w.state(), w.reg(10)), (ThreadState::Running, 0b10));
}

#[test]
fn deleting_or_revoking_an_endpoint_releases_its_queue() {
    let World { mut s, e } = world();
    let ep = s.make(T::Endpoint, 0, e);
    mint(&mut s, e + 1, ep, CapRights::ALL, 3);
    let a = s.spawn(100, e + 10);
    let b = s.spawn(100, e + 12);
    s.run_as(a);
    s.sys(Syscall::Send, e + 1, info(0, 0, 0), &[], &[]);
    s.run_as(b);
    s.sys(Syscall::Send, ep, info(0, 0, 0), &[], &[]);
    assert_eq!(
        (a.state(), b.state()),
        (ThreadState::BlockedOnSend, ThreadState::BlockedOnSend)
    );
    let root = s.root;
    s.run_as(root);
    // CancelBadgedSends releases only badge 3.
    let r = s.cnode(L::CNodeCancelBadgedSends, &[e + 1, 64], &[]);
    assert_eq!(r.info.label(), 0);
    assert_eq!(
        (a.state(), b.state()),
        (ThreadState::Restart, ThreadState::BlockedOnSend)
    );
    // Deleting the last caps restarts the rest.
    s.cnode(L::CNodeDelete, &[e + 1, 64], &[]);
    assert_eq!(
        b.state(),
        ThreadState::BlockedOnSend,
        "not the last cap yet"
    );
    s.cnode(L::CNodeDelete, &[ep, 64], &[]);
    assert_eq!(b.state(), ThreadState::Restart);
}

// Non-MCS reply caps, fault-handler CPtrs and time slices; MCS: mcs_tests.
#[cfg(not(feature = "mcs"))]
#[test]
fn cap_fault_goes_to_the_fault_handler_and_the_reply_resumes() {
    let World { mut s, e } = world();
    let ep = s.make(T::Endpoint, 0, e);
    mint(&mut s, e + 1, ep, CapRights::ALL, 0xf);
    let handler = s.spawn(200, e + 10);
    let faulty = s.spawn(100, e + 12);
    faulty.with(|x| x.fault_handler = e + 1);
    s.run_as(handler);
    s.sys(Syscall::Recv, ep, info(0, 0, 0), &[], &[]);
    s.run_as(faulty);
    let pc = faulty.reg(0);
    // Call a cptr that fails the root CNode's guard.
    s.sys(Syscall::Call, 1 << 40, info(0, 0, 0), &[], &[]);
    assert_eq!(faulty.state(), ThreadState::BlockedOnReply);
    let r = System::regs_of(handler);
    assert_eq!(handler.reg(10), 0xf, "badge of the fault endpoint");
    assert_eq!(
        (r.info.label(), r.info.length()),
        (abi::fault::CAP_FAULT, 7)
    );
    assert_eq!(
        r.mrs[..4],
        [pc, 1 << 40, 0, 4],
        "IP, address, in-receive, guard mismatch"
    );
    // Reply: the thread restarts the faulting syscall.
    s.run_as(handler);
    s.sys(Syscall::Reply, 0, info(0, 0, 0), &[], &[]);
    assert_eq!(faulty.state(), ThreadState::Restart);
    s.run_as(faulty);
    assert_eq!(faulty.reg(0), pc, "resumes at the ecall");
}

// Non-MCS reply caps, fault-handler CPtrs and time slices; MCS: mcs_tests.
#[cfg(not(feature = "mcs"))]
#[test]
fn unknown_syscall_and_user_exception_faults() {
    let World { mut s, e } = world();
    let ep = s.make(T::Endpoint, 0, e);
    mint(&mut s, e + 1, ep, CapRights::ALL, 1);
    let handler = s.spawn(200, e + 10);
    let faulty = s.spawn(100, e + 12);
    faulty.with(|x| x.fault_handler = e + 1);
    s.run_as(handler);
    s.sys(Syscall::Recv, ep, info(0, 0, 0), &[], &[]);
    s.run_as(faulty);
    faulty.set_reg(10, 0xa0);
    faulty.set_reg(17, 1234);
    let pc = faulty.reg(0);
    crate::entry::handle_trap(&mut s.k, crate::entry::Event::Syscall);
    let r = System::regs_of(handler);
    assert_eq!(
        (r.info.label(), r.info.length()),
        (abi::fault::UNKNOWN_SYSCALL, 11)
    );
    assert_eq!((r.mrs[0], r.mrs[3]), (pc, 0xa0));
    let b = s.buffer_of(handler);
    assert_eq!(crate::mem::PPtr::<u64>::sim(b + 8 + 10 * 8).get(), 1234);
    // Reply with label 0 and a new pc: the thread resumes there with a0 set.
    s.run_as(handler);
    s.sys(
        Syscall::Reply,
        0,
        info(0, 0, 4),
        &[pc + 4, 0x1000, 0x2000, 0x55],
        &[],
    );
    assert_eq!(faulty.state(), ThreadState::Restart);
    s.run_as(faulty);
    assert_eq!(
        (faulty.reg(0), faulty.reg(2), faulty.reg(1), faulty.reg(10)),
        (pc + 4, 0x1000, 0x2000, 0x55)
    );
    // A user exception; a non-zero reply label leaves the thread suspended.
    s.run_as(handler);
    s.sys(Syscall::Recv, ep, info(0, 0, 0), &[], &[]);
    s.run_as(faulty);
    crate::entry::handle_trap(&mut s.k, crate::arch::riscv64::cause::decode(4, 0));
    let r = System::regs_of(handler);
    assert_eq!(
        (r.info.label(), r.info.length(), r.mrs[2]),
        (abi::fault::USER_EXCEPTION, 4, 4)
    );
    s.run_as(handler);
    s.sys(Syscall::Reply, 0, info(1, 0, 0), &[], &[]);
    assert_eq!(faulty.state(), ThreadState::Inactive);
    // A VM fault (load page fault at 0x1234).
    crate::object::tcb_ops::restart(&mut s.k, faulty);
    s.sys(Syscall::Recv, ep, info(0, 0, 0), &[], &[]);
    s.run_as(faulty);
    crate::entry::handle_trap(&mut s.k, crate::arch::riscv64::cause::decode(13, 0x1234));
    let r = System::regs_of(handler);
    assert_eq!(
        (r.info.label(), r.mrs[1], r.mrs[2], r.mrs[3]),
        (abi::fault::VM_FAULT, 0x1234, 0, 5)
    );
}

#[test]
fn a_thread_without_a_fault_handler_is_suspended() {
    let World { mut s, e } = world();
    let t = s.spawn(100, e + 10);
    s.run_as(t);
    crate::entry::handle_trap(&mut s.k, crate::arch::riscv64::cause::decode(4, 0));
    assert_eq!(t.state(), ThreadState::Inactive);
    assert_ne!(s.schedule(), Some(t));
}

#[test]
fn deleting_a_tcb_cancels_its_ipc() {
    let World { mut s, e } = world();
    let ep = s.make(T::Endpoint, 0, e);
    let t = s.spawn(100, e + 10);
    s.run_as(t);
    s.sys(Syscall::Recv, ep, info(0, 0, 0), &[], &[]);
    let root = s.root;
    s.run_as(root);
    assert_eq!(s.cnode(L::CNodeDelete, &[e + 10, 64], &[]).info.label(), 0);
    let Cap::Endpoint { ptr, .. } = s.root_slot(ep).cap() else {
        panic!()
    };
    assert!(
        ptr.head().is_none(),
        "no thread left queued on the endpoint"
    );
    let _ = TcbRef::sim(0);
}

#[cfg(all(feature = "fastpath", not(feature = "mcs")))]
mod fastpath_equivalence {
    use super::*;
    use crate::arch::riscv64::context::reg;
    use crate::ipc::Fault;
    use crate::object::tcb::tcb_slot;
    use proptest::prelude::*;

    /// A thread seen from outside: state, pc/a0..a5/restart pc, whose reply cap it holds, which
    /// thread runs, whether it is queued.
    type ThreadView = (ThreadState, [u64; 8], Option<usize>, Option<usize>, bool);

    /// What a thread looks like from outside: state, registers and its caller slot.
    fn snapshot(s: &System, ts: &[TcbRef]) -> Vec<ThreadView> {
        let index = |a: usize| ts.iter().position(|t| t.addr() == a);
        ts.iter()
            .map(|t| {
                let r = t.with(|x| {
                    let c = &x.context.regs;
                    [c[0], c[10], c[11], c[12], c[13], c[14], c[15], x.fault_ip]
                });
                let caller = match t.slot(tcb_slot::CALLER).cap() {
                    Cap::Reply { tcb, .. } => index(tcb.addr()),
                    _ => None,
                };
                (
                    t.state(),
                    r,
                    caller,
                    index(s.k.cur_thread.addr()),
                    t.with(|x| x.queued != 0),
                )
            })
            .collect()
    }

    /// Named words of kernel state, and each thread's pending fault.
    type DeepSnapshot = (Vec<(&'static str, usize, u64)>, Vec<Option<Fault>>);

    /// Everything the IPC paths touch, word by word, with kernel addresses made relative to the
    /// simulated RAM (the two systems' RAM lies at different host addresses): each thread's TCB
    /// fields and registers, its reply and caller slots (cap and MDB links), the endpoints, the
    /// current thread and the scheduler action; and each thread's pending fault.
    fn deep_snapshot(s: &System, ts: &[TcbRef], eps: &[u64]) -> DeepSnapshot {
        let (base, size) = (s.mem.pptr() as u64, s.mem.size() as u64);
        let rel = |a: u64| {
            if a >= base && a < base + size {
                a - base
            } else {
                a
            }
        };
        let mut v = Vec::new();
        for (i, t) in ts.iter().enumerate() {
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
                v.push(("sched_next", i, rel(x.sched_next.addr() as u64)));
                v.push(("sched_prev", i, rel(x.sched_prev.addr() as u64)));
                v.push(("ep_next", i, rel(x.ep_next.addr() as u64)));
                v.push(("ep_prev", i, rel(x.ep_prev.addr() as u64)));
            });
            for (name, sl) in [("reply", tcb_slot::REPLY), ("caller", tcb_slot::CALLER)] {
                let slot = t.slot(sl);
                let m = slot.mdb();
                let (cap_ptr, cap_bits) = match slot.cap() {
                    Cap::Reply {
                        tcb,
                        master,
                        can_grant,
                    } => (
                        rel(tcb.addr() as u64),
                        1 + 2 * master as u64 + 4 * can_grant as u64,
                    ),
                    c => (0, 100 + c.encode().tag()),
                };
                v.push((name, i * 10, cap_ptr));
                v.push((name, i * 10 + 1, cap_bits));
                v.push((
                    name,
                    i * 10 + 2,
                    m.prev().map_or(0, |p| rel(p.addr() as u64)),
                ));
                v.push((
                    name,
                    i * 10 + 3,
                    m.next().map_or(0, |n| rel(n.addr() as u64)),
                ));
                v.push((
                    name,
                    i * 10 + 4,
                    m.revocable() as u64 + 2 * m.first_badged() as u64,
                ));
            }
        }
        for (i, &ep) in eps.iter().enumerate() {
            let Cap::Endpoint { ptr, .. } = s.root_slot(ep).cap() else {
                panic!("endpoint cap")
            };
            let e = ptr.0.get();
            v.push((
                "ep_head",
                i,
                rel(e.head_state.word() & !3) | (e.head_state.word() & 3),
            ));
            v.push(("ep_tail", i, rel(e.tail.addr() as u64)));
        }
        v.push(("cur_thread", 0, rel(s.k.cur_thread.addr() as u64)));
        let action = match s.k.sched.action {
            crate::sched::SchedulerAction::ResumeCurrentThread => 0,
            crate::sched::SchedulerAction::ChooseNewThread => 1,
            crate::sched::SchedulerAction::SwitchToThread(t) => 2 + rel(t.addr() as u64),
        };
        v.push(("action", 0, action));
        (v, ts.iter().map(|&t| Fault::load(t)).collect())
    }

    #[derive(Clone, Debug)]
    enum Op {
        /// Thread `t` runs syscall `sys` on endpoint `ep` (0 or 1; 2: the badged copy of 0) with
        /// `len` words.
        Sys {
            t: usize,
            sys: u8,
            ep: u64,
            len: u64,
            label: u64,
        },
        /// Thread `t` takes a VM fault; its fault handler is endpoint 1.
        Fault { t: usize },
        /// The root task deletes endpoint 1 (threads queued on it restart, a faulted sender
        /// keeping its fault) and makes a new one in the same slot.
        RenewEp1,
    }

    fn op() -> impl Strategy<Value = Op> {
        // Weighted towards the fastpath's cases: Call, ReplyRecv and Recv on one endpoint.
        let sys = prop_oneof![3 => Just(0u8), 3 => Just(1u8), 2 => Just(2u8), 1 => Just(3u8), 1 => Just(4u8)];
        let ep = prop_oneof![3 => Just(0u64), 1 => Just(1u64), 1 => Just(2u64)];
        let sys_op =
            (0usize..3, sys, ep, 0u64..7, 0u64..4).prop_map(|(t, sys, ep, len, label)| Op::Sys {
                t,
                sys,
                ep,
                len,
                label,
            });
        prop_oneof![
            24 => sys_op,
            2 => (0usize..3).prop_map(|t| Op::Fault { t }),
            1 => Just(Op::RenewEp1),
        ]
    }

    /// Three threads of priorities `prios` (fault handler: endpoint 1) and two endpoints.
    /// Three threads of priorities `prios` (fault handler: endpoint 1), two endpoints and a
    /// copy of endpoint 0 with badge 0xb0b: their slots.
    fn setup_with(fastpath_off: bool, prios: [u64; 3]) -> (System, Vec<TcbRef>, [u64; 3]) {
        let mut s = System::boot();
        s.k.fastpath_off = fastpath_off;
        s.root.with(|x| x.priority = 1);
        let e = s.bootinfo().empty.start;
        let ep0 = s.make(T::Endpoint, 0, e);
        let ep1 = s.make(T::Endpoint, 0, e + 1);
        let r = s.cnode(
            L::CNodeMint,
            &[e + 2, 64, ep0, 64, CapRights::ALL.0, 0xb0b],
            &[slot::INIT_THREAD_CNODE],
        );
        assert_eq!(r.info.label(), 0);
        let ts: Vec<TcbRef> = prios
            .iter()
            .enumerate()
            .map(|(i, &p)| s.spawn(p, e + 10 + 2 * i as u64))
            .collect();
        (s, ts, [ep0, ep1, e + 2])
    }

    fn setup(fastpath_off: bool) -> (System, Vec<TcbRef>, [u64; 3]) {
        setup_with(fastpath_off, [100, 100, 150])
    }

    /// The fastpath does take the common case (so that the property below compares it with
    /// the full path, not the full path with itself).
    #[test]
    fn fastpath_takes_call_and_reply_recv() {
        let (mut s, ts, ep) = setup(false);
        s.run_as(ts[0]);
        s.sys(Syscall::Recv, ep[0], MessageInfo::new(0, 0, 0, 0), &[], &[]);
        assert_eq!(s.k.fastpath_hits, 0);
        s.run_as(ts[1]);
        s.sys(
            Syscall::Call,
            ep[0],
            MessageInfo::new(7, 0, 0, 2),
            &[11, 22],
            &[],
        );
        assert_eq!(
            s.k.fastpath_hits, 1,
            "Call to a waiting server of the same priority"
        );
        assert_eq!(s.k.cur_thread, ts[0]);
        assert_eq!(ts[0].reg(reg::A1), MessageInfo::new(7, 0, 0, 2).0);
        assert_eq!((ts[0].reg(reg::A2), ts[0].reg(reg::A2 + 1)), (11, 22));
        s.sys(
            Syscall::ReplyRecv,
            ep[0],
            MessageInfo::new(9, 0, 0, 1),
            &[33],
            &[],
        );
        assert_eq!(s.k.fastpath_hits, 2, "ReplyRecv to the blocked caller");
        assert_eq!(s.k.cur_thread, ts[1]);
        assert_eq!(
            (ts[1].reg(reg::A1), ts[1].reg(reg::A2)),
            (MessageInfo::new(9, 0, 0, 1).0, 33)
        );
        assert_eq!(ts[0].state(), ThreadState::BlockedOnReceive);
    }

    /// A server left with a fault (its fault message was pending on an endpoint that was
    /// deleted, which restarts it without clearing the fault, as seL4's `cancelAllIPC` does)
    /// replies with a fault message: the fastpath must leave that to the full path. Returns
    /// the client's `a1` and `a2` after the reply.
    fn reply_with_stale_fault(fastpath_off: bool) -> (u64, u64) {
        let (mut s, ts, ep) = setup(fastpath_off);
        let (server, client) = (ts[0], ts[1]);
        server.with(|x| x.fault_handler = ep[1]);
        s.run_as(server);
        crate::entry::handle_trap(&mut s.k, crate::arch::riscv64::cause::decode(13, 0x1234));
        assert_eq!(server.state(), ThreadState::BlockedOnSend);
        let root = s.root;
        s.run_as(root);
        let r = s.cnode(L::CNodeDelete, &[ep[1], 64], &[]);
        assert_eq!(r.info.label(), 0);
        assert_eq!(server.state(), ThreadState::Restart);
        s.run_as(server);
        s.sys(Syscall::Recv, ep[0], MessageInfo::new(0, 0, 0, 0), &[], &[]);
        s.run_as(client);
        s.sys(Syscall::Call, ep[0], MessageInfo::new(0, 0, 0, 0), &[], &[]);
        assert_eq!(s.k.cur_thread, server);
        s.sys(
            Syscall::ReplyRecv,
            ep[0],
            MessageInfo::new(9, 0, 0, 1),
            &[33],
            &[],
        );
        (client.reg(reg::A1), client.reg(reg::A2))
    }

    #[test]
    fn fastpath_leaves_a_reply_from_a_faulted_thread_to_the_full_path() {
        let full = reply_with_stale_fault(true);
        assert_eq!(
            full,
            (MessageInfo::new(abi::fault::VM_FAULT, 0, 0, 4).0, 4),
            "the full path sends the VM fault message (IP first)"
        );
        assert_eq!(reply_with_stale_fault(false), full);
    }

    /// A fault handler's ReplyRecv to the thread whose fault it received: the reply is a
    /// fault reply (`handleFaultReply`: label 0 restarts the thread), which the fastpath leaves
    /// to the full path. Mutation testing found no test of the fastpath's check of the
    /// caller's fault (docs/TESTING.md).
    fn reply_to_a_faulted_caller(fastpath_off: bool) -> (ThreadState, bool, [u64; 3], u64) {
        let (mut s, ts, ep) = setup(fastpath_off);
        let (handler, client) = (ts[0], ts[1]);
        client.with(|x| x.fault_handler = ep[0]);
        s.run_as(handler);
        s.sys(Syscall::Recv, ep[0], MessageInfo::new(0, 0, 0, 0), &[], &[]);
        s.run_as(client);
        crate::entry::handle_trap(&mut s.k, crate::arch::riscv64::cause::decode(13, 0x1234));
        assert_eq!(client.state(), ThreadState::BlockedOnReply);
        s.run_as(handler);
        s.sys(
            Syscall::ReplyRecv,
            ep[0],
            MessageInfo::new(0, 0, 0, 0),
            &[],
            &[],
        );
        let regs = [reg::A0, reg::A1, reg::A2].map(|r| client.reg(r));
        (
            client.state(),
            s.k.cur_thread == client,
            regs,
            s.k.fastpath_hits,
        )
    }

    #[test]
    fn fastpath_leaves_the_reply_to_a_faulted_caller_to_the_full_path() {
        let (state, client_runs, regs, _) = reply_to_a_faulted_caller(true);
        assert!(
            state.is_runnable() && client_runs,
            "label 0 restarts the faulted thread"
        );
        assert_eq!(
            reply_to_a_faulted_caller(false),
            (state, client_runs, regs, 0)
        );
    }

    /// Every case starts with thread 0 waiting on endpoint 0 and thread 1 calling it through
    /// the badged copy (the fastpath's Call), thread 0 answering with ReplyRecv (its
    /// ReplyRecv), then random operations.
    fn case() -> impl Strategy<Value = ([u64; 3], Vec<Op>)> {
        let prefix = [(0, 2, 0), (1, 0, 2), (0, 1, 0)].map(|(t, sys, ep)| Op::Sys {
            t,
            sys,
            ep,
            len: 2,
            label: 1,
        });
        (
            proptest::array::uniform3(prop_oneof![Just(90u64), Just(100), Just(150)]),
            proptest::collection::vec(op(), 1..30),
        )
            .prop_map(move |(prios, ops)| (prios, prefix.iter().cloned().chain(ops).collect()))
    }

    /// Random IPC between three threads of random priorities (with faults and an endpoint
    /// deleted under them) reaches the same state, step by step, with the fastpath and without
    /// it; the fastpath must handle syscalls in at least three cases out of four (else the
    /// property compares the full path with itself).
    #[test]
    fn fastpath_and_full_path_reach_the_same_state() {
        let mut runner =
            proptest::test_runner::TestRunner::new(crate::testing::proptest_config(128));
        let cases = std::cell::Cell::new((0u32, 0u32));
        let result = runner.run(&case(), |(prios, ops)| {
            let (mut a, ta, epa) = setup_with(false, prios);
            let (mut b, tb, epb) = setup_with(true, prios);
            prop_assert_eq!(epa, epb);
            for t in ta.iter().chain(tb.iter()) {
                t.with(|x| x.fault_handler = epa[1]);
            }
            for op in ops {
                for (s, ts) in [(&mut a, &ta), (&mut b, &tb)] {
                    // Physical addresses (retype) must reach this machine's memory.
                    s.mem.enter();
                    let t = match op {
                        Op::Sys { t, .. } | Op::Fault { t } => t,
                        Op::RenewEp1 => {
                            let root = s.root;
                            s.run_as(root);
                            let r = s.cnode(L::CNodeDelete, &[epa[1], 64], &[]);
                            prop_assert_eq!(r.info.label(), 0);
                            // Restarted threads may have preempted the root task.
                            s.run_as(root);
                            s.make(T::Endpoint, 0, epa[1]);
                            let _ = s.schedule();
                            continue;
                        }
                    };
                    let th = ts[t];
                    if !crate::sched::is_schedulable(th) {
                        continue;
                    }
                    s.run_as(th);
                    match op {
                        Op::Sys {
                            sys,
                            ep,
                            len,
                            label,
                            ..
                        } => {
                            let sys = [
                                Syscall::Call,
                                Syscall::ReplyRecv,
                                Syscall::Recv,
                                Syscall::Send,
                                Syscall::Reply,
                            ][sys as usize];
                            let mrs: Vec<u64> =
                                (0..len).map(|i| 100 * (t as u64 + 1) + i).collect();
                            s.sys(
                                sys,
                                epa[ep as usize],
                                MessageInfo::new(label, 0, 0, len),
                                &mrs,
                                &[],
                            );
                        }
                        Op::Fault { .. } => {
                            crate::entry::handle_trap(
                                &mut s.k,
                                crate::arch::riscv64::cause::decode(13, 0x1000 * (t as u64 + 1)),
                            );
                            let _ = s.schedule();
                        }
                        Op::RenewEp1 => unreachable!(),
                    }
                }
                prop_assert_eq!(snapshot(&a, &ta), snapshot(&b, &tb));
                prop_assert_eq!(deep_snapshot(&a, &ta, &epa), deep_snapshot(&b, &tb, &epb));
            }
            prop_assert_eq!(b.k.fastpath_hits, 0);
            let (n, hit) = cases.get();
            cases.set((n + 1, hit + (a.k.fastpath_hits > 0) as u32));
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
}

#[test]
fn fpu_state_is_loaded_on_first_use_and_disabled_threads_fault() {
    use crate::arch::riscv64::context::SSTATUS_FS_MASK;
    let World { mut s, e } = world();
    let a = s.spawn(100, e + 10);
    let b = s.spawn(100, e + 12);
    s.run_as(a);
    // Not the FPU owner: it runs with the FPU off.
    assert_eq!(a.with(|x| x.context.sstatus) & SSTATUS_FS_MASK, 0);
    let pc = a.reg(0);
    // Its first FP instruction (illegal with FS off) makes it the owner; it continues there.
    crate::entry::handle_trap(&mut s.k, crate::arch::riscv64::cause::decode(2, 0));
    assert_eq!(
        (a.state(), a.reg(0), s.k.fpu_owner.addr()),
        (ThreadState::Running, pc, a.addr())
    );
    assert_ne!(a.with(|x| x.context.sstatus) & SSTATUS_FS_MASK, 0);
    // A genuine illegal instruction now is a user exception (no handler: suspended).
    crate::entry::handle_trap(&mut s.k, crate::arch::riscv64::cause::decode(2, 0));
    assert_eq!(a.state(), ThreadState::Inactive);
    // A thread with seL4_TCBFlag_fpuDisabled faults on its first FP instruction.
    b.with(|x| x.flags = crate::object::tcb::TCB_FLAG_FPU_DISABLED);
    s.run_as(b);
    crate::entry::handle_trap(&mut s.k, crate::arch::riscv64::cause::decode(2, 0));
    assert_eq!(b.state(), ThreadState::Inactive);
    assert_eq!(s.k.fpu_owner.addr(), a.addr());
}

/// `seL4_TCBFlag_fpuDisabled` set on the thread that owns the FPU releases it (`fpuRelease`):
/// no owner afterwards, the thread's FPU off; a Resume of a thread that is runnable and has
/// run (state Running) changes nothing (`restart` only acts on a stopped thread,
/// `isStopped`).
#[test]
fn fpu_owner_disabled_and_runnable_thread_resumed() {
    use crate::arch::riscv64::context::SSTATUS_FS_MASK;
    let World { mut s, e } = world();
    let a = s.spawn(100, e + 10);
    s.run_as(a);
    crate::entry::handle_trap(&mut s.k, crate::arch::riscv64::cause::decode(2, 0));
    assert_eq!(s.k.fpu_owner.addr(), a.addr(), "a's first FP instruction");
    assert_eq!(a.state(), ThreadState::Running);
    let pc = a.reg(0);
    let root = s.root;
    s.run_as(root);
    assert_eq!(a.state(), ThreadState::Running, "preempted, still Running");
    let r = s.call(e + 10, L::TCBResume, &[], &[]);
    assert_eq!(r.info.label(), 0, "{r:?}");
    assert_eq!(
        (a.state(), a.reg(0)),
        (ThreadState::Running, pc),
        "Resume of a runnable thread changes nothing"
    );
    let r = s.call(
        e + 10,
        L::TCBSetFlags,
        &[0, crate::object::tcb::TCB_FLAG_FPU_DISABLED],
        &[],
    );
    assert_eq!(r.info.label(), 0, "{r:?}");
    assert!(s.k.fpu_owner.is_none(), "the FPU has no owner");
    assert_eq!(
        a.with(|x| x.context.sstatus) & SSTATUS_FS_MASK,
        0,
        "a's FPU is off"
    );
}
