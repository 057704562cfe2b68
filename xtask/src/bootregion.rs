//! The kernel's boot-only region: from the image's first byte (`_start`) to `ki_boot_end`. Boot
//! hands it out as untyped memory when it is done (as seL4 does), so nothing that runs later
//! may use it. The kernel is linked with `--emit-relocs`; [`check`] reads its functions and
//! relocations and finds what can run after boot:
//! - code and data that are not inside a sized function (the trap entry's assembly, tables,
//!   vtables, function pointers in data) count as live, and so does what they refer to;
//! - every function whose address is taken anywhere (it may be called through a pointer at
//!   any time) is live;
//! - whatever a live function calls or refers to is live.
//!
//! A live function in the boot region, or a reference into the region from live code or data,
//! is reported. (Code that only boot reaches may refer into the region: generic library code
//! instantiated for boot's closures, say, which an unoptimised build keeps out of line.)

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use xmas_elf::sections::{SectionData, ShType, SHF_ALLOC};
use xmas_elf::symbol_table::{Entry, Type};
use xmas_elf::ElfFile;

/// RISC-V relocation types that are calls or jumps (not an address taken): BRANCH, JAL, CALL,
/// CALL_PLT, RVC_BRANCH, RVC_JUMP.
const CALL_TYPES: [u32; 6] = [16, 17, 18, 19, 44, 45];

/// One relocation: where, what it refers to, whether it is a call or jump.
struct Ref {
    site: u64,
    target: u64,
    target_name: String,
    call: bool,
}

/// The boot region `[start, end)` of the kernel ELF and what is wrong (see the module doc),
/// one line each; none if the kernel is sound.
///
/// Errors: the file cannot be read or is not a kernel ELF with relocations and the symbols
/// `_start` and `ki_boot_end`.
pub fn check(kernel: &Path) -> Result<((u64, u64), Vec<String>)> {
    let data = std::fs::read(kernel).with_context(|| format!("reading {}", kernel.display()))?;
    let elf = ElfFile::new(&data).map_err(|e| anyhow!("not an ELF file: {e}"))?;
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
    let region = (addr_of("_start")?, addr_of("ki_boot_end")?);
    // Functions by start address: (end, name).
    let mut funcs: BTreeMap<u64, (u64, String)> = BTreeMap::new();
    for s in syms.iter() {
        if s.get_type() == Ok(Type::Func) && s.size() > 0 {
            let name = s.get_name(&elf).unwrap_or("?").to_string();
            funcs.insert(s.value(), (s.value() + s.size(), name));
        }
    }
    let mut refs = Vec::new();
    for sh in elf.section_iter() {
        if sh.get_type() != Ok(ShType::Rela) {
            continue;
        }
        let target = elf
            .section_header(sh.info() as u16)
            .map_err(|e| anyhow!(e))?;
        if target.flags() & SHF_ALLOC == 0 {
            continue;
        }
        let SectionData::Rela64(relas) = sh.get_data(&elf).map_err(|e| anyhow!(e))? else {
            bail!("a relocation section is not a 64-bit one");
        };
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
            refs.push(Ref {
                site: r.get_offset(),
                target: base.wrapping_add(r.get_addend()),
                target_name: s.get_name(&elf).unwrap_or("?").to_string(),
                call: CALL_TYPES.contains(&r.get_type()),
            });
        }
    }
    if refs.is_empty() {
        bail!("the kernel ELF has no relocations (is it linked with --emit-relocs?)");
    }
    Ok((region, find_problems(region, &funcs, &refs)))
}

/// The analysis of [`check`] over functions (start -> (end, name)) and relocations.
fn find_problems(
    (start, end): (u64, u64),
    funcs: &BTreeMap<u64, (u64, String)>,
    refs: &[Ref],
) -> Vec<String> {
    let inside = |a: u64| (start..end).contains(&a);
    let func_at = |a: u64| {
        funcs
            .range(..=a)
            .next_back()
            .filter(|(_, (e, _))| a < *e)
            .map(|(s, _)| *s)
    };
    let mut live: BTreeMap<u64, String> = BTreeMap::new();
    let mut work = Vec::new();
    let mut problems = Vec::new();
    let mut make_live = |f: u64, why: String, work: &mut Vec<u64>| {
        if let std::collections::btree_map::Entry::Vacant(e) = live.entry(f) {
            e.insert(why);
            work.push(f);
        }
    };
    for r in refs {
        if func_at(r.site).is_none() && !inside(r.site) {
            // Live code or data outside any function.
            if inside(r.target) {
                problems.push(format!(
                    "{:#x} (code or data outside any function) refers to {} ({:#x}) in the boot-only region",
                    r.site, r.target_name, r.target
                ));
            }
            if let Some(g) = func_at(r.target) {
                make_live(g, format!("referred to from {:#x}", r.site), &mut work);
            }
        }
        if !r.call && funcs.contains_key(&r.target) {
            make_live(
                r.target,
                format!("its address is taken at {:#x}", r.site),
                &mut work,
            );
        }
    }
    while let Some(f) = work.pop() {
        let (e, name) = &funcs[&f];
        for r in refs.iter().filter(|r| (f..*e).contains(&r.site)) {
            if let Some(g) = func_at(r.target) {
                make_live(g, format!("used by {name}"), &mut work);
            }
        }
    }
    for (f, why) in &live {
        let (e, name) = &funcs[f];
        if inside(*f) || inside(e - 1) {
            problems.push(format!(
                "{name} ({f:#x}) lies in the boot-only region but can run after boot ({why})"
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(start: u64, end: u64, name: &str) -> (u64, (u64, String)) {
        (start, (end, name.to_string()))
    }

    fn r(site: u64, target: u64, call: bool) -> Ref {
        Ref {
            site,
            target,
            target_name: format!("{target:#x}"),
            call,
        }
    }

    /// Boot region 0x1000..0x2000: `boot` (0x1000) calls `helper` (0x3000, outside), which calls
    /// back into `boot_cb` (0x1100); `trap` code at 0x4000 (no function) calls `syscall`
    /// (0x5000). That is fine. A boot function whose address is taken, a call from `syscall`
    /// into the region, or a pointer in data to a boot function, is not.
    #[test]
    fn finds_what_runs_after_boot_in_the_boot_region() {
        let funcs: BTreeMap<_, _> = [
            f(0x1000, 0x1100, "boot"),
            f(0x1100, 0x1200, "boot_cb"),
            f(0x3000, 0x3100, "helper"),
            f(0x5000, 0x5100, "syscall"),
        ]
        .into_iter()
        .collect();
        let mut refs = vec![
            r(0x1010, 0x3000, true),
            r(0x3010, 0x1100, true),
            r(0x4000, 0x5000, true),
            r(0x1020, 0x1100, false),
        ];
        let region = (0x1000, 0x2000);
        let p = find_problems(region, &funcs, &refs);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("boot_cb"), "{p:?}");
        refs.pop();
        assert_eq!(find_problems(region, &funcs, &refs), Vec::<String>::new());
        refs.push(r(0x5010, 0x1000, true));
        let p = find_problems(region, &funcs, &refs);
        assert!(p.iter().any(|l| l.starts_with("boot (")), "{p:?}");
        refs.pop();
        refs.push(r(0x6000, 0x1008, false));
        let p = find_problems(region, &funcs, &refs);
        assert!(
            p.iter().any(|l| l.contains("outside any function")),
            "{p:?}"
        );
    }
}
