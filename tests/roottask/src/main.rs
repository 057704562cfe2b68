//! `roottask-tests`: the QEMU test root task for the foundation of the kernel: BootInfo, the
//! initial CSpace, CNode invocations, `seL4_Untyped_Retype` and the debug syscalls. Every test
//! asserts seL4 16.0.0 behaviour exactly (errors, their detail words, reply lengths), citing
//! the seL4 function that defines it.
//!
//! Prints one `TEST <name> ... ok|FAILED: <reason>` line per test, then
//! `SUMMARY <p> passed, <f> failed`, then halts the machine with `seL4_DebugHalt`.
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]
#![cfg_attr(not(target_os = "none"), allow(dead_code, unused_imports))]
// A failure carries its message in a fixed buffer (no heap), so `Err` is large on purpose.
#![allow(clippy::result_large_err)]

mod framework;
mod t_boot;
mod t_cnode;
mod t_debug;
mod t_lookup;
mod t_retype;

use framework::{run_all, Ctx, Test};

macro_rules! tests {
    ($($module:ident :: $name:ident),* $(,)?) => {
        &[$(Test { name: stringify!($name), run: $module::$name }),*]
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
    t_cnode::cnode_save_caller,
];

fn root_main(bi: &'static abi::BootInfo) -> ! {
    libsel4::println!();
    libsel4::println!("roottask-tests: {} tests", TESTS.len());
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
        "roottask-tests is an seL4 root task: build it with --target riscv64gc-unknown-none-elf"
    );
    std::process::exit(1);
}
