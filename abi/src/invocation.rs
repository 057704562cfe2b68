//! Invocation labels: the label of the message that invokes a capability.
//!
//! seL4 numbers them from 0 in the order of `libsel4/include/interfaces/object-api.xml`
//! (generic), then `sel4_arch_include/<sel4_arch>/interfaces/object-api-sel4-arch.xml` and
//! `arch_include/<arch>/interfaces/object-api-arch.xml` (architecture), leaving out methods whose
//! configuration condition is false, so a label's number depends on the configuration (MCS adds
//! TCB and scheduling-context methods and drops `CNodeSaveCaller`, shifting everything after)
//! and on the architecture. Here that is literal: one enum per architecture
//! (`invocation_labels!`, invoked in `crate::arch::<arch>`) in XML order with implicit
//! discriminants, whose configuration-dependent variants carry `#[cfg]`; [`InvocationLabel`] is
//! the one of the architecture built for. The tests pin the numbers of each configuration and
//! architecture against `invocations_all.json` of seL4's reference builds.

macro_rules! labels {
    ($( $(#[cfg($c:meta)])? $name:ident, )*) => {
        /// `invocation_label` (+ `sel4_arch_invocation_label`, `arch_invocation_label`) of this
        /// configuration.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u64)]
        #[allow(non_camel_case_types)] // seL4's names: `ARMPageClean_Data`
        pub enum InvocationLabel {
            $( $(#[cfg($c)])? #[doc = concat!("`", stringify!($name), "`")] $name, )*
        }

        /// The number of each label, as a constant usable in patterns.
        #[allow(non_upper_case_globals)]
        mod number {
            $( $(#[cfg($c)])? pub const $name: u64 = super::InvocationLabel::$name as u64; )*
        }

        /// One past the largest label of this configuration.
        #[allow(non_camel_case_types, dead_code)]
        enum Count {
            $( $(#[cfg($c)])? $name, )*
            _End,
        }

        impl InvocationLabel {
            /// The invocation for a message label, `None` for labels this configuration lacks.
            pub const fn from_label(l: u64) -> Option<InvocationLabel> {
                match l {
                    $( $(#[cfg($c)])? number::$name => Some(InvocationLabel::$name), )*
                    _ => None,
                }
            }
        }
    };
}
pub(crate) use labels;

/// Defines `InvocationLabel` in an architecture's module: the generic labels of
/// `object-api.xml` (in XML order, configuration-dependent ones under `#[cfg]`), then the
/// architecture's, given in the order of its `object-api-sel4-arch.xml` and `object-api-arch.xml`.
macro_rules! invocation_labels {
    ($($arch:tt)*) => {
        $crate::invocation::labels! {
            // object-api.xml
            InvalidInvocation,
            UntypedRetype,
            TCBReadRegisters,
            TCBWriteRegisters,
            TCBCopyRegisters,
            TCBConfigure,
            TCBSetPriority,
            TCBSetMCPriority,
            TCBSetSchedParams,
            #[cfg(feature = "mcs")]
            TCBSetTimeoutEndpoint,
            TCBSetIPCBuffer,
            TCBSetSpace,
            TCBSuspend,
            TCBResume,
            TCBBindNotification,
            TCBUnbindNotification,
            TCBSetTLSBase,
            TCBSetFlags,
            CNodeRevoke,
            CNodeDelete,
            CNodeCancelBadgedSends,
            CNodeCopy,
            CNodeMint,
            CNodeMove,
            CNodeMutate,
            CNodeRotate,
            #[cfg(not(feature = "mcs"))]
            CNodeSaveCaller,
            IRQIssueIRQHandler,
            IRQAckIRQ,
            IRQSetIRQHandler,
            IRQClearIRQHandler,
            DomainSetSet,
            DomainScheduleConfigure,
            DomainScheduleSetStart,
            #[cfg(feature = "mcs")]
            SchedControlConfigureFlags,
            #[cfg(feature = "mcs")]
            SchedContextBind,
            #[cfg(feature = "mcs")]
            SchedContextUnbind,
            #[cfg(feature = "mcs")]
            SchedContextUnbindObject,
            #[cfg(feature = "mcs")]
            SchedContextConsumed,
            #[cfg(feature = "mcs")]
            SchedContextYieldTo,
            // the architecture's
            $($arch)*
        }

        impl InvocationLabel {
            /// How many labels this configuration has (they are `0..COUNT`).
            pub const COUNT: u64 = Count::_End as u64;

            /// Every label, in numeric order.
            pub const ALL: [InvocationLabel; Self::COUNT as usize] = {
                let mut all = [InvocationLabel::InvalidInvocation; Self::COUNT as usize];
                let mut i = 0;
                while i < all.len() {
                    all[i] = match InvocationLabel::from_label(i as u64) {
                        Some(l) => l,
                        None => panic!("labels are dense"),
                    };
                    i += 1;
                }
                all
            };
        }
    };
}
pub(crate) use invocation_labels;

/// `invocation_label` (+ `sel4_arch_invocation_label`, `arch_invocation_label`) of this
/// configuration and architecture.
pub use crate::arch::current::InvocationLabel;

/// The IRQControl method that issues a handler with a trigger mode (`seL4_IRQControl_GetTrigger`:
/// `RISCVIRQIssueIRQHandlerTrigger`, `ARMIRQIssueIRQHandlerTrigger`).
pub use crate::arch::current::IRQ_ISSUE_IRQ_HANDLER_TRIGGER;

/// The address-space methods every architecture has (page tables, frames, ASIDs), by what they
/// do: the labels of the architecture built.
pub use crate::arch::current::invocation::method;

#[cfg(test)]
mod tests {
    use super::InvocationLabel as L;

    #[test]
    fn labels_are_dense() {
        for (i, l) in L::ALL.iter().enumerate() {
            assert_eq!(*l as u64, i as u64);
            assert_eq!(L::from_label(i as u64), Some(*l));
        }
        assert_eq!(L::from_label(L::COUNT), None);
        assert_eq!(L::from_label(u64::MAX), None);
    }

    /// The generic labels of `invocations_all.json` of the non-MCS reference builds (riscv64
    /// and aarch64 agree: the architecture's labels follow them).
    #[test]
    #[cfg(not(feature = "mcs"))]
    fn generic_numbers_of_the_non_mcs_build() {
        let want = [
            (L::UntypedRetype, 1),
            (L::TCBSetSchedParams, 8),
            (L::TCBSetIPCBuffer, 9),
            (L::TCBSetFlags, 16),
            (L::CNodeRevoke, 17),
            (L::CNodeRotate, 24),
            (L::CNodeSaveCaller, 25),
            (L::IRQIssueIRQHandler, 26),
            (L::IRQClearIRQHandler, 29),
            (L::DomainSetSet, 30),
            (L::DomainScheduleSetStart, 32),
        ];
        for (l, n) in want {
            assert_eq!(l as u64, n, "{l:?}");
        }
    }

    /// The same of the MCS reference builds (`shared/SEL4-ABI-FACTS-MCS.md`).
    #[test]
    #[cfg(feature = "mcs")]
    fn generic_numbers_of_the_mcs_build() {
        let want = [
            (L::UntypedRetype, 1),
            (L::TCBSetSchedParams, 8),
            (L::TCBSetTimeoutEndpoint, 9),
            (L::TCBSetIPCBuffer, 10),
            (L::TCBSetSpace, 11),
            (L::TCBSuspend, 12),
            (L::TCBResume, 13),
            (L::TCBBindNotification, 14),
            (L::TCBUnbindNotification, 15),
            (L::TCBSetTLSBase, 16),
            (L::TCBSetFlags, 17),
            (L::CNodeRevoke, 18),
            (L::CNodeRotate, 25),
            (L::IRQIssueIRQHandler, 26),
            (L::IRQClearIRQHandler, 29),
            (L::DomainSetSet, 30),
            (L::DomainScheduleSetStart, 32),
            (L::SchedControlConfigureFlags, 33),
            (L::SchedContextBind, 34),
            (L::SchedContextUnbind, 35),
            (L::SchedContextUnbindObject, 36),
            (L::SchedContextConsumed, 37),
            (L::SchedContextYieldTo, 38),
        ];
        for (l, n) in want {
            assert_eq!(l as u64, n, "{l:?}");
        }
    }
}
