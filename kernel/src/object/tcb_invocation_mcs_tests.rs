//! Host tests of the MCS TCB invocations and the MCS boot state (seL4 16.0.0
//! `src/object/tcb.c` and `src/kernel/boot.c` under `CONFIG_KERNEL_MCS`), through the syscall
//! path: fault and timeout endpoint caps, SetSchedParams binding and unbinding scheduling
//! contexts, the retype size of a SchedContext, the root thread's SC and the SchedControl cap.

use crate::cap::Cap;
use crate::object::sched_context::{refill_head, tcb_sc};
use crate::object::tcb::{tcb_slot, TcbRef};
use crate::testing::*;
use abi::bootinfo::slot;
use abi::{CapRights, Error, InvocationLabel as L, ObjectType as T};

const CNODE: u64 = slot::INIT_THREAD_CNODE;
const VSPACE: u64 = slot::INIT_THREAD_VSPACE;
const ROOT_TCB: u64 = slot::INIT_THREAD_TCB;

fn boot() -> (System, u64) {
    let s = System::boot();
    let e = s.bootinfo().empty.start;
    (s, e)
}

fn tcb_at(s: &System, i: u64) -> TcbRef {
    let Cap::Thread { tcb } = s.root_slot(i).cap() else {
        panic!("slot {i} holds no TCB")
    };
    tcb
}

fn mint(s: &mut System, dest: u64, src: u64, rights: CapRights) {
    let r = s.cnode(L::CNodeMint, &[dest, 64, src, 64, rights.0, 0], &[CNODE]);
    assert_eq!(r.info.label(), 0, "{r:?}");
}

/// An endpoint at `e` and copies of it with Send only (`e + 1`), Send+Grant (`e + 2`) and
/// Send+GrantReply (`e + 3`); a notification at `e + 4`.
fn endpoints(s: &mut System, e: u64) {
    s.make(T::Endpoint, 0, e);
    mint(s, e + 1, e, CapRights::WRITE);
    mint(
        s,
        e + 2,
        e,
        CapRights(CapRights::WRITE.0 | CapRights::GRANT.0),
    );
    mint(
        s,
        e + 3,
        e,
        CapRights(CapRights::WRITE.0 | CapRights::GRANT_REPLY.0),
    );
    s.make(T::Notification, 0, e + 4);
}

#[test]
fn boot_gives_the_root_thread_its_sc_and_a_sched_control_cap() {
    let (mut s, _) = boot();
    let Cap::SchedContext { ptr, size_bits } = s.root_slot(slot::INIT_THREAD_SC).cap() else {
        panic!("slot 14 holds no SC")
    };
    assert_eq!(size_bits as u64, abi::object::MIN_SCHED_CONTEXT_BITS);
    let sc = ptr;
    assert_eq!(tcb_sc(s.root), sc);
    assert_eq!(s.k.cur_sc, sc);
    let x = sc.get();
    // Round robin: period 0, a full 5 ms head and an empty tail; MIN_REFILLS in use.
    assert_eq!(
        (x.tcb.addr() as u64, x.period, x.refill_max),
        (s.root.addr() as u64, 0, 2)
    );
    assert_eq!(refill_head(sc).get().amount, 50_000);
    assert_eq!(
        (s.root.with(|t| t.priority), s.root.with(|t| t.mcp)),
        (255, 255)
    );
    for i in [tcb_slot::FAULT_HANDLER, tcb_slot::TIMEOUT_HANDLER] {
        assert!(s.root.slot(i).is_empty());
    }
    let bi = s.bootinfo();
    assert_eq!(bi.schedcontrol.end - bi.schedcontrol.start, 1);
    assert_eq!(bi.schedcontrol.start, bi.extra_bi_pages.end);
    assert_eq!(bi.user_image_frames.start, bi.schedcontrol.end);
    assert!(matches!(
        s.root_slot(bi.schedcontrol.start).cap(),
        Cap::SchedControl { core: 0 }
    ));
    // The SC's memory is no untyped's: retyping everything cannot overlap it (the root
    // objects are reserved), and it is not in the free list.
    let n = (bi.untyped.end - bi.untyped.start) as usize;
    let paddr = crate::arch::pptr_to_paddr(ptr.addr());
    assert!(bi.untyped_list[..n]
        .iter()
        .all(|d| paddr < d.paddr || paddr >= d.paddr + (1 << d.size_bits)));
    // A DebugCapIdentify of slot 14 says SchedContext.
    assert_eq!(
        s.identify(slot::INIT_THREAD_SC),
        crate::cap::tag::SCHED_CONTEXT
    );
}

#[test]
fn sched_context_retype_sizes() {
    let (mut s, e) = boot();
    let (ut, _, _) = s.ram_untyped(20);
    fails(
        s.retype(ut, T::SchedContext, 6, e, 1),
        Error::InvalidArgument,
        &[1],
    );
    fails(
        s.retype(ut, T::SchedContext, 39, e, 1),
        Error::RangeError,
        &[0, 38],
    );
    assert!(s.root_slot(e).is_empty());
    ok_empty(s.retype(ut, T::SchedContext, 7, e, 1));
    ok_empty(s.retype(ut, T::SchedContext, 10, e + 1, 1));
    assert!(matches!(
        s.root_slot(e + 1).cap(),
        Cap::SchedContext { size_bits: 10, .. }
    ));
}

#[test]
fn set_space_takes_a_valid_fault_endpoint_cap() {
    let (mut s, e) = boot();
    endpoints(&mut s, e);
    let t = s.spawn(10, e + 10);
    let tcb = e + 10;
    // Truncated: 2 words, 3 caps.
    fails(
        s.call(tcb, L::TCBSetSpace, &[0, 0], &[e + 2, CNODE]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        s.call(tcb, L::TCBSetSpace, &[0], &[e + 2, CNODE, VSPACE]),
        Error::TruncatedMessage,
        &[],
    );
    // The space is checked before the fault endpoint.
    fails(
        s.call(tcb, L::TCBSetSpace, &[0, 0], &[e + 1, VSPACE, VSPACE]),
        Error::IllegalOperation,
        &[],
    );
    for bad in [e + 1, e + 4, CNODE] {
        fails(
            s.call(tcb, L::TCBSetSpace, &[0, 0], &[bad, CNODE, VSPACE]),
            Error::InvalidCapability,
            &[1],
        );
        assert!(t.slot(tcb_slot::FAULT_HANDLER).is_empty());
    }
    for good in [e + 2, e + 3] {
        ok_empty(s.call(tcb, L::TCBSetSpace, &[0, 0], &[good, CNODE, VSPACE]));
        assert_eq!(
            t.slot(tcb_slot::FAULT_HANDLER).cap(),
            s.root_slot(good).cap()
        );
    }
    // A null cap removes the handler.
    ok_empty(s.call(tcb, L::TCBSetSpace, &[0, 0], &[e + 50, CNODE, VSPACE]));
    assert!(t.slot(tcb_slot::FAULT_HANDLER).is_empty());
}

#[test]
fn set_timeout_endpoint() {
    let (mut s, e) = boot();
    endpoints(&mut s, e);
    let t = s.spawn(10, e + 10);
    fails(
        s.call(e + 10, L::TCBSetTimeoutEndpoint, &[], &[]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        s.call(e + 10, L::TCBSetTimeoutEndpoint, &[], &[e + 4]),
        Error::InvalidCapability,
        &[1],
    );
    assert!(t.slot(tcb_slot::TIMEOUT_HANDLER).is_empty());
    ok_empty(s.call(e + 10, L::TCBSetTimeoutEndpoint, &[], &[e + 3]));
    assert_eq!(
        t.slot(tcb_slot::TIMEOUT_HANDLER).cap(),
        s.root_slot(e + 3).cap()
    );
    ok_empty(s.call(e + 10, L::TCBSetTimeoutEndpoint, &[], &[e + 50]));
    assert!(t.slot(tcb_slot::TIMEOUT_HANDLER).is_empty());
}

#[test]
fn configure_takes_three_words_and_no_fault_endpoint() {
    let (mut s, e) = boot();
    s.make(T::Tcb, 0, e);
    let t = tcb_at(&s, e);
    let buf = slot::INIT_THREAD_IPC_BUFFER;
    fails(
        s.call(e, L::TCBConfigure, &[0, 0], &[CNODE, VSPACE, buf]),
        Error::TruncatedMessage,
        &[],
    );
    ok_empty(s.call(e, L::TCBConfigure, &[0, 0, 0], &[CNODE, VSPACE, buf]));
    assert!(matches!(t.slot(tcb_slot::CTABLE).cap(), Cap::CNode { .. }));
    assert!(t.slot(tcb_slot::FAULT_HANDLER).is_empty());
}

#[test]
fn set_sched_params_binds_and_unbinds_scheduling_contexts() {
    let (mut s, e) = boot();
    endpoints(&mut s, e);
    s.make(T::Tcb, 0, e + 10);
    let t = tcb_at(&s, e + 10);
    s.make(T::SchedContext, 7, e + 11);
    let Cap::SchedContext { ptr, .. } = s.root_slot(e + 11).cap() else {
        panic!()
    };
    let sc = ptr;
    let null = e + 50;
    let sp =
        |s: &mut System, mrs: &[u64], caps: &[u64]| s.call(e + 10, L::TCBSetSchedParams, mrs, caps);
    // Errors, in order; nothing changes.
    fails(
        sp(&mut s, &[1, 2], &[ROOT_TCB, e + 11]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        sp(&mut s, &[1], &[ROOT_TCB, e + 11, null]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        sp(&mut s, &[1, 2], &[e, e + 11, null]),
        Error::InvalidCapability,
        &[1],
    );
    fails(
        sp(&mut s, &[256, 2], &[ROOT_TCB, e + 11, null]),
        Error::RangeError,
        &[0, 255],
    );
    fails(
        sp(&mut s, &[1, 256], &[ROOT_TCB, e + 11, null]),
        Error::RangeError,
        &[0, 255],
    );
    fails(
        sp(&mut s, &[1, 2], &[ROOT_TCB, e, null]),
        Error::InvalidCapability,
        &[2],
    );
    fails(
        sp(&mut s, &[1, 2], &[ROOT_TCB, e + 11, e + 1]),
        Error::InvalidCapability,
        &[3],
    );
    // The root SC is bound to the root thread.
    fails(
        sp(&mut s, &[1, 2], &[ROOT_TCB, slot::INIT_THREAD_SC, null]),
        Error::IllegalOperation,
        &[],
    );
    // The current thread cannot lose its SC.
    fails(
        s.call(
            ROOT_TCB,
            L::TCBSetSchedParams,
            &[255, 255],
            &[ROOT_TCB, null, null],
        ),
        Error::IllegalOperation,
        &[],
    );
    assert_eq!(
        (t.with(|x| (x.mcp, x.priority)), tcb_sc(t).addr()),
        ((0, 0), 0)
    );
    assert!(t.slot(tcb_slot::FAULT_HANDLER).is_empty());
    // Bind, with a fault endpoint.
    ok_empty(sp(&mut s, &[5, 4], &[ROOT_TCB, e + 11, e + 2]));
    assert_eq!(t.with(|x| (x.mcp, x.priority)), (5, 4));
    assert_eq!(
        (tcb_sc(t), sc.get().tcb.addr() as u64),
        (sc, t.addr() as u64)
    );
    assert_eq!(
        t.slot(tcb_slot::FAULT_HANDLER).cap(),
        s.root_slot(e + 2).cap()
    );
    // The same SC again is fine; another thread cannot take it; a second SC is refused.
    ok_empty(sp(&mut s, &[5, 4], &[ROOT_TCB, e + 11, e + 2]));
    s.make(T::Tcb, 0, e + 12);
    fails(
        s.call(
            e + 12,
            L::TCBSetSchedParams,
            &[1, 1],
            &[ROOT_TCB, e + 11, null],
        ),
        Error::IllegalOperation,
        &[],
    );
    s.make(T::SchedContext, 7, e + 13);
    fails(
        sp(&mut s, &[1, 1], &[ROOT_TCB, e + 13, null]),
        Error::IllegalOperation,
        &[],
    );
    // Unbind with a null cap (and no fault endpoint).
    ok_empty(sp(&mut s, &[5, 4], &[ROOT_TCB, null, null]));
    assert_eq!((tcb_sc(t).addr(), sc.get().tcb.addr() as u64), (0, 0));
    assert!(t.slot(tcb_slot::FAULT_HANDLER).is_empty());
}

#[test]
fn resume_waits_for_a_scheduling_context() {
    let (mut s, e) = boot();
    s.make(T::Tcb, 0, e);
    let t = tcb_at(&s, e);
    ok_empty(s.call(
        e,
        L::TCBConfigure,
        &[0, 0, 0],
        &[CNODE, VSPACE, slot::INIT_THREAD_IPC_BUFFER],
    ));
    ok_empty(s.call(e, L::TCBResume, &[], &[]));
    // Restarted, but passive: not queued.
    assert_eq!(t.state(), crate::object::tcb::ThreadState::Restart);
    assert_eq!(t.with(|x| x.queued), 0);
    // The SC makes it runnable.
    let (ut, _, _) = s.ram_untyped(20);
    ok_empty(s.retype(ut, T::SchedContext, 7, e + 1, 1));
    let Cap::SchedContext { ptr, .. } = s.root_slot(e + 1).cap() else {
        panic!()
    };
    let budget = crate::arch::us_to_ticks(1000);
    crate::object::sched_context::refill_new(ptr, 2, budget, 0, s.k.cur_time);
    ok_empty(s.call(e, L::TCBSetSchedParams, &[0, 0], &[ROOT_TCB, e + 1, e + 50]));
    assert_eq!(t.with(|x| x.queued), 1);
    // Suspend takes it off the queue again.
    ok_empty(s.call(e, L::TCBSuspend, &[], &[]));
    assert_eq!(
        (t.state(), t.with(|x| x.queued)),
        (crate::object::tcb::ThreadState::Inactive, 0)
    );
}

#[test]
fn deleting_a_thread_unbinds_its_scheduling_context() {
    let (mut s, e) = boot();
    let t = s.spawn(10, e);
    // The kernel exits (the root thread keeps running) before the next syscall.
    s.schedule();
    let sc = tcb_sc(t);
    assert_ne!(sc.addr(), 0);
    ok_empty(s.cnode(L::CNodeDelete, &[e, 64], &[]));
    assert_eq!(sc.get().tcb.addr() as u64, 0);
}
