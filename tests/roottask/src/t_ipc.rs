//! IPC through endpoints (`src/object/endpoint.c`, `doIPCTransfer`/`transferCaps` in
//! `src/kernel/thread.c`, `handleSyscall` in `src/api/syscall.c`): Send/NBSend/Recv/NBRecv,
//! Call/Reply/ReplyRecv, badges, message lengths, cap transfer and unwrapping, reply caps and
//! SaveCaller, CancelBadgedSends, deleting an endpoint with waiting threads, and the scheduling
//! seen through IPC: preemption by a woken higher-priority thread, Yield, round robin.

use abi::{slot, CPtr, CapRights, MessageInfo, ObjectType as T, Syscall, Word};
use libsel4::cap_tag as tag;
use libsel4::ipc;
use libsel4::sys;

use crate::framework::{ident, Ctx, TestResult};
use crate::t_tcb::receiver_main;
use crate::thread::{
    bump, log, log_snapshot, park, report_and_park, send, set_shared, shared, FAULT_BADGE,
};
use crate::{check, check_eq, ok};

const ROOT_CNODE: CPtr = slot::INIT_THREAD_CNODE;

/// Logs `id`, sends [id, id + 1, .., id + 4] with `label` to `ep`, logs `id + 1`, reports
/// (label 0xd0 + id) [id] and stops.
extern "C" fn send_then_report_main(rep: Word, ep: Word, label: Word, id: Word) -> ! {
    log(id);
    send(ep, label, &[id, id + 1, id + 2, id + 3, id + 4]);
    log(id + 1);
    report_and_park(rep, 0xd0 + id, &[id])
}

/// Set MR0.. to `words` and `seL4_Send` them with `label` (root task side).
fn root_send(ep: CPtr, label: Word, words: &[Word]) {
    for (i, w) in words.iter().enumerate() {
        sys::seL4_SetMR(i, *w);
    }
    sys::seL4_Send(ep, MessageInfo::new(label, 0, 0, words.len() as Word));
}

/// Both rendezvous orders: a receiver already waiting gets the message (badge, label, length,
/// words) without running before the higher-priority sender blocks; a sender already waiting is
/// received at once.
pub fn ipc_send_recv_both_orders(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let epb = c.mint(ep, CapRights::ALL, 0x99)?;
    c.spawn(receiver_main, 100, [rep, ep, 0x81, 0])?;
    c.expect_idle(rep, "receiver blocked")?;
    root_send(epb, 0x61, &[10, 11, 12, 13, 14, 15]);
    check_eq!(
        shared(0),
        0,
        "the woken lower-priority receiver ran before the sender blocked"
    );
    let m = c.recv(rep)?;
    check_eq!(
        &m.mr[..5],
        &[0x99, 0x61, 6, 10, 11],
        "receiver's report [badge, label, length, MR0, MR1]"
    );
    // A new endpoint: the receiver above waits on `ep` again.
    let ep2 = c.new_object(T::Endpoint, 0)?;
    let eps = c.mint(ep2, CapRights::ALL, 0x5)?;
    c.spawn(send_then_report_main, 100, [rep, eps, 0x62, 0x20])?;
    c.expect_idle(rep, "sender blocked")?;
    let m = c.recv(ep2)?;
    check_eq!(
        (m.label(), m.len(), m.badge),
        (0x62, 5, 0x5),
        "message of the waiting sender"
    );
    check_eq!(&m.mr[..5], &[0x20, 0x21, 0x22, 0x23, 0x24], "its words");
    let r = c.recv(rep)?;
    check_eq!(
        r.label(),
        0xd0 + 0x20,
        "sender's report after the rendezvous"
    );
    Ok(())
}

/// NBRecv with no sender returns badge 0 at once; NBSend with no receiver is dropped; both
/// complete a rendezvous with a waiting partner.
pub fn ipc_nb_send_recv(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let epb = c.mint(ep, CapRights::ALL, 0x31)?;
    let (_, badge) = crate::thread::nb_recv(ep);
    check_eq!(badge, 0, "NBRecv with no sender: badge");
    sys::seL4_SetMR(0, 0x1);
    sys::seL4_NBSend(epb, MessageInfo::new(0x62, 0, 0, 1));
    c.spawn(receiver_main, 100, [rep, ep, 0x82, 0])?;
    c.expect_idle(rep, "receiver after an NBSend with nobody waiting")?;
    sys::seL4_SetMR(0, 0x7);
    sys::seL4_NBSend(epb, MessageInfo::new(0x63, 0, 0, 1));
    let m = c.recv(rep)?;
    check_eq!(
        &m.mr[..4],
        &[0x31, 0x63, 1, 0x7],
        "NBSend to a waiting receiver [badge, label, length, MR0]"
    );
    let ep2 = c.new_object(T::Endpoint, 0)?;
    let ep2b = c.mint(ep2, CapRights::ALL, 0x32)?;
    c.spawn(send_then_report_main, 100, [rep, ep2b, 0x64, 0x40])?;
    c.expect_idle(rep, "sender blocked")?;
    let (info, badge) = crate::thread::nb_recv(ep2);
    check_eq!(
        (info.label(), info.length(), badge, sys::seL4_GetMR(0)),
        (0x64, 5, 0x32, 0x40),
        "NBRecv from a waiting sender"
    );
    let r = c.recv(rep)?;
    check_eq!(r.label(), 0xd0 + 0x40, "sender's report");
    Ok(())
}

/// Send and NBSend through an endpoint cap without Write right do nothing (the error has no
/// one to go to); Call gets InvalidCapability 0.
pub fn ipc_send_without_write_right(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let ro = c.mint(ep, CapRights::new(true, true, true, false), 0)?;
    c.spawn(receiver_main, 100, [rep, ep, 0x83, 0])?;
    c.expect_idle(rep, "receiver blocked")?;
    root_send(ro, 0x65, &[1]);
    sys::seL4_NBSend(ro, MessageInfo::new(0x66, 0, 0, 0));
    c.expect_idle(rep, "receiver after sends through a cap without Write")?;
    let info = sys::seL4_Call(ro, MessageInfo::new(0x67, 0, 0, 0));
    check_eq!(
        (info.label(), info.length(), sys::seL4_GetMR(0)),
        (abi::Error::InvalidCapability as Word, 1, 0),
        "Call through a cap without Write"
    );
    root_send(ep, 0x68, &[2]);
    let m = c.recv(rep)?;
    check_eq!(
        &m.mr[..4],
        &[0, 0x68, 1, 2],
        "the receiver got only the good send"
    );
    Ok(())
}

extern "C" fn server_main(_rep: Word, ep: Word, _: Word, _: Word) -> ! {
    let (mut info, mut badge) = crate::thread::recv(ep);
    loop {
        let n = info.length() as usize;
        log(0x200 + sys::seL4_GetMR(0) / 100);
        set_shared(1, badge);
        for i in 0..n {
            sys::seL4_SetMR(i, sys::seL4_GetMR(i) * 2);
        }
        (info, badge) =
            crate::thread::reply_recv(ep, MessageInfo::new(info.label() + 1, 0, 0, n as Word));
    }
}

extern "C" fn client_main(rep: Word, ep: Word, _: Word, _: Word) -> ! {
    let mut ok_mask = 0;
    let mut last = [0; 3];
    for (k, n) in [1usize, 4, 10].into_iter().enumerate() {
        let k = k as Word;
        for i in 0..n {
            sys::seL4_SetMR(i, 100 * k + i as Word);
        }
        log(0x100 + k);
        let r = sys::seL4_Call(ep, MessageInfo::new(0x10 + k, 0, 0, n as Word));
        log(0x300 + k);
        let words_ok = (0..n).all(|i| sys::seL4_GetMR(i) == 2 * (100 * k + i as Word));
        if r.label() == 0x11 + k && r.length() == n as Word && words_ok {
            ok_mask |= 1 << k;
        }
        last = [r.label(), r.length(), sys::seL4_GetMR(n - 1)];
    }
    report_and_park(rep, 0x90, &[ok_mask, last[0], last[1], last[2]])
}

/// Call blocks the client until the server's ReplyRecv answers it (label, length and words of
/// the reply); a higher-priority server runs as soon as it is called, the client as soon as it
/// is answered. The server sees the client's badge. Reply with no caller does nothing.
pub fn ipc_call_reply_recv(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let epb = c.mint(ep, CapRights::ALL, 0x5)?;
    crate::thread::reply(MessageInfo::new(0, 0, 0, 0));
    c.spawn(server_main, 150, [rep, ep, 0, 0])?;
    c.expect_idle(rep, "server blocked in Recv")?;
    c.spawn(client_main, 100, [rep, epb, 0, 0])?;
    let m = c.recv(rep)?;
    check_eq!(m.label(), 0x90, "client report");
    check_eq!(
        &m.mr[..4],
        &[0b111, 0x13, 10, 2 * 209],
        "client's replies [all three right, last label, last length, last MR9]"
    );
    check_eq!(shared(1), 0x5, "badge seen by the server");
    let (l, n) = log_snapshot();
    check_eq!(
        (&l[..9], n),
        (
            &[0x100, 0x200, 0x300, 0x101, 0x201, 0x301, 0x102, 0x202, 0x302][..],
            9
        ),
        "order of client calls, server handling and client returns"
    );
    Ok(())
}

extern "C" fn long_sender_main(ep: Word, _: Word, _: Word, _: Word) -> ! {
    for len in [120, 127, 121] {
        for i in 0..120 {
            sys::seL4_SetMR(i, 1000 + i as Word);
        }
        sys::seL4_Send(ep, MessageInfo::new(0x6a, 0, 0, len));
    }
    park()
}

extern "C" fn long_receiver_main(rep: Word, ep: Word, _: Word, _: Word) -> ! {
    let (info, _) = crate::thread::recv(ep);
    let n = info.length() as usize;
    let matches = (0..120)
        .filter(|&i| sys::seL4_GetMR(i) == 2000 + i as Word)
        .count() as Word;
    report_and_park(
        rep,
        0x6b,
        &[info.length(), matches, sys::seL4_GetMR(n.max(1) - 1)],
    )
}

/// A message carries up to 120 words (`seL4_MsgMaxLength`): a longer length field is cut to
/// 120 (`messageInfoFromWord`); a thread without IPC buffer receives only the 4 register words.
pub fn ipc_long_message(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    c.spawn(long_sender_main, 100, [ep, 0, 0, 0])?;
    for sent in [120, 127, 121] {
        for i in 0..120 {
            sys::seL4_SetMR(i, 0);
        }
        let m = c.recv(ep)?;
        check_eq!(
            (m.label(), m.len()),
            (0x6a, 120),
            "message sent with length {}",
            sent
        );
        for i in 0..120 {
            check_eq!(
                sys::seL4_GetMR(i),
                1000 + i as Word,
                "MR{} of a message sent with length {}",
                i,
                sent
            );
        }
    }
    let ep2 = c.new_object(T::Endpoint, 0)?;
    c.spawn(long_receiver_main, 100, [rep, ep2, 0, 0])?;
    c.expect_idle(rep, "receiver blocked")?;
    let words: [Word; 120] = core::array::from_fn(|i| 2000 + i as Word);
    root_send(ep2, 0x6c, &words);
    let m = c.recv(rep)?;
    check_eq!(
        &m.mr[..3],
        &[120, 120, 2119],
        "receiver's [length, matching MRs, MR119]"
    );
    let ep3 = c.new_object(T::Endpoint, 0)?;
    let t = c.thread(long_receiver_main, 100, [rep, ep3, 0, 0])?;
    let empty = c.slot()?;
    ok!(
        sys::seL4_TCB_SetIPCBuffer(t.tcb, 0, empty),
        "take the receiver's IPC buffer away"
    );
    t.start()?;
    c.expect_idle(rep, "receiver without buffer blocked")?;
    root_send(ep3, 0x6d, &words);
    let m = c.recv(rep)?;
    check_eq!(
        &m.mr[..3],
        &[4, 4, 2003],
        "receiver without IPC buffer: [length, matching MRs, last MR]"
    );
    Ok(())
}

/// Senders blocked on an endpoint are received in the order they blocked, each with the badge
/// of the cap it sent through (0 for the unbadged original).
pub fn ipc_badges_fifo(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let caps = [
        c.mint(ep, CapRights::ALL, 3)?,
        c.mint(ep, CapRights::ALL, 1)?,
        ep,
        c.mint(ep, CapRights::WRITE, 0xffff_ffff_ffff)?,
    ];
    for (i, cap) in caps.iter().enumerate() {
        c.spawn(
            send_then_report_main,
            100,
            [rep, *cap, 0x70, 0x10 * (i as Word + 1)],
        )?;
        c.expect_idle(rep, "sender blocked")?;
    }
    let want_badges = [3, 1, 0, 0xffff_ffff_ffff];
    for (i, want) in want_badges.iter().enumerate() {
        let m = c.recv(ep)?;
        check_eq!(
            (m.badge, m.mr[0]),
            (*want, 0x10 * (i as Word + 1)),
            "message {} (badge, sender)",
            i
        );
    }
    for _ in 0..4 {
        let r = c.recv(rep)?;
        check!(r.label() > 0xd0, "sender report label {:#x}", r.label());
    }
    Ok(())
}

extern "C" fn cap_sender_main(go: Word, _: Word, _: Word, _: Word) -> ! {
    loop {
        crate::thread::wait(go);
        let ep = shared(0);
        let n = shared(1) as usize;
        for i in 0..n {
            sys::seL4_SetCap(i, shared(2 + i));
        }
        sys::seL4_SetMR(0, 0xaa);
        sys::seL4_SetMR(1, 0xbb);
        sys::seL4_Send(ep, MessageInfo::new(0x7a, 0, n as Word, 2));
    }
}

/// One cap-transfer case: the sender thread sends `caps` through `through`; the root task
/// receives on `ep` with receive slot `slot` (None: no receive path).
fn transfer(
    c: &mut Ctx,
    go: CPtr,
    ep: CPtr,
    through: CPtr,
    caps: &[CPtr],
    slot: Option<CPtr>,
) -> Result<(MessageInfo, [Word; 3]), crate::framework::Fail> {
    set_shared(0, through);
    set_shared(1, caps.len() as Word);
    for (i, cap) in caps.iter().enumerate() {
        set_shared(2 + i, *cap);
    }
    match slot {
        Some(s) => ipc::set_receive_path(ROOT_CNODE, s, 64),
        None => ipc::set_receive_path(0, 0, 0),
    }
    for i in 0..3 {
        sys::seL4_SetCap(i, 0x5a5a);
    }
    sys::seL4_Signal(go);
    let m = c.recv(ep)?;
    let badges = [
        sys::seL4_GetBadge(0),
        sys::seL4_GetBadge(1),
        sys::seL4_GetBadge(2),
    ];
    ipc::set_receive_path(0, 0, 0);
    if (m.label(), m.len(), m.mr[0], m.mr[1]) != (0x7a, 2, 0xaa, 0xbb) {
        return Err(crate::framework::Fail::new(
            line!(),
            format_args!("cap transfer message words: {m:?}"),
        ));
    }
    Ok((m.info, badges))
}

/// `transferCaps`: caps go only through a cap with Grant, into the receiver's empty receive
/// slot, at most one; a cap to the endpoint the message goes through is "unwrapped" to its
/// badge (capsUnwrapped bit); a cap that cannot be transferred ends the transfer;
/// `extraCaps` counts the caps handled.
pub fn ipc_cap_transfer(c: &mut Ctx) -> TestResult {
    let ep = c.new_object(T::Endpoint, 0)?;
    let go = c.new_object(T::Notification, 0)?;
    let n = c.new_object(T::Notification, 0)?;
    let n7 = c.mint(n, CapRights::ALL, 0x7)?;
    let n8 = c.mint(n, CapRights::ALL, 0x8)?;
    let ep_rw = c.mint(ep, CapRights::READ_WRITE, 0)?;
    let b55 = c.mint(ep, CapRights::ALL, 0x55)?;
    let b7 = c.mint(ep, CapRights::ALL, 0x7)?;
    let b9 = c.mint(ep, CapRights::ALL, 0x9)?;
    let empty = c.slot()?;
    c.spawn(cap_sender_main, 100, [go, 0, 0, 0])?;

    let x = c.slot()?;
    let (info, _) = transfer(c, go, ep, ep, &[n7], Some(x))?;
    check_eq!(
        (info.extra_caps(), info.caps_unwrapped()),
        (1, 0),
        "one notification cap with Grant"
    );
    check_eq!(ident(x), tag::NOTIFICATION, "the received cap");
    sys::seL4_Signal(x);
    check_eq!(
        libsel4::cap::Notification::from_bits(n).poll(),
        0x7,
        "the received cap keeps its badge"
    );

    let y = c.slot()?;
    let (info, _) = transfer(c, go, ep, ep_rw, &[n7], Some(y))?;
    check_eq!(
        (info.extra_caps(), info.caps_unwrapped()),
        (0, 0),
        "a cap sent through an endpoint cap without Grant"
    );
    check_eq!(
        ident(y),
        tag::NULL,
        "receive slot after a send without Grant"
    );

    let (info, _) = transfer(c, go, ep, ep, &[n8], Some(x))?;
    check_eq!(info.extra_caps(), 0, "a cap for an occupied receive slot");
    check_eq!(ident(x), tag::NOTIFICATION, "occupied slot unchanged");

    let (info, badges) = transfer(c, go, ep, ep, &[b55], Some(y))?;
    check_eq!(
        (info.extra_caps(), info.caps_unwrapped(), badges[0]),
        (1, 0b1, 0x55),
        "a badged cap to the same endpoint is unwrapped to its badge"
    );
    check_eq!(ident(y), tag::NULL, "nothing put in the slot by unwrapping");

    let (info, badges) = transfer(c, go, ep, ep, &[ep], Some(y))?;
    check_eq!(
        (info.extra_caps(), info.caps_unwrapped(), badges[0]),
        (1, 0b1, 0),
        "the unbadged endpoint cap itself is unwrapped to badge 0"
    );

    let (info, badges) = transfer(c, go, ep, ep, &[b7, n8, b9], Some(y))?;
    check_eq!(
        (info.extra_caps(), info.caps_unwrapped()),
        (3, 0b101),
        "[same endpoint, notification, same endpoint]"
    );
    check_eq!(
        (badges[0], badges[2]),
        (0x7, 0x9),
        "badges of the unwrapped caps"
    );
    check_eq!(
        ident(y),
        tag::NOTIFICATION,
        "the notification cap in the slot"
    );

    let z = c.slot()?;
    let (info, _) = transfer(c, go, ep, ep, &[n7, n8], Some(z))?;
    check_eq!(
        (info.extra_caps(), info.caps_unwrapped()),
        (1, 0),
        "two caps needing a slot: only the first is transferred"
    );
    check_eq!(ident(z), tag::NOTIFICATION, "first cap received");

    let (info, _) = transfer(c, go, ep, ep, &[n7], None)?;
    check_eq!(
        info.extra_caps(),
        0,
        "a cap to a receiver with no receive path"
    );
    let (info, badges) = transfer(c, go, ep, ep, &[b55], None)?;
    check_eq!(
        (info.extra_caps(), info.caps_unwrapped(), badges[0]),
        (1, 0b1, 0x55),
        "unwrapping needs no receive slot"
    );

    let w = c.slot()?;
    let (info, _) = transfer(c, go, ep, ep, &[empty, n7], Some(w))?;
    check_eq!(info.extra_caps(), 0, "a null cap ends the transfer");
    check_eq!(ident(w), tag::NULL, "nothing received after a null cap");
    Ok(())
}

extern "C" fn reply_cap_server_main(_rep: Word, ep: Word, cap: Word, _: Word) -> ! {
    loop {
        crate::thread::recv(ep);
        sys::seL4_SetCap(0, cap);
        sys::seL4_SetMR(0, 0x5e);
        crate::thread::reply(MessageInfo::new(0, 0, 1, 1));
    }
}

extern "C" fn reply_cap_client_main(rep: Word, ep: Word, slot: Word, _: Word) -> ! {
    ipc::set_receive_path(ROOT_CNODE, slot, 64);
    sys::seL4_SetMR(0, 1);
    let r = sys::seL4_Call(ep, MessageInfo::new(0, 0, 0, 1));
    let m0 = sys::seL4_GetMR(0);
    report_and_park(
        rep,
        0x93,
        &[
            r.extra_caps(),
            r.length(),
            m0,
            sys::seL4_DebugCapIdentify(slot) as Word,
        ],
    )
}

/// A reply carries caps only if the server received the call through an endpoint cap with
/// Grant (the reply cap's `capReplyCanGrant`); a client needs only GrantReply to call.
pub fn ipc_reply_cap_grant(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let n = c.new_object(T::Notification, 0)?;
    let client_cap = c.mint(ep, CapRights::new(true, false, false, true), 0)?;
    let x = c.slot()?;
    c.spawn(reply_cap_server_main, 150, [rep, ep, n, 0])?;
    c.expect_idle(rep, "server blocked")?;
    c.spawn(reply_cap_client_main, 100, [rep, client_cap, x, 0])?;
    let m = c.recv(rep)?;
    check_eq!(
        &m.mr[..4],
        &[1, 1, 0x5e, tag::NOTIFICATION as Word],
        "reply from a server with Grant [extraCaps, length, MR0, received cap]"
    );
    let ep2 = c.new_object(T::Endpoint, 0)?;
    let srv2 = c.mint(ep2, CapRights::READ_WRITE, 0)?;
    let client2 = c.mint(ep2, CapRights::new(true, false, false, true), 0)?;
    let y = c.slot()?;
    c.spawn(reply_cap_client_main, 100, [rep, client2, y, 0])?;
    c.expect_idle(rep, "client blocked in Call")?;
    c.spawn(reply_cap_server_main, 150, [rep, srv2, n, 0])?;
    let m = c.recv(rep)?;
    // Non-MCS: the reply cap's grant right is the receiver's endpoint cap's Grant
    // (`setupCallerCap`). MCS: only the Reply cap's own Grant right counts
    // (`performInvocation_Reply` with `capReplyCanGrant`; `receiveIPC` keeps no grant right),
    // and the server's Reply object cap has it.
    #[cfg(not(feature = "mcs"))]
    let want = [0, 1, 0x5e, tag::NULL as Word];
    #[cfg(feature = "mcs")]
    let want = [1, 1, 0x5e, tag::NOTIFICATION as Word];
    check_eq!(
        &m.mr[..4],
        &want,
        "reply from a server without Grant on its endpoint cap"
    );
    Ok(())
}

#[cfg(not(feature = "mcs"))]
extern "C" fn saving_server_main(rep: Word, ep: Word, slot: Word, _: Word) -> ! {
    crate::thread::recv(ep);
    let m0 = sys::seL4_GetMR(0);
    let r = sys::seL4_CNode_SaveCaller(ROOT_CNODE, slot, 64);
    send(
        rep,
        0x94,
        &[
            m0,
            r.is_ok() as Word,
            sys::seL4_DebugCapIdentify(slot) as Word,
        ],
    );
    // Waiting again drops the thread's own reply slot, not the saved cap.
    crate::thread::recv(ep);
    park()
}

extern "C" fn calling_client_main(rep: Word, ep: Word, value: Word, _: Word) -> ! {
    sys::seL4_SetMR(0, value);
    let r = sys::seL4_Call(ep, MessageInfo::new(0x1, 0, 0, 1));
    report_and_park(rep, 0x95, &[r.label(), r.length(), sys::seL4_GetMR(0)])
}

#[cfg(not(feature = "mcs"))]
/// SaveCaller moves the reply cap into a slot, where it outlives the server's next Recv and can
/// be invoked by any thread (`seL4_Send` on it replies); it is used up by the reply. A caller
/// whose endpoint cap has neither Grant nor GrantReply gets no reply cap and stays blocked.
pub fn ipc_save_caller(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let x = c.slot()?;
    c.spawn(saving_server_main, 150, [rep, ep, x, 0])?;
    c.expect_idle(rep, "server blocked")?;
    c.spawn(calling_client_main, 100, [rep, ep, 0x77, 0])?;
    let m = c.recv(rep)?;
    check_eq!(
        &m.mr[..3],
        &[0x77, 1, tag::REPLY as Word],
        "server: [MR0, SaveCaller ok, saved cap]"
    );
    c.expect_idle(
        rep,
        "server in its second Recv, client waiting for the reply",
    )?;
    check_eq!(
        ident(x),
        tag::REPLY,
        "saved reply cap after the server's next Recv"
    );
    root_send(x, 0x99, &[5]);
    check_eq!(ident(x), tag::NULL, "reply cap used up by the reply");
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), &m.mr[..3]),
        (0x95, &[0x99, 1, 5][..]),
        "client's reply from the root task through the saved cap"
    );

    let ep2 = c.new_object(T::Endpoint, 0)?;
    let write_only = c.mint(ep2, CapRights::WRITE, 0)?;
    let y = c.slot()?;
    c.spawn(saving_server_main, 150, [rep, ep2, y, 0])?;
    c.expect_idle(rep, "server blocked")?;
    c.spawn(calling_client_main, 100, [rep, write_only, 0x78, 0])?;
    let m = c.recv(rep)?;
    check_eq!(
        &m.mr[..3],
        &[0x78, 1, tag::NULL as Word],
        "Call without Grant/GrantReply: message delivered, no reply cap to save"
    );
    c.expect_idle(rep, "caller without a reply cap stays blocked")?;
    Ok(())
}

extern "C" fn yielder_main(rep: Word, id: Word, n: Word, _: Word) -> ! {
    for _ in 0..n {
        log(id);
        sys::seL4_Yield();
    }
    report_and_park(rep, 0xa0 + id, &[])
}

/// Yield moves the caller to the end of its priority's queue: two threads of equal priority
/// that yield alternate; the only thread of the highest priority continues at once.
pub fn ipc_yield(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    sys::seL4_Yield();
    c.spawn(yielder_main, 100, [rep, 1, 4, 0])?;
    c.spawn(yielder_main, 100, [rep, 2, 4, 0])?;
    sys::seL4_Yield();
    check_eq!(
        log_snapshot().1,
        0,
        "the root task's Yield let lower threads run"
    );
    c.recv(rep)?;
    c.recv(rep)?;
    let (l, n) = log_snapshot();
    check_eq!(n, 8, "log length");
    let alternating = (1..8).all(|i| l[i] != l[i - 1]);
    check!(
        alternating,
        "yielding threads did not alternate: {:?}",
        &l[..8]
    );
    Ok(())
}

extern "C" fn wake_logger_main(rep: Word, ep: Word, id: Word, label: Word) -> ! {
    crate::thread::recv(ep);
    log(id);
    report_and_park(rep, label, &[])
}

extern "C" fn send_logger_main(rep: Word, ep: Word, id: Word, _: Word) -> ! {
    log(id);
    send(ep, 0x1, &[]);
    log(id + 1);
    report_and_park(rep, 0xb1, &[])
}

/// A thread woken by IPC runs at once if its priority is higher than the sender's
/// (`possibleSwitchTo`), and only when the sender blocks if it is lower.
pub fn ipc_preempt_on_wake(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    c.spawn(wake_logger_main, 200, [rep, ep, 5, 0xb2])?;
    c.expect_idle(rep, "high receiver blocked")?;
    c.spawn(send_logger_main, 100, [rep, ep, 1, 0])?;
    let m = c.recv(rep)?;
    check_eq!(
        m.label(),
        0xb2,
        "first report: the woken high-priority receiver"
    );
    let m = c.recv(rep)?;
    check_eq!(m.label(), 0xb1, "second report: the sender");
    check_eq!(
        (&log_snapshot().0[..3], log_snapshot().1),
        (&[1, 5, 2][..], 3),
        "sender before send, receiver, sender after send"
    );
    let ep2 = c.new_object(T::Endpoint, 0)?;
    c.spawn(wake_logger_main, 200, [rep, ep2, 7, 0xb3])?;
    c.expect_idle(rep, "receiver blocked")?;
    root_send(ep2, 0x1, &[]);
    check_eq!(
        log_snapshot().1,
        3,
        "a woken priority-200 thread ran before the 255 sender blocked"
    );
    let m = c.recv(rep)?;
    check_eq!(
        m.label(),
        0xb3,
        "report of the receiver woken by the root task"
    );
    Ok(())
}

extern "C" fn busy_main(rep: Word, id: Word, other: Word, limit: Word) -> ! {
    loop {
        let n = bump(id as usize);
        if shared(other as usize) > 0 && n > 1000 {
            report_and_park(rep, 0xc0 + id, &[n, shared(other as usize)]);
        }
        if n >= limit {
            report_and_park(rep, 0xcf, &[id, n]);
        }
    }
}

/// Threads of equal priority that never block share the CPU: the timer ends each one's time
/// slice (`timerTick`, 5 ticks of 2 ms) and the other runs; both make progress.
pub fn ipc_round_robin(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let limit = 20_000_000;
    c.spawn(busy_main, 100, [rep, 1, 2, limit])?;
    c.spawn(busy_main, 100, [rep, 2, 1, limit])?;
    for _ in 0..2 {
        let m = c.recv(rep)?;
        check!(
            m.label() == 0xc1 || m.label() == 0xc2,
            "thread {} counted to {} while the other never ran",
            m.mr[0],
            m.mr[1]
        );
    }
    check!(
        shared(1) > 1000 && shared(2) > 1000,
        "counters {} and {}",
        shared(1),
        shared(2)
    );
    Ok(())
}

/// CancelBadgedSends restarts exactly the senders blocked with that badge (here their caps are
/// gone, so the restarted `seL4_Send` fails and they go on); others stay queued. A badge 0 cap
/// cancels nothing.
pub fn ipc_cancel_badged_sends(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let b1 = c.mint(ep, CapRights::ALL, 1)?;
    let b2 = c.mint(ep, CapRights::ALL, 2)?;
    let b1x = c.mint(ep, CapRights::ALL, 1)?;
    for (cap, id) in [(b1, 1), (b2, 2), (b1x, 3)] {
        c.spawn(send_then_report_main, 100, [rep, cap, 0x71, id])?;
        c.expect_idle(rep, "sender blocked")?;
    }
    ok!(c.abs(b1).delete(), "delete b1");
    ok!(c.abs(b1x).delete(), "delete b1x");
    ok!(
        c.abs(ep).cancel_badged_sends(),
        "CancelBadgedSends with badge 0"
    );
    c.expect_idle(rep, "senders after a badge-0 cancel")?;
    let m1 = c.mint(ep, CapRights::ALL, 1)?;
    ok!(
        c.abs(m1).cancel_badged_sends(),
        "CancelBadgedSends with badge 1"
    );
    let r1 = c.recv(rep)?;
    let r2 = c.recv(rep)?;
    let mut ids = [r1.mr[0], r2.mr[0]];
    ids.sort_unstable();
    check_eq!(ids, [1, 3], "restarted senders (badge 1)");
    c.expect_idle(rep, "the badge-2 sender stays blocked")?;
    let m = c.recv(ep)?;
    check_eq!(
        (m.badge, m.mr[0]),
        (2, 2),
        "the badge-2 message is still queued"
    );
    let r = c.recv(rep)?;
    check_eq!(r.mr[0], 2, "badge-2 sender after its message was received");
    Ok(())
}

/// Deleting the last cap of an endpoint restarts every thread blocked on it
/// (`cancelAllIPC`): the restarted `seL4_Recv` on the now empty slot is a cap fault in the
/// receive phase; the restarted `seL4_Send` fails silently and the sender goes on.
pub fn ipc_delete_endpoint_restarts(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let fault = c.fault_ep()?;
    let e1 = c.new_object(T::Endpoint, 0)?;
    let e2 = c.new_object(T::Endpoint, 0)?;
    let r = c.thread_with_fault_ep(receiver_main, 100, [rep, e1, 0x84, 0], fault)?;
    r.start()?;
    c.spawn(send_then_report_main, 100, [rep, e2, 0x72, 9])?;
    c.expect_idle(rep, "receiver and sender blocked")?;
    let pc = r.regs()?.regs[0];
    ok!(c.abs(e1).delete(), "delete the receiver's endpoint");
    ok!(c.abs(e2).delete(), "delete the sender's endpoint");
    let mut got_fault = false;
    let mut got_report = false;
    for _ in 0..2 {
        let m = c.recv(rep)?;
        if m.badge == FAULT_BADGE {
            check_eq!(
                (m.label(), m.len()),
                (abi::fault::CAP_FAULT, 5),
                "fault of the restarted receiver"
            );
            check_eq!(
                &m.mr[..5],
                &[pc, e1, 1, 2, 0],
                "cap fault [IP, slot, receive phase, MissingCapability, 0 bits left]"
            );
            got_fault = true;
        } else {
            check_eq!(
                (m.label(), m.mr[0]),
                (0xd9, 9),
                "report of the restarted sender"
            );
            got_report = true;
        }
    }
    check!(
        got_fault && got_report,
        "fault {got_fault}, report {got_report}"
    );
    Ok(())
}

/// Receivers blocked on an endpoint get messages in the order they blocked.
pub fn ipc_receivers_fifo(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    c.spawn(receiver_main, 100, [rep, ep, 0x85, 0])?;
    c.expect_idle(rep, "first receiver blocked")?;
    c.spawn(receiver_main, 100, [rep, ep, 0x86, 0])?;
    c.expect_idle(rep, "second receiver blocked")?;
    root_send(ep, 0x1, &[1]);
    root_send(ep, 0x1, &[2]);
    let mut got = [0; 2];
    for _ in 0..2 {
        let m = c.recv(rep)?;
        check!(
            m.label() == 0x85 || m.label() == 0x86,
            "report label {:#x}",
            m.label()
        );
        got[(m.label() - 0x85) as usize] = m.mr[3];
    }
    check_eq!(got, [1, 2], "MR0 received by the first and second receiver");
    Ok(())
}

/// Deleting the TCB of a thread blocked on an endpoint takes it out of the queue: the next
/// sender's message is received, the next message goes to the next receiver.
pub fn ipc_delete_blocked_thread(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let s1 = c.spawn(send_then_report_main, 100, [rep, ep, 0x73, 1])?;
    c.expect_idle(rep, "first sender blocked")?;
    c.spawn(send_then_report_main, 100, [rep, ep, 0x73, 2])?;
    c.expect_idle(rep, "second sender blocked")?;
    ok!(c.abs(s1.tcb).delete(), "delete the first sender's TCB");
    let m = c.recv(ep)?;
    check_eq!(
        m.mr[0],
        2,
        "message received after the first sender's deletion"
    );
    let r = c.recv(rep)?;
    check_eq!(r.mr[0], 2, "report of the second sender");
    let ep2 = c.new_object(T::Endpoint, 0)?;
    let r1 = c.spawn(receiver_main, 100, [rep, ep2, 0x87, 0])?;
    c.expect_idle(rep, "first receiver blocked")?;
    c.spawn(receiver_main, 100, [rep, ep2, 0x88, 0])?;
    c.expect_idle(rep, "second receiver blocked")?;
    ok!(c.abs(r1.tcb).delete(), "delete the first receiver's TCB");
    root_send(ep2, 0x1, &[3]);
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[3]),
        (0x88, 3),
        "message to the second receiver"
    );
    Ok(())
}

#[cfg(not(feature = "mcs"))]
extern "C" fn saving_loop_server_main(rep: Word, ep: Word, slot: Word, _: Word) -> ! {
    loop {
        crate::thread::recv(ep);
        let m0 = sys::seL4_GetMR(0);
        let r = sys::seL4_CNode_SaveCaller(ROOT_CNODE, slot, 64);
        send(
            rep,
            0x96,
            &[
                m0,
                r.is_ok() as Word,
                sys::seL4_DebugCapIdentify(slot) as Word,
            ],
        );
    }
}

#[cfg(not(feature = "mcs"))]
/// Suspending a client that waits for its reply deletes the reply cap, wherever it was saved
/// (`cancelIPC` of BlockedOnReply); Resume restarts the client's Call.
pub fn ipc_suspend_caller_drops_reply_cap(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let x = c.slot()?;
    c.spawn(saving_loop_server_main, 150, [rep, ep, x, 0])?;
    c.expect_idle(rep, "server blocked")?;
    let client = c.spawn(calling_client_main, 100, [rep, ep, 0x79, 0])?;
    let m = c.recv(rep)?;
    check_eq!(
        &m.mr[..3],
        &[0x79, 1, tag::REPLY as Word],
        "server: [MR0, SaveCaller ok, saved cap]"
    );
    c.expect_idle(rep, "client waiting for its reply")?;
    ok!(sys::seL4_TCB_Suspend(client.tcb), "suspend the client");
    check_eq!(
        ident(x),
        tag::NULL,
        "saved reply cap after the client's suspension"
    );
    c.expect_idle(rep, "suspended client")?;
    ok!(sys::seL4_TCB_Resume(client.tcb), "resume the client");
    let m = c.recv(rep)?;
    check_eq!(
        &m.mr[..3],
        &[0x79, 1, tag::REPLY as Word],
        "server gets the restarted Call"
    );
    root_send(x, 0x9a, &[6]);
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), &m.mr[..3]),
        (0x95, &[0x9a, 1, 6][..]),
        "client's reply"
    );
    Ok(())
}

extern "C" fn double_recv_server_main(rep: Word, ep: Word, _: Word, _: Word) -> ! {
    crate::thread::recv(ep);
    send(rep, 0x97, &[sys::seL4_GetMR(0)]);
    crate::thread::recv(ep);
    send(rep, 0x97, &[sys::seL4_GetMR(0)]);
    sys::seL4_SetMR(0, 0x56);
    crate::thread::reply(MessageInfo::new(0x55, 0, 0, 1));
    crate::thread::recv(ep);
    report_and_park(rep, 0x97, &[sys::seL4_GetMR(0)])
}

/// A server that receives again without replying drops its reply cap (non-MCS `handleRecv`
/// deletes the caller cap): its Reply goes to the newer caller, the older one waits for ever
/// until Resume restarts its Call.
pub fn ipc_recv_drops_unreplied_caller(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    c.spawn(double_recv_server_main, 150, [rep, ep, 0, 0])?;
    c.expect_idle(rep, "server blocked")?;
    let c1 = c.spawn(calling_client_main, 100, [rep, ep, 1, 0])?;
    let m = c.recv(rep)?;
    check_eq!((m.label(), m.mr[0]), (0x97, 1), "server got the first call");
    c.spawn(calling_client_main, 100, [rep, ep, 2, 0])?;
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0]),
        (0x97, 2),
        "server got the second call"
    );
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), &m.mr[..3]),
        (0x95, &[0x55, 1, 0x56][..]),
        "the reply went to the second client"
    );
    c.expect_idle(rep, "first client never answered")?;
    ok!(sys::seL4_TCB_Resume(c1.tcb), "resume the first client");
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0]),
        (0x97, 1),
        "the first client's Call restarted"
    );
    Ok(())
}

#[cfg(not(feature = "mcs"))]
/// Deleting a client that waits for its reply deletes the reply cap the server saved
/// (`finaliseCap` of the TCB suspends it: `cancelIPC`).
pub fn ipc_delete_caller_drops_reply_cap(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let x = c.slot()?;
    c.spawn(saving_loop_server_main, 150, [rep, ep, x, 0])?;
    c.expect_idle(rep, "server blocked")?;
    let client = c.spawn(calling_client_main, 100, [rep, ep, 0x7a, 0])?;
    let m = c.recv(rep)?;
    check_eq!(
        &m.mr[..3],
        &[0x7a, 1, tag::REPLY as Word],
        "server: [MR0, SaveCaller ok, saved cap]"
    );
    ok!(c.abs(client.tcb).delete(), "delete the client");
    check_eq!(
        ident(x),
        tag::NULL,
        "saved reply cap after the client's deletion"
    );
    root_send(x, 0x9b, &[7]);
    c.expect_idle(rep, "nothing after replying through the empty slot")?;
    Ok(())
}

/// A thread woken by a sender of the same priority does not preempt it: it goes to the end of
/// the ready queue (`schedule`: candidate of equal priority is appended).
pub fn ipc_wake_equal_priority(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    c.spawn(wake_logger_main, 100, [rep, ep, 5, 0xb4])?;
    c.expect_idle(rep, "receiver blocked")?;
    c.spawn(send_logger_main, 100, [rep, ep, 1, 0])?;
    let m = c.recv(rep)?;
    check_eq!(m.label(), 0xb1, "first report: the sender");
    let m = c.recv(rep)?;
    check_eq!(m.label(), 0xb4, "second report: the woken receiver");
    check_eq!(
        (&log_snapshot().0[..3], log_snapshot().1),
        (&[1, 2, 5][..], 3),
        "sender before and after the send, then the receiver"
    );
    Ok(())
}

/// A thread's FPU state as the FPU tests see it: `f0..f31` (raw bits), then `fcsr`.
type FpRegs = [Word; 33];

/// The pattern a thread loads: `f<i>` = `base + i`, `fcsr` = `fcsr` (rounding mode and flags).
fn fp_pattern(base: Word, fcsr: Word) -> FpRegs {
    let mut p = [fcsr; 33];
    for (i, r) in p[..32].iter_mut().enumerate() {
        *r = base.wrapping_add(i as Word);
    }
    p
}

/// Makes the system call `sys` (`a0`, `a1` = `info`, MR0..MR3 = `mr`) with the FPU loaded from
/// `load` just before the `ecall`, and stores the FPU into `got` right after it; returns the
/// kernel's `a0` (badge) and `a1` (message info).
///
/// Load, `ecall` and read-back are one asm block, so the FPU state seen is exactly what the
/// kernel left. Loading in one function and checking in another does not test that: a function
/// whose asm clobbers a callee-saved register (`fs0..fs11`) saves and restores it around the
/// asm when it is not inlined (as in debug builds: such a loader left `fs0` as it found it),
/// and any call in between may change the caller-saved ones.
#[cfg(arch_riscv64)]
fn fp_ecall(
    sys: Syscall,
    a0: Word,
    info: MessageInfo,
    mr: [Word; 4],
    load: &FpRegs,
    got: &mut FpRegs,
) -> (Word, MessageInfo) {
    let (mut a0, mut a1) = (a0, info.0);
    let [mut a2, mut a3, mut a4, mut a5] = mr;
    // MCS: the Reply object of Recv/ReplyRecv (`replyRegister`, a6); unused otherwise.
    let a6: Word = if cfg!(feature = "mcs") {
        crate::thread::my_reply()
    } else {
        0
    };
    // SAFETY: `l` and `g` point to 33 live words each (`got` exclusively borrowed); the asm
    // reads `load`, writes `got`, the FP registers and fcsr (all declared), and `a0..a5` (the
    // syscall's results, declared). The kernel preserves every other register.
    unsafe {
        core::arch::asm!(
            "fld f0, 0({l})", "fld f1, 8({l})", "fld f2, 16({l})", "fld f3, 24({l})",
            "fld f4, 32({l})", "fld f5, 40({l})", "fld f6, 48({l})", "fld f7, 56({l})",
            "fld f8, 64({l})", "fld f9, 72({l})", "fld f10, 80({l})", "fld f11, 88({l})",
            "fld f12, 96({l})", "fld f13, 104({l})", "fld f14, 112({l})", "fld f15, 120({l})",
            "fld f16, 128({l})", "fld f17, 136({l})", "fld f18, 144({l})", "fld f19, 152({l})",
            "fld f20, 160({l})", "fld f21, 168({l})", "fld f22, 176({l})", "fld f23, 184({l})",
            "fld f24, 192({l})", "fld f25, 200({l})", "fld f26, 208({l})", "fld f27, 216({l})",
            "fld f28, 224({l})", "fld f29, 232({l})", "fld f30, 240({l})", "fld f31, 248({l})",
            "ld {t}, 256({l})", "fscsr {t}",
            "ecall",
            "fsd f0, 0({g})", "fsd f1, 8({g})", "fsd f2, 16({g})", "fsd f3, 24({g})",
            "fsd f4, 32({g})", "fsd f5, 40({g})", "fsd f6, 48({g})", "fsd f7, 56({g})",
            "fsd f8, 64({g})", "fsd f9, 72({g})", "fsd f10, 80({g})", "fsd f11, 88({g})",
            "fsd f12, 96({g})", "fsd f13, 104({g})", "fsd f14, 112({g})", "fsd f15, 120({g})",
            "fsd f16, 128({g})", "fsd f17, 136({g})", "fsd f18, 144({g})", "fsd f19, 152({g})",
            "fsd f20, 160({g})", "fsd f21, 168({g})", "fsd f22, 176({g})", "fsd f23, 184({g})",
            "fsd f24, 192({g})", "fsd f25, 200({g})", "fsd f26, 208({g})", "fsd f27, 216({g})",
            "fsd f28, 224({g})", "fsd f29, 232({g})", "fsd f30, 240({g})", "fsd f31, 248({g})",
            "frcsr {t}", "sd {t}, 256({g})",
            l = in(reg) load.as_ptr(),
            g = in(reg) got.as_mut_ptr(),
            t = out(reg) _,
            inout("a0") a0,
            inout("a1") a1,
            inout("a2") a2,
            inout("a3") a3,
            inout("a4") a4,
            inout("a5") a5,
            in("a6") a6,
            in("a7") sys as i64 as u64,
            out("f0") _, out("f1") _, out("f2") _, out("f3") _,
            out("f4") _, out("f5") _, out("f6") _, out("f7") _,
            out("f8") _, out("f9") _, out("f10") _, out("f11") _,
            out("f12") _, out("f13") _, out("f14") _, out("f15") _,
            out("f16") _, out("f17") _, out("f18") _, out("f19") _,
            out("f20") _, out("f21") _, out("f22") _, out("f23") _,
            out("f24") _, out("f25") _, out("f26") _, out("f27") _,
            out("f28") _, out("f29") _, out("f30") _, out("f31") _,
            options(nostack),
        );
    }
    let _ = (a2, a3, a4, a5);
    (a0, MessageInfo(a1))
}

/// The FPU's registers and fcsr now. Reads fcsr first: in a thread that has not used the FPU
/// yet, an access to fcsr is the FP instruction that traps and has the kernel load its state.
#[cfg(arch_riscv64)]
fn fp_read() -> FpRegs {
    let mut r = [0; 33];
    let p = r.as_mut_ptr();
    // SAFETY: `p` points to 33 live, exclusively borrowed words; the asm writes exactly those
    // and reads FP registers and fcsr only.
    unsafe {
        core::arch::asm!(
            "frcsr {t}", "sd {t}, 256({p})",
            "fsd f0, 0({p})", "fsd f1, 8({p})", "fsd f2, 16({p})", "fsd f3, 24({p})",
            "fsd f4, 32({p})", "fsd f5, 40({p})", "fsd f6, 48({p})", "fsd f7, 56({p})",
            "fsd f8, 64({p})", "fsd f9, 72({p})", "fsd f10, 80({p})", "fsd f11, 88({p})",
            "fsd f12, 96({p})", "fsd f13, 104({p})", "fsd f14, 112({p})", "fsd f15, 120({p})",
            "fsd f16, 128({p})", "fsd f17, 136({p})", "fsd f18, 144({p})", "fsd f19, 152({p})",
            "fsd f20, 160({p})", "fsd f21, 168({p})", "fsd f22, 176({p})", "fsd f23, 184({p})",
            "fsd f24, 192({p})", "fsd f25, 200({p})", "fsd f26, 208({p})", "fsd f27, 216({p})",
            "fsd f28, 224({p})", "fsd f29, 232({p})", "fsd f30, 240({p})", "fsd f31, 248({p})",
            p = in(reg) p,
            t = out(reg) _,
            options(nostack),
        );
    }
    r
}

/// [`fp_ecall`] on aarch64: d0..d31 (the low halves of v0..v31) and FPCR loaded from `load`
/// just before the `svc`, stored into `got` right after it; x0 (badge) and x1 (message info)
/// returned.
#[cfg(arch_aarch64)]
fn fp_ecall(
    sys: Syscall,
    x0: Word,
    info: MessageInfo,
    mr: [Word; 4],
    load: &FpRegs,
    got: &mut FpRegs,
) -> (Word, MessageInfo) {
    let (mut x0, mut x1) = (x0, info.0);
    let [mut x2, mut x3, mut x4, mut x5] = mr;
    // MCS: the Reply object of Recv/ReplyRecv (`replyRegister`, x6); unused otherwise.
    let x6: Word = if cfg!(feature = "mcs") {
        crate::thread::my_reply()
    } else {
        0
    };
    // SAFETY: `l` and `g` point to 33 live words each (`got` exclusively borrowed); the asm
    // reads `load`, writes `got`, the FP/SIMD registers and FPCR (all declared), and x0..x5
    // (the syscall's results, declared). The kernel preserves every other register.
    unsafe {
        core::arch::asm!(
            "ldp d0, d1, [{l}, #0]", "ldp d2, d3, [{l}, #16]", "ldp d4, d5, [{l}, #32]",
            "ldp d6, d7, [{l}, #48]", "ldp d8, d9, [{l}, #64]", "ldp d10, d11, [{l}, #80]",
            "ldp d12, d13, [{l}, #96]", "ldp d14, d15, [{l}, #112]", "ldp d16, d17, [{l}, #128]",
            "ldp d18, d19, [{l}, #144]", "ldp d20, d21, [{l}, #160]", "ldp d22, d23, [{l}, #176]",
            "ldp d24, d25, [{l}, #192]", "ldp d26, d27, [{l}, #208]", "ldp d28, d29, [{l}, #224]",
            "ldp d30, d31, [{l}, #240]",
            "ldr {t}, [{l}, #256]", "msr fpcr, {t}",
            "svc #0",
            "stp d0, d1, [{g}, #0]", "stp d2, d3, [{g}, #16]", "stp d4, d5, [{g}, #32]",
            "stp d6, d7, [{g}, #48]", "stp d8, d9, [{g}, #64]", "stp d10, d11, [{g}, #80]",
            "stp d12, d13, [{g}, #96]", "stp d14, d15, [{g}, #112]", "stp d16, d17, [{g}, #128]",
            "stp d18, d19, [{g}, #144]", "stp d20, d21, [{g}, #160]", "stp d22, d23, [{g}, #176]",
            "stp d24, d25, [{g}, #192]", "stp d26, d27, [{g}, #208]", "stp d28, d29, [{g}, #224]",
            "stp d30, d31, [{g}, #240]",
            "mrs {t}, fpcr", "str {t}, [{g}, #256]",
            l = in(reg) load.as_ptr(),
            g = in(reg) got.as_mut_ptr(),
            t = out(reg) _,
            inout("x0") x0,
            inout("x1") x1,
            inout("x2") x2,
            inout("x3") x3,
            inout("x4") x4,
            inout("x5") x5,
            in("x6") x6,
            in("x7") sys as i64 as u64,
            out("v0") _, out("v1") _, out("v2") _, out("v3") _,
            out("v4") _, out("v5") _, out("v6") _, out("v7") _,
            out("v8") _, out("v9") _, out("v10") _, out("v11") _,
            out("v12") _, out("v13") _, out("v14") _, out("v15") _,
            out("v16") _, out("v17") _, out("v18") _, out("v19") _,
            out("v20") _, out("v21") _, out("v22") _, out("v23") _,
            out("v24") _, out("v25") _, out("v26") _, out("v27") _,
            out("v28") _, out("v29") _, out("v30") _, out("v31") _,
            options(nostack),
        );
    }
    let _ = (x2, x3, x4, x5);
    (x0, MessageInfo(x1))
}

/// [`fp_read`] on aarch64: FPCR first (in a thread that has not used the FPU yet, that access
/// is the FP instruction that traps and has the kernel load its state), then d0..d31.
#[cfg(arch_aarch64)]
fn fp_read() -> FpRegs {
    let mut r = [0; 33];
    let p = r.as_mut_ptr();
    // SAFETY: `p` points to 33 live, exclusively borrowed words; the asm writes exactly those
    // and reads FP registers and FPCR only.
    unsafe {
        core::arch::asm!(
            "mrs {t}, fpcr", "str {t}, [{p}, #256]",
            "stp d0, d1, [{p}, #0]", "stp d2, d3, [{p}, #16]", "stp d4, d5, [{p}, #32]",
            "stp d6, d7, [{p}, #48]", "stp d8, d9, [{p}, #64]", "stp d10, d11, [{p}, #80]",
            "stp d12, d13, [{p}, #96]", "stp d14, d15, [{p}, #112]", "stp d16, d17, [{p}, #128]",
            "stp d18, d19, [{p}, #144]", "stp d20, d21, [{p}, #160]", "stp d22, d23, [{p}, #176]",
            "stp d24, d25, [{p}, #192]", "stp d26, d27, [{p}, #208]", "stp d28, d29, [{p}, #224]",
            "stp d30, d31, [{p}, #240]",
            p = in(reg) p,
            t = out(reg) _,
            options(nostack),
        );
    }
    r
}

const FP_ROUNDS: Word = 50;

/// Server of [`ipc_fpu_state_per_thread`]: waits and answers each call with its FPU pattern
/// loaded, and labels each answer 1 if the pattern was still there when the call came (0 if
/// not).
extern "C" fn fpu_server_main(_rep: Word, ep: Word, _: Word, _: Word) -> ! {
    let want = fp_pattern(0x5e5e_0000_0000_0000, crate::arch::FP_CTL[0]);
    let mut got = [0; 33];
    let none = MessageInfo::new(0, 0, 0, 0);
    fp_ecall(Syscall::Recv, ep, none, [0; 4], &want, &mut got);
    loop {
        let ok = MessageInfo::new((got == want) as Word, 0, 0, 0);
        fp_ecall(Syscall::ReplyRecv, ep, ok, [0; 4], &want, &mut got);
    }
}

/// Client of [`ipc_fpu_state_per_thread`]: calls the server `FP_ROUNDS` times (0 or 2 words)
/// with its own FPU pattern loaded, and reports how many replies said the server's state was
/// intact and after how many calls its own was.
extern "C" fn fpu_client_main(rep: Word, ep: Word, _: Word, _: Word) -> ! {
    let want = fp_pattern(0xc1c1_0000_0000_0000, crate::arch::FP_CTL[1]);
    let mut got = [0; 33];
    let (mut server_ok, mut client_ok) = (0, 0);
    for i in 0..FP_ROUNDS {
        let info = MessageInfo::new(0, 0, 0, (i % 2) * 2);
        let (_, r) = fp_ecall(Syscall::Call, ep, info, [i, !i, 0, 0], &want, &mut got);
        server_ok += r.label();
        client_ok += (got == want) as Word;
    }
    report_and_park(rep, 0xf1, &[server_ok, client_ok])
}

/// A new thread's FPU state reads as zero: reports how many of `f0..f31` are not zero, their
/// bits or-ed together, and `fcsr`.
extern "C" fn fpu_fresh_main(rep: Word, _: Word, _: Word, _: Word) -> ! {
    let r = fp_read();
    let f = &r[..32];
    let nonzero = f.iter().filter(|x| **x != 0).count() as Word;
    report_and_park(rep, 0xf2, &[nonzero, f.iter().fold(0, |a, x| a | x), r[32]])
}

/// Each thread keeps its own FPU registers (`f0..f31`) and `fcsr` across IPC between threads of
/// the same priority that both use the FPU (Call and ReplyRecv, taken by the fastpath where it
/// is built in): each side loads its pattern before its system call and finds it again after,
/// while the other side ran with its own pattern in between. A thread created afterwards starts
/// with a zero FPU state (seL4 switches the FPU with the thread; this kernel loads a thread's
/// state at its first FP instruction).
pub fn ipc_fpu_state_per_thread(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    c.spawn(fpu_server_main, 100, [rep, ep, 0, 0])?;
    c.expect_idle(rep, "server blocked in Recv")?;
    c.spawn(fpu_client_main, 100, [rep, ep, 0, 0])?;
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0], m.mr[1]),
        (0xf1, FP_ROUNDS, FP_ROUNDS),
        "(report, calls finding the server's FPU state intact, returns finding the client's)"
    );
    c.spawn(fpu_fresh_main, 100, [rep, 0, 0, 0])?;
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), &m.mr[..3]),
        (0xf2, &[0; 3][..]),
        "a new thread's FPU: (registers not zero, their bits or-ed, fcsr)"
    );
    Ok(())
}
