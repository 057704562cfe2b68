//! Trap entry and exit.
//!
//! # Convention
//! `stvec` points at `riscv_trap_entry` (direct mode). `sscratch` holds the kernel-virtual
//! address of an [`ArchContext`]: while a user thread runs, its own; while the kernel runs,
//! that of the thread whose trap it handles (until the exit names the next one), or before
//! the first return to user mode a scratch area (`riscv_trap_scratch`). So the entry always
//! has memory to save registers into, and tells a trap from the kernel by `sstatus.SPP`.
//!
//! # Entry from user mode
//! `csrrw a3, sscratch, a3` swaps the user `a3` with the context pointer; x1..x12 and x14..x31
//! are stored at `8*i` in the context, the user `a3` (now in `sscratch`) at `regs[13]` and
//! `sstatus` at offset 256; `sscratch` names the context again, and (on the way to any Rust
//! code) `sp` becomes the top of the kernel stack (one `lui`: `link.ld` keeps it 4 KiB
//! aligned; nothing on the stack survives a return to user mode). `sepc` goes to `regs[0]`,
//! except for an `ecall`: its pc stays in `a2` for the fastpath or `syscall_entry`, which
//! store it (as `FaultIP`, and past the `ecall` as the next pc) before anything reads the
//! context.
//!
//! With the `fastpath` feature, an `ecall` whose `a7` is `seL4_SysCall` or `seL4_ReplyRecv`
//! goes to `crate::entry::fastpath_call_entry` or `fastpath_reply_recv_entry`, with the
//! caller's `a0` and `a1` still in place as the arguments, the `ecall`'s pc in `a2` and the
//! context in `a3`, which is the current thread's TCB (the context is its first field) (MCS:
//! and for ReplyRecv `a6`, the Reply cap, in place as the seventh). If the fastpath applies,
//! it leaves through its inline exit (`fastpath_restore`, below); otherwise the full path runs and
//! returns the context to resume. Every other `ecall` goes to
//! `crate::entry::syscall_entry`, with the pc in `a2` and the number in `a7` (its third and
//! eighth arguments). For every other trap,
//! `trap_from_user(scause, stval)` decodes the cause (`arch::riscv64::cause`) and
//! `crate::entry::handle_user_trap` runs. The result, the context to resume,
//! is restored as below. `sepc` is saved as is: for a syscall the kernel
//! core advances `regs[0]` by 4.
//!
//! # Exit to user mode
//! `restore_user_context(ctx)` (also the tail of the entry path): `sepc` = `regs[0]`,
//! `sstatus` = saved `sstatus` (its SPP and SIE are clear: every context's are, see
//! `ArchContext::returns_to_user`, so `sret` always enters user mode with interrupts enabled
//! iff the saved SPIE is set); `sscratch` = `ctx`; x1..x31 from the context;
//! `sret`. The context's pc and `sstatus` words are read before `csrw sscratch`, so a bad pointer
//! faults while `sscratch` still names a context (the one the kernel entered with). The fastpath's exit,
//! `fastpath_restore`, is the same with the context in `t6` and `a0`/`a1` (badge and
//! message info) from registers, not from the context; it is inline in each fastpath function
//! (`fastpath_restore`).
//!
//! After `syscall_entry`, `a1` (the high word of `entry::SyscallExit`) says whether
//! the context is that of the thread that trapped, unchanged but for what the kernel's code
//! may overwrite (`entry::resumes_unchanged`). Then `gp`, `tp` and `s0`..`s11` still hold its
//! values (the kernel's code keeps the callee-saved registers and never writes `gp` or
//! `tp`), and the exit loads only the other 17 registers.
//!
//! The FPU registers are not touched here. `sstatus.FS` is part of the saved/restored `sstatus`:
//! the kernel runs with the interrupted thread's FS (boot sets FS = Off for the kernel itself), and
//! the kernel's code contains no floating-point instructions (checked on the built image), so it
//! never changes the FPU state.
//!
//! # Traps from the kernel
//! Kernel code never traps on purpose. If it does, the entry stores the registers into the
//! context `sscratch` names (that thread's registers are lost: the kernel halts) and, seeing
//! `sstatus.SPP` set (an `ecall` from user mode, the only trap it sends elsewhere before that
//! test, never comes from the kernel), points `stvec` at a last-resort handler (print a line, finisher, SBI shutdown; each step guarded the
//! same way, so a second trap while reporting cannot loop), switches to a separate panic stack,
//! prints `KERNEL PANIC` with `scause`, `sepc`, `stval`, `ra` and `sp` (and whether the kernel
//! stack overflowed), and halts with failure.
//!
//! # Cost
//! Entry up to the call of the handler: 45 instructions for a syscall, 41 into the fastpath
//! for ReplyRecv, 43 for Call, 47 for any other trap; exit from the handler's return to user
//! mode: 38 (`sret` included; after `syscall_entry` 39), the fastpath's inline exit 35. A
//! syscall that resumes the thread that made it, unchanged, leaves in 24. Under `-icount`
//! the benchmark's null syscall costs 94 instructions (with the `ecall`; MCS 87, whose
//! dispatch tests it first); see docs/PERFORMANCE.md.

use core::arch::{asm, global_asm};
use core::mem::offset_of;

use crate::arch::riscv64::context::{ArchContext, SSTATUS_OFFSET};

/// Whether the IPC fastpath runs on the caller's `sp` (see the entry below): in release
/// kernels, whose fastpath functions use no stack (`cargo xtask` checks every kernel that
/// has the symbol `riscv_fastpath_on_user_sp` this sets); with debug assertions or
/// `track_utilisation` they call functions, and with more than one domain (the domain test:
/// Microkit's configuration) the ReplyRecv one saves a register: the entry sets up the
/// kernel stack first.
const FASTPATH_ON_USER_SP: bool = cfg!(feature = "fastpath")
    && !cfg!(debug_assertions)
    && !cfg!(feature = "track_utilisation")
    && abi::config::NUM_DOMAINS == 1;

/// Size of the stack used only to report a trap taken in the kernel.
const PANIC_STACK_SIZE: usize = 4096;

const _: () = assert!(offset_of!(ArchContext, regs) == 0 && SSTATUS_OFFSET == 256);
const _: () = assert!(offset_of!(ArchContext, sstatus) == SSTATUS_OFFSET);

global_asm!(
    r#"
    .section .text.trap, "ax", @progbits
    .balign 4
    .globl riscv_trap_entry
riscv_trap_entry:
    csrrw a3, sscratch, a3           # a3 = the context (from the kernel: see the module doc)
    sd x1, 1*8(a3)
    sd x2, 2*8(a3)
    sd x3, 3*8(a3)
    sd x4, 4*8(a3)
    sd x5, 5*8(a3)
    sd x6, 6*8(a3)
    sd x7, 7*8(a3)
    sd x8, 8*8(a3)
    sd x9, 9*8(a3)
    sd x10, 10*8(a3)
    sd x11, 11*8(a3)
    sd x12, 12*8(a3)
    sd x14, 14*8(a3)
    sd x15, 15*8(a3)
    sd x16, 16*8(a3)
    sd x17, 17*8(a3)
    sd x18, 18*8(a3)
    sd x19, 19*8(a3)
    sd x20, 20*8(a3)
    sd x21, 21*8(a3)
    sd x22, 22*8(a3)
    sd x23, 23*8(a3)
    sd x24, 24*8(a3)
    sd x25, 25*8(a3)
    sd x26, 26*8(a3)
    sd x27, 27*8(a3)
    sd x28, 28*8(a3)
    sd x29, 29*8(a3)
    sd x30, 30*8(a3)
    sd x31, 31*8(a3)
    csrrw t0, sscratch, a3           # t0 = user a3; sscratch = the context again
    sd t0, 13*8(a3)
    csrr a2, sepc                    # a2 (saved): the pc, stored below or by the fastpath
    csrr t0, sstatus
    sd t0, {sstatus}(a3)
    csrr t0, scause
    addi t0, t0, -{cause_ecall}
    bnez t0, 1f
.if {fastpath}
.if {fastpath_on_user_sp} == 0
    lui sp, %hi(kernel_stack_top)    # 4 KiB-aligned (link.ld checks it)
.else
    .globl riscv_fastpath_on_user_sp # the mark xtask/src/fastpathcheck.rs looks for
riscv_fastpath_on_user_sp:
.endif
    # The IPC fastpath, with the caller's a0 and a1 still in place as its arguments, the
    # pc of the ecall as the third, the context (the current TCB) as the fourth (MCS: and a6
    # as the seventh); it stores the pc itself. A branch, not a call (link.ld places the two
    # functions right after this section, within a branch's reach): they leave through
    # their inline exit (fastpath_restore), or through the full path (riscv_fastpath_*_slow
    # below), never by returning. In a release kernel they run on the caller's sp: they use
    # no stack (no frame, no call; `cargo xtask` checks every riscv64 release kernel it
    # builds, xtask/src/fastpathcheck.rs), and the kernel stack is set up on the way to the
    # full path. ReplyRecv is tested first, then Call: 2 instructions each.
    # (`.insn`: a plain `beqz` to another section's symbol is assembled as a branch over a
    # jump; this is one `beq t0, zero`, and the linker checks its reach.)
    addi t0, a7, -({sys_reply_recv})
    .insn b 0x63, 0, t0, zero, {fastpath_reply_recv}
    addi t0, t0, ({sys_reply_recv}) - ({sys_call})
    .insn b 0x63, 0, t0, zero, {fastpath_call}
.endif
    lui sp, %hi(kernel_stack_top)    # 4 KiB-aligned (link.ld checks it)
    # Any other ecall: syscall_entry(.., pc in a2, .., number in a7) returns the context to
    # resume in a0 and in a1 whether it is the thread that trapped, unchanged but for what
    # the kernel's code may overwrite (entry::SyscallExit): its gp, tp and s0..s11 are still
    # in the registers then (the kernel's code keeps the callee-saved registers and never
    # writes gp or tp), and only the rest is loaded.
    jal {syscall_entry}
    beqz a1, 5f
    ld t0, 0(a0)
    ld t1, {sstatus}(a0)
    csrw sepc, t0
    csrw sstatus, t1
    csrw sscratch, a0
4:  ld x1, 1*8(a0)
    ld x2, 2*8(a0)
    ld x5, 5*8(a0)
    ld x6, 6*8(a0)
    ld x7, 7*8(a0)
    ld x11, 11*8(a0)
    ld x12, 12*8(a0)
    ld x13, 13*8(a0)
    ld x14, 14*8(a0)
    ld x15, 15*8(a0)
    ld x16, 16*8(a0)
    ld x17, 17*8(a0)
    ld x28, 28*8(a0)
    ld x29, 29*8(a0)
    ld x30, 30*8(a0)
    ld x31, 31*8(a0)
    ld x10, 10*8(a0)
    sret

    # a0 = the context to resume.
    .globl riscv_restore_user_context
riscv_restore_user_context:
5:  ld t0, 0(a0)
    ld t1, {sstatus}(a0)
    csrw sepc, t0
    csrw sstatus, t1
    csrw sscratch, a0
    ld x3, 3*8(a0)
    ld x4, 4*8(a0)
    ld x8, 8*8(a0)
    ld x9, 9*8(a0)
    ld x18, 18*8(a0)
    ld x19, 19*8(a0)
    ld x20, 20*8(a0)
    ld x21, 21*8(a0)
    ld x22, 22*8(a0)
    ld x23, 23*8(a0)
    ld x24, 24*8(a0)
    ld x25, 25*8(a0)
    ld x26, 26*8(a0)
    ld x27, 27*8(a0)
    j 4b

    # The full path for a Call or ReplyRecv the fastpath did not take (its functions jump
    # here with the pc in a0): it returns the context to resume.
    .globl riscv_fastpath_call_slow
riscv_fastpath_call_slow:
    lui sp, %hi(kernel_stack_top)
    jal {fastpath_call_fallback}
    j riscv_restore_user_context
    .globl riscv_fastpath_reply_recv_slow
riscv_fastpath_reply_recv_slow:
    lui sp, %hi(kernel_stack_top)
    jal {fastpath_reply_recv_fallback}
    j riscv_restore_user_context

1:  csrr t1, sstatus                 # any other trap: from the kernel (SPP set)?
    andi t1, t1, {sstatus_spp}
    bnez t1, riscv_kernel_trap
    sd a2, 0(a3)
    lui sp, %hi(kernel_stack_top)
    csrr a0, scause
    csrr a1, stval
    call {handle_user_trap}
    j riscv_restore_user_context

    # Trap from S-mode: sp = 0, sscratch = the kernel sp. From here on, a further trap goes to
    # riscv_trap_hard_halt, which needs no memory (a broken kernel mapping can't loop here).
riscv_kernel_trap:                   # sp is the kernel's (the entry swapped a3)
    la t0, riscv_trap_hard_halt
    csrw stvec, t0
    mv a3, sp
    mv a4, ra
    la sp, riscv_panic_stack_top
    csrr a0, scause
    csrr a1, sepc
    csrr a2, stval
    call {kernel_trap}
    unimp

    # A trap while reporting a kernel trap. Each stage first points stvec at the next one, so
    # whichever step faults, the machine still stops: print a line, then the finisher (exit
    # status 1), then SBI shutdown.
    .balign 4
riscv_trap_hard_halt:
    la t0, 2f
    csrw stvec, t0
    la s0, riscv_nested_trap_message
1:  lbu a0, 0(s0)
    beqz a0, 2f
    li a7, {eid_dbcn}
    li a6, 2                         # console_write_byte
    ecall
    addi s0, s0, 1
    j 1b
    .balign 4
2:  la t0, 3f
    csrw stvec, t0
    la t0, {finisher_paddr}
    ld t0, 0(t0)
    beqz t0, 3f
    li t1, {pptr_base}
    add t0, t0, t1
    li t1, 0x3333 | (1 << 16)
    sw t1, 0(t0)
    .balign 4
3:  li a7, {eid_srst}
    li a6, 0
    li a0, 0
    li a1, 1
    ecall
4:  wfi
    j 4b

    .section .rodata.riscv_trap, "a", @progbits
riscv_nested_trap_message:
    .asciz "KERNEL PANIC: trap while reporting a kernel trap\n"

    # What sscratch names until the first return to user mode: a kernel trap stores the
    # registers here (see the module doc).
    .section .bss.riscv_trap_scratch, "aw", @nobits
    .balign 8
    .globl riscv_trap_scratch
riscv_trap_scratch:
    .zero {context_size}

    .section .bss.riscv_panic_stack, "aw", @nobits
    .balign 4096
riscv_panic_stack:
    .zero {panic_stack_size}
riscv_panic_stack_top:
"#,
    sstatus = const SSTATUS_OFFSET,
    sstatus_spp = const crate::arch::riscv64::context::SSTATUS_SPP,
    context_size = const core::mem::size_of::<ArchContext>(),
    handle_user_trap = sym trap_from_user,
    fastpath = const cfg!(feature = "fastpath") as u8,
    fastpath_on_user_sp = const FASTPATH_ON_USER_SP as u8,
    cause_ecall = const crate::arch::riscv64::cause::CAUSE_USER_ECALL,
    sys_call = const abi::Syscall::Call as i64,
    sys_reply_recv = const abi::Syscall::ReplyRecv as i64,
    fastpath_call = sym crate::entry::fastpath_call_entry,
    fastpath_reply_recv = sym crate::entry::fastpath_reply_recv_entry,
    fastpath_call_fallback = sym crate::entry::fastpath_call_fallback,
    fastpath_reply_recv_fallback = sym crate::entry::fastpath_reply_recv_fallback,
    syscall_entry = sym crate::entry::syscall_entry,
    kernel_trap = sym kernel_trap,
    eid_srst = const 0x5352_5354_u32,
    eid_dbcn = const 0x4442_434E_u32,
    finisher_paddr = sym super::FINISHER_PADDR,
    pptr_base = const super::PPTR_BASE,
    panic_stack_size = const PANIC_STACK_SIZE,
);

extern "C" {
    /// The exit half of the trap path (assembly above); expects the context in `a0`.
    fn riscv_restore_user_context() -> !;
}

/// Enters user mode with the registers in `*ctx` (see the module doc) and makes `ctx` the context
/// that the next trap saves into.
///
/// # Safety
/// `ctx` must point to a live, 8-byte aligned [`ArchContext`] reachable through a kernel mapping,
/// which stays valid while the thread runs (the next trap writes the registers into it).
pub unsafe fn restore_user_context(ctx: *mut ArchContext) -> ! {
    // SAFETY: the exit path only reads `*ctx` (valid by the caller's contract), then leaves the
    // kernel with `sret`; nothing of the current kernel stack frame is needed afterwards.
    unsafe { asm!("tail {0}", sym riscv_restore_user_context, in("a0") ctx, options(noreturn)) }
}

extern "C" {
    fn riscv_fastpath_call_slow(pc: u64) -> *mut ArchContext;
    fn riscv_fastpath_reply_recv_slow(pc: u64) -> *mut ArchContext;
}

/// The full path of a `seL4_Call` the fastpath did not take, made at `pc`
/// (`entry::fastpath_call_fallback`), then the return to user mode: the trap entry branched
/// to the fastpath (no return address), so this does not return to the caller either.
#[inline(always)]
pub fn fastpath_call_slow(pc: u64) -> *mut ArchContext {
    // SAFETY: the stub calls the (safe) fallback on the kernel stack the trap entry set up
    // and leaves to user mode with the context it returns, as the trap path always does.
    unsafe { riscv_fastpath_call_slow(pc) }
}

/// [`fastpath_call_slow`] for `seL4_ReplyRecv`.
#[inline(always)]
pub fn fastpath_reply_recv_slow(pc: u64) -> *mut ArchContext {
    // SAFETY: as in `fastpath_call_slow`.
    unsafe { riscv_fastpath_reply_recv_slow(pc) }
}

/// Leaves the IPC fastpath: returns to user mode in thread `t` with the registers in its
/// context, except `a0` = `badge` and `a1` = `info`, which the fastpath did not write into
/// the context (no one reads them there before the thread's next trap saves them). Inline in
/// each fastpath function (35 instructions), so that no jump leads to it.
#[cfg(feature = "fastpath")]
#[inline(always)]
pub fn fastpath_restore(t: crate::object::tcb::TcbRef, badge: u64, info: u64) -> ! {
    let ctx = t.context_ptr();
    // SAFETY: `ctx` is the context inside a live TCB (a `TcbRef` names one), 8-byte aligned
    // and in the kernel's window; the exit only reads it (and the next trap of `t` writes
    // it), then leaves the kernel with `sret`: nothing of the current stack is needed after.
    // Its pc and `sstatus` words are read before `sscratch` is written (see the module doc).
    unsafe {
        asm!(
            "ld t0, 0(t6)",
            "ld t1, {sstatus}(t6)",
            "csrw sepc, t0",
            "csrw sstatus, t1",
            "csrw sscratch, t6",
            "ld x1, 1*8(t6)",
            "ld x2, 2*8(t6)",
            "ld x3, 3*8(t6)",
            "ld x4, 4*8(t6)",
            "ld x5, 5*8(t6)",
            "ld x6, 6*8(t6)",
            "ld x7, 7*8(t6)",
            "ld x8, 8*8(t6)",
            "ld x9, 9*8(t6)",
            "ld x12, 12*8(t6)",
            "ld x13, 13*8(t6)",
            "ld x14, 14*8(t6)",
            "ld x15, 15*8(t6)",
            "ld x16, 16*8(t6)",
            "ld x17, 17*8(t6)",
            "ld x18, 18*8(t6)",
            "ld x19, 19*8(t6)",
            "ld x20, 20*8(t6)",
            "ld x21, 21*8(t6)",
            "ld x22, 22*8(t6)",
            "ld x23, 23*8(t6)",
            "ld x24, 24*8(t6)",
            "ld x25, 25*8(t6)",
            "ld x26, 26*8(t6)",
            "ld x27, 27*8(t6)",
            "ld x28, 28*8(t6)",
            "ld x29, 29*8(t6)",
            "ld x30, 30*8(t6)",
            "ld x31, 31*8(t6)",
            "sret",
            sstatus = const SSTATUS_OFFSET,
            in("t6") ctx, in("a0") badge, in("a1") info,
            options(noreturn, nostack)
        )
    }
}

/// The Rust side of a trap from user mode, with a fixed (C) calling convention for the assembly.
/// Inlines `handle_user_trap` under LTO. Every `ecall` goes to `syscall_entry` or the
/// fastpath instead (the assembly above), so the cause is decoded without a syscall case
/// (`cause::decode_other`) and this path has no syscall code.
extern "C" fn trap_from_user(scause: u64, stval: u64) -> *mut ArchContext {
    crate::entry::handle_user_trap(|| crate::arch::riscv64::cause::decode_other(scause, stval))
}

/// A short name for an exception or interrupt cause.
fn cause_name(scause: u64) -> &'static str {
    let interrupt = scause >> 63 != 0;
    match (interrupt, scause & !(1 << 63)) {
        (true, 1) => "supervisor software interrupt",
        (true, 5) => "supervisor timer interrupt",
        (true, 9) => "supervisor external interrupt",
        (true, _) => "interrupt",
        (false, 0) => "instruction address misaligned",
        (false, 1) => "instruction access fault",
        (false, 2) => "illegal instruction",
        (false, 3) => "breakpoint",
        (false, 4) => "load address misaligned",
        (false, 5) => "load access fault",
        (false, 6) => "store/AMO address misaligned",
        (false, 7) => "store/AMO access fault",
        (false, 8) => "environment call from U-mode",
        (false, 9) => "environment call from S-mode",
        (false, 12) => "instruction page fault",
        (false, 13) => "load page fault",
        (false, 15) => "store/AMO page fault",
        (false, _) => "exception",
    }
}

/// Reports a trap taken in the kernel and stops the machine (runs on the panic stack).
extern "C" fn kernel_trap(scause: u64, sepc: u64, stval: u64, sp: u64, ra: u64) -> ! {
    if !crate::log::PRINTING {
        super::halt(false)
    }
    use crate::log::Out::*;
    crate::log::println(&[
        Str("KERNEL PANIC: trap in kernel mode: "),
        Str(cause_name(scause)),
        Str(" (scause "),
        Hex(scause),
        Str(") at sepc "),
        Hex(sepc),
        Str(", stval "),
        Hex(stval),
        Str(", ra "),
        Hex(ra),
        Str(", sp "),
        Hex(sp),
    ]);
    if super::boot::kernel_stack_overflowed() {
        crate::log::println(&[Str("KERNEL PANIC: the kernel stack overflowed")]);
    }
    super::halt(false)
}
