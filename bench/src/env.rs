//! The benchmark environment: object and slot allocation, the second address space, threads,
//! and the statics the threads share with the root task.
//!
//! Threads run functions of the root task's image. A thread in the root task's VSpace sees it
//! as it is; a thread in the second VSpace sees the same frames (copies of the
//! `BootInfo.userImageFrames` caps mapped at the same addresses), so statics in `.data` and
//! `.bss` are shared memory between the two address spaces: that is how timestamps travel.
//! Every thread shares the root task's CSpace.
//!
//! Threads report to the root task over the report endpoint: `DONE` when they have finished,
//! `ERROR` (with a code) when something went wrong; faults arrive there too (their fault
//! endpoint is the report endpoint badged [`FAULT_BADGE`]). A watchdog thread at priority 1
//! sends `STUCK` when every other thread is blocked, so a deadlock ends the benchmark instead of
//! hanging it.
//!
//! MCS (feature `mcs`): every thread gets a scheduling context of its own (a round robin of
//! [`BUDGET_US`], configured by the SchedControl cap and bound by `TCB_SetSchedParams`, which
//! also installs the fault endpoint cap) and a Reply object ([`reply_of`]); [`Env::kill`]
//! deletes both with the TCB. [`Env::passive`] takes a thread's SC away once it waits. The
//! root task receives on the report endpoint with `seL4_Wait` (no Reply object: a fault, sent
//! as a call, leaves the faulting thread inactive).

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

use abi::user_context::{idx, UserContext, USER_CONTEXT_WORDS};
use abi::{
    BootInfo, CNodeCapData, CPtr, CapRights, Error, IpcBuffer, MessageInfo, ObjectType, Word,
};
use bench::ITERATIONS;
use libsel4::bootinfo::{BootInfoExt, SlotRegionExt};
use libsel4::cap::{init, Cap, Granule, PageTable};
use libsel4::{error_name, last_error, println, sys};

use crate::raw;

/// The object type of a VSpace root: a page table on riscv64, `seL4_ARM_VSpaceObject` on
/// aarch64.
#[cfg(target_arch = "riscv64")]
pub const VSPACE_OBJECT: ObjectType = ObjectType::PageTable;
/// The object type of a VSpace root: a page table on riscv64, `seL4_ARM_VSpaceObject` on
/// aarch64.
#[cfg(target_arch = "aarch64")]
pub const VSPACE_OBJECT: ObjectType = ObjectType::VSpace;

/// Why a benchmark failed (details are printed where it happens).
#[derive(Clone, Copy, Debug)]
pub struct Fail(pub &'static str);

/// A benchmark step's result.
pub type R<T> = Result<T, Fail>;

/// Print a failed invocation and turn it into a [`Fail`].
pub fn ok<T>(r: Result<T, Error>, what: &'static str) -> R<T> {
    r.map_err(|e| {
        println!("  {what}: {} [{}]", error_name(e), last_error().detail());
        Fail(what)
    })
}

// ------------------------------------------------------------------------------------------
// Shared statics

/// Benchmark threads at once (the watchdog has its own slot after them).
pub const THREADS: usize = 4;
const WATCHDOG: usize = THREADS;
const STACK_SIZE: usize = 16 * 1024;

/// Priority of the benchmark threads (the root task runs at 255, the watchdog at 1).
pub const PRIO: Word = 100;

/// Label of a thread's "finished" message.
pub const DONE: Word = 0xd0e;
/// Label of a thread's error message (MR0: a code).
pub const ERROR: Word = 0xe7707;
/// Label of the watchdog's message.
pub const STUCK: Word = 0x57c;
/// MCS: label of a passive server's "waiting now" message (see [`Env::passive`]).
#[cfg(feature = "mcs")]
pub const READY: Word = 0x7ead;
/// Badge of the fault endpoint.
pub const FAULT_BADGE: Word = 0xfa;

#[repr(C, align(4096))]
struct Page([u8; 4096]);

#[repr(C, align(16))]
struct Stack([u8; STACK_SIZE]);

/// Statics written by one thread while the others wait (or through raw pointers only).
struct Shared<T>(UnsafeCell<T>);
// SAFETY: the contents are reached through raw pointers: the root task writes a thread's
// stack, IPC page and job only while that thread does not exist.
unsafe impl<T> Sync for Shared<T> {}

static STACKS: Shared<[Stack; THREADS + 1]> = Shared(UnsafeCell::new(
    [const { Stack([0; STACK_SIZE]) }; THREADS + 1],
));
static IPC_PAGES: Shared<[Page; THREADS + 1]> =
    Shared(UnsafeCell::new([const { Page([0; 4096]) }; THREADS + 1]));

/// What a thread is to do: written by the root task before the thread starts.
#[derive(Clone, Copy, Debug, Default)]
pub struct Job {
    /// The object it works on (endpoint, notification).
    pub obj: Word,
    /// Message length.
    pub len: Word,
    /// Flags ([`FPU`], [`CAP`]).
    pub flags: Word,
    /// A further cap or slot (the cap to send, the receive slot, the IRQ handler).
    pub aux: Word,
    /// A further address (the UART registers).
    pub addr: Word,
    /// Its IPC buffer's address (set by [`Env::spawn`]).
    pub ipc: Word,
}

/// [`Job::flags`]: dirty the FPU before each call.
pub const FPU: Word = 1;
/// [`Job::flags`]: send (or receive) one cap with each call.
pub const CAP: Word = 2;
/// [`Job::flags`] (MCS): the server is passive (its SchedContext is taken away once it waits).
pub const PASSIVE: Word = 4;

/// MCS: budget and period of every thread's scheduling context (µs): a round robin with the
/// non-MCS time slice (5 ticks of 2 ms) doubled, as the test root task's threads.
#[cfg(feature = "mcs")]
pub const BUDGET_US: u64 = 10_000;

static JOBS: Shared<[Job; THREADS + 1]> = Shared(UnsafeCell::new(
    [Job {
        obj: 0,
        len: 0,
        flags: 0,
        aux: 0,
        addr: 0,
        ipc: 0,
    }; THREADS + 1],
));

/// The job of thread `i`.
pub fn job(i: u64) -> Job {
    // SAFETY: in bounds (`i` comes from `spawn`); written only before the thread started.
    unsafe { core::ptr::read_volatile((JOBS.0.get() as *const Job).add(i as usize)) }
}

fn set_job(i: usize, j: Job) {
    // SAFETY: in bounds; thread `i` does not exist yet.
    unsafe { core::ptr::write_volatile((JOBS.0.get() as *mut Job).add(i), j) }
}

/// Timestamp arrays shared by the threads of one benchmark.
pub static T: [[AtomicU64; ITERATIONS]; 4] =
    [const { [const { AtomicU64::new(0) }; ITERATIONS] }; 4];
/// A counter for handshakes (the IRQ benchmark).
pub static COUNT: AtomicU64 = AtomicU64::new(0);
/// Something a thread saw, for the root task to check (e.g. a received MessageInfo).
pub static SEEN: AtomicU64 = AtomicU64::new(0);

static REPORT: AtomicU64 = AtomicU64::new(0);
static PARK: AtomicU64 = AtomicU64::new(0);
/// MCS: each thread's Reply object (root CNode).
#[cfg(feature = "mcs")]
static REPLIES: [AtomicU64; THREADS + 1] = [const { AtomicU64::new(0) }; THREADS + 1];

/// MCS: the Reply object of thread `i`.
#[cfg(feature = "mcs")]
pub fn reply_of(i: u64) -> Word {
    REPLIES[i as usize].load(Relaxed)
}

/// The report endpoint (for a passive server's "waiting now" message).
#[cfg(feature = "mcs")]
pub fn report() -> Word {
    REPORT.load(Relaxed)
}

/// Store timestamp `t` in array `a`, index `i` (ignored past the end).
#[inline(always)]
pub fn stamp(a: usize, i: usize, t: u64) {
    if let Some(x) = T[a].get(i) {
        x.store(t, Relaxed);
    }
}

/// Timestamp `i` of array `a`.
pub fn stamp_at(a: usize, i: usize) -> u64 {
    T[a][i].load(Relaxed)
}

fn clear_shared() {
    for a in &T {
        for x in a {
            x.store(0, Relaxed);
        }
    }
    COUNT.store(0, Relaxed);
    SEEN.store(0, Relaxed);
}

fn stack_top(i: usize) -> Word {
    // SAFETY: address arithmetic within the static array.
    unsafe { (STACKS.0.get() as *mut Stack).add(i + 1) as Word }
}

fn ipc_page(i: usize) -> Word {
    // SAFETY: address arithmetic within the static array.
    unsafe { (IPC_PAGES.0.get() as *mut Page).add(i) as Word }
}

/// The IPC buffer at `addr` (a thread's own, from its job).
pub fn ipc_buffer(addr: Word) -> *mut IpcBuffer {
    addr as *mut IpcBuffer
}

// ------------------------------------------------------------------------------------------
// Thread side

/// Tell the root task this thread has finished, and stop.
pub fn done() -> ! {
    let mut r = [
        REPORT.load(Relaxed),
        MessageInfo::new(DONE, 0, 0, 0).0,
        0,
        0,
        0,
        0,
    ];
    raw::ecall(raw::SEND, &mut r);
    park()
}

/// Tell the root task this thread failed with `code`, and stop.
pub fn fail(code: Word) -> ! {
    let mut r = [
        REPORT.load(Relaxed),
        MessageInfo::new(ERROR, 0, 0, 1).0,
        code,
        0,
        0,
        0,
    ];
    raw::ecall(raw::SEND, &mut r);
    park()
}

/// Block for good (on a notification nobody signals).
pub fn park() -> ! {
    loop {
        let mut r = [PARK.load(Relaxed), 0, 0, 0, 0, 0];
        raw::ecall(raw::WAIT, &mut r);
    }
}

/// Read the word at the job's address (in the second VSpace, the probe that must fault).
extern "C" fn probe_main(me: Word) -> ! {
    // SAFETY: a read; if the address is not mapped the thread faults, which is the point.
    unsafe { core::ptr::read_volatile(job(me).addr as *const Word) };
    done()
}

extern "C" fn watchdog_main(_: Word) -> ! {
    loop {
        let mut r = [
            REPORT.load(Relaxed),
            MessageInfo::new(STUCK, 0, 0, 0).0,
            0,
            0,
            0,
            0,
        ];
        raw::ecall(raw::NB_SEND, &mut r);
    }
}

// ------------------------------------------------------------------------------------------
// Root side

/// Which address space a thread runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    /// The root task's VSpace.
    Root,
    /// The second VSpace (the root task's image mapped again).
    Other,
}

/// A thread's entry: the thread index in `a0`.
pub type Entry = extern "C" fn(Word) -> !;

/// How a wait for the threads ended badly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// A thread faulted: fault label, MR0, MR1 (for a VM fault: pc, address).
    Fault(Word, Word, Word),
    /// A thread reported an error code.
    Error(Word),
    /// Every thread is blocked.
    Stuck,
    /// A message nobody should send.
    Unexpected(Word),
}

/// The root task's allocator and the shared objects.
pub struct Env {
    /// The BootInfo.
    pub bi: &'static BootInfo,
    next: CPtr,
    end: CPtr,
    /// The RAM untyped everything is made from.
    pub ut: CPtr,
    /// The report endpoint.
    pub report: CPtr,
    fault_ep: CPtr,
    /// The second VSpace.
    vspace2: CPtr,
    /// MCS: (TCB, SchedContext, Reply object) of each thread slot, for [`Env::kill`].
    #[cfg(feature = "mcs")]
    objects: [(CPtr, CPtr, CPtr); THREADS + 1],
}

impl Env {
    /// Pick the largest RAM untyped, make the report endpoint, the fault endpoint, the parking
    /// notification and the watchdog.
    pub fn new(bi: &'static BootInfo) -> R<Env> {
        let (ut, desc) = bi
            .untypeds()
            .filter(|(_, d)| d.is_device == 0)
            .max_by_key(|(_, d)| d.size_bits)
            .ok_or(Fail("no RAM untyped"))?;
        if desc.size_bits < 24 {
            println!(
                "  the largest RAM untyped has only 2^{} bytes",
                desc.size_bits
            );
            return Err(Fail("not enough memory"));
        }
        let mut env = Env {
            bi,
            next: bi.empty.start,
            end: bi.empty.end,
            ut: ut.bits(),
            report: 0,
            fault_ep: 0,
            vspace2: 0,
            #[cfg(feature = "mcs")]
            objects: [(0, 0, 0); THREADS + 1],
        };
        env.report = env.new_object(ObjectType::Endpoint, 0)?;
        REPORT.store(env.report, Relaxed);
        env.fault_ep = env.slot()?;
        ok(
            init::CNODE.absolute_cptr(env.fault_ep).mint_from(
                &init::CNODE.absolute_cptr(env.report),
                CapRights::ALL,
                FAULT_BADGE,
            ),
            "mint the fault endpoint",
        )?;
        let park = env.new_object(ObjectType::Notification, 0)?;
        PARK.store(park, Relaxed);
        let wd = env.thread(watchdog_main, 1, Space::Root, WATCHDOG, Job::default())?;
        ok(sys::seL4_TCB_Resume(wd), "resume the watchdog")?;
        env.make_vspace2()?;
        Ok(env)
    }

    /// A free slot of the root CNode.
    pub fn slot(&mut self) -> R<CPtr> {
        self.slots(1)
    }

    /// `n` consecutive free slots; returns the first.
    pub fn slots(&mut self, n: u64) -> R<CPtr> {
        if self.next + n > self.end {
            return Err(Fail("out of CNode slots"));
        }
        let s = self.next;
        self.next += n;
        Ok(s)
    }

    /// Make one object from the RAM untyped into a fresh slot.
    pub fn new_object(&mut self, ty: ObjectType, size_bits: Word) -> R<CPtr> {
        self.object_from(self.ut, ty, size_bits)
    }

    /// Make one object from untyped `ut` into a fresh slot.
    pub fn object_from(&mut self, ut: CPtr, ty: ObjectType, size_bits: Word) -> R<CPtr> {
        let s = self.slot()?;
        ok(
            Cap::<libsel4::cap::cap_type::Untyped>::from_bits(ut).retype(
                ty,
                size_bits,
                &init::CNODE.as_retype_dest(),
                s,
                1,
            ),
            "Untyped_Retype",
        )?;
        Ok(s)
    }

    /// Delete the cap in slot `s` of the root CNode.
    pub fn delete(&self, s: CPtr) -> R<()> {
        ok(init::CNODE.absolute_cptr(s).delete(), "CNode_Delete")
    }

    /// The frame cap of the root task's image page at `vaddr`.
    fn image_frame(&self, vaddr: Word) -> R<CPtr> {
        let image = libsel4::rt::image_range();
        let v = vaddr as usize;
        if v < image.start || v >= image.end || !v.is_multiple_of(4096) {
            return Err(Fail("not a page of the image"));
        }
        let k = ((v - image.start) / 4096) as u64;
        if k >= self.bi.user_image_frames.count() {
            return Err(Fail("image page without a frame cap"));
        }
        Ok(self.bi.user_image_frames.start + k)
    }

    /// Map `frame` at `vaddr` in `vspace`, making page tables as needed.
    pub fn map_page(
        &mut self,
        vspace: CPtr,
        frame: CPtr,
        vaddr: Word,
        rights: CapRights,
        attr: Word,
    ) -> R<()> {
        for _ in 0..abi::arch::current::PT_LEVELS {
            match Granule::from_bits(frame).map(Cap::from_bits(vspace), vaddr, rights, attr) {
                Ok(()) => return Ok(()),
                Err(Error::FailedLookup) => {
                    let pt = self.new_object(ObjectType::PageTable, 0)?;
                    ok(
                        PageTable::from_bits(pt).map(Cap::from_bits(vspace), vaddr, 0),
                        "PageTable_Map",
                    )?;
                }
                Err(e) => return ok(Err(e), "Page_Map"),
            }
        }
        Err(Fail("Page_Map still fails after making page tables"))
    }

    /// The second VSpace: a new VSpace root ([`VSPACE_OBJECT`]) with an ASID from the initial pool, and the
    /// root task's whole image mapped at the same addresses (copies of its frame caps). Checked
    /// by a thread in it that reads the BootInfo frame, which is not mapped there: it must take
    /// a VM fault.
    fn make_vspace2(&mut self) -> R<()> {
        let vs = self.new_object(VSPACE_OBJECT, 0)?;
        ok(
            init::ASID_POOL.assign(Cap::from_bits(vs)),
            "ASIDPool_Assign",
        )?;
        let image = libsel4::rt::image_range();
        let frames = self.bi.user_image_frames;
        for k in 0..frames.count() {
            let copy = self.slot()?;
            ok(
                init::CNODE
                    .absolute_cptr(copy)
                    .copy_from(&init::CNODE.absolute_cptr(frames.start + k), CapRights::ALL),
                "copy an image frame cap",
            )?;
            let vaddr = image.start as Word + k * 4096;
            self.map_page(
                vs,
                copy,
                vaddr,
                CapRights::ALL,
                libsel4::vm_attributes::DEFAULT,
            )?;
        }
        self.vspace2 = vs;
        let probe = Job {
            addr: self.bi as *const BootInfo as Word,
            ..Job::default()
        };
        let t = self.spawn(probe_main, PRIO, Space::Other, 0, probe)?;
        self.start(&[t])?;
        let w = self.wait();
        self.kill(&[t])?;
        match w {
            Err(Stop::Fault(abi::fault::VM_FAULT, _pc, addr)) if addr == probe.addr => {
                println!(
                    "second VSpace: {} image frames mapped; a thread there takes a VM fault on \
                     the BootInfo frame, as it should",
                    frames.count()
                );
                Ok(())
            }
            Ok(()) => Err(Fail(
                "the second VSpace maps the BootInfo frame: it is not separate",
            )),
            Err(s) => {
                println!("  probe of the second VSpace: {s:?}");
                Err(Fail(
                    "the second VSpace probe did not take the expected VM fault",
                ))
            }
        }
    }

    /// Make thread `i` (0..THREADS) running `entry(i)` at priority `prio` in `space`, with
    /// `job`; it is not started (see [`Env::start`]). Clears the shared timestamps when `i`
    /// is 0.
    pub fn spawn(&mut self, entry: Entry, prio: Word, space: Space, i: usize, job: Job) -> R<CPtr> {
        if i >= THREADS {
            return Err(Fail("thread index out of range"));
        }
        if i == 0 {
            clear_shared();
        }
        self.thread(entry, prio, space, i, job)
    }

    fn thread(
        &mut self,
        entry: Entry,
        prio: Word,
        space: Space,
        i: usize,
        mut job: Job,
    ) -> R<CPtr> {
        let vspace = match space {
            Space::Root => init::VSPACE.bits(),
            Space::Other => self.vspace2,
        };
        let page = ipc_page(i);
        // SAFETY: the page is a static no running thread uses (thread `i` does not exist).
        unsafe { core::ptr::write_bytes(page as *mut u8, 0, 4096) };
        job.ipc = page;
        set_job(i, job);
        let frame = self.image_frame(page)?;
        let tcb = self.new_object(ObjectType::Tcb, 0)?;
        #[cfg(not(feature = "mcs"))]
        {
            ok(
                sys::seL4_TCB_Configure(
                    tcb,
                    self.fault_ep,
                    init::CNODE.bits(),
                    CNodeCapData::default().0,
                    vspace,
                    0,
                    page,
                    frame,
                ),
                "TCB_Configure",
            )?;
            ok(
                sys::seL4_TCB_SetPriority(tcb, init::TCB.bits(), prio),
                "TCB_SetPriority",
            )?;
        }
        #[cfg(feature = "mcs")]
        {
            ok(
                sys::seL4_TCB_Configure(
                    tcb,
                    init::CNODE.bits(),
                    CNodeCapData::default().0,
                    vspace,
                    0,
                    page,
                    frame,
                ),
                "TCB_Configure",
            )?;
            let sc = self.new_object(
                ObjectType::SchedContext,
                abi::object::MIN_SCHED_CONTEXT_BITS,
            )?;
            ok(
                sys::seL4_SchedControl_Configure(
                    self.bi.schedcontrol.start,
                    sc,
                    BUDGET_US,
                    BUDGET_US,
                    0,
                    0,
                ),
                "SchedControl_Configure",
            )?;
            ok(
                sys::seL4_TCB_SetSchedParams(tcb, init::TCB.bits(), 0, prio, sc, self.fault_ep),
                "TCB_SetSchedParams",
            )?;
            let reply = self.new_object(ObjectType::Reply, 0)?;
            REPLIES[i].store(reply, Relaxed);
            self.objects[i] = (tcb, sc, reply);
        }
        let mut regs = UserContext::default();
        regs.regs[idx::PC] = entry as usize as Word;
        regs.regs[idx::SP] = stack_top(i);
        #[cfg(target_arch = "riscv64")]
        {
            regs.regs[idx::GP] = raw::global_pointer();
            regs.regs[idx::TP] = 0;
            regs.regs[idx::A0] = i as Word;
        }
        #[cfg(target_arch = "aarch64")]
        {
            regs.regs[idx::TPIDR_EL0] = 0;
            regs.regs[idx::X0] = i as Word;
        }
        ok(
            sys::seL4_TCB_WriteRegisters(tcb, false, 0, USER_CONTEXT_WORDS as Word, &regs),
            "TCB_WriteRegisters",
        )?;
        Ok(tcb)
    }

    /// Start threads (in this order).
    pub fn start(&self, tcbs: &[CPtr]) -> R<()> {
        for &t in tcbs {
            ok(sys::seL4_TCB_Resume(t), "TCB_Resume")?;
        }
        Ok(())
    }

    /// MCS: make thread `tcb` (started, with its SC) passive: wait for its [`READY`] (sent
    /// with `seL4_NBSendRecv` as it starts waiting on its endpoint), then unbind its
    /// SchedContext (`SchedContext_Unbind`). From then on it runs on its callers' SCs.
    #[cfg(feature = "mcs")]
    pub fn passive(&self, tcb: CPtr, what: &'static str) -> R<()> {
        let (info, _) = sys::seL4_Wait(self.report);
        if info.label() != READY {
            println!(
                "  {what}: expected the server's READY, got label {:#x}",
                info.label()
            );
            return Err(Fail("the passive server did not report that it waits"));
        }
        let sc = self
            .objects
            .iter()
            .find(|o| o.0 == tcb)
            .map(|o| o.1)
            .ok_or(Fail("no such thread"))?;
        ok(sys::seL4_SchedContext_Unbind(sc), "SchedContext_Unbind")
    }

    /// Wait for a thread's `DONE`; anything else ends the benchmark.
    pub fn wait(&self) -> Result<(), Stop> {
        #[cfg(not(feature = "mcs"))]
        let (info, badge) = sys::seL4_Recv(self.report);
        #[cfg(feature = "mcs")]
        let (info, badge) = sys::seL4_Wait(self.report);
        if badge == FAULT_BADGE {
            return Err(Stop::Fault(
                info.label(),
                sys::seL4_GetMR(0),
                sys::seL4_GetMR(1),
            ));
        }
        match info.label() {
            DONE => Ok(()),
            ERROR => Err(Stop::Error(sys::seL4_GetMR(0))),
            STUCK => Err(Stop::Stuck),
            l => Err(Stop::Unexpected(l)),
        }
    }

    /// [`Env::wait`], printing why it failed.
    pub fn wait_ok(&self, what: &'static str) -> R<()> {
        self.wait().map_err(|s| {
            match s {
                Stop::Fault(l, m0, m1) => println!(
                    "  {what}: a thread faulted: fault label {l}, MR0 {m0:#x}, MR1 {m1:#x}"
                ),
                Stop::Error(c) => println!("  {what}: a thread reported error {c:#x}"),
                Stop::Stuck => println!("  {what}: every thread is blocked"),
                Stop::Unexpected(l) => println!("  {what}: unexpected message, label {l:#x}"),
            }
            Fail(what)
        })
    }

    /// Stop and delete threads (MCS: with their SchedContexts and Reply objects).
    pub fn kill(&self, tcbs: &[CPtr]) -> R<()> {
        for &t in tcbs {
            ok(sys::seL4_TCB_Suspend(t), "TCB_Suspend")?;
            self.delete(t)?;
            #[cfg(feature = "mcs")]
            if let Some(&(_, sc, reply)) = self.objects.iter().find(|o| o.0 == t) {
                self.delete(sc)?;
                self.delete(reply)?;
            }
        }
        Ok(())
    }
}
