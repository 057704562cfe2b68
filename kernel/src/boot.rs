//! Boot: from the machine description the architecture hands over to a running root task.
//!
//! The architecture's entry code parses the device tree into [`BootParams`], then calls
//! [`boot_system`], which creates the root task as seL4 does (`src/kernel/boot.c`,
//! `src/arch/riscv/kernel/boot.c`).
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

use crate::arch::riscv64::vspace::{self, Pte};
use crate::arch::{paddr_to_pptr, pptr_to_paddr};
use crate::cap::{Cap, FrameSize, Mapping, VmRights};
use crate::cte::{cte_insert, insert_new_cap, Slot};
use crate::object::objecttype::derive_cap;
use crate::object::tcb::{init_tcb, tcb_slot, TcbRef, ThreadState};
use crate::state::Kernel;
use abi::bootinfo::{bootinfo_id, slot, BootInfo, BootInfoHeader, SlotRegion, UntypedDesc};
use abi::config::{MAX_NUM_BOOTINFO_UNTYPED_CAPS, ROOT_CNODE_SIZE_BITS};
use abi::object::*;
use abi::platform::current::PADDR_USER_DEVICE_TOP;

/// The root task's ASID (seL4 `IT_ASID`).
pub const IT_ASID: u16 = 1;
/// Most frames of the root task's image, IPC buffer, BootInfo and extra BootInfo together
/// (bounded by the root CNode's size).
const MAX_IMAGE_PAGES: u64 = 4096;

const PAGE: u64 = 1 << PAGE_BITS;

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
    if elf.header.pt1.class() != xmas_elf::header::Class::SixtyFour
        || elf.header.pt2.machine().as_machine() != xmas_elf::header::Machine::RISC_V
    {
        return Err(BootError::Msg("root task ELF is not 64-bit RISC-V"));
    }
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

/// Hands out slots of the root CNode in order, from `seL4_NumInitialCaps`.
struct SlotCursor {
    cnode: usize,
    next: u64,
}

impl SlotCursor {
    fn slot(&self, i: u64) -> Slot {
        Slot::at(self.cnode).add(i as usize)
    }
    fn provide(&mut self, cap: Cap) -> Result<u64, BootError> {
        if self.next >= 1 << ROOT_CNODE_SIZE_BITS {
            return Err(BootError::Msg("root CNode is full"));
        }
        let i = self.next;
        insert_new_cap(cap, None, self.slot(i));
        self.next += 1;
        Ok(i)
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

/// Maps the 4 KiB frame at physical `paddr` at `vaddr` in the VSpace `root`, whose page tables
/// on the way already exist.
fn map_boot_frame(root: usize, vaddr: u64, paddr: u64) {
    let w = vspace::lookup_pt_slot(root, vaddr);
    debug_assert_eq!(w.level, 0);
    w.slot.set(Pte::leaf(paddr, VmRights::ReadWrite, true));
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
        let b = Region::new(b.start & !(PAGE - 1), round_up(b.end, PAGE_BITS));
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
        let pr = Region::new(r.start & !(PAGE - 1), round_up(r.end, PAGE_BITS));
        out.subtract(pr).map_err(full)?;
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

/// Creates the root task (seL4 `init_kernel` / `create_rootserver_objects` and friends) into
/// kernel `k`, from the machine description `params`. Returns the root task's TCB.
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

    // Virtual layout: image, IPC buffer, BootInfo, extra BootInfo.
    let ipc_vptr = img.v_end;
    let bi_vptr = ipc_vptr + PAGE;
    let extra_len = if dtb_bytes.is_empty() {
        0
    } else {
        16 + dtb_bytes.len() as u64
    };
    let extra_bits = extra_bi_size_bits(extra_len);
    let extra_vptr = bi_vptr + PAGE;
    let v_end = extra_vptr + if extra_bits > 0 { 1 << extra_bits } else { 0 };
    let image_pages = (img.v_end - img.v_start) >> PAGE_BITS;
    if (v_end - img.v_start) >> PAGE_BITS > MAX_IMAGE_PAGES || v_end >= USER_TOP {
        return Err(BootError::Msg("root task image is too large"));
    }
    // Page tables below the root: one per 1 GiB (level 1) and per 2 MiB (level 0) touched.
    let l1_tables = ((v_end - 1) >> 30) - (img.v_start >> 30) + 1;
    let l0_tables = ((v_end - 1) >> 21) - (img.v_start >> 21) + 1;

    // Free RAM: RAM less everything reserved.
    let mut free: RegionList<{ MAX_RAM_REGIONS + 2 * MAX_RESERVED_REGIONS }> =
        RegionList::default();
    let ram = usable_ram(params);
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
        // Reserve whole pages.
        let pr = Region::new(r.start & !(PAGE - 1), round_up(r.end, PAGE_BITS));
        free.subtract(pr)
            .map_err(|_| BootError::Msg("too many free memory fragments"))?;
    }
    free.sort();

    // The root task's objects, biggest first.
    let cnode_bits = ROOT_CNODE_SIZE_BITS as u64 + SLOT_BITS;
    let mut sizes = [0u64; 8];
    let objs: [(u64, u64); 7] = [
        (cnode_bits, 1),
        (extra_bits, if extra_bits > 0 { 1 } else { 0 }),
        (PAGE_TABLE_BITS, 1 + l1_tables + l0_tables),
        (ASID_POOL_BITS, 1),
        (PAGE_BITS, 3 + image_pages),
        (TCB_BITS, 1),
        (0, 0),
    ];
    let mut total = 0u64;
    for (i, (bits, n)) in objs.iter().enumerate() {
        sizes[i] = if *n > 0 { n << bits } else { 0 };
        total += sizes[i];
    }
    let max_bits = cnode_bits.max(extra_bits);
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
    // Allocate in descending size order so that nothing needs padding. The extra BootInfo
    // region goes before the page-sized objects if it is larger than a page.
    let cnode = ra.alloc(cnode_bits);
    let extra_bi = if extra_bits > PAGE_BITS {
        Some(ra.alloc(extra_bits))
    } else {
        None
    };
    let vspace_root = ra.alloc(PAGE_TABLE_BITS);
    let mut tables = [0usize; 8];
    let n_tables = (l1_tables + l0_tables) as usize;
    if n_tables > tables.len() {
        return Err(BootError::Msg(
            "root task image spans too much virtual memory",
        ));
    }
    for t in tables.iter_mut().take(n_tables) {
        *t = ra.alloc(PAGE_TABLE_BITS);
    }
    let extra_bi = match extra_bi {
        Some(e) => Some(e),
        None if extra_bits > 0 => Some(ra.alloc(extra_bits)),
        None => None,
    };
    let asid_pool = ra.alloc(ASID_POOL_BITS);
    let ipc_frame = ra.alloc(PAGE_BITS);
    let bi_frame = ra.alloc(PAGE_BITS);
    let image_base = ra.next;
    for _ in 0..image_pages {
        ra.alloc(PAGE_BITS);
    }
    // The IRQ node (one slot per interrupt) takes a page.
    const _: () = assert!(crate::object::interrupt::NUM_IRQS * 32 <= 4096);
    k.irq_node = ra.alloc(PAGE_BITS);
    let tcb = TcbRef::new(ra.alloc(TCB_BITS));

    // The root CNode and the fixed caps.
    let root_cnode_cap = Cap::CNode {
        ptr: cnode,
        radix: ROOT_CNODE_SIZE_BITS as u8,
        guard_size: (64 - ROOT_CNODE_SIZE_BITS) as u8,
        guard: 0,
    };
    let mut cur = SlotCursor {
        cnode,
        next: slot::NUM_INITIAL_CAPS,
    };
    insert_new_cap(root_cnode_cap, None, cur.slot(slot::INIT_THREAD_CNODE));
    insert_new_cap(Cap::Domain, None, cur.slot(slot::DOMAIN));
    insert_new_cap(Cap::IrqControl, None, cur.slot(slot::IRQ_CONTROL));

    // The address space: root page table, the tables below it, the mappings.
    vspace::copy_global_mappings(vspace_root);
    let vspace_cap = Cap::PageTable {
        base: vspace_root,
        mapped: Some(Mapping {
            asid: IT_ASID,
            vaddr: 0,
        }),
    };
    insert_new_cap(vspace_cap, None, cur.slot(slot::INIT_THREAD_VSPACE));
    let paging_start = cur.next;
    let mut ti = 0;
    for level in [2usize, 1] {
        let span_bits = 12 + 9 * level as u64; // bytes mapped by one entry of a level-`level` table
        let mut v = img.v_start & !((1u64 << span_bits) - 1);
        while v < v_end {
            let table = tables[ti];
            ti += 1;
            let w = vspace::lookup_pt_slot(vspace_root, v);
            debug_assert_eq!(w.level, level);
            w.slot.set(Pte::table(pptr_to_paddr(table)));
            cur.provide(Cap::PageTable {
                base: table,
                mapped: Some(Mapping {
                    asid: IT_ASID,
                    vaddr: v,
                }),
            })?;
            v += 1 << span_bits;
        }
    }
    let paging = SlotRegion {
        start: paging_start,
        end: cur.next,
    };

    // BootInfo frame.
    let frame_cap = |base: usize, vaddr: u64| Cap::Frame {
        base,
        size: FrameSize::Small,
        rights: VmRights::ReadWrite,
        is_device: false,
        mapped: Some(Mapping {
            asid: IT_ASID,
            vaddr,
        }),
    };
    map_boot_frame(vspace_root, bi_vptr, pptr_to_paddr(bi_frame));
    insert_new_cap(
        frame_cap(bi_frame, bi_vptr),
        None,
        cur.slot(slot::BOOT_INFO_FRAME),
    );

    // Extra BootInfo: the device tree.
    let extra_start = cur.next;
    if let Some(e) = extra_bi {
        crate::mem::PPtr::<BootInfoHeader>::new(e).set(BootInfoHeader {
            id: bootinfo_id::FDT,
            len: extra_len,
        });
        crate::mem::copy(e + 16, dtb_bytes.as_ptr() as usize, dtb_bytes.len());
        for i in 0..(1u64 << extra_bits) >> PAGE_BITS {
            let (f, v) = (e + (i << PAGE_BITS) as usize, extra_vptr + (i << PAGE_BITS));
            map_boot_frame(vspace_root, v, pptr_to_paddr(f));
            cur.provide(frame_cap(f, v))?;
        }
    }
    let extra_region = SlotRegion {
        start: extra_start,
        end: cur.next,
    };

    // IPC buffer.
    map_boot_frame(vspace_root, ipc_vptr, pptr_to_paddr(ipc_frame));
    insert_new_cap(
        frame_cap(ipc_frame, ipc_vptr),
        None,
        cur.slot(slot::INIT_THREAD_IPC_BUFFER),
    );

    // The image: copy each segment into its frames (bss stays zero).
    let frames_start = cur.next;
    for i in 0..image_pages {
        let f = paddr_to_pptr(image_base) + (i << PAGE_BITS) as usize;
        let v = img.v_start + (i << PAGE_BITS);
        map_boot_frame(vspace_root, v, pptr_to_paddr(f));
        cur.provide(frame_cap(f, v))?;
    }
    let image_pptr = paddr_to_pptr(image_base);
    for ph in img.elf.program_iter() {
        if ph.get_type() != Ok(xmas_elf::program::Type::Load) || ph.file_size() == 0 {
            continue;
        }
        let dst = image_pptr + (ph.virtual_addr() - img.v_start) as usize;
        let src = &image_bytes[ph.offset() as usize..(ph.offset() + ph.file_size()) as usize];
        crate::mem::copy(dst, src.as_ptr() as usize, src.len());
    }
    let frames = SlotRegion {
        start: frames_start,
        end: cur.next,
    };

    // ASIDs: the initial pool holds ASIDs 0..512; the root task has IT_ASID.
    k.asid_table[0] = asid_pool;
    crate::mem::PPtr::<u64>::new(asid_pool)
        .add(IT_ASID as usize)
        .set(vspace_root as u64);
    insert_new_cap(
        Cap::AsidPool {
            ptr: asid_pool,
            asid_base: 0,
        },
        None,
        cur.slot(slot::INIT_THREAD_ASID_POOL),
    );
    insert_new_cap(Cap::AsidControl, None, cur.slot(slot::ASID_CONTROL));

    // The initial thread.
    init_tcb(tcb, 0);
    tcb.with(|t| {
        t.priority = 255;
        t.mcp = 255;
        t.ipc_buffer = ipc_vptr;
        t.context.regs[0] = img.entry;
        t.context.regs[crate::arch::riscv64::context::reg::A0] = bi_vptr;
        t.name[..10].copy_from_slice(b"rootserver");
    });
    tcb.set_state(ThreadState::Running);
    let root_slot = cur.slot(slot::INIT_THREAD_CNODE);
    cte_insert(root_cnode_cap, root_slot, tcb.slot(tcb_slot::CTABLE));
    cte_insert(
        vspace_cap,
        cur.slot(slot::INIT_THREAD_VSPACE),
        tcb.slot(tcb_slot::VTABLE),
    );
    let ipc_slot = cur.slot(slot::INIT_THREAD_IPC_BUFFER);
    let ipc_cap =
        derive_cap(ipc_slot, ipc_slot.cap()).map_err(|_| BootError::Msg("IPC buffer cap"))?;
    cte_insert(ipc_cap, ipc_slot, tcb.slot(tcb_slot::BUFFER));
    insert_new_cap(
        Cap::Thread { tcb: tcb.addr() },
        None,
        cur.slot(slot::INIT_THREAD_TCB),
    );

    // Untypeds: device memory (gaps below PADDR_USER_DEVICE_TOP that are neither RAM nor
    // kernel devices), then free RAM.
    let mut bi = BootInfo {
        extra_len,
        node_id: 0,
        num_nodes: 1,
        num_iopt_levels: 0,
        ipc_buffer: ipc_vptr,
        empty: SlotRegion::default(),
        shared_frames: SlotRegion::default(),
        user_image_frames: frames,
        user_image_paging: paging,
        io_space_caps: SlotRegion::default(),
        extra_bi_pages: extra_region,
        init_thread_cnode_size_bits: ROOT_CNODE_SIZE_BITS as u64,
        init_thread_domain: 0,
        untyped: SlotRegion::default(),
        untyped_list: [UntypedDesc::default(); MAX_NUM_BOOTINFO_UNTYPED_CAPS],
    };
    let ut_start = cur.next;
    let mut count = 0usize;
    let mut dropped = 0usize;
    let mut provide_ut = |cur: &mut SlotCursor, paddr: u64, bits: u64, device: bool| {
        if count >= MAX_NUM_BOOTINFO_UNTYPED_CAPS {
            dropped += 1;
            return;
        }
        let cap = Cap::Untyped {
            ptr: paddr_to_pptr(paddr),
            size_bits: bits as u8,
            free_index: 1 << bits,
            is_device: device,
        };
        if cur.provide(cap).is_ok() {
            bi.untyped_list[count] = UntypedDesc {
                paddr,
                size_bits: bits as u8,
                is_device: device as u8,
                padding: [0; 6],
            };
            count += 1;
        }
    };
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
            split_untypeds(dev_start, end, |p, b| provide_ut(&mut cur, p, b, true));
        }
        dev_start = dev_start.max(r.end);
    }
    // The root task's ELF image and the device tree were needed only during boot (both are
    // copied by now): their pages join the free RAM.
    for r in boot_only_memory(params, &ram)?.as_slice() {
        free.push(*r)
            .map_err(|_| BootError::Msg("too many free memory fragments"))?;
    }
    free.coalesce();
    for r in free.as_slice() {
        split_untypeds(r.start, r.end, |p, b| provide_ut(&mut cur, p, b, false));
    }
    if dropped > 0 {
        crate::kwarn!(
            "{} untyped regions did not fit in BootInfo and were dropped",
            dropped
        );
    }
    bi.untyped = SlotRegion {
        start: ut_start,
        end: cur.next,
    };
    bi.empty = SlotRegion {
        start: cur.next,
        end: 1 << ROOT_CNODE_SIZE_BITS,
    };
    crate::mem::PPtr::<BootInfo>::new(bi_frame).set(bi);

    crate::ipc::setup_reply_master(tcb);
    crate::object::interrupt::init_irqs(k);
    #[cfg(feature = "debug_build")]
    {
        crate::debug::tcbs::boot(k, tcb);
        k.debug.set_ram(ram.as_slice());
    }
    k.cur_thread = tcb;
    Ok(tcb)
}

/// Creates the root task into the kernel's global state and returns its register context, which
/// the architecture restores to enter user mode.
///
/// Errors: [`BootError::Msg`] for missing or unusable boot input (no initrd, bad ELF, not
/// enough memory for the root task's objects).
#[cfg(target_os = "none")]
pub fn boot_system(params: &BootParams) -> Result<*mut crate::arch::ArchContext, BootError> {
    crate::state::with_kernel(|k| {
        k.irq_pending = crate::arch::riscv64::machine::irq_pending;
        if let Some(plic) = params.plic {
            crate::arch::riscv64::machine::plic::init(plic, params.plic_ndev);
        }
        let t = create_root_task(k, params)?;
        crate::kinfo!("root task created: entry {:#x}", t.reg(0));
        crate::arch::reset_timer();
        Ok(crate::entry::activate_or_idle(k))
    })
}
