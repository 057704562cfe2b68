//! The report of a fault that has no handler: seL4's `handleDoubleFault` (printing with
//! `print_fault`, `src/kernel/faulthandler.c`) and the riscv `Arch_userStackTrace`
//! (`src/arch/riscv/kernel/vspace.c`), debug build:
//!
//! ```text
//! Caught cap fault in send phase at address 0000000000000000
//! while trying to handle:
//! vm fault on data at address 0000000000000000 with status 0x0000000000000005
//! in thread 0xffffffc080212000 "rootserver" at address 0x0000000000010174
//! With stack:
//! 0x1fff0: 0x10200
//! 0x1fff8: 0x0
//! 0x20000: INVALID
//! ...
//! ```
//!
//! The first fault is the one looking for a handler; the second is the cap fault of the
//! failed handler lookup: seL4 raises it at the handler CPtr in the send phase, whatever went
//! wrong (no cap, or a cap that is not an endpoint with send and grant or grant-reply). Numbers
//! printed as `%p` by seL4 are printed as it prints them ([`P`]).
//!
//! The stack dump prints [`USER_STACK_TRACE_LENGTH`] words from the thread's `sp` up, each read
//! through the thread's page tables. A word reads `INVALID` where seL4's does, where no frame
//! is mapped, and also (unlike seL4, which would read whatever is there) where the mapping is
//! not a user mapping below `USER_TOP` or where the frame is not RAM (device memory, firmware
//! memory): the kernel must not read such memory behind a driver's back, or at all.
#![forbid(unsafe_code)]

use super::{out, Name, P};
use crate::ipc::Fault;
use crate::mem::PPtr;
use crate::object::tcb::{restart_pc, tcb_slot, thread_name, TcbRef};
use crate::state::Kernel;

/// seL4's `CONFIG_USER_STACK_TRACE_LENGTH` (default 16): words of stack in a fault report.
pub const USER_STACK_TRACE_LENGTH: u64 = 16;

/// seL4's `print_fault`: one fault, no newline.
pub fn print_fault(f: Fault) {
    match f {
        Fault::Cap {
            cptr, in_receive, ..
        } => out(format_args!(
            "cap fault in {} phase at address {}",
            if in_receive { "receive" } else { "send" },
            P(cptr)
        )),
        Fault::VmFault {
            addr,
            fsr,
            prefetch,
        } => out(format_args!(
            "vm fault on {} at address {} with status {}",
            if prefetch { "code" } else { "data" },
            P(addr),
            P(fsr)
        )),
        Fault::UnknownSyscall { number } => out(format_args!("unknown syscall {}", P(number))),
        Fault::UserException { number, code } => out(format_args!(
            "user exception {} code {}",
            P(number),
            P(code)
        )),
        #[cfg(feature = "mcs")]
        Fault::Timeout { badge } => out(format_args!("Timeout fault for {:#x}\n", badge as u32)),
    }
}

/// `handleDoubleFault(t, fault)` (the printing; the caller makes the thread inactive):
/// `fault` found no valid handler at `handler_cptr`.
pub fn report_no_handler(k: &Kernel, t: TcbRef, fault: Fault, handler_cptr: u64) {
    let second = Fault::Cap {
        cptr: handler_cptr,
        in_receive: false,
        fault: crate::cspace::LookupFault::MissingCapability { bits_left: 0 },
    };
    out(format_args!("Caught "));
    print_fault(second);
    out(format_args!("\nwhile trying to handle:\n"));
    print_fault(fault);
    let (name, len) = thread_name(t);
    out(format_args!(
        "\nin thread {} \"{}\" at address {}\nWith stack:\n",
        P(t.addr() as u64),
        Name(&name[..len]),
        P(restart_pc(t))
    ));
    user_stack_trace(k, t);
}

/// `Arch_userStackTrace`: the words at the thread's `sp` and above.
pub fn user_stack_trace(k: &Kernel, t: TcbRef) {
    let Some(base) = crate::arch::vspace_root(&t.slot(tcb_slot::VTABLE).cap()) else {
        out(format_args!("Invalid vspace\n"));
        return;
    };
    let sp = t.reg(crate::arch::regs::STACK_POINTER);
    if !sp.is_multiple_of(8) {
        // seL4 prints no newline after this one; the report ends here either way.
        out(format_args!("SP {} not aligned\n", P(sp)));
        return;
    }
    for i in 0..USER_STACK_TRACE_LENGTH {
        let a = sp.wrapping_add(8 * i);
        match read_user_word(k, base, a) {
            Some(w) => out(format_args!("0x{a:x}: 0x{w:x}\n")),
            None => out(format_args!("0x{a:x}: INVALID\n")),
        }
    }
}

/// The 8-byte-aligned word at user address `vaddr` in the VSpace whose root page table is at
/// `root` (kernel-virtual), if it is mapped for the user and lies in RAM.
pub fn read_user_word(k: &Kernel, root: PPtr<crate::arch::PageTable>, vaddr: u64) -> Option<u64> {
    crate::mem::read_ram_word(&k.debug, crate::arch::user_word_paddr(root, vaddr)?)
}
