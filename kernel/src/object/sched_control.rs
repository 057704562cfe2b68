//! SchedControl (MCS; seL4 `src/object/schedcontrol.c`). LEAD-STUB until branch mcs-time.
#![forbid(unsafe_code)]
use crate::state::Kernel;
/// A decoded SchedControl invocation.
#[derive(Clone, Copy, Debug)]
pub enum SchedControlInvocation {}
/// `decodeSchedControlInvocation`.
pub fn decode_sched_control_invocation(
    _k: &mut Kernel,
    _label: abi::InvocationLabel,
    _args: &impl crate::invocation::InvocationArgs,
    _core: u64,
) -> Result<SchedControlInvocation, crate::error::SyscallError> {
    Err(crate::error::SyscallError::IllegalOperation)
}
/// `invokeSchedControl_ConfigureFlags`.
pub fn invoke_sched_control(_k: &mut Kernel, i: SchedControlInvocation) {
    match i {}
}
