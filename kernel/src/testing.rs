//! Host test fixture: a simulated machine booted with a tiny root task, and helpers to invoke
//! capabilities through the real syscall path (registers, IPC buffer, reply).

use crate::arch::riscv64::context::reg;
use crate::boot::{create_root_task, BootParams, Region};
use crate::cap::Cap;
use crate::cte::Slot;
use crate::mem::sim::SimMemory;
use crate::mem::PPtr;
use crate::object::tcb::TcbRef;
use crate::state::Kernel;
use abi::bootinfo::BootInfo;
use abi::{InvocationLabel, MessageInfo, Syscall};

/// Simulated RAM: 64 MiB at 0x8000_0000.
pub const RAM_BASE: u64 = 0x8000_0000;
/// log2 of the simulated RAM size.
pub const RAM_BITS: u32 = 26;
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

impl System {
    /// Boots the simulated machine with the tiny root task.
    pub fn boot() -> System {
        let mem = SimMemory::new(RAM_BASE, RAM_BITS);
        let elf = tiny_elf();
        crate::mem::copy(crate::arch::paddr_to_pptr(INITRD), elf.as_ptr() as usize, elf.len());
        let dtb: Vec<u8> = (0..DTB_LEN).map(|i| i as u8).collect();
        crate::mem::copy(crate::arch::paddr_to_pptr(DTB), dtb.as_ptr() as usize, dtb.len());
        let mut p = BootParams::default();
        p.ram.push(Region::new(RAM_BASE, RAM_BASE + (1 << RAM_BITS))).unwrap();
        p.reserved.push(Region::new(RAM_BASE, RAM_BASE + 0x20_0000)).unwrap();
        p.kernel_image = Region::new(RAM_BASE + 0x20_0000, RAM_BASE + 0x40_0000);
        p.initrd = Region::new(INITRD, INITRD + elf.len() as u64);
        p.dtb = Region::new(DTB, DTB + DTB_LEN as u64);
        p.kernel_devices.push(Region::new(0x0c00_0000, 0x1000_0000)).unwrap();
        let mut k = Kernel::new();
        let root = create_root_task(&mut k, &p).expect("boot");
        System { mem, k, root }
    }

    /// The root task's BootInfo.
    pub fn bootinfo(&self) -> BootInfo {
        let bi_vptr = self.root.reg(reg::A0);
        PPtr::<BootInfo>::new(self.user_to_pptr(bi_vptr)).get()
    }

    /// Kernel-virtual address of a root-task virtual address (walks its page tables).
    pub fn user_to_pptr(&self, vaddr: u64) -> usize {
        let Cap::PageTable { base, .. } = self.root_slot(abi::bootinfo::slot::INIT_THREAD_VSPACE).cap() else {
            panic!("no vspace")
        };
        let w = crate::arch::riscv64::vspace::lookup_pt_slot(base, vaddr);
        let pte = w.slot.get();
        assert!(pte.valid() && pte.is_leaf(), "{vaddr:#x} not mapped");
        crate::arch::paddr_to_pptr(pte.paddr()) + (vaddr & 0xfff) as usize
    }

    /// Slot `i` of the root CNode.
    pub fn root_slot(&self, i: u64) -> Slot {
        let Cap::CNode { ptr, .. } = self.root.slot(crate::object::tcb::tcb_slot::CTABLE).cap() else {
            panic!("no cspace")
        };
        Slot::at(ptr).add(i as usize)
    }

    fn ipc_buffer(&self) -> usize {
        self.user_to_pptr(self.root.with(|t| t.ipc_buffer))
    }

    /// Performs syscall `sys` as the root task with the given registers; returns a0, a1.
    pub fn syscall(&mut self, sys: Syscall, a0: u64, info: MessageInfo, mrs: &[u64], caps: &[u64]) -> Reply {
        let t = self.root;
        let buf = self.ipc_buffer();
        for (i, &w) in mrs.iter().enumerate() {
            if i < 4 {
                t.set_reg(reg::A2 + i, w);
            } else {
                PPtr::<u64>::new(buf + 8 + 8 * i).set(w);
            }
        }
        for (i, &c) in caps.iter().enumerate() {
            PPtr::<u64>::new(buf + abi::ipc_buffer::offset::CAPS_OR_BADGES + 8 * i).set(c);
        }
        t.set_reg(reg::A0, a0);
        t.set_reg(reg::A1, info.0);
        t.set_reg(reg::A7, sys as i64 as u64);
        let pc = t.reg(reg::PC);
        crate::entry::handle_trap(&mut self.k, crate::entry::CAUSE_USER_ECALL, 0);
        crate::entry::activate(&mut self.k);
        assert_eq!(t.reg(reg::PC), pc + 4, "pc advanced past the ecall");
        let mut out = [0u64; 6];
        for (i, o) in out.iter_mut().enumerate() {
            *o = if i < 4 { t.reg(reg::A2 + i) } else { PPtr::<u64>::new(buf + 8 + 8 * i).get() };
        }
        Reply { info: MessageInfo(t.reg(reg::A1)), mrs: out }
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
        crate::entry::handle_trap(&mut self.k, crate::entry::CAUSE_USER_ECALL, 0);
        t.reg(reg::A0)
    }

    /// `seL4_Untyped_Retype(ut, type, size, root CNode, 0, 0, offset, n)` into the root CNode.
    pub fn retype(&mut self, ut: u64, t: abi::ObjectType, size: u64, offset: u64, n: u64) -> Reply {
        self.call(ut, InvocationLabel::UntypedRetype, &[t as u64, size, 0, 0, offset, n], &[abi::bootinfo::slot::INIT_THREAD_CNODE])
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
