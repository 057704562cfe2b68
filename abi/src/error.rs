//! `seL4_Error` (`libsel4/include/sel4/errors.h`).

/// The error codes returned in the label of an invocation's reply message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Error {
    /// `seL4_NoError`
    NoError = 0,
    /// `seL4_InvalidArgument`: MR0 is the index of the bad argument.
    InvalidArgument = 1,
    /// `seL4_InvalidCapability`: MR0 is the index of the bad capability.
    InvalidCapability = 2,
    /// `seL4_IllegalOperation`
    IllegalOperation = 3,
    /// `seL4_RangeError`: MR0, MR1 are the allowed minimum and maximum.
    RangeError = 4,
    /// `seL4_AlignmentError`
    AlignmentError = 5,
    /// `seL4_FailedLookup`: MR0 says whether the source (1) or destination (0) failed, then
    /// the lookup failure description.
    FailedLookup = 6,
    /// `seL4_TruncatedMessage`
    TruncatedMessage = 7,
    /// `seL4_DeleteFirst`
    DeleteFirst = 8,
    /// `seL4_RevokeFirst`
    RevokeFirst = 9,
    /// `seL4_NotEnoughMemory`: MR0 is the number of bytes available.
    NotEnoughMemory = 10,
}

impl Error {
    /// The error for a reply label, if it is one of seL4's.
    pub const fn from_word(w: u64) -> Option<Error> {
        use Error::*;
        Some(match w {
            0 => NoError,
            1 => InvalidArgument,
            2 => InvalidCapability,
            3 => IllegalOperation,
            4 => RangeError,
            5 => AlignmentError,
            6 => FailedLookup,
            7 => TruncatedMessage,
            8 => DeleteFirst,
            9 => RevokeFirst,
            10 => NotEnoughMemory,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn error_numbers_match_libsel4_errors_h() {
        let all = [
            (Error::NoError, 0),
            (Error::InvalidArgument, 1),
            (Error::InvalidCapability, 2),
            (Error::IllegalOperation, 3),
            (Error::RangeError, 4),
            (Error::AlignmentError, 5),
            (Error::FailedLookup, 6),
            (Error::TruncatedMessage, 7),
            (Error::DeleteFirst, 8),
            (Error::RevokeFirst, 9),
            (Error::NotEnoughMemory, 10),
        ];
        for (e, n) in all {
            assert_eq!(e as u64, n);
            assert_eq!(Error::from_word(n), Some(e));
        }
        assert_eq!(Error::from_word(11), None);
    }
}
