//! Boot: from the machine description the architecture hands over to a running root task.
//!
//! The architecture's entry code parses the device tree into [`BootParams`], then calls
//! [`boot_system`], which has the architecture set up the platform's devices and creates the
//! root task as seL4 does (`src/kernel/boot.c`). [`create_root_task`] runs seL4's generic steps
//! (root CNode, BootInfo and extra BootInfo, IPC buffer, image frames, root TCB, untypeds) and
//! calls the architecture (`crate::arch`, seL4 `src/arch/riscv/kernel/boot.c`) for the root
//! task's address space, the mapping of each frame, the ASID pool and the first registers.
#![forbid(unsafe_code)]

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
    /// The devices only the machine layer drives (interrupt controller, timer, console), which
    /// generic code hands back to [`crate::arch::init_platform`] without looking inside.
    pub platform: crate::arch::Platform,
}

/// Why boot failed. The architecture prints it and halts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootError {
    /// A message for the console.
    Msg(&'static str),
}

impl<const N: usize> RegionList<N> {
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
    /// Sorts by start address.
    pub fn sort(&mut self) {
        self.regions[..self.len].sort_unstable_by_key(|r| r.start);
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

use crate::arch::paddr_to_pptr;
use crate::cap::Cap;
use crate::cte::{cte_insert, insert_new_cap, Slot};
use crate::object::objecttype::derive_cap;
use crate::object::tcb::{init_tcb, tcb_slot, TcbRef, ThreadState};
use crate::state::Kernel;
use abi::bootinfo::{bootinfo_id, slot, BootInfo, BootInfoHeader, SlotRegion, UntypedDesc};
use abi::config::{MAX_NUM_BOOTINFO_UNTYPED_CAPS, ROOT_CNODE_SIZE_BITS};
use abi::object::*;
use abi::platform::current::PADDR_USER_DEVICE_TOP;

/// Most frames of the root task's image, IPC buffer, BootInfo and extra BootInfo together
/// (bounded by the root CNode's size).
const MAX_IMAGE_PAGES: u64 = 4096;
/// Most page tables below the root task's VSpace root ([`crate::arch::root_paging_tables`]).
const MAX_PAGING_TABLES: usize = 8;

const PAGE: u64 = 1 << PAGE_BITS;

/// How many scheduling contexts the root task's objects include: its thread's (MCS), none
/// without MCS.
const ROOT_SC: u64 = if cfg!(feature = "mcs") { 1 } else { 0 };
/// `seL4_MinSchedContextBits` (its size does not matter without MCS: no SC is allocated).
#[cfg(not(feature = "mcs"))]
const MIN_SCHED_CONTEXT_BITS: u64 = 0;

fn round_up(x: u64, bits: u64) -> u64 {
    (x + (1 << bits) - 1) & !((1 << bits) - 1)
}

/// `[r.start, r.end)` rounded out to whole pages.
fn page_region(r: Region) -> Region {
    Region::new(r.start & !(PAGE - 1), round_up(r.end, PAGE_BITS))
}

/// `calculate_extra_bi_size_bits`: the extra BootInfo region as a power of two of at least a
/// page, 0 for none.
pub fn extra_bi_size_bits(size: u64) -> u64 {
    if size == 0 {
        return 0;
    }
    let rounded = round_up(size, PAGE_BITS);
    let mut msb = 63 - rounded.leading_zeros() as u64;
    if rounded > 1 << msb {
        msb += 1;
    }
    msb
}

/// The root task's ELF image: its virtual extent, entry point and where the file is.
struct Image<'a> {
    elf: xmas_elf::ElfFile<'a>,
    v_start: u64,
    v_end: u64,
    entry: u64,
}

fn parse_image(bytes: &[u8]) -> Result<Image<'_>, BootError> {
    use xmas_elf::program::Type;
    let elf = xmas_elf::ElfFile::new(bytes)
        .map_err(|_| BootError::Msg("root task image is not an ELF file"))?;
    crate::arch::check_root_elf(&elf)?;
    let (mut lo, mut hi) = (u64::MAX, 0u64);
    for ph in elf.program_iter() {
        if ph.get_type() != Ok(Type::Load) || ph.mem_size() == 0 {
            continue;
        }
        if ph.file_size() > ph.mem_size()
            || ph
                .offset()
                .checked_add(ph.file_size())
                .is_none_or(|e| e > bytes.len() as u64)
        {
            return Err(BootError::Msg(
                "root task ELF segment lies outside the file",
            ));
        }
        lo = lo.min(ph.virtual_addr());
        hi = hi.max(
            ph.virtual_addr()
                .checked_add(ph.mem_size())
                .ok_or(BootError::Msg("root task ELF segment wraps"))?,
        );
    }
    if lo >= hi {
        return Err(BootError::Msg("root task ELF has no loadable segment"));
    }
    let v_start = lo & !(PAGE - 1);
    let v_end = round_up(hi, PAGE_BITS);
    if v_end >= USER_TOP {
        return Err(BootError::Msg(
            "root task ELF lies outside user virtual memory",
        ));
    }
    Ok(Image {
        entry: elf.header.pt2.entry_point(),
        elf,
        v_start,
        v_end,
    })
}

/// The root task's virtual layout (seL4 `try_init_kernel`): its image, then a page for its IPC
/// buffer, a page for BootInfo, and the extra BootInfo region (the device tree).
struct Layout {
    /// First byte of the image (page-aligned).
    v_start: u64,
    /// Pages of the image.
    image_pages: u64,
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
    /// First byte after everything.
    v_end: u64,
}

impl Layout {
    fn new(img: &Image<'_>, dtb_len: usize) -> Result<Layout, BootError> {
        let ipc_buf = img.v_end;
        let bootinfo = ipc_buf + PAGE;
        let extra_len = if dtb_len == 0 { 0 } else { 16 + dtb_len as u64 };
        let extra_bits = extra_bi_size_bits(extra_len);
        let extra = bootinfo + PAGE;
        let v_end = extra + if extra_bits > 0 { 1 << extra_bits } else { 0 };
        if (v_end - img.v_start) >> PAGE_BITS > MAX_IMAGE_PAGES || v_end >= USER_TOP {
            return Err(BootError::Msg("root task image is too large"));
        }
        Ok(Layout {
            v_start: img.v_start,
            image_pages: (img.v_end - img.v_start) >> PAGE_BITS,
            ipc_buf,
            bootinfo,
            extra,
            extra_len,
            extra_bits,
            v_end,
        })
    }
}

/// A bump allocator over the block reserved for the root task's objects: objects are taken in
/// descending size order, so each is aligned to its size.
struct RootAlloc {
    next: u64,
    end: u64,
}

impl RootAlloc {
    fn alloc(&mut self, bits: u64) -> usize {
        let p = round_up(self.next, bits);
        self.next = p + (1 << bits);
        debug_assert!(self.next <= self.end);
        let v = paddr_to_pptr(p);
        crate::mem::zero(v, 1 << bits);
        v
    }
}

/// The root CNode while boot fills it: fixed slots are written directly, the others are
/// handed out in order from `seL4_NumInitialCaps` (seL4 `write_slot`, `provide_cap`).
pub struct RootCNode {
    cnode: usize,
    next: u64,
}

impl RootCNode {
    /// Slot `i`.
    pub fn slot(&self, i: u64) -> Slot {
        Slot::at(self.cnode).add(i as usize)
    }
    /// Writes `cap` to the fixed slot `i` (one of `abi::bootinfo::slot`).
    pub fn write_slot(&self, i: u64, cap: Cap) {
        insert_new_cap(cap, None, self.slot(i));
    }
    /// Puts `cap` in the next free slot and returns its index.
    ///
    /// Errors: [`BootError::Msg`] if the CNode is full.
    pub fn provide(&mut self, cap: Cap) -> Result<u64, BootError> {
        if self.next >= 1 << ROOT_CNODE_SIZE_BITS {
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

/// Splits `[start, end)` into aligned power-of-two untypeds as seL4's
/// `create_untypeds_for_region` does, calling `f(paddr, size_bits)` for each block.
pub fn split_untypeds(mut start: u64, end: u64, mut f: impl FnMut(u64, u64)) {
    while start < end {
        let mut bits = 63 - (end - start).leading_zeros() as u64;
        bits = bits.min(MAX_UNTYPED_BITS);
        if start != 0 {
            bits = bits.min(start.trailing_zeros() as u64);
        }
        if bits >= MIN_UNTYPED_BITS {
            f(start, bits);
        }
        start += 1 << bits;
    }
}

/// The RAM the kernel manages: the device tree's memory, less what lies below the kernel image
/// in the region that holds it (the firmware's memory, e.g. OpenSBI's 0x8000_0000..0x8020_0000).
/// As on seL4, that memory is not RAM to the kernel and is handed out as device untyped.
fn usable_ram(params: &BootParams) -> RegionList<MAX_RAM_REGIONS> {
    let mut ram = params.ram;
    for r in ram.regions[..ram.len].iter_mut() {
        if r.start < params.kernel_image.start && params.kernel_image.start < r.end {
            r.start = params.kernel_image.start;
        }
    }
    ram
}

/// Free RAM: fragments of RAM outside every reserved region.
type FreeList = RegionList<{ MAX_RAM_REGIONS + 2 * MAX_RESERVED_REGIONS }>;

/// Usable RAM less everything reserved (in whole pages): the firmware's regions, the kernel
/// image, the initrd and the device tree. Sorted.
fn free_memory(
    params: &BootParams,
    ram: &RegionList<MAX_RAM_REGIONS>,
) -> Result<FreeList, BootError> {
    let mut free = FreeList::default();
    for r in ram.as_slice() {
        free.push(*r)
            .map_err(|_| BootError::Msg("too many RAM regions"))?;
    }
    let mut reserved = params.reserved;
    for r in [params.kernel_image, params.initrd, params.dtb] {
        reserved
            .push(r)
            .map_err(|_| BootError::Msg("too many reserved regions"))?;
    }
    for r in reserved.as_slice() {
        free.subtract(page_region(*r))
            .map_err(|_| BootError::Msg("too many free memory fragments"))?;
    }
    free.sort();
    Ok(free)
}

/// Memory that was needed only during boot and becomes untyped afterwards: the pages of the
/// initrd (the root task's ELF, copied into the root task's frames) and of the device tree
/// (copied into the extra BootInfo pages), within usable RAM and outside every reserved region
/// and the kernel image.
fn boot_only_memory(
    params: &BootParams,
    ram: &RegionList<MAX_RAM_REGIONS>,
) -> Result<RegionList<{ 4 * MAX_RAM_REGIONS }>, BootError> {
    let full = |_| BootError::Msg("too many boot memory fragments");
    let mut out: RegionList<{ 4 * MAX_RAM_REGIONS }> = RegionList::default();
    for b in [params.initrd, params.dtb] {
        let b = page_region(b);
        for r in ram.as_slice() {
            out.push(Region::new(b.start.max(r.start), b.end.min(r.end)))
                .map_err(full)?;
        }
    }
    for r in params
        .reserved
        .as_slice()
        .iter()
        .chain([&params.kernel_image])
    {
        out.subtract(page_region(*r)).map_err(full)?;
    }
    // The initrd and the device tree may share a page: keep each byte once.
    let mut merged: RegionList<{ 4 * MAX_RAM_REGIONS }> = RegionList::default();
    out.sort();
    for r in out.as_slice() {
        let mut r = *r;
        if let Some(last) = merged.as_slice().last() {
            r.start = r.start.max(last.end);
        }
        merged.push(r).map_err(full)?;
    }
    Ok(merged)
}

/// The root task's objects (seL4 `rootserver`), kernel-virtual addresses of zeroed memory.
struct RootObjects {
    cnode: usize,
    /// The extra BootInfo region, if there is a device tree.
    extra_bi: Option<usize>,
    /// The VSpace root.
    vspace: usize,
    /// The page tables below it.
    paging: [usize; MAX_PAGING_TABLES],
    n_paging: usize,
    asid_pool: usize,
    ipc_buf: usize,
    boot_info: usize,
    /// The first of the image's frames, which follow each other.
    image: usize,
    irq_node: usize,
    tcb: usize,
    /// MCS: the root thread's scheduling context (`rootserver.sc`), 2^`seL4_MinSchedContextBits`
    /// bytes.
    #[cfg(feature = "mcs")]
    sc: usize,
}

impl RootObjects {
    /// Address of the image's frame `i`.
    fn image_frame(&self, i: u64) -> usize {
        self.image + (i << PAGE_BITS) as usize
    }
}

/// log2 of the bytes of the IRQ node (one slot per interrupt, `NUM_IRQS` of them), at least a
/// page: a page on riscv64 (97 interrupts), two on aarch64 (160).
const IRQ_NODE_BITS: u64 = {
    let bytes = (crate::object::interrupt::NUM_IRQS as u64) << SLOT_BITS;
    let mut bits = PAGE_BITS;
    while (1 << bits) < bytes {
        bits += 1;
    }
    bits
};

/// seL4 `create_rootserver_objects`: takes one block for the root task's objects from the top
/// of the highest free region that holds it, removes it from `free` and carves the objects
/// out of it, biggest first.
fn allocate_root_objects(layout: &Layout, free: &mut FreeList) -> Result<RootObjects, BootError> {
    let cnode_bits = ROOT_CNODE_SIZE_BITS as u64 + SLOT_BITS;
    let extra_bits = layout.extra_bits;
    let n_paging = crate::arch::root_paging_tables(layout.v_start, layout.v_end);
    let objs = [
        (cnode_bits, 1),
        (extra_bits, if extra_bits > 0 { 1 } else { 0 }),
        (VSPACE_BITS, 1),
        (PAGE_TABLE_BITS, n_paging),
        (ASID_POOL_BITS, 1),
        (PAGE_BITS, 2 + layout.image_pages), // IPC buffer, BootInfo, image
        (IRQ_NODE_BITS, 1),
        (TCB_BITS, 1),
        // MCS: the root thread's scheduling context (seL4 `calculate_rootserver_size`).
        (MIN_SCHED_CONTEXT_BITS, ROOT_SC),
    ];
    let total: u64 = objs
        .iter()
        .map(|(bits, n)| if *n > 0 { n << bits } else { 0 })
        .sum();
    let max_bits = cnode_bits.max(extra_bits).max(IRQ_NODE_BITS);
    let block = free
        .as_slice()
        .iter()
        .rev()
        .find_map(|r| {
            let start = r.end.checked_sub(total)? & !((1u64 << max_bits) - 1);
            (start >= r.start).then_some(start)
        })
        .ok_or(BootError::Msg(
            "not enough free memory for the root task's objects",
        ))?;
    free.subtract(Region::new(block, block + round_up(total, PAGE_BITS)))
        .map_err(|_| BootError::Msg("too many free memory fragments"))?;
    free.sort();
    let mut ra = RootAlloc {
        next: block,
        end: block + total,
    };
    // Descending size order, so that nothing needs padding. The extra BootInfo region goes
    // before the page-sized objects if it is larger than a page.
    // The objects bigger than a page, biggest first: the CNode, the extra BootInfo region
    // (which may be bigger: a device tree of 1 MiB, as QEMU's arm `virt` passes, needs 2 MiB),
    // the IRQ node where the architecture has more interrupts than a page of slots holds.
    let (mut cnode, mut extra_bi, mut irq_node) = (0, None, None);
    let mut big = [
        (cnode_bits, 0u8),
        (
            if extra_bits > PAGE_BITS {
                extra_bits
            } else {
                0
            },
            1,
        ),
        (
            if IRQ_NODE_BITS > PAGE_BITS {
                IRQ_NODE_BITS
            } else {
                0
            },
            2,
        ),
    ];
    // Among equals the CNode first, then the extra BootInfo region (as before).
    big.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (bits, which) in big {
        match which {
            0 => cnode = ra.alloc(bits),
            1 if bits > 0 => extra_bi = Some(ra.alloc(bits)),
            2 if bits > 0 => irq_node = Some(ra.alloc(bits)),
            _ => {}
        }
    }
    let vspace = ra.alloc(VSPACE_BITS);
    let mut paging = [0usize; MAX_PAGING_TABLES];
    let n_paging = n_paging as usize;
    if n_paging > paging.len() {
        return Err(BootError::Msg(
            "root task image spans too much virtual memory",
        ));
    }
    for t in paging.iter_mut().take(n_paging) {
        *t = ra.alloc(PAGE_TABLE_BITS);
    }
    if extra_bi.is_none() && extra_bits > 0 {
        extra_bi = Some(ra.alloc(extra_bits));
    }
    let asid_pool = ra.alloc(ASID_POOL_BITS);
    let ipc_buf = ra.alloc(PAGE_BITS);
    let boot_info = ra.alloc(PAGE_BITS);
    let image = paddr_to_pptr(ra.next);
    for _ in 0..layout.image_pages {
        ra.alloc(PAGE_BITS);
    }
    let irq_node = irq_node.unwrap_or_else(|| ra.alloc(IRQ_NODE_BITS));
    let tcb = ra.alloc(TCB_BITS);
    // The smallest object, last.
    #[cfg(feature = "mcs")]
    let sc = ra.alloc(MIN_SCHED_CONTEXT_BITS);
    Ok(RootObjects {
        cnode,
        extra_bi,
        vspace,
        paging,
        n_paging,
        asid_pool,
        ipc_buf,
        boot_info,
        image,
        irq_node,
        tcb,
        #[cfg(feature = "mcs")]
        sc,
    })
}

/// The root CNode with its own cap, the domain cap and the IRQ control cap in their slots
/// (seL4 `create_root_cnode`, `create_domain_cap`, `init_irqs`' cap).
fn create_root_cnode(cnode: usize) -> RootCNode {
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
    root
}

/// The extra BootInfo region (seL4 `create_extra_bi_frames`... the device tree behind a
/// `SEL4_BOOTINFO_HEADER_FDT` header), mapped after BootInfo; returns the slots of its frames.
fn create_extra_bootinfo(
    cnode: &mut RootCNode,
    objs: &RootObjects,
    layout: &Layout,
    dtb: &[u8],
) -> Result<SlotRegion, BootError> {
    let start = cnode.next_free();
    if let Some(e) = objs.extra_bi {
        crate::mem::PPtr::<BootInfoHeader>::new(e).set(BootInfoHeader {
            id: bootinfo_id::FDT,
            len: layout.extra_len,
        });
        crate::mem::copy(e + 16, dtb.as_ptr() as usize, dtb.len());
        // seL4 `create_frames_of_region` over `[extra, extra + extraLen)`: one frame per page
        // started (the rest of the 2^n region is allocated, not mapped).
        for i in 0..layout.extra_len.div_ceil(1 << PAGE_BITS) {
            let (f, v) = (
                e + (i << PAGE_BITS) as usize,
                layout.extra + (i << PAGE_BITS),
            );
            cnode.provide(crate::arch::map_root_frame(objs.vspace, f, v, true))?;
        }
    }
    Ok(SlotRegion {
        start,
        end: cnode.next_free(),
    })
}

/// The image's frames, mapped where the ELF file says, with each loadable segment copied into
/// them (bss stays zero); returns their slots (seL4 `create_frames_of_region`).
fn create_image_frames(
    cnode: &mut RootCNode,
    objs: &RootObjects,
    img: &Image<'_>,
    image_bytes: &[u8],
) -> Result<SlotRegion, BootError> {
    let start = cnode.next_free();
    let image_pages = (img.v_end - img.v_start) >> PAGE_BITS;
    for i in 0..image_pages {
        let v = img.v_start + (i << PAGE_BITS);
        cnode.provide(crate::arch::map_root_frame(
            objs.vspace,
            objs.image_frame(i),
            v,
            true,
        ))?;
    }
    for ph in img.elf.program_iter() {
        if ph.get_type() != Ok(xmas_elf::program::Type::Load) || ph.file_size() == 0 {
            continue;
        }
        let dst = objs.image + (ph.virtual_addr() - img.v_start) as usize;
        let src = &image_bytes[ph.offset() as usize..(ph.offset() + ph.file_size()) as usize];
        crate::mem::copy(dst, src.as_ptr() as usize, src.len());
    }
    Ok(SlotRegion {
        start,
        end: cnode.next_free(),
    })
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
    let tcb = TcbRef::new(objs.tcb);
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
        let sc = crate::object::sched_context::ScRef::new(objs.sc);
        crate::object::sched_context::configure_root(k, tcb, sc);
    }
    cnode.write_slot(slot::INIT_THREAD_TCB, Cap::Thread { tcb: tcb.addr() });
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

/// The untyped caps being handed out, and their BootInfo descriptions.
struct Untypeds<'a> {
    list: &'a mut [UntypedDesc; MAX_NUM_BOOTINFO_UNTYPED_CAPS],
    count: usize,
    /// Untypeds that did not fit in BootInfo.
    dropped: usize,
}

impl Untypeds<'_> {
    /// seL4 `provide_untyped_cap`: the untyped of 2^`bits` bytes at `paddr` into the next free
    /// slot, unless BootInfo's list is full.
    fn provide(&mut self, cnode: &mut RootCNode, paddr: u64, bits: u64, device: bool) {
        if self.count >= MAX_NUM_BOOTINFO_UNTYPED_CAPS {
            self.dropped += 1;
            return;
        }
        let cap = Cap::Untyped {
            ptr: paddr_to_pptr(paddr),
            size_bits: bits as u8,
            free_index: 1 << bits,
            is_device: device,
        };
        if cnode.provide(cap).is_ok() {
            self.list[self.count] = UntypedDesc {
                paddr,
                size_bits: bits as u8,
                is_device: device as u8,
                padding: [0; 6],
            };
            self.count += 1;
        }
    }
}

/// Device untypeds: the gaps below `PADDR_USER_DEVICE_TOP` that are neither RAM nor kernel
/// devices, in address order.
fn create_device_untypeds(
    cnode: &mut RootCNode,
    uts: &mut Untypeds<'_>,
    params: &BootParams,
    ram: &RegionList<MAX_RAM_REGIONS>,
) -> Result<(), BootError> {
    let mut not_device: RegionList<{ MAX_RAM_REGIONS + MAX_RESERVED_REGIONS }> =
        RegionList::default();
    // RAM in pages; the kernel's devices in 2 MiB blocks, the granule in which seL4 maps them
    // (so the device untypeds around them come out as seL4's do).
    let rounded = ram.as_slice().iter().map(|r| (r, PAGE_BITS));
    let devices = params
        .kernel_devices
        .as_slice()
        .iter()
        .map(|r| (r, LARGE_PAGE_BITS));
    for (r, bits) in rounded.chain(devices) {
        let pr = Region::new(r.start & !((1 << bits) - 1), round_up(r.end, bits));
        not_device
            .push(pr)
            .map_err(|_| BootError::Msg("too many regions"))?;
    }
    not_device.sort();
    let mut dev_start = 0u64;
    for r in not_device
        .as_slice()
        .iter()
        .copied()
        .chain(core::iter::once(Region::new(
            PADDR_USER_DEVICE_TOP,
            PADDR_USER_DEVICE_TOP,
        )))
    {
        let end = r.start.min(PADDR_USER_DEVICE_TOP);
        if end > dev_start {
            split_untypeds(dev_start, end, |p, b| uts.provide(cnode, p, b, true));
        }
        dev_start = dev_start.max(r.end);
    }
    Ok(())
}

/// seL4 `create_untypeds`: device untypeds, then the free RAM (with the memory only boot
/// needed) as RAM untypeds; fills `bi.untyped` and `bi.untyped_list`.
fn create_untypeds(
    cnode: &mut RootCNode,
    params: &BootParams,
    ram: &RegionList<MAX_RAM_REGIONS>,
    mut free: FreeList,
    bi: &mut BootInfo,
) -> Result<(), BootError> {
    let start = cnode.next_free();
    let mut uts = Untypeds {
        list: &mut bi.untyped_list,
        count: 0,
        dropped: 0,
    };
    create_device_untypeds(cnode, &mut uts, params, ram)?;
    // The root task's ELF image and the device tree were needed only during boot (both are
    // copied by now): their pages join the free RAM.
    for r in boot_only_memory(params, ram)?.as_slice() {
        free.push(*r)
            .map_err(|_| BootError::Msg("too many free memory fragments"))?;
    }
    free.coalesce();
    for r in free.as_slice() {
        split_untypeds(r.start, r.end, |p, b| uts.provide(cnode, p, b, false));
    }
    if uts.dropped > 0 {
        crate::kwarn!(
            "{} untyped regions did not fit in BootInfo and were dropped",
            uts.dropped
        );
    }
    bi.untyped = SlotRegion {
        start,
        end: cnode.next_free(),
    };
    Ok(())
}

/// Creates the root task (seL4 `init_kernel` / `create_rootserver_objects` and friends) into
/// kernel `k`, from the machine description `params`. Returns the root task's TCB.
///
/// The generic steps are here; the architecture builds the address space, maps the frames,
/// creates the ASID pool and sets the first registers (`crate::arch::create_root_vspace` and
/// friends). The root CNode's slots and BootInfo's regions come out in seL4's order.
///
/// Errors: [`BootError::Msg`] for an unusable image or too little memory.
pub fn create_root_task(k: &mut Kernel, params: &BootParams) -> Result<TcbRef, BootError> {
    if params.initrd.is_empty() {
        return Err(BootError::Msg(
            "no root task image: boot with -initrd ROOTTASK.elf",
        ));
    }
    let image_bytes = crate::mem::phys_bytes(params.initrd.start, params.initrd.size() as usize);
    let dtb_bytes = crate::mem::phys_bytes(params.dtb.start, params.dtb.size() as usize);
    let img = parse_image(image_bytes)?;
    let layout = Layout::new(&img, dtb_bytes.len())?;
    let ram = usable_ram(params);
    let mut free = free_memory(params, &ram)?;
    let objs = allocate_root_objects(&layout, &mut free)?;
    k.irq_node = objs.irq_node;

    let mut cnode = create_root_cnode(objs.cnode);
    let paging = crate::arch::create_root_vspace(
        &mut cnode,
        objs.vspace,
        &objs.paging[..objs.n_paging],
        layout.v_start,
        layout.v_end,
    )?;
    // seL4 maps the BootInfo frame and the IPC buffer not executable (where the architecture
    // has the choice), the image and the extra BootInfo executable.
    let map = |frame, vaddr| crate::arch::map_root_frame(objs.vspace, frame, vaddr, false);
    cnode.write_slot(slot::BOOT_INFO_FRAME, map(objs.boot_info, layout.bootinfo));
    let extra_bi_pages = create_extra_bootinfo(&mut cnode, &objs, &layout, dtb_bytes)?;
    #[cfg(feature = "mcs")]
    let schedcontrol = init_sched_control(&mut cnode)?;
    cnode.write_slot(
        slot::INIT_THREAD_IPC_BUFFER,
        map(objs.ipc_buf, layout.ipc_buf),
    );
    let frames = create_image_frames(&mut cnode, &objs, &img, image_bytes)?;
    crate::arch::create_root_asid_pool(k, &cnode, objs.asid_pool, objs.vspace);
    let tcb = create_root_tcb(k, &cnode, &objs, &layout, img.entry)?;

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
    create_untypeds(&mut cnode, params, &ram, free, &mut bi)?;
    bi.empty = SlotRegion {
        start: cnode.next_free(),
        end: 1 << ROOT_CNODE_SIZE_BITS,
    };
    crate::mem::PPtr::<BootInfo>::new(objs.boot_info).set(bi);

    #[cfg(not(feature = "mcs"))]
    crate::ipc::setup_reply_master(tcb);
    crate::object::interrupt::init_irqs(k);
    #[cfg(feature = "debug_build")]
    {
        crate::debug::tcbs::boot(k, tcb);
        k.debug.set_ram(ram.as_slice());
    }
    k.cur_thread = tcb;
    // MCS (seL4 `init_core_state`, then `schedule` switching to the root thread): its
    // scheduling context is the current one, nothing consumed yet, the timer to be programmed.
    #[cfg(feature = "mcs")]
    crate::sched::mcs::init_core_state(k);
    Ok(tcb)
}

/// Creates the root task into the kernel's global state and returns its register context, which
/// the architecture restores to enter user mode. The platform's devices are set up first.
///
/// Errors: [`BootError::Msg`] for missing or unusable boot input (no initrd, bad ELF, not
/// enough memory for the root task's objects).
#[cfg(target_os = "none")]
pub fn boot_system(params: &BootParams) -> Result<*mut crate::arch::ArchContext, BootError> {
    crate::state::with_kernel(|k| {
        crate::arch::init_platform(k, &params.platform);
        let t = create_root_task(k, params)?;
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
