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

/// The address-space methods every architecture has, by what they do, with the same
/// parameters (`seL4_<ARCH>_PageTable_Map(vspace, vaddr, attr)`,
/// `seL4_<ARCH>_Page_Map(vspace, vaddr, rights, attr)`, ...): their riscv64 labels.
pub mod method {
    use super::InvocationLabel as L;
    /// `seL4_RISCV_PageTable_Map`
    pub const PAGE_TABLE_MAP: L = L::RISCVPageTableMap;
    /// `seL4_RISCV_PageTable_Unmap`
    pub const PAGE_TABLE_UNMAP: L = L::RISCVPageTableUnmap;
    /// `seL4_RISCV_Page_Map`
    pub const PAGE_MAP: L = L::RISCVPageMap;
    /// `seL4_RISCV_Page_Unmap`
    pub const PAGE_UNMAP: L = L::RISCVPageUnmap;
    /// `seL4_RISCV_Page_GetAddress`
    pub const PAGE_GET_ADDRESS: L = L::RISCVPageGetAddress;
    /// `seL4_RISCV_ASIDControl_MakePool`
    pub const ASID_CONTROL_MAKE_POOL: L = L::RISCVASIDControlMakePool;
    /// `seL4_RISCV_ASIDPool_Assign`
    pub const ASID_POOL_ASSIGN: L = L::RISCVASIDPoolAssign;
}

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
