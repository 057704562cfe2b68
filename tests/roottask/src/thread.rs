//! Threads for the tests: each runs a Rust `extern "C" fn` in the root task's own address space
//! and CSpace, with a static stack, a static 4 KiB IPC buffer page from the root task's `.bss`
//! (its frame cap is one of `BootInfo.userImageFrames`) and a [`Local`] block that `tp` points
//! at (libsel4 finds the thread's IPC buffer there).
//!
//! A thread is made the way seL4's tutorials make one: `Untyped_Retype` of a TCB,
//! `TCB_Configure` (CSpace, VSpace, IPC buffer), `TCB_SetPriority`, `TCB_WriteRegisters`
//! (pc, sp, the TLS register, the first four argument registers; riscv64: gp) and
//! `TCB_Resume`.
//!
//! MCS (feature `mcs`): a thread also gets a scheduling context (`Untyped_Retype` of a
//! SchedContext of `seL4_MinSchedContextBits`, `SchedControl_Configure` from
//! `BootInfo.schedcontrol` with budget = period = [`THREAD_BUDGET_US`], a round-robin SC) bound
//! by `TCB_SetSchedParams`, and a Reply object of its own for receiving ([`recv`],
//! [`reply_recv`], [`reply`]: seL4 16.0.0 MCS has no `seL4_Reply`; a server replies by invoking
//! the Reply object it received with). The root thread receives with [`Ctx::root_reply`].
//!
//! Waiting without hanging: the root task blocks only through [`Ctx::recv`] and
//! [`Ctx::wait`]. Before blocking they publish the object waited on; a watchdog thread at
//! priority 1, below every test thread, sends a message with label [`WATCHDOG_LABEL`] (or a
//! signal with badge bit [`WATCHDOG_BIT`]) to it. The watchdog only runs when every other
//! thread is blocked, so its message means "nothing else can happen": a deadlock when a test
//! expected a message, or the proof that a stopped thread stays stopped
//! ([`Ctx::expect_idle`]).

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use abi::user_context::UserContext;
use abi::{CNodeCapData, CPtr, CapRights, MessageInfo, ObjectType, Word};
use libsel4::cap::init;
use libsel4::ipc::ThreadBlock;
use libsel4::sys;

use crate::framework::{Ctx, Fail};

/// Threads a test can have at once (the watchdog included).
pub const MAX_THREADS: usize = 8;
/// Stack of each thread.
pub const STACK_SIZE: usize = 16 * 1024;
/// Priorities the tests use: the root task runs at 255 (`seL4_MaxPrio`), the watchdog at 1.
pub const WATCHDOG_PRIO: Word = 1;
/// Label of the watchdog's message.
pub const WATCHDOG_LABEL: Word = 0xd06d06;
/// Badge bit of the watchdog's signal.
pub const WATCHDOG_BIT: Word = 1 << 63;
/// Badge of the fault endpoint cap that [`Ctx::fault_ep`] mints.
pub const FAULT_BADGE: Word = 0xfa;
/// MCS: budget and period of a test thread's scheduling context, in µs: round robin, with the
/// time slice of the non-MCS configuration (`CONFIG_TIME_SLICE` 5 ticks of 2 ms).
#[cfg(feature = "mcs")]
pub const THREAD_BUDGET_US: u64 = 10_000;

/// A 4 KiB page-aligned page.
#[repr(C, align(4096))]
pub struct Page(pub [u8; 4096]);

#[repr(C, align(16))]
struct Stack([u8; STACK_SIZE]);

/// What a test thread's `tp` points at: libsel4's block first (its IPC buffer), then the
/// thread's own TCB cap (for [`park`]).
#[repr(C)]
pub struct Local {
    /// libsel4's per-thread state.
    pub block: ThreadBlock,
    /// The thread's TCB cap in the root CNode.
    pub tcb: AtomicU64,
    /// MCS: the thread's Reply object (root CNode), for [`recv`] and friends.
    pub reply: AtomicU64,
    /// MCS: the thread's scheduling context (root CNode).
    pub sc: AtomicU64,
}

impl Local {
    const fn new() -> Local {
        Local {
            block: ThreadBlock::new(),
            tcb: AtomicU64::new(0),
            reply: AtomicU64::new(0),
            sc: AtomicU64::new(0),
        }
    }
}

/// Statics shared by the root task and its threads; every access is through raw pointers or
/// atomics, and a thread's stack and IPC page are written by the root task only while no
/// thread uses them.
struct Shared<T>(UnsafeCell<T>);
// SAFETY: see above: the contents are reached through raw pointers with the discipline stated,
// or are atomics.
unsafe impl<T> Sync for Shared<T> {}

static STACKS: Shared<[Stack; MAX_THREADS]> = Shared(UnsafeCell::new(
    [const { Stack([0; STACK_SIZE]) }; MAX_THREADS],
));
static IPC_PAGES: Shared<[Page; MAX_THREADS]> =
    Shared(UnsafeCell::new([const { Page([0; 4096]) }; MAX_THREADS]));
/// Pages for tests that move a thread's IPC buffer.
static SPARE_PAGES: Shared<[Page; 2]> = Shared(UnsafeCell::new([const { Page([0; 4096]) }; 2]));
static LOCALS: [Local; MAX_THREADS + 2] = [const { Local::new() }; MAX_THREADS + 2];

/// The object the root task is blocked on (0: none), for the watchdog.
static WATCH: AtomicU64 = AtomicU64::new(0);
/// MCS: the root thread's Reply object in this test (0: none made yet).
static ROOT_REPLY: AtomicU64 = AtomicU64::new(0);

/// An ordered log of events, shared by all threads of a test (cleared after each test).
pub struct EventLog {
    n: AtomicUsize,
    e: [AtomicU64; 64],
}

/// The log.
pub static LOG: EventLog = EventLog {
    n: AtomicUsize::new(0),
    e: [const { AtomicU64::new(0) }; 64],
};

/// Counters and mailboxes shared by the threads of a test (cleared after each test).
pub static SHARED: [AtomicU64; 16] = [const { AtomicU64::new(0) }; 16];

/// Append `x` to the log (dropped past 64 entries; the length still counts it).
pub fn log(x: Word) {
    let i = LOG.n.fetch_add(1, Ordering::SeqCst);
    if i < LOG.e.len() {
        LOG.e[i].store(x, Ordering::SeqCst);
    }
}

/// The log so far: its entries (zero past the length) and its length.
pub fn log_snapshot() -> ([Word; 16], usize) {
    let n = LOG.n.load(Ordering::SeqCst);
    let mut out = [0; 16];
    for (i, o) in out.iter_mut().enumerate().take(n.min(16)) {
        *o = LOG.e[i].load(Ordering::SeqCst);
    }
    (out, n)
}

/// `SHARED[i]`.
pub fn shared(i: usize) -> Word {
    SHARED[i].load(Ordering::SeqCst)
}

/// Set `SHARED[i]`.
pub fn set_shared(i: usize, v: Word) {
    SHARED[i].store(v, Ordering::SeqCst)
}

/// Add 1 to `SHARED[i]`.
pub fn bump(i: usize) -> Word {
    SHARED[i].fetch_add(1, Ordering::SeqCst) + 1
}

/// Forget everything a test left in the statics (after its threads are gone).
pub fn reset_statics() {
    WATCH.store(0, Ordering::SeqCst);
    ROOT_REPLY.store(0, Ordering::SeqCst);
    for l in &LOCALS {
        l.reply.store(0, Ordering::SeqCst);
        l.sc.store(0, Ordering::SeqCst);
    }
    LOG.n.store(0, Ordering::SeqCst);
    for e in &LOG.e {
        e.store(0, Ordering::SeqCst);
    }
    for s in &SHARED {
        s.store(0, Ordering::SeqCst);
    }
}

/// A thread's entry: four arguments in the first argument registers; it never returns.
pub type Entry = extern "C" fn(Word, Word, Word, Word) -> !;

/// A thread made by [`Ctx::thread`].
#[derive(Clone, Copy, Debug)]
pub struct Thread {
    /// Its TCB cap (root CNode).
    pub tcb: CPtr,
    /// Its index in the static pools.
    pub idx: usize,
}

impl Thread {
    /// `seL4_TCB_Resume`.
    pub fn start(&self) -> Result<(), Fail> {
        sel4_ok(sys::seL4_TCB_Resume(self.tcb), line!(), "Resume")
    }

    /// The virtual address of its IPC buffer.
    pub fn ipc_buffer(&self) -> Word {
        ipc_page(self.idx)
    }

    /// The pc, sp and every other register, as `seL4_TCB_ReadRegisters` gives them.
    pub fn regs(&self) -> Result<UserContext, Fail> {
        match sys::seL4_TCB_ReadRegisters(self.tcb, false, 0, crate::arch::WORDS as Word) {
            Ok(r) => Ok(r),
            Err(e) => Err(sel4_fail(e, line!(), "ReadRegisters")),
        }
    }

    /// The top of its stack.
    pub fn stack_top(&self) -> Word {
        stack_top(self.idx)
    }

    /// MCS: its scheduling context (made and bound by [`Ctx::thread_with_fault_ep`]).
    #[cfg(feature = "mcs")]
    pub fn sc(&self) -> CPtr {
        LOCALS[self.idx].sc.load(Ordering::SeqCst)
    }
}

fn sel4_fail(e: abi::Error, line: u32, what: &str) -> Fail {
    Fail::new(
        line,
        format_args!(
            "{what}: {} [{}]",
            libsel4::error_name(e),
            libsel4::last_error().detail()
        ),
    )
}

fn sel4_ok(r: Result<(), abi::Error>, line: u32, what: &str) -> Result<(), Fail> {
    r.map_err(|e| sel4_fail(e, line, what))
}

/// The root task's global pointer (threads share it: they run the same image; riscv64 only).
#[cfg(arch_riscv64)]
pub fn global_pointer() -> Word {
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

/// The top of thread `i`'s stack.
pub fn stack_top(i: usize) -> Word {
    // SAFETY: address arithmetic inside the static array.
    unsafe { (STACKS.0.get() as *mut Stack).add(i + 1) as Word }
}

/// The virtual address of thread `i`'s IPC buffer page.
pub fn ipc_page(i: usize) -> Word {
    // SAFETY: address arithmetic inside the static array.
    unsafe { (IPC_PAGES.0.get() as *mut Page).add(i) as Word }
}

/// The virtual address of spare page `i` (0 or 1).
pub fn spare_page(i: usize) -> Word {
    // SAFETY: address arithmetic inside the static array.
    unsafe { (SPARE_PAGES.0.get() as *mut Page).add(i) as Word }
}

/// The address of `LOCALS[i]` (what `tp` holds). Indices past the threads are spare blocks.
pub fn local(i: usize) -> Word {
    &LOCALS[i] as *const Local as Word
}

/// Point spare block `i` (MAX_THREADS, MAX_THREADS + 1) at the IPC buffer `buffer`, for a
/// thread `tcb` that will switch its `tp` to it.
pub fn prepare_spare_local(i: usize, buffer: Word, tcb: CPtr) {
    // SAFETY: a spare block is used by no running thread before its `tp` is switched to it.
    unsafe { LOCALS[i].block.set_buffer(buffer as *mut abi::IpcBuffer) };
    LOCALS[i].tcb.store(tcb, Ordering::SeqCst);
}

/// Make [`park`] in the thread using block `i` suspend `tcb` (a CPtr in that thread's CSpace).
pub fn set_local_tcb(i: usize, tcb: CPtr) {
    LOCALS[i].tcb.store(tcb, Ordering::SeqCst);
}

/// Zero page `vaddr` (an IPC page or spare page no thread is using).
pub fn clear_page(vaddr: Word) {
    // SAFETY: `vaddr` is one of the static pages, not in use by a running thread.
    unsafe { core::ptr::write_bytes(vaddr as *mut u8, 0, 4096) };
}

/// Write word `i` of page `vaddr` (as the IPC buffer, word 1 + n is MR n).
pub fn poke(vaddr: Word, i: usize, v: Word) {
    // SAFETY: inside one of the static pages; volatile, as the kernel reads it.
    unsafe { core::ptr::write_volatile((vaddr as *mut Word).add(i), v) };
}

/// Read word `i` of page `vaddr`.
pub fn peek(vaddr: Word, i: usize) -> Word {
    // SAFETY: inside one of the static pages (or the root task's IPC buffer); volatile, as
    // the kernel writes it.
    unsafe { core::ptr::read_volatile((vaddr as *const Word).add(i)) }
}

/// The calling thread's [`Local`].
fn my_local() -> &'static Local {
    // SAFETY: a test thread's tp points at its `Local` (set by `Ctx::thread`).
    unsafe { &*(libsel4::ipc::thread_pointer() as *const Local) }
}

/// The calling thread's Reply object (MCS): its own for a test thread, the root thread's
/// ([`Ctx::root_reply`]) for the root thread; 0 if it has none.
#[cfg_attr(not(feature = "mcs"), allow(dead_code))]
pub fn my_reply() -> CPtr {
    if libsel4::ipc::thread_pointer() == 0 {
        ROOT_REPLY.load(Ordering::SeqCst)
    } else {
        my_local().reply.load(Ordering::SeqCst)
    }
}

/// The `time` CSR (`rdtime`): 10 MHz on QEMU `virt` (`TIMER_CLOCK_HZ`), deterministic under
/// `-icount shift=0` (riscv64 only: on aarch64 EL0 may not read the counter).
#[cfg(arch_riscv64)]
#[cfg_attr(not(feature = "mcs"), allow(dead_code))]
pub fn rdtime() -> Word {
    #[cfg(target_arch = "riscv64")]
    {
        let t: Word;
        // SAFETY: reads a CSR that U-mode may read (QEMU virt enables it).
        unsafe { core::arch::asm!("rdtime {0}", out(reg) t, options(nomem, nostack)) };
        t
    }
    #[cfg(not(target_arch = "riscv64"))]
    {
        0
    }
}

/// `seL4_Recv` on `src`: with the calling thread's Reply object under MCS (without one,
/// `seL4_Wait`: a Call can then not be replied to). Returns (info, badge).
pub fn recv(src: CPtr) -> (MessageInfo, Word) {
    #[cfg(not(feature = "mcs"))]
    {
        sys::seL4_Recv(src)
    }
    #[cfg(feature = "mcs")]
    {
        match my_reply() {
            0 => sys::seL4_Wait(src),
            r => sys::seL4_Recv(src, r),
        }
    }
}

/// `seL4_NBRecv` on `src` (MCS: with the calling thread's Reply object, or `seL4_NBWait`).
pub fn nb_recv(src: CPtr) -> (MessageInfo, Word) {
    #[cfg(not(feature = "mcs"))]
    {
        sys::seL4_NBRecv(src)
    }
    #[cfg(feature = "mcs")]
    {
        match my_reply() {
            0 => sys::seL4_NBWait(src),
            r => sys::seL4_NBRecv(src, r),
        }
    }
}

/// Reply to the last caller: `seL4_Reply`, or under MCS `seL4_Send` on the calling thread's
/// Reply object (`performInvocation_Reply`: nothing happens if it holds no caller, as
/// `seL4_Reply` without a caller).
pub fn reply(info: MessageInfo) {
    #[cfg(not(feature = "mcs"))]
    {
        sys::seL4_Reply(info)
    }
    #[cfg(feature = "mcs")]
    {
        sys::seL4_Send(my_reply(), info)
    }
}

/// `seL4_ReplyRecv` on `src` (MCS: with the calling thread's Reply object).
pub fn reply_recv(src: CPtr, info: MessageInfo) -> (MessageInfo, Word) {
    #[cfg(not(feature = "mcs"))]
    {
        sys::seL4_ReplyRecv(src, info)
    }
    #[cfg(feature = "mcs")]
    {
        sys::seL4_ReplyRecv(src, info, my_reply())
    }
}

/// `seL4_Wait` on a notification `src`; returns the badge.
pub fn wait(src: CPtr) -> Word {
    #[cfg(not(feature = "mcs"))]
    {
        sys::seL4_Wait(src)
    }
    #[cfg(feature = "mcs")]
    {
        sys::seL4_Wait(src).1
    }
}

/// Stop the calling thread for good (it suspends itself).
pub fn park() -> ! {
    let tcb = my_local().tcb.load(Ordering::SeqCst);
    loop {
        let _ = sys::seL4_TCB_Suspend(tcb);
    }
}

/// Send `words` to `ep` with `label` (`seL4_Send`, blocking), from a thread.
pub fn send(ep: CPtr, label: Word, words: &[Word]) {
    for (i, w) in words.iter().enumerate() {
        sys::seL4_SetMR(i, *w);
    }
    sys::seL4_Send(ep, MessageInfo::new(label, 0, 0, words.len() as Word));
}

/// Report `words` with `label` to the root task's report endpoint, then stop.
pub fn report_and_park(rep: CPtr, label: Word, words: &[Word]) -> ! {
    send(rep, label, words);
    park()
}

extern "C" fn watchdog_main(_: Word, _: Word, _: Word, _: Word) -> ! {
    loop {
        let t = WATCH.load(Ordering::SeqCst);
        if t != 0 {
            // On an endpoint: a message with the watchdog label to the receiver (dropped if
            // none). On a notification: a signal with the cap's badge (WATCHDOG_BIT).
            sys::seL4_NBSend(t, MessageInfo::new(WATCHDOG_LABEL, 0, 0, 0));
        }
    }
}

/// A message the root task received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Msg {
    /// Its info.
    pub info: MessageInfo,
    /// The badge.
    pub badge: Word,
    /// MR0..MR12 (aarch64's unknown-syscall message, the longest fault message, has 13).
    pub mr: [Word; 13],
}

impl Msg {
    /// The label.
    pub fn label(&self) -> Word {
        self.info.label()
    }
    /// The length.
    pub fn len(&self) -> Word {
        self.info.length()
    }
}

impl Ctx {
    /// Make a thread running `entry(args)` at priority `prio`, in the root task's CSpace and
    /// VSpace, with fault endpoint `fault_ep` (a CPtr in the root CNode; 0 for none), ready but
    /// not started (see [`Thread::start`]).
    pub fn thread_with_fault_ep(
        &mut self,
        entry: Entry,
        prio: Word,
        args: [Word; 4],
        fault_ep: CPtr,
    ) -> Result<Thread, Fail> {
        if self.threads >= MAX_THREADS {
            return Err(Fail::new(line!(), format_args!("too many threads")));
        }
        let i = self.threads;
        self.threads += 1;
        let tcb = self.new_object(ObjectType::Tcb, 0)?;
        let page = ipc_page(i);
        clear_page(page);
        let frame = self.image_frame(page)?;
        LOCALS[i].tcb.store(tcb, Ordering::SeqCst);
        // SAFETY: no thread runs with this block (the previous test's threads are deleted).
        unsafe { LOCALS[i].block.set_buffer(page as *mut abi::IpcBuffer) };
        #[cfg(not(feature = "mcs"))]
        {
            sel4_ok(
                sys::seL4_TCB_Configure(
                    tcb,
                    fault_ep,
                    init::CNODE.bits(),
                    CNodeCapData::default().0,
                    init::VSPACE.bits(),
                    0,
                    page,
                    frame,
                ),
                line!(),
                "TCB_Configure",
            )?;
            sel4_ok(
                sys::seL4_TCB_SetPriority(tcb, init::TCB.bits(), prio),
                line!(),
                "TCB_SetPriority",
            )?;
        }
        #[cfg(feature = "mcs")]
        {
            sel4_ok(
                sys::seL4_TCB_Configure(
                    tcb,
                    init::CNODE.bits(),
                    CNodeCapData::default().0,
                    init::VSPACE.bits(),
                    0,
                    page,
                    frame,
                ),
                line!(),
                "TCB_Configure",
            )?;
            let sc = self.sched_context(THREAD_BUDGET_US, THREAD_BUDGET_US, 0)?;
            // MCP 0 as a non-MCS thread's; the fault endpoint is copied into the TCB now.
            sel4_ok(
                sys::seL4_TCB_SetSchedParams(tcb, init::TCB.bits(), 0, prio, sc, fault_ep),
                line!(),
                "TCB_SetSchedParams",
            )?;
            let reply = self.new_object(ObjectType::Reply, 0)?;
            LOCALS[i].reply.store(reply, Ordering::SeqCst);
            LOCALS[i].sc.store(sc, Ordering::SeqCst);
        }
        let regs = initial_regs(entry, i, args);
        sel4_ok(
            sys::seL4_TCB_WriteRegisters(tcb, false, 0, crate::arch::WORDS as Word, &regs),
            line!(),
            "TCB_WriteRegisters",
        )?;
        Ok(Thread { tcb, idx: i })
    }

    /// MCS: a new scheduling context (`seL4_MinSchedContextBits`) configured with `budget`
    /// and `period` (µs) and `badge` by the SchedControl cap of core 0.
    #[cfg(feature = "mcs")]
    pub fn sched_context(&mut self, budget: u64, period: u64, badge: Word) -> Result<CPtr, Fail> {
        let sc = self.new_object(
            ObjectType::SchedContext,
            abi::object::MIN_SCHED_CONTEXT_BITS,
        )?;
        sel4_ok(
            sys::seL4_SchedControl_Configure(
                self.bi.schedcontrol.start,
                sc,
                budget,
                period,
                0,
                badge,
            ),
            line!(),
            "SchedControl_Configure",
        )?;
        Ok(sc)
    }

    /// MCS: the root thread's Reply object for this test (made on first use), which
    /// [`recv`] and friends use in the root thread. Without it the root thread receives with
    /// `seL4_Wait` (no Calls answered).
    pub fn root_reply(&mut self) -> Result<CPtr, Fail> {
        #[cfg(feature = "mcs")]
        {
            let r = ROOT_REPLY.load(Ordering::SeqCst);
            if r != 0 {
                return Ok(r);
            }
            let r = self.new_object(ObjectType::Reply, 0)?;
            ROOT_REPLY.store(r, Ordering::SeqCst);
            Ok(r)
        }
        #[cfg(not(feature = "mcs"))]
        {
            Ok(0)
        }
    }

    /// [`Ctx::thread_with_fault_ep`] without a fault endpoint.
    pub fn thread(&mut self, entry: Entry, prio: Word, args: [Word; 4]) -> Result<Thread, Fail> {
        self.thread_with_fault_ep(entry, prio, args, 0)
    }

    /// Make and start a thread.
    pub fn spawn(&mut self, entry: Entry, prio: Word, args: [Word; 4]) -> Result<Thread, Fail> {
        let t = self.thread(entry, prio, args)?;
        t.start()?;
        Ok(t)
    }

    /// The frame cap of the root task's image page at `vaddr` (`BootInfo.userImageFrames`).
    pub fn image_frame(&self, vaddr: Word) -> Result<CPtr, Fail> {
        let image = libsel4::rt::image_range();
        let v = vaddr as usize;
        if v < image.start || v >= image.end || !v.is_multiple_of(4096) {
            return Err(Fail::new(
                line!(),
                format_args!("{vaddr:#x} is not a page of the image {image:#x?}"),
            ));
        }
        Ok(self.bi.user_image_frames.start + ((v - image.start) / 4096) as Word)
    }

    /// The report endpoint of this test (made on first use): threads report to it, the root
    /// task receives on it with [`Ctx::recv`].
    pub fn rep(&mut self) -> Result<CPtr, Fail> {
        if let Some(r) = self.rep {
            return Ok(r);
        }
        let r = self.new_object(ObjectType::Endpoint, 0)?;
        self.rep = Some(r);
        Ok(r)
    }

    /// A fault endpoint cap for threads: the report endpoint minted with badge
    /// [`FAULT_BADGE`] and all rights.
    pub fn fault_ep(&mut self) -> Result<CPtr, Fail> {
        let r = self.rep()?;
        self.mint(r, CapRights::ALL, FAULT_BADGE)
    }

    fn ensure_watchdog(&mut self) -> Result<(), Fail> {
        if !self.watchdog {
            self.spawn(watchdog_main, WATCHDOG_PRIO, [0; 4])?;
            self.watchdog = true;
        }
        Ok(())
    }

    /// `seL4_Recv` on `ep` (the report endpoint or any endpoint only the root task receives
    /// on), failing if the watchdog says every thread is blocked.
    pub fn recv(&mut self, ep: CPtr) -> Result<Msg, Fail> {
        let m = self.recv_any(ep)?;
        if m.label() == WATCHDOG_LABEL {
            return Err(Fail::new(
                line!(),
                format_args!("deadlock: every thread is blocked, nothing was sent to {ep}"),
            ));
        }
        Ok(m)
    }

    /// `seL4_Recv` on `ep`; the watchdog's message included.
    pub fn recv_any(&mut self, ep: CPtr) -> Result<Msg, Fail> {
        self.ensure_watchdog()?;
        self.root_reply()?;
        WATCH.store(ep, Ordering::SeqCst);
        let (info, badge) = recv(ep);
        WATCH.store(0, Ordering::SeqCst);
        let mut mr = [0; 13];
        for (i, m) in mr.iter_mut().enumerate() {
            *m = sys::seL4_GetMR(i);
        }
        Ok(Msg { info, badge, mr })
    }

    /// Block on `ep` and expect the watchdog: no thread can make progress.
    pub fn expect_idle(&mut self, ep: CPtr, what: &str) -> Result<(), Fail> {
        let m = self.recv_any(ep)?;
        if m.label() != WATCHDOG_LABEL {
            return Err(Fail::new(
                line!(),
                format_args!(
                    "{what}: expected every thread blocked, got a message (label {:#x}, badge {:#x}, mr0 {:#x})",
                    m.label(),
                    m.badge,
                    m.mr[0]
                ),
            ));
        }
        Ok(())
    }

    /// `seL4_Wait` on notification `n` (whose original cap is in root slot `n`), failing if
    /// every thread is blocked. Returns the badge.
    pub fn wait(&mut self, n: CPtr) -> Result<Word, Fail> {
        let b = self.wait_any(n)?;
        if b & WATCHDOG_BIT != 0 {
            return Err(Fail::new(
                line!(),
                format_args!("deadlock: every thread is blocked, notification {n} not signalled"),
            ));
        }
        Ok(b)
    }

    /// `seL4_Wait` on notification `n`; the watchdog's signal (bit 63) included.
    pub fn wait_any(&mut self, n: CPtr) -> Result<Word, Fail> {
        self.ensure_watchdog()?;
        let wd = self.mint(n, CapRights::WRITE, WATCHDOG_BIT)?;
        WATCH.store(wd, Ordering::SeqCst);
        let b = wait(n);
        WATCH.store(0, Ordering::SeqCst);
        let _ = self.abs(wd).delete();
        Ok(b)
    }
}

/// The registers of a fresh thread `i` running `entry(args)`.
pub fn initial_regs(entry: Entry, i: usize, args: [Word; 4]) -> UserContext {
    let mut r = UserContext::default();
    crate::arch::set_entry(&mut r, entry as usize as Word, stack_top(i), local(i), args);
    r
}
