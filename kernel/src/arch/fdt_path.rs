//! Finding a device tree node by its path, robust against `FDT_NOP` tokens.
//!
//! The `fdt` crate's own `Fdt::find_node` (0.1.5) stops at the first `FDT_NOP` token between
//! the root's children (Devicetree Specification v0.4, 5.4.1: a NOP is to be ignored): every
//! node after it is then reported missing. QEMU leaves such tokens whenever it is given a
//! device tree with `-dtb` (it NOPs the old `/memory` node out, `fdt_nop_node`, before adding
//! its own), so the kernel lost `/chosen` (the initrd, the console) there. [`find_path`]
//! walks the tree from the root through `FdtNode::children`, which skips NOPs.

use fdt::node::FdtNode;
use fdt::Fdt;

/// The node at the absolute `path` (`/`, `/chosen`, `/pl011@9000000`, `/cpus/cpu@0`), or
/// `None`. A component without a unit address (`memory`) also matches a node that has one
/// (`memory@40000000`), as `Fdt::find_node` and Linux's `of_find_node_by_path` do; the first
/// match in document order wins. Aliases are not resolved.
pub fn find_path<'b, 'a: 'b>(fdt: &'b Fdt<'a>, path: &str) -> Option<FdtNode<'b, 'a>> {
    let rest = path.strip_prefix('/')?;
    let mut node = fdt.all_nodes().next()?;
    for part in rest.split('/').filter(|p| !p.is_empty()) {
        node = node.children().find(|n| name_matches(n.name, part))?;
    }
    Some(node)
}

/// Whether node name `name` (`unit@address`) matches path component `part`.
fn name_matches(name: &str, part: &str) -> bool {
    if part.contains('@') {
        name == part
    } else {
        name.split('@').next() == Some(part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEGIN_NODE: u32 = 1;
    const END_NODE: u32 = 2;
    const PROP: u32 = 3;
    const NOP: u32 = 4;
    const END: u32 = 9;

    /// A flattened device tree builder (header, empty reservation map, structure, strings).
    #[derive(Default)]
    struct Blob {
        structs: Vec<u8>,
        strings: Vec<u8>,
    }

    impl Blob {
        fn word(&mut self, w: u32) -> &mut Self {
            self.structs.extend_from_slice(&w.to_be_bytes());
            self
        }
        fn begin(&mut self, name: &str) -> &mut Self {
            self.word(BEGIN_NODE);
            self.structs.extend_from_slice(name.as_bytes());
            self.structs.push(0);
            while !self.structs.len().is_multiple_of(4) {
                self.structs.push(0);
            }
            self
        }
        fn end(&mut self) -> &mut Self {
            self.word(END_NODE)
        }
        fn prop(&mut self, name: &str, value: &[u8]) -> &mut Self {
            let off = self.strings.len() as u32;
            self.strings.extend_from_slice(name.as_bytes());
            self.strings.push(0);
            self.word(PROP).word(value.len() as u32).word(off);
            self.structs.extend_from_slice(value);
            while !self.structs.len().is_multiple_of(4) {
                self.structs.push(0);
            }
            self
        }
        fn finish(&mut self) -> Vec<u8> {
            self.word(END);
            let off_rsv = 40u32;
            let off_struct = off_rsv + 16;
            let off_strings = off_struct + self.structs.len() as u32;
            let total = off_strings + self.strings.len() as u32;
            let mut b = Vec::new();
            for w in [
                0xd00d_feed,
                total,
                off_struct,
                off_strings,
                off_rsv,
                17,
                16,
                0,
                self.strings.len() as u32,
                self.structs.len() as u32,
            ] {
                b.extend_from_slice(&w.to_be_bytes());
            }
            b.extend_from_slice(&[0; 16]);
            b.extend_from_slice(&self.structs);
            b.extend_from_slice(&self.strings);
            b
        }
    }

    /// The shape QEMU leaves after `-dtb`: NOPs where it removed the old `/memory@40000000`
    /// (`fdt_nop_node`), the new one, then `/cpus`, `/pl011@9000000` and `/chosen`.
    fn qemu_like(nops: bool) -> Vec<u8> {
        let mut b = Blob::default();
        b.begin("").prop("#address-cells", &2u32.to_be_bytes());
        if nops {
            // What `fdt_nop_node` leaves of the old `/memory@40000000`: its tokens, NOPs.
            for _ in 0..12 {
                b.word(NOP);
            }
        }
        b.begin("memory@40000000")
            .prop("device_type", b"memory\0")
            .end();
        b.begin("cpus")
            .begin("cpu@0")
            .prop("reg", &0u32.to_be_bytes());
        b.end().end();
        b.begin("pl011@9000000")
            .prop("compatible", b"arm,pl011\0")
            .end();
        b.begin("chosen")
            .prop("linux,initrd-start", &0x4800_0000u64.to_be_bytes())
            .end();
        b.end();
        b.finish()
    }

    #[test]
    fn finds_nodes_after_a_node_with_nops() {
        for nops in [false, true] {
            let blob = qemu_like(nops);
            let fdt = Fdt::new(&blob).unwrap();
            let chosen = find_path(&fdt, "/chosen").expect("/chosen");
            assert_eq!(chosen.name, "chosen");
            let start = chosen.property("linux,initrd-start").unwrap().value;
            assert_eq!(start, 0x4800_0000u64.to_be_bytes());
            assert_eq!(
                find_path(&fdt, "/pl011@9000000").unwrap().name,
                "pl011@9000000"
            );
            assert_eq!(find_path(&fdt, "/memory").unwrap().name, "memory@40000000");
            assert_eq!(find_path(&fdt, "/cpus/cpu@0").unwrap().name, "cpu@0");
            assert_eq!(find_path(&fdt, "/").unwrap().name, "/");
            assert!(find_path(&fdt, "/pl011@9000001").is_none());
            assert!(find_path(&fdt, "/cpus/cpu@1").is_none());
            assert!(find_path(&fdt, "/nothing").is_none());
            assert!(find_path(&fdt, "chosen").is_none());
        }
    }

    /// The defect this module avoids: the crate's `find_node` misses `/chosen` behind NOPs
    /// (if a newer `fdt` fixes it, this test says so and `find_path` may go).
    #[test]
    fn crate_find_node_misses_nodes_after_nops() {
        let blob = qemu_like(true);
        let fdt = Fdt::new(&blob).unwrap();
        assert!(fdt.find_node("/chosen").is_none());
        let blob = qemu_like(false);
        assert!(Fdt::new(&blob).unwrap().find_node("/chosen").is_some());
    }
}
