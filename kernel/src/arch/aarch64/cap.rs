//! The aarch64 capabilities (seL4 `include/arch/arm/arch/64/mode/object/structures.bf` and
//! `src/arch/arm/64/object/objecttype.c`): frames, page tables, VSpaces, ASID control, ASID
//! pools, SGI signals and the SMC cap, as [`ArchCap`] inside the generic `Cap::Arch`, with the
//! hooks the generic cap code calls for them (seL4's `Arch_deriveCap`, `Arch_updateCapData`,
//! `Arch_maskCapRights`, `Arch_finaliseCap`, `Arch_sameRegionAs`, `Arch_sameObjectAs`,
//! `Arch_isCapRevocable`, `Arch_createObject`, and `lookupIPCBuffer`'s frame check).
//!
//! Encoding (word 0 as in `crate::cap`: tag in bits 63..59, object pointer in 43..0):
//! - frame: size in 45..44, rights in 47..46, device in 48, mapped in 49; word 1 the mapping
//!   (virtual address in 47..0, ASID in 63..48);
//! - page table: mapped in 44; word 1 the mapping;
//! - VSpace: mapped in 44; word 1 its ASID;
//! - ASID pool: word 1 the first ASID;
//! - SGI signal: the SGI in 47..44 of word 0 (no object: the pointer field stays clear), the
//!   target in word 1;
//! - SMC: the badge in word 1 (seL4 `smc_cap`: `capSMCBadge`, 64 bits).
//!
//! The hooks that only look at an [`ArchCap`] (or a raw cap) are pure and tested on the host;
//! those that take or make a generic `Cap` exist only when aarch64 is the architecture built.
#![forbid(unsafe_code)]

use super::vspace::{AsidPoolRef, PtRef};
use crate::cap::{field, RawCap};
use crate::error::SyscallError;
use crate::mem::{FrameMemory, PPtr};
use abi::arch::aarch64::{
    ObjectType, ASID_POOL_BITS, HUGE_PAGE_BITS, LARGE_PAGE_BITS, PAGE_BITS, PAGE_TABLE_BITS,
    VSPACE_BITS,
};
use abi::CapRights;

/// seL4's cap type tags of the aarch64 caps (all odd: `isArchCap`).
pub mod tag {
    /// `cap_frame_cap`
    pub const FRAME: u64 = 1;
    /// `cap_page_table_cap`
    pub const PAGE_TABLE: u64 = 3;
    /// `cap_vspace_cap`
    pub const VSPACE: u64 = 9;
    /// `cap_asid_control_cap`
    pub const ASID_CONTROL: u64 = 11;
    /// `cap_asid_pool_cap`
    pub const ASID_POOL: u64 = 13;
    /// `cap_smc_cap` (`CONFIG_ALLOW_SMC_CALLS`)
    pub const SMC: u64 = 25;
    /// `cap_sgi_signal_cap` (no SMP)
    pub const SGI_SIGNAL: u64 = 27;
}

/// Whether a cap tag is one of the architecture's (`isArchCap`: odd tags).
#[inline(always)]
pub const fn is_arch_cap_tag(t: u64) -> bool {
    t & 1 != 0
}

/// Whether `c` is a frame cap (what [`crate::mem::CapObject`] asks for `FrameMemory`).
#[inline(always)]
pub const fn is_frame_cap(c: RawCap) -> bool {
    c.tag() == tag::FRAME
}

/// Whether `c` names a translation table: a page-table or a VSpace cap (what
/// [`crate::mem::CapObject`] asks for the table type: both are 512 entries, 4 KiB).
#[inline(always)]
pub const fn is_page_table_cap(c: RawCap) -> bool {
    c.tag() == tag::PAGE_TABLE || c.tag() == tag::VSPACE
}

/// Whether `c` is an ASID pool cap (what [`crate::mem::CapObject`] asks for
/// [`crate::mem::AsidPool`]).
#[inline(always)]
pub const fn is_asid_pool_cap(c: RawCap) -> bool {
    c.tag() == tag::ASID_POOL
}

/// seL4's `vm_rights` for frames (`VMKernelOnly` 1, `VMReadOnly` 2, `VMReadWrite` 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmRights {
    /// No user access.
    KernelOnly = 1,
    /// Read (and execute).
    ReadOnly = 2,
    /// Read, write (and execute).
    ReadWrite = 3,
}

impl VmRights {
    pub(crate) const fn from_bits(b: u64) -> Self {
        match b {
            3 => VmRights::ReadWrite,
            2 => VmRights::ReadOnly,
            _ => VmRights::KernelOnly,
        }
    }
    /// `maskVMRights` (`src/arch/arm/64/kernel/vspace.c`): the rights of a frame cap after
    /// masking with `r`. A write-only result is not possible: it becomes kernel-only.
    pub const fn mask(self, r: CapRights) -> Self {
        match self {
            VmRights::ReadOnly if r.read() => VmRights::ReadOnly,
            VmRights::ReadWrite if r.read() && r.write() => VmRights::ReadWrite,
            VmRights::ReadWrite if r.read() => VmRights::ReadOnly,
            _ => VmRights::KernelOnly,
        }
    }
}

/// Frame sizes (seL4 `vm_page_size`: `ARMSmallPage`, `ARMLargePage`, `ARMHugePage`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameSize {
    /// 4 KiB.
    Small = 0,
    /// 2 MiB.
    Large = 1,
    /// 1 GiB.
    Huge = 2,
}

impl FrameSize {
    /// log2 of the size in bytes (`pageBitsForSize`).
    pub const fn bits(self) -> u64 {
        match self {
            FrameSize::Small => PAGE_BITS,
            FrameSize::Large => LARGE_PAGE_BITS,
            FrameSize::Huge => HUGE_PAGE_BITS,
        }
    }
    pub(crate) const fn from_bits(b: u64) -> Self {
        match b {
            1 => FrameSize::Large,
            2 => FrameSize::Huge,
            _ => FrameSize::Small,
        }
    }
}

/// Where a frame or page table is mapped: (ASID, virtual address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// The address space's ASID (never 0, `asidInvalid`).
    pub asid: u16,
    /// The virtual address (below 2^48).
    pub vaddr: u64,
}

/// An aarch64 capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchCap {
    /// A frame (`cap_frame_cap`).
    Frame {
        /// The frame.
        base: PPtr<FrameMemory>,
        /// Size.
        size: FrameSize,
        /// The rights of mappings made with this cap.
        rights: VmRights,
        /// Retyped from device memory (never zeroed, no IPC buffer).
        is_device: bool,
        /// Where this cap mapped it.
        mapped: Option<Mapping>,
    },
    /// A page table at level 1, 2 or 3 (`cap_page_table_cap`).
    PageTable {
        /// The table.
        base: PtRef,
        /// Where it is hooked in: the ASID and the first address it covers.
        mapped: Option<Mapping>,
    },
    /// A VSpace, the level-0 table (`cap_vspace_cap`).
    VSpace {
        /// The level-0 table.
        base: PtRef,
        /// The ASID it was assigned, if any (`capVSIsMapped`, `capVSMappedASID`).
        asid: Option<u16>,
    },
    /// The ASID control cap.
    AsidControl,
    /// An ASID pool for ASIDs `asid_base..asid_base + 512`.
    AsidPool {
        /// The pool.
        ptr: AsidPoolRef,
        /// The pool's first ASID.
        asid_base: u16,
    },
    /// The right to send SGI `irq` (0..16) to the cores in `target` (`cap_sgi_signal_cap`).
    SgiSignal {
        /// The SGI's INTID.
        irq: u8,
        /// The target (`capSGITarget`).
        target: u32,
    },
    /// The right to make Secure Monitor Calls (`cap_smc_cap`, `CONFIG_ALLOW_SMC_CALLS`): any
    /// function with badge 0, only the function ID `badge` (x0 of the call) otherwise.
    Smc {
        /// `capSMCBadge`: 0 or the one SMC function ID allowed.
        badge: u64,
    },
}

/// (base, size, rights, is_device) from word 0 of a frame cap (see `Cap::encode`).
#[inline(always)]
fn unpack_frame(c: RawCap) -> (PPtr<FrameMemory>, FrameSize, VmRights, bool) {
    let w0 = c.w0();
    (
        c.object().unwrap_or_default(),
        FrameSize::from_bits(field(w0, 44, 2)),
        VmRights::from_bits(field(w0, 46, 2)),
        field(w0, 48, 1) != 0,
    )
}

const VADDR_MASK: u64 = (1 << 48) - 1;

fn pack_mapping(m: Option<Mapping>) -> (u64, u64) {
    match m {
        Some(m) => (1, (m.vaddr & VADDR_MASK) | (m.asid as u64) << 48),
        None => (0, 0),
    }
}

#[inline(always)]
fn unpack_mapping(mapped: u64, w1: u64) -> Option<Mapping> {
    (mapped != 0).then_some(Mapping {
        asid: (w1 >> 48) as u16,
        vaddr: w1 & VADDR_MASK,
    })
}

impl ArchCap {
    /// Decodes the words of a cap whose tag is [`is_arch_cap_tag`]; `None` for an unknown tag.
    #[inline(always)]
    pub fn decode(t: u64, c: RawCap) -> Option<ArchCap> {
        let (w0, w1) = (c.w0(), c.w1());
        // `object` repeats the tag test of the `match` (and compiles to nothing).
        macro_rules! obj {
            () => {
                c.object()?
            };
        }
        Some(match t {
            tag::FRAME => {
                let (base, size, rights, is_device) = unpack_frame(c);
                ArchCap::Frame {
                    base,
                    size,
                    rights,
                    is_device,
                    mapped: unpack_mapping(field(w0, 49, 1), w1),
                }
            }
            tag::PAGE_TABLE => ArchCap::PageTable {
                base: obj!(),
                mapped: unpack_mapping(field(w0, 44, 1), w1),
            },
            tag::VSPACE => ArchCap::VSpace {
                base: obj!(),
                asid: (field(w0, 44, 1) != 0).then_some(w1 as u16),
            },
            tag::ASID_CONTROL => ArchCap::AsidControl,
            tag::ASID_POOL => ArchCap::AsidPool {
                ptr: obj!(),
                asid_base: w1 as u16,
            },
            tag::SGI_SIGNAL => ArchCap::SgiSignal {
                irq: field(w0, 44, 4) as u8,
                target: w1 as u32,
            },
            tag::SMC => ArchCap::Smc { badge: w1 },
            _ => return None,
        })
    }

    /// The two words of the cap.
    #[inline]
    pub fn encode(self) -> RawCap {
        fn t<T: crate::mem::CapObject>(tag: u64, ptr: PPtr<T>, rest: u64, w1: u64) -> RawCap {
            RawCap::with_object((tag << 59) | rest, ptr, w1)
        }
        match self {
            ArchCap::Frame {
                base,
                size,
                rights,
                is_device,
                mapped,
            } => {
                let (m, w1) = pack_mapping(mapped);
                let rest = (size as u64) << 44
                    | (rights as u64) << 46
                    | (is_device as u64) << 48
                    | m << 49;
                t(tag::FRAME, base, rest, w1)
            }
            ArchCap::PageTable { base, mapped } => {
                let (m, w1) = pack_mapping(mapped);
                t(tag::PAGE_TABLE, base, m << 44, w1)
            }
            ArchCap::VSpace { base, asid } => t(
                tag::VSPACE,
                base,
                (asid.is_some() as u64) << 44,
                asid.unwrap_or(0) as u64,
            ),
            ArchCap::AsidControl => RawCap::without_object(tag::ASID_CONTROL << 59, 0),
            ArchCap::AsidPool { ptr, asid_base } => t(tag::ASID_POOL, ptr, 0, asid_base as u64),
            ArchCap::SgiSignal { irq, target } => RawCap::without_object(
                tag::SGI_SIGNAL << 59 | (irq as u64 & 0xf) << 44,
                target as u64,
            ),
            ArchCap::Smc { badge } => RawCap::without_object(tag::SMC << 59, badge),
        }
    }

    /// The seL4 type tag.
    pub const fn tag(&self) -> u64 {
        match self {
            ArchCap::Frame { .. } => tag::FRAME,
            ArchCap::PageTable { .. } => tag::PAGE_TABLE,
            ArchCap::VSpace { .. } => tag::VSPACE,
            ArchCap::AsidControl => tag::ASID_CONTROL,
            ArchCap::AsidPool { .. } => tag::ASID_POOL,
            ArchCap::SgiSignal { .. } => tag::SGI_SIGNAL,
            ArchCap::Smc { .. } => tag::SMC,
        }
    }

    /// The memory object the cap names and its size in bytes (`None`: ASID control, SGI
    /// signal, SMC).
    pub const fn region(&self) -> Option<(usize, u64)> {
        Some(match *self {
            ArchCap::Frame { base, size, .. } => (base.addr(), 1 << size.bits()),
            ArchCap::PageTable { base, .. } => (base.addr(), 1 << PAGE_TABLE_BITS),
            ArchCap::VSpace { base, .. } => (base.addr(), 1 << VSPACE_BITS),
            ArchCap::AsidPool { ptr, .. } => (ptr.addr(), 1 << ASID_POOL_BITS),
            ArchCap::AsidControl | ArchCap::SgiSignal { .. } | ArchCap::Smc { .. } => return None,
        })
    }
}

/// (base, size, rights, is_device) of a frame cap, `None` for any other cap (what
/// [`ArchCap::decode`] gives for a frame, without decoding the rest).
#[inline(always)]
pub fn frame_fields(c: RawCap) -> Option<(PPtr<FrameMemory>, FrameSize, VmRights, bool)> {
    (c.tag() == tag::FRAME).then(|| unpack_frame(c))
}

/// (base, ASID if assigned) of a VSpace cap, `None` for any other cap.
#[inline(always)]
pub fn vspace_fields(c: RawCap) -> Option<(PtRef, Option<u16>)> {
    if c.tag() != tag::VSPACE {
        return None;
    }
    Some((
        c.object()?,
        (field(c.w0(), 44, 1) != 0).then_some(c.w1() as u16),
    ))
}

/// The frame of a thread's IPC buffer cap that the kernel may use (`lookupIPCBuffer`): a
/// non-device frame cap, read-write, or read-only when the kernel only reads (`is_receiver`
/// false). Returns the frame and its log2 size.
#[inline(always)]
pub fn ipc_buffer_frame(c: RawCap, is_receiver: bool) -> Option<(PPtr<FrameMemory>, u64)> {
    let (base, size, rights, is_device) = frame_fields(c)?;
    let ok = rights == VmRights::ReadWrite || (!is_receiver && rights == VmRights::ReadOnly);
    if is_device || !ok {
        return None;
    }
    Some((base, size.bits()))
}

/// `Arch_deriveCap`: a frame cap's copy is unmapped; a page table or VSpace without an ASID
/// cannot be copied (`IllegalOperation`); the rest copy as they are.
pub fn derive_cap(c: ArchCap) -> Result<ArchCap, SyscallError> {
    Ok(match c {
        ArchCap::Frame {
            base,
            size,
            rights,
            is_device,
            ..
        } => ArchCap::Frame {
            base,
            size,
            rights,
            is_device,
            mapped: None,
        },
        ArchCap::PageTable { mapped: None, .. } => {
            return Err(crate::user_err!(
                SyscallError::IllegalOperation,
                "Deriving a PT cap without an assigned ASID"
            ))
        }
        ArchCap::VSpace { asid: None, .. } => {
            return Err(crate::user_err!(
                SyscallError::IllegalOperation,
                "Deriving a VSpace cap without an assigned ASID"
            ))
        }
        c => c,
    })
}

/// `Arch_updateCapData(preserve, data, cap)`: Mint (`preserve` false) sets the badge of an
/// unbadged SMC cap to `data`; an SMC cap that is badged already, or with `preserve` (Mutate,
/// Rotate, TCB root caps), gives `None` (seL4's null cap). Other caps are unchanged.
pub fn update_cap_data(preserve: bool, data: u64, c: ArchCap) -> Option<ArchCap> {
    match c {
        ArchCap::Smc { badge } => (!preserve && badge == 0).then_some(ArchCap::Smc { badge: data }),
        c => Some(c),
    }
}

/// `Arch_isCapRevocable(derived, src)` (`include/arch/arm/arch/object/structures.h`): an SGI
/// signal cap made from IRQ control (`src_is_irq_control`) is revocable, and an SMC cap whose
/// badge differs from its source's (`src`, the source if it is one of this architecture's
/// caps); nothing else.
pub fn is_cap_revocable(
    derived: &ArchCap,
    src: Option<&ArchCap>,
    src_is_irq_control: bool,
) -> bool {
    match (derived, src) {
        (ArchCap::SgiSignal { .. }, _) => src_is_irq_control,
        (ArchCap::Smc { badge: d }, Some(ArchCap::Smc { badge: s })) => d != s,
        // seL4 compares the badge field of the source whatever its type; an SMC cap is only
        // ever derived from an SMC cap.
        (ArchCap::Smc { .. }, _) => true,
        _ => false,
    }
}

// `Arch_maskCapRights`, `Arch_sameRegionAs`, `Arch_sameObjectAs` (`crate::arch::vmcap`): the same VSpace, the same
// SGI signal (IRQ and target); an SGI signal cap is never the same object as another cap.
crate::arch::vmcap::vm_cap_hooks! {
    region: {
        (ArchCap::VSpace { base: x, .. }, ArchCap::VSpace { base: y, .. }) => x == y,
        (
            ArchCap::SgiSignal {
                irq: ix,
                target: tx,
            },
            ArchCap::SgiSignal {
                irq: iy,
                target: ty,
            },
        ) => ix == iy && tx == ty,
        (ArchCap::Smc { .. }, ArchCap::Smc { .. }) => true,
    },
    object: { (ArchCap::SgiSignal { .. }, _) => false },
}

/// `Arch_createObject`: the cap to a new frame, page table or VSpace of type `t` in the
/// memory `at` (already zeroed); `None` for a type that is not the architecture's.
#[inline(always)]
pub fn create_object(t: ObjectType, at: crate::mem::Carved, is_device: bool) -> Option<ArchCap> {
    let size = match t {
        ObjectType::SmallPage => FrameSize::Small,
        ObjectType::LargePage => FrameSize::Large,
        ObjectType::HugePage => FrameSize::Huge,
        ObjectType::PageTable => {
            return Some(ArchCap::PageTable {
                base: at.object()?,
                mapped: None,
            })
        }
        ObjectType::VSpace => {
            return Some(ArchCap::VSpace {
                base: at.object()?,
                asid: None,
            })
        }
        _ => return None,
    };
    Some(ArchCap::Frame {
        base: at.object()?,
        size,
        rights: VmRights::ReadWrite,
        is_device,
        mapped: None,
    })
}

/// `Arch_finaliseCap(cap, final)` for a kernel `k`: a mapped frame is unmapped (whether or
/// not final, as seL4 does); a final mapped page table is unhooked from its parent; a final
/// VSpace with an ASID gives it up; a final ASID pool is removed from the ASID table. Leaves
/// nothing behind (the caller's remainder is the null cap).
pub fn finalise(k: &mut crate::state::Kernel, c: ArchCap, is_final: bool) {
    use super::vspace;
    match c {
        ArchCap::Frame {
            base,
            size,
            mapped: Some(m),
            ..
        } => vspace::unmap_page(k, size, m.asid, m.vaddr, base),
        ArchCap::PageTable {
            base,
            mapped: Some(m),
        } if is_final => vspace::unmap_page_table(k, m.asid, m.vaddr, base),
        ArchCap::VSpace {
            base,
            asid: Some(asid),
        } if is_final => vspace::delete_asid(k, asid, base),
        ArchCap::AsidPool { ptr, asid_base } if is_final => {
            vspace::delete_asid_pool(k, asid_base, ptr);
        }
        _ => {}
    }
}

/// Any aarch64 cap, for property tests (`ptrs`: object pointers).
#[cfg(test)]
pub fn arbitrary_arch_cap(
    ptrs: impl proptest::strategy::Strategy<Value = usize> + Clone + 'static,
) -> impl proptest::strategy::Strategy<Value = ArchCap> {
    use proptest::prelude::*;
    let mapping = proptest::option::of((1u16.., 0u64..(1 << 48)).prop_map(|(asid, v)| Mapping {
        asid,
        vaddr: v & !0xfff,
    }));
    prop_oneof![
        (
            ptrs.clone(),
            0u64..3,
            1u64..4,
            any::<bool>(),
            mapping.clone()
        )
            .prop_map(|(base, s, r, d, mapped)| ArchCap::Frame {
                base: PPtr::sim(base),
                size: FrameSize::from_bits(s),
                rights: VmRights::from_bits(r),
                is_device: d,
                mapped
            }),
        (ptrs.clone(), mapping).prop_map(|(base, mapped)| ArchCap::PageTable {
            base: PPtr::sim(base),
            mapped
        }),
        (ptrs.clone(), proptest::option::of(any::<u16>())).prop_map(|(base, asid)| {
            ArchCap::VSpace {
                base: PPtr::sim(base),
                asid,
            }
        }),
        Just(ArchCap::AsidControl),
        (ptrs, any::<u16>()).prop_map(|(ptr, asid_base)| ArchCap::AsidPool {
            ptr: PPtr::sim(ptr),
            asid_base
        }),
        (0u8..16, any::<u32>()).prop_map(|(irq, target)| ArchCap::SgiSignal { irq, target }),
        any::<u64>().prop_map(|badge| ArchCap::Smc { badge }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Object pointers as the kernel has them: in the window at 0xFFFF_FF80_0000_0000, or
    /// (device frames past 2^39) wrapped around to low addresses.
    fn ptrs() -> impl Strategy<Value = usize> + Clone {
        prop_oneof![
            (0usize..(1 << 35)).prop_map(|p| 0xFFFF_FF80_0000_0000usize + (p << 4)),
            (0usize..(1 << 43)).prop_map(|p| p << 4),
        ]
    }

    proptest! {
        /// Every cap survives its encoding, and the raw accessors the IPC and VSpace paths use
        /// agree with the full decoder.
        #[test]
        fn encoding_round_trips(c in arbitrary_arch_cap(ptrs())) {
            let r = c.encode();
            prop_assert!(is_arch_cap_tag(r.tag()));
            prop_assert_eq!(r.tag(), c.tag());
            prop_assert_eq!(ArchCap::decode(r.tag(), r), Some(c));
            let frame = match c {
                ArchCap::Frame { base, size, rights, is_device, .. } => {
                    Some((base, size, rights, is_device))
                }
                _ => None,
            };
            prop_assert_eq!(frame_fields(r), frame);
            let vs = match c {
                ArchCap::VSpace { base, asid } => Some((base, asid)),
                _ => None,
            };
            prop_assert_eq!(vspace_fields(r), vs);
        }

        /// A copy of a frame cap is unmapped and names the same object; masking never adds
        /// rights.
        #[test]
        fn derive_and_mask(c in arbitrary_arch_cap(ptrs()), bits in 0u64..16) {
            if let Ok(d) = derive_cap(c) {
                let sgi = matches!(c, ArchCap::SgiSignal { .. });
                prop_assert!(same_object_as(&c, &d) || sgi);
                if let ArchCap::Frame { mapped, .. } = d {
                    prop_assert!(mapped.is_none());
                }
            } else {
                let unassigned = matches!(
                    c,
                    ArchCap::PageTable { mapped: None, .. } | ArchCap::VSpace { asid: None, .. }
                );
                prop_assert!(unassigned);
            }
            if let (ArchCap::Frame { rights: before, .. }, ArchCap::Frame { rights: after, .. }) =
                (c, mask_cap_rights(CapRights(bits), c))
            {
                prop_assert!(after as u64 <= before as u64);
            }
        }
    }

    #[test]
    fn tags_are_sel4s() {
        let f = ArchCap::Frame {
            base: PPtr::NULL,
            size: FrameSize::Small,
            rights: VmRights::ReadWrite,
            is_device: false,
            mapped: None,
        };
        assert_eq!(f.tag(), 1);
        let pt = ArchCap::PageTable {
            base: PPtr::NULL,
            mapped: None,
        };
        assert_eq!(pt.tag(), 3);
        assert_eq!(
            ArchCap::VSpace {
                base: PPtr::NULL,
                asid: None
            }
            .tag(),
            9
        );
        assert_eq!(ArchCap::AsidControl.tag(), 11);
        let pool = ArchCap::AsidPool {
            ptr: PPtr::NULL,
            asid_base: 0,
        };
        assert_eq!(pool.tag(), 13);
        assert_eq!(ArchCap::SgiSignal { irq: 0, target: 0 }.tag(), 27);
        assert_eq!(ArchCap::Smc { badge: 0 }.tag(), 25);
    }

    /// seL4's SMC cap: Mint badges an unbadged one (once), Mutate and a second Mint give the
    /// null cap; a copy with another badge is revocable, one with the same is not; all SMC
    /// caps are the same region and object, and none is memory.
    #[test]
    fn smc_cap_as_sel4() {
        let smc = |badge| ArchCap::Smc { badge };
        assert_eq!(
            update_cap_data(false, 0x8400_0000, smc(0)),
            Some(smc(0x8400_0000))
        );
        assert_eq!(update_cap_data(false, 7, smc(0x8400_0000)), None);
        assert_eq!(update_cap_data(true, 7, smc(0)), None);
        assert_eq!(
            update_cap_data(true, 7, ArchCap::AsidControl),
            Some(ArchCap::AsidControl)
        );
        assert!(is_cap_revocable(&smc(5), Some(&smc(0)), false));
        assert!(!is_cap_revocable(&smc(5), Some(&smc(5)), false));
        assert!(!is_cap_revocable(&smc(0), Some(&smc(0)), false));
        let sgi = ArchCap::SgiSignal { irq: 1, target: 0 };
        assert!(is_cap_revocable(&sgi, None, true));
        assert!(!is_cap_revocable(&sgi, Some(&sgi), false));
        assert!(!is_cap_revocable(&ArchCap::AsidControl, None, true));
        assert!(same_region_as(&smc(1), &smc(2)) && same_object_as(&smc(1), &smc(2)));
        assert!(!same_region_as(&smc(1), &ArchCap::AsidControl));
        assert_eq!(derive_cap(smc(3)), Ok(smc(3)));
        assert_eq!(smc(3).region(), None);
        let r = smc(u64::MAX).encode();
        assert_eq!((r.tag(), r.w1()), (25, u64::MAX));
    }

    /// `maskVMRights`: read-only needs read; read-write needs read and write, loses write
    /// without it; anything else is kernel-only.
    #[test]
    fn vm_rights_mask_as_sel4() {
        let (r, w) = (CapRights(0b0010), CapRights(0b0001));
        let rw = CapRights(0b0011);
        assert_eq!(VmRights::ReadWrite.mask(rw), VmRights::ReadWrite);
        assert_eq!(VmRights::ReadWrite.mask(r), VmRights::ReadOnly);
        assert_eq!(VmRights::ReadWrite.mask(w), VmRights::KernelOnly);
        assert_eq!(VmRights::ReadOnly.mask(rw), VmRights::ReadOnly);
        assert_eq!(VmRights::ReadOnly.mask(w), VmRights::KernelOnly);
        assert_eq!(VmRights::KernelOnly.mask(rw), VmRights::KernelOnly);
    }

    #[test]
    fn created_objects() {
        let cap = |t| create_object(t, crate::mem::Carved::sim(0x1000, 30), false);
        assert!(matches!(
            cap(ObjectType::HugePage),
            Some(ArchCap::Frame {
                size: FrameSize::Huge,
                rights: VmRights::ReadWrite,
                ..
            })
        ));
        assert!(matches!(
            cap(ObjectType::VSpace),
            Some(ArchCap::VSpace { asid: None, .. })
        ));
        assert!(matches!(
            cap(ObjectType::PageTable),
            Some(ArchCap::PageTable { mapped: None, .. })
        ));
        assert_eq!(cap(ObjectType::Tcb), None);
        assert!(matches!(
            create_object(
                ObjectType::SmallPage,
                crate::mem::Carved::sim(0x1000, 12),
                true
            ),
            Some(ArchCap::Frame {
                is_device: true,
                ..
            })
        ));
    }

    /// Frames nest by address range; VSpaces and page tables are the same region only at
    /// the same base; different kinds never are.
    #[test]
    fn regions() {
        let frame = |base, size| ArchCap::Frame {
            base: PPtr::sim(base),
            size,
            rights: VmRights::ReadWrite,
            is_device: false,
            mapped: None,
        };
        let big = frame(0x20_0000, FrameSize::Large);
        let small = frame(0x20_1000, FrameSize::Small);
        assert!(same_region_as(&big, &small) && !same_region_as(&small, &big));
        assert!(!same_object_as(&big, &small));
        let vs = ArchCap::VSpace {
            base: PPtr::sim(0x20_0000),
            asid: Some(1),
        };
        let pt = ArchCap::PageTable {
            base: PPtr::sim(0x20_0000),
            mapped: None,
        };
        assert!(same_region_as(
            &vs,
            &ArchCap::VSpace {
                base: PPtr::sim(0x20_0000),
                asid: None
            }
        ));
        assert!(!same_region_as(&vs, &pt) && !same_region_as(&vs, &big));
        let sgi = ArchCap::SgiSignal { irq: 3, target: 1 };
        assert!(same_region_as(&sgi, &sgi) && !same_object_as(&sgi, &sgi));
        assert!(same_region_as(&ArchCap::AsidControl, &ArchCap::AsidControl));
    }
}
