//! Host tests of the MCS IPC paths against seL4 16.0.0 (`src/object/endpoint.c`, `reply.c`,
//! `notification.c`, `schedcontext.c`, `src/kernel/thread.c`, `sporadic.c`,
//! `faulthandler.c`, `src/api/syscall.c` under `CONFIG_KERNEL_MCS`), driven through the
//! syscall path: Reply objects and call stacks, scheduling-context donation and its return,
//! cancellation by deletion, the receive-phase cap fault, `seL4_NBSendRecv`/`NBSendWait`,
//! priority-ordered queues, notifications with a bound SC, fault and timeout handlers, budget
//! enforcement on the simulated clock, and the MCS counterparts of the non-MCS `ipc_tests`.

use crate::arch::host::advance_time;
use crate::arch::regs;
use crate::arch::riscv64::context::reg;
use crate::cap::Cap;
use crate::entry::{Event, Interrupt};
use crate::mem::PPtr;
use crate::object::endpoint::{EpRef, EpState};
use crate::object::notification::{NtfnRef, NtfnState};
use crate::object::reply::{CallStack, ReplyRef};
use crate::object::sched_context::{refill_head, tcb_sc, ScRef};
use crate::object::tcb::{TcbRef, ThreadState};
use crate::sched::is_schedulable;
use crate::testing::*;
use abi::bootinfo::slot;
use abi::{CapRights, InvocationLabel as L, MessageInfo, ObjectType as T, Syscall};

const CNODE: u64 = slot::INIT_THREAD_CNODE;
const VSPACE: u64 = slot::INIT_THREAD_VSPACE;
const ROOT_TCB: u64 = slot::INIT_THREAD_TCB;

/// A booted system whose root thread runs at priority 1 (so that the scheduler's choices
/// among the test's threads show in `k.cur_thread`), and the first empty slot.
fn world() -> (System, u64) {
    let mut s = System::boot();
    let root = s.root;
    assert_eq!(s.k.cur_thread, root);
    crate::sched::sched_dequeue(&mut s.k, root);
    root.with(|x| x.priority = 1);
    let e = s.bootinfo().empty.start;
    (s, e)
}

fn info(label: u64, caps: u64, len: u64) -> MessageInfo {
    MessageInfo::new(label, 0, caps, len)
}

fn mint(s: &mut System, dest: u64, src: u64, rights: CapRights, badge: u64) {
    ok_empty(s.cnode(
        L::CNodeMint,
        &[dest, 64, src, 64, rights.0, badge],
        &[CNODE],
    ));
}

fn ep_at(s: &System, i: u64) -> EpRef {
    match s.root_slot(i).cap() {
        Cap::Endpoint { ptr, .. } => ptr,
        c => panic!("slot {i}: {c:?}"),
    }
}

fn ntfn_at(s: &System, i: u64) -> NtfnRef {
    match s.root_slot(i).cap() {
        Cap::Notification { ptr, .. } => ptr,
        c => panic!("slot {i}: {c:?}"),
    }
}

fn reply_at(s: &System, i: u64) -> ReplyRef {
    match s.root_slot(i).cap() {
        Cap::Reply { ptr, .. } => ptr,
        c => panic!("slot {i}: {c:?}"),
    }
}

fn sc_at(s: &System, i: u64) -> ScRef {
    match s.root_slot(i).cap() {
        Cap::SchedContext { ptr, .. } => ptr,
        c => panic!("slot {i}: {c:?}"),
    }
}

/// The SchedContext [`System::spawn`] gave the thread whose TCB cap is in `tslot`.
fn own_sc(s: &System, tslot: u64) -> ScRef {
    sc_at(s, System::sc_slot_of(tslot))
}

/// A call-stack word naming the SchedContext `sc` (the head).
fn head(sc: ScRef) -> u64 {
    CallStack::to_a(sc).word()
}

/// A `prev` word naming the Reply object `r`.
fn link(r: ReplyRef) -> u64 {
    r.addr() as u64
}

/// A call-stack (`next`) word naming the Reply object `r`.
fn stack_link(r: ReplyRef) -> u64 {
    CallStack::to_b(r).word()
}

/// A Reply object's (tcb, prev, next).
fn links(r: ReplyRef) -> (u64, u64, u64) {
    let x = r.get();
    (x.tcb.addr() as u64, x.prev.addr() as u64, x.next.word())
}

fn addr(t: TcbRef) -> u64 {
    t.addr() as u64
}

/// The SchedContext of `t` and the thread that SchedContext names.
fn sc_owner(sc: ScRef) -> u64 {
    sc.get().tcb.addr() as u64
}

/// The threads queued from `first` along `ep_next` (endpoint and notification queues).
fn queue_from(first: usize) -> Vec<TcbRef> {
    let mut v = Vec::new();
    let mut t = first;
    while t != 0 {
        v.push(TcbRef::sim(t));
        t = TcbRef::sim(t).with(|x| x.ep_next).addr();
    }
    v
}

fn ep_queue(ep: EpRef) -> Vec<TcbRef> {
    queue_from(ep.head().map_or(0, |t| t.addr()))
}

fn ntfn_queue(n: NtfnRef) -> Vec<TcbRef> {
    queue_from(n.0.get().head_state.get().map_or(0, |t| t.addr()))
}

/// Makes the thread whose TCB cap is in `tslot` passive: the root task unbinds its SC.
fn make_passive(s: &mut System, tslot: u64) {
    ok_empty(s.call(System::sc_slot_of(tslot), L::SchedContextUnbind, &[], &[]));
}

/// `t` runs and makes syscall `sys` on `a0` with `a6` (the Reply cap or NBSendWait's
/// destination) and `t0` (NBSendRecv's destination) set.
#[allow(clippy::too_many_arguments)]
fn sys6(
    s: &mut System,
    t: TcbRef,
    sys: Syscall,
    a0: u64,
    a6: u64,
    t0: u64,
    i: MessageInfo,
    mrs: &[u64],
) -> Reply {
    s.run_as(t);
    t.set_reg(regs::REPLY, a6);
    t.set_reg(regs::NB_SEND_RECV_DEST, t0);
    s.sys(sys, a0, i, mrs, &[]).1
}

/// `seL4_Recv(ep, &badge, reply)` by `t`.
fn recv(s: &mut System, t: TcbRef, ep: u64, reply: u64) {
    sys6(s, t, Syscall::Recv, ep, reply, 0, info(0, 0, 0), &[]);
}

/// `seL4_Call(ep, info)` by `t`.
fn call(s: &mut System, t: TcbRef, ep: u64, i: MessageInfo, mrs: &[u64]) {
    sys6(s, t, Syscall::Call, ep, 0, 0, i, mrs);
}

/// `seL4_Send(cptr, info)` by `t`.
fn send(s: &mut System, t: TcbRef, cptr: u64, i: MessageInfo, mrs: &[u64]) {
    sys6(s, t, Syscall::Send, cptr, 0, 0, i, mrs);
}

/// `seL4_ReplyRecv(ep, info, &badge, reply)` by `t`.
fn reply_recv(s: &mut System, t: TcbRef, ep: u64, reply: u64, i: MessageInfo, mrs: &[u64]) {
    sys6(s, t, Syscall::ReplyRecv, ep, reply, 0, i, mrs);
}

/// The timer interrupt after `ticks` more ticks of the simulated clock; the kernel then
/// chooses the next thread.
fn timer_after(s: &mut System, ticks: u64) {
    advance_time(ticks);
    crate::entry::handle_trap(&mut s.k, Event::Interrupt(Interrupt::Timer));
    s.schedule();
}

/// `seL4_SchedControl_ConfigureFlags(sched_control, sc, budget, period, 0, badge, flags)`.
fn configure(s: &mut System, sc: u64, budget_us: u64, period_us: u64, badge: u64, flags: u64) {
    let ctl = s.bootinfo().schedcontrol.start;
    ok_empty(s.call(
        ctl,
        L::SchedControlConfigureFlags,
        &[budget_us, period_us, 0, badge, flags],
        &[sc],
    ));
}

// ---------------------------------------------------------------------------------------------
// Call and reply through Reply objects
// ---------------------------------------------------------------------------------------------

/// An active server (its own SC) receiving with a Reply object: a Call links the caller to
/// the Reply object without donating; the reply comes by `seL4_Send` on the Reply cap and by
/// `seL4_ReplyRecv`; a reply with no caller waiting does nothing.
#[test]
fn call_to_an_active_server_and_reply_by_send_and_by_reply_recv() {
    let (mut s, e) = world();
    let ep = s.make(T::Endpoint, 0, e);
    let rp = s.make(T::Reply, 0, e + 1);
    let server = s.spawn(100, e + 10);
    let client = s.spawn(100, e + 12);
    let (r, ssc, csc) = (reply_at(&s, rp), own_sc(&s, e + 10), own_sc(&s, e + 12));
    recv(&mut s, server, ep, rp);
    assert_eq!(server.state(), ThreadState::BlockedOnReceive);
    assert_eq!(links(r), (addr(server), 0, 0));
    assert_eq!(
        server.with(|x| x.reply_object.addr() as u64),
        r.addr() as u64
    );
    call(&mut s, client, ep, info(5, 0, 2), &[7, 8]);
    assert_eq!(client.state(), ThreadState::BlockedOnReply);
    assert_eq!(server.state(), ThreadState::Running);
    // The Reply object now links the caller; no call stack (the server has an SC).
    assert_eq!(links(r), (addr(client), 0, 0));
    assert_eq!(
        client.with(|x| x.reply_object.addr() as u64),
        r.addr() as u64
    );
    assert_eq!(server.with(|x| x.reply_object.addr() as u64), 0);
    assert_eq!((tcb_sc(client), tcb_sc(server)), (csc, ssc));
    assert_eq!(
        (sc_owner(csc), csc.get().reply.addr() as u64),
        (addr(client), 0)
    );
    let m = System::regs_of(server);
    assert_eq!(
        (m.info.label(), m.info.length(), server.reg(reg::A0)),
        (5, 2, 0)
    );
    assert_eq!(m.mrs[..2], [7, 8]);
    assert_eq!(s.k.cur_thread, server, "the woken server runs");
    // seL4_Send on the Reply cap answers.
    send(&mut s, server, rp, info(9, 0, 1), &[99]);
    assert_eq!(client.state(), ThreadState::Running);
    assert_eq!(links(r), (0, 0, 0));
    assert_eq!(client.with(|x| x.reply_object.addr() as u64), 0);
    let m = System::regs_of(client);
    assert_eq!(
        (
            m.info.label(),
            m.info.length(),
            m.mrs[0],
            client.reg(reg::A0)
        ),
        (9, 1, 99, 0)
    );
    // A second reply finds no caller: nothing happens.
    send(&mut s, server, rp, info(10, 0, 1), &[100]);
    assert_eq!(System::regs_of(client).mrs[0], 99);
    // The caller first this time (BlockedOnSend), then the server's ReplyRecv answers and
    // waits again with the same Reply object.
    call(&mut s, client, ep, info(6, 0, 1), &[1]);
    assert_eq!(client.state(), ThreadState::BlockedOnSend);
    recv(&mut s, server, ep, rp);
    assert_eq!(
        (client.state(), server.state()),
        (ThreadState::BlockedOnReply, ThreadState::Running)
    );
    assert_eq!(links(r), (addr(client), 0, 0));
    assert_eq!(System::regs_of(server).mrs[0], 1);
    reply_recv(&mut s, server, ep, rp, info(3, 0, 1), &[42]);
    assert_eq!(client.state(), ThreadState::Running);
    assert_eq!(server.state(), ThreadState::BlockedOnReceive);
    assert_eq!(links(r), (addr(server), 0, 0));
    assert_eq!(ep_queue(ep_at(&s, ep)), vec![server]);
    let m = System::regs_of(client);
    assert_eq!((m.info.label(), m.mrs[0]), (3, 42));
    assert_eq!((tcb_sc(client), tcb_sc(server)), (csc, ssc));
}

/// A passive server (no SC) runs on its caller's SC: the Call pushes the Reply object on the
/// SC's call stack and donates the SC; the reply pops it and the SC goes back.
#[test]
fn call_to_a_passive_server_donates_and_the_reply_returns_the_sc() {
    let (mut s, e) = world();
    let ep = s.make(T::Endpoint, 0, e);
    let rp = s.make(T::Reply, 0, e + 1);
    let server = s.spawn(100, e + 10);
    let client = s.spawn(50, e + 12);
    let (r, csc) = (reply_at(&s, rp), own_sc(&s, e + 12));
    recv(&mut s, server, ep, rp);
    make_passive(&mut s, e + 10);
    assert_eq!(tcb_sc(server).addr(), 0);
    assert_eq!(server.state(), ThreadState::BlockedOnReceive);
    call(&mut s, client, ep, info(1, 0, 1), &[11]);
    assert_eq!(client.state(), ThreadState::BlockedOnReply);
    assert_eq!((tcb_sc(client).addr(), tcb_sc(server)), (0, csc));
    assert_eq!(sc_owner(csc), addr(server));
    assert_eq!(links(r), (addr(client), 0, head(csc)));
    assert_eq!(csc.get().reply.addr() as u64, r.addr() as u64);
    assert_eq!(s.k.cur_thread, server, "the server runs on the donated SC");
    assert_eq!(s.k.cur_sc, csc);
    assert_eq!(System::regs_of(server).mrs[0], 11);
    reply_recv(&mut s, server, ep, rp, info(0, 0, 1), &[22]);
    assert_eq!(tcb_sc(client), csc);
    assert_eq!(sc_owner(csc), addr(client));
    assert_eq!(
        (tcb_sc(server).addr(), csc.get().reply.addr() as u64),
        (0, 0)
    );
    assert_eq!(links(r), (addr(server), 0, 0));
    assert_eq!(
        (client.state(), server.state()),
        (ThreadState::Running, ThreadState::BlockedOnReceive)
    );
    assert_eq!(System::regs_of(client).mrs[0], 22);
    assert_eq!(s.k.cur_thread, client);
}

/// Nested calls through passive servers A -> B -> C: the SC travels down the call stack
/// (C's Reply object on top, B's below) and back up as each replies.
#[test]
fn nested_passive_calls_build_and_unwind_the_call_stack() {
    let (mut s, e) = world();
    let (epb, epc) = (s.make(T::Endpoint, 0, e), s.make(T::Endpoint, 0, e + 1));
    let (rpb, rpc) = (s.make(T::Reply, 0, e + 2), s.make(T::Reply, 0, e + 3));
    let a = s.spawn(50, e + 10);
    let b = s.spawn(60, e + 12);
    let c = s.spawn(70, e + 14);
    let (rb, rc, sc) = (reply_at(&s, rpb), reply_at(&s, rpc), own_sc(&s, e + 10));
    recv(&mut s, b, epb, rpb);
    recv(&mut s, c, epc, rpc);
    make_passive(&mut s, e + 12);
    make_passive(&mut s, e + 14);
    call(&mut s, a, epb, info(0, 0, 1), &[1]);
    assert_eq!((tcb_sc(b), s.k.cur_thread), (sc, b));
    call(&mut s, b, epc, info(0, 0, 1), &[2]);
    assert_eq!((tcb_sc(c), sc_owner(sc), s.k.cur_thread), (sc, addr(c), c));
    assert_eq!((tcb_sc(a).addr(), tcb_sc(b).addr()), (0, 0));
    assert_eq!(
        (a.state(), b.state(), c.state()),
        (
            ThreadState::BlockedOnReply,
            ThreadState::BlockedOnReply,
            ThreadState::Running
        )
    );
    assert_eq!(sc.get().reply.addr() as u64, rc.addr() as u64);
    assert_eq!(links(rc), (addr(b), link(rb), head(sc)));
    assert_eq!(links(rb), (addr(a), 0, stack_link(rc)));
    // C answers B: the SC goes back one level.
    reply_recv(&mut s, c, epc, rpc, info(0, 0, 1), &[3]);
    assert_eq!(
        (tcb_sc(b), sc_owner(sc), tcb_sc(c).addr()),
        (sc, addr(b), 0)
    );
    assert_eq!(sc.get().reply.addr() as u64, rb.addr() as u64);
    assert_eq!(links(rb), (addr(a), 0, head(sc)));
    assert_eq!(links(rc), (addr(c), 0, 0));
    assert_eq!((b.state(), s.k.cur_thread), (ThreadState::Running, b));
    assert_eq!(System::regs_of(b).mrs[0], 3);
    // B answers A: the stack is empty, the SC is home.
    reply_recv(&mut s, b, epb, rpb, info(0, 0, 1), &[4]);
    assert_eq!(
        (tcb_sc(a), sc_owner(sc), sc.get().reply.addr() as u64),
        (sc, addr(a), 0)
    );
    assert_eq!(links(rb), (addr(b), 0, 0));
    assert_eq!((a.state(), s.k.cur_thread), (ThreadState::Running, a));
    assert_eq!(System::regs_of(a).mrs[0], 4);
}

/// Deleting the middle thread B of A -> B -> C (`reply_remove_tcb`): C keeps the SC, the
/// stack is cut at B, and A's later reply leaves it Running but passive (the SC does not
/// come back through a cut stack).
#[test]
fn deleting_the_middle_of_a_call_chain_cuts_the_stack() {
    let (mut s, e) = world();
    let (epb, epc) = (s.make(T::Endpoint, 0, e), s.make(T::Endpoint, 0, e + 1));
    let (rpb, rpc) = (s.make(T::Reply, 0, e + 2), s.make(T::Reply, 0, e + 3));
    let a = s.spawn(50, e + 10);
    let b = s.spawn(60, e + 12);
    let c = s.spawn(70, e + 14);
    let (rb, rc, sc) = (reply_at(&s, rpb), reply_at(&s, rpc), own_sc(&s, e + 10));
    recv(&mut s, b, epb, rpb);
    recv(&mut s, c, epc, rpc);
    make_passive(&mut s, e + 12);
    make_passive(&mut s, e + 14);
    call(&mut s, a, epb, info(0, 0, 0), &[]);
    call(&mut s, b, epc, info(0, 0, 0), &[]);
    ok_empty(s.cnode(L::CNodeDelete, &[e + 12, 64], &[]));
    assert_eq!(links(rc), (0, 0, 0));
    assert_eq!(links(rb), (addr(a), 0, 0));
    assert_eq!(sc.get().reply.addr() as u64, 0);
    assert_eq!((tcb_sc(c), sc_owner(sc)), (sc, addr(c)));
    // C's reply finds no one.
    send(&mut s, c, rpc, info(0, 0, 0), &[]);
    assert_eq!(a.state(), ThreadState::BlockedOnReply);
    assert_eq!(tcb_sc(c), sc);
    // Answering A through its Reply object: A runs again, without an SC.
    ok_empty(s.call(rpb, L::InvalidInvocation, &[], &[]));
    assert_eq!(a.state(), ThreadState::Running);
    assert_eq!((tcb_sc(a).addr(), sc_owner(sc)), (0, addr(c)));
    assert!(!is_schedulable(a));
    assert_eq!(links(rb), (0, 0, 0));
}

/// Deleting the Reply object while the caller waits on it (`reply_remove` from
/// `finaliseCap`): the donated SC goes back to the caller, which becomes Inactive; the
/// server loses the SC.
#[test]
fn deleting_the_reply_object_mid_call_returns_the_sc_to_the_inactive_caller() {
    let (mut s, e) = world();
    let ep = s.make(T::Endpoint, 0, e);
    let rp = s.make(T::Reply, 0, e + 1);
    let server = s.spawn(100, e + 10);
    let client = s.spawn(50, e + 12);
    let csc = own_sc(&s, e + 12);
    recv(&mut s, server, ep, rp);
    make_passive(&mut s, e + 10);
    call(&mut s, client, ep, info(0, 0, 0), &[]);
    assert_eq!(tcb_sc(server), csc);
    ok_empty(s.cnode(L::CNodeDelete, &[rp, 64], &[]));
    assert_eq!(client.state(), ThreadState::Inactive);
    assert_eq!(
        (tcb_sc(client), sc_owner(csc), csc.get().reply.addr() as u64),
        (csc, addr(client), 0)
    );
    assert_eq!(client.with(|x| x.reply_object.addr() as u64), 0);
    assert_eq!(tcb_sc(server).addr(), 0);
    assert_eq!(server.state(), ThreadState::Running);
    assert!(!is_schedulable(server) && !is_schedulable(client));
}

/// Deleting a Reply object a receiver waits with cancels the receive (`cancelIPC`).
#[test]
fn deleting_the_reply_object_of_a_receiver_cancels_its_receive() {
    let (mut s, e) = world();
    let ep = s.make(T::Endpoint, 0, e);
    let rp = s.make(T::Reply, 0, e + 1);
    let server = s.spawn(100, e + 10);
    recv(&mut s, server, ep, rp);
    ok_empty(s.cnode(L::CNodeDelete, &[rp, 64], &[]));
    assert_eq!(server.state(), ThreadState::Inactive);
    assert_eq!(server.with(|x| x.reply_object.addr() as u64), 0);
    assert_eq!(ep_at(&s, ep).state(), EpState::Idle);
}

/// Deleting the caller while a passive server runs on its SC (`reply_remove_tcb`): the
/// server keeps the SC, the stack is empty, and the server's reply goes nowhere.
#[test]
fn deleting_the_caller_mid_call_leaves_the_sc_with_the_server() {
    let (mut s, e) = world();
    let ep = s.make(T::Endpoint, 0, e);
    let rp = s.make(T::Reply, 0, e + 1);
    let server = s.spawn(100, e + 10);
    let client = s.spawn(50, e + 12);
    let (r, csc) = (reply_at(&s, rp), own_sc(&s, e + 12));
    recv(&mut s, server, ep, rp);
    make_passive(&mut s, e + 10);
    call(&mut s, client, ep, info(0, 0, 0), &[]);
    ok_empty(s.cnode(L::CNodeDelete, &[e + 12, 64], &[]));
    assert_eq!(links(r), (0, 0, 0));
    assert_eq!(
        (tcb_sc(server), sc_owner(csc), csc.get().reply.addr() as u64),
        (csc, addr(server), 0)
    );
    reply_recv(&mut s, server, ep, rp, info(0, 0, 0), &[]);
    assert_eq!(server.state(), ThreadState::BlockedOnReceive);
    assert_eq!(links(r), (addr(server), 0, 0));
    // seL4 gives back no SC on a receive: the server keeps running on the caller's SC.
    assert_eq!(tcb_sc(server), csc);
}

/// Deleting the passive server while it runs on its caller's SC (`schedContext_unbindTCB`
/// from `finaliseCap`): the SC is unbound but stays on the call stack; deleting the Reply
/// object then returns it to the (Inactive) caller.
#[test]
fn deleting_the_server_mid_call_leaves_the_sc_on_the_call_stack() {
    let (mut s, e) = world();
    let ep = s.make(T::Endpoint, 0, e);
    let rp = s.make(T::Reply, 0, e + 1);
    let server = s.spawn(100, e + 10);
    let client = s.spawn(50, e + 12);
    let (r, csc) = (reply_at(&s, rp), own_sc(&s, e + 12));
    recv(&mut s, server, ep, rp);
    make_passive(&mut s, e + 10);
    call(&mut s, client, ep, info(0, 0, 0), &[]);
    ok_empty(s.cnode(L::CNodeDelete, &[e + 10, 64], &[]));
    assert_eq!(sc_owner(csc), 0);
    assert_eq!(csc.get().reply.addr() as u64, r.addr() as u64);
    assert_eq!(links(r), (addr(client), 0, head(csc)));
    assert_eq!(client.state(), ThreadState::BlockedOnReply);
    ok_empty(s.cnode(L::CNodeDelete, &[rp, 64], &[]));
    assert_eq!(
        (tcb_sc(client), sc_owner(csc), csc.get().reply.addr() as u64),
        (csc, addr(client), 0)
    );
    assert_eq!(client.state(), ThreadState::Inactive);
}

// ---------------------------------------------------------------------------------------------
// Receives without Reply objects
// ---------------------------------------------------------------------------------------------

/// `seL4_Recv` on an endpoint needs a Reply cap in a6: an empty slot or another cap there is a
/// cap fault of the receive phase, sent to the thread's fault handler.
#[test]
fn recv_without_a_reply_cap_is_a_receive_phase_cap_fault() {
    let (mut s, e) = world();
    let ep = s.make(T::Endpoint, 0, e);
    let fep = s.make(T::Endpoint, 0, e + 1);
    mint(&mut s, e + 2, fep, CapRights::ALL, 0xf);
    let hrp = s.make(T::Reply, 0, e + 3);
    let handler = s.spawn(200, e + 10);
    let t = s.spawn(100, e + 12);
    // No fault handler: the thread stops.
    recv(&mut s, t, ep, e + 50);
    assert_eq!(t.state(), ThreadState::Inactive);
    assert_eq!(ep_at(&s, ep).state(), EpState::Idle);
    // With one, the fault goes there.
    ok_empty(s.call(e + 12, L::TCBSetSpace, &[0, 0], &[e + 2, CNODE, VSPACE]));
    ok_empty(s.call(e + 12, L::TCBResume, &[], &[]));
    recv(&mut s, handler, fep, hrp);
    for bad in [e + 50, ep] {
        let pc = t.reg(reg::PC);
        recv(&mut s, t, ep, bad);
        assert_eq!(t.state(), ThreadState::BlockedOnReply);
        let m = System::regs_of(handler);
        assert_eq!(
            (m.info.label(), handler.reg(reg::A0)),
            (abi::fault::CAP_FAULT, 0xf)
        );
        assert_eq!(
            m.mrs[..3],
            [pc, bad, 1],
            "IP, the reply cptr, in receive phase"
        );
        // The reply restarts the Recv.
        reply_recv(&mut s, handler, fep, hrp, info(0, 0, 0), &[]);
        assert_eq!((s.k.cur_thread, t.state()), (t, ThreadState::Running));
        assert_eq!(t.reg(reg::PC), pc, "restarted: back at the ecall");
    }
}

/// `seL4_Wait` on an endpoint names no Reply object: a Call that meets such a receiver
/// leaves the caller Inactive (no one can answer it), and donates nothing.
#[test]
fn wait_on_an_endpoint_then_call_leaves_the_caller_inactive() {
    let (mut s, e) = world();
    let ep = s.make(T::Endpoint, 0, e);
    let server = s.spawn(100, e + 10);
    let client = s.spawn(50, e + 12);
    let csc = own_sc(&s, e + 12);
    sys6(&mut s, server, Syscall::Wait, ep, 0, 0, info(0, 0, 0), &[]);
    assert_eq!(server.state(), ThreadState::BlockedOnReceive);
    assert_eq!(server.with(|x| x.reply_object.addr() as u64), 0);
    make_passive(&mut s, e + 10);
    call(&mut s, client, ep, info(4, 0, 1), &[44]);
    assert_eq!(client.state(), ThreadState::Inactive);
    assert_eq!(server.state(), ThreadState::Running);
    assert_eq!(System::regs_of(server).mrs[0], 44);
    assert_eq!((tcb_sc(client), tcb_sc(server).addr()), (csc, 0));
    // Caller first: the same.
    ok_empty(s.call(e + 12, L::TCBResume, &[], &[]));
    ok_empty(s.call(
        e + 12,
        L::TCBSetSchedParams,
        &[50, 50],
        &[ROOT_TCB, System::sc_slot_of(e + 12), e + 60],
    ));
    call(&mut s, client, ep, info(4, 0, 1), &[45]);
    assert_eq!(client.state(), ThreadState::BlockedOnSend);
    sys6(&mut s, server, Syscall::Wait, ep, 0, 0, info(0, 0, 0), &[]);
    assert_eq!(client.state(), ThreadState::Inactive);
    assert_eq!(System::regs_of(server).mrs[0], 45);
}

/// A Call through an endpoint cap without Grant or GrantReply leaves the caller Inactive
/// even if the receiver has a Reply object (`sendIPC`: `canGrant || canGrantReply`).
#[test]
fn call_without_grant_rights_leaves_the_caller_inactive() {
    let (mut s, e) = world();
    let ep = s.make(T::Endpoint, 0, e);
    mint(
        &mut s,
        e + 1,
        ep,
        CapRights::new(false, false, true, true),
        3,
    );
    let rp = s.make(T::Reply, 0, e + 2);
    let server = s.spawn(100, e + 10);
    let client = s.spawn(50, e + 12);
    recv(&mut s, server, ep, rp);
    call(&mut s, client, e + 1, info(0, 0, 0), &[]);
    assert_eq!(client.state(), ThreadState::Inactive);
    assert_eq!(
        (server.state(), server.reg(reg::A0)),
        (ThreadState::Running, 3)
    );
    assert_eq!(links(reply_at(&s, rp)), (0, 0, 0));
}

// ---------------------------------------------------------------------------------------------
// NBSendRecv, NBSendWait
// ---------------------------------------------------------------------------------------------

/// `seL4_NBSendRecv` (destination in t0): the plain send lends the sender's SC to a passive
/// receiver (no call stack), then the sender receives on its own endpoint with its Reply
/// object.
#[test]
fn nb_send_recv_lends_the_sc_on_a_plain_send() {
    let (mut s, e) = world();
    let (ep, ep2) = (s.make(T::Endpoint, 0, e), s.make(T::Endpoint, 0, e + 1));
    let (srp, crp) = (s.make(T::Reply, 0, e + 2), s.make(T::Reply, 0, e + 3));
    let server = s.spawn(100, e + 10);
    let client = s.spawn(50, e + 12);
    let csc = own_sc(&s, e + 12);
    recv(&mut s, server, ep, srp);
    make_passive(&mut s, e + 10);
    sys6(
        &mut s,
        client,
        Syscall::NBSendRecv,
        ep2,
        crp,
        ep,
        info(7, 0, 1),
        &[70],
    );
    assert_eq!(
        (tcb_sc(server), sc_owner(csc), csc.get().reply.addr() as u64),
        (csc, addr(server), 0)
    );
    assert_eq!(tcb_sc(client).addr(), 0);
    assert_eq!(server.state(), ThreadState::Running);
    assert_eq!(
        links(reply_at(&s, srp)),
        (0, 0, 0),
        "the server's Reply is unlinked"
    );
    let m = System::regs_of(server);
    assert_eq!((m.info.label(), m.mrs[0]), (7, 70));
    assert_eq!(client.state(), ThreadState::BlockedOnReceive);
    assert_eq!(links(reply_at(&s, crp)), (addr(client), 0, 0));
    assert_eq!(ep_queue(ep_at(&s, ep2)), vec![client]);
    assert_eq!(s.k.cur_thread, server);
    // With no receiver the send is dropped and the receive still happens.
    let other = s.spawn(50, e + 14);
    sys6(
        &mut s,
        other,
        Syscall::NBSendRecv,
        ep2,
        e + 50,
        ep,
        info(0, 0, 0),
        &[],
    );
    assert_eq!(
        other.state(),
        ThreadState::Inactive,
        "no Reply cap: cap fault"
    );
    let rp3 = s.make(T::Reply, 0, e + 4);
    ok_empty(s.call(e + 14, L::TCBResume, &[], &[]));
    sys6(
        &mut s,
        other,
        Syscall::NBSendRecv,
        ep2,
        rp3,
        ep,
        info(0, 0, 0),
        &[],
    );
    assert_eq!(other.state(), ThreadState::BlockedOnReceive);
    assert_eq!(ep_at(&s, ep).state(), EpState::Idle);
    assert_eq!(tcb_sc(other), own_sc(&s, e + 14));
}

/// `seL4_NBSendWait` (destination in a6): the send lends the SC, then the sender waits on a
/// notification.
#[test]
fn nb_send_wait_lends_the_sc_then_waits() {
    let (mut s, e) = world();
    let ep = s.make(T::Endpoint, 0, e);
    let n = s.make(T::Notification, 0, e + 1);
    let srp = s.make(T::Reply, 0, e + 2);
    let server = s.spawn(100, e + 10);
    let client = s.spawn(50, e + 12);
    let csc = own_sc(&s, e + 12);
    recv(&mut s, server, ep, srp);
    make_passive(&mut s, e + 10);
    sys6(
        &mut s,
        client,
        Syscall::NBSendWait,
        n,
        ep,
        0,
        info(2, 0, 1),
        &[20],
    );
    assert_eq!((tcb_sc(server), tcb_sc(client).addr()), (csc, 0));
    assert_eq!(System::regs_of(server).mrs[0], 20);
    assert_eq!(client.state(), ThreadState::BlockedOnNotification);
    assert_eq!(ntfn_queue(ntfn_at(&s, n)), vec![client]);
    // A TCB cap is refused in the first phase (no error reply); the wait still happens.
    let other = s.spawn(50, e + 14);
    let prio = other.with(|x| x.priority);
    sys6(
        &mut s,
        other,
        Syscall::NBSendWait,
        n,
        e + 14,
        0,
        info(L::TCBSuspend as u64, 0, 0),
        &[],
    );
    assert_eq!(other.state(), ThreadState::BlockedOnNotification);
    assert_eq!(other.with(|x| x.priority), prio);
    assert_eq!(ntfn_queue(ntfn_at(&s, n)), vec![client, other]);
}

// ---------------------------------------------------------------------------------------------
// Priority-ordered queues
// ---------------------------------------------------------------------------------------------

/// MCS endpoint queues are in priority order (FIFO among equals, `tcbEPAppend`), and a
/// priority change reorders a queued thread (`reorderEP`); the receiver gets the head.
#[test]
fn endpoint_queues_are_priority_ordered_and_reordered() {
    let (mut s, e) = world();
    let ep = s.make(T::Endpoint, 0, e);
    let rp = s.make(T::Reply, 0, e + 1);
    let prios = [50, 150, 100, 100];
    let ts: Vec<TcbRef> = prios
        .iter()
        .enumerate()
        .map(|(i, &p)| s.spawn(p, e + 10 + 2 * i as u64))
        .collect();
    for (i, &t) in ts.iter().enumerate() {
        send(&mut s, t, ep, info(0, 0, 1), &[i as u64]);
        assert_eq!(t.state(), ThreadState::BlockedOnSend);
    }
    let q = ep_at(&s, ep);
    assert_eq!(ep_queue(q), vec![ts[1], ts[2], ts[3], ts[0]]);
    ok_empty(s.call(e + 10, L::TCBSetPriority, &[200], &[ROOT_TCB]));
    assert_eq!(ep_queue(q), vec![ts[0], ts[1], ts[2], ts[3]]);
    ok_empty(s.call(e + 16, L::TCBSetPriority, &[120], &[ROOT_TCB]));
    assert_eq!(ep_queue(q), vec![ts[0], ts[1], ts[3], ts[2]]);
    // The tail pointer follows.
    assert!(q.0.get().tail.is(ts[2]));
    let server = s.spawn(10, e + 30);
    for want in [0, 1, 3, 2] {
        recv(&mut s, server, ep, rp);
        assert_eq!(System::regs_of(server).mrs[0], want);
    }
    assert_eq!(q.state(), EpState::Idle);
    // Receivers too.
    let rs: Vec<TcbRef> = [20, 40, 30]
        .iter()
        .enumerate()
        .map(|(i, &p)| s.spawn(p, e + 40 + 2 * i as u64))
        .collect();
    let rps: Vec<u64> = (0..3).map(|i| s.make(T::Reply, 0, e + 50 + i)).collect();
    for (&t, &r) in rs.iter().zip(&rps) {
        recv(&mut s, t, ep, r);
    }
    assert_eq!(ep_queue(q), vec![rs[1], rs[2], rs[0]]);
    ok_empty(s.call(e + 40, L::TCBSetPriority, &[35], &[ROOT_TCB]));
    assert_eq!(ep_queue(q), vec![rs[1], rs[0], rs[2]]);
    let root = s.root;
    s.run_as(root);
    ok_empty(s.syscall(Syscall::Send, ep, info(0, 0, 0), &[], &[]));
    assert_eq!(rs[1].state(), ThreadState::Running);
    assert_eq!(ep_queue(q), vec![rs[0], rs[2]]);
}

/// MCS notification queues are priority ordered too (`tcbNTFNAppend`, `reorderNTFN`).
#[test]
fn notification_queues_are_priority_ordered_and_reordered() {
    let (mut s, e) = world();
    let n = s.make(T::Notification, 0, e);
    let ws: Vec<TcbRef> = [10, 30, 20]
        .iter()
        .enumerate()
        .map(|(i, &p)| s.spawn(p, e + 10 + 2 * i as u64))
        .collect();
    for &w in &ws {
        sys6(&mut s, w, Syscall::Wait, n, 0, 0, info(0, 0, 0), &[]);
        assert_eq!(w.state(), ThreadState::BlockedOnNotification);
    }
    let nt = ntfn_at(&s, n);
    assert_eq!(ntfn_queue(nt), vec![ws[1], ws[2], ws[0]]);
    let root = s.root;
    s.run_as(root);
    ok_empty(s.syscall(Syscall::Send, n, info(0, 0, 0), &[], &[]));
    assert_eq!(ws[1].state(), ThreadState::Running);
    ok_empty(s.call(e + 10, L::TCBSetPriority, &[40], &[ROOT_TCB]));
    assert_eq!(ntfn_queue(nt), vec![ws[0], ws[2]]);
    s.run_as(root);
    ok_empty(s.syscall(Syscall::Send, n, info(0, 0, 0), &[], &[]));
    assert_eq!(ws[0].state(), ThreadState::Running);
    assert_eq!(ntfn_queue(nt), vec![ws[2]]);
    assert_eq!(nt.state(), NtfnState::Waiting);
}

// ---------------------------------------------------------------------------------------------
// Notifications with a bound SchedContext
// ---------------------------------------------------------------------------------------------

/// A notification's bound SC is lent to a passive thread its signal wakes
/// (`maybeDonateSchedContext`) and taken back when the thread waits again
/// (`maybeReturnSchedContext`): on the notification itself, and as a bound notification of
/// a thread receiving on an endpoint.
#[test]
fn a_notification_lends_its_sc_to_a_passive_waiter_and_takes_it_back() {
    let (mut s, e) = world();
    let n = s.make(T::Notification, 0, e);
    let ep = s.make(T::Endpoint, 0, e + 1);
    let rp = s.make(T::Reply, 0, e + 2);
    s.make(T::SchedContext, 7, e + 3);
    configure(&mut s, e + 3, 2000, 2000, 0, 0);
    ok_empty(s.call(e + 3, L::SchedContextBind, &[], &[n]));
    let (nsc, nt) = (sc_at(&s, e + 3), ntfn_at(&s, n));
    assert_eq!(nt.sched_context(), Some(nsc));
    assert_eq!(nsc.get().notification.addr() as u64, nt.0.addr() as u64);
    let w = s.spawn(100, e + 10);
    sys6(&mut s, w, Syscall::Wait, n, 0, 0, info(0, 0, 0), &[]);
    make_passive(&mut s, e + 10);
    let root = s.root;
    s.run_as(root);
    ok_empty(s.syscall(Syscall::Send, n, info(0, 0, 0), &[], &[]));
    s.schedule();
    assert_eq!(
        (w.state(), tcb_sc(w), sc_owner(nsc)),
        (ThreadState::Running, nsc, addr(w))
    );
    assert_eq!(s.k.cur_thread, w, "the woken thread runs on the lent SC");
    sys6(&mut s, w, Syscall::Wait, n, 0, 0, info(0, 0, 0), &[]);
    assert_eq!(w.state(), ThreadState::BlockedOnNotification);
    assert_eq!((tcb_sc(w).addr(), sc_owner(nsc)), (0, 0));
    // A pending signal taken by Wait also lends it (and the next Wait returns it).
    s.run_as(root);
    ok_empty(s.syscall(Syscall::Send, n, info(0, 0, 0), &[], &[]));
    assert_eq!(tcb_sc(w), nsc);
    ok_empty(s.syscall(Syscall::Send, n, info(0, 0, 0), &[], &[]));
    assert_eq!(nt.state(), NtfnState::Active);
    sys6(&mut s, w, Syscall::NBWait, n, 0, 0, info(0, 0, 0), &[]);
    assert_eq!((w.state(), tcb_sc(w)), (ThreadState::Running, nsc));
    // Bound: a passive server receiving on an endpoint is woken by the signal on the SC, its
    // Reply object unlinked; its next Recv on the endpoint gives the SC back.
    ok_empty(s.call(e + 10, L::TCBBindNotification, &[], &[n]));
    recv(&mut s, w, ep, rp);
    assert_eq!(w.state(), ThreadState::BlockedOnReceive);
    assert_eq!((tcb_sc(w).addr(), sc_owner(nsc)), (0, 0));
    assert_eq!(links(reply_at(&s, rp)), (addr(w), 0, 0));
    s.run_as(root);
    ok_empty(s.syscall(Syscall::Send, n, info(0, 0, 0), &[], &[]));
    assert_eq!((w.state(), tcb_sc(w)), (ThreadState::Running, nsc));
    assert_eq!(links(reply_at(&s, rp)), (0, 0, 0));
    assert_eq!(ep_at(&s, ep).state(), EpState::Idle);
    recv(&mut s, w, ep, rp);
    assert_eq!(
        (w.state(), tcb_sc(w).addr(), sc_owner(nsc)),
        (ThreadState::BlockedOnReceive, 0, 0)
    );
}

// ---------------------------------------------------------------------------------------------
// Fault handlers
// ---------------------------------------------------------------------------------------------

/// A fault goes to the endpoint cap in the TCB's fault-handler slot (set by SetSpace), as a
/// call: the passive handler receives it with its Reply object on the faulter's SC, and its
/// reply resumes the thread per seL4's fault reply rules (unknown syscall: label 0 restores
/// FaultIP, sp, ra, a0..a6; user exception: a non-zero label stops it; cap fault: always
/// restarts). The SC goes back with each reply.
#[test]
fn faults_go_to_the_fault_handler_cap_and_the_reply_resumes() {
    let (mut s, e) = world();
    let fep = s.make(T::Endpoint, 0, e);
    mint(&mut s, e + 1, fep, CapRights::ALL, 0x51);
    let hrp = s.make(T::Reply, 0, e + 2);
    let handler = s.spawn(200, e + 10);
    let f = s.spawn(100, e + 12);
    let fsc = own_sc(&s, e + 12);
    ok_empty(s.call(e + 12, L::TCBSetSpace, &[0, 0], &[e + 1, CNODE, VSPACE]));
    recv(&mut s, handler, fep, hrp);
    make_passive(&mut s, e + 10);
    // An unknown syscall.
    s.run_as(f);
    f.set_reg(reg::A0, 0xa0);
    f.set_reg(reg::A0 + 6, 0xa6);
    f.set_reg(reg::SP, 0x5000);
    f.set_reg(reg::A7, 1234);
    let pc = f.reg(reg::PC);
    crate::entry::handle_trap(&mut s.k, Event::Syscall);
    s.schedule();
    assert_eq!(f.state(), ThreadState::BlockedOnReply);
    assert_eq!((tcb_sc(handler), tcb_sc(f).addr()), (fsc, 0));
    let r = reply_at(&s, hrp);
    assert_eq!(links(r), (addr(f), 0, head(fsc)));
    assert_eq!(s.k.cur_thread, handler);
    let m = System::regs_of(handler);
    assert_eq!(
        (m.info.label(), m.info.length(), handler.reg(reg::A0)),
        (abi::fault::UNKNOWN_SYSCALL, 11, 0x51)
    );
    assert_eq!(m.mrs[..4], [pc, 0x5000, f.reg(reg::RA), 0xa0]);
    let b = s.buffer_of(handler);
    let mr = |i: usize| PPtr::<u64>::sim(b + 8 + 8 * i).get();
    assert_eq!((mr(9), mr(10)), (0xa6, 1234));
    // Label 0: FaultIP, sp, ra, a0 from the reply; the thread resumes there.
    reply_recv(
        &mut s,
        handler,
        fep,
        hrp,
        info(0, 0, 4),
        &[pc + 4, 0x1000, 0x2000, 0x55],
    );
    // Restarted, and chosen at once: the handler has no SC left to run on.
    assert_eq!((s.k.cur_thread, f.state()), (f, ThreadState::Running));
    assert_eq!(
        (tcb_sc(f), sc_owner(fsc), tcb_sc(handler).addr()),
        (fsc, addr(f), 0)
    );
    assert_eq!(links(r), (addr(handler), 0, 0));
    assert_eq!(
        (
            f.reg(reg::PC),
            f.reg(reg::SP),
            f.reg(reg::RA),
            f.reg(reg::A0)
        ),
        (pc + 4, 0x1000, 0x2000, 0x55)
    );
    assert_eq!(
        f.reg(reg::A0 + 6),
        0xa6,
        "past the reply's length: unchanged"
    );
    // A user exception; a reply with label 1 stops the thread, which still gets its SC back.
    crate::entry::handle_trap(&mut s.k, crate::arch::riscv64::cause::decode(4, 0));
    s.schedule();
    let m = System::regs_of(handler);
    assert_eq!(
        (m.info.label(), m.info.length(), m.mrs[2]),
        (abi::fault::USER_EXCEPTION, 4, 4)
    );
    assert_eq!(tcb_sc(handler), fsc);
    send(&mut s, handler, hrp, info(1, 0, 0), &[]);
    assert_eq!(f.state(), ThreadState::Inactive);
    assert_eq!((tcb_sc(f), sc_owner(fsc)), (fsc, addr(f)));
    // A cap fault (Call of an invalid cptr): any reply restarts.
    recv(&mut s, handler, fep, hrp);
    ok_empty(s.call(e + 12, L::TCBResume, &[], &[]));
    s.run_as(f);
    let pc = f.reg(reg::PC);
    call(&mut s, f, 1 << 40, info(0, 0, 0), &[]);
    let m = System::regs_of(handler);
    assert_eq!(
        (m.info.label(), m.mrs[0], m.mrs[1], m.mrs[2]),
        (abi::fault::CAP_FAULT, pc, 1 << 40, 0)
    );
    send(&mut s, handler, hrp, info(7, 0, 0), &[]);
    assert_eq!((s.k.cur_thread, f.state()), (f, ThreadState::Running));
    assert_eq!(f.reg(reg::PC), pc, "restarted at the ecall");
}

/// A thread without a fault handler (an empty slot) stops on a fault; with no handler the
/// fault is not even sent to a CPtr (MCS keeps the cap in the TCB).
#[test]
fn a_fault_without_a_handler_cap_stops_the_thread() {
    let (mut s, e) = world();
    let t = s.spawn(100, e + 10);
    s.run_as(t);
    crate::entry::handle_trap(&mut s.k, crate::arch::riscv64::cause::decode(4, 0));
    assert_eq!(t.state(), ThreadState::Inactive);
    assert_ne!(s.schedule(), Some(t));
    assert_eq!(tcb_sc(t), own_sc(&s, e + 10));
}

// ---------------------------------------------------------------------------------------------
// Budgets, timeouts
// ---------------------------------------------------------------------------------------------

/// A thread with budget < period and a timeout endpoint that runs past its budget gets a
/// timeout fault (label 5: the SC's badge and the µs consumed) on its timeout endpoint; the
/// SC is not donated. The handler's label-0 reply restores the registers it carries; the
/// thread waits in the release queue for its next refill (no second timeout fault) and then
/// runs from the new pc.
#[test]
fn running_past_the_budget_raises_a_timeout_fault() {
    let (mut s, e) = world();
    let tep = s.make(T::Endpoint, 0, e);
    mint(&mut s, e + 1, tep, CapRights::ALL, 0x7e);
    let hrp = s.make(T::Reply, 0, e + 2);
    let handler = s.spawn(200, e + 10);
    let t = s.spawn(100, e + 12);
    let tsc = own_sc(&s, e + 12);
    configure(&mut s, System::sc_slot_of(e + 12), 1000, 10_000, 0x77, 0);
    ok_empty(s.call(e + 12, L::TCBSetTimeoutEndpoint, &[], &[e + 1]));
    recv(&mut s, handler, tep, hrp);
    s.run_as(t);
    assert_eq!(s.k.cur_sc, tsc);
    let budget = refill_head(tsc).get().amount;
    assert_eq!(budget, crate::arch::us_to_ticks(1000));
    // Not yet out of budget: nothing happens.
    timer_after(&mut s, budget / 2);
    assert_eq!((s.k.cur_thread, t.state()), (t, ThreadState::Running));
    timer_after(&mut s, budget / 2 + 500);
    assert_eq!(t.state(), ThreadState::BlockedOnReply);
    assert_eq!(
        (handler.state(), s.k.cur_thread),
        (ThreadState::Running, handler)
    );
    let r = reply_at(&s, hrp);
    assert_eq!(
        links(r),
        (addr(t), 0, 0),
        "no donation with a timeout fault"
    );
    assert_eq!(
        (tcb_sc(t), sc_owner(tsc), tsc.get().reply.addr() as u64),
        (tsc, addr(t), 0)
    );
    let m = System::regs_of(handler);
    assert_eq!(
        (m.info.label(), m.info.length(), handler.reg(reg::A0)),
        (abi::fault::TIMEOUT, 2, 0x7e)
    );
    assert_eq!(m.mrs[..2], [0x77, crate::arch::ticks_to_us(budget + 500)]);
    // The reply (before the refill is due) restarts the thread at the pc it names, after
    // its next refill.
    let newpc = 0x4_0000;
    send(
        &mut s,
        handler,
        hrp,
        info(0, 0, 3),
        &[newpc, 0x1111, 0x2222],
    );
    assert_eq!(t.state(), ThreadState::Restart);
    assert_eq!(t.with(|x| x.in_release_queue), 1);
    assert!(!is_schedulable(t));
    assert_eq!(handler.state(), ThreadState::Running);
    let ready = refill_head(tsc).get().time;
    assert!(ready > crate::arch::host::time());
    let now = crate::arch::host::time();
    // The timer is due before then.
    assert!(crate::arch::host::deadline() <= ready);
    // The handler waits for the next fault.
    recv(&mut s, handler, tep, hrp);
    assert_eq!(handler.state(), ThreadState::BlockedOnReceive);
    timer_after(&mut s, ready - now);
    assert_eq!(t.with(|x| x.in_release_queue), 0);
    assert_eq!(s.k.cur_thread, t);
    assert_eq!(
        (t.state(), t.reg(reg::PC), t.reg(reg::RA), t.reg(reg::SP)),
        (ThreadState::Running, newpc, 0x1111, 0x2222)
    );
}

/// Budget enforcement: a round-robin SC (budget = period) that runs out is refilled at once
/// and its thread goes to the back of its ready queue; a sporadic one (budget < period, no
/// timeout endpoint) waits in the release queue until its refill and then runs again.
#[test]
fn budget_enforcement_round_robin_and_sporadic() {
    let (mut s, e) = world();
    let a = s.spawn(100, e + 10);
    let b = s.spawn(100, e + 12);
    let asc = own_sc(&s, e + 10);
    s.run_as(a);
    let full = refill_head(asc).get().amount;
    timer_after(&mut s, full - 1000);
    assert_eq!(s.k.cur_thread, a);
    timer_after(&mut s, 2000);
    assert_eq!(
        s.k.cur_thread, b,
        "a's time slice ended: b of the same priority runs"
    );
    assert_eq!(
        (a.with(|x| x.queued), a.with(|x| x.in_release_queue)),
        (1, 0)
    );
    assert_eq!(
        refill_head(asc).get().amount,
        full,
        "round robin: refilled at once"
    );
    // Sporadic.
    let c = s.spawn(150, e + 14);
    let csc = own_sc(&s, e + 14);
    configure(&mut s, System::sc_slot_of(e + 14), 1000, 5000, 0, 0);
    s.run_as(c);
    let budget = refill_head(csc).get().amount;
    timer_after(&mut s, budget + 10);
    assert_ne!(s.k.cur_thread, c);
    assert_eq!(c.state(), ThreadState::Running);
    assert_eq!(
        (c.with(|x| x.queued), c.with(|x| x.in_release_queue)),
        (0, 1)
    );
    assert!(s.k.sched.release_queue.head.is(c));
    let ready = refill_head(csc).get().time;
    assert!(ready > crate::arch::host::time());
    assert!(crate::arch::host::deadline() < ready);
    // The interrupt at the programmed deadline releases it.
    let wait = crate::arch::host::deadline() - crate::arch::host::time();
    timer_after(&mut s, wait);
    let wait = ready.saturating_sub(crate::arch::host::time());
    if c.with(|x| x.in_release_queue) != 0 {
        timer_after(&mut s, wait);
    }
    assert_eq!(c.with(|x| x.in_release_queue), 0);
    assert_eq!(
        s.k.cur_thread, c,
        "released: the higher-priority thread runs again"
    );
    assert!(s.k.sched.release_queue.head.is_none());
}

/// A syscall made after the budget ran out (before the timer's interrupt was taken) is not
/// performed: `checkBudgetRestart` charges the time, ends the time slice (a sporadic SC
/// without a timeout handler: to the release queue) and leaves the thread in `Restart`, so
/// that it makes the syscall again once its refill is due; then the syscall is performed.
#[test]
fn a_syscall_past_the_budget_waits_for_the_next_refill() {
    let (mut s, e) = world();
    let n = s.make(T::Notification, 0, e);
    let t = s.spawn(100, e + 10);
    let tsc = own_sc(&s, e + 10);
    configure(&mut s, System::sc_slot_of(e + 10), 1000, 10_000, 0, 0);
    s.run_as(t);
    assert_eq!(s.k.cur_sc, tsc);
    let budget = refill_head(tsc).get().amount;
    advance_time(budget + 100);
    send(&mut s, t, n, info(0, 0, 0), &[]);
    assert_eq!(ntfn_at(&s, n).state(), NtfnState::Idle, "not signalled");
    assert_eq!(t.state(), ThreadState::Restart);
    assert_eq!(
        (t.with(|x| x.in_release_queue), t.with(|x| x.queued)),
        (1, 0)
    );
    assert_ne!(s.k.cur_thread, t);
    assert_eq!(tsc.get().consumed, budget + 100);
    // Its refill is due: it runs again and makes the syscall.
    let ready = refill_head(tsc).get().time;
    timer_after(&mut s, ready - crate::arch::host::time());
    assert_eq!(s.k.cur_thread, t);
    syscall_trap(&mut s.k);
    s.schedule();
    assert_eq!(ntfn_at(&s, n).state(), NtfnState::Active, "signalled");
    assert_eq!(t.state(), ThreadState::Running);
}

/// The same for a fault (`MCS_DO_IF_BUDGET` in `handleUserLevelFault`): taken after the budget
/// ran out, it is not sent to the fault handler; the thread waits for its refill in `Restart`
/// and takes the fault again when it runs.
#[test]
fn a_fault_past_the_budget_waits_for_the_next_refill() {
    let (mut s, e) = world();
    let fep = s.make(T::Endpoint, 0, e);
    mint(&mut s, e + 1, fep, CapRights::ALL, 0x51);
    let hrp = s.make(T::Reply, 0, e + 2);
    let handler = s.spawn(200, e + 10);
    let f = s.spawn(100, e + 12);
    let fsc = own_sc(&s, e + 12);
    configure(&mut s, System::sc_slot_of(e + 12), 1000, 10_000, 0, 0);
    ok_empty(s.call(e + 12, L::TCBSetSpace, &[0, 0], &[e + 1, CNODE, VSPACE]));
    recv(&mut s, handler, fep, hrp);
    s.run_as(f);
    assert_eq!(s.k.cur_sc, fsc);
    let budget = refill_head(fsc).get().amount;
    advance_time(budget + 100);
    crate::entry::handle_trap(&mut s.k, crate::arch::riscv64::cause::decode(4, 0));
    s.schedule();
    assert_eq!(
        handler.state(),
        ThreadState::BlockedOnReceive,
        "no fault sent"
    );
    assert_eq!(f.state(), ThreadState::Restart);
    assert_eq!(f.with(|x| x.in_release_queue), 1);
    assert_eq!(fsc.get().consumed, budget + 100);
    let ready = refill_head(fsc).get().time;
    timer_after(&mut s, ready - crate::arch::host::time());
    assert_eq!((s.k.cur_thread, f.state()), (f, ThreadState::Running));
    crate::entry::handle_trap(&mut s.k, crate::arch::riscv64::cause::decode(4, 0));
    s.schedule();
    assert_eq!(f.state(), ThreadState::BlockedOnReply);
    let m = System::regs_of(handler);
    assert_eq!(m.info.label(), abi::fault::USER_EXCEPTION);
}

/// Every interrupt of the kernel's timer makes the kernel program the timer again on the way
/// out (`ksReprogram`), also when no budget ran out: the time so far is charged and the new
/// deadline is the end of the current head refill, less the timer's precision.
#[test]
fn a_timer_interrupt_reprograms_the_timer() {
    let (mut s, e) = world();
    let t = s.spawn(100, e + 10);
    let tsc = own_sc(&s, e + 10);
    s.run_as(t);
    let full = refill_head(tsc).get().amount;
    crate::arch::set_deadline(u64::MAX);
    timer_after(&mut s, 1000);
    assert_eq!(s.k.cur_thread, t);
    assert_eq!(refill_head(tsc).get().amount, full - 1000, "charged");
    assert_eq!(
        crate::arch::host::deadline(),
        crate::arch::host::time() + full - 1000 - crate::arch::TIMER_PRECISION_TICKS
    );
}

/// MCS `restart` (a TCB_Resume): the SchedContext of a thread that wakes up gets
/// `refill_unblock_check` only if it is sporadic (and not the current one): its ready head
/// refill starts at the time of the Resume. A constant-bandwidth SC's refill is left as it was
/// (it is brought up to date when its thread becomes current). Both threads wait in their
/// ready queues below the running root thread.
#[test]
fn resume_brings_only_a_sporadic_scs_refills_up_to_date() {
    use crate::object::sched_context::{refill_size, Refill, SCHED_CONTEXT_SPORADIC};
    let (mut s, e) = world();
    let root = s.root;
    let sp = s.spawn(0, e + 10);
    let cb = s.spawn(0, e + 12);
    for t in [e + 10, e + 12] {
        ok_empty(s.call(t, L::TCBSuspend, &[], &[]));
    }
    configure(
        &mut s,
        System::sc_slot_of(e + 10),
        1000,
        4000,
        0,
        SCHED_CONTEXT_SPORADIC,
    );
    configure(&mut s, System::sc_slot_of(e + 12), 1000, 4000, 0, 0);
    let (ssc, csc) = (own_sc(&s, e + 10), own_sc(&s, e + 12));
    let budget = crate::arch::us_to_ticks(1000);
    let configured = refill_head(ssc).get().time;
    assert_eq!(
        refill_head(csc).get(),
        Refill {
            time: configured,
            amount: budget
        }
    );
    assert_eq!(refill_head(ssc).get().amount, budget);
    advance_time(crate::arch::us_to_ticks(300));
    ok_empty(s.call(e + 10, L::TCBResume, &[], &[]));
    let now = s.k.cur_time;
    assert!(now > configured);
    assert_eq!(
        (refill_head(ssc).get(), refill_size(ssc)),
        (
            Refill {
                time: now,
                amount: budget
            },
            1
        ),
        "sporadic: the ready refill starts when the thread wakes"
    );
    advance_time(crate::arch::us_to_ticks(300));
    ok_empty(s.call(e + 12, L::TCBResume, &[], &[]));
    assert!(s.k.cur_time > now);
    assert_eq!(
        (refill_head(csc).get(), refill_size(csc)),
        (
            Refill {
                time: configured,
                amount: budget
            },
            1
        ),
        "constant bandwidth: unchanged until it runs"
    );
    assert_eq!(refill_head(ssc).get().time, now);
    for t in [sp, cb] {
        assert_eq!(t.state(), ThreadState::Restart);
        assert_eq!(
            (t.with(|x| x.queued), t.with(|x| x.in_release_queue)),
            (1, 0)
        );
    }
    assert_eq!(s.k.cur_thread, root);
    // When its thread becomes current (`switchSchedContext`), the constant-bandwidth SC's
    // ready refill starts then; the sporadic one's is not moved again.
    let resumed = s.k.cur_time;
    s.run_as(cb);
    assert_eq!((s.k.cur_thread, s.k.cur_sc), (cb, csc));
    assert_eq!(
        refill_head(csc).get(),
        Refill {
            time: resumed,
            amount: budget
        }
    );
    s.run_as(sp);
    assert_eq!((s.k.cur_thread, s.k.cur_sc), (sp, ssc));
    assert_eq!(refill_head(ssc).get().time, now);
}

/// `SchedContext_Bind` and `TCB_SetSchedParams` give a blocked thread only a released
/// SchedContext (`sc_released`: configured, its head refill ready): an unconfigured one is
/// refused with `IllegalOperation` and nothing changes; once configured, each binds it.
#[test]
fn a_blocked_thread_is_bound_only_to_a_released_sc() {
    let (mut s, e) = world();
    let ep = s.make(T::Endpoint, 0, e);
    let rp = s.make(T::Reply, 0, e + 1);
    let t = s.spawn(100, e + 10);
    make_passive(&mut s, e + 10);
    recv(&mut s, t, ep, rp);
    assert_eq!(t.state(), ThreadState::BlockedOnReceive);
    s.make(T::SchedContext, abi::object::MIN_SCHED_CONTEXT_BITS, e + 2);
    let sc = sc_at(&s, e + 2);
    let unchanged = |s: &System| {
        assert_eq!((tcb_sc(t).addr(), sc_owner(sc)), (0, 0));
        assert_eq!(t.with(|x| x.priority), 100);
        assert_eq!(t.state(), ThreadState::BlockedOnReceive);
        assert_eq!(ep_queue(ep_at(s, ep)), vec![t]);
    };
    fails(
        s.call(e + 2, L::SchedContextBind, &[], &[e + 10]),
        abi::Error::IllegalOperation,
        &[],
    );
    unchanged(&s);
    fails(
        s.call(
            e + 10,
            L::TCBSetSchedParams,
            &[50, 50],
            &[ROOT_TCB, e + 2, e + 60],
        ),
        abi::Error::IllegalOperation,
        &[],
    );
    unchanged(&s);
    configure(&mut s, e + 2, 1000, 1000, 0, 0);
    ok_empty(s.call(e + 2, L::SchedContextBind, &[], &[e + 10]));
    assert_eq!((tcb_sc(t), sc_owner(sc)), (sc, addr(t)));
    ok_empty(s.call(e + 2, L::SchedContextUnbind, &[], &[]));
    assert_eq!((tcb_sc(t).addr(), sc_owner(sc)), (0, 0));
    ok_empty(s.call(
        e + 10,
        L::TCBSetSchedParams,
        &[50, 50],
        &[ROOT_TCB, e + 2, e + 60],
    ));
    assert_eq!((tcb_sc(t), sc_owner(sc)), (sc, addr(t)));
    assert_eq!(
        (t.with(|x| x.priority), t.state()),
        (50, ThreadState::BlockedOnReceive)
    );
}

/// SchedContext invocations on a thread that is not blocked and a notification:
/// `SchedContext_Consumed` replies the consumed time in µs (one word) and resets it; Bind of a
/// stopped thread takes even an unconfigured SC (only a blocked thread needs a released one);
/// Bind of a thread does not move a constant-bandwidth SC's refills (only a sporadic SC's
/// are brought up to date); `UnbindObject` of a notification needs the SC's own.
#[test]
fn sched_context_consumed_bind_and_unbind_object() {
    use crate::object::sched_context::Refill;
    let (mut s, e) = world();
    let t = s.spawn(0, e + 10);
    let tsc = own_sc(&s, e + 10);
    tsc.with(|x| x.consumed = crate::arch::us_to_ticks(1234) + 3);
    let r = s.call(
        System::sc_slot_of(e + 10),
        L::SchedContextConsumed,
        &[],
        &[],
    );
    assert_eq!((r.info.label(), r.info.length(), r.mrs[0]), (0, 1, 1234));
    assert_eq!(tsc.get().consumed, 0);
    // A stopped thread and an unconfigured SC.
    ok_empty(s.call(e + 10, L::TCBSuspend, &[], &[]));
    make_passive(&mut s, e + 10);
    s.make(T::SchedContext, abi::object::MIN_SCHED_CONTEXT_BITS, e + 2);
    let sc = sc_at(&s, e + 2);
    ok_empty(s.call(e + 2, L::SchedContextBind, &[], &[e + 10]));
    assert_eq!((tcb_sc(t), sc_owner(sc)), (sc, addr(t)));
    ok_empty(s.call(e + 2, L::SchedContextUnbind, &[], &[]));
    // A configured constant-bandwidth SC whose refill is ready: bound as it is.
    configure(&mut s, e + 2, 1000, 4000, 0, 0);
    let before = refill_head(sc).get();
    advance_time(crate::arch::us_to_ticks(300));
    ok_empty(s.call(e + 2, L::SchedContextBind, &[], &[e + 10]));
    assert!(s.k.cur_time > before.time);
    assert_eq!(refill_head(sc).get(), before);
    assert_eq!((tcb_sc(t), t.state()), (sc, ThreadState::Inactive));
    // Notifications.
    let n = s.make(T::Notification, 0, e + 3);
    let n2 = s.make(T::Notification, 0, e + 4);
    ok_empty(s.call(e + 2, L::SchedContextBind, &[], &[n]));
    fails(
        s.call(e + 2, L::SchedContextUnbindObject, &[], &[n2]),
        abi::Error::IllegalOperation,
        &[],
    );
    assert!(sc.get().notification.is(ntfn_at(&s, n).0));
    ok_empty(s.call(e + 2, L::SchedContextUnbindObject, &[], &[n]));
    assert!(sc.get().notification.is_none());
    let _ = Refill::default();
}

/// A thread on a sporadic SchedContext woken by IPC (`unblock_check_unless_current` in the
/// endpoint path): its ready head refill starts when the message arrives.
#[test]
fn ipc_wakes_a_sporadic_receiver_with_its_refill_up_to_date() {
    use crate::object::sched_context::{Refill, SCHED_CONTEXT_SPORADIC};
    let (mut s, e) = world();
    let ep = s.make(T::Endpoint, 0, e);
    let t = s.spawn(0, e + 10);
    let tsc = own_sc(&s, e + 10);
    configure(
        &mut s,
        System::sc_slot_of(e + 10),
        1000,
        4000,
        0,
        SCHED_CONTEXT_SPORADIC,
    );
    sys6(&mut s, t, Syscall::Wait, ep, 0, 0, info(0, 0, 0), &[]);
    assert_eq!(t.state(), ThreadState::BlockedOnReceive);
    let before = refill_head(tsc).get();
    advance_time(crate::arch::us_to_ticks(300));
    let root = s.root;
    send(&mut s, root, ep, info(0, 0, 1), &[7]);
    let now = s.k.cur_time;
    assert!(now > before.time);
    assert_eq!(t.state(), ThreadState::Running);
    assert_eq!(
        refill_head(tsc).get(),
        Refill {
            time: now,
            amount: before.amount
        }
    );
}

/// A thread that deletes the last cap of its own SchedContext loses it and the CPU: another
/// thread runs (`schedContext_unbindTCB` of the current thread asks for a reschedule).
#[test]
fn deleting_the_current_threads_sc_reschedules() {
    let (mut s, e) = world();
    let root = s.root;
    let a = s.spawn(100, e + 10);
    s.run_as(a);
    sys6(
        &mut s,
        a,
        Syscall::Call,
        CNODE,
        0,
        0,
        info(L::CNodeDelete as u64, 0, 2),
        &[System::sc_slot_of(e + 10), 64],
    );
    assert_eq!(tcb_sc(a).addr(), 0);
    assert_eq!(a.state(), ThreadState::Running);
    assert_eq!(s.k.cur_thread, root);
}

/// `SchedContext_YieldTo` an SC whose thread has a lower priority than the caller's: nothing
/// to yield to (the thread is put at the end of its queue), the caller goes on with the
/// consumed-time reply; of the same priority, the caller yields and that thread runs.
#[test]
fn yield_to_a_lower_priority_thread_returns_at_once() {
    let (mut s, e) = world();
    let root = s.root;
    let lo = s.spawn(0, e + 10);
    let r = s.call(System::sc_slot_of(e + 10), L::SchedContextYieldTo, &[], &[]);
    assert_eq!((r.info.label(), r.info.length()), (0, 1));
    assert_eq!(s.k.cur_thread, root);
    assert!(root.with(|x| x.yield_to).is_none());
    assert_eq!(
        (lo.state(), lo.with(|x| x.queued)),
        (ThreadState::Restart, 1)
    );
    let same = s.spawn(1, e + 12);
    s.run_as(root);
    s.syscall(
        Syscall::Call,
        System::sc_slot_of(e + 12),
        info(L::SchedContextYieldTo as u64, 0, 0),
        &[],
        &[],
    );
    assert_eq!(s.k.cur_thread, same);
    assert!(root.with(|x| x.yield_to).is(own_sc(&s, e + 12)));
}

/// A passive server that answers with `seL4_Send` on the Reply cap (and so does not block)
/// gives the SC back and with it the CPU: the caller, of a lower priority, runs
/// (`schedContext_donate` from the current thread asks for a reschedule).
#[test]
fn a_passive_server_replying_by_send_loses_the_cpu_with_the_sc() {
    let (mut s, e) = world();
    let ep = s.make(T::Endpoint, 0, e);
    let rp = s.make(T::Reply, 0, e + 1);
    let server = s.spawn(100, e + 10);
    let client = s.spawn(50, e + 12);
    let csc = own_sc(&s, e + 12);
    recv(&mut s, server, ep, rp);
    make_passive(&mut s, e + 10);
    call(&mut s, client, ep, info(1, 0, 1), &[11]);
    assert_eq!((s.k.cur_thread, tcb_sc(server)), (server, csc));
    send(&mut s, server, rp, info(0, 0, 1), &[22]);
    assert_eq!((tcb_sc(server).addr(), tcb_sc(client)), (0, csc));
    assert_eq!(
        (client.state(), server.state()),
        (ThreadState::Running, ThreadState::Running)
    );
    assert_eq!(System::regs_of(client).mrs[0], 22);
    assert_eq!(s.k.cur_thread, client, "the server has no SC to run on");
}

/// `Kernel::preemption_point` under MCS (seL4 `preemptionPoint`): every
/// `MAX_NUM_WORK_UNITS_PER_PREEMPTION` units it also stops when the current SC's budget is
/// used up.
#[test]
fn preemption_point_checks_the_budget() {
    let (mut s, _) = world();
    let units = abi::config::MAX_NUM_WORK_UNITS_PER_PREEMPTION;
    s.schedule();
    let sc = s.k.cur_sc;
    assert_eq!(sc, tcb_sc(s.root));
    for _ in 0..3 * units {
        assert!(s.k.preemption_point().is_ok());
    }
    advance_time(refill_head(sc).get().amount);
    s.k.work_units = 0;
    for _ in 0..units - 1 {
        assert!(s.k.preemption_point().is_ok());
    }
    assert!(s.k.preemption_point().is_err());
}

/// `preemptionPoint` (MCS) also stops when the current SchedContext is no longer configured
/// (`sc_active(ksCurSC)` false, as after its finalisation), however much its head refill
/// still holds.
#[test]
fn preemption_point_stops_when_the_current_sc_is_unconfigured() {
    let (mut s, _) = world();
    let units = abi::config::MAX_NUM_WORK_UNITS_PER_PREEMPTION;
    s.schedule();
    let sc = s.k.cur_sc;
    assert!(refill_head(sc).get().amount > crate::object::sched_context::MIN_BUDGET);
    s.k.work_units = 0;
    for _ in 0..units {
        assert!(s.k.preemption_point().is_ok());
    }
    let max = sc.get().refill_max;
    sc.with(|x| x.refill_max = 0);
    for _ in 0..units - 1 {
        assert!(s.k.preemption_point().is_ok());
    }
    assert!(s.k.preemption_point().is_err());
    sc.with(|x| x.refill_max = max);
    for _ in 0..units {
        assert!(s.k.preemption_point().is_ok());
    }
}

// ---------------------------------------------------------------------------------------------
// MCS counterparts of the non-MCS ipc_tests
// ---------------------------------------------------------------------------------------------

#[test]
fn rendezvous_receiver_first_then_sender_with_badge_and_long_message() {
    let (mut s, e) = world();
    let ep = s.make(T::Endpoint, 0, e);
    mint(&mut s, e + 1, ep, CapRights::ALL, 0x77);
    let rp = s.make(T::Reply, 0, e + 2);
    let server = s.spawn(100, e + 10);
    let client = s.spawn(100, e + 12);
    recv(&mut s, server, ep, rp);
    assert_eq!(server.state(), ThreadState::BlockedOnReceive);
    let mrs: Vec<u64> = (0..10).map(|i| 1000 + i).collect();
    send(&mut s, client, e + 1, info(42, 0, 10), &mrs);
    assert_eq!(client.state(), ThreadState::Running);
    assert_eq!(server.state(), ThreadState::Running);
    let r = System::regs_of(server);
    assert_eq!(server.reg(reg::A0), 0x77, "badge in a0");
    assert_eq!((r.info.label(), r.info.length()), (42, 10));
    assert_eq!(r.mrs, [1000, 1001, 1002, 1003, 1004, 1005]);
    let b = s.buffer_of(server);
    assert_eq!(PPtr::<u64>::sim(b + 8 + 9 * 8).get(), 1009);
    // A plain Send links nothing and donates nothing (the send cannot donate).
    assert_eq!(links(reply_at(&s, rp)), (0, 0, 0));
    assert_eq!(tcb_sc(client), own_sc(&s, e + 12));
}

#[test]
fn message_is_truncated_to_registers_without_a_receive_buffer() {
    let (mut s, e) = world();
    let ep = s.make(T::Endpoint, 0, e);
    let rp = s.make(T::Reply, 0, e + 1);
    let server = s.spawn(100, e + 10);
    let client = s.spawn(100, e + 12);
    crate::object::cnode::cte_delete_one(
        &mut s.k,
        server.slot(crate::object::tcb::tcb_slot::BUFFER),
    );
    recv(&mut s, server, ep, rp);
    send(&mut s, client, ep, info(1, 0, 8), &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(MessageInfo(server.reg(reg::A1)).length(), 4);
}

#[test]
fn capability_transfer_grant_unwrap_and_failures() {
    let (mut s, e) = world();
    let ep = s.make(T::Endpoint, 0, e);
    let ntfn = s.make(T::Notification, 0, e + 1);
    mint(&mut s, e + 2, ep, CapRights::ALL, 5);
    mint(
        &mut s,
        e + 3,
        ep,
        CapRights::new(false, false, true, true),
        6,
    );
    let rp = s.make(T::Reply, 0, e + 4);
    let server = s.spawn(100, e + 10);
    let client = s.spawn(100, e + 12);
    let sb = s.buffer_of(server);
    for (off, v) in [(1000, CNODE), (1008, e + 20), (1016, 64)] {
        PPtr::<u64>::sim(sb + off).set(v);
    }
    let sendc = |s: &mut System, ep: u64, i: MessageInfo, caps: &[u64]| {
        s.run_as(client);
        s.sys(Syscall::Send, ep, i, &[], caps);
    };
    recv(&mut s, server, ep, rp);
    sendc(&mut s, e + 2, info(0, 2, 0), &[ntfn, e + 2]);
    let ri = MessageInfo(server.reg(reg::A1));
    assert_eq!((ri.extra_caps(), ri.caps_unwrapped()), (2, 0b10));
    assert!(matches!(
        s.root_slot(e + 20).cap(),
        Cap::Notification { .. }
    ));
    assert_eq!(PPtr::<u64>::sim(sb + 976 + 8).get(), 5, "unwrapped badge");
    // Without Grant no caps travel.
    recv(&mut s, server, ep, rp);
    PPtr::<u64>::sim(sb + 1008).set(e + 21);
    sendc(&mut s, e + 3, info(0, 1, 0), &[ntfn]);
    assert_eq!(MessageInfo(server.reg(reg::A1)).extra_caps(), 0);
    assert!(s.root_slot(e + 21).is_empty());
    // An occupied receive slot: nothing transferred.
    recv(&mut s, server, ep, rp);
    PPtr::<u64>::sim(sb + 1008).set(e + 20);
    sendc(&mut s, e + 2, info(0, 1, 0), &[ntfn]);
    assert_eq!(MessageInfo(server.reg(reg::A1)).extra_caps(), 0);
    // An invalid extra cap: the sender takes a cap fault (no handler: it stops).
    recv(&mut s, server, ep, rp);
    sendc(&mut s, e + 2, info(3, 1, 0), &[1 << 40]);
    assert_eq!(server.state(), ThreadState::BlockedOnReceive);
    assert_eq!(client.state(), ThreadState::Inactive);
}

#[test]
fn waking_a_higher_priority_thread_preempts_the_sender() {
    let (mut s, e) = world();
    let ep = s.make(T::Endpoint, 0, e);
    let rp = s.make(T::Reply, 0, e + 1);
    let high = s.spawn(200, e + 10);
    let low = s.spawn(50, e + 12);
    recv(&mut s, high, ep, rp);
    send(&mut s, low, ep, info(0, 0, 0), &[]);
    assert_eq!(
        s.k.cur_thread, high,
        "the woken higher-priority thread runs"
    );
    // Same priority: the sender keeps running.
    crate::object::tcb_ops::suspend(&mut s.k, high);
    let peer = s.spawn(50, e + 14);
    let rp2 = s.make(T::Reply, 0, e + 2);
    recv(&mut s, peer, ep, rp2);
    send(&mut s, low, ep, info(0, 0, 0), &[]);
    assert_eq!(s.k.cur_thread, low);
}

#[test]
fn round_robin_after_a_time_slice_and_yield() {
    let (mut s, e) = world();
    let a = s.spawn(10, e + 10);
    let b = s.spawn(10, e + 12);
    s.run_as(a);
    let slice = refill_head(own_sc(&s, e + 10)).get().amount;
    for _ in 0..4 {
        timer_after(&mut s, slice / 5);
        assert_eq!(s.k.cur_thread, a);
    }
    timer_after(&mut s, slice / 5);
    assert_eq!(s.k.cur_thread, b, "time slice over: the other thread runs");
    // Yield: to the back of the queue, with a full budget.
    let (_, _) = s.sys(Syscall::Yield, 0, info(0, 0, 0), &[], &[]);
    assert_eq!(s.k.cur_thread, a);
    assert_eq!(b.with(|x| x.queued), 1);
}

#[test]
fn notifications_signal_wait_poll_and_bound_recv() {
    let (mut s, e) = world();
    let n = s.make(T::Notification, 0, e);
    mint(&mut s, e + 1, n, CapRights::ALL, 0b01);
    mint(&mut s, e + 2, n, CapRights::ALL, 0b10);
    let w = s.spawn(100, e + 10);
    let root = s.root;
    // Poll (NBWait) with nothing pending: badge 0.
    sys6(&mut s, w, Syscall::NBWait, n, 0, 0, info(0, 0, 0), &[]);
    assert_eq!(w.reg(reg::A0), 0);
    send(&mut s, w, e + 1, info(0, 0, 0), &[]);
    send(&mut s, w, e + 2, info(0, 0, 0), &[]);
    sys6(&mut s, w, Syscall::Wait, n, 0, 0, info(0, 0, 0), &[]);
    assert_eq!((w.reg(reg::A0), w.state()), (0b11, ThreadState::Running));
    // Recv works on a notification too, without a Reply cap.
    sys6(&mut s, w, Syscall::Recv, n, 0, 0, info(0, 0, 0), &[]);
    assert_eq!(w.state(), ThreadState::BlockedOnNotification);
    s.run_as(root);
    ok_empty(s.syscall(Syscall::Send, e + 2, info(0, 0, 0), &[], &[]));
    assert_eq!((w.state(), w.reg(reg::A0)), (ThreadState::Running, 0b10));
    // Bound notification: a Recv on an endpoint is woken by a signal.
    let ep = s.make(T::Endpoint, 0, e + 3);
    let rp = s.make(T::Reply, 0, e + 4);
    ok_empty(s.call(e + 10, L::TCBBindNotification, &[], &[n]));
    recv(&mut s, w, ep, rp);
    assert_eq!(w.state(), ThreadState::BlockedOnReceive);
    s.run_as(root);
    ok_empty(s.syscall(Syscall::Send, e + 1, info(0, 0, 0), &[], &[]));
    assert_eq!((w.state(), w.reg(reg::A0)), (ThreadState::Running, 0b01));
    // A pending signal is taken at Recv on the endpoint without blocking.
    s.run_as(root);
    ok_empty(s.syscall(Syscall::Send, e + 2, info(0, 0, 0), &[], &[]));
    recv(&mut s, w, ep, rp);
    assert_eq!((w.state(), w.reg(reg::A0)), (ThreadState::Running, 0b10));
    assert_eq!(links(reply_at(&s, rp)), (0, 0, 0));
}

// ---------------------------------------------------------------------------------------------
// Cancellation and unbinding on call stacks
// ---------------------------------------------------------------------------------------------

/// A Recv with a Reply object whose caller still waits cancels that caller
/// (`receiveIPC`: "Reply object already has unexecuted reply!", `cancelIPC` ->
/// `reply_remove_tcb`): it becomes Inactive, and the donated SC stays with the server.
#[test]
fn recv_with_a_reply_object_still_in_use_cancels_the_old_caller() {
    let (mut s, e) = world();
    let ep = s.make(T::Endpoint, 0, e);
    let rp = s.make(T::Reply, 0, e + 1);
    let server = s.spawn(100, e + 10);
    let client = s.spawn(50, e + 12);
    let (r, csc) = (reply_at(&s, rp), own_sc(&s, e + 12));
    recv(&mut s, server, ep, rp);
    make_passive(&mut s, e + 10);
    call(&mut s, client, ep, info(0, 0, 0), &[]);
    recv(&mut s, server, ep, rp);
    assert_eq!(client.state(), ThreadState::Inactive);
    assert_eq!(client.with(|x| x.reply_object.addr() as u64), 0);
    assert_eq!(csc.get().reply.addr() as u64, 0);
    assert_eq!((tcb_sc(server), sc_owner(csc)), (csc, addr(server)));
    assert_eq!(server.state(), ThreadState::BlockedOnReceive);
    assert_eq!(links(r), (addr(server), 0, 0));
}

/// `seL4_SchedContext_Unbind` of an SC on a call stack (`schedContext_unbindReply`): the
/// server loses it, the stack no longer names it, and a reply then leaves the caller
/// Running without an SC. Deleting the SC does the same (`finaliseCap`).
#[test]
fn unbinding_or_deleting_a_donated_sc_cuts_the_call_stack() {
    for delete in [false, true] {
        let (mut s, e) = world();
        let ep = s.make(T::Endpoint, 0, e);
        let rp = s.make(T::Reply, 0, e + 1);
        let server = s.spawn(100, e + 10);
        let client = s.spawn(50, e + 12);
        let (r, csc) = (reply_at(&s, rp), own_sc(&s, e + 12));
        recv(&mut s, server, ep, rp);
        make_passive(&mut s, e + 10);
        call(&mut s, client, ep, info(0, 0, 0), &[]);
        let sc_slot = System::sc_slot_of(e + 12);
        if delete {
            ok_empty(s.cnode(L::CNodeDelete, &[sc_slot, 64], &[]));
        } else {
            ok_empty(s.call(sc_slot, L::SchedContextUnbind, &[], &[]));
        }
        assert_eq!(
            (
                tcb_sc(server).addr(),
                sc_owner(csc),
                csc.get().reply.addr() as u64
            ),
            (0, 0, 0)
        );
        assert_eq!(links(r), (addr(client), 0, 0));
        assert_eq!(client.state(), ThreadState::BlockedOnReply);
        ok_empty(s.call(rp, L::InvalidInvocation, &[], &[]));
        assert_eq!(
            (client.state(), tcb_sc(client).addr()),
            (ThreadState::Running, 0)
        );
        assert_eq!(links(r), (0, 0, 0));
    }
}

/// A caller that got an SC of its own while it waited does not take the donated one back
/// (`reply_pop`): the server keeps it.
#[test]
fn a_caller_bound_to_a_new_sc_meanwhile_leaves_the_donated_sc_with_the_server() {
    let (mut s, e) = world();
    let ep = s.make(T::Endpoint, 0, e);
    let rp = s.make(T::Reply, 0, e + 1);
    let server = s.spawn(100, e + 10);
    let client = s.spawn(50, e + 12);
    let csc = own_sc(&s, e + 12);
    recv(&mut s, server, ep, rp);
    make_passive(&mut s, e + 10);
    call(&mut s, client, ep, info(0, 0, 0), &[]);
    s.make(T::SchedContext, 7, e + 2);
    configure(&mut s, e + 2, 1000, 1000, 0, 0);
    ok_empty(s.call(
        e + 12,
        L::TCBSetSchedParams,
        &[50, 50],
        &[ROOT_TCB, e + 2, e + 60],
    ));
    let sc2 = sc_at(&s, e + 2);
    assert_eq!(tcb_sc(client), sc2);
    reply_recv(&mut s, server, ep, rp, info(0, 0, 0), &[]);
    assert_eq!(client.state(), ThreadState::Running);
    assert_eq!((tcb_sc(client), tcb_sc(server)), (sc2, csc));
    assert_eq!(
        (sc_owner(csc), csc.get().reply.addr() as u64),
        (addr(server), 0)
    );
}

/// Cancelling badged sends restarts a plain sender but leaves a thread that was sending a
/// fault Inactive (`restart_thread_if_no_fault`); deleting an endpoint restarts its
/// receivers and unlinks their Reply objects (`cancelAllIPC`).
#[test]
fn cancelled_fault_senders_stay_inactive_and_receivers_lose_their_reply_link() {
    let (mut s, e) = world();
    let ep = s.make(T::Endpoint, 0, e);
    mint(&mut s, e + 1, ep, CapRights::ALL, 0x51);
    let f = s.spawn(100, e + 10);
    let p = s.spawn(100, e + 12);
    ok_empty(s.call(e + 10, L::TCBSetSpace, &[0, 0], &[e + 1, CNODE, VSPACE]));
    s.run_as(f);
    crate::entry::handle_trap(&mut s.k, crate::arch::riscv64::cause::decode(4, 0));
    assert_eq!(f.state(), ThreadState::BlockedOnSend);
    send(&mut s, p, e + 1, info(0, 0, 0), &[]);
    assert_eq!(ep_queue(ep_at(&s, ep)), vec![f, p]);
    ok_empty(s.cnode(L::CNodeCancelBadgedSends, &[e + 1, 64], &[]));
    assert_eq!(f.state(), ThreadState::Inactive);
    // Restarted (and, the highest thread now, chosen and running again).
    assert_eq!((s.k.cur_thread, p.state()), (p, ThreadState::Running));
    assert_eq!(ep_at(&s, ep).state(), EpState::Idle);
    // Receivers with Reply objects.
    let ep2 = s.make(T::Endpoint, 0, e + 2);
    let rp = s.make(T::Reply, 0, e + 3);
    let r = s.spawn(100, e + 14);
    recv(&mut s, r, ep2, rp);
    assert_eq!(links(reply_at(&s, rp)), (addr(r), 0, 0));
    ok_empty(s.cnode(L::CNodeDelete, &[ep2, 64], &[]));
    assert!(r.state().is_runnable());
    assert_eq!(r.with(|x| x.reply_object.addr() as u64), 0);
    assert_eq!(links(reply_at(&s, rp)), (0, 0, 0));
}

/// A timeout fault that waits for its handler (BlockedOnSend) is received later with a
/// Reply object, still without donating the SC, even to a passive handler.
#[test]
fn a_queued_timeout_fault_is_received_without_donation() {
    let (mut s, e) = world();
    let tep = s.make(T::Endpoint, 0, e);
    mint(&mut s, e + 1, tep, CapRights::ALL, 0);
    let hrp = s.make(T::Reply, 0, e + 2);
    let handler = s.spawn(200, e + 10);
    let t = s.spawn(100, e + 12);
    let tsc = own_sc(&s, e + 12);
    configure(&mut s, System::sc_slot_of(e + 12), 1000, 10_000, 9, 0);
    ok_empty(s.call(e + 12, L::TCBSetTimeoutEndpoint, &[], &[e + 1]));
    s.run_as(t);
    timer_after(&mut s, crate::arch::us_to_ticks(1000) + 100);
    assert_eq!(t.state(), ThreadState::BlockedOnSend);
    assert_eq!(ep_queue(ep_at(&s, tep)), vec![t]);
    // A passive handler.
    make_passive(&mut s, e + 10);
    recv(&mut s, handler, tep, hrp);
    let m = System::regs_of(handler);
    assert_eq!((m.info.label(), m.mrs[0]), (abi::fault::TIMEOUT, 9));
    assert_eq!(t.state(), ThreadState::BlockedOnReply);
    assert_eq!(links(reply_at(&s, hrp)), (addr(t), 0, 0));
    assert_eq!((tcb_sc(t), tcb_sc(handler).addr()), (tsc, 0));
}

/// A reply that returns an SC with no budget left (the passive server ran it dry and waited
/// for a refill; someone else answers): the caller, which has a timeout endpoint, raises a
/// timeout fault at once (`doReplyTransfer`); without one it waits in the release queue.
#[test]
fn a_reply_returning_an_exhausted_sc_raises_a_timeout_fault_or_postpones() {
    for with_handler in [true, false] {
        let (mut s, e) = world();
        let ep = s.make(T::Endpoint, 0, e);
        let tep = s.make(T::Endpoint, 0, e + 1);
        let rp = s.make(T::Reply, 0, e + 2);
        let server = s.spawn(100, e + 10);
        let client = s.spawn(50, e + 12);
        let csc = own_sc(&s, e + 12);
        configure(&mut s, System::sc_slot_of(e + 12), 1000, 10_000, 0x33, 0);
        if with_handler {
            ok_empty(s.call(e + 12, L::TCBSetTimeoutEndpoint, &[], &[tep]));
        }
        recv(&mut s, server, ep, rp);
        make_passive(&mut s, e + 10);
        call(&mut s, client, ep, info(0, 0, 0), &[]);
        assert_eq!((s.k.cur_thread, tcb_sc(server)), (server, csc));
        // The server runs the SC dry: it has no timeout endpoint, so it waits for the refill.
        timer_after(&mut s, crate::arch::us_to_ticks(1000) + 100);
        assert_eq!(server.with(|x| x.in_release_queue), 1);
        assert_ne!(s.k.cur_thread, server);
        // The root answers through the Reply object.
        ok_empty(s.call(rp, L::InvalidInvocation, &[], &[]));
        assert_eq!((tcb_sc(client), sc_owner(csc)), (csc, addr(client)));
        assert_eq!(server.with(|x| x.in_release_queue), 0);
        if with_handler {
            assert_eq!(client.state(), ThreadState::BlockedOnSend);
            assert_eq!(ep_queue(ep_at(&s, tep)), vec![client]);
            assert_eq!(client.with(|x| x.in_release_queue), 0);
        } else {
            assert_eq!(client.state(), ThreadState::Running);
            assert_eq!(client.with(|x| x.in_release_queue), 1);
            assert!(s.k.sched.release_queue.head.is(client));
        }
    }
}

/// Through the syscall path: a long revoke stops at a preemption point once the current
/// SC's budget is used up (the clock moves while it works), and the syscall restarts; with
/// budget to spare it completes.
#[test]
fn a_long_revoke_is_preempted_when_the_budget_runs_out() {
    /// An interrupt check that finds none but lets 10 ms pass.
    fn slow_irq_check() -> bool {
        advance_time(crate::arch::us_to_ticks(10_000));
        false
    }
    let (mut s, e) = world();
    let ep = s.make(T::Endpoint, 0, e);
    let n = 2 * abi::config::MAX_NUM_WORK_UNITS_PER_PREEMPTION as u64 + 10;
    for i in 1..=n {
        ok_empty(s.cnode(
            L::CNodeCopy,
            &[e + i, 64, ep, 64, CapRights::ALL.0],
            &[CNODE],
        ));
    }
    let root = s.root;
    s.run_as(root);
    let pc = root.reg(reg::PC);
    s.k.irq_pending = slow_irq_check;
    s.k.work_units = 0;
    let revoke = info(L::CNodeRevoke as u64, 0, 2);
    s.sys(Syscall::Call, CNODE, revoke, &[ep, 64], &[]);
    let left = (1..=n).filter(|i| !s.root_slot(e + i).is_empty()).count() as u64;
    assert!(left > 0 && left < n, "{left} of {n} copies left");
    assert_eq!(s.k.cur_thread, root);
    assert_eq!(root.reg(reg::PC), pc, "the syscall restarts");
    s.k.irq_pending = || false;
    s.sys(Syscall::Call, CNODE, revoke, &[ep, 64], &[]);
    assert!((1..=n).all(|i| s.root_slot(e + i).is_empty()));
    assert_eq!(root.reg(reg::PC), pc + 4);
}

/// Deleting the Reply object of a passive server that went on to block elsewhere with the
/// caller's SC gives the SC back to the caller (`reply_pop` → `schedContext_donate`, seL4
/// `reply.c`, `schedcontext.c`), which stays Inactive; the server keeps waiting without an SC
/// and the deleting thread goes on, a thread of its priority still ready.
#[test]
fn deleting_the_reply_of_a_server_blocked_elsewhere_returns_the_sc() {
    let (mut s, e) = world();
    let root = s.root;
    let ep = s.make(T::Endpoint, 0, e);
    let ep2 = s.make(T::Endpoint, 0, e + 2);
    let rp = s.make(T::Reply, 0, e + 1);
    let rp2 = s.make(T::Reply, 0, e + 3);
    let server = s.spawn(100, e + 10);
    let client = s.spawn(50, e + 12);
    let peer = s.spawn(1, e + 14);
    let csc = own_sc(&s, e + 12);
    recv(&mut s, server, ep, rp);
    make_passive(&mut s, e + 10);
    call(&mut s, client, ep, info(0, 0, 0), &[]);
    assert_eq!((s.k.cur_thread, tcb_sc(server)), (server, csc));
    // The server blocks on another endpoint, keeping the caller's SC.
    recv(&mut s, server, ep2, rp2);
    assert_eq!(server.state(), ThreadState::BlockedOnReceive);
    assert_eq!(tcb_sc(server), csc);
    assert!(peer.with(|x| x.queued) == 1);
    ok_empty(s.cnode(L::CNodeDelete, &[rp, 64], &[]));
    assert_eq!((tcb_sc(client), tcb_sc(server).addr()), (csc, 0));
    assert_eq!(
        (client.state(), server.state()),
        (ThreadState::Inactive, ThreadState::BlockedOnReceive)
    );
    assert!(ep_queue(ep_at(&s, ep2)).contains(&server));
    assert!(!is_schedulable(server) && !is_schedulable(client));
    assert_eq!(s.k.cur_thread, root);
    assert!(peer.with(|x| x.queued) == 1);
}

/// A `SchedContext_YieldTo` ends (`schedContext_completeYieldTo` → `cancelYieldTo`, seL4
/// `schedcontext.c`, `thread.c`): when the yielder runs again (`activateThread`) it gets the
/// consumed time as its reply and neither it nor the SC names the other any more; suspending a yielder
/// (`suspend` → `schedContext_cancelYieldTo`) also clears both links.
#[test]
fn a_yield_to_is_completed_or_cancelled_and_the_links_cleared() {
    let (mut s, e) = world();
    let root = s.root;
    let ep = s.make(T::Endpoint, 0, e);
    let same = s.spawn(1, e + 12);
    let ssc = own_sc(&s, e + 12);
    let yield_to = |s: &mut System| {
        s.run_as(root);
        s.syscall(
            Syscall::Call,
            System::sc_slot_of(e + 12),
            info(L::SchedContextYieldTo as u64, 0, 0),
            &[],
            &[],
        )
    };
    yield_to(&mut s);
    assert_eq!(s.k.cur_thread, same);
    assert!(root.with(|x| x.yield_to).is(ssc));
    assert!(ssc.get().yield_from.is(root));
    // `handleInvocation` gave it the empty success reply for now.
    assert_eq!(root.state(), ThreadState::Running);
    assert_eq!(System::regs_of(root).info.0, 0);
    // The SC's thread blocks: the yielder runs again and the YieldTo completes.
    ssc.with(|x| x.consumed = crate::arch::us_to_ticks(77));
    sys6(&mut s, same, Syscall::Wait, ep, 0, 0, info(0, 0, 0), &[]);
    assert_eq!(s.k.cur_thread, root);
    assert_eq!(root.state(), ThreadState::Running);
    let r = System::regs_of(root);
    assert_eq!((r.info.label(), r.info.length(), r.mrs[0]), (0, 1, 77));
    assert!(root.with(|x| x.yield_to).is_none());
    assert!(ssc.get().yield_from.is_none());
    assert_eq!(ssc.get().consumed, 0);

    // Yield again, then the SC's thread suspends the yielder.
    send(&mut s, root, ep, info(0, 0, 0), &[]);
    assert_eq!(same.state(), ThreadState::Running);
    yield_to(&mut s);
    assert_eq!(s.k.cur_thread, same);
    assert!(root.with(|x| x.yield_to).is(ssc));
    sys6(
        &mut s,
        same,
        Syscall::Call,
        ROOT_TCB,
        0,
        0,
        info(L::TCBSuspend as u64, 0, 0),
        &[],
    );
    assert_eq!(root.state(), ThreadState::Inactive);
    assert!(root.with(|x| x.yield_to).is_none());
    assert!(ssc.get().yield_from.is_none());
}
