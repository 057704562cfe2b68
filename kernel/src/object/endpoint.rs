//! Endpoints (seL4 `src/object/endpoint.c`). IPC itself comes with the threads/IPC work; an
//! endpoint here is 16 bytes of queue state.

use crate::state::Kernel;

/// An endpoint object: state (0 idle, 1 send queue, 2 receive queue) and its thread queue.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct Endpoint {
    /// Queue head TCB (kernel-virtual) with the state in the low 2 bits.
    pub head_state: u64,
    /// Queue tail TCB.
    pub tail: u64,
}

const _: () = assert!(core::mem::size_of::<Endpoint>() == 1 << abi::object::ENDPOINT_BITS);

/// `cancelAllIPC`: makes every thread queued on the endpoint at `ptr` runnable again (restarting
/// its syscall) and empties the queue. No thread can be queued before IPC exists, so this only
/// resets the queue.
pub fn cancel_all_ipc(_k: &mut Kernel, ptr: usize) {
    crate::mem::PPtr::<Endpoint>::new(ptr).set(Endpoint::default());
}

/// `cancelBadgedSends`: releases the threads queued to send on the endpoint with `badge`.
/// No thread can be queued before IPC exists, so there is nothing to release yet.
pub fn cancel_badged_sends(_k: &mut Kernel, _ptr: usize, _badge: u64) {}
