//! Host tests of IRQControl, IRQHandler and interrupt delivery through notifications.

use crate::arch::host::{irq_is_masked, raise_irq};
use crate::cap::Cap;
use crate::object::tcb::ThreadState;
use crate::testing::*;
use abi::bootinfo::slot;
use abi::{Error, InvocationLabel as L, MessageInfo, ObjectType as T, Syscall};

const CNODE: u64 = slot::INIT_THREAD_CNODE;

#[test]
fn irq_control_issues_handlers_with_sel4s_errors() {
    let mut s = System::boot();
    let e = s.bootinfo().empty.start;
    let ctl = slot::IRQ_CONTROL;
    let r = s.call(ctl, L::IRQIssueIRQHandler, &[0, e, 64], &[CNODE]);
    assert_eq!((r.error(), r.mrs[0], r.mrs[1]), (Error::RangeError, 1, 96));
    let r = s.call(ctl, L::IRQIssueIRQHandler, &[97, e, 64], &[CNODE]);
    assert_eq!((r.error(), r.mrs[0], r.mrs[1]), (Error::RangeError, 1, 96));
    // maxIRQ is the kernel's timer, which is always active.
    let r = s.call(ctl, L::IRQIssueIRQHandler, &[96, e, 64], &[CNODE]);
    assert_eq!(r.error(), Error::RevokeFirst);
    assert_eq!(
        s.call(ctl, L::IRQIssueIRQHandler, &[10, e], &[CNODE])
            .error(),
        Error::TruncatedMessage
    );
    assert_eq!(
        s.call(ctl, L::IRQIssueIRQHandler, &[10, e, 64], &[])
            .error(),
        Error::TruncatedMessage
    );
    assert_eq!(
        s.call(ctl, L::IRQIssueIRQHandler, &[10, CNODE, 64], &[CNODE])
            .error(),
        Error::DeleteFirst
    );
    assert_eq!(
        s.call(ctl, L::IRQAckIRQ, &[10, e, 64], &[CNODE]).error(),
        Error::IllegalOperation
    );
    assert!(irq_is_masked(10));
    assert_eq!(
        s.call(ctl, L::IRQIssueIRQHandler, &[10, e, 64], &[CNODE])
            .info
            .label(),
        0
    );
    assert!(matches!(s.root_slot(e).cap(), Cap::IrqHandler { irq: 10 }));
    assert!(!irq_is_masked(10), "an issued handler's line is enabled");
    assert_eq!(
        s.call(ctl, L::IRQIssueIRQHandler, &[10, e + 1, 64], &[CNODE])
            .error(),
        Error::RevokeFirst
    );
    // The trigger variant.
    let r = s.call(
        ctl,
        L::RISCVIRQIssueIRQHandlerTrigger,
        &[11, 1, e + 1, 64],
        &[CNODE],
    );
    assert_eq!(r.info.label(), 0);
    let r = s.call(
        ctl,
        L::RISCVIRQIssueIRQHandlerTrigger,
        &[12, 1, e + 2],
        &[CNODE],
    );
    assert_eq!(r.error(), Error::TruncatedMessage);
    // Deleting the handler cap frees the line and masks it.
    assert_eq!(s.cnode(L::CNodeDelete, &[e, 64], &[]).info.label(), 0);
    assert!(irq_is_masked(10));
    assert_eq!(
        s.call(ctl, L::IRQIssueIRQHandler, &[10, e, 64], &[CNODE])
            .info
            .label(),
        0
    );
}

#[test]
fn interrupts_signal_the_notification_and_stay_masked_until_acked() {
    let mut s = System::boot();
    let e = s.bootinfo().empty.start;
    assert_eq!(
        s.call(
            slot::IRQ_CONTROL,
            L::IRQIssueIRQHandler,
            &[7, e, 64],
            &[CNODE]
        )
        .info
        .label(),
        0
    );
    let n = s.make(T::Notification, 0, e + 1);
    let r = s.cnode(L::CNodeMint, &[e + 2, 64, n, 64, 15, 0x40], &[CNODE]);
    assert_eq!(r.info.label(), 0);
    // SetNotification needs a notification cap with the send right.
    let ep = s.make(T::Endpoint, 0, e + 3);
    assert_eq!(
        s.call(e, L::IRQSetIRQHandler, &[], &[ep]).error(),
        Error::InvalidCapability
    );
    assert_eq!(
        s.call(e, L::IRQSetIRQHandler, &[], &[]).error(),
        Error::TruncatedMessage
    );
    assert_eq!(
        s.call(e, L::IRQSetIRQHandler, &[], &[e + 2]).info.label(),
        0
    );
    // A driver thread waits on the notification.
    let driver = s.spawn(200, e + 10);
    s.run_as(driver);
    s.sys(Syscall::Recv, n, MessageInfo::new(0, 0, 0, 0), &[], &[]);
    assert_eq!(driver.state(), ThreadState::BlockedOnNotification);
    raise_irq(7);
    crate::entry::handle_interrupt(&mut s.k, crate::entry::Interrupt::External);
    assert_eq!(
        (driver.state(), driver.reg(10)),
        (ThreadState::Running, 0x40)
    );
    assert!(irq_is_masked(7), "masked until acknowledged");
    // While masked, a new interrupt is not taken.
    raise_irq(7);
    assert_eq!(crate::arch::irq_claim(), None);
    // Ack unmasks it and the pending interrupt arrives.
    let root = s.root;
    s.run_as(root);
    assert_eq!(s.call(e, L::IRQAckIRQ, &[], &[]).info.label(), 0);
    assert!(!irq_is_masked(7));
    crate::entry::handle_interrupt(&mut s.k, crate::entry::Interrupt::External);
    let Cap::Notification { ptr, .. } = s.root_slot(n).cap() else {
        panic!()
    };
    assert_eq!(ptr.0.get().word, 0x40);
    // Clear: the interrupt is no longer delivered anywhere.
    assert_eq!(s.call(e, L::IRQClearIRQHandler, &[], &[]).info.label(), 0);
    assert!(crate::object::interrupt::irq_slot(&s.k, 7).is_empty());
}

/// Clearing an IRQ handler deletes the IRQ node's notification cap as any cap is deleted: if
/// it is the notification's last cap, the notification is finalised (seL4 `cteDeleteOne`,
/// `finaliseCap`: the thread bound to it is unbound). A cargo-mutants survivor
/// (docs/TESTING.md).
#[test]
fn clearing_the_last_cap_of_a_notification_finalises_it() {
    let mut s = System::boot();
    let e = s.bootinfo().empty.start;
    ok(s.call(
        slot::IRQ_CONTROL,
        L::IRQIssueIRQHandler,
        &[7, e, 64],
        &[CNODE],
    ));
    let n = s.make(T::Notification, 0, e + 1);
    let t = s.spawn(100, e + 10);
    ok(s.call(e + 10, L::TCBBindNotification, &[], &[n]));
    ok(s.call(e, L::IRQSetIRQHandler, &[], &[n]));
    ok(s.cnode(L::CNodeDelete, &[n, 64], &[]));
    assert!(t.with(|x| x.bound_notification.get()).is_some());
    ok(s.call(e, L::IRQClearIRQHandler, &[], &[]));
    assert!(t.with(|x| x.bound_notification.get()).is_none());
}
