//! Message transfer between threads (seL4 `src/kernel/thread.c` `doIPCTransfer` and friends,
//! `src/api/faults.c`): message registers, capability transfer, fault messages, reply caps and
//! IPC cancellation.
#![forbid(unsafe_code)]

use crate::arch::regs;
use crate::cap::Cap;
use crate::cspace::{lookup_cap_and_slot, LookupFault};
use crate::cte::{cte_insert, Slot};
use crate::mem::IpcBuffer;
#[cfg(not(feature = "mcs"))]
use crate::object::cnode::cte_delete_one;
use crate::object::cnode::lookup_target_slot;
use crate::object::endpoint::EpRef;
use crate::object::objecttype::derive_cap;
use crate::object::tcb::{tcb_slot, TcbRef, ThreadState};
use crate::sched::{possible_switch_to, set_thread_state};
use crate::state::{get_mr, ipc_buffer_pptr, set_mr, Kernel};
use abi::ipc_buffer::offset;
use abi::message::{FAST_MESSAGE_REGISTERS, MSG_MAX_EXTRA_CAPS, MSG_MAX_LENGTH};
use abi::MessageInfo;

/// A fault a thread takes (seL4 `seL4_Fault_t`), kept in its TCB while it is handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A cap lookup for `cptr` failed (`in_receive`: during the receive phase).
    Cap {
        cptr: u64,
        in_receive: bool,
        fault: LookupFault,
    },
    /// An unknown syscall number.
    UnknownSyscall { number: u64 },
    /// A user exception: `scause` and `code` (0).
    UserException { number: u64, code: u64 },
    /// A virtual memory fault at `addr`; `fsr` is the access-fault cause (1 instruction,
    /// 5 load, 7 store), `prefetch` for instruction fetches.
    VmFault { addr: u64, fsr: u64, prefetch: bool },
    /// MCS: the thread's SchedContext ran out of budget (`seL4_Fault_Timeout`); `badge` is the
    /// SchedContext's badge.
    #[cfg(feature = "mcs")]
    Timeout { badge: u64 },
}

impl Fault {
    /// The fault's name as the warning of a fault without a handler shows it (builds without
    /// `debug_build`): seL4's `seL4_Fault_*` name without the prefix.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::Cap { .. } => "CapFault",
            Fault::UnknownSyscall { .. } => "UnknownSyscall",
            Fault::UserException { .. } => "UserException",
            Fault::VmFault { .. } => "VMFault",
            #[cfg(feature = "mcs")]
            Fault::Timeout { .. } => "Timeout",
        }
    }

    /// The seL4 fault label (`seL4_Fault_*`).
    pub fn label(&self) -> u64 {
        match self {
            Fault::Cap { .. } => abi::fault::CAP_FAULT,
            Fault::UnknownSyscall { .. } => abi::fault::UNKNOWN_SYSCALL,
            Fault::UserException { .. } => abi::fault::USER_EXCEPTION,
            Fault::VmFault { .. } => abi::fault::VM_FAULT,
            #[cfg(feature = "mcs")]
            Fault::Timeout { .. } => abi::fault::TIMEOUT,
        }
    }

    /// The words a TCB keeps for this fault ([`Tcb::fault`](crate::object::tcb::Tcb) and
    /// `lookup_failure`; TCB memory is plain old data): the type, which is the label (0 for
    /// none), two words of details, and the lookup failure of a cap fault. Only
    /// [`store`](Self::store), [`load`](Self::load), [`is_pending`](Self::is_pending) and
    /// [`clear`](Self::clear) touch those words.
    fn to_words(self) -> ([u64; 3], [u64; 4]) {
        let label = self.label();
        match self {
            Fault::Cap {
                cptr,
                in_receive,
                fault,
            } => ([label, cptr, in_receive as u64], fault.to_words().0),
            Fault::UnknownSyscall { number } => ([label, number, 0], [0; 4]),
            Fault::UserException { number, code } => ([label, number, code], [0; 4]),
            Fault::VmFault {
                addr,
                fsr,
                prefetch,
            } => ([label, addr, fsr | (prefetch as u64) << 32], [0; 4]),
            #[cfg(feature = "mcs")]
            Fault::Timeout { badge } => ([label, badge, 0], [0; 4]),
        }
    }

    /// The fault [`to_words`](Self::to_words) describes; `None` for type 0 (no fault).
    fn from_words(f: [u64; 3], l: [u64; 4]) -> Option<Fault> {
        Some(match f[0] {
            abi::fault::CAP_FAULT => Fault::Cap {
                cptr: f[1],
                in_receive: f[2] != 0,
                fault: LookupFault::from_words(l),
            },
            abi::fault::UNKNOWN_SYSCALL => Fault::UnknownSyscall { number: f[1] },
            abi::fault::USER_EXCEPTION => Fault::UserException {
                number: f[1],
                code: f[2],
            },
            abi::fault::VM_FAULT => Fault::VmFault {
                addr: f[1],
                fsr: f[2] & 0xffff_ffff,
                prefetch: f[2] >> 32 != 0,
            },
            #[cfg(feature = "mcs")]
            abi::fault::TIMEOUT => Fault::Timeout { badge: f[1] },
            _ => return None,
        })
    }

    /// Keeps the fault in `t`'s TCB until it is handled.
    fn store(self, t: TcbRef) {
        let (f, l) = self.to_words();
        t.with(|x| {
            x.fault = f;
            x.lookup_failure = l;
        });
    }

    /// The fault pending on `t`, if any.
    pub fn load(t: TcbRef) -> Option<Fault> {
        let (f, l) = t.with(|x| (x.fault, x.lookup_failure));
        Fault::from_words(f, l)
    }

    /// Whether a fault is pending on `t` ([`load`](Self::load) would return one), from one word.
    #[inline(always)]
    pub fn is_pending(t: TcbRef) -> bool {
        t.with(|x| x.fault[0]) != abi::fault::NULL_FAULT
    }

    /// Forgets the fault pending on `t`.
    fn clear(t: TcbRef) {
        t.with(|x| x.fault = [0; 3]);
    }
}

/// `messageInfoFromWord` of the thread's a1: its message info with the length limited to
/// `seL4_MsgMaxLength`.
pub fn message_info_of(t: TcbRef) -> MessageInfo {
    let info = MessageInfo(t.reg(regs::MSG_INFO));
    if info.length() > MSG_MAX_LENGTH as u64 {
        MessageInfo::new(
            info.label(),
            info.caps_unwrapped(),
            info.extra_caps(),
            MSG_MAX_LENGTH as u64,
        )
    } else {
        info
    }
}

/// `doIPCTransfer`: delivers `sender`'s message (or pending fault) to `receiver`, with `badge`
/// in the receiver's badge register. `ep` is the endpoint used (for cap unwrapping); `None` for
/// replies.
pub fn do_ipc_transfer(
    k: &mut Kernel,
    sender: TcbRef,
    ep: Option<EpRef>,
    badge: u64,
    grant: bool,
    receiver: TcbRef,
) {
    let recv_buf = ipc_buffer_pptr(receiver, true);
    match Fault::load(sender) {
        None => {
            let send_buf = ipc_buffer_pptr(sender, false);
            do_normal_transfer(k, sender, send_buf, ep, badge, grant, receiver, recv_buf);
        }
        Some(f) => do_fault_transfer(k, sender, receiver, recv_buf, badge, f),
    }
}

#[allow(clippy::too_many_arguments)]
fn do_normal_transfer(
    k: &mut Kernel,
    sender: TcbRef,
    send_buf: Option<IpcBuffer>,
    ep: Option<EpRef>,
    badge: u64,
    grant: bool,
    receiver: TcbRef,
    recv_buf: Option<IpcBuffer>,
) {
    let tag = message_info_of(sender);
    let mut caps: [Option<(Cap, Slot)>; MSG_MAX_EXTRA_CAPS] = [None; MSG_MAX_EXTRA_CAPS];
    if grant {
        if let Some(b) = send_buf {
            let root = sender.slot(tcb_slot::CTABLE).raw();
            for (i, c) in caps.iter_mut().enumerate().take(tag.extra_caps() as usize) {
                let cptr = b.word(offset::CAPS_OR_BADGES + 8 * i);
                match lookup_cap_and_slot(root, cptr) {
                    Ok(r) => *c = Some(r),
                    Err(_) => {
                        // seL4: a failed extra-cap lookup sends no caps at all.
                        caps = [None; MSG_MAX_EXTRA_CAPS];
                        break;
                    }
                }
            }
        }
    }
    let n = copy_mrs(sender, send_buf, receiver, recv_buf, tag.length() as usize);
    let (extra, unwrapped) = transfer_caps(k, &caps, ep, receiver, recv_buf);
    receiver.set_reg(
        regs::MSG_INFO,
        MessageInfo::new(tag.label(), unwrapped, extra, n as u64).0,
    );
    receiver.set_reg(regs::BADGE, badge);
}

/// `copyMRs`: copies `n` message registers; returns how many arrived (registers always, the
/// rest only if both threads have IPC buffers).
pub fn copy_mrs(
    sender: TcbRef,
    send_buf: Option<IpcBuffer>,
    receiver: TcbRef,
    recv_buf: Option<IpcBuffer>,
    n: usize,
) -> usize {
    let mut i = 0;
    while i < n && i < FAST_MESSAGE_REGISTERS {
        receiver.set_reg(regs::msg(i), sender.reg(regs::msg(i)));
        i += 1;
    }
    if let (Some(s), Some(r)) = (send_buf, recv_buf) {
        while i < n && i < MSG_MAX_LENGTH {
            r.set_word(offset::MSG + 8 * i, s.word(offset::MSG + 8 * i));
            i += 1;
        }
    }
    i
}

/// `getReceiveSlots`: the empty slot named by the receiver's IPC buffer, if any.
fn get_receive_slot(receiver: TcbRef, recv_buf: IpcBuffer) -> Option<Slot> {
    let cnode_cptr = recv_buf.word(offset::RECEIVE_CNODE);
    let index = recv_buf.word(offset::RECEIVE_INDEX);
    let depth = recv_buf.word(offset::RECEIVE_DEPTH);
    let root = receiver.slot(tcb_slot::CTABLE).raw();
    let (cnode, _) = lookup_cap_and_slot(root, cnode_cptr).ok()?;
    let slot = lookup_target_slot(cnode, index, depth).ok()?;
    slot.is_empty().then_some(slot)
}

/// `transferCaps`: moves the extra caps: a cap to the endpoint the message came through is
/// unwrapped to its badge; the first other cap is copied into the receive slot. Returns the
/// number of caps transferred and the unwrapped bits.
fn transfer_caps(
    _k: &mut Kernel,
    caps: &[Option<(Cap, Slot)>; MSG_MAX_EXTRA_CAPS],
    ep: Option<EpRef>,
    receiver: TcbRef,
    recv_buf: Option<IpcBuffer>,
) -> (u64, u64) {
    let Some(rb) = recv_buf else { return (0, 0) };
    if caps[0].is_none() {
        return (0, 0);
    }
    let mut dest = get_receive_slot(receiver, rb);
    let mut unwrapped = 0;
    let mut i = 0;
    while i < MSG_MAX_EXTRA_CAPS {
        let Some((cap, slot)) = caps[i] else { break };
        match (cap, ep) {
            (Cap::Endpoint { ptr, badge, .. }, Some(e)) if ptr == e => {
                rb.set_word(offset::CAPS_OR_BADGES + 8 * i, badge);
                unwrapped |= 1 << i;
            }
            _ => {
                let Some(d) = dest else { break };
                match derive_cap(slot, cap) {
                    Ok(dc) if !dc.is_null() => cte_insert(dc, slot, d),
                    _ => break,
                }
                dest = None;
            }
        }
        i += 1;
    }
    (i as u64, unwrapped)
}

/// Copies the registers `layout` names (the architecture's fault message layout; `FAULT_IP` is
/// `ip`) into the first words of `w`; returns how many.
fn fault_regs(sender: TcbRef, ip: u64, layout: &[usize], w: &mut [u64]) -> usize {
    for (i, &r) in layout.iter().enumerate() {
        w[i] = if r == regs::FAULT_IP {
            ip
        } else {
            sender.reg(r)
        };
    }
    layout.len()
}

/// The longest fault message, in words, of an architecture whose unknown-syscall and
/// user-exception layouts name `syscall_regs` and `exception_regs` registers: the
/// unknown-syscall fault's (its registers and the number: seL4_UnknownSyscall_Length, 11 on
/// riscv64, 13 on aarch64), or a cap fault's (IP, CPtr, in-receive and up to 4 lookup-failure
/// words), a VM fault's (4), a user exception's (its registers, number and code).
pub(crate) const fn fault_message_words(syscall_regs: usize, exception_regs: usize) -> usize {
    let mut m = 3 + 4;
    if syscall_regs + 1 > m {
        m = syscall_regs + 1;
    }
    if exception_regs + 2 > m {
        m = exception_regs + 2;
    }
    m
}

/// [`fault_message_words`] of the architecture built.
const FAULT_MESSAGE_WORDS: usize =
    fault_message_words(regs::SYSCALL_MESSAGE.len(), regs::EXCEPTION_MESSAGE.len());

/// The words of a fault message (`setMRs_fault`) and its length.
fn fault_words(_k: &mut Kernel, sender: TcbRef, f: Fault) -> ([u64; FAULT_MESSAGE_WORDS], usize) {
    let ip = sender.with(|x| x.fault_ip);
    let mut w = [0u64; FAULT_MESSAGE_WORDS];
    let n = match f {
        Fault::Cap {
            cptr,
            in_receive,
            fault,
        } => {
            w[0] = ip;
            w[1] = cptr;
            w[2] = in_receive as u64;
            let (l, ln) = fault.to_words();
            w[3..3 + ln].copy_from_slice(&l[..ln]);
            3 + ln
        }
        Fault::UnknownSyscall { number } => {
            let n = fault_regs(sender, ip, &regs::SYSCALL_MESSAGE, &mut w);
            w[n] = number;
            n + 1
        }
        Fault::UserException { number, code } => {
            let n = fault_regs(sender, ip, &regs::EXCEPTION_MESSAGE, &mut w);
            w[n..n + 2].copy_from_slice(&[number, code]);
            n + 2
        }
        Fault::VmFault {
            addr,
            fsr,
            prefetch,
        } => {
            w[..4].copy_from_slice(&[ip, addr, prefetch as u64, fsr]);
            4
        }
        // The badge, then (if the thread still has its SchedContext) the time it consumed,
        // in µs, since it was last reported.
        #[cfg(feature = "mcs")]
        Fault::Timeout { badge } => {
            w[0] = badge;
            if let Some(sc) = sender.with(|x| x.sched_context).get() {
                w[1] = crate::object::sched_context::update_consumed(sc);
                2
            } else {
                1
            }
        }
    };
    (w, n)
}

fn do_fault_transfer(
    k: &mut Kernel,
    sender: TcbRef,
    receiver: TcbRef,
    recv_buf: Option<IpcBuffer>,
    badge: u64,
    f: Fault,
) {
    let (w, n) = fault_words(k, sender, f);
    let mut sent = 0;
    for (i, &x) in w.iter().enumerate().take(n) {
        if set_mr(receiver, recv_buf, i, x) {
            sent = i + 1;
        }
    }
    receiver.set_reg(
        regs::MSG_INFO,
        MessageInfo::new(f.label(), 0, 0, sent as u64).0,
    );
    receiver.set_reg(regs::BADGE, badge);
}

/// `doNBRecvFailedTransfer`: a non-blocking receive found nothing: badge 0.
pub fn do_nb_recv_failed_transfer(t: TcbRef) {
    t.set_reg(regs::BADGE, 0);
}

#[cfg(not(feature = "mcs"))]
/// `setupReplyMaster`: gives a thread its master reply cap if it has none.
pub fn setup_reply_master(t: TcbRef) {
    let s = t.slot(tcb_slot::REPLY);
    if s.is_empty() {
        crate::cte::insert_new_cap(
            Cap::Reply {
                tcb: t,
                master: true,
                can_grant: true,
            },
            None,
            s,
        );
    }
}

#[cfg(not(feature = "mcs"))]
/// `setupCallerCap`: the caller waits for a reply; the receiver gets a reply cap to it.
pub fn setup_caller_cap(k: &mut Kernel, sender: TcbRef, receiver: TcbRef, can_grant: bool) {
    set_thread_state(k, sender, ThreadState::BlockedOnReply);
    setup_reply_master(sender);
    let reply_slot = sender.slot(tcb_slot::REPLY);
    let caller_slot = receiver.slot(tcb_slot::CALLER);
    // seL4 asserts the caller slot is empty: Recv deletes the old caller cap first.
    if !caller_slot.is_empty() {
        cte_delete_one(k, caller_slot);
    }
    // `cteInsert` of a reply cap: not revocable (`isCapRevocable`), nothing else to update.
    crate::cte::mdb_insert_after(
        crate::cap::RawCap::reply(sender, false, can_grant),
        false,
        reply_slot,
        caller_slot,
    );
}

#[cfg(not(feature = "mcs"))]
/// `deleteCallerCap`: drops the thread's pending reply cap (before a new receive).
pub fn delete_caller_cap(k: &mut Kernel, t: TcbRef) {
    cte_delete_one(k, t.slot(tcb_slot::CALLER));
}

#[cfg(not(feature = "mcs"))]
/// `doReplyTransfer`: `sender` replies through the reply cap in `slot` to `receiver`.
pub fn do_reply_transfer(
    k: &mut Kernel,
    sender: TcbRef,
    receiver: TcbRef,
    slot: Slot,
    grant: bool,
) {
    if receiver.state() != ThreadState::BlockedOnReply {
        return;
    }
    match Fault::load(receiver) {
        None => {
            do_ipc_transfer(k, sender, None, 0, grant, receiver);
            cte_delete_one(k, slot);
            set_thread_state(k, receiver, ThreadState::Running);
            possible_switch_to(k, receiver);
        }
        Some(f) => {
            cte_delete_one(k, slot);
            let restart = handle_fault_reply(receiver, sender, f);
            Fault::clear(receiver);
            if restart {
                set_thread_state(k, receiver, ThreadState::Restart);
                possible_switch_to(k, receiver);
            } else {
                set_thread_state(k, receiver, ThreadState::Inactive);
            }
        }
    }
}

/// `handleFaultReply`: applies the handler's reply to the faulted thread; returns whether it
/// resumes. Unknown-syscall and user-exception replies with label 0 resume the thread with
/// the registers they carry; cap and VM faults always resume.
fn handle_fault_reply(receiver: TcbRef, sender: TcbRef, f: Fault) -> bool {
    let info = MessageInfo(sender.reg(regs::MSG_INFO));
    let send_buf = ipc_buffer_pptr(sender, false);
    let len = info.length() as usize;
    // `copyMRsFaultReply`: MR0..MR3 come from registers; the rest only if the replier has an
    // IPC buffer (otherwise the copy stops there).
    let n = if send_buf.is_some() {
        len
    } else {
        len.min(FAST_MESSAGE_REGISTERS)
    };
    let copy = |regs: &[usize]| {
        for (i, &r) in regs.iter().enumerate().take(n) {
            let v = get_mr(sender, send_buf, i);
            if r == regs::FAULT_IP {
                receiver.with(|x| x.fault_ip = v);
            } else {
                receiver.set_reg(r, crate::arch::sanitise_register(r, v));
            }
        }
    };
    match f {
        Fault::Cap { .. } | Fault::VmFault { .. } => true,
        Fault::UnknownSyscall { .. } => {
            copy(&regs::SYSCALL_MESSAGE);
            info.label() == 0
        }
        Fault::UserException { .. } => {
            copy(&regs::EXCEPTION_MESSAGE);
            info.label() == 0
        }
        #[cfg(feature = "mcs")]
        Fault::Timeout { .. } => {
            copy(&regs::TIMEOUT_REPLY_MESSAGE);
            info.label() == 0
        }
    }
}

/// MCS `doReplyTransfer(sender, reply, grant)`: `sender` answers through `reply` the thread
/// blocked on it (nothing happens if none is): a message, or a fault reply that resumes or
/// stops the faulted thread. The caller gets its SchedContext back (`reply_remove`); if that
/// has no budget left it raises a timeout fault or waits for its next refill.
#[cfg(feature = "mcs")]
pub fn do_reply_transfer(
    k: &mut Kernel,
    sender: TcbRef,
    reply: crate::object::reply::ReplyRef,
    grant: bool,
) {
    use crate::object::sched_context as sc;
    let Some(receiver) = reply.get().tcb.get() else {
        return;
    };
    if receiver.state() != ThreadState::BlockedOnReply {
        return;
    }
    crate::object::reply::remove(k, reply, receiver);
    sc::unblock_check_unless_current(k, receiver);
    let fault = Fault::load(receiver);
    match fault {
        None => {
            do_ipc_transfer(k, sender, None, 0, grant, receiver);
            set_thread_state(k, receiver, ThreadState::Running);
        }
        Some(f) => {
            let restart = handle_fault_reply(receiver, sender, f);
            Fault::clear(receiver);
            let s = if restart {
                ThreadState::Restart
            } else {
                ThreadState::Inactive
            };
            set_thread_state(k, receiver, s);
        }
    }
    let s = receiver.with(|x| x.sched_context).get();
    if let Some(s) = s.filter(|_| receiver.state().is_runnable()) {
        if sc::refill_ready(s, k.cur_time) && sc::refill_sufficient(s, 0) {
            possible_switch_to(k, receiver);
        } else if valid_timeout_handler(receiver) && !matches!(fault, Some(Fault::Timeout { .. })) {
            let badge = s.get().badge;
            handle_timeout(k, receiver, badge);
        } else {
            crate::sched::mcs::postpone(k, s);
        }
    }
}

/// MCS `validTimeoutHandler`: whether the thread has a timeout endpoint.
#[cfg(feature = "mcs")]
pub fn valid_timeout_handler(t: TcbRef) -> bool {
    matches!(
        t.slot(tcb_slot::TIMEOUT_HANDLER).cap(),
        Cap::Endpoint { .. }
    )
}

/// MCS `sendFaultIPC(tptr, handlerCap, can_donate)`: sends the fault `f` of `t` to the
/// endpoint `handler` (a copy kept in the TCB); returns false if there is none.
#[cfg(feature = "mcs")]
fn send_fault_ipc(k: &mut Kernel, t: TcbRef, handler: Cap, f: Fault, can_donate: bool) -> bool {
    let Cap::Endpoint { ptr, badge, rights } = handler else {
        return false;
    };
    f.store(t);
    crate::object::endpoint::send_ipc(
        k,
        true,
        false,
        badge,
        rights.grant,
        rights.grant_reply,
        can_donate,
        t,
        ptr,
    );
    true
}

/// MCS `handleFault`: sends the fault to the endpoint cap kept in the thread's fault-handler
/// slot (set by `TCB_SetSpace`/`SetSchedParams`), lending the thread's SchedContext; with
/// none, the thread becomes Inactive and the console says why (`handleNoFaultHandler`).
#[cfg(feature = "mcs")]
pub fn handle_fault(k: &mut Kernel, t: TcbRef, f: Fault) {
    let handler = t.slot(tcb_slot::FAULT_HANDLER).cap();
    let can_donate = t.with(|x| x.sched_context).is_some();
    if !send_fault_ipc(k, t, handler, f, can_donate) {
        report_no_handler(k, t, f, 0);
        set_thread_state(k, t, ThreadState::Inactive);
    }
}

/// MCS `handleTimeout`: sends a timeout fault with the SchedContext's `badge` to the
/// thread's timeout endpoint (without donating the SchedContext).
#[cfg(feature = "mcs")]
pub fn handle_timeout(k: &mut Kernel, t: TcbRef, badge: u64) {
    let handler = t.slot(tcb_slot::TIMEOUT_HANDLER).cap();
    send_fault_ipc(k, t, handler, Fault::Timeout { badge }, false);
}

/// MCS `cancelIPC`: takes a blocked thread out of the IPC it is blocked in (forgetting any
/// fault it was sending) and makes it Inactive; a receiver's Reply object is unlinked, a
/// caller's Reply leaves its call stack.
#[cfg(feature = "mcs")]
pub fn cancel_ipc(k: &mut Kernel, t: TcbRef) {
    Fault::clear(t);
    match t.state() {
        ThreadState::BlockedOnSend | ThreadState::BlockedOnReceive => {
            if let Some(ep) = t.blocked_on_ep() {
                ep.dequeue(t);
            }
            crate::object::reply::unlink_receiver(k, t);
            set_thread_state(k, t, ThreadState::Inactive);
        }
        ThreadState::BlockedOnNotification => {
            if let Some(n) = t.blocked_on_ntfn() {
                n.dequeue(t);
            }
            set_thread_state(k, t, ThreadState::Inactive);
        }
        ThreadState::BlockedOnReply => crate::object::reply::remove_tcb(k, t),
        _ => {}
    }
}

#[cfg(not(feature = "mcs"))]
/// `handleFault`: sends the fault to the thread's fault handler endpoint, or, if it has no valid
/// handler, suspends it and logs why (`handleDoubleFault`): one warning line, or in debug builds
/// seL4's report with the thread's stack (`debug::fault`).
pub fn handle_fault(k: &mut Kernel, t: TcbRef, f: Fault) {
    let root = t.slot(tcb_slot::CTABLE).raw();
    let handler_cptr = t.with(|x| x.fault_handler);
    let handler = lookup_cap_and_slot(root, handler_cptr).map(|(c, _)| c);
    match handler {
        Ok(Cap::Endpoint { ptr, badge, rights })
            if rights.send && (rights.grant || rights.grant_reply) =>
        {
            f.store(t);
            crate::object::endpoint::send_ipc(k, true, true, badge, rights.grant, true, t, ptr);
        }
        _ => {
            if crate::log::PRINTING {
                report_no_handler(k, t, f, handler_cptr);
            }
            set_thread_state(k, t, ThreadState::Inactive);
        }
    }
}

/// The console report of a fault `f` of `t` that found no valid handler at `handler_cptr`:
/// seL4's `handleDoubleFault` report with the thread's stack (`debug::fault`).
#[cfg(feature = "debug_build")]
fn report_no_handler(k: &Kernel, t: TcbRef, f: Fault, handler_cptr: u64) {
    crate::debug::fault::report_no_handler(k, t, f, handler_cptr);
}

/// The console report of a fault `f` of `t` that found no valid handler at `handler_cptr`:
/// one warning line (builds without `debug_build`).
#[cfg(not(feature = "debug_build"))]
#[cold]
#[inline(never)]
fn report_no_handler(_k: &Kernel, t: TcbRef, f: Fault, handler_cptr: u64) {
    use crate::log::Out::*;
    let ([_, a, b], _) = f.to_words();
    let pc = t.with(|x| x.fault_ip);
    crate::object::tcb::with_thread_name(t, |name| {
        crate::log::line(
            crate::log::Level::Warn,
            &[
                Str("fault "),
                Str(f.name()),
                Str(" ("),
                Hex(a),
                Str(", "),
                Hex(b),
                Str(") from thread \""),
                Bytes(name),
                Str("\" at pc "),
                Hex(pc),
                Str("; no valid fault handler (cptr "),
                Hex(handler_cptr),
                Str("): suspending it"),
            ],
        )
    });
}

#[cfg(not(feature = "mcs"))]
/// `cancelIPC`: takes a blocked thread out of whatever IPC it is blocked in and makes it
/// inactive.
pub fn cancel_ipc(k: &mut Kernel, t: TcbRef) {
    match t.state() {
        ThreadState::BlockedOnSend | ThreadState::BlockedOnReceive => {
            if let Some(ep) = t.blocked_on_ep() {
                ep.dequeue(t);
            }
            set_thread_state(k, t, ThreadState::Inactive);
        }
        ThreadState::BlockedOnNotification => {
            if let Some(n) = t.blocked_on_ntfn() {
                n.dequeue(t);
            }
            set_thread_state(k, t, ThreadState::Inactive);
        }
        ThreadState::BlockedOnReply => {
            Fault::clear(t);
            // The reply cap to this thread lives right after its master reply cap in the MDB.
            if let Some(next) = t.slot(tcb_slot::REPLY).mdb().next() {
                if matches!(next.cap(), Cap::Reply { tcb, master: false, .. } if tcb == t) {
                    cte_delete_one(k, next);
                }
            }
            set_thread_state(k, t, ThreadState::Inactive);
        }
        _ => {}
    }
}

#[cfg(test)]
mod fault_tests {
    use super::{Fault, LookupFault};
    use proptest::prelude::*;

    fn lookup_fault() -> impl Strategy<Value = LookupFault> {
        prop_oneof![
            Just(LookupFault::InvalidRoot),
            any::<u64>().prop_map(|bits_left| LookupFault::MissingCapability { bits_left }),
            (any::<u64>(), any::<u64>()).prop_map(|(bits_left, bits_found)| {
                LookupFault::DepthMismatch {
                    bits_left,
                    bits_found,
                }
            }),
            (any::<u64>(), any::<u64>(), any::<u64>()).prop_map(
                |(bits_left, guard_found, guard_size)| LookupFault::GuardMismatch {
                    bits_left,
                    guard_found,
                    guard_size,
                }
            ),
        ]
    }

    /// Every fault a thread can take; a VM fault's `fsr` is an access-fault cause, which fits
    /// in 32 bits.
    fn fault() -> impl Strategy<Value = Fault> {
        prop_oneof![
            (any::<u64>(), any::<bool>(), lookup_fault()).prop_map(|(cptr, in_receive, fault)| {
                Fault::Cap {
                    cptr,
                    in_receive,
                    fault,
                }
            }),
            any::<u64>().prop_map(|number| Fault::UnknownSyscall { number }),
            (any::<u64>(), any::<u64>())
                .prop_map(|(number, code)| Fault::UserException { number, code }),
            (any::<u64>(), any::<u32>(), any::<bool>()).prop_map(|(addr, fsr, prefetch)| {
                Fault::VmFault {
                    addr,
                    fsr: fsr as u64,
                    prefetch,
                }
            }),
        ]
    }

    proptest! {
        #[test]
        fn fault_words_read_back_as_the_fault(f in fault()) {
            let (w, l) = f.to_words();
            prop_assert_ne!(w[0], 0, "a fault's type is not 0 (no fault)");
            prop_assert_eq!(Fault::from_words(w, l), Some(f));
        }
    }

    /// Through a TCB: every fault stored loads back, is pending until cleared, and a cleared
    /// TCB has none.
    #[test]
    fn a_stored_fault_loads_back_until_cleared() {
        let s = crate::testing::System::boot();
        let t = s.root;
        assert_eq!(Fault::load(t), None);
        assert!(!Fault::is_pending(t));
        proptest::test_runner::TestRunner::default()
            .run(&fault(), |f| {
                f.store(t);
                prop_assert!(Fault::is_pending(t));
                prop_assert_eq!(Fault::load(t), Some(f));
                Fault::clear(t);
                prop_assert!(!Fault::is_pending(t));
                prop_assert_eq!(Fault::load(t), None);
                Ok(())
            })
            .unwrap();
    }
}
