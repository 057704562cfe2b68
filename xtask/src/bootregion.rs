//! The kernel's boot-only region: from the image's first byte (`_start`) to `ki_boot_end`. Boot
//! hands it out as untyped memory when it is done (as seL4 does), so no code or data that is
//! used later may refer into it. The kernel is linked with `--emit-relocs`; [`check`] reads the
//! relocations of every loaded section outside the region and reports each one whose target
//! lies inside it (a call, a jump, an address taken, a pointer in data).

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use xmas_elf::sections::{SectionData, ShType, SHF_ALLOC};
use xmas_elf::symbol_table::{Entry, Type};
use xmas_elf::ElfFile;

/// The boot region `[start, end)` of the kernel ELF and every reference into it from outside,
/// as `section+offset -> symbol (address)` lines; none if the kernel is sound.
///
/// Errors: the file cannot be read or is not a kernel ELF with relocations and the symbols
/// `_start` and `ki_boot_end`.
pub fn check(kernel: &Path) -> Result<((u64, u64), Vec<String>)> {
    let data = std::fs::read(kernel).with_context(|| format!("reading {}", kernel.display()))?;
    check_bytes(&data)
}

fn check_bytes(data: &[u8]) -> Result<((u64, u64), Vec<String>)> {
    let elf = ElfFile::new(data).map_err(|e| anyhow!("not an ELF file: {e}"))?;
    let symtab = elf
        .find_section_by_name(".symtab")
        .ok_or_else(|| anyhow!("no symbol table"))?;
    let SectionData::SymbolTable64(syms) = symtab.get_data(&elf).map_err(|e| anyhow!(e))? else {
        bail!("the symbol table is not a 64-bit one");
    };
    let addr_of = |name: &str| {
        syms.iter()
            .find(|s| s.get_name(&elf) == Ok(name))
            .map(|s| s.value())
            .ok_or_else(|| anyhow!("no symbol {name}"))
    };
    let (start, end) = (addr_of("_start")?, addr_of("ki_boot_end")?);
    let inside = |a: u64| (start..end).contains(&a);
    let mut relocated_sections = 0;
    let mut bad = Vec::new();
    for sh in elf.section_iter() {
        if sh.get_type() != Ok(ShType::Rela) {
            continue;
        }
        let target = elf
            .section_header(sh.info() as u16)
            .map_err(|e| anyhow!(e))?;
        if target.flags() & SHF_ALLOC == 0 || inside(target.address()) {
            continue;
        }
        relocated_sections += 1;
        let SectionData::Rela64(relas) = sh.get_data(&elf).map_err(|e| anyhow!(e))? else {
            bail!("a relocation section is not a 64-bit one");
        };
        let site_name = target.get_name(&elf).unwrap_or("?");
        for r in relas {
            let i = r.get_symbol_table_index() as usize;
            if i == 0 {
                continue;
            }
            let s = syms
                .get(i)
                .ok_or_else(|| anyhow!("relocation names symbol {i}, beyond the table"))?;
            let base = if s.get_type() == Ok(Type::Section) {
                elf.section_header(s.shndx())
                    .map_err(|e| anyhow!(e))?
                    .address()
            } else {
                s.value()
            };
            let to = base.wrapping_add(r.get_addend());
            if inside(to) {
                bad.push(format!(
                    "{site_name}+{:#x} refers to {} ({to:#x})",
                    r.get_offset().wrapping_sub(target.address()),
                    s.get_name(&elf).unwrap_or("?")
                ));
            }
        }
    }
    if relocated_sections == 0 {
        bail!("the kernel ELF has no relocations (is it linked with --emit-relocs?)");
    }
    Ok(((start, end), bad))
}
