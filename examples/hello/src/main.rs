//! `hello`: the smallest root task. It says what the kernel handed over (BootInfo), checks the
//! initial caps' kinds, makes a notification from untyped memory, mints a badged copy,
//! signals through it and polls the badge back, gets seL4's error for reading its own
//! registers, prints `HELLO OK` if
//! all of that went as seL4 specifies, and halts the machine. It uses nothing an architecture
//! adds (no page tables, no device): it is the first root task a new architecture boots.
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]
#![cfg_attr(not(target_os = "none"), allow(dead_code, unused_imports))]

use abi::{BootInfo, CapRights, ObjectType};
use libsel4::bootinfo::{BootInfoExt, SlotRegionExt};
use libsel4::cap::{init, Cap, Notification};
use libsel4::{cap_tag, error_name, println, sys};

/// The architecture this root task was built for.
const ARCH: &str = if cfg!(target_arch = "aarch64") {
    "aarch64"
} else {
    "riscv64"
};

/// The badge the minted notification cap carries.
const BADGE: u64 = 0x42;

/// Fail with `why` unless `ok`.
fn ensure(ok: bool, why: &'static str) -> Result<(), &'static str> {
    if ok {
        Ok(())
    } else {
        Err(why)
    }
}

fn run(bi: &BootInfo) -> Result<(), &'static str> {
    println!(
        "  BootInfo: node {} of {}, IPC buffer at {:#x}, {} untypeds ({} device), {} KiB of RAM untyped, empty slots {}..{}",
        bi.node_id,
        bi.num_nodes,
        bi.ipc_buffer,
        bi.untyped.count(),
        bi.device_untyped_count(),
        bi.ram_untyped_bytes() / 1024,
        bi.empty.start,
        bi.empty.end
    );
    ensure(bi.num_nodes == 1, "one node")?;
    ensure(bi.untyped.count() > 0, "untyped memory")?;

    // The initial caps are what seL4 puts there.
    let vspace_tag = if cfg!(target_arch = "aarch64") {
        cap_tag::VSPACE
    } else {
        cap_tag::PAGE_TABLE
    };
    for (what, cptr, want) in [
        ("TCB", init::TCB.bits(), cap_tag::THREAD),
        ("CNode", init::CNODE.bits(), cap_tag::CNODE),
        ("VSpace", init::VSPACE.bits(), vspace_tag),
        ("IPC buffer", init::IPC_BUFFER.bits(), cap_tag::FRAME),
        ("ASID pool", init::ASID_POOL.bits(), cap_tag::ASID_POOL),
        (
            "IRQ control",
            init::IRQ_CONTROL.bits(),
            cap_tag::IRQ_CONTROL,
        ),
    ] {
        let got = sys::seL4_DebugCapIdentify(cptr);
        println!("  slot {cptr}: {what}: {}", cap_tag::name(got));
        ensure(got == want, "an initial cap of the wrong kind")?;
    }

    // A notification from the first RAM untyped, a badged copy, a signal through it.
    let (ut, _) = bi
        .untypeds()
        .find(|(_, d)| d.is_device == 0 && d.size_bits >= 12)
        .ok_or("no RAM untyped")?;
    let (ntfn_slot, minted_slot) = (bi.empty.start, bi.empty.start + 1);
    if let Err(e) = ut.retype(
        ObjectType::Notification,
        0,
        &init::CNODE.as_retype_dest(),
        ntfn_slot,
        1,
    ) {
        println!("  retype: {}", error_name(e));
        return Err("Untyped_Retype failed");
    }
    let ntfn: Notification = Cap::from_bits(ntfn_slot);
    ensure(
        sys::seL4_DebugCapIdentify(ntfn.bits()) == cap_tag::NOTIFICATION,
        "the retyped cap is not a notification",
    )?;
    let root = init::CNODE;
    root.absolute_cptr(minted_slot)
        .mint_from(&root.absolute_cptr(ntfn_slot), CapRights::ALL, BADGE)
        .map_err(|_| "CNode_Mint failed")?;
    let minted: Notification = Cap::from_bits(minted_slot);
    ensure(ntfn.poll() == 0, "a fresh notification has no signal")?;
    minted.signal();
    let badge = ntfn.poll();
    println!("  notification: signalled with badge {BADGE:#x}, polled {badge:#x}");
    ensure(badge == BADGE, "the polled badge is not the minted one")?;
    ensure(ntfn.poll() == 0, "polling consumed the signal")?;

    // An invocation seL4 refuses, with its error: a thread may not read its own registers.
    let own = sys::seL4_TCB_ReadRegisters(init::TCB.bits(), false, 0, 2);
    println!(
        "  TCB_ReadRegisters of itself: {}",
        own.err().map_or("succeeded?!", error_name)
    );
    ensure(
        own.err() == Some(abi::Error::IllegalOperation),
        "reading one's own registers did not fail with IllegalOperation",
    )?;
    Ok(())
}

fn root_main(bi: &'static BootInfo) -> ! {
    println!();
    println!("hello: seL4 root task on {ARCH}");
    match run(bi) {
        Ok(()) => println!("HELLO OK"),
        Err(why) => println!("HELLO FAILED: {why}"),
    }
    loop {
        sys::seL4_DebugHalt();
    }
}

libsel4::root_task!(root_main);

#[cfg(not(target_os = "none"))]
fn main() {}
