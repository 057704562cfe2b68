//! Kernel objects, one module each (seL4 `src/object/`).
pub mod tcb;
pub mod cnode;
pub mod endpoint;
pub mod notification;
pub mod objecttype;
pub mod tcb_ops;
pub mod untyped;
pub mod tcb_invocation;
pub mod interrupt;
