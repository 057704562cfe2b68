//! What the platform (board) decides that user code sees: interrupt numbers, device memory
//! range, timer frequency. One module per platform, all compiled everywhere (their tests run
//! on the host); [`current`] names the one being built for: `qemu-arm-virt` on bare-metal
//! aarch64, `qemu-riscv-virt` otherwise (see [`crate::arch`]).

pub mod qemu_arm_virt;
pub mod qemu_riscv_virt;

/// The platform of this build.
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub use qemu_arm_virt as current;
/// The platform of this build.
#[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
pub use qemu_riscv_virt as current;
