//! Host test fixture: a simulated machine booted with a tiny root task, and helpers to invoke
//! capabilities through the real syscall path (registers, IPC buffer, reply).

use crate::arch::riscv64::context::reg;
use crate::arch::ArchCap;
use crate::boot::{create_root_task, BootParams, Region};
use crate::cap::Cap;
use crate::cte::Slot;
use crate::mem::sim::SimMemory;
use crate::mem::PPtr;
use crate::object::tcb::{tcb_slot, TcbRef};
use crate::state::Kernel;
use abi::bootinfo::BootInfo;
use abi::{InvocationLabel, MessageInfo, Syscall};

/// Simulated RAM: 64 MiB at 0x8000_0000.
pub const RAM_BASE: u64 = 0x8000_0000;
/// log2 of the simulated RAM size.
pub const RAM_BITS: u32 = 26;
/// The simulated kernel image: its first page is boot-only, its last page the IRQ node.
pub const KERNEL_IMAGE: Region = Region::new(RAM_BASE + 0x20_0000, RAM_BASE + 0x40_0000);
/// Where the fake root task ELF is placed.
pub const INITRD: u64 = RAM_BASE + 0x0100_0000;
/// Where the fake device tree is placed.
pub const DTB: u64 = RAM_BASE + 0x0110_0000;
/// Size of the fake device tree.
pub const DTB_LEN: usize = 5000;
/// The fake root task's link address.
pub const IMAGE_VADDR: u64 = 0x10000;

/// A minimal riscv64 ELF: one loadable segment of `code` at `IMAGE_VADDR` plus 8 KiB of bss.
pub fn tiny_elf() -> Vec<u8> {
    let mut e = vec![0u8; 64 + 56];
    e[0..4].copy_from_slice(b"\x7fELF");
    e[4] = 2; // 64-bit
    e[5] = 1; // little endian
    e[6] = 1; // version
    let w16 = |e: &mut Vec<u8>, o: usize, v: u16| e[o..o + 2].copy_from_slice(&v.to_le_bytes());
    let w32 = |e: &mut Vec<u8>, o: usize, v: u32| e[o..o + 4].copy_from_slice(&v.to_le_bytes());
    let w64 = |e: &mut Vec<u8>, o: usize, v: u64| e[o..o + 8].copy_from_slice(&v.to_le_bytes());
    w16(&mut e, 16, 2); // ET_EXEC
    w16(&mut e, 18, 0xf3); // EM_RISCV
    w32(&mut e, 20, 1);
    w64(&mut e, 24, IMAGE_VADDR + 120); // entry
    w64(&mut e, 32, 64); // phoff
    w16(&mut e, 52, 64);
    w16(&mut e, 54, 56);
    w16(&mut e, 56, 1);
    w16(&mut e, 58, 64);
    // The "code": a recognisable word.
    e.extend_from_slice(&0x1234_5678_9abc_def0u64.to_le_bytes());
    let len = e.len() as u64;
    w32(&mut e, 64, 1); // PT_LOAD
    w32(&mut e, 68, 7); // RWX
    w64(&mut e, 72, 0); // offset
    w64(&mut e, 80, IMAGE_VADDR);
    w64(&mut e, 88, IMAGE_VADDR);
    w64(&mut e, 96, len);
    w64(&mut e, 104, len + 0x2000);
    w64(&mut e, 112, 0x1000);
    e
}

/// A booted simulated system.
pub struct System {
    /// The simulated RAM (kept alive).
    pub mem: SimMemory,
    /// The kernel.
    pub k: Kernel,
    /// The root task's TCB.
    pub root: TcbRef,
    /// Where the root task's BootInfo is mapped (its a0 at start).
    pub bi_vptr: u64,
    /// The untyped [`Self::make`] and [`Self::spawn`] retype from (slot), if not the first
    /// RAM untyped of 1 MiB or more.
    pub make_from: Option<u64>,
}

/// The last reply: message info and the first message registers.
#[derive(Clone, Copy, Debug)]
pub struct Reply {
    /// Reply message info.
    pub info: MessageInfo,
    /// MR0..MR5.
    pub mrs: [u64; 6],
}

impl Reply {
    /// The error code of the reply (label).
    pub fn error(&self) -> abi::Error {
        abi::Error::from_word(self.info.label()).expect("reply label is an error code")
    }
}

/// Asserts a successful reply (label 0) and returns it.
#[track_caller]
pub fn ok(r: Reply) -> Reply {
    assert_eq!(r.info.label(), 0, "expected success: {r:?}");
    r
}

/// Asserts a successful reply with no message (label 0, length 0), the reply of most
/// invocations.
#[track_caller]
pub fn ok_empty(r: Reply) {
    assert_eq!((r.info.label(), r.info.length()), (0, 0), "{r:?}");
}

/// Asserts an error reply `e` with exactly the message registers `mrs`.
#[track_caller]
pub fn fails(r: Reply, e: abi::Error, mrs: &[u64]) {
    assert_eq!(r.error(), e, "{r:?}");
    assert_eq!(r.info.length(), mrs.len() as u64, "error MR count: {r:?}");
    assert_eq!(&r.mrs[..mrs.len()], mrs, "error MRs: {r:?}");
}

/// The error of a reply and its message registers (as many as the reply's length).
#[track_caller]
pub fn err(r: Reply) -> (abi::Error, Vec<u64>) {
    assert_ne!(r.info.label(), 0, "expected an error: {r:?}");
    (r.error(), r.mrs[..r.info.length() as usize].to_vec())
}

impl System {
    /// Boots the simulated machine with the tiny root task.
    pub fn boot() -> System {
        Self::boot_with(&tiny_elf(), DTB_LEN)
    }

    /// Boots the simulated machine with the root task `elf` (placed at [`INITRD`]) and a fake
    /// device tree of `dtb_len` bytes (at [`DTB`]; none if 0), as a firmware boot does: the
    /// kernel first loads the initrd as seL4's elfloader would ([`crate::boot::load_initrd`]).
    pub fn boot_with(elf: &[u8], dtb_len: usize) -> System {
        let (mem, mut p) = Self::machine(elf, dtb_len);
        crate::boot::load_initrd(&crate::mem::Booting::sim(), &mut p).expect("load the initrd");
        let mut k = Kernel::new();
        let root = create_root_task(
            &crate::mem::Booting::sim(),
            &mut k,
            &p,
            crate::arch::PADDR_TOP,
        )
        .expect("boot");
        let bi_vptr = root.reg(reg::A0);
        System {
            mem,
            k,
            root,
            bi_vptr,
            make_from: None,
        }
    }

    /// The simulated machine before boot: RAM with the firmware's first 2 MiB reserved, the
    /// kernel image at [`KERNEL_IMAGE`] (its first page boot-only), the root task `elf` as the
    /// initrd at [`INITRD`], a fake device tree of `dtb_len` bytes at [`DTB`], the IRQ node in
    /// the simulated kernel image, and the kernel devices.
    pub fn machine(elf: &[u8], dtb_len: usize) -> (SimMemory, BootParams) {
        let mem = SimMemory::new(RAM_BASE, RAM_BITS);
        let boot = crate::mem::Booting::sim();
        boot.copy_in(crate::arch::paddr_to_pptr(INITRD), elf);
        let dtb: Vec<u8> = (0..dtb_len).map(|i| i as u8).collect();
        boot.copy_in(crate::arch::paddr_to_pptr(DTB), &dtb);
        let mut p = BootParams::default();
        p.ram
            .push(Region::new(RAM_BASE, RAM_BASE + (1 << RAM_BITS)))
            .unwrap();
        p.reserved
            .push(Region::new(RAM_BASE, KERNEL_IMAGE.start))
            .unwrap();
        p.kernel_image = KERNEL_IMAGE;
        p.kernel_boot = Region::new(KERNEL_IMAGE.start, KERNEL_IMAGE.start + 0x1000);
        p.irq_node = crate::mem::PPtr::sim(crate::arch::paddr_to_pptr(KERNEL_IMAGE.end - 0x1000));
        p.initrd = Region::new(INITRD, INITRD + elf.len() as u64);
        p.dtb = Region::new(DTB, DTB + dtb_len as u64);
        p.kernel_devices
            .push(Region::new(0x0c00_0000, 0x1000_0000))
            .unwrap();
        (mem, p)
    }

    /// The root task's BootInfo.
    pub fn bootinfo(&self) -> BootInfo {
        PPtr::<BootInfo>::sim(self.user_to_pptr(self.bi_vptr)).get()
    }

    /// Kernel-virtual address of a root-task virtual address (walks its page tables).
    pub fn user_to_pptr(&self, vaddr: u64) -> usize {
        let Cap::Arch(ArchCap::PageTable { base, .. }) = self
            .root_slot(abi::bootinfo::slot::INIT_THREAD_VSPACE)
            .cap()
        else {
            panic!("no vspace")
        };
        let w = crate::arch::riscv64::vspace::lookup_pt_slot(base, vaddr);
        let pte = w.slot.get();
        assert!(pte.valid() && pte.is_leaf(), "{vaddr:#x} not mapped");
        crate::arch::paddr_to_pptr(pte.paddr()) + (vaddr & 0xfff) as usize
    }

    /// Slot `i` of the root CNode.
    pub fn root_slot(&self, i: u64) -> Slot {
        let Cap::CNode { ptr, .. } = self.root.slot(crate::object::tcb::tcb_slot::CTABLE).cap()
        else {
            panic!("no cspace")
        };
        Slot(ptr).index(63, i as usize)
    }

    /// The root task's IPC buffer as the root task sees it: `None` if it has unmapped it.
    fn ipc_buffer(&self) -> Option<usize> {
        let vaddr = self.root.with(|t| t.ipc_buffer);
        let Cap::Arch(ArchCap::PageTable { base, .. }) = self
            .root_slot(abi::bootinfo::slot::INIT_THREAD_VSPACE)
            .cap()
        else {
            return None;
        };
        let pte = crate::arch::riscv64::vspace::lookup_pt_slot(base, vaddr)
            .slot
            .get();
        (pte.valid() && pte.is_leaf())
            .then(|| crate::arch::paddr_to_pptr(pte.paddr()) + (vaddr & 0xfff) as usize)
    }

    /// Performs syscall `sys` as the root task with the given registers; returns a0, a1.
    pub fn syscall(
        &mut self,
        sys: Syscall,
        a0: u64,
        info: MessageInfo,
        mrs: &[u64],
        caps: &[u64],
    ) -> Reply {
        let t = self.root;
        if self.k.cur_thread != t {
            self.run_as(t);
        }
        // Words past MR3 and extra caps go through the IPC buffer mapping, as the root task
        // would write them (nothing, if it has unmapped its buffer).
        let buf = self.ipc_buffer();
        for (i, &w) in mrs.iter().enumerate() {
            if i < 4 {
                t.set_reg(reg::A2 + i, w);
            } else if let Some(b) = buf {
                PPtr::<u64>::sim(b + 8 + 8 * i).set(w);
            }
        }
        if let Some(b) = buf {
            for (i, &c) in caps.iter().enumerate() {
                PPtr::<u64>::sim(b + abi::ipc_buffer::offset::CAPS_OR_BADGES + 8 * i).set(c);
            }
        }
        t.set_reg(reg::A0, a0);
        t.set_reg(reg::A1, info.0);
        t.set_reg(reg::A7, sys as i64 as u64);
        let pc = t.reg(reg::PC);
        #[cfg(test)]
        let console = crate::user_error_tests::Watch::start();
        syscall_trap(&mut self.k);
        activate(&mut self.k);
        #[cfg(test)]
        console.check(t, sys);
        // As on seL4, WriteRegisters and CopyRegisters (with the frame) into the calling thread
        // itself set its pc to its restart pc (`setNextPC(dest, getRestartPC(dest))`, the
        // copied one if the frame was copied): the syscall runs again, or the thread goes on
        // where the source was. Every other syscall returns past the `ecall`.
        let own_frame_written = matches!(sys, Syscall::Call | Syscall::Send | Syscall::NBSend)
            && matches!(
                InvocationLabel::from_label(info.label()),
                Some(InvocationLabel::TCBWriteRegisters | InvocationLabel::TCBCopyRegisters)
            )
            && matches!(
                crate::cspace::lookup_cap_and_slot(t.slot(tcb_slot::CTABLE).raw(), a0),
                Ok((Cap::Thread { tcb }, _)) if tcb == t
            )
            && t.reg(reg::PC) != pc + 4;
        if own_frame_written {
            assert_eq!(
                t.reg(reg::PC),
                t.with(|x| x.fault_ip),
                "pc = the restart pc"
            );
        } else {
            assert_eq!(t.reg(reg::PC), pc + 4, "pc advanced past the ecall");
        }
        let mut out = [0u64; 6];
        for (i, o) in out.iter_mut().enumerate() {
            *o = match buf {
                _ if i < 4 => t.reg(reg::A2 + i),
                Some(b) => PPtr::<u64>::sim(b + 8 + 8 * i).get(),
                None => 0,
            };
        }
        Reply {
            info: MessageInfo(t.reg(reg::A1)),
            mrs: out,
        }
    }

    /// `seL4_Call` of invocation `label` on `cptr` with message registers and extra caps.
    pub fn call(&mut self, cptr: u64, label: InvocationLabel, mrs: &[u64], caps: &[u64]) -> Reply {
        let info = MessageInfo::new(label as u64, 0, caps.len() as u64, mrs.len() as u64);
        self.syscall(Syscall::Call, cptr, info, mrs, caps)
    }

    /// `seL4_DebugCapIdentify`.
    pub fn identify(&mut self, cptr: u64) -> u64 {
        let t = self.root;
        t.set_reg(reg::A0, cptr);
        t.set_reg(reg::A7, Syscall::DebugCapIdentify as i64 as u64);
        crate::entry::handle_trap(&mut self.k, crate::entry::Event::Syscall);
        t.reg(reg::A0)
    }

    /// `seL4_Untyped_Retype(ut, type, size, root CNode, 0, 0, offset, n)` into the root CNode.
    pub fn retype(&mut self, ut: u64, t: abi::ObjectType, size: u64, offset: u64, n: u64) -> Reply {
        self.call(
            ut,
            InvocationLabel::UntypedRetype,
            &[t as u64, size, 0, 0, offset, n],
            &[abi::bootinfo::slot::INIT_THREAD_CNODE],
        )
    }

    /// A CNode invocation on the root CNode with depth 64 addressing.
    pub fn cnode(&mut self, label: InvocationLabel, mrs: &[u64], caps: &[u64]) -> Reply {
        self.call(abi::bootinfo::slot::INIT_THREAD_CNODE, label, mrs, caps)
    }

    /// The first RAM untyped of at least 2^bits bytes: (slot, paddr, size bits).
    pub fn ram_untyped(&self, bits: u8) -> (u64, u64, u8) {
        let bi = self.bootinfo();
        let n = (bi.untyped.end - bi.untyped.start) as usize;
        bi.untyped_list[..n]
            .iter()
            .enumerate()
            .find(|(_, d)| d.is_device == 0 && d.size_bits >= bits)
            .map(|(i, d)| (bi.untyped.start + i as u64, d.paddr, d.size_bits))
            .expect("an untyped big enough")
    }
}

impl System {
    /// Retypes one object of type `t` (size `size`) into the first free slot at or after
    /// `slot`, from the first RAM untyped of 64 KiB or more; returns the slot.
    pub fn make(&mut self, t: abi::ObjectType, size: u64, slot: u64) -> u64 {
        let ut = self.make_from.unwrap_or_else(|| self.ram_untyped(20).0);
        let r = self.retype(ut, t, size, slot, 1);
        assert_eq!(r.info.label(), 0, "retype {t:?}: {r:?}");
        slot
    }

    /// A new thread sharing the root task's CSpace and VSpace, with its own IPC buffer frame
    /// (reached by the kernel through the frame cap, unmapped), at `prio`, made runnable.
    /// `slot` and `slot + 1` receive its TCB and buffer frame caps. MCS: it runs on a
    /// scheduling context of its own (round robin, the root thread's budget), whose cap is in
    /// slot [`Self::sc_slot_of`]`(slot)`, bound before the thread is resumed.
    pub fn spawn(&mut self, prio: u64, slot: u64) -> TcbRef {
        self.spawn_in(
            prio,
            slot,
            abi::bootinfo::slot::INIT_THREAD_CNODE,
            abi::bootinfo::slot::INIT_THREAD_VSPACE,
        )
    }

    /// [`Self::spawn`] with the CSpace root and VSpace root the caps in root CNode slots
    /// `cspace` and `vspace` (copied into the TCB).
    pub fn spawn_in(&mut self, prio: u64, slot: u64, cspace: u64, vspace: u64) -> TcbRef {
        use crate::object::tcb::tcb_slot;
        self.make(abi::ObjectType::Tcb, 0, slot);
        self.make(abi::ObjectType::SmallPage, 0, slot + 1);
        let Cap::Thread { tcb } = self.root_slot(slot).cap() else {
            panic!()
        };
        let t = tcb;
        let cnode = self.root_slot(cspace);
        crate::cte::cte_insert(cnode.cap(), cnode, t.slot(tcb_slot::CTABLE));
        let vs = self.root_slot(vspace);
        crate::cte::cte_insert(vs.cap(), vs, t.slot(tcb_slot::VTABLE));
        let buf = self.root_slot(slot + 1);
        crate::cte::cte_insert(buf.cap(), buf, t.slot(tcb_slot::BUFFER));
        t.with(|x| {
            x.priority = prio;
            x.mcp = prio;
            x.ipc_buffer = 0x7000_0000;
        });
        #[cfg(feature = "mcs")]
        {
            use crate::object::sched_context as sc;
            let sc_slot = Self::sc_slot_of(slot);
            self.make(
                abi::ObjectType::SchedContext,
                abi::object::MIN_SCHED_CONTEXT_BITS,
                sc_slot,
            );
            let Cap::SchedContext { ptr, .. } = self.root_slot(sc_slot).cap() else {
                panic!()
            };
            let budget = crate::arch::us_to_ticks(abi::config::BOOT_THREAD_TIME_SLICE * 1000);
            sc::refill_new(ptr, sc::MIN_REFILLS, budget, 0, self.k.cur_time);
            sc::bind_tcb(&mut self.k, ptr, t);
        }
        crate::object::tcb_ops::restart(&mut self.k, t);
        t
    }

    /// MCS: the root CNode slot of the scheduling context [`Self::spawn`] gives the thread
    /// whose TCB cap is in `slot` (from the top of the CNode down, away from the slots tests
    /// use).
    #[cfg(feature = "mcs")]
    pub fn sc_slot_of(slot: u64) -> u64 {
        (1 << abi::config::ROOT_CNODE_SIZE_BITS) - 1 - slot
    }

    /// Runs the scheduler as the kernel does on exit; returns the thread that runs next
    /// (`None`: idle).
    pub fn schedule(&mut self) -> Option<TcbRef> {
        activate(&mut self.k).map(|_| self.k.cur_thread)
    }

    /// Makes `t` the running thread (as if the scheduler had picked it).
    pub fn run_as(&mut self, t: TcbRef) {
        // A thread chosen but not yet switched to (`SwitchToThread`, e.g. after a `restart`
        // outside a syscall) goes back to its ready queue rather than being forgotten.
        if let crate::sched::SchedulerAction::SwitchToThread(_) = self.k.sched.action {
            crate::sched::reschedule_required(&mut self.k);
        }
        crate::sched::sched_dequeue(&mut self.k, t);
        let cur = self.k.cur_thread;
        if crate::sched::is_schedulable(cur) && cur != t {
            crate::sched::sched_enqueue(&mut self.k, cur);
        }
        self.k.set_cur_thread(t);
        self.k.sched.action = crate::sched::SchedulerAction::ResumeCurrentThread;
        let _ = activate(&mut self.k);
    }

    /// Kernel-virtual address of `t`'s IPC buffer.
    pub fn buffer_of(&self, t: TcbRef) -> usize {
        crate::state::ipc_buffer_pptr(t, false)
            .expect("thread has an IPC buffer")
            .addr()
    }

    /// Performs syscall `sys` as the current thread, with MRs and extra cap CPtrs written to its
    /// registers and IPC buffer; returns the thread's a0 (badge), a1 (info) and MR0..MR5 after
    /// the kernel ran the scheduler.
    pub fn sys(
        &mut self,
        sys: Syscall,
        a0: u64,
        info: MessageInfo,
        mrs: &[u64],
        caps: &[u64],
    ) -> (TcbRef, Reply) {
        let t = self.k.cur_thread;
        let buf = crate::state::ipc_buffer_pptr(t, false);
        for (i, &w) in mrs.iter().enumerate() {
            crate::state::set_mr(t, buf, i, w);
        }
        if let Some(b) = buf {
            for (i, &c) in caps.iter().enumerate() {
                b.set_word(abi::ipc_buffer::offset::CAPS_OR_BADGES + 8 * i, c);
            }
        }
        t.set_reg(reg::A0, a0);
        t.set_reg(reg::A1, info.0);
        t.set_reg(reg::A7, sys as i64 as u64);
        #[cfg(test)]
        let console = crate::user_error_tests::Watch::start();
        syscall_trap(&mut self.k);
        let _ = self.schedule();
        #[cfg(test)]
        console.check(t, sys);
        (t, Self::regs_of(t))
    }

    /// The badge/info registers and MR0..MR5 of `t` (MR4, MR5 from its IPC buffer if any).
    pub fn regs_of(t: TcbRef) -> Reply {
        let buf = crate::state::ipc_buffer_pptr(t, true);
        let mut mrs = [0u64; 6];
        for (i, m) in mrs.iter_mut().enumerate() {
            *m = crate::state::get_mr(t, buf, i);
        }
        Reply {
            info: MessageInfo(t.reg(reg::A1)),
            mrs,
        }
    }
}

/// A property test configuration of `cases` cases with a fixed seed, so that a property
/// checks the same cases on every run (and in CI); `PROPTEST_RNG_SEED=<n>` picks other ones.
///
/// Under Miri (`cargo xtask miri`), which interprets every step, `MIRI_CASES` cases and no
/// failure file (Miri isolates the test from the file system).
#[cfg(test)]
pub fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    #[cfg(miri)]
    let cases = cases.min(MIRI_CASES);
    let mut c = proptest::test_runner::Config {
        cases,
        #[cfg(miri)]
        failure_persistence: None,
        ..Default::default()
    };
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        c.rng_seed = proptest::test_runner::RngSeed::Fixed(0x5e14_f022);
    }
    c
}

/// The cases each property of [`proptest_config`] checks under Miri.
#[cfg(all(test, miri))]
pub const MIRI_CASES: u32 = 4;

/// The registers that the riscv64 syscall exit does not load when it resumes the thread that
/// trapped ([`crate::entry::resumes_unchanged`]; `arch::riscv64::machine::trap`): `gp`, `tp`
/// and `s0`..`s11`, which the kernel's code keeps in the CPU.
pub const KEPT_ON_RESUME: [usize; 14] = [3, 4, 8, 9, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27];

/// [`crate::entry::activate`], the kernel's exit; MCS: checking that `schedule` left nothing
/// to do for a next `schedule` (`sched::mcs::settled`), which holds at every kernel entry.
pub fn activate(k: &mut Kernel) -> Option<*mut crate::arch::ArchContext> {
    let r = crate::entry::activate(k);
    #[cfg(feature = "mcs")]
    assert!(
        crate::sched::mcs::settled(k),
        "schedule left work for the next schedule"
    );
    r
}

/// [`crate::entry::handle_trap`] of a syscall of the current thread (its registers set up),
/// checking the machine's partial exit: if the kernel would resume the thread without
/// loading [`KEPT_ON_RESUME`] from its context (the syscall's full path ran and
/// [`crate::entry::resumes_unchanged`] holds), the thread must still be the current one and
/// those saved registers must be as before the syscall; otherwise it would resume with
/// other values than its context says (e.g. after CopyRegisters onto itself).
pub fn syscall_trap(k: &mut Kernel) -> crate::entry::Handled {
    let t = k.cur_thread;
    let before = KEPT_ON_RESUME.map(|r| t.reg(r));
    // MCS: a fastpath that starts with nothing left for `schedule` leaves nothing (what
    // lets the benchmark null syscall return without `schedule` on the machine, see
    // `sched::mcs::settled`; every other exit runs `schedule`, checked in `activate`).
    #[cfg(feature = "mcs")]
    let settled_before = crate::sched::mcs::settled(k);
    let handled = crate::entry::handle_trap(k, crate::entry::Event::Syscall);
    #[cfg(feature = "mcs")]
    assert!(
        handled == crate::entry::Handled::Full || !settled_before || crate::sched::mcs::settled(k),
        "the fastpath left work for schedule"
    );
    #[cfg(not(feature = "mcs"))]
    if handled == crate::entry::Handled::Full && crate::entry::resumes_unchanged(k) {
        assert!(k.cur_thread == t, "the partial exit resumes another thread");
        assert_eq!(
            KEPT_ON_RESUME.map(|r| t.reg(r)),
            before,
            "the partial exit would resume the thread with stale gp, tp, s0..s11"
        );
    }
    let _ = before;
    handled
}
