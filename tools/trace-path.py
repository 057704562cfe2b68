#!/usr/bin/env python3
"""Instruction-level profile of one kernel path, from QEMU's execution trace.

Reads `qemu-system-riscv64 ... -d exec,nochain,in_asm -dfilter <kernel range> -D FIFO` from
standard input and prints, for the first windows (trap entry to the next trap entry) that
execute the function at address TRY but not the one at SLOW, how many kernel instructions ran
and in which functions (the names QEMU's `in_asm` log gives the blocks); each window's
instructions go to /tmp/path_<n>.txt. A window starts at the trap vector: `riscv_trap_entry`
of KERNEL_ELF (through tools/ksyms.py), else the address ENTRY (hex). See tools/README.md and
docs/PERFORMANCE.md for how to run it.

usage: trace-path.py TRY_ADDR SLOW_ADDR (KERNEL_ELF | ENTRY) < fifo
"""
import re, sys, collections
from ksyms import Symbols
if len(sys.argv) != 4:
    sys.exit(__doc__)
try:
    ENTRY = int(sys.argv[3], 16)
except ValueError:
    ENTRY = Symbols(sys.argv[3]).address('riscv_trap_entry')
TRY=int(sys.argv[1],16); SLOW=int(sys.argv[2],16)
tb = {}; cur=None; name=''
window=[]; found=[]
for line in sys.stdin:
    if line.startswith('IN:'):
        cur=[]; name=line[3:].strip(); continue
    if cur is not None:
        m = re.match(r'(0x[0-9a-f]+):\s+[0-9a-f]+\s+(.*)', line)
        if m:
            cur.append((int(m.group(1),16), m.group(2).strip(), name)); continue
    if line.startswith('Trace'):
        a = int(re.search(r'/([0-9a-f]+)/', line).group(1),16)
        if cur: tb[cur[0][0]] = cur; cur=None
        if a == ENTRY:
            if window and TRY in window and SLOW not in window:
                found.append(list(window))
                if len(found) == 6: break
            window=[]
        window.append(a)
for i,w in enumerate(found):
    total=sum(len(tb[a]) for a in w)
    print("===== window", i, "kernel instructions:", total)
    per=collections.Counter()
    for a in w:
        for (ad,txt,nm) in tb[a]:
            per[nm[:60]]+=1
    for n,v in per.most_common(): print("  ", v, n)
    with open('/tmp/path_%d.txt'%i,'w') as f:
        for a in w:
            for (ad,txt,nm) in tb[a]:
                f.write("%s %s    %s\n"%(hex(ad)[-6:], txt[:60], nm[:40]))
