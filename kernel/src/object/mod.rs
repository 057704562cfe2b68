//! Kernel objects, one module each (seL4 `src/object/`).
#![forbid(unsafe_code)]
pub mod asid;
pub mod cnode;
pub mod domain;
pub mod endpoint;
pub mod interrupt;
pub mod notification;
pub mod objecttype;
#[cfg(feature = "mcs")]
pub mod reply;
#[cfg(feature = "mcs")]
pub mod sched_context;
#[cfg(feature = "mcs")]
pub mod sched_control;
pub mod tcb;
pub mod tcb_invocation;
pub mod tcb_ops;
pub mod tcb_queue;
pub mod untyped;
