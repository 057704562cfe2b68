//! The second part of the demo: threads in CSpaces of their own.
//!
//! * A server and a client, each with a 16-slot CNode holding only the caps it needs (guard
//!   60 bits, so that plain CPtrs of depth 64 resolve), talk through a badged endpoint with
//!   `seL4_Call`/`seL4_ReplyRecv`; the server prints each badge and message.
//! * The client then signals a notification the server waits on.
//! * A thread loads from address 0 and faults; a fault handler thread receives the fault
//!   message on the endpoint named as the faulting thread's fault endpoint and prints it.
//!
//! The threads share the root task's address space: each has a static stack, a static IPC
//! buffer page from the root task's `.bss` (its frame cap is one of
//! `BootInfo.userImageFrames`) and a libsel4 `ThreadBlock` that its thread pointer (`tp`,
//! `tpidr_el0`) points at.
//!
//! MCS (feature `mcs`): every thread also gets a scheduling context of its own (retyped from
//! the untyped, configured by `SchedControl_Configure` as a round robin of [`BUDGET_US`],
//! bound by `TCB_SetSchedParams`, which also installs the fault endpoint: a cap in the root
//! task's CSpace, copied into the TCB, instead of a CPtr looked up at fault time), and the
//! threads that receive (the server, the fault handler) a Reply object in their CNode
//! ([`slot::REPLY`]): they receive with it, and reply by `seL4_Send` on it (MCS has no
//! `seL4_Reply`).

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU64, Ordering};

use abi::user_context::{idx, UserContext};
use abi::{BootInfo, CNodeCapData, CPtr, CapRights, MessageInfo, ObjectType, Word};
use libsel4::cap::{init, CNode, Cap, Notification, Untyped};
use libsel4::ipc::ThreadBlock;
use libsel4::{error_name, last_error, println, sys};

const THREADS: usize = 4;
const STACK_SIZE: usize = 16 * 1024;

/// CPtrs inside the threads' own CNodes.
pub(crate) mod slot {
    use abi::CPtr;
    /// Every thread's own TCB cap (to stop itself when done).
    pub const SELF: CPtr = 1;
    /// Server: the endpoint (receive only). Client: the badged endpoint (send, grant-reply).
    /// Fault handler: the fault endpoint (receive only). Faulting thread: the fault endpoint
    /// (send, grant).
    pub const EP: CPtr = 2;
    /// Server: the notification (receive only). Client: the notification (send, badge 0x10).
    pub const NTFN: CPtr = 3;
    /// Server and fault handler: the root task's "done" notification (send, badged).
    pub const DONE: CPtr = 4;
    /// MCS: server and fault handler: the Reply object they receive with.
    #[cfg(feature = "mcs")]
    pub const REPLY: CPtr = 5;
}

/// MCS: budget and period of every thread's scheduling context, in µs: a round robin with the
/// time slice of the non-MCS configuration (5 ticks of 2 ms) doubled, as the tests' threads.
#[cfg(feature = "mcs")]
pub(crate) const BUDGET_US: u64 = 10_000;

/// Radix of the threads' CNodes.
pub(crate) const RADIX: u8 = 4;
/// Guard of the threads' CNodes: 60 bits of 0, so 60 + 4 bits resolve a 64-bit CPtr.
pub(crate) const GUARD: CNodeCapData = guard(RADIX);

const CLIENT_BADGE: Word = 0x42;
const NTFN_BADGE: Word = 0x10;
const FAULT_BADGE: Word = 0xfa;
const DONE_SERVER: Word = 0x1;
const DONE_HANDLER: Word = 0x2;

#[repr(C, align(4096))]
struct Page([u8; 4096]);

#[repr(C, align(16))]
struct Stack([u8; STACK_SIZE]);

struct Shared<T>(UnsafeCell<T>);
// SAFETY: the root task writes a thread's stack and page only before the thread starts; after
// that only that thread uses them.
unsafe impl<T> Sync for Shared<T> {}

static STACKS: Shared<[Stack; THREADS]> =
    Shared(UnsafeCell::new([const { Stack([0; STACK_SIZE]) }; THREADS]));
static PAGES: Shared<[Page; THREADS]> =
    Shared(UnsafeCell::new([const { Page([0; 4096]) }; THREADS]));
static BLOCKS: [ThreadBlock; THREADS] = [const { ThreadBlock::new() }; THREADS];

/// What the threads saw, for the root task to check: the server's badges and notification
/// badge, the client's replies, the fault handler's message.
static SERVER_BADGES: AtomicU64 = AtomicU64::new(0);
static SERVER_NTFN: AtomicU64 = AtomicU64::new(0);
static CLIENT_REPLIES: AtomicU64 = AtomicU64::new(0);
static FAULT: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];

pub(crate) fn stop() -> ! {
    loop {
        let _ = sys::seL4_TCB_Suspend(slot::SELF);
    }
}

/// `seL4_Recv` on `ep` (MCS: with the thread's Reply object).
fn recv(ep: CPtr) -> (MessageInfo, Word) {
    #[cfg(not(feature = "mcs"))]
    {
        sys::seL4_Recv(ep)
    }
    #[cfg(feature = "mcs")]
    {
        sys::seL4_Recv(ep, slot::REPLY)
    }
}

/// `seL4_ReplyRecv` on `ep` (MCS: through and with the thread's Reply object).
fn reply_recv(ep: CPtr, info: MessageInfo) -> (MessageInfo, Word) {
    #[cfg(not(feature = "mcs"))]
    {
        sys::seL4_ReplyRecv(ep, info)
    }
    #[cfg(feature = "mcs")]
    {
        sys::seL4_ReplyRecv(ep, info, slot::REPLY)
    }
}

/// `seL4_Reply` (MCS: `seL4_Send` on the thread's Reply object).
fn reply(info: MessageInfo) {
    #[cfg(not(feature = "mcs"))]
    {
        sys::seL4_Reply(info)
    }
    #[cfg(feature = "mcs")]
    {
        sys::seL4_Send(slot::REPLY, info)
    }
}

extern "C" fn server_main() -> ! {
    let (mut info, mut badge) = recv(slot::EP);
    for i in 0..3 {
        let n = info.length() as usize;
        let mut words = [0; 4];
        for (j, w) in words.iter_mut().enumerate().take(n.min(4)) {
            *w = sys::seL4_GetMR(j);
        }
        println!(
            "  server: message from badge {badge:#x}: label {:#x}, words {:?}",
            info.label(),
            &words[..n.min(4)]
        );
        SERVER_BADGES.fetch_or(badge << (8 * i), Ordering::SeqCst);
        let sum: Word = words[..n.min(4)].iter().sum();
        sys::seL4_SetMR(0, sum);
        let reply = MessageInfo::new(0, 0, 0, 1);
        if i < 2 {
            (info, badge) = reply_recv(slot::EP, reply);
        } else {
            self::reply(reply);
        }
    }
    println!("  server: waiting for the client's notification");
    #[cfg(not(feature = "mcs"))]
    let b = sys::seL4_Wait(slot::NTFN);
    #[cfg(feature = "mcs")]
    let b = sys::seL4_Wait(slot::NTFN).1;
    println!("  server: notification with badge {b:#x}");
    SERVER_NTFN.store(b, Ordering::SeqCst);
    sys::seL4_Signal(slot::DONE);
    stop()
}

extern "C" fn client_main() -> ! {
    let requests: [&[Word]; 3] = [&[1, 2, 3], &[10, 20], &[100, 200, 300, 400]];
    for (i, words) in requests.iter().enumerate() {
        for (j, w) in words.iter().enumerate() {
            sys::seL4_SetMR(j, *w);
        }
        println!("  client: call {i} with {words:?}");
        let r = sys::seL4_Call(
            slot::EP,
            MessageInfo::new(0x10 + i as Word, 0, 0, words.len() as Word),
        );
        let sum = sys::seL4_GetMR(0);
        println!("  client: reply label {}, sum {sum}", r.label());
        CLIENT_REPLIES.fetch_add(sum, Ordering::SeqCst);
    }
    println!("  client: signalling the server");
    sys::seL4_Signal(slot::NTFN);
    stop()
}

extern "C" fn handler_main() -> ! {
    let (info, badge) = recv(slot::EP);
    let mrs: [Word; 4] = core::array::from_fn(sys::seL4_GetMR);
    let kind = match info.label() {
        abi::fault::CAP_FAULT => "cap fault",
        abi::fault::UNKNOWN_SYSCALL => "unknown syscall",
        abi::fault::USER_EXCEPTION => "user exception",
        abi::fault::VM_FAULT => "VM fault",
        _ => "unknown fault",
    };
    println!(
        "  fault handler: fault label {} ({kind}) from badge {badge:#x}, {} words",
        info.label(),
        info.length()
    );
    // The FSR: riscv64's cause number, aarch64's ESR_EL1 (in hex).
    #[cfg(not(target_arch = "aarch64"))]
    println!(
        "  fault handler: pc {:#x}, address {:#x}, instruction fault {}, FSR {}",
        mrs[0], mrs[1], mrs[2], mrs[3]
    );
    #[cfg(target_arch = "aarch64")]
    println!(
        "  fault handler: pc {:#x}, address {:#x}, instruction fault {}, FSR {:#x}",
        mrs[0], mrs[1], mrs[2], mrs[3]
    );
    FAULT[0].store(info.label(), Ordering::SeqCst);
    for (f, m) in FAULT[1..].iter().zip(mrs) {
        f.store(m, Ordering::SeqCst);
    }
    println!("  fault handler: leaving the faulting thread stopped");
    sys::seL4_Signal(slot::DONE);
    stop()
}

extern "C" fn faulter_main() -> ! {
    println!("  faulting thread: loading from address 0");
    #[cfg(target_arch = "riscv64")]
    // SAFETY: a load from the unmapped page 0: it faults, and this thread is never resumed.
    unsafe {
        core::arch::asm!("ld {0}, 0(zero)", out(reg) _)
    };
    #[cfg(target_arch = "aarch64")]
    // SAFETY: as above.
    unsafe {
        core::arch::asm!("mov {0}, #0", "ldr {0}, [{0}]", out(reg) _)
    };
    println!("  faulting thread: still running?!");
    stop()
}

/// What the demo needs from the root task's resources.
pub struct Env<'a> {
    /// The BootInfo.
    pub bi: &'a BootInfo,
    /// The untyped to make objects from.
    pub ut: Untyped,
    /// The first free slot of the root CNode; the part uses the slots after it.
    pub first: CPtr,
}

/// A thread and its CNode.
pub(crate) struct Thread {
    pub(crate) tcb: CPtr,
    pub(crate) cnode: CNode,
    /// The CNode's radix (its guard makes up the rest of 64 bits).
    pub(crate) radix: u8,
}

/// The guard of a thread's CNode of `radix`: 0 of `64 - radix` bits, so that a CPtr of depth 64
/// resolves to a slot of it.
pub(crate) const fn guard(radix: u8) -> CNodeCapData {
    CNodeCapData::new(0, 64 - radix as u64)
}

/// How a thread starts: its entry point and its first arguments (`a0`..).
pub(crate) struct Start<'a> {
    pub(crate) entry: Word,
    pub(crate) args: &'a [Word],
}

impl Start<'_> {
    /// `entry()` with no arguments.
    pub(crate) fn plain(entry: extern "C" fn() -> !) -> Start<'static> {
        Start {
            entry: entry as usize as Word,
            args: &[],
        }
    }
}

pub(crate) fn check(what: &str, r: Result<(), abi::Error>) -> Result<(), &'static str> {
    r.map_err(|e| {
        println!("  {what}: {} [{}]", error_name(e), last_error().detail());
        "an invocation that should succeed failed"
    })
}

fn frame_of(bi: &BootInfo, vaddr: usize) -> CPtr {
    let image = libsel4::rt::image_range();
    bi.user_image_frames.start + ((vaddr - image.start) / 4096) as CPtr
}

/// Whether `fsr`, the FSR word of a VM fault message, is a load's: riscv64 reports the access
/// fault cause (5, load access fault; seL4 gives it for page faults too); aarch64 the whole
/// ESR_EL1 (seL4 `handleVMFault`): a data abort from EL0 (EC 0x24) with WnR clear.
pub(crate) fn is_load_fault(fsr: Word) -> bool {
    if cfg!(target_arch = "aarch64") {
        fsr >> 26 == 0x24 && fsr & (1 << 6) == 0
    } else {
        fsr == 5
    }
}

/// Whether `fsr`, the FSR word of a VM fault message, is a store's ([`is_load_fault`]; riscv64:
/// 7, store access fault).
pub(crate) fn is_store_fault(fsr: Word) -> bool {
    if cfg!(target_arch = "aarch64") {
        fsr >> 26 == 0x24 && fsr & (1 << 6) != 0
    } else {
        fsr == 7
    }
}

/// The registers of a new thread: it starts at `pc` with stack `sp`, its thread pointer (`tp`,
/// `tpidr_el0`: libsel4's [`ThreadBlock`]) at `tls`, `args` in its first argument registers
/// (`a0`.., `x0`..), and (riscv64) the root task's global pointer.
pub(crate) fn entry_registers(pc: Word, sp: Word, tls: Word, args: &[Word]) -> UserContext {
    let mut regs = UserContext::default();
    regs.regs[idx::PC] = pc;
    regs.regs[idx::SP] = sp;
    #[cfg(not(target_arch = "aarch64"))]
    {
        regs.regs[idx::A0..idx::A0 + args.len()].copy_from_slice(args);
        regs.regs[idx::GP] = global_pointer();
        regs.regs[idx::TP] = tls;
    }
    #[cfg(target_arch = "aarch64")]
    {
        regs.regs[idx::X0..idx::X0 + args.len()].copy_from_slice(args);
        regs.regs[idx::TPIDR_EL0] = tls;
    }
    regs
}

/// How many words of [`UserContext`] `WriteRegisters` writes: all.
pub(crate) const CONTEXT_WORDS: Word = abi::user_context::USER_CONTEXT_WORDS as Word;

/// The root task's global pointer (`gp`, riscv64), which its threads share.
#[cfg(not(target_arch = "aarch64"))]
pub(crate) fn global_pointer() -> Word {
    #[cfg(target_arch = "riscv64")]
    {
        let gp: Word;
        // SAFETY: reads a register.
        unsafe { core::arch::asm!("mv {0}, gp", out(reg) gp, options(nomem, nostack)) };
        gp
    }
    #[cfg(not(target_arch = "riscv64"))]
    {
        0
    }
}

/// Make thread `i`: a TCB and a 16-slot CNode (its own TCB cap in slot 1), configured with that
/// CNode as CSpace (guard set), the root VSpace, IPC buffer page `i` and fault endpoint
/// `fault_ep` (a CPtr in its CNode; MCS: a cap in the root CNode, 0 for none); priority `prio`;
/// registers set to run `entry`. MCS: also a scheduling context ([`sched_context`]), bound
/// with the priority and the fault endpoint by `TCB_SetSchedParams`.
pub(crate) fn make_thread(
    env: &Env,
    next: &mut CPtr,
    i: usize,
    name: &str,
    entry: extern "C" fn() -> !,
    prio: Word,
    fault_ep: CPtr,
) -> Result<Thread, &'static str> {
    make_thread_with(
        env,
        next,
        i,
        name,
        Start::plain(entry),
        (prio, 0),
        fault_ep,
        RADIX,
    )
}

/// [`make_thread`] with a CNode of `2^radix` slots, the priority and MCP `sched` (the MCP
/// with the root task's authority), and `start`'s arguments in `a0`...
#[allow(clippy::too_many_arguments)]
pub(crate) fn make_thread_with(
    env: &Env,
    next: &mut CPtr,
    i: usize,
    name: &str,
    start: Start,
    sched: (Word, Word),
    fault_ep: CPtr,
    radix: u8,
) -> Result<Thread, &'static str> {
    let (prio, mcp) = sched;
    let root = init::CNODE;
    let (tcb, cn) = (*next, *next + 1);
    *next += 2;
    let here = root.as_retype_dest();
    check("TCB", env.ut.retype(ObjectType::Tcb, 0, &here, tcb, 1))?;
    check(
        "CNode",
        env.ut
            .retype(ObjectType::CapTable, radix as Word, &here, cn, 1),
    )?;
    let cnode: CNode = Cap::from_bits(cn);
    check(
        "own TCB cap",
        cnode
            .relative_bits_with_depth(slot::SELF, radix)
            .copy_from(&root.absolute_cptr(tcb), CapRights::ALL),
    )?;
    // SAFETY: page `i` and block `i` belong to this thread alone, which has not started: the
    // page pointer stays inside `PAGES`, and nothing else reads or writes block `i` yet.
    let page = unsafe {
        let page = (PAGES.0.get() as *mut Page).add(i);
        BLOCKS[i].set_buffer(page as *mut abi::IpcBuffer);
        page as usize
    };
    let t = libsel4::cap::Tcb::from_bits(tcb);
    #[cfg(not(feature = "mcs"))]
    {
        check(
            "Configure",
            t.configure(
                fault_ep,
                cnode,
                guard(radix),
                init::VSPACE,
                0,
                page as Word,
                Cap::from_bits(frame_of(env.bi, page)),
            ),
        )?;
        check("SetPriority", t.set_priority(init::TCB, prio))?;
        if mcp != 0 {
            check("SetMCPriority", t.set_mc_priority(init::TCB, mcp))?;
        }
    }
    #[cfg(feature = "mcs")]
    {
        check(
            "Configure",
            t.configure(
                cnode,
                guard(radix),
                init::VSPACE,
                0,
                page as Word,
                Cap::from_bits(frame_of(env.bi, page)),
            ),
        )?;
        let sc = sched_context(env, next)?;
        // MCP `mcp` (0 for most: what a thread made with SetPriority keeps).
        check(
            "SetSchedParams",
            t.set_sched_params(init::TCB, mcp, prio, sc, Cap::from_bits(fault_ep)),
        )?;
    }
    // SAFETY: address arithmetic inside the static array.
    let sp = unsafe { (STACKS.0.get() as *mut Stack).add(i + 1) } as Word;
    let regs = entry_registers(
        start.entry,
        sp,
        &BLOCKS[i] as *const ThreadBlock as Word,
        start.args,
    );
    check(
        "WriteRegisters",
        t.write_registers(false, CONTEXT_WORDS, &regs),
    )?;
    t.debug_name(name);
    Ok(Thread { tcb, cnode, radix })
}

/// MCS: a scheduling context in root slot `*next` (`seL4_MinSchedContextBits`), configured by
/// the SchedControl cap (`BootInfo.schedcontrol`) as a round robin of [`BUDGET_US`].
#[cfg(feature = "mcs")]
pub(crate) fn sched_context(
    env: &Env,
    next: &mut CPtr,
) -> Result<libsel4::cap::SchedContext, &'static str> {
    let s = *next;
    *next += 1;
    check(
        "SchedContext",
        env.ut.retype(
            ObjectType::SchedContext,
            abi::object::MIN_SCHED_CONTEXT_BITS,
            &init::CNODE.as_retype_dest(),
            s,
            1,
        ),
    )?;
    let sc = Cap::from_bits(s);
    let control: libsel4::cap::SchedControl = Cap::from_bits(env.bi.schedcontrol.start);
    check(
        "SchedControl_Configure",
        control.configure(sc, BUDGET_US, BUDGET_US, 0, 0),
    )?;
    Ok(sc)
}

/// MCS: a Reply object, retyped straight into slot `at` of `t`'s CNode.
#[cfg(feature = "mcs")]
pub(crate) fn give_reply(env: &Env, t: &Thread, at: CPtr) -> Result<(), &'static str> {
    check(
        "Reply object",
        env.ut
            .retype(ObjectType::Reply, 0, &t.cnode.as_retype_dest(), at, 1),
    )
}

/// Put a cap to root slot `src` with `rights` and `badge` into slot `at` of `t`'s CNode.
pub(crate) fn give(
    t: &Thread,
    at: CPtr,
    src: CPtr,
    rights: CapRights,
    badge: Word,
) -> Result<(), &'static str> {
    check(
        "mint into a thread's CNode",
        t.cnode.relative_bits_with_depth(at, t.radix).mint_from(
            &init::CNODE.absolute_cptr(src),
            rights,
            badge,
        ),
    )
}

pub(crate) fn resume(t: &Thread) -> Result<(), &'static str> {
    check("Resume", sys::seL4_TCB_Resume(t.tcb))
}

/// Wait on the root task's "done" notification until all of `bits` came.
fn wait_done(done: CPtr, bits: Word) {
    let mut got = 0;
    while got & bits != bits {
        got |= Notification::from_bits(done).wait();
    }
}

/// Run the second part; returns the first root slot it did not use.
pub fn run(env: &Env) -> Result<CPtr, &'static str> {
    // SAFETY: the root thread has a thread pointer of 0 (libsel4's `_start`); every thread
    // made here runs with its thread pointer at its own block.
    unsafe { libsel4::ipc::enable_thread_blocks() };
    let root = init::CNODE;
    let here = root.as_retype_dest();
    let (ep, ntfn, fault_ep, done) = (env.first, env.first + 1, env.first + 2, env.first + 3);
    let mut next = env.first + 4;
    println!("Threads in their own CSpaces:");
    check(
        "endpoint",
        env.ut.retype(ObjectType::Endpoint, 0, &here, ep, 1),
    )?;
    check(
        "notification",
        env.ut.retype(ObjectType::Notification, 0, &here, ntfn, 1),
    )?;
    check(
        "fault endpoint",
        env.ut.retype(ObjectType::Endpoint, 0, &here, fault_ep, 1),
    )?;
    check(
        "done notification",
        env.ut.retype(ObjectType::Notification, 0, &here, done, 1),
    )?;

    let server = make_thread(env, &mut next, 0, "server", server_main, 200, 0)?;
    give(&server, slot::EP, ep, CapRights::READ, 0)?;
    give(&server, slot::NTFN, ntfn, CapRights::READ, 0)?;
    give(&server, slot::DONE, done, CapRights::WRITE, DONE_SERVER)?;
    #[cfg(feature = "mcs")]
    give_reply(env, &server, slot::REPLY)?;
    let client = make_thread(env, &mut next, 1, "client", client_main, 100, 0)?;
    let call_rights = CapRights::new(true, false, false, true);
    give(&client, slot::EP, ep, call_rights, CLIENT_BADGE)?;
    give(&client, slot::NTFN, ntfn, CapRights::WRITE, NTFN_BADGE)?;
    println!(
        "  server (priority 200) and client (priority 100): 16-slot CNodes, guard {} bits",
        GUARD.guard_size()
    );
    println!("  client's endpoint cap: badge {CLIENT_BADGE:#x}, rights write + grant-reply");
    resume(&server)?;
    resume(&client)?;
    wait_done(done, DONE_SERVER);
    let badges = SERVER_BADGES.load(Ordering::SeqCst);
    println!(
        "  root: server saw badges {badges:#x}, client got sums {}, notification {:#x}",
        CLIENT_REPLIES.load(Ordering::SeqCst),
        SERVER_NTFN.load(Ordering::SeqCst)
    );
    if badges != CLIENT_BADGE * 0x01_01_01 {
        return Err("the server saw the wrong badges");
    }
    if CLIENT_REPLIES.load(Ordering::SeqCst) != 6 + 30 + 1000 {
        return Err("the client got the wrong replies");
    }
    if SERVER_NTFN.load(Ordering::SeqCst) != NTFN_BADGE {
        return Err("the server got the wrong notification badge");
    }

    println!("Fault handling:");
    let handler = make_thread(env, &mut next, 2, "fault-handler", handler_main, 150, 0)?;
    give(&handler, slot::EP, fault_ep, CapRights::READ, 0)?;
    give(&handler, slot::DONE, done, CapRights::WRITE, DONE_HANDLER)?;
    #[cfg(feature = "mcs")]
    give_reply(env, &handler, slot::REPLY)?;
    let fault_rights = CapRights::new(false, true, false, true);
    // The faulting thread's fault endpoint: a CPtr in its CNode (the cap is put there below);
    // MCS: a cap in the root CNode, copied into its TCB.
    #[cfg(not(feature = "mcs"))]
    let faulter_ep = slot::EP;
    #[cfg(feature = "mcs")]
    let faulter_ep = {
        let s = next;
        next += 1;
        check(
            "mint the fault endpoint",
            root.absolute_cptr(s).mint_from(
                &root.absolute_cptr(fault_ep),
                fault_rights,
                FAULT_BADGE,
            ),
        )?;
        s
    };
    let faulter = make_thread(env, &mut next, 3, "faulter", faulter_main, 50, faulter_ep)?;
    give(&faulter, slot::EP, fault_ep, fault_rights, FAULT_BADGE)?;
    resume(&handler)?;
    resume(&faulter)?;
    wait_done(done, DONE_HANDLER);
    let f: [Word; 5] = core::array::from_fn(|i| FAULT[i].load(Ordering::SeqCst));
    if f[0] != abi::fault::VM_FAULT || f[2] != 0 || f[3] != 0 || !is_load_fault(f[4]) {
        println!("  root: fault message {f:x?}");
        return Err("the fault handler got the wrong fault message");
    }
    println!("  root: the faulting thread stopped at pc {:#x}", f[1]);
    Ok(next)
}
