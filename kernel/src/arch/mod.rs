//! The architecture boundary.
//!
//! Two architectures: `riscv64` (QEMU `virt` with OpenSBI) and `aarch64` (QEMU `virt`,
//! cortex-a53, GICv2). The one built is chosen by the target: aarch64 on bare-metal aarch64,
//! riscv64 on the riscv64 target and on the host, whose tests simulate a riscv64 machine with
//! `host` standing in for the machine. Each architecture's pure parts (register layout, page
//! tables, trap decoding, its caps and invocations) compile for its target and in host tests
//! (aarch64's too, so that `cargo test` exercises both); its `machine` part (entry, traps,
//! system registers, interrupt controller) only exists on its target.
//!
//! Boot is layered the same way: generic boot (`crate::boot`) creates the root task and calls
//! the architecture for the root task's address space, frame mappings, ASID pool and first
//! registers (`<arch>::boot`); the platform's devices (interrupt controller, timer, UART) are
//! described by an opaque [`Platform`] that the machine layer fills from the device tree and
//! sets up (`init_platform`).
//!
//! What the rest of the kernel may use from here is re-exported below as `arch::*`.

#[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
pub mod riscv64;

#[cfg(any(test, all(target_arch = "aarch64", target_os = "none")))]
pub mod aarch64;

#[cfg(not(target_os = "none"))]
pub mod host;

/// The capDL dump's walk of a VSpace, which each architecture's `capdl.rs` describes its
/// tables to (debug build).
#[cfg(feature = "debug_build")]
pub mod capdl_vspace;
/// The device-tree reader's ISA-independent part, which each machine's reader completes
/// (target only).
#[cfg(target_os = "none")]
pub mod devicetree;
/// Device-tree nodes by path, robust against the `FDT_NOP` tokens QEMU leaves after `-dtb`.
#[cfg(any(test, target_os = "none"))]
pub mod fdt_path;
/// The cap hooks both architectures' VSpace caps share (`Arch_maskCapRights`,
/// `Arch_sameRegionAs`, `Arch_sameObjectAs`).
pub mod vmcap;

/// Whether the architecture built is aarch64 (else riscv64: the riscv64 target, and host
/// builds, whose tests simulate a riscv64 machine).
macro_rules! if_aarch64 {
    ($($i:item)*) => { $( #[cfg(all(target_arch = "aarch64", target_os = "none"))] $i )* };
}
/// See [`if_aarch64`].
macro_rules! if_riscv64 {
    ($($i:item)*) => { $( #[cfg(not(all(target_arch = "aarch64", target_os = "none")))] $i )* };
}

if_riscv64! {
    pub use riscv64::boot::{
        check_root_elf, create_root_vspace, init_root_context, map_root_frame, root_asid_caps,
        root_paging_tables, IT_ASID, MAX_NUM_FREEMEM_REG, NUM_RESERVED_REGIONS,
    };
    /// What boot's memory plan takes from the architecture built (`crate::boot::BootRules`).
    pub use riscv64::boot::BOOT_RULES;
    #[cfg(test)]
    pub use riscv64::cap::arbitrary_arch_cap;
    pub use riscv64::cap::{
        check_valid_ipc_buffer, create_object as arch_create_object,
        derive_cap as arch_derive_cap, finalise_cap as arch_finalise_cap, ipc_buffer_frame,
        mask_cap_rights as arch_mask_cap_rights, same_object_as as arch_same_object_as,
        same_region_as as arch_same_region_as, update_cap_data as arch_update_cap_data,
        is_cap_revocable as arch_is_cap_revocable, root_smc_cap, vspace_root, ArchCap,
    };
    pub use riscv64::cap::{is_asid_pool_cap, is_frame_cap, is_page_table_cap};
    pub use riscv64::context::{regs, sanitise_register, ArchContext, ArchTcb};
    pub use riscv64::objects::{
        decode as decode_arch_invocation, decode_irq_control, fast_invocation, has_fast_invocation,
        perform as perform_arch_invocation, VSpaceInvocation as ArchInvocation,
    };
    pub use riscv64::platform::{check_irq, Platform};
    pub use riscv64::vspace::user_word_paddr;
    pub use riscv64::vspace::{PageTable, Pte};
    pub use riscv64::{msb_index, NAME, PADDR_TOP};
    /// Time units (seL4 `arch/machine/timer.h`): µs in the ABI, ticks of the platform's clock
    /// inside; the kernel's WCET and the timer's precision.
    pub use riscv64::timer::{
        ticks_to_us, us_to_ticks, KERNEL_WCET_TICKS, KERNEL_WCET_US, MAX_TICKS_TO_US,
        MAX_US_TO_TICKS, TIMER_PRECISION_TICKS,
    };
}

/// The page-table entry and table of the other architecture, whose pure logic host tests also
/// run (its tables live in simulated object memory too), and its page-table cap test.
#[cfg(test)]
pub use aarch64::{
    cap::is_page_table_cap as other_is_page_table_cap,
    vspace::{PageTable as OtherPageTable, Pte as OtherPte},
};

if_aarch64! {
    pub use aarch64::boot::{
        check_root_elf, create_root_vspace, init_root_context, map_root_frame, root_asid_caps,
        root_paging_tables, IT_ASID, MAX_NUM_FREEMEM_REG, NUM_RESERVED_REGIONS,
    };
    /// What boot's memory plan takes from the architecture built (`crate::boot::BootRules`).
    pub use aarch64::BOOT_RULES;
    pub use aarch64::cap::{
        create_object as arch_create_object, derive_cap as arch_derive_cap, ipc_buffer_frame,
        mask_cap_rights as arch_mask_cap_rights, same_object_as as arch_same_object_as,
        same_region_as as arch_same_region_as, update_cap_data as arch_update_cap_data, ArchCap,
    };
    pub use aarch64::cap::{is_asid_pool_cap, is_frame_cap, is_page_table_cap};
    pub use aarch64::context::{regs, sanitise_register, ArchContext, ArchTcb};
    pub use aarch64::glue::{
        check_valid_ipc_buffer, decode_invocation as decode_arch_invocation, decode_irq_control,
        finalise_cap as arch_finalise_cap, is_cap_revocable as arch_is_cap_revocable, root_smc_cap,
        vspace_root,
    };
    pub use aarch64::objects::{perform as perform_arch_invocation, VSpaceInvocation as ArchInvocation};
    pub use aarch64::glue::{fast_invocation, has_fast_invocation};
    pub use aarch64::platform::Platform;
    pub use aarch64::check_irq;
    pub use aarch64::vspace::user_word_paddr;
    pub use aarch64::vspace::{PageTable, Pte};
    pub use aarch64::{msb_index, NAME, PADDR_TOP};
    /// Time units (seL4 `arch/machine/timer.h`): µs in the ABI, ticks of the platform's clock
    /// inside; the kernel's WCET and the timer's precision.
    pub use aarch64::timer::{
        ticks_to_us, us_to_ticks, KERNEL_WCET_TICKS, KERNEL_WCET_US, MAX_TICKS_TO_US,
        MAX_US_TO_TICKS, TIMER_PRECISION_TICKS,
    };
}

/// The architecture's part of the capDL dump (`seL4_DebugSnapshot`, debug build): the hooks
/// the generic dumper (`crate::debug::capdl`) calls, as seL4's generic `src/machine/capdl.c`
/// calls the arch `capdl.c` (`print_object_arch`, `print_cap_arch`, `obj_tcb_print_vtable`,
/// `obj_vtable_print_slots`, `print_ipc_buffer_slot`).
#[cfg(feature = "debug_build")]
pub mod capdl {
    #[cfg(all(target_arch = "aarch64", target_os = "none"))]
    pub use super::aarch64::capdl::{
        print_arch_cap, print_arch_cap_name, print_arch_header, print_arch_object,
        print_ipc_buffer_frame, print_tcb_vspace, print_vspace_caps, print_vspace_objects,
    };
    #[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
    pub use super::riscv64::capdl::{
        print_arch_cap, print_arch_cap_name, print_arch_header, print_arch_object,
        print_ipc_buffer_frame, print_tcb_vspace, print_vspace_caps, print_vspace_objects,
    };
}

/// The machine of the architecture built (target only).
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
use aarch64::machine;
#[cfg(all(
    target_arch = "aarch64",
    target_os = "none",
    feature = "builtin_platform"
))]
pub use aarch64::machine::devicetree::builtin_params as builtin_platform_params;
#[cfg(all(target_os = "none", feature = "fastpath"))]
pub use machine::trap::fastpath_restore;
#[cfg(target_os = "none")]
pub use machine::trap::{fastpath_call_slow, fastpath_reply_recv_slow};
/// The machine of the architecture built (target only).
#[cfg(all(target_arch = "riscv64", target_os = "none"))]
use riscv64::machine;
/// The compiled-in platform's boot parameters (no device tree), `builtin_platform` feature
/// (QEMU virt).
#[cfg(all(
    target_arch = "riscv64",
    target_os = "none",
    feature = "builtin_platform"
))]
pub use riscv64::machine::devicetree::builtin_params as builtin_platform_params;

#[cfg(target_os = "none")]
pub use devicetree::DtbError;
#[cfg(target_os = "none")]
pub use machine::boot::{kernel_stack, kernel_stack_high_water, kernel_stack_overflowed};
#[cfg(target_os = "none")]
pub use machine::devicetree::parse as parse_device_tree;
#[cfg(target_os = "none")]
pub use machine::{init_platform, restore_user_context};

#[cfg(target_os = "none")]
pub use machine::{
    flush_all, flush_asid, flush_page, fpu_load, fpu_save, halt, irq_claim, irq_mask,
    kernel_root_page_table, kernel_state_addr, opaque, paddr_to_pptr, pptr_to_paddr, put_char,
    set_irq_trigger, set_vm_root, set_vm_root_cached, shl_mod64, shr_mod64, trapped_thread,
    wait_for_interrupt, FASTPATH_INFO_BOUND_LOADED,
};

#[cfg(not(target_os = "none"))]
pub use host::{
    flush_all, flush_asid, flush_page, fpu_load, fpu_save, halt, irq_claim, irq_mask,
    kernel_root_page_table, opaque, paddr_to_pptr, pptr_to_paddr, put_char, set_irq_trigger,
    set_vm_root, set_vm_root_cached, shl_mod64, shr_mod64, FASTPATH_INFO_BOUND_LOADED,
};

/// The cycle counter (seL4 `timestamp()`), for utilisation accounting.
#[cfg(all(not(target_os = "none"), feature = "track_utilisation"))]
pub use host::{advance_cycles, timestamp};
#[cfg(all(target_os = "none", feature = "track_utilisation"))]
pub use machine::timestamp;

#[cfg(all(not(target_os = "none"), not(feature = "mcs")))]
pub use host::reset_timer;
/// The kernel timer without MCS: a periodic tick (`resetTimer` after each).
#[cfg(all(target_os = "none", not(feature = "mcs")))]
pub use machine::reset_timer;

#[cfg(all(not(target_os = "none"), feature = "mcs"))]
pub use host::{ack_deadline_irq, get_current_time, set_deadline};
/// The kernel timer under MCS: a one-shot deadline in ticks of the platform's clock
/// (`getCurrentTime`, `setDeadline`, `ackDeadlineIRQ`).
#[cfg(all(target_os = "none", feature = "mcs"))]
pub use machine::{ack_deadline_irq, get_current_time, set_deadline};

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    /// Both architectures' `msb_index` (host tests compile both).
    const MSB_INDEX: [fn(u64) -> usize; 2] = [super::riscv64::msb_index, super::aarch64::msb_index];

    #[test]
    fn msb_index_of_each_bit() {
        for msb_index in MSB_INDEX {
            for i in 0..64 {
                assert_eq!(msb_index(1 << i), i);
                assert_eq!(msb_index((1 << i) | 1), i);
                assert_eq!(msb_index(u64::MAX >> (63 - i)), i);
            }
        }
    }

    proptest! {
        #[test]
        fn msb_index_is_63_minus_leading_zeros(x in 1..=u64::MAX) {
            for msb_index in MSB_INDEX {
                prop_assert_eq!(msb_index(x), 63 - x.leading_zeros() as usize);
            }
        }
    }
}
