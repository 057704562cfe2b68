//! The kernel's global state (seL4's `ks*` variables) as one value, so that host tests can run
//! many kernels side by side. On the target there is exactly one, owned by the trap path.

use crate::error::Preempted;
use crate::mem::IpcBuffer;
use crate::object::tcb::{tcb_slot, TcbRef};
use abi::config::MAX_NUM_WORK_UNITS_PER_PREEMPTION;
use abi::message::MSG_MAX_LENGTH;

/// Number of ASID pools the ASID table can name (2^`seL4_NumASIDPoolsBits`).
pub const ASID_TABLE_SIZE: usize = 1 << abi::object::NUM_ASID_POOLS_BITS;

/// The IPC fastpath's message-info bound (see `Kernel::fastpath_info_bound`): bits 0..11 of
/// the info (length, extra caps, caps unwrapped) shifted to the top are below it iff the
/// message has at most `FAST_MESSAGE_REGISTERS` words and nothing else.
pub const FASTPATH_INFO_BOUND: u64 = (abi::message::FAST_MESSAGE_REGISTERS as u64 + 1) << 52;

/// All mutable kernel state. `repr(C)` with the fields the trap and IPC paths use first, so
/// that they lie within 2 KiB of the start and one instruction reaches each.
#[repr(C)]
pub struct Kernel {
    /// The running thread (`ksCurThread`).
    pub cur_thread: TcbRef,
    /// The current scheduling domain (`ksCurDomain`).
    pub cur_domain: u64,
    /// MCS: the scheduling context the current thread runs on (`ksCurSC`); the null pointer
    /// stands for the idle thread's, which is never charged.
    #[cfg(feature = "mcs")]
    pub cur_sc: crate::object::sched_context::ScRef,
    /// MCS: ticks consumed since the last time they were charged to `cur_sc`
    /// (`ksConsumed`).
    #[cfg(feature = "mcs")]
    pub consumed: u64,
    /// MCS: the time of the last kernel entry, in ticks (`ksCurTime`).
    #[cfg(feature = "mcs")]
    pub cur_time: u64,
    /// MCS: whether the timer must be programmed again before the kernel exits
    /// (`ksReprogram`).
    #[cfg(feature = "mcs")]
    pub reprogram: bool,
    /// The thread whose address space the CPU was last set up for (0: none, to force the
    /// set-up on the next return to user level; cleared by every invocation that may change a
    /// VSpace or an ASID), XOR the current thread: 0 when the CPU is set up for the current
    /// thread. Kept relative so that the IPC fastpath, which switches the CPU to the thread it
    /// makes current, changes nothing here (see [`Kernel::activated`]).
    activated_rel: usize,
    /// Generation of address-space information: bumped with `activated` cleared, it voids
    /// every thread's cached address-space state (`Tcb::arch`, `Tcb::vm_gen`).
    pub vm_gen: u64,
    /// The IPC fastpath's bound on the message info shifted left by 52 (its 12 low bits on
    /// top): [`FASTPATH_INFO_BOUND`], a constant kept here so that the check is one load and
    /// one comparison (the constant takes two instructions to build).
    pub fastpath_info_bound: u64,
    /// The TCB whose registers are in the FPU, if any.
    pub fpu_owner: crate::mem::Link<crate::object::tcb::Tcb>,
    /// Work done since the last preemption check (`ksWorkUnitsCompleted`).
    pub work_units: usize,
    /// Whether an interrupt is pending: asked at preemption points.
    pub irq_pending: fn() -> bool,
    /// The IRQ node: one slot per interrupt for its notification cap (kernel-virtual address
    /// of `NUM_IRQS` slots, allocated at boot).
    pub irq_node: crate::mem::PPtr<crate::object::interrupt::IrqNode>,
    /// Test builds only: take the full path even where the fastpath (or the architecture's
    /// direct path for an invocation, `arch::fast_invocation`) applies, to compare the two.
    #[cfg(any(test, feature = "fuzzing"))]
    pub fastpath_off: bool,
    /// Test builds only: how many syscalls the fastpath (or an architecture's direct path)
    /// handled.
    #[cfg(any(test, feature = "fuzzing"))]
    pub fastpath_hits: u64,
    /// The ASID table: kernel-virtual addresses of ASID pools, 0 for none
    /// (`riscvKSASIDTable`).
    pub asid_table: [crate::mem::Link<crate::mem::AsidPool>; ASID_TABLE_SIZE],
    /// Per-interrupt state (`intStateIRQTable`), an `IrqState` each.
    pub irq_state: [u8; crate::object::interrupt::NUM_IRQS],
    /// Ready queues and the scheduler action.
    pub sched: crate::sched::Scheduler,
    /// Debug builds: the list of all TCBs and what the debug output needs to know.
    #[cfg(feature = "debug_build")]
    pub debug: crate::debug::DebugState,
    /// Utilisation accounting (`track_utilisation`: seL4's `ksEnter`, `benchmark_*`).
    #[cfg(feature = "track_utilisation")]
    pub util: crate::benchmark::UtilState,
}

fn no_irq() -> bool {
    false
}

impl Kernel {
    /// The thread whose address space the CPU was last set up for, or 0 (see
    /// [`Kernel::clear_activated`]).
    #[inline(always)]
    pub fn activated(&self) -> usize {
        self.activated_rel ^ self.cur_thread.addr()
    }
    /// Whether the CPU is set up for the current thread (`activated() == cur_thread`).
    #[inline(always)]
    pub fn activated_current(&self) -> bool {
        self.activated_rel == 0
    }
    /// Records that the CPU is now set up for the current thread.
    #[inline(always)]
    pub fn set_activated_current(&mut self) {
        self.activated_rel = 0;
    }
    /// Forces the set-up of the CPU on the next return to user level (`activated()` = 0).
    #[inline(always)]
    pub fn clear_activated(&mut self) {
        self.activated_rel = self.cur_thread.addr();
    }
    /// Makes `t` the current thread (`ksCurThread`); the CPU stays set up for the thread it
    /// was set up for. (The IPC fastpath assigns `cur_thread` itself: it sets the CPU up for
    /// the thread it switches to, from one set up for the thread it leaves.)
    #[inline(always)]
    pub fn set_cur_thread(&mut self, t: TcbRef) {
        self.activated_rel ^= self.cur_thread.addr() ^ t.addr();
        self.cur_thread = t;
    }

    /// A kernel with no threads yet.
    pub const fn new() -> Kernel {
        Kernel {
            cur_thread: TcbRef::NULL,
            cur_domain: 0,
            #[cfg(feature = "mcs")]
            cur_sc: crate::object::sched_context::ScRef::NULL,
            #[cfg(feature = "mcs")]
            consumed: 0,
            #[cfg(feature = "mcs")]
            cur_time: 0,
            #[cfg(feature = "mcs")]
            reprogram: true,
            work_units: 0,
            irq_pending: no_irq,
            asid_table: [crate::mem::Link::NONE; ASID_TABLE_SIZE],
            sched: crate::sched::Scheduler::new(),
            fpu_owner: crate::mem::Link::NONE,
            fastpath_info_bound: FASTPATH_INFO_BOUND,
            activated_rel: 0,
            vm_gen: 1,
            irq_state: [0; crate::object::interrupt::NUM_IRQS],
            irq_node: crate::mem::PPtr::NULL,
            #[cfg(any(test, feature = "fuzzing"))]
            fastpath_off: false,
            #[cfg(any(test, feature = "fuzzing"))]
            fastpath_hits: 0,
            #[cfg(feature = "debug_build")]
            debug: crate::debug::DebugState::new(),
            #[cfg(feature = "track_utilisation")]
            util: crate::benchmark::UtilState::new(),
        }
    }

    /// How many [`Kernel::preemption_point`]s from now on count their unit of work and
    /// nothing else: the one after them checks for preemption.
    #[inline(always)]
    pub fn work_units_before_check(&self) -> usize {
        MAX_NUM_WORK_UNITS_PER_PREEMPTION - 1 - self.work_units
    }

    /// `n` preemption points that do not check (`n` at most
    /// [`Kernel::work_units_before_check`]): what `n` calls of [`Kernel::preemption_point`]
    /// would do, for a loop that does that much work between two of its checks at once.
    #[inline(always)]
    pub fn count_work_units(&mut self, n: usize) {
        debug_assert!(n <= self.work_units_before_check());
        self.work_units += n;
    }

    /// `preemptionPoint`: counts a unit of work; every
    /// `MAX_NUM_WORK_UNITS_PER_PREEMPTION` units, stops if an interrupt is pending (MCS: or
    /// if the domain's time is up or the current SC's budget is used up).
    pub fn preemption_point(&mut self) -> Result<(), Preempted> {
        self.work_units += 1;
        if self.work_units >= MAX_NUM_WORK_UNITS_PER_PREEMPTION {
            self.work_units = 0;
            // seL4 `preemptionPoint` under MCS: `updateTimestamp()`, then preempted if
            // `!(sc_active(ksCurSC) && refill_sufficient(ksCurSC, ksConsumed))` or
            // `isCurDomainExpired()`, before asking for pending interrupts.
            #[cfg(feature = "mcs")]
            if crate::sched::mcs::preemption_due(self) {
                return Err(Preempted);
            }
            if (self.irq_pending)() {
                return Err(Preempted);
            }
        }
        Ok(())
    }
}

impl Default for Kernel {
    fn default() -> Self {
        Kernel::new()
    }
}

/// [`ipc_buffer_pptr`] out of line, for the callers no measured path takes (error replies, the
/// debug syscalls, ReadRegisters, SetFlags): one copy instead of one inlined in each.
#[inline(never)]
pub fn ipc_buffer_pptr_cold(thread: TcbRef, is_receiver: bool) -> Option<IpcBuffer> {
    ipc_buffer_pptr(thread, is_receiver)
}

/// `lookupIPCBuffer(isReceiver, thread)`: the kernel-virtual address of the thread's IPC
/// buffer, if it has one the kernel may use (a frame cap in its buffer slot, writable if the
/// kernel is to write into it).
pub fn ipc_buffer_pptr(thread: TcbRef, is_receiver: bool) -> Option<IpcBuffer> {
    // Read from the stored cap without decoding it all (every invocation asks).
    let (base, size_bits) =
        crate::arch::ipc_buffer_frame(thread.slot(tcb_slot::BUFFER).raw(), is_receiver)?;
    let vaddr = thread.with(|t| t.ipc_buffer);
    Some(IpcBuffer::in_frame(base, size_bits, vaddr))
}

/// Reads message register `i` of a thread for a syscall: MR0..MR3 from a2..a5, the rest from
/// the IPC buffer at `buffer` (`getSyscallArg`). Returns 0 past the message's end or when there
/// is no buffer (callers check the length first, as seL4 does).
pub fn get_mr(thread: TcbRef, buffer: Option<IpcBuffer>, i: usize) -> u64 {
    use crate::arch::regs;
    if i < abi::message::FAST_MESSAGE_REGISTERS {
        return thread.reg(regs::msg(i));
    }
    match buffer {
        Some(b) if i < MSG_MAX_LENGTH => b.word(abi::ipc_buffer::offset::MSG + 8 * i),
        _ => 0,
    }
}

/// Writes message register `i` of a thread (registers or IPC buffer); returns whether it fit.
pub fn set_mr(thread: TcbRef, buffer: Option<IpcBuffer>, i: usize, v: u64) -> bool {
    use crate::arch::regs;
    if i < abi::message::FAST_MESSAGE_REGISTERS {
        thread.set_reg(regs::msg(i), v);
        return true;
    }
    match buffer {
        Some(b) if i < MSG_MAX_LENGTH => {
            b.set_word(abi::ipc_buffer::offset::MSG + 8 * i, v);
            true
        }
        _ => false,
    }
}

/// The one kernel on the target; see [`crate::mem::with_kernel`].
#[cfg(target_os = "none")]
pub use crate::mem::with_kernel;
