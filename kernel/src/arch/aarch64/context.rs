//! The saved user register context of a thread on aarch64, kept inside its TCB (seL4
//! `include/arch/arm/arch/64/mode/machine/registerset.h`, with the kernel's own layout).
//!
//! Layout (bytes), relied on by the trap entry and exit assembly in `machine`:
//! - `regs[i]` (offset 8*i) for i in 0..31: general register x_i;
//! - `regs[31]` SP_EL0, `regs[32]` ELR_EL1 (the pc to resume at, seL4's NextIP), `regs[33]`
//!   SPSR_EL1, `regs[34]` TPIDR_EL0, `regs[35]` TPIDRRO_EL0;
//! - `cpacr` (offset 288): the CPACR_EL1 value the thread runs with (its FPU access, see
//!   [`ArchContext::fpu_enabled`]);
//! - `fpu` (offset 304, 16-byte aligned): q0..q31, fpsr, fpcr.
//!
//! seL4's FaultIP is not in the context: the kernel keeps it in the TCB (`Tcb::fault_ip`).
#![forbid(unsafe_code)]

/// Words of [`ArchContext::regs`].
pub const CONTEXT_WORDS: usize = 36;
/// Byte offset of `cpacr` in [`ArchContext`].
pub const CPACR_OFFSET: usize = 288;
/// Byte offset of the FPU state in [`ArchContext`].
pub const FPU_OFFSET: usize = 304;

/// Indices of the registers in [`ArchContext::regs`].
pub mod reg {
    /// x0: capability / badge register (`capRegister`, `badgeRegister`).
    pub const X0: usize = 0;
    /// x1: message info register (`msgInfoRegister`).
    pub const X1: usize = 1;
    /// x2: first message register (MR0).
    pub const X2: usize = 2;
    /// x6: the MCS reply register (`replyRegister`).
    pub const X6: usize = 6;
    /// x7: the syscall number.
    pub const X7: usize = 7;
    /// x8: the MCS `seL4_NBSendRecv` destination (`nbsendRecvDest`).
    pub const X8: usize = 8;
    /// x29: frame pointer.
    pub const X29: usize = 29;
    /// x30: link register (`LR`).
    pub const X30: usize = 30;
    /// SP_EL0: the user stack pointer.
    pub const SP_EL0: usize = 31;
    /// ELR_EL1: the pc the thread resumes at (`NextIP`).
    pub const ELR_EL1: usize = 32;
    /// SPSR_EL1: the thread's saved PSTATE.
    pub const SPSR_EL1: usize = 33;
    /// TPIDR_EL0: the user-writable thread ID register (seL4's TLS base, `ARM_TLS_REG tpidru`).
    pub const TPIDR_EL0: usize = 34;
    /// TPIDRRO_EL0: the thread ID register user level may only read.
    pub const TPIDRRO_EL0: usize = 35;
}

/// The registers of seL4's syscall and message convention by role
/// (`include/arch/arm/arch/64/mode/machine/registerset.h`: `capRegister`, `badgeRegister`,
/// `msgInfoRegister`, `msgRegisters`, `replyRegister`, `nbsendRecvDest`), and the fault message
/// layouts (`SYSCALL_MESSAGE`, `EXCEPTION_MESSAGE`, `frameRegisters`, `gpRegisters` in
/// `src/arch/arm/64/machine/registerset.c`). Generic code names registers only through these.
pub mod regs {
    use super::reg;

    /// The capability address of a syscall (`capRegister`, x0).
    pub const CAP: usize = reg::X0;
    /// The badge a receiver gets (`badgeRegister`, x0).
    pub const BADGE: usize = reg::X0;
    /// The `seL4_MessageInfo` (`msgInfoRegister`, x1).
    pub const MSG_INFO: usize = reg::X1;
    /// The message registers MR0..MR3 (`msgRegisters`: x2..x5).
    pub const MSG: [usize; 4] = [reg::X2, reg::X2 + 1, reg::X2 + 2, reg::X2 + 3];
    /// The register of message register `i` (`i` < 4): [`MSG`]`[i]` without an index check.
    #[inline(always)]
    pub const fn msg(i: usize) -> usize {
        reg::X2 + i
    }
    /// The syscall number (x7).
    pub const SYSCALL_NUMBER: usize = reg::X7;
    /// MCS: the Reply cap of a receive (`replyRegister`, x6); also `seL4_NBSendWait`'s
    /// destination.
    #[cfg(feature = "mcs")]
    pub const REPLY: usize = reg::X6;
    /// MCS: `seL4_NBSendRecv`'s destination (`nbsendRecvDest`, x8).
    #[cfg(feature = "mcs")]
    pub const NB_SEND_RECV_DEST: usize = reg::X8;
    /// The pc the thread resumes at (`NextIP`: ELR_EL1). The trap entry stores the address of
    /// the instruction that entered the kernel here, for a syscall the `svc` itself (ELR_EL1
    /// - 4), as the generic syscall path expects.
    pub const NEXT_IP: usize = reg::ELR_EL1;
    /// The stack pointer (SP_EL0).
    pub const STACK_POINTER: usize = reg::SP_EL0;
    /// The thread-local storage base (`seL4_TCB_SetTLSBase`: TPIDR_EL0).
    pub const TLS_BASE: usize = reg::TPIDR_EL0;
    /// In the fault message layouts and [`USER_CONTEXT`]: the thread's `FaultIP` (kept in the
    /// TCB, not in the register context).
    pub const FAULT_IP: usize = usize::MAX;
    /// The register behind each word of `seL4_UserContext`, in its order (seL4
    /// `frameRegisters` then `gpRegisters`): FaultIP, SP_EL0, SPSR_EL1, x0..x8, x16, x17, x18,
    /// x29, x30, x9..x15, x19..x28, TPIDR_EL0, TPIDRRO_EL0.
    #[rustfmt::skip]
    pub const USER_CONTEXT: [usize; abi::arch::aarch64::user_context::USER_CONTEXT_WORDS] = [
        FAULT_IP, reg::SP_EL0, reg::SPSR_EL1,
        0, 1, 2, 3, 4, 5, 6, 7, 8, 16, 17, 18, 29, 30,
        9, 10, 11, 12, 13, 14, 15,
        19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
        reg::TPIDR_EL0, reg::TPIDRRO_EL0,
    ];
    /// Bytes of the syscall instruction (`svc #0`): a syscall returns past it.
    pub const SYSCALL_INSTRUCTION_BYTES: u64 = 4;
    /// Registers of an unknown-syscall fault message, in order, before the syscall number
    /// (`SYSCALL_MESSAGE`: x0..x7, FaultIP, SP, LR = ELR_EL1, SPSR); a reply with label 0
    /// writes them back.
    pub const SYSCALL_MESSAGE: [usize; 12] = [
        0,
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        FAULT_IP,
        reg::SP_EL0,
        reg::ELR_EL1,
        reg::SPSR_EL1,
    ];
    /// Registers of a user-exception fault message, in order, before the exception number
    /// and code (`EXCEPTION_MESSAGE`: FaultIP, SP, SPSR); a reply with label 0 writes them
    /// back.
    pub const EXCEPTION_MESSAGE: [usize; 3] = [FAULT_IP, reg::SP_EL0, reg::SPSR_EL1];
    /// MCS: the registers a reply to a timeout fault may write, in order
    /// (`TIMEOUT_REPLY_MESSAGE`: `seL4_UserContext` without the two thread ID registers).
    #[cfg(feature = "mcs")]
    pub const TIMEOUT_REPLY_MESSAGE: [usize; 34] = {
        let mut m = [0; 34];
        let mut i = 0;
        while i < 34 {
            m[i] = USER_CONTEXT[i];
            i += 1;
        }
        m
    };
}

/// SPSR.M for EL0 with SP_EL0 (`PMODE_EL0t`).
pub const PMODE_EL0T: u64 = 0;
/// SPSR.F: FIQs masked (`PMODE_FIRQ`).
pub const PMODE_FIRQ: u64 = 1 << 6;
/// SPSR.I: IRQs masked.
pub const PMODE_IRQ: u64 = 1 << 7;
/// SPSR.A: SErrors masked (`PMODE_SERROR`).
pub const PMODE_SERROR: u64 = 1 << 8;
/// SPSR.D: debug exceptions masked.
pub const PMODE_DEBUG: u64 = 1 << 9;
/// The SPSR a new thread starts with (seL4 `PSTATE_USER`: EL0t, FIQs masked; SErrors masked
/// too in non-debug builds, `PSTATE_EXTRA_FLAGS`).
pub const PSTATE_USER: u64 = PMODE_FIRQ
    | PMODE_EL0T
    | if cfg!(feature = "debug_build") {
        0
    } else {
        PMODE_SERROR
    };

/// `sanitiseRegister` (seL4 `src/arch/arm/64/machine/registerset.c`, without a VCPU): what a
/// value written to register `r` by `seL4_TCB_WriteRegisters` (or a fault reply) becomes. Only
/// SPSR_EL1 is touched: the thread keeps its condition flags (NZCV) and always returns to EL0
/// with [`PSTATE_USER`].
#[inline(always)]
pub const fn sanitise_register(r: usize, v: u64) -> u64 {
    if r == reg::SPSR_EL1 {
        (v & 0xf000_0000) | PSTATE_USER
    } else {
        v
    }
}

/// CPACR_EL1.FPEN = 0b01: FP/SIMD instructions trap at EL0 only (the kernel may still save
/// and load the registers).
pub const CPACR_FPEN_TRAP_EL0: u64 = 1 << 20;
/// CPACR_EL1.FPEN = 0b11: FP/SIMD instructions do not trap.
pub const CPACR_FPEN_NONE: u64 = 3 << 20;

/// FPU and Advanced SIMD registers of a thread (seL4 `user_fpu_state_t`).
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct FpuState {
    /// q0..q31, each as two words (low, high).
    pub v: [u64; 64],
    /// FPSR.
    pub fpsr: u64,
    /// FPCR.
    pub fpcr: u64,
}

impl Default for FpuState {
    fn default() -> Self {
        FpuState {
            v: [0; 64],
            fpsr: 0,
            fpcr: 0,
        }
    }
}

/// The register context of a user thread. See the module doc for the layout.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct ArchContext {
    /// x0..x30, SP_EL0, ELR_EL1, SPSR_EL1, TPIDR_EL0, TPIDRRO_EL0 ([`reg`]).
    pub regs: [u64; CONTEXT_WORDS],
    /// The CPACR_EL1 the thread runs with: [`CPACR_FPEN_NONE`] while it owns the FPU,
    /// [`CPACR_FPEN_TRAP_EL0`] otherwise.
    pub cpacr: u64,
    /// Keeps `fpu` 16-byte aligned.
    pub _pad: u64,
    /// FPU state.
    pub fpu: FpuState,
}

impl Default for ArchContext {
    fn default() -> Self {
        ArchContext {
            regs: [0; CONTEXT_WORDS],
            cpacr: 0,
            _pad: 0,
            fpu: FpuState::default(),
        }
    }
}

impl ArchContext {
    /// A fresh user context (seL4 `Arch_initContext`): all zero, SPSR [`PSTATE_USER`]. The FPU
    /// is disabled: the thread does not own it, and its first FP instruction loads its (zero)
    /// FPU state lazily (see `object::tcb_ops::fpu_lazy_load`).
    pub fn new_user() -> Self {
        let mut c = ArchContext::default();
        c.regs[reg::SPSR_EL1] = PSTATE_USER;
        c.cpacr = CPACR_FPEN_TRAP_EL0;
        c
    }

    /// Whether the exit enters EL0 (AArch64, SP_EL0) with IRQs unmasked from this context:
    /// always, since the exit forces those SPSR bits whatever the context holds.
    #[inline(always)]
    pub fn returns_to_user(&self) -> bool {
        true
    }

    /// Whether the thread may use the FPU when it returns to user level (CPACR_EL1.FPEN lets
    /// EL0 through).
    #[inline(always)]
    pub fn fpu_enabled(&self) -> bool {
        self.cpacr == CPACR_FPEN_NONE
    }

    /// Whether the FPU registers may hold changes of the thread not yet saved: aarch64 keeps
    /// no dirty bit, so whenever the thread may use the FPU.
    #[inline(always)]
    pub fn fpu_dirty(&self) -> bool {
        self.fpu_enabled()
    }

    /// Lets the thread use the FPU, whose registers now hold its state.
    #[inline(always)]
    pub fn enable_fpu(&mut self) {
        self.cpacr = CPACR_FPEN_NONE;
    }

    /// Makes the thread's next FP instruction trap (ESR class 0x7).
    #[inline(always)]
    pub fn disable_fpu(&mut self) {
        self.cpacr = CPACR_FPEN_TRAP_EL0;
    }
}

/// The architecture's per-thread state kept in the TCB beside the register context.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct ArchTcb {
    /// The TTBR0_EL1 value of the thread's address space (ASID in bits 63..48, the VSpace
    /// root's physical address below), valid while the TCB's `vm_gen` equals
    /// `Kernel::vm_gen` (a cache for the return to user level).
    pub vm_ttbr0: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use abi::arch::aarch64::user_context::idx;
    use core::mem::offset_of;

    #[test]
    fn message_registers() {
        for (i, &r) in regs::MSG.iter().enumerate() {
            assert_eq!(regs::msg(i), r);
        }
        assert_eq!(regs::MSG, [2, 3, 4, 5]);
        assert_eq!((regs::CAP, regs::MSG_INFO, regs::SYSCALL_NUMBER), (0, 1, 7));
    }

    #[test]
    fn layout_used_by_the_trap_assembly() {
        assert_eq!(offset_of!(ArchContext, regs), 0);
        assert_eq!(offset_of!(ArchContext, cpacr), CPACR_OFFSET);
        assert_eq!(offset_of!(ArchContext, fpu), FPU_OFFSET);
        assert_eq!(FPU_OFFSET % 16, 0);
        assert_eq!(core::mem::size_of::<ArchContext>(), FPU_OFFSET + 66 * 8);
    }

    /// `seL4_UserContext` word `i` is register `USER_CONTEXT[i]`, as libsel4's field names say.
    #[test]
    fn user_context_follows_the_abi_order() {
        let u = &regs::USER_CONTEXT;
        assert_eq!(u[idx::PC], regs::FAULT_IP);
        assert_eq!(u[idx::SP], reg::SP_EL0);
        assert_eq!(u[idx::SPSR], reg::SPSR_EL1);
        for n in 0..31 {
            assert_eq!(u[idx::x(n)], n, "x{n}");
        }
        assert_eq!(u[idx::TPIDR_EL0], reg::TPIDR_EL0);
        assert_eq!(u[idx::TPIDRRO_EL0], reg::TPIDRRO_EL0);
    }

    /// The fault messages have seL4's lengths and orders (`abi::arch::aarch64::fault`).
    #[test]
    fn fault_messages_follow_constants_h() {
        use abi::arch::aarch64::fault::{unknown_syscall, user_exception};
        assert_eq!(regs::SYSCALL_MESSAGE.len(), unknown_syscall::SYSCALL);
        assert_eq!(regs::SYSCALL_MESSAGE[unknown_syscall::X0], 0);
        assert_eq!(
            regs::SYSCALL_MESSAGE[unknown_syscall::FAULT_IP],
            regs::FAULT_IP
        );
        assert_eq!(regs::SYSCALL_MESSAGE[unknown_syscall::LR], reg::ELR_EL1);
        assert_eq!(regs::SYSCALL_MESSAGE[unknown_syscall::SPSR], reg::SPSR_EL1);
        assert_eq!(regs::EXCEPTION_MESSAGE.len(), user_exception::NUMBER);
        // The fault message buffer holds the longest aarch64 message (it once held riscv64's
        // 11 words, and an unknown syscall on aarch64, 13, panicked the kernel: sel4test
        // PAGEFAULT0004).
        let words = crate::ipc::fault_message_words(
            regs::SYSCALL_MESSAGE.len(),
            regs::EXCEPTION_MESSAGE.len(),
        );
        assert_eq!(words, unknown_syscall::SYSCALL + 1);
        assert!(words > user_exception::CODE);
        assert_eq!(regs::EXCEPTION_MESSAGE[user_exception::SP], reg::SP_EL0);
        #[cfg(feature = "mcs")]
        {
            let n = abi::arch::aarch64::fault::TIMEOUT_REPLY_LENGTH;
            assert_eq!(regs::TIMEOUT_REPLY_MESSAGE.len(), n);
            assert_eq!(regs::TIMEOUT_REPLY_MESSAGE[..], regs::USER_CONTEXT[..n]);
        }
    }

    #[test]
    fn new_threads_and_the_fpu() {
        let mut c = ArchContext::new_user();
        assert_eq!(c.regs[reg::SPSR_EL1] & 0x1f, PMODE_EL0T);
        assert_ne!(c.regs[reg::SPSR_EL1] & PMODE_FIRQ, 0);
        assert_eq!(
            c.regs[reg::SPSR_EL1] & PMODE_IRQ,
            0,
            "IRQs are taken at EL0"
        );
        assert!(!c.fpu_enabled() && !c.fpu_dirty());
        c.enable_fpu();
        assert!(c.fpu_enabled() && c.fpu_dirty());
        c.disable_fpu();
        assert!(!c.fpu_enabled());
    }

    /// A written SPSR keeps only the condition flags: no way to EL1 or to masked IRQs.
    #[test]
    fn spsr_is_sanitised() {
        assert_eq!(
            sanitise_register(reg::SPSR_EL1, u64::MAX),
            0xf000_0000 | PSTATE_USER
        );
        assert_eq!(sanitise_register(reg::SPSR_EL1, 0x3c5), PSTATE_USER);
        assert_eq!(sanitise_register(reg::X0, 0x3c5), 0x3c5);
        assert_eq!(sanitise_register(reg::ELR_EL1, 7), 7);
    }
}
