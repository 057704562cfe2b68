//! Invocation labels on riscv64: the generic ones, then `arch_include/riscv/interfaces/
//! object-api-arch.xml` (`sel4_arch_include/riscv64/interfaces/object-api-sel4-arch.xml` has
//! no methods).

crate::invocation::invocation_labels! {
    RISCVPageTableMap,
    RISCVPageTableUnmap,
    RISCVPageMap,
    RISCVPageUnmap,
    RISCVPageGetAddress,
    RISCVASIDControlMakePool,
    RISCVASIDPoolAssign,
    RISCVIRQIssueIRQHandlerTrigger,
}

/// The IRQControl method that issues a handler with a trigger mode (`seL4_IRQControl_GetTrigger`
/// on riscv).
pub const IRQ_ISSUE_IRQ_HANDLER_TRIGGER: InvocationLabel =
    InvocationLabel::RISCVIRQIssueIRQHandlerTrigger;

#[cfg(test)]
mod tests {
    use super::InvocationLabel as L;

    /// `invocations_all.json` of the non-MCS reference build.
    #[test]
    #[cfg(not(feature = "mcs"))]
    fn numbers_of_the_non_mcs_build() {
        assert_eq!(L::COUNT, 41);
        let want = [
            (L::DomainScheduleSetStart, 32),
            (L::RISCVPageTableMap, 33),
            (L::RISCVPageMap, 35),
            (L::RISCVASIDControlMakePool, 38),
            (L::RISCVIRQIssueIRQHandlerTrigger, 40),
        ];
        for (l, n) in want {
            assert_eq!(l as u64, n, "{l:?}");
        }
    }

    /// `invocations_all.json` of the MCS reference build (`shared/SEL4-ABI-FACTS-MCS.md`).
    #[test]
    #[cfg(feature = "mcs")]
    fn numbers_of_the_mcs_build() {
        assert_eq!(L::COUNT, 47);
        let want = [
            (L::SchedContextYieldTo, 38),
            (L::RISCVPageTableMap, 39),
            (L::RISCVIRQIssueIRQHandlerTrigger, 46),
        ];
        for (l, n) in want {
            assert_eq!(l as u64, n, "{l:?}");
        }
    }
}
