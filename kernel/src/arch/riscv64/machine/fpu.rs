//! Saving and loading a thread's FPU registers (F and D extensions: f0..f31 and fcsr).

use crate::arch::riscv64::context::{FpuState, SSTATUS_FS_INITIAL};
use core::arch::asm;

/// Enables the FPU for the kernel (sstatus.FS = Initial) so that it may move FP registers.
/// The user's FS comes back with its saved `sstatus` when the kernel returns.
fn enable() {
    // SAFETY: setting sstatus.FS only allows FP instructions; it has no other effect.
    unsafe { asm!("csrs sstatus, {0}", in(reg) SSTATUS_FS_INITIAL, options(nomem, nostack)) };
}

/// Stores the FPU registers into `s`.
pub fn save(s: &mut FpuState) {
    enable();
    let p = s as *mut FpuState as usize;
    // SAFETY: `p` points to a live, exclusively borrowed FpuState of 33 words; the stores write
    // exactly its 32 register words and fcsr; FS is enabled above.
    unsafe {
        asm!(
            "fsd f0, 0({p})", "fsd f1, 8({p})", "fsd f2, 16({p})", "fsd f3, 24({p})",
            "fsd f4, 32({p})", "fsd f5, 40({p})", "fsd f6, 48({p})", "fsd f7, 56({p})",
            "fsd f8, 64({p})", "fsd f9, 72({p})", "fsd f10, 80({p})", "fsd f11, 88({p})",
            "fsd f12, 96({p})", "fsd f13, 104({p})", "fsd f14, 112({p})", "fsd f15, 120({p})",
            "fsd f16, 128({p})", "fsd f17, 136({p})", "fsd f18, 144({p})", "fsd f19, 152({p})",
            "fsd f20, 160({p})", "fsd f21, 168({p})", "fsd f22, 176({p})", "fsd f23, 184({p})",
            "fsd f24, 192({p})", "fsd f25, 200({p})", "fsd f26, 208({p})", "fsd f27, 216({p})",
            "fsd f28, 224({p})", "fsd f29, 232({p})", "fsd f30, 240({p})", "fsd f31, 248({p})",
            "frcsr {t}", "sd {t}, 256({p})",
            p = in(reg) p, t = out(reg) _, options(nostack),
        )
    };
}

/// Loads the FPU registers from `s`.
pub fn load(s: &FpuState) {
    enable();
    let p = s as *const FpuState as usize;
    // SAFETY: `p` points to a live FpuState of 33 words; the loads read exactly those; FS is
    // enabled above; only FP registers and fcsr change, which the kernel does not use.
    // The FP registers are deliberately not declared as clobbered: the kernel has no FP code of
    // its own, and a declared clobber of fs0..fs11 would make a non-inlined caller save and
    // restore them around this block, undoing the load of the user's callee-saved FP registers.
    unsafe {
        asm!(
            "fld f0, 0({p})", "fld f1, 8({p})", "fld f2, 16({p})", "fld f3, 24({p})",
            "fld f4, 32({p})", "fld f5, 40({p})", "fld f6, 48({p})", "fld f7, 56({p})",
            "fld f8, 64({p})", "fld f9, 72({p})", "fld f10, 80({p})", "fld f11, 88({p})",
            "fld f12, 96({p})", "fld f13, 104({p})", "fld f14, 112({p})", "fld f15, 120({p})",
            "fld f16, 128({p})", "fld f17, 136({p})", "fld f18, 144({p})", "fld f19, 152({p})",
            "fld f20, 160({p})", "fld f21, 168({p})", "fld f22, 176({p})", "fld f23, 184({p})",
            "fld f24, 192({p})", "fld f25, 200({p})", "fld f26, 208({p})", "fld f27, 216({p})",
            "fld f28, 224({p})", "fld f29, 232({p})", "fld f30, 240({p})", "fld f31, 248({p})",
            "ld {t}, 256({p})", "fscsr {t}",
            p = in(reg) p, t = out(reg) _, options(nostack, readonly),
        )
    };
}
