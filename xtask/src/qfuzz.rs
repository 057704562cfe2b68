//! `cargo xtask fuzz --qemu`: the fuzzing root task (`tests/fuzz-roottask`) in QEMU, and the
//! judge of its output (docs/TESTING.md, "Fuzzing in QEMU").
//!
//! # Protocol (contract with `tests/fuzz-roottask`)
//!
//! The root task is built with `FUZZ_SEED`, `FUZZ_ITERS` and `FUZZ_CYCLE` in its environment
//! (baked into the image) and prints:
//!
//! * `FUZZ START seed=.. iters=.. cycle=.. children=.. mcs=..` once;
//! * `FUZZ PROGRESS k=v ...` every second of guest time, `FUZZ CYCLE k=v ...` after every
//!   revoke-and-rebuild, and `FUZZ DONE k=v ...` after `FUZZ_ITERS` child syscalls (the keys:
//!   `KEYS`), then `FUZZ OK`, and halts the machine (QEMU exits with status 0);
//! * `FUZZ FAIL <why>` and halts on any failed check (canary, untyped not whole, a slot not
//!   empty after the revoke, a root invocation that failed).
//!
//! A run passes only if it printed `FUZZ DONE` with at least `FUZZ_ITERS` syscalls and
//! `FUZZ OK`, no `FUZZ FAIL`, no `KERNEL PANIC`, and no kernel warning or error except the
//! kernel's report of a fault without a valid handler ([`is_unhandled_fault_report`]), and
//! QEMU exited by itself with status 0 (a time-out is a hang).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;

use crate::protocol::{self, QemuEnd, PANIC_MARKER};
use crate::qemu;
use crate::workspace::{KernelConfig, Profile, Workspace, FUZZ};

/// The counters of `FUZZ PROGRESS|CYCLE|DONE` lines, in their order (the tests check that a
/// line has them all).
#[cfg(test)]
pub const KEYS: &[&str] = &[
    "cycle",
    "syscalls",
    "faults",
    "cap",
    "unknown_syscall",
    "user_exception",
    "vm",
    "timeout",
    "other",
    "restarts",
    "hangs",
    "canary_checks",
    "guest_us",
];

/// What a QEMU fuzzing run is asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    pub seed: u64,
    pub iters: u64,
    pub cycle: u64,
    pub mcs: bool,
    /// The kernel with debug assertions and overflow checks
    /// ([`Workspace::build_checked_kernel`]).
    pub checked: bool,
}

/// What a fuzzing run printed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Output {
    pub started: bool,
    /// The `FUZZ DONE` counters, if it finished.
    pub done: Option<BTreeMap<String, u64>>,
    /// The last `FUZZ PROGRESS|CYCLE|DONE` counters.
    pub last: Option<BTreeMap<String, u64>>,
    pub ok: bool,
    pub fails: Vec<String>,
    pub panics: Vec<String>,
    /// Kernel warnings and errors other than reports of faults without a handler.
    pub warnings: Vec<String>,
    /// Reports of faults without a valid handler (a child broke a sibling's fault endpoint).
    pub unhandled_faults: usize,
}

/// Whether a kernel line is its report of a fault that found no valid fault handler (the
/// thread is suspended; seL4 prints this in debug builds). The fuzzer provokes it on purpose
/// (children change their siblings' CSpaces and fault endpoints), so it is counted, not failed.
pub fn is_unhandled_fault_report(line: &str) -> bool {
    line.starts_with("[kernel WARN] fault ") && line.contains("no valid fault handler")
}

/// `k=v` pairs of a counters line.
fn counters(rest: &str) -> BTreeMap<String, u64> {
    rest.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
        .collect()
}

pub fn parse(text: &str) -> Output {
    let mut o = Output::default();
    for raw in text.lines() {
        let line = raw.trim_end_matches('\r').trim();
        if line.contains(PANIC_MARKER) {
            o.panics.push(line.to_string());
        }
        if let Some(rest) = line.strip_prefix("FUZZ ") {
            let (kind, rest) = rest.split_once(' ').unwrap_or((rest, ""));
            match kind {
                "START" => o.started = true,
                "PROGRESS" | "CYCLE" => o.last = Some(counters(rest)),
                "DONE" => {
                    o.done = Some(counters(rest));
                    o.last = o.done.clone();
                }
                "OK" => o.ok = true,
                "FAIL" => o.fails.push(rest.to_string()),
                _ => {}
            }
        }
    }
    for w in protocol::kernel_warnings(text) {
        if is_unhandled_fault_report(&w) {
            o.unhandled_faults += 1;
        } else {
            o.warnings.push(w);
        }
    }
    o
}

/// What is wrong with a run asked to make `iters` syscalls.
pub fn judge(o: &Output, end: &QemuEnd, iters: u64) -> Vec<String> {
    let mut p = Vec::new();
    if !o.started {
        p.push("the fuzzing root task did not start (no `FUZZ START`)".into());
    }
    for f in &o.fails {
        p.push(format!("FUZZ FAIL {f}"));
    }
    for l in &o.panics {
        p.push(format!("kernel panic: {l}"));
    }
    if !o.warnings.is_empty() {
        p.push(format!(
            "{} kernel warning(s)/error(s), e.g. {}",
            o.warnings.len(),
            o.warnings[0]
        ));
    }
    match &o.done {
        None if o.fails.is_empty() && o.panics.is_empty() => p.push(format!(
            "no `FUZZ DONE`: the run hung or stopped (last counters: {:?})",
            o.last
        )),
        None => {}
        Some(d) => {
            let n = d.get("syscalls").copied().unwrap_or(0);
            if n < iters {
                p.push(format!("FUZZ DONE after {n} syscalls, {iters} asked for"));
            }
            if !o.ok {
                p.push("no `FUZZ OK` after `FUZZ DONE`".into());
            }
        }
    }
    match end {
        QemuEnd::Exited(Some(0)) => {}
        QemuEnd::Killed(why) => p.push(format!("hang: {why}")),
        e => p.push(format!("QEMU {e}")),
    }
    p
}

/// The run's figures in one line: syscalls, per second of guest time and of wall time,
/// faults, restarts, rebuild cycles.
pub fn summary(o: &Output, wall: Duration) -> String {
    let Some(d) = o.done.as_ref().or(o.last.as_ref()) else {
        return "no counters".into();
    };
    let g = |k: &str| d.get(k).copied().unwrap_or(0);
    let n = g("syscalls");
    let guest_s = g("guest_us") as f64 / 1e6;
    let per = |s: f64| if s > 0.0 { n as f64 / s } else { 0.0 };
    format!(
        "{n} syscalls in {guest_s:.2} s of guest time ({:.0}/s guest, {:.0}/s wall over {:.0} s); \
         {} faults handled (cap {}, unknown syscall {}, user exception {}, VM {}, timeout {}, \
         other {}), {} restarts ({} for no progress), {} unhandled-fault reports, {} rebuild \
         cycles, {} canary checks",
        per(guest_s),
        per(wall.as_secs_f64()),
        wall.as_secs_f64(),
        g("faults"),
        g("cap"),
        g("unknown_syscall"),
        g("user_exception"),
        g("vm"),
        g("timeout"),
        g("other"),
        g("restarts"),
        g("hangs"),
        o.unhandled_faults,
        g("cycle"),
        g("canary_checks"),
    )
}

/// A QEMU fuzzing run: its output, judged.
pub struct Run {
    pub out: Output,
    pub problems: Vec<String>,
    pub cap: qemu::Captured,
}

/// The time-out of a run of `iters` syscalls: two minutes plus 1 s per 1000 syscalls (about
/// three times what QEMU needs under `-icount`).
pub fn default_timeout(iters: u64) -> Duration {
    Duration::from_secs(120 + iters / 1000)
}

/// Build the kernel (release or `profile`, fastpath, `mcs` if asked) and the fuzzing root task
/// with `p` baked in, boot them under `-icount` and judge the run; the serial output goes to
/// `target/<log_name>`.
pub fn run(
    ws: &Workspace,
    qemu_bin: &Path,
    profile: Profile,
    p: Params,
    timeout: Duration,
    log_name: &str,
) -> Result<Run> {
    // With the kernel's console output after boot: its warnings fail the run, its reports of
    // faults without a handler are counted.
    let config = KernelConfig::new(profile)
        .feature("mcs", p.mcs)
        .feature(crate::workspace::PRINTING_FEATURE, true);
    let kernel = if p.checked {
        ws.build_checked_kernel(&config)?
    } else {
        ws.build_kernel(&config)?
    };
    let (seed, iters, cycle) = (p.seed.to_string(), p.iters.to_string(), p.cycle.to_string());
    let features: &[&str] = if p.mcs { &["mcs"] } else { &[] };
    let task = ws.build_root_task_env(
        profile,
        &FUZZ,
        features,
        &[
            ("FUZZ_SEED", Some(&seed)),
            ("FUZZ_ITERS", Some(&iters)),
            ("FUZZ_CYCLE", Some(&cycle)),
        ],
    )?;
    let mut args = qemu::base_args(&kernel, &task);
    args.extend(qemu::ICOUNT_ARGS.iter().map(|s| s.to_string()));
    let log = ws.target_dir.join(log_name);
    let cap = qemu::run_captured(qemu_bin, &args, timeout, &log, None, None)?;
    eprintln!("xtask: serial output written to {}", log.display());
    let out = parse(&cap.text);
    let problems = judge(&out, &cap.end, p.iters);
    Ok(Run { out, problems, cap })
}

/// `cargo xtask fuzz --qemu`.
pub fn fuzz_qemu(p: Params, profile: Profile, timeout: Option<Duration>) -> Result<ExitCode> {
    let ws = Workspace::load()?;
    ws.ensure_toolchain(&[])?;
    let qemu_bin = qemu::ensure_qemu()?;
    let log = format!(
        "qemu-fuzz{}{}-seed{}.log",
        if p.mcs { "-mcs" } else { "" },
        if p.checked { "-checked" } else { "" },
        p.seed
    );
    let r = run(
        &ws,
        &qemu_bin,
        profile,
        p,
        timeout.unwrap_or_else(|| default_timeout(p.iters)),
        &log,
    )?;
    println!();
    println!(
        "QEMU fuzzing ({}{}, seed {}, {} syscalls asked, rebuild every {}): {}",
        if p.mcs { "MCS" } else { "non-MCS" },
        if p.checked { ", checked kernel" } else { "" },
        p.seed,
        p.iters,
        p.cycle,
        summary(&r.out, r.cap.elapsed)
    );
    if r.problems.is_empty() {
        println!("xtask: fuzz --qemu: ok");
        return Ok(ExitCode::SUCCESS);
    }
    for pr in &r.problems {
        println!("PROBLEM: {pr}");
    }
    println!(
        "xtask: fuzz --qemu: FAILED (reproduce with `cargo xtask fuzz --qemu --seed {} --iters {} --cycle {}{}{}`)",
        p.seed,
        p.iters,
        p.cycle,
        if p.mcs { " --mcs" } else { "" },
        if p.checked { " --checked" } else { "" }
    );
    Ok(ExitCode::FAILURE)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
[kernel INFO] root task created: entry 0x400000
FUZZ START seed=0x1 iters=1000 cycle=500 children=4 mcs=false
[kernel WARN] fault Cap { cptr: 4 } from thread \"\" at pc 0x40; no valid fault handler (cptr 0x2): suspending it
FUZZ CYCLE cycle=1 syscalls=600 faults=7 cap=3 unknown_syscall=1 user_exception=1 vm=1 timeout=0 other=1 restarts=20 hangs=13 canary_checks=5 guest_us=10000
FUZZ DONE cycle=2 syscalls=1001 faults=9 cap=4 unknown_syscall=1 user_exception=2 vm=1 timeout=0 other=1 restarts=30 hangs=21 canary_checks=9 guest_us=20000
FUZZ OK
[kernel INFO] seL4_DebugHalt called by the user: halting
";

    #[test]
    fn a_good_run_passes() {
        let o = parse(GOOD);
        assert!(o.started && o.ok);
        assert_eq!(o.unhandled_faults, 1);
        assert!(o.warnings.is_empty());
        let d = o.done.as_ref().unwrap();
        assert_eq!((d["syscalls"], d["cycle"], d["guest_us"]), (1001, 2, 20000));
        assert!(judge(&o, &QemuEnd::Exited(Some(0)), 1000).is_empty());
        let s = summary(&o, Duration::from_secs(2));
        assert!(
            s.starts_with("1001 syscalls in 0.02 s of guest time (50050/s guest, 500/s wall"),
            "{s}"
        );
        for k in KEYS {
            assert!(d.contains_key(*k), "{k}");
        }
    }

    #[test]
    fn failures_are_caught() {
        let end = QemuEnd::Exited(Some(0));
        // Too few syscalls.
        assert!(!judge(&parse(GOOD), &end, 5000).is_empty());
        // A canary failure.
        let t = GOOD.replace("FUZZ OK", "FUZZ FAIL canary page changed");
        let p = judge(&parse(&t), &end, 1000);
        assert!(p.iter().any(|x| x.contains("canary")), "{p:?}");
        // A kernel warning other than the unhandled-fault report.
        let t = GOOD.replace("FUZZ OK", "FUZZ OK\n[kernel WARN] undelivered IRQ: 20");
        assert_eq!(parse(&t).warnings.len(), 1);
        assert!(!judge(&parse(&t), &end, 1000).is_empty());
        // A panic.
        let t = format!("{GOOD}KERNEL PANIC at x\n");
        assert!(!judge(&parse(&t), &end, 1000).is_empty());
        // A hang: no DONE, QEMU killed.
        let t: String = GOOD.lines().take(4).map(|l| format!("{l}\n")).collect();
        let p = judge(&parse(&t), &QemuEnd::Killed("timed out".into()), 1000);
        assert!(p.iter().any(|x| x.contains("no `FUZZ DONE`")), "{p:?}");
        assert!(p.iter().any(|x| x.contains("hang")), "{p:?}");
        // No START.
        assert!(!judge(&parse("FUZZ OK\n"), &end, 0).is_empty());
        // Non-zero exit.
        assert!(!judge(&parse(GOOD), &QemuEnd::Exited(Some(1)), 1000).is_empty());
    }
}
