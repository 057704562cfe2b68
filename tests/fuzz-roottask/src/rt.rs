//! The runtime (bare-metal targets only): `_start`, the root thread's stack, and a panic
//! handler that tells the root thread from a fuzzing thread.
//!
//! Like libsel4's `rt`: `_start` sets `gp`, clears `tp` (the root thread has no
//! `ThreadBlock`), points `sp` at a 64 KiB stack in `.bss` and calls [`rust_start`] with the
//! BootInfo address the kernel passed in `a0`. Unlike it, a panic in a thread whose `tp` is
//! not 0 (a fuzzing child or the ticker) does not halt the machine: a child's state can be
//! wrecked on purpose by its siblings (`TCB_WriteRegisters`, `TCB_CopyRegisters`,
//! `TCB_SetTLSBase`), and whatever it then runs into is a fault for the root task to handle.
//! So the handler executes `unimp`: an illegal-instruction fault to the thread's fault handler.

use abi::{BootInfo, IpcBuffer};

/// Size of the root thread's stack.
pub const STACK_SIZE: usize = 64 * 1024;

core::arch::global_asm!(
    ".section .text._start, \"ax\", @progbits",
    ".globl _start",
    ".type _start, @function",
    "_start:",
    ".option push",
    ".option norelax",
    "    lla gp, __global_pointer$",
    ".option pop",
    "    lla sp, __fuzz_rt_stack_top",
    "    li tp, 0",
    "    call {entry}",
    "1:  j 1b",
    ".size _start, . - _start",
    ".section .bss.__fuzz_rt_stack, \"aw\", @nobits",
    ".balign 16",
    "__fuzz_rt_stack_bottom:",
    ".space {stack_size}",
    ".globl __fuzz_rt_stack_top",
    "__fuzz_rt_stack_top:",
    entry = sym rust_start,
    stack_size = const STACK_SIZE,
);

extern "C" fn rust_start(bootinfo: *const BootInfo) -> ! {
    // SAFETY: `_start` passes the kernel's `a0` unchanged: the BootInfo frame, mapped for the
    // root task's lifetime, followed by the extra BootInfo pages.
    unsafe { libsel4::bootinfo::set_boot_info(bootinfo) };
    let Some(bi) = libsel4::bootinfo::boot_info() else {
        fail_halt("the kernel passed no BootInfo")
    };
    // SAFETY: `ipcBuffer` is the root thread's IPC buffer, mapped read-write by the kernel at
    // boot; nothing else in the program refers to it.
    unsafe { libsel4::ipc::set_ipc_buffer(bi.ipc_buffer as *mut IpcBuffer) };
    crate::root_main(bi)
}

/// Print `FUZZ FAIL <why>` and halt the machine.
pub fn fail_halt(why: &str) -> ! {
    libsel4::println!("FUZZ FAIL {why}");
    loop {
        libsel4::sys::seL4_DebugHalt();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    if libsel4::ipc::thread_pointer() != 0 {
        // A fuzzing thread: fault (illegal instruction) and let the root task restart it.
        loop {
            // SAFETY: `unimp` traps; nothing in memory is touched.
            unsafe { core::arch::asm!("unimp", options(nomem, nostack)) };
        }
    }
    libsel4::println!("\nFUZZ FAIL root task panicked: {info}");
    loop {
        libsel4::sys::seL4_DebugHalt();
    }
}

unsafe extern "C" {
    /// First byte of the program image (`user.ld`).
    static __sel4_image_start: u8;
    /// First byte after the page-aligned end of the image, `.bss` included (`user.ld`).
    static __sel4_image_end: u8;
}

/// The program image's virtual address range (page aligned), as linked by `user.ld`.
pub fn image_range() -> core::ops::Range<usize> {
    let start = &raw const __sel4_image_start;
    let end = &raw const __sel4_image_end;
    start as usize..end as usize
}

/// The root task's global pointer (every thread runs the same image).
pub fn global_pointer() -> u64 {
    let gp: u64;
    // SAFETY: reads a register.
    unsafe { core::arch::asm!("mv {0}, gp", out(reg) gp, options(nomem, nostack)) };
    gp
}

/// The `time` CSR: 10 MHz on QEMU `virt`, deterministic under `-icount`.
pub fn rdtime() -> u64 {
    let t: u64;
    // SAFETY: reads a CSR U-mode may read.
    unsafe { core::arch::asm!("rdtime {0}", out(reg) t, options(nomem, nostack)) };
    t
}
