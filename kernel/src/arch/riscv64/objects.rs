//! RISC-V VSpace object invocations (seL4 `src/arch/riscv/kernel/vspace.c`
//! `decodeRISCVMMUInvocation`): page tables, frames, ASID control and ASID pools.
//!
//! As everywhere in the kernel, an invocation is decoded first ([`decode`]: every check, in
//! seL4's order, with seL4's error, and no side effect) and then performed ([`perform`]: cannot
//! fail). The user-visible interface is seL4's `object-api-arch.xml` for RISC-V:
//! `seL4_RISCV_PageTable_Map/Unmap`, `seL4_RISCV_Page_Map/Unmap/GetAddress`,
//! `seL4_RISCV_ASIDControl_MakePool` and `seL4_RISCV_ASIDPool_Assign`.
#![forbid(unsafe_code)]

use super::cap::{ArchCap, Mapping};
use crate::arch::riscv64::context::reg;
use crate::arch::riscv64::vspace::{self, PtRef, Pte};
use crate::cap::{Cap, RawCap};
use crate::cspace::LookupFault;
use crate::cte::{cte_insert, Slot};
use crate::error::SyscallError;
use crate::mem::{Link, PPtr};
use crate::object::asid;
use crate::object::cnode::InvocationArgs;
use crate::object::tcb::{TcbRef, ThreadState};
use crate::state::{ipc_buffer_pptr, set_mr, Kernel};
use crate::{user_err, user_try};
use abi::object::USER_TOP;
use abi::{CapRights, InvocationLabel, MessageInfo};

/// `seL4_RISCV_ExecuteNever`: the only bit of `seL4_RISCV_VMAttributes` (seL4
/// `vm_attributes.riscvExecuteNever`, `structures.bf`).
pub const VM_ATTR_EXECUTE_NEVER: u64 = 1;

/// A checked VSpace invocation, ready to perform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VSpaceInvocation {
    /// `performPageTableInvocationMap`: store `cap` (now mapped) in `slot` and write `pte` (a
    /// pointer to the table) into the parent table entry `pt_slot`.
    PageTableMap {
        cap: Cap,
        slot: Slot,
        pte: Pte,
        pt_slot: PPtr<Pte>,
        asid: u16,
    },
    /// `performPageTableInvocationUnmap`: unlink the table from its parent, clear it, and mark
    /// the cap in `slot` unmapped.
    PageTableUnmap { cap: Cap, slot: Slot },
    /// `performPageInvocationMapPTE`: store `cap` (now mapped) in `slot` and write `pte` into
    /// the leaf entry `pt_slot` for `vaddr` of `asid`.
    PageMap {
        cap: Cap,
        slot: Slot,
        pte: Pte,
        pt_slot: PPtr<Pte>,
        asid: u16,
        vaddr: u64,
    },
    /// `performPageInvocationUnmap`: remove the frame's mapping if it is still there and mark
    /// the cap in `slot` unmapped.
    PageUnmap { cap: Cap, slot: Slot },
    /// `performPageGetAddress`: reply with the frame's physical address.
    PageGetAddress { paddr: u64 },
    /// `performASIDControlInvocation`: [`asid::MakePool`]'s fields (kept as fields, not the
    /// struct, so that this enum's layout, and the code that moves it, stay as they were).
    AsidControlMakePool {
        frame: PPtr<crate::mem::UntypedMemory>,
        dest: Slot,
        parent: Slot,
        asid_base: u16,
    },
    /// `performASIDPoolInvocation`: make the page table whose cap is in `vspace_slot` the
    /// VSpace root of `asid`, in the pool at `pool` (`crate::object::asid`; [`asid::Assign`]'s fields).
    AsidPoolAssign {
        asid: u16,
        pool: asid::AsidPoolRef,
        vspace_slot: Slot,
    },
}

asid::asid_invocations!();

/// `decodeRISCVMMUInvocation(label, length, cptr, cte, cap, call, buffer)`: checks an
/// invocation of `cap` (in `slot`) and returns what to do. Errors are seL4's, in seL4's order;
/// see the per-type functions.
pub fn decode(
    k: &Kernel,
    label: InvocationLabel,
    args: &impl InvocationArgs,
    cap: Cap,
    slot: Slot,
) -> Result<VSpaceInvocation, SyscallError> {
    match cap {
        Cap::Arch(ArchCap::PageTable { .. }) => decode_page_table(k, label, args, cap, slot),
        Cap::Arch(ArchCap::Frame { .. }) => decode_frame(k, label, args, cap, slot),
        Cap::Arch(ArchCap::AsidControl) => decode_asid_control(k, label, args),
        Cap::Arch(ArchCap::AsidPool { .. }) => decode_asid_pool(k, label, args, cap),
        // seL4 `fail`s here ("Invalid arch cap type"); the syscall layer only passes the four
        // VSpace cap types, so refuse anything else harmlessly.
        _ => Err(user_err!(
            SyscallError::IllegalOperation,
            "Invalid arch cap type"
        )),
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

/// seL4 `decodeRISCVPageTableInvocation`.
///
/// - `RISCVPageTableUnmap` (checked before the label test): `RevokeFirst` if other caps to
///   the table exist (`isFinalCapability`), or if it is the root of a live VSpace.
/// - otherwise `IllegalOperation` unless `RISCVPageTableMap`; then `TruncatedMessage` (fewer
///   than 2 words or no VSpace cap), `InvalidCapability(0)` (the table is already mapped),
///   `InvalidCapability(1)` (extra cap not a mapped page table), `InvalidArgument(0)`
///   (`vaddr >= USER_TOP`), `FailedLookup` (its ASID has no VSpace; invalid root),
///   `InvalidCapability(1)` (the ASID's VSpace is another table), `DeleteFirst` (the walk
///   reached level 0, or the entry found is valid).
fn decode_page_table(
    k: &Kernel,
    label: InvocationLabel,
    args: &impl InvocationArgs,
    cap: Cap,
    slot: Slot,
) -> Result<VSpaceInvocation, SyscallError> {
    let Cap::Arch(ArchCap::PageTable { base, mapped }) = cap else {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "RISCVPageTable: Illegal Operation"
        ));
    };
    if label == InvocationLabel::RISCVPageTableUnmap {
        if !crate::cte::is_final_cap(slot) {
            return Err(user_err!(
                SyscallError::RevokeFirst,
                "RISCVPageTableUnmap: cannot unmap if more than once cap exists"
            ));
        }
        if let Some(m) = mapped {
            if vspace::find_vspace_for_asid(k, m.asid) == Some(base) {
                return Err(user_err!(
                    SyscallError::RevokeFirst,
                    "RISCVPageTableUnmap: cannot call unmap on top level PageTable"
                ));
            }
        }
        return Ok(VSpaceInvocation::PageTableUnmap { cap, slot });
    }
    if label != InvocationLabel::RISCVPageTableMap {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "RISCVPageTable: Illegal Operation"
        ));
    }
    let Some((root_cap, _)) = args.extra_cap(0).filter(|_| args.len() >= 2) else {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "RISCVPageTable: truncated message"
        ));
    };
    if mapped.is_some() {
        return Err(user_err!(
            SyscallError::InvalidCapability(0),
            "RISCVPageTable: PageTable is already mapped."
        ));
    }
    let vaddr = args.mr(0);
    let Cap::Arch(ArchCap::PageTable {
        base: root,
        mapped: Some(root_map),
    }) = root_cap
    else {
        return Err(user_err!(
            SyscallError::InvalidCapability(1),
            "RISCVPageTableMap: Invalid top-level PageTable."
        ));
    };
    if vaddr >= USER_TOP {
        return Err(user_err!(
            SyscallError::InvalidArgument(0),
            "RISCVPageTableMap: Virtual address cannot be in kernel window."
        ));
    }
    let vspace_root = user_try!(
        find_vspace(k, root_map.asid),
        "RISCVPageTableMap: ASID lookup failed"
    );
    if vspace_root != root {
        return Err(user_err!(
            SyscallError::InvalidCapability(1),
            "RISCVPageTableMap: ASID lookup failed"
        ));
    }
    let w = vspace::lookup_pt_slot(root, vaddr);
    if w.level == 0 || w.slot.get().valid() {
        return Err(user_err!(
            SyscallError::DeleteFirst,
            "RISCVPageTableMap: All objects mapped at this address"
        ));
    }
    let span_mask = (1u64 << w.bits_left()) - 1;
    Ok(VSpaceInvocation::PageTableMap {
        cap: Cap::Arch(ArchCap::PageTable {
            base,
            mapped: Some(Mapping {
                asid: root_map.asid,
                vaddr: vaddr & !span_mask,
            }),
        }),
        slot,
        pte: Pte::table(base),
        pt_slot: w.slot,
        asid: root_map.asid,
    })
}

/// seL4 `decodeRISCVFrameInvocation`.
///
/// - `RISCVPageMap` (MRs vaddr, rights, attributes; extra cap: the VSpace root):
///   `TruncatedMessage` (fewer than 3 words or no cap), `InvalidCapability(1)` (not a mapped
///   page table), `FailedLookup` (ASID without VSpace; invalid root), `InvalidCapability(1)`
///   (another table is that ASID's VSpace), `InvalidArgument(0)` (the frame would reach
///   `USER_TOP`), `AlignmentError` (vaddr not aligned to the frame size), `FailedLookup` with a
///   missing-capability fault of the bits the walk left (no table at the frame's level);
///   for a mapped frame (a remap): `InvalidCapability(1)` (other ASID), `InvalidArgument(0)`
///   (other vaddr); for an unmapped frame `DeleteFirst` if the entry is valid. Rights are
///   `maskVMRights(cap rights, rights)` (write-only gives kernel-only); execute unless
///   `seL4_RISCV_ExecuteNever`.
/// - `RISCVPageUnmap`, `RISCVPageGetAddress`: no checks.
/// - anything else: `IllegalOperation`.
fn decode_frame(
    k: &Kernel,
    label: InvocationLabel,
    args: &impl InvocationArgs,
    cap: Cap,
    slot: Slot,
) -> Result<VSpaceInvocation, SyscallError> {
    let Cap::Arch(ArchCap::Frame {
        base,
        size,
        rights,
        is_device,
        mapped,
    }) = cap
    else {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "RISCVPage: Illegal operation."
        ));
    };
    match label {
        InvocationLabel::RISCVPageMap => {
            let Some((root_cap, _)) = args.extra_cap(0).filter(|_| args.len() >= 3) else {
                return Err(user_err!(
                    SyscallError::TruncatedMessage,
                    "RISCVPageMap: Truncated message."
                ));
            };
            let (vaddr, rights_mask, attr) = (args.mr(0), CapRights(args.mr(1)), args.mr(2));
            let Cap::Arch(ArchCap::PageTable {
                base: root,
                mapped: Some(root_map),
            }) = root_cap
            else {
                return Err(user_err!(
                    SyscallError::InvalidCapability(1),
                    "RISCVPageMap: Bad PageTable cap."
                ));
            };
            let asid = root_map.asid;
            let vspace_root =
                user_try!(find_vspace(k, asid), "RISCVPageMap: No PageTable for ASID");
            if vspace_root != root {
                return Err(user_err!(
                    SyscallError::InvalidCapability(1),
                    "RISCVPageMap: ASID lookup failed"
                ));
            }
            let frame_mask = (1u64 << size.bits()) - 1;
            // seL4 computes the top with wrapping word arithmetic; an unaligned vaddr that
            // wraps is then caught by the alignment check.
            if vaddr.wrapping_add(frame_mask) >= USER_TOP {
                return Err(user_err!(
                    SyscallError::InvalidArgument(0),
                    "RISCVPageMap: Frame at {vaddr:#x} would reach the kernel window."
                ));
            }
            if vaddr & frame_mask != 0 {
                return Err(user_err!(
                    SyscallError::AlignmentError,
                    "RISCVPageMap: Virtual address {vaddr:#x} not aligned to the frame size ({} bits).",
                    size.bits()
                ));
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
                    "RISCVPageMap: No page table at the frame's level for {vaddr:#x} ({} bits left).",
                    w.bits_left()
                ));
            }
            let pte = w.slot.get();
            match mapped {
                Some(m) => {
                    if m.asid != asid {
                        return Err(user_err!(
                            SyscallError::InvalidCapability(1),
                            "RISCVPageMap: Attempting to remap a frame that does not belong to the passed address space"
                        ));
                    }
                    if m.vaddr != vaddr {
                        return Err(user_err!(
                            SyscallError::InvalidArgument(0),
                            "RISCVPageMap: attempting to map frame into multiple addresses"
                        ));
                    }
                    // Redundant in seL4 too: the walk does not stop on a table entry above
                    // level 0, and at level 0 the frame size check failed already.
                    if pte.is_table() {
                        return Err(user_err!(
                            SyscallError::DeleteFirst,
                            "RISCVPageMap: no mapping to remap."
                        ));
                    }
                }
                None => {
                    if pte.valid() {
                        return Err(user_err!(
                            SyscallError::DeleteFirst,
                            "Virtual address ({vaddr:#x}) already mapped"
                        ));
                    }
                }
            }
            let vm_rights = rights.mask(rights_mask);
            let executable = attr & VM_ATTR_EXECUTE_NEVER == 0;
            Ok(VSpaceInvocation::PageMap {
                cap: Cap::Arch(ArchCap::Frame {
                    base,
                    size,
                    rights,
                    is_device,
                    mapped: Some(Mapping { asid, vaddr }),
                }),
                slot,
                pte: Pte::user(
                    crate::arch::pptr_to_paddr(base.addr()),
                    vm_rights,
                    executable,
                ),
                pt_slot: w.slot,
                asid,
                vaddr,
            })
        }
        InvocationLabel::RISCVPageUnmap => Ok(VSpaceInvocation::PageUnmap { cap, slot }),
        InvocationLabel::RISCVPageGetAddress => Ok(VSpaceInvocation::PageGetAddress {
            paddr: crate::arch::pptr_to_paddr(base.addr()),
        }),
        _ => Err(user_err!(
            SyscallError::IllegalOperation,
            "RISCVPage: Illegal operation."
        )),
    }
}

/// The `cap_asid_control_cap` case of seL4 `decodeRISCVMMUInvocation`
/// (`seL4_RISCV_ASIDControl_MakePool`): see [`asid::decode_make_pool`].
fn decode_asid_control(
    k: &Kernel,
    label: InvocationLabel,
    args: &impl InvocationArgs,
) -> Result<VSpaceInvocation, SyscallError> {
    let is_make_pool = label == InvocationLabel::RISCVASIDControlMakePool;
    asid::decode_make_pool(k, is_make_pool, args, VSpaceInvocation::from)
}

/// The `cap_asid_pool_cap` case of seL4 `decodeRISCVMMUInvocation`
/// (`seL4_RISCV_ASIDPool_Assign`; extra cap: the page table to become a VSpace root, an
/// unmapped one): see [`asid::decode_assign`]; `IllegalOperation` first if `cap` is not an
/// ASID pool cap.
fn decode_asid_pool(
    k: &Kernel,
    label: InvocationLabel,
    args: &impl InvocationArgs,
    cap: Cap,
) -> Result<VSpaceInvocation, SyscallError> {
    let Cap::Arch(ArchCap::AsidPool { ptr, asid_base }) = cap else {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "RISCVASIDPool: Illegal operation."
        ));
    };
    let is_assign = label == InvocationLabel::RISCVASIDPoolAssign;
    let unmapped_pt = |c, _| matches!(c, Cap::Arch(ArchCap::PageTable { mapped: None, .. }));
    asid::decode_assign(
        k,
        is_assign,
        args,
        ptr,
        asid_base,
        unmapped_pt,
        "RISCVASIDPool",
        VSpaceInvocation::from,
    )
}

/// Whether [`fast_invocation`] may apply to an invocation of `cap` by `t` (a frame cap, and
/// the message label is `RISCVPageMap`): a test cheap enough for every invocation of an
/// architecture cap.
#[inline(always)]
pub fn has_fast_invocation(t: TcbRef, cap: RawCap) -> bool {
    cap.tag() == super::cap::tag::FRAME
        && MessageInfo(t.reg(crate::arch::regs::MSG_INFO)).label()
            == InvocationLabel::RISCVPageMap as u64
}

/// `seL4_RISCV_Page_Map` straight from the caps as stored, for a call that succeeds: the frame
/// cap `frame` (in `slot`) invoked by `t` (the current thread) with `seL4_Call` (`is_call`) or
/// `seL4_Send`. It checks what [`decode`] checks for a frame's Page_Map and does what
/// [`perform`] does, without building the decoded caps and the invocation in between; the
/// VSpace cap is looked up in one step (`lookup_one_level_slot`).
///
/// Returns false, having changed nothing, for anything else: another cap or label, a message
/// too short or without its cap, a thread without an IPC buffer, a CSpace that needs more than
/// one step for the VSpace cap, or any check of `decode_frame` that fails. The general path
/// then decodes the invocation and gives seL4's error, in seL4's order, with its `userError`.
///
/// Unlike the general path it leaves `Kernel::activated` and `vm_gen` alone: a leaf mapping
/// changes no ASID and no thread's VSpace root, so every cached `satp` stays right (the TLB
/// entry for the page is flushed here).
///
/// [`has_fast_invocation`] says whether to try it.
#[inline(never)]
pub fn fast_invocation(k: &Kernel, t: TcbRef, frame: RawCap, slot: Slot, is_call: bool) -> bool {
    use crate::arch::regs;
    let Some((base, size, rights, _)) = super::cap::frame_fields(frame) else {
        return false;
    };
    let info = crate::ipc::message_info_of(t);
    if info.label() != InvocationLabel::RISCVPageMap as u64
        || info.length() < 3
        || info.extra_caps() == 0
    {
        return false;
    }
    let Some(buffer) = ipc_buffer_pptr(t, false) else {
        return false;
    };
    let root = t.slot(crate::object::tcb::tcb_slot::CTABLE).raw();
    let vspace_cptr = buffer.word(abi::ipc_buffer::offset::CAPS_OR_BADGES);
    let Some(vspace_slot) = crate::cspace::lookup_one_level_slot(root, vspace_cptr) else {
        return false;
    };
    let vspace = vspace_slot.raw();
    let Some(root_map) = super::cap::page_table_mapping(vspace) else {
        return false;
    };
    let asid = root_map.asid;
    let Some(pt) = vspace.object() else {
        return false;
    };
    if vspace::find_vspace_for_asid(k, asid) != Some(pt) {
        return false;
    }
    let vaddr = t.reg(regs::msg(0));
    let frame_mask = (1u64 << size.bits()) - 1;
    if vaddr.wrapping_add(frame_mask) >= USER_TOP || vaddr & frame_mask != 0 {
        return false;
    }
    let w = vspace::lookup_pt_slot(pt, vaddr);
    if w.bits_left() != size.bits() {
        return false;
    }
    let pte = w.slot.get();
    let mapped = super::cap::frame_mapping(frame);
    match mapped {
        Some(m) if m.asid != asid || m.vaddr != vaddr || pte.is_table() => return false,
        None if pte.valid() => return false,
        _ => {}
    }
    let vm_rights = rights.mask(CapRights(t.reg(regs::msg(1))));
    let executable = t.reg(regs::msg(2)) & VM_ATTR_EXECUTE_NEVER == 0;
    slot.set_raw(super::cap::frame_with_mapping(
        frame,
        Mapping { asid, vaddr },
    ));
    w.slot.set(Pte::user(
        crate::arch::pptr_to_paddr(base.addr()),
        vm_rights,
        executable,
    ));
    crate::arch::flush_page(vaddr, asid);
    if is_call {
        t.set_reg(regs::BADGE, 0);
        t.set_reg(regs::MSG_INFO, MessageInfo::new(0, 0, 0, 0).0);
    }
    true
}

/// Performs a decoded VSpace invocation for `thread` (already in `Restart`): seL4's
/// `performPageTableInvocationMap/Unmap`, `performPageInvocationMapPTE/Unmap`,
/// `performPageGetAddress`, `performASIDControlInvocation` and `performASIDPoolInvocation`.
/// `is_call`: the invocation came with `seL4_Call`, so GetAddress replies.
///
/// TLB maintenance: seL4 issues a full `sfence.vma` after each change; here a changed leaf is
/// flushed by page and a changed table entry by ASID, which covers the same translations.
///
/// The invocations of ASID control and ASID pools change which VSpace an ASID names, so the
/// cached `satp` of every thread is dropped and the CPU set up again on the way out
/// (`Kernel::vm_gen`, `Kernel::activated`); mapping and unmapping frames and page tables
/// changes no ASID and no thread's VSpace root, and keeps them.
pub fn perform(k: &mut Kernel, inv: &VSpaceInvocation, thread: TcbRef, is_call: bool) {
    if let VSpaceInvocation::AsidControlMakePool { .. } | VSpaceInvocation::AsidPoolAssign { .. } =
        *inv
    {
        k.clear_activated();
        k.vm_gen += 1;
    }
    match *inv {
        VSpaceInvocation::PageTableMap {
            cap,
            slot,
            pte,
            pt_slot,
            asid,
        } => {
            slot.set_cap(cap);
            pt_slot.set(pte);
            // A new table entry: flush the whole address space (seL4 `sfence`), since a
            // per-page fence need not drop cached non-leaf entries.
            crate::arch::flush_asid(asid);
        }
        VSpaceInvocation::PageTableUnmap { cap, slot } => {
            let Cap::Arch(ArchCap::PageTable { base, mapped }) = cap else {
                return;
            };
            if let Some(m) = mapped {
                vspace::unmap_page_table(k, m.asid, m.vaddr, base);
                vspace::clear_page_table(base);
            }
            slot.set_cap(Cap::Arch(ArchCap::PageTable { base, mapped: None }));
        }
        VSpaceInvocation::PageMap {
            cap,
            slot,
            pte,
            pt_slot,
            asid,
            vaddr,
        } => {
            slot.set_cap(cap);
            pt_slot.set(pte);
            crate::arch::flush_page(vaddr, asid);
        }
        VSpaceInvocation::PageUnmap { cap, slot } => {
            let Cap::Arch(ArchCap::Frame {
                base,
                size,
                rights,
                is_device,
                mapped,
            }) = cap
            else {
                return;
            };
            if let Some(m) = mapped {
                vspace::unmap_page(k, size, m.asid, m.vaddr, base);
            }
            slot.set_cap(Cap::Arch(ArchCap::Frame {
                base,
                size,
                rights,
                is_device,
                mapped: None,
            }));
        }
        VSpaceInvocation::PageGetAddress { paddr } => {
            if is_call {
                let buffer = ipc_buffer_pptr(thread, true);
                thread.set_reg(reg::A0, 0);
                let len = set_mr(thread, buffer, 0, paddr) as u64;
                thread.set_reg(reg::A1, MessageInfo::new(0, 0, 0, len).0);
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
                cte_insert(
                    Cap::Arch(ArchCap::AsidPool { ptr, asid_base }),
                    parent,
                    dest,
                )
            })
        }
        VSpaceInvocation::AsidPoolAssign {
            asid,
            pool,
            vspace_slot,
        } => {
            let Cap::Arch(ArchCap::PageTable { base, .. }) = vspace_slot.cap() else {
                return;
            };
            vspace_slot.set_cap(Cap::Arch(ArchCap::PageTable {
                base,
                mapped: Some(Mapping { asid, vaddr: 0 }),
            }));
            vspace::copy_global_mappings(base);
            vspace::asid_pool_entry(pool, asid as usize).set(Link::to(base.as_vspace_root()));
            // Not in seL4: drop any translations a previous holder of this hardware ASID left
            // (e.g. one whose pool was deleted without its VSpaces).
            crate::arch::flush_asid(asid);
        }
    }
}

/// `Arch_decodeIRQControlInvocation`: RISC-V has no IRQControl invocations of its own beyond
/// `IssueIRQHandlerTrigger` (decoded with the generic ones): `IllegalOperation`.
pub fn decode_irq_control(
    _label: InvocationLabel,
    _args: &impl InvocationArgs,
    _control_slot: Slot,
) -> Result<crate::object::interrupt::IrqControlInvocation, SyscallError> {
    Err(user_err!(
        SyscallError::IllegalOperation,
        "IRQControl: Illegal operation."
    ))
}
