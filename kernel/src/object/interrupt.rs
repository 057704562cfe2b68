//! Interrupts forwarded to user level (seL4 `src/object/interrupt.c`, manual §9 "Interrupts"):
//! IRQControl hands out IRQHandler caps; an IRQHandler binds a notification that is signalled
//! when the interrupt fires; the interrupt stays masked until the handler acknowledges it.

use crate::cap::Cap;
use crate::cte::{cte_insert, Slot};
use crate::error::SyscallError;
use crate::invocation::InvocationArgs;
use crate::object::cnode::{cte_delete_one, ensure_empty_slot, lookup_target_slot};
use crate::state::Kernel;
use crate::{user_err, user_try};
use abi::platform::current::{KERNEL_TIMER_IRQ, MAX_IRQ};
use abi::InvocationLabel;

/// Number of interrupt lines the kernel tracks (0..=`MAX_IRQ`; the last is the kernel timer).
pub const NUM_IRQS: usize = MAX_IRQ + 1;

/// seL4 `irq_state_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum IrqState {
    /// No handler: the line is masked.
    Inactive = 0,
    /// Delivered to the notification in the IRQ node slot.
    Signal = 1,
    /// The kernel's own (timer).
    Timer = 2,
    /// Reserved by the kernel.
    Reserved = 3,
}

/// log2 of the IRQ node's slots: one 4 KiB page of 32-byte slots (boot allocates it).
pub const IRQ_NODE_RADIX: u32 = abi::object::PAGE_BITS as u32 - abi::object::SLOT_BITS as u32;
const _: () = assert!(MAX_IRQ < 1 << IRQ_NODE_RADIX);

/// The IRQ node slot of interrupt `irq` (seL4 `intStateIRQNode`).
pub fn irq_slot(k: &Kernel, irq: usize) -> Slot {
    Slot(crate::mem::PPtr::new(k.irq_node)).index(IRQ_NODE_RADIX, irq)
}

/// `initIRQs`: every line inactive and masked but the kernel's timer.
pub fn init_irqs(k: &mut Kernel) {
    for irq in 1..NUM_IRQS {
        k.irq_state[irq] = IrqState::Inactive as u8;
        crate::arch::irq_mask(irq, true);
    }
    k.irq_state[KERNEL_TIMER_IRQ] = IrqState::Timer as u8;
}

/// `setIRQState`: records the state and masks the line unless it is now active.
pub fn set_irq_state(k: &mut Kernel, irq: usize, s: IrqState) {
    k.irq_state[irq] = s as u8;
    crate::arch::irq_mask(irq, s == IrqState::Inactive);
}

fn is_irq_active(k: &Kernel, irq: usize) -> bool {
    k.irq_state[irq] != IrqState::Inactive as u8
}

/// A checked `seL4_IRQControl_Get` or `seL4_IRQControl_GetTrigger`: make an IRQHandler cap
/// for `irq`, derived from the IRQControl cap in `control_slot`, in the empty slot `dest`.
#[derive(Clone, Copy, Debug)]
pub struct IrqControlInvocation {
    /// The interrupt line (1..=`MAX_IRQ`, inactive).
    pub irq: usize,
    /// The IRQControl cap's slot (the new cap's MDB parent).
    pub control_slot: Slot,
    /// The destination slot.
    pub dest: Slot,
}

/// A checked IRQHandler invocation.
#[derive(Clone, Copy, Debug)]
pub enum IrqHandlerInvocation {
    /// `invokeIRQHandler_AckIRQ`: unmask the line.
    Ack(usize),
    /// `invokeIRQHandler_SetIRQHandler`: deliver the line to the notification `ntfn` (a cap
    /// with the send right, copied from `slot` into the IRQ node).
    SetNotification { irq: usize, ntfn: Cap, slot: Slot },
    /// `invokeIRQHandler_ClearIRQHandler`: deliver the line to no notification.
    Clear(usize),
}

/// `decodeIRQControlInvocation` (and the RISC-V `IssueIRQHandlerTrigger` variant) on the
/// IRQControl cap in `control_slot`. Errors in seL4's order: `IllegalOperation` (label),
/// `TruncatedMessage` (too few words or no root cap), `RangeError(1, MAX_IRQ)` (line),
/// `RevokeFirst` (already active), the destination's lookup error, `DeleteFirst`.
pub fn decode_irq_control_invocation(
    k: &Kernel,
    label: InvocationLabel,
    args: &impl InvocationArgs,
    control_slot: Slot,
) -> Result<IrqControlInvocation, SyscallError> {
    let (min_len, index_mr) = match label {
        InvocationLabel::IRQIssueIRQHandler => (3, 1),
        InvocationLabel::RISCVIRQIssueIRQHandlerTrigger => (4, 2),
        _ => {
            return Err(user_err!(
                SyscallError::IllegalOperation,
                "IRQControl: Illegal operation."
            ))
        }
    };
    let Some((root, _)) = args.extra_cap(0).filter(|_| args.len() >= min_len) else {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "IRQControl: Truncated message."
        ));
    };
    let irq = args.mr(0);
    if irq == 0 || irq > MAX_IRQ as u64 {
        return Err(user_err!(
            SyscallError::RangeError(1, MAX_IRQ as u64),
            "Rejecting request for IRQ {irq}. IRQ is out of range [1..{MAX_IRQ}]."
        ));
    }
    let irq = irq as usize;
    if is_irq_active(k, irq) {
        return Err(user_err!(
            SyscallError::RevokeFirst,
            "Rejecting request for IRQ {irq}. Already active."
        ));
    }
    let dest = user_try!(
        lookup_target_slot(root, args.mr(index_mr), args.mr(index_mr + 1)),
        "Target slot for new IRQ Handler cap invalid: cap {}, IRQ {irq}.",
        args.extra_cptr(0)
    );
    user_try!(
        ensure_empty_slot(dest),
        "Target slot for new IRQ Handler cap not empty: cap {}, IRQ {irq}.",
        args.extra_cptr(0)
    );
    Ok(IrqControlInvocation {
        irq,
        control_slot,
        dest,
    })
}

/// `invokeIRQControl`: activates the line and puts its IRQHandler cap in the destination.
pub fn invoke_irq_control(k: &mut Kernel, inv: IrqControlInvocation) {
    // The QEMU PLIC has no trigger configuration: the trigger argument is accepted and has no
    // effect, as on seL4 with a PLIC whose driver ignores it.
    set_irq_state(k, inv.irq, IrqState::Signal);
    cte_insert(
        Cap::IrqHandler {
            irq: inv.irq as u64,
        },
        inv.control_slot,
        inv.dest,
    );
}

/// `decodeIRQHandlerInvocation` for the line `irq`: Ack, SetNotification (`TruncatedMessage`
/// without a cap, `InvalidCapability(0)` unless a notification cap with the send right),
/// Clear; `IllegalOperation` for any other label.
pub fn decode_irq_handler_invocation(
    label: InvocationLabel,
    args: &impl InvocationArgs,
    irq: usize,
) -> Result<IrqHandlerInvocation, SyscallError> {
    match label {
        InvocationLabel::IRQAckIRQ => Ok(IrqHandlerInvocation::Ack(irq)),
        InvocationLabel::IRQSetIRQHandler => {
            let Some((ntfn, slot)) = args.extra_cap(0) else {
                return Err(user_err!(
                    SyscallError::TruncatedMessage,
                    "IRQSetHandler: Truncated message."
                ));
            };
            if !matches!(ntfn, Cap::Notification { rights, .. } if rights.send) {
                return Err(user_err!(
                    SyscallError::InvalidCapability(0),
                    "IRQSetHandler: {}",
                    if let Cap::Notification { .. } = ntfn {
                        "caller does not have send rights on the endpoint."
                    } else {
                        "provided cap is not an notification capability."
                    }
                ));
            }
            Ok(IrqHandlerInvocation::SetNotification { irq, ntfn, slot })
        }
        InvocationLabel::IRQClearIRQHandler => Ok(IrqHandlerInvocation::Clear(irq)),
        _ => Err(user_err!(
            SyscallError::IllegalOperation,
            "IRQHandler: Illegal operation."
        )),
    }
}

/// `invokeIRQHandler_AckIRQ`, `invokeIRQHandler_SetIRQHandler`,
/// `invokeIRQHandler_ClearIRQHandler`.
pub fn invoke_irq_handler(k: &mut Kernel, inv: IrqHandlerInvocation) {
    match inv {
        IrqHandlerInvocation::Ack(irq) => crate::arch::irq_mask(irq, false),
        IrqHandlerInvocation::SetNotification { irq, ntfn, slot } => {
            let node = irq_slot(k, irq);
            cte_delete_one(k, node);
            cte_insert(ntfn, slot, node);
        }
        IrqHandlerInvocation::Clear(irq) => {
            let node = irq_slot(k, irq);
            cte_delete_one(k, node);
        }
    }
}

/// `deletingIRQHandler` + `deletedIRQHandler`: the last IRQHandler cap is gone.
pub fn deleting_irq_handler(k: &mut Kernel, irq: usize) {
    if irq >= NUM_IRQS {
        return;
    }
    let node = irq_slot(k, irq);
    cte_delete_one(k, node);
    set_irq_state(k, irq, IrqState::Inactive);
}

/// `handleInterrupt` for a device interrupt: signal the bound notification and keep the line
/// masked until the handler's `seL4_IRQHandler_Ack`.
pub fn handle_interrupt(k: &mut Kernel, irq: usize) {
    use crate::log::{Level, Out::*};
    if irq >= NUM_IRQS {
        crate::log::line(
            Level::Warn,
            &[
                Str("received IRQ "),
                Dec(irq as u64),
                Str(" above maxIRQ "),
                Dec(MAX_IRQ as u64),
            ],
        );
        crate::arch::irq_mask(irq, true);
        return;
    }
    match k.irq_state[irq] {
        s if s == IrqState::Signal as u8 => {
            crate::arch::irq_mask(irq, true);
            match irq_slot(k, irq).cap() {
                Cap::Notification { ptr, badge, rights } if rights.send => {
                    crate::object::notification::send_signal(k, ptr, badge);
                }
                _ => crate::log::line(Level::Warn, &[Str("undelivered IRQ: "), Dec(irq as u64)]),
            }
        }
        _ => {
            crate::arch::irq_mask(irq, true);
            crate::log::line(
                Level::Warn,
                &[Str("received disabled IRQ: "), Dec(irq as u64)],
            );
        }
    }
}
