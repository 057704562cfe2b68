//! The firmware boot's loader step: the root task's ELF file arrives as the initrd, and the
//! kernel places it, and the device tree, where seL4_tools' elfloader would have
//! (`elfloader-tool/src/common.c` `load_images`): the device tree in the pages right after the
//! kernel image, the image in the pages right after the device tree, its segments copied to
//! their offsets from the image's first page and everything else zeroed. From there boot is the
//! same as when a loader entered the kernel with seL4's boot protocol.
#![forbid(unsafe_code)]

use super::{BootError, BootParams, Region, UserImage, PAGE};
use abi::object::{PAGE_BITS, USER_TOP};

/// The root task's ELF image: its virtual extent (whole pages) and entry point.
struct Image<'a> {
    elf: xmas_elf::ElfFile<'a>,
    v_start: u64,
    v_end: u64,
    entry: u64,
}

fn parse_image(bytes: &[u8]) -> Result<Image<'_>, BootError> {
    use xmas_elf::program::Type;
    let elf = xmas_elf::ElfFile::new(bytes)
        .map_err(|_| BootError::Msg("root task image is not an ELF file"))?;
    crate::arch::check_root_elf(&elf)?;
    let (mut lo, mut hi) = (u64::MAX, 0u64);
    for ph in elf.program_iter() {
        if ph.get_type() != Ok(Type::Load) || ph.mem_size() == 0 {
            continue;
        }
        if ph.file_size() > ph.mem_size()
            || ph
                .offset()
                .checked_add(ph.file_size())
                .is_none_or(|e| e > bytes.len() as u64)
        {
            return Err(BootError::Msg(
                "root task ELF segment lies outside the file",
            ));
        }
        lo = lo.min(ph.virtual_addr());
        hi = hi.max(
            ph.virtual_addr()
                .checked_add(ph.mem_size())
                .ok_or(BootError::Msg("root task ELF segment wraps"))?,
        );
    }
    if lo >= hi {
        return Err(BootError::Msg("root task ELF has no loadable segment"));
    }
    let v_start = lo & !(PAGE - 1);
    let v_end = super::round_up(hi, PAGE_BITS);
    if v_end >= USER_TOP {
        return Err(BootError::Msg(
            "root task ELF lies outside user virtual memory",
        ));
    }
    Ok(Image {
        entry: elf.header.pt2.entry_point(),
        elf,
        v_start,
        v_end,
    })
}

/// Loads the initrd (the root task's ELF file) as seL4_tools' elfloader would have: moves the
/// device tree to the page after the kernel image, loads the image into the pages after the
/// device tree, and records both in `params` (`user_image`, `dtb`; `initrd` becomes empty).
/// The initrd's and the old device tree's memory are then free RAM like any other.
///
/// Errors: no initrd, not a usable ELF file, or the places the image and the device tree go
/// would overlap the initrd or leave the RAM region of the kernel.
pub fn load_initrd(boot: &crate::mem::Booting, params: &mut BootParams) -> Result<(), BootError> {
    if params.initrd.is_empty() {
        return Err(BootError::Msg(
            "no root task image: boot with -initrd ROOTTASK.elf",
        ));
    }
    let bytes = boot.phys_bytes(params.initrd.start, params.initrd.size() as usize);
    let img = parse_image(bytes)?;
    let dtb_dst = super::round_up(params.kernel_image.end, PAGE_BITS);
    let dtb = Region::new(dtb_dst, dtb_dst + params.dtb.size());
    let ui_start = super::round_up(dtb.end, PAGE_BITS);
    let ui = Region::new(ui_start, ui_start + (img.v_end - img.v_start));
    let in_kernel_ram = params
        .ram
        .as_slice()
        .iter()
        .any(|r| r.start <= params.kernel_image.start && ui.end <= r.end);
    if !in_kernel_ram {
        return Err(BootError::Msg(
            "the root task image does not fit in the RAM after the kernel",
        ));
    }
    if dtb.overlaps(&params.initrd) || ui.overlaps(&params.initrd) {
        return Err(BootError::Msg(
            "the initrd lies where the device tree and the root task image go (after the \
             kernel image): place it higher",
        ));
    }
    boot.move_bytes(
        crate::arch::paddr_to_pptr(dtb.start),
        crate::arch::paddr_to_pptr(params.dtb.start),
        params.dtb.size() as usize,
    );
    params.dtb = dtb;
    let base = crate::arch::paddr_to_pptr(ui.start);
    boot.zero(base, ui.size() as usize);
    for ph in img.elf.program_iter() {
        if ph.get_type() != Ok(xmas_elf::program::Type::Load) || ph.file_size() == 0 {
            continue;
        }
        let dst = base + (ph.virtual_addr() - img.v_start) as usize;
        let src = &bytes[ph.offset() as usize..(ph.offset() + ph.file_size()) as usize];
        boot.copy_in(dst, src);
    }
    params.user_image = UserImage {
        p_reg: ui,
        pv_offset: ui.start.wrapping_sub(img.v_start),
        v_entry: img.entry,
    };
    params.initrd = Region::default();
    Ok(())
}
