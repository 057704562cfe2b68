//! Sv39 page tables and ASIDs (seL4 `src/arch/riscv/kernel/vspace.c`). Pure logic over object
//! memory: runs on the host in tests.
//!
//! A VSpace is a root page table (512 PTEs of 8 bytes). Levels are numbered as seL4 numbers
//! them: the root is level 2 (1 GiB per entry), then 1 (2 MiB), then 0 (4 KiB).
#![forbid(unsafe_code)]

use crate::mem::PPtr;
use crate::state::Kernel;

/// Entries per page table.
pub const PT_ENTRIES: usize = 512;

/// PTE valid bit.
pub const PTE_V: u64 = 1 << 0;
/// PTE read.
pub const PTE_R: u64 = 1 << 1;
/// PTE write.
pub const PTE_W: u64 = 1 << 2;
/// PTE execute.
pub const PTE_X: u64 = 1 << 3;
/// PTE user.
pub const PTE_U: u64 = 1 << 4;
/// PTE global.
pub const PTE_G: u64 = 1 << 5;
/// PTE accessed.
pub const PTE_A: u64 = 1 << 6;
/// PTE dirty.
pub const PTE_D: u64 = 1 << 7;

/// A page-table entry.
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
    /// The invalid entry.
    pub const INVALID: Pte = Pte(0);
    /// Whether the entry is valid.
    pub fn valid(self) -> bool {
        self.0 & PTE_V != 0
    }
    /// Whether it maps a page (R, W or X set) rather than pointing at a table.
    pub fn is_leaf(self) -> bool {
        self.0 & (PTE_R | PTE_W | PTE_X) != 0
    }
    /// Physical address it points at.
    pub fn paddr(self) -> u64 {
        (self.0 >> 10) << 12
    }
    /// The physical address of the next-level table it points at, read from a level-`level`
    /// table, if it is a valid non-leaf entry above level 0 (what
    /// [`crate::mem::PageTableMemory`] follows).
    #[inline(always)]
    pub fn table_paddr(self, level: usize) -> Option<u64> {
        (level > 0 && self.is_table()).then(|| self.paddr())
    }
    /// A pointer to the next-level table `pt` (what [`next_table`] reads back).
    pub fn table(pt: PtRef) -> Pte {
        let paddr = crate::arch::pptr_to_paddr(pt.addr());
        Pte(((paddr >> 12) << 10) | PTE_V)
    }
    /// Whether it points at a next-level table (seL4 `isPTEPageTable`: valid, none of R/W/X).
    pub fn is_table(self) -> bool {
        self.valid() && !self.is_leaf()
    }
    /// seL4 `makeUserPTE(paddr, executable, vm_rights)` (`src/arch/riscv/kernel/vspace.c`):
    /// the PTE a user mapping of a frame gets. R unless kernel-only, W only for read-write,
    /// X from the attributes, always U, A and D. A frame with no R, W or X gets the invalid
    /// PTE (seL4 then records the mapping in the cap but the hardware sees nothing).
    pub fn user(paddr: u64, rights: crate::arch::riscv64::cap::VmRights, executable: bool) -> Pte {
        use crate::arch::riscv64::cap::VmRights;
        let r = if rights != VmRights::KernelOnly {
            PTE_R
        } else {
            0
        };
        let w = if rights == VmRights::ReadWrite {
            PTE_W
        } else {
            0
        };
        let x = if executable { PTE_X } else { 0 };
        if r | w | x == 0 {
            return Pte(0);
        }
        Pte(((paddr >> 12) << 10) | r | w | x | PTE_U | PTE_V | PTE_A | PTE_D)
    }
    /// A leaf mapping `paddr` with user access and the given rights (boot: the root task's
    /// frames, seL4 `map_it_frame_cap`, which maps them read-write-execute).
    pub fn leaf(paddr: u64, rights: crate::arch::riscv64::cap::VmRights, executable: bool) -> Pte {
        use crate::arch::riscv64::cap::VmRights;
        let rw = match rights {
            VmRights::ReadWrite => PTE_R | PTE_W,
            VmRights::ReadOnly => PTE_R,
            VmRights::KernelOnly => 0,
        };
        let x = if executable { PTE_X } else { 0 };
        // A kernel-only leaf still needs one of R/W/X to be a leaf; seL4 maps it with no user
        // bit instead.
        let (rwx, u) = if rw | x == 0 {
            (PTE_R, 0)
        } else {
            (rw | x, PTE_U)
        };
        Pte(((paddr >> 12) << 10) | rwx | u | PTE_V | PTE_A | PTE_D)
    }
}

/// A page table (seL4 `pte_t[BIT(PT_INDEX_BITS)]`; a VSpace when it is the root of one).
pub type PageTable = [Pte; PT_ENTRIES];

/// A page table in object memory.
pub type PtRef = PPtr<PageTable>;

/// An ASID pool in object memory (the generic [`crate::mem::AsidPool`]).
pub type AsidPoolRef = PPtr<crate::mem::AsidPool>;

/// The PTE at `index` of table `pt`.
#[inline(always)]
pub fn pte_slot(pt: PtRef, index: usize) -> PPtr<Pte> {
    pt.at(index)
}

/// The table that `pte`, read from a level-`level` table, points to, if it is a valid non-leaf
/// entry above level 0 (such entries are written only by [`Pte::table`], from a [`PtRef`];
/// see [`crate::mem::PageTableMemory`]).
#[inline(always)]
pub fn next_table(pte: Pte, level: usize) -> Option<PtRef> {
    PtRef::next_table(pte, level)
}

/// Index into a level-`level` table for `vaddr` (level 2 is the root).
pub fn pt_index(vaddr: u64, level: usize) -> usize {
    ((vaddr >> (12 + 9 * level)) & 0x1ff) as usize
}

/// Result of walking towards `vaddr`: the PTE slot reached and its level.
#[derive(Clone, Copy, Debug)]
pub struct Walk {
    /// The slot of the last PTE looked at.
    pub slot: PPtr<Pte>,
    /// Its level (2 = root).
    pub level: usize,
}

impl Walk {
    /// seL4's `ptBitsLeft` of the walk: log2 of the bytes one entry at this level maps
    /// (30, 21 or 12); what a frame mapped in this slot must measure.
    pub fn bits_left(&self) -> u64 {
        level_bits(self.level)
    }
}

/// log2 of the bytes mapped by one entry of a level-`level` table (2 → 30, 1 → 21, 0 → 12;
/// seL4 `RISCV_GET_LVL_PGSIZE_BITS`, which numbers the levels from the root down).
pub fn level_bits(level: usize) -> u64 {
    abi::object::PAGE_BITS + abi::object::PAGE_TABLE_INDEX_BITS * level as u64
}

/// `lookupPTSlot(lvl1pt, vptr)`: walks from the root `root` towards `vaddr` and stops at the
/// first invalid or leaf entry, or at level 0.
pub fn lookup_pt_slot(root: PtRef, vaddr: u64) -> Walk {
    let mut table = root;
    let mut level = 2;
    loop {
        let slot = pte_slot(table, pt_index(vaddr, level));
        let pte = slot.get();
        let Some(next) = next_table(pte, level) else {
            return Walk { slot, level };
        };
        table = next;
        level -= 1;
    }
}

/// `findVSpaceForASID`: the root page table of `asid`, if assigned.
#[inline(always)]
pub fn find_vspace_for_asid(k: &Kernel, asid: u16) -> Option<PtRef> {
    let pool = k.asid_table[(asid as usize) >> abi::object::ASID_POOL_INDEX_BITS].get()?;
    Some(
        asid_pool_entry(pool, asid as usize)
            .get()
            .get()?
            .vspace_table(),
    )
}

/// Level whose entries map pages of `size`.
pub fn level_for(size: crate::arch::riscv64::cap::FrameSize) -> usize {
    size as usize
}

/// `unmapPage`: removes the mapping of the frame `base` of `size` at `vaddr` in the VSpace of
/// `asid`, if it is still there.
pub fn unmap_page(
    k: &Kernel,
    size: crate::arch::riscv64::cap::FrameSize,
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
    if pte.valid() && pte.is_leaf() && pte.paddr() == crate::arch::pptr_to_paddr(base.addr()) {
        w.slot.set(Pte(0));
        crate::arch::flush_page(vaddr, asid);
    }
}

/// `unmapPageTable`: removes the page table `pt` mapped at `vaddr` in the VSpace of `asid`
/// from its parent, if it is still there.
pub fn unmap_page_table(k: &Kernel, asid: u16, vaddr: u64, pt: PtRef) {
    let Some(root) = find_vspace_for_asid(k, asid) else {
        return;
    };
    let target = crate::arch::pptr_to_paddr(pt.addr());
    // Walk until the entry that points at `pt`.
    let mut table = root;
    let mut level = 2;
    while level > 0 {
        let slot = pte_slot(table, pt_index(vaddr, level));
        let pte = slot.get();
        if !pte.valid() || pte.is_leaf() {
            return;
        }
        if pte.paddr() == target {
            slot.set(Pte(0));
            crate::arch::flush_asid(asid);
            return;
        }
        let Some(next) = next_table(pte, level) else {
            return;
        };
        table = next;
        level -= 1;
    }
}

/// `deleteASID`/`deleteASIDPool` helpers: forgets the VSpace `root` for `asid` if it is the
/// one assigned.
pub fn delete_asid(k: &mut Kernel, asid: u16, root: PtRef) {
    let Some(pool) = k.asid_table[(asid as usize) >> abi::object::ASID_POOL_INDEX_BITS].get()
    else {
        return;
    };
    let e = asid_pool_entry(pool, asid as usize);
    if e.get().is(root.as_vspace_root()) {
        e.set(crate::mem::Link::default());
        crate::arch::flush_asid(asid);
    }
}

/// `deleteASIDPool(asid_base, pool)`: forgets the ASID pool at `pool` for ASIDs
/// `asid_base..asid_base + 512` if it is the one in the ASID table; every VSpace assigned in it
/// then no longer has an ASID (its caps stay "mapped" but `findVSpaceForASID` fails for them,
/// as in seL4).
///
/// Beyond seL4 (whose RISC-V `deleteASIDPool` does no TLB maintenance), the TLB is flushed
/// (all of it, one instruction, rather than ASID by ASID over the pool's 512 entries): this
/// kernel tags translations with hardware ASIDs, and a later pool in the same table entry
/// hands the same ASIDs out again.
pub fn delete_asid_pool(k: &mut Kernel, asid_base: u16, pool: AsidPoolRef) {
    let i = (asid_base as usize) >> abi::object::ASID_POOL_INDEX_BITS;
    if !k.asid_table[i].is(pool) {
        return;
    }
    crate::arch::flush_all();
    k.asid_table[i] = crate::mem::Link::default();
}

/// Entry `low` (`ASID_LOW(asid)`, masked to 9 bits) of the ASID pool `pool`: the VSpace root
/// assigned that ASID, if any (seL4 `asid_pool_t.array`).
#[inline(always)]
pub fn asid_pool_entry(
    pool: AsidPoolRef,
    low: usize,
) -> PPtr<crate::mem::Link<crate::mem::VSpaceRootMemory>> {
    pool.at(low)
}

/// Zeroes the page table `pt` (seL4 `clearMemory(pt, seL4_PageTableBits)`, done when a page
/// table is unmapped by `seL4_RISCV_PageTable_Unmap`).
pub fn clear_page_table(pt: PtRef) {
    pt.zero();
}

/// `copyGlobalMappings`: copies the kernel's entries (upper half of the root table) into a new
/// VSpace root `root`.
pub fn copy_global_mappings(root: PtRef) {
    let Some(kernel_root) = crate::arch::kernel_root_page_table() else {
        return;
    };
    // Eight entries an iteration: the loop's own instructions once per eight copies.
    for i in (PT_ENTRIES / 2..PT_ENTRIES).step_by(8) {
        let e: [Pte; 8] = core::array::from_fn(|j| pte_slot(kernel_root, i + j).get());
        for (j, pte) in e.into_iter().enumerate() {
            pte_slot(root, i + j).set(pte);
        }
    }
}

/// `setVMRoot` decision: the root page table (physical) and ASID the thread `t` runs in, or
/// `None` if its VTABLE slot holds no valid, assigned VSpace (the thread then runs on the
/// kernel's own page table, and faults on any user access).
pub fn vm_root_of(k: &Kernel, t: crate::object::tcb::TcbRef) -> Option<(u64, u16)> {
    let vt = t.slot(crate::object::tcb::tcb_slot::VTABLE).raw();
    if vt.tag() != crate::arch::riscv64::cap::tag::PAGE_TABLE {
        return None;
    }
    let m = crate::arch::riscv64::cap::page_table_mapping(vt)?;
    let base: PtRef = vt.object()?;
    (find_vspace_for_asid(k, m.asid) == Some(base))
        .then(|| (crate::arch::pptr_to_paddr(base.addr()), m.asid))
}

/// The physical address of the 8-byte-aligned user word at `vaddr` in the VSpace whose root
/// page table is `root`, if a leaf mapping for user mode covers it (for debug reports that
/// read a thread's stack).
pub fn user_word_paddr(root: PtRef, vaddr: u64) -> Option<u64> {
    if !vaddr.is_multiple_of(8) || vaddr >= abi::object::USER_TOP {
        return None;
    }
    let w = lookup_pt_slot(root, vaddr);
    let pte = w.slot.get();
    if !pte.valid() || !pte.is_leaf() || pte.0 & PTE_U == 0 {
        return None;
    }
    let mask = (1u64 << level_bits(w.level)) - 1;
    Some((pte.paddr() & !mask) | (vaddr & mask))
}
