//! A fuzzing child: an endless loop of PRNG-chosen syscalls and invocations with random and
//! plausible arguments, in its own CSpace and VSpace (`layout`). It runs the root task's code
//! (mapped read-only into its VSpace) on its own stack and IPC buffer, and never writes
//! anything else: after each step it adds the number of syscalls it made to its status word,
//! which the root task reads through its own mapping of the child's IPC buffer frame.
//!
//! Nothing here checks the kernel's answers (the kernel's host tests do that against a model):
//! the point is the kernel's survival and isolation under load from many threads at once,
//! which the root task checks (its canary, the untyped coming back whole on every rebuild).

use abi::{CapRights, InvocationLabel, MessageInfo, ObjectType, Word};
use libsel4::sys;

use crate::layout::*;
use crate::rng::{mix, Rng};

/// The child's entry (registers a0..a3 set by the root task's `TCB_WriteRegisters`): its seed,
/// index and restart count; it never returns.
pub extern "C" fn child_main(seed: Word, idx: Word, restarts: Word, _: Word) -> ! {
    let mut r = Rng::new(mix(seed
        ^ (idx << 56)
        ^ restarts.wrapping_mul(0x2545_f491_4f6c_dd1d)));
    loop {
        let n = step(&mut r);
        let p = (IPC + STATUS_OFFSET) as *mut Word;
        // SAFETY: the status word is in this child's own IPC buffer frame (mapped read-write at
        // `IPC`), which no other thread of this VSpace uses; volatile, as the root task reads it.
        unsafe { p.write_volatile(p.read_volatile().wrapping_add(n)) };
    }
}

/// A CPtr: mostly one of the slots the root task filled (`S_*`), sometimes a free slot (where
/// retyped, copied and received caps go), rarely any word.
fn slot(r: &mut Rng) -> Word {
    match r.below(24) {
        0 => r.next(),
        1..=6 => free_slot(r),
        _ => 1 + r.below(FIRST_FREE - 1),
    }
}

/// A destination slot: a free one, rarely an occupied one or any index.
fn free_slot(r: &mut Rng) -> Word {
    match r.below(32) {
        0 => r.next(),
        1 => r.below(FIRST_FREE),
        _ => FIRST_FREE + r.below(SLOTS_USED - FIRST_FREE),
    }
}

/// A lookup depth: 64 (the child's one-level CSpace) or anything up to 70.
fn depth(r: &mut Rng) -> u8 {
    if r.one_in(10) {
        r.below(71) as u8
    } else {
        64
    }
}

/// A virtual address: mostly a page of the child's playground, else its stack or IPC page,
/// the image, a large page boundary or any word.
fn vaddr(r: &mut Rng) -> Word {
    match r.below(16) {
        0 => r.next(),
        1 => r.next() & 0x3f_ffff_f000,
        2 => STACK_BASE + r.below(STACK_PAGES) * 4096,
        3 => IPC,
        4 => 0x40_0000 + r.below(64) * 4096,
        5 => PLAY + (r.below(4) << 21),
        _ => PLAY + r.below(PLAY_PAGES) * 4096,
    }
}

/// A message word: zero, a slot, a depth, a small number, an address, a power of two, a
/// priority, or any word.
fn word(r: &mut Rng) -> Word {
    match r.below(9) {
        0 => 0,
        1 => r.below(SLOTS_USED),
        2 => 64,
        3 => r.below(16),
        4 => vaddr(r),
        5 => 1 << r.below(64),
        6 => CHILD_PRIO - 2 + r.below(4),
        _ => r.next(),
    }
}

fn rights(r: &mut Rng) -> CapRights {
    CapRights(r.below(16))
}

/// Load a random message of up to `max` words and up to 3 extra caps; returns its info.
fn message(r: &mut Rng, max: Word) -> MessageInfo {
    let len = r.below(max + 1);
    for i in 0..len as usize {
        sys::seL4_SetMR(i, word(r));
    }
    let caps = if r.one_in(3) { r.below(4) } else { 0 };
    for i in 0..caps as usize {
        sys::seL4_SetCap(i, slot(r));
    }
    // Never a fault label (1..=6): the root task counts messages on its fault endpoint by
    // label.
    let label = if r.one_in(4) { r.next() } else { r.below(8) };
    let label = if (1..=6).contains(&label) {
        label + 6
    } else {
        label
    };
    MessageInfo::new(label & ((1 << 52) - 1), 0, caps, len)
}

/// Where received caps go: a free slot of the child's CNode (sometimes nonsense).
fn receive_path(r: &mut Rng) {
    if r.one_in(8) {
        sys::seL4_SetCapReceivePath(slot(r), r.next(), r.below(70));
    } else {
        sys::seL4_SetCapReceivePath(S_CNODE, free_slot(r), 64);
    }
}

/// An endpoint-ish cap: the shared endpoints and notification mostly.
fn ep(r: &mut Rng) -> Word {
    match r.below(8) {
        0..=2 => S_EPA,
        3 | 4 => S_EPB,
        5 => S_NTFN,
        6 => S_EXTRA,
        _ => slot(r),
    }
}

/// A TCB cap: a sibling's mostly, sometimes the child's own.
fn tcb(r: &mut Rng) -> Word {
    match r.below(8) {
        0..=2 => S_TCB0,
        3 | 4 => S_TCB1,
        5 => S_SELF_TCB,
        _ => slot(r),
    }
}

/// One step: some syscalls; returns how many.
fn step(r: &mut Rng) -> Word {
    match r.below(100) {
        0..=9 => {
            let info = message(r, 6);
            let dest = ep(r);
            match r.below(3) {
                0 => sys::seL4_Send(dest, info),
                1 => sys::seL4_NBSend(dest, info),
                _ => {
                    receive_path(r);
                    sys::seL4_Call(dest, info);
                }
            }
            1
        }
        10..=19 => {
            receive_path(r);
            recv(r)
        }
        20..=22 => {
            sys::seL4_Yield();
            1
        }
        23..=25 => {
            if r.one_in(2) {
                sys::seL4_Signal(ep(r));
            } else {
                sys::seL4_Poll(ep(r));
            }
            1
        }
        26..=43 => cnode(r),
        44..=51 => retype(r),
        52..=59 => tcb_op(r),
        60..=69 => vspace(r),
        70..=72 => {
            let _ = sys::seL4_RISCV_ASIDPool_Assign(
                if r.one_in(4) { slot(r) } else { S_ASID_POOL },
                slot(r),
            );
            1
        }
        73..=75 => {
            let s = if r.one_in(4) { slot(r) } else { S_IRQ };
            let _ = match r.below(3) {
                0 => sys::seL4_IRQHandler_Ack(s),
                1 => sys::seL4_IRQHandler_SetNotification(s, ep(r)),
                _ => sys::seL4_IRQHandler_Clear(s),
            };
            1
        }
        76..=79 => sched(r),
        80..=91 => {
            // Any invocation label on any cap, with plausible words and caps.
            let service = slot(r);
            let info = message(r, 12);
            let label = r.below(InvocationLabel::COUNT + 3);
            let info = MessageInfo::new(label, 0, info.extra_caps(), info.length());
            receive_path(r);
            sys::seL4_Call(service, info);
            1
        }
        92..=94 => {
            raw_syscall(r);
            1
        }
        95..=96 => {
            sys::seL4_DebugCapIdentify(slot(r));
            1
        }
        97 | 98 => {
            touch(r);
            0
        }
        _ => {
            if r.one_in(3) {
                fault(r);
            }
            0
        }
    }
}

/// A receive of some kind.
fn recv(r: &mut Rng) -> Word {
    let src = ep(r);
    #[cfg(not(feature = "mcs"))]
    match r.below(5) {
        0 => {
            sys::seL4_Recv(src);
        }
        1 | 2 => {
            sys::seL4_NBRecv(src);
        }
        3 => {
            let info = message(r, 4);
            sys::seL4_ReplyRecv(src, info);
        }
        _ => {
            let info = message(r, 4);
            sys::seL4_Reply(info);
        }
    }
    #[cfg(feature = "mcs")]
    {
        let reply = if r.one_in(6) { slot(r) } else { S_REPLY };
        match r.below(8) {
            0 => {
                sys::seL4_Recv(src, reply);
            }
            1 => {
                sys::seL4_NBRecv(src, reply);
            }
            2 => {
                let info = message(r, 4);
                sys::seL4_ReplyRecv(src, info, reply);
            }
            3 => {
                let info = message(r, 4);
                sys::seL4_NBSendRecv(ep(r), info, src, reply);
            }
            4 => {
                let info = message(r, 4);
                sys::seL4_NBSendWait(ep(r), info, src);
            }
            5 => {
                sys::seL4_Wait(src);
            }
            6 => {
                sys::seL4_NBWait(src);
            }
            _ => {
                // seL4 16 MCS has no seL4_Reply: a Send on the Reply object.
                let info = message(r, 4);
                sys::seL4_Send(reply, info);
            }
        }
    }
    1
}

/// A CNode invocation on the child's CNode (or its small CNode, or any cap).
fn cnode(r: &mut Rng) -> Word {
    let service = match r.below(8) {
        0 => S_SMALL,
        1 => slot(r),
        2 => S_SIB_CNODE,
        _ => S_CNODE,
    };
    // The CNode caps are copied from or moved out of: mostly the child's own, now and then
    // its sibling's (a CSpace another thread is using).
    let src = |r: &mut Rng| if r.one_in(6) { S_SIB_CNODE } else { S_CNODE };
    // Revoke and Delete aim at the untyped now and then, which resets it.
    let target = |r: &mut Rng| if r.one_in(6) { S_UT } else { free_slot(r) };
    let _ = match r.below(10) {
        0 => sys::seL4_CNode_Revoke(service, target(r), depth(r)),
        1 => sys::seL4_CNode_Delete(service, target(r), depth(r)),
        2 => sys::seL4_CNode_CancelBadgedSends(service, slot(r), depth(r)),
        3 => sys::seL4_CNode_Copy(
            service,
            free_slot(r),
            depth(r),
            src(r),
            slot(r),
            depth(r),
            rights(r),
        ),
        4 | 5 => sys::seL4_CNode_Mint(
            service,
            free_slot(r),
            depth(r),
            if r.one_in(8) { slot(r) } else { src(r) },
            slot(r),
            depth(r),
            rights(r),
            word(r),
        ),
        6 => sys::seL4_CNode_Move(
            service,
            free_slot(r),
            depth(r),
            src(r),
            free_slot(r),
            depth(r),
        ),
        7 => sys::seL4_CNode_Mutate(
            service,
            free_slot(r),
            depth(r),
            src(r),
            free_slot(r),
            depth(r),
            word(r),
        ),
        8 => sys::seL4_CNode_Rotate(
            service,
            free_slot(r),
            depth(r),
            word(r),
            src(r),
            free_slot(r),
            depth(r),
            word(r),
            src(r),
            free_slot(r),
            depth(r),
        ),
        _ => {
            #[cfg(not(feature = "mcs"))]
            {
                sys::seL4_CNode_SaveCaller(service, free_slot(r), depth(r))
            }
            #[cfg(feature = "mcs")]
            {
                sys::seL4_CNode_Copy(
                    service,
                    free_slot(r),
                    depth(r),
                    S_CNODE,
                    S_TCB0,
                    64,
                    rights(r),
                )
            }
        }
    };
    1
}

/// `Untyped_Retype` of a random type and size into the child's CNode (or its small CNode).
fn retype(r: &mut Rng) -> Word {
    let service = if r.one_in(6) { slot(r) } else { S_UT };
    let count = ObjectType::ALL.len() as Word;
    let ty = r.below(count + 2);
    let size_bits = match ObjectType::from_word(ty) {
        _ if r.one_in(10) => r.below(72),
        Some(ObjectType::Untyped) => 4 + r.below(14),
        Some(ObjectType::CapTable) => r.below(8),
        #[cfg(feature = "mcs")]
        Some(ObjectType::SchedContext) => 7 + r.below(3),
        _ => 0,
    };
    let (index, depth, offset) = match r.below(8) {
        0 => (S_SMALL, 64, r.below(20)),
        1 => (r.next(), r.below(70), r.below(300)),
        _ => (0, 0, free_slot(r)),
    };
    let n = if r.one_in(8) {
        r.below(300)
    } else {
        1 + r.below(3)
    };
    let _ = sys::seL4_Untyped_Retype(service, ty, size_bits, S_CNODE, index, depth, offset, n);
    1
}

/// A TCB invocation, mostly on a sibling.
fn tcb_op(r: &mut Rng) -> Word {
    let t = tcb(r);
    let _ = match r.below(14) {
        0 => sys::seL4_TCB_Suspend(t),
        1 | 2 => sys::seL4_TCB_Resume(t),
        3 | 4 => sys::seL4_TCB_ReadRegisters(t, r.one_in(2), 0, r.below(40)).map(|_| ()),
        5 => {
            let mut regs = abi::user_context::UserContext::default();
            for w in regs.regs.iter_mut() {
                *w = word(r);
            }
            sys::seL4_TCB_WriteRegisters(t, r.one_in(2), 0, r.below(40), &regs)
        }
        6 => sys::seL4_TCB_CopyRegisters(
            t,
            tcb(r),
            r.one_in(2),
            r.one_in(2),
            r.one_in(2),
            r.one_in(2),
            0,
        ),
        7 => sys::seL4_TCB_SetPriority(t, tcb(r), CHILD_PRIO - r.below(8)),
        8 => sys::seL4_TCB_SetMCPriority(t, tcb(r), CHILD_PRIO - r.below(8)),
        9 => sys::seL4_TCB_SetIPCBuffer(t, vaddr(r) & !0x3ff, slot(r)),
        10 => {
            if r.one_in(2) {
                sys::seL4_TCB_BindNotification(t, ep(r))
            } else {
                sys::seL4_TCB_UnbindNotification(t)
            }
        }
        11 => sys::seL4_TCB_SetTLSBase(t, word(r)),
        12 => sys::seL4_TCB_SetFlags(t, r.below(4), r.below(4)).map(|_| ()),
        _ => space(r, t),
    };
    1
}

/// `TCB_SetSpace` or `TCB_Configure` with plausible caps.
fn space(r: &mut Rng, t: Word) -> Result<(), abi::Error> {
    let cspace = if r.one_in(3) { slot(r) } else { S_CNODE };
    let data = if r.one_in(2) {
        abi::CNodeCapData::new(0, 64 - CNODE_BITS).0
    } else {
        word(r)
    };
    let vspace = if r.one_in(3) { slot(r) } else { S_VSPACE };
    #[cfg(not(feature = "mcs"))]
    let fault = if r.one_in(3) { slot(r) } else { S_FAULT };
    #[cfg(feature = "mcs")]
    let fault = if r.one_in(3) { slot(r) } else { S_FAULT };
    if r.one_in(2) {
        sys::seL4_TCB_SetSpace(t, fault, cspace, data, vspace, 0)
    } else {
        #[cfg(not(feature = "mcs"))]
        {
            sys::seL4_TCB_Configure(t, fault, cspace, data, vspace, 0, vaddr(r), slot(r))
        }
        #[cfg(feature = "mcs")]
        {
            sys::seL4_TCB_Configure(t, cspace, data, vspace, 0, vaddr(r), slot(r))
        }
    }
}

/// A page or page-table invocation.
fn vspace(r: &mut Rng) -> Word {
    let vs = match r.below(10) {
        0 | 1 => slot(r),
        2 | 3 => S_SIB_VSPACE,
        _ => S_VSPACE,
    };
    let frame = |r: &mut Rng| match r.below(4) {
        0 => S_FRAME0,
        1 => S_FRAME1,
        _ => slot(r),
    };
    let _ = match r.below(8) {
        0..=2 => {
            let f = frame(r);
            let v = vaddr(r);
            let res = sys::seL4_RISCV_Page_Map(f, vs, v, rights(r), r.below(4));
            if res.is_ok() && r.one_in(2) {
                touch_at(r, v);
            }
            res
        }
        3 => sys::seL4_RISCV_Page_Unmap(frame(r)),
        4 => sys::seL4_RISCV_Page_GetAddress(frame(r)).map(|_| ()),
        5 | 6 => sys::seL4_RISCV_PageTable_Map(
            if r.one_in(2) { S_PT } else { slot(r) },
            vs,
            vaddr(r),
            r.below(4),
        ),
        _ => sys::seL4_RISCV_PageTable_Unmap(if r.one_in(2) { S_PT } else { slot(r) }),
    };
    1
}

/// Scheduling: SchedContext invocations (MCS) or TCB priorities.
fn sched(r: &mut Rng) -> Word {
    #[cfg(feature = "mcs")]
    {
        let sc = if r.one_in(4) { slot(r) } else { S_SC };
        let _ = match r.below(7) {
            0 => sys::seL4_SchedContext_Bind(sc, if r.one_in(2) { tcb(r) } else { ep(r) }),
            1 => sys::seL4_SchedContext_Unbind(sc),
            2 => sys::seL4_SchedContext_UnbindObject(sc, tcb(r)),
            3 => sys::seL4_SchedContext_Consumed(sc).map(|_| ()),
            4 => sys::seL4_SchedContext_YieldTo(sc).map(|_| ()),
            5 => sys::seL4_TCB_SetTimeoutEndpoint(tcb(r), slot(r)),
            _ => sys::seL4_TCB_SetSchedParams(
                tcb(r),
                tcb(r),
                CHILD_PRIO - r.below(4),
                CHILD_PRIO - r.below(4),
                if r.one_in(2) { sc } else { 0 },
                if r.one_in(2) { S_FAULT } else { slot(r) },
            ),
        };
    }
    #[cfg(not(feature = "mcs"))]
    {
        let _ = sys::seL4_TCB_SetSchedParams(
            tcb(r),
            tcb(r),
            CHILD_PRIO - r.below(4),
            CHILD_PRIO - r.below(4),
        );
    }
    1
}

/// A syscall by number with random registers: the valid numbers (never the debug ones, which
/// print or halt), and unknown ones (a fault).
fn raw_syscall(r: &mut Rng) {
    #[cfg(not(feature = "mcs"))]
    const VALID: i64 = 8;
    #[cfg(feature = "mcs")]
    const VALID: i64 = 11;
    let n: i64 = match r.below(6) {
        0 => -40 - r.below(1000) as i64,
        1 => 1 + r.below(1000) as i64,
        _ => -1 - r.below(VALID as u64) as i64,
    };
    let mut a = [0 as Word; 8];
    for w in a.iter_mut() {
        *w = word(r);
    }
    if r.one_in(2) {
        a[0] = slot(r);
    }
    // SAFETY: a syscall: the kernel reads a0..a7 and t0, writes a0..a6 (and the IPC buffer,
    // which is this thread's own page); every other register is preserved.
    unsafe {
        core::arch::asm!(
            "ecall",
            inout("a0") a[0] => _,
            inout("a1") a[1] => _,
            inout("a2") a[2] => _,
            inout("a3") a[3] => _,
            inout("a4") a[4] => _,
            inout("a5") a[5] => _,
            inout("a6") a[6] => _,
            inout("t0") a[7] => _,
            in("a7") n,
            options(nostack),
        );
    }
}

/// Read or write a random address of the playground (a VM fault if nothing is mapped there).
fn touch(r: &mut Rng) {
    let v = PLAY + r.below(PLAY_PAGES) * 4096;
    touch_at(r, v);
}

fn touch_at(r: &mut Rng, v: Word) {
    let p = (v & !7) as *mut Word;
    // SAFETY: a deliberate access that may fault (the root task handles it); the playground
    // holds only the child's own frames, nothing the program relies on.
    unsafe {
        if r.one_in(2) {
            p.write_volatile(r.next());
        } else {
            p.read_volatile();
        }
    }
}

/// A deliberate fault: illegal instruction, breakpoint, a read of an unmapped address, or a
/// write to the read-only image.
fn fault(r: &mut Rng) {
    // SAFETY: each of these traps to the kernel, which sends a fault to the root task.
    unsafe {
        match r.below(4) {
            0 => core::arch::asm!("unimp", options(nomem, nostack)),
            1 => core::arch::asm!("ebreak", options(nomem, nostack)),
            2 => {
                core::ptr::dangling::<Word>().read_volatile();
            }
            _ => {
                (0x40_0000 as *mut Word).write_volatile(0);
            }
        }
    }
}
