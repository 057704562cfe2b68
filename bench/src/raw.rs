//! System calls as single `ecall`s (riscv64) or `svc #0`s (aarch64) in seL4's register
//! convention, with the cycle counter read right around them.
//!
//! Under `-icount shift=0` the riscv64 `cycle` CSR counts guest instructions; so does the
//! aarch64 PMU cycle counter `PMCCNTR_EL0` (QEMU derives it from virtual time at 1 GHz, and
//! `-icount shift=0` advances virtual time 1 ns per instruction), which the kernel built with
//! `benchmark` lets EL0 read (`PMUSERENR_EL0`, as seL4's `CONFIG_EXPORT_PMU_USER`). Each measured window is
//! one `asm!` block, so the compiler cannot put anything else inside it: `rdcycle` at the
//! start, `ecall`, and `rdcycle` at the end (in this thread, or in the thread the kernel
//! switches to, when it returns from its own `ecall`). The window therefore counts the first
//! `rdcycle`, the `ecall` and everything the kernel executes; [`overhead`] (two back-to-back
//! reads) is the part that is not the system call.
//!
//! Registers: `a0`/`x0` CPtr in, badge out; `a1`/`x1` MessageInfo; `a2..a5`/`x2..x5`
//! MR0..MR3; `a7`/`x7` the syscall number. The kernel preserves every other register. MCS:
//! `a6`/`x6` holds the Reply object of a receive (and `t0`/`x8` the destination of
//! `seL4_NBSendRecv`): [`timed_reply`], [`ecall_then_read_reply`]. The names say `ecall` on
//! both architectures.

use abi::Word;

/// `seL4_SysCall`.
#[cfg(not(feature = "mcs"))]
pub const CALL: i64 = -1;
/// `seL4_SysReplyRecv`.
#[cfg(not(feature = "mcs"))]
pub const REPLY_RECV: i64 = -2;
/// `seL4_SysSend` (and `seL4_Signal`).
#[cfg(not(feature = "mcs"))]
pub const SEND: i64 = -3;
/// `seL4_SysNBSend`.
#[cfg(not(feature = "mcs"))]
pub const NB_SEND: i64 = -4;
/// `seL4_SysRecv` (and `seL4_Wait`).
#[cfg(not(feature = "mcs"))]
pub const RECV: i64 = -5;
/// `seL4_SysYield`.
#[cfg(not(feature = "mcs"))]
pub const YIELD: i64 = -7;
/// `seL4_SysNBRecv` (and `seL4_Poll`).
#[cfg(not(feature = "mcs"))]
pub const NB_RECV: i64 = -8;
/// `seL4_Wait` on a notification: `seL4_SysRecv` (MCS: `seL4_SysWait`).
#[cfg(not(feature = "mcs"))]
pub const WAIT: i64 = RECV;
/// `seL4_Poll` of a notification: `seL4_SysNBRecv` (MCS: `seL4_SysNBWait`).
#[cfg(not(feature = "mcs"))]
pub const POLL: i64 = NB_RECV;

/// MCS: `seL4_SysCall`.
#[cfg(feature = "mcs")]
pub const CALL: i64 = abi::Syscall::Call as i64;
/// MCS: `seL4_SysReplyRecv` (Reply object in `a6`).
#[cfg(feature = "mcs")]
pub const REPLY_RECV: i64 = abi::Syscall::ReplyRecv as i64;
/// MCS: `seL4_SysNBSendRecv` (destination in `t0`, Reply object in `a6`).
#[cfg(feature = "mcs")]
pub const NB_SEND_RECV: i64 = abi::Syscall::NBSendRecv as i64;
/// MCS: `seL4_SysSend` (and `seL4_Signal`).
#[cfg(feature = "mcs")]
pub const SEND: i64 = abi::Syscall::Send as i64;
/// MCS: `seL4_SysNBSend`.
#[cfg(feature = "mcs")]
pub const NB_SEND: i64 = abi::Syscall::NBSend as i64;
/// MCS: `seL4_SysRecv` (Reply object in `a6`).
#[cfg(feature = "mcs")]
pub const RECV: i64 = abi::Syscall::Recv as i64;
/// MCS: `seL4_SysYield`.
#[cfg(feature = "mcs")]
pub const YIELD: i64 = abi::Syscall::Yield as i64;
/// MCS: `seL4_SysWait` (`seL4_Wait`: no Reply object).
#[cfg(feature = "mcs")]
pub const WAIT: i64 = abi::Syscall::Wait as i64;
/// MCS: `seL4_SysNBWait` (`seL4_Poll`).
#[cfg(feature = "mcs")]
pub const POLL: i64 = abi::Syscall::NBWait as i64;
/// `seL4_SysBenchmarkNullSyscall` (kernel feature `benchmark`).
pub const NULL_SYSCALL: i64 = abi::syscall::BENCHMARK_NULL_SYSCALL;

/// `a0..a5` (`x0..x5`) of one system call.
pub type Regs = [Word; 6];

#[cfg(target_arch = "aarch64")]
pub use aarch64::*;
#[cfg(target_arch = "riscv64")]
pub use riscv64::*;

/// Defines the timed system calls of one architecture from its trap instruction (`$trap`),
/// its counter read (`$pre` `{t}` `$suf`: the read into the operand `t`), its register move
/// (`$mv`) and the registers of `a0..a5` (`$r0`..`$r5`), of the syscall number (`$sys`) and,
/// with MCS, of the Reply object (`$reply`) and the NBSendRecv destination (`$dest`). Every
/// window is one `asm!` block, so only the instructions named here are inside it.
macro_rules! raw_syscalls {
    (
        trap: $trap:literal, read: ($pre:literal, $suf:literal), mv: $mv:literal,
        regs: [$r0:tt, $r1:tt, $r2:tt, $r3:tt, $r4:tt, $r5:tt],
        sys: $sys:tt, reply: $reply:tt, dest: $dest:tt
    ) => {
        /// One system call, untimed.
        #[inline(always)]
        pub fn ecall(sys: i64, r: &mut Regs) {
            // SAFETY: the kernel changes only `a0..a5` (declared in/out) and memory it may
            // write (the IPC buffer; memory is not `nomem`); it does not use the user stack.
            unsafe {
                asm!(
                    $trap,
                    inout($r0) r[0], inout($r1) r[1], inout($r2) r[2],
                    inout($r3) r[3], inout($r4) r[4], inout($r5) r[5],
                    in($sys) sys,
                    options(nostack),
                );
            }
        }

        /// MCS: [`timed`] with the Reply object `reply` in `a6`'s register
        /// (`seL4_ReplyRecv`).
        #[cfg(feature = "mcs")]
        #[inline(always)]
        pub fn timed_reply(sys: i64, r: &mut Regs, reply: Word) -> (u64, u64) {
            let (t0, t1): (u64, u64);
            // SAFETY: as in `ecall`; `a6`'s register is declared clobbered as well.
            unsafe {
                asm!(
                    concat!($pre, "{t0}", $suf),
                    $trap,
                    concat!($pre, "{t1}", $suf),
                    t0 = out(reg) t0, t1 = out(reg) t1,
                    inout($r0) r[0], inout($r1) r[1], inout($r2) r[2],
                    inout($r3) r[3], inout($r4) r[4], inout($r5) r[5],
                    inout($reply) reply => _, in($sys) sys,
                    options(nostack),
                );
            }
            (t0, t1)
        }

        /// MCS: [`ecall_then_read`] with the Reply object `reply` in `a6`'s register and
        /// `dest` in `t0`'s (`seL4_Recv`, `seL4_NBSendRecv`).
        #[cfg(feature = "mcs")]
        #[inline(always)]
        pub fn ecall_then_read_reply(sys: i64, r: &mut Regs, reply: Word, dest: Word) -> u64 {
            let t: u64;
            // SAFETY: as in `ecall`; the registers of `a6` and `t0` are declared clobbered as
            // well.
            unsafe {
                asm!(
                    $trap,
                    concat!($pre, "{t}", $suf),
                    t = out(reg) t,
                    inout($r0) r[0], inout($r1) r[1], inout($r2) r[2],
                    inout($r3) r[3], inout($r4) r[4], inout($r5) r[5],
                    inout($reply) reply => _, inout($dest) dest => _, in($sys) sys,
                    options(nostack),
                );
            }
            t
        }

        /// Read the counter, trap, read the counter: the counter just before and just after
        /// the system call.
        #[inline(always)]
        pub fn timed(sys: i64, r: &mut Regs) -> (u64, u64) {
            let (t0, t1): (u64, u64);
            // SAFETY: as in `ecall`; `t0` and `t1` are outputs distinct from every operand.
            unsafe {
                asm!(
                    concat!($pre, "{t0}", $suf),
                    $trap,
                    concat!($pre, "{t1}", $suf),
                    t0 = out(reg) t0, t1 = out(reg) t1,
                    inout($r0) r[0], inout($r1) r[1], inout($r2) r[2],
                    inout($r3) r[3], inout($r4) r[4], inout($r5) r[5],
                    in($sys) sys,
                    options(nostack),
                );
            }
            (t0, t1)
        }

        /// Trap, read the counter: the counter just after the system call returns (the end
        /// of a window another thread started).
        #[inline(always)]
        pub fn ecall_then_read(sys: i64, r: &mut Regs) -> u64 {
            let t: u64;
            // SAFETY: as in `timed`.
            unsafe {
                asm!(
                    $trap,
                    concat!($pre, "{t}", $suf),
                    t = out(reg) t,
                    inout($r0) r[0], inout($r1) r[1], inout($r2) r[2],
                    inout($r3) r[3], inout($r4) r[4], inout($r5) r[5],
                    in($sys) sys,
                    options(nostack),
                );
            }
            t
        }

        /// Read the counter, trap: the counter just before a system call whose window ends
        /// in another thread.
        #[inline(always)]
        pub fn read_then_ecall(sys: i64, r: &mut Regs) -> u64 {
            let t: u64;
            // SAFETY: as in `timed`.
            unsafe {
                asm!(
                    concat!($pre, "{t}", $suf),
                    $trap,
                    t = out(reg) t,
                    inout($r0) r[0], inout($r1) r[1], inout($r2) r[2],
                    inout($r3) r[3], inout($r4) r[4], inout($r5) r[5],
                    in($sys) sys,
                    options(nostack),
                );
            }
            t
        }

        /// The cost of reading the counter: the difference of two back-to-back reads.
        #[inline(always)]
        pub fn overhead() -> u64 {
            let (t0, t1): (u64, u64);
            // SAFETY: reads a counter EL0/U-mode may read (the kernel enabled it).
            unsafe {
                asm!(
                    concat!($pre, "{t0}", $suf),
                    concat!($pre, "{t1}", $suf),
                    t0 = out(reg) t0, t1 = out(reg) t1,
                    options(nomem, nostack),
                );
            }
            t1.wrapping_sub(t0)
        }

        /// The counter now (for windows over several system calls and the code between them).
        #[inline(always)]
        pub fn now() -> u64 {
            let t: u64;
            // SAFETY: reads a counter. Not `nomem`: the compiler must not move memory accesses
            // (the system calls of the window) across it.
            unsafe { asm!(concat!($pre, "{t}", $suf), t = out(reg) t, options(nostack)) };
            t
        }

        /// Read the counter, trap (`seL4_Signal(signal)`), trap (`seL4_Wait(wait)`), read the
        /// counter: one round trip of a notification ping-pong, timed in one block (with the
        /// two moves that set up the Wait).
        #[inline(always)]
        pub fn timed_signal_wait(signal: Word, wait: Word) -> (u64, u64) {
            let (t0, t1): (u64, u64);
            // SAFETY: as in `ecall`; both system calls change only `a0..a5` (declared
            // clobbered), and the syscall number's register is an in/out register here because
            // it is rewritten between them.
            unsafe {
                asm!(
                    concat!($pre, "{t0}", $suf),
                    $trap,
                    concat!($mv, " ", $r0, ", {w}"),
                    concat!($mv, " ", $sys, ", {wsys}"),
                    $trap,
                    concat!($pre, "{t1}", $suf),
                    t0 = out(reg) t0, t1 = out(reg) t1,
                    w = in(reg) wait, wsys = in(reg) WAIT,
                    inout($r0) signal => _, out($r1) _, out($r2) _,
                    out($r3) _, out($r4) _, out($r5) _,
                    inout($sys) SEND => _,
                    options(nostack),
                );
            }
            (t0, t1)
        }
    };
}

#[cfg(target_arch = "riscv64")]
mod riscv64 {
    //! The riscv64 instructions: `ecall`, the counter `cycle`.
    use super::*;
    use core::arch::asm;

    raw_syscalls!(
        trap: "ecall", read: ("rdcycle ", ""), mv: "mv",
        regs: ["a0", "a1", "a2", "a3", "a4", "a5"],
        sys: "a7", reply: "a6", dest: "t0"
    );

    /// `rdcycle; sb`: the counter just before a byte store to device memory at `addr`.
    #[inline(always)]
    pub fn read_then_store_byte(addr: usize, v: u8) -> u64 {
        let t: u64;
        // SAFETY: `addr` is a mapped device register (the caller's promise); the store has no
        // other effect on this program's memory.
        unsafe {
            asm!(
                "rdcycle {t}",
                "sb {v}, 0({a})",
                t = out(reg) t,
                v = in(reg) v,
                a = in(reg) addr,
                options(nostack),
            );
        }
        t
    }

    /// The global pointer (threads run the root task's image and need the same `gp`).
    pub fn global_pointer() -> Word {
        let gp: Word;
        // SAFETY: reads a register.
        unsafe { asm!("mv {0}, gp", out(reg) gp, options(nomem, nostack)) };
        gp
    }

    /// Some f64 arithmetic in the FPU registers, which leaves the thread's FPU state dirty.
    #[inline(always)]
    pub fn dirty_fpu(x: u64) -> u64 {
        let y: u64;
        // SAFETY: arithmetic on scratch FPU registers only.
        unsafe {
            asm!(
                "fcvt.d.lu {f0}, {x}",
                "fmul.d {f1}, {f0}, {f0}",
                "fadd.d {f1}, {f1}, {f0}",
                "fcvt.lu.d {y}, {f1}",
                x = in(reg) x,
                y = out(reg) y,
                f0 = out(freg) _,
                f1 = out(freg) _,
                options(nomem, nostack),
            );
        }
        y
    }
}

#[cfg(target_arch = "aarch64")]
mod aarch64 {
    //! The aarch64 instructions: `svc #0`, the counter `PMCCNTR_EL0`.
    use super::*;
    use core::arch::asm;

    raw_syscalls!(
        trap: "svc #0", read: ("mrs ", ", pmccntr_el0"), mv: "mov",
        regs: ["x0", "x1", "x2", "x3", "x4", "x5"],
        sys: "x7", reply: "x6", dest: "x8"
    );

    /// `mrs; str`: the counter just before a 32-bit store to device memory at `addr` (the
    /// PL011's registers are 32 bits wide).
    #[inline(always)]
    pub fn read_then_store_word(addr: usize, v: u32) -> u64 {
        let t: u64;
        // SAFETY: `addr` is a mapped device register (the caller's promise); the store has no
        // other effect on this program's memory.
        unsafe {
            asm!(
                "mrs {t}, pmccntr_el0",
                "str {v:w}, [{a}]",
                t = out(reg) t,
                v = in(reg) v,
                a = in(reg) addr,
                options(nostack),
            );
        }
        t
    }

    /// Some f64 arithmetic in the FP/SIMD registers, which leaves the thread's FPU state dirty.
    #[inline(always)]
    pub fn dirty_fpu(x: u64) -> u64 {
        let y: u64;
        // SAFETY: arithmetic on scratch FP/SIMD registers only.
        unsafe {
            asm!(
                "ucvtf {f0:d}, {x}",
                "fmul {f1:d}, {f0:d}, {f0:d}",
                "fadd {f1:d}, {f1:d}, {f0:d}",
                "fcvtzu {y}, {f1:d}",
                x = in(reg) x,
                y = out(reg) y,
                f0 = out(vreg) _,
                f1 = out(vreg) _,
                options(nomem, nostack),
            );
        }
        y
    }
}
