//! The loader on the machine: OpenSBI enters `_start` in S-mode with the MMU off, `a0` = hart
//! id, `a1` = the device tree. The loader copies the embedded kernel to its physical addresses,
//! the firmware's device tree and the embedded root task where [`loader::place`] says, maps the
//! kernel at its virtual addresses (2 MiB pages to the end of its gigabyte, as seL4_tools'
//! elfloader does) and itself at its physical addresses (one gigapage), turns Sv39 on and
//! jumps to the kernel's entry with seL4's boot protocol in `a0..a7`.
//!
//! Built with the environment variable `LOADER_NO_DTB` set (any value), it hands the kernel no
//! device tree, as Microkit's loader does ([`loader::place_without_dtb`]): for kernels that
//! know their platform from their build (`cargo xtask test`'s Microkit stage).
//!
//! On the host this is an empty program (the placement logic is the library, tested there).
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(not(target_os = "none"))]
fn main() {}

#[cfg(target_os = "none")]
mod machine {
    use core::arch::{asm, global_asm};
    use core::fmt::{self, Write};

    use loader::Handoff;

    /// Embedded bytes, aligned for the ELF parser's header reads.
    #[repr(C, align(8))]
    struct Aligned<T: ?Sized>(T);

    /// The kernel ELF and the root task ELF this loader carries.
    static KERNEL: &Aligned<[u8]> = &Aligned(*include_bytes!(env!("LOADER_KERNEL")));
    static ROOT_TASK: &Aligned<[u8]> = &Aligned(*include_bytes!(env!("LOADER_ROOT_TASK")));

    const STACK_SIZE: usize = 16 * 1024;

    /// Hand over no device tree (`LOADER_NO_DTB` set at build time), as Microkit's loader.
    const NO_DTB: bool = option_env!("LOADER_NO_DTB").is_some();

    global_asm!(
        r#"
        .section .text.entry, "ax", @progbits
        .globl _start
    _start:
        csrw sie, zero
        csrci sstatus, 2
        lla t0, __bss_start
        lla t1, __bss_end
    1:  bgeu t0, t1, 2f
        sd zero, 0(t0)
        addi t0, t0, 8
        j 1b
    2:  lla sp, loader_stack_top
        call loader_main
    3:  wfi
        j 3b

        .section .bss.loader_stack, "aw", @nobits
        .balign 16
    loader_stack:
        .zero {stack}
    loader_stack_top:
    "#,
        stack = const STACK_SIZE,
    );

    extern "C" {
        static __loader_start: u8;
        static __loader_end: u8;
    }

    /// One SBI call (`a7` = extension, `a6` = function); returns `a0` (the error).
    fn sbi(eid: usize, fid: usize, a0: usize, a1: usize) -> isize {
        let err: isize;
        // SAFETY: an SBI call only changes a0/a1, which are declared; the firmware returns.
        unsafe {
            asm!("ecall", inlateout("a0") a0 as isize => err, inlateout("a1") a1 => _,
                 in("a6") fid, in("a7") eid, options(nostack));
        }
        err
    }

    struct Console;

    impl Write for Console {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            for b in s.bytes() {
                // DBCN console_write_byte, or the legacy console_putchar.
                if sbi(0x4442_434E, 2, usize::from(b), 0) != 0 {
                    sbi(1, 0, usize::from(b), 0);
                }
            }
            Ok(())
        }
    }

    macro_rules! say {
        ($($t:tt)*) => { let _ = writeln!(Console, $($t)*); };
    }

    /// Reports `why` and shuts the machine down (SBI system reset, failure).
    fn fail(why: &str) -> ! {
        say!("loader: error: {why}");
        sbi(0x5352_5354, 0, 0, 1);
        loop {
            // SAFETY: waiting for an interrupt has no other effect.
            unsafe { asm!("wfi") };
        }
    }

    fn overlap(a: (u64, u64), b: (u64, u64)) -> bool {
        a.0 < b.1 && b.0 < a.1
    }

    /// Copies `len` bytes from physical `src` to physical `dst` (the MMU is off; the ranges
    /// may overlap).
    fn move_phys(dst: u64, src: u64, len: u64) {
        // SAFETY: the caller checked that the destination is RAM that nothing else uses (not
        // the loader, not what is still to be copied); `copy` allows overlap.
        unsafe { core::ptr::copy(src as *const u8, dst as *mut u8, len as usize) }
    }

    fn zero_phys(dst: u64, len: u64) {
        // SAFETY: as for `move_phys`.
        unsafe { core::ptr::write_bytes(dst as *mut u8, 0, len as usize) }
    }

    /// Sv39 root table and the level-1 table that maps the kernel.
    #[repr(C, align(4096))]
    struct Table([u64; 512]);
    static mut ROOT: Table = Table([0; 512]);
    static mut KERNEL_L1: Table = Table([0; 512]);

    const V: u64 = 1;
    const RWX: u64 = 0b1110;
    const A: u64 = 1 << 6;
    const D: u64 = 1 << 7;

    fn leaf(paddr: u64) -> u64 {
        (paddr >> 12) << 10 | RWX | A | D | V
    }

    #[no_mangle]
    extern "C" fn loader_main(hart_id: usize, dtb: usize) -> ! {
        say!("loader: seL4 boot protocol loader (hart {hart_id}, device tree at {dtb:#x})");
        let k = loader::kernel(&KERNEL.0).unwrap_or_else(|e| fail(e));
        let r = loader::root_task(&ROOT_TASK.0).unwrap_or_else(|e| fail(e));
        let dtb = dtb as u64;
        let (h, dtb_size): (Handoff, u64) = if NO_DTB {
            say!("loader: passing no device tree (as Microkit's loader)");
            (loader::place_without_dtb(&k, &r), 0)
        } else {
            // SAFETY: the firmware passes the device tree's address; its header's second word
            // is its size (big-endian).
            let magic = unsafe { (dtb as *const u32).read_volatile() };
            if dtb == 0 || u32::from_be(magic) != 0xd00d_feed {
                fail("no device tree from the firmware");
            }
            // SAFETY: as above.
            let dtb_size = u64::from(u32::from_be(unsafe {
                (dtb as *const u32).add(1).read_volatile()
            }));
            (loader::place(&k, dtb_size, &r), dtb_size)
        };
        let me = (
            &raw const __loader_start as u64,
            &raw const __loader_end as u64,
        );
        let dtb_dst = (h.dtb_addr_p, h.dtb_addr_p + dtb_size);
        for (what, range) in [
            ("the kernel", (k.p_start, k.p_end)),
            ("the device tree", dtb_dst),
            ("the root task", h.ui_p_reg),
        ] {
            if overlap(range, me) {
                say!("loader: {what} goes to {:#x}..{:#x}", range.0, range.1);
                fail("that overlaps the loader");
            }
        }
        if dtb_size != 0 {
            if overlap((k.p_start, k.p_end), (dtb, dtb + dtb_size)) {
                fail("the firmware's device tree lies where the kernel goes");
            }
            // The device tree first (it may lie where the kernel or the root task goes).
            move_phys(dtb_dst.0, dtb, dtb_size);
        }
        loader::kernel_segments(&KERNEL.0, |p, data, mem| {
            move_phys(p, data.as_ptr() as u64, data.len() as u64);
            zero_phys(p + data.len() as u64, mem - data.len() as u64);
        })
        .unwrap_or_else(|e| fail(e));
        let (ui_start, ui_end) = h.ui_p_reg;
        zero_phys(ui_start, ui_end - ui_start);
        loader::root_task_segments(&ROOT_TASK.0, r.v_start, |off, data| {
            move_phys(ui_start + off, data.as_ptr() as u64, data.len() as u64);
        })
        .unwrap_or_else(|e| fail(e));
        say!(
            "loader: kernel {:#x}..{:#x} (entry {:#x}), device tree {:#x}..{:#x}, root task {ui_start:#x}..{ui_end:#x} (virtual {:#x}..{:#x}, entry {:#x})",
            k.p_start,
            k.p_end,
            k.entry,
            dtb_dst.0,
            dtb_dst.1,
            r.v_start,
            r.v_end,
            r.entry
        );

        // The page table: the loader's gigabyte identity-mapped, the kernel from its first
        // virtual 2 MiB page to the end of that gigabyte.
        const GIB: u64 = 1 << 30;
        const MIB2: u64 = 2 << 20;
        if k.v_minus_p % MIB2 != 0 {
            fail("the kernel's virtual and physical addresses differ by no multiple of 2 MiB");
        }
        let vpn2 = |v: u64| ((v >> 30) & 511) as usize;
        let vpn1 = |v: u64| ((v >> 21) & 511) as usize;
        // SAFETY: one hart, no interrupts: nothing else touches the tables.
        let (root, l1) = unsafe { (&mut *(&raw mut ROOT), &mut *(&raw mut KERNEL_L1)) };
        let kv = k.v_start & !(MIB2 - 1);
        if vpn2(kv) == vpn2(me.0) {
            fail("the kernel's virtual addresses collide with the loader's");
        }
        root.0[vpn2(me.0)] = leaf(me.0 & !(GIB - 1));
        root.0[vpn2(kv)] = ((&raw const l1.0 as u64) >> 12) << 10 | V;
        let kp = kv.wrapping_sub(k.v_minus_p);
        for (n, i) in (vpn1(kv)..512).enumerate() {
            l1.0[i] = leaf(kp + n as u64 * MIB2);
        }
        let satp = (8u64 << 60) | ((&raw const root.0 as u64) >> 12);
        say!("loader: entering the kernel (seL4 boot protocol)");
        let [a0, a1, a2, a3, a4, a5] = h.registers();
        // SAFETY: the page table maps this code (identity) and the kernel; the kernel's entry
        // takes the hand-off registers and never returns.
        unsafe {
            asm!(
                "sfence.vma",
                "csrw satp, {satp}",
                "sfence.vma",
                "fence.i",
                "jr {entry}",
                satp = in(reg) satp,
                entry = in(reg) k.entry,
                in("a0") a0, in("a1") a1, in("a2") a2, in("a3") a3, in("a4") a4, in("a5") a5,
                in("a6") hart_id, in("a7") 0usize,
                options(noreturn)
            )
        }
    }

    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
        say!("loader: panic: {info}");
        fail("panic")
    }
}
