#!/usr/bin/env python3
"""Interleaved A/B of raw Steelyard-only harness outputs: results/ab-<commit>-steelyard-<n>.json.

Usage: python3 bench/ab_table.py f63f889 aeda878   (run from bench/ or the repo root)
"""
import glob, json, math, os, sys

here = os.path.dirname(os.path.abspath(__file__))

def pct(values, p):
    v = sorted(values)
    return v[max(0, min(len(v) - 1, math.ceil(p / 100 * len(v)) - 1))]

print('| run | weight p50 / p99 (ms) | CPU per weight push, mean (ms) | churn p50 / p99 (ms) | CPU per endpoint change, mean (ms) |')
print('|---|---|---:|---|---:|')
for commit in sys.argv[1:]:
    for path in sorted(glob.glob(os.path.join(here, f'results/ab-{commit}-steelyard-*.json'))):
        d = json.load(open(path))
        w, c = d['weight_1000']['runs'], d['churn_1000']['runs']
        wl, cl = [r['lastAckMs'] for r in w], [r['lastAckMs'] for r in c]
        mean = lambda runs: sum(r['serverCpuMs'] for r in runs) / len(runs)
        print(f'| {os.path.basename(path)} | {pct(wl, 50):.0f} / {pct(wl, 99):.0f} | {mean(w):.0f} '
              f'| {pct(cl, 50):.0f} / {pct(cl, 99):.0f} | {mean(c):.0f} |')
