#!/usr/bin/env python3
"""Steelyard before/after table from committed results (bench/README.md)."""
import json,sys
files=[('before (b7e2378)','results/before-fix.json'),('+ named versions, cached serializer (748d771)','results/2026-11-26T2005.json'),('+ instance reuse, no re-hash (fdfa9ae)',sys.argv[1] if len(sys.argv) > 1 else 'results/2026-11-26T2015.json')]
rows=[('weight -> last ACK p50, N=1000 (ms)',('weight_1000','summary','lastAckMs','p50')),
('weight -> last ACK p99, N=1000 (ms)',('weight_1000','summary','lastAckMs','p99')),
('server CPU per weight push, N=1000 (ms, mean)',('weight_1000','summary','serverCpuMs','mean')),
('proxies that got bytes per weight change (of 520 needing)',('weight_1000','summary','proxiesTouched','max')),
('endpoint churn -> last ACK p50 (ms)',('churn_1000','summary','lastAckMs','p50')),
('endpoint churn -> last ACK p99 (ms)',('churn_1000','summary','lastAckMs','p99')),
('server CPU per endpoint change (ms, mean)',('churn_1000','summary','serverCpuMs','mean')),
('proxies that got bytes per endpoint change (of 520 needing)',('churn_1000','summary','proxiesTouched','max')),
('bytes per endpoint change (KB, p50)',('churn_1000','summary','bytes','p50')),
('reconnect storm of 1000, max (ms)',('storm_1000','max')),
('heap per 1,000 proxies (MB)',('steady_1000','heapPer1000Bytes')),
]
data=[json.load(open(f))['runs']['steelyard'] for _,f in files]
out=['| Steelyard, same harness | '+' | '.join(n for n,_ in files)+' |','|---|'+'---:|'*len(files)]
for label,path in rows:
    vals=[]
    for d in data:
        v=d
        for p in path: v=v[p]
        if 'heap' in label: v=v/2**20
        if 'KB' in label: v=v/1024
        vals.append(f'{v:,.0f}')
    out.append(f'| {label} | '+' | '.join(vals)+' |')
print('\n'.join(out))
