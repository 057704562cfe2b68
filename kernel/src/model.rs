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
use abi::object::{
    ENDPOINT_BITS, MAX_UNTYPED_BITS, MIN_UNTYPED_BITS, NOTIFICATION_BITS, PAGE_BITS,
    PAGE_TABLE_BITS, SLOT_BITS, TCB_BITS,
};
use abi::{CapRights, Error, ObjectType as T};

/// What an invocation replies: success, or a seL4 error with its message registers.
pub type Outcome = Result<(), (Error, Vec<u64>)>;

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
        Cap::Untyped { ptr, size_bits, .. } => (ptr as u64, 1 << size_bits),
        Cap::Endpoint { ptr, .. } => (ptr as u64, 1 << ENDPOINT_BITS),
        Cap::Notification { ptr, .. } => (ptr as u64, 1 << NOTIFICATION_BITS),
        Cap::CNode { ptr, radix, .. } => (ptr as u64, 1 << (radix as u64 + SLOT_BITS)),
        Cap::Thread { tcb } => (tcb as u64, 1 << TCB_BITS),
        Cap::Arch(ArchCap::Frame { base, size, .. }) => (base as u64, 1 << frame_bits(size)),
        Cap::Arch(ArchCap::PageTable { base, .. }) => (base as u64, 1 << PAGE_TABLE_BITS),
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
        (Cap::Endpoint { ptr: x, .. }, Cap::Endpoint { ptr: y, .. })
        | (Cap::Notification { ptr: x, .. }, Cap::Notification { ptr: y, .. })
        | (Cap::Thread { tcb: x }, Cap::Thread { tcb: y }) => x == y,
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
        (Cap::Arch(ArchCap::PageTable { base: x, .. }), Cap::Arch(ArchCap::PageTable { base: y, .. })) => {
            x == y
        }
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
        Cap::Endpoint { ptr, badge, rights } => (!preserve && badge == 0).then_some(Cap::Endpoint {
            ptr,
            badge: data,
            rights,
        }),
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
            ptr,
            size_bits: user_size as u8,
            free_index: 0,
            is_device,
        },
        T::Endpoint => Cap::Endpoint {
            ptr,
            badge: 0,
            rights: EpRights::ALL,
        },
        // Notification caps have no grant rights (seL4's `cap_notification_cap` has none).
        T::Notification => Cap::Notification {
            ptr,
            badge: 0,
            rights: EpRights {
                send: true,
                receive: true,
                grant: false,
                grant_reply: false,
            },
        },
        T::CapTable => Cap::CNode {
            ptr,
            radix: user_size as u8,
            guard_size: 0,
            guard: 0,
        },
        T::Tcb => Cap::Thread { tcb: ptr },
        T::SmallPage | T::MegaPage => Cap::Arch(ArchCap::Frame {
            base: ptr,
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
            base: ptr,
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
        if t == T::CapTable && user_size == 0 || t == T::Untyped && user_size < MIN_UNTYPED_BITS
        {
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
        let first = (ptr as u64 + free).next_multiple_of(1 << bits);
        let watermark = first + (n << bits) - ptr as u64;
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

