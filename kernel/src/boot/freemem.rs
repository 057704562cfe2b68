//! seL4's boot-time memory bookkeeping, as pure functions over physical regions: the list of
//! reserved regions (`reserve_region`), the free-memory slots (`insert_region`,
//! `init_freemem`), the placement of the root task's objects (the end of `init_freemem`) and
//! the regions that become untyped caps, in the order `create_untypeds` hands them out
//! (seL4 16.0.0 `src/kernel/boot.c`; the sizes are the architecture's, `crate::arch`).
//!
//! seL4 keeps the free regions as kernel-window pointers; this module uses physical addresses.
//! The window's base (`0xFFFF_FFC0_0000_0000`) is aligned to 2^38 = 2^`seL4_MaxUntypedBits`,
//! so every alignment seL4 computes on a pointer is the same on the physical address.
//!
//! Nothing here touches memory, so host tests run it with the addresses of a real boot and
//! compare the result with seL4's own (`reference_tests.rs`).
#![forbid(unsafe_code)]

use super::{BootError, Region};
use abi::object::{MAX_UNTYPED_BITS, MIN_UNTYPED_BITS};

pub use crate::arch::{MAX_NUM_FREEMEM_REG, NUM_RESERVED_REGIONS};
/// Most 2 MiB kernel device frames this kernel accepts (seL4 has a fixed list from its build:
/// `NUM_KERNEL_DEVICE_FRAMES`, 4 on QEMU virt).
pub const MAX_KERNEL_DEVICE_FRAMES: usize = 32;
/// Room for the reserved list; the limit seL4 enforces is [`FreeMem::max_resv`].
const RESV_CAPACITY: usize = MAX_NUM_FREEMEM_REG + MAX_KERNEL_DEVICE_FRAMES + NUM_RESERVED_REGIONS;

/// seL4's `ndks_boot.reserved` and `ndks_boot.freemem`, and where the root task's objects go.
#[derive(Clone, Copy, Debug)]
pub struct FreeMem {
    /// `ndks_boot.reserved[..resv_count]`: sorted, adjacent regions merged.
    reserved: [Region; RESV_CAPACITY],
    resv_count: usize,
    /// `MAX_NUM_RESV_REG`: `MAX_NUM_FREEMEM_REG` + the kernel device frames +
    /// `NUM_RESERVED_REGIONS`.
    max_resv: usize,
    /// `ndks_boot.freemem`: empty slots are `start == end`.
    pub freemem: [Region; MAX_NUM_FREEMEM_REG],
    /// Physical address of the block that holds the root task's objects (`rootserver_mem`).
    pub rootserver: u64,
}

/// What [`FreeMem::init`] needs to know about the root task's objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RootserverSize {
    /// `calculate_rootserver_size`: bytes of all the objects together.
    pub bytes: u64,
    /// `rootserver_max_size_bits`: log2 of the largest object, the block's alignment.
    pub align_bits: u64,
}

impl FreeMem {
    /// An empty bookkeeping for `n_kernel_device_frames` kernel device frames.
    pub fn new(n_kernel_device_frames: usize) -> FreeMem {
        FreeMem {
            reserved: [Region::default(); RESV_CAPACITY],
            resv_count: 0,
            max_resv: MAX_NUM_FREEMEM_REG
                + n_kernel_device_frames.min(MAX_KERNEL_DEVICE_FRAMES)
                + NUM_RESERVED_REGIONS,
            freemem: [Region::default(); MAX_NUM_FREEMEM_REG],
            rootserver: 0,
        }
    }

    /// `ndks_boot.reserved`: the memory that is neither device memory nor free.
    pub fn reserved(&self) -> &[Region] {
        &self.reserved[..self.resv_count]
    }

    /// `merge_regions`: joins neighbours of the reserved list that touch.
    fn merge_regions(&mut self) {
        let mut i = 1;
        while i < self.resv_count {
            if self.reserved[i - 1].end == self.reserved[i].start {
                self.reserved[i - 1].end = self.reserved[i].end;
                self.reserved.copy_within(i + 1..self.resv_count, i);
                self.resv_count -= 1;
            } else {
                i += 1;
            }
        }
    }

    /// `reserve_region`: adds `reg` to the sorted reserved list, extending a region it touches.
    /// Returns false (after seL4's message) when the list is full; seL4's callers carry on.
    pub fn reserve_region(&mut self, reg: Region) -> bool {
        if reg.start == reg.end {
            return true;
        }
        let mut i = 0;
        while i < self.resv_count {
            if self.reserved[i].start == reg.end {
                self.reserved[i].start = reg.start;
                self.merge_regions();
                return true;
            }
            if self.reserved[i].end == reg.start {
                self.reserved[i].end = reg.end;
                self.merge_regions();
                return true;
            }
            if self.reserved[i].start > reg.end {
                if self.resv_count + 1 >= self.max_resv {
                    self.resv_full(reg);
                    return false;
                }
                self.reserved.copy_within(i..self.resv_count, i + 1);
                self.reserved[i] = reg;
                self.resv_count += 1;
                return true;
            }
            i += 1;
        }
        if i + 1 == self.max_resv {
            self.resv_full(reg);
            return false;
        }
        self.reserved[i] = reg;
        self.resv_count += 1;
        true
    }

    fn resv_full(&self, reg: Region) {
        crate::kwarn!(
            "Can't mark region {:#x}-{:#x} as reserved, try increasing MAX_NUM_RESV_REG (currently {})",
            reg.start,
            reg.end,
            self.max_resv
        );
    }

    /// `insert_region`: a free region into the first empty free-memory slot (and into the
    /// reserved list, so that it is not device memory).
    fn insert_region(&mut self, reg: Region) -> Result<(), BootError> {
        if reg.start == reg.end {
            return Ok(());
        }
        match self.freemem.iter().position(|r| r.start == r.end) {
            Some(i) => {
                self.reserve_region(reg);
                self.freemem[i] = reg;
                Ok(())
            }
            // seL4's debug build stops here (an assertion); so does this kernel.
            None => Err(BootError::Msg(
                "no free memory slot left, consider increasing MAX_NUM_FREEMEM_REG (16)",
            )),
        }
    }

    /// `init_freemem`: the available RAM `avail` less the regions boot reserves (`reserved`:
    /// kernel image, device tree, user image, in this order), into free-memory slots; then
    /// the root task's objects are placed at the top of the highest free region that holds
    /// them, aligned to their largest object, and the rest of that region stays free around
    /// them. Memory outside the kernel window (at or above `paddr_top`) is not RAM to the
    /// kernel.
    ///
    /// Errors, as seL4's: no RAM, RAM regions empty, inverted, out of order or overlapping,
    /// no RAM inside the window, reserved regions inverted, out of order or overlapping, no
    /// free slot left, no free region big enough for the root task's objects.
    pub fn init(
        &mut self,
        avail: &[Region],
        reserved: &[Region],
        paddr_top: u64,
        rootserver: RootserverSize,
    ) -> Result<(), BootError> {
        check_available_memory(avail)?;
        let mut avail_reg = [Region::default(); MAX_NUM_FREEMEM_REG];
        let mut n_avail = 0;
        for r in avail {
            if r.start >= paddr_top {
                crate::kinfo!(
                    "  region [{:#x}..{:#x}) is outside the kernel window, only potentially available as device untypeds",
                    r.start,
                    r.end
                );
            } else if n_avail == MAX_NUM_FREEMEM_REG {
                crate::kwarn!(
                    "  WARNING: cannot use region [{:#x}..{:#x}), avail_reg[] is full",
                    r.start,
                    r.end
                );
            } else {
                avail_reg[n_avail] = Region::new(r.start, r.end.min(paddr_top));
                n_avail += 1;
            }
        }
        if n_avail == 0 {
            return Err(BootError::Msg(
                "no available memory within the kernel window",
            ));
        }
        check_reserved_memory(reserved)?;
        self.freemem = [Region::default(); MAX_NUM_FREEMEM_REG];

        let avail_reg = &mut avail_reg[..n_avail];
        let (mut a, mut r) = (0, 0);
        while a < avail_reg.len() && r < reserved.len() {
            let res = reserved[r];
            if res.start == res.end {
                r += 1;
            } else if avail_reg[a].start >= avail_reg[a].end {
                a += 1;
            } else if res.end <= avail_reg[a].start {
                self.reserve_region(res);
                r += 1;
            } else if res.start >= avail_reg[a].end {
                self.insert_region(avail_reg[a])?;
                a += 1;
            } else if res.start <= avail_reg[a].start {
                avail_reg[a].start = avail_reg[a].end.min(res.end);
            } else {
                let mut m = avail_reg[a];
                m.end = res.start;
                self.insert_region(m)?;
                if avail_reg[a].end > res.end {
                    avail_reg[a].start = res.end;
                } else {
                    a += 1;
                }
            }
        }
        for res in &reserved[r..] {
            if res.start < res.end {
                self.reserve_region(*res);
            }
        }
        for av in &avail_reg[a..] {
            if av.start < av.end {
                self.insert_region(*av)?;
            }
        }
        self.place_rootserver(rootserver)
    }

    /// The end of `init_freemem`: the root task's objects at the top of the highest free
    /// region that holds them (aligned down to their largest object); what is left of that
    /// region below them stays in its slot, what is left above moves to the next slot.
    fn place_rootserver(&mut self, rs: RootserverSize) -> Result<(), BootError> {
        let last = MAX_NUM_FREEMEM_REG - 1;
        if self.freemem[last].start != self.freemem[last].end {
            return Err(BootError::Msg("insufficient MAX_NUM_FREEMEM_REG (16)"));
        }
        let Some(mut i) = self.freemem.iter().rposition(|r| r.start != r.end) else {
            return Err(BootError::Msg(
                "no free memory region is big enough for root server objects",
            ));
        };
        loop {
            let region = self.freemem[i];
            let unaligned_start = region.end.wrapping_sub(rs.bytes);
            let start = unaligned_start & !((1u64 << rs.align_bits) - 1);
            if unaligned_start <= region.end && start >= region.start {
                self.rootserver = start;
                self.freemem[i + 1] = Region::new(start + rs.bytes, region.end);
                self.freemem[i].end = start;
                return Ok(());
            }
            self.freemem[i + 1] = region;
            self.freemem[i] = Region::default();
            if i == 0 {
                return Err(BootError::Msg(
                    "no free memory region is big enough for root server objects",
                ));
            }
            i -= 1;
        }
    }

    /// The regions `create_untypeds` makes untyped caps of, in its order, each with whether
    /// it is device memory: the gaps between reserved regions below `device_top`
    /// (`CONFIG_PADDR_USER_DEVICE_TOP`; device memory), the kernel's boot-only region
    /// `kernel_boot` (RAM), then the free-memory slots in slot order (RAM; empty ones too,
    /// which give nothing).
    pub fn untyped_regions(
        &self,
        device_top: u64,
        kernel_boot: Region,
    ) -> impl Iterator<Item = (Region, bool)> + '_ {
        let mut start = 0u64;
        let gaps = self.reserved().iter().filter_map(move |r| {
            let gap = (start < r.start).then(|| Region::new(start, r.start));
            start = r.end;
            gap
        });
        let top_start = self.reserved().last().map_or(0, |r| r.end);
        let top = (top_start < device_top).then(|| Region::new(top_start, device_top));
        gaps.chain(top)
            .map(|r| (r, true))
            .chain(core::iter::once((kernel_boot, false)))
            .chain(self.freemem.iter().map(|r| (*r, false)))
    }
}

/// `check_available_memory`: at least one RAM region, none empty or inverted, in address order
/// without overlap.
fn check_available_memory(avail: &[Region]) -> Result<(), BootError> {
    if avail.is_empty() {
        return Err(BootError::Msg("no memory regions available"));
    }
    for (i, r) in avail.iter().enumerate() {
        if r.start > r.end {
            return Err(BootError::Msg("memory region has start > end"));
        }
        if r.start == r.end {
            return Err(BootError::Msg("memory region empty"));
        }
        if i > 0 && r.start < avail[i - 1].end {
            return Err(BootError::Msg("memory region in wrong order"));
        }
    }
    Ok(())
}

/// `check_reserved_memory`: no region inverted (empty ones are allowed), in address order
/// without overlap.
fn check_reserved_memory(reserved: &[Region]) -> Result<(), BootError> {
    for (i, r) in reserved.iter().enumerate() {
        if r.start > r.end {
            return Err(BootError::Msg("reserved region has start > end"));
        }
        if i > 0 && r.start < reserved[i - 1].end {
            return Err(BootError::Msg(
                "reserved region in wrong order (kernel image, device tree and user image must \
                 be disjoint and in this address order)",
            ));
        }
    }
    Ok(())
}

/// `create_untypeds_for_region`: splits `[start, end)` into the largest aligned power-of-two
/// blocks (at most 2^`seL4_MaxUntypedBits` of the architecture built, a start of 0 counting as
/// aligned to anything), calling `f(paddr, size_bits)` for each of at least
/// 2^`seL4_MinUntypedBits` bytes; smaller pieces are skipped.
pub fn split_untypeds(start: u64, end: u64, f: impl FnMut(u64, u64)) {
    split_untypeds_to(start, end, MAX_UNTYPED_BITS, f)
}

/// [`split_untypeds`] with blocks of at most 2^`max_bits` bytes (an architecture's
/// `seL4_MaxUntypedBits`, [`super::BootRules::max_untyped_bits`]).
pub fn split_untypeds_to(mut start: u64, end: u64, max_bits: u64, mut f: impl FnMut(u64, u64)) {
    while start < end {
        let mut bits = 63 - (end - start).leading_zeros() as u64;
        bits = bits.min(max_bits);
        if start != 0 {
            bits = bits.min(start.trailing_zeros() as u64);
        }
        if bits >= MIN_UNTYPED_BITS {
            f(start, bits);
        }
        start += 1 << bits;
    }
}
