//! The user-mode serial driver: a thread in an address space and a CSpace of its own that owns
//! the console UART (an NS16550A on riscv64, a PL011 on aarch64: `devices::Console`) and
//! serves byte reads and writes over an endpoint. The monitor (`monitor`) makes it, watches it,
//! and makes it again when it crashes or hangs.
//!
//! It waits in one `seL4_Recv` on its endpoint; the notification that its IRQ handler and the
//! monitor's heartbeat signal is bound to its TCB, so that one `Recv` returns either a client's
//! request or an event (told apart by the badge: events carry only [`proto::EVENT_BITS`]).
//!
//! * UART interrupt (received data available): read every byte the UART holds (16550 `LSR.DR`,
//!   PL011 `FR.RXFE` clear) into a ring buffer, then `IRQHandler_Ack` (the kernel keeps the interrupt masked until then).
//! * Heartbeat ([`proto::PING_BIT`], about every 100 ms): answer it by signalling the monitor's
//!   notification ([`slot::HEART`]), then look at the waiting read's deadline. A driver that
//!   stops answering is taken for hung.
//! * `READ` (`seL4_Call`): up to `MR0` bytes from the ring. With the ring empty the driver keeps
//!   the caller's reply cap (`seL4_CNode_SaveCaller` into its own CNode) and answers when bytes
//!   arrive, or with 0 bytes once `MR1` ms of guest time (`devices::now`, looked at on every
//!   event)
//!   have passed.
//! * `WRITE`: the bytes of the message to the transmit register, each once the UART takes one
//!   (16550 `LSR.THRE`, PL011 `FR.TXFF` clear; `\n` goes out as `\r\n`).
//! * `CRASH` and `HANG` (from the client): the driver answers at once, holds the next read (even
//!   with bytes at hand), and fails at its first event after that (an interrupt, or the
//!   heartbeat at the latest), before it reads the UART: `CRASH` is a wild store into the root
//!   task's data ([`CANARY`], mapped read-only here, so the store faults instead of corrupting
//!   it), `HANG` a loop that never ends. The held read is the request in flight that the
//!   monitor answers with [`proto::RESTARTED`].
//!
//! Its state (ring buffer, counters, the waiting read, its libsel4 thread block) lives on its
//! own stack, a frame mapped only in its address space; the code it shares with the root task is
//! mapped read-only; the UART's registers are mapped nowhere else.
//!
//! MCS (feature `mcs`): the driver is a *passive server*: it has no scheduling context of its
//! own once it waits for requests. A client's `seL4_Call` lends it the client's SchedContext
//! until the reply gives it back; an event lends it the SchedContext bound to its
//! notification (the kernel takes that back when the driver blocks in its next receive). It
//! receives with a Reply object ([`slot::REPLY`]); a `READ` that has to wait keeps that Reply
//! object (instead of `seL4_CNode_SaveCaller`) and the driver receives with the other one
//! ([`slot::REPLY_B`]) meanwhile. While a read waits the driver keeps running on the reader's
//! SchedContext; it answers the read and receives again in one `seL4_NBSendRecv` (on the saved
//! Reply object), which gives that SchedContext back and leaves the driver waiting passively
//! (a plain `seL4_Send` would leave it running without any SchedContext, never to run again).

use core::sync::atomic::{AtomicU64, Ordering};

use abi::message::MSG_MAX_LENGTH;
#[cfg(not(feature = "mcs"))]
use abi::WORD_BITS;
use abi::{MessageInfo, Word};
use libsel4::ipc::ThreadBlock;
use libsel4::{println, sys};

use crate::devices::{now, Console, Regs, Uart};

/// CPtrs in the driver's CNode (16 slots).
pub mod slot {
    use abi::CPtr;
    /// Its own CNode (guard set), for `seL4_CNode_SaveCaller` (non-MCS).
    pub const CNODE: CPtr = 1;
    /// The service endpoint (receive). The monitor owns it: it outlives every driver.
    pub const EP: CPtr = 2;
    /// The UART's IRQ handler.
    pub const UART_IRQ: CPtr = 3;
    /// Where a waiting reader's reply cap is kept (MCS: one of its two Reply objects).
    pub const REPLY: CPtr = 4;
    /// Its fault endpoint: the monitor's endpoint, badged (non-MCS; MCS: the fault endpoint is
    /// a cap copied into its TCB, this one is not used).
    pub const FAULT: CPtr = 5;
    /// The monitor's notification (send, badged): the answer to a heartbeat.
    pub const HEART: CPtr = 6;
    /// MCS: its other Reply object.
    #[cfg(feature = "mcs")]
    pub const REPLY_B: CPtr = 7;
}

/// The driver's protocol: labels, badges, and the client side.
pub mod proto {
    use super::*;

    /// `READ(max, timeout_ms)`: reply `[n, bytes...]`, 1 <= n <= max, or n = 0 when
    /// `timeout_ms` (0: none) of guest time passed without input.
    pub const READ: Word = 1;
    /// `WRITE(n, bytes...)`: reply `[n]`.
    pub const WRITE: Word = 2;
    /// `STATS`: reply [`Stats`] as words.
    pub const STATS: Word = 3;
    /// `STOP`: interrupts off, a waiting read answered with 0 bytes; reply [`Stats`]. Only
    /// `STATS` is served afterwards.
    pub const STOP: Word = 4;
    /// `CRASH`: reply `OK`, hold the next read, make a wild store at the next event then.
    pub const CRASH: Word = 5;
    /// `HANG`: reply `OK`, hold the next read, loop for ever from the next event then.
    pub const HANG: Word = 6;

    /// Reply label: done.
    pub const OK: Word = 0;
    /// Reply label: another read is already waiting.
    pub const BUSY: Word = 1;
    /// Reply label: malformed request, unknown label or sender, or the driver has stopped.
    pub const BAD: Word = 2;
    /// Reply label (sent by the monitor, not the driver): the driver was restarted while it
    /// held this request, which was not done; ask the new driver again.
    pub const RESTARTED: Word = 3;

    /// Notification badge bit of the UART's interrupt.
    pub const UART_BIT: Word = 1 << 0;
    /// Notification badge bit of the monitor's heartbeat.
    pub const PING_BIT: Word = 1 << 1;
    /// Every event bit: a badge with one of these is a notification, not a message.
    pub const EVENT_BITS: Word = UART_BIT | PING_BIT;
    /// Endpoint badge of the client.
    pub const CLIENT: Word = 0x100;
    /// Endpoint badge of the monitor.
    pub const MONITOR: Word = 0x200;

    /// Most bytes in one message (8 per word after the count).
    pub const MAX_BYTES: usize = 8 * (MSG_MAX_LENGTH - 1);

    /// The driver's counters.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Stats {
        /// UART interrupts taken.
        pub uart_irqs: Word,
        /// Heartbeats answered.
        pub pings: Word,
        /// Bytes received.
        pub rx: Word,
        /// Bytes transmitted (`\r` added before `\n` included).
        pub tx: Word,
        /// Bytes received while the ring was full (lost).
        pub dropped: Word,
        /// READ requests.
        pub reads: Word,
        /// READ requests that waited for input.
        pub waits: Word,
        /// READ requests answered by the time-out.
        pub timeouts: Word,
    }

    impl Stats {
        /// How many words [`Stats::reply`] puts in the message registers.
        pub const WORDS: usize = 8;

        /// As words, in the field order.
        pub fn to_words(self) -> [Word; Self::WORDS] {
            [
                self.uart_irqs,
                self.pings,
                self.rx,
                self.tx,
                self.dropped,
                self.reads,
                self.waits,
                self.timeouts,
            ]
        }

        /// From words in the field order.
        pub fn from_words(w: [Word; Self::WORDS]) -> Stats {
            let [uart_irqs, pings, rx, tx, dropped, reads, waits, timeouts] = w;
            Stats {
                uart_irqs,
                pings,
                rx,
                tx,
                dropped,
                reads,
                waits,
                timeouts,
            }
        }

        /// Put them in MR0.. and return the reply's info.
        pub(super) fn reply(self) -> MessageInfo {
            for (i, w) in self.to_words().iter().enumerate() {
                sys::seL4_SetMR(i, *w);
            }
            MessageInfo::new(OK, 0, 0, Self::WORDS as Word)
        }
    }

    /// Set MR0 = `bytes.len()` and MR1.. = the bytes, 8 to a word, little-endian; returns the
    /// message length in words.
    pub fn set_bytes(bytes: &[u8]) -> Word {
        let bytes = &bytes[..bytes.len().min(MAX_BYTES)];
        sys::seL4_SetMR(0, bytes.len() as Word);
        for (i, chunk) in bytes.chunks(8).enumerate() {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            sys::seL4_SetMR(1 + i, Word::from_le_bytes(w));
        }
        1 + bytes.len().div_ceil(8) as Word
    }

    /// The bytes of a message laid out by [`set_bytes`] with `len` words, into `buf`; returns
    /// how many (at most the count in MR0, the words present and `buf.len()`).
    pub fn get_bytes(len: Word, buf: &mut [u8]) -> usize {
        if len == 0 {
            return 0;
        }
        let present = (len as usize - 1) * 8;
        let n = (sys::seL4_GetMR(0) as usize).min(present).min(buf.len());
        for (i, chunk) in buf[..n].chunks_mut(8).enumerate() {
            let w = sys::seL4_GetMR(1 + i).to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
        n
    }

    /// Client side: write `bytes` through the driver at endpoint `ep`. Err: the reply label
    /// ([`RESTARTED`]: the driver was restarted while it held a chunk, which may have gone out
    /// in part).
    pub fn write(ep: Word, bytes: &[u8]) -> Result<(), Word> {
        for chunk in bytes.chunks(MAX_BYTES) {
            let len = set_bytes(chunk);
            let r = sys::seL4_Call(ep, MessageInfo::new(WRITE, 0, 0, len));
            if r.label() != OK {
                return Err(r.label());
            }
        }
        Ok(())
    }

    /// Client side: read up to `buf.len()` bytes, waiting at most `timeout_ms` of guest time
    /// (0: no limit); `Ok(0)` after the time-out. Err: the reply label ([`RESTARTED`]: the
    /// driver was restarted while the read waited; nothing was read).
    pub fn read(ep: Word, buf: &mut [u8], timeout_ms: Word) -> Result<usize, Word> {
        sys::seL4_SetMR(0, buf.len().min(MAX_BYTES) as Word);
        sys::seL4_SetMR(1, timeout_ms);
        let r = sys::seL4_Call(ep, MessageInfo::new(READ, 0, 0, 2));
        if r.label() != OK {
            return Err(r.label());
        }
        Ok(get_bytes(r.length(), buf))
    }

    /// A request with no words (`CRASH`, `HANG`); Err: the reply label.
    pub fn request(ep: Word, label: Word) -> Result<(), Word> {
        match sys::seL4_Call(ep, MessageInfo::new(label, 0, 0, 0)).label() {
            OK => Ok(()),
            l => Err(l),
        }
    }

    /// Monitor side: `STATS` or `STOP`. Err: the reply label.
    pub fn control(ep: Word, label: Word) -> Result<Stats, Word> {
        let r = sys::seL4_Call(ep, MessageInfo::new(label, 0, 0, 0));
        if r.label() != OK || r.length() < Stats::WORDS as Word {
            return Err(r.label().max(BAD));
        }
        Ok(Stats::from_words(core::array::from_fn(sys::seL4_GetMR)))
    }
}

use proto::Stats;

/// A word of the root task's data. The driver's `CRASH` stores into it: the image is mapped
/// read-only in the driver's address space, so the store faults, and the root task checks at
/// the end that the word still holds [`CANARY_VALUE`].
pub static CANARY: AtomicU64 = AtomicU64::new(CANARY_VALUE);
/// What [`CANARY`] holds.
pub const CANARY_VALUE: u64 = 0x5afe_5afe;

/// How the monitor starts a driver (its `a2`).
pub mod mode {
    use abi::Word;
    /// Serve the endpoint.
    pub const SERVE: Word = 0;
    /// Crash at once (the monitor's self-test of its restart path).
    pub const CRASH_AT_START: Word = 1;
}

/// Bytes received and not yet read.
struct Ring {
    buf: [u8; 512],
    head: usize,
    len: usize,
}

impl Ring {
    fn push(&mut self, b: u8) -> bool {
        if self.len == self.buf.len() {
            return false;
        }
        self.buf[(self.head + self.len) % self.buf.len()] = b;
        self.len += 1;
        true
    }

    fn pop_into(&mut self, out: &mut [u8]) -> usize {
        let n = self.len.min(out.len());
        for o in &mut out[..n] {
            *o = self.buf[self.head];
            self.head = (self.head + 1) % self.buf.len();
        }
        self.len -= n;
        n
    }
}

/// A read waiting for input; its reply cap is in [`slot::REPLY`] (MCS: the Reply object
/// `Driver::saved`).
#[derive(Clone, Copy)]
struct Waiting {
    max: usize,
    /// [`now`] value after which it gets 0 bytes.
    deadline: Option<u64>,
}

/// How the driver was asked to fail at its next event.
#[derive(Clone, Copy)]
enum Failure {
    Crash,
    Hang,
}

struct Driver {
    uart: Console,
    hz: u64,
    ring: Ring,
    waiting: Option<Waiting>,
    stats: Stats,
    stopped: bool,
    fail: Option<Failure>,
    /// MCS: the Reply object the driver receives with.
    #[cfg(feature = "mcs")]
    reply: Word,
    /// MCS: the Reply object of the waiting read.
    #[cfg(feature = "mcs")]
    saved: Word,
}

/// Give up on the transmitter after this many polls of `LSR` (it never takes long on QEMU).
const THRE_SPINS: u32 = 1_000_000;

/// The wild store of `CRASH`.
fn wild_store() {
    CANARY.store(0xbad, Ordering::Relaxed);
}

impl Driver {
    fn init(&mut self) {
        self.uart.enable_rx_interrupt();
        // The interrupt may be masked (taken by the driver before this one and never
        // acknowledged): take what is there, then acknowledge.
        self.receive();
        let _ = sys::seL4_IRQHandler_Ack(slot::UART_IRQ);
        self.receive();
    }

    /// Move every byte the UART holds into the ring.
    fn receive(&mut self) {
        while let Some(b) = self.uart.read() {
            self.stats.rx += 1;
            if !self.ring.push(b) {
                self.stats.dropped += 1;
            }
        }
    }

    fn put(&mut self, b: u8) {
        let mut spins = 0;
        while !self.uart.tx_ready() && spins < THRE_SPINS {
            spins += 1;
            core::hint::spin_loop();
        }
        self.uart.write(b);
        self.stats.tx += 1;
    }

    /// Up to `max` bytes from the ring as a reply.
    fn data(&mut self, max: usize) -> MessageInfo {
        let mut out = [0u8; 128];
        let n = self.ring.pop_into(&mut out[..max.min(128)]);
        let len = proto::set_bytes(&out[..n]);
        MessageInfo::new(proto::OK, 0, 0, len)
    }

    /// Answer the waiting read if bytes came or its time is up.
    #[cfg(not(feature = "mcs"))]
    fn serve_waiting(&mut self) {
        let Some(w) = self.waiting else { return };
        let reply = if self.ring.len > 0 && self.fail.is_none() {
            self.data(w.max)
        } else if self.stopped || w.deadline.is_some_and(|d| now() >= d) {
            if !self.stopped {
                self.stats.timeouts += 1;
            }
            MessageInfo::new(proto::OK, 0, 0, proto::set_bytes(&[]))
        } else {
            return;
        };
        self.waiting = None;
        // Sending on a reply cap replies (and uses the cap up).
        sys::seL4_Send(slot::REPLY, reply);
    }

    /// MCS: whether the waiting read is to be answered now: bytes came, its time is up, or the
    /// driver stopped.
    #[cfg(feature = "mcs")]
    fn answer_due(&mut self) -> bool {
        let Some(w) = self.waiting else { return false };
        (self.ring.len > 0 && self.fail.is_none())
            || self.stopped
            || w.deadline.is_some_and(|d| now() >= d)
    }

    /// MCS: the answer to the waiting read ([`Driver::answer_due`]), in the message registers
    /// (the main loop sends it on the saved Reply object); the read no longer waits.
    #[cfg(feature = "mcs")]
    fn answer(&mut self) -> MessageInfo {
        let max = self.waiting.map_or(0, |w| w.max);
        let reply = if self.ring.len > 0 && self.fail.is_none() {
            self.data(max)
        } else {
            if !self.stopped {
                self.stats.timeouts += 1;
            }
            MessageInfo::new(proto::OK, 0, 0, proto::set_bytes(&[]))
        };
        self.waiting = None;
        reply
    }

    fn events(&mut self, bits: Word) {
        // Asked to fail: at the first event with a read held (so that there is a request in
        // flight for the monitor to answer), before anything else.
        if self.waiting.is_some() {
            match self.fail {
                Some(Failure::Crash) => wild_store(),
                Some(Failure::Hang) => loop {
                    core::hint::spin_loop();
                },
                None => {}
            }
        }
        if bits & proto::UART_BIT != 0 {
            self.stats.uart_irqs += 1;
            self.receive();
            // The source is quiet now (no byte waiting), so the Ack does not bring the same
            // interrupt straight back.
            let _ = sys::seL4_IRQHandler_Ack(slot::UART_IRQ);
            // A byte that came between the last read and the Ack raised the line while the IRQ
            // was masked; the Ack should deliver that at once, but on QEMU riscv64 this kernel
            // does not (its PLIC ignores enable-bit writes until its next event; see the
            // roottask test `irq_uart_pending_at_ack`). Look once more: bytes that come later
            // interrupt.
            self.receive();
        }
        if bits & proto::PING_BIT != 0 {
            self.stats.pings += 1;
            sys::seL4_Signal(slot::HEART);
        }
        // MCS: the main loop answers a waiting read (with its receive).
        #[cfg(not(feature = "mcs"))]
        self.serve_waiting();
    }

    fn stop(&mut self) {
        self.uart.disable_interrupts();
        self.stopped = true;
        #[cfg(not(feature = "mcs"))]
        self.serve_waiting();
    }

    /// Handle a message; `None`: no reply now (a read waits, its reply cap saved).
    fn request(&mut self, info: MessageInfo, badge: Word) -> Option<MessageInfo> {
        let ok = Some(MessageInfo::new(proto::OK, 0, 0, 0));
        let bad = Some(MessageInfo::new(proto::BAD, 0, 0, 0));
        let len = info.length();
        match (info.label(), badge) {
            (proto::STATS, proto::MONITOR) => Some(self.stats.reply()),
            (proto::STOP, proto::MONITOR) => {
                self.stop();
                Some(self.stats.reply())
            }
            _ if self.stopped => bad,
            (proto::CRASH, proto::CLIENT) => {
                self.fail = Some(Failure::Crash);
                ok
            }
            (proto::HANG, proto::CLIENT) => {
                self.fail = Some(Failure::Hang);
                ok
            }
            (proto::READ, proto::CLIENT) if len >= 2 => {
                if self.waiting.is_some() {
                    return Some(MessageInfo::new(proto::BUSY, 0, 0, 0));
                }
                let max = (sys::seL4_GetMR(0) as usize).clamp(1, proto::MAX_BYTES);
                let ms = sys::seL4_GetMR(1);
                self.stats.reads += 1;
                if self.ring.len > 0 && self.fail.is_none() {
                    return Some(self.data(max));
                }
                #[cfg(not(feature = "mcs"))]
                if sys::seL4_CNode_SaveCaller(slot::CNODE, slot::REPLY, WORD_BITS as u8).is_err() {
                    return bad;
                }
                // MCS: keep the Reply object that holds the reader; receive with the other.
                #[cfg(feature = "mcs")]
                {
                    self.saved = self.reply;
                    self.reply = if self.reply == slot::REPLY {
                        slot::REPLY_B
                    } else {
                        slot::REPLY
                    };
                }
                self.stats.waits += 1;
                let deadline = (ms != 0).then(|| now() + ms.saturating_mul(self.hz) / 1000);
                self.waiting = Some(Waiting { max, deadline });
                None
            }
            (proto::WRITE, proto::CLIENT) if len >= 1 => {
                let mut buf = [0u8; proto::MAX_BYTES];
                let n = proto::get_bytes(len, &mut buf);
                for &b in &buf[..n] {
                    if b == b'\n' {
                        self.put(b'\r');
                    }
                    self.put(b);
                }
                sys::seL4_SetMR(0, n as Word);
                Some(MessageInfo::new(proto::OK, 0, 0, 1))
            }
            _ => bad,
        }
    }
}

/// The driver thread: argument 0 (`a0`, `x0`) = where the UART's registers are mapped, 1 =
/// the frequency of the counter [`now`] reads, 2 = [`mode`], 3 = its instance number (1 for
/// the first driver the monitor starts). Its thread pointer (`tp`, `tpidr_el0`) points at a
/// zeroed [`ThreadBlock`] on its stack; its IPC buffer is at argument 4.
pub extern "C" fn driver_main(
    uart_regs: Word,
    hz: Word,
    mode: Word,
    instance: Word,
    ipc_buffer: Word,
) -> ! {
    // SAFETY: `tp` points at memory on this thread's own stack that the monitor set aside for
    // its thread block (zeroed: no buffer, not borrowed; no other thread uses it), and the
    // monitor mapped the IPC buffer frame read-write at `ipc_buffer`.
    unsafe {
        let block = &*(libsel4::ipc::thread_pointer() as *const ThreadBlock);
        block.set_buffer(ipc_buffer as *mut abi::IpcBuffer);
    }
    if mode == mode::CRASH_AT_START {
        wild_store();
    }
    // SAFETY: the monitor mapped the UART's page at `uart_regs` in this thread's address space,
    // and nowhere else.
    let uart = Console::new(unsafe { Regs::new(uart_regs as usize) });
    let mut d = Driver {
        uart,
        hz,
        ring: Ring {
            buf: [0; 512],
            head: 0,
            len: 0,
        },
        waiting: None,
        stats: Stats::default(),
        stopped: false,
        fail: None,
        #[cfg(feature = "mcs")]
        reply: slot::REPLY,
        #[cfg(feature = "mcs")]
        saved: 0,
    };
    d.init();
    // One literal per UART, not the UART's name as an argument: the restart time the monitor
    // measures includes this line, and riscv64's stays what it was.
    #[cfg(not(target_arch = "aarch64"))]
    println!(
        "  driver #{instance}: 16550 programmed (FIFO, receive interrupt); serving its endpoint"
    );
    #[cfg(target_arch = "aarch64")]
    println!(
        "  driver #{instance}: PL011 programmed (receive and receive time-out interrupts); \
         serving its endpoint"
    );
    #[cfg(not(feature = "mcs"))]
    {
        let (mut info, mut badge) = sys::seL4_Recv(slot::EP);
        loop {
            let reply = if badge & proto::EVENT_BITS != 0 {
                d.events(badge);
                None
            } else {
                d.request(info, badge)
            };
            (info, badge) = match reply {
                Some(r) => sys::seL4_ReplyRecv(slot::EP, r),
                None => sys::seL4_Recv(slot::EP),
            };
        }
    }
    #[cfg(feature = "mcs")]
    {
        let (mut info, mut badge) = sys::seL4_Recv(slot::EP, d.reply);
        loop {
            let reply = if badge & proto::EVENT_BITS != 0 {
                d.events(badge);
                None
            } else {
                d.request(info, badge)
            };
            (info, badge) = if d.answer_due() {
                // While a read waits the driver runs on the reader's SchedContext, so the
                // current caller's Reply object (if any) lends none: reply to it first. Then
                // answer the reader and receive in one call: the answer gives the reader's
                // SchedContext back, and the driver is waiting again before it would need one.
                if let Some(r) = reply {
                    sys::seL4_Send(d.reply, r);
                }
                let a = d.answer();
                sys::seL4_NBSendRecv(d.saved, a, slot::EP, d.reply)
            } else {
                match reply {
                    Some(r) => sys::seL4_ReplyRecv(slot::EP, r, d.reply),
                    None => sys::seL4_Recv(slot::EP, d.reply),
                }
            };
        }
    }
}
