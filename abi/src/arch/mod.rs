//! What the instruction-set architecture decides in the ABI (libsel4's `arch_include/<arch>`
//! and `sel4_arch_include/<sel4_arch>`): page and paging-structure sizes, the user address
//! space, the register context, and the architecture's part of the object types and invocation
//! labels (those are arms of [`crate::ObjectType`] and [`crate::InvocationLabel`], in the
//! architecture's section).
//!
//! riscv64 is the only architecture so far; [`current`] names the one being built for.

pub mod riscv64;

/// The architecture of this build.
pub use riscv64 as current;
