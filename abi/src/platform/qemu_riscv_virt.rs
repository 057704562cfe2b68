//! `qemu-riscv-virt` (seL4 `src/plat/qemu-riscv-virt`, `src/arch/riscv/platform_gen.h.in`,
//! gen_config.json of the reference build).

/// `CONFIG_TIMER_FREQUENCY`, in Hz.
pub const TIMER_FREQUENCY: u64 = 10_000_000;
/// Largest PLIC interrupt source (`PLIC_MAX_IRQ`).
pub const PLIC_MAX_IRQ: usize = 95;
/// The kernel's timer interrupt number (`KERNEL_TIMER_IRQ` = `PLIC_MAX_IRQ` + 1), not issuable
/// to user level.
pub const KERNEL_TIMER_IRQ: usize = PLIC_MAX_IRQ + 1;
/// `maxIRQ`: the largest interrupt number IRQControl accepts. On riscv it is the kernel
/// timer's, which is always active, so asking for it gives `seL4_RevokeFirst`.
pub const MAX_IRQ: usize = KERNEL_TIMER_IRQ;
/// `CONFIG_PADDR_USER_DEVICE_TOP`: device untypeds cover physical addresses below this.
pub const PADDR_USER_DEVICE_TOP: u64 = 1 << 39;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_of_the_reference_build() {
        assert_eq!(TIMER_FREQUENCY, 10_000_000);
        assert_eq!((PLIC_MAX_IRQ, KERNEL_TIMER_IRQ, MAX_IRQ), (95, 96, 96));
        assert_eq!(PADDR_USER_DEVICE_TOP, 1 << 39);
    }
}
