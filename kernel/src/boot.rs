//! Boot: from the machine description the architecture hands over to a running root task.
//!
//! The architecture's entry code parses the device tree into [`BootParams`], then calls
//! [`boot_system`], which creates the root task as seL4 does (`src/kernel/boot.c`,
//! `src/arch/riscv/kernel/boot.c`).

/// A physical memory region `[start, end)`, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Region {
    /// First byte.
    pub start: u64,
    /// First byte after the region.
    pub end: u64,
}

impl Region {
    /// `[start, end)`.
    pub const fn new(start: u64, end: u64) -> Self {
        Region { start, end }
    }
    /// Size in bytes (0 if empty or inverted).
    pub const fn size(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
    /// Whether the region has no bytes.
    pub const fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// Most RAM regions the kernel accepts from the device tree.
pub const MAX_RAM_REGIONS: usize = 16;
/// Most reserved regions (device-tree `reserved-memory`, `/memreserve/`, kernel devices).
pub const MAX_RESERVED_REGIONS: usize = 32;

/// A fixed-capacity list of regions (no heap in the kernel).
#[derive(Clone, Copy, Debug)]
pub struct RegionList<const N: usize> {
    regions: [Region; N],
    len: usize,
}

impl<const N: usize> Default for RegionList<N> {
    fn default() -> Self {
        RegionList { regions: [Region::default(); N], len: 0 }
    }
}

impl<const N: usize> RegionList<N> {
    /// Appends a region; `Err(())` when full. Empty regions are ignored.
    pub fn push(&mut self, r: Region) -> Result<(), ()> {
        if r.is_empty() {
            return Ok(());
        }
        if self.len == N {
            return Err(());
        }
        self.regions[self.len] = r;
        self.len += 1;
        Ok(())
    }
    /// The regions pushed so far.
    pub fn as_slice(&self) -> &[Region] {
        &self.regions[..self.len]
    }
}

/// What the architecture's boot code tells the kernel about the machine. All addresses are
/// physical.
#[derive(Clone, Copy, Debug, Default)]
pub struct BootParams {
    /// RAM from the device tree's `/memory` nodes.
    pub ram: RegionList<MAX_RAM_REGIONS>,
    /// Memory the kernel must not hand out: `reserved-memory` children, `/memreserve/` entries
    /// (e.g. OpenSBI's 0x8000_0000..0x8020_0000).
    pub reserved: RegionList<MAX_RESERVED_REGIONS>,
    /// Device frames only the kernel uses (PLIC, CLINT, ...): excluded from device untypeds.
    pub kernel_devices: RegionList<MAX_RESERVED_REGIONS>,
    /// The kernel image, from its load address to the end of `.bss` (and its boot stack).
    pub kernel_image: Region,
    /// The root task's ELF image (`/chosen` `linux,initrd-start`..`linux,initrd-end`).
    pub initrd: Region,
    /// The device tree blob.
    pub dtb: Region,
    /// PLIC base, if the device tree has one.
    pub plic: Option<u64>,
    /// Number of PLIC interrupt sources (`riscv,ndev`).
    pub plic_ndev: u32,
    /// The console UART (ns16550a) base and its interrupt number, if present.
    pub uart: Option<(u64, u32)>,
    /// Timebase frequency in Hz (`/cpus` `timebase-frequency`).
    pub timebase_frequency: u64,
}

/// Why boot failed. The architecture prints it and halts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootError {
    /// A message for the console.
    Msg(&'static str),
}

/// Creates the root task from `params` and makes it the current thread. Returns its register
/// context, which the architecture restores to enter user mode.
///
/// Errors: [`BootError::Msg`] for missing or unusable boot input (no initrd, bad ELF, not
/// enough memory for the root task's objects).
pub fn boot_system(params: &BootParams) -> Result<*mut crate::arch::ArchContext, BootError> {
    let _ = params;
    Err(BootError::Msg("root task creation is not implemented yet"))
}
