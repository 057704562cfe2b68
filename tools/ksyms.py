"""Address -> function names of a kernel ELF, shared by the scripts in tools/.

The symbols come from `nm -n` of the ELF: the `llvm-nm` of the Rust toolchain
(`rustup component add llvm-tools`) if installed, else `llvm-nm` or `nm` on PATH; any of them
reads either architecture's ELF. Kept: code symbols (nm types t, T, w, W) except local labels
(`.L...`, e.g. RISC-V's `.Lpcrel_hi<n>`) and mapping symbols (`$x`, `$d`), which mark places
inside functions. Rust's (legacy, `_ZN...E`) symbol names are demangled here, not by nm, so
that every nm gives the same names: `kernel::entry::restart_thread`, without the hash
(`::h` and 16 hex digits) unless several symbols share the path (closures, generic
instances), which keep it so that each counts apart. Works for this kernel's ELF and for
seL4's (`kernel.elf` of a seL4 build has the symbols its image lost).

    from ksyms import Symbols
    syms = Symbols("target/images/release/kernel")
    syms.name(0xffffffff8020cfa8)    # 'kernel::entry::restart_thread'
    syms.address("riscv_trap_entry")  # first address of that symbol, or None
"""
import bisect
import collections
import glob
import os
import re
import shutil
import subprocess

_HASH = re.compile(r"::h[0-9a-f]{16}$")
_ESCAPES = {"SP": "@", "BP": "*", "RF": "&", "LT": "<", "GT": ">", "LP": "(", "RP": ")", "C": ","}


def demangle(sym):
    """A Rust legacy symbol `_ZN<len><ident>...E` as `a::b::h<hash>`; other names unchanged."""
    if not sym.startswith("_ZN"):
        return sym
    parts, i = [], 3
    while i < len(sym) and sym[i].isdigit():
        j = i
        while sym[j].isdigit():
            j += 1
        ident = sym[j:j + int(sym[i:j])]
        i = j + int(sym[i:j])
        if ident.startswith("_$"):
            ident = ident[1:]
        ident = re.sub(r"\$([A-Z]+|u[0-9a-f]+)\$",
                       lambda m: chr(int(m[1][1:], 16)) if m[1][0] == "u" else _ESCAPES.get(m[1], m[0]),
                       ident)
        parts.append(ident.replace("..", "::"))
    if i >= len(sym) or sym[i] != "E" or not parts:
        return sym  # not the legacy scheme after all
    return "::".join(parts)


def find_tool(name):
    """The path of LLVM's `llvm-<name>` (the Rust toolchain's first, then PATH), else `<name>`."""
    found = sorted(glob.glob(os.path.expanduser(f"~/.rustup/toolchains/*/lib/rustlib/*/bin/llvm-{name}")))
    return found[0] if found else shutil.which(f"llvm-{name}") or name


def binutils_tool(elf, name):
    """GNU binutils' `<target>-<name>` for the ELF's machine (aarch64 or riscv64) if on PATH,
    else `<name>` (e.g. `addr2line`: the cross versions name assembly labels best)."""
    with open(elf, "rb") as f:
        machine = int.from_bytes(f.read(20)[18:20], "little")  # e_machine
    prefix = {183: "aarch64-linux-gnu-", 243: "riscv64-linux-gnu-"}.get(machine, "")
    return shutil.which(prefix + name) or name


class Symbols:
    """The function symbols of one ELF, sorted by address."""

    def __init__(self, elf, nm=None):
        out = subprocess.run([nm or find_tool("nm"), "-n", elf],
                             capture_output=True, text=True, check=True).stdout
        syms = []
        for line in out.splitlines():
            parts = line.split(" ", 2)
            if len(parts) != 3 or parts[1] not in "tTwW" or parts[2].startswith((".L", "$")):
                continue
            syms.append((int(parts[0], 16), demangle(parts[2])))
        paths = collections.Counter(_HASH.sub("", n) for _, n in syms)
        syms = [(a, n if paths[_HASH.sub("", n)] > 1 else _HASH.sub("", n)) for a, n in syms]
        syms.sort(key=lambda s: s[0])  # stable: among equal addresses nm's order stays
        if not syms:
            raise SystemExit(f"{elf}: no function symbols (stripped? seL4's build keeps them in kernel/kernel.elf)")
        self.functions = syms
        self._addrs = [a for a, _ in syms]

    def name(self, addr, unknown="?"):
        """The symbol at or below `addr` (the function containing it), or `unknown`."""
        i = bisect.bisect_right(self._addrs, addr) - 1
        return self.functions[i][1] if i >= 0 else unknown

    def address(self, name):
        """The address of the first symbol called `name`, or None."""
        return next((a for a, n in self.functions if n == name), None)
