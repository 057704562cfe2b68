//! `roottask-tests`: the QEMU test root task: BootInfo, the initial CSpace, CNode invocations,
//! `seL4_Untyped_Retype`, the debug syscalls, and (with threads of its own, `thread`) TCB
//! invocations, IPC, notifications, scheduling and faults, and interrupts (`t_irq`, with the
//! console UART in loopback mode). Every test asserts seL4 16.0.0 behaviour exactly (errors,
//! their detail words, reply lengths), citing the seL4 function that defines it.
//!
//! With the `mcs` feature (seL4's MCS configuration) the threads get scheduling contexts and
//! Reply objects, the non-MCS-only tests are left out and `t_mcs` adds the MCS tests.
//!
//! It builds for riscv64 and aarch64 and runs the same tests on both: what the instruction set
//! decides (registers, faulting instructions and their exception numbers, fault message
//! layouts, the console UART and IRQ numbers, paging facts and seL4's architecture-specific
//! answers) is in `arch`. Two tests are aarch64's own (`cfg(arch_aarch64)`, set by
//! `build.rs`): SGIs (`t_sgi`) and Arm cache maintenance (`vspace_cache_maintenance`).
//!
//! Prints one `TEST <name> ... ok|FAILED: <reason>` line per test, then
//! `SUMMARY <p> passed, <f> failed`, then halts the machine with `seL4_DebugHalt`.
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]
#![cfg_attr(not(target_os = "none"), allow(dead_code, unused_imports))]
// A failure carries its message in a fixed buffer (no heap), so `Err` is large on purpose.
#![allow(clippy::result_large_err)]

mod arch;
mod framework;
mod t_boot;
mod t_cnode;
mod t_debug;
mod t_fault;
mod t_ipc;
mod t_irq;
mod t_lookup;
#[cfg(feature = "mcs")]
mod t_mcs;
mod t_ntfn;
mod t_retype;
#[cfg(arch_aarch64)]
mod t_sgi;
mod t_tcb;
mod t_vspace;
mod thread;

use framework::{run_all, Ctx, Test};

macro_rules! tests {
    ($($(#[$m:meta])* $module:ident :: $name:ident),* $(,)?) => {
        &[$($(#[$m])* Test { name: stringify!($name), run: $module::$name }),*]
    };
}

/// Every test, in the order they run: the boot state first (before anything changes it).
const TESTS: &[Test] = tests![
    t_boot::bootinfo_basics,
    t_boot::bootinfo_slot_regions,
    t_boot::bootinfo_untyped_list,
    t_boot::bootinfo_extra_fdt,
    t_boot::initial_caps_identify,
    t_boot::boot_region_caps_identify,
    t_boot::frame_get_address,
    t_debug::debug_put_char,
    t_debug::debug_name_thread,
    t_debug::debug_dump_scheduler,
    t_debug::debug_snapshot,
    t_debug::success_reply_shape,
    t_lookup::lookup_depth_and_guard,
    t_lookup::lookup_invalid_root,
    t_lookup::invoke_empty_slot,
    t_lookup::invoke_wrong_label,
    t_lookup::invoke_truncated,
    t_retype::retype_each_object_type,
    t_retype::retype_captable_sizes,
    t_retype::retype_invalid_type,
    t_retype::retype_size_errors,
    t_retype::retype_dest_errors,
    t_retype::retype_depth_zero_uses_root,
    t_retype::retype_into_child_cnode,
    t_retype::retype_fan_out_256,
    t_retype::retype_not_enough_memory,
    t_retype::retype_watermark_alignment,
    t_retype::retype_reset_after_delete,
    t_retype::retype_revoke_untyped,
    t_retype::retype_device_untyped,
    t_retype::retype_untyped_copy,
    t_lookup::lookup_two_levels,
    t_cnode::cnode_copy,
    t_cnode::cnode_mint_badge,
    t_cnode::cnode_mint_rights,
    t_cnode::cnode_mint_guard,
    t_cnode::cnode_move,
    t_cnode::cnode_mutate,
    t_cnode::cnode_rotate,
    t_cnode::cnode_delete,
    t_cnode::cnode_revoke,
    #[cfg(not(feature = "mcs"))]
    t_cnode::cnode_save_caller,
    t_tcb::tcb_thread_runs,
    #[cfg(not(feature = "mcs"))]
    t_tcb::tcb_configure_errors,
    t_tcb::tcb_read_write_registers,
    t_tcb::tcb_write_registers_resume,
    t_tcb::tcb_read_registers_suspends,
    t_tcb::tcb_suspend_resume,
    t_tcb::tcb_copy_registers,
    t_tcb::tcb_copy_registers_onto_self,
    t_tcb::tcb_set_tls_base_onto_self,
    #[cfg(not(feature = "mcs"))]
    t_tcb::tcb_priority_and_mcp,
    t_tcb::tcb_set_priority_reschedules,
    t_tcb::tcb_set_ipc_buffer,
    #[cfg(not(feature = "mcs"))]
    t_tcb::tcb_set_space,
    t_tcb::tcb_bind_notification,
    t_tcb::tcb_set_tls_base,
    t_tcb::tcb_set_flags,
    t_tcb::domain_set,
    t_tcb::tcb_write_registers_blocked_thread,
    t_tcb::tcb_resume_blocked_thread,
    t_tcb::tcb_set_priority_blocked_thread,
    t_tcb::tcb_set_ipc_buffer_self,
    t_tcb::tcb_delete_self,
    t_tcb::tcb_ipc_buffer_read_only_frame,
    t_tcb::tcb_lower_own_priority,
    t_ipc::ipc_send_recv_both_orders,
    t_ipc::ipc_nb_send_recv,
    t_ipc::ipc_send_without_write_right,
    t_ipc::ipc_call_reply_recv,
    t_ipc::ipc_long_message,
    t_ipc::ipc_badges_fifo,
    t_ipc::ipc_cap_transfer,
    t_ipc::ipc_reply_cap_grant,
    #[cfg(not(feature = "mcs"))]
    t_ipc::ipc_save_caller,
    t_ipc::ipc_yield,
    t_ipc::ipc_preempt_on_wake,
    t_ipc::ipc_round_robin,
    t_ipc::ipc_cancel_badged_sends,
    t_ipc::ipc_delete_endpoint_restarts,
    t_ipc::ipc_receivers_fifo,
    t_ipc::ipc_delete_blocked_thread,
    #[cfg(not(feature = "mcs"))]
    t_ipc::ipc_suspend_caller_drops_reply_cap,
    t_ipc::ipc_recv_drops_unreplied_caller,
    #[cfg(not(feature = "mcs"))]
    t_ipc::ipc_delete_caller_drops_reply_cap,
    t_ipc::ipc_wake_equal_priority,
    t_ipc::ipc_fpu_state_per_thread,
    t_ntfn::ntfn_signal_poll_or,
    t_ntfn::ntfn_wait_wakes_thread,
    t_ntfn::ntfn_signal_preempts,
    t_ntfn::ntfn_bound_wakes_recv,
    t_ntfn::ntfn_delete_restarts_waiter,
    t_ntfn::ntfn_bound_not_woken_in_call,
    t_ntfn::ntfn_bound_pending_at_reply_recv,
    t_ntfn::ntfn_bound_before_sender,
    t_fault::fault_cap_fault,
    t_fault::fault_cap_fault_receive,
    t_fault::fault_unknown_syscall,
    t_fault::fault_user_exception,
    t_fault::fault_vm_fault,
    t_fault::fault_without_handler,
    t_fault::fault_fpu_disabled,
    t_fault::fault_suspend_waiting_thread,
    #[cfg(not(feature = "mcs"))]
    t_fault::fault_ep_looked_up_at_fault_time,
    #[cfg(not(feature = "mcs"))]
    t_fault::fault_unknown_syscall_numbers,
    t_fault::fault_handler_without_ipc_buffer,
    t_fault::fault_breakpoint,
    #[cfg(arch_aarch64)]
    t_sgi::irq_sgi_signal,
    t_irq::irq_control_get,
    t_irq::irq_uart_loopback,
    t_irq::irq_uart_masked_until_ack,
    t_irq::irq_control_get_range,
    t_irq::irq_uart_pending_at_ack,
    t_vspace::vspace_map_unmap_4k,
    t_vspace::vspace_map_sizes,
    t_vspace::vspace_shared_frame,
    t_vspace::vspace_remap_read_only,
    t_vspace::vspace_page_table_errors,
    t_vspace::vspace_asid_pool,
    t_vspace::vspace_invocation_shapes,
    t_vspace::vspace_execute_never,
    #[cfg(arch_aarch64)]
    t_vspace::vspace_cache_maintenance,
    #[cfg(feature = "mcs")]
    t_mcs::mcs_initial_caps,
    #[cfg(feature = "mcs")]
    t_mcs::mcs_configure_flags_errors,
    #[cfg(feature = "mcs")]
    t_mcs::mcs_bind_unbind_errors,
    #[cfg(feature = "mcs")]
    t_mcs::mcs_consumed_yield_to_errors,
    #[cfg(feature = "mcs")]
    t_mcs::mcs_yield_to,
    #[cfg(feature = "mcs")]
    t_mcs::mcs_tcb_invocations,
    #[cfg(feature = "mcs")]
    t_mcs::mcs_passive_server,
    #[cfg(feature = "mcs")]
    t_mcs::mcs_reply_object,
    #[cfg(feature = "mcs")]
    t_mcs::mcs_nb_send_wait_and_wait,
    #[cfg(feature = "mcs")]
    t_mcs::mcs_timeout_fault,
    #[cfg(feature = "mcs")]
    t_mcs::mcs_budget_enforced,
    #[cfg(feature = "mcs")]
    t_mcs::mcs_dump_scheduler,
];

fn root_main(bi: &'static abi::BootInfo) -> ! {
    libsel4::println!();
    let n = TESTS.iter().filter(|t| framework::selected(t)).count();
    libsel4::println!("roottask-tests: {} tests", n);
    let mut ctx = Ctx::new(bi);
    run_all(&mut ctx, TESTS);
    loop {
        libsel4::sys::seL4_DebugHalt();
    }
}

libsel4::root_task!(root_main);

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!(
        "roottask-tests is an seL4 root task: build it with --target riscv64gc-unknown-none-elf or aarch64-unknown-none"
    );
    std::process::exit(1);
}
