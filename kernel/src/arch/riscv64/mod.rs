//! RISC-V 64 (Sv39) on QEMU `virt`.

pub mod boot;
pub mod cap;
#[cfg(feature = "debug_build")]
pub mod capdl;
pub mod cause;
pub mod context;
pub mod objects;
pub mod platform;
pub mod timer;
pub mod vspace;
#[cfg(test)]
mod vspace_tests;

#[cfg(target_os = "none")]
#[allow(unsafe_code)]
pub mod machine;

/// The architecture's name, for the boot banner.
pub const NAME: &str = "riscv64";

/// End of the kernel's window onto physical memory (seL4 `PADDR_TOP` = `PPTR_TOP - PPTR_BASE`
/// on riscv64 Sv39: 254 GiB): only RAM below it can hold kernel objects.
pub const PADDR_TOP: u64 = 254 << 30;

/// `MSB8[b]`: the index of the highest set bit of the byte `b` (0 for 0).
const MSB8: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 2;
    while i < 256 {
        t[i] = t[i / 2] + 1;
        i += 1;
    }
    t
};

/// The index of the highest set bit of `x` (not 0): `63 - x.leading_zeros()`, for the
/// scheduler's bitmap (seL4 `wordBits - 1 - clzl(x)`). RV64GC has no count-leading-zeros
/// instruction and the compiler's generic expansion takes about 45 instructions; this takes
/// three halving steps and a byte table.
#[inline(always)]
pub fn msb_index(x: u64) -> usize {
    debug_assert!(x != 0);
    let (mut x, mut n) = (x, 0);
    for s in [32, 16, 8] {
        let hi = x >> s;
        let big = (hi != 0) as u32 * s;
        x >>= big;
        n += big;
    }
    n as usize + MSB8[(x & 0xff) as usize] as usize
}
