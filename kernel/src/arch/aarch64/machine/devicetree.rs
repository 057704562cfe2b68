//! The device tree blob QEMU passes in x0 (or a loader in x4/x5), parsed into [`BootParams`]
//! (memory and, in a firmware boot, the root task) and its
//! [`Platform`](super::super::platform::Platform) (the devices the machine layer drives) with
//! the `fdt` crate.
//!
//! What is read:
//! - RAM: the `reg` of every root child named `memory`/`memory@...` or with
//!   `device_type = "memory"` (clipped to the kernel window, [`crate::arch::PADDR_TOP`]);
//! - reserved: the `reg` of every `/reserved-memory` child and every `/memreserve/` entry;
//! - kernel devices: the first page of the first two `reg` regions of the first GICv2
//!   (`arm,cortex-a15-gic`, `arm,gic-400`, `arm,cortex-a9-gic`: distributor and CPU
//!   interface), as seL4's `kernel_device_frames` for `qemu-arm-virt` make them (the PL011 the
//!   kernel prints to stays available to user level as a device untyped, as on seL4);
//! - the root task (firmware boot only): `/chosen` `linux,initrd-start`/`linux,initrd-end`;
//! - the console: the PL011 (`arm,pl011`) named by `/chosen` `stdout-path`, else the first one;
//! - the kernel command line: `/chosen` `bootargs`, for `loglevel=` ([`crate::log`]);
//! - the generic timer's frequency: the `/timer` node's `clock-frequency` if any, else
//!   CNTFRQ_EL0;
//! - how to call PSCI: `/psci` `method` (`hvc` or `smc`).
//!
//! The kernel image's extent and its boot-only part come from the linker
//! ([`super::boot::kernel_image_paddr`], [`super::boot::kernel_boot_paddr`]). What is the
//! same on every architecture (the header, RAM, reserved memory, `/chosen`) is
//! [`crate::arch::devicetree`]; this module reads the blob and adds Arm's devices through its
//! hooks. Missing or malformed input is a [`DtbError`], never a hang.

use fdt::node::FdtNode;
use fdt::Fdt;

use super::super::platform::{Gic, PsciConduit};
use super::paddr_to_pptr;
use crate::arch::devicetree::{
    self as dt, be_uint, for_each_reg, has_compatible, is_enabled, push_device, DtbError,
};
use crate::boot::{BootParams, Region};

const GIC_COMPATIBLE: &[&str] = &["arm,cortex-a15-gic", "arm,gic-400", "arm,cortex-a9-gic"];
const TIMER_COMPATIBLE: &[&str] = &["arm,armv8-timer", "arm,armv7-timer"];

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
    let size = dt::check_header(dtb_paddr, dtb_size, read_be_u32)?;
    // SAFETY: `dtb_paddr..dtb_paddr + size` lies inside the window (checked by
    // `check_header`), is RAM holding the device tree QEMU handed over, and nothing writes it
    // while `bytes` lives (the kernel never writes the blob).
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
    dt::parse::<Aarch64>(bytes, dtb_paddr, dtb_size, params)
}

/// aarch64's hooks of the shared reader.
struct Aarch64;

impl dt::Machine for Aarch64 {
    const UART_COMPATIBLE: &'static [&'static str] = &["arm,pl011"];

    fn read_devices(fdt: &Fdt<'_>, params: &mut BootParams) -> Result<(), DtbError> {
        read_gic(fdt, params)
    }

    /// `interrupts = <type number flags>`: type 0 is an SPI (GIC INTID 32 + number), 1 a PPI
    /// (16 + number).
    fn uart_irq(node: FdtNode<'_, '_>) -> Option<u64> {
        let p = node.property("interrupts")?;
        let cell = |i: usize| p.value.get(4 * i..4 * i + 4).and_then(be_uint);
        Some(match cell(0)? {
            0 => 32 + cell(1)?,
            _ => 16 + cell(1)?,
        })
    }

    /// The console prints to the PL011 from here on.
    fn console_found(params: &BootParams) {
        if let Some((base, _)) = params.platform.uart {
            super::set_uart(base);
        }
    }

    fn read_rest(fdt: &Fdt<'_>, params: &mut BootParams) -> Result<(), DtbError> {
        params.platform.timer_frequency = read_timer_frequency(fdt);
        params.platform.psci = match crate::arch::fdt_path::find_path(fdt, "/psci")
            .and_then(|n| n.property("method"))
            .and_then(|p| p.as_str())
        {
            Some("smc") => PsciConduit::Smc,
            _ => PsciConduit::Hvc,
        };
        Ok(())
    }
}

/// The first GICv2: its first two regions, the distributor and the CPU interface, are
/// kernel devices, one 4 KiB page each (seL4's `kernel_device_frames` for `qemu-arm-virt`
/// map the first page of each; the rest of the GIC's space stays device untyped, as there).
fn read_gic(fdt: &Fdt<'_>, params: &mut BootParams) -> Result<(), DtbError> {
    let node = fdt
        .all_nodes()
        .find(|n| has_compatible(*n, GIC_COMPATIBLE) && is_enabled(*n))
        .ok_or(DtbError::Missing("GICv2 interrupt controller"))?;
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

/// The boot parameters of the platform compiled into the kernel (QEMU `virt`, 2 GiB:
/// [`super::super::platform::qemu_virt`]), for a loader that passes no device tree (Microkit's),
/// and points the console at its PL011. seL4 likewise knows its platform from its build. The
/// user image is left for the loader's hand-off to fill in; there is no device tree, and
/// `platform_built_in` is set.
#[cfg(feature = "builtin_platform")]
pub fn builtin_params() -> BootParams {
    use super::super::platform::qemu_virt;
    let (kstart, kend) = super::boot::kernel_image_paddr();
    let (bstart, bend) = super::boot::kernel_boot_paddr();
    super::set_uart(qemu_virt::UART.0);
    let mut p = BootParams {
        kernel_image: Region::new(kstart, kend),
        kernel_boot: Region::new(bstart, bend),
        irq_node: super::boot::irq_node(),
        platform_built_in: true,
        platform: qemu_virt::PLATFORM,
        ..BootParams::default()
    };
    // Capacity: one RAM region and two device pages fit any list.
    let _ = p.ram.push(qemu_virt::RAM);
    for r in qemu_virt::KERNEL_DEVICES {
        let _ = p.kernel_devices.push(r);
    }
    p.kernel_devices.coalesce();
    p
}
