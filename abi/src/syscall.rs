//! Syscall numbers (`libsel4/include/api/syscall.xml`, numbered from -1 downwards in file
//! order; configuration guards do not renumber).

/// A syscall number, passed in `a7`.
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
    /// `seL4_SysDebugSendIPI` (SMP builds only; unknown here)
    DebugSendIPI = -15,
    /// `seL4_SysDebugGetThreadAffinity` (SMP builds only; unknown here)
    DebugGetThreadAffinity = -16,
    /// `seL4_SysDebugRun` (`CONFIG_DANGEROUS_CODE_INJECTION` only; unknown here)
    DebugRun = -17,
}

/// `seL4_SysBenchmarkNullSyscall`: exists only with `CONFIG_ENABLE_BENCHMARKS` (the kernel's
/// `benchmark` feature); enters the kernel and returns, the floor of every syscall.
pub const BENCHMARK_NULL_SYSCALL: i64 = -22;

impl Syscall {
    /// The syscall for the value of `a7`, if this configuration has it. `None` means an
    /// unknown-syscall fault.
    pub const fn from_word(w: u64) -> Option<Syscall> {
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

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn numbers_match_syscall_xml() {
        assert_eq!(Syscall::Call as i64, -1);
        assert_eq!(Syscall::ReplyRecv as i64, -2);
        assert_eq!(Syscall::Send as i64, -3);
        assert_eq!(Syscall::NBSend as i64, -4);
        assert_eq!(Syscall::Recv as i64, -5);
        assert_eq!(Syscall::Reply as i64, -6);
        assert_eq!(Syscall::Yield as i64, -7);
        assert_eq!(Syscall::NBRecv as i64, -8);
        assert_eq!(Syscall::DebugPutChar as i64, -9);
        assert_eq!(Syscall::DebugDumpScheduler as i64, -10);
        assert_eq!(Syscall::DebugHalt as i64, -11);
        assert_eq!(Syscall::DebugCapIdentify as i64, -12);
        assert_eq!(Syscall::DebugSnapshot as i64, -13);
        assert_eq!(Syscall::DebugNameThread as i64, -14);
        for n in 1..=14i64 {
            assert_eq!(Syscall::from_word((-n) as u64).unwrap() as i64, -n);
        }
        // SMP-only and code-injection syscalls are unknown in this configuration.
        assert_eq!(Syscall::from_word(-15i64 as u64), None);
        assert_eq!(Syscall::from_word(-17i64 as u64), None);
        assert_eq!(Syscall::from_word(0), None);
        // FlushCaches -18, ResetLog -19, FinalizeLog -20, SetLogBuffer -21, NullSyscall -22.
        assert_eq!(BENCHMARK_NULL_SYSCALL, -22);
    }
}
