//! aarch64 ABI facts (non-hypervisor, 48-bit virtual addresses, 4 KiB granule):
//! `libsel4/arch_include/arm/sel4/arch/{constants,types,objecttype}.h` and
//! `sel4_arch_include/aarch64/sel4/sel4_arch/{constants,types,objecttype}.h` of seL4 16.0.0,
//! as configured for `qemu-arm-virt` (`CONFIG_PT_LEVELS` 4, `CONFIG_HAVE_FPU`, no
//! `CONFIG_ARM_HYPERVISOR_SUPPORT`, no SMP; `shared/SEL4-ABI-FACTS-AARCH64.md`).

pub mod fault;
pub mod invocation;
pub mod object;
pub mod user_context;
pub use invocation::{InvocationLabel, IRQ_ISSUE_IRQ_HANDLER_TRIGGER};
pub use object::ObjectType;
pub use user_context::UserContext;

/// `seL4_WordBits`.
pub const WORD_BITS: u32 = 64;
/// `seL4_WordSizeBits`.
pub const WORD_SIZE_BITS: u32 = 3;
/// `CONFIG_HAVE_FPU` (Advanced SIMD and floating point): makes `seL4_TCBBits` 11 and allows
/// `seL4_TCBFlag_fpuDisabled`.
pub const HAVE_FPU: bool = true;
/// `CONFIG_PT_LEVELS`: a VSpace (level 0) and page tables at levels 1, 2 and 3.
pub const PT_LEVELS: usize = 4;
/// `seL4_TCBBits` (no hardware debug API, no hypervisor).
pub const TCB_BITS: u64 = 11;
/// `seL4_PageBits` (4 KiB, `seL4_ARM_SmallPageObject`).
pub const PAGE_BITS: u64 = 12;
/// `seL4_LargePageBits` (2 MiB, `seL4_ARM_LargePageObject`).
pub const LARGE_PAGE_BITS: u64 = 21;
/// `seL4_HugePageBits` (1 GiB, `seL4_ARM_HugePageObject`).
pub const HUGE_PAGE_BITS: u64 = 30;
/// `seL4_PageTableBits`: a page table at level 1, 2 or 3.
pub const PAGE_TABLE_BITS: u64 = 12;
/// `seL4_PageTableEntryBits`.
pub const PAGE_TABLE_ENTRY_BITS: u64 = 3;
/// `seL4_PageTableIndexBits`.
pub const PAGE_TABLE_INDEX_BITS: u64 = 9;
/// `seL4_VSpaceBits`: the level-0 table (512 entries; 13 with the hypervisor's 40-bit stage 2).
pub const VSPACE_BITS: u64 = 12;
/// `seL4_VSpaceIndexBits`.
pub const VSPACE_INDEX_BITS: u64 = 9;
/// `seL4_VSpaceEntryBits`.
pub const VSPACE_ENTRY_BITS: u64 = 3;
/// `seL4_NumASIDPoolsBits`.
pub const NUM_ASID_POOLS_BITS: u64 = 7;
/// `seL4_ASIDPoolIndexBits`.
pub const ASID_POOL_INDEX_BITS: u64 = 9;
/// `seL4_ASIDPoolBits`.
pub const ASID_POOL_BITS: u64 = 12;
/// `seL4_ARM_VCPUBits` (only used with the hypervisor).
pub const VCPU_BITS: u64 = 12;
/// `seL4_IOPageTableBits`.
pub const IO_PAGE_TABLE_BITS: u64 = 12;
/// `seL4_MaxUntypedBits`.
pub const MAX_UNTYPED_BITS: u64 = 47;
/// `seL4_UserTop`: on aarch64 the last address user level may use (inclusive; on RISC-V it is
/// the first one above).
pub const USER_TOP: u64 = 0x0000_7fff_ffff_ffff;
/// `seL4_UserVSpaceTop`: the last user address, `seL4_UserTop` itself.
pub const USER_VSPACE_TOP: u64 = USER_TOP;
/// `seL4_DataFault`: a VM fault message's PrefetchFault word for a data abort.
pub const DATA_FAULT: u64 = 0;
/// `seL4_InstructionFault`: the PrefetchFault word for an instruction abort.
pub const INSTRUCTION_FAULT: u64 = 1;

/// `seL4_ARM_VMAttributes` (`arch_include/arm/sel4/arch/types.h`), the attribute word of
/// `seL4_ARM_Page_Map` and `seL4_ARM_PageTable_Map`.
pub mod vm_attributes {
    /// `seL4_ARM_PageCacheable`: normal cacheable memory (else non-cacheable).
    pub const PAGE_CACHEABLE: u64 = 0x01;
    /// `seL4_ARM_ParityEnabled` (no effect on aarch64).
    pub const PARITY_ENABLED: u64 = 0x02;
    /// `seL4_ARM_Default_VMAttributes`: cacheable, parity enabled.
    pub const DEFAULT: u64 = 0x03;
    /// `seL4_ARM_ExecuteNever`.
    pub const EXECUTE_NEVER: u64 = 0x04;
}

/// `seL4_ARM_CacheType` (`arch_include/arm/sel4/arch/types.h`).
pub mod cache_type {
    /// `seL4_ARM_CacheI`
    pub const I: u64 = 1;
    /// `seL4_ARM_CacheD`
    pub const D: u64 = 2;
    /// `seL4_ARM_CacheID`
    pub const ID: u64 = 3;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_libsel4() {
        assert_eq!((WORD_BITS, WORD_SIZE_BITS), (64, 3));
        const { assert!(HAVE_FPU) };
        assert_eq!((PT_LEVELS, TCB_BITS), (4, 11));
        assert_eq!(
            (PAGE_BITS, LARGE_PAGE_BITS, HUGE_PAGE_BITS, PAGE_TABLE_BITS),
            (12, 21, 30, 12)
        );
        assert_eq!((PAGE_TABLE_ENTRY_BITS, PAGE_TABLE_INDEX_BITS), (3, 9));
        assert_eq!(
            (VSPACE_BITS, VSPACE_INDEX_BITS, VSPACE_ENTRY_BITS),
            (12, 9, 3)
        );
        assert_eq!(
            (NUM_ASID_POOLS_BITS, ASID_POOL_INDEX_BITS, ASID_POOL_BITS),
            (7, 9, 12)
        );
        assert_eq!((VCPU_BITS, IO_PAGE_TABLE_BITS), (12, 12));
        assert_eq!(MAX_UNTYPED_BITS, 47);
        assert_eq!(USER_TOP, 0x7fff_ffff_ffff);
        assert_eq!(USER_VSPACE_TOP, USER_TOP);
        assert_eq!((DATA_FAULT, INSTRUCTION_FAULT), (0, 1));
    }

    #[test]
    fn attributes_match_types_h() {
        use vm_attributes::*;
        assert_eq!(
            (PAGE_CACHEABLE, PARITY_ENABLED, DEFAULT, EXECUTE_NEVER),
            (1, 2, 3, 4)
        );
        assert_eq!((cache_type::I, cache_type::D, cache_type::ID), (1, 2, 3));
    }
}
