//! Syscall numbers (`libsel4/include/api/syscall.xml`): numbered from -1 downwards in file
//! order, once for the `api-master` list (non-MCS) and once for `api-mcs`; configuration
//! guards inside a list (debug, SMP, benchmark) do not renumber.
//!
//! The debug syscalls (`seL4_DebugPutChar` .. `seL4_DebugNameThread`, seL4's
//! `CONFIG_PRINTING`/`CONFIG_DEBUG_BUILD` set) are present in every build of this kernel: the
//! root tasks it runs (seL4's test suite among them) rely on them. The SMP-only and
//! code-injection ones are not.

#[cfg(not(feature = "mcs"))]
mod numbers {
    /// A syscall number, passed in `a7` (non-MCS `api-master` list).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    #[repr(i64)]
    pub enum Syscall {
        /// `seL4_SysCall`
        Call = -1,
        /// `seL4_SysReplyRecv`
        ReplyRecv = -2,
        /// `seL4_SysSend`
        Send = -3,
        /// `seL4_SysNBSend`
        NBSend = -4,
        /// `seL4_SysRecv`
        Recv = -5,
        /// `seL4_SysReply`
        Reply = -6,
        /// `seL4_SysYield`
        Yield = -7,
        /// `seL4_SysNBRecv`
        NBRecv = -8,
        /// `seL4_SysDebugPutChar`
        DebugPutChar = -9,
        /// `seL4_SysDebugDumpScheduler`
        DebugDumpScheduler = -10,
        /// `seL4_SysDebugHalt`
        DebugHalt = -11,
        /// `seL4_SysDebugCapIdentify`
        DebugCapIdentify = -12,
        /// `seL4_SysDebugSnapshot`
        DebugSnapshot = -13,
        /// `seL4_SysDebugNameThread`
        DebugNameThread = -14,
    }

    /// Every syscall of this configuration, from -1 downwards (dense).
    #[cfg(test)]
    pub(super) const ALL: [Syscall; 14] = {
        use Syscall::*;
        [
            Call,
            ReplyRecv,
            Send,
            NBSend,
            Recv,
            Reply,
            Yield,
            NBRecv,
            DebugPutChar,
            DebugDumpScheduler,
            DebugHalt,
            DebugCapIdentify,
            DebugSnapshot,
            DebugNameThread,
        ]
    };

    /// `seL4_SysBenchmarkFlushCaches`.
    pub const BENCHMARK_FLUSH_CACHES: i64 = -18;
    /// `seL4_SysBenchmarkResetLog`.
    pub const BENCHMARK_RESET_LOG: i64 = -19;
    /// `seL4_SysBenchmarkFinalizeLog`.
    pub const BENCHMARK_FINALIZE_LOG: i64 = -20;
    /// `seL4_SysBenchmarkSetLogBuffer`.
    pub const BENCHMARK_SET_LOG_BUFFER: i64 = -21;
    /// `seL4_SysBenchmarkNullSyscall`.
    pub const BENCHMARK_NULL_SYSCALL: i64 = -22;
    /// `seL4_SysBenchmarkGetThreadUtilisation`.
    pub const BENCHMARK_GET_THREAD_UTILISATION: i64 = -23;
    /// `seL4_SysBenchmarkResetThreadUtilisation`.
    pub const BENCHMARK_RESET_THREAD_UTILISATION: i64 = -24;
    /// `seL4_SysBenchmarkDumpAllThreadsUtilisation`.
    pub const BENCHMARK_DUMP_ALL_THREADS_UTILISATION: i64 = -25;
    /// `seL4_SysBenchmarkResetAllThreadsUtilisation`.
    pub const BENCHMARK_RESET_ALL_THREADS_UTILISATION: i64 = -26;

    /// See [`Syscall::from_word`]; literal arms, so that the compiler folds this match and the
    /// caller's into one jump table.
    #[inline(always)]
    pub(super) const fn from_word(w: u64) -> Option<Syscall> {
        use Syscall::*;
        Some(match w as i64 {
            -1 => Call,
            -2 => ReplyRecv,
            -3 => Send,
            -4 => NBSend,
            -5 => Recv,
            -6 => Reply,
            -7 => Yield,
            -8 => NBRecv,
            -9 => DebugPutChar,
            -10 => DebugDumpScheduler,
            -11 => DebugHalt,
            -12 => DebugCapIdentify,
            -13 => DebugSnapshot,
            -14 => DebugNameThread,
            _ => return None,
        })
    }
}

#[cfg(feature = "mcs")]
mod numbers {
    /// A syscall number, passed in `a7` (MCS `api-mcs` list).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    #[repr(i64)]
    pub enum Syscall {
        /// `seL4_SysCall`
        Call = -1,
        /// `seL4_SysReplyRecv`
        ReplyRecv = -2,
        /// `seL4_SysNBSendRecv`
        NBSendRecv = -3,
        /// `seL4_SysNBSendWait`
        NBSendWait = -4,
        /// `seL4_SysSend`
        Send = -5,
        /// `seL4_SysNBSend`
        NBSend = -6,
        /// `seL4_SysRecv`
        Recv = -7,
        /// `seL4_SysNBRecv`
        NBRecv = -8,
        /// `seL4_SysWait`
        Wait = -9,
        /// `seL4_SysNBWait`
        NBWait = -10,
        /// `seL4_SysYield`
        Yield = -11,
        /// `seL4_SysDebugPutChar`
        DebugPutChar = -12,
        /// `seL4_SysDebugDumpScheduler`
        DebugDumpScheduler = -13,
        /// `seL4_SysDebugHalt`
        DebugHalt = -14,
        /// `seL4_SysDebugCapIdentify`
        DebugCapIdentify = -15,
        /// `seL4_SysDebugSnapshot`
        DebugSnapshot = -16,
        /// `seL4_SysDebugNameThread`
        DebugNameThread = -17,
    }

    /// Every syscall of this configuration, from -1 downwards (dense).
    #[cfg(test)]
    pub(super) const ALL: [Syscall; 17] = {
        use Syscall::*;
        [
            Call,
            ReplyRecv,
            NBSendRecv,
            NBSendWait,
            Send,
            NBSend,
            Recv,
            NBRecv,
            Wait,
            NBWait,
            Yield,
            DebugPutChar,
            DebugDumpScheduler,
            DebugHalt,
            DebugCapIdentify,
            DebugSnapshot,
            DebugNameThread,
        ]
    };

    /// `seL4_SysBenchmarkFlushCaches`.
    pub const BENCHMARK_FLUSH_CACHES: i64 = -21;
    /// `seL4_SysBenchmarkResetLog`.
    pub const BENCHMARK_RESET_LOG: i64 = -22;
    /// `seL4_SysBenchmarkFinalizeLog`.
    pub const BENCHMARK_FINALIZE_LOG: i64 = -23;
    /// `seL4_SysBenchmarkSetLogBuffer`.
    pub const BENCHMARK_SET_LOG_BUFFER: i64 = -24;
    /// `seL4_SysBenchmarkNullSyscall`.
    pub const BENCHMARK_NULL_SYSCALL: i64 = -25;
    /// `seL4_SysBenchmarkGetThreadUtilisation`.
    pub const BENCHMARK_GET_THREAD_UTILISATION: i64 = -26;
    /// `seL4_SysBenchmarkResetThreadUtilisation`.
    pub const BENCHMARK_RESET_THREAD_UTILISATION: i64 = -27;
    /// `seL4_SysBenchmarkDumpAllThreadsUtilisation`.
    pub const BENCHMARK_DUMP_ALL_THREADS_UTILISATION: i64 = -28;
    /// `seL4_SysBenchmarkResetAllThreadsUtilisation`.
    pub const BENCHMARK_RESET_ALL_THREADS_UTILISATION: i64 = -29;

    /// See [`Syscall::from_word`].
    #[inline(always)]
    pub(super) const fn from_word(w: u64) -> Option<Syscall> {
        use Syscall::*;
        Some(match w as i64 {
            -1 => Call,
            -2 => ReplyRecv,
            -3 => NBSendRecv,
            -4 => NBSendWait,
            -5 => Send,
            -6 => NBSend,
            -7 => Recv,
            -8 => NBRecv,
            -9 => Wait,
            -10 => NBWait,
            -11 => Yield,
            -12 => DebugPutChar,
            -13 => DebugDumpScheduler,
            -14 => DebugHalt,
            -15 => DebugCapIdentify,
            -16 => DebugSnapshot,
            -17 => DebugNameThread,
            _ => return None,
        })
    }
}

pub use numbers::Syscall;
/// `seL4_SysBenchmarkNullSyscall`: exists only with `CONFIG_ENABLE_BENCHMARKS` (the kernel's
/// `benchmark` feature); enters the kernel and returns, the floor of every syscall.
pub use numbers::BENCHMARK_NULL_SYSCALL;
/// `CONFIG_BENCHMARK_TRACK_UTILISATION` (the kernel's `track_utilisation` feature):
/// `seL4_BenchmarkGetThreadUtilisation` and `seL4_BenchmarkResetThreadUtilisation`; with
/// `CONFIG_DEBUG_BUILD` too, `seL4_BenchmarkDumpAllThreadsUtilisation` and
/// `seL4_BenchmarkResetAllThreadsUtilisation`.
pub use numbers::{
    BENCHMARK_DUMP_ALL_THREADS_UTILISATION, BENCHMARK_GET_THREAD_UTILISATION,
    BENCHMARK_RESET_ALL_THREADS_UTILISATION, BENCHMARK_RESET_THREAD_UTILISATION,
};
/// The other `CONFIG_ENABLE_BENCHMARKS` syscalls; this kernel has `seL4_BenchmarkResetLog` and
/// `seL4_BenchmarkFinalizeLog` only with `CONFIG_BENCHMARK_TRACK_UTILISATION` (the kernel's
/// `track_utilisation` feature), where they start and end the utilisation period, and neither
/// `FlushCaches` nor `SetLogBuffer` (no kernel log buffer).
pub use numbers::{
    BENCHMARK_FINALIZE_LOG, BENCHMARK_FLUSH_CACHES, BENCHMARK_RESET_LOG, BENCHMARK_SET_LOG_BUFFER,
};

impl Syscall {
    /// The syscall for the value of `a7`, if this configuration has it. `None` means an
    /// unknown-syscall fault.
    #[inline(always)]
    pub const fn from_word(w: u64) -> Option<Syscall> {
        numbers::from_word(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_dense(n: i64) {
        assert_eq!(numbers::ALL.len() as i64, n);
        for (i, s) in numbers::ALL.iter().enumerate() {
            assert_eq!(*s as i64, -(i as i64) - 1);
        }
        for i in 1..=n {
            assert_eq!(Syscall::from_word((-i) as u64).unwrap() as i64, -i);
        }
        assert_eq!(Syscall::from_word((-n - 1) as u64), None);
        assert_eq!(Syscall::from_word(0), None);
        assert_eq!(Syscall::from_word(1), None);
        assert_eq!(Syscall::from_word(i64::MIN as u64), None);
    }

    #[test]
    #[cfg(not(feature = "mcs"))]
    fn numbers_match_syscall_xml() {
        use Syscall::*;
        let want = [
            (Call, -1),
            (ReplyRecv, -2),
            (Send, -3),
            (NBSend, -4),
            (Recv, -5),
            (Reply, -6),
            (Yield, -7),
            (NBRecv, -8),
            (DebugPutChar, -9),
            (DebugDumpScheduler, -10),
            (DebugHalt, -11),
            (DebugCapIdentify, -12),
            (DebugSnapshot, -13),
            (DebugNameThread, -14),
        ];
        for (s, n) in want {
            assert_eq!(s as i64, n, "{s:?}");
        }
        // SMP-only DebugSendIPI -15, DebugGetThreadAffinity -16, code injection DebugRun -17:
        // unknown in this configuration.
        all_dense(14);
        // FlushCaches -18, ResetLog -19, FinalizeLog -20, SetLogBuffer -21, NullSyscall -22.
        assert_eq!(BENCHMARK_NULL_SYSCALL, -22);
        assert_eq!(
            [
                BENCHMARK_FLUSH_CACHES,
                BENCHMARK_RESET_LOG,
                BENCHMARK_FINALIZE_LOG,
                BENCHMARK_SET_LOG_BUFFER
            ],
            [-18, -19, -20, -21]
        );
        // Then CONFIG_BENCHMARK_TRACK_UTILISATION, and with CONFIG_DEBUG_BUILD the last two.
        assert_eq!(
            [
                BENCHMARK_GET_THREAD_UTILISATION,
                BENCHMARK_RESET_THREAD_UTILISATION,
                BENCHMARK_DUMP_ALL_THREADS_UTILISATION,
                BENCHMARK_RESET_ALL_THREADS_UTILISATION
            ],
            [-23, -24, -25, -26]
        );
    }

    #[test]
    #[cfg(feature = "mcs")]
    fn numbers_match_syscall_xml_mcs() {
        use Syscall::*;
        let want = [
            (Call, -1),
            (ReplyRecv, -2),
            (NBSendRecv, -3),
            (NBSendWait, -4),
            (Send, -5),
            (NBSend, -6),
            (Recv, -7),
            (NBRecv, -8),
            (Wait, -9),
            (NBWait, -10),
            (Yield, -11),
            (DebugPutChar, -12),
            (DebugDumpScheduler, -13),
            (DebugHalt, -14),
            (DebugCapIdentify, -15),
            (DebugSnapshot, -16),
            (DebugNameThread, -17),
        ];
        for (s, n) in want {
            assert_eq!(s as i64, n, "{s:?}");
        }
        // DebugSendIPI -18 / DebugGetThreadAffinity -19 (SMP), DebugRun -20: unknown here.
        all_dense(17);
        // Every debug and benchmark number is 3 lower than without MCS.
        assert_eq!(BENCHMARK_NULL_SYSCALL, -25);
        assert_eq!(
            [
                BENCHMARK_FLUSH_CACHES,
                BENCHMARK_RESET_LOG,
                BENCHMARK_FINALIZE_LOG,
                BENCHMARK_SET_LOG_BUFFER
            ],
            [-21, -22, -23, -24]
        );
        assert_eq!(
            [
                BENCHMARK_GET_THREAD_UTILISATION,
                BENCHMARK_RESET_THREAD_UTILISATION,
                BENCHMARK_DUMP_ALL_THREADS_UTILISATION,
                BENCHMARK_RESET_ALL_THREADS_UTILISATION
            ],
            [-26, -27, -28, -29]
        );
    }
}
