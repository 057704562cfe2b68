//! User-side library for the seL4 16.0.0 ABI on riscv64 (non-MCS; MCS with the `mcs` feature:
//! the MCS syscalls `seL4_Recv(src, reply)`, `seL4_NBSendRecv`, `seL4_Wait`, ..., the
//! scheduling-context invocations and the MCS shapes of the TCB invocations).
//!
//! Modelled on rust-sel4's split into two layers:
//!
//! * [`sys`]: the raw layer, with seL4's own names (`seL4_Call`, `seL4_SetMR`,
//!   `seL4_CNode_Copy`, ...) and seL4's argument order, so that code written against the C
//!   `libsel4` reads the same. Invocation wrappers return `Result<_, abi::Error>` instead of a
//!   bare `seL4_Error`.
//! * [`cap`]: the typed layer. A [`cap::Cap<T>`] is a CPtr tagged with the kind of object it
//!   names, so that `Cap<Untyped>` has `retype` and `Cap<Tcb>` has `set_priority`, and an
//!   [`cap::AbsoluteCPtr`] names a slot (CNode, index, depth) for the CNode operations.
//!
//! Underneath both:
//!
//! * [`arch`]: the one `ecall` primitive (riscv64 only; on the host it can be replaced by a
//!   mock for unit tests).
//! * [`ipc`]: the IPC buffer of the calling thread. As in the C `libsel4`, message registers
//!   MR0..MR3 live in the IPC buffer between calls and the syscall wrappers move them into and
//!   out of `a2..a5`; so `set_mr`/`get_mr` work for every index.
//! * [`invocation`]: pure encoding of every invocation into a message (label, words, extra
//!   caps) exactly as seL4's stub generator lays it out, and decoding of error replies. This is
//!   the part the host unit tests check.
//! * [`bootinfo`]: BootInfo helpers (untyped list, slot regions, extra BootInfo chunks).
//! * [`debug`]: `print!`/`println!` over `seL4_DebugPutChar`.
//! * `rt` (feature `rt`, bare-metal targets only): `_start`, the stack, the panic handler and
//!   the [`root_task!`] macro for root tasks.
//!
//! Design trade-offs:
//!
//! * The IPC buffer pointer is one global (one per thread on the host, for tests). A program
//!   that runs several threads in one address space gives each its own buffer with an
//!   [`ipc::ThreadBlock`] that the thread's `tp` (seL4's TLS base on riscv) points at, after
//!   [`ipc::enable_thread_blocks`]; the root thread (`tp` = 0) keeps the global one.
//! * After every `seL4_Call` the reply's `MessageInfo` is stored in the IPC buffer's `tag`
//!   word (the kernel never reads it on riscv), so [`invocation::last_error`] can decode the
//!   detail words of the last failed invocation.
//! * `unsafe` lives in four places: the `ecall` itself, the IPC buffer dereference, the
//!   BootInfo/extra-BootInfo pointers handed over by the kernel, and the runtime entry.
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]

pub use abi;

pub mod arch;
pub mod bootinfo;
pub mod cap;
pub mod debug;
pub mod invocation;
pub mod ipc;
pub mod sys;

#[cfg(feature = "rt")]
pub mod rt;

pub use abi::{BootInfo, CNodeCapData, CPtr, CapRights, Error, MessageInfo, ObjectType, Word};
pub use invocation::{last_error, ErrorDetail, ErrorReply, LookupFailure};

/// Declare a root task's entry point: `root_task!(root_main)` with
/// `fn root_main(bootinfo: &'static abi::BootInfo) -> !`. The runtime's `_start` calls it with
/// a stack, the IPC buffer set, and the BootInfo the kernel passed.
///
/// Expands to nothing unless the target is bare metal (`target_os = "none"`), so a root-task
/// crate can still be type-checked on the host.
#[macro_export]
macro_rules! root_task {
    ($main:path) => {
        #[cfg(target_os = "none")]
        #[unsafe(export_name = "__sel4_root_task_main")]
        extern "C" fn __sel4_root_task_main(bootinfo: &'static $crate::abi::BootInfo) -> ! {
            $main(bootinfo)
        }
    };
}

/// `seL4_RISCV_VMAttributes` (`arch_include/riscv/sel4/arch/types.h`).
#[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
pub mod vm_attributes {
    use abi::Word;
    /// `seL4_RISCV_Default_VMAttributes`.
    pub const DEFAULT: Word = 0;
    /// `seL4_RISCV_ExecuteNever`.
    pub const EXECUTE_NEVER: Word = 1;
}

/// `seL4_ARM_VMAttributes` (`arch_include/arm/sel4/arch/types.h`).
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub mod vm_attributes {
    pub use abi::arch::aarch64::vm_attributes::{
        DEFAULT, EXECUTE_NEVER, PAGE_CACHEABLE, PARITY_ENABLED,
    };
}

/// `seL4_TCBFlag` (`include/sel4/constants.h`).
pub mod tcb_flag {
    use abi::Word;
    /// `seL4_TCBFlag_NoFlag`.
    pub const NO_FLAG: Word = 0;
    /// `seL4_TCBFlag_fpuDisabled`: the thread runs with the FPU off.
    pub const FPU_DISABLED: Word = 1;
}

/// `seL4_SchedContextFlag` (`include/sel4/constants.h`, MCS): flags of
/// `seL4_SchedControl_ConfigureFlags`.
#[cfg(feature = "mcs")]
pub mod sched_context_flag {
    use abi::Word;
    /// `seL4_SchedContext_NoFlag`.
    pub const NO_FLAG: Word = 0;
    /// `seL4_SchedContext_Sporadic`: the SC is a sporadic server (`refill_unblock_check` on
    /// wake-up).
    pub const SPORADIC: Word = 1;
}

/// `seL4_MaxExtraRefills` (`include/sel4/constants.h`, MCS): how many refills a scheduling
/// context of 2^`size_bits` bytes holds past the header (`seL4_CoreSchedContextBytes`), each
/// `seL4_RefillSizeBytes`.
#[cfg(feature = "mcs")]
pub const fn max_extra_refills(size_bits: Word) -> Word {
    ((1 << size_bits) - abi::object::CORE_SCHED_CONTEXT_BYTES) / abi::object::REFILL_SIZE_BYTES
}

/// seL4's capability type tags, as `seL4_DebugCapIdentify` returns them in a debug build
/// (`cap_get_capType`: `include/object/structures_64.bf`,
/// `include/arch/riscv/arch/64/mode/object/structures.bf` and
/// `include/arch/arm/arch/64/mode/object/structures.bf`). Not part of the stable ABI.
pub mod cap_tag {
    /// `cap_null_cap`
    pub const NULL: u32 = 0;
    /// `cap_frame_cap`
    pub const FRAME: u32 = 1;
    /// `cap_untyped_cap`
    pub const UNTYPED: u32 = 2;
    /// `cap_page_table_cap`
    pub const PAGE_TABLE: u32 = 3;
    /// `cap_endpoint_cap`
    pub const ENDPOINT: u32 = 4;
    /// `cap_vspace_cap` (aarch64)
    pub const VSPACE: u32 = 9;
    /// `cap_notification_cap`
    pub const NOTIFICATION: u32 = 6;
    /// `cap_reply_cap`
    pub const REPLY: u32 = 8;
    /// `cap_cnode_cap`
    pub const CNODE: u32 = 10;
    /// `cap_asid_control_cap`
    pub const ASID_CONTROL: u32 = 11;
    /// `cap_thread_cap`
    pub const THREAD: u32 = 12;
    /// `cap_asid_pool_cap`
    pub const ASID_POOL: u32 = 13;
    /// `cap_irq_control_cap`
    pub const IRQ_CONTROL: u32 = 14;
    /// `cap_irq_handler_cap`
    pub const IRQ_HANDLER: u32 = 16;
    /// `cap_zombie_cap`
    pub const ZOMBIE: u32 = 18;
    /// `cap_domain_cap`
    pub const DOMAIN: u32 = 20;
    /// `cap_sched_context_cap` (MCS)
    pub const SCHED_CONTEXT: u32 = 22;
    /// `cap_sched_control_cap` (MCS)
    pub const SCHED_CONTROL: u32 = 24;
    /// `cap_sgi_signal_cap` (aarch64, no SMP)
    pub const SGI_SIGNAL: u32 = 27;

    /// A readable name for a tag, for messages.
    pub const fn name(tag: u32) -> &'static str {
        match tag {
            NULL => "null",
            FRAME => "frame",
            UNTYPED => "untyped",
            PAGE_TABLE => "page_table",
            ENDPOINT => "endpoint",
            NOTIFICATION => "notification",
            REPLY => "reply",
            CNODE => "cnode",
            ASID_CONTROL => "asid_control",
            THREAD => "thread",
            ASID_POOL => "asid_pool",
            IRQ_CONTROL => "irq_control",
            IRQ_HANDLER => "irq_handler",
            ZOMBIE => "zombie",
            DOMAIN => "domain",
            SCHED_CONTEXT => "sched_context",
            SCHED_CONTROL => "sched_control",
            VSPACE => "vspace",
            SGI_SIGNAL => "sgi_signal",
            _ => "unknown",
        }
    }
}

/// The name of an seL4 error, as in `errors.h` (`"seL4_FailedLookup"`).
pub const fn error_name(e: Error) -> &'static str {
    match e {
        Error::NoError => "seL4_NoError",
        Error::InvalidArgument => "seL4_InvalidArgument",
        Error::InvalidCapability => "seL4_InvalidCapability",
        Error::IllegalOperation => "seL4_IllegalOperation",
        Error::RangeError => "seL4_RangeError",
        Error::AlignmentError => "seL4_AlignmentError",
        Error::FailedLookup => "seL4_FailedLookup",
        Error::TruncatedMessage => "seL4_TruncatedMessage",
        Error::DeleteFirst => "seL4_DeleteFirst",
        Error::RevokeFirst => "seL4_RevokeFirst",
        Error::NotEnoughMemory => "seL4_NotEnoughMemory",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_tags_match_the_bitfield_files() {
        // structures_64.bf: even tags for the generic caps.
        assert_eq!(
            (cap_tag::NULL, cap_tag::UNTYPED, cap_tag::ENDPOINT),
            (0, 2, 4)
        );
        assert_eq!(
            (cap_tag::NOTIFICATION, cap_tag::REPLY, cap_tag::CNODE),
            (6, 8, 10)
        );
        assert_eq!(
            (cap_tag::THREAD, cap_tag::IRQ_CONTROL, cap_tag::IRQ_HANDLER),
            (12, 14, 16)
        );
        assert_eq!((cap_tag::ZOMBIE, cap_tag::DOMAIN), (18, 20));
        // riscv and aarch64 64-bit structures.bf: odd tags for the arch caps.
        assert_eq!((cap_tag::FRAME, cap_tag::PAGE_TABLE), (1, 3));
        assert_eq!((cap_tag::VSPACE, cap_tag::SGI_SIGNAL), (9, 27));
        assert_eq!((cap_tag::ASID_CONTROL, cap_tag::ASID_POOL), (11, 13));
        assert_eq!(cap_tag::name(cap_tag::THREAD), "thread");
        assert_eq!(cap_tag::name(99), "unknown");
    }

    #[test]
    fn constants_match_libsel4_headers() {
        assert_eq!(
            (vm_attributes::DEFAULT, vm_attributes::EXECUTE_NEVER),
            (0, 1)
        );
        assert_eq!((tcb_flag::NO_FLAG, tcb_flag::FPU_DISABLED), (0, 1));
    }

    #[test]
    fn error_names() {
        assert_eq!(error_name(Error::FailedLookup), "seL4_FailedLookup");
        assert_eq!(error_name(Error::NotEnoughMemory), "seL4_NotEnoughMemory");
        for w in 0..=10 {
            assert!(error_name(Error::from_word(w).unwrap()).starts_with("seL4_"));
        }
    }
}
