//! Notifications (`src/object/notification.c`): Signal ORs the cap's badge into the word,
//! Wait/Poll take it and clear it, waiters are woken in order, a bound notification wakes its
//! thread from `seL4_Recv` on an endpoint, and deleting a notification restarts its waiters.

use abi::{CapRights, MessageInfo, ObjectType as T, Word};
use libsel4::cap::Notification;
use libsel4::sys;

use crate::framework::{Ctx, TestResult};
use crate::thread::{log, log_snapshot, report_and_park, send, FAULT_BADGE};
use crate::{check_eq, ok};

fn poll(n: Word) -> Word {
    Notification::from_bits(n).poll()
}

/// Signals through caps with different badges OR together until a Wait or Poll takes the word
/// (and leaves the notification idle: Poll then gives 0); a signal with badge 0 still makes the
/// notification active; a cap without Write signals nothing.
pub fn ntfn_signal_poll_or(c: &mut Ctx) -> TestResult {
    let n = c.new_object(T::Notification, 0)?;
    let b1 = c.mint(n, CapRights::WRITE, 0x1)?;
    let b4 = c.mint(n, CapRights::WRITE, 0x4)?;
    let b10 = c.mint(n, CapRights::WRITE, 0x10)?;
    let ro = c.mint(n, CapRights::READ, 0x20)?;
    check_eq!(poll(n), 0, "Poll of a new notification");
    sys::seL4_Signal(b1);
    sys::seL4_Signal(b4);
    sys::seL4_Signal(b10);
    sys::seL4_Signal(b4);
    check_eq!(poll(n), 0x15, "Poll after signals 1, 4, 0x10, 4");
    check_eq!(poll(n), 0, "Poll again");
    sys::seL4_Signal(b10);
    check_eq!(c.wait(n)?, 0x10, "Wait on an active notification");
    check_eq!(poll(n), 0, "Poll after Wait");
    sys::seL4_Signal(ro);
    check_eq!(poll(n), 0, "Poll after a signal through a read-only cap");
    sys::seL4_Signal(n);
    check_eq!(
        c.wait(n)?,
        0,
        "Wait after a signal with badge 0 (returns at once with 0)"
    );
    let (_, b) = sys::seL4_Poll(ro);
    check_eq!(b, 0, "Poll through the read-only cap");
    Ok(())
}

extern "C" fn waiter_main(rep: Word, n: Word, id: Word, _: Word) -> ! {
    let b = crate::thread::wait(n);
    log(id);
    report_and_park(rep, 0xe0 + id, &[b])
}

/// A signal wakes a waiting thread with the cap's badge (not running it before the
/// higher-priority signaller blocks); several waiters are woken one per signal, first come
/// first served.
pub fn ntfn_wait_wakes_thread(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let n = c.new_object(T::Notification, 0)?;
    let b4 = c.mint(n, CapRights::WRITE, 0x4)?;
    let b1 = c.mint(n, CapRights::WRITE, 0x1)?;
    c.spawn(waiter_main, 100, [rep, n, 1, 0])?;
    c.expect_idle(rep, "waiter blocked")?;
    sys::seL4_Signal(b4);
    check_eq!(
        log_snapshot().1,
        0,
        "the woken waiter ran before the root task blocked"
    );
    let m = c.recv(rep)?;
    check_eq!((m.label(), m.mr[0]), (0xe1, 0x4), "waiter's badge");
    c.spawn(waiter_main, 100, [rep, n, 2, 0])?;
    c.expect_idle(rep, "second waiter blocked")?;
    c.spawn(waiter_main, 100, [rep, n, 3, 0])?;
    c.expect_idle(rep, "third waiter blocked")?;
    sys::seL4_Signal(b1);
    sys::seL4_Signal(b4);
    let mut got = [0; 4];
    for _ in 0..2 {
        let m = c.recv(rep)?;
        got[(m.label() - 0xe0) as usize] = m.mr[0];
    }
    check_eq!(
        (got[2], got[3]),
        (0x1, 0x4),
        "first waiter woken by the first signal, second by the second"
    );
    check_eq!(poll(n), 0, "nothing left");
    Ok(())
}

extern "C" fn signal_logger_main(rep: Word, n: Word, _: Word, _: Word) -> ! {
    log(1);
    sys::seL4_Signal(n);
    log(2);
    report_and_park(rep, 0xe8, &[])
}

/// A signal to a higher-priority waiter switches to it at once.
pub fn ntfn_signal_preempts(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let n = c.new_object(T::Notification, 0)?;
    let b = c.mint(n, CapRights::WRITE, 0x8)?;
    c.spawn(waiter_main, 200, [rep, n, 5, 0])?;
    c.expect_idle(rep, "waiter blocked")?;
    c.spawn(signal_logger_main, 100, [rep, b, 0, 0])?;
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0]),
        (0xe5, 0x8),
        "first report: the waiter"
    );
    let m = c.recv(rep)?;
    check_eq!(m.label(), 0xe8, "second report: the signaller");
    check_eq!(
        (&log_snapshot().0[..3], log_snapshot().1),
        (&[1, 5, 2][..], 3),
        "signaller, waiter, signaller"
    );
    Ok(())
}

extern "C" fn bound_receiver_main(rep: Word, ep: Word, _: Word, _: Word) -> ! {
    loop {
        let (info, badge) = crate::thread::recv(ep);
        let m0 = sys::seL4_GetMR(0);
        let label = if info.length() == 1 && m0 == 0x3e {
            info.label()
        } else {
            0
        };
        send(rep, 0xea, &[badge, label]);
    }
}

/// A thread blocked in `seL4_Recv` on an endpoint is woken by a signal to its bound
/// notification, with the signal's badge; a signal that came while it was not receiving is
/// delivered by its next `seL4_Recv`; endpoint messages still arrive; after
/// UnbindNotification signals no longer wake it.
pub fn ntfn_bound_wakes_recv(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let epb = c.mint(ep, CapRights::ALL, 0x3)?;
    let n = c.new_object(T::Notification, 0)?;
    let b8 = c.mint(n, CapRights::WRITE, 0x8)?;
    let b2 = c.mint(n, CapRights::WRITE, 0x2)?;
    let t = c.thread(bound_receiver_main, 100, [rep, ep, 0, 0])?;
    ok!(sys::seL4_TCB_BindNotification(t.tcb, n), "bind");
    t.start()?;
    c.expect_idle(rep, "receiver blocked in Recv")?;
    sys::seL4_Signal(b8);
    let m = c.recv(rep)?;
    check_eq!(m.mr[0], 0x8, "badge of the bound signal");
    // The thread is between its report and its next Recv: this signal stays pending.
    sys::seL4_Signal(b2);
    let m = c.recv(rep)?;
    check_eq!(
        m.mr[0],
        0x2,
        "pending bound signal delivered by the next Recv"
    );
    c.expect_idle(rep, "receiver blocked again")?;
    sys::seL4_SetMR(0, 0x3e);
    sys::seL4_Send(epb, MessageInfo::new(0x3d, 0, 0, 1));
    let m = c.recv(rep)?;
    check_eq!(
        (m.mr[0], m.mr[1]),
        (0x3, 0x3d),
        "endpoint message to a thread with a bound notification"
    );
    c.expect_idle(rep, "receiver blocked again")?;
    ok!(sys::seL4_TCB_UnbindNotification(t.tcb), "unbind");
    sys::seL4_Signal(b8);
    c.expect_idle(rep, "unbound receiver not woken by the signal")?;
    check_eq!(poll(n), 0x8, "the signal stayed in the notification");
    Ok(())
}

/// Deleting the last cap of a notification restarts its waiters (`cancelAllSignals`); the
/// restarted `seL4_Wait` on the empty slot is a cap fault in the receive phase.
pub fn ntfn_delete_restarts_waiter(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let fault = c.fault_ep()?;
    let n = c.new_object(T::Notification, 0)?;
    let t = c.thread_with_fault_ep(waiter_main, 100, [rep, n, 4, 0], fault)?;
    t.start()?;
    c.expect_idle(rep, "waiter blocked")?;
    let pc = t.regs()?.regs[0];
    ok!(c.abs(n).delete(), "delete the notification");
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.badge, m.len()),
        (abi::fault::CAP_FAULT, FAULT_BADGE, 5),
        "fault of the restarted waiter"
    );
    check_eq!(
        &m.mr[..5],
        &[pc, n, 1, 2, 0],
        "cap fault [IP, slot, receive phase, MissingCapability, 0 bits left]"
    );
    Ok(())
}

extern "C" fn bound_caller_main(rep: Word, srv: Word, ep: Word, _: Word) -> ! {
    let r = sys::seL4_Call(srv, MessageInfo::new(0x1, 0, 0, 0));
    let (_, badge) = crate::thread::recv(ep);
    report_and_park(rep, 0xeb, &[r.label(), badge])
}

extern "C" fn slow_server_main(rep: Word, srv: Word, go: Word, _: Word) -> ! {
    crate::thread::recv(srv);
    send(rep, 0xec, &[]);
    crate::thread::wait(go);
    crate::thread::reply(MessageInfo::new(0x2c, 0, 0, 0));
    crate::thread::park()
}

/// A signal to the bound notification of a thread waiting for a reply does not wake it (only
/// `seL4_Recv` is interrupted): the notification stays active and the thread's next Recv
/// returns its badge at once.
pub fn ntfn_bound_not_woken_in_call(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let srv = c.new_object(T::Endpoint, 0)?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let go = c.new_object(T::Notification, 0)?;
    let n = c.new_object(T::Notification, 0)?;
    let b4 = c.mint(n, CapRights::WRITE, 0x4)?;
    c.spawn(slow_server_main, 150, [rep, srv, go, 0])?;
    c.expect_idle(rep, "server blocked")?;
    let t = c.thread(bound_caller_main, 100, [rep, srv, ep, 0])?;
    ok!(sys::seL4_TCB_BindNotification(t.tcb, n), "bind");
    t.start()?;
    let m = c.recv(rep)?;
    check_eq!(m.label(), 0xec, "server got the call");
    sys::seL4_Signal(b4);
    c.expect_idle(
        rep,
        "caller with a bound notification waiting for its reply",
    )?;
    sys::seL4_Signal(go);
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0], m.mr[1]),
        (0xeb, 0x2c, 0x4),
        "caller: [reply label, badge of the Recv after it]"
    );
    Ok(())
}

extern "C" fn bound_server_main(rep: Word, ep: Word, _: Word, _: Word) -> ! {
    let (_, b0) = crate::thread::recv(ep);
    send(rep, 0xed, &[b0, sys::seL4_GetMR(0)]);
    sys::seL4_SetMR(0, 0x61);
    let (_, b1) = crate::thread::reply_recv(ep, MessageInfo::new(0, 0, 0, 1));
    report_and_park(rep, 0xee, &[b1])
}

extern "C" fn call_main(rep: Word, ep: Word, _: Word, _: Word) -> ! {
    sys::seL4_SetMR(0, 0x60);
    let r = sys::seL4_Call(ep, MessageInfo::new(0, 0, 0, 1));
    report_and_park(rep, 0xef, &[r.label(), sys::seL4_GetMR(0)])
}

/// ReplyRecv of a server whose bound notification is active replies, then returns at once
/// with the notification's badge (the fastpath must not block it: `fastpath_reply_recv`).
pub fn ntfn_bound_pending_at_reply_recv(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let epb = c.mint(ep, CapRights::ALL, 0x6)?;
    let n = c.new_object(T::Notification, 0)?;
    let b4 = c.mint(n, CapRights::WRITE, 0x4)?;
    let s = c.thread(bound_server_main, 150, [rep, ep, 0, 0])?;
    ok!(sys::seL4_TCB_BindNotification(s.tcb, n), "bind");
    s.start()?;
    c.expect_idle(rep, "server blocked")?;
    c.spawn(call_main, 100, [rep, epb, 0, 0])?;
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0], m.mr[1]),
        (0xed, 0x6, 0x60),
        "server got the call"
    );
    sys::seL4_Signal(b4);
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0]),
        (0xee, 0x4),
        "server's ReplyRecv returned the pending notification badge"
    );
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0], m.mr[1]),
        (0xef, 0, 0x61),
        "client got the reply"
    );
    Ok(())
}

extern "C" fn one_send_main(ep: Word, label: Word, _: Word, _: Word) -> ! {
    send(ep, label, &[1]);
    crate::thread::park()
}

extern "C" fn two_recvs_main(rep: Word, ep: Word, _: Word, _: Word) -> ! {
    let (i1, b1) = crate::thread::recv(ep);
    let l1 = if i1.length() == 1 { i1.label() } else { 0 };
    let (i2, b2) = crate::thread::recv(ep);
    report_and_park(rep, 0xe9, &[b1, l1, b2, i2.label()])
}

/// With both a pending bound notification and a waiting sender, `seL4_Recv` takes the
/// notification first (`receiveIPC`), then the message.
pub fn ntfn_bound_before_sender(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let epb = c.mint(ep, CapRights::ALL, 0x9)?;
    let n = c.new_object(T::Notification, 0)?;
    let b2 = c.mint(n, CapRights::WRITE, 0x2)?;
    let t = c.thread(two_recvs_main, 100, [rep, ep, 0, 0])?;
    ok!(sys::seL4_TCB_BindNotification(t.tcb, n), "bind");
    sys::seL4_Signal(b2);
    c.spawn(one_send_main, 100, [epb, 0x4e, 0, 0])?;
    c.expect_idle(rep, "sender blocked")?;
    t.start()?;
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), &m.mr[..4]),
        (0xe9, &[0x2, 0, 0x9, 0x4e][..]),
        "[first badge, first label, second badge, second label]"
    );
    Ok(())
}
