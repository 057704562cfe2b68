//! The system call primitive: one trap into the kernel with seL4's register convention, an
//! `ecall` on riscv64 (`libsel4/arch_include/riscv/sel4/arch/syscalls.h`), an `svc #0` on
//! aarch64 (`libsel4/arch_include/arm/sel4/arch/syscalls.h`,
//! `sel4_arch_include/aarch64/sel4/sel4_arch/syscalls.h`). riscv64:
//!
//! | register | in                         | out                         |
//! |----------|----------------------------|-----------------------------|
//! | `a0`     | destination / source CPtr  | badge (or a debug result)   |
//! | `a1`     | `seL4_MessageInfo`         | `seL4_MessageInfo`          |
//! | `a2..a5` | MR0..MR3                   | MR0..MR3                    |
//! | `a6`     | MCS: Reply cap (NBSendWait: destination) | (unchanged)   |
//! | `t0`     | MCS: NBSendRecv destination | (unchanged)                |
//! | `a7`     | syscall number             | (unchanged)                 |
//!
//! `a6` and `t0` exist only with the `mcs` feature (seL4's `replyRegister` and
//! `nbsendRecvDest`, `MCS_PARAM_DECL("a6")` in the MCS `syscalls.h`); without it they are not
//! passed at all, so the non-MCS code is unchanged.
//!
//! aarch64 has the same roles in other registers: x0 (CPtr in, badge out), x1 (message
//! info), x2..x5 (MR0..MR3), x6 (MCS: Reply cap), x8 (MCS: NBSendRecv destination), x7 (the
//! syscall number). [`SyscallRegs`] names the roles after the riscv64 registers (`a0`, `a1`,
//! `a6`, `t0`), whatever the architecture.
//!
//! The kernel restores every other register. Every syscall goes through [`ecall`], which
//! treats the first six registers as read-write and lets the kernel read and write memory
//! (the IPC buffer).
//!
//! On the host (unit tests) [`ecall`] is routed to a mock kernel installed with
//! `mock::install` in `cfg(test)` builds; otherwise it panics.

use abi::{Syscall, Word};

/// The registers one `ecall` passes and returns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyscallRegs {
    /// `a0`: CPtr in, badge out.
    pub a0: Word,
    /// `a1`: message info in and out.
    pub a1: Word,
    /// `a2..a5`: message registers MR0..MR3.
    pub mr: [Word; 4],
    /// `a6` (MCS): the Reply cap of Recv, NBRecv, ReplyRecv and NBSendRecv; the destination of
    /// NBSendWait.
    #[cfg(feature = "mcs")]
    pub a6: Word,
    /// `t0` (MCS): the destination of NBSendRecv.
    #[cfg(feature = "mcs")]
    pub t0: Word,
}

impl SyscallRegs {
    /// `a0`, `a1` and MR0..MR3 (`a6` and `t0`, with MCS, zero).
    pub const fn new(a0: Word, a1: Word, mr: [Word; 4]) -> Self {
        SyscallRegs {
            a0,
            a1,
            mr,
            #[cfg(feature = "mcs")]
            a6: 0,
            #[cfg(feature = "mcs")]
            t0: 0,
        }
    }
}

/// Defines [`ecall`] for the target architecture `$arch` (`target_arch`): the trap
/// instruction `$trap`, the registers of `a0`, `a1` and MR0..MR3 (`$r0`..`$r5`, read and
/// written), of the syscall number (`$sys`) and, with MCS, of `a6` and `t0` (`$a6`, `$t0`,
/// which the kernel only reads). The register convention is the table above; only the
/// instruction and the register names are the architecture's.
macro_rules! ecall_for {
    (
        $arch:literal, $trap:literal,
        [$r0:tt, $r1:tt, $r2:tt, $r3:tt, $r4:tt, $r5:tt],
        sys: $sys:tt, mcs: [$a6:tt, $t0:tt]
    ) => {
        /// Perform syscall `sys` with `regs` in the first six argument registers (and, with
        /// MCS, `a6` and `t0` in theirs, which the kernel only reads); the kernel's results
        /// replace the first six.
        #[cfg(all(target_arch = $arch, target_os = "none"))]
        #[inline(always)]
        pub fn ecall(sys: Syscall, regs: &mut SyscallRegs) {
            // SAFETY: the trap enters the kernel, which only changes the six argument
            // registers (declared here as in/out) and memory it is allowed to change (the IPC
            // buffer; memory is not declared `nomem`, so the compiler assumes it may change);
            // it restores every other register (the MCS inputs too) and does not touch the
            // stack.
            unsafe {
                core::arch::asm!(
                    $trap,
                    inout($r0) regs.a0,
                    inout($r1) regs.a1,
                    inout($r2) regs.mr[0],
                    inout($r3) regs.mr[1],
                    inout($r4) regs.mr[2],
                    inout($r5) regs.mr[3],
                    #[cfg(feature = "mcs")]
                    in($a6) regs.a6,
                    #[cfg(feature = "mcs")]
                    in($t0) regs.t0,
                    in($sys) sys as i64 as u64,
                    options(nostack),
                );
            }
        }
    };
}

ecall_for!(
    "riscv64", "ecall",
    ["a0", "a1", "a2", "a3", "a4", "a5"],
    sys: "a7", mcs: ["a6", "t0"]
);
ecall_for!(
    "aarch64", "svc #0",
    ["x0", "x1", "x2", "x3", "x4", "x5"],
    sys: "x7", mcs: ["x6", "x8"]
);

/// Host stand-in for the `ecall`: routed to the installed mock kernel in unit tests.
#[cfg(not(target_os = "none"))]
pub fn ecall(sys: Syscall, regs: &mut SyscallRegs) {
    #[cfg(test)]
    {
        mock::dispatch(sys, regs)
    }
    #[cfg(not(test))]
    {
        let _ = regs;
        panic!("seL4 system call {:?} attempted on a host build", sys)
    }
}

/// A mock kernel for host unit tests: a closure that sees every syscall.
#[cfg(all(test, not(target_os = "none")))]
pub mod mock {
    use super::SyscallRegs;
    use abi::Syscall;
    use std::cell::RefCell;
    use std::vec::Vec;

    type Handler = Box<dyn FnMut(Syscall, &mut SyscallRegs)>;

    std::thread_local! {
        static HANDLER: RefCell<Option<Handler>> = RefCell::new(None);
        static LOG: RefCell<Vec<(Syscall, SyscallRegs)>> = const { RefCell::new(Vec::new()) };
    }

    /// Install `h` as this thread's kernel and clear the log of syscalls.
    pub fn install(h: impl FnMut(Syscall, &mut SyscallRegs) + 'static) {
        HANDLER.with(|c| *c.borrow_mut() = Some(Box::new(h)));
        LOG.with(|l| l.borrow_mut().clear());
    }

    /// The syscalls made since `install`, with the registers as the program passed them.
    pub fn log() -> Vec<(Syscall, SyscallRegs)> {
        LOG.with(|l| l.borrow().clone())
    }

    pub(crate) fn dispatch(sys: Syscall, regs: &mut SyscallRegs) {
        LOG.with(|l| l.borrow_mut().push((sys, *regs)));
        HANDLER.with(|c| {
            let mut h = c.borrow_mut();
            let h = h.as_mut().expect("no mock kernel installed");
            h(sys, regs)
        })
    }
}
