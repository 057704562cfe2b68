//! The seL4 16.0.0 ABI: riscv64 on `qemu-riscv-virt` and aarch64 on `qemu-arm-virt`, non-MCS by
//! default, MCS with the `mcs` feature (seL4's `CONFIG_KERNEL_MCS`).
//!
//! Layered as libsel4 is: generic modules (syscalls, invocation labels, object types, errors,
//! messages, IPC buffer, BootInfo, faults), whose configuration-dependent parts are selected by
//! cargo features of this crate ([`config`]); what the instruction set decides in [`arch`]; what
//! the board decides in [`platform`]. Every architecture and platform is compiled (and tested)
//! everywhere; the target selects the current one (`arch::current`, `platform::current`:
//! aarch64 and `qemu-arm-virt` on `aarch64-unknown-none`, riscv64 and `qemu-riscv-virt`
//! otherwise), which the crate root re-exports. One source of truth for the kernel and for user code: syscall numbers, invocation labels,
//! object types and their sizes, error codes, `seL4_MessageInfo`, `seL4_CapRights`, CNode cap
//! data, the IPC buffer and BootInfo layouts, the initial cap slots and the fault message
//! layouts. Every number here is a fact read off seL4 16.0.0's `libsel4`; the unit tests at the
//! bottom of each module pin them, with the `libsel4` file they come from.
#![no_std]
#![forbid(unsafe_code)]

pub mod arch;
pub mod benchmark;
pub mod bootinfo;
pub mod config;
pub mod error;
pub mod fault;
pub mod invocation;
pub mod ipc_buffer;
pub mod message;
pub mod object;
pub mod platform;
pub mod syscall;

/// `seL4_UserContext` of the architecture.
pub use arch::current::user_context;

pub use bootinfo::*;
pub use error::Error;
pub use invocation::InvocationLabel;
pub use ipc_buffer::IpcBuffer;
pub use message::{CNodeCapData, CapRights, MessageInfo};
pub use object::ObjectType;
pub use syscall::Syscall;

/// `seL4_Word`: a machine word (64 bits on both architectures).
pub type Word = u64;
/// `seL4_CPtr`: a capability address in a CSpace.
pub type CPtr = u64;

pub use arch::current::{WORD_BITS, WORD_SIZE_BITS};
