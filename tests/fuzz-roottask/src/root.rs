//! The root task: builds the children, handles their faults, watches them, checks its canary,
//! and revokes and rebuilds everything (see the crate documentation).

use core::cell::UnsafeCell;
use core::fmt;

use abi::user_context::{idx, UserContext};
use abi::{BootInfo, CNodeCapData, CPtr, CapRights, Error, ObjectType, Word};
use libsel4::cap::init;
use libsel4::ipc::ThreadBlock;
use libsel4::{cap_tag, println, sys};

use crate::layout::*;
use crate::rng::{mix, Rng};
use crate::rt::{fail_halt, global_pointer, image_range, rdtime};
use crate::{CYCLE, ITERS, SEED};

/// A child that made no syscall for this many ticker rounds is restarted (when no child
/// progressed in the last round, or after [`HANG_TIME`]).
const HANG_ROUNDS: u32 = 2;
/// ... and this long (`time` CSR: 2 ms) when its siblings progress.
const HANG_TIME: u64 = 20_000;
/// The canary is checked this often (`time` CSR: 10 ms), and at every rebuild.
const CANARY_PERIOD: u64 = 100_000;
/// A progress line this often (`time` CSR: 1 s).
const REPORT_PERIOD: u64 = 10_000_000;

/// Badge of the ticker's notification cap (bound to the root TCB): far above the children's
/// fault badges (1..=CHILDREN).
const TICK_BIT: Word = 1 << 40;
/// `time` CSR ticks per microsecond.
const TIME_PER_US: u64 = 10;
/// MCS: budget and period of every thread's SchedContext, in µs (round robin).
#[cfg(feature = "mcs")]
const BUDGET_US: u64 = 2_000;
/// Size of `U`, which every cycle's objects come from: 16 MiB.
const U_BITS: Word = 24;
/// Persistent root slots (made once) before the per-cycle ones.
const PERSISTENT_SLOTS: Word = 64;

/// Statics the ticker uses; only it touches them after it starts.
struct Shared<T>(UnsafeCell<T>);
// SAFETY: the contents are used by one thread only (the ticker's stack), or read-only.
unsafe impl<T> Sync for Shared<T> {}

#[repr(C, align(16))]
struct Stack([u8; 8192]);
static TICKER_STACK: Shared<Stack> = Shared(UnsafeCell::new(Stack([0; 8192])));

/// The canary page: PRNG data whose checksum the root task keeps.
#[repr(C, align(4096))]
struct Page([Word; 512]);
static CANARY: Shared<Page> = Shared(UnsafeCell::new(Page([0; 512])));

/// Print `FUZZ FAIL <message>` and halt.
fn fail(args: fmt::Arguments<'_>) -> ! {
    println!("FUZZ FAIL {args}");
    fail_halt("(see above)")
}

/// Unwrap an invocation's result, or fail with its error and detail.
macro_rules! ok {
    ($e:expr, $($what:tt)+) => {
        match $e {
            Ok(v) => v,
            Err(e) => fail(format_args!(
                "{} failed: {} [{}] (line {})",
                format_args!($($what)+),
                libsel4::error_name(e),
                libsel4::last_error().detail(),
                line!()
            )),
        }
    };
}

/// One child's objects in this cycle (root CNode slots).
#[derive(Clone, Copy, Default)]
struct Child {
    tcb: CPtr,
    cnode: CPtr,
    vspace: CPtr,
    ipc: CPtr,
    #[cfg(feature = "mcs")]
    sc: CPtr,
    /// Its syscall count when last looked at, and for how many ticks it has not moved.
    last: Word,
    stale: u32,
    /// When it last made progress (`time` CSR).
    since: u64,
}

/// Counters for the report.
#[derive(Default)]
struct Stats {
    /// Child syscalls in finished cycles.
    done: Word,
    /// Fault messages: cap, unknown syscall, user exception, VM, timeout (MCS), and other
    /// labels (messages a child sent on its fault endpoint itself).
    faults: [Word; 6],
    /// Restarts of children that made no progress.
    hangs: Word,
    /// Rebuild cycles completed.
    cycles: Word,
    ticks: Word,
    canary_checks: Word,
}

struct Root {
    bi: &'static BootInfo,
    /// The untyped everything per cycle comes from, and its size.
    u: CPtr,
    u_bits: Word,
    fault_ep: CPtr,
    #[cfg(feature = "mcs")]
    fault_mints: [CPtr; CHILDREN],
    #[cfg(feature = "mcs")]
    reply: CPtr,
    irq: CPtr,
    /// Caps the root task owns and their types (the canary).
    caps: [(CPtr, u32); 32],
    ncaps: usize,
    canary_sum: Word,
    frame0_paddr: Word,
    /// Per-cycle slots: `cycle_base..next`.
    cycle_base: CPtr,
    next: CPtr,
    slot_end: CPtr,
    /// Copies of the image frames made this cycle (`img_start..img_end`).
    img_start: CPtr,
    img_end: CPtr,
    children: [Child; CHILDREN],
    /// Whether this cycle's objects (and the views of the children's status words) exist.
    live: bool,
    restarts: Word,
    stats: Stats,
    start_time: u64,
}

/// The root task's entry.
pub fn root_main(bi: &'static BootInfo) -> ! {
    println!(
        "FUZZ START seed={SEED:#x} iters={ITERS} cycle={CYCLE} children={CHILDREN} mcs={}",
        cfg!(feature = "mcs")
    );
    // SAFETY: the root thread runs with tp = 0; every other thread's tp points at its own
    // ThreadBlock (children) or is 0 and uses no IPC buffer (the ticker).
    unsafe { libsel4::ipc::enable_thread_blocks() };
    let mut root = Root::new(bi);
    root.build();
    println!("FUZZ BUILT guest_us={}", root.guest_us());
    root.run()
}

/// The largest RAM untyped and the second largest: (slot, size bits).
fn untypeds(bi: &BootInfo) -> ((CPtr, Word), (CPtr, Word)) {
    let n = (bi.untyped.end - bi.untyped.start) as usize;
    let mut best: [(CPtr, Word); 2] = [(0, 0); 2];
    for (i, d) in bi.untyped_list.iter().enumerate().take(n) {
        if d.is_device != 0 {
            continue;
        }
        let e = (bi.untyped.start + i as Word, d.size_bits as Word);
        if e.1 > best[0].1 {
            best[1] = best[0];
            best[0] = e;
        } else if e.1 > best[1].1 {
            best[1] = e;
        }
    }
    if best[1].1 < 20 {
        fail(format_args!("no two RAM untypeds of 1 MiB: {best:?}"));
    }
    (best[0], best[1])
}

/// `CNode_Copy` within the root CNode.
fn copy(dest: CPtr, src: CPtr, rights: CapRights) -> Result<(), Error> {
    sys::seL4_CNode_Copy(
        init::CNODE.bits(),
        dest,
        64,
        init::CNODE.bits(),
        src,
        64,
        rights,
    )
}

/// `CNode_Mint` within the root CNode.
fn mint(dest: CPtr, src: CPtr, rights: CapRights, badge: Word) -> Result<(), Error> {
    sys::seL4_CNode_Mint(
        init::CNODE.bits(),
        dest,
        64,
        init::CNODE.bits(),
        src,
        64,
        rights,
        badge,
    )
}

/// The fault endpoint's rights for a child: send, and grant-reply (so the kernel can make the
/// reply), nothing else.
const FAULT_RIGHTS: CapRights = CapRights::new(true, false, false, true);

impl Root {
    fn new(bi: &'static BootInfo) -> Root {
        let ((big, _), (p, _)) = untypeds(bi);
        // `U`: a 2^U_BITS untyped carved from the largest one (a small `U` keeps the
        // whole-again check cheap: the next retype after it zeroes all of `U`).
        let u = bi.empty.start;
        let u_bits = U_BITS;
        ok!(
            sys::seL4_Untyped_Retype(
                big,
                ObjectType::Untyped as Word,
                u_bits,
                init::CNODE.bits(),
                0,
                0,
                u,
                1
            ),
            "carving U from the largest untyped"
        );
        let mut r = Root {
            bi,
            u,
            u_bits,
            fault_ep: 0,
            #[cfg(feature = "mcs")]
            fault_mints: [0; CHILDREN],
            #[cfg(feature = "mcs")]
            reply: 0,
            irq: 0,
            caps: [(0, 0); 32],
            ncaps: 0,
            canary_sum: 0,
            frame0_paddr: 0,
            cycle_base: bi.empty.start + PERSISTENT_SLOTS,
            next: bi.empty.start + 1,
            slot_end: bi.empty.end,
            img_start: 0,
            img_end: 0,
            children: [Child::default(); CHILDREN],
            live: false,
            restarts: 0,
            stats: Stats::default(),
            start_time: rdtime(),
        };
        let image = image_range();
        let pages = ((image.end - image.start) / 4096) as Word;
        let frames = bi.user_image_frames.end - bi.user_image_frames.start;
        if frames != pages {
            fail(format_args!(
                "{frames} image frame caps for {pages} image pages"
            ));
        }
        if r.cycle_base + pages * CHILDREN as Word + 1024 > r.slot_end {
            fail(format_args!("too few empty slots: {:?}", bi.empty));
        }

        // The canary page and the caps the root task owns.
        let mut g = Rng::new(mix(SEED ^ 0xca7a_5cad));
        let page = CANARY.0.get() as *mut Word;
        let mut sum: Word = 0;
        for i in 0..512 {
            let w = g.next();
            // SAFETY: inside the canary page, which only the root thread uses.
            unsafe { page.add(i).write_volatile(w) };
            sum = sum.rotate_left(7) ^ w;
        }
        r.canary_sum = sum;
        r.frame0_paddr = ok!(
            sys::seL4_RISCV_Page_GetAddress(bi.user_image_frames.start),
            "Page_GetAddress of the first image frame"
        );

        // Persistent objects from the second untyped: the fault endpoint, the tick
        // notification, the ticker, and (MCS) the root's Reply object and the children's fault
        // endpoint caps.
        r.fault_ep = r.persistent(p, ObjectType::Endpoint, 0);
        let ntfn = r.persistent(p, ObjectType::Notification, 0);
        let tick_cap = r.slot();
        ok!(
            mint(tick_cap, ntfn, CapRights::WRITE, TICK_BIT),
            "minting the tick cap"
        );
        ok!(
            sys::seL4_TCB_BindNotification(init::TCB.bits(), ntfn),
            "binding the tick notification"
        );
        let ticker = r.persistent(p, ObjectType::Tcb, 0);
        #[cfg(feature = "mcs")]
        {
            r.reply = r.persistent(p, ObjectType::Reply, 0);
            for i in 0..CHILDREN {
                let s = r.slot();
                ok!(
                    mint(s, r.fault_ep, FAULT_RIGHTS, i as Word + 1),
                    "minting fault cap {i}"
                );
                r.fault_mints[i] = s;
                r.remember(s, cap_tag::ENDPOINT);
            }
        }
        r.irq = r.slot();
        ok!(
            sys::seL4_IRQControl_Get(init::IRQ_CONTROL.bits(), IRQ, init::CNODE.bits(), r.irq, 64),
            "IRQControl_Get({IRQ})"
        );
        for (c, t) in [
            (init::TCB.bits(), cap_tag::THREAD),
            (init::CNODE.bits(), cap_tag::CNODE),
            (init::VSPACE.bits(), cap_tag::PAGE_TABLE),
            (init::IRQ_CONTROL.bits(), cap_tag::IRQ_CONTROL),
            (init::ASID_CONTROL.bits(), cap_tag::ASID_CONTROL),
            (init::ASID_POOL.bits(), cap_tag::ASID_POOL),
            (init::BOOT_INFO_FRAME.bits(), cap_tag::FRAME),
            (init::IPC_BUFFER.bits(), cap_tag::FRAME),
            (u, cap_tag::UNTYPED),
            (p, cap_tag::UNTYPED),
            (r.fault_ep, cap_tag::ENDPOINT),
            (ntfn, cap_tag::NOTIFICATION),
            (tick_cap, cap_tag::NOTIFICATION),
            (ticker, cap_tag::THREAD),
            (r.irq, cap_tag::IRQ_HANDLER),
            (bi.user_image_frames.start, cap_tag::FRAME),
            (bi.user_image_frames.end - 1, cap_tag::FRAME),
        ] {
            r.remember(c, t);
        }
        #[cfg(feature = "mcs")]
        {
            r.remember(r.reply, cap_tag::REPLY);
            r.remember(bi.schedcontrol.start, cap_tag::SCHED_CONTROL);
        }

        // The ticker: the children's priority, the root task's spaces, no IPC buffer.
        #[cfg(not(feature = "mcs"))]
        {
            ok!(
                sys::seL4_TCB_Configure(
                    ticker,
                    0,
                    init::CNODE.bits(),
                    0,
                    init::VSPACE.bits(),
                    0,
                    0,
                    0
                ),
                "ticker Configure"
            );
            ok!(
                sys::seL4_TCB_SetPriority(ticker, init::TCB.bits(), CHILD_PRIO),
                "ticker SetPriority"
            );
        }
        #[cfg(feature = "mcs")]
        {
            let sc = r.persistent(
                p,
                ObjectType::SchedContext,
                abi::object::MIN_SCHED_CONTEXT_BITS,
            );
            ok!(
                sys::seL4_SchedControl_Configure(
                    bi.schedcontrol.start,
                    sc,
                    BUDGET_US,
                    BUDGET_US,
                    0,
                    0
                ),
                "ticker SchedControl_Configure"
            );
            ok!(
                sys::seL4_TCB_Configure(
                    ticker,
                    init::CNODE.bits(),
                    0,
                    init::VSPACE.bits(),
                    0,
                    0,
                    0
                ),
                "ticker Configure"
            );
            ok!(
                sys::seL4_TCB_SetSchedParams(ticker, init::TCB.bits(), 0, CHILD_PRIO, sc, 0),
                "ticker SetSchedParams"
            );
            r.remember(sc, cap_tag::SCHED_CONTEXT);
        }
        let mut regs = UserContext::default();
        regs.regs[idx::PC] = ticker_main as *const () as usize as Word;
        // SAFETY: address arithmetic: the top of the ticker's stack.
        regs.regs[idx::SP] = unsafe { TICKER_STACK.0.get().add(1) } as Word;
        regs.regs[idx::GP] = global_pointer();
        regs.regs[idx::A0] = tick_cap;
        ok!(
            sys::seL4_TCB_WriteRegisters(ticker, true, 0, 32, &regs),
            "ticker WriteRegisters"
        );
        if r.next > r.cycle_base {
            fail(format_args!("too many persistent slots"));
        }
        r.check_canary();
        r
    }

    /// A fresh root slot (persistent ones first, then per cycle).
    fn slot(&mut self) -> CPtr {
        let s = self.next;
        if s >= self.slot_end {
            fail(format_args!("out of root slots"));
        }
        self.next += 1;
        s
    }

    /// Add a cap to the canary.
    fn remember(&mut self, c: CPtr, tag: u32) {
        if self.ncaps == self.caps.len() {
            fail(format_args!("too many canary caps"));
        }
        self.caps[self.ncaps] = (c, tag);
        self.ncaps += 1;
    }

    fn persistent(&mut self, p: CPtr, ty: ObjectType, bits: Word) -> CPtr {
        let s = self.slot();
        ok!(
            sys::seL4_Untyped_Retype(p, ty as Word, bits, init::CNODE.bits(), 0, 0, s, 1),
            "retyping a persistent {ty:?}"
        );
        s
    }

    /// A new object from `U` in a per-cycle slot.
    fn retype(&mut self, ty: ObjectType, bits: Word) -> CPtr {
        let s = self.slot();
        ok!(
            sys::seL4_Untyped_Retype(self.u, ty as Word, bits, init::CNODE.bits(), 0, 0, s, 1),
            "retyping {ty:?} ({bits} bits) from U"
        );
        s
    }

    /// Map `frame` into `vspace` at `vaddr`, making page tables from `U` as needed.
    fn map(&mut self, frame: CPtr, vspace: CPtr, vaddr: Word, rights: CapRights) {
        for _ in 0..4 {
            match sys::seL4_RISCV_Page_Map(frame, vspace, vaddr, rights, 0) {
                Ok(()) => return,
                Err(Error::FailedLookup) => {
                    let pt = self.retype(ObjectType::PageTable, 0);
                    ok!(
                        sys::seL4_RISCV_PageTable_Map(pt, vspace, vaddr, 0),
                        "PageTable_Map at {vaddr:#x}"
                    );
                }
                Err(e) => fail(format_args!(
                    "Page_Map at {vaddr:#x}: {}",
                    libsel4::error_name(e)
                )),
            }
        }
        fail(format_args!(
            "Page_Map at {vaddr:#x}: page tables keep missing"
        ));
    }

    /// The root task's view of child `i`'s IPC buffer frame.
    fn view(i: usize) -> Word {
        VIEW + i as Word * 4096
    }

    /// Child `i`'s syscall count.
    fn count(i: usize) -> Word {
        let p = (Self::view(i) + STATUS_OFFSET) as *const Word;
        // SAFETY: the view page is mapped while a cycle runs; volatile, as the child writes it.
        unsafe { p.read_volatile() }
    }

    /// Build this cycle's objects from `U` and start the children.
    // `i` names the child: its objects, badges and view, not only `tcbs[i]`.
    #[allow(clippy::needless_range_loop)]
    fn build(&mut self) {
        self.next = self.cycle_base;
        let c = CNODE_BITS as u8;
        let ep_a = self.retype(ObjectType::Endpoint, 0);
        let ep_b = self.retype(ObjectType::Endpoint, 0);
        let ntfn = self.retype(ObjectType::Notification, 0);
        let image = image_range();
        let pages = ((image.end - image.start) / 4096) as Word;
        // Image frame copies first, in one run of slots, so that they can be deleted by range.
        self.img_start = self.next;
        for _ in 0..CHILDREN {
            for k in 0..pages {
                let s = self.slot();
                ok!(
                    copy(s, self.bi.user_image_frames.start + k, CapRights::READ),
                    "copying image frame {k}"
                );
            }
        }
        self.img_end = self.next;
        let mut tcbs = [0; CHILDREN];
        #[cfg(feature = "mcs")]
        let mut scs = [0; CHILDREN];
        for i in 0..CHILDREN {
            let cnode = self.retype(ObjectType::CapTable, CNODE_BITS);
            let small = self.retype(ObjectType::CapTable, SMALL_BITS);
            let vspace = self.retype(ObjectType::PageTable, 0);
            ok!(
                sys::seL4_RISCV_ASIDPool_Assign(init::ASID_POOL.bits(), vspace),
                "ASIDPool_Assign"
            );
            let tcb = self.retype(ObjectType::Tcb, 0);
            let ut = self.retype(ObjectType::Untyped, UT_BITS);
            let ipc = self.retype(ObjectType::SmallPage, 0);
            let play0 = self.retype(ObjectType::SmallPage, 0);
            let play1 = self.retype(ObjectType::SmallPage, 0);
            let pt = self.retype(ObjectType::PageTable, 0);
            for k in 0..pages {
                let f = self.img_start + i as Word * pages + k;
                self.map(f, vspace, image.start as Word + k * 4096, CapRights::READ);
            }
            for k in 0..STACK_PAGES {
                let f = self.retype(ObjectType::SmallPage, 0);
                self.map(f, vspace, STACK_BASE + k * 4096, CapRights::READ_WRITE);
            }
            self.map(ipc, vspace, IPC, CapRights::READ_WRITE);
            let view = self.slot();
            ok!(
                copy(view, ipc, CapRights::READ_WRITE),
                "copying the IPC frame"
            );
            self.map(
                view,
                init::VSPACE.bits(),
                Self::view(i),
                CapRights::READ_WRITE,
            );

            // The child's CNode.
            let root = init::CNODE.bits();
            let guard = CNodeCapData::new(0, 64 - CNODE_BITS).0;
            ok!(
                sys::seL4_CNode_Mint(cnode, S_CNODE, c, root, cnode, 64, CapRights::ALL, guard),
                "child CNode cap"
            );
            ok!(
                sys::seL4_CNode_Mint(
                    cnode,
                    S_FAULT,
                    c,
                    root,
                    self.fault_ep,
                    64,
                    FAULT_RIGHTS,
                    i as Word + 1
                ),
                "child fault cap"
            );
            ok!(
                sys::seL4_CNode_Move(cnode, S_UT, c, root, ut, 64),
                "child untyped"
            );
            ok!(
                sys::seL4_CNode_Mint(
                    cnode,
                    S_EPA,
                    c,
                    root,
                    ep_a,
                    64,
                    CapRights::ALL,
                    0x100 + i as Word
                ),
                "child endpoint A"
            );
            ok!(
                sys::seL4_CNode_Mint(
                    cnode,
                    S_EPB,
                    c,
                    root,
                    ep_b,
                    64,
                    CapRights::ALL,
                    0x200 + i as Word
                ),
                "child endpoint B"
            );
            ok!(
                sys::seL4_CNode_Mint(cnode, S_NTFN, c, root, ntfn, 64, CapRights::ALL, 1 << i),
                "child notification"
            );
            ok!(
                sys::seL4_CNode_Copy(cnode, S_VSPACE, c, root, vspace, 64, CapRights::ALL),
                "child VSpace cap"
            );
            ok!(
                sys::seL4_CNode_Move(cnode, S_FRAME0, c, root, play0, 64),
                "child frame 0"
            );
            ok!(
                sys::seL4_CNode_Move(cnode, S_FRAME1, c, root, play1, 64),
                "child frame 1"
            );
            ok!(
                sys::seL4_CNode_Move(cnode, S_PT, c, root, pt, 64),
                "child page table"
            );
            ok!(
                sys::seL4_CNode_Copy(
                    cnode,
                    S_ASID_POOL,
                    c,
                    root,
                    init::ASID_POOL.bits(),
                    64,
                    CapRights::ALL
                ),
                "child ASID pool"
            );
            ok!(
                sys::seL4_CNode_Copy(cnode, S_IRQ, c, root, self.irq, 64, CapRights::ALL),
                "child IRQ handler"
            );
            #[cfg(feature = "mcs")]
            {
                let reply = self.retype(ObjectType::Reply, 0);
                ok!(
                    sys::seL4_CNode_Move(cnode, S_REPLY, c, root, reply, 64),
                    "child reply"
                );
                let sc = self.retype(
                    ObjectType::SchedContext,
                    abi::object::MIN_SCHED_CONTEXT_BITS,
                );
                ok!(
                    sys::seL4_SchedControl_Configure(
                        self.bi.schedcontrol.start,
                        sc,
                        BUDGET_US,
                        BUDGET_US,
                        0,
                        0
                    ),
                    "child SchedControl_Configure"
                );
                scs[i] = sc;
            }
            #[cfg(not(feature = "mcs"))]
            ok!(
                sys::seL4_CNode_Mint(
                    cnode,
                    S_EXTRA,
                    c,
                    root,
                    ep_a,
                    64,
                    CapRights::READ_WRITE,
                    0x300 + i as Word
                ),
                "child endpoint A copy"
            );
            ok!(
                sys::seL4_CNode_Move(cnode, S_SMALL, c, root, small, 64),
                "child small CNode"
            );
            tcbs[i] = tcb;
            self.children[i] = Child {
                tcb,
                cnode,
                vspace,
                ipc,
                #[cfg(feature = "mcs")]
                sc: scs[i],
                last: 0,
                stale: 0,
                since: rdtime(),
            };
        }
        for i in 0..CHILDREN {
            let cnode = self.children[i].cnode;
            let root = init::CNODE.bits();
            for (s, j) in [(S_TCB0, 1), (S_TCB1, 2)] {
                ok!(
                    sys::seL4_CNode_Copy(
                        cnode,
                        s,
                        c,
                        root,
                        tcbs[(i + j) % CHILDREN],
                        64,
                        CapRights::ALL
                    ),
                    "child sibling TCB"
                );
            }
            #[cfg(feature = "mcs")]
            ok!(
                sys::seL4_CNode_Copy(
                    cnode,
                    S_SC,
                    c,
                    root,
                    scs[(i + 1) % CHILDREN],
                    64,
                    CapRights::ALL
                ),
                "child sibling SchedContext"
            );
            #[cfg(not(feature = "mcs"))]
            ok!(
                sys::seL4_CNode_Copy(cnode, S_SC, c, root, ntfn, 64, CapRights::READ),
                "child notification copy"
            );
            let sib = self.children[(i + 1) % CHILDREN];
            let guard = CNodeCapData::new(0, 64 - CNODE_BITS).0;
            ok!(
                sys::seL4_CNode_Mint(
                    cnode,
                    S_SIB_CNODE,
                    c,
                    root,
                    sib.cnode,
                    64,
                    CapRights::ALL,
                    guard
                ),
                "child sibling CNode"
            );
            ok!(
                sys::seL4_CNode_Copy(cnode, S_SIB_VSPACE, c, root, sib.vspace, 64, CapRights::ALL),
                "child sibling VSpace"
            );
            ok!(
                sys::seL4_CNode_Copy(cnode, S_SELF_TCB, c, root, tcbs[i], 64, CapRights::ALL),
                "child's own TCB"
            );
        }
        self.live = true;
        for i in 0..CHILDREN {
            self.start(i);
        }
    }

    /// (Re)start child `i` from scratch: its vital slots, its TCB's configuration, fresh
    /// registers.
    fn start(&mut self, i: usize) {
        let ch = self.children[i];
        let root = init::CNODE.bits();
        let c = CNODE_BITS as u8;
        let _ = sys::seL4_TCB_Suspend(ch.tcb);
        // Its ThreadBlock (libsel4's per-thread IPC buffer pointer and borrow flag).
        let tb = (Self::view(i) + TB_OFFSET) as *const ThreadBlock;
        // SAFETY: the view maps the child's IPC frame; the child is suspended, so nothing else
        // uses its ThreadBlock.
        unsafe { (*tb).set_buffer(IPC as *mut abi::IpcBuffer) };
        // Its CNode cap and fault endpoint cap, which a child can delete or move away.
        let guard = CNodeCapData::new(0, 64 - CNODE_BITS).0;
        let _ = sys::seL4_CNode_Delete(ch.cnode, S_CNODE, c);
        let _ = sys::seL4_CNode_Delete(ch.cnode, S_FAULT, c);
        ok!(
            sys::seL4_CNode_Mint(
                ch.cnode,
                S_CNODE,
                c,
                root,
                ch.cnode,
                64,
                CapRights::ALL,
                guard
            ),
            "restart: child CNode cap"
        );
        ok!(
            sys::seL4_CNode_Mint(
                ch.cnode,
                S_FAULT,
                c,
                root,
                self.fault_ep,
                64,
                FAULT_RIGHTS,
                i as Word + 1
            ),
            "restart: child fault cap"
        );
        #[cfg(not(feature = "mcs"))]
        {
            ok!(
                sys::seL4_TCB_Configure(
                    ch.tcb, S_FAULT, ch.cnode, guard, ch.vspace, 0, IPC, ch.ipc
                ),
                "restart: TCB_Configure"
            );
            ok!(
                sys::seL4_TCB_SetSchedParams(ch.tcb, init::TCB.bits(), CHILD_PRIO, CHILD_PRIO),
                "restart: TCB_SetSchedParams"
            );
        }
        #[cfg(feature = "mcs")]
        {
            let _ = sys::seL4_SchedContext_Unbind(ch.sc);
            ok!(
                sys::seL4_TCB_SetSchedParams(
                    ch.tcb,
                    init::TCB.bits(),
                    CHILD_PRIO,
                    CHILD_PRIO,
                    0,
                    self.fault_mints[i]
                ),
                "restart: TCB_SetSchedParams (unbind)"
            );
            ok!(
                sys::seL4_TCB_Configure(ch.tcb, ch.cnode, guard, ch.vspace, 0, IPC, ch.ipc),
                "restart: TCB_Configure"
            );
            ok!(
                sys::seL4_TCB_SetSchedParams(
                    ch.tcb,
                    init::TCB.bits(),
                    CHILD_PRIO,
                    CHILD_PRIO,
                    ch.sc,
                    self.fault_mints[i]
                ),
                "restart: TCB_SetSchedParams"
            );
            ok!(
                sys::seL4_TCB_SetTimeoutEndpoint(ch.tcb, 0),
                "restart: SetTimeoutEndpoint"
            );
        }
        ok!(
            sys::seL4_TCB_SetFlags(ch.tcb, !0, 0),
            "restart: TCB_SetFlags"
        );
        let _ = sys::seL4_TCB_UnbindNotification(ch.tcb);
        let mut regs = UserContext::default();
        regs.regs[idx::PC] = crate::child::child_main as *const () as usize as Word;
        regs.regs[idx::SP] = STACK_BASE + STACK_PAGES * 4096;
        regs.regs[idx::GP] = global_pointer();
        regs.regs[idx::TP] = IPC + TB_OFFSET;
        regs.regs[idx::A0] = SEED ^ self.stats.cycles.wrapping_mul(0x9e37_79b9);
        regs.regs[idx::A0 + 1] = i as Word;
        regs.regs[idx::A0 + 2] = self.restarts;
        self.restarts += 1;
        ok!(
            sys::seL4_TCB_WriteRegisters(ch.tcb, true, 0, 32, &regs),
            "restart: TCB_WriteRegisters"
        );
        self.children[i].stale = 0;
    }

    /// Child syscalls so far.
    fn total(&self) -> Word {
        if !self.live {
            return self.stats.done;
        }
        self.stats.done + (0..CHILDREN).map(Self::count).sum::<Word>()
    }

    /// Revoke everything made from `U` and check that it is gone and `U` is whole.
    fn teardown(&mut self) {
        self.stats.done += (0..CHILDREN).map(Self::count).sum::<Word>();
        // The views go with `U`.
        self.live = false;
        let root = init::CNODE.bits();
        for s in self.img_start..self.img_end {
            ok!(
                sys::seL4_CNode_Delete(root, s, 64),
                "deleting image frame copy {s}"
            );
        }
        ok!(sys::seL4_CNode_Revoke(root, self.u, 64), "revoking U");
        for s in self.cycle_base..self.next {
            let t = sys::seL4_DebugCapIdentify(s);
            if t != cap_tag::NULL {
                fail(format_args!(
                    "slot {s} holds a {} cap after U was revoked",
                    cap_tag::name(t)
                ));
            }
        }
        let s = self.cycle_base;
        ok!(
            sys::seL4_Untyped_Retype(
                self.u,
                ObjectType::Untyped as Word,
                self.u_bits,
                root,
                0,
                0,
                s,
                1
            ),
            "retyping U as one untyped of 2^{} bytes (U is not whole)",
            self.u_bits
        );
        if sys::seL4_DebugCapIdentify(s) != cap_tag::UNTYPED {
            fail(format_args!("the whole-U untyped is not an untyped"));
        }
        ok!(
            sys::seL4_CNode_Delete(root, s, 64),
            "deleting the whole-U untyped"
        );
        self.check_canary();
        self.stats.cycles += 1;
    }

    fn check_canary(&mut self) {
        self.stats.canary_checks += 1;
        let page = CANARY.0.get() as *const Word;
        let mut sum: Word = 0;
        for i in 0..512 {
            // SAFETY: inside the canary page.
            sum = sum.rotate_left(7) ^ unsafe { page.add(i).read_volatile() };
        }
        if sum != self.canary_sum {
            fail(format_args!(
                "canary page changed: checksum {sum:#x}, expected {:#x}",
                self.canary_sum
            ));
        }
        for &(c, tag) in &self.caps[..self.ncaps] {
            let t = sys::seL4_DebugCapIdentify(c);
            if t != tag {
                fail(format_args!(
                    "canary cap {c}: a {} cap, expected {}",
                    cap_tag::name(t),
                    cap_tag::name(tag)
                ));
            }
        }
        let pa = ok!(
            sys::seL4_RISCV_Page_GetAddress(self.bi.user_image_frames.start),
            "canary Page_GetAddress"
        );
        if pa != self.frame0_paddr {
            fail(format_args!(
                "image frame 0 moved: {pa:#x}, was {:#x}",
                self.frame0_paddr
            ));
        }
    }

    fn guest_us(&self) -> u64 {
        (rdtime() - self.start_time) / TIME_PER_US
    }

    fn report(&self, what: &str) {
        let f = &self.stats.faults;
        println!(
            "FUZZ {what} cycle={} syscalls={} faults={} cap={} unknown_syscall={} user_exception={} vm={} timeout={} other={} restarts={} hangs={} canary_checks={} guest_us={}",
            self.stats.cycles,
            self.total(),
            f.iter().sum::<Word>(),
            f[0],
            f[1],
            f[2],
            f[3],
            f[4],
            f[5],
            self.restarts,
            self.stats.hangs,
            self.stats.canary_checks,
            self.guest_us()
        );
    }

    /// After a round of the ticker: restart the children that made no syscall for
    /// [`HANG_ROUNDS`] rounds, if no child made progress in this round (every one is blocked
    /// or spinning: nothing can wake them) or if it has been [`HANG_TIME`] since they last did.
    fn watch(&mut self, now: u64) {
        let mut progress = false;
        for i in 0..CHILDREN {
            let n = Self::count(i);
            let ch = &mut self.children[i];
            if n != ch.last {
                ch.last = n;
                ch.since = now;
                ch.stale = 0;
                progress = true;
            } else {
                ch.stale += 1;
            }
        }
        for i in 0..CHILDREN {
            let ch = self.children[i];
            if ch.stale >= HANG_ROUNDS && (!progress || now - ch.since >= HANG_TIME) {
                self.stats.hangs += 1;
                self.start(i);
                self.children[i].since = now;
            }
        }
    }

    fn run(&mut self) -> ! {
        let mut cycle_start = 0;
        let (mut last_canary, mut last_report) = (rdtime(), rdtime());
        loop {
            #[cfg(not(feature = "mcs"))]
            let (info, badge) = sys::seL4_Recv(self.fault_ep);
            #[cfg(feature = "mcs")]
            let (info, badge) = sys::seL4_Recv(self.fault_ep, self.reply);
            if badge & TICK_BIT != 0 {
                self.stats.ticks += 1;
                let now = rdtime();
                let total = self.total();
                if total >= ITERS {
                    self.teardown();
                    self.report("DONE");
                    println!("FUZZ OK");
                    loop {
                        sys::seL4_DebugHalt();
                    }
                }
                if total - cycle_start >= CYCLE {
                    self.teardown();
                    self.report("CYCLE");
                    self.build();
                    cycle_start = self.total();
                    continue;
                }
                self.watch(now);
                if now - last_canary >= CANARY_PERIOD {
                    last_canary = now;
                    self.check_canary();
                }
                if now - last_report >= REPORT_PERIOD {
                    last_report = now;
                    self.report("PROGRESS");
                }
            } else if (1..=CHILDREN as Word).contains(&badge) {
                use abi::fault;
                let k = match info.label() {
                    fault::CAP_FAULT => 0,
                    fault::UNKNOWN_SYSCALL => 1,
                    fault::USER_EXCEPTION => 2,
                    fault::VM_FAULT => 3,
                    #[cfg(feature = "mcs")]
                    fault::TIMEOUT => 4,
                    _ => 5,
                };
                self.stats.faults[k] += 1;
                self.start(badge as usize - 1);
            } else {
                fail(format_args!(
                    "message with badge {badge:#x} (label {:#x}) on the fault endpoint",
                    info.label()
                ));
            }
        }
    }
}

/// The ticker: at the children's priority, it signals the root task at each of its turns
/// (after every runnable child had one) and yields. Raw syscalls only (no IPC buffer).
extern "C" fn ticker_main(cap: Word) -> ! {
    loop {
        // SAFETY: seL4_Signal (an NBSend with an empty message on a notification cap).
        unsafe {
            core::arch::asm!("ecall", inout("a0") cap => _, inout("a1") 0u64 => _,
                lateout("a2") _, lateout("a3") _, lateout("a4") _, lateout("a5") _,
                lateout("a6") _, in("a7") abi::Syscall::NBSend as i64, options(nostack));
        }
        // SAFETY: seL4_Yield.
        unsafe {
            core::arch::asm!("ecall", lateout("a0") _, lateout("a1") _,
                lateout("a2") _, lateout("a3") _, lateout("a4") _, lateout("a5") _,
                lateout("a6") _, in("a7") abi::Syscall::Yield as i64, options(nostack));
        }
    }
}
