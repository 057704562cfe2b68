//! Passes the linker script of the target's architecture to the kernel binary when building for
//! the machine (bare metal): `link-aarch64.ld` on aarch64 as it is; on riscv64 `link.ld` as
//! below. Host builds (`cargo test`, `cargo build -p kernel`) link normally.
//!
//! The riscv64 script is `link.ld` with the line `/* BOOT-ONLY LIBRARY CODE */` replaced, in
//! optimised builds without `debug_build` and `track_utilisation`, by input-section patterns
//! for library functions that in those builds only boot calls (the device tree's string
//! splitting and search, `memmove`): they go to the boot-only region instead of the runtime
//! `.text`. The other builds call them after boot too (debug printing, unoptimised copies), so
//! they keep them in `.text`. `cargo xtask test` checks every riscv64 kernel it boots: nothing
//! that runs after boot may use the boot-only region.

/// Library code that optimised builds without debug printing call only at boot (symbol names
/// in both manglings: the kernel's own instances are legacy `_ZN`, the prebuilt `core`'s v0
/// `_R`): string splitting, search and UTF-8 checks, `memmove`/`memcmp`, the panics of
/// slicing, `unwrap`, `expect` and `assert_eq!`, and the `core::fmt` log lines (`kernel::log::
/// _log`: after boot these builds print with `log::Out`, so the kernel's runtime code cannot
/// start using `kwarn!` and the like unnoticed).
const BOOT_ONLY_LIBRARY: &str = "\
        *(.text._ZN4core3str4iter* .text._RN*4core3str4iter*)
        *(.text._ZN4core5slice6memchr* .text._RN*4core5slice6memchr*)
        *(.text._RN*4core3str8converts9from_utf8)
        *(.text.memmove .text._RN*17compiler_builtins3mem7memmove* .text.memcmp)
        *(.text.unlikely._RN*4core5slice5index16slice_index_fail)
        *(.text.unlikely._RN*4core9panicking5panic)
        *(.text.unlikely._RN*4core9panicking19assert_failed_inner)
        *(.text.unlikely._ZN4core9panicking13assert_failed*)
        *(.text.unlikely._RN*4core6option13unwrap_failed)
        *(.text.unlikely._RN*4core6option13expect_failed)
        *(.text._ZN6kernel3log4_log*)
        *(.text._RN*4core3fmt5write .text._RN*4core3fmtNtB5_9Formatter3pad)
        *(.text._RN*4core3fmt3num*LowerHex3fmt .text._RN*4core3fmt3num3impmNtB9_7Display3fmt)
        *(.text._RN*4core3fmtR*3fmtB*_ .text._RN*4core3fmtNtB5_9ArgumentsNtB5_7Display3fmt)
        *(.text._ZN4core3fmt5Write* .text._ZN*kernel..log..Console*core..fmt..Write*)
        *(.text._ZN*core..fmt..Debug*3fmt17h* .text._ZN*core..fmt..Display*3fmt17h*)";

const MARKER: &str = "/* BOOT-ONLY LIBRARY CODE */";

fn main() {
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:rerun-if-changed=link-aarch64.ld");
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("none") {
        return;
    }
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("aarch64") {
        // No boot-only region on aarch64 yet: its script as it is.
        println!("cargo:rustc-link-arg-bins=-T{dir}/link-aarch64.ld");
        println!("cargo:rustc-link-arg-bins=--emit-relocs");
        return;
    }
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
