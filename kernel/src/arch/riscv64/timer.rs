//! The kernel's time base on riscv64 `qemu-riscv-virt` (seL4
//! `include/arch/riscv/arch/machine/timer.h` under `CONFIG_KERNEL_MCS`): the `time` counter
//! runs at the platform's `TIMER_CLOCK_HZ` (10 MHz, [`abi::platform::current::TIMER_FREQUENCY`]),
//! so a microsecond is 10 ticks. Pure arithmetic: also compiled and tested on the host. The
//! machine part (reading the counter, the SBI deadline) is `machine::{get_current_time,
//! set_deadline, ack_deadline_irq}`; `arch::host` simulates it.
#![forbid(unsafe_code)]

use abi::platform::current::TIMER_FREQUENCY;

/// `TICKS_IN_US`: timer ticks per microsecond (the clock is faster than 1 MHz).
pub const TICKS_PER_US: u64 = TIMER_FREQUENCY / 1_000_000;

const _: () = assert!(TICKS_PER_US >= 1);

/// `getKernelWcetUs`: the kernel's worst-case execution time assumed by the budget rules, in µs
/// (seL4 copies the x86_64 value for RISC-V).
pub const KERNEL_WCET_US: u64 = 10;

/// `usToTicks`. Callers keep `us` at most [`MAX_US_TO_TICKS`]; past it the product wraps
/// rather than panicking.
#[inline(always)]
pub const fn us_to_ticks(us: u64) -> u64 {
    us.wrapping_mul(TICKS_PER_US)
}

/// `ticksToUs`: truncates.
#[inline(always)]
pub const fn ticks_to_us(ticks: u64) -> u64 {
    ticks / TICKS_PER_US
}

/// `getKernelWcetTicks`.
pub const KERNEL_WCET_TICKS: u64 = us_to_ticks(KERNEL_WCET_US);

/// `getTimerPrecision`: how far before an event the deadline is set (`setNextInterrupt`).
pub const TIMER_PRECISION_TICKS: u64 = us_to_ticks(1);

/// `getMaxTicksToUs`: the largest tick count [`ticks_to_us`] takes.
pub const MAX_TICKS_TO_US: u64 = u64::MAX;

/// `getMaxUsToTicks`: the largest µs value [`us_to_ticks`] takes without overflow.
pub const MAX_US_TO_TICKS: u64 = u64::MAX / TICKS_PER_US;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_of_qemu_riscv_virt() {
        assert_eq!(TICKS_PER_US, 10);
        assert_eq!((KERNEL_WCET_US, KERNEL_WCET_TICKS), (10, 100));
        assert_eq!(TIMER_PRECISION_TICKS, 10);
        assert_eq!(MAX_US_TO_TICKS, u64::MAX / 10);
        assert_eq!((us_to_ticks(5000), ticks_to_us(50_009)), (50_000, 5000));
    }
}
