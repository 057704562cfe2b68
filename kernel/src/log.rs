//! Kernel console output: `kprint!`/`kprintln!` and the levelled `kerror!`, `kwarn!`, `kinfo!`,
//! `kdebug!`.
//!
//! Everything goes byte by byte through [`crate::arch::put_char`] (the SBI console on the machine,
//! a per-thread buffer on the host), formatted with `core::fmt` and no allocation. Level macros
//! print one line starting with `[kernel ERROR] `, `[kernel WARN] `, `[kernel INFO] ` or
//! `[kernel DEBUG] `; test harnesses ignore lines starting with `[kernel`, so anything a test must
//! see (e.g. `KERNEL PANIC`) is printed with `kprintln!` instead.
//!
//! `kdebug!` lines are only printed in builds with debug assertions ([`MAX_LEVEL`]); the others
//! always. The macros are exported at the crate root (`kernel::kinfo!`, `crate::kinfo!`) and,
//! through `#[macro_use]` in `lib.rs`, usable by name in the kernel's modules.

use core::fmt::{self, Write};

/// Severity of a log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Something failed; the kernel usually stops.
    Error,
    /// Something unexpected that the kernel works around.
    Warn,
    /// Progress worth seeing on every boot.
    Info,
    /// Detail for debugging.
    Debug,
}

impl Level {
    /// The line prefix for this level.
    pub const fn prefix(self) -> &'static str {
        match self {
            Level::Error => "[kernel ERROR] ",
            Level::Warn => "[kernel WARN] ",
            Level::Info => "[kernel INFO] ",
            Level::Debug => "[kernel DEBUG] ",
        }
    }
}

/// The most detailed level printed.
pub const MAX_LEVEL: Level = if cfg!(debug_assertions) {
    Level::Debug
} else {
    Level::Info
};

/// The console as a `core::fmt::Write` sink.
#[derive(Clone, Copy, Debug, Default)]
pub struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        s.bytes().for_each(crate::arch::put_char);
        Ok(())
    }
}

/// Prints formatted text (used by `kprint!`).
#[doc(hidden)]
pub fn _print(args: fmt::Arguments<'_>) {
    // Console never fails; a formatting error of a Display impl just truncates the output.
    let _ = Console.write_fmt(args);
}

/// Prints formatted text and a newline (used by `kprintln!`).
#[doc(hidden)]
pub fn _println(args: fmt::Arguments<'_>) {
    let _ = Console.write_fmt(args);
    crate::arch::put_char(b'\n');
}

/// Prints one log line at `level`, if [`MAX_LEVEL`] allows it (used by the level macros).
#[doc(hidden)]
pub fn _log(level: Level, args: fmt::Arguments<'_>) {
    if level <= MAX_LEVEL {
        let _ = Console.write_str(level.prefix());
        _println(args);
    }
}

/// Prints to the kernel console, like `print!`.
#[macro_export]
macro_rules! kprint {
    ($($arg:tt)*) => { $crate::log::_print(::core::format_args!($($arg)*)) };
}

/// Prints a line to the kernel console, like `println!`.
#[macro_export]
macro_rules! kprintln {
    () => { $crate::arch::put_char(b'\n') };
    ($($arg:tt)*) => { $crate::log::_println(::core::format_args!($($arg)*)) };
}

/// Logs a line starting with `[kernel ERROR] `.
#[macro_export]
macro_rules! kerror {
    ($($arg:tt)*) => { $crate::log::_log($crate::log::Level::Error, ::core::format_args!($($arg)*)) };
}

/// Logs a line starting with `[kernel WARN] `.
#[macro_export]
macro_rules! kwarn {
    ($($arg:tt)*) => { $crate::log::_log($crate::log::Level::Warn, ::core::format_args!($($arg)*)) };
}

/// Logs a line starting with `[kernel INFO] `.
#[macro_export]
macro_rules! kinfo {
    ($($arg:tt)*) => { $crate::log::_log($crate::log::Level::Info, ::core::format_args!($($arg)*)) };
}

/// Logs a line starting with `[kernel DEBUG] ` (only in builds with debug assertions).
#[macro_export]
macro_rules! kdebug {
    ($($arg:tt)*) => { $crate::log::_log($crate::log::Level::Debug, ::core::format_args!($($arg)*)) };
}

#[cfg(all(test, not(target_os = "none")))]
mod tests {
    use crate::arch::host::take_console;

    fn console() -> String {
        String::from_utf8(take_console()).unwrap()
    }

    #[test]
    fn print_and_println() {
        take_console();
        crate::kprint!("a{}", 1);
        crate::kprintln!(" b {:#x}", 255);
        crate::kprintln!();
        assert_eq!(console(), "a1 b 0xff\n\n");
    }

    #[test]
    fn level_prefixes() {
        take_console();
        crate::kinfo!("seL4-compatible kernel (riscv64) booting");
        crate::kwarn!("w{}", 2);
        crate::kerror!("e");
        assert_eq!(
            console(),
            "[kernel INFO] seL4-compatible kernel (riscv64) booting\n[kernel WARN] w2\n[kernel ERROR] e\n"
        );
    }

    #[test]
    fn debug_follows_max_level() {
        take_console();
        crate::kdebug!("d");
        let expected = if cfg!(debug_assertions) {
            "[kernel DEBUG] d\n"
        } else {
            ""
        };
        assert_eq!(console(), expected);
    }

    #[test]
    fn every_level_line_is_ignored_by_the_harness() {
        use super::Level::*;
        for l in [Error, Warn, Info, Debug] {
            assert!(l.prefix().starts_with("[kernel"));
        }
    }
}
