//! Errors of kernel operations (seL4 `syscall_error_t`, `exception_t`).
#![forbid(unsafe_code)]

use crate::cspace::LookupFault;
use abi::Error;

/// An invocation error as reported to the caller (seL4 `syscall_error_t`), with the details
/// seL4 puts in the reply's message registers (`setMRs_syscall_error`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyscallError {
    /// `seL4_InvalidArgument`; MR0 = argument index.
    InvalidArgument(u64),
    /// `seL4_InvalidCapability`; MR0 = extra cap index.
    InvalidCapability(u64),
    /// `seL4_IllegalOperation`.
    IllegalOperation,
    /// `seL4_RangeError`; MR0 = min, MR1 = max.
    RangeError(u64, u64),
    /// `seL4_AlignmentError`.
    AlignmentError,
    /// `seL4_FailedLookup`; MR0 = 1 if the source lookup failed, then the lookup failure.
    FailedLookup { source: bool, fault: LookupFault },
    /// `seL4_TruncatedMessage`.
    TruncatedMessage,
    /// `seL4_DeleteFirst`.
    DeleteFirst,
    /// `seL4_RevokeFirst`.
    RevokeFirst,
    /// `seL4_NotEnoughMemory`; MR0 = bytes available.
    NotEnoughMemory(u64),
}

impl SyscallError {
    /// The seL4 error code.
    pub fn code(self) -> Error {
        match self {
            SyscallError::InvalidArgument(_) => Error::InvalidArgument,
            SyscallError::InvalidCapability(_) => Error::InvalidCapability,
            SyscallError::IllegalOperation => Error::IllegalOperation,
            SyscallError::RangeError(..) => Error::RangeError,
            SyscallError::AlignmentError => Error::AlignmentError,
            SyscallError::FailedLookup { .. } => Error::FailedLookup,
            SyscallError::TruncatedMessage => Error::TruncatedMessage,
            SyscallError::DeleteFirst => Error::DeleteFirst,
            SyscallError::RevokeFirst => Error::RevokeFirst,
            SyscallError::NotEnoughMemory(_) => Error::NotEnoughMemory,
        }
    }

    /// The message registers of the error reply, and how many there are.
    pub fn mrs(self) -> ([u64; 5], usize) {
        match self {
            SyscallError::InvalidArgument(n)
            | SyscallError::InvalidCapability(n)
            | SyscallError::NotEnoughMemory(n) => ([n, 0, 0, 0, 0], 1),
            SyscallError::RangeError(a, b) => ([a, b, 0, 0, 0], 2),
            SyscallError::FailedLookup { source, fault } => {
                let (w, n) = fault.to_words();
                ([source as u64, w[0], w[1], w[2], w[3]], 1 + n)
            }
            _ => ([0; 5], 0),
        }
    }
}

/// A long operation stopped at a preemption point because an interrupt is pending
/// (seL4 `EXCEPTION_PREEMPTED`). The thread stays in `Restart` and re-executes the syscall,
/// which continues where the operation left off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preempted;

/// Result of an invocation's decode step.
pub type DecodeResult<T> = Result<T, SyscallError>;

/// `$err` (a [`SyscallError`]) after saying why with [`user_error!`](crate::user_error): how a
/// decoder fails, `return Err(user_err!(SyscallError::TruncatedMessage, "X: Truncated
/// message."))`. Without the `debug_build` feature this is just `$err`.
#[macro_export]
macro_rules! user_err {
    ($err:expr, $($arg:tt)+) => {{
        $crate::user_error!($($arg)+);
        $err
    }};
}

/// `$res?` for a `Result<_, SyscallError>` of a helper that does not say why it failed (a slot
/// lookup, `deriveCap`, ...): on `Err` says why with [`user_error!`](crate::user_error), then
/// returns the error. `user_try!(res, e => "fmt", ..)` names the error `e` for the message.
/// Without the `debug_build` feature this is just `$res?` (without the `From` conversion).
#[macro_export]
macro_rules! user_try {
    ($res:expr, $e:ident => $($arg:tt)+) => {
        match $res {
            Ok(v) => v,
            Err($e) => {
                $crate::user_error!($($arg)+);
                return Err($e);
            }
        }
    };
    ($res:expr, $($arg:tt)+) => {
        match $res {
            Ok(v) => v,
            Err(e) => {
                $crate::user_error!($($arg)+);
                return Err(e);
            }
        }
    };
}
