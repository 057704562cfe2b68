//! Host tests of the debug output (`debug/`): the report of a fault without a handler,
//! `seL4_DebugDumpScheduler`, `seL4_DebugSnapshot` and the list of all TCBs they walk. With
//! the `debug_build` feature they check seL4's debug-build output; without it, the short forms
//! the kernel prints then.

use crate::arch::host::take_console;
use crate::arch::riscv64::context::reg;
use crate::object::tcb::{TcbRef, ThreadState};
use crate::testing::*;
use abi::{MessageInfo, Syscall};

/// What the kernel printed, without the `userError` lines (`<<seL4...>>`: a failed lookup that
/// ends in a fault also says why, as seL4 does; `user_error_tests` checks those).
fn console() -> String {
    let out = String::from_utf8(take_console()).expect("console output is UTF-8");
    out.lines()
        .filter(|l| !l.starts_with("<<seL4"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Runs `sys` as the root task with no message and returns what the kernel printed.
fn debug_syscall(s: &mut System, sys: Syscall) -> String {
    take_console();
    s.syscall(sys, 0, MessageInfo::new(0, 0, 0, 0), &[], &[]);
    console()
}

/// Makes `t` fault with `scause`/`stval` at `pc` (it has no fault handler) and returns the
/// console output.
fn fault(s: &mut System, t: TcbRef, pc: u64, scause: u64, stval: u64) -> String {
    s.run_as(t);
    t.set_reg(reg::PC, pc);
    take_console();
    crate::entry::handle_trap(&mut s.k, crate::arch::riscv64::cause::decode(scause, stval));
    assert_eq!(t.state(), ThreadState::Inactive, "the thread is suspended");
    console()
}

fn name(t: TcbRef, n: &str) {
    let mut b = [0u8; crate::object::tcb::TCB_NAME_LEN];
    b[..n.len()].copy_from_slice(n.as_bytes());
    t.with(|x| x.name = b);
}

/// Without `debug_build` a new thread has no name (debug builds name it after its creator, as
/// seL4 does; `debug_build` tests check that).
#[cfg(not(feature = "debug_build"))]
#[test]
fn new_threads_keep_an_empty_name() {
    let mut s = System::boot();
    let e = s.bootinfo().empty.start;
    let t = s.spawn(100, e);
    assert_eq!(crate::object::tcb::thread_name(t).1, 0);
}

/// Without `printing` (seL4's release build) the kernel says nothing after boot: the fault
/// still suspends the thread, the debug syscalls still return.
#[cfg(not(feature = "printing"))]
mod silent {
    use super::*;

    #[test]
    fn a_fault_without_handler_prints_nothing() {
        let mut s = System::boot();
        let e = s.bootinfo().empty.start;
        let t = s.spawn(100, e);
        name(t, "worker");
        assert_eq!(fault(&mut s, t, 0x10080, 13, 0), "");
    }

    #[test]
    fn dump_scheduler_and_snapshot_print_nothing() {
        let mut s = System::boot();
        assert_eq!(debug_syscall(&mut s, Syscall::DebugDumpScheduler), "");
        assert_eq!(debug_syscall(&mut s, Syscall::DebugSnapshot), "");
        assert_eq!(s.root.state(), ThreadState::Running);
    }
}

#[cfg(all(feature = "printing", not(feature = "debug_build")))]
mod release {
    use super::*;

    #[test]
    fn a_fault_without_handler_is_one_warning_line() {
        let mut s = System::boot();
        let e = s.bootinfo().empty.start;
        let t = s.spawn(100, e);
        name(t, "worker");
        let out = fault(&mut s, t, 0x10080, 13, 0);
        assert_eq!(
            out,
            "[kernel WARN] fault VMFault (0x0, 0x5) from thread \
             \"worker\" at pc 0x10080; no valid fault handler (cptr 0x0): suspending it\n"
        );
    }

    #[test]
    fn dump_scheduler_prints_the_current_thread() {
        let mut s = System::boot();
        let e = s.bootinfo().empty.start;
        s.spawn(100, e);
        let pc = s.root.reg(reg::PC);
        let out = debug_syscall(&mut s, Syscall::DebugDumpScheduler);
        assert_eq!(
            out,
            format!(
                "Dumping all tcbs!\nName | IP | Priority | State\nrootserver | {:#x} | 255 | Running\n",
                pc + 4
            )
        );
    }

    #[test]
    fn snapshot_says_there_is_no_dumper() {
        let mut s = System::boot();
        let out = debug_syscall(&mut s, Syscall::DebugSnapshot);
        let expected = if crate::log::MAX_LEVEL >= crate::log::Level::Info {
            "[kernel INFO] seL4_DebugSnapshot: no capDL dumper in this build\n"
        } else {
            ""
        };
        assert_eq!(out, expected);
    }
}

#[cfg(feature = "debug_build")]
mod debug {
    use super::*;
    #[cfg(not(feature = "mcs"))]
    use crate::arch::riscv64::vspace::lookup_pt_slot;
    use crate::cap::Cap;
    use crate::debug::tcbs::{self, Entry};

    /// The idle thread's entry, as [`walk`] gives it.
    const IDLE: usize = 1;
    use crate::debug::P;
    use crate::mem::PPtr;
    use abi::bootinfo::slot;
    use abi::{CapRights, InvocationLabel as L, ObjectType as T};

    const CNODE: u64 = slot::INIT_THREAD_CNODE;

    /// The user address just past the root task's last mapped page (the extra BootInfo pages
    /// follow the IPC buffer and BootInfo frames).
    fn mapped_end(s: &System) -> u64 {
        let bi = s.bootinfo();
        bi.ipc_buffer + 2 * 4096 + ((bi.extra_bi_pages.end - bi.extra_bi_pages.start) << 12)
    }

    fn header(out: &str) -> Vec<&str> {
        out.lines().collect()
    }

    /// The report's first five lines for a fault of `t` at `pc`.
    fn report_head(t: TcbRef, second: &str, first: &str, name: &str, pc: u64) -> String {
        format!(
            "Caught {second}\nwhile trying to handle:\n{first}\nin thread {} \"{name}\" at address {}\nWith stack:\n",
            P(t.addr() as u64),
            P(pc)
        )
    }

    #[test]
    fn a_fault_without_handler_prints_sel4s_report_with_the_stack() {
        let mut s = System::boot();
        let e = s.bootinfo().empty.start;
        let t = s.spawn(100, e);
        name(t, "faulter");
        // Known words at the top of the mapped user memory; the stack dump reads 8 of them and
        // then 8 words of unmapped memory.
        let end = mapped_end(&s);
        let sp = end - 64;
        for i in 0..8u64 {
            PPtr::<u64>::sim(s.user_to_pptr(sp + 8 * i)).set(0x5eed_0000 + i * 0x11);
        }
        t.set_reg(reg::SP, sp);
        let out = fault(&mut s, t, 0x10080, 13, 0);
        let mut expected = report_head(
            t,
            "cap fault in send phase at address 0000000000000000",
            "vm fault on data at address 0000000000000000 with status 0x0000000000000005",
            "faulter",
            0x10080,
        );
        for i in 0..8u64 {
            expected += &format!("0x{:x}: 0x{:x}\n", sp + 8 * i, 0x5eed_0000 + i * 0x11);
        }
        for i in 8..16u64 {
            expected += &format!("0x{:x}: INVALID\n", sp + 8 * i);
        }
        assert_eq!(out, expected);
    }

    #[test]
    fn the_stack_dump_reads_no_device_memory_and_no_misaligned_stack() {
        let mut s = System::boot();
        let e = s.bootinfo().empty.start;
        let t = s.spawn(100, e);
        // A device frame (outside RAM: reading it on the host would crash) mapped right after
        // the root task's last page.
        let bi = s.bootinfo();
        let n = (bi.untyped.end - bi.untyped.start) as usize;
        let dev = bi.untyped_list[..n]
            .iter()
            .position(|d| d.is_device != 0 && d.size_bits >= 12)
            .map(|i| bi.untyped.start + i as u64)
            .expect("a device untyped");
        assert_eq!(s.retype(dev, T::SmallPage, 0, e + 2, 1).info.label(), 0);
        let end = mapped_end(&s);
        let r = s.call(
            e + 2,
            L::RISCVPageMap,
            &[end, CapRights::ALL.0, 0],
            &[slot::INIT_THREAD_VSPACE],
        );
        assert_eq!(r.info.label(), 0, "{r:?}");
        let sp = end - 16;
        PPtr::<u64>::sim(s.user_to_pptr(sp)).set(0xaa);
        PPtr::<u64>::sim(s.user_to_pptr(sp + 8)).set(0xbb);
        t.set_reg(reg::SP, sp);
        let out = fault(&mut s, t, 0x10000, 3, 0);
        let lines = header(&out);
        assert_eq!(
            lines[0],
            "Caught cap fault in send phase at address 0000000000000000"
        );
        assert_eq!(
            lines[2],
            "user exception 0x0000000000000003 code 0000000000000000"
        );
        assert_eq!(lines[5], format!("0x{sp:x}: 0xaa"));
        assert_eq!(lines[6], format!("0x{:x}: 0xbb", sp + 8));
        for (i, l) in lines[7..].iter().enumerate() {
            assert_eq!(*l, format!("0x{:x}: INVALID", end + 8 * i as u64));
        }
        assert_eq!(lines.len(), 5 + 16);

        // A misaligned stack pointer is reported instead of the words.
        let t2 = s.spawn(100, e + 4);
        t2.set_reg(reg::SP, 0x1003);
        let out = fault(&mut s, t2, 0x10000, 3, 0);
        assert!(
            out.ends_with("With stack:\nSP 0x0000000000001003 not aligned\n"),
            "{out}"
        );

        // A thread without a VSpace.
        let t3 = s.spawn(100, e + 6);
        crate::object::cnode::cte_delete_one(
            &mut s.k,
            t3.slot(crate::object::tcb::tcb_slot::VTABLE),
        );
        let out = fault(&mut s, t3, 0x10000, 3, 0);
        assert!(out.ends_with("With stack:\nInvalid vspace\n"), "{out}");
    }

    /// Non-MCS (Recv without a Reply cap, fault handler CPtrs, no SCs; MCS:
    /// `mcs_dump_scheduler_has_the_release_queue_column` and `tcb_invocation_mcs_tests.rs`).
    #[cfg(not(feature = "mcs"))]
    #[test]
    fn every_fault_kind_is_printed_as_sel4_prints_it() {
        let mut s = System::boot();
        let e = s.bootinfo().empty.start;
        // A fault handler CPtr that names a notification (not a valid handler).
        s.make(T::Notification, 0, e + 1);
        let t = s.spawn(7, e + 2);
        // (MCS: the handler is a cap in the TCB; none here.)
        #[cfg(not(feature = "mcs"))]
        t.with(|x| x.fault_handler = e + 1);
        // Cap fault: a Call on a CPtr that resolves to nothing.
        s.run_as(t);
        t.set_reg(reg::PC, 0x10100);
        t.set_reg(reg::A0, 1 << 40);
        t.set_reg(reg::A1, 0);
        t.set_reg(reg::A7, Syscall::Call as i64 as u64);
        take_console();
        crate::entry::handle_trap(&mut s.k, crate::entry::Event::Syscall);
        let out = console();
        let name = "child of: 'rootserver'";
        let second = format!("cap fault in send phase at address {}", P(e + 1));
        assert!(
            out.starts_with(&report_head(
                t,
                &second,
                "cap fault in send phase at address 0x0000010000000000",
                name,
                0x10100
            )),
            "{out}"
        );
        // Unknown syscall.
        crate::object::tcb_ops::restart(&mut s.k, t);
        s.run_as(t);
        t.set_reg(reg::PC, 0x10200);
        t.set_reg(reg::A7, -100i64 as u64);
        take_console();
        crate::entry::handle_trap(&mut s.k, crate::entry::Event::Syscall);
        assert!(console().starts_with(&report_head(
            t,
            &second,
            "unknown syscall 0xffffffffffffff9c",
            name,
            0x10200
        )));
        // VM fault on code.
        crate::object::tcb_ops::restart(&mut s.k, t);
        let out = fault(&mut s, t, 0x4000_0000, 12, 0x4000_0000);
        assert!(out.starts_with(&report_head(
            t,
            &second,
            "vm fault on code at address 0x0000000040000000 with status 0x0000000000000001",
            name,
            0x4000_0000
        )));
    }

    /// The lines of a DebugDumpScheduler dump after the three header lines, checking those.
    fn dump(s: &mut System) -> Vec<String> {
        let out = debug_syscall(s, Syscall::DebugDumpScheduler);
        let lines: Vec<String> = out.lines().map(str::to_string).collect();
        assert_eq!(lines[0], "Dumping all tcbs!");
        assert_eq!(
            lines[1],
            format!(
                "Name                                    \tState          \tIP                  \t Prio \t Core{}",
                if cfg!(feature = "mcs") {
                    "\t InReleaseQueue"
                } else {
                    ""
                }
            )
        );
        assert_eq!(lines[2], "-".repeat(86));
        lines[3..].to_vec()
    }

    fn line(name: &str, state: &str, pc: u64, prio: u64) -> String {
        format!("{name:>40}\t{state:>15}\t{}\t{prio:>20}\t0", P(pc))
    }

    /// MCS: every line ends in the thread's `tcbInReleaseQueue` (seL4 `debug_printTCB`).
    #[cfg(feature = "mcs")]
    #[test]
    fn mcs_dump_scheduler_has_the_release_queue_column() {
        let mut s = System::boot();
        let e = s.bootinfo().empty.start;
        let a = s.spawn(10, e);
        name(a, "alpha");
        s.schedule();
        // `a` waits for its next refill (a sporadic-style SC whose head refill is a second away).
        let sc = crate::object::sched_context::tcb_sc(a);
        let later = s.k.cur_time + 10_000_000;
        sc.with(|x| x.period = 100_000);
        crate::object::sched_context::refill_head(sc).with(|r| r.time = later);
        crate::sched::sched_dequeue(&mut s.k, a);
        crate::sched::mcs::release_enqueue(&mut s.k, a);
        let pc = s.root.reg(reg::PC);
        let lines = dump(&mut s);
        assert_eq!(
            lines,
            [
                format!("{}\t1", line("alpha", "restart", 0, 10)),
                format!("{}\t0", line("idle_thread", "idle", 0, 0)),
                format!("{}\t0", line("rootserver", "running", pc, 255)),
            ]
        );
    }

    /// Non-MCS (Recv without a Reply cap, fault handler CPtrs, no SCs; MCS:
    /// `mcs_dump_scheduler_has_the_release_queue_column` and `tcb_invocation_mcs_tests.rs`).
    #[cfg(not(feature = "mcs"))]
    #[test]
    fn dump_scheduler_lists_exactly_the_live_tcbs() {
        let mut s = System::boot();
        let e = s.bootinfo().empty.start;
        let a = s.spawn(10, e);
        let b = s.spawn(20, e + 2);
        let c = s.spawn(30, e + 4);
        name(a, "alpha");
        name(c, "a thread with a name longer than forty characters");
        // b blocks on an endpoint, c is suspended.
        s.make(T::Endpoint, 0, e + 6);
        s.run_as(b);
        s.sys(Syscall::Recv, e + 6, MessageInfo::new(0, 0, 0, 0), &[], &[]);
        assert_eq!(b.state(), ThreadState::BlockedOnReceive);
        s.run_as(s.root);
        let r = s.call(e + 4, L::TCBSuspend, &[], &[]);
        assert_eq!(r.info.label(), 0);
        let pc = s.root.reg(reg::PC);
        let lines = dump(&mut s);
        let b_pc = crate::object::tcb::restart_pc(b);
        assert_eq!(
            lines,
            [
                line(
                    "a thread with a name longer than forty characters",
                    "inactive",
                    0,
                    30
                ),
                line("child of: 'rootserver'", "blocked on recv", b_pc, 20),
                line("alpha", "restart", 0, 10),
                line("idle_thread", "idle", 0, 0),
                line("rootserver", "running", pc, 255),
            ]
        );
        // Deleting b's (only) cap deletes b; it leaves the list.
        let r = s.cnode(L::CNodeDelete, &[e + 2, 64], &[]);
        assert_eq!(r.info.label(), 0);
        let pc = s.root.reg(reg::PC);
        let lines = dump(&mut s);
        assert_eq!(lines.len(), 4, "{lines:#?}");
        assert!(lines[0].contains("a thread with a name"));
        assert_eq!(lines[1], line("alpha", "restart", 0, 10));
        assert_eq!(lines[3], line("rootserver", "running", pc, 255));
    }

    /// The list from its head, checking each entry's back link, as addresses (IDLE for idle).
    fn walk(s: &System) -> Vec<usize> {
        let d = &s.k.debug;
        let v: Vec<Entry> = tcbs::iter(d, 10_000).collect();
        assert!(v.len() < 10_000, "the list has a cycle");
        let mut prev = None;
        for &n in &v {
            assert_eq!(tcbs::prev(d, n), prev, "back link of {n:?}");
            prev = Some(n);
        }
        assert_eq!(Entry::Idle.word(), IDLE);
        v.into_iter().map(Entry::word).collect()
    }

    #[test]
    fn boot_lists_idle_then_the_root_thread() {
        let s = System::boot();
        assert_eq!(walk(&s), [IDLE, s.root.addr()]);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;
        use std::collections::BTreeMap;

        #[derive(Clone, Debug)]
        enum Op {
            /// Retype `n` TCBs.
            Create(u64),
            /// Copy the `i`-th occupied slot to a free one.
            Copy(usize),
            /// Delete the `i`-th occupied slot.
            Delete(usize),
            /// Revoke the untyped: every TCB made from it goes.
            Revoke,
            /// Delete the root task's TCB cap, the root thread's last: it leaves the list. The
            /// sequence ends there (the test drives the kernel as the root task).
            DeleteRoot,
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                4 => (1u64..4).prop_map(Op::Create),
                2 => any::<usize>().prop_map(Op::Copy),
                4 => any::<usize>().prop_map(Op::Delete),
                1 => Just(Op::Revoke),
                1 => Just(Op::DeleteRoot),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]
            #[test]
            fn the_tcb_list_follows_creation_and_deletion(ops in proptest::collection::vec(op(), 1..40)) {
                let mut s = System::boot();
                let e = s.bootinfo().empty.start;
                // A 64 KiB untyped of its own (32 TCBs), so that revoking it resets it.
                let (big, _, _) = s.ram_untyped(20);
                let ut = e;
                prop_assert_eq!(s.retype(big, T::Untyped, 16, ut, 1).info.label(), 0);
                // The model: the list without idle and root, newest first; and which slot
                // holds a cap to which TCB.
                let mut model: Vec<usize> = Vec::new();
                let mut slots: BTreeMap<u64, usize> = BTreeMap::new();
                let mut next_slot = e + 1;
                let mut root_alive = true;
                for o in ops {
                    match o {
                        Op::Create(n) => {
                            let r = s.retype(ut, T::Tcb, 0, next_slot, n);
                            if r.info.label() != 0 {
                                continue; // the untyped is full
                            }
                            for i in 0..n {
                                let Cap::Thread { tcb } = s.root_slot(next_slot + i).cap() else {
                                    panic!("not a TCB cap")
                                };
                                model.insert(0, tcb.addr());
                                slots.insert(next_slot + i, tcb.addr());
                            }
                            next_slot += n;
                        }
                        Op::Copy(i) if !slots.is_empty() => {
                            let (&src, &tcb) = slots.iter().nth(i % slots.len()).unwrap();
                            let r = s.cnode(L::CNodeCopy, &[next_slot, 64, src, 64, CapRights::ALL.0], &[CNODE]);
                            prop_assert_eq!(r.info.label(), 0);
                            slots.insert(next_slot, tcb);
                            next_slot += 1;
                        }
                        Op::Delete(i) if !slots.is_empty() => {
                            let (&slot, &tcb) = slots.iter().nth(i % slots.len()).unwrap();
                            let r = s.cnode(L::CNodeDelete, &[slot, 64], &[]);
                            prop_assert_eq!(r.info.label(), 0);
                            slots.remove(&slot);
                            if !slots.values().any(|&t| t == tcb) {
                                model.retain(|&t| t != tcb);
                            }
                        }
                        Op::Revoke => {
                            let r = s.cnode(L::CNodeRevoke, &[ut, 64], &[]);
                            prop_assert_eq!(r.info.label(), 0);
                            slots.clear();
                            model.clear();
                        }
                        Op::DeleteRoot => {
                            let root_tcb = s.root_slot(slot::INIT_THREAD_TCB);
                            prop_assert!(crate::object::cnode::cte_delete(&mut s.k, root_tcb, true).is_ok());
                            root_alive = false;
                        }
                        _ => {}
                    }
                    let mut expected = model.clone();
                    expected.push(IDLE);
                    if root_alive {
                        expected.push(s.root.addr());
                    }
                    prop_assert_eq!(walk(&s), expected);
                    if !root_alive {
                        break;
                    }
                }
            }
        }
    }

    /// The lines of a snapshot.
    fn snapshot(s: &mut System) -> Vec<String> {
        let out = debug_syscall(s, Syscall::DebugSnapshot);
        out.lines().map(str::to_string).collect()
    }

    /// The lines from `open` to the next `}` (exclusive).
    #[cfg_attr(feature = "mcs", allow(dead_code))]
    fn block(lines: &[String], open: &str) -> Vec<String> {
        let i = lines
            .iter()
            .position(|l| l == open)
            .unwrap_or_else(|| panic!("no line {open:?} in {lines:#?}"));
        lines[i + 1..]
            .iter()
            .take_while(|l| *l != "}")
            .cloned()
            .collect()
    }

    fn obj(p: usize) -> P {
        P(p as u64)
    }

    #[test]
    fn snapshot_of_the_root_task_alone_is_empty() {
        let mut s = System::boot();
        let lines = snapshot(&mut s);
        assert_eq!(
            lines,
            [
                format!(
                    "Debug snapshot syscall from user thread {} \"rootserver\"",
                    obj(s.root.addr())
                ),
                "arch riscv".into(),
                "objects {".into(),
                "}".into(),
                "caps {".into(),
                "}".into(),
                "irq maps {".into(),
                "}".into(),
            ]
        );
    }

    /// Non-MCS (Recv without a Reply cap, fault handler CPtrs, no SCs; MCS:
    /// `mcs_dump_scheduler_has_the_release_queue_column` and `tcb_invocation_mcs_tests.rs`).
    #[cfg(not(feature = "mcs"))]
    #[test]
    fn snapshot_describes_threads_their_cspace_and_vspace() {
        let mut s = System::boot();
        let e = s.bootinfo().empty.start;
        let t = s.spawn(100, e); // TCB in e, IPC buffer frame in e + 1
        t.set_reg(reg::SP, 0x12340);
        s.make(T::Endpoint, 0, e + 2);
        let r = s.cnode(
            L::CNodeMint,
            &[
                e + 3,
                64,
                e + 2,
                64,
                CapRights::new(false, false, false, true).0,
                5,
            ],
            &[CNODE],
        );
        assert_eq!(r.info.label(), 0);
        s.make(T::Notification, 0, e + 4);
        s.make(T::CapTable, 4, e + 5);
        s.make(T::PageTable, 0, e + 6);
        // The nested CNode holds a cap to itself and one to the root CNode (cycles).
        let (nested, root_cnode) = match (s.root_slot(e + 5).cap(), s.root_slot(CNODE).cap()) {
            (Cap::CNode { ptr: n, .. }, Cap::CNode { ptr: r, .. }) => (n, r),
            _ => panic!(),
        };
        let nested_cnode = nested;
        let (nested, root_cnode) = (nested.addr(), root_cnode.addr());
        let r = s.cnode(
            L::CNodeCopy,
            &[e + 5, 64, e + 5, 64, CapRights::ALL.0],
            &[CNODE],
        );
        assert_eq!(r.error(), abi::Error::DeleteFirst);
        let nested_slot = |i: usize| crate::cte::Slot(nested_cnode).index(63, i);
        crate::cte::cte_insert(s.root_slot(e + 5).cap(), s.root_slot(e + 5), nested_slot(0));
        crate::cte::cte_insert(s.root_slot(CNODE).cap(), s.root_slot(CNODE), nested_slot(1));
        crate::cte::cte_insert(s.root_slot(e + 2).cap(), s.root_slot(e + 2), nested_slot(2));
        // An IRQ handler with a notification.
        let r = s.call(
            slot::IRQ_CONTROL,
            L::IRQIssueIRQHandler,
            &[10, e + 7, 64],
            &[CNODE],
        );
        assert_eq!(r.info.label(), 0);
        let r = s.call(e + 7, L::IRQSetIRQHandler, &[], &[e + 4]);
        assert_eq!(r.info.label(), 0);

        let ptr = |i: u64| match s.root_slot(i).cap() {
            Cap::Endpoint { ptr, .. } => ptr.addr(),
            Cap::Notification { ptr, .. } => ptr.addr(),
            Cap::Thread { tcb } => tcb.addr(),
            Cap::Arch(crate::arch::ArchCap::Frame { base, .. }) => base.addr(),
            Cap::Arch(crate::arch::ArchCap::PageTable { base, .. }) => base.addr(),
            c => panic!("{c:?}"),
        };
        let (tcb, buf, ep, ntfn, pt) = (ptr(e), ptr(e + 1), ptr(e + 2), ptr(e + 4), ptr(e + 6));
        let vspace = ptr(slot::INIT_THREAD_VSPACE);
        let lines = snapshot(&mut s);
        assert_eq!(lines[1], "arch riscv");
        assert_eq!(lines[2], "objects {");

        // Objects: the VSpace with the image frame at 0x10000 ...
        let caps_at = lines.iter().position(|l| l == "caps {").unwrap();
        assert_eq!(lines[caps_at - 1], "}");
        let objects = &lines[3..caps_at - 1];
        assert_eq!(objects[0], format!("{}_pd = pt", obj(vspace)));
        let w = lookup_pt_slot(crate::mem::PPtr::sim(vspace), IMAGE_VADDR);
        let frame = format!("frame_{}_{:04}", obj(w.slot.addr()), 16);
        let paddr = w.slot.get().paddr();
        assert!(objects.contains(&format!("{frame} = frame (4k, paddr: {})", P(paddr))));
        // ... the thread, its CNode and what it holds.
        assert!(objects.contains(&format!(
            "{}_tcb = tcb (addr: 0x70000000, ip: 0x0, sp: 0x12340, prio: 100, max_prio: 100, dom: 0)",
            obj(tcb)
        )));
        for l in [
            format!("{}_cnode = cnode (13 bits)", obj(root_cnode)),
            format!("{}_cnode = cnode (4 bits)", obj(nested)),
            format!("{}_ep = ep", obj(ep)),
            format!("{}_notification = notification", obj(ntfn)),
            format!("{}_pt = pt", obj(pt)),
            format!(
                "{}_frame = frame (4k, paddr: {})",
                obj(buf),
                P(crate::arch::pptr_to_paddr(buf))
            ),
            "0xa_0_irq = irq".to_string(),
            "[unknown object 20]".to_string(), // the domain cap
        ] {
            assert!(objects.contains(&l), "no {l:?} in {objects:#?}");
        }
        // Each CNode is declared once, cycles notwithstanding.
        assert_eq!(
            objects
                .iter()
                .filter(|l| l.ends_with("= cnode (4 bits)"))
                .count(),
            1
        );
        assert_eq!(
            objects
                .iter()
                .filter(|l| l.ends_with("= cnode (13 bits)"))
                .count(),
            1
        );
        // The untyped the objects came from lists them.
        let (_, ut_paddr, ut_bits) = s.ram_untyped(20);
        let ut = crate::arch::paddr_to_pptr(ut_paddr);
        let ut_block = block(
            objects,
            &format!(
                "{}_{ut_bits}_untyped = ut ({ut_bits} bits, paddr: {}) {{",
                obj(ut),
                P(ut_paddr)
            ),
        );
        for l in [
            format!("{}_tcb", obj(tcb)),
            format!("{}_ep", obj(ep)),
            format!("{}_notification", obj(ntfn)),
            format!("{}_cnode", obj(nested)),
            format!("{}_pt", obj(pt)),
            format!("{}_frame", obj(buf)),
        ] {
            assert_eq!(
                ut_block.iter().filter(|x| **x == l).count(),
                1,
                "{l} in {ut_block:#?}"
            );
        }
        // The minted endpoint copy is the same object: listed once.
        assert_eq!(ut_block.len(), 6, "{ut_block:#?}");

        // Caps: the root CNode's slots.
        let caps = &lines[caps_at..];
        let root_slots = block(caps, &format!("{}_cnode {{", obj(root_cnode)));
        for l in [
            format!(
                "0x{CNODE:x}: {}_cnode (guard: 0, guard_size: 51)",
                obj(root_cnode)
            ),
            format!("0x{:x}: {}_tcb", e, obj(tcb)),
            format!("0x{:x}: {}_frame (RW)", e + 1, obj(buf)),
            format!("0x{:x}: {}_ep (RWGP)", e + 2, obj(ep)),
            format!("0x{:x}: {}_ep (W, badge: 5)", e + 3, obj(ep)),
            format!("0x{:x}: {}_notification (RW)", e + 4, obj(ntfn)),
            format!(
                "0x{:x}: {}_cnode (guard: 0, guard_size: 0)",
                e + 5,
                obj(nested)
            ),
            format!("0x{:x}: {}_pt", e + 6, obj(pt)),
            format!("0x{:x}: 0xa_0_irq", e + 7),
            format!("0x{:x}: irq_control", slot::IRQ_CONTROL),
            format!("0x{:x}: asid_control", slot::ASID_CONTROL),
            format!("0x{:x}: [unknown cap 20]", slot::DOMAIN),
            format!(
                "0x{:x}: {}_pd (asid: 1)",
                slot::INIT_THREAD_VSPACE,
                obj(vspace)
            ),
        ] {
            assert!(root_slots.contains(&l), "no {l:?} in {root_slots:#?}");
        }
        // The nested CNode's slots, once.
        let nested_slots = block(caps, &format!("{}_cnode {{", obj(nested)));
        assert_eq!(
            nested_slots,
            [
                format!("0x0: {}_cnode (guard: 0, guard_size: 0)", obj(nested)),
                format!("0x1: {}_cnode (guard: 0, guard_size: 51)", obj(root_cnode)),
                format!("0x2: {}_ep (RWGP)", obj(ep)),
            ]
        );
        assert_eq!(
            caps.iter()
                .filter(|l| **l == format!("{}_cnode {{", obj(nested)))
                .count(),
            1
        );
        // The IRQ handler's notification.
        assert_eq!(
            block(caps, "0xa_0_irq {"),
            [format!("0x0: {}_notification (RW)", obj(ntfn))]
        );
        // The VSpace's entries: the image frame in its level-0 table.
        assert!(caps.contains(&format!("0x10: {frame} (RWX)")), "{caps:#?}");
        // The thread's slots.
        assert_eq!(
            block(caps, &format!("{}_tcb {{", obj(tcb))),
            [
                format!(
                    "cspace: {}_cnode (guard: 0, guard_size: 51)",
                    obj(root_cnode)
                ),
                format!("vspace: {}_pd", obj(vspace)),
                format!("ipc_buffer_slot: {}_frame (RW)", obj(buf)),
                format!("reply_slot: {}_reply", obj(tcb)),
            ]
        );
        // IRQ maps.
        assert_eq!(block(&lines, "irq maps {"), ["10: 0xa_0_irq"]);
        assert_eq!(lines.last().unwrap(), "}");
    }
}
