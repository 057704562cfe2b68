//! aarch64 VSpace object invocations (seL4 `src/arch/arm/64/kernel/vspace.c`
//! `decodeARMMMUInvocation`): VSpaces (cache maintenance), page tables, frames, ASID control and
//! ASID pools, as seL4's `object-api-arch.xml` and `object-api-sel4-arch.xml` for Arm define
//! them: `seL4_ARM_VSpace_Clean_Data` .. `Unify_Instruction`, `seL4_ARM_PageTable_Map/Unmap`,
//! `seL4_ARM_Page_Map/Unmap/Clean_Data/Invalidate_Data/CleanInvalidate_Data/
//! Unify_Instruction/GetAddress`, `seL4_ARM_ASIDControl_MakePool`, `seL4_ARM_ASIDPool_Assign`;
//! and `seL4_ARM_SMC_Call` (seL4 `src/arch/arm/object/smc.c`, `CONFIG_ALLOW_SMC_CALLS`).
//!
//! As everywhere in the kernel, an invocation is decoded first ([`decode`]: every check, in
//! seL4's order, with seL4's error, and no side effect) and then performed ([`perform`]: cannot
//! fail). The decoders take the invoked cap as this architecture's [`ArchCap`] and read extra
//! caps from their slots' words, so that they run on the host in tests whatever architecture
//! the host kernel is built for; `crate::arch` wraps them for the generic `Cap`.
#![forbid(unsafe_code)]

use super::cap::{ArchCap, FrameSize, Mapping};
use super::context::reg;
use super::vspace::{self, Pte, Walk};
use crate::cap::RawCap;
use crate::cspace::LookupFault;
use crate::cte::{mdb_insert_after, Slot};
use crate::error::SyscallError;
use crate::invocation::InvocationArgs;
use crate::mem::PPtr;
use crate::object::asid;
use crate::object::cnode::{ensure_empty_slot, lookup_target_slot};
use crate::object::tcb::{TcbRef, ThreadState};
use crate::state::{get_mr, ipc_buffer_pptr, set_mr, Kernel};
use crate::{user_err, user_try};
use abi::arch::aarch64::{vm_attributes, InvocationLabel, USER_TOP};
use abi::{CapRights, MessageInfo};
use vspace::{AsidPoolRef, PtRef};

/// A cache maintenance operation (seL4 `doFlush`), by the invocation label that asks for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOp {
    /// `Clean_Data`: `dc cvac` (clean to the point of coherency).
    CleanData,
    /// `Invalidate_Data`: `dc ivac`.
    InvalidateData,
    /// `CleanInvalidate_Data`: `dc civac`.
    CleanInvalidateData,
    /// `Unify_Instruction`: `dc cvau` then `ic ivau` (the instruction cache sees the data).
    UnifyInstruction,
}

impl CacheOp {
    /// The operation of a VSpace or Page flush label, if it is one.
    pub const fn of(label: InvocationLabel) -> Option<CacheOp> {
        use InvocationLabel as L;
        Some(match label {
            L::ARMVSpaceClean_Data | L::ARMPageClean_Data => CacheOp::CleanData,
            L::ARMVSpaceInvalidate_Data | L::ARMPageInvalidate_Data => CacheOp::InvalidateData,
            L::ARMVSpaceCleanInvalidate_Data | L::ARMPageCleanInvalidate_Data => {
                CacheOp::CleanInvalidateData
            }
            L::ARMVSpaceUnify_Instruction | L::ARMPageUnify_Instruction => {
                CacheOp::UnifyInstruction
            }
            _ => return None,
        })
    }
}

/// A checked VSpace invocation, ready to perform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VSpaceInvocation {
    /// `performPageTableInvocationMap`: store `cap` (now mapped) in `slot` and write `pte` (a
    /// pointer to the table) into the parent's entry `pt_slot`.
    PageTableMap {
        /// The page table's cap, mapped.
        cap: ArchCap,
        /// Its slot.
        slot: Slot,
        /// The table descriptor.
        pte: Pte,
        /// Where it goes.
        pt_slot: PPtr<Pte>,
        /// The VSpace's ASID.
        asid: u16,
    },
    /// `performPageTableInvocationUnmap`: unhook the table from its parent, clear it, and mark
    /// the cap in `slot` unmapped.
    PageTableUnmap {
        /// The page table's cap.
        cap: ArchCap,
        /// Its slot.
        slot: Slot,
    },
    /// `performPageInvocationMap`: store `cap` (now mapped) in `slot` and write `pte` into the
    /// entry `pt_slot` for `vaddr` of `asid` (replacing whatever was there).
    PageMap {
        /// The frame's cap, mapped.
        cap: ArchCap,
        /// Its slot.
        slot: Slot,
        /// The leaf descriptor.
        pte: Pte,
        /// Where it goes.
        pt_slot: PPtr<Pte>,
        /// The VSpace's ASID.
        asid: u16,
        /// The mapping's address.
        vaddr: u64,
    },
    /// `performPageInvocationUnmap`: remove the frame's mapping if it is still there and mark
    /// the cap in `slot` unmapped.
    PageUnmap {
        /// The frame's cap.
        cap: ArchCap,
        /// Its slot.
        slot: Slot,
    },
    /// `performVSpaceFlush`/`performPageFlush`: cache maintenance of the user addresses
    /// `start..=end` of the VSpace `vspace` (ASID `asid`), which map physical `pstart..`.
    Flush {
        /// What to do.
        op: CacheOp,
        /// The VSpace whose addresses are used.
        vspace: PtRef,
        /// Its ASID.
        asid: u16,
        /// First user address.
        start: u64,
        /// Last user address (inclusive).
        end: u64,
        /// The physical address `start` maps.
        pstart: u64,
    },
    /// A VSpace flush of an address no frame maps: nothing to do (seL4 succeeds silently).
    Nothing,
    /// `invokeSGISignalGenerate`: raise SGI `irq` at the CPU interface `target`
    /// (`plat_sendSGI`).
    SgiGenerate {
        /// The SGI's INTID (below `NUM_SGIS`).
        irq: u8,
        /// The target CPU interface (below `GIC_SGI_NUM_TARGETS`).
        target: u32,
    },
    /// `invokeSMCCall`: make the Secure Monitor Call with the caller's message registers 0..8
    /// as x0..x7 (read again here, unchanged since decoding) and, for a Call, reply with
    /// x0..x7 as it returns them.
    SmcCall,
    /// `performPageGetAddress`: reply with the frame's physical address.
    PageGetAddress {
        /// The frame's physical address.
        paddr: u64,
    },
    /// `performASIDControlInvocation`: [`asid::MakePool`]'s fields (kept as fields, not the
    /// struct, so that this enum's layout, and the code that moves it, stay as they were).
    AsidControlMakePool {
        frame: PPtr<crate::mem::UntypedMemory>,
        dest: Slot,
        parent: Slot,
        asid_base: u16,
    },
    /// `performASIDPoolInvocation`: give the VSpace whose cap is in `vspace_slot` the ASID
    /// `asid` of the pool at `pool` (`crate::object::asid`; [`asid::Assign`]'s fields).
    AsidPoolAssign {
        asid: u16,
        pool: asid::AsidPoolRef,
        vspace_slot: Slot,
    },
}

asid::asid_invocations!();

/// This architecture's cap in a slot (the generic decoder only knows the current
/// architecture's).
#[inline(always)]
fn arch_cap_in(slot: Slot) -> Option<ArchCap> {
    let r: RawCap = slot.raw();
    ArchCap::decode(r.tag(), r)
}

/// The VSpace cap of extra cap `i` if it is one with an ASID (`isValidNativeRoot`): its base
/// and ASID.
fn native_root(args: &impl InvocationArgs, i: usize) -> Option<(PtRef, u16)> {
    let slot = args.extra_slot(i)?;
    match arch_cap_in(slot)? {
        ArchCap::VSpace {
            base,
            asid: Some(asid),
        } => Some((base, asid)),
        _ => None,
    }
}

/// `findVSpaceForASID` as the decoders use it: the failed lookup is reported as
/// `FailedLookup` (destination side) with an invalid-root lookup fault. Says nothing: the
/// callers say why.
fn find_vspace(k: &Kernel, asid: u16) -> Result<PtRef, SyscallError> {
    vspace::find_vspace_for_asid(k, asid).ok_or(SyscallError::FailedLookup {
        source: false,
        fault: LookupFault::InvalidRoot,
    })
}

/// `decodeARMMMUInvocation(label, length, cptr, cte, cap, call, buffer)`: checks an invocation
/// of `cap` (in `slot`) and returns what to do. Errors are seL4's, in seL4's order; see the
/// per-type functions.
pub fn decode(
    k: &Kernel,
    label: InvocationLabel,
    args: &impl InvocationArgs,
    cap: ArchCap,
    slot: Slot,
) -> Result<VSpaceInvocation, SyscallError> {
    match cap {
        ArchCap::VSpace { base, asid } => decode_vspace(k, label, args, base, asid),
        ArchCap::PageTable { base, mapped } => {
            decode_page_table(k, label, args, base, mapped, slot)
        }
        ArchCap::Frame { .. } => decode_frame(k, label, args, cap, slot),
        ArchCap::AsidControl => decode_asid_control(k, label, args),
        ArchCap::AsidPool { ptr, asid_base } => decode_asid_pool(k, label, args, ptr, asid_base),
        // seL4 `decodeSGISignalInvocation`: any label raises the SGI (the cap is used like a
        // notification cap that only signals).
        ArchCap::SgiSignal { irq, target } => Ok(VSpaceInvocation::SgiGenerate { irq, target }),
        ArchCap::Smc { badge } => decode_smc(label, args, badge),
    }
}

/// Number of registers an SMC takes and returns (x0..x7: seL4 `NUM_SMC_REGS`).
pub const NUM_SMC_REGS: usize = 8;

/// seL4 `decodeARMSMCInvocation`: `seL4_ARM_SMC_Call(smc, args, response)` with the
/// `seL4_ARM_SMCContext` x0..x7 in MRs 0..8.
///
/// Errors in seL4's order: `IllegalOperation` (not `ARMSMCCall`), `TruncatedMessage` (fewer
/// than 8 words), `IllegalOperation` (a badged cap and a function ID, MR 0, other than the
/// badge).
pub fn decode_smc(
    label: InvocationLabel,
    args: &impl InvocationArgs,
    badge: u64,
) -> Result<VSpaceInvocation, SyscallError> {
    if label != InvocationLabel::ARMSMCCall {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "ARMSMCInvocation: Illegal operation."
        ));
    }
    if args.len() < NUM_SMC_REGS {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "ARMSMCCall: Truncated message."
        ));
    }
    if badge != 0 && badge != args.mr(0) {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "ARMSMCCall: Illegal operation."
        ));
    }
    Ok(VSpaceInvocation::SmcCall)
}

/// seL4 `Arch_decodeIRQControlInvocation`'s `ARMIRQIssueSGISignal` case (non-SMP GICv2): MRs
/// the SGI, the target CPU, the destination's index and depth; extra cap the destination's
/// root CNode. Returns the SGI signal cap to make and the empty destination slot.
///
/// Errors in seL4's order: `TruncatedMessage` (fewer than 4 words or no root cap),
/// `RangeError(0, NUM_SGIS - 1)` (the SGI), `InvalidArgument(1)` (a target past
/// `GIC_SGI_NUM_TARGETS - 1`), the destination lookup's errors, `DeleteFirst`.
pub fn decode_issue_sgi_signal(
    args: &impl InvocationArgs,
) -> Result<(ArchCap, Slot), SyscallError> {
    use abi::platform::qemu_arm_virt::{GIC_SGI_NUM_TARGETS, NUM_SGIS};
    let Some((root, _)) = args.extra_cap(0).filter(|_| args.len() >= 4) else {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "IRQControl: IssueSGISignal: Truncated message."
        ));
    };
    let (irq, target) = (args.mr(0), args.mr(1));
    if irq >= NUM_SGIS as u64 {
        return Err(user_err!(
            SyscallError::RangeError(0, NUM_SGIS as u64 - 1),
            "IRQControl: IssueSGISignal: Invalid SGI IRQ {irq:#x}."
        ));
    }
    if target > GIC_SGI_NUM_TARGETS as u64 - 1 {
        return Err(user_err!(
            SyscallError::InvalidArgument(1),
            "IRQControl: IssueSGISignal: Invalid SGI Target {target:#x}."
        ));
    }
    let dest = user_try!(
        lookup_target_slot(root, args.mr(2), args.mr(3)),
        "IRQControl: IssueSGISignal: Target slot for new ARM_SGI_Signal cap invalid: cap {}.",
        args.extra_cptr(0)
    );
    user_try!(
        ensure_empty_slot(dest),
        "IRQControl: IssueSGISignal: Target slot for new ARM_SGI_Signal cap not empty: cap {}.",
        args.extra_cptr(0)
    );
    Ok((
        ArchCap::SgiSignal {
            irq: irq as u8,
            target: target as u32,
        },
        dest,
    ))
}

/// seL4 `decodeARMVSpaceRootInvocation` (`seL4_ARM_VSpace_*`: MRs start, end, user
/// addresses, end exclusive).
///
/// Errors in order: `IllegalOperation` (not a flush label), `TruncatedMessage` (fewer than 2
/// words), `InvalidArgument(1)` (`end <= start`), `IllegalOperation` (`end > seL4_UserTop`),
/// `InvalidCapability(0)` (no ASID), `FailedLookup` (the ASID has no VSpace),
/// `InvalidCapability(0)` (it has another one), then: no frame maps `start` is success with
/// nothing to do; `RangeError(start, end of its frame)` if the range leaves the frame;
/// `IllegalOperation` to invalidate through a mapping without write rights.
fn decode_vspace(
    k: &Kernel,
    label: InvocationLabel,
    args: &impl InvocationArgs,
    base: PtRef,
    asid: Option<u16>,
) -> Result<VSpaceInvocation, SyscallError> {
    let Some(op) = CacheOp::of(label).filter(|_| {
        matches!(
            label,
            InvocationLabel::ARMVSpaceClean_Data
                | InvocationLabel::ARMVSpaceInvalidate_Data
                | InvocationLabel::ARMVSpaceCleanInvalidate_Data
                | InvocationLabel::ARMVSpaceUnify_Instruction
        )
    }) else {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "ARMVSpace: Illegal operation."
        ));
    };
    if args.len() < 2 {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "VSpaceRoot Flush: Truncated message."
        ));
    }
    let (start, end) = (args.mr(0), args.mr(1));
    if end <= start {
        return Err(user_err!(
            SyscallError::InvalidArgument(1),
            "VSpaceRoot Flush: Invalid range."
        ));
    }
    if end > USER_TOP {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "VSpaceRoot Flush: Exceed the user addressable region."
        ));
    }
    let Some(asid) = asid else {
        return Err(user_err!(
            SyscallError::InvalidCapability(0),
            "VSpaceRoot Flush: VSpace has no ASID."
        ));
    };
    let root = user_try!(find_vspace(k, asid), "VSpaceRoot Flush: No VSpace for ASID");
    if root != base {
        return Err(user_err!(
            SyscallError::InvalidCapability(0),
            "VSpaceRoot Flush: Invalid VSpace Cap"
        ));
    }
    let w = vspace::lookup_pt_slot(root, start);
    let pte = w.slot.get();
    if !pte.is_page_at(w.level) {
        return Ok(VSpaceInvocation::Nothing);
    }
    let bits = w.bits_left();
    let frame_start = start & !((1u64 << bits) - 1);
    if frame_start != (end - 1) & !((1u64 << bits) - 1) {
        let last = frame_start + ((1u64 << bits) - 1);
        return Err(user_err!(
            SyscallError::RangeError(start, last),
            "VSpaceRoot Flush: cannot cross page boundary, valid range is [{start:#x}..{last:#x})"
        ));
    }
    if op == CacheOp::InvalidateData && pte.ap() != vspace::AP_READ_WRITE {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "ARMVSpaceInvalidate_Data: Cannot call on mapping without write rights."
        ));
    }
    Ok(VSpaceInvocation::Flush {
        op,
        vspace: root,
        asid,
        start,
        end: end - 1,
        pstart: pte.paddr() + (start & ((1u64 << bits) - 1)),
    })
}

/// seL4 `decodeARMPageTableInvocation`.
///
/// - `ARMPageTableUnmap`: `RevokeFirst` if other caps to the table exist
///   (`isFinalCapability`).
/// - otherwise `IllegalOperation` unless `ARMPageTableMap` (MRs vaddr, attributes; extra
///   cap: the VSpace); then `TruncatedMessage` (fewer than 2 words or no cap),
///   `InvalidCapability(0)` (the table is mapped already), `InvalidCapability(1)` (not a VSpace
///   with an ASID), `InvalidArgument(0)` (`vaddr > seL4_UserTop`), `FailedLookup` (the ASID has
///   no VSpace), `InvalidCapability(1)` (it has another one), `DeleteFirst` (the walk reached a
///   4 KiB slot, or the entry found is valid). The attributes are not used.
fn decode_page_table(
    k: &Kernel,
    label: InvocationLabel,
    args: &impl InvocationArgs,
    base: PtRef,
    mapped: Option<Mapping>,
    slot: Slot,
) -> Result<VSpaceInvocation, SyscallError> {
    let cap = ArchCap::PageTable { base, mapped };
    if label == InvocationLabel::ARMPageTableUnmap {
        if !crate::cte::is_final_cap(slot) {
            return Err(user_err!(
                SyscallError::RevokeFirst,
                "ARMPageTableUnmap: cannot unmap if more than one cap exists"
            ));
        }
        return Ok(VSpaceInvocation::PageTableUnmap { cap, slot });
    }
    if label != InvocationLabel::ARMPageTableMap {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "ARMPageTable: Illegal operation."
        ));
    }
    if args.len() < 2 || args.extra_slot(0).is_none() {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "ARMPageTableMap: Truncated message."
        ));
    }
    if mapped.is_some() {
        return Err(user_err!(
            SyscallError::InvalidCapability(0),
            "ARMPageTableMap: Page table is already mapped."
        ));
    }
    let vaddr = args.mr(0);
    let Some((root, asid)) = native_root(args, 0) else {
        return Err(user_err!(
            SyscallError::InvalidCapability(1),
            "ARMPageTableMap: Invalid VSpace cap."
        ));
    };
    if vaddr > USER_TOP {
        return Err(user_err!(
            SyscallError::InvalidArgument(0),
            "ARMPageTableMap: Virtual address {vaddr:#x} is above seL4_UserTop."
        ));
    }
    let found = user_try!(find_vspace(k, asid), "ARMPageTableMap: No VSpace for ASID");
    if found != root {
        return Err(user_err!(
            SyscallError::InvalidCapability(1),
            "ARMPageTableMap: ASID lookup failed."
        ));
    }
    let w = vspace::lookup_pt_slot(root, vaddr);
    if w.level == vspace::LAST_LEVEL || w.slot.get().valid() {
        return Err(user_err!(
            SyscallError::DeleteFirst,
            "ARMPageTableMap: Something is already mapped at {vaddr:#x}."
        ));
    }
    Ok(VSpaceInvocation::PageTableMap {
        cap: ArchCap::PageTable {
            base,
            mapped: Some(Mapping {
                asid,
                vaddr: vaddr & !((1u64 << w.bits_left()) - 1),
            }),
        },
        slot,
        pte: Pte::table(base),
        pt_slot: w.slot,
        asid,
    })
}

/// seL4 `decodeARMFrameInvocation`.
///
/// - `ARMPageMap` (MRs vaddr, rights, attributes; extra cap: the VSpace): `TruncatedMessage`
///   (fewer than 3 words or no cap), `InvalidCapability(1)` (not a VSpace with an ASID),
///   `FailedLookup` (the ASID has no VSpace), `InvalidCapability(1)` (it has another one),
///   `AlignmentError` (vaddr not aligned to the frame); a mapped frame (a remap):
///   `InvalidCapability(1)` (other ASID), `InvalidArgument(0)` (other vaddr); an unmapped one:
///   `InvalidArgument(0)` if it would pass `seL4_UserTop`; then `FailedLookup` with a
///   missing-capability fault of the bits the walk left (no table at the frame's level).
///   Whatever the entry held is replaced. Rights are `maskVMRights(cap rights, rights)`;
///   cacheable and executable from the attributes.
/// - `ARMPageUnmap`, `ARMPageGetAddress`: no checks.
/// - `ARMPage{Clean,Invalidate,CleanInvalidate}_Data`, `ARMPageUnify_Instruction` (MRs start,
///   end: offsets in the frame): `TruncatedMessage`, `IllegalOperation` (not mapped),
///   `FailedLookup` (its ASID has no VSpace), `InvalidArgument(1)` (`end <= start`),
///   `InvalidArgument(0)` (outside the frame), `InvalidCapability(0)` (the cap's mapping is
///   stale), `IllegalOperation` (invalidate through a mapping without write rights).
/// - anything else: `IllegalOperation`.
fn decode_frame(
    k: &Kernel,
    label: InvocationLabel,
    args: &impl InvocationArgs,
    cap: ArchCap,
    slot: Slot,
) -> Result<VSpaceInvocation, SyscallError> {
    let ArchCap::Frame {
        base,
        size,
        rights,
        is_device,
        mapped,
    } = cap
    else {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "ARMPage: Illegal operation."
        ));
    };
    match label {
        InvocationLabel::ARMPageMap => {
            if args.len() < 3 || args.extra_slot(0).is_none() {
                return Err(user_err!(
                    SyscallError::TruncatedMessage,
                    "ARMPageMap: Truncated message."
                ));
            }
            let (vaddr, rights_mask, attr) = (args.mr(0), CapRights(args.mr(1)), args.mr(2));
            let vm_rights = rights.mask(rights_mask);
            let Some((root, asid)) = native_root(args, 0) else {
                return Err(user_err!(
                    SyscallError::InvalidCapability(1),
                    "ARMPageMap: Invalid VSpace cap."
                ));
            };
            let found = user_try!(find_vspace(k, asid), "ARMPageMap: No VSpace for ASID");
            if found != root {
                return Err(user_err!(
                    SyscallError::InvalidCapability(1),
                    "ARMPageMap: ASID lookup failed."
                ));
            }
            let frame_mask = (1u64 << size.bits()) - 1;
            if vaddr & frame_mask != 0 {
                return Err(user_err!(
                    SyscallError::AlignmentError,
                    "ARMPageMap: Virtual address {vaddr:#x} not aligned to the frame size ({} bits).",
                    size.bits()
                ));
            }
            match mapped {
                Some(m) if m.asid != asid => {
                    return Err(user_err!(
                        SyscallError::InvalidCapability(1),
                        "ARMPageMap: Attempting to remap a frame that does not belong to the passed address space"
                    ));
                }
                Some(m) if m.vaddr != vaddr => {
                    return Err(user_err!(
                        SyscallError::InvalidArgument(0),
                        "ARMPageMap: Attempting to map frame into multiple addresses"
                    ));
                }
                Some(_) => {}
                // seL4 adds with word arithmetic; an aligned vaddr cannot wrap.
                None if vaddr.wrapping_add(frame_mask) > USER_TOP => {
                    return Err(user_err!(
                        SyscallError::InvalidArgument(0),
                        "ARMPageMap: Frame at {vaddr:#x} would pass seL4_UserTop."
                    ));
                }
                None => {}
            }
            let w = vspace::lookup_pt_slot(root, vaddr);
            if w.bits_left() != size.bits() {
                return Err(user_err!(
                    SyscallError::FailedLookup {
                        source: false,
                        fault: LookupFault::MissingCapability {
                            bits_left: w.bits_left(),
                        },
                    },
                    "ARMPageMap: No page table at the frame's level for {vaddr:#x} ({} bits left).",
                    w.bits_left()
                ));
            }
            Ok(VSpaceInvocation::PageMap {
                cap: ArchCap::Frame {
                    base,
                    size,
                    rights,
                    is_device,
                    mapped: Some(Mapping { asid, vaddr }),
                },
                slot,
                pte: Pte::user(
                    crate::arch::pptr_to_paddr(base.addr()),
                    vm_rights,
                    attr & vm_attributes::PAGE_CACHEABLE != 0,
                    attr & vm_attributes::EXECUTE_NEVER != 0,
                    size,
                ),
                pt_slot: w.slot,
                asid,
                vaddr,
            })
        }
        InvocationLabel::ARMPageUnmap => Ok(VSpaceInvocation::PageUnmap { cap, slot }),
        InvocationLabel::ARMPageGetAddress => Ok(VSpaceInvocation::PageGetAddress {
            paddr: crate::arch::pptr_to_paddr(base.addr()),
        }),
        l => match CacheOp::of(l) {
            Some(op) => decode_page_flush(k, op, args, base, size, mapped),
            None => Err(user_err!(
                SyscallError::IllegalOperation,
                "ARMPage: Illegal operation."
            )),
        },
    }
}

/// The flush cases of seL4 `decodeARMFrameInvocation` (see [`decode_frame`]).
fn decode_page_flush(
    k: &Kernel,
    op: CacheOp,
    args: &impl InvocationArgs,
    base: PPtr<crate::mem::FrameMemory>,
    size: FrameSize,
    mapped: Option<Mapping>,
) -> Result<VSpaceInvocation, SyscallError> {
    if args.len() < 2 {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "Page Flush: Truncated message."
        ));
    }
    let Some(m) = mapped else {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "Page Flush: Frame is not mapped."
        ));
    };
    let root = user_try!(find_vspace(k, m.asid), "Page Flush: No PGD for ASID");
    let (start, end) = (args.mr(0), args.mr(1));
    if end <= start {
        return Err(user_err!(
            SyscallError::InvalidArgument(1),
            "PageFlush: Invalid range"
        ));
    }
    let page_size = 1u64 << size.bits();
    if start >= page_size || end > page_size {
        return Err(user_err!(
            SyscallError::InvalidArgument(0),
            "Page Flush: Requested range not inside page"
        ));
    }
    let paddr = crate::arch::pptr_to_paddr(base.addr());
    let w: Walk = vspace::lookup_pt_slot(root, m.vaddr);
    let pte = w.slot.get();
    if w.bits_left() != size.bits() || !pte.is_page_at(w.level) || pte.paddr() != paddr {
        return Err(user_err!(
            SyscallError::InvalidCapability(0),
            "Page Flush: Attempting to use cap with stale mapping information."
        ));
    }
    if op == CacheOp::InvalidateData && pte.ap() != vspace::AP_READ_WRITE {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "ARMPageInvalidate_Data: Cannot call on mapping without write rights."
        ));
    }
    Ok(VSpaceInvocation::Flush {
        op,
        vspace: root,
        asid: m.asid,
        start: m.vaddr + start,
        end: m.vaddr + end - 1,
        pstart: paddr + start,
    })
}

/// The `cap_asid_control_cap` case of seL4 `decodeARMMMUInvocation`
/// (`seL4_ARM_ASIDControl_MakePool`): see [`asid::decode_make_pool`].
fn decode_asid_control(
    k: &Kernel,
    label: InvocationLabel,
    args: &impl InvocationArgs,
) -> Result<VSpaceInvocation, SyscallError> {
    let is_make_pool = label == InvocationLabel::ARMASIDControlMakePool;
    asid::decode_make_pool(k, is_make_pool, args, VSpaceInvocation::from)
}

/// The `cap_asid_pool_cap` case of seL4 `decodeARMMMUInvocation`
/// (`seL4_ARM_ASIDPool_Assign`; extra cap: a VSpace without an ASID): see
/// [`asid::decode_assign`].
fn decode_asid_pool(
    k: &Kernel,
    label: InvocationLabel,
    args: &impl InvocationArgs,
    ptr: AsidPoolRef,
    asid_base: u16,
) -> Result<VSpaceInvocation, SyscallError> {
    let is_assign = label == InvocationLabel::ARMASIDPoolAssign;
    let no_asid = |_, slot| matches!(arch_cap_in(slot), Some(ArchCap::VSpace { asid: None, .. }));
    asid::decode_assign(
        k,
        is_assign,
        args,
        ptr,
        asid_base,
        no_asid,
        "ASIDPool",
        VSpaceInvocation::from,
    )
}

/// Stores this architecture's cap `c` in `slot`, leaving the MDB node as it is.
fn set_arch_cap(slot: Slot, c: ArchCap) {
    slot.set_raw(c.encode());
}

/// Performs a decoded VSpace invocation for `thread` (already in `Restart`): seL4's
/// `performPageTableInvocationMap/Unmap`, `performPageInvocationMap/Unmap`,
/// `performVSpaceFlush`, `performPageFlush`, `performPageGetAddress`,
/// `performASIDControlInvocation` and `performASIDPoolInvocation`. `is_call`: the invocation
/// came with `seL4_Call`, so GetAddress replies.
///
/// TLB maintenance: a replaced valid leaf is flushed by address and ASID; a newly valid one
/// only needs its write to reach the table walker before the thread runs (`dsb ishst`; a TLB
/// never holds an invalid entry), as seL4's `performPageInvocationMap` flushes only when the
/// old entry was valid. A changed table entry is flushed by ASID.
#[inline(always)]
pub fn perform(k: &mut Kernel, inv: &VSpaceInvocation, thread: TcbRef, is_call: bool) {
    match *inv {
        VSpaceInvocation::PageTableMap {
            cap,
            slot,
            pte,
            pt_slot,
            asid,
        } => {
            set_arch_cap(slot, cap);
            pt_slot.set(pte);
            crate::arch::flush_asid(asid);
        }
        VSpaceInvocation::PageTableUnmap { cap, slot } => {
            let ArchCap::PageTable { base, mapped } = cap else {
                return;
            };
            if let Some(m) = mapped {
                vspace::unmap_page_table(k, m.asid, m.vaddr, base);
                vspace::clear_page_table(base);
            }
            set_arch_cap(slot, ArchCap::PageTable { base, mapped: None });
        }
        VSpaceInvocation::PageMap {
            cap,
            slot,
            pte,
            pt_slot,
            asid,
            vaddr,
        } => {
            let replaced = pt_slot.get().valid();
            set_arch_cap(slot, cap);
            pt_slot.set(pte);
            if replaced {
                crate::arch::flush_page(vaddr, asid);
            } else {
                #[cfg(all(target_arch = "aarch64", target_os = "none"))]
                super::machine::pte_barrier();
            }
        }
        VSpaceInvocation::PageUnmap { cap, slot } => {
            let ArchCap::Frame {
                base,
                size,
                rights,
                is_device,
                mapped,
            } = cap
            else {
                return;
            };
            if let Some(m) = mapped {
                vspace::unmap_page(k, size, m.asid, m.vaddr, base);
            }
            set_arch_cap(
                slot,
                ArchCap::Frame {
                    base,
                    size,
                    rights,
                    is_device,
                    mapped: None,
                },
            );
        }
        VSpaceInvocation::Flush {
            op,
            vspace,
            asid,
            start,
            end,
            pstart,
        } => super::hw::flush_user_range(k, thread, op, vspace, asid, start, end, pstart),
        VSpaceInvocation::Nothing => {}
        VSpaceInvocation::SgiGenerate { irq, target } => super::hw::send_sgi(irq, target),
        VSpaceInvocation::SmcCall => {
            let buffer = ipc_buffer_pptr(thread, false);
            let mut regs = [0u64; NUM_SMC_REGS];
            for (i, r) in regs.iter_mut().enumerate() {
                *r = get_mr(thread, buffer, i);
            }
            let out = super::hw::smc_call(regs);
            if is_call {
                let buffer = ipc_buffer_pptr(thread, true);
                thread.set_reg(reg::X0, 0);
                for (i, r) in out.iter().enumerate() {
                    set_mr(thread, buffer, i, *r);
                }
                // seL4: all eight with an IPC buffer, the registers' four without.
                let len = if buffer.is_some() {
                    NUM_SMC_REGS
                } else {
                    abi::message::FAST_MESSAGE_REGISTERS
                };
                thread.set_reg(reg::X1, MessageInfo::new(0, 0, 0, len as u64).0);
            }
            thread.set_state(ThreadState::Running);
        }
        VSpaceInvocation::PageGetAddress { paddr } => {
            if is_call {
                let buffer = ipc_buffer_pptr(thread, true);
                thread.set_reg(reg::X0, 0);
                let len = set_mr(thread, buffer, 0, paddr) as u64;
                thread.set_reg(reg::X1, MessageInfo::new(0, 0, 0, len).0);
            }
            thread.set_state(ThreadState::Running);
        }
        VSpaceInvocation::AsidControlMakePool {
            frame,
            dest,
            parent,
            asid_base,
        } => {
            let m = asid::MakePool {
                frame,
                dest,
                parent,
                asid_base,
            };
            asid::perform_make_pool(k, m, |ptr| {
                // `cteInsert`: an ASID pool cap is never revocable (`isCapRevocable` is false
                // for the architecture's caps).
                let pool = ArchCap::AsidPool { ptr, asid_base }.encode();
                mdb_insert_after(pool, false, parent, dest);
            })
        }
        VSpaceInvocation::AsidPoolAssign {
            asid,
            pool,
            vspace_slot,
        } => {
            let Some(ArchCap::VSpace { base, .. }) = arch_cap_in(vspace_slot) else {
                return;
            };
            set_arch_cap(
                vspace_slot,
                ArchCap::VSpace {
                    base,
                    asid: Some(asid),
                },
            );
            vspace::asid_pool_entry(pool, asid as usize)
                .set(crate::mem::Link::to(base.as_vspace_root()));
            // Not in seL4: drop any translations a previous holder of this ASID left (e.g. one
            // whose pool was deleted with the VSpace still assigned).
            crate::arch::flush_asid(asid);
        }
    }
}
