//! Host tests of the RISC-V VSpace invocations (`objects.rs`) and VSpace deletion
//! (`vspace.rs`), through the real syscall path of a booted simulated machine.

use crate::arch::riscv64::cap::{ArchCap, FrameSize, Mapping, VmRights};
use crate::arch::riscv64::vspace::{
    self, level_bits, lookup_pt_slot, PtRef, Pte, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X,
};
use crate::arch::{paddr_to_pptr, pptr_to_paddr};
use crate::cap::Cap;
use crate::cte::insert_new_cap;
use crate::mem::{Link, PPtr};
use crate::testing::*;
use abi::bootinfo::slot;
use abi::object::USER_TOP;
use abi::{CapRights, Error, InvocationLabel as L, ObjectType as T};

const CNODE: u64 = slot::INIT_THREAD_CNODE;
const VSPACE: u64 = slot::INIT_THREAD_VSPACE;
const ASID_CONTROL: u64 = slot::ASID_CONTROL;
const POOL0: u64 = slot::INIT_THREAD_ASID_POOL;
const XN: u64 = crate::arch::riscv64::objects::VM_ATTR_EXECUTE_NEVER;
const GIB: u64 = 1 << 30;
const MIB2: u64 = 1 << 21;
/// `seL4_LookupFailureType` numbers.
const INVALID_ROOT: u64 = 1;
const MISSING_CAPABILITY: u64 = 2;

use crate::testing::{err, ok_empty as ok};

fn pt_map(s: &mut System, pt: u64, vs: u64, vaddr: u64) -> Reply {
    s.call(pt, L::RISCVPageTableMap, &[vaddr, 0], &[vs])
}

fn page_map(
    s: &mut System,
    frame: u64,
    vs: u64,
    vaddr: u64,
    rights: CapRights,
    attr: u64,
) -> Reply {
    s.call(frame, L::RISCVPageMap, &[vaddr, rights.0, attr], &[vs])
}

fn make_pool(s: &mut System, ut: u64, dest: u64) -> Reply {
    s.call(
        ASID_CONTROL,
        L::RISCVASIDControlMakePool,
        &[dest, 64],
        &[ut, CNODE],
    )
}

fn assign(s: &mut System, pool: u64, pt: u64) -> Reply {
    s.call(pool, L::RISCVASIDPoolAssign, &[], &[pt])
}

fn delete(s: &mut System, i: u64) {
    ok(s.cnode(L::CNodeDelete, &[i, 64], &[]));
}

fn copy(s: &mut System, dest: u64, src: u64, rights: CapRights) -> Reply {
    s.cnode(L::CNodeCopy, &[dest, 64, src, 64, rights.0], &[CNODE])
}

/// Kernel-virtual base of the page table in slot `i`.
fn pt_base(s: &System, i: u64) -> PtRef {
    match s.root_slot(i).cap() {
        Cap::Arch(ArchCap::PageTable { base, .. }) => base,
        c => panic!("slot {i} holds {c:?}"),
    }
}

/// The `mapped` field of the page table or frame cap in slot `i`.
fn mapped(s: &System, i: u64) -> Option<Mapping> {
    match s.root_slot(i).cap() {
        Cap::Arch(ArchCap::PageTable { mapped, .. }) | Cap::Arch(ArchCap::Frame { mapped, .. }) => {
            mapped
        }
        c => panic!("slot {i} holds {c:?}"),
    }
}

fn frame_paddr(s: &System, i: u64) -> u64 {
    match s.root_slot(i).cap() {
        Cap::Arch(ArchCap::Frame { base, .. }) => pptr_to_paddr(base.addr()),
        c => panic!("slot {i} holds {c:?}"),
    }
}

/// The valid leaf PTE for `vaddr` in the VSpace rooted at `root`, and its level.
fn leaf(root: PtRef, vaddr: u64) -> Option<(Pte, usize)> {
    let w = lookup_pt_slot(root, vaddr);
    let p = w.slot.get();
    (p.valid() && p.is_leaf()).then_some((p, w.level))
}

/// The raw entry the walk for `vaddr` ends at, and its level.
fn entry(root: PtRef, vaddr: u64) -> (Pte, usize) {
    let w = lookup_pt_slot(root, vaddr);
    (w.slot.get(), w.level)
}

/// Entry `i` of the table at `table`.
fn root_entry(table: PtRef, i: usize) -> Pte {
    vspace::pte_slot(table, i).get()
}

/// The untypeds of the root task: (slot, paddr, size bits, is device).
fn untypeds(s: &System) -> Vec<(u64, u64, u8, bool)> {
    let bi = s.bootinfo();
    let n = (bi.untyped.end - bi.untyped.start) as usize;
    bi.untyped_list[..n]
        .iter()
        .enumerate()
        .map(|(i, d)| {
            (
                bi.untyped.start + i as u64,
                d.paddr,
                d.size_bits,
                d.is_device != 0,
            )
        })
        .collect()
}

/// A device untyped of at least 2^`bits` bytes.
fn device_untyped(s: &System, bits: u8) -> u64 {
    untypeds(s)
        .into_iter()
        .find(|u| u.3 && u.2 >= bits)
        .expect("a device untyped")
        .0
}

/// Retypes one object into `dest` from the first RAM untyped of at least 2^`bits` bytes.
#[track_caller]
fn new_obj(s: &mut System, t: T, dest: u64) {
    let (ut, _, _) = s.ram_untyped(22);
    ok(s.retype(ut, t, 0, dest, 1));
}

/// Retypes a 2 MiB frame into `dest` from the first RAM untyped of at least 8 MiB (not the one
/// [`new_obj`] uses).
#[track_caller]
fn new_mega(s: &mut System, dest: u64) {
    let (ut, _, _) = s.ram_untyped(23);
    ok(s.retype(ut, T::MegaPage, 0, dest, 1));
}

/// A fresh VSpace: a page table retyped into `dest` and assigned an ASID from the initial pool.
fn new_vspace(s: &mut System, dest: u64) -> u16 {
    new_obj(s, T::PageTable, dest);
    ok(assign(s, POOL0, dest));
    mapped(s, dest).expect("assigned").asid
}

#[test]
fn maps_frames_of_every_size_at_their_level() {
    let mut s = System::boot();
    let e = s.bootinfo().empty.start;
    let root = pt_base(&s, VSPACE);
    // A level-1 table under root entry 1, then a level-0 table under it.
    new_obj(&mut s, T::PageTable, e);
    new_obj(&mut s, T::PageTable, e + 1);
    ok(pt_map(&mut s, e, VSPACE, GIB + 0x1234_5000));
    assert_eq!(
        mapped(&s, e),
        Some(Mapping {
            asid: 1,
            vaddr: GIB
        }),
        "aligned to the 1 GiB the entry spans"
    );
    let p = root_entry(root, 1);
    assert_eq!(p, Pte::table(pt_base(&s, e)));
    assert!(p.is_table() && !p.is_leaf());
    assert_eq!(
        entry(root, GIB),
        (Pte::INVALID, 1),
        "the walk goes on into the new table"
    );
    ok(pt_map(&mut s, e + 1, VSPACE, GIB + 0x3456));
    assert_eq!(
        mapped(&s, e + 1),
        Some(Mapping {
            asid: 1,
            vaddr: GIB
        }),
        "aligned to 2 MiB"
    );
    assert_eq!(entry(root, GIB).1, 0);

    // 4 KiB at level 0.
    new_obj(&mut s, T::SmallPage, e + 2);
    ok(page_map(
        &mut s,
        e + 2,
        VSPACE,
        GIB + 0x5000,
        CapRights::ALL,
        0,
    ));
    let (p, lvl) = leaf(root, GIB + 0x5000).unwrap();
    assert_eq!((p.paddr(), lvl), (frame_paddr(&s, e + 2), 0));
    assert_eq!(
        p.bits() & 0xff,
        PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | vspace::PTE_A | vspace::PTE_D
    );
    assert_eq!(
        mapped(&s, e + 2),
        Some(Mapping {
            asid: 1,
            vaddr: GIB + 0x5000
        })
    );
    assert!(leaf(root, GIB + 0x4000).is_none() && leaf(root, GIB + 0x6000).is_none());

    // 2 MiB at level 1 (entry 1 of the level-1 table).
    new_mega(&mut s, e + 3);
    ok(page_map(
        &mut s,
        e + 3,
        VSPACE,
        GIB + MIB2,
        CapRights::READ_WRITE,
        XN,
    ));
    let (p, lvl) = leaf(root, GIB + MIB2 + 0x1_2345).unwrap();
    assert_eq!((p.paddr(), lvl), (frame_paddr(&s, e + 3), 1));
    assert_eq!(
        p.bits() & (PTE_R | PTE_W | PTE_X | PTE_U),
        PTE_R | PTE_W | PTE_U,
        "execute never"
    );

    // 1 GiB at the root, from device memory.
    let dev = device_untyped(&s, 30);
    ok(s.retype(dev, T::GigaPage, 0, e + 4, 1));
    assert!(matches!(
        s.root_slot(e + 4).cap(),
        Cap::Arch(ArchCap::Frame {
            size: FrameSize::Giga,
            is_device: true,
            ..
        })
    ));
    ok(page_map(&mut s, e + 4, VSPACE, 2 * GIB, CapRights::ALL, 0));
    let (p, lvl) = leaf(root, 2 * GIB + 0x3fff_f000).unwrap();
    assert_eq!((p.paddr(), lvl), (frame_paddr(&s, e + 4), 2));
    // (Its physical base is 1 GiB-aligned only if the simulated RAM's host allocation is: the
    // host fixture aligns it to 64 MiB, and retype aligns kernel-virtual addresses.)

    // GetAddress of each.
    for i in [e + 2, e + 3, e + 4] {
        let r = s.call(i, L::RISCVPageGetAddress, &[], &[]);
        assert_eq!(
            (r.info.label(), r.info.length(), r.mrs[0]),
            (0, 1, frame_paddr(&s, i))
        );
        assert_eq!(s.root.state(), crate::object::tcb::ThreadState::Running);
    }

    // Unmapping each removes exactly its entry.
    for (i, v, lvl) in [
        (e + 2, GIB + 0x5000, 0),
        (e + 3, GIB + MIB2, 1),
        (e + 4, 2 * GIB, 2),
    ] {
        ok(s.call(i, L::RISCVPageUnmap, &[], &[]));
        assert_eq!(mapped(&s, i), None);
        assert_eq!(entry(root, v), (Pte::INVALID, lvl));
    }
    // The boot mappings are untouched.
    assert_eq!(
        PPtr::<u64>::sim(s.user_to_pptr(IMAGE_VADDR + 120)).get(),
        0x1234_5678_9abc_def0
    );
}

#[test]
fn device_frames_are_mapped_without_touching_their_memory() {
    let mut s = System::boot();
    let e = s.bootinfo().empty.start;
    // A device untyped over RAM nobody else uses (the last big RAM untyped, whose own cap is
    // left alone), so that the test can see whether the kernel wrote to the frames.
    let (_, paddr, _, _) = *untypeds(&s)
        .iter()
        .rev()
        .find(|u| !u.3 && u.2 >= 22)
        .unwrap();
    for bits in [22, 23] {
        let (_, first, _) = s.ram_untyped(bits);
        assert_ne!(
            first, paddr,
            "the region is not one the other helpers allocate from"
        );
    }
    let ptr = paddr_to_pptr(paddr);
    for i in 0..(1usize << 19) {
        PPtr::<u64>::sim(ptr + 8 * i).set(0xa5a5_a5a5_0000_0000 | i as u64);
    }
    let dev = e + 100;
    insert_new_cap(
        Cap::Untyped {
            ptr: PPtr::sim(ptr),
            size_bits: 22,
            free_index: 0,
            is_device: true,
        },
        None,
        s.root_slot(dev),
    );
    ok(s.retype(dev, T::MegaPage, 0, e, 1));
    ok(s.retype(dev, T::SmallPage, 0, e + 1, 1));
    assert!(matches!(
        s.root_slot(e).cap(),
        Cap::Arch(ArchCap::Frame {
            is_device: true,
            ..
        })
    ));
    new_obj(&mut s, T::PageTable, e + 2);
    new_obj(&mut s, T::PageTable, e + 3);
    ok(pt_map(&mut s, e + 2, VSPACE, 3 * GIB));
    ok(pt_map(&mut s, e + 3, VSPACE, 3 * GIB));
    ok(page_map(
        &mut s,
        e,
        VSPACE,
        3 * GIB + MIB2,
        CapRights::ALL,
        0,
    ));
    ok(page_map(&mut s, e + 1, VSPACE, 3 * GIB, CapRights::ALL, XN));
    ok(page_map(
        &mut s,
        e,
        VSPACE,
        3 * GIB + MIB2,
        CapRights::READ,
        0,
    ));
    let r = s.call(e + 1, L::RISCVPageGetAddress, &[], &[]);
    assert_eq!(r.mrs[0], paddr + MIB2);
    ok(s.call(e + 1, L::RISCVPageUnmap, &[], &[]));
    delete(&mut s, e);
    delete(&mut s, e + 1);
    // Retyping again after the children are gone resets the device untyped: no zeroing.
    ok(s.retype(dev, T::SmallPage, 0, e, 1));
    for i in 0..(1usize << 19) {
        assert_eq!(
            PPtr::<u64>::sim(ptr + 8 * i).get(),
            0xa5a5_a5a5_0000_0000 | i as u64,
            "word {i} touched"
        );
    }
}

#[test]
fn page_table_map_errors_are_sel4s_and_change_nothing() {
    let mut s = System::boot();
    let e = s.bootinfo().empty.start;
    let root = pt_base(&s, VSPACE);
    new_obj(&mut s, T::PageTable, e);
    new_obj(&mut s, T::PageTable, e + 1);
    let before = |s: &System| {
        (
            s.root_slot(e).raw(),
            PPtr::<[Pte; 512]>::sim(root.addr()).get().to_vec(),
        )
    };
    let snap = before(&s);
    // Wrong label.
    assert_eq!(
        err(s.call(e, L::RISCVPageMap, &[GIB, 0, 0], &[VSPACE])),
        (Error::IllegalOperation, vec![])
    );
    assert_eq!(
        err(s.call(e, L::CNodeCopy, &[GIB, 0], &[VSPACE])).0,
        Error::IllegalOperation
    );
    // Truncated: one word, or no VSpace cap.
    assert_eq!(
        err(s.call(e, L::RISCVPageTableMap, &[GIB], &[VSPACE])),
        (Error::TruncatedMessage, vec![])
    );
    assert_eq!(
        err(s.call(e, L::RISCVPageTableMap, &[GIB, 0], &[])),
        (Error::TruncatedMessage, vec![])
    );
    // The VSpace cap is not a page table, or not a mapped one.
    assert_eq!(
        err(pt_map(&mut s, e, CNODE, GIB)),
        (Error::InvalidCapability, vec![1])
    );
    assert_eq!(
        err(pt_map(&mut s, e, e + 1, GIB)),
        (Error::InvalidCapability, vec![1])
    );
    // Addresses from USER_TOP up (the kernel window included).
    assert_eq!(
        err(pt_map(&mut s, e, VSPACE, USER_TOP)),
        (Error::InvalidArgument, vec![0])
    );
    assert_eq!(
        err(pt_map(&mut s, e, VSPACE, 0xffff_ffc0_0000_0000)),
        (Error::InvalidArgument, vec![0])
    );
    // A mapped table that is not a VSpace root: the ASID's VSpace is another table.
    let bi = s.bootinfo();
    let boot_l1 = bi.user_image_paging.start;
    assert_eq!(
        err(pt_map(&mut s, e, boot_l1, GIB)),
        (Error::InvalidCapability, vec![1])
    );
    // The walk reaches level 0: the root task's image region is fully paged.
    assert_eq!(
        err(pt_map(&mut s, e, VSPACE, IMAGE_VADDR)),
        (Error::DeleteFirst, vec![])
    );
    assert_eq!(snap, before(&s));
    // A valid entry where the table would go (a 1 GiB frame).
    ok(s.retype(device_untyped(&s, 30), T::GigaPage, 0, e + 2, 1));
    ok(page_map(&mut s, e + 2, VSPACE, GIB, CapRights::ALL, 0));
    let snap = before(&s);
    assert_eq!(
        err(pt_map(&mut s, e, VSPACE, GIB + 0x1000)),
        (Error::DeleteFirst, vec![])
    );
    assert_eq!(snap, before(&s));
    // Already mapped.
    ok(pt_map(&mut s, e, VSPACE, 2 * GIB));
    assert_eq!(
        err(pt_map(&mut s, e, VSPACE, 4 * GIB)),
        (Error::InvalidCapability, vec![0])
    );
    // A second table at that address goes one level down (below the first); a third would
    // have to go below level 0.
    ok(pt_map(&mut s, e + 1, VSPACE, 2 * GIB + 5 * MIB2 + 0x7000));
    assert_eq!(
        mapped(&s, e + 1),
        Some(Mapping {
            asid: 1,
            vaddr: 2 * GIB + 5 * MIB2
        })
    );
    new_obj(&mut s, T::PageTable, e + 3);
    assert_eq!(
        err(pt_map(&mut s, e + 3, VSPACE, 2 * GIB + 5 * MIB2)),
        (Error::DeleteFirst, vec![])
    );
    assert_eq!(mapped(&s, e + 3), None);
}

#[test]
fn page_table_unmap_unlinks_and_clears_the_table() {
    let mut s = System::boot();
    let e = s.bootinfo().empty.start;
    let root = pt_base(&s, VSPACE);
    new_obj(&mut s, T::PageTable, e);
    new_obj(&mut s, T::PageTable, e + 1);
    new_obj(&mut s, T::SmallPage, e + 2);
    ok(pt_map(&mut s, e, VSPACE, GIB));
    ok(pt_map(&mut s, e + 1, VSPACE, GIB));
    ok(page_map(
        &mut s,
        e + 2,
        VSPACE,
        GIB + 0x3000,
        CapRights::ALL,
        0,
    ));
    // Not final: a copy of the mapped table exists.
    ok(copy(&mut s, e + 3, e, CapRights::ALL));
    assert_eq!(
        mapped(&s, e + 3),
        mapped(&s, e),
        "copies of a mapped table are mapped"
    );
    assert_eq!(
        err(s.call(e, L::RISCVPageTableUnmap, &[], &[])),
        (Error::RevokeFirst, vec![])
    );
    delete(&mut s, e + 3);
    assert!(
        root_entry(root, 1).is_table(),
        "deleting a copy unmaps nothing"
    );
    // A live VSpace root cannot be unmapped, final or not.
    assert_eq!(
        err(s.call(VSPACE, L::RISCVPageTableUnmap, &[], &[])),
        (Error::RevokeFirst, vec![])
    );
    new_vspace(&mut s, e + 4);
    assert_eq!(
        err(s.call(e + 4, L::RISCVPageTableUnmap, &[], &[])),
        (Error::RevokeFirst, vec![])
    );
    // Unmapping the level-1 table: the root entry goes, and the table is zeroed (so the level-0
    // table and the frame under it are no longer reachable from anywhere).
    let l1 = pt_base(&s, e);
    assert_ne!(PPtr::<[u64; 512]>::sim(l1.addr()).get(), [0; 512]);
    ok(s.call(e, L::RISCVPageTableUnmap, &[], &[]));
    assert_eq!(mapped(&s, e), None);
    assert_eq!(entry(root, GIB), (Pte::INVALID, 2));
    assert_eq!(PPtr::<[u64; 512]>::sim(l1.addr()).get(), [0; 512]);
    // The caps below still say mapped (seL4 does not chase them); unmapping again is a no-op.
    assert!(mapped(&s, e + 1).is_some() && mapped(&s, e + 2).is_some());
    ok(s.call(e, L::RISCVPageTableUnmap, &[], &[]));
    // The table can be mapped again, elsewhere.
    ok(pt_map(&mut s, e, VSPACE, 3 * GIB));
    assert_eq!(
        mapped(&s, e),
        Some(Mapping {
            asid: 1,
            vaddr: 3 * GIB
        })
    );
    // The frame's stale mapping: mapping it again at its old address fails the lookup (no
    // table there), at another address is refused.
    let r = page_map(&mut s, e + 2, VSPACE, GIB + 0x3000, CapRights::ALL, 0);
    assert_eq!(
        err(r),
        (Error::FailedLookup, vec![0, MISSING_CAPABILITY, 30])
    );
    let r = page_map(&mut s, e + 2, VSPACE, 3 * GIB, CapRights::ALL, 0);
    assert_eq!(err(r).0, Error::FailedLookup);
    ok(s.call(e + 2, L::RISCVPageUnmap, &[], &[]));
    // Unmapping a level-0 table (first this one's stale mapping).
    ok(s.call(e + 1, L::RISCVPageTableUnmap, &[], &[]));
    assert_eq!(mapped(&s, e + 1), None);
    ok(pt_map(&mut s, e + 1, VSPACE, 3 * GIB));
    ok(page_map(
        &mut s,
        e + 2,
        VSPACE,
        3 * GIB + 0x1000,
        CapRights::ALL,
        0,
    ));
    assert!(leaf(root, 3 * GIB + 0x1000).is_some());
    ok(s.call(e + 1, L::RISCVPageTableUnmap, &[], &[]));
    assert_eq!(entry(root, 3 * GIB + 0x1000), (Pte::INVALID, 1));
    assert!(entry(root, 3 * GIB).0 == Pte::INVALID && pt_base(&s, e) == l1);
}

#[test]
fn page_map_errors_are_sel4s_and_change_nothing() {
    let mut s = System::boot();
    let e = s.bootinfo().empty.start;
    let root = pt_base(&s, VSPACE);
    new_obj(&mut s, T::SmallPage, e);
    new_mega(&mut s, e + 1);
    ok(s.retype(device_untyped(&s, 30), T::GigaPage, 0, e + 2, 1));
    new_obj(&mut s, T::PageTable, e + 3);
    new_obj(&mut s, T::PageTable, e + 4);
    ok(pt_map(&mut s, e + 3, VSPACE, GIB));
    ok(pt_map(&mut s, e + 4, VSPACE, GIB));
    let all = CapRights::ALL;
    let snap = |s: &System| {
        let caps: Vec<_> = (e..e + 5).map(|i| s.root_slot(i).raw()).collect();
        let tables: Vec<_> = [root, pt_base(s, e + 3), pt_base(s, e + 4)]
            .iter()
            .map(|&t| PPtr::<[u64; 512]>::sim(t.addr()).get().to_vec())
            .collect();
        (caps, tables)
    };
    let before = snap(&s);
    // Label, truncation.
    assert_eq!(
        err(s.call(e, L::RISCVPageTableMap, &[GIB, 0], &[VSPACE])),
        (Error::IllegalOperation, vec![])
    );
    assert_eq!(
        err(s.call(e, L::RISCVASIDPoolAssign, &[], &[VSPACE])),
        (Error::IllegalOperation, vec![])
    );
    assert_eq!(
        err(s.call(e, L::RISCVPageMap, &[GIB, 15], &[VSPACE])),
        (Error::TruncatedMessage, vec![])
    );
    assert_eq!(
        err(s.call(e, L::RISCVPageMap, &[GIB, 15, 0], &[])),
        (Error::TruncatedMessage, vec![])
    );
    // The VSpace cap: not a page table, not mapped, not a root.
    assert_eq!(
        err(page_map(&mut s, e, CNODE, GIB, all, 0)),
        (Error::InvalidCapability, vec![1])
    );
    new_obj(&mut s, T::PageTable, e + 5);
    assert_eq!(
        err(page_map(&mut s, e, e + 5, GIB, all, 0)),
        (Error::InvalidCapability, vec![1])
    );
    assert_eq!(
        err(page_map(&mut s, e, e + 3, GIB, all, 0)),
        (Error::InvalidCapability, vec![1])
    );
    // Range before alignment, with seL4's inclusive top.
    assert_eq!(
        err(page_map(&mut s, e, VSPACE, USER_TOP - 0x1000, all, 0)).0,
        Error::FailedLookup
    );
    assert_eq!(
        err(page_map(&mut s, e, VSPACE, USER_TOP, all, 0)),
        (Error::InvalidArgument, vec![0])
    );
    assert_eq!(
        err(page_map(&mut s, e, VSPACE, USER_TOP + 0x800, all, 0)),
        (Error::InvalidArgument, vec![0])
    );
    assert_eq!(
        err(page_map(&mut s, e, VSPACE, 0xffff_ffc0_0000_0000, all, 0)),
        (Error::InvalidArgument, vec![0])
    );
    assert_eq!(
        err(page_map(&mut s, e, VSPACE, u64::MAX - 0xfff, all, 0)),
        (Error::InvalidArgument, vec![0])
    );
    // The top wraps for this one: seL4 then reports the alignment.
    assert_eq!(
        err(page_map(&mut s, e, VSPACE, u64::MAX - 0x7ff, all, 0)),
        (Error::AlignmentError, vec![])
    );
    assert_eq!(
        err(page_map(&mut s, e + 2, VSPACE, 0x3f_c000_0000, all, 0)),
        (Error::InvalidArgument, vec![0])
    );
    assert_eq!(
        err(page_map(&mut s, e, VSPACE, GIB + 0x800, all, 0)),
        (Error::AlignmentError, vec![])
    );
    assert_eq!(
        err(page_map(&mut s, e + 1, VSPACE, GIB + 0x1000, all, 0)),
        (Error::AlignmentError, vec![])
    );
    assert_eq!(
        err(page_map(&mut s, e + 2, VSPACE, GIB + MIB2, all, 0)),
        (Error::AlignmentError, vec![])
    );
    // The walk does not end at the frame's level: the bits it left.
    assert_eq!(
        err(page_map(&mut s, e, VSPACE, 2 * GIB, all, 0)),
        (Error::FailedLookup, vec![0, MISSING_CAPABILITY, 30])
    );
    assert_eq!(
        err(page_map(&mut s, e + 1, VSPACE, 2 * GIB, all, 0)),
        (Error::FailedLookup, vec![0, MISSING_CAPABILITY, 30])
    );
    assert_eq!(
        err(page_map(&mut s, e + 2, VSPACE, GIB, all, 0)),
        (Error::FailedLookup, vec![0, MISSING_CAPABILITY, 12])
    );
    assert_eq!(
        err(page_map(&mut s, e + 1, VSPACE, GIB, all, 0)),
        (Error::FailedLookup, vec![0, MISSING_CAPABILITY, 12])
    );
    assert_eq!(
        err(page_map(&mut s, e + 2, VSPACE, 0, all, 0)),
        (Error::FailedLookup, vec![0, MISSING_CAPABILITY, 12])
    );
    // Something is mapped there already (a boot frame of the root task's image).
    assert_eq!(
        err(page_map(&mut s, e, VSPACE, IMAGE_VADDR, all, 0)),
        (Error::DeleteFirst, vec![])
    );
    delete(&mut s, e + 5);
    assert_eq!(before, snap(&s), "errors changed nothing");

    // A mapped frame: remapping elsewhere or into another VSpace is refused.
    ok(page_map(&mut s, e, VSPACE, GIB + 0x4000, all, 0));
    let other = new_vspace(&mut s, e + 5);
    assert_eq!(other, 2, "ASID 0 is skipped and 1 is the root task's");
    new_obj(&mut s, T::PageTable, e + 6);
    new_obj(&mut s, T::PageTable, e + 7);
    ok(pt_map(&mut s, e + 6, e + 5, GIB));
    ok(pt_map(&mut s, e + 7, e + 5, GIB));
    assert_eq!(
        err(page_map(&mut s, e, e + 5, GIB + 0x4000, all, 0)),
        (Error::InvalidCapability, vec![1])
    );
    assert_eq!(
        err(page_map(&mut s, e, VSPACE, GIB + 0x5000, all, 0)),
        (Error::InvalidArgument, vec![0])
    );
    // A second frame where the first is: DeleteFirst.
    new_obj(&mut s, T::SmallPage, e + 8);
    assert_eq!(
        err(page_map(&mut s, e + 8, VSPACE, GIB + 0x4000, all, 0)),
        (Error::DeleteFirst, vec![])
    );
    assert_eq!(
        leaf(root, GIB + 0x4000).unwrap().0.paddr(),
        frame_paddr(&s, e)
    );
    assert_eq!(mapped(&s, e + 8), None);
}

#[test]
fn rights_and_remapping() {
    let mut s = System::boot();
    let e = s.bootinfo().empty.start;
    let root = pt_base(&s, VSPACE);
    new_obj(&mut s, T::PageTable, e);
    new_obj(&mut s, T::PageTable, e + 1);
    ok(pt_map(&mut s, e, VSPACE, GIB));
    ok(pt_map(&mut s, e + 1, VSPACE, GIB));
    new_obj(&mut s, T::SmallPage, e + 2);
    let v = GIB + 0x2000;
    let bits = |root| {
        leaf(root, v).map_or(0, |(p, _)| {
            p.bits() & (PTE_R | PTE_W | PTE_X | PTE_U | PTE_V)
        })
    };
    // Read-only mapping of a read-write frame.
    ok(page_map(&mut s, e + 2, VSPACE, v, CapRights::READ, 0));
    assert_eq!(bits(root), PTE_V | PTE_R | PTE_X | PTE_U);
    // Remap with new rights: same ASID and vaddr; the cap stays mapped there and keeps its
    // own rights.
    ok(page_map(&mut s, e + 2, VSPACE, v, CapRights::ALL, XN));
    assert_eq!(bits(root), PTE_V | PTE_R | PTE_W | PTE_U);
    assert_eq!(mapped(&s, e + 2), Some(Mapping { asid: 1, vaddr: v }));
    assert!(matches!(
        s.root_slot(e + 2).cap(),
        Cap::Arch(ArchCap::Frame {
            rights: VmRights::ReadWrite,
            ..
        })
    ));
    ok(page_map(
        &mut s,
        e + 2,
        VSPACE,
        v,
        CapRights::new(false, true, true, false),
        XN,
    ));
    assert_eq!(bits(root), PTE_V | PTE_R | PTE_U, "grant does not matter");
    // Write-only rights give a kernel-only mapping (seL4 `maskVMRights`): execute-only, or no
    // valid entry at all without execute; the cap records the mapping either way.
    ok(page_map(&mut s, e + 2, VSPACE, v, CapRights::WRITE, 0));
    assert_eq!(bits(root), PTE_V | PTE_X | PTE_U);
    ok(page_map(&mut s, e + 2, VSPACE, v, CapRights::WRITE, XN));
    assert_eq!(entry(root, v), (Pte::INVALID, 0));
    assert_eq!(mapped(&s, e + 2), Some(Mapping { asid: 1, vaddr: v }));
    // ... so the remap path (not DeleteFirst) still works from there.
    ok(page_map(&mut s, e + 2, VSPACE, v, CapRights::NONE, 0));
    assert_eq!(bits(root), PTE_V | PTE_X | PTE_U);
    ok(s.call(e + 2, L::RISCVPageUnmap, &[], &[]));
    assert_eq!(entry(root, v), (Pte::INVALID, 0));
    // A read-only copy can never be mapped writable.
    ok(copy(&mut s, e + 3, e + 2, CapRights::READ));
    assert!(matches!(
        s.root_slot(e + 3).cap(),
        Cap::Arch(ArchCap::Frame {
            rights: VmRights::ReadOnly,
            mapped: None,
            ..
        })
    ));
    ok(page_map(&mut s, e + 3, VSPACE, v, CapRights::ALL, 0));
    assert_eq!(bits(root), PTE_V | PTE_R | PTE_X | PTE_U);
    // Unknown attribute bits are ignored.
    ok(page_map(&mut s, e + 3, VSPACE, v, CapRights::ALL, !XN));
    assert_eq!(bits(root), PTE_V | PTE_R | PTE_X | PTE_U);
}

#[test]
fn page_unmap_only_removes_its_own_mapping_and_get_address_replies() {
    let mut s = System::boot();
    let e = s.bootinfo().empty.start;
    let root = pt_base(&s, VSPACE);
    new_obj(&mut s, T::PageTable, e);
    new_obj(&mut s, T::PageTable, e + 1);
    new_obj(&mut s, T::SmallPage, e + 2);
    new_obj(&mut s, T::SmallPage, e + 3);
    ok(pt_map(&mut s, e, VSPACE, GIB));
    ok(pt_map(&mut s, e + 1, VSPACE, GIB));
    let v = GIB + 0x7000;
    ok(page_map(&mut s, e + 2, VSPACE, v, CapRights::ALL, 0));
    // Unmap, then unmap again (already unmapped: nothing to do).
    ok(s.call(e + 2, L::RISCVPageUnmap, &[], &[]));
    assert_eq!(
        (mapped(&s, e + 2), entry(root, v)),
        (None, (Pte::INVALID, 0))
    );
    ok(s.call(e + 2, L::RISCVPageUnmap, &[], &[]));
    // A stale mapping: the frame's table is unmapped (and cleared) and replaced, and another
    // frame mapped where it was. Unmapping the stale cap leaves the other frame alone.
    ok(page_map(&mut s, e + 2, VSPACE, v, CapRights::ALL, 0));
    ok(s.call(e + 1, L::RISCVPageTableUnmap, &[], &[]));
    ok(pt_map(&mut s, e + 1, VSPACE, GIB));
    ok(page_map(&mut s, e + 3, VSPACE, v, CapRights::ALL, 0));
    assert_eq!(mapped(&s, e + 2), Some(Mapping { asid: 1, vaddr: v }));
    ok(s.call(e + 2, L::RISCVPageUnmap, &[], &[]));
    assert_eq!(mapped(&s, e + 2), None);
    assert_eq!(leaf(root, v).unwrap().0.paddr(), frame_paddr(&s, e + 3));
    // Unknown labels.
    assert_eq!(
        err(s.call(e + 2, L::RISCVPageTableUnmap, &[], &[])),
        (Error::IllegalOperation, vec![])
    );
    assert_eq!(
        err(s.call(e + 2, L::UntypedRetype, &[], &[])),
        (Error::IllegalOperation, vec![])
    );
    // GetAddress: label 0, one word, the physical address; any message is ignored.
    let r = s.call(e + 3, L::RISCVPageGetAddress, &[7, 7, 7, 7, 7], &[CNODE]);
    assert_eq!(
        (
            r.info.label(),
            r.info.length(),
            r.info.extra_caps(),
            r.mrs[0]
        ),
        (0, 1, 0, frame_paddr(&s, e + 3))
    );
    assert_eq!(r.mrs[1], 7, "only MR0 is written");
    // With Send there is no reply: the registers stay as the caller left them.
    let info = abi::MessageInfo::new(L::RISCVPageGetAddress as u64, 0, 0, 0);
    let r = s.syscall(abi::Syscall::Send, e + 3, info, &[0x55], &[]);
    assert_eq!((r.info.0, r.mrs[0]), (info.0, 0x55));
    assert_eq!(s.root.state(), crate::object::tcb::ThreadState::Running);
}

#[test]
fn asid_control_make_pool() {
    let mut s = System::boot();
    let e = s.bootinfo().empty.start;
    let (ut, _, _) = s.ram_untyped(22);
    ok(s.retype(ut, T::Untyped, 12, e, 1));
    ok(s.retype(ut, T::Untyped, 13, e + 1, 1));
    let Cap::Untyped { ptr: pool_ut, .. } = s.root_slot(e).cap() else {
        panic!()
    };
    let pool_mem = pool_ut.addr();
    let table = s.k.asid_table;
    // Errors, in seL4's order.
    let r = s.call(
        ASID_CONTROL,
        L::RISCVASIDPoolAssign,
        &[e + 2, 64],
        &[e, CNODE],
    );
    assert_eq!(err(r), (Error::IllegalOperation, vec![]));
    let r = s.call(
        ASID_CONTROL,
        L::RISCVASIDControlMakePool,
        &[e + 2],
        &[e, CNODE],
    );
    assert_eq!(err(r), (Error::TruncatedMessage, vec![]));
    let r = s.call(
        ASID_CONTROL,
        L::RISCVASIDControlMakePool,
        &[e + 2, 64],
        &[e],
    );
    assert_eq!(err(r), (Error::TruncatedMessage, vec![]));
    assert_eq!(
        err(make_pool(&mut s, e + 1, e + 2)),
        (Error::InvalidCapability, vec![1]),
        "8 KiB"
    );
    assert_eq!(
        err(make_pool(&mut s, CNODE, e + 2)),
        (Error::InvalidCapability, vec![1])
    );
    let dev = device_untyped(&s, 12);
    ok(s.retype(dev, T::Untyped, 12, e + 3, 1));
    assert_eq!(
        err(make_pool(&mut s, e + 3, e + 2)),
        (Error::InvalidCapability, vec![1]),
        "device"
    );
    let r = s.call(
        ASID_CONTROL,
        L::RISCVASIDControlMakePool,
        &[e + 2, 0],
        &[e, CNODE],
    );
    assert_eq!(err(r), (Error::RangeError, vec![1, 64]));
    assert_eq!(
        err(make_pool(&mut s, e, e + 1)),
        (Error::DeleteFirst, vec![])
    );
    ok(s.retype(e, T::Endpoint, 0, e + 2, 1));
    assert_eq!(
        err(make_pool(&mut s, e, e + 4)),
        (Error::RevokeFirst, vec![])
    );
    assert_eq!(s.k.asid_table, table);
    delete(&mut s, e + 2);
    // Dirty memory under the (now childless) untyped: MakePool zeroes the pool.
    for i in 0..512 {
        PPtr::<u64>::sim(pool_mem + 8 * i).set(0xdead_0000 + i as u64);
    }
    // Success: the first free table entry (1, after the root task's pool 0).
    ok(make_pool(&mut s, e, e + 2));
    assert_eq!(s.identify(e + 2), crate::arch::riscv64::cap::tag::ASID_POOL);
    assert_eq!(
        s.root_slot(e + 2).cap(),
        Cap::Arch(ArchCap::AsidPool {
            ptr: PPtr::sim(pool_mem),
            asid_base: 512
        })
    );
    assert_eq!(s.k.asid_table[1].addr(), pool_mem);
    assert_eq!(
        PPtr::<[u64; 512]>::sim(pool_mem).get(),
        [0; 512],
        "the pool is zeroed"
    );
    assert!(
        matches!(
            s.root_slot(e).cap(),
            Cap::Untyped {
                free_index: 4096,
                ..
            }
        ),
        "the untyped is used up"
    );
    assert_eq!(
        err(s.retype(e, T::Endpoint, 0, e + 5, 1)),
        (Error::NotEnoughMemory, vec![0])
    );
    assert_eq!(
        err(make_pool(&mut s, e, e + 5)),
        (Error::RevokeFirst, vec![])
    );
    // The pool cap is a child of the untyped: revoking the untyped deletes the pool.
    ok(s.cnode(L::CNodeRevoke, &[e, 64], &[]));
    assert_eq!(s.identify(e + 2), 0);
    assert!(s.k.asid_table[1].is_none());
    // The used untyped can become a pool again.
    ok(make_pool(&mut s, e, e + 2));
    assert_eq!(s.k.asid_table[1].addr(), pool_mem);
    // Fill the table: 126 more pools fit, then DeleteFirst.
    let (big, _, _) = s.ram_untyped(22);
    ok(s.retype(big, T::Untyped, 12, e + 10, 127));
    for i in 0..126 {
        ok(make_pool(&mut s, e + 10 + i, e + 200 + i));
        assert_eq!(
            s.root_slot(e + 200 + i).cap(),
            Cap::Arch(ArchCap::AsidPool {
                ptr: s.k.asid_table[2 + i as usize].get().unwrap(),
                asid_base: ((2 + i) << 9) as u16
            })
        );
    }
    assert!(s.k.asid_table.iter().all(|p| p.is_some()));
    assert_eq!(
        err(make_pool(&mut s, e + 136, e + 400)),
        (Error::DeleteFirst, vec![])
    );
}

#[test]
fn asid_pool_assign() {
    let mut s = System::boot();
    let e = s.bootinfo().empty.start;
    new_obj(&mut s, T::PageTable, e);
    new_obj(&mut s, T::SmallPage, e + 1);
    let pool0 = s.k.asid_table[0];
    // Errors.
    assert_eq!(
        err(s.call(POOL0, L::RISCVASIDControlMakePool, &[], &[e])),
        (Error::IllegalOperation, vec![])
    );
    assert_eq!(
        err(s.call(POOL0, L::RISCVASIDPoolAssign, &[], &[])),
        (Error::TruncatedMessage, vec![])
    );
    assert_eq!(
        err(assign(&mut s, POOL0, e + 1)),
        (Error::InvalidCapability, vec![1])
    );
    assert_eq!(
        err(assign(&mut s, POOL0, VSPACE)),
        (Error::InvalidCapability, vec![1]),
        "already a VSpace"
    );
    // The pool is not (or no longer) the one in the ASID table for its base.
    s.k.asid_table[0] = Link::NONE;
    assert_eq!(
        err(assign(&mut s, POOL0, e)),
        (Error::FailedLookup, vec![0, INVALID_ROOT])
    );
    s.k.asid_table[0] = Link::to(PPtr::sim(pool0.addr() + 4096));
    assert_eq!(
        err(assign(&mut s, POOL0, e)),
        (Error::InvalidCapability, vec![0])
    );
    s.k.asid_table[0] = pool0;
    assert_eq!(mapped(&s, e), None);
    // Success: ASID 2; the cap is mapped at 0 and the pool names the table. Every thread's
    // cached `satp` is dropped (`Kernel::vm_gen` moves on: the fastpath's `vm_cached` then
    // fails for every thread not yet switched to again).
    let gen = s.k.vm_gen;
    ok(assign(&mut s, POOL0, e));
    assert_ne!(s.k.vm_gen, gen, "the VSpace generation moves on");
    assert_eq!(mapped(&s, e), Some(Mapping { asid: 2, vaddr: 0 }));
    assert_eq!(vspace::find_vspace_for_asid(&s.k, 2), Some(pt_base(&s, e)));
    assert_eq!(
        vspace::asid_pool_entry(pool0.get().unwrap(), 2).get(),
        Link::to(pt_base(&s, e).as_vspace_root())
    );
    // Fill pool 0 (ASIDs 3..511), then DeleteFirst.
    let (ut, _, _) = s.ram_untyped(22);
    ok(s.retype(ut, T::PageTable, 0, e + 10, 256));
    ok(s.retype(ut, T::PageTable, 0, e + 266, 253));
    for i in 0..509 {
        ok(assign(&mut s, POOL0, e + 10 + i));
        assert_eq!(mapped(&s, e + 10 + i).unwrap().asid, 3 + i as u16);
    }
    new_obj(&mut s, T::PageTable, e + 600);
    assert_eq!(
        err(assign(&mut s, POOL0, e + 600)),
        (Error::DeleteFirst, vec![])
    );
    // Deleting one VSpace frees its ASID for the next assignment.
    delete(&mut s, e + 100);
    assert_eq!(vspace::find_vspace_for_asid(&s.k, 93), None);
    ok(assign(&mut s, POOL0, e + 600));
    assert_eq!(mapped(&s, e + 600), Some(Mapping { asid: 93, vaddr: 0 }));
    // A new pool starts at its base (no ASID is skipped there).
    ok(s.retype(ut, T::Untyped, 12, e + 601, 1));
    ok(make_pool(&mut s, e + 601, e + 602));
    new_obj(&mut s, T::PageTable, e + 603);
    ok(assign(&mut s, e + 602, e + 603));
    assert_eq!(
        mapped(&s, e + 603),
        Some(Mapping {
            asid: 512,
            vaddr: 0
        })
    );
}

#[test]
fn two_vspaces_share_a_frame() {
    let mut s = System::boot();
    let e = s.bootinfo().empty.start;
    let a = pt_base(&s, VSPACE);
    let asid_b = new_vspace(&mut s, e);
    let b = pt_base(&s, e);
    for (i, vs) in [(1, VSPACE), (2, VSPACE), (3, e), (4, e)] {
        new_obj(&mut s, T::PageTable, e + i);
        ok(pt_map(&mut s, e + i, vs, GIB));
    }
    new_obj(&mut s, T::SmallPage, e + 5);
    ok(page_map(
        &mut s,
        e + 5,
        VSPACE,
        GIB + 0x1000,
        CapRights::ALL,
        0,
    ));
    // The same frame through a copy of its cap, read-only, at another address in B.
    ok(copy(&mut s, e + 6, e + 5, CapRights::ALL));
    assert_eq!(mapped(&s, e + 6), None, "a copy of a frame cap is unmapped");
    ok(page_map(&mut s, e + 6, e, GIB + 0x9000, CapRights::READ, 0));
    let (pa, _) = leaf(a, GIB + 0x1000).unwrap();
    let (pb, _) = leaf(b, GIB + 0x9000).unwrap();
    assert_eq!(pa.paddr(), pb.paddr());
    assert_eq!((pa.bits() & PTE_W, pb.bits() & PTE_W), (PTE_W, 0));
    assert_eq!(
        mapped(&s, e + 6),
        Some(Mapping {
            asid: asid_b,
            vaddr: GIB + 0x9000
        })
    );
    // Each cap maps once: the copy is B's, the original A's.
    assert_eq!(
        err(page_map(
            &mut s,
            e + 6,
            VSPACE,
            GIB + 0x9000,
            CapRights::READ,
            0
        )),
        (Error::InvalidCapability, vec![1])
    );
    // What the root task writes through A, B sees.
    PPtr::<u64>::sim(s.user_to_pptr(GIB + 0x1008)).set(42);
    assert_eq!(PPtr::<u64>::sim(paddr_to_pptr(pb.paddr()) + 8).get(), 42);
    // Deleting A's cap unmaps it from A only.
    delete(&mut s, e + 5);
    assert!(leaf(a, GIB + 0x1000).is_none());
    assert_eq!(leaf(b, GIB + 0x9000).unwrap().0.paddr(), pb.paddr());
    // The two VSpaces' tables are distinct: unmapping B's level-1 table leaves A's.
    ok(s.call(e + 3, L::RISCVPageTableUnmap, &[], &[]));
    assert!(leaf(b, GIB + 0x9000).is_none());
    assert!(root_entry(a, 1).is_table());
}

#[test]
fn deleting_caps_unmaps_as_sel4_does() {
    let mut s = System::boot();
    let e = s.bootinfo().empty.start;
    let root = pt_base(&s, VSPACE);
    new_obj(&mut s, T::PageTable, e);
    new_obj(&mut s, T::PageTable, e + 1);
    new_obj(&mut s, T::SmallPage, e + 2);
    new_obj(&mut s, T::SmallPage, e + 3);
    ok(pt_map(&mut s, e, VSPACE, GIB));
    ok(pt_map(&mut s, e + 1, VSPACE, GIB));
    ok(page_map(
        &mut s,
        e + 2,
        VSPACE,
        GIB + 0x1000,
        CapRights::ALL,
        0,
    ));
    // A mapped frame: deleting its cap clears the entry.
    delete(&mut s, e + 2);
    assert_eq!(entry(root, GIB + 0x1000), (Pte::INVALID, 0));
    // A frame whose entry now holds another frame: deleting it leaves that entry.
    new_obj(&mut s, T::SmallPage, e + 2);
    ok(page_map(
        &mut s,
        e + 2,
        VSPACE,
        GIB + 0x1000,
        CapRights::ALL,
        0,
    ));
    ok(s.call(e + 1, L::RISCVPageTableUnmap, &[], &[]));
    ok(pt_map(&mut s, e + 1, VSPACE, GIB));
    ok(page_map(
        &mut s,
        e + 3,
        VSPACE,
        GIB + 0x1000,
        CapRights::ALL,
        0,
    ));
    delete(&mut s, e + 2);
    assert_eq!(
        leaf(root, GIB + 0x1000).unwrap().0.paddr(),
        frame_paddr(&s, e + 3)
    );
    // A mapped page table: deleting the last cap unlinks it from its parent; a copy first
    // does nothing.
    ok(copy(&mut s, e + 4, e + 1, CapRights::ALL));
    delete(&mut s, e + 4);
    assert!(leaf(root, GIB + 0x1000).is_some());
    delete(&mut s, e + 1);
    assert_eq!(entry(root, GIB + 0x1000), (Pte::INVALID, 1));
    delete(&mut s, e);
    assert_eq!(entry(root, GIB), (Pte::INVALID, 2));
    // The frame's cap still names the mapping; deleting it finds nothing to remove.
    delete(&mut s, e + 3);

    // A VSpace root: deleting its last cap releases its ASID.
    let asid = new_vspace(&mut s, e + 5);
    ok(copy(&mut s, e + 6, e + 5, CapRights::ALL));
    delete(&mut s, e + 5);
    assert_eq!(
        vspace::find_vspace_for_asid(&s.k, asid),
        Some(pt_base(&s, e + 6)),
        "not the last cap"
    );
    delete(&mut s, e + 6);
    assert_eq!(vspace::find_vspace_for_asid(&s.k, asid), None);
    new_vspace(&mut s, e + 5);
    assert_eq!(
        mapped(&s, e + 5).unwrap().asid,
        asid,
        "the ASID is handed out again"
    );

    // An ASID pool: deleting it forgets every VSpace in it.
    let (ut, _, _) = s.ram_untyped(22);
    ok(s.retype(ut, T::Untyped, 12, e + 10, 1));
    ok(make_pool(&mut s, e + 10, e + 11));
    for i in 0..3 {
        new_obj(&mut s, T::PageTable, e + 12 + i);
        ok(assign(&mut s, e + 11, e + 12 + i));
    }
    new_obj(&mut s, T::PageTable, e + 15);
    ok(pt_map(&mut s, e + 15, e + 12, GIB));
    ok(copy(&mut s, e + 16, e + 11, CapRights::ALL));
    delete(&mut s, e + 11);
    assert_eq!(
        s.k.asid_table[1].addr(),
        pt_pool(&s, e + 16),
        "a copy keeps the pool"
    );
    delete(&mut s, e + 16);
    assert!(s.k.asid_table[1].is_none());
    for i in 0..3 {
        assert_eq!(vspace::find_vspace_for_asid(&s.k, 512 + i), None);
    }
    // Their caps still say mapped, but the VSpaces are gone: no map into them works.
    new_obj(&mut s, T::PageTable, e + 17);
    assert_eq!(
        err(pt_map(&mut s, e + 17, e + 12, 2 * GIB)),
        (Error::FailedLookup, vec![0, INVALID_ROOT])
    );
    new_obj(&mut s, T::SmallPage, e + 18);
    let r = page_map(&mut s, e + 18, e + 13, 0x1000, CapRights::ALL, 0);
    assert_eq!(err(r), (Error::FailedLookup, vec![0, INVALID_ROOT]));
    // A root of a dead VSpace is no longer a live root: it may be unmapped (and is cleared),
    // then assigned again.
    ok(s.call(e + 12, L::RISCVPageTableUnmap, &[], &[]));
    assert_eq!(
        PPtr::<[u64; 512]>::sim(pt_base(&s, e + 12).addr()).get(),
        [0; 512]
    );
    ok(assign(&mut s, POOL0, e + 12));
    // Deleting the rest finds nothing to undo.
    for i in [13, 14, 15] {
        delete(&mut s, e + i);
    }
    // A new pool takes the freed table entry.
    ok(s.cnode(L::CNodeRevoke, &[e + 10, 64], &[]));
    ok(make_pool(&mut s, e + 10, e + 11));
    assert_eq!(
        s.root_slot(e + 11).cap(),
        Cap::Arch(ArchCap::AsidPool {
            ptr: s.k.asid_table[1].get().unwrap(),
            asid_base: 512
        })
    );
}

fn pt_pool(s: &System, i: u64) -> usize {
    match s.root_slot(i).cap() {
        Cap::Arch(ArchCap::AsidPool { ptr, .. }) => ptr.addr(),
        c => panic!("{c:?}"),
    }
}

#[test]
fn wrong_cap_types_and_labels() {
    let mut s = System::boot();
    assert_eq!(
        err(s.call(ASID_CONTROL, L::CNodeDelete, &[0, 0], &[])),
        (Error::IllegalOperation, vec![])
    );
    assert_eq!(
        err(s.call(POOL0, L::RISCVPageMap, &[0, 0, 0], &[VSPACE])),
        (Error::IllegalOperation, vec![])
    );
    assert_eq!(
        err(s.call(VSPACE, L::RISCVPageGetAddress, &[], &[])),
        (Error::IllegalOperation, vec![])
    );
    let r = s.call(slot::BOOT_INFO_FRAME, L::RISCVPageGetAddress, &[], &[]);
    assert_eq!(r.mrs[0], pptr_to_paddr(s.user_to_pptr(s.bi_vptr)));
}

mod props {
    use super::*;
    use crate::model::{outcome, CSpaceModel, Node, VSpaceModel};
    use abi::MessageInfo;
    use proptest::prelude::*;

    /// Slots the operations use, from the first empty one: 0 and 1 extra VSpace roots, 2..8
    /// page tables, 8..12 4 KiB frames, 12..14 2 MiB frames, 14..20 free, 20 a 4 KiB untyped
    /// for an ASID pool, 21 that pool.
    const WINDOW: u64 = 22;

    #[derive(Clone, Debug)]
    enum Op {
        MapPt {
            pt: u64,
            vs: u8,
            v: u8,
        },
        UnmapPt {
            pt: u64,
        },
        MapPage {
            frame: u64,
            vs: u8,
            v: u8,
            rights: u64,
            xn: bool,
        },
        UnmapPage {
            frame: u64,
        },
        Copy {
            src: u64,
            dest: u64,
        },
        Delete {
            slot: u64,
        },
        Assign {
            pool: bool,
            pt: u64,
        },
        MakePool,
        Retype {
            kind: u8,
            dest: u64,
        },
    }

    /// A slot, usually one of `likely` (where the right kind of cap starts out), sometimes one
    /// where copies go, sometimes any.
    fn slot_in(likely: std::ops::Range<u64>) -> impl Strategy<Value = u64> {
        prop_oneof![6 => likely, 1 => 14..20u64, 1 => 0..WINDOW]
    }

    fn op() -> impl Strategy<Value = Op> {
        let s = 0..WINDOW;
        prop_oneof![
            4 => (slot_in(2..8), 0u8..3, any::<u8>()).prop_map(|(pt, vs, v)| Op::MapPt { pt, vs, v }),
            1 => slot_in(2..8).prop_map(|pt| Op::UnmapPt { pt }),
            6 => (slot_in(8..14), 0u8..3, any::<u8>(), 0u64..16, any::<bool>())
                .prop_map(|(frame, vs, v, rights, xn)| Op::MapPage { frame, vs, v, rights, xn }),
            2 => slot_in(8..14).prop_map(|frame| Op::UnmapPage { frame }),
            2 => (slot_in(2..14), 14..20u64).prop_map(|(src, dest)| Op::Copy { src, dest }),
            2 => s.clone().prop_map(|slot| Op::Delete { slot }),
            1 => (any::<bool>(), s.clone()).prop_map(|(pool, pt)| Op::Assign { pool, pt }),
            1 => Just(Op::MakePool),
            1 => (0u8..3, s).prop_map(|(kind, dest)| Op::Retype { kind, dest }),
        ]
    }

    /// A virtual address from a small set, so that operations collide: root entries 1 and 2
    /// (sometimes 0, where the root task's image is), level-1 entries 0..2, level-0 entries
    /// 0..2, sometimes misaligned.
    fn vaddr(v: u8) -> u64 {
        let a = [1, 2, 1, 2, 0][(v & 7) as usize % 5];
        let b = ((v >> 3) & 1) as u64;
        let c = ((v >> 4) & 1) as u64;
        let odd = if v >> 5 == 7 { 0x800 } else { 0 };
        (a << 30) | (b << 21) | (c << 12) | odd
    }

    /// Everything an invocation may change: the caps and MDB nodes of the slots in use, the
    /// ASID table, the pools' entries and the page tables named by caps.
    fn snapshot(s: &System, end: u64) -> Vec<u64> {
        let mut v = vec![];
        let mut tables = vec![];
        for i in 0..end {
            let sl = s.root_slot(i);
            let c = sl.0.get();
            v.extend([c.cap.w0(), c.cap.w1()]);
            v.push(sl.mdb().prev().map_or(0, |p| p.addr() as u64));
            v.push(sl.mdb().next().map_or(0, |p| p.addr() as u64));
            if let Cap::Arch(ArchCap::PageTable { base, .. }) = sl.cap() {
                tables.push(base.addr());
            }
        }
        v.extend(s.k.asid_table.iter().map(|p| p.addr() as u64));
        for p in s.k.asid_table.iter().filter(|p| p.is_some()) {
            tables.push(p.addr());
        }
        for t in tables {
            v.extend(PPtr::<[u64; 512]>::sim(t).get());
        }
        v
    }

    /// Every valid entry of every live VSpace is backed by a cap naming that mapping: a leaf
    /// by a frame cap of the same frame and size mapped at (ASID, vaddr) whose rights allow
    /// the entry's (W only from a read-write cap, R from a readable one; always user, accessed
    /// and dirty), a table pointer by a page table cap mapped at (ASID, vaddr of the span) with
    /// no permission bits. Caps are looked for in `0..end`. (The other direction, every
    /// mapping made and not undone is in the tables with its exact bits, is the model's.)
    fn check_vspaces(s: &System, end: u64) -> Result<(), TestCaseError> {
        let caps: Vec<Cap> = (0..end).map(|i| s.root_slot(i).cap()).collect();
        for (hi, pool) in s.k.asid_table.iter().enumerate() {
            let Some(pool) = pool.get() else {
                continue;
            };
            for lo in 0..512 {
                let Some(root) = vspace::asid_pool_entry(pool, lo).get().get() else {
                    continue;
                };
                let root: PtRef = root.vspace_table();
                let asid = (hi << 9 | lo) as u16;
                prop_assert!(
                    caps.contains(&Cap::Arch(ArchCap::PageTable {
                        base: root,
                        mapped: Some(Mapping { asid, vaddr: 0 })
                    })),
                    "VSpace of ASID {} has no cap",
                    asid
                );
                walk(&caps, asid, root.addr(), 2, 0)?;
            }
        }
        Ok(())
    }

    fn walk(
        caps: &[Cap],
        asid: u16,
        table: usize,
        level: usize,
        vbase: u64,
    ) -> Result<(), TestCaseError> {
        let n = if level == 2 { 256 } else { 512 };
        let entries = PPtr::<[u64; 512]>::sim(table).get();
        for (i, &e) in entries[..n].iter().enumerate() {
            let pte = Pte::from_bits(e);
            if !pte.valid() {
                continue;
            }
            let vaddr = vbase | (i as u64) << level_bits(level);
            let m = Some(Mapping { asid, vaddr });
            if pte.is_leaf() {
                let rights_ok = |r: VmRights| {
                    (pte.bits() & PTE_W == 0 || r == VmRights::ReadWrite)
                        && (pte.bits() & PTE_R == 0 || r != VmRights::KernelOnly)
                };
                let ok = caps.iter().any(|c| {
                    matches!(*c, Cap::Arch(ArchCap::Frame { base, size, mapped, rights, .. })
                        if mapped == m && pptr_to_paddr(base.addr()) == pte.paddr()
                            && size.bits() == level_bits(level) && rights_ok(rights))
                });
                prop_assert!(
                    ok,
                    "leaf {:?} at {:#x} in ASID {} has no frame cap allowing it",
                    pte,
                    vaddr,
                    asid
                );
                let always = PTE_U
                    | crate::arch::riscv64::vspace::PTE_A
                    | crate::arch::riscv64::vspace::PTE_D;
                prop_assert_eq!(
                    pte.bits() & always,
                    always,
                    "leaf {:?} at {:#x}",
                    pte,
                    vaddr
                );
            } else {
                prop_assert!(level > 0, "table entry at level 0");
                prop_assert_eq!(
                    pte.bits() & (PTE_R | PTE_W | PTE_X | PTE_U),
                    0,
                    "table entry {:?}",
                    pte
                );
                let child = paddr_to_pptr(pte.paddr());
                let ok = caps.contains(&Cap::Arch(ArchCap::PageTable {
                    base: PPtr::sim(child),
                    mapped: m,
                }));
                prop_assert!(
                    ok,
                    "table at {:#x} in ASID {} has no page table cap",
                    vaddr,
                    asid
                );
                walk(caps, asid, child, level - 1, vaddr)?;
            }
        }
        Ok(())
    }

    /// The system the random sequences start from: the slots of [`WINDOW`] filled, two more
    /// VSpaces, page tables for the first GiB of user addresses in two of the three VSpaces.
    /// Returns it, the first slot of the window and the untyped.
    fn setup() -> (System, u64, u64) {
        let mut s = System::boot();
        let base = s.bootinfo().empty.start;
        let (ut, _, _) = s.ram_untyped(23);
        let b = |i: u64| base + i;
        ok(s.retype(ut, T::PageTable, 0, b(0), 8));
        ok(s.retype(ut, T::SmallPage, 0, b(8), 4));
        ok(s.retype(ut, T::MegaPage, 0, b(12), 2));
        ok(s.retype(ut, T::Untyped, 12, b(20), 1));
        ok(make_pool(&mut s, b(20), b(21)));
        ok(assign(&mut s, POOL0, b(0)));
        ok(assign(&mut s, b(21), b(1)));
        for (pt, vs) in [(2, VSPACE), (3, VSPACE), (4, base), (5, base)] {
            ok(pt_map(&mut s, b(pt), vs, GIB));
        }
        (s, base, ut)
    }

    /// Runs `o` on `s` (window at `base`, untyped `ut`).
    fn run(s: &mut System, base: u64, ut: u64, o: &Op) -> Reply {
        let b = |i: u64| base + i;
        let vs = |i: u8| [VSPACE, base, base + 1][i as usize];
        match *o {
            Op::MapPt { pt, vs: v, v: a } => pt_map(s, b(pt), vs(v), vaddr(a)),
            Op::UnmapPt { pt } => s.call(b(pt), L::RISCVPageTableUnmap, &[], &[]),
            Op::MapPage {
                frame,
                vs: v,
                v: a,
                rights,
                xn,
            } => page_map(s, b(frame), vs(v), vaddr(a), CapRights(rights), xn as u64),
            Op::UnmapPage { frame } => s.call(b(frame), L::RISCVPageUnmap, &[], &[]),
            Op::Copy { src, dest } => copy(s, b(dest), b(src), CapRights::ALL),
            Op::Delete { slot } => s.cnode(L::CNodeDelete, &[b(slot), 64], &[]),
            Op::Assign { pool, pt } => assign(s, if pool { b(21) } else { POOL0 }, b(pt)),
            Op::MakePool => make_pool(s, b(20), b(21)),
            Op::Retype { kind, dest } => {
                let t = [T::PageTable, T::SmallPage, T::MegaPage][kind as usize];
                s.retype(ut, t, 0, b(dest), 1)
            }
        }
    }

    /// [`snapshot`] with every kernel pointer (in a cap, an MDB link, the ASID table, an ASID
    /// pool) as an offset into the simulated memory, so that two systems can be compared: each has its
    /// memory wherever the host put it. (Page-table entries hold physical addresses, which are
    /// the same in both.)
    fn relative_snapshot(s: &System, end: u64) -> Vec<u64> {
        let base = s.mem.pptr();
        let rel = |p: usize| {
            if p == 0 {
                0
            } else {
                p.wrapping_sub(base) as u64
            }
        };
        const PTR_FIELD: u64 = (1 << 44) - 1;
        let mut v = vec![];
        let mut tables = vec![];
        for i in 0..end {
            let sl = s.root_slot(i);
            let c = sl.raw();
            let ptr = if c.w0() & PTR_FIELD == 0 {
                0
            } else {
                rel(c.obj_addr())
            };
            v.extend([c.w0() & !PTR_FIELD, ptr, c.w1()]);
            v.push(sl.mdb().prev().map_or(0, |p| rel(p.addr())));
            v.push(sl.mdb().next().map_or(0, |p| rel(p.addr())));
            if let Cap::Arch(ArchCap::PageTable { base, .. }) = sl.cap() {
                tables.push(base.addr());
            }
        }
        v.extend(s.k.asid_table.iter().map(|p| rel(p.addr())));
        for pool in s.k.asid_table.iter().filter_map(|p| p.get()) {
            // Pool entries are VSpace roots, as kernel pointers.
            v.extend((0..512).map(|i| rel(vspace::asid_pool_entry(pool, i).get().addr())));
        }
        for t in tables {
            v.extend(PPtr::<[u64; 512]>::sim(t).get());
        }
        v
    }

    /// One step of [`replay`]: the reply's message info and MRs, and the state after it.
    type Step = (u64, [u64; 6], Vec<u64>);

    /// Each reply and state after it of `ops` from [`setup`], and how many syscalls the
    /// direct paths took; `direct`: with `arch::fast_invocation`.
    fn replay(ops: &[Op], direct: bool) -> (Vec<Step>, u64, System) {
        let (mut s, base, ut) = setup();
        s.k.fastpath_off = !direct;
        s.k.fastpath_hits = 0;
        let out = ops
            .iter()
            .map(|o| {
                let r = run(&mut s, base, ut, o);
                (r.info.0, r.mrs, relative_snapshot(&s, base + WINDOW))
            })
            .collect();
        let hits = s.k.fastpath_hits;
        (out, hits, s)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]
        /// Page_Map's direct path (`objects::fast_invocation`) and the general decoder give
        /// the same replies and leave the same state, step by step; the direct path takes
        /// every Page_Map that succeeds.
        #[test]
        fn page_map_direct_path_matches_the_general_path(ops in proptest::collection::vec(op(), 1..60)) {
            let (direct, hits, first) = replay(&ops, true);
            let (general, none, second) = replay(&ops, false);
            prop_assert_eq!(none, 0);
            for (i, (d, g)) in direct.iter().zip(&general).enumerate() {
                // Where the states part (index into `relative_snapshot`'s words), with both
                // machines' host memory, so that a failure can be told apart from a host
                // effect: this property failed twice in about a hundred runs without a
                // difference in the replies.
                let at = d.2.iter().zip(&g.2).position(|(x, y)| x != y);
                prop_assert!(
                    d == g,
                    "step {}: {:?}: direct {:?}, general {:?}; states differ at word {:?} of {}/{} ({:x?} vs {:x?}); host memory {:#x} and {:#x}",
                    i, ops[i], (d.0, d.1), (g.0, g.1), at, d.2.len(), g.2.len(),
                    at.map(|k| d.2[k]), at.map(|k| g.2[k]), first.mem.pptr(), second.mem.pptr()
                );
            }
            let maps = ops
                .iter()
                .zip(&general)
                .filter(|(o, g)| matches!(o, Op::MapPage { .. }) && MessageInfo(g.0).label() == 0)
                .count() as u64;
            prop_assert_eq!(hits, maps);
        }
    }

    proptest! {
        #![proptest_config(crate::testing::proptest_config(96))]
        /// Random sequences of VSpace invocations (maps, unmaps, copies, deletes, ASID pools
        /// and assignment) in three VSpaces do what the model says, call by call: the same
        /// error or success, then the same caps, ASID table, pools and page-table entries.
        /// Every entry is backed by a cap allowing it; a failed call changes nothing at all.
        #[test]
        fn vspace_sequences_follow_the_model(ops in proptest::collection::vec(op(), 1..80)) {
            let mut s = System::boot();
            let base = s.bootinfo().empty.start;
            let end = base + WINDOW;
            let (ut, _, _) = s.ram_untyped(23);
            let b = |i: u64| base + i;
            let slots: Vec<u64> = (0..WINDOW).map(b).chain([ut]).collect();
            let radix = abi::config::ROOT_CNODE_SIZE_BITS as u8;
            let cs = CSpaceModel::new(radix, vec![Node { slot: ut, cap: s.root_slot(ut).cap(), revocable: true, first_badged: true }]);
            let fixed = [VSPACE, POOL0].map(|i| (i, s.root_slot(i).cap())).to_vec();
            let mut m = VSpaceModel::new(&s, cs, fixed);
            // The setup goes through the model too.
            for (t, first, n) in [(T::PageTable, 0, 8), (T::SmallPage, 8, 4), (T::MegaPage, 12, 2)] {
                for i in first..first + n {
                    prop_assert_eq!(outcome(s.retype(ut, t, 0, b(i), 1)), m.retype(ut, t, b(i)));
                }
            }
            prop_assert_eq!(outcome(s.retype(ut, T::Untyped, 12, b(20), 1)), m.cs.retype(ut, T::Untyped, 12, b(20), 1));
            prop_assert_eq!(outcome(make_pool(&mut s, b(20), b(21))), m.make_pool(b(20), b(21)));
            prop_assert_eq!(outcome(assign(&mut s, POOL0, b(0))), m.assign(POOL0, b(0)));
            prop_assert_eq!(outcome(assign(&mut s, b(21), b(1))), m.assign(b(21), b(1)));
            // Tables for the first GiB of user addresses in two of the three VSpaces, so that
            // frames have somewhere to go from the start.
            for (pt, vs) in [(2, VSPACE), (3, VSPACE), (4, base), (5, base)] {
                prop_assert_eq!(outcome(pt_map(&mut s, b(pt), vs, GIB)), m.map_pt(b(pt), vs, GIB));
            }
            m.check(&s, &slots)?;
            check_vspaces(&s, end)?;
            let vs = |i: u8| [VSPACE, base, base + 1][i as usize];
            for o in ops {
                let before = snapshot(&s, end);
                let (r, model) = match o {
                    Op::MapPt { pt, vs: v, v: a } => (pt_map(&mut s, b(pt), vs(v), vaddr(a)), m.map_pt(b(pt), vs(v), vaddr(a))),
                    Op::UnmapPt { pt } => (s.call(b(pt), L::RISCVPageTableUnmap, &[], &[]), m.unmap_pt(b(pt))),
                    Op::MapPage { frame, vs: v, v: a, rights, xn } => (
                        page_map(&mut s, b(frame), vs(v), vaddr(a), CapRights(rights), xn as u64),
                        m.map_page(b(frame), vs(v), vaddr(a), CapRights(rights), xn),
                    ),
                    Op::UnmapPage { frame } => (s.call(b(frame), L::RISCVPageUnmap, &[], &[]), m.unmap_page_cap(b(frame))),
                    Op::Copy { src, dest } => (copy(&mut s, b(dest), b(src), CapRights::ALL), m.copy(b(dest), b(src))),
                    Op::Delete { slot } => (s.cnode(L::CNodeDelete, &[b(slot), 64], &[]), m.delete(b(slot))),
                    Op::Assign { pool, pt } => {
                        let pool = if pool { b(21) } else { POOL0 };
                        (assign(&mut s, pool, b(pt)), m.assign(pool, b(pt)))
                    }
                    Op::MakePool => (make_pool(&mut s, b(20), b(21)), m.make_pool(b(20), b(21))),
                    Op::Retype { kind, dest } => {
                        let t = [T::PageTable, T::SmallPage, T::MegaPage][kind as usize];
                        (s.retype(ut, t, 0, b(dest), 1), m.retype(ut, t, b(dest)))
                    }
                };
                prop_assert_eq!(outcome(r), model.clone(), "{:?}", o);
                prop_assert_eq!(s.root.state(), crate::object::tcb::ThreadState::Running);
                if model.is_err() {
                    prop_assert!(before == snapshot(&s, end), "{:?} failed with {:?} and changed the state", o, r.error());
                }
                m.check(&s, &slots)?;
                check_vspaces(&s, end)?;
            }
            // Deleting everything leaves the root task's VSpace as boot made it.
            for i in 0..WINDOW {
                prop_assert_eq!(outcome(s.cnode(L::CNodeDelete, &[b(i), 64], &[])), m.delete(b(i)));
            }
            m.check(&s, &slots)?;
            check_vspaces(&s, end)?;
            let root = pt_base(&s, VSPACE);
            for i in 1..256 {
                prop_assert_eq!(vspace::pte_slot(root, i).get(), Pte::INVALID);
            }
            prop_assert_eq!(PPtr::<u64>::sim(s.user_to_pptr(IMAGE_VADDR + 120)).get(), 0x1234_5678_9abc_def0);
        }
    }
}

/// The root task's image frames are mapped as seL4's `map_it_frame_cap` maps them on RISC-V:
/// valid leaves with R, W, X, U, A and D at level 0.
#[test]
fn root_task_image_frames_are_rwx_user_leaves() {
    let s = System::boot();
    let root = pt_base(&s, VSPACE);
    let (pte, level) = leaf(root, IMAGE_VADDR).expect("the image's first page is mapped");
    let want = PTE_V | PTE_R | PTE_W | PTE_X | PTE_U;
    assert_eq!((pte.bits() & want, level), (want, 0));
    let ad = crate::arch::riscv64::vspace::PTE_A | crate::arch::riscv64::vspace::PTE_D;
    assert_eq!(pte.bits() & ad, ad);
}

/// `user_word_paddr` (the debug-build stack dump's reads of user memory): the physical address
/// of an aligned word under a valid user leaf at each level, with the word's offset inside the
/// page; `None` for unaligned addresses, addresses at or above `USER_TOP`, unmapped addresses,
/// and entries that are not valid user leaves (invalid with leaf bits, a valid non-leaf at
/// level 0, a leaf without the U bit).
#[test]
fn user_word_paddr_reads_only_aligned_words_of_user_leaves() {
    use crate::arch::riscv64::vspace::user_word_paddr;
    let mut s = System::boot();
    let e = s.bootinfo().empty.start;
    let root = pt_base(&s, VSPACE);
    // 4 KiB at level 0 and 2 MiB at level 1, under root entry 1.
    new_obj(&mut s, T::PageTable, e);
    new_obj(&mut s, T::PageTable, e + 1);
    ok(pt_map(&mut s, e, VSPACE, GIB));
    ok(pt_map(&mut s, e + 1, VSPACE, GIB));
    new_obj(&mut s, T::SmallPage, e + 2);
    ok(page_map(
        &mut s,
        e + 2,
        VSPACE,
        GIB + 0x5000,
        CapRights::ALL,
        0,
    ));
    new_mega(&mut s, e + 3);
    ok(page_map(
        &mut s,
        e + 3,
        VSPACE,
        GIB + MIB2,
        CapRights::READ,
        XN,
    ));
    let small = frame_paddr(&s, e + 2);
    let mega = frame_paddr(&s, e + 3);
    assert_eq!((small % 0x1000, mega % MIB2), (0, 0));
    for (base, paddr, size) in [(GIB + 0x5000, small, 0x1000), (GIB + MIB2, mega, MIB2)] {
        for off in [0, 8, 0x7f8, 0x1008 % size, size / 2 + 0x18, size - 8] {
            assert_eq!(
                user_word_paddr(root, base + off),
                Some(paddr + off),
                "the word at {:#x}",
                base + off
            );
        }
        for off in [1, 4, 7, 0xffc % size] {
            assert_eq!(user_word_paddr(root, base + off), None, "unaligned");
        }
    }
    for v in [GIB + 0x4ff8, GIB + 0x6000, GIB + 2 * MIB2, 0x8000_0000] {
        assert_eq!(user_word_paddr(root, v), None, "unmapped {v:#x}");
    }

    // The last page below USER_TOP, then hand-made entries in the same level-0 table.
    new_obj(&mut s, T::PageTable, e + 4);
    new_obj(&mut s, T::PageTable, e + 5);
    let last = USER_TOP - 0x1000;
    ok(pt_map(&mut s, e + 4, VSPACE, last));
    ok(pt_map(&mut s, e + 5, VSPACE, last));
    new_obj(&mut s, T::SmallPage, e + 6);
    ok(page_map(
        &mut s,
        e + 6,
        VSPACE,
        last,
        CapRights::READ_WRITE,
        0,
    ));
    let top = frame_paddr(&s, e + 6);
    assert_eq!(user_word_paddr(root, USER_TOP - 8), Some(top + 0xff8));
    assert_eq!(user_word_paddr(root, last), Some(top));
    let w = lookup_pt_slot(root, last);
    assert_eq!(w.level, 0);
    let user = w.slot.get();
    let table = pt_base(&s, e + 5);
    let idx = vspace::pt_index(last, 0);
    assert_eq!(idx, 510);
    // A user leaf at USER_TOP itself (no Page_Map makes one): still refused.
    vspace::pte_slot(table, 511).set(user);
    assert_eq!(leaf(root, USER_TOP).map(|l| l.1), Some(0));
    assert_eq!(
        user_word_paddr(root, USER_TOP),
        None,
        "USER_TOP is not user memory"
    );
    let at = |i: u64| last - (510 - i) * 0x1000;
    // Leaf bits and U without V.
    vspace::pte_slot(table, 509).set(Pte::from_bits(user.bits() & !PTE_V));
    // V without R, W or X at level 0.
    vspace::pte_slot(table, 508).set(Pte::from_bits(user.bits() & !(PTE_R | PTE_W | PTE_X)));
    // A valid leaf without U (a kernel-only mapping).
    vspace::pte_slot(table, 507).set(Pte::from_bits(user.bits() & !PTE_U));
    // And a valid user leaf made the same way, which is read.
    vspace::pte_slot(table, 506).set(user);
    for i in [509, 508, 507] {
        assert_eq!(user_word_paddr(root, at(i) + 0x10), None, "entry {i}");
    }
    assert_eq!(user_word_paddr(root, at(506) + 0x10), Some(top + 0x10));
}
