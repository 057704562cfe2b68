//! What the platform (board) decides that user code sees: interrupt numbers, device memory
//! range, timer frequency. `qemu-riscv-virt` is the only platform so far; [`current`] names
//! the one being built for.

pub mod qemu_riscv_virt;

/// The platform of this build.
pub use qemu_riscv_virt as current;
