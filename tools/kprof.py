#!/usr/bin/env python3
"""Exact per-function instruction counts of kernel paths, from QEMU's execution trace.

Reads the log of

    qemu-system-riscv64 ... -accel tcg,one-insn-per-tb=on -d exec,nochain \\
        -dfilter 0xffffffff80200000..0xffffffff80300000 -D FIFO

from standard input (one `Trace` line per kernel instruction executed) and cuts it into
windows, one per kernel entry (a window starts at the trap vector, the symbol given by
--entry). Each instruction is counted for the function symbol of the kernel ELF (--kernel)
that contains it (names from tools/ksyms.py). Windows that executed every function named by
--match (substrings of the demangled symbol) and none named by --exclude are grouped by
length; for each length it prints how many windows had it and how many instructions each function took, and with
--dump the functions and addresses of the group's first window, one instruction per line,
to /tmp/kprof_<n>.txt.

usage: kprof.py --kernel ELF --match page_map [--exclude foo] [--max 50000] < fifo
See docs/PERFORMANCE.md.
"""
import argparse
import collections
import re
import sys

from ksyms import Symbols

ap = argparse.ArgumentParser()
ap.add_argument("--kernel", required=True, help="the kernel ELF that ran")
ap.add_argument("--match", action="append", default=[], help="substring of a symbol the window must run")
ap.add_argument("--exclude", action="append", default=[], help="substring of a symbol it must not run")
ap.add_argument("--entry", default="riscv_trap_entry", help="symbol of the trap vector")
ap.add_argument("--max", type=int, default=200000, help="windows longer than this are skipped")
ap.add_argument("--windows", type=int, default=100000, help="stop after this many windows")
ap.add_argument("--dump", action="store_true", help="write each group's instructions to /tmp/kprof_<n>.txt")
a = ap.parse_args()

syms = Symbols(a.kernel)
entry = syms.address(a.entry)
if entry is None:
    sys.exit("no symbol %s in %s" % (a.entry, a.kernel))
entry = "%x" % entry
name_of = {}


def func(addr):
    n = name_of.get(addr)
    if n is None:
        n = syms.name(int(addr, 16))
        name_of[addr] = n
    return n


line_re = re.compile(r"Trace \d+: 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/")
groups = collections.OrderedDict()  # length -> [count, per-function Counter, addresses]
win = []
seen = 0


def close(w):
    """Count the window `w` ((address, function) per instruction) if it matches."""
    if not w or len(w) > a.max:
        return
    names = set(n for _, n in w)
    if not all(any(m in n for n in names) for m in a.match):
        return
    if any(any(x in n for n in names) for x in a.exclude):
        return
    g = groups.get(len(w))
    if g is None:
        per = collections.Counter(n for _, n in w)
        groups[len(w)] = [1, per, [ad for ad, _ in w]]
    else:
        g[0] += 1


for line in sys.stdin:
    m = line_re.match(line)
    if not m:
        continue
    addr = m.group(1)
    if addr == entry:
        close(win)
        win = []
        seen += 1
        if seen > a.windows:
            break
    if len(win) <= a.max:
        win.append((addr, func(addr)))
close(win)

for n, (length, (count, per, addrs)) in enumerate(sorted(groups.items(), key=lambda x: -x[1][0])):
    print("===== %d instructions, %d windows" % (length, count))
    for f, c in per.most_common():
        print("  %6d  %s" % (c, f))
    if a.dump:
        with open("/tmp/kprof_%d.txt" % n, "w") as f:
            f.write("".join("%s %s\n" % (ad, func(ad)) for ad in addrs))
