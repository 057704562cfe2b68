//! libFuzzer target: each input is a sequence of syscalls, faults and interrupts from several
//! threads, run on a fresh simulated machine with the kernel's invariants checked after every
//! step and the fastpath compared with the full path (`kernel::fuzz::run`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kernel::fuzz::run(data);
});
