//! Host tests of the syscall fuzzer ([`crate::fuzz`]): its world, a seed that reaches the
//! fastpath, the corpus and crashes kept in `fuzz/` (replayed by every `cargo test`, no
//! nightly toolchain needed), and seeded random inputs.

use crate::fuzz::{run, syscall_step, World};
use abi::Syscall;
use proptest::prelude::*;
use std::path::PathBuf;

#[test]
fn the_world_is_built_and_consistent() {
    let w = World::new(false);
    w.check();
    assert_eq!(w.threads.len(), crate::fuzz::THREADS);
}

/// `t3` waits on its fault endpoint, `t1` on endpoint A, `t2` calls it, `t1` answers with
/// ReplyRecv, `t2` calls again: the common case of both fastpath syscalls (MCS: with Reply
/// objects, `t1` made a passive server by the root task).
pub fn call_and_reply_recv_seed() -> Vec<u8> {
    #[cfg(not(feature = "mcs"))]
    let reply = 0;
    #[cfg(feature = "mcs")]
    let reply = 12;
    // t3 (priority 110) waits on its fault endpoint, so that the others may run.
    let mut v = syscall_step(3, Syscall::Recv as i64, 2, 0, &[], &[], reply);
    v.extend(syscall_step(1, Syscall::Recv as i64, 1, 0, &[], &[], reply));
    // MCS: the fastpath serves passive servers only; the root task takes t1's SchedContext.
    #[cfg(feature = "mcs")]
    v.extend(syscall_step(
        0,
        Syscall::Call as i64,
        64,
        abi::InvocationLabel::SchedContextUnbind as u8,
        &[],
        &[],
        0,
    ));
    v.extend(syscall_step(
        2,
        Syscall::Call as i64,
        1,
        7,
        &[1, 2],
        &[],
        reply,
    ));
    v.extend(syscall_step(
        1,
        Syscall::ReplyRecv as i64,
        1,
        9,
        &[3],
        &[],
        reply,
    ));
    v.extend(syscall_step(
        2,
        Syscall::Call as i64,
        1,
        5,
        &[4, 5, 6],
        &[],
        reply,
    ));
    v
}

#[test]
fn the_seed_reaches_the_fastpath_and_both_paths_agree() {
    let st = run(&call_and_reply_recv_seed());
    assert_eq!(st.steps, 5 + cfg!(feature = "mcs") as usize);
    if cfg!(feature = "fastpath") {
        // MCS: the first Call finds the server's cached address-space state voided by the
        // root task's invocation, and leaves it to the full path.
        let want = if cfg!(feature = "mcs") { 2 } else { 3 };
        assert_eq!(
            st.fastpath_hits, want,
            "Call, ReplyRecv and Call take the fastpath"
        );
    }
}

/// The files in `fuzz/<dir>/syscalls`, sorted.
fn kept(dir: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz")
        .join(dir)
        .join("syscalls");
    let mut v: Vec<_> = std::fs::read_dir(&d)
        .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .map(|p| {
            let b = std::fs::read(&p).expect("readable");
            (p, b)
        })
        .collect();
    v.sort();
    v
}

/// Runs every kept input, saying which one failed.
fn replay(dir: &str) -> usize {
    let inputs = kept(dir);
    for (p, data) in &inputs {
        if let Err(e) = std::panic::catch_unwind(|| run(data)) {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{} fails: {msg}", p.display());
        }
    }
    inputs.len()
}

/// Every crash the fuzzer found is a regression test (`fuzz/regressions/syscalls`).
#[test]
fn kept_crashes_pass() {
    replay("regressions");
}

/// The corpus kept in `fuzz/corpus/syscalls` (what `cargo xtask fuzz` starts from).
#[test]
fn kept_corpus_passes() {
    assert!(replay("corpus") > 0, "the corpus is empty");
}

proptest! {
    #![proptest_config(crate::testing::proptest_config(24))]
    /// Random inputs (seeded: the same every run unless `PROPTEST_RNG_SEED` says otherwise)
    /// keep every invariant the fuzzer checks.
    #[test]
    fn arbitrary_syscalls_keep_the_invariants(data in proptest::collection::vec(any::<u8>(), 0..640)) {
        run(&data);
    }
}
