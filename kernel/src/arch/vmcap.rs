//! The cap hooks that every architecture's VSpace caps share (seL4 16.0.0
//! `checkValidIPCBuffer`, and `Arch_maskCapRights`, `Arch_sameRegionAs` and
//! `Arch_sameObjectAs` in `src/arch/riscv/object/objecttype.c` and
//! `src/arch/arm/64/object/objecttype.c`), written once as a macro over the variants every
//! architecture's `ArchCap` has: `Frame { base, size, is_device, .. }` (with
//! `size.bits()`), `PageTable { base, .. }`, `AsidControl` and `AsidPool { ptr, .. }`. Each
//! architecture adds its own arms (RISC-V: ASID control is the region of every ASID pool;
//! Arm: VSpaces and SGI signal caps). A macro rather than a common view type: the
//! comparisons are inlined into the MDB walks, and matching the architecture's enum directly
//! keeps that code as short as a hand-written match.

use crate::error::SyscallError;

/// `checkValidIPCBuffer(vptr, cap)` (seL4 `src/arch/riscv/kernel/vspace.c`,
/// `src/arch/arm/64/kernel/vspace.c`) for a cap that is a frame with device flag
/// `frame_is_device` (`None`: not a frame cap): `IllegalOperation` unless a non-device frame,
/// `AlignmentError` unless `vptr` is aligned to `seL4_IPCBufferSizeBits`. `not_frame` and
/// `vptr_name` are the architecture's userError words (the message for a cap that is not a
/// frame; what the misaligned address is called).
#[inline(always)]
pub fn check_valid_ipc_buffer(
    vptr: u64,
    frame_is_device: Option<bool>,
    not_frame: &str,
    vptr_name: &str,
) -> Result<(), SyscallError> {
    let _ = (not_frame, vptr_name); // Only the userError lines of debug builds use them.
    match frame_is_device {
        Some(false) => {}
        Some(true) => {
            return Err(crate::user_err!(
                SyscallError::IllegalOperation,
                "Specifying a device frame as an IPC buffer is not permitted."
            ))
        }
        None => {
            return Err(crate::user_err!(
                SyscallError::IllegalOperation,
                "{not_frame}"
            ))
        }
    }
    if vptr & ((1u64 << abi::object::IPC_BUFFER_SIZE_BITS) - 1) != 0 {
        return Err(crate::user_err!(
            SyscallError::AlignmentError,
            "{vptr_name} {vptr:#x} is not aligned."
        ));
    }
    Ok(())
}

/// Defines `mask_cap_rights`, `same_region_as` and `same_object_as` for the `ArchCap` (and
/// `CapRights`) in scope; the
/// architecture's own arms (`region: { pat => expr, .. }`, `object: { .. }`, matched on
/// `(a, b)`) come before the shared ones.
macro_rules! vm_cap_hooks {
    (
        region: { $($rp:pat => $re:expr),* $(,)? },
        object: { $($op:pat => $oe:expr),* $(,)? } $(,)?
    ) => {
        /// `Arch_maskCapRights`: a frame's rights are masked (`maskVMRights`); other caps
        /// unchanged.
        pub fn mask_cap_rights(r: CapRights, c: ArchCap) -> ArchCap {
            match c {
                ArchCap::Frame {
                    base,
                    size,
                    rights,
                    is_device,
                    mapped,
                } => ArchCap::Frame {
                    base,
                    size,
                    rights: rights.mask(r),
                    is_device,
                    mapped,
                },
                c => c,
            }
        }

        /// `Arch_sameRegionAs(a, b)`: the architecture's own cases, then: `b`'s frame lies
        /// within `a`'s (inclusive end addresses, as seL4 compares them); the same page table;
        /// ASID control and ASID control; the same ASID pool.
        pub fn same_region_as(a: &ArchCap, b: &ArchCap) -> bool {
            match (a, b) {
                $($rp => $re,)*
                (
                    ArchCap::Frame {
                        base: x, size: sx, ..
                    },
                    ArchCap::Frame {
                        base: y, size: sy, ..
                    },
                ) => {
                    let (x, y) = (x.addr() as u64, y.addr() as u64);
                    let (ta, tb) = (x + (1 << sx.bits()) - 1, y + (1 << sy.bits()) - 1);
                    x <= y && ta >= tb && y <= tb
                }
                (ArchCap::PageTable { base: x, .. }, ArchCap::PageTable { base: y, .. }) => x == y,
                (ArchCap::AsidControl, ArchCap::AsidControl) => true,
                (ArchCap::AsidPool { ptr: x, .. }, ArchCap::AsidPool { ptr: y, .. }) => x == y,
                _ => false,
            }
        }

        /// `Arch_sameObjectAs(a, b)`: the architecture's own cases, then: frames are the same
        /// object only with the same base, size and device flag; anything else as
        /// [`same_region_as`].
        pub fn same_object_as(a: &ArchCap, b: &ArchCap) -> bool {
            match (a, b) {
                $($op => $oe,)*
                (
                    ArchCap::Frame {
                        base: x,
                        size: sx,
                        is_device: dx,
                        ..
                    },
                    ArchCap::Frame {
                        base: y,
                        size: sy,
                        is_device: dy,
                        ..
                    },
                ) => x == y && sx == sy && dx == dy,
                _ => same_region_as(a, b),
            }
        }
    };
}
pub(crate) use vm_cap_hooks;
