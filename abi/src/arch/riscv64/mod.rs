//! riscv64 (Sv39) ABI facts: `libsel4/arch_include/riscv/sel4/arch/constants.h`,
//! `sel4_arch_include/riscv64/sel4/sel4_arch/constants.h` (`CONFIG_PT_LEVELS` 3,
//! `CONFIG_HAVE_FPU`), `arch_include/riscv/sel4/arch/types.h`.

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
/// `CONFIG_HAVE_FPU` (F and D extensions): makes `seL4_TCBBits` 11 and allows
/// `seL4_TCBFlag_fpuDisabled`.
pub const HAVE_FPU: bool = true;
/// `CONFIG_PT_LEVELS`: Sv39.
pub const PT_LEVELS: usize = 3;
/// `seL4_TCBBits` with `HAVE_FPU`.
pub const TCB_BITS: u64 = 11;
/// `seL4_PageBits` (4 KiB, `seL4_RISCV_4K_Page`).
pub const PAGE_BITS: u64 = 12;
/// `seL4_LargePageBits` (2 MiB, `seL4_RISCV_Mega_Page`).
pub const LARGE_PAGE_BITS: u64 = 21;
/// `seL4_HugePageBits` (1 GiB, `seL4_RISCV_Giga_Page`).
pub const HUGE_PAGE_BITS: u64 = 30;
/// `seL4_PageTableBits`.
pub const PAGE_TABLE_BITS: u64 = 12;
/// `seL4_PageTableEntryBits`.
pub const PAGE_TABLE_ENTRY_BITS: u64 = 3;
/// `seL4_PageTableIndexBits`.
pub const PAGE_TABLE_INDEX_BITS: u64 = 9;
/// `seL4_VSpaceBits`: a VSpace is a top-level page table.
pub const VSPACE_BITS: u64 = PAGE_TABLE_BITS;
/// `seL4_NumASIDPoolsBits`.
pub const NUM_ASID_POOLS_BITS: u64 = 7;
/// `seL4_ASIDPoolIndexBits`.
pub const ASID_POOL_INDEX_BITS: u64 = 9;
/// `seL4_ASIDPoolBits`.
pub const ASID_POOL_BITS: u64 = 12;
/// `seL4_MaxUntypedBits`.
pub const MAX_UNTYPED_BITS: u64 = 38;
/// `seL4_UserTop`: on RISC-V the first address above user virtual memory (exclusive; on
/// aarch64 it is the last usable one).
pub const USER_TOP: u64 = 0x0000_003f_ffff_f000;
/// `seL4_UserVSpaceTop` (new in 16.0.0): `seL4_UserTop - 1`.
pub const USER_VSPACE_TOP: u64 = USER_TOP - 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_libsel4() {
        assert_eq!((WORD_BITS, WORD_SIZE_BITS), (64, 3));
        const { assert!(HAVE_FPU) };
        assert_eq!((PT_LEVELS, TCB_BITS), (3, 11));
        assert_eq!(
            (PAGE_BITS, LARGE_PAGE_BITS, HUGE_PAGE_BITS, PAGE_TABLE_BITS),
            (12, 21, 30, 12)
        );
        assert_eq!((PAGE_TABLE_ENTRY_BITS, PAGE_TABLE_INDEX_BITS), (3, 9));
        assert_eq!(
            (NUM_ASID_POOLS_BITS, ASID_POOL_INDEX_BITS, ASID_POOL_BITS),
            (7, 9, 12)
        );
        assert_eq!(MAX_UNTYPED_BITS, 38);
        assert_eq!(USER_TOP, 0x3f_ffff_f000);
        assert_eq!(USER_VSPACE_TOP, 0x3f_ffff_efff);
    }
}
