//! Passes the linker script of the target's architecture to the kernel binary when building for
//! the machine (bare metal): `link.ld` (riscv64), `link-aarch64.ld` (aarch64). Host builds
//! (`cargo test`, `cargo build -p kernel`) link normally.

fn main() {
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:rerun-if-changed=link-aarch64.ld");
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("none") {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        let script = match std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
            Ok("aarch64") => "link-aarch64.ld",
            _ => "link.ld",
        };
        println!("cargo:rustc-link-arg-bins=-T{dir}/{script}");
        // Keep the relocations in the ELF: `cargo xtask test` checks with them that nothing
        // outside the boot-only region refers into it (it is untyped memory after boot).
        println!("cargo:rustc-link-arg-bins=--emit-relocs");
    }
}
