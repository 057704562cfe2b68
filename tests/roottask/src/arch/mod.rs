//! What the tests need to know about the architecture they run on: where the registers of
//! seL4's convention are in `seL4_UserContext`, how a thread starts, the name of the 2 MiB
//! frame type, the FPU control word patterns. riscv64 and aarch64 (bare metal; the host
//! type-checks the riscv64 side).

use abi::user_context::{idx, UserContext, USER_CONTEXT_WORDS};
use abi::{ObjectType, Word};

/// Whether this build runs on aarch64.
pub const AARCH64: bool = cfg!(all(target_arch = "aarch64", target_os = "none"));

/// `seL4_UserContext` index of the first argument register, also the capability register
/// (`a0`, `x0`); the others follow it.
#[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
pub const ARG0: usize = idx::A0;
/// `seL4_UserContext` index of the first argument register, also the capability register
/// (`a0`, `x0`); the others follow it.
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub const ARG0: usize = idx::X0;

/// `seL4_UserContext` index of the syscall number register (`a7`, `x7`).
pub const SYSCALL_NUMBER: usize = ARG0 + 7;

/// `seL4_UserContext` index of the TLS register `seL4_TCB_SetTLSBase` sets (`tp`, `tpidr_el0`).
#[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
pub const TLS: usize = idx::TP;
/// `seL4_UserContext` index of the TLS register `seL4_TCB_SetTLSBase` sets (`tp`, `tpidr_el0`).
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub const TLS: usize = idx::TPIDR_EL0;

/// The 2 MiB frame type (`seL4_RISCV_Mega_Page`, `seL4_ARM_LargePageObject`).
#[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
pub const LARGE_PAGE: ObjectType = ObjectType::MegaPage;
/// The 2 MiB frame type (`seL4_RISCV_Mega_Page`, `seL4_ARM_LargePageObject`).
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub const LARGE_PAGE: ObjectType = ObjectType::LargePage;

/// The cap tag of the root task's VSpace cap (a page table on riscv64, a VSpace on aarch64).
pub const VSPACE_TAG: u32 = if AARCH64 {
    libsel4::cap_tag::VSPACE
} else {
    libsel4::cap_tag::PAGE_TABLE
};

/// The registers of a fresh thread: it starts at `pc` with stack `sp`, its TLS register at
/// `tls` (where libsel4 finds its IPC buffer), the root task's global pointer (riscv64), and
/// `args` in the first four argument registers.
pub fn set_entry(r: &mut UserContext, pc: Word, sp: Word, tls: Word, args: [Word; 4]) {
    r.regs[idx::PC] = pc;
    r.regs[idx::SP] = sp;
    r.regs[TLS] = tls;
    r.regs[ARG0..ARG0 + 4].copy_from_slice(&args);
    #[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
    {
        r.regs[idx::GP] = crate::thread::global_pointer();
    }
}

/// Two different values of the FPU control word the FPU tests load (`fcsr`: rounding mode and
/// flags; aarch64 FPCR: rounding mode, default NaN, flush to zero).
#[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
pub const FP_CTL: [Word; 2] = [0x41, 0x82];
/// Two different values of the FPU control word the FPU tests load (`fcsr`: rounding mode and
/// flags; aarch64 FPCR: rounding mode, default NaN, flush to zero).
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub const FP_CTL: [Word; 2] = [1 << 22 | 1 << 25, 2 << 22 | 1 << 24];

/// Spins for at least `us` µs of guest time: by the `time` CSR on riscv64; on aarch64, where
/// EL0 may not read the counter (seL4 leaves `CNTKCTL_EL1` at 0), by running `1000 * us`
/// iterations of a loop of several instructions (at least `us` µs under `-icount shift=0`,
/// one instruction per ns; longer without it).
#[cfg_attr(not(feature = "mcs"), allow(dead_code))]
pub fn spin_us(us: Word) {
    #[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
    {
        let t0 = crate::thread::rdtime();
        while crate::thread::rdtime() - t0 < us * 10 {}
    }
    #[cfg(all(target_arch = "aarch64", target_os = "none"))]
    {
        for i in 0..us * 1000 {
            core::hint::black_box(i);
        }
    }
}

/// Words in `seL4_UserContext` (32 on riscv64, 36 on aarch64): what ReadRegisters and
/// WriteRegisters take at most.
pub const WORDS: usize = USER_CONTEXT_WORDS;

/// The frame registers: the first `FRAME_WORDS` words of `seL4_UserContext` (16 on riscv64,
/// 17 on aarch64); CopyRegisters' `transferFrame` copies these, `transferInteger` the rest.
pub const FRAME_WORDS: usize = idx::FRAME_WORDS;

/// A register context as the tests compare them: on aarch64 the SPSR word keeps only its
/// condition flags, since the kernel sanitises what is written there (seL4 `sanitiseRegister`:
/// EL0, the masks of `PSTATE_USER`, which differ between debug and release kernels).
pub fn cmp(r: &UserContext) -> UserContext {
    #[allow(unused_mut)]
    let mut r = *r;
    #[cfg(all(target_arch = "aarch64", target_os = "none"))]
    {
        r.regs[idx::SPSR] &= 0xf000_0000;
    }
    r
}

/// log2 of the bytes one entry covers at each level that has page tables below the root,
/// from the root down: where `create_it_address_space` makes a table per region touched.
#[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
pub const TABLE_SPANS: &[u32] = &[30, 21];
/// log2 of the bytes one entry covers at each level that has page tables below the root,
/// from the root down: where `create_it_address_space` makes a table per region touched.
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub const TABLE_SPANS: &[u32] = &[39, 30, 21];

/// `getMaxUsToTicks()`: riscv64 at 10 ticks per µs, aarch64 at 62.5 (`qemu-arm-virt`'s
/// 62.5 MHz, through kHz: `UINT64_MAX / TIMER_CLOCK_KHZ`).
#[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
#[cfg_attr(not(feature = "mcs"), allow(dead_code))]
pub const MAX_US_TO_TICKS: Word = u64::MAX / 10;
/// `getMaxUsToTicks()`: riscv64 at 10 ticks per µs, aarch64 at 62.5 (`qemu-arm-virt`'s
/// 62.5 MHz, through kHz: `UINT64_MAX / TIMER_CLOCK_KHZ`).
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
#[cfg_attr(not(feature = "mcs"), allow(dead_code))]
pub const MAX_US_TO_TICKS: Word = u64::MAX / 62_500;

#[cfg(arch_aarch64)]
mod aarch64;
#[cfg(arch_riscv64)]
mod riscv64;

/// The instructions and the exception numbers of the fault tests (`t_fault`), the paging
/// facts of the VSpace tests (`t_vspace`) and the interrupt facts of the IRQ tests (`t_irq`):
/// what each instruction set decides.
#[cfg(arch_aarch64)]
pub use aarch64::*;
/// The instructions and the exception numbers of the fault tests (`t_fault`), the paging
/// facts of the VSpace tests (`t_vspace`) and the interrupt facts of the IRQ tests (`t_irq`):
/// what each instruction set decides.
#[cfg(arch_riscv64)]
pub use riscv64::*;

/// The layouts of the fault messages (seL4's `seL4_UnknownSyscall_*`, `seL4_UserException_*`,
/// `seL4_VMFault_*` message register indices of this architecture).
pub use abi::arch::current::fault as layout;

/// A fault message or reply of at most 13 words (aarch64's unknown-syscall message, the
/// longest), built by its layout's indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Words {
    /// The words; those past `len` are 0.
    pub w: [Word; 13],
    /// How many.
    pub len: usize,
}

impl Words {
    /// `len` zero words.
    pub fn new(len: usize) -> Words {
        Words { w: [0; 13], len }
    }

    /// The first `len` words of `words`.
    pub fn from(words: &[Word], len: usize) -> Words {
        let mut w = Words::new(len);
        w.w[..len].copy_from_slice(&words[..len]);
        w
    }

    /// The words as a slice.
    pub fn as_slice(&self) -> &[Word] {
        &self.w[..self.len]
    }

    /// The same words, only the first `len`.
    pub fn prefix(mut self, len: usize) -> Words {
        self.w[len..].fill(0);
        self.len = len;
        self
    }
}

/// The UnknownSyscall message of a thread that made syscall `number` at `ip` with the
/// argument registers `args` (a0..a6 or x0..x6), its registers otherwise `r` (as
/// ReadRegisters gives them while it waits for the reply): riscv64 FaultIP, SP, RA, A0..A6,
/// Syscall (11 words); aarch64 X0..X7, FaultIP, SP, LR (the address after the `svc`), SPSR,
/// Syscall (13 words) (`SYSCALL_MESSAGE` in seL4's `registerset.h`, `seL4_UnknownSyscall_*`).
pub fn unknown_syscall_msg(ip: Word, r: &UserContext, args: [Word; 7], number: Word) -> Words {
    use layout::unknown_syscall as L;
    let mut m = Words::new(L::LENGTH);
    m.w[L::FAULT_IP] = ip;
    m.w[L::SP] = r.regs[idx::SP];
    m.w[UNKNOWN_SYSCALL_ARG0..UNKNOWN_SYSCALL_ARG0 + 7].copy_from_slice(&args);
    m.w[L::SYSCALL] = number;
    unknown_syscall_extra(&mut m, ip, r, number);
    m
}

/// The UserException message of a thread that took exception `number` at `ip`, its registers
/// `r`: riscv64 FaultIP, SP, Number, Code (4 words); aarch64 FaultIP, SP, SPSR, Number, Code
/// (5 words) (`EXCEPTION_MESSAGE`, `seL4_UserException_*`; `handleUserLevelFault(number, 0)`:
/// Code 0).
pub fn user_exception_msg(ip: Word, r: &UserContext, number: Word) -> Words {
    use layout::user_exception as L;
    let mut m = Words::new(L::LENGTH);
    m.w[L::FAULT_IP] = ip;
    m.w[L::SP] = r.regs[idx::SP];
    m.w[L::NUMBER] = number;
    m.w[L::CODE] = 0;
    user_exception_extra(&mut m, r);
    m
}
