//! Word-sized ABI bitfields (`libsel4/mode_include/64/sel4/shared_types.bf`):
//! `seL4_MessageInfo`, `seL4_CapRights`, `seL4_CNode_CapData`.

/// `seL4_MessageInfo`: bits 63..12 label, 11..9 capsUnwrapped, 8..7 extraCaps, 6..0 length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(transparent)]
pub struct MessageInfo(pub u64);

/// `seL4_MsgMaxLength`: message registers in one message.
pub const MSG_MAX_LENGTH: usize = 120;
/// `seL4_MsgMaxExtraCaps`.
pub const MSG_MAX_EXTRA_CAPS: usize = 3;
/// `seL4_MsgLengthBits`.
pub const MSG_LENGTH_BITS: u32 = 7;
/// `seL4_MsgExtraCapBits`.
pub const MSG_EXTRA_CAP_BITS: u32 = 2;
/// Message registers passed in CPU registers (`seL4_FastMessageRegisters`: a2..a5 on riscv64,
/// x2..x5 on aarch64).
pub const FAST_MESSAGE_REGISTERS: usize = 4;

impl MessageInfo {
    /// `seL4_MessageInfo_new(label, capsUnwrapped, extraCaps, length)`; fields are truncated to
    /// their widths.
    pub const fn new(label: u64, caps_unwrapped: u64, extra_caps: u64, length: u64) -> Self {
        MessageInfo(
            (label << 12)
                | ((caps_unwrapped & 0x7) << 9)
                | ((extra_caps & 0x3) << 7)
                | (length & 0x7f),
        )
    }
    /// The label (52 bits).
    pub const fn label(self) -> u64 {
        self.0 >> 12
    }
    /// capsUnwrapped: bit i set if extra cap i was unwrapped to its badge.
    pub const fn caps_unwrapped(self) -> u64 {
        (self.0 >> 9) & 0x7
    }
    /// Number of extra caps (0..=3).
    pub const fn extra_caps(self) -> u64 {
        (self.0 >> 7) & 0x3
    }
    /// Message length in words (0..=127 as encoded; the kernel clamps to 120).
    pub const fn length(self) -> u64 {
        self.0 & 0x7f
    }
}

/// `seL4_CapRights`: bit 3 GrantReply, bit 2 Grant, bit 1 Read, bit 0 Write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(transparent)]
pub struct CapRights(pub u64);

impl CapRights {
    /// `seL4_AllRights`.
    pub const ALL: CapRights = CapRights(0xf);
    /// `seL4_NoRights`.
    pub const NONE: CapRights = CapRights(0);
    /// `seL4_ReadWrite`.
    pub const READ_WRITE: CapRights = CapRights(0x3);
    /// `seL4_CanRead`.
    pub const READ: CapRights = CapRights(0x2);
    /// `seL4_CanWrite`.
    pub const WRITE: CapRights = CapRights(0x1);
    /// `seL4_CanGrant`.
    pub const GRANT: CapRights = CapRights(0x4);
    /// `seL4_CanGrantReply`.
    pub const GRANT_REPLY: CapRights = CapRights(0x8);

    /// `seL4_CapRights_new(grantReply, grant, read, write)`.
    pub const fn new(grant_reply: bool, grant: bool, read: bool, write: bool) -> Self {
        CapRights(
            ((grant_reply as u64) << 3)
                | ((grant as u64) << 2)
                | ((read as u64) << 1)
                | write as u64,
        )
    }
    /// capAllowWrite.
    pub const fn write(self) -> bool {
        self.0 & 1 != 0
    }
    /// capAllowRead.
    pub const fn read(self) -> bool {
        self.0 & 2 != 0
    }
    /// capAllowGrant.
    pub const fn grant(self) -> bool {
        self.0 & 4 != 0
    }
    /// capAllowGrantReply.
    pub const fn grant_reply(self) -> bool {
        self.0 & 8 != 0
    }
    /// The rights in both (`maskCapRights` intersects).
    pub const fn and(self, other: CapRights) -> CapRights {
        CapRights(self.0 & other.0 & 0xf)
    }
}

/// `seL4_CNode_CapData`: bits 63..6 guard, 5..0 guard size. Used as the badge/cap data argument
/// of CNode Mint/Mutate on a CNode cap, and of TCB Configure/SetSpace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(transparent)]
pub struct CNodeCapData(pub u64);

impl CNodeCapData {
    /// `seL4_CNode_CapData_new(guard, guardSize)`.
    pub const fn new(guard: u64, guard_size: u64) -> Self {
        CNodeCapData((guard << 6) | (guard_size & 0x3f))
    }
    /// The guard (58 bits).
    pub const fn guard(self) -> u64 {
        self.0 >> 6
    }
    /// The guard size in bits.
    pub const fn guard_size(self) -> u64 {
        self.0 & 0x3f
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn message_info_layout() {
        let m = MessageInfo::new(0xabcde, 5, 3, 120);
        assert_eq!(m.0, (0xabcde << 12) | (5 << 9) | (3 << 7) | 120);
        assert_eq!(
            (m.label(), m.caps_unwrapped(), m.extra_caps(), m.length()),
            (0xabcde, 5, 3, 120)
        );
        assert_eq!(MessageInfo::new(1, 0, 0, 0).0, 0x1000);
        assert_eq!((MSG_MAX_LENGTH, MSG_MAX_EXTRA_CAPS), (120, 3));
    }
    #[test]
    fn rights_layout() {
        assert_eq!(CapRights::new(true, false, false, false).0, 8);
        assert_eq!(CapRights::new(false, true, false, false).0, 4);
        assert_eq!(CapRights::new(false, false, true, false).0, 2);
        assert_eq!(CapRights::new(false, false, false, true).0, 1);
        assert_eq!(CapRights::ALL.0, 0xf);
    }
    #[test]
    fn cnode_cap_data_layout() {
        let d = CNodeCapData::new(0x5, 4);
        assert_eq!(d.0, (5 << 6) | 4);
        assert_eq!((d.guard(), d.guard_size()), (5, 4));
    }
}
