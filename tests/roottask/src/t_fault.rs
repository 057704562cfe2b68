//! Faults (`handleFault`/`sendFaultIPC` in `src/kernel/faulthandler.c`, the messages of
//! `setMRs_fault` and the replies of `handleFaultReply` in `src/api/faults.c` and
//! `src/arch/riscv/api/faults.c`): a thread's fault goes as a message to the endpoint named by
//! its fault endpoint CPtr, the thread waits for the reply. Cap faults (label 1) and VM faults
//! (label 5) restart the thread whatever the reply's label; unknown syscalls (label 2) and user
//! exceptions (label 3) restart it only for label 0, after copying the reply's words into its
//! registers, and leave it stopped otherwise. Without a usable handler the thread just stops.

use core::arch::asm;

use abi::user_context::{idx, UserContext};
use abi::{CPtr, CapRights, MessageInfo, ObjectType as T, Word};
use libsel4::sys;

use crate::framework::{Ctx, Fail, TestResult};
use crate::thread::{report_and_park, shared, Msg, Thread, FAULT_BADGE, SHARED};
use crate::{check_eq, ok};

/// A CPtr whose lookup in the root CNode (radix 13, 51-bit guard 0) fails with a guard
/// mismatch: 64 bits left, guard 0 found, 51 guard bits.
const BAD: CPtr = 1 << 40;
const GUARD_MISMATCH: [Word; 4] = [4, 64, 0, 51];

fn slot_addr(i: usize) -> usize {
    &SHARED[i] as *const _ as usize
}

/// Reply to the fault the root task just received (its reply cap is in its TCB).
fn reply(label: Word, words: &[Word]) {
    for (i, w) in words.iter().enumerate() {
        sys::seL4_SetMR(i, *w);
    }
    crate::thread::reply(MessageInfo::new(label, 0, 0, words.len() as Word));
}

/// Set the pc of a thread waiting for its fault reply (WriteRegisters of 1 register).
fn set_pc(t: &Thread, pc: Word) -> Result<(), Fail> {
    let mut r = UserContext::default();
    r.regs[idx::PC] = pc;
    sys::seL4_TCB_WriteRegisters(t.tcb, false, 0, 1, &r).map_err(|e| {
        Fail::new(
            line!(),
            format_args!("WriteRegisters(pc): {}", libsel4::error_name(e)),
        )
    })
}

/// Check a fault message: label, fault badge, length, words.
fn check_fault(m: &Msg, label: Word, words: &[Word], what: &str) -> TestResult {
    check_eq!(
        (m.label(), m.badge, m.len()),
        (label, FAULT_BADGE, words.len() as Word),
        "{} (label, badge, length)",
        what
    );
    check_eq!(&m.mr[..words.len()], words, "{} message", what);
    Ok(())
}

extern "C" fn cap_fault_main(rep: Word, bad: Word, ep: Word, bad2: Word) -> ! {
    sys::seL4_Call(bad, MessageInfo::new(0x5, 0, 0, 0));
    sys::seL4_NBSend(bad, MessageInfo::new(0x6, 0, 0, 0));
    sys::seL4_Send(bad, MessageInfo::new(0x7, 0, 0, 0));
    sys::seL4_SetCap(0, bad2);
    sys::seL4_Send(ep, MessageInfo::new(0x8, 0, 1, 0));
    report_and_park(rep, 0xf1, &[])
}

/// Invoking a CPtr that does not resolve with a blocking send (Call, Send) is a cap fault
/// [IP, CPtr, 0 (send phase), lookup failure]; so is an extra cap that does not resolve. NBSend
/// does not fault. Any reply restarts the faulting syscall; moving the pc past it first lets the
/// thread go on.
pub fn fault_cap_fault(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let fault = c.fault_ep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let bad2 = BAD | 5;
    let t = c.thread_with_fault_ep(cap_fault_main, 100, [rep, BAD, ep, bad2], fault)?;
    t.start()?;
    let m = c.recv(rep)?;
    let ip = t.regs()?.regs[idx::PC];
    let want = [ip, BAD, 0, 4, 64, 0, 51];
    check_fault(&m, abi::fault::CAP_FAULT, &want, "Call of a bad CPtr")?;
    reply(0, &[]);
    let m = c.recv(rep)?;
    check_fault(&m, abi::fault::CAP_FAULT, &want, "the restarted Call")?;
    reply(7, &[]);
    let m = c.recv(rep)?;
    check_fault(
        &m,
        abi::fault::CAP_FAULT,
        &want,
        "the Call restarted by a reply with label 7",
    )?;
    set_pc(&t, ip + 4)?;
    reply(0, &[]);
    let m = c.recv(rep)?;
    let r = t.regs()?;
    check_eq!(
        r.regs[idx::A0 + 7],
        abi::Syscall::Send as i64 as Word,
        "the second fault is the Send's (NBSend does not fault)"
    );
    let ip2 = r.regs[idx::PC];
    check_fault(
        &m,
        abi::fault::CAP_FAULT,
        &[ip2, BAD, 0, 4, 64, 0, 51],
        "Send to a bad CPtr",
    )?;
    set_pc(&t, ip2 + 4)?;
    reply(0, &[]);
    let m = c.recv(rep)?;
    let ip3 = t.regs()?.regs[idx::PC];
    check_fault(
        &m,
        abi::fault::CAP_FAULT,
        &[ip3, bad2, 0, 4, 64, 0, 51],
        "Send with a bad extra cap",
    )?;
    set_pc(&t, ip3 + 4)?;
    reply(0, &[]);
    let m = c.recv(rep)?;
    check_eq!(m.label(), 0xf1, "report after the faults");
    Ok(())
}

extern "C" fn recv_faults_main(rep: Word, write_only: Word, bound: Word, bad: Word) -> ! {
    crate::thread::recv(write_only);
    crate::thread::wait(bound);
    crate::thread::nb_recv(bad);
    crate::thread::recv(shared(8));
    crate::thread::recv(shared(9));
    report_and_park(rep, 0xf4, &[])
}

/// Receiving through a cap that cannot receive is a cap fault in the receive phase (1):
/// an endpoint cap without Read, a notification bound to another thread, an empty slot or a
/// cap of another type give MissingCapability with 0 bits left; a CPtr that does not resolve
/// gives its lookup failure (even for NBRecv).
pub fn fault_cap_fault_receive(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let fault = c.fault_ep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let wo = c.mint(ep, CapRights::new(true, true, false, true), 0)?;
    let n = c.new_object(T::Notification, 0)?;
    let other = c.thread(crate::t_tcb::park_main, 100, [0; 4])?;
    ok!(
        sys::seL4_TCB_BindNotification(other.tcb, n),
        "bind to another thread"
    );
    let empty = c.slot()?;
    crate::thread::set_shared(8, empty);
    crate::thread::set_shared(9, other.tcb);
    let t = c.thread_with_fault_ep(recv_faults_main, 100, [rep, wo, n, BAD], fault)?;
    t.start()?;
    let cases: [(&str, CPtr, &[Word]); 5] = [
        ("Recv on an endpoint cap without Read", wo, &[2, 0]),
        ("Wait on a notification bound to another thread", n, &[2, 0]),
        ("NBRecv on a bad CPtr", BAD, &GUARD_MISMATCH),
        ("Recv on an empty slot", empty, &[2, 0]),
        ("Recv on a TCB cap", other.tcb, &[2, 0]),
    ];
    for (what, cptr, luf) in cases {
        let m = c.recv(rep)?;
        let ip = t.regs()?.regs[idx::PC];
        let mut want = [0; 7];
        want[..3].copy_from_slice(&[ip, cptr, 1]);
        want[3..3 + luf.len()].copy_from_slice(luf);
        check_fault(&m, abi::fault::CAP_FAULT, &want[..3 + luf.len()], what)?;
        set_pc(&t, ip + 4)?;
        reply(0, &[]);
    }
    let m = c.recv(rep)?;
    check_eq!(m.label(), 0xf4, "report after the faults");
    Ok(())
}

/// An unknown syscall 0x42 with a0..a6 = 0xa0..0xa6, the ecall's address stored in
/// SHARED[slot]; returns (a0, a1) after it.
#[inline(always)]
fn unknown_syscall(number: Word, slot: usize) -> (Word, Word) {
    let (o0, o1): (Word, Word);
    // SAFETY: an ecall the kernel turns into a fault; the handler's reply may change pc, sp,
    // ra and a0..a6 (declared clobbered or restored to the same values by the tests).
    unsafe {
        asm!(
            "lla {tmp}, 2f",
            "sd {tmp}, 0({slot})",
            "2: ecall",
            slot = in(reg) slot_addr(slot),
            tmp = out(reg) _,
            inout("a0") 0xa0usize => o0,
            inout("a1") 0xa1usize => o1,
            inout("a2") 0xa2usize => _,
            inout("a3") 0xa3usize => _,
            inout("a4") 0xa4usize => _,
            inout("a5") 0xa5usize => _,
            inout("a6") 0xa6usize => _,
            in("a7") number,
            out("ra") _,
        );
    }
    (o0 as Word, o1 as Word)
}

extern "C" fn unknown_syscall_main(rep: Word, _: Word, _: Word, _: Word) -> ! {
    let (a0, a1) = unknown_syscall(0x42, 4);
    crate::thread::send(rep, 0xf2, &[a0, a1]);
    let (b0, b1) = unknown_syscall(0x43, 5);
    report_and_park(rep, 0xf3, &[b0, b1])
}

/// An unknown syscall number is an UnknownSyscall fault: 11 words [FaultIP, SP, RA, A0..A6,
/// syscall number]. A reply with label 0 writes its words back into those registers (the
/// thread resumes at the new pc, with the new a0); a reply with another label leaves the thread
/// stopped, and Resume then re-executes the syscall.
pub fn fault_unknown_syscall(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let fault = c.fault_ep()?;
    let t = c.thread_with_fault_ep(unknown_syscall_main, 100, [rep, 0, 0, 0], fault)?;
    t.start()?;
    let m = c.recv(rep)?;
    let r = t.regs()?;
    let ip = shared(4);
    check_eq!(r.regs[idx::PC], ip, "pc of the faulting thread: the ecall");
    let (sp, ra) = (r.regs[idx::SP], r.regs[idx::RA]);
    let want = [ip, sp, ra, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0x42];
    check_fault(
        &m,
        abi::fault::UNKNOWN_SYSCALL,
        &want,
        "unknown syscall 0x42",
    )?;
    reply(0, &[ip + 4, sp, ra, 0x777]);
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0], m.mr[1]),
        (0xf2, 0x777, 0xa1),
        "thread after the reply [a0 from the reply, a1 unchanged]"
    );
    let m = c.recv(rep)?;
    let ip2 = shared(5);
    check_eq!(
        (m.label(), m.len(), m.mr[0], m.mr[10]),
        (abi::fault::UNKNOWN_SYSCALL, 11, ip2, 0x43),
        "unknown syscall 0x43 (label, length, IP, number)"
    );
    reply(1, &[]);
    c.expect_idle(rep, "thread after a reply with label 1")?;
    check_eq!(t.regs()?.regs[idx::PC], ip2, "pc of the stopped thread");
    ok!(sys::seL4_TCB_Resume(t.tcb), "Resume");
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0], m.mr[10]),
        (abi::fault::UNKNOWN_SYSCALL, ip2, 0x43),
        "the resumed thread re-executes the syscall"
    );
    reply(0, &[ip2 + 4]);
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0], m.mr[1]),
        (0xf3, 0xa0, 0xa1),
        "thread after a reply of only the pc"
    );
    Ok(())
}

/// An illegal instruction (`unimp`, 4 bytes) whose address goes to SHARED[slot].
#[inline(always)]
fn illegal_instruction(slot: usize) {
    // SAFETY: the instruction traps; the handler moves the pc past it.
    unsafe {
        asm!(
            "lla {tmp}, 2f",
            "sd {tmp}, 0({slot})",
            ".option push",
            ".option norvc",
            "2: unimp",
            ".option pop",
            slot = in(reg) slot_addr(slot),
            tmp = out(reg) _,
        );
    }
}

extern "C" fn user_exception_main(rep: Word, _: Word, _: Word, _: Word) -> ! {
    illegal_instruction(4);
    crate::thread::send(rep, 0xf5, &[]);
    illegal_instruction(5);
    report_and_park(rep, 0xf6, &[])
}

/// An illegal instruction is a UserException fault: [FaultIP, SP, number = scause 2, code 0].
/// Label 0 with a new pc resumes the thread there; another label leaves it stopped (with the
/// reply's words copied into its registers all the same: `handleFaultReply`).
pub fn fault_user_exception(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let fault = c.fault_ep()?;
    let t = c.thread_with_fault_ep(user_exception_main, 100, [rep, 0, 0, 0], fault)?;
    t.start()?;
    let m = c.recv(rep)?;
    let ip = shared(4);
    let sp = t.regs()?.regs[idx::SP];
    check_fault(
        &m,
        abi::fault::USER_EXCEPTION,
        &[ip, sp, 2, 0],
        "illegal instruction",
    )?;
    reply(0, &[ip + 4, sp]);
    let m = c.recv(rep)?;
    check_eq!(m.label(), 0xf5, "thread past the first illegal instruction");
    let m = c.recv(rep)?;
    let ip2 = shared(5);
    check_fault(
        &m,
        abi::fault::USER_EXCEPTION,
        &[ip2, sp, 2, 0],
        "second illegal instruction",
    )?;
    reply(2, &[]);
    c.expect_idle(rep, "thread after a reply with label 2")?;
    ok!(sys::seL4_TCB_Resume(t.tcb), "Resume");
    let m = c.recv(rep)?;
    check_fault(
        &m,
        abi::fault::USER_EXCEPTION,
        &[ip2, sp, 2, 0],
        "the resumed thread faults again at the same pc",
    )?;
    // The words of a reply are copied into the registers whatever its label: the thread
    // stays stopped, but with the new pc.
    reply(2, &[ip2 + 4]);
    c.expect_idle(rep, "thread after a reply with label 2 and a new pc")?;
    check_eq!(t.regs()?.regs[idx::PC], ip2 + 4, "pc of the stopped thread");
    ok!(sys::seL4_TCB_Resume(t.tcb), "Resume");
    let m = c.recv(rep)?;
    check_eq!(
        m.label(),
        0xf6,
        "resumed thread past the second illegal instruction"
    );
    Ok(())
}

extern "C" fn vm_fault_main(rep: Word, addr: Word, _: Word, _: Word) -> ! {
    let mut v: Word = 0x5a5a;
    // SAFETY: loads from and stores to an unmapped address, then calls it: three VM faults
    // the handler resolves by moving the pc past the instruction (or back to the caller).
    unsafe {
        asm!(
            "lla {tmp}, 2f",
            "sd {tmp}, 0({slot})",
            ".option push",
            ".option norvc",
            "2: ld {v}, 0({a})",
            ".option pop",
            slot = in(reg) slot_addr(4),
            tmp = out(reg) _,
            a = in(reg) addr,
            v = inout(reg) v,
        );
        asm!(
            "lla {tmp}, 2f",
            "sd {tmp}, 0({slot})",
            ".option push",
            ".option norvc",
            "2: sd {v}, 8({a})",
            ".option pop",
            slot = in(reg) slot_addr(5),
            tmp = out(reg) _,
            a = in(reg) addr,
            v = in(reg) v,
        );
        let f: extern "C" fn() = core::mem::transmute(addr + 0x1000);
        f();
    }
    report_and_park(rep, 0xf7, &[v])
}

/// Loads, stores and instruction fetches at unmapped addresses are VM faults: [IP, address,
/// prefetch (1 for a fetch), FSR = the RISC-V access-fault cause (5 load, 7 store, 1 fetch)].
/// Every reply restarts the thread, whatever its label (`Arch_handleFaultReply`).
pub fn fault_vm_fault(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let fault = c.fault_ep()?;
    let addr: Word = 0x1000;
    let t = c.thread_with_fault_ep(vm_fault_main, 100, [rep, addr, 0, 0], fault)?;
    t.start()?;
    let m = c.recv(rep)?;
    let ip = shared(4);
    let load = [ip, addr, 0, 5];
    check_fault(
        &m,
        abi::fault::VM_FAULT,
        &load,
        "load from an unmapped page",
    )?;
    reply(0, &[]);
    let m = c.recv(rep)?;
    check_fault(
        &m,
        abi::fault::VM_FAULT,
        &load,
        "the load restarted by the reply",
    )?;
    reply(3, &[]);
    let m = c.recv(rep)?;
    check_fault(
        &m,
        abi::fault::VM_FAULT,
        &load,
        "the load restarted by a reply with label 3",
    )?;
    set_pc(&t, ip + 4)?;
    reply(0, &[]);
    let m = c.recv(rep)?;
    let ip2 = shared(5);
    check_fault(
        &m,
        abi::fault::VM_FAULT,
        &[ip2, addr + 8, 0, 7],
        "store to an unmapped page",
    )?;
    set_pc(&t, ip2 + 4)?;
    reply(0, &[]);
    let m = c.recv(rep)?;
    let f = addr + 0x1000;
    check_fault(
        &m,
        abi::fault::VM_FAULT,
        &[f, f, 1, 1],
        "call of an unmapped address",
    )?;
    let ra = t.regs()?.regs[idx::RA];
    set_pc(&t, ra)?;
    reply(0, &[]);
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0]),
        (0xf7, 0x5a5a),
        "thread after the three faults (the load did not happen)"
    );
    Ok(())
}

extern "C" fn illegal_main(rep: Word, _: Word, _: Word, _: Word) -> ! {
    illegal_instruction(4);
    report_and_park(rep, 0xf8, &[])
}

/// The fault endpoint must be an endpoint cap with Write and Grant or GrantReply; otherwise
/// (none at all, a notification, no Grant/GrantReply) the fault is a double fault and the
/// thread just stops at the faulting instruction.
pub fn fault_without_handler(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let n = c.new_object(T::Notification, 0)?;
    let write_only = c.mint(rep, CapRights::WRITE, FAULT_BADGE)?;
    let grant_reply = c.mint(rep, CapRights::new(true, false, false, true), FAULT_BADGE)?;
    for (what, ep) in [
        ("no fault endpoint", 0),
        ("a notification as fault endpoint", n),
        (
            "a fault endpoint cap without Grant or GrantReply",
            write_only,
        ),
    ] {
        // MCS: the fault endpoint is a cap checked when it is set (`validFaultHandler` in
        // `decodeSetSchedParams`): a notification or an endpoint cap without Grant/GrantReply
        // is refused with InvalidCapability and the thread is never made.
        if cfg!(feature = "mcs") && ep != 0 {
            let r = c.thread_with_fault_ep(illegal_main, 100, [rep, 0, 0, 0], ep);
            crate::check!(r.is_err(), "{} accepted as fault endpoint", what);
            continue;
        }
        crate::thread::set_shared(4, 0);
        let t = c.thread_with_fault_ep(illegal_main, 100, [rep, 0, 0, 0], ep)?;
        t.start()?;
        c.expect_idle(rep, what)?;
        check_eq!(
            (t.regs()?.regs[idx::PC], shared(4) != 0),
            (shared(4), true),
            "pc of the stopped thread ({})",
            what
        );
    }
    let t = c.thread_with_fault_ep(illegal_main, 100, [rep, 0, 0, 0], grant_reply)?;
    t.start()?;
    let m = c.recv(rep)?;
    let sp = t.regs()?.regs[idx::SP];
    check_fault(
        &m,
        abi::fault::USER_EXCEPTION,
        &[shared(4), sp, 2, 0],
        "fault through a cap with GrantReply only",
    )?;
    Ok(())
}

extern "C" fn fpu_main(rep: Word, x: Word, _: Word, _: Word) -> ! {
    let r: Word;
    // SAFETY: floating-point arithmetic on a scratch register; the first instruction traps
    // while the thread's FPU is disabled.
    unsafe {
        asm!(
            "lla {tmp}, 2f",
            "sd {tmp}, 0({slot})",
            "2: fcvt.d.l ft0, {x}",
            "fadd.d ft0, ft0, ft0",
            "fcvt.l.d {r}, ft0, rtz",
            slot = in(reg) slot_addr(4),
            tmp = out(reg) _,
            x = in(reg) x,
            r = out(reg) r,
            out("ft0") _,
        );
    }
    report_and_park(rep, 0xf9, &[r])
}

/// A thread with `seL4_TCBFlag_fpuDisabled` gets a UserException (illegal instruction) at its
/// first floating-point instruction; after the flag is cleared the restarted instruction works.
pub fn fault_fpu_disabled(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let fault = c.fault_ep()?;
    let t = c.thread_with_fault_ep(fpu_main, 100, [rep, 21, 0, 0], fault)?;
    check_eq!(
        ok!(
            sys::seL4_TCB_SetFlags(t.tcb, 0, libsel4::tcb_flag::FPU_DISABLED),
            "SetFlags"
        ),
        1,
        "flags"
    );
    t.start()?;
    let m = c.recv(rep)?;
    let sp = t.regs()?.regs[idx::SP];
    check_fault(
        &m,
        abi::fault::USER_EXCEPTION,
        &[shared(4), sp, 2, 0],
        "floating point with the FPU disabled",
    )?;
    check_eq!(
        ok!(
            sys::seL4_TCB_SetFlags(t.tcb, libsel4::tcb_flag::FPU_DISABLED, 0),
            "SetFlags"
        ),
        0,
        "flags"
    );
    reply(0, &[]);
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0]),
        (0xf9, 42),
        "result with the FPU enabled"
    );
    Ok(())
}

/// Suspending a thread that waits for its fault reply drops the reply cap and the fault
/// (`cancelIPC`): the handler's Reply then does nothing, and Resume re-executes the faulting
/// instruction, which faults again.
pub fn fault_suspend_waiting_thread(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let fault = c.fault_ep()?;
    let t = c.thread_with_fault_ep(illegal_main, 100, [rep, 0, 0, 0], fault)?;
    t.start()?;
    let m = c.recv(rep)?;
    let ip = shared(4);
    let sp = t.regs()?.regs[idx::SP];
    check_fault(
        &m,
        abi::fault::USER_EXCEPTION,
        &[ip, sp, 2, 0],
        "illegal instruction",
    )?;
    ok!(sys::seL4_TCB_Suspend(t.tcb), "suspend the faulted thread");
    reply(0, &[ip + 4]);
    c.expect_idle(rep, "suspended thread after the handler's reply")?;
    check_eq!(t.regs()?.regs[idx::PC], ip, "pc of the suspended thread");
    ok!(sys::seL4_TCB_Resume(t.tcb), "Resume");
    let m = c.recv(rep)?;
    check_fault(
        &m,
        abi::fault::USER_EXCEPTION,
        &[ip, sp, 2, 0],
        "the resumed thread faults again",
    )?;
    reply(0, &[ip + 4]);
    let m = c.recv(rep)?;
    check_eq!(m.label(), 0xf8, "thread past the illegal instruction");
    Ok(())
}

#[cfg(not(feature = "mcs"))]
/// A thread's fault endpoint is a CPtr looked up in its CSpace when it faults (non-MCS
/// `sendFaultIPC`): replacing the cap in that slot after Configure changes where (and with
/// which badge) the fault goes; an emptied slot is a double fault.
pub fn fault_ep_looked_up_at_fault_time(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let fe = c.mint(rep, CapRights::ALL, 0xa1)?;
    let t = c.thread_with_fault_ep(illegal_main, 100, [rep, 0, 0, 0], fe)?;
    ok!(c.abs(fe).delete(), "delete the fault endpoint cap");
    ok!(
        c.abs(fe).mint_from(&c.abs(rep), CapRights::ALL, 0xa2),
        "another badge in the same slot"
    );
    t.start()?;
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.badge, m.mr[0]),
        (abi::fault::USER_EXCEPTION, 0xa2, shared(4)),
        "fault through the cap now in the slot"
    );
    let fe2 = c.mint(rep, CapRights::ALL, 0xa3)?;
    let u = c.thread_with_fault_ep(illegal_main, 100, [rep, 0, 0, 0], fe2)?;
    ok!(c.abs(fe2).delete(), "empty the second fault endpoint slot");
    u.start()?;
    c.expect_idle(rep, "thread whose fault endpoint slot is empty")?;
    Ok(())
}

#[cfg(not(feature = "mcs"))]
extern "C" fn unknown_numbers_main(rep: Word, _: Word, _: Word, _: Word) -> ! {
    for n in [0, -100i64 as Word, 0x1000] {
        unknown_syscall(n, 4);
    }
    report_and_park(rep, 0xfb, &[])
}

#[cfg(not(feature = "mcs"))]
/// Numbers outside seL4's syscalls (0, -100, 0x1000) are UnknownSyscall faults carrying the
/// number as a word.
pub fn fault_unknown_syscall_numbers(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let fault = c.fault_ep()?;
    let t = c.thread_with_fault_ep(unknown_numbers_main, 100, [rep, 0, 0, 0], fault)?;
    t.start()?;
    for n in [0, -100i64 as Word, 0x1000] {
        let m = c.recv(rep)?;
        check_eq!(
            (m.label(), m.badge, m.len(), m.mr[0], m.mr[10]),
            (abi::fault::UNKNOWN_SYSCALL, FAULT_BADGE, 11, shared(4), n),
            "unknown syscall {:#x}",
            n
        );
        reply(0, &[shared(4) + 4]);
    }
    let m = c.recv(rep)?;
    check_eq!(m.label(), 0xfb, "report after the unknown syscalls");
    Ok(())
}

extern "C" fn handler_without_buffer_main(rep: Word, fault_ep: Word, _: Word, _: Word) -> ! {
    let (info, _) = crate::thread::recv(fault_ep);
    let (ip, sp, ra) = (sys::seL4_GetMR(0), sys::seL4_GetMR(1), sys::seL4_GetMR(2));
    crate::thread::send(
        rep,
        0xfc,
        &[info.length(), info.label(), ip, sys::seL4_GetMR(3)],
    );
    for (i, w) in [ip + 4, sp, ra, 0x777, 1, 2, 3, 4, 5, 6]
        .into_iter()
        .enumerate()
    {
        sys::seL4_SetMR(i, w);
    }
    // Ten words, but only the four in registers exist for the kernel.
    crate::thread::reply(MessageInfo::new(0, 0, 0, 10));
    crate::thread::park()
}

/// A fault handler without IPC buffer gets only the 4 register words of a fault message
/// (`setMR` past MR3 gives `n_msgRegisters`); its reply of 10 words sets only the registers the
/// first 4 name and leaves the rest of the faulted thread's registers alone
/// (`copyMRsFaultReply` stops without a send buffer).
pub fn fault_handler_without_ipc_buffer(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let fep = c.new_object(T::Endpoint, 0)?;
    let fault = c.mint(fep, CapRights::ALL, 0x7f)?;
    let h = c.thread(handler_without_buffer_main, 150, [rep, fep, 0, 0])?;
    let empty = c.slot()?;
    ok!(
        sys::seL4_TCB_SetIPCBuffer(h.tcb, 0, empty),
        "take the handler's IPC buffer away"
    );
    h.start()?;
    c.expect_idle(rep, "handler blocked")?;
    let t = c.thread_with_fault_ep(unknown_syscall_main, 100, [rep, 0, 0, 0], fault)?;
    t.start()?;
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), &m.mr[..4]),
        (0xfc, &[4, abi::fault::UNKNOWN_SYSCALL, shared(4), 0xa0][..]),
        "handler: [length, label, IP, A0] of the fault message"
    );
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0], m.mr[1]),
        (0xf2, 0x777, 0xa1),
        "faulted thread after the reply: a0 from the reply, a1 untouched"
    );
    Ok(())
}

extern "C" fn breakpoint_main(rep: Word, _: Word, _: Word, _: Word) -> ! {
    // SAFETY: the instruction traps; the handler moves the pc past it.
    unsafe {
        asm!(
            "lla {tmp}, 2f",
            "sd {tmp}, 0({slot})",
            ".option push",
            ".option norvc",
            "2: ebreak",
            ".option pop",
            slot = in(reg) slot_addr(4),
            tmp = out(reg) _,
        );
    }
    report_and_park(rep, 0xfd, &[])
}

/// Other exceptions are UserException faults numbered by their `scause`
/// (`handleUserLevelFault(scause, 0)`): a breakpoint (`ebreak`) is number 3.
pub fn fault_breakpoint(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let fault = c.fault_ep()?;
    let t = c.thread_with_fault_ep(breakpoint_main, 100, [rep, 0, 0, 0], fault)?;
    t.start()?;
    let m = c.recv(rep)?;
    let sp = t.regs()?.regs[idx::SP];
    check_fault(
        &m,
        abi::fault::USER_EXCEPTION,
        &[shared(4), sp, 3, 0],
        "ebreak",
    )?;
    reply(0, &[shared(4) + 4]);
    let m = c.recv(rep)?;
    check_eq!(m.label(), 0xfd, "report after the breakpoint");
    Ok(())
}
