//! TCB and DomainSet invocations (seL4 `src/object/tcb.c` `decodeTCBInvocation`,
//! `decodeDomainInvocation`).

use crate::cap::Cap;
use crate::cte::Slot;
use crate::error::SyscallError;
use crate::object::cnode::InvocationArgs;
use crate::object::tcb::TcbRef;
use crate::state::Kernel;
use abi::InvocationLabel;

/// Decodes and performs an invocation of a thread cap (`cap` in `slot`) by `thread`.
///
/// Contract with the syscall layer (as seL4's decoders): all checks happen before any change
/// and an error changes nothing. After the checks pass, set `thread` to `Restart`, then perform.
/// An invocation with no result leaves the thread in `Restart` (the syscall layer then sends the
/// empty success reply); one that returns values (ReadRegisters) writes its reply into the
/// thread's registers/IPC buffer and sets it `Running`. An invocation that makes the invoker
/// block or stop (e.g. suspending itself) leaves whatever state that gives.
pub fn decode_tcb_invocation(
    k: &mut Kernel,
    label: InvocationLabel,
    args: &impl InvocationArgs,
    cap: Cap,
    slot: Slot,
    thread: TcbRef,
) -> Result<(), SyscallError> {
    let _ = (k, label, args, cap, slot, thread);
    Err(SyscallError::IllegalOperation)
}

/// Decodes and performs an invocation of the domain cap (`seL4_DomainSet_*`), same contract.
pub fn decode_domain_invocation(
    k: &mut Kernel,
    label: InvocationLabel,
    args: &impl InvocationArgs,
    thread: TcbRef,
) -> Result<(), SyscallError> {
    let _ = (k, label, args, thread);
    Err(SyscallError::IllegalOperation)
}
