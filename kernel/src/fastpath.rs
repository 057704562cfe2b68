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
//! registers, with the caller's live `a0`..`a5` as arguments ([`FastArgs`]), so that the
//! message registers go from register to the receiver's context without a reload (see
//! `arch::riscv64::machine::trap`). Both are written to need no stack frame: no calls, and few
//! enough live values for the caller-saved registers.
#![forbid(unsafe_code)]

use crate::arch::riscv64::context::reg;
use crate::cap::{tag, RawCap};
use crate::cspace::lookup_one_level;
use crate::cte::Slot;
use crate::object::endpoint::{flags, EpRef, EpState};
use crate::object::notification::NtfnRef;
use crate::object::tcb::{tcb_slot, TcbRef, ThreadState};
use crate::state::Kernel;
use abi::config::NUM_DOMAINS;
use abi::message::FAST_MESSAGE_REGISTERS;

/// The caller's registers the fastpath reads, as they are at the `ecall`: `a0` (the CPtr),
/// `a1` (the message info) and `a2`..`a5` (MR0..MR3).
#[derive(Clone, Copy, Debug)]
pub struct FastArgs {
    /// `a0`: the endpoint CPtr.
    pub cptr: u64,
    /// `a1`: the `seL4_MessageInfo_t` word.
    pub info: u64,
    /// `a2`..`a5`: message registers 0..3.
    pub mrs: [u64; 4],
}

impl FastArgs {
    /// The arguments as saved in `t`'s context (host tests, and the trap dispatch without the
    /// assembly's help).
    pub fn saved(t: TcbRef) -> FastArgs {
        t.with(|x| {
            let r = &x.context.regs;
            FastArgs {
                cptr: r[reg::A0],
                info: r[reg::A1],
                mrs: [r[reg::A2], r[reg::A2 + 1], r[reg::A2 + 2], r[reg::A2 + 3]],
            }
        })
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
#[inline(always)]
fn can_switch_to(k: &Kernel, from: TcbRef, to: TcbRef) -> bool {
    let (tp, td) = to.with(|x| (x.priority, x.domain));
    (NUM_DOMAINS == 1 || td == k.cur_domain) && tp >= from.with(|x| x.priority)
}

/// Whether `t`'s cached `satp` is current, so that the exit can switch to its address space
/// with one CSR write (see `Tcb::vm_satp`); if not, the full path refreshes it.
#[inline(always)]
fn vm_cached(k: &Kernel, t: TcbRef) -> bool {
    t.with(|x| x.vm_gen) == k.vm_gen
}

/// Whether a fault is pending on `t` (its reply would be a fault reply).
#[inline(always)]
fn has_fault(t: TcbRef) -> bool {
    t.with(|x| x.fault[0]) != 0
}

/// The receiver's side of the message: MR0..MR(n-1) (`n` ≤ 4, checked by `simple_message`),
/// the badge in `a0` and the message info in `a1` (caps unwrapped cleared).
#[inline(always)]
fn transfer(to: TcbRef, a: FastArgs, badge: u64) {
    // Register by register, not in one `with` closure: small closures are always inlined.
    let n = a.info & INFO_LENGTH_AND_CAPS;
    if n > 0 {
        to.set_reg(reg::A2, a.mrs[0]);
        if n > 1 {
            to.set_reg(reg::A2 + 1, a.mrs[1]);
            if n > 2 {
                to.set_reg(reg::A2 + 2, a.mrs[2]);
                if n > 3 {
                    to.set_reg(reg::A2 + 3, a.mrs[3]);
                }
            }
        }
    }
    to.set_reg(reg::A0, badge);
    to.set_reg(reg::A1, a.info & !INFO_UNWRAPPED);
}

/// The caller's pc moves past the `ecall`; the `ecall`'s own pc is its `FaultIP`.
#[inline(always)]
fn advance_pc(t: TcbRef) {
    t.with(|x| {
        let pc = x.context.regs[reg::PC];
        x.fault_ip = pc;
        x.context.regs[reg::PC] = pc + 4;
    });
}

/// Runs the fastpath for the current thread's `ecall` if it is a `seL4_Call` or
/// `seL4_ReplyRecv` in the common case: the thread to run next, or `None` (nothing changed).
/// Reads the arguments from the saved context; the machine's trap entry calls [`call`] and
/// [`reply_recv`] directly instead.
#[inline(always)]
pub fn try_fastpath(k: &mut Kernel) -> Option<TcbRef> {
    use abi::Syscall;
    #[cfg(test)]
    if k.fastpath_off {
        return None;
    }
    let cur = k.cur_thread;
    let n = cur.reg(reg::A7);
    let r = if n == Syscall::Call as i64 as u64 {
        call(k, FastArgs::saved(cur))
    } else if n == Syscall::ReplyRecv as i64 as u64 {
        reply_recv(k, FastArgs::saved(cur))
    } else {
        None
    };
    #[cfg(test)]
    {
        k.fastpath_hits += r.is_some() as u64;
    }
    r
}

/// Looks up `cptr` in `cur`'s CSpace as an endpoint cap: (object, badge, cap word 0), or `None`.
#[inline(always)]
fn lookup_endpoint(cur: TcbRef, cptr: u64) -> Option<(usize, u64, RawCap)> {
    let root = cur.slot(tcb_slot::CTABLE).raw();
    let cap = lookup_one_level(root, cptr)?;
    (cap.tag() == tag::ENDPOINT).then(|| (cap.obj_ptr(), cap.w1, cap))
}

/// `fastpath_call`: the current thread calls the endpoint `a.cptr` with the message in
/// registers. Returns the server it switched to, or `None` (nothing changed). The caller's
/// registers are saved, its pc still at the `ecall`.
#[inline(always)]
pub fn call(k: &mut Kernel, a: FastArgs) -> Option<TcbRef> {
    let cur = k.cur_thread;
    if !simple_message(a.info) {
        return None;
    }
    let (ptr, badge, cap) = lookup_endpoint(cur, a.cptr)?;
    let rights = cap.ep_rights();
    // Without Grant or GrantReply the caller would not wait for a reply: full path.
    if !rights.send || !(rights.grant || rights.grant_reply) {
        return None;
    }
    let ep = EpRef::at(ptr);
    if ep.state() != EpState::Recv {
        return None;
    }
    let dest = ep.head()?;
    let caller_slot = dest.slot(tcb_slot::CALLER);
    let reply_slot = cur.slot(tcb_slot::REPLY);
    let reply = reply_slot.raw();
    if !caller_slot.is_empty() || reply.tag() != tag::REPLY || !reply.reply_master() {
        return None;
    }
    if !can_switch_to(k, cur, dest) || has_fault(cur) || !vm_cached(k, dest) {
        return None;
    }

    // The common case: no more checks, only work.
    advance_pc(cur);
    ep.dequeue_head(dest);
    let can_grant = dest.with(|x| x.blocking_flags & flags::CAN_GRANT != 0);
    cur.set_state(ThreadState::BlockedOnReply);
    insert_reply_cap(cur, can_grant, reply_slot, caller_slot);
    transfer(dest, a, badge);
    dest.set_state(ThreadState::Running);
    k.cur_thread = dest;
    Some(dest)
}

/// Puts a reply cap to `cur` into `caller_slot` as the MDB child of the master reply cap in
/// `reply_slot` (`cteInsert` of the full path, without its checks: the slot is empty and the
/// new cap is not revocable).
#[inline(always)]
fn insert_reply_cap(cur: TcbRef, can_grant: bool, reply_slot: Slot, caller_slot: Slot) {
    crate::cte::mdb_insert_after(
        RawCap::reply(cur.addr(), false, can_grant),
        false,
        reply_slot,
        caller_slot,
    );
}

/// `fastpath_reply_recv`: the current thread replies to its caller and waits on the endpoint
/// `a.cptr`. Returns the caller it switched to, or `None` (nothing changed).
#[inline(always)]
pub fn reply_recv(k: &mut Kernel, a: FastArgs) -> Option<TcbRef> {
    let cur = k.cur_thread;
    if !simple_message(a.info) {
        return None;
    }
    let (ptr, _, cap) = lookup_endpoint(cur, a.cptr)?;
    let rights = cap.ep_rights();
    if !rights.receive {
        return None;
    }
    let ep = EpRef::at(ptr);
    if ep.state() == EpState::Send {
        return None;
    }
    let bound = cur.with(|x| x.bound_notification) as usize;
    if bound != 0 && NtfnRef::at(bound).is_active() {
        return None;
    }
    let caller_slot = cur.slot(tcb_slot::CALLER);
    let reply = caller_slot.raw();
    if reply.tag() != tag::REPLY || reply.reply_master() {
        return None;
    }
    let caller = TcbRef::new(reply.obj_ptr());
    if caller.state() != ThreadState::BlockedOnReply || has_fault(caller) {
        return None;
    }
    if !can_switch_to(k, cur, caller) || !vm_cached(k, caller) {
        return None;
    }

    // The common case.
    advance_pc(cur);
    cur.with(|x| {
        x.blocking_object = ptr as u64;
        x.blocking_flags = rights.grant as u64 * flags::CAN_GRANT;
    });
    cur.set_state(ThreadState::BlockedOnReceive);
    ep.append(cur, EpState::Recv);
    crate::cte::mdb_unlink(caller_slot);
    transfer(caller, a, 0);
    caller.set_state(ThreadState::Running);
    k.cur_thread = caller;
    Some(caller)
}
