//! Capabilities: the 16-byte representation stored in CNode slots, and its decoded form.
//!
//! The encoding is internal to the kernel (only the slot size, `seL4_SlotBits` = 5, is ABI):
//! - word 0, bits 63..59: the cap type, numbered as seL4's `capType` tags
//!   (`include/object/structures_64.bf`, `include/arch/riscv/arch/64/mode/object/structures.bf`),
//!   so that `seL4_DebugCapIdentify` returns seL4's numbers;
//! - word 0, bits 43..0: the object pointer shifted right by 4 (objects are at least 16-byte
//!   aligned), sign-extended from bit 43 when decoded;
//! - the remaining bits per type, see [`Cap::encode`].
#![forbid(unsafe_code)]

use crate::arch::ArchCap;
use crate::cte::Cte;
use crate::mem::PPtr;
use crate::object::endpoint::EpRef;
use crate::object::notification::NtfnRef;
use crate::object::tcb::TcbRef;
use abi::CapRights;

/// seL4's cap type tags.
pub mod tag {
    /// `cap_null_cap`
    pub const NULL: u64 = 0;
    /// `cap_untyped_cap`
    pub const UNTYPED: u64 = 2;
    /// `cap_endpoint_cap`
    pub const ENDPOINT: u64 = 4;
    /// `cap_notification_cap`
    pub const NOTIFICATION: u64 = 6;
    /// `cap_reply_cap`
    pub const REPLY: u64 = 8;
    /// `cap_cnode_cap`
    pub const CNODE: u64 = 10;
    /// `cap_thread_cap`
    pub const THREAD: u64 = 12;
    /// `cap_irq_control_cap`
    pub const IRQ_CONTROL: u64 = 14;
    /// `cap_irq_handler_cap`
    pub const IRQ_HANDLER: u64 = 16;
    /// `cap_zombie_cap`
    pub const ZOMBIE: u64 = 18;
    /// `cap_domain_cap`
    pub const DOMAIN: u64 = 20;
    /// `cap_sched_context_cap` (MCS)
    pub const SCHED_CONTEXT: u64 = 22;
    /// `cap_sched_control_cap` (MCS)
    pub const SCHED_CONTROL: u64 = 24;
    // The architecture's caps have odd tags (seL4's `isArchCap`): `crate::arch::cap_tag`.
}

/// Rights of an endpoint or notification cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct EpRights {
    /// May send (seL4 `capCanSend`, from the Write right).
    pub send: bool,
    /// May receive (`capCanReceive`, from Read).
    pub receive: bool,
    /// May grant caps (`capCanGrant`).
    pub grant: bool,
    /// May grant a reply cap (`capCanGrantReply`).
    pub grant_reply: bool,
}

/// The bits of [`EpRights`] as stored in a cap (at [`EP_RIGHTS_SHIFT`] in word 0).
pub mod ep_right {
    /// `capCanSend`.
    pub const SEND: u64 = 1;
    /// `capCanReceive`.
    pub const RECEIVE: u64 = 2;
    /// `capCanGrant`.
    pub const GRANT: u64 = 4;
    /// `capCanGrantReply`.
    pub const GRANT_REPLY: u64 = 8;
}

impl EpRights {
    /// All rights.
    pub const ALL: EpRights = EpRights {
        send: true,
        receive: true,
        grant: true,
        grant_reply: true,
    };
    fn bits(self) -> u64 {
        (self.send as u64 * ep_right::SEND)
            | (self.receive as u64 * ep_right::RECEIVE)
            | (self.grant as u64 * ep_right::GRANT)
            | (self.grant_reply as u64 * ep_right::GRANT_REPLY)
    }
    fn from_bits(b: u64) -> Self {
        EpRights {
            send: b & ep_right::SEND != 0,
            receive: b & ep_right::RECEIVE != 0,
            grant: b & ep_right::GRANT != 0,
            grant_reply: b & ep_right::GRANT_REPLY != 0,
        }
    }
    /// `maskCapRights` for endpoints: each right kept only if the mask has it.
    pub fn mask(self, r: CapRights) -> Self {
        EpRights {
            send: self.send && r.write(),
            receive: self.receive && r.read(),
            grant: self.grant && r.grant(),
            grant_reply: self.grant_reply && r.grant_reply(),
        }
    }
}

/// What a zombie is the remains of (seL4 `ZombieType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZombieType {
    /// A TCB (its CNode slots are cleared one by one).
    Tcb,
    /// A CNode with 2^radix slots.
    CNode(u8),
}

/// A decoded capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cap {
    /// The empty slot.
    Null,
    /// Untyped memory at `ptr` of 2^`size_bits` bytes; `free_index` bytes from its start are
    /// used (the watermark).
    Untyped {
        ptr: PPtr<crate::mem::UntypedMemory>,
        size_bits: u8,
        free_index: u64,
        is_device: bool,
    },
    /// An endpoint.
    Endpoint {
        ptr: EpRef,
        badge: u64,
        rights: EpRights,
    },
    /// A notification.
    Notification {
        ptr: NtfnRef,
        badge: u64,
        rights: EpRights,
    },
    /// A reply cap to the TCB at `tcb`; `master` for the TCB's own reply slot (non-MCS).
    #[cfg(not(feature = "mcs"))]
    Reply {
        tcb: TcbRef,
        master: bool,
        can_grant: bool,
    },
    /// A cap to the Reply object at `ptr` (MCS); `can_grant` lets the reply carry caps.
    #[cfg(feature = "mcs")]
    Reply {
        ptr: crate::object::reply::ReplyRef,
        can_grant: bool,
    },
    /// A scheduling context of 2^`size_bits` bytes (MCS).
    #[cfg(feature = "mcs")]
    SchedContext {
        ptr: crate::object::sched_context::ScRef,
        size_bits: u8,
    },
    /// The SchedControl cap of core `core` (MCS): configures scheduling contexts.
    #[cfg(feature = "mcs")]
    SchedControl { core: u64 },
    /// A CNode of 2^`radix` slots with a guard of `guard_size` bits.
    CNode {
        ptr: PPtr<Cte>,
        radix: u8,
        guard_size: u8,
        guard: u64,
    },
    /// A thread (TCB).
    Thread { tcb: TcbRef },
    /// The IRQ control cap.
    IrqControl,
    /// The handler of interrupt `irq`.
    IrqHandler { irq: u64 },
    /// An object being deleted; `number` slots remain to clear.
    Zombie {
        ptr: PPtr<Cte>,
        kind: ZombieType,
        number: u64,
    },
    /// The domain cap.
    Domain,
    /// A cap to an object of the architecture (seL4's `isArchCap`: frames, page tables, ASID
    /// control and pools on riscv64), handled by `crate::arch`.
    Arch(ArchCap),
}

pub use crate::mem::RawCap;

/// Position of the four rights bits (send, receive, grant, grant reply: see
/// `EpRights::bits`) in word 0 of endpoint and notification caps: right below the type tag,
/// so that the IPC fastpath checks tag and rights with one shift.
pub const EP_RIGHTS_SHIFT: u32 = 55;

/// Word 0 of a CNode cap: set when guard size + radix = 64, i.e. the CNode resolves a whole
/// CPtr in one step (derived from the two fields by the encoder; the IPC fastpath's
/// one-level lookup tests it together with the type tag).
pub const CNODE_ONE_LEVEL_BIT: u64 = 1 << 57;

/// Word 0 of a reply cap: the `capReplyMaster` bit.
pub const REPLY_MASTER_BIT: u64 = 1 << 44;
/// Word 0 of a reply cap: the `capReplyCanGrant` bit.
pub const REPLY_CAN_GRANT_BIT: u64 = 1 << 45;

/// Bits `shift..shift + bits` of `w`.
#[inline(always)]
pub(crate) fn field(w: u64, shift: u32, bits: u32) -> u64 {
    (w >> shift) & ((1 << bits) - 1)
}

impl RawCap {
    /// Whether this is the null cap.
    pub const fn is_null(self) -> bool {
        self.tag() == tag::NULL
    }

    /// Radix of a CNode cap (only meaningful if `tag() == tag::CNODE`).
    #[inline(always)]
    pub fn cnode_radix(self) -> u64 {
        field(self.w0(), 44, 6)
    }

    /// Guard size of a CNode cap.
    #[inline(always)]
    pub fn cnode_guard_size(self) -> u64 {
        field(self.w0(), 50, 7)
    }

    /// Rights of an endpoint or notification cap.
    #[inline(always)]
    pub fn ep_rights(self) -> EpRights {
        EpRights::from_bits(field(self.w0(), EP_RIGHTS_SHIFT, 4))
    }

    /// A reply cap to the TCB at `tcb` (what `Cap::Reply { .. }.encode()` gives).
    #[cfg(not(feature = "mcs"))]
    #[inline(always)]
    pub fn reply(tcb: TcbRef, master: bool, can_grant: bool) -> RawCap {
        RawCap::with_object(
            (tag::REPLY << 59)
                | (master as u64 * REPLY_MASTER_BIT)
                | (can_grant as u64 * REPLY_CAN_GRANT_BIT),
            tcb,
            0,
        )
    }

    /// Whether a reply cap is the master reply cap of its TCB (non-MCS).
    #[cfg(not(feature = "mcs"))]
    #[inline(always)]
    pub fn reply_master(self) -> bool {
        field(self.w0(), 44, 1) != 0
    }

    /// Decodes the cap.
    pub fn decode(self) -> Cap {
        let (w0, w1) = (self.w0(), self.w1());
        // Each arm's `object` repeats the tag test of the `match` (and compiles to nothing);
        // `Cap::Null` for a cap whose tag names no object of the type never happens.
        macro_rules! obj {
            () => {
                match self.object() {
                    Some(p) => p,
                    None => return Cap::Null,
                }
            };
        }
        match self.tag() {
            tag::UNTYPED => Cap::Untyped {
                ptr: obj!(),
                size_bits: field(w0, 44, 6) as u8,
                is_device: field(w0, 50, 1) != 0,
                free_index: w1,
            },
            tag::ENDPOINT => Cap::Endpoint {
                ptr: EpRef(obj!()),
                badge: w1,
                rights: EpRights::from_bits(field(w0, EP_RIGHTS_SHIFT, 4)),
            },
            tag::NOTIFICATION => Cap::Notification {
                ptr: NtfnRef(obj!()),
                badge: w1,
                rights: EpRights::from_bits(field(w0, EP_RIGHTS_SHIFT, 4)),
            },
            #[cfg(not(feature = "mcs"))]
            tag::REPLY => Cap::Reply {
                tcb: obj!(),
                master: field(w0, 44, 1) != 0,
                can_grant: field(w0, 45, 1) != 0,
            },
            #[cfg(feature = "mcs")]
            tag::REPLY => Cap::Reply {
                ptr: obj!(),
                can_grant: field(w0, 45, 1) != 0,
            },
            #[cfg(feature = "mcs")]
            tag::SCHED_CONTEXT => Cap::SchedContext {
                ptr: obj!(),
                size_bits: field(w0, 44, 6) as u8,
            },
            #[cfg(feature = "mcs")]
            tag::SCHED_CONTROL => Cap::SchedControl { core: w1 },
            tag::CNODE => Cap::CNode {
                ptr: obj!(),
                radix: field(w0, 44, 6) as u8,
                guard_size: field(w0, 50, 7) as u8,
                guard: w1,
            },
            tag::THREAD => Cap::Thread { tcb: obj!() },
            tag::IRQ_CONTROL => Cap::IrqControl,
            tag::IRQ_HANDLER => Cap::IrqHandler { irq: w1 },
            tag::ZOMBIE => Cap::Zombie {
                ptr: obj!(),
                kind: match field(w0, 44, 7) {
                    127 => ZombieType::Tcb,
                    r => ZombieType::CNode(r as u8),
                },
                number: w1,
            },
            tag::DOMAIN => Cap::Domain,
            t => match ArchCap::decode(t, self) {
                Some(c) => Cap::Arch(c),
                None => Cap::Null,
            },
        }
    }
}

impl Cap {
    /// Encodes the cap for storage in a slot.
    #[inline]
    pub fn encode(self) -> RawCap {
        let t = |tag: u64, rest: u64| (tag << 59) | rest;
        match self {
            Cap::Null => RawCap::NULL,
            Cap::Untyped {
                ptr,
                size_bits,
                free_index,
                is_device,
            } => RawCap::with_object(
                t(
                    tag::UNTYPED,
                    (size_bits as u64) << 44 | (is_device as u64) << 50,
                ),
                ptr,
                free_index,
            ),
            Cap::Endpoint { ptr, badge, rights } => RawCap::with_object(
                t(tag::ENDPOINT, rights.bits() << EP_RIGHTS_SHIFT),
                ptr.0,
                badge,
            ),
            Cap::Notification { ptr, badge, rights } => RawCap::with_object(
                t(tag::NOTIFICATION, rights.bits() << EP_RIGHTS_SHIFT),
                ptr.0,
                badge,
            ),
            #[cfg(not(feature = "mcs"))]
            Cap::Reply {
                tcb,
                master,
                can_grant,
            } => RawCap::reply(tcb, master, can_grant),
            #[cfg(feature = "mcs")]
            Cap::Reply { ptr, can_grant } => {
                RawCap::with_object(t(tag::REPLY, (can_grant as u64) << 45), ptr, 0)
            }
            #[cfg(feature = "mcs")]
            Cap::SchedContext { ptr, size_bits } => {
                RawCap::with_object(t(tag::SCHED_CONTEXT, (size_bits as u64) << 44), ptr, 0)
            }
            #[cfg(feature = "mcs")]
            Cap::SchedControl { core } => RawCap::without_object(tag::SCHED_CONTROL << 59, core),
            Cap::CNode {
                ptr,
                radix,
                guard_size,
                guard,
            } => RawCap::with_object(
                t(
                    tag::CNODE,
                    (radix as u64) << 44
                        | (guard_size as u64) << 50
                        | ((radix as u64 + guard_size as u64 == 64) as u64 * CNODE_ONE_LEVEL_BIT),
                ),
                ptr,
                guard,
            ),
            Cap::Thread { tcb } => RawCap::with_object(t(tag::THREAD, 0), tcb, 0),
            Cap::IrqControl => RawCap::without_object(tag::IRQ_CONTROL << 59, 0),
            Cap::IrqHandler { irq } => RawCap::without_object(tag::IRQ_HANDLER << 59, irq),
            Cap::Zombie { ptr, kind, number } => {
                let k = match kind {
                    ZombieType::Tcb => 127,
                    ZombieType::CNode(r) => r as u64,
                };
                RawCap::with_object(t(tag::ZOMBIE, k << 44), ptr, number)
            }
            Cap::Domain => RawCap::without_object(tag::DOMAIN << 59, 0),
            Cap::Arch(c) => c.encode(),
        }
    }

    /// Whether this is the null cap.
    pub fn is_null(&self) -> bool {
        matches!(self, Cap::Null)
    }

    /// The seL4 type tag.
    pub fn tag(&self) -> u64 {
        match self {
            Cap::Null => tag::NULL,
            Cap::Untyped { .. } => tag::UNTYPED,
            Cap::Endpoint { .. } => tag::ENDPOINT,
            Cap::Notification { .. } => tag::NOTIFICATION,
            Cap::Reply { .. } => tag::REPLY,
            Cap::CNode { .. } => tag::CNODE,
            Cap::Thread { .. } => tag::THREAD,
            Cap::IrqControl => tag::IRQ_CONTROL,
            Cap::IrqHandler { .. } => tag::IRQ_HANDLER,
            Cap::Zombie { .. } => tag::ZOMBIE,
            Cap::Domain => tag::DOMAIN,
            #[cfg(feature = "mcs")]
            Cap::SchedContext { .. } => tag::SCHED_CONTEXT,
            #[cfg(feature = "mcs")]
            Cap::SchedControl { .. } => tag::SCHED_CONTROL,
            Cap::Arch(c) => c.tag(),
        }
    }

    /// The object this cap names and its size in bytes, for caps to memory objects
    /// (`capUntypedPtr`/`capUntypedSize` in seL4's `sameRegionAs`). `None` for caps naming no
    /// memory (IRQ, domain and ASID control, SchedControl, null, non-MCS reply).
    pub fn region(&self) -> Option<(usize, u64)> {
        use abi::object::*;
        Some(match *self {
            Cap::Untyped { ptr, size_bits, .. } => (ptr.addr(), 1 << size_bits),
            Cap::Endpoint { ptr, .. } => (ptr.addr(), 1 << ENDPOINT_BITS),
            Cap::Notification { ptr, .. } => (ptr.addr(), 1 << NOTIFICATION_BITS),
            Cap::CNode { ptr, radix, .. } => (ptr.addr(), 1 << (radix as u64 + SLOT_BITS)),
            Cap::Thread { tcb } => (tcb.addr(), 1 << TCB_BITS),
            #[cfg(feature = "mcs")]
            Cap::Reply { ptr, .. } => (ptr.addr(), 1 << REPLY_BITS),
            #[cfg(feature = "mcs")]
            Cap::SchedContext { ptr, size_bits } => (ptr.addr(), 1 << size_bits),
            Cap::Zombie {
                ptr,
                kind: ZombieType::Tcb,
                ..
            } => (ptr.addr(), 1 << TCB_BITS),
            Cap::Zombie {
                ptr,
                kind: ZombieType::CNode(r),
                ..
            } => (ptr.addr(), 1 << (r as u64 + SLOT_BITS)),
            Cap::Arch(c) => return c.region(),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Object pointers as caps hold them: host addresses and kernel-window addresses.
    pub fn ptrs() -> impl Strategy<Value = usize> + Clone {
        prop_oneof![
            (0usize..(1 << 43)).prop_map(|p| p << 4),
            (0usize..(1 << 34)).prop_map(|p| 0xFFFF_FFC0_0000_0000usize + (p << 4)),
        ]
    }

    /// [`ptrs`] as references (never dereferenced here).
    fn pptrs<T>() -> impl Strategy<Value = PPtr<T>> + Clone {
        ptrs().prop_map(PPtr::sim)
    }

    /// The caps that differ between configurations: non-MCS reply caps; MCS reply,
    /// SchedContext and SchedControl caps.
    #[cfg(not(feature = "mcs"))]
    fn config_caps() -> impl Strategy<Value = Cap> {
        (pptrs(), any::<bool>(), any::<bool>()).prop_map(|(tcb, master, can_grant)| Cap::Reply {
            tcb,
            master,
            can_grant,
        })
    }

    /// See the non-MCS version.
    #[cfg(feature = "mcs")]
    fn config_caps() -> impl Strategy<Value = Cap> {
        prop_oneof![
            (pptrs(), any::<bool>()).prop_map(|(ptr, can_grant)| Cap::Reply { ptr, can_grant }),
            (pptrs(), 7u8..=38).prop_map(|(ptr, size_bits)| Cap::SchedContext { ptr, size_bits }),
            (0u64..4).prop_map(|core| Cap::SchedControl { core }),
        ]
    }

    fn caps() -> impl Strategy<Value = Cap> {
        let rights = (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
            |(a, b, c, d)| EpRights {
                send: a,
                receive: b,
                grant: c,
                grant_reply: d,
            },
        );
        prop_oneof![
            Just(Cap::Null),
            (pptrs(), 4u8..=38, any::<u64>(), any::<bool>()).prop_map(|(ptr, size_bits, f, d)| {
                Cap::Untyped {
                    ptr,
                    size_bits,
                    free_index: f % (1 << 38),
                    is_device: d,
                }
            }),
            (pptrs(), any::<u64>(), rights.clone()).prop_map(|(ptr, badge, rights)| {
                Cap::Endpoint {
                    ptr: EpRef(ptr),
                    badge,
                    rights,
                }
            }),
            (pptrs(), any::<u64>(), rights).prop_map(|(ptr, badge, rights)| Cap::Notification {
                ptr: NtfnRef(ptr),
                badge,
                rights
            }),
            config_caps(),
            (pptrs(), 1u8..=58, 0u8..=64, any::<u64>()).prop_map(|(ptr, radix, gs, guard)| {
                Cap::CNode {
                    ptr,
                    radix,
                    guard_size: gs,
                    guard,
                }
            }),
            pptrs().prop_map(|tcb| Cap::Thread { tcb }),
            Just(Cap::IrqControl),
            (0u64..96).prop_map(|irq| Cap::IrqHandler { irq }),
            (pptrs(), 0u8..=58, any::<bool>(), any::<u64>()).prop_map(|(ptr, r, t, number)| {
                Cap::Zombie {
                    ptr,
                    kind: if t {
                        ZombieType::Tcb
                    } else {
                        ZombieType::CNode(r)
                    },
                    number,
                }
            }),
            Just(Cap::Domain),
            crate::arch::arbitrary_arch_cap(ptrs()).prop_map(Cap::Arch),
        ]
    }

    proptest! {
        #[test]
        fn encode_decode_roundtrip(c in caps()) {
            prop_assert_eq!(c.encode().decode(), c);
        }

        /// The raw accessors the IPC paths use agree with the full decoder.
        #[test]
        fn raw_accessors_match_decode(c in caps()) {
            let r = c.encode();
            prop_assert_eq!(r.tag(), c.tag());
            match c {
                Cap::Endpoint { ptr, rights, .. } => {
                    prop_assert_eq!((r.object(), r.ep_rights()), (Some(ptr.0), rights));
                }
                Cap::Notification { ptr, rights, .. } => {
                    prop_assert_eq!((r.object(), r.ep_rights()), (Some(ptr.0), rights));
                }
                Cap::CNode { ptr, radix, guard_size, .. } => {
                    prop_assert_eq!(
                        (r.object(), r.cnode_radix(), r.cnode_guard_size()),
                        (Some(ptr), radix as u64, guard_size as u64)
                    );
                    prop_assert_eq!(
                        r.w0() & CNODE_ONE_LEVEL_BIT != 0,
                        radix as u64 + guard_size as u64 == 64
                    );
                }
                #[cfg(not(feature = "mcs"))]
                Cap::Reply { tcb, master, .. } => {
                    prop_assert_eq!((r.object(), r.reply_master()), (Some(tcb), master));
                }
                _ => {}
            }
        }
    }

    #[cfg(not(feature = "mcs"))]
    #[test]
    fn raw_reply_matches_encode() {
        for (m, g) in [(false, false), (true, false), (false, true), (true, true)] {
            let c = Cap::Reply {
                tcb: PPtr::sim(0xFFFF_FFC0_1234_5800),
                master: m,
                can_grant: g,
            };
            assert_eq!(
                RawCap::reply(PPtr::sim(0xFFFF_FFC0_1234_5800), m, g),
                c.encode()
            );
        }
    }

    #[test]
    fn tags_are_sel4s() {
        assert_eq!(Cap::Null.tag(), 0);
        assert_eq!(
            Cap::Thread {
                tcb: PPtr::sim(0x1000)
            }
            .tag(),
            12
        );
        assert!(RawCap::default().is_null());
    }
}
