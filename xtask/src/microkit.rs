//! The Microkit stages of `cargo xtask test`: the kernel in Microkit's configuration (`--features
//! microkit`), entered as Microkit 2.3.0's loader enters seL4 (no device tree:
//! `dtb_addr_p` = `dtb_size` = 0) through this repository's loader, must hand out the untyped
//! list that Microkit's tool predicts for it, on riscv64 (`qemu_virt_riscv64`) and on aarch64
//! (`qemu_virt_aarch64_el1`): [`Board`].
//!
//! Microkit's tool (`microkit`, its `sel4.rs`) does not ask the kernel: it imitates seL4's boot
//! from the SDK's `platform_gen.json` (QEMU virt with 2 GiB: RAM and device regions), the
//! kernel ELF's `ki_end` and `ki_boot_end` and where it put the initial task, plans the
//! system's objects in the untypeds it predicts, and its initialiser allocates from the real
//! BootInfo. [`predict`] is that prediction, written here from the algorithm (not from the
//! kernel's code): device regions, then the boot-only region, then RAM less the kernel image,
//! the initial task's image and the root task's objects (seL4's rootserver size for a 2^17-slot
//! root CNode, aligned to its largest object, at the top of the highest RAM region that holds
//! it), each cut into the largest aligned powers of two (at most 2^38 bytes on riscv64, 2^47
//! on aarch64), computed on kernel-virtual addresses as seL4 does. Pinned against the real
//! tool's output for Microkit's `example/hello` on both boards ([`tests`]).
//!
//! Slots: the tool numbers the untypeds from 16 + page tables + 1 (SchedControl) + the image's
//! pages *and* the IPC buffer and BootInfo frames; seL4 (and this kernel) put those two frames
//! in fixed slots (`seL4_CapInitThreadIPCBuffer`, `seL4_CapBootInfoFrame`), so seL4's first
//! untyped slot is 2 lower than the tool's. The initialiser reads the real slots from BootInfo;
//! the stage checks seL4's numbering ([`Prediction::first_untyped`]).

use std::path::Path;

use anyhow::{anyhow, Context, Result};
use xmas_elf::program::Type as PhType;
use xmas_elf::symbol_table::Entry;
use xmas_elf::ElfFile;

/// What the prediction needs of a Microkit board: seL4's `platform_gen.json` of the SDK and a
/// few constants of the architecture.
#[derive(Clone, Copy, Debug)]
pub struct Board {
    /// `platform_gen.json`: the device regions `[start, end)`.
    pub device_regions: &'static [(u64, u64)],
    /// `platform_gen.json`: the RAM region `[start, end)`.
    pub ram: (u64, u64),
    /// seL4's kernel window base (`PPTR_BASE`): untypeds are cut on kernel-virtual addresses
    /// `p + PPTR_BASE` (wrapping), as seL4 and the tool do.
    pub pptr_base: u64,
    /// `seL4_MaxUntypedBits`.
    pub max_untyped_bits: u32,
    /// `seL4_TCBBits` of the configuration.
    pub tcb_bits: u32,
    /// The bits each level of page table below the root covers (`get_arch_n_paging`): one
    /// table per 2^bits touched, at each level.
    pub paging_bits: &'static [u32],
}

/// seL4 16.0.0's build for Microkit's `qemu_virt_riscv64` (QEMU_MEMORY 2048, Sv39).
pub const RISCV64: Board = Board {
    device_regions: &[
        (0, 0x200_0000),
        (0x220_0000, 0xc00_0000),
        (0xc60_0000, 0x8020_0000),
        (0x1_0000_0000, 1 << 39),
    ],
    ram: (0x8020_0000, 0x1_0000_0000),
    pptr_base: 0xffff_ffc0_0000_0000,
    max_untyped_bits: 38,
    tcb_bits: 11,
    paging_bits: &[30, 21],
};

/// seL4 16.0.0's build for Microkit's `qemu_virt_aarch64_el1` (QEMU_MEMORY 2048, no
/// hypervisor: 4-level VSpaces, a 39-bit kernel window; `seL4_TCBBits` 11 without
/// HardwareDebugAPI). Devices: everything below 2^40 but RAM and the first page of the GIC
/// distributor (0x800_0000) and of its CPU interface (0x801_0000).
pub const AARCH64: Board = Board {
    device_regions: &[
        (0, 0x800_0000),
        (0x800_1000, 0x801_0000),
        (0x801_1000, 0x4000_0000),
        (0xc000_0000, 1 << 40),
    ],
    ram: (0x4000_0000, 0xc000_0000),
    pptr_base: 0xffff_ff80_0000_0000,
    max_untyped_bits: 47,
    tcb_bits: 11,
    paging_bits: &[39, 30, 21],
};

/// Microkit's kernel configuration: `CONFIG_ROOT_CNODE_SIZE_BITS`.
const ROOT_CNODE_BITS: u32 = 17;
/// `seL4_SlotBits`, `seL4_PageBits`, `seL4_ASIDPoolBits`, `seL4_VSpaceBits`,
/// `seL4_PageTableBits`, `seL4_MinSchedContextBits` (MCS): the same on both boards.
const SLOT_BITS: u32 = 5;
const PAGE_BITS: u32 = 12;
const ASID_POOL_BITS: u32 = 12;
const VSPACE_BITS: u32 = 12;
const PAGE_TABLE_BITS: u32 = 12;
const MIN_SCHED_CONTEXT_BITS: u32 = 7;
/// The fixed initial caps before the page-table caps (MCS: slots 0..16).
const FIXED_CAPS: u64 = 16;

/// One untyped: physical address, log2 size, device memory or RAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Untyped {
    pub paddr: u64,
    pub size_bits: u32,
    pub device: bool,
}

/// What the prediction starts from.
#[derive(Clone, Copy, Debug)]
pub struct Inputs {
    /// The board.
    pub board: Board,
    /// Physical address of the kernel ELF's first byte (its first loadable segment's).
    pub kernel_base: u64,
    /// Physical `ki_end` and `ki_boot_end` of the kernel ELF.
    pub ki_end: u64,
    pub ki_boot_end: u64,
    /// The initial task's image: physical `[start, end)` and virtual `[start, end)`.
    pub ui_p: (u64, u64),
    pub ui_v: (u64, u64),
}

/// The boot state Microkit's tool expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prediction {
    /// seL4's first untyped slot (the tool's is 2 higher, see the module doc).
    pub first_untyped: u64,
    /// Device untypeds first, then the boot region's, then RAM's, in slot order.
    pub untypeds: Vec<Untyped>,
}

/// A set of disjoint regions `[start, end)`, sorted.
#[derive(Clone, Debug, Default)]
struct Regions(Vec<(u64, u64)>);

impl Regions {
    /// Removes `[start, end)`, which must lie inside one region.
    fn remove(&mut self, start: u64, end: u64) -> Result<()> {
        let i = self
            .0
            .iter()
            .position(|&(s, e)| s <= start && end <= e)
            .ok_or_else(|| anyhow!("[{start:#x}, {end:#x}) is not inside one free region"))?;
        let (s, e) = self.0[i];
        let rest: Vec<(u64, u64)> = [(s, start), (end, e)]
            .into_iter()
            .filter(|r| r.0 < r.1)
            .collect();
        self.0.splice(i..=i, rest);
        Ok(())
    }
}

/// Cuts `[start, end)` into the largest naturally aligned powers of two (at most the board's
/// `max_untyped_bits`), on kernel-virtual addresses with wrapping arithmetic (a virtual
/// address of 0 counts as aligned to anything).
fn power_of_two_blocks(b: &Board, start: u64, end: u64, device: bool, out: &mut Vec<Untyped>) {
    let mut v = start.wrapping_add(b.pptr_base);
    let v_end = end.wrapping_add(b.pptr_base);
    while v != v_end {
        let size = v_end.wrapping_sub(v);
        let mut bits = 63 - size.leading_zeros();
        if v != 0 {
            bits = bits.min(v.trailing_zeros());
        }
        bits = bits.min(b.max_untyped_bits);
        out.push(Untyped {
            paddr: v.wrapping_sub(b.pptr_base),
            size_bits: bits,
            device,
        });
        v = v.wrapping_add(1 << bits);
    }
}

/// How many page tables below the root map `[start, end)` (Sv39: one per 1 GiB and one per
/// 2 MiB touched; aarch64 also one per 512 GiB).
fn paging_tables(b: &Board, (start, end): (u64, u64)) -> u64 {
    b.paging_bits
        .iter()
        .map(|&b| ((end + (1 << b) - 1) >> b) - (start >> b))
        .sum()
}

/// Microkit's prediction of seL4's boot for `i` (see the module doc).
///
/// Errors: the inputs do not fit the platform (image outside RAM, no room for the root task's
/// objects).
pub fn predict(i: &Inputs) -> Result<Prediction> {
    let b = &i.board;
    let mut ram = Regions(vec![b.ram]);
    ram.remove(i.kernel_base, i.ki_end)?;
    ram.remove(i.ui_p.0, i.ui_p.1)?;
    // The root task's virtual region: the image, its IPC buffer, its BootInfo (no extra
    // BootInfo without a device tree).
    let it_v = (i.ui_v.0, i.ui_v.1 + 2 * (1 << PAGE_BITS));
    let n_paging = paging_tables(b, it_v);
    let size: u64 = (1u64 << (ROOT_CNODE_BITS + SLOT_BITS))
        + (1 << b.tcb_bits)
        + 2 * (1 << PAGE_BITS)
        + (1 << ASID_POOL_BITS)
        + (1 << VSPACE_BITS)
        + n_paging * (1 << PAGE_TABLE_BITS)
        + (1 << MIN_SCHED_CONTEXT_BITS);
    let align = 1u64 << (ROOT_CNODE_BITS + SLOT_BITS).max(VSPACE_BITS);
    let start = ram
        .0
        .iter()
        .rev()
        .find_map(|&(s, e)| {
            let start = e.checked_sub(size)? & !(align - 1);
            (start >= s).then_some(start)
        })
        .ok_or_else(|| anyhow!("no RAM region holds the root task's {size:#x} bytes"))?;
    ram.remove(start, start + size)?;

    let mut untypeds = Vec::new();
    for &(s, e) in b.device_regions {
        power_of_two_blocks(b, s, e, true, &mut untypeds);
    }
    power_of_two_blocks(b, i.kernel_base, i.ki_boot_end, false, &mut untypeds);
    for &(s, e) in &ram.0 {
        power_of_two_blocks(b, s, e, false, &mut untypeds);
    }
    let image_pages = (i.ui_v.1 - i.ui_v.0) >> PAGE_BITS;
    Ok(Prediction {
        first_untyped: FIXED_CAPS + n_paging + 1 + image_pages,
        untypeds,
    })
}

/// The physical first byte (the first loadable segment's), `ki_end` and `ki_boot_end` of a
/// kernel ELF (its symbols, translated with its first loadable segment's offset, as
/// Microkit's tool does).
///
/// Errors: not an ELF file, no loadable segment, a symbol missing.
pub fn kernel_symbols(kernel: &Path) -> Result<(u64, u64, u64)> {
    let data = std::fs::read(kernel).with_context(|| format!("reading {}", kernel.display()))?;
    let elf = ElfFile::new(&data).map_err(|e| anyhow!("not an ELF file: {e}"))?;
    let seg = elf
        .program_iter()
        .find(|p| p.get_type() == Ok(PhType::Load))
        .ok_or_else(|| anyhow!("no loadable segment"))?;
    let (v, p) = (seg.virtual_addr(), seg.physical_addr());
    let syms = crate::bootregion::symbol_table(&elf)?;
    let phys = |name: &str| {
        syms.iter()
            .find(|s| s.get_name(&elf) == Ok(name))
            .map(|s| s.value().wrapping_sub(v).wrapping_add(p))
            .ok_or_else(|| anyhow!("no symbol {name}"))
    };
    Ok((p, phys("ki_end")?, phys("ki_boot_end")?))
}

/// The loader's line `loader: kernel ..., root task <p0>..<p1> (virtual <v0>..<v1>, ...`:
/// the image's physical and virtual extents.
pub fn loader_placement(text: &str) -> Option<((u64, u64), (u64, u64))> {
    let line = text.lines().find(|l| l.starts_with("loader: kernel "))?;
    let range = |after: &str| -> Option<(u64, u64)> {
        let rest = &line[line.find(after)? + after.len()..];
        let word = rest.split([' ', ',', ')']).next()?;
        let (a, b) = word.split_once("..")?;
        let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok();
        Some((hex(a)?, hex(b)?))
    };
    Some((range("root task ")?, range("(virtual ")?))
}

/// The kernel's boot-info lines: the first untyped slot (summary line) and each untyped
/// (`boot info: untyped <slot> <paddr> <size_bits> device|ram`) in order.
pub fn reported(text: &str) -> (Option<u64>, Vec<(u64, Untyped)>) {
    let mut first = None;
    let mut list = Vec::new();
    for l in text.lines() {
        let Some(rest) = l.split("boot info: ").nth(1) else {
            continue;
        };
        if let Some(s) = rest.strip_prefix("untyped slots ") {
            first = s.split("..").next().and_then(|n| n.parse().ok());
        } else if let Some(s) = rest.strip_prefix("untyped ") {
            let w: Vec<&str> = s.split_whitespace().collect();
            let parsed = (|| {
                Some((
                    w.first()?.parse().ok()?,
                    Untyped {
                        paddr: u64::from_str_radix(w.get(1)?.trim_start_matches("0x"), 16).ok()?,
                        size_bits: w.get(2)?.parse().ok()?,
                        device: *w.get(3)? == "device",
                    },
                ))
            })();
            list.extend(parsed);
        }
    }
    (first, list)
}

/// What differs between the prediction and the kernel's report, one line each (none: equal).
pub fn compare(pred: &Prediction, first: Option<u64>, got: &[(u64, Untyped)]) -> Vec<String> {
    let mut problems = Vec::new();
    if first != Some(pred.first_untyped) {
        problems.push(format!(
            "first untyped slot: kernel {first:?}, expected {}",
            pred.first_untyped
        ));
    }
    if got.len() != pred.untypeds.len() {
        problems.push(format!(
            "{} untypeds reported, {} predicted",
            got.len(),
            pred.untypeds.len()
        ));
    }
    for (i, (want, (slot, have))) in pred.untypeds.iter().zip(got).enumerate() {
        let want_slot = pred.first_untyped + i as u64;
        if want != have || *slot != want_slot {
            problems.push(format!(
                "untyped {i}: kernel slot {slot} {have:x?}, predicted slot {want_slot} {want:x?}"
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A device untyped of the predicted list.
    fn d(paddr: u64, size_bits: u32) -> Untyped {
        Untyped {
            paddr,
            size_bits,
            device: true,
        }
    }

    /// A RAM untyped of the predicted list.
    fn r(paddr: u64, size_bits: u32) -> Untyped {
        Untyped {
            paddr,
            size_bits,
            device: false,
        }
    }

    /// Microkit 2.3.0's tool for `example/hello` with this kernel (`kernel-microkit`,
    /// `ki_end` 0x8024_f000, `ki_boot_end` 0x8020_b000; initial task at 0x8024_f000..
    /// 0x8028_5000, virtual 0x1_0000..0x4_6000) predicted these 59 untypeds (read off the
    /// tool's `emulate_kernel_boot` result) from slot 75, and the kernel handed out the same
    /// list from slot 73 (seL4's numbering: the tool counts the IPC buffer and BootInfo frames
    /// as image frames).
    #[test]
    fn prediction_is_microkits_for_hello() {
        let p = predict(&Inputs {
            board: RISCV64,
            kernel_base: 0x8020_0000,
            ki_end: 0x8024_f000,
            ki_boot_end: 0x8020_b000,
            ui_p: (0x8024_f000, 0x8028_5000),
            ui_v: (0x1_0000, 0x4_6000),
        })
        .unwrap();
        assert_eq!(p.first_untyped, 75 - 2);
        let mut want = vec![
            d(0x0, 25),
            d(0x220_0000, 21),
            d(0x240_0000, 22),
            d(0x280_0000, 23),
            d(0x300_0000, 24),
            d(0x400_0000, 26),
            d(0x800_0000, 26),
            d(0xc60_0000, 21),
            d(0xc80_0000, 23),
            d(0xd00_0000, 24),
            d(0xe00_0000, 25),
            d(0x1000_0000, 28),
            d(0x2000_0000, 29),
            d(0x4000_0000, 30),
            d(0x8000_0000, 21),
        ];
        want.extend((32..39).map(|b| d(1 << b, b as u32)));
        want.extend([
            r(0x8020_0000, 15),
            r(0x8020_8000, 13),
            r(0x8020_a000, 12),
            r(0x8028_5000, 12),
            r(0x8028_6000, 13),
            r(0x8028_8000, 15),
            r(0x8029_0000, 16),
            r(0x802a_0000, 17),
            r(0x802c_0000, 18),
            r(0x8030_0000, 20),
            r(0x8040_0000, 22),
            r(0x8080_0000, 23),
            r(0x8100_0000, 24),
            r(0x8200_0000, 25),
            r(0x8400_0000, 26),
            r(0x8800_0000, 27),
            r(0x9000_0000, 28),
            r(0xa000_0000, 29),
            r(0xc000_0000, 29),
            r(0xe000_0000, 28),
            r(0xf000_0000, 27),
            r(0xf800_0000, 26),
            r(0xfc00_0000, 25),
            r(0xfe00_0000, 24),
            r(0xff00_0000, 23),
            r(0xffc0_6880, 7),
            r(0xffc0_6900, 8),
            r(0xffc0_6a00, 9),
            r(0xffc0_6c00, 10),
            r(0xffc0_7000, 12),
            r(0xffc0_8000, 15),
            r(0xffc1_0000, 16),
            r(0xffc2_0000, 17),
            r(0xffc4_0000, 18),
            r(0xffc8_0000, 19),
            r(0xffd0_0000, 20),
            r(0xffe0_0000, 21),
        ]);
        assert_eq!(want.len(), 59);
        assert_eq!(p.untypeds, want);
    }

    /// seL4 16.0.0 itself, as the SDK builds it (`sel4.elf`: `ki_end` 0x8023_8000,
    /// `ki_boot_end` 0x8020_3000), entered by this repository's loader without a device tree
    /// with the demo (built with `mcs`) as root task at 0x8023_8000..0x8027_6000 (virtual
    /// 0x40_0000..0x43_e000), printed (the demo's BootInfo lines): 55 untypeds (22 device,
    /// 33 RAM) from slot 81, empty slots from 136, and the untyped in slot 117 is
    /// 0xc000_0000, 2^29 bytes. This kernel with the same root task (after its own `ki_end`
    /// 0x8024_f000, `ki_boot_end` 0x8020_b000) printed 58 (22 device, 36 RAM) from slot 81,
    /// slot 120 = 0xc000_0000, 2^29.
    #[test]
    fn prediction_is_sel4s_for_the_same_inputs() {
        for (ki_end, ki_boot_end, n, ram_block_slot) in [
            (0x8023_8000, 0x8020_3000, 55, 117),
            (0x8024_f000, 0x8020_b000, 58, 120),
        ] {
            let p = predict(&Inputs {
                board: RISCV64,
                kernel_base: 0x8020_0000,
                ki_end,
                ki_boot_end,
                ui_p: (ki_end, ki_end + 0x3_e000),
                ui_v: (0x40_0000, 0x43_e000),
            })
            .unwrap();
            assert_eq!(p.first_untyped, 81);
            assert_eq!(p.untypeds.len(), n);
            assert_eq!(p.untypeds.iter().filter(|u| u.device).count(), 22);
            assert_eq!(
                p.untypeds[(ram_block_slot - p.first_untyped) as usize],
                Untyped {
                    paddr: 0xc000_0000,
                    size_bits: 29,
                    device: false
                }
            );
        }
    }

    /// Microkit 2.3.0's tool for `example/hello` on `qemu_virt_aarch64_el1` with this kernel
    /// (`--features microkit`: image 0x4020_0000..`ki_end` 0x4025_b000, `ki_boot_end`
    /// 0x4020_d000; initial task at 0x4025_b000..0x402b_6000, virtual 0x20_0000..0x25_b000)
    /// predicted these 64 untypeds (30 device, 34 RAM; read off the tool's
    /// `emulate_kernel_boot` result) from slot 113, and the kernel handed out 64 (30 device,
    /// 34 RAM) from slot 111. RAM below the kernel (0x4000_0000..0x4020_0000) comes after the
    /// boot region.
    #[test]
    fn prediction_is_microkits_for_hello_on_aarch64() {
        let p = predict(&Inputs {
            board: AARCH64,
            kernel_base: 0x4020_0000,
            ki_end: 0x4025_b000,
            ki_boot_end: 0x4020_d000,
            ui_p: (0x4025_b000, 0x402b_6000),
            ui_v: (0x20_0000, 0x25_b000),
        })
        .unwrap();
        assert_eq!(p.first_untyped, 113 - 2);
        let mut want = vec![
            d(0x0, 27),
            d(0x800_1000, 12),
            d(0x800_2000, 13),
            d(0x800_4000, 14),
            d(0x800_8000, 15),
            d(0x801_1000, 12),
            d(0x801_2000, 13),
            d(0x801_4000, 14),
            d(0x801_8000, 15),
        ];
        want.extend((17..=25).map(|b| d(0x800_0000 + (1 << b), b)));
        want.extend([
            d(0xc00_0000, 26),
            d(0x1000_0000, 28),
            d(0x2000_0000, 29),
            d(0xc000_0000, 30),
        ]);
        want.extend((32..40).map(|b| d(1 << b, b as u32)));
        want.extend([
            r(0x4020_0000, 15),
            r(0x4020_8000, 14),
            r(0x4020_c000, 12),
            r(0x4000_0000, 21),
            r(0x402b_6000, 13),
            r(0x402b_8000, 15),
            r(0x402c_0000, 18),
            r(0x4030_0000, 20),
        ]);
        want.extend((22..=29).map(|b| r(0x4000_0000 + (1 << b), b)));
        want.extend([
            r(0x8000_0000, 29),
            r(0xa000_0000, 28),
            r(0xb000_0000, 27),
            r(0xb800_0000, 26),
            r(0xbc00_0000, 25),
            r(0xbe00_0000, 24),
            r(0xbf00_0000, 23),
            r(0xbfc0_7880, 7),
            r(0xbfc0_7900, 8),
            r(0xbfc0_7a00, 9),
            r(0xbfc0_7c00, 10),
        ]);
        want.extend((15..=21).map(|b| r(0xbfc0_0000 + (1 << b), b)));
        assert_eq!(want.len(), 64);
        assert_eq!(p.untypeds, want);
    }

    #[test]
    fn reports_are_parsed_and_compared() {
        let text = "loader: kernel 0x80200000..0x8024f000 (entry 0xffffffff80200000), device tree 0x8024f000..0x8024f000, root task 0x8024f000..0x80285000 (virtual 0x10000..0x46000, entry 0x20f88)\n\
            [kernel INFO] boot info: untyped slots 73..75 (1 device, 1 RAM), empty slots 75..131072, user image frames 19..73, paging 16..18\n\
            [kernel DEBUG] boot info: untyped 73 0x0 25 device\n\
            [kernel DEBUG] boot info: untyped 74 0x80200000 15 ram\n";
        assert_eq!(
            loader_placement(text),
            Some(((0x8024_f000, 0x8028_5000), (0x1_0000, 0x4_6000)))
        );
        let (first, got) = reported(text);
        assert_eq!(first, Some(73));
        let pred = Prediction {
            first_untyped: 73,
            untypeds: vec![
                Untyped {
                    paddr: 0,
                    size_bits: 25,
                    device: true,
                },
                Untyped {
                    paddr: 0x8020_0000,
                    size_bits: 15,
                    device: false,
                },
            ],
        };
        assert!(compare(&pred, first, &got).is_empty());
        let mut off = pred.clone();
        off.untypeds[1].size_bits = 14;
        assert_eq!(compare(&off, first, &got).len(), 1);
        off.first_untyped = 75;
        assert_eq!(compare(&off, first, &got).len(), 3);
    }
}
