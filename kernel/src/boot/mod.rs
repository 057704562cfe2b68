//! Boot: from what the loader or the firmware hands over to a running root task, in seL4's
//! steps (`src/kernel/boot.c`, `src/arch/riscv/kernel/boot.c` `try_init_kernel`).
//!
//! The kernel is entered in one of two ways (the architecture's entry code tells them apart
//! and fills [`BootParams`] from the device tree):
//! - **seL4's boot protocol**: a loader (seL4_tools' elfloader, rust-sel4's
//!   `sel4-kernel-loader`, ...) has placed the root task's image in memory and passes its
//!   physical extent, the virtual-to-physical offset and entry point, and the device tree
//!   ([`UserImage`], [`BootParams::dtb`]);
//! - **firmware boot** with the root task's ELF file as the initrd: [`load_initrd`] first does
//!   what seL4_tools' elfloader would have done (device tree after the kernel image, the image
//!   after it), so that both ways reach [`create_root_task`] with the same kind of input and,
//!   for the same placement, the same result.
//!
//! [`create_root_task`] then runs seL4's generic steps (free memory and the root task's
//! objects in [`freemem`], root CNode, BootInfo and extra BootInfo, the image's frames made
//! from the loaded image in place, IPC buffer, root TCB, untypeds) and calls the architecture
//! (`crate::arch`) for the root task's address space, the mapping of each frame, the ASID pool
//! and the first registers. The untyped list, the slots and every BootInfo field come out as
//! seL4 16.0.0's for the same input (`reference_tests.rs` holds seL4's own numbers).
#![forbid(unsafe_code)]

pub mod freemem;
mod initrd;
#[cfg(test)]
mod reference_tests;

pub use freemem::{split_untypeds, split_untypeds_to};
pub use initrd::load_initrd;

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
    /// Whether the two regions share a byte.
    pub const fn overlaps(&self, other: &Region) -> bool {
        !self.is_empty() && !other.is_empty() && self.start < other.end && other.start < self.end
    }
}

/// Most RAM regions the kernel accepts from the device tree.
pub const MAX_RAM_REGIONS: usize = 16;
/// Most reserved regions (device-tree `reserved-memory`, `/memreserve/`, kernel devices).
pub const MAX_RESERVED_REGIONS: usize = 32;

/// A [`RegionList`] has no room for another region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegionListFull;

/// A fixed-capacity list of regions (no heap in the kernel).
#[derive(Clone, Copy, Debug)]
pub struct RegionList<const N: usize> {
    regions: [Region; N],
    len: usize,
}

impl<const N: usize> Default for RegionList<N> {
    fn default() -> Self {
        RegionList {
            regions: [Region::default(); N],
            len: 0,
        }
    }
}

impl<const N: usize> RegionList<N> {
    /// Appends a region; `Err(RegionListFull)` when full. Empty regions are ignored.
    pub fn push(&mut self, r: Region) -> Result<(), RegionListFull> {
        if r.is_empty() {
            return Ok(());
        }
        if self.len == N {
            return Err(RegionListFull);
        }
        self.regions[self.len] = r;
        self.len += 1;
        Ok(())
    }
    /// The regions pushed so far.
    pub fn as_slice(&self) -> &[Region] {
        &self.regions[..self.len]
    }
    /// Removes `r` from every region in the list, splitting regions as needed.
    /// `Err(RegionListFull)` if a split would overflow the list.
    pub fn subtract(&mut self, r: Region) -> Result<(), RegionListFull> {
        let old = *self;
        self.len = 0;
        for x in old.as_slice() {
            if r.end <= x.start || r.start >= x.end {
                self.push(*x)?;
                continue;
            }
            self.push(Region::new(x.start, r.start.max(x.start).min(x.end)))?;
            self.push(Region::new(r.end.min(x.end).max(x.start), x.end))?;
        }
        Ok(())
    }
    /// Sorts by start address: an insertion sort, as the lists are short and boot-only code
    /// should not pull the library's sort (several KiB, shared by name with nothing) into the
    /// kernel's runtime text.
    pub fn sort(&mut self) {
        let r = &mut self.regions[..self.len];
        for i in 1..r.len() {
            let x = r[i];
            let mut j = i;
            while j > 0 && r[j - 1].start > x.start {
                r[j] = r[j - 1];
                j -= 1;
            }
            r[j] = x;
        }
    }
    /// Sorts, and merges regions that touch or overlap.
    pub fn coalesce(&mut self) {
        self.sort();
        let mut n = 0;
        for i in 0..self.len {
            let r = self.regions[i];
            if n > 0 && r.start <= self.regions[n - 1].end {
                self.regions[n - 1].end = self.regions[n - 1].end.max(r.end);
            } else {
                self.regions[n] = r;
                n += 1;
            }
        }
        self.len = n;
    }
}

/// The root task's image as a loader leaves it: seL4 `init_kernel`'s first four arguments.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UserImage {
    /// `ui_p_reg_start..ui_p_reg_end`: the image's physical extent (whole pages), already
    /// holding the loaded ELF segments.
    pub p_reg: Region,
    /// `pv_offset`: physical address minus virtual address of every byte of the image.
    pub pv_offset: u64,
    /// `v_entry`: the root task's entry point (virtual).
    pub v_entry: u64,
}

impl UserImage {
    /// The image's virtual extent (`ui_v_reg`).
    pub fn v_reg(&self) -> Region {
        Region::new(
            self.p_reg.start.wrapping_sub(self.pv_offset),
            self.p_reg.end.wrapping_sub(self.pv_offset),
        )
    }
}

/// What the architecture's boot code tells the kernel about the machine and the hand-off. All
/// addresses are physical.
#[derive(Clone, Copy, Debug, Default)]
pub struct BootParams {
    /// RAM from the device tree's `/memory` nodes.
    pub ram: RegionList<MAX_RAM_REGIONS>,
    /// Memory the kernel must not hand out: `reserved-memory` children, `/memreserve/` entries
    /// (e.g. OpenSBI's 0x8000_0000..0x8020_0000). Like seL4's build, which leaves them out of
    /// its list of RAM, the kernel does not count them as RAM: they become device untypeds.
    pub reserved: RegionList<MAX_RESERVED_REGIONS>,
    /// Device frames only the kernel uses (PLIC, CLINT, ...): excluded from device untypeds
    /// in the 2 MiB frames seL4 maps them with.
    pub kernel_devices: RegionList<MAX_RESERVED_REGIONS>,
    /// The kernel image, from its first byte to `ki_end` (seL4 `get_p_reg_kernel_img`).
    pub kernel_image: Region,
    /// The kernel's boot-only code and data, from its first byte to `ki_boot_end` (seL4
    /// `get_p_reg_kernel_img_boot`): untyped memory once boot is done.
    pub kernel_boot: Region,
    /// The root task's image, placed by the loader (or by [`load_initrd`]).
    pub user_image: UserImage,
    /// Firmware boot only: the root task's ELF file (`/chosen` `linux,initrd-start`..`-end`),
    /// until [`load_initrd`] has loaded it; empty with a loader.
    pub initrd: Region,
    /// The device tree blob: `dtb_addr_p .. dtb_addr_p + dtb_size` (empty for none).
    pub dtb: Region,
    /// Kernel-virtual address of the IRQ node (seL4 `intStateIRQNode`: one slot per
    /// interrupt, [`IRQ_NODE_BYTES`] of zeroed memory in the kernel image, never untyped).
    pub irq_node: crate::mem::PPtr<crate::object::interrupt::IrqNode>,
    /// The devices only the machine layer drives (interrupt controller, timer, console), which
    /// generic code hands back to `init_platform` without looking inside.
    pub platform: crate::arch::Platform,
    /// The platform (RAM, devices) is the one compiled into the kernel (`builtin_platform`
    /// feature, as seL4 compiles in its build-time device tree), not read from a device tree:
    /// boot then needs none ([`check_handoff`]).
    pub platform_built_in: bool,
}

/// Bytes of the IRQ node (seL4 `intStateIRQNode`: `BIT(IRQ_CNODE_SLOT_BITS)` slots, the
/// interrupts rounded up to a power of two): a page on riscv64 (97 interrupts), two on aarch64
/// (160).
pub const IRQ_NODE_BYTES: usize =
    1 << (crate::object::interrupt::IRQ_NODE_RADIX + SLOT_BITS as u32);
const _: () = assert!(crate::object::interrupt::NUM_IRQS * (1 << SLOT_BITS) <= IRQ_NODE_BYTES);

/// Why boot failed. The architecture prints it and halts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootError {
    /// A message for the console.
    Msg(&'static str),
}

/// What boot's memory plan takes from the architecture and its platform: the seL4 constants and
/// rules that differ between riscv64 (`qemu-riscv-virt`) and aarch64 (`qemu-arm-virt`). Each
/// architecture states its own (`arch::riscv64::BOOT_RULES`, `arch::aarch64::BOOT_RULES`, both
/// compiled in host tests, so that the reference tests hold either plan to seL4's numbers); boot
/// uses the one built ([`crate::arch::BOOT_RULES`]). The root task's object sizes (TCB, VSpace,
/// page table, ASID pool) are the same on both (`abi::arch`; the architectures check it), so
/// they are not here.
#[derive(Clone, Copy, Debug)]
pub struct BootRules {
    /// `PADDR_TOP`: the end of the kernel's window onto physical memory; RAM at or above it is
    /// not RAM to the kernel.
    pub paddr_top: u64,
    /// `CONFIG_PADDR_USER_DEVICE_TOP`: device untypeds cover physical addresses below it.
    pub device_top: u64,
    /// log2 of the frames the kernel's devices are reserved in (seL4 `map_kernel_devices`:
    /// riscv64 maps them with 2 MiB megapages, arm with 4 KiB pages).
    pub kernel_device_frame_bits: u64,
    /// Whether the RAM below the kernel image in its region is the firmware's and left out of
    /// the RAM (seL4's `physBase` is where the kernel is loaded: on riscv64 OpenSBI owns what
    /// is below it, which becomes device untyped).
    pub ram_below_kernel_is_firmware: bool,
    /// `seL4_MaxUntypedBits`: the largest untyped `create_untypeds` makes (38 on riscv64, 47 on
    /// aarch64).
    pub max_untyped_bits: u64,
    /// The kernel's `USER_TOP`: the root task's virtual region must end below it.
    pub user_top: u64,
    /// log2 of the virtual span one page table covers, for each level of tables below the
    /// VSpace root, from the root down (what [`BootRules::root_paging_tables`] counts). Data,
    /// not a function pointer: a function whose address is taken counts as live after boot,
    /// and the architectures' boot code is boot-only (docs/BOOT.md).
    pub table_spans: &'static [u64],
}

impl BootRules {
    /// seL4 `arch_get_n_paging`: how many page tables below the VSpace root the mappings of
    /// `[v_start, v_end)` need: at each level, one per span touched. `v_end > v_start`.
    pub fn root_paging_tables(&self, v_start: u64, v_end: u64) -> u64 {
        self.table_spans
            .iter()
            .map(|&b| ((v_end - 1) >> b) - (v_start >> b) + 1)
            .sum()
    }
}

use crate::arch::paddr_to_pptr;
use crate::cap::Cap;
use crate::cte::{cte_insert, insert_new_cap, Slot};
use crate::mem::{Booting, FrameMemory, PPtr};
use crate::object::objecttype::derive_cap;
use crate::object::tcb::{init_tcb, tcb_slot, TcbRef, ThreadState};
use crate::state::Kernel;
use abi::bootinfo::{bootinfo_id, slot, BootInfo, BootInfoHeader, SlotRegion, UntypedDesc};
use abi::config::{MAX_NUM_BOOTINFO_UNTYPED_CAPS, ROOT_CNODE_SIZE_BITS};
use abi::object::*;
use freemem::{FreeMem, RootserverSize};

const PAGE: u64 = 1 << PAGE_BITS;

/// `seL4_MinSchedContextBits` matters only with MCS (the root thread's SchedContext).
#[cfg(not(feature = "mcs"))]
const MIN_SCHED_CONTEXT_BITS: u64 = 0;

fn round_up(x: u64, bits: u64) -> u64 {
    (x + (1 << bits) - 1) & !((1 << bits) - 1)
}

/// `calculate_extra_bi_size_bits`: the extra BootInfo region as a power of two of at least a
/// page, 0 for none.
pub fn extra_bi_size_bits(size: u64) -> u64 {
    if size == 0 {
        return 0;
    }
    let rounded = round_up(size, PAGE_BITS);
    let mut msb = 63 - rounded.leading_zeros() as u64;
    if size > 1 << msb {
        msb += 1;
    }
    msb
}

/// The RAM the kernel manages (seL4's `avail_p_regs`, which its build derives from the device
/// tree): the device tree's memory less its reserved regions, and, where the architecture
/// says so ([`BootRules::ram_below_kernel_is_firmware`]), less what lies below the kernel
/// image in the region that holds it (seL4's `physBase`: the firmware's memory, e.g.
/// OpenSBI's 0x8000_0000..0x8020_0000, which becomes device untyped). Sorted, disjoint.
pub fn available_ram(params: &BootParams) -> Result<AvailList, BootError> {
    available_ram_for(params, crate::arch::BOOT_RULES.ram_below_kernel_is_firmware)
}

/// [`available_ram`], RAM below the kernel image left out if `below_kernel_is_firmware`.
pub(crate) fn available_ram_for(
    params: &BootParams,
    below_kernel_is_firmware: bool,
) -> Result<AvailList, BootError> {
    let mut ram = AvailList::default();
    for r in params.ram.as_slice() {
        let mut r = *r;
        if below_kernel_is_firmware
            && r.start < params.kernel_image.start
            && params.kernel_image.start < r.end
        {
            r.start = params.kernel_image.start;
        }
        ram.push(r)
            .map_err(|_| BootError::Msg("too many RAM regions"))?;
    }
    ram.coalesce();
    for r in params.reserved.as_slice() {
        ram.subtract(*r)
            .map_err(|_| BootError::Msg("too many RAM fragments"))?;
    }
    ram.sort();
    Ok(ram)
}

/// RAM regions after reserved ones are taken out.
pub type AvailList = RegionList<{ MAX_RAM_REGIONS + MAX_RESERVED_REGIONS }>;

/// Checks the hand-off as far as seL4 relies on it: the user image is a non-empty range of
/// whole pages whose virtual extent lies in user memory, disjoint from the kernel image and
/// the device tree; there is a device tree (this kernel reads its platform from it) unless the
/// platform is compiled in ([`BootParams::platform_built_in`]), and it does not wrap or leave
/// the kernel window (`paddr_top`).
///
/// Errors: a [`BootError`] naming what is wrong.
pub fn check_handoff(params: &BootParams, paddr_top: u64) -> Result<(), BootError> {
    let ui = params.user_image;
    if ui.p_reg.start >= ui.p_reg.end {
        return Err(BootError::Msg(
            "user image region is empty or inverted (ui_p_reg_start >= ui_p_reg_end)",
        ));
    }
    if !(ui.p_reg.start | ui.p_reg.end | ui.pv_offset).is_multiple_of(PAGE) {
        return Err(BootError::Msg(
            "user image region or pv_offset is not page-aligned",
        ));
    }
    let v = ui.v_reg();
    if v.start >= v.end || v.end > crate::arch::BOOT_RULES.user_top {
        return Err(BootError::Msg(
            "user image lies outside user virtual memory",
        ));
    }
    if ui.p_reg.end > paddr_top {
        return Err(BootError::Msg("user image lies outside the kernel window"));
    }
    if ui.p_reg.overlaps(&params.kernel_image) {
        return Err(BootError::Msg("user image overlaps the kernel image"));
    }
    if params.dtb.is_empty() && params.platform_built_in {
        return Ok(());
    }
    if params.dtb.is_empty() {
        return Err(BootError::Msg(
            "no device tree (dtb_size 0): this kernel reads its platform from the device tree",
        ));
    }
    if params.dtb.end >= paddr_top {
        return Err(BootError::Msg("device tree exceeds PADDR_TOP"));
    }
    if params.dtb.overlaps(&params.kernel_image) || params.dtb.overlaps(&ui.p_reg) {
        return Err(BootError::Msg(
            "device tree overlaps the kernel image or the user image",
        ));
    }
    Ok(())
}

/// The root task's virtual layout (seL4 `try_init_kernel`): its image, then a page for its IPC
/// buffer, a page for BootInfo, and the extra BootInfo region (the device tree).
#[derive(Clone, Copy, Debug)]
struct Layout {
    /// The image's virtual extent.
    image: Region,
    /// The IPC buffer's page, right after the image.
    ipc_buf: u64,
    /// The BootInfo page.
    bootinfo: u64,
    /// The extra BootInfo region.
    extra: u64,
    /// Bytes of extra BootInfo (header and device tree), 0 for none.
    extra_len: u64,
    /// log2 of the extra BootInfo region's size, 0 for none.
    extra_bits: u64,
    /// `it_v_reg`: everything the root task's page tables cover.
    it_v_reg: Region,
}

impl Layout {
    fn new(ui: &UserImage, dtb_len: u64, rules: &BootRules) -> Result<Layout, BootError> {
        let image = ui.v_reg();
        let ipc_buf = image.end;
        let bootinfo = ipc_buf + PAGE;
        let extra = bootinfo + PAGE;
        let extra_len = if dtb_len == 0 {
            0
        } else {
            core::mem::size_of::<BootInfoHeader>() as u64 + dtb_len
        };
        let extra_bits = extra_bi_size_bits(extra_len);
        let it_v_reg = Region::new(
            image.start,
            extra + if extra_bits > 0 { 1 << extra_bits } else { 0 },
        );
        if it_v_reg.end >= rules.user_top {
            return Err(BootError::Msg("userland image exceeds USER_TOP"));
        }
        Ok(Layout {
            image,
            ipc_buf,
            bootinfo,
            extra,
            extra_len,
            extra_bits,
            it_v_reg,
        })
    }

    /// `calculate_rootserver_size` and `rootserver_max_size_bits`, with the architecture's
    /// paging structures (`rules`).
    fn rootserver_size(&self, rules: &BootRules) -> RootserverSize {
        let cnode_bits = ROOT_CNODE_SIZE_BITS as u64 + SLOT_BITS;
        let n_paging = rules.root_paging_tables(self.it_v_reg.start, self.it_v_reg.end);
        let mut bytes = (1 << cnode_bits)
            + (1 << TCB_BITS)
            + PAGE // IPC buffer
            + PAGE // BootInfo
            + (1 << ASID_POOL_BITS)
            + (1 << VSPACE_BITS)
            + n_paging * (1 << PAGE_TABLE_BITS);
        if self.extra_bits > 0 {
            bytes += 1 << self.extra_bits;
        }
        if cfg!(feature = "mcs") {
            bytes += 1 << MIN_SCHED_CONTEXT_BITS;
        }
        RootserverSize {
            bytes,
            align_bits: cnode_bits.max(VSPACE_BITS).max(self.extra_bits),
        }
    }
}

/// The root task's objects (seL4 `rootserver`), kernel-virtual addresses of zeroed memory.
struct RootObjects {
    cnode: PPtr<crate::cte::Cte>,
    /// The extra BootInfo region, if there is a device tree.
    extra_bi: Option<usize>,
    /// The VSpace root.
    vspace: PPtr<crate::arch::PageTable>,
    /// The first of the page tables below it, which follow each other.
    paging: usize,
    n_paging: u64,
    asid_pool: PPtr<crate::mem::AsidPool>,
    ipc_buf: PPtr<FrameMemory>,
    boot_info: PPtr<FrameMemory>,
    tcb: TcbRef,
    /// MCS: the root thread's scheduling context (`rootserver.sc`), 2^`seL4_MinSchedContextBits`
    /// bytes.
    #[cfg(feature = "mcs")]
    sc: crate::object::sched_context::ScRef,
}

/// seL4 `create_rootserver_objects`: carves the root task's objects out of the block at
/// physical `start` in seL4's order (the biggest first, so that each is aligned to its size:
/// the extra BootInfo region before the root CNode only if it is at least as big), zeroing
/// each.
fn create_rootserver_objects(boot: &Booting, start: u64, layout: &Layout) -> RootObjects {
    let cnode_bits = ROOT_CNODE_SIZE_BITS as u64 + SLOT_BITS;
    let size = layout.rootserver_size(&crate::arch::BOOT_RULES);
    /// `alloc_rootserver_obj`: `n` objects of 2^`bits` bytes from the block, zeroed.
    struct Block<'b> {
        boot: &'b Booting,
        next: u64,
        end: u64,
        extra_bits: u64,
        extra_bi: Option<usize>,
    }
    impl Block<'_> {
        fn alloc(&mut self, bits: u64, n: u64) -> usize {
            let p = self.next;
            debug_assert!(p.is_multiple_of(1 << bits));
            self.next += n << bits;
            debug_assert!(self.next <= self.end);
            let v = paddr_to_pptr(p);
            self.boot.zero(v, (n << bits) as usize);
            v
        }
        /// `maybe_alloc_extra_bi`: the extra BootInfo region, if it is not yet and is at least
        /// 2^`cmp_bits` bytes.
        fn maybe_alloc_extra_bi(&mut self, cmp_bits: u64) {
            if self.extra_bits > 0 && self.extra_bits >= cmp_bits && self.extra_bi.is_none() {
                self.extra_bi = Some(self.alloc(self.extra_bits, 1));
            }
        }
    }
    let mut b = Block {
        boot,
        next: start,
        end: start + size.bytes,
        extra_bits: layout.extra_bits,
        extra_bi: None,
    };
    b.maybe_alloc_extra_bi(size.align_bits);
    const _: () = assert!(ROOT_CNODE_SIZE_BITS as u64 + SLOT_BITS > VSPACE_BITS);
    let cnode = boot.object(b.alloc(cnode_bits, 1));
    b.maybe_alloc_extra_bi(VSPACE_BITS);
    let vspace = boot.object(b.alloc(VSPACE_BITS, 1));
    b.maybe_alloc_extra_bi(PAGE_BITS);
    let asid_pool = boot.object(b.alloc(ASID_POOL_BITS, 1));
    let ipc_buf = boot.object(b.alloc(PAGE_BITS, 1));
    let boot_info = boot.object(b.alloc(PAGE_BITS, 1));
    const _: () = assert!(TCB_BITS < PAGE_TABLE_BITS);
    let n_paging = crate::arch::root_paging_tables(layout.it_v_reg.start, layout.it_v_reg.end);
    let paging = b.alloc(PAGE_TABLE_BITS, n_paging);
    let tcb = boot.object(b.alloc(TCB_BITS, 1));
    #[cfg(feature = "mcs")]
    let sc = boot.object(b.alloc(MIN_SCHED_CONTEXT_BITS, 1));
    debug_assert_eq!(b.next, b.end);
    let extra_bi = b.extra_bi;
    RootObjects {
        cnode,
        extra_bi,
        vspace,
        paging,
        n_paging,
        asid_pool,
        ipc_buf,
        boot_info,
        tcb,
        #[cfg(feature = "mcs")]
        sc,
    }
}

/// The root CNode while boot fills it: fixed slots are written directly, the others are
/// handed out in order from `seL4_NumInitialCaps` (seL4 `write_slot`, `provide_cap`).
pub struct RootCNode {
    cnode: PPtr<crate::cte::Cte>,
    next: u64,
}

impl RootCNode {
    /// Slot `i`.
    pub fn slot(&self, i: u64) -> Slot {
        Slot(self.cnode).index(abi::config::ROOT_CNODE_SIZE_BITS as u32, i as usize)
    }
    /// Writes `cap` to the fixed slot `i` (one of `abi::bootinfo::slot`).
    pub fn write_slot(&self, i: u64, cap: Cap) {
        insert_new_cap(cap, None, self.slot(i));
    }
    /// Puts `cap` in the next free slot and returns its index.
    ///
    /// Errors: [`BootError::Msg`] if the CNode is full (seL4 `provide_cap`: "can't add
    /// another cap, all 2^CONFIG_ROOT_CNODE_SIZE_BITS slots used").
    pub fn provide(&mut self, cap: Cap) -> Result<u64, BootError> {
        if self.next >= 1 << ROOT_CNODE_SIZE_BITS {
            crate::kerror!(
                "can't add another cap, all {} (=2^CONFIG_ROOT_CNODE_SIZE_BITS) slots used",
                1u64 << ROOT_CNODE_SIZE_BITS
            );
            return Err(BootError::Msg("root CNode is full"));
        }
        let i = self.next;
        self.write_slot(i, cap);
        self.next += 1;
        Ok(i)
    }
    /// The next slot [`provide`](Self::provide) fills.
    pub fn next_free(&self) -> u64 {
        self.next
    }
}

/// The root CNode with its own cap, the domain cap, the IRQ control cap and, where the
/// architecture has one, the SMC cap in their slots (seL4 `create_root_cnode`,
/// `create_domain_cap`, `init_irqs`' cap, `init_smc`).
fn create_root_cnode(cnode: PPtr<crate::cte::Cte>) -> RootCNode {
    let root = RootCNode {
        cnode,
        next: slot::NUM_INITIAL_CAPS,
    };
    let cap = Cap::CNode {
        ptr: cnode,
        radix: ROOT_CNODE_SIZE_BITS as u8,
        guard_size: (64 - ROOT_CNODE_SIZE_BITS) as u8,
        guard: 0,
    };
    root.write_slot(slot::INIT_THREAD_CNODE, cap);
    root.write_slot(slot::DOMAIN, Cap::Domain);
    root.write_slot(slot::IRQ_CONTROL, Cap::IrqControl);
    if let Some(smc) = crate::arch::root_smc_cap() {
        root.write_slot(slot::SMC, smc);
    }
    root
}

/// seL4 `create_frames_of_region`: a frame cap for each page of the kernel-virtual range
/// `[start, start + len)` (the last page may be partly used), mapped (executable) in the root
/// task's VSpace from `vaddr` on, into the next free slots; returns their slots.
fn create_frames_of_region(
    boot: &Booting,
    cnode: &mut RootCNode,
    vspace: PPtr<crate::arch::PageTable>,
    start: usize,
    len: u64,
    vaddr: u64,
) -> Result<SlotRegion, BootError> {
    let first = cnode.next_free();
    let mut off = 0;
    while off < len {
        let frame = boot.object(start + off as usize);
        let cap = crate::arch::map_root_frame(vspace, frame, vaddr + off, true);
        cnode.provide(cap)?;
        off += PAGE;
    }
    Ok(SlotRegion {
        start: first,
        end: cnode.next_free(),
    })
}

/// The extra BootInfo region (seL4 `try_init_kernel`: the device tree behind a
/// `SEL4_BOOTINFO_HEADER_FDT` header), and its frames mapped after BootInfo: as many as its
/// `extra_len` bytes need; returns their slots.
fn create_extra_bootinfo(
    boot: &Booting,
    cnode: &mut RootCNode,
    objs: &RootObjects,
    layout: &Layout,
    dtb: &[u8],
) -> Result<SlotRegion, BootError> {
    let Some(e) = objs.extra_bi else {
        return Ok(SlotRegion::default());
    };
    boot.object::<BootInfoHeader>(e).set(BootInfoHeader {
        id: bootinfo_id::FDT,
        len: layout.extra_len,
    });
    let header = core::mem::size_of::<BootInfoHeader>();
    boot.copy_in(e + header, dtb);
    create_frames_of_region(boot, cnode, objs.vspace, e, layout.extra_len, layout.extra)
}

/// seL4 `create_initial_thread`: the root task's TCB at priority 255, its CSpace, VSpace and
/// IPC buffer caps copied from the root CNode, its first registers from the architecture, its
/// cap in `seL4_CapInitThreadTCB`; it is running. MCS: it runs on its own scheduling context
/// (`configure_sched_context`: round robin, budget = period = `BOOT_THREAD_TIME_SLICE` ms,
/// usable from now), whose cap (2^`seL4_MinSchedContextBits` bytes) is in
/// `seL4_CapInitThreadSC`.
fn create_root_tcb(
    #[cfg_attr(not(feature = "mcs"), allow(unused_variables))] k: &mut Kernel,
    cnode: &RootCNode,
    objs: &RootObjects,
    layout: &Layout,
    entry: u64,
) -> Result<TcbRef, BootError> {
    let tcb = objs.tcb;
    init_tcb(tcb, 0);
    tcb.with(|t| {
        t.priority = 255;
        t.mcp = 255;
        t.ipc_buffer = layout.ipc_buf;
        crate::arch::init_root_context(&mut t.context, entry, layout.bootinfo);
        t.name[..10].copy_from_slice(b"rootserver");
    });
    tcb.set_state(ThreadState::Running);
    for (from, to) in [
        (slot::INIT_THREAD_CNODE, tcb_slot::CTABLE),
        (slot::INIT_THREAD_VSPACE, tcb_slot::VTABLE),
    ] {
        let src = cnode.slot(from);
        cte_insert(src.cap(), src, tcb.slot(to));
    }
    let ipc_slot = cnode.slot(slot::INIT_THREAD_IPC_BUFFER);
    let ipc_cap =
        derive_cap(ipc_slot, ipc_slot.cap()).map_err(|_| BootError::Msg("IPC buffer cap"))?;
    cte_insert(ipc_cap, ipc_slot, tcb.slot(tcb_slot::BUFFER));
    #[cfg(feature = "mcs")]
    {
        let sc = objs.sc;
        crate::object::sched_context::configure_root(k, tcb, sc);
    }
    cnode.write_slot(slot::INIT_THREAD_TCB, Cap::Thread { tcb });
    #[cfg(feature = "mcs")]
    cnode.write_slot(
        slot::INIT_THREAD_SC,
        Cap::SchedContext {
            ptr: objs.sc,
            size_bits: MIN_SCHED_CONTEXT_BITS as u8,
        },
    );
    Ok(tcb)
}

/// seL4 `init_sched_control` (MCS): a SchedControl cap for each node, in the next free slots;
/// returns their region (`BootInfo.schedcontrol`).
#[cfg(feature = "mcs")]
fn init_sched_control(cnode: &mut RootCNode) -> Result<SlotRegion, BootError> {
    let start = cnode.next_free();
    for core in 0..abi::config::MAX_NUM_NODES as u64 {
        cnode.provide(Cap::SchedControl { core })?;
    }
    Ok(SlotRegion {
        start,
        end: cnode.next_free(),
    })
}

/// seL4 `create_untypeds`: an untyped cap for each block of each region
/// [`FreeMem::untyped_regions`] lists (device memory, the kernel's boot-only region, free RAM),
/// in that order, each described in BootInfo's list; fills `bi.untyped` and `bi.untyped_list`.
/// Blocks beyond the list's `CONFIG_MAX_NUM_BOOTINFO_UNTYPED_CAPS` entries are left out with
/// seL4's message.
///
/// Errors: the root CNode is full.
fn create_untypeds(
    boot: &Booting,
    cnode: &mut RootCNode,
    mem: &FreeMem,
    kernel_boot: Region,
    bi: &mut BootInfo,
) -> Result<(), BootError> {
    let first = cnode.next_free();
    let mut result = Ok(());
    let rules = crate::arch::BOOT_RULES;
    for (region, device) in mem.untyped_regions(rules.device_top, kernel_boot) {
        split_untypeds_to(
            region.start,
            region.end,
            rules.max_untyped_bits,
            |paddr, bits| {
                if result.is_err() {
                    return;
                }
                let i = (cnode.next_free() - first) as usize;
                if i >= MAX_NUM_BOOTINFO_UNTYPED_CAPS {
                    crate::kwarn!("Kernel init: Too many untyped regions for boot info");
                    return;
                }
                bi.untyped_list[i] = UntypedDesc {
                    paddr,
                    size_bits: bits as u8,
                    is_device: device as u8,
                    padding: [0; 6],
                };
                let cap = Cap::Untyped {
                    ptr: boot.object(paddr_to_pptr(paddr)),
                    size_bits: bits as u8,
                    free_index: 1 << bits,
                    is_device: device,
                };
                result = cnode.provide(cap).map(|_| ());
            },
        );
    }
    result?;
    bi.untyped = SlotRegion {
        start: first,
        end: cnode.next_free(),
    };
    Ok(())
}

/// The number of frames of `1 << frame_bits` bytes seL4 would map the kernel's devices with
/// (its `NUM_KERNEL_DEVICE_FRAMES`), and reserves each of them (`map_kernel_devices`). The frame
/// size is the architecture's ([`BootRules::kernel_device_frame_bits`]): seL4 maps riscv64's
/// kernel devices with 2 MiB pages, aarch64's with 4 KiB ones.
pub(crate) fn reserve_kernel_devices(
    params: &BootParams,
    mem: &mut FreeMem,
    frame_bits: u64,
) -> usize {
    let mut n = 0;
    for r in params.kernel_devices.as_slice() {
        let mut f = r.start & !((1 << frame_bits) - 1);
        while f < r.end {
            n += 1;
            mem.reserve_region(Region::new(f, f + (1 << frame_bits)));
            f += 1 << frame_bits;
        }
    }
    n
}

/// How many frames of `1 << frame_bits` bytes the kernel's devices take.
pub(crate) fn kernel_device_frames(params: &BootParams, frame_bits: u64) -> usize {
    params
        .kernel_devices
        .as_slice()
        .iter()
        .map(|r| {
            let first = r.start >> frame_bits;
            let last = (r.end.max(r.start + 1) - 1) >> frame_bits;
            (last - first + 1) as usize
        })
        .sum()
}

/// seL4's memory bookkeeping for this boot: the kernel's devices reserved, then
/// `arch_init_freemem` (the RAM less the kernel image, the device tree and the user image;
/// the root task's objects placed). The kernel image counts as reserved up to `ki_end`, the
/// device tree to its last byte (not rounded to pages), the user image as the loader passed it.
///
/// Errors: those of [`FreeMem::init`].
pub fn plan_memory(params: &BootParams, paddr_top: u64) -> Result<FreeMem, BootError> {
    let rules = BootRules {
        paddr_top,
        ..crate::arch::BOOT_RULES
    };
    plan_memory_with(params, &rules)
}

/// [`plan_memory`] by an architecture's `rules` (host tests plan either architecture's boot).
///
/// Errors: those of [`FreeMem::init`], and a user image too big for the user address space.
pub fn plan_memory_with(params: &BootParams, rules: &BootRules) -> Result<FreeMem, BootError> {
    let layout = Layout::new(&params.user_image, params.dtb.size(), rules)?;
    plan_memory_for(params, rules, &layout)
}

fn plan_memory_for(
    params: &BootParams,
    rules: &BootRules,
    layout: &Layout,
) -> Result<FreeMem, BootError> {
    let bits = rules.kernel_device_frame_bits;
    let mut mem = FreeMem::new(kernel_device_frames(params, bits));
    reserve_kernel_devices(params, &mut mem, bits);
    let avail = available_ram_for(params, rules.ram_below_kernel_is_firmware)?;
    // seL4 `arch_init_freemem`: the device tree is reserved only if there is one.
    let with_dtb = [params.kernel_image, params.dtb, params.user_image.p_reg];
    let without_dtb = [params.kernel_image, params.user_image.p_reg];
    let reserved: &[Region] = if params.dtb.is_empty() {
        &without_dtb
    } else {
        &with_dtb
    };
    mem.init(
        avail.as_slice(),
        reserved,
        rules.paddr_top,
        layout.rootserver_size(rules),
    )?;
    Ok(mem)
}

/// seL4 `create_it_asid_pool` and `write_it_asid_pool`: the zeroed ASID pool at `pool` becomes
/// the first one (ASIDs 0..512), the root task's VSpace `root` gets `IT_ASID` in it, and the
/// pool's cap and the ASID control cap (the architecture's, `crate::arch::root_asid_caps`) go
/// to their initial slots.
fn create_root_asid_pool(
    k: &mut Kernel,
    cnode: &RootCNode,
    pool: PPtr<crate::mem::AsidPool>,
    root: PPtr<crate::arch::PageTable>,
) {
    k.asid_table[0] = crate::mem::Link::to(pool);
    let entry = pool.at(crate::arch::IT_ASID as usize);
    entry.set(crate::mem::Link::to(root.as_vspace_root()));
    let (pool_cap, control_cap) = crate::arch::root_asid_caps(pool);
    cnode.write_slot(slot::INIT_THREAD_ASID_POOL, pool_cap);
    cnode.write_slot(slot::ASID_CONTROL, control_cap);
}

/// Creates the root task (seL4 `try_init_kernel` from `init_freemem` on) into kernel `k`,
/// from the hand-off in `params` (see [`check_handoff`]). `paddr_top` is the end of the
/// kernel's window onto physical memory. Returns the root task's TCB.
///
/// The generic steps are here; the architecture builds the address space, maps the frames,
/// gives the ASID pool's caps and sets the first registers (`crate::arch::create_root_vspace` and
/// friends). The root CNode's slots and BootInfo's regions come out in seL4's order.
///
/// Errors: [`BootError::Msg`] for an unusable hand-off, too little memory, or too many caps
/// for the root CNode (seL4's limits).
pub fn create_root_task(
    boot: &Booting,
    k: &mut Kernel,
    params: &BootParams,
    paddr_top: u64,
) -> Result<TcbRef, BootError> {
    check_handoff(params, paddr_top)?;
    let ui = params.user_image;
    let dtb_bytes = boot.phys_bytes(params.dtb.start, params.dtb.size() as usize);
    let rules = BootRules {
        paddr_top,
        ..crate::arch::BOOT_RULES
    };
    let layout = Layout::new(&ui, params.dtb.size(), &rules)?;
    let mem = plan_memory_for(params, &rules, &layout)?;
    let objs = create_rootserver_objects(boot, mem.rootserver, &layout);
    k.irq_node = params.irq_node;
    params.irq_node.zero();

    let mut cnode = create_root_cnode(objs.cnode);
    let paging = crate::arch::create_root_vspace(
        &mut cnode,
        objs.vspace,
        |i| boot.object(objs.paging + (i << abi::object::PAGE_TABLE_BITS) as usize),
        objs.n_paging,
        layout.it_v_reg,
    )?;
    // seL4 maps the BootInfo frame and the IPC buffer not executable (where the architecture
    // has the choice), the image and the extra BootInfo executable.
    let map = |frame, vaddr| crate::arch::map_root_frame(objs.vspace, frame, vaddr, false);
    cnode.write_slot(slot::BOOT_INFO_FRAME, map(objs.boot_info, layout.bootinfo));
    let extra_bi_pages = create_extra_bootinfo(boot, &mut cnode, &objs, &layout, dtb_bytes)?;
    #[cfg(feature = "mcs")]
    let schedcontrol = init_sched_control(&mut cnode)?;
    cnode.write_slot(
        slot::INIT_THREAD_IPC_BUFFER,
        map(objs.ipc_buf, layout.ipc_buf),
    );
    let frames = create_frames_of_region(
        boot,
        &mut cnode,
        objs.vspace,
        paddr_to_pptr(ui.p_reg.start),
        ui.p_reg.size(),
        layout.image.start,
    )?;
    create_root_asid_pool(k, &cnode, objs.asid_pool, objs.vspace);
    let tcb = create_root_tcb(k, &cnode, &objs, &layout, ui.v_entry)?;

    let mut bi = BootInfo {
        extra_len: layout.extra_len,
        node_id: 0,
        num_nodes: 1,
        num_iopt_levels: 0,
        ipc_buffer: layout.ipc_buf,
        empty: SlotRegion::default(),
        shared_frames: SlotRegion::default(),
        user_image_frames: frames,
        user_image_paging: paging,
        io_space_caps: SlotRegion::default(),
        extra_bi_pages,
        init_thread_cnode_size_bits: ROOT_CNODE_SIZE_BITS as u64,
        init_thread_domain: 0,
        #[cfg(feature = "mcs")]
        schedcontrol,
        untyped: SlotRegion::default(),
        untyped_list: [UntypedDesc::default(); MAX_NUM_BOOTINFO_UNTYPED_CAPS],
    };
    create_untypeds(boot, &mut cnode, &mem, params.kernel_boot, &mut bi)?;
    bi.empty = SlotRegion {
        start: cnode.next_free(),
        end: 1 << ROOT_CNODE_SIZE_BITS,
    };
    log_bootinfo(&bi);
    boot.object::<BootInfo>(objs.boot_info.addr()).set(bi);

    #[cfg(not(feature = "mcs"))]
    crate::ipc::setup_reply_master(tcb);
    crate::object::interrupt::init_irqs(k);
    #[cfg(feature = "debug_build")]
    {
        crate::debug::tcbs::boot(k, tcb);
        k.debug.set_ram(available_ram(params)?.as_slice());
    }
    k.set_cur_thread(tcb);
    // MCS (seL4 `init_core_state`, then `schedule` switching to the root thread): its
    // scheduling context is the current one, nothing consumed yet, the timer to be programmed.
    #[cfg(feature = "mcs")]
    crate::sched::mcs::init_core_state(k);
    Ok(tcb)
}

/// Logs the root task's BootInfo: a summary at info level (`boot info: ...`), each untyped at
/// debug level (`boot info: untyped <slot> <paddr> <size_bits> device|ram`), so that tools and
/// tests (the Microkit stage of `cargo xtask test`) can compare the boot state with a
/// prediction.
fn log_bootinfo(bi: &BootInfo) {
    let n = (bi.untyped.end - bi.untyped.start) as usize;
    let list = &bi.untyped_list[..n.min(MAX_NUM_BOOTINFO_UNTYPED_CAPS)];
    let devices = list.iter().filter(|u| u.is_device != 0).count();
    crate::kinfo!(
        "boot info: untyped slots {}..{} ({} device, {} RAM), empty slots {}..{}, user image frames {}..{}, paging {}..{}",
        bi.untyped.start,
        bi.untyped.end,
        devices,
        list.len() - devices,
        bi.empty.start,
        bi.empty.end,
        bi.user_image_frames.start,
        bi.user_image_frames.end,
        bi.user_image_paging.start,
        bi.user_image_paging.end
    );
    for (i, u) in list.iter().enumerate() {
        crate::kdebug!(
            "boot info: untyped {} {:#x} {} {}",
            bi.untyped.start + i as u64,
            u.paddr,
            u.size_bits,
            if u.is_device != 0 { "device" } else { "ram" }
        );
    }
}

/// Creates the root task into the kernel's global state and returns its register context, which
/// the architecture restores to enter user mode. The platform's devices are set up first.
///
/// Errors: [`BootError::Msg`] for an unusable hand-off or too little memory for the root
/// task's objects.
#[cfg(target_os = "none")]
pub fn boot_system(
    boot: &Booting,
    params: &BootParams,
) -> Result<*mut crate::arch::ArchContext, BootError> {
    crate::state::with_kernel(|k| {
        crate::arch::init_platform(k, &params.platform);
        let t = create_root_task(boot, k, params, crate::arch::PADDR_TOP)?;
        crate::kinfo!(
            "root task created: entry {:#x}",
            t.reg(crate::arch::regs::NEXT_IP)
        );
        // MCS: no tick; `schedule` programs the one-shot timer on the way out.
        #[cfg(not(feature = "mcs"))]
        crate::arch::reset_timer();
        Ok(crate::entry::activate_or_idle(k))
    })
}
