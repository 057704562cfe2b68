//! `seL4_Untyped_Retype`: every object type, every argument check of
//! `decodeUntypedInvocation` (`src/object/untyped.c`) in its order, and the free-index
//! ("watermark") rules: objects are placed at the next free address aligned to their size, a
//! failed retype changes nothing, and an untyped with no children starts again from its base.

use abi::{slot, CPtr, CapRights, Error, ObjectType as T, Word};
use libsel4::bootinfo::BootInfoExt;
use libsel4::cap::{init, CNode, Cap, Untyped};
use libsel4::cap_tag as tag;
use libsel4::sys;
use libsel4::{ErrorDetail as D, LookupFailure as LF};

use crate::framework::{ident, Ctx, TestResult};
use crate::{check, check_eq, expect_err, ok};

const PAGE: u64 = 4096;
const ROOT: CPtr = slot::INIT_THREAD_CNODE;

/// `seL4_Untyped_Retype` into the root CNode (addressed by `index`/`depth` from the root).
fn retype(
    ut: CPtr,
    ty: Word,
    size: Word,
    index: Word,
    depth: Word,
    offset: Word,
    num: Word,
) -> Result<(), Error> {
    sys::seL4_Untyped_Retype(ut, ty, size, ROOT, index, depth, offset, num)
}

/// Retype `num` objects into root slots `offset..`, with the root CNode as `node_depth` 0.
fn retype_here(ut: Untyped, ty: T, size: Word, offset: CPtr, num: Word) -> Result<(), Error> {
    ut.retype(ty, size, &init::CNODE.as_retype_dest(), offset, num)
}

fn address(frame: CPtr) -> Result<Word, Error> {
    libsel4::cap::Granule::from_bits(frame).get_address()
}

/// One object of each type, each in an empty slot, with the cap type seL4 gives it; the size
/// argument is ignored for fixed-size objects.
pub fn retype_each_object_type(c: &mut Ctx) -> TestResult {
    let (ut, d) = c.scratch()?;
    if d.size_bits >= 21 {
        // First, while the scratch untyped is fresh, so that the 2 MiB alignment fits.
        let s = c.slot()?;
        ok!(
            retype_here(ut, crate::arch::LARGE_PAGE, 0, s, 1),
            "2 MiB page"
        );
        check_eq!(ident(s), tag::FRAME, "2 MiB page cap");
        let a = ok!(address(s), "GetAddress(2 MiB page)");
        check_eq!(a, d.paddr, "2 MiB page of a fresh untyped at its base");
    }
    let cases = [
        (T::Tcb, 0, tag::THREAD),
        (T::Endpoint, 0, tag::ENDPOINT),
        (T::Notification, 0, tag::NOTIFICATION),
        (T::CapTable, 1, tag::CNODE),
        (T::CapTable, 6, tag::CNODE),
        (T::SmallPage, 0, tag::FRAME),
        (T::PageTable, 0, tag::PAGE_TABLE),
        (T::Untyped, 4, tag::UNTYPED),
        (T::Untyped, 16, tag::UNTYPED),
        (T::Endpoint, 20, tag::ENDPOINT),
        (T::Tcb, 63, tag::THREAD),
    ];
    for (ty, size, want) in cases {
        let s = c.slot()?;
        check_eq!(ident(s), tag::NULL, "slot {} before", s);
        ok!(
            retype_here(ut, ty, size, s, 1),
            "retype {:?} size {}",
            ty,
            size
        );
        let got = ident(s);
        check!(
            got == want,
            "{:?} size {}: cap {} ({}), expected {}",
            ty,
            size,
            tag::name(got),
            got,
            tag::name(want)
        );
    }
    Ok(())
}

/// A CNode of radix r resolves exactly r bits with guard 0: depth r finds a slot, depth r - 1
/// and r + 1 give depth mismatches (`resolveAddressBits`, `lookupSlotForCNodeOp`).
pub fn retype_captable_sizes(c: &mut Ctx) -> TestResult {
    for r in [1u8, 4, 10] {
        let cn = c.new_object(T::CapTable, r as Word)?;
        let node: CNode = Cap::from_bits(cn);
        let last = (1u64 << r) - 1;
        ok!(
            node.relative_bits_with_depth(last, r).delete(),
            "delete empty slot {} of a radix-{} CNode",
            last,
            r
        );
        ok!(
            node.relative_bits_with_depth(last, r)
                .copy_from(&c.abs(slot::INIT_THREAD_TCB), CapRights::ALL),
            "copy into slot {} of a radix-{} CNode",
            last,
            r
        );
        let back = c.slot()?;
        ok!(
            c.abs(back)
                .copy_from(&node.relative_bits_with_depth(last, r), CapRights::ALL),
            "copy back"
        );
        check_eq!(
            ident(back),
            tag::THREAD,
            "cap copied through a radix-{} CNode",
            r
        );
        let miss = LF::DepthMismatch {
            bits_left: 1,
            bits_found: 0,
        };
        expect_err!(
            node.relative_bits_with_depth(last, r + 1).delete(),
            D::FailedLookup {
                source: false,
                failure: miss
            },
            "depth r + 1 on a radix-{} CNode",
            r
        );
        if r > 1 {
            let miss = LF::DepthMismatch {
                bits_left: (r - 1) as Word,
                bits_found: r as Word,
            };
            expect_err!(
                node.relative_bits_with_depth(0, r - 1).delete(),
                D::FailedLookup {
                    source: false,
                    failure: miss
                },
                "depth r - 1 on a radix-{} CNode",
                r
            );
        }
    }
    Ok(())
}

/// An object type number past `seL4_ObjectTypeCount` is argument 0.
pub fn retype_invalid_type(c: &mut Ctx) -> TestResult {
    let (ut, _) = c.scratch()?;
    let s = c.slot()?;
    for ty in [abi::object::OBJECT_TYPE_COUNT, 100, Word::MAX] {
        expect_err!(
            retype(ut.bits(), ty, 0, 0, 0, s, 1),
            D::InvalidArgument { index: 0 },
            "type {}",
            ty
        );
    }
    check_eq!(ident(s), tag::NULL, "slot after failed retypes");
    Ok(())
}

/// Object size checks, in seL4's order: size >= 64 or object size > `seL4_MaxUntypedBits`
/// (38 on riscv64, 47 on aarch64) is a RangeError [0, max]; a 0-bit CapTable or an untyped
/// under 16 bytes is argument 1; a valid size that does not fit is NotEnoughMemory with the free
/// bytes.
pub fn retype_size_errors(c: &mut Ctx) -> TestResult {
    let (ut, d) = c.scratch()?;
    let s = c.slot()?;
    let max = abi::object::MAX_UNTYPED_BITS;
    let range = D::RangeError { min: 0, max };
    let u = ut.bits();
    expect_err!(
        retype(u, T::Untyped as Word, max + 1, 0, 0, s, 1),
        range,
        "untyped of 2^(max + 1)"
    );
    expect_err!(
        retype(u, T::Untyped as Word, 64, 0, 0, s, 1),
        range,
        "untyped of 2^64"
    );
    expect_err!(
        retype(u, T::CapTable as Word, max - 4, 0, 0, s, 1),
        range,
        "CapTable of 2^(max - 4) slots"
    );
    expect_err!(
        retype(u, T::Endpoint as Word, 64, 0, 0, s, 1),
        range,
        "endpoint with size_bits 64"
    );
    expect_err!(
        retype(u, T::Tcb as Word, Word::MAX, 0, 0, s, 1),
        range,
        "TCB with size_bits 2^64-1"
    );
    expect_err!(
        retype(u, T::CapTable as Word, 0, 0, 0, s, 1),
        D::InvalidArgument { index: 1 },
        "CapTable of 1 slot"
    );
    expect_err!(
        retype(u, T::Untyped as Word, 3, 0, 0, s, 1),
        D::InvalidArgument { index: 1 },
        "untyped of 8 bytes"
    );
    if (d.size_bits as u64) < max {
        // The scratch untyped has no children: all of it is free.
        let avail = D::NotEnoughMemory {
            available: 1 << d.size_bits,
        };
        expect_err!(
            retype(u, T::Untyped as Word, max, 0, 0, s, 1),
            avail,
            "untyped of 2^max"
        );
        let two = D::NotEnoughMemory {
            available: 1 << d.size_bits,
        };
        expect_err!(
            retype(u, T::Untyped as Word, d.size_bits as Word, 0, 0, s, 2),
            two,
            "two untypeds as big as the parent"
        );
    }
    check_eq!(ident(s), tag::NULL, "slot after failed retypes");
    Ok(())
}

/// Destination checks, in seL4's order: the CNode lookup (depth range, lookup failures, not a
/// CNode), the offset, the window size, the window's fit, and empty destination slots. A
/// failed retype creates nothing.
pub fn retype_dest_errors(c: &mut Ctx) -> TestResult {
    let (ut, _) = c.scratch()?;
    let u = ut.bits();
    let ep = T::Endpoint as Word;
    let s = c.slots(3)?;
    expect_err!(
        retype(u, ep, 0, ROOT, 65, s, 1),
        D::RangeError { min: 1, max: 64 },
        "node_depth 65"
    );
    let not_cnode = D::FailedLookup {
        source: false,
        failure: LF::MissingCapability { bits_left: 64 },
    };
    expect_err!(
        retype(u, ep, 0, slot::INIT_THREAD_TCB, 64, s, 1),
        not_cnode,
        "destination is a TCB cap"
    );
    expect_err!(
        retype(u, ep, 0, s, 64, s, 1),
        not_cnode,
        "destination is an empty slot"
    );
    let guard = LF::GuardMismatch {
        bits_left: 13,
        guard_found: 0,
        bits_found: 51,
    };
    expect_err!(
        retype(u, ep, 0, ROOT, 13, s, 1),
        D::FailedLookup {
            source: false,
            failure: guard
        },
        "node_depth 13 (the root CNode has a 51-bit guard)"
    );
    expect_err!(
        retype(u, ep, 0, 0, 0, 8192, 1),
        D::RangeError { min: 0, max: 8191 },
        "node_offset 8192"
    );
    expect_err!(
        retype(u, ep, 0, 0, 0, s, 0),
        D::RangeError { min: 1, max: 256 },
        "0 objects"
    );
    expect_err!(
        retype(u, ep, 0, 0, 0, s, 257),
        D::RangeError { min: 1, max: 256 },
        "257 objects"
    );
    expect_err!(
        retype(u, ep, 0, 0, 0, 8190, 3),
        D::RangeError { min: 1, max: 2 },
        "window past the end"
    );
    expect_err!(
        retype(u, ep, 0, 0, 0, slot::INIT_THREAD_TCB, 1),
        D::DeleteFirst,
        "occupied slot"
    );
    ok!(
        retype(u, T::Notification as Word, 0, 0, 0, s + 2, 1),
        "notification in the window's last slot"
    );
    expect_err!(
        retype(u, ep, 0, 0, 0, s, 3),
        D::DeleteFirst,
        "window with an occupied last slot"
    );
    check_eq!(
        (ident(s), ident(s + 1), ident(s + 2)),
        (tag::NULL, tag::NULL, tag::NOTIFICATION),
        "window after"
    );
    // The root CNode through its own slot at full depth is a valid destination.
    ok!(
        retype(u, ep, 0, ROOT, 64, s, 2),
        "destination (root, slot 2, depth 64)"
    );
    check_eq!(
        (ident(s), ident(s + 1)),
        (tag::ENDPOINT, tag::ENDPOINT),
        "endpoints"
    );
    Ok(())
}

/// `node_depth` 0 means the root cap itself; `node_index` is then ignored.
pub fn retype_depth_zero_uses_root(c: &mut Ctx) -> TestResult {
    let (ut, _) = c.scratch()?;
    let s = c.slot()?;
    ok!(
        retype(
            ut.bits(),
            T::Endpoint as Word,
            0,
            0xdead_beef_dead_beef,
            0,
            s,
            1
        ),
        "node_depth 0, garbage index"
    );
    check_eq!(ident(s), tag::ENDPOINT, "object in the root CNode");
    Ok(())
}

/// Retype into a CNode other than the root, reached through the root at depth 64; the window
/// checks use that CNode's size.
pub fn retype_into_child_cnode(c: &mut Ctx) -> TestResult {
    let (ut, _) = c.scratch()?;
    let cn = c.new_object(T::CapTable, 4)?;
    let node: CNode = Cap::from_bits(cn);
    ok!(
        ut.retype(T::Endpoint, 0, &c.abs(cn), 3, 2),
        "2 endpoints at offset 3 of a 16-slot CNode"
    );
    for i in [3u64, 4] {
        let s = c.slot()?;
        ok!(
            c.abs(s)
                .copy_from(&node.relative_bits_with_depth(i, 4), CapRights::ALL),
            "copy out of slot {}",
            i
        );
        check_eq!(
            ident(s),
            tag::ENDPOINT,
            "object in slot {} of the child CNode",
            i
        );
    }
    let s = c.slot()?;
    expect_err!(
        c.abs(s)
            .copy_from(&node.relative_bits_with_depth(5, 4), CapRights::ALL),
        D::FailedLookup {
            source: true,
            failure: LF::MissingCapability { bits_left: 4 }
        },
        "slot 5 of the child CNode stays empty"
    );
    let u = ut.bits();
    let ep = T::Endpoint as Word;
    expect_err!(
        retype(u, ep, 0, cn, 64, 16, 1),
        D::RangeError { min: 0, max: 15 },
        "offset 16 of 16 slots"
    );
    expect_err!(
        retype(u, ep, 0, cn, 64, 0, 17),
        D::RangeError { min: 1, max: 16 },
        "17 objects into 16 slots"
    );
    expect_err!(
        retype(u, ep, 0, cn, 64, 14, 3),
        D::RangeError { min: 1, max: 2 },
        "3 objects at offset 14"
    );
    expect_err!(
        retype(u, ep, 0, cn, 64, 4, 1),
        D::DeleteFirst,
        "occupied slot 4 of the child CNode"
    );
    Ok(())
}

/// `CONFIG_RETYPE_FAN_OUT_LIMIT` (256) objects in one call, one per slot.
pub fn retype_fan_out_256(c: &mut Ctx) -> TestResult {
    let (ut, _) = c.scratch()?;
    let s = c.slots(257)?;
    ok!(
        retype_here(ut, T::Notification, 0, s, 256),
        "256 notifications"
    );
    for i in 0..256 {
        check_eq!(ident(s + i), tag::NOTIFICATION, "slot {} of the window", i);
    }
    check_eq!(ident(s + 256), tag::NULL, "slot after the window");
    Ok(())
}

/// NotEnoughMemory reports the bytes left after the current watermark; objects that fit are
/// still created.
pub fn retype_not_enough_memory(c: &mut Ctx) -> TestResult {
    let u = c.new_untyped(12)?;
    let s = c.slots(4)?;
    expect_err!(
        retype_here(u, T::Tcb, 0, s, 3),
        D::NotEnoughMemory { available: 4096 },
        "3 TCBs in 4 KiB"
    );
    check_eq!(ident(s), tag::NULL, "no TCB after the failure");
    ok!(retype_here(u, T::Tcb, 0, s, 1), "first TCB");
    expect_err!(
        retype_here(u, T::Tcb, 0, s + 1, 2),
        D::NotEnoughMemory { available: 2048 },
        "2 more TCBs"
    );
    ok!(retype_here(u, T::Tcb, 0, s + 1, 1), "second TCB");
    expect_err!(
        retype_here(u, T::Endpoint, 0, s + 2, 1),
        D::NotEnoughMemory { available: 0 },
        "endpoint in a full untyped"
    );
    let u2 = c.new_untyped(12)?;
    expect_err!(
        retype_here(u2, T::Untyped, 13, s + 2, 1),
        D::NotEnoughMemory { available: 4096 },
        "8 KiB untyped from 4 KiB"
    );
    Ok(())
}

/// Objects go at the watermark aligned up to their size; a failed retype does not move it.
pub fn retype_watermark_alignment(c: &mut Ctx) -> TestResult {
    let (_, d) = c.scratch()?;
    // The first object of a scratch untyped with no children sits at its base.
    let u = c.new_untyped(14)?;
    let base = d.paddr;
    let p0 = c.slot()?;
    ok!(retype_here(u, T::SmallPage, 0, p0, 1), "page 0");
    check_eq!(
        ok!(address(p0), "GetAddress"),
        base,
        "page 0 at the base of a fresh untyped"
    );
    expect_err!(
        retype_here(u, T::SmallPage, 0, p0, 1),
        D::DeleteFirst,
        "page into an occupied slot"
    );
    let p1 = c.slot()?;
    ok!(retype_here(u, T::SmallPage, 0, p1, 1), "page 1");
    check_eq!(
        ok!(address(p1), "GetAddress"),
        base + PAGE,
        "page 1 right after page 0"
    );
    let e = c.slot()?;
    ok!(
        retype_here(u, T::Endpoint, 0, e, 1),
        "endpoint (16 bytes at base + 8 KiB)"
    );
    let p2 = c.slot()?;
    ok!(retype_here(u, T::SmallPage, 0, p2, 1), "page 2");
    check_eq!(
        ok!(address(p2), "GetAddress"),
        base + 3 * PAGE,
        "page 2 aligned up past the endpoint"
    );
    let e2 = c.slot()?;
    expect_err!(
        retype_here(u, T::Endpoint, 0, e2, 1),
        D::NotEnoughMemory { available: 0 },
        "untyped used up"
    );
    Ok(())
}

/// Several objects of one call are laid out in slot order; deleting some children keeps the
/// watermark, deleting all of them resets it to the base.
pub fn retype_reset_after_delete(c: &mut Ctx) -> TestResult {
    let (_, d) = c.scratch()?;
    let u = c.new_untyped(15)?;
    let base = d.paddr;
    let s = c.slots(6)?;
    ok!(retype_here(u, T::SmallPage, 0, s, 4), "4 pages in one call");
    for i in 0..4 {
        check_eq!(
            ok!(address(s + i), "GetAddress"),
            base + i * PAGE,
            "page {} of the call",
            i
        );
    }
    for i in 0..3 {
        ok!(c.abs(s + i).delete(), "delete page {}", i);
    }
    ok!(
        retype_here(u, T::SmallPage, 0, s + 4, 1),
        "page while one child is left"
    );
    check_eq!(
        ok!(address(s + 4), "GetAddress"),
        base + 4 * PAGE,
        "page after the watermark"
    );
    ok!(c.abs(s + 3).delete(), "delete page 3");
    ok!(c.abs(s + 4).delete(), "delete page 4");
    ok!(
        retype_here(u, T::SmallPage, 0, s + 5, 1),
        "page after deleting every child"
    );
    check_eq!(
        ok!(address(s + 5), "GetAddress"),
        base,
        "page at the base again (untyped reset)"
    );
    Ok(())
}

/// Revoking an untyped deletes every object made from it, and it starts again from its base.
pub fn retype_revoke_untyped(c: &mut Ctx) -> TestResult {
    let (_, d) = c.scratch()?;
    let u = c.new_untyped(13)?;
    let s = c.slots(3)?;
    ok!(retype_here(u, T::SmallPage, 0, s, 2), "2 pages");
    expect_err!(
        retype_here(u, T::SmallPage, 0, s + 2, 1),
        D::NotEnoughMemory { available: 0 },
        "third page"
    );
    let cp = c.copy(s, CapRights::ALL)?;
    ok!(c.root.absolute_cptr_for(u).revoke(), "revoke the untyped");
    check_eq!(
        (ident(s), ident(s + 1), ident(cp)),
        (tag::NULL, tag::NULL, tag::NULL),
        "pages and the copy after revoke"
    );
    check_eq!(ident(u.bits()), tag::UNTYPED, "the untyped itself survives");
    ok!(
        retype_here(u, T::SmallPage, 0, s + 2, 1),
        "page after revoke"
    );
    check_eq!(
        ok!(address(s + 2), "GetAddress"),
        d.paddr,
        "page at the base after revoke"
    );
    Ok(())
}

/// Device untypeds make frames and untypeds only (argument 1 otherwise); their frames report
/// the device address, and their untyped children are device memory too.
pub fn retype_device_untyped(c: &mut Ctx) -> TestResult {
    let (dev, d) = match device_untyped(c.bi, 14) {
        Some(x) => x,
        None => crate::fail!("no device untyped of 16 KiB or more"),
    };
    c.touch(dev);
    let s = c.slots(5)?;
    for (ty, size) in [
        (T::Tcb, 0),
        (T::Endpoint, 0),
        (T::Notification, 0),
        (T::CapTable, 4),
        (T::PageTable, 0),
    ] {
        expect_err!(
            retype_here(dev, ty, size, s, 1),
            D::InvalidArgument { index: 1 },
            "{:?} from device memory",
            ty
        );
    }
    ok!(
        retype_here(dev, T::SmallPage, 0, s, 1),
        "frame from device memory"
    );
    check_eq!(ident(s), tag::FRAME, "device frame cap");
    check_eq!(
        ok!(address(s), "GetAddress"),
        d.paddr,
        "device frame address"
    );
    ok!(
        retype_here(dev, T::Untyped, 12, s + 1, 1),
        "untyped from device memory"
    );
    let child: Untyped = Cap::from_bits(s + 1);
    expect_err!(
        retype_here(child, T::Endpoint, 0, s + 2, 1),
        D::InvalidArgument { index: 1 },
        "endpoint from a device child"
    );
    ok!(
        retype_here(child, T::SmallPage, 0, s + 2, 1),
        "frame from the device child"
    );
    check_eq!(
        ok!(address(s + 2), "GetAddress"),
        d.paddr + PAGE,
        "frame of the device child"
    );
    Ok(())
}

/// Copying an untyped is allowed only while it has no children; the copy becomes its child and
/// the original is then marked full (`setUntypedCapAsFull`), so only the copy can be retyped.
pub fn retype_untyped_copy(c: &mut Ctx) -> TestResult {
    let u = c.new_untyped(12)?;
    let u2 = c.copy(u.bits(), CapRights::ALL)?;
    check_eq!(ident(u2), tag::UNTYPED, "copy of an untyped");
    let s = c.slots(3)?;
    expect_err!(
        retype_here(u, T::Endpoint, 0, s, 1),
        D::NotEnoughMemory { available: 0 },
        "retype from the original"
    );
    ok!(
        retype_here(Cap::from_bits(u2), T::Endpoint, 0, s, 1),
        "retype from the copy"
    );
    let d1 = c.slot()?;
    expect_err!(
        c.abs(d1).copy_from(&c.abs(u.bits()), CapRights::ALL),
        D::RevokeFirst,
        "copy of an untyped with a child"
    );
    expect_err!(
        c.abs(d1).copy_from(&c.abs(u2), CapRights::ALL),
        D::RevokeFirst,
        "copy of the copy, which has a child"
    );
    expect_err!(
        c.abs(d1).mint_from(&c.abs(u2), CapRights::ALL, 5),
        D::RevokeFirst,
        "mint of an untyped with a child"
    );
    ok!(c.root.absolute_cptr_for(u).revoke(), "revoke the original");
    check_eq!(
        (ident(u2), ident(s)),
        (tag::NULL, tag::NULL),
        "copy and its object after revoke"
    );
    ok!(
        retype_here(u, T::Endpoint, 0, s + 1, 1),
        "retype from the original after revoke"
    );
    Ok(())
}

/// The first device untyped of at least 2^`bits` bytes.
fn device_untyped(bi: &abi::BootInfo, bits: u8) -> Option<(Untyped, abi::UntypedDesc)> {
    bi.untypeds()
        .find(|(_, d)| d.is_device == 1 && d.size_bits >= bits)
        .map(|(u, d)| (u, *d))
}
