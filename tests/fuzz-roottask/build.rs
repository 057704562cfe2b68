//! Link with libsel4's user linker script (bare-metal targets only), and rebuild when the
//! fuzzing parameters baked into the image change (`FUZZ_SEED`, `FUZZ_ITERS`, `FUZZ_CYCLE`:
//! `cargo xtask fuzz --qemu` sets them).

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    for v in ["FUZZ_SEED", "FUZZ_ITERS", "FUZZ_CYCLE"] {
        println!("cargo:rerun-if-env-changed={v}");
    }
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("none") {
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
