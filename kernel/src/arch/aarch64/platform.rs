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
