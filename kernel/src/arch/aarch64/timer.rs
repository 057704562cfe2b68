//! The kernel's time base on `qemu-arm-virt` (seL4 `include/arch/arm/arch/machine/timer.h` and
//! `include/arch/arm/arch/64/mode/machine/timer.h` under `CONFIG_KERNEL_MCS`): the generic
//! timer's counter runs at 62.5 MHz ([`abi::platform::qemu_arm_virt::TIMER_FREQUENCY`]), not a
//! whole number of ticks per µs, so seL4 converts through kHz (`USE_KHZ`): 62.5 ticks per µs.
//! Pure arithmetic: also compiled and tested on the host. The machine part (reading
//! `CNTVCT_EL0`, the deadline in `CNTV_CVAL_EL0`) is in `machine`.
#![forbid(unsafe_code)]

use abi::platform::qemu_arm_virt::{KERNEL_WCET_US as PLATFORM_WCET_US, TIMER_FREQUENCY};

/// `TIMER_CLOCK_KHZ`.
pub const TICKS_PER_MS: u64 = TIMER_FREQUENCY / 1000;
/// `KHZ_IN_MHZ`.
const KHZ_IN_MHZ: u64 = 1000;

const _: () =
    assert!(!TIMER_FREQUENCY.is_multiple_of(1_000_000) && TIMER_FREQUENCY.is_multiple_of(1000));

/// `getKernelWcetUs`: the platform's `KERNEL_WCET` (10 µs on `qemu-arm-virt`).
pub const KERNEL_WCET_US: u64 = PLATFORM_WCET_US;

/// `usToTicks` with `USE_KHZ`: `us * TIMER_CLOCK_KHZ / 1000`. Callers keep `us` at most
/// [`MAX_US_TO_TICKS`]; past it the product wraps rather than panicking.
#[inline(always)]
pub const fn us_to_ticks(us: u64) -> u64 {
    us.wrapping_mul(TICKS_PER_MS) / KHZ_IN_MHZ
}

/// `ticksToUs` with `USE_KHZ`: `ticks * 1000 / TIMER_CLOCK_KHZ`, truncating. Callers keep
/// `ticks` at most [`MAX_TICKS_TO_US`].
#[inline(always)]
pub const fn ticks_to_us(ticks: u64) -> u64 {
    ticks.wrapping_mul(KHZ_IN_MHZ) / TICKS_PER_MS
}

/// `getKernelWcetTicks`.
pub const KERNEL_WCET_TICKS: u64 = us_to_ticks(KERNEL_WCET_US);

/// `getTimerPrecision`: `usToTicks(TIMER_PRECISION) + TIMER_OVERHEAD_TICKS`, both 0 on
/// `qemu-arm-virt` (`config.cmake` defaults).
pub const TIMER_PRECISION_TICKS: u64 = us_to_ticks(0);

/// `getMaxTicksToUs` with `USE_KHZ`: `UINT64_MAX / TIMER_CLOCK_KHZ`.
pub const MAX_TICKS_TO_US: u64 = u64::MAX / TICKS_PER_MS;

/// `getMaxUsToTicks` with `USE_KHZ`: `UINT64_MAX / TIMER_CLOCK_KHZ`.
pub const MAX_US_TO_TICKS: u64 = u64::MAX / TICKS_PER_MS;

/// `TIMER_RELOAD` (non-MCS): ticks between kernel timer interrupts, `TICKS_PER_MS *
/// CONFIG_TIMER_TICK_MS`.
#[cfg(not(feature = "mcs"))]
pub const TIMER_RELOAD: u64 = TICKS_PER_MS * abi::config::TIMER_TICK_MS;

/// `CNTKCTL_EL1` bits (seL4 `src/arch/arm/armv/armv8-a/64/user_access.c`; Arm ARM D13.8.15):
/// EL0 may read CNTPCT_EL0 (and CNTFRQ_EL0).
pub const CNTKCTL_EL0PCTEN: u64 = 1 << 0;
/// EL0 may read CNTVCT_EL0 (and CNTFRQ_EL0).
pub const CNTKCTL_EL0VCTEN: u64 = 1 << 1;
/// EL0 may access the virtual timer's CNTV_CTL_EL0, CNTV_CVAL_EL0, CNTV_TVAL_EL0.
pub const CNTKCTL_EL0VTEN: u64 = 1 << 8;
/// EL0 may access the physical timer's CNTP_CTL_EL0, CNTP_CVAL_EL0, CNTP_TVAL_EL0.
pub const CNTKCTL_EL0PTEN: u64 = 1 << 9;

/// What EL0 may do with the generic timer: `CNTKCTL_EL1` as seL4's `check_export_arch_timer`
/// writes it at boot, one bit per `KernelArmExport*User` option (the cargo features
/// `export_pcnt_user`, `export_ptmr_user`, `export_vcnt_user`, `export_vtmr_user`); 0 (no
/// access) by default.
pub const fn cntkctl_el1(pcnt: bool, ptmr: bool, vcnt: bool, vtmr: bool) -> u64 {
    (if pcnt { CNTKCTL_EL0PCTEN } else { 0 })
        | (if ptmr { CNTKCTL_EL0PTEN } else { 0 })
        | (if vcnt { CNTKCTL_EL0VCTEN } else { 0 })
        | (if vtmr { CNTKCTL_EL0VTEN } else { 0 })
}

/// [`cntkctl_el1`] of this build's features.
pub const CNTKCTL_EL1: u64 = cntkctl_el1(
    cfg!(feature = "export_pcnt_user"),
    cfg!(feature = "export_ptmr_user"),
    cfg!(feature = "export_vcnt_user"),
    cfg!(feature = "export_vtmr_user"),
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_of_qemu_arm_virt() {
        assert_eq!(TICKS_PER_MS, 62_500);
        assert_eq!((KERNEL_WCET_US, KERNEL_WCET_TICKS), (10, 625));
        assert_eq!(TIMER_PRECISION_TICKS, 0);
        assert_eq!(MAX_US_TO_TICKS, u64::MAX / 62_500);
        assert_eq!(MAX_TICKS_TO_US, u64::MAX / 62_500);
        assert_eq!((us_to_ticks(5000), ticks_to_us(312_500)), (312_500, 5000));
        // 62.5 ticks per µs: odd µs counts round down.
        assert_eq!((us_to_ticks(1), us_to_ticks(3)), (62, 187));
        assert_eq!((ticks_to_us(62), ticks_to_us(63)), (0, 1));
        // The largest arguments do not overflow.
        assert_eq!(
            us_to_ticks(MAX_US_TO_TICKS),
            MAX_US_TO_TICKS * 62_500 / 1000
        );
        assert_eq!(
            ticks_to_us(MAX_TICKS_TO_US),
            MAX_TICKS_TO_US * 1000 / 62_500
        );
        #[cfg(not(feature = "mcs"))]
        assert_eq!(TIMER_RELOAD, 125_000);
    }

    #[test]
    fn cntkctl_bits_of_user_access_c() {
        assert_eq!(cntkctl_el1(false, false, false, false), 0);
        assert_eq!(cntkctl_el1(true, false, false, false), 0x1);
        assert_eq!(cntkctl_el1(false, false, true, false), 0x2);
        assert_eq!(cntkctl_el1(false, false, false, true), 0x100);
        assert_eq!(cntkctl_el1(false, true, false, false), 0x200);
        // libplatsupport's qemu-arm-virt timer: physical counter and timer.
        assert_eq!(cntkctl_el1(true, true, false, false), 0x201);
        assert_eq!(cntkctl_el1(true, true, true, true), 0x303);
        assert_eq!(
            CNTKCTL_EL1,
            cntkctl_el1(
                cfg!(feature = "export_pcnt_user"),
                cfg!(feature = "export_ptmr_user"),
                cfg!(feature = "export_vcnt_user"),
                cfg!(feature = "export_vtmr_user"),
            )
        );
    }
}
