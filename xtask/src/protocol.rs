//! Parsers for the text that the test runs print.
//!
//! # Root-task test protocol (contract with `tests/roottask`)
//!
//! * Each test prints exactly one whole line:
//!   `TEST <name> ... ok` or `TEST <name> ... FAILED: <reason>`.
//! * At the end it prints `SUMMARY <p> passed, <f> failed` and halts the
//!   machine so that QEMU exits by itself with status 0.
//! * Lines starting with `[kernel` are kernel log lines and are ignored.
//! * Any line containing `KERNEL PANIC` fails the run.
//!
//! The run passes only if: there is at least one TEST line, no TEST line
//! failed, exactly one SUMMARY line is present and its counts equal the
//! counted TEST lines, no `KERNEL PANIC` line appeared, QEMU did not time out
//! and QEMU exited with status 0.
//!
//! # Demo protocol (contract with `examples/demo`)
//!
//! The demo prints a line `DEMO OK` and QEMU exits with status 0, the kernel prints no
//! warning or error (`[kernel WARN]`, `[kernel ERROR]`: a driver's fault goes to its monitor,
//! not to the kernel's report of a fault without a handler), and the monitor's self-test line
//! ([`DEMO_SELF_TEST`]) says that 100 crashed drivers left nothing behind. It is booted twice:
//!
//! * without input: it ends by itself after 20 s of guest time, and says its driver was
//!   restarted 0 times;
//! * with input typed line by line ([`DEMO_SCRIPT`]: `hello`, `crash`, `hello`, `hang`,
//!   `hello`, `quit`), each line after the demo printed what the step waits for (the prompt or
//!   the echo; the `hello`s after `crash` and `hang` while the driver breaks), and the echoes
//!   and the monitor's restart lines in their places; then it prints [`DEMO_SCRIPT_END`] in this
//!   order: `bye`, three lines echoed, the driver restarted twice (one crash, one hang).

/// Marker that fails any QEMU run when it appears anywhere in a line.
pub const PANIC_MARKER: &str = "KERNEL PANIC";
/// Lines starting with this are kernel log lines and never parsed as results.
pub const KERNEL_LOG_PREFIX: &str = "[kernel";
/// The line the demo must print.
pub const DEMO_OK_LINE: &str = "DEMO OK";

/// One `TEST` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestLine {
    pub name: String,
    /// `None` if the test passed, otherwise the failure reason.
    pub failure: Option<String>,
}

/// What a root-task test run printed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TestOutput {
    pub tests: Vec<TestLine>,
    /// Every well-formed SUMMARY line, as (passed, failed).
    pub summaries: Vec<(usize, usize)>,
    /// Lines that looked like protocol lines but could not be parsed.
    pub malformed: Vec<String>,
    /// Lines containing `KERNEL PANIC`.
    pub panics: Vec<String>,
}

impl TestOutput {
    pub fn passed(&self) -> usize {
        self.tests.iter().filter(|t| t.failure.is_none()).count()
    }

    /// Failed TEST lines plus malformed TEST lines.
    pub fn failed(&self) -> usize {
        self.tests.iter().filter(|t| t.failure.is_some()).count()
    }
}

/// How QEMU ended, as far as the judge needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QemuEnd {
    /// QEMU exited by itself with this status (`None`: killed by a signal).
    Exited(Option<i32>),
    /// The harness had to kill QEMU; the string says why.
    Killed(String),
}

impl std::fmt::Display for QemuEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QemuEnd::Exited(Some(c)) => write!(f, "exited with status {c}"),
            QemuEnd::Exited(None) => write!(f, "was killed by a signal"),
            QemuEnd::Killed(why) => write!(f, "killed: {why}"),
        }
    }
}

/// Normalise one line of serial output: drop `\r` and surrounding blanks.
fn clean(line: &str) -> &str {
    line.trim_matches(|c: char| c.is_whitespace() || c == '\r')
}

/// Parse `TEST <name> ... ok|FAILED: <reason>`. `Err` for a line that starts
/// with `TEST ` but does not follow the format.
pub fn parse_test_line(line: &str) -> Option<Result<TestLine, String>> {
    let line = clean(line);
    let rest = line.strip_prefix("TEST ")?;
    let Some((name, status)) = rest.split_once(" ... ") else {
        return Some(Err(line.to_string()));
    };
    let name = name.trim();
    let status = status.trim();
    if name.is_empty() {
        return Some(Err(line.to_string()));
    }
    let failure = if status == "ok" {
        None
    } else if let Some(reason) = status.strip_prefix("FAILED") {
        let reason = reason.trim_start_matches(':').trim();
        Some(if reason.is_empty() {
            "(no reason given)".to_string()
        } else {
            reason.to_string()
        })
    } else {
        return Some(Err(line.to_string()));
    };
    Some(Ok(TestLine {
        name: name.to_string(),
        failure,
    }))
}

/// Parse `SUMMARY <p> passed, <f> failed`. `Err` for a malformed SUMMARY line.
pub fn parse_summary_line(line: &str) -> Option<Result<(usize, usize), String>> {
    let line = clean(line);
    let rest = line.strip_prefix("SUMMARY")?;
    if !rest.is_empty() && !rest.starts_with(' ') {
        return None; // e.g. "SUMMARYX": not ours
    }
    Some(parse_counts(rest.trim()).ok_or_else(|| line.to_string()))
}

/// Parse `<p> passed, <f> failed` (the whole string).
pub fn parse_counts(s: &str) -> Option<(usize, usize)> {
    let (p, f) = s.trim().split_once(',')?;
    let p = p.trim().strip_suffix("passed")?.trim().parse().ok()?;
    let f = f.trim().strip_suffix("failed")?.trim().parse().ok()?;
    Some((p, f))
}

/// Parse everything a root-task test run printed on the serial port.
pub fn parse_test_output(text: &str) -> TestOutput {
    let mut out = TestOutput::default();
    for raw in text.lines() {
        let line = clean(raw);
        if line.contains(PANIC_MARKER) {
            out.panics.push(line.to_string());
        }
        if line.starts_with(KERNEL_LOG_PREFIX) {
            continue;
        }
        if let Some(t) = parse_test_line(line) {
            match t {
                Ok(t) => out.tests.push(t),
                Err(l) => {
                    // A TEST line we cannot read counts as a failed test.
                    out.malformed.push(l.clone());
                    out.tests.push(TestLine {
                        name: l,
                        failure: Some("malformed TEST line".into()),
                    });
                }
            }
        } else if let Some(s) = parse_summary_line(line) {
            match s {
                Ok(s) => out.summaries.push(s),
                Err(l) => out.malformed.push(l),
            }
        }
    }
    out
}

/// Problems shared by every QEMU run: panics, time-outs, exit status.
pub fn judge_common(panics: &[String], end: &QemuEnd) -> Vec<String> {
    let mut problems = Vec::new();
    for p in panics {
        problems.push(format!("kernel panicked: {p}"));
    }
    match end {
        QemuEnd::Exited(Some(0)) => {}
        QemuEnd::Exited(Some(c)) => problems.push(format!("QEMU exited with status {c}")),
        QemuEnd::Exited(None) => problems.push("QEMU was killed by a signal".into()),
        QemuEnd::Killed(why) => problems.push(why.clone()),
    }
    problems
}

/// Everything wrong with a root-task test run; empty means it passed.
pub fn judge_tests(out: &TestOutput, end: &QemuEnd) -> Vec<String> {
    let mut problems = Vec::new();
    for t in &out.tests {
        if let Some(reason) = &t.failure {
            problems.push(format!("test {} FAILED: {reason}", t.name));
        }
    }
    for m in &out.malformed {
        if !m.starts_with("TEST ") {
            problems.push(format!("malformed line: {m}"));
        }
    }
    if out.tests.is_empty() {
        problems.push("no TEST lines were printed".into());
    }
    match out.summaries.as_slice() {
        [] => problems.push("no SUMMARY line was printed".into()),
        [(p, f)] => {
            if (*p, *f) != (out.passed(), out.failed()) {
                problems.push(format!(
                    "SUMMARY says {p} passed, {f} failed but the TEST lines say {} passed, {} failed",
                    out.passed(),
                    out.failed()
                ));
            }
        }
        more => problems.push(format!(
            "{} SUMMARY lines were printed, expected one",
            more.len()
        )),
    }
    problems.extend(judge_common(&out.panics, end));
    problems
}

/// One step of a scripted run: once the serial output shows each of `expect` in this order
/// (after where the previous step's last one was found), `send` is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Texts to wait for, in order.
    pub expect: &'static [&'static str],
    /// What is typed then.
    pub send: &'static str,
}

/// What `cargo xtask test` types into the demo, each line once the demo shows what the step
/// waits for: the prompt (`> `) after the greeting and after each echo; and the `hello` after
/// `crash` (and after `hang`) as soon as the client says the driver will fail, that is while the
/// driver breaks and the monitor makes a new one: those bytes wait in the UART for the new
/// driver, whose echo of them then follows the monitor's restart line.
pub const DEMO_SCRIPT: &[Step] = &[
    Step {
        expect: &["the line `quit` or 20 s", "> "],
        send: "hello\n",
    },
    Step {
        expect: &["echo: hello", "> "],
        send: "crash\n",
    },
    Step {
        expect: &["(the driver makes a wild store"],
        send: "hello\n",
    },
    Step {
        expect: &[
            "driver crashed at pc ",
            "restarted in ",
            "came back \"restarted\"",
            "echo: hello",
            "> ",
        ],
        send: "hang\n",
    },
    Step {
        expect: &["(the driver loops for ever"],
        send: "hello\n",
    },
    Step {
        expect: &[
            "driver hung ",
            "restarted in ",
            "came back \"restarted\"",
            "echo: hello",
            "> ",
        ],
        send: "quit\n",
    },
];

/// A script and what must follow it ([`judge_demo_run`]).
pub type Script = (&'static [Step], &'static [&'static str]);

/// What the demo prints after [`DEMO_SCRIPT`], in this order.
pub const DEMO_SCRIPT_END: &[&str] = &[
    "bye",
    "after echoing 3 line(s)",
    "restarted the driver 2 times (1 crashed, 1 hung)",
    DEMO_OK_LINE,
];

/// The line of the monitor's self-test: 100 drivers crashed and torn down, and nothing left
/// behind (slots, ASIDs, the pool untyped whole again).
pub const DEMO_SELF_TEST: &[&str] = &[
    "monitor: self-test: 100 drivers built, crashed",
    "every slot empty again,",
    "ASIDs free again, the pool",
    "retyped whole again",
];

/// What the demo prints when it ran without input (its driver never broke).
pub const DEMO_IDLE_END: &[&str] = &[
    "(no input for 20 s)",
    "restarted the driver 0 times",
    DEMO_OK_LINE,
];

/// Where each of `texts` is found in `text` in this order, starting at `from`: `Ok` with the
/// offset after the last one, or `Err` with how many were found before one was missing.
pub fn find_in_order(text: &str, from: usize, texts: &[&str]) -> Result<usize, usize> {
    let mut at = from;
    for (i, t) in texts.iter().enumerate() {
        match text.get(at..).and_then(|rest| rest.find(t)) {
            Some(k) => at += k + t.len(),
            None => return Err(i),
        }
    }
    Ok(at)
}

/// How far `text` is into `steps`: the number of leading steps whose texts all appear (each
/// step's after the previous one's), and the offset after the last text found.
pub fn script_progress(text: &str, steps: &[Step]) -> (usize, usize) {
    let mut at = 0;
    for (i, step) in steps.iter().enumerate() {
        match find_in_order(text, at, step.expect) {
            Ok(next) => at = next,
            Err(_) => return (i, at),
        }
    }
    (steps.len(), at)
}

/// The kernel's warning and error lines in `text`.
pub fn kernel_warnings(text: &str) -> Vec<String> {
    text.lines()
        .map(clean)
        .filter(|l| l.starts_with("[kernel WARN") || l.starts_with("[kernel ERROR"))
        .map(String::from)
        .collect()
}

/// A demo run judged check by check: how many checks passed, and what is wrong.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DemoVerdict {
    pub passed: usize,
    pub problems: Vec<String>,
}

impl DemoVerdict {
    fn check(&mut self, ok: bool, problem: impl FnOnce() -> String) {
        if ok {
            self.passed += 1;
        } else {
            self.problems.push(problem());
        }
    }
}

/// Judge a demo run: [`judge_demo`] (one check), no kernel warnings (one check), the monitor's
/// self-test line [`DEMO_SELF_TEST`] (one check), and then either
/// (no `script`) [`DEMO_IDLE_END`] in order (one check), or each step of `script` (one check
/// each) and `end` in order after it (one check).
pub fn judge_demo_run(text: &str, end: &QemuEnd, script: Option<Script>) -> DemoVerdict {
    let mut v = DemoVerdict::default();
    let basic = judge_demo(text, end);
    v.check(basic.is_empty(), || basic.join("; "));
    let warnings = kernel_warnings(text);
    v.check(warnings.is_empty(), || {
        format!("the kernel warned: {}", warnings.join(" | "))
    });
    let self_test = find_in_order(text, 0, DEMO_SELF_TEST);
    v.check(self_test.is_ok(), || {
        let k = self_test.err().unwrap_or(0);
        format!("the monitor's self-test line lacks `{}`", DEMO_SELF_TEST[k])
    });
    let (steps, tail): (&[Step], &[&str]) = match script {
        Some((steps, tail)) => (steps, tail),
        None => (&[], DEMO_IDLE_END),
    };
    let (done, at) = script_progress(text, steps);
    for (i, step) in steps.iter().enumerate() {
        v.check(i < done, || {
            let missing = if i == done {
                let k = find_in_order(text, at, step.expect).err().unwrap_or(0);
                format!("`{}`", step.expect[k])
            } else {
                "an earlier step".into()
            };
            format!(
                "step {}: the demo never printed {missing}, so `{}` was not typed",
                i + 1,
                step.send.trim_end()
            )
        });
    }
    if done == steps.len() {
        let found = find_in_order(text, at, tail);
        v.check(found.is_ok(), || {
            let k = found.err().unwrap_or(0);
            format!(
                "the demo did not print `{}` (in its place after the input)",
                tail[k]
            )
        });
    } else {
        v.check(false, || "the end of the run was not checked".into());
    }
    v
}

/// Whether `text` has the line `line` (cleaned as the other protocol lines are).
pub fn line_printed(text: &str, line: &str) -> bool {
    text.lines().any(|l| clean(l) == line)
}

/// Everything wrong with a demo run; empty means it passed.
pub fn judge_demo(text: &str, end: &QemuEnd) -> Vec<String> {
    judge_ok_line(text, end, DEMO_OK_LINE)
}

/// Everything wrong with the run of a root task that prints `ok_line` when it passed (the
/// demo, `hello`): the line, no kernel panic, QEMU exited by itself with status 0.
pub fn judge_ok_line(text: &str, end: &QemuEnd, ok_line: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if !line_printed(text, ok_line) {
        problems.push(format!("the line `{ok_line}` was not printed"));
    }
    let panics: Vec<String> = text
        .lines()
        .map(clean)
        .filter(|l| l.contains(PANIC_MARKER))
        .map(String::from)
        .collect();
    problems.extend(judge_common(&panics, end));
    problems
}

/// What the kernel prints when it refuses each of the loader's spoilt hand-offs
/// (`loader::FAULTS`): the user image on the kernel image, an unaligned user image, a
/// `dtb_size` smaller than the device tree, no device tree, the physical entry with the MMU
/// on.
pub const REFUSED_HANDOFFS: [(&str, &str); 5] = [
    (
        "image-over-kernel",
        "boot failed: user image overlaps the kernel image",
    ),
    (
        "unaligned-image",
        "boot failed: user image region or pv_offset is not page-aligned",
    ),
    ("dtb-size-short", "is smaller than the blob's totalsize"),
    (
        "no-dtb",
        "boot failed: no device tree from the loader (dtb_size 0)",
    ),
    (
        "physical-entry",
        "KERNEL PANIC: entered neither by firmware",
    ),
];

/// Everything wrong with the boot of a spoilt hand-off: the kernel must print `expected`
/// and stop the machine itself with status 1 (no time-out: it must not hang), and the root
/// task must not run (no `TEST` line).
pub fn judge_refused(text: &str, end: &QemuEnd, expected: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if !text.contains(expected) {
        problems.push(format!("the kernel did not say `{expected}`"));
    }
    if text.lines().any(|l| parse_test_line(l).is_some()) {
        problems.push("the root task ran".into());
    }
    match end {
        QemuEnd::Exited(Some(1)) => {}
        other => problems.push(format!("QEMU {other} (expected: exited with status 1)")),
    }
    problems
}

/// Totals from `cargo test` output: the sum over all
/// `test result: ok. X passed; Y failed; ...` lines.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HostCounts {
    pub passed: usize,
    pub failed: usize,
    /// How many `test result:` lines were seen.
    pub results: usize,
}

pub fn parse_cargo_test(text: &str) -> HostCounts {
    let mut c = HostCounts::default();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            continue;
        };
        // "ok. 3 passed; 0 failed; 0 ignored; ..." or "FAILED. 1 passed; 2 failed; ..."
        let Some((_, counts)) = rest.split_once(". ") else {
            continue;
        };
        let mut passed = None;
        let mut failed = None;
        for part in counts.split(';') {
            let mut words = part.split_whitespace();
            let (Some(n), Some(what)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(n) = n.parse::<usize>() else { continue };
            match what {
                "passed" => passed = Some(n),
                "failed" => failed = Some(n),
                _ => {}
            }
        }
        if let (Some(p), Some(f)) = (passed, failed) {
            c.passed += p;
            c.failed += f;
            c.results += 1;
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: QemuEnd = QemuEnd::Exited(Some(0));

    fn run(text: &str) -> (TestOutput, Vec<String>) {
        let out = parse_test_output(text);
        let problems = judge_tests(&out, &OK);
        (out, problems)
    }

    #[test]
    fn all_ok_passes() {
        let (out, problems) =
            run("OpenSBI v1.5\nTEST a ... ok\nTEST b ... ok\nSUMMARY 2 passed, 0 failed\n");
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!((out.passed(), out.failed()), (2, 0));
    }

    #[test]
    fn crlf_and_blanks_are_tolerated() {
        let (out, problems) =
            run("TEST a ... ok\r\n  TEST b ... ok  \r\nSUMMARY 2 passed, 0 failed\r\n");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(out.passed(), 2);
    }

    #[test]
    fn failed_line_fails() {
        let (out, problems) = run(
            "TEST a ... ok\nTEST b ... FAILED: expected 3, got 4\nSUMMARY 1 passed, 1 failed\n",
        );
        assert_eq!((out.passed(), out.failed()), (1, 1));
        assert_eq!(out.tests[1].failure.as_deref(), Some("expected 3, got 4"));
        assert_eq!(
            problems,
            vec!["test b FAILED: expected 3, got 4".to_string()]
        );
    }

    #[test]
    fn failed_without_reason_fails() {
        let (out, problems) = run("TEST a ... FAILED\nSUMMARY 0 passed, 1 failed\n");
        assert_eq!(out.failed(), 1);
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn summary_mismatch_fails() {
        let (_, problems) = run("TEST a ... ok\nTEST b ... ok\nSUMMARY 3 passed, 0 failed\n");
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("SUMMARY says 3 passed"),
            "{problems:?}"
        );
        let (_, problems) = run("TEST a ... ok\nSUMMARY 1 passed, 1 failed\n");
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn missing_summary_fails() {
        let (_, problems) = run("TEST a ... ok\n");
        assert_eq!(problems, vec!["no SUMMARY line was printed".to_string()]);
    }

    #[test]
    fn two_summaries_fail() {
        let (_, problems) =
            run("TEST a ... ok\nSUMMARY 1 passed, 0 failed\nSUMMARY 1 passed, 0 failed\n");
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn zero_tests_fail() {
        let (_, problems) = run("SUMMARY 0 passed, 0 failed\n");
        assert_eq!(problems, vec!["no TEST lines were printed".to_string()]);
    }

    #[test]
    fn kernel_log_lines_are_ignored() {
        let text = "[kernel] booting\nTEST a ... ok\n[kernel] TEST fake ... FAILED: not a test\n\
                    [kernel  info] SUMMARY 9 passed, 9 failed\nTEST b ... ok\nSUMMARY 2 passed, 0 failed\n";
        let (out, problems) = run(text);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(out.tests.len(), 2);
    }

    #[test]
    fn kernel_panic_fails_even_in_kernel_log_line() {
        let (out, problems) =
            run("TEST a ... ok\n[kernel] KERNEL PANIC at foo.rs:1\nSUMMARY 1 passed, 0 failed\n");
        assert_eq!(out.panics.len(), 1);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("panicked"));
    }

    #[test]
    fn bad_exit_and_timeout_fail() {
        let out = parse_test_output("TEST a ... ok\nSUMMARY 1 passed, 0 failed\n");
        assert_eq!(
            judge_tests(&out, &QemuEnd::Exited(Some(3))),
            vec!["QEMU exited with status 3".to_string()]
        );
        assert_eq!(judge_tests(&out, &QemuEnd::Exited(None)).len(), 1);
        let p = judge_tests(&out, &QemuEnd::Killed("timed out after 300 s".into()));
        assert_eq!(p, vec!["timed out after 300 s".to_string()]);
    }

    #[test]
    fn malformed_test_line_counts_as_failure() {
        let (out, problems) = run("TEST a ... maybe\nTEST b ... ok\nSUMMARY 1 passed, 0 failed\n");
        assert_eq!((out.passed(), out.failed()), (1, 1));
        // the failed malformed line, plus the mismatching SUMMARY
        assert_eq!(problems.len(), 2, "{problems:?}");
        let (_, problems) = run("TEST no separator\nSUMMARY 0 passed, 1 failed\n");
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn malformed_summary_fails() {
        let (out, problems) = run("TEST a ... ok\nSUMMARY all good\n");
        assert_eq!(out.malformed, vec!["SUMMARY all good".to_string()]);
        assert_eq!(problems.len(), 2, "{problems:?}"); // malformed + missing
    }

    #[test]
    fn unrelated_lines_are_ignored() {
        let (out, problems) =
            run("TESTING things\nSUMMARYX 1\nsome TEST a ... ok\nTEST a ... ok\nSUMMARY 1 passed, 0 failed\n");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(out.tests.len(), 1);
    }

    #[test]
    fn test_names_and_reasons_may_contain_spaces_and_colons() {
        let t = parse_test_line("TEST cnode copy: badge ... FAILED: got Err(3): bad ... really")
            .unwrap()
            .unwrap();
        assert_eq!(t.name, "cnode copy: badge");
        assert_eq!(t.failure.as_deref(), Some("got Err(3): bad ... really"));
    }

    /// What the demo prints for [`DEMO_SCRIPT`], shortened: the UART's `\r\n`, the monitor's
    /// lines through the kernel console's `\n`.
    const TYPED: &str = "seL4 demo root task\n\
        type something; it is echoed by the user-mode serial driver\r\n\
        (`crash` or `hang` breaks the driver, which its monitor then restarts;\r\n\
          monitor: self-test: 100 drivers built, crashed (at pc 0x400464) and torn down in 44291 µs \
        (guest time); every slot empty again, 510 of 510 ASIDs free again, the pool (2^22 bytes) \
        retyped whole again\n\
        the line `quit` or 20 s without input ends the demo)\r\n> hello\r\n\
        echo: hello\r\n> crash\r\n(the driver makes a wild store at its next event)\r\n\
          monitor: fault from thread serial-driver #1: VM fault (store to address 0x417000) at pc 0x40076e\n\
          driver #2: 16550 programmed (FIFO, receive interrupt); serving its endpoint\n\
          monitor: driver crashed at pc 0x40076e; restarted in 479 µs (guest time)\n\
        (the read the broken driver held came back \"restarted\"; reading on)\r\n> hello\r\n\
        echo: hello\r\n> hang\r\n(the driver loops for ever from its next event on)\r\n\
          driver #3: 16550 programmed (FIFO, receive interrupt); serving its endpoint\n\
          monitor: driver hung (no heartbeat answered for 200 ms); restarted in 479 µs (guest time)\n\
        (the read the broken driver held came back \"restarted\"; reading on)\r\n> hello\r\n\
        echo: hello\r\n> quit\r\nbye\r\n\
          root: the client ended on `quit` after echoing 3 line(s)\n\
          root: the monitor restarted the driver 2 times (1 crashed, 1 hung); 2 request(s)\n\
        DEMO OK\n";

    #[test]
    fn find_in_order_walks_on() {
        assert_eq!(find_in_order("a b a c", 0, &["a", "c"]), Ok(7));
        assert_eq!(find_in_order("a b a c", 2, &["a", "b"]), Err(1));
        assert_eq!(find_in_order("abc", 9, &["a"]), Err(0));
        assert_eq!(find_in_order("abc", 1, &[]), Ok(1));
    }

    #[test]
    fn script_progress_follows_the_output() {
        assert_eq!(script_progress(TYPED, DEMO_SCRIPT).0, DEMO_SCRIPT.len());
        // Cut before the echo of the second `hello`: it was typed, the next step waits.
        let cut = &TYPED[..TYPED.find("> hang").unwrap() - "echo: hello\r\n".len()];
        assert_eq!(script_progress(cut, DEMO_SCRIPT).0, 3);
        // Cut before the monitor's line: the second `hello` is typed while the driver breaks.
        let cut = &TYPED[..TYPED.find("monitor: fault").unwrap()];
        assert_eq!(script_progress(cut, DEMO_SCRIPT).0, 3);
        // Nothing typed yet: the first step waits for the prompt.
        let greeting = &TYPED[..TYPED.find("> hello").unwrap()];
        assert_eq!(script_progress(greeting, DEMO_SCRIPT).0, 0);
        assert_eq!(script_progress(&TYPED[..TYPED.len() / 3], &[]), (0, 0));
    }

    #[test]
    fn typed_demo_judge() {
        let script = Some((DEMO_SCRIPT, DEMO_SCRIPT_END));
        let v = judge_demo_run(TYPED, &OK, script);
        assert_eq!(v.problems, Vec::<String>::new());
        assert_eq!(v.passed, 3 + DEMO_SCRIPT.len() + 1);
        // The hang never detected: steps 5 and 6 fail, and the end is not checked.
        let no_hang = TYPED.replace("driver hung", "driver stuck");
        let v = judge_demo_run(&no_hang, &OK, script);
        assert_eq!(v.passed, 3 + 5);
        assert_eq!(v.problems.len(), 2);
        assert!(v.problems[0].contains("step 6") && v.problems[0].contains("`driver hung `"));
        // A wrong restart count.
        let once = TYPED.replace("2 times (1 crashed, 1 hung)", "1 times (1 crashed, 0 hung)");
        let v = judge_demo_run(&once, &OK, script);
        assert_eq!(v.problems.len(), 1);
        assert!(v.problems[0].contains("restarted the driver 2 times"));
        // A kernel warning.
        let warned = TYPED.replace("DEMO OK", "[kernel WARN] undelivered IRQ: 10\nDEMO OK");
        let v = judge_demo_run(&warned, &OK, script);
        assert_eq!(v.problems.len(), 1);
        assert!(v.problems[0].contains("undelivered IRQ"));
        // ASIDs used up by the restarts.
        let leaky = TYPED.replace("510 of 510 ASIDs free again", "410 of 510 ASIDs (NOT free)");
        let v = judge_demo_run(&leaky, &OK, script);
        assert_eq!(v.problems.len(), 1);
        assert!(v.problems[0].contains("ASIDs free again"));
    }

    #[test]
    fn idle_demo_judge() {
        let idle = "  monitor: self-test: 100 drivers built, crashed (at pc 0x1) and torn down in \
            1 µs (guest time); every slot empty again, 510 of 510 ASIDs free again, the pool \
            (2^22 bytes) retyped whole again\n> \r\n(no input for 20 s)\r\n  root: the monitor \
            restarted the driver 0 times (0 crashed, 0 hung)\nDEMO OK\n\
            [kernel INFO] seL4_DebugHalt called by the user\n";
        let v = judge_demo_run(idle, &OK, None);
        assert_eq!((v.passed, v.problems.len()), (4, 0));
        let v = judge_demo_run(&idle.replace("0 times", "1 times"), &OK, None);
        assert_eq!((v.passed, v.problems.len()), (3, 1));
        let v = judge_demo_run("DEMO OK\n", &QemuEnd::Exited(Some(1)), None);
        assert_eq!((v.passed, v.problems.len()), (1, 3));
    }

    #[test]
    fn demo_judge() {
        assert!(judge_demo("hello\r\nDEMO OK\r\n", &OK).is_empty());
        assert_eq!(judge_demo("hello\n", &OK).len(), 1);
        assert_eq!(judge_demo("DEMO OK\n", &QemuEnd::Exited(Some(1))).len(), 1);
        assert_eq!(judge_demo("DEMO OK\nKERNEL PANIC: oops\n", &OK).len(), 1);
        assert_eq!(judge_demo("DEMO OKAY\n", &OK).len(), 1);
    }

    #[test]
    fn refused_handoffs_are_judged() {
        let faults: Vec<&str> = REFUSED_HANDOFFS.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            faults,
            loader::FAULTS,
            "one expected message per spoilt hand-off"
        );
        let (_, said) = REFUSED_HANDOFFS[0];
        let text =
            format!("loader: entering\n[kernel ERROR] {said}\n[kernel ERROR] kernel init failed\n");
        let failed = QemuEnd::Exited(Some(1));
        assert!(judge_refused(&text, &failed, said).is_empty());
        assert_eq!(judge_refused(&text, &OK, said).len(), 1);
        let hung = QemuEnd::Killed("timed out after 300 s".into());
        assert_eq!(judge_refused("", &hung, said).len(), 2);
        let ran = format!("{text}TEST a ... ok\n");
        assert_eq!(judge_refused(&ran, &failed, said), ["the root task ran"]);
    }

    #[test]
    fn cargo_test_counts() {
        let text = "\
running 3 tests
test a ... ok
test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

running 2 tests
test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s

   Doc-tests abi
test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
";
        assert_eq!(
            parse_cargo_test(text),
            HostCounts {
                passed: 4,
                failed: 1,
                results: 3
            }
        );
        assert_eq!(parse_cargo_test("nothing here"), HostCounts::default());
    }

    #[test]
    fn counts_parser() {
        assert_eq!(parse_counts("12 passed, 3 failed"), Some((12, 3)));
        assert_eq!(parse_counts("12 passed 3 failed"), None);
        assert_eq!(parse_counts("x passed, 3 failed"), None);
    }
}
