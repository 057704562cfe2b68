//! The utilisation syscalls (`track_utilisation`) driven as the root task would: their
//! results in the IPC buffer, the accounting at entry, exit and switch, and the resets.

use crate::arch::riscv64::context::reg;
use crate::benchmark::BenchUtil;
use crate::object::tcb::TcbRef;
use crate::testing::System;
use abi::benchmark::*;
use abi::bootinfo::slot;
use abi::syscall::*;
use abi::{MessageInfo, Syscall};

/// Benchmark syscall `number` with cap register `a0` as the current thread; returns its a0.
fn bench(s: &mut System, number: i64, a0: u64) -> u64 {
    let t = s.k.cur_thread;
    t.set_reg(reg::A0, a0);
    t.set_reg(reg::A7, number as u64);
    let pc = t.reg(reg::PC);
    crate::entry::handle_trap(&mut s.k, crate::entry::Event::Syscall);
    let _ = crate::entry::activate(&mut s.k);
    assert_eq!(t.reg(reg::PC), pc + 4, "returns past the ecall");
    t.reg(reg::A0)
}

/// `seL4_BenchmarkGetThreadUtilisation(tcb)` as the current thread: the words it wrote.
fn get(s: &mut System, tcb: u64) -> [u64; BENCHMARK_UTILISATION_WORDS] {
    let me = s.k.cur_thread;
    bench(s, BENCHMARK_GET_THREAD_UTILISATION, tcb);
    let b = crate::state::ipc_buffer_pptr(me, true).expect("an IPC buffer");
    core::array::from_fn(|i| b.word(abi::ipc_buffer::offset::MSG + 8 * i))
}

fn tcb_words(w: &[u64]) -> [u64; 4] {
    [
        w[BENCHMARK_TCB_UTILISATION],
        w[BENCHMARK_TCB_NUMBER_SCHEDULES],
        w[BENCHMARK_TCB_KERNEL_UTILISATION],
        w[BENCHMARK_TCB_NUMBER_KERNEL_ENTRIES],
    ]
}

fn total_words(w: &[u64]) -> [u64; 4] {
    [
        w[BENCHMARK_TOTAL_UTILISATION],
        w[BENCHMARK_TOTAL_NUMBER_SCHEDULES],
        w[BENCHMARK_TOTAL_KERNEL_UTILISATION],
        w[BENCHMARK_TOTAL_NUMBER_KERNEL_ENTRIES],
    ]
}

#[test]
fn nothing_is_counted_before_reset_log() {
    let mut s = System::boot();
    crate::arch::advance_cycles(1000);
    let w = get(&mut s, slot::INIT_THREAD_TCB);
    assert_eq!(w, [0; BENCHMARK_UTILISATION_WORDS]);
}

#[test]
fn a_period_of_the_root_thread() {
    let mut s = System::boot();
    // The host counter advances by one per read: an entry-to-exit is one cycle.
    assert_eq!(
        bench(&mut s, BENCHMARK_RESET_LOG, 77),
        abi::Error::NoError as u64
    );
    crate::arch::advance_cycles(100);
    let w = get(&mut s, slot::INIT_THREAD_TCB);
    // The root thread is scheduled from ResetLog on; its time is charged at a switch or at
    // FinalizeLog. One kernel exit (ResetLog's) was counted before Get wrote.
    assert_eq!(tcb_words(&w), [0, 1, 1, 1]);
    assert_eq!(total_words(&w), [0, 1, 1, 1]);
    crate::arch::advance_cycles(50);
    bench(&mut s, BENCHMARK_FINALIZE_LOG, 0);
    crate::arch::advance_cycles(1000);
    let w = get(&mut s, slot::INIT_THREAD_TCB);
    // ResetLog entered at c, left at c+1; Get entered at c+102, left at c+103; FinalizeLog
    // entered at c+154: the period is 154 cycles, all the root thread's; the exit of
    // FinalizeLog and everything after is outside it.
    assert_eq!(tcb_words(&w), [154, 1, 2, 2]);
    assert_eq!(total_words(&w), [154, 2, 2, 2]);
    // FinalizeLog "switches" to the idle thread.
    assert_eq!(
        [
            w[BENCHMARK_IDLE_LOCALCPU_UTILISATION],
            w[BENCHMARK_IDLE_TCBCPU_UTILISATION],
            w[BENCHMARK_IDLE_NUMBER_SCHEDULES],
            w[BENCHMARK_IDLE_KERNEL_UTILISATION],
            w[BENCHMARK_IDLE_NUMBER_KERNEL_ENTRIES]
        ],
        [0, 0, 1, 0, 0]
    );
    // The same again, nothing counted after the period.
    assert_eq!(get(&mut s, slot::INIT_THREAD_TCB), w);

    // A new period starts the core's and the idle thread's counters again, not the thread's.
    bench(&mut s, BENCHMARK_RESET_LOG, 0);
    let w = get(&mut s, slot::INIT_THREAD_TCB);
    assert_eq!(tcb_words(&w), [154, 2, 3, 3]);
    assert_eq!(total_words(&w)[1..], [1, 1, 1]);
    assert_eq!(w[BENCHMARK_IDLE_NUMBER_SCHEDULES], 0);
}

#[test]
fn reset_thread_utilisation() {
    let mut s = System::boot();
    bench(&mut s, BENCHMARK_RESET_LOG, 0);
    crate::arch::advance_cycles(10);
    bench(&mut s, BENCHMARK_FINALIZE_LOG, 0);
    let before = get(&mut s, slot::INIT_THREAD_TCB);
    assert_eq!(tcb_words(&before)[..2], [12, 1]);
    // Not a TCB cap: nothing happens (seL4 prints a userError line and returns).
    bench(
        &mut s,
        BENCHMARK_RESET_THREAD_UTILISATION,
        slot::INIT_THREAD_CNODE,
    );
    bench(&mut s, BENCHMARK_RESET_THREAD_UTILISATION, 4000);
    assert_eq!(get(&mut s, slot::INIT_THREAD_TCB), before);
    bench(
        &mut s,
        BENCHMARK_RESET_THREAD_UTILISATION,
        slot::INIT_THREAD_TCB,
    );
    let w = get(&mut s, slot::INIT_THREAD_TCB);
    assert_eq!(tcb_words(&w), [0; 4]);
    assert_eq!(
        total_words(&w),
        total_words(&before),
        "the core's counters stay"
    );
    assert_eq!(
        crate::benchmark::util_of(&mut s.k, s.root),
        BenchUtil::ZERO,
        "schedule_start_time too"
    );
}

#[test]
fn get_of_a_cap_that_is_no_tcb_writes_nothing() {
    let mut s = System::boot();
    let b = crate::state::ipc_buffer_pptr(s.root, true).unwrap();
    for i in 0..BENCHMARK_UTILISATION_WORDS {
        b.set_word(abi::ipc_buffer::offset::MSG + 8 * i, 0xdead);
    }
    bench(&mut s, BENCHMARK_RESET_LOG, 0);
    let w = get(&mut s, slot::INIT_THREAD_CNODE);
    assert_eq!(w, [0xdead; BENCHMARK_UTILISATION_WORDS]);
}

#[test]
fn switches_charge_the_thread_that_ran() {
    let mut s = System::boot();
    let prio = s.root.with(|x| x.priority);
    let e = s.bootinfo().empty.start;
    let t: TcbRef = s.spawn(prio, e);
    bench(&mut s, BENCHMARK_RESET_LOG, 0);
    // The root thread yields to `t`, which runs 500 cycles and yields back.
    let info = MessageInfo::new(0, 0, 0, 0);
    s.syscall(Syscall::Yield, 0, info, &[], &[]);
    assert_eq!(s.k.cur_thread, t, "t runs");
    crate::arch::advance_cycles(500);
    s.sys(Syscall::Yield, 0, info, &[], &[]);
    if s.k.cur_thread != s.root {
        // MCS: t gave up its budget; the root thread runs when the scheduler picks it.
        s.run_as(s.root);
    }
    bench(&mut s, BENCHMARK_FINALIZE_LOG, 0);
    let wt = get(&mut s, e);
    let wr = get(&mut s, slot::INIT_THREAD_TCB);
    let ut = crate::benchmark::util_of(&mut s.k, t);
    let ur = crate::benchmark::util_of(&mut s.k, s.root);
    assert_eq!(
        tcb_words(&wt),
        [
            ut.utilisation,
            ut.number_schedules,
            ut.kernel_utilisation,
            ut.number_kernel_entries
        ]
    );
    assert_eq!(ut.number_schedules, 1);
    // t was scheduled from the root thread's Yield entry (counter c) to its own Yield entry:
    // two reads (c, c+1) plus its 500 user cycles.
    assert_eq!(ut.utilisation, 502);
    // t left the kernel once (after the root thread's Yield): one cycle of kernel time.
    assert_eq!((ut.kernel_utilisation, ut.number_kernel_entries), (1, 1));
    // At ResetLog, when t yielded back, and once more: the `restart` of t left a switch
    // pending that ResetLog's exit carried out, choosing the root thread again (seL4's
    // `chooseThread` switches even to the current thread, and that counts).
    assert_eq!(ur.number_schedules, 3);
    let total = total_words(&wr);
    // FinalizeLog's switch to the idle thread counts too.
    assert_eq!(wr[BENCHMARK_IDLE_NUMBER_SCHEDULES], 1);
    assert_eq!(total[1], ur.number_schedules + ut.number_schedules + 1);
    assert_eq!(total[0], ur.utilisation + ut.utilisation);
    assert_eq!(
        total[3],
        ur.number_kernel_entries + ut.number_kernel_entries
    );
}

#[cfg(feature = "debug_build")]
#[test]
fn dump_and_reset_all_threads() {
    let mut s = System::boot();
    bench(&mut s, BENCHMARK_RESET_LOG, 0);
    crate::arch::advance_cycles(10);
    bench(&mut s, BENCHMARK_FINALIZE_LOG, 0);
    let from = crate::arch::host::console_len();
    bench(&mut s, BENCHMARK_DUMP_ALL_THREADS_UTILISATION, 0);
    let out = String::from_utf8(crate::arch::host::console_since(from)).unwrap();
    let want = "{\n  \"BENCHMARK_TOTAL_UTILISATION\":12,\n  \"BENCHMARK_TOTAL_KERNEL_UTILISATION\":1,\n  \"BENCHMARK_TOTAL_NUMBER_KERNEL_ENTRIES\":1,\n  \"BENCHMARK_TOTAL_NUMBER_SCHEDULES\":2,\n  \"BENCHMARK_TCB_\": [\n    {\n      \"NAME\":\"idle_thread\",\n      \"UTILISATION\":0,\n      \"NUMBER_SCHEDULES\":1,\n      \"KERNEL_UTILISATION\":0,\n      \"NUMBER_KERNEL_ENTRIES\":0\n    },\n    {\n      \"NAME\":\"rootserver\",\n      \"UTILISATION\":12,\n      \"NUMBER_SCHEDULES\":1,\n      \"KERNEL_UTILISATION\":1,\n      \"NUMBER_KERNEL_ENTRIES\":1\n    }\n  ]\n}\n";
    assert_eq!(out, want);
    bench(&mut s, BENCHMARK_RESET_ALL_THREADS_UTILISATION, 0);
    assert_eq!(crate::benchmark::util_of(&mut s.k, s.root), BenchUtil::ZERO);
    assert_eq!(s.k.util.idle, BenchUtil::ZERO);
    // The core's counters stay.
    assert_eq!(s.k.util.kernel_number_schedules, 2);
}

#[cfg(not(feature = "debug_build"))]
#[test]
fn dump_and_reset_all_need_a_debug_build() {
    for n in [
        BENCHMARK_DUMP_ALL_THREADS_UTILISATION,
        BENCHMARK_RESET_ALL_THREADS_UTILISATION,
    ] {
        let mut s = System::boot();
        s.root.set_reg(reg::A7, n as u64);
        crate::entry::handle_trap(&mut s.k, crate::entry::Event::Syscall);
        // An unknown-syscall fault, and the root task has no fault handler.
        assert_eq!(s.root.state(), crate::object::tcb::ThreadState::Inactive);
    }
}
