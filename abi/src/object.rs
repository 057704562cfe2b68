//! Object types and sizes (`sel4/objecttype.h`, `arch/objecttype.h`,
//! `sel4_arch/objecttype.h`, `arch/constants.h`, `sel4_arch/constants.h` for riscv64 with
//! `PT_LEVELS` 3 and `HAVE_FPU`).

/// `seL4_ObjectType` for riscv64 non-MCS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum ObjectType {
    /// `seL4_UntypedObject`
    Untyped = 0,
    /// `seL4_TCBObject`
    Tcb = 1,
    /// `seL4_EndpointObject`
    Endpoint = 2,
    /// `seL4_NotificationObject`
    Notification = 3,
    /// `seL4_CapTableObject` (a CNode)
    CapTable = 4,
    /// `seL4_RISCV_Giga_Page` (1 GiB frame)
    GigaPage = 5,
    /// `seL4_RISCV_4K_Page`
    SmallPage = 6,
    /// `seL4_RISCV_Mega_Page` (2 MiB frame)
    MegaPage = 7,
    /// `seL4_RISCV_PageTableObject`
    PageTable = 8,
}

/// `seL4_ObjectTypeCount`.
pub const OBJECT_TYPE_COUNT: u64 = 9;

impl ObjectType {
    /// The object type for a retype argument, `None` if it is not one (`seL4_InvalidArgument`).
    pub const fn from_word(w: u64) -> Option<ObjectType> {
        use ObjectType::*;
        Some(match w {
            0 => Untyped,
            1 => Tcb,
            2 => Endpoint,
            3 => Notification,
            4 => CapTable,
            5 => GigaPage,
            6 => SmallPage,
            7 => MegaPage,
            8 => PageTable,
            _ => return None,
        })
    }

    /// log2 of the object's size in bytes for the given user size argument (`getObjectSize`):
    /// for Untyped the argument is the size bits, for CapTable the number of slots' bits.
    pub const fn size_bits(self, user_size_bits: u64) -> u64 {
        match self {
            ObjectType::Untyped => user_size_bits,
            ObjectType::Tcb => TCB_BITS,
            ObjectType::Endpoint => ENDPOINT_BITS,
            ObjectType::Notification => NOTIFICATION_BITS,
            ObjectType::CapTable => user_size_bits + SLOT_BITS,
            ObjectType::GigaPage => HUGE_PAGE_BITS,
            ObjectType::SmallPage => PAGE_BITS,
            ObjectType::MegaPage => LARGE_PAGE_BITS,
            ObjectType::PageTable => PAGE_TABLE_BITS,
        }
    }

    /// Whether this is a frame type (may be retyped from device untyped memory).
    pub const fn is_frame(self) -> bool {
        matches!(
            self,
            ObjectType::GigaPage | ObjectType::SmallPage | ObjectType::MegaPage
        )
    }
}

/// `seL4_SlotBits`: one CNode slot is 32 bytes.
pub const SLOT_BITS: u64 = 5;
/// `seL4_TCBBits` with `HAVE_FPU`.
pub const TCB_BITS: u64 = 11;
/// `seL4_EndpointBits`.
pub const ENDPOINT_BITS: u64 = 4;
/// `seL4_NotificationBits` on 64-bit non-MCS.
pub const NOTIFICATION_BITS: u64 = 5;
/// `seL4_PageBits`.
pub const PAGE_BITS: u64 = 12;
/// `seL4_LargePageBits` (2 MiB).
pub const LARGE_PAGE_BITS: u64 = 21;
/// `seL4_HugePageBits` (1 GiB).
pub const HUGE_PAGE_BITS: u64 = 30;
/// `seL4_PageTableBits`.
pub const PAGE_TABLE_BITS: u64 = 12;
/// `seL4_PageTableEntryBits`.
pub const PAGE_TABLE_ENTRY_BITS: u64 = 3;
/// `seL4_PageTableIndexBits`.
pub const PAGE_TABLE_INDEX_BITS: u64 = 9;
/// `seL4_VSpaceBits`.
pub const VSPACE_BITS: u64 = PAGE_TABLE_BITS;
/// `seL4_NumASIDPoolsBits`.
pub const NUM_ASID_POOLS_BITS: u64 = 7;
/// `seL4_ASIDPoolIndexBits`.
pub const ASID_POOL_INDEX_BITS: u64 = 9;
/// `seL4_ASIDPoolBits`.
pub const ASID_POOL_BITS: u64 = 12;
/// `seL4_MinUntypedBits`.
pub const MIN_UNTYPED_BITS: u64 = 4;
/// `seL4_MaxUntypedBits`.
pub const MAX_UNTYPED_BITS: u64 = 38;
/// `seL4_IPCBufferSizeBits`.
pub const IPC_BUFFER_SIZE_BITS: u64 = 10;
/// `seL4_BootInfoFrameBits`.
pub const BOOT_INFO_FRAME_BITS: u64 = 12;
/// `seL4_GuardSizeBits`: the guard size field of a CNode cap is 6 bits.
pub const GUARD_SIZE_BITS: u64 = 6;
/// `seL4_GuardBits`.
pub const GUARD_BITS: u64 = 58;
/// `seL4_BadgeBits` on 64-bit.
pub const BADGE_BITS: u64 = 64;
/// `seL4_UserTop`: first address above user virtual memory.
pub const USER_TOP: u64 = 0x0000_003f_ffff_f000;
/// `seL4_UserVSpaceTop` (new in 16.0.0): `seL4_UserTop - 1`.
pub const USER_VSPACE_TOP: u64 = USER_TOP - 1;

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn types_and_sizes_match_libsel4() {
        assert_eq!(ObjectType::Untyped as u64, 0);
        assert_eq!(ObjectType::Tcb as u64, 1);
        assert_eq!(ObjectType::Endpoint as u64, 2);
        assert_eq!(ObjectType::Notification as u64, 3);
        assert_eq!(ObjectType::CapTable as u64, 4);
        assert_eq!(ObjectType::GigaPage as u64, 5);
        assert_eq!(ObjectType::SmallPage as u64, 6);
        assert_eq!(ObjectType::MegaPage as u64, 7);
        assert_eq!(ObjectType::PageTable as u64, 8);
        for n in 0..OBJECT_TYPE_COUNT {
            assert_eq!(ObjectType::from_word(n).unwrap() as u64, n);
        }
        assert!(ObjectType::from_word(OBJECT_TYPE_COUNT).is_none());
        assert_eq!(
            (SLOT_BITS, TCB_BITS, ENDPOINT_BITS, NOTIFICATION_BITS),
            (5, 11, 4, 5)
        );
        assert_eq!(
            (PAGE_BITS, LARGE_PAGE_BITS, HUGE_PAGE_BITS, PAGE_TABLE_BITS),
            (12, 21, 30, 12)
        );
        assert_eq!((MIN_UNTYPED_BITS, MAX_UNTYPED_BITS), (4, 38));
        assert_eq!(
            (NUM_ASID_POOLS_BITS, ASID_POOL_INDEX_BITS, ASID_POOL_BITS),
            (7, 9, 12)
        );
        assert_eq!(USER_TOP, 0x3f_ffff_f000);
        assert_eq!(USER_VSPACE_TOP, 0x3f_ffff_efff);
        assert_eq!(ObjectType::CapTable.size_bits(13), 18);
    }
}
