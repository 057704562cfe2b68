//! Kernel console output: `kprint!`/`kprintln!`, the levelled `kerror!`, `kwarn!`, `kinfo!`,
//! `kdebug!`, and seL4's `userError` as [`user_error!`](crate::user_error).
//!
//! Everything goes byte by byte through [`crate::arch::put_char`] (the SBI console on the machine,
//! a per-thread buffer on the host), formatted with `core::fmt` and no allocation. Level macros
//! print one line starting with `[kernel ERROR] `, `[kernel WARN] `, `[kernel INFO] ` or
//! `[kernel DEBUG] `; test harnesses ignore lines starting with `[kernel`, so anything a test must
//! see (e.g. `KERNEL PANIC`) is printed with `kprintln!` instead.
//!
//! What the kernel prints after boot goes through [`Out`] pieces ([`line()`], [`println()`])
//! without `core::fmt`: release kernels keep the formatting code in the boot-only region
//! (see `kernel/build.rs`), so the level macros are for boot and `debug_build` output.
//!
//! # Log level
//! Chosen at build time by the environment variable `KERNEL_LOG_LEVEL` (`error`, `warn`, `info`
//! or `debug`; default `debug` in builds with debug assertions, `info` otherwise): levels above
//! it are compiled out ([`MAX_LEVEL`]). At boot the level can be lowered (never raised past
//! [`MAX_LEVEL`]) with `loglevel=<level>` in the device tree's `/chosen/bootargs` (QEMU:
//! `-append loglevel=warn`), see [`set_level`].
//!
//! # userError
//! In builds with the `debug_build` feature (seL4's `CONFIG_DEBUG_BUILD`), every invocation or
//! syscall that fails with an error says why on the console, in the shape of seL4's `userError`
//! (`include/api/types.h`): `<<seL4(CPU 0) [where T0x<tcb> "<thread name>" @<pc>]: <why>>>`,
//! where `where` is the Rust module and line instead of seL4's C function and line. The thread
//! is the one whose kernel entry is being handled ([`set_current_thread`]). Without
//! `debug_build` the macro and its arguments compile to nothing.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU8, Ordering};

/// Severity of a log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    /// Something failed; the kernel usually stops.
    Error = 0,
    /// Something unexpected that the kernel works around.
    Warn = 1,
    /// Progress worth seeing on every boot.
    Info = 2,
    /// Detail for debugging.
    Debug = 3,
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

    /// Parses a level name (`error`, `warn`, `info`, `debug`; ASCII case ignored).
    pub const fn parse(s: &str) -> Option<Level> {
        let b = s.as_bytes();
        if eq_ignore_case(b, b"error") {
            Some(Level::Error)
        } else if eq_ignore_case(b, b"warn") {
            Some(Level::Warn)
        } else if eq_ignore_case(b, b"info") {
            Some(Level::Info)
        } else if eq_ignore_case(b, b"debug") {
            Some(Level::Debug)
        } else {
            None
        }
    }

    const fn from_u8(v: u8) -> Level {
        match v {
            0 => Level::Error,
            1 => Level::Warn,
            2 => Level::Info,
            _ => Level::Debug,
        }
    }
}

const fn eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i].to_ascii_lowercase() != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The most detailed level compiled in: `KERNEL_LOG_LEVEL` at build time, else `debug` with
/// debug assertions and `info` without. A `KERNEL_LOG_LEVEL` that names no level fails the
/// build.
pub const MAX_LEVEL: Level = match option_env!("KERNEL_LOG_LEVEL") {
    Some(s) => match Level::parse(s) {
        Some(l) => l,
        None => panic!("KERNEL_LOG_LEVEL must be error, warn, info or debug"),
    },
    None => {
        if cfg!(debug_assertions) {
            Level::Debug
        } else {
            Level::Info
        }
    }
};

/// The level in force (at most [`MAX_LEVEL`]).
#[cfg(target_os = "none")]
static LEVEL: AtomicU8 = AtomicU8::new(MAX_LEVEL as u8);

// On the host each test thread is a machine of its own.
#[cfg(not(target_os = "none"))]
std::thread_local! {
    static LEVEL: AtomicU8 = const { AtomicU8::new(MAX_LEVEL as u8) };
}

fn with_level<R>(f: impl FnOnce(&AtomicU8) -> R) -> R {
    #[cfg(target_os = "none")]
    return f(&LEVEL);
    #[cfg(not(target_os = "none"))]
    return LEVEL.with(f);
}

/// The level in force.
pub fn level() -> Level {
    Level::from_u8(with_level(|l| l.load(Ordering::Relaxed)))
}

/// Sets the level in force, capped at [`MAX_LEVEL`]; returns the level now in force.
pub fn set_level(l: Level) -> Level {
    let l = if l > MAX_LEVEL { MAX_LEVEL } else { l };
    with_level(|v| v.store(l as u8, Ordering::Relaxed));
    l
}

/// Applies a `loglevel=<level>` word of a kernel command line (the device tree's
/// `/chosen/bootargs`, words separated by spaces); other words are ignored. Returns the level
/// named, if any was valid.
pub fn apply_bootargs(args: &str) -> Option<Level> {
    let l = args
        .split_ascii_whitespace()
        .rev()
        .filter_map(|w| w.strip_prefix("loglevel="))
        .find_map(Level::parse)?;
    Some(set_level(l))
}

/// Whether the kernel prints after boot: the `printing` feature (seL4's `CONFIG_PRINTING`,
/// implied by `debug_build`). Without it [`print()`], [`println()`] and [`line()`] print nothing and
/// the runtime reports that use them compile out; boot's messages (the level macros, boot-only
/// code) and `seL4_DebugPutChar` are not affected.
pub const PRINTING: bool = cfg!(feature = "printing");

/// One piece of a console line that [`line()`] and [`println()`] print without `core::fmt`.
///
/// What the kernel prints after boot (IRQ warnings, faults without a handler, kernel traps and
/// panics, the debug syscalls' lines) goes through these, so that builds without
/// `debug_build` keep the formatting machinery (several KiB of code) out of the runtime kernel
/// (only boot and `debug_build`'s reports use `core::fmt`).
#[derive(Clone, Copy, Debug)]
pub enum Out<'a> {
    /// Text as is.
    Str(&'a str),
    /// Bytes as they are (a thread name, as the user wrote it; seL4 prints it as a C string).
    Bytes(&'a [u8]),
    /// A number in decimal, as `{}` prints it.
    Dec(u64),
    /// A number in hexadecimal with `0x`, as `{:#x}` prints it.
    Hex(u64),
}

/// Prints `pieces` (see [`Out`]); nothing without [`PRINTING`].
#[cold]
#[inline(never)]
pub fn print(pieces: &[Out<'_>]) {
    if !PRINTING {
        return;
    }
    for p in pieces {
        let mut buf = [0u8; 20];
        let (bytes, from) = match *p {
            Out::Str(s) => (s.as_bytes(), 0),
            Out::Bytes(b) => (b, 0),
            Out::Dec(v) => {
                let from = digits(v, 10, &mut buf);
                (&buf[..], from)
            }
            Out::Hex(v) => {
                let from = digits(v, 16, &mut buf);
                (&buf[..], from)
            }
        };
        let bytes = bytes.get(from..).unwrap_or_default();
        bytes.iter().copied().for_each(crate::arch::put_char);
    }
}

/// Prints `pieces` (see [`Out`]) and a newline; nothing without [`PRINTING`].
#[cold]
#[inline(never)]
pub fn println(pieces: &[Out<'_>]) {
    if !PRINTING {
        return;
    }
    print(pieces);
    crate::arch::put_char(b'\n');
}

/// Prints one log line at level `l` made of `pieces` (see [`Out`]), if [`MAX_LEVEL`] and the
/// level in force allow it: the `core::fmt`-free twin of the level macros. Nothing without
/// [`PRINTING`].
#[cold]
#[inline(never)]
pub fn line(l: Level, pieces: &[Out<'_>]) {
    if PRINTING && l <= MAX_LEVEL && l <= level() {
        print(&[Out::Str(l.prefix())]);
        println(pieces);
    }
}

/// Writes `v` in base `base` (10, or 16 with `0x` and lower-case digits) at the end of `buf`;
/// returns where it starts. (No slicing here: its panic path is boot-only code, see build.rs.)
#[inline(never)]
fn digits(mut v: u64, base: u64, buf: &mut [u8; 20]) -> usize {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b"0123456789abcdef"[(v % base) as usize];
        v /= base;
        if v == 0 {
            break;
        }
    }
    if base == 16 {
        i -= 2;
        buf[i] = b'0';
        buf[i + 1] = b'x';
    }
    i
}

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

/// Prints one log line at level `l`, if [`MAX_LEVEL`] and the level in force allow it (used by
/// the level macros).
#[doc(hidden)]
pub fn _log(l: Level, args: fmt::Arguments<'_>) {
    if l <= MAX_LEVEL && l <= level() {
        let _ = Console.write_str(l.prefix());
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

/// Reports why an invocation or syscall of the current thread failed, as seL4's `userError`
/// does (see the module doc), in builds with the `debug_build` feature; compiles to nothing
/// (arguments not evaluated) without it. Takes `format!`-style arguments.
#[macro_export]
macro_rules! user_error {
    ($($arg:tt)*) => {
        #[cfg(feature = "debug_build")]
        $crate::log::_user_error(::core::module_path!(), ::core::line!(), ::core::format_args!($($arg)*));
    };
}

/// The thread whose kernel entry is being handled (null: none), named in [`user_error!`]
/// lines.
#[cfg(all(feature = "debug_build", target_os = "none"))]
static CURRENT_THREAD: crate::mem::PPtrCell<crate::object::tcb::Tcb> = crate::mem::PPtrCell::new();

#[cfg(all(feature = "debug_build", not(target_os = "none")))]
std::thread_local! {
    static CURRENT_THREAD: crate::mem::PPtrCell<crate::object::tcb::Tcb> =
        const { crate::mem::PPtrCell::new() };
}

/// Records `t` as the thread whose kernel entry is being handled (called on every entry but
/// the fastpath's, which reports no errors). Does nothing without `debug_build`.
#[inline(always)]
pub fn set_current_thread(t: crate::object::tcb::TcbRef) {
    #[cfg(all(feature = "debug_build", target_os = "none"))]
    CURRENT_THREAD.store(t);
    #[cfg(all(feature = "debug_build", not(target_os = "none")))]
    CURRENT_THREAD.with(|c| c.store(t));
    let _ = t;
}

/// The thread recorded by [`set_current_thread`].
#[cfg(feature = "debug_build")]
pub fn current_thread() -> crate::object::tcb::TcbRef {
    #[cfg(target_os = "none")]
    return CURRENT_THREAD.load();
    #[cfg(not(target_os = "none"))]
    return CURRENT_THREAD.with(|c| c.load());
}

/// Prints one `userError` line (used by [`user_error!`]).
#[cfg(feature = "debug_build")]
#[doc(hidden)]
pub fn _user_error(module: &str, line: u32, args: fmt::Arguments<'_>) {
    let t = current_thread();
    let module = module.strip_prefix("kernel::").unwrap_or(module);
    if t.is_null() {
        _println(format_args!("<<seL4(CPU 0) [{module}/{line}]: {args}>>"));
        return;
    }
    let (name, len) = crate::object::tcb::thread_name(t);
    let name = core::str::from_utf8(&name[..len]).unwrap_or("?");
    let pc = crate::object::tcb::restart_pc(t);
    _println(format_args!(
        "<<seL4(CPU 0) [{module}/{line} T{:#x} \"{name}\" @{pc:x}]: {args}>>",
        t.addr()
    ));
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

    #[cfg(feature = "printing")]
    #[test]
    fn pieces_print_as_fmt_does() {
        use super::Out::*;
        for v in [0, 1, 9, 10, 255, 4096, u64::MAX] {
            take_console();
            super::print(&[Dec(v), Str(" "), Hex(v)]);
            let ours = console();
            crate::kprint!("{v} {v:#x}");
            assert_eq!(ours, console());
        }
        super::println(&[Bytes(b"name"), Str("!")]);
        assert_eq!(console(), "name!\n");
    }

    #[cfg(feature = "printing")]
    #[test]
    fn a_line_of_pieces_follows_the_level() {
        use super::Out::*;
        take_console();
        super::line(super::Level::Warn, &[Str("w"), Dec(2)]);
        super::line(super::Level::Debug, &[Str("d")]);
        let expected = if cfg!(debug_assertions) {
            "[kernel WARN] w2\n[kernel DEBUG] d\n"
        } else {
            "[kernel WARN] w2\n"
        };
        assert_eq!(console(), expected);
    }

    #[cfg(not(feature = "printing"))]
    #[test]
    fn pieces_print_nothing_without_printing() {
        use super::Out::*;
        take_console();
        super::print(&[Dec(1), Str(" "), Hex(2)]);
        super::println(&[Bytes(b"name"), Str("!")]);
        super::line(super::Level::Error, &[Str("e")]);
        assert_eq!(console(), "");
        // The level macros (boot's messages) still print.
        crate::kerror!("e");
        assert_eq!(console(), "[kernel ERROR] e\n");
    }

    #[test]
    fn level_prefixes() {
        take_console();
        crate::kinfo!("seL4-compatible kernel booting");
        crate::kwarn!("w{}", 2);
        crate::kerror!("e");
        assert_eq!(
            console(),
            "[kernel INFO] seL4-compatible kernel booting\n[kernel WARN] w2\n[kernel ERROR] e\n"
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
    fn level_names_parse() {
        use super::Level::*;
        for (s, l) in [
            ("error", Error),
            ("WARN", Warn),
            ("Info", Info),
            ("debug", Debug),
        ] {
            assert_eq!(super::Level::parse(s), Some(l));
        }
        assert_eq!(super::Level::parse("verbose"), None);
        assert_eq!(super::Level::parse(""), None);
    }

    #[test]
    fn bootargs_lower_the_level_but_never_past_the_build() {
        use super::{apply_bootargs, level, set_level, Level, MAX_LEVEL};
        take_console();
        assert_eq!(apply_bootargs("console=ttyS0 quiet"), None);
        assert_eq!(level(), MAX_LEVEL);
        assert_eq!(
            apply_bootargs("a loglevel=bogus loglevel=error b"),
            Some(Level::Error)
        );
        crate::kwarn!("hidden");
        crate::kerror!("shown");
        assert_eq!(console(), "[kernel ERROR] shown\n");
        assert_eq!(apply_bootargs("loglevel=debug"), Some(MAX_LEVEL));
        assert_eq!(set_level(MAX_LEVEL), MAX_LEVEL);
    }

    #[test]
    fn every_level_line_is_ignored_by_the_harness() {
        use super::Level::*;
        for l in [Error, Warn, Info, Debug] {
            assert!(l.prefix().starts_with("[kernel"));
        }
    }
}
