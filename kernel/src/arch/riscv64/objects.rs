//! RISC-V VSpace object invocations (seL4 `src/arch/riscv/kernel/vspace.c`
//! `decodeRISCVMMUInvocation`): page tables, frames, ASID control and ASID pools.

use crate::cap::Cap;
use crate::cte::Slot;
use crate::error::SyscallError;
use crate::object::cnode::InvocationArgs;
use crate::object::tcb::TcbRef;
use crate::state::Kernel;
use abi::InvocationLabel;

/// Decodes and performs an invocation of a RISC-V VSpace cap (`cap` in `slot`) by `thread`.
///
/// Contract with the syscall layer (as seL4's decoders): all checks happen before any change
/// and an error changes nothing. After the checks pass, set `thread` to `Restart`, then perform.
/// An invocation with no result leaves the thread in `Restart` (the syscall layer then sends the
/// empty success reply); one that returns values (GetAddress) writes its reply into the
/// thread's registers/IPC buffer and sets it `Running`.
pub fn decode_invocation(
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
