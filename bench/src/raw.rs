//! System calls as single `ecall`s in the seL4 riscv64 register convention, with the cycle
//! counter read right around them.
//!
//! Under `-icount shift=0` the `cycle` CSR counts guest instructions. Each measured window is
//! one `asm!` block, so the compiler cannot put anything else inside it: `rdcycle` at the
//! start, `ecall`, and `rdcycle` at the end (in this thread, or in the thread the kernel
//! switches to, when it returns from its own `ecall`). The window therefore counts the first
//! `rdcycle`, the `ecall` and everything the kernel executes; [`overhead`] (two back-to-back
//! reads) is the part that is not the system call.
//!
//! Registers: `a0` CPtr in, badge out; `a1` MessageInfo; `a2..a5` MR0..MR3; `a7` the syscall
//! number. The kernel preserves every other register. MCS: `a6` holds the Reply object of a
//! receive (and `t0` the destination of `seL4_NBSendRecv`): [`timed_reply`],
//! [`ecall_then_read_reply`].

use core::arch::asm;

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

/// `a0..a5` of one system call.
pub type Regs = [Word; 6];

/// One system call, untimed.
#[inline(always)]
pub fn ecall(sys: i64, r: &mut Regs) {
    // SAFETY: the kernel changes only a0..a5 (declared in/out) and memory it may write (the
    // IPC buffer; memory is not `nomem`); it does not use the user stack.
    unsafe {
        asm!(
            "ecall",
            inout("a0") r[0], inout("a1") r[1], inout("a2") r[2],
            inout("a3") r[3], inout("a4") r[4], inout("a5") r[5],
            in("a7") sys,
            options(nostack),
        );
    }
}

/// MCS: [`timed`] with the Reply object `reply` in `a6` (`seL4_ReplyRecv`).
#[cfg(feature = "mcs")]
#[inline(always)]
pub fn timed_reply(sys: i64, r: &mut Regs, reply: Word) -> (u64, u64) {
    let (t0, t1): (u64, u64);
    // SAFETY: as in `ecall`; `a6` is declared clobbered as well.
    unsafe {
        asm!(
            "rdcycle {t0}",
            "ecall",
            "rdcycle {t1}",
            t0 = out(reg) t0, t1 = out(reg) t1,
            inout("a0") r[0], inout("a1") r[1], inout("a2") r[2],
            inout("a3") r[3], inout("a4") r[4], inout("a5") r[5],
            inout("a6") reply => _, in("a7") sys,
            options(nostack),
        );
    }
    (t0, t1)
}

/// MCS: [`ecall_then_read`] with the Reply object `reply` in `a6` and `dest` in `t0`
/// (`seL4_Recv`, `seL4_NBSendRecv`).
#[cfg(feature = "mcs")]
#[inline(always)]
pub fn ecall_then_read_reply(sys: i64, r: &mut Regs, reply: Word, dest: Word) -> u64 {
    let t: u64;
    // SAFETY: as in `ecall`; `a6` and `t0` are declared clobbered as well.
    unsafe {
        asm!(
            "ecall",
            "rdcycle {t}",
            t = out(reg) t,
            inout("a0") r[0], inout("a1") r[1], inout("a2") r[2],
            inout("a3") r[3], inout("a4") r[4], inout("a5") r[5],
            inout("a6") reply => _, inout("t0") dest => _, in("a7") sys,
            options(nostack),
        );
    }
    t
}

/// `rdcycle; ecall; rdcycle`: the counter just before and just after the system call.
#[inline(always)]
pub fn timed(sys: i64, r: &mut Regs) -> (u64, u64) {
    let (t0, t1): (u64, u64);
    // SAFETY: as in `ecall`; `t0` and `t1` are outputs distinct from every operand.
    unsafe {
        asm!(
            "rdcycle {t0}",
            "ecall",
            "rdcycle {t1}",
            t0 = out(reg) t0, t1 = out(reg) t1,
            inout("a0") r[0], inout("a1") r[1], inout("a2") r[2],
            inout("a3") r[3], inout("a4") r[4], inout("a5") r[5],
            in("a7") sys,
            options(nostack),
        );
    }
    (t0, t1)
}

/// `ecall; rdcycle`: the counter just after the system call returns (the end of a window
/// another thread started).
#[inline(always)]
pub fn ecall_then_read(sys: i64, r: &mut Regs) -> u64 {
    let t: u64;
    // SAFETY: as in `timed`.
    unsafe {
        asm!(
            "ecall",
            "rdcycle {t}",
            t = out(reg) t,
            inout("a0") r[0], inout("a1") r[1], inout("a2") r[2],
            inout("a3") r[3], inout("a4") r[4], inout("a5") r[5],
            in("a7") sys,
            options(nostack),
        );
    }
    t
}

/// `rdcycle; ecall`: the counter just before a system call whose window ends in another
/// thread.
#[inline(always)]
pub fn read_then_ecall(sys: i64, r: &mut Regs) -> u64 {
    let t: u64;
    // SAFETY: as in `timed`.
    unsafe {
        asm!(
            "rdcycle {t}",
            "ecall",
            t = out(reg) t,
            inout("a0") r[0], inout("a1") r[1], inout("a2") r[2],
            inout("a3") r[3], inout("a4") r[4], inout("a5") r[5],
            in("a7") sys,
            options(nostack),
        );
    }
    t
}

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

/// The cost of reading the counter: the difference of two back-to-back reads.
#[inline(always)]
pub fn overhead() -> u64 {
    let (t0, t1): (u64, u64);
    // SAFETY: reads a CSR.
    unsafe {
        asm!(
            "rdcycle {t0}",
            "rdcycle {t1}",
            t0 = out(reg) t0, t1 = out(reg) t1,
            options(nomem, nostack),
        );
    }
    t1.wrapping_sub(t0)
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

/// The counter now (for windows over several system calls and the code between them).
#[inline(always)]
pub fn now() -> u64 {
    let t: u64;
    // SAFETY: reads a CSR. Not `nomem`: the compiler must not move memory accesses (the
    // system calls of the window) across it.
    unsafe { asm!("rdcycle {t}", t = out(reg) t, options(nostack)) };
    t
}

/// `rdcycle; ecall (seL4_Signal(signal)); ecall (seL4_Wait(wait)); rdcycle`: one round trip of
/// a notification ping-pong, timed in one block (with the two moves that set up the Wait).
#[inline(always)]
pub fn timed_signal_wait(signal: Word, wait: Word) -> (u64, u64) {
    let (t0, t1): (u64, u64);
    // SAFETY: as in `ecall`; both system calls change only a0..a5 (declared clobbered), and
    // `a7` is an in/out register here because it is rewritten between them.
    unsafe {
        asm!(
            "rdcycle {t0}",
            "ecall",
            "mv a0, {w}",
            "mv a7, {wsys}",
            "ecall",
            "rdcycle {t1}",
            t0 = out(reg) t0, t1 = out(reg) t1,
            w = in(reg) wait, wsys = in(reg) WAIT,
            inout("a0") signal => _, out("a1") _, out("a2") _,
            out("a3") _, out("a4") _, out("a5") _,
            inout("a7") SEND => _,
            options(nostack),
        );
    }
    (t0, t1)
}
