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

use abi::message::{MSG_MAX_EXTRA_CAPS, MSG_MAX_LENGTH};
use abi::{CPtr, IpcBuffer, MessageInfo, Word};

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
}

/// Set the IPC buffer that every later call of this library uses (`seL4_SetIPCBuffer`).
///
/// # Safety
///
/// `buffer` must be the calling thread's IPC buffer as registered with the kernel (or, in
/// tests, memory standing in for it): aligned, mapped read-write, valid for the rest of the
/// program, and not accessed through any other reference while this library uses it.
pub unsafe fn set_ipc_buffer(buffer: *mut IpcBuffer) {
    global::set(buffer)
}

/// The IPC buffer address set with [`set_ipc_buffer`] (null if none).
pub fn ipc_buffer_ptr() -> *mut IpcBuffer {
    global::get()
}

/// Whether an IPC buffer has been set.
pub fn has_ipc_buffer() -> bool {
    !global::get().is_null()
}

/// Run `f` with the IPC buffer borrowed mutably.
///
/// Panics if no buffer is set, or if called from inside another `with_ipc_buffer` (which would
/// create two mutable references).
pub fn with_ipc_buffer<R>(f: impl FnOnce(&mut IpcBuffer) -> R) -> R {
    let p = global::get();
    assert!(!p.is_null(), "libsel4: no IPC buffer set");
    assert!(!global::borrow(), "libsel4: IPC buffer borrowed twice");
    // SAFETY: `set_ipc_buffer`'s contract makes `p` valid, aligned and otherwise unreferenced;
    // the borrow flag checked above guarantees this is the only live reference made here.
    let r = f(unsafe { &mut *p });
    global::release();
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

/// Host-test helper: install a fresh zeroed IPC buffer for the current test thread.
#[cfg(test)]
pub(crate) fn install_test_buffer() {
    let b: &'static mut IpcBuffer = Box::leak(Box::new(IpcBuffer {
        tag: MessageInfo(0),
        msg: [0; MSG_MAX_LENGTH],
        user_data: 0,
        caps_or_badges: [0; MSG_MAX_EXTRA_CAPS],
        receive_cnode: 0,
        receive_index: 0,
        receive_depth: 0,
    }));
    let p: *mut IpcBuffer = b;
    // SAFETY: a leaked, zeroed, aligned buffer, reached only through this library by the
    // current test thread.
    unsafe { set_ipc_buffer(p) };
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
