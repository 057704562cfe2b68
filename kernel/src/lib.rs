//! A capability-based microkernel implementing the seL4 design, ABI-compatible with seL4 16.0.0.
//!
//! Design rules, in order:
//! 1. The object logic (capabilities, CNodes, the MDB, untyped retype, IPC, scheduling) is
//!    plain safe Rust that runs on the host under `cargo test` against simulated memory.
//! 2. `unsafe` lives only in the object-memory layer ([`mem`]: object memory, the one global
//!    kernel state) and in `arch/<name>/machine` (CSRs, MMIO, trap entry), each block with a
//!    `// SAFETY:` note; the crate denies `unsafe_code` and these two module trees alone are
//!    allowed it (below and in `arch/riscv64/mod.rs`, `arch/aarch64/mod.rs`).
//! 3. Every invocation is split, as in seL4, into a decode step (all checks, no side effects,
//!    returns the seL4 error) and an invoke step (cannot fail). Bad user input changes nothing.
//! 4. The kernel never allocates after boot and has no heap.
//! 5. Simple algorithms over clever ones, except on the measured IPC fastpath.
#![cfg_attr(target_os = "none", no_std)]
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]

#[macro_use]
pub mod log;
pub mod arch;
#[cfg(feature = "track_utilisation")]
pub mod benchmark;
#[cfg(all(test, feature = "track_utilisation"))]
mod benchmark_tests;
pub mod boot;
pub mod cap;
pub mod cspace;
pub mod cte;
#[cfg(feature = "debug_build")]
pub mod debug;
#[cfg(test)]
mod debug_tests;
pub mod entry;
pub mod error;
#[cfg(feature = "fastpath")]
pub mod fastpath;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzz;
#[cfg(test)]
mod fuzz_tests;
pub mod invocation;
pub mod ipc;
#[cfg(test)]
mod ipc_tests;
#[cfg(test)]
mod irq_tests;
#[cfg(all(test, feature = "mcs", feature = "fastpath"))]
mod mcs_fastpath_tests;
#[cfg(all(test, feature = "mcs"))]
mod mcs_ipc_tests;
#[allow(unsafe_code)]
pub mod mem;
#[cfg(test)]
pub mod model;
pub mod object;
pub mod sched;
pub mod state;
pub mod syscall;
#[cfg(any(test, feature = "fuzzing"))]
pub mod testing;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod user_error_tests;
