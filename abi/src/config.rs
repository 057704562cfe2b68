//! Build configuration, with seL4's `CONFIG_*` names (see `shared/SEL4-ABI-FACTS.md`): the seL4
//! 16.0.0 debug build for `qemu-riscv-virt` with `ROOT_CNODE_SIZE_BITS` 13.

/// `CONFIG_KERNEL_MCS`: the MCS scheduling model (scheduling contexts). Off: non-MCS ABI.
pub const KERNEL_MCS: bool = false;
/// `CONFIG_HAVE_FPU` (F and D extensions). Makes `seL4_TCBBits` 11.
pub const HAVE_FPU: bool = true;
/// `CONFIG_PT_LEVELS`: Sv39.
pub const PT_LEVELS: usize = 3;
/// `CONFIG_ROOT_CNODE_SIZE_BITS`: the root task's CNode has 2^13 slots.
pub const ROOT_CNODE_SIZE_BITS: usize = 13;
/// `CONFIG_TIMER_TICK_MS`: kernel timer tick, in milliseconds.
pub const TIMER_TICK_MS: u64 = 2;
/// `CONFIG_TIME_SLICE`: round-robin time slice, in ticks.
pub const TIME_SLICE: u64 = 5;
/// `CONFIG_NUM_PRIORITIES`.
pub const NUM_PRIORITIES: usize = 256;
/// `CONFIG_NUM_DOMAINS`.
pub const NUM_DOMAINS: usize = 1;
/// `CONFIG_NUM_DOMAIN_SCHEDULES`.
pub const NUM_DOMAIN_SCHEDULES: usize = 2;
/// `CONFIG_MAX_NUM_NODES`.
pub const MAX_NUM_NODES: usize = 1;
/// `CONFIG_MAX_NUM_BOOTINFO_UNTYPED_CAPS`: length of `seL4_BootInfo.untypedList`.
pub const MAX_NUM_BOOTINFO_UNTYPED_CAPS: usize = 230;
/// `CONFIG_RETYPE_FAN_OUT_LIMIT`: most objects one `seL4_Untyped_Retype` may create.
pub const RETYPE_FAN_OUT_LIMIT: usize = 256;
/// `CONFIG_MAX_NUM_WORK_UNITS_PER_PREEMPTION`.
pub const MAX_NUM_WORK_UNITS_PER_PREEMPTION: usize = 100;
/// `CONFIG_RESET_CHUNK_BITS`: an untyped is cleared in chunks of 2^8 bytes between
/// preemption points.
pub const RESET_CHUNK_BITS: usize = 8;
/// `CONFIG_KERNEL_STACK_BITS`.
pub const KERNEL_STACK_BITS: usize = 12;
/// `CONFIG_PADDR_USER_DEVICE_TOP`: device untypeds cover physical addresses below this.
pub const PADDR_USER_DEVICE_TOP: u64 = 1 << 39;
/// `CONFIG_FASTPATH`.
pub const FASTPATH: bool = true;
/// `CONFIG_DEBUG_BUILD`: debug syscalls are present.
pub const DEBUG_BUILD: bool = true;
/// `CONFIG_PRINTING`.
pub const PRINTING: bool = true;
/// `CONFIG_TIMER_FREQUENCY` on `qemu-riscv-virt`, in Hz.
pub const TIMER_FREQUENCY: u64 = 10_000_000;
/// Largest PLIC interrupt source on `qemu-riscv-virt` (`PLIC_MAX_IRQ`).
pub const PLIC_MAX_IRQ: usize = 95;
/// `maxIRQ`: the largest interrupt number IRQControl accepts. On riscv it is the kernel timer's
/// (`KERNEL_TIMER_IRQ` = `PLIC_MAX_IRQ` + 1, `src/arch/riscv/platform_gen.h.in`), which is always
/// active, so asking for it gives `seL4_RevokeFirst`.
pub const MAX_IRQ: usize = KERNEL_TIMER_IRQ;
/// The kernel's timer interrupt number (`KERNEL_TIMER_IRQ`), not issuable to user level.
pub const KERNEL_TIMER_IRQ: usize = 96;
