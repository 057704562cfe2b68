//! RISC-V 64 (Sv39) on QEMU `virt`.

pub mod context;

#[cfg(target_os = "none")]
pub mod machine;
