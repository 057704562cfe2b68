#!/usr/bin/env python3
"""Where a kernel entry's instructions go, from the output of the kvisit QEMU plugin.

usage: kvisit.py KERNEL_ELF VISITS_FILE [--visit N] [--by function|flow|line]
                 [--nm NM] [--addr2line ADDR2LINE]

Takes visit N (0-based, default 0) of VISITS_FILE (tools/qemu-plugins/kvisit.c writes it) and prints
its instructions by function symbol of KERNEL_ELF (`function`, most first), as the sequence of
functions it ran through (`flow`), or by source line with the inlined callers (`line`, needs
debug info: the release profile keeps it). Works for either kernel: this one's or seL4's
(`kernel.elf` of a seL4 build has the symbols its image lost). Function names come from
tools/ksyms.py (llvm-nm by default); `line` uses the ELF's <target>-linux-gnu-addr2line. See
tools/README.md and docs/PERFORMANCE.md, "How to see where the instructions go".
"""
import argparse
import collections
import subprocess

from ksyms import Symbols, binutils_tool


def read_visits(path):
    visits = []
    for line in open(path):
        if line.startswith("VISIT"):
            visits.append((line.strip(), []))
        elif visits:
            addr, n = line.split()
            visits[-1][1].append((int(addr, 16), int(n)))
    return visits


def source_lines(elf, addr2line, addrs):
    """address -> 'function@file:line < caller@file:line < ...' (innermost first)."""
    uniq = sorted(set(addrs))
    out = subprocess.run([addr2line, "-e", elf, "-f", "-C", "-i", "-a"] + [hex(a) for a in uniq],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    frames, cur = {}, None
    for line in out:
        if line.startswith("0x"):
            cur = int(line, 16)
            frames[cur] = []
        else:
            frames[cur].append(line)
    desc = {}
    for a, f in frames.items():
        pairs = [(f[j], f[j + 1].split("/")[-1]) for j in range(0, len(f) - 1, 2)]
        desc[a] = " < ".join(f"{fn.replace('kernel::', '')[:70]}@{loc}" for fn, loc in pairs[:3])
    return desc


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("elf")
    p.add_argument("visits")
    p.add_argument("--visit", type=int, default=0)
    p.add_argument("--by", choices=["function", "flow", "line"], default="function")
    p.add_argument("--nm", help="nm to read the symbols with (default: see tools/ksyms.py)")
    p.add_argument("--addr2line", help="addr2line for --by line (default: the ELF's "
                   "<target>-linux-gnu-addr2line, else addr2line)")
    a = p.parse_args()
    header, blocks = read_visits(a.visits)[a.visit]
    print(header)
    insns = [addr + 4 * k for addr, n in blocks for k in range(n)]
    if a.by == "line":
        desc = source_lines(a.elf, a.addr2line or binutils_tool(a.elf, "addr2line"), insns)
        label = lambda x: desc.get(x, "?")
    else:
        label = Symbols(a.elf, a.nm).name
    if a.by == "function":
        for f, c in collections.Counter(label(x) for x in insns).most_common():
            print(f"{c:6} {f}")
        return
    runs = []
    for x in insns:
        f = label(x)
        if runs and runs[-1][0] == f:
            runs[-1][1] += 1
        else:
            runs.append([f, 1])
    for f, c in runs:
        print(f"{c:6} {f}")


if __name__ == "__main__":
    main()
