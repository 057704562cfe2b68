//! `seL4_BootInfo` and the initial cap slots (`libsel4/include/sel4/bootinfo_types.h`).

use crate::config::MAX_NUM_BOOTINFO_UNTYPED_CAPS;

/// Initial cap slots in the root task's CNode (`seL4_RootCNodeCapSlots`).
pub mod slot {
    /// `seL4_CapNull`
    pub const NULL: u64 = 0;
    /// `seL4_CapInitThreadTCB`
    pub const INIT_THREAD_TCB: u64 = 1;
    /// `seL4_CapInitThreadCNode`
    pub const INIT_THREAD_CNODE: u64 = 2;
    /// `seL4_CapInitThreadVSpace`
    pub const INIT_THREAD_VSPACE: u64 = 3;
    /// `seL4_CapIRQControl`
    pub const IRQ_CONTROL: u64 = 4;
    /// `seL4_CapASIDControl`
    pub const ASID_CONTROL: u64 = 5;
    /// `seL4_CapInitThreadASIDPool`
    pub const INIT_THREAD_ASID_POOL: u64 = 6;
    /// `seL4_CapIOPortControl` (null on riscv64 and on aarch64 as configured)
    pub const IO_PORT_CONTROL: u64 = 7;
    /// `seL4_CapIOSpace` (null on riscv64 and on aarch64 as configured)
    pub const IO_SPACE: u64 = 8;
    /// `seL4_CapBootInfoFrame`
    pub const BOOT_INFO_FRAME: u64 = 9;
    /// `seL4_CapInitThreadIPCBuffer`
    pub const INIT_THREAD_IPC_BUFFER: u64 = 10;
    /// `seL4_CapDomain`
    pub const DOMAIN: u64 = 11;
    /// `seL4_CapSMMUSIDControl` (null on riscv64 and on aarch64 as configured)
    pub const SMMU_SID_CONTROL: u64 = 12;
    /// `seL4_CapSMMUCBControl` (null on riscv64 and on aarch64 as configured)
    pub const SMMU_CB_CONTROL: u64 = 13;
    /// `seL4_CapInitThreadSC` (null without MCS)
    pub const INIT_THREAD_SC: u64 = 14;
    /// `seL4_CapSMC` (null on riscv64, and on aarch64 without `CONFIG_ALLOW_SMC_CALLS`)
    pub const SMC: u64 = 15;
    /// `seL4_NumInitialCaps`: the first slot the kernel fills with boot-time caps.
    pub const NUM_INITIAL_CAPS: u64 = 16;
}

/// `seL4_SlotRegion`: slots `start..end` of the root CNode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct SlotRegion {
    /// First slot of the region.
    pub start: u64,
    /// First slot after the region.
    pub end: u64,
}

/// `seL4_UntypedDesc`: one untyped cap handed to the root task.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct UntypedDesc {
    /// Physical address of the untyped memory.
    pub paddr: u64,
    /// log2 of its size in bytes.
    pub size_bits: u8,
    /// 1 for device memory (frames and untyped only), 0 for RAM.
    pub is_device: u8,
    /// Padding to a word pair.
    pub padding: [u8; 6],
}

/// `seL4_BootInfo`: 3848 bytes (3864 with MCS, which adds `schedcontrol`), in the BootInfo
/// frame.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct BootInfo {
    /// Length of the extra BootInfo chunks after this frame, in bytes.
    pub extra_len: u64,
    /// `nodeID`: 0 on a uniprocessor.
    pub node_id: u64,
    /// `numNodes`: 1 on a uniprocessor.
    pub num_nodes: u64,
    /// `numIOPTLevels`: 0 without an IOMMU.
    pub num_iopt_levels: u64,
    /// `ipcBuffer`: the root task's IPC buffer (user virtual address).
    pub ipc_buffer: u64,
    /// `empty`: slots holding null caps.
    pub empty: SlotRegion,
    /// `sharedFrames`: empty on a uniprocessor.
    pub shared_frames: SlotRegion,
    /// `userImageFrames`: frame caps of the root task's image.
    pub user_image_frames: SlotRegion,
    /// `userImagePaging`: page-table caps of the root task's VSpace.
    pub user_image_paging: SlotRegion,
    /// `ioSpaceCaps`: empty on both architectures.
    pub io_space_caps: SlotRegion,
    /// `extraBIPages`: frame caps of the extra BootInfo pages.
    pub extra_bi_pages: SlotRegion,
    /// `initThreadCNodeSizeBits`.
    pub init_thread_cnode_size_bits: u64,
    /// `initThreadDomain`.
    pub init_thread_domain: u64,
    /// `schedcontrol` (MCS): slots of the SchedControl caps, one per core.
    #[cfg(feature = "mcs")]
    pub schedcontrol: SlotRegion,
    /// `untyped`: slots of the untyped caps.
    pub untyped: SlotRegion,
    /// `untypedList`: one entry per untyped cap, in slot order.
    pub untyped_list: [UntypedDesc; MAX_NUM_BOOTINFO_UNTYPED_CAPS],
}

/// `seL4_BootInfoHeader`: the header of one extra BootInfo chunk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct BootInfoHeader {
    /// One of [`BootInfoId`].
    pub id: u64,
    /// Length of the chunk including this header, in bytes.
    pub len: u64,
}

/// `seL4_BootInfoID`: extra BootInfo chunk identifiers.
pub mod bootinfo_id {
    /// `SEL4_BOOTINFO_HEADER_PADDING`
    pub const PADDING: u64 = 0;
    /// `SEL4_BOOTINFO_HEADER_FDT`: the device tree the kernel booted with.
    pub const FDT: u64 = 6;
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};
    #[test]
    fn layout_matches_bootinfo_types_h() {
        assert_eq!(size_of::<UntypedDesc>(), 16);
        assert_eq!(size_of::<BootInfoHeader>(), 16);
        let mcs = if cfg!(feature = "mcs") { 16 } else { 0 };
        assert_eq!(size_of::<BootInfo>(), 3848 + mcs);
        assert_eq!(offset_of!(BootInfo, extra_len), 0);
        assert_eq!(offset_of!(BootInfo, node_id), 8);
        assert_eq!(offset_of!(BootInfo, num_nodes), 16);
        assert_eq!(offset_of!(BootInfo, num_iopt_levels), 24);
        assert_eq!(offset_of!(BootInfo, ipc_buffer), 32);
        assert_eq!(offset_of!(BootInfo, empty), 40);
        assert_eq!(offset_of!(BootInfo, shared_frames), 56);
        assert_eq!(offset_of!(BootInfo, user_image_frames), 72);
        assert_eq!(offset_of!(BootInfo, user_image_paging), 88);
        assert_eq!(offset_of!(BootInfo, io_space_caps), 104);
        assert_eq!(offset_of!(BootInfo, extra_bi_pages), 120);
        assert_eq!(offset_of!(BootInfo, init_thread_cnode_size_bits), 136);
        assert_eq!(offset_of!(BootInfo, init_thread_domain), 144);
        #[cfg(feature = "mcs")]
        assert_eq!(offset_of!(BootInfo, schedcontrol), 152);
        assert_eq!(offset_of!(BootInfo, untyped), 152 + mcs);
        assert_eq!(offset_of!(BootInfo, untyped_list), 168 + mcs);
    }
    #[test]
    fn initial_slots() {
        assert_eq!(slot::INIT_THREAD_TCB, 1);
        assert_eq!(slot::INIT_THREAD_CNODE, 2);
        assert_eq!(slot::INIT_THREAD_VSPACE, 3);
        assert_eq!(slot::IRQ_CONTROL, 4);
        assert_eq!(slot::ASID_CONTROL, 5);
        assert_eq!(slot::INIT_THREAD_ASID_POOL, 6);
        assert_eq!(slot::BOOT_INFO_FRAME, 9);
        assert_eq!(slot::INIT_THREAD_IPC_BUFFER, 10);
        assert_eq!(slot::DOMAIN, 11);
        assert_eq!(slot::INIT_THREAD_SC, 14);
        assert_eq!(slot::SMC, 15);
        assert_eq!(slot::NUM_INITIAL_CAPS, 16);
        assert_eq!(bootinfo_id::FDT, 6);
    }
}
