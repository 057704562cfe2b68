//! Notifications (seL4 `src/object/notification.c`).

use crate::state::Kernel;

/// A notification object: 32 bytes.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct Notification {
    /// Queue head TCB with the state (0 idle, 1 waiting, 2 active) in the low 2 bits.
    pub head_state: u64,
    /// Queue tail TCB.
    pub tail: u64,
    /// The notification word (OR of signalled badges).
    pub word: u64,
    /// Bound TCB (kernel-virtual) or 0.
    pub bound_tcb: u64,
}

const _: () = assert!(core::mem::size_of::<Notification>() == 1 << abi::object::NOTIFICATION_BITS);

/// `unbindMaybeNotification` + `cancelAllSignals`: detaches the bound TCB and releases waiters.
pub fn unbind_and_cancel_all(_k: &mut Kernel, ptr: usize) {
    let n = crate::mem::PPtr::<Notification>::new(ptr);
    let bound = n.get().bound_tcb;
    if bound != 0 {
        crate::object::tcb::TcbRef::new(bound as usize).with(|t| t.bound_notification = 0);
    }
    n.with(|x| {
        x.head_state = 0;
        x.tail = 0;
        x.bound_tcb = 0;
    });
}
