#!/usr/bin/env python3
"""Kernel instructions per function and sel4test phase, from the `prof=` file of
tools/qemu-icount/icount_uart.c (lines: block address, instructions in the create, test and
teardown phases).

usage: kernel-profile.py PROF KERNEL_ELF [COLUMN [N]]
  COLUMN 0/1/2 sorts by create/test/teardown (default: their sum); N rows (default 40).
Works for this kernel's ELF and for seL4's (kernel.elf of a seL4 build).
"""
import bisect
import glob
import os
import shutil
import subprocess
import sys


def llvm_nm():
    found = sorted(glob.glob(os.path.expanduser('~/.rustup/toolchains/*/lib/rustlib/*/bin/llvm-nm')))
    return found[0] if found else shutil.which('llvm-nm') or 'nm'


def functions(elf):
    """(address, name) of the ELF's code symbols, sorted; local labels (`.L...`) skipped."""
    out = subprocess.run([llvm_nm(), '-n', '--demangle', elf], capture_output=True, text=True).stdout
    syms = []
    for line in out.splitlines():
        p = line.split(' ', 2)
        if len(p) == 3 and p[1] in 'tTwW' and not p[2].startswith('.L'):
            syms.append((int(p[0], 16), p[2]))
    return syms


def main():
    prof, elf = sys.argv[1], sys.argv[2]
    col = int(sys.argv[3]) if len(sys.argv) > 3 else None
    rows = int(sys.argv[4]) if len(sys.argv) > 4 else 40
    syms = functions(elf)
    addrs = [a for a, _ in syms]
    per, total = {}, [0, 0, 0]
    for line in open(prof):
        pc, *counts = line.split()
        i = bisect.bisect_right(addrs, int(pc, 16)) - 1
        name = syms[i][1] if i >= 0 else pc
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
