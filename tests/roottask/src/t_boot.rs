//! BootInfo and the initial CSpace, as seL4 16.0.0 sets them up (`src/kernel/boot.c`,
//! `src/arch/riscv/kernel/boot.c`).

use abi::config::{MAX_NUM_BOOTINFO_UNTYPED_CAPS, ROOT_CNODE_SIZE_BITS};
use abi::object::{MAX_UNTYPED_BITS, MIN_UNTYPED_BITS};
use abi::platform::current::PADDR_USER_DEVICE_TOP;
use abi::{slot, UntypedDesc};
use libsel4::bootinfo::{self, BootInfoExt, SlotRegionExt, FDT_MAGIC};
use libsel4::cap_tag as tag;
use libsel4::rt::image_range;

use crate::framework::{ident, Ctx, Regions, TestResult};
use crate::{check, check_eq, ok};

const PAGE: u64 = 4096;

/// Bytes of extra BootInfo memory seL4 reserves for `extra_len` bytes
/// (`calculate_extra_bi_size_bits`: the next power of two of the page-rounded size).
fn extra_region_bytes(extra_len: u64) -> u64 {
    if extra_len == 0 {
        0
    } else {
        extra_len.next_multiple_of(PAGE).next_power_of_two()
    }
}

/// How many level-`bits` regions `[start, end)` touches.
fn regions_touched(start: u64, end: u64, bits: u32) -> u64 {
    ((end - 1) >> bits) - (start >> bits) + 1
}

/// nodeID, numNodes, CNode size, domain, and where the IPC buffer and BootInfo frames are:
/// IPC buffer right after the image, BootInfo frame right after it (`try_init_kernel`:
/// `ipcbuf_vptr = ui_v_reg.end; bi_frame_vptr = ipcbuf_vptr + BIT(PAGE_BITS)`).
pub fn bootinfo_basics(c: &mut Ctx) -> TestResult {
    let bi = c.bi;
    check_eq!(bi.node_id, 0, "nodeID");
    check_eq!(bi.num_nodes, 1, "numNodes");
    check_eq!(bi.num_iopt_levels, 0, "numIOPTLevels");
    check_eq!(
        bi.init_thread_cnode_size_bits,
        ROOT_CNODE_SIZE_BITS as u64,
        "initThreadCNodeSizeBits"
    );
    check_eq!(bi.init_thread_domain, 0, "initThreadDomain");
    check_eq!(
        bi.ipc_buffer % PAGE,
        0,
        "ipcBuffer {:#x} alignment",
        bi.ipc_buffer
    );
    let image = image_range();
    check_eq!(
        bi.ipc_buffer,
        image.end as u64,
        "ipcBuffer vs end of the image {:#x?}",
        image
    );
    let bi_addr = bi as *const abi::BootInfo as u64;
    check_eq!(
        bi_addr,
        bi.ipc_buffer + PAGE,
        "BootInfo frame address (a0 at entry)"
    );
    Ok(())
}

/// The slot regions come in seL4's creation order, back to back from slot 16: user image page
/// tables, extra BootInfo frames, (MCS: the SchedControl caps,) user image frames, untypeds,
/// then empty up to 2^13; with the sizes the image implies.
pub fn bootinfo_slot_regions(c: &mut Ctx) -> TestResult {
    let bi = c.bi;
    let r = Regions(bi);
    check_eq!(
        bi.user_image_paging.start,
        slot::NUM_INITIAL_CAPS,
        "userImagePaging.start ({r})"
    );
    check_eq!(
        bi.extra_bi_pages.start,
        bi.user_image_paging.end,
        "extraBIPages.start ({r})"
    );
    #[cfg(not(feature = "mcs"))]
    let frames_start = bi.extra_bi_pages.end;
    // `create_sched_control_caps` comes after the extra BootInfo frames
    // (`src/arch/riscv/kernel/boot.c`): one cap per node.
    #[cfg(feature = "mcs")]
    let frames_start = {
        check_eq!(
            (bi.schedcontrol.start, bi.schedcontrol.count()),
            (bi.extra_bi_pages.end, bi.num_nodes),
            "schedcontrol ({r})"
        );
        bi.schedcontrol.end
    };
    check_eq!(
        bi.user_image_frames.start,
        frames_start,
        "userImageFrames.start ({r})"
    );
    check_eq!(
        bi.untyped.start,
        bi.user_image_frames.end,
        "untyped.start ({r})"
    );
    check_eq!(bi.empty.start, bi.untyped.end, "empty.start ({r})");
    check_eq!(bi.empty.end, 1 << ROOT_CNODE_SIZE_BITS, "empty.end ({r})");
    check!(bi.empty.count() > 0, "no empty slots ({r})");
    check_eq!(
        bi.shared_frames.count(),
        0,
        "sharedFrames on a uniprocessor"
    );
    check_eq!(bi.io_space_caps.count(), 0, "ioSpaceCaps (no IOMMU)");

    let image = image_range();
    let (start, end) = (image.start as u64, image.end as u64);
    check_eq!(
        bi.user_image_frames.count(),
        (end - start) / PAGE,
        "userImageFrames for image {:#x}..{:#x}",
        start,
        end
    );
    // create_frames_of_region over [extra_bi, extra_bi + extraLen): one frame per started page.
    check_eq!(
        bi.extra_bi_pages.count(),
        bi.extra_len.div_ceil(PAGE),
        "extraBIPages for extraLen {}",
        bi.extra_len
    );
    // create_it_address_space: a page table per region one entry of each level above the
    // frames covers (riscv64: 1 GiB, 2 MiB; aarch64: 512 GiB, 1 GiB, 2 MiB) of the initial
    // thread's region (image, IPC buffer, BootInfo frame, extra BootInfo rounded to 2^n).
    let it_end = bi.ipc_buffer + 2 * PAGE + extra_region_bytes(bi.extra_len);
    let want: u64 = crate::arch::TABLE_SPANS
        .iter()
        .map(|&bits| regions_touched(start, it_end, bits))
        .sum();
    check_eq!(
        bi.user_image_paging.count(),
        want,
        "userImagePaging for {:#x}..{:#x}",
        start,
        it_end
    );
    Ok(())
}

fn end(d: &UntypedDesc) -> u64 {
    d.paddr + (1u64 << d.size_bits)
}

/// The untyped list: as many entries as untyped slots, the rest zero; sizes 4..=38, naturally
/// aligned; device untypeds first, ascending and disjoint, the last one ending at
/// `PADDR_USER_DEVICE_TOP`; RAM untypeds disjoint from each other and from device memory, in
/// seL4's order (the reused boot memory, then the free regions ascending).
pub fn bootinfo_untyped_list(c: &mut Ctx) -> TestResult {
    let bi = c.bi;
    let n = bi.untyped.count() as usize;
    check!(
        n > 0 && n <= MAX_NUM_BOOTINFO_UNTYPED_CAPS,
        "untyped region {:?}",
        bi.untyped.range()
    );
    for (i, d) in bi.untyped_list.iter().enumerate().skip(n) {
        check_eq!(
            *d,
            UntypedDesc::default(),
            "untypedList[{}] past the untyped region",
            i
        );
    }
    let list = bi.untyped_descs();
    for (i, d) in list.iter().enumerate() {
        check!(
            (MIN_UNTYPED_BITS..=MAX_UNTYPED_BITS).contains(&(d.size_bits as u64)),
            "untyped {} size_bits {}",
            i,
            d.size_bits
        );
        check!(
            d.paddr % (1 << d.size_bits) == 0,
            "untyped {} at {:#x} not aligned to 2^{}",
            i,
            d.paddr,
            d.size_bits
        );
        check!(d.is_device <= 1, "untyped {} isDevice {}", i, d.is_device);
        check_eq!(d.padding, [0; 6], "untyped {} padding", i);
    }
    let n_dev = list.iter().take_while(|d| d.is_device == 1).count();
    check!(
        list[n_dev..].iter().all(|d| d.is_device == 0),
        "a device untyped follows a RAM untyped"
    );
    check!(n_dev > 0, "no device untypeds");
    check!(n_dev < n, "no RAM untypeds");
    let (dev, ram) = list.split_at(n_dev);
    for w in dev.windows(2) {
        check!(
            end(&w[0]) <= w[1].paddr,
            "device untypeds out of order or overlapping: {:#x}, {:#x}",
            w[0].paddr,
            w[1].paddr
        );
    }
    if n < MAX_NUM_BOOTINFO_UNTYPED_CAPS {
        check_eq!(
            end(&dev[dev.len() - 1]),
            PADDR_USER_DEVICE_TOP,
            "end of the last device untyped"
        );
    }
    for (i, a) in ram.iter().enumerate() {
        for b in &ram[i + 1..] {
            check!(
                end(a) <= b.paddr || end(b) <= a.paddr,
                "RAM untypeds {:#x} and {:#x} overlap",
                a.paddr,
                b.paddr
            );
        }
        for d in dev {
            check!(
                end(a) <= d.paddr || end(d) <= a.paddr,
                "RAM untyped {:#x} overlaps device {:#x}",
                a.paddr,
                d.paddr
            );
        }
    }
    // At most one step down: from the boot-memory run (contiguous blocks) to the free regions.
    let descents: usize = ram.windows(2).filter(|w| w[1].paddr < w[0].paddr).count();
    check!(
        descents <= 1,
        "RAM untypeds out of order ({} descents)",
        descents
    );
    if let Some(k) = ram.windows(2).position(|w| w[1].paddr < w[0].paddr) {
        check!(
            ram[..=k].windows(2).all(|w| end(&w[0]) == w[1].paddr),
            "RAM untypeds out of order at {}",
            k
        );
    }
    check!(bi.ram_untyped_bytes() > 0, "no RAM");
    Ok(())
}

/// Extra BootInfo: chunks whose lengths add up to extraLen, among them the device tree
/// (`SEL4_BOOTINFO_HEADER_FDT`, id 6) copied whole: magic 0xd00dfeed, totalsize = payload.
pub fn bootinfo_extra_fdt(c: &mut Ctx) -> TestResult {
    let bi = c.bi;
    check!(bi.extra_len > 16, "extraLen {}", bi.extra_len);
    let extra = match bootinfo::extra_bootinfo() {
        Some(e) => e,
        None => crate::fail!("BootInfo not recorded"),
    };
    let total: u64 = bootinfo::extra_chunks(extra).map(|c| c.len).sum();
    check_eq!(
        total,
        bi.extra_len,
        "sum of the extra BootInfo chunk lengths"
    );
    let fdt = match bootinfo::find_fdt(extra) {
        Some(f) => f,
        None => crate::fail!(
            "no FDT chunk (id 6) in {} bytes of extra BootInfo",
            bi.extra_len
        ),
    };
    check_eq!(bootinfo::fdt_magic(fdt), Some(FDT_MAGIC), "FDT magic");
    let size = bootinfo::fdt_total_size(fdt).unwrap_or(0) as usize;
    check_eq!(size, fdt.len(), "FDT totalsize vs chunk payload");
    for s in bi.extra_bi_pages.range() {
        check_eq!(
            ident(s),
            tag::FRAME,
            "extra BootInfo frame cap in slot {}",
            s
        );
    }
    Ok(())
}

/// The initial caps have the types seL4 gives them; unused initial slots are empty.
pub fn initial_caps_identify(_c: &mut Ctx) -> TestResult {
    let want = [
        (slot::NULL, tag::NULL),
        (slot::INIT_THREAD_TCB, tag::THREAD),
        (slot::INIT_THREAD_CNODE, tag::CNODE),
        (slot::INIT_THREAD_VSPACE, crate::arch::VSPACE_TAG),
        (slot::IRQ_CONTROL, tag::IRQ_CONTROL),
        (slot::ASID_CONTROL, tag::ASID_CONTROL),
        (slot::INIT_THREAD_ASID_POOL, tag::ASID_POOL),
        (slot::IO_PORT_CONTROL, tag::NULL),
        (slot::IO_SPACE, tag::NULL),
        (slot::BOOT_INFO_FRAME, tag::FRAME),
        (slot::INIT_THREAD_IPC_BUFFER, tag::FRAME),
        (slot::DOMAIN, tag::DOMAIN),
        (slot::SMMU_SID_CONTROL, tag::NULL),
        (slot::SMMU_CB_CONTROL, tag::NULL),
        // `seL4_CapInitThreadSC`: the root thread's SchedContext under MCS.
        (
            slot::INIT_THREAD_SC,
            if cfg!(feature = "mcs") {
                tag::SCHED_CONTEXT
            } else {
                tag::NULL
            },
        ),
        (slot::SMC, tag::NULL),
    ];
    for (s, t) in want {
        let got = ident(s);
        check!(
            got == t,
            "slot {}: {} ({}), expected {} ({})",
            s,
            tag::name(got),
            got,
            tag::name(t),
            t
        );
    }
    Ok(())
}

/// Every slot of the BootInfo regions holds what the region says; every empty slot is empty;
/// a CPtr that does not resolve identifies as null.
pub fn boot_region_caps_identify(c: &mut Ctx) -> TestResult {
    let bi = c.bi;
    let regions = [
        ("userImagePaging", bi.user_image_paging, tag::PAGE_TABLE),
        ("extraBIPages", bi.extra_bi_pages, tag::FRAME),
        ("userImageFrames", bi.user_image_frames, tag::FRAME),
        ("untyped", bi.untyped, tag::UNTYPED),
        ("empty", bi.empty, tag::NULL),
    ];
    for (name, r, t) in regions {
        for s in r.range() {
            let got = ident(s);
            check!(
                got == t,
                "{} slot {}: {} ({}), expected {}",
                name,
                s,
                tag::name(got),
                got,
                tag::name(t)
            );
        }
    }
    // Guard bits set: lookupCapAndSlot fails and the debug syscall reports a null cap.
    check_eq!(
        ident(1 << 63 | slot::INIT_THREAD_TCB),
        tag::NULL,
        "CPtr with guard bits set"
    );
    check_eq!(
        ident(1 << ROOT_CNODE_SIZE_BITS),
        tag::NULL,
        "CPtr just past the root CNode"
    );
    Ok(())
}

/// Page_GetAddress on the root task's IPC buffer and BootInfo frames: page-aligned, distinct,
/// and memory that no untyped covers (seL4 reserves the root task's memory before handing out
/// untypeds). The copy of a frame cap reports the same address.
pub fn frame_get_address(c: &mut Ctx) -> TestResult {
    let ipc = ok!(
        libsel4::cap::init::IPC_BUFFER.get_address(),
        "GetAddress(IPC buffer)"
    );
    check_eq!(libsel4::ipc::tag().length(), 1, "GetAddress reply length");
    let bif = ok!(
        libsel4::cap::init::BOOT_INFO_FRAME.get_address(),
        "GetAddress(BootInfo frame)"
    );
    check!(
        ipc % PAGE == 0 && bif % PAGE == 0,
        "addresses {:#x} {:#x} not page aligned",
        ipc,
        bif
    );
    check!(
        ipc != bif,
        "IPC buffer and BootInfo frame at the same address {:#x}",
        ipc
    );
    for d in c.bi.untyped_descs() {
        for a in [ipc, bif] {
            check!(
                a < d.paddr || a >= end(d),
                "frame {:#x} inside untyped {:#x}/{}",
                a,
                d.paddr,
                d.size_bits
            );
        }
    }
    let copy = c.copy(slot::INIT_THREAD_IPC_BUFFER, abi::CapRights::ALL)?;
    let a = ok!(
        libsel4::cap::Granule::from_bits(copy).get_address(),
        "GetAddress(copy)"
    );
    check_eq!(a, ipc, "address through a copy of the IPC buffer frame cap");
    Ok(())
}
