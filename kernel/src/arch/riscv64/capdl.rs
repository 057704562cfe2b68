//! The riscv64 part of `seL4_DebugSnapshot`'s capDL dump (seL4 16.0.0
//! `src/arch/riscv/machine/capdl.c`), debug build only: the `arch riscv` header, the walk of a
//! VSpace's Sv39 page tables, the names of frames and page tables, the declarations of the
//! architecture's objects (frames, page tables, ASID pools) and its caps with their attributes
//! (a frame's rights as `(RWX)` from its PTE, a page table's ASID), the TCB's `vspace:` and
//! `ipc_buffer_slot:` lines.
//!
//! The generic dumper (`crate::debug::capdl`, seL4 `src/machine/capdl.c`) walks the threads,
//! their CSpaces, untypeds and interrupts, keeps the seen list, and calls the hooks here through
//! `crate::arch::capdl`; an architecture provides the same functions:
//!
//! - [`print_arch_header`]: the `arch <name>` line (part of seL4's arch `debug_capDL`);
//! - [`print_vspace_objects`] (`obj_tcb_print_vtable`), [`print_vspace_caps`]
//!   (`obj_vtable_print_slots`): a VSpace's tables and frames as objects, and its tables'
//!   entries as caps, given its root (from `crate::arch::vspace_root`);
//! - [`print_arch_object`] (`print_object_arch`), [`print_arch_cap`] (`print_cap_arch`) and
//!   [`print_arch_cap_name`] (the name alone, for an untyped's list of children): an arch cap
//!   found in a CNode;
//! - [`print_tcb_vspace`]: the `vspace:` line of a TCB's slots;
//! - [`print_ipc_buffer_frame`] (`print_ipc_buffer_slot`): the frame mapped at a thread's IPC
//!   buffer address, if any (the generic code otherwise prints the buffer slot's cap).
//!
//! Names: a VSpace root is `<root>_pd`; a mapped page table `pt_<pte>_<index>` and a mapped
//! frame `frame_<pte>_<index>`, after the PTE that maps it (its kernel-virtual address) and its
//! index in its table; a frame or page table that is not mapped where its cap says
//! `<base>_frame` or `<base>_pt`.
//!
//! Where seL4 16.0.0's riscv dumper does not work, this one does what its output means to say:
//! it walks only the user half of a VSpace root and treats leaf entries at any level as frames
//! (seL4 walks the kernel window's gigapages as page tables and never finishes), prints each
//! frame's size and physical address (seL4 prints `4k` and `paddr: 0x` followed by the page
//! number as `%p`), names frames and page tables that are not mapped or whose mapping is stale
//! and declares them where a CNode holds a cap to them (seL4 fails an assertion), and names a page-table cap that is not a VSpace root after the PTE that points at it (seL4
//! after a PTE its walk happens to end on).
#![forbid(unsafe_code)]

use super::cap::{ArchCap, Mapping, VmRights};
use super::vspace::PageTable;
use super::vspace::{
    find_vspace_for_asid, lookup_pt_slot, next_table, pt_index, pte_slot, PtRef, Pte, PTE_R, PTE_W,
    PTE_X, PT_ENTRIES,
};
use crate::arch::capdl_vspace::{self, CapdlPaging, FrameName};
use crate::arch::pptr_to_paddr;
use crate::cap::Cap;
use crate::debug::{out, P};
use crate::mem::{FrameMemory, PPtr};
use crate::state::Kernel;
use core::fmt;

/// The `arch` line that opens the dump.
pub fn print_arch_header() {
    out(format_args!("arch riscv\n"));
}

/// `print_object_arch`: the declaration of the object an arch cap in a CNode names, for the
/// objects the VSpace walk does not declare: an ASID pool, a frame or page table that is not
/// mapped where its cap says. ASID control names no object (`[unknown object 11]`).
pub fn print_arch_object(k: &Kernel, cap: ArchCap) {
    match cap {
        ArchCap::AsidPool { ptr, asid_base } => out(format_args!(
            "{}_asid_pool = asid_pool (asid_high: 0x{:x})\n",
            P(ptr.addr() as u64),
            asid_base >> abi::object::ASID_POOL_INDEX_BITS
        )),
        ArchCap::Frame {
            base, size, mapped, ..
        } => {
            if let FrameName::Unmapped(_) = frame_name(k, base, mapped) {
                out(format_args!(
                    "{} = frame ({}, paddr: {})\n",
                    FrameName::Unmapped(base.addr()),
                    Sv39::size_name(size as usize),
                    P(pptr_to_paddr(base.addr()))
                ));
            }
        }
        ArchCap::PageTable { base, mapped } => {
            if let PtName::Unmapped(_) = pt_name(k, base, mapped) {
                out(format_args!("{} = pt\n", PtName::Unmapped(base.addr())));
            }
        }
        ArchCap::AsidControl => out(format_args!("[unknown object {}]\n", cap.tag())),
    }
}

/// The name of the object an arch cap names (no attributes, no newline).
pub fn print_arch_cap_name(k: &Kernel, cap: ArchCap) {
    match cap {
        ArchCap::AsidControl => out(format_args!("asid_control")),
        ArchCap::AsidPool { ptr, .. } => out(format_args!("{}_asid_pool", P(ptr.addr() as u64))),
        ArchCap::Frame { base, mapped, .. } => out(format_args!("{}", frame_name(k, base, mapped))),
        ArchCap::PageTable { base, mapped } => out(format_args!("{}", pt_name(k, base, mapped))),
    }
}

/// `print_cap_arch`: an arch cap in a slot: its name, its attributes (a frame's rights, a
/// mapped page table's ASID) and a newline.
pub fn print_arch_cap(k: &Kernel, cap: ArchCap) {
    print_arch_cap_name(k, cap);
    match cap {
        ArchCap::Frame {
            base,
            rights,
            mapped,
            ..
        } => {
            let pte = frame_pte(k, base, mapped).map(|(s, _)| s.get());
            out(format_args!(" {}\n", FrameAttrs(pte, rights)));
        }
        ArchCap::PageTable {
            mapped: Some(m), ..
        } => out(format_args!(" (asid: {})\n", m.asid)),
        _ => out(format_args!("\n")),
    }
}

/// The `vspace:` line of a TCB's slots, if its VTABLE slot (`vtable`) holds a page table cap.
pub fn print_tcb_vspace(vtable: Cap) {
    if let Cap::Arch(ArchCap::PageTable { base, .. }) = vtable {
        out(format_args!("vspace: {}_pd\n", P(base.addr() as u64)));
    }
}

/// `print_ipc_buffer_slot`, the frame part: if the VSpace of a thread's VTABLE slot
/// (`vtable`) maps a frame at its IPC buffer address `vaddr`, prints that frame with its rights
/// and a newline and returns true; otherwise prints nothing and returns false.
pub fn print_ipc_buffer_frame(k: &Kernel, vtable: Cap, vaddr: u64) -> bool {
    let Cap::Arch(ArchCap::PageTable {
        mapped: Some(m), ..
    }) = vtable
    else {
        return false;
    };
    let Some(root) = find_vspace_for_asid(k, m.asid) else {
        return false;
    };
    let w = lookup_pt_slot(root, vaddr);
    let pte = w.slot.get();
    if !(pte.valid() && pte.is_leaf()) {
        return false;
    }
    out(format_args!(
        "frame_{}_{:04} {}\n",
        P(w.slot.addr() as u64),
        pt_index(vaddr, w.level),
        FrameAttrs(Some(pte), VmRights::KernelOnly)
    ));
    true
}

/// A frame's rights as `(RWX)`: from the PTE that maps it, else from the cap.
struct FrameAttrs(Option<Pte>, VmRights);

impl fmt::Display for FrameAttrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bits = match (self.0, self.1) {
            (Some(p), _) => p.bits(),
            (None, VmRights::ReadWrite) => PTE_R | PTE_W,
            (None, VmRights::ReadOnly) => PTE_R,
            (None, VmRights::KernelOnly) => 0,
        };
        f.write_str("(")?;
        for (b, c) in [(PTE_R, "R"), (PTE_W, "W"), (PTE_X, "X")] {
            if bits & b != 0 {
                f.write_str(c)?;
            }
        }
        f.write_str(")")
    }
}

/// The PTE slot that maps the frame at `base` as its cap's mapping says, and its index.
fn frame_pte(
    k: &Kernel,
    base: PPtr<FrameMemory>,
    mapped: Option<Mapping>,
) -> Option<(PPtr<Pte>, usize)> {
    let m = mapped?;
    let root = find_vspace_for_asid(k, m.asid)?;
    let w = lookup_pt_slot(root, m.vaddr);
    let pte = w.slot.get();
    (pte.valid() && pte.is_leaf() && pte.paddr() == pptr_to_paddr(base.addr()))
        .then(|| (w.slot, pt_index(m.vaddr, w.level)))
}

fn frame_name(k: &Kernel, base: PPtr<FrameMemory>, mapped: Option<Mapping>) -> FrameName {
    match frame_pte(k, base, mapped) {
        Some((s, i)) => FrameName::Pte(s.addr(), i),
        None => FrameName::Unmapped(base.addr()),
    }
}

/// The name of a page table: a VSpace root, after the PTE that points at it, or after its
/// address if it is not mapped where its cap says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PtName {
    Root(usize),
    Pte(usize, usize),
    Unmapped(usize),
}

impl fmt::Display for PtName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PtName::Root(base) => write!(f, "{}_pd", P(base as u64)),
            PtName::Pte(slot, i) => write!(f, "pt_{}_{:04}", P(slot as u64), i),
            PtName::Unmapped(base) => write!(f, "{}_pt", P(base as u64)),
        }
    }
}

fn pt_name(k: &Kernel, base: PtRef, mapped: Option<Mapping>) -> PtName {
    let Some(m) = mapped else {
        return PtName::Unmapped(base.addr());
    };
    let Some(root) = find_vspace_for_asid(k, m.asid) else {
        return PtName::Unmapped(base.addr());
    };
    if root == base {
        return PtName::Root(base.addr());
    }
    let target = pptr_to_paddr(base.addr());
    let mut table = root;
    for level in [2, 1] {
        let i = pt_index(m.vaddr, level);
        let pte = pte_slot(table, i).get();
        if !pte.is_table() {
            break;
        }
        if pte.paddr() == target {
            return PtName::Pte(pte_slot(table, i).addr(), i);
        }
        let Some(next) = next_table(pte, level) else {
            break;
        };
        table = next;
    }
    PtName::Unmapped(base.addr())
}

/// The Sv39 tables as the capDL walk sees them: the root at level 2, levels counting down to
/// the 4 KiB leaves at 0, every table a `pt`.
pub struct Sv39;

impl CapdlPaging for Sv39 {
    type Table = PageTable;
    type Pte = Pte;
    const ROOT_LEVEL: usize = 2;
    const ROOT_TYPE: &'static str = "pt";
    fn slot(table: PtRef, i: usize) -> PPtr<Pte> {
        pte_slot(table, i)
    }
    /// The user half of a root; all of a table below it.
    fn entries(level: usize) -> usize {
        if level == 2 {
            PT_ENTRIES / 2
        } else {
            PT_ENTRIES
        }
    }
    fn next_level(level: usize) -> usize {
        level.saturating_sub(1)
    }
    fn next_table(pte: Pte, level: usize) -> Option<PtRef> {
        next_table(pte, level)
    }
    fn is_table_entry(pte: Pte, level: usize) -> bool {
        pte.is_table() && level > 0
    }
    /// A leaf at any level (seL4's walk takes the root's leaves for tables).
    fn is_page(pte: Pte, _level: usize) -> bool {
        pte.valid() && pte.is_leaf()
    }
    fn paddr(pte: Pte) -> u64 {
        pte.paddr()
    }
    fn table_prefix(_level: usize) -> &'static str {
        "pt"
    }
    fn size_name(level: usize) -> &'static str {
        match level {
            0 => "4k",
            1 => "2M",
            _ => "1G",
        }
    }
    fn rights(pte: Pte) -> impl fmt::Display {
        FrameAttrs(Some(pte), VmRights::KernelOnly)
    }
}

/// `obj_tcb_print_vtable`: the VSpace whose root page table is at `root` and everything
/// mapped in it, as objects (`riscv_obj_pt_print_slots` below it).
pub fn print_vspace_objects(root: PtRef) {
    capdl_vspace::print_vspace_objects::<Sv39>(root);
}

/// `obj_vtable_print_slots`: the entries of the VSpace whose root page table is at `root`,
/// table by table (`riscv_cap_pt_print_slots`).
pub fn print_vspace_caps(root: PtRef) {
    capdl_vspace::print_vspace_caps::<Sv39>(root);
}
