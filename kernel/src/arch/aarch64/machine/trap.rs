//! Exception entry and exit (seL4 `src/arch/arm/64/traps.S`, `c_traps.c`).
//!
//! # Convention
//! VBAR_EL1 points at `aarch64_vectors`. The kernel runs on SP_EL1 with all of DAIF masked.
//! While a user thread runs, SP_EL1 holds the kernel-virtual address of its [`ArchContext`]
//! (the exit path leaves it there), so an exception from EL0 finds the context in `sp`.
//!
//! # Entry from EL0 (synchronous, IRQ)
//! x0..x30 go to `regs[0..31]`, SP_EL0, ELR_EL1, SPSR_EL1 and TPIDR_EL0 to their words
//! (TPIDRRO_EL0 only changes through the kernel); for an `svc` the ELR word gets the address of
//! the `svc` itself (ELR_EL1 - 4), which the generic syscall path expects as the thread's pc.
//! Then `sp` becomes the top of the kernel stack (nothing on it survives a return to EL0).
//!
//! With the `fastpath` feature, an `svc` whose x7 is `seL4_SysCall` or `seL4_ReplyRecv` goes
//! to `crate::entry::fastpath_call_entry` or `fastpath_reply_recv_entry` with the caller's x0
//! and x1 (MCS: and x6, the Reply cap, as the third argument) in place. Every other
//! synchronous exception goes to `trap_from_user(esr, far, elr)`, which decodes it
//! (`arch::aarch64::cause`) for `crate::entry::handle_user_trap`; an IRQ goes to
//! `irq_from_user`, which claims it from the GIC. Each returns the context to resume.
//!
//! # Exit to EL0
//! `restore_user_context(ctx)` (also the tail of every entry): CPACR_EL1 from the context's
//! `cpacr` (the thread's FPU access; `eret` synchronises it), SP_EL0, ELR_EL1, TPIDR_EL0,
//! TPIDRRO_EL0 and SPSR_EL1 (with the mode bits and the IRQ mask cleared, so `eret` always
//! enters EL0 with IRQs unmasked) from the context, `sp` = `ctx`, x0..x30, `eret`.
//!
//! The FPU registers are not touched here: the kernel is built for a target without
//! floating point (`aarch64-unknown-none-softfloat`), so it never changes them.
//!
//! # Exceptions in the kernel
//! Kernel code never traps on purpose (the one exception is the semihosting `hlt` of
//! [`super::halt`] on a QEMU without semihosting: it powers off instead). Otherwise the
//! vector switches to a separate panic stack, prints `KERNEL PANIC` with ESR, ELR, FAR and the
//! stack pointer, and halts with failure; an exception while reporting powers off at once.

use core::arch::{asm, global_asm};
use core::mem::offset_of;

use crate::arch::aarch64::context::{ArchContext, CPACR_OFFSET};

/// Size of the stack used only to report an exception taken in the kernel.
const PANIC_STACK_SIZE: usize = 4096;

const _: () = assert!(offset_of!(ArchContext, regs) == 0 && CPACR_OFFSET == 288);
const _: () = assert!(offset_of!(ArchContext, cpacr) == CPACR_OFFSET);

global_asm!(
    r#"
    .section .text.vectors, "ax", @progbits
    .balign 2048
    .globl aarch64_vectors
aarch64_vectors:
    /* Current EL with SP_EL0: never used. */
    b aarch64_kernel_exception
    .balign 128
    b aarch64_kernel_exception
    .balign 128
    b aarch64_kernel_exception
    .balign 128
    b aarch64_kernel_exception
    .balign 128
    /* Current EL with SP_ELx: the kernel. */
    b aarch64_kernel_exception       /* synchronous */
    .balign 128
    b aarch64_kernel_exception       /* IRQ (masked in the kernel) */
    .balign 128
    b aarch64_kernel_exception       /* FIQ */
    .balign 128
    b aarch64_kernel_exception       /* SError */
    .balign 128
    /* Lower EL, AArch64: user threads. */
    b aarch64_user_sync
    .balign 128
    b aarch64_user_irq
    .balign 128
    b aarch64_kernel_exception       /* FIQ */
    .balign 128
    b aarch64_kernel_exception       /* SError */
    .balign 128
    /* Lower EL, AArch32: not supported. */
    b aarch64_kernel_exception
    .balign 128
    b aarch64_kernel_exception
    .balign 128
    b aarch64_kernel_exception
    .balign 128
    b aarch64_kernel_exception
    .balign 128

    .section .text.trap, "ax", @progbits
    .balign 4
aarch64_user_sync:
    stp x0, x1, [sp, #16 * 0]
    stp x2, x3, [sp, #16 * 1]
    stp x4, x5, [sp, #16 * 2]
    stp x6, x7, [sp, #16 * 3]
    stp x8, x9, [sp, #16 * 4]
    stp x10, x11, [sp, #16 * 5]
    stp x12, x13, [sp, #16 * 6]
    stp x14, x15, [sp, #16 * 7]
    stp x16, x17, [sp, #16 * 8]
    stp x18, x19, [sp, #16 * 9]
    stp x20, x21, [sp, #16 * 10]
    stp x22, x23, [sp, #16 * 11]
    stp x24, x25, [sp, #16 * 12]
    stp x26, x27, [sp, #16 * 13]
    stp x28, x29, [sp, #16 * 14]
    mrs x21, sp_el0
    stp x30, x21, [sp, #8 * 30]
    mrs x22, elr_el1
    mrs x23, spsr_el1
    mrs x24, tpidr_el0
    mrs x25, esr_el1
    lsr x26, x25, #26
    cmp x26, #{ec_svc64}
    b.ne 1f
    sub x22, x22, #4                 /* svc: the thread's pc is the svc */
1:  stp x22, x23, [sp, #8 * 32]
    str x24, [sp, #8 * 34]
    mov x20, sp
    adrp x21, kernel_stack_top
    add x21, x21, :lo12:kernel_stack_top
    mov sp, x21
.if {fastpath}
    b.ne 3f
    cmn x7, #-({sys_call})           /* x7 == seL4_SysCall */
    b.ne 2f
    mov x2, x22                      /* the svc's pc */
    bl {fastpath_call}
    b aarch64_restore_user_context
2:  cmn x7, #-({sys_reply_recv})
    b.ne 3f
    mov x2, x22                      /* the svc's pc; MCS: the Reply cap's CPtr stays in x6 */
    bl {fastpath_reply_recv}
    b aarch64_restore_user_context
.endif
3:  mov x0, x25
    mrs x1, far_el1
    ldr x2, [x20, #8 * 32]
    bl {trap_from_user}
    /* x0 = the context to resume. */

    .globl aarch64_restore_user_context
aarch64_restore_user_context:
    mov sp, x0
    ldr x1, [sp, #{cpacr}]
    msr cpacr_el1, x1
    ldp x21, x22, [sp, #8 * 31]      /* SP_EL0, ELR_EL1 */
    ldp x23, x24, [sp, #8 * 33]      /* SPSR_EL1, TPIDR_EL0 */
    ldr x25, [sp, #8 * 35]           /* TPIDRRO_EL0 */
    bic x23, x23, #0x1f              /* EL0t, AArch64 */
    bic x23, x23, #0x80              /* IRQs unmasked */
    msr sp_el0, x21
    msr elr_el1, x22
    msr spsr_el1, x23
    msr tpidr_el0, x24
    msr tpidrro_el0, x25
    ldp x0, x1, [sp, #16 * 0]
    ldp x2, x3, [sp, #16 * 1]
    ldp x4, x5, [sp, #16 * 2]
    ldp x6, x7, [sp, #16 * 3]
    ldp x8, x9, [sp, #16 * 4]
    ldp x10, x11, [sp, #16 * 5]
    ldp x12, x13, [sp, #16 * 6]
    ldp x14, x15, [sp, #16 * 7]
    ldp x16, x17, [sp, #16 * 8]
    ldp x18, x19, [sp, #16 * 9]
    ldp x20, x21, [sp, #16 * 10]
    ldp x22, x23, [sp, #16 * 11]
    ldp x24, x25, [sp, #16 * 12]
    ldp x26, x27, [sp, #16 * 13]
    ldp x28, x29, [sp, #16 * 14]
    ldr x30, [sp, #8 * 30]
    eret

    .balign 4
aarch64_user_irq:
    stp x0, x1, [sp, #16 * 0]
    stp x2, x3, [sp, #16 * 1]
    stp x4, x5, [sp, #16 * 2]
    stp x6, x7, [sp, #16 * 3]
    stp x8, x9, [sp, #16 * 4]
    stp x10, x11, [sp, #16 * 5]
    stp x12, x13, [sp, #16 * 6]
    stp x14, x15, [sp, #16 * 7]
    stp x16, x17, [sp, #16 * 8]
    stp x18, x19, [sp, #16 * 9]
    stp x20, x21, [sp, #16 * 10]
    stp x22, x23, [sp, #16 * 11]
    stp x24, x25, [sp, #16 * 12]
    stp x26, x27, [sp, #16 * 13]
    stp x28, x29, [sp, #16 * 14]
    mrs x21, sp_el0
    stp x30, x21, [sp, #8 * 30]
    mrs x22, elr_el1
    mrs x23, spsr_el1
    stp x22, x23, [sp, #8 * 32]
    mrs x24, tpidr_el0
    str x24, [sp, #8 * 34]
    adrp x21, kernel_stack_top
    add x21, x21, :lo12:kernel_stack_top
    mov sp, x21
    bl {irq_from_user}
    b aarch64_restore_user_context

    /* An exception taken in the kernel. From here on a further one goes to the hard-halt
       vectors, which need no memory. */
    .balign 4
aarch64_kernel_exception:
    mov x3, sp
    adrp x4, aarch64_panic_stack_top
    add x4, x4, :lo12:aarch64_panic_stack_top
    mov sp, x4
    adrp x4, aarch64_hard_halt_vectors
    add x4, x4, :lo12:aarch64_hard_halt_vectors
    msr vbar_el1, x4
    isb
    mrs x0, esr_el1
    mrs x1, elr_el1
    mrs x2, far_el1
    mov x4, x30
    bl {kernel_trap}
    udf #0

    .balign 2048
aarch64_hard_halt_vectors:
    .rept 16
    b aarch64_hard_halt
    .balign 128
    .endr
aarch64_hard_halt:
    ldr x0, ={psci_off}
    hvc #0
    ldr x0, ={psci_off}
    smc #0
4:  wfi
    b 4b

    .section .bss.aarch64_panic_stack, "aw", @nobits
    .balign 4096
aarch64_panic_stack:
    .zero {panic_stack_size}
aarch64_panic_stack_top:
"#,
    ec_svc64 = const crate::arch::aarch64::cause::EC_SVC64,
    fastpath = const cfg!(feature = "fastpath") as u8,
    sys_call = const abi::Syscall::Call as i64,
    sys_reply_recv = const abi::Syscall::ReplyRecv as i64,
    fastpath_call = sym crate::entry::fastpath_call_entry,
    fastpath_reply_recv = sym crate::entry::fastpath_reply_recv_entry,
    trap_from_user = sym trap_from_user,
    irq_from_user = sym irq_from_user,
    kernel_trap = sym kernel_trap,
    cpacr = const CPACR_OFFSET,
    psci_off = const super::PSCI_SYSTEM_OFF,
    panic_stack_size = const PANIC_STACK_SIZE,
);

extern "C" {
    /// The exit half of the trap path (assembly above); expects the context in x0.
    fn aarch64_restore_user_context() -> !;
}

/// Enters EL0 with the registers in `*ctx` (see the module doc) and leaves `ctx` in SP_EL1 for
/// the next exception to save into.
///
/// # Safety
/// `ctx` must point to a live, 16-byte aligned [`ArchContext`] reachable through a kernel
/// mapping, which stays valid while the thread runs (the next exception writes into it).
pub unsafe fn restore_user_context(ctx: *mut ArchContext) -> ! {
    // SAFETY: the exit path only reads `*ctx` (valid by the caller's contract), then leaves the
    // kernel with `eret`; nothing of the current kernel stack frame is needed afterwards.
    unsafe { asm!("b {0}", sym aarch64_restore_user_context, in("x0") ctx, options(noreturn)) }
}

/// The full path of a `seL4_Call` the fastpath did not take, made at `pc`: the context to
/// resume (the trap entry called the fastpath and restores it).
#[inline(always)]
pub fn fastpath_call_slow(pc: u64) -> *mut crate::arch::ArchContext {
    crate::entry::fastpath_call_fallback(pc)
}

/// [`fastpath_call_slow`] for `seL4_ReplyRecv`.
#[inline(always)]
pub fn fastpath_reply_recv_slow(pc: u64) -> *mut crate::arch::ArchContext {
    crate::entry::fastpath_reply_recv_fallback(pc)
}

/// Leaves the IPC fastpath: returns to EL0 in thread `t` with `x0` = `badge` and `x1` =
/// `info`, which the fastpath passes here rather than through the context (they are stored
/// into it first: aarch64's exit loads every register from the context).
#[cfg(feature = "fastpath")]
#[inline(always)]
pub fn fastpath_restore(t: crate::object::tcb::TcbRef, badge: u64, info: u64) -> ! {
    t.set_reg(crate::arch::regs::BADGE, badge);
    t.set_reg(crate::arch::regs::MSG_INFO, info);
    // SAFETY: the context inside a live TCB (a `TcbRef` names one), which stays valid while
    // the thread runs.
    unsafe { restore_user_context(t.context_ptr()) }
}

/// The Rust side of a synchronous exception from EL0 with these ESR_EL1, FAR_EL1 and saved pc
/// (the ELR word of the context: the `svc` itself for a syscall), with a fixed (C) calling
/// convention for the assembly.
extern "C" fn trap_from_user(esr: u64, far: u64, elr: u64) -> *mut ArchContext {
    crate::entry::handle_user_trap(|| crate::arch::aarch64::cause::decode(esr, far, elr))
}

/// The Rust side of an IRQ taken at EL0: claims it from the GIC.
extern "C" fn irq_from_user() -> *mut ArchContext {
    crate::entry::handle_user_trap(|| crate::entry::Event::Interrupt(super::gic::claim_for_entry()))
}

/// The name of an exception class, for the panic report.
fn class_name(esr: u64) -> &'static str {
    match (esr >> 26) & 0x3f {
        0x00 => "unknown reason",
        0x01 => "WFI/WFE",
        0x07 => "FP/SIMD access",
        0x0e => "illegal execution state",
        0x15 => "SVC",
        0x16 => "HVC",
        0x17 => "SMC",
        0x18 => "system register access",
        0x20 | 0x21 => "instruction abort",
        0x22 => "pc alignment fault",
        0x24 | 0x25 => "data abort",
        0x26 => "sp alignment fault",
        0x2f => "SError",
        0x3c => "BRK",
        _ => "exception",
    }
}

/// Reports an exception taken in the kernel and stops the machine (runs on the panic stack).
extern "C" fn kernel_trap(esr: u64, elr: u64, far: u64, sp: u64, lr: u64) -> ! {
    if super::SEMIHOSTING_EXIT.load(core::sync::atomic::Ordering::SeqCst) != 0 {
        // `halt(false)`'s semihosting call trapped: QEMU runs without semihosting.
        super::psci_system_off();
    }
    // Printed without `core::fmt`, whose code is boot-only in lean builds (`build.rs`).
    if !crate::log::PRINTING {
        super::halt(false)
    }
    use crate::log::Out::*;
    crate::log::println(&[
        Str("KERNEL PANIC: exception in the kernel: "),
        Str(class_name(esr)),
        Str(" (ESR "),
        Hex(esr),
        Str(") at ELR "),
        Hex(elr),
        Str(", FAR "),
        Hex(far),
        Str(", LR "),
        Hex(lr),
        Str(", SP "),
        Hex(sp),
    ]);
    if super::boot::kernel_stack_overflowed() {
        crate::log::println(&[Str("KERNEL PANIC: the kernel stack overflowed")]);
    }
    super::halt(false)
}
