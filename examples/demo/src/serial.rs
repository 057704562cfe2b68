//! The third part of the demo: a user-mode serial driver, watched and restarted by a monitor,
//! and an echo client.
//!
//! The root task sets up a **monitor** (`monitor`): a thread with a CSpace of its own (it shares
//! the root task's address space) that is handed what the driver will be made of and what it
//! needs to watch it:
//!
//! * the pool: an untyped of `2^`[`POOL_BITS`] bytes, and the UART's register page as a 4 KiB
//!   device untyped (carved out of the device untyped that covers it);
//! * the UART's IRQ handler, the initial ASID pool, copies of the image frame caps, MCS: the
//!   SchedControl cap;
//! * the driver's service endpoint (made here, not from the pool: the client's badged cap to it
//!   outlives every driver) and a notification for the UART's interrupt between two drivers;
//! * its own endpoint and notification, and its timer (`devices`): riscv64: the goldfish RTC,
//!   its register page mapped in the (shared) address space; aarch64: the generic timer's EL1
//!   physical timer (system registers, exported to EL0 by the kernel); its IRQ handler
//!   signalling the monitor's notification.
//!
//! The monitor first crashes and rebuilds [`SELF_TEST`] drivers to show that a restart leaks
//! nothing, then builds the **driver** (`driver`) that serves: a thread in an address space of
//! its own (a new VSpace with an ASID from the initial pool, the demo's code mapped read-only,
//! its own stack and IPC buffer frames, the UART's page) and a CSpace of its own (the service
//! endpoint, a copy of the UART's IRQ handler, its own CNode, its fault endpoint: the monitor's).
//!
//! An echo client in a CSpace of its own (sharing the root task's VSpace; it needs no device)
//! prints a prompt through the driver, reads lines and echoes each back as `echo: <line>`. The
//! lines `crash` and `hang` ask the driver to crash (a wild store) or hang (an endless loop) at
//! its next event; the monitor restarts it, and a read the crashed driver held comes back as
//! [`proto::RESTARTED`], upon which the client reads again. It stops on the line `quit`, or
//! after [`IDLE_MS`] of guest time without input (so a run without input, as in
//! `cargo xtask test`, ends by itself), and reports to the root task, which asks the monitor to
//! stop the driver, prints the counters (restarts among them) and checks them.
//!
//! MCS (feature `mcs`): the client and the monitor have scheduling contexts of their own
//! (`threads`); the driver is a passive server, which the monitor makes so once it waits for
//! its first request (see `monitor`). The fault endpoints of the monitor and the client are
//! caps in the root CNode, copied into their TCBs.

use abi::{CPtr, CapRights, MessageInfo, ObjectType, Word};
use libsel4::bootinfo::{carve_sizes, BootInfoExt, SlotRegionExt};
use libsel4::cap::{init, Cap, Granule, IrqHandler, Notification};
use libsel4::{error_name, println, sys, vm_attributes};

use crate::devices::{self, Device};
use crate::driver::{self, proto};
use crate::monitor::{self, slot as mslot};
use crate::threads::{self, check, give, Env, Start};

/// How long the echo client waits for input before it ends the demo (ms of guest time).
pub const IDLE_MS: Word = 20_000;
/// The size of the monitor's pool, in bits.
pub const POOL_BITS: Word = 22;
/// How many drivers the monitor crashes and rebuilds in its self-test.
pub const SELF_TEST: Word = 100;

const CLIENT_PRIO: Word = 100;

/// Where the RTC's registers are mapped in the root task's address space (the monitor's timer,
/// riscv64; aarch64's timer has no page: 0).
const TIMER_VADDR: Word = if devices::TIMER_HAS_PAGE {
    0x0300_1000
} else {
    0
};

const PAGE: Word = 4096;

/// CPtrs in the client's CNode (slot 1 is its TCB).
mod cslot {
    use abi::CPtr;
    /// The driver's endpoint (write, grant-reply; badge [`super::proto::CLIENT`]).
    pub const DRIVER: CPtr = 2;
    /// The root task's report endpoint (write).
    pub const REPORT: CPtr = 3;
    /// Its fault endpoint (the report endpoint, badged; MCS: not used, the fault endpoint is
    /// a cap copied into its TCB).
    pub const FAULT: CPtr = 4;
}

/// The monitor's fault endpoint in its CNode (non-MCS).
const MONITOR_FAULT: CPtr = 17;

/// Report-endpoint badges.
const REPORT_CLIENT: Word = 0xc1;
const REPORT_MONITOR: Word = 0xc2;
const FAULT_CLIENT: Word = 0xfc;
const FAULT_MONITOR: Word = 0xfe;
/// Label of the client's report; MR0 = how it ended, MR1 = lines echoed, MR2 = answers
/// "restarted" it got.
const DONE: Word = 0xd0e;
const ENDED_QUIT: Word = 1;
const ENDED_IDLE: Word = 2;
const ENDED_ERROR: Word = 3;

// ------------------------------------------------------------------------------------------
// The echo client

/// How often a request the driver was restarted under is sent again before the client gives up.
const RETRIES: usize = 3;

/// The client's state: output collected and sent to the driver in one `WRITE`, and how many
/// answers "restarted" it got.
struct Client {
    buf: [u8; 256],
    len: usize,
    restarted: Word,
}

impl Client {
    fn push(&mut self, bytes: &[u8]) -> Result<(), Word> {
        for &b in bytes {
            if self.len == self.buf.len() {
                self.flush()?;
            }
            self.buf[self.len] = b;
            self.len += 1;
        }
        Ok(())
    }

    /// Write what was collected; a write the driver was restarted under is written again.
    fn flush(&mut self) -> Result<(), Word> {
        let mut tries = 0;
        loop {
            match proto::write(cslot::DRIVER, &self.buf[..self.len]) {
                Err(proto::RESTARTED) if tries < RETRIES => {
                    self.restarted += 1;
                    tries += 1;
                }
                r => {
                    self.len = 0;
                    return r;
                }
            }
        }
    }

    /// After `CRASH` or `HANG`: a read, which the driver holds until it fails (it answers no read
    /// while a failure is armed, even with bytes at hand), and which the monitor answers
    /// [`proto::RESTARTED`] when it has made a new driver. The rest of the line's input is then
    /// taken on by the new driver's client as before.
    fn await_restart(&mut self) -> Result<(), Word> {
        let mut none = [0u8; 1];
        match proto::read(cslot::DRIVER, &mut none, IDLE_MS) {
            Err(proto::RESTARTED) => {
                self.restarted += 1;
                self.push(
                    b"(the read the broken driver held came back \"restarted\"; reading on)\n",
                )
            }
            // Answered by the driver: it did not fail.
            Ok(_) => Err(proto::BAD),
            Err(label) => Err(label),
        }
    }

    /// Read into `input`; a read the driver was restarted under says so and is sent again.
    fn read(&mut self, input: &mut [u8]) -> Result<usize, Word> {
        let mut tries = 0;
        loop {
            match proto::read(cslot::DRIVER, input, IDLE_MS) {
                Err(proto::RESTARTED) if tries < RETRIES => {
                    self.restarted += 1;
                    tries += 1;
                    self.push(
                        b"(the driver was restarted while this read waited: reading again)\n> ",
                    )?;
                    self.flush()?;
                }
                r => return r,
            }
        }
    }
}

/// Prompt, then echo lines until `quit` or [`IDLE_MS`] without input. Typed characters are
/// echoed as they come (a terminal in raw mode shows nothing by itself); `\r`, `\n` and `\r\n`
/// end a line; backspace and DEL erase. The lines `crash` and `hang` are requests to the driver,
/// after which the client waits for the restart ([`Client::await_restart`]) before it goes on
/// with what it read. Returns how it ended and the lines echoed; Err: the driver's error label.
fn echo(c: &mut Client) -> Result<(Word, Word), Word> {
    c.push(b"type something; it is echoed by the user-mode serial driver\n")?;
    c.push(b"(`crash` or `hang` breaks the driver, which its monitor then restarts;\n")?;
    c.push(b"the line `quit` or 20 s without input ends the demo)\n> ")?;
    c.flush()?;
    let mut line = [0u8; 76];
    let (mut len, mut lines, mut after_cr) = (0, 0, false);
    let mut input = [0u8; 64];
    loop {
        let n = c.read(&mut input)?;
        if n == 0 {
            c.push(b"\n(no input for 20 s)\n")?;
            c.flush()?;
            return Ok((ENDED_IDLE, lines));
        }
        for &b in &input[..n] {
            let cr_before = after_cr;
            after_cr = b == b'\r';
            match b {
                b'\n' if cr_before => {}
                b'\r' | b'\n' => {
                    c.push(b"\n")?;
                    let text = line[..len].trim_ascii();
                    len = 0;
                    match text {
                        b"quit" => {
                            c.push(b"bye\n")?;
                            c.flush()?;
                            return Ok((ENDED_QUIT, lines));
                        }
                        b"crash" | b"hang" => {
                            let (label, what): (Word, &[u8]) = if text == b"crash" {
                                (
                                    proto::CRASH,
                                    b"(the driver makes a wild store at its next event)\n",
                                )
                            } else {
                                (
                                    proto::HANG,
                                    b"(the driver loops for ever from its next event on)\n",
                                )
                            };
                            c.flush()?;
                            proto::request(cslot::DRIVER, label)?;
                            c.push(what)?;
                            c.flush()?;
                            c.await_restart()?;
                        }
                        b"" => {}
                        _ => {
                            c.push(b"echo: ")?;
                            c.push(text)?;
                            c.push(b"\n")?;
                            lines += 1;
                        }
                    }
                    c.push(b"> ")?;
                }
                0x08 | 0x7f if len > 0 => {
                    len -= 1;
                    c.push(b"\x08 \x08")?;
                }
                0x20..=0x7e | 0x80.. if len < line.len() => {
                    line[len] = b;
                    len += 1;
                    c.push(&[b])?;
                }
                _ => {}
            }
        }
        c.flush()?;
    }
}

extern "C" fn client_main() -> ! {
    let mut c = Client {
        buf: [0; 256],
        len: 0,
        restarted: 0,
    };
    let (how, n) = echo(&mut c).unwrap_or_else(|label| (ENDED_ERROR, label));
    sys::seL4_SetMR(0, how);
    sys::seL4_SetMR(1, n);
    sys::seL4_SetMR(2, c.restarted);
    sys::seL4_Send(cslot::REPORT, MessageInfo::new(DONE, 0, 0, 3));
    threads::stop()
}

// ------------------------------------------------------------------------------------------
// Setting up the monitor

/// Slots and objects for this part.
struct Alloc<'a> {
    env: &'a Env<'a>,
    next: CPtr,
    /// Device untypeds used, with the offset their next object goes to.
    carved: [(CPtr, u64); 4],
}

/// What [`Alloc::device_page`] makes of a device's register page.
enum PageAs {
    /// A frame cap in a fresh root slot.
    Frame,
    /// A 4 KiB untyped, in slot `.1` of the CNode `.0` (its own CPtr).
    Untyped(CPtr, CPtr),
}

impl Alloc<'_> {
    fn slot(&mut self) -> CPtr {
        self.next += 1;
        self.next - 1
    }

    fn object(&mut self, ty: ObjectType, size_bits: Word) -> Result<CPtr, &'static str> {
        let s = self.slot();
        let what = match ty {
            ObjectType::PageTable => "page table",
            ObjectType::Endpoint => "endpoint",
            ObjectType::Notification => "notification",
            _ => "object",
        };
        check(
            what,
            self.env
                .ut
                .retype(ty, size_bits, &init::CNODE.as_retype_dest(), s, 1),
        )?;
        Ok(s)
    }

    /// Map `frame` at `vaddr` in `vspace` after a new page table: the root task's VSpace has
    /// the tables down to the one for its image's 2 MiB, so one more covers another 2 MiB of
    /// that GiB.
    fn map_with_table(
        &mut self,
        vspace: CPtr,
        frame: CPtr,
        vaddr: Word,
        rights: CapRights,
        attr: Word,
    ) -> Result<(), &'static str> {
        let pt = self.object(ObjectType::PageTable, 0)?;
        check(
            "PageTable_Map",
            Cap::<libsel4::cap::cap_type::PageTable>::from_bits(pt).map(
                Cap::from_bits(vspace),
                vaddr,
                vm_attributes::DEFAULT,
            ),
        )?;
        check(
            "Page_Map",
            Granule::from_bits(frame).map(Cap::from_bits(vspace), vaddr, rights, attr),
        )
    }

    /// The device page at `dev.paddr` as a frame cap or a 4 KiB untyped: retype untypeds out of
    /// the device untyped that covers it until its free space starts there, then the page.
    /// Devices in one untyped must come in ascending order. Returns the frame's root slot (for
    /// [`PageAs::Frame`]).
    fn device_page(&mut self, dev: &Device, page: PageAs) -> Result<CPtr, &'static str> {
        let (ut, d) = self
            .env
            .bi
            .untyped_covering(dev.paddr)
            .ok_or("no untyped covers a device")?;
        if d.is_device == 0 || !dev.paddr.is_multiple_of(PAGE) {
            return Err("a device is not in device memory or not page aligned");
        }
        let i = match self.carved.iter().position(|c| c.0 == ut.bits()) {
            Some(i) => i,
            None => {
                let i = self
                    .carved
                    .iter()
                    .position(|c| c.0 == 0)
                    .ok_or("too many device untypeds")?;
                self.carved[i] = (ut.bits(), 0);
                i
            }
        };
        let to = dev.paddr - d.paddr;
        let sizes = carve_sizes(self.carved[i].1, to);
        if !sizes.reaches() {
            return Err("device pages not in ascending order");
        }
        let here = init::CNODE.as_retype_dest();
        for bits in sizes {
            let s = self.slot();
            check(
                "carving the device untyped",
                ut.retype(ObjectType::Untyped, bits as Word, &here, s, 1),
            )?;
        }
        self.carved[i].1 = to + PAGE;
        match page {
            PageAs::Untyped(cnode, at) => {
                let dest = Cap::<libsel4::cap::cap_type::CNode>::from_bits(cnode).as_retype_dest();
                check(
                    "device page as an untyped",
                    ut.retype(ObjectType::Untyped, 12, &dest, at, 1),
                )?;
                Ok(0)
            }
            PageAs::Frame => {
                let frame = self.slot();
                check(
                    "device frame",
                    ut.retype(ObjectType::SmallPage, 0, &here, frame, 1),
                )?;
                let at = Granule::from_bits(frame).get_address().map_err(|e| {
                    println!("  Page_GetAddress: {}", error_name(e));
                    "Page_GetAddress of a device frame failed"
                })?;
                if at != dev.paddr {
                    println!("  device frame at {at:#x}, wanted {:#x}", dev.paddr);
                    return Err("the device frame is not at the device");
                }
                Ok(frame)
            }
        }
    }

    /// A cap to root slot `src` minted with `rights` and `badge` into a fresh root slot.
    fn mint(&mut self, src: CPtr, rights: CapRights, badge: Word) -> Result<CPtr, &'static str> {
        let s = self.slot();
        check(
            "mint",
            init::CNODE
                .absolute_cptr(s)
                .mint_from(&init::CNODE.absolute_cptr(src), rights, badge),
        )?;
        Ok(s)
    }
}

fn describe(name: &str, d: &Device) {
    println!("  {name} at {:#x}, IRQ {}", d.paddr, d.irq);
}

/// Run the third part; returns the first root slot it did not use. Before it returns, the
/// device untypeds it carved are revoked, so that revoking the RAM untyped leaves every slot it
/// used empty.
pub fn run(env: &Env) -> Result<CPtr, &'static str> {
    println!("User-mode serial driver and its monitor:");
    let m = devices::find();
    println!(
        "  devices ({}), time base {} Hz:",
        if m.from_fdt {
            "from the device tree"
        } else {
            "QEMU virt's, no device tree"
        },
        m.timebase_hz
    );
    describe(devices::UART_NAME, &m.uart);
    if devices::TIMER_HAS_PAGE {
        describe(devices::TIMER_NAME, &m.timer);
    } else {
        println!(
            "  {}: system registers, IRQ {}",
            devices::TIMER_NAME,
            m.timer.irq
        );
    }
    let mut a = Alloc {
        env,
        next: env.first,
        carved: [(0, 0); 4],
    };
    let r = build_and_run(&mut a, &m);
    for &(ut, _) in a.carved.iter().filter(|c| c.0 != 0) {
        check(
            "revoke a device untyped",
            init::CNODE.absolute_cptr(ut).revoke(),
        )?;
    }
    r.map(|()| a.next)
}

fn build_and_run(a: &mut Alloc, m: &devices::Machine) -> Result<(), &'static str> {
    let env = a.env;
    let service = a.object(ObjectType::Endpoint, 0)?;
    let report = a.object(ObjectType::Endpoint, 0)?;
    let mon_ep = a.object(ObjectType::Endpoint, 0)?;
    let mon_ntfn = a.object(ObjectType::Notification, 0)?;
    let parking = a.object(ObjectType::Notification, 0)?;
    let fault_rights = CapRights::new(false, true, false, true);

    // The monitor's thread and CSpace.
    #[cfg(not(feature = "mcs"))]
    let mon_fault = MONITOR_FAULT;
    #[cfg(feature = "mcs")]
    let mon_fault = a.mint(report, fault_rights, FAULT_MONITOR)?;
    let image = libsel4::rt::image_range();
    let frames = env.bi.user_image_frames;
    if frames.count() > mslot::DRIVER - mslot::IMAGE {
        return Err("the image has more frames than the monitor has slots for");
    }
    let entry: extern "C" fn(Word, Word, Word, Word, Word, Word) -> ! = monitor::monitor_main;
    let args = [
        m.timebase_hz,
        image.start as Word,
        frames.count(),
        TIMER_VADDR,
        POOL_BITS,
        SELF_TEST,
    ];
    let mut next = a.next;
    let mon = threads::make_thread_with(
        env,
        &mut next,
        1,
        "monitor",
        Start {
            entry: entry as usize as Word,
            args: &args,
        },
        (monitor::MONITOR_PRIO, monitor::MONITOR_PRIO),
        mon_fault,
        monitor::RADIX,
    )?;
    a.next = next;
    let mcn = mon.cnode;
    give(
        &mon,
        mslot::CNODE,
        mon.cnode.bits(),
        CapRights::ALL,
        threads::guard(monitor::RADIX).0,
    )?;
    give(&mon, mslot::EP, mon_ep, CapRights::ALL, 0)?;
    give(&mon, mslot::NTFN, mon_ntfn, CapRights::ALL, 0)?;
    give(&mon, mslot::SERVICE, service, CapRights::ALL, 0)?;
    give(
        &mon,
        mslot::DRIVER_CTL,
        service,
        CapRights::new(true, false, false, true),
        proto::MONITOR,
    )?;
    give(&mon, mslot::PARKING, parking, CapRights::ALL, 0)?;
    give(
        &mon,
        mslot::REPORT,
        report,
        CapRights::WRITE,
        REPORT_MONITOR,
    )?;
    give(&mon, MONITOR_FAULT, report, fault_rights, FAULT_MONITOR)?;
    check(
        "copy the ASID pool cap",
        mcn.relative_bits_with_depth(mslot::ASID_POOL, monitor::RADIX)
            .copy_from(
                &init::CNODE.absolute_cptr(init::ASID_POOL.bits()),
                CapRights::ALL,
            ),
    )?;
    for k in 0..frames.count() {
        check(
            "copy an image frame cap",
            mcn.relative_bits_with_depth(mslot::IMAGE + k, monitor::RADIX)
                .copy_from(&init::CNODE.absolute_cptr(frames.start + k), CapRights::ALL),
        )?;
    }
    #[cfg(feature = "mcs")]
    {
        check(
            "copy the SchedControl cap",
            mcn.relative_bits_with_depth(mslot::SCHED_CONTROL, monitor::RADIX)
                .copy_from(
                    &init::CNODE.absolute_cptr(env.bi.schedcontrol.start),
                    CapRights::ALL,
                ),
        )?;
        threads::give_reply(env, &mon, mslot::REPLY)?;
    }
    check(
        "the pool",
        env.ut.retype(
            ObjectType::Untyped,
            POOL_BITS,
            &mcn.as_retype_dest(),
            mslot::POOL,
            1,
        ),
    )?;

    // The devices: the UART's page as an untyped for the monitor, its IRQ handler in the
    // monitor's CNode; the timer's page (riscv64's RTC) mapped here for the monitor, its IRQ
    // handler signalling the monitor's notification. Carve in ascending address order.
    let uart_page = PageAs::Untyped(mcn.bits(), mslot::UART_UT);
    if devices::TIMER_HAS_PAGE {
        let timer_frame = if m.timer.paddr < m.uart.paddr {
            let r = a.device_page(&m.timer, PageAs::Frame)?;
            a.device_page(&m.uart, uart_page)?;
            r
        } else {
            a.device_page(&m.uart, uart_page)?;
            a.device_page(&m.timer, PageAs::Frame)?
        };
        a.map_with_table(
            init::VSPACE.bits(),
            timer_frame,
            TIMER_VADDR,
            CapRights::READ_WRITE,
            vm_attributes::EXECUTE_NEVER,
        )?;
    } else {
        a.device_page(&m.uart, uart_page)?;
    }
    for (irq, at) in [
        (m.uart.irq, mslot::UART_IRQ),
        (m.timer.irq, mslot::TIMER_IRQ),
    ] {
        check(
            "IRQControl_Get",
            init::IRQ_CONTROL.get(irq, &mcn.relative_bits_with_depth(at, monitor::RADIX)),
        )?;
    }
    let tick = a.mint(mon_ntfn, CapRights::WRITE, monitor::TICK_BIT)?;
    let timer_irq = a.slot();
    check(
        "copy the timer's IRQ handler",
        init::CNODE.absolute_cptr(timer_irq).copy_from(
            &mcn.relative_bits_with_depth(mslot::TIMER_IRQ, monitor::RADIX),
            CapRights::ALL,
        ),
    )?;
    let handler: IrqHandler = Cap::from_bits(timer_irq);
    check(
        "IRQHandler_SetNotification (the timer)",
        handler.set_notification(Notification::from_bits(tick)),
    )?;
    check("IRQHandler_Ack (the timer)", handler.ack())?;
    check(
        "delete the copy of the timer's IRQ handler",
        init::CNODE.absolute_cptr(timer_irq).delete(),
    )?;
    check(
        "BindNotification (the monitor)",
        libsel4::cap::Tcb::from_bits(mon.tcb).bind_notification(Notification::from_bits(mon_ntfn)),
    )?;
    #[cfg(not(target_arch = "aarch64"))]
    println!(
        "  monitor (priority {}): its CNode of {} slots holds a pool of 2^{POOL_BITS} bytes to \
         make the driver from, the UART's page as a device untyped, the UART's IRQ handler, the \
         ASID pool, {} image frame caps and the driver's endpoint; it is the driver's fault \
         handler; its timer is the RTC (IRQ {}, mapped at {TIMER_VADDR:#x})",
        monitor::MONITOR_PRIO,
        monitor::SLOTS,
        frames.count(),
        m.timer.irq
    );
    #[cfg(target_arch = "aarch64")]
    println!(
        "  monitor (priority {}): its CNode of {} slots holds a pool of 2^{POOL_BITS} bytes to \
         make the driver from, the UART's page as a device untyped, the UART's IRQ handler, the \
         ASID pool, {} image frame caps and the driver's endpoint; it is the driver's fault \
         handler; its timer is the generic timer's EL1 physical timer (IRQ {}, CNTP_CVAL_EL0 \
         and CNTP_CTL_EL0 from EL0)",
        monitor::MONITOR_PRIO,
        monitor::SLOTS,
        frames.count(),
        m.timer.irq
    );
    let root_ctl = a.mint(
        mon_ep,
        CapRights::new(true, false, false, true),
        monitor::ROOT_BADGE,
    )?;

    // The client.
    #[cfg(not(feature = "mcs"))]
    let client_fault = cslot::FAULT;
    #[cfg(feature = "mcs")]
    let client_fault = a.mint(report, fault_rights, FAULT_CLIENT)?;
    let mut next = a.next;
    let client = threads::make_thread(
        env,
        &mut next,
        0,
        "echo-client",
        client_main,
        CLIENT_PRIO,
        client_fault,
    )?;
    a.next = next;
    let call_rights = CapRights::new(true, false, false, true);
    give(&client, cslot::DRIVER, service, call_rights, proto::CLIENT)?;
    give(
        &client,
        cslot::REPORT,
        report,
        CapRights::WRITE,
        REPORT_CLIENT,
    )?;
    give(&client, cslot::FAULT, report, fault_rights, FAULT_CLIENT)?;
    println!(
        "  echo client (priority {CLIENT_PRIO}): its CNode holds the driver's endpoint (badge \
         {:#x}); it shares the root task's VSpace",
        proto::CLIENT
    );

    threads::resume(&mon)?;
    threads::resume(&client)?;
    #[cfg(not(feature = "mcs"))]
    let (info, badge) = sys::seL4_Recv(report);
    // MCS: no Reply object: a fault (sent as a call) leaves the faulting thread inactive.
    #[cfg(feature = "mcs")]
    let (info, badge) = sys::seL4_Wait(report);
    let (how, n, restarted) = (sys::seL4_GetMR(0), sys::seL4_GetMR(1), sys::seL4_GetMR(2));
    match badge {
        REPORT_CLIENT if info.label() == DONE => {}
        REPORT_MONITOR if info.label() == monitor::FAILED => {
            return Err("the monitor failed (its last line says why)");
        }
        FAULT_CLIENT | FAULT_MONITOR => {
            println!(
                "  root: the {} faulted: fault label {}, MR0 {how:#x}, MR1 {n:#x}",
                if badge == FAULT_MONITOR {
                    "monitor"
                } else {
                    "client"
                },
                info.label()
            );
            return Err("a thread of the serial part faulted");
        }
        _ => return Err("unexpected message on the report endpoint"),
    }
    let r = monitor::stop(root_ctl).map_err(|l| {
        println!("  root: the monitor's STOP got label {l}");
        "the monitor did not stop the driver"
    })?;
    match how {
        ENDED_QUIT => println!("  root: the client ended on `quit` after echoing {n} line(s)"),
        ENDED_IDLE => println!(
            "  root: the client ended after {} s without input, having echoed {n} line(s)",
            IDLE_MS / 1000
        ),
        _ => {
            println!("  root: the driver answered the client with label {n}");
            return Err("the client got an error from the driver");
        }
    }
    let stats = r.stats;
    println!(
        "  root: the last driver (#{}) took {} UART interrupts and answered {} heartbeats, \
         received {} bytes ({} lost), sent {}; {} reads, {} waited, {} timed out",
        r.instances,
        stats.uart_irqs,
        stats.pings,
        stats.rx,
        stats.dropped,
        stats.tx,
        stats.reads,
        stats.waits,
        stats.timeouts
    );
    println!(
        "  root: the monitor restarted the driver {} times ({} crashed, {} hung); {restarted} \
         request(s) the client had in flight came back \"restarted\"",
        r.restarts(),
        r.crashes,
        r.hangs
    );
    let canary = driver::CANARY.load(core::sync::atomic::Ordering::Relaxed);
    println!(
        "  root: after the last driver was torn down the pool was {}; the word the crash \
         stored to still holds {canary:#x}",
        if r.pool_whole != 0 {
            "retyped whole again"
        } else {
            "NOT whole"
        }
    );
    // The counters are the last driver's: after a restart it may not have read anything (the
    // client can have read all its input before).
    let sane = stats.tx > 0
        && stats.dropped == 0
        && r.instances == 1 + r.restarts()
        && match how {
            ENDED_QUIT => {
                r.restarts() > 0 || (stats.reads > 0 && stats.rx >= 5 && stats.uart_irqs > 0)
            }
            _ => stats.reads > 0 && stats.timeouts == 1 && stats.pings > 0,
        };
    if !sane {
        return Err("the driver's counters do not match what the client saw");
    }
    if r.pool_whole == 0 {
        return Err("the monitor's pool was not whole after the driver was torn down");
    }
    if canary != driver::CANARY_VALUE {
        return Err("the driver's wild store reached the root task's memory");
    }
    Ok(())
}
