//! Fault message labels (`libsel4/include/sel4/faults.h`; the layouts of the messages are the
//! architecture's, `crate::arch::<arch>::fault`) and lookup failure types
//! (`sel4/constants.h`).

/// `seL4_Fault_NullFault`
pub const NULL_FAULT: u64 = 0;
/// `seL4_Fault_CapFault`
pub const CAP_FAULT: u64 = 1;
/// `seL4_Fault_UnknownSyscall`
pub const UNKNOWN_SYSCALL: u64 = 2;
/// `seL4_Fault_UserException`
pub const USER_EXCEPTION: u64 = 3;
/// `seL4_Fault_Timeout` (MCS): a thread ran out of budget.
#[cfg(feature = "mcs")]
pub const TIMEOUT: u64 = 5;
/// `seL4_Fault_VMFault`: 5, or 6 with MCS (after `Timeout`).
pub const VM_FAULT: u64 = if cfg!(feature = "mcs") { 6 } else { 5 };

/// `seL4_LookupFailureType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum LookupFailureType {
    /// `seL4_NoFailure`
    NoFailure = 0,
    /// `seL4_InvalidRoot`
    InvalidRoot = 1,
    /// `seL4_MissingCapability`
    MissingCapability = 2,
    /// `seL4_DepthMismatch`
    DepthMismatch = 3,
    /// `seL4_GuardMismatch`
    GuardMismatch = 4,
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn labels() {
        assert_eq!(
            (
                NULL_FAULT,
                CAP_FAULT,
                UNKNOWN_SYSCALL,
                USER_EXCEPTION,
                VM_FAULT
            ),
            (0, 1, 2, 3, if cfg!(feature = "mcs") { 6 } else { 5 })
        );
        #[cfg(feature = "mcs")]
        assert_eq!(TIMEOUT, 5);
        assert_eq!(LookupFailureType::GuardMismatch as u64, 4);
    }
}
