//! Host tests of the syscall fuzzer ([`crate::fuzz`]): its world, a seed that reaches the
//! fastpath, the corpus and crashes kept in `fuzz/` (replayed by every `cargo test`, no
//! nightly toolchain needed), and seeded random inputs.

use crate::fuzz::{run, syscall_step, World};
use abi::{InvocationLabel as L, Syscall};
use proptest::prelude::*;
use std::path::PathBuf;

#[test]
fn the_world_is_built_and_consistent() {
    let w = World::new(false);
    w.check();
    assert_eq!(w.threads.len(), crate::fuzz::THREADS);
}

#[cfg(not(feature = "mcs"))]
const REPLY: u8 = 0;
/// MCS: the Reply object in `X` and `Y`.
#[cfg(feature = "mcs")]
const REPLY: u8 = 12;

/// `t3` waits on its fault endpoint, `t1` on endpoint A, `t2` calls it, `t1` answers with
/// ReplyRecv, `t2` calls again through a badged copy: the common case of both fastpath syscalls
/// (MCS: with Reply objects, `t1` made a passive server by the root task).
pub fn call_and_reply_recv_seed() -> Vec<u8> {
    // t3 (priority 110) waits on its fault endpoint, so that the others may run.
    let mut v = syscall_step(3, Syscall::Recv as i64, 2, 0, &[], &[], REPLY);
    v.extend(syscall_step(1, Syscall::Recv as i64, 1, 0, &[], &[], REPLY));
    // MCS: the fastpath serves passive servers only; the root task takes t1's SchedContext.
    #[cfg(feature = "mcs")]
    let sc1 = {
        let w = World::new(false);
        let e = w.s.bootinfo().empty.start;
        w.root_cptr_byte(crate::testing::System::sc_slot_of(e + 12))
            .expect("t1's SchedContext cap")
    };
    #[cfg(feature = "mcs")]
    v.extend(syscall_step(
        0,
        Syscall::Call as i64,
        sc1,
        L::SchedContextUnbind as u8,
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
        REPLY,
    ));
    v.extend(syscall_step(
        1,
        Syscall::ReplyRecv as i64,
        1,
        9,
        &[3],
        &[],
        REPLY,
    ));
    // The second call through the badged copy of A (badge 0x11).
    v.extend(syscall_step(
        2,
        Syscall::Call as i64,
        11,
        5,
        &[4, 5, 6],
        &[],
        REPLY,
    ));
    v
}

/// Seeds for the fuzzer's corpus besides [`call_and_reply_recv_seed`]: (name, input).
fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let w = World::new(false);
    let e = w.s.bootinfo().empty.start;
    let tcb1 = w.root_cptr_byte(e + 12).expect("t1's TCB cap");
    let mut v = vec![("call-reply-recv", call_and_reply_recv_seed())];
    // The root task suspends t1 and resumes it; t1 waits on A, t2 signals the notification.
    let mut s = syscall_step(3, Syscall::Recv as i64, 2, 0, &[], &[], REPLY);
    s.extend(syscall_step(
        0,
        Syscall::Call as i64,
        tcb1,
        L::TCBSuspend as u8,
        &[],
        &[],
        0,
    ));
    s.extend(syscall_step(
        0,
        Syscall::Call as i64,
        tcb1,
        L::TCBResume as u8,
        &[],
        &[],
        0,
    ));
    s.extend(syscall_step(1, Syscall::Recv as i64, 3, 0, &[], &[], REPLY));
    s.extend(syscall_step(2, Syscall::Send as i64, 3, 0, &[], &[], 0));
    v.push(("suspend-resume-signal", s));
    // t1 retypes three endpoints into X, copies one, revokes the untyped, deletes a slot.
    let mut s = syscall_step(3, Syscall::Recv as i64, 2, 0, &[], &[], REPLY);
    let ep = abi::ObjectType::Endpoint as u64;
    s.extend(syscall_step(
        1,
        Syscall::Call as i64,
        8,
        L::UntypedRetype as u8,
        &[ep, 0, 0, 0, 20, 3],
        &[6],
        0,
    ));
    s.extend(syscall_step(
        1,
        Syscall::Call as i64,
        6,
        L::CNodeCopy as u8,
        &[30, 64, 20, 64, 15],
        &[6],
        0,
    ));
    s.extend(syscall_step(
        1,
        Syscall::Call as i64,
        6,
        L::CNodeRevoke as u8,
        &[8, 64],
        &[],
        0,
    ));
    s.extend(syscall_step(
        1,
        Syscall::Call as i64,
        6,
        L::CNodeDelete as u8,
        &[4, 64],
        &[],
        0,
    ));
    v.push(("retype-copy-revoke", s));
    // t1 and t2 wait on A; the root task revokes its original cap to A, which deletes every
    // copy, and deletes it: the endpoint goes, its waiters restart.
    let a = w.root_cptr_byte(e).expect("the root task's cap to A");
    let mut s = syscall_step(3, Syscall::Recv as i64, 2, 0, &[], &[], REPLY);
    s.extend(syscall_step(1, Syscall::Recv as i64, 1, 0, &[], &[], REPLY));
    s.extend(syscall_step(2, Syscall::Recv as i64, 1, 0, &[], &[], REPLY));
    s.extend([14, 0, a]);
    s.extend(syscall_step(
        0,
        Syscall::Call as i64,
        2,
        L::CNodeDelete as u8,
        &[e, 64],
        &[],
        0,
    ));
    s.extend(syscall_step(1, Syscall::Yield as i64, 0, 0, &[], &[], 0));
    v.push(("cancel-ipc-by-revoke", s));
    // Cap transfer: t1 receives caps into X's slot 40; t2 sends it the notification and a
    // badged endpoint on A.
    let mut s = syscall_step(3, Syscall::Recv as i64, 2, 0, &[], &[], REPLY);
    s.extend([15, 1, 1, 6, 40, crate::fuzz::word_byte(64).expect("64")]);
    s.extend(syscall_step(1, Syscall::Recv as i64, 1, 0, &[], &[], REPLY));
    s.extend(syscall_step(
        2,
        Syscall::Send as i64,
        1,
        3,
        &[9],
        &[3, 11],
        0,
    ));
    s.extend(syscall_step(
        1,
        Syscall::Recv as i64,
        40,
        0,
        &[],
        &[],
        REPLY,
    ));
    v.push(("cap-transfer", s));
    // Faults: t1 takes a page fault (its handler: B, where t3 waits), an interrupt arrives.
    let mut s = syscall_step(3, Syscall::Recv as i64, 2, 0, &[], &[], REPLY);
    s.extend([10, 1, 1, 0x60]);
    s.extend([12, 0, 0]);
    s.extend(syscall_step(3, Syscall::Recv as i64, 2, 0, &[], &[], REPLY));
    v.push(("fault-irq", s));
    v
}

/// Writes the seeds into `fuzz/corpus/syscalls` (`seed-<name>`, `-mcs` for the MCS
/// encoding): `cargo test -p kernel [--features mcs] write_fuzz_seeds -- --ignored`.
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/syscalls");
    let mcs = if cfg!(feature = "mcs") { "-mcs" } else { "" };
    for (name, data) in seeds() {
        std::fs::write(d.join(format!("seed-{name}{mcs}")), data).expect("written");
    }
}

/// The seeds do what they say (each step runs) and keep the invariants.
#[test]
fn seeds_run() {
    for (name, data) in seeds() {
        let st = run(&data);
        assert!(st.steps >= 4, "{name}: {st:?}");
    }
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

/// Runs the kept inputs whose index is `shard` modulo `shards`, saying which one failed;
/// how many ran.
fn replay(dir: &str, shard: usize, shards: usize) -> usize {
    let inputs = kept(dir);
    let mut n = 0;
    for (p, data) in inputs.iter().skip(shard).step_by(shards) {
        n += 1;
        if let Err(e) = std::panic::catch_unwind(|| run(data)) {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{} fails: {msg}", p.display());
        }
    }
    n
}

/// Every crash the fuzzer found is a regression test (`fuzz/regressions/syscalls`).
#[test]
fn kept_crashes_pass() {
    replay("regressions", 0, 1);
}

/// The corpus kept in `fuzz/corpus/syscalls` (what `cargo xtask fuzz` starts from), in four
/// tests that run side by side.
macro_rules! corpus_shards {
    ($($name:ident: $i:expr),*) => {$(
        #[test]
        fn $name() {
            assert!(replay("corpus", $i, 4) > 0, "the corpus is (nearly) empty");
        }
    )*};
}
corpus_shards!(kept_corpus_passes_0: 0, kept_corpus_passes_1: 1, kept_corpus_passes_2: 2, kept_corpus_passes_3: 3);

proptest! {
    #![proptest_config(crate::testing::proptest_config(24))]
    /// Random inputs (seeded: the same every run unless `PROPTEST_RNG_SEED` says otherwise)
    /// keep every invariant the fuzzer checks.
    #[test]
    fn arbitrary_syscalls_keep_the_invariants(data in proptest::collection::vec(any::<u8>(), 0..640)) {
        run(&data);
    }
}
