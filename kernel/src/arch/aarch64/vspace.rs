//! aarch64 page tables and ASIDs (seL4 `src/arch/arm/64/kernel/vspace.c`, the non-hypervisor
//! stage-1 format: 48-bit virtual addresses, 4 KiB granule, four levels). Pure logic over
//! object memory: runs on the host in tests.
//!
//! A VSpace is a level-0 table (seL4 `seL4_ARM_VSpaceObject`, 512 entries of 8 bytes, each
//! covering 512 GiB); page tables are levels 1 (1 GiB per entry), 2 (2 MiB) and 3 (4 KiB).
//! Levels are numbered as seL4's Arm code numbers them, from the root down. The user half is
//! translated through TTBR0_EL1, tagged with the VSpace's ASID; the kernel lives in the upper
//! half (TTBR1_EL1) and is never in a user VSpace, so VSpaces get no global mappings.
//!
//! Descriptor format (Arm ARM D8.3): bits 1..0 are 0b11 for a table (levels 0..2) or a page
//! (level 3) and 0b01 for a block (levels 1 and 2); the output address is bits 47..12.
//! Leaf attributes: AttrIndx 4..2 (MAIR index), AP 7..6, SH 9..8, AF 10, nG 11, PXN 53, UXN 54.
#![forbid(unsafe_code)]

use super::cap::{FrameSize, VmRights};
use crate::mem::PPtr;
use crate::state::Kernel;
use abi::arch::aarch64::{ASID_POOL_INDEX_BITS, PAGE_BITS, PAGE_TABLE_INDEX_BITS, USER_VSPACE_TOP};

/// Entries per table (every level, the VSpace included).
pub const PT_ENTRIES: usize = 512;
/// The deepest level (4 KiB pages).
pub const LAST_LEVEL: usize = 3;

/// MAIR_EL1 index of Device-nGnRnE memory (seL4 `DEVICE_nGnRnE`).
pub const MAIR_DEVICE_NGNRNE: u64 = 0;
/// MAIR_EL1 index of Device-nGnRE memory.
pub const MAIR_DEVICE_NGNRE: u64 = 1;
/// MAIR_EL1 index of Device-GRE memory.
pub const MAIR_DEVICE_GRE: u64 = 2;
/// MAIR_EL1 index of Normal non-cacheable memory.
pub const MAIR_NORMAL_NC: u64 = 3;
/// MAIR_EL1 index of Normal write-back memory (seL4 `NORMAL`).
pub const MAIR_NORMAL: u64 = 4;
/// MAIR_EL1 index of Normal write-through memory.
pub const MAIR_NORMAL_WT: u64 = 5;
/// MAIR_EL1 with the attributes at those indices (as seL4's elfloader sets it).
pub const MAIR_VALUE: u64 = u64::from_le_bytes([
    0x00, // Device-nGnRnE
    0x04, // Device-nGnRE
    0x0c, // Device-GRE
    0x44, // Normal, inner/outer non-cacheable
    0xff, // Normal, inner/outer write-back non-transient, read/write-allocate
    0xbb, // Normal, inner/outer write-through non-transient, read/write-allocate
    0, 0,
]); // Normal, inner/outer write-through non-transient, read/write-allocate

/// Descriptor type bits.
pub const DESC_TYPE_MASK: u64 = 0b11;
/// A table (levels 0..2) or a 4 KiB page (level 3).
pub const DESC_TABLE_OR_PAGE: u64 = 0b11;
/// A block (levels 1, 2).
pub const DESC_BLOCK: u64 = 0b01;
/// The output address bits (47..12).
pub const ADDR_MASK: u64 = 0x0000_ffff_ffff_f000;
/// Shift of AttrIndx.
pub const ATTR_INDX_SHIFT: u32 = 2;
/// Shift of AP[2:1].
pub const AP_SHIFT: u32 = 6;
/// The access flag.
pub const AF: u64 = 1 << 10;
/// Not global: the translation is tagged with the ASID.
pub const NG: u64 = 1 << 11;
/// Privileged execute-never.
pub const PXN: u64 = 1 << 53;
/// Unprivileged execute-never.
pub const UXN: u64 = 1 << 54;

/// AP for kernel-only access (EL1 read-write, EL0 none).
pub const AP_KERNEL_ONLY: u64 = 0;
/// AP for read-write at EL1 and EL0.
pub const AP_READ_WRITE: u64 = 1;
/// AP for read-only at EL1 and EL0.
pub const AP_READ_ONLY: u64 = 3;

/// seL4 `APFromVMRights` (stage 1): the AP field for a frame's rights.
pub const fn ap_from_vm_rights(r: VmRights) -> u64 {
    match r {
        VmRights::KernelOnly => AP_KERNEL_ONLY,
        VmRights::ReadWrite => AP_READ_WRITE,
        VmRights::ReadOnly => AP_READ_ONLY,
    }
}

/// A translation table descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(transparent)]
pub struct Pte(u64);

impl Pte {
    /// The entry's bits (for output and tests).
    #[inline(always)]
    pub const fn bits(self) -> u64 {
        self.0
    }
    /// An entry with bits `b` (tests only: the kernel builds entries with [`Pte::table`] and
    /// the leaf constructors, see [`crate::mem::PageTableMemory`]).
    #[cfg(test)]
    pub const fn from_bits(b: u64) -> Pte {
        Pte(b)
    }
    /// The invalid descriptor (seL4 `pte_pte_invalid_new`).
    pub const INVALID: Pte = Pte(0);

    /// Whether the descriptor is valid (bit 0).
    #[inline(always)]
    pub const fn valid(self) -> bool {
        self.0 & 1 != 0
    }
    /// Whether it points at a next-level table, read at `level` (0..=2).
    #[inline(always)]
    pub const fn is_table_at(self, level: usize) -> bool {
        level < LAST_LEVEL && self.0 & DESC_TYPE_MASK == DESC_TABLE_OR_PAGE
    }
    /// Whether it maps a frame (a block at levels 1 and 2, a page at level 3), read at
    /// `level` (seL4 `pte_is_page_type`).
    #[inline(always)]
    pub const fn is_page_at(self, level: usize) -> bool {
        match self.0 & DESC_TYPE_MASK {
            DESC_TABLE_OR_PAGE => level == LAST_LEVEL,
            DESC_BLOCK => level == 1 || level == 2,
            _ => false,
        }
    }
    /// The physical address of the next-level table it points at, read at `level`, if it is
    /// a table descriptor (what [`crate::mem::PageTableMemory`] follows).
    #[inline(always)]
    pub const fn table_paddr(self, level: usize) -> Option<u64> {
        if self.is_table_at(level) {
            Some(self.paddr())
        } else {
            None
        }
    }
    /// The physical address it points at or maps.
    #[inline(always)]
    pub const fn paddr(self) -> u64 {
        self.0 & ADDR_MASK
    }
    /// A pointer to the next-level table `pt` (seL4 `pte_pte_table_new`; what [`next_table`]
    /// reads back).
    #[inline(always)]
    pub fn table(pt: PtRef) -> Pte {
        Pte((crate::arch::pptr_to_paddr(pt.addr()) & ADDR_MASK) | DESC_TABLE_OR_PAGE)
    }
    /// The AP field of a leaf.
    pub const fn ap(self) -> u64 {
        (self.0 >> AP_SHIFT) & 3
    }
    /// The AttrIndx field of a leaf.
    pub const fn attr_index(self) -> u64 {
        (self.0 >> ATTR_INDX_SHIFT) & 7
    }

    /// seL4 `makeUserPagePTE(paddr, vm_rights, attributes, page_size)` (stage 1): the leaf a
    /// user mapping of a frame of `size` gets: a page at level 3, a block above; not global
    /// (ASID-tagged), accessed, non-shareable (one core); AP from the rights; Normal
    /// write-back memory if `cacheable`, else Device-nGnRnE; UXN if `execute_never`. Never
    /// executable by the kernel (PXN, beyond seL4, which relies on the kernel never jumping
    /// there).
    pub const fn user(
        paddr: u64,
        rights: VmRights,
        cacheable: bool,
        execute_never: bool,
        size: FrameSize,
    ) -> Pte {
        let kind = match size {
            FrameSize::Small => DESC_TABLE_OR_PAGE,
            _ => DESC_BLOCK,
        };
        let attr = if cacheable {
            MAIR_NORMAL
        } else {
            MAIR_DEVICE_NGNRNE
        };
        let uxn = if execute_never { UXN } else { 0 };
        Pte((paddr & ADDR_MASK)
            | kind
            | attr << ATTR_INDX_SHIFT
            | ap_from_vm_rights(rights) << AP_SHIFT
            | AF
            | NG
            | PXN
            | uxn)
    }
}

/// A translation table of any level, the VSpace (level 0) included (seL4 `pte_t[512]`,
/// `vspace_root_t[512]`).
pub type PageTable = [Pte; PT_ENTRIES];

/// A translation table in object memory.
pub type PtRef = PPtr<PageTable>;

/// An ASID pool in object memory (the generic [`crate::mem::AsidPool`]).
pub type AsidPoolRef = PPtr<crate::mem::AsidPool>;

/// The descriptor at `index` of the table `pt`.
#[inline(always)]
pub fn pte_slot(pt: PtRef, index: usize) -> PPtr<Pte> {
    pt.at(index)
}

/// The table that `pte`, read from a level-`level` table, points to, if it is a table
/// descriptor (written only by [`Pte::table`], from a [`PtRef`]; see
/// [`crate::mem::PageTableMemory`]).
#[inline(always)]
pub fn next_table(pte: Pte, level: usize) -> Option<PtRef> {
    PtRef::next_table(pte, level)
}

/// log2 of the bytes one entry of a level-`level` table maps (0 → 39, 1 → 30, 2 → 21,
/// 3 → 12; seL4 `GET_ULVL_PGSIZE_BITS`).
#[inline(always)]
pub const fn level_bits(level: usize) -> u64 {
    PAGE_BITS + PAGE_TABLE_INDEX_BITS * (LAST_LEVEL - level) as u64
}

/// Index into a level-`level` table for `vaddr` (seL4 `GET_UPT_INDEX`).
#[inline(always)]
pub const fn pt_index(vaddr: u64, level: usize) -> usize {
    ((vaddr >> level_bits(level)) & (PT_ENTRIES as u64 - 1)) as usize
}

/// Where a walk towards a virtual address stopped: the slot of the last descriptor looked at
/// and its level.
#[derive(Clone, Copy, Debug)]
pub struct Walk {
    /// The slot.
    pub slot: PPtr<Pte>,
    /// Its level (0 = the VSpace).
    pub level: usize,
}

impl Walk {
    /// seL4's `ptBitsLeft`: log2 of the bytes the slot's entry maps (39, 30, 21 or 12): what a
    /// frame mapped there must measure, or (minus 9) what a table hooked there covers.
    pub const fn bits_left(&self) -> u64 {
        level_bits(self.level)
    }
}

/// `lookupPTSlot(vspace, vptr)`: walks from the VSpace `root` towards `vaddr` through table
/// entries and stops at the first entry that is not a table (invalid or a frame), or at
/// level 3.
pub fn lookup_pt_slot(root: PtRef, vaddr: u64) -> Walk {
    let mut table = root;
    let mut level = 0;
    loop {
        let slot = pte_slot(table, pt_index(vaddr, level));
        let Some(next) = next_table(slot.get(), level) else {
            return Walk { slot, level };
        };
        table = next;
        level += 1;
    }
}

/// The levels of the tables below a VSpace, from the root down, with the log2 of the span one
/// table covers (what the entry above it maps): level 1 (512 GiB), 2 (1 GiB), 3 (2 MiB).
pub const TABLE_LEVELS: [usize; 3] = [1, 2, 3];

/// seL4 `arch_get_n_paging`: how many page tables below a VSpace the mappings of
/// `[v_start, v_end)` need (one per 512 GiB, one per 1 GiB and one per 2 MiB touched).
/// `v_end > v_start`.
pub fn root_paging_tables(v_start: u64, v_end: u64) -> u64 {
    super::BOOT_RULES.root_paging_tables(v_start, v_end)
}

/// The level at which frames of `size` are mapped.
pub const fn level_for(size: FrameSize) -> usize {
    match size {
        FrameSize::Small => 3,
        FrameSize::Large => 2,
        FrameSize::Huge => 1,
    }
}

/// Entry `low` (`ASID_LOW(asid)`, below 512) of the ASID pool `pool`: the VSpace assigned
/// that ASID, if any (seL4 `asid_pool_t.array` of `asid_map_t`, here only its `vspace_root`).
#[inline(always)]
pub fn asid_pool_entry(
    pool: AsidPoolRef,
    low: usize,
) -> PPtr<crate::mem::Link<crate::mem::VSpaceRootMemory>> {
    pool.at(low)
}

/// `findVSpaceForASID`: the VSpace assigned `asid`, if any.
#[inline(always)]
pub fn find_vspace_for_asid(k: &Kernel, asid: u16) -> Option<PtRef> {
    let pool = k.asid_table[(asid as usize) >> ASID_POOL_INDEX_BITS].get()?;
    Some(
        asid_pool_entry(pool, asid as usize)
            .get()
            .get()?
            .vspace_table(),
    )
}

/// `unmapPage`: removes the mapping of the frame `base` of `size` at `vaddr` in the VSpace of
/// `asid`, if it is still there, and flushes its translation.
pub fn unmap_page(
    k: &Kernel,
    size: FrameSize,
    asid: u16,
    vaddr: u64,
    base: PPtr<crate::mem::FrameMemory>,
) {
    let Some(root) = find_vspace_for_asid(k, asid) else {
        return;
    };
    let w = lookup_pt_slot(root, vaddr);
    if w.level != level_for(size) {
        return;
    }
    let pte = w.slot.get();
    if pte.is_page_at(w.level) && pte.paddr() == crate::arch::pptr_to_paddr(base.addr()) {
        w.slot.set(Pte::INVALID);
        crate::arch::flush_page(vaddr, asid);
    }
}

/// `unmapPageTable`: removes the page table `pt` hooked in for `vaddr` in the VSpace of
/// `asid` from its parent, if it is still there, and flushes the ASID.
pub fn unmap_page_table(k: &Kernel, asid: u16, vaddr: u64, pt: PtRef) {
    let Some(root) = find_vspace_for_asid(k, asid) else {
        return;
    };
    let target = crate::arch::pptr_to_paddr(pt.addr());
    let mut table = root;
    for level in 0..LAST_LEVEL {
        let slot = pte_slot(table, pt_index(vaddr, level));
        let pte = slot.get();
        let Some(next) = next_table(pte, level) else {
            return;
        };
        if pte.paddr() == target {
            slot.set(Pte::INVALID);
            crate::arch::flush_asid(asid);
            return;
        }
        table = next;
    }
}

/// `deleteASID(asid, vspace)`: forgets `vspace` for `asid` if it is the one assigned, and
/// flushes the ASID's translations.
pub fn delete_asid(k: &mut Kernel, asid: u16, vspace: PtRef) {
    let Some(pool) = k.asid_table[(asid as usize) >> ASID_POOL_INDEX_BITS].get() else {
        return;
    };
    let e = asid_pool_entry(pool, asid as usize);
    if e.get().is(vspace.as_vspace_root()) {
        crate::arch::flush_asid(asid);
        e.set(crate::mem::Link::NONE);
    }
}

/// `deleteASIDPool(asid_base, pool)`: forgets the ASID pool `pool` for ASIDs
/// `asid_base..asid_base + 512` if it is the one in the ASID table, flushing the translations
/// of every ASID assigned in it (as seL4 does on Arm).
pub fn delete_asid_pool(k: &mut Kernel, asid_base: u16, pool: AsidPoolRef) {
    let i = (asid_base as usize) >> ASID_POOL_INDEX_BITS;
    if !k.asid_table[i].is(pool) {
        return;
    }
    for low in 0..crate::mem::ASID_POOL_ENTRIES {
        if asid_pool_entry(pool, low).get().is_some() {
            crate::arch::flush_asid((i << ASID_POOL_INDEX_BITS | low) as u16);
        }
    }
    k.asid_table[i] = crate::mem::Link::NONE;
}

/// Zeroes the table `pt` (seL4 `clearMemory_PT`, when a page table is unmapped by
/// `seL4_ARM_PageTable_Unmap`).
pub fn clear_page_table(pt: PtRef) {
    pt.zero();
}

/// The TTBR0_EL1 value for the VSpace at physical `root_paddr` with `asid` (seL4 `ttbr_new`).
#[inline(always)]
pub const fn ttbr0(root_paddr: u64, asid: u16) -> u64 {
    (asid as u64) << 48 | (root_paddr & ADDR_MASK)
}

/// `setVMRoot` decision: the VSpace (physical) and ASID the thread `t` runs in, or `None` if
/// its VTABLE slot holds no mapped VSpace cap whose ASID still names that VSpace (the thread
/// then runs on the empty global user VSpace, and faults on any user access).
pub fn vm_root_of(k: &Kernel, t: crate::object::tcb::TcbRef) -> Option<(u64, u16)> {
    let vt = t.slot(crate::object::tcb::tcb_slot::VTABLE).raw();
    let (base, asid) = super::cap::vspace_fields(vt)?;
    let asid = asid?;
    (find_vspace_for_asid(k, asid) == Some(base))
        .then(|| (crate::arch::pptr_to_paddr(base.addr()), asid))
}

/// The physical address of the 8-byte-aligned user word at `vaddr` in the VSpace at `root`
/// (kernel-virtual), if a user-accessible leaf maps it (for debug reports that read a thread's
/// stack).
pub fn user_word_paddr(root: PtRef, vaddr: u64) -> Option<u64> {
    if !vaddr.is_multiple_of(8) || vaddr > USER_VSPACE_TOP {
        return None;
    }
    let w = lookup_pt_slot(root, vaddr);
    let pte = w.slot.get();
    if !pte.is_page_at(w.level) || pte.ap() == AP_KERNEL_ONLY {
        return None;
    }
    let mask = (1u64 << w.bits_left()) - 1;
    Some((pte.paddr() & !mask) | (vaddr & mask))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_indices() {
        assert_eq!(
            (level_bits(0), level_bits(1), level_bits(2), level_bits(3)),
            (39, 30, 21, 12)
        );
        let v = 0x0000_7fff_ffff_f000u64;
        assert_eq!(
            (
                pt_index(v, 0),
                pt_index(v, 1),
                pt_index(v, 2),
                pt_index(v, 3)
            ),
            (255, 511, 511, 511)
        );
        assert_eq!(pt_index(0x40_1000, 3), 1);
        assert_eq!(pt_index(0x40_1000, 2), 2);
        assert_eq!(pt_index(1 << 39, 0), 1);
    }

    /// seL4's `pte_4k_page` and `pte_page` of a read-write, cacheable, executable mapping:
    /// type, AttrIndx NORMAL, AP 01, AF, nG, no UXN.
    #[test]
    fn user_leaves_match_make_user_page_pte() {
        let p = Pte::user(
            0x4123_4000,
            VmRights::ReadWrite,
            true,
            false,
            FrameSize::Small,
        );
        assert_eq!(
            p.0,
            0x4123_4000 | 0b11 | 4 << 2 | 1 << 6 | 1 << 10 | 1 << 11 | 1 << 53
        );
        assert!(p.is_page_at(3) && !p.is_table_at(3));
        assert_eq!((p.ap(), p.attr_index(), p.paddr()), (1, 4, 0x4123_4000));

        let b = Pte::user(
            0x4020_0000,
            VmRights::ReadOnly,
            false,
            true,
            FrameSize::Large,
        );
        assert_eq!(b.0 & 0b11, 0b01, "a block");
        assert!(b.is_page_at(2) && !b.is_table_at(2));
        assert_eq!((b.ap(), b.attr_index()), (3, 0));
        assert_ne!(b.0 & UXN, 0);

        let h = Pte::user(
            0x4000_0000,
            VmRights::KernelOnly,
            true,
            false,
            FrameSize::Huge,
        );
        assert!(h.is_page_at(1));
        assert_eq!(h.ap(), 0);
    }

    #[test]
    fn tables() {
        let _mem = crate::mem::sim::SimMemory::new(0x4000_0000, 30);
        let t = Pte::table(PPtr::sim(crate::arch::paddr_to_pptr(0x4567_8000)));
        assert!(t.valid() && t.is_table_at(0) && t.is_table_at(2));
        assert!(
            !t.is_table_at(3) && t.is_page_at(3),
            "0b11 at level 3 is a page"
        );
        assert_eq!(t.paddr(), 0x4567_8000);
        assert!(!Pte::INVALID.valid() && !Pte::INVALID.is_page_at(3));
        assert!(!Pte::INVALID.is_table_at(0));
    }

    /// One table per level touched: a small image needs three; crossing 2 MiB, 1 GiB or
    /// 512 GiB boundaries adds one per boundary level.
    #[test]
    fn root_paging_tables_as_arch_get_n_paging() {
        assert_eq!(root_paging_tables(0x40_0000, 0x45_0000), 3);
        assert_eq!(root_paging_tables(0x1f_f000, 0x20_1000), 4);
        assert_eq!(root_paging_tables(0x3fff_f000, 0x4000_1000), 5);
        assert_eq!(
            root_paging_tables((1 << 39) - 0x1000, (1 << 39) + 0x1000),
            6
        );
    }

    #[test]
    fn ttbr_and_mair() {
        assert_eq!(ttbr0(0x4001_2000, 3), 0x0003_0000_4001_2000);
        assert_eq!(MAIR_VALUE, 0x0000_bbff_440c_0400);
        assert_eq!(MAIR_VALUE >> (8 * MAIR_NORMAL) & 0xff, 0xff);
        assert_eq!(MAIR_VALUE >> (8 * MAIR_DEVICE_NGNRNE) & 0xff, 0);
    }

    /// A walk over tables in simulated memory: it follows tables down to level 3, stops at an
    /// invalid entry or at a block, and finds the word a user mapping covers.
    #[test]
    fn walks_follow_tables_and_stop_at_leaves() {
        let mem = crate::mem::sim::SimMemory::new(0x4000_0000, 16);
        let at = |i: usize| PtRef::sim(mem.pptr() + i * 4096);
        let pa = |i: usize| mem.base + (i * 4096) as u64;
        let (root, l1, l2, l3) = (at(0), at(1), at(2), at(3));
        let v = 0x0000_0040_0060_3000u64; // L0 0, L1 1, L2 3, L3 3
        assert_eq!(lookup_pt_slot(root, v).level, 0);
        pte_slot(root, pt_index(v, 0)).set(Pte::table(l1));
        pte_slot(l1, pt_index(v, 1)).set(Pte::table(l2));
        let w = lookup_pt_slot(root, v);
        assert_eq!((w.level, w.bits_left()), (2, 21));
        pte_slot(l2, pt_index(v, 2)).set(Pte::table(l3));
        let w = lookup_pt_slot(root, v);
        assert_eq!((w.level, w.bits_left()), (3, 12));
        assert_eq!(w.slot.addr(), l3.addr() + 3 * 8);
        w.slot.set(Pte::user(
            pa(5),
            VmRights::ReadOnly,
            true,
            false,
            FrameSize::Small,
        ));
        assert_eq!(user_word_paddr(root, v + 0x18), Some(pa(5) + 0x18));
        assert_eq!(user_word_paddr(root, v + 0x1001), None);
        assert_eq!(user_word_paddr(root, v + 0x1000), None);
        // A 2 MiB block one entry over: the walk stops at level 2 on it.
        let v2 = v + (1 << 21);
        pte_slot(l2, pt_index(v2, 2)).set(Pte::user(
            mem.base,
            VmRights::ReadWrite,
            true,
            false,
            FrameSize::Large,
        ));
        let w = lookup_pt_slot(root, v2 + 0x5000);
        assert_eq!(w.level, 2);
        assert_eq!(
            user_word_paddr(root, v2 + 0x5008),
            Some(mem.base + ((v2 + 0x5008) & 0x1f_ffff))
        );
        // Kernel-only leaves are not user words.
        w.slot.set(Pte::user(
            mem.base,
            VmRights::KernelOnly,
            true,
            false,
            FrameSize::Large,
        ));
        assert_eq!(user_word_paddr(root, v2), None);
    }
}
