#!/usr/bin/env python3
"""Merges the three harness outputs into results/<stamp>.json and results/<stamp>.md."""
import argparse, json, os, platform, subprocess

ap = argparse.ArgumentParser()
for a in ["stamp", "server-opts", "client-opts", "n1", "n2", "warmup", "apps", "endpoints",
          "grpc-share", "out"]:
    ap.add_argument("--" + a)
ap.add_argument("files", nargs="+")
args = ap.parse_args()
n1, n2 = int(args.n1), int(args.n2)

runs = {}
for f in args.files:
    if os.path.exists(f):
        d = json.load(open(f))
        runs[d["server"]] = d

def get(server, *path):
    d = runs.get(server)
    for p in path:
        if d is None or p not in d:
            return None
        d = d[p]
    return d

def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()

rows = []  # (metric, floor, stock, steelyard, unit)
def row(label, path, unit="ms", scale=1.0):
    vals = [get(s, *path) for s in ("floor", "stock", "steelyard")]
    vals = [None if v is None else v * scale for v in vals]
    rows.append((label, vals, unit))
    return vals

w1 = f"weight_{n1}"; w2 = f"weight_{n2}"; c1 = f"churn_{n1}"
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
row(f"weight change: proxies that got bytes (max) / needing", (w1, "summary", "proxiesTouched", "max"), "proxies")
row(f"weight change: bytes sent per change (p50), N={n1}", (w1, "summary", "bytes", "p50"), "KB", 1 / 1024)
if n2 > n1:
    for stat in ("p50", "p99", "max"):
        row(f"weight change -> last ACK, N={n2}, {stat}", (w2, "summary", "lastAckMs", stat))
    row(f"weight change: server CPU per push (mean), N={n2}", (w2, "summary", "serverCpuMs", "mean"))
for stat in ("p50", "p99", "max"):
    row(f"endpoint churn -> last ACK, N={n1}, {stat}", (c1, "summary", "lastAckMs", stat))
row(f"endpoint churn: proxies that got bytes (max)", (c1, "summary", "proxiesTouched", "max"), "proxies")
row(f"endpoint churn: bytes sent per change (p50)", (c1, "summary", "bytes", "p50"), "KB", 1 / 1024)
row(f"endpoint churn: server CPU per change (mean)", (c1, "summary", "serverCpuMs", "mean"))
row(f"endpoint churn: of that, JIT compiling (mean)", (c1, "summary", "serverJitMs", "mean"))
row(f"endpoint churn: server GC time per change (mean)", (c1, "summary", "serverGcMs", "mean"))
row(f"endpoint churn: client harness CPU per change (mean)", (c1, "summary", "clientCpuMs", "mean"))
row(f"endpoint churn: client harness GC time per change (mean)", (c1, "summary", "clientGcMs", "mean"))
row(f"reconnect storm, N={n1}: all ACKed full config (p50)", (f"storm_{n1}", "p50"))
row(f"reconnect storm, N={n1}: all ACKed full config (max)", (f"storm_{n1}", "max"))
row(f"initial connect of {n1}: all ACKed full config", (f"connectMs_{n1}",))
row(f"heap per 1,000 proxies, N={n1} (after GC)", (f"steady_{n1}", "heapPer1000Bytes"), "MB", 1 / 2**20)
if n2 > n1:
    row(f"heap per 1,000 proxies, N={n2} (after GC)", (f"steady_{n2}", "heapPer1000Bytes"), "MB", 1 / 2**20)
    row(f"heap used at N={n2} (after GC)", (f"steady_{n2}", "heapUsedBytes"), "MB", 1 / 2**20)

def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b

def fmt(v, unit=""):
    if v is None:
        return "–"
    if isinstance(v, float) and abs(v) < 10:
        return f"{v:.2f}"
    return f"{v:,.0f}"

targets = []
def target(name, ok, detail):
    targets.append({"target": name, "met": ok, "detail": detail})

p99 = lambda s, k=w1: get(s, k, "summary", "lastAckMs", "p99")
sy, fl, st = p99("steelyard"), p99("floor"), p99("stock")
r_floor, r_stock = ratio(sy, fl), ratio(st, sy)
target(f"weight->last ACK p99 within 1.3x of floor (N={n1})", r_floor is not None and r_floor <= 1.3,
       f"Steelyard/floor = {fmt(r_floor)}")
target(f"weight->last ACK p99 at least 3x better than stock (N={n1})", r_stock is not None and r_stock >= 3,
       f"stock/Steelyard = {fmt(r_stock)}")
if n2 > n1:
    v = p99("steelyard", w2)
    target(f"N={n2} completes, p99 under 1 s", v is not None and v < 1000, f"p99 = {fmt(v)} ms")
v = get("steelyard", c1, "summary", "lastAckMs", "p99")
touched = get("steelyard", c1, "summary", "proxiesTouched", "max")
need = get("steelyard", c1, "summary", "proxiesNeeding")
target("endpoint churn: only proxies that need it get bytes", touched is not None and touched <= need,
       f"touched {fmt(touched)} of {fmt(need)} needing")
target("endpoint churn p99 under 100 ms", v is not None and v < 100, f"p99 = {fmt(v)} ms")
v = get("steelyard", f"storm_{n1}", "max")
target(f"reconnect storm of {n1} under 10 s", v is not None and v < 10000, f"max = {fmt(v)} ms")
heaps = [get("steelyard", f"steady_{n}", "heapPer1000Bytes") for n in (n1, n2) if n]
heaps = [h for h in heaps if h is not None]
target("heap under 0.5 GB per 1,000 proxies", bool(heaps) and max(heaps) < 0.5 * 2**30,
       "max " + fmt(max(heaps) / 2**20 if heaps else None) + " MB")
v = get("steelyard", w1, "summary", "serverCpuMs", "mean")
target(f"server CPU per weight push to {n1} under 200 ms", v is not None and v < 200, f"mean = {fmt(v)} ms")

try:
    commit = subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], text=True).strip()
except Exception:
    commit = "?"
meta = {
    "stamp": args.stamp, "commit": commit, "machine": {"cpus": os.cpu_count(), "cpu": cpu_model(),
    "os": platform.platform()}, "serverJvm": args.server_opts, "clientJvm": args.client_opts,
    "n1": n1, "n2": n2, "warmup": int(args.warmup or 0), "apps": int(args.apps), "endpointsPerSubset": int(args.endpoints),
    "grpcShare": float(args.grpc_share),
}
os.makedirs(args.out, exist_ok=True)
out = {"meta": meta, "targets": targets,
       "ratios": {"weightP99_steelyard_over_floor": r_floor, "weightP99_stock_over_steelyard": r_stock},
       "runs": runs}
json.dump(out, open(os.path.join(args.out, args.stamp + ".json"), "w"), indent=2)

md = [f"# Fan-out benchmark {args.stamp} (commit {commit})", "",
      f"{meta['machine']['cpus']} CPUs ({meta['machine']['cpu']}), {meta['machine']['os']}; "
      f"server JVM `{args.server_opts}`, client JVM `{args.client_opts}`; "
      f"{args.apps} apps x 3 subsets x {args.endpoints} endpoints; "
      f"{args.warmup} unreported weight and endpoint changes each before measuring; "
      f"{float(args.grpc_share):.0%} gRPC-like proxies, the rest Envoy-like.", "",
      "| metric | floor | stock | Steelyard | Steelyard/floor | stock/Steelyard |",
      "|---|---:|---:|---:|---:|---:|"]
for label, (f, s, y), unit in rows:
    md.append(f"| {label} ({unit}) | {fmt(f)} | {fmt(s)} | {fmt(y)} | {fmt(ratio(y, f))} | {fmt(ratio(s, y))} |")
md += ["", "| target | met | measured |", "|---|---|---|"]
for t in targets:
    md.append(f"| {t['target']} | {'yes' if t['met'] else '**no**'} | {t['detail']} |")
open(os.path.join(args.out, args.stamp + ".md"), "w").write("\n".join(md) + "\n")
print("\n".join(md))
