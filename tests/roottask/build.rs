//! Link the root task with libsel4's user linker script (bare-metal targets only), and say
//! which architecture the tests are for: `cfg(arch_riscv64)` (riscv64, and host builds, which
//! only type-check) or `cfg(arch_aarch64)` (bare-metal aarch64), for the tests that are
//! written for one architecture only.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(arch_riscv64, arch_aarch64)");
    let bare = env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("none");
    if bare && env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("aarch64") {
        println!("cargo:rustc-cfg=arch_aarch64");
    } else {
        println!("cargo:rustc-cfg=arch_riscv64");
    }
    if !bare {
        return;
    }
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let script = dir
        .join("../../libsel4/user.ld")
        .canonicalize()
        .expect("libsel4/user.ld is missing");
    println!("cargo:rerun-if-changed={}", script.display());
    println!("cargo:rustc-link-arg-bins=-T{}", script.display());
}
