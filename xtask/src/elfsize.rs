//! The sizes of a kernel image's sections (`cargo xtask bench` reports them with the figures).

use anyhow::{anyhow, Context, Result};
use std::path::Path;
use xmas_elf::sections::{ShType, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE};
use xmas_elf::ElfFile;

/// What the loaded image takes, in bytes, by kind of section (allocated sections only).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sizes {
    /// Code (executable sections).
    pub text: u64,
    /// Read-only data.
    pub rodata: u64,
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
        if flags & SHF_EXECINSTR != 0 {
            s.text += size;
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

impl Sizes {
    /// One line: `.text N, .rodata N, .data N, .bss N bytes`.
    pub fn line(&self) -> String {
        format!(
            "text {} bytes, rodata {}, data {}, bss {}",
            self.text, self.rodata, self.data, self.bss
        )
    }

    /// As JSON: the four totals and the sections.
    pub fn json(&self) -> serde_json::Value {
        let sections: serde_json::Map<String, serde_json::Value> = self
            .sections
            .iter()
            .map(|(n, v)| (n.clone(), (*v).into()))
            .collect();
        serde_json::json!({
            "text": self.text,
            "rodata": self.rodata,
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
        assert_eq!(total, s.text + s.rodata + s.data + s.bss);
    }

    #[test]
    fn rejects_what_is_not_elf() {
        assert!(of_elf(b"not an ELF file").is_err());
    }
}
