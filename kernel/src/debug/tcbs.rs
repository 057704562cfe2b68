//! The list of all TCBs of a debug build (seL4 `ksDebugTCBs`, `tcbDebugAppend` and
//! `tcbDebugRemove` in `src/object/tcb.c`): doubly linked through `Tcb::debug_next` and
//! `Tcb::debug_prev`, newest first. A TCB joins when it is created (retype, or the root thread
//! at boot) and leaves when its last cap is finalised.
//!
//! At boot seL4 adds the root thread, then the idle thread; here the idle thread is not a TCB
//! in memory (the kernel names it by the null TCB), so it is the entry [`Entry::Idle`] and its
//! links live in [`DebugState`].
#![forbid(unsafe_code)]

use super::DebugState;
use crate::mem::TaggedLink;
use crate::object::tcb::{thread_name, Tcb, TcbRef, TCB_NAME_LEN};
use crate::state::Kernel;

/// An entry of the list: a TCB, or the idle thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// The idle thread (no TCB in memory).
    Idle,
    /// A TCB.
    Tcb(TcbRef),
}

/// The tag of a [`DebugLink`] to the idle thread's entry (no address).
const IDLE_TAG: u64 = 1;

/// A link of the list as a TCB holds it (`tcbDebugNext`, `tcbDebugPrev`): a TCB, or (no
/// address, tag 1: the word 1; TCBs are 2 KiB aligned) the idle thread's entry, or none.
pub type DebugLink = TaggedLink<Tcb>;

impl Entry {
    /// The word a link to it holds (the idle thread: 1): for output and tests.
    pub fn word(self) -> usize {
        match self {
            Entry::Idle => IDLE_TAG as usize,
            Entry::Tcb(t) => t.addr(),
        }
    }
    /// The entry a link names, if any.
    pub fn load(l: DebugLink) -> Option<Entry> {
        match l.get() {
            Some(t) => Some(Entry::Tcb(t)),
            None if l.tag() == IDLE_TAG => Some(Entry::Idle),
            None => None,
        }
    }
    /// A link to `e` (or none).
    pub fn link(e: Option<Entry>) -> DebugLink {
        match e {
            Some(Entry::Tcb(t)) => TaggedLink::new(Some(t), 0),
            Some(Entry::Idle) => TaggedLink::new(None, IDLE_TAG),
            None => TaggedLink::new(None, 0),
        }
    }
}

/// The name seL4 gives its idle thread.
pub const IDLE_NAME: &[u8] = b"idle_thread";

fn next_of(d: &DebugState, n: Entry) -> Option<Entry> {
    match n {
        Entry::Idle => d.idle_next,
        Entry::Tcb(t) => Entry::load(t.with(|x| x.debug_next)),
    }
}

fn prev_of(d: &DebugState, n: Entry) -> Option<Entry> {
    match n {
        Entry::Idle => d.idle_prev,
        Entry::Tcb(t) => Entry::load(t.with(|x| x.debug_prev)),
    }
}

fn set_next(d: &mut DebugState, n: Entry, v: Option<Entry>) {
    match n {
        Entry::Idle => d.idle_next = v,
        Entry::Tcb(t) => t.with(|x| x.debug_next = Entry::link(v)),
    }
}

fn set_prev(d: &mut DebugState, n: Entry, v: Option<Entry>) {
    match n {
        Entry::Idle => d.idle_prev = v,
        Entry::Tcb(t) => t.with(|x| x.debug_prev = Entry::link(v)),
    }
}

/// `tcbDebugAppend`: puts entry `n` at the head of the list.
pub fn append(d: &mut DebugState, n: Entry) {
    let head = d.tcbs;
    set_prev(d, n, None);
    set_next(d, n, head);
    if let Some(head) = head {
        set_prev(d, head, Some(n));
    }
    d.tcbs = Some(n);
}

/// `tcbDebugRemove`: takes entry `n` out of the list.
pub fn remove(d: &mut DebugState, n: Entry) {
    let (prev, next) = (prev_of(d, n), next_of(d, n));
    if d.tcbs == Some(n) {
        d.tcbs = next;
    } else if let Some(prev) = prev {
        set_next(d, prev, next);
    }
    if let Some(next) = next {
        set_prev(d, next, prev);
    }
    set_prev(d, n, None);
    set_next(d, n, None);
}

/// The entries of the list from the head. The walk stops after `limit` entries, so a
/// corrupted list cannot make a dump run forever.
pub fn iter(d: &DebugState, limit: usize) -> impl Iterator<Item = Entry> + '_ {
    let mut cur = d.tcbs;
    let mut left = limit;
    core::iter::from_fn(move || {
        let n = cur?;
        if left == 0 {
            return None;
        }
        left -= 1;
        cur = next_of(d, n);
        Some(n)
    })
}

/// The link before entry `n` (tests: checking the back links).
#[cfg(test)]
pub fn prev(d: &DebugState, n: Entry) -> Option<Entry> {
    prev_of(d, n)
}

/// Most entries a dump walks: more TCBs than fit in the largest RAM this kernel supports.
pub const WALK_LIMIT: usize = 1 << 27;

/// The list at boot, as seL4's `init_core_state` leaves it: the root thread, then the idle
/// thread in front of it.
pub fn boot(k: &mut Kernel, root: TcbRef) {
    k.debug.tcbs = None;
    append(&mut k.debug, Entry::Tcb(root));
    append(&mut k.debug, Entry::Idle);
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
    append(&mut k.debug, Entry::Tcb(t));
}

/// The last cap to a TCB is being finalised (seL4 `finaliseCap`, debug build).
pub fn deleted(k: &mut Kernel, t: TcbRef) {
    remove(&mut k.debug, Entry::Tcb(t));
}
