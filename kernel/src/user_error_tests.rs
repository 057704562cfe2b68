//! Host tests of the `userError` lines ([`user_error!`](crate::user_error)).
//!
//! The property: with the `debug_build` feature, every syscall that fails with an error says
//! why in exactly one line naming the thread that made it, and a syscall that succeeds says
//! nothing; without the feature nothing is ever printed. [`Watch`] checks it around every
//! syscall the test harness makes ([`System::syscall`], [`System::sys`]), so every error path
//! any host test drives is checked; the property test here aims random invocations at every
//! kind of object, and the other tests check seL4's wording of some lines.

use crate::arch::host::{console_len, console_since};
use crate::arch::riscv64::context::reg;
use crate::object::tcb::{TcbRef, ThreadState};
use crate::testing::*;
use abi::{Error, MessageInfo, ObjectType as T, Syscall};
use std::cell::RefCell;
#[cfg(not(feature = "mcs"))]
use {
    crate::arch::ArchCap,
    abi::{bootinfo::slot, InvocationLabel as L},
};

/// How every `userError` line starts.
const MARK: &str = "<<seL4(CPU 0) [";

std::thread_local! {
    /// The `userError` lines of the last syscall made through the harness.
    static LAST: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// The `userError` lines in console output (a line may follow other output without a
/// newline, e.g. `seL4_DebugPutChar`'s).
fn user_error_lines(out: &str) -> Vec<String> {
    out.split(MARK)
        .skip(1)
        .map(|rest| format!("{MARK}{}", rest.split('\n').next().unwrap_or("")))
        .collect()
}

/// Watches the console during one syscall of the harness (leaving it as it is).
#[must_use]
pub struct Watch {
    start: usize,
}

impl Watch {
    /// Starts watching.
    pub fn start() -> Watch {
        Watch {
            start: console_len(),
        }
    }

    /// Ends watching after a syscall `sys` of `t` (its state and reply already final) and
    /// checks the property of the module doc on what the syscall printed. The lines are kept
    /// for [`last_lines`].
    pub fn check(self, t: TcbRef, sys: Syscall) {
        let out = String::from_utf8_lossy(&console_since(self.start)).into_owned();
        let lines = user_error_lines(&out);
        LAST.with(|l| *l.borrow_mut() = lines.clone());
        if !cfg!(feature = "debug_build") {
            assert!(
                !out.contains("<<seL4"),
                "userError output without debug_build: {out:?}"
            );
            return;
        }
        let (name, len) = crate::object::tcb::thread_name(t);
        let who = format!(
            " T{:#x} \"{}\" @",
            t.addr(),
            String::from_utf8_lossy(&name[..len])
        );
        for l in &lines {
            assert!(
                l.contains(&who) && l.ends_with(">>"),
                "{sys:?}: userError line does not name the thread ({who}): {l:?}"
            );
        }
        // MCS: a receive that takes over a Reply object still linked to a caller says so (as
        // seL4 does) and goes on: not an error.
        let lines: Vec<&String> = lines
            .iter()
            .filter(|l| !l.ends_with("Reply object already has unexecuted reply!>>"))
            .collect();
        let info = MessageInfo(t.reg(reg::A1));
        let state = t.state();
        // A syscall stopped at a preemption point (or, MCS, by the end of the budget) runs
        // again: the thread's pc is back at the `ecall`, and nothing was refused.
        if t.reg(reg::PC) == crate::object::tcb::restart_pc(t) {
            assert!(lines.is_empty(), "{sys:?} restarts and printed {lines:#?}");
            return;
        }
        // MCS: ReplyRecv, NBSendRecv and NBSendWait invoke a cap and then receive; each phase
        // may say why it failed (the receive phase iff it faulted).
        #[cfg(feature = "mcs")]
        if matches!(
            sys,
            Syscall::ReplyRecv | Syscall::NBSendRecv | Syscall::NBSendWait
        ) {
            let faulted = matches!(
                state,
                ThreadState::Inactive | ThreadState::BlockedOnSend | ThreadState::BlockedOnReply
            );
            let n = lines.len();
            assert!(
                n >= usize::from(faulted) && n <= 1 + usize::from(faulted),
                "{sys:?} left the thread {state:?} and printed {lines:#?}"
            );
            return;
        }
        match sys {
            Syscall::Call if state == ThreadState::Running => {
                // The thread got its reply: an error (label = code) or success (label 0).
                let expected = usize::from(info.label() != 0);
                assert_eq!(
                    lines.len(),
                    expected,
                    "{sys:?} replied with label {} ({:?}) and printed {lines:#?}",
                    info.label(),
                    Error::from_word(info.label())
                );
            }
            Syscall::Recv | Syscall::NBRecv | Syscall::ReplyRecv => {
                // A receive either waits or gets something (running), or faults: the thread
                // stops (no fault handler) or waits for its fault handler.
                let faulted = matches!(
                    state,
                    ThreadState::Inactive
                        | ThreadState::BlockedOnSend
                        | ThreadState::BlockedOnReply
                );
                assert_eq!(
                    lines.len(),
                    usize::from(faulted),
                    "{sys:?} left the thread {state:?} and printed {lines:#?}"
                );
            }
            _ => assert!(lines.len() <= 1, "{sys:?} printed {lines:#?}"),
        }
    }
}

/// The `userError` lines of the last syscall made through the harness.
pub fn last_lines() -> Vec<String> {
    LAST.with(|l| l.borrow().clone())
}

/// Checks that the last syscall replied `err` (`None`: success; not checked without a reply)
/// and said `why` (the text after the `]: `) from a module whose path ends in `module`; that
/// it said nothing if `why` is empty or without `debug_build`.
#[track_caller]
fn says(r: Option<Reply>, err: Option<Error>, module: &str, why: &str) {
    if let Some(r) = r {
        assert_eq!(r.info.label(), err.map_or(0, |e| e as u64), "{r:?}");
    }
    let lines = last_lines();
    if !cfg!(feature = "debug_build") || why.is_empty() {
        assert!(lines.is_empty(), "{lines:#?}");
        return;
    }
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let l = &lines[0];
    let (head, text) = l.split_once("]: ").expect("`]: ` in a userError line");
    assert_eq!(text.strip_suffix(">>"), Some(why), "{l}");
    let place = head[MARK.len()..].split(' ').next().expect("the place");
    let (path, line) = place.rsplit_once('/').expect("module/line");
    assert!(path.ends_with(module), "{l}: from {path}, not {module}");
    assert!(line.parse::<u32>().is_ok(), "{l}");
}

#[test]
fn lines_name_the_thread_the_place_and_the_restart_pc() {
    let mut s = System::boot();
    let e = s.bootinfo().empty.start;
    let (ut, _, _) = s.ram_untyped(16);
    // One past the root CNode's last slot (#8192 with 2^13 slots).
    let slots = 1u64 << abi::config::ROOT_CNODE_SIZE_BITS;
    let why = format!("Untyped Retype: Destination node offset #{slots} too large.");
    let r = s.retype(ut, T::Endpoint, 0, slots, 1);
    says(Some(r), Some(Error::RangeError), "object::untyped", &why);
    if cfg!(feature = "debug_build") {
        let l = &last_lines()[0];
        let pc = s.root.with(|x| x.fault_ip);
        let expected = format!("{MARK}object::untyped/",);
        assert!(l.starts_with(&expected), "{l}");
        let tail = format!(" T{:#x} \"rootserver\" @{pc:x}]: {why}>>", s.root.addr());
        assert!(l.ends_with(&tail), "{l}\n{tail}");
    }
    // A success says nothing.
    let r = s.retype(ut, T::Endpoint, 0, e, 1);
    says(Some(r), None, "", "");
}

// Non-MCS invocation shapes and syscalls (MCS: to follow with its invocations).
#[cfg(not(feature = "mcs"))]
#[test]
fn invocation_errors_say_what_sel4_says() {
    let mut s = System::boot();
    let e = s.bootinfo().empty.start;
    let (ut, _, _) = s.ram_untyped(16);
    for (i, t) in [T::Endpoint, T::Tcb, T::SmallPage].into_iter().enumerate() {
        assert_eq!(s.retype(ut, t, 0, e + i as u64, 1).info.label(), 0);
    }
    let r = s.retype(ut, T::CapTable, 0, e + 5, 1);
    says(
        Some(r),
        Some(Error::InvalidArgument),
        "object::untyped",
        "Untyped Retype: Requested CapTable size too small.",
    );
    let r = s.retype(ut, T::Endpoint, 0, e, 3);
    says(
        Some(r),
        Some(Error::DeleteFirst),
        "object::untyped",
        &format!("Untyped Retype: Slot #{e} in destination window non-empty."),
    );
    assert_eq!(s.retype(ut, T::Untyped, 12, e + 3, 1).info.label(), 0);
    let r = s.retype(e + 3, T::Untyped, 13, e + 5, 1);
    says(
        Some(r),
        Some(Error::NotEnoughMemory),
        "object::untyped",
        "Untyped Retype: Insufficient memory (1 * 8192 bytes needed, 4096 bytes available).",
    );
    let r = s.call(ut, L::CNodeCopy, &[], &[]);
    says(
        Some(r),
        Some(Error::IllegalOperation),
        "object::untyped",
        "Untyped cap: Illegal operation attempted.",
    );
    // CNode.
    let r = s.cnode(
        L::CNodeCopy,
        &[e, 64, e + 1, 64, 15],
        &[slot::INIT_THREAD_CNODE],
    );
    says(
        Some(r),
        Some(Error::DeleteFirst),
        "object::cnode",
        "CNode Copy/Mint/Move/Mutate: Destination not empty.",
    );
    let r = s.cnode(
        L::CNodeMove,
        &[e + 5, 64, e + 6, 64],
        &[slot::INIT_THREAD_CNODE],
    );
    says(
        Some(r),
        Some(Error::FailedLookup),
        "object::cnode",
        "CNode Copy/Mint/Move/Mutate: Source slot invalid or empty.",
    );
    let r = s.cnode(L::CNodeDelete, &[e, 7], &[]);
    says(
        Some(r),
        Some(Error::FailedLookup),
        "object::cnode",
        "CNode operation: Target slot invalid.",
    );
    let r = s.cnode(L::TCBSuspend, &[], &[]);
    says(
        Some(r),
        Some(Error::IllegalOperation),
        "object::cnode",
        "CNodeCap: Illegal Operation attempted.",
    );
    // TCB.
    let r = s.call(e + 1, L::TCBSetPriority, &[256], &[slot::INIT_THREAD_TCB]);
    says(
        Some(r),
        Some(Error::RangeError),
        "object::tcb_invocation",
        "TCB SetPriority: Requested priority 256 too high (max 255).",
    );
    let caps: &[u64] = if cfg!(feature = "mcs") {
        &[e, e, e]
    } else {
        &[e]
    };
    let r = s.call(e + 1, L::TCBSetSchedParams, &[1, 2], caps);
    says(
        Some(r),
        Some(Error::InvalidCapability),
        "object::tcb_invocation",
        "TCB SetSchedParams: authority cap not a TCB.",
    );
    let r = s.call(e + 1, L::TCBSetIPCBuffer, &[0x1234], &[e + 2]);
    says(
        Some(r),
        Some(Error::AlignmentError),
        // seL4's `checkValidIPCBuffer`, in the architectures' shared code.
        "arch::vmcap",
        "Requested IPC Buffer location 0x1234 is not aligned.",
    );
    let r = s.call(e + 1, L::TCBWriteRegisters, &[0, 3, 7], &[]);
    says(
        Some(r),
        Some(Error::TruncatedMessage),
        "object::tcb_invocation",
        "TCB WriteRegisters: Message too short for requested write size (1/3).",
    );
    let r = s.call(
        slot::DOMAIN,
        L::DomainSetSet,
        &[1],
        &[slot::INIT_THREAD_TCB],
    );
    says(
        Some(r),
        Some(Error::InvalidArgument),
        "object::domain",
        &format!(
            "Domain Configure: invalid domain (1 >= {}).",
            abi::config::NUM_DOMAINS
        ),
    );
    // VSpace.
    let r = s.call(
        e + 2,
        L::RISCVPageMap,
        &[0x10_0800, 3, 0],
        &[slot::INIT_THREAD_VSPACE],
    );
    says(
        Some(r),
        Some(Error::AlignmentError),
        "arch::riscv64::objects",
        "RISCVPageMap: Virtual address 0x100800 not aligned to the frame size (12 bits).",
    );
    let r = s.call(slot::INIT_THREAD_VSPACE, L::RISCVPageTableUnmap, &[], &[]);
    says(
        Some(r),
        Some(Error::RevokeFirst),
        "arch::riscv64::objects",
        // The thread's VTABLE slot holds a copy.
        "RISCVPageTableUnmap: cannot unmap if more than once cap exists",
    );
    // Interrupts.
    let max = abi::platform::current::MAX_IRQ;
    let r = s.call(
        slot::IRQ_CONTROL,
        L::IRQIssueIRQHandler,
        &[max as u64 + 1, e + 5, 64],
        &[slot::INIT_THREAD_CNODE],
    );
    says(
        Some(r),
        Some(Error::RangeError),
        // seL4's `Arch_checkIRQ`, in the architecture's code.
        "arch::riscv64::platform",
        &format!(
            "Rejecting request for IRQ {}. IRQ is out of range [1..{max}].",
            max + 1
        ),
    );
    let r = s.call(
        slot::IRQ_CONTROL,
        L::IRQIssueIRQHandler,
        &[1, e, 64],
        &[slot::INIT_THREAD_CNODE],
    );
    says(
        Some(r),
        Some(Error::DeleteFirst),
        "object::interrupt",
        &format!(
            "Target slot for new IRQ Handler cap not empty: cap {}, IRQ 1.",
            slot::INIT_THREAD_CNODE
        ),
    );
}

// Non-MCS invocation shapes and syscalls (MCS: to follow with its invocations).
#[cfg(not(feature = "mcs"))]
#[test]
fn syscall_errors_say_what_sel4_says() {
    let mut s = System::boot();
    let e = s.bootinfo().empty.start;
    let (ut, _, _) = s.ram_untyped(16);
    assert_eq!(s.retype(ut, T::Endpoint, 0, e, 1).info.label(), 0);
    // Read-only endpoint: InvalidCapability.
    let r = s.cnode(
        L::CNodeMint,
        &[e + 1, 64, e, 64, abi::CapRights::READ.0, 0],
        &[slot::INIT_THREAD_CNODE],
    );
    assert_eq!(r.info.label(), 0);
    let r = s.call(e + 1, L::InvalidInvocation, &[], &[]);
    says(
        Some(r),
        Some(Error::InvalidCapability),
        "syscall",
        &format!("Attempted to invoke a read-only endpoint cap #{}.", e + 1),
    );
    let r = s.call(e + 2, L::CNodeCopy, &[], &[]);
    says(
        Some(r),
        Some(Error::InvalidCapability),
        "syscall",
        &format!("Attempted to invoke a null cap #{}.", e + 2),
    );
    // A failed extra cap lookup: no reply (a fault without Call... NBSend: nothing at all).
    let info = MessageInfo::new(L::CNodeCopy as u64, 0, 1, 0);
    let _ = s.syscall(Syscall::NBSend, e, info, &[], &[1 << 40]);
    says(None, None, "syscall", "Lookup of extra caps failed.");
    assert_eq!(s.root.state(), ThreadState::Running);
    // An invocation of a cap that cannot be looked up: a cap fault, and the thread (without a
    // fault handler) stops.
    let _ = s.syscall(
        Syscall::NBSend,
        1 << 40,
        MessageInfo::new(0, 0, 0, 0),
        &[],
        &[],
    );
    says(
        None,
        None,
        "syscall",
        &format!("Invocation of invalid cap #{}.", 1u64 << 40),
    );
    // Receiving on a cap that is no endpoint or notification.
    let _ = s.syscall(
        Syscall::Recv,
        slot::INIT_THREAD_TCB,
        MessageInfo::new(0, 0, 0, 0),
        &[],
        &[],
    );
    says(
        None,
        None,
        "syscall",
        &format!(
            "Recv: Cap #{} is not an endpoint or notification.",
            slot::INIT_THREAD_TCB
        ),
    );
    assert_eq!(s.root.state(), ThreadState::Inactive);
}

// Non-MCS invocation shapes and syscalls (MCS: to follow with its invocations).
#[cfg(not(feature = "mcs"))]
mod props {
    use super::*;
    use crate::cap::Cap;
    use proptest::prelude::*;

    /// A message word.
    #[derive(Clone, Copy, Debug)]
    enum Word {
        /// This number.
        Num(u64),
        /// Slot `e + i` (`e`: the first empty slot at boot).
        Slot(u64),
    }

    /// An extra cap.
    #[derive(Clone, Copy, Debug)]
    enum ExtraCap {
        /// The root CNode (the usual CNode argument).
        Root,
        /// One of the targets.
        Target(usize),
    }

    /// A syscall of the root task aimed at one of the prepared caps.
    #[derive(Clone, Debug)]
    struct Op {
        sys: Syscall,
        /// The label (41 and up: no invocation).
        label: u64,
        /// `Ok(i)`: the `i`-th (wrapping) target whose object has this label (if any);
        /// `Err(i)`: the `i`-th (wrapping) target.
        target: Result<usize, usize>,
        /// The message length: the label's usual length plus this, within 0..=8.
        len_delta: i64,
        /// Each word: its kind's value from the seed (`true`), or the other word.
        mrs: [(bool, u64, Word); 8],
        /// The number of extra caps: the label's usual number plus this, within 0..=3.
        caps_delta: i64,
        caps: [ExtraCap; 3],
    }

    /// What an argument word is, for well-formed values.
    #[derive(Clone, Copy, Debug)]
    enum Kind {
        /// A prepared, empty or initial slot.
        Slot,
        /// A CNode depth (mostly 64, the root CNode's).
        Depth,
        /// A small number: object types and sizes, counts, flags, rights, IRQs, domains.
        Small,
        /// Cap data or a badge: mostly 0.
        Data,
        /// A priority.
        Prio,
        /// A virtual address.
        Vaddr,
        /// Anything.
        Any,
    }

    /// The kinds of an invocation's message words.
    fn kinds(label: u64) -> [Kind; 8] {
        use Kind::*;
        use L::*;
        let any = [Any; 8];
        let with = |k: &[Kind]| {
            let mut a = any;
            a[..k.len()].copy_from_slice(k);
            a
        };
        let Some(l) = L::from_label(label) else {
            return any;
        };
        match l {
            UntypedRetype => with(&[Small, Small, Slot, Depth, Slot, Small]),
            TCBReadRegisters | TCBWriteRegisters | TCBCopyRegisters | TCBSetFlags => {
                with(&[Small, Small])
            }
            #[cfg(not(feature = "mcs"))]
            TCBConfigure => with(&[Slot, Data, Data, Vaddr]),
            #[cfg(feature = "mcs")]
            TCBConfigure => with(&[Data, Data, Vaddr]),
            TCBSetPriority | TCBSetMCPriority | TCBSetSchedParams => with(&[Prio, Prio]),
            TCBSetIPCBuffer => with(&[Vaddr]),
            #[cfg(not(feature = "mcs"))]
            TCBSetSpace => with(&[Slot, Data, Data]),
            #[cfg(feature = "mcs")]
            TCBSetSpace => with(&[Data, Data]),
            CNodeRotate => with(&[Slot, Depth, Data, Slot, Depth, Data, Slot, Depth]),
            CNodeRevoke
            | CNodeDelete
            | CNodeCancelBadgedSends
            | CNodeCopy
            | CNodeMint
            | CNodeMove
            | CNodeMutate
            | RISCVASIDControlMakePool => with(&[Slot, Depth, Slot, Depth, Small, Data]),
            #[cfg(not(feature = "mcs"))]
            CNodeSaveCaller => with(&[Slot, Depth, Slot, Depth, Small, Data]),
            #[cfg(feature = "mcs")]
            SchedControlConfigureFlags => with(&[Small, Small, Small, Any, Small]),
            IRQIssueIRQHandler => with(&[Small, Slot, Depth]),
            RISCVIRQIssueIRQHandlerTrigger => with(&[Small, Small, Slot, Depth]),
            DomainSetSet | DomainScheduleConfigure | DomainScheduleSetStart => {
                with(&[Small, Small, Small])
            }
            RISCVPageTableMap | RISCVPageMap => with(&[Vaddr, Small, Small]),
            _ => any,
        }
    }

    /// A well-formed word of kind `k` from `seed`.
    fn typed(k: Kind, seed: u64, e: u64) -> u64 {
        match k {
            Kind::Slot if seed.is_multiple_of(4) => seed / 4 % 12,
            Kind::Slot => e + seed % 20,
            Kind::Depth => [64, 64, 64, 64, 0, 13, 70, seed][(seed % 8) as usize],
            Kind::Small => seed % 16,
            Kind::Data => [0, 0, 0, seed % 64, seed][(seed % 5) as usize],
            Kind::Prio => [seed % 256, 255, 256, 300][(seed % 4) as usize],
            Kind::Vaddr => [
                0x10_0000 + ((seed % 8) << 12),
                (seed % 4) << 21,
                (seed % 4) << 30,
                0x3f_ffff_f000,
                seed & !0xfff,
                seed,
            ][(seed % 6) as usize],
            Kind::Any => seed,
        }
    }

    /// The usual message length and number of extra caps of an invocation.
    fn usual(label: u64) -> (i64, i64) {
        use L::*;
        let Some(l) = L::from_label(label) else {
            return (0, 0);
        };
        match l {
            UntypedRetype => (6, 1),
            TCBReadRegisters | TCBSetFlags => (2, 0),
            TCBWriteRegisters => (5, 0),
            TCBCopyRegisters | TCBSetPriority | TCBSetMCPriority | TCBSetIPCBuffer
            | DomainSetSet => (1, 1),
            #[cfg(not(feature = "mcs"))]
            TCBConfigure => (4, 3),
            #[cfg(not(feature = "mcs"))]
            TCBSetSchedParams => (2, 1),
            #[cfg(not(feature = "mcs"))]
            TCBSetSpace => (3, 2),
            #[cfg(feature = "mcs")]
            TCBConfigure | TCBSetSchedParams => (3, 3),
            #[cfg(feature = "mcs")]
            TCBSetSpace => (2, 3),
            #[cfg(feature = "mcs")]
            TCBSetTimeoutEndpoint | SchedContextBind | SchedContextUnbindObject => (0, 1),
            #[cfg(feature = "mcs")]
            SchedControlConfigureFlags => (5, 1),
            TCBBindNotification | IRQSetIRQHandler | RISCVASIDPoolAssign => (0, 1),
            TCBSetTLSBase | DomainScheduleSetStart => (1, 0),
            CNodeRevoke | CNodeDelete | CNodeCancelBadgedSends => (2, 0),
            #[cfg(not(feature = "mcs"))]
            CNodeSaveCaller => (2, 0),
            CNodeCopy | CNodeMutate => (5, 1),
            CNodeMint => (6, 1),
            CNodeMove => (4, 1),
            CNodeRotate => (8, 2),
            IRQIssueIRQHandler => (3, 1),
            RISCVIRQIssueIRQHandlerTrigger => (4, 1),
            DomainScheduleConfigure => (3, 0),
            RISCVPageTableMap => (2, 1),
            RISCVASIDControlMakePool => (2, 2),
            RISCVPageMap => (3, 1),
            _ => (0, 0),
        }
    }

    /// The caps the operations are aimed at, by CPtr: the initial caps, prepared objects and
    /// an empty slot at `e..`, and a CPtr that cannot be looked up.
    fn targets(e: u64, ut: u64) -> Vec<u64> {
        let mut t = vec![1, 2, 3, 4, 5, 6, 9, 10, 11, ut, 1 << 40];
        t.extend(e..e + 16);
        t
    }

    /// Message words: small numbers (also initial slots, rights, object types and sizes),
    /// prepared and empty slots, depths, priorities, page-aligned addresses, anything.
    fn word() -> impl Strategy<Value = Word> {
        prop_oneof![
            3 => (0u64..16).prop_map(Word::Num),
            4 => (0u64..20).prop_map(Word::Slot),
            2 => Just(Word::Num(64)),
            1 => (250u64..260).prop_map(Word::Num),
            2 => (0u64..8).prop_map(|i| Word::Num(0x10_0000 + (i << 12))),
            1 => (0u64..4).prop_map(|i| Word::Num(i << 21)),
            1 => any::<u64>().prop_map(Word::Num),
        ]
    }

    fn extra_cap() -> impl Strategy<Value = ExtraCap> {
        prop_oneof![
            1 => Just(ExtraCap::Root),
            2 => (0usize..64).prop_map(ExtraCap::Target),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        (
            prop_oneof![
                14 => Just(Syscall::Call),
                2 => Just(Syscall::NBSend),
                1 => Just(Syscall::Send),
                1 => Just(Syscall::Recv),
                1 => Just(Syscall::NBRecv),
                1 => Just(Syscall::ReplyRecv),
            ],
            0u64..44,
            prop_oneof![
                5 => (0usize..64).prop_map(Ok),
                1 => (0usize..64).prop_map(Err),
            ],
            prop_oneof![4 => Just(0i64), 1 => Just(-1i64), 1 => Just(1i64), 1 => -8i64..8],
            proptest::array::uniform8((
                prop_oneof![5 => Just(true), 1 => Just(false)],
                any::<u64>(),
                word(),
            )),
            prop_oneof![4 => Just(0i64), 1 => Just(-1i64), 1 => Just(1i64)],
            proptest::array::uniform3(extra_cap()),
        )
            .prop_map(
                |(sys, label, target, len_delta, mrs, caps_delta, caps)| Op {
                    sys,
                    label,
                    target,
                    len_delta,
                    mrs,
                    caps_delta,
                    caps,
                },
            )
    }

    /// The invocation labels of the object `cap` is a cap to (none for IPC caps, which take
    /// any label, and null caps).
    fn labels_of(cap: Cap) -> Vec<u64> {
        use L::*;
        let r = |a: L, b: L| (a as u64..=b as u64).collect::<Vec<_>>();
        match cap {
            Cap::Untyped { .. } => vec![UntypedRetype as u64],
            Cap::Thread { .. } => r(TCBReadRegisters, TCBSetFlags),
            #[cfg(not(feature = "mcs"))]
            Cap::CNode { .. } => r(CNodeRevoke, CNodeSaveCaller),
            #[cfg(feature = "mcs")]
            Cap::CNode { .. } => r(CNodeRevoke, CNodeRotate),
            #[cfg(feature = "mcs")]
            Cap::SchedContext { .. } => r(SchedContextBind, SchedContextYieldTo),
            #[cfg(feature = "mcs")]
            Cap::SchedControl { .. } => vec![SchedControlConfigureFlags as u64],
            Cap::IrqControl => vec![
                IRQIssueIRQHandler as u64,
                RISCVIRQIssueIRQHandlerTrigger as u64,
            ],
            Cap::IrqHandler { .. } => r(IRQAckIRQ, IRQClearIRQHandler),
            Cap::Domain => r(DomainSetSet, DomainScheduleSetStart),
            Cap::Arch(ArchCap::PageTable { .. }) => r(RISCVPageTableMap, RISCVPageTableUnmap),
            Cap::Arch(ArchCap::Frame { .. }) => r(RISCVPageMap, RISCVPageGetAddress),
            Cap::Arch(ArchCap::AsidControl) => vec![RISCVASIDControlMakePool as u64],
            Cap::Arch(ArchCap::AsidPool { .. }) => vec![RISCVASIDPoolAssign as u64],
            _ => Vec::new(),
        }
    }

    /// Prepares objects at `e..`: endpoint, notification, CNode, TCB, two 4 KiB frames (one
    /// mapped at 1 MiB in the root VSpace), a page table, a second VSpace, a 4 KiB untyped,
    /// read-only endpoint and notification caps, an IRQ handler, a second TCB cap, an empty
    /// slot (`e + 13`), write-only endpoint and notification caps.
    fn prepare(s: &mut System, e: u64) {
        let (ut, _, _) = s.ram_untyped(17);
        let objs = [
            (T::Endpoint, 0),
            (T::Notification, 0),
            (T::CapTable, 4),
            (T::Tcb, 0),
            (T::SmallPage, 0),
            (T::SmallPage, 0),
            (T::PageTable, 0),
            (T::PageTable, 0),
            (T::Untyped, 12),
        ];
        for (i, (t, size)) in objs.into_iter().enumerate() {
            assert_eq!(s.retype(ut, t, size, e + i as u64, 1).info.label(), 0);
        }
        let ok = |r: Reply| assert_eq!(r.info.label(), 0, "{r:?}");
        ok(s.call(
            e + 4,
            L::RISCVPageMap,
            &[0x10_0000, 3, 0],
            &[slot::INIT_THREAD_VSPACE],
        ));
        ok(s.call(
            slot::INIT_THREAD_ASID_POOL,
            L::RISCVASIDPoolAssign,
            &[],
            &[e + 7],
        ));
        let cnode = [slot::INIT_THREAD_CNODE];
        let read = abi::CapRights::READ.0;
        ok(s.cnode(L::CNodeMint, &[e + 9, 64, e, 64, read, 5], &cnode));
        ok(s.cnode(L::CNodeMint, &[e + 10, 64, e + 1, 64, read, 0], &cnode));
        ok(s.call(
            slot::IRQ_CONTROL,
            L::IRQIssueIRQHandler,
            &[1, e + 11, 64],
            &cnode,
        ));
        ok(s.cnode(L::CNodeCopy, &[e + 12, 64, e + 3, 64, 15], &cnode));
        let write = abi::CapRights::WRITE.0;
        ok(s.cnode(L::CNodeMint, &[e + 14, 64, e, 64, write, 6], &cnode));
        ok(s.cnode(L::CNodeMint, &[e + 15, 64, e + 1, 64, write, 0], &cnode));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 192, .. ProptestConfig::default() })]
        /// Random invocations of every kind of object (the harness's [`Watch`] checks every
        /// syscall): each failure says why exactly once, successes say nothing.
        #[test]
        fn every_failed_invocation_says_why_once(
            ops in proptest::collection::vec(op(), 1..80)
        ) {
            let mut s = System::boot();
            let e = s.bootinfo().empty.start;
            prepare(&mut s, e);
            let (ut, _, _) = s.ram_untyped(16);
            let targets = targets(e, ut);
            prop_assert_eq!(targets.len(), 27);
            for o in ops {
                let root = s.root;
                let cspace = root.slot(crate::object::tcb::tcb_slot::CTABLE);
                if !matches!(cspace.cap(), Cap::CNode { .. }) {
                    // It gave away its CSpace (SetSpace, Configure, Revoke): nothing more to
                    // invoke.
                    break;
                }
                if !crate::sched::is_schedulable(root) {
                    crate::object::tcb_ops::restart(&mut s.k, root);
                }
                s.run_as(root);
                let cap_of = |cptr: u64| {
                    crate::cspace::lookup_cap_and_slot(cspace.raw(), cptr).map_or(Cap::Null, |(c, _)| c)
                };
                let label = o.label;
                let cptr = match o.target {
                    Ok(i) => {
                        let fit: Vec<u64> = targets
                            .iter()
                            .copied()
                            .filter(|&t| labels_of(cap_of(t)).contains(&label))
                            .collect();
                        if fit.is_empty() { targets[i % targets.len()] } else { fit[i % fit.len()] }
                    }
                    Err(i) => targets[i % targets.len()],
                };
                if cptr == slot::INIT_THREAD_TCB && label == L::TCBCopyRegisters as u64 {
                    // Copying registers into itself moves its pc, which the harness refuses.
                    continue;
                }
                let (len, ncaps) = usual(label);
                let len = (len + o.len_delta).clamp(0, 8) as usize;
                let ncaps = (ncaps + o.caps_delta).clamp(0, 3) as usize;
                let mrs: Vec<u64> = o.mrs[..len]
                    .iter()
                    .zip(kinds(label))
                    .map(|(&(typed_word, seed, w), k)| match w {
                        _ if typed_word => typed(k, seed, e),
                        Word::Num(n) => n,
                        Word::Slot(i) => e + i,
                    })
                    .collect();
                let caps: Vec<u64> = o.caps[..ncaps]
                    .iter()
                    .map(|&c| match c {
                        ExtraCap::Root => slot::INIT_THREAD_CNODE,
                        ExtraCap::Target(i) => targets[i % targets.len()],
                    })
                    .collect();
                let info = MessageInfo::new(label, 0, caps.len() as u64, mrs.len() as u64);
                let _ = s.syscall(o.sys, cptr, info, &mrs, &caps);
            }
        }
    }
}

/// The deeper CNode Mint, Mutate and Rotate checks, which random invocations rarely reach.
// Non-MCS invocation shapes and syscalls (MCS: to follow with its invocations).
#[cfg(not(feature = "mcs"))]
#[test]
fn deep_cnode_checks_say_why() {
    let mut s = System::boot();
    let e = s.bootinfo().empty.start;
    let (ut, _, _) = s.ram_untyped(16);
    assert_eq!(s.retype(ut, T::Endpoint, 0, e, 1).info.label(), 0);
    assert_eq!(s.retype(ut, T::Tcb, 0, e + 1, 1).info.label(), 0);
    let root = slot::INIT_THREAD_CNODE;
    let m = "object::cnode";
    let all_rights = 0xf;

    let r = s.cnode(L::CNodeMint, &[e + 5, 64, e, 64, all_rights], &[root]);
    says(
        Some(r),
        Some(Error::TruncatedMessage),
        m,
        "CNode Mint: Truncated message.",
    );
    // The untyped has children: it cannot be copied.
    let r = s.cnode(L::CNodeMint, &[e + 5, 64, ut, 64, all_rights, 0], &[root]);
    says(
        Some(r),
        Some(Error::RevokeFirst),
        m,
        "Error deriving cap for CNode Mint operation: Untyped cap has children",
    );
    let r = s.cnode(L::CNodeMutate, &[e + 5, 64, e, 64], &[root]);
    says(
        Some(r),
        Some(Error::TruncatedMessage),
        m,
        "CNode Mutate: Truncated message.",
    );

    // Rotate: words dest index, depth, pivot data, index, depth, source data, index, depth;
    // caps pivot root, source root.
    let rotate = |s: &mut System, dest: u64, pivot: u64, src: u64| {
        s.cnode(
            L::CNodeRotate,
            &[dest, 64, 0, pivot, 64, 0, src, 64],
            &[root, root],
        )
    };
    let r = rotate(&mut s, e, e + 3, e + 1);
    says(
        Some(r),
        Some(Error::DeleteFirst),
        m,
        "CNode Rotate: Destination slot not empty.",
    );
    let r = rotate(&mut s, e + 5, e, e + 6);
    says(
        Some(r),
        Some(Error::FailedLookup),
        m,
        "CNode Rotate: Source slot empty.",
    );
    let r = rotate(&mut s, e + 5, e + 6, e + 1);
    says(
        Some(r),
        Some(Error::FailedLookup),
        m,
        "CNode Rotate: Pivot slot empty.",
    );
    // Rotate's cap data is applied as a Mutate's: an endpoint cap's becomes null.
    let r = rotate(&mut s, e + 5, e + 1, e);
    says(
        Some(r),
        Some(Error::IllegalOperation),
        m,
        "CNode Rotate: Source cap invalid.",
    );
    let r = rotate(&mut s, e + 5, e, e + 1);
    says(
        Some(r),
        Some(Error::IllegalOperation),
        m,
        "CNode Rotate: Pivot cap invalid.",
    );
    // Nothing moved.
    assert!(matches!(
        s.root_slot(e).cap(),
        crate::cap::Cap::Endpoint { .. }
    ));
    assert!(matches!(
        s.root_slot(e + 1).cap(),
        crate::cap::Cap::Thread { .. }
    ));
    assert!(s.root_slot(e + 5).cap().is_null());
}
