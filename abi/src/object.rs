//! Object types and sizes (`sel4/objecttype.h`, `arch/objecttype.h`, `sel4_arch/objecttype.h`,
//! `sel4/constants.h`, and the architecture's constants, re-exported here from
//! [`crate::arch::current`]).
//!
//! `seL4_ObjectType` numbers the generic types from 0, then MCS's two, then the
//! architecture's (`seL4_ModeObjectTypeCount`.. `seL4_ObjectTypeCount`): one enum in that
//! order with implicit discriminants, the configuration-dependent variants under `#[cfg]`.

pub use crate::arch::current::{
    ASID_POOL_BITS, ASID_POOL_INDEX_BITS, HUGE_PAGE_BITS, LARGE_PAGE_BITS, MAX_UNTYPED_BITS,
    NUM_ASID_POOLS_BITS, PAGE_BITS, PAGE_TABLE_BITS, PAGE_TABLE_ENTRY_BITS, PAGE_TABLE_INDEX_BITS,
    TCB_BITS, USER_TOP, USER_VSPACE_TOP, VSPACE_BITS,
};

/// `seL4_ObjectType` of this configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum ObjectType {
    /// `seL4_UntypedObject`
    Untyped,
    /// `seL4_TCBObject`
    Tcb,
    /// `seL4_EndpointObject`
    Endpoint,
    /// `seL4_NotificationObject`
    Notification,
    /// `seL4_CapTableObject` (a CNode)
    CapTable,
    /// `seL4_SchedContextObject` (MCS)
    #[cfg(feature = "mcs")]
    SchedContext,
    /// `seL4_ReplyObject` (MCS)
    #[cfg(feature = "mcs")]
    Reply,
    // riscv64: the mode's types, then the architecture's.
    /// `seL4_RISCV_Giga_Page` (1 GiB frame)
    GigaPage,
    /// `seL4_RISCV_4K_Page`
    SmallPage,
    /// `seL4_RISCV_Mega_Page` (2 MiB frame)
    MegaPage,
    /// `seL4_RISCV_PageTableObject`
    PageTable,
}

impl ObjectType {
    /// Every type of this configuration, in numeric order (`0..OBJECT_TYPE_COUNT`).
    pub const ALL: &'static [ObjectType] = &[
        ObjectType::Untyped,
        ObjectType::Tcb,
        ObjectType::Endpoint,
        ObjectType::Notification,
        ObjectType::CapTable,
        #[cfg(feature = "mcs")]
        ObjectType::SchedContext,
        #[cfg(feature = "mcs")]
        ObjectType::Reply,
        ObjectType::GigaPage,
        ObjectType::SmallPage,
        ObjectType::MegaPage,
        ObjectType::PageTable,
    ];

    /// The type with number `w`, if this configuration has one.
    pub const fn from_word(w: u64) -> Option<ObjectType> {
        use ObjectType::*;
        // Constants as patterns: a match the compiler turns into a range check and a jump table.
        const UNTYPED: u64 = Untyped as u64;
        const TCB: u64 = Tcb as u64;
        const ENDPOINT: u64 = Endpoint as u64;
        const NOTIFICATION: u64 = Notification as u64;
        const CAP_TABLE: u64 = CapTable as u64;
        #[cfg(feature = "mcs")]
        const SCHED_CONTEXT: u64 = SchedContext as u64;
        #[cfg(feature = "mcs")]
        const REPLY: u64 = Reply as u64;
        const GIGA_PAGE: u64 = GigaPage as u64;
        const SMALL_PAGE: u64 = SmallPage as u64;
        const MEGA_PAGE: u64 = MegaPage as u64;
        const PAGE_TABLE: u64 = PageTable as u64;
        Some(match w {
            UNTYPED => Untyped,
            TCB => Tcb,
            ENDPOINT => Endpoint,
            NOTIFICATION => Notification,
            CAP_TABLE => CapTable,
            #[cfg(feature = "mcs")]
            SCHED_CONTEXT => SchedContext,
            #[cfg(feature = "mcs")]
            REPLY => Reply,
            GIGA_PAGE => GigaPage,
            SMALL_PAGE => SmallPage,
            MEGA_PAGE => MegaPage,
            PAGE_TABLE => PageTable,
            _ => return None,
        })
    }

    /// log2 of the size of one object of this type, given the retype size argument (used by
    /// `Untyped`, `CapTable` and, with MCS, `SchedContext`).
    pub const fn size_bits(self, user_size_bits: u64) -> u64 {
        match self {
            ObjectType::Untyped => user_size_bits,
            ObjectType::Tcb => TCB_BITS,
            ObjectType::Endpoint => ENDPOINT_BITS,
            ObjectType::Notification => NOTIFICATION_BITS,
            ObjectType::CapTable => user_size_bits + SLOT_BITS,
            #[cfg(feature = "mcs")]
            ObjectType::SchedContext => user_size_bits,
            #[cfg(feature = "mcs")]
            ObjectType::Reply => REPLY_BITS,
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

/// `seL4_ObjectTypeCount`: the types are `0..OBJECT_TYPE_COUNT`.
pub const OBJECT_TYPE_COUNT: u64 = ObjectType::ALL.len() as u64;

/// `seL4_SlotBits`: one CNode slot is 32 bytes.
pub const SLOT_BITS: u64 = 5;
/// `seL4_EndpointBits`.
pub const ENDPOINT_BITS: u64 = 4;
/// `seL4_NotificationBits` on 64-bit: 5, or 6 with MCS (the notification names its
/// scheduling context).
pub const NOTIFICATION_BITS: u64 = if cfg!(feature = "mcs") { 6 } else { 5 };
/// `seL4_ReplyBits` (MCS).
#[cfg(feature = "mcs")]
pub const REPLY_BITS: u64 = 5;
/// `seL4_MinSchedContextBits` (MCS): the smallest scheduling context, 128 bytes.
#[cfg(feature = "mcs")]
pub const MIN_SCHED_CONTEXT_BITS: u64 = 7;
/// `seL4_CoreSchedContextBytes` (MCS): the scheduling context header and two refills.
#[cfg(feature = "mcs")]
pub const CORE_SCHED_CONTEXT_BYTES: u64 = 128;
/// `seL4_RefillSizeBytes` (MCS).
#[cfg(feature = "mcs")]
pub const REFILL_SIZE_BYTES: u64 = 16;
/// `seL4_MinUntypedBits`.
pub const MIN_UNTYPED_BITS: u64 = 4;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_dense() {
        for (n, t) in ObjectType::ALL.iter().enumerate() {
            assert_eq!(*t as u64, n as u64);
            assert_eq!(ObjectType::from_word(n as u64), Some(*t));
        }
        assert!(ObjectType::from_word(OBJECT_TYPE_COUNT).is_none());
        assert!(ObjectType::from_word(u64::MAX).is_none());
    }

    /// `sel4/objecttype.h`, `sel4_arch/objecttype.h`, `arch/objecttype.h` of the non-MCS build.
    #[test]
    #[cfg(not(feature = "mcs"))]
    fn types_and_sizes_match_libsel4() {
        use ObjectType::*;
        let want = [
            (Untyped, 0),
            (Tcb, 1),
            (Endpoint, 2),
            (Notification, 3),
            (CapTable, 4),
            (GigaPage, 5),
            (SmallPage, 6),
            (MegaPage, 7),
            (PageTable, 8),
        ];
        for (t, n) in want {
            assert_eq!(t as u64, n, "{t:?}");
        }
        assert_eq!(OBJECT_TYPE_COUNT, 9);
        assert_eq!(
            (SLOT_BITS, TCB_BITS, ENDPOINT_BITS, NOTIFICATION_BITS),
            (5, 11, 4, 5)
        );
        assert_eq!(MIN_UNTYPED_BITS, 4);
        assert_eq!(CapTable.size_bits(13), 18);
        assert_eq!(GigaPage.size_bits(0), 30);
    }

    /// The same headers of the MCS build (`shared/SEL4-ABI-FACTS-MCS.md`).
    #[test]
    #[cfg(feature = "mcs")]
    fn types_and_sizes_match_libsel4_mcs() {
        use ObjectType::*;
        let want = [
            (Untyped, 0),
            (Tcb, 1),
            (Endpoint, 2),
            (Notification, 3),
            (CapTable, 4),
            (SchedContext, 5),
            (Reply, 6),
            (GigaPage, 7),
            (SmallPage, 8),
            (MegaPage, 9),
            (PageTable, 10),
        ];
        for (t, n) in want {
            assert_eq!(t as u64, n, "{t:?}");
        }
        assert_eq!(OBJECT_TYPE_COUNT, 11);
        assert_eq!((NOTIFICATION_BITS, REPLY_BITS, TCB_BITS), (6, 5, 11));
        assert_eq!(
            (
                MIN_SCHED_CONTEXT_BITS,
                CORE_SCHED_CONTEXT_BYTES,
                REFILL_SIZE_BYTES
            ),
            (7, 128, 16)
        );
        assert_eq!(SchedContext.size_bits(8), 8);
        assert_eq!(Reply.size_bits(0), 5);
    }
}
