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

/// `seL4_ObjectType` of this configuration and architecture.
pub use crate::arch::current::ObjectType;

/// Defines `ObjectType` (and its methods) in an architecture's module: the generic types from 0,
/// MCS's two under `cfg(feature = "mcs")`, then the architecture's, each given as
/// `Name = size_bits, frame: bool;` in seL4's order (`seL4_ModeObjectType`, then
/// `seL4_ArchObjectType`). `tcb_bits` is the architecture's `seL4_TCBBits`. One enum with
/// implicit discriminants, so a type's number is its position, as in libsel4's C enums.
macro_rules! object_types {
    (
        tcb_bits: $tcb_bits:expr;
        $( $(#[doc = $doc:literal])* $name:ident = $bits:expr, frame: $frame:literal; )*
    ) => {
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
            $( $(#[doc = $doc])* $name, )*
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
                $( ObjectType::$name, )*
            ];

            /// The type with number `w`, if this configuration has one.
            #[inline(always)]
            pub const fn from_word(w: u64) -> Option<ObjectType> {
                if w < Self::ALL.len() as u64 {
                    Some(Self::ALL[w as usize])
                } else {
                    None
                }
            }

            /// log2 of the size of one object of this type, given the retype size argument
            /// (used by `Untyped`, `CapTable` and, with MCS, `SchedContext`).
            pub const fn size_bits(self, user_size_bits: u64) -> u64 {
                match self {
                    ObjectType::Untyped => user_size_bits,
                    ObjectType::Tcb => $tcb_bits,
                    ObjectType::Endpoint => $crate::object::ENDPOINT_BITS,
                    ObjectType::Notification => $crate::object::NOTIFICATION_BITS,
                    ObjectType::CapTable => user_size_bits + $crate::object::SLOT_BITS,
                    #[cfg(feature = "mcs")]
                    ObjectType::SchedContext => user_size_bits,
                    #[cfg(feature = "mcs")]
                    ObjectType::Reply => $crate::object::REPLY_BITS,
                    $( ObjectType::$name => $bits, )*
                }
            }

            /// Whether this is a frame type (may be retyped from device untyped memory).
            pub const fn is_frame(self) -> bool {
                match self {
                    $( ObjectType::$name => $frame, )*
                    _ => false,
                }
            }
        }
    };
}
pub(crate) use object_types;

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

    /// `sel4/constants.h`, `sel4/objecttype.h`: the generic types and sizes, the same on every
    /// architecture (the architecture's own are pinned in `crate::arch::<arch>`).
    #[test]
    fn generic_types_and_sizes_match_libsel4() {
        use ObjectType::*;
        for (t, n) in [
            (Untyped, 0),
            (Tcb, 1),
            (Endpoint, 2),
            (Notification, 3),
            (CapTable, 4),
        ] {
            assert_eq!(t as u64, n, "{t:?}");
        }
        #[cfg(feature = "mcs")]
        assert_eq!((SchedContext as u64, Reply as u64), (5, 6));
        assert_eq!((SLOT_BITS, ENDPOINT_BITS), (5, 4));
        assert_eq!(NOTIFICATION_BITS, if cfg!(feature = "mcs") { 6 } else { 5 });
        assert_eq!(MIN_UNTYPED_BITS, 4);
        assert_eq!(CapTable.size_bits(13), 18);
        assert_eq!(Untyped.size_bits(20), 20);
        assert_eq!(Tcb.size_bits(0), TCB_BITS);
        #[cfg(feature = "mcs")]
        {
            assert_eq!(
                (
                    MIN_SCHED_CONTEXT_BITS,
                    CORE_SCHED_CONTEXT_BYTES,
                    REFILL_SIZE_BYTES,
                    REPLY_BITS
                ),
                (7, 128, 16, 5)
            );
            assert_eq!(SchedContext.size_bits(8), 8);
            assert_eq!(Reply.size_bits(0), 5);
        }
    }
}
