//! Software-generated interrupts on aarch64 (seL4 `seL4_IRQControl_IssueSGISignal`, non-SMP
//! GICv2): the SGI signal cap and the SGI reaching a notification through an IRQHandler.

use abi::{CapRights, ObjectType, Word};
use libsel4::cap::{init, Cap, IrqHandler, Notification};
use libsel4::cap_tag as tag;
use libsel4::invocation::ErrorDetail as D;
use libsel4::sys;

use crate::framework::{ident, Ctx, TestResult};
use crate::{check_eq, expect_err, ok};

/// The SGI the test raises, and the badge of its notification cap.
const SGI: Word = 5;
const BADGE: Word = 0x20;

/// `IssueSGISignal` checks in seL4's order (SGI below 16: RangeError; target below 8:
/// InvalidArgument 1; an occupied destination: DeleteFirst) and makes an SGI signal cap (tag
/// 27); signalling it raises the SGI at this CPU, which reaches the notification an
/// IRQHandler for that INTID names, once per Ack, as a device interrupt does.
pub fn irq_sgi_signal(c: &mut Ctx) -> TestResult {
    let s = c.slots(2)?;
    let issue = |irq, target, slot| {
        sys::seL4_IRQControl_IssueSGISignal(
            init::IRQ_CONTROL.bits(),
            irq,
            target,
            c.root.bits(),
            slot,
            64,
        )
    };
    expect_err!(issue(16, 0, s), D::RangeError { min: 0, max: 15 }, "SGI 16");
    expect_err!(
        issue(SGI, 8, s),
        D::InvalidArgument { index: 1 },
        "target 8"
    );
    ok!(issue(SGI, 0, s), "IssueSGISignal({SGI}, 0)");
    check_eq!(ident(s), tag::SGI_SIGNAL, "the SGI signal cap");
    expect_err!(issue(SGI, 0, s), D::DeleteFirst, "into an occupied slot");

    let n = c.new_object(ObjectType::Notification, 0)?;
    let nb = c.mint(n, CapRights::WRITE, BADGE)?;
    let handler: IrqHandler = Cap::from_bits(s + 1);
    ok!(
        init::IRQ_CONTROL.get(SGI, &c.abs(s + 1)),
        "IRQControl_Get({SGI})"
    );
    ok!(
        handler.set_notification(Notification::from_bits(nb)),
        "SetNotification"
    );
    ok!(handler.ack(), "Ack");
    let ntfn = Notification::from_bits(n);
    check_eq!(ntfn.poll(), 0, "nothing before the signal");
    sys::seL4_Signal(s);
    check_eq!(ntfn.poll(), BADGE, "the SGI reached the notification");
    ok!(handler.ack(), "Ack");
    sys::seL4_Signal(s);
    sys::seL4_Signal(s);
    check_eq!(ntfn.poll(), BADGE, "signalled again");
    ok!(handler.ack(), "Ack");
    check_eq!(ntfn.poll(), 0, "two SGIs before the Ack are one");
    ok!(handler.clear(), "Clear");
    ok!(c.abs(s + 1).delete(), "delete the handler");
    ok!(c.abs(s).delete(), "delete the SGI signal cap");
    Ok(())
}
