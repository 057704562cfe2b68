//! The saved user register context of a thread, kept inside its TCB.
//!
//! Layout (bytes), relied on by the trap entry/exit assembly in `machine`:
//! - `regs[0]` (offset 0): the pc to resume at (`sepc`; seL4's NextIP). x0 is hard-wired to zero,
//!   so its slot holds the pc instead.
//! - `regs[i]` (offset 8*i) for i in 1..32: general register x_i.
//! - `sstatus` (offset 256).
//! - `fpu` (offset 264): f0..f31 and fcsr, switched by the kernel (issue: threads/FPU).
#![forbid(unsafe_code)]

/// Byte offset of `sstatus` in [`ArchContext`].
pub const SSTATUS_OFFSET: usize = 256;
/// Byte offset of the FPU state in [`ArchContext`].
pub const FPU_OFFSET: usize = 264;

/// Register numbers of the ABI names used by the kernel.
pub mod reg {
    /// x1 `ra`
    pub const RA: usize = 1;
    /// x2 `sp`
    pub const SP: usize = 2;
    /// x3 `gp`
    pub const GP: usize = 3;
    /// x4 `tp`
    pub const TP: usize = 4;
    /// x5 `t0`
    pub const T0: usize = 5;
    /// x8 `s0`
    pub const S0: usize = 8;
    /// x10 `a0`: capability / badge register.
    pub const A0: usize = 10;
    /// x11 `a1`: message info register.
    pub const A1: usize = 11;
    /// x12 `a2`: first message register (MR0).
    pub const A2: usize = 12;
    /// x17 `a7`: syscall number.
    pub const A7: usize = 17;
    /// x18 `s2`
    pub const S2: usize = 18;
    /// x28 `t3`
    pub const T3: usize = 28;
    /// Pseudo-register: index of the saved pc.
    pub const PC: usize = 0;
}

/// The registers of seL4's syscall and message convention by role (seL4
/// `include/arch/riscv/arch/machine/registerset.h`: `capRegister`, `badgeRegister`,
/// `msgInfoRegister`, `msgRegisters`, the syscall number register), and the fault message
/// layouts (`fault_messages` in `src/arch/riscv/machine/registerset.c`). Generic code names
/// registers only through these.
pub mod regs {
    use super::reg;

    /// The capability address of a syscall (`capRegister`).
    pub const CAP: usize = reg::A0;
    /// The badge a receiver gets (`badgeRegister`).
    pub const BADGE: usize = reg::A0;
    /// The `seL4_MessageInfo` (`msgInfoRegister`).
    pub const MSG_INFO: usize = reg::A1;
    /// The message registers MR0..MR3 (`msgRegisters`).
    pub const MSG: [usize; 4] = [reg::A2, reg::A2 + 1, reg::A2 + 2, reg::A2 + 3];
    /// The register of message register `i` (`i` < 4): [`MSG`]`[i]` without an index check
    /// (a2..a5 are consecutive; indexing the array cost the full IPC path 14 instructions for
    /// four words).
    #[inline(always)]
    pub const fn msg(i: usize) -> usize {
        reg::A2 + i
    }
    /// The syscall number.
    pub const SYSCALL_NUMBER: usize = reg::A7;
    /// MCS: the Reply cap of a receive (`replyRegister`, a6); also `seL4_NBSendWait`'s
    /// destination.
    #[cfg(feature = "mcs")]
    pub const REPLY: usize = reg::A0 + 6;
    /// MCS: `seL4_NBSendRecv`'s destination (`nbsendRecvDest`, t0).
    #[cfg(feature = "mcs")]
    pub const NB_SEND_RECV_DEST: usize = reg::T0;
    /// The pc the thread resumes at (`NextIP`).
    pub const NEXT_IP: usize = reg::PC;
    /// The stack pointer.
    pub const STACK_POINTER: usize = reg::SP;
    /// The thread-local storage base (`seL4_TCB_SetTLSBase`: `tp`).
    pub const TLS_BASE: usize = reg::TP;
    /// The register behind each word of `seL4_UserContext`, in its order (seL4
    /// `frameRegisters` then `gpRegisters`, `src/arch/riscv/machine/registerset.c`): FaultIP,
    /// ra, sp, gp, s0..s11, a0..a7, t0..t6, tp. [`FAULT_IP`] marks the word kept in the TCB.
    #[rustfmt::skip]
    pub const USER_CONTEXT: [usize; abi::user_context::USER_CONTEXT_WORDS] = [
        FAULT_IP, 1, 2, 3, // FaultIP, ra, sp, gp
        8, 9, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, // s0..s11
        10, 11, 12, 13, 14, 15, 16, 17, // a0..a7
        5, 6, 7, 28, 29, 30, 31, // t0..t6
        reg::TP,
    ];
    /// Bytes of the syscall instruction (`ecall`): a syscall returns past it.
    pub const SYSCALL_INSTRUCTION_BYTES: u64 = 4;
    /// In the fault message layouts below: the thread's `FaultIP` (kept in the TCB, not in the
    /// register context).
    pub const FAULT_IP: usize = usize::MAX;
    /// Registers of an unknown-syscall fault message, in order, before the syscall number
    /// (`MessageID_Syscall`: FaultIP, sp, ra, a0..a6); a reply with label 0 writes them back.
    pub const SYSCALL_MESSAGE: [usize; 10] = [
        FAULT_IP,
        reg::SP,
        reg::RA,
        reg::A0,
        reg::A0 + 1,
        reg::A0 + 2,
        reg::A0 + 3,
        reg::A0 + 4,
        reg::A0 + 5,
        reg::A0 + 6,
    ];
    /// Registers of a user-exception fault message, in order, before the exception number and
    /// code (`MessageID_Exception`: FaultIP, sp); a reply with label 0 writes them back.
    pub const EXCEPTION_MESSAGE: [usize; 2] = [FAULT_IP, reg::SP];
    /// MCS: the registers a reply to a timeout fault may write, in order
    /// (`seL4_TimeoutReply_Msg`: the whole `seL4_UserContext`).
    #[cfg(feature = "mcs")]
    pub const TIMEOUT_REPLY_MESSAGE: [usize; abi::user_context::USER_CONTEXT_WORDS] = USER_CONTEXT;
}

/// `sanitiseRegister` (seL4 `include/arch/riscv/arch/machine/registerset.h`): what a value
/// written to register `r` by `seL4_TCB_WriteRegisters`, `CopyRegisters` or a fault reply
/// becomes. Nothing to sanitise on RISC-V.
#[inline(always)]
pub const fn sanitise_register(_r: usize, v: u64) -> u64 {
    v
}

/// FPU registers of a thread (F and D extensions).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct FpuState {
    /// f0..f31.
    pub f: [u64; 32],
    /// fcsr.
    pub fcsr: u64,
}

/// The register context of a user thread. See the module doc for the layout.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct ArchContext {
    /// pc at index 0, x1..x31 at their register numbers.
    pub regs: [u64; 32],
    /// Saved `sstatus` (SPP, SPIE, FS bits are what matter).
    pub sstatus: u64,
    /// FPU state.
    pub fpu: FpuState,
}

/// sstatus.SPIE: interrupts enabled after `sret`.
pub const SSTATUS_SPIE: u64 = 1 << 5;
/// sstatus.SIE: interrupts enabled in S-mode.
pub const SSTATUS_SIE: u64 = 1 << 1;
/// sstatus.SPP: previous privilege was S (clear for user).
pub const SSTATUS_SPP: u64 = 1 << 8;
/// sstatus.FS = Initial.
pub const SSTATUS_FS_INITIAL: u64 = 1 << 13;
/// sstatus.FS = Clean.
pub const SSTATUS_FS_CLEAN: u64 = 2 << 13;
/// sstatus.FS mask (bits 14:13).
pub const SSTATUS_FS_MASK: u64 = 3 << 13;
/// sstatus.SUM: S-mode may access user pages.
pub const SSTATUS_SUM: u64 = 1 << 18;

impl ArchContext {
    /// A fresh user context: all zero, user mode, interrupts enabled on return. `sstatus.FS`
    /// is Off: the thread does not own the FPU, and its first FP instruction loads its (zero,
    /// i.e. Initial) FPU state lazily (see `object::tcb_ops::fpu_lazy_load`).
    pub fn new_user() -> Self {
        ArchContext {
            sstatus: SSTATUS_SPIE,
            ..Default::default()
        }
    }

    /// Whether `sret` with this context's `sstatus` enters user mode with the kernel's
    /// interrupts still off until then (SPP and SIE clear). Every context is: the trap entry
    /// saves `sstatus` as the trap from user mode left it, [`Self::new_user`] starts so and
    /// only the FS bits change; the exit writes it without masking (checked in the host
    /// tests at every return to user level).
    #[inline(always)]
    pub fn returns_to_user(&self) -> bool {
        self.sstatus & (SSTATUS_SPP | SSTATUS_SIE) == 0
    }

    /// Whether the thread may use the FPU when it returns to user level (`sstatus.FS` not
    /// Off).
    #[inline(always)]
    pub fn fpu_enabled(&self) -> bool {
        self.sstatus & SSTATUS_FS_MASK != 0
    }

    /// Whether the thread changed its FPU registers since they were loaded (`sstatus.FS`
    /// Dirty): they must be saved before another thread's are loaded.
    #[inline(always)]
    pub fn fpu_dirty(&self) -> bool {
        self.sstatus & SSTATUS_FS_MASK == SSTATUS_FS_MASK
    }

    /// Lets the thread use the FPU, whose registers now hold its state (`sstatus.FS` Clean).
    #[inline(always)]
    pub fn enable_fpu(&mut self) {
        self.sstatus = (self.sstatus & !SSTATUS_FS_MASK) | SSTATUS_FS_CLEAN;
    }

    /// Makes the thread's next FP instruction trap (`sstatus.FS` Off).
    #[inline(always)]
    pub fn disable_fpu(&mut self) {
        self.sstatus &= !SSTATUS_FS_MASK;
    }
}

/// The architecture's per-thread state kept in the TCB beside the register context.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct ArchTcb {
    /// The `satp` value of the thread's address space, valid while the TCB's `vm_gen` equals
    /// `Kernel::vm_gen` (a cache for the return to user level).
    pub vm_satp: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::offset_of;
    #[test]
    fn message_registers() {
        for (i, &r) in regs::MSG.iter().enumerate() {
            assert_eq!(regs::msg(i), r);
        }
    }

    #[test]
    fn layout_used_by_the_trap_assembly() {
        assert_eq!(offset_of!(ArchContext, regs), 0);
        assert_eq!(offset_of!(ArchContext, sstatus), SSTATUS_OFFSET);
        assert_eq!(offset_of!(ArchContext, fpu), FPU_OFFSET);
        assert_eq!(core::mem::size_of::<ArchContext>(), 264 + 33 * 8);
    }
}
