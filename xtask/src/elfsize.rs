//! The sizes of a kernel image's sections (`cargo xtask bench` reports them with the figures).

use anyhow::{anyhow, Context, Result};
use std::path::Path;
use xmas_elf::sections::{ShType, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE};
use xmas_elf::ElfFile;

/// What the loaded image takes, in bytes, by kind of section (allocated sections only).
///
/// The kernel's boot-only sections (`.boot.*`, up to `ki_boot_end`; boot hands that memory out
/// as untyped, as seL4 does with its `.boot` sections) are counted apart: `text` and `rodata`
/// are what stays after boot, `boot_text` and `boot_rodata` what boot gives back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sizes {
    /// Code that stays after boot (executable sections but the boot-only ones).
    pub text: u64,
    /// Boot-only code (executable sections named `.boot.*`).
    pub boot_text: u64,
    /// Read-only data that stays after boot.
    pub rodata: u64,
    /// Boot-only read-only and writable data (non-executable sections named `.boot.*`).
    pub boot_data: u64,
    /// Initialised writable data.
    pub data: u64,
    /// Zero-initialised data (`NOBITS`: not in the file).
    pub bss: u64,
    /// Every allocated section: (name, size).
    pub sections: Vec<(String, u64)>,
}

/// Read the section table of the ELF file at `path`.
pub fn of_file(path: &Path) -> Result<Sizes> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    of_elf(&bytes).with_context(|| format!("reading the sections of {}", path.display()))
}

/// [`of_file`] on the bytes of an ELF file.
pub fn of_elf(bytes: &[u8]) -> Result<Sizes> {
    let elf = ElfFile::new(bytes).map_err(|e| anyhow!("{e}"))?;
    let mut s = Sizes::default();
    for sh in elf.section_iter() {
        let flags = sh.flags();
        if flags & SHF_ALLOC == 0 || sh.size() == 0 {
            continue;
        }
        let name = sh.get_name(&elf).unwrap_or("?").to_string();
        let size = sh.size();
        let boot = is_boot_only(&name);
        if flags & SHF_EXECINSTR != 0 {
            if boot {
                s.boot_text += size;
            } else {
                s.text += size;
            }
        } else if boot {
            s.boot_data += size;
        } else if sh.get_type() == Ok(ShType::NoBits) {
            s.bss += size;
        } else if flags & SHF_WRITE != 0 {
            s.data += size;
        } else {
            s.rodata += size;
        }
        s.sections.push((name, size));
    }
    Ok(s)
}

/// Whether a section is one of the kernel's boot-only ones (`.boot`, `.boot.text`, ...).
fn is_boot_only(name: &str) -> bool {
    name == ".boot" || name.starts_with(".boot.")
}

impl Sizes {
    /// One line: `text N bytes (boot-only M), rodata N (boot-only data M), data N, bss N`.
    pub fn line(&self) -> String {
        format!(
            "text {} bytes (boot-only {}), rodata {} (boot-only data {}), data {}, bss {}",
            self.text, self.boot_text, self.rodata, self.boot_data, self.data, self.bss
        )
    }

    /// As JSON: the totals and the sections.
    pub fn json(&self) -> serde_json::Value {
        let sections: serde_json::Map<String, serde_json::Value> = self
            .sections
            .iter()
            .map(|(n, v)| (n.clone(), (*v).into()))
            .collect();
        serde_json::json!({
            "text": self.text,
            "boot_text": self.boot_text,
            "rodata": self.rodata,
            "boot_data": self.boot_data,
            "data": self.data,
            "bss": self.bss,
            "sections": sections,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test binary itself is an ELF file with code and data (on ELF hosts).
    #[test]
    #[cfg(target_os = "linux")]
    fn reads_the_sections_of_an_elf_file() {
        let s = of_file(&std::env::current_exe().unwrap()).unwrap();
        assert!(s.text > 0);
        assert!(s.sections.iter().any(|(n, _)| n == ".text"));
        let total: u64 = s.sections.iter().map(|x| x.1).sum();
        assert_eq!(
            total,
            s.text + s.boot_text + s.rodata + s.boot_data + s.data + s.bss
        );
    }

    #[test]
    fn boot_only_sections_are_counted_apart() {
        assert!(is_boot_only(".boot.text"));
        assert!(is_boot_only(".boot.rodata"));
        assert!(is_boot_only(".boot"));
        assert!(!is_boot_only(".text"));
        assert!(!is_boot_only(".bootstrap"));
    }

    #[test]
    fn rejects_what_is_not_elf() {
        assert!(of_elf(b"not an ELF file").is_err());
    }
}
