//! The devices of a riscv64 platform that only the machine layer drives: the interrupt
//! controller, the timer and the console UART, as the device tree describes them.
//!
//! Generic boot carries a [`Platform`] in `BootParams` without looking inside (as
//! `crate::arch::Platform`) and hands it back to the machine layer to set the devices up
//! (`crate::arch::init_platform`). Another riscv64 platform (another interrupt controller, say)
//! changes this description and the machine layer, not the generic kernel. Plain data: exists
//! on the host too, where it stays empty.
#![forbid(unsafe_code)]

/// A platform-level interrupt controller (SiFive/RISC-V PLIC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plic {
    /// Physical base address.
    pub base: u64,
    /// Number of interrupt sources (`riscv,ndev`).
    pub ndev: u32,
}

/// The platform's devices, from the device tree.
#[derive(Clone, Copy, Debug, Default)]
pub struct Platform {
    /// The interrupt controller, if the device tree has one (the first PLIC).
    pub plic: Option<Plic>,
    /// The console UART (ns16550a) base and its interrupt number, if present.
    pub uart: Option<(u64, u32)>,
    /// Timebase frequency in Hz (`/cpus` `timebase-frequency`).
    pub timebase_frequency: u64,
}

impl Platform {
    /// Logs the description, one line per device, under the boot parameters.
    pub fn log(&self) {
        match self.plic {
            Some(p) => crate::kinfo!("  PLIC           {:#x}, {} sources", p.base, p.ndev),
            None => crate::kinfo!("  PLIC           none"),
        }
        match self.uart {
            Some((base, irq)) => crate::kinfo!("  UART           {base:#x}, irq {irq}"),
            None => crate::kinfo!("  UART           none"),
        }
        crate::kinfo!("  timebase       {} Hz", self.timebase_frequency);
    }
}

/// `Arch_checkIRQ` (seL4 `src/arch/riscv/object/interrupt.c`): an interrupt IRQControl may
/// issue a handler for is 1..=`maxIRQ` (0 is "no interrupt" on the PLIC); otherwise
/// `RangeError(1, maxIRQ)`.
pub fn check_irq(irq: u64) -> Result<(), crate::error::SyscallError> {
    use abi::platform::qemu_riscv_virt::MAX_IRQ;
    if irq == 0 || irq > MAX_IRQ as u64 {
        return Err(crate::user_err!(
            crate::error::SyscallError::RangeError(1, MAX_IRQ as u64),
            "Rejecting request for IRQ {irq}. IRQ is out of range [1..{MAX_IRQ}]."
        ));
    }
    Ok(())
}

/// QEMU `virt` as seL4's build compiles it in for `qemu-riscv-virt` with `QEMU_MEMORY` 2048
/// (Microkit 2.3.0's `qemu_virt_riscv64`): the platform this kernel assumes when a loader passes
/// no device tree (`builtin_platform` feature). The numbers are QEMU 10's `virt` machine with
/// `-m 2G` and one hart, which seL4's build turns into `platform_gen.json` (RAM
/// `[0x8020_0000, 0x1_0000_0000)`, device regions everything else below 2^39 except the kernel
/// devices' 2 MiB frames `[0x200_0000, 0x220_0000)` and `[0xc00_0000, 0xc60_0000)`).
pub mod qemu_virt {
    use super::{Platform, Plic};
    use crate::boot::{BootParams, Region};

    /// RAM: `/memory@80000000` with `-m 2G` (seL4 `QEMU_MEMORY` 2048 MiB). The part below the
    /// kernel image (OpenSBI's) is not handed out (`crate::boot::available_ram`), as seL4's
    /// `platform_gen` leaves it out.
    pub const RAM: Region = Region::new(0x8000_0000, 0x8000_0000 + (2048 << 20));
    /// The PLIC (`riscv,plic0` at `0xc00_0000`, `reg` size `0x60_0000`).
    pub const PLIC: Plic = Plic {
        base: 0x0c00_0000,
        ndev: 95,
    };
    /// Size of the PLIC's registers.
    pub const PLIC_SIZE: u64 = 0x60_0000;
    /// The CLINT (`riscv,clint0` at `0x200_0000`, size `0x1_0000`): a kernel device in seL4's
    /// build (it is not in `platform_gen.json`'s device regions).
    pub const CLINT: Region = Region::new(0x0200_0000, 0x0201_0000);
    /// The console UART (`ns16550a` at `0x1000_0000`, interrupt 10).
    pub const UART: (u64, u32) = (0x1000_0000, 10);
    /// `/cpus` `timebase-frequency` (seL4 `CONFIG_TIMER_FREQUENCY`), in Hz.
    pub const TIMEBASE_FREQUENCY: u64 = 10_000_000;
    /// The `sifive,test0` finisher (QEMU exit), used only to stop the machine.
    pub const FINISHER: u64 = 0x10_0000;

    /// The boot parameters of this platform for a kernel image at `kernel_image` (to `ki_end`)
    /// whose boot-only part is `kernel_boot` (to `ki_boot_end`), with the IRQ node at
    /// `irq_node`. The user image is left empty for the loader's hand-off to
    /// fill in; there is no device tree (`dtb` empty), and `platform_built_in` is set.
    pub fn boot_params(
        kernel_image: Region,
        kernel_boot: Region,
        irq_node: crate::mem::PPtr<crate::object::interrupt::IrqNode>,
    ) -> BootParams {
        let mut p = BootParams {
            kernel_image,
            kernel_boot,
            irq_node,
            platform_built_in: true,
            platform: Platform {
                plic: Some(PLIC),
                uart: Some(UART),
                timebase_frequency: TIMEBASE_FREQUENCY,
            },
            ..BootParams::default()
        };
        // Capacity: one RAM region and two device regions fit any list.
        let _ = p.ram.push(RAM);
        let _ = p.kernel_devices.push(CLINT);
        let _ = p
            .kernel_devices
            .push(Region::new(PLIC.base, PLIC.base + PLIC_SIZE));
        p.kernel_devices.coalesce();
        p
    }
}

#[cfg(test)]
mod tests {
    use super::qemu_virt;
    use crate::boot::{check_handoff, Region, UserImage};

    /// The compiled-in QEMU virt: 2 GiB at 0x8000_0000, CLINT and PLIC as kernel devices, the
    /// UART and the 10 MHz timebase; no device tree is then needed, and without the platform
    /// compiled in a missing device tree is still a boot error.
    #[test]
    fn built_in_qemu_virt_needs_no_device_tree() {
        let k = Region::new(0x8020_0000, 0x8024_f000);
        let node = crate::mem::PPtr::sim(0x1000);
        let mut p = qemu_virt::boot_params(k, Region::new(0x8020_0000, 0x8020_b000), node);
        assert_eq!(p.ram.as_slice(), [Region::new(0x8000_0000, 0x1_0000_0000)]);
        assert_eq!(
            p.kernel_devices.as_slice(),
            [
                Region::new(0x200_0000, 0x201_0000),
                Region::new(0xc00_0000, 0xc60_0000)
            ]
        );
        assert!(p.reserved.as_slice().is_empty() && p.dtb.is_empty());
        assert_eq!(
            p.platform.plic.map(|x| (x.base, x.ndev)),
            Some((0xc00_0000, 95))
        );
        assert_eq!(p.platform.uart, Some((0x1000_0000, 10)));
        assert_eq!(p.platform.timebase_frequency, 10_000_000);
        assert_eq!((p.kernel_image, p.irq_node), (k, node));
        assert!(p.platform_built_in);
        p.user_image = UserImage {
            p_reg: Region::new(0x8024_f000, 0x8028_5000),
            pv_offset: 0x8024_f000 - 0x1_0000,
            v_entry: 0x2_0f88,
        };
        assert_eq!(check_handoff(&p, crate::arch::PADDR_TOP), Ok(()));
        p.platform_built_in = false;
        assert!(check_handoff(&p, crate::arch::PADDR_TOP).is_err());
        p.platform_built_in = true;
        p.user_image.p_reg = Region::new(0x8024_0000, 0x8028_5000);
        assert!(
            check_handoff(&p, crate::arch::PADDR_TOP).is_err(),
            "over the kernel"
        );
    }
}
