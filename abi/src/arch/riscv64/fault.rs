//! The fault message layouts on riscv64 (`sel4_arch_include/riscv64/sel4/sel4_arch/
//! constants.h`): the index of each word of a fault message, and its length.

/// `seL4_UnknownSyscall_Msg`: FaultIP, SP, RA, A0..A6, Syscall.
pub mod unknown_syscall {
    /// `seL4_UnknownSyscall_FaultIP`
    pub const FAULT_IP: usize = 0;
    /// `seL4_UnknownSyscall_SP`
    pub const SP: usize = 1;
    /// `seL4_UnknownSyscall_RA`
    pub const RA: usize = 2;
    /// `seL4_UnknownSyscall_A0`; A1..A6 follow.
    pub const A0: usize = 3;
    /// `seL4_UnknownSyscall_Syscall`: the syscall number.
    pub const SYSCALL: usize = 10;
    /// `seL4_UnknownSyscall_Length`
    pub const LENGTH: usize = 11;
}

/// `seL4_UserException_Msg`: FaultIP, SP, Number, Code.
pub mod user_exception {
    /// `seL4_UserException_FaultIP`
    pub const FAULT_IP: usize = 0;
    /// `seL4_UserException_SP`
    pub const SP: usize = 1;
    /// `seL4_UserException_Number`
    pub const NUMBER: usize = 2;
    /// `seL4_UserException_Code`
    pub const CODE: usize = 3;
    /// `seL4_UserException_Length`
    pub const LENGTH: usize = 4;
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

/// `seL4_TimeoutReply_Length` (MCS): a timeout fault's reply may carry FaultIP, LR, SP, GP,
/// s0..s11, a0..a7, t0..t6, TP.
#[cfg(feature = "mcs")]
pub const TIMEOUT_REPLY_LENGTH: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_constants_h() {
        assert_eq!(
            (
                unknown_syscall::A0,
                unknown_syscall::SYSCALL,
                unknown_syscall::LENGTH
            ),
            (3, 10, 11)
        );
        assert_eq!((user_exception::NUMBER, user_exception::LENGTH), (2, 4));
        assert_eq!((vm_fault::FSR, vm_fault::LENGTH), (3, 4));
        #[cfg(feature = "mcs")]
        assert_eq!(TIMEOUT_REPLY_LENGTH, 32);
    }
}
