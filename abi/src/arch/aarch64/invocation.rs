//! Invocation labels on aarch64: the generic ones, then
//! `sel4_arch_include/aarch64/interfaces/object-api-sel4-arch.xml` (the VSpace cache
//! operations, `ARMSMCCall`, which is numbered although the SMC cap is absent without
//! `CONFIG_ALLOW_SMC_CALLS`), then `arch_include/arm/interfaces/object-api-arch.xml` as
//! configured for `qemu-arm-virt` (no IOMMU, no hypervisor, no SMP: `ARMIRQIssueSGISignal`).

crate::invocation::invocation_labels! {
    // object-api-sel4-arch.xml
    ARMVSpaceClean_Data,
    ARMVSpaceInvalidate_Data,
    ARMVSpaceCleanInvalidate_Data,
    ARMVSpaceUnify_Instruction,
    ARMSMCCall,
    // object-api-arch.xml
    ARMPageTableMap,
    ARMPageTableUnmap,
    ARMPageMap,
    ARMPageUnmap,
    ARMPageClean_Data,
    ARMPageInvalidate_Data,
    ARMPageCleanInvalidate_Data,
    ARMPageUnify_Instruction,
    ARMPageGetAddress,
    ARMASIDControlMakePool,
    ARMASIDPoolAssign,
    ARMIRQIssueIRQHandlerTrigger,
    ARMIRQIssueSGISignal,
}

/// The IRQControl method that issues a handler with a trigger mode (`seL4_IRQControl_GetTrigger`
/// on Arm).
pub const IRQ_ISSUE_IRQ_HANDLER_TRIGGER: InvocationLabel =
    InvocationLabel::ARMIRQIssueIRQHandlerTrigger;

/// The address-space methods every architecture has, by what they do, with the same
/// parameters (`seL4_<ARCH>_PageTable_Map(vspace, vaddr, attr)`,
/// `seL4_<ARCH>_Page_Map(vspace, vaddr, rights, attr)`, ...): their aarch64 labels.
pub mod method {
    use super::InvocationLabel as L;
    /// `seL4_ARM_PageTable_Map`
    pub const PAGE_TABLE_MAP: L = L::ARMPageTableMap;
    /// `seL4_ARM_PageTable_Unmap`
    pub const PAGE_TABLE_UNMAP: L = L::ARMPageTableUnmap;
    /// `seL4_ARM_Page_Map`
    pub const PAGE_MAP: L = L::ARMPageMap;
    /// `seL4_ARM_Page_Unmap`
    pub const PAGE_UNMAP: L = L::ARMPageUnmap;
    /// `seL4_ARM_Page_GetAddress`
    pub const PAGE_GET_ADDRESS: L = L::ARMPageGetAddress;
    /// `seL4_ARM_ASIDControl_MakePool`
    pub const ASID_CONTROL_MAKE_POOL: L = L::ARMASIDControlMakePool;
    /// `seL4_ARM_ASIDPool_Assign`
    pub const ASID_POOL_ASSIGN: L = L::ARMASIDPoolAssign;
}

#[cfg(test)]
mod tests {
    use super::InvocationLabel as L;

    /// The architecture's labels in order, each one more than the last.
    const ARCH: [L; 18] = [
        L::ARMVSpaceClean_Data,
        L::ARMVSpaceInvalidate_Data,
        L::ARMVSpaceCleanInvalidate_Data,
        L::ARMVSpaceUnify_Instruction,
        L::ARMSMCCall,
        L::ARMPageTableMap,
        L::ARMPageTableUnmap,
        L::ARMPageMap,
        L::ARMPageUnmap,
        L::ARMPageClean_Data,
        L::ARMPageInvalidate_Data,
        L::ARMPageCleanInvalidate_Data,
        L::ARMPageUnify_Instruction,
        L::ARMPageGetAddress,
        L::ARMASIDControlMakePool,
        L::ARMASIDPoolAssign,
        L::ARMIRQIssueIRQHandlerTrigger,
        L::ARMIRQIssueSGISignal,
    ];

    /// `invocations_all.json` of the non-MCS reference build: 33 ARMVSpaceClean_Data ..
    /// 50 ARMIRQIssueSGISignal (`shared/SEL4-ABI-FACTS-AARCH64.md`).
    #[test]
    #[cfg(not(feature = "mcs"))]
    fn numbers_of_the_non_mcs_build() {
        assert_eq!(L::COUNT, 51);
        assert_eq!(
            (L::DomainScheduleSetStart as u64, L::CNodeSaveCaller as u64),
            (32, 25)
        );
        for (i, l) in ARCH.iter().enumerate() {
            assert_eq!(*l as u64, 33 + i as u64, "{l:?}");
        }
        let spot = [
            (L::ARMSMCCall, 37),
            (L::ARMPageTableMap, 38),
            (L::ARMPageMap, 40),
            (L::ARMPageGetAddress, 46),
            (L::ARMASIDControlMakePool, 47),
            (L::ARMASIDPoolAssign, 48),
            (L::ARMIRQIssueIRQHandlerTrigger, 49),
            (L::ARMIRQIssueSGISignal, 50),
        ];
        for (l, n) in spot {
            assert_eq!(l as u64, n, "{l:?}");
        }
    }

    /// The same of the MCS build: six more generic labels before them (39..56).
    #[test]
    #[cfg(feature = "mcs")]
    fn numbers_of_the_mcs_build() {
        assert_eq!(L::COUNT, 57);
        assert_eq!(L::SchedContextYieldTo as u64, 38);
        for (i, l) in ARCH.iter().enumerate() {
            assert_eq!(*l as u64, 39 + i as u64, "{l:?}");
        }
        assert_eq!(L::ARMPageMap as u64, 46);
        assert_eq!(L::ARMIRQIssueSGISignal as u64, 56);
    }

    #[test]
    fn labels_are_dense() {
        for (i, l) in L::ALL.iter().enumerate() {
            assert_eq!(*l as u64, i as u64);
            assert_eq!(L::from_label(i as u64), Some(*l));
        }
        assert_eq!(L::from_label(L::COUNT), None);
    }
}
