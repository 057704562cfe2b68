//! `seL4_ObjectType` on aarch64: the generic types, then the mode's
//! (`sel4_arch_include/aarch64/sel4/sel4_arch/objecttype.h`: `seL4_ARM_HugePageObject`,
//! `seL4_ARM_VSpaceObject`), then the architecture's (`arch_include/arm/sel4/arch/
//! objecttype.h`: `seL4_ARM_SmallPageObject`, `seL4_ARM_LargePageObject`,
//! `seL4_ARM_PageTableObject`; no VCPU without the hypervisor, no IOPageTable without the TK1
//! SMMU).

use super::{HUGE_PAGE_BITS, LARGE_PAGE_BITS, PAGE_BITS, PAGE_TABLE_BITS, TCB_BITS, VSPACE_BITS};

crate::object::object_types! {
    tcb_bits: TCB_BITS;
    /// `seL4_ARM_HugePageObject` (1 GiB frame)
    HugePage = HUGE_PAGE_BITS, frame: true;
    /// `seL4_ARM_VSpaceObject` (the level-0 table of an address space)
    VSpace = VSPACE_BITS, frame: false;
    /// `seL4_ARM_SmallPageObject` (4 KiB frame)
    SmallPage = PAGE_BITS, frame: true;
    /// `seL4_ARM_LargePageObject` (2 MiB frame)
    LargePage = LARGE_PAGE_BITS, frame: true;
    /// `seL4_ARM_PageTableObject` (a table at level 1, 2 or 3)
    PageTable = PAGE_TABLE_BITS, frame: false;
}

#[cfg(test)]
mod tests {
    use super::ObjectType::{self, *};

    /// `objecttype.h` of the non-MCS reference build (`shared/SEL4-ABI-FACTS-AARCH64.md`).
    #[test]
    #[cfg(not(feature = "mcs"))]
    fn numbers_of_the_non_mcs_build() {
        let want = [
            (Untyped, 0),
            (Tcb, 1),
            (Endpoint, 2),
            (Notification, 3),
            (CapTable, 4),
            (HugePage, 5),
            (VSpace, 6),
            (SmallPage, 7),
            (LargePage, 8),
            (PageTable, 9),
        ];
        for (t, n) in want {
            assert_eq!(t as u64, n, "{t:?}");
        }
        assert_eq!(ObjectType::ALL.len(), 10);
    }

    /// The same of the MCS build.
    #[test]
    #[cfg(feature = "mcs")]
    fn numbers_of_the_mcs_build() {
        let want = [
            (CapTable, 4),
            (SchedContext, 5),
            (Reply, 6),
            (HugePage, 7),
            (VSpace, 8),
            (SmallPage, 9),
            (LargePage, 10),
            (PageTable, 11),
        ];
        for (t, n) in want {
            assert_eq!(t as u64, n, "{t:?}");
        }
        assert_eq!(ObjectType::ALL.len(), 12);
    }

    #[test]
    fn sizes_and_frames() {
        assert_eq!(Tcb.size_bits(0), 11);
        assert_eq!(
            (
                HugePage.size_bits(0),
                LargePage.size_bits(0),
                SmallPage.size_bits(0),
                PageTable.size_bits(0),
                VSpace.size_bits(0)
            ),
            (30, 21, 12, 12, 12)
        );
        assert_eq!(CapTable.size_bits(13), 18);
        for (n, t) in ObjectType::ALL.iter().enumerate() {
            assert_eq!(
                t.is_frame(),
                matches!(t, HugePage | SmallPage | LargePage),
                "{t:?}"
            );
            assert_eq!(ObjectType::from_word(n as u64), Some(*t));
        }
        assert_eq!(ObjectType::from_word(ObjectType::ALL.len() as u64), None);
    }
}
