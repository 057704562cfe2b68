//! Untyped memory and `seL4_Untyped_Retype` (seL4 `src/object/untyped.c`, manual §2.4
//! "Kernel memory allocation").
//!
//! An untyped cap keeps a watermark (`free_index`, bytes used from its start). Retype places new
//! objects at the watermark aligned to the object size. When an untyped has no children left,
//! the next retype resets it: its used memory is zeroed (preemptibly, in chunks of
//! 2^`RESET_CHUNK_BITS` bytes, from the top down) and allocation starts again at its base.
//! Memory above the watermark is always zero, so new objects need no clearing.

use crate::cap::Cap;
use crate::cte::{has_children, insert_new_cap, Slot};
use crate::error::{Preempted, SyscallError};
use crate::invocation::InvocationArgs;
use crate::mem::CarvedRun;
use crate::object::cnode::{ensure_empty_slot, lookup_target_slot};
use crate::object::objecttype::create_object;
use crate::state::Kernel;
use crate::{user_err, user_try};
use abi::config::{RESET_CHUNK_BITS, RETYPE_FAN_OUT_LIMIT};
use abi::object::{MAX_UNTYPED_BITS, MIN_UNTYPED_BITS};
use abi::{InvocationLabel, ObjectType};

/// A checked retype request.
#[derive(Clone, Copy, Debug)]
pub struct RetypeInvocation {
    /// The untyped's slot.
    pub slot: Slot,
    /// Whether to reset the untyped first (it has no children).
    pub reset: bool,
    /// The new objects' memory.
    pub objects: CarvedRun,
    /// Object type.
    pub object_type: ObjectType,
    /// The size argument.
    pub user_size: u64,
    /// log2 of each object's size.
    pub object_bits: u64,
    /// The destination slots (one per object).
    pub dest: crate::mem::CNodeWindow,
    /// Whether the untyped is device memory.
    pub is_device: bool,
}

/// `decodeUntypedInvocation`: checks a retype. See the module doc; errors in seL4's order:
/// `IllegalOperation` (wrong label), `TruncatedMessage` (fewer than 6 words or no root cap),
/// `InvalidArgument(0)` (type), `RangeError(0, 38)` (size, also of a scheduling context),
/// `InvalidArgument(1)` (CNode of size 0, untyped under 16 bytes, MCS: scheduling context under
/// 2^`seL4_MinSchedContextBits` bytes), lookup errors of the destination CNode, `FailedLookup`
/// (not a CNode), `RangeError` (offset, window), `DeleteFirst`, `NotEnoughMemory(free bytes)`,
/// `InvalidArgument(1)` (non-frame from device memory).
pub fn decode_untyped_invocation(
    label: InvocationLabel,
    args: &impl InvocationArgs,
    slot: Slot,
    cap: Cap,
) -> Result<RetypeInvocation, SyscallError> {
    let Cap::Untyped {
        ptr,
        size_bits,
        free_index,
        is_device,
    } = cap
    else {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "Untyped cap: Illegal operation attempted."
        ));
    };
    if label != InvocationLabel::UntypedRetype {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "Untyped cap: Illegal operation attempted."
        ));
    }
    let Some((root, _)) = args.extra_cap(0).filter(|_| args.len() >= 6) else {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "Untyped invocation: Truncated message."
        ));
    };
    let (new_type, user_size, node_index) = (args.mr(0), args.mr(1), args.mr(2));
    let (node_depth, node_offset, node_window) = (args.mr(3), args.mr(4), args.mr(5));

    let Some(object_type) = ObjectType::from_word(new_type) else {
        return Err(user_err!(
            SyscallError::InvalidArgument(0),
            "Untyped Retype: Invalid object type."
        ));
    };
    if user_size >= abi::WORD_BITS as u64 {
        return Err(user_err!(
            SyscallError::RangeError(0, MAX_UNTYPED_BITS),
            "Untyped Retype: Invalid object size."
        ));
    }
    let object_bits = object_type.size_bits(user_size);
    if object_bits > MAX_UNTYPED_BITS {
        return Err(user_err!(
            SyscallError::RangeError(0, MAX_UNTYPED_BITS),
            "Untyped Retype: Invalid object size."
        ));
    }
    if object_type == ObjectType::CapTable && user_size == 0 {
        return Err(user_err!(
            SyscallError::InvalidArgument(1),
            "Untyped Retype: Requested CapTable size too small."
        ));
    }
    if object_type == ObjectType::Untyped && user_size < MIN_UNTYPED_BITS {
        return Err(user_err!(
            SyscallError::InvalidArgument(1),
            "Untyped Retype: Requested UntypedItem size too small."
        ));
    }
    #[cfg(feature = "mcs")]
    if object_type == ObjectType::SchedContext && user_size < abi::object::MIN_SCHED_CONTEXT_BITS {
        return Err(user_err!(
            SyscallError::InvalidArgument(1),
            "Untyped retype: Requested a scheduling context too small."
        ));
    }
    let node_cap = if node_depth == 0 {
        root
    } else {
        user_try!(
            lookup_target_slot(root, node_index, node_depth),
            "Untyped Retype: Invalid destination address."
        )
        .cap()
    };
    let Cap::CNode {
        ptr: cnode, radix, ..
    } = node_cap
    else {
        return Err(user_err!(
            SyscallError::FailedLookup {
                source: false,
                fault: crate::cspace::LookupFault::MissingCapability {
                    bits_left: node_depth,
                },
            },
            "Untyped Retype: Destination cap invalid or read-only."
        ));
    };
    let node_size = 1u64 << radix;
    if node_offset > node_size - 1 {
        return Err(user_err!(
            SyscallError::RangeError(0, node_size - 1),
            "Untyped Retype: Destination node offset #{node_offset} too large."
        ));
    }
    if node_window < 1 || node_window > RETYPE_FAN_OUT_LIMIT as u64 {
        return Err(user_err!(
            SyscallError::RangeError(1, RETYPE_FAN_OUT_LIMIT as u64),
            "Untyped Retype: Number of requested objects ({node_window}) too small or large."
        ));
    }
    if node_window > node_size - node_offset {
        return Err(user_err!(
            SyscallError::RangeError(1, node_size - node_offset),
            "Untyped Retype: Requested destination window overruns size of node."
        ));
    }
    let Some(dest) = cnode.cnode_window(radix as u32, node_offset as usize, node_window as usize)
    else {
        return Err(user_err!(
            SyscallError::RangeError(1, node_size - node_offset),
            "Untyped Retype: Requested destination window overruns size of node."
        ));
    };
    #[allow(clippy::unused_enumerate_index)] // the index is only printed by debug builds
    for (_i, s) in dest.slots().enumerate() {
        user_try!(
            ensure_empty_slot(Slot(s)),
            "Untyped Retype: Slot #{} in destination window non-empty.",
            node_offset + _i as u64
        );
    }
    let (free, reset) = if has_children(slot) {
        (free_index, false)
    } else {
        (0, true)
    };
    let free_bytes = (1u64 << size_bits) - free;
    if (free_bytes >> object_bits) < node_window {
        return Err(user_err!(
            SyscallError::NotEnoughMemory(free_bytes),
            "Untyped Retype: Insufficient memory ({node_window} * {} bytes needed, {free_bytes} bytes available).",
            1u64 << object_bits
        ));
    }
    if is_device && !object_type.is_frame() && object_type != ObjectType::Untyped {
        return Err(user_err!(
            SyscallError::InvalidArgument(1),
            "Untyped Retype: Creating kernel objects with device untyped"
        ));
    }
    let free_ref = ptr.addr() as u64 + free;
    let align = (1u64 << object_bits) - 1;
    let first = ((free_ref + align) & !align) as usize - ptr.addr();
    // Inside the untyped: the free space was checked against the objects' total size above.
    let Some(objects) = ptr.carve(size_bits as u32, first, object_bits as u32, dest.len()) else {
        return Err(user_err!(
            SyscallError::NotEnoughMemory(free_bytes),
            "Untyped Retype: Insufficient memory."
        ));
    };
    Ok(RetypeInvocation {
        slot,
        reset,
        objects,
        object_type,
        user_size,
        object_bits,
        dest,
        is_device,
    })
}

/// `resetUntypedCap`: zeroes the used part of the untyped in `slot` from the top down in
/// chunks, lowering the watermark as it goes so that a preempted reset resumes where it
/// stopped. Device memory is not touched.
pub fn reset_untyped_cap(k: &mut Kernel, slot: Slot) -> Result<(), Preempted> {
    let Cap::Untyped {
        ptr,
        size_bits,
        free_index,
        is_device,
    } = slot.cap()
    else {
        return Ok(());
    };
    if free_index == 0 {
        return Ok(());
    }
    if is_device {
        slot.set_cap(Cap::Untyped {
            ptr,
            size_bits,
            free_index: 0,
            is_device,
        });
        return Ok(());
    }
    let chunk = 1u64 << RESET_CHUNK_BITS.min(size_bits as usize);
    let set_free_index = |free_index| {
        slot.set_cap(Cap::Untyped {
            ptr,
            size_bits,
            free_index,
            is_device,
        })
    };
    // One chunk, then a preemption point, until the bottom (after the last chunk there is
    // none). Only every MAX_NUM_WORK_UNITS_PER_PREEMPTION-th point checks anything, so the
    // chunks up to the next checking point are cleared in one go and their points counted
    // together; the watermark is stored where the reset may stop (nothing can look at the
    // cap in between). Same points, same checks, same state at each as chunk by chunk.
    let mut top = free_index;
    loop {
        let quiet = k.work_units_before_check() as u64;
        // The chunk `top` is in, and `quiet` more below it (fewer at the bottom).
        let first = (top - 1) & !(chunk - 1);
        let start = first.saturating_sub(quiet * chunk);
        ptr.zero_range(size_bits as u32, start as usize, top as usize);
        if start == 0 {
            // The chunks cleared were the last ones: a point after each but the last.
            k.count_work_units((first / chunk) as usize);
            break;
        }
        top = start;
        k.count_work_units(quiet as usize);
        if let Err(p) = k.preemption_point() {
            set_free_index(top);
            return Err(p);
        }
    }
    set_free_index(0);
    Ok(())
}

/// `invokeUntyped_Retype`: resets if asked, moves the watermark past the new objects and
/// creates them, inserting their caps as children of the untyped.
pub fn invoke_untyped_retype(k: &mut Kernel, inv: RetypeInvocation) -> Result<(), Preempted> {
    if inv.reset {
        reset_untyped_cap(k, inv.slot)?;
    }
    let Cap::Untyped {
        ptr,
        size_bits,
        is_device,
        ..
    } = inv.slot.cap()
    else {
        return Ok(());
    };
    inv.slot.set_cap(Cap::Untyped {
        ptr,
        size_bits,
        free_index: inv.objects.end_offset(ptr) as u64,
        is_device,
    });
    for (at, dest) in inv.objects.objects().zip(inv.dest.slots()) {
        let cap = create_object(k, inv.object_type, at, inv.user_size, inv.is_device);
        insert_new_cap(cap, Some(inv.slot), Slot(dest));
    }
    Ok(())
}
