//! aarch64: the instructions the fault tests run (`svc`, `udf`, `brk`, `ldr`, `str`,
//! `scvtf`) and what seL4 reports for them. On aarch64 seL4 passes the whole `ESR_EL1` on:
//! as a UserException's Number (`c_handle_undefined_instruction`: `handleUserLevelFault(esr,
//! 0)`, for every EL0 synchronous exception but `svc` and aborts, `lower_el_sync` in
//! `src/arch/arm/64/traps.S`) and as a VM fault's FSR (`handleVMFault` in
//! `src/arch/arm/64/kernel/vspace.c`: `getESR()` for data and instruction aborts). The ESR
//! values are the architecture's (Arm ARM D17.2.37 `ESR_EL1`: EC in bits 31:26, IL bit 25 for
//! 32-bit instructions, the ISS below), as QEMU's cortex-a53 reports them for EL0 exceptions
//! taken to EL1 (aborts without a valid instruction syndrome: ISV is 0 for aborts taken to
//! EL1).

use core::arch::asm;

use abi::user_context::{idx, UserContext};
use abi::Word;

use super::{layout, Words};

/// Bytes of each instruction the tests make fault.
pub const INSN: Word = 4;

/// The message index of the unknown-syscall message's first argument register (`X0`).
pub const UNKNOWN_SYSCALL_ARG0: usize = layout::unknown_syscall::X0;

/// The aarch64 words of the UnknownSyscall message besides IP, SP, arguments, number: X7
/// (the number's register), LR (`ELR_EL1`: the address after the `svc`, `lel_syscall` stores
/// `ELR_EL1 - 4` as FaultIP) and SPSR.
pub(super) fn unknown_syscall_extra(m: &mut Words, ip: Word, r: &UserContext, n: Word) {
    use layout::unknown_syscall as L;
    m.w[L::X0 + 7] = n;
    m.w[L::LR] = ip + 4;
    m.w[L::SPSR] = r.regs[idx::SPSR];
}

/// The aarch64 UserException word besides IP, SP, Number, Code: SPSR.
pub(super) fn user_exception_extra(m: &mut Words, r: &UserContext) {
    m.w[layout::user_exception::SPSR] = r.regs[idx::SPSR];
}

/// `ESR_EL1.IL`: the trapped instruction was 32 bits long.
const IL: Word = 1 << 25;
/// `ESR_EL1.EC`, bits 31:26.
const fn ec(class: Word) -> Word {
    class << 26
}

/// `udf #0`: EC 0x00 (unknown reason), IL.
pub const ILLEGAL_INSTRUCTION: Word = ec(0x00) | IL;
/// A floating-point instruction while `CPACR_EL1.FPEN` traps EL0 (`seL4_TCBFlag_fpuDisabled`):
/// EC 0x07, IL, and the ISS an AArch64 instruction gives (CV 1, COND 0b1110).
pub const FPU_DISABLED: Word = ec(0x07) | IL | 1 << 24 | 0xe << 20;
/// `brk #0`: EC 0x3c (BRK in AArch64), IL, the immediate 0.
pub const BREAKPOINT: Word = ec(0x3c) | IL;

/// What kind of access faulted (the FSR's exception class and `WnR`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A load: data abort from a lower EL (EC 0x24).
    Load,
    /// A store: data abort with `WnR` (bit 6).
    Store,
    /// An instruction fetch: instruction abort from a lower EL (EC 0x20).
    Fetch,
}

/// Why an access faults, which the FSR's fault status code says: no mapping, where the walk
/// found an invalid entry covering 2^`bits` bytes (a translation fault at that level), or a
/// mapping that forbids it, by a leaf covering 2^`bits` bytes (a permission fault).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// No translation.
    Missing(u32),
    /// A leaf without the right.
    Denied(u32),
}

/// The translation table level of an entry covering 2^`bits` bytes (4 KiB granule, 48-bit
/// VA: 39 → 0, 30 → 1, 21 → 2, 12 → 3).
const fn level(bits: u32) -> Word {
    ((39 - bits) / 9) as Word
}

/// The FSR word of a VM fault (`seL4_VMFault_FSR`: the whole `ESR_EL1`): EC, IL, `WnR` for
/// stores, and the fault status code (translation fault level n: 0b0001nn, permission fault
/// level n: 0b0011nn).
pub fn vm_fsr(a: Access, why: Why) -> Word {
    let class = match a {
        Access::Fetch => ec(0x20),
        _ => ec(0x24),
    };
    let wnr = if a == Access::Store { 1 << 6 } else { 0 };
    let fsc = match why {
        Why::Missing(bits) => 0b0001_00 | level(bits),
        Why::Denied(bits) => 0b0011_00 | level(bits),
    };
    class | IL | wnr | fsc
}

/// Whether `fsr` is the FSR of an `a` that was refused by a translation or permission fault
/// at any level (everything but the level).
pub fn vm_fsr_is(fsr: Word, a: Access) -> bool {
    let level_free = fsr & !0b11;
    level_free == vm_fsr(a, Why::Missing(39)) || level_free == vm_fsr(a, Why::Denied(39))
}

/// An unknown syscall `number` (in x7) with x0..x6 = 0xa0..0xa6, the `svc`'s address stored
/// at `slot`; returns (x0, x1) after it.
#[inline(always)]
pub fn unknown_syscall(number: Word, slot: usize) -> (Word, Word) {
    let (o0, o1): (Word, Word);
    // SAFETY: an svc the kernel turns into a fault; the handler's reply may change pc, sp,
    // the flags and x0..x7 (declared clobbered, or restored to the same values by the tests).
    unsafe {
        asm!(
            "adr {tmp}, 2f",
            "str {tmp}, [{slot}]",
            "2: svc #0",
            slot = in(reg) slot,
            tmp = out(reg) _,
            inout("x0") 0xa0usize => o0,
            inout("x1") 0xa1usize => o1,
            inout("x2") 0xa2usize => _,
            inout("x3") 0xa3usize => _,
            inout("x4") 0xa4usize => _,
            inout("x5") 0xa5usize => _,
            inout("x6") 0xa6usize => _,
            inout("x7") number => _,
        );
    }
    (o0 as Word, o1 as Word)
}

/// A permanently undefined instruction (`udf #0`) whose address goes to `slot`.
#[inline(always)]
pub fn illegal_instruction(slot: usize) {
    // SAFETY: the instruction traps; the handler moves the pc past it.
    unsafe {
        asm!(
            "adr {tmp}, 2f",
            "str {tmp}, [{slot}]",
            "2: udf #0",
            slot = in(reg) slot,
            tmp = out(reg) _,
        );
    }
}

/// A breakpoint (`brk #0`) whose address goes to `slot`.
#[inline(always)]
pub fn breakpoint(slot: usize) {
    // SAFETY: the instruction traps; the handler moves the pc past it.
    unsafe {
        asm!(
            "adr {tmp}, 2f",
            "str {tmp}, [{slot}]",
            "2: brk #0",
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
            "adr {tmp}, 2f",
            "str {tmp}, [{slot}]",
            "2: ldr {v}, [{a}]",
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
            "adr {tmp}, 2f",
            "str {tmp}, [{slot}]",
            "2: str {v}, [{a}]",
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
            "adr {tmp}, 2f",
            "str {tmp}, [{slot}]",
            "2: scvtf d0, {x}",
            "fadd d0, d0, d0",
            "fcvtzs {r}, d0",
            slot = in(reg) slot,
            tmp = out(reg) _,
            x = in(reg) x,
            r = out(reg) r,
            out("v0") _,
        );
    }
    r
}

/// Make instructions written to memory visible to this thread's instruction fetches, once
/// the caches have been made coherent for them (`seL4_ARM_Page_Unify_Instruction`): a
/// context synchronisation (`isb`).
pub fn sync_icache() {
    // SAFETY: a barrier, no memory access.
    unsafe { asm!("dsb ish", "isb") };
}

/// A `ret` instruction word.
pub const RET: u32 = 0xd65f_03c0;

/// The register a function's return address is in (`x30`).
pub const RETURN_ADDRESS: usize = idx::X30;

/// The console UART, an Arm PL011 (QEMU `virt`: at 0x0900_0000, SPI 1 = INTID 33), driven in
/// loopback mode by the interrupt tests: with `UARTCR.LBE` (bit 7) set, a byte written to
/// `UARTDR` lands in the UART's own receiver; with the FIFOs off (`UARTLCR_H.FEN`, bit 4,
/// clear) one byte sets the receive interrupt (`UARTRIS.RXRIS`), and with it unmasked
/// (`UARTIMSC.RXIM`, bit 4) the UART raises its (level-triggered) interrupt line at once,
/// inside the store instruction, until the byte is read (PL011 TRM, DDI 0183G, 3.3).
pub mod uart {
    use abi::Word;

    /// Its device tree `compatible`, where `/chosen` names no `stdout-path`.
    pub const COMPATIBLE: &str = "arm,pl011";
    /// Whether bytes sent in loopback mode also leave on the serial line: QEMU's PL011 sends
    /// them on as well.
    pub const ECHOES_LOOPBACK: bool = true;
    /// Physical address and IRQ (GIC INTID) where the device tree says nothing.
    pub const DEFAULT: (u64, Word) = (0x0900_0000, 33);

    /// The GIC INTID of a device tree `interrupts` specifier (three cells: 0 for an SPI, 1 for
    /// a PPI; the number; the flags): SPIs from 32, PPIs from 16.
    pub fn irq_of(cells: &[u32]) -> Option<Word> {
        match cells {
            [0, n, _, ..] => Some(32 + *n as Word),
            [1, n, _, ..] => Some(16 + *n as Word),
            _ => None,
        }
    }

    const DR: usize = 0x00;
    const FR: usize = 0x18;
    const LCR_H: usize = 0x2c;
    const CR: usize = 0x30;
    const IMSC: usize = 0x38;
    const FR_RXFE: u32 = 1 << 4;
    const LCR_H_FEN: u32 = 1 << 4;
    const CR_UARTEN: u32 = 1 << 0;
    const CR_LBE: u32 = 1 << 7;
    const CR_TXE: u32 = 1 << 8;
    const CR_RXE: u32 = 1 << 9;
    const IMSC_RXIM: u32 = 1 << 4;

    fn read(base: usize, off: usize) -> u32 {
        // SAFETY: the caller maps the UART's register page at `base`.
        unsafe { core::ptr::read_volatile((base + off) as *const u32) }
    }

    fn write(base: usize, off: usize, v: u32) {
        // SAFETY: as in `read`.
        unsafe { core::ptr::write_volatile((base + off) as *mut u32, v) }
    }

    /// The registers loopback mode changes, to put back.
    #[derive(Clone, Copy, Debug)]
    pub struct Saved {
        imsc: u32,
        lcr_h: u32,
        cr: u32,
    }

    /// Loopback mode with the FIFOs off, the receive interrupt masked; returns what to
    /// restore.
    pub fn loopback_on(base: usize) -> Saved {
        let s = Saved {
            imsc: read(base, IMSC),
            lcr_h: read(base, LCR_H),
            cr: read(base, CR),
        };
        write(base, IMSC, 0);
        write(base, LCR_H, s.lcr_h & !LCR_H_FEN);
        write(base, CR, s.cr | CR_UARTEN | CR_TXE | CR_RXE | CR_LBE);
        s
    }

    /// Out of loopback mode, as before [`loopback_on`] (call with the receiver drained and the
    /// interrupt masked).
    pub fn restore(base: usize, s: Saved) {
        write(base, CR, s.cr);
        write(base, LCR_H, s.lcr_h);
        write(base, IMSC, s.imsc);
    }

    /// The receive interrupt unmasked or masked.
    pub fn rx_irq(base: usize, on: bool) {
        write(base, IMSC, if on { IMSC_RXIM } else { 0 });
    }

    /// Whether the receiver holds a byte.
    pub fn rx_ready(base: usize) -> bool {
        read(base, FR) & FR_RXFE == 0
    }

    /// The byte in the receiver (reading it empties the receiver).
    pub fn rx(base: usize) -> u8 {
        read(base, DR) as u8
    }

    /// Transmit `b` (in loopback mode: into the receiver).
    pub fn tx(base: usize, b: u8) {
        write(base, DR, b as u32)
    }
}

/// The IRQ numbers (GIC INTIDs) IRQControl checks (`Arch_checkIRQ` in
/// `include/arch/arm/arch/object/interrupt.h`: RangeError with bounds 0 and `maxIRQ`, 159 on
/// qemu-arm-virt; SGIs and PPIs pass, non-SMP).
pub mod irq {
    use abi::Word;

    /// The smallest IRQ number accepted.
    pub const MIN: Word = 0;
    /// `maxIRQ`.
    pub const MAX: Word = abi::platform::current::MAX_IRQ as Word;
    /// The kernel timer's IRQ, the virtual timer PPI 27 (`KERNEL_TIMER_IRQ`, `IRQTimer` from
    /// boot: RevokeFirst).
    pub const TIMER: Word = abi::platform::current::KERNEL_TIMER_IRQ as Word;
    /// IRQs nothing uses, each accepted by IRQControl_Get: SGI 0, the first and last PPI but
    /// the timer's (16, 31; the physical timer 30 too), the first SPI (32) and the last INTID
    /// (`maxIRQ`).
    pub const FREE: &[Word] = &[0, 16, 30, 31, 32, MAX];
    /// IRQs out of range.
    pub const OUT_OF_RANGE: &[Word] = &[MAX + 1, 1023, 1 << 32];
}

/// What the VSpace tests depend on (`src/arch/arm/64/kernel/vspace.c`: 4 KiB granule, four
/// levels, 48-bit user addresses).
pub mod vspace {
    use abi::{ObjectType, Word};
    use libsel4::ErrorDetail as D;

    /// The object type of a VSpace root: `seL4_ARM_VSpaceObject` (the level-0 table).
    pub const OBJECT: ObjectType = ObjectType::VSpace;
    /// The 1 GiB frame type (`seL4_ARM_HugePageObject`).
    pub const HUGE_PAGE: ObjectType = ObjectType::HugePage;
    /// The first user address a frame or page table may not start at: `seL4_UserTop` + 1
    /// (`USER_TOP` is the last user address, refused only past it: `vaddr > USER_TOP`).
    pub const END: Word = abi::object::USER_TOP + 1;
    /// Bytes (log2) an entry of the root (level-0) table covers.
    pub const ROOT_ENTRY_BITS: u64 = 39;
    /// `decodeARMFrameInvocation` checks the alignment before the bounds.
    pub const BOUNDS_BEFORE_ALIGNMENT: bool = false;
    /// What `Page_Map` says where a page of the same size is mapped already: nothing, it
    /// replaces that mapping (`decodeARMFrameInvocation` only asks `lookupPTSlot` for the
    /// level).
    pub const MAP_OVER_MAPPING: Option<D> = None;
    /// `PageTable_Unmap` of a VSpace cap: IllegalOperation (`decodeARMVSpaceRootInvocation`
    /// takes only the flush labels).
    pub const UNMAP_VSPACE_ROOT: D = D::IllegalOperation;
    /// The invocation labels of the VSpace objects (`ARMPageMap`, ...).
    pub mod label {
        use abi::InvocationLabel as L;
        /// `ARMPageMap`
        pub const PAGE_MAP: L = L::ARMPageMap;
        /// `ARMPageUnmap`
        pub const PAGE_UNMAP: L = L::ARMPageUnmap;
        /// `ARMPageGetAddress`
        pub const PAGE_GET_ADDRESS: L = L::ARMPageGetAddress;
        /// `ARMPageTableMap`
        pub const PAGE_TABLE_MAP: L = L::ARMPageTableMap;
        /// `ARMPageTableUnmap`
        pub const PAGE_TABLE_UNMAP: L = L::ARMPageTableUnmap;
        /// `ARMASIDControlMakePool`
        pub const ASID_CONTROL_MAKE_POOL: L = L::ARMASIDControlMakePool;
        /// `ARMASIDPoolAssign`
        pub const ASID_POOL_ASSIGN: L = L::ARMASIDPoolAssign;
    }
}

/// Make the instructions just written into the mapped 4 KiB frame `frame` fetchable:
/// `seL4_ARM_Page_Unify_Instruction` of the whole frame (then the thread that runs them
/// synchronises, [`sync_icache`]).
pub fn code_written(frame: abi::CPtr) -> Result<(), abi::Error> {
    libsel4::sys::seL4_ARM_Page_Unify_Instruction(frame, 0, 4096)
}
