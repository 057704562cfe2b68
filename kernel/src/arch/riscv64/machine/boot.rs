//! The kernel's first instructions: from OpenSBI's jump to the Rust boot flow in the high half.
//!
//! OpenSBI enters `_start` at physical [`KERNEL_ELF_PADDR_BASE`] in S-mode with the MMU off,
//! `a0` = hart id and `a1` = physical address of the device tree. `_start` lives in the `.boot`
//! section, linked at virtual = physical address, and uses only pc-relative addressing (it reaches
//! high-half objects through `*_pa` symbols that `link.ld` defines as their physical addresses).
//! It:
//! 1. disables interrupts and the FPU (`sstatus.FS` = Off), points `stvec` at an early trap
//!    handler that reports and stops the machine, and clears `sscratch` (kernel mode);
//! 2. zeroes `.bss` (which holds the root page table and the kernel stack);
//! 3. fills the kernel's Sv39 root page table with gigapages: the identity gigapage of the kernel's
//!    physical address (for the jump), entries 256..=509 (the window at [`PPTR_BASE`] onto
//!    physical 0..254 GiB: RW, global, accessed+dirty), and entry 510 (the kernel image at
//!    [`PPTR_TOP`]: RWX, global, accessed+dirty);
//! 4. enables Sv39 with ASID 0 and jumps to `boot_high` through an absolute address.
//!
//! `boot_high` (high half) sets `sp` to the top of the kernel stack and `stvec` to the trap entry,
//! calls `early_init` (which removes the identity gigapage, so the root table keeps only kernel
//! entries), then calls `kernel_main(hartid, dtb_paddr)`, which the kernel binary (`main.rs`)
//! defines with `#[no_mangle] extern "C" fn kernel_main(hartid: usize, dtb_paddr: usize) -> !`.
//!
//! [`PPTR_BASE`]: super::PPTR_BASE
//! [`PPTR_TOP`]: super::PPTR_TOP

use core::arch::{asm, global_asm};

use super::{pptr_to_paddr, sbi, KERNEL_ELF_PADDR_BASE, KERNEL_STACK_SIZE};

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
    .section .boot.text, "ax", @progbits
    .globl _start
_start:
    csrci sstatus, 2                 # SIE = 0
    csrw sie, zero
    li t0, {fs_mask}
    csrc sstatus, t0                 # FS = Off: the kernel uses no FPU
    lla t0, boot_early_trap
    csrw stvec, t0
    csrw sscratch, zero              # sscratch == 0: in the kernel

    # Zero .bss (physical addresses; 8-byte aligned bounds).
    lla t0, __bss_start_pa
    lla t1, __bss_end_pa
1:  bgeu t0, t1, 2f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
2:
    # The root page table (t0 = its physical address).
    lla t0, __kernel_root_pt_pa
    lla t1, _start
    srli t1, t1, 30                  # t1 = number of the kernel's physical gigapage
    slli t2, t1, 28                  # its PPN in PTE position: (gib << 30 >> 12) << 10
    ori t3, t2, {pte_identity}
    slli t1, t1, 3
    add t1, t0, t1
    sd t3, 0(t1)                     # identity gigapage
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
3:  sd t2, 0(t1)                     # entries 256..=509: the window
    add t2, t2, t3
    addi t1, t1, 8
    bltu t1, t4, 3b

    # Sv39, ASID 0.
    srli t1, t0, 12
    li t2, {satp_sv39}
    or t1, t1, t2
    sfence.vma
    csrw satp, t1
    sfence.vma

    # a0 (hart id) and a1 (DTB) are untouched.
    lla t0, 4f
    ld t0, 0(t0)
    jr t0
    .balign 8
4:  .quad boot_high

    # A trap before the high half took over: report through the SBI and stop.
    .balign 4
boot_early_trap:
    csrw satp, zero                  # physical addressing (we run identity-mapped or unmapped)
    sfence.vma
    lla s0, boot_early_trap_message
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
7:  li t0, {finisher}
    li t1, 0x3333 | (1 << 16)
    sw t1, 0(t0)                     # sifive_test: exit with status 1
    li a7, {eid_srst}
    li a6, 0
    li a0, 0
    li a1, 1
    ecall                            # SBI shutdown, system failure
8:  wfi
    j 8b
boot_early_trap_message:
    .asciz "KERNEL PANIC: trap during early boot (before the page table was enabled)\n"

    .section .text.boot_high, "ax", @progbits
    .balign 4
boot_high:
    la sp, kernel_stack_top
    la t0, riscv_trap_entry
    csrw stvec, t0
    mv s0, a0
    mv s1, a1
    call {early_init}
    mv a0, s0
    mv a1, s1
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
"#,
    fs_mask = const super::super::context::SSTATUS_FS_MASK,
    pte_identity = const PTE_IDENTITY,
    pte_kernel = const PTE_KERNEL,
    pte_window = const PTE_WINDOW,
    kernel_index = const KERNEL_IMAGE_INDEX,
    window_index = const WINDOW_FIRST_INDEX,
    satp_sv39 = const super::SATP_MODE_SV39,
    eid_dbcn = const 0x4442_434E_u32,
    eid_srst = const 0x5352_5354_u32,
    finisher = const 0x10_0000,
    early_init = sym early_init,
    stack_size = const KERNEL_STACK_SIZE,
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
    /// First byte after the kernel image, including `.bss` and the stacks (`link.ld`).
    static __kernel_image_end: u8;
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
    pptr_to_paddr(kernel_root_pt_addr())
}

/// The kernel image's physical extent `[start, end)`: from its first byte (the boot code at
/// [`KERNEL_ELF_PADDR_BASE`]) to the end of `.bss`, which contains the root page table and the
/// stacks.
pub fn kernel_image_paddr() -> (u64, u64) {
    let (start, end) = (
        &raw const __kernel_image_start as usize,
        &raw const __kernel_image_end as usize,
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
