//! The kernel's first instructions: from the hand-off to the Rust boot flow in the high half.
//!
//! `_start` is the kernel ELF's entry point, at [`KERNEL_ELF_BASE`] (virtual) =
//! [`KERNEL_ELF_PADDR_BASE`] (physical), the first byte of the image. It is entered in one of
//! two ways, which it tells apart by where it runs and whether paging is on:
//! - **firmware boot** (OpenSBI, QEMU `-kernel`): at the physical address with the MMU off
//!   (`satp` = 0), `a0` = hart id, `a1` = physical address of the device tree;
//! - **seL4's boot protocol** (seL4_tools' elfloader, rust-sel4's `sel4-kernel-loader`, ...;
//!   seL4 `src/arch/riscv/head.S`): at the virtual address, Sv39 on with the loader's page
//!   table mapping the kernel image, `a0..a5` = `ui_p_reg_start`, `ui_p_reg_end`,
//!   `pv_offset`, `v_entry`, `dtb_addr_p`, `dtb_size` (`a6`, `a7` = hart and core id on SMP).
//!
//! Anything else (running at the physical address with paging on, or loaded at another
//! physical address) is reported on the SBI console and stops the machine. `_start` lives in
//! `.boot.text`, uses only pc-relative addressing for what it writes (so it works at either
//! address) and absolute literals for physical addresses. It:
//! 1. disables interrupts and the FPU (`sstatus.FS` = Off), points `stvec` at an early trap
//!    handler that reports and stops the machine, and clears `sscratch` (the trap entry's
//!    scratch context is set once `stvec` names the trap entry);
//! 2. zeroes `.bss` (which holds the root page table and the kernel stack);
//! 3. fills the kernel's Sv39 root page table with gigapages: the identity gigapage of the
//!    kernel's physical address (for the jump in a firmware boot), entries 256..=509 (the window
//!    at [`PPTR_BASE`] onto physical 0..254 GiB: RW, global, accessed+dirty), and entry 510 (the
//!    kernel image at [`PPTR_TOP`]: RWX, global, accessed+dirty) — the same translation of the
//!    kernel image as the loader's, so switching tables is seamless in both boots;
//! 4. enables Sv39 with ASID 0 and jumps to `boot_high` through an absolute address.
//!
//! `boot_high` sets `sp` to the top of the kernel stack and `stvec` to the trap entry, calls
//! `early_init` (which removes the identity gigapage, so the root table keeps only kernel
//! entries), then calls `kernel_main(a0, a1, a2, a3, a4, a5, loader)` with the registers as
//! they were at entry and `loader` = 1 for seL4's boot protocol, 0 for a firmware boot; the
//! kernel binary (`main.rs`) defines it.
//!
//! Everything that runs only during boot sits in the image's first pages, up to `ki_boot_end`
//! (`link.ld`: `.boot.*` sections; Rust boot functions are put there with
//! `#[link_section = ".boot.text"]`), which boot hands out as untyped memory at its end, as
//! seL4 does.
//!
//! [`KERNEL_ELF_BASE`]: super::KERNEL_ELF_BASE
//! [`PPTR_BASE`]: super::PPTR_BASE
//! [`PPTR_TOP`]: super::PPTR_TOP

use core::arch::{asm, global_asm};

use super::{kpptr_to_paddr, sbi, KERNEL_ELF_PADDR_BASE, KERNEL_STACK_SIZE};

/// PTE bits (Sv39).
mod pte {
    pub const V: u64 = 1 << 0;
    pub const R: u64 = 1 << 1;
    pub const W: u64 = 1 << 2;
    pub const X: u64 = 1 << 3;
    pub const G: u64 = 1 << 5;
    pub const A: u64 = 1 << 6;
    pub const D: u64 = 1 << 7;
}

/// Flags of the temporary identity gigapage.
const PTE_IDENTITY: u64 = pte::V | pte::R | pte::W | pte::X | pte::A | pte::D;
/// Flags of the window gigapages: data only, global, not user.
const PTE_WINDOW: u64 = pte::V | pte::R | pte::W | pte::G | pte::A | pte::D;
/// Flags of the kernel image gigapage.
const PTE_KERNEL: u64 = pte::V | pte::R | pte::W | pte::X | pte::G | pte::A | pte::D;

/// First root-table index of the window (`PPTR_BASE`).
const WINDOW_FIRST_INDEX: usize = 256;
/// Root-table index of the kernel image gigapage (`PPTR_TOP`).
const KERNEL_IMAGE_INDEX: usize = 510;
/// Root-table index of the identity gigapage used during boot.
const IDENTITY_INDEX: usize = (KERNEL_ELF_PADDR_BASE >> 30) as usize & 511;

const _: () = assert!(IDENTITY_INDEX < WINDOW_FIRST_INDEX);
const _: () = assert!(
    super::PPTR_BASE == 0xFFFF_FFC0_0000_0000 && super::PPTR_TOP == super::PPTR_BASE + (254 << 30)
);

global_asm!(
    r#"
    .section .boot.text.entry, "ax", @progbits
    .globl _start
_start:
    fence.i                          # a loader may have just written the image
    csrci sstatus, 2                 # SIE = 0
    csrw sie, zero
    li t0, {fs_mask}
    csrc sstatus, t0                 # FS = Off: the kernel uses no FPU
    lla t0, boot_early_trap
    csrw stvec, t0
    csrw sscratch, zero              # (boot_early_trap does not use it)
    mv s0, a0                        # keep the hand-off registers
    mv s1, a1
    mv s2, a2
    mv s3, a3
    mv s4, a4
    mv s5, a5

    # Which hand-off? t1 = where _start runs, t2 = its virtual address, t3 = satp.
    lla t1, _start
    lla t2, 90f
    ld t2, 0(t2)
    csrr t3, satp
    bne t1, t2, 1f
    beqz t3, 11f                     # at the virtual address with paging off: impossible
    li s6, 1                         # seL4's boot protocol
    j 2f
1:  bnez t3, 11f                     # elsewhere with paging on: not a hand-off we know
    lla t2, 91f
    ld t2, 0(t2)
    bne t1, t2, 12f                  # not at the physical address the image is linked for
    li s6, 0                         # firmware boot
2:
    # Zero .bss (at the addresses we run at; 8-byte aligned bounds).
    lla t0, __bss_start
    lla t1, __bss_end
3:  bgeu t0, t1, 4f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 3b
4:
    # The root page table (t0 = where we write it).
    lla t0, kernel_root_pt
    li t2, {kernel_gib} << 28        # PPN of the kernel's physical gigapage in PTE position
    ori t3, t2, {pte_identity}
    sd t3, {identity_index} * 8(t0)  # identity gigapage
    ori t3, t2, {pte_kernel}
    li t1, {kernel_index} * 8
    add t1, t0, t1
    sd t3, 0(t1)                     # entry 510: the kernel image
    li t2, {pte_window}              # PTE for physical 0
    li t3, 1 << 28                   # PTE increment for 1 GiB
    li t1, {window_index} * 8
    add t1, t0, t1
    li t4, {kernel_index} * 8
    add t4, t0, t4
10: sd t2, 0(t1)                     # entries 256..=509: the window
    add t2, t2, t3
    addi t1, t1, 8
    bltu t1, t4, 10b

    # Sv39, ASID 0.
    lla t1, 92f
    ld t1, 0(t1)
    srli t1, t1, 12
    li t2, {satp_sv39}
    or t1, t1, t2
    sfence.vma
    csrw satp, t1
    sfence.vma

    lla t0, 93f
    ld t0, 0(t0)
    jr t0

11: lla s0, boot_bad_entry_message
    j boot_fail
12: lla s0, boot_bad_paddr_message
    j boot_fail

    .balign 8
90: .quad _start
91: .quad {kernel_paddr}
92: .quad __kernel_root_pt_pa
93: .quad boot_high

    # A trap before the high half took over: report through the SBI and stop. It runs where
    # the trap happened (physical, identity-mapped or in the image's virtual mapping).
    .balign 4
boot_early_trap:
    lla s0, boot_early_trap_message
boot_fail:                           # s0 = the message
5:  lbu a0, 0(s0)
    beqz a0, 7f
    li a7, {eid_dbcn}
    li a6, 2                         # console_write_byte
    ecall
    beqz a0, 6f
    lbu a0, 0(s0)
    li a7, 1                         # legacy console_putchar
    ecall
6:  addi s0, s0, 1
    j 5b
7:  csrr t0, satp
    bnez t0, 8f                      # the finisher is reachable only with paging off
    li t0, {finisher}
    li t1, 0x3333 | (1 << 16)
    sw t1, 0(t0)                     # sifive_test: exit with status 1
8:  li a7, {eid_srst}
    li a6, 0
    li a0, 0
    li a1, 1
    ecall                            # SBI shutdown, system failure
9:  wfi
    j 9b
boot_early_trap_message:
    .asciz "KERNEL PANIC: trap during early boot (before the page table was enabled)\n"
boot_bad_entry_message:
    .asciz "KERNEL PANIC: entered neither by firmware (paging off, at the physical entry) nor by a seL4 loader (paging on, at the virtual entry)\n"
boot_bad_paddr_message:
    .asciz "KERNEL PANIC: the kernel image is not at the physical address it is linked for\n"

    .section .boot.text, "ax", @progbits
    .balign 4
boot_high:
    la sp, kernel_stack_top
    la t0, riscv_trap_entry
    csrw stvec, t0
    la t0, riscv_trap_scratch        # sscratch always names a context (trap.rs)
    csrw sscratch, t0
    call {early_init}
    mv a0, s0
    mv a1, s1
    mv a2, s2
    mv a3, s3
    mv a4, s4
    mv a5, s5
    mv a6, s6
    call kernel_main
    unimp                            # kernel_main does not return

    .section .bss.kernel_root_pt, "aw", @nobits
    .balign 4096
    .globl kernel_root_pt
kernel_root_pt:
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
    fs_mask = const super::super::context::SSTATUS_FS_MASK,
    pte_identity = const PTE_IDENTITY,
    pte_kernel = const PTE_KERNEL,
    pte_window = const PTE_WINDOW,
    kernel_index = const KERNEL_IMAGE_INDEX,
    window_index = const WINDOW_FIRST_INDEX,
    identity_index = const IDENTITY_INDEX,
    kernel_gib = const KERNEL_ELF_PADDR_BASE >> 30,
    kernel_paddr = const KERNEL_ELF_PADDR_BASE,
    satp_sv39 = const super::SATP_MODE_SV39,
    eid_dbcn = const 0x4442_434E_u32,
    eid_srst = const 0x5352_5354_u32,
    finisher = const 0x10_0000,
    early_init = sym early_init,
    stack_size = const KERNEL_STACK_SIZE,
    irq_node_bytes = const crate::boot::IRQ_NODE_BYTES,
);

extern "C" {
    /// The kernel's Sv39 root page table (4 KiB, in `.bss`, filled by `_start`).
    static mut kernel_root_pt: [u64; 512];
    /// First byte of the kernel stack.
    static kernel_stack_bottom: u8;
    /// First byte after the kernel stack (its initial `sp`).
    static kernel_stack_top: u8;
    /// High-half alias of the kernel's first byte (`link.ld`: = `KERNEL_ELF_BASE`).
    static __kernel_image_start: u8;
    /// First byte after the kernel's boot-only part (`link.ld`, seL4's symbol name).
    static ki_boot_end: u8;
    /// First byte after the kernel image, including `.bss` and the stacks (`link.ld`, seL4's
    /// symbol name).
    static ki_end: u8;
    /// The IRQ node (seL4 `intStateIRQNode`), in `.bss`.
    static kernel_irq_node: u8;
}

/// The kernel-virtual address (in the kernel image gigapage) of the kernel's Sv39 root page table:
/// the one in use from boot on, holding only kernel entries (256..=510) once `early_init` ran.
/// User VSpaces copy its entries 256..=511.
pub fn kernel_root_pt_addr() -> usize {
    // Only the address is taken (no reference, no access): safe.
    &raw const kernel_root_pt as usize
}

/// The physical address of [`kernel_root_pt_addr`].
pub fn kernel_root_page_table_paddr() -> u64 {
    kpptr_to_paddr(kernel_root_pt_addr())
}

/// The kernel image's physical extent `[start, end)`: from its first byte (the boot code at
/// [`KERNEL_ELF_PADDR_BASE`]) to `ki_end`, the end of `.bss`, which contains the root page
/// table and the stacks (seL4 `get_p_reg_kernel_img`).
pub fn kernel_image_paddr() -> (u64, u64) {
    let (start, end) = (
        &raw const __kernel_image_start as usize,
        &raw const ki_end as usize,
    );
    (kpptr_to_paddr(start), kpptr_to_paddr(end))
}

/// The physical extent `[start, end)` of the kernel's boot-only code and data: from its first
/// byte to `ki_boot_end` (seL4 `get_p_reg_kernel_img_boot`).
pub fn kernel_boot_paddr() -> (u64, u64) {
    let (start, end) = (
        &raw const __kernel_image_start as usize,
        &raw const ki_boot_end as usize,
    );
    (kpptr_to_paddr(start), kpptr_to_paddr(end))
}

/// The kernel-virtual address of the IRQ node: [`crate::boot::IRQ_NODE_BYTES`] of `.bss`,
/// page-aligned, which only the IRQ code uses.
pub fn irq_node() -> crate::mem::PPtr<crate::object::interrupt::IrqNode> {
    const _: () = assert!(
        core::mem::size_of::<crate::object::interrupt::IrqNode>() == crate::boot::IRQ_NODE_BYTES
    );
    // SAFETY: `kernel_irq_node` is a page-aligned static of exactly an `IrqNode`'s size
    // (asserted above) in the kernel image, used by nothing else.
    unsafe { crate::mem::PPtr::from_addr(&raw const kernel_irq_node as usize) }
}

/// The kernel stack's virtual extent `[bottom, top)` (used at boot and for every trap).
pub fn kernel_stack() -> (usize, usize) {
    (
        &raw const kernel_stack_bottom as usize,
        &raw const kernel_stack_top as usize,
    )
}

/// The word [`early_init`] writes at the bottom of the kernel stack; it changes only if the stack
/// overflows.
const STACK_CANARY: u64 = 0x5354_4143_4b5f_454e; // "STACK_EN"

/// Whether the kernel stack overflowed (its bottom word is no longer the canary that
/// `early_init` wrote). The stack has no guard page (the kernel image is one gigapage): this is
/// checked when reporting a panic. `link.ld` puts the panic stack below it and the root page table above it, so an
/// overflow first lands in the (normally unused) panic stack, never in the page table.
pub fn kernel_stack_overflowed() -> bool {
    let bottom = kernel_stack().0 as *const u64;
    // SAFETY: the bottom word of the kernel stack is mapped, aligned kernel memory; a volatile
    // read of it has no side effect.
    unsafe { bottom.read_volatile() != STACK_CANARY }
}

/// The most bytes of the kernel stack used so far: `.bss` starts zeroed, and the scan looks for
/// the lowest non-zero word above the canary. For tuning [`KERNEL_STACK_SIZE`].
pub fn kernel_stack_high_water() -> usize {
    let (bottom, top) = kernel_stack();
    let mut p = bottom + 8;
    while p < top {
        // SAFETY: `p` is an aligned word inside the kernel stack, below the caller's own frame
        // or part of it; reading it has no side effect.
        if unsafe { (p as *const u64).read_volatile() } != 0 {
            break;
        }
        p += 8;
    }
    top - p
}

/// Machine setup that needs the high half, run by `boot_high` before `kernel_main`:
/// writes the stack canary, removes the identity gigapage, enables the supervisor timer and external interrupt sources in
/// `sie` (`sstatus.SIE` stays clear in the kernel), lets user mode read `cycle`, `time` and
/// `instret`, and disarms the timer.
extern "C" fn early_init() {
    // SAFETY: the bottom word of the kernel stack is far below this frame (the stack is almost
    // empty here) and nothing else uses it.
    unsafe { (kernel_stack().0 as *mut u64).write_volatile(STACK_CANARY) };
    let identity = (kernel_root_pt_addr() + IDENTITY_INDEX * 8) as *mut u64;
    // SAFETY: the slot is inside the kernel's root page table, which only the kernel writes; we
    // run in the high half, so nothing uses the identity gigapage any more; the fence drops its
    // TLB entries.
    unsafe {
        identity.write_volatile(0);
        asm!("sfence.vma", options(nostack));
    }
    const SIE_STIE_SEIE: usize = (1 << 5) | (1 << 9);
    // SAFETY: enabling interrupt sources in `sie` does not deliver interrupts while
    // `sstatus.SIE` is clear (kernel) and nothing is armed yet; `scounteren` only grants user
    // reads of the counters.
    unsafe {
        asm!("csrs sie, {0}", in(reg) SIE_STIE_SEIE, options(nomem, nostack));
        asm!("csrw scounteren, {0}", in(reg) 0b111usize, options(nomem, nostack));
    }
    sbi::set_timer(u64::MAX);
}
