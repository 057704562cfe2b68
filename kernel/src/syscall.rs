//! Syscall entry and invocations (seL4 `src/api/syscall.c`; `src/object/objecttype.c`
//! `decodeInvocation` and `performInvocation_*`): an invocation is decoded by its object into an
//! [`Invocation`], then performed (the shape is described in [`crate::invocation`]).
//!
//! Register convention (seL4 riscv64, `libsel4/arch_include/riscv/sel4/arch/syscalls.h`):
//! a7 syscall number; a0 CPtr in, badge out; a1 `seL4_MessageInfo`; a2..a5 MR0..MR3; the rest
//! of the message in the IPC buffer.
#![forbid(unsafe_code)]

use crate::arch::regs;
use crate::cap::Cap;
use crate::cspace::{lookup_cap_and_slot, lookup_slot_of, LookupFault};
use crate::cte::Slot;
use crate::error::SyscallError;
use crate::invocation::{Invocation, InvocationArgs};
use crate::ipc::{handle_fault, Fault};
use crate::mem::IpcBuffer;
use crate::object::cnode::{decode_cnode_invocation, invoke_cnode};
use crate::object::domain::{decode_domain_invocation, invoke_domain};
use crate::object::endpoint::send_ipc;
use crate::object::interrupt::{
    decode_irq_control_invocation, decode_irq_handler_invocation, invoke_irq_control,
    invoke_irq_handler,
};
use crate::object::notification::send_signal;
use crate::object::tcb::{tcb_slot, TcbRef, ThreadState, TCB_NAME_LEN};
use crate::object::tcb_invocation::{decode_tcb_invocation, invoke_tcb};
use crate::object::untyped::{decode_untyped_invocation, invoke_untyped_retype};
use crate::state::{get_mr, ipc_buffer_pptr, set_mr, Kernel};
use crate::user_err;
use abi::message::{FAST_MESSAGE_REGISTERS, MSG_MAX_EXTRA_CAPS};
use abi::{InvocationLabel, MessageInfo, Syscall};

/// The arguments of the current invocation, read from the caller's registers, IPC buffer and
/// looked-up extra caps.
struct Args {
    thread: TcbRef,
    /// The invoked cap's CPtr (named in `userError` lines, so debug builds only).
    #[cfg(feature = "debug_build")]
    cptr: u64,
    blocking: bool,
    call: bool,
    buffer: Option<IpcBuffer>,
    len: usize,
    /// The extra caps' slots (`lookupExtraCaps` keeps slot pointers too); their caps are
    /// decoded when a decoder asks for them, as nothing changes a slot before the perform step.
    extra: [Option<Slot>; MSG_MAX_EXTRA_CAPS],
    /// MCS: an endpoint send may lend the caller's SchedContext.
    #[cfg(feature = "mcs")]
    can_donate: bool,
    /// MCS: the send phase of a combined send-receive syscall.
    #[cfg(feature = "mcs")]
    first_phase: bool,
}

impl InvocationArgs for Args {
    fn len(&self) -> usize {
        self.len
    }
    fn mr(&self, i: usize) -> u64 {
        get_mr(self.thread, self.buffer, i)
    }
    fn extra_cap(&self, i: usize) -> Option<(Cap, Slot)> {
        let slot = self.extra_slot(i)?;
        Some((slot.cap(), slot))
    }
    fn extra_cap_cold(&self, i: usize) -> Option<(Cap, Slot)> {
        extra_cap_of(self.extra_slot(i))
    }
    fn extra_slot(&self, i: usize) -> Option<Slot> {
        self.extra.get(i).copied().flatten()
    }
    fn extra_cptr(&self, i: usize) -> u64 {
        match self.buffer {
            Some(b) if i < MSG_MAX_EXTRA_CAPS => extra_cptr(b, i),
            _ => 0,
        }
    }
    fn is_call(&self) -> bool {
        self.call
    }
}

/// The cap in `slot`, decoded, and the slot ([`InvocationArgs::extra_cap_cold`]).
#[inline(never)]
fn extra_cap_of(slot: Option<Slot>) -> Option<(Cap, Slot)> {
    let slot = slot?;
    Some((slot.cap(), slot))
}

/// The CPtr of extra cap `i` in the IPC buffer at `buffer`.
#[inline(always)]
fn extra_cptr(buffer: IpcBuffer, i: usize) -> u64 {
    buffer.word(abi::ipc_buffer::offset::CAPS_OR_BADGES + 8 * i)
}

/// Handles the `ecall` of the current thread. Its pc is still at the `ecall`.
///
/// Only the dispatch is here; each syscall's handler is a function of its own, so that this one
/// needs no stack frame of its own size.
#[cfg(not(feature = "mcs"))]
#[inline(never)]
pub fn handle_syscall(k: &mut Kernel) {
    let t = k.cur_thread;
    let (pc, number) = (t.reg(regs::NEXT_IP), t.reg(regs::SYSCALL_NUMBER));
    dispatch_syscall::<_, false>(k, pc, number, |_| (), |_| ())
}

/// [`handle_syscall`] of syscall `number` made at `pc` (the machine's syscall entry passes
/// both as they are in the registers), then the way out, last on every path (the machine's
/// syscall entry passes the choice of the thread to resume: `entry::activate_or_idle`). Each syscall's
/// handler runs in a function of its own that ends with `exit` (`then`), so that this
/// dispatch needs no stack frame: a syscall with nothing to do takes `exit_now` (the same
/// choice with its common case inline) and pays for none.
///
/// `SHARED`: the handlers go to `then` as function pointers, one instance of it (with `exit`
/// inline) for all of them, not one per syscall: for `exit`s that are large (the machine's
/// `syscall_entry`: the way out of the syscall, about 100 bytes each). Without it (the trap
/// path's [`handle_syscall`], whose way out comes after it) each syscall calls its handler
/// directly.
#[cfg(not(feature = "mcs"))]
#[inline(always)]
pub fn dispatch_syscall<R, const SHARED: bool>(
    k: &mut Kernel,
    pc: u64,
    number: u64,
    exit_now: impl FnOnce(&mut Kernel) -> R,
    exit: impl FnOnce(&mut Kernel) -> R + Copy,
) -> R {
    advance_past_syscall(k, pc);
    // Only the benchmark null syscall has nothing to do.
    #[cfg(not(feature = "benchmark"))]
    let _ = exit_now;
    // On the number itself (not on `Syscall::from_word`'s `Option`): one range check and
    // one jump table.
    const CALL: i64 = Syscall::Call as i64;
    const SEND: i64 = Syscall::Send as i64;
    const NB_SEND: i64 = Syscall::NBSend as i64;
    const RECV: i64 = Syscall::Recv as i64;
    const NB_RECV: i64 = Syscall::NBRecv as i64;
    const REPLY: i64 = Syscall::Reply as i64;
    const REPLY_RECV: i64 = Syscall::ReplyRecv as i64;
    const YIELD: i64 = Syscall::Yield as i64;
    type Handler = fn(&mut Kernel);
    // `then(k, exit, f)`, `f` as a function pointer if `SHARED`. Each arm calls `then` (a
    // pointer chosen before one call would be computed before the jump table, on the null
    // syscall's path too).
    macro_rules! then {
        ($f:expr) => {
            if SHARED {
                then(k, exit, $f as Handler)
            } else {
                then(k, exit, $f)
            }
        };
    }
    match number as i64 {
        CALL => then!(call),
        SEND => then!(|k| invoke(k, false, true)),
        NB_SEND => then!(|k| invoke(k, false, false)),
        RECV => then!(|k| handle_recv(k, true)),
        NB_RECV => then!(|k| handle_recv(k, false)),
        REPLY => then!(handle_reply),
        REPLY_RECV => then!(reply_recv),
        YIELD => then!(handle_yield),
        // The floor of the benchmarks: nothing to do.
        #[cfg(feature = "benchmark")]
        abi::syscall::BENCHMARK_NULL_SYSCALL => exit_now(k),
        _ if SHARED => then(
            k,
            exit,
            (|k: &mut Kernel| {
                let number = k.cur_thread.reg(regs::SYSCALL_NUMBER);
                handle_other_syscall(k, Syscall::from_word(number), number)
            }) as Handler,
        ),
        _ => then(k, exit, move |k| {
            handle_other_syscall(k, Syscall::from_word(number), number)
        }),
    }
}

/// The syscall's pc `pc` (of the syscall instruction) becomes the current thread's
/// `FaultIP` and its pc moves past it (the syscall restarts from `FaultIP`, or returns after
/// it). The machine's trap entry passes `pc` in a register and does not store it in the
/// context first: this writes the context's pc.
#[inline(always)]
fn advance_past_syscall(k: &mut Kernel, pc: u64) {
    let t = k.cur_thread;
    t.with(|x| x.fault_ip = pc);
    t.set_reg(regs::NEXT_IP, pc + regs::SYSCALL_INSTRUCTION_BYTES);
}

/// [`dispatch_syscall`] for a syscall known to be `seL4_Call` (the fastpath declined it),
/// made at `pc`.
#[inline(always)]
pub fn dispatch_call<R>(k: &mut Kernel, pc: u64, exit: impl FnOnce(&mut Kernel) -> R) -> R {
    advance_past_syscall(k, pc);
    #[cfg(not(feature = "mcs"))]
    return then(k, exit, call);
    #[cfg(feature = "mcs")]
    call_or_reply_recv_then(k, exit, false)
}

/// [`dispatch_syscall`] for a syscall known to be `seL4_ReplyRecv` (the fastpath declined
/// it), made at `pc`.
#[inline(always)]
pub fn dispatch_reply_recv<R>(k: &mut Kernel, pc: u64, exit: impl FnOnce(&mut Kernel) -> R) -> R {
    advance_past_syscall(k, pc);
    #[cfg(not(feature = "mcs"))]
    return then(k, exit, reply_recv);
    #[cfg(feature = "mcs")]
    call_or_reply_recv_then(k, exit, true)
}

/// MCS: `seL4_ReplyRecv` if `is_reply_recv`, else `seL4_Call`, then `exit`: one function for
/// both of the fastpath's fallbacks (which pass the same `exit`), so that the way out, with
/// MCS's `schedule` and budget check, is there once (the runtime text 280 bytes smaller; a
/// Call or ReplyRecv the fastpath declines 1 or 2 instructions dearer). Without MCS, where
/// the way out is shorter, each fallback keeps its own `then` (this would save 80 bytes and
/// cost such a Call 3 instructions).
#[cfg(feature = "mcs")]
#[inline(never)]
fn call_or_reply_recv_then<R>(
    k: &mut Kernel,
    exit: impl FnOnce(&mut Kernel) -> R,
    is_reply_recv: bool,
) -> R {
    with_budget(k, |k| {
        if is_reply_recv {
            let reply = k.cur_thread.reg(regs::REPLY);
            if handle_invocation_mcs(k, true, reply) {
                handle_recv(k, true, true);
            }
        } else {
            invoke(k, true, true, true);
        }
    });
    exit(k)
}

/// `seL4_Call` (MCS: if the thread has budget left).
#[inline(always)]
fn call(k: &mut Kernel) {
    #[cfg(not(feature = "mcs"))]
    invoke(k, true, true);
    #[cfg(feature = "mcs")]
    with_budget(k, |k| invoke(k, true, true, true));
}

/// `seL4_ReplyRecv` (MCS: with the Reply cap in [`regs::REPLY`], if the thread has budget
/// left).
#[inline(always)]
fn reply_recv(k: &mut Kernel) {
    #[cfg(not(feature = "mcs"))]
    {
        handle_reply(k);
        handle_recv(k, true);
    }
    #[cfg(feature = "mcs")]
    with_budget(k, |k| {
        let reply = k.cur_thread.reg(regs::REPLY);
        if handle_invocation_mcs(k, true, reply) {
            handle_recv(k, true, true);
        }
    })
}

/// `f`, then `exit`: one syscall's handler and the way out, in a function of its own (see
/// [`dispatch_syscall`]).
#[inline(never)]
fn then<R>(k: &mut Kernel, exit: impl FnOnce(&mut Kernel) -> R, f: impl FnOnce(&mut Kernel)) -> R {
    f(k);
    exit(k)
}

/// MCS `handleSyscall`: the time since the last kernel entry is charged first; a thread
/// whose budget is used up restarts the syscall when it next runs (`MCS_DO_IF_BUDGET`).
/// Debug syscalls run without that check, as seL4's `handleUnknownSyscall`. Registers:
/// the reply cap in [`regs::REPLY`], `seL4_NBSendRecv`'s destination in
/// [`regs::NB_SEND_RECV_DEST`].
#[cfg(feature = "mcs")]
#[inline(never)]
pub fn handle_syscall(k: &mut Kernel) {
    let t = k.cur_thread;
    let (pc, number) = (t.reg(regs::NEXT_IP), t.reg(regs::SYSCALL_NUMBER));
    dispatch_syscall::<_, true>(k, pc, number, |_| (), |_| ())
}

/// [`handle_syscall`], then the way out (`exit_now` for a syscall with nothing to do, `exit`
/// after the others), last on every path, as the non-MCS `dispatch_syscall`. The handlers
/// always go to `then` as function pointers (`SHARED` has no effect).
#[cfg(feature = "mcs")]
#[inline(always)]
pub fn dispatch_syscall<R, const SHARED: bool>(
    k: &mut Kernel,
    pc: u64,
    number: u64,
    exit_now: impl FnOnce(&mut Kernel) -> R,
    exit: impl FnOnce(&mut Kernel) -> R + Copy,
) -> R {
    advance_past_syscall(k, pc);
    let syscall = Syscall::from_word(number);
    #[cfg(not(feature = "benchmark"))]
    let _ = exit_now;
    #[cfg(feature = "benchmark")]
    if number as i64 == abi::syscall::BENCHMARK_NULL_SYSCALL {
        return exit_now(k);
    }
    let standard = matches!(
        syscall,
        Some(
            Syscall::Call
                | Syscall::ReplyRecv
                | Syscall::NBSendRecv
                | Syscall::NBSendWait
                | Syscall::Send
                | Syscall::NBSend
                | Syscall::Recv
                | Syscall::NBRecv
                | Syscall::Wait
                | Syscall::NBWait
                | Syscall::Yield
        )
    );
    // The handlers go to `then` as function pointers: one instance of it for all (each has
    // the budget check; MCS has many syscalls).
    type Handler = fn(&mut Kernel);
    let f: Handler = if !standard {
        |k| {
            let number = k.cur_thread.reg(regs::SYSCALL_NUMBER);
            handle_nonstandard_syscall(k, Syscall::from_word(number), number)
        }
    } else {
        match syscall {
            Some(Syscall::Call) => call,
            Some(Syscall::Send) => |k| with_budget(k, |k| invoke(k, false, true, false)),
            Some(Syscall::NBSend) => |k| with_budget(k, |k| invoke(k, false, false, false)),
            Some(Syscall::Recv) => |k| with_budget(k, |k| handle_recv(k, true, true)),
            Some(Syscall::NBRecv) => |k| with_budget(k, |k| handle_recv(k, false, true)),
            Some(Syscall::Wait) => |k| with_budget(k, |k| handle_recv(k, true, false)),
            Some(Syscall::NBWait) => |k| with_budget(k, |k| handle_recv(k, false, false)),
            Some(Syscall::ReplyRecv) => reply_recv,
            Some(Syscall::NBSendRecv) => |k| {
                with_budget(k, |k| {
                    let dest = k.cur_thread.reg(regs::NB_SEND_RECV_DEST);
                    if handle_invocation_mcs(k, true, dest) {
                        handle_recv(k, true, true);
                    }
                })
            },
            Some(Syscall::NBSendWait) => |k| {
                with_budget(k, |k| {
                    let dest = k.cur_thread.reg(regs::REPLY);
                    if handle_invocation_mcs(k, true, dest) {
                        handle_recv(k, true, false);
                    }
                })
            },
            _ => handle_yield_with_budget,
        }
    };
    then(k, exit, f)
}

/// MCS: `f` if the current thread has budget left after charging the time since the last
/// kernel entry (`updateTimestamp`, `checkBudgetRestart`); otherwise the syscall restarts when
/// the thread next runs.
#[cfg(feature = "mcs")]
#[inline(always)]
fn with_budget(k: &mut Kernel, f: impl FnOnce(&mut Kernel)) {
    crate::sched::mcs::update_timestamp(k);
    if crate::sched::mcs::check_budget_restart(k) {
        f(k)
    }
}

/// MCS `seL4_Yield` under [`with_budget`].
#[cfg(feature = "mcs")]
fn handle_yield_with_budget(k: &mut Kernel) {
    with_budget(k, handle_yield)
}

/// MCS: the syscalls outside the standard range, as seL4's `handleUnknownSyscall`: the
/// utilisation and debug syscalls without a budget check; any other number is a fault, sent
/// only if the thread has budget left.
#[cfg(feature = "mcs")]
#[inline(always)]
fn handle_nonstandard_syscall(k: &mut Kernel, syscall: Option<Syscall>, number: u64) {
    #[cfg(feature = "track_utilisation")]
    if crate::benchmark::handle_syscall(k, number) {
        return;
    }
    if !is_debug_syscall(syscall) {
        crate::sched::mcs::update_timestamp(k);
        if crate::sched::mcs::check_budget_restart(k) {
            let t = k.cur_thread;
            handle_fault(k, t, Fault::UnknownSyscall { number });
        }
        return;
    }
    handle_other_syscall(k, syscall, number)
}

/// Whether `s` is one of the debug syscalls (handled without a budget check).
#[cfg(feature = "mcs")]
fn is_debug_syscall(s: Option<Syscall>) -> bool {
    matches!(
        s,
        Some(
            Syscall::DebugPutChar
                | Syscall::DebugHalt
                | Syscall::DebugCapIdentify
                | Syscall::DebugNameThread
                | Syscall::DebugSnapshot
                | Syscall::DebugDumpScheduler
        )
    )
}

/// MCS `handleInvocation(isCall, isBlocking, canDonate, firstPhase, cptr)` for the send phase
/// of `seL4_ReplyRecv`, `seL4_NBSendRecv` and `seL4_NBSendWait`; returns false if it was
/// preempted (then `mcsPreemptionPoint` has charged the time so far, and the syscall's
/// receive phase does not run).
#[cfg(feature = "mcs")]
fn handle_invocation_mcs(k: &mut Kernel, can_donate: bool, cptr: u64) -> bool {
    handle_invocation(k, false, false, can_donate, true, cptr, None)
}

/// MCS `handleYield`: the rest of the head refill is given up (charged, though only the
/// time really used counts as consumed).
#[cfg(feature = "mcs")]
#[inline(never)]
fn handle_yield(k: &mut Kernel) {
    crate::sched::mcs::handle_yield(k);
}

/// `handleYield`: to the back of the queue; choose again.
#[cfg(not(feature = "mcs"))]
#[inline(never)]
fn handle_yield(k: &mut Kernel) {
    let t = k.cur_thread;
    crate::sched::sched_dequeue(k, t);
    crate::sched::sched_append(k, t);
    crate::sched::reschedule_required(k);
}

/// The debug syscalls and unknown syscall numbers (`syscall` is `number` decoded).
#[inline(never)]
fn handle_other_syscall(k: &mut Kernel, syscall: Option<Syscall>, number: u64) {
    let t = k.cur_thread;
    match syscall {
        Some(Syscall::DebugPutChar) => crate::arch::put_char(t.reg(regs::CAP) as u8),
        Some(Syscall::DebugHalt) => {
            crate::log::line(
                crate::log::Level::Info,
                &[crate::log::Out::Str(
                    "seL4_DebugHalt called by the user: halting",
                )],
            );
            crate::arch::halt(true)
        }
        Some(Syscall::DebugCapIdentify) => {
            let root = t.slot(tcb_slot::CTABLE).raw();
            let tag = lookup_cap_and_slot(root, t.reg(regs::CAP)).map_or(0, |(c, _)| c.tag());
            t.set_reg(regs::BADGE, tag);
        }
        Some(Syscall::DebugNameThread) => debug_name_thread(t),
        #[cfg(feature = "debug_build")]
        Some(Syscall::DebugSnapshot) => crate::debug::capdl::snapshot(k),
        #[cfg(not(feature = "debug_build"))]
        Some(Syscall::DebugSnapshot) => crate::log::line(
            crate::log::Level::Info,
            &[crate::log::Out::Str(
                "seL4_DebugSnapshot: no capDL dumper in this build",
            )],
        ),
        #[cfg(feature = "debug_build")]
        Some(Syscall::DebugDumpScheduler) => crate::debug::sched::dump_scheduler(k),
        #[cfg(not(feature = "debug_build"))]
        Some(Syscall::DebugDumpScheduler) => dump_scheduler(k),
        #[cfg(all(feature = "track_utilisation", not(feature = "mcs")))]
        None if crate::benchmark::handle_syscall(k, number) => {}
        _ => handle_fault(k, t, Fault::UnknownSyscall { number }),
    }
}

/// `handleRecv(isBlocking, canReply)`: `seL4_Recv`/`seL4_NBRecv` (MCS also `seL4_Wait`,
/// `seL4_NBWait`: `can_reply` false) on an endpoint or notification. Under MCS a receive that
/// can reply names a Reply object in [`regs::REPLY`].
#[inline(never)]
fn handle_recv(k: &mut Kernel, is_blocking: bool, #[cfg(feature = "mcs")] can_reply: bool) {
    let t = k.cur_thread;
    let cptr = t.reg(regs::CAP);
    let root = t.slot(tcb_slot::CTABLE).raw();
    let cap = match lookup_cap_and_slot(root, cptr) {
        Ok((c, _)) => c,
        Err(fault) => {
            crate::user_error!("Recv: Invalid cap #{cptr}.");
            return handle_fault(
                k,
                t,
                Fault::Cap {
                    cptr,
                    in_receive: true,
                    fault,
                },
            );
        }
    };
    let missing = Fault::Cap {
        cptr,
        in_receive: true,
        fault: LookupFault::MissingCapability { bits_left: 0 },
    };
    match cap {
        Cap::Endpoint { rights, .. } => {
            if !rights.receive {
                crate::user_error!("Recv: Endpoint cap #{cptr} has no receive right.");
                return handle_fault(k, t, missing);
            }
            #[cfg(not(feature = "mcs"))]
            {
                crate::ipc::delete_caller_cap(k, t);
                crate::object::endpoint::receive_ipc(k, t, cap, is_blocking);
            }
            #[cfg(feature = "mcs")]
            {
                let reply = if can_reply {
                    match lookup_reply(t) {
                        Ok(r) => Some(r),
                        Err(f) => return handle_fault(k, t, f),
                    }
                } else {
                    None
                };
                crate::object::endpoint::receive_ipc(k, t, cap, is_blocking, reply);
            }
        }
        Cap::Notification { ptr, rights, .. } => {
            let bound = ptr.0.get().bound_tcb;
            if !rights.receive || (bound.is_some() && !bound.is(t)) {
                crate::user_error!(
                    "Recv: Notification cap #{cptr} {}.",
                    if rights.receive {
                        "is bound to another thread"
                    } else {
                        "has no receive right"
                    }
                );
                return handle_fault(k, t, missing);
            }
            crate::object::notification::receive_signal(k, t, cap, is_blocking);
        }
        _ => {
            crate::user_error!("Recv: Cap #{cptr} is not an endpoint or notification.");
            handle_fault(k, t, missing)
        }
    }
}

/// MCS `lookupReply`: the Reply object named in the reply register; a cap fault (receive
/// phase) if the lookup fails or the cap is not a Reply cap.
#[cfg(feature = "mcs")]
fn lookup_reply(t: TcbRef) -> Result<crate::object::reply::ReplyRef, Fault> {
    let cptr = t.reg(regs::REPLY);
    let root = t.slot(tcb_slot::CTABLE).raw();
    match lookup_cap_and_slot(root, cptr) {
        Ok((Cap::Reply { ptr, .. }, _)) => Ok(ptr),
        Ok(_) => {
            crate::user_error!("Cap in reply slot is not a reply cap");
            Err(Fault::Cap {
                cptr,
                in_receive: true,
                fault: LookupFault::MissingCapability { bits_left: 0 },
            })
        }
        Err(fault) => {
            crate::user_error!("Reply cap lookup failed");
            Err(Fault::Cap {
                cptr,
                in_receive: true,
                fault,
            })
        }
    }
}

/// `handleReply`: `seL4_Reply` through the thread's caller slot.
#[cfg(not(feature = "mcs"))]
#[inline(never)]
fn handle_reply(k: &mut Kernel) {
    let t = k.cur_thread;
    let slot = t.slot(tcb_slot::CALLER);
    if let Cap::Reply {
        tcb,
        master: false,
        can_grant,
    } = slot.cap()
    {
        crate::ipc::do_reply_transfer(k, t, tcb, slot, can_grant);
    }
}

fn debug_name_thread(t: TcbRef) {
    let root = t.slot(tcb_slot::CTABLE).raw();
    let Ok((Cap::Thread { tcb }, _)) = lookup_cap_and_slot(root, t.reg(regs::CAP)) else {
        crate::log::line(
            crate::log::Level::Warn,
            &[crate::log::Out::Str(
                "seL4_DebugNameThread: cap is not a TCB",
            )],
        );
        return;
    };
    let Some(buf) = crate::state::ipc_buffer_pptr_cold(t, false) else {
        return;
    };
    let mut name = [0u8; TCB_NAME_LEN];
    for (i, b) in name.iter_mut().enumerate().take(TCB_NAME_LEN - 1) {
        let c = buf.byte(abi::ipc_buffer::offset::MSG + i);
        if c == 0 {
            break;
        }
        *b = c;
    }
    tcb.with(|x| x.name = name);
}

/// `seL4_DebugDumpScheduler` without `debug_build` (seL4 prints nothing then): the current
/// thread only; nothing without `printing`.
#[cfg(not(feature = "debug_build"))]
fn dump_scheduler(k: &Kernel) {
    use crate::log::Out::*;
    if !crate::log::PRINTING {
        return;
    }
    let t = k.cur_thread;
    let (ip, prio, state) = (t.reg(regs::NEXT_IP), t.with(|x| x.priority), t.state());
    crate::object::tcb::with_thread_name(t, |name| {
        crate::log::println(&[
            Str("Dumping all tcbs!\nName | IP | Priority | State\n"),
            Bytes(name),
            Str(" | "),
            Hex(ip),
            Str(" | "),
            Dec(prio),
            Str(" | "),
            Str(state.name()),
        ])
    });
}

/// `handleInvocation` of the cap in the thread's cap register, for `seL4_Call`, `seL4_Send`
/// and `seL4_NBSend` (MCS: `can_donate` for Call). The cap is looked up in one step when the
/// CSpace allows it (`lookup_one_level_slot`: the slot the general walk would find); an
/// architecture cap may then take the architecture's direct path (`arch::fast_invocation`,
/// riscv64: a frame's `Page_Map`), and everything else, or what that path declines (having
/// changed nothing), the general path, with the slot already found.
#[inline(never)]
fn invoke(
    k: &mut Kernel,
    is_call: bool,
    is_blocking: bool,
    #[cfg(feature = "mcs")] can_donate: bool,
) {
    let t = k.cur_thread;
    let cptr = t.reg(regs::CAP);
    let slot = crate::cspace::lookup_one_level_slot(t.slot(tcb_slot::CTABLE).raw(), cptr);
    #[cfg(test)]
    let direct = !k.fastpath_off;
    #[cfg(not(test))]
    let direct = true;
    if let Some(s) = slot.filter(|_| direct) {
        if crate::arch::has_fast_invocation(t, s.raw()) {
            return invoke_direct(
                k,
                is_call,
                is_blocking,
                #[cfg(feature = "mcs")]
                can_donate,
                cptr,
                s,
            );
        }
    }
    handle_invocation(
        k,
        is_call,
        is_blocking,
        #[cfg(feature = "mcs")]
        can_donate,
        #[cfg(feature = "mcs")]
        false,
        cptr,
        slot,
    );
}

/// [`invoke`] for a cap in `slot` that the architecture's direct path may take; the general
/// path if it does not. Separate, so that only this case pays for keeping the arguments
/// across the call.
#[inline(never)]
fn invoke_direct(
    k: &mut Kernel,
    is_call: bool,
    is_blocking: bool,
    #[cfg(feature = "mcs")] can_donate: bool,
    cptr: u64,
    slot: Slot,
) {
    let t = k.cur_thread;
    if crate::arch::fast_invocation(k, t, slot.raw(), slot, is_call) {
        #[cfg(test)]
        {
            k.fastpath_hits += 1;
        }
        return;
    }
    handle_invocation(
        k,
        is_call,
        is_blocking,
        #[cfg(feature = "mcs")]
        can_donate,
        #[cfg(feature = "mcs")]
        false,
        cptr,
        Some(slot),
    );
}

/// The general path of every invocation ([`handle_invocation_with`], inlined here only, so that
/// its decoders are inlined into it once): a function of its own, so that [`invoke`]'s direct
/// path does not pay for its stack frame. Returns false if the operation was preempted; MCS:
/// a preempted operation charges the time so far (`mcsPreemptionPoint`).
#[inline(never)]
fn handle_invocation(
    k: &mut Kernel,
    is_call: bool,
    is_blocking: bool,
    #[cfg(feature = "mcs")] can_donate: bool,
    #[cfg(feature = "mcs")] first_phase: bool,
    cptr: u64,
    slot: Option<Slot>,
) -> bool {
    #[cfg(not(feature = "mcs"))]
    let done = handle_invocation_with(k, is_call, is_blocking, false, false, cptr, slot);
    #[cfg(feature = "mcs")]
    let done = handle_invocation_with(k, is_call, is_blocking, can_donate, first_phase, cptr, slot);
    #[cfg(feature = "mcs")]
    if !done {
        crate::sched::mcs::mcs_preemption_point(k);
    }
    done
}

/// `handleInvocation(isCall, isBlocking, canDonate, firstPhase, cptr)`: looks up the cap at
/// `cptr` (unless `found`, the slot it names, was looked up already) and the extra caps,
/// decodes and performs. `can_donate` (MCS): an endpoint send may lend the caller's
/// SchedContext; `first_phase` (MCS): the send phase of
/// `seL4_NBSendRecv`/`seL4_NBSendWait`/`seL4_ReplyRecv`, where only IPC, untyped, IRQ and
/// arch caps may be invoked. Returns false if the operation was preempted.
#[inline(always)]
fn handle_invocation_with(
    k: &mut Kernel,
    is_call: bool,
    is_blocking: bool,
    can_donate: bool,
    first_phase: bool,
    cptr: u64,
    found: Option<Slot>,
) -> bool {
    let _ = (can_donate, first_phase);
    let t = k.cur_thread;
    let info = crate::ipc::message_info_of(t);
    let root = t.slot(tcb_slot::CTABLE).raw();
    let looked_up = match found {
        Some(s) => Ok((s.cap(), s)),
        None => lookup_cap_and_slot(root, cptr),
    };
    let (cap, slot) = match looked_up {
        Ok(r) => r,
        Err(fault) => {
            crate::user_error!("Invocation of invalid cap #{cptr}.");
            if is_blocking {
                handle_fault(
                    k,
                    t,
                    Fault::Cap {
                        cptr,
                        in_receive: false,
                        fault,
                    },
                );
            }
            return true;
        }
    };
    let buffer = ipc_buffer_pptr(t, false);
    let mut extra = [None; MSG_MAX_EXTRA_CAPS];
    if let Some(b) = buffer {
        for (i, e) in extra
            .iter_mut()
            .enumerate()
            .take(info.extra_caps() as usize)
        {
            let c = extra_cptr(b, i);
            match lookup_slot_of(root, c) {
                Ok(r) => *e = Some(r),
                Err(fault) => {
                    crate::user_error!("Lookup of extra caps failed.");
                    if is_blocking {
                        handle_fault(
                            k,
                            t,
                            Fault::Cap {
                                cptr: c,
                                in_receive: false,
                                fault,
                            },
                        );
                    }
                    return true;
                }
            }
        }
    }
    let mut len = info.length() as usize;
    if buffer.is_none() && len > FAST_MESSAGE_REGISTERS {
        len = FAST_MESSAGE_REGISTERS;
    }
    let args = Args {
        thread: t,
        #[cfg(feature = "debug_build")]
        cptr,
        blocking: is_blocking,
        #[cfg(feature = "mcs")]
        can_donate,
        #[cfg(feature = "mcs")]
        first_phase,
        call: is_call,
        buffer,
        len,
        extra,
    };
    let label =
        InvocationLabel::from_label(info.label()).unwrap_or(InvocationLabel::InvalidInvocation);
    match decode_and_perform(k, label, &args, cap, slot) {
        Err(e) => {
            if is_call {
                reply_error(t, e);
            }
        }
        Ok(Performed::Preempted) => return false,
        Ok(Performed::Replied) => {}
        Ok(Performed::Done) => {
            if t.state() == ThreadState::Restart {
                if is_call {
                    t.set_reg(regs::BADGE, 0);
                    t.set_reg(regs::MSG_INFO, MessageInfo::new(0, 0, 0, 0).0);
                }
                t.set_state(ThreadState::Running);
            }
        }
    }
    true
}

enum Performed {
    /// Done; the thread is in `Restart` and gets the empty success reply.
    Done,
    /// Done, and the invocation has written its own reply.
    Replied,
    /// Stopped at a preemption point; the syscall restarts.
    Preempted,
}

/// `decodeInvocation` then perform. Each arm decodes the invocation of its kind of cap into an
/// [`Invocation`] (every check, no side effect) and hands it to [`perform`], which puts the
/// thread in `Restart` and executes it; a preempted operation re-executes the syscall.
///
/// Two choices keep the measured paths as short as they were when each object's decoder also
/// performed (`docs/PERFORMANCE.md`): `perform` is called in each arm, not once after the
/// `match`, so the compiler sees which invocation it performs and never copies one through a
/// common `Invocation` in memory (a TCB's WriteRegisters carries 32 words); and the IPC caps
/// are matched first, apart from the others, which also set the CPU up again.
fn decode_and_perform(
    k: &mut Kernel,
    label: InvocationLabel,
    args: &Args,
    cap: Cap,
    slot: Slot,
) -> Result<Performed, SyscallError> {
    let t = args.thread;
    let call = args.call;
    match cap {
        Cap::Endpoint { rights, .. } | Cap::Notification { rights, .. } if !rights.send => {
            Err(user_err!(
                SyscallError::InvalidCapability(0),
                "Attempted to invoke a read-only {} cap #{}.",
                if let Cap::Endpoint { .. } = cap {
                    "endpoint"
                } else {
                    "notification"
                },
                args.cptr
            ))
        }
        Cap::Endpoint { ptr, badge, rights } => {
            let inv = Invocation::Endpoint {
                ep: ptr,
                badge,
                can_grant: rights.grant,
                can_grant_reply: rights.grant_reply,
                block: args.blocking,
                call,
                #[cfg(feature = "mcs")]
                can_donate: args.can_donate,
            };
            Ok(perform(k, inv, t, call))
        }
        Cap::Notification { ptr, badge, .. } => {
            let inv = Invocation::Notification { ntfn: ptr, badge };
            Ok(perform(k, inv, t, call))
        }
        #[cfg(not(feature = "mcs"))]
        Cap::Reply { master: true, .. } => Err(user_err!(
            SyscallError::InvalidCapability(0),
            "Attempted to invoke an invalid reply cap #{}.",
            args.cptr
        )),
        #[cfg(not(feature = "mcs"))]
        Cap::Reply { tcb, can_grant, .. } => {
            let inv = Invocation::Reply {
                caller: tcb,
                slot,
                can_grant,
            };
            Ok(perform(k, inv, t, call))
        }
        #[cfg(feature = "mcs")]
        Cap::Reply { ptr, can_grant } => {
            let inv = Invocation::Reply {
                reply: ptr,
                can_grant,
            };
            Ok(perform(k, inv, t, call))
        }
        _ => {
            // Anything but IPC may change a VSpace, an ASID or a thread's FPU flag (or delete the
            // objects they live in): set the CPU up again on the way out. The architecture's
            // invocations do that themselves where needed (riscv64: only the ASID ones).
            if !matches!(cap, Cap::Arch(_)) {
                k.clear_activated();
                k.vm_gen += 1;
            }
            #[cfg(feature = "mcs")]
            if args.first_phase && !may_invoke_in_first_phase(cap) {
                return Err(user_err!(
                    SyscallError::InvalidCapability(0),
                    "Cannot invoke {} capabilities in the first phase of an invocation",
                    cap_kind(cap)
                ));
            }
            match cap {
                Cap::Null => Err(user_err!(
                    SyscallError::InvalidCapability(0),
                    "Attempted to invoke a null cap #{}.",
                    args.cptr
                )),
                Cap::Zombie { .. } => Err(user_err!(
                    SyscallError::InvalidCapability(0),
                    "Attempted to invoke a zombie cap #{}.",
                    args.cptr
                )),
                Cap::CNode { .. } => {
                    let inv = decode_cnode_invocation(label, args, cap)?;
                    Ok(perform(k, Invocation::CNode(inv), t, call))
                }
                Cap::Untyped { .. } => {
                    let inv = decode_untyped_invocation(label, args, slot, cap)?;
                    Ok(perform(k, Invocation::Untyped(inv), t, call))
                }
                Cap::Arch(_) => {
                    // Decoded and performed here rather than through `Invocation` (whose
                    // value would then go through memory), in the same two steps.
                    // Not `?`, which would move the value out of the `Result` (a copy).
                    let decoded = crate::arch::decode_arch_invocation(k, label, args, cap, slot);
                    let inv = match &decoded {
                        Ok(inv) => inv,
                        Err(e) => return Err(*e),
                    };
                    t.set_state(ThreadState::Restart);
                    crate::arch::perform_arch_invocation(k, inv, t, call);
                    Ok(replied_or_done(t))
                }
                Cap::Thread { .. } => {
                    // Performed here, by reference, as the architecture's: a ThreadControl is
                    // some 200 bytes, which wrapping it in an `Invocation` would copy again.
                    // Not `?`, which would move the value out of the `Result` (a copy).
                    let decoded = decode_tcb_invocation(k, label, args, cap, slot, t);
                    let inv = match &decoded {
                        Ok(inv) => inv,
                        Err(e) => return Err(*e),
                    };
                    t.set_state(ThreadState::Restart);
                    match invoke_tcb(k, inv, t, call) {
                        Ok(()) => Ok(replied_or_done(t)),
                        Err(_) => Ok(Performed::Preempted),
                    }
                }
                Cap::IrqControl => {
                    let inv = decode_irq_control_invocation(k, label, args, slot)?;
                    Ok(perform(k, Invocation::IrqControl(inv), t, call))
                }
                Cap::IrqHandler { irq } => {
                    let inv = decode_irq_handler_invocation(label, args, irq as usize)?;
                    Ok(perform(k, Invocation::IrqHandler(inv), t, call))
                }
                Cap::Domain => {
                    let inv = decode_domain_invocation(k, label, args)?;
                    Ok(perform(k, Invocation::Domain(inv), t, call))
                }
                #[cfg(feature = "mcs")]
                Cap::SchedContext { ptr, .. } => {
                    let sc = ptr;
                    let inv = crate::object::sched_context::decode_sched_context_invocation(
                        k, label, args, sc, t,
                    )?;
                    Ok(perform(k, Invocation::SchedContext(inv), t, call))
                }
                #[cfg(feature = "mcs")]
                Cap::SchedControl { core } => {
                    let inv = crate::object::sched_control::decode_sched_control_invocation(
                        label, args, core,
                    )?;
                    Ok(perform(k, Invocation::SchedControl(inv), t, call))
                }
                // Decoded by `decode_and_perform`; refused harmlessly, as `decodeInvocation`'s
                // `default` case.
                Cap::Endpoint { .. } | Cap::Notification { .. } | Cap::Reply { .. } => Err(
                    user_err!(SyscallError::IllegalOperation, "Invalid cap type"),
                ),
            }
        }
    }
}

/// The perform step (seL4 `performInvocation_*`, `invoke*`): executes a decoded invocation of
/// `thread` (in `Restart`); `call`: it came with `seL4_Call`, so an invocation with results
/// replies. It cannot fail; a long operation may stop at a preemption point.
#[inline(always)]
fn perform(
    k: &mut Kernel,
    inv: Invocation,
    thread: TcbRef,
    #[cfg_attr(not(feature = "mcs"), allow(unused_variables))] call: bool,
) -> Performed {
    thread.set_state(ThreadState::Restart);
    let done = |r: Result<(), crate::error::Preempted>| match r {
        Ok(()) => Performed::Done,
        Err(_) => Performed::Preempted,
    };
    match inv {
        #[cfg(not(feature = "mcs"))]
        Invocation::CNode(i) => done(invoke_cnode(k, i, thread.slot(tcb_slot::CALLER))),
        #[cfg(feature = "mcs")]
        Invocation::CNode(i) => done(invoke_cnode(k, i)),
        #[cfg(feature = "mcs")]
        Invocation::SchedContext(i) => {
            crate::object::sched_context::invoke_sched_context(k, i, thread, call);
            replied_or_done(thread)
        }
        #[cfg(feature = "mcs")]
        Invocation::SchedControl(i) => {
            crate::object::sched_control::invoke_sched_control(k, i);
            replied_or_done(thread)
        }
        Invocation::Untyped(i) => done(invoke_untyped_retype(k, i)),
        Invocation::Domain(i) => {
            invoke_domain(k, i);
            replied_or_done(thread)
        }
        Invocation::IrqControl(i) => {
            invoke_irq_control(k, i);
            replied_or_done(thread)
        }
        Invocation::IrqHandler(i) => {
            invoke_irq_handler(k, i);
            replied_or_done(thread)
        }
        Invocation::Endpoint {
            ep,
            badge,
            can_grant,
            can_grant_reply,
            block,
            call,
            #[cfg(feature = "mcs")]
            can_donate,
        } => {
            send_ipc(
                k,
                block,
                call,
                badge,
                can_grant,
                can_grant_reply,
                #[cfg(feature = "mcs")]
                can_donate,
                thread,
                ep,
            );
            Performed::Done
        }
        Invocation::Notification { ntfn, badge } => {
            send_signal(k, ntfn, badge);
            Performed::Done
        }
        #[cfg(not(feature = "mcs"))]
        Invocation::Reply {
            caller,
            slot,
            can_grant,
        } => {
            crate::ipc::do_reply_transfer(k, thread, caller, slot, can_grant);
            Performed::Done
        }
        #[cfg(feature = "mcs")]
        Invocation::Reply { reply, can_grant } => {
            crate::ipc::do_reply_transfer(k, thread, reply, can_grant);
            Performed::Done
        }
    }
}

/// After an invocation that follows the decode contract: `Done` if the thread is still in
/// `Restart` (it gets the empty reply), otherwise it replied itself or blocked.
fn replied_or_done(t: TcbRef) -> Performed {
    if t.state() == ThreadState::Restart {
        Performed::Done
    } else {
        Performed::Replied
    }
}

/// `replyFromKernel_error`: badge 0, label = error code, the error's MRs.
fn reply_error(t: TcbRef, e: SyscallError) {
    let buffer = ipc_buffer_pptr(t, true);
    let (mrs, n) = e.mrs();
    let mut len = 0;
    for (i, &w) in mrs.iter().enumerate().take(n) {
        if set_mr(t, buffer, i, w) {
            len = i + 1;
        }
    }
    t.set_reg(regs::BADGE, 0);
    t.set_reg(
        regs::MSG_INFO,
        MessageInfo::new(e.code() as u64, 0, 0, len as u64).0,
    );
}

/// MCS: whether `cap` may be invoked in the send phase of `seL4_ReplyRecv`,
/// `seL4_NBSendRecv` or `seL4_NBSendWait` (seL4 `decodeInvocation`: not thread, CNode,
/// domain, SchedContext or SchedControl caps).
#[cfg(feature = "mcs")]
fn may_invoke_in_first_phase(cap: Cap) -> bool {
    !matches!(
        cap,
        Cap::Thread { .. }
            | Cap::CNode { .. }
            | Cap::Domain
            | Cap::SchedContext { .. }
            | Cap::SchedControl { .. }
    )
}

/// The word seL4's first-phase error names a cap kind by.
#[cfg(feature = "mcs")]
#[cfg_attr(not(feature = "debug_build"), allow(dead_code))]
fn cap_kind(cap: Cap) -> &'static str {
    match cap {
        Cap::Thread { .. } => "thread",
        Cap::CNode { .. } => "cnode",
        Cap::Domain => "domain",
        Cap::SchedContext { .. } => "sched context",
        _ => "sched control",
    }
}
