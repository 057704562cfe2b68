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
//! the Reply cap in `a6` (`FastArgs::reply`), which must be at the head of the call stack
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
#[cfg(not(feature = "mcs"))]
use crate::object::tcb::Tcb;
use crate::object::tcb::{tcb_slot, TcbRef, ThreadState};
use crate::state::Kernel;
use abi::config::NUM_DOMAINS;
use abi::message::FAST_MESSAGE_REGISTERS;

/// The caller's registers the fastpath reads, as they are at the `ecall`: `a0` (the CPtr),
/// `a1` (the message info), the pc of the `ecall` (MCS: and `a6`). The message registers are
/// read from the saved context, and only as many as the message has.
#[derive(Clone, Copy, Debug)]
pub struct FastArgs {
    /// The current thread (`k.cur_thread`; the machine's trap entry knows it from the
    /// context it saved, `arch::trapped_thread`).
    pub cur: TcbRef,
    /// `a0`: the endpoint CPtr.
    pub cptr: u64,
    /// `a1`: the `seL4_MessageInfo_t` word.
    pub info: u64,
    /// The pc of the `ecall` (what the context holds at `regs::NEXT_IP`).
    pub pc: u64,
    /// MCS, `seL4_ReplyRecv` only: `a6`, the CPtr of the Reply cap.
    #[cfg(feature = "mcs")]
    pub reply: u64,
}

impl FastArgs {
    /// The arguments as saved in `t`'s context (host tests).
    pub fn saved(t: TcbRef) -> FastArgs {
        FastArgs {
            cur: t,
            cptr: t.reg(regs::CAP),
            info: t.reg(regs::MSG_INFO),
            pc: t.reg(regs::NEXT_IP),
            #[cfg(feature = "mcs")]
            reply: t.reg(regs::REPLY),
        }
    }
}

/// What a fastpath that applied leaves to the exit: the thread it switched to (now current)
/// and that thread's `a0` (the badge) and `a1` (the message info). Those two are not written
/// into its saved context: the machine's exit puts them straight into the registers (nothing
/// reads the context of the running thread before its next trap saves it again); the host
/// tests write them with [`Switched::write_regs`].
#[derive(Clone, Copy, Debug)]
#[must_use]
pub struct Switched {
    /// The thread to run.
    pub to: TcbRef,
    /// Its `a0`.
    pub badge: u64,
    /// Its `a1`.
    pub info: u64,
}

impl Switched {
    /// Writes `a0` and `a1` into the context of the thread switched to.
    pub fn write_regs(self) {
        self.to.set_reg(regs::BADGE, self.badge);
        self.to.set_reg(regs::MSG_INFO, self.info);
    }
}

/// The bit of an endpoint's state that only [`EpState::Send`] has (one `andi` to test it).
const SEND_STATE_BIT: u64 = 1;
const _: () = assert!(
    EpState::Send as u64 & SEND_STATE_BIT != 0
        && EpState::Recv as u64 & SEND_STATE_BIT == 0
        && EpState::Idle as u64 & SEND_STATE_BIT == 0
);

/// Bits 0..11 of the message info: length (7 bits), extra caps (2 bits) and caps unwrapped
/// (3 bits).
const INFO_LOW: u64 = 0xfff;

/// Bits 0..11 of the message info shifted to the top: below this iff at most 4 words
/// (`INFO_LOW` ≤ `FAST_MESSAGE_REGISTERS`). Kept in `Kernel::fastpath_info_bound`.
pub const INFO_BOUND: u64 = crate::state::FASTPATH_INFO_BOUND;

/// `fastpath_mi_check`: at most 4 words and no extra caps, in one comparison. Also no caps
/// unwrapped bits (which the kernel clears: the full path does it), so that the message info
/// goes to the receiver as it is. Where the architecture says so
/// (`arch::FASTPATH_INFO_BOUND_LOADED`), on the info shifted left by 52 (one shift) against
/// the bound loaded from `k` (one load; [`INFO_BOUND`]).
#[inline(always)]
fn simple_message(k: &Kernel, info: u64) -> bool {
    debug_assert_eq!(k.fastpath_info_bound, INFO_BOUND);
    if crate::arch::FASTPATH_INFO_BOUND_LOADED {
        info << 52 < k.fastpath_info_bound
    } else {
        info & INFO_LOW <= FAST_MESSAGE_REGISTERS as u64
    }
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
/// registers to `to`'s; the switch to `to` with the badge and the message info (as it is:
/// extra caps and caps unwrapped are 0).
#[inline(always)]
fn transfer(from: TcbRef, to: TcbRef, info: u64, badge: u64) -> Switched {
    // Tested on the shifted word of `simple_message`, so that a 0-word message needs no other
    // instruction; the length for the others from `info` as LLVM cannot see it (else it
    // computes the length first and tests that: one shift more for every message).
    let any = if crate::arch::FASTPATH_INFO_BOUND_LOADED {
        info << 52 != 0
    } else {
        info & INFO_LOW != 0
    };
    if any {
        let n = if crate::arch::FASTPATH_INFO_BOUND_LOADED {
            crate::arch::opaque(info << 52) >> 52
        } else {
            info & INFO_LOW
        };
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
    Switched { to, badge, info }
}

/// The caller's pc moves past the syscall instruction at `pc`, which is its `FaultIP`.
#[inline(always)]
fn advance_pc(t: TcbRef, pc: u64) {
    t.with(|x| {
        x.fault_ip = pc;
        x.context.regs[regs::NEXT_IP] = pc + regs::SYSCALL_INSTRUCTION_BYTES;
    });
}

/// Runs the fastpath for the current thread's `ecall` if it is a `seL4_Call` or
/// `seL4_ReplyRecv` in the common case: the thread to run next, or `None` (nothing changed).
/// Reads the arguments from the saved context and writes the results there; the machine's
/// trap entry calls [`call`] and [`reply_recv`] directly instead.
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
    r.map(|s| {
        s.write_regs();
        s.to
    })
}

/// Whether `t` may have its thread state's Reply object changed: not queued (seL4 asserts
/// this in `thread_state_ptr_set_replyObject_np`).
#[cfg(feature = "mcs")]
#[inline(always)]
fn unqueued(t: TcbRef) -> bool {
    t.with(|x| x.queued == 0 && x.in_release_queue == 0)
}

/// Word 0 of an endpoint cap shifted right by [`EP_RIGHTS_SHIFT`]: the type tag in bits 8..4,
/// the rights ([`ep_right`]) in bits 3..0 (the grant right is also `flags::CAN_GRANT`).
const EP_TAG_BITS: u64 = 0x1f0;

/// Word 0 of a reply cap shifted right by 44: the type tag in bits 19..15, can grant in bit
/// 1, master in bit 0.
#[cfg(not(feature = "mcs"))]
const _: () = assert!(REPLY_MASTER_BIT == 1 << 44 && REPLY_CAN_GRANT_BIT == 1 << 45);

/// `fastpath_call`: the current thread calls the endpoint `a.cptr` with the message in
/// registers. Returns the server it switched to, or `None` (nothing changed). The caller's
/// registers are saved, its pc still at the `ecall`.
#[cfg(not(feature = "mcs"))]
#[inline(always)]
pub fn call(k: &mut Kernel, a: FastArgs) -> Option<Switched> {
    let cur = a.cur;
    debug_assert!(cur == k.cur_thread);
    if !simple_message(k, a.info) {
        return None;
    }
    let cap = lookup_one_level(cur.slot(tcb_slot::CTABLE).raw(), a.cptr)?;
    // An endpoint cap with Send, and Grant or GrantReply (without either the caller would
    // not wait for a reply: full path).
    let (ep, tr) = cap.object_if_top(
        EP_RIGHTS_SHIFT,
        EP_TAG_BITS | ep_right::SEND,
        tag::ENDPOINT << 4 | ep_right::SEND,
    )?;
    if tr & (ep_right::GRANT | ep_right::GRANT_REPLY) == 0 {
        return None;
    }
    let ep = EpRef(ep);
    // Receivers waiting: the state bits are Recv, and the rest is the (non-null) head.
    let dest = ep.head_state().get_if_tag(EpState::Recv as u64)?;
    if !can_switch_to(k, cur, dest) || has_fault(cur) || !vm_cached(k, dest) {
        return None;
    }

    // The common case: no more checks, only work. Like seL4, this relies on invariants
    // (checked in the host tests): the server's caller slot is empty (a thread empties it
    // before it receives), and the caller has its master reply cap (`setupReplyMaster` at
    // `restart`), with no child (a reply cap to a thread exists only while it waits for the
    // reply).
    let caller_slot = dest.slot(tcb_slot::CALLER);
    let reply_slot = cur.slot(tcb_slot::REPLY);
    debug_assert!(caller_slot.is_empty());
    debug_assert_eq!(reply_slot.raw(), RawCap::reply(cur, true, true));
    advance_pc(cur, a.pc);
    ep.dequeue_recv_head(dest);
    let can_grant = dest.with(|x| x.blocking_flags & flags::CAN_GRANT);
    cur.set_state(ThreadState::BlockedOnReply);
    mdb_insert_leaf(
        RawCap::reply(cur, false, can_grant != 0),
        reply_slot,
        caller_slot,
    );
    let sw = transfer(cur, dest, a.info, cap.w1());
    dest.set_state(ThreadState::Running);
    #[cfg(feature = "track_utilisation")]
    crate::benchmark::switch(k, cur, dest);
    // The CPU was set up for `cur` and the exit sets it up for `dest` (with its cached
    // `satp`): `activated` follows the current thread unchanged.
    debug_assert!(k.activated_current());
    k.cur_thread = dest;
    Some(sw)
}

/// `fastpath_reply_recv`: the current thread replies to its caller and waits on the endpoint
/// `a.cptr`. Returns the caller it switched to, or `None` (nothing changed).
#[cfg(not(feature = "mcs"))]
#[inline(always)]
pub fn reply_recv(k: &mut Kernel, a: FastArgs) -> Option<Switched> {
    let cur = a.cur;
    debug_assert!(cur == k.cur_thread);
    // A fault left on the replier (a faulted sender restarted by `cancelAllIPC`, say) makes
    // the reply a fault message (`doIPCTransfer`): full path.
    if !simple_message(k, a.info) || has_fault(cur) {
        return None;
    }
    let cap = lookup_one_level(cur.slot(tcb_slot::CTABLE).raw(), a.cptr)?;
    let (ep, tr) = cap.object_if_top(
        EP_RIGHTS_SHIFT,
        EP_TAG_BITS | ep_right::RECEIVE,
        tag::ENDPOINT << 4 | ep_right::RECEIVE,
    )?;
    let ep = EpRef(ep);
    if ep.head_state().tag() & SEND_STATE_BIT != 0 {
        return None;
    }
    if let Some(bound) = cur.with(|x| x.bound_notification.get()) {
        if NtfnRef(bound).is_active() {
            return None;
        }
    }
    // A reply cap that is not the master (bit 1 of the shifted word, can grant, is either).
    // Like seL4, this relies on invariants (checked in the host tests): it is its master's
    // only child (reply caps cannot be copied), and its thread waits for the reply.
    let caller_slot = cur.slot(tcb_slot::CALLER);
    let (caller, _) = caller_slot
        .raw()
        .object_if_top::<Tcb>(44, !2, tag::REPLY << 15)?;
    let master = caller_slot.mdb().prev()?;
    debug_assert!(mdb_next_word(caller_slot) == 0);
    debug_assert_eq!(caller.state(), ThreadState::BlockedOnReply);
    if has_fault(caller) {
        return None;
    }
    if !can_switch_to(k, cur, caller) || !vm_cached(k, caller) {
        return None;
    }

    // The common case.
    advance_pc(cur, a.pc);
    cur.with(|x| {
        x.blocking_object = EitherLink::to_a(ep.0);
        x.blocking_flags = tr & flags::CAN_GRANT;
    });
    cur.set_state(ThreadState::BlockedOnReceive);
    ep.append_recv(cur);
    mdb_unlink_leaf(caller_slot, master);
    let sw = transfer(cur, caller, a.info, 0);
    caller.set_state(ThreadState::Running);
    #[cfg(feature = "track_utilisation")]
    crate::benchmark::switch(k, cur, caller);
    // The CPU was set up for `cur` and the exit sets it up for `caller` (with its cached
    // `satp`): `activated` follows the current thread unchanged.
    debug_assert!(k.activated_current());
    k.cur_thread = caller;
    Some(sw)
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
pub fn call(k: &mut Kernel, a: FastArgs) -> Option<Switched> {
    let cur = a.cur;
    debug_assert!(cur == k.cur_thread);
    if !simple_message(k, a.info) || has_fault(cur) {
        return None;
    }
    let cap = lookup_one_level(cur.slot(tcb_slot::CTABLE).raw(), a.cptr)?;
    let (ep, tr) = cap.object_if_top(
        EP_RIGHTS_SHIFT,
        EP_TAG_BITS | ep_right::SEND,
        tag::ENDPOINT << 4 | ep_right::SEND,
    )?;
    if tr & (ep_right::GRANT | ep_right::GRANT_REPLY) == 0 {
        return None;
    }
    let ep = EpRef(ep);
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
    advance_pc(cur, a.pc);
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
        old.with(|r| r.next = CallStack::to_b(reply));
    }
    reply.with(|r| {
        r.tcb = Link::to(cur);
        r.prev = old_caller;
        r.next = CallStack::to_a(sc);
    });
    dest.with(|x| x.sched_context = Link::to(sc));
    let sw = transfer(cur, dest, a.info, cap.w1());
    dest.set_state(ThreadState::Running);
    #[cfg(feature = "track_utilisation")]
    crate::benchmark::switch(k, cur, dest);
    // The CPU was set up for `cur` and the exit sets it up for `dest` (with its cached
    // `satp`): `activated` follows the current thread unchanged.
    debug_assert!(k.activated_current());
    k.cur_thread = dest;
    Some(sw)
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
pub fn reply_recv(k: &mut Kernel, a: FastArgs) -> Option<Switched> {
    let cur = a.cur;
    debug_assert!(cur == k.cur_thread);
    if !simple_message(k, a.info) || has_fault(cur) {
        return None;
    }
    let root = cur.slot(tcb_slot::CTABLE).raw();
    let cap = lookup_one_level(root, a.cptr)?;
    let (ep, _) = cap.object_if_top(
        EP_RIGHTS_SHIFT,
        EP_TAG_BITS | ep_right::RECEIVE,
        tag::ENDPOINT << 4 | ep_right::RECEIVE,
    )?;
    let ep = EpRef(ep);
    let reply_cap = lookup_one_level(root, a.reply)?;
    if reply_cap.tag() != tag::REPLY {
        return None;
    }
    if let Some(n) = cur.with(|x| x.bound_notification).get() {
        if NtfnRef(n).is_active() {
            return None;
        }
    }
    // The Reply object links a caller and sits at the head of the call stack of the
    // replier's SchedContext (a running thread has one: the comparison needs no other test).
    let reply: ReplyRef = reply_cap.object()?;
    // Its words are read where they are used (not copied here), so that fewer values stay
    // live and the function needs no stack frame.
    let caller = reply.with(|r| r.tcb).get()?;
    let sc = reply.with(|r| r.next).a_if(cur.with(|x| x.sched_context))?;
    debug_assert_eq!(caller.state(), ThreadState::BlockedOnReply);
    if has_fault(caller) || !can_switch_to(k, cur, caller) || !vm_cached(k, caller) {
        return None;
    }
    if caller.with(|x| x.sched_context).is_some() {
        return None;
    }
    // No sender waiting (`EPState_Send`), tested on the queue: an empty one is the Idle
    // endpoint's (a queue is empty iff the state is Idle), so the common case needs no other
    // test. A queue of receivers keeps priority order (`tcbAppend`): the replier must go last
    // (seL4 also takes the fastpath when it goes elsewhere; here that takes the full path).
    let tail = ep.0.with(|e| e.tail).get();
    if let Some(tail) = tail {
        if ep.head_state().tag() & SEND_STATE_BIT != 0
            || tail.with(|x| x.priority) < cur.with(|x| x.priority)
        {
            return None;
        }
    } else {
        debug_assert_eq!(ep.head_state().tag(), EpState::Idle as u64);
    }

    // The common case.
    debug_assert!(unqueued(cur) && unqueued(caller));
    debug_assert!(sc == k.cur_sc);
    advance_pc(cur, a.pc);
    let old_prev = reply.with(|r| r.prev);
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
        x.next = CallStack::NONE;
    });
    ep.append_recv_after(cur, tail);
    // `reply_pop`: the SchedContext goes back to the caller, the call stack shrinks by one.
    sc.with(|s| {
        s.tcb = Link::to(caller);
        s.reply = old_prev;
    });
    // The Reply object's `next` was `sc` as the head (checked above); its `prev` needs
    // clearing only if it links one.
    if let Some(prev) = old_prev.get() {
        reply.with(|x| x.prev = Link::NONE);
        prev.with(|p| p.next = CallStack::to_a(sc));
    }
    let sw = transfer(cur, caller, a.info, 0);
    caller.set_state(ThreadState::Running);
    #[cfg(feature = "track_utilisation")]
    crate::benchmark::switch(k, cur, caller);
    // The CPU was set up for `cur` and the exit sets it up for `caller` (with its cached
    // `satp`): `activated` follows the current thread unchanged.
    debug_assert!(k.activated_current());
    k.cur_thread = caller;
    Some(sw)
}
