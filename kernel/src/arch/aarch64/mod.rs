//! AArch64 on QEMU `virt` (seL4's `qemu-arm-virt`: cortex-a53, GICv2, EL1 kernel without
//! hypervisor support).
//!
//! Two kinds of modules, as for riscv64:
//! - pure logic, compiled in host tests too (whatever architecture the host kernel simulates,
//!   so the aarch64 logic is tested on every `cargo test`): [`cause`] (ESR → `Event`),
//!   [`context`] (register layout and roles), [`cap`] (the caps and the hooks that see only
//!   them), [`vspace`] (descriptors, walks, ASIDs), [`objects`] (the VSpace invocations),
//!   [`platform`], [`timer`];
//! - what makes generic caps of this architecture's kinds or touches the machine, compiled
//!   only when aarch64 is the architecture built (`aarch64-unknown-none-softfloat`): [`boot`],
//!   [`capdl`], the `Cap` hooks below, and [`machine`].

pub mod cap;
pub mod cause;
pub mod context;
#[cfg(any(test, target_os = "none"))]
pub mod objects;
#[cfg(test)]
mod objects_tests;
pub mod platform;
pub mod timer;
pub mod vspace;

#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub mod boot;
#[cfg(all(target_arch = "aarch64", target_os = "none", feature = "debug_build"))]
pub mod capdl;
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
#[allow(unsafe_code)]
pub mod machine;

/// The architecture's name, for the boot banner.
pub const NAME: &str = "aarch64";

/// End of the kernel's window onto physical memory (seL4 `PADDR_TOP` = `PPTR_TOP - PPTR_BASE`
/// on aarch64 with a 39-bit kernel window: 511 GiB): only RAM below it can hold kernel objects.
pub const PADDR_TOP: u64 = 511 << 30;

/// The index of the highest set bit of `x` (not 0), for the scheduler's bitmap (seL4
/// `wordBits - 1 - clzl(x)`): one `clz` (the table riscv64 needs costs about 16 instructions
/// per lookup here, two lookups per choice of a thread).
#[inline(always)]
pub fn msb_index(x: u64) -> usize {
    debug_assert!(x != 0);
    63 - x.leading_zeros() as usize
}

/// What boot's memory plan takes from aarch64 on `qemu-arm-virt` (see
/// [`crate::boot::BootRules`]; defined here, not in the target-only [`boot`], so that host
/// tests hold it to seL4's boot on that platform): the kernel window ([`PADDR_TOP`]), device
/// untypeds below `CONFIG_PADDR_USER_DEVICE_TOP` (2^40, `CONFIG_ARM_PA_SIZE_BITS_40`), the
/// kernel's devices reserved in the 4 KiB pages seL4 arm `map_kernel_devices` maps each
/// `kernel_device_frames` entry with, `seL4_MaxUntypedBits` 47, `USER_TOP` (`seL4_UserTop`)
/// and the four-level tables (`arch_get_n_paging`). The RAM below the kernel image is not the
/// firmware's: seL4's `physBase` on `qemu-arm-virt` is the start of the device tree's RAM
/// (0x4000_0000, where its elfloader puts the kernel; seL4's build takes the RAM from the
/// device tree's memory less the `/reserved-memory` children marked `no-map`,
/// `tools/hardware/utils/memory.py`, and no
/// firmware stays resident); QEMU loads this kernel's `Image` 2 MiB higher, and below it lies
/// only QEMU's boot stub, done with once the kernel runs, so that RAM is RAM untyped.
pub const BOOT_RULES: crate::boot::BootRules = crate::boot::BootRules {
    paddr_top: PADDR_TOP,
    device_top: abi::platform::qemu_arm_virt::PADDR_USER_DEVICE_TOP,
    kernel_device_frame_bits: abi::arch::aarch64::PAGE_BITS,
    ram_below_kernel_is_firmware: false,
    max_untyped_bits: abi::arch::aarch64::MAX_UNTYPED_BITS,
    user_top: abi::arch::aarch64::USER_TOP,
    // Levels 1, 2 and 3 (512 GiB, 1 GiB and 2 MiB per table; `vspace::TABLE_LEVELS`).
    table_spans: &[
        vspace::level_bits(vspace::TABLE_LEVELS[0] - 1),
        vspace::level_bits(vspace::TABLE_LEVELS[1] - 1),
        vspace::level_bits(vspace::TABLE_LEVELS[2] - 1),
    ],
};

/// The root task's objects other than paging structures are the same size on both
/// architectures, so [`crate::boot::BootRules`] need not carry them.
const _: () = assert!(
    abi::arch::riscv64::TCB_BITS == abi::arch::aarch64::TCB_BITS
        && abi::arch::riscv64::VSPACE_BITS == abi::arch::aarch64::VSPACE_BITS
        && abi::arch::riscv64::PAGE_TABLE_BITS == abi::arch::aarch64::PAGE_TABLE_BITS
        && abi::arch::riscv64::ASID_POOL_BITS == abi::arch::aarch64::ASID_POOL_BITS
        && abi::arch::riscv64::PAGE_BITS == abi::arch::aarch64::PAGE_BITS
);

/// The machine operations the pure modules need beyond the generic contract: the machine's on
/// the target, stand-ins in host tests.
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub(crate) use machine as hw;

/// Host stand-ins for the machine operations the pure modules call.
#[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
pub(crate) mod hw {
    /// The SGIs raised, (INTID, target), for host tests.
    pub static SGIS: std::sync::Mutex<Vec<(u8, u32)>> = std::sync::Mutex::new(Vec::new());
    /// Records the SGI (host tests look at [`SGIS`]).
    pub fn send_sgi(irq: u8, target: u32) {
        SGIS.lock().unwrap().push((irq, target));
    }
    /// The SMCs made, x0..x7 as passed, for host tests.
    pub static SMCS: std::sync::Mutex<Vec<[u64; 8]>> = std::sync::Mutex::new(Vec::new());
    /// Records the SMC and answers as a stand-in monitor: x0..x7 come back in reverse order.
    pub fn smc_call(regs: [u64; 8]) -> [u64; 8] {
        SMCS.lock().unwrap().push(regs);
        let mut out = regs;
        out.reverse();
        out
    }
    /// Cache maintenance is not simulated.
    #[allow(clippy::too_many_arguments)]
    pub fn flush_user_range(
        _k: &crate::state::Kernel,
        _thread: crate::object::tcb::TcbRef,
        _op: super::objects::CacheOp,
        _vspace: super::vspace::PtRef,
        _asid: u16,
        _start: u64,
        _end: u64,
        _pstart: u64,
    ) {
    }
}

/// `Arch_checkIRQ` (seL4 `include/arch/arm/arch/object/interrupt.h`): IRQControl issues
/// handlers for interrupts 0..=`maxIRQ`; otherwise `RangeError(0, maxIRQ)`.
pub fn check_irq(irq: u64) -> Result<(), crate::error::SyscallError> {
    use abi::platform::qemu_arm_virt::MAX_IRQ;
    if irq > MAX_IRQ as u64 {
        return Err(crate::user_err!(
            crate::error::SyscallError::RangeError(0, MAX_IRQ as u64),
            "Rejecting request for IRQ {irq}. IRQ is out of range [0..{MAX_IRQ}]."
        ));
    }
    Ok(())
}

/// The hooks of the arch contract that take or make a generic `Cap` (which holds this
/// architecture's [`cap::ArchCap`] only when aarch64 is the architecture built).
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub mod glue {
    use super::cap::ArchCap;
    use crate::cap::Cap;
    use crate::cte::Slot;
    use crate::error::SyscallError;
    use crate::invocation::InvocationArgs;
    use crate::state::Kernel;

    /// The VSpace of a VTABLE cap (`isValidVTableRoot`: a VSpace cap with an ASID); `None`
    /// for any other cap.
    pub fn vspace_root(c: &Cap) -> Option<super::vspace::PtRef> {
        match *c {
            Cap::Arch(ArchCap::VSpace {
                base,
                asid: Some(_),
            }) => Some(base),
            _ => None,
        }
    }

    /// Arm `checkValidIPCBuffer(vptr, cap)` (`src/arch/arm/64/kernel/vspace.c`,
    /// [`crate::arch::vmcap::check_valid_ipc_buffer`]): `IllegalOperation` unless a non-device
    /// frame cap, `AlignmentError` unless `vptr` is aligned to `seL4_IPCBufferSizeBits`.
    pub fn check_valid_ipc_buffer(vptr: u64, cap: Cap) -> Result<(), SyscallError> {
        let frame_is_device = match cap {
            Cap::Arch(ArchCap::Frame { is_device, .. }) => Some(is_device),
            _ => None,
        };
        let not_frame = "IPC Buffer is an invalid cap.";
        crate::arch::vmcap::check_valid_ipc_buffer(
            vptr,
            frame_is_device,
            not_frame,
            "IPC Buffer vaddr",
        )
    }

    /// Whether an architecture invocation has a direct path here: none on aarch64 yet (every
    /// invocation takes the general decoder; riscv64 has one for `Page_Map`).
    #[inline(always)]
    pub fn has_fast_invocation(_t: crate::object::tcb::TcbRef, _cap: crate::cap::RawCap) -> bool {
        false
    }

    /// The direct path of [`has_fast_invocation`]: never taken on aarch64.
    #[inline(always)]
    pub fn fast_invocation(
        _k: &Kernel,
        _t: crate::object::tcb::TcbRef,
        _cap: crate::cap::RawCap,
        _slot: Slot,
        _is_call: bool,
    ) -> bool {
        false
    }

    /// `Arch_isCapRevocable(derived, src)`: see [`super::cap::is_cap_revocable`].
    pub fn is_cap_revocable(derived: &ArchCap, src: &Cap) -> bool {
        let src_arch = match src {
            Cap::Arch(c) => Some(c),
            _ => None,
        };
        super::cap::is_cap_revocable(derived, src_arch, matches!(src, Cap::IrqControl))
    }

    /// The SMC cap of the root CNode's slot `seL4_CapSMC` (seL4 `init_smc`: unbadged), with
    /// `CONFIG_ALLOW_SMC_CALLS` (feature `allow_smc_calls`); without it the slot stays null.
    pub fn root_smc_cap() -> Option<Cap> {
        cfg!(feature = "allow_smc_calls").then_some(Cap::Arch(ArchCap::Smc { badge: 0 }))
    }

    /// `Arch_finaliseCap(cap, final)`: see [`super::cap::finalise`]; leaves the null cap.
    pub fn finalise_cap(k: &mut Kernel, c: ArchCap, is_final: bool) -> Cap {
        super::cap::finalise(k, c, is_final);
        Cap::Null
    }

    /// `Arch_decodeIRQControlInvocation`: `seL4_IRQControl_IssueSGISignal` (see
    /// [`super::objects::decode_issue_sgi_signal`]); `IllegalOperation` for any other label.
    pub fn decode_irq_control(
        label: abi::InvocationLabel,
        args: &impl InvocationArgs,
        control_slot: Slot,
    ) -> Result<crate::object::interrupt::IrqControlInvocation, SyscallError> {
        if label != abi::InvocationLabel::ARMIRQIssueSGISignal {
            return Err(crate::user_err!(
                SyscallError::IllegalOperation,
                "IRQControl: Illegal operation."
            ));
        }
        let (cap, dest) = super::objects::decode_issue_sgi_signal(args)?;
        Ok(crate::object::interrupt::IrqControlInvocation::Arch {
            cap: Cap::Arch(cap),
            control_slot,
            dest,
        })
    }

    /// `decodeARMMMUInvocation` for a generic cap (see [`super::objects::decode`]).
    pub fn decode_invocation(
        k: &Kernel,
        label: abi::InvocationLabel,
        args: &impl InvocationArgs,
        cap: Cap,
        slot: Slot,
    ) -> Result<super::objects::VSpaceInvocation, SyscallError> {
        match cap {
            Cap::Arch(c) => super::objects::decode(k, label, args, c, slot),
            _ => Err(crate::user_err!(
                SyscallError::IllegalOperation,
                "Invalid arch cap type"
            )),
        }
    }
}
