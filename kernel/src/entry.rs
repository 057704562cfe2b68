//! Kernel entry from user mode: syscalls, exceptions and interrupts (seL4 `c_handle_syscall`,
//! `c_handle_exception`, `c_handle_interrupt` in `src/arch/riscv/c_traps.c`).

use crate::arch::ArchContext;
use crate::object::tcb::ThreadState;
use crate::state::Kernel;
use crate::syscall::{handle_fault, handle_syscall, Fault};

/// `scause` of an `ecall` from U-mode.
pub const CAUSE_USER_ECALL: u64 = 8;
/// `scause` bit set for interrupts.
pub const CAUSE_INTERRUPT: u64 = 1 << 63;

/// Handles one trap of the current thread in kernel `k`. Its registers are saved in its
/// context with the pc of the trapping instruction.
pub fn handle_trap(k: &mut Kernel, scause: u64, stval: u64) {
    if scause & CAUSE_INTERRUPT != 0 {
        // Interrupts are delivered to user level with the interrupt work; the kernel runs
        // with them masked until then, so nothing is pending here.
        return;
    }
    let t = k.cur_thread;
    match scause {
        CAUSE_USER_ECALL => handle_syscall(k),
        // Instruction, load and store page faults and access faults are VM faults.
        1 | 5 | 7 | 12 | 13 | 15 => {
            let pc = t.reg(0);
            t.with(|x| x.fault_ip = pc);
            handle_fault(k, t, Fault::VmFault { addr: stval, cause: scause })
        }
        _ => {
            let pc = t.reg(0);
            t.with(|x| x.fault_ip = pc);
            handle_fault(k, t, Fault::UserException { cause: scause, tval: stval })
        }
    }
}

/// `schedule` + `activateThread`: picks the thread to run and prepares it: a thread in
/// `Restart` re-executes its syscall. Returns its register context.
///
/// With a single user thread (threads and the scheduler come with the IPC work), a kernel
/// with no runnable thread has nothing left to do: it says so and halts.
pub fn activate(k: &mut Kernel) -> *mut ArchContext {
    let t = k.cur_thread;
    match t.state() {
        ThreadState::Running => {}
        ThreadState::Restart => {
            let ip = t.with(|x| x.fault_ip);
            t.set_reg(0, ip);
            t.set_state(ThreadState::Running);
        }
        _ => {
            crate::kerror!("no runnable thread left: halting");
            crate::arch::halt(false)
        }
    }
    crate::arch::set_vm_root(k, t);
    t.context_ptr()
}

/// Entry from the architecture's trap path: handles the trap of the current thread and returns
/// the context to restore.
#[cfg(target_os = "none")]
pub fn handle_user_trap(scause: u64, stval: u64) -> *mut ArchContext {
    crate::state::with_kernel(|k| {
        handle_trap(k, scause, stval);
        activate(k)
    })
}
