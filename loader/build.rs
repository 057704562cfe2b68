//! The loader binary for the machine embeds the kernel and the root task: their paths come from
//! the environment variables `LOADER_KERNEL` and `LOADER_ROOT_TASK` (`cargo xtask image` and the
//! loader test stage set them). Host builds (tests of the placement logic) need neither.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:rerun-if-env-changed=LOADER_KERNEL");
    println!("cargo:rerun-if-env-changed=LOADER_ROOT_TASK");
    println!("cargo:rerun-if-env-changed=LOADER_NO_DTB");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("none") {
        return;
    }
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-arg-bins=-T{dir}/link.ld");
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
