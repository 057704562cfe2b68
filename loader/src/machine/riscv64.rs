//! The loader's riscv64 part: OpenSBI enters `_start` in S-mode with the MMU off, `a0` = hart
//! id, `a1` = the device tree. The console and stopping are the SBI's; the kernel is mapped
//! with Sv39 (the loader's gigabyte identity-mapped, the kernel from its first virtual 2 MiB
//! page to the end of that gigabyte) and entered with `a0..a5` (seL4 `src/arch/riscv/head.S`),
//! `a6` = the hart id.

use core::arch::{asm, global_asm};
use core::sync::atomic::{AtomicUsize, Ordering};

use loader::Kernel;

/// The architecture's name, for the loader's first line.
pub const NAME: &str = "riscv64";

const STACK_SIZE: usize = 16 * 1024;

global_asm!(
    r#"
    .section .text.entry, "ax", @progbits
    .globl _start
_start:
    csrw sie, zero
    csrci sstatus, 2
    lla t0, __bss_start
    lla t1, __bss_end
1:  bgeu t0, t1, 2f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
2:  lla sp, loader_stack_top
    call loader_main
3:  wfi
    j 3b

    .section .bss.loader_stack, "aw", @nobits
    .balign 16
loader_stack:
    .zero {stack}
loader_stack_top:
"#,
    stack = const STACK_SIZE,
);

/// The hart OpenSBI started the loader on (passed on in `a6`).
static HART_ID: AtomicUsize = AtomicUsize::new(0);

#[no_mangle]
extern "C" fn loader_main(hart_id: usize, dtb: usize) -> ! {
    HART_ID.store(hart_id, Ordering::Relaxed);
    crate::common::load_and_enter(dtb as u64)
}

/// One SBI call (`a7` = extension, `a6` = function); returns `a0` (the error).
fn sbi(eid: usize, fid: usize, a0: usize, a1: usize) -> isize {
    let err: isize;
    // SAFETY: an SBI call only changes a0/a1, which are declared; the firmware returns.
    unsafe {
        asm!("ecall", inlateout("a0") a0 as isize => err, inlateout("a1") a1 => _,
             in("a6") fid, in("a7") eid, options(nostack));
    }
    err
}

/// Writes one byte to the SBI console (DBCN `console_write_byte`, or the legacy
/// `console_putchar`).
pub fn put_byte(b: u8) {
    if sbi(0x4442_434E, 2, usize::from(b), 0) != 0 {
        sbi(1, 0, usize::from(b), 0);
    }
}

/// Shuts the machine down (SBI system reset, failure).
pub fn stop_failed() -> ! {
    sbi(0x5352_5354, 0, 0, 1);
    loop {
        // SAFETY: waiting for an interrupt has no other effect.
        unsafe { asm!("wfi") };
    }
}

/// Sv39 root table and the level-1 table that maps the kernel.
#[repr(C, align(4096))]
struct Table([u64; 512]);
static mut ROOT: Table = Table([0; 512]);
static mut KERNEL_L1: Table = Table([0; 512]);

const V: u64 = 1;
const RWX: u64 = 0b1110;
const A: u64 = 1 << 6;
const D: u64 = 1 << 7;

fn leaf(paddr: u64) -> u64 {
    (paddr >> 12) << 10 | RWX | A | D | V
}

/// Builds the page table: the loader's gigabyte identity-mapped, the kernel from its first
/// virtual 2 MiB page to the end of that gigabyte. Returns the `satp` value.
pub fn map(k: &Kernel, me: (u64, u64)) -> Result<u64, &'static str> {
    const GIB: u64 = 1 << 30;
    const MIB2: u64 = 2 << 20;
    if !k.v_minus_p.is_multiple_of(MIB2) {
        return Err("the kernel's virtual and physical addresses differ by no multiple of 2 MiB");
    }
    let vpn2 = |v: u64| ((v >> 30) & 511) as usize;
    let vpn1 = |v: u64| ((v >> 21) & 511) as usize;
    // SAFETY: one hart, no interrupts: nothing else touches the tables.
    let (root, l1) = unsafe { (&mut *(&raw mut ROOT), &mut *(&raw mut KERNEL_L1)) };
    let kv = k.v_start & !(MIB2 - 1);
    if vpn2(kv) == vpn2(me.0) {
        return Err("the kernel's virtual addresses collide with the loader's");
    }
    root.0[vpn2(me.0)] = leaf(me.0 & !(GIB - 1));
    root.0[vpn2(kv)] = ((&raw const l1.0 as u64) >> 12) << 10 | V;
    let kp = kv.wrapping_sub(k.v_minus_p);
    for (n, i) in (vpn1(kv)..512).enumerate() {
        l1.0[i] = leaf(kp + n as u64 * MIB2);
    }
    Ok((8u64 << 60) | ((&raw const root.0 as u64) >> 12))
}

/// Turns Sv39 on with `satp` and jumps to the kernel's `entry` with the hand-off registers
/// `a0..a5`, the hart id in `a6`.
pub fn enter(satp: u64, entry: u64, regs: [u64; 6]) -> ! {
    let [a0, a1, a2, a3, a4, a5] = regs;
    // SAFETY: the page table maps this code (identity) and the kernel; the kernel's entry
    // takes the hand-off registers and never returns.
    unsafe {
        asm!(
            "sfence.vma",
            "csrw satp, {satp}",
            "sfence.vma",
            "fence.i",
            "jr {entry}",
            satp = in(reg) satp,
            entry = in(reg) entry,
            in("a0") a0, in("a1") a1, in("a2") a2, in("a3") a3, in("a4") a4, in("a5") a5,
            in("a6") HART_ID.load(Ordering::Relaxed), in("a7") 0usize,
            options(noreturn)
        )
    }
}
