//! riscv64: the instructions the fault tests run (`ecall`, `unimp`, `ebreak`, `ld`, `sd`,
//! `fcvt.d.l`) and what seL4 reports for them: exception numbers are `scause` values
//! (`handleUserLevelFault(scause, 0)`), a VM fault's FSR is the access-fault cause
//! (`handleVMFault`: 5 load, 7 store, 1 fetch), whatever the page tables held.

use core::arch::asm;

use abi::user_context::{idx, UserContext};
use abi::Word;

use super::{layout, Words};

/// Bytes of each instruction the tests make fault (none is compressed).
pub const INSN: Word = 4;

/// The message index of the unknown-syscall message's first argument register (`A0`).
pub const UNKNOWN_SYSCALL_ARG0: usize = layout::unknown_syscall::A0;

/// The riscv64 words of the UnknownSyscall message besides IP, SP, arguments, number: RA.
pub(super) fn unknown_syscall_extra(m: &mut Words, _ip: Word, r: &UserContext, _n: Word) {
    m.w[layout::unknown_syscall::RA] = r.regs[idx::RA];
}

/// riscv64 has no other UserException words.
pub(super) fn user_exception_extra(_m: &mut Words, _r: &UserContext) {}

/// `scause` 2, illegal instruction: `unimp`, and floating point while the FPU is off.
pub const ILLEGAL_INSTRUCTION: Word = 2;
/// The exception number of a floating-point instruction with the FPU disabled (`sstatus.FS`
/// off: an illegal instruction).
pub const FPU_DISABLED: Word = 2;
/// `scause` 3, breakpoint (`ebreak`).
pub const BREAKPOINT: Word = 3;

/// What a VM fault's FSR word says about the access (riscv64: only its kind, the
/// access-fault cause: load 5, store 7, fetch 1, for missing and forbidding mappings alike).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A load.
    Load,
    /// A store.
    Store,
    /// An instruction fetch.
    Fetch,
}

/// Why an access faults: no mapping, where the walk found an invalid entry covering
/// 2^`bits` bytes, or a mapping that forbids it, by a leaf covering 2^`bits` bytes (riscv64
/// reports neither).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// No translation.
    Missing(u32),
    /// A leaf without the right.
    Denied(u32),
}

/// The FSR word of a VM fault (`seL4_VMFault_FSR`).
pub fn vm_fsr(a: Access, _why: Why) -> Word {
    match a {
        Access::Load => 5,
        Access::Store => 7,
        Access::Fetch => 1,
    }
}

/// Whether `fsr` is the FSR of an `a` (the part of it that is not about the page tables).
pub fn vm_fsr_is(fsr: Word, a: Access) -> bool {
    fsr == vm_fsr(a, Why::Missing(0))
}

/// An unknown syscall `number` with a0..a6 = 0xa0..0xa6, the `ecall`'s address stored at
/// `slot`; returns (a0, a1) after it.
#[inline(always)]
pub fn unknown_syscall(number: Word, slot: usize) -> (Word, Word) {
    let (o0, o1): (Word, Word);
    // SAFETY: an ecall the kernel turns into a fault; the handler's reply may change pc, sp,
    // ra and a0..a7 (declared clobbered, or restored to the same values by the tests).
    unsafe {
        asm!(
            "lla {tmp}, 2f",
            "sd {tmp}, 0({slot})",
            "2: ecall",
            slot = in(reg) slot,
            tmp = out(reg) _,
            inout("a0") 0xa0usize => o0,
            inout("a1") 0xa1usize => o1,
            inout("a2") 0xa2usize => _,
            inout("a3") 0xa3usize => _,
            inout("a4") 0xa4usize => _,
            inout("a5") 0xa5usize => _,
            inout("a6") 0xa6usize => _,
            inout("a7") number => _,
            out("ra") _,
        );
    }
    (o0 as Word, o1 as Word)
}

/// An illegal instruction (`unimp`, 4 bytes) whose address goes to `slot`.
#[inline(always)]
pub fn illegal_instruction(slot: usize) {
    // SAFETY: the instruction traps; the handler moves the pc past it.
    unsafe {
        asm!(
            "lla {tmp}, 2f",
            "sd {tmp}, 0({slot})",
            ".option push",
            ".option norvc",
            "2: unimp",
            ".option pop",
            slot = in(reg) slot,
            tmp = out(reg) _,
        );
    }
}

/// A breakpoint (`ebreak`, 4 bytes) whose address goes to `slot`.
#[inline(always)]
pub fn breakpoint(slot: usize) {
    // SAFETY: the instruction traps; the handler moves the pc past it.
    unsafe {
        asm!(
            "lla {tmp}, 2f",
            "sd {tmp}, 0({slot})",
            ".option push",
            ".option norvc",
            "2: ebreak",
            ".option pop",
            slot = in(reg) slot,
            tmp = out(reg) _,
        );
    }
}

/// Load the word at `addr` into `v` (left as it is if the handler skips the load), the
/// load's address stored at `slot`.
#[inline(always)]
pub fn load(addr: Word, v: &mut Word, slot: usize) {
    // SAFETY: a load that may fault; the handler moves the pc past it.
    unsafe {
        asm!(
            "lla {tmp}, 2f",
            "sd {tmp}, 0({slot})",
            ".option push",
            ".option norvc",
            "2: ld {v}, 0({a})",
            ".option pop",
            slot = in(reg) slot,
            tmp = out(reg) _,
            a = in(reg) addr,
            v = inout(reg) *v,
        );
    }
}

/// Store `v` at `addr`, the store's address stored at `slot`.
#[inline(always)]
pub fn store(addr: Word, v: Word, slot: usize) {
    // SAFETY: a store that may fault; the handler moves the pc past it.
    unsafe {
        asm!(
            "lla {tmp}, 2f",
            "sd {tmp}, 0({slot})",
            ".option push",
            ".option norvc",
            "2: sd {v}, 0({a})",
            ".option pop",
            slot = in(reg) slot,
            tmp = out(reg) _,
            a = in(reg) addr,
            v = in(reg) v,
        );
    }
}

/// 2 * `x` computed in double precision (the first floating-point instruction's address
/// stored at `slot`).
#[inline(always)]
pub fn fp_double(x: Word, slot: usize) -> Word {
    let r: Word;
    // SAFETY: floating-point arithmetic on a scratch register; the first instruction traps
    // while the thread's FPU is disabled.
    unsafe {
        asm!(
            "lla {tmp}, 2f",
            "sd {tmp}, 0({slot})",
            "2: fcvt.d.l ft0, {x}",
            "fadd.d ft0, ft0, ft0",
            "fcvt.l.d {r}, ft0, rtz",
            slot = in(reg) slot,
            tmp = out(reg) _,
            x = in(reg) x,
            r = out(reg) r,
            out("ft0") _,
        );
    }
    r
}

/// Make the instructions just written to memory visible to instruction fetches of this
/// hart (`fence.i`).
pub fn sync_icache() {
    // SAFETY: an instruction fence, no memory access.
    unsafe { asm!("fence.i") };
}

/// A `ret` instruction word (`jalr x0, 0(ra)`).
pub const RET: u32 = 0x0000_8067;

/// The register a function's return address is in (`ra`).
pub const RETURN_ADDRESS: usize = idx::RA;
