//! The loader binary for the machine is linked with `link.ld`, its architecture and base
//! address filled in for the target. It embeds the kernel and the root task: their paths come from
//! the environment variables `LOADER_KERNEL` and `LOADER_ROOT_TASK` (`cargo xtask image` and the
//! loader test stage set them). Host builds (tests of the placement logic) need neither.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:rerun-if-env-changed=LOADER_KERNEL");
    println!("cargo:rerun-if-env-changed=LOADER_ROOT_TASK");
    println!("cargo:rerun-if-env-changed=LOADER_NO_DTB");
    println!("cargo:rerun-if-env-changed=LOADER_FAULT");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("none") {
        return;
    }
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    // The loader's place: 64 MiB above the base of QEMU virt's RAM.
    let (output_arch, base) = match std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
        Ok("aarch64") => ("aarch64", "0x44000000"),
        _ => ("riscv", "0x84000000"),
    };
    let script = std::fs::read_to_string(format!("{dir}/link.ld"))
        .expect("reading link.ld")
        .replace("@OUTPUT_ARCH@", output_arch)
        .replace("@BASE@", base);
    let path = format!("{out}/link.ld");
    std::fs::write(&path, script).expect("writing the linker script");
    println!("cargo:rustc-link-arg-bins=-T{path}");
    for var in ["LOADER_KERNEL", "LOADER_ROOT_TASK"] {
        match std::env::var(var) {
            Ok(p) => println!("cargo:rerun-if-changed={p}"),
            Err(_) => panic!(
                "{var} is not set: build the loader with `cargo xtask image` (it embeds a kernel \
                 ELF and a root task ELF, whose paths it takes from LOADER_KERNEL and \
                 LOADER_ROOT_TASK)"
            ),
        }
    }
}
