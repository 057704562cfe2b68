//! TCB invocations (seL4 16.0.0 `src/object/tcb.c` `decodeTCBInvocation` and the `invokeTCB_*`
//! functions; `libsel4/include/interfaces/object-api.xml` for the argument order), with the
//! shapes of both configurations: non-MCS, and MCS (`mcs` feature, `CONFIG_KERNEL_MCS`), where
//! the fault and timeout endpoints are caps copied into the TCB's slots (SetSpace,
//! SetSchedParams, SetTimeoutEndpoint), Configure has no fault endpoint, and SetSchedParams
//! binds or unbinds a scheduling context.
//!
//! As everywhere in the kernel, each invocation is decoded first (every check, in seL4's order,
//! with seL4's error and MRs, nothing changed) into a [`TcbInvocation`], then performed
//! ([`invoke_tcb`]).
//!
//! Registers. seL4 on RISC-V keeps two pcs per thread: `FaultIP` (the restart pc: where a thread
//! in `Restart` state re-executes, the `ecall` of its last syscall) and `NextIP` (where a
//! `Running` thread continues). Here they are [`Tcb::fault_ip`](crate::object::tcb::Tcb) and
//! `context.regs[0]`. The pc that ReadRegisters, WriteRegisters and CopyRegisters see is
//! `FaultIP` (seL4 `frameRegisters[0]`); writing it also sets `NextIP` (seL4
//! `setNextPC(getRestartPC(thread))`), so the thread continues there whatever its state.

use crate::arch::regs;
use crate::cap::Cap;
use crate::cte::{cte_insert, is_final_cap, same_object_as, Slot};
use crate::error::{Preempted, SyscallError};
use crate::invocation::InvocationArgs;
use crate::object::cnode::cte_delete;
use crate::object::notification::{bind, unbind_tcb, NtfnRef};
use crate::object::objecttype::{derive_cap, update_cap_data_cold};
#[cfg(feature = "mcs")]
use crate::object::sched_context::ScRef;
use crate::object::tcb::{tcb_slot, TcbRef, ThreadState};
use crate::object::tcb_ops::{restart, suspend};
#[cfg(not(feature = "mcs"))]
use crate::sched::possible_switch_to;
use crate::sched::{reschedule_required_cold, set_thread_state};
use crate::state::{ipc_buffer_pptr_cold, set_mr, Kernel};
use crate::{user_err, user_try};
use abi::user_context::{idx, USER_CONTEXT_WORDS};
use abi::{InvocationLabel, MessageInfo};

/// seL4 `n_frameRegisters` on RISC-V: pc, ra, sp, gp, s0..s11.
pub const N_FRAME_REGISTERS: usize = idx::FRAME_WORDS;
/// seL4 `n_gpRegisters` on RISC-V: a0..a7, t0..t6, tp.
pub const N_GP_REGISTERS: usize = USER_CONTEXT_WORDS - idx::FRAME_WORDS;

/// The register behind each word of `seL4_UserContext` (the architecture's order; word 0,
/// the pc, is `FaultIP`, kept in the TCB and marked [`regs::FAULT_IP`], handled by
/// [`get_user_reg`] and [`set_user_reg`]).
const USER_CONTEXT_REGS: [usize; USER_CONTEXT_WORDS] = regs::USER_CONTEXT;

/// `seL4_TCBFlag_fpuDisabled` (`libsel4/include/sel4/constants.h`).
pub const TCB_FLAG_FPU_DISABLED: u64 = 1;
/// `seL4_TCBFlag_MASK`: the flags this configuration knows (fpuDisabled with `HAVE_FPU`).
pub const TCB_FLAG_MASK: u64 = if abi::arch::current::HAVE_FPU {
    TCB_FLAG_FPU_DISABLED
} else {
    0
};

/// Bits of the flags word of ReadRegisters (`ReadRegisters_suspend`), WriteRegisters
/// (`WriteRegisters_resume`) and CopyRegisters (`CopyRegisters_*`). Bits 8 and up are the
/// architecture's transfer flags, which RISC-V ignores (`Arch_decodeTransfer`).
mod flag {
    pub const READ_SUSPEND: u64 = 1 << 0;
    pub const WRITE_RESUME: u64 = 1 << 0;
    pub const COPY_SUSPEND_SOURCE: u64 = 1 << 0;
    pub const COPY_RESUME_TARGET: u64 = 1 << 1;
    pub const COPY_TRANSFER_FRAME: u64 = 1 << 2;
    pub const COPY_TRANSFER_INTEGER: u64 = 1 << 3;
}

/// Word `i` of a thread's `seL4_UserContext` (seL4 `getRegister(t, frameRegisters[i])` /
/// `gpRegisters[i - n_frameRegisters]`); 0 past the end.
pub fn get_user_reg(t: TcbRef, i: usize) -> u64 {
    match USER_CONTEXT_REGS.get(i) {
        Some(&regs::FAULT_IP) => t.with(|x| x.fault_ip),
        Some(&r) => t.reg(r),
        None => 0,
    }
}

/// Sets word `i` of a thread's `seL4_UserContext` (word 0 sets `FaultIP` only; see the module
/// doc), as the architecture's `sanitiseRegister` lets it. Ignored past the end.
pub fn set_user_reg(t: TcbRef, i: usize, v: u64) {
    match USER_CONTEXT_REGS.get(i) {
        Some(&regs::FAULT_IP) => t.with(|x| x.fault_ip = v),
        Some(&r) => t.set_reg(r, crate::arch::sanitise_register(r, v)),
        None => {}
    }
}

/// seL4 `setNextPC(t, getRestartPC(t))`: the thread continues at its restart pc.
fn next_pc_from_restart_pc(t: TcbRef) {
    let pc = t.with(|x| x.fault_ip);
    t.set_reg(regs::NEXT_IP, pc);
}

/// The new CSpace and VSpace roots of a Configure or SetSpace (the `thread_control_update_space`
/// part of seL4 `invokeTCB_ThreadControl`), with (non-MCS) the fault handler CPtr that goes with
/// them.
#[derive(Clone, Copy, Debug)]
pub struct SpaceUpdate {
    /// The fault endpoint CPtr (`tcbFaultHandler`), looked up in the thread's CSpace when it
    /// faults; not checked here (non-MCS; MCS sets a fault endpoint cap, `ThreadControl::fault`).
    #[cfg(not(feature = "mcs"))]
    pub fault_ep: u64,
    /// The derived CNode cap and the slot it was derived from.
    pub croot: (Cap, Slot),
    /// The derived VSpace root cap and the slot it was derived from.
    pub vroot: (Cap, Slot),
}

/// The new IPC buffer of a Configure or SetIPCBuffer (`thread_control_update_ipc_buffer`).
#[derive(Clone, Copy, Debug)]
pub struct BufferUpdate {
    /// The buffer's user address (`tcbIPCBuffer`); 0 for none.
    pub addr: u64,
    /// The derived frame cap and its source slot; `None` when `addr` is 0.
    pub frame: Option<(Cap, Slot)>,
}

/// seL4 `invokeTCB_ThreadControl`'s arguments (non-MCS; MCS: those of
/// `invokeTCB_ThreadControlCaps` and `invokeTCB_ThreadControlSched`, which never change the same
/// things but the fault endpoint): what to change, each part optional as seL4's
/// `thread_control_flag`s.
#[derive(Clone, Copy, Debug)]
pub struct ThreadControl {
    /// The thread.
    pub target: TcbRef,
    /// The slot of the invoked thread cap: caps are installed only if it still holds a cap to
    /// `target` when the old ones are gone.
    pub slot: Slot,
    /// New maximum controlled priority.
    pub mcp: Option<u64>,
    /// New priority.
    pub priority: Option<u64>,
    /// New fault endpoint, CSpace and VSpace.
    pub space: Option<SpaceUpdate>,
    /// New IPC buffer.
    pub buffer: Option<BufferUpdate>,
    /// MCS: a new fault endpoint cap (`thread_control_caps_update_fault`,
    /// `thread_control_sched_update_fault`) or timeout endpoint cap
    /// (`thread_control_caps_update_timeout`); no invocation sets both.
    #[cfg(feature = "mcs")]
    pub handler: Option<HandlerUpdate>,
    /// MCS: bind this scheduling context (`Some(Some(sc))`) or unbind the thread's
    /// (`Some(None)`) (`thread_control_sched_update_sc`).
    #[cfg(feature = "mcs")]
    pub sc: Option<Option<ScRef>>,
}

/// MCS: a fault or timeout endpoint cap (null for none) to copy from `src` into the TCB's
/// slot `index` ([`tcb_slot::FAULT_HANDLER`] or [`tcb_slot::TIMEOUT_HANDLER`]).
#[cfg(feature = "mcs")]
#[derive(Clone, Copy, Debug)]
pub struct HandlerUpdate {
    /// The TCB slot.
    pub index: usize,
    /// The cap, checked by [`valid_fault_handler`].
    pub cap: Cap,
    /// Where it comes from.
    pub src: Slot,
}

#[cfg(feature = "mcs")]
fn fault_handler((cap, src): (Cap, Slot)) -> Option<HandlerUpdate> {
    Some(HandlerUpdate {
        index: tcb_slot::FAULT_HANDLER,
        cap,
        src,
    })
}

impl ThreadControl {
    /// Changes nothing yet: the thread `target` invoked through the cap in `slot`.
    fn new(target: TcbRef, slot: Slot) -> ThreadControl {
        ThreadControl {
            target,
            slot,
            mcp: None,
            priority: None,
            space: None,
            buffer: None,
            #[cfg(feature = "mcs")]
            handler: None,
            #[cfg(feature = "mcs")]
            sc: None,
        }
    }
}

/// A decoded TCB invocation.
#[derive(Clone, Copy, Debug)]
pub enum TcbInvocation {
    /// `invokeTCB_ReadRegisters`: reply with the first `n` words of `src`'s `seL4_UserContext`.
    ReadRegisters {
        src: TcbRef,
        suspend_source: bool,
        n: usize,
    },
    /// `invokeTCB_WriteRegisters`: set the first `n` words of `dest`'s `seL4_UserContext`.
    WriteRegisters {
        dest: TcbRef,
        resume_target: bool,
        n: usize,
        values: [u64; USER_CONTEXT_WORDS],
    },
    /// `invokeTCB_CopyRegisters`.
    CopyRegisters {
        /// Destination.
        dest: TcbRef,
        /// Source.
        src: TcbRef,
        /// Suspend the source first.
        suspend_source: bool,
        /// Restart the destination.
        resume_target: bool,
        /// Copy the frame registers (pc, ra, sp, gp, s0..s11).
        transfer_frame: bool,
        /// Copy the integer registers (a0..a7, t0..t6, tp).
        transfer_integer: bool,
    },
    /// `invokeTCB_Suspend`.
    Suspend(TcbRef),
    /// `invokeTCB_Resume`.
    Resume(TcbRef),
    /// `invokeTCB_ThreadControl`: Configure, SetPriority, SetMCPriority, SetSchedParams,
    /// SetIPCBuffer, SetSpace.
    ThreadControl(ThreadControl),
    /// `invokeTCB_NotificationControl`: bind to the notification, or unbind (`None`).
    NotificationControl(TcbRef, Option<NtfnRef>),
    /// `invokeSetTLSBase`.
    SetTlsBase(TcbRef, u64),
    /// `invokeSetFlags`.
    SetFlags { tcb: TcbRef, clear: u64, set: u64 },
}

/// `decodeTCBInvocation` (no SMP, no hardware debug API) of the thread cap `cap` in `slot`,
/// invoked by `thread` (the current thread of `k`): the checks of each invocation, in seL4's
/// order. Configure and SetSpace refuse, as seL4's `slotCapLongRunningDelete` does, to replace
/// roots whose deletion could take long.
pub fn decode_tcb_invocation(
    #[cfg_attr(not(feature = "mcs"), allow(unused_variables))] k: &Kernel,
    label: InvocationLabel,
    args: &impl InvocationArgs,
    cap: Cap,
    slot: Slot,
    thread: TcbRef,
) -> Result<TcbInvocation, SyscallError> {
    use InvocationLabel as L;
    let Cap::Thread { tcb: target } = cap else {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "TCB: Illegal operation."
        ));
    };
    match label {
        L::TCBReadRegisters => decode_read_registers(args, target, thread),
        L::TCBWriteRegisters => decode_write_registers(args, target, thread),
        L::TCBCopyRegisters => decode_copy_registers(args, target),
        L::TCBSuspend => Ok(TcbInvocation::Suspend(target)),
        L::TCBResume => Ok(TcbInvocation::Resume(target)),
        L::TCBConfigure => decode_configure(args, target, slot),
        L::TCBSetPriority => decode_set_priority(args, target),
        L::TCBSetMCPriority => decode_set_mc_priority(args, target),
        #[cfg(not(feature = "mcs"))]
        L::TCBSetSchedParams => decode_set_sched_params(args, target),
        #[cfg(feature = "mcs")]
        L::TCBSetSchedParams => decode_set_sched_params(k, args, target, slot, thread),
        #[cfg(feature = "mcs")]
        L::TCBSetTimeoutEndpoint => decode_set_timeout_endpoint(args, target, slot),
        L::TCBSetIPCBuffer => decode_set_ipc_buffer(args, target, slot),
        L::TCBSetSpace => decode_set_space(args, target, slot),
        L::TCBBindNotification => decode_bind_notification(args, target),
        L::TCBUnbindNotification => decode_unbind_notification(target),
        L::TCBSetTLSBase => {
            if args.len() < 1 {
                return Err(user_err!(
                    SyscallError::TruncatedMessage,
                    "TCB SetTLSBase: Truncated message."
                ));
            }
            Ok(TcbInvocation::SetTlsBase(target, args.mr(0)))
        }
        L::TCBSetFlags => {
            if args.len() < 2 {
                return Err(user_err!(
                    SyscallError::TruncatedMessage,
                    "TCB SetFlags: Truncated message."
                ));
            }
            Ok(TcbInvocation::SetFlags {
                tcb: target,
                clear: args.mr(0),
                set: args.mr(1),
            })
        }
        _ => Err(user_err!(
            SyscallError::IllegalOperation,
            "TCB: Illegal operation."
        )),
    }
}

/// `decodeReadRegisters`: `TruncatedMessage` (fewer than 2 MRs), `RangeError(1, 32)` (count),
/// `IllegalOperation` (reading the invoking thread).
fn decode_read_registers(
    args: &impl InvocationArgs,
    target: TcbRef,
    thread: TcbRef,
) -> Result<TcbInvocation, SyscallError> {
    if args.len() < 2 {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "TCB ReadRegisters: Truncated message."
        ));
    }
    let (flags, n) = (args.mr(0), args.mr(1));
    let max = (N_FRAME_REGISTERS + N_GP_REGISTERS) as u64;
    if n < 1 || n > max {
        return Err(user_err!(
            SyscallError::RangeError(1, max),
            "TCB ReadRegisters: Attempted to read an invalid number of registers ({n})."
        ));
    }
    if target == thread {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "TCB ReadRegisters: Attempted to read our own registers."
        ));
    }
    Ok(TcbInvocation::ReadRegisters {
        src: target,
        suspend_source: flags & flag::READ_SUSPEND != 0,
        n: n as usize,
    })
}

/// `decodeWriteRegisters`: `TruncatedMessage` (fewer than 2 MRs, or fewer values than the
/// count), `IllegalOperation` (writing the invoking thread). A count above 32 writes 32.
fn decode_write_registers(
    args: &impl InvocationArgs,
    target: TcbRef,
    thread: TcbRef,
) -> Result<TcbInvocation, SyscallError> {
    if args.len() < 2 {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "TCB WriteRegisters: Truncated message."
        ));
    }
    let (flags, w) = (args.mr(0), args.mr(1));
    if ((args.len() - 2) as u64) < w {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "TCB WriteRegisters: Message too short for requested write size ({}/{w}).",
            args.len() - 2
        ));
    }
    if target == thread {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "TCB WriteRegisters: Attempted to write our own registers."
        ));
    }
    let n = (w as usize).min(USER_CONTEXT_WORDS);
    let mut values = [0u64; USER_CONTEXT_WORDS];
    for (i, v) in values.iter_mut().enumerate().take(n) {
        *v = args.mr(i + 2);
    }
    Ok(TcbInvocation::WriteRegisters {
        dest: target,
        resume_target: flags & flag::WRITE_RESUME != 0,
        n,
        values,
    })
}

/// `decodeCopyRegisters`: `TruncatedMessage` (no flags word or no source cap),
/// `InvalidCapability(1)` (the source is not a thread cap).
fn decode_copy_registers(
    args: &impl InvocationArgs,
    target: TcbRef,
) -> Result<TcbInvocation, SyscallError> {
    let Some((src_cap, _)) = args.extra_cap_cold(0).filter(|_| args.len() >= 1) else {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "TCB CopyRegisters: Truncated message."
        ));
    };
    let flags = args.mr(0);
    let Cap::Thread { tcb: src } = src_cap else {
        return Err(user_err!(
            SyscallError::InvalidCapability(1),
            "TCB CopyRegisters: Invalid source TCB."
        ));
    };
    Ok(TcbInvocation::CopyRegisters {
        dest: target,
        src,
        suspend_source: flags & flag::COPY_SUSPEND_SOURCE != 0,
        resume_target: flags & flag::COPY_RESUME_TARGET != 0,
        transfer_frame: flags & flag::COPY_TRANSFER_FRAME != 0,
        transfer_integer: flags & flag::COPY_TRANSFER_INTEGER != 0,
    })
}

/// The buffer part of Configure and SetIPCBuffer (`inv`, for `userError` lines): with a
/// non-zero address, `deriveCap` of the frame cap (its error) then the architecture's
/// `checkValidIPCBuffer` (`crate::arch::check_valid_ipc_buffer`). Out of line: Configure and
/// SetIPCBuffer share one copy (inlined, each had its own: about 400 bytes of runtime text).
#[inline(never)]
fn decode_buffer(
    #[cfg_attr(not(feature = "debug_build"), allow(unused_variables))] inv: &'static str,
    addr: u64,
    cap: Cap,
    slot: Slot,
) -> Result<BufferUpdate, SyscallError> {
    if addr == 0 {
        return Ok(BufferUpdate { addr, frame: None });
    }
    let frame = user_try!(derive_cap(slot, cap), e =>
        "TCB {inv}: Error deriving IPC buffer cap: {}",
        crate::object::objecttype::derive_failure(e)
    );
    crate::arch::check_valid_ipc_buffer(addr, frame)?;
    Ok(BufferUpdate {
        addr,
        frame: Some((frame, slot)),
    })
}

/// `slotCapLongRunningDelete`: deleting the cap in `slot` would destroy a CNode or TCB (or
/// continue a zombie), which may take many preemptible steps.
pub fn slot_cap_long_running_delete(slot: Slot) -> bool {
    let c = slot.cap();
    if c.is_null() || !is_final_cap(slot) {
        return false;
    }
    matches!(
        c,
        Cap::Thread { .. } | Cap::Zombie { .. } | Cap::CNode { .. }
    )
}

/// The space part of Configure and SetSpace (`inv`, for `userError` lines), after the
/// buffer: `IllegalOperation` if the thread's current roots are being deleted; the CNode cap
/// with its data applied (if non-zero), derived (its error), `IllegalOperation` unless a CNode;
/// the VSpace cap likewise, `IllegalOperation` unless the architecture's VSpace root with an
/// ASID (`isValidVTableRoot`, `crate::arch::vspace_root`).
fn decode_space(
    #[cfg_attr(not(feature = "debug_build"), allow(unused_variables))] inv: &'static str,
    target: TcbRef,
    #[cfg(not(feature = "mcs"))] fault_ep: u64,
    croot_data: u64,
    croot: (Cap, Slot),
    vroot_data: u64,
    vroot: (Cap, Slot),
) -> Result<SpaceUpdate, SyscallError> {
    if slot_cap_long_running_delete(target.slot(tcb_slot::CTABLE))
        || slot_cap_long_running_delete(target.slot(tcb_slot::VTABLE))
    {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "TCB {inv}: CSpace or VSpace currently being deleted."
        ));
    }
    let (mut ccap, cslot) = croot;
    if croot_data != 0 {
        ccap = update_cap_data_cold(false, croot_data, ccap);
    }
    let ccap = user_try!(derive_cap(cslot, ccap), e =>
        "TCB {inv}: Error deriving CSpace cap: {}",
        crate::object::objecttype::derive_failure(e)
    );
    if !matches!(ccap, Cap::CNode { .. }) {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "TCB {inv}: {}",
            if inv == "Configure" {
                "CSpace cap is invalid."
            } else {
                "Invalid CNode cap."
            }
        ));
    }
    let (mut vcap, vslot) = vroot;
    if vroot_data != 0 {
        vcap = update_cap_data_cold(false, vroot_data, vcap);
    }
    let vcap = user_try!(derive_cap(vslot, vcap), e =>
        "TCB {inv}: Error deriving VSpace cap: {}",
        crate::object::objecttype::derive_failure(e)
    );
    if crate::arch::vspace_root(&vcap).is_none() {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "TCB {inv}: {}",
            if inv == "Configure" {
                "VSpace cap is invalid."
            } else {
                "Invalid VSpace cap."
            }
        ));
    }
    Ok(SpaceUpdate {
        #[cfg(not(feature = "mcs"))]
        fault_ep,
        croot: (ccap, cslot),
        vroot: (vcap, vslot),
    })
}

/// `decodeTCBConfigure`: MRs (non-MCS) fault endpoint CPtr, CSpace root data, VSpace root data,
/// buffer address, (MCS) the same without the fault endpoint; extra caps CSpace root, VSpace
/// root, buffer frame. Errors: `TruncatedMessage` (fewer than 4 (MCS: 3) MRs or 3 caps), then
/// the buffer's, then the space's.
fn decode_configure(
    args: &impl InvocationArgs,
    target: TcbRef,
    slot: Slot,
) -> Result<TcbInvocation, SyscallError> {
    /// `TCBCONFIGURE_ARGS`.
    const ARGS: usize = if cfg!(feature = "mcs") { 3 } else { 4 };
    let caps = (
        args.extra_cap_cold(0),
        args.extra_cap_cold(1),
        args.extra_cap_cold(2),
    );
    let (Some(croot), Some(vroot), Some((bcap, bslot))) = caps else {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "TCB Configure: Truncated message."
        ));
    };
    if args.len() < ARGS {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "TCB Configure: Truncated message."
        ));
    }
    // Non-MCS: MR0 is the fault endpoint CPtr and the rest follow it.
    let first = ARGS - 3;
    let (croot_data, vroot_data, addr) = (args.mr(first), args.mr(first + 1), args.mr(first + 2));
    let buffer = decode_buffer("Configure", addr, bcap, bslot)?;
    let space = decode_space(
        "Configure",
        target,
        #[cfg(not(feature = "mcs"))]
        args.mr(0),
        croot_data,
        croot,
        vroot_data,
        vroot,
    )?;
    Ok(TcbInvocation::ThreadControl(ThreadControl {
        space: Some(space),
        buffer: Some(buffer),
        ..ThreadControl::new(target, slot)
    }))
}

/// `checkPrio(prio, auth)`: `RangeError(seL4_MinPrio, auth's MCP)` above the authority's MCP.
/// Says nothing: the callers say what was too high.
fn check_prio(prio: u64, auth: TcbRef) -> Result<(), SyscallError> {
    let mcp = auth.with(|x| x.mcp);
    if prio > mcp {
        return Err(SyscallError::RangeError(0, mcp));
    }
    Ok(())
}

/// The authority TCB of the priority invocations (`inv`, for `userError` lines):
/// `TruncatedMessage` without `min_len` MRs or an extra cap, `InvalidCapability(1)` unless it
/// is a thread cap.
fn authority(
    #[cfg_attr(not(feature = "debug_build"), allow(unused_variables))] inv: &'static str,
    args: &impl InvocationArgs,
    min_len: usize,
) -> Result<TcbRef, SyscallError> {
    let Some(slot) = args.extra_slot(0).filter(|_| args.len() >= min_len) else {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "TCB {inv}: Truncated message."
        ));
    };
    // Only the thread cap's tag and object are needed: read from the slot's words, without
    // decoding the whole cap (the same `Cap::Thread { tcb }` a decode gives).
    let raw = slot.raw();
    match raw.object::<crate::object::tcb::Tcb>() {
        Some(tcb) if raw.tag() == crate::cap::tag::THREAD => Ok(tcb),
        _ => Err(user_err!(
            SyscallError::InvalidCapability(1),
            "TCB {inv}: authority cap not a TCB."
        )),
    }
}

fn priority_control(target: TcbRef, mcp: Option<u64>, priority: Option<u64>) -> TcbInvocation {
    // No caps are installed, so the slot is never looked at (seL4 passes NULL).
    let slot = target.slot(tcb_slot::CTABLE);
    TcbInvocation::ThreadControl(ThreadControl {
        mcp,
        priority,
        ..ThreadControl::new(target, slot)
    })
}

/// `decodeSetPriority`: MR0 priority; extra cap the authority TCB.
fn decode_set_priority(
    args: &impl InvocationArgs,
    target: TcbRef,
) -> Result<TcbInvocation, SyscallError> {
    let auth = authority("SetPriority", args, 1)?;
    let prio = args.mr(0);
    user_try!(
        check_prio(prio, auth),
        "TCB SetPriority: Requested priority {prio} too high (max {}).",
        auth.with(|x| x.mcp)
    );
    Ok(priority_control(target, None, Some(prio)))
}

/// `decodeSetMCPriority`: MR0 MCP; extra cap the authority TCB.
fn decode_set_mc_priority(
    args: &impl InvocationArgs,
    target: TcbRef,
) -> Result<TcbInvocation, SyscallError> {
    let auth = authority("SetMCPriority", args, 1)?;
    let mcp = args.mr(0);
    user_try!(
        check_prio(mcp, auth),
        "TCB SetMCPriority: Requested maximum controlled priority {mcp} too high (max {}).",
        auth.with(|x| x.mcp)
    );
    Ok(priority_control(target, Some(mcp), None))
}

/// `decodeSetSchedParams` (non-MCS): MR0 MCP, MR1 priority; extra cap the authority TCB. The
/// MCP is checked first.
#[cfg(not(feature = "mcs"))]
fn decode_set_sched_params(
    args: &impl InvocationArgs,
    target: TcbRef,
) -> Result<TcbInvocation, SyscallError> {
    let auth = authority("SetSchedParams", args, 2)?;
    let (mcp, prio) = (args.mr(0), args.mr(1));
    user_try!(
        check_prio(mcp, auth),
        "TCB SetSchedParams: Requested maximum controlled priority {mcp} too high (max {}).",
        auth.with(|x| x.mcp)
    );
    user_try!(
        check_prio(prio, auth),
        "TCB SetSchedParams: Requested priority {prio} too high (max {}).",
        auth.with(|x| x.mcp)
    );
    Ok(priority_control(target, Some(mcp), Some(prio)))
}

/// `decodeSetSchedParams` (MCS): MR0 MCP, MR1 priority; extra caps the authority TCB, a
/// scheduling context (or a null cap) and the fault endpoint. Errors in seL4's order:
/// `TruncatedMessage` (fewer than 2 MRs or 3 caps), `InvalidCapability(1)` (authority not a
/// TCB), `RangeError` (MCP, then priority, above the authority's MCP); with an SC cap,
/// `IllegalOperation` if the thread has another SC, if the SC is bound to another thread, or if
/// the thread is blocked and the SC not released (`sc_released`); with a null cap,
/// `IllegalOperation` if the thread is the current one; `InvalidCapability(2)` for any other
/// cap; then `InvalidCapability(3)` unless the fault endpoint is valid.
#[cfg(feature = "mcs")]
fn decode_set_sched_params(
    k: &Kernel,
    args: &impl InvocationArgs,
    target: TcbRef,
    slot: Slot,
    thread: TcbRef,
) -> Result<TcbInvocation, SyscallError> {
    let caps = (args.extra_cap_cold(1), args.extra_cap_cold(2));
    let (Some((sc_cap, _)), Some(fault)) = caps else {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "TCB SetSchedParams: Truncated message."
        ));
    };
    let auth = authority("SetSchedParams", args, 2)?;
    let (mcp, prio) = (args.mr(0), args.mr(1));
    user_try!(
        check_prio(mcp, auth),
        "TCB SetSchedParams: Requested maximum controlled priority {mcp} too high (max {}).",
        auth.with(|x| x.mcp)
    );
    user_try!(
        check_prio(prio, auth),
        "TCB SetSchedParams: Requested priority {prio} too high (max {}).",
        auth.with(|x| x.mcp)
    );
    let current = target.with(|x| x.sched_context);
    let sc = match sc_cap {
        Cap::SchedContext { ptr, .. } => {
            let sc = ptr;
            if !current.is(sc) {
                if current.is_some() {
                    return Err(user_err!(
                        SyscallError::IllegalOperation,
                        "TCB Configure: tcb already has a scheduling context."
                    ));
                }
                if sc.with(|x| x.tcb).is_some() {
                    return Err(user_err!(
                        SyscallError::IllegalOperation,
                        "TCB Configure: sched context already bound."
                    ));
                }
            }
            if is_blocked(target) && !crate::object::sched_context::sc_released(sc, k.cur_time) {
                return Err(user_err!(
                    SyscallError::IllegalOperation,
                    "TCB Configure: tcb blocked and scheduling context not schedulable."
                ));
            }
            Some(sc)
        }
        Cap::Null => {
            if target == thread {
                return Err(user_err!(
                    SyscallError::IllegalOperation,
                    "TCB SetSchedParams: Cannot change sched_context of current thread"
                ));
            }
            None
        }
        _ => {
            return Err(user_err!(
                SyscallError::InvalidCapability(2),
                "TCB Configure: sched context cap invalid."
            ))
        }
    };
    if !valid_fault_handler(&fault.0) {
        return Err(user_err!(
            SyscallError::InvalidCapability(3),
            "TCB Configure: fault endpoint cap invalid."
        ));
    }
    Ok(TcbInvocation::ThreadControl(ThreadControl {
        mcp: Some(mcp),
        priority: Some(prio),
        handler: fault_handler(fault),
        sc: (current != crate::mem::Link::from_opt(sc)).then_some(sc),
        ..ThreadControl::new(target, slot)
    }))
}

/// `isBlocked`: waiting on an endpoint, a notification or a reply.
#[cfg(feature = "mcs")]
pub fn is_blocked(t: TcbRef) -> bool {
    matches!(
        t.state(),
        ThreadState::BlockedOnReceive
            | ThreadState::BlockedOnSend
            | ThreadState::BlockedOnNotification
            | ThreadState::BlockedOnReply
    )
}

/// `decodeSetIPCBuffer`: MR0 address; extra cap the frame. `TruncatedMessage`, then the
/// buffer's errors.
fn decode_set_ipc_buffer(
    args: &impl InvocationArgs,
    target: TcbRef,
    slot: Slot,
) -> Result<TcbInvocation, SyscallError> {
    let Some((bcap, bslot)) = args.extra_cap_cold(0).filter(|_| args.len() >= 1) else {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "TCB SetIPCBuffer: Truncated message."
        ));
    };
    let buffer = decode_buffer("SetIPCBuffer", args.mr(0), bcap, bslot)?;
    Ok(TcbInvocation::ThreadControl(ThreadControl {
        buffer: Some(buffer),
        ..ThreadControl::new(target, slot)
    }))
}

/// `decodeSetSpace` (non-MCS): MRs fault endpoint CPtr, CSpace root data, VSpace root data;
/// extra caps CSpace root, VSpace root.
#[cfg(not(feature = "mcs"))]
fn decode_set_space(
    args: &impl InvocationArgs,
    target: TcbRef,
    slot: Slot,
) -> Result<TcbInvocation, SyscallError> {
    let (Some(croot), Some(vroot)) = (args.extra_cap_cold(0), args.extra_cap_cold(1)) else {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "TCB SetSpace: Truncated message."
        ));
    };
    if args.len() < 3 {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "TCB SetSpace: Truncated message."
        ));
    }
    let (fault_ep, croot_data, vroot_data) = (args.mr(0), args.mr(1), args.mr(2));
    let space = decode_space(
        "SetSpace", target, fault_ep, croot_data, croot, vroot_data, vroot,
    )?;
    Ok(TcbInvocation::ThreadControl(ThreadControl {
        space: Some(space),
        ..ThreadControl::new(target, slot)
    }))
}

/// `decodeSetSpace` (MCS): MRs CSpace root data, VSpace root data; extra caps fault endpoint,
/// CSpace root, VSpace root. `TruncatedMessage` (fewer than 2 MRs or 3 caps), the space's
/// errors, then `InvalidCapability(1)` unless the fault endpoint is valid
/// ([`valid_fault_handler`]).
#[cfg(feature = "mcs")]
fn decode_set_space(
    args: &impl InvocationArgs,
    target: TcbRef,
    slot: Slot,
) -> Result<TcbInvocation, SyscallError> {
    let caps = (
        args.extra_cap_cold(0),
        args.extra_cap_cold(1),
        args.extra_cap_cold(2),
    );
    let (Some(fault), Some(croot), Some(vroot)) = caps else {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "TCB SetSpace: Truncated message."
        ));
    };
    if args.len() < 2 {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "TCB SetSpace: Truncated message."
        ));
    }
    let (croot_data, vroot_data) = (args.mr(0), args.mr(1));
    let space = decode_space("SetSpace", target, croot_data, croot, vroot_data, vroot)?;
    if !valid_fault_handler(&fault.0) {
        return Err(user_err!(
            SyscallError::InvalidCapability(1),
            "TCB SetSpace: fault endpoint cap invalid."
        ));
    }
    Ok(TcbInvocation::ThreadControl(ThreadControl {
        space: Some(space),
        handler: fault_handler(fault),
        ..ThreadControl::new(target, slot)
    }))
}

/// `validFaultHandler` (MCS): a fault or timeout endpoint cap is null (no handler) or an
/// endpoint cap with the send right and the grant or grant-reply right.
#[cfg(feature = "mcs")]
pub fn valid_fault_handler(cap: &Cap) -> bool {
    match cap {
        Cap::Null => true,
        Cap::Endpoint { rights, .. } => rights.send && (rights.grant || rights.grant_reply),
        _ => false,
    }
}

/// `decodeSetTimeoutEndpoint` (MCS): extra cap the timeout endpoint. `TruncatedMessage` (no
/// cap), `InvalidCapability(1)` unless valid ([`valid_fault_handler`]).
#[cfg(feature = "mcs")]
fn decode_set_timeout_endpoint(
    args: &impl InvocationArgs,
    target: TcbRef,
    slot: Slot,
) -> Result<TcbInvocation, SyscallError> {
    let Some(timeout) = args.extra_cap_cold(0) else {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "TCB SetTimeoutEndpoint: Truncated message."
        ));
    };
    if !valid_fault_handler(&timeout.0) {
        return Err(user_err!(
            SyscallError::InvalidCapability(1),
            "TCB SetTimeoutEndpoint: timeout endpoint cap invalid."
        ));
    }
    Ok(TcbInvocation::ThreadControl(ThreadControl {
        handler: Some(HandlerUpdate {
            index: tcb_slot::TIMEOUT_HANDLER,
            cap: timeout.0,
            src: timeout.1,
        }),
        ..ThreadControl::new(target, slot)
    }))
}

/// `decodeBindNotification`: `TruncatedMessage` (no cap); `IllegalOperation` if the thread is
/// already bound, the cap is not a notification cap, lacks the receive right, or the
/// notification has waiters or a bound thread.
fn decode_bind_notification(
    args: &impl InvocationArgs,
    target: TcbRef,
) -> Result<TcbInvocation, SyscallError> {
    let Some((ncap, _)) = args.extra_cap_cold(0) else {
        return Err(user_err!(
            SyscallError::TruncatedMessage,
            "TCB BindNotification: Truncated message."
        ));
    };
    if target.with(|x| x.bound_notification).is_some() {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "TCB BindNotification: TCB already has a bound notification."
        ));
    }
    let Cap::Notification { ptr: n, rights, .. } = ncap else {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "TCB BindNotification: Notification is invalid."
        ));
    };
    if !rights.receive {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "TCB BindNotification: Insufficient access rights"
        ));
    }
    let ntfn = n.0.get();
    if ntfn.head_state.get().is_some() || ntfn.bound_tcb.is_some() {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "TCB BindNotification: Notification cannot be bound."
        ));
    }
    Ok(TcbInvocation::NotificationControl(target, Some(n)))
}

/// `decodeUnbindNotification`: `IllegalOperation` if the thread has no bound notification.
fn decode_unbind_notification(target: TcbRef) -> Result<TcbInvocation, SyscallError> {
    if target.with(|x| x.bound_notification).is_none() {
        return Err(user_err!(
            SyscallError::IllegalOperation,
            "TCB UnbindNotification: TCB already has no bound Notification."
        ));
    }
    Ok(TcbInvocation::NotificationControl(target, None))
}

/// Performs a decoded TCB invocation for `thread` (in `Restart`); `call`: it came with
/// `seL4_Call`, so invocations with results reply.
///
/// An invocation with no result leaves the thread in `Restart` (the syscall layer then sends the
/// empty success reply); one that returns values (ReadRegisters, SetFlags) writes its reply
/// into the thread's registers/IPC buffer (for `seL4_Call` only, as seL4) and sets it
/// `Running`. An invocation that makes the invoker block or stop (e.g. suspending itself)
/// leaves whatever state that gives.
///
/// Only the cap deletions of ThreadControl (seL4's preemptible `cteDelete` of the old roots and
/// buffer) can be preempted: the thread stays in `Restart`, re-executes the syscall and
/// continues the deletion.
///
/// The invocation comes by reference: a ThreadControl is some 200 bytes, which a move would copy
/// (a `memcpy` call) on every SetPriority (docs/PERFORMANCE.md, "SetPriority on itself").
pub fn invoke_tcb(
    k: &mut Kernel,
    inv: &TcbInvocation,
    thread: TcbRef,
    call: bool,
) -> Result<(), Preempted> {
    match *inv {
        TcbInvocation::ReadRegisters {
            src,
            suspend_source,
            n,
        } => {
            invoke_read_registers(k, src, suspend_source, n, thread, call);
        }
        TcbInvocation::WriteRegisters {
            dest,
            resume_target,
            n,
            ref values,
        } => {
            for (i, &v) in values.iter().enumerate().take(n) {
                set_user_reg(dest, i, v);
            }
            next_pc_from_restart_pc(dest);
            if resume_target {
                restart(k, dest);
            }
            if dest == k.cur_thread {
                reschedule_required_cold(k);
            }
        }
        TcbInvocation::CopyRegisters {
            dest,
            src,
            suspend_source,
            resume_target,
            transfer_frame,
            transfer_integer,
        } => {
            if suspend_source {
                suspend(k, src);
            }
            if resume_target {
                restart(k, dest);
            }
            if transfer_frame {
                for i in 0..N_FRAME_REGISTERS {
                    set_user_reg(dest, i, get_user_reg(src, i));
                }
                next_pc_from_restart_pc(dest);
            }
            if transfer_integer {
                for i in N_FRAME_REGISTERS..N_FRAME_REGISTERS + N_GP_REGISTERS {
                    set_user_reg(dest, i, get_user_reg(src, i));
                }
            }
            // seL4 does this because some architectures reload registers only on a thread
            // switch; here the syscall exit relies on it too: with a scheduling decision
            // pending it loads every register (`entry::exit_after_syscall` resumes the
            // thread without loading its callee-saved registers only when none is).
            if dest == k.cur_thread {
                reschedule_required_cold(k);
            }
        }
        TcbInvocation::Suspend(t) => suspend(k, t),
        TcbInvocation::Resume(t) => restart(k, t),
        TcbInvocation::ThreadControl(ref tc) => invoke_thread_control(k, tc)?,
        TcbInvocation::NotificationControl(t, Some(n)) => bind(t, n),
        TcbInvocation::NotificationControl(t, None) => unbind_tcb(t),
        TcbInvocation::SetTlsBase(t, base) => {
            t.set_reg(regs::TLS_BASE, base);
            if t == k.cur_thread {
                reschedule_required_cold(k);
            }
        }
        TcbInvocation::SetFlags { tcb, clear, set } => {
            let flags = (tcb.with(|x| x.flags) & !clear) | (set & TCB_FLAG_MASK);
            tcb.with(|x| x.flags = flags);
            if flags & TCB_FLAG_FPU_DISABLED != 0 {
                crate::object::tcb_ops::fpu_release(k, tcb);
            }
            if call {
                let buf = ipc_buffer_pptr_cold(thread, true);
                thread.set_reg(regs::BADGE, 0);
                let len = set_mr(thread, buf, 0, flags) as u64;
                thread.set_reg(regs::MSG_INFO, MessageInfo::new(0, 0, 0, len).0);
            }
            set_thread_state(k, thread, ThreadState::Running);
        }
    }
    Ok(())
}

/// `invokeTCB_ReadRegisters`: suspends the source if asked, then (for `seL4_Call`) replies with
/// `n` words of its `seL4_UserContext`: MR0..MR3 in registers, the rest in the invoker's IPC
/// buffer if it has one (the reply is cut at MR3 otherwise).
fn invoke_read_registers(
    k: &mut Kernel,
    src: TcbRef,
    suspend_source: bool,
    n: usize,
    thread: TcbRef,
    call: bool,
) {
    if suspend_source {
        suspend(k, src);
    }
    if call {
        let buf = ipc_buffer_pptr_cold(thread, true);
        thread.set_reg(regs::BADGE, 0);
        let mut len = 0;
        for i in 0..n.min(USER_CONTEXT_WORDS) {
            if !set_mr(thread, buf, i, get_user_reg(src, i)) {
                break;
            }
            len = i + 1;
        }
        thread.set_reg(regs::MSG_INFO, MessageInfo::new(0, 0, 0, len as u64).0);
    }
    set_thread_state(k, thread, ThreadState::Running);
}

/// Replaces the cap in TCB slot `index` by `new` from `src` (the space part of
/// `invokeTCB_ThreadControl`, MCS `installTCBCap`): deletes the old cap, then inserts the new
/// one if it is not null, its source still holds it and the invoked slot still holds the thread
/// cap.
fn install_tcb_cap(
    k: &mut Kernel,
    tc: &ThreadControl,
    index: usize,
    new: Cap,
    src: Slot,
) -> Result<(), Preempted> {
    let dest = tc.target.slot(index);
    cte_delete(k, dest, true)?;
    if !new.is_null() && still_sources(tc, new, src) && dest.is_empty() {
        cte_insert(new, src, dest);
    }
    Ok(())
}

/// seL4's `sameObjectAs(newCap, srcSlot->cap) && sameObjectAs(tCap, slot->cap)`.
fn still_sources(tc: &ThreadControl, new: Cap, src: Slot) -> bool {
    let t_cap = Cap::Thread { tcb: tc.target };
    same_object_as(&new, &src.cap()) && same_object_as(&t_cap, &tc.slot.cap())
}

/// The IPC buffer part of `invokeTCB_ThreadControl` (`thread_control_update_ipc_buffer`).
fn install_buffer(k: &mut Kernel, tc: &ThreadControl, b: BufferUpdate) -> Result<(), Preempted> {
    let target = tc.target;
    let dest = target.slot(tcb_slot::BUFFER);
    cte_delete(k, dest, true)?;
    target.with(|x| x.ipc_buffer = b.addr);
    if let Some((frame, src)) = b.frame {
        if still_sources(tc, frame, src) && dest.is_empty() {
            cte_insert(frame, src, dest);
        }
    }
    if target == k.cur_thread {
        reschedule_required_cold(k);
    }
    Ok(())
}

/// `invokeTCB_ThreadControl` (non-MCS), in seL4's order: fault handler, MCP, CSpace root,
/// VSpace root, IPC buffer, priority.
#[cfg(not(feature = "mcs"))]
fn invoke_thread_control(k: &mut Kernel, tc: &ThreadControl) -> Result<(), Preempted> {
    let target = tc.target;
    if let Some(sp) = tc.space {
        target.with(|x| x.fault_handler = sp.fault_ep);
    }
    if let Some(mcp) = tc.mcp {
        target.with(|x| x.mcp = mcp);
    }
    if let Some(sp) = tc.space {
        install_tcb_cap(k, tc, tcb_slot::CTABLE, sp.croot.0, sp.croot.1)?;
        install_tcb_cap(k, tc, tcb_slot::VTABLE, sp.vroot.0, sp.vroot.1)?;
    }
    if let Some(b) = tc.buffer {
        install_buffer(k, tc, b)?;
    }
    if let Some(p) = tc.priority {
        set_priority(k, target, p);
    }
    Ok(())
}

/// MCS `invokeTCB_ThreadControlCaps` and `invokeTCB_ThreadControlSched` in one, in their
/// orders: fault endpoint, timeout endpoint, CSpace root, VSpace root, IPC buffer (Caps); fault
/// endpoint, MCP, priority, scheduling context (Sched). A decoded invocation sets the parts of
/// one of them only.
#[cfg(feature = "mcs")]
fn invoke_thread_control(k: &mut Kernel, tc: &ThreadControl) -> Result<(), Preempted> {
    let target = tc.target;
    if let Some(h) = tc.handler {
        install_tcb_cap(k, tc, h.index, h.cap, h.src)?;
    }
    if let Some(sp) = tc.space {
        install_tcb_cap(k, tc, tcb_slot::CTABLE, sp.croot.0, sp.croot.1)?;
        install_tcb_cap(k, tc, tcb_slot::VTABLE, sp.vroot.0, sp.vroot.1)?;
    }
    if let Some(b) = tc.buffer {
        install_buffer(k, tc, b)?;
    }
    if let Some(mcp) = tc.mcp {
        target.with(|x| x.mcp = mcp);
    }
    if let Some(p) = tc.priority {
        set_priority(k, target, p);
    }
    match tc.sc {
        Some(Some(sc)) => crate::object::sched_context::bind_tcb(k, sc, target),
        Some(None) => {
            if let Some(sc) = target.with(|x| x.sched_context).get() {
                crate::object::sched_context::unbind_tcb(k, sc);
            }
        }
        None => {}
    }
    Ok(())
}

/// `setPriority` (non-MCS): takes the thread off its ready queue, changes its priority, and if
/// it is runnable, asks for a new choice (the current thread) or offers it to the scheduler.
#[cfg(not(feature = "mcs"))]
pub fn set_priority(k: &mut Kernel, t: TcbRef, prio: u64) {
    crate::sched::sched_dequeue_cold(k, t);
    t.with(|x| x.priority = prio);
    if t.state().is_runnable() {
        if t == k.cur_thread {
            reschedule_required_cold(k);
        } else {
            possible_switch_to(k, t);
        }
    }
}

/// `setPriority` (MCS): a runnable thread that is queued or current moves to the ready queue of
/// its new priority and the scheduler chooses again; a thread blocked on an endpoint or a
/// notification moves to its place in that object's queue, which is ordered by priority
/// (`reorderEP`, `reorderNTFN`); any other thread just changes its priority.
#[cfg(feature = "mcs")]
pub fn set_priority(k: &mut Kernel, t: TcbRef, prio: u64) {
    match t.state() {
        ThreadState::Running | ThreadState::Restart => {
            if t.with(|x| x.queued) != 0 || t == k.cur_thread {
                crate::sched::sched_dequeue_cold(k, t);
                t.with(|x| x.priority = prio);
                crate::sched::sched_enqueue_cold(k, t);
                crate::sched::reschedule_required(k);
            } else {
                t.with(|x| x.priority = prio);
            }
        }
        ThreadState::BlockedOnReceive | ThreadState::BlockedOnSend => {
            t.with(|x| x.priority = prio);
            if let Some(ep) = t.blocked_on_ep() {
                ep.reorder(t);
            }
        }
        ThreadState::BlockedOnNotification => {
            t.with(|x| x.priority = prio);
            if let Some(n) = t.blocked_on_ntfn() {
                n.reorder(t);
            }
        }
        _ => t.with(|x| x.priority = prio),
    }
}

#[cfg(test)]
#[path = "tcb_invocation_tests.rs"]
mod tests;

#[cfg(all(test, feature = "mcs"))]
#[path = "tcb_invocation_mcs_tests.rs"]
mod mcs_tests;
