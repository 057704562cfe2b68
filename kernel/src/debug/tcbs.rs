//! The list of all TCBs of a debug build (seL4 `ksDebugTCBs`, `tcbDebugAppend` and
//! `tcbDebugRemove` in `src/object/tcb.c`): doubly linked through `Tcb::debug_next` and
//! `Tcb::debug_prev`, newest first. A TCB joins when it is created (retype, or the root thread
//! at boot) and leaves when its last cap is finalised.
//!
//! At boot seL4 adds the root thread, then the idle thread; here the idle thread is not a TCB
//! in memory (the kernel names it by the null TCB), so it is the entry [`IDLE`] and its links
//! live in [`DebugState`].
#![forbid(unsafe_code)]

use super::DebugState;
use crate::object::tcb::{thread_name, TcbRef, TCB_NAME_LEN};
use crate::state::Kernel;

/// The idle thread's entry in the list (no TCB is at address 1: TCBs are 2 KiB aligned).
pub const IDLE: usize = 1;

/// The name seL4 gives its idle thread.
pub const IDLE_NAME: &[u8] = b"idle_thread";

fn next_of(d: &DebugState, n: usize) -> usize {
    if n == IDLE {
        d.idle_next
    } else {
        TcbRef::new(n).with(|t| t.debug_next) as usize
    }
}

fn prev_of(d: &DebugState, n: usize) -> usize {
    if n == IDLE {
        d.idle_prev
    } else {
        TcbRef::new(n).with(|t| t.debug_prev) as usize
    }
}

fn set_next(d: &mut DebugState, n: usize, v: usize) {
    if n == IDLE {
        d.idle_next = v;
    } else {
        TcbRef::new(n).with(|t| t.debug_next = v as u64);
    }
}

fn set_prev(d: &mut DebugState, n: usize, v: usize) {
    if n == IDLE {
        d.idle_prev = v;
    } else {
        TcbRef::new(n).with(|t| t.debug_prev = v as u64);
    }
}

/// `tcbDebugAppend`: puts entry `n` (a TCB address or [`IDLE`]) at the head of the list.
pub fn append(d: &mut DebugState, n: usize) {
    let head = d.tcbs;
    set_prev(d, n, 0);
    set_next(d, n, head);
    if head != 0 {
        set_prev(d, head, n);
    }
    d.tcbs = n;
}

/// `tcbDebugRemove`: takes entry `n` out of the list.
pub fn remove(d: &mut DebugState, n: usize) {
    let (prev, next) = (prev_of(d, n), next_of(d, n));
    if d.tcbs == n {
        d.tcbs = next;
    } else if prev != 0 {
        set_next(d, prev, next);
    }
    if next != 0 {
        set_prev(d, next, prev);
    }
    set_prev(d, n, 0);
    set_next(d, n, 0);
}

/// The entries of the list from the head (TCB addresses and [`IDLE`]). The walk stops after
/// `limit` entries, so a corrupted list cannot make a dump run forever.
pub fn iter(d: &DebugState, limit: usize) -> impl Iterator<Item = usize> + '_ {
    let mut cur = d.tcbs;
    let mut left = limit;
    core::iter::from_fn(move || {
        if cur == 0 || left == 0 {
            return None;
        }
        left -= 1;
        let n = cur;
        cur = next_of(d, n);
        Some(n)
    })
}

/// Most entries a dump walks: more TCBs than fit in the largest RAM this kernel supports.
pub const WALK_LIMIT: usize = 1 << 27;

/// The list at boot, as seL4's `init_core_state` leaves it: the root thread, then the idle
/// thread in front of it.
pub fn boot(k: &mut Kernel, root: TcbRef) {
    k.debug.tcbs = 0;
    append(&mut k.debug, root.addr());
    append(&mut k.debug, IDLE);
}

/// A TCB was created by retype (seL4 `createObject`, debug build): it is named
/// `child of: '<name of the creating thread>'` and joins the list.
pub fn created(k: &mut Kernel, t: TcbRef) {
    const PREFIX: &[u8] = b"child of: '";
    let (parent, plen) = if crate::sched::is_idle(k.cur_thread) {
        let mut p = [0u8; TCB_NAME_LEN];
        p[..IDLE_NAME.len()].copy_from_slice(IDLE_NAME);
        (p, IDLE_NAME.len())
    } else {
        thread_name(k.cur_thread)
    };
    let mut name = [0u8; TCB_NAME_LEN];
    // At most TCB_NAME_LEN - 1 bytes: the name stays NUL-terminated.
    let bytes = PREFIX.iter().chain(&parent[..plen]).chain(b"'");
    for (d, &b) in name[..TCB_NAME_LEN - 1].iter_mut().zip(bytes) {
        *d = b;
    }
    t.with(|x| x.name = name);
    append(&mut k.debug, t.addr());
}

/// The last cap to a TCB is being finalised (seL4 `finaliseCap`, debug build).
pub fn deleted(k: &mut Kernel, t: TcbRef) {
    remove(&mut k.debug, t.addr());
}
