//! CSpace addressing: `resolveAddressBits` and the cap lookups built on it
//! (seL4 `src/kernel/cspace.c`; seL4 manual §3.1.3 "Capability addressing").
#![forbid(unsafe_code)]

use crate::cap::{tag, Cap, RawCap, CNODE_ONE_LEVEL_BIT};
use crate::cte::Slot;
use abi::WORD_BITS;

/// Why a lookup failed (`lookup_fault_t`), reported to user level in a fault message or after
/// `seL4_FailedLookup`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupFault {
    /// `lookup_fault_invalid_root`: the root (or a level on the way) is not a CNode.
    InvalidRoot,
    /// `lookup_fault_missing_capability`: `bits_left` bits remained to resolve.
    MissingCapability { bits_left: u64 },
    /// `lookup_fault_depth_mismatch`: `bits_found` bits of a level did not fit in `bits_left`.
    DepthMismatch { bits_left: u64, bits_found: u64 },
    /// `lookup_fault_guard_mismatch`: the guard of `guard_size` bits did not match.
    GuardMismatch {
        bits_left: u64,
        guard_found: u64,
        guard_size: u64,
    },
}

impl LookupFault {
    /// The words seL4 puts in message registers to describe this failure: the type
    /// (`seL4_LookupFailureType`) followed by its details (`setMRs_lookup_failure`).
    pub fn to_words(self) -> ([u64; 4], usize) {
        use abi::fault::LookupFailureType as T;
        match self {
            LookupFault::InvalidRoot => ([T::InvalidRoot as u64, 0, 0, 0], 1),
            LookupFault::MissingCapability { bits_left } => {
                ([T::MissingCapability as u64, bits_left, 0, 0], 2)
            }
            LookupFault::DepthMismatch {
                bits_left,
                bits_found,
            } => ([T::DepthMismatch as u64, bits_left, bits_found, 0], 3),
            LookupFault::GuardMismatch {
                bits_left,
                guard_found,
                guard_size,
            } => (
                [T::GuardMismatch as u64, bits_left, guard_found, guard_size],
                4,
            ),
        }
    }

    /// The failure [`to_words`](Self::to_words) describes (an unknown type reads as
    /// `InvalidRoot`).
    pub fn from_words(w: [u64; 4]) -> LookupFault {
        use abi::fault::LookupFailureType as T;
        match w[0] {
            x if x == T::MissingCapability as u64 => {
                LookupFault::MissingCapability { bits_left: w[1] }
            }
            x if x == T::DepthMismatch as u64 => LookupFault::DepthMismatch {
                bits_left: w[1],
                bits_found: w[2],
            },
            x if x == T::GuardMismatch as u64 => LookupFault::GuardMismatch {
                bits_left: w[1],
                guard_found: w[2],
                guard_size: w[3],
            },
            _ => LookupFault::InvalidRoot,
        }
    }
}

/// The result of resolving part of an address: the slot reached and the bits still unresolved
/// (non-zero when the walk stopped at a non-CNode cap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The slot reached.
    pub slot: Slot,
    /// Bits of the address not consumed.
    pub bits_remaining: u64,
}

/// The first slot of the CNode a CNode cap names (the walk only ever holds CNode caps, so the
/// error is never returned).
#[inline(always)]
fn cnode_base(node: RawCap) -> Result<crate::mem::PPtr<crate::cte::Cte>, LookupFault> {
    node.object().ok_or(LookupFault::InvalidRoot)
}

fn mask(bits: u64) -> u64 {
    if bits >= 64 {
        !0
    } else {
        (1u64 << bits) - 1
    }
}

/// `resolveAddressBits(nodeCap, capptr, n_bits)`: walks the guarded radix tree from `node_cap`
/// consuming the top `n_bits` of the low `n_bits` bits of `cptr`. Stops early at a slot that
/// does not hold a CNode cap.
pub fn resolve_address_bits(
    node_cap: Cap,
    cptr: u64,
    n_bits: u64,
) -> Result<Resolved, LookupFault> {
    resolve_raw(node_cap.encode(), cptr, n_bits)
}

/// [`resolve_address_bits`] on a cap as stored: reads the CNode caps on the way without
/// decoding them (the IPC paths use it).
#[inline]
pub fn resolve_raw(node_cap: RawCap, cptr: u64, n_bits: u64) -> Result<Resolved, LookupFault> {
    let mut node = node_cap;
    let mut n_bits = n_bits;
    if node.tag() != tag::CNODE {
        return Err(LookupFault::InvalidRoot);
    }
    loop {
        let (radix, guard_size, guard) = (node.cnode_radix(), node.cnode_guard_size(), node.w1());
        let level_bits = radix + guard_size;
        if level_bits == n_bits {
            // The common last (often only) level: it resolves all the bits left.
            let bits = cptr & mask(n_bits);
            if bits >> radix != guard {
                return Err(LookupFault::GuardMismatch {
                    bits_left: n_bits,
                    guard_found: guard,
                    guard_size,
                });
            }
            let slot = Slot(cnode_base(node)?).index(radix as u32, (bits & mask(radix)) as usize);
            return Ok(Resolved {
                slot,
                bits_remaining: 0,
            });
        }
        if level_bits > n_bits {
            // seL4 checks the guard first, then the depth.
            let guard_found = if guard_size == 0 || guard_size > n_bits {
                0
            } else {
                (cptr >> (n_bits - guard_size)) & mask(guard_size)
            };
            if guard_size > n_bits || guard_found != guard {
                return Err(LookupFault::GuardMismatch {
                    bits_left: n_bits,
                    guard_found: guard,
                    guard_size,
                });
            }
            return Err(LookupFault::DepthMismatch {
                bits_left: n_bits,
                bits_found: level_bits,
            });
        }
        // The `level_bits` bits this level resolves: the guard above the index. A CNode cap has
        // radix >= 1, so level_bits is never 0 and the walk terminates.
        let bits = (cptr >> (n_bits - level_bits)) & mask(level_bits);
        if bits >> radix != guard {
            return Err(LookupFault::GuardMismatch {
                bits_left: n_bits,
                guard_found: guard,
                guard_size,
            });
        }
        let offset = bits & mask(radix);
        let slot = Slot(cnode_base(node)?).index(radix as u32, offset as usize);
        if n_bits == level_bits {
            return Ok(Resolved {
                slot,
                bits_remaining: 0,
            });
        }
        n_bits -= level_bits;
        let next = slot.raw();
        if next.tag() != tag::CNODE {
            return Ok(Resolved {
                slot,
                bits_remaining: n_bits,
            });
        }
        node = next;
    }
}

/// `lookupCapAndSlot` for the IPC fastpath, one-step case only: the cap `cptr` names if the
/// root CNode's guard and radix cover all 64 bits (`CNODE_ONE_LEVEL_BIT`, tested with the tag)
/// and the guard matches; `None` otherwise (the full path then does the general walk,
/// [`resolve_raw`], and reports any lookup failure).
#[inline(always)]
pub fn lookup_one_level(root: RawCap, cptr: u64) -> Option<RawCap> {
    const TOP: u64 = tag::CNODE << 2 | CNODE_ONE_LEVEL_BIT >> 57;
    let slot = crate::mem::PPtr::cnode_slot_one_level_fastpath(root, root.w0() >> 57 == TOP, cptr)?;
    Some(Slot(slot).raw())
}

/// The slot of [`lookup_one_level`]: what [`lookup_slot`] finds when the root CNode resolves
/// the whole CPtr in one step and the guard matches (the slot the walk's one level computes);
/// `None` otherwise, and then only the general walk can say what the CPtr names.
#[inline(always)]
pub fn lookup_one_level_slot(root: RawCap, cptr: u64) -> Option<Slot> {
    const TOP: u64 = tag::CNODE << 2 | CNODE_ONE_LEVEL_BIT >> 57;
    let slot = crate::mem::PPtr::cnode_slot_one_level(root, root.w0() >> 57 == TOP, cptr)?;
    Some(Slot(slot))
}

/// `lookupSlot(thread, cptr)` with the thread's root CNode cap as stored (`root`, its CTable
/// slot's cap): resolves all `WORD_BITS` bits. (Out of line, one copy instead of the one
/// inlined into `handle_invocation`, the riscv64 runtime text would be 640 bytes smaller, but
/// aarch64's invocation rows 11 instructions dearer: docs/PERFORMANCE.md, session 9.)
pub fn lookup_slot(root: RawCap, cptr: u64) -> Result<Resolved, LookupFault> {
    resolve_raw(root, cptr, WORD_BITS as u64)
}

/// `lookupCapAndSlot`: the slot `cptr` names in the CSpace `root` (a root CNode cap as stored,
/// see [`lookup_slot`]), and its cap. Out of line (its callers are the IPC slow paths and the
/// debug syscalls).
#[inline(never)]
pub fn lookup_cap_and_slot(root: RawCap, cptr: u64) -> Result<(Cap, Slot), LookupFault> {
    let slot = lookup_slot_of(root, cptr)?;
    Ok((slot.cap(), slot))
}

/// The slot of [`lookup_cap_and_slot`], without decoding its cap (`lookupExtraCaps` keeps
/// only the slot): the one-step case first, then the general walk.
#[inline(always)]
pub fn lookup_slot_of(root: RawCap, cptr: u64) -> Result<Slot, LookupFault> {
    match lookup_one_level_slot(root, cptr) {
        Some(s) => Ok(s),
        None => Ok(lookup_slot(root, cptr)?.slot),
    }
}

/// Error of the `lookupTargetSlot`/`lookupSourceSlot`/`lookupPivotSlot` family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupSlotError {
    /// `seL4_RangeError` with range `[1, WORD_BITS]`: depth out of range.
    DepthRange,
    /// `seL4_FailedLookup`: the walk failed or stopped early.
    Failed(LookupFault),
}

/// `lookupSlotForCNodeOp(isSource, root, capptr, depth)`: the slot at exactly `depth` bits.
/// The root must be a CNode cap (else `FailedLookup` with `InvalidRoot`); depth must be in
/// `1..=64` (else `RangeError` 1..64); the walk must consume all `depth` bits (else
/// `FailedLookup` with `DepthMismatch { bits_left: remaining, bits_found: 0 }`).
pub fn lookup_slot_for_cnode_op(root: Cap, cptr: u64, depth: u64) -> Result<Slot, LookupSlotError> {
    if !matches!(root, Cap::CNode { .. }) {
        return Err(LookupSlotError::Failed(LookupFault::InvalidRoot));
    }
    if depth < 1 || depth > WORD_BITS as u64 {
        return Err(LookupSlotError::DepthRange);
    }
    let r = resolve_address_bits(root, cptr, depth).map_err(LookupSlotError::Failed)?;
    if r.bits_remaining != 0 {
        return Err(LookupSlotError::Failed(LookupFault::DepthMismatch {
            bits_left: r.bits_remaining,
            bits_found: 0,
        }));
    }
    Ok(r.slot)
}
