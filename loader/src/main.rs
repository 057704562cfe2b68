//! The loader on the machine. The firmware (OpenSBI on riscv64, QEMU itself on aarch64) enters
//! `_start` with the MMU off; the loader copies the embedded kernel to its physical addresses,
//! the firmware's device tree and the embedded root task where [`loader::place`] says, maps the
//! kernel at its virtual addresses (2 MiB pages or blocks to the end of its gigabyte, as
//! seL4_tools' elfloader does) and itself at its physical addresses, turns the MMU on and
//! jumps to the kernel's entry with seL4's boot protocol in the argument registers. The
//! architecture's part (entry, console, stopping, tables, the jump) is [`machine`]:
//! `machine/riscv64.rs` (S-mode, Sv39, `a0..a5`), `machine/aarch64.rs` (EL1, TTBR0/TTBR1,
//! `x0..x5`).
//!
//! Built with the environment variable `LOADER_NO_DTB` set (any value), it hands the kernel no
//! device tree, as Microkit's loader does ([`loader::place_without_dtb`]): for kernels that
//! know their platform from their build (`cargo xtask test`'s Microkit stage).
//!
//! Built with `LOADER_FAULT` set to one of [`loader::FAULTS`], it spoils the hand-off that
//! way ([`loader::spoil`]), for tests that the kernel refuses it with a clear message.
//!
//! On the host this is an empty program (the placement logic is the library, tested there).
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(not(target_os = "none"))]
fn main() {}

/// The architecture's part of the loader.
#[cfg(all(target_os = "none", target_arch = "riscv64"))]
#[path = "machine/riscv64.rs"]
mod machine;
/// The architecture's part of the loader.
#[cfg(all(target_os = "none", target_arch = "aarch64"))]
#[path = "machine/aarch64.rs"]
mod machine;

#[cfg(target_os = "none")]
mod common {
    use core::fmt::{self, Write};

    use loader::Handoff;

    use super::machine;

    /// Embedded bytes, aligned for the ELF parser's header reads.
    #[repr(C, align(8))]
    struct Aligned<T: ?Sized>(T);

    /// The kernel ELF and the root task ELF this loader carries.
    static KERNEL: &Aligned<[u8]> = &Aligned(*include_bytes!(env!("LOADER_KERNEL")));
    static ROOT_TASK: &Aligned<[u8]> = &Aligned(*include_bytes!(env!("LOADER_ROOT_TASK")));

    /// Hand over no device tree (`LOADER_NO_DTB` set at build time), as Microkit's loader.
    const NO_DTB: bool = option_env!("LOADER_NO_DTB").is_some();

    /// Spoil the hand-off this way (`LOADER_FAULT` set at build time), for tests.
    const FAULT: Option<&str> = option_env!("LOADER_FAULT");

    extern "C" {
        static __loader_start: u8;
        static __loader_end: u8;
    }

    /// The console of [`machine::put_byte`].
    pub struct Console;

    impl Write for Console {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            s.bytes().for_each(machine::put_byte);
            Ok(())
        }
    }

    macro_rules! say {
        ($($t:tt)*) => { let _ = writeln!(Console, $($t)*); };
    }

    /// Reports `why` and stops the machine with a failure status.
    pub fn fail(why: &str) -> ! {
        say!("loader: error: {why}");
        machine::stop_failed()
    }

    fn overlap(a: (u64, u64), b: (u64, u64)) -> bool {
        a.0 < b.1 && b.0 < a.1
    }

    /// Copies `len` bytes from physical `src` to physical `dst` (the MMU is off; the ranges
    /// may overlap).
    fn move_phys(dst: u64, src: u64, len: u64) {
        // SAFETY: the caller checked that the destination is RAM that nothing else uses (not
        // the loader, not what is still to be copied); `copy` allows overlap.
        unsafe { core::ptr::copy(src as *const u8, dst as *mut u8, len as usize) }
    }

    fn zero_phys(dst: u64, len: u64) {
        // SAFETY: as for `move_phys`.
        unsafe { core::ptr::write_bytes(dst as *mut u8, 0, len as usize) }
    }

    /// The size of the device tree at physical `dtb` (its header's second word), or `None`
    /// if there is no device tree magic there.
    pub fn dtb_size_at(dtb: u64) -> Option<u64> {
        if dtb == 0 || !dtb.is_multiple_of(4) {
            return None;
        }
        // SAFETY: the firmware passes (or puts) the device tree at `dtb`, in RAM; the header's
        // first two words are its magic and its size (big-endian).
        let (magic, size) = unsafe {
            (
                (dtb as *const u32).read_volatile(),
                (dtb as *const u32).add(1).read_volatile(),
            )
        };
        (u32::from_be(magic) == 0xd00d_feed).then_some(u64::from(u32::from_be(size)))
    }

    /// Everything but the architecture's start and jump: reads the two ELF files, places and
    /// copies the kernel, the device tree at physical `dtb` (0: none from the firmware) and
    /// the root task, and enters the kernel.
    pub fn load_and_enter(dtb: u64) -> ! {
        say!(
            "loader: seL4 boot protocol loader ({}, device tree at {dtb:#x})",
            machine::NAME
        );
        let k = loader::kernel(&KERNEL.0).unwrap_or_else(|e| fail(e));
        let r = loader::root_task(&ROOT_TASK.0).unwrap_or_else(|e| fail(e));
        let (h, dtb_size): (Handoff, u64) = if NO_DTB {
            say!("loader: passing no device tree (as Microkit's loader)");
            (loader::place_without_dtb(&k, &r), 0)
        } else {
            let size = dtb_size_at(dtb).unwrap_or_else(|| fail("no device tree from the firmware"));
            (loader::place(&k, size, &r), size)
        };
        let me = (
            &raw const __loader_start as u64,
            &raw const __loader_end as u64,
        );
        let dtb_dst = (h.dtb_addr_p, h.dtb_addr_p + dtb_size);
        for (what, range) in [
            ("the kernel", (k.p_start, k.p_end)),
            ("the device tree", dtb_dst),
            ("the root task", h.ui_p_reg),
        ] {
            if overlap(range, me) {
                say!("loader: {what} goes to {:#x}..{:#x}", range.0, range.1);
                fail("that overlaps the loader");
            }
        }
        if dtb_size != 0 {
            if overlap((k.p_start, k.p_end), (dtb, dtb + dtb_size)) {
                fail("the firmware's device tree lies where the kernel goes");
            }
            // The device tree first (it may lie where the kernel or the root task goes).
            move_phys(dtb_dst.0, dtb, dtb_size);
        }
        loader::kernel_segments(&KERNEL.0, |p, data, mem| {
            move_phys(p, data.as_ptr() as u64, data.len() as u64);
            zero_phys(p + data.len() as u64, mem - data.len() as u64);
        })
        .unwrap_or_else(|e| fail(e));
        let (ui_start, ui_end) = h.ui_p_reg;
        zero_phys(ui_start, ui_end - ui_start);
        loader::root_task_segments(&ROOT_TASK.0, r.v_start, |off, data| {
            move_phys(ui_start + off, data.as_ptr() as u64, data.len() as u64);
        })
        .unwrap_or_else(|e| fail(e));
        say!(
            "loader: kernel {:#x}..{:#x} (entry {:#x}), device tree {:#x}..{:#x}, root task {ui_start:#x}..{ui_end:#x} (virtual {:#x}..{:#x}, entry {:#x})",
            k.p_start,
            k.p_end,
            k.entry,
            dtb_dst.0,
            dtb_dst.1,
            r.v_start,
            r.v_end,
            r.entry
        );
        let handoff = machine::map(&k, me).unwrap_or_else(|e| fail(e));
        let (entry, registers) = match FAULT {
            None => (k.entry, h.registers()),
            Some(f) => {
                let spoilt = loader::spoil(f, &k, &h).unwrap_or_else(|e| fail(e));
                say!("loader: spoiling the hand-off on purpose ({f})");
                spoilt
            }
        };
        say!("loader: entering the kernel (seL4 boot protocol)");
        machine::enter(handoff, entry, registers)
    }

    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
        say!("loader: panic: {info}");
        fail("panic")
    }
}
