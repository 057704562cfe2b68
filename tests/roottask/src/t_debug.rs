//! Debug syscalls (`handleUnknownSyscall` in `src/api/syscall.c`, debug build) and the shape of
//! successful invocation replies.

use abi::{slot, CapRights, MessageInfo};
use libsel4::cap::init;
use libsel4::cap_tag as tag;
use libsel4::{ipc, print, println, sys};

use crate::framework::{ident, Ctx, TestResult};
use crate::{check_eq, ok};

/// DebugPutChar prints bytes (this whole output depends on it); a line of them here.
pub fn debug_put_char(_c: &mut Ctx) -> TestResult {
    for b in b"# DebugPutChar:" {
        sys::seL4_DebugPutChar(*b);
    }
    for d in b'0'..=b'9' {
        sys::seL4_DebugPutChar(d);
    }
    println!();
    check_eq!(
        ident(slot::INIT_THREAD_TCB),
        tag::THREAD,
        "syscalls after DebugPutChar"
    );
    Ok(())
}

/// DebugNameThread on the root TCB returns (a name up to 959 bytes is accepted; seL4 halts only
/// on a non-TCB cap or a name without a NUL in the message area).
pub fn debug_name_thread(_c: &mut Ctx) -> TestResult {
    let long = [b'n'; 300];
    let long = core::str::from_utf8(&long).unwrap_or("n");
    init::TCB.debug_name(long);
    init::TCB.debug_name("roottask-tests");
    check_eq!(
        ident(slot::INIT_THREAD_TCB),
        tag::THREAD,
        "syscalls after DebugNameThread"
    );
    Ok(())
}

/// DebugDumpScheduler prints the kernel's thread list and returns.
///
/// DebugSnapshot is not called here (only in [`debug_snapshot`]): seL4 16.0.0's riscv capDL dump
/// (`riscv_obj_pt_print_slots` in `src/arch/riscv/machine/capdl.c`) treats the kernel-window
/// gigapage entries of a VSpace root as page tables and never finishes (seen on the real kernel
/// under QEMU), so no seL4-compatible result can be expected from it.
pub fn debug_dump_scheduler(_c: &mut Ctx) -> TestResult {
    print!("# DebugDumpScheduler:\n");
    sys::seL4_DebugDumpScheduler();
    println!();
    check_eq!(
        ident(slot::INIT_THREAD_TCB),
        tag::THREAD,
        "syscalls after the dump"
    );
    Ok(())
}

/// DebugSnapshot prints a capDL description of the threads (but ones named `rootserver` or
/// `idle_thread`: here this root task, which renamed itself, and one more thread sharing its
/// CSpace and VSpace) and returns; so does DebugDumpScheduler with that thread in the list.
/// Only for this kernel: seL4 16.0.0's riscv dump does not finish (see above), so this test was
/// not checked against seL4.
pub fn debug_snapshot(c: &mut Ctx) -> TestResult {
    let t = c.thread(crate::t_tcb::park_main, 50, [0; 4])?;
    t.start()?;
    print!("# DebugSnapshot:\n");
    sys::seL4_DebugSnapshot();
    print!("# DebugDumpScheduler:\n");
    sys::seL4_DebugDumpScheduler();
    check_eq!(
        ident(slot::INIT_THREAD_TCB),
        tag::THREAD,
        "syscalls after the snapshot"
    );
    check_eq!(
        ident(t.tcb),
        tag::THREAD,
        "the thread's cap after the snapshot"
    );
    Ok(())
}

/// A successful invocation is answered with an empty message (`replyFromKernel_success_empty`:
/// label 0, no caps, length 0); one that returns a value has exactly its words.
pub fn success_reply_shape(c: &mut Ctx) -> TestResult {
    let d = c.slot()?;
    ok!(
        c.abs(d)
            .copy_from(&c.abs(slot::INIT_THREAD_TCB), CapRights::ALL),
        "copy"
    );
    check_eq!(
        ipc::tag(),
        MessageInfo::new(0, 0, 0, 0),
        "reply to CNode_Copy"
    );
    ok!(c.abs(d).delete(), "delete");
    check_eq!(
        ipc::tag(),
        MessageInfo::new(0, 0, 0, 0),
        "reply to CNode_Delete"
    );
    ok!(init::IPC_BUFFER.get_address(), "GetAddress");
    check_eq!(
        ipc::tag(),
        MessageInfo::new(0, 0, 0, 1),
        "reply to Page_GetAddress"
    );
    Ok(())
}
