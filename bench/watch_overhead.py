#!/usr/bin/env python3
"""Per-tick overhead and peak RSS of a real `vz-monitor watch` with 200 metrics.

Starts a loopback TCP listener, writes a config with 200 tcp-probe metrics and one rule per
metric (threshold, zscore, iqr, baseline, trend in turn), a baseline file, and runs
`watch --output json` several times. vz-monitor reports its own per-tick overhead
(detect + decide + store, excluding the wait for probes) in the JSON summary; peak RSS is
the child's ru_maxrss. Prints medians over the runs.

usage: bench/watch_overhead.py [--runs 3] [--duration 15s] [--interval 500ms] [--bin target/release/vz-monitor]
"""
import argparse, json, os, random, resource, socket, statistics, subprocess, sys, tempfile, threading

ap = argparse.ArgumentParser()
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--metrics", type=int, default=200)
ap.add_argument("--duration", default="15s")
ap.add_argument("--interval", default="500ms")
ap.add_argument("--bin", default="target/release/vz-monitor")
a = ap.parse_args()

srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0)); srv.listen(1024)
port = srv.getsockname()[1]
def accept():
    while True:
        try:
            c, _ = srv.accept(); c.close()
        except OSError:
            return
threading.Thread(target=accept, daemon=True).start()

detectors = [
    '{ threshold: { op: ">", value: 100000 } }',
    '{ zscore: { threshold: 1000, robust: true } }',
    '{ iqr: { k: 1000 } }',
    '{ baseline: { stat: p95, direction: increase, max_change: "1000%" } }',
    '{ trend: { min_slope_per_min: 100000, min_r2: 0.99 } }',
]
work = tempfile.mkdtemp(prefix="vz-bench-")
lines = ["deployment: bench", "metrics:"]
for i in range(a.metrics):
    lines.append(f"  m{i}:\n    probe: {{ tcp: {{ address: \"127.0.0.1:{port}\", timeout: 2s, value: connect_ms }} }}")
lines.append("rules:")
for i in range(a.metrics):
    lines.append(f"  - {{ name: r{i}, metric: m{i}, detector: {detectors[i % len(detectors)]}, severity: low }}")
open(os.path.join(work, "vz-monitor.yaml"), "w").write("\n".join(lines) + "\n")
rng = random.Random(7)
base = {f"m{i}": [rng.uniform(0.05, 0.3) for _ in range(120)] for i in range(a.metrics)}
json.dump({"deployment": "bench", "created_at": 0, "source": "bench", "config_digest": "", "series": base},
          open(os.path.join(work, "baseline.json"), "w"))

binary = os.path.abspath(a.bin)
medians, maxes, rss, ticks = [], [], [], []
for run in range(a.runs):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    p = subprocess.run([binary, "--db", os.path.join(work, f"run{run}.db"), "watch", "--baseline", "baseline.json",
                        "--duration", a.duration, "--interval", a.interval, "--output", "json"],
                       cwd=work, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"watch exited {p.returncode}: {p.stderr[-2000:]}")
    s = json.loads(p.stdout)
    medians.append(s["tick_overhead_ms"]["median"]); maxes.append(s["tick_overhead_ms"]["max"]); ticks.append(s["ticks"])
    # ru_maxrss of RUSAGE_CHILDREN is the max over children so far (KiB on Linux).
    rss.append(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
print(f"watch, {a.metrics} metrics x 1 rule each, {a.duration} at {a.interval}, {a.runs} runs, {statistics.median(ticks)} ticks/run")
print(f"  per-tick overhead (detect + decide + store, no probe wait): median {statistics.median(medians):.3f} ms, "
      f"worst run's max {max(maxes):.3f} ms (runs: {', '.join(f'{m:.3f}' for m in medians)})")
print(f"  peak RSS: {max(rss):.1f} MiB (target < 30 MiB)")
