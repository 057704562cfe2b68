//! CNodes: deletion, revocation and the CNode invocations (seL4 `src/object/cnode.c`,
//! seL4 manual §3.1 "Capability-based access control" and the `seL4_CNode_*` API).

use crate::cap::Cap;
use crate::cspace::{lookup_slot_for_cnode_op, LookupFault, LookupSlotError};
use crate::cte::{
    cte_insert, cte_move, cte_swap, is_final_cap, is_mdb_parent_of, mdb_unlink, Cte, Slot,
};
use crate::error::{Preempted, SyscallError};
// Re-exported for `arch/riscv64/objects.rs`, which imports it from here until the arch caps
// move behind `Cap::Arch`; the trait lives in `crate::invocation`.
pub use crate::invocation::InvocationArgs;
use crate::object::objecttype::{
    derive_cap, finalise_cap, mask_cap_rights, update_cap_data, zombie_slot,
};
use crate::state::Kernel;
use crate::{user_err, user_try};
use abi::{CapRights, InvocationLabel};

fn lookup_err(source: bool) -> impl Fn(LookupSlotError) -> SyscallError {
    move |e| match e {
        LookupSlotError::DepthRange => SyscallError::RangeError(1, abi::WORD_BITS as u64),
        LookupSlotError::Failed(fault) => SyscallError::FailedLookup { source, fault },
    }
}

/// `lookupTargetSlot`.
pub fn lookup_target_slot(root: Cap, index: u64, depth: u64) -> Result<Slot, SyscallError> {
    lookup_slot_for_cnode_op(root, index, depth).map_err(lookup_err(false))
}

/// `lookupSourceSlot` (and `lookupPivotSlot`, which reports failures the same way).
pub fn lookup_source_slot(root: Cap, index: u64, depth: u64) -> Result<Slot, SyscallError> {
    lookup_slot_for_cnode_op(root, index, depth).map_err(lookup_err(true))
}

/// `ensureEmptySlot`: `DeleteFirst` unless the slot is empty.
pub fn ensure_empty_slot(s: Slot) -> Result<(), SyscallError> {
    if s.is_empty() {
        Ok(())
    } else {
        Err(SyscallError::DeleteFirst)
    }
}

fn cap_removable(cap: Cap, slot: Slot) -> bool {
    match cap {
        Cap::Null => true,
        Cap::Zombie { ptr, number, .. } => {
            number == 0 || (number == 1 && zombie_slot(ptr, 0) == slot)
        }
        _ => false,
    }
}

fn cap_cyclic_zombie(cap: Cap, slot: Slot) -> bool {
    matches!(cap, Cap::Zombie { ptr, .. } if zombie_slot(ptr, 0) == slot)
}

/// `finaliseSlot(slot, immediate)`: finalises the cap in `slot` until it can be emptied.
/// Returns `Ok(true)` when the slot may be emptied, `Ok(false)` when it was left holding a
/// cyclic zombie (deletion continues from its owner).
fn finalise_slot(k: &mut Kernel, slot: Slot, immediate: bool) -> Result<bool, Preempted> {
    #[cfg(test)]
    let direct = !k.fastpath_off;
    #[cfg(not(test))]
    let direct = true;
    while !slot.is_empty() {
        let is_final = is_final_cap(slot);
        let remainder = finalise_cap(k, slot.cap(), is_final);
        if cap_removable(remainder, slot) {
            return Ok(true);
        }
        slot.set_cap(remainder);
        if !immediate && cap_cyclic_zombie(remainder, slot) {
            return Ok(false);
        }
        reduce_zombie(k, slot, immediate)?;
        k.preemption_point()?;
        // The slot holds a zombie now: the iterations for its empty last slots are quick.
        if immediate && direct && skip_empty_zombie_slots(k, slot)? {
            return Ok(true);
        }
    }
    Ok(true)
}

/// The iterations of [`finalise_slot`]'s loop (`immediate`) for a zombie in `slot` whose last
/// slot is already empty, without the general code: for such a zombie `finaliseCap` gives the
/// zombie back, and `reduceZombie` deletes nothing and counts the zombie down by one, then the
/// loop passes a preemption point. Here the empty slots at the zombie's end (a CNode's slots
/// are mostly empty) are skipped in a scan (eight slots' first words loaded and tested
/// together, under three instructions a slot), as many at a time as there are preemption
/// points before the next one that checks ([`Kernel::work_units_before_check`], counted
/// together with [`Kernel::count_work_units`]); the point that checks is passed as the general
/// loop passes it. Same points, same checks, same count at each: the state where it may stop
/// is the general loop's. Between two checking points it scans at most 99 empty slots (about
/// 260 instructions). Returns `Ok(true)` if the zombie became removable (the loop would
/// return), `Ok(false)` when the general loop must go on (the slot holds no zombie, or a
/// zombie whose last slot holds a cap), `Err` at a preemption point that stops (the zombie's
/// count is stored first, as the general loop stores it).
#[inline(never)]
fn skip_empty_zombie_slots(k: &mut Kernel, slot: Slot) -> Result<bool, Preempted> {
    let raw = slot.raw();
    if raw.tag() != crate::cap::tag::ZOMBIE {
        return Ok(false);
    }
    let Some(ptr) = raw.object::<Cte>() else {
        return Ok(false);
    };
    let mut number = raw.w1();
    let store = |number| slot.set_raw(raw.with_w1(number));
    // `capRemovable` of the zombie is `number <= floor`: nothing left, or only its own first
    // slot (itself).
    let floor = u64::from(zombie_slot(ptr, 0) == slot);
    loop {
        // Down to `lowest` the points only count.
        let lowest = number
            .saturating_sub(k.work_units_before_check() as u64)
            .max(floor);
        let mut n = number;
        // Eight slots a step while their first words are all zero (empty: a null cap's tag is
        // 0), then slot by slot; a first word that is not zero ends the fast steps, and the
        // slot-by-slot test decides.
        while n >= lowest + 8 {
            let w = |i| zombie_slot(ptr, n - i).raw().w0();
            if (1..=8).fold(0, |acc, i| acc | w(i)) != 0 {
                break;
            }
            n -= 8;
        }
        while n > lowest && zombie_slot(ptr, n - 1).is_empty() {
            n -= 1;
        }
        k.count_work_units((number - n) as usize);
        number = n;
        if number <= floor {
            store(number);
            return Ok(true);
        }
        if !zombie_slot(ptr, number - 1).is_empty() {
            store(number);
            return Ok(false);
        }
        // An empty slot and the next point checks.
        number -= 1;
        if let Err(p) = k.preemption_point() {
            store(number);
            return Err(p);
        }
    }
}

/// `reduceZombie`: makes progress deleting the object a zombie in `slot` stands for.
fn reduce_zombie(k: &mut Kernel, slot: Slot, immediate: bool) -> Result<(), Preempted> {
    let Cap::Zombie { ptr, kind, number } = slot.cap() else {
        return Ok(());
    };
    if immediate {
        let end = zombie_slot(ptr, number - 1);
        cte_delete(k, end, false)?;
        // The slot may have changed while deleting (a cyclic zombie elsewhere moved here).
        if let Cap::Zombie {
            ptr: p2,
            kind: k2,
            number: n2,
        } = slot.cap()
        {
            if p2 == ptr && n2 == number && k2 == kind {
                slot.set_cap(Cap::Zombie {
                    ptr,
                    kind,
                    number: number - 1,
                });
            }
        }
    } else {
        // Move the zombie into the first slot of its own object, so it deletes itself there,
        // and bring that slot's cap here to be deleted next.
        let first = zombie_slot(ptr, 0);
        if first != slot {
            let (c1, c2) = (slot.cap(), first.cap());
            cte_swap(c1, slot, c2, first);
        }
    }
    Ok(())
}

/// `cteDelete(slot, exposed)`: deletes the cap in `slot`, destroying its object if it is the
/// last cap to it. Preemptible: on `Err(Preempted)` the slot holds a zombie and the syscall
/// restarts to continue.
pub fn cte_delete(k: &mut Kernel, slot: Slot, exposed: bool) -> Result<(), Preempted> {
    let ok = finalise_slot(k, slot, exposed)?;
    if exposed || ok {
        empty_slot(slot);
    }
    Ok(())
}

/// `emptySlot`: removes the cap and unlinks the slot from the MDB.
pub fn empty_slot(slot: Slot) {
    if !slot.is_empty() {
        mdb_unlink(slot);
    }
}

/// `cteDeleteOne`: deletes a cap that cannot need a zombie (reply caps, IRQ handlers...).
pub fn cte_delete_one(k: &mut Kernel, slot: Slot) {
    let raw = slot.raw();
    if raw.is_null() {
        return;
    }
    // Non-MCS `finaliseCap` does nothing for a reply cap, final or not (the common case: the
    // caller cap after a reply): skip the finality check.
    #[cfg(not(feature = "mcs"))]
    if raw.tag() == crate::cap::tag::REPLY {
        mdb_unlink(slot);
        return;
    }
    let is_final = is_final_cap(slot);
    let _ = finalise_cap(k, slot.cap(), is_final);
    empty_slot(slot);
}

/// `cteRevoke(slot)`: deletes every cap derived from the cap in `slot`. Preemptible.
pub fn cte_revoke(k: &mut Kernel, slot: Slot) -> Result<(), Preempted> {
    while let Some(next) = slot.mdb().next() {
        if !is_mdb_parent_of(slot, next) {
            break;
        }
        cte_delete(k, next, true)?;
        k.preemption_point()?;
    }
    Ok(())
}

/// A decoded CNode invocation, ready to perform.
#[derive(Clone, Copy, Debug)]
pub enum CNodeInvocation {
    /// Revoke the cap in the slot.
    Revoke(Slot),
    /// Delete the cap in the slot.
    Delete(Slot),
    /// Insert `cap` derived from `src` into `dest` (Copy, Mint).
    Insert { cap: Cap, src: Slot, dest: Slot },
    /// Move `src` to `dest` storing `cap` (Move, Mutate).
    Move { cap: Cap, src: Slot, dest: Slot },
    /// Rotate: `src`'s cap (as `src_cap`) to `pivot`, `pivot`'s (as `pivot_cap`) to `dest`.
    Rotate {
        src_cap: Cap,
        pivot_cap: Cap,
        src: Slot,
        pivot: Slot,
        dest: Slot,
    },
    /// Move the caller's reply cap to `dest` (non-MCS).
    #[cfg(not(feature = "mcs"))]
    SaveCaller(Slot),
    /// Cancel the sends with `badge` on the endpoint at `ep`.
    CancelBadgedSends {
        ep: crate::object::endpoint::EpRef,
        badge: u64,
    },
}

/// `decodeCNodeInvocation`: checks a CNode invocation on `cnode` and returns what to do.
/// Errors are seL4's, in seL4's order.
pub fn decode_cnode_invocation(
    label: InvocationLabel,
    args: &impl InvocationArgs,
    cnode: Cap,
) -> Result<CNodeInvocation, SyscallError> {
    use InvocationLabel::*;
    if !matches!(
        label,
        CNodeRevoke
            | CNodeDelete
            | CNodeCancelBadgedSends
            | CNodeCopy
            | CNodeMint
            | CNodeMove
            | CNodeMutate
            | CNodeRotate
    ) && !is_save_caller(label)
    {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "CNodeCap: Illegal Operation attempted."
        ));
    }
    if args.len() < 2 {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "CNode operation: Truncated message."
        ));
    }
    let (index, depth) = (args.mr(0), args.mr(1));
    let dest = user_try!(
        lookup_target_slot(cnode, index, depth),
        "CNode operation: Target slot invalid."
    );

    match label {
        CNodeCopy | CNodeMint | CNodeMove | CNodeMutate => {
            let Some((src_root, _)) = args.extra_cap(0).filter(|_| args.len() >= 4) else {
                return Err(user_err!(
                    SyscallError::TruncatedMessage,
                    "CNode Copy/Mint/Move/Mutate: Truncated message."
                ));
            };
            let (src_index, src_depth) = (args.mr(2), args.mr(3));
            user_try!(
                ensure_empty_slot(dest),
                "CNode Copy/Mint/Move/Mutate: Destination not empty."
            );
            let src = user_try!(
                lookup_source_slot(src_root, src_index, src_depth),
                "CNode Copy/Mint/Move/Mutate: Invalid source slot."
            );
            let src_cap = src.cap();
            if src_cap.is_null() {
                return Err(user_err!(
                    SyscallError::FailedLookup {
                        source: true,
                        fault: LookupFault::MissingCapability {
                            bits_left: src_depth,
                        },
                    },
                    "CNode Copy/Mint/Move/Mutate: Source slot invalid or empty."
                ));
            }
            match label {
                CNodeCopy => {
                    if args.len() < 5 {
                        return Err(user_err!(
                            SyscallError::TruncatedMessage,
                            "Truncated message for CNode Copy operation."
                        ));
                    }
                    let masked = mask_cap_rights(CapRights(args.mr(4)), src_cap);
                    let cap = user_try!(derive_cap(src, masked), e =>
                        "Error deriving cap for CNode Copy operation: {}",
                        crate::object::objecttype::derive_failure(e)
                    );
                    if cap.is_null() {
                        return Err(mutated_cap_invalid());
                    }
                    Ok(CNodeInvocation::Insert { cap, src, dest })
                }
                CNodeMint => {
                    if args.len() < 6 {
                        return Err(user_err!(
                            SyscallError::TruncatedMessage,
                            "CNode Mint: Truncated message."
                        ));
                    }
                    let masked = mask_cap_rights(CapRights(args.mr(4)), src_cap);
                    let minted = update_cap_data(false, args.mr(5), masked);
                    let cap = user_try!(derive_cap(src, minted), e =>
                        "Error deriving cap for CNode Mint operation: {}",
                        crate::object::objecttype::derive_failure(e)
                    );
                    if cap.is_null() {
                        return Err(mutated_cap_invalid());
                    }
                    Ok(CNodeInvocation::Insert { cap, src, dest })
                }
                CNodeMove => Ok(CNodeInvocation::Move {
                    cap: src_cap,
                    src,
                    dest,
                }),
                _ => {
                    if args.len() < 5 {
                        return Err(user_err!(
                            SyscallError::TruncatedMessage,
                            "CNode Mutate: Truncated message."
                        ));
                    }
                    let cap = update_cap_data(true, args.mr(4), src_cap);
                    if cap.is_null() {
                        return Err(mutated_cap_invalid());
                    }
                    Ok(CNodeInvocation::Move { cap, src, dest })
                }
            }
        }
        CNodeRevoke => Ok(CNodeInvocation::Revoke(dest)),
        CNodeDelete => Ok(CNodeInvocation::Delete(dest)),
        #[cfg(not(feature = "mcs"))]
        CNodeSaveCaller => {
            user_try!(
                ensure_empty_slot(dest),
                "CNode SaveCaller: Destination slot not empty."
            );
            Ok(CNodeInvocation::SaveCaller(dest))
        }
        CNodeCancelBadgedSends => match dest.cap() {
            Cap::Endpoint { ptr, badge, rights }
                if rights.send && rights.receive && rights.grant && rights.grant_reply =>
            {
                Ok(CNodeInvocation::CancelBadgedSends { ep: ptr, badge })
            }
            _ => Err(user_err!(
                SyscallError::IllegalOperation,
                "CNode CancelBadgedSends: Target cap invalid."
            )),
        },
        CNodeRotate => {
            if args.len() < 8 {
                return Err(user_err!(
                    SyscallError::TruncatedMessage,
                    "CNode Rotate: Truncated message."
                ));
            }
            let (Some((pivot_root, _)), Some((src_root, _))) =
                (args.extra_cap(0), args.extra_cap(1))
            else {
                return Err(user_err!(
                    SyscallError::TruncatedMessage,
                    "CNode Rotate: Truncated message."
                ));
            };
            let (pivot_data, pivot_index, pivot_depth) = (args.mr(2), args.mr(3), args.mr(4));
            let (src_data, src_index, src_depth) = (args.mr(5), args.mr(6), args.mr(7));
            let src = user_try!(
                lookup_source_slot(src_root, src_index, src_depth),
                "CNode Rotate: Invalid source slot."
            );
            let pivot = user_try!(
                lookup_source_slot(pivot_root, pivot_index, pivot_depth),
                "CNode Rotate: Invalid pivot slot."
            );
            if pivot == src || pivot == dest {
                return Err(user_err!(
                    SyscallError::IllegalOperation,
                    "CNode Rotate: Pivot slot the same as source or dest slot."
                ));
            }
            if src != dest {
                user_try!(
                    ensure_empty_slot(dest),
                    "CNode Rotate: Destination slot not empty."
                );
            }
            if src.is_empty() {
                return Err(user_err!(
                    SyscallError::FailedLookup {
                        source: true,
                        fault: LookupFault::MissingCapability {
                            bits_left: src_depth,
                        },
                    },
                    "CNode Rotate: Source slot empty."
                ));
            }
            if pivot.is_empty() {
                return Err(user_err!(
                    SyscallError::FailedLookup {
                        source: false,
                        fault: LookupFault::MissingCapability {
                            bits_left: pivot_depth,
                        },
                    },
                    "CNode Rotate: Pivot slot empty."
                ));
            }
            let src_cap = update_cap_data(true, src_data, src.cap());
            let pivot_cap = update_cap_data(true, pivot_data, pivot.cap());
            if src_cap.is_null() {
                return Err(user_err!(
                    SyscallError::IllegalOperation,
                    "CNode Rotate: Source cap invalid."
                ));
            }
            if pivot_cap.is_null() {
                return Err(user_err!(
                    SyscallError::IllegalOperation,
                    "CNode Rotate: Pivot cap invalid."
                ));
            }
            Ok(CNodeInvocation::Rotate {
                src_cap,
                pivot_cap,
                src,
                pivot,
                dest,
            })
        }
        _ => Err(user_err!(
            SyscallError::IllegalOperation,
            "CNodeCap: Illegal Operation attempted."
        )),
    }
}

/// The error of a Copy, Mint or Mutate whose new cap would be null (seL4 checks this once,
/// after building the cap).
fn mutated_cap_invalid() -> SyscallError {
    user_err!(
        SyscallError::IllegalOperation,
        "CNode Copy/Mint/Move/Mutate: Mutated cap would be invalid."
    )
}

/// Whether `label` is `CNodeSaveCaller` (non-MCS; MCS has no such invocation).
fn is_save_caller(label: InvocationLabel) -> bool {
    #[cfg(not(feature = "mcs"))]
    return label == InvocationLabel::CNodeSaveCaller;
    #[cfg(feature = "mcs")]
    {
        let _ = label;
        false
    }
}

/// Performs a decoded CNode invocation. `caller_reply` is the invoking thread's caller slot
/// (for SaveCaller; non-MCS). Only deletion and revocation can be preempted.
pub fn invoke_cnode(
    k: &mut Kernel,
    inv: CNodeInvocation,
    #[cfg(not(feature = "mcs"))] caller_reply: Slot,
) -> Result<(), Preempted> {
    match inv {
        CNodeInvocation::Revoke(s) => cte_revoke(k, s),
        CNodeInvocation::Delete(s) => cte_delete(k, s, true),
        CNodeInvocation::Insert { cap, src, dest } => {
            cte_insert(cap, src, dest);
            Ok(())
        }
        CNodeInvocation::Move { cap, src, dest } => {
            cte_move(cap, src, dest);
            Ok(())
        }
        CNodeInvocation::Rotate {
            src_cap,
            pivot_cap,
            src,
            pivot,
            dest,
        } => {
            if src == dest {
                cte_swap(src_cap, src, pivot_cap, pivot);
            } else {
                cte_move(pivot_cap, pivot, dest);
                cte_move(src_cap, src, pivot);
            }
            Ok(())
        }
        #[cfg(not(feature = "mcs"))]
        CNodeInvocation::SaveCaller(dest) => {
            if let Cap::Reply { .. } = caller_reply.cap() {
                cte_move(caller_reply.cap(), caller_reply, dest);
            }
            Ok(())
        }
        CNodeInvocation::CancelBadgedSends { ep, badge } => {
            if badge != 0 {
                crate::object::endpoint::cancel_badged_sends(k, ep, badge);
            }
            Ok(())
        }
    }
}
