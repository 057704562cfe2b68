//! CSpace lookups through the real ABI. Lookup failures of the *invoked* cap and of extra caps
//! are cap faults (`handleInvocation` in `src/api/syscall.c`), which would stop this thread (it
//! has no fault handler), so they are not exercised here. Failures of slot arguments are
//! errors carrying the lookup failure (`lookupSlotForCNodeOp` in `src/kernel/cspace.c`).

use abi::{slot, CPtr, CapRights, InvocationLabel as L, ObjectType as T, Word};
use libsel4::cap::{init, CNode, Cap};
use libsel4::cap_tag as tag;
use libsel4::invocation::Invocation;
use libsel4::sys;
use libsel4::{ErrorDetail as D, LookupFailure as LF};

use crate::framework::{ident, Ctx, TestResult};
use crate::{check_eq, expect_err, ok};

const ROOT: CPtr = slot::INIT_THREAD_CNODE;

fn dest_failure(failure: LF) -> D {
    D::FailedLookup {
        source: false,
        failure,
    }
}

fn src_failure(failure: LF) -> D {
    D::FailedLookup {
        source: true,
        failure,
    }
}

/// Depth 0 and depths over 64 are range errors; in the root CNode (radix 13, 51-bit guard of
/// 0) shorter depths fail the guard or the level, and set high bits fail the guard.
pub fn lookup_depth_and_guard(c: &mut Ctx) -> TestResult {
    let s = c.slot()?;
    let root = init::CNODE;
    for depth in [0u8, 65, 255] {
        expect_err!(
            root.relative_bits_with_depth(s, depth).delete(),
            D::RangeError { min: 1, max: 64 },
            "depth {}",
            depth
        );
    }
    for depth in [13u8, 50] {
        let g = LF::GuardMismatch {
            bits_left: depth as Word,
            guard_found: 0,
            bits_found: 51,
        };
        expect_err!(
            root.relative_bits_with_depth(s, depth).delete(),
            dest_failure(g),
            "depth {} (< guard)",
            depth
        );
    }
    // Depth 60: the guard (bits 9..60 of index 5) matches, but the level needs 64 bits.
    let d = LF::DepthMismatch {
        bits_left: 60,
        bits_found: 64,
    };
    expect_err!(
        root.relative_bits_with_depth(5, 60).delete(),
        dest_failure(d),
        "depth 60"
    );
    let g = LF::GuardMismatch {
        bits_left: 64,
        guard_found: 0,
        bits_found: 51,
    };
    expect_err!(
        root.absolute_cptr(1 << 63 | s).delete(),
        dest_failure(g),
        "index with bit 63 set"
    );
    expect_err!(
        root.absolute_cptr(1 << 13 | 5).delete(),
        dest_failure(g),
        "index just past the CNode"
    );
    let e = c.slot()?;
    expect_err!(
        c.abs(e)
            .copy_from(&root.relative_bits_with_depth(5, 60), CapRights::ALL),
        src_failure(d),
        "source at depth 60"
    );
    Ok(())
}

/// A source root that is not a CNode cap is InvalidRoot (one detail word); a retype
/// destination that is not a CNode is MissingCapability with the depth used.
pub fn lookup_invalid_root(c: &mut Ctx) -> TestResult {
    let d = c.slot()?;
    let empty = c.slot()?;
    for (root, what) in [
        (slot::INIT_THREAD_TCB, "a TCB cap"),
        (empty, "an empty slot"),
    ] {
        let r = sys::seL4_CNode_Copy(ROOT, d, 64, root, slot::INIT_THREAD_TCB, 64, CapRights::ALL);
        expect_err!(
            r,
            src_failure(LF::InvalidRoot),
            "copy with {} as source root",
            what
        );
    }
    let (ut, _) = c.scratch()?;
    let ep = T::Endpoint as Word;
    let r = sys::seL4_Untyped_Retype(ut.bits(), ep, 0, slot::INIT_THREAD_TCB, 5, 64, d, 1);
    expect_err!(
        r,
        dest_failure(LF::InvalidRoot),
        "retype with a TCB cap as root, depth 64"
    );
    let r = sys::seL4_Untyped_Retype(ut.bits(), ep, 0, slot::INIT_THREAD_TCB, 0, 0, d, 1);
    expect_err!(
        r,
        dest_failure(LF::MissingCapability { bits_left: 0 }),
        "retype with a TCB cap as root, depth 0"
    );
    check_eq!(ident(d), tag::NULL, "dest after the failures");
    Ok(())
}

/// Two-level lookups: a 16-slot CNode A holding CNode B (and a guarded copy of B); 8 bits
/// resolve A then B; a level that is not a CNode with bits left is a depth mismatch
/// (bitsFound 0); a level needing more bits than are left is a depth mismatch too; a wrong
/// guard on the second level is a guard mismatch with the bits left at that level.
pub fn lookup_two_levels(c: &mut Ctx) -> TestResult {
    let a = c.new_object(T::CapTable, 4)?;
    let b = c.new_object(T::CapTable, 4)?;
    let na: CNode = Cap::from_bits(a);
    let nb: CNode = Cap::from_bits(b);
    ok!(
        na.relative_bits_with_depth(2, 4)
            .copy_from(&c.abs(b), CapRights::ALL),
        "B into A[2]"
    );
    let path = 2 << 4 | 7;
    ok!(
        na.relative_bits_with_depth(path, 8)
            .copy_from(&c.abs(slot::INIT_THREAD_TCB), CapRights::ALL),
        "TCB into A[2][7]"
    );
    let back = c.slot()?;
    ok!(
        c.abs(back)
            .copy_from(&nb.relative_bits_with_depth(7, 4), CapRights::ALL),
        "B[7] read directly"
    );
    check_eq!(
        ident(back),
        tag::THREAD,
        "cap put in through A, read through B"
    );
    let miss = LF::DepthMismatch {
        bits_left: 4,
        bits_found: 0,
    };
    expect_err!(
        na.relative_bits_with_depth(3 << 4 | 7, 8).delete(),
        dest_failure(miss),
        "A[3] is empty"
    );
    expect_err!(
        na.relative_bits_with_depth(2 << 8 | 7 << 4 | 1, 12)
            .delete(),
        dest_failure(miss),
        "A[2][7] is a TCB, 4 bits left"
    );
    let short = LF::DepthMismatch {
        bits_left: 2,
        bits_found: 4,
    };
    expect_err!(
        na.relative_bits_with_depth(2 << 2 | 1, 6).delete(),
        dest_failure(short),
        "2 bits left for B"
    );
    // B with guard 0b01 (2 bits) in A[5]: path 5 | 01 | 7 over 10 bits.
    ok!(
        na.relative_bits_with_depth(5, 4).mint_from(
            &c.abs(b),
            CapRights::ALL,
            abi::CNodeCapData::new(1, 2).0
        ),
        "guarded B into A[5]"
    );
    let back2 = c.slot()?;
    ok!(
        c.abs(back2).copy_from(
            &na.relative_bits_with_depth(5 << 6 | 1 << 4 | 7, 10),
            CapRights::ALL
        ),
        "through the guarded second level"
    );
    check_eq!(ident(back2), tag::THREAD, "cap through the guarded level");
    let g = LF::GuardMismatch {
        bits_left: 6,
        guard_found: 1,
        bits_found: 2,
    };
    expect_err!(
        na.relative_bits_with_depth(5 << 6 | 2 << 4 | 7, 10)
            .delete(),
        dest_failure(g),
        "wrong guard on the second level"
    );
    Ok(())
}

/// Invoking an empty slot (the lookup succeeds, the cap is null) is InvalidCapability 0.
pub fn invoke_empty_slot(c: &mut Ctx) -> TestResult {
    let s = c.slot()?;
    expect_err!(
        Invocation::new(L::CNodeDelete).word(s).word(64).call(s),
        D::InvalidCapability { index: 0 },
        "CNode_Delete on an empty slot"
    );
    expect_err!(
        sys::seL4_Untyped_Retype(s, T::Endpoint as Word, 0, ROOT, 0, 0, s, 1),
        D::InvalidCapability { index: 0 },
        "Untyped_Retype on an empty slot"
    );
    expect_err!(
        sys::seL4_TCB_Suspend(s),
        D::InvalidCapability { index: 0 },
        "TCB_Suspend on an empty slot"
    );
    Ok(())
}

/// A label the invoked object does not implement is IllegalOperation.
pub fn invoke_wrong_label(c: &mut Ctx) -> TestResult {
    let (ut, _) = c.scratch()?;
    let cases: [(CPtr, Word, &str); 9] = [
        (ut.bits(), L::CNodeCopy as Word, "CNodeCopy on an untyped"),
        (ROOT, L::UntypedRetype as Word, "UntypedRetype on a CNode"),
        (ROOT, 0, "label 0 on a CNode"),
        (ROOT, 1000, "label 1000 on a CNode"),
        (
            slot::INIT_THREAD_TCB,
            L::CNodeDelete as Word,
            "CNodeDelete on a TCB",
        ),
        (
            slot::IRQ_CONTROL,
            L::CNodeDelete as Word,
            "CNodeDelete on IRQControl",
        ),
        (
            slot::ASID_CONTROL,
            L::CNodeDelete as Word,
            "CNodeDelete on ASIDControl",
        ),
        (
            slot::INIT_THREAD_ASID_POOL,
            L::CNodeDelete as Word,
            "CNodeDelete on an ASID pool",
        ),
        (
            slot::DOMAIN,
            L::CNodeDelete as Word,
            "CNodeDelete on the domain cap",
        ),
    ];
    for (cap, label, what) in cases {
        let m = Invocation::with_raw_label(label).word(0).word(64);
        expect_err!(m.call(cap), D::IllegalOperation, "{}", what);
    }
    Ok(())
}

/// Messages shorter than the method needs, or missing its extra caps, are TruncatedMessage;
/// each length check comes where seL4 makes it (after the checks before it passed).
pub fn invoke_truncated(c: &mut Ctx) -> TestResult {
    let (ut, _) = c.scratch()?;
    let d = c.slot()?;
    let tcb = slot::INIT_THREAD_TCB;
    let all = CapRights::ALL.0;
    let copy = Invocation::new(L::CNodeCopy)
        .word(d)
        .word(64)
        .word(tcb)
        .word(64)
        .word(all)
        .cap(ROOT);
    let mint = Invocation::new(L::CNodeMint)
        .word(d)
        .word(64)
        .word(tcb)
        .word(64)
        .word(all)
        .word(0)
        .cap(ROOT);
    let rotate = Invocation::new(L::CNodeRotate).cap(ROOT).cap(ROOT);
    let retype =
        libsel4::invocation::encode::untyped_retype(T::Endpoint as Word, 0, ROOT, 0, 0, d, 1);
    let cases: [(CPtr, Invocation, &str); 8] = [
        (
            ROOT,
            Invocation::new(L::CNodeDelete).word(d),
            "CNode_Delete with 1 word",
        ),
        (ROOT, copy.truncated(3), "CNode_Copy with 3 words"),
        (
            ROOT,
            copy.with_caps_truncated(0),
            "CNode_Copy without the source root",
        ),
        (ROOT, copy.truncated(4), "CNode_Copy without rights"),
        (ROOT, mint.truncated(5), "CNode_Mint without badge"),
        (
            ROOT,
            rotate
                .word(d)
                .word(64)
                .word(0)
                .word(tcb)
                .word(64)
                .word(0)
                .word(tcb),
            "CNode_Rotate with 7 words",
        ),
        (
            ut.bits(),
            retype.truncated(5),
            "Untyped_Retype with 5 words",
        ),
        (
            ut.bits(),
            retype.with_caps_truncated(0),
            "Untyped_Retype without the root",
        ),
    ];
    for (cap, m, what) in cases {
        expect_err!(m.call(cap), D::TruncatedMessage, "{}", what);
    }
    check_eq!(ident(d), tag::NULL, "dest after the truncated messages");
    Ok(())
}
