//! Capability table entries (slots) and the mapping database (MDB, seL4's CDT).
//!
//! A slot ([`Cte`]) is 32 bytes: the cap and its MDB node. The MDB is a doubly linked list of
//! all slots holding caps, in depth-first order of the derivation tree: a cap's descendants
//! follow it directly, and [`is_mdb_parent_of`] tells, for two neighbours, whether the second
//! is derived from the first (seL4 `src/object/cnode.c`, `src/kernel/cspace.c`).
#![forbid(unsafe_code)]

use crate::cap::{Cap, RawCap};
use crate::mem::{Link, PPtr, TaggedLink};

/// An MDB node: previous and next slot in the list, and two flags kept in the low bits of
/// `next` (slots are 32-byte aligned): bit 0 revocable, bit 1 first badged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(C)]
pub struct MdbNode {
    prev: Link<Cte>,
    next: TaggedLink<Cte>,
}

impl MdbNode {
    /// The previous slot, if any.
    #[inline(always)]
    pub fn prev(self) -> Option<Slot> {
        self.prev.get().map(Slot)
    }
    /// The next slot, if any.
    #[inline(always)]
    pub fn next(self) -> Option<Slot> {
        self.next.get().map(Slot)
    }
    /// `mdbRevocable`: the cap may be revoked to delete caps derived from it.
    pub fn revocable(self) -> bool {
        self.next.tag() & 1 != 0
    }
    /// `mdbFirstBadged`: the first badged copy of an endpoint or notification cap.
    pub fn first_badged(self) -> bool {
        self.next.tag() & 2 != 0
    }
    fn set_prev(&mut self, s: Option<Slot>) {
        self.prev = Link::from_opt(s.map(|s| s.0));
    }
    fn set_next(&mut self, s: Option<Slot>) {
        self.next = self.next.with_link(s.map(|s| s.0));
    }
    fn set_flags(&mut self, revocable: bool, first_badged: bool) {
        self.next = self
            .next
            .with_tag(revocable as u64 | (first_badged as u64) << 1);
    }
}

/// A capability table entry: one CNode slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(C)]
pub struct Cte {
    /// The capability.
    pub cap: RawCap,
    /// Its place in the MDB.
    pub mdb: MdbNode,
}

/// A reference to a slot in object memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot(pub PPtr<Cte>);

impl Slot {
    /// Its address.
    pub fn addr(self) -> usize {
        self.0.addr()
    }
    /// The decoded cap.
    pub fn cap(self) -> Cap {
        self.raw().decode()
    }
    /// The raw cap.
    pub fn raw(self) -> RawCap {
        self.0
            .field::<RawCap, { core::mem::offset_of!(Cte, cap) }>()
            .get()
    }
    /// Stores a cap, leaving the MDB node as it is.
    pub fn set_cap(self, c: Cap) {
        self.0
            .field::<RawCap, { core::mem::offset_of!(Cte, cap) }>()
            .set(c.encode())
    }
    /// Stores an encoded cap, leaving the MDB node as it is (for the architecture's code, which
    /// may encode caps of an architecture other than the host's in host tests).
    #[inline(always)]
    pub fn set_raw(self, c: RawCap) {
        self.0
            .field::<RawCap, { core::mem::offset_of!(Cte, cap) }>()
            .set(c)
    }
    /// The MDB node.
    pub fn mdb(self) -> MdbNode {
        self.0
            .field::<MdbNode, { core::mem::offset_of!(Cte, mdb) }>()
            .get()
    }
    fn set_mdb(self, m: MdbNode) {
        self.0
            .field::<MdbNode, { core::mem::offset_of!(Cte, mdb) }>()
            .set(m)
    }
    fn update_mdb(self, f: impl FnOnce(&mut MdbNode)) {
        let mut m = self.mdb();
        f(&mut m);
        self.set_mdb(m);
    }
    /// Whether the slot holds the null cap.
    pub fn is_empty(self) -> bool {
        self.raw().is_null()
    }
    /// Slot `i` of the CNode of 2^`radix` slots that starts at this slot (`i` masked to
    /// `radix` bits: see [`PPtr::cnode_slot`]).
    #[inline(always)]
    pub fn index(self, radix: u32, i: usize) -> Slot {
        Slot(self.0.cnode_slot(radix, i))
    }
}

/// `sameRegionAs(a, b)`: whether `b` names memory inside `a`'s region, or the same object.
pub fn same_region_as(a: &Cap, b: &Cap) -> bool {
    match (a, b) {
        (Cap::Untyped { .. }, _) => match (a.region(), b.region()) {
            (Some((pa, sa)), Some((pb, sb))) => {
                // seL4 compares inclusive end addresses.
                let (ea, eb) = (pa as u64 + sa - 1, pb as u64 + sb - 1);
                pa as u64 <= pb as u64 && eb <= ea && pb as u64 <= eb
            }
            _ => false,
        },
        (Cap::Endpoint { ptr: x, .. }, Cap::Endpoint { ptr: y, .. }) => x == y,
        (Cap::Notification { ptr: x, .. }, Cap::Notification { ptr: y, .. }) => x == y,
        (
            Cap::CNode {
                ptr: x, radix: rx, ..
            },
            Cap::CNode {
                ptr: y, radix: ry, ..
            },
        ) => x == y && rx == ry,
        (Cap::Thread { tcb: x }, Cap::Thread { tcb: y }) => x == y,
        #[cfg(not(feature = "mcs"))]
        (Cap::Reply { tcb: x, .. }, Cap::Reply { tcb: y, .. }) => x == y,
        #[cfg(feature = "mcs")]
        (Cap::Reply { ptr: x, .. }, Cap::Reply { ptr: y, .. }) => x == y,
        #[cfg(feature = "mcs")]
        (
            Cap::SchedContext {
                ptr: x,
                size_bits: bx,
            },
            Cap::SchedContext {
                ptr: y,
                size_bits: by,
            },
        ) => x == y && bx == by,
        #[cfg(feature = "mcs")]
        (Cap::SchedControl { .. }, Cap::SchedControl { .. }) => true,
        (Cap::Domain, Cap::Domain) => true,
        (Cap::IrqControl, Cap::IrqControl | Cap::IrqHandler { .. }) => true,
        (Cap::IrqHandler { irq: x }, Cap::IrqHandler { irq: y }) => x == y,
        (Cap::Arch(x), Cap::Arch(y)) => crate::arch::arch_same_region_as(x, y),
        _ => false,
    }
}

/// `sameObjectAs(a, b)`: like [`same_region_as`] but an untyped is never the same object as
/// anything, and control caps are not the same object as what they create.
pub fn same_object_as(a: &Cap, b: &Cap) -> bool {
    match (a, b) {
        (Cap::Untyped { .. }, _) => false,
        (Cap::IrqControl, Cap::IrqHandler { .. }) => false,
        (Cap::Arch(x), Cap::Arch(y)) => crate::arch::arch_same_object_as(x, y),
        _ => same_region_as(a, b),
    }
}

/// `isMDBParentOf(a, b)`: whether the cap in slot `b` is derived from the cap in slot `a`,
/// given `b` follows `a` in the MDB list.
pub fn is_mdb_parent_of(a: Slot, b: Slot) -> bool {
    let (am, bm) = (a.mdb(), b.mdb());
    if !am.revocable() {
        return false;
    }
    let (ac, bc) = (a.cap(), b.cap());
    if !same_region_as(&ac, &bc) {
        return false;
    }
    match (ac, bc) {
        (Cap::Endpoint { badge: ba, .. }, Cap::Endpoint { badge: bb, .. })
        | (Cap::Notification { badge: ba, .. }, Cap::Notification { badge: bb, .. }) => {
            ba == 0 || (ba == bb && !bm.first_badged())
        }
        _ => true,
    }
}

/// `isCapRevocable(new, src)`: whether a cap derived from `src` as `new` is revocable (the
/// architecture's caps: `crate::arch::arch_is_cap_revocable`).
pub fn is_cap_revocable(new: &Cap, src: &Cap) -> bool {
    match (new, src) {
        (Cap::Arch(n), s) => crate::arch::arch_is_cap_revocable(n, s),
        (Cap::Endpoint { badge: nb, .. }, Cap::Endpoint { badge: sb, .. })
        | (Cap::Notification { badge: nb, .. }, Cap::Notification { badge: sb, .. }) => nb != sb,
        (Cap::IrqHandler { .. }, Cap::IrqControl) => true,
        (Cap::Untyped { .. }, _) => true,
        _ => false,
    }
}

/// `cteInsert(new, src, dest)`: stores `new` (derived from `src`'s cap) in the empty slot
/// `dest`, directly after `src` in the MDB.
///
/// Copying an untyped cap marks the source as full (seL4 `setUntypedCapAsFull`): from then on
/// only the copy allocates, so the two never hand out the same memory.
pub fn cte_insert(new: Cap, src: Slot, dest: Slot) {
    let src_cap = src.cap();
    let revocable = is_cap_revocable(&new, &src_cap);
    if let (
        Cap::Untyped {
            ptr,
            size_bits,
            is_device,
            ..
        },
        Cap::Untyped {
            ptr: np,
            size_bits: nb,
            ..
        },
    ) = (src_cap, new)
    {
        if ptr == np && size_bits == nb {
            src.set_cap(Cap::Untyped {
                ptr,
                size_bits,
                free_index: 1 << size_bits,
                is_device,
            });
        }
    }
    mdb_insert_after(new.encode(), revocable, src, dest);
}

/// The MDB part of `cteInsert`: stores `new` in the empty slot `dest`, right after `src`, with
/// the revocable and first-badged flags set to `revocable`.
#[inline]
pub fn mdb_insert_after(new: RawCap, revocable: bool, src: Slot, dest: Slot) {
    let next = src.mdb().next();
    let mut m = MdbNode::default();
    m.set_prev(Some(src));
    m.set_next(next);
    m.set_flags(revocable, revocable);
    dest.0
        .field::<RawCap, { core::mem::offset_of!(Cte, cap) }>()
        .set(new);
    dest.set_mdb(m);
    if let Some(n) = next {
        n.update_mdb(|m| m.set_prev(Some(dest)));
    }
    src.update_mdb(|m| m.set_next(Some(dest)));
}

/// The raw MDB `next` word of `slot`: the next slot's address with the revocable (bit 0) and
/// first-badged (bit 1) flags (for the IPC fastpath).
#[inline(always)]
pub fn mdb_next_word(slot: Slot) -> u64 {
    slot.mdb().next.word()
}

/// The MDB flags of a master reply cap (`setupReplyMaster`: revocable, first badged), as in
/// the low bits of its `next` word.
pub const MASTER_REPLY_MDB_FLAGS: u64 = 3;

/// [`mdb_insert_after`] for the IPC fastpath: puts the reply cap `new` (word 1 zero) into the
/// empty slot `dest` as the child of the master reply cap in `src`, which has none. Only the
/// words that change are written: `dest` is all zero (an empty slot always is) and `src`'s
/// `next` word names no slot and holds [`MASTER_REPLY_MDB_FLAGS`].
#[inline(always)]
pub fn mdb_insert_leaf(new: RawCap, src: Slot, dest: Slot) {
    debug_assert!(dest.0.get() == Cte::default() && new.w1() == 0);
    debug_assert_eq!(mdb_next_word(src), MASTER_REPLY_MDB_FLAGS);
    dest.0.with(|c| {
        c.cap.copy_w0(new);
        c.mdb.prev = Link::to(src.0);
    });
    src.0
        .with(|c| c.mdb.next = TaggedLink::to(dest.0, MASTER_REPLY_MDB_FLAGS));
}

/// [`mdb_unlink`] for the IPC fastpath: empties `slot`, which holds a reply cap (word 1
/// zero), has no next slot and the master reply cap in `prev` before it (its flags
/// [`MASTER_REPLY_MDB_FLAGS`]). Only the words that change are written.
#[inline(always)]
pub fn mdb_unlink_leaf(slot: Slot, prev: Slot) {
    debug_assert!(slot.mdb().next().is_none() && slot.mdb().prev() == Some(prev));
    debug_assert!(slot.raw().w1() == 0 && mdb_next_word(slot) == 0);
    debug_assert_eq!(mdb_next_word(prev) & 3, MASTER_REPLY_MDB_FLAGS);
    prev.0
        .with(|c| c.mdb.next = TaggedLink::new(None, MASTER_REPLY_MDB_FLAGS));
    slot.0.with(|c| {
        c.cap.copy_w0(RawCap::NULL);
        c.mdb.prev = Link::NONE;
    });
    debug_assert!(slot.0.get() == Cte::default());
}

/// Inserts `cap` into empty slot `dest` as an original cap with no parent (boot time and
/// retype: the MDB node is revocable and first badged, linked after `parent` if given).
pub fn insert_new_cap(cap: Cap, parent: Option<Slot>, dest: Slot) {
    let mut m = MdbNode::default();
    m.set_flags(true, true);
    if let Some(p) = parent {
        let next = p.mdb().next();
        m.set_prev(Some(p));
        m.set_next(next);
        if let Some(n) = next {
            n.update_mdb(|mm| mm.set_prev(Some(dest)));
        }
        p.update_mdb(|mm| mm.set_next(Some(dest)));
    }
    dest.set_cap(cap);
    dest.set_mdb(m);
}

/// `cteMove(new, src, dest)`: moves the cap in `src` to the empty slot `dest`, replacing it by
/// `new` (same object, possibly new cap data), keeping its MDB position.
pub fn cte_move(new: Cap, src: Slot, dest: Slot) {
    let m = src.mdb();
    dest.set_cap(new);
    dest.set_mdb(m);
    src.set_cap(Cap::Null);
    src.set_mdb(MdbNode::default());
    if let Some(p) = m.prev() {
        p.update_mdb(|mm| mm.set_next(Some(dest)));
    }
    if let Some(n) = m.next() {
        n.update_mdb(|mm| mm.set_prev(Some(dest)));
    }
}

/// `cteSwap(cap1, slot1, cap2, slot2)`: exchanges two slots' MDB positions, storing `cap1`
/// (from slot 1) in slot 2 and `cap2` in slot 1. The order of the steps makes adjacent slots
/// come out right: each step reads the nodes as the previous step left them.
pub fn cte_swap(cap1: Cap, slot1: Slot, cap2: Cap, slot2: Slot) {
    slot1.set_cap(cap2);
    slot2.set_cap(cap1);
    let m1 = slot1.mdb();
    if let Some(p) = m1.prev() {
        p.update_mdb(|mm| mm.set_next(Some(slot2)));
    }
    if let Some(n) = m1.next() {
        n.update_mdb(|mm| mm.set_prev(Some(slot2)));
    }
    let m2 = slot2.mdb();
    slot1.set_mdb(m2);
    slot2.set_mdb(m1);
    if let Some(p) = m2.prev() {
        p.update_mdb(|mm| mm.set_next(Some(slot1)));
    }
    if let Some(n) = m2.next() {
        n.update_mdb(|mm| mm.set_prev(Some(slot1)));
    }
}

/// Removes the (now null) slot from the MDB list (the list part of seL4's `emptySlot`); the
/// revocable flag of the next slot's relation is inherited as seL4 does for first-badged.
pub fn mdb_unlink(slot: Slot) {
    let m = slot.mdb();
    if let Some(p) = m.prev() {
        p.update_mdb(|mm| mm.set_next(m.next()));
    }
    if let Some(n) = m.next() {
        n.update_mdb(|mm| {
            mm.set_prev(m.prev());
            // seL4: `mdb_node_ptr_set_mdbFirstBadged(&next, first_badged(next) || first_badged(slot))`
            let fb = mm.first_badged() || m.first_badged();
            let r = mm.revocable();
            mm.set_flags(r, fb);
        });
    }
    slot.0.set(Cte::default());
}

/// Whether the cap in `slot` has children in the MDB (`cteRevoke` would delete something).
pub fn has_children(slot: Slot) -> bool {
    match slot.mdb().next() {
        Some(n) => is_mdb_parent_of(slot, n),
        None => false,
    }
}

/// `isFinalCapability`: no other slot holds a cap to the same object.
pub fn is_final_cap(slot: Slot) -> bool {
    let c = slot.cap();
    let m = slot.mdb();
    let prev_same = m.prev().is_some_and(|p| same_object_as(&p.cap(), &c));
    if prev_same {
        return false;
    }
    !m.next().is_some_and(|n| same_object_as(&c, &n.cap()))
}
