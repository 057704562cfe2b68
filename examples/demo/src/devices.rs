//! The two devices of the serial-driver part, as QEMU `virt` has them, and their registers.
//!
//! * The console UART, an NS16550A: the node `/chosen` `stdout-path` names, else the first
//!   `ns16550a` (QEMU `virt`: 0x1000_0000, IRQ 10). Byte registers, `reg-shift` 0.
//! * The goldfish RTC (`google,goldfish-rtc`, QEMU `virt`: 0x10_1000, IRQ 11): a nanosecond
//!   clock with a one-shot alarm interrupt. The driver uses it only to wake itself up while a
//!   read with a time-out is pending; the time-out itself is measured in guest time (`rdtime`).
//!
//! Addresses and interrupts come from the device tree in the extra BootInfo; the values above
//! are the fallback.

use abi::Word;

/// A memory-mapped device: its register page's physical address and its interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Device {
    /// Physical address of its registers.
    pub paddr: u64,
    /// Its PLIC interrupt number.
    pub irq: Word,
}

/// What the serial part needs to know about the machine.
#[derive(Clone, Copy, Debug)]
pub struct Machine {
    /// The console UART.
    pub uart: Device,
    /// The goldfish RTC.
    pub rtc: Device,
    /// Frequency of the `time` counter (`/cpus` `timebase-frequency`).
    pub timebase_hz: u64,
    /// Whether the values came from the device tree (else: QEMU `virt`'s).
    pub from_fdt: bool,
}

/// QEMU `virt`'s values.
pub const QEMU_VIRT: Machine = Machine {
    uart: Device {
        paddr: 0x1000_0000,
        irq: 10,
    },
    rtc: Device {
        paddr: 0x10_1000,
        irq: 11,
    },
    timebase_hz: 10_000_000,
    from_fdt: false,
};

/// The machine as the device tree describes it, or [`QEMU_VIRT`].
pub fn find() -> Machine {
    from_fdt().unwrap_or(QEMU_VIRT)
}

#[cfg(target_os = "none")]
fn from_fdt() -> Option<Machine> {
    let bytes = libsel4::bootinfo::extra_bootinfo().and_then(libsel4::bootinfo::find_fdt)?;
    let fdt = fdt::Fdt::new(bytes).ok()?;
    let device = |node: fdt::node::FdtNode| -> Option<Device> {
        let paddr = node.reg()?.next()?.starting_address as u64;
        let irq = node.interrupts()?.next()? as Word;
        Some(Device { paddr, irq })
    };
    // `Fdt::chosen` panics without a /chosen node.
    let uart = fdt
        .find_node("/chosen")
        .and_then(|_| fdt.chosen().stdout())
        .filter(|n| {
            n.compatible()
                .is_some_and(|c| c.all().any(|s| s == "ns16550a"))
        })
        .or_else(|| fdt.find_compatible(&["ns16550a"]))
        .and_then(device)?;
    let rtc = fdt
        .find_compatible(&["google,goldfish-rtc"])
        .and_then(device)?;
    let timebase_hz = fdt
        .find_node("/cpus")
        .and_then(|n| n.property("timebase-frequency"))
        .and_then(|p| p.as_usize())
        .unwrap_or(QEMU_VIRT.timebase_hz as usize) as u64;
    Some(Machine {
        uart,
        rtc,
        timebase_hz,
        from_fdt: true,
    })
}

#[cfg(not(target_os = "none"))]
fn from_fdt() -> Option<Machine> {
    None
}

/// NS16550A registers (byte offsets) and bits.
pub mod uart {
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

/// The `time` counter (`rdtime`; user mode may read it: the kernel sets `scounteren.TM`).
pub fn now() -> u64 {
    #[cfg(target_arch = "riscv64")]
    {
        let t: u64;
        // SAFETY: reads a counter CSR; no memory access.
        unsafe { core::arch::asm!("rdtime {0}", out(reg) t, options(nomem, nostack)) };
        t
    }
    #[cfg(not(target_arch = "riscv64"))]
    {
        0
    }
}
