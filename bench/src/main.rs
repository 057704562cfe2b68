//! `bench`: the benchmark root task. It measures IPC (Call and ReplyRecv, within and across
//! address spaces, with and without a dirty FPU, with a cap transfer, 10-word messages, Send
//! to a higher-priority thread), the syscall floor (`seL4_BenchmarkNullSyscall`,
//! `seL4_Yield`), notifications, an interrupt delivered to a user-level handler, object
//! creation and CNode operations, sel4bench's page-mapping phases, the reset of a 16 MiB
//! untyped, and a process's creation and teardown, all in guest instructions
//! under QEMU's `-icount shift=0` (where the riscv64 `cycle` CSR and the aarch64 `PMCCNTR_EL0`
//! count instructions). It prints a
//! table, one `BENCH {json}` line per result and `BENCH_DONE` (see the library's
//! documentation), then halts the machine.
//!
//! Needs the kernel built with the `benchmark` feature (for `seL4_BenchmarkNullSyscall`);
//! `cargo xtask bench` does that.
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

#[cfg(target_os = "none")]
mod benches;
#[cfg(target_os = "none")]
mod env;
#[cfg(target_os = "none")]
mod raw;

#[cfg(target_os = "none")]
fn root_main(bi: &'static abi::BootInfo) -> ! {
    benches::run(bi);
    loop {
        libsel4::sys::seL4_DebugHalt();
    }
}

libsel4::root_task!(root_main);

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!(
        "bench is an seL4 root task: build it with --target riscv64gc-unknown-none-elf or aarch64-unknown-none"
    );
    std::process::exit(1);
}
