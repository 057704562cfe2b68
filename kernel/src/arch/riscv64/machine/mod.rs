//! The riscv64 machine layer for QEMU `virt` (under OpenSBI, entered by it or by a seL4 loader):
//! everything that touches the real hardware (CSRs, SBI calls, the boot page table, trap entry
//! and exit, the device tree).
//!
//! # Memory layout (Sv39)
//!
//! | virtual range                               | maps to (physical)        | use                       |
//! |---------------------------------------------|---------------------------|---------------------------|
//! | `0x0000_0000_0000_0000..0x0000_0040_0000_0000` | per thread             | user space (lower half)   |
//! | `PPTR_BASE = 0xFFFF_FFC0_0000_0000..PPTR_TOP` | `0..254 GiB`             | the physical-memory window (RW, global, never executable) |
//! | `PPTR_TOP = 0xFFFF_FFFF_8000_0000..+1 GiB`    | `0x8000_0000..0xC000_0000` | the kernel image gigapage (RWX, global) |
//! | `0xFFFF_FFFF_C000_0000..`                    | unmapped                  | (seL4's `KDEV_BASE`; unused: devices are reached through the window) |
//!
//! The image is linked by `kernel/link.ld` as seL4's is: everything in the high half from
//! [`KERNEL_ELF_BASE`] = `0xFFFF_FFFF_8020_0000` (the entry point, `_start`) with load
//! addresses from [`KERNEL_ELF_PADDR_BASE`] = `0x8020_0000`, where OpenSBI jumps (QEMU turns
//! the virtual entry into the physical one) and where seL4's loaders put it; the boot-only code
//! first, up to `ki_boot_end` (see `docs/BOOT.md`).
//!
//! The boot code ([`boot`]) builds the kernel's root page table ([`kernel_root_page_table`]):
//! entries 256..=509 map the window with gigapages, entry 510 the kernel image, and, only until the
//! Rust code runs, one identity gigapage for the jump to the high half in a firmware boot. User
//! VSpaces copy entries 256..=511 of it.
//!
//! # Sub-modules
//! - [`boot`]: the entry point `_start`, the boot page table, the kernel stack, early init.
//! - [`trap`]: trap entry and exit (`stvec`, `sscratch` convention, [`trap::restore_user_context`]).
//! - [`sbi`]: SBI calls (console, timer, reset).
//! - [`devicetree`]: parsing the device tree blob into [`crate::boot::BootParams`].

pub mod boot;
pub mod devicetree;
pub mod fpu;
pub mod plic;
pub mod sbi;
pub mod trap;

use core::arch::asm;
use core::sync::atomic::{AtomicU64, Ordering};

pub use boot::kernel_root_page_table_paddr;
pub use trap::restore_user_context;

/// Start of the kernel's window onto physical memory: physical address `p` is at `PPTR_BASE + p`.
pub const PPTR_BASE: usize = 0xFFFF_FFC0_0000_0000;
/// End of the physical-memory window (exclusive); also the start of the kernel image gigapage.
pub const PPTR_TOP: usize = 0xFFFF_FFFF_8000_0000;
/// Size of the physical-memory window: physical addresses below this are reachable (254 GiB).
pub const PADDR_TOP: u64 = (PPTR_TOP - PPTR_BASE) as u64;
const _: () = assert!(PADDR_TOP == super::PADDR_TOP);
/// Physical address where OpenSBI starts the kernel, and where its first byte is loaded.
pub const KERNEL_ELF_PADDR_BASE: u64 = 0x8020_0000;
/// The high-half alias of [`KERNEL_ELF_PADDR_BASE`] in the kernel image gigapage.
pub const KERNEL_ELF_BASE: usize = PPTR_TOP + (KERNEL_ELF_PADDR_BASE as usize & GIGAPAGE_MASK);
/// Kernel-image virtual address minus physical address, for addresses at or above [`PPTR_TOP`].
pub const KERNEL_ELF_OFFSET: usize = KERNEL_ELF_BASE - KERNEL_ELF_PADDR_BASE as usize;
/// Size of the kernel stack used at boot and for every trap (no nesting: one stack is enough).
/// seL4 uses 4 KiB; a debug build of this kernel needs about 30 KiB to create the root task
/// (a release build about 5 KiB), hence 64 KiB.
pub const KERNEL_STACK_SIZE: usize = 64 * 1024;

const GIGAPAGE_MASK: usize = (1 << 30) - 1;

/// satp.MODE value for Sv39.
const SATP_MODE_SV39: u64 = 8 << 60;
/// Shift of satp.ASID.
const SATP_ASID_SHIFT: u32 = 44;

/// The kernel-virtual address of physical address `p`, through the window at [`PPTR_BASE`].
///
/// Plain arithmetic, like seL4's `ptrFromPAddr`: only physical addresses below [`PADDR_TOP`]
/// (254 GiB) give an address the kernel may dereference; larger ones (device untypeds go up to
/// 2^39) give a name that only [`pptr_to_paddr`] turns back into the physical address. As on
/// seL4, the names of physical `PADDR_TOP..PADDR_TOP + 1 GiB` are the kernel image's own
/// addresses; the kernel never dereferences device memory, so they only serve as names.
pub fn paddr_to_pptr(p: u64) -> usize {
    (p as usize).wrapping_add(PPTR_BASE)
}

/// The physical address of the window address `v` (seL4 `addrFromPPtr`): the inverse of
/// [`paddr_to_pptr`]. For addresses in the kernel image (statics) use [`kpptr_to_paddr`].
pub fn pptr_to_paddr(v: usize) -> u64 {
    v.wrapping_sub(PPTR_BASE) as u64
}

/// The physical address of `v`, an address in the kernel image gigapage at [`PPTR_TOP`] (a
/// static of the kernel, e.g. [`kernel_root_page_table`]; seL4 `addrFromKPPtr`).
pub fn kpptr_to_paddr(v: usize) -> u64 {
    debug_assert!(v.wrapping_sub(PPTR_TOP) < 1 << 30);
    v.wrapping_sub(KERNEL_ELF_OFFSET) as u64
}

/// Writes one byte to the console through the SBI (debug console extension, or the legacy
/// `console_putchar` when the firmware has no DBCN).
pub fn put_char(c: u8) {
    sbi::console_put_byte(c);
}

/// Physical address of the `sifive_test` finisher used by [`halt`], 0 if the machine has none.
/// QEMU `virt` has one at 0x10_0000; the device-tree parser updates this.
static FINISHER_PADDR: AtomicU64 = AtomicU64::new(0x10_0000);

/// Records where the `sifive_test` finisher is (0: there is none, use the SBI to stop).
pub(crate) fn set_finisher(paddr: u64) {
    FINISHER_PADDR.store(paddr, Ordering::Relaxed);
}

/// Stops the machine. QEMU exits with status 0 if `success`, otherwise with status 1.
///
/// Writes to the `sifive_test` finisher (`0x5555`: pass, `0x3333 | 1 << 16`: fail, exit code 1)
/// and, if that did not stop the machine, asks the SBI for a system reset (which exits QEMU with
/// status 0 whatever the reason).
pub fn halt(success: bool) -> ! {
    let finisher = FINISHER_PADDR.load(Ordering::Relaxed);
    if finisher != 0 && finisher < PADDR_TOP {
        let code: u32 = if success { 0x5555 } else { 0x3333 | (1 << 16) };
        let reg = paddr_to_pptr(finisher) as *mut u32;
        // SAFETY: `finisher` is the MMIO register of the sifive_test device (from the device tree,
        // or QEMU virt's fixed address before it is parsed), mapped RW by the window; a 32-bit
        // volatile store to it has no effect on memory the kernel uses.
        unsafe { reg.write_volatile(code) };
    }
    sbi::system_reset(
        sbi::RESET_TYPE_SHUTDOWN,
        if success {
            sbi::RESET_REASON_NONE
        } else {
            sbi::RESET_REASON_SYSTEM_FAILURE
        },
    );
    loop {
        // SAFETY: `wfi` only waits; interrupts are disabled in the kernel, so this loop parks the
        // hart if neither the finisher nor the SBI stopped the machine.
        unsafe { asm!("wfi", options(nomem, nostack)) };
    }
}

/// The `satp` value for the Sv39 root table at `root_pt_paddr` with `asid`.
fn satp_for(root_pt_paddr: u64, asid: u16) -> u64 {
    let entry = |table_paddr: u64| {
        let slot = (paddr_to_pptr(table_paddr) + 510 * 8) as *const u64;
        // SAFETY: both tables are 4 KiB page tables in RAM reached through the window, so slot 510
        // is inside the table, aligned, and readable; reading a PTE has no side effect.
        unsafe { slot.read_volatile() }
    };
    debug_assert!(
        root_pt_paddr & 0xfff == 0 && entry(root_pt_paddr) == entry(kernel_root_page_table_paddr()),
        "satp_for: root table {root_pt_paddr:#x} does not map the kernel image"
    );
    SATP_MODE_SV39 | (u64::from(asid) << SATP_ASID_SHIFT) | (root_pt_paddr >> 12)
}

/// Switches to `satp` if it differs from the current value.
#[inline(always)]
fn write_satp(satp: u64) {
    let cur: u64;
    // SAFETY: reading satp has no side effect.
    unsafe { asm!("csrr {0}, satp", out(reg) cur, options(nomem, nostack)) };
    if cur == satp {
        return;
    }
    // SAFETY: the new root maps the kernel exactly as the current one does (entry 510 is the
    // kernel image; the window entries are copied into every VSpace at ASID assignment), so
    // execution continues. No fence: translations are tagged by ASID, and every change to a
    // VSpace's page tables, and every reuse of an ASID, is fenced where it happens.
    unsafe { asm!("csrw satp, {0}", in(reg) satp, options(nostack)) };
}

/// `setVMRoot` for a thread whose cached `satp` is current (`Tcb::vm_gen` equals
/// `Kernel::vm_gen`, checked by the caller, the IPC fastpath): one CSR write, unconditional
/// (writing the value already there is harmless; no fence, as in [`write_satp`]).
#[inline(always)]
pub fn set_vm_root_cached(t: crate::object::tcb::TcbRef) {
    let satp = t.with(|x| x.arch.vm_satp);
    // SAFETY: `vm_satp` was computed by `set_vm_root` for this thread's VSpace under the
    // current `vm_gen`, so it names a root that maps the kernel (see `write_satp`).
    unsafe { asm!("csrw satp, {0}", in(reg) satp, options(nostack)) };
}

/// The address of the kernel's global state (`crate::mem`'s `KERNEL`, symbol
/// `kernel_state`) in one `lui`: `link.ld` puts it at a 4 KiB boundary (and checks it) in the
/// kernel image's top 2 GiB, where `lui`'s sign-extended 32-bit value reaches.
#[inline(always)]
pub fn kernel_state_addr() -> usize {
    let a: usize;
    // SAFETY: only computes an address.
    unsafe {
        asm!("lui {0}, %hi(kernel_state)", out(reg) a, options(pure, nomem, nostack, preserves_flags))
    };
    a
}

/// `x` unchanged, as a value the compiler cannot see through (an empty `asm!`, no
/// instruction): a shifted cap word stays shifted, so that a test of a few of its bits is one
/// shift, one `andi` and a small constant instead of two 64-bit masks (the IPC fastpath).
#[inline(always)]
pub fn opaque(mut x: u64) -> u64 {
    // SAFETY: the block is empty: it reads and writes only the register holding `x`.
    unsafe { asm!("/* {0} */", inout(reg) x, options(pure, nomem, nostack, preserves_flags)) };
    x
}

/// The thread whose trap the entry saved into the context at `ctx` (the trap entry passes the
/// address `sscratch` held): the current thread, `k.cur_thread` (debug builds check it),
/// without a load. The context is the first field of a TCB, so its address is the TCB's.
#[inline(always)]
pub fn trapped_thread(k: &crate::state::Kernel, ctx: u64) -> crate::object::tcb::TcbRef {
    const _: () = assert!(core::mem::offset_of!(crate::object::tcb::Tcb, context) == 0);
    // SAFETY: `sscratch` holds the context of the thread the kernel last returned to
    // (`restore_user_context` and the fastpath's exit write it), which is the current
    // thread: only the kernel switches threads, and it does so before such a return. So
    // `ctx` is the address of a live TCB, inside the kernel window and aligned.
    let t = unsafe { crate::mem::PPtr::from_addr(ctx as usize) };
    debug_assert!(t == k.cur_thread);
    t
}

/// Whether the IPC fastpath checks the message info shifted left by 52 against the bound
/// kept in `Kernel::fastpath_info_bound` rather than its low 12 bits against 4 (riscv64: a 12-bit mask is no `andi` immediate, the compare against the shifted bound is one instruction fewer).
pub const FASTPATH_INFO_BOUND_LOADED: bool = true;

/// `x >> (s mod 64)` and `x << (s mod 64)`: one `srl`/`sll`, which use only the low 6 bits
/// of `s`. In Rust a shift amount used by shifts in several blocks is masked once and kept
/// in a register (an `andi` LLVM cannot drop); these take `s` as it is (the IPC fastpath's
/// one-level CSpace lookup, whose radix sits under other bits of the cap word).
#[inline(always)]
pub fn shr_mod64(x: u64, s: u64) -> u64 {
    let r;
    // SAFETY: one shift between registers: no memory, no other register.
    unsafe {
        asm!("srl {0}, {1}, {2}", lateout(reg) r, in(reg) x, in(reg) s,
             options(pure, nomem, nostack, preserves_flags))
    };
    r
}

/// See [`shr_mod64`].
#[inline(always)]
pub fn shl_mod64(x: u64, s: u64) -> u64 {
    let r;
    // SAFETY: as in `shr_mod64`.
    unsafe {
        asm!("sll {0}, {1}, {2}", lateout(reg) r, in(reg) x, in(reg) s,
             options(pure, nomem, nostack, preserves_flags))
    };
    r
}

/// seL4's `setVMRoot`: switches to the VSpace that thread `t` runs in, or to the kernel's own
/// page table (ASID 0) if it has no valid one (any user access then faults).
pub fn set_vm_root(k: &crate::state::Kernel, t: crate::object::tcb::TcbRef) {
    let (gen, cached) = t.with(|x| (x.vm_gen, x.arch.vm_satp));
    let satp = if gen == k.vm_gen {
        cached
    } else {
        let satp = match super::vspace::vm_root_of(k, t) {
            Some((root_pt_paddr, asid)) => satp_for(root_pt_paddr, asid),
            None => satp_for(kernel_root_page_table_paddr(), 0),
        };
        t.with(|x| {
            x.arch.vm_satp = satp;
            x.vm_gen = k.vm_gen;
        });
        satp
    };
    write_satp(satp);
}

/// The kernel-virtual address of the kernel's Sv39 root page table (4 KiB, in the kernel image's
/// `.bss`, reached at `0xFFFF_FFFF_8xxx_xxxx`; [`pptr_to_paddr`] converts it). It is the table in
/// use since boot and has no lower-half (user) entries after boot; user VSpaces copy its entries
/// 256..=511. Always `Some` on the machine (the host version has no such table).
pub fn kernel_root_page_table() -> Option<crate::arch::riscv64::vspace::PtRef> {
    // SAFETY: the kernel's root page table is a 4 KiB-aligned static table of the kernel
    // image, a `PageTable` for the kernel's lifetime (only its user half is ever empty).
    Some(unsafe { crate::mem::PPtr::from_addr(boot::kernel_root_pt_addr()) })
}

/// Flushes the TLB entry of the page at `vaddr` in address space `asid` (the name the kernel core
/// uses; same as [`sfence_vma_page`]).
pub fn flush_page(vaddr: u64, asid: u16) {
    sfence_vma_page(vaddr as usize, asid);
}

/// Flushes the TLB entries of address space `asid` (the name the kernel core uses; same as
/// [`sfence_vma_asid`]).
pub fn flush_asid(asid: u16) {
    sfence_vma_asid(asid);
}

/// Flushes every TLB entry of every address space (`sfence.vma zero, zero`).
pub fn flush_all() {
    // SAFETY: a TLB flush only affects address-translation caching.
    unsafe { asm!("sfence.vma zero, zero", options(nostack)) };
}

/// Flushes the TLB entries of address space `asid` (global mappings stay).
pub fn sfence_vma_asid(asid: u16) {
    // SAFETY: a TLB flush only affects address-translation caching.
    unsafe { asm!("sfence.vma zero, {0}", in(reg) usize::from(asid), options(nostack)) };
}

/// Flushes the TLB entries for the page containing `vaddr` in address space `asid`.
pub fn sfence_vma_page(vaddr: usize, asid: u16) {
    // SAFETY: a TLB flush only affects address-translation caching.
    unsafe {
        asm!("sfence.vma {0}, {1}", in(reg) vaddr, in(reg) usize::from(asid), options(nostack))
    };
}

/// Sets up the platform's devices before the root task is created: preemption points ask
/// [`irq_pending`], and the PLIC (if the device tree has one) starts with every source masked.
pub fn init_platform(k: &mut crate::state::Kernel, p: &super::platform::Platform) {
    k.irq_pending = irq_pending;
    if let Some(plic) = p.plic {
        plic::init(plic.base, plic.ndev);
    }
}

/// Whether a supervisor timer or external interrupt is pending (`sip.STIP | sip.SEIP`); the
/// kernel runs with interrupts disabled, so preemption points ask this (seL4's `isIRQPending`).
pub fn irq_pending() -> bool {
    const SIP_STIP_SEIP: usize = (1 << 5) | (1 << 9);
    let sip: usize;
    // SAFETY: reading `sip` has no side effect.
    unsafe { asm!("csrr {0}, sip", out(reg) sip, options(nomem, nostack)) };
    sip & SIP_STIP_SEIP != 0
}

/// The `cycle` counter (seL4 riscv `timestamp()`, `rdcycle`; under QEMU's `-icount` it counts
/// instructions), for utilisation accounting.
#[cfg(feature = "track_utilisation")]
#[inline(always)]
pub fn timestamp() -> u64 {
    let v: u64;
    // SAFETY: reading a counter CSR has no side effect (OpenSBI grants S-mode access).
    unsafe { asm!("rdcycle {0}", out(reg) v, options(nomem, nostack)) };
    v
}

/// The `time` counter (ticks at the device tree's `timebase-frequency`).
pub fn read_time() -> u64 {
    let v: u64;
    // SAFETY: reading a counter CSR has no side effect (OpenSBI grants S-mode access).
    unsafe { asm!("rdtime {0}", out(reg) v, options(nomem, nostack)) };
    v
}

/// Timer ticks between kernel timer interrupts: `TIMER_TICK_MS` of the 10 MHz timebase
/// (non-MCS: MCS has no tick).
#[cfg(not(feature = "mcs"))]
pub const TIMER_RELOAD: u64 =
    abi::platform::current::TIMER_FREQUENCY / 1000 * abi::config::TIMER_TICK_MS;

/// Arms the kernel timer for the next tick (`resetTimer`, non-MCS).
#[cfg(not(feature = "mcs"))]
pub fn reset_timer() {
    sbi::set_timer(read_time() + TIMER_RELOAD);
}

/// `getCurrentTime` (MCS): the `time` counter, in ticks.
#[cfg(feature = "mcs")]
#[inline(always)]
pub fn get_current_time() -> u64 {
    read_time()
}

/// `setDeadline` (MCS): the one-shot timer interrupt fires when `time` reaches `deadline`
/// (absolute ticks; one in the past fires at once). Setting it clears a pending one.
#[cfg(feature = "mcs")]
pub fn set_deadline(deadline: u64) {
    sbi::set_timer(deadline);
}

/// `ackDeadlineIRQ` (MCS): nothing on RISC-V (the next [`set_deadline`] clears the interrupt).
#[cfg(feature = "mcs")]
#[inline(always)]
pub fn ack_deadline_irq() {}

/// The idle loop's wait: sleeps until an interrupt is pending (interrupts stay masked in the
/// kernel; `wfi` wakes on any pending interrupt enabled in `sie`) and returns which (timer
/// first).
pub fn wait_for_interrupt() -> crate::entry::Interrupt {
    use super::cause::{interrupt, IRQ_S_EXTERNAL, IRQ_S_TIMER};
    loop {
        // SAFETY: `wfi` only waits; with sstatus.SIE clear no trap is taken.
        unsafe { asm!("wfi", options(nomem, nostack)) };
        let sip: usize;
        // SAFETY: reading `sip` has no side effect.
        unsafe { asm!("csrr {0}, sip", out(reg) sip, options(nomem, nostack)) };
        if sip & (1 << IRQ_S_TIMER) != 0 {
            return interrupt(IRQ_S_TIMER);
        }
        if sip & (1 << IRQ_S_EXTERNAL) != 0 {
            return interrupt(IRQ_S_EXTERNAL);
        }
    }
}

/// Stores the FPU registers into `s` (see [`fpu::save`]).
pub fn fpu_save(s: &mut crate::arch::riscv64::context::FpuState) {
    fpu::save(s)
}

/// Loads the FPU registers from `s` (see [`fpu::load`]).
pub fn fpu_load(s: &crate::arch::riscv64::context::FpuState) {
    fpu::load(s)
}

/// Masks or unmasks a device interrupt at the PLIC.
pub fn irq_mask(irq: usize, disable: bool) {
    plic::mask(irq, disable)
}

/// `setIRQTrigger`: QEMU's PLIC has no trigger configuration (seL4 has no
/// `HAVE_SET_TRIGGER` for it): nothing to do.
pub fn set_irq_trigger(_irq: usize, _edge: bool) {}

/// Claims a pending device interrupt from the PLIC.
pub fn irq_claim() -> Option<usize> {
    plic::claim()
}
