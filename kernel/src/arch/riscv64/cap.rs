//! The riscv64 capabilities (seL4 `include/arch/riscv/arch/object/structures.bf` and
//! `src/arch/riscv/object/objecttype.c`): frames, page tables, ASID control and ASID pools, as
//! [`ArchCap`] inside the generic `Cap::Arch`, with the hooks the generic cap code calls for
//! them (seL4's `Arch_deriveCap`, `Arch_updateCapData`, `Arch_maskCapRights`,
//! `Arch_finaliseCap`, `Arch_sameRegionAs`, `Arch_sameObjectAs`, `Arch_createObject`, and
//! `lookupIPCBuffer`'s frame check).
//!
//! Encoding (word 0 as in `crate::cap`: tag in bits 63..59, object pointer in 43..0):
//! - frame: size in 45..44, rights in 47..46, device in 48, mapped in 49; word 1 the mapping
//!   (virtual address in 38..0, ASID above);
//! - page table: mapped in 44; word 1 the mapping;
//! - ASID pool: word 1 the first ASID.
#![forbid(unsafe_code)]

use super::vspace::{AsidPoolRef, PtRef};
use crate::arch::vmcap;
use crate::cap::{field, Cap, RawCap};
use crate::error::SyscallError;
use crate::mem::{FrameMemory, PPtr};
use crate::state::Kernel;
use abi::object::{ASID_POOL_BITS, PAGE_TABLE_BITS};
use abi::{CapRights, ObjectType};

/// seL4's cap type tags of the riscv64 caps (all odd: `isArchCap`).
pub mod tag {
    /// `cap_frame_cap`
    pub const FRAME: u64 = 1;
    /// `cap_page_table_cap`
    pub const PAGE_TABLE: u64 = 3;
    /// `cap_asid_control_cap`
    pub const ASID_CONTROL: u64 = 11;
    /// `cap_asid_pool_cap`
    pub const ASID_POOL: u64 = 13;
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

/// Whether `c` is a page-table cap (a VSpace root's too).
#[inline(always)]
pub const fn is_page_table_cap(c: RawCap) -> bool {
    c.tag() == tag::PAGE_TABLE
}

/// Whether `c` is an ASID pool cap.
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
    pub(crate) fn from_bits(b: u64) -> Self {
        match b {
            3 => VmRights::ReadWrite,
            2 => VmRights::ReadOnly,
            _ => VmRights::KernelOnly,
        }
    }
    /// `maskVMRights`: the rights of a frame cap after masking with `r`.
    pub fn mask(self, r: CapRights) -> Self {
        match self {
            VmRights::KernelOnly => VmRights::KernelOnly,
            VmRights::ReadOnly if r.read() => VmRights::ReadOnly,
            VmRights::ReadWrite if r.read() && r.write() => VmRights::ReadWrite,
            VmRights::ReadWrite if r.read() => VmRights::ReadOnly,
            _ => VmRights::KernelOnly,
        }
    }
}

/// Frame sizes on riscv64 Sv39 (`RISCV_4K_Page`, `RISCV_Mega_Page`, `RISCV_Giga_Page`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameSize {
    /// 4 KiB.
    Small = 0,
    /// 2 MiB.
    Mega = 1,
    /// 1 GiB.
    Giga = 2,
}

impl FrameSize {
    /// log2 of the size in bytes.
    pub const fn bits(self) -> u64 {
        match self {
            FrameSize::Small => abi::object::PAGE_BITS,
            FrameSize::Mega => abi::object::LARGE_PAGE_BITS,
            FrameSize::Giga => abi::object::HUGE_PAGE_BITS,
        }
    }
    pub(crate) fn from_bits(b: u64) -> Self {
        match b {
            1 => FrameSize::Mega,
            2 => FrameSize::Giga,
            _ => FrameSize::Small,
        }
    }
}

/// Where a frame or page table is mapped: (ASID, virtual address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// The address space's ASID.
    pub asid: u16,
    /// The virtual address (below 2^39).
    pub vaddr: u64,
}

/// A riscv64 capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchCap {
    /// A frame.
    Frame {
        base: PPtr<FrameMemory>,
        size: FrameSize,
        rights: VmRights,
        is_device: bool,
        mapped: Option<Mapping>,
    },
    /// A page table (a VSpace when it is the root of one).
    PageTable {
        base: PtRef,
        mapped: Option<Mapping>,
    },
    /// The ASID control cap.
    AsidControl,
    /// An ASID pool for ASIDs `asid_base..asid_base + 512`.
    AsidPool { ptr: AsidPoolRef, asid_base: u16 },
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

#[inline(always)]
fn pack_mapping(m: Option<Mapping>) -> (u64, u64) {
    match m {
        Some(m) => (1, (m.vaddr & ((1 << 39) - 1)) | (m.asid as u64) << 39),
        None => (0, 0),
    }
}

#[inline(always)]
fn unpack_mapping(mapped: u64, w1: u64) -> Option<Mapping> {
    (mapped != 0).then_some(Mapping {
        asid: (w1 >> 39) as u16,
        vaddr: w1 & ((1 << 39) - 1),
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
            tag::ASID_CONTROL => ArchCap::AsidControl,
            tag::ASID_POOL => ArchCap::AsidPool {
                ptr: obj!(),
                asid_base: w1 as u16,
            },
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
            ArchCap::AsidControl => RawCap::without_object(tag::ASID_CONTROL << 59, 0),
            ArchCap::AsidPool { ptr, asid_base } => t(tag::ASID_POOL, ptr, 0, asid_base as u64),
        }
    }

    /// The seL4 type tag.
    pub fn tag(&self) -> u64 {
        match self {
            ArchCap::Frame { .. } => tag::FRAME,
            ArchCap::PageTable { .. } => tag::PAGE_TABLE,
            ArchCap::AsidControl => tag::ASID_CONTROL,
            ArchCap::AsidPool { .. } => tag::ASID_POOL,
        }
    }

    /// The memory object the cap names and its size in bytes (`None`: ASID control).
    pub fn region(&self) -> Option<(usize, u64)> {
        Some(match *self {
            ArchCap::Frame { base, size, .. } => (base.addr(), 1 << size.bits()),
            ArchCap::PageTable { base, .. } => (base.addr(), 1 << PAGE_TABLE_BITS),
            ArchCap::AsidPool { ptr, .. } => (ptr.addr(), 1 << ASID_POOL_BITS),
            ArchCap::AsidControl => return None,
        })
    }
}

/// The mapping of a page-table cap, if it is one and mapped (read without a full decode).
#[inline(always)]
pub fn page_table_mapping(c: RawCap) -> Option<Mapping> {
    (c.tag() == tag::PAGE_TABLE)
        .then(|| unpack_mapping(field(c.w0(), 44, 1), c.w1()))
        .flatten()
}

/// The mapping of a frame cap (read without a full decode; `None` if unmapped). Only
/// meaningful for a frame cap.
#[inline(always)]
pub fn frame_mapping(c: RawCap) -> Option<Mapping> {
    unpack_mapping(field(c.w0(), 49, 1), c.w1())
}

/// The frame cap `c` with its mapping set to `m` (what encoding the decoded cap with
/// `mapped: Some(m)` gives; `m.vaddr` below 2^39).
#[inline(always)]
pub fn frame_with_mapping(c: RawCap, m: Mapping) -> RawCap {
    let (bit, w1) = pack_mapping(Some(m));
    c.with_bits(0, bit << 49).with_w1(w1)
}

/// (base, size, rights, is_device) of a frame cap, `None` for any other cap (what
/// [`ArchCap::decode`] gives for a frame, without decoding the rest).
#[inline(always)]
pub fn frame_fields(c: RawCap) -> Option<(PPtr<FrameMemory>, FrameSize, VmRights, bool)> {
    (c.tag() == tag::FRAME).then(|| unpack_frame(c))
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

/// The root page table of a VSpace cap (`isValidVTableRoot`: a mapped page-table cap, i.e. one
/// with an ASID); `None` for any other cap.
pub fn vspace_root(c: &Cap) -> Option<PtRef> {
    match *c {
        Cap::Arch(ArchCap::PageTable {
            base,
            mapped: Some(_),
        }) => Some(base),
        _ => None,
    }
}

/// RISC-V `checkValidIPCBuffer(vptr, cap)` ([`vmcap::check_valid_ipc_buffer`]):
/// `IllegalOperation` unless a non-device frame, `AlignmentError` unless `vptr` is aligned to
/// `seL4_IPCBufferSizeBits`.
pub fn check_valid_ipc_buffer(vptr: u64, cap: Cap) -> Result<(), SyscallError> {
    let frame_is_device = match cap {
        Cap::Arch(ArchCap::Frame { is_device, .. }) => Some(is_device),
        _ => None,
    };
    let not_frame = "Requested IPC Buffer is not a frame cap.";
    vmcap::check_valid_ipc_buffer(
        vptr,
        frame_is_device,
        not_frame,
        "Requested IPC Buffer location",
    )
}

/// `Arch_deriveCap`: a frame cap's copy is unmapped; an unmapped page table cannot be copied
/// (`IllegalOperation`).
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
        ArchCap::PageTable { mapped: None, .. } => return Err(SyscallError::IllegalOperation),
        c => c,
    })
}

/// `Arch_updateCapData`: nothing on riscv64 (never the null cap).
pub fn update_cap_data(_preserve: bool, _data: u64, c: ArchCap) -> Option<ArchCap> {
    Some(c)
}

/// The root CNode's `seL4_CapSMC` slot stays null on riscv64 (no SMC cap).
pub fn root_smc_cap() -> Option<Cap> {
    None
}

/// `Arch_isCapRevocable`: no riscv64 cap is revocable.
pub fn is_cap_revocable(_derived: &ArchCap, _src: &Cap) -> bool {
    false
}

// `Arch_maskCapRights`, `Arch_sameRegionAs`, `Arch_sameObjectAs` (`crate::arch::vmcap`): on RISC-V an ASID pool
// lies in ASID control's region but is not the same object.
crate::arch::vmcap::vm_cap_hooks! {
    region: { (ArchCap::AsidControl, ArchCap::AsidPool { .. }) => true },
    object: { (ArchCap::AsidControl, ArchCap::AsidPool { .. }) => false },
}

/// `Arch_createObject`: the cap to a new frame or page table of type `t` at `ptr` (already
/// zeroed); `None` for a type that is not the architecture's.
#[inline(always)]
pub fn create_object(t: ObjectType, at: crate::mem::Carved, is_device: bool) -> Option<ArchCap> {
    let size = match t {
        ObjectType::SmallPage => FrameSize::Small,
        ObjectType::MegaPage => FrameSize::Mega,
        ObjectType::GigaPage => FrameSize::Giga,
        ObjectType::PageTable => {
            return Some(ArchCap::PageTable {
                base: at.object()?,
                mapped: None,
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

/// `Arch_finaliseCap(cap, final)`: a mapped frame is unmapped (whether or not final, as seL4
/// does); a final mapped page table gives up its ASID (a VSpace root) or is unlinked from its
/// parent; a final ASID pool is removed from the ASID table. Leaves nothing behind.
pub fn finalise_cap(k: &mut Kernel, c: ArchCap, is_final: bool) -> Cap {
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
        } if is_final => {
            vspace::delete_asid(k, m.asid, base);
            vspace::unmap_page_table(k, m.asid, m.vaddr, base);
        }
        ArchCap::AsidPool { ptr, asid_base } if is_final => {
            vspace::delete_asid_pool(k, asid_base, ptr);
        }
        _ => {}
    }
    Cap::Null
}

/// Any riscv64 cap, for property tests of the generic cap code (`ptrs`: object pointers).
#[cfg(test)]
pub fn arbitrary_arch_cap(
    ptrs: impl proptest::strategy::Strategy<Value = usize> + Clone + 'static,
) -> impl proptest::strategy::Strategy<Value = ArchCap> {
    use proptest::prelude::*;
    let mapping =
        proptest::option::of(
            (any::<u16>(), 0u64..(1 << 39)).prop_map(|(asid, v)| Mapping {
                asid,
                vaddr: v & !0xfff,
            }),
        );
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
        Just(ArchCap::AsidControl),
        (ptrs, any::<u16>()).prop_map(|(ptr, asid_base)| ArchCap::AsidPool {
            ptr: PPtr::sim(ptr),
            asid_base
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ptrs() -> impl Strategy<Value = usize> + Clone {
        prop_oneof![
            (0usize..(1 << 43)).prop_map(|p| p << 4),
            (0usize..(1 << 34)).prop_map(|p| 0xFFFF_FFC0_0000_0000usize + (p << 4)),
        ]
    }

    proptest! {
        /// The raw accessors the IPC and VSpace paths use agree with the full decoder.
        #[test]
        fn raw_accessors_match_decode(c in arbitrary_arch_cap(ptrs())) {
            let r = Cap::Arch(c).encode();
            prop_assert!(is_arch_cap_tag(r.tag()));
            prop_assert_eq!(r.tag(), c.tag());
            let frame = match c {
                ArchCap::Frame { base, size, rights, is_device, .. } => {
                    Some((base, size, rights, is_device))
                }
                _ => None,
            };
            prop_assert_eq!(frame_fields(r), frame);
            let pt = match c {
                ArchCap::PageTable { mapped, .. } => mapped,
                _ => None,
            };
            prop_assert_eq!(page_table_mapping(r), pt);
        }

        /// Setting a frame cap's mapping in its words gives the encoding of the decoded cap
        /// with that mapping.
        #[test]
        fn frame_mapping_in_the_raw_cap(
            c in arbitrary_arch_cap(ptrs()),
            asid in any::<u16>(),
            vaddr in 0u64..(1 << 39),
        ) {
            let ArchCap::Frame { base, size, rights, is_device, mapped } = c else {
                return Ok(());
            };
            let r = Cap::Arch(c).encode();
            prop_assert_eq!(frame_mapping(r), mapped);
            let m = Mapping { asid, vaddr };
            let with = Cap::Arch(ArchCap::Frame { base, size, rights, is_device, mapped: Some(m) });
            prop_assert_eq!(frame_with_mapping(r, m), with.encode());
        }
    }

    #[test]
    fn tags_are_sel4s() {
        assert_eq!(ArchCap::AsidControl.tag(), 11);
        let f = ArchCap::Frame {
            base: PPtr::NULL,
            size: FrameSize::Small,
            rights: VmRights::ReadWrite,
            is_device: false,
            mapped: None,
        };
        assert_eq!(f.tag(), 1);
        assert_eq!(
            ArchCap::PageTable {
                base: PPtr::NULL,
                mapped: None
            }
            .tag(),
            3
        );
        assert_eq!(
            ArchCap::AsidPool {
                ptr: PPtr::NULL,
                asid_base: 0
            }
            .tag(),
            13
        );
    }
}
