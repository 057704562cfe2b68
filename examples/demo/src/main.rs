//! `demo`: a small seL4 root task. It prints what the kernel handed over (BootInfo), makes
//! objects from untyped memory, copies, mints and revokes caps, shows the errors bad requests
//! get; then (`threads`) runs a client and a server in CSpaces of their own, a notification and
//! a fault handler; then (`serial`) a user-mode serial driver in an address space and CSpace of
//! its own, made and restarted after a crash or a hang by a monitor (`monitor`), with an echo
//! client reading the console through it. It prints `DEMO OK` if all went as seL4 specifies.
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]
#![cfg_attr(not(target_os = "none"), allow(dead_code, unused_imports))]

mod devices;
mod driver;
mod monitor;
mod serial;
mod threads;

use abi::{slot, BootInfo, CPtr, CapRights, Error, ObjectType, Word};
use libsel4::bootinfo::{self, BootInfoExt, SlotRegionExt};
use libsel4::cap::{init, Cap, Notification, Untyped};
use libsel4::{cap_tag, error_name, last_error, println, sys};

/// Why the demo stopped.
type Outcome = Result<(), &'static str>;

/// Fail with `why` unless `ok`.
fn ensure(ok: bool, why: &'static str) -> Outcome {
    if ok {
        Ok(())
    } else {
        Err(why)
    }
}

/// Print a step's result, and turn an unexpected error into a failure.
fn step(what: &str, r: Result<(), Error>) -> Outcome {
    match r {
        Ok(()) => {
            println!("  {what}: ok");
            Ok(())
        }
        Err(e) => {
            println!("  {what}: {} [{}]", error_name(e), last_error().detail());
            Err("an invocation that should succeed failed")
        }
    }
}

/// Print the error a bad request gets; fail unless it is `want`.
fn expect(what: &str, r: Result<(), Error>, want: Error) -> Outcome {
    match r {
        Ok(()) => {
            println!("  {what}: succeeded?!");
            Err("a bad request succeeded")
        }
        Err(e) => {
            println!("  {what}: {} [{}]", error_name(e), last_error().detail());
            ensure(e == want, "a bad request got the wrong error")
        }
    }
}

fn show_cap(name: &str, cptr: CPtr) {
    let t = sys::seL4_DebugCapIdentify(cptr);
    println!("    slot {cptr:5} {name:<22} {}", cap_tag::name(t));
}

fn summary(bi: &BootInfo) {
    println!("BootInfo:");
    println!(
        "  node {} of {}, root CNode 2^{} slots",
        bi.node_id, bi.num_nodes, bi.init_thread_cnode_size_bits
    );
    println!(
        "  IPC buffer at {:#x}, BootInfo at {:#x}",
        bi.ipc_buffer, bi as *const BootInfo as usize
    );
    println!(
        "  untypeds: {} ({} device, {} RAM), {} MiB of RAM",
        bi.untyped.count(),
        bi.device_untyped_count(),
        bi.untyped.count() as usize - bi.device_untyped_count(),
        bi.ram_untyped_bytes() >> 20
    );
    println!(
        "  empty slots: {}..{} ({} slots)",
        bi.empty.start,
        bi.empty.end,
        bi.empty.count()
    );
    println!(
        "  user image: {} frames in slots {:?}, {} page tables",
        bi.user_image_frames.count(),
        bi.user_image_frames.range(),
        bi.user_image_paging.count()
    );
    let fdt = bootinfo::extra_bootinfo().and_then(bootinfo::find_fdt);
    match fdt.and_then(bootinfo::fdt_total_size) {
        Some(n) => println!(
            "  extra BootInfo: {} bytes, device tree of {n} bytes",
            bi.extra_len
        ),
        None => println!("  extra BootInfo: {} bytes, no device tree", bi.extra_len),
    }
}

fn run(bi: &'static BootInfo) -> Outcome {
    summary(bi);
    let (ut, desc) = bi
        .untypeds()
        .filter(|(_, d)| d.is_device == 0)
        .max_by_key(|(_, d)| d.size_bits)
        .ok_or("no RAM untyped")?;
    let ut: Untyped = ut;
    println!(
        "Using untyped in slot {} ({:#x}, 2^{} bytes)",
        ut.bits(),
        desc.paddr,
        desc.size_bits
    );

    let root = init::CNODE;
    let first = bi.empty.start;
    let (ep, ntfn, cnode, tcb) = (first, first + 1, first + 2, first + 3);
    let here = root.as_retype_dest();
    println!("Creating objects:");
    step("endpoint", ut.retype(ObjectType::Endpoint, 0, &here, ep, 1))?;
    step(
        "notification",
        ut.retype(ObjectType::Notification, 0, &here, ntfn, 1),
    )?;
    step(
        "CNode of 16 slots",
        ut.retype(ObjectType::CapTable, 4, &here, cnode, 1),
    )?;
    step("TCB", ut.retype(ObjectType::Tcb, 0, &here, tcb, 1))?;
    show_cap("endpoint", ep);
    show_cap("notification", ntfn);
    show_cap("cnode", cnode);
    show_cap("tcb", tcb);
    ensure(
        sys::seL4_DebugCapIdentify(ep) == cap_tag::ENDPOINT,
        "endpoint cap has the wrong type",
    )?;
    ensure(
        sys::seL4_DebugCapIdentify(cnode) == cap_tag::CNODE,
        "CNode cap has the wrong type",
    )?;
    ensure(
        sys::seL4_DebugCapIdentify(tcb) == cap_tag::THREAD,
        "TCB cap has the wrong type",
    )?;

    println!("Copying and minting:");
    let (ep_copy, ep_badged, n_badged) = (first + 4, first + 5, first + 6);
    step(
        "copy endpoint",
        root.absolute_cptr(ep_copy)
            .copy_from(&root.absolute_cptr(ep), CapRights::ALL),
    )?;
    step(
        "mint endpoint with badge 0x42",
        root.absolute_cptr(ep_badged)
            .mint_from(&root.absolute_cptr(ep), CapRights::ALL, 0x42),
    )?;
    step(
        "mint notification with badge 0x5",
        root.absolute_cptr(n_badged)
            .mint_from(&root.absolute_cptr(ntfn), CapRights::ALL, 0x5),
    )?;
    let tcb_in_cnode =
        Cap::<libsel4::cap::cap_type::CNode>::from_bits(cnode).relative_bits_with_depth(3, 4);
    step(
        "copy TCB cap into slot 3 of the new CNode",
        tcb_in_cnode.copy_from(&root.absolute_cptr(tcb), CapRights::ALL),
    )?;
    show_cap("endpoint copy", ep_copy);
    show_cap("badged endpoint", ep_badged);
    Notification::from_bits(n_badged).signal();
    let badge: Word = Notification::from_bits(ntfn).poll();
    println!("  signal through the badged notification, poll: badge {badge:#x}");
    ensure(badge == 0x5, "the signal did not carry the badge")?;

    println!("Bad requests:");
    expect(
        "retype into an occupied slot",
        ut.retype(ObjectType::Endpoint, 0, &here, ep, 1),
        Error::DeleteFirst,
    )?;
    expect(
        "retype of 0 objects",
        ut.retype(ObjectType::Endpoint, 0, &here, first + 10, 0),
        Error::RangeError,
    )?;
    expect(
        "retype of object type 42",
        sys::seL4_Untyped_Retype(
            ut.bits(),
            42,
            0,
            slot::INIT_THREAD_CNODE,
            0,
            0,
            first + 10,
            1,
        ),
        Error::InvalidArgument,
    )?;
    expect(
        "copy from an empty slot",
        root.absolute_cptr(first + 10)
            .copy_from(&root.absolute_cptr(first + 11), CapRights::ALL),
        Error::FailedLookup,
    )?;
    expect(
        "mint a badged endpoint again",
        root.absolute_cptr(first + 10).mint_from(
            &root.absolute_cptr(ep_badged),
            CapRights::ALL,
            0x43,
        ),
        Error::IllegalOperation,
    )?;
    expect(
        "delete at depth 13 (root CNode guard is 51 bits)",
        root.relative_bits_with_depth(ep, 13).delete(),
        Error::FailedLookup,
    )?;

    println!("Revoking:");
    step("revoke the endpoint", root.absolute_cptr(ep).revoke())?;
    show_cap("endpoint", ep);
    show_cap("endpoint copy", ep_copy);
    show_cap("badged endpoint", ep_badged);
    ensure(
        sys::seL4_DebugCapIdentify(ep) == cap_tag::ENDPOINT,
        "revoke removed the original",
    )?;
    ensure(
        sys::seL4_DebugCapIdentify(ep_copy) == cap_tag::NULL,
        "revoke left a copy",
    )?;
    ensure(
        sys::seL4_DebugCapIdentify(ep_badged) == cap_tag::NULL,
        "revoke left the badged cap",
    )?;
    step(
        "revoke the untyped (deletes every object made above)",
        root.absolute_cptr(ut.bits()).revoke(),
    )?;
    for s in first..first + 7 {
        ensure(
            sys::seL4_DebugCapIdentify(s) == cap_tag::NULL,
            "revoking the untyped left an object",
        )?;
    }
    println!("  all {} slots empty again", 7);

    let env = threads::Env {
        bi,
        ut,
        first: bi.empty.start,
    };
    let end = threads::run(&env)?;
    step(
        "revoke the untyped (deletes the threads, their CNodes and the IPC objects)",
        root.absolute_cptr(ut.bits()).revoke(),
    )?;
    for s in env.first..end {
        ensure(
            sys::seL4_DebugCapIdentify(s) == cap_tag::NULL,
            "revoking the untyped left an object",
        )?;
    }

    let end = serial::run(&env)?;
    step(
        "revoke the untyped (deletes the monitor with its pool and all in it, the client)",
        root.absolute_cptr(ut.bits()).revoke(),
    )?;
    for s in env.first..end {
        ensure(
            sys::seL4_DebugCapIdentify(s) == cap_tag::NULL,
            "revoking the untyped left an object",
        )?;
    }
    Ok(())
}

fn root_main(bi: &'static BootInfo) -> ! {
    println!();
    println!("seL4 demo root task");
    match run(bi) {
        Ok(()) => println!("DEMO OK"),
        Err(why) => println!("DEMO FAILED: {why}"),
    }
    loop {
        sys::seL4_DebugHalt();
    }
}

libsel4::root_task!(root_main);

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!(
        "demo is an seL4 root task: build it with --target riscv64gc-unknown-none-elf or aarch64-unknown-none"
    );
    std::process::exit(1);
}
