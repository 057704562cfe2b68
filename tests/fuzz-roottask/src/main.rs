//! `fuzz-roottask`: fuzzing the kernel in QEMU from confined threads (`cargo xtask fuzz --qemu`;
//! docs/TESTING.md, "Fuzzing in QEMU").
//!
//! The root task builds [`layout::CHILDREN`] child threads, each in its own CSpace (a CNode of
//! 2^[`layout::CNODE_BITS`] slots) and VSpace, from one untyped `U` (16 MiB carved from the
//! largest RAM untyped).
//! Each child gets a mix of caps (`layout::S_*`): its CNode, a badged fault endpoint, an
//! untyped of its own, two endpoints and a notification shared with its siblings, its VSpace,
//! two frames and a page table, two siblings' TCBs, the ASID pool, an IRQ handler of an unused
//! interrupt, a small CNode, the next sibling's CNode and VSpace, its own TCB, and (MCS) a Reply
//! object and a sibling's SchedContext. It then
//! runs [`child::child_main`]: PRNG-driven syscalls and invocations, from a seed baked into the
//! image (`FUZZ_SEED`).
//!
//! The root task (priority 255) is the children's fault handler: every fault (or message on
//! the fault endpoint) restarts the child that sent it, with a full reconfiguration (its TCB,
//! CSpace root, VSpace, IPC buffer, priority, scheduling context and its two vital slots). A
//! ticker thread at the children's priority signals the root task at each of its turns (once
//! every runnable child had one); the root task then restarts children whose syscall count has
//! not moved (blocked for good, suspended by a sibling, spinning: at once if no child moved,
//! else after 2 ms), checks its canary every 10 ms of guest time (a page of PRNG data and its
//! checksum, the types of its own caps, the physical address of an image frame), and after
//! every `FUZZ_CYCLE` syscalls
//! revokes `U`, checks that every slot it filled from `U` is empty, that `U` retypes into one
//! untyped of its full size (it is whole again), checks the canary and builds everything anew.
//!
//! Output: `FUZZ START ...`, one `FUZZ CYCLE ...` line per rebuild, `FUZZ DONE ...` after
//! `FUZZ_ITERS` syscalls, then `FUZZ OK` and `seL4_DebugHalt`; `FUZZ FAIL <why>` and a halt on
//! any failed check.
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

#[cfg(target_os = "none")]
mod child;
#[cfg(target_os = "none")]
mod rng;
#[cfg(target_os = "none")]
mod rt;

/// Host builds have nothing to run: the root task exists for riscv64 only.
#[cfg(not(target_os = "none"))]
fn main() {}

/// A number from the build environment (decimal or `0x` hex), or `default`.
#[cfg_attr(not(target_os = "none"), allow(dead_code))]
const fn env_u64(v: Option<&str>, default: u64) -> u64 {
    let Some(s) = v else { return default };
    let b = s.as_bytes();
    let (mut i, radix) = if b.len() > 2 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') {
        (2, 16)
    } else {
        (0, 10)
    };
    let mut n: u64 = 0;
    while i < b.len() {
        let d = match b[i] {
            c @ b'0'..=b'9' => (c - b'0') as u64,
            c @ b'a'..=b'f' if radix == 16 => (c - b'a' + 10) as u64,
            c @ b'A'..=b'F' if radix == 16 => (c - b'A' + 10) as u64,
            b'_' => {
                i += 1;
                continue;
            }
            _ => panic!("FUZZ_*: not a number"),
        };
        n = n.wrapping_mul(radix).wrapping_add(d);
        i += 1;
    }
    n
}

/// The PRNG seed (`FUZZ_SEED` at build time).
#[cfg_attr(not(target_os = "none"), allow(dead_code))]
const SEED: u64 = env_u64(option_env!("FUZZ_SEED"), 1);
/// Stop after this many child syscalls (`FUZZ_ITERS`).
#[cfg_attr(not(target_os = "none"), allow(dead_code))]
const ITERS: u64 = env_u64(option_env!("FUZZ_ITERS"), 200_000);
/// Revoke and rebuild everything after this many child syscalls (`FUZZ_CYCLE`).
#[cfg_attr(not(target_os = "none"), allow(dead_code))]
const CYCLE: u64 = env_u64(option_env!("FUZZ_CYCLE"), 50_000);

/// The children's world: slots, addresses, sizes.
#[cfg_attr(not(target_os = "none"), allow(dead_code))]
pub mod layout {
    use abi::Word;
    /// Fuzzing children.
    pub const CHILDREN: usize = 4;
    /// Their priority and MCP (the ticker's too; the root task runs at 255).
    pub const CHILD_PRIO: Word = 100;
    /// A child's CNode: 2^8 slots, with a guard of 56 bits so that a CPtr is a slot index.
    pub const CNODE_BITS: Word = 8;
    /// The small CNode each child gets besides: 2^4 slots.
    pub const SMALL_BITS: Word = 4;
    /// A child's own untyped: 2^18 bytes.
    pub const UT_BITS: Word = 18;
    /// Slots of a child's CNode.
    pub const S_CNODE: Word = 1;
    pub const S_FAULT: Word = 2;
    pub const S_UT: Word = 3;
    pub const S_EPA: Word = 4;
    pub const S_EPB: Word = 5;
    pub const S_NTFN: Word = 6;
    pub const S_VSPACE: Word = 7;
    pub const S_FRAME0: Word = 8;
    pub const S_FRAME1: Word = 9;
    pub const S_PT: Word = 10;
    pub const S_TCB0: Word = 11;
    pub const S_TCB1: Word = 12;
    pub const S_ASID_POOL: Word = 13;
    pub const S_IRQ: Word = 14;
    /// MCS: the child's Reply object; otherwise a read-write copy of endpoint A.
    pub const S_REPLY: Word = 15;
    /// Alias of [`S_REPLY`] for the non-MCS endpoint copy.
    pub const S_EXTRA: Word = 15;
    /// MCS: a sibling's SchedContext; otherwise a read-only copy of the notification.
    pub const S_SC: Word = 16;
    pub const S_SMALL: Word = 17;
    /// The next sibling's CNode (with its guard) and VSpace root: cap operations in a CSpace
    /// another thread is using, mappings in its address space.
    pub const S_SIB_CNODE: Word = 18;
    pub const S_SIB_VSPACE: Word = 19;
    /// The child's own TCB (invocations on the calling thread).
    pub const S_SELF_TCB: Word = 20;
    /// The first slot the root task leaves empty.
    pub const FIRST_FREE: Word = 21;
    /// Slots the children aim at (`0..SLOTS_USED`).
    pub const SLOTS_USED: Word = 64;
    /// The stack: `STACK_PAGES` pages from `STACK_BASE`.
    pub const STACK_BASE: Word = 0x1000_0000;
    pub const STACK_PAGES: Word = 4;
    /// The IPC buffer frame; the child's `ThreadBlock` is at `TB_OFFSET` in it and its status
    /// word (syscalls made) at `STATUS_OFFSET`.
    pub const IPC: Word = 0x1010_0000;
    pub const TB_OFFSET: Word = 2048;
    pub const STATUS_OFFSET: Word = 3072;
    /// Where the child maps its own frames: `PLAY_PAGES` pages.
    pub const PLAY: Word = 0x2000_0000;
    pub const PLAY_PAGES: Word = 512;
    /// Where the root task maps the children's IPC buffer frames (one page each).
    pub const VIEW: Word = 0x8000_0000;
    /// The unused interrupt whose handler the children get (no device on QEMU virt's PLIC).
    pub const IRQ: Word = 20;
}

#[cfg(target_os = "none")]
mod root;

#[cfg(target_os = "none")]
use root::root_main;
