//! Passes the linker script to the kernel binary when building for the machine (bare metal).
//! Host builds (`cargo test`, `cargo build -p kernel`) link normally.

fn main() {
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("none") {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        println!("cargo:rustc-link-arg-bins=-T{dir}/link.ld");
        // Keep the relocations in the ELF: `cargo xtask test` checks with them that nothing
        // outside the boot-only region refers into it (it is untyped memory after boot).
        println!("cargo:rustc-link-arg-bins=--emit-relocs");
    }
}
