//! The device tree blob QEMU passes in x0, parsed into [`BootParams`] (memory and the root
//! task) and its [`Platform`](super::super::platform::Platform) (the devices the machine layer
//! drives) with the `fdt` crate.
//!
//! What is read:
//! - RAM: the `reg` of every root child named `memory`/`memory@...` or with
//!   `device_type = "memory"` (clipped to the kernel window, [`PADDR_TOP`]);
//! - reserved: the `reg` of every `/reserved-memory` child and every `/memreserve/` entry;
//! - kernel devices: the first page of the first two `reg` regions of the first GICv2
//!   (`arm,cortex-a15-gic`, `arm,gic-400`, `arm,cortex-a9-gic`: distributor and CPU
//!   interface), as seL4's `kernel_device_frames` for `qemu-arm-virt` make them (the PL011 the kernel prints to stays
//!   available to user level as a device untyped, as on seL4);
//! - the root task: `/chosen` `linux,initrd-start`/`linux,initrd-end`;
//! - the console: the PL011 (`arm,pl011`) named by `/chosen` `stdout-path`, else the first one;
//! - the kernel command line: `/chosen` `bootargs`, for `loglevel=` ([`crate::log`]);
//! - the generic timer's frequency: the `/timer` node's `clock-frequency` if any, else
//!   CNTFRQ_EL0;
//! - how to call PSCI: `/psci` `method` (`hvc` or `smc`).
//!
//! Nodes are looked up with [`find_path`] (robust against the `FDT_NOP` tokens QEMU leaves
//! after `-dtb`), not the crate's `find_node`.
//!
//! The kernel image's extent comes from the linker ([`super::boot::kernel_image_paddr`]).
//! Missing or malformed input is a [`DtbError`], never a hang. The checks and helpers follow
//! riscv64's parser (`arch/riscv64/machine/devicetree.rs`), with Arm's devices.

use core::fmt;

use fdt::node::FdtNode;
use fdt::Fdt;

use super::super::fdt_path::find_path;
use super::super::platform::{Gic, PsciConduit};
use super::{paddr_to_pptr, PADDR_TOP};
use crate::boot::{BootParams, Region};

/// Largest device tree the kernel accepts.
const MAX_DTB_SIZE: u32 = 16 << 20;
/// Size of the flattened device tree header.
const DTB_HEADER_SIZE: u32 = 40;
/// The DTB magic number (big-endian in memory).
const DTB_MAGIC: u32 = 0xd00d_feed;

const GIC_COMPATIBLE: &[&str] = &["arm,cortex-a15-gic", "arm,gic-400", "arm,cortex-a9-gic"];
const UART_COMPATIBLE: &[&str] = &["arm,pl011"];
const TIMER_COMPATIBLE: &[&str] = &["arm,armv8-timer", "arm,armv7-timer"];

/// Why the device tree could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DtbError {
    /// The boot loader passed no device tree address (0), or one outside the kernel window.
    BadAddress(u64),
    /// No device tree magic at the given physical address.
    BadMagic {
        /// Where the blob was expected.
        paddr: u64,
        /// The word found there.
        found: u32,
    },
    /// The header's `totalsize` is implausible.
    BadSize(u32),
    /// The `fdt` crate rejected the blob.
    Malformed(&'static str),
    /// No usable `/memory` node.
    NoMemory,
    /// More regions of one kind than `BootParams` holds.
    TooManyRegions(&'static str),
    /// A `reg` entry that wraps around or uses more than 64-bit cells.
    BadReg(&'static str),
    /// `/chosen` has no `linux,initrd-start`/`linux,initrd-end`.
    NoInitrd,
    /// The initrd's bounds are inverted or outside the window.
    BadInitrd {
        /// `linux,initrd-start`.
        start: u64,
        /// `linux,initrd-end`.
        end: u64,
    },
    /// No GICv2 in the device tree.
    NoGic,
}

impl DtbError {
    /// Prints why the device tree could not be used, as one `[kernel ERROR]` line (the method
    /// generic boot calls on either architecture).
    pub fn report(&self) {
        crate::kerror!("{self}");
    }
}

impl fmt::Display for DtbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DtbError::BadAddress(p) => {
                write!(f, "device tree: unusable address {p:#x} from the boot loader")
            }
            DtbError::BadMagic { paddr, found } => {
                write!(f, "device tree: no DTB magic at {paddr:#x} (found {found:#010x})")
            }
            DtbError::BadSize(s) => write!(f, "device tree: implausible totalsize {s:#x}"),
            DtbError::Malformed(why) => write!(f, "device tree: malformed ({why})"),
            DtbError::NoMemory => write!(f, "device tree: no usable /memory node"),
            DtbError::TooManyRegions(what) => write!(f, "device tree: too many {what} regions"),
            DtbError::BadReg(what) => write!(f, "device tree: unusable reg property of {what}"),
            DtbError::NoInitrd => write!(
                f,
                "no initrd: /chosen has no linux,initrd-start/end (boot QEMU with -initrd ROOTTASK.elf)"
            ),
            DtbError::BadInitrd { start, end } => {
                write!(f, "device tree: unusable initrd bounds {start:#x}..{end:#x}")
            }
            DtbError::NoGic => write!(f, "device tree: no GICv2 interrupt controller"),
        }
    }
}

/// Reads a big-endian 32-bit word at physical `paddr` (inside the window).
fn read_be_u32(paddr: u64) -> u32 {
    let p = paddr_to_pptr(paddr) as *const [u8; 4];
    // SAFETY: the caller checked that `paddr..paddr + 4` lies inside the window; a byte array
    // has no alignment requirement, and QEMU left the device tree in RAM.
    u32::from_be_bytes(unsafe { p.read_volatile() })
}

/// Parses the device tree at physical `dtb_paddr` into the boot parameters, and points the
/// console at the PL011 it names. `dtb_size` is the size a loader passed (seL4's boot
/// protocol; at least the header's), `None` in a firmware boot, where the root task is the
/// initrd (read from `/chosen`).
pub fn parse(dtb_paddr: u64, dtb_size: Option<u64>) -> Result<BootParams, DtbError> {
    let size = check_header(dtb_paddr)?;
    if dtb_size.is_some_and(|given| given < u64::from(size)) {
        return Err(DtbError::Malformed(
            "dtb_size is smaller than the blob's header says",
        ));
    }
    // SAFETY: `dtb_paddr..dtb_paddr + size` lies inside the window (checked by
    // `check_header`), is RAM holding the device tree QEMU handed over, and nothing writes it
    // while `bytes` lives (the kernel never writes the blob).
    let bytes = unsafe {
        core::slice::from_raw_parts(paddr_to_pptr(dtb_paddr) as *const u8, size as usize)
    };
    let fdt = Fdt::new(bytes).map_err(|e| {
        DtbError::Malformed(match e {
            fdt::FdtError::BadMagic => "bad magic",
            fdt::FdtError::BadPtr => "bad pointer",
            fdt::FdtError::BufferTooSmall => "buffer too small",
        })
    })?;

    let mut params = BootParams {
        dtb: Region::new(dtb_paddr, dtb_paddr + dtb_size.unwrap_or(u64::from(size))),
        ..BootParams::default()
    };
    let (kstart, kend) = super::boot::kernel_image_paddr();
    params.kernel_image = Region::new(kstart, kend);
    // No boot-only region on aarch64 yet: `kernel_boot` stays empty.
    params.irq_node = super::boot::irq_node();
    read_memory(&fdt, &mut params)?;
    read_gic(&fdt, &mut params)?;

    let chosen = find_path(&fdt, "/chosen");
    if let Some(args) = chosen
        .and_then(|c| c.property("bootargs"))
        .and_then(|p| p.as_str())
    {
        if let Some(l) = crate::log::apply_bootargs(args) {
            crate::kinfo!("log level {:?} (bootargs)", l);
        }
    }
    params.platform.uart = read_console(&fdt, chosen)?;
    if let Some((base, _)) = params.platform.uart {
        super::set_uart(base);
    }
    if dtb_size.is_none() {
        params.initrd = read_initrd(chosen)?;
    }
    params.platform.timer_frequency = read_timer_frequency(&fdt);
    params.platform.psci = match find_path(&fdt, "/psci")
        .and_then(|n| n.property("method"))
        .and_then(|p| p.as_str())
    {
        Some("smc") => PsciConduit::Smc,
        _ => PsciConduit::Hvc,
    };
    Ok(params)
}

/// Checks the blob's address, magic and size; returns its size.
fn check_header(dtb_paddr: u64) -> Result<u32, DtbError> {
    if dtb_paddr == 0
        || !dtb_paddr.is_multiple_of(4)
        || dtb_paddr >= PADDR_TOP - u64::from(MAX_DTB_SIZE)
    {
        return Err(DtbError::BadAddress(dtb_paddr));
    }
    let magic = read_be_u32(dtb_paddr);
    if magic != DTB_MAGIC {
        return Err(DtbError::BadMagic {
            paddr: dtb_paddr,
            found: magic,
        });
    }
    let size = read_be_u32(dtb_paddr + 4);
    if !(DTB_HEADER_SIZE..=MAX_DTB_SIZE).contains(&size) {
        return Err(DtbError::BadSize(size));
    }
    Ok(size)
}

/// RAM (`/memory` nodes) and reserved memory (`/reserved-memory` children, `/memreserve/`).
fn read_memory(fdt: &Fdt<'_>, params: &mut BootParams) -> Result<(), DtbError> {
    let root = find_path(fdt, "/").ok_or(DtbError::Malformed("no root node"))?;
    for node in root.children() {
        let is_memory = node.name == "memory"
            || node.name.starts_with("memory@")
            || node.property("device_type").and_then(|p| p.as_str()) == Some("memory");
        if !is_memory || !is_enabled(node) {
            continue;
        }
        for_each_reg(node, "/memory", |r| {
            let r = Region::new(r.start, r.end.min(PADDR_TOP));
            params
                .ram
                .push(r)
                .map_err(|_| DtbError::TooManyRegions("RAM"))
        })?;
    }
    if params.ram.as_slice().is_empty() {
        return Err(DtbError::NoMemory);
    }
    if let Some(resv) = find_path(fdt, "/reserved-memory") {
        for node in resv.children() {
            for_each_reg(node, "/reserved-memory", |r| {
                params
                    .reserved
                    .push(r)
                    .map_err(|_| DtbError::TooManyRegions("reserved"))
            })?;
        }
    }
    for m in fdt.memory_reservations() {
        let start = m.address() as u64;
        let end = start
            .checked_add(m.size() as u64)
            .ok_or(DtbError::BadReg("/memreserve/"))?;
        params
            .reserved
            .push(Region::new(start, end))
            .map_err(|_| DtbError::TooManyRegions("reserved"))?;
    }
    Ok(())
}

/// The first GICv2: its first two regions, the distributor and the CPU interface, are
/// kernel devices, one 4 KiB page each (seL4's `kernel_device_frames` for `qemu-arm-virt`
/// map the first page of each; the rest of the GIC's space stays device untyped, as there).
fn read_gic(fdt: &Fdt<'_>, params: &mut BootParams) -> Result<(), DtbError> {
    let node = fdt
        .all_nodes()
        .find(|n| has_compatible(*n, GIC_COMPATIBLE) && is_enabled(*n))
        .ok_or(DtbError::NoGic)?;
    let mut regs = [0u64; 2];
    let mut n = 0;
    for_each_reg(node, "the GIC", |r| {
        if n < 2 {
            regs[n] = r.start;
        }
        n += 1;
        Ok(())
    })?;
    if n < 2 {
        return Err(DtbError::BadReg("the GIC"));
    }
    for base in regs {
        push_device(params, Region::new(base, base + 1))?;
    }
    params.platform.gic = Some(Gic {
        distributor: regs[0],
        cpu_interface: regs[1],
    });
    Ok(())
}

/// The console UART: the PL011 named by `/chosen` `stdout-path`, else the first one; its base
/// and interrupt number (GIC INTID: an SPI's number + 32).
fn read_console(
    fdt: &Fdt<'_>,
    chosen: Option<FdtNode<'_, '_>>,
) -> Result<Option<(u64, u32)>, DtbError> {
    let uart_node = chosen
        .and_then(|c| c.property("stdout-path"))
        .and_then(|p| p.as_str())
        .and_then(|path| find_path(fdt, path.split(':').next().unwrap_or(path)))
        .filter(|n| has_compatible(*n, UART_COMPATIBLE))
        .or_else(|| fdt.find_compatible(UART_COMPATIBLE));
    let Some(uart) = uart_node else {
        return Ok(None);
    };
    let mut base = None;
    for_each_reg(uart, "the UART", |r| {
        base.get_or_insert(r.start);
        Ok(())
    })?;
    // `interrupts = <type number flags>`: type 0 is an SPI (INTID 32 + number), 1 a PPI
    // (16 + number).
    let irq = uart.property("interrupts").and_then(|p| {
        let cell = |i: usize| p.value.get(4 * i..4 * i + 4).and_then(be_uint);
        Some(match cell(0)? {
            0 => 32 + cell(1)?,
            _ => 16 + cell(1)?,
        })
    });
    Ok(base.map(|b| (b, irq.unwrap_or(0) as u32)))
}

/// The root task's image: `/chosen` `linux,initrd-start`..`linux,initrd-end`.
fn read_initrd(chosen: Option<FdtNode<'_, '_>>) -> Result<Region, DtbError> {
    let initrd_prop = |name| {
        chosen
            .and_then(|c| c.property(name))
            .and_then(|p| be_uint(p.value))
    };
    let (start, end) = match (
        initrd_prop("linux,initrd-start"),
        initrd_prop("linux,initrd-end"),
    ) {
        (Some(s), Some(e)) => (s, e),
        _ => return Err(DtbError::NoInitrd),
    };
    if end <= start || end > PADDR_TOP {
        return Err(DtbError::BadInitrd { start, end });
    }
    Ok(Region::new(start, end))
}

/// The generic timer's frequency: the timer node's `clock-frequency`, else CNTFRQ_EL0.
fn read_timer_frequency(fdt: &Fdt<'_>) -> u64 {
    fdt.find_compatible(TIMER_COMPATIBLE)
        .and_then(|n| n.property("clock-frequency"))
        .and_then(|p| be_uint(p.value))
        .unwrap_or_else(|| {
            let f: u64;
            // SAFETY: reading CNTFRQ_EL0 has no side effect.
            unsafe { core::arch::asm!("mrs {0}, cntfrq_el0", out(reg) f, options(nomem, nostack)) };
            f
        })
}

/// A big-endian 32- or 64-bit property value.
fn be_uint(v: &[u8]) -> Option<u64> {
    match v.len() {
        4 => Some(u64::from(u32::from_be_bytes(v.try_into().ok()?))),
        8 => Some(u64::from_be_bytes(v.try_into().ok()?)),
        _ => None,
    }
}

/// Whether `node`'s `status` (if any) says it is usable.
fn is_enabled(node: FdtNode<'_, '_>) -> bool {
    match node.property("status").and_then(|p| p.as_str()) {
        None => true,
        Some(s) => s == "okay" || s == "ok",
    }
}

/// Whether one of `node`'s `compatible` strings is in `list`.
fn has_compatible(node: FdtNode<'_, '_>, list: &[&str]) -> bool {
    node.compatible()
        .is_some_and(|c| c.all().any(|s| list.contains(&s)))
}

/// Calls `f` with each `[start, end)` of `node`'s `reg` (none if it has no `reg`).
fn for_each_reg(
    node: FdtNode<'_, '_>,
    what: &'static str,
    mut f: impl FnMut(Region) -> Result<(), DtbError>,
) -> Result<(), DtbError> {
    if node.property("reg").is_none() {
        return Ok(());
    }
    let regs = node.reg().ok_or(DtbError::BadReg(what))?;
    for r in regs {
        let start = r.starting_address as u64;
        let size = r.size.unwrap_or(0) as u64;
        let end = start.checked_add(size).ok_or(DtbError::BadReg(what))?;
        f(Region::new(start, end))?;
    }
    Ok(())
}

/// Adds a kernel-only device region, rounded out to whole 4 KiB pages.
fn push_device(params: &mut BootParams, r: Region) -> Result<(), DtbError> {
    const PAGE_MASK: u64 = 0xfff;
    let r = Region::new(
        r.start & !PAGE_MASK,
        r.end.saturating_add(PAGE_MASK) & !PAGE_MASK,
    );
    params
        .kernel_devices
        .push(r)
        .map_err(|_| DtbError::TooManyRegions("kernel device"))
}
