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

/// Number of interrupt lines the kernel tracks (0..=`MAX_IRQ`; the kernel timer is one of them,
/// `KERNEL_TIMER_IRQ`).
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

/// log2 of the IRQ node's slots (seL4 `IRQ_CNODE_SLOT_BITS`): the interrupts rounded up to a
/// power of two, at least a page of 32-byte slots (7 on riscv64, 8 on aarch64). The node is
/// in the kernel image (`crate::boot::IRQ_NODE_BYTES`).
pub const IRQ_NODE_RADIX: u32 = {
    let min = abi::object::PAGE_BITS as u32 - abi::object::SLOT_BITS as u32;
    let bits = NUM_IRQS.next_power_of_two().trailing_zeros();
    if bits > min {
        bits
    } else {
        min
    }
};
const _: () = assert!(MAX_IRQ < 1 << IRQ_NODE_RADIX);

/// The IRQ node (seL4 `intStateIRQNode`): one slot per interrupt for its notification cap,
/// [`crate::boot::IRQ_NODE_BYTES`] of the kernel image's `.bss`.
pub type IrqNode = [crate::cte::Cte; 1 << IRQ_NODE_RADIX];

/// The IRQ node slot of interrupt `irq` (below 2^[`IRQ_NODE_RADIX`]).
pub fn irq_slot(k: &Kernel, irq: usize) -> Slot {
    Slot(k.irq_node.at(irq))
}

/// `initIRQs`: every line inactive and masked but the kernel's timer, which is unmasked (on
/// riscv64 its number is past the PLIC's sources, so only the state changes).
pub fn init_irqs(k: &mut Kernel) {
    for irq in 1..NUM_IRQS {
        k.irq_state[irq] = IrqState::Inactive as u8;
        crate::arch::irq_mask(irq, true);
    }
    set_irq_state(k, KERNEL_TIMER_IRQ, IrqState::Timer);
}

/// `setIRQState`: records the state and masks the line unless it is now active.
pub fn set_irq_state(k: &mut Kernel, irq: usize, s: IrqState) {
    k.irq_state[irq] = s as u8;
    crate::arch::irq_mask(irq, s == IrqState::Inactive);
}

fn is_irq_active(k: &Kernel, irq: usize) -> bool {
    k.irq_state[irq] != IrqState::Inactive as u8
}

/// A checked IRQControl invocation: make a cap derived from the IRQControl cap in
/// `control_slot` in the empty slot `dest`.
#[derive(Clone, Copy, Debug)]
pub enum IrqControlInvocation {
    /// `seL4_IRQControl_Get` or `seL4_IRQControl_GetTrigger`: an IRQHandler cap for `irq`.
    Handler {
        /// The interrupt line (as `crate::arch::check_irq` allows, inactive).
        irq: usize,
        /// The IRQControl cap's slot (the new cap's MDB parent).
        control_slot: Slot,
        /// The destination slot.
        dest: Slot,
        /// `seL4_IRQControl_GetTrigger`'s trigger: edge (`true`) or level; `None` for
        /// `seL4_IRQControl_Get`.
        edge_triggered: Option<bool>,
    },
    /// The architecture's IRQControl invocations (`Arch_decodeIRQControlInvocation`, e.g.
    /// aarch64's `seL4_IRQControl_IssueSGISignal`): the architecture's cap `cap`.
    Arch {
        /// The new cap.
        cap: Cap,
        /// The IRQControl cap's slot (the new cap's MDB parent).
        control_slot: Slot,
        /// The destination slot.
        dest: Slot,
    },
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
/// `TruncatedMessage` (too few words or no root cap), the architecture's `RangeError` for the
/// line (`Arch_checkIRQ`: riscv64 `[1..MAX_IRQ]`, aarch64 `[0..MAX_IRQ]`),
/// `RevokeFirst` (already active), the destination's lookup error, `DeleteFirst`.
pub fn decode_irq_control_invocation(
    k: &Kernel,
    label: InvocationLabel,
    args: &impl InvocationArgs,
    control_slot: Slot,
) -> Result<IrqControlInvocation, SyscallError> {
    let (min_len, index_mr) = match label {
        InvocationLabel::IRQIssueIRQHandler => (3, 1),
        abi::invocation::IRQ_ISSUE_IRQ_HANDLER_TRIGGER => (4, 2),
        _ => return crate::arch::decode_irq_control(label, args, control_slot),
    };
    let Some((root, _)) = args.extra_cap_cold(0).filter(|_| args.len() >= min_len) else {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "IRQControl: Truncated message."
        ));
    };
    let irq = args.mr(0);
    crate::arch::check_irq(irq)?;
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
    Ok(IrqControlInvocation::Handler {
        irq,
        control_slot,
        dest,
        edge_triggered: (label != InvocationLabel::IRQIssueIRQHandler).then(|| args.mr(1) != 0),
    })
}

/// `invokeIRQControl`: activates the line and puts its IRQHandler cap in the destination (or,
/// for the architecture's invocations, its cap: seL4 `Arch_invokeIssueSGISignal`).
pub fn invoke_irq_control(k: &mut Kernel, inv: IrqControlInvocation) {
    match inv {
        IrqControlInvocation::Handler {
            irq,
            control_slot,
            dest,
            edge_triggered,
        } => {
            // seL4 `Arch_invokeIRQControl`: `setIRQTrigger` where the interrupt controller has
            // one (the GIC; the QEMU PLIC has none, and the argument has no effect there).
            if let Some(edge) = edge_triggered {
                crate::arch::set_irq_trigger(irq, edge);
            }
            set_irq_state(k, irq, IrqState::Signal);
            cte_insert(Cap::IrqHandler { irq: irq as u64 }, control_slot, dest);
        }
        IrqControlInvocation::Arch {
            cap,
            control_slot,
            dest,
        } => cte_insert(cap, control_slot, dest),
    }
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
            let Some((ntfn, slot)) = args.extra_cap_cold(0) else {
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
