//! Executable models of kernel state for the host property tests: what seL4's semantics say a
//! sequence of invocations does, written independently of the kernel's code, so that a
//! property can check every call's result (error and message registers) and the state after
//! it, not only that nothing panicked.
//!
//! [`CSpaceModel`] models caps in CNode slots with their MDB (seL4's CDT as the ordered list
//! seL4 keeps: a cap's descendants are the run after it for which `isMDBParentOf` holds, seL4
//! `src/object/cnode.c`), untyped watermarks and the objects retype places (manual §2.4,
//! `src/object/untyped.c`), and the CNode invocations Copy, Mint, Move, Mutate, Rotate,
//! Delete and Revoke (manual §3.1, `decodeCNodeInvocation`). It predicts object addresses, so
//! the comparison with the kernel is exact: every cap word, every MDB flag and the list order.
//!
//! [`VSpaceModel`] models which frames and page tables are mapped where, with which rights, for
//! the riscv64 VSpace invocations (`src/arch/riscv/kernel/vspace.c`).
#![forbid(unsafe_code)]

use crate::arch::riscv64::cap::{ArchCap, FrameSize, Mapping, VmRights};
use crate::cap::{Cap, EpRights};
use crate::mem::PPtr;
use crate::testing::{err, Reply, System};
use abi::object::{
    ENDPOINT_BITS, MAX_UNTYPED_BITS, MIN_UNTYPED_BITS, NOTIFICATION_BITS, PAGE_BITS,
    PAGE_TABLE_BITS, SLOT_BITS, TCB_BITS,
};
use abi::{CapRights, Error, ObjectType as T};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// What an invocation replies: success, or a seL4 error with its message registers.
pub type Outcome = Result<(), (Error, Vec<u64>)>;

/// The kernel's reply as an [`Outcome`].
pub fn outcome(r: Reply) -> Outcome {
    if r.info.label() == 0 {
        Ok(())
    } else {
        Err(err(r))
    }
}

/// The `seL4_LookupFailureType` of a missing capability, as a failed lookup's MR 1.
pub const MISSING_CAPABILITY: u64 = 2;

/// `FailedLookup` for a slot that holds no cap (`lookup_fault_missing_capability(depth)`);
/// `source`: it was the source slot of a copy or move.
pub fn missing_cap(source: bool, depth: u64) -> (Error, Vec<u64>) {
    (
        Error::FailedLookup,
        vec![source as u64, MISSING_CAPABILITY, depth],
    )
}

/// One cap in the model: its slot, the cap (as the kernel encodes it) and its MDB flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Node {
    /// The slot's index in the CNode the model covers.
    pub slot: u64,
    /// The cap.
    pub cap: Cap,
    /// `mdbRevocable`.
    pub revocable: bool,
    /// `mdbFirstBadged`.
    pub first_badged: bool,
}

/// The memory a cap names: (address, size in bytes). The model's own reading of the object
/// sizes of seL4's `capUntypedSize`.
pub fn region(c: &Cap) -> Option<(u64, u64)> {
    Some(match *c {
        Cap::Untyped { ptr, size_bits, .. } => (ptr.addr() as u64, 1 << size_bits),
        Cap::Endpoint { ptr, .. } => (ptr.addr() as u64, 1 << ENDPOINT_BITS),
        Cap::Notification { ptr, .. } => (ptr.addr() as u64, 1 << NOTIFICATION_BITS),
        Cap::CNode { ptr, radix, .. } => (ptr.addr() as u64, 1 << (radix as u64 + SLOT_BITS)),
        Cap::Thread { tcb } => (tcb.addr() as u64, 1 << TCB_BITS),
        Cap::Arch(ArchCap::Frame { base, size, .. }) => (base.addr() as u64, 1 << frame_bits(size)),
        Cap::Arch(ArchCap::PageTable { base, .. }) => (base.addr() as u64, 1 << PAGE_TABLE_BITS),
        Cap::Arch(ArchCap::AsidPool { ptr, .. }) => {
            (ptr.addr() as u64, 1 << abi::object::ASID_POOL_BITS)
        }
        _ => return None,
    })
}

/// log2 of a frame's size.
pub fn frame_bits(size: FrameSize) -> u64 {
    match size {
        FrameSize::Small => 12,
        FrameSize::Mega => 21,
        FrameSize::Giga => 30,
    }
}

/// seL4 `sameObjectAs`: two caps to one object (never true for untyped caps).
pub fn same_object(a: &Cap, b: &Cap) -> bool {
    match (a, b) {
        (Cap::Untyped { .. }, _) => false,
        (Cap::Endpoint { ptr: x, .. }, Cap::Endpoint { ptr: y, .. }) => x == y,
        (Cap::Notification { ptr: x, .. }, Cap::Notification { ptr: y, .. }) => x == y,
        (Cap::Thread { tcb: x }, Cap::Thread { tcb: y }) => x == y,
        (
            Cap::CNode {
                ptr: x, radix: rx, ..
            },
            Cap::CNode {
                ptr: y, radix: ry, ..
            },
        ) => x == y && rx == ry,
        (
            Cap::Arch(ArchCap::Frame {
                base: x, size: sx, ..
            }),
            Cap::Arch(ArchCap::Frame {
                base: y, size: sy, ..
            }),
        ) => x == y && sx == sy,
        (
            Cap::Arch(ArchCap::PageTable { base: x, .. }),
            Cap::Arch(ArchCap::PageTable { base: y, .. }),
        ) => x == y,
        (
            Cap::Arch(ArchCap::AsidPool { ptr: x, .. }),
            Cap::Arch(ArchCap::AsidPool { ptr: y, .. }),
        ) => x == y,
        _ => false,
    }
}

/// seL4 `sameRegionAs`: `b` lies in untyped `a`'s memory, or names `a`'s object.
pub fn same_region(a: &Cap, b: &Cap) -> bool {
    match (a, region(a), region(b)) {
        (Cap::Untyped { .. }, Some((pa, sa)), Some((pb, sb))) => pa <= pb && pb + sb <= pa + sa,
        (Cap::Untyped { .. }, _, _) => false,
        _ => same_object(a, b),
    }
}

/// seL4 `isMDBParentOf` for two neighbours in the list.
pub fn is_parent(a: &Node, b: &Node) -> bool {
    if !a.revocable || !same_region(&a.cap, &b.cap) {
        return false;
    }
    match a.cap {
        Cap::Endpoint { badge, .. } | Cap::Notification { badge, .. } if badge != 0 => {
            let bb = match b.cap {
                Cap::Endpoint { badge, .. } | Cap::Notification { badge, .. } => badge,
                _ => unreachable!("same region as an endpoint or notification"),
            };
            bb == badge && !b.first_badged
        }
        _ => true,
    }
}

/// seL4 `maskCapRights`.
pub fn mask_rights(c: Cap, r: CapRights) -> Cap {
    let ep = |x: EpRights| EpRights {
        send: x.send && r.write(),
        receive: x.receive && r.read(),
        grant: x.grant && r.grant(),
        grant_reply: x.grant_reply && r.grant_reply(),
    };
    match c {
        Cap::Endpoint { ptr, badge, rights } => Cap::Endpoint {
            ptr,
            badge,
            rights: ep(rights),
        },
        Cap::Notification { ptr, badge, rights } => Cap::Notification {
            ptr,
            badge,
            rights: ep(rights),
        },
        Cap::Arch(ArchCap::Frame {
            base,
            size,
            rights,
            is_device,
            mapped,
        }) => Cap::Arch(ArchCap::Frame {
            base,
            size,
            rights: mask_vm_rights(rights, r),
            is_device,
            mapped,
        }),
        c => c,
    }
}

/// seL4 `maskVMRights`: what is left of a frame's rights under a rights mask.
pub fn mask_vm_rights(v: VmRights, r: CapRights) -> VmRights {
    match v {
        VmRights::ReadOnly if r.read() => VmRights::ReadOnly,
        VmRights::ReadWrite if r.read() && r.write() => VmRights::ReadWrite,
        VmRights::ReadWrite if r.read() => VmRights::ReadOnly,
        _ => VmRights::KernelOnly,
    }
}

/// seL4 `updateCapData(preserve, data, cap)`; `None` for the null cap it gives when the data
/// cannot apply (a badge on a badged cap or with `preserve`, a guard too long).
pub fn update_cap_data(preserve: bool, data: u64, c: Cap) -> Option<Cap> {
    match c {
        Cap::Endpoint { ptr, badge, rights } => {
            (!preserve && badge == 0).then_some(Cap::Endpoint {
                ptr,
                badge: data,
                rights,
            })
        }
        Cap::Notification { ptr, badge, rights } => {
            (!preserve && badge == 0).then_some(Cap::Notification {
                ptr,
                badge: data,
                rights,
            })
        }
        Cap::CNode { ptr, radix, .. } => {
            // seL4_CNode_CapData: guard size in bits 0..6, the guard above.
            let guard_size = data & 0x3f;
            (guard_size + radix as u64 <= 64).then(|| Cap::CNode {
                ptr,
                radix,
                guard_size: guard_size as u8,
                guard: (data >> 6) & ((1u64 << guard_size) - 1),
            })
        }
        c => Some(c),
    }
}

/// seL4 `isCapRevocable(new, src)`.
pub fn is_revocable(new: &Cap, src: &Cap) -> bool {
    match (new, src) {
        (Cap::Endpoint { badge: a, .. }, Cap::Endpoint { badge: b, .. })
        | (Cap::Notification { badge: a, .. }, Cap::Notification { badge: b, .. }) => a != b,
        (Cap::Untyped { .. }, _) => true,
        (Cap::IrqHandler { .. }, Cap::IrqControl) => true,
        _ => false,
    }
}

/// The object types the CSpace model retypes, with the object size for a size argument.
pub fn object_bits(t: T, user_size: u64) -> u64 {
    match t {
        T::Untyped => user_size,
        T::Endpoint => ENDPOINT_BITS,
        T::Notification => NOTIFICATION_BITS,
        T::CapTable => user_size + SLOT_BITS,
        T::Tcb => TCB_BITS,
        T::SmallPage => PAGE_BITS,
        T::MegaPage => 21,
        T::PageTable => PAGE_TABLE_BITS,
        t => panic!("the model does not retype {t:?}"),
    }
}

/// The cap retype gives for a new object of type `t` at `ptr`.
pub fn new_cap(t: T, user_size: u64, ptr: usize, is_device: bool) -> Cap {
    match t {
        T::Untyped => Cap::Untyped {
            ptr: PPtr::sim(ptr),
            size_bits: user_size as u8,
            free_index: 0,
            is_device,
        },
        T::Endpoint => Cap::Endpoint {
            ptr: crate::object::endpoint::EpRef(PPtr::sim(ptr)),
            badge: 0,
            rights: EpRights::ALL,
        },
        // Notification caps have no grant rights (seL4's `cap_notification_cap` has none).
        T::Notification => Cap::Notification {
            ptr: crate::object::notification::NtfnRef(PPtr::sim(ptr)),
            badge: 0,
            rights: EpRights {
                send: true,
                receive: true,
                grant: false,
                grant_reply: false,
            },
        },
        T::CapTable => Cap::CNode {
            ptr: PPtr::sim(ptr),
            radix: user_size as u8,
            guard_size: 0,
            guard: 0,
        },
        T::Tcb => Cap::Thread {
            tcb: PPtr::sim(ptr),
        },
        T::SmallPage | T::MegaPage => Cap::Arch(ArchCap::Frame {
            base: PPtr::sim(ptr),
            size: if t == T::SmallPage {
                FrameSize::Small
            } else {
                FrameSize::Mega
            },
            rights: VmRights::ReadWrite,
            is_device,
            mapped: None,
        }),
        T::PageTable => Cap::Arch(ArchCap::PageTable {
            base: PPtr::sim(ptr),
            mapped: None,
        }),
        t => panic!("the model does not retype {t:?}"),
    }
}

/// The caps of one CNode (the slots a property works on) and their MDB order.
///
/// The modelled caps must form one contiguous run of the kernel's MDB list that no other cap
/// derives from or into: true when they all come from one untyped the model was started with.
#[derive(Clone, Debug, Default)]
pub struct CSpaceModel {
    /// The caps in MDB order.
    pub list: Vec<Node>,
    /// Radix of the CNode (for the window checks of retype).
    pub radix: u8,
}

impl CSpaceModel {
    /// A model of a CNode of 2^`radix` slots holding `nodes` (in MDB order).
    pub fn new(radix: u8, nodes: Vec<Node>) -> Self {
        CSpaceModel { list: nodes, radix }
    }

    /// The kernel holds what the model says: in every slot of `slots` (of the root CNode)
    /// the model's cap (object address, badge, rights, watermark ...), the MDB flags, and the
    /// MDB list order of the modelled caps, which form one run of the kernel's list.
    pub fn check(&self, s: &System, slots: &[u64]) -> Result<(), TestCaseError> {
        for &i in slots {
            prop_assert_eq!(s.root_slot(i).cap(), self.cap(i), "slot {}", i);
        }
        let tracked = |sl: Option<crate::cte::Slot>| {
            sl.is_some_and(|sl| slots.iter().any(|&i| s.root_slot(i) == sl))
        };
        for (k, n) in self.list.iter().enumerate() {
            let sl = s.root_slot(n.slot);
            let mdb = sl.mdb();
            prop_assert_eq!(
                (mdb.revocable(), mdb.first_badged()),
                (n.revocable, n.first_badged),
                "MDB flags of slot {}",
                n.slot
            );
            match self.list.get(k + 1) {
                Some(next) => prop_assert_eq!(
                    mdb.next(),
                    Some(s.root_slot(next.slot)),
                    "MDB next of slot {}",
                    n.slot
                ),
                None => prop_assert!(
                    !tracked(mdb.next()),
                    "MDB run continues after slot {}",
                    n.slot
                ),
            }
            if k == 0 {
                prop_assert!(
                    !tracked(mdb.prev()),
                    "MDB run starts before slot {}",
                    n.slot
                );
            }
        }
        Ok(())
    }

    /// The index in the list of the cap in `slot`.
    pub fn index(&self, slot: u64) -> Option<usize> {
        self.list.iter().position(|n| n.slot == slot)
    }

    /// The cap in `slot` (`Cap::Null` if empty).
    pub fn cap(&self, slot: u64) -> Cap {
        self.index(slot).map_or(Cap::Null, |i| self.list[i].cap)
    }

    /// The node of the cap in `slot`.
    pub fn node(&self, slot: u64) -> Option<Node> {
        self.index(slot).map(|i| self.list[i])
    }

    /// Whether the cap at list index `i` has children (seL4 `ensureNoChildren` fails).
    pub fn has_children(&self, i: usize) -> bool {
        self.list
            .get(i + 1)
            .is_some_and(|n| is_parent(&self.list[i], n))
    }

    /// The list indices of the descendants of the cap at index `i`.
    pub fn descendants(&self, i: usize) -> std::ops::Range<usize> {
        let mut j = i + 1;
        while j < self.list.len() && is_parent(&self.list[i], &self.list[j]) {
            j += 1;
        }
        i + 1..j
    }

    /// Whether the cap in `slot` is the last cap to its object (seL4 `isFinalCapability`).
    pub fn is_final(&self, slot: u64) -> bool {
        let c = self.cap(slot);
        !self
            .list
            .iter()
            .any(|n| n.slot != slot && same_object(&n.cap, &c))
    }

    /// `cteInsert(new, src, dest)`.
    fn insert(&mut self, new: Cap, src: u64, dest: u64) {
        let i = self.index(src).expect("source cap");
        let src_cap = self.list[i].cap;
        let revocable = is_revocable(&new, &src_cap);
        // setUntypedCapAsFull: a copy of a whole untyped leaves the source no memory.
        if let (
            Cap::Untyped {
                ptr: a,
                size_bits: sa,
                ..
            },
            Cap::Untyped {
                ptr: b,
                size_bits: sb,
                ..
            },
        ) = (src_cap, new)
        {
            if a == b && sa == sb {
                if let Cap::Untyped { free_index, .. } = &mut self.list[i].cap {
                    *free_index = 1 << sa;
                }
            }
        }
        self.list.insert(
            i + 1,
            Node {
                slot: dest,
                cap: new,
                revocable,
                first_badged: revocable,
            },
        );
    }

    /// Empties the slot of the cap at list index `i` (seL4 `emptySlot`: the next cap inherits
    /// its first-badged flag).
    fn remove_at(&mut self, i: usize) {
        let n = self.list.remove(i);
        if let Some(next) = self.list.get_mut(i) {
            next.first_badged |= n.first_badged;
        }
    }

    /// `seL4_CNode_Delete` of `slot`. Deleting the final cap of a CNode or TCB in the model
    /// deletes nothing else: the model's CNodes are empty and its TCBs hold no caps.
    pub fn delete(&mut self, slot: u64) -> Outcome {
        if let Some(i) = self.index(slot) {
            self.remove_at(i);
        }
        Ok(())
    }

    /// `seL4_CNode_Revoke` of `slot`: deletes the cap after it while that is its child.
    pub fn revoke(&mut self, slot: u64) -> Outcome {
        if let Some(i) = self.index(slot) {
            while self.has_children(i) {
                self.remove_at(i + 1);
            }
        }
        Ok(())
    }

    /// The checks Copy, Mint, Move and Mutate share: an empty destination, a source cap.
    fn source(&self, dest: u64, src: u64) -> Result<Cap, (Error, Vec<u64>)> {
        if self.index(dest).is_some() {
            return Err((Error::DeleteFirst, vec![]));
        }
        match self.cap(src) {
            Cap::Null => Err(missing_cap(true, 64)),
            c => Ok(c),
        }
    }

    /// seL4 `deriveCap` of a cap from `src`.
    fn derive(&self, src: u64, c: Cap) -> Result<Option<Cap>, (Error, Vec<u64>)> {
        Ok(match c {
            Cap::Untyped { .. } => {
                if self.has_children(self.index(src).expect("source")) {
                    return Err((Error::RevokeFirst, vec![]));
                }
                Some(c)
            }
            Cap::Zombie { .. } | Cap::IrqControl => None,
            #[cfg(not(feature = "mcs"))]
            Cap::Reply { .. } => None,
            Cap::Arch(ArchCap::PageTable { mapped: None, .. }) => {
                return Err((Error::IllegalOperation, vec![]));
            }
            Cap::Arch(ArchCap::Frame {
                base,
                size,
                rights,
                is_device,
                ..
            }) => Some(Cap::Arch(ArchCap::Frame {
                base,
                size,
                rights,
                is_device,
                mapped: None,
            })),
            Cap::Arch(ArchCap::AsidControl) => None,
            c => Some(c),
        })
    }

    /// `seL4_CNode_Copy(dest, src, rights)`.
    pub fn copy(&mut self, dest: u64, src: u64, rights: CapRights) -> Outcome {
        let c = self.source(dest, src)?;
        let new = self
            .derive(src, mask_rights(c, rights))?
            .ok_or((Error::IllegalOperation, vec![]))?;
        self.insert(new, src, dest);
        Ok(())
    }

    /// `seL4_CNode_Mint(dest, src, rights, data)`.
    pub fn mint(&mut self, dest: u64, src: u64, rights: CapRights, data: u64) -> Outcome {
        let c = self.source(dest, src)?;
        let new = match update_cap_data(false, data, mask_rights(c, rights)) {
            Some(c) => self.derive(src, c)?,
            None => None,
        }
        .ok_or((Error::IllegalOperation, vec![]))?;
        self.insert(new, src, dest);
        Ok(())
    }

    /// `seL4_CNode_Move(dest, src)`.
    pub fn move_cap(&mut self, dest: u64, src: u64) -> Outcome {
        self.source(dest, src)?;
        let i = self.index(src).expect("source");
        self.list[i].slot = dest;
        Ok(())
    }

    /// `seL4_CNode_Mutate(dest, src, data)`.
    pub fn mutate(&mut self, dest: u64, src: u64, data: u64) -> Outcome {
        let c = self.source(dest, src)?;
        let new = update_cap_data(true, data, c).ok_or((Error::IllegalOperation, vec![]))?;
        let i = self.index(src).expect("source");
        self.list[i].slot = dest;
        self.list[i].cap = new;
        Ok(())
    }

    /// `seL4_CNode_Rotate(dest, pivot, pivot_data, src, src_data)`: the pivot's cap moves to
    /// `dest`, the source's to the pivot (a swap if `dest == src`).
    pub fn rotate(
        &mut self,
        dest: u64,
        pivot: u64,
        pivot_data: u64,
        src: u64,
        src_data: u64,
    ) -> Outcome {
        if pivot == src || pivot == dest {
            return Err((Error::IllegalOperation, vec![]));
        }
        if src != dest && self.index(dest).is_some() {
            return Err((Error::DeleteFirst, vec![]));
        }
        let (Some(si), Some(pi)) = (self.index(src), self.index(pivot)) else {
            return Err(missing_cap(self.index(src).is_none(), 64));
        };
        let new_src = update_cap_data(true, src_data, self.list[si].cap)
            .ok_or((Error::IllegalOperation, vec![]))?;
        let new_pivot = update_cap_data(true, pivot_data, self.list[pi].cap)
            .ok_or((Error::IllegalOperation, vec![]))?;
        self.list[pi].cap = new_pivot;
        self.list[pi].slot = dest;
        self.list[si].cap = new_src;
        self.list[si].slot = pivot;
        Ok(())
    }

    /// `seL4_Untyped_Retype(ut, t, user_size, root, 0, 0, offset, n)` into this CNode.
    pub fn retype(&mut self, ut: u64, t: T, user_size: u64, offset: u64, n: u64) -> Outcome {
        let Some(ui) = self.index(ut) else {
            // Invoking an empty slot.
            return Err((Error::InvalidCapability, vec![0]));
        };
        let Cap::Untyped {
            ptr,
            size_bits,
            free_index,
            is_device,
        } = self.list[ui].cap
        else {
            return Err((Error::IllegalOperation, vec![]));
        };
        if user_size >= 64 || object_bits(t, user_size) > MAX_UNTYPED_BITS {
            return Err((Error::RangeError, vec![0, MAX_UNTYPED_BITS]));
        }
        if t == T::CapTable && user_size == 0 || t == T::Untyped && user_size < MIN_UNTYPED_BITS {
            return Err((Error::InvalidArgument, vec![1]));
        }
        let size = 1u64 << self.radix;
        if offset > size - 1 {
            return Err((Error::RangeError, vec![0, size - 1]));
        }
        if !(1..=abi::config::RETYPE_FAN_OUT_LIMIT as u64).contains(&n) {
            return Err((
                Error::RangeError,
                vec![1, abi::config::RETYPE_FAN_OUT_LIMIT as u64],
            ));
        }
        if n > size - offset {
            return Err((Error::RangeError, vec![1, size - offset]));
        }
        if (offset..offset + n).any(|s| self.index(s).is_some()) {
            return Err((Error::DeleteFirst, vec![]));
        }
        let bits = object_bits(t, user_size);
        let free = if self.has_children(ui) { free_index } else { 0 };
        let free_bytes = (1u64 << size_bits) - free;
        if free_bytes >> bits < n {
            return Err((Error::NotEnoughMemory, vec![free_bytes]));
        }
        if is_device && !matches!(t, T::Untyped | T::SmallPage | T::MegaPage) {
            return Err((Error::InvalidArgument, vec![1]));
        }
        let first = (ptr.addr() as u64 + free).next_multiple_of(1 << bits);
        let watermark = first + (n << bits) - ptr.addr() as u64;
        if let Cap::Untyped { free_index, .. } = &mut self.list[ui].cap {
            *free_index = watermark;
        }
        for i in 0..n {
            let cap = new_cap(t, user_size, (first + (i << bits)) as usize, is_device);
            self.list.insert(
                ui + 1,
                Node {
                    slot: offset + i,
                    cap,
                    revocable: true,
                    first_badged: true,
                },
            );
        }
        Ok(())
    }
}

/// Sv39 PTE bits as seL4's `pte_new` sets them (riscv privileged spec §4.4.1).
pub mod pte {
    /// Valid.
    pub const V: u64 = 1;
    /// Readable.
    pub const R: u64 = 2;
    /// Writable.
    pub const W: u64 = 4;
    /// Executable.
    pub const X: u64 = 8;
    /// User.
    pub const U: u64 = 16;
    /// Accessed.
    pub const A: u64 = 64;
    /// Dirty.
    pub const D: u64 = 128;
    /// Where the physical page number starts.
    pub const PPN_SHIFT: u32 = 10;

    /// A pointer to the next-level table at `paddr`.
    pub fn table(paddr: u64) -> u64 {
        (paddr >> 12) << PPN_SHIFT | V
    }

    /// The physical address an entry names.
    pub fn paddr(e: u64) -> u64 {
        ((e >> PPN_SHIFT) & ((1 << 44) - 1)) << 12
    }

    /// Whether an entry points to a next-level table (valid, no R/W/X).
    pub fn is_table(e: u64) -> bool {
        e & V != 0 && e & (R | W | X) == 0
    }
}

/// seL4 `makeUserPTE`: the leaf entry of a frame mapping, or 0 (invalid) for one that allows
/// nothing at all.
pub fn user_pte(paddr: u64, executable: bool, rights: VmRights) -> u64 {
    let write = rights == VmRights::ReadWrite;
    let read = rights != VmRights::KernelOnly;
    if !read && !write && !executable {
        return 0;
    }
    (paddr >> 12) << pte::PPN_SHIFT
        | pte::D
        | pte::A
        | pte::U
        | (executable as u64 * pte::X)
        | (write as u64 * pte::W)
        | (read as u64 * pte::R)
        | pte::V
}

/// Page tables, ASID pools and the caps naming them: the state the riscv64 VSpace
/// invocations change, for a CNode whose caps [`CSpaceModel`] keeps.
///
/// Addresses are kernel-virtual (`pptr`); `paddr_of` converts them as the kernel window does.
#[derive(Clone, Debug)]
pub struct VSpaceModel {
    /// The caps.
    pub cs: CSpaceModel,
    /// Caps outside the model's CNode range that invocations name but never change (the root
    /// task's VSpace and ASID pool), by slot.
    pub fixed: Vec<(u64, Cap)>,
    /// `riscvKSASIDTable`: pool addresses, 0 for none.
    pub asid_table: Vec<usize>,
    /// Every ASID pool's entries (VSpace roots, 0 for none), by pool address.
    pub pools: std::collections::BTreeMap<usize, Vec<usize>>,
    /// Every live page table's entries, by address.
    pub tables: std::collections::BTreeMap<usize, Vec<u64>>,
    /// Page tables that are (or were) VSpace roots: their upper half holds the kernel's
    /// mappings, which the model does not predict.
    pub roots: std::collections::BTreeSet<usize>,
    /// Kernel-virtual minus physical address.
    pub window: usize,
}

/// Entries of a page table (`2^PT_INDEX_BITS`).
pub const PT_ENTRIES: usize = 512;
/// The first root entry that belongs to the kernel (`PPTR_BASE`'s index).
pub const KERNEL_ENTRIES: usize = 256;
/// Levels of Sv39.
const LEVELS: usize = 3;

/// Bits of address below the entries at `level` (0: 4 KiB pages).
fn level_shift(level: usize) -> u64 {
    12 + 9 * level as u64
}

impl VSpaceModel {
    fn paddr(&self, pptr: usize) -> u64 {
        pptr.wrapping_sub(self.window) as u64
    }

    fn pptr(&self, paddr: u64) -> usize {
        (paddr as usize).wrapping_add(self.window)
    }

    /// The cap in `slot`, the model's or a fixed one.
    pub fn cap(&self, slot: u64) -> Cap {
        self.fixed
            .iter()
            .find(|(s, _)| *s == slot)
            .map_or_else(|| self.cs.cap(slot), |(_, c)| *c)
    }

    fn set_cap(&mut self, slot: u64, c: Cap) {
        let i = self.cs.index(slot).expect("a modelled cap");
        self.cs.list[i].cap = c;
    }

    /// seL4 `findVSpaceForASID`.
    pub fn find_vspace(&self, asid: u16) -> Option<usize> {
        let pool = self.asid_table[asid as usize >> 9];
        if pool == 0 {
            return None;
        }
        let root = self.pools.get(&pool).expect("pool contents")[asid as usize & 511];
        (root != 0).then_some(root)
    }

    /// seL4 `lookupPTSlot`: (table, index, bits left) where the walk for `vaddr` stops.
    fn lookup_pt_slot(&self, root: usize, vaddr: u64) -> (usize, usize, u64) {
        let mut level = LEVELS - 1;
        let mut pt = root;
        loop {
            let i = ((vaddr >> level_shift(level)) & 511) as usize;
            let e = self.tables.get(&pt).expect("a live page table")[i];
            if !pte::is_table(e) || level == 0 {
                return (pt, i, level_shift(level));
            }
            level -= 1;
            pt = self.pptr(pte::paddr(e));
        }
    }

    fn entry(&self, pt: usize, i: usize) -> u64 {
        self.tables[&pt][i]
    }

    fn set_entry(&mut self, pt: usize, i: usize, e: u64) {
        self.tables.get_mut(&pt).expect("a live page table")[i] = e;
    }

    /// seL4 `unmapPage`.
    fn unmap_page(&mut self, bits: u64, asid: u16, vaddr: u64, base: usize) {
        let Some(root) = self.find_vspace(asid) else {
            return;
        };
        let (pt, i, left) = self.lookup_pt_slot(root, vaddr);
        let e = self.entry(pt, i);
        if left != bits || e & pte::V == 0 || pte::is_table(e) || pte::paddr(e) != self.paddr(base)
        {
            return;
        }
        self.set_entry(pt, i, 0);
    }

    /// seL4 `unmapPageTable`.
    fn unmap_page_table(&mut self, asid: u16, vaddr: u64, target: usize) {
        let Some(mut pt) = self.find_vspace(asid) else {
            return;
        };
        let mut slot = None;
        for level in (1..LEVELS).rev() {
            if pt == target {
                break;
            }
            let i = ((vaddr >> level_shift(level)) & 511) as usize;
            let e = self.entry(pt, i);
            if !pte::is_table(e) {
                return;
            }
            slot = Some((pt, i));
            pt = self.pptr(pte::paddr(e));
        }
        if pt != target {
            return;
        }
        let (t, i) = slot.expect("not a root");
        self.set_entry(t, i, 0);
    }

    /// `seL4_CNode_Delete` of `slot`, with seL4's `finaliseCap` for the VSpace caps: a
    /// mapped frame cap is unmapped; the last cap of a mapped page table unmaps it (or, for a
    /// VSpace root, frees its ASID); the last cap of an ASID pool removes it from the table.
    pub fn delete(&mut self, slot: u64) -> Outcome {
        let c = self.cs.cap(slot);
        let last = self.cs.is_final(slot);
        match c {
            Cap::Arch(ArchCap::Frame {
                base,
                size,
                mapped: Some(m),
                ..
            }) => self.unmap_page(frame_bits(size), m.asid, m.vaddr, base.addr()),
            Cap::Arch(ArchCap::PageTable { base, mapped }) if last => {
                if let Some(m) = mapped {
                    if self.find_vspace(m.asid) == Some(base.addr()) {
                        let pool = self.asid_table[m.asid as usize >> 9];
                        self.pools.get_mut(&pool).unwrap()[m.asid as usize & 511] = 0;
                    } else {
                        self.unmap_page_table(m.asid, m.vaddr, base.addr());
                    }
                }
                self.tables.remove(&base.addr());
                self.roots.remove(&base.addr());
            }
            Cap::Arch(ArchCap::AsidPool { ptr, asid_base }) if last => {
                let hi = asid_base as usize >> 9;
                if self.asid_table[hi] == ptr.addr() {
                    self.asid_table[hi] = 0;
                }
                self.pools.remove(&ptr.addr());
            }
            _ => {}
        }
        self.cs.delete(slot)
    }

    /// `seL4_Untyped_Retype` of one object into `dest`; new page tables are empty.
    pub fn retype(&mut self, ut: u64, t: T, dest: u64) -> Outcome {
        self.cs.retype(ut, t, 0, dest, 1)?;
        if let Cap::Arch(ArchCap::PageTable { base, .. }) = self.cs.cap(dest) {
            self.tables.insert(base.addr(), vec![0; PT_ENTRIES]);
            self.roots.remove(&base.addr());
        }
        Ok(())
    }

    /// The checks every invocation of a cap in `slot` starts with: an empty slot is
    /// `InvalidCapability(0)`, a cap that does not take `want`'s invocations
    /// `IllegalOperation`.
    fn invoked(&self, slot: u64, want: fn(&Cap) -> bool) -> Result<Cap, (Error, Vec<u64>)> {
        match self.cap(slot) {
            Cap::Null => Err((Error::InvalidCapability, vec![0])),
            c if want(&c) => Ok(c),
            _ => Err((Error::IllegalOperation, vec![])),
        }
    }

    /// The VSpace an extra cap names: (ASID, root), with seL4's errors for a cap that is not
    /// a mapped page table (`InvalidCapability(1)`), an ASID with no VSpace (`FailedLookup`,
    /// invalid root) or another one (`InvalidCapability(1)`). `vaddr_check` runs between the
    /// cap check and the ASID lookup (`InvalidArgument(0)` for a page table's address).
    fn vspace_of(
        &self,
        vs: u64,
        vaddr_check: impl FnOnce() -> Outcome,
    ) -> Result<(u16, usize), (Error, Vec<u64>)> {
        let Cap::Arch(ArchCap::PageTable {
            base,
            mapped: Some(m),
        }) = self.cap(vs)
        else {
            return Err((Error::InvalidCapability, vec![1]));
        };
        vaddr_check()?;
        match self.find_vspace(m.asid) {
            None => Err((Error::FailedLookup, vec![0, 1])),
            Some(r) if r != base.addr() => Err((Error::InvalidCapability, vec![1])),
            Some(r) => Ok((m.asid, r)),
        }
    }

    /// `seL4_RISCV_PageTable_Map(pt, vs, vaddr, attr)`.
    pub fn map_pt(&mut self, slot: u64, vs: u64, vaddr: u64) -> Outcome {
        let c = self.invoked(slot, |c| matches!(c, Cap::Arch(ArchCap::PageTable { .. })))?;
        let Cap::Arch(ArchCap::PageTable { base, mapped }) = c else {
            unreachable!()
        };
        if mapped.is_some() {
            return Err((Error::InvalidCapability, vec![0]));
        }
        let (asid, root) = self.vspace_of(vs, || {
            if vaddr >= abi::object::USER_TOP {
                Err((Error::InvalidArgument, vec![0]))
            } else {
                Ok(())
            }
        })?;
        let (pt, i, left) = self.lookup_pt_slot(root, vaddr);
        if left == 12 || self.entry(pt, i) & pte::V != 0 {
            return Err((Error::DeleteFirst, vec![]));
        }
        let e = pte::table(self.paddr(base.addr()));
        self.set_entry(pt, i, e);
        self.set_cap(
            slot,
            Cap::Arch(ArchCap::PageTable {
                base,
                mapped: Some(Mapping {
                    asid,
                    vaddr: vaddr & !((1 << left) - 1),
                }),
            }),
        );
        Ok(())
    }

    /// `seL4_RISCV_PageTable_Unmap(pt)`.
    pub fn unmap_pt(&mut self, slot: u64) -> Outcome {
        let c = self.invoked(slot, |c| matches!(c, Cap::Arch(ArchCap::PageTable { .. })))?;
        let Cap::Arch(ArchCap::PageTable { base, mapped }) = c else {
            unreachable!()
        };
        if !self.cs.is_final(slot) {
            return Err((Error::RevokeFirst, vec![]));
        }
        if let Some(m) = mapped {
            if self.find_vspace(m.asid) == Some(base.addr()) {
                return Err((Error::RevokeFirst, vec![]));
            }
            self.unmap_page_table(m.asid, m.vaddr, base.addr());
            self.tables.insert(base.addr(), vec![0; PT_ENTRIES]);
            self.roots.remove(&base.addr());
        }
        self.set_cap(slot, Cap::Arch(ArchCap::PageTable { base, mapped: None }));
        Ok(())
    }

    /// `seL4_RISCV_Page_Map(frame, vs, vaddr, rights, attr)`; `xn`: the execute-never
    /// attribute.
    pub fn map_page(
        &mut self,
        slot: u64,
        vs: u64,
        vaddr: u64,
        rights: CapRights,
        xn: bool,
    ) -> Outcome {
        let c = self.invoked(slot, |c| matches!(c, Cap::Arch(ArchCap::Frame { .. })))?;
        let Cap::Arch(ArchCap::Frame {
            base,
            size,
            rights: cap_rights,
            is_device,
            mapped,
        }) = c
        else {
            unreachable!()
        };
        let (asid, root) = self.vspace_of(vs, || Ok(()))?;
        let bits = frame_bits(size);
        if vaddr.wrapping_add((1 << bits) - 1) >= abi::object::USER_TOP {
            return Err((Error::InvalidArgument, vec![0]));
        }
        if vaddr & ((1 << bits) - 1) != 0 {
            return Err((Error::AlignmentError, vec![]));
        }
        let (pt, i, left) = self.lookup_pt_slot(root, vaddr);
        if left != bits {
            return Err((Error::FailedLookup, vec![0, MISSING_CAPABILITY, left]));
        }
        match mapped {
            Some(m) if m.asid != asid => return Err((Error::InvalidCapability, vec![1])),
            Some(m) if m.vaddr != vaddr => return Err((Error::InvalidArgument, vec![0])),
            Some(_) => {}
            None if self.entry(pt, i) & pte::V != 0 => return Err((Error::DeleteFirst, vec![])),
            None => {}
        }
        let e = user_pte(
            self.paddr(base.addr()),
            !xn,
            mask_vm_rights(cap_rights, rights),
        );
        self.set_entry(pt, i, e);
        self.set_cap(
            slot,
            Cap::Arch(ArchCap::Frame {
                base,
                size,
                rights: cap_rights,
                is_device,
                mapped: Some(Mapping { asid, vaddr }),
            }),
        );
        Ok(())
    }

    /// `seL4_RISCV_Page_Unmap(frame)`.
    pub fn unmap_page_cap(&mut self, slot: u64) -> Outcome {
        let c = self.invoked(slot, |c| matches!(c, Cap::Arch(ArchCap::Frame { .. })))?;
        let Cap::Arch(ArchCap::Frame {
            base,
            size,
            rights,
            is_device,
            mapped,
        }) = c
        else {
            unreachable!()
        };
        if let Some(m) = mapped {
            self.unmap_page(frame_bits(size), m.asid, m.vaddr, base.addr());
        }
        self.set_cap(
            slot,
            Cap::Arch(ArchCap::Frame {
                base,
                size,
                rights,
                is_device,
                mapped: None,
            }),
        );
        Ok(())
    }

    /// `seL4_RISCV_ASIDPool_Assign(pool, vs)`.
    pub fn assign(&mut self, pool_slot: u64, vs: u64) -> Outcome {
        let c = self.invoked(pool_slot, |c| {
            matches!(c, Cap::Arch(ArchCap::AsidPool { .. }))
        })?;
        let Cap::Arch(ArchCap::AsidPool { ptr, asid_base }) = c else {
            unreachable!()
        };
        let Cap::Arch(ArchCap::PageTable { base, mapped: None }) = self.cap(vs) else {
            return Err((Error::InvalidCapability, vec![1]));
        };
        let pool = self.asid_table[asid_base as usize >> 9];
        if pool == 0 {
            return Err((Error::FailedLookup, vec![0, 1]));
        }
        if pool != ptr.addr() {
            return Err((Error::InvalidCapability, vec![0]));
        }
        let entries = &self.pools[&pool];
        let Some(i) = (0..512).find(|&i| asid_base as usize + i != 0 && entries[i] == 0) else {
            return Err((Error::DeleteFirst, vec![]));
        };
        self.pools.get_mut(&pool).unwrap()[i] = base.addr();
        self.roots.insert(base.addr());
        self.set_cap(
            vs,
            Cap::Arch(ArchCap::PageTable {
                base,
                mapped: Some(Mapping {
                    asid: asid_base + i as u16,
                    vaddr: 0,
                }),
            }),
        );
        Ok(())
    }

    /// `seL4_RISCV_ASIDControl_MakePool(control, untyped, root, dest, 64)`.
    pub fn make_pool(&mut self, ut: u64, dest: u64) -> Outcome {
        let Some(hi) = self.asid_table.iter().position(|&p| p == 0) else {
            return Err((Error::DeleteFirst, vec![]));
        };
        let Cap::Untyped {
            ptr,
            size_bits: 12,
            is_device: false,
            ..
        } = self.cs.cap(ut)
        else {
            return Err((Error::InvalidCapability, vec![1]));
        };
        let i = self.cs.index(ut).expect("untyped");
        if self.cs.has_children(i) {
            return Err((Error::RevokeFirst, vec![]));
        }
        if self.cs.index(dest).is_some() {
            return Err((Error::DeleteFirst, vec![]));
        }
        if let Cap::Untyped { free_index, .. } = &mut self.cs.list[i].cap {
            *free_index = 1 << 12;
        }
        self.cs.list.insert(
            i + 1,
            Node {
                slot: dest,
                cap: Cap::Arch(ArchCap::AsidPool {
                    ptr: PPtr::sim(ptr.addr()),
                    asid_base: (hi << 9) as u16,
                }),
                revocable: false,
                first_badged: false,
            },
        );
        self.asid_table[hi] = ptr.addr();
        self.pools.insert(ptr.addr(), vec![0; 512]);
        Ok(())
    }

    /// `seL4_CNode_Copy(dest, src, all rights)`.
    pub fn copy(&mut self, dest: u64, src: u64) -> Outcome {
        self.cs.copy(dest, src, CapRights::ALL)
    }
}

impl VSpaceModel {
    /// A model of the booted system `s` from its ASID table, its pools and the page tables
    /// of their VSpaces as they are now, with the caps of `cs` and the caps `fixed`.
    pub fn new(s: &System, cs: CSpaceModel, fixed: Vec<(u64, Cap)>) -> Self {
        let window = crate::arch::paddr_to_pptr(0);
        let mut m = VSpaceModel {
            cs,
            fixed,
            asid_table: s.k.asid_table.iter().map(|l| l.addr()).collect(),
            pools: Default::default(),
            tables: Default::default(),
            roots: Default::default(),
            window,
        };
        for pool in s.k.asid_table.iter().filter_map(|l| l.get()) {
            let entries: Vec<usize> = (0..512)
                .map(|lo| {
                    crate::arch::riscv64::vspace::asid_pool_entry(pool, lo)
                        .get()
                        .addr()
                })
                .collect();
            for &root in entries.iter().filter(|&&r| r != 0) {
                m.roots.insert(root);
                m.import(root, LEVELS - 1);
            }
            m.pools.insert(pool.addr(), entries);
        }
        m
    }

    /// Reads the table at `pt` (at `level`) and the tables below it into the model.
    fn import(&mut self, pt: usize, level: usize) {
        let entries = crate::mem::PPtr::<[u64; PT_ENTRIES]>::sim(pt)
            .get()
            .to_vec();
        let user = if self.roots.contains(&pt) {
            KERNEL_ENTRIES
        } else {
            PT_ENTRIES
        };
        for &e in &entries[..user] {
            if level > 0 && pte::is_table(e) {
                self.import(self.pptr(pte::paddr(e)), level - 1);
            }
        }
        self.tables.insert(pt, entries);
    }

    /// The kernel holds what the model says: the caps (see [`CSpaceModel::check`]), the ASID
    /// table, every live pool's entries and every live page table's entries, bit for bit
    /// (the user half of VSpace roots).
    pub fn check(&self, s: &System, slots: &[u64]) -> Result<(), TestCaseError> {
        self.cs.check(s, slots)?;
        prop_assert_eq!(
            &s.k.asid_table.iter().map(|l| l.addr()).collect::<Vec<_>>()[..],
            &self.asid_table[..],
            "ASID table"
        );
        for (&pool, entries) in &self.pools {
            let kernel = crate::mem::PPtr::<[u64; 512]>::sim(pool).get();
            for (lo, &e) in entries.iter().enumerate() {
                let k = kernel[lo] as usize;
                prop_assert_eq!(k, e, "entry {} of the ASID pool at {:#x}", lo, pool);
            }
        }
        for (&t, entries) in &self.tables {
            let n = if self.roots.contains(&t) {
                KERNEL_ENTRIES
            } else {
                PT_ENTRIES
            };
            let table = crate::mem::PPtr::<[u64; PT_ENTRIES]>::sim(t).get();
            for (i, &e) in entries[..n].iter().enumerate() {
                let k = table[i];
                prop_assert_eq!(
                    k,
                    e,
                    "entry {} of the page table at {:#x} (paddr {:#x})",
                    i,
                    t,
                    self.paddr(t)
                );
            }
        }
        Ok(())
    }
}
