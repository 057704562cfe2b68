//! MCS (seL4's `CONFIG_KERNEL_MCS`, feature `mcs`): the initial scheduling context and the
//! SchedControl cap, `SchedControl_ConfigureFlags` (`src/object/schedcontrol.c`), the
//! SchedContext invocations (`src/object/schedcontext.c`), the MCS TCB invocations
//! (`src/object/tcb.c`), passive servers and Reply objects (`src/object/endpoint.c`,
//! `src/object/reply.c`), the MCS syscalls (`src/api/syscall.c`), timeout faults
//! (`src/kernel/thread.c`, `src/kernel/faulthandler.c`) and budget enforcement
//! (`src/kernel/sporadic.c`). Errors are checked with their detail words, in seL4's order.

use abi::{slot, CPtr, CapRights, MessageInfo, ObjectType as T, Word};
use libsel4::cap_tag as tag;
use libsel4::invocation::encode;
use libsel4::sys;
use libsel4::ErrorDetail as D;

use crate::framework::{ident, Ctx, TestResult};
use crate::thread::{bump, park, reply_recv, report_and_park, set_shared, shared};
use crate::{check, check_eq, expect_err, ok};

const ROOT_TCB: CPtr = slot::INIT_THREAD_TCB;
const ROOT_CNODE: CPtr = slot::INIT_THREAD_CNODE;
const VSPACE: CPtr = slot::INIT_THREAD_VSPACE;
const ROOT_SC: CPtr = slot::INIT_THREAD_SC;

/// `MIN_BUDGET_US`: 2 x `KERNEL_WCET` (10 µs) x `KERNEL_WCET_SCALE` (1) (`include/kernel/sporadic.h`).
const MIN_BUDGET_US: Word = 20;
/// `MAX_PERIOD_US`: `getMaxUsToTicks() / 8` (`include/kernel/sporadic.h`; the timer's
/// frequency is the architecture's, see [`crate::arch::MAX_US_TO_TICKS`]).
const MAX_PERIOD_US: Word = crate::arch::MAX_US_TO_TICKS / 8;

fn sched_control(c: &Ctx) -> CPtr {
    c.bi.schedcontrol.start
}

/// The boot state (`create_initial_thread`, `init_sched_control` in `src/kernel/boot.c`): one
/// SchedControl cap per node in `BootInfo.schedcontrol`, the root thread's SC in slot 14
/// (`seL4_CapInitThreadSC`), which `Consumed` reads (and resets).
pub fn mcs_initial_caps(c: &mut Ctx) -> TestResult {
    let r = c.bi.schedcontrol;
    check_eq!(
        r.end - r.start,
        c.bi.num_nodes,
        "schedcontrol slots, one per node"
    );
    check_eq!(ident(r.start), tag::SCHED_CONTROL, "SchedControl cap");
    check_eq!(ident(ROOT_SC), tag::SCHED_CONTEXT, "seL4_CapInitThreadSC");
    let a = ok!(
        sys::seL4_SchedContext_Consumed(ROOT_SC),
        "Consumed of the root SC"
    );
    // Spin a while, then yield: `handleYield` charges the time used so far to the SC's
    // consumed count (time not yet committed is not counted by `Consumed`), so at least the
    // spin shows in the next read.
    crate::arch::spin_us(100);
    sys::seL4_Yield();
    let b = ok!(sys::seL4_SchedContext_Consumed(ROOT_SC), "second Consumed");
    check!(
        b >= 100,
        "consumed after spinning 100 us: {b} us (first read {a})"
    );
    check!(
        b < 5_000,
        "consumed after spinning 100 us: {b} us, more than the root budget"
    );
    Ok(())
}

/// `decodeSchedControl_ConfigureFlags`: the SC cap is checked present first, then the length
/// (5 words), then budget and period against `MAX_PERIOD_US`, each against `MIN_BUDGET`, budget
/// <= period (RangeError with the period as max), then the cap type (InvalidCapability 1),
/// then the extra refills against what the SC's size holds (`refill_absolute_max` - 2).
pub fn mcs_configure_flags_errors(c: &mut Ctx) -> TestResult {
    let ctl = sched_control(c);
    let sc = c.new_object(T::SchedContext, abi::object::MIN_SCHED_CONTEXT_BITS)?;
    let big = c.new_object(T::SchedContext, 8)?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let cfg = |sc: CPtr, budget: Word, period: Word, extra: Word| {
        encode::sched_control_configure_flags(sc, budget, period, extra, 0, 0)
    };
    let range = |max| D::RangeError {
        min: MIN_BUDGET_US,
        max,
    };
    expect_err!(
        cfg(sc, 1000, 1000, 0).with_caps_truncated(0).call(ctl),
        D::TruncatedMessage,
        "ConfigureFlags without the SC"
    );
    expect_err!(
        cfg(sc, 1000, 1000, 0).truncated(4).call(ctl),
        D::TruncatedMessage,
        "ConfigureFlags with 4 words"
    );
    expect_err!(
        cfg(sc, MAX_PERIOD_US + 1, 1000, 0).call(ctl),
        range(MAX_PERIOD_US),
        "budget past MAX_PERIOD_US"
    );
    expect_err!(
        cfg(sc, 1000, MAX_PERIOD_US + 1, 0).call(ctl),
        range(MAX_PERIOD_US),
        "period past MAX_PERIOD_US"
    );
    expect_err!(
        cfg(sc, MIN_BUDGET_US - 1, 1000, 0).call(ctl),
        range(MAX_PERIOD_US),
        "budget below MIN_BUDGET"
    );
    expect_err!(
        cfg(sc, MIN_BUDGET_US, MIN_BUDGET_US - 1, 0).call(ctl),
        range(MAX_PERIOD_US),
        "period below MIN_BUDGET"
    );
    expect_err!(
        cfg(sc, 2000, 1000, 0).call(ctl),
        range(1000),
        "budget above period"
    );
    expect_err!(
        cfg(ep, 1000, 1000, 0).call(ctl),
        D::InvalidCapability { index: 1 },
        "an endpoint instead of an SC"
    );
    // 2^7 bytes: 96-byte header + 2 refills, no extra refill (seL4_MaxExtraRefills(7) = 2 - 2).
    expect_err!(
        cfg(sc, 1000, 1000, 1).call(ctl),
        D::RangeError { min: 0, max: 0 },
        "1 extra refill in a minimum SC"
    );
    let max = (256 - 96) / 16 - 2;
    expect_err!(
        cfg(big, 1000, 10_000, max + 1).call(ctl),
        D::RangeError { min: 0, max },
        "too many extra refills in a 2^8 SC"
    );
    ok!(
        sys::seL4_SchedControl_ConfigureFlags(ctl, big, 1000, 10_000, max, 0, 1),
        "sporadic SC with every extra refill"
    );
    ok!(
        sys::seL4_SchedControl_Configure(ctl, sc, MIN_BUDGET_US, MIN_BUDGET_US, 0, 0),
        "the minimum budget, round robin"
    );
    expect_err!(
        encode::sched_control_configure_flags(sc, 1000, 1000, 0, 0, 0).call(sc),
        D::IllegalOperation,
        "ConfigureFlags invoked on an SC (label not a SchedContext method)"
    );
    Ok(())
}

/// `decodeSchedContext_Bind`: a cap is needed (TruncatedMessage), a TCB or notification
/// (InvalidCapability 1); IllegalOperation if the SC has a TCB, the TCB has an SC, the SC has
/// a notification or the notification has an SC. `decodeSchedContext_UnbindObject`: the object
/// must be the one bound, and not the caller; `Unbind` of the caller's own SC is illegal.
pub fn mcs_bind_unbind_errors(c: &mut Ctx) -> TestResult {
    let sc = c.sched_context(1000, 1000, 0)?;
    let sc2 = c.sched_context(1000, 1000, 0)?;
    let tcb = c.new_object(T::Tcb, 0)?;
    let tcb2 = c.new_object(T::Tcb, 0)?;
    let ntfn = c.new_object(T::Notification, 0)?;
    let ep = c.new_object(T::Endpoint, 0)?;
    expect_err!(
        encode::sched_context_bind(tcb)
            .with_caps_truncated(0)
            .call(sc),
        D::TruncatedMessage,
        "Bind without a cap"
    );
    expect_err!(
        sys::seL4_SchedContext_Bind(sc, ep),
        D::InvalidCapability { index: 1 },
        "Bind of an endpoint"
    );
    ok!(sys::seL4_SchedContext_Bind(sc, tcb), "Bind of a TCB");
    expect_err!(
        sys::seL4_SchedContext_Bind(sc, tcb2),
        D::IllegalOperation,
        "Bind of a second TCB to a bound SC"
    );
    expect_err!(
        sys::seL4_SchedContext_Bind(sc2, tcb),
        D::IllegalOperation,
        "Bind of a TCB that has an SC"
    );
    expect_err!(
        sys::seL4_SchedContext_Bind(sc2, ROOT_TCB),
        D::IllegalOperation,
        "Bind of the root thread (it has the initial SC)"
    );
    ok!(
        sys::seL4_SchedContext_Bind(sc, ntfn),
        "Bind of a notification"
    );
    expect_err!(
        sys::seL4_SchedContext_Bind(sc, ntfn),
        D::IllegalOperation,
        "Bind of a notification to an SC that has one"
    );
    expect_err!(
        sys::seL4_SchedContext_Bind(sc2, ntfn),
        D::IllegalOperation,
        "Bind of a notification that has an SC"
    );
    // UnbindObject
    expect_err!(
        encode::sched_context_unbind_object(tcb)
            .with_caps_truncated(0)
            .call(sc),
        D::TruncatedMessage,
        "UnbindObject without a cap"
    );
    expect_err!(
        sys::seL4_SchedContext_UnbindObject(sc, ep),
        D::InvalidCapability { index: 1 },
        "UnbindObject of an endpoint"
    );
    expect_err!(
        sys::seL4_SchedContext_UnbindObject(sc, tcb2),
        D::IllegalOperation,
        "UnbindObject of a TCB not bound to it"
    );
    expect_err!(
        sys::seL4_SchedContext_UnbindObject(sc2, ntfn),
        D::IllegalOperation,
        "UnbindObject of a notification not bound to it"
    );
    expect_err!(
        sys::seL4_SchedContext_UnbindObject(ROOT_SC, ROOT_TCB),
        D::IllegalOperation,
        "UnbindObject of the caller from its own SC"
    );
    expect_err!(
        sys::seL4_SchedContext_Unbind(ROOT_SC),
        D::IllegalOperation,
        "Unbind of the caller's own SC"
    );
    ok!(
        sys::seL4_SchedContext_UnbindObject(sc, tcb),
        "UnbindObject of its TCB"
    );
    ok!(
        sys::seL4_SchedContext_UnbindObject(sc, ntfn),
        "UnbindObject of its notification"
    );
    ok!(
        sys::seL4_SchedContext_Bind(sc2, tcb),
        "the TCB is free again"
    );
    ok!(sys::seL4_SchedContext_Unbind(sc2), "Unbind");
    ok!(
        sys::seL4_SchedContext_Unbind(sc2),
        "Unbind of an unbound SC"
    );
    // (On an endpoint any label is a message: a CNode refuses it.)
    expect_err!(
        encode::sched_context_unbind().call(ROOT_CNODE),
        D::IllegalOperation,
        "SchedContext label on a CNode"
    );
    Ok(())
}

/// `decodeSchedContext_YieldTo`: IllegalOperation without a bound TCB and for the caller's own
/// SC; `Consumed` has no decode: an unconfigured SC reports 0 µs (label 0, 1 word).
pub fn mcs_consumed_yield_to_errors(c: &mut Ctx) -> TestResult {
    let fresh = c.new_object(T::SchedContext, abi::object::MIN_SCHED_CONTEXT_BITS)?;
    let info = ok!(
        encode::sched_context_consumed().call(fresh),
        "Consumed of a fresh SC"
    );
    check_eq!(
        (info.label(), info.length(), sys::seL4_GetMR(0)),
        (0, 1, 0),
        "Consumed reply of a fresh SC"
    );
    expect_err!(
        sys::seL4_SchedContext_YieldTo(fresh),
        D::IllegalOperation,
        "YieldTo an SC without a TCB"
    );
    expect_err!(
        sys::seL4_SchedContext_YieldTo(ROOT_SC),
        D::IllegalOperation,
        "YieldTo the caller's own SC"
    );
    Ok(())
}

extern "C" fn counter_main(_: Word, _: Word, _: Word, _: Word) -> ! {
    bump(0);
    park()
}

/// `invokeSchedContext_YieldTo`: a thread of the caller's priority bound to the SC runs before
/// the caller continues (the caller is queued behind it); one of lower priority is only made
/// ready (`return_now`), so the caller continues at once.
pub fn mcs_yield_to(c: &mut Ctx) -> TestResult {
    let low = c.thread(counter_main, 100, [0; 4])?;
    low.start()?;
    ok!(
        sys::seL4_SchedContext_YieldTo(low.sc()),
        "YieldTo a lower thread"
    );
    check_eq!(shared(0), 0, "a priority-100 thread ran during YieldTo");
    let same = c.thread(counter_main, 255, [0; 4])?;
    same.start()?;
    // Started at the root's priority it is queued behind the root; YieldTo runs it now.
    ok!(sys::seL4_SchedContext_YieldTo(same.sc()), "YieldTo a peer");
    check_eq!(shared(0), 1, "the peer ran before YieldTo returned");
    Ok(())
}

/// The MCS shapes of the TCB invocations (`decodeTCBConfigure`, `decodeSetSchedParams`,
/// `decodeSetTimeoutEndpoint`, `validFaultHandler`): SetSchedParams needs 2 words and 3 caps;
/// authority a TCB (1), MCP and priority within its MCP (RangeError 0..MCP), the SC an SC or
/// null (InvalidCapability 2), not bound elsewhere (IllegalOperation), the fault handler null or
/// an endpoint with Send and Grant or GrantReply (InvalidCapability 3); SetTimeoutEndpoint the
/// same check for its one cap.
pub fn mcs_tcb_invocations(c: &mut Ctx) -> TestResult {
    let tcb = c.new_object(T::Tcb, 0)?;
    let sc = c.sched_context(1000, 1000, 0)?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let send_only = c.mint(ep, CapRights::WRITE, 0)?;
    let grant_reply = c.mint(ep, CapRights::new(true, false, false, true), 0)?;
    let ntfn = c.new_object(T::Notification, 0)?;
    let ssp = |auth: CPtr, mcp: Word, prio: Word, sc: CPtr, fh: CPtr| {
        sys::seL4_TCB_SetSchedParams(tcb, auth, mcp, prio, sc, fh)
    };
    expect_err!(
        encode::tcb_set_sched_params(ROOT_TCB, 0, 0, sc, 0)
            .with_caps_truncated(2)
            .call(tcb),
        D::TruncatedMessage,
        "SetSchedParams with 2 caps"
    );
    expect_err!(
        encode::tcb_set_sched_params(ROOT_TCB, 0, 0, sc, 0)
            .truncated(1)
            .call(tcb),
        D::TruncatedMessage,
        "SetSchedParams with 1 word"
    );
    expect_err!(
        ssp(ep, 0, 0, sc, 0),
        D::InvalidCapability { index: 1 },
        "endpoint as authority"
    );
    expect_err!(
        ssp(ROOT_TCB, 256, 0, sc, 0),
        D::RangeError { min: 0, max: 255 },
        "MCP 256"
    );
    expect_err!(
        ssp(ROOT_TCB, 0, 256, sc, 0),
        D::RangeError { min: 0, max: 255 },
        "priority 256"
    );
    expect_err!(
        ssp(ROOT_TCB, 0, 10, ep, 0),
        D::InvalidCapability { index: 2 },
        "an endpoint as SC"
    );
    expect_err!(
        ssp(ROOT_TCB, 0, 10, ROOT_SC, 0),
        D::IllegalOperation,
        "the root thread's SC"
    );
    expect_err!(
        ssp(ROOT_TCB, 0, 10, sc, ntfn),
        D::InvalidCapability { index: 3 },
        "a notification as fault handler"
    );
    expect_err!(
        ssp(ROOT_TCB, 0, 10, sc, send_only),
        D::InvalidCapability { index: 3 },
        "a fault endpoint without Grant or GrantReply"
    );
    ok!(ssp(ROOT_TCB, 0, 10, sc, grant_reply), "SetSchedParams");
    ok!(ssp(ROOT_TCB, 0, 10, sc, 0), "the same SC again");
    expect_err!(
        sys::seL4_TCB_SetSchedParams(ROOT_TCB, ROOT_TCB, 255, 255, 0, 0),
        D::IllegalOperation,
        "taking the caller's own SC away"
    );
    // SetTimeoutEndpoint
    expect_err!(
        encode::tcb_set_timeout_endpoint(ep)
            .with_caps_truncated(0)
            .call(tcb),
        D::TruncatedMessage,
        "SetTimeoutEndpoint without a cap"
    );
    expect_err!(
        sys::seL4_TCB_SetTimeoutEndpoint(tcb, ntfn),
        D::InvalidCapability { index: 1 },
        "a notification as timeout endpoint"
    );
    expect_err!(
        sys::seL4_TCB_SetTimeoutEndpoint(tcb, send_only),
        D::InvalidCapability { index: 1 },
        "a timeout endpoint without Grant"
    );
    ok!(
        sys::seL4_TCB_SetTimeoutEndpoint(tcb, ep),
        "SetTimeoutEndpoint"
    );
    ok!(
        sys::seL4_TCB_SetTimeoutEndpoint(tcb, 0),
        "no timeout endpoint"
    );
    // Configure: 3 words, 3 caps.
    let page = crate::thread::spare_page(0);
    let frame = c.image_frame(page)?;
    let cfg = encode::tcb_configure(ROOT_CNODE, 0, VSPACE, 0, page, frame);
    expect_err!(
        cfg.truncated(2).call(tcb),
        D::TruncatedMessage,
        "Configure with 2 words"
    );
    expect_err!(
        cfg.with_caps_truncated(2).call(tcb),
        D::TruncatedMessage,
        "Configure with 2 caps"
    );
    ok!(cfg.call(tcb), "Configure (MCS shape)");
    // SetSpace: fault endpoint cap first.
    expect_err!(
        sys::seL4_TCB_SetSpace(tcb, ntfn, ROOT_CNODE, 0, VSPACE, 0),
        D::InvalidCapability { index: 1 },
        "SetSpace with a notification as fault endpoint"
    );
    ok!(
        sys::seL4_TCB_SetSpace(tcb, ep, ROOT_CNODE, 0, VSPACE, 0),
        "SetSpace (MCS shape)"
    );
    Ok(())
}

extern "C" fn passive_server_main(rep: Word, ep: Word, _: Word, _: Word) -> ! {
    // Tell the root task it is ready and wait on ep, in one step.
    let reply = crate::thread::my_reply();
    let (_, _) = sys::seL4_NBSendRecv(rep, MessageInfo::new(0x51, 0, 0, 0), ep, reply);
    loop {
        let x = sys::seL4_GetMR(0);
        bump(1);
        sys::seL4_SetMR(0, x + 1);
        reply_recv(ep, MessageInfo::new(0, 0, 0, 1));
    }
}

extern "C" fn caller_main(rep: Word, ep: Word, x: Word, _: Word) -> ! {
    sys::seL4_SetMR(0, x);
    let r = sys::seL4_Call(ep, MessageInfo::new(0x1, 0, 0, 1));
    let got = sys::seL4_GetMR(0);
    report_and_park(rep, 0x52, &[r.label(), got])
}

/// A passive server (`src/object/endpoint.c`: `sendIPC` donates the caller's SC to a receiver
/// without one; `doReplyTransfer` returns it): after `NBSendRecv` reports it ready and blocks,
/// its SC is unbound; it has no SC of its own (YieldTo: IllegalOperation), yet each Call is
/// served on the caller's SC and the reply returns it, so the caller runs on.
pub fn mcs_passive_server(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let server = c.spawn(passive_server_main, 200, [rep, ep, 0, 0])?;
    let m = c.recv(rep)?;
    check_eq!(m.label(), 0x51, "server ready (NBSendRecv's send)");
    ok!(
        sys::seL4_SchedContext_UnbindObject(server.sc(), server.tcb),
        "unbind the server's SC"
    );
    expect_err!(
        sys::seL4_SchedContext_YieldTo(server.sc()),
        D::IllegalOperation,
        "YieldTo the server's former SC (no TCB)"
    );
    let client = c.thread(caller_main, 100, [rep, ep, 41, 0])?;
    let before = ok!(
        sys::seL4_SchedContext_Consumed(client.sc()),
        "client SC before"
    );
    client.start()?;
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0], m.mr[1]),
        (0x52, 0, 42),
        "client: reply label and value from the passive server"
    );
    check_eq!(shared(1), 1, "server served once");
    let after = ok!(
        sys::seL4_SchedContext_Consumed(client.sc()),
        "client SC after"
    );
    check!(
        after > 0,
        "the client's SC consumed nothing ({before} then {after} us)"
    );
    // Nothing else runs the server: every thread is blocked.
    c.expect_idle(rep, "passive server without a caller")?;
    check_eq!(shared(1), 1, "server did not run without a caller");
    Ok(())
}

/// Reply objects (`src/object/reply.c`, `receiveIPC` with a Reply cap): the root thread receives
/// a Call with its Reply object and answers by `seL4_Send` on it; a second send on the used
/// Reply object reaches nobody. A Recv on an endpoint with a non-Reply cap in `a6` is a cap
/// fault (`lookupReply`: receive phase, missing capability).
pub fn mcs_reply_object(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let reply = c.root_reply()?;
    check_eq!(ident(reply), tag::REPLY, "Reply object cap");
    let client = c.thread(caller_main, 100, [rep, ep, 7, 0])?;
    client.start()?;
    let m = c.recv(ep)?;
    check_eq!((m.label(), m.mr[0]), (0x1, 7), "the Call");
    sys::seL4_SetMR(0, 70);
    sys::seL4_Send(reply, MessageInfo::new(0x3, 0, 0, 1));
    // The used Reply object holds no caller now.
    sys::seL4_Send(reply, MessageInfo::new(0x4, 0, 0, 1));
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0], m.mr[1]),
        (0x52, 0x3, 70),
        "client got the reply sent on the Reply object"
    );
    let fault = c.fault_ep()?;
    let bad = c.thread_with_fault_ep(bad_reply_main, 100, [ep, 0, 0, 0], fault)?;
    bad.start()?;
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.badge),
        (abi::fault::CAP_FAULT, crate::thread::FAULT_BADGE),
        "fault of a Recv with an endpoint as Reply cap"
    );
    check_eq!(
        (m.mr[1], m.mr[2], m.mr[3], m.mr[4]),
        (ep, 1, 2, 0),
        "cap fault: address (a6), receive phase, seL4_MissingCapability, 0 bits left"
    );
    Ok(())
}

extern "C" fn bad_reply_main(ep: Word, _: Word, _: Word, _: Word) -> ! {
    sys::seL4_Recv(ep, ep);
    park()
}

extern "C" fn send_wait_main(rep: Word, n: Word, _: Word, _: Word) -> ! {
    sys::seL4_SetMR(0, 0x99);
    let (_, badge) = sys::seL4_NBSendWait(rep, MessageInfo::new(0x61, 0, 0, 1), n);
    report_and_park(rep, 0x62, &[badge])
}

extern "C" fn endpoint_waiter_main(rep: Word, ep: Word, _: Word, _: Word) -> ! {
    let (info, badge) = sys::seL4_Wait(ep);
    let mr0 = sys::seL4_GetMR(0);
    report_and_park(rep, 0x63, &[info.label(), badge, mr0])
}

/// `seL4_NBSendWait` sends without blocking (to the root task, waiting) and then waits on a
/// notification without a Reply cap; `seL4_NBWait` polls (badge 0 when nothing is pending);
/// `seL4_Wait` receives a Send on an endpoint without a Reply cap (`handleRecv(true, false)`).
pub fn mcs_nb_send_wait_and_wait(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let n = c.new_object(T::Notification, 0)?;
    let n4 = c.mint(n, CapRights::WRITE, 0x4)?;
    let (_, b) = sys::seL4_NBWait(n);
    check_eq!(b, 0, "NBWait with nothing pending");
    sys::seL4_Signal(n4);
    let (_, b) = sys::seL4_NBWait(n);
    check_eq!(b, 0x4, "NBWait after a signal");
    let _t = c.spawn(send_wait_main, 100, [rep, n, 0, 0])?;
    let m = c.recv(rep)?;
    check_eq!((m.label(), m.mr[0]), (0x61, 0x99), "NBSendWait's message");
    sys::seL4_Signal(n4);
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0]),
        (0x62, 0x4),
        "NBSendWait's wait got the signal"
    );
    let ep = c.new_object(T::Endpoint, 0)?;
    let ep5 = c.mint(ep, CapRights::ALL, 0x5)?;
    let _w = c.spawn(endpoint_waiter_main, 254, [rep, ep, 0, 0])?;
    // NBSend reaches a waiter only if it already waits: the waiter (254) ran when we blocked.
    c.expect_idle(rep, "waiter blocked in seL4_Wait")?;
    sys::seL4_SetMR(0, 0x77);
    sys::seL4_NBSend(ep5, MessageInfo::new(0x64, 0, 0, 1));
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0], m.mr[1], m.mr[2]),
        (0x63, 0x64, 0x5, 0x77),
        "seL4_Wait on an endpoint: label, badge, MR0"
    );
    Ok(())
}

extern "C" fn spin_main(_: Word, _: Word, _: Word, _: Word) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

/// Timeout faults (`endTimeslice`/`handleTimeout` in `src/kernel/thread.c`,
/// `seL4_Fault_Timeout` in `src/kernel/faulthandler.c`): a thread whose SC is not round robin
/// (budget 1 ms < period 10 ms) and that has a timeout endpoint gets a Timeout fault when it
/// has used its budget: label 5, 2 words, the SC's badge (from ConfigureFlags) and the time
/// consumed (µs), through the timeout endpoint's badge.
pub fn mcs_timeout_fault(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let tep = c.mint(rep, CapRights::ALL, 0x7e)?;
    let t = c.thread(spin_main, 100, [0; 4])?;
    ok!(
        sys::seL4_SchedControl_Configure(sched_control(c), t.sc(), 1000, 10_000, 0, 0x5c),
        "budget 1 ms, period 10 ms, badge 0x5c"
    );
    ok!(
        sys::seL4_TCB_SetTimeoutEndpoint(t.tcb, tep),
        "SetTimeoutEndpoint"
    );
    t.start()?;
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.len(), m.badge),
        (abi::fault::TIMEOUT, 2, 0x7e),
        "timeout fault: label, length, badge"
    );
    check_eq!(m.mr[0], 0x5c, "timeout fault: the SC's badge");
    check!(
        (500..=2000).contains(&m.mr[1]),
        "timeout fault: consumed {} us for a 1000 us budget",
        m.mr[1]
    );
    ok!(sys::seL4_TCB_Suspend(t.tcb), "Suspend the spinner");
    Ok(())
}

extern "C" fn share_main(rep: Word, spinner_sc: Word, own_sc: Word, window_us: Word) -> ! {
    // Spin, adding up the time this thread and the spinner are charged (`Consumed` gives the
    // µs consumed since the last call and resets), until they are `window_us` together.
    let consumed = |sc| sys::seL4_SchedContext_Consumed(sc).unwrap_or(u64::MAX / 4);
    consumed(own_sc);
    consumed(spinner_sc);
    let (mut mine, mut spinner) = (0, 0);
    while mine + spinner < window_us {
        for i in 0..1000 {
            core::hint::black_box(i);
        }
        mine += consumed(own_sc);
        spinner += consumed(spinner_sc);
    }
    report_and_park(rep, 0x71, &[spinner, mine])
}

/// Budget enforcement (`src/kernel/sporadic.c`: `refill_budget_check`, the release queue): a
/// spinning thread with budget 2 ms per 10 ms period runs about a fifth of the time. A second
/// spinner of lower priority with a full budget (10 ms per 10 ms) takes the rest and keeps
/// count of both threads' time with `SchedContext_Consumed` (the kernel's own accounting: no
/// clock needed at user level, which aarch64's EL0 may not read) until 100 ms have passed.
pub fn mcs_budget_enforced(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let a = c.thread(spin_main, 101, [0; 4])?;
    ok!(
        sys::seL4_SchedControl_Configure(sched_control(c), a.sc(), 2000, 10_000, 0, 0),
        "budget 2 ms, period 10 ms"
    );
    let b = c.thread(share_main, 100, [0; 4])?;
    ok!(
        sys::seL4_SchedControl_Configure(sched_control(c), b.sc(), 10_000, 10_000, 0, 0),
        "full budget, 10 ms"
    );
    // Its own SC's CPtr is known only now.
    let regs = crate::thread::initial_regs(share_main, b.idx, [rep, a.sc(), b.sc(), 100_000]);
    ok!(
        sys::seL4_TCB_WriteRegisters(b.tcb, false, 0, crate::arch::WORDS as Word, &regs),
        "the counter's arguments"
    );
    a.start()?;
    b.start()?;
    let m = c.recv(rep)?;
    check_eq!(m.label(), 0x71, "report of the counter");
    ok!(sys::seL4_TCB_Suspend(a.tcb), "Suspend the spinner");
    let (ran, other) = (m.mr[0], m.mr[1]);
    let total = ran + other;
    let share = ran * 100 / total.max(1);
    check!(
        (15..=25).contains(&share),
        "the 2 ms / 10 ms spinner ran {ran} of {total} us ({share} %), expected about 20 %"
    );
    Ok(())
}

/// `seL4_DebugDumpScheduler` with threads that have SCs (and one passive) does not crash.
pub fn mcs_dump_scheduler(c: &mut Ctx) -> TestResult {
    let t = c.thread(counter_main, 100, [0; 4])?;
    let t2 = c.thread(counter_main, 100, [0; 4])?;
    ok!(
        sys::seL4_SchedContext_UnbindObject(t2.sc(), t2.tcb),
        "a thread without SC"
    );
    t.start()?;
    sys::seL4_DebugDumpScheduler();
    set_shared(2, 1);
    check_eq!(shared(2), 1, "still running after the dump");
    Ok(())
}
