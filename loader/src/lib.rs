//! What the loader decides, as pure functions over the two ELF files (host-tested): the
//! kernel's physical extent, virtual-to-physical offset and entry; the root task's virtual
//! extent and entry; and where the device tree and the root task's image go. The rule is
//! seL4_tools' elfloader's (`elfloader-tool/src/common.c` `load_images`): the kernel at its
//! physical addresses, the device tree in the pages after the kernel's last byte (memory size,
//! so `.bss` included), the root task's image in the pages after the device tree, its segments
//! at their offsets from its first (page-aligned) virtual address.
//!
//! The kernel is then entered with seL4's boot protocol (seL4 `init_kernel`'s arguments:
//! `ui_p_reg_start`, `ui_p_reg_end`, `pv_offset` (physical minus virtual), `v_entry`,
//! `dtb_addr_p`, `dtb_size`):
//! - riscv64 (seL4 `src/arch/riscv/head.S`): S-mode, Sv39 on with the kernel image mapped at
//!   its virtual addresses, the arguments in `a0..a5` (`a6`/`a7` = hart and core id, used by
//!   SMP kernels only);
//! - aarch64 (seL4 `src/arch/arm/64/head.S`, seL4_tools' `elfloader-tool/src/arch-arm`): EL1,
//!   MMU and caches on, TTBR1_EL1 mapping the kernel image at its virtual addresses
//!   ([`aarch64_kernel_map`]), TTBR0_EL1 the loader, the arguments in `x0..x5`.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

use xmas_elf::program::Type;
use xmas_elf::ElfFile;

/// Page size.
pub const PAGE: u64 = 4096;

/// `x` rounded up to a whole page.
pub const fn page_up(x: u64) -> u64 {
    (x + PAGE - 1) & !(PAGE - 1)
}

/// Why an ELF file cannot be loaded.
pub type Error = &'static str;

/// The kernel ELF as the loader sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kernel {
    /// Lowest physical address of a loadable segment.
    pub p_start: u64,
    /// First physical byte after every loadable segment's memory (`.bss` included).
    pub p_end: u64,
    /// Lowest virtual address of a loadable segment.
    pub v_start: u64,
    /// Virtual minus physical address, the same for every segment.
    pub v_minus_p: u64,
    /// The entry point (virtual).
    pub entry: u64,
}

/// The instruction sets the loader runs on (and loads ELF files for).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// 64-bit RISC-V.
    Riscv64,
    /// AArch64.
    Aarch64,
}

impl Isa {
    /// The one this loader is built for (host builds, whose tests use riscv64 files, say
    /// riscv64).
    pub const CURRENT: Isa = if cfg!(target_arch = "aarch64") {
        Isa::Aarch64
    } else {
        Isa::Riscv64
    };
}

/// Checks that `elf` is a 64-bit ELF file for `isa`.
fn check_isa(elf: &ElfFile<'_>, isa: Isa) -> Result<(), Error> {
    use xmas_elf::header::{Class, Machine};
    let machine = elf.header.pt2.machine().as_machine();
    let ok = elf.header.pt1.class() == Class::SixtyFour
        && match isa {
            Isa::Riscv64 => machine == Machine::RISC_V,
            Isa::Aarch64 => machine == Machine::AArch64,
        };
    if ok {
        Ok(())
    } else if isa == Isa::Riscv64 {
        Err("not a 64-bit RISC-V ELF file")
    } else {
        Err("not an AArch64 ELF file")
    }
}

/// Each loadable segment with memory: `(vaddr, paddr, file bytes, memory size)`, after
/// checking that its file bytes lie in the file and fit in its memory.
fn segments<'a>(
    elf: &'a ElfFile<'a>,
    bytes: &'a [u8],
) -> impl Iterator<Item = Result<(u64, u64, &'a [u8], u64), Error>> + 'a {
    elf.program_iter()
        .filter(|ph| ph.get_type() == Ok(Type::Load) && ph.mem_size() > 0)
        .map(move |ph| {
            let end = ph
                .offset()
                .checked_add(ph.file_size())
                .filter(|&e| e <= bytes.len() as u64 && ph.file_size() <= ph.mem_size())
                .ok_or("a segment lies outside the file")?;
            ph.virtual_addr()
                .checked_add(ph.mem_size())
                .ok_or("a segment wraps around")?;
            Ok((
                ph.virtual_addr(),
                ph.physical_addr(),
                &bytes[ph.offset() as usize..end as usize],
                ph.mem_size(),
            ))
        })
}

/// Reads the kernel ELF: its loadable segments must share one virtual-to-physical offset
/// (seL4's loaders map the kernel with one), and its entry must lie in them.
pub fn kernel(bytes: &[u8]) -> Result<Kernel, Error> {
    kernel_for(bytes, Isa::CURRENT)
}

/// [`kernel`] for a kernel of `isa`.
pub fn kernel_for(bytes: &[u8], isa: Isa) -> Result<Kernel, Error> {
    let elf = ElfFile::new(bytes).map_err(|_| "the kernel is not an ELF file")?;
    check_isa(&elf, isa)?;
    let mut k: Option<Kernel> = None;
    let mut v_end = 0;
    for s in segments(&elf, bytes) {
        let (v, p, _, mem) = s?;
        let off = v.wrapping_sub(p);
        let k = k.get_or_insert(Kernel {
            p_start: p,
            p_end: p,
            v_start: v,
            v_minus_p: off,
            entry: elf.header.pt2.entry_point(),
        });
        if off != k.v_minus_p {
            return Err("the kernel's segments do not share one virtual-to-physical offset");
        }
        k.p_start = k.p_start.min(p);
        k.p_end = k.p_end.max(p + mem);
        k.v_start = k.v_start.min(v);
        v_end = v_end.max(v + mem);
    }
    let k = k.ok_or("the kernel has no loadable segment")?;
    if !(k.v_start..v_end).contains(&k.entry) {
        return Err("the kernel's entry point is not in its segments");
    }
    Ok(k)
}

/// Calls `f(paddr, file bytes, memory size)` for each of the kernel's loadable segments.
pub fn kernel_segments(bytes: &[u8], mut f: impl FnMut(u64, &[u8], u64)) -> Result<(), Error> {
    let elf = ElfFile::new(bytes).map_err(|_| "the kernel is not an ELF file")?;
    for s in segments(&elf, bytes) {
        let (_, p, data, mem) = s?;
        f(p, data, mem);
    }
    Ok(())
}

/// The root task ELF as the loader sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RootTask {
    /// Its lowest virtual address, rounded down to a page.
    pub v_start: u64,
    /// The first byte after its highest, rounded up to a page.
    pub v_end: u64,
    /// Its entry point.
    pub entry: u64,
}

/// Reads the root task ELF.
pub fn root_task(bytes: &[u8]) -> Result<RootTask, Error> {
    root_task_for(bytes, Isa::CURRENT)
}

/// [`root_task`] for a root task of `isa`.
pub fn root_task_for(bytes: &[u8], isa: Isa) -> Result<RootTask, Error> {
    let elf = ElfFile::new(bytes).map_err(|_| "the root task is not an ELF file")?;
    check_isa(&elf, isa)?;
    let (mut lo, mut hi) = (u64::MAX, 0);
    for s in segments(&elf, bytes) {
        let (v, _, _, mem) = s?;
        lo = lo.min(v);
        hi = hi.max(v + mem);
    }
    if lo >= hi {
        return Err("the root task has no loadable segment");
    }
    Ok(RootTask {
        v_start: lo & !(PAGE - 1),
        v_end: page_up(hi),
        entry: elf.header.pt2.entry_point(),
    })
}

/// Calls `f(offset from the image's first page, file bytes)` for each of the root task's
/// loadable segments with file bytes.
pub fn root_task_segments(
    bytes: &[u8],
    v_start: u64,
    mut f: impl FnMut(u64, &[u8]),
) -> Result<(), Error> {
    let elf = ElfFile::new(bytes).map_err(|_| "the root task is not an ELF file")?;
    for s in segments(&elf, bytes) {
        let (v, _, data, _) = s?;
        if !data.is_empty() {
            f(v - v_start, data);
        }
    }
    Ok(())
}

/// Where things go and what the kernel is told: seL4's boot protocol's arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handoff {
    /// `ui_p_reg_start`, `ui_p_reg_end`.
    pub ui_p_reg: (u64, u64),
    /// `pv_offset`: physical minus virtual address of the root task's image.
    pub pv_offset: u64,
    /// `v_entry`.
    pub v_entry: u64,
    /// `dtb_addr_p`.
    pub dtb_addr_p: u64,
    /// `dtb_size`.
    pub dtb_size: u64,
}

impl Handoff {
    /// The six argument registers `a0..a5`.
    pub fn registers(&self) -> [u64; 6] {
        [
            self.ui_p_reg.0,
            self.ui_p_reg.1,
            self.pv_offset,
            self.v_entry,
            self.dtb_addr_p,
            self.dtb_size,
        ]
    }
}

/// seL4_tools' elfloader's placement: the device tree (`dtb_size` bytes) in the page after the
/// kernel's end, the root task's image in the page after the device tree.
pub fn place(kernel: &Kernel, dtb_size: u64, root: &RootTask) -> Handoff {
    let dtb_addr_p = page_up(kernel.p_end);
    let ui_start = page_up(dtb_addr_p + dtb_size);
    Handoff {
        ui_p_reg: (ui_start, ui_start + (root.v_end - root.v_start)),
        pv_offset: ui_start.wrapping_sub(root.v_start),
        v_entry: root.entry,
        dtb_addr_p,
        dtb_size,
    }
}

/// Microkit's loader's placement and hand-off: no device tree (`dtb_addr_p` = `dtb_size` = 0;
/// the kernel knows its platform from its build), the root task's image in the page after the
/// kernel's end (Microkit's tool places its initial task right after `ki_end`).
pub fn place_without_dtb(kernel: &Kernel, root: &RootTask) -> Handoff {
    Handoff {
        dtb_addr_p: 0,
        dtb_size: 0,
        ..place(kernel, 0, root)
    }
}

/// Where the kernel goes in AArch64 tables as seL4_tools' elfloader maps it
/// (`elfloader-tool/src/arch-arm/64/mmu.c` `init_boot_vspace`): TTBR1_EL1 with T1SZ 16 (four
/// levels of 4 KiB tables), 2 MiB blocks from the kernel's first virtual 2 MiB block to the end
/// of that gigabyte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Aarch64KernelMap {
    /// Level-0 index of the kernel's first block.
    pub l0: usize,
    /// Level-1 index of the kernel's first block.
    pub l1: usize,
    /// Level-2 index of the kernel's first block (the blocks run from it to 511).
    pub l2: usize,
    /// Physical address of the first block.
    pub paddr: u64,
}

/// [`Aarch64KernelMap`] of `k`. Errors: the kernel is not in the upper half (TTBR1), its
/// virtual and physical addresses differ by no multiple of 2 MiB, or it spans more than one
/// gigabyte (the elfloader maps one).
pub fn aarch64_kernel_map(k: &Kernel) -> Result<Aarch64KernelMap, Error> {
    const MIB2: u64 = 2 << 20;
    if k.v_start < 0xffff_0000_0000_0000 {
        return Err("the kernel is not linked in the upper half of the address space (TTBR1)");
    }
    if !k.v_minus_p.is_multiple_of(MIB2) {
        return Err("the kernel's virtual and physical addresses differ by no multiple of 2 MiB");
    }
    let v_last = k.p_end.wrapping_add(k.v_minus_p).wrapping_sub(1);
    if k.v_start >> 30 != v_last >> 30 {
        return Err("the kernel's virtual addresses span more than one gigabyte");
    }
    let v = k.v_start & !(MIB2 - 1);
    let index = |shift: u32| ((v >> shift) & 511) as usize;
    Ok(Aarch64KernelMap {
        l0: index(39),
        l1: index(30),
        l2: index(21),
        paddr: v.wrapping_sub(k.v_minus_p),
    })
}

/// The ways [`spoil`] spoils a hand-off, for tests that the kernel refuses each with a clear
/// message and stops (never hangs).
pub const FAULTS: [&str; 5] = [
    "image-over-kernel",
    "unaligned-image",
    "dtb-size-short",
    "no-dtb",
    "physical-entry",
];

/// The kernel's entry and the hand-off registers, spoilt the way `fault` (one of [`FAULTS`])
/// says: the user image moved onto the kernel image, the user image's start moved by 8
/// bytes, `dtb_size` smaller than the device tree (64 bytes), no device tree at all, or the
/// kernel entered at its physical address with the MMU on. Errors: an unknown `fault`.
pub fn spoil(fault: &str, kernel: &Kernel, h: &Handoff) -> Result<(u64, [u64; 6]), Error> {
    let mut r = h.registers();
    let mut entry = kernel.entry;
    match fault {
        "image-over-kernel" => {
            let len = r[1] - r[0];
            r[0] = kernel.p_start;
            r[1] = kernel.p_start + len;
            r[2] = r[2].wrapping_sub(h.ui_p_reg.0 - kernel.p_start);
        }
        "unaligned-image" => r[0] += 8,
        "dtb-size-short" => r[5] = 64,
        "no-dtb" => (r[4], r[5]) = (0, 0),
        "physical-entry" => entry = kernel.entry.wrapping_sub(kernel.v_minus_p),
        _ => return Err("unknown LOADER_FAULT"),
    }
    Ok((entry, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64-bit RISC-V ELF with one loadable segment per `(vaddr, paddr, file bytes,
    /// memory size)` and `entry`.
    fn elf(entry: u64, segs: &[(u64, u64, u64, u64)]) -> Vec<u8> {
        let phoff = 64u64;
        let data_off = phoff + 56 * segs.len() as u64;
        let mut e = vec![0u8; data_off as usize];
        e[0..4].copy_from_slice(b"\x7fELF");
        e[4] = 2;
        e[5] = 1;
        e[6] = 1;
        e[16..18].copy_from_slice(&2u16.to_le_bytes());
        e[18..20].copy_from_slice(&0xf3u16.to_le_bytes());
        e[20..24].copy_from_slice(&1u32.to_le_bytes());
        e[24..32].copy_from_slice(&entry.to_le_bytes());
        e[32..40].copy_from_slice(&phoff.to_le_bytes());
        e[52..54].copy_from_slice(&64u16.to_le_bytes());
        e[54..56].copy_from_slice(&56u16.to_le_bytes());
        e[56..58].copy_from_slice(&(segs.len() as u16).to_le_bytes());
        e[58..60].copy_from_slice(&64u16.to_le_bytes());
        let mut off = data_off;
        for (i, &(v, p, file, mem)) in segs.iter().enumerate() {
            let h = (phoff as usize) + 56 * i;
            let w = |e: &mut Vec<u8>, o: usize, x: u64| {
                e[h + o..h + o + 8].copy_from_slice(&x.to_le_bytes())
            };
            e[h..h + 4].copy_from_slice(&1u32.to_le_bytes());
            e[h + 4..h + 8].copy_from_slice(&7u32.to_le_bytes());
            w(&mut e, 8, off);
            w(&mut e, 16, v);
            w(&mut e, 24, p);
            w(&mut e, 32, file);
            w(&mut e, 40, mem);
            w(&mut e, 48, PAGE);
            off += file;
        }
        e.resize(off as usize, 0xaa);
        e
    }

    /// A 64-bit AArch64 ELF (as [`elf`], machine 0xb7).
    fn aarch64_elf(entry: u64, segs: &[(u64, u64, u64, u64)]) -> Vec<u8> {
        let mut e = elf(entry, segs);
        e[18..20].copy_from_slice(&0xb7u16.to_le_bytes());
        e
    }

    /// The aarch64 kernel of `link-aarch64.ld` (one segment at 0xffff_ff80_4020_0000,
    /// physical 0x4020_0000) is read and mapped as the elfloader maps seL4's; a riscv64 file
    /// is not taken for it, nor an aarch64 one for riscv64.
    #[test]
    fn aarch64_kernels_are_mapped_as_the_elfloader_maps_them() {
        const AV: u64 = 0xffff_ff80_4020_0000;
        const AP: u64 = 0x4020_0000;
        let k = aarch64_elf(AV, &[(AV, AP, 0x1f560, 0x37030)]);
        let kern = kernel_for(&k, Isa::Aarch64).unwrap();
        assert_eq!(kern.v_minus_p, AV - AP);
        assert_eq!(
            aarch64_kernel_map(&kern),
            Ok(Aarch64KernelMap {
                l0: 511,
                l1: 1,
                l2: 1,
                paddr: AP
            })
        );
        assert!(kernel_for(&k, Isa::Riscv64).is_err());
        assert!(kernel(&k).is_err(), "host builds load riscv64 files");
        let rv = elf(KV, &[(KV, KP, 0x1000, 0x1000)]);
        assert!(kernel_for(&rv, Isa::Aarch64).is_err());
        assert!(root_task_for(&rv, Isa::Aarch64).is_err());
        // Lower half, an offset that is no multiple of 2 MiB, more than one gigabyte.
        let low = kernel_for(&aarch64_elf(AP, &[(AP, AP, 0x1000, 0x1000)]), Isa::Aarch64);
        assert!(aarch64_kernel_map(&low.unwrap()).is_err());
        let odd = aarch64_elf(AV, &[(AV, AP + 0x1000, 0x1000, 0x1000)]);
        assert!(aarch64_kernel_map(&kernel_for(&odd, Isa::Aarch64).unwrap()).is_err());
        let big = aarch64_elf(AV, &[(AV, AP, 0x1000, 1 << 30)]);
        assert!(aarch64_kernel_map(&kernel_for(&big, Isa::Aarch64).unwrap()).is_err());
    }

    #[test]
    fn spoilt_handoffs_are_spoilt_as_named() {
        let k = kernel(&elf(KV, &[(KV, KP, 0x1000, 0x3_0000)])).unwrap();
        let r = root_task(&elf(0x1_0000, &[(0x1_0000, 0, 0x1000, 0x2000)])).unwrap();
        let h = place(&k, 0x1000, &r);
        let good = h.registers();
        let spoilt = |f| spoil(f, &k, &h).unwrap();
        let (e, x) = spoilt("image-over-kernel");
        assert_eq!((e, x[0], x[1] - x[0]), (KV, KP, good[1] - good[0]));
        assert_eq!(x[0].wrapping_sub(x[2]), 0x1_0000, "same virtual start");
        assert_eq!(spoilt("unaligned-image").1[0], good[0] + 8);
        assert_eq!(spoilt("dtb-size-short").1[5], 64);
        assert_eq!(spoilt("no-dtb").1[4..], [0, 0]);
        assert_eq!(spoilt("physical-entry"), (KP, good));
        assert!(spoil("nonsense", &k, &h).is_err());
        for f in FAULTS {
            assert_ne!(spoilt(f), (KV, good), "{f}");
        }
    }

    const KV: u64 = 0xffff_ffff_8020_0000;
    const KP: u64 = 0x8020_0000;

    #[test]
    fn the_kernel_is_read_as_sel4s_loaders_read_it() {
        let k = elf(KV, &[(KV, KP, 0x1b000, 0x2f018)]);
        assert_eq!(
            kernel(&k),
            Ok(Kernel {
                p_start: KP,
                p_end: KP + 0x2f018,
                v_start: KV,
                v_minus_p: KV - KP,
                entry: KV
            })
        );
        let two = elf(
            KV,
            &[
                (KV, KP, 0x1000, 0x1000),
                (KV + 0x2000, KP + 0x3000, 0, 0x1000),
            ],
        );
        assert!(kernel(&two).is_err(), "two offsets");
        let outside = elf(KV + 0x5000, &[(KV, KP, 0x1000, 0x1000)]);
        assert!(kernel(&outside).is_err(), "entry outside");
    }

    /// The elfloader's placement: seL4's sel4test boot had the kernel end at 0x8022_1000, a
    /// 5195-byte device tree at 0x8022_1000 and the driver (0x1_0000..0x40_6000) at
    /// 0x8022_3000.
    #[test]
    fn placement_is_the_elfloaders() {
        let k = elf(KV, &[(KV, KP, 0x18ca7, 0x21000)]);
        let r = elf(
            0x1c22e,
            &[
                (0x1_0000, 0, 0x30_0000, 0x3f_5000),
                (0x40_5000, 0, 0x100, 0x1000),
            ],
        );
        let h = place(&kernel(&k).unwrap(), 5195, &root_task(&r).unwrap());
        assert_eq!(
            h,
            Handoff {
                ui_p_reg: (0x8022_3000, 0x8061_9000),
                pv_offset: 0x8022_3000 - 0x1_0000,
                v_entry: 0x1c22e,
                dtb_addr_p: 0x8022_1000,
                dtb_size: 5195
            }
        );
        // Microkit's hand-off (seen with Microkit 2.3.0's hello on this kernel: kernel end
        // 0x8024_f000, initial task at 0x8024_f000): no device tree, image after the kernel.
        let m = place_without_dtb(&kernel(&k).unwrap(), &root_task(&r).unwrap());
        assert_eq!(
            m.registers(),
            [
                0x8022_1000,
                0x8061_7000,
                0x8022_1000 - 0x1_0000,
                0x1c22e,
                0,
                0
            ]
        );
        let mut seen = Vec::new();
        root_task_segments(&r, 0x1_0000, |off, d| seen.push((off, d.len()))).unwrap();
        assert_eq!(seen, [(0, 0x30_0000), (0x3f_5000, 0x100)]);
    }
}
