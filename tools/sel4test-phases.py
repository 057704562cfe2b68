#!/usr/bin/env python3
"""Per-test and per-phase guest-instruction counts of a sel4test run.

Input: the file written by tools/qemu-plugins/icount_uart.c (`out=`) (one line per byte the firmware
stores to the UART: total instructions, firmware instructions, kernel instructions, byte).
Phases of test N (the driver's and the test process's console lines):
  create   = "Starting test N" .. "Running test"     (driver builds the test process)
  test     = "Running test"    .. "Test X passed"    (the test itself)
  teardown = "Test X passed"   .. next "Starting test" (driver destroys the test process)
Tests that print no "Running test" line (the driver runs them itself) count as `test` whole.
Counts exclude firmware (SBI console) instructions; `kernel` counts only kernel addresses.
Usage: sel4test-phases.py RUN.cnt [OTHER.cnt]   (two files: side by side, ratio OTHER/RUN)
"""
import re, sys

def lines_of(path):
    """[(text, total-fw, kernel)] per console line, counts at the line's first byte."""
    out, cur, start = [], bytearray(), None
    for row in open(path):
        t, fw, k, c = (int(x) for x in row.split())
        if start is None:
            start = (t - fw, k)
        if c == 10:
            out.append((cur.decode('utf-8', 'replace').strip('\r'), start))
            cur, start = bytearray(), None
        elif c != 13:
            cur.append(c)
    return out

ANSI = re.compile(r'\x1b\[[0-9;]*m')

def phases(path):
    """{test: {phase: (all, kernel)}}, plus totals, in order."""
    ls = [(ANSI.sub('', s), c) for s, c in lines_of(path)]
    tests, order, cur = {}, [], None
    mark = {}
    def close(name, upto):
        m = mark
        ph = {}
        pts = [('start', m.get('start')), ('run', m.get('run')), ('pass', m.get('pass')), ('end', upto)]
        pts = [(n, c) for n, c in pts if c is not None]
        names = {('start', 'run'): 'create', ('run', 'pass'): 'test', ('pass', 'end'): 'teardown',
                 ('start', 'pass'): 'test', ('start', 'end'): 'test', ('run', 'end'): 'test'}
        for (a, ca), (b, cb) in zip(pts, pts[1:]):
            ph[names[(a, b)]] = (cb[0] - ca[0], cb[1] - ca[1])
        tests[name] = ph
        order.append(name)
    first = last = None
    for s, c in ls:
        m = re.search(r'Starting test (\d+): (\S+)', s)
        if m:
            if cur:
                close(cur, c)
            cur = m.group(2)
            mark.clear(); mark['start'] = c
            if first is None:
                first = c
            continue
        if cur and re.search(r'Running test ' + re.escape(cur) + r'\b', s):
            mark['run'] = c
        elif cur and re.search(r'Test ' + re.escape(cur) + r' passed', s):
            mark['pass'] = c
        if 'All is well in the universe' in s or re.search(r'Test suite passed', s):
            if cur:
                close(cur, c); cur = None
            last = c
    return tests, order, first, last

def main():
    runs = [phases(p) for p in sys.argv[1:]]
    tot = []
    for tests, order, first, last in runs:
        agg = {}
        for t in order:
            for ph, v in tests[t].items():
                a = agg.setdefault(ph, [0, 0]); a[0] += v[0]; a[1] += v[1]
        tot.append((agg, (last[0] - first[0], last[1] - first[1]) if last and first else None))
    hdr = '| phase | ' + ' | '.join(f'{p}: all / kernel' for p in sys.argv[1:]) + (' | ratio all / kernel |' if len(runs) == 2 else ' |')
    print(hdr)
    for ph in ('create', 'test', 'teardown'):
        vals = [a.get(ph, [0, 0]) for a, _ in tot]
        row = f'| {ph} | ' + ' | '.join(f'{v[0]} / {v[1]}' for v in vals)
        if len(runs) == 2:
            row += f' | {vals[1][0] / max(vals[0][0], 1):.2f} / {vals[1][1] / max(vals[0][1], 1):.2f}'
        print(row + ' |')
    vals = [w for _, w in tot]
    if None in vals:
        sys.exit('a run did not reach "All is well in the universe" (incomplete file?)')
    row = '| suite (first test start .. end) | ' + ' | '.join(f'{v[0]} / {v[1]}' for v in vals)
    if len(runs) == 2:
        row += f' | {vals[1][0] / vals[0][0]:.2f} / {vals[1][1] / vals[0][1]:.2f}'
    print(row + ' |')
    if len(runs) == 2:
        (ta, oa, _, _), (tb, ob, _, _) = runs
        diffs = []
        for t in oa:
            if t not in tb:
                continue
            for ph in ('create', 'test', 'teardown'):
                a = ta[t].get(ph); b = tb[t].get(ph)
                if a and b:
                    diffs.append((b[1] - a[1], t, ph, a, b))
        diffs.sort(reverse=True)
        print('\nlargest kernel-instruction gaps (test, phase, first run all/kernel, second run all/kernel, difference in kernel):')
        for d, t, ph, a, b in diffs[:40]:
            print(f'{t:24} {ph:9} {a[0]:>11} {a[1]:>11} {b[0]:>11} {b[1]:>11} {d:>+11}')
        print('\nsmallest:')
        for d, t, ph, a, b in diffs[-8:]:
            print(f'{t:24} {ph:9} {a[0]:>11} {a[1]:>11} {b[0]:>11} {b[1]:>11} {d:>+11}')

if __name__ == '__main__':
    main()
