#!/usr/bin/env python3
"""Interleaved A/B of raw Steelyard-only harness outputs: results/ab-<label>-steelyard-<n>.json.

Usage: python3 bench/ab_table.py f63f889 aeda878   (run from bench/ or the repo root)
Server GC pauses come from results/ab-<label>-steelyard-<n>.gc.txt when that file exists
(the "Pause Young" lines of -Xlog:gc, over the whole run including warm-up).
"""
import glob, json, math, os, re, sys

here = os.path.dirname(os.path.abspath(__file__))

def pct(values, p):
    v = sorted(values)
    return v[max(0, min(len(v) - 1, math.ceil(p / 100 * len(v)) - 1))]

def pauses(path):
    if not os.path.exists(path):
        return '–'
    ms = [float(m.group(1)) for m in re.finditer(r'Pause Young.* ([\d.]+)ms', open(path).read())]
    return f'{len(ms)} / {pct(ms, 50):.0f} / {max(ms):.0f}' if ms else '0'

print('| run | weight p50 / p99 (ms) | CPU per weight push, mean (ms) | churn p50 / p99 (ms) '
      '| CPU per endpoint change, mean (ms) | changes with a server GC (weight, churn) '
      '| server young GCs: count / p50 / max (ms) | heap per 1,000 proxies (MB) |')
print('|---|---|---:|---|---:|---|---|---:|')
for label in sys.argv[1:]:
    for path in sorted(glob.glob(os.path.join(here, f'results/ab-{label}-steelyard-*.json'))):
        d = json.load(open(path))
        w, c = d['weight_1000']['runs'], d['churn_1000']['runs']
        wl, cl = [r['lastAckMs'] for r in w], [r['lastAckMs'] for r in c]
        mean = lambda runs: sum(r['serverCpuMs'] for r in runs) / len(runs)
        gc = lambda runs: sum(1 for r in runs if r.get('serverGcMs', 0) > 0)
        print(f'| {os.path.basename(path)} | {pct(wl, 50):.0f} / {pct(wl, 99):.0f} | {mean(w):.0f} '
              f'| {pct(cl, 50):.0f} / {pct(cl, 99):.0f} | {mean(c):.0f} | {gc(w)}, {gc(c)} '
              f'| {pauses(path[:-len(".json")] + ".gc.txt")} '
              f'| {d["steady_1000"]["heapPer1000Bytes"] / 2**20:.0f} |')
