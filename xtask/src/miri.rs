//! `cargo xtask miri`: the host tests of the object-memory layer and a selection of the
//! object-logic tests under Miri, which reports undefined behaviour (docs/TESTING.md, "Miri").
//!
//! The kernel's only `unsafe` code outside the machine layer is `kernel/src/mem.rs`: raw
//! pointer reads, writes and `&mut` loans of objects in the simulated physical memory (on the
//! host, one allocation). Miri checks every access of the selected tests against the
//! allocation's bounds, initialisation and Rust's aliasing model (Stacked Borrows).
//!
//! Miri needs a nightly toolchain with its `miri` component: this command installs both with
//! rustup when they are missing and runs `rustup run nightly cargo miri test`; the pinned
//! toolchain of rust-toolchain.toml is not touched. Property tests check `MIRI_CASES` cases
//! each (`testing::proptest_config`). `cargo xtask test` does not run Miri (a fresh machine
//! has no nightly toolchain, and the selection takes several minutes).

use std::process::{Command, ExitCode, Stdio};

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::workspace::Workspace;

/// The nightly toolchain Miri runs on.
const NIGHTLY: &str = "nightly";

/// The tests run under Miri (libtest filters: a test runs if its name contains one), in the
/// default configuration: the memory layer's own tests (the `with` borrow tracking), the cap
/// and fault encodings, and object-logic tests that boot the simulated machine (boot: the
/// root task's ELF loaded, its CNode, VSpace, TCB and untypeds made) and then copy, mint,
/// move, mutate, delete and revoke caps, retype untyped memory, send IPC through an
/// endpoint and set a thread's IPC buffer and spaces. Under Miri one boot alone takes tens of
/// seconds to minutes (on a shared machine), so the property tests, the fuzzer's replays and
/// most object tests are left out; pass other filters after `--` to run them.
pub const SELECTION: &[&str] = &[
    "mem::tests::",
    "cap::tests::",
    "sched::tests::",
    "ipc::fault_tests::",
    "tests::cnode_copy_mint_move_mutate",
    "tests::revoke_deletes_descendants_and_keeps_the_original",
    "ipc_tests::rendezvous_sender_first_and_call_reply",
    "object::tcb_invocation::tests::set_ipc_buffer_and_set_space",
];

/// Miri's flags. The kernel names objects by address (`PPtr` holds a `usize`, as physical
/// and kernel-virtual addresses are), so pointers are made from integers: permissive
/// provenance is what Miri checks those against by default, and the flag only silences the
/// warning at each such cast. Isolation is off because proptest looks up the working
/// directory for its failure files (and the property tests with proptest's default
/// configuration read `PROPTEST_CASES`, set below).
const MIRIFLAGS: &str = "-Zmiri-permissive-provenance -Zmiri-disable-isolation";

/// Cases of the property tests with proptest's default configuration under Miri (those with
/// `testing::proptest_config` check `MIRI_CASES`).
const PROPTEST_CASES: &str = "16";

#[derive(Args)]
pub struct MiriOpts {
    /// Run these tests (libtest filters) instead of the selection.
    #[arg(last = true, value_name = "FILTERS")]
    filters: Vec<String>,
}

/// `rustup run nightly cargo <args>` in the workspace.
fn nightly_cargo(ws: &Workspace, args: &[&str]) -> Command {
    let mut cmd = Command::new("rustup");
    cmd.args(["run", NIGHTLY, "cargo"])
        .args(args)
        .current_dir(&ws.root)
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO");
    cmd
}

fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Installs the nightly toolchain and its miri component if missing.
fn tools(ws: &Workspace) -> Result<()> {
    if succeeds(&mut nightly_cargo(ws, &["miri", "--version"])) {
        return Ok(());
    }
    eprintln!("xtask: installing the {NIGHTLY} toolchain with miri (rustup)");
    let ok = Command::new("rustup")
        .args([
            "toolchain",
            "install",
            NIGHTLY,
            "--profile",
            "minimal",
            "--component",
            "miri",
            "--component",
            "rust-src",
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        bail!("could not install miri: run `rustup +{NIGHTLY} component add miri rust-src`");
    }
    Ok(())
}

pub fn miri(o: MiriOpts) -> Result<ExitCode> {
    let ws = Workspace::load()?;
    tools(&ws)?;
    let mut args: Vec<String> = ["miri", "test", "-p", "kernel", "--lib"]
        .map(String::from)
        .to_vec();
    args.push("--".into());
    if o.filters.is_empty() {
        args.extend(SELECTION.iter().map(|s| s.to_string()));
    } else {
        args.extend(o.filters.iter().cloned());
    }
    let flags = match std::env::var("MIRIFLAGS") {
        Ok(f) if !f.is_empty() => format!("{MIRIFLAGS} {f}"),
        _ => MIRIFLAGS.to_string(),
    };
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    eprintln!(
        "xtask: MIRIFLAGS='{flags}' rustup run {NIGHTLY} cargo {}",
        argv.join(" ")
    );
    let status = nightly_cargo(&ws, &argv)
        .env("MIRIFLAGS", flags)
        .env("PROPTEST_CASES", PROPTEST_CASES)
        .status()
        .context("running cargo miri")?;
    if status.success() {
        eprintln!("xtask: miri: ok: no undefined behaviour reported");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("xtask: miri: FAILED ({status})");
        Ok(ExitCode::FAILURE)
    }
}
