//! `cargo xtask build|run|test|bench|fuzz|mutants|miri`: builds the kernel and the root tasks
//! for riscv64 (and aarch64, `--arch aarch64`), boots them in QEMU and runs every test; fuzzes
//! the syscall path on the host; mutation testing and Miri. See README.md.

mod bench;
mod bootregion;
mod elfsize;
mod fastpathcheck;
mod fuzz;
mod microkit;
mod miri;
mod mutants;
mod protocol;
mod qemu;
mod qfuzz;
#[cfg(test)]
mod seam;
mod workspace;

/// Adding the Rust target and components a command needs (rustup).
mod toolchain;

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

use protocol::QemuEnd;
use workspace::{
    Arch, KernelConfig, LogLevel, Profile, RootTask, Workspace, BENCH, DEMO, HELLO,
    PRINTING_FEATURE, ROOT_TASKS, TESTS,
};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Build, boot and test the kernel (riscv64 and aarch64, QEMU virt)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build the kernel and all root tasks for riscv64gc-unknown-none-elf.
    Build(BuildOpts),
    /// Fuzz the syscall path on the host: libFuzzer (cargo-fuzz, nightly toolchain, both
    /// installed if missing) over sequences of syscalls, faults and interrupts from several
    /// threads of a simulated machine, with the kernel's invariants checked after each step
    /// and the fastpath compared with the full path. Crashes are kept in
    /// fuzz/regressions/syscalls, which `cargo test` replays (see docs/TESTING.md).
    ///
    /// With --qemu: the fuzzing root task (tests/fuzz-roottask) in QEMU: confined threads in
    /// their own CSpaces and VSpaces throw PRNG-driven syscalls at the real kernel for --iters
    /// syscalls; a kernel panic or warning, a canary failure or a hang fails the run. Prints
    /// syscalls per second of guest time.
    Fuzz(fuzz::FuzzOpts),
    /// Mutation testing (cargo-mutants, installed if missing): mutate the kernel's object
    /// logic, syscall, IPC, scheduler, CSpace, fastpath and VSpace code one place at a time
    /// and check that the host tests catch each mutant; print the score per file; fail if a
    /// mutant survives that docs/TESTING.md does not list (see docs/TESTING.md).
    Mutants(mutants::MutantsOpts),
    /// Run the host tests of the memory layer and a selection of object-logic tests under
    /// Miri (nightly toolchain and its miri component, installed if missing), which reports
    /// undefined behaviour (see docs/TESTING.md).
    Miri(miri::MiriOpts),
    /// Build, then boot the kernel with a root task (default: the demo) in QEMU.
    Run(RunOpts),
    /// Run all tests: lints, host tests, the QEMU test suites, the demo, a benchmark sanity run.
    ///
    /// First it adds what is missing: the riscv64 and aarch64 targets and the rustfmt and clippy
    /// components (rustup, to the active toolchain), and QEMU for both (as root on
    /// Debian/Ubuntu; elsewhere it says what to install). Then the stages, in this order (each ends with a line
    /// `xtask: <stage>: ok|FAILED: N passed, M failed in T s`):
    ///
    ///      1. lint: cargo fmt --check                 `cargo fmt --all --check`
    ///      2. lint: cargo clippy (host crates)        `cargo clippy --all-targets -- -D warnings`
    ///      3. lint: cargo clippy (kernel, riscv64)    the kernel binary for riscv64, -D warnings
    ///      4. lint: cargo clippy (kernel, riscv64, debug_build)
    ///                                                 the same with seL4's CONFIG_DEBUG_BUILD
    ///      5. lint: cargo clippy (kernel, riscv64, mcs)
    ///                                                 the same with seL4's CONFIG_KERNEL_MCS
    ///      6. lint: cargo clippy (kernel, riscv64, track_utilisation, printing)
    ///                                                 the same with seL4's
    ///                                                 CONFIG_BENCHMARK_TRACK_UTILISATION and
    ///                                                 CONFIG_PRINTING
    ///      7. lint: cargo clippy (kernel, aarch64)    the kernel binary for aarch64, -D warnings
    ///      8. lint: cargo clippy (kernel, aarch64, mcs, debug_build, track_utilisation, export_*_user)
    ///                                                 the same with those configurations (the
    ///                                                 four KernelArmExport*User options)
    ///      9. host: cargo test                        abi, kernel, libsel4, xtask, loader on the
    ///                                                 host (the kernel's tests include aarch64's
    ///                                                 pure logic)
    ///     10. host: cargo test -p kernel --no-default-features --features printing
    ///                                                 the kernel's tests without the fastpath,
    ///                                                 with seL4's CONFIG_PRINTING (its console
    ///                                                 output after boot) but not
    ///                                                 CONFIG_DEBUG_BUILD
    ///     11. host: cargo test -p kernel --features debug_build
    ///                                                 the kernel's tests with CONFIG_DEBUG_BUILD
    ///     12. host: cargo test -p kernel --features mcs
    ///                                                 the MCS kernel's tests
    ///     13. host: cargo test -p kernel --features mcs,debug_build,track_utilisation
    ///                                                 the MCS kernel's tests with CONFIG_DEBUG_BUILD
    ///                                                 and the utilisation accounting
    ///     14. host: cargo test -p kernel --features microkit
    ///                                                 the kernel's tests in Microkit's
    ///                                                 configuration (2^17-slot root CNode, 16
    ///                                                 domains, ...), less five long syscall-sequence
    ///                                                 and fuzz-corpus tests that the stages above
    ///                                                 run (their whole-CSpace checks take 16 times
    ///                                                 as long with 2^17 slots)
    ///     15. host: cargo test -p abi --features mcs  the MCS ABI (CONFIG_KERNEL_MCS)
    ///     16. host: cargo test -p libsel4 --features mcs
    ///                                                 libsel4's MCS API (syscalls, invocations)
    ///     17. host: cargo xtask mutants --sample      mutation testing of a fixed sample of kernel
    ///                                                 mutants (cargo-mutants, installed if
    ///                                                 missing): each must be caught by the host
    ///                                                 tests or be a survivor docs/TESTING.md lists
    ///     18. host: cargo test -p bench --lib         the benchmark root task's host-testable part
    ///     19. qemu: roottask-tests (fastpath)         the test root task, kernel with the fastpath
    ///     20. qemu: demo (fastpath)                   the demo on the same kernel with `printing`
    ///                                                 (seL4's CONFIG_PRINTING), booted twice:
    ///                                                 without input (it must end by itself) and
    ///                                                 typed into line by line (`hello`, `crash`,
    ///                                                 `hello`, `hang`, `hello`, `quit`: each
    ///                                                 echo, both driver restarts, their count);
    ///                                                 `DEMO OK`, no kernel warning
    ///     21. qemu: roottask-tests through the loader (fastpath)
    ///                                                 the test root task and the same kernel in
    ///                                                 one image of the loader (`loader/`), which
    ///                                                 enters the kernel with seL4's boot protocol
    ///     22. qemu: roottask-tests (no fastpath)      the test root task, kernel without it
    ///     23. qemu: roottask-tests (mcs)              the test root task built with `mcs` on the
    ///                                                 kernel with `mcs` and the fastpath
    ///     24. qemu: demo (mcs)                        the demo built with `mcs` on that kernel
    ///                                                 with `printing`, booted twice as in 20
    ///     25. qemu: Microkit boot state (microkit, loader without device tree)
    ///                                                 the kernel in Microkit's configuration
    ///                                                 (`--features microkit`) entered through the
    ///                                                 loader with no device tree, as Microkit's
    ///                                                 loader enters seL4 (QEMU with 2 GiB): its
    ///                                                 compiled-in platform, and the untyped list
    ///                                                 Microkit's tool predicts (docs/MICROKIT.md)
    ///     26. qemu: fuzz-roottask (fastpath, 100000 syscalls)
    ///                                                 the QEMU fuzzing root task (seed 1) on the
    ///                                                 release kernel with the fastpath and
    ///                                                 `printing` (also with --debug): confined threads
    ///                                                 throw random syscalls, rebuilt every 25000;
    ///                                                 no panic, no kernel warning (but reports of
    ///                                                 faults without a handler), no canary
    ///                                                 failure, no hang (`cargo xtask fuzz --qemu`)
    ///     27. qemu: fuzz-roottask (mcs, 100000 syscalls)
    ///                                                 the same, MCS kernel and root task
    ///     28. qemu: bench sanity (fastpath, benchmark, quick)
    ///                                                 the benchmark root task (quick) on the kernel
    ///                                                 with `benchmark`: does it run, are its
    ///                                                 figures sane (not how fast)
    ///     29. qemu: bench sanity (mcs, benchmark, quick)
    ///                                                 the same, MCS kernel and root task
    ///     30. qemu: roottask-tests (aarch64)          the test root task on the aarch64 kernel
    ///                                                 with the fastpath (qemu-system-aarch64):
    ///                                                 the riscv64 tests and two of
    ///                                                 aarch64's own (SGIs, cache maintenance)
    ///     31. qemu: roottask-tests through the loader (aarch64)
    ///                                                 the same kernel and root task in one image
    ///                                                 of the loader (`loader/` for aarch64),
    ///                                                 which enters the kernel at EL1 with the MMU
    ///                                                 on and seL4's boot protocol in x0..x5; then
    ///                                                 five spoilt hand-offs (user image on the
    ///                                                 kernel, unaligned, short dtb_size, no device
    ///                                                 tree, physical entry with the MMU on): each
    ///                                                 must end in the kernel's message and exit
    ///                                                 status 1, not hang
    ///     32. qemu: roottask-tests (aarch64, mcs)     the test root task, MCS kernel and root task
    ///     33. qemu: Microkit boot state (aarch64, microkit, loader without device tree)
    ///                                                 as 25 on the aarch64 kernel (`--features
    ///                                                 microkit`: also the SMC cap and the
    ///                                                 timer exports) against Microkit's
    ///                                                 prediction for qemu_virt_aarch64_el1
    ///     34. qemu: bench sanity (aarch64, fastpath, benchmark, quick)
    ///                                                 the benchmark root task (quick) on the
    ///                                                 aarch64 kernel with `benchmark` (cycles
    ///                                                 from PMCCNTR_EL0)
    ///     35. qemu: bench sanity (aarch64, mcs, benchmark, quick)
    ///                                                 the same, MCS kernel and root task
    ///     36. qemu: demo (aarch64)                    the demo on the aarch64 kernel with the
    ///                                                 fastpath and seL4's KernelArmExportPCNTUser
    ///                                                 and KernelArmExportPTMRUser (features
    ///                                                 `export_pcnt_user`, `export_ptmr_user`: the
    ///                                                 monitor's timer is the EL1 physical timer)
    ///                                                 and `printing`, its driver a PL011 one;
    ///                                                 booted twice as in 20
    ///     37. qemu: demo (aarch64, mcs)               the same, MCS kernel and demo
    ///
    /// Each QEMU test stage also checks its kernel's ELF: nothing outside the boot-only region
    /// (up to `ki_boot_end`, untyped memory after boot) may refer into it (one test; the bench
    /// stages count a problem found there as one of theirs).
    /// Each lint counts as one test, and each `cargo test` test, QEMU `TEST` line and demo check.
    /// QEMU runs use `-icount shift=0,sleep=off` (the typed demo runs `sleep=on`: guest time
    /// follows the host's while the guest waits for input); their output is also in
    /// target/qemu-test.log. At the end: a table and the line `N passed, M failed`; the exit
    /// status is 1 if anything failed.
    #[command(verbatim_doc_comment)]
    Test(TestOpts),
    /// Build one bootable image: the loader (`loader/`) carrying the kernel and a root task
    /// (default: the demo; `hello` on aarch64), which enters the kernel with seL4's boot
    /// protocol as seL4's elfloader image does. Boot it with `qemu-system-riscv64 -machine virt
    /// -bios default -kernel <image>` (no `-initrd`); with `--arch aarch64`, with
    /// `qemu-system-aarch64 -machine virt,gic-version=2 -cpu cortex-a53 -kernel <image>` (the
    /// command it prints).
    Image(ImageOpts),
    /// Build the kernel with `--features benchmark` and the benchmark root task (package
    /// `bench`), boot them under `-icount shift=0,sleep=off`, print the results and write
    /// them to target/bench.json (target/bench-no-fastpath.json with --no-fastpath).
    Bench(BenchOpts),
}

#[derive(Args, Clone, Copy)]
struct ProfileOpts {
    /// Build with the release profile (the default).
    #[arg(long, conflicts_with = "debug")]
    release: bool,
    /// Build with the dev profile instead of release; the kernel also gets its `debug_build`
    /// feature (seL4's CONFIG_DEBUG_BUILD).
    #[arg(long)]
    debug: bool,
}

impl ProfileOpts {
    fn profile(self) -> Profile {
        if self.debug {
            Profile::Debug
        } else {
            Profile::Release
        }
    }
}

#[derive(Args, Clone, Copy)]
struct BuildOpts {
    #[command(flatten)]
    profile: ProfileOpts,
    /// Build the kernel without the IPC fastpath (`--no-default-features`).
    #[arg(long)]
    no_fastpath: bool,
    #[command(flatten)]
    log: LogOpts,
    /// seL4's MCS configuration: the kernel with `--features mcs` (image `kernel-mcs`) and the
    /// root tasks with their `mcs` feature (images `demo-mcs`, `roottask-tests-mcs`,
    /// `bench-mcs`).
    #[arg(long)]
    mcs: bool,
    /// The architecture: riscv64 (QEMU `virt` with OpenSBI) or aarch64 (QEMU `virt`,
    /// cortex-a53, GICv2; images in `target/images/aarch64/`). On aarch64 only the root tasks
    /// ported to it are built (`demo`, `hello`, `roottask-tests`, `bench`); `run` boots the
    /// demo on a kernel with the features `export_pcnt_user` and `export_ptmr_user` (its
    /// monitor's timer is the generic timer's EL1 physical timer).
    #[arg(long, value_enum, default_value_t = Arch::Riscv64)]
    arch: Arch,
    /// Microkit 2.3.0's kernel configuration (qemu_virt_riscv64; with `--arch aarch64`,
    /// qemu_virt_aarch64_el1): the kernel with `--features microkit` (MCS, debug build,
    /// 2^17-slot root CNode, 16 domains, 100 domain schedule entries, QEMU virt with 2 GiB
    /// compiled in; on aarch64 also the SMC cap and the PCNT/PTMR timer exports; image
    /// `kernel-microkit`), ready to replace an SDK's `sel4.elf` (docs/MICROKIT.md). Only the
    /// kernel is built.
    #[arg(long, conflicts_with = "mcs")]
    microkit: bool,
    /// The kernel with `--features benchmark` (seL4's `CONFIG_ENABLE_BENCHMARKS`; on aarch64 it
    /// also lets EL0 read the PMU, as `CONFIG_EXPORT_PMU_USER`, which seL4's sel4bench needs
    /// for its cycle counter), e.g. to run sel4bench with `run --root-task`.
    #[arg(long, conflicts_with = "microkit")]
    benchmark: bool,
}

impl BuildOpts {
    fn kernel_config(self) -> KernelConfig {
        KernelConfig::new(self.profile.profile())
            .arch(self.arch)
            .feature("fastpath", !self.no_fastpath)
            .feature(MCS_FEATURE, self.mcs)
            .feature(MICROKIT_FEATURE, self.microkit)
            .feature("benchmark", self.benchmark)
            .log_level(self.log.log_level)
    }

    /// The root tasks' cargo features of this build.
    fn task_features(self) -> &'static [&'static str] {
        task_features(self.mcs)
    }
}

/// The cargo feature that selects seL4's MCS configuration, in the kernel and the root tasks.
const MCS_FEATURE: &str = "mcs";
/// The kernel's cargo feature for Microkit 2.3.0's kernel configuration.
const MICROKIT_FEATURE: &str = "microkit";

/// The kernel features the demo needs on `arch` beyond a kernel's defaults: on aarch64 its
/// monitor's timer is the generic timer's EL1 physical timer, programmed from EL0, which the
/// kernel must export (seL4's `KernelArmExportPCNTUser` and `KernelArmExportPTMRUser`, as
/// seL4's libplatsupport timer for qemu-arm-virt needs them); none on riscv64.
fn demo_kernel_features(arch: Arch) -> &'static [&'static str] {
    match arch {
        Arch::Riscv64 => &[],
        Arch::Aarch64 => &["export_pcnt_user", "export_ptmr_user"],
    }
}

/// The root tasks' features for the MCS configuration or not.
fn task_features(mcs: bool) -> &'static [&'static str] {
    if mcs {
        &[MCS_FEATURE]
    } else {
        &[]
    }
}

#[derive(Args, Clone, Copy)]
struct LogOpts {
    /// The kernel's log level, fixed when it is built (passed to its build as the environment
    /// variable KERNEL_LOG_LEVEL). Default: the kernel's own (info; debug in --debug builds).
    #[arg(long, value_enum, value_name = "LEVEL", env = workspace::LOG_LEVEL_VAR)]
    log_level: Option<LogLevel>,
}

#[derive(Args)]
struct RunOpts {
    #[command(flatten)]
    build: BuildOpts,
    /// Boot this root task ELF instead of the demo (any seL4 root task).
    #[arg(long, value_name = "FILE")]
    root_task: Option<PathBuf>,
    /// Stop QEMU and exit with status 0 when a line of serial output (without its line end)
    /// matches this regular expression (e.g. 'DEMO OK', '^All is well in the universe$').
    #[arg(long, value_name = "REGEX", value_parser = parse_regex)]
    until: Option<regex::Regex>,
    /// Start QEMU with its gdb stub, stopped at the first instruction and listening on
    /// tcp::1234 (`-s -S`), and print the gdb command line to use. No time-out by default.
    #[arg(long)]
    gdb: bool,
    /// Kill QEMU after this many seconds (0: never) [default: 120; with --gdb: 0].
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
    /// Boot through the loader (one image, `cargo xtask image`, entering the kernel with
    /// seL4's boot protocol) instead of the kernel with the root task as its initrd.
    #[arg(long)]
    loader: bool,
    /// Extra arguments for QEMU, after `--`.
    #[arg(last = true, value_name = "QEMU_ARGS")]
    qemu_args: Vec<String>,
}

#[derive(Args)]
struct ImageOpts {
    #[command(flatten)]
    build: BuildOpts,
    /// Put this root task ELF in the image instead of the demo (any seL4 root task).
    #[arg(long, value_name = "FILE")]
    root_task: Option<PathBuf>,
    /// Also copy the image to this file.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

fn parse_regex(s: &str) -> std::result::Result<regex::Regex, String> {
    regex::Regex::new(s).map_err(|e| e.to_string())
}

/// The time-out of `cargo xtask run` when none is given.
const RUN_TIMEOUT_SECS: u64 = 120;

impl RunOpts {
    fn timeout(&self) -> Option<Duration> {
        let default = if self.gdb { 0 } else { RUN_TIMEOUT_SECS };
        timeout_of(self.timeout.unwrap_or(default))
    }
}

#[derive(Args)]
struct TestOpts {
    #[command(flatten)]
    profile: ProfileOpts,
    #[command(flatten)]
    log: LogOpts,
    /// QEMU tests only with the kernel built with the fastpath.
    #[arg(long, conflicts_with = "no_fastpath_only")]
    fastpath_only: bool,
    /// QEMU tests only with the kernel built without the fastpath.
    #[arg(long)]
    no_fastpath_only: bool,
    /// Only the host tests (`cargo test`), no QEMU.
    #[arg(long, conflicts_with = "qemu_only")]
    host_only: bool,
    /// Only the QEMU tests, no host tests.
    #[arg(long)]
    qemu_only: bool,
    /// Do not boot the demo.
    #[arg(long)]
    no_demo: bool,
    /// Do not run the benchmark sanity check (`bench`, quick).
    #[arg(long)]
    no_bench: bool,
    /// Do not run the short QEMU fuzzing runs (`fuzz-roottask`).
    #[arg(long)]
    no_fuzz: bool,
    /// The MCS configuration's QEMU stages only (the test root task, the demo and the bench
    /// sanity run on the MCS kernel), after all lint and host stages.
    #[arg(long)]
    mcs: bool,
    /// Kill each QEMU run after this many seconds (0: never).
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    timeout: u64,
}

#[derive(Args)]
struct BenchOpts {
    #[command(flatten)]
    profile: ProfileOpts,
    /// Build the kernel without the IPC fastpath (`--no-default-features`).
    #[arg(long)]
    no_fastpath: bool,
    /// Run with and without the fastpath and print the two side by side.
    #[arg(long, conflicts_with = "no_fastpath")]
    compare: bool,
    /// Fewer samples (the `quick` feature of `bench`); results go to *-quick.json.
    #[arg(long)]
    quick: bool,
    /// The MCS kernel (`--features benchmark,mcs`) and `bench` with its `mcs` feature (image
    /// `bench-mcs`: the IPC cases with a passive server, and the `*_active` ones).
    #[arg(long)]
    mcs: bool,
    /// Kill QEMU after this many seconds (0: never).
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    timeout: u64,
    /// The architecture: riscv64 or aarch64 (where the cycle counter is `PMCCNTR_EL0`, which
    /// the benchmark kernel lets EL0 read; results in target/bench-aarch64*.json).
    #[arg(long, value_enum, default_value_t = Arch::Riscv64)]
    arch: Arch,
    /// Extra arguments for QEMU, after `--`.
    #[arg(last = true, value_name = "QEMU_ARGS")]
    qemu_args: Vec<String>,
}

fn timeout_of(secs: u64) -> Option<Duration> {
    (secs != 0).then(|| Duration::from_secs(secs))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Build(o) => build(o),
        Cmd::Run(o) => run(o),
        Cmd::Test(o) => test(o),
        Cmd::Image(o) => image(o),
        Cmd::Bench(o) => bench(o),
        Cmd::Fuzz(o) => fuzz::fuzz(o),
        Cmd::Mutants(o) => mutants::mutants(o),
        Cmd::Miri(o) => miri::miri(o),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------- build

fn build(o: BuildOpts) -> Result<ExitCode> {
    let ws = Workspace::load()?;
    ws.ensure_toolchain_for(&[o.arch], &[])?;
    let profile = o.profile.profile();
    let mut failures = Vec::new();
    if let Err(e) = ws.build_kernel(&o.kernel_config()) {
        failures.push(format!("{e:#}"));
    }
    // Microkit brings its own initial task (its capDL initialiser): only the kernel.
    let tasks = if o.microkit { &[][..] } else { ROOT_TASKS };
    for task in tasks {
        if task.optional && !ws.has_package(task.package) {
            continue;
        }
        if !task.arches.contains(&o.arch) {
            eprintln!(
                "xtask: {} is not ported to {} yet: not built",
                task.package,
                o.arch.name()
            );
            continue;
        }
        if o.mcs && !task.has_mcs {
            eprintln!(
                "xtask: {} has no `mcs` feature yet: not built for MCS",
                task.package
            );
            continue;
        }
        if let Err(e) = ws.build_root_task_for(o.arch, profile, task, o.task_features()) {
            failures.push(format!("{e:#}"));
        }
    }
    if failures.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for f in &failures {
        eprintln!("xtask: error: {f}");
    }
    bail!("{} build(s) failed", failures.len())
}

// ---------------------------------------------------------------- run

/// Exit code for a QEMU run: its own status, or 124 if we had to kill it.
fn exit_code_of(end: &QemuEnd) -> ExitCode {
    match end {
        QemuEnd::Exited(Some(0)) => ExitCode::SUCCESS,
        QemuEnd::Exited(Some(c)) => {
            eprintln!("xtask: QEMU exited with status {c}");
            ExitCode::from(u8::try_from(*c).unwrap_or(1))
        }
        QemuEnd::Exited(None) => {
            eprintln!("xtask: error: QEMU was killed by a signal");
            ExitCode::FAILURE
        }
        QemuEnd::Killed(why) => {
            eprintln!("xtask: error: {why}");
            ExitCode::from(124)
        }
    }
}

fn run(o: RunOpts) -> Result<ExitCode> {
    if o.build.microkit {
        bail!("--microkit builds only the kernel (`cargo xtask build --microkit`); Microkit's tool makes the bootable image (docs/MICROKIT.md)");
    }
    // Resolve the root task before anything changes directories.
    let given = match &o.root_task {
        Some(f) => Some(
            std::fs::canonicalize(f)
                .with_context(|| format!("root task {} not found", f.display()))?,
        ),
        None => None,
    };
    let ws = Workspace::load()?;
    let arch = o.build.arch;
    ws.ensure_toolchain_for(&[arch], &[])?;
    let profile = o.build.profile.profile();
    let task = default_task(arch);
    let kernel = ws.build_kernel(&run_kernel_config(o.build, given.is_some()))?;
    let root_task = match given {
        Some(f) => f,
        None => ws.build_root_task_for(arch, profile, task, o.build.task_features())?,
    };
    let qemu = qemu::ensure_qemu_for(arch)?;
    let mut args = if o.loader {
        let name = workspace::loader_image_name(&kernel, &root_task);
        let image = ws.build_loader(profile, arch, &kernel, &root_task, &name)?;
        qemu::image_args_for(arch, &image)
    } else {
        qemu::args_for(arch, &kernel, &root_task)
    };
    if arch == Arch::Aarch64 {
        // The device tree packed as seL4's elfloader hands it over (see the function).
        let dtb = ws.images_dir(arch, profile).join("qemu-arm-virt.dtb");
        qemu::write_aarch64_packed_dtb(&qemu, &dtb)?;
        args.extend(["-dtb".to_string(), dtb.display().to_string()]);
    }
    if o.gdb {
        args.extend(qemu::GDB_ARGS.iter().map(|s| s.to_string()));
        eprintln!("xtask: QEMU starts stopped at its first instruction, its gdb stub listening on tcp::1234; in another terminal run");
        eprintln!("\n    {}\n", gdb_command(&kernel, &root_task));
        eprintln!("xtask: (gdb-multiarch: `apt-get install gdb-multiarch` on Debian and Ubuntu; Debian's plain gdb debugs only x86)");
    }
    args.extend(o.qemu_args.iter().cloned());
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprintln!("xtask: booting; quit QEMU with Ctrl-A X");
    }
    let opts = qemu::Attached {
        timeout: o.timeout(),
        until: o.until.clone(),
        silent: false,
    };
    match qemu::run_attached(&qemu, &args, opts)? {
        qemu::AttachedEnd::Matched(line) => {
            eprintln!("\nxtask: --until matched the line {line:?}; QEMU stopped");
            Ok(ExitCode::SUCCESS)
        }
        qemu::AttachedEnd::Qemu(end) => Ok(exit_code_of(&end)),
    }
}

/// The kernel `run` boots: the build options', with the features the demo needs on its
/// architecture ([`demo_kernel_features`]) unless a root task is `given`.
fn run_kernel_config(build: BuildOpts, given: bool) -> KernelConfig {
    let mut config = build.kernel_config();
    if !given && default_task(build.arch).package == DEMO.package {
        for f in demo_kernel_features(build.arch) {
            config = config.feature(f, true);
        }
    }
    config
}

/// The root task `run` boots by default: the demo, or on an architecture it is not ported to
/// yet, `hello`.
fn default_task(arch: Arch) -> &'static RootTask {
    if DEMO.arches.contains(&arch) {
        &DEMO
    } else {
        &HELLO
    }
}

// ---------------------------------------------------------------- image

fn image(o: ImageOpts) -> Result<ExitCode> {
    if o.build.microkit {
        bail!("--microkit builds only the kernel (`cargo xtask build --microkit`); Microkit's tool makes the bootable image (docs/MICROKIT.md)");
    }
    let given = match &o.root_task {
        Some(f) => Some(
            std::fs::canonicalize(f)
                .with_context(|| format!("root task {} not found", f.display()))?,
        ),
        None => None,
    };
    let ws = Workspace::load()?;
    let arch = o.build.arch;
    ws.ensure_toolchain_for(&[arch], &[])?;
    let profile = o.build.profile.profile();
    let kernel = ws.build_kernel(&o.build.kernel_config())?;
    let root_task = match given {
        Some(f) => f,
        None => {
            ws.build_root_task_for(arch, profile, default_task(arch), o.build.task_features())?
        }
    };
    let name = workspace::loader_image_name(&kernel, &root_task);
    let image = ws.build_loader(profile, arch, &kernel, &root_task, &name)?;
    if let Some(out) = &o.output {
        std::fs::copy(&image, out)
            .with_context(|| format!("copying {} to {}", image.display(), out.display()))?;
        eprintln!("xtask: image copied to {}", out.display());
    }
    eprintln!(
        "xtask: boot it with: {} {}",
        qemu::qemu_program(arch),
        qemu::image_args_for(arch, o.output.as_deref().unwrap_or(&image)).join(" ")
    );
    Ok(ExitCode::SUCCESS)
}

/// Quote `s` for a POSIX shell if it needs it.
fn shell_quote(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The gdb command line for `run --gdb`: the kernel's symbols, the root task's added, connected
/// to QEMU's stub.
fn gdb_command(kernel: &Path, root_task: &Path) -> String {
    // gdb wants the ELF, not the flat image QEMU boots on aarch64 (`<elf>.img`).
    let kernel = if kernel.extension().is_some_and(|e| e == "img") {
        kernel.with_extension("")
    } else {
        kernel.to_path_buf()
    };
    let add = format!("add-symbol-file {}", root_task.display());
    [
        "gdb-multiarch".to_string(),
        "-q".into(),
        "-ex".into(),
        shell_quote("set confirm off"),
        "-ex".into(),
        shell_quote(&add),
        "-ex".into(),
        shell_quote("target remote :1234"),
        shell_quote(&kernel.display().to_string()),
    ]
    .join(" ")
}

// ---------------------------------------------------------------- bench

/// The kernel configuration of a benchmark build.
fn bench_kernel_config(profile: Profile, fastpath: bool, log: Option<LogLevel>) -> KernelConfig {
    KernelConfig::new(profile)
        .feature("fastpath", fastpath)
        .feature("benchmark", true)
        .log_level(log)
}

/// One benchmark boot: what it printed and what is wrong with it.
struct BenchRun {
    config: KernelConfig,
    out: bench::Output,
    problems: Vec<String>,
    /// The serial output, QEMU's stderr and how it ended.
    cap: qemu::Captured,
    command: Vec<String>,
    /// The section sizes of the kernel image (`None` if they could not be read).
    sizes: Option<elfsize::Sizes>,
}

/// Build the kernel (with `benchmark`) and `bench` (with `quick` if asked), boot them under
/// `-icount` and judge the output. The serial output goes to target/qemu-bench*.log.
fn run_bench(
    ws: &Workspace,
    qemu_bin: &Path,
    config: KernelConfig,
    quick: bool,
    timeout: Duration,
    extra_args: &[String],
) -> Result<BenchRun> {
    banner(&format!(
        "building the kernel (features: {})",
        config.feature_list().join(", ")
    ));
    let kernel = ws.build_kernel(&config)?;
    // The sections are in the ELF, not in the flat image QEMU boots on aarch64 (`<elf>.img`).
    let elf = if kernel.extension().is_some_and(|e| e == "img") {
        kernel.with_extension("")
    } else {
        kernel.clone()
    };
    let sizes = match elfsize::of_file(&elf) {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("xtask: warning: {e:#}");
            None
        }
    };
    let sfx = format!(
        "{}{}",
        bench_arch_mcs_suffix(&config),
        bench::suffix(config.fastpath(), quick)
    );
    let mut task_features: Vec<&str> = if quick { vec!["quick"] } else { vec![] };
    if config.has(MCS_FEATURE) {
        task_features.push(MCS_FEATURE);
    }
    let task = ws.build_root_task_for(config.arch, config.profile, &BENCH, &task_features)?;
    let mut args = qemu::args_for(config.arch, &kernel, &task);
    args.extend(qemu::ICOUNT_ARGS.iter().map(|s| s.to_string()));
    args.extend(extra_args.iter().cloned());
    let log = ws.target_dir.join(format!("qemu-bench{sfx}.log"));
    let cap = qemu::run_captured(qemu_bin, &args, timeout, &log, None, None)?;
    eprintln!("xtask: serial output written to {}", log.display());
    let out = bench::parse(&cap.text);
    let mut problems = bench::judge(&out, &cap.end, bench::required(config.has(MCS_FEATURE)));
    // The benchmark kernel's boot-only region is handed out after boot as any other's.
    problems.extend(boot_region_problems(&kernel).1);
    let mut command = vec![qemu_bin.display().to_string()];
    command.extend(args);
    Ok(BenchRun {
        config,
        out,
        problems,
        cap,
        command,
        sizes,
    })
}

/// `qemu-system-riscv64 --version`, first line.
fn qemu_version(qemu_bin: &Path) -> String {
    std::process::Command::new(qemu_bin)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(|l| l.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// `git rev-parse HEAD` of the workspace (with `-dirty` if the tree has changes).
fn git_commit(ws: &Workspace) -> Option<String> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(&ws.root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let head = git(&["rev-parse", "HEAD"])?;
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{head}-dirty") } else { head })
}

/// Write the JSON report of `run` to target/bench*.json; returns its path.
/// The part of a benchmark file name that says the architecture (nothing for riscv64) and
/// MCS: `-aarch64`, `-mcs`, `-aarch64-mcs`.
fn bench_arch_mcs_suffix(config: &KernelConfig) -> String {
    let arch = match config.arch {
        Arch::Riscv64 => String::new(),
        a => format!("-{}", a.name()),
    };
    let mcs = if config.has(MCS_FEATURE) { "-mcs" } else { "" };
    format!("{arch}{mcs}")
}

fn write_bench_json(
    ws: &Workspace,
    run: &BenchRun,
    quick: bool,
    qemu_bin: &Path,
) -> Result<PathBuf> {
    let info = bench::RunInfo {
        kernel_features: run.config.feature_list(),
        fastpath: run.config.fastpath(),
        profile: run.config.profile.dir().to_string(),
        quick,
        qemu_version: qemu_version(qemu_bin),
        qemu_command: run.command.clone(),
        date: bench::now(),
        git_commit: git_commit(ws),
    };
    let mut v = bench::report(&info, &run.out, &run.problems);
    if let (Some(o), Some(s)) = (v.as_object_mut(), &run.sizes) {
        o.insert("kernel_sections".into(), s.json());
    }
    let path = ws.target_dir.join(format!(
        "bench{}{}.json",
        bench_arch_mcs_suffix(&run.config),
        bench::suffix(run.config.fastpath(), quick)
    ));
    std::fs::write(&path, serde_json::to_string_pretty(&v)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

fn fastpath_label(fastpath: bool) -> &'static str {
    if fastpath {
        "fastpath"
    } else {
        "no fastpath"
    }
}

/// Print a run's table, notes and problems.
fn print_bench_run(run: &BenchRun) {
    println!();
    println!(
        "Benchmarks, kernel with {}: guest instructions (QEMU -icount shift=0), one way",
        fastpath_label(run.config.fastpath())
    );
    print!("{}", bench::table(&run.out.rows));
    if let Some(s) = &run.sizes {
        println!("kernel image: {}", s.line());
    }
    for n in &run.out.notes {
        println!("note: {n}");
    }
    for p in &run.problems {
        println!("PROBLEM: {p}");
    }
}

fn bench(o: BenchOpts) -> Result<ExitCode> {
    let ws = Workspace::load()?;
    if !ws.has_package(BENCH.package) {
        println!("no benchmark root task (package `bench`) in the workspace");
        return Ok(ExitCode::from(2));
    }
    ws.ensure_toolchain_for(&[o.arch], &[])?;
    let qemu_bin = qemu::ensure_qemu_for(o.arch)?;
    let profile = o.profile.profile();
    let timeout = timeout_of(o.timeout).unwrap_or(Duration::MAX);
    let variants = if o.compare {
        vec![true, false]
    } else {
        vec![!o.no_fastpath]
    };
    let mut runs = Vec::new();
    for fastpath in variants {
        let run = run_bench(
            &ws,
            &qemu_bin,
            bench_kernel_config(profile, fastpath, None)
                .arch(o.arch)
                .feature(MCS_FEATURE, o.mcs),
            o.quick,
            timeout,
            &o.qemu_args,
        )?;
        let path = write_bench_json(&ws, &run, o.quick, &qemu_bin)?;
        eprintln!("xtask: results written to {}", path.display());
        runs.push(run);
    }
    for run in &runs {
        print_bench_run(run);
    }
    if let [a, b] = runs.as_slice() {
        println!();
        println!("Medians side by side (change: fastpath relative to no fastpath)");
        print!(
            "{}",
            bench::compare_table(
                fastpath_label(a.config.fastpath()),
                &a.out.rows,
                fastpath_label(b.config.fastpath()),
                &b.out.rows
            )
        );
    }
    let bad = runs.iter().filter(|r| !r.problems.is_empty()).count();
    if bad == 0 {
        return Ok(ExitCode::SUCCESS);
    }
    for r in &runs {
        if !r.cap.stderr.is_empty() {
            eprintln!("xtask: QEMU stderr: {}", r.cap.stderr.trim_end());
        }
    }
    eprintln!("xtask: error: {bad} benchmark run(s) had problems (see above)");
    Ok(ExitCode::FAILURE)
}

// ---------------------------------------------------------------- test

/// One row of the summary table.
struct Stage {
    name: String,
    /// `None`: skipped.
    ok: Option<bool>,
    passed: usize,
    failed: usize,
    secs: f64,
    problems: Vec<String>,
}

impl Stage {
    fn skipped(name: impl Into<String>, why: &str) -> Self {
        Stage {
            name: name.into(),
            ok: None,
            passed: 0,
            failed: 0,
            secs: 0.0,
            problems: vec![why.into()],
        }
    }

    /// A stage that could not produce test results at all counts as one failure.
    fn broken(name: impl Into<String>, secs: f64, problem: String) -> Self {
        Stage {
            name: name.into(),
            ok: Some(false),
            passed: 0,
            failed: 1,
            secs,
            problems: vec![problem],
        }
    }

    fn judged(
        name: impl Into<String>,
        secs: f64,
        passed: usize,
        failed: usize,
        problems: Vec<String>,
    ) -> Self {
        let ok = problems.is_empty();
        // A failing stage always counts at least one failure.
        let failed = if ok { failed } else { failed.max(1) };
        Stage {
            name: name.into(),
            ok: Some(ok),
            passed,
            failed,
            secs,
            problems,
        }
    }
}

/// Run a command, echoing its stdout and keeping it; stderr goes straight
/// to the terminal.
fn run_tee(cmd: &mut std::process::Command) -> Result<(std::process::ExitStatus, String)> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .context("starting cargo")?;
    let mut text = String::new();
    let reader = BufReader::new(child.stdout.take().unwrap());
    let mut out = std::io::stdout();
    for line in reader.split(b'\n') {
        let line = String::from_utf8_lossy(&line?).into_owned();
        let _ = writeln!(out, "{line}");
        text.push_str(&line);
        text.push('\n');
    }
    Ok((child.wait()?, text))
}

fn host_stage(ws: &Workspace, name: &str, args: &[&str]) -> Stage {
    banner(name);
    eprintln!("xtask: $ cargo {}", args.join(" "));
    let t = Instant::now();
    let (status, text) = match run_tee(ws.cargo().args(args)) {
        Ok(r) => r,
        Err(e) => return Stage::broken(name, t.elapsed().as_secs_f64(), format!("{e:#}")),
    };
    let counts = protocol::parse_cargo_test(&text);
    let mut problems = Vec::new();
    if !status.success() {
        problems.push(format!("`cargo {}` failed ({status})", args.join(" ")));
    }
    if counts.failed > 0 {
        problems.push(format!("{} host test(s) failed", counts.failed));
    }
    if counts.results == 0 && status.success() {
        problems.push("no `test result:` lines in the output".into());
    }
    Stage::judged(
        name,
        t.elapsed().as_secs_f64(),
        counts.passed,
        counts.failed,
        problems,
    )
}

/// The fixed mutation-testing sample: each sampled mutant caught (or a documented survivor)
/// counts as a passed test, each undocumented survivor as a failed one.
fn mutants_stage(ws: &Workspace) -> Stage {
    banner(HOST_MUTANTS);
    let t = Instant::now();
    match mutants::sample(ws) {
        Err(e) => Stage::broken(HOST_MUTANTS, t.elapsed().as_secs_f64(), format!("{e:#}")),
        Ok(r) => {
            let mut problems: Vec<String> = r
                .new_survivors
                .iter()
                .map(|m| format!("undocumented survivor: {m}"))
                .collect();
            if r.tested != mutants::SAMPLE.len() {
                problems.push(format!(
                    "{} of the {} sampled mutants were tested (a sampled mutant no longer \
                     exists? update mutants::SAMPLE)",
                    r.tested,
                    mutants::SAMPLE.len()
                ));
            }
            let failed = r.new_survivors.len();
            Stage::judged(
                HOST_MUTANTS,
                t.elapsed().as_secs_f64(),
                r.tested - failed,
                failed,
                problems,
            )
        }
    }
}

/// A check that passes or fails as a whole (formatting, lints): one test in the counts.
fn check_stage(ws: &Workspace, name: &str, args: &[&str]) -> Stage {
    banner(name);
    eprintln!("xtask: $ cargo {}", args.join(" "));
    let t = Instant::now();
    let status = match ws.cargo().args(args).stdin(Stdio::null()).status() {
        Ok(s) => s,
        Err(e) => return Stage::broken(name, t.elapsed().as_secs_f64(), format!("{e:#}")),
    };
    let secs = t.elapsed().as_secs_f64();
    if status.success() {
        Stage::judged(name, secs, 1, 0, Vec::new())
    } else {
        Stage::judged(
            name,
            secs,
            0,
            1,
            vec![format!("`cargo {}` failed ({status})", args.join(" "))],
        )
    }
}

fn banner(name: &str) {
    eprintln!("\nxtask: ======== {name} ========");
}

/// Shared state of the QEMU part of `cargo xtask test`.
struct QemuTests<'a> {
    ws: &'a Workspace,
    qemu: PathBuf,
    profile: Profile,
    log_level: Option<LogLevel>,
    timeout: Duration,
    /// target/qemu-test.log: all QEMU test output, one section per run.
    all_log: File,
}

/// How [`QemuTests::boot`] boots: through the loader or with the root task as the initrd, and
/// what to type into the guest, if anything.
#[derive(Clone, Copy)]
struct BootHow {
    loader: bool,
    script: Option<&'static [protocol::Step]>,
}

impl QemuTests<'_> {
    /// Build the root task and boot it with `kernel` (as the initrd, or through the loader
    /// with seL4's boot protocol if `loader`), with `script` typed into it if any (then guest
    /// time follows the host's while the guest idles: `ICOUNT_SLEEP_ARGS`); returns the
    /// captured run.
    fn boot(
        &mut self,
        name: &str,
        kernel: &Path,
        task: &RootTask,
        features: &[&str],
        log_name: &str,
        how: BootHow,
    ) -> Result<qemu::Captured> {
        let qemu = self.qemu.clone();
        self.boot_on(
            Arch::Riscv64,
            &qemu,
            name,
            kernel,
            task,
            features,
            log_name,
            how,
        )
    }

    /// [`QemuTests::boot`] on `arch`, with its QEMU `qemu`.
    #[allow(clippy::too_many_arguments)]
    fn boot_on(
        &mut self,
        arch: Arch,
        qemu: &Path,
        name: &str,
        kernel: &Path,
        task: &RootTask,
        features: &[&str],
        log_name: &str,
        how: BootHow,
    ) -> Result<qemu::Captured> {
        let BootHow { loader, script } = how;
        let elf = self
            .ws
            .build_root_task_for(arch, self.profile, task, features)?;
        let mut args = if loader {
            let image_name = workspace::loader_image_name(kernel, &elf);
            let image = self
                .ws
                .build_loader(self.profile, arch, kernel, &elf, &image_name)?;
            qemu::image_args_for(arch, &image)
        } else {
            qemu::args_for(arch, kernel, &elf)
        };
        let icount = if script.is_some() {
            qemu::ICOUNT_SLEEP_ARGS
        } else {
            qemu::ICOUNT_ARGS
        };
        args.extend(icount.iter().map(|s| s.to_string()));
        let log = self.ws.target_dir.join(log_name);
        let cap = qemu::run_captured(qemu, &args, self.timeout, &log, script, None)?;
        writeln!(
            self.all_log,
            "===== {name}: {} {} =====",
            qemu.display(),
            args.join(" ")
        )?;
        self.all_log.write_all(cap.text.as_bytes())?;
        if !cap.stderr.is_empty() {
            writeln!(self.all_log, "----- QEMU stderr -----")?;
            self.all_log.write_all(cap.stderr.as_bytes())?;
        }
        writeln!(
            self.all_log,
            "===== end of {name}: QEMU {} =====\n",
            cap.end
        )?;
        eprintln!("xtask: serial output written to {}", log.display());
        Ok(cap)
    }

    fn tests_stage(
        &mut self,
        name: &str,
        kernel: &Result<PathBuf>,
        features: &[&str],
        log_name: &str,
    ) -> Stage {
        self.tests_stage_via(name, kernel, features, log_name, false)
    }

    /// The test root task on `kernel`, booted as the initrd or (`loader`) through the loader.
    fn tests_stage_via(
        &mut self,
        name: &str,
        kernel: &Result<PathBuf>,
        features: &[&str],
        log_name: &str,
        loader: bool,
    ) -> Stage {
        banner(name);
        let t = Instant::now();
        let kernel = match kernel {
            Ok(k) => k,
            Err(e) => return Stage::broken(name, 0.0, format!("kernel build failed: {e:#}")),
        };
        // The kernel first: nothing after boot may refer into its boot-only region.
        let (region_ok, mut problems) = boot_region_problems(kernel);
        let how = BootHow {
            loader,
            script: None,
        };
        match self.boot(name, kernel, &TESTS, features, log_name, how) {
            Err(e) => Stage::broken(name, t.elapsed().as_secs_f64(), format!("{e:#}")),
            Ok(cap) => {
                let out = protocol::parse_test_output(&cap.text);
                problems.extend(protocol::judge_tests(&out, &cap.end));
                eprintln!(
                    "xtask: {name}: {} TEST lines; QEMU {} after {:.1} s",
                    out.tests.len(),
                    cap.end,
                    cap.elapsed.as_secs_f64()
                );
                Stage::judged(
                    name,
                    t.elapsed().as_secs_f64(),
                    out.passed() + usize::from(region_ok),
                    out.failed() + usize::from(!region_ok),
                    problems,
                )
            }
        }
    }

    /// Boot the benchmark (quick) with the kernel built with `benchmark` (and `mcs` if `mcs`)
    /// and check that it runs and that its figures are sane. Not a timing test.
    fn bench_stage(&mut self, name: &str, fastpath: bool, mcs: bool) -> Stage {
        let qemu = self.qemu.clone();
        self.bench_stage_on(name, Arch::Riscv64, &qemu, fastpath, mcs)
    }

    /// [`QemuTests::bench_stage`] on `arch`, with its QEMU `qemu`.
    fn bench_stage_on(
        &mut self,
        name: &str,
        arch: Arch,
        qemu: &Path,
        fastpath: bool,
        mcs: bool,
    ) -> Stage {
        banner(name);
        let t = Instant::now();
        let run = run_bench(
            self.ws,
            qemu,
            bench_kernel_config(self.profile, fastpath, self.log_level)
                .arch(arch)
                .feature(MCS_FEATURE, mcs),
            true,
            self.timeout,
            &[],
        );
        let run = match run {
            Ok(r) => r,
            Err(e) => return Stage::broken(name, t.elapsed().as_secs_f64(), format!("{e:#}")),
        };
        let _ = writeln!(
            self.all_log,
            "===== {name}: {} =====",
            run.command.join(" ")
        );
        let _ = self.all_log.write_all(run.cap.text.as_bytes());
        let _ = writeln!(
            self.all_log,
            "===== end of {name}: QEMU {} =====\n",
            run.cap.end
        );
        if let Err(e) = write_bench_json(self.ws, &run, true, qemu) {
            eprintln!("xtask: warning: {e:#}");
        }
        print_bench_run(&run);
        eprintln!(
            "xtask: {name}: {} results, {} problem(s); QEMU {} after {:.1} s",
            run.out.rows.len(),
            run.problems.len(),
            run.cap.end,
            run.cap.elapsed.as_secs_f64()
        );
        // Counted as one check per result, or one failure if the run is not sane.
        let passed = if run.problems.is_empty() {
            run.out.rows.len()
        } else {
            0
        };
        Stage::judged(name, t.elapsed().as_secs_f64(), passed, 0, run.problems)
    }

    /// A short QEMU fuzzing run (`qfuzz`, seed 1), non-MCS (kernel with the fastpath) or MCS.
    fn fuzz_stage(&mut self, name: &str, mcs: bool) -> Stage {
        banner(name);
        let t = Instant::now();
        let p = qfuzz::Params {
            seed: 1,
            iters: TEST_FUZZ_ITERS,
            cycle: TEST_FUZZ_CYCLE,
            mcs,
            checked: false,
        };
        let log = if mcs {
            "qemu-test-fuzz-mcs.log"
        } else {
            "qemu-test-fuzz.log"
        };
        // Always release builds: a debug_build kernel prints a userError line for nearly every
        // one of the children's syscalls.
        let r = match qfuzz::run(self.ws, &self.qemu, Profile::Release, p, self.timeout, log) {
            Ok(r) => r,
            Err(e) => return Stage::broken(name, t.elapsed().as_secs_f64(), format!("{e:#}")),
        };
        let _ = writeln!(self.all_log, "===== {name} =====");
        let _ = self.all_log.write_all(r.cap.text.as_bytes());
        let _ = writeln!(
            self.all_log,
            "===== end of {name}: QEMU {} =====\n",
            r.cap.end
        );
        eprintln!(
            "xtask: {name}: {}; QEMU {} after {:.1} s",
            qfuzz::summary(&r.out, r.cap.elapsed),
            r.cap.end,
            r.cap.elapsed.as_secs_f64()
        );
        // One test: the run as a whole.
        let ok = r.problems.is_empty();
        Stage::judged(
            name,
            t.elapsed().as_secs_f64(),
            usize::from(ok),
            usize::from(!ok),
            r.problems,
        )
    }

    /// The kernel of `arch` in Microkit's configuration (`--features microkit`, debug log
    /// level), entered through the loader without a device tree as Microkit's loader enters
    /// seL4 (the MCS test root task as the initial task, QEMU with 2 GiB), stopped once the
    /// root task is created: the kernel must take its compiled-in platform and report the
    /// untyped list Microkit's tool predicts for that placement ([`microkit::predict`] for the
    /// board `qemu_virt_riscv64` or `qemu_virt_aarch64_el1`): one check for the platform line,
    /// one for the first untyped slot, one per untyped.
    fn microkit_stage(&mut self, name: &str, arch: Arch) -> Stage {
        banner(name);
        let t = Instant::now();
        match self.microkit_run(name, arch) {
            Ok((checks, problems)) => {
                let failed = problems.len().min(checks);
                Stage::judged(
                    name,
                    t.elapsed().as_secs_f64(),
                    checks - failed,
                    failed,
                    problems,
                )
            }
            Err(e) => Stage::broken(name, t.elapsed().as_secs_f64(), format!("{e:#}")),
        }
    }

    fn microkit_run(&mut self, name: &str, arch: Arch) -> Result<(usize, Vec<String>)> {
        let (qemu, board, log) = match arch {
            Arch::Riscv64 => (
                self.qemu.clone(),
                microkit::RISCV64,
                "qemu-test-microkit.log",
            ),
            Arch::Aarch64 => (
                qemu::ensure_qemu_for(Arch::Aarch64)?,
                microkit::AARCH64,
                "qemu-test-microkit-aarch64.log",
            ),
        };
        let config = KernelConfig::new(self.profile)
            .arch(arch)
            .feature(MICROKIT_FEATURE, true)
            .log_level(Some(LogLevel::Debug));
        let kernel = self.ws.build_kernel(&config)?;
        let task = self
            .ws
            .build_root_task_for(arch, self.profile, &TESTS, &[MCS_FEATURE])?;
        let image_name = format!("{}-no-dtb", workspace::loader_image_name(&kernel, &task));
        let image = self.ws.build_loader_with(
            self.profile,
            arch,
            &kernel,
            &task,
            &image_name,
            workspace::LoaderOpts {
                no_dtb: true,
                fault: None,
            },
        )?;
        let mut args = qemu::image_args_with_memory(arch, &image, "2G");
        args.extend(qemu::ICOUNT_ARGS.iter().map(|s| s.to_string()));
        let log = self.ws.target_dir.join(log);
        let cap = qemu::run_captured(
            &qemu,
            &args,
            self.timeout,
            &log,
            None,
            Some(MICROKIT_STOP_AT),
        )?;
        writeln!(self.all_log, "===== {name}: {} =====", args.join(" "))?;
        self.all_log.write_all(cap.text.as_bytes())?;
        writeln!(
            self.all_log,
            "===== end of {name}: QEMU {} =====\n",
            cap.end
        )?;
        let (kernel_base, ki_end, ki_boot_end) = microkit::kernel_symbols(&kernel_elf(&kernel))?;
        let (ui_p, ui_v) =
            microkit::loader_placement(&cap.text).context("no placement line from the loader")?;
        let pred = microkit::predict(&microkit::Inputs {
            board,
            kernel_base,
            ki_end,
            ki_boot_end,
            ui_p,
            ui_v,
        })?;
        let (first, got) = microkit::reported(&cap.text);
        let mut problems = microkit::compare(&pred, first, &got);
        if !cap.text.contains(MICROKIT_PLATFORM_LINE) {
            problems.push(format!(
                "the kernel did not say {MICROKIT_PLATFORM_LINE:?}; QEMU {}",
                cap.end
            ));
        }
        eprintln!(
            "xtask: {name}: {} untypeds predicted, {} reported, {} problem(s)",
            pred.untypeds.len(),
            got.len(),
            problems.len()
        );
        Ok((pred.untypeds.len() + 2, problems))
    }

    /// The test root task on the MCS kernel (with the fastpath).
    fn mcs_tests_stage(&mut self, name: &str) -> Stage {
        banner("building the kernel (mcs, fastpath)");
        let config = KernelConfig::new(self.profile)
            .feature(MCS_FEATURE, true)
            .log_level(self.log_level);
        let kernel = self.ws.build_kernel(&config);
        self.tests_stage(name, &kernel, &[MCS_FEATURE], "qemu-test-mcs.log")
    }

    /// The demo (built with `features`) on `kernel`, booted twice ([`protocol`]'s demo
    /// protocol): without input it must end by itself; typed into ([`protocol::DEMO_SCRIPT`])
    /// it must echo each line, restart its driver after the crash and the hang, and count the
    /// restarts. Both runs must print `DEMO OK` and leave no kernel warning.
    fn demo_stage(&mut self, name: &str, kernel: &Result<PathBuf>, features: &[&str]) -> Stage {
        let qemu = self.qemu.clone();
        banner(name);
        let t = Instant::now();
        self.demo_stage_on(Arch::Riscv64, &qemu, name, kernel, features, t)
    }

    /// [`QemuTests::demo_stage`] on `arch`, with its QEMU `qemu`; the stage's time counts
    /// from `t`.
    fn demo_stage_on(
        &mut self,
        arch: Arch,
        qemu: &Path,
        name: &str,
        kernel: &Result<PathBuf>,
        features: &[&str],
        t: Instant,
    ) -> Stage {
        let kernel = match kernel {
            Ok(k) => k,
            Err(e) => return Stage::broken(name, 0.0, format!("kernel build failed: {e:#}")),
        };
        let log = match (arch, features.is_empty()) {
            (Arch::Riscv64, true) => "qemu-demo",
            (Arch::Riscv64, false) => "qemu-demo-mcs",
            (Arch::Aarch64, true) => "qemu-demo-aarch64",
            (Arch::Aarch64, false) => "qemu-demo-aarch64-mcs",
        };
        let runs: [(&str, Option<protocol::Script>); 2] = [
            ("without input", None),
            (
                "typed into",
                Some((protocol::DEMO_SCRIPT, protocol::DEMO_SCRIPT_END)),
            ),
        ];
        let (mut passed, mut problems) = (0, Vec::new());
        for (i, (how, script)) in runs.into_iter().enumerate() {
            let log_name = format!("{log}{}.log", if i == 0 { "" } else { "-typed" });
            let run_name = format!("{name}, {how}");
            let cap = match self.boot_on(
                arch,
                qemu,
                &run_name,
                kernel,
                &DEMO,
                features,
                &log_name,
                BootHow {
                    loader: false,
                    script: script.map(|s| s.0),
                },
            ) {
                Ok(cap) => cap,
                Err(e) => return Stage::broken(name, t.elapsed().as_secs_f64(), format!("{e:#}")),
            };
            let v = protocol::judge_demo_run(&cap.text, &cap.end, script);
            eprintln!(
                "xtask: {run_name}: {} check(s) passed, {} failed; QEMU {} after {:.1} s",
                v.passed,
                v.problems.len(),
                cap.end,
                cap.elapsed.as_secs_f64()
            );
            passed += v.passed;
            problems.extend(v.problems.into_iter().map(|p| format!("{how}: {p}")));
        }
        let failed = problems.len();
        Stage::judged(name, t.elapsed().as_secs_f64(), passed, failed, problems)
    }
}

/// The ELF of a kernel image: the image itself, or on aarch64 the ELF the flat `Image`
/// (`<elf>.img`) was cut out of.
fn kernel_elf(kernel: &Path) -> PathBuf {
    if kernel.extension().is_some_and(|e| e == "img") {
        kernel.with_extension("")
    } else {
        kernel.to_path_buf()
    }
}

/// The boot-region check of a kernel ELF ([`bootregion::check`]; given the flat image of an
/// aarch64 kernel, its ELF), counted as one test: whether it passed, and what is wrong.
fn boot_region_problems(kernel: &Path) -> (bool, Vec<String>) {
    match bootregion::check(&kernel_elf(kernel)) {
        Ok(((start, end), bad)) => {
            eprintln!(
                "xtask: boot-only region {start:#x}..{end:#x} ({} KiB): {} problem(s)",
                (end - start) / 1024,
                bad.len()
            );
            (bad.is_empty(), bad)
        }
        Err(e) => (false, vec![format!("boot-region check: {e:#}")]),
    }
}

impl QemuTests<'_> {
    /// The demo on the aarch64 kernel with the fastpath and the features the demo needs there
    /// ([`demo_kernel_features`]), MCS if `mcs` (kernel and demo), booted twice as
    /// [`QemuTests::demo_stage`] boots it on riscv64.
    fn demo_aarch64_stage(&mut self, name: &str, mcs: bool) -> Stage {
        banner(name);
        let t = Instant::now();
        let qemu = match qemu::ensure_qemu_for(Arch::Aarch64) {
            Ok(q) => q,
            Err(e) => return Stage::broken(name, 0.0, format!("{e:#}")),
        };
        let mut config = KernelConfig::new(self.profile)
            .arch(Arch::Aarch64)
            .feature(MCS_FEATURE, mcs)
            .feature(PRINTING_FEATURE, true)
            .log_level(self.log_level);
        for f in demo_kernel_features(Arch::Aarch64) {
            config = config.feature(f, true);
        }
        let kernel = self.ws.build_kernel(&config);
        self.demo_stage_on(Arch::Aarch64, &qemu, name, &kernel, task_features(mcs), t)
    }

    /// The test root task on the aarch64 kernel with the fastpath (built with `mcs` if `mcs`,
    /// the root task too): the riscv64 tests and aarch64's own, booted as the initrd or
    /// (`loader`) through the loader with seL4's boot protocol; the kernel's boot-only region
    /// is checked first (one test). Installs aarch64 QEMU first if it is missing.
    fn tests_aarch64_stage(&mut self, name: &str, mcs: bool, loader: bool) -> Stage {
        banner(name);
        let t = Instant::now();
        let qemu = match qemu::ensure_qemu_for(Arch::Aarch64) {
            Ok(q) => q,
            Err(e) => return Stage::broken(name, 0.0, format!("{e:#}")),
        };
        let config = KernelConfig::new(self.profile)
            .arch(Arch::Aarch64)
            .feature(MCS_FEATURE, mcs)
            .log_level(self.log_level);
        let kernel = match self.ws.build_kernel(&config) {
            Ok(k) => k,
            Err(e) => return Stage::broken(name, 0.0, format!("kernel build failed: {e:#}")),
        };
        let log = match (mcs, loader) {
            (true, _) => "qemu-test-aarch64-mcs.log",
            (false, true) => "qemu-test-aarch64-loader.log",
            (false, false) => "qemu-test-aarch64.log",
        };
        let features = task_features(mcs);
        let how = BootHow {
            loader,
            script: None,
        };
        // The kernel first: nothing after boot may refer into its boot-only region.
        let (region_ok, mut problems) = boot_region_problems(&kernel);
        match self.boot_on(
            Arch::Aarch64,
            &qemu,
            name,
            &kernel,
            &TESTS,
            features,
            log,
            how,
        ) {
            Err(e) => Stage::broken(name, t.elapsed().as_secs_f64(), format!("{e:#}")),
            Ok(cap) => {
                let out = protocol::parse_test_output(&cap.text);
                problems.extend(protocol::judge_tests(&out, &cap.end));
                eprintln!(
                    "xtask: {name}: {} TEST lines; QEMU {} after {:.1} s",
                    out.tests.len(),
                    cap.end,
                    cap.elapsed.as_secs_f64()
                );
                let (mut passed, mut failed) = (
                    out.passed() + usize::from(region_ok),
                    out.failed() + usize::from(!region_ok),
                );
                if loader {
                    let refused = self.refused_handoffs(&qemu, &kernel, features);
                    passed += refused.0;
                    failed += refused.1;
                    problems.extend(refused.2);
                }
                Stage::judged(name, t.elapsed().as_secs_f64(), passed, failed, problems)
            }
        }
    }

    /// The aarch64 kernel entered through the loader with each of its spoilt hand-offs
    /// (`loader::FAULTS`): each must end in the kernel's message for it and QEMU's exit with
    /// status 1, without running the root task (one test each). Returns (passed, failed,
    /// problems).
    fn refused_handoffs(
        &mut self,
        qemu: &Path,
        kernel: &Path,
        features: &[&str],
    ) -> (usize, usize, Vec<String>) {
        let (mut passed, mut problems) = (0, Vec::new());
        let elf = match self
            .ws
            .build_root_task_for(Arch::Aarch64, self.profile, &TESTS, features)
        {
            Ok(e) => e,
            Err(e) => return (0, 1, vec![format!("{e:#}")]),
        };
        for (fault, expected) in protocol::REFUSED_HANDOFFS {
            let image_name = format!("{}-{fault}", workspace::loader_image_name(kernel, &elf));
            let opts = workspace::LoaderOpts {
                no_dtb: false,
                fault: Some(fault),
            };
            let run = self
                .ws
                .build_loader_with(self.profile, Arch::Aarch64, kernel, &elf, &image_name, opts)
                .and_then(|image| {
                    let mut args = qemu::image_args_for(Arch::Aarch64, &image);
                    args.extend(qemu::ICOUNT_ARGS.iter().map(|s| s.to_string()));
                    let log = self
                        .ws
                        .target_dir
                        .join(format!("qemu-test-aarch64-refused-{fault}.log"));
                    let timeout = self.timeout.min(Duration::from_secs(60));
                    qemu::run_captured(qemu, &args, timeout, &log, None, None)
                });
            let bad = match run {
                Ok(cap) => {
                    let _ = writeln!(
                        self.all_log,
                        "===== spoilt hand-off {fault} =====\n{}===== end: QEMU {} =====\n",
                        cap.text, cap.end
                    );
                    protocol::judge_refused(&cap.text, &cap.end, expected)
                }
                Err(e) => vec![format!("{e:#}")],
            };
            eprintln!(
                "xtask: spoilt hand-off {fault}: {}",
                if bad.is_empty() {
                    "refused"
                } else {
                    "NOT refused as it should be"
                }
            );
            if bad.is_empty() {
                passed += 1;
            } else {
                problems.extend(bad.into_iter().map(|p| format!("hand-off {fault}: {p}")));
            }
        }
        let failed = protocol::REFUSED_HANDOFFS.len() - passed;
        (passed, failed, problems)
    }
}

fn fastpath_variant(fastpath: bool) -> &'static str {
    if fastpath {
        "fastpath"
    } else {
        "no fastpath"
    }
}

/// `cargo clippy` of the kernel binary for the target, with `features` if any, `-D warnings`.
fn kernel_clippy_args(features: Option<&str>) -> Vec<&str> {
    kernel_clippy_args_for(Arch::Riscv64, features)
}

/// [`kernel_clippy_args`] for `arch`'s kernel target.
fn kernel_clippy_args_for(arch: Arch, features: Option<&str>) -> Vec<&str> {
    let mut a = vec![
        "clippy",
        "-p",
        workspace::KERNEL_PACKAGE,
        "--bin",
        workspace::KERNEL_BIN,
        "--target",
        arch.kernel_target(),
    ];
    if let Some(f) = features {
        a.extend(["--features", f]);
    }
    a.extend(["--", "-D", "warnings"]);
    a
}

/// The lint and host stages, in the order they run (the QEMU stages follow).
const LINT_AND_HOST_STAGES: [&str; 16] = [
    LINT_FMT,
    LINT_CLIPPY_HOST,
    LINT_CLIPPY_KERNEL,
    LINT_CLIPPY_KERNEL_DEBUG,
    LINT_CLIPPY_KERNEL_MCS,
    LINT_CLIPPY_KERNEL_UTIL,
    LINT_CLIPPY_KERNEL_AARCH64,
    LINT_CLIPPY_KERNEL_AARCH64_MCS,
    HOST_ALL,
    HOST_NOFP,
    HOST_DEBUG,
    HOST_KERNEL_MCS,
    HOST_KERNEL_MCS_UTIL,
    HOST_ABI_MCS,
    HOST_LIBSEL4_MCS,
    HOST_MUTANTS,
];

/// Names of the stages, as the table shows them (`test --help` lists them too).
const LINT_FMT: &str = "lint: cargo fmt --check";
const LINT_CLIPPY_HOST: &str = "lint: cargo clippy (host crates)";
const LINT_CLIPPY_KERNEL: &str = "lint: cargo clippy (kernel, riscv64)";
const HOST_ALL: &str = "host: cargo test";
const LINT_CLIPPY_KERNEL_DEBUG: &str = "lint: cargo clippy (kernel, riscv64, debug_build)";
const HOST_NOFP: &str = "host: cargo test -p kernel --no-default-features --features printing";
const HOST_DEBUG: &str = "host: cargo test -p kernel --features debug_build";
const HOST_ABI_MCS: &str = "host: cargo test -p abi --features mcs";
const LINT_CLIPPY_KERNEL_MCS: &str = "lint: cargo clippy (kernel, riscv64, mcs)";
const HOST_KERNEL_MCS: &str = "host: cargo test -p kernel --features mcs";
const LINT_CLIPPY_KERNEL_UTIL: &str =
    "lint: cargo clippy (kernel, riscv64, track_utilisation, printing)";
const HOST_KERNEL_MCS_UTIL: &str =
    "host: cargo test -p kernel --features mcs,debug_build,track_utilisation";
const HOST_LIBSEL4_MCS: &str = "host: cargo test -p libsel4 --features mcs";
const HOST_KERNEL_MICROKIT: &str = "host: cargo test -p kernel --features microkit";
/// The kernel's host tests that the microkit stage leaves out (`--skip` patterns): long
/// syscall sequences and fuzz corpora, run by the other host stages, whose per-step checks over
/// the whole root CNode take 16 times as long with its 2^17 slots.
const MICROKIT_SKIPPED_TESTS: [&str; 5] = [
    "kept_corpus_passes",
    "arbitrary_syscalls_keep_the_invariants",
    "mcs_fastpath_and_full_path_reach_the_same_state",
    "sequences_follow_the_model",
    "page_map_direct_path_matches_the_general_path",
];
const QEMU_TESTS_MCS: &str = "qemu: roottask-tests (mcs)";
const QEMU_DEMO_MCS: &str = "qemu: demo (mcs)";
const QEMU_BENCH_MCS: &str = "qemu: bench sanity (mcs, benchmark, quick)";
const QEMU_MICROKIT: &str = "qemu: Microkit boot state (microkit, loader without device tree)";
const QEMU_MICROKIT_AARCH64: &str =
    "qemu: Microkit boot state (aarch64, microkit, loader without device tree)";
/// The kernel's line once the root task exists: the Microkit stage stops QEMU there.
const MICROKIT_STOP_AT: &str = "root task created";
/// The kernel's line when it takes its compiled-in platform.
const MICROKIT_PLATFORM_LINE: &str =
    "no device tree from the loader: using the compiled-in platform";
const HOST_BENCH: &str = "host: cargo test -p bench --lib";
const LINT_CLIPPY_KERNEL_AARCH64: &str = "lint: cargo clippy (kernel, aarch64)";
const LINT_CLIPPY_KERNEL_AARCH64_MCS: &str =
    "lint: cargo clippy (kernel, aarch64, mcs, debug_build, track_utilisation, export_*_user)";
const QEMU_TESTS_AARCH64: &str = "qemu: roottask-tests (aarch64)";
const QEMU_TESTS_AARCH64_LOADER: &str = "qemu: roottask-tests through the loader (aarch64)";
const QEMU_TESTS_AARCH64_MCS: &str = "qemu: roottask-tests (aarch64, mcs)";
const QEMU_BENCH_AARCH64_MCS: &str = "qemu: bench sanity (aarch64, mcs, benchmark, quick)";
const QEMU_DEMO_AARCH64: &str = "qemu: demo (aarch64)";
const QEMU_DEMO_AARCH64_MCS: &str = "qemu: demo (aarch64, mcs)";

/// The aarch64 benchmark sanity stage's name (non-MCS).
fn bench_aarch64_stage_name(fastpath: bool) -> String {
    format!(
        "qemu: {} sanity (aarch64, {}, benchmark, quick)",
        BENCH.package,
        fastpath_variant(fastpath)
    )
}
const HOST_MUTANTS: &str = "host: cargo xtask mutants --sample";

/// Syscalls of the short QEMU fuzzing runs of `cargo xtask test`, and how often they rebuild.
const TEST_FUZZ_ITERS: u64 = 100_000;
const TEST_FUZZ_CYCLE: u64 = 25_000;

fn fuzz_stage_name(mcs: bool) -> String {
    format!(
        "qemu: {} ({}, {TEST_FUZZ_ITERS} syscalls)",
        workspace::FUZZ.package,
        if mcs { "mcs" } else { "fastpath" }
    )
}

fn tests_stage_name(fastpath: bool) -> String {
    format!("qemu: {} ({})", TESTS.package, fastpath_variant(fastpath))
}

fn loader_stage_name(fastpath: bool) -> String {
    format!(
        "qemu: {} through the loader ({})",
        TESTS.package,
        fastpath_variant(fastpath)
    )
}

fn demo_stage_name(fastpath: bool) -> String {
    format!("qemu: {} ({})", DEMO.package, fastpath_variant(fastpath))
}

fn bench_stage_name(fastpath: bool) -> String {
    format!(
        "qemu: {} sanity ({}, benchmark, quick)",
        BENCH.package,
        fastpath_variant(fastpath)
    )
}

/// Print a stage's verdict line and add it to the table.
fn push(stages: &mut Vec<Stage>, s: Stage) {
    match s.ok {
        None => eprintln!("xtask: {}: skipped ({})", s.name, s.problems.join("; ")),
        Some(ok) => eprintln!(
            "xtask: {}: {}: {} passed, {} failed in {:.1} s",
            s.name,
            if ok { "ok" } else { "FAILED" },
            s.passed,
            s.failed,
            s.secs
        ),
    }
    stages.push(s);
}

/// The QEMU stages, in this order (which `test --help` describes): the test root task on the
/// kernel with the fastpath, the demo on that kernel, the test root task on the kernel without
/// the fastpath, the test root task and the demo on the MCS kernel, the short fuzzing runs
/// (non-MCS, MCS), the benchmark sanity runs (non-MCS, MCS); then on aarch64 the test root
/// task, the benchmark sanity runs and the demo (each non-MCS, MCS).
fn qemu_stages(ws: &Workspace, o: &TestOpts, stages: &mut Vec<Stage>) {
    // With --mcs only the MCS stage runs.
    let variants: Vec<bool> = [true, false]
        .into_iter()
        .filter(|&fastpath| {
            !o.mcs
                && if fastpath {
                    !o.no_fastpath_only
                } else {
                    !o.fastpath_only
                }
        })
        .collect();
    let run_mcs_stage = !o.no_fastpath_only;
    let names: Vec<String> = variants.iter().map(|&f| tests_stage_name(f)).collect();
    let first = variants.first().copied().unwrap_or(true);
    let demo_name = demo_stage_name(first);
    let run_demo = !o.no_demo && !variants.is_empty();
    let run_loader = !variants.is_empty();
    let loader_name = loader_stage_name(first);
    let run_bench_stage = !o.no_bench && !o.mcs && ws.has_package(BENCH.package);
    let bench_name = bench_stage_name(first);
    let mcs_name = QEMU_TESTS_MCS.to_string();
    let run_mcs_demo = run_mcs_stage && !o.no_demo;
    let mcs_demo_name = QEMU_DEMO_MCS.to_string();
    let run_mcs_bench = run_mcs_stage && !o.no_bench && ws.has_package(BENCH.package);
    let mcs_bench_name = QEMU_BENCH_MCS.to_string();
    let run_tests_aarch64 = !o.mcs && !o.no_fastpath_only;
    let tests_aarch64_name = QEMU_TESTS_AARCH64.to_string();
    let tests_aarch64_loader_name = QEMU_TESTS_AARCH64_LOADER.to_string();
    let tests_aarch64_mcs_name = QEMU_TESTS_AARCH64_MCS.to_string();
    let run_bench_aarch64 = run_bench_stage && run_tests_aarch64;
    let bench_aarch64_name = bench_aarch64_stage_name(first);
    let run_mcs_bench_aarch64 = run_mcs_bench;
    let mcs_bench_aarch64_name = QEMU_BENCH_AARCH64_MCS.to_string();
    let run_demo_aarch64 = run_demo && run_tests_aarch64;
    let demo_aarch64_name = QEMU_DEMO_AARCH64.to_string();
    let run_mcs_demo_aarch64 = run_mcs_demo;
    let mcs_demo_aarch64_name = QEMU_DEMO_AARCH64_MCS.to_string();
    let run_microkit = run_mcs_stage;
    let microkit_name = QEMU_MICROKIT.to_string();
    let microkit_aarch64_name = QEMU_MICROKIT_AARCH64.to_string();
    let has_fuzz = ws.has_package(workspace::FUZZ.package) && !o.no_fuzz;
    let run_fuzz = has_fuzz && variants.contains(&true);
    let fuzz_name = fuzz_stage_name(false);
    let run_mcs_fuzz = has_fuzz && run_mcs_stage;
    let mcs_fuzz_name = fuzz_stage_name(true);

    // Without a target or QEMU nothing can boot: one failure, the rest skipped.
    let fail_all = |stages: &mut Vec<Stage>, why: String| {
        push(stages, Stage::broken("qemu: setup", 0.0, why));
        for n in names
            .iter()
            .chain(std::iter::once(&demo_name).filter(|_| run_demo))
            .chain(std::iter::once(&loader_name).filter(|_| run_loader))
            .chain(std::iter::once(&mcs_name).filter(|_| run_mcs_stage))
            .chain(std::iter::once(&mcs_demo_name).filter(|_| run_mcs_demo))
            .chain(std::iter::once(&microkit_name).filter(|_| run_microkit))
            .chain(std::iter::once(&fuzz_name).filter(|_| run_fuzz))
            .chain(std::iter::once(&mcs_fuzz_name).filter(|_| run_mcs_fuzz))
            .chain(std::iter::once(&bench_name).filter(|_| run_bench_stage))
            .chain(std::iter::once(&mcs_bench_name).filter(|_| run_mcs_bench))
            .chain(std::iter::once(&tests_aarch64_name).filter(|_| run_tests_aarch64))
            .chain(std::iter::once(&tests_aarch64_loader_name).filter(|_| run_tests_aarch64))
            .chain(std::iter::once(&tests_aarch64_mcs_name).filter(|_| run_mcs_stage))
            .chain(std::iter::once(&microkit_aarch64_name).filter(|_| run_microkit))
            .chain(std::iter::once(&bench_aarch64_name).filter(|_| run_bench_aarch64))
            .chain(std::iter::once(&mcs_bench_aarch64_name).filter(|_| run_mcs_bench_aarch64))
            .chain(std::iter::once(&demo_aarch64_name).filter(|_| run_demo_aarch64))
            .chain(std::iter::once(&mcs_demo_aarch64_name).filter(|_| run_mcs_demo_aarch64))
        {
            push(stages, Stage::skipped(n.clone(), "QEMU setup failed"));
        }
    };
    banner("QEMU tests: setup");
    let qemu = match qemu::ensure_qemu() {
        Ok(q) => q,
        Err(e) => return fail_all(stages, format!("{e:#}")),
    };
    let all_log_path = ws.target_dir.join("qemu-test.log");
    let _ = std::fs::create_dir_all(&ws.target_dir);
    let all_log = match File::create(&all_log_path) {
        Ok(f) => f,
        Err(e) => return fail_all(stages, format!("creating {}: {e}", all_log_path.display())),
    };
    let mut q = QemuTests {
        ws,
        qemu,
        profile: o.profile.profile(),
        log_level: o.log.log_level,
        timeout: timeout_of(o.timeout).unwrap_or(Duration::MAX),
        all_log,
    };
    for (i, &fastpath) in variants.iter().enumerate() {
        banner(&format!(
            "building the kernel ({})",
            fastpath_variant(fastpath)
        ));
        let config = KernelConfig::new(q.profile)
            .feature("fastpath", fastpath)
            .log_level(q.log_level);
        let kernel = q.ws.build_kernel(&config);
        let log_name = if fastpath {
            "qemu-test-fastpath.log"
        } else {
            "qemu-test-no-fastpath.log"
        };
        push(stages, q.tests_stage(&names[i], &kernel, &[], log_name));
        if i == 0 && run_demo {
            // The demo's judge reads the kernel's warnings: the same kernel with `printing`.
            banner("building the kernel (fastpath, printing)");
            let printing =
                q.ws.build_kernel(&config.clone().feature(PRINTING_FEATURE, true));
            push(stages, q.demo_stage(&demo_name, &printing, &[]));
        }
        if i == 0 && run_loader {
            push(
                stages,
                q.tests_stage_via(&loader_name, &kernel, &[], "qemu-test-loader.log", true),
            );
        }
    }
    if run_mcs_stage {
        push(stages, q.mcs_tests_stage(&mcs_name));
        if run_mcs_demo {
            banner("building the kernel (mcs, fastpath, printing)");
            let config = KernelConfig::new(q.profile)
                .feature(MCS_FEATURE, true)
                .feature(PRINTING_FEATURE, true)
                .log_level(q.log_level);
            let printing = q.ws.build_kernel(&config);
            push(
                stages,
                q.demo_stage(&mcs_demo_name, &printing, &[MCS_FEATURE]),
            );
        }
    }
    if run_microkit {
        push(stages, q.microkit_stage(&microkit_name, Arch::Riscv64));
    }
    if run_fuzz {
        push(stages, q.fuzz_stage(&fuzz_name, false));
    }
    if run_mcs_fuzz {
        push(stages, q.fuzz_stage(&mcs_fuzz_name, true));
    }
    if run_bench_stage {
        push(stages, q.bench_stage(&bench_name, variants[0], false));
    }
    if run_mcs_bench {
        push(stages, q.bench_stage(&mcs_bench_name, true, true));
    }
    // aarch64 (being ported): the test root task on its kernel, non-MCS and MCS.
    if run_tests_aarch64 {
        push(
            stages,
            q.tests_aarch64_stage(&tests_aarch64_name, false, false),
        );
        push(
            stages,
            q.tests_aarch64_stage(&tests_aarch64_loader_name, false, true),
        );
    }
    if run_mcs_stage {
        push(
            stages,
            q.tests_aarch64_stage(&tests_aarch64_mcs_name, true, false),
        );
    }
    if run_microkit {
        push(
            stages,
            q.microkit_stage(&microkit_aarch64_name, Arch::Aarch64),
        );
    }
    // aarch64: the benchmark root task's sanity runs (cycle counter PMCCNTR_EL0).
    for (run, name, fastpath, mcs) in [
        (run_bench_aarch64, &bench_aarch64_name, first, false),
        (run_mcs_bench_aarch64, &mcs_bench_aarch64_name, true, true),
    ] {
        if !run {
            continue;
        }
        match qemu::ensure_qemu_for(Arch::Aarch64) {
            Ok(aq) => push(
                stages,
                q.bench_stage_on(name, Arch::Aarch64, &aq, fastpath, mcs),
            ),
            Err(e) => push(stages, Stage::broken(name, 0.0, format!("{e:#}"))),
        }
    }
    // aarch64: the demo (PL011 driver, the monitor on the EL1 physical timer).
    if run_demo_aarch64 {
        push(stages, q.demo_aarch64_stage(&demo_aarch64_name, false));
    }
    if run_mcs_demo_aarch64 {
        push(stages, q.demo_aarch64_stage(&mcs_demo_aarch64_name, true));
    }
    let _ = q.all_log.flush();
    eprintln!(
        "xtask: all QEMU test output is in {}",
        all_log_path.display()
    );
}

/// The toolchain components `cargo xtask test` lints with.
const LINT_COMPONENTS: &[&str] = &["rustfmt", "clippy"];

fn test(o: TestOpts) -> Result<ExitCode> {
    let ws = Workspace::load()?;
    let start = Instant::now();
    let mut stages = Vec::new();

    let bench_host = ws.has_package(BENCH.package);

    // Everything builds for riscv64 (the kernel's clippy run too); the lints need rustfmt and
    // clippy. Added to the active toolchain if missing.
    banner("setup: Rust toolchain");
    let components: &[&str] = if o.qemu_only { &[] } else { LINT_COMPONENTS };
    if let Err(e) = ws.ensure_toolchain_for(&[Arch::Riscv64, Arch::Aarch64], components) {
        push(
            &mut stages,
            Stage::broken("setup: Rust toolchain", 0.0, format!("{e:#}")),
        );
    }
    if o.qemu_only {
        for name in LINT_AND_HOST_STAGES {
            push(&mut stages, Stage::skipped(name, "--qemu-only"));
        }
        if bench_host {
            push(&mut stages, Stage::skipped(HOST_BENCH, "--qemu-only"));
        }
    } else {
        push(
            &mut stages,
            check_stage(&ws, LINT_FMT, &["fmt", "--all", "--check"]),
        );
        push(
            &mut stages,
            check_stage(
                &ws,
                LINT_CLIPPY_HOST,
                &["clippy", "--all-targets", "--", "-D", "warnings"],
            ),
        );
        for (name, features) in [
            (LINT_CLIPPY_KERNEL, None),
            (LINT_CLIPPY_KERNEL_DEBUG, Some("debug_build")),
        ] {
            push(
                &mut stages,
                check_stage(&ws, name, &kernel_clippy_args(features)),
            );
        }
        push(
            &mut stages,
            check_stage(
                &ws,
                LINT_CLIPPY_KERNEL_MCS,
                &kernel_clippy_args(Some(MCS_FEATURE)),
            ),
        );
        push(
            &mut stages,
            check_stage(
                &ws,
                LINT_CLIPPY_KERNEL_UTIL,
                &kernel_clippy_args(Some("track_utilisation,printing")),
            ),
        );
        for (name, features) in [
            (LINT_CLIPPY_KERNEL_AARCH64, None),
            (
                LINT_CLIPPY_KERNEL_AARCH64_MCS,
                Some(
                    "mcs,debug_build,track_utilisation,export_pcnt_user,export_vcnt_user,\
                     export_ptmr_user,export_vtmr_user",
                ),
            ),
        ] {
            push(
                &mut stages,
                check_stage(&ws, name, &kernel_clippy_args_for(Arch::Aarch64, features)),
            );
        }
        push(
            &mut stages,
            host_stage(&ws, HOST_ALL, &["test", "--no-fail-fast"]),
        );
        push(
            &mut stages,
            host_stage(
                &ws,
                HOST_NOFP,
                &[
                    "test",
                    "--no-fail-fast",
                    "-p",
                    "kernel",
                    "--no-default-features",
                    "--features",
                    PRINTING_FEATURE,
                ],
            ),
        );
        push(
            &mut stages,
            host_stage(
                &ws,
                HOST_DEBUG,
                &[
                    "test",
                    "--no-fail-fast",
                    "-p",
                    "kernel",
                    "--features",
                    "debug_build",
                ],
            ),
        );
        push(
            &mut stages,
            host_stage(
                &ws,
                HOST_KERNEL_MCS,
                &[
                    "test",
                    "--no-fail-fast",
                    "-p",
                    "kernel",
                    "--features",
                    "mcs",
                ],
            ),
        );
        push(
            &mut stages,
            host_stage(
                &ws,
                HOST_KERNEL_MCS_UTIL,
                &[
                    "test",
                    "--no-fail-fast",
                    "-p",
                    "kernel",
                    "--features",
                    "mcs,debug_build,track_utilisation",
                ],
            ),
        );
        let mut microkit_args = vec![
            "test",
            "--no-fail-fast",
            "-p",
            "kernel",
            "--features",
            "microkit",
            "--",
        ];
        for t in MICROKIT_SKIPPED_TESTS {
            microkit_args.extend(["--skip", t]);
        }
        push(
            &mut stages,
            host_stage(&ws, HOST_KERNEL_MICROKIT, &microkit_args),
        );
        push(
            &mut stages,
            host_stage(
                &ws,
                HOST_ABI_MCS,
                &["test", "--no-fail-fast", "-p", "abi", "--features", "mcs"],
            ),
        );
        push(
            &mut stages,
            host_stage(
                &ws,
                HOST_LIBSEL4_MCS,
                &[
                    "test",
                    "--no-fail-fast",
                    "-p",
                    "libsel4",
                    "--features",
                    "mcs",
                ],
            ),
        );
        push(&mut stages, mutants_stage(&ws));
        if bench_host {
            push(
                &mut stages,
                host_stage(
                    &ws,
                    HOST_BENCH,
                    &["test", "--no-fail-fast", "-p", "bench", "--lib"],
                ),
            );
        }
    }
    // Every lint and host stage ran (or was skipped by an option): a stage lost from this
    // function would otherwise pass unnoticed.
    let missing: Vec<&str> = LINT_AND_HOST_STAGES
        .iter()
        .copied()
        .filter(|n| !stages.iter().any(|s| s.name == *n))
        .collect();
    if !missing.is_empty() {
        push(
            &mut stages,
            Stage::broken(
                "xtask: stage list",
                0.0,
                format!("stages that did not run: {}", missing.join(", ")),
            ),
        );
    }
    if o.host_only {
        push(&mut stages, Stage::skipped("qemu: all", "--host-only"));
    } else {
        qemu_stages(&ws, &o, &mut stages);
    }

    let (passed, failed, bad) = print_summary(&stages, start.elapsed());
    // The last line of output, in the plain form CI reads.
    println!("{passed} passed, {failed} failed");
    let _ = std::io::stdout().flush();
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Print the table; returns (passed, failed, failing stages).
fn print_summary(stages: &[Stage], elapsed: Duration) -> (usize, usize, usize) {
    let w = stages
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    println!();
    println!("{}", "=".repeat(w + 36));
    println!(
        "{:<w$}  {:<7}  {:>6}  {:>6}  {:>8}",
        "stage", "result", "passed", "failed", "time"
    );
    println!("{}", "-".repeat(w + 36));
    let (mut passed, mut failed, mut bad) = (0, 0, 0);
    for s in stages {
        let result = match s.ok {
            None => "skipped",
            Some(true) => "ok",
            Some(false) => "FAILED",
        };
        println!(
            "{:<w$}  {:<7}  {:>6}  {:>6}  {:>7.1}s",
            s.name, result, s.passed, s.failed, s.secs
        );
        passed += s.passed;
        failed += s.failed;
        bad += usize::from(s.ok == Some(false));
    }
    println!("{}", "-".repeat(w + 36));
    for s in stages.iter().filter(|s| s.ok == Some(false)) {
        println!("{} FAILED:", s.name);
        for p in &s.problems {
            for (i, l) in p.lines().enumerate() {
                println!("{}{l}", if i == 0 { "  - " } else { "    " });
            }
        }
    }
    println!(
        "{} stage(s) failed; total time {:.0} s",
        bad,
        elapsed.as_secs_f64()
    );
    (passed, failed, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_parses() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "xtask",
            "run",
            "--root-task",
            "x.elf",
            "--no-fastpath",
            "--",
            "-s",
            "-S",
        ])
        .unwrap();
        match cli.cmd {
            Cmd::Run(o) => {
                assert_eq!(o.root_task.as_deref(), Some(Path::new("x.elf")));
                assert!(o.build.no_fastpath);
                assert_eq!(o.qemu_args, ["-s", "-S"]);
                assert_eq!(o.timeout(), Some(Duration::from_secs(120)));
                assert!(o.until.is_none() && !o.gdb);
            }
            _ => panic!("not run"),
        }
        let run =
            |args: &[&str]| match Cli::try_parse_from(["xtask", "run"].iter().chain(args).copied())
            {
                Ok(Cli { cmd: Cmd::Run(o) }) => o,
                Ok(_) => panic!("not run"),
                Err(e) => panic!("{e}"),
            };
        let o = run(&["--gdb"]);
        assert!(o.gdb);
        assert_eq!(o.timeout(), None, "no time-out with --gdb");
        assert_eq!(
            run(&["--gdb", "--timeout", "9"]).timeout(),
            Some(Duration::from_secs(9))
        );
        assert_eq!(run(&["--timeout", "0"]).timeout(), None);
        let o = run(&["--until", "^DEMO OK$", "--log-level", "warn"]);
        assert!(o.until.unwrap().is_match("DEMO OK"));
        assert_eq!(o.build.log.log_level, Some(LogLevel::Warn));
        assert!(Cli::try_parse_from(["xtask", "run", "--until", "(unclosed"]).is_err());
        assert!(Cli::try_parse_from(["xtask", "run", "--log-level", "loud"]).is_err());
        assert!(Cli::try_parse_from(["xtask", "build", "--release", "--debug"]).is_err());
        assert!(
            Cli::try_parse_from(["xtask", "test", "--fastpath-only", "--no-fastpath-only"])
                .is_err()
        );
        match Cli::try_parse_from(["xtask", "test"]).unwrap().cmd {
            Cmd::Test(o) => {
                assert_eq!(o.timeout, 300);
                assert!(!o.no_bench);
            }
            _ => panic!("not test"),
        }
        match Cli::try_parse_from(["xtask", "bench", "--compare", "--quick"])
            .unwrap()
            .cmd
        {
            Cmd::Bench(o) => {
                assert!(o.compare && o.quick && !o.no_fastpath);
                assert_eq!(o.timeout, 600);
            }
            _ => panic!("not bench"),
        }
        match Cli::try_parse_from(["xtask", "bench", "--no-fastpath"])
            .unwrap()
            .cmd
        {
            Cmd::Bench(o) => assert!(o.no_fastpath && !o.compare && !o.quick),
            _ => panic!("not bench"),
        }
        assert!(Cli::try_parse_from(["xtask", "bench", "--compare", "--no-fastpath"]).is_err());
    }

    /// `test --help` lists the stages by their names, in the order they run.
    #[test]
    fn test_help_lists_the_stages_in_order() {
        use clap::CommandFactory;
        let mut cmd = Cli::command();
        let help = cmd
            .find_subcommand_mut("test")
            .unwrap()
            .render_long_help()
            .to_string();
        let names = [
            LINT_FMT.to_string(),
            LINT_CLIPPY_HOST.into(),
            LINT_CLIPPY_KERNEL.into(),
            LINT_CLIPPY_KERNEL_DEBUG.into(),
            LINT_CLIPPY_KERNEL_MCS.into(),
            LINT_CLIPPY_KERNEL_UTIL.into(),
            LINT_CLIPPY_KERNEL_AARCH64.into(),
            LINT_CLIPPY_KERNEL_AARCH64_MCS.into(),
            HOST_ALL.into(),
            HOST_NOFP.into(),
            HOST_DEBUG.into(),
            HOST_KERNEL_MCS.into(),
            HOST_KERNEL_MCS_UTIL.into(),
            HOST_KERNEL_MICROKIT.into(),
            HOST_ABI_MCS.into(),
            HOST_LIBSEL4_MCS.into(),
            HOST_MUTANTS.into(),
            HOST_BENCH.into(),
            tests_stage_name(true),
            demo_stage_name(true),
            loader_stage_name(true),
            tests_stage_name(false),
            QEMU_TESTS_MCS.into(),
            QEMU_DEMO_MCS.into(),
            QEMU_MICROKIT.into(),
            fuzz_stage_name(false),
            fuzz_stage_name(true),
            bench_stage_name(true),
            QEMU_BENCH_MCS.into(),
            QEMU_TESTS_AARCH64.into(),
            QEMU_TESTS_AARCH64_LOADER.into(),
            QEMU_TESTS_AARCH64_MCS.into(),
            QEMU_MICROKIT_AARCH64.into(),
            bench_aarch64_stage_name(true),
            QEMU_BENCH_AARCH64_MCS.into(),
            QEMU_DEMO_AARCH64.into(),
            QEMU_DEMO_AARCH64_MCS.into(),
        ];
        let mut at = 0;
        for (i, n) in names.iter().enumerate() {
            let needle = format!("{}. {n}", i + 1);
            let found = help[at..].find(&needle);
            assert!(found.is_some(), "`{needle}` not (in order) in:\n{help}");
            at += found.unwrap() + needle.len();
        }
    }

    #[test]
    fn gdb_command_line() {
        assert_eq!(
            gdb_command(
                Path::new("/w/target/images/debug/kernel"),
                Path::new("/w/x y/demo")
            ),
            "gdb-multiarch -q -ex 'set confirm off' -ex 'add-symbol-file /w/x y/demo' \
             -ex 'target remote :1234' /w/target/images/debug/kernel"
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn failing_stage_counts_a_failure() {
        let s = Stage::judged("x", 0.0, 3, 0, vec!["timed out".into()]);
        assert_eq!((s.ok, s.passed, s.failed), (Some(false), 3, 1));
        let s = Stage::judged("x", 0.0, 3, 0, vec![]);
        assert_eq!((s.ok, s.failed), (Some(true), 0));
    }

    /// `--mcs`: the kernel with `mcs` (image `kernel-mcs`), the root tasks with their `mcs`
    /// feature (`demo-mcs`, `roottask-tests-mcs`).
    #[test]
    fn mcs_builds_name_their_images() {
        let o = match Cli::try_parse_from(["xtask", "run", "--mcs"]).unwrap().cmd {
            Cmd::Run(o) => o,
            _ => panic!("not run"),
        };
        assert!(o.build.mcs);
        let c = o.build.kernel_config();
        assert_eq!(c.feature_list(), ["fastpath", "mcs"]);
        assert_eq!(c.image_name(), "kernel-mcs");
        assert_eq!(c.cargo_feature_args(), ["--features", "mcs"]);
        assert_eq!(
            workspace::root_task_image_name(&DEMO, o.build.task_features()),
            "demo-mcs"
        );
        assert_eq!(
            workspace::root_task_image_name(&TESTS, task_features(true)),
            "roottask-tests-mcs"
        );
        match Cli::try_parse_from(["xtask", "build", "--mcs", "--no-fastpath"])
            .unwrap()
            .cmd
        {
            Cmd::Build(o) => assert_eq!(o.kernel_config().image_name(), "kernel-mcs-no-fastpath"),
            _ => panic!("not build"),
        }
        assert!(task_features(false).is_empty());
        match Cli::try_parse_from(["xtask", "test", "--mcs"]).unwrap().cmd {
            Cmd::Test(o) => assert!(o.mcs),
            _ => panic!("not test"),
        }
        match Cli::try_parse_from(["xtask", "bench", "--mcs"])
            .unwrap()
            .cmd
        {
            Cmd::Bench(o) => assert!(o.mcs),
            _ => panic!("not bench"),
        }
        let c = bench_kernel_config(Profile::Release, true, None).feature(MCS_FEATURE, true);
        assert_eq!(c.image_name(), "kernel-benchmark-mcs");
    }

    /// `run --benchmark`: the kernel with its `benchmark` feature (for sel4bench as the root
    /// task); not with `--microkit`.
    #[test]
    fn run_with_the_benchmark_kernel() {
        let o = match Cli::try_parse_from(["xtask", "run", "--arch", "aarch64", "--benchmark"])
            .unwrap()
            .cmd
        {
            Cmd::Run(o) => o,
            _ => panic!("not run"),
        };
        let c = o.build.kernel_config();
        assert_eq!(c.feature_list(), ["benchmark", "fastpath"]);
        assert_eq!(c.image_name(), "kernel-benchmark");
        assert!(Cli::try_parse_from(["xtask", "build", "--benchmark", "--microkit"]).is_err());
    }

    /// `--arch aarch64`: the kernel for its target, the demo by default on a kernel that
    /// exports the physical counter and timer to EL0 (a given root task gets the plain kernel),
    /// seL4's `qemu-arm-virt` machine with the kernel as an `Image`.
    #[test]
    fn aarch64_runs() {
        let o = match Cli::try_parse_from(["xtask", "run", "--arch", "aarch64", "--mcs"])
            .unwrap()
            .cmd
        {
            Cmd::Run(o) => o,
            _ => panic!("not run"),
        };
        let c = o.build.kernel_config();
        assert_eq!(c.arch, Arch::Aarch64);
        assert_eq!(c.image_name(), "kernel-mcs");
        assert_eq!(default_task(Arch::Aarch64).package, "demo");
        assert_eq!(default_task(Arch::Riscv64).package, "demo");
        assert_eq!(
            run_kernel_config(o.build, false).image_name(),
            "kernel-export-pcnt-user-export-ptmr-user-mcs"
        );
        assert_eq!(run_kernel_config(o.build, true).image_name(), "kernel-mcs");
        let riscv = match Cli::try_parse_from(["xtask", "run"]).unwrap().cmd {
            Cmd::Run(o) => o,
            _ => panic!("not run"),
        };
        assert_eq!(run_kernel_config(riscv.build, false).image_name(), "kernel");
        let args = qemu::args_for(Arch::Aarch64, Path::new("k.img"), Path::new("t"));
        let s = args.join(" ");
        assert!(
            s.contains("-machine virt,gic-version=2 -cpu cortex-a53 -m 1G"),
            "{s}"
        );
        assert!(s.ends_with("-kernel k.img -initrd t"), "{s}");
        assert!(s.contains("-semihosting-config enable=on"), "{s}");
        assert!(Cli::try_parse_from(["xtask", "build", "--arch", "x86_64"]).is_err());
        assert_eq!(
            gdb_command(Path::new("/w/kernel.img"), Path::new("/w/t")),
            "gdb-multiarch -q -ex 'set confirm off' -ex 'add-symbol-file /w/t' \
             -ex 'target remote :1234' /w/kernel"
        );
    }

    #[test]
    fn benchmark_kernels_keep_the_benchmark_feature() {
        let c = bench_kernel_config(Profile::Release, true, None);
        assert_eq!(c.feature_list(), ["benchmark", "fastpath"]);
        assert_eq!(c.image_name(), "kernel-benchmark");
        let c = bench_kernel_config(Profile::Release, false, None);
        assert_eq!(c.feature_list(), ["benchmark"]);
        assert_eq!(c.image_name(), "kernel-benchmark-no-fastpath");
    }

    #[test]
    fn root_task_list_is_consistent() {
        assert!(ROOT_TASKS
            .iter()
            .any(|t| t.package == DEMO.package && !t.optional));
        assert!(ROOT_TASKS
            .iter()
            .any(|t| t.package == TESTS.package && !t.optional));
        assert!(ROOT_TASKS.iter().any(|t| t.package == BENCH.package));
    }
}
