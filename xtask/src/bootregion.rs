//! The kernel's boot-only region: from the image's first byte (`_start`) to `ki_boot_end`. Boot
//! hands it out as untyped memory when it is done (as seL4 does), so nothing that runs later
//! may use it. The kernel is linked with `--emit-relocs`; [`check`] reads its functions, data
//! objects and relocations and finds what can run or be read after boot:
//! - code outside any sized function and outside the region (the trap entry's assembly) is
//!   live, and so is writable data (`.data`, `.bss`: boot may leave anything there);
//! - every function whose address is taken anywhere (it may be called through a pointer at
//!   any time, e.g. one that boot stored in a kernel object) is live, except formatting
//!   callbacks (`core::fmt` trait methods: `fmt`, `write_str`, `write_char`, `write_fmt`),
//!   whose pointers only ever go into a `fmt::Arguments` or a `dyn fmt::Write`, which live for
//!   one statement: they are live only if what refers to them is;
//! - whatever a live function or live data refers to is live (read-only data objects are the
//!   spans between the symbols of their section: vtables, jump tables, strings).
//!
//! A live function in the boot region, or a reference into the region from live code or data,
//! is reported. (Code that only boot reaches may refer into the region: generic library code
//! instantiated for boot's closures, say, which an unoptimised build keeps out of line; and
//! release kernels put the formatting code only boot uses into the region.)

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use xmas_elf::sections::{SectionData, ShType, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE};
use xmas_elf::symbol_table::{Entry, Type};
use xmas_elf::ElfFile;

/// RISC-V relocation types that are calls or jumps (not an address taken): BRANCH, JAL, CALL,
/// CALL_PLT, RVC_BRANCH, RVC_JUMP.
const RISCV_CALL_TYPES: &[u32] = &[16, 17, 18, 19, 44, 45];

/// RISC-V relocation types PCREL_LO12_I and PCREL_LO12_S: their symbol is the `auipc` of the
/// pair (a label in the same function, at its start if the function begins with it), whose
/// PCREL_HI20 relocation names the real target; they are skipped.
const RISCV_PAIRED_LOW_TYPES: &[u32] = &[24, 25];

/// AArch64 relocation types that are calls or branches (not an address taken): TSTBR14,
/// CONDBR19, JUMP26, CALL26. (Both halves of an `adrp` pair name the real target: none is
/// skipped.)
const AARCH64_CALL_TYPES: &[u32] = &[279, 280, 282, 283];

/// One relocation: where, what it refers to, whether it is a call or jump.
struct Ref {
    site: u64,
    target: u64,
    target_name: String,
    call: bool,
}

/// The 64-bit symbol table of `elf` (its `.symtab`).
///
/// Errors: no `.symtab`, or not a 64-bit symbol table.
pub fn symbol_table<'a>(elf: &ElfFile<'a>) -> Result<&'a [xmas_elf::symbol_table::Entry64]> {
    let symtab = elf
        .find_section_by_name(".symtab")
        .ok_or_else(|| anyhow!("no symbol table"))?;
    let SectionData::SymbolTable64(syms) = symtab.get_data(elf).map_err(|e| anyhow!(e))? else {
        bail!("the symbol table is not a 64-bit one");
    };
    Ok(syms)
}

/// The boot region `[start, end)` of the kernel ELF and what is wrong (see the module doc),
/// one line each; none if the kernel is sound.
///
/// Errors: the file cannot be read or is not a kernel ELF with relocations and the symbols
/// `_start` and `ki_boot_end`.
pub fn check(kernel: &Path) -> Result<((u64, u64), Vec<String>)> {
    let data = std::fs::read(kernel).with_context(|| format!("reading {}", kernel.display()))?;
    let elf = ElfFile::new(&data).map_err(|e| anyhow!("not an ELF file: {e}"))?;
    let syms = symbol_table(&elf)?;
    let addr_of = |name: &str| {
        syms.iter()
            .find(|s| s.get_name(&elf) == Ok(name))
            .map(|s| s.value())
            .ok_or_else(|| anyhow!("no symbol {name}"))
    };
    let region = (addr_of("_start")?, addr_of("ki_boot_end")?);
    let (call_types, paired_low_types) = match elf.header.pt2.machine().as_machine() {
        xmas_elf::header::Machine::RISC_V => (RISCV_CALL_TYPES, RISCV_PAIRED_LOW_TYPES),
        xmas_elf::header::Machine::AArch64 => (AARCH64_CALL_TYPES, &[][..]),
        m => bail!("a kernel for {m:?}: only riscv64 and aarch64 kernels are checked"),
    };
    // Functions by start address: (end, name).
    let mut funcs: BTreeMap<u64, (u64, String)> = BTreeMap::new();
    for s in syms.iter() {
        if s.get_type() == Ok(Type::Func) && s.size() > 0 {
            let name = s.get_name(&elf).unwrap_or("?").to_string();
            funcs.insert(s.value(), (s.value() + s.size(), name));
        }
    }
    // Data: the allocated sections that are not code, split at every symbol in them.
    let mut data = Data::default();
    for sh in elf.section_iter() {
        if sh.flags() & SHF_ALLOC == 0 || sh.flags() & SHF_EXECINSTR != 0 || sh.size() == 0 {
            continue;
        }
        let name = sh.get_name(&elf).unwrap_or("?").to_string();
        data.sections.insert(
            sh.address(),
            (sh.address() + sh.size(), sh.flags() & SHF_WRITE != 0, name),
        );
        data.starts.insert(sh.address());
    }
    for s in syms.iter() {
        if data.section_at(s.value()).is_some() {
            data.starts.insert(s.value());
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
            if i == 0 || paired_low_types.contains(&r.get_type()) {
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
                call: call_types.contains(&r.get_type()),
            });
        }
    }
    if refs.is_empty() {
        bail!("the kernel ELF has no relocations (is it linked with --emit-relocs?)");
    }
    Ok((region, find_problems(region, &funcs, &data, &refs)))
}

/// The data sections (start -> (end, writable, name)) and the starts of their objects.
#[derive(Default)]
struct Data {
    sections: BTreeMap<u64, (u64, bool, String)>,
    starts: std::collections::BTreeSet<u64>,
}

impl Data {
    /// The section holding `a`: (start, writable).
    fn section_at(&self, a: u64) -> Option<(u64, bool)> {
        self.sections
            .range(..=a)
            .next_back()
            .filter(|(_, (e, _, _))| a < *e)
            .map(|(s, (_, w, _))| (*s, *w))
    }
    /// The data object holding `a` (its start) and whether it is writable.
    fn object_at(&self, a: u64) -> Option<(u64, bool)> {
        let (_, w) = self.section_at(a)?;
        let start = *self.starts.range(..=a).next_back()?;
        Some((start, w))
    }
}

/// Whether the function named `name` (mangled, legacy `_ZN` or v0 `_R`) is a formatting
/// callback: a `core::fmt` trait method (`fmt` of `Display`, `Debug`, `LowerHex`, ..., or
/// `write_str`/`write_char`/`write_fmt` of `fmt::Write`).
fn is_format_callback(name: &str) -> bool {
    const METHODS: [&str; 4] = ["3fmt", "9write_str", "10write_char", "9write_fmt"];
    if let Some(rest) = name.strip_prefix("_ZN") {
        // `..._$LT$T$u20$as$u20$core..fmt..Display$GT$3fmt17h<16 hex>E`, `4core3fmt5Write...`
        let Some(path) = rest.strip_suffix('E') else {
            return false;
        };
        let path = match path.rsplit_once("17h") {
            Some((p, hash)) if hash.len() == 16 => p,
            _ => path,
        };
        (path.contains("core..fmt..") || path.starts_with("4core3fmt"))
            && METHODS.iter().any(|m| path.ends_with(m))
    } else if name.starts_with("_R") {
        // `..._4core3fmt...7Display3fmt` with an optional back-reference `B<n>_` at the end.
        let path = match name.rfind('B') {
            Some(i)
                if name.ends_with('_')
                    && name[i + 1..name.len() - 1]
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric()) =>
            {
                &name[..i]
            }
            _ => name,
        };
        name.contains("4core3fmt") && METHODS.iter().any(|m| path.ends_with(m))
    } else {
        false
    }
}

/// A function (by start address) or a data object (by start address).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Node {
    Func(u64),
    Data(u64),
}

/// The analysis of [`check`] over functions (start -> (end, name)), data and relocations.
fn find_problems(
    (start, end): (u64, u64),
    funcs: &BTreeMap<u64, (u64, String)>,
    data: &Data,
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
    let node_at = |a: u64| {
        func_at(a)
            .map(Node::Func)
            .or_else(|| data.object_at(a).map(|(s, _)| Node::Data(s)))
    };
    let name_of = |n: Node| match n {
        Node::Func(f) => funcs[&f].1.clone(),
        Node::Data(d) => format!("data at {d:#x}"),
    };
    // Why each live node is live; references by the node that makes them.
    let mut live: BTreeMap<Node, String> = BTreeMap::new();
    let mut work = Vec::new();
    let mut make_live = |n: Node, why: String, work: &mut Vec<Node>| {
        if let std::collections::btree_map::Entry::Vacant(e) = live.entry(n) {
            e.insert(why);
            work.push(n);
        }
    };
    let mut by_node: BTreeMap<Node, Vec<&Ref>> = BTreeMap::new();
    // Live sites that are no node: code outside any function and outside the region.
    let mut root_sites = Vec::new();
    for r in refs {
        match node_at(r.site) {
            Some(n) => by_node.entry(n).or_default().push(r),
            None if !inside(r.site) => root_sites.push(r),
            None => {}
        }
        if !r.call {
            if let Some((_, name)) = funcs.get(&r.target) {
                if !is_format_callback(name) {
                    make_live(
                        Node::Func(r.target),
                        format!("its address is taken at {:#x}", r.site),
                        &mut work,
                    );
                }
            }
        }
    }
    let mut problems = Vec::new();
    let refers_into = |r: &Ref, from: String, problems: &mut Vec<String>| {
        if inside(r.target) && func_at(r.target).is_none() {
            problems.push(format!(
                "{from} ({:#x}) refers to {} ({:#x}) in the boot-only region",
                r.site, r.target_name, r.target
            ));
        }
    };
    for r in &root_sites {
        refers_into(r, "code outside any function".into(), &mut problems);
        if let Some(n) = node_at(r.target) {
            make_live(n, format!("referred to from {:#x}", r.site), &mut work);
        }
    }
    for &d in &data.starts {
        if data.object_at(d).is_some_and(|(_, writable)| writable) {
            make_live(Node::Data(d), "writable data".into(), &mut work);
        }
    }
    while let Some(n) = work.pop() {
        let name = name_of(n);
        for r in by_node.get(&n).into_iter().flatten() {
            if !matches!(n, Node::Func(f) if inside(f)) {
                refers_into(r, name.clone(), &mut problems);
            }
            if let Some(g) = node_at(r.target) {
                if g != n {
                    make_live(g, format!("used by {name}"), &mut work);
                }
            }
        }
    }
    for (n, why) in &live {
        if let Node::Func(f) = *n {
            let (e, name) = &funcs[&f];
            if inside(f) || inside(e - 1) {
                problems.push(format!(
                    "{name} ({f:#x}) lies in the boot-only region but can run after boot ({why})"
                ));
            }
        }
    }
    problems.sort();
    problems.dedup();
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
    /// into the region, or a pointer in writable data to a boot function, is not.
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
        let data = data(&[(0x6000, 0x7000, true)], &[]);
        let mut refs = vec![
            r(0x1010, 0x3000, true),
            r(0x3010, 0x1100, true),
            r(0x4000, 0x5000, true),
            r(0x1020, 0x1100, false),
        ];
        let region = (0x1000, 0x2000);
        let p = find_problems(region, &funcs, &data, &refs);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("boot_cb"), "{p:?}");
        refs.pop();
        assert_eq!(
            find_problems(region, &funcs, &data, &refs),
            Vec::<String>::new()
        );
        refs.push(r(0x5010, 0x1000, true));
        let p = find_problems(region, &funcs, &data, &refs);
        assert!(p.iter().any(|l| l.starts_with("boot (")), "{p:?}");
        refs.pop();
        refs.push(r(0x6008, 0x1008, false));
        let p = find_problems(region, &funcs, &data, &refs);
        assert!(p.iter().any(|l| l.starts_with("boot (")), "{p:?}");
    }

    /// Formatting callbacks in the region: fine while only boot code and data only boot reads
    /// (a vtable at 0x8000) take their address; not once live code or writable data does.
    #[test]
    fn formatting_callbacks_only_boot_uses_may_lie_in_the_region() {
        let display = "_ZN44_$LT$$RF$T$u20$as$u20$core..fmt..Display$GT$3fmt17h3db62479acacf988E";
        let write_str =
            "_ZN57_$LT$kernel..log..Console$u20$as$u20$core..fmt..Write$GT$9write_str17hb1c7909a8ca400b3E";
        let funcs: BTreeMap<_, _> = [
            f(0x1000, 0x1100, "boot"),
            f(0x1100, 0x1200, display),
            f(0x1200, 0x1300, write_str),
            f(0x5000, 0x5100, "syscall"),
        ]
        .into_iter()
        .collect();
        let data = data(
            &[(0x6000, 0x7000, true), (0x8000, 0x9000, false)],
            &[0x8100],
        );
        let mut refs = vec![
            r(0x4000, 0x5000, true),
            r(0x1010, 0x1100, false),
            r(0x1020, 0x8000, false),
            r(0x8000, 0x1200, false),
        ];
        let region = (0x1000, 0x2000);
        assert_eq!(
            find_problems(region, &funcs, &data, &refs),
            Vec::<String>::new()
        );
        // The runtime reads the vtable.
        refs.push(r(0x5010, 0x8000, false));
        let p = find_problems(region, &funcs, &data, &refs);
        assert!(p.iter().any(|l| l.contains("9write_str")), "{p:?}");
        refs.pop();
        // Another object of that section (0x8100..) is not the vtable.
        refs.push(r(0x5010, 0x8100, false));
        assert_eq!(
            find_problems(region, &funcs, &data, &refs),
            Vec::<String>::new()
        );
        refs.pop();
        // Writable data points at the callback.
        refs.push(r(0x6000, 0x1100, false));
        let p = find_problems(region, &funcs, &data, &refs);
        assert!(p.iter().any(|l| l.contains("Display")), "{p:?}");
        refs.pop();
        // Live code reads boot-only data.
        refs.push(r(0x5020, 0x1f00, false));
        let p = find_problems(region, &funcs, &data, &refs);
        assert!(p.iter().any(|l| l.contains("refers to")), "{p:?}");
    }

    #[test]
    fn formatting_callbacks_are_known_by_name() {
        for n in [
            "_ZN44_$LT$$RF$T$u20$as$u20$core..fmt..Display$GT$3fmt17h3db62479acacf988E",
            "_ZN4core3fmt5Write10write_char17h25dc68be6af8e2fcE",
            "_ZN4core3fmt5Write9write_fmt17he60cb2e13f2ac3e1E",
            "_RNvXs1i_NtCsduH8GDKzQ6M_4core3fmtReNtB6_7Display3fmtB8_",
            "_RNvXs6_NtNtCsduH8GDKzQ6M_4core3fmt3numjNtB7_8LowerHex3fmt",
        ] {
            assert!(is_format_callback(n), "{n}");
        }
        for n in [
            "_RNvNtCsduH8GDKzQ6M_4core3fmt5write",
            "_RNvMsa_NtCsduH8GDKzQ6M_4core3fmtNtB5_9Formatter3pad",
            "_ZN6kernel4arch7riscv647machine11irq_pending17h492a21c5a9161d3dE",
            "_ZN6kernel3log4_log17h92d0a0b498037bc2E",
            "boot",
        ] {
            assert!(!is_format_callback(n), "{n}");
        }
    }

    /// The check on the kernel ELF named by `BOOT_REGION_KERNEL`, for trying a kernel out
    /// without booting it: `BOOT_REGION_KERNEL=<elf> cargo test -p xtask -- --ignored
    /// check_a_given_kernel --nocapture`.
    #[test]
    #[ignore]
    fn check_a_given_kernel() {
        let path = std::env::var("BOOT_REGION_KERNEL").expect("set BOOT_REGION_KERNEL");
        let ((start, end), problems) = check(Path::new(&path)).unwrap();
        println!("boot-only region {start:#x}..{end:#x}");
        for p in &problems {
            println!("  - {p}");
        }
        assert!(problems.is_empty());
    }

    /// Data sections (start, end, writable) and further object starts.
    fn data(sections: &[(u64, u64, bool)], starts: &[u64]) -> Data {
        let mut d = Data::default();
        for &(s, e, w) in sections {
            d.sections.insert(s, (e, w, String::new()));
            d.starts.insert(s);
        }
        d.starts.extend(starts);
        d
    }
}
