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
//! never outlives its object, which gives the invariant.
//!
//! Objects name each other through [`Link`]s (and [`TaggedLink`]s, [`EitherLink`]s), not
//! integers: the TCB queue links, blocking object and bound notification, endpoint and
//! notification queues, the ready and release queues, the MCS links (a thread's SchedContext,
//! YieldTo and Reply object, a SchedContext's thread, Reply, notification and yielder, a
//! notification's SchedContext, a Reply's thread and call stack) and the debug list of all
//! TCBs. A link is written only from a `PPtr` the kernel holds (or cleared), so reading one
//! back yields a reference without converting an integer outside this module. Links only ever hold what the
//! kernel stored from valid references, and finalisation clears the links to an object
//! (dequeues its threads, unbinds, unlinks) before the object dies. Even a link left stale by
//! a logic error would name memory in the kernel window, aligned, holding plain old data: a
//! wrong object, never undefined behaviour.
//!
//! User memory the kernel touches (a thread's IPC buffer) is reached through [`IpcBuffer`],
//! made from the frame cap's base and an offset checked against the frame's size.
//!
//! # Where references come from
//! Nothing outside this module turns an integer into a `PPtr` (`PPtr::new` is private). The
//! doors, each with its contract:
//! - caps: [`RawCap::object`] reads back the reference a cap was written from, after checking
//!   the tag names that type ([`CapObject`]);
//! - links in object memory: [`Link::get`] and friends (written only from a `PPtr`);
//! - page-table walks: [`PPtr::next_table`] follows an entry written only from a table's `PPtr`
//!   ([`PageTableMemory`]); ASID pools link VSpace roots ([`VSpaceRootMemory`]);
//! - new objects: carved out of an untyped region ([`PPtr::carve`], [`Carved::object`]);
//! - boot: [`Booting`], a token only the boot path holds, for the root task's objects carved
//!   from free memory and for the boot input (initrd, device tree);
//! - the machine layer (`arch/*/machine`), which may use `unsafe`: [`PPtr::from_addr`] for the
//!   kernel's own statics (IRQ node, kernel page table);
//! - host builds only (tests, fuzzing): [`PPtr::sim`], over simulated memory.
//!
//! The kernel is single-threaded and not re-entrant, so no two accesses overlap in time;
//! [`PPtr::with`] must not be nested on the same object (debug host builds check it, see
//! [`borrows`]).

use core::marker::PhantomData;

/// Types that may be read and written in object memory through [`PPtr`]: plain old data.
///
/// # Safety
/// Every bit pattern of `size_of::<Self>()` bytes is a valid `Self` (zeroed memory is a valid,
/// empty object), the type has no padding bytes, no destructor, and holds no Rust references or
/// pointers that are dereferenced as such (object addresses are plain integers). Implemented
/// only here, for the kernel's object layouts and the integer types they are made of.
pub unsafe trait Pod: Sized {}

// SAFETY: integers: every bit pattern is valid, no padding, no drop.
unsafe impl Pod for u8 {}
// SAFETY: as above.
unsafe impl Pod for u64 {}
// SAFETY: an array of `Pod` has no padding between elements and every element pattern is valid.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}
// SAFETY: `repr(C)` structs of u64 words (and arrays of them), see their definitions.
unsafe impl Pod for crate::object::tcb::Tcb {}
// SAFETY: as above.
unsafe impl Pod for crate::object::endpoint::Endpoint {}
// SAFETY: as above.
unsafe impl Pod for crate::object::notification::Notification {}
// SAFETY: as above.
unsafe impl Pod for crate::cte::Cte {}
// SAFETY: as above.
#[cfg(feature = "mcs")]
unsafe impl Pod for crate::object::sched_context::SchedContext {}
// SAFETY: as above.
#[cfg(feature = "mcs")]
unsafe impl Pod for crate::object::sched_context::Refill {}
// SAFETY: as above.
#[cfg(feature = "mcs")]
unsafe impl Pod for crate::object::reply::Reply {}
// SAFETY: as above.
unsafe impl Pod for crate::cte::MdbNode {}
// SAFETY: as above.
unsafe impl Pod for RawCap {}
// SAFETY: a transparent-layout u64.
unsafe impl Pod for crate::arch::Pte {}
// SAFETY: a `u64` descriptor, like the one above: the page-table entry of the architecture
// whose pure logic host tests run beside the one the host kernel simulates.
#[cfg(test)]
unsafe impl Pod for crate::arch::OtherPte {}
// SAFETY: `repr(C)`, u64 words and `UntypedDesc` (two u8 and explicit 6-byte padding array).
unsafe impl Pod for abi::BootInfo {}
// SAFETY: `repr(C)`, two u64.
unsafe impl Pod for abi::BootInfoHeader {}

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
/// [`PPtr::NULL`].
impl<T> Default for PPtr<T> {
    fn default() -> Self {
        Self::NULL
    }
}
impl<T> core::fmt::Debug for PPtr<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "PPtr({:#x})", self.addr)
    }
}

impl<T> PPtr<T> {
    /// Names the object at kernel-virtual address `addr` (private: the doors of the module
    /// doc are the only ways in).
    const fn new(addr: usize) -> Self {
        PPtr {
            addr,
            _t: PhantomData,
        }
    }
    /// Names the object at kernel-virtual address `addr`: the machine layer's door, for the
    /// kernel's own statics (the IRQ node, the kernel's page table).
    ///
    /// # Safety
    /// `addr` satisfies the module invariant for `T` for as long as the reference is used:
    /// inside the kernel window, aligned, memory that holds a `T` and that no other object
    /// overlaps.
    pub const unsafe fn from_addr(addr: usize) -> Self {
        PPtr::new(addr)
    }
    /// Names the object at host address `addr` in a simulation (host builds only: tests and
    /// the fuzzer, which name simulated objects by address; debug builds check every access
    /// against the objects lent out, see [`borrows`]). No kernel built for a machine has it.
    #[cfg(not(target_os = "none"))]
    pub const fn sim(addr: usize) -> Self {
        PPtr::new(addr)
    }
    /// No object (address 0): the idle thread as the current thread, no SchedContext. Never
    /// dereferenced: address 0 lies outside the kernel window (and outside the simulated
    /// memory on the host), so a use by mistake faults instead of touching an object.
    pub const NULL: PPtr<T> = PPtr::new(0);
    /// The kernel-virtual address.
    pub const fn addr(self) -> usize {
        self.addr
    }
    /// Whether this is [`PPtr::NULL`].
    pub const fn is_null(self) -> bool {
        self.addr == 0
    }
    /// The same address seen as another type. Private: a reference to one object never
    /// becomes a reference to another outside this module (see [`PPtr::field`],
    /// [`PPtr::at`], [`Trailing`] for the projections that exist).
    const fn cast<U>(self) -> PPtr<U> {
        PPtr::new(self.addr)
    }
    /// The field of type `U` at byte offset `OFF` of the `T` (use `core::mem::offset_of!`):
    /// checked at compile time to lie inside `T` and to be aligned for `U`, so it stays inside
    /// the object. Reading a `U` where the layout has another plain-old-data field of the same
    /// size gives that field's bits, never undefined behaviour.
    #[inline(always)]
    pub const fn field<U: Pod, const OFF: usize>(self) -> PPtr<U> {
        const {
            assert!(OFF + core::mem::size_of::<U>() <= core::mem::size_of::<T>());
            assert!(OFF.is_multiple_of(core::mem::align_of::<U>()));
        }
        PPtr::new(self.addr + OFF)
    }
}

impl<T: Pod, const N: usize> PPtr<[T; N]> {
    /// Element `i` of the array. An index past the end is masked (`N` a power of two) or
    /// clamped to the last element, so the result always lies inside the array: callers pass
    /// indices below `N` (a wrong one would name a wrong element, never other memory).
    #[inline(always)]
    pub const fn at(self, i: usize) -> PPtr<T> {
        const { assert!(N > 0) };
        let i = if N.is_power_of_two() {
            i & (N - 1)
        } else if i < N {
            i
        } else {
            N - 1
        };
        PPtr::new(self.addr + i * core::mem::size_of::<T>())
    }
    /// The first element.
    #[inline(always)]
    pub const fn first(self) -> PPtr<T> {
        self.cast()
    }
}

/// Objects followed in memory by an array of `E` (inside the object) whose length the object's
/// own header gives: a SchedContext's refills.
///
/// # Safety
/// For every live object at a valid `PPtr<Self>`, the `len(p)` elements of `E` starting at byte
/// `OFFSET` of the object lie inside the object's memory and are aligned for `E`. Implemented
/// only here.
pub unsafe trait Trailing<E: Pod>: Pod {
    /// Byte offset of element 0 from the object's start.
    const OFFSET: usize;
    /// Number of elements (read from the object).
    fn len(p: PPtr<Self>) -> usize;
}

// SAFETY: refills follow the 96-byte header up to the end of the 2^size_bits object;
// `refill_max` is written only by `refill_new`/`refill_update` (and cleared on unbind), with
// `MIN_REFILLS` or with what SchedControl_Configure checked to fit the cap's size
// (`max_refills(size_bits)`).
#[cfg(feature = "mcs")]
unsafe impl Trailing<crate::object::sched_context::Refill>
    for crate::object::sched_context::SchedContext
{
    const OFFSET: usize = crate::object::sched_context::HEADER_BYTES as usize;
    #[inline(always)]
    fn len(p: PPtr<Self>) -> usize {
        p.field::<u64, { core::mem::offset_of!(Self, refill_max) }>()
            .get() as usize
    }
}

impl<T> PPtr<T> {
    /// Element `i` of the array that follows the object (see [`Trailing`]). The index is not
    /// checked in release builds: like a [`Link`], it comes from a field the kernel wrote
    /// (a SchedContext's `refill_head`/`refill_tail`, kept below `refill_max` by every refill
    /// operation); debug builds check it against the length.
    #[inline(always)]
    pub fn trailing<E: Pod>(self, i: usize) -> PPtr<E>
    where
        T: Trailing<E>,
    {
        debug_assert!(i < T::len(self).max(1), "trailing index {i} out of range");
        PPtr::new(self.addr + T::OFFSET + i * core::mem::size_of::<E>())
    }
}

/// A global that holds a [`PPtr`] (the thread a debug line names): written only from a `PPtr`,
/// so reading it back is not a conversion from an integer. Starts as [`PPtr::NULL`].
pub struct PPtrCell<T> {
    addr: core::sync::atomic::AtomicUsize,
    _t: PhantomData<*mut T>,
}

// SAFETY: the cell holds an address in an atomic; sharing it shares no `T`.
unsafe impl<T> Sync for PPtrCell<T> {}

impl<T> PPtrCell<T> {
    /// A cell holding [`PPtr::NULL`].
    pub const fn new() -> Self {
        PPtrCell {
            addr: core::sync::atomic::AtomicUsize::new(0),
            _t: PhantomData,
        }
    }
    /// Stores `p`.
    #[inline(always)]
    pub fn store(&self, p: PPtr<T>) {
        self.addr
            .store(p.addr, core::sync::atomic::Ordering::Relaxed)
    }
    /// The `PPtr` last stored.
    #[inline(always)]
    pub fn load(&self) -> PPtr<T> {
        PPtr::new(self.addr.load(core::sync::atomic::Ordering::Relaxed))
    }
}

impl<T> Default for PPtrCell<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Untyped memory: what an untyped cap names (a marker type, never read or written as such).
pub enum UntypedMemory {}

/// Frame memory: what a frame cap names (a marker type; user memory that the kernel reaches
/// only through [`IpcBuffer`] and the debug stack dump).
pub enum FrameMemory {}

/// The root table of a VSpace, whatever the architecture's table format (a marker type): what
/// an ASID pool entry links. [`PPtr::vspace_table`] gives the architecture's view of it.
pub enum VSpaceRootMemory {}

/// Entries of an ASID pool: `asidLowBits` = 9 on riscv64 and aarch64.
pub const ASID_POOL_ENTRIES: usize = 512;

/// An ASID pool (seL4 `asid_pool_t`, `seL4_ASIDPoolBits` = 12): for each of its 512 ASIDs the
/// VSpace root assigned it, or none. The same shape on riscv64 (`pte_t *array[]`) and aarch64
/// without hypervisor (`asid_map_t array[]`, of which this kernel keeps the `vspace_root`), so
/// the generic ASID table ([`crate::state::Kernel::asid_table`]) links it.
pub type AsidPool = [Link<VSpaceRootMemory>; ASID_POOL_ENTRIES];

/// A page-table type of an architecture, whose tables may be the root of a VSpace (and so be
/// linked from ASID pools) and whose valid non-leaf entries link the next-level table.
///
/// # Safety
/// Implemented only here, for the architectures' `[Pte; 512]` types. `next_paddr` of an entry
/// read from a table of this type gives the physical address of a table of this type or
/// `None`: the architecture's vspace code writes non-leaf entries only from a `PPtr` of that
/// table type (`Pte::table`), tables are zeroed when created, and their memory is never
/// mapped to user mode (frames are a separate object type).
pub unsafe trait PageTableMemory: Pod {
    /// The entry type (a 64-bit word).
    type Entry: Pod + Copy;
    /// The physical address of the next-level table that entry `e` links, if it links one at
    /// `level` (the architecture's encoding of a table entry).
    fn next_paddr(e: Self::Entry, level: usize) -> Option<u64>;
}

impl PPtr<VSpaceRootMemory> {
    /// The VSpace root as the architecture's page table (the type it was linked from).
    #[inline(always)]
    pub const fn vspace_table<R: PageTableMemory>(self) -> PPtr<R> {
        PPtr::new(self.addr)
    }
}

impl<R: PageTableMemory> PPtr<R> {
    /// This table as a VSpace root, for an ASID pool entry.
    #[inline(always)]
    pub const fn as_vspace_root(self) -> PPtr<VSpaceRootMemory> {
        PPtr::new(self.addr)
    }
    /// The table that entry `e`, read from this table at level `level`, links (seL4
    /// `getPPtrFromHWPTE`/`ptrFromPAddr(pte_ptr)`), if `e` is a valid non-leaf entry.
    #[inline(always)]
    pub fn next_table(e: R::Entry, level: usize) -> Option<PPtr<R>> {
        Some(PPtr::new(crate::arch::paddr_to_pptr(R::next_paddr(
            e, level,
        )?)))
    }
}

// SAFETY: the architecture's `Pte::table` is the only constructor of a table entry (what
// `table_paddr` recognises), and it takes a `PPtr<PageTable>` (see the trait's contract).
unsafe impl PageTableMemory for crate::arch::PageTable {
    type Entry = crate::arch::Pte;
    #[inline(always)]
    fn next_paddr(e: Self::Entry, level: usize) -> Option<u64> {
        e.table_paddr(level)
    }
}
// SAFETY: as above, for the other architecture's tables, whose pure logic host tests also run.
#[cfg(test)]
unsafe impl PageTableMemory for crate::arch::OtherPageTable {
    type Entry = crate::arch::OtherPte;
    #[inline(always)]
    fn next_paddr(e: Self::Entry, level: usize) -> Option<u64> {
        e.table_paddr(level)
    }
}

impl PPtr<UntypedMemory> {
    /// Zeroes bytes `start..end` of the untyped region of 2^`size_bits` bytes that starts here
    /// if they lie inside it (they do: untyped reset, `resetUntypedCap`, clears below the
    /// watermark).
    #[inline]
    pub fn zero_range(self, size_bits: u32, start: usize, end: usize) {
        // An untyped's size field has 6 bits; `& 63` is what the shift does anyway.
        if start < end && end <= 1usize << (size_bits & 63) {
            zero(self.addr + start, end - start);
        }
    }
    /// The `count` new objects of 2^`obj_bits` bytes each from byte `offset` of the untyped
    /// region of 2^`size_bits` bytes that starts here, if they all lie inside it (retype:
    /// `offset` is the aligned watermark; the memory was zeroed when the untyped was reset or
    /// created).
    #[inline]
    pub fn carve(
        self,
        size_bits: u32,
        offset: usize,
        obj_bits: u32,
        count: usize,
    ) -> Option<CarvedRun> {
        let size = 1usize << (size_bits & 63);
        let bytes = count.checked_shl(obj_bits)?;
        (obj_bits < usize::BITS && offset <= size && bytes <= size - offset).then_some(CarvedRun {
            addr: self.addr + offset,
            bits: obj_bits,
            count,
        })
    }
}

/// New objects' memory inside one untyped region (see [`PPtr::carve`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CarvedRun {
    addr: usize,
    bits: u32,
    count: usize,
}

impl CarvedRun {
    /// The objects' memory, in address order.
    #[inline]
    pub fn objects(self) -> impl Iterator<Item = Carved> {
        (0..self.count).map(move |i| Carved {
            addr: self.addr + (i << self.bits),
            bits: self.bits,
        })
    }
    /// The byte just past the last object, as an offset from `base` (the region's start).
    pub fn end_offset(self, base: PPtr<UntypedMemory>) -> usize {
        self.addr + (self.count << self.bits) - base.addr
    }
}

/// One new object's memory: 2^`bits` bytes inside an untyped region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Carved {
    addr: usize,
    bits: u32,
}

impl Carved {
    /// 2^`bits` bytes at host address `addr` in a simulation (host builds only: tests).
    #[cfg(not(target_os = "none"))]
    pub const fn sim(addr: usize, bits: u32) -> Carved {
        Carved { addr, bits }
    }
    /// The memory as a `T`, if a `T` fits in it (`createObject`).
    #[inline(always)]
    pub fn object<T>(self) -> Option<PPtr<T>> {
        (core::mem::size_of::<T>() <= 1usize << self.bits).then_some(PPtr::new(self.addr))
    }
}

impl<T: Pod> PPtr<T> {
    /// Zeroes the whole object (an empty object of a plain-old-data type).
    #[inline]
    pub fn zero(self) {
        zero(self.addr, core::mem::size_of::<T>());
    }
}

/// A run of consecutive slots inside one CNode (see [`PPtr::cnode_window`]): the destination of
/// a retype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CNodeWindow {
    first: PPtr<crate::cte::Cte>,
    count: usize,
}

impl CNodeWindow {
    /// The slots in order.
    #[inline]
    pub fn slots(self) -> impl Iterator<Item = PPtr<crate::cte::Cte>> {
        (0..self.count).map(move |i| self.first.offset_in_window(i))
    }
    /// The number of slots.
    pub const fn len(self) -> usize {
        self.count
    }
    /// Whether the window is empty.
    pub const fn is_empty(self) -> bool {
        self.count == 0
    }
}

impl PPtr<crate::cte::Cte> {
    /// Slot `i` after this one, for `i` below a window's count (private to this module).
    #[inline(always)]
    const fn offset_in_window(self, i: usize) -> PPtr<crate::cte::Cte> {
        PPtr::new(self.addr + i * core::mem::size_of::<crate::cte::Cte>())
    }
    /// Slot `i` of the CNode of 2^`radix` slots that starts here (`i` masked to `radix` bits,
    /// so the slot lies inside the CNode; callers pass indices below 2^`radix`).
    #[inline(always)]
    pub const fn cnode_slot(self, radix: u32, i: usize) -> PPtr<crate::cte::Cte> {
        // A cap's radix field has 6 bits; `& 63` is what the shift instruction does anyway.
        let m = (1usize << (radix & 63)).wrapping_sub(1);
        PPtr::new(self.addr + (i & m) * core::mem::size_of::<crate::cte::Cte>())
    }
    /// Slots `offset..offset + count` of the CNode of 2^`radix` slots that starts here, if
    /// that window lies inside the CNode.
    #[inline]
    pub fn cnode_window(self, radix: u32, offset: usize, count: usize) -> Option<CNodeWindow> {
        let size = 1usize.checked_shl(radix)?;
        (offset <= size && count <= size - offset).then(|| CNodeWindow {
            first: PPtr::new(self.addr + offset * core::mem::size_of::<crate::cte::Cte>()),
            count,
        })
    }
    /// The slot `cptr` names in the CNode that `root` (a CNode cap) names, if `one_level`
    /// (the caller's check that `root` is a CNode cap whose guard size + radix = 64) and the
    /// guard matches: then the index, `cptr` with the guard cleared, is below 2^radix by
    /// construction (the one-level lookup of the IPC fastpath and of the full path).
    #[inline(always)]
    pub fn cnode_slot_one_level(
        root: RawCap,
        one_level: bool,
        cptr: u64,
    ) -> Option<PPtr<crate::cte::Cte>> {
        // The radix is bits 44..49 of word 0 (`RawCap::cnode_radix`); the shifts use only the
        // low 6 bits of their amount, so the bits above need no mask.
        let radix = crate::arch::opaque(root.w0 >> 44) as u32;
        debug_assert_eq!(radix & 63, root.cnode_radix() as u32);
        if !one_level || cptr.wrapping_shr(radix) != root.w1 {
            return None;
        }
        let index = cptr ^ root.w1.wrapping_shl(radix);
        Some(PPtr::new(
            root.obj_addr() + index as usize * core::mem::size_of::<crate::cte::Cte>(),
        ))
    }
    /// [`PPtr::cnode_slot_one_level`] for the IPC fastpath: the shifts are
    /// `arch::shr_mod64`/`shl_mod64`, which keep LLVM from masking the radix once for all the
    /// lookups of a function (an `andi` it cannot drop: MCS ReplyRecv looks up two CPtrs).
    /// Not for the full path: there the opaque shifts cost more than they save (the
    /// invocations' lookups, measured: `call_1cap_cross_as` +37, retypes +48).
    #[inline(always)]
    pub fn cnode_slot_one_level_fastpath(
        root: RawCap,
        one_level: bool,
        cptr: u64,
    ) -> Option<PPtr<crate::cte::Cte>> {
        let radix = crate::arch::opaque(root.w0 >> 44);
        debug_assert_eq!(radix & 63, root.cnode_radix());
        if !one_level || crate::arch::shr_mod64(cptr, radix) != root.w1 {
            return None;
        }
        let index = cptr ^ crate::arch::shl_mod64(root.w1, radix);
        Some(PPtr::new(
            root.obj_addr() + index as usize * core::mem::size_of::<crate::cte::Cte>(),
        ))
    }
}

/// A capability as stored in a slot: two words (`seL4_SlotBits` = 5 with the MDB node).
/// `RawCap::default()` is the null cap.
///
/// Word 0 holds the type tag in bits 63..59 and, for caps that name an object, the object's
/// address in bits 43..0 (shifted right by 4: objects are at least 16-byte aligned); the rest
/// of the layout belongs to `crate::cap`. The words are private to this module: the pointer
/// field is written only from a [`PPtr`] ([`RawCap::with_object`]) and read back only as the
/// type its tag names ([`RawCap::object`], checked by [`CapObject`]), so a cap is never a way
/// to turn an integer into an object reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(C)]
pub struct RawCap {
    w0: u64,
    w1: u64,
}

/// The object-pointer field of word 0 of a [`RawCap`].
pub const CAP_PTR_MASK: u64 = (1 << 44) - 1;

impl RawCap {
    /// The null cap.
    pub const NULL: RawCap = RawCap { w0: 0, w1: 0 };

    /// A cap that names no object: `w0`'s pointer field is cleared.
    #[inline(always)]
    pub const fn without_object(w0: u64, w1: u64) -> RawCap {
        RawCap {
            w0: w0 & !CAP_PTR_MASK,
            w1,
        }
    }
    /// A cap that names the object at `p`: `w0` with its pointer field set to `p`. The tag in
    /// `w0` must name a `T` ([`CapObject`]; checked in debug builds), so that
    /// [`RawCap::object`] reads back the type written.
    #[inline(always)]
    pub fn with_object<T: CapObject>(w0: u64, p: PPtr<T>, w1: u64) -> RawCap {
        let c = RawCap {
            w0: (w0 & !CAP_PTR_MASK) | ((p.addr as u64 >> 4) & CAP_PTR_MASK),
            w1,
        };
        debug_assert!(
            T::named_by(c),
            "a cap with tag {} written from another type",
            c.tag()
        );
        c
    }
    /// The same cap with the bits of word 0 outside the pointer field that `clear` names
    /// cleared and those of `set` set (rights and flags).
    #[inline(always)]
    pub const fn with_bits(self, clear: u64, set: u64) -> RawCap {
        RawCap {
            w0: (self.w0 & !(clear & !CAP_PTR_MASK)) | (set & !CAP_PTR_MASK),
            w1: self.w1,
        }
    }
    /// The same cap with word 1 (badge, guard, free index, ...) replaced.
    #[inline(always)]
    pub const fn with_w1(self, w1: u64) -> RawCap {
        RawCap { w0: self.w0, w1 }
    }
    /// Replaces word 0 by `from`'s, leaving word 1: for a slot whose word 1 already equals
    /// `from`'s (the IPC fastpath writes only the words that change).
    #[inline(always)]
    pub fn copy_w0(&mut self, from: RawCap) {
        debug_assert_eq!(self.w1, from.w1);
        self.w0 = from.w0;
    }
    /// Word 0: tag, type-specific bits and the pointer field.
    #[inline(always)]
    pub const fn w0(self) -> u64 {
        self.w0
    }
    /// Word 1: type-specific.
    #[inline(always)]
    pub const fn w1(self) -> u64 {
        self.w1
    }
    /// The seL4 type tag (what `seL4_DebugCapIdentify` returns).
    #[inline(always)]
    pub const fn tag(self) -> u64 {
        self.w0 >> 59
    }
    /// The address in the pointer field (sign-extended from bit 43; for output, comparisons
    /// and region arithmetic: it is not a reference).
    #[inline(always)]
    pub const fn obj_addr(self) -> usize {
        ((((self.w0 & CAP_PTR_MASK) << 20) as i64 >> 20) << 4) as usize
    }
    /// The object the cap names and word 0's top bits `top = w0 >> shift`, if
    /// `top & mask == value`: one test of the tag together with other bits (rights, flags),
    /// which the IPC fastpath keeps shifted ([`crate::arch::opaque`]) so that it is one
    /// shift, `andi` and compare. `mask` must cover the whole tag field (its bits above
    /// `top`'s `64 - shift` do not matter: a mask like `!2` is one `andi`), and the tag in
    /// `value` must name a `T` (both are constants: the checks fold away; [`CapObject`]s are
    /// told apart by the tag alone).
    #[inline(always)]
    pub fn object_if_top<T: CapObject>(
        self,
        shift: u32,
        mask: u64,
        value: u64,
    ) -> Option<(PPtr<T>, u64)> {
        let tag_shift = 59 - shift;
        let tag_named = RawCap {
            w0: (value >> tag_shift) << 59,
            w1: 0,
        };
        let top = crate::arch::opaque(self.w0 >> shift);
        if (mask >> tag_shift) & 0x1f != 0x1f || !T::named_by(tag_named) || top & mask != value {
            return None;
        }
        Some((PPtr::new(self.obj_addr()), top))
    }
    /// The object the cap names, if its tag names a `T` (see [`CapObject`]).
    #[inline(always)]
    pub fn object<T: CapObject>(self) -> Option<PPtr<T>> {
        T::named_by(self).then(|| PPtr::new(self.obj_addr()))
    }
}

/// Object types that caps name, with the caps that name them.
///
/// # Safety
/// `named_by(c)` holds only for caps whose pointer field was written (by
/// [`RawCap::with_object`]) from a `PPtr<Self>` to a live object: those whose tag the kernel
/// encodes only from such a reference. Implemented only here.
pub unsafe trait CapObject {
    /// Whether `c` names an object of this type.
    fn named_by(c: RawCap) -> bool;
}

// SAFETY (all impls below): `crate::cap::Cap::encode` (and `RawCap::reply`) writes the pointer
// field of a cap with these tags only from the typed reference the `Cap` variant holds:
// `Endpoint`/`Notification` from `EpRef`/`NtfnRef`, `Thread` (and the non-MCS `Reply`) from a
// `TcbRef`, MCS `Reply`/`SchedContext` from `ReplyRef`/`ScRef`, `CNode` and `Zombie` from a
// `PPtr<Cte>` (a CNode's first slot, or a TCB's: its slots come first in `Tcb`). The MDB keeps
// every object alive while a cap to it exists.
unsafe impl CapObject for crate::object::endpoint::Endpoint {
    #[inline(always)]
    fn named_by(c: RawCap) -> bool {
        c.tag() == crate::cap::tag::ENDPOINT
    }
}
// SAFETY: see above.
unsafe impl CapObject for crate::object::notification::Notification {
    #[inline(always)]
    fn named_by(c: RawCap) -> bool {
        c.tag() == crate::cap::tag::NOTIFICATION
    }
}
// SAFETY: see above.
unsafe impl CapObject for crate::object::tcb::Tcb {
    #[inline(always)]
    fn named_by(c: RawCap) -> bool {
        #[cfg(not(feature = "mcs"))]
        if c.tag() == crate::cap::tag::REPLY {
            return true;
        }
        c.tag() == crate::cap::tag::THREAD
    }
}
// SAFETY: see above.
#[cfg(feature = "mcs")]
unsafe impl CapObject for crate::object::reply::Reply {
    #[inline(always)]
    fn named_by(c: RawCap) -> bool {
        c.tag() == crate::cap::tag::REPLY
    }
}
// SAFETY: see above.
#[cfg(feature = "mcs")]
unsafe impl CapObject for crate::object::sched_context::SchedContext {
    #[inline(always)]
    fn named_by(c: RawCap) -> bool {
        c.tag() == crate::cap::tag::SCHED_CONTEXT
    }
}
// SAFETY: see above; untyped caps are written from the `PPtr<UntypedMemory>` of the region
// (boot: from the memory map; retype: carved from the parent region).
unsafe impl CapObject for UntypedMemory {
    #[inline(always)]
    fn named_by(c: RawCap) -> bool {
        c.tag() == crate::cap::tag::UNTYPED
    }
}
// SAFETY: see above; the architecture's frame caps are written from the `PPtr<FrameMemory>`
// of the frame (`arch_create_object`, boot), and `is_frame_cap` tests exactly their tag.
unsafe impl CapObject for FrameMemory {
    #[inline(always)]
    fn named_by(c: RawCap) -> bool {
        crate::arch::is_frame_cap(c)
    }
}
// SAFETY: as above, for the architecture's page-table caps (and aarch64's VSpace caps, which
// name a table of the same type) and the `PPtr<PageTable>` they are written from.
unsafe impl CapObject for crate::arch::PageTable {
    #[inline(always)]
    fn named_by(c: RawCap) -> bool {
        crate::arch::is_page_table_cap(c)
    }
}
// SAFETY: as above, for the other architecture's, whose pure logic host tests also run.
#[cfg(test)]
unsafe impl CapObject for crate::arch::OtherPageTable {
    #[inline(always)]
    fn named_by(c: RawCap) -> bool {
        crate::arch::other_is_page_table_cap(c)
    }
}
// SAFETY: as above, for ASID pool caps and the `PPtr<AsidPool>` they are written from.
unsafe impl CapObject for AsidPool {
    #[inline(always)]
    fn named_by(c: RawCap) -> bool {
        crate::arch::is_asid_pool_cap(c)
    }
}
// SAFETY: see above.
unsafe impl CapObject for crate::cte::Cte {
    #[inline(always)]
    fn named_by(c: RawCap) -> bool {
        c.tag() == crate::cap::tag::CNODE || c.tag() == crate::cap::tag::ZOMBIE
    }
}

/// A link in object memory: the kernel-virtual address of a `T` that the kernel stored from a
/// valid [`PPtr<T>`], or none (0). Object layouts hold their links to other objects as
/// `Link`s (queue links, bound objects, the current SchedContext, ...), never as integers, so
/// that reading one back gives a reference without an integer-to-reference conversion outside
/// this module.
///
/// A `Link` is written only from a `PPtr<T>` (or cleared); see the module doc for why what it
/// holds stays a valid reference.
#[repr(transparent)]
pub struct Link<T> {
    word: u64,
    _t: PhantomData<*mut T>,
}

impl<T> Clone for Link<T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Link<T> {}
impl<T> PartialEq for Link<T> {
    #[inline(always)]
    fn eq(&self, o: &Self) -> bool {
        self.word == o.word
    }
}
impl<T> Eq for Link<T> {}
impl<T> Default for Link<T> {
    #[inline(always)]
    fn default() -> Self {
        Link::NONE
    }
}
impl<T> core::fmt::Debug for Link<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Link({:#x})", self.word)
    }
}
// SAFETY: a transparent u64 (every bit pattern is a valid `Link`: reading one back is safe
// only because links are written solely from references, see the module doc).
unsafe impl<T> Pod for Link<T> {}

impl<T> Link<T> {
    /// No link (zeroed memory).
    pub const NONE: Link<T> = Link {
        word: 0,
        _t: PhantomData,
    };
    /// A link to `p`.
    #[inline(always)]
    pub const fn to(p: PPtr<T>) -> Self {
        Link {
            word: p.addr as u64,
            _t: PhantomData,
        }
    }
    /// A link to `p`, or none.
    #[inline(always)]
    pub fn from_opt(p: Option<PPtr<T>>) -> Self {
        match p {
            Some(p) => Link::to(p),
            None => Link::NONE,
        }
    }
    /// The linked object, if any.
    #[inline(always)]
    pub const fn get(self) -> Option<PPtr<T>> {
        if self.word == 0 {
            None
        } else {
            Some(PPtr {
                addr: self.word as usize,
                _t: PhantomData,
            })
        }
    }
    /// Whether it links nothing.
    #[inline(always)]
    pub const fn is_none(self) -> bool {
        self.word == 0
    }
    /// Whether it links an object.
    #[inline(always)]
    pub const fn is_some(self) -> bool {
        self.word != 0
    }
    /// The stored address (0 for none): for output and comparisons only.
    #[inline(always)]
    pub const fn addr(self) -> usize {
        self.word as usize
    }
    /// Whether it links `p`.
    #[inline(always)]
    pub fn is(self, p: PPtr<T>) -> bool {
        self.word == p.addr as u64
    }
    /// Clears the link, returning what it linked.
    #[inline(always)]
    pub fn take(&mut self) -> Option<PPtr<T>> {
        core::mem::take(self).get()
    }
}

impl<T> From<PPtr<T>> for Link<T> {
    #[inline(always)]
    fn from(p: PPtr<T>) -> Self {
        Link::to(p)
    }
}
impl<T> From<Option<PPtr<T>>> for Link<T> {
    #[inline(always)]
    fn from(p: Option<PPtr<T>>) -> Self {
        Link::from_opt(p)
    }
}

/// A [`Link`] with a 2-bit tag in its low bits (objects are at least 16-byte aligned): the
/// queue head and state word of endpoints and notifications.
#[repr(transparent)]
pub struct TaggedLink<T> {
    word: u64,
    _t: PhantomData<*mut T>,
}

impl<T> Clone for TaggedLink<T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for TaggedLink<T> {}
impl<T> PartialEq for TaggedLink<T> {
    fn eq(&self, o: &Self) -> bool {
        self.word == o.word
    }
}
impl<T> Eq for TaggedLink<T> {}
impl<T> Default for TaggedLink<T> {
    fn default() -> Self {
        TaggedLink::new(None, 0)
    }
}
impl<T> core::fmt::Debug for TaggedLink<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "TaggedLink({:#x})", self.word)
    }
}
// SAFETY: as for `Link`.
unsafe impl<T> Pod for TaggedLink<T> {}

impl<T> TaggedLink<T> {
    /// Mask of the tag bits.
    pub const TAG_MASK: u64 = 3;
    /// The same link with tag `tag` (< 4).
    #[inline(always)]
    pub const fn with_tag(self, tag: u64) -> Self {
        TaggedLink {
            word: (self.word & !Self::TAG_MASK) | (tag & Self::TAG_MASK),
            _t: PhantomData,
        }
    }
    /// A link to `p` (or none) with this tag.
    #[inline(always)]
    pub fn with_link(self, p: Option<PPtr<T>>) -> Self {
        let a = p.map_or(0, |p| p.addr as u64);
        debug_assert!(a & Self::TAG_MASK == 0);
        TaggedLink {
            word: a | (self.word & Self::TAG_MASK),
            _t: PhantomData,
        }
    }
    /// A link to `p` with tag `tag` (< 4).
    #[inline(always)]
    pub const fn to(p: PPtr<T>, tag: u64) -> Self {
        TaggedLink {
            word: p.addr as u64 | (tag & Self::TAG_MASK),
            _t: PhantomData,
        }
    }
    /// No link, tag 0 (zeroed memory).
    pub const NONE: TaggedLink<T> = TaggedLink {
        word: 0,
        _t: PhantomData,
    };
    /// A link to `p` (or none) with tag `tag` (< 4).
    #[inline(always)]
    pub fn new(p: Option<PPtr<T>>, tag: u64) -> Self {
        debug_assert!(tag <= Self::TAG_MASK);
        let a = p.map_or(0, |p| p.addr as u64);
        debug_assert!(a & Self::TAG_MASK == 0);
        TaggedLink {
            word: a | tag,
            _t: PhantomData,
        }
    }
    /// The tag.
    #[inline(always)]
    pub const fn tag(self) -> u64 {
        self.word & Self::TAG_MASK
    }
    /// The linked object, if any.
    #[inline(always)]
    pub const fn get(self) -> Option<PPtr<T>> {
        Link::<T> {
            word: self.word & !Self::TAG_MASK,
            _t: PhantomData,
        }
        .get()
    }
    /// The linked object if the tag is `tag` and there is one (one subtraction and one test:
    /// the IPC fastpath).
    #[inline(always)]
    pub const fn get_if_tag(self, tag: u64) -> Option<PPtr<T>> {
        let a = self.word.wrapping_sub(tag);
        if a & Self::TAG_MASK != 0 || a == 0 {
            None
        } else {
            Some(PPtr {
                addr: a as usize,
                _t: PhantomData,
            })
        }
    }
    /// The whole word (address | tag): for output only.
    #[inline(always)]
    pub const fn word(self) -> u64 {
        self.word
    }
}

/// What an [`EitherLink`] links: an `A` or a `B`.
#[derive(Debug, PartialEq, Eq)]
pub enum Linked<A, B> {
    /// An `A` (bit 0 of the word clear).
    A(PPtr<A>),
    /// A `B` (bit 0 of the word set).
    B(PPtr<B>),
}

impl<A, B> Clone for Linked<A, B> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<A, B> Copy for Linked<A, B> {}

/// A link to either an `A` or a `B` object (or none), told apart by bit 0 of the word (set:
/// a `B`; objects are at least 2-byte aligned): the call-stack words of MCS Reply objects
/// (seL4 `call_stack_t`: the SchedContext at the head of the stack, or a Reply). Written only
/// from a `PPtr<A>` or a `PPtr<B>` (or cleared), like [`Link`]; the word 1 (a `B` at address
/// 0) is never written.
#[repr(transparent)]
pub struct EitherLink<A, B> {
    word: u64,
    _t: PhantomData<(*mut A, *mut B)>,
}

impl<A, B> Clone for EitherLink<A, B> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<A, B> Copy for EitherLink<A, B> {}
impl<A, B> PartialEq for EitherLink<A, B> {
    #[inline(always)]
    fn eq(&self, o: &Self) -> bool {
        self.word == o.word
    }
}
impl<A, B> Eq for EitherLink<A, B> {}
impl<A, B> Default for EitherLink<A, B> {
    #[inline(always)]
    fn default() -> Self {
        EitherLink::NONE
    }
}
impl<A, B> core::fmt::Debug for EitherLink<A, B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "EitherLink({:#x})", self.word)
    }
}
// SAFETY: as for `Link`.
unsafe impl<A, B> Pod for EitherLink<A, B> {}

impl<A, B> EitherLink<A, B> {
    /// The bit that marks a `B`.
    const B_BIT: u64 = 1;
    /// No link (zeroed memory).
    pub const NONE: EitherLink<A, B> = EitherLink {
        word: 0,
        _t: PhantomData,
    };
    /// A link to the `A` at `p`.
    #[inline(always)]
    pub fn to_a(p: PPtr<A>) -> Self {
        debug_assert!(p.addr as u64 & Self::B_BIT == 0);
        EitherLink {
            word: p.addr as u64,
            _t: PhantomData,
        }
    }
    /// A link to the `A` that `l` links, or none.
    #[inline(always)]
    pub fn from_a(l: Link<A>) -> Self {
        EitherLink {
            word: l.word,
            _t: PhantomData,
        }
    }
    /// A link to the `B` at `p`.
    #[inline(always)]
    pub fn to_b(p: PPtr<B>) -> Self {
        debug_assert!(p.addr != 0 && p.addr as u64 & Self::B_BIT == 0);
        EitherLink {
            word: p.addr as u64 | Self::B_BIT,
            _t: PhantomData,
        }
    }
    /// Whether there is no link.
    #[inline(always)]
    pub const fn is_none(self) -> bool {
        self.word == 0
    }
    /// The whole word (address | bit 0): for output and comparisons only.
    #[inline(always)]
    pub const fn word(self) -> u64 {
        self.word
    }
    /// The linked object, if any.
    #[inline(always)]
    pub const fn get(self) -> Option<Linked<A, B>> {
        let addr = (self.word & !Self::B_BIT) as usize;
        if addr == 0 {
            None
        } else if self.word & Self::B_BIT == 0 {
            Some(Linked::A(PPtr::new(addr)))
        } else {
            Some(Linked::B(PPtr::new(addr)))
        }
    }
    /// The linked `A`, if it links one.
    #[inline(always)]
    pub const fn a(self) -> Option<PPtr<A>> {
        match self.get() {
            Some(Linked::A(p)) => Some(p),
            _ => None,
        }
    }
    /// The linked `B`, if it links one.
    #[inline(always)]
    pub const fn b(self) -> Option<PPtr<B>> {
        match self.get() {
            Some(Linked::B(p)) => Some(p),
            _ => None,
        }
    }
    /// The `A` that `l` links if this links that one (one comparison: the MCS fastpath, which
    /// compares a call-stack word with the current thread's SchedContext). `l` must link an
    /// object (debug builds check it); a none `l` would match a none word.
    #[inline(always)]
    pub fn a_if(self, l: Link<A>) -> Option<PPtr<A>> {
        debug_assert!(!l.is_none());
        if self.word == l.word {
            Some(PPtr::new(l.word as usize))
        } else {
            None
        }
    }
}

/// Accesses: only for plain-old-data types ([`Pod`]).
impl<T: Pod> PPtr<T> {
    /// Reads the object (a copy).
    #[inline(always)]
    pub fn get(self) -> T
    where
        T: Copy,
    {
        #[cfg(all(debug_assertions, not(target_os = "none")))]
        borrows::check(self.addr, core::mem::size_of::<T>());
        // SAFETY: by the module invariant the address is valid, aligned and initialised for T.
        unsafe { core::ptr::read(self.addr as *const T) }
    }
    /// Overwrites the object.
    #[inline(always)]
    pub fn set(self, v: T) {
        #[cfg(all(debug_assertions, not(target_os = "none")))]
        borrows::check(self.addr, core::mem::size_of::<T>());
        // SAFETY: by the module invariant the address is valid and aligned for T; T is plain old
        // data, so overwriting without dropping is correct.
        unsafe { core::ptr::write(self.addr as *mut T, v) }
    }
    /// Runs `f` on the object in place. Must not be nested on the same object, nor may `f`
    /// reach the object's memory any other way (debug host builds check both: see
    /// [`borrows`]).
    #[inline(always)]
    pub fn with<R>(self, f: impl FnOnce(&mut T) -> R) -> R {
        #[cfg(all(debug_assertions, not(target_os = "none")))]
        let _borrow = borrows::enter(self.addr, core::mem::size_of::<T>());
        // SAFETY: by the module invariant the address is valid, aligned and initialised for T;
        // the kernel is single-threaded and `with` is not nested on one object, so this is the
        // only reference for the duration of `f`.
        f(unsafe { &mut *(self.addr as *mut T) })
    }
}

/// The check behind the rule "no access to an object while [`PPtr::with`] lends it out", in
/// debug builds on the host (where every test runs the object logic): each `with` records the
/// byte range it lends until it returns; a `with`, `get` or `set` that overlaps a lent range
/// panics, since it would alias the `&mut` (undefined behaviour in Rust).
#[cfg(all(debug_assertions, not(target_os = "none")))]
pub mod borrows {
    use std::cell::RefCell;

    std::thread_local! {
        static LENT: RefCell<Vec<(usize, usize)>> = const { RefCell::new(Vec::new()) };
    }

    fn overlapping(addr: usize, len: usize) -> Option<(usize, usize)> {
        LENT.with(|l| {
            l.borrow()
                .iter()
                .copied()
                .find(|&(a, n)| addr < a + n && a < addr + len)
        })
    }

    /// Panics if `[addr, addr + len)` overlaps memory a `with` has lent out.
    #[track_caller]
    pub fn check(addr: usize, len: usize) {
        if let Some((a, n)) = overlapping(addr, len) {
            panic!("object memory {addr:#x}+{len} accessed while lent out by `with` ({a:#x}+{n})");
        }
    }

    /// Records a lent range until the returned guard is dropped.
    #[track_caller]
    pub fn enter(addr: usize, len: usize) -> Lent {
        check(addr, len);
        LENT.with(|l| l.borrow_mut().push((addr, len)));
        Lent(addr)
    }

    /// A range lent out by `with`.
    pub struct Lent(usize);

    impl Drop for Lent {
        fn drop(&mut self) {
            LENT.with(|l| {
                let mut l = l.borrow_mut();
                if let Some(i) = l.iter().rposition(|&(a, _)| a == self.0) {
                    l.remove(i);
                }
            });
        }
    }
}

/// Bytes of a thread's IPC buffer (`seL4_IPCBuffer`).
pub const IPC_BUFFER_BYTES: usize = 1024;

/// A thread's IPC buffer: user memory the kernel reads and writes through its window, inside a
/// frame the thread's buffer cap names. Made only by [`IpcBuffer::in_frame`], which checks that
/// the whole buffer lies in the frame; accesses are bounded by [`IPC_BUFFER_BYTES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpcBuffer(usize);

impl IpcBuffer {
    /// The buffer at user address `vaddr` in the frame of 2^`size_bits` bytes (at least
    /// [`IPC_BUFFER_BYTES`]) whose kernel-virtual base is `base` (from the thread's buffer frame
    /// cap: a live frame in the window). The offset into the frame is `vaddr` masked to a
    /// multiple of the buffer size below the frame's end, so the buffer lies inside the frame
    /// whatever `vaddr` is (the kernel only stores buffer addresses aligned to it).
    #[inline(always)]
    pub fn in_frame(base: PPtr<FrameMemory>, size_bits: u64, vaddr: u64) -> IpcBuffer {
        debug_assert!(
            (10..64).contains(&size_bits) && vaddr.is_multiple_of(IPC_BUFFER_BYTES as u64)
        );
        IpcBuffer(base.addr + (vaddr & ((1u64 << size_bits) - IPC_BUFFER_BYTES as u64)) as usize)
    }
    /// The kernel-virtual address of its first byte (tests and output).
    pub const fn addr(self) -> usize {
        self.0
    }
    #[inline(always)]
    fn word_ptr(self, byte_offset: usize) -> PPtr<u64> {
        debug_assert!(byte_offset + 8 <= IPC_BUFFER_BYTES && byte_offset.is_multiple_of(8));
        PPtr::new(self.0 + (byte_offset & (IPC_BUFFER_BYTES - 8)))
    }
    /// The word at `byte_offset` (a field of `seL4_IPCBuffer`, `abi::ipc_buffer::offset`).
    #[inline(always)]
    pub fn word(self, byte_offset: usize) -> u64 {
        self.word_ptr(byte_offset).get()
    }
    /// Writes the word at `byte_offset`.
    #[inline(always)]
    pub fn set_word(self, byte_offset: usize, v: u64) {
        self.word_ptr(byte_offset).set(v)
    }
    /// The byte at `byte_offset`.
    pub fn byte(self, byte_offset: usize) -> u8 {
        debug_assert!(byte_offset < IPC_BUFFER_BYTES);
        PPtr::<u8>::new(self.0 + (byte_offset & (IPC_BUFFER_BYTES - 1))).get()
    }
    /// Names a buffer at a kernel-virtual address without a frame cap (host tests only).
    #[cfg(test)]
    pub fn for_test(addr: usize) -> IpcBuffer {
        IpcBuffer(addr)
    }
}

/// Zeroes `len` bytes of object memory at kernel-virtual address `addr`.
///
/// Used by retype (new objects start zeroed) and by untyped reset. The range must lie in memory
/// owned by an untyped the caller holds; the decode step of retype checks that.
///
/// A range of whole 8-byte words (the untyped reset's chunks, page tables, ASID pools) is
/// cleared with one store per word, 32 to a loop iteration; anything else with `write_bytes`.
fn zero(addr: usize, len: usize) {
    #[cfg(all(debug_assertions, not(target_os = "none")))]
    borrows::check(addr, len);
    if (addr | len) & 7 != 0 {
        // SAFETY: the caller passes a range inside an untyped region it owns (module
        // invariant); u8 has no alignment requirement.
        unsafe { core::ptr::write_bytes(addr as *mut u8, 0, len) };
        return;
    }
    const BLOCK: usize = 256;
    let end = addr + len;
    let block_end = addr + (len & !(BLOCK - 1));
    let mut p = addr;
    // Volatile stores: a plain loop of stores is what LLVM turns back into a call to `memset`,
    // whose loop stores one word per three instructions.
    while p < block_end {
        for i in 0..BLOCK / 8 {
            // SAFETY: `p + 8 * i` is an 8-byte-aligned word of the range (`addr` is aligned,
            // `p + BLOCK <= block_end <= end`), which the caller owns (see above).
            unsafe { core::ptr::write_volatile((p + 8 * i) as *mut u64, 0) };
        }
        p += BLOCK;
    }
    while p < end {
        // SAFETY: as above; `p + 8 <= end` since `len` is a multiple of 8.
        unsafe { core::ptr::write_volatile(p as *mut u64, 0) };
        p += 8;
    }
}

/// Debug builds: the 8-byte word at physical `paddr`, if it is aligned and RAM (one of boot's
/// RAM regions that `debug` recorded): a faulting thread's stack dump reads user memory this
/// way, as seL4's debug build does (reading RAM through the kernel window has no side effect,
/// and any bit pattern is a `u64`).
#[cfg(feature = "debug_build")]
pub fn read_ram_word(debug: &crate::debug::DebugState, paddr: u64) -> Option<u64> {
    if !paddr.is_multiple_of(8) || !debug.is_ram(paddr, 8) {
        return None;
    }
    Some(PPtr::<u64>::new(crate::arch::paddr_to_pptr(paddr)).get())
}

/// Boot's access to memory by address: the token only the boot path holds, until the root
/// task is created. Boot carves the root task's objects out of free RAM (which the
/// free-memory plan has taken out of every untyped region), reads its input (the initrd, the
/// device tree) and moves the user image into place, all by physical or kernel-virtual
/// address, before any capability to that memory exists.
pub struct Booting {
    _private: (),
}

impl Booting {
    /// The token, at the start of boot.
    ///
    /// # Safety
    /// Called on the boot path only, before the first user thread runs, and not used once
    /// it does. The boot parameters it is used with describe the machine: RAM
    /// regions are RAM inside the kernel window, reserved regions (kernel image, device tree,
    /// initrd, user image) are not handed out as untyped memory.
    pub const unsafe fn begin() -> Booting {
        Booting { _private: () }
    }
    /// The token in a host simulation (tests and the fuzzer boot simulated machines).
    #[cfg(not(target_os = "none"))]
    pub const fn sim() -> Booting {
        Booting { _private: () }
    }
    /// The object boot has just carved out of free memory at kernel-virtual `addr` (the root
    /// task's objects, its image's frames, the extra BootInfo frames), each zeroed or filled
    /// before use.
    #[inline]
    pub fn object<T>(&self, addr: usize) -> PPtr<T> {
        PPtr::new(addr)
    }
    /// Zeroes `len` bytes of free memory at kernel-virtual `addr`.
    pub fn zero(&self, addr: usize, len: usize) {
        zero(addr, len)
    }
    /// Copies `src` to kernel-virtual `dst` (free memory: the root task's frames, the extra
    /// BootInfo frames), which does not overlap `src`.
    pub fn copy_in(&self, dst: usize, src: &[u8]) {
        // SAFETY: `dst..dst + len` is free RAM in the kernel window that boot owns (the
        // token's contract); `src` is a valid slice, disjoint from it (boot input is reserved
        // memory).
        unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), dst as *mut u8, src.len()) }
    }
    /// Moves `len` bytes within the kernel window; the ranges may overlap (the firmware boot
    /// moves the device tree to where seL4's elfloader puts it).
    pub fn move_bytes(&self, dst: usize, src: usize, len: usize) {
        // SAFETY: both ranges are RAM in the kernel window that only boot uses at this point
        // (the device tree and the free RAM after the kernel image); `copy` allows overlap.
        unsafe { core::ptr::copy(src as *const u8, dst as *mut u8, len) }
    }
    /// The bytes of a physical memory range, through the kernel window (the root task image
    /// and the device tree, which are reserved and never handed out as untyped memory).
    pub fn phys_bytes(&self, paddr: u64, len: usize) -> &'static [u8] {
        if len == 0 {
            return &[];
        }
        // SAFETY: boot passes ranges of boot input (initrd, DTB) that lie in RAM covered by the
        // kernel window and are reserved: nothing writes to them while the slice is used.
        unsafe { core::slice::from_raw_parts(crate::arch::paddr_to_pptr(paddr) as *const u8, len) }
    }
}

/// The one kernel on the target.
#[cfg(target_os = "none")]
struct KernelCell(core::cell::UnsafeCell<crate::state::Kernel>);

// SAFETY: the kernel runs on one hart with interrupts masked and is entered only through the
// trap path or boot, never re-entrantly, so the cell is never accessed concurrently.
#[cfg(target_os = "none")]
unsafe impl Sync for KernelCell {}

///
/// Named `kernel_state` for the linker script, which puts it first in `.data`, on a 4 KiB
/// boundary, so that the architecture can form its address in one instruction
/// (`arch::kernel_state_addr`, riscv64: one `lui`).
#[cfg(target_os = "none")]
#[export_name = "kernel_state"]
#[link_section = ".data.kernel_state"]
static KERNEL: KernelCell = KernelCell(core::cell::UnsafeCell::new(crate::state::Kernel::new()));

/// Runs `f` on the kernel's global state. Called at each kernel entry (boot or trap; a trap the
/// IPC fastpath declines calls it a second time, after the first call returned); must not be
/// nested.
#[cfg(target_os = "none")]
pub fn with_kernel<R>(f: impl FnOnce(&mut crate::state::Kernel) -> R) -> R {
    // Debug builds check the rule: a nested call would make a second `&mut` to the state.
    #[cfg(debug_assertions)]
    let _entered = Entered::enter();
    let k = crate::arch::kernel_state_addr() as *mut crate::state::Kernel;
    debug_assert_eq!(k, KERNEL.0.get());
    // SAFETY: `k` is `KERNEL`'s address (the symbol `kernel_state`). See `KernelCell`: single
    // hart, no re-entry, and callers do not nest `with_kernel`, so this is the only reference
    // to the state while `f` runs.
    f(unsafe { &mut *k })
}

/// Debug builds: `with_kernel` is running (set on entry, cleared when its closure returns).
#[cfg(all(target_os = "none", debug_assertions))]
static ENTERED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// The guard of [`ENTERED`].
#[cfg(all(target_os = "none", debug_assertions))]
struct Entered;

#[cfg(all(target_os = "none", debug_assertions))]
impl Entered {
    fn enter() -> Entered {
        use core::sync::atomic::Ordering;
        assert!(!ENTERED.swap(true, Ordering::Relaxed), "with_kernel nested");
        Entered
    }
}

#[cfg(all(target_os = "none", debug_assertions))]
impl Drop for Entered {
    fn drop(&mut self) {
        ENTERED.store(false, core::sync::atomic::Ordering::Relaxed);
    }
}

/// Simulated physical memory for host tests.
#[cfg(not(target_os = "none"))]
pub mod sim {
    /// A block of simulated physical memory starting at simulated physical address `base`.
    pub struct SimMemory {
        buf: *mut u8,
        layout: std::alloc::Layout,
        /// The first byte, aligned to 1 GiB inside `buf`'s allocation.
        start: *mut u8,
        size: usize,
        /// Simulated physical address of the first byte.
        pub base: u64,
    }

    /// Host addresses of simulated memory are aligned like this, so that simulated physical
    /// alignment (of huge frames, say) carries over.
    const ALIGN: usize = 1 << 30;

    impl SimMemory {
        /// Allocates `1 << size_bits` zeroed bytes, aligned to 1 GiB, seen at physical address
        /// `base`, and installs the mapping for this thread. The host allocates with `calloc`,
        /// whose large blocks are zero pages until touched, so gigabytes of simulated RAM cost
        /// only what a test writes.
        pub fn new(base: u64, size_bits: u32) -> SimMemory {
            let size = 1usize << size_bits;
            // Over-allocating by `ALIGN` and aligning inside keeps the allocator's large-block
            // path (calloc: untouched pages cost nothing). Miri backs every allocated byte, so
            // there the allocation is exactly `size` bytes, aligned by the layout instead (to
            // at most 2^29, the largest alignment Rust supports: more than the simulated RAM
            // of the tests needs).
            #[cfg(not(miri))]
            let layout = std::alloc::Layout::from_size_align(size + ALIGN, 16).unwrap();
            #[cfg(miri)]
            let layout = std::alloc::Layout::from_size_align(size, ALIGN.min(1 << 29)).unwrap();
            // SAFETY: layout has non-zero size.
            let buf = unsafe { std::alloc::alloc_zeroed(layout) };
            assert!(!buf.is_null());
            #[cfg(not(miri))]
            let start = buf.wrapping_add((ALIGN - buf as usize % ALIGN) % ALIGN);
            #[cfg(miri)]
            let start = buf;
            let m = SimMemory {
                buf,
                layout,
                start,
                size,
                base,
            };
            m.enter();
            m
        }
        /// Installs this memory's mapping for this thread again (a test that runs two
        /// simulated machines side by side switches between them with it).
        pub fn enter(&self) {
            crate::arch::host::set_phys_offset(
                (self.start as usize).wrapping_sub(self.base as usize),
            );
        }
        /// The kernel-virtual (host) address of the first byte.
        pub fn pptr(&self) -> usize {
            self.start as usize
        }
        /// Size in bytes.
        pub fn size(&self) -> usize {
            self.size
        }
    }

    impl Drop for SimMemory {
        fn drop(&mut self) {
            // SAFETY: allocated in `new` with this layout.
            unsafe { std::alloc::dealloc(self.buf, self.layout) }
        }
    }
}

#[cfg(all(test, debug_assertions, not(target_os = "none")))]
mod tests {
    use super::PPtr;

    #[test]
    #[should_panic(expected = "lent out")]
    fn nested_with_on_one_object_is_caught() {
        let mut words = [0u64; 4];
        let p = PPtr::<[u64; 4]>::new(words.as_mut_ptr() as usize);
        p.with(|_| p.at(2).with(|w| *w = 1));
    }

    #[test]
    #[should_panic(expected = "lent out")]
    fn get_inside_with_of_the_same_memory_is_caught() {
        let mut words = [0u64; 4];
        let p = PPtr::<[u64; 4]>::new(words.as_mut_ptr() as usize);
        p.with(|_| p.first().get());
    }

    #[test]
    fn disjoint_and_sequential_accesses_are_fine() {
        let mut words = [0u64; 4];
        let w = PPtr::<[u64; 4]>::new(words.as_mut_ptr() as usize);
        let p = w.first();
        p.with(|a| w.at(1).with(|b| *a = *b + 1));
        w.at(1).set(7);
        p.with(|a| *a += 1);
        assert_eq!((p.get(), w.at(1).get()), (2, 7));
    }
}
