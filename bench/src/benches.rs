//! The benchmarks. Each measures [`ITERATIONS`] windows, throws the first [`WARMUP`] away and
//! summarises the next [`SAMPLES`] (the extra last iteration only exists so that every
//! measured iteration has a successor: see [`server_main`]).
//!
//! IPC (as sel4bench's IPC benchmark): a client and a server thread at the same priority,
//! in different address spaces (`_cross_as`: the server runs in the second VSpace) or in the
//! root task's (`_same_as`). `call_N`: from the counter read just before the client's
//! `seL4_Call` to the read just after the server's `seL4_Recv`/`seL4_ReplyRecv` returns;
//! `replyrecv_N`: from the read just before the server's `seL4_ReplyRecv` to the read just after
//! the client's `seL4_Call` returns. `N` is the message length in words (all in registers).
//!
//! MCS (feature `mcs`): the server receives and replies with its Reply object (`seL4_Recv`
//! and `seL4_ReplyRecv` with it in `a6`). The cases above run with a *passive* server, as
//! sel4bench's MCS IPC benchmark: the server starts with a SchedContext, tells the root task
//! it waits (`seL4_NBSendRecv` to the report endpoint, then receiving on its endpoint), and
//! loses it (`SchedContext_Unbind`); each Call then lends the client's SC to the server and
//! the reply gives it back. The `_active` cases (the four without FPU) keep the server's SC.

use core::sync::atomic::Ordering::Relaxed;

use abi::invocation::method;
use abi::{BootInfo, CPtr, CapRights, InvocationLabel, MessageInfo, ObjectType, Word};
use bench::{summarize, window, Row, Summary, ITERATIONS, SAMPLES, WARMUP};
use libsel4::bootinfo::BootInfoExt;
use libsel4::cap::{init, Cap, Granule, IrqHandler, Notification, PageTable};
use libsel4::debug::DebugWriter;
use libsel4::{println, sys};

use crate::env::{
    done, fail, ipc_buffer, job, ok, park, stamp, stamp_at, Env, Fail, Job, Space, Stop, CAP,
    COUNT, FPU, PASSIVE, PRIO, R, SEEN,
};
#[cfg(feature = "mcs")]
use crate::env::{reply_of, report, READY};
use crate::raw;

// ------------------------------------------------------------------------------------------
// Results

const MAX_ROWS: usize = 64;
const MAX_MESSAGES: usize = 16;

/// What the run measured, and what it left out.
pub struct Results {
    rows: [Row; MAX_ROWS],
    n: usize,
    /// (benchmark, why) of benchmarks left out on purpose.
    notes: [(&'static str, &'static str); MAX_MESSAGES],
    n_notes: usize,
    /// (benchmark, why) of benchmarks that failed.
    errors: [(&'static str, &'static str); MAX_MESSAGES],
    n_errors: usize,
    /// The cost of a counter read, subtracted from every window.
    pub overhead: u64,
}

impl Results {
    fn new(overhead: u64) -> Self {
        Results {
            rows: [Row {
                name: "",
                summary: Summary {
                    median: 0,
                    min: 0,
                    max: 0,
                    samples: 0,
                },
            }; MAX_ROWS],
            n: 0,
            notes: [("", ""); MAX_MESSAGES],
            n_notes: 0,
            errors: [("", ""); MAX_MESSAGES],
            n_errors: 0,
            overhead,
        }
    }

    fn push(&mut self, name: &'static str, summary: Summary) {
        if self.n < MAX_ROWS {
            self.rows[self.n] = Row { name, summary };
            self.n += 1;
        }
    }

    /// Summarise the measured iterations; `cost(i)` is the window of iteration `i`.
    fn collect(&mut self, name: &'static str, cost: impl Fn(usize) -> Option<u64>) -> R<()> {
        self.collect_n(name, WARMUP, SAMPLES, cost)
    }

    /// Summarise iterations `first..first + n` (`n` at most [`SAMPLES`]); `cost(i)` is the
    /// window of iteration `i`.
    fn collect_n(
        &mut self,
        name: &'static str,
        first: usize,
        n: usize,
        cost: impl Fn(usize) -> Option<u64>,
    ) -> R<()> {
        let mut buf = [0u64; SAMPLES];
        let xs = buf.get_mut(..n).ok_or(Fail("too many samples"))?;
        for (k, x) in xs.iter_mut().enumerate() {
            let i = first + k;
            *x = cost(i).ok_or_else(|| {
                println!("  {name}: iteration {i}: the window is negative or missing");
                Fail("broken timestamps")
            })?;
        }
        let s = summarize(xs).ok_or(Fail("no samples"))?;
        println!(
            "  {name}: median {} min {} max {} ({} samples)",
            s.median, s.min, s.max, s.samples
        );
        self.push(name, s);
        Ok(())
    }

    /// Summarise windows between two timestamp arrays: `T[end][i] - T[start][i] - overhead`.
    fn collect_between(&mut self, name: &'static str, start: usize, end: usize) -> R<()> {
        let o = self.overhead;
        self.collect(name, |i| window(stamp_at(start, i), stamp_at(end, i), o))
    }

    fn note(&mut self, what: &'static str, why: &'static str) {
        println!("  {what}: left out: {why}");
        if self.n_notes < MAX_MESSAGES {
            self.notes[self.n_notes] = (what, why);
            self.n_notes += 1;
        }
    }

    fn error(&mut self, what: &'static str, why: &'static str) {
        println!("  {what}: FAILED: {why}");
        if self.n_errors < MAX_MESSAGES {
            self.errors[self.n_errors] = (what, why);
            self.n_errors += 1;
        }
    }

    /// Print the table, the machine-readable lines and `BENCH_DONE`.
    fn print(&self) {
        let mut w = DebugWriter;
        println!();
        println!(
            "Results: guest instructions (QEMU -icount shift=0), counter-read overhead of {} \
             subtracted; {} warm-up iterations discarded",
            self.overhead, WARMUP
        );
        let _ = bench::write_table_header(&mut w);
        for r in &self.rows[..self.n] {
            let _ = bench::write_table_row(&mut w, r);
        }
        println!();
        println!(
            "BENCH_META {{\"counter_overhead\":{},\"warmup\":{},\"samples\":{},\"quick\":{}}}",
            self.overhead,
            WARMUP,
            SAMPLES,
            cfg!(feature = "quick")
        );
        for r in &self.rows[..self.n] {
            let _ = bench::write_bench_line(&mut w, r);
            println!();
        }
        for (what, why) in &self.notes[..self.n_notes] {
            println!("BENCH_NOTE {what}: {why}");
        }
        for (what, why) in &self.errors[..self.n_errors] {
            println!("BENCH_ERROR {what}: {why}");
        }
        println!("BENCH_DONE");
    }
}

// ------------------------------------------------------------------------------------------
// The run

/// Run every benchmark and print the results.
pub fn run(bi: &'static BootInfo) {
    println!();
    println!("seL4 benchmark root task: {WARMUP} warm-up + {SAMPLES} samples per benchmark");
    let overhead = counter_overhead();
    println!("counter read overhead: {overhead} instructions");
    let mut res = Results::new(overhead);
    let mut env = match Env::new(bi) {
        Ok(e) => e,
        Err(Fail(why)) => {
            res.error("setup", why);
            res.print();
            return;
        }
    };

    if !cfg!(feature = "ipc-only") && selected("null_syscall") {
        null_syscall(&mut env, &mut res);
    }
    if !cfg!(feature = "ipc-only") {
        record(&mut res, "yield", yield_bench);
        record(&mut res, "tcb_set_priority_self", set_priority_self);
    }
    for c in IPC_CASES.iter().filter(|c| selected(c.call)) {
        println!("{} ...", c.call);
        if let Err(Fail(why)) = ipc(&mut env, &mut res, c) {
            res.error(c.call, why);
        }
    }
    #[cfg(feature = "mcs")]
    for c in IPC_CASES_ACTIVE.iter().filter(|c| selected(c.call)) {
        println!("{} ...", c.call);
        if let Err(Fail(why)) = ipc(&mut env, &mut res, c) {
            res.error(c.call, why);
        }
    }
    if cfg!(feature = "ipc-only") {
        res.print();
        return;
    }
    record(&mut res, "signal_wake_higher_prio", |r| {
        signal_wake(&mut env, r)
    });
    record(&mut res, "signal_no_waiter", |r| {
        signal_no_waiter(&mut env, r)
    });
    if selected("irq_to_user_handler") {
        println!("irq_to_user_handler ...");
        if let Err(Fail(why)) = irq(&mut env, &mut res) {
            res.note("irq_to_user_handler", why);
        }
    }
    record(&mut res, "untyped_retype_4k_frame", |r| {
        retype_frame(&mut env, r)
    });
    record(&mut res, "untyped_retype_256_endpoints", |r| {
        retype_endpoints(&mut env, r)
    });
    record(&mut res, "cnode_copy", |r| cnode_copy_delete(&mut env, r));
    record(&mut res, "send_0_cross_as_to_higher_prio", |r| {
        send_higher(&mut env, r)
    });
    record(&mut res, "notification_ping_pong", |r| {
        notification_ping_pong(&mut env, r)
    });
    record(&mut res, "page_map", |r| page_mapping(&mut env, r));
    record(&mut res, "untyped_retype_reset_16m", |r| {
        untyped_reset(&mut env, r)
    });
    record(&mut res, "process_create", |r| process_cycle(&mut env, r));
    record(&mut res, "asid_control_make_pool", |r| {
        asid_pool_cycle(&mut env, r)
    });
    res.print();
}

/// The benchmarks to run, if not all: the environment variable `BENCH_ONLY` when the root task
/// was built, a comma-separated list of names (of each benchmark's first row, as `record`
/// and the IPC cases name them). For instruction traces of one path (docs/PERFORMANCE.md); a
/// run with it leaves rows out, so `cargo xtask bench` reports them missing.
const ONLY: Option<&str> = option_env!("BENCH_ONLY");

/// Whether the benchmark `name` is to run (see [`ONLY`]).
fn selected(name: &str) -> bool {
    ONLY.is_none_or(|list| list.split(',').any(|n| n.trim() == name))
}

/// Run one benchmark, recording a failure as an error.
fn record(res: &mut Results, name: &'static str, f: impl FnOnce(&mut Results) -> R<()>) {
    if !selected(name) {
        return;
    }
    println!("{name} ...");
    if let Err(Fail(why)) = f(res) {
        res.error(name, why);
    }
}

/// The smallest difference of two back-to-back counter reads.
fn counter_overhead() -> u64 {
    (0..64).map(|_| raw::overhead()).min().unwrap_or(0)
}

/// A benchmark the root thread runs on its own: `step(i)` gives one window's two counter
/// values.
fn local(
    res: &mut Results,
    name: &'static str,
    mut step: impl FnMut(usize) -> R<(u64, u64)>,
) -> R<()> {
    let mut t = [(0u64, 0u64); ITERATIONS];
    for (i, x) in t.iter_mut().enumerate() {
        *x = step(i)?;
    }
    let o = res.overhead;
    res.collect(name, |i| window(t[i].0, t[i].1, o))
}

// ------------------------------------------------------------------------------------------
// The floor: null syscall and yield

extern "C" fn null_main(_: Word) -> ! {
    for i in 0..ITERATIONS {
        let mut r = [0; 6];
        let (t0, t1) = raw::timed(raw::NULL_SYSCALL, &mut r);
        stamp(0, i, t0);
        stamp(1, i, t1);
    }
    done()
}

/// `seL4_BenchmarkNullSyscall` in a thread whose faults come to the root task, so that a
/// kernel without the `benchmark` feature (an unknown-syscall fault) is reported, not fatal.
fn null_syscall(env: &mut Env, res: &mut Results) {
    const NAME: &str = "null_syscall";
    println!("{NAME} ...");
    let r = (|| -> R<()> {
        let t = env.spawn(null_main, PRIO, Space::Root, 0, Job::default())?;
        env.start(&[t])?;
        let w = env.wait();
        env.kill(&[t])?;
        match w {
            Ok(()) => res.collect_between(NAME, 0, 1),
            // seL4_Fault_UnknownSyscall
            Err(Stop::Fault(2, _, _)) => Err(Fail(
                "seL4_BenchmarkNullSyscall faulted: the kernel was built without the `benchmark` feature",
            )),
            Err(_) => Err(Fail("the thread did not finish")),
        }
    })();
    if let Err(Fail(why)) = r {
        res.error(NAME, why);
    }
}

fn yield_bench(res: &mut Results) -> R<()> {
    local(res, "yield", |_| {
        let mut r = [0; 6];
        Ok(raw::timed(raw::YIELD, &mut r))
    })
}

/// sel4bench's scheduler row "average to reschedule current thread": the root thread calls
/// `seL4_TCB_SetPriority` on itself with itself as the authority, to `seL4_MaxPrio` (its
/// priority and MCP already), which always asks the scheduler to choose again (seL4
/// `setPriority`: the current thread goes through `rescheduleRequired`). One call per window
/// (sel4bench averages a loop of them).
fn set_priority_self(res: &mut Results) -> R<()> {
    const MAX_PRIO: Word = abi::config::NUM_PRIORITIES as Word - 1;
    let tcb = init::TCB.bits();
    local(res, "tcb_set_priority_self", |_| {
        sys::seL4_SetCap(0, tcb);
        let mut r = [
            tcb,
            MessageInfo::new(InvocationLabel::TCBSetPriority as Word, 0, 1, 1).0,
            MAX_PRIO,
            0,
            0,
            0,
        ];
        let t = raw::timed(raw::CALL, &mut r);
        invocation_ok(&r, "TCB_SetPriority")?;
        Ok(t)
    })
}

// ------------------------------------------------------------------------------------------
// IPC

/// One IPC benchmark: the names of its two results and its parameters.
struct IpcCase {
    call: &'static str,
    /// `None`: only the Call is reported (the cap-transfer case).
    reply: Option<&'static str>,
    cross: bool,
    len: Word,
    flags: Word,
}

const fn case(
    call: &'static str,
    reply: &'static str,
    cross: bool,
    len: Word,
    flags: Word,
) -> IpcCase {
    IpcCase {
        call,
        reply: Some(reply),
        cross,
        len,
        flags,
    }
}

/// The server of the main cases: passive under MCS (seL4's MCS benchmark shape).
const P: Word = if cfg!(feature = "mcs") { PASSIVE } else { 0 };

const IPC_CASES: &[IpcCase] = &[
    case("call_0_cross_as", "replyrecv_0_cross_as", true, 0, P),
    case("call_4_cross_as", "replyrecv_4_cross_as", true, 4, P),
    // sel4bench's 10-word rows: more than the four message registers, so no fastpath.
    case("call_10_cross_as", "replyrecv_10_cross_as", true, 10, P),
    case("call_0_same_as", "replyrecv_0_same_as", false, 0, P),
    case("call_4_same_as", "replyrecv_4_same_as", false, 4, P),
    case(
        "call_0_cross_as_fpu",
        "replyrecv_0_cross_as_fpu",
        true,
        0,
        FPU | P,
    ),
    case(
        "call_4_cross_as_fpu",
        "replyrecv_4_cross_as_fpu",
        true,
        4,
        FPU | P,
    ),
    case(
        "call_0_same_as_fpu",
        "replyrecv_0_same_as_fpu",
        false,
        0,
        FPU | P,
    ),
    case(
        "call_4_same_as_fpu",
        "replyrecv_4_same_as_fpu",
        false,
        4,
        FPU | P,
    ),
    IpcCase {
        call: "call_1cap_cross_as",
        reply: None,
        cross: true,
        len: 0,
        flags: CAP | P,
    },
    IpcCase {
        call: "call_1cap_same_as",
        reply: None,
        cross: false,
        len: 0,
        flags: CAP | P,
    },
];

/// MCS: the cases without FPU with an active server (one with a SchedContext of its own).
#[cfg(feature = "mcs")]
const IPC_CASES_ACTIVE: &[IpcCase] = &[
    case(
        "call_0_cross_as_active",
        "replyrecv_0_cross_as_active",
        true,
        0,
        0,
    ),
    case(
        "call_4_cross_as_active",
        "replyrecv_4_cross_as_active",
        true,
        4,
        0,
    ),
    case(
        "call_0_same_as_active",
        "replyrecv_0_same_as_active",
        false,
        0,
        0,
    ),
    case(
        "call_4_same_as_active",
        "replyrecv_4_same_as_active",
        false,
        4,
        0,
    ),
];

/// Thread error codes of the IPC benchmark.
const E_LENGTH: Word = 1;
const E_NO_CAP: Word = 2;
const E_DELETE: Word = 3;
const E_REPLY: Word = 4;

/// The client: `ITERATIONS` calls; timestamps 0 (before each Call) and 3 (after it returns).
extern "C" fn client_main(me: Word) -> ! {
    let j = job(me);
    let extra = u64::from(j.flags & CAP != 0);
    let info = MessageInfo::new(0, 0, extra, j.len).0;
    if extra != 0 {
        // SAFETY: this thread's own IPC buffer, mapped at `j.ipc`.
        unsafe {
            core::ptr::addr_of_mut!((*ipc_buffer(j.ipc)).caps_or_badges[0]).write_volatile(j.aux)
        };
    }
    let mut acc: u64 = 1;
    for i in 0..ITERATIONS {
        if j.flags & FPU != 0 {
            // x * x + x soon exceeds 2^64 and `fcvt.lu.d` saturates at u64::MAX: wrapping.
            acc = raw::dirty_fpu(acc.wrapping_add(i as u64));
        }
        let mut r = [j.obj, info, 1, 2, 3, 4];
        let (t0, t3) = raw::timed(raw::CALL, &mut r);
        stamp(0, i, t0);
        stamp(3, i, t3);
        if MessageInfo(r[1]).length() != j.len {
            fail(E_REPLY);
        }
    }
    core::hint::black_box(acc);
    done()
}

/// The server: `seL4_Recv`, then `seL4_ReplyRecv` in a loop; timestamps 1 (after each receive)
/// and 2 (before each ReplyRecv). The ReplyRecv of the last iteration never returns (the
/// client stops), so the last iteration's reply has no timestamp 2: it is not measured.
/// MCS: both with its Reply object; a passive server's first receive is an `seL4_NBSendRecv`
/// that tells the root task it waits ([`Env::passive`]).
extern "C" fn server_main(me: Word) -> ! {
    let j = job(me);
    let cap = j.flags & CAP != 0;
    let reply = MessageInfo::new(0, 0, 0, j.len).0;
    if cap {
        let b = ipc_buffer(j.ipc);
        // SAFETY: this thread's own IPC buffer.
        unsafe {
            core::ptr::addr_of_mut!((*b).receive_cnode).write_volatile(init::CNODE.bits());
            core::ptr::addr_of_mut!((*b).receive_index).write_volatile(j.aux);
            core::ptr::addr_of_mut!((*b).receive_depth).write_volatile(64);
        }
    }
    let check = |info: Word| {
        let info = MessageInfo(info);
        if info.length() != j.len {
            fail(E_LENGTH);
        }
        if cap && (info.extra_caps() != 1 || info.caps_unwrapped() != 0) {
            fail(E_NO_CAP);
        }
    };
    #[cfg(not(feature = "mcs"))]
    let mut r = [j.obj, 0, 0, 0, 0, 0];
    #[cfg(not(feature = "mcs"))]
    let t1 = raw::ecall_then_read(raw::RECV, &mut r);
    #[cfg(feature = "mcs")]
    let my_reply = reply_of(me);
    #[cfg(feature = "mcs")]
    let (r, t1) = if j.flags & PASSIVE != 0 {
        let mut r = [j.obj, MessageInfo::new(READY, 0, 0, 0).0, 0, 0, 0, 0];
        let t = raw::ecall_then_read_reply(raw::NB_SEND_RECV, &mut r, my_reply, report());
        (r, t)
    } else {
        let mut r = [j.obj, 0, 0, 0, 0, 0];
        let t = raw::ecall_then_read_reply(raw::RECV, &mut r, my_reply, 0);
        (r, t)
    };
    stamp(1, 0, t1);
    SEEN.store(r[1], Relaxed);
    check(r[1]);
    for i in 0..ITERATIONS {
        if cap {
            let mut d = [
                init::CNODE.bits(),
                MessageInfo::new(InvocationLabel::CNodeDelete as Word, 0, 0, 2).0,
                j.aux,
                64,
                0,
                0,
            ];
            raw::ecall(raw::CALL, &mut d);
            if MessageInfo(d[1]).label() != 0 {
                fail(E_DELETE);
            }
        }
        let mut r = [j.obj, reply, 5, 6, 7, 8];
        #[cfg(not(feature = "mcs"))]
        let (t2, t1) = raw::timed(raw::REPLY_RECV, &mut r);
        #[cfg(feature = "mcs")]
        let (t2, t1) = raw::timed_reply(raw::REPLY_RECV, &mut r, my_reply);
        stamp(2, i, t2);
        stamp(1, i + 1, t1);
        check(r[1]);
    }
    park()
}

fn ipc(env: &mut Env, res: &mut Results, c: &IpcCase) -> R<()> {
    let ep = env.new_object(ObjectType::Endpoint, 0)?;
    let mut server_job = Job {
        obj: ep,
        len: c.len,
        flags: c.flags,
        ..Job::default()
    };
    let mut client_job = server_job;
    if c.flags & CAP != 0 {
        // The server receives into a fresh slot (and deletes the cap again each round); the
        // client sends a notification cap (an endpoint cap to `ep` itself would be unwrapped
        // to its badge instead of transferred).
        server_job.aux = env.slot()?;
        client_job.aux = env.new_object(ObjectType::Notification, 0)?;
    }
    let space = if c.cross { Space::Other } else { Space::Root };
    let server = env.spawn(server_main, PRIO, space, 0, server_job)?;
    let client = env.spawn(client_main, PRIO, Space::Root, 1, client_job)?;
    #[cfg(not(feature = "mcs"))]
    env.start(&[server, client])?;
    #[cfg(feature = "mcs")]
    {
        env.start(&[server])?;
        if c.flags & PASSIVE != 0 {
            if let Err(f) = env.passive(server, c.call) {
                env.kill(&[client, server])?;
                return Err(f);
            }
        }
        env.start(&[client])?;
    }
    let w = env.wait_ok(c.call);
    env.kill(&[client, server])?;
    w?;
    let seen = MessageInfo(SEEN.load(Relaxed));
    if seen.length() != c.len {
        return Err(Fail("the server received a message of the wrong length"));
    }
    res.collect_between(c.call, 0, 1)?;
    if let Some(reply) = c.reply {
        res.collect_between(reply, 2, 3)?;
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Notifications

/// Waits on the notification at priority PRIO + 1; timestamp 1 after each wake-up.
extern "C" fn waiter_main(me: Word) -> ! {
    let j = job(me);
    let mut i = 0;
    loop {
        let mut r = [j.obj, 0, 0, 0, 0, 0];
        let t = raw::ecall_then_read(raw::WAIT, &mut r);
        stamp(1, i, t);
        i += 1;
    }
}

/// Signals the notification; timestamp 0 before each Signal.
extern "C" fn signaler_main(me: Word) -> ! {
    let j = job(me);
    for i in 0..ITERATIONS {
        let mut r = [j.obj, 0, 0, 0, 0, 0];
        let t = raw::read_then_ecall(raw::SEND, &mut r);
        stamp(0, i, t);
    }
    done()
}

fn signal_wake(env: &mut Env, res: &mut Results) -> R<()> {
    let n = env.new_object(ObjectType::Notification, 0)?;
    let j = Job {
        obj: n,
        ..Job::default()
    };
    let waiter = env.spawn(waiter_main, PRIO + 1, Space::Root, 0, j)?;
    let signaler = env.spawn(signaler_main, PRIO, Space::Root, 1, j)?;
    env.start(&[waiter, signaler])?;
    let w = env.wait_ok("signal_wake_higher_prio");
    env.kill(&[signaler, waiter])?;
    w?;
    res.collect_between("signal_wake_higher_prio", 0, 1)
}

/// Signal through a cap badged 1 to a notification nobody waits on; Poll clears it between
/// samples.
fn signal_no_waiter(env: &mut Env, res: &mut Results) -> R<()> {
    let n = env.new_object(ObjectType::Notification, 0)?;
    let badged = env.slot()?;
    ok(
        init::CNODE.absolute_cptr(badged).mint_from(
            &init::CNODE.absolute_cptr(n),
            CapRights::ALL,
            1,
        ),
        "CNode_Mint",
    )?;
    local(res, "signal_no_waiter", |_| {
        let mut r = [badged, 0, 0, 0, 0, 0];
        let t = raw::timed(raw::SEND, &mut r);
        let mut p = [n, 0, 0, 0, 0, 0];
        raw::ecall(raw::POLL, &mut p);
        if p[0] != 1 {
            return Err(Fail("the signal did not reach the notification"));
        }
        Ok(t)
    })
}

// ------------------------------------------------------------------------------------------
// Interrupts

/// Where the UART's registers are mapped in the root task's VSpace.
const UART_VADDR: Word = 0x1000_0000;
/// 16550 interrupt enable register (byte offset) and its "transmitter holding register empty"
/// bit.
#[cfg(target_arch = "riscv64")]
const UART_IER: Word = 1;
#[cfg(target_arch = "riscv64")]
const IER_THRI: u8 = 2;
/// PL011 interrupt mask set/clear register (byte offset) and its transmit interrupt bit
/// (`UARTIMSC.TXIM`): the raw transmit interrupt is set once anything was transmitted (the
/// kernel's console is this UART), so unmasking it raises the interrupt at once.
#[cfg(target_arch = "aarch64")]
const UART_IER: Word = 0x38;
#[cfg(target_arch = "aarch64")]
const IER_THRI: u32 = 1 << 5;
/// The compatible string of the UART the benchmark takes when `/chosen` names none.
#[cfg(target_arch = "riscv64")]
const UART_COMPATIBLE: &str = "ns16550a";
#[cfg(target_arch = "aarch64")]
const UART_COMPATIBLE: &str = "arm,pl011";
/// Where QEMU `virt` has the UART and its interrupt when the device tree says nothing.
#[cfg(target_arch = "riscv64")]
const UART_DEFAULT: (Word, Word) = (0x1000_0000, 10);
#[cfg(target_arch = "aarch64")]
const UART_DEFAULT: (Word, Word) = (0x0900_0000, 33);

/// Turns the UART's interrupt source off (its interrupt enable or mask register at `reg`).
fn uart_irq_off(reg: Word) {
    // SAFETY: the UART's register, mapped by the root task (device memory, no other effect on
    // this program's memory).
    #[cfg(target_arch = "riscv64")]
    unsafe {
        core::ptr::write_volatile(reg as *mut u8, 0)
    };
    // SAFETY: as above; the PL011's registers are 32 bits wide.
    #[cfg(target_arch = "aarch64")]
    unsafe {
        core::ptr::write_volatile(reg as *mut u32, 0)
    };
}

/// Timestamp, then turn the UART's interrupt source on (register `reg`).
fn read_then_uart_irq_on(reg: Word) -> u64 {
    #[cfg(target_arch = "riscv64")]
    return raw::read_then_store_byte(reg as usize, IER_THRI);
    #[cfg(target_arch = "aarch64")]
    return raw::read_then_store_word(reg as usize, IER_THRI);
}
/// Thread error codes of the IRQ benchmark.
const E_ACK: Word = 0x10;
const E_NO_IRQ: Word = 0x11;

/// The UART's physical address and interrupt from the device tree (QEMU virt riscv64:
/// 0x10000000, 10; aarch64: 0x9000000, 33).
fn uart_from_fdt() -> Option<(Word, Word)> {
    let bytes = libsel4::bootinfo::extra_bootinfo().and_then(libsel4::bootinfo::find_fdt)?;
    let fdt = fdt::Fdt::new(bytes).ok()?;
    let node = fdt
        .find_node("/chosen")
        .and_then(|_| fdt.chosen().stdout())
        .or_else(|| fdt.find_compatible(&[UART_COMPATIBLE]))?;
    let base = node.reg()?.next()?.starting_address as Word;
    #[cfg(target_arch = "riscv64")]
    let irq = node.interrupts()?.next()? as Word;
    // The GIC's `interrupts = <type number flags>`: type 0 an SPI (INTID 32 + number), 1 a PPI
    // (16 + number).
    #[cfg(target_arch = "aarch64")]
    let irq = {
        let p = node.property("interrupts")?;
        let cell = |i: usize| -> Option<Word> {
            let b = p.value.get(4 * i..4 * i + 4)?;
            Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as Word)
        };
        match cell(0)? {
            0 => 32 + cell(1)?,
            _ => 16 + cell(1)?,
        }
    };
    Some((base, irq))
}

/// The handler at PRIO + 1: waits on the IRQ notification (timestamp 1 after each wake-up),
/// turns the interrupt source off, acknowledges the IRQ.
extern "C" fn irq_handler_main(me: Word) -> ! {
    let j = job(me);
    let mut i = 0;
    loop {
        let mut r = [j.obj, 0, 0, 0, 0, 0];
        let t = raw::ecall_then_read(raw::WAIT, &mut r);
        uart_irq_off(j.addr);
        let mut a = [
            j.aux,
            MessageInfo::new(InvocationLabel::IRQAckIRQ as Word, 0, 0, 0).0,
            0,
            0,
            0,
            0,
        ];
        raw::ecall(raw::CALL, &mut a);
        if MessageInfo(a[1]).label() != 0 {
            fail(E_ACK);
        }
        stamp(1, i, t);
        i += 1;
        COUNT.store(i as u64, Relaxed);
    }
}

/// The trigger at PRIO: timestamp 0, then enable the UART's THR-empty interrupt (the
/// transmitter is idle, so the UART raises its interrupt at once); wait for the handler.
extern "C" fn irq_trigger_main(me: Word) -> ! {
    let j = job(me);
    for i in 0..ITERATIONS {
        let t = read_then_uart_irq_on(j.addr);
        stamp(0, i, t);
        let mut spins = 0u32;
        while COUNT.load(Relaxed) <= i as u64 {
            spins += 1;
            if spins > 1_000_000 {
                uart_irq_off(j.addr);
                fail(E_NO_IRQ);
            }
            core::hint::spin_loop();
        }
    }
    done()
}

fn irq(env: &mut Env, res: &mut Results) -> R<()> {
    let (pa, irq) = uart_from_fdt().unwrap_or(UART_DEFAULT);
    println!("  UART at {pa:#x}, IRQ {irq}");
    if pa % 4096 != 0 {
        return Err(Fail("the UART is not page aligned"));
    }
    let (ut, d) = env
        .bi
        .untypeds()
        .find(|(_, d)| d.is_device != 0 && d.paddr <= pa && pa - d.paddr < 1u64 << d.size_bits)
        .ok_or(Fail("no device untyped covers the UART"))?;
    let (ut, base, size_bits) = (ut.bits(), d.paddr, d.size_bits as u64);
    // Untyped objects are placed at the untyped's watermark, aligned to their size: carve
    // untypeds of the sizes of the offset's bits (largest first) to move it to the UART.
    let off = pa - base;
    for bit in (12..size_bits).rev() {
        if off & (1 << bit) != 0 {
            env.object_from(ut, ObjectType::Untyped, bit)?;
        }
    }
    let frame = env.object_from(ut, ObjectType::SmallPage, 0)?;
    let got = ok(Granule::from_bits(frame).get_address(), "Page_GetAddress")?;
    if got != pa {
        println!("  the frame is at {got:#x}, not {pa:#x}");
        return Err(Fail("could not make a frame for the UART"));
    }
    env.map_page(
        init::VSPACE.bits(),
        frame,
        UART_VADDR,
        CapRights::READ_WRITE,
        libsel4::vm_attributes::EXECUTE_NEVER,
    )?;
    let ier = UART_VADDR + UART_IER;
    uart_irq_off(ier);

    let handler_slot = env.slot()?;
    ok(
        init::IRQ_CONTROL.get(irq, &init::CNODE.absolute_cptr(handler_slot)),
        "IRQControl_Get",
    )?;
    let handler: IrqHandler = Cap::from_bits(handler_slot);
    let n = env.new_object(ObjectType::Notification, 0)?;
    ok(
        handler.set_notification(Notification::from_bits(n)),
        "IRQHandler_SetNotification",
    )?;
    ok(handler.ack(), "IRQHandler_Ack")?;

    let j = Job {
        obj: n,
        aux: handler_slot,
        addr: ier,
        ..Job::default()
    };
    let h = env.spawn(irq_handler_main, PRIO + 1, Space::Root, 0, j)?;
    let t = env.spawn(irq_trigger_main, PRIO, Space::Root, 1, j)?;
    env.start(&[h, t])?;
    let w = env.wait();
    env.kill(&[t, h])?;
    uart_irq_off(ier);
    let _ = handler.clear();
    let _ = env.delete(handler_slot);
    match w {
        Ok(()) => res.collect_between("irq_to_user_handler", 0, 1),
        Err(Stop::Error(E_NO_IRQ)) => Err(Fail(
            "enabling the UART's THR-empty interrupt did not wake the handler",
        )),
        Err(Stop::Error(E_ACK)) => Err(Fail("IRQHandler_Ack failed in the handler")),
        Err(Stop::Fault(..)) => Err(Fail("a thread faulted")),
        Err(_) => Err(Fail("the threads did not finish")),
    }
}

// ------------------------------------------------------------------------------------------
// Object creation and CNode operations (the root thread invokes; one `ecall` is timed, the
// message is prepared before it)

/// A 2 MiB untyped from the RAM untyped with one endpoint kept in it, so that the untyped
/// always has a child and is never reset (zeroed) by a later retype: every sample then pays
/// for the same work.
fn pinned_untyped(env: &mut Env) -> R<CPtr> {
    let ut = env.new_object(ObjectType::Untyped, 21)?;
    env.object_from(ut, ObjectType::Endpoint, 0)?;
    Ok(ut)
}

/// The Untyped_Retype message into the root CNode: MR0..MR3 in registers, MR4..MR5 and the
/// CNode cap in the IPC buffer.
fn retype_regs(ut: CPtr, ty: ObjectType, dest: CPtr, num: Word) -> raw::Regs {
    sys::seL4_SetMR(4, dest);
    sys::seL4_SetMR(5, num);
    sys::seL4_SetCap(0, init::CNODE.bits());
    [
        ut,
        MessageInfo::new(InvocationLabel::UntypedRetype as Word, 0, 1, 6).0,
        ty as Word,
        0,
        0,
        0,
    ]
}

fn invocation_ok(r: &raw::Regs, what: &'static str) -> R<()> {
    let label = MessageInfo(r[1]).label();
    if label != 0 {
        println!("  {what}: error {label}");
        return Err(Fail("an invocation failed"));
    }
    Ok(())
}

fn retype_frame(env: &mut Env, res: &mut Results) -> R<()> {
    let ut = pinned_untyped(env)?;
    let dest = env.slot()?;
    local(res, "untyped_retype_4k_frame", |_| {
        let mut r = retype_regs(ut, ObjectType::SmallPage, dest, 1);
        let t = raw::timed(raw::CALL, &mut r);
        invocation_ok(&r, "Untyped_Retype")?;
        env.delete(dest)?;
        Ok(t)
    })
}

fn retype_endpoints(env: &mut Env, res: &mut Results) -> R<()> {
    const N: Word = 256;
    let ut = pinned_untyped(env)?;
    let dest = env.slots(N)?;
    local(res, "untyped_retype_256_endpoints", |_| {
        let mut r = retype_regs(ut, ObjectType::Endpoint, dest, N);
        let t = raw::timed(raw::CALL, &mut r);
        invocation_ok(&r, "Untyped_Retype")?;
        for s in dest..dest + N {
            env.delete(s)?;
        }
        Ok(t)
    })
}

/// CNode_Copy of an endpoint cap into an empty slot, and CNode_Delete of the copy (not the
/// last cap to the object), alternately.
fn cnode_copy_delete(env: &mut Env, res: &mut Results) -> R<()> {
    let ep = env.new_object(ObjectType::Endpoint, 0)?;
    let dest = env.slot()?;
    let root = init::CNODE.bits();
    let mut del = [(0u64, 0u64); ITERATIONS];
    local(res, "cnode_copy", |i| {
        sys::seL4_SetMR(4, CapRights::ALL.0);
        sys::seL4_SetCap(0, root);
        let mut r = [
            root,
            MessageInfo::new(InvocationLabel::CNodeCopy as Word, 0, 1, 5).0,
            dest,
            64,
            ep,
            64,
        ];
        let t = raw::timed(raw::CALL, &mut r);
        invocation_ok(&r, "CNode_Copy")?;
        let mut d = [
            root,
            MessageInfo::new(InvocationLabel::CNodeDelete as Word, 0, 0, 2).0,
            dest,
            64,
            0,
            0,
        ];
        del[i] = raw::timed(raw::CALL, &mut d);
        invocation_ok(&d, "CNode_Delete")?;
        Ok(t)
    })?;
    let o = res.overhead;
    res.collect("cnode_delete", |i| window(del[i].0, del[i].1, o))
}

// ------------------------------------------------------------------------------------------
// Send to a higher-priority thread (the slow path) and notification ping-pong

/// Receives on the endpoint (at PRIO + 1, in the second VSpace) forever; timestamp 1 after
/// each receive. MCS: with its Reply object (it stays active).
extern "C" fn receiver_main(me: Word) -> ! {
    let j = job(me);
    let mut i = 0;
    loop {
        let mut r = [j.obj, 0, 0, 0, 0, 0];
        #[cfg(not(feature = "mcs"))]
        let t = raw::ecall_then_read(raw::RECV, &mut r);
        #[cfg(feature = "mcs")]
        let t = raw::ecall_then_read_reply(raw::RECV, &mut r, reply_of(me), 0);
        stamp(1, i, t);
        i += 1;
    }
}

/// Sends a 0-word message `ITERATIONS` times; timestamp 0 before each `seL4_Send`.
extern "C" fn sender_main(me: Word) -> ! {
    let j = job(me);
    for i in 0..ITERATIONS {
        let mut r = [j.obj, MessageInfo::new(0, 0, 0, 0).0, 0, 0, 0, 0];
        let t = raw::read_then_ecall(raw::SEND, &mut r);
        stamp(0, i, t);
    }
    done()
}

/// sel4bench's `seL4_Send` row: a 0-word `seL4_Send` from a thread of the root VSpace at
/// PRIO to one of the second VSpace at PRIO + 1 waiting in `seL4_Recv` (no fastpath: seL4
/// takes none for Send), from the counter read before the Send to the one after the Recv
/// returns.
fn send_higher(env: &mut Env, res: &mut Results) -> R<()> {
    const NAME: &str = "send_0_cross_as_to_higher_prio";
    let ep = env.new_object(ObjectType::Endpoint, 0)?;
    let j = Job {
        obj: ep,
        ..Job::default()
    };
    let receiver = env.spawn(receiver_main, PRIO + 1, Space::Other, 0, j)?;
    let sender = env.spawn(sender_main, PRIO, Space::Root, 1, j)?;
    env.start(&[receiver, sender])?;
    let w = env.wait_ok(NAME);
    env.kill(&[sender, receiver])?;
    w?;
    res.collect_between(NAME, 0, 1)
}

/// The pong side: waits on the notification `obj`, signals `aux`, forever.
extern "C" fn pong_main(me: Word) -> ! {
    let j = job(me);
    loop {
        let mut r = [j.obj, 0, 0, 0, 0, 0];
        raw::ecall(raw::WAIT, &mut r);
        let mut r = [j.aux, 0, 0, 0, 0, 0];
        raw::ecall(raw::SEND, &mut r);
    }
}

/// The ping side: signals `obj` and waits on `aux`, `ITERATIONS` times; timestamps 0 and 1
/// around each round trip.
extern "C" fn ping_main(me: Word) -> ! {
    let j = job(me);
    for i in 0..ITERATIONS {
        let (t0, t1) = raw::timed_signal_wait(j.obj, j.aux);
        stamp(0, i, t0);
        stamp(1, i, t1);
    }
    done()
}

/// Two threads of the root VSpace at the same priority pass the turn with two notifications:
/// one round trip is the ping's `seL4_Signal` and `seL4_Wait` and the pong's `seL4_Wait`
/// returning and its `seL4_Signal` and `seL4_Wait` (two thread switches).
fn notification_ping_pong(env: &mut Env, res: &mut Results) -> R<()> {
    const NAME: &str = "notification_ping_pong";
    let a = env.new_object(ObjectType::Notification, 0)?;
    let b = env.new_object(ObjectType::Notification, 0)?;
    let ping = Job {
        obj: a,
        aux: b,
        ..Job::default()
    };
    let pong = Job {
        obj: a,
        aux: b,
        ..Job::default()
    };
    let pong = env.spawn(pong_main, PRIO, Space::Root, 0, pong)?;
    let ping = env.spawn(ping_main, PRIO, Space::Root, 1, ping)?;
    env.start(&[pong, ping])?;
    let w = env.wait_ok(NAME);
    env.kill(&[ping, pong])?;
    w?;
    res.collect_between(NAME, 0, 1)
}

// ------------------------------------------------------------------------------------------
// Page mapping (sel4bench's page_mapping benchmark, one page)

/// Where the page-mapping benchmark maps its frame in the root task's VSpace (sel4bench's
/// `START_ADDR` on RISC-V).
const MAP_VADDR: Word = 0x6000_0000;

/// `seL4_RISCV_Page_Map` / `seL4_ARM_Page_Map(frame, VSPACE, MAP_VADDR, rights, default
/// attributes)`.
fn page_map_regs(frame: CPtr, rights: CapRights) -> raw::Regs {
    sys::seL4_SetCap(0, init::VSPACE.bits());
    [
        frame,
        MessageInfo::new(method::PAGE_MAP as Word, 0, 1, 3).0,
        MAP_VADDR,
        rights.0,
        libsel4::vm_attributes::DEFAULT,
        0,
    ]
}

/// sel4bench's page-mapping phases for one 4 KiB page, each one `seL4_Call` of the root
/// thread: `page_map` (Page_Map, all rights, of an unmapped frame where the page tables
/// exist), `page_protect` (Page_Map again, read only: a remap), `page_unprotect` (back to all
/// rights), and `page_unmap` (Page_Unmap), in that order every iteration.
fn page_mapping(env: &mut Env, res: &mut Results) -> R<()> {
    let frame = env.new_object(ObjectType::SmallPage, 0)?;
    env.map_page(
        init::VSPACE.bits(),
        frame,
        MAP_VADDR,
        CapRights::ALL,
        libsel4::vm_attributes::DEFAULT,
    )?;
    ok(Granule::from_bits(frame).unmap(), "Page_Unmap")?;
    let mut t = [[(0u64, 0u64); ITERATIONS]; 3];
    local(res, "page_map", |i| {
        let mut r = page_map_regs(frame, CapRights::ALL);
        let map = raw::timed(raw::CALL, &mut r);
        invocation_ok(&r, "Page_Map")?;
        let mut r = page_map_regs(frame, CapRights::READ);
        t[0][i] = raw::timed(raw::CALL, &mut r);
        invocation_ok(&r, "Page_Map (read only)")?;
        let mut r = page_map_regs(frame, CapRights::ALL);
        t[1][i] = raw::timed(raw::CALL, &mut r);
        invocation_ok(&r, "Page_Map (all rights)")?;
        let mut r = [
            frame,
            MessageInfo::new(method::PAGE_UNMAP as Word, 0, 0, 0).0,
            0,
            0,
            0,
            0,
        ];
        t[2][i] = raw::timed(raw::CALL, &mut r);
        invocation_ok(&r, "Page_Unmap")?;
        Ok(map)
    })?;
    let o = res.overhead;
    for (k, name) in ["page_protect", "page_unprotect", "page_unmap"]
        .into_iter()
        .enumerate()
    {
        res.collect(name, |i| window(t[k][i].0, t[k][i].1, o))?;
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Untyped reset, process creation and teardown

/// log2 of the untyped the reset benchmark clears (sel4bench's page-mapping untyped).
const RESET_BITS: Word = 24;
/// Iterations of the reset benchmark (each clears 16 MiB): one warm-up, then the samples.
const RESET_SAMPLES: usize = if cfg!(feature = "quick") { 4 } else { 16 };

/// `Untyped_Retype` of one object of `ty` (`size_bits`) from `ut` into root CNode slot `dest`.
fn retype_into(ut: CPtr, ty: ObjectType, size_bits: Word, dest: CPtr, n: Word) -> R<()> {
    ok(
        sys::seL4_Untyped_Retype(ut, ty as Word, size_bits, init::CNODE.bits(), 0, 0, dest, n),
        "Untyped_Retype",
    )
}

/// `untyped_retype_reset_16m`: one `Untyped_Retype` of a 4 KiB frame from a 16 MiB untyped
/// without children whose memory was all used before: the kernel first resets the untyped,
/// zeroing all 16 MiB in chunks with preemption points (what dominates sel4bench's "Prepare
/// Page Tables" phase). Each iteration first uses the whole untyped again (one untyped child
/// as large as it, deleted at once).
fn untyped_reset(env: &mut Env, res: &mut Results) -> R<()> {
    let ut = env.new_object(ObjectType::Untyped, RESET_BITS)?;
    let child = env.slot()?;
    let frame = env.slot()?;
    let mut t = [(0u64, 0u64); RESET_SAMPLES + 1];
    for x in t.iter_mut() {
        retype_into(ut, ObjectType::Untyped, RESET_BITS, child, 1)?;
        env.delete(child)?;
        let mut r = retype_regs(ut, ObjectType::SmallPage, frame, 1);
        *x = raw::timed(raw::CALL, &mut r);
        invocation_ok(&r, "Untyped_Retype")?;
        env.delete(frame)?;
    }
    let o = res.overhead;
    res.collect_n("untyped_retype_reset_16m", 1, RESET_SAMPLES, |i| {
        window(t[i].0, t[i].1, o)
    })
}

/// Radix of the process's CNode.
const PROC_CNODE_BITS: Word = 10;
/// Frames the process gets.
const PROC_FRAMES: Word = 8;
/// Where its frames are mapped.
const PROC_VADDR: Word = 0x40_0000;

/// Page tables below a process's VSpace root that map its frames: one per level below the
/// root (2 on riscv64, 3 on aarch64).
const PROC_TABLES: Word = abi::arch::current::PT_LEVELS as Word - 1;

/// Make a process from the untyped `ut` (no children) into the root CNode slots from `base`:
/// a CNode of 2^10 slots, a TCB, a VSpace (a VSpace root given an ASID by the initial ASID
/// pool) with a page table per level below it ([`PROC_TABLES`]) and 8 frames mapped, caps to the TCB, the VSpace, the CNode
/// and every frame copied into the CNode (as a process loader leaves them), and the TCB
/// configured with the CSpace, the VSpace and the first frame as its IPC buffer.
fn make_process(ut: CPtr, base: CPtr, fault_ep: CPtr) -> R<()> {
    let (cnode, tcb, vspace, pts) = (base, base + 1, base + 2, base + 3);
    let frames = pts + PROC_TABLES;
    retype_into(ut, ObjectType::CapTable, PROC_CNODE_BITS, cnode, 1)?;
    retype_into(ut, ObjectType::Tcb, 0, tcb, 1)?;
    // riscv64: the VSpace root is a page table too, so one retype makes them all.
    #[cfg(target_arch = "riscv64")]
    retype_into(ut, ObjectType::PageTable, 0, vspace, 1 + PROC_TABLES)?;
    #[cfg(target_arch = "aarch64")]
    {
        retype_into(ut, ObjectType::VSpace, 0, vspace, 1)?;
        retype_into(ut, ObjectType::PageTable, 0, pts, PROC_TABLES)?;
    }
    ok(
        init::ASID_POOL.assign(Cap::from_bits(vspace)),
        "ASIDPool_Assign",
    )?;
    for pt in pts..pts + PROC_TABLES {
        ok(
            PageTable::from_bits(pt).map(Cap::from_bits(vspace), PROC_VADDR, 0),
            "PageTable_Map",
        )?;
    }
    retype_into(ut, ObjectType::SmallPage, 0, frames, PROC_FRAMES)?;
    for k in 0..PROC_FRAMES {
        ok(
            Granule::from_bits(frames + k).map(
                Cap::from_bits(vspace),
                PROC_VADDR + k * 4096,
                CapRights::ALL,
                libsel4::vm_attributes::DEFAULT,
            ),
            "Page_Map",
        )?;
    }
    let copies = [tcb, vspace, cnode]
        .into_iter()
        .chain(frames..frames + PROC_FRAMES);
    for (k, src) in copies.enumerate() {
        ok(
            sys::seL4_CNode_Copy(
                cnode,
                k as Word + 1,
                PROC_CNODE_BITS as u8,
                init::CNODE.bits(),
                src,
                64,
                CapRights::ALL,
            ),
            "CNode_Copy",
        )?;
    }
    #[cfg(not(feature = "mcs"))]
    let r = sys::seL4_TCB_Configure(tcb, fault_ep, cnode, 0, vspace, 0, PROC_VADDR, frames);
    #[cfg(feature = "mcs")]
    let r = {
        let _ = fault_ep;
        sys::seL4_TCB_Configure(tcb, cnode, 0, vspace, 0, PROC_VADDR, frames)
    };
    ok(r, "TCB_Configure")
}

/// `process_create` and `process_teardown`: the instructions (kernel and the root task's few
/// between its system calls) of [`make_process`], and of the `CNode_Revoke` of its untyped that
/// deletes it all again (the CNode with the caps in it, the TCB, the VSpace with its ASID, page
/// tables and mappings, the frames). Every creation after the first also resets the untyped
/// (zeroes the memory the previous process used).
fn process_cycle(env: &mut Env, res: &mut Results) -> R<()> {
    let ut = env.new_object(ObjectType::Untyped, 20)?;
    let base = env.slots(3 + PROC_TABLES + PROC_FRAMES)?;
    let fault_ep = env.report;
    let mut t = [(0u64, 0u64); ITERATIONS];
    local(res, "process_create", |i| {
        let t0 = raw::now();
        make_process(ut, base, fault_ep)?;
        let t1 = raw::now();
        let r = sys::seL4_CNode_Revoke(init::CNODE.bits(), ut, 64);
        let t2 = raw::now();
        ok(r, "CNode_Revoke")?;
        t[i] = (t1, t2);
        Ok((t0, t1))
    })?;
    let o = res.overhead;
    res.collect("process_teardown", |i| window(t[i].0, t[i].1, o))
}

// ------------------------------------------------------------------------------------------
// ASID pools

/// `asid_control_make_pool`, `asid_pool_assign`, `asid_pool_delete`, one `seL4_Call` each,
/// every iteration: `ASIDControl_MakePool` of a 4 KiB untyped without children (it zeroes the
/// pool and takes a free entry of the ASID table), `ASIDPool_Assign` of a fresh page table
/// (the pool's first free ASID; the kernel's mappings copied in), and `CNode_Delete` of the
/// pool's only cap (the pool leaves the ASID table), with the page table deleted in between.
fn asid_pool_cycle(env: &mut Env, res: &mut Results) -> R<()> {
    let ut = env.new_object(ObjectType::Untyped, abi::object::ASID_POOL_BITS)?;
    let pool = env.slot()?;
    let pt = env.slot()?;
    let pt_ut = pinned_untyped(env)?;
    let root = init::CNODE.bits();
    let mut t = [[(0u64, 0u64); ITERATIONS]; 2];
    local(res, "asid_control_make_pool", |i| {
        sys::seL4_SetCap(0, ut);
        sys::seL4_SetCap(1, root);
        let mut r = [
            init::ASID_CONTROL.bits(),
            MessageInfo::new(method::ASID_CONTROL_MAKE_POOL as Word, 0, 2, 2).0,
            pool,
            64,
            0,
            0,
        ];
        let make = raw::timed(raw::CALL, &mut r);
        invocation_ok(&r, "ASIDControl_MakePool")?;
        retype_into(pt_ut, crate::env::VSPACE_OBJECT, 0, pt, 1)?;
        sys::seL4_SetCap(0, pt);
        let mut r = [
            pool,
            MessageInfo::new(method::ASID_POOL_ASSIGN as Word, 0, 1, 0).0,
            0,
            0,
            0,
            0,
        ];
        t[0][i] = raw::timed(raw::CALL, &mut r);
        invocation_ok(&r, "ASIDPool_Assign")?;
        env.delete(pt)?;
        let mut r = [
            root,
            MessageInfo::new(InvocationLabel::CNodeDelete as Word, 0, 0, 2).0,
            pool,
            64,
            0,
            0,
        ];
        t[1][i] = raw::timed(raw::CALL, &mut r);
        invocation_ok(&r, "CNode_Delete")?;
        Ok(make)
    })?;
    let o = res.overhead;
    res.collect("asid_pool_assign", |i| window(t[0][i].0, t[0][i].1, o))?;
    res.collect("asid_pool_delete", |i| window(t[1][i].0, t[1][i].1, o))
}
