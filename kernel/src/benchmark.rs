//! Utilisation accounting (seL4's `CONFIG_BENCHMARK_TRACK_UTILISATION`, the kernel's
//! `track_utilisation` feature; seL4 `src/benchmark/benchmark_utilisation.c`,
//! `include/benchmark/benchmark_utilisation.h`, the utilisation parts of
//! `src/benchmark/benchmark.c` and of `c_entry_hook`/`c_exit_hook` in `include/kernel/traps.h`).
//!
//! Time is the architecture's cycle counter ([`crate::arch::timestamp`]; riscv64: `rdcycle`,
//! which counts instructions under QEMU's `-icount`). Every kernel entry reads it
//! ([`entry_hook`], seL4's `ksEnter`); while a period is open (from `seL4_BenchmarkResetLog`
//! to `seL4_BenchmarkFinalizeLog`) every exit charges the time since to the thread returned to
//! and to the core ([`exit_hook`]), and every thread switch charges the time the old thread was
//! scheduled ([`switch`], `benchmark_utilisation_switch`). MCS and non-MCS alike: seL4 16.0.0
//! accounts the same way in both.
//!
//! The idle thread has no TCB in memory here, so its counters live in [`UtilState::idle`].
#![forbid(unsafe_code)]

use crate::arch::regs;
use crate::cap::Cap;
use crate::cspace::lookup_cap_and_slot;
use crate::object::tcb::{tcb_slot, TcbRef};
use crate::sched::is_idle;
use crate::state::Kernel;
use abi::benchmark::*;

/// `benchmark_util_t`: a thread's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct BenchUtil {
    /// When the thread was last scheduled (cycles).
    pub schedule_start_time: u64,
    /// Cycles the thread was scheduled.
    pub utilisation: u64,
    /// Times it was scheduled.
    pub number_schedules: u64,
    /// Cycles it spent in the kernel.
    pub kernel_utilisation: u64,
    /// Times it entered the kernel.
    pub number_kernel_entries: u64,
}

impl BenchUtil {
    /// All zero.
    pub const ZERO: BenchUtil = BenchUtil {
        schedule_start_time: 0,
        utilisation: 0,
        number_schedules: 0,
        kernel_utilisation: 0,
        number_kernel_entries: 0,
    };
}

/// The core's accounting state (seL4's `ksEnter` and `benchmark_*` node state).
#[derive(Clone, Copy, Debug)]
pub struct UtilState {
    /// `ksEnter`: the cycle counter at the last kernel entry.
    pub enter: u64,
    /// `benchmark_log_utilisation_enabled`: a period is open.
    pub enabled: bool,
    /// `benchmark_start_time`.
    pub start_time: u64,
    /// `benchmark_end_time`.
    pub end_time: u64,
    /// `benchmark_kernel_time`.
    pub kernel_time: u64,
    /// `benchmark_kernel_number_entries`.
    pub kernel_number_entries: u64,
    /// `benchmark_kernel_number_schedules`.
    pub kernel_number_schedules: u64,
    /// The idle thread's `tcb->benchmark`.
    pub idle: BenchUtil,
}

impl UtilState {
    /// At boot: no period open.
    pub const fn new() -> UtilState {
        UtilState {
            enter: 0,
            enabled: false,
            start_time: 0,
            end_time: 0,
            kernel_time: 0,
            kernel_number_entries: 0,
            kernel_number_schedules: 0,
            idle: BenchUtil::ZERO,
        }
    }
}

impl Default for UtilState {
    fn default() -> Self {
        UtilState::new()
    }
}

/// The counters of `t` (the null TCB: the idle thread's).
fn with_util<R>(k: &mut Kernel, t: TcbRef, f: impl FnOnce(&mut BenchUtil) -> R) -> R {
    if is_idle(t) {
        f(&mut k.util.idle)
    } else {
        t.with(|x| f(&mut x.benchmark))
    }
}

/// The counters of `t`.
pub fn util_of(k: &mut Kernel, t: TcbRef) -> BenchUtil {
    with_util(k, t, |u| *u)
}

/// `c_entry_hook`: remember when the kernel was entered.
#[inline(always)]
pub fn entry_hook(k: &mut Kernel) {
    k.util.enter = crate::arch::timestamp();
}

/// `c_exit_hook`: in a period, the time since [`entry_hook`] is kernel time of the thread
/// returned to and of the core.
#[inline(always)]
pub fn exit_hook(k: &mut Kernel) {
    if k.util.enabled {
        let d = crate::arch::timestamp().wrapping_sub(k.util.enter);
        with_util(k, k.cur_thread, |u| {
            u.number_kernel_entries += 1;
            u.kernel_utilisation += d;
        });
        k.util.kernel_number_entries += 1;
        k.util.kernel_time += d;
    }
}

/// `benchmark_utilisation_switch(heir, next)`: in a period, `heir` (the thread running until
/// now) is charged the time from when it was scheduled to this kernel entry; `next` starts its
/// time now.
#[inline(always)]
pub fn switch(k: &mut Kernel, heir: TcbRef, next: TcbRef) {
    if k.util.enabled {
        let enter = k.util.enter;
        with_util(k, heir, |u| {
            // The 64-bit counter does not wrap; seL4 charges nothing if it seems to have.
            if enter > u.schedule_start_time {
                u.utilisation += enter - u.schedule_start_time;
            }
        });
        with_util(k, next, |u| {
            u.schedule_start_time = enter;
            u.number_schedules += 1;
        });
        k.util.kernel_number_schedules += 1;
    }
}

/// `benchmark_track_reset_utilisation`.
fn reset(k: &mut Kernel, t: TcbRef) {
    with_util(k, t, |u| *u = BenchUtil::ZERO);
}

/// The utilisation syscalls, by number (`handleUnknownSyscall`): returns false if `number`
/// is none of them (then it is an unknown syscall).
#[inline(never)]
pub fn handle_syscall(k: &mut Kernel, number: u64) -> bool {
    match number as i64 {
        abi::syscall::BENCHMARK_RESET_LOG => reset_log(k),
        abi::syscall::BENCHMARK_FINALIZE_LOG => finalize_log(k),
        abi::syscall::BENCHMARK_GET_THREAD_UTILISATION => get_thread_utilisation(k),
        abi::syscall::BENCHMARK_RESET_THREAD_UTILISATION => {
            if let Some(t) = thread_arg(k, "SysBenchmarkResetThreadUtilisation") {
                reset(k, t);
            }
        }
        #[cfg(feature = "debug_build")]
        abi::syscall::BENCHMARK_DUMP_ALL_THREADS_UTILISATION => dump_all(k),
        #[cfg(feature = "debug_build")]
        abi::syscall::BENCHMARK_RESET_ALL_THREADS_UTILISATION => reset_all(k),
        _ => return false,
    }
    true
}

/// `handle_SysBenchmarkResetLog` (utilisation part): opens a period now; the idle thread's
/// counters start again, the current thread is scheduled from now. Returns `seL4_NoError` in
/// the cap register.
fn reset_log(k: &mut Kernel) {
    let enter = k.util.enter;
    k.util.enabled = true;
    k.util.idle = BenchUtil::ZERO;
    with_util(k, k.cur_thread, |u| {
        u.schedule_start_time = enter;
        u.number_schedules += 1;
    });
    k.util.start_time = enter;
    k.util.kernel_time = 0;
    k.util.kernel_number_entries = 0;
    k.util.kernel_number_schedules = 1;
    k.cur_thread.set_reg(regs::CAP, abi::Error::NoError as u64);
}

/// `handle_SysBenchmarkFinalizeLog` (`benchmark_utilisation_finalise`): the current thread is
/// charged up to now and the period ends.
fn finalize_log(k: &mut Kernel) {
    switch(k, k.cur_thread, TcbRef::NULL);
    k.util.end_time = k.util.enter;
    k.util.enabled = false;
}

/// The TCB named by the caller's cap register (`lookupCap`), or `None` after a `userError`
/// line if it is not a TCB cap.
fn thread_arg(k: &Kernel, what: &str) -> Option<TcbRef> {
    let t = k.cur_thread;
    let cptr = t.reg(regs::CAP);
    match lookup_cap_and_slot(t.slot(tcb_slot::CTABLE).raw(), cptr) {
        Ok((Cap::Thread { tcb }, _)) => Some(tcb),
        _ => {
            crate::user_error!("{what}: cap is not a TCB, halting");
            let _ = what;
            None
        }
    }
}

/// `benchmark_track_utilisation_dump`: the thread's, the idle thread's and the core's counters
/// into the caller's IPC buffer, at the indices of `abi::benchmark`.
fn get_thread_utilisation(k: &mut Kernel) {
    let Some(t) = thread_arg(k, "SysBenchmarkFinalizeLog") else {
        return;
    };
    let Some(buffer) = crate::state::ipc_buffer_pptr(k.cur_thread, true) else {
        return;
    };
    let tu = util_of(k, t);
    let idle = k.util.idle;
    let u = &k.util;
    let mut w = [0u64; BENCHMARK_UTILISATION_WORDS];
    w[BENCHMARK_TCB_UTILISATION] = tu.utilisation;
    w[BENCHMARK_TCB_NUMBER_SCHEDULES] = tu.number_schedules;
    w[BENCHMARK_TCB_KERNEL_UTILISATION] = tu.kernel_utilisation;
    w[BENCHMARK_TCB_NUMBER_KERNEL_ENTRIES] = tu.number_kernel_entries;
    w[BENCHMARK_IDLE_LOCALCPU_UTILISATION] = idle.utilisation;
    w[BENCHMARK_IDLE_TCBCPU_UTILISATION] = idle.utilisation;
    w[BENCHMARK_IDLE_NUMBER_SCHEDULES] = idle.number_schedules;
    w[BENCHMARK_IDLE_KERNEL_UTILISATION] = idle.kernel_utilisation;
    w[BENCHMARK_IDLE_NUMBER_KERNEL_ENTRIES] = idle.number_kernel_entries;
    w[BENCHMARK_TOTAL_UTILISATION] = u.end_time.wrapping_sub(u.start_time);
    w[BENCHMARK_TOTAL_NUMBER_SCHEDULES] = u.kernel_number_schedules;
    w[BENCHMARK_TOTAL_KERNEL_UTILISATION] = u.kernel_time;
    w[BENCHMARK_TOTAL_NUMBER_KERNEL_ENTRIES] = u.kernel_number_entries;
    for (i, v) in w.into_iter().enumerate() {
        buffer.set_word(abi::ipc_buffer::offset::MSG + 8 * i, v);
    }
}

/// `handle_SysBenchmarkDumpAllThreadsUtilisation` (debug build): the core's and every
/// thread's counters (seL4's list of all TCBs, the idle thread among them) as JSON on the
/// console, in seL4's format.
#[cfg(feature = "debug_build")]
fn dump_all(k: &mut Kernel) {
    use crate::debug::tcbs::{self, Entry, IDLE_NAME, WALK_LIMIT};
    use crate::debug::Name;
    let u = k.util;
    crate::kprint!("{{\n");
    crate::kprint!(
        "  \"BENCHMARK_TOTAL_UTILISATION\":{},\n",
        u.end_time.wrapping_sub(u.start_time)
    );
    crate::kprint!(
        "  \"BENCHMARK_TOTAL_KERNEL_UTILISATION\":{},\n",
        u.kernel_time
    );
    crate::kprint!(
        "  \"BENCHMARK_TOTAL_NUMBER_KERNEL_ENTRIES\":{},\n",
        u.kernel_number_entries
    );
    crate::kprint!(
        "  \"BENCHMARK_TOTAL_NUMBER_SCHEDULES\":{},\n",
        u.kernel_number_schedules
    );
    crate::kprint!("  \"BENCHMARK_TCB_\": [\n");
    let mut list = tcbs::iter(&k.debug, WALK_LIMIT).peekable();
    while let Some(n) = list.next() {
        let (name, len, b) = match n {
            Entry::Idle => {
                let mut p = [0u8; crate::object::tcb::TCB_NAME_LEN];
                p[..IDLE_NAME.len()].copy_from_slice(IDLE_NAME);
                (p, IDLE_NAME.len(), u.idle)
            }
            Entry::Tcb(t) => {
                let (p, len) = crate::object::tcb::thread_name(t);
                (p, len, t.with(|x| x.benchmark))
            }
        };
        crate::kprint!("    {{\n");
        crate::kprint!("      \"NAME\":\"{}\",\n", Name(&name[..len]));
        crate::kprint!("      \"UTILISATION\":{},\n", b.utilisation);
        crate::kprint!("      \"NUMBER_SCHEDULES\":{},\n", b.number_schedules);
        crate::kprint!("      \"KERNEL_UTILISATION\":{},\n", b.kernel_utilisation);
        crate::kprint!(
            "      \"NUMBER_KERNEL_ENTRIES\":{}\n",
            b.number_kernel_entries
        );
        crate::kprint!("    }}");
        if list.peek().is_some() {
            crate::kprint!(",\n");
        } else {
            crate::kprint!("\n");
        }
    }
    crate::kprint!("  ]\n}}\n");
}

/// `handle_SysBenchmarkResetAllThreadsUtilisation` (debug build): every thread's counters,
/// the idle thread's among them, start again (the core's do not).
#[cfg(feature = "debug_build")]
fn reset_all(k: &mut Kernel) {
    use crate::debug::tcbs::{self, Entry, WALK_LIMIT};
    let mut idle = false;
    for n in tcbs::iter(&k.debug, WALK_LIMIT) {
        match n {
            Entry::Idle => idle = true,
            Entry::Tcb(t) => t.with(|x| x.benchmark = BenchUtil::ZERO),
        }
    }
    if idle {
        k.util.idle = BenchUtil::ZERO;
    }
}
