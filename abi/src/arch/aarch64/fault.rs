//! The fault message layouts on aarch64 (`sel4_arch_include/aarch64/sel4/sel4_arch/
//! constants.h`): the index of each word of a fault message, and its length.

/// `seL4_UnknownSyscall_Msg`: X0..X7, FaultIP, SP, LR (ELR_EL1), SPSR, Syscall.
pub mod unknown_syscall {
    /// `seL4_UnknownSyscall_X0`; X1..X7 follow.
    pub const X0: usize = 0;
    /// `seL4_UnknownSyscall_FaultIP`
    pub const FAULT_IP: usize = 8;
    /// `seL4_UnknownSyscall_SP`
    pub const SP: usize = 9;
    /// `seL4_UnknownSyscall_LR`
    pub const LR: usize = 10;
    /// `seL4_UnknownSyscall_SPSR`
    pub const SPSR: usize = 11;
    /// `seL4_UnknownSyscall_Syscall`: the syscall number.
    pub const SYSCALL: usize = 12;
    /// `seL4_UnknownSyscall_Length`
    pub const LENGTH: usize = 13;
}

/// `seL4_UserException_Msg`: FaultIP, SP, SPSR, Number, Code.
pub mod user_exception {
    /// `seL4_UserException_FaultIP`
    pub const FAULT_IP: usize = 0;
    /// `seL4_UserException_SP`
    pub const SP: usize = 1;
    /// `seL4_UserException_SPSR`
    pub const SPSR: usize = 2;
    /// `seL4_UserException_Number`
    pub const NUMBER: usize = 3;
    /// `seL4_UserException_Code`
    pub const CODE: usize = 4;
    /// `seL4_UserException_Length`
    pub const LENGTH: usize = 5;
}

/// `seL4_VMFault_Msg`: IP, Addr, PrefetchFault, FSR.
pub mod vm_fault {
    /// `seL4_VMFault_IP`
    pub const IP: usize = 0;
    /// `seL4_VMFault_Addr`
    pub const ADDR: usize = 1;
    /// `seL4_VMFault_PrefetchFault`
    pub const PREFETCH_FAULT: usize = 2;
    /// `seL4_VMFault_FSR`
    pub const FSR: usize = 3;
    /// `seL4_VMFault_Length`
    pub const LENGTH: usize = 4;
}

/// `seL4_TimeoutReply_Length` (MCS): a timeout fault's reply may carry FaultIP, SP, SPSR_EL1,
/// X0..X8, X16, X17, X18, X29, X30, X9..X15, X19..X28.
#[cfg(feature = "mcs")]
pub const TIMEOUT_REPLY_LENGTH: usize = 34;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_constants_h() {
        assert_eq!(
            (
                unknown_syscall::X0,
                unknown_syscall::FAULT_IP,
                unknown_syscall::SP,
                unknown_syscall::LR,
                unknown_syscall::SPSR,
                unknown_syscall::SYSCALL,
                unknown_syscall::LENGTH
            ),
            (0, 8, 9, 10, 11, 12, 13)
        );
        assert_eq!(
            (
                user_exception::SPSR,
                user_exception::NUMBER,
                user_exception::CODE,
                user_exception::LENGTH
            ),
            (2, 3, 4, 5)
        );
        assert_eq!(
            (vm_fault::PREFETCH_FAULT, vm_fault::FSR, vm_fault::LENGTH),
            (2, 3, 4)
        );
        #[cfg(feature = "mcs")]
        assert_eq!(TIMEOUT_REPLY_LENGTH, 34);
    }
}
