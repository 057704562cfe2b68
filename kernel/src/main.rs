//! The kernel binary: the boot flow on the machine, after the architecture's entry code (for
//! riscv64, `kernel::arch::riscv64::machine::boot`) has enabled the MMU and jumped to the high
//! half. It uses the architecture only through `kernel::arch`. On the host this is an empty
//! program, so that `cargo build`/`cargo test` work.
#![cfg_attr(target_os = "none", no_std, no_main)]
#![deny(unsafe_op_in_unsafe_fn)]

#[cfg(not(target_os = "none"))]
fn main() {}

#[cfg(target_os = "none")]
mod machine_main {
    use core::panic::PanicInfo;
    use core::sync::atomic::{AtomicBool, Ordering};

    use kernel::arch::{self, halt};
    use kernel::boot::{BootError, BootParams, Region};
    use kernel::{kdebug, kerror, kinfo, kprintln};

    /// The Rust boot flow, called by the entry code on the kernel stack with the MMU on, traps
    /// going to the trap entry, the identity mapping gone, and interrupts disabled.
    /// `hartid` and `dtb_paddr` are what OpenSBI passed in `a0` and `a1`.
    #[no_mangle]
    extern "C" fn kernel_main(hartid: usize, dtb_paddr: usize) -> ! {
        kinfo!("seL4-compatible kernel ({}) booting", arch::NAME);
        kinfo!("hart {hartid}, device tree at {dtb_paddr:#x}");
        let params = match arch::parse_device_tree(dtb_paddr as u64) {
            Ok(p) => p,
            Err(e) => {
                kerror!("{e}");
                log_stack_use();
                halt(false)
            }
        };
        log_params(&params);
        match kernel::boot::boot_system(&params) {
            Ok(ctx) => {
                let (used, size) = stack_use();
                kdebug!("entering the root task; kernel stack: {used} of {size} bytes used");
                // SAFETY: `boot_system` returns the context of the root task's TCB, which lives
                // in kernel memory (reached through the window) for as long as the thread exists.
                unsafe { arch::restore_user_context(ctx) }
            }
            Err(BootError::Msg(m)) => {
                kerror!("boot failed: {m}");
                log_stack_use();
                halt(false)
            }
        }
    }

    fn log_region(what: &str, r: &Region) {
        kinfo!(
            "  {what:<14} {:#012x}..{:#012x} ({} KiB)",
            r.start,
            r.end,
            r.size().div_ceil(1024)
        );
    }

    /// Logs what the device tree said.
    fn log_params(p: &BootParams) {
        kinfo!("boot parameters:");
        p.ram.as_slice().iter().for_each(|r| log_region("RAM", r));
        p.reserved
            .as_slice()
            .iter()
            .for_each(|r| log_region("reserved", r));
        p.kernel_devices
            .as_slice()
            .iter()
            .for_each(|r| log_region("kernel device", r));
        log_region("kernel image", &p.kernel_image);
        log_region("initrd", &p.initrd);
        log_region("dtb", &p.dtb);
        p.platform.log();
    }

    /// How much of the kernel stack has been used so far, and its size, in bytes.
    fn stack_use() -> (usize, usize) {
        let (bottom, top) = arch::kernel_stack();
        (arch::kernel_stack_high_water(), top - bottom)
    }

    /// Logs how much of the kernel stack boot used.
    fn log_stack_use() {
        let (used, size) = stack_use();
        kinfo!("kernel stack: {used} of {size} bytes used");
    }

    /// Prints `KERNEL PANIC: <info>` and halts with failure (a panic while panicking just halts).
    #[panic_handler]
    fn panic(info: &PanicInfo<'_>) -> ! {
        static PANICKING: AtomicBool = AtomicBool::new(false);
        if !PANICKING.swap(true, Ordering::Relaxed) {
            kprintln!("KERNEL PANIC: {info}");
            if arch::kernel_stack_overflowed() {
                kprintln!("KERNEL PANIC: the kernel stack overflowed");
            }
        }
        halt(false)
    }
}
