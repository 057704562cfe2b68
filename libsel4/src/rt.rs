//! Root-task runtime (feature `rt`, bare-metal targets only).
//!
//! seL4 starts the root task at its ELF entry with only the first argument register set (`a0`
//! on riscv64, x0 on aarch64: the BootInfo frame's address): no stack, no TLS, no arguments.
//! `_start` (below) sets `gp` (riscv64), clears the thread pointer (`tp`, TPIDR_EL0: the root
//! thread has no [`ThreadBlock`](crate::ipc::ThreadBlock)), points `sp` at a 64 KiB stack in
//! `.bss` (the kernel maps the ELF's segments with `.bss` zeroed, so nothing needs clearing)
//! and calls into Rust with the BootInfo address untouched. The Rust side records the BootInfo and
//! the IPC buffer address (`BootInfo.ipcBuffer`) and calls the program's entry, declared with
//! [`root_task!`](crate::root_task).
//!
//! A panic prints its message with `seL4_DebugPutChar` and calls `seL4_DebugHalt`.
//!
//! Only [`image_range`] exists on other targets (returning an empty range), so that root-task
//! crates still type-check on the host.

#[cfg(target_os = "none")]
use abi::{BootInfo, IpcBuffer};

/// Size of the root task's stack.
pub const STACK_SIZE: usize = 64 * 1024;

#[cfg(all(target_os = "none", target_arch = "riscv64"))]
core::arch::global_asm!(
    ".section .text._start, \"ax\", @progbits",
    ".globl _start",
    ".type _start, @function",
    "_start:",
    ".option push",
    ".option norelax",
    "    lla gp, __global_pointer$",
    ".option pop",
    "    lla sp, __sel4_rt_stack_top",
    "    li tp, 0",
    "    call {entry}",
    "1:  j 1b",
    ".size _start, . - _start",
    ".section .bss.__sel4_rt_stack, \"aw\", @nobits",
    ".balign 16",
    ".globl __sel4_rt_stack_bottom",
    "__sel4_rt_stack_bottom:",
    ".space {stack_size}",
    ".globl __sel4_rt_stack_top",
    "__sel4_rt_stack_top:",
    entry = sym rust_start,
    stack_size = const STACK_SIZE,
);

#[cfg(all(target_os = "none", target_arch = "aarch64"))]
core::arch::global_asm!(
    ".section .text._start, \"ax\", %progbits",
    ".globl _start",
    ".type _start, %function",
    "_start:",
    "    adrp x1, __sel4_rt_stack_top",
    "    add x1, x1, :lo12:__sel4_rt_stack_top",
    "    mov sp, x1",
    "    msr tpidr_el0, xzr",
    "    bl {entry}",
    "1:  b 1b",
    ".size _start, . - _start",
    ".section .bss.__sel4_rt_stack, \"aw\", %nobits",
    ".balign 16",
    ".globl __sel4_rt_stack_bottom",
    "__sel4_rt_stack_bottom:",
    ".space {stack_size}",
    ".globl __sel4_rt_stack_top",
    "__sel4_rt_stack_top:",
    entry = sym rust_start,
    stack_size = const STACK_SIZE,
);

#[cfg(target_os = "none")]
unsafe extern "C" {
    /// The program's entry, defined by [`root_task!`](crate::root_task).
    fn __sel4_root_task_main(bootinfo: &'static BootInfo) -> !;
}

#[cfg(target_os = "none")]
extern "C" fn rust_start(bootinfo: *const BootInfo) -> ! {
    // SAFETY: `_start` passes the kernel's a0/x0 unchanged: the BootInfo frame, mapped for the
    // root task's lifetime, followed by the extra BootInfo pages.
    unsafe { crate::bootinfo::set_boot_info(bootinfo) };
    let bi = crate::bootinfo::boot_info().expect("the kernel passed no BootInfo");
    // SAFETY: `ipcBuffer` is the root thread's IPC buffer, mapped read-write by the kernel at
    // boot; nothing else in the program refers to it.
    unsafe { crate::ipc::set_ipc_buffer(bi.ipc_buffer as *mut IpcBuffer) };
    // SAFETY: `root_task!` defines this symbol with exactly this signature.
    unsafe { __sel4_root_task_main(bi) }
}

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    crate::println!("\nroot task panicked: {info}");
    loop {
        crate::sys::seL4_DebugHalt();
    }
}

#[cfg(target_os = "none")]
unsafe extern "C" {
    /// First byte of the program image (`user.ld`).
    static __sel4_image_start: u8;
    /// First byte after the page-aligned end of the image, `.bss` included (`user.ld`).
    static __sel4_image_end: u8;
}

/// The program image's virtual address range as linked by `user.ld`: `__sel4_image_start ..
/// __sel4_image_end` (page aligned). seL4 maps the IPC buffer at the end address.
#[cfg(target_os = "none")]
pub fn image_range() -> core::ops::Range<usize> {
    let start = &raw const __sel4_image_start;
    let end = &raw const __sel4_image_end;
    start as usize..end as usize
}

/// Host stand-in: there is no linked image.
#[cfg(not(target_os = "none"))]
pub fn image_range() -> core::ops::Range<usize> {
    0..0
}
