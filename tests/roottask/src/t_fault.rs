//! Faults (`handleFault`/`sendFaultIPC` in `src/kernel/faulthandler.c`, the messages of
//! `setMRs_fault` and the replies of `handleFaultReply` in `src/api/faults.c` and
//! `src/arch/{riscv,arm}/api/faults.c`): a thread's fault goes as a message to the endpoint named by
//! its fault endpoint CPtr, the thread waits for the reply. Cap faults (label 1) and VM faults
//! (label 5) restart the thread whatever the reply's label; unknown syscalls (label 2) and user
//! exceptions (label 3) restart it only for label 0, after copying the reply's words into its
//! registers, and leave it stopped otherwise. Without a usable handler the thread just stops.
//!
//! The same tests on riscv64 and aarch64: the instructions that fault, the exception numbers
//! and the message layouts are `crate::arch`'s.

use abi::user_context::{idx, UserContext};
use abi::{CPtr, CapRights, MessageInfo, ObjectType as T, Word};
use libsel4::sys;

use crate::arch::{self, layout, Access, Why, Words, INSN};
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

/// Reply with the words `w`.
fn reply_words(label: Word, w: Words) {
    reply(label, w.as_slice())
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

/// The message `m` as [`Words`].
fn words_of(m: &Msg) -> Words {
    Words::from(&m.mr, (m.len() as usize).min(13))
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
    set_pc(&t, ip + INSN)?;
    reply(0, &[]);
    let m = c.recv(rep)?;
    let r = t.regs()?;
    check_eq!(
        r.regs[arch::SYSCALL_NUMBER],
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
    set_pc(&t, ip2 + INSN)?;
    reply(0, &[]);
    let m = c.recv(rep)?;
    let ip3 = t.regs()?.regs[idx::PC];
    check_fault(
        &m,
        abi::fault::CAP_FAULT,
        &[ip3, bad2, 0, 4, 64, 0, 51],
        "Send with a bad extra cap",
    )?;
    set_pc(&t, ip3 + INSN)?;
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
        set_pc(&t, ip + INSN)?;
        reply(0, &[]);
    }
    let m = c.recv(rep)?;
    check_eq!(m.label(), 0xf4, "report after the faults");
    Ok(())
}

/// An unknown syscall `number` with its argument registers 0xa0..0xa6, its address stored in
/// SHARED[slot]; returns the first two argument registers after it.
#[inline(always)]
fn unknown_syscall(number: Word, slot: usize) -> (Word, Word) {
    arch::unknown_syscall(number, slot_addr(slot))
}

/// The argument registers [`unknown_syscall`] loads.
const ARGS: [Word; 7] = [0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6];

extern "C" fn unknown_syscall_main(rep: Word, _: Word, _: Word, _: Word) -> ! {
    let (a0, a1) = unknown_syscall(0x42, 4);
    crate::thread::send(rep, 0xf2, &[a0, a1]);
    let (b0, b1) = unknown_syscall(0x43, 5);
    report_and_park(rep, 0xf3, &[b0, b1])
}

/// An unknown syscall number is an UnknownSyscall fault: the syscall's registers and number
/// (riscv64 11 words [FaultIP, SP, RA, A0..A6, Syscall], aarch64 13 [X0..X7, FaultIP, SP, LR,
/// SPSR, Syscall]). A reply with label 0 writes its words back into those registers (the
/// thread resumes at the new pc, with the new first argument register); a reply with another
/// label leaves the thread stopped, and Resume then re-executes the syscall.
pub fn fault_unknown_syscall(c: &mut Ctx) -> TestResult {
    use layout::unknown_syscall as L;
    let rep = c.rep()?;
    let fault = c.fault_ep()?;
    let t = c.thread_with_fault_ep(unknown_syscall_main, 100, [rep, 0, 0, 0], fault)?;
    t.start()?;
    let m = c.recv(rep)?;
    let r = t.regs()?;
    let ip = shared(4);
    check_eq!(
        r.regs[idx::PC],
        ip,
        "pc of the faulting thread: the syscall instruction"
    );
    let want = arch::unknown_syscall_msg(ip, &r, ARGS, 0x42);
    check_fault(
        &m,
        abi::fault::UNKNOWN_SYSCALL,
        want.as_slice(),
        "unknown syscall 0x42",
    )?;
    // All registers the message names back as they were (the number excepted), but a new pc
    // and a new first argument.
    let mut back = want.prefix(L::LENGTH - 1);
    back.w[L::FAULT_IP] = ip + INSN;
    back.w[arch::UNKNOWN_SYSCALL_ARG0] = 0x777;
    reply_words(0, back);
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0], m.mr[1]),
        (0xf2, 0x777, 0xa1),
        "thread after the reply [first argument from the reply, second unchanged]"
    );
    let m = c.recv(rep)?;
    let ip2 = shared(5);
    check_eq!(
        (m.label(), m.len(), m.mr[L::FAULT_IP], m.mr[L::SYSCALL]),
        (abi::fault::UNKNOWN_SYSCALL, L::LENGTH as Word, ip2, 0x43),
        "unknown syscall 0x43 (label, length, IP, number)"
    );
    let again = words_of(&m);
    reply(1, &[]);
    c.expect_idle(rep, "thread after a reply with label 1")?;
    check_eq!(t.regs()?.regs[idx::PC], ip2, "pc of the stopped thread");
    ok!(sys::seL4_TCB_Resume(t.tcb), "Resume");
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[L::FAULT_IP], m.mr[L::SYSCALL]),
        (abi::fault::UNKNOWN_SYSCALL, ip2, 0x43),
        "the resumed thread re-executes the syscall"
    );
    // Only the words up to the pc (riscv64: the pc alone; aarch64: X0..X7 as they were, then
    // the pc).
    let mut pc_only = again.prefix(L::FAULT_IP + 1);
    pc_only.w[L::FAULT_IP] = ip2 + INSN;
    reply_words(0, pc_only);
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0], m.mr[1]),
        (0xf3, 0xa0, 0xa1),
        "thread after a reply of the words up to the pc"
    );
    Ok(())
}

/// An illegal instruction whose address goes to SHARED[slot].
#[inline(always)]
fn illegal_instruction(slot: usize) {
    arch::illegal_instruction(slot_addr(slot))
}

extern "C" fn user_exception_main(rep: Word, _: Word, _: Word, _: Word) -> ! {
    illegal_instruction(4);
    crate::thread::send(rep, 0xf5, &[]);
    illegal_instruction(5);
    report_and_park(rep, 0xf6, &[])
}

/// An illegal instruction is a UserException fault: [FaultIP, SP, (aarch64: SPSR,) number,
/// code 0], the number `scause` 2 on riscv64, `ESR_EL1` (EC 0, IL) on aarch64.
/// Label 0 with a new pc resumes the thread there; another label leaves it stopped (with the
/// reply's words copied into its registers all the same: `handleFaultReply`).
pub fn fault_user_exception(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let fault = c.fault_ep()?;
    let t = c.thread_with_fault_ep(user_exception_main, 100, [rep, 0, 0, 0], fault)?;
    t.start()?;
    let m = c.recv(rep)?;
    let ip = shared(4);
    let r = t.regs()?;
    let sp = r.regs[idx::SP];
    let ill = |ip, r: &UserContext| arch::user_exception_msg(ip, r, arch::ILLEGAL_INSTRUCTION);
    check_fault(
        &m,
        abi::fault::USER_EXCEPTION,
        ill(ip, &r).as_slice(),
        "illegal instruction",
    )?;
    reply(0, &[ip + INSN, sp]);
    let m = c.recv(rep)?;
    check_eq!(m.label(), 0xf5, "thread past the first illegal instruction");
    let m = c.recv(rep)?;
    let ip2 = shared(5);
    let r = t.regs()?;
    check_fault(
        &m,
        abi::fault::USER_EXCEPTION,
        ill(ip2, &r).as_slice(),
        "second illegal instruction",
    )?;
    reply(2, &[]);
    c.expect_idle(rep, "thread after a reply with label 2")?;
    ok!(sys::seL4_TCB_Resume(t.tcb), "Resume");
    let m = c.recv(rep)?;
    check_fault(
        &m,
        abi::fault::USER_EXCEPTION,
        ill(ip2, &r).as_slice(),
        "the resumed thread faults again at the same pc",
    )?;
    // The words of a reply are copied into the registers whatever its label: the thread
    // stays stopped, but with the new pc.
    reply(2, &[ip2 + INSN]);
    c.expect_idle(rep, "thread after a reply with label 2 and a new pc")?;
    check_eq!(
        t.regs()?.regs[idx::PC],
        ip2 + INSN,
        "pc of the stopped thread"
    );
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
    // Loads from and stores to an unmapped address, then calls it: three VM faults the
    // handler resolves by moving the pc past the instruction (or back to the caller).
    arch::load(addr, &mut v, slot_addr(4));
    arch::store(addr + 8, v, slot_addr(5));
    // SAFETY: a call of an unmapped address: the fetch faults and the handler returns to the
    // caller.
    unsafe {
        let f: extern "C" fn() = core::mem::transmute(addr + 0x1000);
        f();
    }
    report_and_park(rep, 0xf7, &[v])
}

/// Loads, stores and instruction fetches at unmapped addresses are VM faults: [IP, address,
/// prefetch (1 for a fetch), FSR]; the FSR is the RISC-V access-fault cause (5 load, 7 store,
/// 1 fetch) on riscv64, the whole `ESR_EL1` on aarch64 (a data or instruction abort, a
/// translation fault at the level of the 2 MiB entry: nothing is mapped in the root task's
/// first 2 MiB). Every reply restarts the thread, whatever its label
/// (`Arch_handleFaultReply`).
pub fn fault_vm_fault(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let fault = c.fault_ep()?;
    let addr: Word = 0x1000;
    let t = c.thread_with_fault_ep(vm_fault_main, 100, [rep, addr, 0, 0], fault)?;
    t.start()?;
    let m = c.recv(rep)?;
    let ip = shared(4);
    let unmapped = Why::Missing(21);
    let load = [ip, addr, 0, arch::vm_fsr(Access::Load, unmapped)];
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
    set_pc(&t, ip + INSN)?;
    reply(0, &[]);
    let m = c.recv(rep)?;
    let ip2 = shared(5);
    check_fault(
        &m,
        abi::fault::VM_FAULT,
        &[ip2, addr + 8, 0, arch::vm_fsr(Access::Store, unmapped)],
        "store to an unmapped page",
    )?;
    set_pc(&t, ip2 + INSN)?;
    reply(0, &[]);
    let m = c.recv(rep)?;
    let f = addr + 0x1000;
    check_fault(
        &m,
        abi::fault::VM_FAULT,
        &[f, f, 1, arch::vm_fsr(Access::Fetch, unmapped)],
        "call of an unmapped address",
    )?;
    let ra = t.regs()?.regs[arch::RETURN_ADDRESS];
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
    let r = t.regs()?;
    check_fault(
        &m,
        abi::fault::USER_EXCEPTION,
        arch::user_exception_msg(shared(4), &r, arch::ILLEGAL_INSTRUCTION).as_slice(),
        "fault through a cap with GrantReply only",
    )?;
    Ok(())
}

extern "C" fn fpu_main(rep: Word, x: Word, _: Word, _: Word) -> ! {
    let r = arch::fp_double(x, slot_addr(4));
    report_and_park(rep, 0xf9, &[r])
}

/// A thread with `seL4_TCBFlag_fpuDisabled` gets a UserException at its first floating-point
/// instruction (riscv64: an illegal instruction; aarch64: `ESR_EL1` class 0x07, the trap of
/// `CPACR_EL1.FPEN`); after the flag is cleared the restarted instruction works.
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
    let r = t.regs()?;
    check_fault(
        &m,
        abi::fault::USER_EXCEPTION,
        arch::user_exception_msg(shared(4), &r, arch::FPU_DISABLED).as_slice(),
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
    let r = t.regs()?;
    let want = arch::user_exception_msg(ip, &r, arch::ILLEGAL_INSTRUCTION);
    check_fault(
        &m,
        abi::fault::USER_EXCEPTION,
        want.as_slice(),
        "illegal instruction",
    )?;
    ok!(sys::seL4_TCB_Suspend(t.tcb), "suspend the faulted thread");
    reply(0, &[ip + INSN]);
    c.expect_idle(rep, "suspended thread after the handler's reply")?;
    check_eq!(t.regs()?.regs[idx::PC], ip, "pc of the suspended thread");
    ok!(sys::seL4_TCB_Resume(t.tcb), "Resume");
    let m = c.recv(rep)?;
    check_fault(
        &m,
        abi::fault::USER_EXCEPTION,
        want.as_slice(),
        "the resumed thread faults again",
    )?;
    reply(0, &[ip + INSN]);
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
        let r = t.regs()?;
        check_fault(
            &m,
            abi::fault::UNKNOWN_SYSCALL,
            arch::unknown_syscall_msg(shared(4), &r, ARGS, n).as_slice(),
            "unknown syscall",
        )?;
        let mut pc = words_of(&m).prefix(layout::unknown_syscall::FAULT_IP + 1);
        pc.w[layout::unknown_syscall::FAULT_IP] = shared(4) + INSN;
        reply_words(0, pc);
    }
    let m = c.recv(rep)?;
    check_eq!(m.label(), 0xfb, "report after the unknown syscalls");
    Ok(())
}

extern "C" fn handler_without_buffer_main(rep: Word, fault_ep: Word, _: Word, _: Word) -> ! {
    use layout::unknown_syscall as L;
    let (info, _) = crate::thread::recv(fault_ep);
    let mut w = [0; 10];
    for (i, x) in w.iter_mut().enumerate().take(4) {
        *x = sys::seL4_GetMR(i);
    }
    // Four words: the handler has no IPC buffer either.
    crate::thread::send(rep, 0xfc, &[info.length(), info.label(), w[0], w[3]]);
    // The pc past the syscall and 0x777 as the first argument, where the four words name
    // them; then six more words.
    if L::FAULT_IP < 4 {
        w[L::FAULT_IP] += INSN;
    }
    if arch::UNKNOWN_SYSCALL_ARG0 < 4 {
        w[arch::UNKNOWN_SYSCALL_ARG0] = 0x777;
    }
    w[4..].copy_from_slice(&[1, 2, 3, 4, 5, 6]);
    for (i, x) in w.into_iter().enumerate() {
        sys::seL4_SetMR(i, x);
    }
    // Ten words, but only the four in registers exist for the kernel.
    crate::thread::reply(MessageInfo::new(0, 0, 0, 10));
    crate::thread::park()
}

/// A fault handler without IPC buffer gets only the 4 register words of a fault message
/// (`setMR` past MR3 gives `n_msgRegisters`); its reply of 10 words sets only the registers the
/// first 4 name and leaves the rest of the faulted thread's registers alone
/// (`copyMRsFaultReply` stops without a send buffer). On riscv64 those four are FaultIP, SP,
/// RA, A0: the thread goes on past the syscall with the new a0. On aarch64 they are X0..X3: the
/// thread re-executes the syscall with the new x0 and faults again, its other registers as
/// they were; a handler with an IPC buffer (the root task) then moves its pc on.
pub fn fault_handler_without_ipc_buffer(c: &mut Ctx) -> TestResult {
    use layout::unknown_syscall as L;
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
    let r = t.regs()?;
    let want = arch::unknown_syscall_msg(shared(4), &r, ARGS, 0x42);
    check_eq!(
        (m.label(), &m.mr[..4]),
        (
            0xfc,
            &[4, abi::fault::UNKNOWN_SYSCALL, want.w[0], want.w[3]][..]
        ),
        "handler: [length, label, MR0, MR3] of the fault message"
    );
    if L::FAULT_IP >= 4 {
        let m = c.recv(fep)?;
        let mut again = want;
        again.w[arch::UNKNOWN_SYSCALL_ARG0] = 0x777;
        check_eq!(
            (m.label(), m.badge, words_of(&m)),
            (abi::fault::UNKNOWN_SYSCALL, 0x7f, again),
            "the same syscall again, only the first argument changed"
        );
        let mut pc = again.prefix(L::FAULT_IP + 1);
        pc.w[L::FAULT_IP] += INSN;
        reply_words(0, pc);
    }
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0], m.mr[1]),
        (0xf2, 0x777, 0xa1),
        "faulted thread after the reply: first argument from the reply, second untouched"
    );
    Ok(())
}

extern "C" fn breakpoint_main(rep: Word, _: Word, _: Word, _: Word) -> ! {
    arch::breakpoint(slot_addr(4));
    report_and_park(rep, 0xfd, &[])
}

/// Other exceptions are UserException faults numbered by their `scause` on riscv64
/// (`handleUserLevelFault(scause, 0)`: `ebreak` is 3) and by their whole `ESR_EL1` on aarch64
/// (`brk #0`: EC 0x3c, IL).
pub fn fault_breakpoint(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let fault = c.fault_ep()?;
    let t = c.thread_with_fault_ep(breakpoint_main, 100, [rep, 0, 0, 0], fault)?;
    t.start()?;
    let m = c.recv(rep)?;
    let r = t.regs()?;
    check_fault(
        &m,
        abi::fault::USER_EXCEPTION,
        arch::user_exception_msg(shared(4), &r, arch::BREAKPOINT).as_slice(),
        "breakpoint",
    )?;
    reply(0, &[shared(4) + INSN]);
    let m = c.recv(rep)?;
    check_eq!(m.label(), 0xfd, "report after the breakpoint");
    Ok(())
}
