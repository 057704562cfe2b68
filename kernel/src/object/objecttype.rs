//! Operations on caps of any type (seL4 `src/object/objecttype.c`): deriving, updating cap
//! data, masking rights, creating objects and finalising them.

use crate::cap::{Cap, EpRights, ZombieType};
use crate::cte::{has_children, Cte, Slot};
use crate::error::SyscallError;
use crate::mem::PPtr;
use crate::object::tcb::{self, tcb_slot, TcbRef};
use crate::state::Kernel;
use abi::{CNodeCapData, CapRights, ObjectType};

/// `deriveCap(slot, cap)`: the cap to store when copying `cap` out of `slot`. Null for caps
/// that cannot be copied (zombies, IRQ control, reply caps).
///
/// Errors: `RevokeFirst` for an untyped with children; `IllegalOperation` for an unmapped page
/// table.
///
/// Out of line: inlined into the IPC transfer it grew that function's frame (+38 instructions
/// on a Call with one cap).
#[inline(never)]
pub fn derive_cap(slot: Slot, cap: Cap) -> Result<Cap, SyscallError> {
    Ok(match cap {
        Cap::Zombie { .. } | Cap::IrqControl => Cap::Null,
        // Non-MCS reply caps are never copied; MCS Reply caps are caps to objects.
        #[cfg(not(feature = "mcs"))]
        Cap::Reply { .. } => Cap::Null,
        Cap::Untyped { .. } => {
            if has_children(slot) {
                return Err(SyscallError::RevokeFirst);
            }
            cap
        }
        Cap::Arch(c) => Cap::Arch(crate::arch::arch_derive_cap(c)?),
        c => c,
    })
}

/// Why [`derive_cap`] refused, for `userError` lines.
#[cfg(feature = "debug_build")]
pub fn derive_failure(e: SyscallError) -> &'static str {
    match e {
        SyscallError::RevokeFirst => "Untyped cap has children",
        _ => "Deriving an unmapped PT cap",
    }
}

/// [`update_cap_data`] out of line, for TCB Configure and SetSpace (their root caps' data,
/// hardly ever non-zero): one copy instead of two inlined in `decode_space`.
#[inline(never)]
pub fn update_cap_data_cold(preserve: bool, data: u64, cap: Cap) -> Cap {
    update_cap_data(preserve, data, cap)
}

/// `updateCapData(preserve, data, cap)`: applies Mint/Mutate data. Sets the badge of an unbadged
/// endpoint or notification cap (null if already badged or `preserve`), and the guard of a CNode
/// cap (null if guard plus radix exceed 64 bits); the architecture's caps as it says. Other
/// caps are unchanged.
pub fn update_cap_data(preserve: bool, data: u64, cap: Cap) -> Cap {
    match cap {
        Cap::Arch(c) => {
            crate::arch::arch_update_cap_data(preserve, data, c).map_or(Cap::Null, Cap::Arch)
        }
        Cap::Endpoint { ptr, badge, rights } => {
            if !preserve && badge == 0 {
                Cap::Endpoint {
                    ptr,
                    badge: data,
                    rights,
                }
            } else {
                Cap::Null
            }
        }
        Cap::Notification { ptr, badge, rights } => {
            if !preserve && badge == 0 {
                Cap::Notification {
                    ptr,
                    badge: data,
                    rights,
                }
            } else {
                Cap::Null
            }
        }
        Cap::CNode { ptr, radix, .. } => {
            let d = CNodeCapData(data);
            let gs = d.guard_size();
            if gs + radix as u64 > abi::WORD_BITS as u64 {
                Cap::Null
            } else {
                let guard = if gs == 0 {
                    0
                } else {
                    d.guard() & ((1u64 << gs) - 1)
                };
                Cap::CNode {
                    ptr,
                    radix,
                    guard_size: gs as u8,
                    guard,
                }
            }
        }
        c => c,
    }
}

/// `maskCapRights(rights, cap)`.
pub fn mask_cap_rights(r: CapRights, cap: Cap) -> Cap {
    match cap {
        Cap::Endpoint { ptr, badge, rights } => Cap::Endpoint {
            ptr,
            badge,
            rights: rights.mask(r),
        },
        Cap::Notification { ptr, badge, rights } => Cap::Notification {
            ptr,
            badge,
            rights: EpRights {
                send: rights.send && r.write(),
                receive: rights.receive && r.read(),
                grant: false,
                grant_reply: false,
            },
        },
        #[cfg(not(feature = "mcs"))]
        Cap::Reply {
            tcb,
            master,
            can_grant,
        } => Cap::Reply {
            tcb,
            master,
            can_grant: can_grant && r.grant(),
        },
        #[cfg(feature = "mcs")]
        Cap::Reply { ptr, can_grant } => Cap::Reply {
            ptr,
            can_grant: can_grant && r.grant(),
        },
        Cap::Arch(c) => Cap::Arch(crate::arch::arch_mask_cap_rights(r, c)),
        c => c,
    }
}

/// `createObject`: initialises the (already zeroed) memory `at` as an object of type `t` and
/// returns the original cap to it (the null cap if a `t` does not fit in `at`, which retype
/// rules out). `user_size` is the retype size argument. In debug builds a new TCB is named
/// after its creator and joins the list of all TCBs.
pub fn create_object(
    k: &mut Kernel,
    t: ObjectType,
    at: crate::mem::Carved,
    user_size: u64,
    is_device: bool,
) -> Cap {
    macro_rules! obj {
        () => {
            match at.object() {
                Some(p) => p,
                None => return Cap::Null,
            }
        };
    }
    match t {
        ObjectType::Untyped => Cap::Untyped {
            ptr: obj!(),
            size_bits: user_size as u8,
            free_index: 0,
            is_device,
        },
        ObjectType::Tcb => {
            let tcb: TcbRef = obj!();
            tcb::init_tcb(tcb, k.cur_domain);
            #[cfg(feature = "debug_build")]
            crate::debug::tcbs::created(k, tcb);
            Cap::Thread { tcb }
        }
        ObjectType::Endpoint => Cap::Endpoint {
            ptr: crate::object::endpoint::EpRef(obj!()),
            badge: 0,
            rights: EpRights::ALL,
        },
        ObjectType::Notification => Cap::Notification {
            ptr: crate::object::notification::NtfnRef(obj!()),
            badge: 0,
            rights: EpRights {
                send: true,
                receive: true,
                grant: false,
                grant_reply: false,
            },
        },
        ObjectType::CapTable => Cap::CNode {
            ptr: obj!(),
            radix: user_size as u8,
            guard_size: 0,
            guard: 0,
        },
        // Zeroed memory is an unconfigured SchedContext (`refill_max` 0) and an unused Reply.
        #[cfg(feature = "mcs")]
        ObjectType::SchedContext => Cap::SchedContext {
            ptr: obj!(),
            size_bits: user_size as u8,
        },
        #[cfg(feature = "mcs")]
        ObjectType::Reply => Cap::Reply {
            ptr: obj!(),
            can_grant: true,
        },
        // The architecture's types (`Arch_createObject`).
        t => match crate::arch::arch_create_object(t, at, is_device) {
            Some(c) => Cap::Arch(c),
            None => Cap::Null,
        },
    }
}

/// `finaliseCap(cap, final, exposed)`: releases what `cap` holds when it is deleted. Returns the
/// remainder: Null when the slot may be emptied, or a Zombie for a CNode or TCB whose slots
/// must be cleared first.
pub fn finalise_cap(k: &mut Kernel, cap: Cap, is_final: bool) -> Cap {
    match cap {
        Cap::Endpoint { ptr, .. } if is_final => {
            crate::object::endpoint::cancel_all_ipc(k, ptr);
            Cap::Null
        }
        Cap::Notification { ptr, .. } if is_final => {
            crate::object::notification::unbind_and_cancel_all(k, ptr);
            Cap::Null
        }
        Cap::CNode { ptr, radix, .. } if is_final => Cap::Zombie {
            ptr,
            kind: ZombieType::CNode(radix),
            number: 1 << radix,
        },
        Cap::Thread { tcb: t } if is_final => {
            crate::object::tcb_ops::prepare_delete(k, t);
            #[cfg(feature = "debug_build")]
            crate::debug::tcbs::deleted(k, t);
            Cap::Zombie {
                ptr: t.slot(0).0,
                kind: ZombieType::Tcb,
                number: tcb_slot::COUNT as u64,
            }
        }
        Cap::Zombie { .. } => cap,
        Cap::Arch(c) => crate::arch::arch_finalise_cap(k, c, is_final),
        Cap::IrqHandler { irq } if is_final => {
            crate::object::interrupt::deleting_irq_handler(k, irq as usize);
            Cap::Null
        }
        #[cfg(feature = "mcs")]
        Cap::Reply { ptr, .. } if is_final => {
            crate::object::reply::finalise(k, ptr);
            Cap::Null
        }
        #[cfg(feature = "mcs")]
        Cap::SchedContext { ptr, .. } if is_final => {
            crate::object::sched_context::finalise(k, ptr);
            Cap::Null
        }
        _ => Cap::Null,
    }
}

/// The `i`-th slot of a zombie's object (a TCB's or a CNode's slots; `i` below the zombie's
/// original slot count, which is at most 2^`ZOMBIE_MAX_RADIX`).
pub fn zombie_slot(ptr: PPtr<Cte>, i: u64) -> Slot {
    Slot(ptr).index(ZOMBIE_MAX_RADIX, i as usize)
}

/// Bound of a zombie's slot index: the largest CNode radix a cap can hold (6 bits).
const ZOMBIE_MAX_RADIX: u32 = 63;
