//! What the instruction-set architecture decides in the ABI (libsel4's `arch_include/<arch>`
//! and `sel4_arch_include/<sel4_arch>`): page and paging-structure sizes, the user address
//! space, the register context, the fault message layouts, and the architecture's object types
//! and invocation labels (each architecture has its own [`crate::ObjectType`] and
//! [`crate::InvocationLabel`]: the generic numbers, then its own).
//!
//! Both architectures are compiled everywhere, so that host tests pin the numbers of each;
//! [`current`] names the one being built for: aarch64 when the target is bare-metal aarch64
//! (`aarch64-unknown-none`), riscv64 otherwise (the riscv64 target, and host builds, whose
//! tests drive a simulated riscv64 machine).

pub mod aarch64;
pub mod riscv64;

/// The architecture of this build.
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub use aarch64 as current;
/// The architecture of this build.
#[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
pub use riscv64 as current;
