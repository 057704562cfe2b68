//! The host-testable part of the `bench` root task: sample counts, statistics and the output
//! format. The measurements themselves are in `main.rs` (riscv64 and aarch64 targets only).
//!
//! # Output protocol (contract with `cargo xtask bench`)
//!
//! After a human-readable table the root task prints one line per result,
//!
//! ```text
//! BENCH {"name":"call_0_cross_as","median":123,"min":120,"samples":200}
//! ```
//!
//! (values in guest instructions, the counter-read overhead already subtracted), then
//! `BENCH_NOTE <text>` for every benchmark it left out on purpose, `BENCH_ERROR <text>` for
//! every benchmark that failed, the line `BENCH_DONE`, and halts the machine.
#![cfg_attr(not(test), no_std)]

use core::fmt::{self, Write};

/// Iterations run and thrown away before the measured ones.
pub const WARMUP: usize = if cfg!(feature = "quick") { 4 } else { 16 };
/// Measured iterations per benchmark.
pub const SAMPLES: usize = if cfg!(feature = "quick") { 20 } else { 200 };
/// Iterations of each loop: warm-up, samples, and one extra (see the IPC benchmark).
pub const ITERATIONS: usize = WARMUP + SAMPLES + 1;

/// Median, minimum and maximum of a set of samples.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// The lower median: element `(n - 1) / 2` of the sorted samples.
    pub median: u64,
    /// The smallest sample.
    pub min: u64,
    /// The largest sample.
    pub max: u64,
    /// How many samples.
    pub samples: usize,
}

/// Sort `xs` (insertion sort: no allocation, a few hundred elements) and summarise it;
/// `None` for no samples.
pub fn summarize(xs: &mut [u64]) -> Option<Summary> {
    for i in 1..xs.len() {
        let mut j = i;
        while j > 0 && xs[j - 1] > xs[j] {
            xs.swap(j - 1, j);
            j -= 1;
        }
    }
    Some(Summary {
        median: xs[(xs.len().checked_sub(1)?) / 2],
        min: xs[0],
        max: xs[xs.len() - 1],
        samples: xs.len(),
    })
}

/// Cost of one measured window: `end - start - overhead`, where `overhead` is the cost of the
/// counter read itself (two back-to-back reads). `None` if the counter went backwards or the
/// window is shorter than the overhead (a broken measurement).
pub fn window(start: u64, end: u64, overhead: u64) -> Option<u64> {
    end.checked_sub(start)?.checked_sub(overhead)
}

/// A named result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// Benchmark name: lower case, digits and `_` only.
    pub name: &'static str,
    /// Its figures.
    pub summary: Summary,
}

/// Whether `name` may appear in a `BENCH` line unquoted-safe (no JSON escaping needed).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Write the machine-readable line for `row` (no newline).
pub fn write_bench_line(w: &mut impl Write, row: &Row) -> fmt::Result {
    write!(
        w,
        "BENCH {{\"name\":\"{}\",\"median\":{},\"min\":{},\"samples\":{}}}",
        row.name, row.summary.median, row.summary.min, row.summary.samples
    )
}

/// Width of the name column of the table.
pub const NAME_WIDTH: usize = 34;

/// Write the table header (two lines, each with a newline).
pub fn write_table_header(w: &mut impl Write) -> fmt::Result {
    writeln!(
        w,
        "{:<NAME_WIDTH$} {:>8} {:>8} {:>8} {:>8}",
        "benchmark", "median", "min", "max", "samples"
    )?;
    writeln!(w, "{}", "-".repeat_str(NAME_WIDTH + 4 * 9))
}

/// Write one table row (with a newline).
pub fn write_table_row(w: &mut impl Write, row: &Row) -> fmt::Result {
    let s = &row.summary;
    writeln!(
        w,
        "{:<NAME_WIDTH$} {:>8} {:>8} {:>8} {:>8}",
        row.name, s.median, s.min, s.max, s.samples
    )
}

/// `str::repeat` without an allocator.
trait RepeatStr {
    fn repeat_str(&self, n: usize) -> Repeat<'_>;
}

impl RepeatStr for str {
    fn repeat_str(&self, n: usize) -> Repeat<'_> {
        Repeat(self, n)
    }
}

/// A string written `n` times.
struct Repeat<'a>(&'a str, usize);

impl fmt::Display for Repeat<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for _ in 0..self.1 {
            f.write_str(self.0)?;
        }
        Ok(())
    }
}

/// The names every full run must report (the IRQ row may be left out with a note).
pub const REQUIRED: &[&str] = &[
    "call_0_cross_as",
    "replyrecv_0_cross_as",
    "call_4_cross_as",
    "replyrecv_4_cross_as",
    "call_10_cross_as",
    "replyrecv_10_cross_as",
    "call_0_same_as",
    "replyrecv_0_same_as",
    "call_4_same_as",
    "replyrecv_4_same_as",
    "call_0_cross_as_fpu",
    "replyrecv_0_cross_as_fpu",
    "call_4_cross_as_fpu",
    "replyrecv_4_cross_as_fpu",
    "call_0_same_as_fpu",
    "replyrecv_0_same_as_fpu",
    "call_4_same_as_fpu",
    "replyrecv_4_same_as_fpu",
    "call_1cap_cross_as",
    "call_1cap_same_as",
    "null_syscall",
    "yield",
    "tcb_set_priority_self",
    "signal_wake_higher_prio",
    "signal_no_waiter",
    "untyped_retype_4k_frame",
    "untyped_retype_256_endpoints",
    "cnode_copy",
    "cnode_delete",
    "send_0_cross_as_to_higher_prio",
    "notification_ping_pong",
    "page_map",
    "page_protect",
    "page_unprotect",
    "page_unmap",
    "untyped_retype_reset_16m",
    "process_create",
    "process_teardown",
    "asid_control_make_pool",
    "asid_pool_assign",
    "asid_pool_delete",
];

/// The names every full run with the `mcs` feature must report: [`REQUIRED`] (the IPC cases
/// with a passive server) and the IPC cases without FPU with an active server.
pub const REQUIRED_MCS: &[&str] = &{
    const ACTIVE: [&str; 8] = [
        "call_0_cross_as_active",
        "replyrecv_0_cross_as_active",
        "call_4_cross_as_active",
        "replyrecv_4_cross_as_active",
        "call_0_same_as_active",
        "replyrecv_0_same_as_active",
        "call_4_same_as_active",
        "replyrecv_4_same_as_active",
    ];
    let mut all = [""; REQUIRED.len() + ACTIVE.len()];
    let mut i = 0;
    while i < all.len() {
        all[i] = if i < REQUIRED.len() {
            REQUIRED[i]
        } else {
            ACTIVE[i - REQUIRED.len()]
        };
        i += 1;
    }
    all
};

/// The names a full run must report: [`REQUIRED_MCS`] for the root task built with `mcs`
/// (on the MCS kernel), else [`REQUIRED`].
pub fn required(mcs: bool) -> &'static [&'static str] {
    if mcs {
        REQUIRED_MCS
    } else {
        REQUIRED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_odd_and_even_counts() {
        let mut xs = [5, 1, 4, 2, 3];
        assert_eq!(
            summarize(&mut xs),
            Some(Summary {
                median: 3,
                min: 1,
                max: 5,
                samples: 5
            })
        );
        assert_eq!(xs, [1, 2, 3, 4, 5]);
        let mut xs = [10, 40, 20, 30];
        let s = summarize(&mut xs).unwrap();
        assert_eq!((s.median, s.min, s.max, s.samples), (20, 10, 40, 4));
        assert_eq!(summarize(&mut []), None);
        let mut one = [7];
        assert_eq!(summarize(&mut one).unwrap().median, 7);
    }

    #[test]
    fn windows_subtract_the_overhead_and_reject_nonsense() {
        assert_eq!(window(100, 350, 1), Some(249));
        assert_eq!(window(100, 100, 0), Some(0));
        assert_eq!(window(100, 99, 0), None);
        assert_eq!(window(100, 100, 1), None);
    }

    #[test]
    fn bench_line_is_json() {
        let mut s = String::new();
        let row = Row {
            name: "call_0_cross_as",
            summary: Summary {
                median: 123,
                min: 120,
                max: 130,
                samples: 200,
            },
        };
        write_bench_line(&mut s, &row).unwrap();
        assert_eq!(
            s,
            r#"BENCH {"name":"call_0_cross_as","median":123,"min":120,"samples":200}"#
        );
    }

    #[test]
    fn table_rows_line_up() {
        let mut s = String::new();
        write_table_header(&mut s).unwrap();
        let row = Row {
            name: "yield",
            summary: Summary {
                median: 1,
                min: 1,
                max: 1,
                samples: 3,
            },
        };
        write_table_row(&mut s, &row).unwrap();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].len(), lines[2].len());
        assert_eq!(lines[1].len(), lines[0].len());
        assert!(lines[2].starts_with("yield "));
    }

    #[test]
    fn names_are_plain() {
        assert!(REQUIRED.iter().all(|n| valid_name(n)));
        assert!(!valid_name("a\"b"));
        assert!(!valid_name(""));
        let mut sorted: Vec<&str> = REQUIRED.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), REQUIRED.len(), "duplicate names");
    }

    #[test]
    fn mcs_names_are_the_others_and_the_active_cases() {
        assert!(REQUIRED_MCS.iter().all(|n| valid_name(n)));
        assert_eq!(&REQUIRED_MCS[..REQUIRED.len()], REQUIRED);
        let active = &REQUIRED_MCS[REQUIRED.len()..];
        assert_eq!(active.len(), 8);
        assert!(active
            .iter()
            .all(|n| n.ends_with("_active")
                && REQUIRED.contains(&n.strip_suffix("_active").unwrap())));
        let mut sorted: Vec<&str> = REQUIRED_MCS.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), REQUIRED_MCS.len(), "duplicate names");
        assert_eq!(required(false), REQUIRED);
        assert_eq!(required(true), REQUIRED_MCS);
    }

    #[test]
    fn counts() {
        assert_eq!(ITERATIONS, WARMUP + SAMPLES + 1);
        const { assert!(SAMPLES >= 20) };
    }
}
