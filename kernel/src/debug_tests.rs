//! Host tests of the debug output (`debug/`): `seL4_DebugDumpScheduler` and the list of all
//! TCBs it walks. With the `debug_build` feature they check seL4's debug-build output; without
//! it, the short forms the kernel prints then.

use crate::arch::host::take_console;
use crate::arch::riscv64::context::reg;
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

#[cfg(not(feature = "debug_build"))]
mod release {
    use super::*;

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
    use crate::object::tcb::{TcbRef, ThreadState};
    use abi::bootinfo::slot;
    use abi::{CapRights, InvocationLabel as L, ObjectType as T};

    const CNODE: u64 = slot::INIT_THREAD_CNODE;

    fn name(t: TcbRef, n: &str) {
        let mut b = [0u8; crate::object::tcb::TCB_NAME_LEN];
        b[..n.len()].copy_from_slice(n.as_bytes());
        t.with(|x| x.name = b);
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
