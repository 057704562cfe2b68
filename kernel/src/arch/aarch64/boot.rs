//! The aarch64 steps of creating the root task (seL4 `src/arch/arm/kernel/boot.c`,
//! `src/arch/arm/64/kernel/vspace.c`: `arch_get_n_paging`, `create_it_address_space`,
//! `create_mapped_it_frame_cap`, `create_it_asid_pool`, `write_it_asid_pool`): its ELF machine,
//! its address space (the VSpace, the page tables below it and the mappings of its frames),
//! its ASID pool and its first registers. Generic boot ([`crate::boot`]) does everything else
//! and calls these through `crate::arch`. Pure logic over object memory, but it makes generic
//! caps of this architecture's kinds, so it exists only when aarch64 is the architecture
//! built.
#![forbid(unsafe_code)]

use super::cap::{ArchCap, FrameSize, Mapping, VmRights};
use super::context::{reg, ArchContext};
use super::vspace::{self, Pte};
use crate::arch::pptr_to_paddr;
use crate::boot::{BootError, Region, RootCNode};
use crate::cap::Cap;
use abi::bootinfo::{slot, SlotRegion};

/// `MAX_NUM_FREEMEM_REG` (seL4 `include/arch/arm/arch/bootinfo.h`): slots for free memory
/// regions during boot. seL4 sizes it from its build's `avail_p_regs` (3 for qemu-arm-virt's
/// single RAM region); this kernel reads RAM from the device tree at boot, so it keeps as many
/// slots as riscv64 (16).
pub const MAX_NUM_FREEMEM_REG: usize = 16;
/// `NUM_RESERVED_REGIONS` (arm, `MODE_RESERVED` 0 on aarch64): the regions boot reserves
/// itself (kernel image, device tree, user image).
pub const NUM_RESERVED_REGIONS: usize = 3;

/// The root task's ASID (seL4 `IT_ASID`).
pub const IT_ASID: u16 = 1;

/// Checks that the root task's ELF file is for this architecture (64-bit AArch64).
pub fn check_root_elf(elf: &xmas_elf::ElfFile<'_>) -> Result<(), BootError> {
    if elf.header.pt1.class() != xmas_elf::header::Class::SixtyFour
        || elf.header.pt2.machine().as_machine() != xmas_elf::header::Machine::AArch64
    {
        return Err(BootError::Msg("root task ELF is not 64-bit AArch64"));
    }
    Ok(())
}

pub use super::vspace::root_paging_tables;
use super::vspace::{AsidPoolRef, PtRef, TABLE_LEVELS};
use crate::mem::{FrameMemory, PPtr};

/// seL4 `create_it_address_space`: the zeroed table `root` becomes the
/// root task's VSpace (its cap, with [`IT_ASID`], written to `seL4_CapInitThreadVSpace`), and
/// the `n_tables` zeroed tables `tables(0..n_tables)` are hooked below it to
/// cover `it_v_reg`: the level-1 tables first, then the level-2 ones, then the level-3 ones,
/// each in address order, their caps provided to `cnode` in that order. `n_tables` is
/// [`root_paging_tables`] of `it_v_reg`. Returns the slots of the page-table caps (BootInfo
/// `userImagePaging`).
///
/// Errors: the root CNode is full.
pub fn create_root_vspace(
    cnode: &mut RootCNode,
    root: PtRef,
    tables: impl Fn(u64) -> PtRef,
    n_tables: u64,
    it_v_reg: Region,
) -> Result<SlotRegion, BootError> {
    cnode.write_slot(
        slot::INIT_THREAD_VSPACE,
        Cap::Arch(ArchCap::VSpace {
            base: root,
            asid: Some(IT_ASID),
        }),
    );
    let start = cnode.next_free();
    let mut next = 0;
    for level in TABLE_LEVELS {
        let span_bits = vspace::level_bits(level - 1);
        let mut v = it_v_reg.start & !((1u64 << span_bits) - 1);
        while v < it_v_reg.end {
            if next >= n_tables {
                return Err(BootError::Msg("root task page tables miscounted"));
            }
            let table = tables(next);
            next += 1;
            let w = vspace::lookup_pt_slot(root, v);
            debug_assert_eq!(w.level, level - 1);
            w.slot.set(Pte::table(table));
            cnode.provide(Cap::Arch(ArchCap::PageTable {
                base: table,
                mapped: Some(Mapping {
                    asid: IT_ASID,
                    vaddr: v,
                }),
            }))?;
            v += 1 << span_bits;
        }
    }
    Ok(SlotRegion {
        start,
        end: cnode.next_free(),
    })
}

/// seL4 `create_mapped_it_frame_cap` (`map_it_frame_cap`): maps the root task's 4 KiB frame
/// `frame` at `vaddr` in the VSpace `root`, whose tables on the way exist:
/// read-write, cacheable, executable if `executable` (seL4: the image and the extra BootInfo
/// frames, not the BootInfo frame and the IPC buffer); returns the frame's cap.
pub fn map_root_frame(root: PtRef, frame: PPtr<FrameMemory>, vaddr: u64, executable: bool) -> Cap {
    let w = vspace::lookup_pt_slot(root, vaddr);
    debug_assert_eq!(w.level, vspace::LAST_LEVEL);
    w.slot.set(Pte::user(
        pptr_to_paddr(frame.addr()),
        VmRights::ReadWrite,
        true,
        !executable,
        FrameSize::Small,
    ));
    Cap::Arch(ArchCap::Frame {
        base: frame,
        size: FrameSize::Small,
        rights: VmRights::ReadWrite,
        is_device: false,
        mapped: Some(Mapping {
            asid: IT_ASID,
            vaddr,
        }),
    })
}

/// The caps of the root task's ASID pool at `pool` (the first one, ASIDs 0..512) and of ASID
/// control, for generic boot's `create_root_asid_pool` (seL4 `create_it_asid_pool`).
pub fn root_asid_caps(pool: AsidPoolRef) -> (Cap, Cap) {
    let asid_pool = ArchCap::AsidPool {
        ptr: pool,
        asid_base: 0,
    };
    (Cap::Arch(asid_pool), Cap::Arch(ArchCap::AsidControl))
}

/// The root task's first registers (seL4 `create_initial_thread`: `setNextPC` and
/// `setRegister(capRegister)`): it starts at `entry` with the address of its BootInfo in x0.
pub fn init_root_context(ctx: &mut ArchContext, entry: u64, bootinfo: u64) {
    ctx.regs[reg::ELR_EL1] = entry;
    ctx.regs[reg::X0] = bootinfo;
}
