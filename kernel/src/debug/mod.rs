//! What seL4's debug kernel (`CONFIG_DEBUG_BUILD`) prints, compiled in with the cargo feature
//! `debug_build` only:
//!
//! - [`fault`]: the report of a fault that has no handler (seL4 `handleDoubleFault` in
//!   `src/kernel/faulthandler.c` and `Arch_userStackTrace` in `src/arch/riscv/kernel/vspace.c`);
//! - [`sched`]: `seL4_DebugDumpScheduler` (seL4 `debug_dumpScheduler`/`debug_printTCB` in
//!   `include/api/debug.h`);
//! - [`capdl`]: `seL4_DebugSnapshot` (seL4 `debug_capDL` in `src/machine/capdl.c` and
//!   `src/arch/riscv/machine/capdl.c`);
//! - [`tcbs`]: the list of all TCBs these walk (seL4 `ksDebugTCBs`, `tcbDebugAppend`,
//!   `tcbDebugRemove`).
//!
//! Nothing here allocates; output goes straight to the console as it is produced. What is
//! printed, with samples, is in `docs/DEBUGGING.md`.
#![forbid(unsafe_code)]

pub mod capdl;
pub mod fault;
pub mod sched;
pub mod tcbs;

use crate::boot::{Region, MAX_RAM_REGIONS};
use core::fmt;

/// The kernel state of the debug build (part of [`crate::state::Kernel`]).
#[derive(Debug)]
pub struct DebugState {
    /// Head of the list of all TCBs (`ksDebugTCBs`).
    pub tcbs: Option<tcbs::Entry>,
    /// The idle thread's links in that list (it has no TCB memory of its own here).
    pub(crate) idle_next: Option<tcbs::Entry>,
    /// See `idle_next`.
    pub(crate) idle_prev: Option<tcbs::Entry>,
    /// RAM (physical), the only memory the stack dump reads: device memory may have side
    /// effects, and the firmware's memory is protected from the kernel.
    ram: [Region; MAX_RAM_REGIONS],
    ram_len: usize,
}

impl DebugState {
    /// No TCBs, no RAM.
    pub const fn new() -> DebugState {
        DebugState {
            tcbs: None,
            idle_next: None,
            idle_prev: None,
            ram: [Region::new(0, 0); MAX_RAM_REGIONS],
            ram_len: 0,
        }
    }

    /// Records the RAM regions (boot).
    pub fn set_ram(&mut self, ram: &[Region]) {
        let n = ram.len().min(MAX_RAM_REGIONS);
        self.ram[..n].copy_from_slice(&ram[..n]);
        self.ram_len = n;
    }

    /// Whether the `len` bytes at physical `paddr` are RAM.
    pub fn is_ram(&self, paddr: u64, len: u64) -> bool {
        let Some(end) = paddr.checked_add(len) else {
            return false;
        };
        self.ram[..self.ram_len]
            .iter()
            .any(|r| r.start <= paddr && end <= r.end)
    }
}

impl Default for DebugState {
    fn default() -> Self {
        DebugState::new()
    }
}

/// A pointer as seL4's kernel `printf` prints `%p`: `0x` and 16 hex digits, or 16 zeros (no
/// `0x`) for null.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct P(pub u64);

impl fmt::Display for P {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            f.write_str("0000000000000000")
        } else {
            write!(f, "0x{:016x}", self.0)
        }
    }
}

/// A thread name as bytes, printed as ASCII (other bytes as `?`), honouring width and
/// alignment like `%40s` (right-aligned unless `{:<}`).
#[derive(Clone, Copy, Debug)]
pub struct Name<'a>(pub &'a [u8]);

impl fmt::Display for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pad = f.width().unwrap_or(0).saturating_sub(self.0.len());
        let left = f.align() == Some(fmt::Alignment::Left);
        if !left {
            (0..pad).try_for_each(|_| f.write_str(" "))?;
        }
        for &b in self.0 {
            let c = if (0x20..0x7f).contains(&b) { b } else { b'?' };
            fmt::Write::write_char(f, c as char)?;
        }
        if left {
            (0..pad).try_for_each(|_| f.write_str(" "))?;
        }
        Ok(())
    }
}

/// Prints `args` on the console (no newline).
pub(crate) fn out(args: fmt::Arguments<'_>) {
    crate::log::_print(args)
}
