//! The IPC fastpath (seL4 `src/fastpath/fastpath.c`): `seL4_Call` to a waiting server and
//! `seL4_ReplyRecv` back to a waiting client, in one straight path.
//!
//! Each function checks that the common case holds (message in registers, no caps, a partner
//! waiting, no scheduling decision to make, same domain) and otherwise returns `false` without
//! having changed anything, so that the full path runs. When it does the work, the resulting
//! state is exactly what the full path would have produced; the whole test suite runs with the
//! fastpath on and off to hold it to that.
#![forbid(unsafe_code)]

use crate::arch::riscv64::context::reg;
use crate::cap::{tag, RawCap};
use crate::cspace::lookup_one_level;
use crate::cte::{mdb_insert_after, mdb_unlink};
use crate::object::endpoint::{flags, EpRef, EpState};
use crate::object::notification::NtfnRef;
use crate::object::tcb::{tcb_slot, TcbRef, ThreadState};
use crate::state::Kernel;
use abi::message::FAST_MESSAGE_REGISTERS;
use abi::MessageInfo;

/// `fastpath_mi_check`: at most 4 words, no extra caps.
fn simple_message(info: MessageInfo) -> bool {
    info.length() <= FAST_MESSAGE_REGISTERS as u64 && info.extra_caps() == 0
}

/// Whether the scheduler would switch straight to `to` after `from` blocks: same domain and
/// at least `from`'s priority. (seL4 also takes the fastpath when `to` is the highest ready
/// priority; here that case takes the full path, which reaches the same state.)
#[inline(always)]
fn can_switch_to(k: &Kernel, from: TcbRef, to: TcbRef) -> bool {
    let (tp, td) = to.with(|x| (x.priority, x.domain));
    td == k.cur_domain && tp >= from.with(|x| x.priority)
}

/// Whether a fault is pending on `t` (its reply would be a fault reply).
#[inline(always)]
fn has_fault(t: TcbRef) -> bool {
    t.with(|x| x.fault[0]) != 0
}

/// Copies the message registers (at most 4, checked by `simple_message`) and sets the receiver's badge and message info.
fn transfer(from: TcbRef, to: TcbRef, info: MessageInfo, badge: u64) {
    let n = info.length() as usize;
    // `from` and `to` are different threads, so the two borrows are of different objects.
    from.with(|f| {
        to.with(|t| {
            let (s, d) = (&f.context.regs, &mut t.context.regs);
            if n > 0 {
                d[reg::A2] = s[reg::A2];
                if n > 1 {
                    d[reg::A2 + 1] = s[reg::A2 + 1];
                    if n > 2 {
                        d[reg::A2 + 2] = s[reg::A2 + 2];
                        if n > 3 {
                            d[reg::A2 + 3] = s[reg::A2 + 3];
                        }
                    }
                }
            }
            d[reg::A0] = badge;
            d[reg::A1] = MessageInfo::new(info.label(), 0, 0, n as u64).0;
        })
    });
}

/// Runs the fastpath for the current thread's `ecall` if it is a `seL4_Call` or
/// `seL4_ReplyRecv` in the common case; returns whether it did. The syscall number is checked
/// here, inline, so that other syscalls pay nothing for the fastpath.
#[inline(always)]
pub fn try_fastpath(k: &mut Kernel) -> bool {
    use abi::Syscall;
    #[cfg(test)]
    if k.fastpath_off {
        return false;
    }
    let n = k.cur_thread.reg(reg::A7);
    if n == Syscall::Call as i64 as u64 {
        fastpath_call(k)
    } else if n == Syscall::ReplyRecv as i64 as u64 {
        fastpath_reply_recv(k)
    } else {
        false
    }
}

/// Looks up `a0` of `cur` as an endpoint cap: (object, badge, rights), or `None`.
#[inline(always)]
fn lookup_endpoint(cur: TcbRef) -> Option<(usize, u64, crate::cap::EpRights)> {
    let root = cur.slot(tcb_slot::CTABLE).raw();
    let cap = lookup_one_level(root, cur.reg(reg::A0))?;
    (cap.tag() == tag::ENDPOINT).then(|| (cap.obj_ptr(), cap.w1, cap.ep_rights()))
}

/// `fastpath_call`: the current thread calls `a0` with the message in `a1`..`a5`. Returns
/// whether it handled the syscall. The caller's pc is still at the `ecall`.
#[inline(never)]
pub fn fastpath_call(k: &mut Kernel) -> bool {
    let cur = k.cur_thread;
    let info = MessageInfo(cur.reg(reg::A1));
    if !simple_message(info) {
        return false;
    }
    let Some((ptr, badge, rights)) = lookup_endpoint(cur) else {
        return false;
    };
    // Without Grant or GrantReply the caller would not wait for a reply: full path.
    if !rights.send || !(rights.grant || rights.grant_reply) {
        return false;
    }
    let ep = EpRef::at(ptr);
    if ep.state() != EpState::Recv {
        return false;
    }
    let Some(dest) = ep.head() else { return false };
    let caller_slot = dest.slot(tcb_slot::CALLER);
    let reply_slot = cur.slot(tcb_slot::REPLY);
    let reply = reply_slot.raw();
    if !caller_slot.is_empty() || reply.tag() != tag::REPLY || !reply.reply_master() {
        return false;
    }
    if !can_switch_to(k, cur, dest) || has_fault(cur) {
        return false;
    }

    // The common case: no more checks, only work.
    let pc = cur.reg(reg::PC);
    cur.with(|x| {
        x.fault_ip = pc;
        x.context.regs[reg::PC] = pc + 4;
    });
    ep.dequeue_head(dest);
    let can_grant = dest.with(|x| x.blocking_flags & flags::CAN_GRANT != 0);
    cur.set_state(ThreadState::BlockedOnReply);
    let reply_cap = RawCap::reply(cur.addr(), false, can_grant);
    mdb_insert_after(reply_cap, false, reply_slot, caller_slot);
    transfer(cur, dest, info, badge);
    dest.set_state(ThreadState::Running);
    k.cur_thread = dest;
    true
}

/// `fastpath_reply_recv`: the current thread replies to its caller and waits on `a0`. Returns
/// whether it handled the syscall.
#[inline(never)]
pub fn fastpath_reply_recv(k: &mut Kernel) -> bool {
    let cur = k.cur_thread;
    let info = MessageInfo(cur.reg(reg::A1));
    if !simple_message(info) {
        return false;
    }
    let Some((ptr, _, rights)) = lookup_endpoint(cur) else {
        return false;
    };
    if !rights.receive {
        return false;
    }
    let ep = EpRef::at(ptr);
    if ep.state() == EpState::Send {
        return false;
    }
    let bound = cur.with(|x| x.bound_notification) as usize;
    if bound != 0 && NtfnRef::at(bound).is_active() {
        return false;
    }
    let caller_slot = cur.slot(tcb_slot::CALLER);
    let reply = caller_slot.raw();
    if reply.tag() != tag::REPLY || reply.reply_master() {
        return false;
    }
    let caller = TcbRef::new(reply.obj_ptr());
    if caller.state() != ThreadState::BlockedOnReply || has_fault(caller) {
        return false;
    }
    if !can_switch_to(k, cur, caller) {
        return false;
    }

    // The common case.
    let pc = cur.reg(reg::PC);
    cur.with(|x| {
        x.fault_ip = pc;
        x.context.regs[reg::PC] = pc + 4;
        x.blocking_object = ptr as u64;
        x.blocking_flags = rights.grant as u64 * flags::CAN_GRANT;
    });
    cur.set_state(ThreadState::BlockedOnReceive);
    ep.append(cur, EpState::Recv);
    mdb_unlink(caller_slot);
    transfer(cur, caller, info, 0);
    caller.set_state(ThreadState::Running);
    k.cur_thread = caller;
    true
}
