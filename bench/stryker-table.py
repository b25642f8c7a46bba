#!/usr/bin/env python3
"""Markdown table of a Stryker JSON report: per file killed / timeout / survived / no coverage /
compile errors and Stryker's score ((killed + timeout) / (killed + timeout + survived + no coverage)).
Usage: bench/stryker-table.py REPORT.json"""
import json, sys, collections
rep = json.load(open(sys.argv[1]))
rows = []
tot = collections.Counter()
for path, f in sorted(rep['files'].items()):
    c = collections.Counter(m['status'] for m in f['mutants'])
    tested = c['Killed'] + c['Timeout'] + c['Survived'] + c['NoCoverage']
    if tested == 0: continue
    tot.update(c)
    short = path.split('/src/NestedApic/')[-1]
    score = 100 * (c['Killed'] + c['Timeout']) / tested
    rows.append(f"| {short} | {c['Killed']} | {c['Timeout']} | {c['Survived']} | {c['NoCoverage']} | {c['CompileError']} | {score:.1f} % |")
print("| file | killed | timeout | survived | no coverage | compile error | score |")
print("|---|---:|---:|---:|---:|---:|---:|")
print('\n'.join(rows))
tested = tot['Killed'] + tot['Timeout'] + tot['Survived'] + tot['NoCoverage']
print(f"| all | {tot['Killed']} | {tot['Timeout']} | {tot['Survived']} | {tot['NoCoverage']} | {tot['CompileError']} | {100 * (tot['Killed'] + tot['Timeout']) / tested:.1f} % |")
