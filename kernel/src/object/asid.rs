//! ASID control and ASID pools: the part of seL4's `ASIDControl_MakePool` and
//! `ASIDPool_Assign` that every architecture shares (seL4 16.0.0 `decodeRISCVMMUInvocation`
//! and `decodeARMMMUInvocation`, the `cap_asid_control_cap` and `cap_asid_pool_cap` cases, and
//! `performASIDControlInvocation`).
//!
//! The architecture keeps what is its own: the invocation labels (it says whether the label
//! is the right one), which caps may be given an ASID (an unmapped page table on RISC-V, a
//! VSpace without an ASID on Arm), the cap it stores for a new pool and what assigning an ASID
//! does to the VSpace's cap and tables. The pool's geometry is seL4's on both: 2^7 pools in
//! the ASID table (`Kernel::asid_table`), 2^9 ASIDs a pool (`seL4_ASIDPoolIndexBits`), a pool
//! of `seL4_ASIDPoolBits` bytes.
#![forbid(unsafe_code)]

use crate::cap::Cap;
use crate::cspace::LookupFault;
use crate::cte::{has_children, Slot};
use crate::error::SyscallError;
use crate::invocation::InvocationArgs;
use crate::mem::{AsidPool, Link, PPtr, UntypedMemory, ASID_POOL_ENTRIES};
use crate::object::cnode::{ensure_empty_slot, lookup_target_slot};
use crate::state::{Kernel, ASID_TABLE_SIZE};
use crate::{user_err, user_try};
use abi::object::{ASID_POOL_BITS, ASID_POOL_INDEX_BITS};

/// An ASID pool in object memory (seL4 `asid_pool_t`): one VSpace link per ASID of the pool.
pub type AsidPoolRef = PPtr<AsidPool>;

/// A checked `ASIDControl_MakePool` (seL4 `performASIDControlInvocation`'s arguments): make
/// the untyped in `parent` (the `seL4_ASIDPoolBits` bytes at `frame`) the ASID pool for
/// `asid_base..asid_base + 512`, its cap in `dest`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MakePool {
    /// The untyped's memory, which becomes the pool.
    pub frame: PPtr<UntypedMemory>,
    /// The empty slot that receives the pool's cap.
    pub dest: Slot,
    /// The slot of the untyped cap, the new cap's MDB parent.
    pub parent: Slot,
    /// The first ASID of the pool (a multiple of 512).
    pub asid_base: u16,
}

/// A checked `ASIDPool_Assign` (seL4 `performASIDPoolInvocation`'s arguments): give `asid`,
/// a free ASID of the pool at `pool`, to the VSpace whose cap is in `vspace_slot`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assign {
    /// The ASID handed out.
    pub asid: u16,
    /// The pool it comes from.
    pub pool: AsidPoolRef,
    /// The slot of the VSpace cap that receives it.
    pub vspace_slot: Slot,
}

/// The `cap_asid_control_cap` case of seL4's MMU decoders (`seL4_<arch>_ASIDControl_MakePool`;
/// MRs index, depth; extra caps: untyped, CNode root). `is_make_pool`: the label is the
/// architecture's `ASIDControlMakePool`; `into` makes the checked invocation the
/// architecture's (built where it is returned, as a decoder written for one architecture
/// would, so the code the kernel's decode path compiles to is the same).
///
/// Errors in order: `IllegalOperation` (label), `TruncatedMessage` (fewer than 2 words or a
/// missing cap), `DeleteFirst` (every ASID table entry is in use), `InvalidCapability(1)` (not
/// a non-device untyped of exactly `seL4_ASIDPoolBits`), `RevokeFirst` (the untyped has
/// children, `ensureNoChildren`), the destination lookup's errors (`lookupTargetSlot`),
/// `DeleteFirst` (destination not empty).
pub fn decode_make_pool<T>(
    k: &Kernel,
    is_make_pool: bool,
    args: &impl InvocationArgs,
    into: impl FnOnce(MakePool) -> T,
) -> Result<T, SyscallError> {
    if !is_make_pool {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "ASIDControl: Illegal operation."
        ));
    }
    let (Some((untyped, parent)), Some((root, _))) = (args.extra_cap(0), args.extra_cap(1)) else {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "ASIDControlMakePool: Truncated message."
        ));
    };
    if args.len() < 2 {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "ASIDControlMakePool: Truncated message."
        ));
    }
    let (index, depth) = (args.mr(0), args.mr(1));
    let Some(i) = (0..ASID_TABLE_SIZE).find(|&i| k.asid_table[i].is_none()) else {
        return Err(user_err!(
            SyscallError::DeleteFirst,
            "ASIDControlMakePool: No unallocated pools found."
        ));
    };
    let asid_base = (i << ASID_POOL_INDEX_BITS) as u16;
    let Cap::Untyped {
        ptr: frame,
        size_bits,
        is_device: false,
        ..
    } = untyped
    else {
        return Err(user_err!(
            SyscallError::InvalidCapability(1),
            "ASIDControlMakePool: Not a non-device untyped cap."
        ));
    };
    if size_bits as u64 != ASID_POOL_BITS {
        return Err(user_err!(
            SyscallError::InvalidCapability(1),
            "ASIDControlMakePool: Untyped is 2^{size_bits} bytes, not 2^{ASID_POOL_BITS}."
        ));
    }
    if has_children(parent) {
        return Err(user_err!(
            SyscallError::RevokeFirst,
            "ASIDControlMakePool: Untyped has children."
        ));
    }
    let dest = user_try!(
        lookup_target_slot(root, index, depth),
        "ASIDControlMakePool: Target slot invalid."
    );
    user_try!(
        ensure_empty_slot(dest),
        "ASIDControlMakePool: Target slot not empty."
    );
    Ok(into(MakePool {
        frame,
        dest,
        parent,
        asid_base,
    }))
}

/// The `cap_asid_pool_cap` case of seL4's MMU decoders (`seL4_<arch>_ASIDPool_Assign`; extra
/// cap: the VSpace to give an ASID) for the pool at `ptr` whose first ASID is `asid_base`
/// (the pool cap's fields).
/// `is_assign`: the label is the architecture's `ASIDPoolAssign`; `assignable`: whether the
/// extra cap (and its slot) may be given an ASID; `name`: the pool's name in the userError
/// lines (`RISCVASIDPool`, `ASIDPool`); `into`: as for [`decode_make_pool`].
///
/// Errors in order: `IllegalOperation` (label), `TruncatedMessage` (no extra cap),
/// `InvalidCapability(1)` (not assignable), `FailedLookup` (no pool in the ASID table entry
/// for this pool's base; invalid root), `InvalidCapability(0)` (the entry is another pool),
/// `DeleteFirst` (no free ASID; ASID 0 is never handed out).
// Eight arguments: a pool given as one tuple made the inlined decode path longer.
#[allow(clippy::too_many_arguments)]
pub fn decode_assign<T>(
    k: &Kernel,
    is_assign: bool,
    args: &impl InvocationArgs,
    ptr: AsidPoolRef,
    asid_base: u16,
    assignable: impl FnOnce(Cap, Slot) -> bool,
    name: &str,
    into: impl FnOnce(Assign) -> T,
) -> Result<T, SyscallError> {
    let _ = name; // Only the userError lines of debug builds use it.
    if !is_assign {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "{name}: Illegal operation."
        ));
    }
    let Some((vspace_cap, vspace_slot)) = args.extra_cap(0) else {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "{name}: Truncated message."
        ));
    };
    if !assignable(vspace_cap, vspace_slot) {
        return Err(user_err!(
            SyscallError::InvalidCapability(1),
            "{name}: Invalid vspace root."
        ));
    }
    let Some(pool) = k.asid_table[(asid_base as usize) >> ASID_POOL_INDEX_BITS].get() else {
        return Err(user_err!(
            SyscallError::FailedLookup {
                source: false,
                fault: LookupFault::InvalidRoot,
            },
            "{name}: No pool in the ASID table for ASID base {asid_base:#x}."
        ));
    };
    if pool != ptr {
        return Err(user_err!(
            SyscallError::InvalidCapability(0),
            "{name}: The ASID table holds another pool for ASID base {asid_base:#x}."
        ));
    }
    let free =
        (0..ASID_POOL_ENTRIES).find(|&i| asid_base as usize + i != 0 && pool.at(i).get().is_none());
    let Some(i) = free else {
        return Err(user_err!(
            SyscallError::DeleteFirst,
            "{name}: No free ASID in the pool."
        ));
    };
    Ok(into(Assign {
        asid: asid_base + i as u16,
        pool,
        vspace_slot,
    }))
}

/// `performASIDControlInvocation` for `m`: the untyped is used up (its free index at its
/// end), its memory zeroed and carved into the pool, the pool's cap stored in `m.dest` as a
/// child of `m.parent` by `insert_cap` (the architecture's cap for the pool at the given
/// address), and the pool entered into the ASID table.
pub fn perform_make_pool(k: &mut Kernel, m: MakePool, insert_cap: impl FnOnce(AsidPoolRef)) {
    let MakePool {
        frame,
        parent,
        asid_base,
        ..
    } = m;
    if let Cap::Untyped {
        ptr,
        size_bits,
        is_device,
        ..
    } = parent.cap()
    {
        parent.set_cap(Cap::Untyped {
            ptr,
            size_bits,
            free_index: 1 << size_bits,
            is_device,
        });
    }
    frame.zero_range(ASID_POOL_BITS as u32, 0, 1 << ASID_POOL_BITS);
    // The untyped is exactly one pool's size (the decoder checked).
    let Some(pool) = frame
        .carve(ASID_POOL_BITS as u32, 0, ASID_POOL_BITS as u32, 1)
        .and_then(|run| run.objects().next())
        .and_then(|c| c.object::<AsidPool>())
    else {
        return;
    };
    insert_cap(pool);
    k.asid_table[(asid_base as usize) >> ASID_POOL_INDEX_BITS] = Link::to(pool);
}

/// Implements `From<MakePool>` and `From<Assign>` for the architecture's `VSpaceInvocation`
/// in scope, whose `AsidControlMakePool` and `AsidPoolAssign` variants carry the fields of
/// [`MakePool`] and [`Assign`] (as fields rather than the structs, so that the enum's layout,
/// and the decode path that moves it, stay what the architecture's own variants make them).
/// The decoders' `into` is then `VSpaceInvocation::from`.
macro_rules! asid_invocations {
    () => {
        impl From<$crate::object::asid::MakePool> for VSpaceInvocation {
            #[inline(always)]
            fn from(m: $crate::object::asid::MakePool) -> Self {
                VSpaceInvocation::AsidControlMakePool {
                    frame: m.frame,
                    dest: m.dest,
                    parent: m.parent,
                    asid_base: m.asid_base,
                }
            }
        }

        impl From<$crate::object::asid::Assign> for VSpaceInvocation {
            #[inline(always)]
            fn from(a: $crate::object::asid::Assign) -> Self {
                VSpaceInvocation::AsidPoolAssign {
                    asid: a.asid,
                    pool: a.pool,
                    vspace_slot: a.vspace_slot,
                }
            }
        }
    };
}
pub(crate) use asid_invocations;
