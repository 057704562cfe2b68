//! `seL4_ObjectType` on riscv64: the generic types, then `seL4_RISCV_Giga_Page` (the mode's,
//! `sel4_arch_include/riscv64/sel4/sel4_arch/objecttype.h`), then the architecture's
//! (`arch_include/riscv/sel4/arch/objecttype.h`).

use super::{HUGE_PAGE_BITS, LARGE_PAGE_BITS, PAGE_BITS, PAGE_TABLE_BITS, TCB_BITS};

crate::object::object_types! {
    tcb_bits: TCB_BITS;
    /// `seL4_RISCV_Giga_Page` (1 GiB frame)
    GigaPage = HUGE_PAGE_BITS, frame: true;
    /// `seL4_RISCV_4K_Page`
    SmallPage = PAGE_BITS, frame: true;
    /// `seL4_RISCV_Mega_Page` (2 MiB frame)
    MegaPage = LARGE_PAGE_BITS, frame: true;
    /// `seL4_RISCV_PageTableObject`
    PageTable = PAGE_TABLE_BITS, frame: false;
}

#[cfg(test)]
mod tests {
    use super::ObjectType::{self, *};

    /// `objecttype.h` of the non-MCS reference build.
    #[test]
    #[cfg(not(feature = "mcs"))]
    fn numbers_of_the_non_mcs_build() {
        for (t, n) in [(GigaPage, 5), (SmallPage, 6), (MegaPage, 7), (PageTable, 8)] {
            assert_eq!(t as u64, n, "{t:?}");
        }
        assert_eq!(ObjectType::ALL.len(), 9);
    }

    /// The same of the MCS build (`shared/SEL4-ABI-FACTS-MCS.md`).
    #[test]
    #[cfg(feature = "mcs")]
    fn numbers_of_the_mcs_build() {
        for (t, n) in [
            (GigaPage, 7),
            (SmallPage, 8),
            (MegaPage, 9),
            (PageTable, 10),
        ] {
            assert_eq!(t as u64, n, "{t:?}");
        }
        assert_eq!(ObjectType::ALL.len(), 11);
    }

    #[test]
    fn sizes_and_frames() {
        assert_eq!(Tcb.size_bits(0), 11);
        assert_eq!(
            (
                GigaPage.size_bits(0),
                MegaPage.size_bits(0),
                SmallPage.size_bits(0),
                PageTable.size_bits(0)
            ),
            (30, 21, 12, 12)
        );
        for t in ObjectType::ALL {
            assert_eq!(
                t.is_frame(),
                matches!(t, GigaPage | SmallPage | MegaPage),
                "{t:?}"
            );
        }
    }
}
