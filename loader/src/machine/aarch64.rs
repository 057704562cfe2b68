//! The loader's aarch64 part: QEMU `virt` loads the loader's ELF at its addresses and enters
//! `_start` at EL1 with the MMU off; as for any bare-metal ELF (not a Linux `Image`) it puts
//! the device tree at the base of RAM ([`RAM_BASE`]) and passes nothing in `x0` (a loader
//! started the Linux way, with the device tree in `x0`, finds it there first). The console is
//! QEMU's PL011; stopping is Arm semihosting's `SYS_EXIT` (status 1; `cargo xtask` turns
//! semihosting on), else PSCI `SYSTEM_OFF`; every trap in the loader reports and stops too.
//!
//! The kernel is mapped as seL4_tools' elfloader maps it ([`loader::aarch64_kernel_map`]):
//! TTBR1_EL1 (T1SZ 16) with 2 MiB blocks from its first virtual 2 MiB block to the end of its
//! gigabyte; TTBR0_EL1 (T0SZ 16) maps the loader's gigabyte at its physical addresses; MAIR
//! as the elfloader's (index 4 Normal write-back), 4 KiB granules, 16-bit ASIDs. The MMU and
//! caches go on and the loader jumps to the kernel's virtual entry at EL1 with `x0..x5` (seL4
//! `src/arch/arm/64/head.S`).

use core::arch::{asm, global_asm};

use loader::Kernel;

/// The architecture's name, for the loader's first line.
pub const NAME: &str = "aarch64";

/// Where QEMU `virt`'s RAM starts, and where it puts the device tree for a bare-metal ELF.
const RAM_BASE: u64 = 0x4000_0000;
/// QEMU `virt`'s PL011 (physical; the MMU is off while the loader prints).
const PL011: usize = 0x0900_0000;
/// PSCI `SYSTEM_OFF`.
const PSCI_SYSTEM_OFF: u64 = 0x8400_0008;

const STACK_SIZE: usize = 16 * 1024;

global_asm!(
    r#"
    .section .text.entry, "ax", @progbits
    .globl _start
_start:
    msr daifset, #0xf
    mov x19, x0
    adr x1, loader_vectors
    msr vbar_el1, x1
    msr spsel, #1
    isb
    adrp x1, __bss_start
    add x1, x1, :lo12:__bss_start
    adrp x2, __bss_end
    add x2, x2, :lo12:__bss_end
1:  cmp x1, x2
    b.hs 2f
    str xzr, [x1], #8
    b 1b
2:  adrp x1, loader_stack_top
    add x1, x1, :lo12:loader_stack_top
    mov sp, x1
    mov x0, x19
    mrs x1, CurrentEL
    lsr x1, x1, #2
    bl loader_main
3:  wfi
    b 3b

    /* Any trap in the loader: say so on the PL011 and power off. */
    .balign 2048
loader_vectors:
    .rept 16
    b loader_trap
    .balign 128
    .endr
loader_trap:
    adr x1, loader_trap_message
    ldr x2, ={pl011}
4:  ldrb w3, [x1], #1
    cbz w3, 5f
    str w3, [x2]
    b 4b
5:  ldr x0, ={psci_off}
    hvc #0
6:  wfi
    b 6b
loader_trap_message:
    .asciz "loader: error: unexpected trap (or semihosting off)\n"
    .ltorg

    .section .bss.loader_stack, "aw", @nobits
    .balign 16
loader_stack:
    .zero {stack}
loader_stack_top:
"#,
    stack = const STACK_SIZE,
    pl011 = const PL011,
    psci_off = const PSCI_SYSTEM_OFF,
);

#[no_mangle]
extern "C" fn loader_main(x0: u64, el: u64) -> ! {
    if el != 1 {
        crate::common::fail(
            "entered at EL2 (QEMU with virtualization=on): this loader enters EL1 kernels from EL1",
        );
    }
    let dtb = if crate::common::dtb_size_at(x0).is_some() {
        x0
    } else {
        RAM_BASE
    };
    crate::common::load_and_enter(dtb)
}

/// Writes one byte to the PL011, waiting while its FIFO is full.
pub fn put_byte(b: u8) {
    const UARTFR_TXFF: u32 = 1 << 5;
    // SAFETY: the PL011's data and flag registers at their physical addresses (the MMU is off
    // while the loader prints); nothing else uses the UART.
    unsafe {
        while ((PL011 + 0x18) as *const u32).read_volatile() & UARTFR_TXFF != 0 {}
        (PL011 as *mut u32).write_volatile(u32::from(b));
    }
}

/// Stops the machine with status 1: semihosting `SYS_EXIT` (`ADP_Stopped_ApplicationExit`,
/// code 1); without semihosting the `hlt` traps and the trap vector powers off.
pub fn stop_failed() -> ! {
    let block: [u64; 2] = [0x2_0026, 1];
    // SAFETY: the semihosting call `SYS_EXIT` (0x18) with x1 pointing at its parameter block;
    // QEMU exits. Without semihosting `hlt` traps to the loader's vectors, which power off.
    unsafe { asm!("hlt #0xf000", in("x0") 0x18u64, in("x1") block.as_ptr(), options(nostack)) };
    loop {
        // SAFETY: waiting has no other effect.
        unsafe { asm!("wfi") };
    }
}

/// A 4 KiB translation table.
#[repr(C, align(4096))]
struct Table([u64; 512]);
/// TTBR0: the loader's gigabyte (level 0, level 1 with one 1 GiB block).
static mut LOW_L0: Table = Table([0; 512]);
static mut LOW_L1: Table = Table([0; 512]);
/// TTBR1: the kernel (levels 0, 1, and 2 with the 2 MiB blocks).
static mut HIGH_L0: Table = Table([0; 512]);
static mut HIGH_L1: Table = Table([0; 512]);
static mut HIGH_L2: Table = Table([0; 512]);

const TABLE: u64 = 0b11;
const BLOCK: u64 = 0b01;
/// AttrIndx 4 (Normal write-back), inner shareable, access flag.
const NORMAL: u64 = 4 << 2 | 3 << 8 | 1 << 10;
/// MAIR_EL1 as seL4's elfloader and the kernel set it: Device-nGnRnE, Device-nGnRE,
/// Device-GRE, Normal non-cacheable, Normal write-back, Normal write-through.
const MAIR: u64 = u64::from_le_bytes([0x00, 0x04, 0x0c, 0x44, 0xff, 0xbb, 0, 0]);
/// TCR_EL1: T0SZ = T1SZ = 16 (48-bit halves), write-back inner-shareable walks, 4 KiB
/// granules (TG0 0, TG1 2), 40-bit physical addresses, 16-bit ASIDs.
const TCR: u64 = 16
    | 1 << 8
    | 1 << 10
    | 3 << 12
    | 16 << 16
    | 1 << 24
    | 1 << 26
    | 3 << 28
    | 2 << 30
    | 2 << 32
    | 1 << 36;
/// SCTLR_EL1: M, C, I.
const SCTLR_MMU_CACHES: u64 = 1 | 1 << 2 | 1 << 12;

/// Builds the tables (the loader's gigabyte at its physical addresses in TTBR0, the kernel as
/// the elfloader maps it in TTBR1); returns the physical addresses of the two level-0 tables.
pub fn map(k: &Kernel, me: (u64, u64)) -> Result<(u64, u64), &'static str> {
    const GIB: u64 = 1 << 30;
    const MIB2: u64 = 2 << 20;
    let m = loader::aarch64_kernel_map(k)?;
    if me.0 >> 30 != (me.1 - 1) >> 30 {
        return Err("the loader spans more than one gigabyte");
    }
    // SAFETY: one core, interrupts masked, the MMU off: nothing else touches the tables.
    let (l0, l1, h0, h1, h2) = unsafe {
        (
            &mut *(&raw mut LOW_L0),
            &mut *(&raw mut LOW_L1),
            &mut *(&raw mut HIGH_L0),
            &mut *(&raw mut HIGH_L1),
            &mut *(&raw mut HIGH_L2),
        )
    };
    let addr = |t: &Table| &raw const t.0 as u64;
    l0.0[((me.0 >> 39) & 511) as usize] = addr(l1) | TABLE;
    l1.0[((me.0 >> 30) & 511) as usize] = (me.0 & !(GIB - 1)) | NORMAL | BLOCK;
    h0.0[m.l0] = addr(h1) | TABLE;
    h1.0[m.l1] = addr(h2) | TABLE;
    for (n, i) in (m.l2..512).enumerate() {
        h2.0[i] = (m.paddr + n as u64 * MIB2) | NORMAL | BLOCK;
    }
    Ok((addr(l0), addr(h0)))
}

/// Turns the MMU and caches on with the tables of [`map`] and jumps to the kernel's virtual
/// `entry` at EL1 with the hand-off registers `x0..x5`.
pub fn enter((ttbr0, ttbr1): (u64, u64), entry: u64, regs: [u64; 6]) -> ! {
    let [x0, x1, x2, x3, x4, x5] = regs;
    // SAFETY: the tables map this code at its physical addresses and the kernel at its
    // virtual ones; the loader copied everything with the MMU off (no stale cache lines), and
    // the instruction cache is invalidated before the jump. The kernel never returns.
    unsafe {
        asm!(
            "dsb sy",
            "msr mair_el1, {mair}",
            "msr tcr_el1, {tcr}",
            "msr ttbr0_el1, {ttbr0}",
            "msr ttbr1_el1, {ttbr1}",
            "isb",
            "tlbi vmalle1",
            "dsb nsh",
            "isb",
            "mrs {mair}, sctlr_el1",
            "orr {mair}, {mair}, {sctlr}",
            "msr sctlr_el1, {mair}",
            "isb",
            "ic iallu",
            "dsb nsh",
            "isb",
            "br {entry}",
            mair = in(reg) MAIR,
            tcr = in(reg) TCR,
            ttbr0 = in(reg) ttbr0,
            ttbr1 = in(reg) ttbr1,
            sctlr = in(reg) SCTLR_MMU_CACHES,
            entry = in(reg) entry,
            in("x0") x0, in("x1") x1, in("x2") x2, in("x3") x3, in("x4") x4, in("x5") x5,
            options(noreturn)
        )
    }
}
