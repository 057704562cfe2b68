//! Host tests of the debug output (`debug/`): the report of a fault without a handler,
//! `seL4_DebugDumpScheduler` and the list of all TCBs it walks. With
//! the `debug_build` feature they check seL4's debug-build output; without it, the short forms
//! the kernel prints then.

use crate::arch::host::take_console;
use crate::arch::riscv64::context::reg;
use crate::object::tcb::{TcbRef, ThreadState};
use crate::testing::*;
use abi::{MessageInfo, Syscall};

fn console() -> String {
    String::from_utf8(take_console()).expect("console output is UTF-8")
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
    crate::entry::handle_trap(&mut s.k, scause, stval);
    assert_eq!(t.state(), ThreadState::Inactive, "the thread is suspended");
    console()
}

fn name(t: TcbRef, n: &str) {
    let mut b = [0u8; crate::object::tcb::TCB_NAME_LEN];
    b[..n.len()].copy_from_slice(n.as_bytes());
    t.with(|x| x.name = b);
}

#[cfg(not(feature = "debug_build"))]
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
            "[kernel WARN] fault VmFault { addr: 0, fsr: 5, prefetch: false } from thread \
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
    fn new_threads_keep_an_empty_name() {
        let mut s = System::boot();
        let e = s.bootinfo().empty.start;
        let t = s.spawn(100, e);
        assert_eq!(crate::object::tcb::thread_name(t).1, 0);
    }
}

#[cfg(feature = "debug_build")]
mod debug {
    use super::*;
    use crate::cap::Cap;
    use crate::debug::tcbs::{self, IDLE};
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
            PPtr::<u64>::new(s.user_to_pptr(sp + 8 * i)).set(0x5eed_0000 + i * 0x11);
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
        PPtr::<u64>::new(s.user_to_pptr(sp)).set(0xaa);
        PPtr::<u64>::new(s.user_to_pptr(sp + 8)).set(0xbb);
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

    #[test]
    fn every_fault_kind_is_printed_as_sel4_prints_it() {
        let mut s = System::boot();
        let e = s.bootinfo().empty.start;
        // A fault handler CPtr that names a notification (not a valid handler).
        s.make(T::Notification, 0, e + 1);
        let t = s.spawn(7, e + 2);
        t.with(|x| x.fault_handler = e + 1);
        // Cap fault: a Call on a CPtr that resolves to nothing.
        s.run_as(t);
        t.set_reg(reg::PC, 0x10100);
        t.set_reg(reg::A0, 1 << 40);
        t.set_reg(reg::A1, 0);
        t.set_reg(reg::A7, Syscall::Call as i64 as u64);
        take_console();
        crate::entry::handle_trap(&mut s.k, crate::entry::CAUSE_USER_ECALL, 0);
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
        crate::entry::handle_trap(&mut s.k, crate::entry::CAUSE_USER_ECALL, 0);
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
            "Name                                    \tState          \tIP                  \t Prio \t Core"
        );
        assert_eq!(lines[2], "-".repeat(86));
        lines[3..].to_vec()
    }

    fn line(name: &str, state: &str, pc: u64, prio: u64) -> String {
        format!("{name:>40}\t{state:>15}\t{}\t{prio:>20}\t0", P(pc))
    }

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
        let v: Vec<usize> = tcbs::iter(d, 10_000).collect();
        assert!(v.len() < 10_000, "the list has a cycle");
        let mut prev = 0;
        for &n in &v {
            let p = if n == IDLE {
                d.idle_prev
            } else {
                TcbRef::new(n).with(|x| x.debug_prev) as usize
            };
            assert_eq!(p, prev, "back link of {n:#x}");
            prev = n;
        }
        v
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
                                model.insert(0, tcb);
                                slots.insert(next_slot + i, tcb);
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
}
