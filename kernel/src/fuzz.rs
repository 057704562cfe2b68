//! The syscall fuzzer: turns bytes into a sequence of syscalls, faults and interrupts from
//! several threads in several CSpaces and VSpaces of a simulated machine, and checks the
//! kernel's invariants after every step (issue 16, `docs/TESTING.md`).
//!
//! [`run`] is the whole of it: the cargo-fuzz target (`fuzz/fuzz_targets/syscalls.rs`, feature
//! `fuzzing`) calls it on libFuzzer's inputs, the host test `fuzz_tests` replays the kept
//! corpus and crashes with it and runs it on seeded random inputs. It panics when the kernel
//! panics or breaks an invariant:
//! - the MDB is a consistent doubly linked list, and empty slots have no node;
//! - two live objects are the same object or do not overlap, untyped caps nest or are
//!   disjoint, and every object derived from an untyped lies below its watermark;
//! - after a successful revoke nothing derived from the cap is left, and nothing at all names
//!   memory inside a revoked untyped but its ancestors;
//! - the ready queues, their bitmap, the endpoint and notification queues and the threads'
//!   states agree (each queued thread once, in the right queue, in the right state; every
//!   runnable thread queued or running);
//! - with the `fastpath` feature the whole sequence runs twice, with and without the
//!   fastpath, and the two machines reach the same state after every step (every TCB,
//!   endpoint, notification, CNode slot, frame and the scheduler, with addresses taken
//!   relative to the simulated RAM).
//!
//! # The world
//! The root task (priority 255, then 100) creates, through the syscall path: two endpoints and two
//! notifications, two CNodes of 64 slots `X` and `Y` (guards so that a CPtr is a slot number),
//! three untypeds of 64 KiB, a second VSpace, an IRQ handler for line 10 bound to the first
//! notification, and three threads: `t1` (CSpace `X`, the root task's VSpace, priority 100),
//! `t2` (`X`, the second VSpace, 100), `t3` (`Y`, the second VSpace, 150), each with the
//! second endpoint as fault handler. `X` and `Y` hold caps to the endpoints (some badged),
//! notifications, TCBs, both CNodes, an untyped each, frames and the second VSpace; MCS: a
//! Reply object each and the threads run on scheduling contexts of their own.
//!
//! # The input
//! Each step takes a few bytes (missing bytes read as 0): its kind, then its arguments. CPtrs
//! come from a byte: for the root task a table of its interesting slots, for the others the
//! slot number itself, sometimes a raw word. Message words come mostly from small values
//! (slot numbers, object types, sizes, rights, depths, addresses). At most [`MAX_STEPS`] steps.
//! Kinds (first byte modulo 16): 0..=9 a syscall, 10, 11 a fault, 12 a device interrupt, 13 a
//! timer tick, 14 a revoke by the root task, 15 a restart of a stopped thread or (odd second
//! argument) a thread setting its receive slot for caps (IPC buffer).
//! A step names the thread that makes its syscall or takes its fault; it is skipped unless the
//! scheduler could run that thread (schedulable, and nothing of higher priority ready), so
//! that the machine only reaches states the kernel can reach.
#![forbid(unsafe_code)]

use crate::arch::riscv64::context::reg;
use crate::cap::Cap;
use crate::cte::{is_mdb_parent_of, Slot};
use crate::object::tcb::{tcb_slot, TcbRef, ThreadState};
use crate::testing::System;
use abi::bootinfo::slot as boot;
use abi::{InvocationLabel as L, MessageInfo, ObjectType as T, Syscall};
use std::collections::{BTreeMap, BTreeSet};

/// At most this many steps per input.
pub const MAX_STEPS: usize = 64;

/// Threads of the world: the root task and `t1`..`t3`.
pub const THREADS: usize = 4;

/// Reads bytes and words from the input, 0 when it has run out.
struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }
    fn raw(&mut self) -> u64 {
        (0..8).fold(0, |w, i| w | (self.byte() as u64) << (8 * i))
    }
    /// A message word: mostly a small value the kernel looks at.
    fn word(&mut self) -> u64 {
        let b = self.byte();
        match b >> 5 {
            0 | 1 => (b & 63) as u64,
            2 => [0, 1, 2, 4, 6, 12, 13, 16, 21, 30, 38, 39, 58, 63, 64, 65][b as usize & 15],
            3 => [
                0x1000,
                0x10000,
                0x20_0000,
                0x4000_0000,
                0x4020_0000,
                0x7000_0000,
                0x10_0000_0000,
                0x40_0000_0000,
                0x3f_ffff_f000,
                0xffff_ffc0_0000_0000,
                0x1001,
                0x7fff_ffff_f000,
                0x8000,
                0x4000_1000,
                0x20_1000,
                0x2000,
            ][b as usize & 15],
            4 => (b & 31) as u64 * 0x1000 + 0x4000_0000,
            5 => 1 << (b & 63),
            6 => (b & 31) as u64 | abi::CNodeCapData::new(0, 58).0,
            _ => self.raw(),
        }
    }
}

/// The simulated machine and what the fuzzer knows about it.
pub struct World {
    /// The machine.
    pub s: System,
    /// The threads (0: the root task).
    pub threads: [TcbRef; THREADS],
    /// Root CNode slots the root task's CPtr byte picks from.
    pub root_slots: Vec<u64>,
    /// Syscalls the fastpath took (with `fastpath`).
    pub fastpath_hits: u64,
    /// The root CNode (address, radix), wherever its caps are now.
    pub root_cnode: (usize, u8),
}

/// What the world's CNodes hold, by slot number: `X` and `Y`.
mod layout {
    /// The first endpoint (maybe badged).
    pub const EP_A: u64 = 1;
    /// The second endpoint, the fault handler.
    pub const EP_B: u64 = 2;
    /// A notification.
    pub const NTFN: u64 = 3;
    /// A TCB.
    pub const TCB1: u64 = 4;
    /// Another TCB.
    pub const TCB2: u64 = 5;
    /// The CNode itself.
    pub const SELF: u64 = 6;
    /// The other CNode.
    pub const OTHER: u64 = 7;
    /// An untyped of 64 KiB.
    pub const UNTYPED: u64 = 8;
    /// A frame.
    pub const FRAME: u64 = 9;
    /// The second VSpace.
    pub const VSPACE: u64 = 10;
    /// A badged copy of the first endpoint or notification.
    pub const BADGED: u64 = 11;
    /// MCS: a Reply object.
    #[cfg(feature = "mcs")]
    pub const REPLY: u64 = 12;
}

#[track_caller]
fn ok(r: crate::testing::Reply) {
    assert_eq!(r.info.label(), 0, "world set-up: {r:?}");
}

impl World {
    /// Boots the machine and builds the world (see the module doc).
    pub fn new(fastpath_off: bool) -> World {
        crate::arch::host::reset_machine();
        let mut s = System::boot();
        s.k.fastpath_off = fastpath_off;
        let e = s.bootinfo().empty.start;
        let cnode = boot::INIT_THREAD_CNODE;
        // The smallest RAM untyped of 512 KiB or more: boot untypeds start full, so the first
        // retype zeroes what it spans (seL4's reset), which costs a fuzzer run dearly.
        let bi = s.bootinfo();
        let n = (bi.untyped.end - bi.untyped.start) as usize;
        let ut = bi.untyped_list[..n]
            .iter()
            .enumerate()
            .filter(|(_, d)| d.is_device == 0 && d.size_bits >= 19)
            .min_by_key(|(_, d)| d.size_bits)
            .map(|(i, _)| bi.untyped.start + i as u64)
            .expect("an untyped of 512 KiB");
        s.make_from = Some(ut);
        // e+0..: endpoints A, B, notifications N1, N2, CNodes X, Y.
        for (i, (t, size)) in [
            (T::Endpoint, 0),
            (T::Endpoint, 0),
            (T::Notification, 0),
            (T::Notification, 0),
            (T::CapTable, 6),
            (T::CapTable, 6),
        ]
        .into_iter()
        .enumerate()
        {
            ok(s.retype(ut, t, size, e + i as u64, 1));
        }
        let (x, y) = (e + 6, e + 7);
        // X and Y with guards: a 64-bit CPtr is a slot number.
        let guard = abi::CNodeCapData::new(0, 58).0;
        ok(s.cnode(L::CNodeMint, &[x, 64, e + 4, 64, 15, guard], &[cnode]));
        ok(s.cnode(L::CNodeMint, &[y, 64, e + 5, 64, 15, guard], &[cnode]));
        // Untypeds: the root task's, X's, Y's.
        ok(s.retype(ut, T::Untyped, 16, e + 8, 3));
        // The second VSpace.
        let v1 = e + 11;
        ok(s.retype(ut, T::PageTable, 0, v1, 1));
        ok(s.call(
            boot::INIT_THREAD_ASID_POOL,
            L::RISCVASIDPoolAssign,
            &[],
            &[v1],
        ));
        let t1 = s.spawn_in(100, e + 12, x, boot::INIT_THREAD_VSPACE);
        let t2 = s.spawn_in(100, e + 14, x, v1);
        let t3 = s.spawn_in(110, e + 16, y, v1);
        // IRQ 10 to N1.
        ok(s.call(
            boot::IRQ_CONTROL,
            L::IRQIssueIRQHandler,
            &[10, e + 18, 64],
            &[cnode],
        ));
        ok(s.call(e + 18, L::IRQSetIRQHandler, &[], &[e + 2]));
        // MCS: a Reply object for each CSpace and one for the root task.
        #[cfg(feature = "mcs")]
        ok(s.retype(ut, T::Reply, 0, e + 19, 3));
        // Fill X and Y: invocations of X or Y with the root CNode as the source's root.
        let copy_in = |s: &mut System, cn: u64, dest: u64, src: u64| {
            ok(s.call(cn, L::CNodeCopy, &[dest, 64, src, 64, 15], &[cnode]));
        };
        let mint_in = |s: &mut System, cn: u64, dest: u64, src: u64, badge: u64| {
            ok(s.call(cn, L::CNodeMint, &[dest, 64, src, 64, 15, badge], &[cnode]));
        };
        let move_in = |s: &mut System, cn: u64, dest: u64, src: u64| {
            ok(s.call(cn, L::CNodeMove, &[dest, 64, src, 64], &[cnode]));
        };
        use layout::*;
        copy_in(&mut s, x, EP_A, e);
        copy_in(&mut s, x, EP_B, e + 1);
        copy_in(&mut s, x, NTFN, e + 2);
        copy_in(&mut s, x, TCB1, e + 12);
        copy_in(&mut s, x, TCB2, e + 14);
        copy_in(&mut s, x, SELF, x);
        copy_in(&mut s, x, OTHER, y);
        move_in(&mut s, x, UNTYPED, e + 9);
        copy_in(&mut s, x, FRAME, e + 13);
        copy_in(&mut s, x, VSPACE, v1);
        mint_in(&mut s, x, BADGED, e, 0x11);
        mint_in(&mut s, y, EP_A, e, 0x22);
        copy_in(&mut s, y, EP_B, e + 1);
        copy_in(&mut s, y, NTFN, e + 3);
        copy_in(&mut s, y, TCB1, e + 16);
        copy_in(&mut s, y, TCB2, e + 12);
        copy_in(&mut s, y, SELF, y);
        copy_in(&mut s, y, OTHER, x);
        move_in(&mut s, y, UNTYPED, e + 10);
        copy_in(&mut s, y, FRAME, e + 17);
        copy_in(&mut s, y, VSPACE, v1);
        mint_in(&mut s, y, BADGED, e + 2, 4);
        #[cfg(feature = "mcs")]
        {
            move_in(&mut s, x, REPLY, e + 19);
            move_in(&mut s, y, REPLY, e + 20);
        }
        // Fault handlers: EP_B in each thread's CSpace.
        for t in [t1, t2, t3] {
            #[cfg(not(feature = "mcs"))]
            t.with(|x| x.fault_handler = EP_B);
            #[cfg(feature = "mcs")]
            {
                let src = s.root_slot(e + 1);
                crate::cte::cte_insert(src.cap(), src, t.slot(tcb_slot::FAULT_HANDLER));
            }
        }
        // The root task runs at the threads' priority from now on (it is running, not queued).
        let root = s.root;
        s.run_as(root);
        root.with(|x| x.priority = 100);
        // The root task's CPtr table: the initial caps (BootInfo's, SchedControl, untypeds
        // included), then the world's slots.
        let root_slots: Vec<u64> = (0..e + 48).collect();
        // MCS: the threads' scheduling contexts (at the end).
        #[cfg(feature = "mcs")]
        let root_slots = [
            root_slots,
            [e + 12, e + 14, e + 16].map(System::sc_slot_of).to_vec(),
        ]
        .concat();
        let Cap::CNode { ptr, radix, .. } = s.root_slot(cnode).cap() else {
            unreachable!("the root CNode")
        };
        World {
            s,
            threads: [root, t1, t2, t3],
            root_slots,
            fastpath_hits: 0,
            root_cnode: (ptr.addr(), radix),
        }
    }

    /// The CPtr byte that names root CNode slot `slot` for the root task, if one does.
    pub fn root_cptr_byte(&self, slot: u64) -> Option<u8> {
        self.root_slots
            .iter()
            .position(|&s| s == slot)
            .map(|i| i as u8)
    }

    /// A CPtr for thread `t` from a byte of input.
    fn cptr(&self, t: usize, b: u8, input: &mut Input) -> u64 {
        if b == 255 {
            return input.raw();
        }
        if t == 0 {
            self.root_slots[b as usize % self.root_slots.len()]
        } else {
            (b & 63) as u64
        }
    }

    /// Whether the scheduler could run `t` now: it is schedulable, in the current domain, and
    /// no ready, running or chosen thread has a higher priority (the kernel relies on the
    /// current thread being one of the highest priority: the IPC fastpath does).
    fn may_run(&self, t: TcbRef) -> bool {
        let k = &self.s.k;
        if !crate::sched::is_schedulable(t) {
            return false;
        }
        let (prio, dom) = t.with(|x| (x.priority, x.domain));
        if dom != k.cur_domain {
            return false;
        }
        let words = &k.sched.l2[dom as usize];
        if let Some(w) = (0..words.len()).rev().find(|&w| words[w] != 0) {
            if (w * 64 + 63 - words[w].leading_zeros() as usize) as u64 > prio {
                return false;
            }
        }
        let above =
            |o: TcbRef| o != t && crate::sched::is_schedulable(o) && o.with(|x| x.priority) > prio;
        if above(k.cur_thread) {
            return false;
        }
        !matches!(k.sched.action, crate::sched::SchedulerAction::SwitchToThread(o) if above(o))
    }

    /// Makes `t` the current thread if the scheduler could pick it (restarting the root task
    /// if it stopped, as a supervisor would); false if it cannot run now.
    fn enter(&mut self, i: usize) -> bool {
        let t = self.threads[i];
        if i == 0 && t.state() == ThreadState::Inactive {
            crate::object::tcb_ops::restart(&mut self.s.k, t);
        }
        if !self.may_run(t) {
            return false;
        }
        self.s.run_as(t);
        self.s.k.cur_thread == t
    }

    /// One step of input; false when the input has run out.
    fn step(&mut self, input: &mut Input) -> bool {
        if input.done() {
            return false;
        }
        let kind = input.byte();
        let t = (input.byte() as usize) % THREADS;
        match kind % 16 {
            0..=9 => self.syscall(t, input),
            10 | 11 => {
                // A fault: page faults at a few addresses, illegal instructions, breakpoints.
                let cause = [12, 13, 15, 2, 3, 0, 5, 7][input.byte() as usize % 8];
                let addr = input.word();
                if self.enter(t) {
                    let ev = crate::arch::riscv64::cause::decode(cause, addr);
                    crate::entry::handle_trap(&mut self.s.k, ev);
                    crate::entry::activate(&mut self.s.k);
                }
            }
            12 => {
                // A device interrupt on line 10 (the world's) or another.
                let irq = [10, 10, 10, 11, 1, 95][input.byte() as usize % 6];
                crate::arch::host::raise_irq(irq);
                self.interrupt(crate::entry::Interrupt::External);
            }
            13 => {
                // A timer tick (MCS: time passes first).
                #[cfg(feature = "mcs")]
                crate::arch::host::advance_time(input.byte() as u64 * 100);
                self.interrupt(crate::entry::Interrupt::Timer);
            }
            14 => {
                let b = input.byte();
                self.revoke(b);
            }
            _ if input.byte() & 1 == 0 => {
                // A stopped thread is restarted (a supervisor's restart after a fault).
                let th = self.threads[t];
                if th.state() == ThreadState::Inactive && self.threads[1..].contains(&th) {
                    crate::object::tcb_ops::restart(&mut self.s.k, th);
                    crate::entry::activate(&mut self.s.k);
                }
            }
            _ => {
                // The thread says where caps it receives go: receive CNode, index and depth
                // in its IPC buffer (as user code writes them, no kernel entry).
                let b = input.byte();
                let cnode = self.cptr(t, b, input);
                let (index, depth) = (input.word(), input.word());
                let th = self.threads[t];
                if let Some(buf) = crate::state::ipc_buffer_pptr(th, false) {
                    use abi::ipc_buffer::offset;
                    buf.set_word(offset::RECEIVE_CNODE, cnode);
                    buf.set_word(offset::RECEIVE_INDEX, index);
                    buf.set_word(offset::RECEIVE_DEPTH, depth);
                }
            }
        }
        true
    }

    fn interrupt(&mut self, irq: crate::entry::Interrupt) {
        // Interrupts arrive while some thread (or the idle thread) runs.
        crate::entry::handle_trap(&mut self.s.k, crate::entry::Event::Interrupt(irq));
        crate::entry::activate(&mut self.s.k);
    }

    /// A syscall of thread `t` with arguments from the input.
    fn syscall(&mut self, t: usize, input: &mut Input) {
        let sys = match input.byte() {
            b @ 0..=239 => -((b % 16) as i64 + 1),
            b @ 240..=251 => -((b - 240) as i64 + 17),
            b => (b as i64) - 252,
        };
        let cb = input.byte();
        let label = match input.byte() {
            b if b < 200 => (b as u64) % L::COUNT,
            b => b as u64,
        };
        let lb = input.byte();
        let len = if lb < 240 {
            (lb % 9) as u64
        } else {
            (lb as u64 - 240) * 8
        };
        let nb = input.byte();
        let ncaps = (nb % 4) as u64;
        let caps: Vec<u8> = (0..ncaps).map(|_| input.byte()).collect();
        let mrs: Vec<u64> = (0..len.min(12)).map(|_| input.word()).collect();
        let rb = input.byte();
        if sys == Syscall::DebugHalt as i64 || !self.enter(t) {
            return;
        }
        let a0 = self.cptr(t, cb, input);
        let reply = self.cptr(t, rb, input);
        let caps: Vec<u64> = caps.into_iter().map(|c| self.cptr(t, c, input)).collect();
        let info = MessageInfo::new(label, 0, ncaps, len);
        self.invoke(t, sys, a0, info, &mrs, &caps, reply);
    }

    /// Thread `t` (current) makes syscall `sys` with CPtr `a0`, message `info` of words `mrs`,
    /// extra caps `caps`, reply CPtr `reply` (MCS); returns its message info afterwards.
    #[allow(clippy::too_many_arguments)]
    fn invoke(
        &mut self,
        t: usize,
        sys: i64,
        a0: u64,
        info: MessageInfo,
        mrs: &[u64],
        caps: &[u64],
        reply: u64,
    ) -> MessageInfo {
        let th = self.threads[t];
        let buf = crate::state::ipc_buffer_pptr(th, false);
        for (i, &w) in mrs.iter().enumerate() {
            crate::state::set_mr(th, buf, i, w);
        }
        if let Some(b) = buf {
            for (i, &c) in caps.iter().enumerate() {
                b.set_word(abi::ipc_buffer::offset::CAPS_OR_BADGES + 8 * i, c);
            }
        }
        th.set_reg(reg::A0, a0);
        th.set_reg(reg::A1, info.0);
        th.set_reg(reg::A0 + 6, reply);
        th.set_reg(reg::A7, sys as u64);
        let hits = self.s.k.fastpath_hits;
        crate::testing::syscall_trap(&mut self.s.k);
        crate::entry::activate(&mut self.s.k);
        self.fastpath_hits += self.s.k.fastpath_hits - hits;
        MessageInfo(th.reg(reg::A1))
    }

    /// The root task revokes one of its slots; afterwards nothing derived from the cap is
    /// left (and, for an untyped, nothing names its memory but its ancestors).
    fn revoke(&mut self, b: u8) {
        let slot = self.root_slots[b as usize % self.root_slots.len()];
        if !self.enter(0) {
            return;
        }
        let sl = Slot(crate::mem::PPtr::sim(self.root_cnode.0)).index(63, slot as usize);
        let before = sl.cap();
        let info = MessageInfo::new(L::CNodeRevoke as u64, 0, 0, 2);
        let r = self.invoke(
            0,
            Syscall::Call as i64,
            boot::INIT_THREAD_CNODE,
            info,
            &[slot, 64],
            &[],
            0,
        );
        if r.label() != 0 || sl.cap() != before || self.s.k.cur_thread != self.threads[0] {
            return;
        }
        if let Some(n) = sl.mdb().next() {
            assert!(
                !is_mdb_parent_of(sl, n),
                "revoke of slot {slot} left a child"
            );
        }
        let Cap::Untyped { ptr, size_bits, .. } = before else {
            return;
        };
        let (lo, hi) = (ptr.addr(), ptr.addr() + (1 << size_bits));
        for (at, c) in self.caps() {
            let Some((p, n)) = c.region() else { continue };
            let inside = p >= lo && p + n as usize <= hi;
            let same = matches!(c, Cap::Untyped { ptr: q, size_bits: z, .. } if q == ptr && z == size_bits);
            assert!(
                !inside || same,
                "{c:?} in slot {at:#x} names memory of the revoked untyped at {lo:#x}"
            );
        }
    }

    /// Every slot the world can reach: the root CNode, every CNode named by a cap found, every
    /// TCB's slots, the IRQ node. (Address, cap) of those holding a cap.
    pub fn caps(&self) -> Vec<(usize, Cap)> {
        let mut slots: BTreeSet<usize> = BTreeSet::new();
        let mut cnodes: Vec<(usize, u8)> = vec![];
        let mut tcbs: BTreeSet<usize> = self.threads.iter().map(|t| t.addr()).collect();
        cnodes.push(self.root_cnode);
        for i in 0..crate::object::interrupt::NUM_IRQS {
            slots.insert(crate::object::interrupt::irq_slot(&self.s.k, i).addr());
        }
        let mut seen: BTreeSet<usize> = BTreeSet::new();
        let mut out = vec![];
        let mut pending: Vec<usize> = slots.iter().copied().collect();
        loop {
            if let Some((p, r)) = cnodes.pop() {
                if seen.insert(p) {
                    // Read in pages; only slots with a cap (a type tag) are looked at.
                    for page in (0..1usize << r).step_by(128) {
                        let n = (1usize << r).min(page + 128) - page;
                        let words = crate::mem::PPtr::<[u64; 512]>::sim(p + 32 * page);
                        let words = if n == 128 {
                            words.get()
                        } else {
                            let mut w = [0; 512];
                            for i in 0..n {
                                w[4 * i] = words.at(4 * i).get();
                            }
                            w
                        };
                        pending.extend(
                            (0..n)
                                .filter(|i| words[4 * i] >> 59 != 0)
                                .map(|i| p + 32 * (page + i)),
                        );
                    }
                }
            } else if let Some(t) = tcbs.pop_first() {
                if seen.insert(t) {
                    pending.extend((0..tcb_slot::COUNT).map(|i| TcbRef::sim(t).slot(i).addr()));
                }
            } else if pending.is_empty() {
                break;
            }
            while let Some(a) = pending.pop() {
                let c = Slot(crate::mem::PPtr::sim(a)).cap();
                match c {
                    Cap::Null => continue,
                    Cap::CNode { ptr, radix, .. } => cnodes.push((ptr.addr(), radix)),
                    Cap::Thread { tcb } => {
                        tcbs.insert(tcb.addr());
                    }
                    Cap::Zombie {
                        ptr,
                        kind: crate::cap::ZombieType::CNode(r),
                        ..
                    } => cnodes.push((ptr.addr(), r)),
                    _ => {}
                }
                out.push((a, c));
            }
        }
        out
    }

    /// Every TCB the world can reach: its threads, those named by caps, those in queues.
    fn tcbs(&self, caps: &[(usize, Cap)]) -> BTreeSet<usize> {
        let mut v: BTreeSet<usize> = self.threads.iter().map(|t| t.addr()).collect();
        for (_, c) in caps {
            match *c {
                Cap::Thread { tcb } => {
                    v.insert(tcb.addr());
                }
                #[cfg(not(feature = "mcs"))]
                Cap::Reply { tcb, .. } => {
                    v.insert(tcb.addr());
                }
                _ => {}
            }
        }
        v
    }

    /// Checks the invariants (see the module doc); panics with what is wrong.
    pub fn check(&self) {
        self.check_caps(&self.caps());
    }

    /// [`Self::check`] with the caps [`Self::caps`] found.
    pub fn check_caps(&self, caps: &[(usize, Cap)]) {
        check_mdb(caps);
        check_objects(caps);
        let tcbs = self.tcbs(caps);
        check_queues(self, caps, &tcbs);
    }

    /// Everything the fastpath may change, with kernel addresses made relative to the
    /// simulated RAM: each reachable TCB's, endpoint's, notification's, SchedContext's and
    /// Reply's words, every reachable slot, the small frames (IPC buffers), the scheduler.
    pub fn digest(&self, caps: &[(usize, Cap)]) -> Vec<(&'static str, u64, u64)> {
        // Kernel pointers are replaced by physical addresses, which are the same on every run:
        // object pointers in caps always, other words if they point into the simulated RAM
        // (user data may be anything: only an address inside this run's RAM is taken for one).
        let offset = crate::arch::paddr_to_pptr(0);
        let (base, size) = (self.s.mem.pptr(), self.s.mem.size());
        let rel = |w: u64| {
            if (w as usize).wrapping_sub(base) < size {
                crate::arch::pptr_to_paddr(w as usize) | 1 << 63
            } else {
                w
            }
        };
        let mut v = vec![];
        for (a, c) in caps {
            let at = rel(*a as u64);
            // Word 0's pointer field (bits 43..0) less the window's offset, modulo 2^44: on the
            // host, device memory far above RAM lies beyond what the field holds.
            let raw = c.encode();
            const FIELD: u64 = (1 << 44) - 1;
            let field = raw.w0() & FIELD;
            let w0 = if field != 0 {
                raw.w0() & !FIELD | (field.wrapping_sub((offset >> 4) as u64) & FIELD)
            } else {
                raw.w0()
            };
            let m = Slot(crate::mem::PPtr::sim(*a)).mdb();
            v.extend([
                ("cap word 0", at, w0),
                ("cap word 1", at, rel(raw.w1())),
                ("MDB prev", at, m.prev().map_or(0, |p| rel(p.addr() as u64))),
                ("MDB next", at, m.next().map_or(0, |p| rel(p.addr() as u64))),
                (
                    "MDB flags",
                    at,
                    m.revocable() as u64 | (m.first_badged() as u64) << 1,
                ),
            ]);
        }
        let mut objects: BTreeMap<usize, (&'static str, usize)> = BTreeMap::new();
        for (_, c) in caps {
            let what = match c {
                Cap::Endpoint { .. } => ("endpoint", c.region().map_or(0, |r| r.1 as usize / 8)),
                Cap::Notification { .. } => {
                    ("notification", c.region().map_or(0, |r| r.1 as usize / 8))
                }
                #[cfg(feature = "mcs")]
                Cap::SchedContext { .. } => {
                    ("SchedContext", c.region().map_or(0, |r| r.1 as usize / 8))
                }
                #[cfg(feature = "mcs")]
                Cap::Reply { .. } => ("Reply", c.region().map_or(0, |r| r.1 as usize / 8)),
                Cap::Arch(crate::arch::ArchCap::Frame {
                    size: crate::arch::riscv64::cap::FrameSize::Small,
                    ..
                }) => ("frame", abi::ipc_buffer::offset::RECEIVE_DEPTH / 8 + 1),
                _ => ("", 0),
            };
            if let (Some((p, _)), true) = (c.region(), what.1 > 0) {
                objects.insert(p, what);
            }
        }
        for t in self.tcbs(caps) {
            // The TCB's fields other than its slots (walked above): before and after them.
            use crate::object::tcb::Tcb;
            let (at, len) = (core::mem::offset_of!(Tcb, slots), tcb_slot::COUNT * 32);
            if at > 0 {
                objects.insert(t, ("TCB", at / 8));
            }
            objects.insert(
                t + at + len,
                ("TCB", (core::mem::size_of::<Tcb>() - at - len) / 8),
            );
        }
        for (p, (what, n)) in objects {
            for i in 0..n {
                let w = crate::mem::PPtr::<u64>::sim(p + 8 * i).get();
                v.push((what, rel((p + 8 * i) as u64), rel(w)));
            }
        }
        let k = &self.s.k;
        v.push(("current thread", 0, rel(k.cur_thread.addr() as u64)));
        v.push((
            "scheduler action",
            0,
            match k.sched.action {
                crate::sched::SchedulerAction::ResumeCurrentThread => 0,
                crate::sched::SchedulerAction::ChooseNewThread => 1,
                crate::sched::SchedulerAction::SwitchToThread(t) => rel(t.addr() as u64),
            },
        ));
        v.extend(k.sched.l1.iter().map(|&w| ("bitmap", 1, w)));
        for l2 in &k.sched.l2 {
            v.extend(l2.iter().map(|&w| ("bitmap", 2, w)));
        }
        for (i, q) in k.sched.queues.iter().enumerate() {
            v.push(("ready queue head", i as u64, rel(q.head.addr() as u64)));
            v.push(("ready queue tail", i as u64, rel(q.tail.addr() as u64)));
        }
        #[cfg(feature = "mcs")]
        {
            v.push((
                "release queue",
                0,
                rel(k.sched.release_queue.head.addr() as u64),
            ));
            v.push(("current SC", 0, rel(k.cur_sc.addr() as u64)));
            v.push(("consumed", 0, k.consumed));
            v.push(("current time", 0, k.cur_time));
            v.push(("reprogram", 0, k.reprogram as u64));
        }
        v.extend(
            k.asid_table
                .iter()
                .enumerate()
                .map(|(i, p)| ("ASID table", i as u64, rel(p.addr() as u64))),
        );
        v.extend(
            k.irq_state
                .iter()
                .enumerate()
                .map(|(i, &s)| ("IRQ state", i as u64, s as u64)),
        );
        v
    }
}

/// The MDB links of every slot found are symmetric; empty slots have no node.
fn check_mdb(caps: &[(usize, Cap)]) {
    for &(a, _) in caps {
        let m = Slot(crate::mem::PPtr::sim(a)).mdb();
        if let Some(n) = m.next() {
            assert_eq!(
                n.mdb().prev(),
                Some(Slot(crate::mem::PPtr::sim(a))),
                "MDB next of {a:#x}"
            );
            assert!(!n.is_empty(), "MDB next of {a:#x} is an empty slot");
        }
        if let Some(p) = m.prev() {
            assert_eq!(
                p.mdb().next(),
                Some(Slot(crate::mem::PPtr::sim(a))),
                "MDB prev of {a:#x}"
            );
            assert!(!p.is_empty(), "MDB prev of {a:#x} is an empty slot");
        }
    }
}

/// Objects are one object or disjoint; untypeds nest or are disjoint; what an untyped's MDB
/// children name lies below its watermark.
fn check_objects(caps: &[(usize, Cap)]) {
    let mut objs: Vec<(usize, u64, &Cap, usize)> = caps
        .iter()
        .filter_map(|(a, c)| c.region().map(|(p, n)| (p, n, c, *a)))
        .collect();
    objs.sort_by_key(|o| (o.0, std::cmp::Reverse(o.1)));
    for (i, a) in objs.iter().enumerate() {
        let a_end = a.0 as u64 + a.1;
        for b in &objs[i + 1..] {
            if b.0 as u64 >= a_end {
                break;
            }
            let (ua, ub) = (
                matches!(a.2, Cap::Untyped { .. }),
                matches!(b.2, Cap::Untyped { .. }),
            );
            let b_end = b.0 as u64 + b.1;
            match (ua, ub) {
                // An untyped holds what lies inside it.
                (true, _) => assert!(
                    b_end <= a_end,
                    "{:?} (slot {:#x}) overlaps the end of untyped {:?} (slot {:#x})",
                    b.2,
                    b.3,
                    a.2,
                    a.3
                ),
                (false, true) => panic!(
                    "untyped {:?} (slot {:#x}) inside object {:?} (slot {:#x})",
                    b.2, b.3, a.2, a.3
                ),
                (false, false) => {
                    let zombie =
                        matches!(a.2, Cap::Zombie { .. }) || matches!(b.2, Cap::Zombie { .. });
                    assert!(
                        a.0 == b.0 && a.1 == b.1 && (zombie || a.2.tag() == b.2.tag()),
                        "objects overlap: {:?} (slot {:#x}) and {:?} (slot {:#x})",
                        a.2,
                        a.3,
                        b.2,
                        b.3
                    );
                }
            }
        }
    }
    for &(a, c) in caps {
        let Cap::Untyped {
            ptr,
            free_index,
            size_bits,
            ..
        } = c
        else {
            continue;
        };
        let s = Slot(crate::mem::PPtr::sim(a));
        let mut n = s.mdb().next();
        while let Some(d) = n {
            if !is_mdb_parent_of(s, d) {
                break;
            }
            let dc = d.cap();
            let copy = matches!(dc, Cap::Untyped { ptr: q, size_bits: z, .. } if q == ptr && z == size_bits);
            if let (Some((p, size)), false) = (dc.region(), copy) {
                assert!(
                    p >= ptr.addr() && (p - ptr.addr()) as u64 + size <= free_index,
                    "{dc:?} derived from untyped {c:?} (slot {a:#x}) lies above its watermark"
                );
            }
            n = d.mdb().next();
        }
    }
}

/// Ready queues, their bitmap, endpoint and notification queues and thread states agree.
fn check_queues(w: &World, caps: &[(usize, Cap)], tcbs: &BTreeSet<usize>) {
    let k = &w.s.k;
    let mut queued: BTreeMap<usize, &'static str> = BTreeMap::new();
    let mut note = |t: usize, what: &'static str| {
        if let Some(old) = queued.insert(t, what) {
            panic!("TCB {t:#x} is in two queues: {old} and {what}");
        }
    };
    let prios = abi::config::NUM_PRIORITIES;
    for (qi, q) in k.sched.queues.iter().enumerate() {
        let (dom, prio) = (qi / prios, qi % prios);
        let mut prev: Option<TcbRef> = None;
        let mut cur = q.head.get();
        let mut n = 0;
        while let Some(t) = cur {
            note(t.addr(), "a ready queue");
            n += 1;
            assert!(n < 10_000, "ready queue {qi} loops");
            let (p, d, qd, sp, st) =
                t.with(|x| (x.priority, x.domain, x.queued, x.sched_prev.get(), x.state));
            assert_eq!(
                (p as usize, d as usize, qd),
                (prio, dom, 1),
                "TCB {:#x} in ready queue {qi}",
                t.addr()
            );
            assert_eq!(sp, prev, "ready queue {qi}: prev link of {:#x}", t.addr());
            assert!(
                ThreadState::from_word(st).is_runnable(),
                "TCB {:#x} in a ready queue is {:?}",
                t.addr(),
                ThreadState::from_word(st)
            );
            prev = Some(t);
            cur = t.with(|x| x.sched_next.get());
        }
        assert_eq!(q.tail.get(), prev, "ready queue {qi}: tail");
        let bit = k.sched.l2[dom][prio / 64] >> (prio % 64) & 1;
        assert_eq!(bit, (n > 0) as u64, "bitmap bit of ready queue {qi}");
    }
    for (d, l1) in k.sched.l1.iter().enumerate() {
        for (i, &l2) in k.sched.l2[d].iter().enumerate() {
            assert_eq!(
                l1 >> i & 1,
                (l2 != 0) as u64,
                "first-level bitmap of domain {d}"
            );
        }
    }
    #[cfg(feature = "mcs")]
    {
        let mut prev: Option<TcbRef> = None;
        let mut cur = k.sched.release_queue.head.get();
        while let Some(t) = cur {
            note(t.addr(), "the release queue");
            assert_eq!(
                t.with(|x| (x.in_release_queue, x.sched_prev.get())),
                (1, prev),
                "release queue entry {:#x}",
                t.addr()
            );
            prev = Some(t);
            cur = t.with(|x| x.sched_next.get());
        }
        assert_eq!(k.sched.release_queue.tail.get(), prev, "release queue tail");
    }
    // Endpoint and notification queues.
    let mut blocked: BTreeMap<usize, usize> = BTreeMap::new();
    let mut objs = BTreeSet::new();
    for (_, c) in caps {
        match *c {
            Cap::Endpoint { ptr, .. } => {
                objs.insert((ptr.addr(), true));
            }
            Cap::Notification { ptr, .. } => {
                objs.insert((ptr.addr(), false));
            }
            _ => {}
        }
    }
    for (ptr, is_ep) in objs {
        let (hs, tail) = if is_ep {
            let e = crate::mem::PPtr::<crate::object::endpoint::Endpoint>::sim(ptr).get();
            (e.head_state, e.tail)
        } else {
            let e = crate::mem::PPtr::<crate::object::notification::Notification>::sim(ptr).get();
            (e.head_state, e.tail)
        };
        let tag = hs.word() & 3;
        let want = match (is_ep, tag) {
            (true, 1) => Some(ThreadState::BlockedOnSend),
            (true, 2) => Some(ThreadState::BlockedOnReceive),
            (false, 1) => Some(ThreadState::BlockedOnNotification),
            _ => None,
        };
        let mut prev: Option<TcbRef> = None;
        let mut cur = (hs.word() & !3 != 0).then(|| TcbRef::sim((hs.word() & !3) as usize));
        let mut n = 0;
        while let Some(t) = cur {
            note(t.addr(), "an IPC queue");
            n += 1;
            let (st, obj, ep_prev) = t.with(|x| {
                (
                    x.state,
                    x.blocking_object.word() as usize & !1,
                    x.ep_prev.get(),
                )
            });
            assert_eq!(
                Some(ThreadState::from_word(st)),
                want,
                "TCB {:#x} queued on {ptr:#x} (state tag {tag})",
                t.addr()
            );
            assert_eq!(
                obj,
                ptr,
                "TCB {:#x} queued on {ptr:#x} is blocked on {obj:#x}",
                t.addr()
            );
            assert_eq!(ep_prev, prev, "IPC queue of {ptr:#x}: prev link");
            prev = Some(t);
            cur = t.with(|x| x.ep_next.get());
        }
        assert_eq!(tail.get(), prev, "IPC queue of {ptr:#x}: tail");
        assert_eq!(
            n > 0,
            want.is_some(),
            "IPC queue of {ptr:#x}: state tag {tag} with {n} threads"
        );
        blocked.insert(ptr, n);
    }
    // Every thread blocked on an endpoint or notification is in its queue; every runnable
    // thread runs, is queued or is about to be switched to.
    for &t in tcbs {
        let t = TcbRef::sim(t);
        let st = t.state();
        if matches!(
            st,
            ThreadState::BlockedOnSend
                | ThreadState::BlockedOnReceive
                | ThreadState::BlockedOnNotification
        ) {
            let obj = t.with(|x| x.blocking_object.word() as usize & !1);
            if blocked.contains_key(&obj) {
                assert_eq!(
                    queued.get(&t.addr()),
                    Some(&"an IPC queue"),
                    "TCB {:#x} blocked on {obj:#x} ({st:?}) is not in its queue",
                    t.addr()
                );
            }
        }
        let switching =
            matches!(k.sched.action, crate::sched::SchedulerAction::SwitchToThread(x) if x == t);
        if crate::sched::is_schedulable(t) && t != k.cur_thread && !switching {
            assert_eq!(
                queued.get(&t.addr()),
                Some(&"a ready queue"),
                "runnable TCB {:#x} ({st:?}) is not queued",
                t.addr()
            );
        }
        let q = t.with(|x| x.queued);
        assert_eq!(
            q != 0,
            queued.get(&t.addr()) == Some(&"a ready queue"),
            "queued flag of TCB {:#x}",
            t.addr()
        );
    }
    assert!(
        crate::sched::is_idle(k.cur_thread) || k.cur_thread.state().is_runnable(),
        "the current thread is {:?}",
        k.cur_thread.state()
    );
}

/// The byte the decoder reads as message word `v`, if one does (small values, the table).
pub fn word_byte(v: u64) -> Option<u8> {
    (0..=255u8).find(|&b| b >> 5 != 7 && Input { data: &[b], pos: 0 }.word() == v)
}

/// The bytes of one syscall step of thread `t` (the inverse of the decoder, for seed inputs):
/// syscall number `sys` (-1..=-16), CPtr byte `cptr`, label (below 200), message words `mrs`
/// (one byte each if [`word_byte`] has one, else the raw word), extra-cap CPtr bytes `caps` (at
/// most 3) and the reply CPtr byte.
pub fn syscall_step(
    t: u8,
    sys: i64,
    cptr: u8,
    label: u8,
    mrs: &[u64],
    caps: &[u8],
    reply: u8,
) -> Vec<u8> {
    assert!((-16..=-1).contains(&sys) && label < 200 && mrs.len() <= 8 && caps.len() <= 3);
    let mut v = vec![
        0,
        t,
        (-sys - 1) as u8,
        cptr,
        label,
        mrs.len() as u8,
        caps.len() as u8,
    ];
    v.extend_from_slice(caps);
    for &w in mrs {
        match word_byte(w) {
            Some(b) => v.push(b),
            // Category 7: the word in the next eight bytes, little endian.
            None => {
                v.push(0xe0);
                v.extend_from_slice(&w.to_le_bytes());
            }
        }
    }
    v.push(reply);
    v
}

impl World {
    /// Runs the steps of `data` (no checks); how many.
    pub fn run_steps(&mut self, data: &[u8]) -> usize {
        let mut input = Input { data, pos: 0 };
        let mut n = 0;
        while n < MAX_STEPS && self.step(&mut input) {
            n += 1;
        }
        n
    }
}

/// What a run did: steps taken, syscalls the fastpath took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Steps of input run.
    pub steps: usize,
    /// Syscalls the fastpath handled (with the fastpath).
    pub fastpath_hits: u64,
}

/// Runs the input on a fresh world, checking the invariants after each step; with the
/// `fastpath` feature also runs it without the fastpath and compares the two after each step.
/// Panics on a kernel panic or a broken invariant.
pub fn run(data: &[u8]) -> Stats {
    let with = run_one(data, false);
    #[cfg(feature = "fastpath")]
    {
        let without = run_one(data, true);
        assert_eq!(without.1.fastpath_hits, 0);
        for (i, (a, b)) in with.0.iter().zip(&without.0).enumerate() {
            if a != b {
                let at = a.iter().zip(b).position(|(x, y)| x != y);
                let show = |d: &[(&'static str, u64, u64)]| {
                    at.map(|j| d[j]).or(d.get(a.len().min(b.len())).copied())
                };
                panic!(
                    "the fastpath and the full path differ after step {i}: with {:x?}, without {:x?} ({} and {} words; physical addresses for kernel pointers, with bit 63 set)",
                    show(a),
                    show(b),
                    a.len(),
                    b.len()
                );
            }
        }
        assert_eq!(with.0.len(), without.0.len());
    }
    with.1
}

/// A [`World::digest`].
type Digest = Vec<(&'static str, u64, u64)>;

/// One run: the digests after each step (with the `fastpath` feature) and the stats.
fn run_one(data: &[u8], fastpath_off: bool) -> (Vec<Digest>, Stats) {
    let mut w = World::new(fastpath_off);
    w.check();
    let mut input = Input { data, pos: 0 };
    let mut digests = vec![];
    let mut steps = 0;
    while steps < MAX_STEPS && w.step(&mut input) {
        steps += 1;
        let caps = w.caps();
        w.check_caps(&caps);
        if cfg!(feature = "fastpath") {
            digests.push(w.digest(&caps));
        }
    }
    (
        digests,
        Stats {
            steps,
            fastpath_hits: w.fastpath_hits,
        },
    )
}
