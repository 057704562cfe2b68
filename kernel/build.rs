//! Passes the linker script to the kernel binary when building for the machine (bare metal).
//! Host builds (`cargo test`, `cargo build -p kernel`) link normally.
//!
//! The script is `link.ld` with the line `/* BOOT-ONLY LIBRARY CODE */` replaced, in optimised
//! builds without `debug_build` and `track_utilisation`, by input-section patterns for library
//! functions that in those builds only boot calls (the device tree's string splitting and
//! search, `memmove`): they go to the boot-only region instead of the runtime `.text`. The
//! other builds call them after boot too (debug printing, unoptimised copies), so they keep
//! them in `.text`. `cargo xtask test` checks every kernel it boots: nothing that runs after
//! boot may use the boot-only region.

/// Library code that optimised builds without debug printing call only at boot (symbol names
/// in both manglings: the kernel's own instances are legacy `_ZN`, the prebuilt `core`'s v0 `_R`).
const BOOT_ONLY_LIBRARY: &str = "\
        *(.text._ZN4core3str4iter* .text._RN*4core3str4iter*)
        *(.text._ZN4core5slice6memchr* .text._RN*4core5slice6memchr*)
        *(.text.memmove .text._RN*17compiler_builtins3mem7memmove*)";

const MARKER: &str = "/* BOOT-ONLY LIBRARY CODE */";

fn main() {
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("none") {
        return;
    }
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let script = std::fs::read_to_string(format!("{dir}/link.ld")).expect("reading link.ld");
    assert!(script.contains(MARKER), "link.ld has no line {MARKER}");
    let lean = std::env::var("OPT_LEVEL").is_ok_and(|o| o != "0")
        && std::env::var_os("CARGO_FEATURE_DEBUG_BUILD").is_none()
        && std::env::var_os("CARGO_FEATURE_TRACK_UTILISATION").is_none();
    let script = script.replace(MARKER, if lean { BOOT_ONLY_LIBRARY } else { "" });
    let path = format!("{out}/link.ld");
    std::fs::write(&path, script).expect("writing the linker script");
    println!("cargo:rustc-link-arg-bins=-T{path}");
    // Keep the relocations in the ELF: `cargo xtask test` checks with them that nothing
    // outside the boot-only region refers into it (it is untyped memory after boot).
    println!("cargo:rustc-link-arg-bins=--emit-relocs");
}
