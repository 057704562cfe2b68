//! BootInfo helpers: the untyped list, slot regions, and the extra BootInfo chunks that follow
//! the BootInfo frame (the device tree among them).
//!
//! The kernel passes the BootInfo frame's address in `a0` to the root task. The extra BootInfo
//! (`extraLen` bytes of `{id, len}`-headed chunks) is mapped right after that 4 KiB frame
//! (`src/arch/riscv/kernel/boot.c`: `extra_bi_frame_vptr = bi_frame_vptr + BIT(seL4_BootInfoFrameBits)`).
//! The root-task runtime records the pointer with [`set_boot_info`]; [`boot_info`] and
//! [`extra_bootinfo`] give safe access afterwards.

use core::ops::Range;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, Ordering};

use abi::bootinfo_id;
use abi::config::MAX_NUM_BOOTINFO_UNTYPED_CAPS;
use abi::object::BOOT_INFO_FRAME_BITS;
use abi::{BootInfo, BootInfoHeader, CPtr, SlotRegion, UntypedDesc};

use crate::cap::{Cap, Untyped};

/// Ranges and sizes of `seL4_SlotRegion`.
pub trait SlotRegionExt {
    /// `start..end`.
    fn range(&self) -> Range<CPtr>;
    /// Number of slots (0 if `end < start`).
    fn count(&self) -> u64;
}

impl SlotRegionExt for SlotRegion {
    fn range(&self) -> Range<CPtr> {
        self.start..self.end
    }
    fn count(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
}

/// Queries on `seL4_BootInfo`.
pub trait BootInfoExt {
    /// The used entries of `untypedList`: one per slot of the `untyped` region (at most 230).
    fn untyped_descs(&self) -> &[UntypedDesc];
    /// Each untyped cap with its description, in slot order.
    fn untypeds(&self) -> impl Iterator<Item = (Untyped, &UntypedDesc)>;
    /// Bytes of RAM (non-device) untyped memory.
    fn ram_untyped_bytes(&self) -> u64;
    /// Number of device untypeds.
    fn device_untyped_count(&self) -> usize;
    /// The empty slots of the root CNode.
    fn empty_slots(&self) -> Range<CPtr>;
    /// The untyped whose memory contains physical address `paddr`, with its description (at
    /// most one does: the kernel hands out each byte once).
    fn untyped_covering(&self, paddr: u64) -> Option<(Untyped, &UntypedDesc)>;
    /// The SchedControl cap of core `core` (MCS: the `schedcontrol` region, one per core);
    /// `None` past the region.
    #[cfg(feature = "mcs")]
    fn sched_control(&self, core: u64) -> Option<crate::cap::SchedControl>;
}

impl BootInfoExt for BootInfo {
    fn untyped_descs(&self) -> &[UntypedDesc] {
        let n = (self.untyped.count() as usize).min(MAX_NUM_BOOTINFO_UNTYPED_CAPS);
        &self.untyped_list[..n]
    }

    fn untypeds(&self) -> impl Iterator<Item = (Untyped, &UntypedDesc)> {
        self.untyped
            .range()
            .zip(self.untyped_descs())
            .map(|(slot, d)| (Cap::from_bits(slot), d))
    }

    fn ram_untyped_bytes(&self) -> u64 {
        self.untyped_descs()
            .iter()
            .filter(|d| d.is_device == 0)
            .map(|d| 1u64 << d.size_bits)
            .sum()
    }

    fn device_untyped_count(&self) -> usize {
        self.untyped_descs()
            .iter()
            .filter(|d| d.is_device != 0)
            .count()
    }

    fn empty_slots(&self) -> Range<CPtr> {
        self.empty.range()
    }

    fn untyped_covering(&self, paddr: u64) -> Option<(Untyped, &UntypedDesc)> {
        self.untypeds().find(|(_, d)| d.covers(paddr))
    }

    #[cfg(feature = "mcs")]
    fn sched_control(&self, core: u64) -> Option<crate::cap::SchedControl> {
        (core < self.schedcontrol.count()).then(|| Cap::from_bits(self.schedcontrol.start + core))
    }
}

/// Queries on `seL4_UntypedDesc`.
pub trait UntypedDescExt {
    /// Whether physical address `paddr` lies in this untyped's memory.
    fn covers(&self, paddr: u64) -> bool;
}

impl UntypedDescExt for UntypedDesc {
    fn covers(&self, paddr: u64) -> bool {
        paddr >= self.paddr && self.size_bits < 64 && paddr - self.paddr < 1u64 << self.size_bits
    }
}

/// The object sizes (size bits) to retype, one untyped object each, from an untyped whose free
/// memory starts at byte offset `from`, so that its next object starts at offset `to`: how to
/// reach one particular address inside an untyped, e.g. a device frame at a known physical
/// address. `Untyped_Retype` places an object at the untyped's free index rounded up to the
/// object's size (`src/object/untyped.c`: `alignUp(freeIndex, objectSize)`), so each size
/// yielded is the largest power of two that is aligned at the current offset and does not pass
/// `to`; the offsets advance without gaps.
///
/// Both offsets must be multiples of 2^`MIN_UNTYPED_BITS` (16 bytes) and `from <= to`;
/// otherwise the iterator yields nothing and [`CarveSizes::reaches`] is false.
pub fn carve_sizes(from: u64, to: u64) -> CarveSizes {
    let min = 1u64 << abi::object::MIN_UNTYPED_BITS;
    let ok = from <= to && from.is_multiple_of(min) && to.is_multiple_of(min);
    CarveSizes { at: from, to, ok }
}

/// Iterator of [`carve_sizes`].
#[derive(Clone, Debug)]
pub struct CarveSizes {
    at: u64,
    to: u64,
    ok: bool,
}

impl CarveSizes {
    /// Whether the sizes yielded lead exactly to the target offset.
    pub fn reaches(&self) -> bool {
        self.ok
    }
}

impl Iterator for CarveSizes {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        if !self.ok || self.at >= self.to {
            return None;
        }
        let gap = self.to - self.at;
        // The largest size that fits in the gap, is aligned at `at` (any size at offset 0),
        // and is a valid untyped size.
        let fit = 63 - gap.leading_zeros();
        let align = if self.at == 0 {
            63
        } else {
            self.at.trailing_zeros()
        };
        let bits = fit.min(align).min(abi::object::MAX_UNTYPED_BITS as u32);
        self.at += 1u64 << bits;
        Some(bits as u8)
    }
}

/// One extra BootInfo chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtraChunk<'a> {
    /// Its `seL4_BootInfoID` ([`abi::bootinfo_id`]).
    pub id: u64,
    /// Its length including the 16-byte header.
    pub len: u64,
    /// The bytes after the header.
    pub payload: &'a [u8],
}

/// Iterator over the chunks of an extra BootInfo area. Stops at the end, or at a header whose
/// length is shorter than a header or runs past the area (so the lengths of the chunks it
/// yields add up to the area's size only if the area is well formed).
#[derive(Clone, Debug)]
pub struct ExtraChunks<'a> {
    rest: &'a [u8],
}

/// Size of `seL4_BootInfoHeader`.
pub const HEADER_BYTES: usize = core::mem::size_of::<BootInfoHeader>();

/// The chunks of `extra` (the `extraLen` bytes after the BootInfo frame).
pub fn extra_chunks(extra: &[u8]) -> ExtraChunks<'_> {
    ExtraChunks { rest: extra }
}

fn le_word(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

impl<'a> Iterator for ExtraChunks<'a> {
    type Item = ExtraChunk<'a>;

    fn next(&mut self) -> Option<ExtraChunk<'a>> {
        if self.rest.len() < HEADER_BYTES {
            return None;
        }
        let (id, len) = (le_word(&self.rest[0..8]), le_word(&self.rest[8..16]));
        if len < HEADER_BYTES as u64 || len > self.rest.len() as u64 {
            self.rest = &[];
            return None;
        }
        let (chunk, rest) = self.rest.split_at(len as usize);
        self.rest = rest;
        Some(ExtraChunk {
            id,
            len,
            payload: &chunk[HEADER_BYTES..],
        })
    }
}

/// The payload of the first chunk with identifier `id`.
pub fn find_chunk(extra: &[u8], id: u64) -> Option<&[u8]> {
    extra_chunks(extra).find(|c| c.id == id).map(|c| c.payload)
}

/// The device tree blob (`SEL4_BOOTINFO_HEADER_FDT` chunk), if the kernel passed one.
pub fn find_fdt(extra: &[u8]) -> Option<&[u8]> {
    find_chunk(extra, bootinfo_id::FDT)
}

/// The flattened device tree magic number (`0xd00dfeed`, stored big-endian).
pub const FDT_MAGIC: u32 = 0xd00d_feed;

/// The big-endian 32-bit word at byte `at` of a device tree header.
pub fn fdt_header_word(fdt: &[u8], at: usize) -> Option<u32> {
    let b = fdt.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// The device tree's `magic` field.
pub fn fdt_magic(fdt: &[u8]) -> Option<u32> {
    fdt_header_word(fdt, 0)
}

/// The device tree's `totalsize` field.
pub fn fdt_total_size(fdt: &[u8]) -> Option<u32> {
    fdt_header_word(fdt, 4)
}

static BOOT_INFO: AtomicPtr<BootInfo> = AtomicPtr::new(null_mut());

/// Record where the kernel put the BootInfo frame (the root-task runtime does this).
///
/// # Safety
///
/// `bi` must be the address the kernel passed to the root task: a mapped, 4 KiB-aligned
/// BootInfo frame followed by `extraLen` mapped bytes of extra BootInfo, neither of which the
/// program writes to.
pub unsafe fn set_boot_info(bi: *const BootInfo) {
    BOOT_INFO.store(bi as *mut BootInfo, Ordering::Relaxed)
}

/// The BootInfo recorded with [`set_boot_info`].
pub fn boot_info() -> Option<&'static BootInfo> {
    let p = BOOT_INFO.load(Ordering::Relaxed);
    // SAFETY: `set_boot_info`'s contract: null or the kernel's read-only BootInfo frame, mapped
    // for the program's lifetime.
    unsafe { p.as_ref() }
}

/// The extra BootInfo area (`extraLen` bytes after the BootInfo frame), if BootInfo was
/// recorded.
pub fn extra_bootinfo() -> Option<&'static [u8]> {
    let bi = boot_info()?;
    let start = (bi as *const BootInfo as *const u8).wrapping_add(1 << BOOT_INFO_FRAME_BITS);
    // SAFETY: `set_boot_info`'s contract: `extraLen` bytes after the BootInfo frame are mapped
    // and not written by the program.
    Some(unsafe { core::slice::from_raw_parts(start, bi.extra_len as usize) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use abi::config::MAX_NUM_BOOTINFO_UNTYPED_CAPS;

    fn chunk(id: u64, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&id.to_le_bytes());
        v.extend_from_slice(&((payload.len() + 16) as u64).to_le_bytes());
        v.extend_from_slice(payload);
        v
    }

    fn blank_bootinfo() -> BootInfo {
        BootInfo {
            extra_len: 0,
            node_id: 0,
            num_nodes: 1,
            num_iopt_levels: 0,
            ipc_buffer: 0,
            empty: SlotRegion::default(),
            shared_frames: SlotRegion::default(),
            user_image_frames: SlotRegion::default(),
            user_image_paging: SlotRegion::default(),
            io_space_caps: SlotRegion::default(),
            extra_bi_pages: SlotRegion::default(),
            init_thread_cnode_size_bits: 13,
            init_thread_domain: 0,
            #[cfg(feature = "mcs")]
            schedcontrol: SlotRegion::default(),
            untyped: SlotRegion::default(),
            untyped_list: [UntypedDesc::default(); MAX_NUM_BOOTINFO_UNTYPED_CAPS],
        }
    }

    #[test]
    fn chunks_are_walked_by_their_lengths() {
        let mut fdt = vec![0xd0, 0x0d, 0xfe, 0xed, 0, 0, 0, 40];
        fdt.resize(40, 0);
        let mut area = chunk(0, &[1, 2, 3, 4, 5, 6, 7, 8]);
        area.extend(chunk(6, &fdt));
        let cs: Vec<_> = extra_chunks(&area).collect();
        assert_eq!(cs.len(), 2);
        assert_eq!((cs[0].id, cs[0].len, cs[0].payload.len()), (0, 24, 8));
        assert_eq!((cs[1].id, cs[1].len), (6, 56));
        let f = find_fdt(&area).unwrap();
        assert_eq!(fdt_magic(f), Some(FDT_MAGIC));
        assert_eq!(fdt_total_size(f), Some(40));
        assert_eq!(find_chunk(&area, 9), None);
        assert_eq!(cs.iter().map(|c| c.len).sum::<u64>(), area.len() as u64);
    }

    #[test]
    fn malformed_chunks_stop_the_walk() {
        let mut area = chunk(6, &[0; 8]);
        area[8..16].copy_from_slice(&100u64.to_le_bytes()); // runs past the end
        assert_eq!(extra_chunks(&area).count(), 0);
        area[8..16].copy_from_slice(&8u64.to_le_bytes()); // shorter than a header
        assert_eq!(extra_chunks(&area).count(), 0);
        assert_eq!(extra_chunks(&[0; 15]).count(), 0);
        assert_eq!(fdt_magic(&[0xd0, 0x0d]), None);
    }

    fn carve(from: u64, to: u64) -> Vec<u8> {
        carve_sizes(from, to).collect()
    }

    #[test]
    fn carving_reaches_the_target_offset() {
        // QEMU virt's goldfish RTC page 0x101000 in a device untyped starting at 0.
        assert_eq!(carve(0, 0x10_1000), vec![20, 12]);
        // The UART at the start of its untyped: nothing to carve.
        assert_eq!(carve(0, 0), Vec::<u8>::new());
        // From a non-zero offset: alignment limits each step.
        assert_eq!(
            carve(0x1000, 0x10_0000),
            vec![12, 13, 14, 15, 16, 17, 18, 19]
        );
        assert_eq!(carve(0x10_2000, 0x10_2000), Vec::<u8>::new());
        assert_eq!(carve(0x10, 0x40), vec![4, 5]);
        for (from, to) in [
            (0u64, 0x7fff_f000u64),
            (0x3000, 0x1234_5000),
            (0x10, 0x1_0000_0000),
        ] {
            let c = carve_sizes(from, to);
            assert!(c.reaches());
            let mut at = from;
            for bits in c {
                assert!((4..=38).contains(&bits));
                assert_eq!(
                    at % (1 << bits),
                    0,
                    "object at {at:#x} not aligned to 2^{bits}"
                );
                at += 1 << bits;
            }
            assert_eq!(at, to);
        }
        // Sizes never exceed seL4's largest untyped.
        assert!(carve(0, 1 << 40).iter().all(|&b| b <= 38));
        assert_eq!(carve(0, 1 << 40).len(), 4);
    }

    #[test]
    fn carving_rejects_bad_offsets() {
        for (from, to) in [(0x2000u64, 0x1000u64), (0x8, 0x1000), (0, 0x1001)] {
            let c = carve_sizes(from, to);
            assert!(!c.reaches());
            assert_eq!(c.count(), 0);
        }
    }

    #[test]
    fn untyped_covering_finds_the_one_untyped() {
        let mut bi = blank_bootinfo();
        bi.untyped = SlotRegion {
            start: 100,
            end: 103,
        };
        let desc = |paddr, size_bits, is_device| UntypedDesc {
            paddr,
            size_bits,
            is_device,
            padding: [0; 6],
        };
        bi.untyped_list[0] = desc(0, 25, 1);
        bi.untyped_list[1] = desc(0x1000_0000, 28, 1);
        bi.untyped_list[2] = desc(0x8020_0000, 21, 0);
        let at = |p| bi.untyped_covering(p).map(|(c, d)| (c.bits(), d.paddr));
        assert_eq!(at(0x10_1000), Some((100, 0)));
        assert_eq!(at(0x1000_0000), Some((101, 0x1000_0000)));
        assert_eq!(at(0x1fff_ffff), Some((101, 0x1000_0000)));
        assert_eq!(at(0x2000_0000), None);
        assert_eq!(at(0x0200_0000), None);
        assert_eq!(at(0x803f_ffff), Some((102, 0x8020_0000)));
        assert!(!desc(0, 64, 1).covers(5));
    }

    #[test]
    fn untyped_queries_follow_the_untyped_region() {
        let mut bi = blank_bootinfo();
        bi.untyped = SlotRegion {
            start: 1036,
            end: 1039,
        };
        bi.empty = SlotRegion {
            start: 1039,
            end: 8192,
        };
        bi.untyped_list[0] = UntypedDesc {
            paddr: 0,
            size_bits: 20,
            is_device: 1,
            padding: [0; 6],
        };
        bi.untyped_list[1] = UntypedDesc {
            paddr: 0x8000_0000,
            size_bits: 21,
            is_device: 0,
            padding: [0; 6],
        };
        bi.untyped_list[2] = UntypedDesc {
            paddr: 0x8040_0000,
            size_bits: 22,
            is_device: 0,
            padding: [0; 6],
        };
        bi.untyped_list[3] = UntypedDesc {
            paddr: 0x9000_0000,
            size_bits: 30,
            is_device: 0,
            padding: [0; 6],
        };
        assert_eq!(bi.untyped_descs().len(), 3);
        assert_eq!(bi.ram_untyped_bytes(), (1 << 21) + (1 << 22));
        assert_eq!(bi.device_untyped_count(), 1);
        let caps: Vec<u64> = bi.untypeds().map(|(c, _)| c.bits()).collect();
        assert_eq!(caps, vec![1036, 1037, 1038]);
        assert_eq!(bi.empty_slots(), 1039..8192);
        assert_eq!(bi.empty.count(), 8192 - 1039);
        assert_eq!(SlotRegion { start: 5, end: 3 }.count(), 0);
    }

    /// MCS: one SchedControl cap per core, in the `schedcontrol` region (the reference boot:
    /// [22, 23)).
    #[cfg(feature = "mcs")]
    #[test]
    fn sched_control_follows_its_region() {
        let mut bi = blank_bootinfo();
        bi.schedcontrol = SlotRegion { start: 22, end: 23 };
        assert_eq!(bi.sched_control(0).map(|c| c.bits()), Some(22));
        assert_eq!(bi.sched_control(1), None);
    }
}
