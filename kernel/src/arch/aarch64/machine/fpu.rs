//! Saving and loading a thread's FPU and Advanced SIMD registers: q0..q31, FPSR, FPCR (seL4
//! `saveFpuState`/`loadFpuState` in `include/arch/arm/arch/64/mode/fastpath/fastpath.h` and
//! `machine/fpu.h`). The kernel runs with CPACR_EL1.FPEN letting EL1 through always, so it
//! may move the registers whatever the current thread's FPU access is.

use crate::arch::aarch64::context::FpuState;
use core::arch::asm;

/// Stores the FPU registers into `s`.
pub fn save(s: &mut FpuState) {
    let p = s as *mut FpuState as usize;
    // SAFETY: `p` points to a live, exclusively borrowed FpuState (64 words of q registers,
    // then FPSR and FPCR); the stores write exactly those. EL1 FP access is enabled.
    unsafe {
        asm!(
            ".arch_extension fp",
            "stp q0, q1, [{p}, #16 * 0]", "stp q2, q3, [{p}, #16 * 2]",
            "stp q4, q5, [{p}, #16 * 4]", "stp q6, q7, [{p}, #16 * 6]",
            "stp q8, q9, [{p}, #16 * 8]", "stp q10, q11, [{p}, #16 * 10]",
            "stp q12, q13, [{p}, #16 * 12]", "stp q14, q15, [{p}, #16 * 14]",
            "stp q16, q17, [{p}, #16 * 16]", "stp q18, q19, [{p}, #16 * 18]",
            "stp q20, q21, [{p}, #16 * 20]", "stp q22, q23, [{p}, #16 * 22]",
            "stp q24, q25, [{p}, #16 * 24]", "stp q26, q27, [{p}, #16 * 26]",
            "stp q28, q29, [{p}, #16 * 28]", "stp q30, q31, [{p}, #16 * 30]",
            "mrs {t}, fpsr", "str {t}, [{p}, #16 * 32]",
            "mrs {t}, fpcr", "str {t}, [{p}, #16 * 32 + 8]",
            p = in(reg) p, t = out(reg) _, options(nostack),
        )
    };
}

/// Loads the FPU registers from `s`.
pub fn load(s: &FpuState) {
    let p = s as *const FpuState as usize;
    // SAFETY: `p` points to a live FpuState; the loads read exactly it. Only the FP/SIMD
    // registers change, which the kernel (built without floating point) does not use; they are
    // deliberately not declared as clobbered (see the riscv64 twin).
    unsafe {
        asm!(
            ".arch_extension fp",
            "ldp q0, q1, [{p}, #16 * 0]", "ldp q2, q3, [{p}, #16 * 2]",
            "ldp q4, q5, [{p}, #16 * 4]", "ldp q6, q7, [{p}, #16 * 6]",
            "ldp q8, q9, [{p}, #16 * 8]", "ldp q10, q11, [{p}, #16 * 10]",
            "ldp q12, q13, [{p}, #16 * 12]", "ldp q14, q15, [{p}, #16 * 14]",
            "ldp q16, q17, [{p}, #16 * 16]", "ldp q18, q19, [{p}, #16 * 18]",
            "ldp q20, q21, [{p}, #16 * 20]", "ldp q22, q23, [{p}, #16 * 22]",
            "ldp q24, q25, [{p}, #16 * 24]", "ldp q26, q27, [{p}, #16 * 26]",
            "ldp q28, q29, [{p}, #16 * 28]", "ldp q30, q31, [{p}, #16 * 30]",
            "ldr {t}, [{p}, #16 * 32]", "msr fpsr, {t}",
            "ldr {t}, [{p}, #16 * 32 + 8]", "msr fpcr, {t}",
            p = in(reg) p, t = out(reg) _, options(nostack, readonly),
        )
    };
}
