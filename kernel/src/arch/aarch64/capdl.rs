//! The aarch64 part of `seL4_DebugSnapshot`'s capDL dump (seL4 16.0.0
//! `src/arch/arm/64/machine/capdl.c`), debug build only: the `arch aarch64` header, the walk
//! of a VSpace's four levels of tables, the names of frames and tables, the declarations of
//! ASID pools and of frames and tables no VSpace walk reaches, the architecture's caps with
//! their attributes (a frame's rights as `(RWX)` from the entry that maps it, a table's or
//! VSpace's ASID), and a TCB's `vspace:` and `ipc_buffer_slot:` lines. The hooks are the same
//! as riscv64's (see `crate::arch::capdl`).
//!
//! Names follow seL4's: a VSpace is `<vspace>_pd = pgd`; the tables below it `pud_`, `pd_`,
//! `pt_` and the frames `frame_`, each followed by the address of the entry that points at it
//! and its index in its table; a frame or table not mapped where its cap says `<base>_frame`
//! or `<base>_pt`. Where seL4's walk looks at only the first nine entries of the VSpace (it
//! loops to `PT_INDEX_BITS`), this one looks at the whole user half (256 entries).
#![forbid(unsafe_code)]

use super::cap::{ArchCap, Mapping, VmRights};
use super::vspace::PageTable;
use super::vspace::{
    find_vspace_for_asid, lookup_pt_slot, next_table, pt_index, pte_slot, PtRef, Pte, AP_READ_ONLY,
    AP_READ_WRITE, LAST_LEVEL, PT_ENTRIES, UXN,
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
    out(format_args!("arch aarch64\n"));
}

/// `print_object_arch`: the declaration of the object an arch cap in a CNode names, for the
/// objects the VSpace walk does not declare: an ASID pool, a frame or table that is not mapped
/// where its cap says, a VSpace without an ASID.
pub fn print_arch_object(k: &Kernel, cap: ArchCap) {
    match cap {
        ArchCap::AsidPool { ptr, asid_base } => out(format_args!(
            "{}_asid_pool = asid_pool (asid_high: 0x{:x})\n",
            P(ptr.addr() as u64),
            asid_base >> abi::arch::aarch64::ASID_POOL_INDEX_BITS
        )),
        ArchCap::Frame {
            base, size, mapped, ..
        } => {
            if let FrameName::Unmapped(_) = frame_name(k, base, mapped) {
                out(format_args!(
                    "{} = frame ({}, paddr: {})\n",
                    FrameName::Unmapped(base.addr()),
                    Tables::size_name(super::vspace::level_for(size)),
                    P(pptr_to_paddr(base.addr()))
                ));
            }
        }
        ArchCap::PageTable { base, mapped } => {
            if let PtName::Unmapped(_) = pt_name(k, base, mapped) {
                out(format_args!("{} = pt\n", PtName::Unmapped(base.addr())));
            }
        }
        ArchCap::VSpace { base, asid } => {
            if asid.and_then(|a| find_vspace_for_asid(k, a)) != Some(base) {
                out(format_args!("{}_pd = pgd\n", P(base.addr() as u64)));
            }
        }
        ArchCap::AsidControl | ArchCap::SgiSignal { .. } | ArchCap::Smc { .. } => {
            out(format_args!("[unknown object {}]\n", cap.tag()))
        }
    }
}

/// The name of the object an arch cap names (no attributes, no newline).
pub fn print_arch_cap_name(k: &Kernel, cap: ArchCap) {
    match cap {
        ArchCap::AsidControl => out(format_args!("asid_control")),
        ArchCap::AsidPool { ptr, .. } => out(format_args!("{}_asid_pool", P(ptr.addr() as u64))),
        ArchCap::Frame { base, mapped, .. } => out(format_args!("{}", frame_name(k, base, mapped))),
        ArchCap::PageTable { base, mapped } => out(format_args!("{}", pt_name(k, base, mapped))),
        ArchCap::VSpace { base, .. } => out(format_args!("{}_pd", P(base.addr() as u64))),
        ArchCap::SgiSignal { irq, target } => out(format_args!("sgi_signal_{irq}_{target}")),
        ArchCap::Smc { badge } => out(format_args!("smc_{badge:#x}")),
    }
}

/// `print_cap_arch`: an arch cap in a slot: its name, its attributes (a frame's rights, a
/// table's or VSpace's ASID) and a newline.
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
        ArchCap::VSpace {
            asid: Some(asid), ..
        } => out(format_args!(" (asid: {asid})\n")),
        _ => out(format_args!("\n")),
    }
}

/// The `vspace:` line of a TCB's slots, if its VTABLE slot (`vtable`) holds a VSpace cap.
pub fn print_tcb_vspace(vtable: Cap) {
    if let Cap::Arch(ArchCap::VSpace { base, .. }) = vtable {
        out(format_args!("vspace: {}_pd\n", P(base.addr() as u64)));
    }
}

/// `print_ipc_buffer_slot`, the frame part: if the VSpace of a thread's VTABLE slot
/// (`vtable`) maps a frame at its IPC buffer address `vaddr`, prints that frame with its rights
/// and a newline and returns true; otherwise prints nothing and returns false.
pub fn print_ipc_buffer_frame(k: &Kernel, vtable: Cap, vaddr: u64) -> bool {
    let Cap::Arch(ArchCap::VSpace {
        asid: Some(asid), ..
    }) = vtable
    else {
        return false;
    };
    let Some(root) = find_vspace_for_asid(k, asid) else {
        return false;
    };
    let w = lookup_pt_slot(root, vaddr);
    let pte = w.slot.get();
    if !pte.is_page_at(w.level) {
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

/// A frame's rights as `(RWX)` (`cap_frame_print_attrs_impl`): from the entry that maps it,
/// else from the cap (then without X).
struct FrameAttrs(Option<Pte>, VmRights);

impl fmt::Display for FrameAttrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (rights, exec) = match (self.0, self.1) {
            (Some(p), _) => (
                match p.ap() {
                    AP_READ_WRITE => "RW",
                    AP_READ_ONLY => "R",
                    _ => "",
                },
                p.bits() & UXN == 0,
            ),
            (None, VmRights::ReadWrite) => ("RW", false),
            (None, VmRights::ReadOnly) => ("R", false),
            (None, VmRights::KernelOnly) => ("", false),
        };
        write!(f, "({rights}{})", if exec { "X" } else { "" })
    }
}

/// The entry that maps the frame at `base` as its cap's mapping says, and its index.
fn frame_pte(
    k: &Kernel,
    base: PPtr<FrameMemory>,
    mapped: Option<Mapping>,
) -> Option<(PPtr<Pte>, usize)> {
    let m = mapped?;
    let root = find_vspace_for_asid(k, m.asid)?;
    let w = lookup_pt_slot(root, m.vaddr);
    let pte = w.slot.get();
    (pte.is_page_at(w.level) && pte.paddr() == pptr_to_paddr(base.addr()))
        .then(|| (w.slot, pt_index(m.vaddr, w.level)))
}

fn frame_name(k: &Kernel, base: PPtr<FrameMemory>, mapped: Option<Mapping>) -> FrameName {
    match frame_pte(k, base, mapped) {
        Some((s, i)) => FrameName::Pte(s.addr(), i),
        None => FrameName::Unmapped(base.addr()),
    }
}

/// The name of a table: after the entry that points at it (with the prefix of its level), or
/// after its address if it is not mapped where its cap says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PtName {
    Pte(usize, usize, usize),
    Unmapped(usize),
}

impl fmt::Display for PtName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PtName::Pte(level, slot, i) => {
                write!(
                    f,
                    "{}_{}_{:04}",
                    Tables::table_prefix(level),
                    P(slot as u64),
                    i
                )
            }
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
    let target = pptr_to_paddr(base.addr());
    let mut table = root;
    for level in 0..LAST_LEVEL {
        let i = pt_index(m.vaddr, level);
        let pte = pte_slot(table, i).get();
        let Some(next) = next_table(pte, level) else {
            break;
        };
        if pte.paddr() == target {
            return PtName::Pte(level + 1, pte_slot(table, i).addr(), i);
        }
        table = next;
    }
    PtName::Unmapped(base.addr())
}

/// The four levels of tables as the capDL walk sees them: the VSpace (`pgd`) at level 0, then
/// `pud`, `pd` and `pt` down to the 4 KiB pages at level 3.
pub struct Tables;

impl CapdlPaging for Tables {
    type Table = PageTable;
    type Pte = Pte;
    const ROOT_LEVEL: usize = 0;
    const ROOT_TYPE: &'static str = "pgd";
    fn slot(table: PtRef, i: usize) -> PPtr<Pte> {
        pte_slot(table, i)
    }
    /// The user half of a VSpace; all of a table below it.
    fn entries(level: usize) -> usize {
        if level == 0 {
            PT_ENTRIES / 2
        } else {
            PT_ENTRIES
        }
    }
    fn next_level(level: usize) -> usize {
        level + 1
    }
    fn next_table(pte: Pte, level: usize) -> Option<PtRef> {
        next_table(pte, level)
    }
    fn is_table_entry(pte: Pte, level: usize) -> bool {
        pte.is_table_at(level)
    }
    fn is_page(pte: Pte, level: usize) -> bool {
        pte.is_page_at(level)
    }
    fn paddr(pte: Pte) -> u64 {
        pte.paddr()
    }
    /// seL4's name of a table at `level` (1: `pud`, 2: `pd`, 3: `pt`).
    fn table_prefix(level: usize) -> &'static str {
        match level {
            1 => "pud",
            2 => "pd",
            _ => "pt",
        }
    }
    fn size_name(level: usize) -> &'static str {
        match level {
            3 => "4k",
            2 => "2M",
            _ => "1G",
        }
    }
    fn rights(pte: Pte) -> impl fmt::Display {
        FrameAttrs(Some(pte), VmRights::KernelOnly)
    }
}

/// `obj_tcb_print_vtable`: the VSpace at `root` and everything mapped in it, as objects.
pub fn print_vspace_objects(root: PtRef) {
    capdl_vspace::print_vspace_objects::<Tables>(root);
}

/// `obj_vtable_print_slots`: the entries of the VSpace at `root`, table by table.
pub fn print_vspace_caps(root: PtRef) {
    capdl_vspace::print_vspace_caps::<Tables>(root);
}
