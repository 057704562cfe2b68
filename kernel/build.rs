//! Generates the linker script of the target's architecture for the kernel binary when building
//! for the machine (bare metal): `link.ld` on riscv64, `link-aarch64.ld` on aarch64. Host builds
//! (`cargo test`, `cargo build -p kernel`) link normally.
//!
//! Both scripts put the boot-only code and data first, up to the page-aligned `ki_boot_end`
//! (boot hands that memory out as untyped at its end, as seL4 does). Which input sections are
//! boot-only is the same on both architectures, so this generator writes that list once, for
//! the architecture built, in place of three marker lines of the script:
//! - `/* BOOT-ONLY CODE */`: the Rust boot flow (`#[link_section = ".boot.text"]`), and by
//!   symbol name (every function has its own section) the kernel's boot modules
//!   (`kernel::boot`, `kernel::arch::<arch>::boot`, the device-tree readers
//!   `kernel::arch::devicetree` and `kernel::arch::<arch>::machine::devicetree`, with the
//!   latter's implementation of the former's hooks, and their node lookup
//!   `kernel::arch::fdt_path`), the crates
//!   only boot uses (`fdt`, `xmas_elf` and their trait impls), `log::apply_bootargs`,
//!   `object::interrupt::init_irqs`, the binary's `machine_main` and the machine's
//!   `early_init`;
//! - `/* BOOT-ONLY LIBRARY CODE */`: in optimised builds without `debug_build` and
//!   `track_utilisation`, library functions that in those builds only boot calls (the device
//!   tree's string splitting and search, `memmove`, the formatting code: see
//!   [`BOOT_ONLY_LIBRARY`]; without `printing` also [`BOOT_ONLY_LIBRARY_SILENT`]). The other builds call them after boot too (debug printing,
//!   unoptimised copies), so they keep them in `.text`;
//! - `/* BOOT-ONLY RODATA */`: the read-only data that is theirs alone (jump tables), by the
//!   same names.
//!
//! `cargo xtask test` checks every kernel it boots: nothing that runs after boot may use the
//! boot-only region (`xtask/src/bootregion.rs`).

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

/// Library code that lean builds without `printing` call only at boot as well: the `u64`
/// `Display` and `Formatter::pad_integral` that the bounds-check panic's message refers to
/// (the panic handler of those builds reads no message).
const BOOT_ONLY_LIBRARY_SILENT: &str = "
        *(.text._RN*4core3fmt3num3impyNtB9_7Display3fmt)
        *(.text._RN*4core3fmtNtB*_9Formatter12pad_integral*)";

/// The boot-only code of the kernel built for `arch` (its module name, 7 letters in the
/// mangled names: `riscv64`, `aarch64`).
fn boot_only_code(arch: &str) -> String {
    format!(
        "\
        *(.boot.text .boot.text.*)
        *(.text._ZN6kernel4boot*)
        *(.text._ZN6kernel4arch7{arch}4boot*)
        *(.text._ZN6kernel4arch10devicetree*)
        *(.text._ZN6kernel4arch8fdt_path*)
        *(.text._ZN6kernel4arch7{arch}7machine10devicetree*)
        *(.text._ZN*_$LT$kernel..arch..{arch}..machine..devicetree..*)
        *(.text._ZN3fdt* .text._RN*3fdt*)
        *(.text._ZN8xmas_elf* .text._RN*8xmas_elf*)
        *(.text._ZN*_$LT$xmas_elf..*)
        *(.text._ZN*apply_bootargs*)
        *(.text._ZN6kernel12machine_main*)
        *(.text._ZN6kernel6object9interrupt9init_irqs*)
        *(.text._ZN6kernel4arch7{arch}7machine4boot10early_init*)"
    )
}

/// The read-only data only the boot-only code uses (its jump tables; the binary's boot flow,
/// `kernel::machine_main`, is named because its `#[link_section]` does not carry over to its
/// jump tables).
fn boot_only_rodata(arch: &str) -> String {
    format!(
        "\
        *(.boot.rodata .boot.rodata.*)
        *(.rodata.kernel_main)
        *(.rodata._ZN6kernel12machine_main*)
        *(.rodata._ZN6kernel4boot*)
        *(.rodata._ZN6kernel4arch7{arch}4boot*)
        *(.rodata._ZN6kernel4arch10devicetree*)
        *(.rodata._ZN6kernel4arch8fdt_path*)
        *(.rodata._ZN6kernel4arch7{arch}7machine10devicetree*)
        *(.rodata._ZN*_$LT$kernel..arch..{arch}..machine..devicetree..*)
        *(.rodata._ZN3fdt* .rodata._RN*3fdt*)
        *(.rodata._ZN8xmas_elf* .rodata._RN*8xmas_elf*)"
    )
}

const CODE_MARKER: &str = "/* BOOT-ONLY CODE */";
const LIBRARY_MARKER: &str = "/* BOOT-ONLY LIBRARY CODE */";
const RODATA_MARKER: &str = "/* BOOT-ONLY RODATA */";

fn main() {
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:rerun-if-changed=link-aarch64.ld");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(tcb_context_first)");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("none") {
        return;
    }
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let (arch, source) = match std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
        Ok("aarch64") => ("aarch64", "link-aarch64.ld"),
        _ => ("riscv64", "link.ld"),
    };
    // The TCB's register context first (`object::tcb::Tcb`): on riscv64 the IPC fastpath's
    // exit then has the context in the TCB's register; on aarch64 it made the other paths
    // dearer (their slot addresses need an offset) and the fastpath no cheaper.
    if arch == "riscv64" {
        println!("cargo:rustc-cfg=tcb_context_first");
    }
    let script = std::fs::read_to_string(format!("{dir}/{source}"))
        .unwrap_or_else(|e| panic!("reading {source}: {e}"));
    for marker in [CODE_MARKER, LIBRARY_MARKER, RODATA_MARKER] {
        assert!(
            script.matches(marker).count() == 1,
            "{source} must have the line {marker} once"
        );
    }
    let lean = std::env::var("OPT_LEVEL").is_ok_and(|o| o != "0")
        && std::env::var_os("CARGO_FEATURE_DEBUG_BUILD").is_none()
        && std::env::var_os("CARGO_FEATURE_TRACK_UTILISATION").is_none();
    let silent = lean && std::env::var_os("CARGO_FEATURE_PRINTING").is_none();
    let library = match (lean, silent) {
        (true, true) => format!("{BOOT_ONLY_LIBRARY}{BOOT_ONLY_LIBRARY_SILENT}"),
        (true, false) => BOOT_ONLY_LIBRARY.to_string(),
        _ => String::new(),
    };
    let script = script
        .replace(CODE_MARKER, &boot_only_code(arch))
        .replace(LIBRARY_MARKER, &library)
        .replace(RODATA_MARKER, &boot_only_rodata(arch));
    let path = format!("{out}/{source}");
    std::fs::write(&path, script).expect("writing the linker script");
    println!("cargo:rustc-link-arg-bins=-T{path}");
    // Keep the relocations in the ELF: `cargo xtask test` checks with them that nothing
    // outside the boot-only region refers into it (it is untyped memory after boot).
    println!("cargo:rustc-link-arg-bins=--emit-relocs");
}
