//! `cargo xtask mutants`: mutation testing of the kernel with cargo-mutants (docs/TESTING.md,
//! "Mutation testing").
//!
//! cargo-mutants changes one place of the kernel at a time (a function body replaced by a
//! default value, an operator swapped, a match arm deleted, ...), builds and runs the kernel's
//! host tests (`cargo test -p kernel --lib`), and reports whether the tests caught the change.
//! What is mutated and how it is built is in `.cargo/mutants.toml` (the scope: object logic,
//! syscalls, IPC, scheduler, CSpace, fastpath, VSpace) and `Cargo.toml`'s `[profile.mutants]`.
//! This command installs cargo-mutants (`cargo install`) if it is missing, runs it and then
//! prints the score per file and checks every surviving mutant against the documented list of
//! survivors in docs/TESTING.md: an undocumented survivor fails the command.
//!
//! `--sample` is the fixed sample `cargo xtask test` runs: [`SAMPLE`], tested in place (in the
//! source tree, reusing the build of the host tests) without the slowest tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::workspace::Workspace;

/// Files only the MCS configuration compiles: mutated only with `--mcs`, whose builds have
/// the `mcs` feature (in the default configuration every mutant of theirs would "survive").
pub const MCS_ONLY: &[&str] = &[
    "kernel/src/object/sched_context.rs",
    "kernel/src/object/sched_control.rs",
    "kernel/src/object/reply.rs",
    "kernel/src/sched/mcs.rs",
];

/// The sample of `cargo xtask test`: mutants (cargo-mutants' names without line and column)
/// from several files, each caught by the fast host tests in the default configuration
/// (docs/TESTING.md). It must stay within the stage's budget of 2 minutes.
pub const SAMPLE: &[&str] = &[
    "kernel/src/cspace.rs: replace LookupFault::to_words -> ([u64; 4], usize) with ([0; 4], 0)",
    "kernel/src/object/cnode.rs: replace ensure_empty_slot -> Result<(), SyscallError> with Ok(())",
    "kernel/src/ipc.rs: replace transfer_caps -> (u64, u64) with (0, 0)",
    "kernel/src/sched.rs: replace Scheduler::set_bit with ()",
    "kernel/src/fastpath.rs: replace simple_message -> bool with false",
    "kernel/src/arch/riscv64/objects.rs: replace perform with ()",
];

/// Tests left out of the sample's runs: the slowest ones, which no sampled mutant needs.
const SAMPLE_SKIP: &[&str] = &[
    "kept_corpus_passes",
    "every_failed_invocation_says_why_once",
    "arbitrary_syscalls_keep_the_invariants",
];

#[derive(Args)]
pub struct MutantsOpts {
    /// Mutate only this file (a path such as kernel/src/ipc.rs, or a glob); repeatable.
    #[arg(long = "file", value_name = "FILE")]
    files: Vec<String>,
    /// Mutate only code changed since this git revision (`git diff REF`, e.g. origin/main).
    #[arg(long, value_name = "REF")]
    in_diff: Option<String>,
    /// Run shard K of N (0-based), mutants dealt round-robin: a systematic 1/N sample of
    /// every file.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// The MCS configuration (`--features mcs`): also mutates the MCS-only files.
    #[arg(long)]
    mcs: bool,
    /// The fixed sample `cargo xtask test` runs (in place, the test profile).
    #[arg(long, conflicts_with_all = ["files", "in_diff", "shard", "mcs"])]
    sample: bool,
    /// Mutants built and tested in parallel (each in its own copy of the tree).
    #[arg(long, default_value_t = 1)]
    jobs: u32,
    /// Extra arguments for cargo-mutants, after `--`.
    #[arg(last = true, value_name = "ARGS")]
    extra: Vec<String>,
}

fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Installs cargo-mutants if missing.
pub fn install(ws: &Workspace) -> Result<()> {
    if succeeds(ws.cargo().args(["mutants", "--version"])) {
        return Ok(());
    }
    eprintln!("xtask: installing cargo-mutants (cargo install)");
    let ok = ws
        .cargo()
        .args(["install", "cargo-mutants", "--locked"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        bail!("could not install cargo-mutants: run `cargo install cargo-mutants`");
    }
    Ok(())
}

/// The settings of .cargo/mutants.toml for a run with `--no-config` (cargo-mutants adds
/// `--file` globs to the config's file list instead of narrowing it, and lets struct-field
/// deletions of that list through `-F`). The test arguments (`-- --lib`) are added last.
fn explicit_settings() -> Vec<String> {
    [
        "--no-config",
        "--package",
        "kernel",
        "--test-package",
        "kernel",
        "--profile",
        "mutants",
        "--cap-lints",
        "true",
        "--minimum-test-timeout",
        "60",
        "--exclude",
        "**/*_tests.rs",
        "--exclude-re",
        "<impl (core::fmt::|fmt::)?(Debug|Display) for ",
    ]
    .map(String::from)
    .to_vec()
}

/// A regex matching exactly the mutant `name` (without line and column) at any position.
fn name_regex(name: &str) -> String {
    let (file, what) = name.split_once(": ").expect("file: mutation");
    format!(
        "^{}:[0-9]+:[0-9]+: {}$",
        regex::escape(file),
        regex::escape(what)
    )
}

/// A mutant's name without its line and column (`kernel/src/x.rs:12:5: replace ...` ->
/// `kernel/src/x.rs: replace ...`), which stays the same when code above it moves.
pub fn without_position(name: &str) -> String {
    let re = regex::Regex::new(r"^([^:]+):[0-9]+:[0-9]+: ").unwrap();
    re.replace(name, "$1: ").into_owned()
}

/// The documented survivors: the first cell of each row of docs/TESTING.md's tables that is
/// a mutant name in backquotes (`` | `kernel/src/...: replace ...` | why | ``), with `\|`
/// (a `|` in a table cell) read as `|`.
pub fn documented_survivors(testing_md: &str) -> Vec<String> {
    testing_md
        .lines()
        .filter_map(|l| l.strip_prefix("| `kernel/src/"))
        .filter_map(|rest| rest.split_once('`').map(|(name, _)| name))
        .map(|name| format!("kernel/src/{}", name.replace("\\|", "|")))
        .collect()
}

/// The mutants of one outcome file of mutants.out (one name per line; none if missing).
fn outcome(dir: &Path, file: &str) -> Vec<String> {
    std::fs::read_to_string(dir.join(file))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(String::from)
        .collect()
}

/// Counts per file: caught, missed, unviable, timeouts.
#[derive(Default, Debug, PartialEq, Eq)]
pub struct Counts {
    pub caught: usize,
    pub missed: usize,
    pub unviable: usize,
    pub timeout: usize,
}

impl Counts {
    /// Caught (timeouts included: the mutant made the tests hang) per viable mutant.
    pub fn score(&self) -> Option<f64> {
        let viable = self.caught + self.missed + self.timeout;
        (viable > 0).then(|| 100.0 * (self.caught + self.timeout) as f64 / viable as f64)
    }
}

/// The counts of every file, and all of them together.
pub fn tally(
    caught: &[String],
    missed: &[String],
    unviable: &[String],
    timeout: &[String],
) -> (BTreeMap<String, Counts>, Counts) {
    let mut files: BTreeMap<String, Counts> = BTreeMap::new();
    let mut total = Counts::default();
    let file_of = |n: &str| n.split(':').next().unwrap_or(n).to_string();
    for (list, pick) in [(caught, 0usize), (missed, 1), (unviable, 2), (timeout, 3)] {
        for n in list {
            let c = files.entry(file_of(n)).or_default();
            for c in [c, &mut total] {
                match pick {
                    0 => c.caught += 1,
                    1 => c.missed += 1,
                    2 => c.unviable += 1,
                    _ => c.timeout += 1,
                }
            }
        }
    }
    (files, total)
}

fn row(name: &str, c: &Counts) -> String {
    let score = c
        .score()
        .map_or_else(|| "-".to_string(), |s| format!("{s:.1} %"));
    format!(
        "{name:<40} {:>6} {:>6} {:>8} {:>8} {:>8}",
        c.caught, c.missed, c.unviable, c.timeout, score
    )
}

pub fn mutants(o: MutantsOpts) -> Result<ExitCode> {
    let ws = Workspace::load()?;
    let r = run(&ws, &o)?;
    Ok(if r.new_survivors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// What a run found.
pub struct Outcome {
    /// All mutants tested (caught, missed, unviable or timed out).
    pub tested: usize,
    /// Survivors docs/TESTING.md does not list.
    pub new_survivors: Vec<String>,
}

/// The fixed sample of `cargo xtask test` (see [`SAMPLE`]).
pub fn sample(ws: &Workspace) -> Result<Outcome> {
    run(
        ws,
        &MutantsOpts {
            files: vec![],
            in_diff: None,
            shard: None,
            mcs: false,
            sample: true,
            jobs: 1,
            extra: vec![],
        },
    )
}

/// Runs cargo-mutants as `o` says and reports.
pub fn run(ws: &Workspace, o: &MutantsOpts) -> Result<Outcome> {
    install(ws)?;
    let out_dir = ws.target_dir.join(if o.sample {
        "mutants-sample"
    } else if o.mcs {
        "mutants-mcs"
    } else {
        "mutants"
    });
    std::fs::create_dir_all(&out_dir)?;
    let mut args: Vec<String> = vec!["mutants".into(), "--no-shuffle".into()];
    args.extend(["-o".into(), out_dir.display().to_string()]);
    let mut cmd = ws.cargo();
    if o.sample {
        // In the source tree (cargo-mutants puts each file back after its mutant), with the
        // test profile and flags the host tests built with: only the mutated crate is
        // rebuilt. Not .cargo/mutants.toml (its profile, its cap-lints flag and its test
        // arguments would rebuild everything, and the skips below must come last).
        // `--file` as well as `-F`: cargo-mutants 27 lets struct-field deletions through `-F`.
        args.extend(
            [
                "--no-config",
                "--package",
                "kernel",
                "--in-place",
                "--baseline",
                "skip",
                "--timeout",
                "120",
                "--build-timeout",
                "300",
                "--profile",
                "test",
            ]
            .map(String::from),
        );
        for name in SAMPLE {
            args.extend(["-F".into(), name_regex(name)]);
            let file = name.split_once(": ").map_or(*name, |(f, _)| f);
            args.extend(["--file".into(), file.into()]);
        }
    } else {
        if let Some(s) = &o.shard {
            args.extend(["--shard".into(), s.clone()]);
            args.extend(["--sharding".into(), "round-robin".into()]);
        }
        if !o.files.is_empty() {
            args.extend(explicit_settings());
        }
        for f in &o.files {
            args.extend(["--file".into(), f.clone()]);
        }
        if o.mcs {
            args.extend(["--features".into(), "mcs".into()]);
        } else if o.files.is_empty() {
            for f in MCS_ONLY {
                args.extend(["--exclude".into(), f.to_string()]);
            }
        }
        if let Some(r) = &o.in_diff {
            let diff = Command::new("git")
                .args(["diff", r.as_str(), "--", "kernel/src"])
                .current_dir(&ws.root)
                .output()
                .context("running git diff")?;
            if !diff.status.success() {
                bail!(
                    "`git diff {r}` failed: {}",
                    String::from_utf8_lossy(&diff.stderr)
                );
            }
            let path = out_dir.join("in-diff.patch");
            std::fs::write(&path, &diff.stdout)?;
            args.extend(["--in-diff".into(), path.display().to_string()]);
        }
        args.extend(["--jobs".into(), o.jobs.to_string()]);
        if o.jobs == 1 {
            // One build directory at a time: it uses a target directory that outlives the
            // run, so the dependencies are built once, not in every run's fresh copy.
            cmd.env("CARGO_TARGET_DIR", ws.target_dir.join("mutants-build"));
        }
    }
    args.extend(o.extra.iter().cloned());
    // Test arguments last (after `--`).
    if o.sample {
        args.extend(["--".into(), "--lib".into(), "--".into()]);
        for t in SAMPLE_SKIP {
            args.extend(["--skip".into(), t.to_string()]);
        }
    } else if !o.files.is_empty() {
        args.extend(["--".into(), "--lib".into()]);
    }
    // The sample runs in the source tree: put back the proptest failure files the failing
    // properties write there.
    let regressions = ws.root.join("kernel/proptest-regressions");
    let saved = o.sample.then(|| snapshot(&regressions));
    let result = cargo_mutants(cmd, &args);
    if let Some(saved) = saved {
        restore(&regressions, &saved);
    }
    result?;
    let dir = out_dir.join("mutants.out");
    let mut lists = Lists::read(&dir);
    if !o.sample && !lists.missed.is_empty() {
        // A survivor may be code the configuration tested does not compile (MCS code, debug
        // output, ...): it is tested again in the other configuration `cargo xtask test`
        // runs, and counts as caught if that catches it.
        let other = if o.mcs {
            None
        } else {
            Some("mcs,debug_build,track_utilisation")
        };
        let mut again: Vec<String> = vec!["mutants".into(), "--no-shuffle".into()];
        again.extend(explicit_settings());
        let recheck = out_dir.join("recheck");
        std::fs::create_dir_all(&recheck)?;
        again.extend(["-o".into(), recheck.display().to_string()]);
        match other {
            Some(f) => again.extend(["--features".into(), f.into()]),
            None => again.push("--no-default-features".into()),
        }
        if o.mcs {
            // The default configuration.
            again.extend(["--features".into(), "fastpath".into()]);
        }
        let mut files: Vec<String> = vec![];
        for m in &lists.missed {
            // The mutant itself, at its position (the same name may occur twice in a function).
            again.extend(["-F".into(), format!("^{}$", regex::escape(m))]);
            let f = m.split(':').next().unwrap_or(m).to_string();
            if !files.contains(&f) {
                files.push(f);
            }
        }
        for f in files {
            again.extend(["--file".into(), f]);
        }
        again.extend(["--".into(), "--lib".into()]);
        let mut cmd = ws.cargo();
        if o.jobs == 1 {
            cmd.env("CARGO_TARGET_DIR", ws.target_dir.join("mutants-build"));
        }
        eprintln!(
            "xtask: {} survivor(s): tested again in the {} configuration",
            lists.missed.len(),
            other.unwrap_or("default")
        );
        cargo_mutants(cmd, &again)?;
        let second = Lists::read(&recheck.join("mutants.out"));
        // Only the first run's survivors count (`--file` may bring in others).
        let survived = |m: &String| !second.caught.iter().chain(&second.timeout).any(|c| c == m);
        let (still, caught_there): (Vec<String>, Vec<String>) =
            lists.missed.iter().cloned().partition(survived);
        for m in &caught_there {
            println!("caught in the other configuration: {m}");
        }
        lists.caught.extend(caught_there);
        lists.missed = still;
    }
    report(&ws.root, &dir, &lists)
}

/// Runs `cargo <args>` (cargo-mutants) with failing property tests not shrunk (a mutant is
/// caught by the first failing case; shrinking would only cost time).
fn cargo_mutants(mut cmd: Command, args: &[String]) -> Result<()> {
    eprintln!("xtask: $ cargo {}", args.join(" "));
    let status = cmd
        .args(args)
        .env("PROPTEST_MAX_SHRINK_ITERS", "0")
        .status()
        .context("running cargo mutants")?;
    // cargo-mutants exits 2 when mutants were missed, 3 on timeouts: judged by the caller.
    let code = status.code().unwrap_or(-1);
    if ![0, 2, 3].contains(&code) {
        bail!("cargo mutants failed ({status})");
    }
    Ok(())
}

/// The files under `dir` and their contents.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut m = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if let Ok(b) = std::fs::read(&p) {
                m.insert(p, b);
            }
        }
    }
    m
}

/// Puts `dir` back as `saved` had it: new files removed, changed ones rewritten.
fn restore(dir: &Path, saved: &BTreeMap<PathBuf, Vec<u8>>) {
    for (p, _) in snapshot(dir) {
        if !saved.contains_key(&p) {
            let _ = std::fs::remove_file(&p);
        }
    }
    for (p, b) in saved {
        let _ = std::fs::write(p, b);
    }
    // Directories left empty by removed files.
    let mut dirs = vec![];
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                todo.push(e.path());
                dirs.push(e.path());
            }
        }
    }
    for d in dirs.iter().rev() {
        let _ = std::fs::remove_dir(d);
    }
}

/// The outcome lists of a run.
struct Lists {
    caught: Vec<String>,
    missed: Vec<String>,
    unviable: Vec<String>,
    timeout: Vec<String>,
}

impl Lists {
    fn read(dir: &Path) -> Lists {
        Lists {
            caught: outcome(dir, "caught.txt"),
            missed: outcome(dir, "missed.txt"),
            unviable: outcome(dir, "unviable.txt"),
            timeout: outcome(dir, "timeout.txt"),
        }
    }
}

/// Prints the scores and the undocumented survivors.
fn report(root: &Path, dir: &Path, l: &Lists) -> Result<Outcome> {
    let (caught, missed, unviable, timeout) = (&l.caught, &l.missed, &l.unviable, &l.timeout);
    let (files, total) = tally(caught, missed, unviable, timeout);
    println!(
        "\n{:<40} {:>6} {:>6} {:>8} {:>8} {:>8}",
        "file", "caught", "missed", "unviable", "timeout", "score"
    );
    for (f, c) in &files {
        println!("{}", row(f.trim_start_matches("kernel/src/"), c));
    }
    println!("{}", row("all", &total));
    let doc: PathBuf = root.join("docs/TESTING.md");
    let text =
        std::fs::read_to_string(&doc).with_context(|| format!("reading {}", doc.display()))?;
    let known = documented_survivors(&text);
    let new: Vec<&String> = missed
        .iter()
        .filter(|m| !known.contains(&without_position(m)))
        .collect();
    if new.is_empty() {
        println!(
            "xtask: mutants: ok: {} survivor(s), all listed in docs/TESTING.md",
            missed.len()
        );
    } else {
        println!("xtask: mutants: FAILED: survivors not listed in docs/TESTING.md:");
        for m in &new {
            println!("  {m}");
        }
        println!(
            "(add a test that catches each, or list it with why it survives; the diffs are in \
             {})",
            dir.join("diff").display()
        );
    }
    Ok(Outcome {
        tested: caught.len() + missed.len() + unviable.len() + timeout.len(),
        new_survivors: new.into_iter().cloned().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_position() {
        assert_eq!(
            without_position("kernel/src/ipc.rs:12:5: replace == with != in f"),
            "kernel/src/ipc.rs: replace == with != in f"
        );
        let re =
            regex::Regex::new(&name_regex("kernel/src/a.rs: replace f -> u64 with 0")).unwrap();
        assert!(re.is_match("kernel/src/a.rs:3:9: replace f -> u64 with 0"));
        assert!(!re.is_match("kernel/src/a.rs:3:9: replace f -> u64 with 1"));
    }

    #[test]
    fn survivors_are_read_from_table_rows() {
        let md = "text `kernel/src/no.rs: x`\n\
                  | mutant | why |\n| --- | --- |\n\
                  | `kernel/src/a.rs: replace \\| with ^ in f` | equivalent |\n\
                  | `kernel/src/b.rs: delete ! in g` | see above |\n";
        assert_eq!(
            documented_survivors(md),
            [
                "kernel/src/a.rs: replace | with ^ in f",
                "kernel/src/b.rs: delete ! in g"
            ]
        );
    }

    #[test]
    fn scores_count_timeouts_as_caught() {
        let v = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (files, total) = tally(
            &v(&["kernel/src/a.rs:1:1: x", "kernel/src/b.rs:1:1: y"]),
            &v(&["kernel/src/a.rs:2:1: z"]),
            &v(&["kernel/src/b.rs:3:1: u"]),
            &v(&["kernel/src/a.rs:4:1: t"]),
        );
        let a = &files["kernel/src/a.rs"];
        assert_eq!((a.caught, a.missed, a.unviable, a.timeout), (1, 1, 0, 1));
        assert_eq!(total.score().map(|s| s.round()), Some(75.0));
        assert_eq!(files["kernel/src/b.rs"].score(), Some(100.0));
    }

    /// docs/TESTING.md's survivor table reads as mutant names, each in the mutated scope, none
    /// of them sampled by CI (a sampled mutant must be caught).
    #[test]
    fn the_documented_survivors_parse() {
        let md = include_str!("../../docs/TESTING.md");
        let toml = include_str!("../../.cargo/mutants.toml");
        let known = documented_survivors(md);
        assert!(known.len() >= 5, "{known:?}");
        for k in &known {
            let (file, what) = k.split_once(": ").expect("file: mutation");
            assert!(!what.is_empty() && !what.contains('`'), "{k}");
            let dir_glob = format!("{}/*.rs", file.rsplit_once('/').unwrap().0);
            assert!(
                toml.contains(&format!("\"{file}\"")) || toml.contains(&format!("\"{dir_glob}\"")),
                "{k}"
            );
            assert!(!SAMPLE.contains(&k.as_str()), "{k}");
        }
    }

    /// Every sampled mutant names a file in the mutated scope of .cargo/mutants.toml.
    #[test]
    fn the_sample_is_in_scope() {
        let toml = include_str!("../../.cargo/mutants.toml");
        for s in SAMPLE {
            let file = s.split_once(": ").unwrap().0;
            let dir_glob = format!("{}/*.rs", file.rsplit_once('/').unwrap().0);
            assert!(
                toml.contains(&format!("\"{file}\"")) || toml.contains(&format!("\"{dir_glob}\"")),
                "{s}"
            );
            assert!(!MCS_ONLY.contains(&file), "{s}");
        }
    }
}
