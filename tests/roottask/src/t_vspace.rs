//! Virtual memory through the real ABI: frames and page tables mapped into the root task's
//! VSpace and into VSpaces of its own, the errors of `decodeRISCVFrameInvocation`,
//! `decodeRISCVPageTableInvocation` and `decodeRISCVMMUInvocation` (ASID control and ASID
//! pools) in `src/arch/riscv/kernel/vspace.c` of seL4 16.0.0, and of their Arm twins
//! (`decodeARMFrameInvocation`, ... in `src/arch/arm/64/kernel/vspace.c`). Where the two
//! differ (check order, bounds, what a mapping over a mapping does, the VSpace object) the
//! tests take seL4's answer from `arch::vspace`.
//!
//! The root task's image, IPC buffer and BootInfo frame live in the first GiB (riscv64: root
//! page-table index 0; aarch64: index 0 of the level-1 table below the level-0 entry 0, which
//! the root task has); the tests use the GiBs at [`BASE`] and above, which nothing else maps.
//! A table made for the GiB at BASE is called "level-1" (2 MiB entries), one below it
//! "level-0" (4 KiB entries), as on riscv64. Whether an
//! address is mapped is checked by a probe thread (in the root task's VSpace or another one)
//! that loads or stores there: a fault reaches the root task as a VM fault message on the
//! probe's fault endpoint, so the root task itself never faults.
//!
//! Everything a test maps is made from the scratch untyped (or a touched device untyped), so
//! the framework's revoke after the test deletes it: page tables are unmapped from the root
//! VSpace again, frames unmapped, ASIDs and ASID pools given back.

use abi::user_context::idx;
use abi::{CPtr, CapRights, Error, ObjectType as T, Word};
use libsel4::cap::{init, AsidPool, Cap, Granule, PageTable, Untyped, VSpace};
use libsel4::cap_tag as tag;
use libsel4::vm_attributes::DEFAULT;
use libsel4::{sys, ErrorDetail as D, LookupFailure as LF};

use crate::arch::{self, vspace as av, Why};
use crate::framework::{ident, Ctx, Fail, TestResult};
use crate::thread::{initial_regs, report_and_park, Thread, FAULT_BADGE};
use crate::{check, check_eq, expect_err, fail, ok};

/// A free GiB of the root VSpace (root page-table index 2).
const BASE: Word = 0x8000_0000;
/// Another free GiB (index 3), for 1 GiB frames.
const GIB3: Word = 0xc000_0000;
/// Another (index 4).
const GIB4: Word = 0x1_0000_0000;
/// Where the second VSpace maps the shared frame (index 2, another 2 MiB region than BASE).
const OTHER: Word = 0x9000_0000;
/// The first address past user space, as mappings see it.
const END: Word = av::END;

const RW: CapRights = CapRights::READ_WRITE;
const RO: CapRights = CapRights::READ;

/// Label of the probe's report.
const PROBE_DONE: Word = 0x9b0;
const LOAD: Word = 0;
const STORE: Word = 1;
const CALL: Word = 2;

fn pattern(i: usize) -> Word {
    0x5eed_0000_0000_0000 ^ (i as Word).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

fn write(vaddr: Word, v: Word) {
    // SAFETY: the caller has just mapped a writable frame at `vaddr` in the root VSpace.
    unsafe { core::ptr::write_volatile(vaddr as *mut Word, v) }
}

fn read(vaddr: Word) -> Word {
    // SAFETY: the caller has just mapped a readable frame at `vaddr` in the root VSpace.
    unsafe { core::ptr::read_volatile(vaddr as *const Word) }
}

/// `FailedLookup` of the destination with `MissingCapability(bits_left)`: what
/// `decodeRISCVFrameInvocation` returns when `lookupPTSlot` stops at another level than the
/// frame's size.
fn missing(bits_left: Word) -> D {
    D::FailedLookup {
        source: false,
        failure: LF::MissingCapability { bits_left },
    }
}

/// `FailedLookup` of the destination with `InvalidRoot`: `findVSpaceForASID` found no VSpace
/// for the ASID.
const NO_ASID: D = D::FailedLookup {
    source: false,
    failure: LF::InvalidRoot,
};

fn pt(c: &mut Ctx) -> Result<PageTable, Fail> {
    Ok(Cap::from_bits(c.new_object(T::PageTable, 0)?))
}

/// A new VSpace root (a page table on riscv64, a VSpace object on aarch64), without an ASID.
fn new_vspace(c: &mut Ctx) -> Result<VSpace, Fail> {
    Ok(Cap::from_bits(c.new_object(av::OBJECT, 0)?))
}

/// The same cap, as another kind (for invocations meant to be refused).
fn as_<A: libsel4::cap::cap_type::CapType, B: libsel4::cap::cap_type::CapType>(
    c: Cap<A>,
) -> Cap<B> {
    Cap::from_bits(c.bits())
}

fn frame(c: &mut Ctx, ty: T) -> Result<Granule, Fail> {
    Ok(Cap::from_bits(c.new_object(ty, 0)?))
}

/// Map `f` at `vaddr` in `vs`, making page tables while the lookup stops short.
fn map_making_tables(
    c: &mut Ctx,
    vs: VSpace,
    f: Granule,
    vaddr: Word,
    rights: CapRights,
) -> TestResult {
    for _ in 0..abi::arch::current::PT_LEVELS {
        match f.map(vs, vaddr, rights, DEFAULT) {
            Ok(()) => return Ok(()),
            Err(Error::FailedLookup) => {
                let t = pt(c)?;
                ok!(t.map(vs, vaddr, DEFAULT), "page table for {vaddr:#x}");
            }
            Err(e) => fail!(
                "map {f:?} at {vaddr:#x}: {} [{}]",
                libsel4::error_name(e),
                libsel4::last_error().detail()
            ),
        }
    }
    fail!("map at {vaddr:#x}: lookup still fails after making page tables")
}

/// Map the root task's whole image into `vs` at the same addresses (copies of the
/// `userImageFrames` caps), so a thread there runs the same code with the same statics.
fn map_image(c: &mut Ctx, vs: VSpace) -> TestResult {
    let image = libsel4::rt::image_range();
    let frames = c.bi.user_image_frames;
    let n = frames.end - frames.start;
    check_eq!(
        n,
        ((image.end - image.start) / 4096) as Word,
        "image frame caps"
    );
    for k in 0..n {
        let copy = c.copy(frames.start + k, CapRights::ALL)?;
        map_making_tables(
            c,
            vs,
            Cap::from_bits(copy),
            image.start as Word + k * 4096,
            CapRights::ALL,
        )?;
    }
    Ok(())
}

extern "C" fn probe_main(rep: Word, addr: Word, op: Word, val: Word) -> ! {
    let v = if op == STORE {
        // SAFETY: the point: a store that may fault (the root task handles the fault).
        unsafe { core::ptr::write_volatile(addr as *mut Word, val) };
        val
    } else if op == CALL {
        // SAFETY: the point: a call of code the root task wrote at `addr` (a `ret`), or a
        // fetch that faults.
        unsafe {
            arch::sync_icache();
            let f: extern "C" fn() = core::mem::transmute(addr as usize);
            f();
        }
        addr
    } else {
        // SAFETY: the point: a load that may fault (the root task handles the fault).
        unsafe { core::ptr::read_volatile(addr as *const Word) }
    };
    report_and_park(rep, PROBE_DONE, &[v])
}

/// What a probe saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// The access went through: the value loaded (or stored).
    Done(Word),
    /// A VM fault: [IP, address, prefetch, FSR].
    Fault([Word; 4]),
}

/// A thread that loads or stores one word per run, restarted for each run with
/// `TCB_WriteRegisters`; its faults come to the root task.
struct Probe {
    t: Thread,
    rep: CPtr,
}

impl Probe {
    /// A probe in the root VSpace, or in `vspace`.
    fn new(c: &mut Ctx, vspace: Option<VSpace>) -> Result<Probe, Fail> {
        let rep = c.rep()?;
        let fault = c.fault_ep()?;
        let t = c.thread_with_fault_ep(probe_main, 100, [0; 4], fault)?;
        if let Some(vs) = vspace {
            ok!(
                sys::seL4_TCB_SetSpace(
                    t.tcb,
                    fault,
                    init::CNODE.bits(),
                    abi::CNodeCapData::default().0,
                    vs.bits(),
                    0
                ),
                "SetSpace of the probe"
            );
        }
        Ok(Probe { t, rep })
    }

    fn run(&self, c: &mut Ctx, addr: Word, op: Word, val: Word) -> Result<Access, Fail> {
        // Stops the previous run (parked, or waiting for the reply to its fault).
        ok!(sys::seL4_TCB_Suspend(self.t.tcb), "Suspend the probe");
        let regs = initial_regs(probe_main, self.t.idx, [self.rep, addr, op, val]);
        ok!(
            sys::seL4_TCB_WriteRegisters(self.t.tcb, true, 0, arch::WORDS as Word, &regs),
            "restart the probe"
        );
        let m = c.recv(self.rep)?;
        if m.badge == FAULT_BADGE {
            check_eq!(
                (m.label(), m.len()),
                (abi::fault::VM_FAULT, 4),
                "fault of the probe at {:#x} (label, length)",
                addr
            );
            let pc = self.t.regs()?.regs[idx::PC];
            check_eq!(m.mr[0], pc, "VM fault IP: the probe's pc");
            return Ok(Access::Fault([m.mr[0], m.mr[1], m.mr[2], m.mr[3]]));
        }
        check_eq!(
            (m.label(), m.len()),
            (PROBE_DONE, 1),
            "report of the probe at {:#x}",
            addr
        );
        Ok(Access::Done(m.mr[0]))
    }

    /// A load from `addr` must give `want`.
    fn load(&self, c: &mut Ctx, addr: Word, want: Word, what: &str) -> TestResult {
        let a = self.run(c, addr, LOAD, 0)?;
        check_eq!(a, Access::Done(want), "{}: load from {:#x}", what, addr);
        Ok(())
    }

    /// A store of `v` to `addr` must go through.
    fn store(&self, c: &mut Ctx, addr: Word, v: Word, what: &str) -> TestResult {
        let a = self.run(c, addr, STORE, v)?;
        check_eq!(a, Access::Done(v), "{}: store to {:#x}", what, addr);
        Ok(())
    }

    /// An access to `addr` must be a VM fault [IP, addr, prefetch, FSR] with exactly the FSR
    /// of that access refused for `why` (`arch::vm_fsr`).
    fn fault_for(&self, c: &mut Ctx, addr: Word, op: Word, why: Why, what: &str) -> TestResult {
        let a = self.run(c, addr, op, 0x0bad)?;
        let (prefetch, kind) = match op {
            STORE => (0, arch::Access::Store),
            CALL => (1, arch::Access::Fetch),
            _ => (0, arch::Access::Load),
        };
        match a {
            Access::Fault(w) => check_eq!(
                (w[1], w[2], w[3]),
                (addr, prefetch, arch::vm_fsr(kind, why)),
                "{}: VM fault at {:#x} (address, prefetch, FSR)",
                what,
                addr
            ),
            Access::Done(v) => fail!("{}: access at {:#x} went through ({:#x})", what, addr, v),
        }
        Ok(())
    }

    /// An access to `addr` must be a VM fault [IP, addr, prefetch, FSR]: the FSR of that
    /// kind of access (riscv64: exactly; aarch64: `ESR_EL1` of a data or instruction abort
    /// with a translation or permission fault, at whatever level).
    fn fault(&self, c: &mut Ctx, addr: Word, op: Word, what: &str) -> TestResult {
        let a = self.run(c, addr, op, 0x0bad)?;
        let (prefetch, kind) = match op {
            STORE => (0, arch::Access::Store),
            CALL => (1, arch::Access::Fetch),
            _ => (0, arch::Access::Load),
        };
        match a {
            Access::Fault(w) => {
                check_eq!(
                    (w[1], w[2]),
                    (addr, prefetch),
                    "{}: VM fault at {:#x} (address, prefetch)",
                    what,
                    addr
                );
                crate::check!(
                    arch::vm_fsr_is(w[3], kind),
                    "{}: VM fault at {:#x}: FSR {:#x} is no {:?} fault",
                    what,
                    addr,
                    w[3],
                    kind
                );
            }
            Access::Done(v) => fail!(
                "{}: {} at {:#x} went through ({:#x}), expected a VM fault",
                what,
                ["load", "store", "call"][op as usize],
                addr,
                v
            ),
        }
        Ok(())
    }
}

/// The first device untyped of at least 2^`bits` bytes.
fn device_untyped(c: &Ctx, bits: u8) -> Option<(Untyped, abi::UntypedDesc)> {
    use libsel4::bootinfo::BootInfoExt;
    c.bi.untypeds()
        .find(|(_, d)| d.is_device == 1 && d.size_bits >= bits)
        .map(|(u, d)| (u, *d))
}

/// A 4 KiB frame mapped read-write through a level-1 and a level-0 page table made for it:
/// before them `Page_Map` fails with the level `lookupPTSlot` stopped at (MissingCapability
/// with 30, then 21 bits left); a page table where every level exists is DeleteFirst. The frame
/// is at the base of the (fresh) scratch untyped, which `GetAddress` gives; what the root task
/// writes through the mapping a thread reads, and the other way round. After `Page_Unmap` a
/// load there is a VM fault (load, FSR 5); the unmapped frame keeps its contents and maps again
/// elsewhere.
pub fn vspace_map_unmap_4k(c: &mut Ctx) -> TestResult {
    let (_, scratch) = c.scratch()?;
    // The first object of the scratch untyped (fresh: revoked after the previous test).
    let f = frame(c, T::SmallPage)?;
    check_eq!(ident(f.bits()), tag::FRAME, "frame cap");
    check_eq!(
        ok!(f.get_address(), "GetAddress"),
        scratch.paddr,
        "GetAddress of the first frame of the untyped"
    );
    let vs = init::VSPACE;
    expect_err!(
        f.map(vs, BASE, RW, DEFAULT),
        missing(30),
        "Page_Map with no page table below the root"
    );
    let l1 = pt(c)?;
    ok!(l1.map(vs, BASE, DEFAULT), "level-1 page table");
    expect_err!(
        f.map(vs, BASE, RW, DEFAULT),
        missing(21),
        "Page_Map with no level-0 page table"
    );
    let l0 = pt(c)?;
    ok!(l0.map(vs, BASE, DEFAULT), "level-0 page table");
    let extra = pt(c)?;
    expect_err!(
        extra.map(vs, BASE, DEFAULT),
        D::DeleteFirst,
        "PageTable_Map where every level exists"
    );
    expect_err!(
        extra.map(vs, BASE + 0x1f_f000, DEFAULT),
        D::DeleteFirst,
        "PageTable_Map elsewhere in the same 2 MiB"
    );
    ok!(f.map(vs, BASE, RW, DEFAULT), "Page_Map read-write");
    for i in 0..512 {
        write(BASE + 8 * i as Word, pattern(i));
    }
    for i in 0..512 {
        check_eq!(
            read(BASE + 8 * i as Word),
            pattern(i),
            "word {} read back",
            i
        );
    }
    let p = Probe::new(c, None)?;
    p.load(
        c,
        BASE + 8 * 5,
        pattern(5),
        "a thread reads the root task's pattern",
    )?;
    p.store(c, BASE + 0xff8, 0x7777, "a thread writes")?;
    check_eq!(
        read(BASE + 0xff8),
        0x7777,
        "the thread's store, read by the root task"
    );
    ok!(f.unmap(), "Page_Unmap");
    p.fault_for(c, BASE, LOAD, Why::Missing(12), "after Page_Unmap")?;
    p.fault_for(c, BASE + 0xff8, STORE, Why::Missing(12), "after Page_Unmap")?;
    check_eq!(
        ok!(f.get_address(), "GetAddress of the unmapped frame"),
        scratch.paddr,
        "GetAddress after Unmap"
    );
    // performPageInvocationUnmap: nothing mapped, nothing to do.
    ok!(f.unmap(), "Page_Unmap of an unmapped frame");
    // Unmapped, the cap maps anywhere again; the frame kept its contents.
    ok!(f.map(vs, BASE + 0x3000, RW, DEFAULT), "Page_Map elsewhere");
    check_eq!(
        read(BASE + 0x3000 + 8 * 7),
        pattern(7),
        "contents at the new address"
    );
    p.fault(c, BASE, LOAD, "old address after the remap elsewhere")?;
    ok!(f.unmap(), "Page_Unmap");
    p.fault(c, BASE + 0x3000, LOAD, "after the second Page_Unmap")?;
    Ok(())
}

/// A 2 MiB frame (RAM) and a 1 GiB frame (device memory: mapped, never touched) at aligned
/// addresses, and the frame errors of `decodeRISCVFrameInvocation` in their order: a target
/// that is no mapped VSpace root (InvalidCapability 1), the end beyond `seL4_UserTop`
/// (InvalidArgument 0, even when misaligned too), misalignment (AlignmentError), a lookup that
/// stops at another level than the frame's size (FailedLookup, MissingCapability with the bits
/// left there: a page table or a larger page in the way), a slot already holding a mapping
/// (DeleteFirst), a frame already mapped at another address (InvalidArgument 0).
pub fn vspace_map_sizes(c: &mut Ctx) -> TestResult {
    let (_, scratch) = c.scratch()?;
    check!(scratch.size_bits >= 22, "scratch untyped too small");
    let mega = frame(c, arch::LARGE_PAGE)?;
    check_eq!(
        ok!(mega.get_address(), "GetAddress of the 2 MiB frame"),
        scratch.paddr,
        "GetAddress of the first 2 MiB frame of the untyped"
    );
    let (dev, d) = match device_untyped(c, 30) {
        Some(x) => x,
        None => fail!("no device untyped of 1 GiB or more"),
    };
    c.touch(dev);
    let giga_slot = c.slot()?;
    ok!(
        dev.retype(av::HUGE_PAGE, 0, &c.root.as_retype_dest(), giga_slot, 1),
        "1 GiB frame from device untyped {:#x}/{}",
        d.paddr,
        d.size_bits
    );
    let giga: Granule = Cap::from_bits(giga_slot);
    let gib = 1u64 << 30;
    check_eq!(
        ok!(giga.get_address(), "GetAddress of the 1 GiB frame"),
        (d.paddr + gib - 1) & !(gib - 1),
        "GetAddress of the 1 GiB device frame"
    );
    let vs = init::VSPACE;

    // The target VSpace.
    let ep = c.new_object(T::Endpoint, 0)?;
    let unassigned = new_vspace(c)?;
    expect_err!(
        mega.map(Cap::from_bits(ep), BASE, RW, DEFAULT),
        D::InvalidCapability { index: 1 },
        "Page_Map into an endpoint"
    );
    expect_err!(
        mega.map(unassigned, BASE, RW, DEFAULT),
        D::InvalidCapability { index: 1 },
        "Page_Map into a page table without an ASID"
    );

    // Bounds and alignment (riscv64: bounds first; aarch64: alignment first).
    let gib: Word = 1 << 30;
    let bounds_or_alignment = if av::BOUNDS_BEFORE_ALIGNMENT {
        D::InvalidArgument { index: 0 }
    } else {
        D::AlignmentError
    };
    expect_err!(
        mega.map(vs, END, RW, DEFAULT),
        D::InvalidArgument { index: 0 },
        "2 MiB frame at the end of user space"
    );
    expect_err!(
        mega.map(vs, END - (1 << 21) + 0x1000, RW, DEFAULT),
        bounds_or_alignment,
        "2 MiB frame ending past the end of user space, misaligned"
    );
    let last_gib = (END - 1) & !(gib - 1);
    expect_err!(
        giga.map(vs, last_gib, RW, DEFAULT),
        if last_gib + gib > END {
            D::InvalidArgument { index: 0 }
        } else {
            missing(av::ROOT_ENTRY_BITS)
        },
        "1 GiB frame in the last GiB (past the end on riscv64; no table there on aarch64)"
    );
    expect_err!(
        giga.map(vs, (END + gib - 1) & !(gib - 1), RW, DEFAULT),
        D::InvalidArgument { index: 0 },
        "1 GiB frame at the first GiB past the end"
    );
    let small = frame(c, T::SmallPage)?;
    expect_err!(
        small.map(vs, END, RW, DEFAULT),
        D::InvalidArgument { index: 0 },
        "4 KiB frame at the end of user space"
    );
    expect_err!(
        small.map(vs, END - 0x1000, RW, DEFAULT),
        missing(av::ROOT_ENTRY_BITS),
        "4 KiB frame at the last page passes the bound (no page table there)"
    );
    expect_err!(
        mega.map(vs, BASE + 0x10_0000, RW, DEFAULT),
        D::AlignmentError,
        "2 MiB frame at a 1 MiB boundary"
    );
    expect_err!(
        giga.map(vs, GIB3 + (1 << 21), RW, DEFAULT),
        D::AlignmentError,
        "1 GiB frame at a 2 MiB boundary"
    );

    // Levels.
    expect_err!(
        mega.map(vs, BASE + (1 << 21), RW, DEFAULT),
        missing(30),
        "2 MiB frame without a level-1 page table"
    );
    let l1 = pt(c)?;
    ok!(l1.map(vs, BASE, DEFAULT), "level-1 page table at BASE");
    let m_addr = BASE + (1 << 21);
    expect_err!(
        giga.map(vs, BASE, RW, DEFAULT),
        missing(21),
        "1 GiB frame where a level-1 page table is"
    );
    ok!(mega.map(vs, m_addr, RW, DEFAULT), "2 MiB frame");
    write(m_addr, 0x1111);
    write(m_addr + (1 << 21) - 8, 0x2222);
    check_eq!(
        (read(m_addr), read(m_addr + (1 << 21) - 8)),
        (0x1111, 0x2222),
        "first and last word of the 2 MiB page"
    );
    let p = Probe::new(c, None)?;
    p.load(
        c,
        m_addr + 0x10_0000 - 8,
        0,
        "middle of the fresh 2 MiB page",
    )?;
    let l0 = pt(c)?;
    ok!(l0.map(vs, BASE, DEFAULT), "level-0 page table at BASE");
    let mega2 = frame(c, arch::LARGE_PAGE)?;
    expect_err!(
        mega2.map(vs, BASE, RW, DEFAULT),
        missing(12),
        "2 MiB frame where a level-0 page table is"
    );
    expect_err!(
        giga.map(vs, BASE, RW, DEFAULT),
        missing(12),
        "1 GiB frame where level-1 and level-0 page tables are"
    );
    expect_err!(
        small.map(vs, m_addr + 0x1000, RW, DEFAULT),
        missing(21),
        "4 KiB frame inside a mapped 2 MiB page"
    );
    let t = pt(c)?;
    expect_err!(
        t.map(vs, m_addr, DEFAULT),
        D::DeleteFirst,
        "page table where a 2 MiB page is mapped"
    );
    match av::MAP_OVER_MAPPING {
        Some(e) => expect_err!(
            mega2.map(vs, m_addr, RW, DEFAULT),
            e,
            "2 MiB frame where another is mapped"
        ),
        None => {
            ok!(
                mega2.map(vs, m_addr, RW, DEFAULT),
                "2 MiB frame where another is mapped (replaces it)"
            );
            check_eq!(read(m_addr), 0, "the fresh 2 MiB frame replaced the first");
        }
    }
    expect_err!(
        mega.map(vs, m_addr + (1 << 21), RW, DEFAULT),
        D::InvalidArgument { index: 0 },
        "2 MiB frame already mapped at another address"
    );
    ok!(
        mega.map(vs, m_addr, RO, DEFAULT),
        "2 MiB frame again at its own address (remap)"
    );
    check_eq!(read(m_addr), 0x1111, "2 MiB page after the remap");

    // The 1 GiB device frame: a leaf of the root page table.
    ok!(giga.map(vs, GIB3, RW, DEFAULT), "1 GiB frame");
    expect_err!(
        giga.map(vs, GIB4, RW, DEFAULT),
        D::InvalidArgument { index: 0 },
        "1 GiB frame already mapped at another address"
    );
    expect_err!(
        t.map(vs, GIB3 + 0x1000, DEFAULT),
        D::DeleteFirst,
        "page table inside a mapped 1 GiB page"
    );
    expect_err!(
        small.map(vs, GIB3, RW, DEFAULT),
        missing(30),
        "4 KiB frame inside a mapped 1 GiB page"
    );
    // A copy of a mapped frame cap is unmapped (Arch_deriveCap) and maps on its own.
    let copy: Granule = Cap::from_bits(c.copy(giga.bits(), CapRights::ALL)?);
    ok!(
        copy.map(vs, GIB4, RW, DEFAULT),
        "copy of the 1 GiB frame cap"
    );
    check_eq!(
        ok!(copy.get_address(), "GetAddress of the copy"),
        ok!(giga.get_address(), "GetAddress"),
        "both caps name the same frame"
    );
    ok!(copy.unmap(), "Unmap the copy");
    ok!(giga.unmap(), "Unmap the 1 GiB frame");
    ok!(
        giga.map(vs, GIB4, RW, DEFAULT),
        "the unmapped 1 GiB frame elsewhere"
    );
    ok!(giga.unmap(), "Unmap the 1 GiB frame");
    ok!(mega.unmap(), "Unmap the 2 MiB frame");
    p.fault_for(c, m_addr, LOAD, Why::Missing(21), "unmapped 2 MiB page")?;
    p.fault(
        c,
        m_addr + (1 << 21) - 8,
        LOAD,
        "end of the unmapped 2 MiB page",
    )?;
    Ok(())
}

/// One frame in two VSpaces: the second is a new page table with an ASID from the initial pool
/// and the root task's image mapped again (copies of its frame caps), so a thread there runs
/// the same code. A frame cap maps once: the mapped cap into the other VSpace is
/// InvalidCapability 1 (it belongs to another ASID), at another address of its own VSpace
/// InvalidArgument 0; a copy of the cap maps. What one side writes the other reads.
pub fn vspace_shared_frame(c: &mut Ctx) -> TestResult {
    let vs2 = new_vspace(c)?;
    ok!(
        init::ASID_POOL.assign(vs2),
        "ASIDPool_Assign of the second VSpace"
    );
    map_image(c, vs2)?;
    let vs = init::VSPACE;
    let f = frame(c, T::SmallPage)?;
    map_making_tables(c, vs, f, BASE, RW)?;
    let f2: Granule = Cap::from_bits(c.copy(f.bits(), CapRights::ALL)?);
    map_making_tables(c, vs2, f2, OTHER, RW)?;
    expect_err!(
        f.map(vs2, OTHER + 0x1000, RW, DEFAULT),
        D::InvalidCapability { index: 1 },
        "frame cap mapped in the root VSpace, into the second"
    );
    expect_err!(
        f.map(vs, BASE + 0x1000, RW, DEFAULT),
        D::InvalidArgument { index: 0 },
        "frame cap mapped at BASE, at another address"
    );
    expect_err!(
        f2.map(vs, BASE + 0x1000, RW, DEFAULT),
        D::InvalidCapability { index: 1 },
        "frame cap mapped in the second VSpace, into the root VSpace"
    );
    check_eq!(
        ok!(f2.get_address(), "GetAddress"),
        ok!(f.get_address(), "GetAddress"),
        "the copy names the same frame"
    );
    write(BASE, 0xabcd_0001);
    let p = Probe::new(c, Some(vs2))?;
    p.load(
        c,
        OTHER,
        0xabcd_0001,
        "second VSpace reads the root task's word",
    )?;
    p.store(c, OTHER + 8, 0xabcd_0002, "second VSpace writes")?;
    check_eq!(
        read(BASE + 8),
        0xabcd_0002,
        "the root task reads the second VSpace's word"
    );
    p.fault(
        c,
        BASE,
        LOAD,
        "the root task's address in the second VSpace",
    )?;
    ok!(f2.unmap(), "Unmap in the second VSpace");
    p.fault(c, OTHER, LOAD, "second VSpace after its Unmap")?;
    check_eq!(
        read(BASE + 8),
        0xabcd_0002,
        "root mapping after the other Unmap"
    );
    ok!(f2.map(vs2, OTHER, RO, DEFAULT), "the copy again, read-only");
    p.load(
        c,
        OTHER + 8,
        0xabcd_0002,
        "second VSpace, read-only mapping",
    )?;
    p.fault(c, OTHER + 8, STORE, "second VSpace, read-only mapping")?;
    write(BASE + 8, 0xabcd_0003);
    p.load(
        c,
        OTHER + 8,
        0xabcd_0003,
        "second VSpace sees the root task's new word",
    )?;
    Ok(())
}

/// Remapping a mapped frame at the same address with other rights (allowed by
/// `decodeRISCVFrameInvocation`: same ASID, same address) changes the PTE: read-only, a store
/// is a VM fault (FSR 7) while loads still work; read-write again, the store goes through. A
/// read-only copy of the cap maps read-only whatever rights the mapping asks for
/// (`maskVMRights`).
pub fn vspace_remap_read_only(c: &mut Ctx) -> TestResult {
    let vs = init::VSPACE;
    let f = frame(c, T::SmallPage)?;
    map_making_tables(c, vs, f, BASE, RW)?;
    write(BASE + 16, 0x600d);
    let p = Probe::new(c, None)?;
    p.store(c, BASE + 24, 0x1, "store through the read-write mapping")?;
    ok!(f.map(vs, BASE, RO, DEFAULT), "remap read-only");
    p.fault_for(
        c,
        BASE + 16,
        STORE,
        Why::Denied(12),
        "store through the read-only mapping",
    )?;
    p.load(c, BASE + 16, 0x600d, "load through the read-only mapping")?;
    check_eq!(
        (read(BASE + 16), read(BASE + 24)),
        (0x600d, 0x1),
        "the faulting store did not happen"
    );
    expect_err!(
        f.map(vs, BASE + 0x1000, RO, DEFAULT),
        D::InvalidArgument { index: 0 },
        "remap at another address"
    );
    ok!(f.map(vs, BASE, RW, DEFAULT), "remap read-write");
    p.store(c, BASE + 16, 0x700d, "store after the read-write remap")?;
    check_eq!(read(BASE + 16), 0x700d, "the store went through");
    // A read-only cap: VMReadOnly whatever the mapping's rights.
    let ro: Granule = Cap::from_bits(c.copy(f.bits(), RO)?);
    ok!(
        ro.map(vs, BASE + 0x1000, RW, DEFAULT),
        "read-only cap mapped asking for RW"
    );
    p.load(
        c,
        BASE + 0x1000 + 16,
        0x700d,
        "load through the read-only cap's mapping",
    )?;
    p.fault(
        c,
        BASE + 0x1000 + 16,
        STORE,
        "store through the read-only cap's mapping",
    )?;
    // No read right: the rights mask leaves VMKernelOnly, a PTE that is not valid for
    // user loads (makeUserPTE makes an execute-only PTE here, as the page is executable).
    ok!(
        f.map(vs, BASE, CapRights::WRITE, DEFAULT),
        "remap with a write-only mask"
    );
    p.fault(c, BASE + 16, LOAD, "load through a write-only-mask mapping")?;
    p.fault(
        c,
        BASE + 16,
        STORE,
        "store through a write-only-mask mapping",
    )?;
    Ok(())
}

/// `decodeRISCVPageTableInvocation`: a mapped page table maps no second time (InvalidCapability
/// 0, checked first); the target must be a mapped VSpace root (InvalidCapability 1: an
/// endpoint, a page table without an ASID, a mapped non-root page table); `vaddr` below
/// `seL4_UserTop` (InvalidArgument 0); the vaddr need not be aligned (the table covers its
/// region). An unmapped page table cap cannot be copied (`Arch_deriveCap`: IllegalOperation),
/// a mapped one with copies cannot be unmapped, nor a VSpace root (RevokeFirst). Unmap clears
/// the table: remapped, it maps nothing until the frame is mapped again (allowed at the
/// address its cap records). Deleting a page table unmaps everything below it.
pub fn vspace_page_table_errors(c: &mut Ctx) -> TestResult {
    let vs = init::VSPACE;
    let l1 = pt(c)?;
    ok!(l1.map(vs, BASE, DEFAULT), "level-1 page table");
    expect_err!(
        l1.map(vs, GIB3, DEFAULT),
        D::InvalidCapability { index: 0 },
        "PageTable_Map of a mapped page table"
    );
    let unassigned = new_vspace(c)?;
    expect_err!(
        l1.map(unassigned, END, DEFAULT),
        D::InvalidCapability { index: 0 },
        "mapped page table, bad VSpace, bad vaddr: the mapped check first"
    );
    let l0 = pt(c)?;
    let ep = c.new_object(T::Endpoint, 0)?;
    expect_err!(
        l0.map(Cap::from_bits(ep), BASE, DEFAULT),
        D::InvalidCapability { index: 1 },
        "into an endpoint"
    );
    expect_err!(
        l0.map(unassigned, BASE, DEFAULT),
        D::InvalidCapability { index: 1 },
        "into a page table without an ASID"
    );
    expect_err!(
        l0.map(as_(l1), BASE, DEFAULT),
        D::InvalidCapability { index: 1 },
        "into a mapped page table that is not a VSpace root"
    );
    expect_err!(
        l0.map(unassigned, END, DEFAULT),
        D::InvalidCapability { index: 1 },
        "bad VSpace and bad vaddr: the VSpace first"
    );
    expect_err!(
        l0.map(vs, END, DEFAULT),
        D::InvalidArgument { index: 0 },
        "vaddr at the end of user space"
    );
    expect_err!(
        l0.map(vs, 0xffff_ffc0_0000_0000, DEFAULT),
        D::InvalidArgument { index: 0 },
        "vaddr in the kernel window"
    );
    let s = c.slot()?;
    expect_err!(
        c.abs(s)
            .copy_from(&c.abs(unassigned.bits()), CapRights::ALL),
        D::IllegalOperation,
        "copy of an unmapped page table cap"
    );
    ok!(
        l0.map(vs, BASE + 0x5000, DEFAULT),
        "level-0 page table at an unaligned vaddr"
    );
    let f = frame(c, T::SmallPage)?;
    ok!(
        f.map(vs, BASE, RW, DEFAULT),
        "frame at BASE (below the level-0 table)"
    );
    write(BASE, 0x7e57);
    let p = Probe::new(c, None)?;
    p.load(c, BASE, 0x7e57, "through the page tables")?;

    // RevokeFirst.
    let l0copy = c.copy(l0.bits(), CapRights::ALL)?;
    check_eq!(
        ident(l0copy),
        tag::PAGE_TABLE,
        "copy of a mapped page table cap"
    );
    expect_err!(
        l0.unmap(),
        D::RevokeFirst,
        "PageTable_Unmap of a page table cap with a copy"
    );
    ok!(c.abs(l0copy).delete(), "delete the copy");
    let root2 = new_vspace(c)?;
    ok!(init::ASID_POOL.assign(root2), "Assign a VSpace");
    expect_err!(
        as_::<_, libsel4::cap::cap_type::PageTable>(root2).unmap(),
        av::UNMAP_VSPACE_ROOT,
        "PageTable_Unmap of a VSpace root"
    );

    // Unmap, remap.
    ok!(l0.unmap(), "PageTable_Unmap");
    p.fault(c, BASE, LOAD, "after PageTable_Unmap")?;
    ok!(l0.unmap(), "PageTable_Unmap of an unmapped page table");
    ok!(
        l0.map(vs, BASE, DEFAULT),
        "the unmapped page table maps again"
    );
    p.fault(c, BASE, LOAD, "remapped page table (cleared by Unmap)")?;
    ok!(
        f.map(vs, BASE, RW, DEFAULT),
        "the frame again at the address its cap records"
    );
    p.load(c, BASE, 0x7e57, "after remapping table and frame")?;
    expect_err!(
        f.map(vs, BASE + 0x2000, RW, DEFAULT),
        D::InvalidArgument { index: 0 },
        "the frame at another address"
    );

    // Delete.
    ok!(c.abs(l0.bits()).delete(), "delete the level-0 page table");
    p.fault(c, BASE, LOAD, "after deleting the level-0 page table")?;
    let l0b = pt(c)?;
    ok!(
        l0b.map(vs, BASE, DEFAULT),
        "a new level-0 page table in the freed slot"
    );
    ok!(f.map(vs, BASE, RW, DEFAULT), "the frame again");
    p.load(c, BASE, 0x7e57, "through the new level-0 page table")?;
    ok!(c.abs(l1.bits()).delete(), "delete the level-1 page table");
    p.fault(c, BASE, LOAD, "after deleting the level-1 page table")?;
    expect_err!(
        f.map(vs, BASE, RW, DEFAULT),
        missing(30),
        "the frame without the level-1 page table"
    );
    expect_err!(
        l0b.map(vs, BASE, DEFAULT),
        D::InvalidCapability { index: 0 },
        "the orphaned level-0 page table cap still says mapped"
    );
    ok!(l0b.unmap(), "PageTable_Unmap of the orphaned page table");
    let l1b = pt(c)?;
    ok!(l1b.map(vs, BASE, DEFAULT), "a new level-1 page table");
    ok!(
        l0b.map(vs, BASE, DEFAULT),
        "the unmapped level-0 page table below it"
    );
    ok!(f.map(vs, BASE, RW, DEFAULT), "the frame again");
    p.load(c, BASE, 0x7e57, "through the new tables")?;
    Ok(())
}

/// `decodeRISCVMMUInvocation`: `ASIDControl_MakePool` takes a 4 KiB RAM untyped without
/// children (InvalidCapability 1 for another size, device memory or another cap; RevokeFirst
/// with children), an empty destination (DeleteFirst), and a free entry of the ASID table
/// (DeleteFirst when all `nASIDPools` = 128 are taken, checked first). `ASIDPool_Assign` takes
/// a page table without a mapping (InvalidCapability 1) and fails with DeleteFirst when the
/// pool's 512 ASIDs are taken. Deleting the pool leaves its VSpaces without an ASID: a thread
/// there faults on its first fetch, mapping into one is FailedLookup(InvalidRoot); once a new pool reuses the table entry and the ASID
/// goes to another VSpace, it is InvalidCapability 1.
pub fn vspace_asid_pool(c: &mut Ctx) -> TestResult {
    let ctl = init::ASID_CONTROL;
    let u = c.new_untyped(12)?;
    let pool_slot = c.slot()?;
    ok!(ctl.make_pool(u, &c.abs(pool_slot)), "MakePool");
    check_eq!(ident(pool_slot), tag::ASID_POOL, "the new pool cap");
    let pool: AsidPool = Cap::from_bits(pool_slot);
    let s = c.slot()?;
    expect_err!(
        ctl.make_pool(u, &c.abs(s)),
        D::RevokeFirst,
        "MakePool from an untyped with a child (the pool)"
    );
    let u13 = c.new_untyped(13)?;
    expect_err!(
        ctl.make_pool(u13, &c.abs(s)),
        D::InvalidCapability { index: 1 },
        "MakePool from an 8 KiB untyped"
    );
    let u11 = c.new_untyped(11)?;
    expect_err!(
        ctl.make_pool(u11, &c.abs(s)),
        D::InvalidCapability { index: 1 },
        "MakePool from a 2 KiB untyped"
    );
    let ep = c.new_object(T::Endpoint, 0)?;
    expect_err!(
        ctl.make_pool(Cap::from_bits(ep), &c.abs(s)),
        D::InvalidCapability { index: 1 },
        "MakePool from an endpoint"
    );
    let (dev, _) = match device_untyped(c, 12) {
        Some(x) => x,
        None => fail!("no device untyped"),
    };
    c.touch(dev);
    let dev4k = c.slot()?;
    ok!(
        dev.retype(T::Untyped, 12, &c.root.as_retype_dest(), dev4k, 1),
        "4 KiB device untyped"
    );
    expect_err!(
        ctl.make_pool(Cap::from_bits(dev4k), &c.abs(s)),
        D::InvalidCapability { index: 1 },
        "MakePool from a 4 KiB device untyped"
    );
    let u2 = c.new_untyped(12)?;
    expect_err!(
        ctl.make_pool(u2, &c.abs(pool_slot)),
        D::DeleteFirst,
        "MakePool into an occupied slot"
    );
    check_eq!(ident(s), tag::NULL, "no pool made by the failed MakePools");

    // Assign.
    let vs = new_vspace(c)?;
    ok!(pool.assign(vs), "Assign");
    expect_err!(
        pool.assign(vs),
        D::InvalidCapability { index: 1 },
        "Assign of an assigned page table"
    );
    expect_err!(
        init::ASID_POOL.assign(vs),
        D::InvalidCapability { index: 1 },
        "Assign of a page table assigned by another pool"
    );
    let f = frame(c, T::SmallPage)?;
    expect_err!(
        pool.assign(Cap::from_bits(f.bits())),
        D::InvalidCapability { index: 1 },
        "Assign of a frame"
    );
    let l1 = pt(c)?;
    ok!(l1.map(vs, BASE, DEFAULT), "page table into the new VSpace");
    expect_err!(
        pool.assign(as_(l1)),
        D::InvalidCapability { index: 1 },
        "Assign of a mapped non-root page table"
    );
    let l0 = pt(c)?;
    ok!(
        l0.map(vs, BASE, DEFAULT),
        "level-0 page table into the new VSpace"
    );
    // (aarch64 needs one more table below these two.)
    map_making_tables(c, vs, f, BASE, RW)?;
    map_image(c, vs)?;
    let p = Probe::new(c, Some(vs))?;
    p.load(c, BASE, 0, "a thread in the new VSpace")?;

    // Delete the pool.
    ok!(c.abs(pool_slot).delete(), "delete the pool");
    // setVMRoot finds no VSpace for the thread's ASID and gives it the kernel-only page
    // table: its first fetch is a VM fault.
    let entry_fn: crate::thread::Entry = probe_main;
    let entry = entry_fn as usize as Word;
    check_eq!(
        p.run(c, BASE, LOAD, 0)?,
        Access::Fault([
            entry,
            entry,
            1,
            arch::vm_fsr(
                arch::Access::Fetch,
                Why::Missing(av::ROOT_ENTRY_BITS as u32)
            )
        ]),
        "a thread in a VSpace whose pool is gone"
    );
    let f2 = frame(c, T::SmallPage)?;
    expect_err!(
        f2.map(vs, BASE + 0x1000, RW, DEFAULT),
        NO_ASID,
        "Page_Map into a VSpace whose pool is gone"
    );
    let t = pt(c)?;
    expect_err!(
        t.map(vs, GIB3, DEFAULT),
        NO_ASID,
        "PageTable_Map into a VSpace whose pool is gone"
    );
    expect_err!(
        init::ASID_POOL.assign(vs),
        D::InvalidCapability { index: 1 },
        "Assign of a VSpace whose pool is gone (its cap still says mapped)"
    );
    // A new pool takes the free table entry; its first ASID is the one `vs` had.
    let pool2_slot = c.slot()?;
    ok!(ctl.make_pool(u2, &c.abs(pool2_slot)), "MakePool again");
    let pool2: AsidPool = Cap::from_bits(pool2_slot);
    let vs_b = new_vspace(c)?;
    ok!(pool2.assign(vs_b), "Assign from the new pool");
    expect_err!(
        f2.map(vs, BASE + 0x1000, RW, DEFAULT),
        D::InvalidCapability { index: 1 },
        "Page_Map into the old VSpace once its ASID is another VSpace's"
    );
    ok!(
        l0.unmap(),
        "PageTable_Unmap of a table of the old VSpace (nothing to do)"
    );

    // 512 ASIDs in a pool whose base is not 0.
    let n = 511;
    let first = c.slots(n)?;
    let (scratch, _) = c.scratch()?;
    let mut done = 0;
    while done < n {
        let k = (n - done).min(256);
        ok!(
            scratch.retype(av::OBJECT, 0, &c.root.as_retype_dest(), first + done, k),
            "{} VSpaces",
            k
        );
        done += k;
    }
    for i in 0..n {
        ok!(
            pool2.assign(Cap::from_bits(first + i)),
            "Assign {} of the new pool",
            i + 2
        );
    }
    let last = new_vspace(c)?;
    expect_err!(
        pool2.assign(last),
        D::DeleteFirst,
        "Assign from a full pool"
    );

    // 128 pools in the ASID table: the initial one and pool2 are taken.
    let m = 126;
    let uts = c.slots(m)?;
    ok!(
        scratch.retype(T::Untyped, 12, &c.root.as_retype_dest(), uts, m),
        "4 KiB untypeds"
    );
    let pools = c.slots(m)?;
    for i in 0..m {
        ok!(
            ctl.make_pool(Cap::from_bits(uts + i), &c.abs(pools + i)),
            "MakePool {} of {}",
            i + 1,
            m
        );
    }
    let u3 = c.new_untyped(12)?;
    let s3 = c.slot()?;
    expect_err!(
        ctl.make_pool(u3, &c.abs(s3)),
        D::DeleteFirst,
        "MakePool with the ASID table full"
    );
    expect_err!(
        ctl.make_pool(u13, &c.abs(s3)),
        D::DeleteFirst,
        "MakePool with the ASID table full and a bad untyped: the table first"
    );
    ok!(c.abs(pools + 7).delete(), "delete one pool");
    ok!(
        ctl.make_pool(u3, &c.abs(s3)),
        "MakePool into the freed entry"
    );
    Ok(())
}

/// Invocations of frame, page table, ASID control and ASID pool caps with too few words or
/// caps (TruncatedMessage) or another label (IllegalOperation), as `decodeRISCVMMUInvocation`
/// checks them: the label first, then the length, then the rest (a mapped page table with a
/// truncated Map is TruncatedMessage). `GetAddress` replies with label 0 and one word.
pub fn vspace_invocation_shapes(c: &mut Ctx) -> TestResult {
    use abi::InvocationLabel as L;
    use libsel4::invocation::{encode, Invocation};
    let vs = init::VSPACE.bits();
    let f = frame(c, T::SmallPage)?;
    let t = pt(c)?;
    let mapped = pt(c)?;
    ok!(
        mapped.map(init::VSPACE, BASE, DEFAULT),
        "a mapped page table"
    );
    let u = c.new_untyped(12)?;
    let s = c.slot()?;
    let root = c.root.bits();
    let info = ok!(
        encode::page_get_address().call(f.bits()),
        "GetAddress as an invocation"
    );
    check_eq!(
        (info.label(), info.length(), info.extra_caps()),
        (0, 1, 0),
        "GetAddress reply (label, length, caps)"
    );
    let fmap = encode::page_map(vs, BASE, RW, DEFAULT);
    expect_err!(
        fmap.truncated(2).call(f.bits()),
        D::TruncatedMessage,
        "Page_Map with 2 words"
    );
    expect_err!(
        fmap.with_caps_truncated(0).call(f.bits()),
        D::TruncatedMessage,
        "Page_Map without the VSpace cap"
    );
    let ptmap = encode::page_table_map(vs, BASE, DEFAULT);
    expect_err!(
        ptmap.truncated(1).call(t.bits()),
        D::TruncatedMessage,
        "PageTable_Map with 1 word"
    );
    expect_err!(
        ptmap.with_caps_truncated(0).call(mapped.bits()),
        D::TruncatedMessage,
        "PageTable_Map of a mapped table without the VSpace cap: the length first"
    );
    let mk = encode::asid_control_make_pool(u.bits(), root, s, 64);
    expect_err!(
        mk.truncated(1).call(init::ASID_CONTROL.bits()),
        D::TruncatedMessage,
        "MakePool with 1 word"
    );
    expect_err!(
        mk.with_caps_truncated(1).call(init::ASID_CONTROL.bits()),
        D::TruncatedMessage,
        "MakePool with 1 cap"
    );
    expect_err!(
        encode::asid_pool_assign(t.bits())
            .with_caps_truncated(0)
            .call(init::ASID_POOL.bits()),
        D::TruncatedMessage,
        "Assign without the VSpace cap"
    );
    for (what, label, cap) in [
        ("PageMap on a page table", av::label::PAGE_MAP, t.bits()),
        (
            "PageGetAddress on a page table",
            av::label::PAGE_GET_ADDRESS,
            t.bits(),
        ),
        (
            "PageTableMap on a frame",
            av::label::PAGE_TABLE_MAP,
            f.bits(),
        ),
        (
            "PageTableUnmap on a frame",
            av::label::PAGE_TABLE_UNMAP,
            f.bits(),
        ),
        (
            "ASIDPoolAssign on a frame",
            av::label::ASID_POOL_ASSIGN,
            f.bits(),
        ),
        (
            "PageMap on ASID control",
            av::label::PAGE_MAP,
            init::ASID_CONTROL.bits(),
        ),
        (
            "ASIDPoolAssign on ASID control",
            av::label::ASID_POOL_ASSIGN,
            init::ASID_CONTROL.bits(),
        ),
        (
            "MakePool on an ASID pool",
            av::label::ASID_CONTROL_MAKE_POOL,
            init::ASID_POOL.bits(),
        ),
        (
            "PageUnmap on an ASID pool",
            av::label::PAGE_UNMAP,
            init::ASID_POOL.bits(),
        ),
        ("UntypedRetype on a frame", L::UntypedRetype, f.bits()),
        ("TCBSuspend on a page table", L::TCBSuspend, t.bits()),
    ] {
        expect_err!(
            Invocation::new(label)
                .word(BASE)
                .word(3)
                .word(0)
                .cap(vs)
                .cap(root)
                .call(cap),
            D::IllegalOperation,
            "{}",
            what
        );
    }
    check_eq!(ident(s), tag::NULL, "no pool made");
    Ok(())
}

/// Execute rights of a mapping (`makeUserPTE`): a page is executable unless mapped with
/// `seL4_RISCV_ExecuteNever`, whatever its read/write rights; a fetch from a non-executable
/// page is a VM fault [IP = address, address, prefetch 1, FSR 1]. A mapping without read
/// right (the rights mask leaves VMKernelOnly) is execute-only, and with ExecuteNever too it is
/// an invalid PTE: nothing is mapped, though the map succeeds.
pub fn vspace_execute_never(c: &mut Ctx) -> TestResult {
    use libsel4::vm_attributes::EXECUTE_NEVER as XN;
    let vs = init::VSPACE;
    let f = frame(c, T::SmallPage)?;
    map_making_tables(c, vs, f, BASE, RW)?;
    for i in 0..1024 {
        // SAFETY: the page is mapped read-write at BASE; `ret` everywhere.
        unsafe { core::ptr::write_volatile((BASE as *mut u32).add(i), arch::RET) };
    }
    ok!(arch::code_written(f.bits()), "make the code fetchable");
    let p = Probe::new(c, None)?;
    let a = BASE + 0x100;
    let word = (arch::RET as Word) << 32 | arch::RET as Word;
    check_eq!(
        p.run(c, a, CALL, 0)?,
        Access::Done(a),
        "call into a read-write page"
    );
    ok!(f.map(vs, BASE, RW, XN), "remap with ExecuteNever");
    p.fault_for(
        c,
        a,
        CALL,
        Why::Denied(12),
        "call into an ExecuteNever page",
    )?;
    p.load(c, a, word, "load from the ExecuteNever page")?;
    ok!(f.map(vs, BASE, RO, DEFAULT), "remap read-only, executable");
    check_eq!(
        p.run(c, a, CALL, 0)?,
        Access::Done(a),
        "call into a read-only page"
    );
    ok!(
        f.map(vs, BASE, CapRights::WRITE, DEFAULT),
        "remap with a write-only mask"
    );
    check_eq!(
        p.run(c, a, CALL, 0)?,
        Access::Done(a),
        "call into an execute-only page"
    );
    p.fault(c, a, LOAD, "load from an execute-only page")?;
    ok!(
        f.map(vs, BASE, CapRights::WRITE, XN),
        "remap with a write-only mask and ExecuteNever"
    );
    p.fault(c, a, CALL, "call with no rights at all")?;
    p.fault(c, a, LOAD, "load with no rights at all")?;
    ok!(f.map(vs, BASE, RW, DEFAULT), "remap read-write");
    p.load(c, a, word, "load after remapping read-write")?;
    check_eq!(
        p.run(c, a, CALL, 0)?,
        Access::Done(a),
        "call after remapping read-write"
    );
    Ok(())
}

/// Arm cache maintenance (`decodeARMFrameInvocation`'s flush cases and
/// `decodeARMVSpaceRootInvocation` in `src/arch/arm/64/kernel/vspace.c`), errors in seL4's
/// order. `seL4_ARM_Page_*` (offsets into the frame): TruncatedMessage (fewer than 2 words),
/// IllegalOperation (frame not mapped), InvalidArgument 1 (`end <= start`), InvalidArgument 0
/// (outside the page), InvalidCapability 0 (the cap's mapping is stale: another frame is
/// mapped there now), IllegalOperation (Invalidate through a mapping without write right).
/// `seL4_ARM_VSpace_*` (user addresses): TruncatedMessage, InvalidArgument 1 (`end <=
/// start`), IllegalOperation (`end > seL4_UserTop`), InvalidCapability 0 (no ASID), success
/// with nothing done where no page is mapped, RangeError(start, last byte of the page) for a
/// range leaving the page, IllegalOperation (Invalidate of a read-only mapping). What the
/// flushes leave in memory is what was there (cleaned before it is invalidated).
#[cfg(arch_aarch64)]
pub fn vspace_cache_maintenance(c: &mut Ctx) -> TestResult {
    use abi::InvocationLabel as L;
    use libsel4::invocation::Invocation;
    use sys::{
        seL4_ARM_Page_CleanInvalidate_Data as page_clean_inv,
        seL4_ARM_Page_Clean_Data as page_clean, seL4_ARM_Page_Invalidate_Data as page_inv,
        seL4_ARM_Page_Unify_Instruction as page_unify,
        seL4_ARM_VSpace_CleanInvalidate_Data as vs_clean_inv,
        seL4_ARM_VSpace_Clean_Data as vs_clean, seL4_ARM_VSpace_Invalidate_Data as vs_inv,
        seL4_ARM_VSpace_Unify_Instruction as vs_unify,
    };
    let vs = init::VSPACE;
    let f = frame(c, T::SmallPage)?;
    let fb = f.bits();
    // Page flushes.
    expect_err!(
        Invocation::new(L::ARMPageClean_Data).word(0).call(fb),
        D::TruncatedMessage,
        "Page_Clean_Data with 1 word"
    );
    expect_err!(
        page_clean(fb, 0, 64),
        D::IllegalOperation,
        "Page_Clean_Data of an unmapped frame"
    );
    map_making_tables(c, vs, f, BASE, RW)?;
    for i in 0..512 {
        write(BASE + 8 * i as Word, pattern(i));
    }
    ok!(
        page_clean(fb, 0, 4096),
        "Page_Clean_Data of the whole frame"
    );
    ok!(
        page_inv(fb, 0, 4096),
        "Page_Invalidate_Data (cleaned before)"
    );
    ok!(page_clean_inv(fb, 64, 128), "Page_CleanInvalidate_Data");
    ok!(
        page_unify(fb, 4095, 4096),
        "Page_Unify_Instruction of the last byte"
    );
    check_eq!(
        read(BASE + 8 * 9),
        pattern(9),
        "the frame's words after the flushes"
    );
    for (start, end, e, what) in [
        (64, 64, D::InvalidArgument { index: 1 }, "empty range"),
        (
            0x100,
            0x80,
            D::InvalidArgument { index: 1 },
            "end before start",
        ),
        (
            4096,
            4097,
            D::InvalidArgument { index: 0 },
            "start past the page",
        ),
        (
            0,
            4097,
            D::InvalidArgument { index: 0 },
            "end past the page",
        ),
    ] {
        expect_err!(page_clean(fb, start, end), e, "Page_Clean_Data: {}", what);
    }
    ok!(f.map(vs, BASE, RO, DEFAULT), "remap read-only");
    expect_err!(
        page_inv(fb, 0, 64),
        D::IllegalOperation,
        "Page_Invalidate_Data through a read-only mapping"
    );
    ok!(
        page_clean(fb, 0, 64),
        "Page_Clean_Data through a read-only mapping"
    );
    ok!(
        page_clean_inv(fb, 0, 64),
        "Page_CleanInvalidate_Data, read-only"
    );
    // Another frame mapped over it (aarch64's Page_Map replaces): f's cap is stale.
    let f2 = frame(c, T::SmallPage)?;
    ok!(
        f2.map(vs, BASE, RW, DEFAULT),
        "a second frame over the first"
    );
    expect_err!(
        page_clean(fb, 0, 64),
        D::InvalidCapability { index: 0 },
        "Page_Clean_Data through a cap whose mapping was replaced"
    );
    ok!(
        page_clean(f2.bits(), 0, 64),
        "Page_Clean_Data of the second frame"
    );

    // VSpace flushes.
    let v = vs.bits();
    expect_err!(
        Invocation::new(L::ARMVSpaceClean_Data).word(BASE).call(v),
        D::TruncatedMessage,
        "VSpace_Clean_Data with 1 word"
    );
    ok!(
        vs_clean(v, BASE, BASE + 4096),
        "VSpace_Clean_Data of the page"
    );
    ok!(vs_inv(v, BASE + 64, BASE + 128), "VSpace_Invalidate_Data");
    ok!(
        vs_clean_inv(v, BASE, BASE + 1),
        "VSpace_CleanInvalidate_Data"
    );
    ok!(vs_unify(v, BASE + 8, BASE + 16), "VSpace_Unify_Instruction");
    ok!(
        vs_clean(v, GIB4, GIB4 + 64),
        "VSpace_Clean_Data where nothing is mapped (nothing to do)"
    );
    let top = abi::object::USER_TOP;
    for (start, end, e, what) in [
        (BASE, BASE, D::InvalidArgument { index: 1 }, "empty range"),
        (
            BASE + 8,
            BASE,
            D::InvalidArgument { index: 1 },
            "end before start",
        ),
        (BASE, top + 1, D::IllegalOperation, "end past seL4_UserTop"),
        (
            BASE + 0x800,
            BASE + 0x1001,
            D::RangeError {
                min: BASE + 0x800,
                max: BASE + 0xfff,
            },
            "range leaving the page",
        ),
    ] {
        expect_err!(vs_clean(v, start, end), e, "VSpace_Clean_Data: {}", what);
    }
    let unassigned = new_vspace(c)?;
    expect_err!(
        vs_clean(unassigned.bits(), BASE, BASE + 64),
        D::InvalidCapability { index: 0 },
        "VSpace_Clean_Data of a VSpace without an ASID"
    );
    expect_err!(
        vs_clean(unassigned.bits(), BASE, BASE),
        D::InvalidArgument { index: 1 },
        "VSpace without an ASID and an empty range: the range first"
    );
    ok!(f2.map(vs, BASE, RO, DEFAULT), "the second frame read-only");
    expect_err!(
        vs_inv(v, BASE, BASE + 64),
        D::IllegalOperation,
        "VSpace_Invalidate_Data of a read-only mapping"
    );
    ok!(
        vs_clean_inv(v, BASE, BASE + 64),
        "VSpace_CleanInvalidate_Data, read-only"
    );
    Ok(())
}
