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

    use kernel::arch::{self, halt};
    use kernel::boot::{BootError, BootParams, Region, UserImage};
    use kernel::{kdebug, kerror, kinfo};

    /// The Rust boot flow, called by the entry code on the kernel stack with the MMU on, traps
    /// going to the trap entry, the identity mapping gone, and interrupts disabled. `a0..a5`
    /// are the registers at entry; `loader` says which hand-off they are:
    /// - 1, seL4's boot protocol: `ui_p_reg_start`, `ui_p_reg_end`, `pv_offset`, `v_entry`,
    ///   `dtb_addr_p`, `dtb_size` (seL4 `init_kernel`);
    /// - 0, a firmware boot: the hart id and the device tree's address (the root task is the
    ///   initrd, loaded here as seL4's elfloader would have).
    #[no_mangle]
    #[link_section = ".boot.text"]
    extern "C" fn kernel_main(
        a0: usize,
        a1: usize,
        a2: usize,
        a3: usize,
        a4: usize,
        a5: usize,
        loader: usize,
    ) -> ! {
        kinfo!("seL4-compatible kernel ({}) booting", arch::NAME);
        // SAFETY: this is the boot path, before any user thread; the token is not used once
        // `kernel_main` leaves for the root task, and the boot parameters come from the
        // loader's hand-off or the firmware's device tree, which describe the machine.
        let boot = unsafe { kernel::mem::Booting::begin() };
        let params = if loader != 0 {
            kinfo!(
                "entered by a loader: user image {a0:#x}..{a1:#x}, pv_offset {a2:#x}, entry {a3:#x}, device tree {a4:#x} ({a5} bytes)"
            );
            loader_params([a0, a1, a2, a3, a4, a5].map(|r| r as u64))
        } else {
            kinfo!("hart {a0}, device tree at {a1:#x}");
            firmware_params(&boot, a1 as u64)
        };
        let params = match params {
            Ok(p) => p,
            Err(m) => fail(m),
        };
        log_params(&params);
        match kernel::boot::boot_system(&boot, &params) {
            Ok(ctx) => {
                let (used, size) = stack_use();
                kdebug!("entering the root task; kernel stack: {used} of {size} bytes used");
                // SAFETY: `boot_system` returns the context of the root task's TCB, which lives
                // in kernel memory (reached through the window) for as long as the thread exists.
                unsafe { arch::restore_user_context(ctx) }
            }
            Err(e) => fail(e),
        }
    }

    /// What can stop boot: the device tree or the hand-off.
    enum Failure {
        Dtb(arch::DtbError),
        Boot(BootError),
    }

    impl From<arch::DtbError> for Failure {
        fn from(e: arch::DtbError) -> Self {
            Failure::Dtb(e)
        }
    }

    impl From<BootError> for Failure {
        fn from(e: BootError) -> Self {
            Failure::Boot(e)
        }
    }

    /// Prints why boot failed (seL4: "kernel init failed") and stops the machine.
    #[link_section = ".boot.text"]
    fn fail(f: impl Into<Failure>) -> ! {
        match f.into() {
            Failure::Dtb(e) => e.report(),
            Failure::Boot(BootError::Msg(m)) => kerror!("boot failed: {m}"),
        }
        kerror!("kernel init failed");
        log_stack_use();
        halt(false)
    }

    /// seL4's boot protocol: the loader placed the user image and passed the device tree.
    /// Without a device tree (`dtb_addr_p` = `dtb_size` = 0, Microkit's loader) a kernel with
    /// the `builtin_platform` feature uses its compiled-in platform, as seL4 does; any other
    /// kernel, or a size without an address or an address without a size, is a boot error.
    #[link_section = ".boot.text"]
    fn loader_params(r: [u64; 6]) -> Result<BootParams, Failure> {
        let mut p = match (r[4], r[5]) {
            #[cfg(feature = "builtin_platform")]
            (0, 0) => {
                kinfo!("no device tree from the loader: using the compiled-in platform");
                arch::builtin_platform_params()
            }
            (_, 0) => {
                return Err(BootError::Msg(if cfg!(feature = "builtin_platform") {
                    "device tree address without a size from the loader (dtb_size 0)"
                } else {
                    "no device tree from the loader (dtb_size 0): this kernel reads its platform from the device tree (build with the builtin_platform feature for a compiled-in one)"
                })
                .into())
            }
            (0, _) => {
                return Err(BootError::Msg(
                    "device tree size without an address from the loader (dtb_addr_p 0)",
                )
                .into())
            }
            (addr, size) => arch::parse_device_tree(addr, Some(size))?,
        };
        p.user_image = UserImage {
            p_reg: Region::new(r[0], r[1]),
            pv_offset: r[2],
            v_entry: r[3],
        };
        Ok(p)
    }

    /// A firmware boot: the root task's ELF file is the initrd; load it as a loader would.
    #[link_section = ".boot.text"]
    fn firmware_params(boot: &kernel::mem::Booting, dtb: u64) -> Result<BootParams, Failure> {
        let mut p = arch::parse_device_tree(dtb, None)?;
        log_region("initrd", &p.initrd);
        kernel::boot::load_initrd(boot, &mut p)?;
        Ok(p)
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
        log_region("boot code", &p.kernel_boot);
        log_region("user image", &p.user_image.p_reg);
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
    /// Without `debug_build` the message is printed only if it is a plain string (no
    /// `core::fmt` after boot, see `kernel::log::Out`): `KERNEL PANIC: panicked at
    /// <file>:<line>:<column>:` and the message on the next line. Without `printing` (seL4's
    /// `CONFIG_PRINTING`) it prints nothing and just halts.
    #[panic_handler]
    fn panic(info: &PanicInfo<'_>) -> ! {
        #[cfg(feature = "printing")]
        {
            use core::sync::atomic::{AtomicBool, Ordering};
            use kernel::log::Out::*;
            static PANICKING: AtomicBool = AtomicBool::new(false);
            if !PANICKING.swap(true, Ordering::Relaxed) {
                #[cfg(feature = "debug_build")]
                kernel::kprintln!("KERNEL PANIC: {info}");
                #[cfg(not(feature = "debug_build"))]
                {
                    let (file, line, col) = info
                        .location()
                        .map_or(("?", 0, 0), |l| (l.file(), l.line(), l.column()));
                    kernel::log::println(&[
                        Str("KERNEL PANIC: panicked at "),
                        Str(file),
                        Str(":"),
                        Dec(line.into()),
                        Str(":"),
                        Dec(col.into()),
                        Str(":\n"),
                        Str(info
                            .message()
                            .as_str()
                            .unwrap_or("(message not printed in this build)")),
                    ]);
                }
                if arch::kernel_stack_overflowed() {
                    kernel::log::println(&[Str("KERNEL PANIC: the kernel stack overflowed")]);
                }
            }
        }
        #[cfg(not(feature = "printing"))]
        let _ = info;
        halt(false)
    }
}
