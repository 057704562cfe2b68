//! The raw layer: seL4's functions under seL4's names and argument order.
//!
//! Syscalls follow `libsel4/arch_include/riscv/sel4/arch/syscalls.h` (non-MCS forms): the
//! sending ones load MR0..MR3 from the IPC buffer into `a2..a5`, the receiving ones store
//! `a2..a5` back into MR0..MR3 of the IPC buffer. Out-parameters become return values
//! (`seL4_Recv` returns `(info, badge)`).
//!
//! Invocations are the stubs seL4 generates from the interface XML, with the same parameters
//! (the invoked cap first), returning `Result<_, abi::Error>`; see [`crate::invocation`] for
//! their message layouts and [`crate::invocation::last_error`] for error details.
#![allow(non_snake_case)]

use abi::message::MSG_MAX_LENGTH;
use abi::user_context::{UserContext, USER_CONTEXT_WORDS};
use abi::{CPtr, CapRights, Error, IpcBuffer, MessageInfo, Syscall, Word};

use crate::arch::{ecall, SyscallRegs};
use crate::invocation::encode;
use crate::ipc;

// ---------------------------------------------------------------------------------------------
// System calls

fn send_like(sys: Syscall, dest: CPtr, info: MessageInfo) {
    let mut r = SyscallRegs::new(dest, info.0, ipc::fast_mrs());
    ecall(sys, &mut r);
}

/// A receiving syscall with `r` set up: MR0..MR3 of the answer go to the IPC buffer; returns
/// its info and the badge.
fn recv_with(sys: Syscall, mut r: SyscallRegs) -> (MessageInfo, Word) {
    ecall(sys, &mut r);
    ipc::store_fast_mrs(r.mr);
    (MessageInfo(r.a1), r.a0)
}

#[cfg(not(feature = "mcs"))]
fn recv_like(sys: Syscall, src: CPtr) -> (MessageInfo, Word) {
    recv_with(sys, SyscallRegs::new(src, 0, [0; 4]))
}

/// `seL4_Send`: send `info` (MRs from the IPC buffer) to `dest`, blocking.
pub fn seL4_Send(dest: CPtr, info: MessageInfo) {
    send_like(Syscall::Send, dest, info)
}

/// `seL4_NBSend`: send without blocking; dropped if nobody waits.
pub fn seL4_NBSend(dest: CPtr, info: MessageInfo) {
    send_like(Syscall::NBSend, dest, info)
}

/// `seL4_Call`: send and wait for the reply. The reply's MR0..MR3 are stored in the IPC
/// buffer, and (an addition of this library) its `MessageInfo` in the buffer's `tag` word.
pub fn seL4_Call(dest: CPtr, info: MessageInfo) -> MessageInfo {
    let mut r = SyscallRegs::new(dest, info.0, ipc::fast_mrs());
    ecall(Syscall::Call, &mut r);
    ipc::store_fast_mrs(r.mr);
    let reply = MessageInfo(r.a1);
    ipc::set_tag(reply);
    reply
}

/// `seL4_Recv`: wait for a message on `src`; returns its info and the sender's badge.
#[cfg(not(feature = "mcs"))]
pub fn seL4_Recv(src: CPtr) -> (MessageInfo, Word) {
    recv_like(Syscall::Recv, src)
}

/// `seL4_NBRecv`: receive without blocking.
#[cfg(not(feature = "mcs"))]
pub fn seL4_NBRecv(src: CPtr) -> (MessageInfo, Word) {
    recv_like(Syscall::NBRecv, src)
}

/// `seL4_Reply`: reply to the caller saved in this thread's reply slot.
#[cfg(not(feature = "mcs"))]
pub fn seL4_Reply(info: MessageInfo) {
    send_like(Syscall::Reply, 0, info)
}

/// `seL4_ReplyRecv`: reply, then wait on `src`; returns the new message's info and badge.
#[cfg(not(feature = "mcs"))]
pub fn seL4_ReplyRecv(src: CPtr, info: MessageInfo) -> (MessageInfo, Word) {
    recv_with(
        Syscall::ReplyRecv,
        SyscallRegs::new(src, info.0, ipc::fast_mrs()),
    )
}

/// `seL4_Recv` (MCS): wait for a message on `src`; a caller's reply goes through the Reply
/// object `reply` (`a6`). Returns the message's info and the sender's badge.
#[cfg(feature = "mcs")]
pub fn seL4_Recv(src: CPtr, reply: CPtr) -> (MessageInfo, Word) {
    let mut r = SyscallRegs::new(src, 0, [0; 4]);
    r.a6 = reply;
    recv_with(Syscall::Recv, r)
}

/// `seL4_NBRecv` (MCS): receive without blocking, with Reply object `reply`.
#[cfg(feature = "mcs")]
pub fn seL4_NBRecv(src: CPtr, reply: CPtr) -> (MessageInfo, Word) {
    let mut r = SyscallRegs::new(src, 0, [0; 4]);
    r.a6 = reply;
    recv_with(Syscall::NBRecv, r)
}

/// `seL4_ReplyRecv` (MCS): reply through the Reply object `reply` (invoking it), then wait on
/// `src` with the same Reply object; returns the new message's info and badge.
#[cfg(feature = "mcs")]
pub fn seL4_ReplyRecv(src: CPtr, info: MessageInfo, reply: CPtr) -> (MessageInfo, Word) {
    let mut r = SyscallRegs::new(src, info.0, ipc::fast_mrs());
    r.a6 = reply;
    recv_with(Syscall::ReplyRecv, r)
}

/// `seL4_NBSendRecv` (MCS): send `info` to `dest` without blocking (`t0`), then wait on `src`
/// with Reply object `reply` (`a6`); returns the received message's info and badge.
#[cfg(feature = "mcs")]
pub fn seL4_NBSendRecv(
    dest: CPtr,
    info: MessageInfo,
    src: CPtr,
    reply: CPtr,
) -> (MessageInfo, Word) {
    let mut r = SyscallRegs::new(src, info.0, ipc::fast_mrs());
    r.a6 = reply;
    r.t0 = dest;
    recv_with(Syscall::NBSendRecv, r)
}

/// `seL4_NBSendWait` (MCS): send `info` to `dest` without blocking (`a6`), then wait on `src`
/// without a Reply object; returns the received message's info and badge.
#[cfg(feature = "mcs")]
pub fn seL4_NBSendWait(dest: CPtr, info: MessageInfo, src: CPtr) -> (MessageInfo, Word) {
    let mut r = SyscallRegs::new(src, info.0, ipc::fast_mrs());
    r.a6 = dest;
    recv_with(Syscall::NBSendWait, r)
}

/// `seL4_Wait` (MCS: its own syscall): wait on a notification or endpoint `src` without a
/// Reply object; returns the info and the badge.
#[cfg(feature = "mcs")]
pub fn seL4_Wait(src: CPtr) -> (MessageInfo, Word) {
    recv_with(Syscall::Wait, SyscallRegs::new(src, 0, [0; 4]))
}

/// `seL4_NBWait` (MCS): `seL4_Wait` without blocking.
#[cfg(feature = "mcs")]
pub fn seL4_NBWait(src: CPtr) -> (MessageInfo, Word) {
    recv_with(Syscall::NBWait, SyscallRegs::new(src, 0, [0; 4]))
}

/// `seL4_Yield` (MCS: gives up the rest of the current budget).
pub fn seL4_Yield() {
    ecall(Syscall::Yield, &mut SyscallRegs::default())
}

/// `seL4_Signal`: `seL4_Send` of an empty message, meant for a notification.
pub fn seL4_Signal(dest: CPtr) {
    ecall(
        Syscall::Send,
        &mut SyscallRegs::new(dest, MessageInfo::new(0, 0, 0, 0).0, [0; 4]),
    )
}

/// `seL4_Wait` (non-MCS: `seL4_Recv`); returns the badge.
#[cfg(not(feature = "mcs"))]
pub fn seL4_Wait(src: CPtr) -> Word {
    seL4_Recv(src).1
}

/// `seL4_Poll` (non-MCS: `seL4_NBRecv`; MCS: `seL4_NBWait`); returns the info and the badge (0
/// if nothing was pending on a notification).
pub fn seL4_Poll(src: CPtr) -> (MessageInfo, Word) {
    #[cfg(not(feature = "mcs"))]
    {
        seL4_NBRecv(src)
    }
    #[cfg(feature = "mcs")]
    {
        seL4_NBWait(src)
    }
}

/// `seL4_DebugPutChar`: print one byte on the kernel console.
pub fn seL4_DebugPutChar(c: u8) {
    ecall(
        Syscall::DebugPutChar,
        &mut SyscallRegs::new(c as Word, 0, [0; 4]),
    )
}

/// `seL4_DebugPutString`: `seL4_DebugPutChar` for each byte.
pub fn seL4_DebugPutString(s: &str) {
    for b in s.bytes() {
        seL4_DebugPutChar(b)
    }
}

/// `seL4_DebugDumpScheduler`: the kernel prints its scheduler state.
pub fn seL4_DebugDumpScheduler() {
    ecall(Syscall::DebugDumpScheduler, &mut SyscallRegs::default())
}

/// `seL4_DebugHalt`: stop the machine.
pub fn seL4_DebugHalt() {
    ecall(Syscall::DebugHalt, &mut SyscallRegs::default())
}

/// `seL4_DebugSnapshot`: the kernel prints a capDL snapshot.
pub fn seL4_DebugSnapshot() {
    ecall(Syscall::DebugSnapshot, &mut SyscallRegs::default())
}

/// `seL4_DebugCapIdentify`: the kernel's type tag of the cap at `cap` (looked up in this
/// thread's CSpace at full depth; 0 for an empty slot or a failed lookup). See
/// [`crate::cap_tag`].
pub fn seL4_DebugCapIdentify(cap: CPtr) -> u32 {
    let mut r = SyscallRegs::new(cap, 0, [0; 4]);
    ecall(Syscall::DebugCapIdentify, &mut r);
    r.a0 as u32
}

/// Longest thread name `seL4_DebugNameThread` accepts: the message area less the NUL (seL4
/// halts if it finds no NUL within `seL4_MsgMaxLength` words).
pub const MAX_THREAD_NAME: usize = MSG_MAX_LENGTH * 8 - 1;

/// `seL4_DebugNameThread`: name the thread `tcb` (for kernel messages). The name goes into the
/// IPC buffer's message area as a NUL-terminated string, cut to [`MAX_THREAD_NAME`] bytes.
pub fn seL4_DebugNameThread(tcb: CPtr, name: &str) {
    ipc::with_ipc_buffer(|b| write_c_string(b, name.as_bytes()));
    ecall(
        Syscall::DebugNameThread,
        &mut SyscallRegs::new(tcb, 0, [0; 4]),
    )
}

/// Store `s` (cut to `MAX_THREAD_NAME` bytes) and a NUL, as bytes, from the start of `msg`.
fn write_c_string(b: &mut IpcBuffer, s: &[u8]) {
    let s = &s[..s.len().min(MAX_THREAD_NAME)];
    let mut bytes = s.iter().copied().chain(core::iter::once(0));
    for w in b.msg.iter_mut().take(s.len() / 8 + 1) {
        let mut chunk = [0u8; 8];
        for c in chunk.iter_mut() {
            *c = bytes.next().unwrap_or(0);
        }
        *w = Word::from_le_bytes(chunk);
    }
}

// ---------------------------------------------------------------------------------------------
// IPC buffer accessors

/// `seL4_GetMR`.
pub fn seL4_GetMR(i: usize) -> Word {
    ipc::get_mr(i)
}

/// `seL4_SetMR`.
pub fn seL4_SetMR(i: usize, w: Word) {
    ipc::set_mr(i, w)
}

/// `seL4_GetCap`: extra cap `i` of the next message.
pub fn seL4_GetCap(i: usize) -> CPtr {
    ipc::get_cap(i)
}

/// `seL4_SetCap`.
pub fn seL4_SetCap(i: usize, cptr: CPtr) {
    ipc::set_cap(i, cptr)
}

/// `seL4_GetBadge`: badge of unwrapped received cap `i`.
pub fn seL4_GetBadge(i: usize) -> Word {
    ipc::get_badge(i)
}

/// `seL4_SetCapReceivePath`.
pub fn seL4_SetCapReceivePath(receiveCNode: CPtr, receiveIndex: CPtr, receiveDepth: Word) {
    ipc::set_receive_path(receiveCNode, receiveIndex, receiveDepth)
}

/// `seL4_GetUserData`.
pub fn seL4_GetUserData() -> Word {
    ipc::user_data()
}

/// `seL4_SetUserData`.
pub fn seL4_SetUserData(w: Word) {
    ipc::set_user_data(w)
}

/// `seL4_GetIPCBuffer`.
pub fn seL4_GetIPCBuffer() -> *mut IpcBuffer {
    ipc::ipc_buffer_ptr()
}

/// `seL4_MessageInfo_new`.
pub const fn seL4_MessageInfo_new(
    label: Word,
    capsUnwrapped: Word,
    extraCaps: Word,
    length: Word,
) -> MessageInfo {
    MessageInfo::new(label, capsUnwrapped, extraCaps, length)
}

// ---------------------------------------------------------------------------------------------
// Invocations (object-api.xml)

fn unit(r: Result<MessageInfo, Error>) -> Result<(), Error> {
    r.map(|_| ())
}

/// `seL4_Untyped_Retype`: create `num_objects` objects of `type` (and `size_bits` where it
/// matters) in slots `node_offset..` of the CNode at (`root`, `node_index`, `node_depth`);
/// `node_depth` 0 means `root` itself.
#[allow(clippy::too_many_arguments)]
pub fn seL4_Untyped_Retype(
    service: CPtr,
    r#type: Word,
    size_bits: Word,
    root: CPtr,
    node_index: Word,
    node_depth: Word,
    node_offset: Word,
    num_objects: Word,
) -> Result<(), Error> {
    unit(
        encode::untyped_retype(
            r#type,
            size_bits,
            root,
            node_index,
            node_depth,
            node_offset,
            num_objects,
        )
        .call(service),
    )
}

/// `seL4_TCB_ReadRegisters`: the first `count` registers of the thread (the rest zero).
pub fn seL4_TCB_ReadRegisters(
    service: CPtr,
    suspend_source: bool,
    arch_flags: u8,
    count: Word,
) -> Result<UserContext, Error> {
    encode::tcb_read_registers(suspend_source, arch_flags, count).call(service)?;
    let mut regs = UserContext::default();
    let n = (count as usize).min(USER_CONTEXT_WORDS);
    ipc::with_ipc_buffer(|b| regs.regs[..n].copy_from_slice(&b.msg[..n]));
    Ok(regs)
}

/// `seL4_TCB_WriteRegisters`: set the first `count` registers from `regs`.
pub fn seL4_TCB_WriteRegisters(
    service: CPtr,
    resume_target: bool,
    arch_flags: u8,
    count: Word,
    regs: &UserContext,
) -> Result<(), Error> {
    unit(encode::tcb_write_registers(resume_target, arch_flags, count, regs).call(service))
}

/// `seL4_TCB_CopyRegisters`.
pub fn seL4_TCB_CopyRegisters(
    service: CPtr,
    source: CPtr,
    suspend_source: bool,
    resume_target: bool,
    transfer_frame: bool,
    transfer_integer: bool,
    arch_flags: u8,
) -> Result<(), Error> {
    unit(
        encode::tcb_copy_registers(
            source,
            suspend_source,
            resume_target,
            transfer_frame,
            transfer_integer,
            arch_flags,
        )
        .call(service),
    )
}

#[cfg(not(feature = "mcs"))]
/// `seL4_TCB_Configure` (non-MCS).
#[allow(clippy::too_many_arguments)]
pub fn seL4_TCB_Configure(
    service: CPtr,
    fault_ep: Word,
    cspace_root: CPtr,
    cspace_root_data: Word,
    vspace_root: CPtr,
    vspace_root_data: Word,
    buffer: Word,
    bufferFrame: CPtr,
) -> Result<(), Error> {
    unit(
        encode::tcb_configure(
            fault_ep,
            cspace_root,
            cspace_root_data,
            vspace_root,
            vspace_root_data,
            buffer,
            bufferFrame,
        )
        .call(service),
    )
}

/// `seL4_TCB_Configure` (MCS): no fault endpoint (it is set with `SetSchedParams` or
/// `SetSpace`).
#[cfg(feature = "mcs")]
pub fn seL4_TCB_Configure(
    service: CPtr,
    cspace_root: CPtr,
    cspace_root_data: Word,
    vspace_root: CPtr,
    vspace_root_data: Word,
    buffer: Word,
    bufferFrame: CPtr,
) -> Result<(), Error> {
    unit(
        encode::tcb_configure(
            cspace_root,
            cspace_root_data,
            vspace_root,
            vspace_root_data,
            buffer,
            bufferFrame,
        )
        .call(service),
    )
}

/// `seL4_TCB_SetPriority`.
pub fn seL4_TCB_SetPriority(service: CPtr, authority: CPtr, priority: Word) -> Result<(), Error> {
    unit(encode::tcb_set_priority(authority, priority).call(service))
}

/// `seL4_TCB_SetMCPriority`.
pub fn seL4_TCB_SetMCPriority(service: CPtr, authority: CPtr, mcp: Word) -> Result<(), Error> {
    unit(encode::tcb_set_mc_priority(authority, mcp).call(service))
}

#[cfg(not(feature = "mcs"))]
/// `seL4_TCB_SetSchedParams` (non-MCS).
pub fn seL4_TCB_SetSchedParams(
    service: CPtr,
    authority: CPtr,
    mcp: Word,
    priority: Word,
) -> Result<(), Error> {
    unit(encode::tcb_set_sched_params(authority, mcp, priority).call(service))
}

/// `seL4_TCB_SetSchedParams` (MCS): MCP, priority, scheduling context (`sched_context`, 0 for
/// none: unbinds) and fault endpoint (a cap, copied into the TCB).
#[cfg(feature = "mcs")]
pub fn seL4_TCB_SetSchedParams(
    service: CPtr,
    authority: CPtr,
    mcp: Word,
    priority: Word,
    sched_context: CPtr,
    fault_ep: CPtr,
) -> Result<(), Error> {
    unit(
        encode::tcb_set_sched_params(authority, mcp, priority, sched_context, fault_ep)
            .call(service),
    )
}

/// `seL4_TCB_SetTimeoutEndpoint` (MCS): the endpoint timeout faults go to (a cap, copied into
/// the TCB; 0 for none).
#[cfg(feature = "mcs")]
pub fn seL4_TCB_SetTimeoutEndpoint(service: CPtr, timeout_fault_ep: CPtr) -> Result<(), Error> {
    unit(encode::tcb_set_timeout_endpoint(timeout_fault_ep).call(service))
}

/// `seL4_TCB_SetIPCBuffer`.
pub fn seL4_TCB_SetIPCBuffer(service: CPtr, buffer: Word, bufferFrame: CPtr) -> Result<(), Error> {
    unit(encode::tcb_set_ipc_buffer(buffer, bufferFrame).call(service))
}

#[cfg(not(feature = "mcs"))]
/// `seL4_TCB_SetSpace` (non-MCS).
pub fn seL4_TCB_SetSpace(
    service: CPtr,
    fault_ep: Word,
    cspace_root: CPtr,
    cspace_root_data: Word,
    vspace_root: CPtr,
    vspace_root_data: Word,
) -> Result<(), Error> {
    unit(
        encode::tcb_set_space(
            fault_ep,
            cspace_root,
            cspace_root_data,
            vspace_root,
            vspace_root_data,
        )
        .call(service),
    )
}

/// `seL4_TCB_SetSpace` (MCS): the fault endpoint is a cap (copied into the TCB), not a CPtr
/// word.
#[cfg(feature = "mcs")]
pub fn seL4_TCB_SetSpace(
    service: CPtr,
    fault_ep: CPtr,
    cspace_root: CPtr,
    cspace_root_data: Word,
    vspace_root: CPtr,
    vspace_root_data: Word,
) -> Result<(), Error> {
    unit(
        encode::tcb_set_space(
            fault_ep,
            cspace_root,
            cspace_root_data,
            vspace_root,
            vspace_root_data,
        )
        .call(service),
    )
}

/// `seL4_TCB_Suspend`.
pub fn seL4_TCB_Suspend(service: CPtr) -> Result<(), Error> {
    unit(encode::tcb_suspend().call(service))
}

/// `seL4_TCB_Resume`.
pub fn seL4_TCB_Resume(service: CPtr) -> Result<(), Error> {
    unit(encode::tcb_resume().call(service))
}

/// `seL4_TCB_BindNotification`.
pub fn seL4_TCB_BindNotification(service: CPtr, notification: CPtr) -> Result<(), Error> {
    unit(encode::tcb_bind_notification(notification).call(service))
}

/// `seL4_TCB_UnbindNotification`.
pub fn seL4_TCB_UnbindNotification(service: CPtr) -> Result<(), Error> {
    unit(encode::tcb_unbind_notification().call(service))
}

/// `seL4_TCB_SetTLSBase`.
pub fn seL4_TCB_SetTLSBase(service: CPtr, tls_base: Word) -> Result<(), Error> {
    unit(encode::tcb_set_tls_base(tls_base).call(service))
}

/// `seL4_TCB_SetFlags`: clear, then set flags; returns the resulting flags.
pub fn seL4_TCB_SetFlags(service: CPtr, clear: Word, set: Word) -> Result<Word, Error> {
    encode::tcb_set_flags(clear, set).call(service)?;
    Ok(ipc::get_mr(0))
}

/// `seL4_CNode_Revoke`: delete every cap derived from the one at (`service`, `index`,
/// `depth`).
pub fn seL4_CNode_Revoke(service: CPtr, index: Word, depth: u8) -> Result<(), Error> {
    unit(encode::cnode_revoke(index, depth).call(service))
}

/// `seL4_CNode_Delete`.
pub fn seL4_CNode_Delete(service: CPtr, index: Word, depth: u8) -> Result<(), Error> {
    unit(encode::cnode_delete(index, depth).call(service))
}

/// `seL4_CNode_CancelBadgedSends`.
pub fn seL4_CNode_CancelBadgedSends(service: CPtr, index: Word, depth: u8) -> Result<(), Error> {
    unit(encode::cnode_cancel_badged_sends(index, depth).call(service))
}

/// `seL4_CNode_Copy`.
pub fn seL4_CNode_Copy(
    service: CPtr,
    dest_index: Word,
    dest_depth: u8,
    src_root: CPtr,
    src_index: Word,
    src_depth: u8,
    rights: CapRights,
) -> Result<(), Error> {
    unit(
        encode::cnode_copy(
            dest_index, dest_depth, src_root, src_index, src_depth, rights,
        )
        .call(service),
    )
}

/// `seL4_CNode_Mint`.
#[allow(clippy::too_many_arguments)]
pub fn seL4_CNode_Mint(
    service: CPtr,
    dest_index: Word,
    dest_depth: u8,
    src_root: CPtr,
    src_index: Word,
    src_depth: u8,
    rights: CapRights,
    badge: Word,
) -> Result<(), Error> {
    unit(
        encode::cnode_mint(
            dest_index, dest_depth, src_root, src_index, src_depth, rights, badge,
        )
        .call(service),
    )
}

/// `seL4_CNode_Move`.
pub fn seL4_CNode_Move(
    service: CPtr,
    dest_index: Word,
    dest_depth: u8,
    src_root: CPtr,
    src_index: Word,
    src_depth: u8,
) -> Result<(), Error> {
    unit(encode::cnode_move(dest_index, dest_depth, src_root, src_index, src_depth).call(service))
}

/// `seL4_CNode_Mutate`.
pub fn seL4_CNode_Mutate(
    service: CPtr,
    dest_index: Word,
    dest_depth: u8,
    src_root: CPtr,
    src_index: Word,
    src_depth: u8,
    badge: Word,
) -> Result<(), Error> {
    unit(
        encode::cnode_mutate(
            dest_index, dest_depth, src_root, src_index, src_depth, badge,
        )
        .call(service),
    )
}

/// `seL4_CNode_Rotate`: move the pivot cap to dest and the source cap to the pivot.
#[allow(clippy::too_many_arguments)]
pub fn seL4_CNode_Rotate(
    service: CPtr,
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
) -> Result<(), Error> {
    unit(
        encode::cnode_rotate(
            dest_index,
            dest_depth,
            dest_badge,
            pivot_root,
            pivot_index,
            pivot_depth,
            pivot_badge,
            src_root,
            src_index,
            src_depth,
        )
        .call(service),
    )
}

/// `seL4_CNode_SaveCaller` (non-MCS).
#[cfg(not(feature = "mcs"))]
pub fn seL4_CNode_SaveCaller(service: CPtr, index: Word, depth: u8) -> Result<(), Error> {
    unit(encode::cnode_save_caller(index, depth).call(service))
}

/// `seL4_IRQControl_Get`.
pub fn seL4_IRQControl_Get(
    service: CPtr,
    irq: Word,
    root: CPtr,
    index: Word,
    depth: u8,
) -> Result<(), Error> {
    unit(encode::irq_control_get(irq, root, index, depth).call(service))
}

/// `seL4_IRQControl_GetTrigger` (riscv).
pub fn seL4_IRQControl_GetTrigger(
    service: CPtr,
    irq: Word,
    trigger: Word,
    root: CPtr,
    index: Word,
    depth: u8,
) -> Result<(), Error> {
    unit(encode::irq_control_get_trigger(irq, trigger, root, index, depth).call(service))
}

/// `seL4_IRQHandler_Ack`.
pub fn seL4_IRQHandler_Ack(service: CPtr) -> Result<(), Error> {
    unit(encode::irq_handler_ack().call(service))
}

/// `seL4_IRQHandler_SetNotification`.
pub fn seL4_IRQHandler_SetNotification(service: CPtr, notification: CPtr) -> Result<(), Error> {
    unit(encode::irq_handler_set_notification(notification).call(service))
}

/// `seL4_IRQHandler_Clear`.
pub fn seL4_IRQHandler_Clear(service: CPtr) -> Result<(), Error> {
    unit(encode::irq_handler_clear().call(service))
}

/// `seL4_DomainSet_Set`.
pub fn seL4_DomainSet_Set(service: CPtr, domain: u8, thread: CPtr) -> Result<(), Error> {
    unit(encode::domain_set_set(domain, thread).call(service))
}

/// `seL4_DomainSet_ScheduleConfigure`.
pub fn seL4_DomainSet_ScheduleConfigure(
    service: CPtr,
    index: Word,
    domain: u8,
    duration: u64,
) -> Result<(), Error> {
    unit(encode::domain_schedule_configure(index, domain, duration).call(service))
}

/// `seL4_DomainSet_ScheduleSetStart`.
pub fn seL4_DomainSet_ScheduleSetStart(service: CPtr, index: Word) -> Result<(), Error> {
    unit(encode::domain_schedule_set_start(index).call(service))
}

/// `seL4_SchedControl_ConfigureFlags` (MCS): give `schedcontext` a budget and period (µs),
/// `extra_refills` more refills, a badge (for timeout faults) and flags
/// (`sched_context_flag::SPORADIC`).
#[cfg(feature = "mcs")]
pub fn seL4_SchedControl_ConfigureFlags(
    service: CPtr,
    schedcontext: CPtr,
    budget: u64,
    period: u64,
    extra_refills: Word,
    badge: Word,
    flags: Word,
) -> Result<(), Error> {
    unit(
        encode::sched_control_configure_flags(
            schedcontext,
            budget,
            period,
            extra_refills,
            badge,
            flags,
        )
        .call(service),
    )
}

/// `seL4_SchedControl_Configure` (MCS): `ConfigureFlags` with no flags (`virtual_client.h`).
#[cfg(feature = "mcs")]
pub fn seL4_SchedControl_Configure(
    service: CPtr,
    schedcontext: CPtr,
    budget: u64,
    period: u64,
    extra_refills: Word,
    badge: Word,
) -> Result<(), Error> {
    seL4_SchedControl_ConfigureFlags(
        service,
        schedcontext,
        budget,
        period,
        extra_refills,
        badge,
        crate::sched_context_flag::NO_FLAG,
    )
}

/// `seL4_SchedContext_Bind` (MCS): bind a TCB or a notification (`cap`).
#[cfg(feature = "mcs")]
pub fn seL4_SchedContext_Bind(service: CPtr, cap: CPtr) -> Result<(), Error> {
    unit(encode::sched_context_bind(cap).call(service))
}

/// `seL4_SchedContext_Unbind` (MCS): unbind whatever is bound.
#[cfg(feature = "mcs")]
pub fn seL4_SchedContext_Unbind(service: CPtr) -> Result<(), Error> {
    unit(encode::sched_context_unbind().call(service))
}

/// `seL4_SchedContext_UnbindObject` (MCS): unbind the TCB or notification `cap`.
#[cfg(feature = "mcs")]
pub fn seL4_SchedContext_UnbindObject(service: CPtr, cap: CPtr) -> Result<(), Error> {
    unit(encode::sched_context_unbind_object(cap).call(service))
}

/// `seL4_SchedContext_Consumed` (MCS): the time consumed since the last `Consumed`, `YieldTo`
/// or timeout fault, in µs (the reply's MR0); resets it.
#[cfg(feature = "mcs")]
pub fn seL4_SchedContext_Consumed(service: CPtr) -> Result<u64, Error> {
    encode::sched_context_consumed().call(service)?;
    Ok(ipc::get_mr(0))
}

/// `seL4_SchedContext_YieldTo` (MCS): run the thread bound to this SC now if it can (same
/// priority or, within the caller's MCP, higher); returns the consumed time (µs, MR0).
#[cfg(feature = "mcs")]
pub fn seL4_SchedContext_YieldTo(service: CPtr) -> Result<u64, Error> {
    encode::sched_context_yield_to().call(service)?;
    Ok(ipc::get_mr(0))
}

/// The address-space methods of the architecture (seL4's `seL4_RISCV_*` or `seL4_ARM_*`
/// stubs), named as seL4 names them for the architecture built; the same parameters on both.
macro_rules! address_space_methods {
    (
        $cfg:meta, $arch:literal:
        $page_table_map:ident, $page_table_unmap:ident, $page_map:ident, $page_unmap:ident,
        $page_get_address:ident, $asid_control_make_pool:ident, $asid_pool_assign:ident
    ) => {
        #[doc = concat!("`seL4_", $arch, "_PageTable_Map`.")]
        #[cfg($cfg)]
        pub fn $page_table_map(
            service: CPtr,
            vspace: CPtr,
            vaddr: Word,
            attr: Word,
        ) -> Result<(), Error> {
            unit(encode::page_table_map(vspace, vaddr, attr).call(service))
        }

        #[doc = concat!("`seL4_", $arch, "_PageTable_Unmap`.")]
        #[cfg($cfg)]
        pub fn $page_table_unmap(service: CPtr) -> Result<(), Error> {
            unit(encode::page_table_unmap().call(service))
        }

        #[doc = concat!("`seL4_", $arch, "_Page_Map`.")]
        #[cfg($cfg)]
        pub fn $page_map(
            service: CPtr,
            vspace: CPtr,
            vaddr: Word,
            rights: CapRights,
            attr: Word,
        ) -> Result<(), Error> {
            unit(encode::page_map(vspace, vaddr, rights, attr).call(service))
        }

        #[doc = concat!("`seL4_", $arch, "_Page_Unmap`.")]
        #[cfg($cfg)]
        pub fn $page_unmap(service: CPtr) -> Result<(), Error> {
            unit(encode::page_unmap().call(service))
        }

        #[doc = concat!("`seL4_", $arch, "_Page_GetAddress`: the frame's physical address.")]
        #[cfg($cfg)]
        pub fn $page_get_address(service: CPtr) -> Result<Word, Error> {
            encode::page_get_address().call(service)?;
            Ok(ipc::get_mr(0))
        }

        #[doc = concat!("`seL4_", $arch, "_ASIDControl_MakePool`.")]
        #[cfg($cfg)]
        pub fn $asid_control_make_pool(
            service: CPtr,
            untyped: CPtr,
            root: CPtr,
            index: Word,
            depth: u8,
        ) -> Result<(), Error> {
            unit(encode::asid_control_make_pool(untyped, root, index, depth).call(service))
        }

        #[doc = concat!("`seL4_", $arch, "_ASIDPool_Assign`.")]
        #[cfg($cfg)]
        pub fn $asid_pool_assign(service: CPtr, vspace: CPtr) -> Result<(), Error> {
            unit(encode::asid_pool_assign(vspace).call(service))
        }
    };
}

address_space_methods!(
    not(all(target_arch = "aarch64", target_os = "none")), "RISCV":
    seL4_RISCV_PageTable_Map, seL4_RISCV_PageTable_Unmap, seL4_RISCV_Page_Map,
    seL4_RISCV_Page_Unmap, seL4_RISCV_Page_GetAddress, seL4_RISCV_ASIDControl_MakePool,
    seL4_RISCV_ASIDPool_Assign
);

address_space_methods!(
    all(target_arch = "aarch64", target_os = "none"), "ARM":
    seL4_ARM_PageTable_Map, seL4_ARM_PageTable_Unmap, seL4_ARM_Page_Map,
    seL4_ARM_Page_Unmap, seL4_ARM_Page_GetAddress, seL4_ARM_ASIDControl_MakePool,
    seL4_ARM_ASIDPool_Assign
);

/// The Arm cache maintenance invocations (`seL4_ARM_Page_Clean_Data` .. `Unify_Instruction`
/// on a mapped frame, offsets `start..end` into it; `seL4_ARM_VSpace_Clean_Data` ..
/// `Unify_Instruction` on a VSpace, user addresses `start..end` within one frame).
macro_rules! arm_cache_methods {
    ($($(#[$m:meta])* $name:ident => $label:ident;)*) => {
        $(
            $(#[$m])*
            #[cfg(all(target_arch = "aarch64", target_os = "none"))]
            pub fn $name(service: CPtr, start: Word, end: Word) -> Result<(), Error> {
                unit(
                    crate::invocation::Invocation::new(abi::InvocationLabel::$label)
                        .word(start)
                        .word(end)
                        .call(service),
                )
            }
        )*
    };
}

arm_cache_methods! {
    /// `seL4_ARM_Page_Clean_Data`: clean `start..end` (offsets into the mapped frame) to the
    /// point of coherency.
    seL4_ARM_Page_Clean_Data => ARMPageClean_Data;
    /// `seL4_ARM_Page_Invalidate_Data`: invalidate `start..end` (needs a writable mapping).
    seL4_ARM_Page_Invalidate_Data => ARMPageInvalidate_Data;
    /// `seL4_ARM_Page_CleanInvalidate_Data`: clean and invalidate `start..end`.
    seL4_ARM_Page_CleanInvalidate_Data => ARMPageCleanInvalidate_Data;
    /// `seL4_ARM_Page_Unify_Instruction`: make instruction fetches of `start..end` see the
    /// data written there.
    seL4_ARM_Page_Unify_Instruction => ARMPageUnify_Instruction;
    /// `seL4_ARM_VSpace_Clean_Data`: clean the user addresses `start..end` (one frame).
    seL4_ARM_VSpace_Clean_Data => ARMVSpaceClean_Data;
    /// `seL4_ARM_VSpace_Invalidate_Data`: invalidate the user addresses `start..end`.
    seL4_ARM_VSpace_Invalidate_Data => ARMVSpaceInvalidate_Data;
    /// `seL4_ARM_VSpace_CleanInvalidate_Data`: clean and invalidate `start..end`.
    seL4_ARM_VSpace_CleanInvalidate_Data => ARMVSpaceCleanInvalidate_Data;
    /// `seL4_ARM_VSpace_Unify_Instruction`: make instruction fetches of `start..end` see the
    /// data written there.
    seL4_ARM_VSpace_Unify_Instruction => ARMVSpaceUnify_Instruction;
}

/// `seL4_IRQControl_IssueSGISignal` (Arm, non-SMP): a cap in the slot (`root`, `index`,
/// `depth`) that raises SGI `irq` (0..16) at CPU interface `target` (0..8 on a GICv2) when it
/// is signalled (`seL4_Signal`).
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub fn seL4_IRQControl_IssueSGISignal(
    service: CPtr,
    irq: Word,
    target: Word,
    root: CPtr,
    index: Word,
    depth: u8,
) -> Result<(), Error> {
    unit(
        crate::invocation::Invocation::new(abi::InvocationLabel::ARMIRQIssueSGISignal)
            .word(irq)
            .word(target)
            .word(index)
            .word(depth as Word)
            .cap(root)
            .call(service),
    )
}

#[cfg(all(test, not(target_os = "none")))]
mod tests {
    use super::*;
    use crate::arch::mock;
    use crate::invocation::{last_error, ErrorDetail, LookupFailure};
    use abi::InvocationLabel;

    fn ok_kernel() {
        mock::install(|_, r| {
            r.a1 = 0;
            r.a0 = 0;
        })
    }

    #[test]
    fn call_moves_mr0_to_mr3_through_registers() {
        ipc::install_test_buffer();
        mock::install(|sys, r| {
            assert_eq!(sys, Syscall::Call);
            assert_eq!(r.a0, 7);
            assert_eq!(MessageInfo(r.a1), MessageInfo::new(5, 0, 0, 6));
            assert_eq!(r.mr, [10, 11, 12, 13]);
            // MR4 and MR5 stay in the buffer.
            assert_eq!((ipc::get_mr(4), ipc::get_mr(5)), (14, 15));
            r.mr = [20, 21, 22, 23];
            r.a1 = MessageInfo::new(0, 0, 0, 4).0;
            r.a0 = 0x99;
        });
        for i in 0..6 {
            seL4_SetMR(i, 10 + i as Word);
        }
        let reply = seL4_Call(7, MessageInfo::new(5, 0, 0, 6));
        assert_eq!(reply, MessageInfo::new(0, 0, 0, 4));
        assert_eq!((seL4_GetMR(0), seL4_GetMR(3), seL4_GetMR(4)), (20, 23, 14));
        assert_eq!(ipc::tag(), reply);
    }

    #[cfg(not(feature = "mcs"))]
    #[test]
    fn send_recv_and_friends_use_the_right_numbers_and_registers() {
        ipc::install_test_buffer();
        mock::install(|sys, r| {
            if matches!(sys, Syscall::Recv | Syscall::NBRecv | Syscall::ReplyRecv) {
                r.a0 = 0xb0b;
                r.a1 = MessageInfo::new(3, 0, 0, 1).0;
                r.mr = [42, 0, 0, 0];
            }
            if sys == Syscall::DebugCapIdentify {
                r.a0 = 12;
            }
        });
        seL4_SetMR(0, 1);
        seL4_Send(3, MessageInfo::new(9, 0, 0, 1));
        seL4_NBSend(4, MessageInfo::new(9, 0, 0, 1));
        assert_eq!(seL4_Recv(5), (MessageInfo::new(3, 0, 0, 1), 0xb0b));
        assert_eq!(seL4_GetMR(0), 42);
        assert_eq!(seL4_NBRecv(5).1, 0xb0b);
        seL4_Reply(MessageInfo::new(0, 0, 0, 1));
        assert_eq!(seL4_ReplyRecv(6, MessageInfo::new(0, 0, 0, 0)).1, 0xb0b);
        seL4_Yield();
        seL4_Signal(8);
        assert_eq!(seL4_Wait(9), 0xb0b);
        assert_eq!(seL4_Poll(9).1, 0xb0b);
        seL4_DebugPutChar(b'x');
        assert_eq!(seL4_DebugCapIdentify(1), 12);
        seL4_DebugHalt();
        seL4_DebugSnapshot();
        seL4_DebugDumpScheduler();
        let log = mock::log();
        let sys: Vec<i64> = log.iter().map(|(s, _)| *s as i64).collect();
        assert_eq!(
            sys,
            vec![-3, -4, -5, -8, -6, -2, -7, -3, -5, -8, -9, -12, -11, -13, -10]
        );
        assert_eq!((log[0].1.a0, log[0].1.mr[0]), (3, 1));
        assert_eq!(log[1].1.a0, 4);
        assert_eq!(log[2].1.a0, 5);
        assert_eq!(log[7].1, SyscallRegs::new(8, 0, [0; 4]));
        assert_eq!(log[10].1.a0, b'x' as Word);
        assert_eq!(log[11].1.a0, 1);
    }

    /// The MCS syscalls (`arch_include/riscv/sel4/arch/syscalls.h` under `CONFIG_KERNEL_MCS`):
    /// the `api-mcs` numbers, the Reply cap in `a6` for Recv, NBRecv, ReplyRecv and NBSendRecv,
    /// NBSendRecv's destination in `t0`, NBSendWait's in `a6`, and Wait/NBWait without a Reply
    /// cap (`a6` 0: `riscv_sys_recv(seL4_SysWait, src, ..., 0)`).
    #[cfg(feature = "mcs")]
    #[test]
    fn mcs_syscalls_use_the_mcs_numbers_and_registers() {
        ipc::install_test_buffer();
        mock::install(|sys, r| {
            if !matches!(sys, Syscall::Send | Syscall::NBSend | Syscall::Yield) {
                r.a0 = 0xb0b;
                r.a1 = MessageInfo::new(3, 0, 0, 1).0;
                r.mr = [42, 0, 0, 0];
            }
        });
        seL4_SetMR(0, 1);
        seL4_Send(3, MessageInfo::new(9, 0, 0, 1));
        seL4_NBSend(4, MessageInfo::new(9, 0, 0, 1));
        assert_eq!(seL4_Recv(5, 30), (MessageInfo::new(3, 0, 0, 1), 0xb0b));
        assert_eq!(seL4_GetMR(0), 42);
        assert_eq!(seL4_NBRecv(5, 31).1, 0xb0b);
        seL4_SetMR(0, 7);
        assert_eq!(seL4_ReplyRecv(6, MessageInfo::new(0, 0, 0, 1), 32).1, 0xb0b);
        seL4_SetMR(0, 8);
        assert_eq!(
            seL4_NBSendRecv(40, MessageInfo::new(1, 0, 0, 1), 6, 33),
            (MessageInfo::new(3, 0, 0, 1), 0xb0b)
        );
        seL4_SetMR(0, 9);
        assert_eq!(
            seL4_NBSendWait(41, MessageInfo::new(2, 0, 0, 1), 7).1,
            0xb0b
        );
        assert_eq!(seL4_Wait(9), (MessageInfo::new(3, 0, 0, 1), 0xb0b));
        assert_eq!(seL4_NBWait(9).1, 0xb0b);
        assert_eq!(seL4_Poll(9).1, 0xb0b);
        seL4_Yield();
        seL4_Signal(8);
        seL4_DebugPutChar(b'x');
        seL4_DebugDumpScheduler();
        seL4_DebugHalt();
        seL4_DebugCapIdentify(1);
        seL4_DebugSnapshot();
        seL4_DebugNameThread(1, "t");
        let log = mock::log();
        let sys: Vec<i64> = log.iter().map(|(s, _)| *s as i64).collect();
        assert_eq!(
            sys,
            vec![-5, -6, -7, -8, -2, -3, -4, -9, -10, -10, -11, -5, -12, -13, -14, -15, -16, -17]
        );
        let regs = |i: usize| log[i].1;
        // Send and NBSend: no reply register.
        assert_eq!(
            (regs(0).a0, regs(0).mr[0], regs(0).a6, regs(0).t0),
            (3, 1, 0, 0)
        );
        // Recv, NBRecv: source in a0, Reply cap in a6.
        assert_eq!((regs(2).a0, regs(2).a6), (5, 30));
        assert_eq!((regs(3).a0, regs(3).a6), (5, 31));
        // ReplyRecv: the reply's message goes out from the same registers.
        assert_eq!(
            (regs(4).a0, regs(4).a1, regs(4).mr[0], regs(4).a6),
            (6, MessageInfo::new(0, 0, 0, 1).0, 7, 32)
        );
        // NBSendRecv: a0 = receive endpoint, t0 = send destination, a6 = Reply cap.
        assert_eq!(
            (regs(5).a0, regs(5).t0, regs(5).a6, regs(5).mr[0]),
            (6, 40, 33, 8)
        );
        assert_eq!(regs(5).a1, MessageInfo::new(1, 0, 0, 1).0);
        // NBSendWait: a0 = receive endpoint, a6 = send destination, t0 unused.
        assert_eq!(
            (regs(6).a0, regs(6).a6, regs(6).t0, regs(6).mr[0]),
            (7, 41, 0, 9)
        );
        // Wait, NBWait, Poll: no Reply cap.
        for i in 7..10 {
            assert_eq!((regs(i).a0, regs(i).a6, regs(i).t0), (9, 0, 0));
        }
        assert_eq!(regs(11), SyscallRegs::new(8, 0, [0; 4]));
    }

    #[test]
    fn name_thread_writes_a_nul_terminated_string() {
        ipc::install_test_buffer();
        ok_kernel();
        seL4_SetMR(1, Word::MAX);
        seL4_DebugNameThread(1, "roottask");
        assert_eq!(seL4_GetMR(0), Word::from_le_bytes(*b"roottask"));
        assert_eq!(seL4_GetMR(1), 0, "the NUL starts the next word");
        seL4_DebugNameThread(1, "abc");
        assert_eq!(seL4_GetMR(0), Word::from_le_bytes(*b"abc\0\0\0\0\0"));
        let long = "x".repeat(2000);
        seL4_DebugNameThread(1, &long);
        assert_eq!(seL4_GetMR(MSG_MAX_LENGTH - 1).to_le_bytes(), *b"xxxxxxx\0");
        assert_eq!(mock::log()[0].0, Syscall::DebugNameThread);
    }

    #[test]
    fn invocations_send_their_message_and_caps_and_decode_errors() {
        ipc::install_test_buffer();
        mock::install(|sys, r| {
            assert_eq!(sys, Syscall::Call);
            let info = MessageInfo(r.a1);
            assert_eq!(info.label(), InvocationLabel::CNodeCopy as Word);
            assert_eq!((info.extra_caps(), info.length()), (1, 5));
            assert_eq!(r.a0, 2);
            assert_eq!(r.mr, [300, 64, 0, 64]);
            assert_eq!(ipc::get_mr(4), CapRights::READ.0);
            assert_eq!(ipc::get_cap(0), 2);
            // FailedLookup on the source: missing capability, 64 bits left.
            r.a1 = MessageInfo::new(6, 0, 0, 3).0;
            r.mr = [1, 2, 64, 0];
        });
        let e = seL4_CNode_Copy(2, 300, 64, 2, 0, 64, CapRights::READ);
        assert_eq!(e, Err(Error::FailedLookup));
        assert_eq!(
            last_error().detail(),
            ErrorDetail::FailedLookup {
                source: true,
                failure: LookupFailure::MissingCapability { bits_left: 64 }
            }
        );
    }

    #[test]
    fn long_error_details_are_read_from_the_buffer() {
        ipc::install_test_buffer();
        mock::install(|_, r| {
            ipc::set_mr(4, 51);
            r.a1 = MessageInfo::new(6, 0, 0, 5).0;
            r.mr = [0, 4, 13, 0];
        });
        assert_eq!(seL4_CNode_Delete(2, 5, 13), Err(Error::FailedLookup));
        assert_eq!(
            last_error().detail(),
            ErrorDetail::FailedLookup {
                source: false,
                failure: LookupFailure::GuardMismatch {
                    bits_left: 13,
                    guard_found: 0,
                    bits_found: 51
                }
            }
        );
    }

    #[test]
    fn return_values_come_from_mr0() {
        ipc::install_test_buffer();
        mock::install(|_, r| {
            r.a1 = MessageInfo::new(0, 0, 0, 1).0;
            r.mr = [0x8020_0000, 0, 0, 0];
        });
        assert_eq!(seL4_RISCV_Page_GetAddress(9), Ok(0x8020_0000));
        assert_eq!(seL4_TCB_SetFlags(1, 0, 1), Ok(0x8020_0000));
    }

    #[test]
    fn read_registers_returns_count_registers() {
        ipc::install_test_buffer();
        mock::install(|_, r| {
            assert_eq!(r.mr[..2], [1, 6]);
            for i in 0..6 {
                ipc::set_mr(i, 100 + i as Word);
            }
            r.mr = [100, 101, 102, 103];
            r.a1 = MessageInfo::new(0, 0, 0, 6).0;
        });
        let regs = seL4_TCB_ReadRegisters(4, true, 0, 6).unwrap();
        assert_eq!(regs.regs[..7], [100, 101, 102, 103, 104, 105, 0]);
    }

    #[cfg(not(feature = "mcs"))]
    #[test]
    fn every_wrapper_sends_its_label() {
        ipc::install_test_buffer();
        ok_kernel();
        let ctx = UserContext::default();
        let r = CapRights::ALL;
        let results = [
            seL4_Untyped_Retype(1, 2, 0, 2, 0, 0, 100, 1),
            seL4_TCB_ReadRegisters(1, false, 0, 1).map(|_| ()),
            seL4_TCB_WriteRegisters(1, false, 0, 1, &ctx),
            seL4_TCB_CopyRegisters(1, 2, false, false, true, true, 0),
            seL4_TCB_Configure(1, 0, 2, 0, 3, 0, 0, 0),
            seL4_TCB_SetPriority(1, 1, 10),
            seL4_TCB_SetMCPriority(1, 1, 10),
            seL4_TCB_SetSchedParams(1, 1, 10, 10),
            seL4_TCB_SetIPCBuffer(1, 0, 0),
            seL4_TCB_SetSpace(1, 0, 2, 0, 3, 0),
            seL4_TCB_Suspend(1),
            seL4_TCB_Resume(1),
            seL4_TCB_BindNotification(1, 5),
            seL4_TCB_UnbindNotification(1),
            seL4_TCB_SetTLSBase(1, 0),
            seL4_TCB_SetFlags(1, 0, 0).map(|_| ()),
            seL4_CNode_Revoke(2, 1, 64),
            seL4_CNode_Delete(2, 1, 64),
            seL4_CNode_CancelBadgedSends(2, 1, 64),
            seL4_CNode_Copy(2, 1, 64, 2, 1, 64, r),
            seL4_CNode_Mint(2, 1, 64, 2, 1, 64, r, 0),
            seL4_CNode_Move(2, 1, 64, 2, 1, 64),
            seL4_CNode_Mutate(2, 1, 64, 2, 1, 64, 0),
            seL4_CNode_Rotate(2, 1, 64, 0, 2, 2, 64, 0, 2, 3, 64),
            seL4_CNode_SaveCaller(2, 1, 64),
            seL4_IRQControl_Get(4, 1, 2, 1, 64),
            seL4_IRQHandler_Ack(5),
            seL4_IRQHandler_SetNotification(5, 6),
            seL4_IRQHandler_Clear(5),
            seL4_DomainSet_Set(11, 0, 1),
            seL4_DomainSet_ScheduleConfigure(11, 0, 0, 1),
            seL4_DomainSet_ScheduleSetStart(11, 0),
            seL4_RISCV_PageTable_Map(7, 3, 0, 0),
            seL4_RISCV_PageTable_Unmap(7),
            seL4_RISCV_Page_Map(8, 3, 0, r, 0),
            seL4_RISCV_Page_Unmap(8),
            seL4_RISCV_Page_GetAddress(8).map(|_| ()),
            seL4_RISCV_ASIDControl_MakePool(5, 9, 2, 1, 64),
            seL4_RISCV_ASIDPool_Assign(6, 3),
            seL4_IRQControl_GetTrigger(4, 1, 0, 2, 1, 64),
        ];
        assert!(results.iter().all(|r| r.is_ok()));
        let labels: Vec<Word> = mock::log()
            .iter()
            .map(|(_, r)| MessageInfo(r.a1).label())
            .collect();
        // Every label from UntypedRetype (1) to RISCVIRQIssueIRQHandlerTrigger (40), in order.
        assert_eq!(labels, (1..=40).collect::<Vec<Word>>());
    }

    /// MCS: every wrapper, in label order (`invocations_all.json` of the MCS reference build:
    /// 1 UntypedRetype .. 46 RISCVIRQIssueIRQHandlerTrigger), with the MCS shapes of Configure,
    /// SetSchedParams and SetSpace, no SaveCaller, and the scheduling invocations.
    #[cfg(feature = "mcs")]
    #[test]
    fn every_mcs_wrapper_sends_its_label() {
        ipc::install_test_buffer();
        ok_kernel();
        let ctx = UserContext::default();
        let r = CapRights::ALL;
        let results = [
            seL4_Untyped_Retype(1, 2, 0, 2, 0, 0, 100, 1),
            seL4_TCB_ReadRegisters(1, false, 0, 1).map(|_| ()),
            seL4_TCB_WriteRegisters(1, false, 0, 1, &ctx),
            seL4_TCB_CopyRegisters(1, 2, false, false, true, true, 0),
            seL4_TCB_Configure(1, 2, 0, 3, 0, 0, 0),
            seL4_TCB_SetPriority(1, 1, 10),
            seL4_TCB_SetMCPriority(1, 1, 10),
            seL4_TCB_SetSchedParams(1, 1, 10, 10, 14, 0),
            seL4_TCB_SetTimeoutEndpoint(1, 0),
            seL4_TCB_SetIPCBuffer(1, 0, 0),
            seL4_TCB_SetSpace(1, 0, 2, 0, 3, 0),
            seL4_TCB_Suspend(1),
            seL4_TCB_Resume(1),
            seL4_TCB_BindNotification(1, 5),
            seL4_TCB_UnbindNotification(1),
            seL4_TCB_SetTLSBase(1, 0),
            seL4_TCB_SetFlags(1, 0, 0).map(|_| ()),
            seL4_CNode_Revoke(2, 1, 64),
            seL4_CNode_Delete(2, 1, 64),
            seL4_CNode_CancelBadgedSends(2, 1, 64),
            seL4_CNode_Copy(2, 1, 64, 2, 1, 64, r),
            seL4_CNode_Mint(2, 1, 64, 2, 1, 64, r, 0),
            seL4_CNode_Move(2, 1, 64, 2, 1, 64),
            seL4_CNode_Mutate(2, 1, 64, 2, 1, 64, 0),
            seL4_CNode_Rotate(2, 1, 64, 0, 2, 2, 64, 0, 2, 3, 64),
            seL4_IRQControl_Get(4, 1, 2, 1, 64),
            seL4_IRQHandler_Ack(5),
            seL4_IRQHandler_SetNotification(5, 6),
            seL4_IRQHandler_Clear(5),
            seL4_DomainSet_Set(11, 0, 1),
            seL4_DomainSet_ScheduleConfigure(11, 0, 0, 1),
            seL4_DomainSet_ScheduleSetStart(11, 0),
            seL4_SchedControl_ConfigureFlags(22, 14, 1000, 1000, 0, 0, 0),
            seL4_SchedContext_Bind(14, 1),
            seL4_SchedContext_Unbind(14),
            seL4_SchedContext_UnbindObject(14, 1),
            seL4_SchedContext_Consumed(14).map(|_| ()),
            seL4_SchedContext_YieldTo(14).map(|_| ()),
            seL4_RISCV_PageTable_Map(7, 3, 0, 0),
            seL4_RISCV_PageTable_Unmap(7),
            seL4_RISCV_Page_Map(8, 3, 0, r, 0),
            seL4_RISCV_Page_Unmap(8),
            seL4_RISCV_Page_GetAddress(8).map(|_| ()),
            seL4_RISCV_ASIDControl_MakePool(5, 9, 2, 1, 64),
            seL4_RISCV_ASIDPool_Assign(6, 3),
            seL4_IRQControl_GetTrigger(4, 1, 0, 2, 1, 64),
        ];
        assert!(results.iter().all(|r| r.is_ok()));
        let labels: Vec<Word> = mock::log()
            .iter()
            .map(|(_, r)| MessageInfo(r.a1).label())
            .collect();
        assert_eq!(labels, (1..=46).collect::<Vec<Word>>());
    }

    /// `seL4_SchedControl_Configure` is `ConfigureFlags` with `seL4_SchedContext_NoFlag`
    /// (`virtual_client.h`); Consumed and YieldTo return MR0 of the reply (`seL4_Time`).
    #[cfg(feature = "mcs")]
    #[test]
    fn sched_control_configure_and_consumed() {
        ipc::install_test_buffer();
        mock::install(|_, r| {
            r.a1 = MessageInfo::new(0, 0, 0, 1).0;
            r.mr = [1234, 0, 0, 0];
        });
        seL4_SchedControl_Configure(22, 300, 500, 1000, 2, 0x77).unwrap();
        assert_eq!(seL4_SchedContext_Consumed(300), Ok(1234));
        assert_eq!(seL4_SchedContext_YieldTo(300), Ok(1234));
        let log = mock::log();
        let info = MessageInfo(log[0].1.a1);
        assert_eq!(
            (info.label(), info.length(), info.extra_caps()),
            (InvocationLabel::SchedControlConfigureFlags as Word, 5, 1)
        );
        assert_eq!(log[0].1.a0, 22);
        assert_eq!(log[0].1.mr, [500, 1000, 2, 0x77]);
        assert_eq!(ipc::get_cap(0), 300);
        assert_eq!(log[1].1.a0, 300);
    }
}
