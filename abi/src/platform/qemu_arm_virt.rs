//! `qemu-arm-virt` as seL4 16.0.0 configures it by default (`src/plat/qemu-arm-virt/
//! config.cmake`: cortex-a53, GICv2, 1 GiB of RAM at 0x4000_0000 in the device tree the kernel
//! is built with, no hypervisor; `declare_default_headers`; gen_config.json of the reference
//! builds, `shared/SEL4-ABI-FACTS-AARCH64.md`).

/// `CONFIG_TIMER_FREQUENCY` (`TIMER_FREQUENCY` of `declare_default_headers`), in Hz: the
/// generic timer's `CNTFRQ_EL0` on QEMU's cortex-a53.
pub const TIMER_FREQUENCY: u64 = 62_500_000;
/// `maxIRQ`: the largest interrupt number (GIC INTID) IRQControl accepts (`MAX_IRQ`).
pub const MAX_IRQ: usize = 159;
/// `NUM_PPI`: INTIDs 0..16 are SGIs, 16..32 PPIs, SPIs from 32.
pub const NUM_PPI: usize = 32;
/// `NUM_SGIS` of the GIC (`ARMIRQIssueSGISignal` takes SGIs `0..NUM_SGIS`).
pub const NUM_SGIS: usize = 16;
/// `GIC_SGI_NUM_TARGETS` (GICv2): the CPU targets an SGI may name (`plat_SGITargetValid`).
pub const GIC_SGI_NUM_TARGETS: usize = 8;
/// `KERNEL_TIMER_IRQ`: the EL1 virtual timer's PPI (`INTERRUPT_VTIMER_EVENT`), which the kernel
/// keeps for itself.
pub const KERNEL_TIMER_IRQ: usize = 27;
/// `QEMU_GIC_VERSION`: the interrupt controller is a GICv2 (`KernelArmGicV3` off).
pub const GIC_VERSION: u32 = 2;
/// `CONFIG_PADDR_USER_DEVICE_TOP`: device untypeds cover physical addresses below this
/// (`CONFIG_ARM_PA_SIZE_BITS_40`).
pub const PADDR_USER_DEVICE_TOP: u64 = 1 << 40;
/// `KERNEL_WCET` of `declare_default_headers`: the kernel's worst-case execution time assumed by
/// the MCS budget rules, in µs.
pub const KERNEL_WCET_US: u64 = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_of_the_reference_build() {
        assert_eq!(TIMER_FREQUENCY, 62_500_000);
        assert_eq!((MAX_IRQ, NUM_PPI, NUM_SGIS), (159, 32, 16));
        assert_eq!(KERNEL_TIMER_IRQ, 27);
        assert_eq!(GIC_VERSION, 2);
        assert_eq!(PADDR_USER_DEVICE_TOP, 0x100_0000_0000);
        assert_eq!(KERNEL_WCET_US, 10);
    }
}
