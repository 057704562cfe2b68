//! CNode invocations (`decodeCNodeInvocation` in `src/object/cnode.c`): Copy, Mint, Move,
//! Mutate, Rotate, Delete, Revoke, SaveCaller, CancelBadgedSends, with the derivation rules
//! of `deriveCap`, `updateCapData` and `maskCapRights` (`src/object/objecttype.c`) and the
//! revocation rules of `isMDBParentOf`.

use abi::{slot, CNodeCapData, CPtr, CapRights, ObjectType as T, Word};
use libsel4::cap::{CNode, Cap, Notification};
use libsel4::cap_tag as tag;
use libsel4::invocation::reply_result;
use libsel4::sys;
use libsel4::{ErrorDetail as D, LookupFailure as LF, MessageInfo};

use crate::framework::{ident, Ctx, TestResult};
use crate::{check_eq, expect_err, ok};

const EMPTY_SRC: D = D::FailedLookup {
    source: true,
    failure: LF::MissingCapability { bits_left: 64 },
};

/// An empty `seL4_Call` to `cptr` (a signal on a notification cap), as a `Result`.
fn call_empty(cptr: CPtr) -> Result<MessageInfo, abi::Error> {
    reply_result(sys::seL4_Call(cptr, MessageInfo::new(0, 0, 0, 0)))
}

fn poll(n: CPtr) -> Word {
    Notification::from_bits(n).poll()
}

/// Copy makes a cap of the same type; dest must be empty (checked before the source), the
/// source must hold a cap; IRQControl and unmapped page tables cannot be copied.
pub fn cnode_copy(c: &mut Ctx) -> TestResult {
    let t = c.copy(slot::INIT_THREAD_TCB, CapRights::ALL)?;
    check_eq!(ident(t), tag::THREAD, "copy of the TCB cap");
    for (s, want) in [
        (slot::INIT_THREAD_CNODE, tag::CNODE),
        (slot::INIT_THREAD_VSPACE, crate::arch::VSPACE_TAG),
        (slot::ASID_CONTROL, tag::ASID_CONTROL),
        (slot::INIT_THREAD_ASID_POOL, tag::ASID_POOL),
        (slot::DOMAIN, tag::DOMAIN),
        (slot::BOOT_INFO_FRAME, tag::FRAME),
    ] {
        let d = c.copy(s, CapRights::ALL)?;
        check_eq!(ident(d), want, "copy of initial slot {}", s);
    }
    let d = c.slot()?;
    let e = c.slot()?;
    expect_err!(
        c.abs(d).copy_from(&c.abs(e), CapRights::ALL),
        EMPTY_SRC,
        "copy from an empty slot"
    );
    expect_err!(
        c.abs(t).copy_from(&c.abs(e), CapRights::ALL),
        D::DeleteFirst,
        "occupied dest and empty source"
    );
    expect_err!(
        c.abs(t)
            .copy_from(&c.abs(slot::INIT_THREAD_TCB), CapRights::ALL),
        D::DeleteFirst,
        "occupied dest"
    );
    expect_err!(
        c.abs(d)
            .copy_from(&c.abs(slot::IRQ_CONTROL), CapRights::ALL),
        D::IllegalOperation,
        "copy of IRQControl"
    );
    let pt = c.new_object(T::PageTable, 0)?;
    expect_err!(
        c.abs(d).copy_from(&c.abs(pt), CapRights::ALL),
        D::IllegalOperation,
        "copy of an unmapped page table"
    );
    check_eq!(ident(d), tag::NULL, "dest after the failed copies");
    Ok(())
}

/// Mint puts a badge on an unbadged notification or endpoint cap; signals carry it (OR-ed
/// together); copies keep it; a badged cap cannot be minted again, whatever the new badge.
pub fn cnode_mint_badge(c: &mut Ctx) -> TestResult {
    let n = c.new_object(T::Notification, 0)?;
    let m1 = c.mint(n, CapRights::ALL, 0x11)?;
    let m2 = c.mint(n, CapRights::ALL, 0x220)?;
    check_eq!(ident(m1), tag::NOTIFICATION, "minted notification cap");
    check_eq!(poll(n), 0, "poll before any signal");
    Notification::from_bits(m1).signal();
    check_eq!(poll(n), 0x11, "badge of a signal through the minted cap");
    check_eq!(poll(n), 0, "poll after the signal was taken");
    Notification::from_bits(m1).signal();
    Notification::from_bits(m2).signal();
    check_eq!(poll(n), 0x231, "two badges OR-ed");
    let m1c = c.copy(m1, CapRights::ALL)?;
    ok!(
        call_empty(m1c),
        "signal through a copy of the badged cap (seL4_Call)"
    );
    check_eq!(poll(n), 0x11, "badge of the copy");
    let d = c.slot()?;
    expect_err!(
        c.abs(d).mint_from(&c.abs(m1), CapRights::ALL, 0x5),
        D::IllegalOperation,
        "mint of a badged cap"
    );
    expect_err!(
        c.abs(d).mint_from(&c.abs(m1), CapRights::ALL, 0),
        D::IllegalOperation,
        "mint of a badged cap, badge 0"
    );
    let z = c.mint(n, CapRights::ALL, 0)?;
    let zz = c.mint(z, CapRights::ALL, 0x40)?;
    Notification::from_bits(zz).signal();
    check_eq!(poll(n), 0x40, "badge minted onto a cap minted with badge 0");
    let e = c.new_object(T::Endpoint, 0)?;
    let b = c.mint(e, CapRights::ALL, 0x77)?;
    check_eq!(ident(b), tag::ENDPOINT, "badged endpoint cap");
    expect_err!(
        c.abs(d).mint_from(&c.abs(b), CapRights::ALL, 0x78),
        D::IllegalOperation,
        "mint of a badged endpoint"
    );
    check_eq!(ident(d), tag::NULL, "dest after the failed mints");
    Ok(())
}

/// Rights only shrink: a notification cap without Write cannot signal, an endpoint cap without
/// Write cannot send (InvalidCapability 0, `decodeInvocation`), and copying it with all rights
/// gives none back. CancelBadgedSends needs an endpoint cap with all four rights.
pub fn cnode_mint_rights(c: &mut Ctx) -> TestResult {
    let n = c.new_object(T::Notification, 0)?;
    let r = c.mint(n, CapRights::READ, 0)?;
    expect_err!(
        call_empty(r),
        D::InvalidCapability { index: 0 },
        "signal through a read-only notification cap"
    );
    let w = c.mint(n, CapRights::WRITE, 0x3)?;
    ok!(call_empty(w), "signal through a write-only cap");
    check_eq!(poll(r), 0x3, "poll through the read-only cap");
    let e = c.new_object(T::Endpoint, 0)?;
    let er = c.mint(e, CapRights::READ, 0)?;
    expect_err!(
        call_empty(er),
        D::InvalidCapability { index: 0 },
        "call on a receive-only endpoint cap"
    );
    let en = c.copy(e, CapRights::NONE)?;
    expect_err!(
        call_empty(en),
        D::InvalidCapability { index: 0 },
        "call on an endpoint cap with no rights"
    );
    let er2 = c.copy(er, CapRights::ALL)?;
    expect_err!(
        call_empty(er2),
        D::InvalidCapability { index: 0 },
        "call on a copy that asked for more rights"
    );
    ok!(
        c.abs(e).cancel_badged_sends(),
        "CancelBadgedSends on the original endpoint cap"
    );
    let b = c.mint(e, CapRights::ALL, 5)?;
    ok!(
        c.abs(b).cancel_badged_sends(),
        "CancelBadgedSends on a badged cap"
    );
    let no_grant_reply = c.mint(e, CapRights::new(false, true, true, true), 6)?;
    expect_err!(
        c.abs(no_grant_reply).cancel_badged_sends(),
        D::IllegalOperation,
        "CancelBadgedSends without GrantReply"
    );
    expect_err!(
        c.abs(er).cancel_badged_sends(),
        D::IllegalOperation,
        "CancelBadgedSends on a read-only cap"
    );
    expect_err!(
        c.abs(n).cancel_badged_sends(),
        D::IllegalOperation,
        "CancelBadgedSends on a notification"
    );
    let empty = c.slot()?;
    expect_err!(
        c.abs(empty).cancel_badged_sends(),
        D::IllegalOperation,
        "CancelBadgedSends on an empty slot"
    );
    Ok(())
}

/// Minting a CNode cap sets its guard (masked to the guard size); lookups through it must
/// match the guard; guard size + radix may not pass 64.
pub fn cnode_mint_guard(c: &mut Ctx) -> TestResult {
    let cn = c.new_object(T::CapTable, 4)?;
    let g = c.mint(cn, CapRights::ALL, CNodeCapData::new(0x5, 60).0)?;
    check_eq!(ident(g), tag::CNODE, "minted CNode cap");
    let node: CNode = Cap::from_bits(g);
    let idx = 0x5 << 4 | 3;
    ok!(
        node.absolute_cptr(idx)
            .copy_from(&c.abs(slot::INIT_THREAD_TCB), CapRights::ALL),
        "copy through the guard"
    );
    let back = c.slot()?;
    ok!(
        c.abs(back)
            .copy_from(&node.absolute_cptr(idx), CapRights::ALL),
        "copy back through the guard"
    );
    check_eq!(
        ident(back),
        tag::THREAD,
        "cap found through the guarded CNode cap"
    );
    let plain: CNode = Cap::from_bits(cn);
    expect_err!(
        plain
            .relative_bits_with_depth(3, 4)
            .copy_from(&c.abs(back), CapRights::ALL),
        D::DeleteFirst,
        "same slot through the unguarded cap"
    );
    // resolveAddressBits reports the cap's own guard as guardFound.
    let mismatch = LF::GuardMismatch {
        bits_left: 64,
        guard_found: 0x5,
        bits_found: 60,
    };
    expect_err!(
        node.absolute_cptr(0x6 << 4 | 3).delete(),
        D::FailedLookup {
            source: false,
            failure: mismatch
        },
        "wrong guard"
    );
    let short = LF::DepthMismatch {
        bits_left: 63,
        bits_found: 64,
    };
    expect_err!(
        node.relative_bits_with_depth(0x5 << 3 | 1, 63).delete(),
        D::FailedLookup {
            source: false,
            failure: short
        },
        "depth 63 through a 64-bit level"
    );
    let d = c.slot()?;
    expect_err!(
        c.abs(d)
            .mint_from(&c.abs(cn), CapRights::ALL, CNodeCapData::new(0, 61).0),
        D::IllegalOperation,
        "guard size 61 on a radix-4 CNode"
    );
    // The guard is masked to its size: 0xff5 with 8 bits is 0xf5.
    let m = c.mint(cn, CapRights::ALL, CNodeCapData::new(0xff5, 8).0)?;
    let back2 = c.slot()?;
    let masked: CNode = Cap::from_bits(m);
    ok!(
        c.abs(back2).copy_from(
            &masked.relative_bits_with_depth(0xf5 << 4 | 3, 12),
            CapRights::ALL
        ),
        "lookup with the masked guard"
    );
    check_eq!(ident(back2), tag::THREAD, "cap through the masked guard");
    Ok(())
}

/// Move empties the source; the destination must be empty; the moved cap keeps its place in
/// the derivation tree (revoking the original's parent still reaches it).
pub fn cnode_move(c: &mut Ctx) -> TestResult {
    let e = c.new_object(T::Endpoint, 0)?;
    let a = c.copy(e, CapRights::ALL)?;
    let b = c.slot()?;
    ok!(c.abs(b).move_from(&c.abs(a)), "move");
    check_eq!(
        (ident(a), ident(b)),
        (tag::NULL, tag::ENDPOINT),
        "source and dest after the move"
    );
    expect_err!(
        c.abs(b).move_from(&c.abs(a)),
        D::DeleteFirst,
        "move onto an occupied slot"
    );
    expect_err!(
        c.abs(b).move_from(&c.abs(b)),
        D::DeleteFirst,
        "move onto itself"
    );
    let d = c.slot()?;
    expect_err!(
        c.abs(d).move_from(&c.abs(a)),
        EMPTY_SRC,
        "move from an empty slot"
    );
    ok!(c.abs(e).revoke(), "revoke the original endpoint cap");
    check_eq!(
        (ident(e), ident(b)),
        (tag::ENDPOINT, tag::NULL),
        "original and moved copy after revoke"
    );
    Ok(())
}

/// Mutate moves with new cap data: endpoint and notification caps cannot be mutated
/// (IllegalOperation, source untouched); other caps move unchanged; a CNode cap gets the new
/// guard, if guard size + radix fits in 64 bits.
pub fn cnode_mutate(c: &mut Ctx) -> TestResult {
    let e = c.new_object(T::Endpoint, 0)?;
    let n = c.new_object(T::Notification, 0)?;
    let d = c.slot()?;
    expect_err!(
        c.abs(d).mutate_from(&c.abs(e), 0),
        D::IllegalOperation,
        "mutate of an endpoint cap"
    );
    expect_err!(
        c.abs(d).mutate_from(&c.abs(n), 7),
        D::IllegalOperation,
        "mutate of a notification cap"
    );
    check_eq!(
        (ident(e), ident(n), ident(d)),
        (tag::ENDPOINT, tag::NOTIFICATION, tag::NULL),
        "after failed mutates"
    );
    let t = c.copy(slot::INIT_THREAD_TCB, CapRights::ALL)?;
    ok!(
        c.abs(d).mutate_from(&c.abs(t), 0x1234),
        "mutate of a TCB cap"
    );
    check_eq!(
        (ident(t), ident(d)),
        (tag::NULL, tag::THREAD),
        "after mutating the TCB cap"
    );
    let cn = c.new_object(T::CapTable, 4)?;
    let g = c.slot()?;
    ok!(
        c.abs(g).mutate_from(&c.abs(cn), CNodeCapData::new(3, 60).0),
        "mutate of a CNode cap with a guard"
    );
    check_eq!(ident(cn), tag::NULL, "source after mutate");
    let node: CNode = Cap::from_bits(g);
    ok!(
        node.absolute_cptr(3 << 4 | 2).delete(),
        "lookup with the new guard"
    );
    let mismatch = LF::GuardMismatch {
        bits_left: 64,
        guard_found: 3,
        bits_found: 60,
    };
    expect_err!(
        node.absolute_cptr(4 << 4 | 2).delete(),
        D::FailedLookup {
            source: false,
            failure: mismatch
        },
        "old/wrong guard"
    );
    let h = c.slot()?;
    expect_err!(
        c.abs(h).mutate_from(&c.abs(g), CNodeCapData::new(0, 61).0),
        D::IllegalOperation,
        "guard size 61 on radix 4"
    );
    check_eq!(ident(g), tag::CNODE, "source after the failed mutate");
    Ok(())
}

/// Rotate moves pivot to dest and source to pivot; with dest = source it swaps. Checks in
/// seL4's order: source and pivot lookups, pivot distinct from both, dest empty, source and
/// pivot non-empty (the pivot's failure reported as not-source), cap data valid.
pub fn cnode_rotate(c: &mut Ctx) -> TestResult {
    let a = c.copy(slot::INIT_THREAD_TCB, CapRights::ALL)?;
    let b = c.new_object(T::CapTable, 4)?;
    let cc = c.slot()?;
    ok!(
        c.abs(cc).rotate_from(0, &c.abs(b), 0, &c.abs(a)),
        "rotate a -> b -> cc"
    );
    check_eq!(
        (ident(a), ident(b), ident(cc)),
        (tag::NULL, tag::THREAD, tag::CNODE),
        "after rotate"
    );
    ok!(
        c.abs(b).rotate_from(0, &c.abs(cc), 0, &c.abs(b)),
        "swap b and cc (dest = source)"
    );
    check_eq!(
        (ident(b), ident(cc)),
        (tag::CNODE, tag::THREAD),
        "after swap"
    );
    // Now: a empty, b CNode, cc TCB.
    expect_err!(
        c.abs(a).rotate_from(0, &c.abs(a), 0, &c.abs(b)),
        D::IllegalOperation,
        "pivot = dest"
    );
    expect_err!(
        c.abs(a).rotate_from(0, &c.abs(b), 0, &c.abs(b)),
        D::IllegalOperation,
        "pivot = source"
    );
    let t2 = c.copy(slot::INIT_THREAD_TCB, CapRights::ALL)?;
    expect_err!(
        c.abs(cc).rotate_from(0, &c.abs(b), 0, &c.abs(t2)),
        D::DeleteFirst,
        "occupied dest"
    );
    let e = c.slot()?;
    expect_err!(
        c.abs(a).rotate_from(0, &c.abs(b), 0, &c.abs(e)),
        EMPTY_SRC,
        "empty source"
    );
    let empty_pivot = D::FailedLookup {
        source: false,
        failure: LF::MissingCapability { bits_left: 64 },
    };
    expect_err!(
        c.abs(a).rotate_from(0, &c.abs(e), 0, &c.abs(b)),
        empty_pivot,
        "empty pivot"
    );
    let ep = c.new_object(T::Endpoint, 0)?;
    expect_err!(
        c.abs(a).rotate_from(0, &c.abs(b), 0, &c.abs(ep)),
        D::IllegalOperation,
        "endpoint as source"
    );
    expect_err!(
        c.abs(a).rotate_from(0, &c.abs(ep), 0, &c.abs(cc)),
        D::IllegalOperation,
        "endpoint as pivot"
    );
    expect_err!(
        c.abs(a)
            .rotate_from(CNodeCapData::new(0, 61).0, &c.abs(b), 0, &c.abs(cc)),
        D::IllegalOperation,
        "invalid guard for the CNode cap moving to dest"
    );
    check_eq!(
        (ident(a), ident(b), ident(cc), ident(t2), ident(ep)),
        (
            tag::NULL,
            tag::CNODE,
            tag::THREAD,
            tag::THREAD,
            tag::ENDPOINT
        ),
        "after the failed rotates"
    );
    Ok(())
}

/// Delete empties a slot (an empty slot is fine too); other copies of the object survive.
pub fn cnode_delete(c: &mut Ctx) -> TestResult {
    let e = c.new_object(T::Endpoint, 0)?;
    let copy = c.copy(e, CapRights::ALL)?;
    ok!(c.abs(e).delete(), "delete the original endpoint cap");
    check_eq!(
        (ident(e), ident(copy)),
        (tag::NULL, tag::ENDPOINT),
        "after deleting the original"
    );
    ok!(c.abs(e).delete(), "delete an empty slot");
    let cn = c.new_object(T::CapTable, 2)?;
    let node: CNode = Cap::from_bits(cn);
    ok!(
        node.relative_bits_with_depth(1, 2)
            .copy_from(&c.abs(copy), CapRights::ALL),
        "copy into the CNode"
    );
    ok!(c.abs(cn).delete(), "delete a CNode holding a cap");
    check_eq!(
        (ident(cn), ident(copy)),
        (tag::NULL, tag::ENDPOINT),
        "after deleting the CNode"
    );
    Ok(())
}

/// Revoke deletes what was derived from a cap and keeps the cap: from an unbadged original,
/// every copy and badged cap; from a badged cap, only its own copies (`isMDBParentOf`).
pub fn cnode_revoke(c: &mut Ctx) -> TestResult {
    let e = c.new_object(T::Endpoint, 0)?;
    let c1 = c.copy(e, CapRights::ALL)?;
    let m1 = c.mint(e, CapRights::ALL, 1)?;
    let m1c = c.copy(m1, CapRights::ALL)?;
    let m2 = c.mint(e, CapRights::ALL, 2)?;
    ok!(c.abs(m1).revoke(), "revoke the badge-1 cap");
    check_eq!(
        (ident(e), ident(c1), ident(m1), ident(m1c), ident(m2)),
        (
            tag::ENDPOINT,
            tag::ENDPOINT,
            tag::ENDPOINT,
            tag::NULL,
            tag::ENDPOINT
        ),
        "after revoking the badge-1 cap"
    );
    ok!(c.abs(e).revoke(), "revoke the original");
    check_eq!(
        (ident(e), ident(c1), ident(m1), ident(m2)),
        (tag::ENDPOINT, tag::NULL, tag::NULL, tag::NULL),
        "after revoking the original"
    );
    ok!(c.abs(e).revoke(), "revoke with nothing derived");
    let empty = c.slot()?;
    ok!(c.abs(empty).revoke(), "revoke of an empty slot");
    let n = c.new_object(T::Notification, 0)?;
    let nm = c.mint(n, CapRights::READ, 7)?;
    ok!(c.abs(n).revoke(), "revoke a notification");
    check_eq!(
        (ident(n), ident(nm)),
        (tag::NOTIFICATION, tag::NULL),
        "notification after revoke"
    );
    Ok(())
}

#[cfg(not(feature = "mcs"))]
/// SaveCaller with no caller to save does nothing (and succeeds); the slot must be empty.
pub fn cnode_save_caller(c: &mut Ctx) -> TestResult {
    let s = c.slot()?;
    ok!(c.abs(s).save_caller(), "SaveCaller with no reply cap");
    check_eq!(ident(s), tag::NULL, "slot after SaveCaller");
    expect_err!(
        c.abs(slot::INIT_THREAD_TCB).save_caller(),
        D::DeleteFirst,
        "SaveCaller into an occupied slot"
    );
    Ok(())
}
