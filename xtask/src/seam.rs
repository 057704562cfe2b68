//! The architecture seam, checked: generic kernel code (everything in `kernel/src` outside
//! `arch/`) must not name the ISA or its machine (riscv64, Sv39, satp, sstatus, scause, PLIC;
//! aarch64, TTBR, the `_EL1`/`_EL0` system registers, SPSR, CPACR, the GIC, the PL011).
//!
//! Generic code reaches the machine only through `crate::arch` (see docs/DESIGN.md, "The
//! architecture seam"). [`KNOWN_LEAKS`] lists files allowed to name it anyway while a move is
//! under way (none now); the test fails when a file not on the list names the machine and when
//! a listed file no longer does, so the list is always exact. Comments are not checked; host
//! test files are not either (they drive a simulated riscv64 machine on purpose).

use std::path::Path;

/// Words generic code must not use (ASCII case ignored): riscv64's and aarch64's names for
/// the ISA, its address translation, its system registers and its interrupt controller.
pub const FORBIDDEN: &[&str] = &[
    "riscv64",
    "sv39",
    "satp",
    "sstatus",
    "scause",
    "plic",
    "aarch64",
    "ttbr",
    "_el1",
    "_el0",
    "spsr",
    "cpacr",
    "gicv",
    "gicd",
    "gicc",
    "pl011",
    // The architecture's caps are its own: generic code goes through the hooks.
    "archcap::frame",
    "archcap::pagetable",
    "archcap::vspace",
    "archcap::asid",
];

/// Generic files that still name the machine, relative to `kernel/src`.
pub const KNOWN_LEAKS: &[&str] = &[];

/// Whether `path` (relative to `kernel/src`) is a host test file: tests, the simulated
/// machine (`testing.rs`), the models the properties check against (`model.rs`) and the
/// syscall fuzzer (`fuzz.rs`), none of which is in the kernel image.
fn is_test_file(path: &str) -> bool {
    path.ends_with("_tests.rs") || ["tests.rs", "testing.rs", "model.rs", "fuzz.rs"].contains(&path)
}

/// The forbidden words on the code (not comment) lines of `text`: (line number, word).
pub fn leaks_in(text: &str) -> Vec<(usize, &'static str)> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = match line.find("//") {
            Some(c) => &line[..c],
            None => line,
        };
        let code = code.to_ascii_lowercase();
        for w in FORBIDDEN {
            if code.contains(w) {
                found.push((i + 1, *w));
            }
        }
    }
    found
}

/// Every generic, non-test `.rs` file under `src` that names the machine, sorted, with its
/// first leak.
pub fn leaking_files(src: &Path) -> Vec<(String, usize, &'static str)> {
    let mut out = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let rel = p
                .strip_prefix(src)
                .unwrap_or(&p)
                .to_string_lossy()
                .replace('\\', "/");
            if p.is_dir() {
                if rel != "arch" {
                    stack.push(p);
                }
                continue;
            }
            if !rel.ends_with(".rs") || is_test_file(&rel) {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            if let Some(&(line, w)) = leaks_in(&text).first() {
                out.push((rel, line, w));
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_do_not_count() {
        assert!(leaks_in("// writes satp\nlet x = 1; // sstatus\n").is_empty());
        assert_eq!(
            leaks_in("let a = 1;\nuse crate::arch::riscv64::x;"),
            [(2, "riscv64")]
        );
        assert_eq!(leaks_in("k.vm_SATP = 0;"), [(1, "satp")]);
        assert_eq!(leaks_in("let t = x.vm_ttbr0;"), [(1, "ttbr")]);
        assert_eq!(leaks_in("read(ESR_EL1)"), [(1, "_el1")]);
        assert!(leaks_in("// the GICD and the PL011\nlet logic = 1;").is_empty());
    }

    #[test]
    fn generic_kernel_code_names_no_machine_beyond_the_known_leaks() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../kernel/src");
        let found = leaking_files(&src);
        let names: Vec<&str> = found.iter().map(|(f, _, _)| f.as_str()).collect();
        let new: Vec<_> = found
            .iter()
            .filter(|(f, _, _)| !KNOWN_LEAKS.contains(&f.as_str()))
            .collect();
        assert!(
            new.is_empty(),
            "generic kernel code names the machine (move it behind crate::arch): {new:?}"
        );
        let fixed: Vec<_> = KNOWN_LEAKS.iter().filter(|f| !names.contains(f)).collect();
        assert!(
            fixed.is_empty(),
            "no longer leaking, remove from seam::KNOWN_LEAKS: {fixed:?}"
        );
    }
}
