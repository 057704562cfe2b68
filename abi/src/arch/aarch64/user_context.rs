//! `seL4_UserContext` for aarch64 (`libsel4/sel4_arch_include/aarch64/sel4/sel4_arch/types.h`,
//! `object-api-sel4-arch.xml`): the register order of TCB ReadRegisters/WriteRegisters/
//! CopyRegisters.

/// Registers in `seL4_UserContext` order: pc, sp, spsr, x0..x8, x16, x17, x18, x29, x30 (the
/// frame registers), x9..x15, x19..x28 (the other integer registers), tpidr_el0, tpidrro_el0
/// (the thread ID registers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct UserContext {
    /// All 36 words, in seL4's order; see the `idx` constants.
    pub regs: [u64; USER_CONTEXT_WORDS],
}

impl Default for UserContext {
    fn default() -> Self {
        UserContext {
            regs: [0; USER_CONTEXT_WORDS],
        }
    }
}

/// Words in `seL4_UserContext`.
pub const USER_CONTEXT_WORDS: usize = 36;

/// Indices into [`UserContext::regs`].
pub mod idx {
    /// `pc`
    pub const PC: usize = 0;
    /// `sp` (SP_EL0)
    pub const SP: usize = 1;
    /// `spsr` (SPSR_EL1 of the thread: its NZCV flags and its masks)
    pub const SPSR: usize = 2;
    /// `x0`; `x1`..`x8` follow.
    pub const X0: usize = 3;
    /// `x16`
    pub const X16: usize = 12;
    /// `x17`
    pub const X17: usize = 13;
    /// `x18`
    pub const X18: usize = 14;
    /// `x29` (frame pointer)
    pub const X29: usize = 15;
    /// `x30` (link register)
    pub const X30: usize = 16;
    /// `x9`; `x10`..`x15` follow.
    pub const X9: usize = 17;
    /// `x19`; `x20`..`x28` follow.
    pub const X19: usize = 24;
    /// `tpidr_el0` (the TLS base, `seL4_TCB_SetTLSBase`)
    pub const TPIDR_EL0: usize = 34;
    /// `tpidrro_el0` (read-only to user level)
    pub const TPIDRRO_EL0: usize = 35;
    /// Frame registers (pc .. x30): the first 17; the integer ones and the thread ID registers
    /// are the other 19 (`seL4_TCB_CopyRegisters` transfer flags).
    pub const FRAME_WORDS: usize = 17;

    /// The index of general register `x<n>` (`n` < 31).
    pub const fn x(n: usize) -> usize {
        match n {
            0..=8 => X0 + n,
            9..=15 => X9 + (n - 9),
            16 => X16,
            17 => X17,
            18 => X18,
            19..=28 => X19 + (n - 19),
            29 => X29,
            _ => X30,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_matches_types_h() {
        assert_eq!(core::mem::size_of::<UserContext>(), 36 * 8);
        assert_eq!((idx::PC, idx::SP, idx::SPSR, idx::X0), (0, 1, 2, 3));
        assert_eq!(
            (idx::X16, idx::X17, idx::X18, idx::X29, idx::X30),
            (12, 13, 14, 15, 16)
        );
        assert_eq!((idx::X9, idx::X19), (17, 24));
        assert_eq!((idx::TPIDR_EL0, idx::TPIDRRO_EL0), (34, 35));
        assert_eq!(idx::FRAME_WORDS, 17);
    }

    /// Every general register has its own word, and with pc, sp, spsr and the two thread ID
    /// registers they fill the context.
    #[test]
    fn general_registers_are_a_permutation() {
        let mut seen = [false; USER_CONTEXT_WORDS];
        for i in [
            idx::PC,
            idx::SP,
            idx::SPSR,
            idx::TPIDR_EL0,
            idx::TPIDRRO_EL0,
        ] {
            seen[i] = true;
        }
        for n in 0..31 {
            assert!(!seen[idx::x(n)], "x{n}");
            seen[idx::x(n)] = true;
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!((idx::x(8), idx::x(9), idx::x(15)), (11, 17, 23));
        assert_eq!((idx::x(19), idx::x(28)), (24, 33));
    }
}
