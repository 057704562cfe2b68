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
