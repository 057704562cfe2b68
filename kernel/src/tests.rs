//! Host tests of boot, CSpace, CNode invocations, retype and the MDB, through the syscall path.

use crate::arch::ArchCap;
use crate::cap::{tag, Cap};
use crate::testing::*;
use abi::bootinfo::slot;
use abi::{CNodeCapData, CapRights, Error, InvocationLabel as L, ObjectType as T};

const CNODE: u64 = slot::INIT_THREAD_CNODE;
/// The root CNode's radix (seL4's CONFIG_ROOT_CNODE_SIZE_BITS: 13, or 17 with
/// `root_cnode_size_bits_17`), its slot count and the guard that makes its caps resolve 64 bits.
const ROOT_BITS: u64 = abi::config::ROOT_CNODE_SIZE_BITS as u64;
const ROOT_SLOTS: u64 = 1 << ROOT_BITS;
const ROOT_GUARD: u64 = 64 - ROOT_BITS;

#[test]
fn boot_creates_the_root_task_as_sel4_does() {
    let mut s = System::boot();
    let bi = s.bootinfo();
    assert_eq!((bi.node_id, bi.num_nodes, bi.num_iopt_levels), (0, 1, 0));
    assert_eq!(bi.init_thread_cnode_size_bits, ROOT_BITS);
    assert_eq!(bi.extra_len, 16 + DTB_LEN as u64);
    assert_eq!(bi.ipc_buffer % 4096, 0);
    assert_eq!(bi.user_image_paging.start, 16);
    // Two tables below the root (one level-1, one level-0), then 2 extra BootInfo pages
    // (16 + 5000 bytes round up to 8 KiB), then the image frames (3 pages: 120+8 bytes + bss).
    assert_eq!(bi.user_image_paging, abi::SlotRegion { start: 16, end: 18 });
    assert_eq!(bi.extra_bi_pages, abi::SlotRegion { start: 18, end: 20 });
    // MCS: the SchedControl cap (one node) comes next (seL4 `init_sched_control`).
    #[cfg(feature = "mcs")]
    assert_eq!(bi.schedcontrol, abi::SlotRegion { start: 20, end: 21 });
    let mcs = cfg!(feature = "mcs") as u64;
    assert_eq!(
        bi.user_image_frames,
        abi::SlotRegion {
            start: 20 + mcs,
            end: 23 + mcs
        }
    );
    assert_eq!(bi.untyped.start, 23 + mcs);
    assert_eq!(
        bi.empty,
        abi::SlotRegion {
            start: bi.untyped.end,
            end: ROOT_SLOTS
        }
    );
    // Initial caps, with seL4's type tags.
    for (i, t) in [
        (slot::INIT_THREAD_TCB, tag::THREAD),
        (slot::INIT_THREAD_CNODE, tag::CNODE),
        (
            slot::INIT_THREAD_VSPACE,
            crate::arch::riscv64::cap::tag::PAGE_TABLE,
        ),
        (slot::IRQ_CONTROL, tag::IRQ_CONTROL),
        (
            slot::ASID_CONTROL,
            crate::arch::riscv64::cap::tag::ASID_CONTROL,
        ),
        (
            slot::INIT_THREAD_ASID_POOL,
            crate::arch::riscv64::cap::tag::ASID_POOL,
        ),
        (slot::IO_PORT_CONTROL, tag::NULL),
        (slot::BOOT_INFO_FRAME, crate::arch::riscv64::cap::tag::FRAME),
        (
            slot::INIT_THREAD_IPC_BUFFER,
            crate::arch::riscv64::cap::tag::FRAME,
        ),
        (slot::DOMAIN, tag::DOMAIN),
        #[cfg(not(feature = "mcs"))]
        (slot::INIT_THREAD_SC, tag::NULL),
        #[cfg(feature = "mcs")]
        (slot::INIT_THREAD_SC, tag::SCHED_CONTEXT),
        #[cfg(feature = "mcs")]
        (20, tag::SCHED_CONTROL),
        (bi.untyped.start, tag::UNTYPED),
        (bi.empty.start, tag::NULL),
    ] {
        assert_eq!(s.identify(i), t, "slot {i}");
    }
    // The image was copied: the word after the headers is at entry.
    let entry = IMAGE_VADDR + 120;
    assert_eq!(
        crate::mem::PPtr::<u64>::sim(s.user_to_pptr(entry)).get(),
        0x1234_5678_9abc_def0
    );
    // The device tree is in the extra BootInfo pages after a header {FDT, len}.
    let extra = s.user_to_pptr(bi.ipc_buffer + 8192);
    assert_eq!(
        crate::mem::PPtr::<[u64; 2]>::sim(extra).get(),
        [6, 16 + DTB_LEN as u64]
    );
    assert_eq!(crate::mem::PPtr::<u8>::sim(extra + 16 + 7).get(), 7);
}

#[test]
fn untypeds_cover_free_ram_without_touching_reserved_memory() {
    let s = System::boot();
    let bi = s.bootinfo();
    let n = (bi.untyped.end - bi.untyped.start) as usize;
    let list = &bi.untyped_list[..n];
    let ram: Vec<_> = list.iter().filter(|d| d.is_device == 0).collect();
    let dev: Vec<_> = list.iter().filter(|d| d.is_device != 0).collect();
    // Device untypeds come first, ascending, and avoid RAM and the kernel's devices.
    assert!(list.iter().take(dev.len()).all(|d| d.is_device != 0));
    for w in dev.windows(2) {
        assert!(w[0].paddr < w[1].paddr);
    }
    for d in &dev {
        let end = d.paddr + (1 << d.size_bits);
        // RAM starts at the kernel image: the firmware's memory below it is device memory.
        assert!(end <= RAM_BASE + 0x20_0000 || d.paddr >= RAM_BASE + (1 << RAM_BITS));
        assert!(end <= 0x0c00_0000 || d.paddr >= 0x1000_0000);
        assert!(d.paddr % (1 << d.size_bits) == 0 && d.size_bits <= 38);
    }
    // RAM untypeds avoid the reserved regions and each other; the initrd and the device tree
    // were needed only during boot and are handed out with the free RAM, and so is the
    // kernel's boot-only first page (seL4's `ki_boot_end`), which comes first.
    assert_eq!((ram[0].paddr, ram[0].size_bits), (KERNEL_IMAGE.start, 12));
    let reserved = [
        (RAM_BASE, KERNEL_IMAGE.start),
        (KERNEL_IMAGE.start + 0x1000, KERNEL_IMAGE.end),
    ];
    for d in &ram {
        let (a, b) = (d.paddr, d.paddr + (1 << d.size_bits));
        assert!(d.paddr % (1 << d.size_bits) == 0);
        for (r0, r1) in reserved {
            assert!(
                b <= r0 || a >= r1,
                "untyped {a:#x}..{b:#x} overlaps reserved {r0:#x}..{r1:#x}"
            );
        }
    }
    let covered = |p: u64| {
        ram.iter()
            .any(|d| d.paddr <= p && p < d.paddr + (1 << d.size_bits))
    };
    assert!(covered(INITRD) && covered(DTB) && covered(DTB + DTB_LEN as u64 - 1));
    for w in ram[1..].windows(2) {
        assert!(w[0].paddr < w[1].paddr, "RAM untypeds in ascending order");
    }
    // Nearly all of the 64 MiB minus the reserved 4 MiB and the root task's objects (the root
    // CNode, 32 bytes a slot, the largest) is there: more than 58 MiB with 2^13 slots.
    let total: u64 = ram.iter().map(|d| 1u64 << d.size_bits).sum();
    let expected = (58 << 20) + (256 << 10) - (ROOT_SLOTS << 5);
    assert!(total > expected, "only {total:#x} bytes of RAM untyped");
}

#[test]
fn region_lists_subtract_and_coalesce() {
    use crate::boot::{Region, RegionList};
    let mut l: RegionList<8> = RegionList::default();
    l.push(Region::new(0x3000, 0x4000)).unwrap();
    l.push(Region::new(0x1000, 0x2000)).unwrap();
    l.push(Region::new(0x2000, 0x2800)).unwrap();
    l.push(Region::new(0x3800, 0x5000)).unwrap();
    l.coalesce();
    assert_eq!(
        l.as_slice(),
        &[Region::new(0x1000, 0x2800), Region::new(0x3000, 0x5000)]
    );
    l.subtract(Region::new(0x1800, 0x3800)).unwrap();
    l.sort();
    assert_eq!(
        l.as_slice(),
        &[Region::new(0x1000, 0x1800), Region::new(0x3800, 0x5000)]
    );
}

#[test]
fn split_untypeds_follows_sel4() {
    let mut v = vec![];
    crate::boot::split_untypeds(0x1000, 0x7000, |p, b| v.push((p, b)));
    assert_eq!(
        v,
        vec![(0x1000, 12), (0x2000, 13), (0x4000, 13), (0x6000, 12)]
    );
    v.clear();
    crate::boot::split_untypeds(0, 1 << 40, |p, b| v.push((p, b)));
    assert_eq!(v.len(), 4);
    assert!(v.iter().all(|&(_, b)| b == 38));
    v.clear();
    crate::boot::split_untypeds(0x10, 0x28, |p, b| v.push((p, b)));
    assert_eq!(v, vec![(0x10, 4)], "blocks under 16 bytes are skipped");
}

#[test]
fn retype_creates_objects_and_errors_are_sel4s() {
    let mut s = System::boot();
    let (ut, _, bits) = s.ram_untyped(16);
    let empty = s.bootinfo().empty.start;
    // Good retype of two endpoints.
    let r = s.retype(ut, T::Endpoint, 0, empty, 2);
    assert_eq!(r.info.label(), 0, "{:?}", r);
    assert_eq!(r.info.length(), 0);
    assert_eq!(s.identify(empty), tag::ENDPOINT);
    assert_eq!(s.identify(empty + 1), tag::ENDPOINT);
    // Errors.
    assert_eq!(
        s.retype(ut, T::Endpoint, 0, empty, 1).error(),
        Error::DeleteFirst
    );
    let r = s.retype(ut, T::Untyped, 39, empty + 5, 1);
    assert_eq!((r.error(), r.mrs[0], r.mrs[1]), (Error::RangeError, 0, 38));
    let r = s.retype(ut, T::Untyped, 64, empty + 5, 1);
    assert_eq!(r.error(), Error::RangeError);
    let r = s.retype(ut, T::CapTable, 0, empty + 5, 1);
    assert_eq!((r.error(), r.mrs[0]), (Error::InvalidArgument, 1));
    let r = s.retype(ut, T::Untyped, 3, empty + 5, 1);
    assert_eq!((r.error(), r.mrs[0]), (Error::InvalidArgument, 1));
    let r = s.retype(ut, T::Endpoint, 0, ROOT_SLOTS, 1);
    assert_eq!(
        (r.error(), r.mrs[0], r.mrs[1]),
        (Error::RangeError, 0, ROOT_SLOTS - 1)
    );
    let r = s.retype(ut, T::Endpoint, 0, empty + 5, 0);
    assert_eq!((r.error(), r.mrs[0], r.mrs[1]), (Error::RangeError, 1, 256));
    let r = s.retype(ut, T::Endpoint, 0, empty + 5, 257);
    assert_eq!((r.error(), r.mrs[0], r.mrs[1]), (Error::RangeError, 1, 256));
    let r = s.retype(ut, T::Endpoint, 0, ROOT_SLOTS - 2, 3);
    assert_eq!((r.error(), r.mrs[0], r.mrs[1]), (Error::RangeError, 1, 2));
    let r = s.retype(ut, T::Untyped, bits as u64 + 1, empty + 5, 1);
    assert_eq!(r.error(), Error::NotEnoughMemory);
    assert_eq!(r.mrs[0], (1 << bits) - 32, "free bytes after two endpoints");
    // Too short a message, missing root cap.
    let r = s.call(ut, L::UntypedRetype, &[2, 0, 0, 0, 0], &[CNODE]);
    assert_eq!(r.error(), Error::TruncatedMessage);
    let r = s.call(ut, L::UntypedRetype, &[2, 0, 0, 0, empty + 5, 1], &[]);
    assert_eq!(r.error(), Error::TruncatedMessage);
    // Wrong label on an untyped.
    assert_eq!(
        s.call(ut, L::CNodeCopy, &[0; 6], &[CNODE]).error(),
        Error::IllegalOperation
    );
    // Destination not a CNode: depth 64 lookup of the untyped's own slot.
    let r = s.call(ut, L::UntypedRetype, &[2, 0, ut, 64, 0, 1], &[CNODE]);
    assert_eq!(
        (r.error(), r.mrs[0], r.mrs[1], r.mrs[2]),
        (Error::FailedLookup, 0, 2, 64)
    );
    // Nothing above changed the state: the next endpoint lands right after the first two.
    assert_eq!(s.retype(ut, T::Endpoint, 0, empty + 2, 1).info.label(), 0);
    let ep = |s: &System, i| match s.root_slot(i).cap() {
        Cap::Endpoint { ptr, .. } => ptr.addr(),
        c => panic!("{c:?}"),
    };
    assert_eq!(ep(&s, empty + 2), ep(&s, empty) + 32);
    assert_eq!(ep(&s, empty + 1), ep(&s, empty) + 16);
    // The boundaries themselves are allowed: the largest untyped size (`seL4_MaxUntypedBits`,
    // then only too little memory), the last slot of the node, a window that ends exactly at
    // the node's end.
    let r = s.retype(ut, T::Untyped, 38, empty + 5, 1);
    assert_eq!(
        r.error(),
        Error::NotEnoughMemory,
        "2^38 is not out of range"
    );
    let r = s.retype(ut, T::Endpoint, 0, ROOT_SLOTS - 2, 2);
    assert_eq!(
        r.info.label(),
        0,
        "a window ending at the node's end: {r:?}"
    );
    assert_eq!(
        (s.identify(ROOT_SLOTS - 2), s.identify(ROOT_SLOTS - 1)),
        (tag::ENDPOINT, tag::ENDPOINT)
    );
    for i in [ROOT_SLOTS - 2, ROOT_SLOTS - 1] {
        assert_eq!(s.cnode(L::CNodeDelete, &[i, 64], &[]).info.label(), 0);
    }
    let r = s.retype(ut, T::Endpoint, 0, ROOT_SLOTS - 1, 1);
    assert_eq!(r.info.label(), 0, "the node's last slot: {r:?}");
    assert_eq!(s.identify(ROOT_SLOTS - 1), tag::ENDPOINT);
    assert_eq!(
        s.cnode(L::CNodeDelete, &[ROOT_SLOTS - 1, 64], &[])
            .info
            .label(),
        0
    );
}

#[test]
fn invalid_object_type_is_invalid_argument_0() {
    let mut s = System::boot();
    let (ut, _, _) = s.ram_untyped(16);
    let e = s.bootinfo().empty.start;
    let count = abi::object::OBJECT_TYPE_COUNT;
    let r = s.call(ut, L::UntypedRetype, &[count, 0, 0, 0, e, 1], &[CNODE]);
    assert_eq!((r.error(), r.mrs[0]), (Error::InvalidArgument, 0));
}

#[test]
fn retype_from_device_untyped_only_makes_frames_and_untypeds() {
    let mut s = System::boot();
    let bi = s.bootinfo();
    let e = bi.empty.start;
    let dev = bi.untyped.start; // device untypeds come first
    assert_eq!(bi.untyped_list[0].is_device, 1);
    let r = s.retype(dev, T::Endpoint, 0, e, 1);
    assert_eq!((r.error(), r.mrs[0]), (Error::InvalidArgument, 1));
    assert_eq!(s.retype(dev, T::SmallPage, 0, e, 1).info.label(), 0);
    assert_eq!(s.identify(e), crate::arch::riscv64::cap::tag::FRAME);
}

#[test]
fn untyped_is_reset_when_its_children_are_gone() {
    let mut s = System::boot();
    let (ut, _, _) = s.ram_untyped(16);
    let e = s.bootinfo().empty.start;
    assert_eq!(s.retype(ut, T::SmallPage, 0, e, 1).info.label(), 0);
    let Cap::Arch(ArchCap::Frame { base, .. }) = s.root_slot(e).cap() else {
        panic!()
    };
    crate::mem::PPtr::<u64>::sim(base.addr()).set(0xdead);
    // While a child exists, allocation continues at the watermark.
    assert_eq!(s.retype(ut, T::SmallPage, 0, e + 1, 1).info.label(), 0);
    let Cap::Arch(ArchCap::Frame { base: b2, .. }) = s.root_slot(e + 1).cap() else {
        panic!()
    };
    assert_eq!(b2.addr(), base.addr() + 4096);
    // Delete both: the next retype starts from the base again, with zeroed memory.
    for i in [e, e + 1] {
        assert_eq!(s.cnode(L::CNodeDelete, &[i, 64], &[]).info.label(), 0);
    }
    assert_eq!(s.retype(ut, T::SmallPage, 0, e, 1).info.label(), 0);
    let Cap::Arch(ArchCap::Frame { base: b3, .. }) = s.root_slot(e).cap() else {
        panic!()
    };
    assert_eq!(b3, base);
    assert_eq!(
        crate::mem::PPtr::<u64>::sim(base.addr()).get(),
        0,
        "reset zeroed the memory"
    );
}

thread_local! {
    /// Calls of [`pending_at_check`] so far, and the call that says an interrupt is pending.
    static CHECKS: std::cell::Cell<(usize, usize)> = const { std::cell::Cell::new((0, 0)) };
}

/// An `irq_pending` hook: true on the `CHECKS.1`-th call only.
fn pending_at_check() -> bool {
    CHECKS.with(|c| {
        let (n, at) = c.get();
        c.set((n + 1, at));
        n + 1 == at
    })
}

/// seL4's `resetUntypedCap` loop, chunk by chunk, as a model: from watermark `free` with
/// `units` work units counted, a preemption point after every chunk but the last, where the
/// `at`-th check finds an interrupt. Returns (preempted, watermark, work units, checks).
fn reset_model(free: u64, chunk: u64, mut units: usize, at: usize) -> (bool, u64, usize, usize) {
    let max = abi::config::MAX_NUM_WORK_UNITS_PER_PREEMPTION;
    let (mut top, mut checks) = (free, 0);
    while top > 0 {
        top = (top - 1) & !(chunk - 1);
        if top > 0 {
            units += 1;
            if units >= max {
                units = 0;
                checks += 1;
                if checks == at {
                    return (true, top, units, checks);
                }
            }
        }
    }
    (false, 0, units, checks)
}

/// The untyped reset clears whole runs of chunks between its checking preemption points, but
/// stops where the chunk-by-chunk loop would (same watermark, same memory cleared, same work
/// units counted and checks made), and resumes from there.
#[test]
fn untyped_reset_preempts_where_the_chunk_loop_does() {
    let mut s = System::boot();
    let (ut, _, _) = s.ram_untyped(17);
    let slot = s.root_slot(ut);
    let Cap::Untyped {
        ptr,
        size_bits,
        is_device,
        ..
    } = slot.cap()
    else {
        panic!("not an untyped")
    };
    let chunk = 1u64 << abi::config::RESET_CHUNK_BITS;
    let size = 1u64 << 17;
    s.k.irq_pending = pending_at_check;
    for free in [size, size - 48, 5 * chunk + 16, chunk, 16] {
        for units in [0, 1, 37, 98, 99] {
            for at in [0, 1, 2, 3] {
                let fill = |from: u64, to: u64| {
                    for a in (from..to).step_by(8) {
                        crate::mem::PPtr::<u64>::sim(ptr.addr() + a as usize)
                            .set(0xabab_abab_abab_abab);
                    }
                };
                fill(0, size);
                slot.set_cap(Cap::Untyped {
                    ptr,
                    size_bits,
                    free_index: free,
                    is_device,
                });
                s.k.work_units = units;
                CHECKS.with(|c| c.set((0, at)));
                let r = crate::object::untyped::reset_untyped_cap(&mut s.k, slot);
                let (preempted, left, units_after, checks) = reset_model(free, chunk, units, at);
                let what = format!("free {free}, units {units}, interrupt at check {at}");
                assert_eq!(r.is_err(), preempted, "{what}");
                let Cap::Untyped { free_index, .. } = slot.cap() else {
                    panic!()
                };
                assert_eq!(free_index, left, "{what}");
                assert_eq!(s.k.work_units, units_after, "{what}");
                assert_eq!(CHECKS.with(|c| c.get().0), checks, "{what}");
                for a in (0..size).step_by(8) {
                    let w = crate::mem::PPtr::<u64>::sim(ptr.addr() + a as usize).get();
                    let cleared = a >= left && a < free;
                    assert_eq!(w == 0, cleared, "{what}: word at {a:#x}");
                }
                if preempted {
                    // Resumed, it finishes the job.
                    CHECKS.with(|c| c.set((0, 0)));
                    assert!(crate::object::untyped::reset_untyped_cap(&mut s.k, slot).is_ok());
                    let Cap::Untyped { free_index, .. } = slot.cap() else {
                        panic!()
                    };
                    assert_eq!(free_index, 0, "{what}");
                    for a in (0..free).step_by(8) {
                        let w = crate::mem::PPtr::<u64>::sim(ptr.addr() + a as usize).get();
                        assert_eq!(w, 0, "{what}: resumed, word at {a:#x}");
                    }
                }
            }
        }
    }
}

#[test]
fn cnode_copy_mint_move_mutate() {
    let mut s = System::boot();
    let (ut, _, _) = s.ram_untyped(16);
    let e = s.bootinfo().empty.start;
    assert_eq!(s.retype(ut, T::Endpoint, 0, e, 1).info.label(), 0);
    // Copy with reduced rights.
    let r = s.cnode(
        L::CNodeCopy,
        &[e + 1, 64, e, 64, CapRights::READ.0],
        &[CNODE],
    );
    assert_eq!(r.info.label(), 0);
    let Cap::Endpoint { badge, rights, .. } = s.root_slot(e + 1).cap() else {
        panic!()
    };
    assert_eq!(badge, 0);
    assert!(rights.receive && !rights.send && !rights.grant);
    // Mint a badge.
    let r = s.cnode(
        L::CNodeMint,
        &[e + 2, 64, e, 64, CapRights::ALL.0, 42],
        &[CNODE],
    );
    assert_eq!(r.info.label(), 0);
    assert!(matches!(
        s.root_slot(e + 2).cap(),
        Cap::Endpoint { badge: 42, .. }
    ));
    // A badged cap cannot be re-badged.
    let r = s.cnode(
        L::CNodeMint,
        &[e + 3, 64, e + 2, 64, CapRights::ALL.0, 7],
        &[CNODE],
    );
    assert_eq!(r.error(), Error::IllegalOperation);
    // Move.
    assert_eq!(
        s.cnode(L::CNodeMove, &[e + 3, 64, e + 2, 64], &[CNODE])
            .info
            .label(),
        0
    );
    assert_eq!(s.identify(e + 2), 0);
    assert!(matches!(
        s.root_slot(e + 3).cap(),
        Cap::Endpoint { badge: 42, .. }
    ));
    // Mutate cannot badge an endpoint (preserve), so it is IllegalOperation.
    let r = s.cnode(L::CNodeMutate, &[e + 4, 64, e, 64, 5], &[CNODE]);
    assert_eq!(r.error(), Error::IllegalOperation);
    // Mint of a CNode cap sets its guard; Mutate moves it and sets the guard again.
    let r = s.cnode(
        L::CNodeMint,
        &[e + 4, 64, CNODE, 64, 15, CNodeCapData::new(0, 40).0],
        &[CNODE],
    );
    assert_eq!(r.info.label(), 0);
    assert!(matches!(
        s.root_slot(e + 4).cap(),
        Cap::CNode { guard_size: 40, .. }
    ));
    let r = s.cnode(
        L::CNodeMutate,
        &[e + 5, 64, e + 4, 64, CNodeCapData::new(0, ROOT_GUARD).0],
        &[CNODE],
    );
    assert_eq!(r.info.label(), 0);
    assert_eq!(s.identify(e + 4), 0);
    assert!(matches!(
        s.root_slot(e + 5).cap(),
        Cap::CNode { guard_size, .. } if guard_size as u64 == ROOT_GUARD
    ));
    // A guard that makes radix + guard exceed 64 bits gives a null cap: IllegalOperation.
    let r = s.cnode(
        L::CNodeMint,
        &[
            e + 6,
            64,
            CNODE,
            64,
            15,
            CNodeCapData::new(0, ROOT_GUARD + 1).0,
        ],
        &[CNODE],
    );
    assert_eq!(r.error(), Error::IllegalOperation);
    // Errors: occupied destination, empty source, bad depth.
    assert_eq!(
        s.cnode(L::CNodeCopy, &[e, 64, e + 3, 64, 15], &[CNODE])
            .error(),
        Error::DeleteFirst
    );
    let r = s.cnode(L::CNodeCopy, &[e + 10, 64, e + 9, 64, 15], &[CNODE]);
    assert_eq!(
        (r.error(), r.mrs[0], r.mrs[1], r.mrs[2]),
        (Error::FailedLookup, 1, 2, 64)
    );
    let r = s.cnode(L::CNodeCopy, &[e + 10, 65, e, 64, 15], &[CNODE]);
    assert_eq!((r.error(), r.mrs[0], r.mrs[1]), (Error::RangeError, 1, 64));
    let r = s.cnode(L::CNodeCopy, &[e + 10, 64, e, 0, 15], &[CNODE]);
    assert_eq!((r.error(), r.mrs[0], r.mrs[1]), (Error::RangeError, 1, 64));
    let r = s.cnode(L::CNodeCopy, &[e + 10, 64, e, 64], &[CNODE]);
    assert_eq!(r.error(), Error::TruncatedMessage);
    let r = s.cnode(L::CNodeCopy, &[e + 10, 64, e, 64, 15], &[]);
    assert_eq!(r.error(), Error::TruncatedMessage);
    // Depth mismatch: a lookup of the radix's depth (13 bits) in a CNode cap with a guard of
    // 64 - radix bits (51).
    let r = s.cnode(L::CNodeCopy, &[e + 10, ROOT_BITS, e, 64, 15], &[CNODE]);
    assert_eq!(
        (r.error(), r.mrs[0], r.mrs[1], r.mrs[2], r.mrs[3]),
        (Error::FailedLookup, 0, 4, ROOT_BITS, 0)
    );
}

/// Address resolution through two CNodes (seL4 `resolveAddressBits`): each level consumes its
/// guard and radix bits and passes the rest on; a walk that stops at a cap that is not a CNode
/// leaves bits, which a CNode operation reports as a depth mismatch with those bits left
/// (`lookupSlotForCNodeOp`); a depth that ends inside a level is a guard mismatch if the guard
/// bits it covers differ and a depth mismatch if they match. Mutation testing found these
/// untested (docs/TESTING.md).
#[test]
fn resolving_through_two_cnode_levels() {
    let mut s = System::boot();
    let (ut, _, _) = s.ram_untyped(16);
    let e = s.bootinfo().empty.start;
    for (t, bits, slot) in [
        (T::CapTable, 4, e),
        (T::CapTable, 4, e + 1),
        (T::Endpoint, 0, e + 2),
    ] {
        ok(s.retype(ut, t, bits, slot, 1));
    }
    // A (slot e + 3): 16 slots behind the 3-bit guard 0b101, 7 bits per lookup. B (16 slots,
    // no guard) goes into A's slot 5, an endpoint copy into A's slot 6.
    let a = e + 3;
    let guard = CNodeCapData::new(0b101, 3).0;
    ok(s.cnode(L::CNodeMint, &[a, 64, e, 64, 15, guard], &[CNODE]));
    let in_a = |i: u64| 0b101 << 4 | i;
    ok(s.call(a, L::CNodeMove, &[in_a(5), 7, e + 1, 64], &[CNODE]));
    ok(s.call(a, L::CNodeCopy, &[in_a(6), 7, e + 2, 64, 15], &[CNODE]));
    // Through A's slot 5 into B's slot 9: 11 bits, 7 in A and 4 in B.
    let in_b = |i: u64| in_a(5) << 4 | i;
    ok(s.call(a, L::CNodeCopy, &[in_b(9), 11, e + 2, 64, 15], &[CNODE]));
    ok(s.cnode(L::CNodeCopy, &[e + 4, 64, in_b(9), 11, 15], &[a]));
    assert!(matches!(s.root_slot(e + 4).cap(), Cap::Endpoint { .. }));
    // With a 12-bit depth the walk reaches the endpoint in B's slot 9 with 1 bit left.
    let r = s.cnode(L::CNodeCopy, &[e + 5, 64, in_b(9) << 1, 12, 15], &[a]);
    assert_eq!(
        (r.error(), r.mrs[..4].to_vec()),
        (Error::FailedLookup, vec![1, 3, 1, 0])
    );
    // The walk stops at the endpoint in A's slot 6 with 4 of 11 bits left.
    let r = s.cnode(L::CNodeCopy, &[e + 5, 64, in_a(6) << 4 | 9, 11, 15], &[a]);
    assert_eq!(
        (r.error(), r.mrs[..4].to_vec()),
        (Error::FailedLookup, vec![1, 3, 4, 0])
    );
    // A 5-bit depth ends inside A's level: the guard bits it covers match, so it is a depth
    // mismatch (5 bits left, 7 found) ...
    let r = s.cnode(L::CNodeCopy, &[e + 5, 64, 0b101 << 2, 5, 15], &[a]);
    assert_eq!(
        (r.error(), r.mrs[..4].to_vec()),
        (Error::FailedLookup, vec![1, 3, 5, 7])
    );
    // ... unless they differ: a guard mismatch naming the cap's guard and its size.
    let r = s.cnode(L::CNodeCopy, &[e + 5, 64, 0b100 << 2, 5, 15], &[a]);
    assert_eq!(
        (r.error(), r.mrs[..5].to_vec()),
        (Error::FailedLookup, vec![1, 4, 5, 0b101, 3])
    );
    // A depth shorter than the guard is a guard mismatch too.
    let r = s.cnode(L::CNodeCopy, &[e + 5, 64, 0b10, 2, 15], &[a]);
    assert_eq!(
        (r.error(), r.mrs[..5].to_vec()),
        (Error::FailedLookup, vec![1, 4, 2, 0b101, 3])
    );
    assert_eq!(s.identify(e + 5), 0);
}

#[test]
fn guard_mismatch_and_copy_of_untyped_with_children() {
    let mut s = System::boot();
    let (ut, _, _) = s.ram_untyped(16);
    let e = s.bootinfo().empty.start;
    // A non-zero cptr prefix fails the root CNode's zero guard (51 bits for a 13-bit radix).
    let r = s.cnode(L::CNodeDelete, &[(1 << 20) | e, 64], &[]);
    assert_eq!(
        (r.error(), r.mrs[0], r.mrs[1], r.mrs[2], r.mrs[3], r.mrs[4]),
        (Error::FailedLookup, 0, 4, 64, 0, ROOT_GUARD)
    );
    // An untyped without children can be copied; with children it must be revoked first.
    assert_eq!(
        s.cnode(L::CNodeCopy, &[e, 64, ut, 64, 15], &[CNODE])
            .info
            .label(),
        0
    );
    // The original is now full: only the copy allocates (seL4 `setUntypedCapAsFull`).
    assert_eq!(
        s.retype(ut, T::Endpoint, 0, e + 1, 1).error(),
        Error::NotEnoughMemory
    );
    assert_eq!(s.retype(e, T::Endpoint, 0, e + 1, 1).info.label(), 0);
    assert_eq!(s.cnode(L::CNodeDelete, &[e + 1, 64], &[]).info.label(), 0);
    assert_eq!(s.cnode(L::CNodeDelete, &[e, 64], &[]).info.label(), 0);
    assert_eq!(s.retype(ut, T::Endpoint, 0, e, 1).info.label(), 0);
    assert_eq!(
        s.cnode(L::CNodeCopy, &[e + 1, 64, ut, 64, 15], &[CNODE])
            .error(),
        Error::RevokeFirst
    );
}

#[test]
fn revoke_deletes_descendants_and_keeps_the_original() {
    let mut s = System::boot();
    let (ut, _, _) = s.ram_untyped(16);
    let e = s.bootinfo().empty.start;
    assert_eq!(s.retype(ut, T::Endpoint, 0, e, 1).info.label(), 0);
    assert_eq!(
        s.cnode(L::CNodeMint, &[e + 1, 64, e, 64, 15, 5], &[CNODE])
            .info
            .label(),
        0
    );
    assert_eq!(
        s.cnode(L::CNodeCopy, &[e + 2, 64, e + 1, 64, 15], &[CNODE])
            .info
            .label(),
        0
    );
    assert_eq!(
        s.cnode(L::CNodeCopy, &[e + 3, 64, e, 64, 15], &[CNODE])
            .info
            .label(),
        0
    );
    assert_eq!(s.cnode(L::CNodeRevoke, &[e, 64], &[]).info.label(), 0);
    assert_eq!(s.identify(e), tag::ENDPOINT);
    for i in 1..4 {
        assert_eq!(s.identify(e + i), 0, "slot e+{i} revoked");
    }
    // Revoking the untyped deletes the endpoint.
    assert_eq!(s.cnode(L::CNodeRevoke, &[ut, 64], &[]).info.label(), 0);
    assert_eq!(s.identify(e), 0);
}

#[test]
fn rotate_moves_three_caps_and_swaps_two() {
    let mut s = System::boot();
    let (ut, _, _) = s.ram_untyped(16);
    let e = s.bootinfo().empty.start;
    // Rotate keeps cap data (`preserve`), which seL4 refuses for endpoints and notifications:
    // use a frame and a TCB.
    assert_eq!(s.retype(ut, T::Endpoint, 0, e + 7, 1).info.label(), 0);
    let r = s.cnode(
        L::CNodeRotate,
        &[e + 8, 64, 0, e + 9, 64, 0, e + 7, 64],
        &[CNODE, CNODE],
    );
    assert_eq!(r.error(), Error::FailedLookup);
    assert_eq!(s.retype(ut, T::SmallPage, 0, e, 1).info.label(), 0);
    assert_eq!(s.retype(ut, T::Tcb, 0, e + 1, 1).info.label(), 0);
    // dest e+2 <- pivot e+1 <- src e.
    let r = s.cnode(
        L::CNodeRotate,
        &[e + 2, 64, 0, e + 1, 64, 0, e, 64],
        &[CNODE, CNODE],
    );
    assert_eq!(r.info.label(), 0, "{r:?}");
    assert_eq!(
        (s.identify(e), s.identify(e + 1), s.identify(e + 2)),
        (0, crate::arch::riscv64::cap::tag::FRAME, tag::THREAD)
    );
    // Swap: src == dest.
    let r = s.cnode(
        L::CNodeRotate,
        &[e + 1, 64, 0, e + 2, 64, 0, e + 1, 64],
        &[CNODE, CNODE],
    );
    assert_eq!(r.info.label(), 0);
    assert_eq!(
        (s.identify(e + 1), s.identify(e + 2)),
        (tag::THREAD, crate::arch::riscv64::cap::tag::FRAME)
    );
    // Rotating an endpoint is refused.
    assert_eq!(s.retype(ut, T::Endpoint, 0, e + 9, 1).info.label(), 0);
    let r = s.cnode(
        L::CNodeRotate,
        &[e + 8, 64, 0, e + 9, 64, 0, e + 7, 64],
        &[CNODE, CNODE],
    );
    assert_eq!(r.error(), Error::IllegalOperation);
    // pivot == src is illegal.
    let r = s.cnode(
        L::CNodeRotate,
        &[e + 3, 64, 0, e + 1, 64, 0, e + 1, 64],
        &[CNODE, CNODE],
    );
    assert_eq!(r.error(), Error::IllegalOperation);
    // Empty pivot.
    let r = s.cnode(
        L::CNodeRotate,
        &[e + 3, 64, 0, e + 5, 64, 0, e + 1, 64],
        &[CNODE, CNODE],
    );
    assert_eq!((r.error(), r.mrs[0]), (Error::FailedLookup, 0));
    crate::tests::check_mdb(&s);
}

#[test]
fn deleting_a_cnode_deletes_what_it_holds() {
    let mut s = System::boot();
    let (ut, _, _) = s.ram_untyped(16);
    let e = s.bootinfo().empty.start;
    // A 4-slot CNode holding an endpoint and a cap to itself (a cycle).
    assert_eq!(s.retype(ut, T::CapTable, 2, e, 1).info.label(), 0);
    assert_eq!(s.retype(ut, T::Endpoint, 0, e + 1, 1).info.label(), 0);
    // Address the new CNode through the root CNode: depth 64 to its slot, then 2 more bits are
    // not possible with depth 64, so insert with Retype's node_index/depth instead.
    let r = s.call(
        ut,
        L::UntypedRetype,
        &[T::Notification as u64, 0, e, 64, 1, 1],
        &[CNODE],
    );
    assert_eq!(r.info.label(), 0, "{r:?}");
    let Cap::CNode { ptr, .. } = s.root_slot(e).cap() else {
        panic!()
    };
    let inner = crate::cte::Slot(ptr);
    assert!(matches!(inner.index(63, 1).cap(), Cap::Notification { .. }));
    // Delete the only cap to the CNode: its contents go too.
    assert_eq!(s.cnode(L::CNodeDelete, &[e, 64], &[]).info.label(), 0);
    assert_eq!(s.identify(e), 0);
    assert!(inner.index(63, 1).is_empty());
    check_mdb(&s);
}

/// Deleting a CNode of 2^8 slots that holds a few caps (endpoints, and the last cap to a
/// CNode of 2^4 slots with an endpoint cap in it), with an interrupt found at the `at`-th
/// check of each attempt (0: never), restarted until it finishes; `direct`: with the zombie
/// loop's shortcut over empty slots (`Kernel::fastpath_off` clear). Returns, per attempt,
/// whether it stopped, the work units then, the checks made and the zombie's count; the big
/// CNode is empty at the end and the root CNode's MDB is checked. `units`: the work units
/// counted before the delete starts (where in the current run of points it begins).
fn delete_big_cnode(direct: bool, at: usize, units: usize) -> Vec<(bool, usize, usize, u64)> {
    let mut s = System::boot();
    s.k.fastpath_off = !direct;
    let (ut, _, _) = s.ram_untyped(16);
    let e = s.bootinfo().empty.start;
    assert_eq!(s.retype(ut, T::CapTable, 8, e, 1).info.label(), 0);
    assert_eq!(s.retype(ut, T::CapTable, 4, e + 1, 1).info.label(), 0);
    assert_eq!(s.retype(ut, T::Endpoint, 0, e + 2, 1).info.label(), 0);
    let (Cap::CNode { ptr: a, .. }, Cap::CNode { ptr: b, .. }) =
        (s.root_slot(e).cap(), s.root_slot(e + 1).cap())
    else {
        panic!()
    };
    let ep = s.root_slot(e + 2);
    let (a, b) = (crate::cte::Slot(a), crate::cte::Slot(b));
    for i in [0, 3, 100, 200, 255] {
        crate::cte::cte_insert(ep.cap(), ep, a.index(8, i));
    }
    crate::cte::cte_insert(ep.cap(), ep, b.index(4, 15));
    let bcap = s.root_slot(e + 1);
    crate::cte::cte_insert(bcap.cap(), bcap, a.index(8, 150));
    assert_eq!(s.cnode(L::CNodeDelete, &[e + 1, 64], &[]).info.label(), 0);
    s.k.irq_pending = pending_at_check;
    s.k.work_units = units;
    let slot = s.root_slot(e);
    let mut out = vec![];
    loop {
        CHECKS.with(|c| c.set((0, at)));
        let r = crate::object::cnode::cte_delete(&mut s.k, slot, true);
        out.push((
            r.is_err(),
            s.k.work_units,
            CHECKS.with(|c| c.get().0),
            slot.raw().w1(),
        ));
        if r.is_ok() {
            break;
        }
        assert!(out.len() < 100, "no progress");
    }
    assert!(slot.is_empty());
    for i in 0..256 {
        assert!(a.index(8, i).is_empty(), "slot {i} of the big CNode");
    }
    // The inner CNode's last cap was in the big one: it is left as a zombie in its own first
    // slot (seL4's cyclic zombie), holding its endpoint cap until the untyped is revoked.
    assert_eq!(b.raw().tag(), tag::ZOMBIE);
    assert!(!b.index(4, 15).is_empty());
    check_mdb(&s);
    out
}

/// The zombie loop's shortcut over a CNode's empty slots stops at the same preemption
/// points, with the same counts, as the general loop.
#[test]
fn deleting_a_cnode_preempts_where_the_general_loop_does() {
    let max = abi::config::MAX_NUM_WORK_UNITS_PER_PREEMPTION;
    for units in [0, 1, 37, max - 2, max - 1] {
        for at in [0, 1, 2, 3, 4] {
            let direct = delete_big_cnode(true, at, units);
            let general = delete_big_cnode(false, at, units);
            assert_eq!(
                direct, general,
                "interrupt at check {at}, {units} units before"
            );
            // About 260 preemption points: two or three checks, so an interrupt at the
            // first or second stops it.
            if units == 0 {
                assert_eq!(
                    direct.len() > 1,
                    at == 1 || at == 2,
                    "interrupt at check {at}"
                );
            }
            if at == 1 {
                assert!(direct.len() > 1, "{units} units before");
            }
        }
    }
}

#[test]
fn invoking_an_empty_slot_suspends_the_thread_with_a_cap_fault() {
    let mut s = System::boot();
    let e = s.bootinfo().empty.start;
    // Send (not Call) to a null cap in a valid slot gives InvalidCapability silently.
    let info = abi::MessageInfo::new(0, 0, 0, 0);
    let _ = s.syscall(abi::Syscall::NBSend, e, info, &[], &[]);
    assert_eq!(s.root.state(), crate::object::tcb::ThreadState::Running);
    // Call on a cptr that fails the guard: a cap fault; no handler, so the thread stops.
    let t = s.root;
    t.set_reg(crate::arch::riscv64::context::reg::A0, 1 << 40);
    t.set_reg(
        crate::arch::riscv64::context::reg::A7,
        abi::Syscall::Call as i64 as u64,
    );
    crate::entry::handle_trap(&mut s.k, crate::entry::Event::Syscall);
    assert_eq!(s.root.state(), crate::object::tcb::ThreadState::Inactive);
}

/// Checks the MDB: the list over all slots of the root CNode is doubly linked consistently.
pub fn check_mdb(s: &System) {
    for i in 0..ROOT_SLOTS {
        let sl = s.root_slot(i);
        if sl.is_empty() {
            assert_eq!(
                sl.mdb(),
                Default::default(),
                "empty slot {i} has an MDB node"
            );
            continue;
        }
        if let Some(n) = sl.mdb().next() {
            assert_eq!(n.mdb().prev(), Some(sl), "next of {i} does not point back");
        }
        if let Some(p) = sl.mdb().prev() {
            assert_eq!(
                p.mdb().next(),
                Some(sl),
                "prev of {i} does not point forward"
            );
        }
    }
}

mod props {
    use super::*;
    use crate::model::{outcome, CSpaceModel, Node};
    use proptest::prelude::*;

    /// Slots the random operations work on: `WINDOW` slots from the first empty one; indices
    /// `WINDOW` and `WINDOW + 1` name the two 64 KiB untypeds everything is made from,
    /// `WINDOW + 2` the boot untyped they came from.
    const WINDOW: u64 = 24;
    const SLOTS: u64 = WINDOW + 3;

    /// A slot operand, chosen when the operation runs: `Untyped(k)` the `k`-th (modulo) slot
    /// holding an untyped cap, `Badgeable(k)` an endpoint or notification cap, `Full(k)` the `k`-th slot holding a cap, `Empty(k)` the `k`-th empty window slot, `Any(i)` slot index `i`.
    #[derive(Clone, Copy, Debug)]
    enum Pick {
        Untyped(u16),
        Badgeable(u16),
        Full(u16),
        Empty(u16),
        Any(u64),
    }

    #[derive(Clone, Debug)]
    enum Op {
        Retype {
            ut: Pick,
            ty: u8,
            size: u64,
            dest: Pick,
            n: u64,
        },
        Copy {
            dest: Pick,
            src: Pick,
            rights: u64,
        },
        Mint {
            dest: Pick,
            src: Pick,
            rights: u64,
            badge: u64,
        },
        Move {
            dest: Pick,
            src: Pick,
        },
        Mutate {
            dest: Pick,
            src: Pick,
            data: u64,
        },
        Rotate {
            dest: Pick,
            pivot: Pick,
            src: Pick,
            data: [u64; 2],
        },
        Delete {
            slot: Pick,
        },
        Revoke {
            slot: Pick,
        },
    }

    /// A slot that usually holds a cap.
    fn full() -> impl Strategy<Value = Pick> {
        prop_oneof![8 => any::<u16>().prop_map(Pick::Full), 1 => (0..SLOTS).prop_map(Pick::Any)]
    }

    /// A window slot that is usually empty.
    fn empty() -> impl Strategy<Value = Pick> {
        prop_oneof![8 => any::<u16>().prop_map(Pick::Empty), 1 => (0..WINDOW).prop_map(Pick::Any)]
    }

    /// An endpoint or notification cap, most of the time.
    fn badgeable() -> impl Strategy<Value = Pick> {
        prop_oneof![2 => any::<u16>().prop_map(Pick::Badgeable), 1 => full()]
    }

    /// An untyped, most of the time.
    fn untyped() -> impl Strategy<Value = Pick> {
        prop_oneof![6 => any::<u16>().prop_map(Pick::Untyped), 1 => full()]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            5 => (untyped(), 0u8..8, 0u64..16, empty(), 1u64..4)
                .prop_map(|(ut, ty, size, dest, n)| Op::Retype { ut, ty, size, dest, n }),
            3 => (empty(), full(), prop_oneof![Just(15u64), 0u64..16]).prop_map(|(dest, src, rights)| Op::Copy { dest, src, rights }),
            // Few badges, so that badged copies of one object meet.
            4 => (empty(), badgeable(), prop_oneof![Just(15u64), 0u64..16], prop_oneof![3 => 1u64..3, 1 => 0u64..4])
                .prop_map(|(dest, src, rights, badge)| Op::Mint { dest, src, rights, badge }),
            1 => (empty(), full()).prop_map(|(dest, src)| Op::Move { dest, src }),
            1 => (empty(), full(), 0u64..4).prop_map(|(dest, src, data)| Op::Mutate { dest, src, data }),
            1 => (prop_oneof![empty(), full()], full(), full(), proptest::array::uniform2(0u64..3))
                .prop_map(|(dest, pivot, src, data)| Op::Rotate { dest, pivot, src, data }),
            2 => full().prop_map(|slot| Op::Delete { slot }),
            3 => badgeable().prop_map(|slot| Op::Revoke { slot }),
        ]
    }

    /// The object type and size argument of a retype: sizes just outside the valid ranges too.
    fn object_type(ty: u8, size: u64) -> (T, u64) {
        match ty {
            0 => (T::Endpoint, 0),
            1 => (T::Notification, 0),
            2 => (T::CapTable, size % 4),
            3 => (T::SmallPage, 0),
            4 => (T::Untyped, [2, 3, 39, 40][size as usize % 4]),
            5 => (T::Untyped, 4 + size % 13),
            6 => (T::PageTable, 0),
            _ => (T::Tcb, 0),
        }
    }

    proptest! {
        #![proptest_config(crate::testing::proptest_config(128))]
        /// Random CNode and retype sequences do what the model says, call by call: the same
        /// error (with its message registers) or success, then the same caps, watermarks and
        /// MDB. Finally revoking the boot untyped removes everything made from it.
        #[test]
        fn cnode_and_retype_sequences_follow_the_model(ops in proptest::collection::vec(op(), 1..60)) {
            let mut s = System::boot();
            let base = s.bootinfo().empty.start;
            let (big, _, _) = s.ram_untyped(17);
            let uts = [base + 1000, base + 1001];
            let slot = |i: u64| match i {
                i if i < WINDOW => base + i,
                i if i < WINDOW + 2 => uts[(i - WINDOW) as usize],
                _ => big,
            };
            let slots: Vec<u64> = (0..SLOTS).map(slot).collect();
            let radix = abi::config::ROOT_CNODE_SIZE_BITS as u8;
            let big_cap = s.root_slot(big).cap();
            let mut m = CSpaceModel::new(radix, vec![Node {
                slot: big,
                cap: s.root_slot(big).cap(),
                revocable: true,
                first_badged: true,
            }]);
            // Two RAM untypeds of 64 KiB made from the boot untyped.
            prop_assert_eq!(outcome(s.retype(big, T::Untyped, 16, uts[0], 2)), m.retype(big, T::Untyped, 16, uts[0], 2));
            prop_assert_eq!(m.list.len(), 3);
            m.check(&s, &slots)?;
            let mut results = [0usize; 2];
            for o in ops {
                // Where each operand is, now: modelled slots holding a cap or empty window slots.
                let full: Vec<u64> = slots.iter().copied().filter(|&i| m.index(i).is_some()).collect();
                let empty: Vec<u64> = slots[..WINDOW as usize].iter().copied().filter(|&i| m.index(i).is_none()).collect();
                let untyped: Vec<u64> = full.iter().copied().filter(|&i| matches!(m.cap(i), Cap::Untyped { .. })).collect();
                let badgeable: Vec<u64> = full.iter().copied().filter(|&i| matches!(m.cap(i), Cap::Endpoint { .. } | Cap::Notification { .. })).collect();
                let at = |p: Pick| match p {
                    Pick::Badgeable(k) if !badgeable.is_empty() => badgeable[k as usize % badgeable.len()],
                    Pick::Untyped(k) if !untyped.is_empty() => untyped[k as usize % untyped.len()],
                    Pick::Full(k) if !full.is_empty() => full[k as usize % full.len()],
                    Pick::Empty(k) if !empty.is_empty() => empty[k as usize % empty.len()],
                    Pick::Untyped(k) | Pick::Badgeable(k) | Pick::Full(k) | Pick::Empty(k) => slot(k as u64 % SLOTS),
                    Pick::Any(i) => slot(i),
                };
                let (kernel, model) = match o {
                    Op::Retype { ut, ty, size, dest, n } => {
                        let (t, size) = object_type(ty, size);
                        let (ut, dest) = (at(ut), at(dest));
                        // An endpoint or notification would be IPC, not an invocation.
                        if matches!(m.cap(ut), Cap::Endpoint { .. } | Cap::Notification { .. }) {
                            continue;
                        }
                        // The window ends at the end of the CNode when it starts at the
                        // untyped slots.
                        let n = if dest < base + WINDOW { n.min(base + WINDOW - dest) } else { n };
                        (s.retype(ut, t, size, dest, n), m.retype(ut, t, size, dest, n))
                    }
                    Op::Copy { dest, src, rights } => {
                        let (dest, src) = (at(dest), at(src));
                        (
                            s.cnode(L::CNodeCopy, &[dest, 64, src, 64, rights], &[CNODE]),
                            m.copy(dest, src, CapRights(rights)),
                        )
                    }
                    Op::Mint { dest, src, rights, badge } => {
                        let (dest, src) = (at(dest), at(src));
                        (
                            s.cnode(L::CNodeMint, &[dest, 64, src, 64, rights, badge], &[CNODE]),
                            m.mint(dest, src, CapRights(rights), badge),
                        )
                    }
                    Op::Move { dest, src } => {
                        let (dest, src) = (at(dest), at(src));
                        (s.cnode(L::CNodeMove, &[dest, 64, src, 64], &[CNODE]), m.move_cap(dest, src))
                    }
                    Op::Mutate { dest, src, data } => {
                        let (dest, src) = (at(dest), at(src));
                        (
                            s.cnode(L::CNodeMutate, &[dest, 64, src, 64, data], &[CNODE]),
                            m.mutate(dest, src, data),
                        )
                    }
                    Op::Rotate { dest, pivot, src, data } => {
                        let (dest, pivot, src) = (at(dest), at(pivot), at(src));
                        (
                            s.cnode(
                                L::CNodeRotate,
                                &[dest, 64, data[0], pivot, 64, data[1], src, 64],
                                &[CNODE, CNODE],
                            ),
                            m.rotate(dest, pivot, data[0], src, data[1]),
                        )
                    }
                    Op::Delete { slot } => {
                        let i = at(slot);
                        (s.cnode(L::CNodeDelete, &[i, 64], &[]), m.delete(i))
                    }
                    Op::Revoke { slot } => {
                        let i = at(slot);
                        (s.cnode(L::CNodeRevoke, &[i, 64], &[]), m.revoke(i))
                    }
                };
                prop_assert_eq!(outcome(kernel), model.clone(), "{:?}", o);
                results[model.is_ok() as usize] += 1;
                prop_assert_eq!(s.root.state(), crate::object::tcb::ThreadState::Running);
                m.check(&s, &slots)?;
            }
            // Revoking the boot untyped (wherever it is now) leaves nothing made from it.
            if let Some(at) = m.list.iter().find(|n| matches!((n.cap, big_cap), (Cap::Untyped { ptr: a, size_bits: x, .. }, Cap::Untyped { ptr: b, size_bits: y, .. }) if a == b && x == y)).map(|n| n.slot) {
                prop_assert_eq!(outcome(s.cnode(L::CNodeRevoke, &[at, 64], &[])), m.revoke(at));
                m.check(&s, &slots)?;
                let inside = |c: Cap| crate::model::same_region(&big_cap, &c);
                for &i in &slots {
                    prop_assert!(i == at || !inside(s.root_slot(i).cap()), "slot {} survived the revoke", i);
                }
            }
            check_mdb(&s);
        }
    }
}
