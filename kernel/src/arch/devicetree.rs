//! The device-tree reader's part that is the same on every architecture (target only: the
//! `fdt` crate is a dependency of the machine builds): the header checks, RAM (`/memory`),
//! reserved memory (`/reserved-memory`, `/memreserve/`), the kernel command line (`/chosen`
//! `bootargs`), the console UART named by `/chosen` `stdout-path`, the root task as the
//! initrd (`/chosen` `linux,initrd-start`/`linux,initrd-end`), and the helpers for `reg`,
//! `status` and `compatible`. Each architecture's `machine/devicetree.rs` reads the blob's
//! bytes (the `unsafe` part) and adds its devices through the hooks of [`Machine`]: the
//! interrupt controller and timers, the UART's compatible strings and interrupt cells, and
//! what comes after the initrd (clock frequencies, how to power off).
//!
//! Missing or malformed input is a [`DtbError`], never a hang. The `fdt` crate itself panics
//! on some structurally broken blobs; the kernel's panic handler then reports and halts.
#![forbid(unsafe_code)]

use fdt::node::FdtNode;
use fdt::Fdt;

use crate::arch::PADDR_TOP;
use crate::boot::{BootParams, Region};

/// Largest device tree the kernel accepts.
pub const MAX_DTB_SIZE: u32 = 16 << 20;
/// Size of the flattened device tree header.
const DTB_HEADER_SIZE: u32 = 40;
/// The DTB magic number (big-endian in memory).
const DTB_MAGIC: u32 = 0xd00d_feed;

/// Why the device tree could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DtbError {
    /// The firmware or loader passed no device tree address (0), or one outside the kernel
    /// window.
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
    /// The loader's `dtb_size` is smaller than the blob's own `totalsize`.
    SizeMismatch {
        /// `dtb_size` from the loader.
        given: u64,
        /// The header's `totalsize`.
        header: u32,
    },
    /// The initrd's bounds are inverted or outside the window.
    BadInitrd {
        /// `linux,initrd-start`.
        start: u64,
        /// `linux,initrd-end`.
        end: u64,
    },
    /// Something the architecture needs is not there (riscv64: `timebase-frequency in
    /// /cpus`; aarch64: its interrupt controller).
    Missing(&'static str),
}

impl DtbError {
    /// Prints why the device tree could not be used, as one `[kernel ERROR]` line. (A method,
    /// not `Display`: formatting through a trait object would take this code's address, and
    /// boot-only code must not be reachable through a pointer; this module is boot-only.)
    pub fn report(&self) {
        match *self {
            DtbError::BadAddress(p) => crate::kerror!("device tree: unusable address {p:#x} from the firmware"),
            DtbError::BadMagic { paddr, found } => {
                crate::kerror!("device tree: no DTB magic at {paddr:#x} (found {found:#010x})")
            }
            DtbError::BadSize(s) => crate::kerror!("device tree: implausible totalsize {s:#x}"),
            DtbError::Malformed(why) => crate::kerror!("device tree: malformed blob ({why})"),
            DtbError::NoMemory => crate::kerror!("device tree: no /memory node with RAM"),
            DtbError::TooManyRegions(what) => crate::kerror!("device tree: too many {what} regions"),
            DtbError::BadReg(node) => crate::kerror!("device tree: bad reg property in {node}"),
            DtbError::SizeMismatch { given, header } => crate::kerror!("device tree: the loader's dtb_size {given:#x} is smaller than the blob's totalsize {header:#x}"
            ),
            DtbError::NoInitrd => crate::kerror!("no initrd: /chosen has no linux,initrd-start/end (boot QEMU with -initrd ROOTTASK.elf)"
            ),
            DtbError::BadInitrd { start, end } => {
                crate::kerror!("device tree: unusable initrd bounds {start:#x}..{end:#x}")
            }
            DtbError::Missing(what) => crate::kerror!("device tree: no {what}"),
        }
    }
}

/// Checks the blob's address, magic and size, reading its header's big-endian words with
/// `read_be_u32` (physical address; called only for addresses inside the window); returns
/// its size. With `dtb_size` (a loader's hand-off) that size must hold the whole blob.
pub fn check_header(
    dtb_paddr: u64,
    dtb_size: Option<u64>,
    read_be_u32: impl Fn(u64) -> u32,
) -> Result<u32, DtbError> {
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
    if let Some(given) = dtb_size {
        if given < u64::from(size) {
            return Err(DtbError::SizeMismatch {
                given,
                header: size,
            });
        }
    }
    Ok(size)
}

/// What an architecture's reader adds to the shared one.
pub trait Machine {
    /// The `compatible` strings of the console UART.
    const UART_COMPATIBLE: &'static [&'static str];
    /// The kernel's devices (`params.kernel_devices`) and the platform's interrupt controller
    /// and the like (`params.platform`), read after the memory.
    fn read_devices(fdt: &Fdt<'_>, params: &mut BootParams) -> Result<(), DtbError>;
    /// The interrupt number of the console UART `node` (from its `interrupts` cells), if any.
    fn uart_irq(node: FdtNode<'_, '_>) -> Option<u64>;
    /// Called once the console is known (`params.platform.uart`), before the initrd is read.
    fn console_found(_params: &BootParams) {}
    /// The rest of the platform, read after the initrd (clock frequencies, power-off).
    fn read_rest(fdt: &Fdt<'_>, params: &mut BootParams) -> Result<(), DtbError>;
}

/// Parses the blob `bytes` (its header checked by [`check_header`]), at physical
/// `dtb_paddr`, into `params` (whose kernel image, boot-only part and IRQ node the caller
/// filled in): the device tree's region (`dtb_size` bytes if a loader passed them, else the
/// blob's own size), RAM and reserved memory, `M`'s devices, `loglevel=` from the command
/// line, the console, in a firmware boot (`dtb_size` is `None`) the initrd, and the rest of
/// `M`'s platform, in this order.
pub fn parse<M: Machine>(
    bytes: &[u8],
    dtb_paddr: u64,
    dtb_size: Option<u64>,
    mut params: BootParams,
) -> Result<BootParams, DtbError> {
    let fdt = Fdt::new(bytes).map_err(|e| {
        DtbError::Malformed(match e {
            fdt::FdtError::BadMagic => "bad magic",
            fdt::FdtError::BadPtr => "bad pointer",
            fdt::FdtError::BufferTooSmall => "buffer too small",
        })
    })?;
    params.dtb = Region::new(
        dtb_paddr,
        dtb_paddr + dtb_size.unwrap_or(bytes.len() as u64),
    );
    read_memory(&fdt, &mut params)?;
    M::read_devices(&fdt, &mut params)?;

    let chosen = crate::arch::fdt_path::find_path(&fdt, "/chosen");
    // `loglevel=<level>` on the kernel command line (QEMU `-append`) lowers the log level.
    if let Some(args) = chosen
        .and_then(|c| c.property("bootargs"))
        .and_then(|p| p.as_str())
    {
        if let Some(l) = crate::log::apply_bootargs(args) {
            crate::kinfo!("log level {:?} (bootargs)", l);
        }
    }
    params.platform.uart = read_console::<M>(&fdt, chosen)?;
    M::console_found(&params);
    if dtb_size.is_none() {
        params.initrd = read_initrd(chosen)?;
    }
    M::read_rest(&fdt, &mut params)?;
    Ok(params)
}

/// RAM (`/memory` nodes: the `reg` of every root child named `memory`/`memory@...` or with
/// `device_type = "memory"`, clipped to the kernel window) and reserved memory
/// (`/reserved-memory` children, `/memreserve/`).
fn read_memory(fdt: &Fdt<'_>, params: &mut BootParams) -> Result<(), DtbError> {
    let root =
        crate::arch::fdt_path::find_path(fdt, "/").ok_or(DtbError::Malformed("no root node"))?;
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

    if let Some(resv) = crate::arch::fdt_path::find_path(fdt, "/reserved-memory") {
        for node in resv.children() {
            // Children without `reg` (dynamically placed pools) reserve nothing yet.
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

/// The console UART: the one of `M::UART_COMPATIBLE` named by `/chosen` `stdout-path`, else
/// the first one; its base and interrupt number.
fn read_console<M: Machine>(
    fdt: &Fdt<'_>,
    chosen: Option<FdtNode<'_, '_>>,
) -> Result<Option<(u64, u32)>, DtbError> {
    let uart_node = chosen
        .and_then(|c| c.property("stdout-path"))
        .and_then(|p| p.as_str())
        .and_then(|path| {
            crate::arch::fdt_path::find_path(fdt, path.split(':').next().unwrap_or(path))
        })
        .filter(|n| has_compatible(*n, M::UART_COMPATIBLE))
        .or_else(|| fdt.find_compatible(M::UART_COMPATIBLE));
    let Some(uart) = uart_node else {
        return Ok(None);
    };
    let mut base = None;
    for_each_reg(uart, "the UART", |r| {
        base.get_or_insert(r.start);
        Ok(())
    })?;
    let irq = M::uart_irq(uart).unwrap_or(0);
    Ok(base.map(|b| (b, irq as u32)))
}

/// The root task's image: `/chosen` `linux,initrd-start`..`linux,initrd-end` (32- or 64-bit
/// values).
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

/// A big-endian 32- or 64-bit property value.
pub fn be_uint(v: &[u8]) -> Option<u64> {
    match v.len() {
        4 => Some(u64::from(u32::from_be_bytes(v.try_into().ok()?))),
        8 => Some(u64::from_be_bytes(v.try_into().ok()?)),
        _ => None,
    }
}

/// Whether `node`'s `status` (if any) says it is usable.
pub fn is_enabled(node: FdtNode<'_, '_>) -> bool {
    match node.property("status").and_then(|p| p.as_str()) {
        None => true,
        Some(s) => s == "okay" || s == "ok",
    }
}

/// Whether one of `node`'s `compatible` strings is in `list`.
pub fn has_compatible(node: FdtNode<'_, '_>, list: &[&str]) -> bool {
    node.compatible()
        .is_some_and(|c| c.all().any(|s| list.contains(&s)))
}

/// Calls `f` with each `[start, end)` of `node`'s `reg` (none if it has no `reg`).
pub fn for_each_reg(
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
pub fn push_device(params: &mut BootParams, r: Region) -> Result<(), DtbError> {
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
