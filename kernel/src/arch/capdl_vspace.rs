//! The walk of a VSpace's tables for `seL4_DebugSnapshot`'s capDL dump (debug build only),
//! the same on every architecture (seL4 16.0.0 `obj_tcb_print_vtable` and
//! `obj_vtable_print_slots` in each arch's `machine/capdl.c`): the architecture's `capdl.rs`
//! describes its tables through [`CapdlPaging`] (levels, which entries link a table or map a
//! frame, names and sizes) and calls [`print_vspace_objects`] and [`print_vspace_caps`].
//!
//! Names: the VSpace root is `<root>_pd`; a table below it `<prefix>_<entry>_<index>` and a
//! frame `frame_<entry>_<index>`, after the kernel address of the entry that points at it and
//! its index in its table.
#![forbid(unsafe_code)]

use crate::debug::{out, P};
use crate::mem::{PPtr, Pod};
use core::fmt;

/// An architecture's page tables as the capDL dump walks them.
pub trait CapdlPaging {
    /// A table in object memory.
    type Table;
    /// A table entry.
    type Pte: Pod + Copy;
    /// The level of a VSpace root.
    const ROOT_LEVEL: usize;
    /// The capDL type of a VSpace root (`pt`, `pgd`).
    const ROOT_TYPE: &'static str;
    /// Entry `i` of `table`.
    fn slot(table: PPtr<Self::Table>, i: usize) -> PPtr<Self::Pte>;
    /// How many entries of a level-`level` table the dump looks at (a root's user half).
    fn entries(level: usize) -> usize;
    /// The level of the tables a level-`level` table links.
    fn next_level(level: usize) -> usize;
    /// The table `pte` (at `level`) links, if it links one the walk descends into.
    fn next_table(pte: Self::Pte, level: usize) -> Option<PPtr<Self::Table>>;
    /// Whether `pte` (at `level`) is listed as a table among its table's caps.
    fn is_table_entry(pte: Self::Pte, level: usize) -> bool;
    /// Whether `pte` (at `level`) maps a frame.
    fn is_page(pte: Self::Pte, level: usize) -> bool;
    /// The physical address `pte` maps or links.
    fn paddr(pte: Self::Pte) -> u64;
    /// seL4's name (and capDL type) of a table at `level` (`pt`, `pud`, `pd`).
    fn table_prefix(level: usize) -> &'static str;
    /// The size name of a frame mapped at `level` (`4k`, `2M`, `1G`).
    fn size_name(level: usize) -> &'static str;
    /// A mapped frame's rights as `(RWX)`, from the entry that maps it.
    fn rights(pte: Self::Pte) -> impl fmt::Display;
}

/// The name of a frame: after the entry that maps it (its address and index), or after its
/// kernel address if it is not mapped where its cap says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameName {
    /// Mapped by the entry at this kernel address, this index in its table.
    Pte(usize, usize),
    /// Not mapped where its cap says: the frame's kernel address.
    Unmapped(usize),
}

impl fmt::Display for FrameName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FrameName::Pte(slot, i) => write!(f, "frame_{}_{:04}", P(slot as u64), i),
            FrameName::Unmapped(base) => write!(f, "{}_frame", P(base as u64)),
        }
    }
}

/// `obj_tcb_print_vtable`: the VSpace whose root is at `root` and everything mapped in it,
/// as objects.
pub fn print_vspace_objects<A: CapdlPaging>(root: PPtr<A::Table>) {
    out(format_args!(
        "{}_pd = {}\n",
        P(root.addr() as u64),
        A::ROOT_TYPE
    ));
    pt_objects::<A>(root, A::ROOT_LEVEL);
}

/// The tables and frames below the level-`level` table at `table` (recursion as deep as the
/// levels).
fn pt_objects<A: CapdlPaging>(table: PPtr<A::Table>, level: usize) {
    for i in 0..A::entries(level) {
        let slot = A::slot(table, i);
        let pte = slot.get();
        if let Some(next) = A::next_table(pte, level) {
            let prefix = A::table_prefix(A::next_level(level));
            out(format_args!(
                "{prefix}_{}_{:04} = {prefix}\n",
                P(slot.addr() as u64),
                i
            ));
            pt_objects::<A>(next, A::next_level(level));
        } else if A::is_page(pte, level) {
            out(format_args!(
                "frame_{}_{:04} = frame ({}, paddr: {})\n",
                P(slot.addr() as u64),
                i,
                A::size_name(level),
                P(A::paddr(pte))
            ));
        }
    }
}

/// `obj_vtable_print_slots`: the entries of the VSpace whose root is at `root`, table by
/// table.
pub fn print_vspace_caps<A: CapdlPaging>(root: PPtr<A::Table>) {
    out(format_args!("{}_pd {{\n", P(root.addr() as u64)));
    pt_caps::<A>(root, A::ROOT_LEVEL);
}

/// The entries of the level-`level` table at `table` after its opening line, then the same for
/// each table below it.
fn pt_caps<A: CapdlPaging>(table: PPtr<A::Table>, level: usize) {
    for i in 0..A::entries(level) {
        let slot = A::slot(table, i);
        let pte = slot.get();
        if A::is_table_entry(pte, level) {
            out(format_args!(
                "0x{i:x}: {}_{}_{:04}\n",
                A::table_prefix(A::next_level(level)),
                P(slot.addr() as u64),
                i
            ));
        } else if A::is_page(pte, level) {
            out(format_args!(
                "0x{i:x}: frame_{}_{:04} {}\n",
                P(slot.addr() as u64),
                i,
                A::rights(pte)
            ));
        }
    }
    out(format_args!("}}\n"));
    for i in 0..A::entries(level) {
        let slot = A::slot(table, i);
        let pte = slot.get();
        if let Some(next) = A::next_table(pte, level) {
            out(format_args!(
                "{}_{}_{:04} {{\n",
                A::table_prefix(A::next_level(level)),
                P(slot.addr() as u64),
                i
            ));
            pt_caps::<A>(next, A::next_level(level));
        }
    }
}
