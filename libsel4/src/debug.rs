//! Console output through `seL4_DebugPutChar` (debug kernels only): [`print!`](crate::print)
//! and [`println!`](crate::println), formatted with `core::fmt` and no heap.

use core::fmt;

/// A `fmt::Write` sink that sends each byte to `seL4_DebugPutChar`.
#[derive(Clone, Copy, Debug, Default)]
pub struct DebugWriter;

impl fmt::Write for DebugWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        crate::sys::seL4_DebugPutString(s);
        Ok(())
    }
}

#[doc(hidden)]
pub fn _print(args: fmt::Arguments<'_>) {
    let _ = fmt::Write::write_fmt(&mut DebugWriter, args);
}

/// Print to the kernel console, like `std::print!`.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::debug::_print(format_args!($($arg)*)) };
}

/// Print a line to the kernel console, like `std::println!`.
#[macro_export]
macro_rules! println {
    () => { $crate::debug::_print(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::debug::_print(format_args!("{}\n", format_args!($($arg)*))) };
}

#[cfg(all(test, not(target_os = "none")))]
mod tests {
    use crate::arch::mock;
    use abi::Syscall;

    #[test]
    fn println_sends_each_byte() {
        mock::install(|_, _| {});
        crate::println!("a{}", 1);
        crate::print!("!");
        let out: Vec<(Syscall, u8)> = mock::log().iter().map(|(s, r)| (*s, r.a0 as u8)).collect();
        let bytes: Vec<u8> = out.iter().map(|(_, b)| *b).collect();
        assert!(out.iter().all(|(s, _)| *s == Syscall::DebugPutChar));
        assert_eq!(bytes, b"a1\n!");
    }
}
