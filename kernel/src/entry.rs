//! Kernel entry from user mode: syscalls, exceptions and interrupts.

use crate::arch::ArchContext;

/// Handles a trap from user mode. The current thread's registers are already saved in its
/// context. `scause`/`stval` are the trap's CSR values. Returns the context of the thread to
/// run next, which the architecture restores.
pub fn handle_user_trap(scause: u64, stval: u64) -> *mut ArchContext {
    let _ = (scause, stval);
    crate::arch::halt(false)
}
