//! The seL4 16.0.0 ABI for riscv64 (non-MCS, `qemu-riscv-virt` reference configuration).
//!
//! One source of truth for the kernel and for user code: syscall numbers, invocation labels,
//! object types and their sizes, error codes, `seL4_MessageInfo`, `seL4_CapRights`, CNode cap
//! data, the IPC buffer and BootInfo layouts, the initial cap slots and the fault message
//! layouts. Every number here is a fact read off seL4 16.0.0's `libsel4`; the unit tests at the
//! bottom of each module pin them, with the `libsel4` file they come from.
#![no_std]
#![forbid(unsafe_code)]

pub mod bootinfo;
pub mod config;
pub mod error;
pub mod fault;
pub mod invocation;
pub mod ipc_buffer;
pub mod message;
pub mod object;
pub mod syscall;
pub mod user_context;

pub use bootinfo::*;
pub use error::Error;
pub use invocation::InvocationLabel;
pub use ipc_buffer::IpcBuffer;
pub use message::{CNodeCapData, CapRights, MessageInfo};
pub use object::ObjectType;
pub use syscall::Syscall;

/// `seL4_Word`: a machine word (64 bits on riscv64).
pub type Word = u64;
/// `seL4_CPtr`: a capability address in a CSpace.
pub type CPtr = u64;

/// `seL4_WordBits` (`sel4_arch/constants.h`).
pub const WORD_BITS: u32 = 64;
/// `seL4_WordSizeBits` (`sel4_arch/constants.h`).
pub const WORD_SIZE_BITS: u32 = 3;
