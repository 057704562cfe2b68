//! The typed layer: capabilities tagged with the kind of object they name.
//!
//! A [`Cap<T>`] is a CPtr (an address in the caller's CSpace, resolved at full depth when the
//! cap is invoked) plus a zero-sized marker `T` from [`cap_type`]. Methods exist only where seL4
//! has them: `Cap<cap_type::Untyped>::retype`, `Cap<cap_type::Tcb>::set_priority`, ...
//! The marker is a promise by the program, not checked by anything; [`Cap::cast`] changes it.
//!
//! CNode operations act on slots named by an [`AbsoluteCPtr`]: a CNode cap (the root of the
//! lookup), an index and a depth, exactly like the `_service`/`index`/`depth` triple of seL4's
//! CNode methods. `dest.copy_from(&src, rights)` is `seL4_CNode_Copy(dest.root, dest.index,
//! dest.depth, src.root, src.index, src.depth, rights)`.

use core::fmt;
use core::marker::PhantomData;

use abi::user_context::UserContext;
use abi::{CNodeCapData, CPtr, CapRights, Error, MessageInfo, ObjectType, Word, WORD_BITS};

use crate::sys;

/// The kinds of capability, as zero-sized markers.
pub mod cap_type {
    /// What a capability marker says about its object.
    pub trait CapType: Copy + Clone + Eq + core::fmt::Debug {
        /// Name for messages.
        const NAME: &'static str;
    }

    macro_rules! cap_types {
        ($($(#[$m:meta])* $t:ident;)*) => {$(
            $(#[$m])*
            #[derive(Clone, Copy, Debug, PartialEq, Eq)]
            pub struct $t;
            $(#[$m])*
            impl CapType for $t {
                const NAME: &'static str = stringify!($t);
            }
        )*};
    }

    cap_types! {
        /// Untyped memory.
        Untyped;
        /// A thread control block.
        Tcb;
        /// An IPC endpoint.
        Endpoint;
        /// A notification object.
        Notification;
        /// A CNode (`seL4_CapTableObject`).
        CNode;
        /// The IRQ control cap.
        IrqControl;
        /// An IRQ handler.
        IrqHandler;
        /// The domain cap (`seL4_DomainSet`).
        DomainSet;
        /// A page table (on riscv64 the root one is a VSpace).
        PageTable;
        /// A VSpace (aarch64: the level-0 table, `seL4_ARM_VSpaceObject`).
        #[cfg(all(target_arch = "aarch64", target_os = "none"))]
        VSpace;
        /// A frame (4 KiB, 2 MiB or 1 GiB page).
        Granule;
        /// The ASID control cap.
        AsidControl;
        /// An ASID pool.
        AsidPool;
        /// A scheduling context (MCS).
        SchedContext;
        /// The SchedControl cap of a core (MCS).
        SchedControl;
        /// A Reply object (MCS).
        Reply;
        /// Unknown or irrelevant.
        Unspecified;
    }
}

/// The marker of an address space's root: a page table on riscv64.
#[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
pub use cap_type::PageTable as VSpaceType;
/// The marker of an address space's root: a VSpace object on aarch64.
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub use cap_type::VSpace as VSpaceType;

use cap_type::CapType;

/// A capability of kind `T`, addressed by a CPtr in the caller's CSpace.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Cap<T: CapType> {
    cptr: CPtr,
    _t: PhantomData<T>,
}

impl<T: CapType> Cap<T> {
    /// The cap at CPtr `cptr`.
    pub const fn from_bits(cptr: CPtr) -> Self {
        Cap {
            cptr,
            _t: PhantomData,
        }
    }

    /// Its CPtr.
    pub const fn bits(self) -> CPtr {
        self.cptr
    }

    /// The same CPtr with another kind.
    pub const fn cast<U: CapType>(self) -> Cap<U> {
        Cap::from_bits(self.cptr)
    }

    /// The same CPtr as [`cap_type::Unspecified`].
    pub const fn upcast(self) -> Unspecified {
        self.cast()
    }

    /// `seL4_DebugCapIdentify`: the kernel's type tag of this cap ([`crate::cap_tag`]).
    pub fn debug_identify(self) -> u32 {
        sys::seL4_DebugCapIdentify(self.cptr)
    }
}

impl<T: CapType> fmt::Debug for Cap<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cap<{}>({})", T::NAME, self.cptr)
    }
}

/// `Cap<cap_type::Untyped>`.
pub type Untyped = Cap<cap_type::Untyped>;
/// `Cap<cap_type::Tcb>`.
pub type Tcb = Cap<cap_type::Tcb>;
/// `Cap<cap_type::Endpoint>`.
pub type Endpoint = Cap<cap_type::Endpoint>;
/// `Cap<cap_type::Notification>`.
pub type Notification = Cap<cap_type::Notification>;
/// `Cap<cap_type::CNode>`.
pub type CNode = Cap<cap_type::CNode>;
/// `Cap<cap_type::IrqControl>`.
pub type IrqControl = Cap<cap_type::IrqControl>;
/// `Cap<cap_type::IrqHandler>`.
pub type IrqHandler = Cap<cap_type::IrqHandler>;
/// `Cap<cap_type::DomainSet>`.
pub type DomainSet = Cap<cap_type::DomainSet>;
/// `Cap<cap_type::PageTable>`.
pub type PageTable = Cap<cap_type::PageTable>;
/// `Cap<cap_type::Granule>`.
pub type Granule = Cap<cap_type::Granule>;
/// The cap to an address space's root (`seL4_CPtr` of a VSpace): a page table on riscv64, a
/// VSpace object on aarch64.
pub type VSpace = Cap<VSpaceType>;
/// `Cap<cap_type::AsidControl>`.
pub type AsidControl = Cap<cap_type::AsidControl>;
/// `Cap<cap_type::AsidPool>`.
pub type AsidPool = Cap<cap_type::AsidPool>;
/// `Cap<cap_type::SchedContext>`.
pub type SchedContext = Cap<cap_type::SchedContext>;
/// `Cap<cap_type::SchedControl>`.
pub type SchedControl = Cap<cap_type::SchedControl>;
/// `Cap<cap_type::Reply>`.
pub type Reply = Cap<cap_type::Reply>;
/// `Cap<cap_type::Unspecified>`.
pub type Unspecified = Cap<cap_type::Unspecified>;

/// The root task's initial caps (`seL4_RootCNodeCapSlots`) with their kinds.
pub mod init {
    use super::*;
    use abi::slot;

    /// `seL4_CapInitThreadTCB`.
    pub const TCB: Tcb = Cap::from_bits(slot::INIT_THREAD_TCB);
    /// `seL4_CapInitThreadCNode`.
    pub const CNODE: CNode = Cap::from_bits(slot::INIT_THREAD_CNODE);
    /// `seL4_CapInitThreadVSpace`.
    pub const VSPACE: VSpace = Cap::from_bits(slot::INIT_THREAD_VSPACE);
    /// `seL4_CapIRQControl`.
    pub const IRQ_CONTROL: IrqControl = Cap::from_bits(slot::IRQ_CONTROL);
    /// `seL4_CapASIDControl`.
    pub const ASID_CONTROL: AsidControl = Cap::from_bits(slot::ASID_CONTROL);
    /// `seL4_CapInitThreadASIDPool`.
    pub const ASID_POOL: AsidPool = Cap::from_bits(slot::INIT_THREAD_ASID_POOL);
    /// `seL4_CapBootInfoFrame`.
    pub const BOOT_INFO_FRAME: Granule = Cap::from_bits(slot::BOOT_INFO_FRAME);
    /// `seL4_CapInitThreadIPCBuffer`.
    pub const IPC_BUFFER: Granule = Cap::from_bits(slot::INIT_THREAD_IPC_BUFFER);
    /// `seL4_CapDomain`.
    pub const DOMAIN: DomainSet = Cap::from_bits(slot::DOMAIN);
    /// `seL4_CapInitThreadSC` (MCS): the root task's scheduling context.
    #[cfg(feature = "mcs")]
    pub const SC: SchedContext = Cap::from_bits(slot::INIT_THREAD_SC);
}

/// A slot named by a CNode cap, an index and a depth (how many bits of the index to resolve
/// from that CNode). Depth 64 with a single-level CSpace like the root task's names a slot by
/// its CPtr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbsoluteCPtr {
    /// The CNode the lookup starts from.
    pub root: CNode,
    /// The index (CPtr) within it.
    pub index: Word,
    /// How many bits of `index` to resolve.
    pub depth: u8,
}

impl CNode {
    /// The slot `index` resolved `depth` bits from this CNode.
    pub const fn relative_bits_with_depth(self, index: Word, depth: u8) -> AbsoluteCPtr {
        AbsoluteCPtr {
            root: self,
            index,
            depth,
        }
    }

    /// The slot at CPtr `index`, resolved at full depth (64 bits) from this CNode.
    pub const fn absolute_cptr(self, index: Word) -> AbsoluteCPtr {
        self.relative_bits_with_depth(index, WORD_BITS as u8)
    }

    /// The slot of `cap` in this CNode when it is the thread's CSpace root: its CPtr at full
    /// depth.
    pub const fn absolute_cptr_for<T: CapType>(self, cap: Cap<T>) -> AbsoluteCPtr {
        self.absolute_cptr(cap.bits())
    }

    /// This CNode itself as the destination of [`Untyped::retype`] (`node_depth` 0).
    pub const fn as_retype_dest(self) -> AbsoluteCPtr {
        self.relative_bits_with_depth(0, 0)
    }
}

impl AbsoluteCPtr {
    /// `seL4_CNode_Revoke` of this slot.
    pub fn revoke(&self) -> Result<(), Error> {
        sys::seL4_CNode_Revoke(self.root.bits(), self.index, self.depth)
    }

    /// `seL4_CNode_Delete` of this slot.
    pub fn delete(&self) -> Result<(), Error> {
        sys::seL4_CNode_Delete(self.root.bits(), self.index, self.depth)
    }

    /// `seL4_CNode_CancelBadgedSends` on the endpoint cap in this slot.
    pub fn cancel_badged_sends(&self) -> Result<(), Error> {
        sys::seL4_CNode_CancelBadgedSends(self.root.bits(), self.index, self.depth)
    }

    /// `seL4_CNode_SaveCaller` into this slot (non-MCS).
    #[cfg(not(feature = "mcs"))]
    pub fn save_caller(&self) -> Result<(), Error> {
        sys::seL4_CNode_SaveCaller(self.root.bits(), self.index, self.depth)
    }

    /// `seL4_CNode_Copy` of `src` into this slot, with `rights` masked.
    pub fn copy_from(&self, src: &AbsoluteCPtr, rights: CapRights) -> Result<(), Error> {
        sys::seL4_CNode_Copy(
            self.root.bits(),
            self.index,
            self.depth,
            src.root.bits(),
            src.index,
            src.depth,
            rights,
        )
    }

    /// `seL4_CNode_Mint` of `src` into this slot, with `rights` masked and `badge` (or CNode
    /// guard data) applied.
    pub fn mint_from(
        &self,
        src: &AbsoluteCPtr,
        rights: CapRights,
        badge: Word,
    ) -> Result<(), Error> {
        sys::seL4_CNode_Mint(
            self.root.bits(),
            self.index,
            self.depth,
            src.root.bits(),
            src.index,
            src.depth,
            rights,
            badge,
        )
    }

    /// `seL4_CNode_Move` of `src` into this slot.
    pub fn move_from(&self, src: &AbsoluteCPtr) -> Result<(), Error> {
        sys::seL4_CNode_Move(
            self.root.bits(),
            self.index,
            self.depth,
            src.root.bits(),
            src.index,
            src.depth,
        )
    }

    /// `seL4_CNode_Mutate`: move `src` here, applying `badge` (guard data for a CNode cap).
    pub fn mutate_from(&self, src: &AbsoluteCPtr, badge: Word) -> Result<(), Error> {
        sys::seL4_CNode_Mutate(
            self.root.bits(),
            self.index,
            self.depth,
            src.root.bits(),
            src.index,
            src.depth,
            badge,
        )
    }

    /// `seL4_CNode_Rotate` with this slot as destination: the pivot's cap moves here (with
    /// `dest_badge`), `src`'s cap moves to the pivot (with `pivot_badge`).
    pub fn rotate_from(
        &self,
        dest_badge: Word,
        pivot: &AbsoluteCPtr,
        pivot_badge: Word,
        src: &AbsoluteCPtr,
    ) -> Result<(), Error> {
        sys::seL4_CNode_Rotate(
            self.root.bits(),
            self.index,
            self.depth,
            dest_badge,
            pivot.root.bits(),
            pivot.index,
            pivot.depth,
            pivot_badge,
            src.root.bits(),
            src.index,
            src.depth,
        )
    }
}

impl Untyped {
    /// `seL4_Untyped_Retype`: `num` objects of type `ty` (`size_bits` for untyped and CNodes)
    /// into slots `offset..offset + num` of the CNode named by `dest` (see
    /// [`CNode::as_retype_dest`] for the root CNode itself).
    pub fn retype(
        &self,
        ty: ObjectType,
        size_bits: Word,
        dest: &AbsoluteCPtr,
        offset: Word,
        num: Word,
    ) -> Result<(), Error> {
        sys::seL4_Untyped_Retype(
            self.bits(),
            ty as Word,
            size_bits,
            dest.root.bits(),
            dest.index,
            dest.depth as Word,
            offset,
            num,
        )
    }
}

impl Tcb {
    /// `seL4_TCB_ReadRegisters`.
    pub fn read_registers(&self, suspend: bool, count: Word) -> Result<UserContext, Error> {
        sys::seL4_TCB_ReadRegisters(self.bits(), suspend, 0, count)
    }

    /// `seL4_TCB_WriteRegisters`.
    pub fn write_registers(
        &self,
        resume: bool,
        count: Word,
        regs: &UserContext,
    ) -> Result<(), Error> {
        sys::seL4_TCB_WriteRegisters(self.bits(), resume, 0, count, regs)
    }

    /// `seL4_TCB_CopyRegisters` from `source`.
    pub fn copy_registers(
        &self,
        source: Tcb,
        suspend_source: bool,
        resume_target: bool,
        transfer_frame: bool,
        transfer_integer: bool,
    ) -> Result<(), Error> {
        sys::seL4_TCB_CopyRegisters(
            self.bits(),
            source.bits(),
            suspend_source,
            resume_target,
            transfer_frame,
            transfer_integer,
            0,
        )
    }

    #[cfg(not(feature = "mcs"))]
    /// `seL4_TCB_Configure` (non-MCS). `fault_ep` is a CPtr in the thread's new CSpace.
    #[allow(clippy::too_many_arguments)]
    pub fn configure(
        &self,
        fault_ep: CPtr,
        cspace_root: CNode,
        cspace_root_data: CNodeCapData,
        vspace_root: VSpace,
        vspace_root_data: Word,
        buffer: Word,
        buffer_frame: Granule,
    ) -> Result<(), Error> {
        sys::seL4_TCB_Configure(
            self.bits(),
            fault_ep,
            cspace_root.bits(),
            cspace_root_data.0,
            vspace_root.bits(),
            vspace_root_data,
            buffer,
            buffer_frame.bits(),
        )
    }

    /// `seL4_TCB_Configure` (MCS: no fault endpoint).
    #[cfg(feature = "mcs")]
    pub fn configure(
        &self,
        cspace_root: CNode,
        cspace_root_data: CNodeCapData,
        vspace_root: VSpace,
        vspace_root_data: Word,
        buffer: Word,
        buffer_frame: Granule,
    ) -> Result<(), Error> {
        sys::seL4_TCB_Configure(
            self.bits(),
            cspace_root.bits(),
            cspace_root_data.0,
            vspace_root.bits(),
            vspace_root_data,
            buffer,
            buffer_frame.bits(),
        )
    }

    /// `seL4_TCB_SetPriority` with the MCP of `authority`.
    pub fn set_priority(&self, authority: Tcb, priority: Word) -> Result<(), Error> {
        sys::seL4_TCB_SetPriority(self.bits(), authority.bits(), priority)
    }

    /// `seL4_TCB_SetMCPriority`.
    pub fn set_mc_priority(&self, authority: Tcb, mcp: Word) -> Result<(), Error> {
        sys::seL4_TCB_SetMCPriority(self.bits(), authority.bits(), mcp)
    }

    #[cfg(not(feature = "mcs"))]
    /// `seL4_TCB_SetSchedParams` (non-MCS).
    pub fn set_sched_params(&self, authority: Tcb, mcp: Word, priority: Word) -> Result<(), Error> {
        sys::seL4_TCB_SetSchedParams(self.bits(), authority.bits(), mcp, priority)
    }

    /// `seL4_TCB_SetSchedParams` (MCS): `sched_context` may be the null cap (unbind),
    /// `fault_ep` a null cap (none).
    #[cfg(feature = "mcs")]
    pub fn set_sched_params(
        &self,
        authority: Tcb,
        mcp: Word,
        priority: Word,
        sched_context: SchedContext,
        fault_ep: Endpoint,
    ) -> Result<(), Error> {
        sys::seL4_TCB_SetSchedParams(
            self.bits(),
            authority.bits(),
            mcp,
            priority,
            sched_context.bits(),
            fault_ep.bits(),
        )
    }

    /// `seL4_TCB_SetTimeoutEndpoint` (MCS).
    #[cfg(feature = "mcs")]
    pub fn set_timeout_endpoint(&self, timeout_fault_ep: Endpoint) -> Result<(), Error> {
        sys::seL4_TCB_SetTimeoutEndpoint(self.bits(), timeout_fault_ep.bits())
    }

    /// `seL4_TCB_SetIPCBuffer`.
    pub fn set_ipc_buffer(&self, buffer: Word, buffer_frame: Granule) -> Result<(), Error> {
        sys::seL4_TCB_SetIPCBuffer(self.bits(), buffer, buffer_frame.bits())
    }

    #[cfg(not(feature = "mcs"))]
    /// `seL4_TCB_SetSpace` (non-MCS).
    pub fn set_space(
        &self,
        fault_ep: CPtr,
        cspace_root: CNode,
        cspace_root_data: CNodeCapData,
        vspace_root: VSpace,
        vspace_root_data: Word,
    ) -> Result<(), Error> {
        sys::seL4_TCB_SetSpace(
            self.bits(),
            fault_ep,
            cspace_root.bits(),
            cspace_root_data.0,
            vspace_root.bits(),
            vspace_root_data,
        )
    }

    /// `seL4_TCB_SetSpace` (MCS: the fault endpoint is a cap in the caller's CSpace).
    #[cfg(feature = "mcs")]
    pub fn set_space(
        &self,
        fault_ep: Endpoint,
        cspace_root: CNode,
        cspace_root_data: CNodeCapData,
        vspace_root: VSpace,
        vspace_root_data: Word,
    ) -> Result<(), Error> {
        sys::seL4_TCB_SetSpace(
            self.bits(),
            fault_ep.bits(),
            cspace_root.bits(),
            cspace_root_data.0,
            vspace_root.bits(),
            vspace_root_data,
        )
    }

    /// `seL4_TCB_Suspend`.
    pub fn suspend(&self) -> Result<(), Error> {
        sys::seL4_TCB_Suspend(self.bits())
    }

    /// `seL4_TCB_Resume`.
    pub fn resume(&self) -> Result<(), Error> {
        sys::seL4_TCB_Resume(self.bits())
    }

    /// `seL4_TCB_BindNotification`.
    pub fn bind_notification(&self, notification: Notification) -> Result<(), Error> {
        sys::seL4_TCB_BindNotification(self.bits(), notification.bits())
    }

    /// `seL4_TCB_UnbindNotification`.
    pub fn unbind_notification(&self) -> Result<(), Error> {
        sys::seL4_TCB_UnbindNotification(self.bits())
    }

    /// `seL4_TCB_SetTLSBase`.
    pub fn set_tls_base(&self, tls_base: Word) -> Result<(), Error> {
        sys::seL4_TCB_SetTLSBase(self.bits(), tls_base)
    }

    /// `seL4_TCB_SetFlags`; returns the resulting flags ([`crate::tcb_flag`]).
    pub fn set_flags(&self, clear: Word, set: Word) -> Result<Word, Error> {
        sys::seL4_TCB_SetFlags(self.bits(), clear, set)
    }

    /// `seL4_DebugNameThread`.
    pub fn debug_name(&self, name: &str) {
        sys::seL4_DebugNameThread(self.bits(), name)
    }
}

impl Endpoint {
    /// `seL4_Send`.
    pub fn send(&self, info: MessageInfo) {
        sys::seL4_Send(self.bits(), info)
    }

    /// `seL4_NBSend`.
    pub fn nb_send(&self, info: MessageInfo) {
        sys::seL4_NBSend(self.bits(), info)
    }

    /// `seL4_Call`.
    pub fn call(&self, info: MessageInfo) -> MessageInfo {
        sys::seL4_Call(self.bits(), info)
    }

    /// `seL4_Recv`: (info, badge).
    #[cfg(not(feature = "mcs"))]
    pub fn recv(&self) -> (MessageInfo, Word) {
        sys::seL4_Recv(self.bits())
    }

    /// `seL4_NBRecv`: (info, badge).
    #[cfg(not(feature = "mcs"))]
    pub fn nb_recv(&self) -> (MessageInfo, Word) {
        sys::seL4_NBRecv(self.bits())
    }

    /// `seL4_ReplyRecv`: (info, badge).
    #[cfg(not(feature = "mcs"))]
    pub fn reply_recv(&self, info: MessageInfo) -> (MessageInfo, Word) {
        sys::seL4_ReplyRecv(self.bits(), info)
    }

    /// `seL4_Recv` (MCS) with Reply object `reply`: (info, badge).
    #[cfg(feature = "mcs")]
    pub fn recv(&self, reply: Reply) -> (MessageInfo, Word) {
        sys::seL4_Recv(self.bits(), reply.bits())
    }

    /// `seL4_NBRecv` (MCS) with Reply object `reply`: (info, badge).
    #[cfg(feature = "mcs")]
    pub fn nb_recv(&self, reply: Reply) -> (MessageInfo, Word) {
        sys::seL4_NBRecv(self.bits(), reply.bits())
    }

    /// `seL4_ReplyRecv` (MCS): reply through `reply`, then receive with it: (info, badge).
    #[cfg(feature = "mcs")]
    pub fn reply_recv(&self, info: MessageInfo, reply: Reply) -> (MessageInfo, Word) {
        sys::seL4_ReplyRecv(self.bits(), info, reply.bits())
    }

    /// `seL4_Wait` (MCS) on an endpoint: receive without a Reply object: (info, badge).
    #[cfg(feature = "mcs")]
    pub fn wait(&self) -> (MessageInfo, Word) {
        sys::seL4_Wait(self.bits())
    }
}

impl Notification {
    /// `seL4_Signal`.
    pub fn signal(&self) {
        sys::seL4_Signal(self.bits())
    }

    /// `seL4_Wait`: blocks; returns the badge bits.
    pub fn wait(&self) -> Word {
        #[cfg(not(feature = "mcs"))]
        {
            sys::seL4_Wait(self.bits())
        }
        #[cfg(feature = "mcs")]
        {
            sys::seL4_Wait(self.bits()).1
        }
    }

    /// `seL4_Poll`: the pending badge bits, 0 if none.
    pub fn poll(&self) -> Word {
        sys::seL4_Poll(self.bits()).1
    }
}

#[cfg(feature = "mcs")]
impl Reply {
    /// Reply to the caller this Reply object holds: `seL4_Send` on it (MCS has no
    /// `seL4_Reply`; a Reply object without a caller ignores it).
    pub fn reply(&self, info: MessageInfo) {
        sys::seL4_Send(self.bits(), info)
    }
}

#[cfg(feature = "mcs")]
impl SchedControl {
    /// `seL4_SchedControl_ConfigureFlags`.
    pub fn configure_flags(
        &self,
        sc: SchedContext,
        budget_us: u64,
        period_us: u64,
        extra_refills: Word,
        badge: Word,
        flags: Word,
    ) -> Result<(), Error> {
        sys::seL4_SchedControl_ConfigureFlags(
            self.bits(),
            sc.bits(),
            budget_us,
            period_us,
            extra_refills,
            badge,
            flags,
        )
    }

    /// `seL4_SchedControl_Configure` (no flags).
    pub fn configure(
        &self,
        sc: SchedContext,
        budget_us: u64,
        period_us: u64,
        extra_refills: Word,
        badge: Word,
    ) -> Result<(), Error> {
        sys::seL4_SchedControl_Configure(
            self.bits(),
            sc.bits(),
            budget_us,
            period_us,
            extra_refills,
            badge,
        )
    }
}

#[cfg(feature = "mcs")]
impl SchedContext {
    /// `seL4_SchedContext_Bind` of a TCB or notification.
    pub fn bind<T: CapType>(&self, object: Cap<T>) -> Result<(), Error> {
        sys::seL4_SchedContext_Bind(self.bits(), object.bits())
    }

    /// `seL4_SchedContext_Unbind`.
    pub fn unbind(&self) -> Result<(), Error> {
        sys::seL4_SchedContext_Unbind(self.bits())
    }

    /// `seL4_SchedContext_UnbindObject`.
    pub fn unbind_object<T: CapType>(&self, object: Cap<T>) -> Result<(), Error> {
        sys::seL4_SchedContext_UnbindObject(self.bits(), object.bits())
    }

    /// `seL4_SchedContext_Consumed`: µs consumed since the last read.
    pub fn consumed(&self) -> Result<u64, Error> {
        sys::seL4_SchedContext_Consumed(self.bits())
    }

    /// `seL4_SchedContext_YieldTo`: the consumed time (µs).
    pub fn yield_to(&self) -> Result<u64, Error> {
        sys::seL4_SchedContext_YieldTo(self.bits())
    }
}

impl IrqControl {
    /// `seL4_IRQControl_Get` into the slot `dest`.
    pub fn get(&self, irq: Word, dest: &AbsoluteCPtr) -> Result<(), Error> {
        sys::seL4_IRQControl_Get(self.bits(), irq, dest.root.bits(), dest.index, dest.depth)
    }

    /// `seL4_IRQControl_GetTrigger` (riscv): `trigger` 1 = edge, 0 = level.
    pub fn get_trigger(&self, irq: Word, trigger: Word, dest: &AbsoluteCPtr) -> Result<(), Error> {
        sys::seL4_IRQControl_GetTrigger(
            self.bits(),
            irq,
            trigger,
            dest.root.bits(),
            dest.index,
            dest.depth,
        )
    }
}

impl IrqHandler {
    /// `seL4_IRQHandler_Ack`.
    pub fn ack(&self) -> Result<(), Error> {
        sys::seL4_IRQHandler_Ack(self.bits())
    }

    /// `seL4_IRQHandler_SetNotification`.
    pub fn set_notification(&self, notification: Notification) -> Result<(), Error> {
        sys::seL4_IRQHandler_SetNotification(self.bits(), notification.bits())
    }

    /// `seL4_IRQHandler_Clear`.
    pub fn clear(&self) -> Result<(), Error> {
        sys::seL4_IRQHandler_Clear(self.bits())
    }
}

impl DomainSet {
    /// `seL4_DomainSet_Set`.
    pub fn set(&self, domain: u8, thread: Tcb) -> Result<(), Error> {
        sys::seL4_DomainSet_Set(self.bits(), domain, thread.bits())
    }

    /// `seL4_DomainSet_ScheduleConfigure`.
    pub fn schedule_configure(&self, index: Word, domain: u8, duration: u64) -> Result<(), Error> {
        sys::seL4_DomainSet_ScheduleConfigure(self.bits(), index, domain, duration)
    }

    /// `seL4_DomainSet_ScheduleSetStart`.
    pub fn schedule_set_start(&self, index: Word) -> Result<(), Error> {
        sys::seL4_DomainSet_ScheduleSetStart(self.bits(), index)
    }
}

/// The architecture's address-space methods (`seL4_RISCV_*`, `seL4_ARM_*`), by what they do.
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
use sys::{
    seL4_ARM_ASIDControl_MakePool as asid_control_make_pool,
    seL4_ARM_ASIDPool_Assign as asid_pool_assign, seL4_ARM_PageTable_Map as page_table_map,
    seL4_ARM_PageTable_Unmap as page_table_unmap, seL4_ARM_Page_GetAddress as page_get_address,
    seL4_ARM_Page_Map as page_map, seL4_ARM_Page_Unmap as page_unmap,
};
/// The architecture's address-space methods (`seL4_RISCV_*`, `seL4_ARM_*`), by what they do.
#[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
use sys::{
    seL4_RISCV_ASIDControl_MakePool as asid_control_make_pool,
    seL4_RISCV_ASIDPool_Assign as asid_pool_assign, seL4_RISCV_PageTable_Map as page_table_map,
    seL4_RISCV_PageTable_Unmap as page_table_unmap, seL4_RISCV_Page_GetAddress as page_get_address,
    seL4_RISCV_Page_Map as page_map, seL4_RISCV_Page_Unmap as page_unmap,
};

impl PageTable {
    /// `seL4_RISCV_PageTable_Map` / `seL4_ARM_PageTable_Map` into `vspace` at `vaddr`.
    pub fn map(&self, vspace: VSpace, vaddr: Word, attr: Word) -> Result<(), Error> {
        page_table_map(self.bits(), vspace.bits(), vaddr, attr)
    }

    /// `seL4_RISCV_PageTable_Unmap` / `seL4_ARM_PageTable_Unmap`.
    pub fn unmap(&self) -> Result<(), Error> {
        page_table_unmap(self.bits())
    }
}

impl Granule {
    /// `seL4_RISCV_Page_Map` / `seL4_ARM_Page_Map` into `vspace` at `vaddr`.
    pub fn map(
        &self,
        vspace: VSpace,
        vaddr: Word,
        rights: CapRights,
        attr: Word,
    ) -> Result<(), Error> {
        page_map(self.bits(), vspace.bits(), vaddr, rights, attr)
    }

    /// `seL4_RISCV_Page_Unmap` / `seL4_ARM_Page_Unmap`.
    pub fn unmap(&self) -> Result<(), Error> {
        page_unmap(self.bits())
    }

    /// `seL4_RISCV_Page_GetAddress` / `seL4_ARM_Page_GetAddress`: the frame's physical address.
    pub fn get_address(&self) -> Result<Word, Error> {
        page_get_address(self.bits())
    }
}

impl AsidControl {
    /// `seL4_RISCV_ASIDControl_MakePool` / `seL4_ARM_ASIDControl_MakePool` from a 4 KiB
    /// `untyped`, into slot `dest`.
    pub fn make_pool(&self, untyped: Untyped, dest: &AbsoluteCPtr) -> Result<(), Error> {
        asid_control_make_pool(
            self.bits(),
            untyped.bits(),
            dest.root.bits(),
            dest.index,
            dest.depth,
        )
    }
}

impl AsidPool {
    /// `seL4_RISCV_ASIDPool_Assign` / `seL4_ARM_ASIDPool_Assign` of `vspace`.
    pub fn assign(&self, vspace: VSpace) -> Result<(), Error> {
        asid_pool_assign(self.bits(), vspace.bits())
    }
}

#[cfg(all(test, not(target_os = "none")))]
mod tests {
    use super::*;
    use crate::arch::mock;
    use crate::ipc;
    use abi::InvocationLabel as L;

    /// Run `f` against a kernel that accepts everything; return (service, label, MRs, caps) of
    /// the one call it made.
    fn one_call(f: impl FnOnce()) -> (CPtr, L, Vec<Word>, Vec<CPtr>) {
        ipc::install_test_buffer();
        mock::install(|_, r| {
            r.a1 = 0;
        });
        f();
        let log = mock::log();
        assert_eq!(log.len(), 1);
        let (_, r) = log[0];
        let info = MessageInfo(r.a1);
        let n = info.length() as usize;
        let mut words: Vec<Word> = r.mr.to_vec();
        words.extend((4..n.max(4)).map(ipc::get_mr));
        words.truncate(n);
        let caps = (0..info.extra_caps() as usize).map(ipc::get_cap).collect();
        (r.a0, L::from_label(info.label()).unwrap(), words, caps)
    }

    #[test]
    fn typed_cnode_ops_pass_root_index_depth_in_sel4_order() {
        let root = init::CNODE;
        let dest = root.absolute_cptr(300);
        let src = root.relative_bits_with_depth(0x15, 60);
        assert_eq!(
            one_call(|| dest.copy_from(&src, CapRights::READ).unwrap()),
            (2, L::CNodeCopy, vec![300, 64, 0x15, 60, 2], vec![2])
        );
        assert_eq!(
            one_call(|| dest.mint_from(&src, CapRights::ALL, 7).unwrap()),
            (2, L::CNodeMint, vec![300, 64, 0x15, 60, 0xf, 7], vec![2])
        );
        assert_eq!(
            one_call(|| dest.move_from(&src).unwrap()),
            (2, L::CNodeMove, vec![300, 64, 0x15, 60], vec![2])
        );
        assert_eq!(
            one_call(|| dest.mutate_from(&src, 9).unwrap()),
            (2, L::CNodeMutate, vec![300, 64, 0x15, 60, 9], vec![2])
        );
        let pivot = Cap::<cap_type::CNode>::from_bits(40).absolute_cptr(5);
        assert_eq!(
            one_call(|| dest.rotate_from(1, &pivot, 2, &src).unwrap()),
            (
                2,
                L::CNodeRotate,
                vec![300, 64, 1, 5, 64, 2, 0x15, 60],
                vec![40, 2]
            )
        );
        assert_eq!(
            one_call(|| dest.delete().unwrap()),
            (2, L::CNodeDelete, vec![300, 64], vec![])
        );
        assert_eq!(
            one_call(|| dest.revoke().unwrap()),
            (2, L::CNodeRevoke, vec![300, 64], vec![])
        );
        #[cfg(not(feature = "mcs"))]
        assert_eq!(
            one_call(|| dest.save_caller().unwrap()),
            (2, L::CNodeSaveCaller, vec![300, 64], vec![])
        );
        assert_eq!(
            one_call(|| dest.cancel_badged_sends().unwrap()),
            (2, L::CNodeCancelBadgedSends, vec![300, 64], vec![])
        );
    }

    #[test]
    fn typed_retype_uses_the_dest_cnode_path() {
        let ut: Untyped = Cap::from_bits(1100);
        assert_eq!(
            one_call(|| ut
                .retype(
                    ObjectType::CapTable,
                    4,
                    &init::CNODE.as_retype_dest(),
                    2000,
                    3
                )
                .unwrap()),
            (1100, L::UntypedRetype, vec![4, 4, 0, 0, 2000, 3], vec![2])
        );
        let child = init::CNODE.absolute_cptr(2000);
        assert_eq!(
            one_call(|| ut.retype(ObjectType::Endpoint, 0, &child, 1, 2).unwrap()),
            (1100, L::UntypedRetype, vec![2, 0, 2000, 64, 1, 2], vec![2])
        );
    }

    #[test]
    fn typed_object_methods() {
        let tcb = init::TCB;
        assert_eq!(
            one_call(|| tcb.set_priority(tcb, 254).unwrap()),
            (1, L::TCBSetPriority, vec![254], vec![1])
        );
        #[cfg(not(feature = "mcs"))]
        assert_eq!(
            one_call(|| tcb
                .configure(
                    0,
                    init::CNODE,
                    CNodeCapData::new(0, 51),
                    init::VSPACE,
                    0,
                    0x1000,
                    init::IPC_BUFFER
                )
                .unwrap()),
            (1, L::TCBConfigure, vec![0, 51, 0, 0x1000], vec![2, 3, 10])
        );
        let dest = init::CNODE.absolute_cptr(500);
        assert_eq!(
            one_call(|| init::IRQ_CONTROL.get(10, &dest).unwrap()),
            (4, L::IRQIssueIRQHandler, vec![10, 500, 64], vec![2])
        );
        let ut: Untyped = Cap::from_bits(1100);
        assert_eq!(
            one_call(|| init::ASID_CONTROL.make_pool(ut, &dest).unwrap()),
            (5, L::RISCVASIDControlMakePool, vec![500, 64], vec![1100, 2])
        );
        assert_eq!(
            one_call(|| init::DOMAIN.set(0, tcb).unwrap()),
            (11, L::DomainSetSet, vec![0], vec![1])
        );
        assert_eq!(
            one_call(|| init::IPC_BUFFER
                .map(init::VSPACE, 0x10_0000, CapRights::READ, 0)
                .unwrap()),
            (10, L::RISCVPageMap, vec![0x10_0000, 2, 0], vec![3])
        );
    }

    #[test]
    fn caps_format_and_cast() {
        let c: Endpoint = Cap::from_bits(77);
        assert_eq!(format!("{c:?}"), "Cap<Endpoint>(77)");
        assert_eq!(c.cast::<cap_type::Notification>().bits(), 77);
        assert_eq!(c.upcast().bits(), 77);
        assert_eq!(
            init::CNODE.absolute_cptr_for(c),
            AbsoluteCPtr {
                root: init::CNODE,
                index: 77,
                depth: 64
            }
        );
    }

    /// MCS typed methods: the root SC at slot 14, SchedControl configure, SchedContext
    /// methods, the MCS TCB shapes, and replying through a Reply object (`seL4_Send` on it).
    #[cfg(feature = "mcs")]
    #[test]
    fn typed_mcs_methods() {
        let tcb = init::TCB;
        assert_eq!(init::SC.bits(), 14);
        let ctl: SchedControl = Cap::from_bits(22);
        let sc: SchedContext = Cap::from_bits(300);
        assert_eq!(
            one_call(|| ctl.configure(sc, 100, 1000, 0, 5).unwrap()),
            (
                22,
                L::SchedControlConfigureFlags,
                vec![100, 1000, 0, 5, 0],
                vec![300]
            )
        );
        assert_eq!(
            one_call(|| sc.bind(tcb).unwrap()),
            (300, L::SchedContextBind, vec![], vec![1])
        );
        assert_eq!(
            one_call(|| sc.unbind_object(tcb).unwrap()),
            (300, L::SchedContextUnbindObject, vec![], vec![1])
        );
        assert_eq!(
            one_call(|| tcb
                .configure(
                    init::CNODE,
                    CNodeCapData::new(0, 51),
                    init::VSPACE,
                    0,
                    0x1000,
                    init::IPC_BUFFER
                )
                .unwrap()),
            (1, L::TCBConfigure, vec![51, 0, 0x1000], vec![2, 3, 10])
        );
        let ep: Endpoint = Cap::from_bits(40);
        assert_eq!(
            one_call(|| tcb.set_sched_params(tcb, 255, 100, sc, ep).unwrap()),
            (1, L::TCBSetSchedParams, vec![255, 100], vec![1, 300, 40])
        );
        assert_eq!(
            one_call(|| tcb.set_timeout_endpoint(ep).unwrap()),
            (1, L::TCBSetTimeoutEndpoint, vec![], vec![40])
        );
        let reply: Reply = Cap::from_bits(41);
        ipc::install_test_buffer();
        mock::install(|_, _| {});
        reply.reply(MessageInfo::new(0, 0, 0, 0));
        let log = mock::log();
        assert_eq!((log[0].0, log[0].1.a0), (abi::Syscall::Send, 41));
    }
}
