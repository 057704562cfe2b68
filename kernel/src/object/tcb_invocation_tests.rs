//! Host tests of the TCB invocations through the syscall path (seL4 16.0.0
//! `src/object/tcb.c`): each invocation's effect, and each error with its MRs, in seL4's order.
// Several tests here are of the non-MCS shapes only (gated); their helpers stay.
#![cfg_attr(feature = "mcs", allow(unused_imports, dead_code))]

use crate::arch::riscv64::context::reg;
use crate::arch::ArchCap;
use crate::cap::Cap;
use crate::mem::PPtr;
use crate::object::tcb::{tcb_slot, TcbRef, ThreadState};
use crate::testing::*;
use abi::bootinfo::slot;
use abi::{
    CNodeCapData, CapRights, Error, InvocationLabel as L, MessageInfo, ObjectType as T, Syscall,
};

const CNODE: u64 = slot::INIT_THREAD_CNODE;
const VSPACE: u64 = slot::INIT_THREAD_VSPACE;
const ROOT_TCB: u64 = slot::INIT_THREAD_TCB;

fn boot() -> (System, u64) {
    let s = System::boot();
    let e = s.bootinfo().empty.start;
    (s, e)
}

use crate::testing::{fails, ok};

fn tcb_at(s: &System, i: u64) -> TcbRef {
    let Cap::Thread { tcb } = s.root_slot(i).cap() else {
        panic!("slot {i} holds no TCB")
    };
    tcb
}

fn queued(t: TcbRef) -> bool {
    t.with(|x| x.queued) != 0
}

/// Whether `t` is in the ready queue of priority `prio` in domain 0.
fn in_queue(s: &System, prio: usize, t: TcbRef) -> bool {
    let mut p = s.k.sched.queues[prio].head.get();
    while let Some(x) = p {
        if x == t {
            return true;
        }
        p = x.with(|x| x.sched_next).get();
    }
    false
}

fn buffer_word(s: &System, i: usize) -> u64 {
    PPtr::<u64>::sim(s.buffer_of(s.root) + 8 + 8 * i).get()
}

/// The x_i register numbers of `seL4_UserContext` words, written out independently of the
/// implementation's table: pc, ra, sp, gp, s0..s11, a0..a7, t0..t6, tp.
const ORDER: [usize; 32] = [
    0, 1, 2, 3, 8, 9, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 10, 11, 12, 13, 14, 15, 16, 17, 5, 6,
    7, 28, 29, 30, 31, 4,
];

fn write_all(s: &mut System, tcb: u64, base: u64) {
    let mut mrs = vec![0, 32];
    mrs.extend((0..32).map(|i| base + i));
    ok(s.call(tcb, L::TCBWriteRegisters, &mrs, &[]));
}

#[test]
fn write_then_read_registers_in_user_context_order() {
    let (mut s, e) = boot();
    let t = s.spawn(100, e);
    write_all(&mut s, e, 0x1000);
    // The pc is the restart pc (FaultIP), and NextIP follows it.
    assert_eq!(t.with(|x| x.fault_ip), 0x1000);
    assert_eq!(t.reg(reg::PC), 0x1000);
    for (i, &r) in ORDER.iter().enumerate().skip(1) {
        assert_eq!(t.reg(r), 0x1000 + i as u64, "word {i} is x{r}");
    }
    let r = ok(s.call(e, L::TCBReadRegisters, &[0, 32], &[]));
    assert_eq!(r.info.length(), 32);
    assert_eq!(s.root.reg(reg::A0), 0, "badge 0");
    assert_eq!(r.mrs, [0x1000, 0x1001, 0x1002, 0x1003, 0x1004, 0x1005]);
    for i in 4..32 {
        assert_eq!(buffer_word(&s, i), 0x1000 + i as u64, "MR{i}");
    }
    // Fewer registers.
    let r = ok(s.call(e, L::TCBReadRegisters, &[0, 3], &[]));
    assert_eq!(r.info.length(), 3);
    assert_eq!(&r.mrs[..3], &[0x1000, 0x1001, 0x1002]);
    // A partial write changes only the first words; the thread stays as it was (runnable).
    ok(s.call(e, L::TCBWriteRegisters, &[0, 2, 0x2000, 0x2001], &[]));
    assert_eq!(
        (t.with(|x| x.fault_ip), t.reg(reg::PC), t.reg(1), t.reg(2)),
        (0x2000, 0x2000, 0x2001, 0x1002)
    );
    assert_eq!(t.state(), ThreadState::Restart);
    // A count above 32 writes 32 registers.
    let mut mrs = vec![0, 40];
    mrs.extend((0..40).map(|i| 0x3000 + i));
    ok(s.call(e, L::TCBWriteRegisters, &mrs, &[]));
    assert_eq!(t.reg(reg::TP), 0x301f);
    // ReadRegisters reports the restart pc, not NextIP.
    t.with(|x| x.fault_ip = 0x4444);
    t.set_reg(reg::PC, 0x5555);
    let r = ok(s.call(e, L::TCBReadRegisters, &[0, 1], &[]));
    assert_eq!((r.info.length(), r.mrs[0]), (1, 0x4444));
    // Writing no registers still moves NextIP to the restart pc (seL4
    // `setNextPC(getRestartPC(dest))`).
    ok(s.call(e, L::TCBWriteRegisters, &[0, 0], &[]));
    assert_eq!(t.reg(reg::PC), 0x4444);
}

#[test]
fn register_invocation_errors() {
    let (mut s, e) = boot();
    let t = s.spawn(100, e);
    write_all(&mut s, e, 0x1000);
    fails(
        s.call(e, L::TCBReadRegisters, &[0], &[]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        s.call(e, L::TCBReadRegisters, &[0, 0], &[]),
        Error::RangeError,
        &[1, 32],
    );
    fails(
        s.call(e, L::TCBReadRegisters, &[0, 33], &[]),
        Error::RangeError,
        &[1, 32],
    );
    // The count is checked before the target.
    fails(
        s.call(ROOT_TCB, L::TCBReadRegisters, &[0, 0], &[]),
        Error::RangeError,
        &[1, 32],
    );
    fails(
        s.call(ROOT_TCB, L::TCBReadRegisters, &[0, 1], &[]),
        Error::IllegalOperation,
        &[],
    );
    fails(
        s.call(e, L::TCBWriteRegisters, &[0], &[]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        s.call(e, L::TCBWriteRegisters, &[0, 3, 7, 7], &[]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        s.call(ROOT_TCB, L::TCBWriteRegisters, &[0, 3, 7, 7], &[]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        s.call(ROOT_TCB, L::TCBWriteRegisters, &[0, 1, 7], &[]),
        Error::IllegalOperation,
        &[],
    );
    // Not a TCB invocation.
    fails(
        s.call(e, L::CNodeCopy, &[0, 0, 0, 0, 0], &[CNODE]),
        Error::IllegalOperation,
        &[],
    );
    fails(
        s.call(e, L::DomainSetSet, &[0], &[e]),
        Error::IllegalOperation,
        &[],
    );
    // Nothing changed.
    for (i, &r) in ORDER.iter().enumerate().skip(1) {
        assert_eq!(t.reg(r), 0x1000 + i as u64);
    }
    assert_eq!(t.with(|x| x.fault_ip), 0x1000);
}

#[test]
fn read_can_suspend_the_source_and_write_can_resume_the_target() {
    let (mut s, e) = boot();
    let t = s.spawn(100, e);
    ok(s.call(e, L::TCBReadRegisters, &[0x100, 1], &[]));
    assert!(queued(t), "architecture flags (bits 8 and up) are ignored");
    // A Running thread's restart pc is brought up to date before it is suspended.
    t.set_state(ThreadState::Running);
    t.set_reg(reg::PC, 0x9000);
    t.with(|x| x.fault_ip = 0x8ffc);
    let r = ok(s.call(e, L::TCBReadRegisters, &[1, 1], &[]));
    assert_eq!(r.mrs[0], 0x9000);
    assert_eq!(t.state(), ThreadState::Inactive);
    assert!(!queued(t) && !in_queue(&s, 100, t));
    // WriteRegisters with the resume flag restarts it at the written pc.
    ok(s.call(e, L::TCBWriteRegisters, &[1, 1, 0x8000], &[]));
    assert_eq!(t.state(), ThreadState::Restart);
    assert!(in_queue(&s, 100, t));
    assert_eq!((t.with(|x| x.fault_ip), t.reg(reg::PC)), (0x8000, 0x8000));
}

#[test]
fn copy_registers_transfers_frame_and_integer_registers() {
    let (mut s, e) = boot();
    let a = s.spawn(100, e);
    let b = s.spawn(100, e + 2);
    write_all(&mut s, e, 0x1000);
    // Frame registers only: pc (restart pc and NextIP), ra, sp, gp, s0..s11.
    ok(s.call(e + 2, L::TCBCopyRegisters, &[4], &[e]));
    assert_eq!((b.with(|x| x.fault_ip), b.reg(reg::PC)), (0x1000, 0x1000));
    for (i, &r) in ORDER.iter().enumerate().skip(1) {
        assert_eq!(
            b.reg(r),
            if i < 16 { 0x1000 + i as u64 } else { 0 },
            "word {i}"
        );
    }
    // Integer registers: a0..a7, t0..t6, tp.
    ok(s.call(e + 2, L::TCBCopyRegisters, &[8], &[e]));
    for (i, &r) in ORDER.iter().enumerate().skip(1) {
        assert_eq!(b.reg(r), 0x1000 + i as u64, "word {i}");
    }
    // Suspend the source and resume the target.
    ok(s.call(e + 2, L::TCBSuspend, &[], &[]));
    assert_eq!(b.state(), ThreadState::Inactive);
    ok(s.call(e + 2, L::TCBCopyRegisters, &[1 | 2], &[e]));
    assert_eq!(a.state(), ThreadState::Inactive);
    assert!(!queued(a));
    assert_eq!(b.state(), ThreadState::Restart);
    assert!(in_queue(&s, 100, b));
    // Errors.
    fails(
        s.call(e + 2, L::TCBCopyRegisters, &[], &[e]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        s.call(e + 2, L::TCBCopyRegisters, &[4], &[]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        s.call(e + 2, L::TCBCopyRegisters, &[4], &[CNODE]),
        Error::InvalidCapability,
        &[1],
    );
    // The invoker may be the target: its a0/a1 then carry the empty reply. (The harness
    // also checks that the syscall exit does not resume it with its old gp, tp, s0..s11:
    // `testing::syscall_trap`.)
    ok(s.call(ROOT_TCB, L::TCBCopyRegisters, &[8], &[e]));
    let root = s.root;
    assert_eq!(
        (root.reg(reg::A0), root.reg(reg::A2), root.reg(reg::TP)),
        (0, 0x1012, 0x101f)
    );
    // The frame registers too (s0..s11, gp; the pc: it resumes at the source's).
    write_all(&mut s, e, 0x2000);
    ok(s.call(ROOT_TCB, L::TCBCopyRegisters, &[4], &[e]));
    for (i, &r) in ORDER.iter().enumerate().take(16).skip(1) {
        assert_eq!(root.reg(r), 0x2000 + i as u64, "word {i}");
    }
}

/// Non-MCS shapes (MCS: `tcb_invocation_mcs_tests.rs`).
#[cfg(not(feature = "mcs"))]
#[test]
fn configure_installs_roots_buffer_and_fault_endpoint_then_resume_runs_the_thread() {
    let (mut s, e) = boot();
    s.make(T::Tcb, 0, e);
    s.make(T::SmallPage, 0, e + 1);
    let t = tcb_at(&s, e);
    let Cap::Arch(ArchCap::Frame { base, .. }) = s.root_slot(e + 1).cap() else {
        panic!()
    };
    ok(s.call(
        e,
        L::TCBConfigure,
        &[0x55, 0, 0, 0x7000_0400],
        &[CNODE, VSPACE, e + 1],
    ));
    assert_eq!(
        t.with(|x| (x.fault_handler, x.ipc_buffer)),
        (0x55, 0x7000_0400)
    );
    assert_eq!(t.slot(tcb_slot::CTABLE).cap(), s.root_slot(CNODE).cap());
    assert_eq!(t.slot(tcb_slot::VTABLE).cap(), s.root_slot(VSPACE).cap());
    assert!(
        matches!(t.slot(tcb_slot::BUFFER).cap(), Cap::Arch(ArchCap::Frame { base: b, mapped: None, .. }) if b == base)
    );
    // Each cap was derived from its source (placed after it in the MDB).
    assert_eq!(
        t.slot(tcb_slot::CTABLE).mdb().prev(),
        Some(s.root_slot(CNODE))
    );
    assert_eq!(
        t.slot(tcb_slot::VTABLE).mdb().prev(),
        Some(s.root_slot(VSPACE))
    );
    assert_eq!(
        t.slot(tcb_slot::BUFFER).mdb().prev(),
        Some(s.root_slot(e + 1))
    );
    assert_eq!(
        crate::state::ipc_buffer_pptr(t, true).map(|b| b.addr()),
        Some(base.addr() + 0x400)
    );
    assert_eq!(
        t.state(),
        ThreadState::Inactive,
        "Configure does not start the thread"
    );
    crate::tests::check_mdb(&s);
    // Lower the root task, give the thread a higher priority, a pc and a stack, and resume it.
    ok(s.call(ROOT_TCB, L::TCBSetPriority, &[100], &[ROOT_TCB]));
    assert_eq!(s.k.cur_thread, s.root);
    ok(s.call(e, L::TCBSetPriority, &[200], &[ROOT_TCB]));
    ok(s.call(e, L::TCBWriteRegisters, &[0, 3, 0x10000, 0, 0x20000], &[]));
    assert_eq!(
        s.k.cur_thread, s.root,
        "an inactive thread is not scheduled"
    );
    ok(s.call(e, L::TCBResume, &[], &[]));
    assert_eq!(s.k.cur_thread, t, "the resumed higher-priority thread runs");
    assert_eq!(t.state(), ThreadState::Running);
    assert_eq!((t.reg(reg::PC), t.reg(reg::SP)), (0x10000, 0x20000));
    assert!(in_queue(&s, 100, s.root));
}

/// Non-MCS shapes (MCS: `tcb_invocation_mcs_tests.rs`).
#[cfg(not(feature = "mcs"))]
#[test]
fn configure_applies_cap_data_replaces_old_caps_and_buffer_zero_clears_the_buffer() {
    let (mut s, e) = boot();
    s.make(T::Tcb, 0, e);
    s.make(T::SmallPage, 0, e + 1);
    let t = tcb_at(&s, e);
    ok(s.call(
        e,
        L::TCBConfigure,
        &[0, 0, 0, 0x7000_0000],
        &[CNODE, VSPACE, e + 1],
    ));
    // Non-zero data: a CNode guard; page table caps take no data.
    let guard = CNodeCapData::new(0, 51).0;
    ok(s.call(
        e,
        L::TCBConfigure,
        &[7, guard, 0x1234, 0],
        &[CNODE, VSPACE, CNODE],
    ));
    assert!(matches!(
        t.slot(tcb_slot::CTABLE).cap(),
        Cap::CNode {
            guard_size: 51,
            radix: 13,
            ..
        }
    ));
    assert_eq!(t.slot(tcb_slot::VTABLE).cap(), s.root_slot(VSPACE).cap());
    assert!(t.slot(tcb_slot::BUFFER).is_empty());
    assert_eq!(t.with(|x| (x.fault_handler, x.ipc_buffer)), (7, 0));
    crate::tests::check_mdb(&s);
    // The old caps are gone from the MDB: the source frame has no more children.
    assert!(!crate::cte::has_children(s.root_slot(e + 1)));
}

/// Non-MCS shapes (MCS: `tcb_invocation_mcs_tests.rs`).
#[cfg(not(feature = "mcs"))]
#[test]
fn caps_are_installed_only_if_the_sources_and_the_thread_cap_are_still_there() {
    use crate::object::tcb_invocation::{
        invoke_tcb, BufferUpdate, SpaceUpdate, TcbInvocation, ThreadControl,
    };
    let (mut s, e) = boot();
    s.make(T::Tcb, 0, e);
    s.make(T::SmallPage, 0, e + 1);
    let t = tcb_at(&s, e);
    let (cn, vs, fr) = (s.root_slot(CNODE), s.root_slot(VSPACE), s.root_slot(e + 1));
    let space = SpaceUpdate {
        fault_ep: 9,
        croot: (cn.cap(), cn),
        vroot: (vs.cap(), vs),
    };
    let buffer = BufferUpdate {
        addr: 0x7000_0000,
        frame: Some((fr.cap(), fr)),
    };
    let tc = |slot| ThreadControl {
        target: t,
        slot,
        mcp: None,
        priority: None,
        space: Some(space),
        buffer: Some(buffer),
    };
    // The invoked slot no longer holds a cap to the thread: the old caps go, no new ones come.
    let (root, empty, thread_cap_slot) = (s.root, s.root_slot(e + 9), s.root_slot(e));
    assert!(invoke_tcb(
        &mut s.k,
        &TcbInvocation::ThreadControl(tc(empty)),
        root,
        true
    )
    .is_ok());
    assert_eq!(
        t.with(|x| (x.fault_handler, x.ipc_buffer)),
        (9, 0x7000_0000)
    );
    for i in [tcb_slot::CTABLE, tcb_slot::VTABLE, tcb_slot::BUFFER] {
        assert!(t.slot(i).is_empty());
    }
    assert!(invoke_tcb(
        &mut s.k,
        &TcbInvocation::ThreadControl(tc(thread_cap_slot)),
        root,
        true
    )
    .is_ok());
    for i in [tcb_slot::CTABLE, tcb_slot::VTABLE, tcb_slot::BUFFER] {
        assert!(!t.slot(i).is_empty());
    }
    // A source slot that no longer holds the object: not installed.
    ok(s.cnode(L::CNodeMove, &[e + 2, 64, e + 1, 64], &[CNODE]));
    assert!(invoke_tcb(
        &mut s.k,
        &TcbInvocation::ThreadControl(tc(thread_cap_slot)),
        root,
        true
    )
    .is_ok());
    assert!(t.slot(tcb_slot::BUFFER).is_empty());
    assert!(!t.slot(tcb_slot::CTABLE).is_empty());
    crate::tests::check_mdb(&s);
}

/// Non-MCS shapes (MCS: `tcb_invocation_mcs_tests.rs`).
#[cfg(not(feature = "mcs"))]
#[test]
fn configure_errors_in_sel4_order_change_nothing() {
    let (mut s, e) = boot();
    s.make(T::Tcb, 0, e);
    s.make(T::SmallPage, 0, e + 1);
    s.make(T::Endpoint, 0, e + 2);
    s.make(T::PageTable, 0, e + 3);
    let dev = s.bootinfo().untyped.start;
    ok(s.retype(dev, T::SmallPage, 0, e + 4, 1));
    let t = tcb_at(&s, e);
    let (ut, _, _) = s.ram_untyped(20); // has children: deriving it is RevokeFirst
    let good = [0, 0, 0, 0x7000_0000];
    let conf = |s: &mut System, mrs: &[u64], caps: &[u64]| s.call(e, L::TCBConfigure, mrs, caps);
    fails(
        conf(&mut s, &good[..3], &[CNODE, VSPACE, e + 1]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        conf(&mut s, &good, &[CNODE, VSPACE]),
        Error::TruncatedMessage,
        &[],
    );
    // The buffer comes first: its errors win over a bad CSpace (an endpoint).
    fails(
        conf(&mut s, &good, &[e + 2, VSPACE, ut]),
        Error::RevokeFirst,
        &[],
    );
    fails(
        conf(&mut s, &good, &[e + 2, VSPACE, CNODE]),
        Error::IllegalOperation,
        &[],
    );
    fails(
        conf(&mut s, &good, &[CNODE, VSPACE, e + 4]),
        Error::IllegalOperation,
        &[],
    );
    fails(
        conf(&mut s, &[0, 0, 0, 0x7000_0200], &[e + 2, VSPACE, e + 1]),
        Error::AlignmentError,
        &[],
    );
    // The CSpace root.
    fails(
        conf(&mut s, &good, &[e + 2, VSPACE, e + 1]),
        Error::IllegalOperation,
        &[],
    );
    fails(
        conf(&mut s, &good, &[ut, e + 3, e + 1]),
        Error::RevokeFirst,
        &[],
    );
    let too_big = CNodeCapData::new(0, 52).0;
    fails(
        conf(
            &mut s,
            &[0, too_big, 0, 0x7000_0000],
            &[CNODE, VSPACE, e + 1],
        ),
        Error::IllegalOperation,
        &[],
    );
    // The VSpace root: an unmapped page table (deriving it fails), not a page table.
    fails(
        conf(&mut s, &good, &[CNODE, e + 3, e + 1]),
        Error::IllegalOperation,
        &[],
    );
    fails(
        conf(&mut s, &good, &[CNODE, e + 1, e + 1]),
        Error::IllegalOperation,
        &[],
    );
    fails(
        conf(&mut s, &good, &[CNODE, ut, e + 1]),
        Error::RevokeFirst,
        &[],
    );
    for i in [tcb_slot::CTABLE, tcb_slot::VTABLE, tcb_slot::BUFFER] {
        assert!(t.slot(i).is_empty());
    }
    assert_eq!(t.with(|x| (x.fault_handler, x.ipc_buffer)), (0, 0));
    // A thread whose CSpace root is the last cap to its CNode cannot be reconfigured (that
    // deletion would be long-running); its IPC buffer can still be set.
    s.make(T::CapTable, 2, e + 5);
    ok(conf(&mut s, &good, &[e + 5, VSPACE, e + 1]));
    ok(s.cnode(L::CNodeDelete, &[e + 5, 64], &[]));
    fails(
        conf(&mut s, &good, &[CNODE, VSPACE, e + 1]),
        Error::IllegalOperation,
        &[],
    );
    fails(
        s.call(e, L::TCBSetSpace, &[0, 0, 0], &[CNODE, VSPACE]),
        Error::IllegalOperation,
        &[],
    );
    ok(s.call(e, L::TCBSetIPCBuffer, &[0x7000_0400], &[e + 1]));
    assert!(matches!(
        t.slot(tcb_slot::CTABLE).cap(),
        Cap::CNode { radix: 2, .. }
    ));
    crate::tests::check_mdb(&s);
}

/// Non-MCS shapes (MCS: `tcb_invocation_mcs_tests.rs`).
#[cfg(not(feature = "mcs"))]
#[test]
fn set_ipc_buffer_and_set_space() {
    let (mut s, e) = boot();
    s.make(T::Tcb, 0, e);
    s.make(T::SmallPage, 0, e + 1);
    s.make(T::Endpoint, 0, e + 2);
    s.make(T::PageTable, 0, e + 3);
    let t = tcb_at(&s, e);
    ok(s.call(e, L::TCBSetIPCBuffer, &[0x7000_0800], &[e + 1]));
    assert_eq!(t.with(|x| x.ipc_buffer), 0x7000_0800);
    assert!(matches!(
        t.slot(tcb_slot::BUFFER).cap(),
        Cap::Arch(ArchCap::Frame { .. })
    ));
    assert!(t.slot(tcb_slot::CTABLE).is_empty());
    fails(
        s.call(e, L::TCBSetIPCBuffer, &[], &[e + 1]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        s.call(e, L::TCBSetIPCBuffer, &[0x7000_0000], &[]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        s.call(e, L::TCBSetIPCBuffer, &[0x7000_0010], &[e + 1]),
        Error::AlignmentError,
        &[],
    );
    fails(
        s.call(e, L::TCBSetIPCBuffer, &[0x7000_0000], &[e + 2]),
        Error::IllegalOperation,
        &[],
    );
    assert_eq!(t.with(|x| x.ipc_buffer), 0x7000_0800);
    // Address 0: no buffer, whatever the cap.
    ok(s.call(e, L::TCBSetIPCBuffer, &[0], &[e + 2]));
    assert_eq!(t.with(|x| x.ipc_buffer), 0);
    assert!(t.slot(tcb_slot::BUFFER).is_empty());
    // SetSpace: fault endpoint, CSpace and VSpace; the buffer is left alone.
    ok(s.call(e, L::TCBSetIPCBuffer, &[0x7000_0800], &[e + 1]));
    ok(s.call(e, L::TCBSetSpace, &[0x66, 0, 0], &[CNODE, VSPACE]));
    assert_eq!(
        t.with(|x| (x.fault_handler, x.ipc_buffer)),
        (0x66, 0x7000_0800)
    );
    assert_eq!(t.slot(tcb_slot::CTABLE).cap(), s.root_slot(CNODE).cap());
    assert_eq!(t.slot(tcb_slot::VTABLE).cap(), s.root_slot(VSPACE).cap());
    assert!(!t.slot(tcb_slot::BUFFER).is_empty());
    fails(
        s.call(e, L::TCBSetSpace, &[0, 0], &[CNODE, VSPACE]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        s.call(e, L::TCBSetSpace, &[0, 0, 0], &[CNODE]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        s.call(e, L::TCBSetSpace, &[1, 0, 0], &[e + 2, VSPACE]),
        Error::IllegalOperation,
        &[],
    );
    fails(
        s.call(e, L::TCBSetSpace, &[1, 0, 0], &[CNODE, e + 3]),
        Error::IllegalOperation,
        &[],
    );
    assert_eq!(t.with(|x| x.fault_handler), 0x66);
    crate::tests::check_mdb(&s);
}

/// Non-MCS shapes (MCS: `tcb_invocation_mcs_tests.rs`).
#[cfg(not(feature = "mcs"))]
#[test]
fn priorities_are_bounded_by_the_authoritys_mcp_and_requeue_the_thread() {
    let (mut s, e) = boot();
    let t = s.spawn(50, e); // priority and MCP 50
    ok(s.call(e, L::TCBSetPriority, &[100], &[ROOT_TCB]));
    assert_eq!(t.with(|x| x.priority), 100);
    assert!(in_queue(&s, 100, t) && !in_queue(&s, 50, t));
    assert_eq!(s.k.cur_thread, s.root, "the root task (255) keeps running");
    fails(
        s.call(e, L::TCBSetPriority, &[256], &[ROOT_TCB]),
        Error::RangeError,
        &[0, 255],
    );
    fails(
        s.call(e, L::TCBSetPriority, &[60], &[e]),
        Error::RangeError,
        &[0, 50],
    );
    ok(s.call(e, L::TCBSetPriority, &[50], &[e]));
    assert!(in_queue(&s, 50, t) && !in_queue(&s, 100, t));
    fails(
        s.call(e, L::TCBSetPriority, &[], &[ROOT_TCB]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        s.call(e, L::TCBSetPriority, &[1], &[]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        s.call(e, L::TCBSetPriority, &[1], &[CNODE]),
        Error::InvalidCapability,
        &[1],
    );
    // MCP.
    ok(s.call(e, L::TCBSetMCPriority, &[70], &[ROOT_TCB]));
    assert_eq!(t.with(|x| (x.mcp, x.priority)), (70, 50));
    fails(
        s.call(e, L::TCBSetMCPriority, &[80], &[e]),
        Error::RangeError,
        &[0, 70],
    );
    fails(
        s.call(e, L::TCBSetMCPriority, &[], &[e]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        s.call(e, L::TCBSetMCPriority, &[1], &[CNODE]),
        Error::InvalidCapability,
        &[1],
    );
    // Both.
    ok(s.call(e, L::TCBSetSchedParams, &[90, 80], &[ROOT_TCB]));
    assert_eq!(t.with(|x| (x.mcp, x.priority)), (90, 80));
    assert!(in_queue(&s, 80, t));
    fails(
        s.call(e, L::TCBSetSchedParams, &[95, 10], &[e]),
        Error::RangeError,
        &[0, 90],
    );
    fails(
        s.call(e, L::TCBSetSchedParams, &[10, 95], &[e]),
        Error::RangeError,
        &[0, 90],
    );
    fails(
        s.call(e, L::TCBSetSchedParams, &[10], &[e]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        s.call(e, L::TCBSetSchedParams, &[10, 10], &[]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        s.call(e, L::TCBSetSchedParams, &[10, 10], &[e + 1]),
        Error::InvalidCapability,
        &[1],
    );
    assert_eq!(t.with(|x| (x.mcp, x.priority)), (90, 80));
    // A suspended thread changes priority without being queued.
    ok(s.call(e, L::TCBSuspend, &[], &[]));
    ok(s.call(e, L::TCBSetPriority, &[20], &[ROOT_TCB]));
    assert!(!queued(t) && !in_queue(&s, 20, t));
    ok(s.call(e, L::TCBResume, &[], &[]));
    assert!(in_queue(&s, 20, t));
    // Raising a ready thread above the running one switches to it.
    ok(s.call(ROOT_TCB, L::TCBSetPriority, &[30], &[ROOT_TCB]));
    assert_eq!(s.k.cur_thread, s.root);
    ok(s.call(e, L::TCBSetPriority, &[40], &[ROOT_TCB]));
    assert_eq!(s.k.cur_thread, t);
    assert!(in_queue(&s, 30, s.root));
}

#[test]
fn suspend_and_resume() {
    let (mut s, e) = boot();
    let t = s.spawn(100, e);
    ok(s.call(e, L::TCBResume, &[], &[]));
    assert!(
        in_queue(&s, 100, t),
        "resuming a runnable thread changes nothing"
    );
    assert_eq!(t.state(), ThreadState::Restart);
    ok(s.call(e, L::TCBSuspend, &[], &[]));
    assert_eq!(t.state(), ThreadState::Inactive);
    assert!(!queued(t));
    assert!(
        s.k.sched.queues[100].head.is_none(),
        "the ready queue is empty"
    );
    ok(s.call(e, L::TCBSuspend, &[], &[]));
    ok(s.call(e, L::TCBResume, &[], &[]));
    assert_eq!(t.state(), ThreadState::Restart);
    assert!(in_queue(&s, 100, t));
    // A thread suspending itself gets no reply; it stays at its syscall, so resuming it
    // re-executes the Suspend (as seL4: it was in Restart when suspended).
    let root = s.root;
    let r = s.call(ROOT_TCB, L::TCBSuspend, &[], &[]);
    assert_eq!(r.info.label(), L::TCBSuspend as u64, "no reply written");
    assert_eq!(root.state(), ThreadState::Inactive);
    assert_eq!(root.with(|x| x.fault_ip) + 4, root.reg(reg::PC));
    assert_eq!(s.k.cur_thread, t);
}

#[test]
fn bind_and_unbind_notification() {
    let (mut s, e) = boot();
    let t = s.spawn(100, e);
    let t2 = s.spawn(100, e + 2);
    let n = s.make(T::Notification, 0, e + 4);
    s.make(T::Endpoint, 0, e + 5);
    s.make(T::Notification, 0, e + 6);
    let m = s.make(T::Notification, 0, e + 7);
    ok(s.cnode(
        L::CNodeMint,
        &[e + 8, 64, n, 64, CapRights::WRITE.0, 0],
        &[CNODE],
    ));
    let Cap::Notification { ptr, .. } = s.root_slot(n).cap() else {
        panic!()
    };
    let ntfn = ptr;
    fails(
        s.call(e, L::TCBUnbindNotification, &[], &[]),
        Error::IllegalOperation,
        &[],
    );
    fails(
        s.call(e, L::TCBBindNotification, &[], &[]),
        Error::TruncatedMessage,
        &[],
    );
    fails(
        s.call(e, L::TCBBindNotification, &[], &[e + 5]),
        Error::IllegalOperation,
        &[],
    );
    fails(
        s.call(e, L::TCBBindNotification, &[], &[e + 8]),
        Error::IllegalOperation,
        &[],
    );
    assert!(t.with(|x| x.bound_notification).is_none());
    ok(s.call(e, L::TCBBindNotification, &[], &[n]));
    assert_eq!(t.with(|x| x.bound_notification).addr(), ptr.addr());
    assert!(ntfn.0.get().bound_tcb.is(t));
    // Already bound; the notification bound to another thread.
    fails(
        s.call(e, L::TCBBindNotification, &[], &[e + 6]),
        Error::IllegalOperation,
        &[],
    );
    fails(
        s.call(e + 2, L::TCBBindNotification, &[], &[n]),
        Error::IllegalOperation,
        &[],
    );
    // A notification with a waiting thread cannot be bound.
    s.run_as(t2);
    let (_, _) = s.sys(Syscall::Recv, m, MessageInfo::new(0, 0, 0, 0), &[], &[]);
    assert_eq!(t2.state(), ThreadState::BlockedOnNotification);
    assert_eq!(s.k.cur_thread, s.root);
    fails(
        s.call(ROOT_TCB, L::TCBBindNotification, &[], &[m]),
        Error::IllegalOperation,
        &[],
    );
    // Unbind.
    ok(s.call(e, L::TCBUnbindNotification, &[], &[]));
    assert!(t.with(|x| x.bound_notification).is_none());
    assert!(ntfn.0.get().bound_tcb.is_none());
    fails(
        s.call(e, L::TCBUnbindNotification, &[], &[]),
        Error::IllegalOperation,
        &[],
    );
    // Now another thread may bind it.
    ok(s.call(ROOT_TCB, L::TCBBindNotification, &[], &[n]));
    assert!(ntfn.0.get().bound_tcb.is(s.root));
}

#[test]
fn set_tls_base() {
    let (mut s, e) = boot();
    let t = s.spawn(100, e);
    ok(s.call(e, L::TCBSetTLSBase, &[0xabc0], &[]));
    assert_eq!(t.reg(reg::TP), 0xabc0);
    fails(
        s.call(e, L::TCBSetTLSBase, &[], &[]),
        Error::TruncatedMessage,
        &[],
    );
    ok(s.call(ROOT_TCB, L::TCBSetTLSBase, &[0x1230], &[]));
    assert_eq!(s.root.reg(reg::TP), 0x1230);
    assert_eq!(s.k.cur_thread, s.root);
}

#[test]
fn set_flags_replies_with_the_new_flags() {
    let (mut s, e) = boot();
    let t = s.spawn(100, e);
    let flags = |s: &mut System, clear: u64, set: u64| {
        let r = ok(s.call(e, L::TCBSetFlags, &[clear, set], &[]));
        assert_eq!(r.info.length(), 1);
        assert_eq!(r.mrs[0], t.with(|x| x.flags));
        r.mrs[0]
    };
    assert_eq!(flags(&mut s, 0, 0), 0, "a new TCB has no flags");
    assert_eq!(flags(&mut s, 0, 1), 1);
    assert_eq!(flags(&mut s, 0, 0), 1);
    assert_eq!(flags(&mut s, 1, 0), 0);
    assert_eq!(flags(&mut s, 0, !0), 1, "unknown flags are ignored");
    assert_eq!(flags(&mut s, 1, 1), 1, "clear then set");
    assert_eq!(flags(&mut s, !0, 0), 0);
    fails(
        s.call(e, L::TCBSetFlags, &[0], &[]),
        Error::TruncatedMessage,
        &[],
    );
    // With Send there is no reply: the message registers stay as they were.
    let info = MessageInfo::new(L::TCBSetFlags as u64, 0, 0, 2);
    let r = s.syscall(Syscall::Send, e, info, &[0, 1], &[]);
    assert_eq!(t.with(|x| x.flags), 1);
    assert_eq!((r.info, r.mrs[0], r.mrs[1]), (info, 0, 1));
    let info = MessageInfo::new(L::TCBReadRegisters as u64, 0, 0, 2);
    let r = s.syscall(Syscall::Send, e, info, &[0, 5], &[]);
    assert_eq!((r.info, r.mrs[0], r.mrs[1]), (info, 0, 5));
}
