//! Host tests of the aarch64 VSpace invocations (`objects.rs`): decode in seL4's order with
//! seL4's errors, then perform, over page tables, caps and an ASID pool in simulated memory.
//! The caps are this architecture's, stored in slots as words (`Slot::set_raw`), so the
//! decoders read them as on the machine whatever architecture the host kernel simulates.

use super::cap::{ArchCap, FrameSize, Mapping, VmRights};
use super::objects::{decode, perform, CacheOp, VSpaceInvocation};
use super::vspace::{self, pt_index, pte_slot, Pte};
use crate::cap::Cap;
use crate::cspace::LookupFault;
use crate::cte::Slot;
use crate::error::SyscallError;
use crate::invocation::InvocationArgs;
use crate::mem::sim::SimMemory;
use crate::mem::{Link, PPtr, VSpaceRootMemory};
use crate::object::tcb::TcbRef;
use crate::state::Kernel;
use abi::arch::aarch64::vm_attributes;
use abi::arch::aarch64::InvocationLabel as L;
use vspace::PageTable;

/// A simulated machine: 1 MiB of memory at physical 0x4000_0000 holding a VSpace with ASID 1
/// in the first ASID pool, a few free tables, frames and slots.
struct Mmu {
    mem: SimMemory,
    k: Kernel,
}

/// Pages of the simulated memory.
const SLOTS: usize = 0; // 128 slots of 32 bytes
const VSPACE: usize = 1;
const POOL: usize = 2;
const TABLES: usize = 3; // 3..8: free page tables
const FRAME: usize = 16; // 16..: frames
const LARGE_FRAME: usize = 128; // a 2 MiB-aligned frame... at 0x4080_0000 (page 128 + 0x400)

impl Mmu {
    fn new() -> Mmu {
        let mem = SimMemory::new(0x4000_0000, 24);
        let mut k = Kernel::new();
        let m = Mmu {
            mem,
            k: Kernel::new(),
        };
        k.asid_table[0] = Link::to(m.page(POOL));
        vspace::asid_pool_entry(m.page(POOL), 1).set(m.root_link(VSPACE));
        Mmu { k, ..m }
    }
    /// Page `i`, as a `T`.
    fn page<T>(&self, i: usize) -> PPtr<T> {
        PPtr::sim(self.mem.pptr() + i * 4096)
    }
    /// An ASID pool entry for the table in page `i`.
    fn root_link(&self, i: usize) -> Link<VSpaceRootMemory> {
        Link::to(self.page::<PageTable>(i).as_vspace_root())
    }
    fn paddr(&self, i: usize) -> u64 {
        self.mem.base + (i * 4096) as u64
    }
    fn slot(&self, i: usize) -> Slot {
        Slot(self.page(SLOTS)).index(7, i)
    }
    fn put(&self, i: usize, c: ArchCap) -> Slot {
        self.slot(i).set_raw(c.encode());
        self.slot(i)
    }
    fn get(&self, i: usize) -> Option<ArchCap> {
        let r = self.slot(i).raw();
        ArchCap::decode(r.tag(), r)
    }
    fn vspace_cap(&self) -> ArchCap {
        ArchCap::VSpace {
            base: self.page(VSPACE),
            asid: Some(1),
        }
    }
    fn frame(&self, i: usize, size: FrameSize) -> ArchCap {
        ArchCap::Frame {
            base: self.page(i),
            size,
            rights: VmRights::ReadWrite,
            is_device: false,
            mapped: None,
        }
    }
    fn table(&self, i: usize) -> ArchCap {
        ArchCap::PageTable {
            base: self.page(i),
            mapped: None,
        }
    }
    /// Decodes `label` on the cap in slot `at` with `mrs` and the caps of slots `caps`.
    fn decode(
        &self,
        label: L,
        at: usize,
        mrs: &[u64],
        caps: &[usize],
    ) -> Result<VSpaceInvocation, SyscallError> {
        let args = Args {
            mrs: mrs.to_vec(),
            caps: caps.iter().map(|&i| self.slot(i)).collect(),
        };
        decode(
            &self.k,
            label,
            &args,
            self.get(at).expect("an arch cap"),
            self.slot(at),
        )
    }
    /// Decodes and performs; panics on an error.
    fn run(&mut self, label: L, at: usize, mrs: &[u64], caps: &[usize]) {
        let inv = self.decode(label, at, mrs, caps).expect("decodes");
        perform(&mut self.k, &inv, TcbRef::sim(0), false);
    }
}

/// The invocation's words and extra caps (each a slot: its cap is read from the slot's words).
struct Args {
    mrs: Vec<u64>,
    caps: Vec<Slot>,
}

impl InvocationArgs for Args {
    fn len(&self) -> usize {
        self.mrs.len()
    }
    fn mr(&self, i: usize) -> u64 {
        self.mrs.get(i).copied().unwrap_or(0)
    }
    fn extra_cap(&self, i: usize) -> Option<(Cap, Slot)> {
        self.caps.get(i).map(|&s| (Cap::Null, s))
    }
    fn extra_cptr(&self, i: usize) -> u64 {
        i as u64
    }
    fn is_call(&self) -> bool {
        true
    }
}

const RW: u64 = 0b0011;
const V: u64 = 0x0000_0040_0060_3000; // L0 0, L1 1, L2 3, L3 3

/// Maps the tables for `V` (levels 1, 2, 3) from slots 10, 11, 12.
fn with_tables(m: &mut Mmu) {
    m.put(0, m.vspace_cap());
    for (slot, page) in [(10, TABLES), (11, TABLES + 1), (12, TABLES + 2)] {
        m.put(slot, m.table(page));
        m.run(L::ARMPageTableMap, slot, &[V, vm_attributes::DEFAULT], &[0]);
    }
}

/// A frame cannot be mapped before the tables exist: the walk says how far it got; each
/// table then maps where seL4 puts it (the entry of the level above, the cap marked mapped
/// at the address rounded to what the table covers); then the frame maps with seL4's
/// descriptor and the cap records where.
#[test]
fn page_tables_then_a_frame() {
    let mut m = Mmu::new();
    m.put(0, m.vspace_cap());
    m.put(1, m.frame(FRAME, FrameSize::Small));
    assert_eq!(
        m.decode(L::ARMPageMap, 1, &[V, RW, vm_attributes::DEFAULT], &[0]),
        Err(SyscallError::FailedLookup {
            source: false,
            fault: LookupFault::MissingCapability { bits_left: 39 }
        })
    );
    with_tables(&mut m);
    let l1 = pte_slot(m.page(VSPACE), pt_index(V, 0)).get();
    assert_eq!(l1, Pte::table(m.page(TABLES)));
    assert_eq!(
        m.get(10),
        Some(ArchCap::PageTable {
            base: m.page(TABLES),
            mapped: Some(Mapping { asid: 1, vaddr: 0 })
        })
    );
    assert_eq!(
        m.get(12),
        Some(ArchCap::PageTable {
            base: m.page(TABLES + 2),
            mapped: Some(Mapping {
                asid: 1,
                vaddr: V & !((1 << 21) - 1)
            })
        })
    );
    m.run(L::ARMPageMap, 1, &[V, RW, vm_attributes::DEFAULT], &[0]);
    let leaf = pte_slot(m.page(TABLES + 2), pt_index(V, 3)).get();
    assert_eq!(
        leaf,
        Pte::user(
            m.paddr(FRAME),
            VmRights::ReadWrite,
            true,
            false,
            FrameSize::Small
        )
    );
    assert_eq!(
        m.get(1),
        Some(ArchCap::Frame {
            base: m.page(FRAME),
            size: FrameSize::Small,
            rights: VmRights::ReadWrite,
            is_device: false,
            mapped: Some(Mapping { asid: 1, vaddr: V })
        })
    );
    assert_eq!(
        vspace::user_word_paddr(m.page(VSPACE), V + 8),
        Some(m.paddr(FRAME) + 8)
    );
    // Unmap: the entry is gone, the cap unmapped.
    m.run(L::ARMPageUnmap, 1, &[], &[]);
    assert!(!pte_slot(m.page(TABLES + 2), pt_index(V, 3)).get().valid());
    assert!(matches!(
        m.get(1),
        Some(ArchCap::Frame { mapped: None, .. })
    ));
}

/// `ARMPageMap`'s errors in seL4's order.
#[test]
fn page_map_errors_in_sel4_order() {
    let mut m = Mmu::new();
    with_tables(&mut m);
    m.put(1, m.frame(FRAME, FrameSize::Small));
    m.put(2, m.frame(FRAME + 1, FrameSize::Small));
    m.put(
        3,
        ArchCap::VSpace {
            base: m.page(VSPACE),
            asid: None,
        },
    );
    m.put(4, m.table(TABLES + 3));
    let map = |m: &Mmu, at, mrs: &[u64], caps: &[usize]| m.decode(L::ARMPageMap, at, mrs, caps);
    assert_eq!(
        map(&m, 1, &[V, RW], &[0]),
        Err(SyscallError::TruncatedMessage)
    );
    assert_eq!(
        map(&m, 1, &[V, RW, 3], &[]),
        Err(SyscallError::TruncatedMessage)
    );
    assert_eq!(
        map(&m, 1, &[V, RW, 3], &[3]),
        Err(SyscallError::InvalidCapability(1)),
        "a VSpace without an ASID"
    );
    assert_eq!(
        map(&m, 1, &[V, RW, 3], &[4]),
        Err(SyscallError::InvalidCapability(1)),
        "a page table is not a VSpace"
    );
    assert_eq!(
        map(&m, 1, &[V + 0x800, RW, 3], &[0]),
        Err(SyscallError::AlignmentError)
    );
    // A 4 KiB frame right at the top is fine; past seL4_UserTop it is not.
    assert_eq!(
        map(&m, 1, &[0x8000_0000_0000, RW, 3], &[0]),
        Err(SyscallError::InvalidArgument(0))
    );
    // A remap must keep the ASID and the address.
    m.run(L::ARMPageMap, 1, &[V, RW, vm_attributes::DEFAULT], &[0]);
    assert_eq!(
        map(&m, 1, &[V + 0x1000, RW, 3], &[0]),
        Err(SyscallError::InvalidArgument(0))
    );
    assert!(
        map(&m, 1, &[V, 0b0010, 3], &[0]).is_ok(),
        "a remap may change rights"
    );
    // Another frame over a mapped one replaces it (seL4 on Arm does not refuse).
    assert!(matches!(
        map(&m, 2, &[V, RW, 3], &[0]),
        Ok(VSpaceInvocation::PageMap { .. })
    ));
    // A VSpace whose ASID now names another VSpace.
    vspace::asid_pool_entry(m.page(POOL), 1).set(m.root_link(TABLES + 5));
    assert_eq!(
        map(&m, 2, &[V, RW, 3], &[0]),
        Err(SyscallError::InvalidCapability(1))
    );
    vspace::asid_pool_entry(m.page(POOL), 1).set(Link::NONE);
    assert_eq!(
        map(&m, 2, &[V, RW, 3], &[0]),
        Err(SyscallError::FailedLookup {
            source: false,
            fault: LookupFault::InvalidRoot
        })
    );
}

/// Rights are masked as `maskVMRights`, attributes pick cacheability and execute-never.
#[test]
fn page_map_rights_and_attributes() {
    let mut m = Mmu::new();
    with_tables(&mut m);
    m.put(1, m.frame(FRAME, FrameSize::Small));
    let pte = |m: &Mmu, rights, attr| match m.decode(L::ARMPageMap, 1, &[V, rights, attr], &[0]) {
        Ok(VSpaceInvocation::PageMap { pte, .. }) => pte,
        r => panic!("{r:?}"),
    };
    let p = pte(&m, 0b0010, vm_attributes::DEFAULT);
    assert_eq!(
        (p.ap(), p.attr_index()),
        (vspace::AP_READ_ONLY, vspace::MAIR_NORMAL)
    );
    let p = pte(&m, 0b0001, 0);
    assert_eq!(
        (p.ap(), p.attr_index()),
        (vspace::AP_KERNEL_ONLY, vspace::MAIR_DEVICE_NGNRNE)
    );
    let p = pte(
        &m,
        RW,
        vm_attributes::DEFAULT | vm_attributes::EXECUTE_NEVER,
    );
    assert_ne!(p.bits() & vspace::UXN, 0);
    let p = pte(&m, RW, vm_attributes::DEFAULT);
    assert_eq!(p.bits() & vspace::UXN, 0);
}

/// `ARMPageTableMap`'s errors in seL4's order, and `ARMPageTableUnmap` (the table is
/// unhooked and cleared).
#[test]
fn page_table_map_and_unmap() {
    let mut m = Mmu::new();
    m.put(0, m.vspace_cap());
    m.put(1, m.table(TABLES));
    m.put(2, m.table(TABLES + 1));
    let map =
        |m: &Mmu, at, mrs: &[u64], caps: &[usize]| m.decode(L::ARMPageTableMap, at, mrs, caps);
    assert_eq!(map(&m, 1, &[V], &[0]), Err(SyscallError::TruncatedMessage));
    assert_eq!(
        map(&m, 1, &[V, 3], &[2]),
        Err(SyscallError::InvalidCapability(1))
    );
    assert_eq!(
        map(&m, 1, &[0x8000_0000_0000, 3], &[0]),
        Err(SyscallError::InvalidArgument(0))
    );
    m.run(L::ARMPageTableMap, 1, &[V, 3], &[0]);
    assert_eq!(
        map(&m, 1, &[V, 3], &[0]),
        Err(SyscallError::InvalidCapability(0)),
        "already mapped"
    );
    // The same level-1 slot again: something is there.
    m.put(2, m.table(TABLES + 1));
    assert!(matches!(
        map(&m, 2, &[V, 3], &[0]),
        Ok(VSpaceInvocation::PageTableMap { .. })
    ));
    m.run(L::ARMPageTableMap, 2, &[V, 3], &[0]);
    m.put(3, m.table(TABLES + 2));
    m.run(L::ARMPageTableMap, 3, &[V, 3], &[0]);
    m.put(4, m.table(TABLES + 3));
    assert_eq!(
        map(&m, 4, &[V, 3], &[0]),
        Err(SyscallError::DeleteFirst),
        "the walk reached a 4 KiB slot"
    );
    // Unmap the level-2 table: its entry in the level-1 table goes, the table is cleared.
    pte_slot(m.page(TABLES + 1), 7).set(Pte::from_bits(0x1234_0003));
    m.run(L::ARMPageTableUnmap, 2, &[], &[]);
    assert!(!pte_slot(m.page(TABLES), pt_index(V, 1)).get().valid());
    assert_eq!(pte_slot(m.page(TABLES + 1), 7).get(), Pte::INVALID);
    assert!(matches!(
        m.get(2),
        Some(ArchCap::PageTable { mapped: None, .. })
    ));
    assert_eq!(
        m.decode(L::ARMPageMap, 2, &[], &[]),
        Err(SyscallError::IllegalOperation)
    );
}

/// The page flush checks and the VSpace flush checks, and the flush they describe.
#[test]
fn flushes() {
    let mut m = Mmu::new();
    with_tables(&mut m);
    m.put(1, m.frame(FRAME, FrameSize::Small));
    assert_eq!(
        m.decode(L::ARMPageClean_Data, 1, &[0, 64], &[]),
        Err(SyscallError::IllegalOperation),
        "not mapped"
    );
    m.run(L::ARMPageMap, 1, &[V, 0b0010, 3], &[0]);
    assert_eq!(
        m.decode(L::ARMPageClean_Data, 1, &[0], &[]),
        Err(SyscallError::TruncatedMessage)
    );
    assert_eq!(
        m.decode(L::ARMPageClean_Data, 1, &[64, 64], &[]),
        Err(SyscallError::InvalidArgument(1))
    );
    assert_eq!(
        m.decode(L::ARMPageClean_Data, 1, &[0, 0x1001], &[]),
        Err(SyscallError::InvalidArgument(0))
    );
    assert_eq!(
        m.decode(L::ARMPageInvalidate_Data, 1, &[0, 64], &[]),
        Err(SyscallError::IllegalOperation),
        "read-only mapping"
    );
    assert_eq!(
        m.decode(L::ARMPageUnify_Instruction, 1, &[0x100, 0x200], &[]),
        Ok(VSpaceInvocation::Flush {
            op: CacheOp::UnifyInstruction,
            vspace: m.page(VSPACE),
            asid: 1,
            start: V + 0x100,
            end: V + 0x1ff,
            pstart: m.paddr(FRAME) + 0x100
        })
    );
    // VSpace flushes: user addresses, within one frame.
    let vs = |m: &Mmu, label, mrs: &[u64]| m.decode(label, 0, mrs, &[]);
    assert_eq!(
        vs(&m, L::ARMVSpaceClean_Data, &[V]),
        Err(SyscallError::TruncatedMessage)
    );
    assert_eq!(
        vs(&m, L::ARMVSpaceClean_Data, &[V, V]),
        Err(SyscallError::InvalidArgument(1))
    );
    assert_eq!(
        vs(&m, L::ARMVSpaceClean_Data, &[V, 0x8000_0000_0000]),
        Err(SyscallError::IllegalOperation)
    );
    assert_eq!(
        vs(&m, L::ARMVSpaceClean_Data, &[V + 0x2000, V + 0x3000]),
        Ok(VSpaceInvocation::Nothing),
        "nothing mapped: nothing to do"
    );
    assert_eq!(
        vs(
            &m,
            L::ARMVSpaceCleanInvalidate_Data,
            &[V + 0x10, V + 0x1001]
        ),
        Err(SyscallError::RangeError(V + 0x10, V + 0xfff))
    );
    assert_eq!(
        vs(&m, L::ARMVSpaceClean_Data, &[V + 0x10, V + 0x20]),
        Ok(VSpaceInvocation::Flush {
            op: CacheOp::CleanData,
            vspace: m.page(VSPACE),
            asid: 1,
            start: V + 0x10,
            end: V + 0x1f,
            pstart: m.paddr(FRAME) + 0x10
        })
    );
    assert_eq!(
        vs(&m, L::ARMPageMap, &[V, V + 1]),
        Err(SyscallError::IllegalOperation),
        "a page label on a VSpace"
    );
}

/// 2 MiB frames map at level 2 once its table exists, as blocks.
#[test]
fn large_frames_are_blocks() {
    let mut m = Mmu::new();
    m.put(0, m.vspace_cap());
    for (slot, page) in [(10, TABLES), (11, TABLES + 1)] {
        m.put(slot, m.table(page));
        m.run(L::ARMPageTableMap, slot, &[V, 3], &[0]);
    }
    let v = V & !((1 << 21) - 1);
    m.put(1, m.frame(LARGE_FRAME * 4, FrameSize::Large));
    assert_eq!(
        m.decode(L::ARMPageMap, 1, &[V, RW, 3], &[0]),
        Err(SyscallError::AlignmentError)
    );
    m.run(L::ARMPageMap, 1, &[v, RW, 3], &[0]);
    let e = pte_slot(m.page(TABLES + 1), pt_index(v, 2)).get();
    assert!(e.is_page_at(2) && !e.is_table_at(2));
    assert_eq!(e.paddr(), m.paddr(LARGE_FRAME * 4));
    assert_eq!(
        vspace::user_word_paddr(m.page(VSPACE), v + 0x12_3458),
        Some(m.paddr(LARGE_FRAME * 4) + 0x12_3458)
    );
}

/// `ARMASIDPoolAssign`: the first free ASID (never 0), the VSpace cap gets it; errors in
/// seL4's order.
#[test]
fn asid_pool_assign() {
    let mut m = Mmu::new();
    m.put(
        5,
        ArchCap::AsidPool {
            ptr: m.page(POOL),
            asid_base: 0,
        },
    );
    m.put(
        6,
        ArchCap::VSpace {
            base: m.page(TABLES),
            asid: None,
        },
    );
    m.put(7, m.vspace_cap());
    assert_eq!(
        m.decode(L::ARMASIDPoolAssign, 5, &[], &[]),
        Err(SyscallError::TruncatedMessage)
    );
    assert_eq!(
        m.decode(L::ARMASIDPoolAssign, 5, &[], &[7]),
        Err(SyscallError::InvalidCapability(1)),
        "a VSpace that has an ASID"
    );
    assert_eq!(
        m.decode(L::ARMASIDControlMakePool, 5, &[], &[6]),
        Err(SyscallError::IllegalOperation)
    );
    m.run(L::ARMASIDPoolAssign, 5, &[], &[6]);
    assert_eq!(
        m.get(6),
        Some(ArchCap::VSpace {
            base: m.page(TABLES),
            asid: Some(2)
        }),
        "ASID 0 is never handed out and 1 is taken"
    );
    assert_eq!(vspace::find_vspace_for_asid(&m.k, 2), Some(m.page(TABLES)));
    // A pool the ASID table does not hold.
    m.put(
        8,
        ArchCap::AsidPool {
            ptr: m.page(TABLES + 4),
            asid_base: 0,
        },
    );
    m.put(
        9,
        ArchCap::VSpace {
            base: m.page(TABLES + 1),
            asid: None,
        },
    );
    assert_eq!(
        m.decode(L::ARMASIDPoolAssign, 8, &[], &[9]),
        Err(SyscallError::InvalidCapability(0))
    );
    m.put(
        8,
        ArchCap::AsidPool {
            ptr: m.page(TABLES + 4),
            asid_base: 512,
        },
    );
    assert_eq!(
        m.decode(L::ARMASIDPoolAssign, 8, &[], &[9]),
        Err(SyscallError::FailedLookup {
            source: false,
            fault: LookupFault::InvalidRoot
        })
    );
    // Full pool.
    for i in 0..512 {
        vspace::asid_pool_entry(m.page(POOL), i).set(m.root_link(TABLES));
    }
    assert_eq!(
        m.decode(L::ARMASIDPoolAssign, 5, &[], &[9]),
        Err(SyscallError::DeleteFirst)
    );
}

/// Finalising caps undoes their mappings and ASIDs as seL4's `Arch_finaliseCap` does.
#[test]
fn finalise_undoes_mappings() {
    let mut m = Mmu::new();
    with_tables(&mut m);
    m.put(1, m.frame(FRAME, FrameSize::Small));
    m.run(L::ARMPageMap, 1, &[V, RW, 3], &[0]);
    let frame = m.get(1).unwrap();
    super::cap::finalise(&mut m.k, frame, false);
    assert!(!pte_slot(m.page(TABLES + 2), pt_index(V, 3)).get().valid());
    let pt = m.get(12).unwrap();
    super::cap::finalise(&mut m.k, pt, false);
    assert!(
        pte_slot(m.page(TABLES + 1), pt_index(V, 2)).get().valid(),
        "not final: stays"
    );
    super::cap::finalise(&mut m.k, pt, true);
    assert!(!pte_slot(m.page(TABLES + 1), pt_index(V, 2)).get().valid());
    let vs = m.vspace_cap();
    super::cap::finalise(&mut m.k, vs, true);
    assert_eq!(vspace::find_vspace_for_asid(&m.k, 1), None);
    let pool = ArchCap::AsidPool {
        ptr: m.page(POOL),
        asid_base: 0,
    };
    super::cap::finalise(&mut m.k, pool, true);
    assert!(m.k.asid_table[0].is_none());
}

/// Page-table unmap needs the last cap; the flush label set covers both cap kinds.
#[test]
fn labels_outside_a_cap_kind_are_illegal() {
    let mut m = Mmu::new();
    with_tables(&mut m);
    for l in [L::ARMPageMap, L::ARMVSpaceClean_Data, L::ARMASIDPoolAssign] {
        assert_eq!(
            m.decode(l, 10, &[V, 3], &[0]),
            Err(SyscallError::IllegalOperation)
        );
    }
    m.put(20, ArchCap::AsidControl);
    assert_eq!(
        m.decode(L::ARMASIDPoolAssign, 20, &[0, 64], &[]),
        Err(SyscallError::IllegalOperation)
    );
    assert_eq!(
        m.decode(L::ARMASIDControlMakePool, 20, &[0, 64], &[0]),
        Err(SyscallError::TruncatedMessage)
    );
    assert_eq!(CacheOp::of(L::ARMPageMap), None);
    assert_eq!(
        CacheOp::of(L::ARMVSpaceInvalidate_Data),
        Some(CacheOp::InvalidateData)
    );
}

/// `seL4_IRQControl_IssueSGISignal`'s words and its root CNode cap.
struct SgiArgs {
    mrs: Vec<u64>,
    root: Option<Cap>,
}

impl InvocationArgs for SgiArgs {
    fn len(&self) -> usize {
        self.mrs.len()
    }
    fn mr(&self, i: usize) -> u64 {
        self.mrs.get(i).copied().unwrap_or(0)
    }
    fn extra_cap(&self, i: usize) -> Option<(Cap, Slot)> {
        (i == 0)
            .then_some(self.root)
            .flatten()
            .map(|c| (c, Slot(PPtr::NULL)))
    }
    fn extra_cptr(&self, i: usize) -> u64 {
        i as u64
    }
    fn is_call(&self) -> bool {
        true
    }
}

/// `IssueSGISignal` checks in seL4's order (`Arch_decodeIRQControlInvocation`): words and
/// root cap, the SGI (0..16), the target (0..8), the destination; the cap made names the SGI
/// and the target, and invoking it (any label) raises that SGI.
#[test]
fn issue_sgi_signal_as_sel4() {
    use super::objects::decode_issue_sgi_signal;
    let mut m = Mmu::new();
    let root = Some(Cap::CNode {
        ptr: m.page(SLOTS),
        radix: 7,
        guard_size: 57,
        guard: 0,
    });
    let args = |mrs: &[u64], root| SgiArgs {
        mrs: mrs.to_vec(),
        root,
    };
    let err = |a: SgiArgs| decode_issue_sgi_signal(&a).err();
    assert_eq!(
        err(args(&[1, 0, 40], root)),
        Some(SyscallError::TruncatedMessage)
    );
    assert_eq!(
        err(args(&[1, 0, 40, 64], None)),
        Some(SyscallError::TruncatedMessage)
    );
    assert_eq!(
        err(args(&[16, 9, 40, 64], root)),
        Some(SyscallError::RangeError(0, 15))
    );
    assert_eq!(
        err(args(&[15, 8, 40, 64], root)),
        Some(SyscallError::InvalidArgument(1))
    );
    assert!(matches!(
        err(args(&[15, 7, 40, 63], root)),
        Some(SyscallError::FailedLookup { .. })
    ));
    m.put(40, m.vspace_cap());
    assert_eq!(
        err(args(&[15, 7, 40, 64], root)),
        Some(SyscallError::DeleteFirst)
    );
    let (cap, dest) = decode_issue_sgi_signal(&args(&[15, 7, 41, 64], root)).unwrap();
    assert_eq!(
        (cap, dest),
        (ArchCap::SgiSignal { irq: 15, target: 7 }, m.slot(41))
    );
    assert_eq!(
        ArchCap::decode(cap.encode().tag(), cap.encode()),
        Some(cap),
        "the cap keeps SGI and target"
    );
    // Invoking the cap raises the SGI, whatever the label.
    m.put(42, ArchCap::SgiSignal { irq: 3, target: 0 });
    super::hw::SGIS.lock().unwrap().clear();
    m.run(L::ARMPageMap, 42, &[], &[]);
    assert_eq!(*super::hw::SGIS.lock().unwrap(), vec![(3, 0)]);
}

/// `seL4_ARM_SMC_Call` checks in seL4's order (`decodeARMSMCInvocation`): the label, eight
/// words, then a badged cap allows only its function ID (MR 0); nothing is called on an
/// error.
#[test]
fn smc_call_decodes_as_sel4() {
    use super::objects::decode_smc;
    let args = |mrs: &[u64]| Args {
        mrs: mrs.to_vec(),
        caps: vec![],
    };
    let eight = [0x8400_0000, 1, 2, 3, 4, 5, 6, 7];
    let err = |label, mrs: &[u64], badge| decode_smc(label, &args(mrs), badge).err();
    assert_eq!(
        err(L::ARMPageMap, &eight, 0),
        Some(SyscallError::IllegalOperation)
    );
    assert_eq!(
        err(L::ARMSMCCall, &eight[..7], 0),
        Some(SyscallError::TruncatedMessage)
    );
    assert_eq!(
        err(L::ARMSMCCall, &eight[..7], 0x8400_0000),
        Some(SyscallError::TruncatedMessage),
        "the length before the badge"
    );
    assert_eq!(
        err(L::ARMSMCCall, &eight, 0x8400_0001),
        Some(SyscallError::IllegalOperation)
    );
    for badge in [0, 0x8400_0000] {
        assert_eq!(
            decode_smc(L::ARMSMCCall, &args(&eight), badge),
            Ok(VSpaceInvocation::SmcCall)
        );
    }
    // The generic decoder takes an SMC cap to the same checks.
    let m = Mmu::new();
    m.put(50, ArchCap::Smc { badge: 0x8400_0000 });
    assert_eq!(
        m.decode(L::ARMSMCCall, 50, &[0x8400_0001, 0, 0, 0, 0, 0, 0, 0], &[]),
        Err(SyscallError::IllegalOperation)
    );
    assert_eq!(
        m.decode(L::ARMSMCCall, 50, &eight, &[]),
        Ok(VSpaceInvocation::SmcCall)
    );
    assert_eq!(
        m.decode(L::ARMVSpaceClean_Data, 50, &eight, &[]),
        Err(SyscallError::IllegalOperation)
    );
}
