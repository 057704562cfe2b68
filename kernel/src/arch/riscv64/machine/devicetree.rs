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
//! What is the same on every architecture (the header, RAM, reserved memory, `/chosen`) is
//! [`crate::arch::devicetree`]; this module reads the blob and adds riscv64's devices through
//! its hooks. Missing or malformed input is a [`DtbError`], never a hang.

use fdt::node::FdtNode;
use fdt::Fdt;

use super::super::platform::Plic;
use super::paddr_to_pptr;
use crate::arch::devicetree::{
    self as dt, be_uint, for_each_reg, has_compatible, is_enabled, push_device, DtbError,
};
use crate::boot::{BootParams, Region};

const PLIC_COMPATIBLE: &[&str] = &["riscv,plic0", "sifive,plic-1.0.0"];
const CLINT_COMPATIBLE: &[&str] = &[
    "riscv,clint0",
    "sifive,clint0",
    "riscv,aclint-mswi",
    "riscv,aclint-mtimer",
    "riscv,aclint-sswi",
];
const FINISHER_COMPATIBLE: &[&str] = &["sifive,test0", "sifive,test1"];

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
    let size = dt::check_header(dtb_paddr, dtb_size, read_be_u32)?;
    // SAFETY: `dtb_paddr..dtb_paddr + size` lies inside the window (checked by `check_header`:
    // size is at most MAX_DTB_SIZE), is RAM holding the device tree that the firmware handed
    // over, and nothing writes it while `bytes` lives (only during this function; the kernel
    // never writes the blob).
    let bytes = unsafe {
        core::slice::from_raw_parts(paddr_to_pptr(dtb_paddr) as *const u8, size as usize)
    };
    let (kstart, kend) = super::boot::kernel_image_paddr();
    let (bstart, bend) = super::boot::kernel_boot_paddr();
    let params = BootParams {
        kernel_image: Region::new(kstart, kend),
        kernel_boot: Region::new(bstart, bend),
        irq_node: super::boot::irq_node(),
        ..BootParams::default()
    };
    dt::parse::<Riscv64>(bytes, dtb_paddr, dtb_size, params)
}

/// riscv64's hooks of the shared reader.
struct Riscv64;

impl dt::Machine for Riscv64 {
    const UART_COMPATIBLE: &'static [&'static str] = &["ns16550a"];

    fn read_devices(fdt: &Fdt<'_>, params: &mut BootParams) -> Result<(), DtbError> {
        read_devices(fdt, params)
    }

    /// The first cell of `interrupts`.
    fn uart_irq(node: FdtNode<'_, '_>) -> Option<u64> {
        node.property("interrupts")
            .and_then(|p| p.value.get(..4))
            .and_then(be_uint)
    }

    fn read_rest(fdt: &Fdt<'_>, params: &mut BootParams) -> Result<(), DtbError> {
        params.platform.timebase_frequency = read_timebase(fdt)?;
        Ok(())
    }
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
    if let Some(list) = crate::arch::fdt_path::find_path(fdt, "/chosen")
        .and_then(|c| c.property("seL4,kernel-devices"))
    {
        for path in list.value.split(|&b| b == 0) {
            let Some(node) = core::str::from_utf8(path)
                .ok()
                .filter(|p| !p.is_empty())
                .and_then(|p| crate::arch::fdt_path::find_path(fdt, p))
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

/// `/cpus` `timebase-frequency`, or the first CPU's.
fn read_timebase(fdt: &Fdt<'_>) -> Result<u64, DtbError> {
    let cpus = crate::arch::fdt_path::find_path(fdt, "/cpus")
        .ok_or(DtbError::Missing("timebase-frequency in /cpus"))?;
    let timebase = cpus.property("timebase-frequency").or_else(|| {
        cpus.children()
            .filter(|c| c.name.split('@').next() == Some("cpu"))
            .find_map(|c| c.property("timebase-frequency"))
    });
    timebase
        .and_then(|p| be_uint(p.value))
        .ok_or(DtbError::Missing("timebase-frequency in /cpus"))
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
