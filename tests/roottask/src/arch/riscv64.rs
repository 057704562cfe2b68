//! riscv64: the instructions the fault tests run (`ecall`, `unimp`, `ebreak`, `ld`, `sd`,
//! `fcvt.d.l`) and what seL4 reports for them: exception numbers are `scause` values
//! (`handleUserLevelFault(scause, 0)`), a VM fault's FSR is the access-fault cause
//! (`handleVMFault`: 5 load, 7 store, 1 fetch), whatever the page tables held.

use core::arch::asm;

use abi::user_context::{idx, UserContext};
use abi::Word;

use super::{layout, Words};

/// Bytes of each instruction the tests make fault (none is compressed).
pub const INSN: Word = 4;

/// The message index of the unknown-syscall message's first argument register (`A0`).
pub const UNKNOWN_SYSCALL_ARG0: usize = layout::unknown_syscall::A0;

/// The riscv64 words of the UnknownSyscall message besides IP, SP, arguments, number: RA.
pub(super) fn unknown_syscall_extra(m: &mut Words, _ip: Word, r: &UserContext, _n: Word) {
    m.w[layout::unknown_syscall::RA] = r.regs[idx::RA];
}

/// riscv64 has no other UserException words.
pub(super) fn user_exception_extra(_m: &mut Words, _r: &UserContext) {}

/// `scause` 2, illegal instruction: `unimp`, and floating point while the FPU is off.
pub const ILLEGAL_INSTRUCTION: Word = 2;
/// The exception number of a floating-point instruction with the FPU disabled (`sstatus.FS`
/// off: an illegal instruction).
pub const FPU_DISABLED: Word = 2;
/// `scause` 3, breakpoint (`ebreak`).
pub const BREAKPOINT: Word = 3;

/// What a VM fault's FSR word says about the access (riscv64: only its kind, the
/// access-fault cause: load 5, store 7, fetch 1, for missing and forbidding mappings alike).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A load.
    Load,
    /// A store.
    Store,
    /// An instruction fetch.
    Fetch,
}

/// Why an access faults: no mapping, where the walk found an invalid entry covering
/// 2^`bits` bytes, or a mapping that forbids it, by a leaf covering 2^`bits` bytes (riscv64
/// reports neither).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// No translation.
    Missing(u32),
    /// A leaf without the right.
    Denied(u32),
}

/// The FSR word of a VM fault (`seL4_VMFault_FSR`).
pub fn vm_fsr(a: Access, _why: Why) -> Word {
    match a {
        Access::Load => 5,
        Access::Store => 7,
        Access::Fetch => 1,
    }
}

/// Whether `fsr` is the FSR of an `a` (the part of it that is not about the page tables).
pub fn vm_fsr_is(fsr: Word, a: Access) -> bool {
    fsr == vm_fsr(a, Why::Missing(0))
}

/// An unknown syscall `number` with a0..a6 = 0xa0..0xa6, the `ecall`'s address stored at
/// `slot`; returns (a0, a1) after it.
#[inline(always)]
pub fn unknown_syscall(number: Word, slot: usize) -> (Word, Word) {
    let (o0, o1): (Word, Word);
    // SAFETY: an ecall the kernel turns into a fault; the handler's reply may change pc, sp,
    // ra and a0..a7 (declared clobbered, or restored to the same values by the tests).
    unsafe {
        asm!(
            "lla {tmp}, 2f",
            "sd {tmp}, 0({slot})",
            "2: ecall",
            slot = in(reg) slot,
            tmp = out(reg) _,
            inout("a0") 0xa0usize => o0,
            inout("a1") 0xa1usize => o1,
            inout("a2") 0xa2usize => _,
            inout("a3") 0xa3usize => _,
            inout("a4") 0xa4usize => _,
            inout("a5") 0xa5usize => _,
            inout("a6") 0xa6usize => _,
            inout("a7") number => _,
            out("ra") _,
        );
    }
    (o0 as Word, o1 as Word)
}

/// An illegal instruction (`unimp`, 4 bytes) whose address goes to `slot`.
#[inline(always)]
pub fn illegal_instruction(slot: usize) {
    // SAFETY: the instruction traps; the handler moves the pc past it.
    unsafe {
        asm!(
            "lla {tmp}, 2f",
            "sd {tmp}, 0({slot})",
            ".option push",
            ".option norvc",
            "2: unimp",
            ".option pop",
            slot = in(reg) slot,
            tmp = out(reg) _,
        );
    }
}

/// A breakpoint (`ebreak`, 4 bytes) whose address goes to `slot`.
#[inline(always)]
pub fn breakpoint(slot: usize) {
    // SAFETY: the instruction traps; the handler moves the pc past it.
    unsafe {
        asm!(
            "lla {tmp}, 2f",
            "sd {tmp}, 0({slot})",
            ".option push",
            ".option norvc",
            "2: ebreak",
            ".option pop",
            slot = in(reg) slot,
            tmp = out(reg) _,
        );
    }
}

/// Load the word at `addr` into `v` (left as it is if the handler skips the load), the
/// load's address stored at `slot`.
#[inline(always)]
pub fn load(addr: Word, v: &mut Word, slot: usize) {
    // SAFETY: a load that may fault; the handler moves the pc past it.
    unsafe {
        asm!(
            "lla {tmp}, 2f",
            "sd {tmp}, 0({slot})",
            ".option push",
            ".option norvc",
            "2: ld {v}, 0({a})",
            ".option pop",
            slot = in(reg) slot,
            tmp = out(reg) _,
            a = in(reg) addr,
            v = inout(reg) *v,
        );
    }
}

/// Store `v` at `addr`, the store's address stored at `slot`.
#[inline(always)]
pub fn store(addr: Word, v: Word, slot: usize) {
    // SAFETY: a store that may fault; the handler moves the pc past it.
    unsafe {
        asm!(
            "lla {tmp}, 2f",
            "sd {tmp}, 0({slot})",
            ".option push",
            ".option norvc",
            "2: sd {v}, 0({a})",
            ".option pop",
            slot = in(reg) slot,
            tmp = out(reg) _,
            a = in(reg) addr,
            v = in(reg) v,
        );
    }
}

/// 2 * `x` computed in double precision (the first floating-point instruction's address
/// stored at `slot`).
#[inline(always)]
pub fn fp_double(x: Word, slot: usize) -> Word {
    let r: Word;
    // SAFETY: floating-point arithmetic on a scratch register; the first instruction traps
    // while the thread's FPU is disabled.
    unsafe {
        asm!(
            "lla {tmp}, 2f",
            "sd {tmp}, 0({slot})",
            "2: fcvt.d.l ft0, {x}",
            "fadd.d ft0, ft0, ft0",
            "fcvt.l.d {r}, ft0, rtz",
            slot = in(reg) slot,
            tmp = out(reg) _,
            x = in(reg) x,
            r = out(reg) r,
            out("ft0") _,
        );
    }
    r
}

/// Make the instructions just written to memory visible to instruction fetches of this
/// hart (`fence.i`).
pub fn sync_icache() {
    // SAFETY: an instruction fence, no memory access.
    unsafe { asm!("fence.i") };
}

/// A `ret` instruction word (`jalr x0, 0(ra)`).
pub const RET: u32 = 0x0000_8067;

/// The register a function's return address is in (`ra`).
pub const RETURN_ADDRESS: usize = idx::RA;

/// The console UART, an NS16550A (QEMU `virt`: at 0x1000_0000, PLIC source 10), driven in
/// loopback mode by the interrupt tests: with `MCR` bit 4 set, a byte written to the transmit
/// register lands in the UART's own receiver, and with the receive interrupt enabled (`IER`
/// bit 0) the UART raises its (level-triggered) interrupt line at once, inside the store
/// instruction, until the byte is read.
pub mod uart {
    use abi::Word;

    /// Its device tree `compatible`, where `/chosen` names no `stdout-path`.
    pub const COMPATIBLE: &str = "ns16550a";
    /// Whether bytes sent in loopback mode also leave on the serial line: not on an NS16550A.
    pub const ECHOES_LOOPBACK: bool = false;
    /// Physical address and IRQ where the device tree says nothing.
    pub const DEFAULT: (u64, Word) = (0x1000_0000, 10);

    /// The IRQ number of a device tree `interrupts` specifier (one cell: the PLIC source).
    pub fn irq_of(cells: &[u32]) -> Option<Word> {
        cells.first().map(|&c| c as Word)
    }

    const RBR_THR: usize = 0;
    const IER: usize = 1;
    const MCR: usize = 4;
    const LSR: usize = 5;
    const IER_RDI: u8 = 1 << 0;
    const MCR_LOOP: u8 = 1 << 4;
    const LSR_DR: u8 = 1 << 0;

    fn read(base: usize, off: usize) -> u8 {
        // SAFETY: the caller maps the UART's register page at `base`.
        unsafe { core::ptr::read_volatile((base + off) as *const u8) }
    }

    fn write(base: usize, off: usize, v: u8) {
        // SAFETY: as in `read`.
        unsafe { core::ptr::write_volatile((base + off) as *mut u8, v) }
    }

    /// The registers loopback mode changes, to put back.
    #[derive(Clone, Copy, Debug)]
    pub struct Saved {
        ier: u8,
        mcr: u8,
    }

    /// Loopback mode, the receive interrupt off; returns what to restore.
    pub fn loopback_on(base: usize) -> Saved {
        let s = Saved {
            ier: read(base, IER),
            mcr: read(base, MCR),
        };
        write(base, IER, 0);
        write(base, MCR, s.mcr | MCR_LOOP);
        s
    }

    /// Out of loopback mode, as before [`loopback_on`] (call with the receiver drained and the
    /// interrupt off).
    pub fn restore(base: usize, s: Saved) {
        write(base, MCR, s.mcr);
        write(base, IER, s.ier);
    }

    /// The receive interrupt on or off.
    pub fn rx_irq(base: usize, on: bool) {
        write(base, IER, if on { IER_RDI } else { 0 });
    }

    /// Whether the receiver holds a byte.
    pub fn rx_ready(base: usize) -> bool {
        read(base, LSR) & LSR_DR != 0
    }

    /// The byte in the receiver (reading it empties the receiver).
    pub fn rx(base: usize) -> u8 {
        read(base, RBR_THR)
    }

    /// Transmit `b` (in loopback mode: into the receiver).
    pub fn tx(base: usize, b: u8) {
        write(base, RBR_THR, b)
    }
}

/// The IRQ numbers IRQControl checks (`Arch_checkIRQ` in `src/arch/riscv/object/interrupt.c`:
/// RangeError with bounds 1 and `maxIRQ`; `maxIRQ` is the kernel timer's IRQ,
/// `KERNEL_TIMER_IRQ = PLIC_MAX_IRQ + 1`, 96 on qemu-riscv-virt, active from boot).
pub mod irq {
    use abi::Word;

    /// The smallest IRQ number accepted.
    pub const MIN: Word = 1;
    /// `maxIRQ`.
    pub const MAX: Word = abi::platform::current::MAX_IRQ as Word;
    /// The kernel timer's IRQ (`IRQTimer` from boot: RevokeFirst).
    pub const TIMER: Word = MAX;
    /// IRQs nothing uses, each accepted by IRQControl_Get: the PLIC's last source.
    pub const FREE: &[Word] = &[MAX - 1];
    /// IRQs out of range.
    pub const OUT_OF_RANGE: &[Word] = &[0, MAX + 1];
}

/// What the VSpace tests depend on (`src/arch/riscv/kernel/vspace.c`, Sv39).
pub mod vspace {
    use abi::{ObjectType, Word};
    use libsel4::ErrorDetail as D;

    /// The object type of a VSpace root: a page table.
    pub const OBJECT: ObjectType = ObjectType::PageTable;
    /// The 1 GiB frame type (`seL4_RISCV_Giga_Page`).
    pub const HUGE_PAGE: ObjectType = ObjectType::GigaPage;
    /// The first user address a frame or page table may not start at (`seL4_UserTop`,
    /// exclusive on riscv64: `vaddr >= USER_TOP` is refused).
    pub const END: Word = abi::object::USER_TOP;
    /// Bytes (log2) an entry of the root table covers (the bits left of a lookup that finds
    /// nothing below the root).
    pub const ROOT_ENTRY_BITS: u64 = 30;
    /// `decodeRISCVFrameInvocation` checks the bounds before the alignment.
    pub const BOUNDS_BEFORE_ALIGNMENT: bool = true;
    /// What `Page_Map` says where a page of the same size is mapped already: DeleteFirst
    /// (`pte_ptr_get_valid`).
    pub const MAP_OVER_MAPPING: Option<D> = Some(D::DeleteFirst);
    /// `PageTable_Unmap` of a VSpace root (a page table cap with an ASID): RevokeFirst.
    pub const UNMAP_VSPACE_ROOT: D = D::RevokeFirst;
    /// The invocation labels of the VSpace objects (`RISCVPageMap`, ...).
    pub mod label {
        use abi::InvocationLabel as L;
        /// `RISCVPageMap`
        pub const PAGE_MAP: L = L::RISCVPageMap;
        /// `RISCVPageUnmap`
        pub const PAGE_UNMAP: L = L::RISCVPageUnmap;
        /// `RISCVPageGetAddress`
        pub const PAGE_GET_ADDRESS: L = L::RISCVPageGetAddress;
        /// `RISCVPageTableMap`
        pub const PAGE_TABLE_MAP: L = L::RISCVPageTableMap;
        /// `RISCVPageTableUnmap`
        pub const PAGE_TABLE_UNMAP: L = L::RISCVPageTableUnmap;
        /// `RISCVASIDControlMakePool`
        pub const ASID_CONTROL_MAKE_POOL: L = L::RISCVASIDControlMakePool;
        /// `RISCVASIDPoolAssign`
        pub const ASID_POOL_ASSIGN: L = L::RISCVASIDPoolAssign;
    }
}

/// Make the instructions just written into the mapped 4 KiB frame `frame` fetchable: nothing
/// to do for the kernel on riscv64 (the thread that runs them executes `fence.i`,
/// [`sync_icache`]).
pub fn code_written(_frame: abi::CPtr) -> Result<(), abi::Error> {
    Ok(())
}
