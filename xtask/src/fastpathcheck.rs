//! The riscv64 IPC fastpath runs on the caller's stack pointer: in a release kernel the trap
//! entry branches to `fastpath_call_entry`/`fastpath_reply_recv_entry` before it sets `sp` to
//! the kernel stack (the kernel's `arch/riscv64/machine/trap.rs`; they set it only on the way
//! to the full path). That is sound only while both functions need no stack: no stack frame,
//! no call. [`check`] decodes them and reports every instruction that names `sp` (x2), but
//! for the exit's load of the next thread's `sp` from its context, or links a return
//! address (a call); `cargo xtask` runs it on every riscv64 release kernel it
//! builds with the fastpath, so that a compiler or code change that gives them a frame fails
//! the build instead of writing below a user-chosen `sp`.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use xmas_elf::symbol_table::{Entry, Type};
use xmas_elf::ElfFile;

/// The functions that run on the caller's `sp` (names as they appear in the mangled symbol).
const FUNCTIONS: [&str; 2] = ["fastpath_call_entry", "fastpath_reply_recv_entry"];

/// What is wrong with the fastpath functions of the riscv64 kernel ELF `kernel`, one line
/// each; none if they use no stack, or if the kernel does not run them on the caller's `sp`
/// (it has no symbol `riscv_fastpath_on_user_sp`: its entry sets up the kernel stack first).
///
/// Errors: the file cannot be read, or is not an ELF with a symbol table that holds each
/// function once.
pub fn check(kernel: &Path) -> Result<Vec<String>> {
    let data = std::fs::read(kernel).with_context(|| format!("reading {}", kernel.display()))?;
    let elf = ElfFile::new(&data).map_err(|e| anyhow!("not an ELF file: {e}"))?;
    let syms = crate::bootregion::symbol_table(&elf)?;
    let mut problems = Vec::new();
    if !syms
        .iter()
        .any(|s| s.get_name(&elf) == Ok("riscv_fastpath_on_user_sp"))
    {
        return Ok(problems);
    }
    for f in FUNCTIONS {
        let found: Vec<_> = syms
            .iter()
            .filter(|s| {
                s.get_type() == Ok(Type::Func) && s.get_name(&elf).is_ok_and(|n| n.contains(f))
            })
            .collect();
        let [s] = found[..] else {
            bail!("{} functions named like {f} (expected 1)", found.len());
        };
        let (start, size) = (s.value(), s.size());
        let sh = elf
            .section_iter()
            .find(|sh| sh.address() <= start && start + size <= sh.address() + sh.size())
            .ok_or_else(|| anyhow!("{f} lies in no section"))?;
        let off = (sh.offset() + start - sh.address()) as usize;
        let code = data
            .get(off..off + size as usize)
            .ok_or_else(|| anyhow!("{f} lies outside the file"))?;
        for (at, why) in stack_uses(code) {
            problems.push(format!(
                "{f} at {:#x}: {why} (it runs on the caller's sp: no frame, no call)",
                start + at as u64
            ));
        }
    }
    Ok(problems)
}

/// The instructions of RV64GC code `code` that use `sp` or make a call: (offset, what).
fn stack_uses(code: &[u8]) -> Vec<(usize, &'static str)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 2 <= code.len() {
        let h = u16::from_le_bytes([code[i], code[i + 1]]);
        if h & 3 != 3 {
            if let Some(why) = compressed_use(h) {
                out.push((i, why));
            }
            i += 2;
            continue;
        }
        let Some(b) = code.get(i..i + 4) else {
            out.push((i, "a truncated instruction"));
            break;
        };
        if let Some(why) = full_use(u32::from_le_bytes([b[0], b[1], b[2], b[3]])) {
            out.push((i, why));
        }
        i += 4;
    }
    out
}

/// Whether a 32-bit instruction names x2 in a register field it has, or is a call.
fn full_use(w: u32) -> Option<&'static str> {
    let opcode = w & 0x7f;
    let (rd, rs1, rs2) = ((w >> 7) & 31, (w >> 15) & 31, (w >> 20) & 31);
    // Which register fields the format has (unknown opcodes: all, conservatively).
    let (has_rd, has_rs1, has_rs2) = match opcode {
        0x37 | 0x17 | 0x6f => (true, false, false), // LUI, AUIPC, JAL
        0x23 | 0x27 | 0x63 => (false, true, true),  // stores, branches
        0x03 | 0x07 | 0x13 | 0x1b | 0x67 | 0x73 => (true, true, false), // loads, imm ALU, JALR, SYSTEM
        _ => (true, true, true),
    };
    if (opcode == 0x6f || opcode == 0x67) && rd != 0 {
        return Some("a call");
    }
    // The exit loads the next thread's sp from its context (`ld sp, 16(t6)`): a load into
    // sp from another base is no use of the stack (using it afterwards would be).
    if opcode == 0x03 && rd == 2 && rs1 != 2 {
        return None;
    }
    if (has_rd && rd == 2) || (has_rs1 && rs1 == 2) || (has_rs2 && rs2 == 2) {
        return Some("an instruction that uses sp");
    }
    None
}

/// Whether a compressed instruction uses x2 (its own sp forms, or x2 in a full register
/// field) or is a call (`c.jalr`).
fn compressed_use(h: u16) -> Option<&'static str> {
    let (q, funct3) = (h & 3, h >> 13);
    let rd = (h >> 7) & 31;
    let rs2 = (h >> 2) & 31;
    let sp = Some("an instruction that uses sp");
    match (q, funct3) {
        (0, 0) if h != 0 => sp, // c.addi4spn
        (0, _) => None,         // loads and stores on x8..x15
        // c.addi, c.addiw, c.li, c.addi16sp/c.lui
        (1, 0..=3) if rd == 2 => sp,
        (1, _) => None,
        // c.slli
        (2, 0) if rd == 2 => sp,
        (2, 0) => None,
        // c.fldsp, c.lwsp, c.ldsp, c.fsdsp, c.swsp, c.sdsp
        (2, 1..=3) | (2, 5..=7) => sp,
        (2, 4) => {
            let bit12 = h >> 12 & 1;
            if bit12 == 1 && rs2 == 0 && rd != 0 {
                Some("a call") // c.jalr
            } else if rd == 2 || rs2 == 2 {
                sp // c.jr, c.mv, c.add with x2
            } else {
                None
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_frames_and_calls() {
        // addi sp, sp, -16 (32-bit), c.sdsp ra, 8(sp), c.addi16sp, jal ra, c.jalr a0.
        assert!(full_use(0xff010113).is_some());
        assert!(compressed_use(0xe406).is_some());
        assert!(compressed_use(0x7139).is_some());
        assert_eq!(full_use(0x008000ef), Some("a call"));
        assert_eq!(compressed_use(0x9502), Some("a call"));
        // ld a4, 0x40(t1); csrw satp, a0; c.beqz a0; j (jal x0); jr t1; c.mv a0, a2.
        assert_eq!(full_use(0x04033703), None);
        assert_eq!(full_use(0x18051073), None);
        assert_eq!(compressed_use(0xc119), None);
        assert_eq!(full_use(0x0000006f), None);
        assert_eq!(full_use(0x00030067), None);
        assert_eq!(compressed_use(0x8532), None);
        // ld sp, 16(t6) (the exit) is fine; ld a0, 8(sp) is not.
        assert_eq!(full_use(0x010fb103), None);
        assert!(full_use(0x00813503).is_some());
    }
}
