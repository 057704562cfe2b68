//! Invocation messages: how each method of seL4's object interface is laid out as a message,
//! and how error replies are read.
//!
//! The layout follows seL4's stub generator (`libsel4/tools/syscall_stub_gen.py`) applied to
//! `object-api.xml`, `object-api-arch.xml` (riscv) and `object-api-sel4-arch.xml` (riscv64):
//!
//! * parameters of a capability type (`seL4_CPtr`, `seL4_CNode`, `seL4_TCB`, `seL4_Untyped`,
//!   `seL4_RISCV_PageTable`, ...) other than the invoked one become the extra caps, in order;
//! * the other parameters are packed into message words, in order: a parameter starts at the
//!   next multiple of its own size (or of a word, if smaller), so an `seL4_Uint8` or
//!   `seL4_Bool` (1 bit) shares a word with the small parameters before it, and a word-sized
//!   one always starts a new word;
//! * the label is the method's `InvocationLabel`, the length the number of words.
//!
//! [`encode`] builds each method's [`Invocation`] without touching the kernel (pure, unit
//! tested on the host); [`Invocation::call`] sends it with `seL4_Call` and turns the reply label
//! into a `Result`. The reply's detail words (which argument was invalid, the allowed range, the
//! lookup failure, ...) are read with [`last_error`].

use core::fmt;

use abi::invocation::InvocationLabel;
use abi::message::{MSG_MAX_EXTRA_CAPS, MSG_MAX_LENGTH};
use abi::user_context::USER_CONTEXT_WORDS;
use abi::{CPtr, Error, MessageInfo, Word};

use crate::ipc;

/// Most words any invocation sends: TCB WriteRegisters' two header words plus a whole
/// `seL4_UserContext`.
pub const MAX_INVOCATION_WORDS: usize = 2 + USER_CONTEXT_WORDS;

/// One invocation message, ready to send to a capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invocation {
    label: Word,
    words: [Word; MAX_INVOCATION_WORDS],
    len: usize,
    caps: [CPtr; MSG_MAX_EXTRA_CAPS],
    n_caps: usize,
}

impl Invocation {
    /// An empty message with the label of `label`.
    pub const fn new(label: InvocationLabel) -> Self {
        Self::with_raw_label(label as Word)
    }

    /// An empty message with any label (for testing how the kernel treats bad labels).
    pub const fn with_raw_label(label: Word) -> Self {
        Invocation {
            label,
            words: [0; MAX_INVOCATION_WORDS],
            len: 0,
            caps: [0; MSG_MAX_EXTRA_CAPS],
            n_caps: 0,
        }
    }

    /// Append a message word. Panics past [`MAX_INVOCATION_WORDS`].
    pub const fn word(mut self, w: Word) -> Self {
        assert!(
            self.len < MAX_INVOCATION_WORDS,
            "invocation message too long"
        );
        self.words[self.len] = w;
        self.len += 1;
        self
    }

    /// Append an extra cap. Panics past `seL4_MsgMaxExtraCaps` (3).
    pub const fn cap(mut self, cptr: CPtr) -> Self {
        assert!(self.n_caps < MSG_MAX_EXTRA_CAPS, "too many extra caps");
        self.caps[self.n_caps] = cptr;
        self.n_caps += 1;
        self
    }

    /// Cut the message to its first `len` words (to send a truncated message on purpose).
    pub const fn truncated(mut self, len: usize) -> Self {
        if len < self.len {
            self.len = len;
        }
        self
    }

    /// Drop the extra caps after the first `n`.
    pub const fn with_caps_truncated(mut self, n: usize) -> Self {
        if n < self.n_caps {
            self.n_caps = n;
        }
        self
    }

    /// The label.
    pub const fn label(&self) -> Word {
        self.label
    }

    /// The message words.
    pub fn words(&self) -> &[Word] {
        &self.words[..self.len]
    }

    /// The extra caps.
    pub fn caps(&self) -> &[CPtr] {
        &self.caps[..self.n_caps]
    }

    /// The `seL4_MessageInfo` to send: (label, 0, number of extra caps, length).
    pub const fn info(&self) -> MessageInfo {
        MessageInfo::new(self.label, 0, self.n_caps as Word, self.len as Word)
    }

    /// Invoke `service` with this message (`seL4_Call`). `Ok` holds the reply's info (its
    /// words are in the IPC buffer, `ipc::get_mr`); `Err` the error its label names.
    pub fn call(&self, service: CPtr) -> Result<MessageInfo, Error> {
        let (words, caps) = (self.words(), self.caps());
        ipc::with_ipc_buffer(|b| {
            b.msg[..words.len()].copy_from_slice(words);
            b.caps_or_badges[..caps.len()].copy_from_slice(caps);
        });
        reply_result(crate::sys::seL4_Call(service, self.info()))
    }
}

/// `Ok(info)` for a reply with label 0, else `Err` with the error it names. A label that is not
/// an seL4 error number (which seL4 never sends) comes back as `Err(Error::NoError)`, a value
/// no correct reply produces; [`last_error`] has the raw label.
pub fn reply_result(info: MessageInfo) -> Result<MessageInfo, Error> {
    match info.label() {
        0 => Ok(info),
        l => Err(Error::from_word(l).unwrap_or(Error::NoError)),
    }
}

/// The encoding of every riscv64 invocation of this configuration (non-MCS, or MCS with the
/// `mcs` feature), in `object-api*.xml` order. Parameter
/// names and order are seL4's; the invoked cap (`_service`) is not part of the message.
pub mod encode {
    use super::Invocation;
    use abi::invocation::method;
    use abi::invocation::InvocationLabel as L;
    use abi::user_context::{UserContext, USER_CONTEXT_WORDS};
    use abi::{CPtr, CapRights, Word};

    const fn b(x: bool) -> Word {
        x as Word
    }

    /// `seL4_Untyped_Retype`: MRs type, size_bits, node_index, node_depth, node_offset,
    /// num_objects; extra cap root.
    #[allow(clippy::too_many_arguments)]
    pub const fn untyped_retype(
        ty: Word,
        size_bits: Word,
        root: CPtr,
        node_index: Word,
        node_depth: Word,
        node_offset: Word,
        num_objects: Word,
    ) -> Invocation {
        Invocation::new(L::UntypedRetype)
            .word(ty)
            .word(size_bits)
            .word(node_index)
            .word(node_depth)
            .word(node_offset)
            .word(num_objects)
            .cap(root)
    }

    /// `seL4_TCB_ReadRegisters`: MR0 = suspend_source (bit 0) | arch_flags << 8, MR1 = count.
    pub const fn tcb_read_registers(
        suspend_source: bool,
        arch_flags: u8,
        count: Word,
    ) -> Invocation {
        Invocation::new(L::TCBReadRegisters)
            .word(b(suspend_source) | (arch_flags as Word) << 8)
            .word(count)
    }

    /// `seL4_TCB_WriteRegisters`: MR0 = resume_target (bit 0) | arch_flags << 8, MR1 = count,
    /// then the first `count` registers of `regs` (at most 32) in `seL4_UserContext` order.
    pub const fn tcb_write_registers(
        resume_target: bool,
        arch_flags: u8,
        count: Word,
        regs: &UserContext,
    ) -> Invocation {
        let mut m = Invocation::new(L::TCBWriteRegisters)
            .word(b(resume_target) | (arch_flags as Word) << 8)
            .word(count);
        let n = if count < USER_CONTEXT_WORDS as Word {
            count as usize
        } else {
            USER_CONTEXT_WORDS
        };
        let mut i = 0;
        while i < n {
            m = m.word(regs.regs[i]);
            i += 1;
        }
        m
    }

    /// `seL4_TCB_CopyRegisters`: MR0 = suspend_source | resume_target << 1 | transfer_frame << 2
    /// | transfer_integer << 3 | arch_flags << 8; extra cap source.
    pub const fn tcb_copy_registers(
        source: CPtr,
        suspend_source: bool,
        resume_target: bool,
        transfer_frame: bool,
        transfer_integer: bool,
        arch_flags: u8,
    ) -> Invocation {
        Invocation::new(L::TCBCopyRegisters)
            .word(
                b(suspend_source)
                    | b(resume_target) << 1
                    | b(transfer_frame) << 2
                    | b(transfer_integer) << 3
                    | (arch_flags as Word) << 8,
            )
            .cap(source)
    }

    #[cfg(not(feature = "mcs"))]
    /// `seL4_TCB_Configure` (non-MCS): MRs fault_ep, cspace_root_data, vspace_root_data,
    /// buffer; extra caps cspace_root, vspace_root, bufferFrame.
    pub const fn tcb_configure(
        fault_ep: Word,
        cspace_root: CPtr,
        cspace_root_data: Word,
        vspace_root: CPtr,
        vspace_root_data: Word,
        buffer: Word,
        buffer_frame: CPtr,
    ) -> Invocation {
        Invocation::new(L::TCBConfigure)
            .word(fault_ep)
            .word(cspace_root_data)
            .word(vspace_root_data)
            .word(buffer)
            .cap(cspace_root)
            .cap(vspace_root)
            .cap(buffer_frame)
    }

    /// `seL4_TCB_Configure` (MCS): MRs cspace_root_data, vspace_root_data, buffer; extra caps
    /// cspace_root, vspace_root, bufferFrame.
    #[cfg(feature = "mcs")]
    pub const fn tcb_configure(
        cspace_root: CPtr,
        cspace_root_data: Word,
        vspace_root: CPtr,
        vspace_root_data: Word,
        buffer: Word,
        buffer_frame: CPtr,
    ) -> Invocation {
        Invocation::new(L::TCBConfigure)
            .word(cspace_root_data)
            .word(vspace_root_data)
            .word(buffer)
            .cap(cspace_root)
            .cap(vspace_root)
            .cap(buffer_frame)
    }

    /// `seL4_TCB_SetPriority`: MR priority; extra cap authority.
    pub const fn tcb_set_priority(authority: CPtr, priority: Word) -> Invocation {
        Invocation::new(L::TCBSetPriority)
            .word(priority)
            .cap(authority)
    }

    /// `seL4_TCB_SetMCPriority`: MR mcp; extra cap authority.
    pub const fn tcb_set_mc_priority(authority: CPtr, mcp: Word) -> Invocation {
        Invocation::new(L::TCBSetMCPriority)
            .word(mcp)
            .cap(authority)
    }

    #[cfg(not(feature = "mcs"))]
    /// `seL4_TCB_SetSchedParams` (non-MCS): MRs mcp, priority; extra cap authority.
    pub const fn tcb_set_sched_params(authority: CPtr, mcp: Word, priority: Word) -> Invocation {
        Invocation::new(L::TCBSetSchedParams)
            .word(mcp)
            .word(priority)
            .cap(authority)
    }

    /// `seL4_TCB_SetSchedParams` (MCS): MRs mcp, priority; extra caps authority,
    /// sched_context, fault_ep.
    #[cfg(feature = "mcs")]
    pub const fn tcb_set_sched_params(
        authority: CPtr,
        mcp: Word,
        priority: Word,
        sched_context: CPtr,
        fault_ep: CPtr,
    ) -> Invocation {
        Invocation::new(L::TCBSetSchedParams)
            .word(mcp)
            .word(priority)
            .cap(authority)
            .cap(sched_context)
            .cap(fault_ep)
    }

    /// `seL4_TCB_SetTimeoutEndpoint` (MCS): extra cap timeout_fault_ep.
    #[cfg(feature = "mcs")]
    pub const fn tcb_set_timeout_endpoint(timeout_fault_ep: CPtr) -> Invocation {
        Invocation::new(L::TCBSetTimeoutEndpoint).cap(timeout_fault_ep)
    }

    /// `seL4_TCB_SetIPCBuffer`: MR buffer; extra cap bufferFrame.
    pub const fn tcb_set_ipc_buffer(buffer: Word, buffer_frame: CPtr) -> Invocation {
        Invocation::new(L::TCBSetIPCBuffer)
            .word(buffer)
            .cap(buffer_frame)
    }

    #[cfg(not(feature = "mcs"))]
    /// `seL4_TCB_SetSpace` (non-MCS): MRs fault_ep, cspace_root_data, vspace_root_data; extra
    /// caps cspace_root, vspace_root.
    pub const fn tcb_set_space(
        fault_ep: Word,
        cspace_root: CPtr,
        cspace_root_data: Word,
        vspace_root: CPtr,
        vspace_root_data: Word,
    ) -> Invocation {
        Invocation::new(L::TCBSetSpace)
            .word(fault_ep)
            .word(cspace_root_data)
            .word(vspace_root_data)
            .cap(cspace_root)
            .cap(vspace_root)
    }

    /// `seL4_TCB_SetSpace` (MCS): MRs cspace_root_data, vspace_root_data; extra caps fault_ep,
    /// cspace_root, vspace_root.
    #[cfg(feature = "mcs")]
    pub const fn tcb_set_space(
        fault_ep: CPtr,
        cspace_root: CPtr,
        cspace_root_data: Word,
        vspace_root: CPtr,
        vspace_root_data: Word,
    ) -> Invocation {
        Invocation::new(L::TCBSetSpace)
            .word(cspace_root_data)
            .word(vspace_root_data)
            .cap(fault_ep)
            .cap(cspace_root)
            .cap(vspace_root)
    }

    /// `seL4_TCB_Suspend`: no arguments.
    pub const fn tcb_suspend() -> Invocation {
        Invocation::new(L::TCBSuspend)
    }

    /// `seL4_TCB_Resume`: no arguments.
    pub const fn tcb_resume() -> Invocation {
        Invocation::new(L::TCBResume)
    }

    /// `seL4_TCB_BindNotification`: extra cap notification.
    pub const fn tcb_bind_notification(notification: CPtr) -> Invocation {
        Invocation::new(L::TCBBindNotification).cap(notification)
    }

    /// `seL4_TCB_UnbindNotification`: no arguments.
    pub const fn tcb_unbind_notification() -> Invocation {
        Invocation::new(L::TCBUnbindNotification)
    }

    /// `seL4_TCB_SetTLSBase`: MR tls_base.
    pub const fn tcb_set_tls_base(tls_base: Word) -> Invocation {
        Invocation::new(L::TCBSetTLSBase).word(tls_base)
    }

    /// `seL4_TCB_SetFlags`: MRs clear, set; the reply's MR0 is the resulting flags.
    pub const fn tcb_set_flags(clear: Word, set: Word) -> Invocation {
        Invocation::new(L::TCBSetFlags).word(clear).word(set)
    }

    const fn slot_op(label: L, index: Word, depth: u8) -> Invocation {
        Invocation::new(label).word(index).word(depth as Word)
    }

    /// `seL4_CNode_Revoke`: MRs index, depth.
    pub const fn cnode_revoke(index: Word, depth: u8) -> Invocation {
        slot_op(L::CNodeRevoke, index, depth)
    }

    /// `seL4_CNode_Delete`: MRs index, depth.
    pub const fn cnode_delete(index: Word, depth: u8) -> Invocation {
        slot_op(L::CNodeDelete, index, depth)
    }

    /// `seL4_CNode_CancelBadgedSends`: MRs index, depth.
    pub const fn cnode_cancel_badged_sends(index: Word, depth: u8) -> Invocation {
        slot_op(L::CNodeCancelBadgedSends, index, depth)
    }

    /// `seL4_CNode_Copy`: MRs dest_index, dest_depth, src_index, src_depth, rights; extra cap
    /// src_root.
    pub const fn cnode_copy(
        dest_index: Word,
        dest_depth: u8,
        src_root: CPtr,
        src_index: Word,
        src_depth: u8,
        rights: CapRights,
    ) -> Invocation {
        cnode_move(dest_index, dest_depth, src_root, src_index, src_depth)
            .relabel(L::CNodeCopy)
            .word(rights.0)
    }

    /// `seL4_CNode_Mint`: MRs dest_index, dest_depth, src_index, src_depth, rights, badge;
    /// extra cap src_root.
    pub const fn cnode_mint(
        dest_index: Word,
        dest_depth: u8,
        src_root: CPtr,
        src_index: Word,
        src_depth: u8,
        rights: CapRights,
        badge: Word,
    ) -> Invocation {
        cnode_copy(
            dest_index, dest_depth, src_root, src_index, src_depth, rights,
        )
        .relabel(L::CNodeMint)
        .word(badge)
    }

    /// `seL4_CNode_Move`: MRs dest_index, dest_depth, src_index, src_depth; extra cap
    /// src_root.
    pub const fn cnode_move(
        dest_index: Word,
        dest_depth: u8,
        src_root: CPtr,
        src_index: Word,
        src_depth: u8,
    ) -> Invocation {
        Invocation::new(L::CNodeMove)
            .word(dest_index)
            .word(dest_depth as Word)
            .word(src_index)
            .word(src_depth as Word)
            .cap(src_root)
    }

    /// `seL4_CNode_Mutate`: MRs dest_index, dest_depth, src_index, src_depth, badge; extra cap
    /// src_root.
    pub const fn cnode_mutate(
        dest_index: Word,
        dest_depth: u8,
        src_root: CPtr,
        src_index: Word,
        src_depth: u8,
        badge: Word,
    ) -> Invocation {
        cnode_move(dest_index, dest_depth, src_root, src_index, src_depth)
            .relabel(L::CNodeMutate)
            .word(badge)
    }

    /// `seL4_CNode_Rotate`: MRs dest_index, dest_depth, dest_badge, pivot_index, pivot_depth,
    /// pivot_badge, src_index, src_depth; extra caps pivot_root, src_root.
    #[allow(clippy::too_many_arguments)]
    pub const fn cnode_rotate(
        dest_index: Word,
        dest_depth: u8,
        dest_badge: Word,
        pivot_root: CPtr,
        pivot_index: Word,
        pivot_depth: u8,
        pivot_badge: Word,
        src_root: CPtr,
        src_index: Word,
        src_depth: u8,
    ) -> Invocation {
        Invocation::new(L::CNodeRotate)
            .word(dest_index)
            .word(dest_depth as Word)
            .word(dest_badge)
            .word(pivot_index)
            .word(pivot_depth as Word)
            .word(pivot_badge)
            .word(src_index)
            .word(src_depth as Word)
            .cap(pivot_root)
            .cap(src_root)
    }

    /// `seL4_CNode_SaveCaller` (non-MCS): MRs index, depth.
    #[cfg(not(feature = "mcs"))]
    pub const fn cnode_save_caller(index: Word, depth: u8) -> Invocation {
        slot_op(L::CNodeSaveCaller, index, depth)
    }

    /// `seL4_IRQControl_Get`: MRs irq, index, depth; extra cap root.
    pub const fn irq_control_get(irq: Word, root: CPtr, index: Word, depth: u8) -> Invocation {
        Invocation::new(L::IRQIssueIRQHandler)
            .word(irq)
            .word(index)
            .word(depth as Word)
            .cap(root)
    }

    /// `seL4_IRQControl_GetTrigger` (`RISCVIRQIssueIRQHandlerTrigger`,
    /// `ARMIRQIssueIRQHandlerTrigger`): MRs irq, trigger, index, depth; extra cap root.
    pub const fn irq_control_get_trigger(
        irq: Word,
        trigger: Word,
        root: CPtr,
        index: Word,
        depth: u8,
    ) -> Invocation {
        Invocation::new(abi::invocation::IRQ_ISSUE_IRQ_HANDLER_TRIGGER)
            .word(irq)
            .word(trigger)
            .word(index)
            .word(depth as Word)
            .cap(root)
    }

    /// `seL4_IRQHandler_Ack`: no arguments.
    pub const fn irq_handler_ack() -> Invocation {
        Invocation::new(L::IRQAckIRQ)
    }

    /// `seL4_IRQHandler_SetNotification`: extra cap notification.
    pub const fn irq_handler_set_notification(notification: CPtr) -> Invocation {
        Invocation::new(L::IRQSetIRQHandler).cap(notification)
    }

    /// `seL4_IRQHandler_Clear`: no arguments.
    pub const fn irq_handler_clear() -> Invocation {
        Invocation::new(L::IRQClearIRQHandler)
    }

    /// `seL4_DomainSet_Set`: MR domain (8 bits); extra cap thread.
    pub const fn domain_set_set(domain: u8, thread: CPtr) -> Invocation {
        Invocation::new(L::DomainSetSet)
            .word(domain as Word)
            .cap(thread)
    }

    /// `seL4_DomainSet_ScheduleConfigure`: MRs index, domain (8 bits), duration (64 bits, a
    /// word of its own).
    pub const fn domain_schedule_configure(index: Word, domain: u8, duration: u64) -> Invocation {
        Invocation::new(L::DomainScheduleConfigure)
            .word(index)
            .word(domain as Word)
            .word(duration)
    }

    /// `seL4_DomainSet_ScheduleSetStart`: MR index.
    pub const fn domain_schedule_set_start(index: Word) -> Invocation {
        Invocation::new(L::DomainScheduleSetStart).word(index)
    }

    /// `seL4_SchedControl_ConfigureFlags` (MCS): MRs budget, period (`seL4_Time`, a word each),
    /// extra_refills, badge, flags; extra cap schedcontext.
    #[cfg(feature = "mcs")]
    pub const fn sched_control_configure_flags(
        schedcontext: CPtr,
        budget: u64,
        period: u64,
        extra_refills: Word,
        badge: Word,
        flags: Word,
    ) -> Invocation {
        Invocation::new(L::SchedControlConfigureFlags)
            .word(budget)
            .word(period)
            .word(extra_refills)
            .word(badge)
            .word(flags)
            .cap(schedcontext)
    }

    /// `seL4_SchedContext_Bind` (MCS): extra cap cap (a TCB or a notification).
    #[cfg(feature = "mcs")]
    pub const fn sched_context_bind(cap: CPtr) -> Invocation {
        Invocation::new(L::SchedContextBind).cap(cap)
    }

    /// `seL4_SchedContext_Unbind` (MCS): no arguments.
    #[cfg(feature = "mcs")]
    pub const fn sched_context_unbind() -> Invocation {
        Invocation::new(L::SchedContextUnbind)
    }

    /// `seL4_SchedContext_UnbindObject` (MCS): extra cap cap.
    #[cfg(feature = "mcs")]
    pub const fn sched_context_unbind_object(cap: CPtr) -> Invocation {
        Invocation::new(L::SchedContextUnbindObject).cap(cap)
    }

    /// `seL4_SchedContext_Consumed` (MCS): no arguments; the reply's MR0 is the consumed time.
    #[cfg(feature = "mcs")]
    pub const fn sched_context_consumed() -> Invocation {
        Invocation::new(L::SchedContextConsumed)
    }

    /// `seL4_SchedContext_YieldTo` (MCS): no arguments; the reply's MR0 is the consumed time.
    #[cfg(feature = "mcs")]
    pub const fn sched_context_yield_to() -> Invocation {
        Invocation::new(L::SchedContextYieldTo)
    }

    /// `seL4_RISCV_PageTable_Map` / `seL4_ARM_PageTable_Map`: MRs vaddr, attr; extra cap vspace.
    pub const fn page_table_map(vspace: CPtr, vaddr: Word, attr: Word) -> Invocation {
        Invocation::new(method::PAGE_TABLE_MAP)
            .word(vaddr)
            .word(attr)
            .cap(vspace)
    }

    /// `seL4_RISCV_PageTable_Unmap` / `seL4_ARM_PageTable_Unmap`: no arguments.
    pub const fn page_table_unmap() -> Invocation {
        Invocation::new(method::PAGE_TABLE_UNMAP)
    }

    /// `seL4_RISCV_Page_Map` / `seL4_ARM_Page_Map`: MRs vaddr, rights, attr; extra cap vspace.
    pub const fn page_map(vspace: CPtr, vaddr: Word, rights: CapRights, attr: Word) -> Invocation {
        Invocation::new(method::PAGE_MAP)
            .word(vaddr)
            .word(rights.0)
            .word(attr)
            .cap(vspace)
    }

    /// `seL4_RISCV_Page_Unmap` / `seL4_ARM_Page_Unmap`: no arguments.
    pub const fn page_unmap() -> Invocation {
        Invocation::new(method::PAGE_UNMAP)
    }

    /// `seL4_RISCV_Page_GetAddress` / `seL4_ARM_Page_GetAddress`: no arguments; the reply's MR0
    /// is the physical address.
    pub const fn page_get_address() -> Invocation {
        Invocation::new(method::PAGE_GET_ADDRESS)
    }

    /// `seL4_RISCV_ASIDControl_MakePool` / `seL4_ARM_ASIDControl_MakePool`: MRs index, depth;
    /// extra caps untyped, root.
    pub const fn asid_control_make_pool(
        untyped: CPtr,
        root: CPtr,
        index: Word,
        depth: u8,
    ) -> Invocation {
        Invocation::new(method::ASID_CONTROL_MAKE_POOL)
            .word(index)
            .word(depth as Word)
            .cap(untyped)
            .cap(root)
    }

    /// `seL4_RISCV_ASIDPool_Assign` / `seL4_ARM_ASIDPool_Assign`: extra cap vspace.
    pub const fn asid_pool_assign(vspace: CPtr) -> Invocation {
        Invocation::new(method::ASID_POOL_ASSIGN).cap(vspace)
    }

    impl Invocation {
        const fn relabel(mut self, label: L) -> Self {
            self.label = label as Word;
            self
        }
    }
}

/// A lookup failure as the kernel describes it in a `seL4_FailedLookup` error or a cap fault
/// (`seL4_LookupFailureType` and the words after it; `setMRs_lookup_failure` in
/// `src/api/faults.c`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupFailure {
    /// `seL4_InvalidRoot` (1): the root is not a CNode cap.
    InvalidRoot,
    /// `seL4_MissingCapability` (2).
    MissingCapability {
        /// Bits left to resolve.
        bits_left: Word,
    },
    /// `seL4_DepthMismatch` (3).
    DepthMismatch {
        /// Bits left to resolve.
        bits_left: Word,
        /// Bits the offending level would have resolved.
        bits_found: Word,
    },
    /// `seL4_GuardMismatch` (4).
    GuardMismatch {
        /// Bits left to resolve.
        bits_left: Word,
        /// The guard reported (seL4 reports the CNode cap's own guard here).
        guard_found: Word,
        /// The guard's size in bits.
        bits_found: Word,
    },
    /// A type number seL4 does not define.
    Unknown(Word),
}

impl LookupFailure {
    /// Decode from the words starting at the failure type.
    pub fn parse(w: &[Word]) -> LookupFailure {
        let at = |i: usize| w.get(i).copied().unwrap_or(0);
        match at(0) {
            1 => LookupFailure::InvalidRoot,
            2 => LookupFailure::MissingCapability { bits_left: at(1) },
            3 => LookupFailure::DepthMismatch {
                bits_left: at(1),
                bits_found: at(2),
            },
            4 => LookupFailure::GuardMismatch {
                bits_left: at(1),
                guard_found: at(2),
                bits_found: at(3),
            },
            t => LookupFailure::Unknown(t),
        }
    }

    /// How many words the description takes, type word included.
    pub const fn words(&self) -> usize {
        match self {
            LookupFailure::InvalidRoot | LookupFailure::Unknown(_) => 1,
            LookupFailure::MissingCapability { .. } => 2,
            LookupFailure::DepthMismatch { .. } => 3,
            LookupFailure::GuardMismatch { .. } => 4,
        }
    }
}

impl fmt::Display for LookupFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LookupFailure::InvalidRoot => write!(f, "InvalidRoot"),
            LookupFailure::MissingCapability { bits_left } => {
                write!(f, "MissingCapability(bits_left={bits_left})")
            }
            LookupFailure::DepthMismatch {
                bits_left,
                bits_found,
            } => {
                write!(
                    f,
                    "DepthMismatch(bits_left={bits_left}, bits_found={bits_found})"
                )
            }
            LookupFailure::GuardMismatch {
                bits_left,
                guard_found,
                bits_found,
            } => {
                write!(f, "GuardMismatch(bits_left={bits_left}, guard_found={guard_found:#x}, bits_found={bits_found})")
            }
            LookupFailure::Unknown(t) => write!(f, "UnknownLookupFailure({t})"),
        }
    }
}

/// An error reply decoded with its detail words (`setMRs_syscall_error` in
/// `src/object/tcb.c`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorDetail {
    /// No error (label 0).
    NoError,
    /// `seL4_InvalidArgument`: MR0 is the index of the bad argument.
    InvalidArgument {
        /// Index of the argument.
        index: Word,
    },
    /// `seL4_InvalidCapability`: MR0 is the index of the bad cap (0 = the invoked one).
    InvalidCapability {
        /// Index of the cap.
        index: Word,
    },
    /// `seL4_IllegalOperation`.
    IllegalOperation,
    /// `seL4_RangeError`: MR0, MR1 are the allowed minimum and maximum.
    RangeError {
        /// Smallest allowed value.
        min: Word,
        /// Largest allowed value.
        max: Word,
    },
    /// `seL4_AlignmentError`.
    AlignmentError,
    /// `seL4_FailedLookup`: MR0 = 1 if the source (or pivot) lookup failed, 0 for the
    /// destination; then the lookup failure.
    FailedLookup {
        /// Whether the failed lookup was of the source.
        source: bool,
        /// What went wrong.
        failure: LookupFailure,
    },
    /// `seL4_TruncatedMessage`.
    TruncatedMessage,
    /// `seL4_DeleteFirst`.
    DeleteFirst,
    /// `seL4_RevokeFirst`.
    RevokeFirst,
    /// `seL4_NotEnoughMemory`: MR0 is the number of bytes left in the untyped.
    NotEnoughMemory {
        /// Bytes available.
        available: Word,
    },
    /// A label that is not an seL4 error.
    Unknown {
        /// The label.
        label: Word,
    },
}

impl ErrorDetail {
    /// Decode from a reply label and its message words.
    pub fn parse(label: Word, w: &[Word]) -> ErrorDetail {
        let at = |i: usize| w.get(i).copied().unwrap_or(0);
        match Error::from_word(label) {
            Some(Error::NoError) => ErrorDetail::NoError,
            Some(Error::InvalidArgument) => ErrorDetail::InvalidArgument { index: at(0) },
            Some(Error::InvalidCapability) => ErrorDetail::InvalidCapability { index: at(0) },
            Some(Error::IllegalOperation) => ErrorDetail::IllegalOperation,
            Some(Error::RangeError) => ErrorDetail::RangeError {
                min: at(0),
                max: at(1),
            },
            Some(Error::AlignmentError) => ErrorDetail::AlignmentError,
            Some(Error::FailedLookup) => ErrorDetail::FailedLookup {
                source: at(0) != 0,
                failure: LookupFailure::parse(w.get(1..).unwrap_or(&[])),
            },
            Some(Error::TruncatedMessage) => ErrorDetail::TruncatedMessage,
            Some(Error::DeleteFirst) => ErrorDetail::DeleteFirst,
            Some(Error::RevokeFirst) => ErrorDetail::RevokeFirst,
            Some(Error::NotEnoughMemory) => ErrorDetail::NotEnoughMemory { available: at(0) },
            None => ErrorDetail::Unknown { label },
        }
    }

    /// The number of detail words seL4 sends with this error (the reply's length).
    pub const fn words(&self) -> usize {
        match self {
            ErrorDetail::InvalidArgument { .. }
            | ErrorDetail::InvalidCapability { .. }
            | ErrorDetail::NotEnoughMemory { .. } => 1,
            ErrorDetail::RangeError { .. } => 2,
            ErrorDetail::FailedLookup { failure, .. } => 1 + failure.words(),
            _ => 0,
        }
    }
}

impl fmt::Display for ErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ErrorDetail::NoError => write!(f, "seL4_NoError"),
            ErrorDetail::InvalidArgument { index } => {
                write!(f, "seL4_InvalidArgument(arg {index})")
            }
            ErrorDetail::InvalidCapability { index } => {
                write!(f, "seL4_InvalidCapability(cap {index})")
            }
            ErrorDetail::IllegalOperation => write!(f, "seL4_IllegalOperation"),
            ErrorDetail::RangeError { min, max } => write!(f, "seL4_RangeError({min}..={max})"),
            ErrorDetail::AlignmentError => write!(f, "seL4_AlignmentError"),
            ErrorDetail::FailedLookup { source, failure } => {
                write!(
                    f,
                    "seL4_FailedLookup({}, {failure})",
                    if source { "source" } else { "destination" }
                )
            }
            ErrorDetail::TruncatedMessage => write!(f, "seL4_TruncatedMessage"),
            ErrorDetail::DeleteFirst => write!(f, "seL4_DeleteFirst"),
            ErrorDetail::RevokeFirst => write!(f, "seL4_RevokeFirst"),
            ErrorDetail::NotEnoughMemory { available } => {
                write!(f, "seL4_NotEnoughMemory({available} bytes left)")
            }
            ErrorDetail::Unknown { label } => write!(f, "unknown error label {label}"),
        }
    }
}

/// How many reply words [`ErrorReply`] keeps: enough for every seL4 error (FailedLookup with a
/// guard mismatch is the longest, 5).
pub const ERROR_REPLY_WORDS: usize = 5;

/// The reply to the last `seL4_Call` (normally a failed invocation), as left in the IPC buffer:
/// its `MessageInfo` (from the `tag` word) and its first words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorReply {
    /// The reply's message info: label = error number, length = detail words.
    pub info: MessageInfo,
    /// MR0..MR4 of the reply.
    pub mrs: [Word; ERROR_REPLY_WORDS],
}

impl ErrorReply {
    /// The error, `None` if the label is not an seL4 error number.
    pub fn error(&self) -> Option<Error> {
        Error::from_word(self.info.label())
    }

    /// The decoded detail. Words past the reply's length are not used.
    pub fn detail(&self) -> ErrorDetail {
        let n = (self.info.length() as usize).min(ERROR_REPLY_WORDS);
        ErrorDetail::parse(self.info.label(), &self.mrs[..n])
    }
}

/// The last reply this thread got from `seL4_Call` (usually: why the last invocation failed).
pub fn last_error() -> ErrorReply {
    ipc::with_ipc_buffer(|b| {
        let mut mrs = [0; ERROR_REPLY_WORDS];
        mrs.copy_from_slice(&b.msg[..ERROR_REPLY_WORDS]);
        ErrorReply { info: b.tag, mrs }
    })
}

const _: () = assert!(MAX_INVOCATION_WORDS <= MSG_MAX_LENGTH);

#[cfg(test)]
mod tests {
    use super::encode::*;
    use super::*;
    use abi::user_context::UserContext;
    use abi::{CNodeCapData, CapRights, ObjectType};

    /// (label, words, caps) of an invocation, for compact assertions.
    fn parts(m: &Invocation) -> (InvocationLabel, Vec<Word>, Vec<CPtr>) {
        (
            InvocationLabel::from_label(m.label()).unwrap(),
            m.words().to_vec(),
            m.caps().to_vec(),
        )
    }

    #[test]
    fn message_info_carries_label_caps_and_length() {
        let m = untyped_retype(ObjectType::Endpoint as Word, 0, 2, 0, 0, 100, 1);
        let i = m.info();
        assert_eq!(
            (i.label(), i.caps_unwrapped(), i.extra_caps(), i.length()),
            (1, 0, 1, 6)
        );
        assert_eq!(m.truncated(5).info().length(), 5);
        assert_eq!(m.with_caps_truncated(0).info().extra_caps(), 0);
        assert_eq!(m.truncated(9).info().length(), 6);
    }

    #[test]
    fn untyped_retype_layout() {
        let m = untyped_retype(4, 7, 2, 0x55, 64, 300, 8);
        assert_eq!(
            parts(&m),
            (
                InvocationLabel::UntypedRetype,
                vec![4, 7, 0x55, 64, 300, 8],
                vec![2]
            )
        );
    }

    #[test]
    fn tcb_register_layouts() {
        let m = tcb_read_registers(true, 0xab, 32);
        assert_eq!(
            parts(&m),
            (
                InvocationLabel::TCBReadRegisters,
                vec![1 | 0xab << 8, 32],
                vec![]
            )
        );
        assert_eq!(tcb_read_registers(false, 0, 3).words(), &[0, 3]);

        let mut ctx = UserContext::default();
        for (i, r) in ctx.regs.iter_mut().enumerate() {
            *r = 100 + i as Word;
        }
        let m = tcb_write_registers(true, 2, 3, &ctx);
        assert_eq!(
            parts(&m),
            (
                InvocationLabel::TCBWriteRegisters,
                vec![1 | 2 << 8, 3, 100, 101, 102],
                vec![]
            )
        );
        let m = tcb_write_registers(false, 0, 32, &ctx);
        assert_eq!(m.words().len(), 34);
        assert_eq!(m.words()[33], 131);
        // A count past the context sends only the context; the kernel sees the short message.
        assert_eq!(tcb_write_registers(false, 0, 40, &ctx).words().len(), 34);

        let m = tcb_copy_registers(9, true, false, true, true, 0x3);
        assert_eq!(
            parts(&m),
            (
                InvocationLabel::TCBCopyRegisters,
                vec![1 | 1 << 2 | 1 << 3 | 3 << 8],
                vec![9]
            )
        );
        assert_eq!(
            tcb_copy_registers(9, false, true, false, false, 0).words(),
            &[2]
        );
    }

    #[cfg(not(feature = "mcs"))]
    #[test]
    fn tcb_layouts() {
        let m = tcb_configure(7, 2, 0x1234, 3, 0, 0x5000, 10);
        assert_eq!(
            parts(&m),
            (
                InvocationLabel::TCBConfigure,
                vec![7, 0x1234, 0, 0x5000],
                vec![2, 3, 10]
            )
        );
        assert_eq!(
            parts(&tcb_set_priority(1, 200)),
            (InvocationLabel::TCBSetPriority, vec![200], vec![1])
        );
        assert_eq!(
            parts(&tcb_set_mc_priority(1, 100)),
            (InvocationLabel::TCBSetMCPriority, vec![100], vec![1])
        );
        assert_eq!(
            parts(&tcb_set_sched_params(1, 100, 50)),
            (InvocationLabel::TCBSetSchedParams, vec![100, 50], vec![1])
        );
        assert_eq!(
            parts(&tcb_set_ipc_buffer(0x7000, 10)),
            (InvocationLabel::TCBSetIPCBuffer, vec![0x7000], vec![10])
        );
        assert_eq!(
            parts(&tcb_set_space(5, 2, 0x40, 3, 0)),
            (InvocationLabel::TCBSetSpace, vec![5, 0x40, 0], vec![2, 3])
        );
        assert_eq!(
            parts(&tcb_suspend()),
            (InvocationLabel::TCBSuspend, vec![], vec![])
        );
        assert_eq!(
            parts(&tcb_resume()),
            (InvocationLabel::TCBResume, vec![], vec![])
        );
        assert_eq!(
            parts(&tcb_bind_notification(20)),
            (InvocationLabel::TCBBindNotification, vec![], vec![20])
        );
        assert_eq!(
            parts(&tcb_unbind_notification()),
            (InvocationLabel::TCBUnbindNotification, vec![], vec![])
        );
        assert_eq!(
            parts(&tcb_set_tls_base(0xdead)),
            (InvocationLabel::TCBSetTLSBase, vec![0xdead], vec![])
        );
        assert_eq!(
            parts(&tcb_set_flags(1, 0)),
            (InvocationLabel::TCBSetFlags, vec![1, 0], vec![])
        );
    }

    #[test]
    fn cnode_layouts() {
        assert_eq!(
            parts(&cnode_revoke(5, 64)),
            (InvocationLabel::CNodeRevoke, vec![5, 64], vec![])
        );
        assert_eq!(
            parts(&cnode_delete(6, 13)),
            (InvocationLabel::CNodeDelete, vec![6, 13], vec![])
        );
        assert_eq!(
            parts(&cnode_cancel_badged_sends(7, 64)),
            (InvocationLabel::CNodeCancelBadgedSends, vec![7, 64], vec![])
        );
        #[cfg(not(feature = "mcs"))]
        assert_eq!(
            parts(&cnode_save_caller(8, 64)),
            (InvocationLabel::CNodeSaveCaller, vec![8, 64], vec![])
        );
        assert_eq!(
            parts(&cnode_copy(100, 64, 2, 1, 64, CapRights::READ)),
            (InvocationLabel::CNodeCopy, vec![100, 64, 1, 64, 2], vec![2])
        );
        assert_eq!(
            parts(&cnode_mint(100, 64, 2, 1, 60, CapRights::ALL, 0xbeef)),
            (
                InvocationLabel::CNodeMint,
                vec![100, 64, 1, 60, 0xf, 0xbeef],
                vec![2]
            )
        );
        assert_eq!(
            parts(&cnode_move(100, 64, 3, 1, 64)),
            (InvocationLabel::CNodeMove, vec![100, 64, 1, 64], vec![3])
        );
        let guard = CNodeCapData::new(5, 4).0;
        assert_eq!(
            parts(&cnode_mutate(100, 64, 2, 1, 64, guard)),
            (
                InvocationLabel::CNodeMutate,
                vec![100, 64, 1, 64, guard],
                vec![2]
            )
        );
        assert_eq!(
            parts(&cnode_rotate(10, 64, 11, 2, 12, 63, 13, 4, 14, 62)),
            (
                InvocationLabel::CNodeRotate,
                vec![10, 64, 11, 12, 63, 13, 14, 62],
                vec![2, 4]
            )
        );
    }

    /// MCS shapes of the TCB methods (`object-api.xml`, the `CONFIG_KERNEL_MCS` variants):
    /// Configure without fault_ep (3 words, 3 caps), SetSchedParams with sched_context and
    /// fault_ep as caps after authority, SetSpace with fault_ep as the first cap,
    /// SetTimeoutEndpoint one cap and no words; the unchanged ones keep their layout.
    #[cfg(feature = "mcs")]
    #[test]
    fn tcb_layouts_mcs() {
        assert_eq!(
            parts(&tcb_configure(2, 0x1234, 3, 0, 0x5000, 10)),
            (
                InvocationLabel::TCBConfigure,
                vec![0x1234, 0, 0x5000],
                vec![2, 3, 10]
            )
        );
        assert_eq!(
            parts(&tcb_set_sched_params(1, 100, 50, 14, 7)),
            (
                InvocationLabel::TCBSetSchedParams,
                vec![100, 50],
                vec![1, 14, 7]
            )
        );
        assert_eq!(
            parts(&tcb_set_space(5, 2, 0x40, 3, 0)),
            (InvocationLabel::TCBSetSpace, vec![0x40, 0], vec![5, 2, 3])
        );
        assert_eq!(
            parts(&tcb_set_timeout_endpoint(9)),
            (InvocationLabel::TCBSetTimeoutEndpoint, vec![], vec![9])
        );
        assert_eq!(
            parts(&tcb_set_priority(1, 200)),
            (InvocationLabel::TCBSetPriority, vec![200], vec![1])
        );
        assert_eq!(
            parts(&tcb_set_ipc_buffer(0x7000, 10)),
            (InvocationLabel::TCBSetIPCBuffer, vec![0x7000], vec![10])
        );
        assert_eq!(
            parts(&tcb_set_flags(1, 0)),
            (InvocationLabel::TCBSetFlags, vec![1, 0], vec![])
        );
        assert_eq!(InvocationLabel::TCBSetTimeoutEndpoint as Word, 9);
    }

    /// MCS scheduling methods (`object-api.xml`): SchedControl ConfigureFlags sends budget,
    /// period (`seL4_Time`, one word each on 64-bit), extra_refills, badge, flags and the SC as
    /// its one cap; Bind and UnbindObject one cap; Unbind, Consumed and YieldTo nothing.
    #[cfg(feature = "mcs")]
    #[test]
    fn sched_layouts_mcs() {
        assert_eq!(
            parts(&sched_control_configure_flags(300, 1000, 5000, 2, 0xbad, 1)),
            (
                InvocationLabel::SchedControlConfigureFlags,
                vec![1000, 5000, 2, 0xbad, 1],
                vec![300]
            )
        );
        assert_eq!(
            parts(&sched_context_bind(1)),
            (InvocationLabel::SchedContextBind, vec![], vec![1])
        );
        assert_eq!(
            parts(&sched_context_unbind()),
            (InvocationLabel::SchedContextUnbind, vec![], vec![])
        );
        assert_eq!(
            parts(&sched_context_unbind_object(20)),
            (InvocationLabel::SchedContextUnbindObject, vec![], vec![20])
        );
        assert_eq!(
            parts(&sched_context_consumed()),
            (InvocationLabel::SchedContextConsumed, vec![], vec![])
        );
        assert_eq!(
            parts(&sched_context_yield_to()),
            (InvocationLabel::SchedContextYieldTo, vec![], vec![])
        );
        assert_eq!(
            (
                InvocationLabel::SchedControlConfigureFlags as Word,
                InvocationLabel::SchedContextYieldTo as Word
            ),
            (33, 38)
        );
    }

    #[test]
    fn irq_and_domain_layouts() {
        assert_eq!(
            parts(&irq_control_get(33, 2, 400, 64)),
            (
                InvocationLabel::IRQIssueIRQHandler,
                vec![33, 400, 64],
                vec![2]
            )
        );
        assert_eq!(
            parts(&irq_control_get_trigger(33, 1, 2, 400, 64)),
            (
                InvocationLabel::RISCVIRQIssueIRQHandlerTrigger,
                vec![33, 1, 400, 64],
                vec![2]
            )
        );
        assert_eq!(
            parts(&irq_handler_ack()),
            (InvocationLabel::IRQAckIRQ, vec![], vec![])
        );
        assert_eq!(
            parts(&irq_handler_set_notification(9)),
            (InvocationLabel::IRQSetIRQHandler, vec![], vec![9])
        );
        assert_eq!(
            parts(&irq_handler_clear()),
            (InvocationLabel::IRQClearIRQHandler, vec![], vec![])
        );
        assert_eq!(
            parts(&domain_set_set(0, 1)),
            (InvocationLabel::DomainSetSet, vec![0], vec![1])
        );
        assert_eq!(
            parts(&domain_schedule_configure(1, 0, 1 << 40)),
            (
                InvocationLabel::DomainScheduleConfigure,
                vec![1, 0, 1 << 40],
                vec![]
            )
        );
        assert_eq!(
            parts(&domain_schedule_set_start(1)),
            (InvocationLabel::DomainScheduleSetStart, vec![1], vec![])
        );
    }

    #[test]
    fn riscv_vspace_layouts() {
        assert_eq!(
            parts(&page_table_map(3, 0x4000_0000, 0)),
            (
                InvocationLabel::RISCVPageTableMap,
                vec![0x4000_0000, 0],
                vec![3]
            )
        );
        assert_eq!(
            parts(&page_table_unmap()),
            (InvocationLabel::RISCVPageTableUnmap, vec![], vec![])
        );
        assert_eq!(
            parts(&page_map(3, 0x1000, CapRights::READ_WRITE, 1)),
            (InvocationLabel::RISCVPageMap, vec![0x1000, 3, 1], vec![3])
        );
        assert_eq!(
            parts(&page_unmap()),
            (InvocationLabel::RISCVPageUnmap, vec![], vec![])
        );
        assert_eq!(
            parts(&page_get_address()),
            (InvocationLabel::RISCVPageGetAddress, vec![], vec![])
        );
        assert_eq!(
            parts(&asid_control_make_pool(50, 2, 51, 64)),
            (
                InvocationLabel::RISCVASIDControlMakePool,
                vec![51, 64],
                vec![50, 2]
            )
        );
        assert_eq!(
            parts(&asid_pool_assign(3)),
            (InvocationLabel::RISCVASIDPoolAssign, vec![], vec![3])
        );
    }

    #[test]
    fn error_details_decode_like_setmrs_syscall_error() {
        assert_eq!(ErrorDetail::parse(0, &[]), ErrorDetail::NoError);
        assert_eq!(
            ErrorDetail::parse(1, &[3]),
            ErrorDetail::InvalidArgument { index: 3 }
        );
        assert_eq!(
            ErrorDetail::parse(2, &[0]),
            ErrorDetail::InvalidCapability { index: 0 }
        );
        assert_eq!(ErrorDetail::parse(3, &[]), ErrorDetail::IllegalOperation);
        assert_eq!(
            ErrorDetail::parse(4, &[1, 64]),
            ErrorDetail::RangeError { min: 1, max: 64 }
        );
        assert_eq!(
            ErrorDetail::parse(10, &[4096]),
            ErrorDetail::NotEnoughMemory { available: 4096 }
        );
        assert_eq!(ErrorDetail::parse(8, &[]), ErrorDetail::DeleteFirst);
        assert_eq!(ErrorDetail::parse(9, &[]), ErrorDetail::RevokeFirst);
        assert_eq!(ErrorDetail::parse(7, &[]), ErrorDetail::TruncatedMessage);
        assert_eq!(ErrorDetail::parse(5, &[]), ErrorDetail::AlignmentError);
        assert_eq!(
            ErrorDetail::parse(42, &[]),
            ErrorDetail::Unknown { label: 42 }
        );
        let d = ErrorDetail::parse(6, &[1, 2, 64]);
        assert_eq!(
            d,
            ErrorDetail::FailedLookup {
                source: true,
                failure: LookupFailure::MissingCapability { bits_left: 64 }
            }
        );
        assert_eq!(d.words(), 3);
        let d = ErrorDetail::parse(6, &[0, 4, 13, 0, 51]);
        assert_eq!(
            d,
            ErrorDetail::FailedLookup {
                source: false,
                failure: LookupFailure::GuardMismatch {
                    bits_left: 13,
                    guard_found: 0,
                    bits_found: 51
                }
            }
        );
        assert_eq!(d.words(), 5);
        let d = ErrorDetail::parse(6, &[0, 3, 60, 64]);
        assert_eq!(
            d,
            ErrorDetail::FailedLookup {
                source: false,
                failure: LookupFailure::DepthMismatch {
                    bits_left: 60,
                    bits_found: 64
                }
            }
        );
        assert_eq!(ErrorDetail::parse(6, &[1, 1]).words(), 2);
        assert_eq!(ErrorDetail::parse(4, &[0, 38]).words(), 2);
        assert_eq!(ErrorDetail::parse(6, &[1, 9]).words(), 2);
    }

    #[test]
    fn error_details_display() {
        let s = format!("{}", ErrorDetail::parse(6, &[0, 4, 13, 0, 51]));
        assert_eq!(s, "seL4_FailedLookup(destination, GuardMismatch(bits_left=13, guard_found=0x0, bits_found=51))");
        assert_eq!(
            format!("{}", ErrorDetail::parse(4, &[1, 256])),
            "seL4_RangeError(1..=256)"
        );
    }

    #[test]
    fn reply_labels_become_results() {
        assert_eq!(
            reply_result(MessageInfo::new(0, 0, 0, 1)),
            Ok(MessageInfo::new(0, 0, 0, 1))
        );
        assert_eq!(
            reply_result(MessageInfo::new(8, 0, 0, 0)),
            Err(Error::DeleteFirst)
        );
        assert_eq!(
            reply_result(MessageInfo::new(77, 0, 0, 0)),
            Err(Error::NoError)
        );
    }

    #[test]
    #[should_panic(expected = "too many extra caps")]
    fn four_caps_are_rejected() {
        let _ = Invocation::new(InvocationLabel::CNodeCopy)
            .cap(1)
            .cap(2)
            .cap(3)
            .cap(4);
    }
}
