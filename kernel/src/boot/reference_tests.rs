//! Boot state against seL4's: the untyped list, the slots and the BootInfo fields.
//!
//! Two kinds of reference:
//! - **seL4's own output**: seL4 16.0.0 booted by seL4_tools' elfloader on QEMU virt with
//!   3 GiB, sel4test's driver as the root task, printed its BootInfo (sel4test prints the
//!   untyped list). The elfloader's placement and seL4's kernel image are the inputs
//!   ([`Placement::SEL4TEST`], [`Placement::SEL4TEST_MCS`]); the kernel, booted on the
//!   simulated machine with the same inputs, must print the same. Likewise seL4 16.0.0 with
//!   2 GiB entered by rust-sel4's `sel4-kernel-loader`, which puts the root task at the top of
//!   RAM ([`Placement::RUST_SEL4`], [`Placement::RUST_SEL4_MCS`]; docs/RUST-SEL4.md).
//! - **a model**: [`model`] computes seL4's list from the same inputs with plain interval
//!   arithmetic, written without the kernel's code (seL4's algorithm restated: device memory
//!   is what no RAM, kernel device frame or reserved region covers; RAM untypeds are the
//!   kernel's boot part, then the free RAM in address order with the root task's objects cut
//!   out of the top of the highest region that holds them). It agrees with seL4's output for
//!   the two boots above, and a property test holds the kernel to it for arbitrary placements.

use super::*;
use crate::mem::sim::SimMemory;
use proptest::prelude::*;

/// The architecture (and platform) a placement is on: its [`BootRules`] for the kernel's
/// plan; the model states its own facts ([`model`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Isa {
    /// riscv64 on `qemu-riscv-virt`.
    Riscv64,
    /// aarch64 on `qemu-arm-virt`.
    Aarch64,
}

impl Isa {
    /// The kernel's rules for it.
    fn rules(self) -> BootRules {
        match self {
            Isa::Riscv64 => crate::arch::riscv64::boot::BOOT_RULES,
            Isa::Aarch64 => crate::arch::aarch64::BOOT_RULES,
        }
    }
}

/// What a loader hands over and what the machine and the kernel image are.
#[derive(Clone, Copy, Debug)]
struct Placement {
    /// The architecture.
    isa: Isa,
    /// RAM (one region, as QEMU virt has).
    ram: Region,
    /// `physBase`: RAM below it is the firmware's.
    kernel_image: Region,
    /// `[kernel_image.start, ki_boot_end)`.
    kernel_boot: Region,
    /// The device tree (exact bytes).
    dtb: Region,
    /// The user image and its virtual start.
    ui: Region,
    ui_vstart: u64,
    /// The kernel's devices as the device tree lists them (riscv64: CLINT, PLIC; aarch64: the
    /// GIC distributor's and CPU interface's first pages).
    kernel_devices: [Region; 2],
}

/// QEMU virt's CLINT and PLIC.
const QEMU_VIRT_DEVICES: [Region; 2] = [
    Region::new(0x0200_0000, 0x0201_0000),
    Region::new(0x0c00_0000, 0x0c60_0000),
];
/// QEMU virt's RAM with `-m 3G`.
const RAM_3G: Region = Region::new(0x8000_0000, 0x1_4000_0000);
/// QEMU virt's RAM with `-m 2G` (seL4's `qemu-riscv-virt` with `QEMU_MEMORY` 2048).
#[cfg(not(feature = "root_cnode_size_bits_17"))]
const RAM_2G: Region = Region::new(0x8000_0000, 0x1_0000_0000);

impl Placement {
    /// seL4 16.0.0's sel4test boot, non-MCS (`sel4test-mcs-off-sel4.log`): kernel image
    /// 0x8020_0000..`ki_end` 0x8022_1000 with `ki_boot_end` 0x8020_3000, the elfloader's build
    /// device tree (5195 bytes) after it, sel4test's driver (vaddr 0x1_0000..0x40_6000) after
    /// that.
    #[cfg(not(any(feature = "mcs", feature = "root_cnode_size_bits_17")))]
    const SEL4TEST: Placement = Placement {
        isa: Isa::Riscv64,
        ram: RAM_3G,
        kernel_image: Region::new(0x8020_0000, 0x8022_1000),
        kernel_boot: Region::new(0x8020_0000, 0x8020_3000),
        dtb: Region::new(0x8022_1000, 0x8022_244b),
        ui: Region::new(0x8022_3000, 0x8061_9000),
        ui_vstart: 0x1_0000,
        kernel_devices: QEMU_VIRT_DEVICES,
    };
    /// seL4 16.0.0's sel4test boot, MCS (`sel4test-mcs-on-sel4.log`): `ki_end` 0x8022_8000,
    /// the driver at vaddr 0x1_0000..0x43_6000.
    /// seL4 16.0.0 (`qemu-riscv-virt`, 2 GiB, non-MCS, debug) entered by rust-sel4 v5.0.0's
    /// `sel4-kernel-loader` with a small root task (its BootInfo printed by a root task built
    /// for that: 23 pages at vaddr 0x1_0000): the root task at the top of RAM
    /// (`ui_p_reg_start` 0xfffe_9000, `pv_offset` 0xfffd_9000), the build's device tree
    /// (5195 bytes) in the pages below it.
    #[cfg(not(feature = "root_cnode_size_bits_17"))]
    const RUST_SEL4: Placement = Placement {
        isa: Isa::Riscv64,
        ram: RAM_2G,
        kernel_image: Region::new(0x8020_0000, 0x8022_1000),
        kernel_boot: Region::new(0x8020_0000, 0x8020_3000),
        dtb: Region::new(0xfffe_7000, 0xfffe_844b),
        ui: Region::new(0xfffe_9000, 0x1_0000_0000),
        ui_vstart: 0x1_0000,
        kernel_devices: QEMU_VIRT_DEVICES,
    };
    /// The same with seL4's MCS build (`ki_end` 0x8022_9000) and the root task built for it
    /// (same size and place).
    #[cfg(all(feature = "mcs", not(feature = "root_cnode_size_bits_17")))]
    const RUST_SEL4_MCS: Placement = Placement {
        kernel_image: Region::new(0x8020_0000, 0x8022_9000),
        ..Placement::RUST_SEL4
    };
    #[cfg(all(feature = "mcs", not(feature = "root_cnode_size_bits_17")))]
    const SEL4TEST_MCS: Placement = Placement {
        isa: Isa::Riscv64,
        ram: RAM_3G,
        kernel_image: Region::new(0x8020_0000, 0x8022_8000),
        kernel_boot: Region::new(0x8020_0000, 0x8020_3000),
        dtb: Region::new(0x8022_8000, 0x8022_944b),
        ui: Region::new(0x8022_a000, 0x8065_0000),
        ui_vstart: 0x1_0000,
        kernel_devices: QEMU_VIRT_DEVICES,
    };

    /// A small boot on QEMU virt with 3 GiB: a 192 KiB kernel image (12 KiB of boot code), a
    /// device tree after it, a 228 KiB user image at vaddr 0x40_0000 after that.
    const SMALL: Placement = Placement {
        isa: Isa::Riscv64,
        ram: RAM_3G,
        kernel_image: Region::new(0x8020_0000, 0x8023_0000),
        kernel_boot: Region::new(0x8020_0000, 0x8020_3000),
        dtb: Region::new(0x8023_0000, 0x8023_17f0),
        ui: Region::new(0x8023_2000, 0x8026_b000),
        ui_vstart: 0x40_0000,
        kernel_devices: QEMU_VIRT_DEVICES,
    };

    fn params(&self) -> BootParams {
        let mut p = BootParams::default();
        p.ram.push(self.ram).unwrap();
        for d in self.kernel_devices {
            p.kernel_devices.push(d).unwrap();
        }
        p.kernel_image = self.kernel_image;
        p.kernel_boot = self.kernel_boot;
        p.dtb = self.dtb;
        p.user_image = UserImage {
            p_reg: self.ui,
            pv_offset: self.ui.start.wrapping_sub(self.ui_vstart),
            v_entry: self.ui_vstart,
        };
        p
    }
}

/// The untyped list in seL4's `(paddr, size_bits, is_device)` form.
type List = Vec<(u64, u8, bool)>;

/// The kernel's list for `p`, from its memory plan alone (nothing created), by the rules of
/// `p`'s architecture (as `create_untypeds` makes it).
fn kernel_list(p: &Placement) -> List {
    let params = p.params();
    let rules = p.isa.rules();
    let mem = plan_memory_with(&params, &rules).expect("plan");
    let mut l = List::new();
    for (r, dev) in mem.untyped_regions(rules.device_top, params.kernel_boot) {
        split_untypeds_to(r.start, r.end, rules.max_untyped_bits, |a, b| {
            l.push((a, b as u8, dev))
        });
    }
    l.truncate(MAX_NUM_BOOTINFO_UNTYPED_CAPS);
    l
}

/// The slots and BootInfo fields the kernel's boot gives the root task for `p`, from the
/// kernel's own pieces without creating anything (the root task's layout, the architecture's
/// page-table count, the untyped list of [`kernel_list`]) in the order `create_root_task` fills
/// the root CNode: page tables, extra BootInfo frames, (MCS) SchedControl, image frames,
/// untypeds. For aarch64, whose objects the host cannot create, this is what the host checks;
/// for riscv64 [`kernel_boot`] boots the whole kernel and must agree with it.
fn kernel_slots(p: &Placement) -> Slots {
    let params = p.params();
    let rules = p.isa.rules();
    let layout = Layout::new(&params.user_image, params.dtb.size(), &rules).expect("layout");
    let first = slot::NUM_INITIAL_CAPS;
    let paging = rules.root_paging_tables(layout.it_v_reg.start, layout.it_v_reg.end);
    let paging = (first, first + paging);
    let extra = (paging.1, paging.1 + layout.extra_len.div_ceil(PAGE));
    let sched_control = if cfg!(feature = "mcs") { 1 } else { 0 };
    let frames_start = extra.1 + sched_control;
    let frames = (
        frames_start,
        frames_start + params.user_image.p_reg.size() / PAGE,
    );
    let untyped = (frames.1, frames.1 + kernel_list(p).len() as u64);
    Slots {
        ipc_buffer: layout.ipc_buf,
        user_image_paging: paging,
        extra_bi_pages: extra,
        user_image_frames: frames,
        untyped,
        empty: (untyped.1, 1 << ROOT_CNODE_SIZE_BITS),
        extra_len: layout.extra_len,
    }
}

/// The slots and BootInfo seL4 gives the root task for `p` (the parts that do not depend on
/// where the objects are).
#[derive(Debug, PartialEq, Eq)]
struct Slots {
    ipc_buffer: u64,
    user_image_paging: (u64, u64),
    extra_bi_pages: (u64, u64),
    user_image_frames: (u64, u64),
    untyped: (u64, u64),
    empty: (u64, u64),
    extra_len: u64,
}

/// seL4's boot restated as interval arithmetic (see the module doc).
mod model {
    use super::*;

    /// What differs between the architectures, as seL4 16.0.0 states it (written down here
    /// again, not taken from the kernel's constants).
    struct Facts {
        /// log2 of the frames seL4 maps each kernel device with (riscv `map_kernel_devices`:
        /// megapages; arm: 4 KiB pages).
        device_frame_bits: u32,
        /// The RAM starts at the kernel image (riscv64: `physBase`, OpenSBI below it) rather
        /// than at the device tree's memory (arm: `physBase` is the start of RAM).
        ram_from_kernel: bool,
        /// `CONFIG_PADDR_USER_DEVICE_TOP`.
        device_top: u64,
        /// `seL4_MaxUntypedBits`.
        max_bits: u32,
        /// The bits each level of page tables below the VSpace root spans (`arch_get_n_paging`:
        /// Sv39's level-1 and level-0 tables; aarch64's level 1, 2 and 3 ones).
        table_spans: &'static [u32],
    }

    fn facts(isa: Isa) -> Facts {
        match isa {
            Isa::Riscv64 => Facts {
                device_frame_bits: 21,
                ram_from_kernel: true,
                device_top: 1 << 39,
                max_bits: 38,
                table_spans: &[30, 21],
            },
            Isa::Aarch64 => Facts {
                device_frame_bits: 12,
                ram_from_kernel: false,
                device_top: 1 << 40,
                max_bits: 47,
                table_spans: &[39, 30, 21],
            },
        }
    }

    /// The page tables below the root that map `[v_start, v_end)`.
    fn tables(isa: Isa, v_start: u64, v_end: u64) -> u64 {
        facts(isa)
            .table_spans
            .iter()
            .map(|&b| ((v_end - 1) >> b) - (v_start >> b) + 1)
            .sum()
    }

    /// Sorted, merged union of intervals.
    fn union(mut v: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
        v.retain(|r| r.0 < r.1);
        v.sort();
        let mut out: Vec<(u64, u64)> = Vec::new();
        for r in v {
            match out.last_mut() {
                Some(l) if r.0 <= l.1 => l.1 = l.1.max(r.1),
                _ => out.push(r),
            }
        }
        out
    }

    /// `[lo, hi)` less the union `cover`, in address order.
    fn complement(lo: u64, hi: u64, cover: &[(u64, u64)]) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let mut at = lo;
        for &(a, b) in cover {
            if a > at {
                out.push((at, a.min(hi)));
            }
            at = at.max(b);
        }
        if at < hi {
            out.push((at, hi));
        }
        out
    }

    /// Aligned power-of-two blocks of `[a, b)`, at most 2^`max`, at least 2^4 bytes kept.
    fn blocks(mut a: u64, b: u64, max: u32, device: bool, out: &mut List) {
        while a < b {
            let mut k = 0u32;
            while k < max
                && (a == 0 || a.is_multiple_of(1u64 << (k + 1)))
                && (1u64 << (k + 1)) <= b - a
            {
                k += 1;
            }
            if k >= 4 {
                out.push((a, k as u8, device));
            }
            a += 1 << k;
        }
    }

    /// The root task's objects in bytes, and their alignment (log2): root CNode, TCB, IPC
    /// buffer, BootInfo, ASID pool, extra BootInfo, VSpace, page tables, MCS SchedContext.
    pub fn rootserver(p: &Placement) -> (u64, u32) {
        let (v_start, v_end, extra_bits) = it_v_reg(p);
        let tables = tables(p.isa, v_start, v_end);
        let mcs_sc = if cfg!(feature = "mcs") { 128 } else { 0 };
        let extra = if extra_bits > 0 { 1 << extra_bits } else { 0 };
        // The root CNode: 2^CONFIG_ROOT_CNODE_SIZE_BITS slots of 32 bytes.
        let cnode_bits = ROOT_CNODE_SIZE_BITS as u32 + 5;
        let bytes = (1 << cnode_bits) + 2048 + 4096 * 3 + extra + 4096 + tables * 4096 + mcs_sc;
        (bytes, cnode_bits.max(extra_bits))
    }

    /// The root task's virtual region and the extra BootInfo's size (log2, 0 for none).
    pub fn it_v_reg(p: &Placement) -> (u64, u64, u32) {
        let extra_len = 16 + p.dtb.size();
        let mut bits = 12;
        while (1u64 << bits) < extra_len {
            bits += 1;
        }
        let v_end_image = p.ui_vstart + p.ui.size();
        (p.ui_vstart, v_end_image + 2 * 4096 + (1 << bits), bits)
    }

    /// seL4's untyped list for `p`.
    pub fn untypeds(p: &Placement) -> List {
        let f = facts(p.isa);
        let m = (1u64 << f.device_frame_bits) - 1;
        let frames: Vec<(u64, u64)> = p
            .kernel_devices
            .iter()
            .map(|d| (d.start & !m, (d.end + m) & !m))
            .collect();
        let ram_start = if f.ram_from_kernel {
            p.kernel_image.start
        } else {
            p.ram.start
        };
        let avail = (ram_start, p.ram.end);
        let reserved = [
            (p.kernel_image.start, p.kernel_image.end),
            (p.dtb.start, p.dtb.end),
            (p.ui.start, p.ui.end),
        ];
        let mut cover = frames.clone();
        cover.push(avail);
        cover.extend(reserved);
        let cover = union(cover);
        let mut l = List::new();
        for (a, b) in complement(0, f.device_top, &cover) {
            blocks(a, b, f.max_bits, true, &mut l);
        }
        blocks(
            p.kernel_boot.start,
            p.kernel_boot.end,
            f.max_bits,
            false,
            &mut l,
        );
        let mut free = complement(avail.0, avail.1, &union(reserved.to_vec()));
        let (size, align) = rootserver(p);
        let i = (0..free.len())
            .rev()
            .find(|&i| {
                let (a, b) = free[i];
                b >= size && ((b - size) & !((1 << align) - 1)) >= a
            })
            .expect("room for the root task's objects");
        let (a, b) = free[i];
        let at = (b - size) & !((1 << align) - 1);
        free.splice(i..=i, [(a, at), (at + size, b)]);
        for (a, b) in free {
            blocks(a, b, f.max_bits, false, &mut l);
        }
        l.truncate(230);
        l
    }

    /// seL4's slots for `p`.
    pub fn slots(p: &Placement) -> Slots {
        let (v_start, v_end, _) = it_v_reg(p);
        let tables = tables(p.isa, v_start, v_end);
        let extra_len = 16 + p.dtb.size();
        let paging = (16, 16 + tables);
        let extra = (paging.1, paging.1 + extra_len.div_ceil(4096));
        let sched_control = if cfg!(feature = "mcs") { 1 } else { 0 };
        let frames_start = extra.1 + sched_control;
        let frames = (frames_start, frames_start + p.ui.size() / 4096);
        let n = untypeds(p).len() as u64;
        let untyped = (frames.1, frames.1 + n);
        Slots {
            ipc_buffer: p.ui_vstart + p.ui.size(),
            user_image_paging: paging,
            extra_bi_pages: extra,
            user_image_frames: frames,
            untyped,
            empty: (untyped.1, 1 << ROOT_CNODE_SIZE_BITS),
            extra_len,
        }
    }
}

/// Boots the whole kernel on a simulated machine with `p`'s placement (RAM from 0x8000_0000,
/// up to 4 GiB; the user image's pages hold nothing, the device tree fake bytes) and returns
/// the root task's BootInfo.
fn boot(p: &Placement) -> BootInfo {
    let _mem = SimMemory::new(0x8000_0000, 32);
    let mut params = p.params();
    let dtb: Vec<u8> = (0..p.dtb.size()).map(|i| i as u8).collect();
    crate::mem::Booting::sim().copy_in(paddr_to_pptr(p.dtb.start), &dtb);
    let irq_node = IrqNode::new();
    params.irq_node = irq_node.pptr();
    let root = create(&params).expect("boot");
    assert_eq!(
        root.reg(crate::arch::regs::CAP),
        p.ui_vstart + p.ui.size() + 4096
    );
    root_bootinfo(root)
}

/// Memory for the IRQ node (seL4 `intStateIRQNode`) on the host heap, with room to align it.
struct IrqNode(Vec<u8>);

impl IrqNode {
    fn new() -> Self {
        IrqNode(vec![0u8; 2 * IRQ_NODE_BYTES])
    }
    /// The node: the first `IRQ_NODE_BYTES`-aligned address in the buffer.
    fn pptr<T>(&self) -> crate::mem::PPtr<T> {
        crate::mem::PPtr::sim((self.0.as_ptr() as usize).next_multiple_of(IRQ_NODE_BYTES))
    }
}

/// `create_root_task` on a fresh kernel with the hand-off `params` (whose IRQ node is set).
fn create(params: &BootParams) -> Result<TcbRef, BootError> {
    let mut k = Kernel::new();
    let boot = crate::mem::Booting::sim();
    create_root_task(&boot, &mut k, params, crate::arch::PADDR_TOP)
}

/// The BootInfo of the root task `root`, read from the frame in its root CNode's
/// `seL4_CapBootInfoFrame` slot.
fn root_bootinfo(root: TcbRef) -> BootInfo {
    let Cap::CNode { ptr, .. } = root.slot(tcb_slot::CTABLE).cap() else {
        panic!("no root CNode")
    };
    let Cap::Arch(crate::arch::ArchCap::Frame { base, .. }) =
        Slot(ptr).index(63, slot::BOOT_INFO_FRAME as usize).cap()
    else {
        panic!("no BootInfo frame")
    };
    crate::mem::PPtr::<BootInfo>::sim(base.addr()).get()
}

/// BootInfo's untyped list in [`List`] form.
fn untyped_list(bi: &BootInfo) -> List {
    let n = (bi.untyped.end - bi.untyped.start) as usize;
    bi.untyped_list[..n]
        .iter()
        .map(|d| (d.paddr, d.size_bits, d.is_device != 0))
        .collect()
}

fn region(r: SlotRegion) -> (u64, u64) {
    (r.start, r.end)
}

/// The kernel's BootInfo in [`Slots`] form, and its untyped list.
fn kernel_boot(p: &Placement) -> (Slots, List) {
    let bi = boot(p);
    let list = untyped_list(&bi);
    assert_eq!((bi.node_id, bi.num_nodes, bi.num_iopt_levels), (0, 1, 0));
    assert_eq!(bi.shared_frames, SlotRegion::default());
    assert_eq!(bi.io_space_caps, SlotRegion::default());
    assert_eq!(
        (bi.init_thread_cnode_size_bits, bi.init_thread_domain),
        (ROOT_CNODE_SIZE_BITS as u64, 0)
    );
    #[cfg(feature = "mcs")]
    assert_eq!(
        bi.schedcontrol,
        SlotRegion {
            start: bi.extra_bi_pages.end,
            end: bi.extra_bi_pages.end + 1
        }
    );
    let slots = Slots {
        ipc_buffer: bi.ipc_buffer,
        user_image_paging: region(bi.user_image_paging),
        extra_bi_pages: region(bi.extra_bi_pages),
        user_image_frames: region(bi.user_image_frames),
        untyped: region(bi.untyped),
        empty: region(bi.empty),
        extra_len: bi.extra_len,
    };
    (slots, list)
}

/// Holds the model, the kernel's memory plan and the kernel's boot with placement `p` to
/// seL4's output: its untyped list `sel4_list` (`len` untypeds) and its BootInfo's slots.
#[cfg(not(feature = "root_cnode_size_bits_17"))]
fn boot_is_sel4s(p: &Placement, sel4_list_text: &str, len: usize, sel4_slots: Slots) {
    let sel4 = sel4_list(sel4_list_text);
    assert_eq!(sel4.len(), len);
    assert_eq!(model::untypeds(p), sel4, "the model");
    assert_eq!(model::slots(p), sel4_slots, "the model");
    assert_eq!(kernel_list(p), sel4, "the kernel's memory plan");
    assert_eq!(kernel_slots(p), sel4_slots, "the kernel's slots");
    let (slots, list) = kernel_boot(p);
    assert_eq!(list, sel4, "the kernel's BootInfo");
    assert_eq!(slots, sel4_slots);
}

/// seL4's untyped list of a sel4test boot, from its log (a 2^13-slot root CNode).
#[cfg(not(feature = "root_cnode_size_bits_17"))]
fn sel4_list(s: &str) -> List {
    s.split_whitespace()
        .map(|e| {
            let f: Vec<&str> = e.split(',').collect();
            let a = u64::from_str_radix(f[0].trim_start_matches("0x"), 16).unwrap();
            (a, f[1].parse().unwrap(), f[2] == "1")
        })
        .collect()
}

#[cfg(not(any(feature = "mcs", feature = "root_cnode_size_bits_17")))]
const SEL4TEST_LIST: &str = "0,25,1 0x2200000,21,1 0x2400000,22,1 0x2800000,23,1 0x3000000,24,1 \
    0x4000000,26,1 0x8000000,26,1 0xc600000,21,1 0xc800000,23,1 0xd000000,24,1 0xe000000,25,1 \
    0x10000000,28,1 0x20000000,29,1 0x40000000,30,1 0x80000000,21,1 0x140000000,30,1 \
    0x180000000,31,1 0x200000000,33,1 0x400000000,34,1 0x800000000,35,1 0x1000000000,36,1 \
    0x2000000000,37,1 0x4000000000,38,1 0x80200000,13,0 0x80202000,12,0 0x80222450,4,0 \
    0x80222460,5,0 0x80222480,7,0 0x80222500,8,0 0x80222600,9,0 0x80222800,11,0 \
    0x80619000,12,0 0x8061a000,13,0 0x8061c000,14,0 0x80620000,17,0 0x80640000,18,0 \
    0x80680000,19,0 0x80700000,20,0 0x80800000,23,0 0x81000000,24,0 0x82000000,25,0 \
    0x84000000,26,0 0x88000000,27,0 0x90000000,28,0 0xa0000000,29,0 0xc0000000,30,0 \
    0x100000000,29,0 0x120000000,28,0 0x130000000,27,0 0x138000000,26,0 0x13c000000,25,0 \
    0x13e000000,24,0 0x13f000000,23,0 0x13f800000,22,0 0x13fc00000,21,0 0x13fe00000,20,0 \
    0x13ff00000,19,0 0x13ffca800,11,0 0x13ffcb000,12,0 0x13ffcc000,14,0 0x13ffd0000,16,0 \
    0x13ffe0000,17,0";

#[cfg(all(feature = "mcs", not(feature = "root_cnode_size_bits_17")))]
const SEL4TEST_MCS_LIST: &str = "0,25,1 0x2200000,21,1 0x2400000,22,1 0x2800000,23,1 \
    0x3000000,24,1 0x4000000,26,1 0x8000000,26,1 0xc600000,21,1 0xc800000,23,1 0xd000000,24,1 \
    0xe000000,25,1 0x10000000,28,1 0x20000000,29,1 0x40000000,30,1 0x80000000,21,1 \
    0x140000000,30,1 0x180000000,31,1 0x200000000,33,1 0x400000000,34,1 0x800000000,35,1 \
    0x1000000000,36,1 0x2000000000,37,1 0x4000000000,38,1 0x80200000,13,0 0x80202000,12,0 \
    0x80229450,4,0 0x80229460,5,0 0x80229480,7,0 0x80229500,8,0 0x80229600,9,0 \
    0x80229800,11,0 0x80650000,16,0 0x80660000,17,0 0x80680000,19,0 0x80700000,20,0 \
    0x80800000,23,0 0x81000000,24,0 0x82000000,25,0 0x84000000,26,0 0x88000000,27,0 \
    0x90000000,28,0 0xa0000000,29,0 0xc0000000,30,0 0x100000000,29,0 0x120000000,28,0 \
    0x130000000,27,0 0x138000000,26,0 0x13c000000,25,0 0x13e000000,24,0 0x13f000000,23,0 \
    0x13f800000,22,0 0x13fc00000,21,0 0x13fe00000,20,0 0x13ff00000,19,0 0x13ffca880,7,0 \
    0x13ffca900,8,0 0x13ffcaa00,9,0 0x13ffcac00,10,0 0x13ffcb000,12,0 0x13ffcc000,14,0 \
    0x13ffd0000,16,0 0x13ffe0000,17,0";

/// The BootInfo sel4test's driver printed on seL4 16.0.0 (non-MCS): IPC buffer 0x40_6000,
/// empty 1098..8192, image frames 22..1036, paging 16..20, untypeds 1036..1098 (62). With its
/// 2^13-slot root CNode, as the MCS one below.
#[cfg(not(any(feature = "mcs", feature = "root_cnode_size_bits_17")))]
#[test]
fn sel4test_boot_is_sel4s() {
    boot_is_sel4s(
        &Placement::SEL4TEST,
        SEL4TEST_LIST,
        62,
        Slots {
            ipc_buffer: 0x40_6000,
            user_image_paging: (16, 20),
            extra_bi_pages: (20, 22),
            user_image_frames: (22, 1036),
            untyped: (1036, 1098),
            empty: (1098, 8192),
            extra_len: 16 + 5195,
        },
    );
}

/// The BootInfo sel4test's driver printed on seL4 16.0.0 (MCS): IPC buffer 0x43_6000, empty
/// 1147..8192, image frames 23..1085 (the SchedControl cap is slot 22), paging 16..20,
/// untypeds 1085..1147 (62). sel4test's seL4 has a 2^13-slot root CNode, so the comparison holds
/// in that configuration only (the model is held to the kernel in every configuration).
#[cfg(all(feature = "mcs", not(feature = "root_cnode_size_bits_17")))]
#[test]
fn sel4test_mcs_boot_is_sel4s() {
    boot_is_sel4s(
        &Placement::SEL4TEST_MCS,
        SEL4TEST_MCS_LIST,
        62,
        Slots {
            ipc_buffer: 0x43_6000,
            user_image_paging: (16, 20),
            extra_bi_pages: (20, 22),
            user_image_frames: (23, 1085),
            untyped: (1085, 1147),
            empty: (1147, 8192),
            extra_len: 16 + 5195,
        },
    );
}

/// seL4's untyped list for [`Placement::RUST_SEL4`] (65 untypeds: 22 device, 43 RAM).
#[cfg(not(any(feature = "mcs", feature = "root_cnode_size_bits_17")))]
const RUST_SEL4_LIST: &str = "0x0,25,1 0x2200000,21,1 0x2400000,22,1 0x2800000,23,1 \
    0x3000000,24,1 0x4000000,26,1 0x8000000,26,1 0xc600000,21,1 0xc800000,23,1 0xd000000,24,1 \
    0xe000000,25,1 0x10000000,28,1 0x20000000,29,1 0x40000000,30,1 0x80000000,21,1 \
    0x100000000,32,1 0x200000000,33,1 0x400000000,34,1 0x800000000,35,1 0x1000000000,36,1 \
    0x2000000000,37,1 0x4000000000,38,1 0x80200000,13,0 0x80202000,12,0 0x80221000,12,0 \
    0x80222000,13,0 0x80224000,14,0 0x80228000,15,0 0x80230000,16,0 0x80240000,18,0 \
    0x80280000,19,0 0x80300000,20,0 0x80400000,22,0 0x80800000,23,0 0x81000000,24,0 \
    0x82000000,25,0 0x84000000,26,0 0x88000000,27,0 0x90000000,28,0 0xa0000000,29,0 \
    0xc0000000,29,0 0xe0000000,28,0 0xf0000000,27,0 0xf8000000,26,0 0xfc000000,25,0 \
    0xfe000000,24,0 0xff000000,23,0 0xff800000,22,0 0xffc00000,21,0 0xffe00000,20,0 \
    0xfff00000,19,0 0xfffc8800,11,0 0xfffc9000,12,0 0xfffca000,13,0 0xfffcc000,14,0 \
    0xfffd0000,16,0 0xfffe0000,14,0 0xfffe4000,13,0 0xfffe6000,12,0 0xfffe8450,4,0 \
    0xfffe8460,5,0 0xfffe8480,7,0 0xfffe8500,8,0 0xfffe8600,9,0 0xfffe8800,11,0";

/// The BootInfo seL4 16.0.0 gave a root task entered through rust-sel4's `sel4-kernel-loader`
/// (non-MCS; docs/RUST-SEL4.md): IPC buffer 0x2_7000, image frames 20..43, untypeds 43..108,
/// empty 108..8192, the device tree as extra BootInfo (paging 16..18 and extra pages 18..20
/// as the frames' start implies).
#[cfg(not(any(feature = "mcs", feature = "root_cnode_size_bits_17")))]
#[test]
fn rust_sel4_loader_boot_is_sel4s() {
    boot_is_sel4s(
        &Placement::RUST_SEL4,
        RUST_SEL4_LIST,
        65,
        Slots {
            ipc_buffer: 0x2_7000,
            user_image_paging: (16, 18),
            extra_bi_pages: (18, 20),
            user_image_frames: (20, 43),
            untyped: (43, 108),
            empty: (108, 8192),
            extra_len: 16 + 5195,
        },
    );
}

/// seL4's untyped list for [`Placement::RUST_SEL4_MCS`] (67 untypeds: 22 device, 45 RAM).
#[cfg(all(feature = "mcs", not(feature = "root_cnode_size_bits_17")))]
const RUST_SEL4_MCS_LIST: &str = "0x0,25,1 0x2200000,21,1 0x2400000,22,1 0x2800000,23,1 \
    0x3000000,24,1 0x4000000,26,1 0x8000000,26,1 0xc600000,21,1 0xc800000,23,1 0xd000000,24,1 \
    0xe000000,25,1 0x10000000,28,1 0x20000000,29,1 0x40000000,30,1 0x80000000,21,1 \
    0x100000000,32,1 0x200000000,33,1 0x400000000,34,1 0x800000000,35,1 0x1000000000,36,1 \
    0x2000000000,37,1 0x4000000000,38,1 0x80200000,13,0 0x80202000,12,0 0x80229000,12,0 \
    0x8022a000,13,0 0x8022c000,14,0 0x80230000,16,0 0x80240000,18,0 0x80280000,19,0 \
    0x80300000,20,0 0x80400000,22,0 0x80800000,23,0 0x81000000,24,0 0x82000000,25,0 \
    0x84000000,26,0 0x88000000,27,0 0x90000000,28,0 0xa0000000,29,0 0xc0000000,29,0 \
    0xe0000000,28,0 0xf0000000,27,0 0xf8000000,26,0 0xfc000000,25,0 0xfe000000,24,0 \
    0xff000000,23,0 0xff800000,22,0 0xffc00000,21,0 0xffe00000,20,0 0xfff00000,19,0 \
    0xfffc8880,7,0 0xfffc8900,8,0 0xfffc8a00,9,0 0xfffc8c00,10,0 0xfffc9000,12,0 \
    0xfffca000,13,0 0xfffcc000,14,0 0xfffd0000,16,0 0xfffe0000,14,0 0xfffe4000,13,0 \
    0xfffe6000,12,0 0xfffe8450,4,0 0xfffe8460,5,0 0xfffe8480,7,0 0xfffe8500,8,0 \
    0xfffe8600,9,0 0xfffe8800,11,0";

/// The same through rust-sel4's loader with MCS: image frames 21..44 (the SchedControl cap is
/// slot 20), untypeds 44..111, empty 111..8192.
#[cfg(all(feature = "mcs", not(feature = "root_cnode_size_bits_17")))]
#[test]
fn rust_sel4_loader_mcs_boot_is_sel4s() {
    boot_is_sel4s(
        &Placement::RUST_SEL4_MCS,
        RUST_SEL4_MCS_LIST,
        67,
        Slots {
            ipc_buffer: 0x2_7000,
            user_image_paging: (16, 18),
            extra_bi_pages: (18, 20),
            user_image_frames: (21, 44),
            untyped: (44, 111),
            empty: (111, 8192),
            extra_len: 16 + 5195,
        },
    );
}

/// Placements a loader might choose on QEMU virt: kernel images of other sizes, device trees
/// of any size (or at another place), user images from a page to 200 MiB at any page-aligned
/// virtual address, RAM from 256 MiB to 4 GiB.
fn placements() -> impl Strategy<Value = Placement> {
    (
        28u32..=32,
        1u64..=64,
        1u64..=3,
        1u64..=300_000,
        0u64..=4,
        1u64..=51_200,
        0u64..(1 << 25),
    )
        .prop_map(
            |(ram_bits, kernel_pages, boot_pages, dtb_len, gap_pages, ui_pages, v)| {
                let ram = Region::new(0x8000_0000, 0x8000_0000 + (1u64 << ram_bits).min(1 << 32));
                let k = Region::new(0x8020_0000, 0x8020_0000 + kernel_pages * 4096);
                let dtb_start = k.end + gap_pages * 4096;
                let dtb = Region::new(dtb_start, dtb_start + dtb_len);
                let ui_start = (dtb.end + 4095) & !4095;
                Placement {
                    isa: Isa::Riscv64,
                    ram,
                    kernel_image: k,
                    kernel_boot: Region::new(
                        k.start,
                        k.start + boot_pages.min(kernel_pages) * 4096,
                    ),
                    dtb,
                    ui: Region::new(ui_start, ui_start + ui_pages * 4096),
                    ui_vstart: v * 4096,
                    kernel_devices: QEMU_VIRT_DEVICES,
                }
            },
        )
        .prop_filter("fits in RAM", |p| p.ui.end + (2 << 20) < p.ram.end)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// For any such placement the kernel's untyped list is the model's.
    #[test]
    fn untyped_list_is_the_models(p in placements()) {
        prop_assert_eq!(kernel_list(&p), model::untypeds(&p));
    }
}

/// A few placements booted whole: every BootInfo field is the model's.
#[test]
fn bootinfo_is_the_models() {
    let base = Placement::SMALL;
    let big_dtb = Placement {
        dtb: Region::new(0x8023_0000, 0x8024_2345),
        ui: Region::new(0x8024_3000, 0x8124_3000),
        ..base
    };
    // 30 MiB: nearly as much as the 13-bit root CNode has slots for.
    let huge_image = Placement {
        ui: Region::new(0x8023_2000, 0x8023_2000 + (30 << 20)),
        ui_vstart: 0x3fe0_0000,
        ..base
    };
    // rust-sel4's sel4-kernel-loader: the image at the top of RAM, the device tree in the
    // pages below it.
    let top = Placement {
        dtb: Region::new(0x1_3ffc_6000, 0x1_3ffc_77f0),
        ui: Region::new(0x1_3ffc_8000, 0x1_4000_0000),
        ..base
    };
    for p in [base, big_dtb, huge_image, top] {
        let (slots, list) = kernel_boot(&p);
        assert_eq!(list, model::untypeds(&p), "{p:?}");
        assert_eq!(slots, model::slots(&p), "{p:?}");
    }
}

/// seL4's only limit on the image's size: a frame cap for each page must fit in the root
/// CNode (seL4 `provide_cap`, then "could not create all userland image frames").
#[test]
fn an_image_with_more_pages_than_root_cnode_slots_is_refused() {
    let p = Placement {
        // A page for each slot (32 MiB with 2^13 slots): more than the slots left.
        ui: Region::new(0x8023_2000, 0x8023_2000 + (4096 << ROOT_CNODE_SIZE_BITS)),
        ui_vstart: 0x1_0000,
        ..Placement::SMALL
    };
    let _mem = SimMemory::new(0x8000_0000, 32);
    let mut params = p.params();
    let irq_node = IrqNode::new();
    params.irq_node = irq_node.pptr();
    let e = create(&params).map(|_| ());
    assert_eq!(e, Err(BootError::Msg("root CNode is full")));
}

/// A malformed hand-off is refused with a message, before anything is created: inverted,
/// empty or unaligned user image, user image or device tree overlapping the kernel image or
/// each other, no device tree, regions out of seL4's order (kernel image, device tree, user
/// image), a user image beyond user memory or beyond the kernel window.
#[test]
fn malformed_handoffs_are_refused() {
    let good = Placement::SMALL;
    let _mem = SimMemory::new(0x8000_0000, 32);
    let irq_node = IrqNode::new();
    let attempt = |f: &dyn Fn(&mut BootParams)| {
        let mut p = good.params();
        p.irq_node = irq_node.pptr();
        f(&mut p);
        match create(&p) {
            Ok(_) => "booted",
            Err(BootError::Msg(m)) => m,
        }
    };
    assert_eq!(attempt(&|_| ()), "booted");
    type Change<'a> = &'a dyn Fn(&mut BootParams);
    let cases: [(&str, Change); 10] = [
        ("inverted", &|p| {
            p.user_image.p_reg = Region::new(0x8026_b000, 0x8023_2000)
        }),
        ("empty", &|p| {
            p.user_image.p_reg.end = p.user_image.p_reg.start
        }),
        ("unaligned", &|p| p.user_image.p_reg.start += 8),
        ("unaligned offset", &|p| p.user_image.pv_offset += 0x10),
        ("over the kernel", &|p| {
            p.user_image.p_reg.start = 0x8022_0000
        }),
        ("no device tree", &|p| p.dtb = Region::default()),
        ("device tree over the kernel", &|p| {
            p.dtb = Region::new(0x8022_f000, 0x8023_0800)
        }),
        ("device tree over the image", &|p| {
            p.dtb = Region::new(0x8024_0000, 0x8024_1000)
        }),
        ("out of order", &|p| {
            p.dtb = Region::new(0x8030_0000, 0x8030_17f0)
        }),
        ("beyond user memory", &|p| {
            p.user_image.pv_offset = 0x8023_2000u64.wrapping_sub(USER_TOP)
        }),
    ];
    for (what, f) in cases {
        let m = attempt(f);
        assert_ne!(m, "booted", "{what}");
        println!("{what}: {m}");
    }
    assert_eq!(
        attempt(&|p| p.dtb = Region::new(0x8030_0000, 0x8030_17f0)),
        "reserved region in wrong order (kernel image, device tree and user image must be \
         disjoint and in this address order)"
    );
    assert_eq!(
        attempt(&|p| p.dtb = Region::default()),
        "no device tree (dtb_size 0): this kernel reads its platform from the device tree"
    );
}

/// Microkit's hand-off (`dtb_addr_p` = `dtb_size` = 0) to a kernel with the compiled-in QEMU
/// virt platform (`crate::arch::riscv64::platform::qemu_virt`), placed as Microkit 2.3.0's
/// `example/hello` was on this kernel (`ki_end` 0x8024_f000, `ki_boot_end` 0x8020_b000,
/// initial task 0x8024_f000..0x8028_5000 at virtual 0x1_0000). The device untypeds and the
/// boot region's come out as Microkit's tool predicted them (its numbers, which depend on no
/// kernel configuration: `platform_gen.json`'s device regions cut into powers of two); the RAM
/// untypeds cover exactly the RAM less the kernel image, the initial task and the root task's
/// objects; without a device tree there is no extra BootInfo. The full list in Microkit's
/// configuration (2^17-slot root CNode, MCS) is held to the tool's by `cargo xtask test`'s
/// Microkit stage.
#[test]
fn microkit_handoff_with_the_built_in_platform() {
    use crate::arch::riscv64::platform::qemu_virt;
    let _mem = SimMemory::new(0x8000_0000, 32);
    let irq_node = IrqNode::new();
    let mut params = qemu_virt::boot_params(
        Region::new(0x8020_0000, 0x8024_f000),
        Region::new(0x8020_0000, 0x8020_b000),
        irq_node.pptr(),
    );
    params.user_image = UserImage {
        p_reg: Region::new(0x8024_f000, 0x8028_5000),
        pv_offset: 0x8024_f000 - 0x1_0000,
        v_entry: 0x2_0f88,
    };
    let bi = root_bootinfo(create(&params).expect("boot"));
    assert_eq!(
        (bi.extra_len, bi.extra_bi_pages.start),
        (0, bi.extra_bi_pages.end)
    );
    assert_eq!(
        region(bi.user_image_frames).1 - region(bi.user_image_frames).0,
        0x36
    );
    let list = untyped_list(&bi);
    // Microkit's tool: platform_gen.json's device regions [0, 0x200_0000),
    // [0x220_0000, 0xc00_0000), [0xc60_0000, 0x8020_0000), [0x1_0000_0000, 2^39).
    let mut devices: List = [
        (0x0, 25),
        (0x220_0000, 21),
        (0x240_0000, 22),
        (0x280_0000, 23),
        (0x300_0000, 24),
        (0x400_0000, 26),
        (0x800_0000, 26),
        (0xc60_0000, 21),
        (0xc80_0000, 23),
        (0xd00_0000, 24),
        (0xe00_0000, 25),
        (0x1000_0000, 28),
        (0x2000_0000, 29),
        (0x4000_0000, 30),
        (0x8000_0000, 21),
    ]
    .into_iter()
    .map(|(a, b)| (a, b, true))
    .collect();
    devices.extend((32..39).map(|b| (1u64 << b, b, true)));
    assert_eq!(list[..22], devices[..]);
    assert_eq!(
        list[22..25],
        [
            (0x8020_0000, 15, false),
            (0x8020_8000, 13, false),
            (0x8020_a000, 12, false)
        ]
    );
    // The RAM untypeds: in address order, disjoint, all of the RAM after the initial task
    // but one block (the root task's objects) at the top.
    let ram = &list[25..];
    assert!(ram.iter().all(|&(_, _, dev)| !dev));
    assert_eq!(ram[0].0, 0x8028_5000);
    let mut end = ram[0].0;
    let mut gaps = Vec::new();
    for &(a, b, _) in ram {
        if a != end {
            gaps.push((end, a));
        }
        end = a + (1 << b);
    }
    assert!(end <= 0x1_0000_0000);
    let objects: u64 = gaps.iter().map(|g| g.1 - g.0).sum::<u64>() + (0x1_0000_0000 - end);
    let cnode = 1u64 << (ROOT_CNODE_SIZE_BITS + 5);
    assert!(
        objects >= cnode && objects < cnode + 0x20_0000,
        "{objects:#x} bytes left out"
    );
}

/// The kernel's devices are reserved in the architecture's frames: riscv64's PLIC in 2 MiB
/// (seL4 maps it with a megapage), aarch64's GIC distributor and CPU interface in one 4 KiB page
/// each (seL4's `kernel_device_frames` on `qemu-arm-virt`). Reserving aarch64's in 2 MiB frames,
/// as the generic code once did, lost 0x0800_1000..0x0820_0000 from the device untypeds, which
/// seL4 hands out (sel4test's untyped list on qemu-arm-virt).
#[test]
fn kernel_devices_are_reserved_in_the_architectures_frames() {
    let mut p = BootParams::default();
    for (s, e) in [(0x0800_0000, 0x0800_1000), (0x0801_0000, 0x0801_1000)] {
        p.kernel_devices.push(Region::new(s, e)).unwrap();
    }
    let reserved = |bits| {
        let mut mem = FreeMem::new(kernel_device_frames(&p, bits));
        let n = reserve_kernel_devices(&p, &mut mem, bits);
        let r: Vec<(u64, u64)> = mem.reserved().iter().map(|r| (r.start, r.end)).collect();
        (n, r)
    };
    assert_eq!(
        reserved(Isa::Aarch64.rules().kernel_device_frame_bits),
        (
            2,
            vec![(0x0800_0000, 0x0800_1000), (0x0801_0000, 0x0801_1000)]
        )
    );
    // Both pages lie in the same megapage: it is reserved (once per frame, merged later).
    let (n, r) = reserved(Isa::Riscv64.rules().kernel_device_frame_bits);
    assert_eq!(n, 2);
    assert!(
        !r.is_empty() && r.iter().all(|&x| x == (0x0800_0000, 0x0820_0000)),
        "{r:x?}"
    );
    assert_eq!(
        crate::arch::BOOT_RULES.kernel_device_frame_bits,
        21,
        "host tests simulate riscv64"
    );
}

/// RAM below the kernel image: riscv64's is OpenSBI's (left out of the RAM, so device
/// untyped, as seL4's `physBase` there); aarch64's is free (QEMU loads the kernel 2 MiB into
/// RAM; seL4's `physBase` on qemu-arm-virt is the start of RAM), so it stays RAM. It used to be
/// handed out as a 2 MiB *device* untyped on aarch64 (sel4test's untyped list).
#[test]
fn ram_below_the_kernel_is_firmware_only_where_the_architecture_says() {
    let mut p = BootParams::default();
    p.ram.push(Region::new(0x4000_0000, 0x8000_0000)).unwrap();
    p.kernel_image = Region::new(0x4020_0000, 0x4024_0000);
    p.reserved.push(p.kernel_image).unwrap();
    let list = |firmware| -> Vec<(u64, u64)> {
        let a = available_ram_for(&p, firmware).unwrap();
        a.as_slice().iter().map(|r| (r.start, r.end)).collect()
    };
    assert_eq!(
        list(Isa::Aarch64.rules().ram_below_kernel_is_firmware),
        [(0x4000_0000, 0x4020_0000), (0x4024_0000, 0x8000_0000)]
    );
    assert_eq!(
        list(Isa::Riscv64.rules().ram_below_kernel_is_firmware),
        [(0x4024_0000, 0x8000_0000)]
    );
}

// ---------------------------------------------------------------------------------------------
// aarch64 (`qemu-arm-virt`)

/// `qemu-arm-virt`'s RAM in the device tree seL4 16.0.0's build uses (`QEMU_MEMORY` 1024:
/// `avail_p_regs` 0x4000_0000..0x8000_0000, whatever `-m` QEMU then runs with).
const ARM_RAM_1G: Region = Region::new(0x4000_0000, 0x8000_0000);
/// The kernel's devices on `qemu-arm-virt`: the first page of the GICv2 distributor and of its
/// CPU interface (seL4's `kernel_device_frames` of the build; the PL011 it also maps in a
/// debug build is `userAvailable`, not reserved).
const ARM_GIC: [Region; 2] = [
    Region::new(0x0800_0000, 0x0800_1000),
    Region::new(0x0801_0000, 0x0801_1000),
];

impl Placement {
    /// seL4 16.0.0's sel4test boot on `qemu-arm-virt`, non-MCS (debug kernel; `/work/ext-aarch64`
    /// reference build, `sel4test-nomcs-on-sel4.log`): seL4_tools' elfloader puts seL4's kernel
    /// image at the start of RAM, 0x4000_0000..`ki_end` 0x4023_d000 (`ki_boot_end`
    /// 0x4001_0000, from the kernel ELF's symbols), the build's device tree (7697 bytes) at
    /// 0x4023_d000 and sel4test's driver (vaddr 0x40_0000..0x7f_6000) at 0x4023_f000; seL4
    /// printed the three reserved regions so.
    #[cfg(not(any(feature = "mcs", feature = "root_cnode_size_bits_17")))]
    const ARM_SEL4TEST: Placement = Placement {
        isa: Isa::Aarch64,
        ram: ARM_RAM_1G,
        kernel_image: Region::new(0x4000_0000, 0x4023_d000),
        kernel_boot: Region::new(0x4000_0000, 0x4001_0000),
        dtb: Region::new(0x4023_d000, 0x4023_ee11),
        ui: Region::new(0x4023_f000, 0x4063_5000),
        ui_vstart: 0x40_0000,
        kernel_devices: ARM_GIC,
    };
    /// The same with MCS (`sel4test-mcs-on-sel4.log`): `ki_end` 0x4024_7000 (`ki_boot_end`
    /// 0x4001_0000), the device tree at 0x4024_7000, the driver (vaddr 0x40_0000..0x81_6000) at
    /// 0x4024_9000.
    #[cfg(all(feature = "mcs", not(feature = "root_cnode_size_bits_17")))]
    const ARM_SEL4TEST_MCS: Placement = Placement {
        isa: Isa::Aarch64,
        ram: ARM_RAM_1G,
        kernel_image: Region::new(0x4000_0000, 0x4024_7000),
        kernel_boot: Region::new(0x4000_0000, 0x4001_0000),
        dtb: Region::new(0x4024_7000, 0x4024_8e11),
        ui: Region::new(0x4024_9000, 0x4065_f000),
        ui_vstart: 0x40_0000,
        kernel_devices: ARM_GIC,
    };
}

/// seL4 16.0.0's untyped list on `qemu-arm-virt` for [`Placement::ARM_SEL4TEST`], as sel4test's
/// driver printed it (62 untypeds: 30 device up to 2^40, the 64 KiB boot code, 31 RAM).
#[cfg(not(any(feature = "mcs", feature = "root_cnode_size_bits_17")))]
const ARM_SEL4TEST_LIST: &str = "0,27,1 0x8001000,12,1 0x8002000,13,1 0x8004000,14,1 \
    0x8008000,15,1 0x8011000,12,1 0x8012000,13,1 0x8014000,14,1 0x8018000,15,1 0x8020000,17,1 \
    0x8040000,18,1 0x8080000,19,1 0x8100000,20,1 0x8200000,21,1 0x8400000,22,1 0x8800000,23,1 \
    0x9000000,24,1 0xa000000,25,1 0xc000000,26,1 0x10000000,28,1 0x20000000,29,1 \
    0x80000000,31,1 0x100000000,32,1 0x200000000,33,1 0x400000000,34,1 0x800000000,35,1 \
    0x1000000000,36,1 0x2000000000,37,1 0x4000000000,38,1 0x8000000000,39,1 0x40000000,16,0 \
    0x4023ee20,5,0 0x4023ee40,6,0 0x4023ee80,7,0 0x4023ef00,8,0 0x40635000,12,0 \
    0x40636000,13,0 0x40638000,15,0 0x40640000,18,0 0x40680000,19,0 0x40700000,20,0 \
    0x40800000,23,0 0x41000000,24,0 0x42000000,25,0 0x44000000,26,0 0x48000000,27,0 \
    0x50000000,28,0 0x60000000,28,0 0x70000000,27,0 0x78000000,26,0 0x7c000000,25,0 \
    0x7e000000,24,0 0x7f000000,23,0 0x7f800000,22,0 0x7fc00000,21,0 0x7fe00000,20,0 \
    0x7ff00000,19,0 0x7ffca800,11,0 0x7ffcb000,12,0 0x7ffcc000,14,0 0x7ffd0000,16,0 \
    0x7ffe0000,17,0";

/// The same for [`Placement::ARM_SEL4TEST_MCS`] (62 untypeds).
#[cfg(all(feature = "mcs", not(feature = "root_cnode_size_bits_17")))]
const ARM_SEL4TEST_MCS_LIST: &str = "0,27,1 0x8001000,12,1 0x8002000,13,1 0x8004000,14,1 \
    0x8008000,15,1 0x8011000,12,1 0x8012000,13,1 0x8014000,14,1 0x8018000,15,1 0x8020000,17,1 \
    0x8040000,18,1 0x8080000,19,1 0x8100000,20,1 0x8200000,21,1 0x8400000,22,1 0x8800000,23,1 \
    0x9000000,24,1 0xa000000,25,1 0xc000000,26,1 0x10000000,28,1 0x20000000,29,1 \
    0x80000000,31,1 0x100000000,32,1 0x200000000,33,1 0x400000000,34,1 0x800000000,35,1 \
    0x1000000000,36,1 0x2000000000,37,1 0x4000000000,38,1 0x8000000000,39,1 0x40000000,16,0 \
    0x40248e20,5,0 0x40248e40,6,0 0x40248e80,7,0 0x40248f00,8,0 0x4065f000,12,0 \
    0x40660000,17,0 0x40680000,19,0 0x40700000,20,0 0x40800000,23,0 0x41000000,24,0 \
    0x42000000,25,0 0x44000000,26,0 0x48000000,27,0 0x50000000,28,0 0x60000000,28,0 \
    0x70000000,27,0 0x78000000,26,0 0x7c000000,25,0 0x7e000000,24,0 0x7f000000,23,0 \
    0x7f800000,22,0 0x7fc00000,21,0 0x7fe00000,20,0 0x7ff00000,19,0 0x7ffcb880,7,0 \
    0x7ffcb900,8,0 0x7ffcba00,9,0 0x7ffcbc00,10,0 0x7ffcc000,14,0 0x7ffd0000,16,0 \
    0x7ffe0000,17,0";

/// Holds the model and the kernel's aarch64 memory plan and slots with placement `p` to a boot's
/// printed output: seL4's, or this kernel's own on the target (the host cannot create aarch64
/// objects, so no whole boot: [`kernel_slots`]).
#[cfg(not(feature = "root_cnode_size_bits_17"))]
fn arm_boot_is_sel4s(p: &Placement, sel4_list_text: &str, len: usize, sel4_slots: Slots) {
    assert_eq!(p.isa, Isa::Aarch64);
    let sel4 = sel4_list(sel4_list_text);
    assert_eq!(sel4.len(), len);
    assert_eq!(model::untypeds(p), sel4, "the model");
    assert_eq!(model::slots(p), sel4_slots, "the model");
    assert_eq!(kernel_list(p), sel4, "the kernel's memory plan");
    assert_eq!(kernel_slots(p), sel4_slots, "the kernel's slots");
    // Where the root task's objects went: seL4's list leaves out exactly that block, at the
    // top of RAM below the last RAM untyped.
    let rules = p.isa.rules();
    let params = p.params();
    let mem = plan_memory_with(&params, &rules).unwrap();
    let (size, _) = model::rootserver(p);
    let after = sel4
        .iter()
        .find(|&&(a, _, dev)| !dev && a > mem.rootserver)
        .unwrap();
    assert_eq!(mem.rootserver + size, after.0);
}

/// The BootInfo sel4test's driver printed on seL4 16.0.0 on `qemu-arm-virt` (non-MCS): IPC
/// buffer 0x7f_6000, empty 1098..8192, image frames 22..1036, paging 16..20, untypeds
/// 1036..1098 (62); the extra BootInfo (the 7697-byte device tree behind its 16-byte header)
/// is in the two frames 20..22 between the paging and the image frames.
#[cfg(not(any(feature = "mcs", feature = "root_cnode_size_bits_17")))]
#[test]
fn arm_sel4test_boot_is_sel4s() {
    arm_boot_is_sel4s(
        &Placement::ARM_SEL4TEST,
        ARM_SEL4TEST_LIST,
        62,
        Slots {
            ipc_buffer: 0x7f_6000,
            user_image_paging: (16, 20),
            extra_bi_pages: (20, 22),
            user_image_frames: (22, 1036),
            untyped: (1036, 1098),
            empty: (1098, 8192),
            extra_len: 16 + 7697,
        },
    );
}

/// The BootInfo sel4test's driver printed on seL4 16.0.0 on `qemu-arm-virt` (MCS): IPC buffer
/// 0x81_6000, empty 1132..8192, image frames 24..1070, paging 16..21 (the bigger image crosses
/// into a third 2 MiB), untypeds 1070..1132 (62); extra BootInfo 21..23, SchedControl 23.
#[cfg(all(feature = "mcs", not(feature = "root_cnode_size_bits_17")))]
#[test]
fn arm_sel4test_mcs_boot_is_sel4s() {
    arm_boot_is_sel4s(
        &Placement::ARM_SEL4TEST_MCS,
        ARM_SEL4TEST_MCS_LIST,
        62,
        Slots {
            ipc_buffer: 0x81_6000,
            user_image_paging: (16, 21),
            extra_bi_pages: (21, 23),
            user_image_frames: (24, 1070),
            untyped: (1070, 1132),
            empty: (1132, 8192),
            extra_len: 16 + 7697,
        },
    );
}

// rust-sel4's `sel4-kernel-loader` (v5.0.0, patched to enter a kernel without hypervisor
// support at EL1 as seL4_tools' elfloader does; docs/RUST-SEL4.md) on `qemu-arm-virt` with
// 2 GiB: the loader puts seL4's kernel at the start of RAM and the device tree and the root
// task at the top of RAM. seL4 16.0.0's BootInfo for that boot was dumped by a root task
// printing it (`/work/ext/rust-sel4-work-aarch64/bidump-on-sel4.txt` and `mcs-...`, outside
// this repository).

/// `qemu-arm-virt` with `QEMU_MEMORY` 2048 (rust-sel4's seL4 build): 0x4000_0000..0xc000_0000.
#[cfg(not(feature = "root_cnode_size_bits_17"))]
const ARM_RAM_2G: Region = Region::new(0x4000_0000, 0xc000_0000);

/// The rust-sel4 loader's placement (non-MCS): seL4's kernel 0x4000_0000..`ki_end`
/// 0x4023_d000 (`ki_boot_end` 0x4001_0000), the build's 7697-byte device tree at 0xbffe_6000,
/// the root task (vaddr 0x20_0000..0x21_8000) at 0xbffe_8000 up to the end of RAM (seL4 printed
/// these three reserved regions).
#[cfg(not(any(feature = "mcs", feature = "root_cnode_size_bits_17")))]
const ARM_RUST_SEL4: Placement = Placement {
    isa: Isa::Aarch64,
    ram: ARM_RAM_2G,
    kernel_image: Region::new(0x4000_0000, 0x4023_d000),
    kernel_boot: Region::new(0x4000_0000, 0x4001_0000),
    dtb: Region::new(0xbffe_6000, 0xbffe_7e11),
    ui: Region::new(0xbffe_8000, 0xc000_0000),
    ui_vstart: 0x20_0000,
    kernel_devices: ARM_GIC,
};

/// seL4 16.0.0's untyped list for [`ARM_RUST_SEL4`] (65 untypeds: 30 device, the boot code, 34
/// RAM; `bidump-on-sel4.txt`).
#[cfg(not(any(feature = "mcs", feature = "root_cnode_size_bits_17")))]
const ARM_RUST_SEL4_LIST: &str =
    "0x0,27,1 0x8001000,12,1 0x8002000,13,1 0x8004000,14,1 0x8008000,15,1 0x8011000,12,1 \
    0x8012000,13,1 0x8014000,14,1 0x8018000,15,1 0x8020000,17,1 0x8040000,18,1 0x8080000,19,1 \
    0x8100000,20,1 0x8200000,21,1 0x8400000,22,1 0x8800000,23,1 0x9000000,24,1 0xa000000,25,1 \
    0xc000000,26,1 0x10000000,28,1 0x20000000,29,1 0xc0000000,30,1 0x100000000,32,1 \
    0x200000000,33,1 0x400000000,34,1 0x800000000,35,1 0x1000000000,36,1 0x2000000000,37,1 \
    0x4000000000,38,1 0x8000000000,39,1 0x40000000,16,0 0x4023d000,12,0 0x4023e000,13,0 \
    0x40240000,18,0 0x40280000,19,0 0x40300000,20,0 0x40400000,22,0 0x40800000,23,0 \
    0x41000000,24,0 0x42000000,25,0 0x44000000,26,0 0x48000000,27,0 0x50000000,28,0 \
    0x60000000,29,0 0x80000000,29,0 0xa0000000,28,0 0xb0000000,27,0 0xb8000000,26,0 \
    0xbc000000,25,0 0xbe000000,24,0 0xbf000000,23,0 0xbf800000,22,0 0xbfc00000,21,0 \
    0xbfe00000,20,0 0xbff00000,19,0 0xbffc9800,11,0 0xbffca000,13,0 0xbffcc000,14,0 \
    0xbffd0000,16,0 0xbffe0000,14,0 0xbffe4000,13,0 0xbffe7e20,5,0 0xbffe7e40,6,0 \
    0xbffe7e80,7,0 0xbffe7f00,8,0";

/// seL4's BootInfo for rust-sel4's loader on `qemu-arm-virt` (non-MCS): IPC buffer 0x21_8000,
/// image frames 21..45 after three paging objects (16..19) and the two extra BootInfo frames
/// (19..21), untypeds 45..110, empty 110..8192; the device tree as extra BootInfo.
#[cfg(not(any(feature = "mcs", feature = "root_cnode_size_bits_17")))]
#[test]
fn arm_rust_sel4_loader_boot_is_sel4s() {
    arm_boot_is_sel4s(
        &ARM_RUST_SEL4,
        ARM_RUST_SEL4_LIST,
        65,
        Slots {
            ipc_buffer: 0x21_8000,
            user_image_paging: (16, 19),
            extra_bi_pages: (19, 21),
            user_image_frames: (21, 45),
            untyped: (45, 110),
            empty: (110, 8192),
            extra_len: 16 + 7697,
        },
    );
}

/// The same with MCS: seL4's kernel to `ki_end` 0x4024_7000; the device tree and root task
/// where they were.
#[cfg(all(feature = "mcs", not(feature = "root_cnode_size_bits_17")))]
const ARM_RUST_SEL4_MCS: Placement = Placement {
    kernel_image: Region::new(0x4000_0000, 0x4024_7000),
    isa: Isa::Aarch64,
    ram: ARM_RAM_2G,
    kernel_boot: Region::new(0x4000_0000, 0x4001_0000),
    dtb: Region::new(0xbffe_6000, 0xbffe_7e11),
    ui: Region::new(0xbffe_8000, 0xc000_0000),
    ui_vstart: 0x20_0000,
    kernel_devices: ARM_GIC,
};

/// seL4 16.0.0's untyped list for [`ARM_RUST_SEL4_MCS`] (`mcs-bidump-on-sel4.txt`).
#[cfg(all(feature = "mcs", not(feature = "root_cnode_size_bits_17")))]
const ARM_RUST_SEL4_MCS_LIST: &str =
    "0x0,27,1 0x8001000,12,1 0x8002000,13,1 0x8004000,14,1 0x8008000,15,1 0x8011000,12,1 \
    0x8012000,13,1 0x8014000,14,1 0x8018000,15,1 0x8020000,17,1 0x8040000,18,1 0x8080000,19,1 \
    0x8100000,20,1 0x8200000,21,1 0x8400000,22,1 0x8800000,23,1 0x9000000,24,1 0xa000000,25,1 \
    0xc000000,26,1 0x10000000,28,1 0x20000000,29,1 0xc0000000,30,1 0x100000000,32,1 \
    0x200000000,33,1 0x400000000,34,1 0x800000000,35,1 0x1000000000,36,1 0x2000000000,37,1 \
    0x4000000000,38,1 0x8000000000,39,1 0x40000000,16,0 0x40247000,12,0 0x40248000,15,0 \
    0x40250000,16,0 0x40260000,17,0 0x40280000,19,0 0x40300000,20,0 0x40400000,22,0 \
    0x40800000,23,0 0x41000000,24,0 0x42000000,25,0 0x44000000,26,0 0x48000000,27,0 \
    0x50000000,28,0 0x60000000,29,0 0x80000000,29,0 0xa0000000,28,0 0xb0000000,27,0 \
    0xb8000000,26,0 0xbc000000,25,0 0xbe000000,24,0 0xbf000000,23,0 0xbf800000,22,0 \
    0xbfc00000,21,0 0xbfe00000,20,0 0xbff00000,19,0 0xbffc9880,7,0 0xbffc9900,8,0 \
    0xbffc9a00,9,0 0xbffc9c00,10,0 0xbffca000,13,0 0xbffcc000,14,0 0xbffd0000,16,0 \
    0xbffe0000,14,0 0xbffe4000,13,0 0xbffe7e20,5,0 0xbffe7e40,6,0 0xbffe7e80,7,0 \
    0xbffe7f00,8,0";

/// seL4's BootInfo for rust-sel4's loader (MCS): the SchedControl cap takes slot 21, so the
/// image frames are 22..46 and the untypeds 46..115.
#[cfg(all(feature = "mcs", not(feature = "root_cnode_size_bits_17")))]
#[test]
fn arm_rust_sel4_loader_mcs_boot_is_sel4s() {
    arm_boot_is_sel4s(
        &ARM_RUST_SEL4_MCS,
        ARM_RUST_SEL4_MCS_LIST,
        69,
        Slots {
            ipc_buffer: 0x21_8000,
            user_image_paging: (16, 19),
            extra_bi_pages: (19, 21),
            user_image_frames: (22, 46),
            untyped: (46, 115),
            empty: (115, 8192),
            extra_len: 16 + 7697,
        },
    );
}

/// Placements on `qemu-arm-virt`: the kernel at the start of RAM (seL4's elfloader) or 2 MiB
/// into it (QEMU's `Image` load, this kernel's own link address), kernel images of other sizes,
/// device trees of any size after it, user images from a page to 200 MiB at any page-aligned
/// virtual address, RAM from 256 MiB to 4 GiB.
fn arm_placements() -> impl Strategy<Value = Placement> {
    (
        28u32..=32,
        prop::bool::ANY,
        1u64..=64,
        1u64..=16,
        1u64..=300_000,
        0u64..=4,
        1u64..=51_200,
        0u64..(1 << 25),
    )
        .prop_map(
            |(ram_bits, at_2m, kernel_pages, boot_pages, dtb_len, gap_pages, ui_pages, v)| {
                let ram = Region::new(0x4000_0000, 0x4000_0000 + (1u64 << ram_bits));
                let k_start = if at_2m { 0x4020_0000 } else { 0x4000_0000 };
                let k = Region::new(k_start, k_start + kernel_pages * 4096);
                let dtb_start = k.end + gap_pages * 4096;
                let dtb = Region::new(dtb_start, dtb_start + dtb_len);
                let ui_start = (dtb.end + 4095) & !4095;
                Placement {
                    isa: Isa::Aarch64,
                    ram,
                    kernel_image: k,
                    kernel_boot: Region::new(
                        k.start,
                        k.start + boot_pages.min(kernel_pages) * 4096,
                    ),
                    dtb,
                    ui: Region::new(ui_start, ui_start + ui_pages * 4096),
                    ui_vstart: v * 4096,
                    kernel_devices: ARM_GIC,
                }
            },
        )
        .prop_filter("fits in RAM", |p| p.ui.end + (2 << 20) < p.ram.end)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// For any such placement the kernel's aarch64 untyped list and slots are the model's.
    #[test]
    fn arm_untyped_list_and_slots_are_the_models(p in arm_placements()) {
        prop_assert_eq!(kernel_list(&p), model::untypeds(&p));
        prop_assert_eq!(kernel_slots(&p), model::slots(&p));
    }
}

/// The boot this kernel's aarch64 QEMU stages make (QEMU `-m 1G`; this kernel's image 2 MiB
/// into RAM): the RAM below the kernel image is a RAM untyped (seL4's `physBase` on
/// `qemu-arm-virt` is the start of RAM, no firmware stays there), the GIC's two pages are left
/// out of the device untypeds, device untypeds run to 2^40 with blocks up to 2^39.
#[test]
fn arm_boot_2m_into_ram() {
    let p = Placement {
        isa: Isa::Aarch64,
        ram: ARM_RAM_1G,
        kernel_image: Region::new(0x4020_0000, 0x4023_9000),
        kernel_boot: Region::new(0x4020_0000, 0x4020_e000),
        dtb: Region::new(0x4023_9000, 0x4024_194c),
        ui: Region::new(0x4024_2000, 0x4063_8000),
        ui_vstart: 0x40_0000,
        kernel_devices: ARM_GIC,
    };
    let list = kernel_list(&p);
    assert_eq!(list, model::untypeds(&p));
    assert_eq!(kernel_slots(&p), model::slots(&p));
    let devices: Vec<_> = list.iter().filter(|u| u.2).collect();
    assert_eq!(devices.len(), 30);
    assert_eq!(devices[0], &(0, 27, true));
    assert_eq!(devices[1], &(0x800_1000, 12, true));
    assert_eq!(devices[29], &(0x80_0000_0000, 39, true));
    let ram: Vec<_> = list.iter().filter(|u| !u.2).collect();
    // The boot code, then the RAM below the kernel, then the tail of the device tree's page.
    assert_eq!(ram[0], &(0x4020_0000, 15, false));
    assert_eq!(ram[3], &(0x4000_0000, 21, false));
    assert_eq!(ram[4], &(0x4024_1950, 4, false));
}

/// This kernel's own output on the target, inside seL4's elfloader image of the sel4test build
/// above (`/work/ext-aarch64/ours-in-elfloader`: the build's elfloader, device tree and
/// rootserver with this kernel as `kernel.elf`; release, non-MCS, at 0x4020_0000..0x4023_7000
/// with 56 KiB of boot code), as sel4test's driver printed it: the same hand-off as seL4's but
/// for the kernel image. The host plan for that placement is what the kernel made, and the
/// slots are seL4's (paging 16..20, extra BootInfo 20..22, image frames 22..1036, IPC buffer
/// 0x7f_6000); the untyped list differs from seL4's only where the kernel image does (the boot
/// code, the 2 MiB of RAM below the image, the device tree and the user image 24 KiB lower).
#[cfg(not(any(feature = "mcs", feature = "root_cnode_size_bits_17")))]
#[test]
fn arm_this_kernel_in_sel4s_elfloader_made_its_plan() {
    let p = Placement {
        kernel_image: Region::new(0x4020_0000, 0x4023_7000),
        kernel_boot: Region::new(0x4020_0000, 0x4020_e000),
        dtb: Region::new(0x4023_7000, 0x4023_8e11),
        ui: Region::new(0x4023_9000, 0x4062_f000),
        ..Placement::ARM_SEL4TEST
    };
    const OURS: &str = "0,27,1 0x8001000,12,1 0x8002000,13,1 0x8004000,14,1 0x8008000,15,1 \
        0x8011000,12,1 0x8012000,13,1 0x8014000,14,1 0x8018000,15,1 0x8020000,17,1 \
        0x8040000,18,1 0x8080000,19,1 0x8100000,20,1 0x8200000,21,1 0x8400000,22,1 \
        0x8800000,23,1 0x9000000,24,1 0xa000000,25,1 0xc000000,26,1 0x10000000,28,1 \
        0x20000000,29,1 0x80000000,31,1 0x100000000,32,1 0x200000000,33,1 0x400000000,34,1 \
        0x800000000,35,1 0x1000000000,36,1 0x2000000000,37,1 0x4000000000,38,1 \
        0x8000000000,39,1 0x40200000,15,0 0x40208000,14,0 0x4020c000,13,0 0x40000000,21,0 \
        0x40238e20,5,0 0x40238e40,6,0 0x40238e80,7,0 0x40238f00,8,0 0x4062f000,12,0 \
        0x40630000,16,0 0x40640000,18,0 0x40680000,19,0 0x40700000,20,0 0x40800000,23,0 \
        0x41000000,24,0 0x42000000,25,0 0x44000000,26,0 0x48000000,27,0 0x50000000,28,0 \
        0x60000000,28,0 0x70000000,27,0 0x78000000,26,0 0x7c000000,25,0 0x7e000000,24,0 \
        0x7f000000,23,0 0x7f800000,22,0 0x7fc00000,21,0 0x7fe00000,20,0 0x7ff00000,19,0 \
        0x7ffca800,11,0 0x7ffcb000,12,0 0x7ffcc000,14,0 0x7ffd0000,16,0 0x7ffe0000,17,0";
    arm_boot_is_sel4s(
        &p,
        OURS,
        64,
        Slots {
            ipc_buffer: 0x7f_6000,
            user_image_paging: (16, 20),
            extra_bi_pages: (20, 22),
            user_image_frames: (22, 1036),
            untyped: (1036, 1100),
            empty: (1100, 8192),
            extra_len: 16 + 7697,
        },
    );
    // Against seL4's list: the device untypeds and the block of root task objects are the
    // same.
    let sel4 = sel4_list(ARM_SEL4TEST_LIST);
    let ours = sel4_list(OURS);
    assert_eq!(sel4[..30], ours[..30]);
    assert_eq!(sel4[sel4.len() - 5..], ours[ours.len() - 5..]);
}

/// The same with MCS: this kernel (release, MCS, 0x4020_0000..0x4023_c000) inside seL4's
/// elfloader image of the MCS sel4test build; the slots are seL4's (paging 16..21, extra
/// BootInfo 21..23, SchedControl 23, image frames 24..1070, IPC buffer 0x81_6000).
#[cfg(all(feature = "mcs", not(feature = "root_cnode_size_bits_17")))]
#[test]
fn arm_this_kernel_in_sel4s_elfloader_made_its_plan_mcs() {
    let p = Placement {
        kernel_image: Region::new(0x4020_0000, 0x4023_c000),
        kernel_boot: Region::new(0x4020_0000, 0x4020_e000),
        dtb: Region::new(0x4023_c000, 0x4023_de11),
        ui: Region::new(0x4023_e000, 0x4065_4000),
        ..Placement::ARM_SEL4TEST_MCS
    };
    const OURS: &str = "0,27,1 0x8001000,12,1 0x8002000,13,1 0x8004000,14,1 0x8008000,15,1 \
        0x8011000,12,1 0x8012000,13,1 0x8014000,14,1 0x8018000,15,1 0x8020000,17,1 \
        0x8040000,18,1 0x8080000,19,1 0x8100000,20,1 0x8200000,21,1 0x8400000,22,1 \
        0x8800000,23,1 0x9000000,24,1 0xa000000,25,1 0xc000000,26,1 0x10000000,28,1 \
        0x20000000,29,1 0x80000000,31,1 0x100000000,32,1 0x200000000,33,1 0x400000000,34,1 \
        0x800000000,35,1 0x1000000000,36,1 0x2000000000,37,1 0x4000000000,38,1 \
        0x8000000000,39,1 0x40200000,15,0 0x40208000,14,0 0x4020c000,13,0 0x40000000,21,0 \
        0x4023de20,5,0 0x4023de40,6,0 0x4023de80,7,0 0x4023df00,8,0 0x40654000,14,0 \
        0x40658000,15,0 0x40660000,17,0 0x40680000,19,0 0x40700000,20,0 0x40800000,23,0 \
        0x41000000,24,0 0x42000000,25,0 0x44000000,26,0 0x48000000,27,0 0x50000000,28,0 \
        0x60000000,28,0 0x70000000,27,0 0x78000000,26,0 0x7c000000,25,0 0x7e000000,24,0 \
        0x7f000000,23,0 0x7f800000,22,0 0x7fc00000,21,0 0x7fe00000,20,0 0x7ff00000,19,0 \
        0x7ffcb880,7,0 0x7ffcb900,8,0 0x7ffcba00,9,0 0x7ffcbc00,10,0 0x7ffcc000,14,0 \
        0x7ffd0000,16,0 0x7ffe0000,17,0";
    arm_boot_is_sel4s(
        &p,
        OURS,
        66,
        Slots {
            ipc_buffer: 0x81_6000,
            user_image_paging: (16, 21),
            extra_bi_pages: (21, 23),
            user_image_frames: (24, 1070),
            untyped: (1070, 1136),
            empty: (1136, 8192),
            extra_len: 16 + 7697,
        },
    );
    let sel4 = sel4_list(ARM_SEL4TEST_MCS_LIST);
    let ours = sel4_list(OURS);
    assert_eq!(sel4[..30], ours[..30]);
    assert_eq!(sel4[sel4.len() - 7..], ours[ours.len() - 7..]);
}
