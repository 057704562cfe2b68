//! Thread control blocks (seL4 `src/object/tcb.c`, `include/object/structures.h`).
//!
//! A TCB object is 2^`seL4_TCBBits` (2 KiB) of object memory holding a [`Tcb`]: first its five
//! CNode slots (seL4's `tcb_cnode_index`), then the register context and scheduling state.

use crate::arch::ArchContext;
use crate::cte::{Cte, Slot};
use crate::mem::{EitherLink, Link, PPtr};
use crate::object::notification::Notification;

/// TCB CNode slot indices (`tcb_cnode_index`, `include/object/structures.h`).
pub mod tcb_slot {
    /// `tcbCTable`: the thread's CSpace root.
    pub const CTABLE: usize = 0;
    /// `tcbVTable`: the thread's VSpace root.
    pub const VTABLE: usize = 1;
    /// `tcbReply`: the master reply cap (non-MCS).
    #[cfg(not(feature = "mcs"))]
    pub const REPLY: usize = 2;
    /// `tcbCaller`: the reply cap to the thread that called this one (non-MCS).
    #[cfg(not(feature = "mcs"))]
    pub const CALLER: usize = 3;
    /// `tcbBuffer`: the frame holding the IPC buffer.
    #[cfg(not(feature = "mcs"))]
    pub const BUFFER: usize = 4;
    /// `tcbBuffer`: the frame holding the IPC buffer (MCS: slot 2).
    #[cfg(feature = "mcs")]
    pub const BUFFER: usize = 2;
    /// `tcbFaultHandler` (MCS): a copy of the fault endpoint cap, used when the thread faults.
    #[cfg(feature = "mcs")]
    pub const FAULT_HANDLER: usize = 3;
    /// `tcbTimeoutHandler` (MCS): a copy of the timeout endpoint cap.
    #[cfg(feature = "mcs")]
    pub const TIMEOUT_HANDLER: usize = 4;
    /// `tcbCNodeEntries`.
    pub const COUNT: usize = 5;
}

/// seL4 `_thread_state` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum ThreadState {
    /// `ThreadState_Inactive`: not runnable (new or suspended).
    Inactive = 0,
    /// `ThreadState_Running`.
    Running = 1,
    /// `ThreadState_Restart`: runnable; the syscall is re-executed on return.
    Restart = 2,
    /// `ThreadState_BlockedOnReceive`.
    BlockedOnReceive = 3,
    /// `ThreadState_BlockedOnSend`.
    BlockedOnSend = 4,
    /// `ThreadState_BlockedOnReply`.
    BlockedOnReply = 5,
    /// `ThreadState_BlockedOnNotification`.
    BlockedOnNotification = 6,
    /// `ThreadState_IdleThreadState`.
    Idle = 7,
}

impl ThreadState {
    /// The state's name as `{:?}` prints it (for console output without `core::fmt`).
    pub fn name(self) -> &'static str {
        match self {
            ThreadState::Inactive => "Inactive",
            ThreadState::Running => "Running",
            ThreadState::Restart => "Restart",
            ThreadState::BlockedOnReceive => "BlockedOnReceive",
            ThreadState::BlockedOnSend => "BlockedOnSend",
            ThreadState::BlockedOnReply => "BlockedOnReply",
            ThreadState::BlockedOnNotification => "BlockedOnNotification",
            ThreadState::Idle => "Idle",
        }
    }

    /// Decodes a stored state (unknown values read as Inactive).
    pub fn from_word(w: u64) -> Self {
        match w {
            1 => ThreadState::Running,
            2 => ThreadState::Restart,
            3 => ThreadState::BlockedOnReceive,
            4 => ThreadState::BlockedOnSend,
            5 => ThreadState::BlockedOnReply,
            6 => ThreadState::BlockedOnNotification,
            7 => ThreadState::Idle,
            _ => ThreadState::Inactive,
        }
    }
    /// `isRunnable`.
    pub fn is_runnable(self) -> bool {
        matches!(self, ThreadState::Running | ThreadState::Restart)
    }
}

/// `seL4_TCBFlag_fpuDisabled`: the thread runs with the FPU off (an FP instruction faults) and
/// the kernel never switches FPU state for it.
pub const TCB_FLAG_FPU_DISABLED: u64 = 1;

/// Length of a thread's debug name (`seL4_DebugNameThread`), including the NUL.
pub const TCB_NAME_LEN: usize = 64;

/// The TCB object. Plain old data: zeroed memory is an inactive thread with no caps.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct Tcb {
    /// Saved user registers, first where `build.rs` says so (`tcb_context_first`: the
    /// context's address is then the TCB's, and the IPC fastpath's exit needs no address
    /// computation for it), else after the slots.
    #[cfg(tcb_context_first)]
    pub context: ArchContext,
    /// The TCB's CNode slots, indexed by [`tcb_slot`].
    pub slots: [Cte; tcb_slot::COUNT],
    /// Saved user registers (see above).
    #[cfg(not(tcb_context_first))]
    pub context: ArchContext,
    /// [`ThreadState`] as a word.
    pub state: u64,
    /// The endpoint or notification the thread is blocked on, or none (see
    /// [`TcbRef::blocked_on_ep`]).
    pub blocking_object: EitherLink<crate::object::endpoint::Endpoint, Notification>,
    /// Badge of a blocked send, or other per-state word.
    pub blocking_badge: u64,
    /// Flags of a blocked IPC: bit 0 can grant, bit 1 can grant reply, bit 2 is call.
    pub blocking_flags: u64,
    /// pc of the instruction that entered the kernel (seL4 `FaultIP`); a thread resumed in
    /// `Restart` state continues here.
    pub fault_ip: u64,
    /// User virtual address of the IPC buffer (`tcbIPCBuffer`).
    pub ipc_buffer: u64,
    /// CPtr of the fault handler endpoint (`tcbFaultHandler`; non-MCS: MCS keeps a cap in
    /// `tcb_slot::FAULT_HANDLER`).
    #[cfg(not(feature = "mcs"))]
    pub fault_handler: u64,
    /// Priority 0..=255.
    pub priority: u64,
    /// Maximum controlled priority.
    pub mcp: u64,
    /// Scheduling domain.
    pub domain: u64,
    /// Remaining ticks of the time slice (non-MCS; MCS threads run on scheduling contexts).
    #[cfg(not(feature = "mcs"))]
    pub time_slice: u64,
    /// MCS: the scheduling context the thread runs on (`tcbSchedContext`; none: the thread is
    /// passive).
    #[cfg(feature = "mcs")]
    pub sched_context: Link<crate::object::sched_context::SchedContext>,
    /// MCS: the scheduling context this thread yielded to with `seL4_SchedContext_YieldTo`
    /// (`tcbYieldTo`), or none.
    #[cfg(feature = "mcs")]
    pub yield_to: Link<crate::object::sched_context::SchedContext>,
    /// MCS: the Reply object of the thread state (seL4 `thread_state.replyObject`): while
    /// BlockedOnReceive the one it will get the caller's reply on, while BlockedOnReply the
    /// one its callee answers through; or none.
    #[cfg(feature = "mcs")]
    pub reply_object: Link<crate::object::reply::Reply>,
    /// MCS: whether the thread is in the release queue (`tcbInReleaseQueue`), linked through
    /// `sched_next`/`sched_prev` (a thread is never in both queues).
    #[cfg(feature = "mcs")]
    pub in_release_queue: u64,
    /// `seL4_TCBFlag_*` bits.
    pub flags: u64,
    /// Bound notification, or none.
    pub bound_notification: Link<Notification>,
    /// Whether the thread is in a ready queue (seL4 `tcbQueued`).
    pub queued: u64,
    /// Ready-queue and endpoint-queue links.
    pub sched_next: Link<Tcb>,
    /// See `sched_next`.
    pub sched_prev: Link<Tcb>,
    /// See `sched_next`.
    pub ep_next: Link<Tcb>,
    /// See `sched_next`.
    pub ep_prev: Link<Tcb>,
    /// Pending fault: type and words (seL4 `seL4_Fault_t`), as `ipc::Fault` writes and reads
    /// them (nothing else does).
    pub fault: [u64; 3],
    /// Pending lookup failure for a cap fault (see `fault`).
    pub lookup_failure: [u64; 4],
    /// The architecture's per-thread state (riscv64: the cached address-space root), valid as
    /// far as it caches address-space state while `vm_gen` equals `Kernel::vm_gen`.
    pub arch: crate::arch::ArchTcb,
    /// Generation of the address-space state cached in `arch` (see `Kernel::vm_gen`).
    pub vm_gen: u64,
    /// Debug name, NUL-terminated.
    pub name: [u8; TCB_NAME_LEN],
    /// Debug builds: the next TCB in the list of all TCBs (`tcbDebugNext`, see
    /// `debug::tcbs`; a TCB, the idle thread's entry, or none).
    #[cfg(feature = "debug_build")]
    pub debug_next: crate::debug::tcbs::DebugLink,
    /// Debug builds: the previous one (`tcbDebugPrev`).
    #[cfg(feature = "debug_build")]
    pub debug_prev: crate::debug::tcbs::DebugLink,
    /// `track_utilisation`: the thread's utilisation counters (seL4 `tcb->benchmark`).
    #[cfg(feature = "track_utilisation")]
    pub benchmark: crate::benchmark::BenchUtil,
}

const _: () = assert!(core::mem::size_of::<Tcb>() <= 1 << abi::object::TCB_BITS);

/// A reference to a TCB object.
pub type TcbRef = PPtr<Tcb>;

impl TcbRef {
    /// The `i`-th of the TCB's CNode slots.
    #[inline(always)]
    pub fn slot(self, i: usize) -> Slot {
        Slot(
            self.field::<[Cte; tcb_slot::COUNT], { core::mem::offset_of!(Tcb, slots) }>()
                .at(i),
        )
    }
    /// The thread state.
    #[inline(always)]
    pub fn state(self) -> ThreadState {
        ThreadState::from_word(self.with(|t| t.state))
    }
    /// Sets the thread state (the scheduler is told by the caller).
    #[inline(always)]
    pub fn set_state(self, s: ThreadState) {
        self.with(|t| t.state = s as u64)
    }
    /// Kernel-virtual address of the register context.
    #[inline(always)]
    pub fn context_ptr(self) -> *mut ArchContext {
        (self.addr() + core::mem::offset_of!(Tcb, context)) as *mut ArchContext
    }
    /// Reads register `i` (pc at 0, x_i at i).
    #[inline(always)]
    pub fn reg(self, i: usize) -> u64 {
        self.with(|t| t.context.regs[i])
    }
    /// The endpoint the thread is blocked on (it is in `BlockedOnSend`/`BlockedOnReceive`).
    #[inline(always)]
    pub fn blocked_on_ep(self) -> Option<crate::object::endpoint::EpRef> {
        self.with(|t| t.blocking_object.a())
            .map(crate::object::endpoint::EpRef)
    }
    /// The notification the thread is blocked on (it is in `BlockedOnNotification`).
    #[inline(always)]
    pub fn blocked_on_ntfn(self) -> Option<crate::object::notification::NtfnRef> {
        self.with(|t| t.blocking_object.b())
            .map(crate::object::notification::NtfnRef)
    }
    /// Writes register `i`.
    #[inline(always)]
    pub fn set_reg(self, i: usize, v: u64) {
        self.with(|t| t.context.regs[i] = v)
    }
}

/// The NUL-terminated debug name of a thread (`seL4_DebugNameThread`) and its length before
/// the NUL. Reads the TCB without [`PPtr::with`], so it may be called anywhere.
pub fn thread_name(t: TcbRef) -> ([u8; TCB_NAME_LEN], usize) {
    let n = t
        .field::<[u8; TCB_NAME_LEN], { core::mem::offset_of!(Tcb, name) }>()
        .get();
    let len = n.iter().position(|&b| b == 0).unwrap_or(TCB_NAME_LEN);
    (n, len)
}

/// Calls `f` with the thread's name up to its first NUL (the bytes of [`thread_name`], read
/// in place rather than copied out).
pub fn with_thread_name<R>(t: TcbRef, f: impl FnOnce(&[u8]) -> R) -> R {
    t.with(|x| {
        let len = x.name.iter().position(|&b| b == 0).unwrap_or(TCB_NAME_LEN);
        f(&x.name[..len])
    })
}

/// The address a thread restarts at (seL4 `getRestartPC`: its `fault_ip`, the pc of the
/// instruction that entered the kernel). Reads the TCB without [`PPtr::with`].
pub fn restart_pc(t: TcbRef) -> u64 {
    t.field::<u64, { core::mem::offset_of!(Tcb, fault_ip) }>()
        .get()
}

/// Initialises a freshly zeroed TCB (`Arch_initContext` and `createObject` for TCBs): user
/// mode, FPU not loaded (see [`ArchContext::new_user`]), inactive, in `domain`.
pub fn init_tcb(tcb: TcbRef, domain: u64) {
    tcb.with(|t| {
        t.context = ArchContext::new_user();
        t.domain = domain;
        #[cfg(not(feature = "mcs"))]
        {
            t.time_slice = abi::config::TIME_SLICE;
        }
    });
}
