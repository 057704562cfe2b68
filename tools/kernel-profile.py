#!/usr/bin/env python3
"""Kernel instructions per function and sel4test phase, from the `prof=` file of
tools/qemu-plugins/icount_uart.c (lines: block address, instructions in the create, test and
teardown phases).

usage: kernel-profile.py PROF KERNEL_ELF [COLUMN [N]]
  COLUMN 0/1/2 sorts by create/test/teardown (default: their sum); N rows (default 40).
Works for this kernel's ELF and for seL4's (kernel.elf of a seL4 build); function names come
from tools/ksyms.py.
"""
import sys

from ksyms import Symbols


def main():
    prof, elf = sys.argv[1], sys.argv[2]
    col = int(sys.argv[3]) if len(sys.argv) > 3 else None
    rows = int(sys.argv[4]) if len(sys.argv) > 4 else 40
    syms = Symbols(elf)
    per, total = {}, [0, 0, 0]
    for line in open(prof):
        pc, *counts = line.split()
        name = syms.name(int(pc, 16), unknown=pc)
        acc = per.setdefault(name, [0, 0, 0])
        for k in range(3):
            acc[k] += int(counts[k])
            total[k] += int(counts[k])
    print(f'{"function":64} {"create":>12} {"test":>12} {"teardown":>12}')
    print(f'{"(all kernel)":64} {total[0]:>12} {total[1]:>12} {total[2]:>12}')
    key = (lambda kv: kv[1][col]) if col is not None else (lambda kv: sum(kv[1]))
    for name, c in sorted(per.items(), key=key, reverse=True)[:rows]:
        print(f'{name[:64]:64} {c[0]:>12} {c[1]:>12} {c[2]:>12}')


if __name__ == '__main__':
    main()
