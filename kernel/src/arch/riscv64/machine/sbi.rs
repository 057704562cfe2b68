//! Calls into the Supervisor Binary Interface (OpenSBI on QEMU `virt`).
//!
//! Calling convention (SBI spec v2.0, chapter 3): `a7` = extension id (EID), `a6` = function id
//! (FID), arguments in `a0..a5`; the firmware returns an error code in `a0` and a value in `a1`
//! and preserves every other register. Legacy extensions (EID 0x00..0x0F) return only `a0`.

use core::arch::asm;

/// The result of an SBI call: `error` 0 means success.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SbiRet {
    /// `SBI_SUCCESS` (0) or a negative `SBI_ERR_*` code.
    pub error: isize,
    /// The function's return value.
    pub value: usize,
}

/// `SBI_ERR_NOT_SUPPORTED`.
pub const ERR_NOT_SUPPORTED: isize = -2;

/// Debug console extension ("DBCN").
const EID_DBCN: usize = 0x4442_434E;
/// DBCN: console_write_byte.
const FID_DBCN_WRITE_BYTE: usize = 2;
/// Timer extension ("TIME").
const EID_TIME: usize = 0x5449_4D45;
/// TIME: set_timer.
const FID_SET_TIMER: usize = 0;
/// System reset extension ("SRST").
const EID_SRST: usize = 0x5352_5354;
/// SRST: system_reset.
const FID_SYSTEM_RESET: usize = 0;
/// Legacy set_timer.
const EID_LEGACY_SET_TIMER: usize = 0x00;
/// Legacy console_putchar.
const EID_LEGACY_CONSOLE_PUTCHAR: usize = 0x01;
/// Legacy shutdown.
const EID_LEGACY_SHUTDOWN: usize = 0x08;

/// SRST reset type: shut down.
pub const RESET_TYPE_SHUTDOWN: usize = 0;
/// SRST reset type: cold reboot.
pub const RESET_TYPE_COLD_REBOOT: usize = 1;
/// SRST reset reason: none.
pub const RESET_REASON_NONE: usize = 0;
/// SRST reset reason: system failure.
pub const RESET_REASON_SYSTEM_FAILURE: usize = 1;

/// Makes an SBI call with up to three arguments. Private: only functions that do not make the
/// firmware access memory are wrapped here.
fn call(eid: usize, fid: usize, arg0: usize, arg1: usize, arg2: usize) -> SbiRet {
    let (error, value): (usize, usize);
    // SAFETY: `ecall` from S-mode enters the SBI firmware, which follows the SBI calling
    // convention: it reads a0..a2, a6, a7, writes only a0 and a1, and does not touch kernel
    // memory except where a function's arguments say so (none of the functions used here do,
    // and the caller chooses `eid`/`fid`).
    unsafe {
        asm!(
            "ecall",
            inlateout("a0") arg0 => error,
            inlateout("a1") arg1 => value,
            in("a2") arg2,
            in("a6") fid,
            in("a7") eid,
            options(nostack),
        );
    }
    SbiRet {
        error: error as isize,
        value,
    }
}

/// Makes a legacy (v0.1) SBI call: one argument, one result in `a0`.
fn legacy_call(eid: usize, arg0: usize) -> isize {
    call(eid, 0, arg0, 0, 0).error
}

/// Writes one byte to the debug console: DBCN `console_write_byte`, or the legacy
/// `console_putchar` if the firmware has no DBCN.
pub fn console_put_byte(c: u8) {
    if call(EID_DBCN, FID_DBCN_WRITE_BYTE, usize::from(c), 0, 0).error != 0 {
        legacy_call(EID_LEGACY_CONSOLE_PUTCHAR, usize::from(c));
    }
}

/// Programs the next supervisor timer interrupt for when `time` reaches `stime_value`, and
/// clears a pending one. `u64::MAX` disarms the timer.
pub fn set_timer(stime_value: u64) {
    if call(EID_TIME, FID_SET_TIMER, stime_value as usize, 0, 0).error == ERR_NOT_SUPPORTED {
        legacy_call(EID_LEGACY_SET_TIMER, stime_value as usize);
    }
}

/// Asks the firmware to reset or shut down the system (SRST, else legacy shutdown). Returns only
/// if the firmware refused.
pub fn system_reset(reset_type: usize, reason: usize) -> SbiRet {
    let r = call(EID_SRST, FID_SYSTEM_RESET, reset_type, reason, 0);
    if r.error == ERR_NOT_SUPPORTED && reset_type == RESET_TYPE_SHUTDOWN {
        legacy_call(EID_LEGACY_SHUTDOWN, 0);
    }
    r
}
