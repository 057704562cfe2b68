//! The device tree blob (DTB) that the firmware passes in `a1` (or a loader in `a4`/`a5`),
//! parsed into [`BootParams`] (memory and, in a firmware boot, the root task) and its
//! [`Platform`](super::super::platform::Platform) (the devices the machine layer drives) with
//! the `fdt` crate.
//!
//! What is read:
//! - RAM: the `reg` of every root child named `memory`/`memory@...` or with
//!   `device_type = "memory"` (clipped to the kernel window, [`PADDR_TOP`]);
//! - reserved: the `reg` of every `/reserved-memory` child (OpenSBI puts its own firmware there)
//!   and every `/memreserve/` entry;
//! - kernel devices: the `reg` of every PLIC (`riscv,plic0`, `sifive,plic-1.0.0`) and CLINT /
//!   ACLINT (`riscv,clint0`, `sifive,clint0`, `riscv,aclint-*`), rounded out to 4 KiB pages;
//!   the first PLIC's base and `riscv,ndev`; and every node `/chosen` `seL4,kernel-devices`
//!   names (seL4's build lists its kernel devices there);
//! - the root task (firmware boot only): `/chosen` `linux,initrd-start`/`linux,initrd-end`
//!   (32- or 64-bit values);
//! - the console UART: the `ns16550a` named by `/chosen` `stdout-path`, else the first one;
//! - the kernel command line: `/chosen` `bootargs`, for `loglevel=` ([`crate::log`]);
//! - `/cpus` `timebase-frequency` (or the first CPU's);
//! - the `sifive,test0` finisher, which [`super::halt`] uses.
//!
//! The kernel image's extent and its boot-only part come from the linker
//! ([`super::boot::kernel_image_paddr`], [`super::boot::kernel_boot_paddr`]).
//! Missing or malformed input is a [`DtbError`], never a hang. The `fdt` crate itself panics on
//! some structurally broken blobs; the kernel's panic handler then reports and halts.

use fdt::node::FdtNode;
use fdt::Fdt;

use super::super::platform::Plic;
use super::{paddr_to_pptr, PADDR_TOP};
use crate::boot::{BootParams, Region};

/// Largest device tree the kernel accepts.
const MAX_DTB_SIZE: u32 = 16 << 20;
/// Size of the flattened device tree header.
const DTB_HEADER_SIZE: u32 = 40;
/// The DTB magic number (big-endian in memory).
const DTB_MAGIC: u32 = 0xd00d_feed;

const PLIC_COMPATIBLE: &[&str] = &["riscv,plic0", "sifive,plic-1.0.0"];
const CLINT_COMPATIBLE: &[&str] = &[
    "riscv,clint0",
    "sifive,clint0",
    "riscv,aclint-mswi",
    "riscv,aclint-mtimer",
    "riscv,aclint-sswi",
];
const UART_COMPATIBLE: &[&str] = &["ns16550a"];
const FINISHER_COMPATIBLE: &[&str] = &["sifive,test0", "sifive,test1"];

/// Why the device tree could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DtbError {
    /// The firmware passed no device tree address (0), or one outside the kernel window.
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
    /// No `timebase-frequency` in `/cpus`.
    NoTimebase,
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
            DtbError::NoTimebase => crate::kerror!("device tree: no timebase-frequency in /cpus"),
        }
    }
}

/// Reads a big-endian 32-bit word at physical `paddr` (inside the window).
fn read_be_u32(paddr: u64) -> u32 {
    let p = paddr_to_pptr(paddr) as *const [u8; 4];
    // SAFETY: the caller checked that `paddr..paddr + 4` lies inside the window; a byte array has
    // no alignment requirement, and the firmware left the device tree in RAM.
    u32::from_be_bytes(unsafe { p.read_volatile() })
}

/// Parses the device tree at physical `dtb_paddr` into the boot parameters, and records where the
/// `sifive_test` finisher is. `dtb_size` is the size a loader passed (seL4's boot protocol; the
/// kernel then keeps that many bytes as the device tree), `None` in a firmware boot (the blob's
/// own `totalsize`; the initrd is then read from `/chosen`, and required).
pub fn parse(dtb_paddr: u64, dtb_size: Option<u64>) -> Result<BootParams, DtbError> {
    let size = check_header(dtb_paddr)?;
    if let Some(given) = dtb_size {
        if given < u64::from(size) {
            return Err(DtbError::SizeMismatch {
                given,
                header: size,
            });
        }
    }
    // SAFETY: `dtb_paddr..dtb_paddr + size` lies inside the window (checked by `check_header`:
    // size is at most MAX_DTB_SIZE), is RAM holding the device tree that the firmware handed
    // over, and nothing writes it while `bytes` lives (only during this function; the kernel
    // never writes the blob).
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
    let (bstart, bend) = super::boot::kernel_boot_paddr();
    params.kernel_boot = Region::new(bstart, bend);
    params.irq_node = super::boot::irq_node();
    read_memory(&fdt, &mut params)?;
    read_devices(&fdt, &mut params)?;

    let chosen = fdt.find_node("/chosen");
    // `loglevel=<level>` on the kernel command line (QEMU `-append`) lowers the log level.
    if let Some(args) = chosen
        .and_then(|c| c.property("bootargs"))
        .and_then(|p| p.as_str())
    {
        if let Some(l) = crate::log::apply_bootargs(args) {
            crate::kinfo!("log level {:?} (bootargs)", l);
        }
    }
    params.platform.uart = read_console(&fdt, chosen)?;
    if dtb_size.is_none() {
        params.initrd = read_initrd(chosen)?;
    }
    params.platform.timebase_frequency = read_timebase(&fdt)?;
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
    let root = fdt
        .find_node("/")
        .ok_or(DtbError::Malformed("no root node"))?;
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

    if let Some(resv) = fdt.find_node("/reserved-memory") {
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

/// The kernel's devices: every PLIC and CLINT (kernel devices; the first PLIC is the
/// platform's interrupt controller) and the `sifive_test` finisher (recorded for
/// [`super::halt`]).
fn read_devices(fdt: &Fdt<'_>, params: &mut BootParams) -> Result<(), DtbError> {
    let mut finisher = 0;
    for node in fdt.all_nodes() {
        if has_compatible(node, PLIC_COMPATIBLE) && is_enabled(node) {
            let mut first = None;
            for_each_reg(node, "the PLIC", |r| {
                first.get_or_insert(r.start);
                push_device(params, r)
            })?;
            if params.platform.plic.is_none() {
                let ndev = node
                    .property("riscv,ndev")
                    .and_then(|p| be_uint(p.value))
                    .unwrap_or(0) as u32;
                params.platform.plic = first.map(|base| Plic { base, ndev });
            }
        } else if has_compatible(node, CLINT_COMPATIBLE) && is_enabled(node) {
            for_each_reg(node, "the CLINT", |r| push_device(params, r))?;
        } else if has_compatible(node, FINISHER_COMPATIBLE) && finisher == 0 {
            for_each_reg(node, "the test device", |r| {
                if finisher == 0 {
                    finisher = r.start;
                }
                Ok(())
            })?;
        }
    }
    super::set_finisher(finisher);
    // seL4's build names its kernel devices in `/chosen` `seL4,kernel-devices` (a list of node
    // paths) in the device tree its elfloader passes, whatever their compatible strings.
    if let Some(list) = fdt
        .find_node("/chosen")
        .and_then(|c| c.property("seL4,kernel-devices"))
    {
        for path in list.value.split(|&b| b == 0) {
            let Some(node) = core::str::from_utf8(path)
                .ok()
                .filter(|p| !p.is_empty())
                .and_then(|p| fdt.find_node(p))
            else {
                continue;
            };
            for_each_reg(node, "a seL4,kernel-devices node", |r| {
                push_device(params, r)
            })?;
        }
    }
    params.kernel_devices.coalesce();
    Ok(())
}

/// The console UART: the `ns16550a` named by `/chosen` `stdout-path`, else the first one; its
/// base and interrupt number.
fn read_console(
    fdt: &Fdt<'_>,
    chosen: Option<FdtNode<'_, '_>>,
) -> Result<Option<(u64, u32)>, DtbError> {
    let uart_node = chosen
        .and_then(|c| c.property("stdout-path"))
        .and_then(|p| p.as_str())
        .and_then(|path| fdt.find_node(path.split(':').next().unwrap_or(path)))
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
    let irq = uart
        .property("interrupts")
        .and_then(|p| p.value.get(..4))
        .and_then(be_uint)
        .unwrap_or(0);
    Ok(base.map(|b| (b, irq as u32)))
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

/// `/cpus` `timebase-frequency`, or the first CPU's.
fn read_timebase(fdt: &Fdt<'_>) -> Result<u64, DtbError> {
    let cpus = fdt.find_node("/cpus").ok_or(DtbError::NoTimebase)?;
    let timebase = cpus.property("timebase-frequency").or_else(|| {
        cpus.children()
            .filter(|c| c.name.split('@').next() == Some("cpu"))
            .find_map(|c| c.property("timebase-frequency"))
    });
    timebase
        .and_then(|p| be_uint(p.value))
        .ok_or(DtbError::NoTimebase)
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

/// The boot parameters of the platform compiled into the kernel (QEMU `virt`, 2 GiB:
/// [`super::super::platform::qemu_virt`]), for a loader that passes no device tree, and records
/// where the `sifive_test` finisher is. seL4 likewise knows its platform from its build.
#[cfg(feature = "builtin_platform")]
pub fn builtin_params() -> BootParams {
    use super::super::platform::qemu_virt;
    let (kstart, kend) = super::boot::kernel_image_paddr();
    let (bstart, bend) = super::boot::kernel_boot_paddr();
    super::set_finisher(qemu_virt::FINISHER);
    qemu_virt::boot_params(
        Region::new(kstart, kend),
        Region::new(bstart, bend),
        super::boot::irq_node(),
    )
}
