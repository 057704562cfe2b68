//! The riscv64 steps of creating the root task (seL4 `src/arch/riscv/kernel/boot.c`,
//! `vspace.c`): its ELF machine, its Sv39 address space (root table, the page tables below it
//! and the mappings of its frames), its ASID pool and its first registers. Generic boot
//! ([`crate::boot`]) does everything else and calls these through `crate::arch`. Pure logic over
//! object memory: runs on the host in tests.
#![forbid(unsafe_code)]

use super::cap::{ArchCap, FrameSize, Mapping, VmRights};
use super::context::{reg, ArchContext};
use super::vspace::{self, AsidPoolRef, PtRef, Pte};
use crate::arch::pptr_to_paddr;
use crate::boot::{BootError, Region, RootCNode};
use crate::cap::Cap;
use crate::mem::{FrameMemory, PPtr};
use abi::bootinfo::{slot, SlotRegion};

/// `MAX_NUM_FREEMEM_REG` (seL4 `include/arch/riscv/arch/bootinfo.h`): slots for free memory
/// regions during boot, also the most RAM regions boot uses.
pub const MAX_NUM_FREEMEM_REG: usize = 16;
/// `NUM_RESERVED_REGIONS` (riscv): the regions boot reserves itself (kernel image, device
/// tree, user image).
pub const NUM_RESERVED_REGIONS: usize = 3;

/// What boot's memory plan takes from riscv64 on `qemu-riscv-virt` (see
/// [`crate::boot::BootRules`]): the kernel window of Sv39 ([`super::PADDR_TOP`]), device
/// untypeds below `CONFIG_PADDR_USER_DEVICE_TOP` (2^39), the kernel's devices reserved in the
/// 2 MiB megapages seL4 riscv `map_kernel_devices` maps them with (`LARGE_PAGE_BITS`), the RAM
/// below the kernel image OpenSBI's (seL4's `physBase` is where OpenSBI hands over:
/// 0x8000_0000..0x8020_0000 becomes device untyped), `seL4_MaxUntypedBits` 38, Sv39's
/// `USER_TOP` and page tables.
pub const BOOT_RULES: crate::boot::BootRules = crate::boot::BootRules {
    paddr_top: super::PADDR_TOP,
    device_top: abi::platform::qemu_riscv_virt::PADDR_USER_DEVICE_TOP,
    kernel_device_frame_bits: abi::arch::riscv64::LARGE_PAGE_BITS,
    ram_below_kernel_is_firmware: true,
    max_untyped_bits: abi::arch::riscv64::MAX_UNTYPED_BITS,
    user_top: abi::arch::riscv64::USER_TOP,
    // Level 1 (1 GiB per table), level 0 (2 MiB): `vspace::level_bits` of [`TABLE_LEVELS`].
    table_spans: &[
        abi::arch::riscv64::HUGE_PAGE_BITS,
        abi::arch::riscv64::LARGE_PAGE_BITS,
    ],
};

/// The root task's ASID (seL4 `IT_ASID`).
pub const IT_ASID: u16 = 1;

/// The levels of the tables below the root that the root task's mappings need, from the root
/// down: level 1 (one per 1 GiB touched), level 0 (one per 2 MiB).
const TABLE_LEVELS: [usize; 2] = [2, 1];

/// Checks that the root task's ELF file is for this architecture (64-bit RISC-V).
pub fn check_root_elf(elf: &xmas_elf::ElfFile<'_>) -> Result<(), BootError> {
    if elf.header.pt1.class() != xmas_elf::header::Class::SixtyFour
        || elf.header.pt2.machine().as_machine() != xmas_elf::header::Machine::RISC_V
    {
        return Err(BootError::Msg("root task ELF is not 64-bit RISC-V"));
    }
    Ok(())
}

/// seL4 `arch_get_n_paging`: how many page tables below the VSpace root the mappings of
/// `[v_start, v_end)` need (one per 1 GiB and one per 2 MiB touched). `v_end > v_start`.
pub fn root_paging_tables(v_start: u64, v_end: u64) -> u64 {
    BOOT_RULES.root_paging_tables(v_start, v_end)
}

/// seL4 `create_it_address_space`: makes the zeroed page table at `root` (kernel-virtual) the
/// root task's VSpace (the kernel's global mappings copied in, its cap written to
/// `seL4_CapInitThreadVSpace`) and hooks the `n_tables` zeroed page tables that follow each
/// other from `tables` on below it to cover `it_v_reg`: the level-1 tables first, then the
/// level-0 ones, each in address order, their caps provided to `cnode` in that order.
/// `n_tables` is [`root_paging_tables`] of `it_v_reg`. Returns the slots of the page-table caps
/// (BootInfo `userImagePaging`).
///
/// Errors: the root CNode is full.
pub fn create_root_vspace(
    cnode: &mut RootCNode,
    root: PtRef,
    tables: impl Fn(u64) -> PtRef,
    n_tables: u64,
    it_v_reg: Region,
) -> Result<SlotRegion, BootError> {
    vspace::copy_global_mappings(root);
    let vspace_cap = Cap::Arch(ArchCap::PageTable {
        base: root,
        mapped: Some(Mapping {
            asid: IT_ASID,
            vaddr: 0,
        }),
    });
    cnode.write_slot(slot::INIT_THREAD_VSPACE, vspace_cap);
    let start = cnode.next_free();
    let mut next = 0;
    for level in TABLE_LEVELS {
        let span_bits = vspace::level_bits(level); // bytes mapped by one entry of this level
        let mut v = it_v_reg.start & !((1u64 << span_bits) - 1);
        while v < it_v_reg.end {
            if next >= n_tables {
                return Err(BootError::Msg("root task page tables miscounted"));
            }
            let table = tables(next);
            next += 1;
            let w = vspace::lookup_pt_slot(root, v);
            debug_assert_eq!(w.level, level);
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

/// seL4 `create_mapped_it_frame_cap`: maps the root task's 4 KiB frame `frame` at `vaddr` in
/// the VSpace `root`, whose page tables on the way exist, with user access,
/// read-write-execute (seL4 `map_it_frame_cap` on RISC-V ignores `executable`); returns the
/// frame's cap.
pub fn map_root_frame(root: PtRef, frame: PPtr<FrameMemory>, vaddr: u64, _executable: bool) -> Cap {
    let w = vspace::lookup_pt_slot(root, vaddr);
    debug_assert_eq!(w.level, 0);
    w.slot.set(Pte::leaf(
        pptr_to_paddr(frame.addr()),
        VmRights::ReadWrite,
        true,
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

/// The root task's first registers (seL4 `create_initial_thread`: `setNextPC`, and
/// `setRegister(capRegister)`): it starts at `entry` with the address of its BootInfo in `a0`.
pub fn init_root_context(ctx: &mut ArchContext, entry: u64, bootinfo: u64) {
    ctx.regs[reg::PC] = entry;
    ctx.regs[reg::A0] = bootinfo;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{tiny_elf, System};

    /// The tiny root task linked at `vaddr`, with `bss` bytes of bss.
    fn elf_at(vaddr: u64, bss: u64) -> Vec<u8> {
        let mut e = tiny_elf();
        let len = e.len() as u64;
        for (off, v) in [
            (24, vaddr + 120),
            (80, vaddr),
            (88, vaddr),
            (104, len + bss),
        ] {
            e[off..off + 8].copy_from_slice(&u64::to_le_bytes(v));
        }
        e
    }

    #[test]
    fn paging_tables_one_per_gib_and_per_2mib_touched() {
        let spans: Vec<u64> = TABLE_LEVELS
            .iter()
            .map(|&l| vspace::level_bits(l))
            .collect();
        assert_eq!(BOOT_RULES.table_spans, &spans[..]);
        assert_eq!(root_paging_tables(0x1_0000, 0x1_7000), 2);
        assert_eq!(root_paging_tables(0x1f_f000, 0x20_1000), 3);
        assert_eq!(root_paging_tables(0x3fff_f000, 0x4000_1000), 4);
        assert_eq!(root_paging_tables(0x3fe0_0000, 0x4020_1000), 5);
    }

    /// An image across a 1 GiB boundary: the level-1 tables come first, then the level-0 ones,
    /// each in address order (seL4 `create_it_address_space`); every frame is mapped where its
    /// cap says; the thread starts at the entry with BootInfo in a0.
    #[test]
    fn root_vspace_across_a_gib_boundary_follows_sel4() {
        let s = System::boot_with(&elf_at(0x3fff_e000, 0x20_3000), 70_000);
        let bi = s.bootinfo();
        let paging: Vec<(u64, u64)> = (bi.user_image_paging.start..bi.user_image_paging.end)
            .map(|i| match s.root_slot(i).cap() {
                Cap::Arch(ArchCap::PageTable {
                    mapped: Some(m), ..
                }) => (m.asid as u64, m.vaddr),
                c => panic!("slot {i}: {c:?}"),
            })
            .collect();
        let one = IT_ASID as u64;
        assert_eq!(
            paging,
            [
                (one, 0),
                (one, 0x4000_0000),
                (one, 0x3fe0_0000),
                (one, 0x4000_0000),
                (one, 0x4020_0000)
            ]
        );
        let regions = [bi.user_image_frames, bi.extra_bi_pages];
        for r in regions {
            for i in r.start..r.end {
                let Cap::Arch(ArchCap::Frame {
                    base,
                    mapped: Some(m),
                    ..
                }) = s.root_slot(i).cap()
                else {
                    panic!("slot {i}")
                };
                assert_eq!(m.asid, IT_ASID);
                assert_eq!(s.user_to_pptr(m.vaddr), base.addr());
            }
        }
        assert_eq!(bi.user_image_frames.end - bi.user_image_frames.start, 516);
        // The extra BootInfo region is 2^17 bytes, but only its 16 + 70000 bytes get frames
        // (seL4 `create_frames_of_region` over `extra_bi_size`): 18 pages.
        assert_eq!(bi.extra_bi_pages.end - bi.extra_bi_pages.start, 18);
        assert_eq!(s.root.reg(reg::PC), 0x3fff_e000 + 120);
        assert_eq!(s.root.reg(reg::A0), bi.ipc_buffer + 0x1000);
        assert_eq!(bi.ipc_buffer, 0x4020_2000);
    }
}
