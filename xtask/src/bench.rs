//! `cargo xtask bench`: reading what the benchmark root task (`bench/`) prints, judging it,
//! and the tables and JSON report made from it.
//!
//! # Benchmark protocol (contract with `bench/src/lib.rs`)
//!
//! * `BENCH {"name":"call_0_cross_as","median":123,"min":120,"samples":200}`: one line per
//!   result, in guest instructions (QEMU `-icount shift=0`), counter overhead subtracted.
//! * `BENCH_META {...}`: one JSON object about the run (counter overhead, warm-up, samples).
//! * `BENCH_NOTE <text>`: a benchmark left out on purpose (not a failure).
//! * `BENCH_ERROR <text>`: a benchmark that failed.
//! * `BENCH_DONE`: the end; then the root task halts the machine (QEMU exits with status 0).
//! * Lines starting with `[kernel` are kernel log lines and are ignored; a line containing
//!   `KERNEL PANIC` fails the run.
//!
//! A run passes if `BENCH_DONE` was printed, there is no `BENCH_ERROR`, no malformed or
//! duplicate `BENCH` line, every name in [`required`] is there, QEMU exited with status 0, and
//! the figures are sane ([`sanity`]): every median and minimum is non-zero, the minimum is not
//! above the median, and the floor (`null_syscall`) is below the Call + ReplyRecv round trip.

use serde_json::{json, Map, Value};

use crate::protocol::{self, QemuEnd, KERNEL_LOG_PREFIX, PANIC_MARKER};

/// The last line of a benchmark run.
pub const DONE_LINE: &str = "BENCH_DONE";

/// Results every run must have (the benchmark root task's own list; `required(true)`: with its
/// `mcs` feature, which adds the IPC cases with an active server). The IRQ row may be left out
/// with a `BENCH_NOTE`.
pub use bench::required;
#[cfg(test)]
use bench::REQUIRED;

/// One `BENCH` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub name: String,
    pub median: u64,
    pub min: u64,
    pub samples: u64,
}

/// Everything a benchmark run printed that matters.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Output {
    pub rows: Vec<Row>,
    /// The `BENCH_META` object, if one was printed.
    pub meta: Option<Map<String, Value>>,
    pub notes: Vec<String>,
    pub errors: Vec<String>,
    /// `BENCH...` lines that could not be read.
    pub malformed: Vec<String>,
    /// Whether `BENCH_DONE` was printed.
    pub done: bool,
    /// Lines containing `KERNEL PANIC`.
    pub panics: Vec<String>,
}

impl Output {
    pub fn row(&self, name: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.name == name)
    }
}

fn clean(line: &str) -> &str {
    line.trim_matches(|c: char| c.is_whitespace() || c == '\r')
}

/// Read a `BENCH` line's JSON object.
pub fn parse_row(json: &str) -> Option<Row> {
    let v: Value = serde_json::from_str(json).ok()?;
    let o = v.as_object()?;
    let name = o.get("name")?.as_str()?;
    if name.is_empty() {
        return None;
    }
    Some(Row {
        name: name.to_string(),
        median: o.get("median")?.as_u64()?,
        min: o.get("min")?.as_u64()?,
        samples: o.get("samples")?.as_u64()?,
    })
}

/// Parse everything a benchmark run printed on the serial port.
pub fn parse(text: &str) -> Output {
    let mut out = Output::default();
    for raw in text.lines() {
        let line = clean(raw);
        if line.contains(PANIC_MARKER) {
            out.panics.push(line.to_string());
        }
        if line.starts_with(KERNEL_LOG_PREFIX) {
            continue;
        }
        if line == DONE_LINE {
            out.done = true;
        } else if let Some(rest) = line.strip_prefix("BENCH_META ") {
            match serde_json::from_str::<Value>(rest) {
                Ok(Value::Object(m)) => out.meta = Some(m),
                _ => out.malformed.push(line.to_string()),
            }
        } else if let Some(rest) = line.strip_prefix("BENCH_NOTE ") {
            out.notes.push(rest.trim().to_string());
        } else if let Some(rest) = line.strip_prefix("BENCH_ERROR ") {
            out.errors.push(rest.trim().to_string());
        } else if let Some(rest) = line.strip_prefix("BENCH ") {
            match parse_row(rest) {
                Some(r) => out.rows.push(r),
                None => out.malformed.push(line.to_string()),
            }
        } else if line.starts_with("BENCH") {
            out.malformed.push(line.to_string());
        }
    }
    out
}

/// Whether the figures make sense; empty means they do.
pub fn sanity(rows: &[Row]) -> Vec<String> {
    let mut problems = Vec::new();
    for r in rows {
        if r.median == 0 || r.min == 0 {
            problems.push(format!(
                "{}: a zero figure (median {}, min {})",
                r.name, r.median, r.min
            ));
        }
        if r.min > r.median {
            problems.push(format!(
                "{}: min {} is above the median {}",
                r.name, r.min, r.median
            ));
        }
        if r.samples == 0 {
            problems.push(format!("{}: no samples", r.name));
        }
    }
    let get = |n: &str| rows.iter().find(|r| r.name == n);
    if let (Some(floor), Some(call), Some(reply)) = (
        get("null_syscall"),
        get("call_0_cross_as"),
        get("replyrecv_0_cross_as"),
    ) {
        let round_trip = call.median + reply.median;
        if floor.median >= round_trip {
            problems.push(format!(
                "the floor (null_syscall, {}) is not below the Call + ReplyRecv round trip ({} + {} = {})",
                floor.median, call.median, reply.median, round_trip
            ));
        }
    }
    problems
}

/// Everything wrong with a benchmark run; empty means it passed.
pub fn judge(out: &Output, end: &QemuEnd, required: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    for e in &out.errors {
        problems.push(format!("benchmark failed: {e}"));
    }
    for m in &out.malformed {
        problems.push(format!("malformed line: {m}"));
    }
    let mut seen = std::collections::BTreeSet::new();
    for r in &out.rows {
        if !seen.insert(r.name.as_str()) {
            problems.push(format!("{} was reported twice", r.name));
        }
    }
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|n| out.row(n).is_none())
        .collect();
    if !missing.is_empty() {
        problems.push(format!("missing results: {}", missing.join(", ")));
    }
    if !out.done {
        problems.push(format!("the line `{DONE_LINE}` was not printed"));
    }
    problems.extend(sanity(&out.rows));
    problems.extend(protocol::judge_common(&out.panics, end));
    problems
}

/// The results as a table (one line per row, a header and a rule).
pub fn table(rows: &[Row]) -> String {
    let w = rows.iter().map(|r| r.name.len()).max().unwrap_or(9).max(9);
    let mut s = format!(
        "{:<w$}  {:>8}  {:>8}  {:>7}\n{}\n",
        "benchmark",
        "median",
        "min",
        "samples",
        "-".repeat(w + 29)
    );
    for r in rows {
        s += &format!(
            "{:<w$}  {:>8}  {:>8}  {:>7}\n",
            r.name, r.median, r.min, r.samples
        );
    }
    s
}

/// Two runs side by side (medians), in the order of `a` then any names only `b` has.
pub fn compare_table(a_label: &str, a: &[Row], b_label: &str, b: &[Row]) -> String {
    let mut names: Vec<&str> = a.iter().map(|r| r.name.as_str()).collect();
    for r in b {
        if !names.contains(&r.name.as_str()) {
            names.push(&r.name);
        }
    }
    let w = names.iter().map(|n| n.len()).max().unwrap_or(9).max(9);
    let (wa, wb) = (a_label.len().max(8), b_label.len().max(8));
    let mut s = format!(
        "{:<w$}  {:>wa$}  {:>wb$}  {:>8}\n{}\n",
        "benchmark",
        a_label,
        b_label,
        "change",
        "-".repeat(w + wa + wb + 14)
    );
    let median = |rows: &[Row], n: &str| rows.iter().find(|r| r.name == n).map(|r| r.median);
    for n in names {
        let (x, y) = (median(a, n), median(b, n));
        let show = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
        let change = match (x, y) {
            (Some(x), Some(y)) if y != 0 => {
                format!("{:+.1}%", (x as f64 - y as f64) * 100.0 / y as f64)
            }
            _ => "-".to_string(),
        };
        s += &format!(
            "{:<w$}  {:>wa$}  {:>wb$}  {:>8}\n",
            n,
            show(x),
            show(y),
            change
        );
    }
    s
}

/// What is known about a run besides its output.
pub struct RunInfo {
    pub kernel_features: Vec<String>,
    pub fastpath: bool,
    pub profile: String,
    pub quick: bool,
    pub qemu_version: String,
    pub qemu_command: Vec<String>,
    pub date: String,
    pub git_commit: Option<String>,
}

/// The JSON report of a run.
pub fn report(info: &RunInfo, out: &Output, problems: &[String]) -> Value {
    let results: Vec<Value> = out
        .rows
        .iter()
        .map(|r| json!({"name": r.name, "median": r.median, "min": r.min, "samples": r.samples}))
        .collect();
    json!({
        "unit": "guest instructions (QEMU -icount shift=0,sleep=off: the cycle CSR counts instructions)",
        "date": info.date,
        "kernel_features": info.kernel_features,
        "fastpath": info.fastpath,
        "profile": info.profile,
        "quick": info.quick,
        "qemu_version": info.qemu_version,
        "qemu_command": info.qemu_command,
        "git_commit": info.git_commit,
        "meta": out.meta.clone().map(Value::Object).unwrap_or(Value::Null),
        "results": results,
        "notes": out.notes,
        "errors": out.errors,
        "problems": problems,
        "ok": problems.is_empty(),
    })
}

/// `secs` since the Unix epoch as an ISO 8601 UTC time, `2026-11-23T16:34:56Z`.
pub fn utc_date(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// The current time as [`utc_date`].
pub fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    utc_date(secs)
}

/// File name suffix of a run: `-no-fastpath`, `-quick`, both or none.
pub fn suffix(fastpath: bool, quick: bool) -> String {
    let mut s = String::new();
    if !fastpath {
        s += "-no-fastpath";
    }
    if quick {
        s += "-quick";
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: QemuEnd = QemuEnd::Exited(Some(0));

    fn line(name: &str, median: u64, min: u64) -> String {
        format!("BENCH {{\"name\":\"{name}\",\"median\":{median},\"min\":{min},\"samples\":20}}\n")
    }

    /// A complete, sane run.
    fn good_run() -> String {
        let mut s = String::from(
            "OpenSBI v1.5\n[kernel INFO] booting\nbenchmark  median\n\
             BENCH_META {\"counter_overhead\":1,\"warmup\":4,\"samples\":20,\"quick\":true}\n",
        );
        for (i, n) in REQUIRED.iter().enumerate() {
            let v = match *n {
                "null_syscall" => 288,
                _ => 500 + i as u64,
            };
            s += &line(n, v, v - 1);
        }
        s += "BENCH {\"name\":\"irq_to_user_handler\",\"median\":509,\"min\":509,\"samples\":20}\r\n";
        s += "BENCH_DONE\r\n";
        s
    }

    #[test]
    fn a_good_run_passes() {
        let out = parse(&good_run());
        assert_eq!(judge(&out, &OK, REQUIRED), Vec::<String>::new());
        assert_eq!(out.rows.len(), REQUIRED.len() + 1);
        assert_eq!(
            out.row("irq_to_user_handler"),
            Some(&Row {
                name: "irq_to_user_handler".into(),
                median: 509,
                min: 509,
                samples: 20
            })
        );
        assert_eq!(out.meta.as_ref().unwrap()["samples"], 20);
        assert!(out.done);
    }

    #[test]
    fn notes_are_not_failures_but_errors_are() {
        let text = good_run().replace(
            "BENCH_DONE",
            "BENCH_NOTE irq_to_user_handler: no interrupt\nBENCH_DONE",
        );
        let out = parse(&text);
        assert_eq!(out.notes, vec!["irq_to_user_handler: no interrupt"]);
        assert!(judge(&out, &OK, REQUIRED).is_empty());
        let text = good_run().replace("BENCH_DONE", "BENCH_ERROR yield: broken\nBENCH_DONE");
        let p = judge(&parse(&text), &OK, REQUIRED);
        assert_eq!(p, vec!["benchmark failed: yield: broken".to_string()]);
    }

    #[test]
    fn missing_done_missing_rows_and_bad_exit_fail() {
        let text = good_run().replace("BENCH_DONE", "");
        let p = judge(&parse(&text), &OK, REQUIRED);
        assert_eq!(p, vec!["the line `BENCH_DONE` was not printed".to_string()]);

        let text: String = good_run()
            .lines()
            .filter(|l| !l.contains("\"yield\""))
            .map(|l| format!("{l}\n"))
            .collect();
        let p = judge(&parse(&text), &OK, REQUIRED);
        assert_eq!(p, vec!["missing results: yield".to_string()]);

        let p = judge(&parse(&good_run()), &QemuEnd::Exited(Some(3)), REQUIRED);
        assert_eq!(p, vec!["QEMU exited with status 3".to_string()]);
        let p = judge(
            &parse(&good_run()),
            &QemuEnd::Killed("timed out".into()),
            REQUIRED,
        );
        assert_eq!(p, vec!["timed out".to_string()]);
    }

    #[test]
    fn malformed_duplicate_and_panic_lines_fail() {
        let text = good_run().replace("BENCH_DONE", "BENCH {\"name\":\"x\"}\nBENCH_DONE");
        assert_eq!(judge(&parse(&text), &OK, REQUIRED).len(), 1);
        let text = good_run().replace("BENCH_DONE", "BENCHMARK\nBENCH_DONE");
        assert_eq!(parse(&text).malformed, vec!["BENCHMARK".to_string()]);
        let text = good_run().replace("BENCH_DONE", &(line("yield", 5, 5) + "BENCH_DONE"));
        let p = judge(&parse(&text), &OK, REQUIRED);
        assert_eq!(p, vec!["yield was reported twice".to_string()]);
        let text = good_run().replace("BENCH_DONE", "[kernel] KERNEL PANIC at x\nBENCH_DONE");
        let p = judge(&parse(&text), &OK, REQUIRED);
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("panicked"), "{p:?}");
    }

    #[test]
    fn kernel_log_lines_are_ignored() {
        let text = good_run().replace(
            "BENCH_DONE",
            "[kernel] BENCH {\"name\":\"fake\",\"median\":0,\"min\":0,\"samples\":0}\nBENCH_DONE",
        );
        let out = parse(&text);
        assert!(out.row("fake").is_none());
        assert!(judge(&out, &OK, REQUIRED).is_empty());
    }

    #[test]
    fn insane_figures_fail() {
        let rows = |floor: u64, zero: bool| {
            vec![
                Row {
                    name: "null_syscall".into(),
                    median: floor,
                    min: floor,
                    samples: 1,
                },
                Row {
                    name: "call_0_cross_as".into(),
                    median: 200,
                    min: if zero { 0 } else { 199 },
                    samples: 1,
                },
                Row {
                    name: "replyrecv_0_cross_as".into(),
                    median: 230,
                    min: 231,
                    samples: 1,
                },
            ]
        };
        let p = sanity(&rows(100, false));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("above the median"));
        let p = sanity(&rows(430, true));
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(p.iter().any(|x| x.contains("a zero figure")));
        assert!(p
            .iter()
            .any(|x| x.contains("not below the Call + ReplyRecv")));
    }

    #[test]
    fn tables() {
        let a = vec![
            Row {
                name: "call_0_cross_as".into(),
                median: 200,
                min: 199,
                samples: 200,
            },
            Row {
                name: "yield".into(),
                median: 100,
                min: 100,
                samples: 200,
            },
        ];
        let t = table(&a);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines.iter().all(|l| l.len() == lines[0].len()), "{t}");
        assert!(lines[2].starts_with("call_0_cross_as"));
        let b = vec![
            Row {
                name: "call_0_cross_as".into(),
                median: 800,
                min: 800,
                samples: 200,
            },
            Row {
                name: "irq".into(),
                median: 5,
                min: 5,
                samples: 200,
            },
        ];
        let c = compare_table("fastpath", &a, "no fastpath", &b);
        let lines: Vec<&str> = c.lines().collect();
        assert_eq!(lines.len(), 5, "{c}");
        assert!(
            lines[2].contains("200") && lines[2].contains("800") && lines[2].contains("-75.0%")
        );
        assert!(lines[3].starts_with("yield") && lines[3].trim_end().ends_with('-'));
        assert!(lines[4].starts_with("irq"));
    }

    #[test]
    fn report_has_results_and_metadata() {
        let out = parse(&good_run());
        let info = RunInfo {
            kernel_features: vec!["fastpath".into(), "benchmark".into()],
            fastpath: true,
            profile: "release".into(),
            quick: true,
            qemu_version: "QEMU emulator version 10.0.2".into(),
            qemu_command: vec!["qemu-system-riscv64".into(), "-icount".into()],
            date: utc_date(0),
            git_commit: None,
        };
        let v = report(&info, &out, &[]);
        assert_eq!(v["results"].as_array().unwrap().len(), REQUIRED.len() + 1);
        assert_eq!(v["results"][0]["name"], REQUIRED[0]);
        assert_eq!(v["kernel_features"][1], "benchmark");
        assert_eq!(v["qemu_version"], "QEMU emulator version 10.0.2");
        assert_eq!(v["date"], "1970-01-01T00:00:00Z");
        assert_eq!(v["meta"]["counter_overhead"], 1);
        assert_eq!(v["ok"], true);
    }

    #[test]
    fn dates() {
        assert_eq!(utc_date(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_date(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc_date(1_798_043_696), "2026-12-23T16:34:56Z");
        assert_eq!(utc_date(4_107_542_399), "2100-02-28T23:59:59Z");
    }

    #[test]
    fn suffixes() {
        assert_eq!(suffix(true, false), "");
        assert_eq!(suffix(false, false), "-no-fastpath");
        assert_eq!(suffix(false, true), "-no-fastpath-quick");
        assert_eq!(suffix(true, true), "-quick");
    }

    /// `REQUIRED` here and in `bench/src/lib.rs` must be the same list.
    #[test]
    fn required_names_match_the_bench_crate() {
        let src = include_str!("../../bench/src/lib.rs");
        let start = src
            .find("pub const REQUIRED: &[&str] = &[")
            .expect("bench/src/lib.rs has no REQUIRED list");
        let body = &src[start..];
        let body = &body[body.find('[').unwrap() + 1..];
        let body = &body[body.find('[').unwrap() + 1..body.find("];").unwrap()];
        let names: Vec<&str> = body
            .split(',')
            .map(|s| s.trim().trim_matches('"'))
            .filter(|s| !s.is_empty())
            .collect();
        assert_eq!(names, REQUIRED);
    }
}
