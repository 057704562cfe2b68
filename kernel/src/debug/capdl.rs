//! `seL4_DebugSnapshot`: the capability graph as a capDL description, in the format of seL4
//! 16.0.0's `debug_capDL`. This is the generic part (seL4 `src/machine/capdl.c`): threads,
//! CSpaces, untypeds, interrupts and the seen list. The architecture's part (seL4
//! `src/arch/<arch>/machine/capdl.c`: the `arch` header, VSpaces, frames, page tables, ASID
//! pools and their caps) is behind the hooks of `crate::arch::capdl`.
//!
//! As seL4 does, the dump starts from the threads: every TCB in the debug list
//! ([`super::tcbs`]) except the ones named `rootserver` and `idle_thread` (the system the
//! root task built, without the builder), in list order (newest first). It prints
//!
//! 1. `objects { ... }`: each thread's VSpace (its root, page tables and frames, declared by
//!    the architecture), then each thread (`<tcb>_tcb = tcb (addr: <IPC buffer>, ip: ..., sp:
//!    ..., prio: ..., max_prio: ..., dom: ...)`) followed by its CSpace: `<cnode>_cnode =
//!    cnode (<radix> bits)` and the objects its caps name (`<ep>_ep = ep`, `<ntfn>_notification
//!    = notification`, `<ut>_<bits>_untyped = ut (...) { <children> }`, `0x<irq>_0_irq = irq`,
//!    the architecture's objects, and `[unknown object <tag>]` for caps naming no object);
//! 2. `caps { ... }`: for each thread its CNodes' slots (`<cnode>_cnode {`, `0x<slot>:
//!    <cap>` lines, `}`) and the notification of each IRQ handler in them, its VSpace's
//!    entries (by the architecture), and its TCB's slots (`cspace:`, `vspace:`,
//!    `ipc_buffer_slot:`, `reply_slot:`, `caller_slot:`; MCS: `fault_ep_slot:`, `sc_slot:`,
//!    `temp_fault_ep_slot:` instead of the last two);
//! 3. `irq maps { <irq>: 0x<irq>_0_irq }` for each interrupt with a notification.
//!
//! MCS adds `, fault_ep: <ep>` to a thread's attributes (before `dom:`), scheduling contexts
//! (`<sc>_sc = sc (period: <µs> us (<ticks> ticks), budget: <µs> us (<ticks> ticks), <bits>
//! bits)`), Reply objects (`<reply>_reply = rtreply`) and the caps `<sc>_sc`, `<reply>_reply`,
//! `<core>_sched_control` (seL4 `obj_sc_print_attrs` and the MCS cases of `print_cap` and
//! `print_object`).
//!
//! Pointers are kernel-virtual addresses printed as seL4 prints `%p` ([`P`]). The walk needs no
//! heap: it prints as it goes, with a fixed list of the CNodes and VSpaces already dumped
//! (seL4's seen list, 256 entries), which also stops cycles (a CNode holding a cap to itself).
//!
//! Where seL4 16.0.0's dumper does not work, this one does what its output means to say (the
//! architecture's points are in its module):
//! - it walks CNodes nested in a CSpace (seL4 prints only the root CNode: "TBD"), breadth
//!   first through the seen list, and reads each CNode's slots directly (seL4 resolves the slot
//!   number as a CPtr from the thread's CSpace root, which names other slots unless guard and
//!   radix cover all 64 bits);
//! - an untyped lists the objects made from it, one name per line (seL4's loop over the
//!   children never advances); its `paddr` is the physical address (seL4 prints the
//!   kernel-virtual one);
//! - an untyped cap is `<ut>_<bits>_untyped` and an IRQ handler `0x<irq>_0_irq` both where the
//!   object is declared and where a cap names it (seL4 uses two spellings of each);
//! - the seen list is emptied at the start of each snapshot (seL4 keeps the one of the
//!   previous snapshot's cap section, so a second snapshot declares no CNode or VSpace).
#![forbid(unsafe_code)]

use super::tcbs::{self, Entry, IDLE_NAME, WALK_LIMIT};
use super::{out, Name, P};
use crate::arch::capdl as arch;
use crate::arch::{pptr_to_paddr, regs, vspace_root};
use crate::cap::Cap;
use crate::cte::{is_mdb_parent_of, Cte, Slot};
use crate::mem::PPtr;
use crate::object::interrupt::{irq_slot, IrqState, NUM_IRQS};
use crate::object::tcb::{restart_pc, tcb_slot, thread_name, TcbRef};
use crate::state::Kernel;

/// Size of the seen list (seL4's `SEEN_SZ`).
pub const SEEN_SZ: usize = 256;

/// The CNodes and VSpace roots already dumped: (address, radix; 0 for a VSpace).
struct Seen<K> {
    entries: [Option<(K, u8)>; SEEN_SZ],
    len: usize,
    warned: bool,
}

impl<K: Copy + PartialEq> Seen<K> {
    fn new() -> Seen<K> {
        Seen {
            entries: [None; SEEN_SZ],
            len: 0,
            warned: false,
        }
    }
    fn contains(&self, addr: K) -> bool {
        self.entries[..self.len]
            .iter()
            .any(|e| e.is_some_and(|e| e.0 == addr))
    }
    /// Adds `addr`; false if it was there already or the list is full.
    fn add(&mut self, addr: K, radix: u8) -> bool {
        if self.contains(addr) {
            return false;
        }
        if self.len == SEEN_SZ {
            if !self.warned {
                self.warned = true;
                out(format_args!(
                    "-- more CNodes and VSpaces than the dump tracks ({SEEN_SZ}): the rest are left out\n"
                ));
            }
            return false;
        }
        self.entries[self.len] = Some((addr, radix));
        self.len += 1;
        true
    }
}

/// The threads the dump describes: all but the root and idle threads (by name, as seL4).
fn threads(k: &Kernel) -> impl Iterator<Item = TcbRef> + '_ {
    tcbs::iter(&k.debug, WALK_LIMIT)
        .filter_map(|n| match n {
            Entry::Tcb(t) => Some(t),
            Entry::Idle => None,
        })
        .filter(|&t| {
            let (name, len) = thread_name(t);
            let name = &name[..len];
            name != b"rootserver" && name != IDLE_NAME
        })
}

/// `debug_capDL` as the `seL4_DebugSnapshot` syscall of the current thread prints it.
pub fn snapshot(k: &Kernel) {
    let t = k.cur_thread;
    let (name, len) = thread_name(t);
    out(format_args!(
        "Debug snapshot syscall from user thread {} \"{}\"\n",
        P(t.addr() as u64),
        Name(&name[..len])
    ));
    dump(k);
}

/// `debug_capDL`: the whole description.
pub fn dump(k: &Kernel) {
    arch::print_arch_header();
    out(format_args!("objects {{\n"));
    let mut seen_vs = Seen::new();
    for t in threads(k) {
        vspace_objects(t, &mut seen_vs);
    }
    let mut seen = Seen::new();
    for t in threads(k) {
        out(format_args!(
            "{}_tcb = tcb (addr: 0x{:x}, ip: 0x{:x}, sp: 0x{:x}, prio: {}, max_prio: {}",
            P(t.addr() as u64),
            t.with(|x| x.ipc_buffer),
            restart_pc(t),
            t.reg(regs::STACK_POINTER),
            t.with(|x| x.priority),
            t.with(|x| x.mcp),
        ));
        #[cfg(feature = "mcs")]
        if let Cap::Endpoint { ptr, .. } = t.slot(tcb_slot::FAULT_HANDLER).cap() {
            out(format_args!(", fault_ep: {}", P(ptr.addr() as u64)));
        }
        out(format_args!(", dom: {})\n", t.with(|x| x.domain)));
        if let Cap::CNode { ptr, radix, .. } = t.slot(tcb_slot::CTABLE).cap() {
            cnodes(k, ptr, radix, &mut seen, cnode_objects);
        }
    }
    out(format_args!("}}\ncaps {{\n"));
    let mut seen = Seen::new();
    let mut seen_vs = Seen::new();
    for t in threads(k) {
        if let Cap::CNode { ptr, radix, .. } = t.slot(tcb_slot::CTABLE).cap() {
            cnodes(k, ptr, radix, &mut seen, cnode_caps);
        }
        vspace_caps(t, &mut seen_vs);
        tcb_caps(k, t);
    }
    out(format_args!("}}\n"));
    irq_maps(k);
}

/// Runs `each` on the CNode at `ptr` and every CNode reachable from it that is not in `seen`,
/// breadth first (each CNode's nested CNodes join `seen` as `each` finds them).
fn cnodes(
    k: &Kernel,
    ptr: PPtr<Cte>,
    radix: u8,
    seen: &mut Seen<PPtr<Cte>>,
    each: fn(&Kernel, PPtr<Cte>, u8, &mut Seen<PPtr<Cte>>),
) {
    let mut i = seen.len;
    if !seen.add(ptr, radix) {
        return;
    }
    while i < seen.len {
        let entry = seen.entries[i];
        i += 1;
        if let Some((c, r)) = entry {
            each(k, c, r, seen);
        }
    }
}

/// The slots of the CNode at `ptr` that hold a cap, with their index.
fn slots(ptr: PPtr<Cte>, radix: u8) -> impl Iterator<Item = (usize, Slot, Cap)> {
    let n = 1usize.checked_shl(radix as u32).unwrap_or(0);
    (0..n).filter_map(move |i| {
        let s = Slot(ptr).index(radix as u32, i);
        (!s.is_empty()).then(|| (i, s, s.cap()))
    })
}

/// `obj_tcb_print_cnodes` for one CNode: its declaration, then the objects its caps name.
fn cnode_objects(k: &Kernel, ptr: PPtr<Cte>, radix: u8, seen: &mut Seen<PPtr<Cte>>) {
    out(format_args!(
        "{}_cnode = cnode ({} bits)\n",
        P(ptr.addr() as u64),
        radix
    ));
    for (_, slot, cap) in slots(ptr, radix) {
        match cap {
            Cap::CNode { ptr, radix, .. } => {
                seen.add(ptr, radix);
            }
            Cap::Untyped { .. } => untyped_object(k, slot, cap),
            _ => print_object(k, cap),
        }
    }
}

/// `obj_cnode_print_slots` for one CNode: its slots, then its IRQ handlers' notifications.
fn cnode_caps(k: &Kernel, ptr: PPtr<Cte>, radix: u8, seen: &mut Seen<PPtr<Cte>>) {
    out(format_args!("{}_cnode {{\n", P(ptr.addr() as u64)));
    for (i, _, cap) in slots(ptr, radix) {
        out(format_args!("0x{i:x}: "));
        print_cap(k, cap);
        if let Cap::CNode { ptr, radix, .. } = cap {
            seen.add(ptr, radix);
        }
    }
    out(format_args!("}}\n"));
    for (_, _, cap) in slots(ptr, radix) {
        if let Cap::IrqHandler { irq } = cap {
            irq_slots(k, irq as usize);
        }
    }
}

/// `print_object`: the declaration of the object a cap in a CNode names, for the objects that
/// are not declared elsewhere (threads are, and so are mapped frames and page tables, by the
/// VSpace walk).
fn print_object(k: &Kernel, cap: Cap) {
    match cap {
        Cap::Endpoint { ptr, .. } => out(format_args!("{}_ep = ep\n", P(ptr.addr() as u64))),
        Cap::Notification { ptr, .. } => out(format_args!(
            "{}_notification = notification\n",
            P(ptr.addr() as u64)
        )),
        Cap::Thread { .. } | Cap::CNode { .. } | Cap::Untyped { .. } | Cap::Null => {}
        Cap::IrqHandler { irq } => out(format_args!("0x{irq:x}_0_irq = irq\n")),
        #[cfg(feature = "mcs")]
        Cap::Reply { ptr, .. } => out(format_args!("{}_reply = rtreply\n", P(ptr.addr() as u64))),
        #[cfg(feature = "mcs")]
        Cap::SchedContext { ptr, size_bits } => {
            out(format_args!("{}_sc = sc ", P(ptr.addr() as u64)));
            sc_attrs(ptr, size_bits);
        }
        Cap::Arch(a) => arch::print_arch_object(k, a),
        _ => out(format_args!("[unknown object {}]\n", cap.tag())),
    }
}

/// `obj_ut_print_attrs`: an untyped and the objects made from it (its MDB descendants; for
/// each child only the object, not the caps derived from it or, for a child untyped, the
/// objects made from that).
fn untyped_object(k: &Kernel, slot: Slot, cap: Cap) {
    let Cap::Untyped { ptr, size_bits, .. } = cap else {
        return;
    };
    out(format_args!(
        "{}_{}_untyped = ut ({} bits, paddr: {}) {{\n",
        P(ptr.addr() as u64),
        size_bits,
        size_bits,
        P(pptr_to_paddr(ptr.addr()))
    ));
    let mut steps = 0usize;
    let mut next = slot.mdb().next();
    let mut last = None;
    while let Some(child) = next {
        if steps >= WALK_LIMIT || !is_mdb_parent_of(slot, child) {
            break;
        }
        let c = child.cap();
        if last != Some(c.region()) || c.region().is_none() {
            print_name(k, c);
            out(format_args!("\n"));
        }
        last = Some(c.region());
        next = child.mdb().next();
        steps += 1;
        while let Some(d) = next {
            if steps >= WALK_LIMIT || !is_mdb_parent_of(child, d) {
                break;
            }
            next = d.mdb().next();
            steps += 1;
        }
    }
    out(format_args!("}}\n"));
}

/// The name of the object a cap names (`print_cap` without the attributes).
fn print_name(k: &Kernel, cap: Cap) {
    match cap {
        Cap::Endpoint { ptr, .. } => out(format_args!("{}_ep", P(ptr.addr() as u64))),
        Cap::Notification { ptr, .. } => out(format_args!("{}_notification", P(ptr.addr() as u64))),
        Cap::Untyped { ptr, size_bits, .. } => out(format_args!(
            "{}_{}_untyped",
            P(ptr.addr() as u64),
            size_bits
        )),
        Cap::Thread { tcb } => out(format_args!("{}_tcb", P(tcb.addr() as u64))),
        Cap::CNode { ptr, .. } => out(format_args!("{}_cnode", P(ptr.addr() as u64))),
        Cap::IrqControl => out(format_args!("irq_control")),
        Cap::IrqHandler { irq } => out(format_args!("0x{irq:x}_0_irq")),
        #[cfg(feature = "mcs")]
        Cap::Reply { ptr, .. } => out(format_args!("{}_reply", P(ptr.addr() as u64))),
        #[cfg(feature = "mcs")]
        Cap::SchedContext { ptr, .. } => out(format_args!("{}_sc", P(ptr.addr() as u64))),
        #[cfg(feature = "mcs")]
        Cap::SchedControl { core } => out(format_args!("{core}_sched_control")),
        Cap::Arch(a) => arch::print_arch_cap_name(k, a),
        _ => out(format_args!("[unknown cap {}]", cap.tag())),
    }
}

/// `print_cap`: a cap in a slot, with its attributes, and a newline.
fn print_cap(k: &Kernel, cap: Cap) {
    if let Cap::Arch(a) = cap {
        return arch::print_arch_cap(k, a);
    }
    print_name(k, cap);
    print_cap_attrs(cap);
}

/// The attributes of a cap after its name (`cap_ep_print_attrs`, `cap_ntfn_print_attrs`,
/// `cap_cnode_print_attrs`), and a newline.
fn print_cap_attrs(cap: Cap) {
    match cap {
        Cap::Endpoint { badge, rights, .. } => {
            let r = [
                (rights.receive, 'R'),
                (rights.send, 'W'),
                (rights.grant, 'G'),
                (rights.grant_reply, 'P'),
            ];
            rights_and_badge(&r, badge);
        }
        Cap::Notification { badge, rights, .. } => {
            rights_and_badge(&[(rights.receive, 'R'), (rights.send, 'W')], badge);
        }
        Cap::CNode {
            guard, guard_size, ..
        } => out(format_args!(
            " (guard: {guard}, guard_size: {guard_size})\n"
        )),
        _ => out(format_args!("\n")),
    }
}

fn rights_and_badge(r: &[(bool, char)], badge: u64) {
    out(format_args!(" ("));
    for &(on, c) in r {
        if on {
            out(format_args!("{c}"));
        }
    }
    if badge != 0 {
        out(format_args!(", badge: {badge})\n"));
    } else {
        out(format_args!(")\n"));
    }
}

/// `obj_tcb_print_vtable`: a thread's VSpace and everything mapped in it, as objects.
fn vspace_objects(t: TcbRef, seen: &mut Seen<usize>) {
    let Some(root) = vspace_root(&t.slot(tcb_slot::VTABLE).cap()) else {
        return;
    };
    if seen.add(root.addr(), 0) {
        arch::print_vspace_objects(root);
    }
}

/// `obj_vtable_print_slots`: a thread's VSpace's entries, table by table.
fn vspace_caps(t: TcbRef, seen: &mut Seen<usize>) {
    let Some(root) = vspace_root(&t.slot(tcb_slot::VTABLE).cap()) else {
        return;
    };
    if seen.add(root.addr(), 0) {
        arch::print_vspace_caps(root);
    }
}

/// `obj_tcb_print_slots`: the caps of a TCB's own slots.
fn tcb_caps(k: &Kernel, t: TcbRef) {
    out(format_args!("{}_tcb {{\n", P(t.addr() as u64)));
    if let Cap::CNode {
        ptr,
        guard,
        guard_size,
        ..
    } = t.slot(tcb_slot::CTABLE).cap()
    {
        out(format_args!(
            "cspace: {}_cnode (guard: {guard}, guard_size: {guard_size})\n",
            P(ptr.addr() as u64)
        ));
    }
    arch::print_tcb_vspace(t.slot(tcb_slot::VTABLE).cap());
    let buffer = t.slot(tcb_slot::BUFFER).cap();
    if !buffer.is_null() {
        out(format_args!("ipc_buffer_slot: "));
        ipc_buffer_slot(k, t, buffer);
    }
    #[cfg(not(feature = "mcs"))]
    {
        if let Cap::Reply { tcb, .. } = t.slot(tcb_slot::REPLY).cap() {
            out(format_args!("reply_slot: {}_reply\n", P(tcb.addr() as u64)));
        }
        if let Cap::Reply { tcb, .. } = t.slot(tcb_slot::CALLER).cap() {
            out(format_args!("caller_slot: {}_tcb\n", P(tcb.addr() as u64)));
        }
    }
    #[cfg(feature = "mcs")]
    {
        let fault = t.slot(tcb_slot::FAULT_HANDLER).cap();
        if let Cap::Endpoint { ptr, .. } = fault {
            out(format_args!("fault_ep_slot: {}_ep", P(ptr.addr() as u64)));
            print_cap_attrs(fault);
        }
        if let Some(sc) = t.with(|x| x.sched_context).get() {
            out(format_args!("sc_slot: {}_sc\n", P(sc.addr() as u64)));
        }
        let timeout = t.slot(tcb_slot::TIMEOUT_HANDLER).cap();
        if let Cap::Endpoint { ptr, .. } = timeout {
            out(format_args!(
                "temp_fault_ep_slot: {}_ep",
                P(ptr.addr() as u64)
            ));
            print_cap_attrs(timeout);
        }
    }
    out(format_args!("}}\n"));
}

/// `obj_sc_print_attrs` (MCS): a scheduling context's period and budget (the sum of its
/// refills, from head to tail), in µs and ticks, and its size.
#[cfg(feature = "mcs")]
fn sc_attrs(sc: crate::object::sched_context::ScRef, size_bits: u8) {
    use crate::object::sched_context::refill_slots;
    let (period, head, tail, max) =
        sc.with(|x| (x.period, x.refill_head, x.refill_tail, x.refill_max));
    // Bounded by the refill array, so a corrupted SC cannot make the dump run forever.
    let slots = refill_slots(size_bits as u64);
    let mut budget = sc.refill(head.min(slots - 1)).get().amount;
    let mut cur = head;
    let mut steps = 0;
    while cur != tail && steps < slots {
        cur = if cur + 1 >= max { 0 } else { cur + 1 };
        budget = budget.wrapping_add(sc.refill(cur.min(slots - 1)).get().amount);
        steps += 1;
    }
    let us = |t: u64| t / (abi::platform::current::TIMER_FREQUENCY / 1_000_000);
    out(format_args!(
        "(period: {} us ({period} ticks), budget: {} us ({budget} ticks), {size_bits} bits)\n",
        us(period),
        us(budget)
    ));
}

/// `print_ipc_buffer_slot`: the frame mapped at the thread's IPC buffer address in its VSpace,
/// or, if there is none, the frame cap in its buffer slot.
fn ipc_buffer_slot(k: &Kernel, t: TcbRef, buffer: Cap) {
    let vtable = t.slot(tcb_slot::VTABLE).cap();
    if !arch::print_ipc_buffer_frame(k, vtable, t.with(|x| x.ipc_buffer)) {
        print_cap(k, buffer);
    }
}

/// `obj_irq_print_slots`: the notification an active IRQ handler signals.
fn irq_slots(k: &Kernel, irq: usize) {
    if irq >= NUM_IRQS || k.irq_state[irq] == IrqState::Inactive as u8 {
        return;
    }
    out(format_args!("0x{irq:x}_0_irq {{\n"));
    let ntfn = irq_slot(k, irq).cap();
    if !ntfn.is_null() {
        out(format_args!("0x0: "));
        print_cap(k, ntfn);
    }
    out(format_args!("}}\n"));
}

/// `obj_irq_print_maps`: each active interrupt with a notification.
fn irq_maps(k: &Kernel) {
    out(format_args!("irq maps {{\n"));
    for irq in 0..NUM_IRQS {
        if k.irq_state[irq] != IrqState::Inactive as u8 && !irq_slot(k, irq).is_empty() {
            out(format_args!("{irq}: 0x{irq:x}_0_irq\n"));
        }
    }
    out(format_args!("}}\n"));
}
