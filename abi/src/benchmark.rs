//! `libsel4/include/sel4/benchmark_utilisation_types.h` (`CONFIG_BENCHMARK_TRACK_UTILISATION`):
//! where `seL4_BenchmarkGetThreadUtilisation` puts its words in the caller's IPC buffer, as
//! indices into the message words (`seL4_IPCBuffer.msg`, 64-bit each).

/// Cycles the thread (the TCB cap passed) spent scheduled.
pub const BENCHMARK_TCB_UTILISATION: usize = 0;
/// Times the thread was scheduled.
pub const BENCHMARK_TCB_NUMBER_SCHEDULES: usize = 1;
/// Cycles the thread spent in the kernel.
pub const BENCHMARK_TCB_KERNEL_UTILISATION: usize = 2;
/// Times the thread entered the kernel.
pub const BENCHMARK_TCB_NUMBER_KERNEL_ENTRIES: usize = 3;
/// Cycles the idle thread of the current core spent scheduled.
pub const BENCHMARK_IDLE_LOCALCPU_UTILISATION: usize = 4;
/// Cycles the idle thread of the thread's core spent scheduled (single core: the same).
pub const BENCHMARK_IDLE_TCBCPU_UTILISATION: usize = 5;
/// Times the idle thread was scheduled.
pub const BENCHMARK_IDLE_NUMBER_SCHEDULES: usize = 6;
/// Cycles the idle thread spent in the kernel.
pub const BENCHMARK_IDLE_KERNEL_UTILISATION: usize = 7;
/// Times the kernel was entered from the idle thread.
pub const BENCHMARK_IDLE_NUMBER_KERNEL_ENTRIES: usize = 8;
/// Cycles of the period (from `seL4_BenchmarkResetLog` to `seL4_BenchmarkFinalizeLog`).
pub const BENCHMARK_TOTAL_UTILISATION: usize = 9;
/// Times the core switched threads in the period.
pub const BENCHMARK_TOTAL_NUMBER_SCHEDULES: usize = 10;
/// Cycles the core spent in the kernel in the period.
pub const BENCHMARK_TOTAL_KERNEL_UTILISATION: usize = 11;
/// Kernel entries on the core in the period.
pub const BENCHMARK_TOTAL_NUMBER_KERNEL_ENTRIES: usize = 12;
/// How many words `seL4_BenchmarkGetThreadUtilisation` writes.
pub const BENCHMARK_UTILISATION_WORDS: usize = 13;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_match_benchmark_utilisation_types_h() {
        // The enum benchmark_track_util_ipc_index of seL4 16.0.0, in order.
        let want = [
            BENCHMARK_TCB_UTILISATION,
            BENCHMARK_TCB_NUMBER_SCHEDULES,
            BENCHMARK_TCB_KERNEL_UTILISATION,
            BENCHMARK_TCB_NUMBER_KERNEL_ENTRIES,
            BENCHMARK_IDLE_LOCALCPU_UTILISATION,
            BENCHMARK_IDLE_TCBCPU_UTILISATION,
            BENCHMARK_IDLE_NUMBER_SCHEDULES,
            BENCHMARK_IDLE_KERNEL_UTILISATION,
            BENCHMARK_IDLE_NUMBER_KERNEL_ENTRIES,
            BENCHMARK_TOTAL_UTILISATION,
            BENCHMARK_TOTAL_NUMBER_SCHEDULES,
            BENCHMARK_TOTAL_KERNEL_UTILISATION,
            BENCHMARK_TOTAL_NUMBER_KERNEL_ENTRIES,
        ];
        for (i, w) in want.iter().enumerate() {
            assert_eq!(*w, i);
        }
        assert_eq!(BENCHMARK_UTILISATION_WORDS, want.len());
        const { assert!(BENCHMARK_UTILISATION_WORDS <= crate::message::MSG_MAX_LENGTH) };
    }
}
