//! `seL4_UserContext` for riscv64 (`libsel4/arch_include/riscv/sel4/arch/types.h`): the
//! register order of TCB ReadRegisters/WriteRegisters/CopyRegisters.

/// Registers in `seL4_UserContext` order: pc, ra, sp, gp, s0..s11, a0..a7, t0..t6, tp.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct UserContext {
    /// All 32 words, in seL4's order; see the `idx` constants.
    pub regs: [u64; USER_CONTEXT_WORDS],
}

/// Words in `seL4_UserContext`.
pub const USER_CONTEXT_WORDS: usize = 32;

/// Indices into [`UserContext::regs`].
pub mod idx {
    /// `pc`
    pub const PC: usize = 0;
    /// `ra`
    pub const RA: usize = 1;
    /// `sp`
    pub const SP: usize = 2;
    /// `gp`
    pub const GP: usize = 3;
    /// `s0`; `s1`..`s11` follow.
    pub const S0: usize = 4;
    /// `a0`; `a1`..`a7` follow.
    pub const A0: usize = 16;
    /// `t0`; `t1`..`t6` follow.
    pub const T0: usize = 24;
    /// `tp`
    pub const TP: usize = 31;
    /// Frame registers (pc, ra, sp, gp, s0..s11): the first 16; the "integer" (GP) registers are
    /// the other 16 (`seL4_TCB_CopyRegisters` transfer flags).
    pub const FRAME_WORDS: usize = 16;
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn order_matches_types_h() {
        assert_eq!(core::mem::size_of::<UserContext>(), 32 * 8);
        assert_eq!(
            (idx::PC, idx::RA, idx::SP, idx::GP, idx::S0),
            (0, 1, 2, 3, 4)
        );
        assert_eq!((idx::A0, idx::T0, idx::TP), (16, 24, 31));
    }
}
