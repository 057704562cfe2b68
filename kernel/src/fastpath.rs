//! The IPC fastpath (seL4 `src/fastpath/fastpath.c`): `seL4_Call` to a waiting server and
//! `seL4_ReplyRecv` back to a waiting client, in one straight path.
//!
//! Each function checks that the common case holds (message in registers, no caps, a partner
//! waiting, no scheduling decision to make, same domain, the partner's address space cached)
//! and otherwise returns `None` without having changed anything, so that the full path runs.
//! When it does the work, the resulting state is exactly what the full path would have
//! produced; the whole test suite runs with the fastpath on and off to hold it to that.
//!
//! On the machine the trap entry calls [`call`] and [`reply_recv`] straight after saving the
//! registers, with the caller's live `a0` and `a1` as arguments ([`FastArgs`]) (see
//! `arch::riscv64::machine::trap`). Both are written to need no stack frame: no calls, and few
//! enough live values for the caller-saved registers. They rely on invariants the rest of the
//! kernel keeps (each checked by a `debug_assert!` in the host tests): a receive queue is
//! never empty, its head has no predecessor, a running thread's master reply cap has can
//! grant set.
//!
//! MCS (`CONFIG_KERNEL_MCS`): the reply goes through Reply objects, not reply caps. `Call`
//! needs a *passive* server (no SchedContext) that waits with a Reply object: the caller's
//! SchedContext goes to it along the call stack (`reply_push`). `ReplyRecv` answers through
//! the Reply cap in `a6` ([`FastArgs::reply`]), which must be at the head of the call stack
//! of the replier's SchedContext: the SchedContext goes back to the caller (`reply_pop`) and
//! the replier waits again with the same Reply object. As in seL4, neither does any time
//! accounting: no `updateTimestamp`, no budget check (the time is charged at the next kernel
//! entry to the same SchedContext, which stays `ksCurSC`), no `schedule`.
#![forbid(unsafe_code)]

use crate::arch::regs;
use crate::cap::{ep_right, tag, EP_RIGHTS_SHIFT};
#[cfg(not(feature = "mcs"))]
use crate::cap::{RawCap, REPLY_CAN_GRANT_BIT, REPLY_MASTER_BIT};
use crate::cspace::lookup_one_level;
#[cfg(not(feature = "mcs"))]
use crate::cte::{mdb_insert_leaf, mdb_next_word, mdb_unlink_leaf};
use crate::mem::EitherLink;
#[cfg(feature = "mcs")]
use crate::mem::Link;
#[cfg(not(feature = "mcs"))]
use crate::object::endpoint::flags;
use crate::object::endpoint::{EpRef, EpState};
use crate::object::notification::NtfnRef;
#[cfg(feature = "mcs")]
use crate::object::reply::{CallStack, ReplyRef};
#[cfg(feature = "mcs")]
use crate::object::sched_context::ScRef;
use crate::object::tcb::{tcb_slot, TcbRef, ThreadState};
use crate::state::Kernel;
use abi::config::NUM_DOMAINS;
use abi::message::FAST_MESSAGE_REGISTERS;

/// The caller's registers the fastpath reads, as they are at the `ecall`: `a0` (the CPtr) and
/// `a1` (the message info). The message registers are read from the saved context, and only
/// as many as the message has.
#[derive(Clone, Copy, Debug)]
pub struct FastArgs {
    /// `a0`: the endpoint CPtr.
    pub cptr: u64,
    /// `a1`: the `seL4_MessageInfo_t` word.
    pub info: u64,
    /// MCS, `seL4_ReplyRecv` only: `a6`, the CPtr of the Reply cap.
    #[cfg(feature = "mcs")]
    pub reply: u64,
}

impl FastArgs {
    /// The arguments as saved in `t`'s context (host tests).
    pub fn saved(t: TcbRef) -> FastArgs {
        FastArgs {
            cptr: t.reg(regs::CAP),
            info: t.reg(regs::MSG_INFO),
            #[cfg(feature = "mcs")]
            reply: t.reg(regs::REPLY),
        }
    }
}

/// Bits 0..8 of the message info: length (7 bits) and extra caps (2 bits).
const INFO_LENGTH_AND_CAPS: u64 = 0x1ff;
/// Bits 9..11 of the message info: caps unwrapped.
const INFO_UNWRAPPED: u64 = 0xe00;

/// `fastpath_mi_check`: at most 4 words and no extra caps, in one comparison.
#[inline(always)]
fn simple_message(info: u64) -> bool {
    info & INFO_LENGTH_AND_CAPS <= FAST_MESSAGE_REGISTERS as u64
}

/// Whether the scheduler would switch straight to `to` after `from` blocks: at least `from`'s
/// priority and (with more than one domain) the current domain. (seL4 also takes the
/// fastpath when `to` is the highest ready priority; here that case takes the full path,
/// which reaches the same state.)
#[cfg(not(feature = "mcs"))]
#[inline(always)]
fn can_switch_to(k: &Kernel, from: TcbRef, to: TcbRef) -> bool {
    let (tp, td) = to.with(|x| (x.priority, x.domain));
    (NUM_DOMAINS == 1 || td == k.cur_domain) && tp >= from.with(|x| x.priority)
}

/// MCS: whether the scheduler would switch straight to `to` after `from` blocks: the current
/// domain (with more than one), and at least `from`'s priority or no ready thread above it
/// (seL4's `isHighestPrio` case too: under MCS the full path gives the CPU to the highest
/// ready thread, see `sched_context::donate`). With `from` the highest runnable thread (the
/// scheduler's invariant at every kernel entry) the first test implies the second; it is
/// the cheap one.
#[cfg(feature = "mcs")]
#[inline(always)]
fn can_switch_to(k: &Kernel, from: TcbRef, to: TcbRef) -> bool {
    let (tp, td) = to.with(|x| (x.priority, x.domain));
    let dom = if NUM_DOMAINS == 1 { 0 } else { k.cur_domain };
    (NUM_DOMAINS == 1 || td == k.cur_domain)
        && (tp >= from.with(|x| x.priority) || k.sched.none_ready_above(dom as usize, tp))
}

/// Whether `t`'s cached `satp` is current, so that the exit can switch to its address space
/// with one CSR write (see `Tcb::arch`); if not, the full path refreshes it.
#[inline(always)]
fn vm_cached(k: &Kernel, t: TcbRef) -> bool {
    t.with(|x| x.vm_gen) == k.vm_gen
}

/// Whether a fault is pending on `t` (its reply would be a fault reply).
#[inline(always)]
fn has_fault(t: TcbRef) -> bool {
    crate::ipc::Fault::is_pending(t)
}

/// The message: MR0..MR(n-1) (`n` ≤ 4, checked by `simple_message`) from `from`'s saved
/// registers to `to`'s, the badge into `to`'s `a0` and the message info into its `a1` (caps
/// unwrapped cleared; the extra caps are 0).
#[inline(always)]
fn transfer(from: TcbRef, to: TcbRef, info: u64, badge: u64) {
    let n = info & INFO_LENGTH_AND_CAPS;
    if n > 0 {
        to.set_reg(regs::MSG[0], from.reg(regs::MSG[0]));
        if n > 1 {
            to.set_reg(regs::MSG[1], from.reg(regs::MSG[1]));
            if n > 2 {
                to.set_reg(regs::MSG[2], from.reg(regs::MSG[2]));
                if n > 3 {
                    to.set_reg(regs::MSG[3], from.reg(regs::MSG[3]));
                }
            }
        }
    }
    to.set_reg(regs::BADGE, badge);
    to.set_reg(regs::MSG_INFO, info & !INFO_UNWRAPPED);
}

/// The caller's pc moves past the syscall instruction, whose own pc is its `FaultIP`.
#[inline(always)]
fn advance_pc(t: TcbRef) {
    t.with(|x| {
        let pc = x.context.regs[regs::NEXT_IP];
        x.fault_ip = pc;
        x.context.regs[regs::NEXT_IP] = pc + regs::SYSCALL_INSTRUCTION_BYTES;
    });
}

/// Runs the fastpath for the current thread's `ecall` if it is a `seL4_Call` or
/// `seL4_ReplyRecv` in the common case: the thread to run next, or `None` (nothing changed).
/// Reads the arguments from the saved context; the machine's trap entry calls [`call`] and
/// [`reply_recv`] directly instead.
#[inline(always)]
pub fn try_fastpath(k: &mut Kernel) -> Option<TcbRef> {
    use abi::Syscall;
    #[cfg(any(test, feature = "fuzzing"))]
    if k.fastpath_off {
        return None;
    }
    let cur = k.cur_thread;
    let n = cur.reg(regs::SYSCALL_NUMBER);
    let r = if n == Syscall::Call as i64 as u64 {
        call(k, FastArgs::saved(cur))
    } else if n == Syscall::ReplyRecv as i64 as u64 {
        reply_recv(k, FastArgs::saved(cur))
    } else {
        None
    };
    #[cfg(any(test, feature = "fuzzing"))]
    {
        k.fastpath_hits += r.is_some() as u64;
    }
    r
}

/// Whether `t` may have its thread state's Reply object changed: not queued (seL4 asserts
/// this in `thread_state_ptr_set_replyObject_np`).
#[cfg(feature = "mcs")]
#[inline(always)]
fn unqueued(t: TcbRef) -> bool {
    t.with(|x| x.queued == 0 && x.in_release_queue == 0)
}

/// Word 0 of an endpoint cap shifted right by [`EP_RIGHTS_SHIFT`]: the type tag in bits 8..4,
/// the rights ([`ep_right`]) in bits 3..0.
const EP_TAG_BITS: u64 = 0x1f0;

/// Word 0 of a master reply cap shifted right by 44: the type tag in bits 19..15, can grant
/// (always set for the master) in bit 1, master in bit 0.
#[cfg(not(feature = "mcs"))]
const MASTER_REPLY_TOP: u64 = tag::REPLY << 15 | 3;
#[cfg(not(feature = "mcs"))]
const _: () = assert!(REPLY_MASTER_BIT == 1 << 44 && REPLY_CAN_GRANT_BIT == 1 << 45);

/// `fastpath_call`: the current thread calls the endpoint `a.cptr` with the message in
/// registers. Returns the server it switched to, or `None` (nothing changed). The caller's
/// registers are saved, its pc still at the `ecall`.
#[cfg(not(feature = "mcs"))]
#[inline(always)]
pub fn call(k: &mut Kernel, a: FastArgs) -> Option<TcbRef> {
    let cur = k.cur_thread;
    if !simple_message(a.info) {
        return None;
    }
    let cap = lookup_one_level(cur.slot(tcb_slot::CTABLE).raw(), a.cptr)?;
    // An endpoint cap with Send, and Grant or GrantReply (without either the caller would
    // not wait for a reply: full path).
    let tr = cap.w0() >> EP_RIGHTS_SHIFT;
    if tr & (EP_TAG_BITS | ep_right::SEND) != (tag::ENDPOINT << 4 | ep_right::SEND)
        || tr & (ep_right::GRANT | ep_right::GRANT_REPLY) == 0
    {
        return None;
    }
    let ep = EpRef(cap.object()?);
    // Receivers waiting: the state bits are Recv, and the rest is the (non-null) head.
    let dest = ep.head_state().get_if_tag(EpState::Recv as u64)?;
    let caller_slot = dest.slot(tcb_slot::CALLER);
    let reply_slot = cur.slot(tcb_slot::REPLY);
    let reply_master = reply_slot.raw();
    let reply_w0 = reply_master.w0();
    let reply_next = mdb_next_word(reply_slot);
    // The server's caller slot is empty; the caller has its master reply cap, with no child.
    if caller_slot.raw().w0() != 0 || reply_w0 >> 44 != MASTER_REPLY_TOP || reply_next & !3 != 0 {
        return None;
    }
    if !can_switch_to(k, cur, dest) || has_fault(cur) || !vm_cached(k, dest) {
        return None;
    }

    // The common case: no more checks, only work.
    advance_pc(cur);
    ep.dequeue_recv_head(dest);
    let can_grant = dest.with(|x| x.blocking_flags & flags::CAN_GRANT);
    cur.set_state(ThreadState::BlockedOnReply);
    // The reply cap: the master's word 0 without the master bit, can grant from the server.
    let reply_cap = reply_master
        .with_bits(
            REPLY_MASTER_BIT | REPLY_CAN_GRANT_BIT,
            can_grant * REPLY_CAN_GRANT_BIT,
        )
        .with_w1(0);
    debug_assert_eq!(reply_cap, RawCap::reply(cur, false, can_grant != 0));
    mdb_insert_leaf(reply_cap, reply_slot, reply_next, caller_slot);
    transfer(cur, dest, a.info, cap.w1());
    dest.set_state(ThreadState::Running);
    #[cfg(feature = "track_utilisation")]
    crate::benchmark::switch(k, cur, dest);
    k.cur_thread = dest;
    Some(dest)
}

/// `fastpath_reply_recv`: the current thread replies to its caller and waits on the endpoint
/// `a.cptr`. Returns the caller it switched to, or `None` (nothing changed).
#[cfg(not(feature = "mcs"))]
#[inline(always)]
pub fn reply_recv(k: &mut Kernel, a: FastArgs) -> Option<TcbRef> {
    let cur = k.cur_thread;
    // A fault left on the replier (a faulted sender restarted by `cancelAllIPC`, say) makes
    // the reply a fault message (`doIPCTransfer`): full path.
    if !simple_message(a.info) || has_fault(cur) {
        return None;
    }
    let cap = lookup_one_level(cur.slot(tcb_slot::CTABLE).raw(), a.cptr)?;
    let tr = cap.w0() >> EP_RIGHTS_SHIFT;
    if tr & (EP_TAG_BITS | ep_right::RECEIVE) != (tag::ENDPOINT << 4 | ep_right::RECEIVE) {
        return None;
    }
    let ep = EpRef(cap.object()?);
    if ep.head_state().tag() == EpState::Send as u64 {
        return None;
    }
    if let Some(bound) = cur.with(|x| x.bound_notification.get()) {
        if NtfnRef(bound).is_active() {
            return None;
        }
    }
    // A reply cap that is not the master (bit 1 of the shifted word, can grant, is either),
    // last in its MDB list, after its master.
    let caller_slot = cur.slot(tcb_slot::CALLER);
    let reply = caller_slot.raw();
    let m = caller_slot.mdb();
    if (reply.w0() >> 44) | 2 != tag::REPLY << 15 | 2 || mdb_next_word(caller_slot) != 0 {
        return None;
    }
    let master = m.prev()?;
    let caller: TcbRef = reply.object()?;
    if caller.state() != ThreadState::BlockedOnReply || has_fault(caller) {
        return None;
    }
    if !can_switch_to(k, cur, caller) || !vm_cached(k, caller) {
        return None;
    }

    // The common case.
    advance_pc(cur);
    cur.with(|x| {
        x.blocking_object = EitherLink::to_a(ep.0);
        x.blocking_flags = (tr & ep_right::GRANT != 0) as u64 * flags::CAN_GRANT;
    });
    cur.set_state(ThreadState::BlockedOnReceive);
    ep.append_recv(cur);
    mdb_unlink_leaf(caller_slot, master);
    transfer(cur, caller, a.info, 0);
    caller.set_state(ThreadState::Running);
    #[cfg(feature = "track_utilisation")]
    crate::benchmark::switch(k, cur, caller);
    k.cur_thread = caller;
    Some(caller)
}

/// MCS `fastpath_call`: the current thread calls the endpoint `a.cptr` with the message in
/// registers; the server waiting there is passive and gets the caller's SchedContext along the
/// call stack. Returns the server it switched to, or `None` (nothing changed).
///
/// seL4's conditions: a short message without caps, no fault pending on the caller, an
/// endpoint cap with Send and Grant or GrantReply, a receiver waiting, which can run now
/// (priority, domain), has no SchedContext and waits with a Reply object. The caller's
/// SchedContext and budget are not looked at (a running thread has one; its budget was
/// checked when it entered the kernel last).
#[cfg(feature = "mcs")]
#[inline(always)]
pub fn call(k: &mut Kernel, a: FastArgs) -> Option<TcbRef> {
    let cur = k.cur_thread;
    if !simple_message(a.info) || has_fault(cur) {
        return None;
    }
    let cap = lookup_one_level(cur.slot(tcb_slot::CTABLE).raw(), a.cptr)?;
    let tr = cap.w0() >> EP_RIGHTS_SHIFT;
    if tr & (EP_TAG_BITS | ep_right::SEND) != (tag::ENDPOINT << 4 | ep_right::SEND)
        || tr & (ep_right::GRANT | ep_right::GRANT_REPLY) == 0
    {
        return None;
    }
    let ep = EpRef(cap.object()?);
    let dest = ep.head_state().get_if_tag(EpState::Recv as u64)?;
    if !can_switch_to(k, cur, dest) || !vm_cached(k, dest) {
        return None;
    }
    // A passive server, waiting with a Reply object.
    let (dest_sc, reply) = dest.with(|x| (x.sched_context, x.reply_object));
    if dest_sc.is_some() {
        return None;
    }
    let reply = reply.get()?;

    // The common case: no more checks, only work.
    debug_assert!(unqueued(cur) && unqueued(dest));
    debug_assert!(reply.get().prev.is_none() && reply.get().next.is_none());
    advance_pc(cur);
    ep.dequeue_recv_head(dest);
    // `reply_unlink(reply, dest)` and `reply_push(cur, dest, reply, true)`: the caller waits
    // on the Reply object; its SchedContext goes to the server, on top of the call stack.
    // The caller runs on it, so it is the current one (`schedule` made it so when the caller
    // was switched to, and the fastpaths keep it so).
    dest.with(|x| x.reply_object = Link::NONE);
    let sc: ScRef = k.cur_sc;
    cur.with(|x| {
        x.state = ThreadState::BlockedOnReply as u64;
        x.reply_object = Link::to(reply);
        debug_assert!(x.sched_context.is(sc) && !sc.is_null());
        x.sched_context = Link::NONE;
    });
    let old_caller = sc.with(|s| {
        s.tcb = Link::to(dest);
        core::mem::replace(&mut s.reply, Link::to(reply))
    });
    if let Some(old) = old_caller.get() {
        old.with(|r| r.next = CallStack::to_a(reply));
    }
    reply.with(|r| {
        r.tcb = Link::to(cur);
        r.prev = old_caller;
        r.next = CallStack::to_b(sc);
    });
    dest.with(|x| x.sched_context = Link::to(sc));
    transfer(cur, dest, a.info, cap.w1());
    dest.set_state(ThreadState::Running);
    #[cfg(feature = "track_utilisation")]
    crate::benchmark::switch(k, cur, dest);
    k.cur_thread = dest;
    Some(dest)
}

/// MCS `fastpath_reply_recv`: the current thread replies through the Reply cap `a.reply` and
/// waits on the endpoint `a.cptr` with the same Reply object; the SchedContext goes back to
/// the caller. Returns the caller it switched to, or `None` (nothing changed).
///
/// seL4's conditions: a short message without caps, no fault pending on the replier, an
/// endpoint cap with Receive, a Reply cap, no active bound notification, no sender waiting
/// on the endpoint, a caller on the Reply object, which is at the head of the call stack of
/// the replier's SchedContext; the caller has no fault pending, can run now (priority,
/// domain) and has no SchedContext. Whether the returned SchedContext has budget is not
/// checked (it is the current one, checked when the replier entered the kernel).
#[cfg(feature = "mcs")]
#[inline(always)]
pub fn reply_recv(k: &mut Kernel, a: FastArgs) -> Option<TcbRef> {
    let cur = k.cur_thread;
    if !simple_message(a.info) || has_fault(cur) {
        return None;
    }
    let root = cur.slot(tcb_slot::CTABLE).raw();
    let cap = lookup_one_level(root, a.cptr)?;
    let tr = cap.w0() >> EP_RIGHTS_SHIFT;
    if tr & (EP_TAG_BITS | ep_right::RECEIVE) != (tag::ENDPOINT << 4 | ep_right::RECEIVE) {
        return None;
    }
    let reply_cap = lookup_one_level(root, a.reply)?;
    if reply_cap.tag() != tag::REPLY {
        return None;
    }
    if let Some(n) = cur.with(|x| x.bound_notification).get() {
        if NtfnRef(n).is_active() {
            return None;
        }
    }
    let ep = EpRef(cap.object()?);
    if ep.head_state().tag() == EpState::Send as u64 {
        return None;
    }
    // The Reply object links a caller and sits at the head of the call stack of the
    // replier's SchedContext.
    let reply: ReplyRef = reply_cap.object()?;
    let r = reply.get();
    let caller = r.tcb.get()?;
    let sc = r.next.b_if(cur.with(|x| x.sched_context))?;
    debug_assert_eq!(caller.state(), ThreadState::BlockedOnReply);
    if has_fault(caller) || !can_switch_to(k, cur, caller) || !vm_cached(k, caller) {
        return None;
    }
    if caller.with(|x| x.sched_context).is_some() {
        return None;
    }
    // The receive queue keeps priority order (`tcbAppend`): empty, or the replier goes last
    // (seL4 also takes the fastpath when it goes elsewhere; here that takes the full path).
    if let Some(tail) = ep.0.with(|e| e.tail).get() {
        if tail.with(|x| x.priority) < cur.with(|x| x.priority) {
            return None;
        }
    }

    // The common case.
    debug_assert!(unqueued(cur) && unqueued(caller));
    debug_assert!(sc == k.cur_sc);
    advance_pc(cur);
    cur.with(|x| {
        x.blocking_object = EitherLink::to_a(ep.0);
        x.state = ThreadState::BlockedOnReceive as u64;
        x.reply_object = Link::to(reply);
        x.sched_context = Link::NONE;
    });
    caller.with(|x| {
        x.reply_object = Link::NONE;
        x.sched_context = Link::to(sc);
    });
    reply.with(|x| {
        x.tcb = Link::to(cur);
        x.prev = Link::NONE;
        x.next = CallStack::NONE;
    });
    ep.append_recv(cur);
    // `reply_pop`: the SchedContext goes back to the caller, the call stack shrinks by one.
    sc.with(|s| {
        s.tcb = Link::to(caller);
        s.reply = r.prev;
    });
    if let Some(prev) = r.prev.get() {
        prev.with(|p| p.next = r.next);
    }
    transfer(cur, caller, a.info, 0);
    caller.set_state(ThreadState::Running);
    #[cfg(feature = "track_utilisation")]
    crate::benchmark::switch(k, cur, caller);
    k.cur_thread = caller;
    Some(caller)
}
