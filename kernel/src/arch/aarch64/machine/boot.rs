//! The kernel's first instructions: from the hand-off to the Rust boot flow in the upper half.
//!
//! `_start` is the kernel ELF's entry point and the image's first byte, at `KERNEL_ELF_BASE`
//! = `PPTR_BASE` + [`KERNEL_ELF_PADDR_BASE`] (virtual, `0xFFFF_FF80_4020_0000`) =
//! `0x4020_0000` (physical). It is entered in one of two ways, which it tells apart by where
//! it runs:
//! - **firmware boot** (QEMU `-kernel` with a Linux arm64 `Image`, Documentation/arch/arm64/
//!   booting.rst): at the physical address, EL1 (EL2 with `virtualization=on`), MMU off,
//!   x0 = the device tree's physical address; the root task is the initrd. The first 64
//!   bytes are the `Image` header (a branch over it, `text_offset`, `image_size`, flags and
//!   the magic `ARM\x64`);
//! - **seL4's boot protocol** (seL4_tools' elfloader, this repository's `loader/`; seL4
//!   `src/arch/arm/64/head.S`, `init_kernel`): at the virtual address, EL1, MMU and caches on
//!   with the loader's TTBR1_EL1 mapping the kernel image (its TTBR0_EL1 maps the loader),
//!   x0..x5 = `ui_p_reg_start`, `ui_p_reg_end`, `pv_offset`, `v_entry`, `dtb_addr_p`,
//!   `dtb_size`.
//!
//! Anything else (the MMU on at the physical entry, the virtual entry at another exception
//! level or with the MMU off, or the image loaded at another physical address) is reported on
//! the PL011 and stops the machine (status 1 under semihosting). `_start` uses only
//! pc-relative addressing for what it writes (so it works at either address) and literals for
//! physical addresses. It:
//! 1. masks all exceptions; in a firmware boot at EL2 it sets the hypervisor up so that EL1
//!    runs AArch64 with the counter and timer available and drops to EL1 (`eret`);
//! 2. points VBAR_EL1 at the early vectors (a trap before the upper half took over prints a
//!    line through the PL011 and stops), selects SP_EL1;
//! 3. zeroes `.bss` (which holds the tables and the stack);
//! 4. fills the kernel's level-1 table (TTBR1: entries 0..=510 the window, 1 GiB Normal
//!    write-back blocks of physical 0..511 GiB; entry 511 the device block, physical 0..1 GiB,
//!    Device-nGnRnE) and an identity map of the image's gigabyte for TTBR0 (a level-0 and a
//!    level-1 table);
//! 5. under a loader, puts that identity map in TTBR0 (the loader's TTBR1 still maps the
//!    image) and jumps to the physical alias of what follows, so that the kernel's own TTBR1
//!    and TCR never change under the code that runs;
//! 6. sets MAIR_EL1, TCR_EL1 (T0SZ 16, T1SZ 25, 4 KiB granules, 40-bit physical addresses,
//!    16-bit ASIDs taken from TTBR0), the tables, and SCTLR_EL1 as seL4's `head.S` does (MMU,
//!    caches, EL0 cache maintenance and CTR_EL0 access on; alignment checks, EL0 stack
//!    alignment checks and big-endian off), and jumps to `boot_high` through an absolute
//!    address.
//!
//! `boot_high` (upper half) sets `sp` to the top of the kernel stack and VBAR_EL1 to the trap
//! vectors, calls [`early_init`] (TTBR0 becomes the empty global user VSpace, the counter and
//! timer are set up), then `kernel_main(x0, x1, x2, x3, x4, x5, loader)` with the registers
//! as they were at entry and `loader` = 1 for seL4's boot protocol, or `kernel_main(0, dtb,
//! 0, 0, 0, 0, 0)` for a firmware boot; the kernel binary (`main.rs`) defines it.
//!
//! Everything that runs only during boot sits in the image's first pages, up to `ki_boot_end`
//! (`link-aarch64.ld`, completed by `build.rs` as riscv64's: `.boot.*` sections, Rust boot
//! functions by name), which boot hands out as untyped memory at its end, as seL4 does.

use core::arch::{asm, global_asm};

use super::{pptr_to_paddr, KERNEL_ELF_PADDR_BASE, KERNEL_STACK_SIZE};
use crate::arch::aarch64::vspace::{MAIR_DEVICE_NGNRNE, MAIR_NORMAL, MAIR_VALUE};

/// Block descriptor bits of the kernel's mappings.
mod desc {
    pub const BLOCK: u64 = 0b01;
    pub const TABLE: u64 = 0b11;
    pub const AF: u64 = 1 << 10;
    pub const SH_INNER: u64 = 3 << 8;
    pub const PXN: u64 = 1 << 53;
    pub const UXN: u64 = 1 << 54;
}

/// A window block: Normal write-back, inner shareable, EL1 read-write (AP 00), global,
/// executable by the kernel (the image is in the window), never by EL0.
const WINDOW_BLOCK: u64 = desc::BLOCK | MAIR_NORMAL << 2 | desc::SH_INNER | desc::AF | desc::UXN;
/// The device block: Device-nGnRnE, EL1 read-write, never executable.
const DEVICE_BLOCK: u64 = desc::BLOCK | MAIR_DEVICE_NGNRNE << 2 | desc::AF | desc::UXN | desc::PXN;
/// The boot identity block (TTBR0, only until `early_init`).
const IDENTITY_BLOCK: u64 = desc::BLOCK | MAIR_NORMAL << 2 | desc::SH_INNER | desc::AF;

/// TCR_EL1: T0SZ 16 (48-bit user space, 4 levels), IRGN0/ORGN0 write-back, SH0 inner, TG0
/// 4 KiB; T1SZ 25 (39-bit kernel space, starting at level 1), IRGN1/ORGN1 write-back, SH1
/// inner, TG1 4 KiB; IPS 40 bits; AS: 16-bit ASIDs; A1 = 0: the ASID comes from TTBR0.
pub const TCR_VALUE: u64 = 16
    | 1 << 8
    | 1 << 10
    | 3 << 12
    | 25 << 16
    | 1 << 24
    | 1 << 26
    | 3 << 28
    | 2 << 30
    | 2 << 32
    | 1 << 36;

/// The TTBR0 fields of TCR_EL1 (T0SZ, EPD0, IRGN0, ORGN0, SH0, TG0): what `_start` sets to
/// its own before it puts its identity map in TTBR0 under a loader's TTBR1.
const TCR_TTBR0_MASK: u64 = 0xffff;

/// SCTLR_EL1 bits `_start` sets (seL4 `CR_BITS_SET`): M, C, I, UCT, UCI.
const SCTLR_SET: u64 = 1 << 0 | 1 << 2 | 1 << 12 | 1 << 15 | 1 << 26;
/// SCTLR_EL1 bits `_start` clears (seL4 `CR_BITS_CLEAR`): A, SA0, EE, E0E.
const SCTLR_CLEAR: u64 = 1 << 1 | 1 << 4 | 1 << 25 | 1 << 24;
/// The SCTLR_EL1 value before the MMU is on (RES1 bits of ARMv8.0, SA, nTWI, nTWE: QEMU's
/// reset value for the cortex-a53), used when entered at EL2.
const SCTLR_EL1_RESET: u64 = 0x00c5_0838;

/// Index of the kernel's level-1 entry of the device block.
const DEVICE_INDEX: u64 = 511;

global_asm!(
    r#"
    .section .boot.entry, "ax", @progbits
    .globl _start
_start:
    /* The arm64 Image header (64 bytes). */
    b 1f                             /* code0: branch over the header */
    .word 0                          /* code1 */
    .quad {text_offset}              /* text_offset */
    .quad __kernel_image_size        /* image_size (effective, .bss included) */
    .quad 0x2                        /* flags: little-endian, 4 KiB pages, placed near RAM base */
    .quad 0, 0, 0                    /* res2..res4 */
    .ascii "ARM\x64"                 /* magic */
    .word 0                          /* res5 */

1:  msr daifset, #0xf
    mov x19, x0                      /* keep the hand-off registers */
    mov x20, x1
    mov x21, x2
    mov x22, x3
    mov x23, x4
    mov x24, x5
    mov x28, #0                      /* no semihosting exit tried yet */

    /* Which hand-off? x9 = where _start runs, x10 = its link (virtual) address. */
    adr x9, _start
    ldr x10, =_start
    cmp x9, x10
    b.eq 20f
    ldr x10, ={kernel_paddr}
    cmp x9, x10
    b.ne 12f                         /* not at the physical address the image is linked for */

    /* The physical entry: a firmware boot (QEMU -kernel), x0 = the device tree. */
    mov x20, x19                     /* kernel_main(0, dtb, 0, 0, 0, 0, 0) */
    mov x19, #0
    mov x21, #0
    mov x22, #0
    mov x23, #0
    mov x24, #0
    mov x25, #0
    mrs x1, CurrentEL
    lsr x1, x1, #2
    cmp x1, #2
    b.ne 2f
    /* At EL2: EL1 is AArch64 (HCR_EL2.RW), may use the counter and timer (CNTHCTL_EL2
       EL1PCTEN, EL1PCEN), sees no virtual counter offset; its SCTLR starts as at reset. */
    mov x1, #(1 << 31)
    msr hcr_el2, x1
    mov x1, #3
    msr cnthctl_el2, x1
    msr cntvoff_el2, xzr
    ldr x1, ={sctlr_reset}
    msr sctlr_el1, x1
    mov x1, #0x3c5                   /* EL1h, D, A, I, F masked */
    msr spsr_el2, x1
    adr x1, 3f
    msr elr_el2, x1
    eret
2:  cmp x1, #1
    b.ne 11f
    mrs x1, sctlr_el1
    tbnz x1, #0, 11f                 /* the MMU on at the physical entry: no hand-off we know */
3:  adr x1, boot_early_vectors
    msr vbar_el1, x1
    msr spsel, #1
    isb
    bl boot_tables
    b 30f

    /* The virtual entry: seL4's boot protocol (a loader mapped the image there with TTBR1),
       x0..x5 = ui_p_reg_start, ui_p_reg_end, pv_offset, v_entry, dtb_addr_p, dtb_size. */
20: mov x25, #1
    mrs x1, CurrentEL
    lsr x1, x1, #2
    cmp x1, #1
    b.ne 13f                         /* a loader for a hypervisor kernel (EL2) */
    mrs x1, sctlr_el1
    tbz x1, #0, 13f
    adr x1, boot_early_vectors
    msr vbar_el1, x1
    msr spsel, #1
    isb
    bl boot_tables
    /* TTBR0 becomes the identity map of the image's gigabyte (the loader's TTBR1 mapping of
       the image stays): T0SZ 16 and the TTBR0 walk attributes as ours, the attributes as
       ours (index 4 is Normal write-back, as in seL4's elfloader). */
    ldr x4, ={mair}
    msr mair_el1, x4
    mrs x4, tcr_el1
    ldr x5, ={tcr_ttbr0_mask}
    bic x4, x4, x5
    ldr x5, ={tcr_ttbr0}
    orr x4, x4, x5
    msr tcr_el1, x4
    msr ttbr0_el1, x2
    isb
    tlbi vmalle1
    dsb nsh
    isb
    /* On to the physical alias of 30f, through the identity map. */
    adr x1, 30f
    ldr x2, ={kernel_offset}
    sub x1, x1, x2
    br x1

    /* At the physical address (MMU off, or on with the identity map in TTBR0): the early
       vectors there, then the kernel's tables and the MMU as seL4's head.S sets it. */
30: adr x1, boot_early_vectors
    msr vbar_el1, x1
    ldr x1, =__kernel_l1_pa
    ldr x2, =__boot_l0_pa
    ldr x4, ={mair}
    msr mair_el1, x4
    ldr x4, ={tcr}
    msr tcr_el1, x4
    msr ttbr0_el1, x2
    msr ttbr1_el1, x1
    isb
    tlbi vmalle1
    dsb nsh
    isb
    /* The MMU and caches on (seL4 head.S: CR_BITS_SET, CR_BITS_CLEAR). */
    mrs x4, sctlr_el1
    ldr x5, ={sctlr_set}
    orr x4, x4, x5
    ldr x5, ={sctlr_clear}
    bic x4, x4, x5
    msr sctlr_el1, x4
    isb
    ldr x1, =boot_high
    br x1

    /* Zeroes .bss and fills the tables, wherever the image runs (pc-relative addresses);
       returns x1 = the physical address of the kernel's level-1 table, x2 = that of the
       identity map's level-0 table. Clobbers x3..x7. */
boot_tables:
    adrp x3, __bss_start
    add x3, x3, :lo12:__bss_start
    adrp x4, __bss_end
    add x4, x4, :lo12:__bss_end
4:  cmp x3, x4
    b.hs 5f
    stp xzr, xzr, [x3], #16
    b 4b
5:  /* The kernel's level-1 table: the window, then the device block. */
    adrp x1, kernel_l1
    add x1, x1, :lo12:kernel_l1
    ldr x2, ={window_block}
    mov x3, #0
6:  orr x4, x2, x3, lsl #30
    str x4, [x1, x3, lsl #3]
    add x3, x3, #1
    cmp x3, #{device_index}
    b.lo 6b
    ldr x4, ={device_block}
    str x4, [x1, x3, lsl #3]
    /* The identity map of the image's gigabyte: boot_l0[0] -> boot_l1[gib]. */
    adrp x2, boot_l0
    add x2, x2, :lo12:boot_l0
    adrp x3, boot_l1
    add x3, x3, :lo12:boot_l1
    ldr x4, =__boot_l1_pa
    orr x4, x4, #{table}
    str x4, [x2]
    ldr x4, ={kernel_paddr}
    lsr x5, x4, #30
    lsl x6, x5, #30
    ldr x7, ={identity_block}
    orr x6, x6, x7
    str x6, [x3, x5, lsl #3]
    dsb ishst
    ldr x1, =__kernel_l1_pa
    ldr x2, =__boot_l0_pa
    ret

11: adr x9, boot_bad_entry_message
    b boot_fail
12: adr x9, boot_bad_paddr_message
    b boot_fail
13: adr x9, boot_bad_loader_message
    b boot_fail

    /* A trap before the upper half took over, or a hand-off the kernel cannot take: report
       through QEMU's PL011 (physical: where this runs is the physical address, or identity-
       mapped) and stop: semihosting exit with status 1 (QEMU exits with it if semihosting is
       on; else the `hlt` traps back here), else PSCI SYSTEM_OFF. */
    .balign 2048
boot_early_vectors:
    .rept 16
    b boot_early_trap
    .balign 128
    .endr
boot_early_trap:
    cbnz x28, 9f                     /* the semihosting exit trapped: power off */
    adr x9, boot_early_trap_message
boot_fail:                           /* x9 = the message */
    mrs x4, CurrentEL
    cmp x4, #(2 << 2)
    b.eq 6f
    mrs x4, sctlr_el1
    bic x4, x4, #1
    msr sctlr_el1, x4                /* MMU off: physical addressing */
    isb
6:  ldr x2, =0x09000000
7:  ldrb w3, [x9], #1
    cbz w3, 8f
    str w3, [x2]
    b 7b
8:  mov x28, #1
    adr x1, boot_exit_block
    mov x0, #0x18                    /* SYS_EXIT */
    hlt #0xf000
9:  ldr x0, ={psci_off}
    hvc #0
10: wfi
    b 10b
    .balign 8
boot_exit_block:
    .quad 0x20026, 1                 /* ADP_Stopped_ApplicationExit, status 1 */
boot_early_trap_message:
    .asciz "KERNEL PANIC: trap during early boot (before the upper half took over)\n"
boot_bad_entry_message:
    .asciz "KERNEL PANIC: entered neither by firmware (MMU off, at the physical entry) nor by a seL4 loader (EL1, MMU on, at the virtual entry)\n"
boot_bad_paddr_message:
    .asciz "KERNEL PANIC: the kernel image is not at the physical address it is linked for\n"
boot_bad_loader_message:
    .asciz "KERNEL PANIC: entered at the virtual entry but not at EL1 with the MMU on (a hypervisor kernel's hand-off?): this kernel runs at EL1\n"
    .ltorg

    .section .boot.text.high, "ax", @progbits
    .balign 4
boot_high:
    adrp x1, kernel_stack_top
    add x1, x1, :lo12:kernel_stack_top
    mov sp, x1
    adrp x1, aarch64_vectors
    add x1, x1, :lo12:aarch64_vectors
    msr vbar_el1, x1
    isb
    bl {early_init}
    mov x0, x19                      /* the hand-off registers as they were at entry */
    mov x1, x20
    mov x2, x21
    mov x3, x22
    mov x4, x23
    mov x5, x24
    mov x6, x25                      /* 1: seL4's boot protocol, 0: a firmware boot */
    bl kernel_main
    udf #0                           /* kernel_main does not return */

    .section .bss.kernel_l1, "aw", @nobits
    .balign 4096
    .globl kernel_l1
kernel_l1:
    .zero 4096
    .globl boot_l0
boot_l0:
    .zero 4096
    .globl boot_l1
boot_l1:
    .zero 4096
    .globl global_user_vspace
global_user_vspace:
    .zero 4096

    .section .bss.kernel_stack, "aw", @nobits
    .balign 4096
    .globl kernel_stack_bottom, kernel_stack_top
kernel_stack_bottom:
    .zero {stack_size}
kernel_stack_top:

    .section .bss.irq_node, "aw", @nobits
    .balign 4096
    .globl kernel_irq_node
kernel_irq_node:
    .zero {irq_node_bytes}
"#,
    text_offset = const KERNEL_ELF_PADDR_BASE & ((1 << 30) - 1),
    kernel_paddr = const KERNEL_ELF_PADDR_BASE,
    kernel_offset = const super::PPTR_BASE,
    sctlr_reset = const SCTLR_EL1_RESET,
    window_block = const WINDOW_BLOCK,
    device_block = const DEVICE_BLOCK,
    device_index = const DEVICE_INDEX,
    identity_block = const IDENTITY_BLOCK,
    table = const desc::TABLE,
    mair = const MAIR_VALUE,
    tcr = const TCR_VALUE,
    tcr_ttbr0_mask = const TCR_TTBR0_MASK,
    tcr_ttbr0 = const TCR_VALUE & TCR_TTBR0_MASK,
    sctlr_set = const SCTLR_SET,
    sctlr_clear = const SCTLR_CLEAR,
    psci_off = const super::PSCI_SYSTEM_OFF,
    early_init = sym early_init,
    stack_size = const KERNEL_STACK_SIZE,
    irq_node_bytes = const crate::boot::IRQ_NODE_BYTES,
);

extern "C" {
    /// The empty level-0 table threads without a VSpace run on (seL4
    /// `armKSGlobalUserVSpace`).
    static global_user_vspace: [u64; 512];
    /// First byte of the kernel stack.
    static kernel_stack_bottom: u8;
    /// First byte after the kernel stack (its initial `sp`).
    static kernel_stack_top: u8;
    /// First byte of the kernel image (`link-aarch64.ld`: the `Image` header, the virtual
    /// alias of [`KERNEL_ELF_PADDR_BASE`]).
    static __kernel_image_start: u8;
    /// First byte after the kernel's boot-only part (`link-aarch64.ld`, seL4's symbol name).
    static ki_boot_end: u8;
    /// First byte after the kernel image, `.bss` included (`link-aarch64.ld`, seL4's symbol
    /// name).
    static ki_end: u8;
    /// The IRQ node (seL4 `intStateIRQNode`): [`crate::boot::IRQ_NODE_BYTES`] of `.bss`.
    static kernel_irq_node: u8;
}

/// The kernel-virtual address of the IRQ node: [`crate::boot::IRQ_NODE_BYTES`] of `.bss`,
/// page-aligned, part of the kernel image (never untyped).
pub fn irq_node() -> crate::mem::PPtr<crate::object::interrupt::IrqNode> {
    const _: () = assert!(
        core::mem::size_of::<crate::object::interrupt::IrqNode>() == crate::boot::IRQ_NODE_BYTES
    );
    // SAFETY: `kernel_irq_node` is a page-aligned static of exactly an `IrqNode`'s size
    // (asserted above) in the kernel image, used by nothing else.
    unsafe { crate::mem::PPtr::from_addr(&raw const kernel_irq_node as usize) }
}

/// The physical address of the empty global user VSpace.
pub fn global_user_vspace_paddr() -> u64 {
    pptr_to_paddr(&raw const global_user_vspace as usize)
}

/// The kernel image's physical extent `[start, end)`: from the `Image` header to `ki_end`,
/// the end of `.bss`, which holds the tables and the stacks (seL4 `get_p_reg_kernel_img`).
pub fn kernel_image_paddr() -> (u64, u64) {
    let (start, end) = (
        &raw const __kernel_image_start as usize,
        &raw const ki_end as usize,
    );
    (pptr_to_paddr(start), pptr_to_paddr(end))
}

/// The physical extent `[start, end)` of the kernel's boot-only code and data: from its first
/// byte to `ki_boot_end` (seL4 `get_p_reg_kernel_img_boot`).
pub fn kernel_boot_paddr() -> (u64, u64) {
    let (start, end) = (
        &raw const __kernel_image_start as usize,
        &raw const ki_boot_end as usize,
    );
    (pptr_to_paddr(start), pptr_to_paddr(end))
}

/// The kernel stack's virtual extent `[bottom, top)` (used at boot and for every trap).
pub fn kernel_stack() -> (usize, usize) {
    (
        &raw const kernel_stack_bottom as usize,
        &raw const kernel_stack_top as usize,
    )
}

/// The word [`early_init`] writes at the bottom of the kernel stack; it changes only if the
/// stack overflows.
const STACK_CANARY: u64 = 0x5354_4143_4b5f_454e; // "STACK_EN"

/// Whether the kernel stack overflowed (its bottom word is no longer the canary).
pub fn kernel_stack_overflowed() -> bool {
    let bottom = kernel_stack().0 as *const u64;
    // SAFETY: the bottom word of the kernel stack is mapped, aligned kernel memory; a volatile
    // read of it has no side effect.
    unsafe { bottom.read_volatile() != STACK_CANARY }
}

/// The most bytes of the kernel stack used so far (see the riscv64 twin).
pub fn kernel_stack_high_water() -> usize {
    let (bottom, top) = kernel_stack();
    let mut p = bottom + 8;
    while p < top {
        // SAFETY: `p` is an aligned word inside the kernel stack; reading it has no effect.
        if unsafe { (p as *const u64).read_volatile() } != 0 {
            break;
        }
        p += 8;
    }
    top - p
}

/// Machine setup that needs the upper half, run by `boot_high` before `kernel_main`: writes
/// the stack canary; TTBR0 becomes the empty global user VSpace (the identity map is gone);
/// the timer is quiet (virtual timer disabled; EL0 has the counter and timer access the
/// `export_*_user` features give, seL4's `CNTKCTL_EL1` from `check_export_arch_timer`: none by
/// default); the cycle counter runs (PMCR_EL0.E, PMCNTENSET_EL0.C).
extern "C" fn early_init() {
    // SAFETY: the bottom word of the kernel stack is far below this frame and unused.
    unsafe { (kernel_stack().0 as *mut u64).write_volatile(STACK_CANARY) };
    let ttbr0 = global_user_vspace_paddr();
    // SAFETY: nothing runs from the identity map any more (we are in the upper half); the
    // empty table makes every user address fault; the TLB flush drops the identity entries.
    unsafe {
        asm!(
            "msr ttbr0_el1, {0}",
            "isb",
            "tlbi vmalle1",
            "dsb nsh",
            "isb",
            in(reg) ttbr0,
            options(nostack)
        )
    };
    // SAFETY: timer and counter configuration only affect the kernel's own timer and what EL0
    // may read; the PMU cycle counter has no other effect.
    unsafe {
        asm!(
            "msr cntv_ctl_el0, xzr",
            "msr cntkctl_el1, {k}",
            "mrs {t}, pmcr_el0",
            "orr {t}, {t}, #1",
            "msr pmcr_el0, {t}",
            "mov {t}, #(1 << 31)",
            "msr pmcntenset_el0, {t}",
            "isb",
            t = out(reg) _,
            k = in(reg) crate::arch::aarch64::timer::CNTKCTL_EL1,
            options(nostack)
        )
    };
    // The benchmark kernel lets EL0 read the PMU, the cycle counter included (seL4's
    // `CONFIG_EXPORT_PMU_USER`, which sel4bench builds turn on: `PMUSERENR_EL0.EN`, `.CR`): the
    // benchmark root task times system calls with `PMCCNTR_EL0`, which counts guest
    // instructions under `-icount shift=0`.
    #[cfg(feature = "benchmark")]
    // SAFETY: only what EL0 may read changes.
    unsafe {
        asm!(
            "msr pmuserenr_el0, {v}",
            "isb",
            v = in(reg) (1u64 | 1 << 2),
            options(nostack)
        )
    };
}

/// Enables the EL1 virtual timer's output (ENABLE, not masked): the kernel timer starts
/// interrupting once armed.
pub fn enable_timer() {
    // SAFETY: only the kernel's own timer changes.
    unsafe { asm!("msr cntv_ctl_el0, {0}", "isb", in(reg) 1u64, options(nomem, nostack)) };
}
