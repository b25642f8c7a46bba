#!/usr/bin/env python3
"""Lists the mutants of a Stryker JSON report with a given status (default Survived), each with
its file:line:column, mutator, original text and replacement.
Usage: bench/stryker-survivors.py REPORT.json [Status,Status] [path-substring]
Without a path filter it also prints each file's counts by status."""
import json, sys, collections
rep = json.load(open(sys.argv[1]))
want = set(sys.argv[2].split(',')) if len(sys.argv) > 2 else {'Survived'}
only = sys.argv[3] if len(sys.argv) > 3 else ''
tot = collections.defaultdict(collections.Counter)
for path, f in sorted(rep['files'].items()):
    src = f['source'].split('\n')
    short = path.split('/src/NestedApic/')[-1]
    for m in f['mutants']:
        tot[short][m['status']] += 1
    if only and only not in short: continue
    for m in sorted(f['mutants'], key=lambda m: (m['location']['start']['line'], m['location']['start']['column'])):
        if m['status'] not in want: continue
        s, e = m['location']['start'], m['location']['end']
        if s['line'] == e['line']:
            orig = src[s['line']-1][s['column']-1:e['column']-1]
        else:
            orig = src[s['line']-1][s['column']-1:] + ' ...'
        print(f"{short}:{s['line']}:{s['column']} [{m['status']}] {m['mutatorName']}: {orig.strip()[:90]!r} -> {m.get('replacement','')[:90]!r}")
if len(sys.argv) <= 3:
    print()
    for k, c in sorted(tot.items()):
        print(f"{k:45s} " + ' '.join(f"{s}={n}" for s, n in sorted(c.items())))
