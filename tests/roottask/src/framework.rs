//! A small test framework for a root task: a list of named test functions, each run in turn;
//! a failing test reports and the next one runs. After each test its caps are cleaned up:
//! the untypeds it may have used are revoked and the slots it allocated are deleted, so every
//! test starts from the same CSpace and fresh untyped memory.
//!
//! Output protocol (parsed by `xtask`): one line `TEST <name> ... ok` or
//! `TEST <name> ... FAILED: <reason>` per test, then `SUMMARY <p> passed, <f> failed`.

use core::fmt::{self, Write};

use abi::{BootInfo, CPtr, CapRights, Error, ObjectType, UntypedDesc, Word};
use libsel4::bootinfo::{BootInfoExt, SlotRegionExt};
use libsel4::cap::{init, AbsoluteCPtr, CNode, Cap, Untyped};
use libsel4::invocation::{last_error, ErrorDetail};
use libsel4::sys;
use libsel4::{error_name, println};

/// Why a test failed: a short, single-line message (kept in a fixed buffer; no heap).
pub struct Fail {
    buf: [u8; 256],
    len: usize,
}

impl Fail {
    /// A failure message "line N: ...".
    pub fn new(line: u32, args: fmt::Arguments<'_>) -> Fail {
        let mut f = Fail {
            buf: [0; 256],
            len: 0,
        };
        let _ = write!(f, "line {line}: {args}");
        f
    }

    /// The message.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("(unprintable failure message)")
    }
}

impl fmt::Write for Fail {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if self.len == self.buf.len() {
                break;
            }
            // One line per test: no line breaks, ASCII only.
            self.buf[self.len] = if b.is_ascii_graphic() || b == b' ' {
                b
            } else {
                b'?'
            };
            self.len += 1;
        }
        Ok(())
    }
}

/// What a test returns.
pub type TestResult = Result<(), Fail>;

/// One named test.
pub struct Test {
    /// Name printed in the TEST line (no spaces, by convention).
    pub name: &'static str,
    /// The test.
    pub run: fn(&mut Ctx) -> TestResult,
}

/// Fail the test with a formatted reason.
#[macro_export]
macro_rules! fail {
    ($($arg:tt)*) => {
        return Err($crate::framework::Fail::new(line!(), format_args!($($arg)*)))
    };
}

/// Fail unless the condition holds.
#[macro_export]
macro_rules! check {
    ($cond:expr, $($arg:tt)*) => {
        if !($cond) {
            $crate::fail!($($arg)*);
        }
    };
}

/// Fail unless `got == want`, printing both.
#[macro_export]
macro_rules! check_eq {
    ($got:expr, $want:expr, $($arg:tt)*) => {{
        let got = $got;
        let want = $want;
        if got != want {
            $crate::fail!("{}: got {:?}, expected {:?}", format_args!($($arg)*), got, want);
        }
    }};
}

/// Unwrap an `Ok`, or fail with the seL4 error and its details.
#[macro_export]
macro_rules! ok {
    ($e:expr, $($arg:tt)*) => {
        match $e {
            Ok(v) => v,
            Err(e) => $crate::fail!(
                "{}: unexpected {} [{}]",
                format_args!($($arg)*),
                libsel4::error_name(e),
                libsel4::last_error().detail()
            ),
        }
    };
}

/// Expect a failed invocation with exactly this error, these detail words and this reply length.
#[macro_export]
macro_rules! expect_err {
    ($e:expr, $want:expr, $($arg:tt)*) => {
        $crate::framework::expect_error(line!(), format_args!($($arg)*), $e, $want)?
    };
}

/// The `abi::Error` an `ErrorDetail` stands for.
pub fn detail_error(d: &ErrorDetail) -> Error {
    match d {
        ErrorDetail::NoError | ErrorDetail::Unknown { .. } => Error::NoError,
        ErrorDetail::InvalidArgument { .. } => Error::InvalidArgument,
        ErrorDetail::InvalidCapability { .. } => Error::InvalidCapability,
        ErrorDetail::IllegalOperation => Error::IllegalOperation,
        ErrorDetail::RangeError { .. } => Error::RangeError,
        ErrorDetail::AlignmentError => Error::AlignmentError,
        ErrorDetail::FailedLookup { .. } => Error::FailedLookup,
        ErrorDetail::TruncatedMessage => Error::TruncatedMessage,
        ErrorDetail::DeleteFirst => Error::DeleteFirst,
        ErrorDetail::RevokeFirst => Error::RevokeFirst,
        ErrorDetail::NotEnoughMemory { .. } => Error::NotEnoughMemory,
    }
}

/// Check that `r` failed with `want`: the label, the detail words, and the reply length that
/// seL4's `setMRs_syscall_error` gives (`src/object/tcb.c`).
pub fn expect_error<T: fmt::Debug>(
    line: u32,
    what: fmt::Arguments<'_>,
    r: Result<T, Error>,
    want: ErrorDetail,
) -> TestResult {
    let e = match r {
        Ok(v) => {
            return Err(Fail::new(
                line,
                format_args!("{what}: succeeded ({v:?}), expected {want}"),
            ))
        }
        Err(e) => e,
    };
    let reply = last_error();
    let got = reply.detail();
    if e != detail_error(&want) || got != want {
        return Err(Fail::new(
            line,
            format_args!("{what}: got {} [{got}], expected {want}", error_name(e)),
        ));
    }
    if reply.info.length() != want.words() as Word {
        return Err(Fail::new(
            line,
            format_args!(
                "{what}: {want} reply has length {}, expected {}",
                reply.info.length(),
                want.words()
            ),
        ));
    }
    if reply.info.extra_caps() != 0 || reply.info.caps_unwrapped() != 0 {
        return Err(Fail::new(
            line,
            format_args!("{what}: error reply carries caps ({:?})", reply.info),
        ));
    }
    Ok(())
}

/// `seL4_DebugCapIdentify`.
pub fn ident(cptr: CPtr) -> u32 {
    sys::seL4_DebugCapIdentify(cptr)
}

/// The state the tests share.
pub struct Ctx {
    /// The BootInfo the kernel passed.
    pub bi: &'static BootInfo,
    /// The root CNode.
    pub root: CNode,
    next_slot: CPtr,
    end_slot: CPtr,
    /// The largest RAM untyped, used for every object the tests create.
    scratch: Option<(Untyped, UntypedDesc)>,
    /// Untypeds a test used besides `scratch`, revoked after the test.
    touched: [Option<Untyped>; 4],
    /// Threads made by this test (`crate::thread`); their TCBs go with the scratch untyped.
    pub(crate) threads: usize,
    /// This test's report endpoint, if made.
    pub(crate) rep: Option<CPtr>,
    /// Whether this test's watchdog thread runs.
    pub(crate) watchdog: bool,
}

impl Ctx {
    /// Set up from the BootInfo: slots come from the empty region, objects from the largest RAM
    /// untyped.
    pub fn new(bi: &'static BootInfo) -> Ctx {
        // SAFETY: the root thread runs with tp = 0 (libsel4's `_start` clears it); every test
        // thread runs with tp pointing at its own `thread::Local`, whose first field is its
        // libsel4 `ThreadBlock`.
        unsafe { libsel4::ipc::enable_thread_blocks() };
        let scratch = bi
            .untypeds()
            .filter(|(_, d)| d.is_device == 0)
            .max_by_key(|(_, d)| d.size_bits)
            .map(|(c, d)| (c, *d));
        Ctx {
            bi,
            root: init::CNODE,
            next_slot: bi.empty.start,
            end_slot: bi.empty.end,
            scratch,
            touched: [None; 4],
            threads: 0,
            rep: None,
            watchdog: false,
        }
    }

    /// The scratch untyped and its description.
    pub fn scratch(&self) -> Result<(Untyped, UntypedDesc), Fail> {
        match self.scratch {
            Some(s) => Ok(s),
            None => Err(Fail::new(
                line!(),
                format_args!("BootInfo lists no RAM untyped"),
            )),
        }
    }

    /// Remember that `ut` must be revoked after this test.
    pub fn touch(&mut self, ut: Untyped) {
        if let Some(t) = self.touched.iter_mut().find(|t| t.is_none()) {
            *t = Some(ut);
        }
    }

    /// A fresh empty slot of the root CNode.
    pub fn slot(&mut self) -> Result<CPtr, Fail> {
        self.slots(1)
    }

    /// `n` consecutive fresh empty slots; returns the first.
    pub fn slots(&mut self, n: u64) -> Result<CPtr, Fail> {
        let s = self.next_slot;
        if s + n > self.end_slot.saturating_sub(64) {
            return Err(Fail::new(line!(), format_args!("out of empty slots")));
        }
        self.next_slot += n;
        Ok(s)
    }

    /// The root-CNode slot `slot`, at full depth.
    pub fn abs(&self, slot: CPtr) -> AbsoluteCPtr {
        self.root.absolute_cptr(slot)
    }

    /// Retype one object from the scratch untyped into a fresh slot.
    pub fn new_object(&mut self, ty: ObjectType, size_bits: Word) -> Result<CPtr, Fail> {
        let (ut, _) = self.scratch()?;
        let s = self.slot()?;
        let r = ut.retype(ty, size_bits, &self.root.as_retype_dest(), s, 1);
        if let Err(e) = r {
            return Err(Fail::new(
                line!(),
                format_args!(
                    "creating {ty:?}: {} [{}]",
                    error_name(e),
                    last_error().detail()
                ),
            ));
        }
        Ok(s)
    }

    /// A fresh untyped of 2^`bits` bytes, carved from the scratch untyped.
    pub fn new_untyped(&mut self, bits: Word) -> Result<Untyped, Fail> {
        Ok(Cap::from_bits(self.new_object(ObjectType::Untyped, bits)?))
    }

    /// Copy the cap at `src` into a fresh slot.
    pub fn copy(&mut self, src: CPtr, rights: CapRights) -> Result<CPtr, Fail> {
        let d = self.slot()?;
        if let Err(e) = self.abs(d).copy_from(&self.abs(src), rights) {
            return Err(Fail::new(
                line!(),
                format_args!(
                    "copy of {src}: {} [{}]",
                    error_name(e),
                    last_error().detail()
                ),
            ));
        }
        Ok(d)
    }

    /// Mint the cap at `src` into a fresh slot.
    pub fn mint(&mut self, src: CPtr, rights: CapRights, badge: Word) -> Result<CPtr, Fail> {
        let d = self.slot()?;
        if let Err(e) = self.abs(d).mint_from(&self.abs(src), rights, badge) {
            return Err(Fail::new(
                line!(),
                format_args!(
                    "mint of {src}: {} [{}]",
                    error_name(e),
                    last_error().detail()
                ),
            ));
        }
        Ok(d)
    }

    /// Undo a test: revoke the untypeds it used (deleting every object made from them and every
    /// cap derived from those), delete the caps left in its slots, and reuse the slots if they
    /// are all empty again.
    fn cleanup(&mut self, mark: CPtr) -> TestResult {
        let mut first_error = None;
        let mut uts = [None; 5];
        uts[0] = self.scratch.map(|(u, _)| u);
        uts[1..].copy_from_slice(&self.touched);
        self.touched = [None; 4];
        // The test's threads are TCBs made from the scratch untyped: revoking it below deletes
        // them, before their statics are reused.
        self.threads = 0;
        self.rep = None;
        self.watchdog = false;
        for ut in uts.iter().flatten() {
            if let Err(e) = self.root.absolute_cptr_for(*ut).revoke() {
                first_error.get_or_insert((ut.bits(), e));
            }
        }
        for s in mark..self.next_slot {
            if let Err(e) = self.abs(s).delete() {
                first_error.get_or_insert((s, e));
            }
        }
        crate::thread::reset_statics();
        libsel4::ipc::set_receive_path(0, 0, 0);
        if let Some((s, e)) = first_error {
            return Err(Fail::new(
                line!(),
                format_args!("cleanup: revoke/delete of slot {s}: {}", error_name(e)),
            ));
        }
        if let Some(s) = (mark..self.next_slot).find(|s| ident(*s) != 0) {
            return Err(Fail::new(
                line!(),
                format_args!("cleanup: slot {s} not empty after delete"),
            ));
        }
        self.next_slot = mark;
        Ok(())
    }
}

/// The tests this build runs: with `ROOTTASK_TESTS_ONLY` set when it is built (a
/// comma-separated list of name prefixes, e.g. `fault_,vspace_map`), only those whose names
/// start with one of them; otherwise all. For quick runs by hand (and against other kernels);
/// `cargo xtask test` builds without it. A test may depend on the ones before it (e.g. the
/// first MCS test that reads the root task's consumed time then also counts the boot).
pub fn selected(t: &Test) -> bool {
    match option_env!("ROOTTASK_TESTS_ONLY") {
        Some(only) if !only.is_empty() => only.split(',').any(|p| t.name.starts_with(p)),
        _ => true,
    }
}

/// Run every [`selected`] test, print one line for each and the summary; returns (passed,
/// failed).
pub fn run_all(ctx: &mut Ctx, tests: &[Test]) -> (usize, usize) {
    let (mut passed, mut failed) = (0, 0);
    for t in tests.iter().filter(|t| selected(t)) {
        let mark = ctx.next_slot;
        let result = (t.run)(ctx);
        let cleaned = ctx.cleanup(mark);
        match (result, cleaned) {
            (Ok(()), Ok(())) => {
                passed += 1;
                println!("TEST {} ... ok", t.name);
            }
            (Err(f), _) | (Ok(()), Err(f)) => {
                failed += 1;
                println!("TEST {} ... FAILED: {}", t.name, f.as_str());
            }
        }
    }
    println!("SUMMARY {passed} passed, {failed} failed");
    (passed, failed)
}

/// A readable description of the slot regions, for failure messages.
pub struct Regions<'a>(pub &'a BootInfo);

impl fmt::Display for Regions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "paging {:?} extra {:?} frames {:?} untyped {:?} empty {:?}",
            b.user_image_paging.range(),
            b.extra_bi_pages.range(),
            b.user_image_frames.range(),
            b.untyped.range(),
            b.empty.range()
        )
    }
}
