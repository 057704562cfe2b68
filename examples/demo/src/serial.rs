//! The third part of the demo: a user-mode serial driver and an echo client.
//!
//! The root task builds a driver process (`driver`) out of capabilities:
//!
//! * an address space of its own: a new VSpace (a page table with an ASID from
//!   `seL4_CapInitThreadASIDPool`) with copies of the root task's image frame caps mapped at the
//!   same addresses (the code; `.data`/`.bss` frames are therefore shared with the root task,
//!   which the driver does not use for its state), fresh frames for its stack and IPC buffer,
//!   and the UART's and the RTC's register pages, retyped from the device untypeds that cover
//!   them;
//! * a CSpace of its own: a 16-slot CNode with its service endpoint, an IRQ handler for each
//!   device, its own CNode cap (for `seL4_CNode_SaveCaller`) and its fault endpoint;
//! * one notification, bound to its TCB, that both IRQ handlers signal (badges 0x1, 0x2).
//!
//! An echo client in a CSpace of its own (sharing the root task's VSpace; it needs no device)
//! prints a prompt through the driver, reads lines and echoes each back as `echo: <line>`.
//! It stops on the line `quit`, or after [`IDLE_MS`] of guest time without input (so a run
//! without input, as in `cargo xtask test`, ends by itself), and reports to the root task,
//! which stops the driver, prints its counters and checks them.
//!
//! MCS (feature `mcs`): the client has a scheduling context of its own (`threads`); the driver
//! is a passive server. It starts on a SchedContext bound by `TCB_SetSchedParams`, runs until
//! it waits for its first request, and then loses it: the root task, below the driver's
//! priority for that moment (so the driver is surely blocked in its receive), binds a second
//! SchedContext to the driver's notification (lent to it for interrupts) and unbinds the first
//! (`SchedContext_Unbind`). From then on it runs on its callers' SchedContexts and the
//! notification's. It receives with two Reply objects in its CNode (see `driver`). The fault
//! endpoints of the driver and the client are caps in the root CNode, copied into their TCBs.

use abi::user_context::{idx, UserContext};
use abi::{CPtr, CapRights, Error, MessageInfo, ObjectType, Word};
use libsel4::bootinfo::{carve_sizes, BootInfoExt, SlotRegionExt};
#[cfg(feature = "mcs")]
use libsel4::cap::SchedContext;
use libsel4::cap::{init, CNode, Cap, Granule, IrqHandler, Notification, PageTable, Tcb};
use libsel4::ipc::ThreadBlock;
use libsel4::{error_name, println, sys, vm_attributes};

use crate::devices::{self, Device};
use crate::driver::{self, proto};
use crate::threads::{self, check, give, Env, GUARD, RADIX};

/// How long the echo client waits for input before it ends the demo (ms of guest time).
pub const IDLE_MS: Word = 20_000;

const DRIVER_PRIO: Word = 210;
const CLIENT_PRIO: Word = 100;
/// The root task's priority (`seL4_MaxPrio`, as the kernel starts it).
#[cfg(feature = "mcs")]
const ROOT_PRIO: Word = abi::config::NUM_PRIORITIES as Word - 1;

/// The driver's address space: its stack (guard pages below and above stay unmapped), its
/// IPC buffer, and the device register pages. The image sits at its link address (0x40_0000).
const STACK_BASE: Word = 0x0200_0000;
const STACK_PAGES: Word = 4;
const IPC_VADDR: Word = 0x0201_0000;
const UART_VADDR: Word = 0x0300_0000;
const RTC_VADDR: Word = 0x0300_1000;

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

/// Report-endpoint badges.
const REPORT_CLIENT: Word = 0xc1;
const FAULT_CLIENT: Word = 0xfc;
const FAULT_DRIVER: Word = 0xfd;
/// Label of the client's report; MR0 = how it ended, MR1 = lines echoed.
const DONE: Word = 0xd0e;
const ENDED_QUIT: Word = 1;
const ENDED_IDLE: Word = 2;
const ENDED_ERROR: Word = 3;

/// The driver's libsel4 block (its `tp`); it records the driver's IPC buffer address, which is
/// mapped only in the driver's VSpace.
static DRIVER_BLOCK: ThreadBlock = ThreadBlock::new();

// ------------------------------------------------------------------------------------------
// The echo client

/// Output collected and sent to the driver in one `WRITE`.
struct Out {
    buf: [u8; 256],
    len: usize,
}

impl Out {
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

    fn flush(&mut self) -> Result<(), Word> {
        let r = proto::write(cslot::DRIVER, &self.buf[..self.len]);
        self.len = 0;
        r
    }
}

/// Prompt, then echo lines until `quit` or [`IDLE_MS`] without input. Typed characters are
/// echoed as they come (a terminal in raw mode shows nothing by itself); `\r`, `\n` and `\r\n`
/// end a line; backspace and DEL erase. Returns (how it ended, lines echoed); Err: the
/// driver's error label.
fn echo() -> Result<(Word, Word), Word> {
    let mut out = Out {
        buf: [0; 256],
        len: 0,
    };
    out.push(b"type something; it is echoed by the user-mode serial driver\n")?;
    out.push(b"(the line `quit` or 20 s without input ends the demo)\n> ")?;
    out.flush()?;
    let mut line = [0u8; 76];
    let (mut len, mut lines, mut after_cr) = (0, 0, false);
    let mut input = [0u8; 64];
    loop {
        let n = proto::read(cslot::DRIVER, &mut input, IDLE_MS)?;
        if n == 0 {
            out.push(b"\n(no input for 20 s)\n")?;
            out.flush()?;
            return Ok((ENDED_IDLE, lines));
        }
        for &b in &input[..n] {
            let cr_before = after_cr;
            after_cr = b == b'\r';
            match b {
                b'\n' if cr_before => {}
                b'\r' | b'\n' => {
                    out.push(b"\n")?;
                    let text = line[..len].trim_ascii();
                    if text == b"quit" {
                        out.push(b"bye\n")?;
                        out.flush()?;
                        return Ok((ENDED_QUIT, lines));
                    }
                    if !text.is_empty() {
                        out.push(b"echo: ")?;
                        out.push(text)?;
                        out.push(b"\n")?;
                        lines += 1;
                    }
                    out.push(b"> ")?;
                    len = 0;
                }
                0x08 | 0x7f if len > 0 => {
                    len -= 1;
                    out.push(b"\x08 \x08")?;
                }
                0x20..=0x7e | 0x80.. if len < line.len() => {
                    line[len] = b;
                    len += 1;
                    out.push(&[b])?;
                }
                _ => {}
            }
        }
        out.flush()?;
    }
}

extern "C" fn client_main() -> ! {
    let (how, n) = echo().unwrap_or_else(|label| (ENDED_ERROR, label));
    sys::seL4_SetMR(0, how);
    sys::seL4_SetMR(1, n);
    sys::seL4_Send(cslot::REPORT, MessageInfo::new(DONE, 0, 0, 2));
    threads::stop()
}

// ------------------------------------------------------------------------------------------
// Building the driver

/// Slots and objects for this part.
struct Alloc<'a> {
    env: &'a Env<'a>,
    next: CPtr,
    page_tables: usize,
    /// Device untypeds used, with the offset their next object goes to.
    carved: [(CPtr, u64); 4],
    /// The slots of the image frame cap copies (not made from an untyped: deleted one by one).
    copies: core::ops::Range<CPtr>,
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
            ObjectType::SmallPage => "frame",
            ObjectType::Tcb => "TCB",
            ObjectType::CapTable => "CNode",
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

    /// Map `frame` at `vaddr` in `vspace`, making the page tables that are missing.
    fn map(
        &mut self,
        vspace: CPtr,
        frame: CPtr,
        vaddr: Word,
        rights: CapRights,
        attr: Word,
    ) -> Result<(), &'static str> {
        for _ in 0..abi::arch::current::PT_LEVELS {
            match sys::seL4_RISCV_Page_Map(frame, vspace, vaddr, rights, attr) {
                Err(Error::FailedLookup) => {
                    let pt = self.object(ObjectType::PageTable, 0)?;
                    self.page_tables += 1;
                    check(
                        "PageTable_Map",
                        Cap::<libsel4::cap::cap_type::PageTable>::from_bits(pt).map(
                            Cap::from_bits(vspace),
                            vaddr,
                            vm_attributes::DEFAULT,
                        ),
                    )?;
                }
                r => return check("Page_Map", r),
            }
        }
        Err("Page_Map still fails after making page tables")
    }

    /// A frame cap for the device page at `paddr`: retype untypeds out of the device untyped
    /// that covers it until its free space starts there, then a frame. Devices in one untyped
    /// must come in ascending order.
    fn device_frame(&mut self, dev: &Device) -> Result<CPtr, &'static str> {
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
        let frame = self.slot();
        check(
            "device frame",
            ut.retype(ObjectType::SmallPage, 0, &here, frame, 1),
        )?;
        self.carved[i].1 = to + PAGE;
        let at = sys::seL4_RISCV_Page_GetAddress(frame).map_err(|e| {
            println!("  Page_GetAddress: {}", error_name(e));
            "Page_GetAddress of a device frame failed"
        })?;
        if at != dev.paddr {
            println!("  device frame at {at:#x}, wanted {:#x}", dev.paddr);
            return Err("the device frame is not at the device");
        }
        Ok(frame)
    }

    /// An IRQ handler for `irq` in a fresh slot, signalling `ntfn` with `badge`, acknowledged.
    fn irq_handler(&mut self, irq: Word, ntfn: CPtr, badge: Word) -> Result<CPtr, &'static str> {
        let h = self.slot();
        check(
            "IRQControl_Get",
            init::IRQ_CONTROL.get(irq, &init::CNODE.absolute_cptr(h)),
        )?;
        let n = self.slot();
        check(
            "mint the IRQ notification",
            init::CNODE.absolute_cptr(n).mint_from(
                &init::CNODE.absolute_cptr(ntfn),
                CapRights::WRITE,
                badge,
            ),
        )?;
        let handler: IrqHandler = Cap::from_bits(h);
        check(
            "IRQHandler_SetNotification",
            handler.set_notification(Notification::from_bits(n)),
        )?;
        check("IRQHandler_Ack", handler.ack())?;
        Ok(h)
    }
}

/// Put the cap in root slot `src` into slot `at` of `cnode` by moving it.
fn move_into(cnode: CNode, at: CPtr, src: CPtr) -> Result<(), &'static str> {
    check(
        "move into the driver's CNode",
        cnode
            .relative_bits_with_depth(at, RADIX)
            .move_from(&init::CNODE.absolute_cptr(src)),
    )
}

/// MCS: the report endpoint minted with the fault rights and `badge` into a fresh root slot
/// (a fault endpoint cap for `TCB_SetSchedParams`).
#[cfg(feature = "mcs")]
fn fault_cap(
    a: &mut Alloc,
    report: CPtr,
    rights: CapRights,
    badge: Word,
) -> Result<CPtr, &'static str> {
    let s = a.slot();
    check(
        "mint a fault endpoint",
        init::CNODE
            .absolute_cptr(s)
            .mint_from(&init::CNODE.absolute_cptr(report), rights, badge),
    )?;
    Ok(s)
}

/// MCS: a scheduling context ([`threads::sched_context`]) in a fresh root slot.
#[cfg(feature = "mcs")]
fn sched_context(a: &mut Alloc) -> Result<SchedContext, &'static str> {
    let mut next = a.next;
    let sc = threads::sched_context(a.env, &mut next)?;
    a.next = next;
    Ok(sc)
}

fn describe(name: &str, d: &Device) {
    println!("  {name} at {:#x}, IRQ {}", d.paddr, d.irq);
}

/// Run the third part; returns the first root slot it did not use. Before it returns, the
/// image frame cap copies are deleted and the device untypeds it carved are revoked, so that
/// revoking the RAM untyped leaves every slot it used empty.
pub fn run(env: &Env) -> Result<CPtr, &'static str> {
    println!("User-mode serial driver:");
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
    describe("NS16550A UART", &m.uart);
    describe("goldfish RTC", &m.rtc);
    let mut a = Alloc {
        env,
        next: env.first,
        page_tables: 0,
        carved: [(0, 0); 4],
        copies: 0..0,
    };
    let r = build_and_run(&mut a, &m);
    for s in a.copies.clone() {
        check(
            "delete an image frame cap copy",
            init::CNODE.absolute_cptr(s).delete(),
        )?;
    }
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
    let ep = a.object(ObjectType::Endpoint, 0)?;
    let ntfn = a.object(ObjectType::Notification, 0)?;
    let report = a.object(ObjectType::Endpoint, 0)?;

    // The driver's address space.
    let vspace = a.object(ObjectType::PageTable, 0)?;
    check(
        "ASIDPool_Assign",
        init::ASID_POOL.assign(PageTable::from_bits(vspace)),
    )?;
    let image = libsel4::rt::image_range();
    let frames = env.bi.user_image_frames;
    a.copies = a.next..a.next + frames.count();
    a.next = a.copies.end;
    for (k, copy) in a.copies.clone().enumerate() {
        let k = k as Word;
        check(
            "copy an image frame cap",
            init::CNODE
                .absolute_cptr(copy)
                .copy_from(&init::CNODE.absolute_cptr(frames.start + k), CapRights::ALL),
        )?;
        a.map(
            vspace,
            copy,
            image.start as Word + k * PAGE,
            CapRights::ALL,
            vm_attributes::DEFAULT,
        )?;
    }
    let data = (CapRights::READ_WRITE, vm_attributes::EXECUTE_NEVER);
    for p in 0..STACK_PAGES {
        let f = a.object(ObjectType::SmallPage, 0)?;
        a.map(vspace, f, STACK_BASE + p * PAGE, data.0, data.1)?;
    }
    let ipc_frame = a.object(ObjectType::SmallPage, 0)?;
    a.map(vspace, ipc_frame, IPC_VADDR, data.0, data.1)?;
    // Carve in ascending address order (the RTC's page comes first on QEMU virt).
    let (uart_frame, rtc_frame) = if m.rtc.paddr < m.uart.paddr {
        let r = a.device_frame(&m.rtc)?;
        (a.device_frame(&m.uart)?, r)
    } else {
        let u = a.device_frame(&m.uart)?;
        (u, a.device_frame(&m.rtc)?)
    };
    a.map(vspace, uart_frame, UART_VADDR, data.0, data.1)?;
    a.map(vspace, rtc_frame, RTC_VADDR, data.0, data.1)?;
    println!(
        "  driver VSpace (ASID from the initial pool): {} image frames at their addresses, {} \
         stack frames, an IPC buffer frame, the UART and RTC pages; {} page tables",
        frames.count(),
        STACK_PAGES,
        a.page_tables
    );

    // Interrupts: both handlers signal the driver's notification, with different badges.
    let uart_irq = a.irq_handler(m.uart.irq, ntfn, proto::UART_BIT)?;
    let rtc_irq = a.irq_handler(m.rtc.irq, ntfn, proto::RTC_BIT)?;

    // The driver thread and its CSpace.
    let tcb = a.object(ObjectType::Tcb, 0)?;
    let cn = a.object(ObjectType::CapTable, RADIX as Word)?;
    let drv = threads::Thread {
        tcb,
        cnode: Cap::from_bits(cn),
    };
    give(&drv, driver::slot::CNODE, cn, CapRights::ALL, GUARD.0)?;
    give(&drv, driver::slot::EP, ep, CapRights::READ, 0)?;
    let fault_rights = CapRights::new(false, true, false, true);
    give(
        &drv,
        driver::slot::FAULT,
        report,
        fault_rights,
        FAULT_DRIVER,
    )?;
    move_into(drv.cnode, driver::slot::UART_IRQ, uart_irq)?;
    move_into(drv.cnode, driver::slot::RTC_IRQ, rtc_irq)?;
    let t = Tcb::from_bits(tcb);
    #[cfg(not(feature = "mcs"))]
    {
        check(
            "Configure",
            t.configure(
                driver::slot::FAULT,
                drv.cnode,
                GUARD,
                PageTable::from_bits(vspace),
                0,
                IPC_VADDR,
                Granule::from_bits(ipc_frame),
            ),
        )?;
        check("SetPriority", t.set_priority(init::TCB, DRIVER_PRIO))?;
    }
    // MCS: a SchedContext to start on, one for its notification, two Reply objects.
    #[cfg(feature = "mcs")]
    let (start_sc, ntfn_sc) = {
        check(
            "Configure",
            t.configure(
                drv.cnode,
                GUARD,
                PageTable::from_bits(vspace),
                0,
                IPC_VADDR,
                Granule::from_bits(ipc_frame),
            ),
        )?;
        let fault = fault_cap(a, report, fault_rights, FAULT_DRIVER)?;
        let start_sc = sched_context(a)?;
        check(
            "SetSchedParams",
            t.set_sched_params(init::TCB, 0, DRIVER_PRIO, start_sc, Cap::from_bits(fault)),
        )?;
        threads::give_reply(env, &drv, driver::slot::REPLY)?;
        threads::give_reply(env, &drv, driver::slot::REPLY_B)?;
        (start_sc, sched_context(a)?)
    };
    check(
        "BindNotification",
        t.bind_notification(Notification::from_bits(ntfn)),
    )?;
    // SAFETY: no thread runs with this block yet; the buffer is the driver's IPC buffer (mapped
    // in its VSpace; the root task never touches it).
    unsafe { DRIVER_BLOCK.set_buffer(IPC_VADDR as *mut abi::IpcBuffer) };
    let mut regs = UserContext::default();
    let entry: extern "C" fn(Word, Word, Word, Word) -> ! = driver::driver_main;
    regs.regs[idx::PC] = entry as usize as Word;
    regs.regs[idx::SP] = STACK_BASE + STACK_PAGES * PAGE;
    regs.regs[idx::GP] = threads::global_pointer();
    regs.regs[idx::TP] = &DRIVER_BLOCK as *const ThreadBlock as Word;
    regs.regs[idx::A0] = UART_VADDR;
    regs.regs[idx::A0 + 1] = RTC_VADDR;
    regs.regs[idx::A0 + 2] = m.timebase_hz;
    check("WriteRegisters", t.write_registers(false, 32, &regs))?;
    t.debug_name("serial-driver");
    println!(
        "  driver (priority {DRIVER_PRIO}): its CNode holds the endpoint, both IRQ handlers and \
         its own CNode cap; the notification bound to its TCB gets UART IRQs as badge {:#x}, RTC \
         IRQs as {:#x}",
        proto::UART_BIT,
        proto::RTC_BIT
    );

    // The client.
    #[cfg(not(feature = "mcs"))]
    let client_fault = cslot::FAULT;
    #[cfg(feature = "mcs")]
    let client_fault = fault_cap(a, report, fault_rights, FAULT_CLIENT)?;
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
    give(&client, cslot::DRIVER, ep, call_rights, proto::CLIENT)?;
    give(
        &client,
        cslot::REPORT,
        report,
        CapRights::WRITE,
        REPORT_CLIENT,
    )?;
    give(&client, cslot::FAULT, report, fault_rights, FAULT_CLIENT)?;
    let root_ep = a.slot();
    check(
        "mint the root task's driver cap",
        init::CNODE.absolute_cptr(root_ep).mint_from(
            &init::CNODE.absolute_cptr(ep),
            CapRights::ALL,
            proto::ROOT,
        ),
    )?;
    println!(
        "  echo client (priority {CLIENT_PRIO}): its CNode holds the driver's endpoint (badge \
         {:#x}); it shares the root task's VSpace",
        proto::CLIENT
    );

    check("Resume the driver", t.resume())?;
    #[cfg(feature = "mcs")]
    make_passive(start_sc, ntfn_sc, ntfn)?;
    threads::resume(&client)?;
    #[cfg(not(feature = "mcs"))]
    let (info, badge) = sys::seL4_Recv(report);
    // MCS: no Reply object: a fault (sent as a call) leaves the faulting thread inactive.
    #[cfg(feature = "mcs")]
    let (info, badge) = sys::seL4_Wait(report);
    let (how, n) = (sys::seL4_GetMR(0), sys::seL4_GetMR(1));
    match badge {
        REPORT_CLIENT if info.label() == DONE => {}
        FAULT_CLIENT | FAULT_DRIVER => {
            println!(
                "  root: the {} faulted: fault label {}, MR0 {how:#x}, MR1 {n:#x}",
                if badge == FAULT_DRIVER {
                    "driver"
                } else {
                    "client"
                },
                info.label()
            );
            return Err("a thread of the serial part faulted");
        }
        _ => return Err("unexpected message on the report endpoint"),
    }
    let stats = proto::control(root_ep, proto::STOP).map_err(|l| {
        println!("  root: STOP got label {l}");
        "the driver did not stop"
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
    println!(
        "  root: the driver took {} UART and {} RTC interrupts, received {} bytes ({} lost), \
         sent {}; {} reads, {} waited, {} timed out",
        stats.uart_irqs,
        stats.rtc_irqs,
        stats.rx,
        stats.dropped,
        stats.tx,
        stats.reads,
        stats.waits,
        stats.timeouts
    );
    let sane = stats.tx > 0
        && stats.reads > 0
        && match how {
            ENDED_QUIT => stats.rx >= 5 && stats.uart_irqs > 0 && stats.dropped == 0,
            _ => stats.timeouts == 1 && stats.rtc_irqs > 0,
        };
    if !sane {
        return Err("the driver's counters do not match what the client saw");
    }
    Ok(())
}

/// MCS: make the driver a passive server once it waits for its first request. The root task
/// drops below the driver's priority, so it runs on only while the driver is blocked in its
/// receive (an interrupt that wakes the driver earlier lets it run to its next receive on
/// `start_sc`); then `ntfn_sc` is bound to the driver's notification (interrupts lend it to the
/// driver) before `start_sc` is unbound from the driver's TCB: a driver woken without either
/// would stay runnable without a SchedContext, never to run again.
#[cfg(feature = "mcs")]
fn make_passive(
    start_sc: SchedContext,
    ntfn_sc: SchedContext,
    ntfn: CPtr,
) -> Result<(), &'static str> {
    check(
        "SetPriority (the root task below the driver)",
        init::TCB.set_priority(init::TCB, DRIVER_PRIO - 1),
    )?;
    check(
        "SchedContext_Bind (the driver's notification)",
        ntfn_sc.bind(Notification::from_bits(ntfn)),
    )?;
    check("SchedContext_Unbind (the driver)", start_sc.unbind())?;
    check(
        "SetPriority (the root task back)",
        init::TCB.set_priority(init::TCB, ROOT_PRIO),
    )
}
