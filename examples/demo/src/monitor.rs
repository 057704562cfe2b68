//! The monitor: a protection domain (its own thread and CSpace; it shares the root task's
//! address space) that owns everything the serial driver is made of, watches the driver, and
//! makes it again from scratch when it crashes or hangs.
//!
//! What it holds (in its own CNode of [`SLOTS`] slots, given by the root task):
//!
//! * the **pool**: an untyped of `2^pool_bits` bytes that every object of a driver is made from
//!   (its notification, its VSpace and page tables, stack and IPC buffer frames, TCB, CNode;
//!   MCS: its SchedContexts and Reply objects), and the UART's register page as a 4 KiB device
//!   untyped, from which the driver's frame of it is made;
//! * the UART's IRQ handler, the initial ASID pool, copies of the root task's image frame caps
//!   (mapped read-only into each driver's VSpace), MCS: the SchedControl cap;
//! * the service endpoint the client calls (made by the root task, not from the pool: the
//!   client's badged cap to it stays valid through every restart), and a notification the
//!   UART's interrupt points at between two drivers ([`slot::PARKING`]);
//! * its own endpoint ([`slot::EP`]): every driver's fault endpoint (badge [`FAULT_BADGE`]) and
//!   the root task's requests (badge [`ROOT_BADGE`]); and its own notification, bound to its
//!   TCB: its timer's interrupt ([`TICK_BIT`]: the goldfish RTC's alarm on riscv64, the generic
//!   timer's EL1 physical timer on aarch64; `devices`) and the driver's answers to heartbeats
//!   ([`HEART_BIT`]).
//!
//! **Restart.** When a driver faults (its fault message arrives on the monitor's endpoint) or
//! hangs (it left [`MISSED_LIMIT`] heartbeats unanswered; the monitor pings it through its
//! notification every [`HEARTBEAT_NS`]), the monitor suspends it, points the UART's interrupt at
//! its parking notification (which replaces the binding to the driver's: an interrupt between
//! two drivers then signals a notification nobody waits on, where with no binding at all the
//! kernel would report it as undelivered), answers the request the driver held (a waiting
//! read) with [`proto::RESTARTED`], revokes the pool and the UART's device untyped (every object
//! of the driver, with every cap derived from them, disappears: TCB, address space, CSpace,
//! notification, the copy of the IRQ handler), deletes the caps it had made for it from its own,
//! checks that every slot the driver used is empty, and builds a new driver from scratch, whose
//! interrupt it binds to the new notification, and which programs the UART again and
//! acknowledges its interrupt. It lets the new driver run until it waits for
//! requests (MCS: then makes it passive) and prints how long the restart took in guest time.
//!
//! **Self-test.** Before the first driver that serves, the monitor builds and tears down
//! `self_test` drivers that crash at once, then checks that they left nothing behind: every
//! slot they used is empty, the initial ASID pool takes as many new VSpaces as before (each
//! driver's VSpace had an ASID from it), and the whole pool can be retyped as one untyped (an
//! untyped with children cannot be retyped from its start again). The pool check runs again
//! after the last driver is stopped.

use abi::{CNodeCapData, CPtr, CapRights, MessageInfo, ObjectType, Word};
use libsel4::cap::{AsidPool, CNode, Cap, Granule, IrqHandler, Notification, Tcb};
#[cfg(feature = "mcs")]
use libsel4::cap::{SchedContext, SchedControl};
use libsel4::{cap_tag, println, sys, vm_attributes};

use crate::devices::{now, MonitorTimer, Regs, Timer};
use crate::driver::{self, proto};
use crate::threads::check;

/// Radix of the monitor's CNode.
pub const RADIX: u8 = 10;
/// Slots in the monitor's CNode.
pub const SLOTS: CPtr = 1 << RADIX;
/// Radix of a driver's CNode.
const DRIVER_RADIX: u8 = 4;

/// CPtrs in the monitor's CNode.
pub mod slot {
    use abi::CPtr;
    /// Its own TCB (the authority for priorities).
    pub const SELF: CPtr = 1;
    /// Its own CNode (guard set): where it retypes into.
    pub const CNODE: CPtr = 2;
    /// Its endpoint (all rights: it mints the drivers' fault endpoints from it): driver faults
    /// and the root task's requests.
    pub const EP: CPtr = 3;
    /// Its notification (full rights; bound to its TCB): timer ticks and heartbeat answers.
    pub const NTFN: CPtr = 4;
    /// The pool untyped every driver is made from.
    pub const POOL: CPtr = 5;
    /// The UART's register page as a 4 KiB device untyped.
    pub const UART_UT: CPtr = 6;
    /// The initial thread's ASID pool.
    pub const ASID_POOL: CPtr = 7;
    /// The UART's IRQ handler.
    pub const UART_IRQ: CPtr = 8;
    /// Its timer's IRQ handler (bound to [`NTFN`] with badge [`super::TICK_BIT`] by the root
    /// task).
    pub const TIMER_IRQ: CPtr = 9;
    /// The driver's service endpoint (all rights; the client's cap is a badged copy).
    pub const SERVICE: CPtr = 10;
    /// The service endpoint badged [`crate::driver::proto::MONITOR`]: `STOP`, `STATS`.
    pub const DRIVER_CTL: CPtr = 11;
    /// A notification nobody waits on: the UART's interrupt points here between two drivers.
    pub const PARKING: CPtr = 12;
    /// The root task's report endpoint (write, badged): the monitor's own failure.
    pub const REPORT: CPtr = 13;
    /// MCS: the SchedControl cap (to configure the driver's SchedContexts).
    #[cfg(feature = "mcs")]
    pub const SCHED_CONTROL: CPtr = 14;
    /// MCS: the Reply object it receives with.
    #[cfg(feature = "mcs")]
    pub const REPLY: CPtr = 15;
    /// The leak check's whole-pool untyped (empty otherwise).
    pub const CHECK: CPtr = 16;
    /// The first of the root task's image frame caps (copies, in address order).
    pub const IMAGE: CPtr = 64;
    /// The first slot of the current driver's objects and caps (and of the self-test's page
    /// tables); the slots up to [`super::SLOTS`] are used again for every driver.
    pub const DRIVER: CPtr = 256;
}

/// Monitor endpoint badge of the root task's requests.
pub const ROOT_BADGE: Word = 0x1000;
/// Monitor endpoint badge of a driver's fault messages.
pub const FAULT_BADGE: Word = 0x2000;
/// Monitor notification badge of the timer's interrupt.
pub const TICK_BIT: Word = 1 << 0;
/// Monitor notification badge of a driver's answer to a heartbeat.
pub const HEART_BIT: Word = 1 << 1;

/// The root task's request: stop the driver, tear it down, check the pool; reply
/// [`Report::WORDS`] words ([`Report`]).
pub const STOP: Word = 1;
/// Label of the monitor's failure report on the root task's report endpoint (it printed why).
pub const FAILED: Word = 0xfa11;

/// Time between two heartbeats (ns of guest time).
pub const HEARTBEAT_NS: u64 = 100_000_000;
/// A driver that leaves this many heartbeats in a row unanswered is hung.
pub const MISSED_LIMIT: u32 = 2;

/// Priorities: the monitor above the driver, so that a hung driver cannot starve it.
pub const MONITOR_PRIO: Word = 220;
/// The driver's priority.
pub const DRIVER_PRIO: Word = 210;

/// The driver's address space: its stack (guard pages below and above stay unmapped), its
/// IPC buffer, and the UART's register page. The image sits at its link address.
const STACK_BASE: Word = 0x0200_0000;
const STACK_PAGES: Word = 4;
/// Bytes at the top of the driver's stack set aside for its libsel4 thread block (`tp`).
const BLOCK_BYTES: Word = 64;
const IPC_VADDR: Word = 0x0201_0000;
const UART_VADDR: Word = 0x0300_0000;
const PAGE: Word = 4096;

/// The object type of an address space's root: a page table on riscv64, a VSpace on aarch64.
#[cfg(not(target_arch = "aarch64"))]
const VSPACE_OBJECT: ObjectType = ObjectType::PageTable;
/// The object type of an address space's root: a page table on riscv64, a VSpace on aarch64.
#[cfg(target_arch = "aarch64")]
const VSPACE_OBJECT: ObjectType = ObjectType::VSpace;
/// Page tables between the VSpace root and the table of a GiB's 2 MiB regions (riscv64 Sv39:
/// 1; aarch64 with 4 levels: 2).
const UPPER_TABLES: usize = if cfg!(target_arch = "aarch64") { 2 } else { 1 };

/// MCS: budget and period of the driver's SchedContexts (µs): a round robin.
#[cfg(feature = "mcs")]
const BUDGET_US: u64 = crate::threads::BUDGET_US;

/// What the monitor tells the root task when it stops.
#[derive(Clone, Copy, Debug, Default)]
pub struct Report {
    /// The last driver's counters.
    pub stats: proto::Stats,
    /// Drivers made to serve (the first and every restart).
    pub instances: Word,
    /// Restarts after a crash.
    pub crashes: Word,
    /// Restarts after a hang.
    pub hangs: Word,
    /// Whether the pool was retyped whole again after the last driver was torn down.
    pub pool_whole: Word,
}

impl Report {
    /// Words of the reply.
    pub const WORDS: usize = proto::Stats::WORDS + 4;

    fn to_words(self) -> [Word; Self::WORDS] {
        let mut w = [0; Self::WORDS];
        w[..proto::Stats::WORDS].copy_from_slice(&self.stats.to_words());
        w[proto::Stats::WORDS..].copy_from_slice(&[
            self.instances,
            self.crashes,
            self.hangs,
            self.pool_whole,
        ]);
        w
    }

    /// From the reply's words.
    pub fn from_words(w: [Word; Self::WORDS]) -> Report {
        let s = proto::Stats::WORDS;
        Report {
            stats: proto::Stats::from_words(core::array::from_fn(|i| w[i])),
            instances: w[s],
            crashes: w[s + 1],
            hangs: w[s + 2],
            pool_whole: w[s + 3],
        }
    }

    /// Restarts, crashes and hangs together.
    pub fn restarts(&self) -> Word {
        self.crashes + self.hangs
    }
}

/// Root side: ask the monitor (endpoint `ep`, badged [`ROOT_BADGE`]) to stop.
pub fn stop(ep: CPtr) -> Result<Report, Word> {
    let r = sys::seL4_Call(ep, MessageInfo::new(STOP, 0, 0, 0));
    if r.label() != 0 || r.length() < Report::WORDS as Word {
        return Err(r.label().max(1));
    }
    Ok(Report::from_words(core::array::from_fn(sys::seL4_GetMR)))
}

/// Why a driver is restarted.
#[derive(Clone, Copy)]
enum Cause {
    /// It faulted at this pc.
    Crash(Word),
    /// It left heartbeats unanswered.
    Hang,
}

/// The driver the monitor is running.
struct Instance {
    tcb: CPtr,
    /// Non-MCS: its CNode (where a waiting read's reply cap is).
    #[cfg(not(feature = "mcs"))]
    cnode: CPtr,
    /// The driver's notification badged [`proto::PING_BIT`].
    ping: CPtr,
    /// MCS: its two Reply objects.
    #[cfg(feature = "mcs")]
    replies: [CPtr; 2],
}

struct Monitor {
    hz: u64,
    timer: MonitorTimer,
    image_start: Word,
    image_frames: Word,
    pool_bits: Word,
    drv: Option<Instance>,
    /// The next free slot of the driver's range.
    next: CPtr,
    report: Report,
    /// Whether the driver answered the last heartbeat.
    answered: bool,
    missed: u32,
}

fn own() -> CNode {
    Cap::from_bits(slot::CNODE)
}

fn name(label: Word) -> &'static str {
    match label {
        abi::fault::CAP_FAULT => "cap fault",
        abi::fault::UNKNOWN_SYSCALL => "unknown syscall",
        abi::fault::USER_EXCEPTION => "user exception",
        abi::fault::VM_FAULT => "VM fault",
        _ => "fault",
    }
}

/// `seL4_Recv` on the monitor's endpoint (MCS: with its Reply object).
fn recv() -> (MessageInfo, Word) {
    #[cfg(not(feature = "mcs"))]
    {
        sys::seL4_Recv(slot::EP)
    }
    #[cfg(feature = "mcs")]
    {
        sys::seL4_Recv(slot::EP, slot::REPLY)
    }
}

/// Guest time in µs from `ticks` of the counter [`now`] reads, at `hz`.
pub fn micros(ticks: u64, hz: u64) -> u64 {
    (ticks as u128 * 1_000_000 / hz.max(1) as u128) as u64
}

impl Monitor {
    fn slot(&mut self) -> Result<CPtr, &'static str> {
        if self.next >= SLOTS {
            return Err("the monitor's CNode is full");
        }
        self.next += 1;
        Ok(self.next - 1)
    }

    /// A new object from the pool in a slot of the driver's range.
    fn object(&mut self, ty: ObjectType, size_bits: Word) -> Result<CPtr, &'static str> {
        let s = self.slot()?;
        let pool: libsel4::cap::Untyped = Cap::from_bits(slot::POOL);
        check(
            "retype from the pool",
            pool.retype(ty, size_bits, &own().as_retype_dest(), s, 1),
        )?;
        Ok(s)
    }

    /// Mint `src` (a slot of the monitor's) with `rights` and `badge` into a new slot.
    fn mint(&mut self, src: CPtr, rights: CapRights, badge: Word) -> Result<CPtr, &'static str> {
        let s = self.slot()?;
        check(
            "mint",
            own()
                .absolute_cptr(s)
                .mint_from(&own().absolute_cptr(src), rights, badge),
        )?;
        Ok(s)
    }

    /// A page table from the pool, mapped in `vspace` at the first level missing on the way to
    /// `vaddr`.
    fn page_table(&mut self, vspace: CPtr, vaddr: Word) -> Result<(), &'static str> {
        let pt = self.object(ObjectType::PageTable, 0)?;
        check(
            "PageTable_Map",
            Cap::<libsel4::cap::cap_type::PageTable>::from_bits(pt).map(
                Cap::from_bits(vspace),
                vaddr,
                vm_attributes::DEFAULT,
            ),
        )
    }

    /// The page tables of the driver's address space: the ones below the VSpace root down to
    /// the table for the first GiB (everything the driver has lies there: the image below its
    /// stack, the stack below the UART's page; riscv64: one, aarch64: two, for the first
    /// 512 GiB and the first GiB), then one below that for each 2 MiB region with pages in it.
    fn page_tables(&mut self, vspace: CPtr) -> Result<(), &'static str> {
        const REGION: Word = 1 << 21;
        let image_end = self.image_start + self.image_frames * PAGE;
        if image_end > STACK_BASE & !(REGION - 1) {
            return Err("the image reaches into the 2 MiB of the driver's stack");
        }
        for _ in 0..UPPER_TABLES {
            self.page_table(vspace, 0)?;
        }
        let mut at = self.image_start & !(REGION - 1);
        while at < image_end {
            self.page_table(vspace, at)?;
            at += REGION;
        }
        self.page_table(vspace, STACK_BASE)?;
        self.page_table(vspace, UART_VADDR)
    }

    /// Map `frame` at `vaddr` in `vspace` (its page tables are there).
    fn map(
        vspace: CPtr,
        frame: CPtr,
        vaddr: Word,
        rights: CapRights,
        attr: Word,
    ) -> Result<(), &'static str> {
        check(
            "Page_Map",
            Granule::from_bits(frame).map(Cap::from_bits(vspace), vaddr, rights, attr),
        )
    }

    /// Put a cap to the monitor's slot `src` with `rights` and `badge` into slot `at` of the
    /// driver's CNode `cn`.
    fn give(
        &self,
        cn: CPtr,
        at: CPtr,
        src: CPtr,
        rights: CapRights,
        badge: Word,
    ) -> Result<(), &'static str> {
        check(
            "mint into the driver's CNode",
            Cap::<libsel4::cap::cap_type::CNode>::from_bits(cn)
                .relative_bits_with_depth(at, DRIVER_RADIX)
                .mint_from(&own().absolute_cptr(src), rights, badge),
        )
    }

    /// `seL4_TCB_SetPriority` of the monitor itself.
    fn set_own_priority(prio: Word) -> Result<(), &'static str> {
        let me: Tcb = Cap::from_bits(slot::SELF);
        check("SetPriority (the monitor)", me.set_priority(me, prio))
    }

    /// MCS: a SchedContext from the pool, configured as a round robin of [`BUDGET_US`].
    #[cfg(feature = "mcs")]
    fn sched_context(&mut self) -> Result<SchedContext, &'static str> {
        let s = self.object(
            ObjectType::SchedContext,
            abi::object::MIN_SCHED_CONTEXT_BITS,
        )?;
        let sc: SchedContext = Cap::from_bits(s);
        let control: SchedControl = Cap::from_bits(slot::SCHED_CONTROL);
        check(
            "SchedControl_Configure",
            control.configure(sc, BUDGET_US, BUDGET_US, 0, 0),
        )?;
        Ok(sc)
    }

    /// Build driver number `instance` from scratch (in `mode`, [`driver::mode`]), start it and
    /// let it run until it waits for requests (or has faulted).
    fn build(&mut self, mode: Word, instance: Word) -> Result<(), &'static str> {
        let serve = mode == driver::mode::SERVE;
        let ntfn = self.object(ObjectType::Notification, 0)?;

        // Its address space: the image read-only, stack and IPC buffer, the UART's page.
        let vspace = self.object(VSPACE_OBJECT, 0)?;
        let pool: AsidPool = Cap::from_bits(slot::ASID_POOL);
        check("ASIDPool_Assign", pool.assign(Cap::from_bits(vspace)))?;
        self.page_tables(vspace)?;
        for k in 0..self.image_frames {
            let copy = self.slot()?;
            check(
                "copy an image frame cap",
                own()
                    .absolute_cptr(copy)
                    .copy_from(&own().absolute_cptr(slot::IMAGE + k), CapRights::READ),
            )?;
            let at = self.image_start + k * PAGE;
            Self::map(vspace, copy, at, CapRights::READ, vm_attributes::DEFAULT)?;
        }
        // Memory (cacheable on aarch64; riscv64's default is 0), not executable.
        let data = (
            CapRights::READ_WRITE,
            vm_attributes::DEFAULT | vm_attributes::EXECUTE_NEVER,
        );
        for p in 0..STACK_PAGES {
            let f = self.object(ObjectType::SmallPage, 0)?;
            Self::map(vspace, f, STACK_BASE + p * PAGE, data.0, data.1)?;
        }
        let ipc_frame = self.object(ObjectType::SmallPage, 0)?;
        Self::map(vspace, ipc_frame, IPC_VADDR, data.0, data.1)?;
        let uart_frame = self.slot()?;
        let uart_ut: libsel4::cap::Untyped = Cap::from_bits(slot::UART_UT);
        check(
            "the UART's frame",
            uart_ut.retype(
                ObjectType::SmallPage,
                0,
                &own().as_retype_dest(),
                uart_frame,
                1,
            ),
        )?;
        // A device: not cacheable on aarch64 (seL4 maps a frame without
        // `seL4_ARM_PageCacheable` as Device-nGnRnE).
        Self::map(
            vspace,
            uart_frame,
            UART_VADDR,
            CapRights::READ_WRITE,
            vm_attributes::EXECUTE_NEVER,
        )?;

        // Its CSpace.
        let tcb = self.object(ObjectType::Tcb, 0)?;
        let cn = self.object(ObjectType::CapTable, DRIVER_RADIX as Word)?;
        let guard = CNodeCapData::new(0, 64 - DRIVER_RADIX as u64);
        check(
            "the driver's own CNode cap",
            Cap::<libsel4::cap::cap_type::CNode>::from_bits(cn)
                .relative_bits_with_depth(driver::slot::CNODE, DRIVER_RADIX)
                .mint_from(&own().absolute_cptr(cn), CapRights::ALL, guard.0),
        )?;
        self.give(cn, driver::slot::EP, slot::SERVICE, CapRights::READ, 0)?;
        self.give(
            cn,
            driver::slot::UART_IRQ,
            slot::UART_IRQ,
            CapRights::ALL,
            0,
        )?;
        let fault_rights = CapRights::new(false, true, false, true);
        self.give(cn, driver::slot::FAULT, slot::EP, fault_rights, FAULT_BADGE)?;
        self.give(
            cn,
            driver::slot::HEART,
            slot::NTFN,
            CapRights::WRITE,
            HEART_BIT,
        )?;

        // Its interrupt: from the parking notification to its own.
        let irq_ntfn = self.mint(ntfn, CapRights::WRITE, proto::UART_BIT)?;
        let irq: IrqHandler = Cap::from_bits(slot::UART_IRQ);
        check(
            "IRQHandler_SetNotification",
            irq.set_notification(Notification::from_bits(irq_ntfn)),
        )?;
        let ping = self.mint(ntfn, CapRights::WRITE, proto::PING_BIT)?;

        // Its thread.
        let t = Tcb::from_bits(tcb);
        let me: Tcb = Cap::from_bits(slot::SELF);
        #[cfg(not(feature = "mcs"))]
        {
            check(
                "Configure",
                t.configure(
                    driver::slot::FAULT,
                    Cap::from_bits(cn),
                    guard,
                    Cap::from_bits(vspace),
                    0,
                    IPC_VADDR,
                    Granule::from_bits(ipc_frame),
                ),
            )?;
            check("SetPriority", t.set_priority(me, DRIVER_PRIO))?;
        }
        // MCS: a SchedContext to start on, one for its notification, two Reply objects, the
        // fault endpoint as a cap.
        #[cfg(feature = "mcs")]
        let (start_sc, ntfn_sc, replies) = {
            check(
                "Configure",
                t.configure(
                    Cap::from_bits(cn),
                    guard,
                    Cap::from_bits(vspace),
                    0,
                    IPC_VADDR,
                    Granule::from_bits(ipc_frame),
                ),
            )?;
            let fault = self.mint(slot::EP, fault_rights, FAULT_BADGE)?;
            let start_sc = self.sched_context()?;
            check(
                "SetSchedParams",
                t.set_sched_params(me, 0, DRIVER_PRIO, start_sc, Cap::from_bits(fault)),
            )?;
            let mut replies = [0; 2];
            for (r, at) in replies
                .iter_mut()
                .zip([driver::slot::REPLY, driver::slot::REPLY_B])
            {
                *r = self.object(ObjectType::Reply, 0)?;
                self.give(cn, at, *r, CapRights::ALL, 0)?;
            }
            (start_sc, self.sched_context()?, replies)
        };
        check(
            "BindNotification",
            t.bind_notification(Notification::from_bits(ntfn)),
        )?;
        let entry: extern "C" fn(Word, Word, Word, Word, Word) -> ! = driver::driver_main;
        let top = STACK_BASE + STACK_PAGES * PAGE - BLOCK_BYTES;
        let regs = crate::threads::entry_registers(
            entry as usize as Word,
            top,
            top,
            &[UART_VADDR, self.hz, mode, instance, IPC_VADDR],
        );
        check(
            "WriteRegisters",
            t.write_registers(false, crate::threads::CONTEXT_WORDS, &regs),
        )?;
        t.debug_name("serial-driver");
        self.drv = Some(Instance {
            tcb,
            #[cfg(not(feature = "mcs"))]
            cnode: cn,
            ping,
            #[cfg(feature = "mcs")]
            replies,
        });

        // Let it run (below it) until it blocks: in its receive, or on its fault. MCS: then
        // make it passive: its notification's SchedContext lends it time for events, and it
        // loses the one it started on (in that order: a driver woken without either would stay
        // runnable without a SchedContext, never to run again).
        check("Resume the driver", t.resume())?;
        Self::set_own_priority(DRIVER_PRIO - 1)?;
        #[cfg(feature = "mcs")]
        if serve {
            check(
                "SchedContext_Bind (the driver's notification)",
                ntfn_sc.bind(Notification::from_bits(ntfn)),
            )?;
            check("SchedContext_Unbind (the driver)", start_sc.unbind())?;
        }
        Self::set_own_priority(MONITOR_PRIO)?;
        if serve {
            self.answered = true;
            self.missed = 0;
        }
        Ok(())
    }

    /// Stop the driver and remove every trace of it: suspend it, park its interrupt, answer the
    /// request it held with [`proto::RESTARTED`] (`answer`), revoke the pool and the UART's
    /// device untyped, delete the caps made for it, and check that every slot it used is
    /// empty.
    fn tear_down(&mut self, answer: bool) -> Result<(), &'static str> {
        let Some(d) = self.drv.take() else {
            return Ok(());
        };
        check("Suspend the driver", Tcb::from_bits(d.tcb).suspend())?;
        let irq: IrqHandler = Cap::from_bits(slot::UART_IRQ);
        check(
            "IRQHandler_SetNotification (parking)",
            irq.set_notification(Notification::from_bits(slot::PARKING)),
        )?;
        let restarted = MessageInfo::new(proto::RESTARTED, 0, 0, 0);
        if answer {
            // A waiting read's reply cap is in the driver's CNode: move it here and answer
            // through it (the slot is empty when no read waited; the move then fails).
            #[cfg(not(feature = "mcs"))]
            {
                let held = self.slot()?;
                let from = Cap::<libsel4::cap::cap_type::CNode>::from_bits(d.cnode)
                    .relative_bits_with_depth(driver::slot::REPLY, DRIVER_RADIX);
                if own().absolute_cptr(held).move_from(&from).is_ok() {
                    sys::seL4_Send(held, restarted);
                }
            }
            // MCS: the waiting reader is in one of the driver's Reply objects; answering it
            // also gives the reader back the SchedContext the driver ran on. A Send on a Reply
            // object that holds no caller does nothing.
            #[cfg(feature = "mcs")]
            for r in d.replies {
                sys::seL4_Send(r, restarted);
            }
        }
        self.clear()
    }

    /// Revoke the pool and the UART's device untyped, delete the caps made from the monitor's
    /// own, and check that every slot of the driver's range is empty again.
    fn clear(&mut self) -> Result<(), &'static str> {
        check("revoke the pool", own().absolute_cptr(slot::POOL).revoke())?;
        check(
            "revoke the UART's device untyped",
            own().absolute_cptr(slot::UART_UT).revoke(),
        )?;
        for s in slot::DRIVER..self.next {
            check(
                "delete a cap made for the driver",
                own().absolute_cptr(s).delete(),
            )?;
        }
        for s in slot::DRIVER..self.next {
            if sys::seL4_DebugCapIdentify(s) != cap_tag::NULL {
                println!("  monitor: slot {s} still holds a cap after the tear-down");
                return Err("a cap of the driver survived its tear-down");
            }
        }
        self.next = slot::DRIVER;
        Ok(())
    }

    /// Assign VSpaces made from the pool to the initial ASID pool until it refuses one or
    /// `limit` are assigned, then delete them all again; returns how many it took: the free
    /// ASIDs. (A debug kernel says why it refused the last one.)
    fn fill_asid_pool(&mut self, limit: Word) -> Result<Word, &'static str> {
        let asids: AsidPool = Cap::from_bits(slot::ASID_POOL);
        let mut n = 0;
        while n < limit {
            let pt = self.object(VSPACE_OBJECT, 0)?;
            if asids.assign(Cap::from_bits(pt)).is_err() {
                break;
            }
            n += 1;
        }
        self.clear()?;
        Ok(n)
    }

    /// Retype the whole pool as one untyped and delete it again: possible only if nothing made
    /// from the pool is left.
    fn pool_whole(&self) -> bool {
        let pool: libsel4::cap::Untyped = Cap::from_bits(slot::POOL);
        let whole = pool.retype(
            ObjectType::Untyped,
            self.pool_bits,
            &own().as_retype_dest(),
            slot::CHECK,
            1,
        );
        whole.is_ok() && own().absolute_cptr(slot::CHECK).delete().is_ok()
    }

    /// Make the driver again after `cause`; print the status line.
    fn restart(&mut self, cause: Cause) -> Result<(), &'static str> {
        let t0 = now();
        self.tear_down(true)?;
        self.report.instances += 1;
        self.build(driver::mode::SERVE, self.report.instances)?;
        let us = micros(now() - t0, self.hz);
        match cause {
            Cause::Crash(pc) => {
                self.report.crashes += 1;
                println!(
                    "  monitor: driver crashed at pc {pc:#x}; restarted in {us} µs (guest time)"
                );
            }
            Cause::Hang => {
                self.report.hangs += 1;
                println!(
                    "  monitor: driver hung (no heartbeat answered for {} ms); restarted in {us} \
                     µs (guest time)",
                    MISSED_LIMIT as u64 * HEARTBEAT_NS / 1_000_000
                );
            }
        }
        Ok(())
    }

    /// A timer tick: count an unanswered heartbeat, restart a hung driver, ping again; the
    /// next tick [`HEARTBEAT_NS`] later.
    fn tick(&mut self) -> Result<(), &'static str> {
        self.timer.clear();
        let _ = sys::seL4_IRQHandler_Ack(slot::TIMER_IRQ);
        if self.drv.is_some() {
            if self.answered {
                self.missed = 0;
            } else {
                self.missed += 1;
            }
            if self.missed >= MISSED_LIMIT {
                self.restart(Cause::Hang)?;
            } else if let Some(d) = &self.drv {
                self.answered = false;
                sys::seL4_Signal(d.ping);
            }
        }
        self.timer.arm();
        Ok(())
    }

    /// The driver's fault message `info` arrived: print it and restart the driver.
    fn fault(&mut self, info: MessageInfo) -> Result<(), &'static str> {
        let (label, pc, addr) = (info.label(), sys::seL4_GetMR(0), sys::seL4_GetMR(1));
        if label == abi::fault::VM_FAULT {
            // MR2: an instruction fetch; MR3 (FSR): riscv64's access fault cause, which seL4
            // reports for page faults too (1 fetch, 5 load, 7 store); aarch64's ESR.
            let access = match (sys::seL4_GetMR(2), sys::seL4_GetMR(3)) {
                (0, fsr) if crate::threads::is_load_fault(fsr) => "load from",
                (0, fsr) if crate::threads::is_store_fault(fsr) => "store to",
                (0, _) => "data access at",
                _ => "instruction fetch at",
            };
            println!(
                "  monitor: fault from thread serial-driver #{}: {} ({access} address {addr:#x}) \
                 at pc {pc:#x}",
                self.report.instances,
                name(label)
            );
        } else {
            println!(
                "  monitor: fault from thread serial-driver #{}: {} (label {label}), MR0 {pc:#x}, \
                 MR1 {addr:#x}",
                self.report.instances,
                name(label)
            );
        }
        self.restart(Cause::Crash(pc))
    }

    /// The root task's `STOP`: stop the driver, tear it down, check the pool.
    fn stop(&mut self) -> Result<Report, &'static str> {
        self.timer.stop();
        self.report.stats = proto::control(slot::DRIVER_CTL, proto::STOP).map_err(|l| {
            println!("  monitor: STOP got label {l}");
            "the driver did not stop"
        })?;
        self.tear_down(false)?;
        self.report.pool_whole = self.pool_whole() as Word;
        Ok(self.report)
    }

    /// Build and crash `n` drivers, then check that they left nothing behind: as many ASIDs
    /// free as before, and the pool whole.
    fn self_test(&mut self, n: Word) -> Result<(), &'static str> {
        if n == 0 {
            return Ok(());
        }
        let free = self.fill_asid_pool(SLOTS)?;
        let t0 = now();
        let mut pc = 0;
        for i in 0..n {
            self.build(driver::mode::CRASH_AT_START, 0)?;
            // The driver faulted while the monitor let it run; nothing else talks to the
            // monitor yet (its timer is not started).
            let (info, badge) = recv();
            if badge != FAULT_BADGE || info.label() != abi::fault::VM_FAULT {
                println!(
                    "  monitor: self-test driver {i}: badge {badge:#x}, label {}",
                    info.label()
                );
                return Err("a self-test driver did not fault as it should");
            }
            pc = sys::seL4_GetMR(0);
            self.tear_down(false)?;
        }
        let us = micros(now() - t0, self.hz);
        let free_again = self.fill_asid_pool(free)?;
        let whole = self.pool_whole();
        println!(
            "  monitor: self-test: {n} drivers built, crashed (at pc {pc:#x}) and torn down in \
             {us} µs (guest time); every slot empty again, {free_again} of {free} ASIDs free \
             again, the pool (2^{} bytes) {}",
            self.pool_bits,
            if whole {
                "retyped whole again"
            } else {
                "NOT whole again"
            }
        );
        if free_again != free {
            return Err("the restarts used up ASIDs");
        }
        if !whole {
            return Err("the pool is not whole after the self-test");
        }
        Ok(())
    }

    /// Say why the monitor gives up, report that to the root task, and stop.
    fn fail(why: &str) -> ! {
        println!("  monitor: {why}");
        sys::seL4_Send(slot::REPORT, MessageInfo::new(FAILED, 0, 0, 0));
        crate::threads::stop()
    }

    fn run(&mut self) -> ! {
        loop {
            let (info, badge) = recv();
            let r = if badge & (TICK_BIT | HEART_BIT) != 0 {
                if badge & HEART_BIT != 0 {
                    self.answered = true;
                }
                if badge & TICK_BIT != 0 {
                    self.tick()
                } else {
                    Ok(())
                }
            } else if badge == FAULT_BADGE {
                self.fault(info)
            } else if badge == ROOT_BADGE && info.label() == STOP {
                let report = self.stop();
                let reply = match report {
                    Ok(r) => {
                        for (i, w) in r.to_words().iter().enumerate() {
                            sys::seL4_SetMR(i, *w);
                        }
                        MessageInfo::new(0, 0, 0, Report::WORDS as Word)
                    }
                    Err(why) => {
                        println!("  monitor: {why}");
                        MessageInfo::new(1, 0, 0, 0)
                    }
                };
                #[cfg(not(feature = "mcs"))]
                sys::seL4_Reply(reply);
                #[cfg(feature = "mcs")]
                sys::seL4_Send(slot::REPLY, reply);
                Ok(())
            } else {
                Ok(())
            };
            if let Err(why) = r {
                Self::fail(why);
            }
        }
    }
}

/// The monitor thread: argument 0 (`a0`, `x0`) = the frequency of the counter [`now`] reads,
/// 1 = the image's first address, 2 = its frames (their caps from [`slot::IMAGE`] on), 3 = where
/// its timer's registers are mapped (riscv64: the RTC's page; aarch64: 0, system registers),
/// 4 = the pool's size in bits, 5 = how many drivers the self-test crashes.
pub extern "C" fn monitor_main(
    hz: Word,
    image_start: Word,
    image_frames: Word,
    timer_vaddr: Word,
    pool_bits: Word,
    self_test: Word,
) -> ! {
    // SAFETY: the root task mapped the timer's page (if it has one) at `timer_vaddr` in the
    // address space this thread shares with it, for this thread alone.
    let timer = MonitorTimer::new(unsafe { Regs::new(timer_vaddr as usize) }, HEARTBEAT_NS, hz);
    let mut m = Monitor {
        hz,
        timer,
        image_start,
        image_frames,
        pool_bits,
        drv: None,
        next: slot::DRIVER,
        report: Report::default(),
        answered: true,
        missed: 0,
    };
    let irq: IrqHandler = Cap::from_bits(slot::UART_IRQ);
    if let Err(why) = check(
        "IRQHandler_SetNotification (parking)",
        irq.set_notification(Notification::from_bits(slot::PARKING)),
    ) {
        Monitor::fail(why);
    }
    if let Err(why) = m.self_test(self_test) {
        Monitor::fail(why);
    }
    m.report.instances = 1;
    if let Err(why) = m.build(driver::mode::SERVE, 1) {
        Monitor::fail(why);
    }
    // The timer: a tick every HEARTBEAT_NS.
    m.timer.start();
    m.run()
}
