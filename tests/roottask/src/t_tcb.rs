//! TCB invocations (`decodeTCBInvocation`, `src/object/tcb.c`) on threads the tests make:
//! Configure, Read/Write/CopyRegisters, SetPriority/SetMCPriority/SetSchedParams, SetIPCBuffer,
//! SetSpace, Suspend/Resume, Bind/UnbindNotification, SetTLSBase, SetFlags, and DomainSet_Set
//! (`src/object/domain.c`). Errors are checked with their detail words and in seL4's order;
//! effects are checked by what the threads then do.

use abi::user_context::{idx, UserContext};
#[cfg(not(feature = "mcs"))]
use abi::CNodeCapData;
use abi::{slot, CPtr, CapRights, InvocationLabel as L, MessageInfo};
use abi::{ObjectType as T, Word};
#[cfg(not(feature = "mcs"))]
use libsel4::bootinfo::BootInfoExt;
use libsel4::cap_tag as tag;
use libsel4::invocation::encode;
use libsel4::sys;
use libsel4::ErrorDetail as D;

use crate::arch::{cmp, FRAME_WORDS as F, WORDS as W};
use crate::framework::{ident, Ctx, TestResult};
use crate::thread::{
    bump, local, log, log_snapshot, park, prepare_spare_local, report_and_park, send, shared,
    spare_page, MAX_THREADS, STACK_SIZE,
};
use crate::{check, check_eq, expect_err, ok};

const ROOT_TCB: CPtr = slot::INIT_THREAD_TCB;
const ROOT_CNODE: CPtr = slot::INIT_THREAD_CNODE;
#[cfg(not(feature = "mcs"))]
const VSPACE: CPtr = slot::INIT_THREAD_VSPACE;

/// A thread that does nothing (stops itself).
pub extern "C" fn park_main(_: Word, _: Word, _: Word, _: Word) -> ! {
    park()
}

/// Reports (label 0x11) its three arguments, its `tp` and the address of a local variable.
extern "C" fn report_args_main(rep: Word, a: Word, b: Word, c: Word) -> ! {
    bump(0);
    let on_stack = core::hint::black_box(0u64);
    let sp = &on_stack as *const u64 as Word;
    report_and_park(
        rep,
        0x11,
        &[a, b, c, libsel4::ipc::thread_pointer() as Word, sp],
    )
}

/// Receives on `ep` forever; reports each message (label `label`) as
/// [badge, label, length, MR0, MR1, tp].
pub extern "C" fn receiver_main(rep: Word, ep: Word, label: Word, _: Word) -> ! {
    loop {
        let (info, badge) = crate::thread::recv(ep);
        let (m0, m1) = (sys::seL4_GetMR(0), sys::seL4_GetMR(1));
        bump(0);
        send(
            rep,
            label,
            &[
                badge,
                info.label(),
                info.length(),
                m0,
                m1,
                libsel4::ipc::thread_pointer() as Word,
            ],
        );
    }
}

/// A pattern of register values: `base + i` for register i, pc and sp word-aligned.
fn pattern(base: Word) -> UserContext {
    let mut r = UserContext::default();
    for (i, v) in r.regs.iter_mut().enumerate() {
        *v = base + 8 * i as Word;
    }
    r
}

#[cfg(not(feature = "mcs"))]
/// seL4_Configure's arguments for a thread in the root task's spaces with IPC buffer at
/// `buffer` (frame `frame`).
fn configure(tcb: CPtr, buffer: Word, frame: CPtr) -> Result<(), abi::Error> {
    sys::seL4_TCB_Configure(tcb, 0, ROOT_CNODE, 0, VSPACE, 0, buffer, frame)
}

/// A thread runs in the root task's address space and CSpace: Configure + SetPriority +
/// WriteRegisters + Resume start it with the argument registers, `tp` and `sp` given; a thread
/// below the root task's priority runs only once the root task blocks.
pub fn tcb_thread_runs(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let t = c.thread(report_args_main, 100, [rep, 0x1111, 0x2222, 0x3333])?;
    check_eq!(ident(t.tcb), tag::THREAD, "TCB cap");
    ok!(sys::seL4_TCB_Resume(t.tcb), "Resume");
    check_eq!(
        shared(0),
        0,
        "a priority-100 thread ran before the priority-255 root task blocked"
    );
    let m = c.recv(rep)?;
    check_eq!(m.label(), 0x11, "report label");
    check_eq!(m.len(), 5, "report length");
    check_eq!(
        [m.mr[0], m.mr[1], m.mr[2]],
        [0x1111, 0x2222, 0x3333],
        "a1..a3 as written"
    );
    check_eq!(m.mr[3], local(t.idx), "tp as written");
    let top = t.stack_top();
    check!(
        m.mr[4] < top && m.mr[4] >= top - STACK_SIZE as Word,
        "a local variable at {:#x}, not on the stack {:#x}..{:#x}",
        m.mr[4],
        top - STACK_SIZE as Word,
        top
    );
    Ok(())
}

#[cfg(not(feature = "mcs"))]
/// `decodeTCBConfigure`: 4 words and 3 caps; the IPC buffer (if its address is non-zero) is
/// checked first (`checkValidIPCBuffer`: a frame, not a device frame, 2^10-aligned), then the
/// CSpace root (a CNode) and the VSpace root (a mapped page table).
pub fn tcb_configure_errors(c: &mut Ctx) -> TestResult {
    let tcb = c.new_object(T::Tcb, 0)?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let pt = c.new_object(T::PageTable, 0)?;
    let empty = c.slot()?;
    let page = spare_page(0);
    let frame = c.image_frame(page)?;
    let cfg = |fault: Word, cs: CPtr, vs: CPtr, buf: Word, bf: CPtr| {
        encode::tcb_configure(fault, cs, 0, vs, 0, buf, bf)
    };
    let good = cfg(0, ROOT_CNODE, VSPACE, page, frame);
    expect_err!(
        good.truncated(3).call(tcb),
        D::TruncatedMessage,
        "Configure with 3 words"
    );
    expect_err!(
        good.with_caps_truncated(2).call(tcb),
        D::TruncatedMessage,
        "Configure with 2 caps"
    );
    expect_err!(
        cfg(0, ROOT_CNODE, VSPACE, page, ep).call(tcb),
        D::IllegalOperation,
        "IPC buffer cap that is an endpoint"
    );
    expect_err!(
        cfg(0, ROOT_CNODE, VSPACE, page + 8, frame).call(tcb),
        D::AlignmentError,
        "IPC buffer not 1 KiB aligned"
    );
    expect_err!(
        cfg(0, ep, ep, page + 512, frame).call(tcb),
        D::AlignmentError,
        "misaligned IPC buffer is checked before the CSpace"
    );
    expect_err!(
        cfg(0, ep, VSPACE, page, frame).call(tcb),
        D::IllegalOperation,
        "CSpace root that is an endpoint"
    );
    expect_err!(
        cfg(0, empty, VSPACE, page, frame).call(tcb),
        D::IllegalOperation,
        "CSpace root from an empty slot"
    );
    expect_err!(
        cfg(0, ROOT_CNODE, ROOT_CNODE, page, frame).call(tcb),
        D::IllegalOperation,
        "VSpace root that is a CNode"
    );
    expect_err!(
        cfg(0, ROOT_CNODE, pt, page, frame).call(tcb),
        D::IllegalOperation,
        "VSpace root that is an unmapped page table"
    );
    if let Some((dut, _)) = c.bi.untypeds().find(|(_, d)| d.is_device != 0) {
        c.touch(dut);
        let df = c.slot()?;
        ok!(
            dut.retype(T::SmallPage, 0, &c.root.as_retype_dest(), df, 1),
            "device frame"
        );
        expect_err!(
            cfg(0, ROOT_CNODE, VSPACE, page, df).call(tcb),
            D::IllegalOperation,
            "device frame as IPC buffer"
        );
    }
    ok!(
        cfg(0, ROOT_CNODE, VSPACE, 0, empty).call(tcb),
        "Configure without IPC buffer (address 0, empty buffer slot)"
    );
    ok!(
        cfg(0x1234, ROOT_CNODE, VSPACE, page + 1024, frame).call(tcb),
        "Configure with a 1 KiB aligned buffer inside a frame"
    );
    ok!(configure(tcb, page, frame), "Configure again");
    Ok(())
}

/// ReadRegisters returns exactly `count` registers in `seL4_UserContext` order (RangeError
/// [1, words] otherwise: 32 on riscv64, 36 on aarch64); WriteRegisters writes exactly the first
/// `count` (more than all is clamped, fewer words than `count` is TruncatedMessage); neither
/// works on the caller itself.
pub fn tcb_read_write_registers(c: &mut Ctx) -> TestResult {
    let t = c.thread(park_main, 100, [0; 4])?;
    let p = pattern(0x10_0000);
    ok!(
        sys::seL4_TCB_WriteRegisters(t.tcb, false, 0, W as Word, &p),
        "WriteRegisters of all"
    );
    let r = ok!(
        sys::seL4_TCB_ReadRegisters(t.tcb, false, 0, W as Word),
        "ReadRegisters of all"
    );
    check_eq!(cmp(&r).regs, cmp(&p).regs, "registers read back");
    for n in [1, 4, 5, 16, 17, 31, W as Word] {
        let info = ok!(
            encode::tcb_read_registers(false, 0, n).call(t.tcb),
            "ReadRegisters({})",
            n
        );
        check_eq!(info.length(), n, "ReadRegisters({}) reply length", n);
        for i in 0..n as usize {
            let mut got = UserContext::default();
            got.regs[i] = sys::seL4_GetMR(i);
            check_eq!(
                cmp(&got).regs[i],
                cmp(&p).regs[i],
                "ReadRegisters({}) register {}",
                n,
                i
            );
        }
    }
    let q = pattern(0x20_0000);
    ok!(
        sys::seL4_TCB_WriteRegisters(t.tcb, false, 0, 3, &q),
        "WriteRegisters of 3"
    );
    let r = t.regs()?;
    check_eq!(
        &cmp(&r).regs[..3],
        &cmp(&q).regs[..3],
        "the first 3 words written (riscv64: pc, ra, sp; aarch64: pc, sp, spsr)"
    );
    check_eq!(
        &cmp(&r).regs[3..],
        &cmp(&p).regs[3..],
        "registers past count 3 unchanged"
    );
    ok!(
        sys::seL4_TCB_WriteRegisters(t.tcb, false, 0, 0, &q),
        "WriteRegisters of 0"
    );
    let r2 = t.regs()?;
    check_eq!(r2.regs, r.regs, "WriteRegisters of 0 changes nothing");
    expect_err!(
        encode::tcb_write_registers(false, 0, 20, &q)
            .truncated(12)
            .call(t.tcb),
        D::TruncatedMessage,
        "WriteRegisters of 20 with 10 register words"
    );
    expect_err!(
        encode::tcb_write_registers(false, 0, 1, &q)
            .truncated(1)
            .call(t.tcb),
        D::TruncatedMessage,
        "WriteRegisters with 1 word"
    );
    // count 40 with 40 register words (42 in all): written as all there are.
    let big = pattern(0x30_0000);
    sys::seL4_SetMR(0, 0);
    sys::seL4_SetMR(1, 40);
    for i in 0..40 {
        sys::seL4_SetMR(2 + i, if i < W { big.regs[i] } else { 0xdead });
    }
    let info = sys::seL4_Call(
        t.tcb,
        MessageInfo::new(L::TCBWriteRegisters as Word, 0, 0, 42),
    );
    check_eq!(info.label(), 0, "WriteRegisters(40) with 42 words");
    let r = t.regs()?;
    check_eq!(
        cmp(&r).regs,
        cmp(&big).regs,
        "WriteRegisters(40) wrote all the registers"
    );
    for n in [0, W as Word + 1, 1000] {
        expect_err!(
            sys::seL4_TCB_ReadRegisters(t.tcb, false, 0, n),
            D::RangeError {
                min: 1,
                max: W as Word
            },
            "ReadRegisters({})",
            n
        );
    }
    expect_err!(
        encode::tcb_read_registers(false, 0, 1)
            .truncated(1)
            .call(t.tcb),
        D::TruncatedMessage,
        "ReadRegisters with 1 word"
    );
    expect_err!(
        sys::seL4_TCB_ReadRegisters(ROOT_TCB, false, 0, 1),
        D::IllegalOperation,
        "ReadRegisters of the calling thread"
    );
    expect_err!(
        sys::seL4_TCB_WriteRegisters(ROOT_TCB, false, 0, 1, &q),
        D::IllegalOperation,
        "WriteRegisters of the calling thread"
    );
    Ok(())
}

/// WriteRegisters with `resume_target` starts an inactive thread; without it the thread stays
/// stopped.
pub fn tcb_write_registers_resume(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let t = c.thread(park_main, 100, [0; 4])?;
    let regs = crate::thread::initial_regs(report_args_main, t.idx, [rep, 7, 8, 9]);
    ok!(
        sys::seL4_TCB_WriteRegisters(t.tcb, false, 0, W as Word, &regs),
        "WriteRegisters without resume"
    );
    c.expect_idle(rep, "a thread never resumed")?;
    ok!(
        sys::seL4_TCB_WriteRegisters(t.tcb, true, 0, W as Word, &regs),
        "WriteRegisters with resume"
    );
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0], m.mr[1], m.mr[2]),
        (0x11, 7, 8, 9),
        "report of the resumed thread"
    );
    Ok(())
}

/// ReadRegisters with `suspend_source` suspends the thread (taking it out of its receive
/// queue); Resume restarts it, re-executing the interrupted `seL4_Recv`.
pub fn tcb_read_registers_suspends(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let t = c.spawn(receiver_main, 100, [rep, ep, 0x22, 0])?;
    c.expect_idle(rep, "receiver blocked in Recv")?;
    let r = ok!(
        sys::seL4_TCB_ReadRegisters(t.tcb, true, 0, W as Word),
        "ReadRegisters with suspend"
    );
    check_eq!(
        r.regs[crate::arch::SYSCALL_NUMBER],
        abi::Syscall::Recv as i64 as Word,
        "the syscall number register of a thread blocked in seL4_Recv"
    );
    check_eq!(
        r.regs[crate::arch::ARG0],
        ep,
        "the cap register (the endpoint) of the blocked thread"
    );
    sys::seL4_SetMR(0, 0x1);
    sys::seL4_NBSend(ep, MessageInfo::new(0x31, 0, 0, 1));
    c.expect_idle(rep, "suspended receiver")?;
    ok!(sys::seL4_TCB_Resume(t.tcb), "Resume");
    c.expect_idle(rep, "resumed receiver back in Recv")?;
    let r2 = t.regs()?;
    check_eq!(
        r2.regs[idx::PC],
        r.regs[idx::PC],
        "pc of the thread back in Recv"
    );
    sys::seL4_SetMR(0, 0x2);
    sys::seL4_NBSend(ep, MessageInfo::new(0x32, 0, 0, 1));
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[1], m.mr[2], m.mr[3]),
        (0x22, 0x32, 1, 0x2),
        "message received after Resume (the one sent while suspended is lost)"
    );
    Ok(())
}

extern "C" fn counter_main(rep: Word, step: Word, limit: Word, _: Word) -> ! {
    let mut next = step;
    loop {
        let n = bump(0);
        if n == next {
            send(rep, 0x20, &[n]);
            next += step;
        }
        if n >= limit {
            report_and_park(rep, 0x21, &[n]);
        }
    }
}

/// Suspend stops a running thread where it is and Resume continues it from there; Suspend and
/// Resume of a thread already in that state change nothing.
pub fn tcb_suspend_resume(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let t = c.spawn(counter_main, 100, [rep, 1000, 1_000_000, 0])?;
    let m = c.recv(rep)?;
    check_eq!((m.label(), m.mr[0]), (0x20, 1000), "first report");
    ok!(sys::seL4_TCB_Suspend(t.tcb), "Suspend");
    ok!(sys::seL4_TCB_Suspend(t.tcb), "Suspend again");
    let n = shared(0);
    c.expect_idle(rep, "suspended thread")?;
    check_eq!(shared(0), n, "counter of the suspended thread");
    ok!(sys::seL4_TCB_Resume(t.tcb), "Resume");
    ok!(sys::seL4_TCB_Resume(t.tcb), "Resume again");
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0]),
        (0x20, 2000),
        "report after Resume (continued, not restarted)"
    );
    ok!(sys::seL4_TCB_Suspend(t.tcb), "Suspend at the end");
    Ok(())
}

/// CopyRegisters copies the frame registers (pc, ra, sp, gp, s0..s11) and/or the integer
/// registers (a0..a7, t0..t6, tp) as asked; `resume_target` restarts the target and
/// `suspend_source` suspends the source. The source must be a thread cap (InvalidCapability 1).
pub fn tcb_copy_registers(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let a = c.thread(park_main, 100, [0; 4])?;
    let b = c.thread(park_main, 100, [0; 4])?;
    let (p, q) = (pattern(0x40_0000), pattern(0x50_0000));
    ok!(
        sys::seL4_TCB_WriteRegisters(a.tcb, false, 0, W as Word, &p),
        "write A"
    );
    let reset_b = |_: ()| sys::seL4_TCB_WriteRegisters(b.tcb, false, 0, W as Word, &q);
    ok!(reset_b(()), "write B");
    ok!(
        sys::seL4_TCB_CopyRegisters(b.tcb, a.tcb, false, false, true, false, 0),
        "copy frame registers"
    );
    let r = cmp(&b.regs()?);
    let (p, q) = (cmp(&p), cmp(&q));
    check_eq!(&r.regs[..F], &p.regs[..F], "frame registers copied");
    check_eq!(&r.regs[F..], &q.regs[F..], "integer registers kept");
    ok!(reset_b(()), "write B");
    ok!(
        sys::seL4_TCB_CopyRegisters(b.tcb, a.tcb, false, false, false, true, 0),
        "copy integer registers"
    );
    let r = cmp(&b.regs()?);
    check_eq!(&r.regs[..F], &q.regs[..F], "frame registers kept");
    check_eq!(&r.regs[F..], &p.regs[F..], "integer registers copied");
    ok!(reset_b(()), "write B");
    ok!(
        sys::seL4_TCB_CopyRegisters(b.tcb, a.tcb, false, false, false, false, 0),
        "copy nothing"
    );
    check_eq!(cmp(&b.regs()?).regs, q.regs, "nothing copied");
    expect_err!(
        sys::seL4_TCB_CopyRegisters(b.tcb, ep, false, false, true, true, 0),
        D::InvalidCapability { index: 1 },
        "source that is an endpoint"
    );
    expect_err!(
        encode::tcb_copy_registers(a.tcb, false, false, true, true, 0)
            .with_caps_truncated(0)
            .call(b.tcb),
        D::TruncatedMessage,
        "no source cap"
    );
    expect_err!(
        encode::tcb_copy_registers(a.tcb, false, false, true, true, 0)
            .truncated(0)
            .call(b.tcb),
        D::TruncatedMessage,
        "no flags word"
    );
    // A's registers as a thread that would report; B takes them all (A's stack and tp
    // included: A never runs) and is resumed.
    crate::thread::set_local_tcb(a.idx, b.tcb);
    let start = crate::thread::initial_regs(report_args_main, a.idx, [rep, 4, 5, 6]);
    ok!(
        sys::seL4_TCB_WriteRegisters(a.tcb, false, 0, W as Word, &start),
        "write A"
    );
    ok!(
        sys::seL4_TCB_CopyRegisters(b.tcb, a.tcb, false, true, true, true, 0),
        "copy all and resume B"
    );
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0], m.mr[1], m.mr[2], m.mr[3]),
        (0x11, 4, 5, 6, local(a.idx)),
        "report of B running with A's registers"
    );
    // suspend_source: a receiver blocked in Recv is taken out of the endpoint queue.
    let r = c.spawn(receiver_main, 100, [rep, ep, 0x23, 0])?;
    c.expect_idle(rep, "receiver blocked")?;
    ok!(
        sys::seL4_TCB_CopyRegisters(a.tcb, r.tcb, true, false, true, true, 0),
        "copy from the receiver, suspending it"
    );
    sys::seL4_NBSend(ep, MessageInfo::new(0x33, 0, 0, 0));
    c.expect_idle(rep, "suspended source")?;
    let ra = a.regs()?;
    check_eq!(
        ra.regs[crate::arch::ARG0],
        ep,
        "the cap register copied from the receiver"
    );
    Ok(())
}

#[cfg(not(feature = "mcs"))]
/// SetPriority/SetMCPriority/SetSchedParams: the authority must be a thread cap
/// (InvalidCapability 1), every new priority and MCP at most the authority's MCP (RangeError
/// [0, mcp], `checkPrio`); a new TCB has MCP 0; the root task has MCP 255.
pub fn tcb_priority_and_mcp(c: &mut Ctx) -> TestResult {
    let ep = c.new_object(T::Endpoint, 0)?;
    let t1 = c.thread(park_main, 100, [0; 4])?;
    let t2 = c.thread(park_main, 100, [0; 4])?;
    let fresh = c.new_object(T::Tcb, 0)?;
    ok!(
        sys::seL4_TCB_SetPriority(t1.tcb, ROOT_TCB, 255),
        "priority 255 under the root task's MCP"
    );
    expect_err!(
        sys::seL4_TCB_SetPriority(t1.tcb, ROOT_TCB, 256),
        D::RangeError { min: 0, max: 255 },
        "priority 256"
    );
    expect_err!(
        sys::seL4_TCB_SetPriority(t1.tcb, fresh, 1),
        D::RangeError { min: 0, max: 0 },
        "authority of a new TCB (MCP 0)"
    );
    ok!(
        sys::seL4_TCB_SetPriority(t1.tcb, fresh, 0),
        "priority 0 under MCP 0"
    );
    expect_err!(
        sys::seL4_TCB_SetPriority(t1.tcb, ep, 10),
        D::InvalidCapability { index: 1 },
        "authority that is an endpoint"
    );
    expect_err!(
        encode::tcb_set_priority(ROOT_TCB, 10)
            .with_caps_truncated(0)
            .call(t1.tcb),
        D::TruncatedMessage,
        "SetPriority without authority"
    );
    expect_err!(
        encode::tcb_set_priority(ROOT_TCB, 10)
            .truncated(0)
            .call(t1.tcb),
        D::TruncatedMessage,
        "SetPriority without priority"
    );
    ok!(
        sys::seL4_TCB_SetMCPriority(t1.tcb, ROOT_TCB, 100),
        "MCP 100 for t1"
    );
    expect_err!(
        sys::seL4_TCB_SetPriority(t2.tcb, t1.tcb, 101),
        D::RangeError { min: 0, max: 100 },
        "priority above the authority's MCP"
    );
    ok!(
        sys::seL4_TCB_SetPriority(t2.tcb, t1.tcb, 100),
        "priority equal to the authority's MCP"
    );
    expect_err!(
        sys::seL4_TCB_SetMCPriority(t2.tcb, t1.tcb, 101),
        D::RangeError { min: 0, max: 100 },
        "MCP above the authority's MCP"
    );
    expect_err!(
        sys::seL4_TCB_SetMCPriority(t2.tcb, ep, 1),
        D::InvalidCapability { index: 1 },
        "SetMCPriority with an endpoint as authority"
    );
    expect_err!(
        encode::tcb_set_mc_priority(t1.tcb, 1)
            .with_caps_truncated(0)
            .call(t2.tcb),
        D::TruncatedMessage,
        "SetMCPriority without authority"
    );
    expect_err!(
        sys::seL4_TCB_SetSchedParams(t2.tcb, t1.tcb, 101, 50),
        D::RangeError { min: 0, max: 100 },
        "SetSchedParams MCP above the authority's"
    );
    expect_err!(
        sys::seL4_TCB_SetSchedParams(t2.tcb, t1.tcb, 50, 101),
        D::RangeError { min: 0, max: 100 },
        "SetSchedParams priority above the authority's MCP"
    );
    expect_err!(
        sys::seL4_TCB_SetSchedParams(t2.tcb, ep, 50, 50),
        D::InvalidCapability { index: 1 },
        "SetSchedParams with an endpoint as authority"
    );
    expect_err!(
        encode::tcb_set_sched_params(t1.tcb, 50, 50)
            .truncated(1)
            .call(t2.tcb),
        D::TruncatedMessage,
        "SetSchedParams with one word"
    );
    ok!(
        sys::seL4_TCB_SetSchedParams(t2.tcb, t1.tcb, 60, 70),
        "SetSchedParams(60, 70)"
    );
    expect_err!(
        sys::seL4_TCB_SetPriority(t1.tcb, t2.tcb, 61),
        D::RangeError { min: 0, max: 60 },
        "t2's MCP is now 60"
    );
    ok!(
        sys::seL4_TCB_SetMCPriority(t1.tcb, t1.tcb, 20),
        "lowering its own MCP"
    );
    expect_err!(
        sys::seL4_TCB_SetMCPriority(t1.tcb, t1.tcb, 21),
        D::RangeError { min: 0, max: 20 },
        "raising it again"
    );
    Ok(())
}

extern "C" fn raiser_main(rep: Word, target: Word, authority: Word, prio: Word) -> ! {
    log(1);
    let r = sys::seL4_TCB_SetPriority(target, authority, prio);
    log(if r.is_ok() { 3 } else { 0xe }); // 3: after SetPriority returned
    report_and_park(rep, 0x31, &[])
}

extern "C" fn logger_main(rep: Word, id: Word, label: Word, _: Word) -> ! {
    log(id);
    report_and_park(rep, label, &[])
}

/// Raising a ready thread above the caller switches to it at once (`setPriority` →
/// `possibleSwitchTo`); a thread that lowers itself below a ready thread gives way at once
/// (`rescheduleRequired`).
pub fn tcb_set_priority_reschedules(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let t = c.spawn(logger_main, 100, [rep, 2, 0x32, 0])?;
    let _m = c.spawn(raiser_main, 150, [rep, t.tcb, ROOT_TCB, 200])?;
    let r = c.recv(rep)?;
    check_eq!(r.label(), 0x32, "first report: the raised thread");
    let r = c.recv(rep)?;
    check_eq!(r.label(), 0x31, "second report: the raiser");
    check_eq!(
        log_snapshot(),
        ([1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 3),
        "order: raiser, raised thread, raiser after SetPriority"
    );
    crate::thread::reset_statics();
    // A thread (150) lowers itself to 50 below a ready thread (100).
    c.spawn(logger_main, 100, [rep, 2, 0x34, 0])?;
    let v = c.thread(raiser_main, 150, [rep, 0, ROOT_TCB, 50])?;
    let regs = crate::thread::initial_regs(raiser_main, v.idx, [rep, v.tcb, ROOT_TCB, 50]);
    ok!(
        sys::seL4_TCB_WriteRegisters(v.tcb, true, 0, W as Word, &regs),
        "start the lowering thread"
    );
    let r = c.recv(rep)?;
    check_eq!(r.label(), 0x34, "first report: the ready thread");
    let r = c.recv(rep)?;
    check_eq!(
        r.label(),
        0x31,
        "second report: the thread that lowered itself"
    );
    check_eq!(
        log_snapshot(),
        ([1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 3),
        "order: lowering thread, ready thread, lowering thread after SetPriority"
    );
    Ok(())
}

extern "C" fn send8_main(rep: Word, _: Word, _: Word, _: Word) -> ! {
    // MR4..MR7 in the buffer the thread itself uses (its first IPC page).
    let words = [0, 1, 2, 3, 0xa4, 0xa5, 0xa6, 0xa7];
    send(rep, 0x40, &words);
    park()
}

/// SetIPCBuffer moves the buffer the kernel uses for the thread's message registers past MR3;
/// address 0 leaves the thread without one (messages cut to the 4 register MRs); the checks are
/// those of Configure's buffer.
pub fn tcb_set_ipc_buffer(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let page = spare_page(0);
    let frame = c.image_frame(page)?;
    crate::thread::clear_page(page);
    for i in 4..8 {
        crate::thread::poke(page, 1 + i, 0xb0 + i as Word);
    }
    let t = c.thread(send8_main, 100, [rep, 0, 0, 0])?;
    ok!(
        sys::seL4_TCB_SetIPCBuffer(t.tcb, page, frame),
        "SetIPCBuffer to a spare page"
    );
    t.start()?;
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.len()),
        (0x40, 8),
        "message of the thread with the moved buffer"
    );
    check_eq!(
        &m.mr[..8],
        &[0, 1, 2, 3, 0xb4, 0xb5, 0xb6, 0xb7],
        "MR4..MR7 come from the new buffer"
    );
    let u = c.thread(send8_main, 100, [rep, 0, 0, 0])?;
    let empty = c.slot()?;
    ok!(
        sys::seL4_TCB_SetIPCBuffer(u.tcb, 0, empty),
        "SetIPCBuffer(0) with an empty slot"
    );
    u.start()?;
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.len(), m.mr[3]),
        (0x40, 4, 3),
        "message of a thread without IPC buffer"
    );
    expect_err!(
        sys::seL4_TCB_SetIPCBuffer(u.tcb, page + 8, frame),
        D::AlignmentError,
        "unaligned buffer"
    );
    expect_err!(
        sys::seL4_TCB_SetIPCBuffer(u.tcb, page, ep),
        D::IllegalOperation,
        "buffer cap that is an endpoint"
    );
    expect_err!(
        encode::tcb_set_ipc_buffer(page, frame)
            .with_caps_truncated(0)
            .call(u.tcb),
        D::TruncatedMessage,
        "SetIPCBuffer without cap"
    );
    expect_err!(
        encode::tcb_set_ipc_buffer(page, frame)
            .truncated(0)
            .call(u.tcb),
        D::TruncatedMessage,
        "SetIPCBuffer without address"
    );
    ok!(
        sys::seL4_TCB_SetIPCBuffer(u.tcb, page + 3072, frame),
        "1 KiB aligned buffer"
    );
    Ok(())
}

#[cfg(not(feature = "mcs"))]
extern "C" fn own_space_main(rep: Word, bad: Word, _: Word, _: Word) -> ! {
    send(rep, 0x50, &[1]);
    // An invocation of a CPtr that does not resolve in this CSpace: a cap fault, sent to the
    // fault endpoint named in this CSpace.
    sys::seL4_Call(bad, MessageInfo::new(0, 0, 0, 0));
    report_and_park(rep, 0x51, &[])
}

#[cfg(not(feature = "mcs"))]
/// SetSpace gives a thread a new CSpace (here a 16-slot CNode whose guard makes 64-bit CPtrs
/// resolve) and a fault endpoint CPtr looked up in that CSpace; bad roots are IllegalOperation,
/// missing words or caps TruncatedMessage.
pub fn tcb_set_space(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let cn = c.new_object(T::CapTable, 4)?;
    let node = libsel4::cap::CNode::from_bits(cn);
    ok!(
        node.relative_bits_with_depth(1, 4)
            .mint_from(&c.abs(rep), CapRights::ALL, 0x77),
        "report cap into the new CNode"
    );
    ok!(
        node.relative_bits_with_depth(2, 4)
            .mint_from(&c.abs(rep), CapRights::ALL, 0xfa2),
        "fault endpoint into the new CNode"
    );
    let t = c.thread(own_space_main, 100, [1, 0x100, 0, 0])?;
    ok!(
        node.relative_bits_with_depth(3, 4)
            .copy_from(&c.abs(t.tcb), CapRights::ALL),
        "the thread's own TCB cap into the new CNode"
    );
    crate::thread::set_local_tcb(t.idx, 3);
    let data = CNodeCapData::new(0, 60).0;
    let ss = |fault: Word, cs: CPtr, vs: CPtr| encode::tcb_set_space(fault, cs, data, vs, 0);
    expect_err!(
        ss(2, cn, VSPACE).truncated(2).call(t.tcb),
        D::TruncatedMessage,
        "SetSpace with 2 words"
    );
    expect_err!(
        ss(2, cn, VSPACE).with_caps_truncated(1).call(t.tcb),
        D::TruncatedMessage,
        "SetSpace with 1 cap"
    );
    expect_err!(
        ss(2, rep, VSPACE).call(t.tcb),
        D::IllegalOperation,
        "CSpace root that is an endpoint"
    );
    expect_err!(
        ss(2, cn, cn).call(t.tcb),
        D::IllegalOperation,
        "VSpace root that is a CNode"
    );
    expect_err!(
        encode::tcb_set_space(2, cn, CNodeCapData::new(0, 61).0, VSPACE, 0).call(t.tcb),
        D::IllegalOperation,
        "guard of 61 bits on a radix-4 CNode (updateCapData gives a null cap)"
    );
    ok!(ss(2, cn, VSPACE).call(t.tcb), "SetSpace");
    t.start()?;
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.badge, m.mr[0]),
        (0x50, 0x77, 1),
        "report through CPtr 1 of the new CSpace"
    );
    let f = c.recv(rep)?;
    check_eq!(
        (f.label(), f.badge, f.len()),
        (abi::fault::CAP_FAULT, 0xfa2, 7),
        "cap fault through the fault endpoint at CPtr 2 of the new CSpace"
    );
    check_eq!(
        &f.mr[1..7],
        &[0x100, 0, 4, 64, 0, 60],
        "cap fault: address, send phase, guard mismatch (64 bits left, guard 0 of 60 bits)"
    );
    Ok(())
}

extern "C" fn waiter_main(rep: Word, n: Word, label: Word, _: Word) -> ! {
    let b = crate::thread::wait(n);
    report_and_park(rep, label, &[b])
}

/// BindNotification needs a notification cap with receive right, a thread without a bound
/// notification and a notification neither bound nor waited on (IllegalOperation each);
/// UnbindNotification needs a bound one.
pub fn tcb_bind_notification(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let t = c.thread(park_main, 100, [0; 4])?;
    let t2 = c.thread(park_main, 100, [0; 4])?;
    let n = c.new_object(T::Notification, 0)?;
    let n2 = c.new_object(T::Notification, 0)?;
    let n3 = c.new_object(T::Notification, 0)?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let n_wo = c.mint(n, CapRights::WRITE, 0)?;
    expect_err!(
        encode::tcb_bind_notification(n)
            .with_caps_truncated(0)
            .call(t.tcb),
        D::TruncatedMessage,
        "BindNotification without cap"
    );
    expect_err!(
        sys::seL4_TCB_BindNotification(t.tcb, ep),
        D::IllegalOperation,
        "bind an endpoint"
    );
    expect_err!(
        sys::seL4_TCB_BindNotification(t.tcb, n_wo),
        D::IllegalOperation,
        "bind through a cap without receive right"
    );
    expect_err!(
        sys::seL4_TCB_UnbindNotification(t.tcb),
        D::IllegalOperation,
        "unbind with nothing bound"
    );
    ok!(sys::seL4_TCB_BindNotification(t.tcb, n), "bind");
    expect_err!(
        sys::seL4_TCB_BindNotification(t.tcb, n2),
        D::IllegalOperation,
        "bind a second notification"
    );
    expect_err!(
        sys::seL4_TCB_BindNotification(t2.tcb, n),
        D::IllegalOperation,
        "bind a notification bound to another thread"
    );
    ok!(sys::seL4_TCB_UnbindNotification(t.tcb), "unbind");
    expect_err!(
        sys::seL4_TCB_UnbindNotification(t.tcb),
        D::IllegalOperation,
        "unbind again"
    );
    ok!(
        sys::seL4_TCB_BindNotification(t2.tcb, n),
        "bind to t2 after unbind"
    );
    c.spawn(waiter_main, 100, [rep, n3, 0x60, 0])?;
    c.expect_idle(rep, "waiter blocked on n3")?;
    expect_err!(
        sys::seL4_TCB_BindNotification(t.tcb, n3),
        D::IllegalOperation,
        "bind a notification a thread waits on"
    );
    Ok(())
}

extern "C" fn tls_main(rep: Word, ep: Word, _: Word, _: Word) -> ! {
    send(rep, 0x70, &[libsel4::ipc::thread_pointer() as Word]);
    crate::thread::recv(ep);
    report_and_park(rep, 0x71, &[libsel4::ipc::thread_pointer() as Word])
}

/// SetTLSBase sets the thread's TLS register (`tp` on riscv): the thread sees it, and
/// ReadRegisters shows it.
pub fn tcb_set_tls_base(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let t = c.spawn(tls_main, 100, [rep, ep, 0, 0])?;
    let m = c.recv(rep)?;
    check_eq!((m.label(), m.mr[0]), (0x70, local(t.idx)), "tp at start");
    c.expect_idle(rep, "thread blocked in Recv")?;
    let spare = local(MAX_THREADS);
    prepare_spare_local(MAX_THREADS, t.ipc_buffer(), t.tcb);
    ok!(sys::seL4_TCB_SetTLSBase(t.tcb, spare), "SetTLSBase");
    let r = t.regs()?;
    check_eq!(
        r.regs[crate::arch::TLS],
        spare,
        "the TLS register in ReadRegisters"
    );
    expect_err!(
        encode::tcb_set_tls_base(0).truncated(0).call(t.tcb),
        D::TruncatedMessage,
        "SetTLSBase without a word"
    );
    sys::seL4_NBSend(ep, MessageInfo::new(0, 0, 0, 0));
    let m = c.recv(rep)?;
    check_eq!((m.label(), m.mr[0]), (0x71, spare), "tp seen by the thread");
    Ok(())
}

/// SetFlags clears, then sets (masked to `seL4_TCBFlag_MASK`, only fpuDisabled with an FPU)
/// and replies with the resulting flags in one word.
pub fn tcb_set_flags(c: &mut Ctx) -> TestResult {
    let t = c.thread(park_main, 100, [0; 4])?;
    let cases: [(Word, Word, Word); 6] = [
        (0, 0, 0),
        (0, 1, 1),
        (0, 0, 1),
        (1, 0, 0),
        (0, Word::MAX, 1),
        (Word::MAX, 0, 0),
    ];
    for (clear, set, want) in cases {
        let info = ok!(
            encode::tcb_set_flags(clear, set).call(t.tcb),
            "SetFlags({:#x}, {:#x})",
            clear,
            set
        );
        check_eq!(
            (info.length(), sys::seL4_GetMR(0)),
            (1, want),
            "SetFlags({:#x}, {:#x}) reply",
            clear,
            set
        );
    }
    ok!(
        encode::tcb_set_flags(0, 1).call(t.tcb),
        "disable the FPU again"
    );
    let info = ok!(encode::tcb_set_flags(1, 1).call(t.tcb), "clear and set");
    check_eq!(
        (info.length(), sys::seL4_GetMR(0)),
        (1, 1),
        "clear then set the same flag"
    );
    expect_err!(
        encode::tcb_set_flags(0, 1).truncated(1).call(t.tcb),
        D::TruncatedMessage,
        "SetFlags with one word"
    );
    Ok(())
}

/// DomainSet_Set: a domain below `CONFIG_NUM_DOMAINS` (1 here: InvalidArgument 0 otherwise),
/// then a thread cap (InvalidArgument 1 otherwise); missing word or cap: TruncatedMessage.
pub fn domain_set(c: &mut Ctx) -> TestResult {
    let t = c.thread(park_main, 100, [0; 4])?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let dom = slot::DOMAIN;
    ok!(sys::seL4_DomainSet_Set(dom, 0, t.tcb), "domain 0");
    expect_err!(
        sys::seL4_DomainSet_Set(dom, 1, t.tcb),
        D::InvalidArgument { index: 0 },
        "domain 1 of 1"
    );
    expect_err!(
        sys::seL4_DomainSet_Set(dom, 0, ep),
        D::InvalidArgument { index: 1 },
        "an endpoint instead of a thread"
    );
    expect_err!(
        encode::domain_set_set(0, t.tcb).truncated(0).call(dom),
        D::TruncatedMessage,
        "no domain word"
    );
    expect_err!(
        encode::domain_set_set(0, t.tcb)
            .with_caps_truncated(0)
            .call(dom),
        D::TruncatedMessage,
        "no thread cap"
    );
    expect_err!(
        encode::domain_set_set(1, t.tcb)
            .with_caps_truncated(0)
            .call(dom),
        D::InvalidArgument { index: 0 },
        "the domain is checked before the cap is looked at"
    );
    Ok(())
}

extern "C" fn redirected_main(a0: Word, a1: Word, a2: Word, a3: Word) -> ! {
    report_and_park(shared(10), 0x3e, &[a0, a1, a2, a3])
}

/// WriteRegisters on a thread blocked in `seL4_Recv` changes where it continues when the
/// message comes (`invokeTCB_WriteRegisters` sets NextIP from the new pc) without waking it;
/// it then runs at the new pc with the message in its registers (a0 badge, a1 info, a2.. MRs).
/// With `resume_target` the blocked thread is restarted (`restart`: seL4's `isStopped` is true
/// for every blocked state): its IPC is cancelled and it runs at the new pc at once, with the
/// registers of its `seL4_Recv` (a0 the endpoint).
pub fn tcb_write_registers_blocked_thread(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    crate::thread::set_shared(10, rep);
    let ep = c.new_object(T::Endpoint, 0)?;
    let epb = c.mint(ep, CapRights::ALL, 0x21)?;
    let t = c.spawn(receiver_main, 100, [rep, ep, 0x24, 0])?;
    c.expect_idle(rep, "receiver blocked")?;
    let mut regs = UserContext::default();
    regs.regs[idx::PC] = redirected_main as *const () as usize as Word;
    ok!(
        sys::seL4_TCB_WriteRegisters(t.tcb, false, 0, 1, &regs),
        "WriteRegisters(pc) of the blocked receiver"
    );
    c.expect_idle(rep, "receiver still blocked after WriteRegisters")?;
    sys::seL4_SetMR(0, 0x11);
    sys::seL4_SetMR(1, 0x22);
    let info = MessageInfo::new(0x3c, 0, 0, 2);
    sys::seL4_Send(epb, info);
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), &m.mr[..4]),
        (0x3e, &[0x21, info.0, 0x11, 0x22][..]),
        "receiver continued at the new pc with [badge, info, MR0, MR1]"
    );
    let ep2 = c.new_object(T::Endpoint, 0)?;
    let u = c.spawn(receiver_main, 100, [rep, ep2, 0x25, 0])?;
    c.expect_idle(rep, "second receiver blocked")?;
    ok!(
        sys::seL4_TCB_WriteRegisters(u.tcb, true, 0, 1, &regs),
        "WriteRegisters(pc) with resume of the blocked receiver"
    );
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), &m.mr[..4]),
        (0x3e, &[ep2, 0, 0, 0][..]),
        "restarted receiver at the new pc with its seL4_Recv registers [a0 = endpoint, a1..a3]"
    );
    Ok(())
}

/// TCB_Resume restarts a thread that is inactive or blocked (seL4's `isStopped`): a sender
/// blocked on an endpoint has its send cancelled and re-executed, so it goes to the end of the
/// queue.
pub fn tcb_resume_blocked_thread(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let s1 = c.spawn(send_id_main, 100, [rep, ep, 1, 0])?;
    c.expect_idle(rep, "first sender blocked")?;
    c.spawn(send_id_main, 100, [rep, ep, 2, 0])?;
    c.expect_idle(rep, "second sender blocked")?;
    ok!(
        sys::seL4_TCB_Resume(s1.tcb),
        "Resume of the first (blocked) sender"
    );
    let m = c.recv(ep)?;
    check_eq!(
        m.mr[0],
        2,
        "first message: the second sender (the first was restarted)"
    );
    let m = c.recv(ep)?;
    check_eq!(m.mr[0], 1, "second message: the restarted first sender");
    for _ in 0..2 {
        c.recv(rep)?;
    }
    Ok(())
}

extern "C" fn send_id_main(rep: Word, ep: Word, id: Word, _: Word) -> ! {
    send(ep, 0x1, &[id]);
    report_and_park(rep, 0x37, &[id])
}

/// Changing the priority of a blocked thread does not make it runnable; Resume of a thread
/// that is not stopped does nothing; when woken it runs at its new priority.
pub fn tcb_set_priority_blocked_thread(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let h = c.spawn(wake_main, 50, [rep, ep, 5, 0])?;
    c.expect_idle(rep, "receiver blocked")?;
    ok!(
        sys::seL4_TCB_SetPriority(h.tcb, ROOT_TCB, 200),
        "raise the blocked receiver"
    );
    c.expect_idle(rep, "raised receiver still blocked")?;
    ok!(
        sys::seL4_TCB_Resume(h.tcb),
        "Resume of the blocked receiver"
    );
    c.expect_idle(rep, "receiver still blocked after Resume")?;
    c.spawn(send_log_main, 100, [rep, ep, 1, 0])?;
    let m = c.recv(rep)?;
    check_eq!(m.label(), 0x35, "first report: the raised receiver");
    let m = c.recv(rep)?;
    check_eq!(m.label(), 0x36, "second report: the sender");
    check_eq!(
        (&log_snapshot().0[..3], log_snapshot().1),
        (&[1, 5, 2][..], 3),
        "sender, raised receiver, sender"
    );
    Ok(())
}

extern "C" fn wake_main(rep: Word, ep: Word, id: Word, _: Word) -> ! {
    crate::thread::recv(ep);
    log(id);
    report_and_park(rep, 0x35, &[])
}

extern "C" fn send_log_main(rep: Word, ep: Word, id: Word, _: Word) -> ! {
    log(id);
    send(ep, 0x1, &[]);
    log(id + 1);
    report_and_park(rep, 0x36, &[])
}

extern "C" fn send10_main(ep: Word, _: Word, _: Word, _: Word) -> ! {
    let words: [Word; 10] = core::array::from_fn(|i| 0x900 + i as Word);
    send(ep, 0x3f, &words);
    park()
}

/// SetIPCBuffer on the calling thread itself: the kernel writes the next message into the new
/// buffer (and reads the caller's extra caps from it), the old one is left alone.
pub fn tcb_set_ipc_buffer_self(c: &mut Ctx) -> TestResult {
    let ep = c.new_object(T::Endpoint, 0)?;
    let page = spare_page(1);
    let frame = c.image_frame(page)?;
    crate::thread::clear_page(page);
    let old = c.bi.ipc_buffer;
    c.spawn(send10_main, 100, [ep, 0, 0, 0])?;
    sys::seL4_SetMR(5, 0xdead);
    ok!(
        sys::seL4_TCB_SetIPCBuffer(ROOT_TCB, page, frame),
        "SetIPCBuffer of the root task"
    );
    // SAFETY: the kernel now uses `page` as this thread's IPC buffer; nothing else uses it.
    unsafe { libsel4::ipc::set_ipc_buffer(page as *mut abi::IpcBuffer) };
    let result = (|| -> TestResult {
        let m = c.recv(ep)?;
        check_eq!((m.label(), m.len()), (0x3f, 10), "message");
        for i in 0..10 {
            check_eq!(
                crate::thread::peek(page, 1 + i),
                0x900 + i as Word,
                "MR{} in the new buffer",
                i
            );
        }
        Ok(())
    })();
    let back = sys::seL4_TCB_SetIPCBuffer(ROOT_TCB, old, slot::INIT_THREAD_IPC_BUFFER);
    // SAFETY: back to the buffer the kernel set up at boot (if the call above worked).
    unsafe { libsel4::ipc::set_ipc_buffer(old as *mut abi::IpcBuffer) };
    result?;
    ok!(back, "SetIPCBuffer back to the boot IPC buffer");
    check_eq!(
        crate::thread::peek(old, 1 + 5),
        0xdead,
        "MR5 of the old buffer untouched"
    );
    Ok(())
}

extern "C" fn delete_self_main(rep: Word, own: Word, _: Word, _: Word) -> ! {
    send(rep, 0x38, &[]);
    let r = sys::seL4_CNode_Delete(ROOT_CNODE, own, 64);
    report_and_park(rep, 0x39, &[r.is_ok() as Word])
}

/// A thread that deletes the last cap to its own TCB stops there (`finaliseCap` suspends it;
/// the invocation gets no reply); the slot is empty afterwards.
pub fn tcb_delete_self(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let t = c.thread(park_main, 100, [0; 4])?;
    let regs = crate::thread::initial_regs(delete_self_main, t.idx, [rep, t.tcb, 0, 0]);
    ok!(
        sys::seL4_TCB_WriteRegisters(t.tcb, true, 0, W as Word, &regs),
        "start the thread"
    );
    let m = c.recv(rep)?;
    check_eq!(m.label(), 0x38, "report before the deletion");
    c.expect_idle(rep, "thread after deleting its own TCB")?;
    check_eq!(ident(t.tcb), tag::NULL, "the thread's TCB slot");
    Ok(())
}

extern "C" fn recv10_main(rep: Word, ep: Word, _: Word, _: Word) -> ! {
    let (info, _) = crate::thread::recv(ep);
    send(rep, 0x3a, &[info.length()]);
    let words: [Word; 10] = core::array::from_fn(|i| 0x800 + i as Word);
    send(rep, 0x3b, &words);
    park()
}

/// The kernel writes a thread's incoming message words past MR3 only into an IPC buffer it may
/// write: with a read-only frame cap the thread receives 4 words, but still sends all of them
/// (`lookupIPCBuffer` checks the rights for receiving only).
pub fn tcb_ipc_buffer_read_only_frame(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    let ep = c.new_object(T::Endpoint, 0)?;
    let t = c.thread(recv10_main, 100, [rep, ep, 0, 0])?;
    let frame = c.image_frame(t.ipc_buffer())?;
    let ro = c.mint(frame, CapRights::READ, 0)?;
    ok!(
        sys::seL4_TCB_SetIPCBuffer(t.tcb, t.ipc_buffer(), ro),
        "IPC buffer through a read-only frame cap"
    );
    t.start()?;
    c.expect_idle(rep, "receiver blocked")?;
    let words: [Word; 10] = core::array::from_fn(|i| i as Word);
    for (i, w) in words.iter().enumerate() {
        sys::seL4_SetMR(i, *w);
    }
    sys::seL4_Send(ep, MessageInfo::new(0x1, 0, 0, 10));
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.mr[0]),
        (0x3a, 4),
        "length received into a read-only IPC buffer"
    );
    let m = c.recv(rep)?;
    check_eq!(
        (m.label(), m.len(), m.mr[9]),
        (0x3b, 10, 0x809),
        "message sent from a read-only IPC buffer"
    );
    Ok(())
}

extern "C" fn log_report_main(rep: Word, id: Word, _: Word, _: Word) -> ! {
    log(id);
    report_and_park(rep, 0x3d, &[])
}

/// The root task lowering its own priority below a ready thread lets that thread run before
/// the SetPriority call returns (`setPriority` of the current thread: `rescheduleRequired`).
pub fn tcb_lower_own_priority(c: &mut Ctx) -> TestResult {
    let rep = c.rep()?;
    c.spawn(log_report_main, 150, [rep, 7, 0, 0])?;
    let lowered = sys::seL4_TCB_SetPriority(ROOT_TCB, ROOT_TCB, 100);
    let seen = log_snapshot();
    let back = sys::seL4_TCB_SetPriority(ROOT_TCB, ROOT_TCB, 255);
    ok!(lowered, "lower the root task to 100");
    ok!(back, "raise the root task back to 255");
    check_eq!(
        (seen.0[0], seen.1),
        (7, 1),
        "the priority-150 thread ran before SetPriority returned"
    );
    let m = c.recv(rep)?;
    check_eq!(m.label(), 0x3d, "its report");
    Ok(())
}

// CopyRegisters onto the calling thread (riscv64): `copy_self_probe(dest, info, flags, saved,
// out, syscall)` saves s0..s11, sp, ra and gp to `saved`, makes the invocation in a0..a2 with
// syscall number `syscall` in a7 (the source TCB in the IPC buffer's first cap slot), stores
// s0..s11 and gp as the thread resumes with them to `out`, restores everything from `saved`
// and returns the reply's message info. The
// source's pc is `copy_self_probe_resume`, the instruction after the `ecall`, so the thread
// continues there whichever pc the kernel resumes it at.
#[cfg(arch_riscv64)]
core::arch::global_asm!(
    ".section .text.copy_self_probe, \"ax\"",
    ".globl copy_self_probe",
    ".globl copy_self_probe_resume",
    "copy_self_probe:",
    "    mv t0, a3",
    "    mv t1, a4",
    "    sd s0, 0(t0)",
    "    sd s1, 8(t0)",
    "    sd s2, 16(t0)",
    "    sd s3, 24(t0)",
    "    sd s4, 32(t0)",
    "    sd s5, 40(t0)",
    "    sd s6, 48(t0)",
    "    sd s7, 56(t0)",
    "    sd s8, 64(t0)",
    "    sd s9, 72(t0)",
    "    sd s10, 80(t0)",
    "    sd s11, 88(t0)",
    "    sd sp, 96(t0)",
    "    sd ra, 104(t0)",
    "    sd gp, 112(t0)",
    "    mv a7, a5",
    "    ecall",
    "copy_self_probe_resume:",
    "    sd s0, 0(t1)",
    "    sd s1, 8(t1)",
    "    sd s2, 16(t1)",
    "    sd s3, 24(t1)",
    "    sd s4, 32(t1)",
    "    sd s5, 40(t1)",
    "    sd s6, 48(t1)",
    "    sd s7, 56(t1)",
    "    sd s8, 64(t1)",
    "    sd s9, 72(t1)",
    "    sd s10, 80(t1)",
    "    sd s11, 88(t1)",
    "    sd gp, 96(t1)",
    "    ld s0, 0(t0)",
    "    ld s1, 8(t0)",
    "    ld s2, 16(t0)",
    "    ld s3, 24(t0)",
    "    ld s4, 32(t0)",
    "    ld s5, 40(t0)",
    "    ld s6, 48(t0)",
    "    ld s7, 56(t0)",
    "    ld s8, 64(t0)",
    "    ld s9, 72(t0)",
    "    ld s10, 80(t0)",
    "    ld s11, 88(t0)",
    "    ld sp, 96(t0)",
    "    ld ra, 104(t0)",
    "    ld gp, 112(t0)",
    "    mv a0, a1",
    "    ret",
);

// The same on aarch64 (`copy_self_probe(dest, info, flags, saved, out, syscall)`): x9 and x10
// (integer registers, which a frame copy leaves alone) keep `saved` and `out`; `saved` gets sp,
// x29, x30, x18 (the callee-saved frame registers), `out` the frame registers x16, x17, x18,
// x29, x30, sp, x2..x8 as the thread resumes with them (x0 and x1 carry a Call's reply).
#[cfg(arch_aarch64)]
core::arch::global_asm!(
    ".section .text.copy_self_probe, \"ax\"",
    ".globl copy_self_probe",
    ".globl copy_self_probe_resume",
    "copy_self_probe:",
    "    mov x9, x3",
    "    mov x10, x4",
    "    mov x11, sp",
    "    str x11, [x9, #0]",
    "    stp x29, x30, [x9, #8]",
    "    str x18, [x9, #24]",
    "    mov x7, x5",
    "    svc #0",
    "copy_self_probe_resume:",
    "    stp x16, x17, [x10, #0]",
    "    stp x18, x29, [x10, #16]",
    "    str x30, [x10, #32]",
    "    mov x11, sp",
    "    str x11, [x10, #40]",
    "    stp x2, x3, [x10, #48]",
    "    stp x4, x5, [x10, #64]",
    "    stp x6, x7, [x10, #80]",
    "    str x8, [x10, #96]",
    "    ldr x11, [x9, #0]",
    "    mov sp, x11",
    "    ldp x29, x30, [x9, #8]",
    "    ldr x18, [x9, #24]",
    "    mov x0, x1",
    "    ret",
);

extern "C" {
    fn copy_self_probe(
        dest: Word,
        info: Word,
        flags: Word,
        saved: *mut Word,
        out: *mut Word,
        syscall: Word,
    ) -> Word;
    fn copy_self_probe_resume();
}

/// CopyRegisters with the calling thread as the target (seL4 asks for a reschedule then):
/// the frame registers it copies (riscv64: s0..s11 and gp among them; aarch64: x16..x18, x29,
/// x30, sp, x2..x8) are the ones the caller resumes with, by `seL4_Call` and by `seL4_Send`
/// (an exit after a syscall other than Call/ReplyRecv that leaves its thread unchanged and
/// skips reloading registers must not be taken).
pub fn tcb_copy_registers_onto_self(c: &mut Ctx) -> TestResult {
    let src = c.thread(park_main, 100, [0; 4])?;
    let mut regs = pattern(0x7700_0000);
    regs.regs[idx::PC] = copy_self_probe_resume as *const () as Word;
    ok!(
        sys::seL4_TCB_WriteRegisters(src.tcb, false, 0, W as Word, &regs),
        "write the source's registers"
    );
    #[cfg(arch_riscv64)]
    let magic: [Word; 13] = core::array::from_fn(|i| match i {
        12 => regs.regs[idx::GP],
        _ => regs.regs[idx::S0 + i],
    });
    #[cfg(arch_aarch64)]
    let magic: [Word; 13] = core::array::from_fn(|i| {
        regs.regs[match i {
            0 => idx::X16,
            1 => idx::X17,
            2 => idx::X18,
            3 => idx::X29,
            4 => idx::X30,
            5 => idx::SP,
            _ => idx::X0 + 2 + (i - 6),
        }]
    });
    let mut saved = [0 as Word; 15];
    let info = MessageInfo::new(L::TCBCopyRegisters as Word, 0, 1, 1).0;
    for (syscall, name) in [
        (abi::Syscall::Call, "seL4_Call"),
        (abi::Syscall::Send, "seL4_Send"),
    ] {
        let mut out = [0 as Word; 13];
        sys::seL4_SetCap(0, src.tcb);
        // SAFETY: the probe restores every register the calling convention says it preserves
        // and writes only `saved` and `out`, whose lengths it expects.
        let reply = unsafe {
            copy_self_probe(
                slot::INIT_THREAD_TCB,
                info,
                1 << 2,
                saved.as_mut_ptr(),
                out.as_mut_ptr(),
                syscall as i64 as Word,
            )
        };
        if syscall == abi::Syscall::Call {
            check_eq!(
                MessageInfo(reply).label(),
                0,
                "CopyRegisters onto itself succeeds"
            );
        }
        check_eq!(
            out,
            magic,
            "frame registers after copying them onto itself by {name}"
        );
    }
    ok!(sys::seL4_TCB_Suspend(src.tcb), "Suspend the source");
    Ok(())
}

// SetTLSBase on the calling thread (riscv64): `tls_self_probe(dest, info, base, syscall)`
// makes the invocation in a0..a2 with syscall number `syscall` in a7, and returns `tp` as the
// thread resumes with it, after putting its own `tp` back (no Rust code runs in between: the
// root task's `tp` is its TLS pointer).
#[cfg(arch_riscv64)]
core::arch::global_asm!(
    ".section .text.tls_self_probe, \"ax\"",
    ".globl tls_self_probe",
    "tls_self_probe:",
    "    mv t0, tp",
    "    mv a7, a3",
    "    ecall",
    "    mv a0, tp",
    "    mv tp, t0",
    "    ret",
);

// The same on aarch64: the invocation in x0..x2, the syscall number in x7, `tpidr_el0` (the
// TLS register SetTLSBase sets) returned and put back.
#[cfg(arch_aarch64)]
core::arch::global_asm!(
    ".section .text.tls_self_probe, \"ax\"",
    ".globl tls_self_probe",
    "tls_self_probe:",
    "    mrs x9, tpidr_el0",
    "    mov x7, x3",
    "    svc #0",
    "    mrs x0, tpidr_el0",
    "    msr tpidr_el0, x9",
    "    ret",
);

extern "C" {
    fn tls_self_probe(dest: Word, info: Word, base: Word, syscall: Word) -> Word;
}

/// SetTLSBase with the calling thread as the target: it resumes with the new TLS register
/// (`tp`, `tpidr_el0`), by `seL4_Call` and by `seL4_Send` (a syscall exit that resumes the
/// thread that trapped without loading its whole context must not be taken).
pub fn tcb_set_tls_base_onto_self(_c: &mut Ctx) -> TestResult {
    let info = MessageInfo::new(L::TCBSetTLSBase as Word, 0, 0, 1).0;
    for (syscall, name, base) in [
        (abi::Syscall::Call, "seL4_Call", 0x7700_1230),
        (abi::Syscall::Send, "seL4_Send", 0x7700_4560),
    ] {
        // SAFETY: the probe puts `tp` back before it returns and writes no memory.
        let tp =
            unsafe { tls_self_probe(slot::INIT_THREAD_TCB, info, base, syscall as i64 as Word) };
        check_eq!(
            tp,
            base,
            "TLS register after SetTLSBase on itself by {name}"
        );
    }
    Ok(())
}
