//! The devices of an aarch64 platform that only the machine layer drives: the interrupt
//! controller (a GICv2 on `qemu-arm-virt`), the generic timer and the console UART (a PL011),
//! as the device tree describes them.
//!
//! Generic boot carries a [`Platform`] in `BootParams` without looking inside (as
//! `crate::arch::Platform`) and hands it back to the machine layer to set the devices up
//! (`crate::arch::init_platform`). Plain data: exists on the host too, where it stays empty.
#![forbid(unsafe_code)]

/// A GICv2 (`arm,cortex-a15-gic`, `arm,gic-400`): its distributor and CPU interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gic {
    /// Physical base of the distributor (GICD).
    pub distributor: u64,
    /// Physical base of the CPU interface (GICC).
    pub cpu_interface: u64,
}

/// How PSCI calls reach the firmware (`/psci` `method`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PsciConduit {
    /// `hvc #0` (QEMU `virt` without EL2 firmware).
    #[default]
    Hvc,
    /// `smc #0`.
    Smc,
}

/// The platform's devices, from the device tree.
#[derive(Clone, Copy, Debug, Default)]
pub struct Platform {
    /// The interrupt controller, if the device tree has one.
    pub gic: Option<Gic>,
    /// The console UART (PL011) base and its interrupt number (INTID), if present.
    pub uart: Option<(u64, u32)>,
    /// The generic timer's frequency in Hz (`CNTFRQ_EL0`, or the `/timer` node's
    /// `clock-frequency`).
    pub timer_frequency: u64,
    /// How to call PSCI (system off).
    pub psci: PsciConduit,
}

impl Platform {
    /// Logs the description, one line per device, under the boot parameters.
    pub fn log(&self) {
        match self.gic {
            Some(g) => crate::kinfo!(
                "  GICv2          distributor {:#x}, CPU interface {:#x}",
                g.distributor,
                g.cpu_interface
            ),
            None => crate::kinfo!("  GICv2          none"),
        }
        match self.uart {
            Some((base, irq)) => crate::kinfo!("  UART (PL011)   {base:#x}, irq {irq}"),
            None => crate::kinfo!("  UART (PL011)   none"),
        }
        crate::kinfo!("  generic timer  {} Hz", self.timer_frequency);
        crate::kinfo!("  PSCI           {:?}", self.psci);
    }
}

/// QEMU `virt` as seL4's build compiles it in for `qemu-arm-virt` with `QEMU_MEMORY` 2048 and no
/// hypervisor support (Microkit 2.3.0's `qemu_virt_aarch64_el1`): the platform this kernel
/// assumes when a loader passes no device tree (`builtin_platform` feature). The numbers are
/// QEMU 10's `virt` machine with `-cpu cortex-a53 -m 2G`, one core, GICv2, which seL4's build
/// turns into `platform_gen.json` (RAM `[0x4000_0000, 0xc000_0000)`, device regions everything
/// else below 2^40 except the first page of the GIC distributor and of its CPU interface).
/// Plain data here; the machine layer makes the boot parameters of it
/// (`machine::devicetree::builtin_params`).
pub mod qemu_virt {
    use super::{Gic, Platform, PsciConduit};
    use crate::boot::Region;

    /// RAM: `/memory@40000000` with `-m 2G` (seL4 `QEMU_MEMORY` 2048 MiB).
    pub const RAM: Region = Region::new(0x4000_0000, 0x4000_0000 + (2048 << 20));
    /// The GICv2 (`arm,cortex-a15-gic`): distributor at `0x800_0000`, CPU interface at
    /// `0x801_0000`.
    pub const GIC: Gic = Gic {
        distributor: 0x0800_0000,
        cpu_interface: 0x0801_0000,
    };
    /// The kernel devices: the first page of the distributor and of the CPU interface (seL4
    /// `kernel_device_frames`; what the device tree reader makes of QEMU's GIC node). The rest
    /// of the GIC's space stays device untyped.
    pub const KERNEL_DEVICES: [Region; 2] = [
        Region::new(GIC.distributor, GIC.distributor + 0x1000),
        Region::new(GIC.cpu_interface, GIC.cpu_interface + 0x1000),
    ];
    /// The console UART (`arm,pl011` at `0x900_0000`, SPI 1 = INTID 33).
    pub const UART: (u64, u32) = (0x0900_0000, 33);
    /// How PSCI is called (only to stop the machine): `smc`. Microkit's loader asks PSCI for
    /// its version with `smc` before it enters the kernel, which works only where `smc`
    /// reaches PSCI: QEMU `virt` with `virtualization=on` (the loader drops from EL2 to EL1),
    /// or KVM. (Without EL2 and EL3 QEMU's `virt` takes PSCI through `hvc` and `smc` is an
    /// undefined instruction: Microkit's loader stops there, before any kernel runs.)
    pub const PSCI: PsciConduit = PsciConduit::Smc;
    /// The devices the machine layer drives: the GIC, the PL011, the generic timer at seL4's
    /// `CONFIG_TIMER_FREQUENCY` (CNTFRQ_EL0 of QEMU's cortex-a53, 62.5 MHz), PSCI.
    pub const PLATFORM: Platform = Platform {
        gic: Some(GIC),
        uart: Some(UART),
        timer_frequency: abi::platform::qemu_arm_virt::TIMER_FREQUENCY,
        psci: PSCI,
    };
}

#[cfg(test)]
mod tests {
    use super::{qemu_virt, PsciConduit};
    use crate::boot::Region;

    /// The compiled-in QEMU virt (aarch64): 2 GiB at 0x4000_0000, the GIC's two pages as
    /// kernel devices, the PL011 (INTID 33), the 62.5 MHz timer and PSCI through `smc`.
    #[test]
    fn built_in_qemu_virt() {
        assert_eq!(qemu_virt::RAM, Region::new(0x4000_0000, 0xc000_0000));
        assert_eq!(
            qemu_virt::KERNEL_DEVICES,
            [
                Region::new(0x800_0000, 0x800_1000),
                Region::new(0x801_0000, 0x801_1000)
            ]
        );
        let p = qemu_virt::PLATFORM;
        let gic = p.gic.unwrap();
        assert_eq!(
            (gic.distributor, gic.cpu_interface),
            (0x800_0000, 0x801_0000)
        );
        assert_eq!(p.uart, Some((0x900_0000, 33)));
        assert_eq!(p.timer_frequency, 62_500_000);
        assert_eq!(p.psci, PsciConduit::Smc);
    }
}
