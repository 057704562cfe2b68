//! The calling thread's IPC buffer (`seL4_IPCBuffer`).
//!
//! Like the C `libsel4`, message registers are kept in the buffer: `set_mr(0, w)` writes
//! `msg[0]` even though MR0 travels in `a2`; the syscall wrappers in [`crate::sys`] load MR0..MR3
//! from the buffer into registers before the `ecall` and store them back afterwards. So every
//! MR index works the same way, before and after a call.
//!
//! The buffer's address is one global, set once: by the root-task runtime from
//! `BootInfo.ipcBuffer`, or by hand with [`set_ipc_buffer`]. (Host unit tests get one per test
//! thread.)
//!
//! A program that runs several threads in one address space gives each thread its own buffer
//! through a [`ThreadBlock`]: after [`enable_thread_blocks`], a thread whose thread pointer
//! (seL4's TLS base: `tp` on riscv64, TPIDR_EL0 on aarch64; set with `seL4_TCB_WriteRegisters` or
//! `seL4_TCB_SetTLSBase`) is non-zero uses the buffer recorded in the `ThreadBlock` at that
//! address; a thread with `tp` = 0 (the root thread) keeps using the global one.

use abi::message::{MSG_MAX_EXTRA_CAPS, MSG_MAX_LENGTH};
use abi::{CPtr, IpcBuffer, MessageInfo, Word};
use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

/// Per-thread state of this library for a thread that shares its address space with others:
/// the thread's IPC buffer and the flag that guards against borrowing it twice. The thread's
/// `tp` register points at it (it may be the first field of a larger `#[repr(C)]` structure
/// of the program's own). See [`enable_thread_blocks`].
#[repr(C)]
#[derive(Debug)]
pub struct ThreadBlock {
    buffer: AtomicPtr<IpcBuffer>,
    borrowed: AtomicBool,
}

impl ThreadBlock {
    /// A block with no IPC buffer.
    pub const fn new() -> Self {
        ThreadBlock {
            buffer: AtomicPtr::new(core::ptr::null_mut()),
            borrowed: AtomicBool::new(false),
        }
    }

    /// Record `buffer` as the IPC buffer of the thread that will run with `tp` pointing here,
    /// and clear the borrow flag (so that a block can be reused for a new thread).
    ///
    /// # Safety
    ///
    /// As for [`set_ipc_buffer`], for that thread: `buffer` is the IPC buffer the kernel knows
    /// for it (or memory standing in for it), aligned, mapped read-write, and not used by any
    /// other thread while this one runs. No thread may be running with `tp` pointing here.
    pub unsafe fn set_buffer(&self, buffer: *mut IpcBuffer) {
        self.buffer.store(buffer, Ordering::Relaxed);
        self.borrowed.store(false, Ordering::Release);
    }

    /// The recorded IPC buffer (null if none).
    pub fn buffer(&self) -> *mut IpcBuffer {
        self.buffer.load(Ordering::Relaxed)
    }
}

impl Default for ThreadBlock {
    fn default() -> Self {
        Self::new()
    }
}

/// From now on, let each thread with a non-zero `tp` use the IPC buffer of the [`ThreadBlock`]
/// that `tp` points at (see the module documentation). Until this is called `tp` is ignored.
///
/// # Safety
///
/// Every thread that uses this library afterwards must run with `tp` = 0 (it then uses the
/// global buffer) or with `tp` pointing at a `ThreadBlock` that stays valid while it runs and
/// that no other running thread uses.
pub unsafe fn enable_thread_blocks() {
    global::enable_blocks()
}

/// Whether [`enable_thread_blocks`] was called.
pub fn thread_blocks_enabled() -> bool {
    global::blocks_enabled()
}

/// The calling thread's thread pointer: seL4's TLS base register (`tp` on riscv64, TPIDR_EL0
/// on aarch64). On the host (unit tests) a per-test-thread stand-in set with
/// `set_test_thread_pointer`.
pub fn thread_pointer() -> usize {
    #[cfg(all(target_arch = "riscv64", target_os = "none"))]
    {
        let tp: usize;
        // SAFETY: reads a register; no memory access, no side effect.
        unsafe {
            core::arch::asm!("mv {0}, tp", out(reg) tp, options(nomem, nostack, preserves_flags))
        };
        tp
    }
    #[cfg(all(target_arch = "aarch64", target_os = "none"))]
    {
        let tp: usize;
        // SAFETY: reads a register; no memory access, no side effect.
        unsafe {
            core::arch::asm!("mrs {0}, tpidr_el0", out(reg) tp, options(nomem, nostack, preserves_flags))
        };
        tp
    }
    #[cfg(all(not(target_os = "none"), test))]
    {
        global::test_tp()
    }
    #[cfg(all(not(target_os = "none"), not(test)))]
    {
        0
    }
}

/// The calling thread's `ThreadBlock`, if thread blocks are enabled and `tp` is non-zero.
fn current_block() -> Option<&'static ThreadBlock> {
    if !global::blocks_enabled() {
        return None;
    }
    let tp = thread_pointer();
    if tp == 0 {
        return None;
    }
    // SAFETY: `enable_thread_blocks`' contract: a non-zero `tp` points at a valid ThreadBlock
    // that only this thread uses while it runs.
    Some(unsafe { &*(tp as *const ThreadBlock) })
}

/// The calling thread's buffer: its `ThreadBlock`'s, or the global one.
fn buffer_ptr() -> *mut IpcBuffer {
    match current_block() {
        Some(b) => b.buffer(),
        None => global::get(),
    }
}

/// Mark the calling thread's buffer borrowed; returns whether it already was.
fn borrow() -> bool {
    match current_block() {
        Some(b) => b.borrowed.swap(true, Ordering::Acquire),
        None => global::borrow(),
    }
}

fn release() {
    match current_block() {
        Some(b) => b.borrowed.store(false, Ordering::Release),
        None => global::release(),
    }
}

#[cfg(not(test))]
mod global {
    use abi::IpcBuffer;
    use core::ptr::null_mut;
    use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

    static PTR: AtomicPtr<IpcBuffer> = AtomicPtr::new(null_mut());
    static BORROWED: AtomicBool = AtomicBool::new(false);

    pub fn get() -> *mut IpcBuffer {
        PTR.load(Ordering::Relaxed)
    }
    pub fn set(p: *mut IpcBuffer) {
        PTR.store(p, Ordering::Relaxed)
    }
    /// Mark the buffer borrowed; returns whether it already was.
    pub fn borrow() -> bool {
        BORROWED.swap(true, Ordering::Acquire)
    }
    pub fn release() {
        BORROWED.store(false, Ordering::Release)
    }

    static BLOCKS: AtomicBool = AtomicBool::new(false);

    pub fn enable_blocks() {
        BLOCKS.store(true, Ordering::Release)
    }
    pub fn blocks_enabled() -> bool {
        BLOCKS.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod global {
    use abi::IpcBuffer;
    use std::cell::Cell;

    std::thread_local! {
        static PTR: Cell<*mut IpcBuffer> = const { Cell::new(std::ptr::null_mut()) };
        static BORROWED: Cell<bool> = const { Cell::new(false) };
    }

    pub fn get() -> *mut IpcBuffer {
        PTR.with(|p| p.get())
    }
    pub fn set(p: *mut IpcBuffer) {
        PTR.with(|c| c.set(p))
    }
    pub fn borrow() -> bool {
        BORROWED.with(|b| b.replace(true))
    }
    pub fn release() {
        BORROWED.with(|b| b.set(false))
    }

    std::thread_local! {
        static BLOCKS: Cell<bool> = const { Cell::new(false) };
        static TP: Cell<usize> = const { Cell::new(0) };
    }

    pub fn enable_blocks() {
        BLOCKS.with(|b| b.set(true))
    }
    pub fn blocks_enabled() -> bool {
        BLOCKS.with(|b| b.get())
    }
    pub fn test_tp() -> usize {
        TP.with(|t| t.get())
    }
    pub fn set_test_tp(tp: usize) {
        TP.with(|t| t.set(tp))
    }
}

/// Set the IPC buffer that every later call of this library uses (`seL4_SetIPCBuffer`).
///
/// # Safety
///
/// `buffer` must be the calling thread's IPC buffer as registered with the kernel (or, in
/// tests, memory standing in for it): aligned, mapped read-write, valid for the rest of the
/// program, and not accessed through any other reference while this library uses it.
pub unsafe fn set_ipc_buffer(buffer: *mut IpcBuffer) {
    match current_block() {
        // SAFETY: the caller's contract is the same as `ThreadBlock::set_buffer`'s; the block
        // is the calling thread's own.
        Some(b) => unsafe { b.set_buffer(buffer) },
        None => global::set(buffer),
    }
}

/// The calling thread's IPC buffer address (null if none): the one set with
/// [`set_ipc_buffer`], or its [`ThreadBlock`]'s.
pub fn ipc_buffer_ptr() -> *mut IpcBuffer {
    buffer_ptr()
}

/// Whether the calling thread has an IPC buffer.
pub fn has_ipc_buffer() -> bool {
    !buffer_ptr().is_null()
}

/// Run `f` with the IPC buffer borrowed mutably.
///
/// Panics if no buffer is set, or if called from inside another `with_ipc_buffer` (which would
/// create two mutable references).
pub fn with_ipc_buffer<R>(f: impl FnOnce(&mut IpcBuffer) -> R) -> R {
    let p = buffer_ptr();
    assert!(!p.is_null(), "libsel4: no IPC buffer set");
    assert!(!borrow(), "libsel4: IPC buffer borrowed twice");
    // SAFETY: `set_ipc_buffer`'s (or `ThreadBlock::set_buffer`'s) contract makes `p` valid,
    // aligned and used by this thread only; the borrow flag checked above guarantees this is
    // the only live reference made here.
    let r = f(unsafe { &mut *p });
    release();
    r
}

/// `seL4_GetMR(i)`: message register `i` (0..120).
pub fn get_mr(i: usize) -> Word {
    assert!(i < MSG_MAX_LENGTH, "message register {i} out of range");
    with_ipc_buffer(|b| b.msg[i])
}

/// `seL4_SetMR(i, w)`: set message register `i` (0..120).
pub fn set_mr(i: usize, w: Word) {
    assert!(i < MSG_MAX_LENGTH, "message register {i} out of range");
    with_ipc_buffer(|b| b.msg[i] = w)
}

/// `seL4_SetCap(i, cptr)`: extra cap `i` (0..3) of the next message.
pub fn set_cap(i: usize, cptr: CPtr) {
    assert!(i < MSG_MAX_EXTRA_CAPS, "extra cap {i} out of range");
    with_ipc_buffer(|b| b.caps_or_badges[i] = cptr)
}

/// `seL4_GetCap(i)`: extra cap `i` as set for sending.
pub fn get_cap(i: usize) -> CPtr {
    assert!(i < MSG_MAX_EXTRA_CAPS, "extra cap {i} out of range");
    with_ipc_buffer(|b| b.caps_or_badges[i])
}

/// `seL4_GetBadge(i)`: the badge of unwrapped received cap `i`.
pub fn get_badge(i: usize) -> Word {
    get_cap(i)
}

/// `seL4_SetCapReceivePath(root, index, depth)`: where a received cap is put.
pub fn set_receive_path(root: CPtr, index: CPtr, depth: Word) {
    with_ipc_buffer(|b| {
        b.receive_cnode = root;
        b.receive_index = index;
        b.receive_depth = depth;
    })
}

/// The receive path: (root, index, depth).
pub fn receive_path() -> (CPtr, CPtr, Word) {
    with_ipc_buffer(|b| (b.receive_cnode, b.receive_index, b.receive_depth))
}

/// `seL4_GetUserData()`.
pub fn user_data() -> Word {
    with_ipc_buffer(|b| b.user_data)
}

/// `seL4_SetUserData(w)`.
pub fn set_user_data(w: Word) {
    with_ipc_buffer(|b| b.user_data = w)
}

/// The `tag` word: the reply `MessageInfo` of the last `seL4_Call` made through this library.
pub fn tag() -> MessageInfo {
    with_ipc_buffer(|b| b.tag)
}

/// Set the `tag` word.
pub fn set_tag(info: MessageInfo) {
    with_ipc_buffer(|b| b.tag = info)
}

/// MR0..MR3 as stored in the buffer, to load into `a2..a5`.
pub(crate) fn fast_mrs() -> [Word; 4] {
    with_ipc_buffer(|b| [b.msg[0], b.msg[1], b.msg[2], b.msg[3]])
}

/// Store MR0..MR3 from `a2..a5` back into the buffer.
pub(crate) fn store_fast_mrs(mr: [Word; 4]) {
    with_ipc_buffer(|b| b.msg[..4].copy_from_slice(&mr))
}

/// Host-test helper: set the stand-in for `tp` of the current test thread.
#[cfg(test)]
pub(crate) fn set_test_thread_pointer(tp: usize) {
    global::set_test_tp(tp)
}

/// Host-test helper: a fresh zeroed IPC buffer, leaked.
#[cfg(test)]
pub(crate) fn new_test_buffer() -> *mut IpcBuffer {
    let b: &'static mut IpcBuffer = Box::leak(Box::new(IpcBuffer {
        tag: MessageInfo(0),
        msg: [0; MSG_MAX_LENGTH],
        user_data: 0,
        caps_or_badges: [0; MSG_MAX_EXTRA_CAPS],
        receive_cnode: 0,
        receive_index: 0,
        receive_depth: 0,
    }));
    b
}

/// Host-test helper: install a fresh zeroed IPC buffer for the current test thread.
#[cfg(test)]
pub(crate) fn install_test_buffer() {
    // SAFETY: a leaked, zeroed, aligned buffer, reached only through this library by the
    // current test thread.
    unsafe { set_ipc_buffer(new_test_buffer()) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mrs_caps_and_paths_go_to_the_right_fields() {
        install_test_buffer();
        set_mr(0, 10);
        set_mr(5, 15);
        set_mr(119, 7);
        set_cap(2, 99);
        set_receive_path(2, 300, 64);
        set_user_data(0x1234);
        assert_eq!((get_mr(0), get_mr(5), get_mr(119)), (10, 15, 7));
        assert_eq!((get_cap(2), get_badge(2)), (99, 99));
        assert_eq!(receive_path(), (2, 300, 64));
        assert_eq!(user_data(), 0x1234);
        store_fast_mrs([1, 2, 3, 4]);
        assert_eq!(fast_mrs(), [1, 2, 3, 4]);
        assert_eq!(get_mr(3), 4);
        with_ipc_buffer(|b| {
            assert_eq!(b.msg[5], 15);
            assert_eq!(b.caps_or_badges, [0, 0, 99]);
        });
    }

    #[test]
    fn thread_blocks_give_each_thread_its_buffer() {
        install_test_buffer();
        let global = ipc_buffer_ptr();
        set_mr(5, 55);
        // Before enable_thread_blocks, tp is ignored.
        let block: &'static ThreadBlock = Box::leak(Box::new(ThreadBlock::new()));
        let mine = new_test_buffer();
        // SAFETY: a leaked test buffer, used by this test thread only.
        unsafe { block.set_buffer(mine) };
        set_test_thread_pointer(block as *const ThreadBlock as usize);
        assert!(!thread_blocks_enabled());
        assert_eq!((ipc_buffer_ptr(), get_mr(5)), (global, 55));
        // SAFETY: this test thread's tp points at a valid block.
        unsafe { enable_thread_blocks() };
        assert!(thread_blocks_enabled());
        assert_eq!((ipc_buffer_ptr(), get_mr(5)), (mine, 0));
        set_mr(5, 66);
        set_receive_path(2, 7, 64);
        assert_eq!(block.buffer(), mine);
        // The thread with tp = 0 still sees the global buffer, unchanged.
        set_test_thread_pointer(0);
        assert_eq!(
            (ipc_buffer_ptr(), get_mr(5), receive_path()),
            (global, 55, (0, 0, 0))
        );
        set_test_thread_pointer(block as *const ThreadBlock as usize);
        assert_eq!((get_mr(5), receive_path()), (66, (2, 7, 64)));
        // set_ipc_buffer changes the calling thread's block, not the global pointer.
        let other = new_test_buffer();
        // SAFETY: a leaked test buffer, used by this test thread only.
        unsafe { set_ipc_buffer(other) };
        assert_eq!((block.buffer(), get_mr(5)), (other, 0));
        set_test_thread_pointer(0);
        assert_eq!(ipc_buffer_ptr(), global);
    }

    #[test]
    fn thread_block_borrow_flags_are_separate() {
        install_test_buffer();
        // SAFETY: test threads have their own stand-in `tp` and flag.
        unsafe { enable_thread_blocks() };
        let block: &'static ThreadBlock = Box::leak(Box::new(ThreadBlock::default()));
        // SAFETY: a leaked test buffer, used by this test thread only.
        unsafe { block.set_buffer(new_test_buffer()) };
        // The root thread (tp = 0) holds its buffer while "another thread" uses its own.
        with_ipc_buffer(|_| {
            set_test_thread_pointer(block as *const ThreadBlock as usize);
            set_mr(0, 1);
            assert_eq!(get_mr(0), 1);
            set_test_thread_pointer(0);
        });
        // Reusing a block for a new thread clears a flag left set.
        block.borrowed.store(true, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { block.set_buffer(new_test_buffer()) };
        set_test_thread_pointer(block as *const ThreadBlock as usize);
        assert_eq!(get_mr(0), 0);
        set_test_thread_pointer(0);
    }

    #[test]
    #[should_panic(expected = "no IPC buffer")]
    fn thread_block_without_buffer_panics() {
        install_test_buffer();
        // SAFETY: test threads have their own stand-in `tp`.
        unsafe { enable_thread_blocks() };
        let block: &'static ThreadBlock = Box::leak(Box::new(ThreadBlock::new()));
        set_test_thread_pointer(block as *const ThreadBlock as usize);
        get_mr(0);
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn mr_index_is_checked() {
        install_test_buffer();
        set_mr(120, 0);
    }

    #[test]
    #[should_panic(expected = "no IPC buffer")]
    fn missing_buffer_panics() {
        get_mr(0);
    }

    #[test]
    #[should_panic(expected = "borrowed twice")]
    fn nested_borrow_panics() {
        install_test_buffer();
        with_ipc_buffer(|_| get_mr(0));
    }
}
