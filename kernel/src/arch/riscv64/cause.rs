//! RISC-V trap causes (`scause`, `stval`; privileged spec §4.1.8) decoded into the kernel's
//! generic [`Event`] (seL4 does this in `src/arch/riscv/c_traps.c` and
//! `handleUserLevelFault`/`handleVMFaultEvent`). Pure: host tests feed it the causes a RISC-V
//! machine would raise.
#![forbid(unsafe_code)]

use crate::entry::{Event, Interrupt};
use crate::ipc::Fault;

/// `scause` of an `ecall` from U-mode.
pub const CAUSE_USER_ECALL: u64 = 8;
/// `scause` bit set for interrupts.
pub const CAUSE_INTERRUPT: u64 = 1 << 63;
/// Interrupt cause of the supervisor timer.
pub const IRQ_S_TIMER: u64 = 5;
/// Interrupt cause of supervisor external interrupts (the PLIC).
pub const IRQ_S_EXTERNAL: u64 = 9;
/// `scause` of an illegal instruction: also what an FP instruction raises while `sstatus.FS`
/// is Off (lazy FPU switching).
pub const CAUSE_ILLEGAL_INSTRUCTION: u64 = 2;

/// The interrupt with cause number `cause` (`scause` without [`CAUSE_INTERRUPT`]).
pub const fn interrupt(cause: u64) -> Interrupt {
    match cause {
        IRQ_S_TIMER => Interrupt::Timer,
        IRQ_S_EXTERNAL => Interrupt::External,
        _ => Interrupt::Spurious,
    }
}

/// The event a trap from user mode with these `scause` and `stval` is.
///
/// Instruction, load and store page faults and access faults are VM faults; seL4 reports the
/// `scause` of the access as the fault status (FSR: 1 instruction access, 5 load access, 7 store
/// access, as seL4 16.0.0 does on riscv). Every other exception is a user exception whose number
/// is `scause`.
#[inline(always)]
pub const fn decode(scause: u64, stval: u64) -> Event {
    if scause == CAUSE_USER_ECALL {
        return Event::Syscall;
    }
    decode_other(scause, stval)
}

/// [`decode`] of a trap that is not an `ecall`: the machine's trap entry sends every `ecall`
/// to the syscall entry (`entry::syscall_entry`, or the fastpath) and only the other traps
/// here, so that the kernel's code for this path has no syscall case. Given an `ecall`'s cause
/// anyway it yields a user exception with that number, as for any other exception.
#[inline(always)]
pub const fn decode_other(scause: u64, stval: u64) -> Event {
    if scause & CAUSE_INTERRUPT != 0 {
        return Event::Interrupt(interrupt(scause & !CAUSE_INTERRUPT));
    }
    let fault = match scause {
        1 | 12 => Fault::VmFault {
            addr: stval,
            fsr: 1,
            prefetch: true,
        },
        5 | 13 => Fault::VmFault {
            addr: stval,
            fsr: 5,
            prefetch: false,
        },
        7 | 15 => Fault::VmFault {
            addr: stval,
            fsr: 7,
            prefetch: false,
        },
        _ => Fault::UserException {
            number: scause,
            code: 0,
        },
    };
    if scause == CAUSE_ILLEGAL_INSTRUCTION {
        Event::MaybeFpuTrap(fault)
    } else {
        Event::Fault(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes() {
        assert_eq!(decode(8, 0), Event::Syscall);
        assert_eq!(
            decode_other(8, 0),
            Event::Fault(Fault::UserException { number: 8, code: 0 })
        );
        for scause in [CAUSE_INTERRUPT | 5, 1, 2, 5, 13, 15, 3] {
            assert_eq!(decode_other(scause, 0x1234), decode(scause, 0x1234));
        }
        assert_eq!(
            decode(CAUSE_INTERRUPT | 5, 0),
            Event::Interrupt(Interrupt::Timer)
        );
        assert_eq!(
            decode(CAUSE_INTERRUPT | 9, 0),
            Event::Interrupt(Interrupt::External)
        );
        assert_eq!(
            decode(CAUSE_INTERRUPT | 1, 0),
            Event::Interrupt(Interrupt::Spurious)
        );
        for (scause, fsr, prefetch) in [
            (1, 1, true),
            (12, 1, true),
            (5, 5, false),
            (13, 5, false),
            (7, 7, false),
            (15, 7, false),
        ] {
            assert_eq!(
                decode(scause, 0x1234),
                Event::Fault(Fault::VmFault {
                    addr: 0x1234,
                    fsr,
                    prefetch
                })
            );
        }
        assert_eq!(
            decode(2, 0),
            Event::MaybeFpuTrap(Fault::UserException { number: 2, code: 0 })
        );
        assert_eq!(
            decode(3, 0),
            Event::Fault(Fault::UserException { number: 3, code: 0 })
        );
    }
}
