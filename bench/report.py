#!/usr/bin/env python3
"""Merges the harness outputs (one per fleet, every server and every round in each) into
results/<stamp>.json and results/<stamp>.md.

Per fleet: the pooled values (all rounds' repetitions together) of every metric, and for the
metrics that decide the targets the ratios Steelyard/floor and stock/Steelyard computed within
each round, with their median and spread (min-max) over the rounds. A round runs the servers
one after the other within a few minutes, so a ratio within a round compares servers under
about the same machine load; the targets use the median of the per-round ratios.
"""
import argparse, json, os, platform, statistics, subprocess

ap = argparse.ArgumentParser()
for a in ["stamp", "server-opts", "client-opts", "endpoints", "grpc-share", "elapsed", "out"]:
    ap.add_argument("--" + a)
ap.add_argument("files", nargs="+")
args = ap.parse_args()


def dig(d, *path):
    for p in path:
        if d is None:
            return None
        if isinstance(d, list):
            d = d[p] if isinstance(p, int) and p < len(d) else None
        elif p in d:
            d = d[p]
        else:
            return None
    return d


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def fmt(v):
    if v is None:
        return "–"
    if isinstance(v, float) and abs(v) < 10:
        return f"{v:.2f}"
    return f"{v:,.0f}"


def spread(values):
    vals = [v for v in values if v is not None]
    if not vals:
        return None, None, None
    return statistics.median(vals), min(vals), max(vals)


def fmt_spread(values):
    med, lo, hi = spread(values)
    if med is None:
        return "–"
    return f"{fmt(med)} ({fmt(lo)}-{fmt(hi)})"


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


try:
    commit = subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], text=True).strip()
    dirty = subprocess.call(["git", "diff", "--quiet", "HEAD", "--", "."]) != 0
except Exception:
    commit, dirty = "?", False

SERVERS = ("floor", "stock", "steelyard")
fleets = []
for f in args.files:
    if os.path.exists(f):
        fleets.append(json.load(open(f)))

out_fleets = {}
md = [f"# Fan-out benchmark {args.stamp} (commit {commit}{', with uncommitted changes' if dirty else ''})", "",
      f"{os.cpu_count()} CPUs ({cpu_model()}), {platform.platform()}; server JVM "
      f"`{args.server_opts}`, client JVM `{args.client_opts}`; {args.endpoints} endpoints per "
      f"subset; {float(args.grpc_share):.0%} gRPC-like proxies, the rest Envoy-like. "
      f"Whole run (build included): {int(args.elapsed or 0) // 60} min {int(args.elapsed or 0) % 60} s.",
      ""]
fifty_cpu = None  # Steelyard's CPU per weight push in the 50-app fleet, for the 1,000-app target

for fleet in fleets:
    runs = fleet["servers"]
    apps = fleet["apps"]
    nrounds = fleet["rounds"]
    any_run = next(iter(runs.values()))
    n1 = next(int(k.split("_")[1]) for k in any_run if k.startswith("connectMs_"))
    n2s = sorted({int(k.split("_")[1]) for r in runs.values() for k in r
                  if k.startswith("weight_") and int(k.split("_")[1]) != n1})
    n2 = n2s[0] if n2s else 0
    scope = any_run.get("sidecarScope", 0)
    w1, w2, c1, rb1 = f"weight_{n1}", f"weight_{n2}", f"churn_{n1}", f"rollback_{n1}"

    def get(server, *path):
        return dig(runs.get(server), *path)

    rows = []  # (label, [floor, stock, steelyard], unit)

    def row(label, path, unit="ms", scale=1.0):
        vals = [get(s, *path) for s in SERVERS]
        vals = [None if v is None else v * scale for v in vals]
        if any(v is not None for v in vals):
            rows.append((label, vals, unit))

    for stat in ("p50", "p99", "max"):
        row(f"weight change -> last ACK, N={n1}, {stat}", (w1, "summary", "lastAckMs", stat))
    row(f"weight change: per-proxy ACK p99 (median over reps), N={n1}", (w1, "summary", "perProxyP99Ms", "p50"))
    row(f"weight change: REST/trigger call returned (p50), N={n1}", (w1, "summary", "triggerReturnedMs", "p50"))
    row(f"weight change: server CPU per push (mean), N={n1}", (w1, "summary", "serverCpuMs", "mean"))
    row(f"weight change: server CPU per push (p50), N={n1}", (w1, "summary", "serverCpuMs", "p50"))
    row(f"weight change: of that, JIT compiling (mean), N={n1}", (w1, "summary", "serverJitMs", "mean"))
    row(f"weight change: server GC time per change (mean), N={n1}", (w1, "summary", "serverGcMs", "mean"))
    row(f"weight change: client harness CPU per change (mean), N={n1}", (w1, "summary", "clientCpuMs", "mean"))
    row(f"weight change: client harness GC time per change (mean), N={n1}", (w1, "summary", "clientGcMs", "mean"))
    row(f"weight change: proxies needing it", (w1, "summary", "proxiesNeeding"), "proxies")
    row(f"weight change: proxies that got bytes (max)", (w1, "summary", "proxiesTouched", "max"), "proxies")
    row(f"weight change: bytes sent per change (p50), N={n1}", (w1, "summary", "bytes", "p50"), "KB", 1 / 1024)
    if n2:
        for stat in ("p50", "p99", "max"):
            row(f"weight change -> last ACK, N={n2}, {stat}", (w2, "summary", "lastAckMs", stat))
        row(f"weight change: server CPU per push (mean), N={n2}", (w2, "summary", "serverCpuMs", "mean"))
        row(f"weight change: client harness CPU per change (mean), N={n2}", (w2, "summary", "clientCpuMs", "mean"))
        row(f"weight change: client harness GC time per change (mean), N={n2}", (w2, "summary", "clientGcMs", "mean"))
        row(f"weight change: bytes sent per change (p50), N={n2}", (w2, "summary", "bytes", "p50"), "KB", 1 / 1024)
    for stat in ("p50", "p99", "max"):
        row(f"endpoint churn -> last ACK, N={n1}, {stat}", (c1, "summary", "lastAckMs", stat))
    row(f"endpoint churn: proxies needing it", (c1, "summary", "proxiesNeeding"), "proxies")
    row(f"endpoint churn: proxies that got bytes (max)", (c1, "summary", "proxiesTouched", "max"), "proxies")
    row(f"endpoint churn: bytes sent per change (p50)", (c1, "summary", "bytes", "p50"), "KB", 1 / 1024)
    row(f"endpoint churn: server CPU per change (mean)", (c1, "summary", "serverCpuMs", "mean"))
    row(f"endpoint churn: of that, JIT compiling (mean)", (c1, "summary", "serverJitMs", "mean"))
    row(f"endpoint churn: server GC time per change (mean)", (c1, "summary", "serverGcMs", "mean"))
    row(f"endpoint churn: client harness CPU per change (mean)", (c1, "summary", "clientCpuMs", "mean"))
    row(f"endpoint churn: client harness GC time per change (mean)", (c1, "summary", "clientGcMs", "mean"))
    for stat in ("p50", "p99", "max"):
        row(f"rollback (floor, stock: weight to 0) -> last ACK, N={n1}, {stat}", (rb1, "summary", "lastAckMs", stat))
    row(f"rollback: REST/trigger call returned (p50), N={n1}", (rb1, "summary", "triggerReturnedMs", "p50"))
    row(f"rollback: server CPU per change (mean), N={n1}", (rb1, "summary", "serverCpuMs", "mean"))
    row(f"reconnect storm, N={n1}: all ACKed full config (p50)", (f"storm_{n1}", "p50"))
    row(f"reconnect storm, N={n1}: all ACKed full config (max)", (f"storm_{n1}", "max"))
    row(f"initial connect of {n1}: all ACKed full config", (f"connectMs_{n1}",))
    if n2:
        row(f"connect from {n1} up to {n2} (round 1): all ACKed full config", (f"connectMs_{n2}",))
    row(f"heap per 1,000 proxies, N={n1} (after GC)", (f"steady_{n1}", "heapPer1000Bytes"), "MB", 1 / 2**20)
    if n2:
        row(f"heap per 1,000 proxies, N={n2} (after GC)", (f"steady_{n2}", "heapPer1000Bytes"), "MB", 1 / 2**20)
        row(f"heap used at N={n2} (after GC)", (f"steady_{n2}", "heapUsedBytes"), "MB", 1 / 2**20)

    # Per-round ratios of the metrics that decide the targets.
    per_round = {}  # key -> {"label", "steelyard/floor": [...], "stock/steelyard": [...], values}
    metrics = [
        ("weightP50", f"weight -> last ACK p50, N={n1}", (w1, "summary", "lastAckMs", "p50")),
        ("weightP99", f"weight -> last ACK p99, N={n1}", (w1, "summary", "lastAckMs", "p99")),
        ("weightCpu", f"server CPU per weight push (mean), N={n1}", (w1, "summary", "serverCpuMs", "mean")),
        ("weightBytes", f"bytes per weight change (p50), N={n1}", (w1, "summary", "bytes", "p50")),
        ("churnP50", f"endpoint churn -> last ACK p50", (c1, "summary", "lastAckMs", "p50")),
        ("churnP99", f"endpoint churn -> last ACK p99", (c1, "summary", "lastAckMs", "p99")),
        ("churnCpu", f"server CPU per endpoint change (mean)", (c1, "summary", "serverCpuMs", "mean")),
        ("churnBytes", f"bytes per endpoint change (p50)", (c1, "summary", "bytes", "p50")),
        ("rollbackP50", f"rollback (others: weight to 0) -> last ACK p50", (rb1, "summary", "lastAckMs", "p50")),
        ("rollbackP99", f"rollback (others: weight to 0) -> last ACK p99", (rb1, "summary", "lastAckMs", "p99")),
    ]
    if n2:
        metrics += [
            ("weightP99_n2", f"weight -> last ACK p99, N={n2}", (w2, "summary", "lastAckMs", "p99")),
            ("weightCpu_n2", f"server CPU per weight push (mean), N={n2}", (w2, "summary", "serverCpuMs", "mean")),
        ]
    for key, label, path in metrics:
        vals = {s: [dig(r, *path) for r in (get(s, "rounds") or [])] for s in SERVERS}
        if not any(v is not None for vs in vals.values() for v in vs):
            continue
        sf = [ratio(y, f) for y, f in zip(vals["steelyard"], vals["floor"])]
        ss = [ratio(s, y) for s, y in zip(vals["stock"], vals["steelyard"])]
        pooled = {s: get(s, *path) for s in SERVERS}
        per_round[key] = {"label": label, "values": vals, "steelyard/floor": sf, "stock/steelyard": ss,
                          "pooled": pooled,
                          "pooledSteelyardOverFloor": ratio(pooled["steelyard"], pooled["floor"]),
                          "pooledStockOverSteelyard": ratio(pooled["stock"], pooled["steelyard"])}

    targets = []

    def target(name, ok, detail):
        targets.append({"target": name, "met": ok, "detail": detail})

    def med(key, which):
        m = per_round.get(key)
        return spread(m[which])[0] if m else None

    def rdetail(key, which, what):
        m = per_round.get(key)
        return f"{what} = {fmt_spread(m[which]) if m else '–'} (median of rounds, min-max); pooled " \
               f"{fmt(m['pooledSteelyardOverFloor' if which == 'steelyard/floor' else 'pooledStockOverSteelyard']) if m else '–'}"

    limit = 1.3 if apps >= 1000 else 1.1
    v = med("weightP99", "steelyard/floor")
    target(f"weight->last ACK p99 within {limit}x of floor (N={n1}, {apps} apps; issue 20)",
           v is not None and v <= limit, rdetail("weightP99", "steelyard/floor", "Steelyard/floor"))
    if apps < 1000:
        target(f"weight->last ACK p99 within 1.3x of floor (N={n1}; issue 14)",
               v is not None and v <= 1.3, f"Steelyard/floor = {fmt(v)} (median of rounds)")
    if "stock" in runs:
        v = med("weightP99", "stock/steelyard")
        target(f"weight->last ACK p99 at least 3x better than stock (N={n1})",
               v is not None and v >= 3, rdetail("weightP99", "stock/steelyard", "stock/Steelyard"))
    if n2:
        v = get("steelyard", w2, "summary", "lastAckMs", "p99")
        target(f"N={n2} completes, p99 under 1 s", v is not None and v < 1000,
               f"pooled p99 = {fmt(v)} ms, per round {', '.join(fmt(x) for x in per_round.get('weightP99_n2', {}).get('values', {}).get('steelyard', []))}")
    touched = get("steelyard", c1, "summary", "proxiesTouched", "max")
    need = get("steelyard", c1, "summary", "proxiesNeeding")
    target("endpoint churn: only proxies that need it get bytes",
           touched is not None and need is not None and touched <= need,
           f"touched {fmt(touched)} of {fmt(need)} needing")
    v = get("steelyard", c1, "summary", "lastAckMs", "p99")
    target("endpoint churn p99 under 100 ms", v is not None and v < 100,
           f"pooled p99 = {fmt(v)} ms; per round {', '.join(fmt(x) for x in per_round.get('churnP99', {}).get('values', {}).get('steelyard', []))}")
    if apps >= 1000:
        v = med("churnBytes", "steelyard/floor")
        target("endpoint churn bytes within 1.2x of floor (issue 20)", v is not None and v <= 1.2,
               rdetail("churnBytes", "steelyard/floor", "Steelyard/floor"))
        v = med("churnP99", "steelyard/floor")
        target("endpoint churn p99 within 1.5x of floor (issue 20)", v is not None and v <= 1.5,
               rdetail("churnP99", "steelyard/floor", "Steelyard/floor"))
        v = get("steelyard", w1, "summary", "serverCpuMs", "mean")
        if fifty_cpu:
            target("server CPU per weight push within 2x of the 50-app fleet's (issue 20)",
                   v is not None and v <= 2 * fifty_cpu,
                   f"{fmt(v)} ms against {fmt(fifty_cpu)} ms ({fmt(ratio(v, fifty_cpu))}x, pooled means)")
    else:
        fifty_cpu = get("steelyard", w1, "summary", "serverCpuMs", "mean")
    if "rollbackP99" in per_round:
        v = get("steelyard", rb1, "summary", "lastAckMs", "p99")
        target(f"rollback -> last ACK p99 under 100 ms (N={n1}, issue 20)", v is not None and v < 100,
               f"pooled p99 = {fmt(v)} ms (reps {get('steelyard', rb1, 'summary', 'reps')})")
    v = get("steelyard", f"storm_{n1}", "max")
    target(f"reconnect storm of {n1} under 10 s", v is not None and v < 10000, f"max = {fmt(v)} ms")
    heaps = [get("steelyard", f"steady_{n}", "heapPer1000Bytes") for n in (n1, n2) if n]
    heaps = [h for h in heaps if h is not None]
    target("heap under 0.5 GB per 1,000 proxies", bool(heaps) and max(heaps) < 0.5 * 2**30,
           "max " + fmt(max(heaps) / 2**20 if heaps else None) + " MB")
    v = get("steelyard", w1, "summary", "serverCpuMs", "mean")
    target(f"server CPU per weight push to {n1} under 200 ms", v is not None and v < 200, f"mean = {fmt(v)} ms")

    meta = {"apps": apps, "rounds": nrounds, "order": fleet.get("order"), "n1": n1, "n2": n2,
            "sidecarScope": scope, "harnessSeconds": fleet.get("harnessSeconds"),
            "reps": {k: get("steelyard", k, "summary", "reps") for k in (w1, c1, w2, rb1)}}
    out_fleets[str(apps)] = {"meta": meta, "targets": targets, "perRoundRatios": per_round,
                             "client": fleet.get("client"), "runs": runs}

    # ---- markdown section
    md += [f"## {apps} apps, {n1} proxies" + (f" (and {n2})" if n2 else "")
           + (f", sidecar scope {scope} apps" if scope else ""), "",
           f"{apps} apps x 3 subsets x {args.endpoints} endpoints; {nrounds} rounds in the order "
           f"{', '.join(fleet.get('order', []))}; repetitions per server: weight {meta['reps'][w1]}, "
           f"churn {meta['reps'][c1]}" + (f", weight at N={n2} {meta['reps'][w2]}" if n2 else "")
           + (f", rollback {meta['reps'][rb1]}" if meta['reps'][rb1] else "")
           + f"; harness {fmt(fleet.get('harnessSeconds'))} s.", "",
           "Ratios per round (each round: the servers one after the other; median and min-max over rounds):", "",
           "| metric | floor / stock / Steelyard per round | Steelyard/floor per round | median (min-max) | pooled | stock/Steelyard per round | median (min-max) | pooled |",
           "|---|---|---|---|---:|---|---|---:|"]
    for key, m in per_round.items():
        scale = 1 / 1024 if key.endswith("Bytes") else 1
        unit = "KB" if key.endswith("Bytes") else "ms"
        def at(s, i):
            v = m["values"][s]
            return None if i >= len(v) or v[i] is None else v[i] * scale
        vals = " ; ".join("/".join(fmt(at(s, i)) for s in SERVERS)
                          for i in range(max(len(v) for v in m["values"].values())))
        md.append(f"| {m['label']} ({unit}) | {vals} | {', '.join(fmt(x) for x in m['steelyard/floor'])} | "
                  f"{fmt_spread(m['steelyard/floor'])} | {fmt(m['pooledSteelyardOverFloor'])} | "
                  f"{', '.join(fmt(x) for x in m['stock/steelyard'])} | {fmt_spread(m['stock/steelyard'])} | "
                  f"{fmt(m['pooledStockOverSteelyard'])} |")
    md += ["", "Pooled over all rounds:", "",
           "| metric | floor | stock | Steelyard | Steelyard/floor | stock/Steelyard |",
           "|---|---:|---:|---:|---:|---:|"]
    for label, (f, s, y), unit in rows:
        md.append(f"| {label} ({unit}) | {fmt(f)} | {fmt(s)} | {fmt(y)} | {fmt(ratio(y, f))} | {fmt(ratio(s, y))} |")
    client = fleet.get("client") or {}
    if client:
        md += ["", "Client harness JVM (heap after GC, open descriptors, threads):", ""]
        for k, c in client.items():
            md.append(f"- {k}: heap {fmt(c['heapUsedBytes'] / 2**20)} MB of {fmt(c['heapMaxBytes'] / 2**20)}, "
                      f"{c['openFds']} fds, {c['threads']} threads")
    md += ["", "| target | met | measured |", "|---|---|---|"]
    for t in targets:
        md.append(f"| {t['target']} | {'yes' if t['met'] else '**no**'} | {t['detail']} |")
    md.append("")

meta = {"stamp": args.stamp, "commit": commit, "dirty": dirty,
        "machine": {"cpus": os.cpu_count(), "cpu": cpu_model(), "os": platform.platform()},
        "serverJvm": args.server_opts, "clientJvm": args.client_opts,
        "endpointsPerSubset": int(args.endpoints), "grpcShare": float(args.grpc_share),
        "elapsedSeconds": int(args.elapsed or 0)}
os.makedirs(args.out, exist_ok=True)
json.dump({"meta": meta, "fleets": out_fleets}, open(os.path.join(args.out, args.stamp + ".json"), "w"), indent=2)
open(os.path.join(args.out, args.stamp + ".md"), "w").write("\n".join(md) + "\n")
print("\n".join(md))
