//! Build configuration with seL4's `CONFIG_*` names: the values of seL4 16.0.0's builds for
//! `qemu-riscv-virt` and `qemu-arm-virt` with `ROOT_CNODE_SIZE_BITS` 13, which agree on all of
//! these (see `shared/SEL4-ABI-FACTS.md`, `SEL4-ABI-FACTS-MCS.md`, `SEL4-ABI-FACTS-AARCH64.md`). Only what the ABI or both kernel and user code need is here;
//! the platform's own numbers are in [`crate::platform`], the architecture's in
//! [`crate::arch`]. Configuration choices are cargo features of this crate (`mcs`, and the
//! values Microkit 2.3.0 builds seL4 with: `root_cnode_size_bits_17`, `num_domains_16`,
//! `num_domain_schedules_100`; Microkit's `build_sdk.py` `DEFAULT_KERNEL_OPTIONS`).

/// `CONFIG_KERNEL_MCS`: the MCS scheduling model (scheduling contexts); the `mcs` feature.
pub const KERNEL_MCS: bool = cfg!(feature = "mcs");
/// `CONFIG_MAX_NUM_NODES`: one core (no SMP yet).
pub const MAX_NUM_NODES: usize = 1;
/// `CONFIG_ROOT_CNODE_SIZE_BITS`: the root task's CNode has 2^13 slots (2^17 with the
/// `root_cnode_size_bits_17` feature, Microkit's `KernelRootCNodeSizeBits`).
pub const ROOT_CNODE_SIZE_BITS: usize = if cfg!(feature = "root_cnode_size_bits_17") {
    17
} else {
    13
};
/// `CONFIG_TIMER_TICK_MS`: kernel timer tick, in milliseconds (non-MCS: MCS has no tick).
#[cfg(not(feature = "mcs"))]
pub const TIMER_TICK_MS: u64 = 2;
/// `CONFIG_TIME_SLICE`: round-robin time slice, in ticks (non-MCS).
#[cfg(not(feature = "mcs"))]
pub const TIME_SLICE: u64 = 5;
/// `CONFIG_BOOT_THREAD_TIME_SLICE`: the root thread's budget and period, in milliseconds
/// (MCS).
#[cfg(feature = "mcs")]
pub const BOOT_THREAD_TIME_SLICE: u64 = 5;
/// `CONFIG_KERNEL_WCET_SCALE` (MCS).
#[cfg(feature = "mcs")]
pub const KERNEL_WCET_SCALE: u64 = 1;
/// `CONFIG_NUM_PRIORITIES`.
pub const NUM_PRIORITIES: usize = 256;
/// `CONFIG_NUM_DOMAINS`: 1 (16 with the `num_domains_16` feature, Microkit's
/// `KernelNumDomains`).
pub const NUM_DOMAINS: usize = if cfg!(feature = "num_domains_16") {
    16
} else {
    1
};
/// `CONFIG_NUM_DOMAIN_SCHEDULES`: 2 (100 with the `num_domain_schedules_100` feature,
/// Microkit's `KernelNumDomainSchedules`).
pub const NUM_DOMAIN_SCHEDULES: usize = if cfg!(feature = "num_domain_schedules_100") {
    100
} else {
    2
};
/// `CONFIG_MAX_NUM_BOOTINFO_UNTYPED_CAPS`: length of `seL4_BootInfo.untypedList`.
pub const MAX_NUM_BOOTINFO_UNTYPED_CAPS: usize = 230;
/// `CONFIG_RETYPE_FAN_OUT_LIMIT`: most objects one `seL4_Untyped_Retype` may create.
pub const RETYPE_FAN_OUT_LIMIT: usize = 256;
/// `CONFIG_MAX_NUM_WORK_UNITS_PER_PREEMPTION`.
pub const MAX_NUM_WORK_UNITS_PER_PREEMPTION: usize = 100;
/// `CONFIG_RESET_CHUNK_BITS`: an untyped is cleared in chunks of 2^8 bytes between
/// preemption points.
pub const RESET_CHUNK_BITS: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;

    /// gen_config.json of the reference builds.
    #[test]
    fn values_of_the_reference_build() {
        assert_eq!(KERNEL_MCS, cfg!(feature = "mcs"));
        let cnode_bits = if cfg!(feature = "root_cnode_size_bits_17") {
            17
        } else {
            13
        };
        assert_eq!((MAX_NUM_NODES, ROOT_CNODE_SIZE_BITS), (1, cnode_bits));
        let domains = if cfg!(feature = "num_domains_16") {
            16
        } else {
            1
        };
        let schedules = if cfg!(feature = "num_domain_schedules_100") {
            100
        } else {
            2
        };
        assert_eq!(
            (NUM_PRIORITIES, NUM_DOMAINS, NUM_DOMAIN_SCHEDULES),
            (256, domains, schedules)
        );
        assert_eq!(MAX_NUM_BOOTINFO_UNTYPED_CAPS, 230);
        assert_eq!(RETYPE_FAN_OUT_LIMIT, 256);
        assert_eq!(
            (MAX_NUM_WORK_UNITS_PER_PREEMPTION, RESET_CHUNK_BITS),
            (100, 8)
        );
        #[cfg(not(feature = "mcs"))]
        assert_eq!((TIMER_TICK_MS, TIME_SLICE), (2, 5));
        #[cfg(feature = "mcs")]
        assert_eq!((BOOT_THREAD_TIME_SLICE, KERNEL_WCET_SCALE), (5, 1));
    }
}
