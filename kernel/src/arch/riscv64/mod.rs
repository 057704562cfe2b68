//! RISC-V 64 (Sv39) on QEMU `virt`.

pub mod boot;
pub mod cap;
#[cfg(feature = "debug_build")]
pub mod capdl;
pub mod cause;
pub mod context;
pub mod objects;
pub mod platform;
pub mod timer;
pub mod vspace;
#[cfg(test)]
mod vspace_tests;

#[cfg(target_os = "none")]
#[allow(unsafe_code)]
pub mod machine;

/// The architecture's name, for the boot banner.
pub const NAME: &str = "riscv64";

/// End of the kernel's window onto physical memory (seL4 `PADDR_TOP` = `PPTR_TOP - PPTR_BASE`
/// on riscv64 Sv39: 254 GiB): only RAM below it can hold kernel objects.
pub const PADDR_TOP: u64 = 254 << 30;
