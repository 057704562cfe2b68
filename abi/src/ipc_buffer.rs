//! `seL4_IPCBuffer` (`libsel4/include/sel4/shared_types.h`): 1024 bytes, aligned to its size.

use crate::message::{MessageInfo, MSG_MAX_EXTRA_CAPS, MSG_MAX_LENGTH};

/// The IPC buffer shared between a thread and the kernel.
#[derive(Clone, Copy)]
#[repr(C, align(1024))]
pub struct IpcBuffer {
    /// `tag`: the message info (user copy; the kernel uses register a1).
    pub tag: MessageInfo,
    /// `msg[seL4_MsgMaxLength]`: message registers; MR0..MR3 travel in a2..a5 instead.
    pub msg: [u64; MSG_MAX_LENGTH],
    /// `userData`: for the thread's own use (TLS pointer in seL4's runtime).
    pub user_data: u64,
    /// `caps_or_badges[seL4_MsgMaxExtraCaps]`: CPtrs of caps to send, or received badges.
    pub caps_or_badges: [u64; MSG_MAX_EXTRA_CAPS],
    /// `receiveCNode`: CPtr of the CNode for received caps.
    pub receive_cnode: u64,
    /// `receiveIndex`: index in that CNode of the receive slot.
    pub receive_index: u64,
    /// `receiveDepth`: depth of the receive slot lookup.
    pub receive_depth: u64,
}

/// Byte offsets of the fields, as the kernel reads them from user memory.
pub mod offset {
    /// `tag`
    pub const TAG: usize = 0;
    /// `msg`
    pub const MSG: usize = 8;
    /// `userData`
    pub const USER_DATA: usize = 968;
    /// `caps_or_badges`
    pub const CAPS_OR_BADGES: usize = 976;
    /// `receiveCNode`
    pub const RECEIVE_CNODE: usize = 1000;
    /// `receiveIndex`
    pub const RECEIVE_INDEX: usize = 1008;
    /// `receiveDepth`
    pub const RECEIVE_DEPTH: usize = 1016;
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{align_of, offset_of, size_of};
    #[test]
    fn layout_matches_shared_types_h() {
        assert_eq!(size_of::<IpcBuffer>(), 1024);
        assert_eq!(align_of::<IpcBuffer>(), 1024);
        assert_eq!(offset_of!(IpcBuffer, tag), offset::TAG);
        assert_eq!(offset_of!(IpcBuffer, msg), offset::MSG);
        assert_eq!(offset_of!(IpcBuffer, user_data), offset::USER_DATA);
        assert_eq!(
            offset_of!(IpcBuffer, caps_or_badges),
            offset::CAPS_OR_BADGES
        );
        assert_eq!(offset_of!(IpcBuffer, receive_cnode), offset::RECEIVE_CNODE);
        assert_eq!(offset_of!(IpcBuffer, receive_index), offset::RECEIVE_INDEX);
        assert_eq!(offset_of!(IpcBuffer, receive_depth), offset::RECEIVE_DEPTH);
    }
}
