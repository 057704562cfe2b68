//! aarch64 exceptions (ESR_EL1, FAR_EL1; Arm ARM D17.2.37) and GIC interrupt IDs decoded into
//! the kernel's generic [`Event`] (seL4 does this in `src/arch/arm/64/traps.S`,
//! `src/arch/arm/64/c_traps.c` and `handleVMFault` in `src/arch/arm/64/kernel/vspace.c`). Pure:
//! host tests feed it what an aarch64 machine would report.
#![forbid(unsafe_code)]

use crate::entry::{Event, Interrupt};
use crate::ipc::Fault;

/// ESR_EL1.EC: the exception class, bits 31..26.
pub const fn exception_class(esr: u64) -> u64 {
    (esr >> 26) & 0x3f
}

/// EC of an access to FP/SIMD registers trapped by CPACR_EL1.FPEN (`ESR_EL1_EC_ENFP`).
pub const EC_FP_ACCESS: u64 = 0x07;
/// EC of an `svc` from AArch64 EL0 (`ESR_EC_LEL_SVC64`).
pub const EC_SVC64: u64 = 0x15;
/// EC of an instruction abort from EL0 (`ESR_EC_LEL_IABT`).
pub const EC_IABT_LOWER: u64 = 0x20;
/// EC of an instruction abort from EL1 (`ESR_EC_CEL_IABT`).
pub const EC_IABT_CURRENT: u64 = 0x21;
/// EC of a data abort from EL0 (`ESR_EC_LEL_DABT`).
pub const EC_DABT_LOWER: u64 = 0x24;
/// EC of a data abort from EL1 (`ESR_EC_CEL_DABT`).
pub const EC_DABT_CURRENT: u64 = 0x25;

/// GIC INTIDs 1020..=1023 are special (1023: nothing pending).
pub const SPURIOUS_INTID_FIRST: u32 = 1020;

/// The interrupt the GIC acknowledged with INTID `intid`: the kernel's timer
/// (`KERNEL_TIMER_IRQ`, the EL1 virtual timer's PPI), a special INTID (spurious: nothing to
/// do), or a device interrupt.
pub const fn interrupt(intid: u32) -> Interrupt {
    if intid as usize == abi::platform::qemu_arm_virt::KERNEL_TIMER_IRQ {
        Interrupt::Timer
    } else if intid >= SPURIOUS_INTID_FIRST {
        Interrupt::Spurious
    } else {
        Interrupt::External
    }
}

/// The event a synchronous exception from EL0 with these ESR_EL1, FAR_EL1 and ELR_EL1 is.
///
/// - `svc`: a syscall (the immediate is not looked at, as in seL4);
/// - data abort: a VM fault at FAR_EL1, FSR the whole ESR, PrefetchFault 0
///   (`seL4_DataFault`);
/// - instruction abort: a VM fault at the pc (ELR_EL1), FSR the whole ESR, PrefetchFault 1
///   (`seL4_InstructionFault`);
/// - anything else is a user exception whose number is the whole ESR and whose code is 0
///   (`handleUserLevelFault(getESR(), 0)`); an FP/SIMD access trap (EC 0x7) may instead be the
///   thread's first FP instruction since another thread used the FPU (lazy switching).
#[inline(always)]
pub const fn decode(esr: u64, far: u64, elr: u64) -> Event {
    match exception_class(esr) {
        EC_SVC64 => Event::Syscall,
        EC_DABT_LOWER => Event::Fault(Fault::VmFault {
            addr: far,
            fsr: esr,
            prefetch: false,
        }),
        EC_IABT_LOWER => Event::Fault(Fault::VmFault {
            addr: elr,
            fsr: esr,
            prefetch: true,
        }),
        EC_FP_ACCESS => Event::MaybeFpuTrap(Fault::UserException {
            number: esr,
            code: 0,
        }),
        _ => Event::Fault(Fault::UserException {
            number: esr,
            code: 0,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ESR with exception class `ec`, IL set and `iss`.
    fn esr(ec: u64, iss: u64) -> u64 {
        ec << 26 | 1 << 25 | iss
    }

    #[test]
    fn syscalls_and_aborts() {
        assert_eq!(decode(esr(0x15, 0), 0, 0x1000), Event::Syscall);
        assert_eq!(decode(esr(0x15, 0x42), 0, 0x1000), Event::Syscall);
        // A translation fault at level 3 on a write (ISS: WnR, DFSC 0b000111).
        let e = esr(0x24, 1 << 6 | 0x07);
        assert_eq!(
            decode(e, 0xdead_b000, 0x40_1000),
            Event::Fault(Fault::VmFault {
                addr: 0xdead_b000,
                fsr: e,
                prefetch: false
            })
        );
        let e = esr(0x20, 0x07);
        assert_eq!(
            decode(e, 0x1234, 0x40_2000),
            Event::Fault(Fault::VmFault {
                addr: 0x40_2000,
                fsr: e,
                prefetch: true
            })
        );
    }

    #[test]
    fn other_exceptions_are_user_exceptions_with_the_whole_esr() {
        for ec in [0x00, 0x0e, 0x18, 0x22, 0x26, 0x2c, 0x30, 0x32, 0x3c] {
            let e = esr(ec, 0x1234);
            assert_eq!(
                decode(e, 0, 0),
                Event::Fault(Fault::UserException { number: e, code: 0 }),
                "EC {ec:#x}"
            );
        }
        let e = esr(0x07, 0x1e0_0000);
        assert_eq!(
            decode(e, 0, 0),
            Event::MaybeFpuTrap(Fault::UserException { number: e, code: 0 })
        );
    }

    #[test]
    fn interrupt_ids() {
        assert_eq!(interrupt(27), Interrupt::Timer);
        assert_eq!(interrupt(33), Interrupt::External);
        assert_eq!(interrupt(48), Interrupt::External);
        assert_eq!(interrupt(159), Interrupt::External);
        assert_eq!(interrupt(1023), Interrupt::Spurious);
        assert_eq!(interrupt(1020), Interrupt::Spurious);
    }
}
