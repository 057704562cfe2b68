//! `cargo xtask fuzz`: coverage-guided fuzzing of the syscall path on the host with
//! cargo-fuzz and libFuzzer, or with `--qemu` the fuzzing root task in QEMU (`qfuzz`).
//!
//! On the host the target is `fuzz/fuzz_targets/syscalls.rs`, the harness `kernel/src/fuzz.rs`
//! (docs/TESTING.md).
//!
//! cargo-fuzz needs a nightly toolchain (`-Zsanitizer`, sanitizer coverage): this command
//! installs `nightly` with rustup and `cargo-fuzz` with `cargo install` when they are missing,
//! and runs `rustup run nightly cargo fuzz ...` in the workspace. The pinned toolchain of
//! rust-toolchain.toml is not touched. `cargo xtask test` does not fuzz (a fresh machine has no
//! nightly toolchain); it replays the kept corpus and crashes in `cargo test`.
//!
//! Inputs are read from the kept corpus `fuzz/corpus/syscalls` and a scratch corpus in
//! `target/fuzz/`, where new ones go. A crash (libFuzzer writes it to `fuzz/artifacts/`) is
//! copied to `fuzz/regressions/syscalls/`, which `cargo test` replays: commit it with the fix.
//! `--merge` adds to the kept corpus the scratch inputs that reach new edges (libFuzzer's
//! merge with `-use_counters=0`: not every new hit count), which keeps it small.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::SystemTime;

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::workspace::Workspace;

/// The nightly toolchain cargo-fuzz runs on.
const NIGHTLY: &str = "nightly";
/// The fuzz target.
const TARGET: &str = "syscalls";

#[derive(Args)]
pub struct FuzzOpts {
    /// Fuzz in QEMU instead: the fuzzing root task (tests/fuzz-roottask) on the kernel (release,
    /// fastpath; `--mcs`: MCS), under `-icount`; see docs/TESTING.md. Takes --iters, --seed,
    /// --cycle, --timeout, --checked, --mcs.
    #[arg(long)]
    qemu: bool,
    /// With --qemu: stop after this many syscalls of the fuzzing threads.
    #[arg(long, value_name = "N", default_value_t = 1_000_000, requires = "qemu")]
    iters: u64,
    /// With --qemu: the PRNG seed (baked into the root task's image).
    #[arg(long, value_name = "S", default_value_t = 1, requires = "qemu")]
    seed: u64,
    /// With --qemu: revoke and rebuild everything after this many syscalls.
    #[arg(long, value_name = "N", default_value_t = 50_000, requires = "qemu")]
    cycle: u64,
    /// With --qemu: kill QEMU (a hang) after this many seconds [default: 120 + N/1000].
    #[arg(long, value_name = "SECS", requires = "qemu")]
    timeout: Option<u64>,
    /// With --qemu: the kernel built with debug assertions and overflow checks (release
    /// profile, in target/checked): an overflow or a failed assertion panics it.
    #[arg(long, requires = "qemu")]
    checked: bool,
    /// Fuzz for this many seconds (libFuzzer).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    time: u64,
    /// The MCS kernel (the fuzz crate's `mcs` feature; with --qemu the MCS kernel and root task).
    #[arg(long)]
    mcs: bool,
    /// Parallel fuzzing processes (libFuzzer's `-fork`); 1: one process.
    #[arg(long, default_value_t = 1)]
    jobs: u32,
    /// With AddressSanitizer (cargo-fuzz's default; several times slower). Without it the
    /// kernel's own checks still run: debug assertions, overflow checks, the object-memory
    /// borrow tracking of `mem`.
    #[arg(long)]
    asan: bool,
    /// Longest input in bytes.
    #[arg(long, default_value_t = 2048)]
    max_len: u32,
    /// Afterwards, add the scratch corpus's inputs that reach new edges to the kept corpus
    /// `fuzz/corpus/syscalls` (commit them: `cargo test` replays the kept corpus).
    #[arg(long)]
    merge: bool,
}

/// `rustup run nightly cargo <args>` in `dir`.
fn nightly_cargo(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("rustup");
    cmd.args(["run", NIGHTLY, "cargo"])
        .args(args)
        .current_dir(dir)
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

/// Installs the nightly toolchain and cargo-fuzz if missing.
fn tools(root: &Path) -> Result<()> {
    if !succeeds(Command::new("rustup").args(["run", NIGHTLY, "rustc", "--version"])) {
        eprintln!("xtask: installing the {NIGHTLY} toolchain (rustup) for cargo-fuzz");
        let ok = Command::new("rustup")
            .args(["toolchain", "install", NIGHTLY, "--profile", "minimal"])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            bail!("could not install the {NIGHTLY} toolchain: run `rustup toolchain install {NIGHTLY} --profile minimal`");
        }
    }
    if !succeeds(&mut nightly_cargo(root, &["fuzz", "--version"])) {
        eprintln!("xtask: installing cargo-fuzz (cargo install)");
        let ok = Command::new("cargo")
            .args(["install", "cargo-fuzz", "--locked"])
            .env_remove("RUSTUP_TOOLCHAIN")
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            bail!("could not install cargo-fuzz: run `cargo install cargo-fuzz`");
        }
    }
    Ok(())
}

/// The files in `dir` (none if it does not exist).
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

pub fn fuzz(o: FuzzOpts) -> Result<ExitCode> {
    if o.qemu {
        let p = crate::qfuzz::Params {
            seed: o.seed,
            iters: o.iters,
            cycle: o.cycle.max(1),
            mcs: o.mcs,
            checked: o.checked,
        };
        let timeout = o.timeout.map(std::time::Duration::from_secs);
        return crate::qfuzz::fuzz_qemu(p, crate::workspace::Profile::Release, timeout);
    }
    let ws = Workspace::load()?;
    let root = ws.root.clone();
    tools(&root)?;
    let suffix = if o.mcs { "-mcs" } else { "" };
    let scratch = ws
        .target_dir
        .join("fuzz")
        .join(format!("corpus{suffix}"))
        .join(TARGET);
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let kept = root.join("fuzz/corpus").join(TARGET);
    let artifacts = root.join("fuzz/artifacts").join(TARGET);
    let regressions = root.join("fuzz/regressions").join(TARGET);
    let before: Vec<PathBuf> = files(&artifacts);
    let start = SystemTime::now();

    let mut args: Vec<String> = ["fuzz", "run", TARGET].map(String::from).to_vec();
    if !o.asan {
        args.extend(["--sanitizer", "none"].map(String::from));
    }
    if o.mcs {
        args.extend(["--features", "mcs"].map(String::from));
    }
    args.push(scratch.display().to_string());
    args.push(kept.display().to_string());
    args.push("--".into());
    args.push(format!("-max_total_time={}", o.time));
    args.push(format!("-max_len={}", o.max_len));
    args.push("-len_control=20".into());
    if o.jobs > 1 {
        args.push(format!("-fork={}", o.jobs));
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    eprintln!("xtask: rustup run {NIGHTLY} cargo {}", argv.join(" "));
    let status = nightly_cargo(&root, &argv)
        .status()
        .context("running cargo fuzz")?;

    // Crashes become regression tests.
    let crashes: Vec<PathBuf> = files(&artifacts)
        .into_iter()
        .filter(|p| !before.contains(p))
        .filter(|p| {
            p.metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= start)
        })
        .collect();
    if !crashes.is_empty() {
        std::fs::create_dir_all(&regressions)?;
        for c in &crashes {
            let dest = regressions.join(c.file_name().context("file name")?);
            std::fs::copy(c, &dest)
                .with_context(|| format!("copying {} to {}", c.display(), dest.display()))?;
            eprintln!(
                "xtask: fuzz: crash kept as regression test {}",
                dest.display()
            );
        }
        eprintln!(
            "xtask: fuzz: FAILED: {} crash(es); `cargo test -p kernel fuzz_tests` replays them \
             (reproduce one with `rustup run {NIGHTLY} cargo fuzz run {TARGET} <file>`)",
            crashes.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    if !status.success() {
        bail!("cargo fuzz failed ({status})");
    }

    if o.merge {
        let n = files(&kept).len();
        let mut margs: Vec<String> = ["fuzz", "run", TARGET].map(String::from).to_vec();
        if !o.asan {
            margs.extend(["--sanitizer", "none"].map(String::from));
        }
        if o.mcs {
            margs.extend(["--features", "mcs"].map(String::from));
        }
        margs.push(kept.display().to_string());
        margs.push(scratch.display().to_string());
        // New edges only (not new hit counts): the kept corpus stays small.
        margs.extend(["--", "-merge=1", "-use_counters=0"].map(String::from));
        let margv: Vec<&str> = margs.iter().map(String::as_str).collect();
        let ok = nightly_cargo(&root, &margv)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            bail!("merging the corpus failed");
        }
        eprintln!(
            "xtask: fuzz: kept corpus {}: {n} -> {} inputs",
            kept.display(),
            files(&kept).len()
        );
    }
    eprintln!("xtask: fuzz: ok: no crash in {} s", o.time);
    Ok(ExitCode::SUCCESS)
}
