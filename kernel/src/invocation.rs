//! How decoders read an invocation's arguments (seL4 `getSyscallArg` and the looked-up extra
//! caps of `handleInvocation`).
#![forbid(unsafe_code)]

use crate::cap::Cap;
use crate::cte::Slot;

/// The arguments of an invocation as decoders read them: its message registers and extra
/// caps, already looked up by the syscall layer (`lookupExtraCaps`).
pub trait InvocationArgs {
    /// Message length in words (already limited to what the thread can pass).
    fn len(&self) -> usize;
    /// Whether the message has no words.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Message register `i` (`getSyscallArg`).
    fn mr(&self, i: usize) -> u64;
    /// Extra cap `i`, if present: its cap and slot.
    fn extra_cap(&self, i: usize) -> Option<(Cap, Slot)>;
    /// The CPtr the caller gave for extra cap `i` (named in `userError` lines).
    fn extra_cptr(&self, i: usize) -> u64;
    /// Whether the invocation is a `seL4_Call` (invocations that return values reply only
    /// then).
    fn is_call(&self) -> bool;
}
