//! The devices of the serial-driver part, as QEMU `virt` has them, and their registers: a
//! console UART for the driver and a timer for the monitor's heartbeat, chosen per
//! architecture.
//!
//! riscv64 (seL4's `qemu-riscv-virt`):
//! * the console UART, an NS16550A: the node `/chosen` `stdout-path` names, else the first
//!   `ns16550a` (QEMU `virt`: 0x1000_0000, PLIC IRQ 10). Byte registers, `reg-shift` 0
//!   ([`ns16550`]);
//! * the timer: the goldfish RTC (`google,goldfish-rtc`, QEMU `virt`: 0x10_1000, IRQ 11), a
//!   nanosecond clock with a one-shot alarm interrupt ([`rtc`]). Guest time is `rdtime`.
//!
//! aarch64 (seL4's `qemu-arm-virt`):
//! * the console UART, a PL011 (`arm,pl011`, QEMU `virt`: 0x0900_0000, SPI 1 = INTID 33):
//!   the node `stdout-path` names, else the first `arm,pl011` ([`pl011`]). The kernel prints
//!   to it too (seL4's `kernel-devices` for the board list it, `userAvailable`: the page is in
//!   a device untyped all the same);
//! * the timer: the generic timer's EL1 *physical* timer, programmed from EL0 through
//!   `CNTP_CVAL_EL0`/`CNTP_CTL_EL0` ([`generic_timer`]); its interrupt is the second one of the
//!   `/timer` node (`arm,armv8-timer`: secure, non-secure physical, virtual, hypervisor; QEMU
//!   `virt`: PPI 14 = INTID 30), taken through IRQControl like any device's. The kernel (no
//!   hypervisor support) runs on the *virtual* timer (INTID 27), which it keeps for itself.
//!   EL0 may touch the physical counter and timer only if the kernel lets it: seL4's
//!   `KernelArmExportPCNTUser` and `KernelArmExportPTMRUser` (our kernel's cargo features
//!   `export_pcnt_user`, `export_ptmr_user`: `CNTKCTL_EL1.EL0PCTEN`, `.EL0PTEN`), as seL4's
//!   libplatsupport timer for `qemu-arm-virt` needs them; `cargo xtask` builds the kernel for
//!   the aarch64 demo with both. The PL031 RTC would do only whole seconds. Guest time is
//!   `CNTPCT_EL0` at `CNTFRQ_EL0` (62.5 MHz).
//!
//! Addresses and interrupts come from the device tree in the extra BootInfo; the values of
//! [`QEMU_VIRT`] are the fallback.
//!
//! Both architectures' UART and timer types are compiled on each (so that a build for one
//! type-checks the other's); the other architecture's are unused there.
#![allow(dead_code)]

use abi::Word;

/// A memory-mapped device: its register page's physical address and its interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Device {
    /// Physical address of its registers (0: none, the timer on aarch64: system registers).
    pub paddr: u64,
    /// Its interrupt number (riscv64: the PLIC's; aarch64: the GIC's INTID).
    pub irq: Word,
}

/// What the serial part needs to know about the machine.
#[derive(Clone, Copy, Debug)]
pub struct Machine {
    /// The console UART.
    pub uart: Device,
    /// The monitor's timer: the goldfish RTC (riscv64), the generic timer's physical timer
    /// (aarch64: no page, `paddr` 0).
    pub timer: Device,
    /// Frequency of the counter [`now`] reads (riscv64: `/cpus` `timebase-frequency`; aarch64:
    /// `CNTFRQ_EL0`).
    pub timebase_hz: u64,
    /// Whether the values came from the device tree (else: QEMU `virt`'s).
    pub from_fdt: bool,
}

/// The UART's name as the demo prints it.
#[cfg(not(target_arch = "aarch64"))]
pub const UART_NAME: &str = "NS16550A UART";
/// The UART's name as the demo prints it.
#[cfg(target_arch = "aarch64")]
pub const UART_NAME: &str = "PL011 UART";
/// The timer's name as the demo prints it.
#[cfg(not(target_arch = "aarch64"))]
pub const TIMER_NAME: &str = "goldfish RTC";
/// The timer's name as the demo prints it.
#[cfg(target_arch = "aarch64")]
pub const TIMER_NAME: &str = "generic timer (EL1 physical)";
/// Whether the timer has a register page to map (the RTC) or is system registers.
pub const TIMER_HAS_PAGE: bool = cfg!(not(target_arch = "aarch64"));

/// QEMU `virt`'s values (riscv64).
#[cfg(not(target_arch = "aarch64"))]
pub const QEMU_VIRT: Machine = Machine {
    uart: Device {
        paddr: 0x1000_0000,
        irq: 10,
    },
    timer: Device {
        paddr: 0x10_1000,
        irq: 11,
    },
    timebase_hz: 10_000_000,
    from_fdt: false,
};

/// QEMU `virt`'s values (aarch64; `qemu-arm-virt`'s device tree).
#[cfg(target_arch = "aarch64")]
pub const QEMU_VIRT: Machine = Machine {
    uart: Device {
        paddr: 0x0900_0000,
        irq: 33,
    },
    timer: Device { paddr: 0, irq: 30 },
    timebase_hz: 62_500_000,
    from_fdt: false,
};

/// The machine as the device tree describes it, or [`QEMU_VIRT`].
pub fn find() -> Machine {
    from_fdt().unwrap_or(QEMU_VIRT)
}

/// The device tree in the extra BootInfo.
#[cfg(target_os = "none")]
fn fdt() -> Option<fdt::Fdt<'static>> {
    let bytes = libsel4::bootinfo::extra_bootinfo().and_then(libsel4::bootinfo::find_fdt)?;
    fdt::Fdt::new(bytes).ok()
}

/// The console: the node `/chosen` `stdout-path` names if it is `compatible`, else the first
/// such node.
#[cfg(target_os = "none")]
fn console<'b, 'a>(
    fdt: &'b fdt::Fdt<'a>,
    compatible: &'static str,
) -> Option<fdt::node::FdtNode<'b, 'a>> {
    // `Fdt::chosen` panics without a /chosen node.
    fdt.find_node("/chosen")
        .and_then(|_| fdt.chosen().stdout())
        .filter(|n| {
            n.compatible()
                .is_some_and(|c| c.all().any(|s| s == compatible))
        })
        .or_else(|| fdt.find_compatible(&[compatible]))
}

#[cfg(all(target_os = "none", not(target_arch = "aarch64")))]
fn from_fdt() -> Option<Machine> {
    let fdt = fdt()?;
    let device = |node: fdt::node::FdtNode| -> Option<Device> {
        let paddr = node.reg()?.next()?.starting_address as u64;
        let irq = node.interrupts()?.next()? as Word;
        Some(Device { paddr, irq })
    };
    let uart = console(&fdt, "ns16550a").and_then(device)?;
    let timer = fdt
        .find_compatible(&["google,goldfish-rtc"])
        .and_then(device)?;
    let timebase_hz = fdt
        .find_node("/cpus")
        .and_then(|n| n.property("timebase-frequency"))
        .and_then(|p| p.as_usize())
        .unwrap_or(QEMU_VIRT.timebase_hz as usize) as u64;
    Some(Machine {
        uart,
        timer,
        timebase_hz,
        from_fdt: true,
    })
}

/// The GIC INTID of interrupt `index` of `node` (`interrupts = <type number flags>...`, the
/// GIC's three cells: type 0 an SPI, INTID 32 + number; type 1 a PPI, 16 + number).
#[cfg(all(target_os = "none", target_arch = "aarch64"))]
fn gic_intid(node: &fdt::node::FdtNode, index: usize) -> Option<Word> {
    let p = node.property("interrupts")?;
    let cell = |i: usize| -> Option<Word> {
        let b = p.value.get(4 * i..4 * i + 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as Word)
    };
    let (kind, number) = (cell(3 * index)?, cell(3 * index + 1)?);
    Some(if kind == 0 { 32 + number } else { 16 + number })
}

#[cfg(all(target_os = "none", target_arch = "aarch64"))]
fn from_fdt() -> Option<Machine> {
    let fdt = fdt()?;
    let node = console(&fdt, "arm,pl011")?;
    let uart = Device {
        paddr: node.reg()?.next()?.starting_address as u64,
        irq: gic_intid(&node, 0)?,
    };
    // The non-secure EL1 physical timer: the `/timer` node's second interrupt.
    let timer_node = fdt.find_compatible(&["arm,armv8-timer", "arm,armv7-timer"])?;
    let timer = Device {
        paddr: 0,
        irq: gic_intid(&timer_node, 1)?,
    };
    Some(Machine {
        uart,
        timer,
        timebase_hz: generic_timer::frequency(),
        from_fdt: true,
    })
}

#[cfg(not(target_os = "none"))]
fn from_fdt() -> Option<Machine> {
    None
}

/// NS16550A registers (byte offsets) and bits.
pub mod ns16550 {
    /// Receive buffer (read) / transmit holding register (write).
    pub const RBR_THR: usize = 0;
    /// Interrupt enable.
    pub const IER: usize = 1;
    /// FIFO control (write).
    pub const FCR: usize = 2;
    /// Line status.
    pub const LSR: usize = 5;
    /// IER: received data available.
    pub const IER_RDI: u8 = 1 << 0;
    /// FCR: FIFOs on, receive trigger level 1 byte, nothing reset.
    pub const FCR_ENABLE: u8 = 1 << 0;
    /// LSR: a received byte is waiting.
    pub const LSR_DR: u8 = 1 << 0;
    /// LSR: the transmit holding register is empty.
    pub const LSR_THRE: u8 = 1 << 5;
}

/// PL011 registers (32-bit, byte offsets) and bits (Arm PrimeCell UART (PL011) TRM, 3.2).
pub mod pl011 {
    /// Data register: a received byte (read), a byte to send (write).
    pub const DR: usize = 0x00;
    /// Flag register.
    pub const FR: usize = 0x18;
    /// Interrupt mask set/clear: a set bit enables that interrupt.
    pub const IMSC: usize = 0x38;
    /// Interrupt clear (write 1s).
    pub const ICR: usize = 0x44;
    /// FR: the receive FIFO is empty.
    pub const FR_RXFE: u32 = 1 << 4;
    /// FR: the transmit FIFO is full.
    pub const FR_TXFF: u32 = 1 << 5;
    /// Receive interrupt.
    pub const INT_RX: u32 = 1 << 4;
    /// Receive time-out interrupt (bytes wait in the FIFO below its trigger level).
    pub const INT_RT: u32 = 1 << 6;
}

/// Goldfish RTC registers (32-bit, byte offsets).
pub mod rtc {
    /// Time in ns, low half (reading it latches the high half).
    pub const TIME_LOW: usize = 0x00;
    /// Time, high half as latched.
    pub const TIME_HIGH: usize = 0x04;
    /// Alarm, low half (writing it arms the alarm).
    pub const ALARM_LOW: usize = 0x08;
    /// Alarm, high half.
    pub const ALARM_HIGH: usize = 0x0c;
    /// 1: the alarm raises the interrupt.
    pub const IRQ_ENABLED: usize = 0x10;
    /// Write: disarm the alarm.
    pub const CLEAR_ALARM: usize = 0x14;
    /// Write: lower the interrupt.
    pub const CLEAR_INTERRUPT: usize = 0x1c;
}

/// A device's register page, mapped at `base` in the calling thread's address space.
#[derive(Clone, Copy, Debug)]
pub struct Regs {
    base: usize,
}

impl Regs {
    /// The registers at virtual address `base`.
    ///
    /// # Safety
    ///
    /// `base` is where the device's register page is mapped in the address space of every
    /// thread that uses the result, and nothing else there treats that page as memory.
    pub const unsafe fn new(base: usize) -> Regs {
        Regs { base }
    }

    /// Read byte register `off`.
    pub fn read8(&self, off: usize) -> u8 {
        // SAFETY: `new`'s contract: a mapped device register inside the page.
        unsafe { core::ptr::read_volatile((self.base + off) as *const u8) }
    }

    /// Write byte register `off`.
    pub fn write8(&self, off: usize, v: u8) {
        // SAFETY: as in `read8`.
        unsafe { core::ptr::write_volatile((self.base + off) as *mut u8, v) }
    }

    /// Read 32-bit register `off`.
    pub fn read32(&self, off: usize) -> u32 {
        // SAFETY: as in `read8`; `off` is 4-byte aligned.
        unsafe { core::ptr::read_volatile((self.base + off) as *const u32) }
    }

    /// Write 32-bit register `off`.
    pub fn write32(&self, off: usize, v: u32) {
        // SAFETY: as in `read32`.
        unsafe { core::ptr::write_volatile((self.base + off) as *mut u32, v) }
    }
}

/// The console UART as the driver uses it: receive interrupt on, bytes in and out. One type
/// per UART: [`Ns16550`] on riscv64, [`Pl011`] on aarch64 ([`Console`]).
pub trait Uart: Copy {
    /// The UART's registers at `regs`.
    fn new(regs: Regs) -> Self;
    /// Turn the receive interrupt on, keeping bytes that came before.
    fn enable_rx_interrupt(&self);
    /// Turn every interrupt off.
    fn disable_interrupts(&self);
    /// The next received byte, if one waits.
    fn read(&self) -> Option<u8>;
    /// Whether a byte written now is taken at once.
    fn tx_ready(&self) -> bool;
    /// Send `b` (after [`Uart::tx_ready`]).
    fn write(&self, b: u8);
}

/// An NS16550A.
#[derive(Clone, Copy, Debug)]
pub struct Ns16550(Regs);

impl Uart for Ns16550 {
    fn new(regs: Regs) -> Self {
        Ns16550(regs)
    }

    fn enable_rx_interrupt(&self) {
        // FIFO on with a 1-byte trigger level; OpenSBI (or the driver before this one) already
        // enabled it, and keeping the enable bit as it is does not flush the receive FIFO:
        // bytes that came before this driver ran (typed while it was being restarted, or piped
        // in early) are kept.
        self.0.write8(ns16550::FCR, ns16550::FCR_ENABLE);
        self.0.write8(ns16550::IER, ns16550::IER_RDI);
    }

    fn disable_interrupts(&self) {
        self.0.write8(ns16550::IER, 0);
    }

    fn read(&self) -> Option<u8> {
        (self.0.read8(ns16550::LSR) & ns16550::LSR_DR != 0).then(|| self.0.read8(ns16550::RBR_THR))
    }

    fn tx_ready(&self) -> bool {
        self.0.read8(ns16550::LSR) & ns16550::LSR_THRE != 0
    }

    fn write(&self, b: u8) {
        self.0.write8(ns16550::RBR_THR, b);
    }
}

/// A PL011. Its line settings (QEMU ignores baud rate and format) and its FIFOs stay as they
/// are: the kernel prints through the same UART.
#[derive(Clone, Copy, Debug)]
pub struct Pl011(Regs);

impl Uart for Pl011 {
    fn new(regs: Regs) -> Self {
        Pl011(regs)
    }

    fn enable_rx_interrupt(&self) {
        // Clear what an earlier driver left raised; bytes in the FIFO stay and raise the
        // interrupt again.
        self.0.write32(pl011::ICR, pl011::INT_RX | pl011::INT_RT);
        self.0.write32(pl011::IMSC, pl011::INT_RX | pl011::INT_RT);
    }

    fn disable_interrupts(&self) {
        self.0.write32(pl011::IMSC, 0);
    }

    fn read(&self) -> Option<u8> {
        // Reading DR lowers the receive interrupts once the FIFO is below its trigger level.
        (self.0.read32(pl011::FR) & pl011::FR_RXFE == 0).then(|| self.0.read32(pl011::DR) as u8)
    }

    fn tx_ready(&self) -> bool {
        self.0.read32(pl011::FR) & pl011::FR_TXFF == 0
    }

    fn write(&self, b: u8) {
        self.0.write32(pl011::DR, b as u32);
    }
}

/// The architecture's console UART.
#[cfg(not(target_arch = "aarch64"))]
pub type Console = Ns16550;
/// The architecture's console UART.
#[cfg(target_arch = "aarch64")]
pub type Console = Pl011;

/// The monitor's timer: a periodic tick of a given period, as an interrupt.
pub trait Timer {
    /// The timer whose registers (if it has a page) are at `regs`, ticking every `period_ns`,
    /// with the counter of [`now`] at `hz`.
    fn new(regs: Regs, period_ns: u64, hz: u64) -> Self;
    /// Start ticking: the first tick one period from now.
    fn start(&mut self);
    /// At a tick, before the IRQ handler's Ack: lower the interrupt.
    fn clear(&mut self);
    /// After a tick was handled: the next one a period from now.
    fn arm(&mut self);
    /// Stop for good: no more ticks.
    fn stop(&mut self);
}

/// The goldfish RTC's alarm as a periodic tick (riscv64).
pub struct GoldfishRtc {
    regs: Regs,
    period_ns: u64,
}

impl GoldfishRtc {
    fn time(&self) -> u64 {
        let lo = self.regs.read32(rtc::TIME_LOW) as u64;
        let hi = self.regs.read32(rtc::TIME_HIGH) as u64;
        hi << 32 | lo
    }
}

impl Timer for GoldfishRtc {
    fn new(regs: Regs, period_ns: u64, _hz: u64) -> Self {
        GoldfishRtc { regs, period_ns }
    }

    fn start(&mut self) {
        self.regs.write32(rtc::CLEAR_ALARM, 1);
        self.regs.write32(rtc::CLEAR_INTERRUPT, 1);
        self.regs.write32(rtc::IRQ_ENABLED, 1);
        self.arm();
    }

    fn clear(&mut self) {
        self.regs.write32(rtc::CLEAR_INTERRUPT, 1);
    }

    fn arm(&mut self) {
        let at = self.time() + self.period_ns;
        self.regs.write32(rtc::ALARM_HIGH, (at >> 32) as u32);
        self.regs.write32(rtc::ALARM_LOW, at as u32);
    }

    fn stop(&mut self) {
        self.regs.write32(rtc::IRQ_ENABLED, 0);
        self.regs.write32(rtc::CLEAR_ALARM, 1);
    }
}

/// The generic timer's EL1 physical timer, from EL0 (aarch64; the kernel must export the
/// physical counter and timer: `CNTKCTL_EL1.EL0PCTEN`, `.EL0PTEN`). Its interrupt is level:
/// asserted while it is enabled, unmasked and `CNTPCT_EL0 >= CNTP_CVAL_EL0`.
pub mod generic_timer {
    /// `CNTP_CTL_EL0.ENABLE`.
    pub const CTL_ENABLE: u64 = 1 << 0;
    /// `CNTP_CTL_EL0.IMASK`: the interrupt is masked.
    pub const CTL_IMASK: u64 = 1 << 1;

    /// `CNTFRQ_EL0`: the counter's frequency in Hz.
    pub fn frequency() -> u64 {
        #[cfg(all(target_arch = "aarch64", target_os = "none"))]
        {
            let f: u64;
            // SAFETY: reads a system register EL0 may read (EL0PCTEN); no memory access.
            unsafe { core::arch::asm!("mrs {0}, cntfrq_el0", out(reg) f, options(nomem, nostack)) };
            f
        }
        #[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
        {
            super::QEMU_VIRT.timebase_hz
        }
    }

    /// `CNTPCT_EL0`: the physical counter.
    pub fn counter() -> u64 {
        #[cfg(all(target_arch = "aarch64", target_os = "none"))]
        {
            let t: u64;
            // SAFETY: reads a system register EL0 may read (EL0PCTEN); `isb` keeps the read
            // after the instructions before it. No memory access.
            unsafe {
                core::arch::asm!("isb", "mrs {0}, cntpct_el0", out(reg) t, options(nomem, nostack))
            };
            t
        }
        #[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
        {
            0
        }
    }

    /// Write `CNTP_CVAL_EL0` (the compare value) and `CNTP_CTL_EL0`.
    pub fn set(cval: u64, ctl: u64) {
        #[cfg(all(target_arch = "aarch64", target_os = "none"))]
        // SAFETY: writes the physical timer's registers, which EL0 may write (EL0PTEN) and
        // which only the monitor uses; no memory access.
        unsafe {
            core::arch::asm!(
                "msr cntp_cval_el0, {0}",
                "msr cntp_ctl_el0, {1}",
                "isb",
                in(reg) cval,
                in(reg) ctl,
                options(nomem, nostack)
            )
        };
        #[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
        let _ = (cval, ctl);
    }
}

/// The EL1 physical timer as a periodic tick (aarch64).
pub struct PhysicalTimer {
    period_ticks: u64,
}

impl Timer for PhysicalTimer {
    fn new(_regs: Regs, period_ns: u64, hz: u64) -> Self {
        PhysicalTimer {
            period_ticks: (period_ns as u128 * hz as u128 / 1_000_000_000) as u64,
        }
    }

    fn start(&mut self) {
        self.arm();
    }

    fn clear(&mut self) {
        // The compare value at the end of time: the condition is false, the line low.
        generic_timer::set(u64::MAX, generic_timer::CTL_ENABLE);
    }

    fn arm(&mut self) {
        let at = generic_timer::counter() + self.period_ticks;
        generic_timer::set(at, generic_timer::CTL_ENABLE);
    }

    fn stop(&mut self) {
        generic_timer::set(u64::MAX, generic_timer::CTL_IMASK);
    }
}

/// The architecture's timer for the monitor.
#[cfg(not(target_arch = "aarch64"))]
pub type MonitorTimer = GoldfishRtc;
/// The architecture's timer for the monitor.
#[cfg(target_arch = "aarch64")]
pub type MonitorTimer = PhysicalTimer;

/// Guest time: the `time` counter on riscv64 (`rdtime`; user mode may read it: the kernel
/// sets `scounteren.TM`), `CNTPCT_EL0` on aarch64 (the kernel's `export_pcnt_user`); ticks at
/// [`Machine::timebase_hz`].
pub fn now() -> u64 {
    #[cfg(target_arch = "riscv64")]
    {
        let t: u64;
        // SAFETY: reads a counter CSR; no memory access.
        unsafe { core::arch::asm!("rdtime {0}", out(reg) t, options(nomem, nostack)) };
        t
    }
    #[cfg(target_arch = "aarch64")]
    {
        generic_timer::counter()
    }
    #[cfg(not(any(target_arch = "riscv64", target_arch = "aarch64")))]
    {
        0
    }
}
