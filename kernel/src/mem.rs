//! The object-memory layer: the one place where the kernel turns addresses into memory accesses.
//!
//! Kernel objects live in memory retyped from untyped regions, reached through the kernel's
//! window onto physical memory (on the host: a simulated physical memory allocation). Objects are
//! named by [`PPtr<T>`], a kernel-virtual address typed with the object's layout.
//!
//! # Invariant
//! A `PPtr<T>` that the kernel dereferences points to memory that
//! - lies inside the kernel window (or the simulated memory on the host),
//! - is aligned for `T` and belongs to a live object whose layout contains a `T` there,
//! - holds a valid `T` for any bit pattern (all object types here are plain old data: integers
//!   and arrays of integers; zeroed memory is a valid, empty object).
//!
//! Capabilities are the only long-lived source of object addresses, and the MDB guarantees a cap
//! never outlives its object, which gives the invariant. The kernel is single-threaded and not
//! re-entrant, so no two accesses overlap in time; [`PPtr::with`] must not be nested on the same
//! object (callers keep their closures short and never call back into other objects' `with`
//! on the same address).

use core::marker::PhantomData;

/// A kernel-virtual pointer to a `T` in object memory. See the module doc for the invariant.
pub struct PPtr<T> {
    addr: usize,
    _t: PhantomData<*mut T>,
}

impl<T> Clone for PPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for PPtr<T> {}
impl<T> PartialEq for PPtr<T> {
    fn eq(&self, o: &Self) -> bool {
        self.addr == o.addr
    }
}
impl<T> Eq for PPtr<T> {}
impl<T> core::fmt::Debug for PPtr<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "PPtr({:#x})", self.addr)
    }
}

impl<T> PPtr<T> {
    /// Names the object at kernel-virtual address `addr`. Creating a `PPtr` does not access
    /// memory; dereferencing it relies on the module invariant.
    pub const fn new(addr: usize) -> Self {
        PPtr {
            addr,
            _t: PhantomData,
        }
    }
    /// The kernel-virtual address.
    pub const fn addr(self) -> usize {
        self.addr
    }
    /// The same address seen as another type (e.g. the CNode slots of a TCB).
    pub const fn cast<U>(self) -> PPtr<U> {
        PPtr::new(self.addr)
    }
    /// The `i`-th `T` after this one (array indexing in object memory).
    pub const fn add(self, i: usize) -> PPtr<T> {
        PPtr::new(self.addr + i * core::mem::size_of::<T>())
    }
    /// The address `bytes` further on, as a `U` (field projection by offset).
    pub const fn byte_add<U>(self, bytes: usize) -> PPtr<U> {
        PPtr::new(self.addr + bytes)
    }
    /// Reads the object (a copy).
    #[inline(always)]
    pub fn get(self) -> T
    where
        T: Copy,
    {
        // SAFETY: by the module invariant the address is valid, aligned and initialised for T.
        unsafe { core::ptr::read(self.addr as *const T) }
    }
    /// Overwrites the object.
    #[inline(always)]
    pub fn set(self, v: T) {
        // SAFETY: by the module invariant the address is valid and aligned for T; T is plain old
        // data, so overwriting without dropping is correct.
        unsafe { core::ptr::write(self.addr as *mut T, v) }
    }
    /// Runs `f` on the object in place. Must not be nested on the same object.
    #[inline(always)]
    pub fn with<R>(self, f: impl FnOnce(&mut T) -> R) -> R {
        // SAFETY: by the module invariant the address is valid, aligned and initialised for T;
        // the kernel is single-threaded and `with` is not nested on one object, so this is the
        // only reference for the duration of `f`.
        f(unsafe { &mut *(self.addr as *mut T) })
    }
}

/// Zeroes `len` bytes of object memory at kernel-virtual address `addr`.
///
/// Used by retype (new objects start zeroed) and by untyped reset. The range must lie in memory
/// owned by an untyped the caller holds; the decode step of retype checks that.
pub fn zero(addr: usize, len: usize) {
    // SAFETY: the caller passes a range inside an untyped region it owns (module invariant);
    // u8 has no alignment requirement.
    unsafe { core::ptr::write_bytes(addr as *mut u8, 0, len) }
}

/// Copies `len` bytes within the kernel window (boot: loading the root task's ELF).
pub fn copy(dst: usize, src: usize, len: usize) {
    // SAFETY: both ranges are in the kernel window, owned by the boot code at this point, and
    // do not overlap (the ELF image and the frames it is copied to are disjoint).
    unsafe { core::ptr::copy_nonoverlapping(src as *const u8, dst as *mut u8, len) }
}

/// Simulated physical memory for host tests.
#[cfg(not(target_os = "none"))]
pub mod sim {
    /// A block of simulated physical memory starting at simulated physical address `base`.
    pub struct SimMemory {
        buf: *mut u8,
        layout: std::alloc::Layout,
        /// Simulated physical address of the first byte.
        pub base: u64,
    }

    impl SimMemory {
        /// Allocates `1 << size_bits` zeroed bytes, aligned to their size, seen at physical
        /// address `base`, and installs the mapping for this thread.
        pub fn new(base: u64, size_bits: u32) -> SimMemory {
            let size = 1usize << size_bits;
            // Aligned to 1 GiB so that simulated physical alignment (of huge frames, say) carries over
            // to host addresses.
            let layout = std::alloc::Layout::from_size_align(size, 1 << 30).unwrap();
            // SAFETY: layout has non-zero size.
            let buf = unsafe { std::alloc::alloc_zeroed(layout) };
            assert!(!buf.is_null());
            crate::arch::host::set_phys_offset((buf as usize).wrapping_sub(base as usize));
            SimMemory { buf, layout, base }
        }
        /// Installs this memory's mapping for this thread again (a test that runs two
        /// simulated machines side by side switches between them with it).
        pub fn enter(&self) {
            crate::arch::host::set_phys_offset(
                (self.buf as usize).wrapping_sub(self.base as usize),
            );
        }
        /// The kernel-virtual (host) address of the first byte.
        pub fn pptr(&self) -> usize {
            self.buf as usize
        }
        /// Size in bytes.
        pub fn size(&self) -> usize {
            self.layout.size()
        }
    }

    impl Drop for SimMemory {
        fn drop(&mut self) {
            // SAFETY: allocated in `new` with this layout.
            unsafe { std::alloc::dealloc(self.buf, self.layout) }
        }
    }
}

/// The bytes of a physical memory range, through the kernel window (boot only: the root task
/// image and the device tree, which are reserved and never handed out as untyped memory).
pub fn phys_bytes(paddr: u64, len: usize) -> &'static [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: the boot code passes ranges of boot input (initrd, DTB) that lie in RAM covered by
    // the kernel window and are reserved: nothing writes to them while the slice is used.
    unsafe { core::slice::from_raw_parts(crate::arch::paddr_to_pptr(paddr) as *const u8, len) }
}
