#!/usr/bin/env python3
"""`vz-monitor backtest` on a week of 15 s history for 20 metrics, from a real Prometheus.

Writes a week (ending a minute ago) of 20 synthetic gauges at 15 s — each stationary noise
around its own level with a daily cycle, no incident — as OpenMetrics, loads it with
`promtool tsdb create-blocks-from openmetrics` into a temp TSDB, starts Prometheus on a free
loopback port (scraping nothing, 60 days of retention), and writes a config watching the
20 metrics 15 minutes every 15 s with one `baseline` rule each (p95, max_change 20 %,
critical; policy critical: 1).

Then, per run, `vz-monitor backtest --since 7d --every 1h` as a whole process (wall time
and the child's CPU, user + sys, from rusage):

- with the minimum detectable effect (`--mde-windows 40`, the default);
- without it (`--mde-windows 0`): reading the history and replaying the 167 windows.

Prints the medians over --runs, the range queries the backtest made, and what it found
(windows, rollbacks: on this history every rollback is a false one).

usage: bench/backtest.py [--runs 5] [--metrics 20] [--bin target/release/vz-monitor]
"""
import argparse, json, math, os, random, resource, socket, statistics, subprocess, sys, tempfile, time
import urllib.parse, urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("--runs", type=int, default=5)
ap.add_argument("--metrics", type=int, default=20)
ap.add_argument("--bin", default="target/release/vz-monitor")
a = ap.parse_args()
a.bin = os.path.abspath(a.bin)


def which(name):
    for d in os.environ.get("PATH", "").split(":") + ["/usr/bin"]:
        p = os.path.join(d, name)
        if os.path.isfile(p):
            return p
    sys.exit(f"{name} not found: run .ci/setup.sh or apt-get install prometheus")


prom_bin, promtool = which("prometheus"), which("promtool")
if not os.path.isfile(a.bin):
    sys.exit(f"{a.bin} not found: cargo build --release")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


STEP, DAY = 15, 86_400
end = (int(time.time()) - 60) // STEP * STEP
start = end - 7 * DAY
work = tempfile.mkdtemp(prefix="backtest_bench.")
rng = random.Random(2026)
om = os.path.join(work, "history.om")
with open(om, "w") as f:
    for m in range(a.metrics):
        level = 50 + 10 * m
        f.write(f"# TYPE bench_metric_{m} gauge\n")
        for t in range(start, end + 1, STEP):
            cycle = math.sin(2 * math.pi * (t % DAY) / DAY)
            v = level * (1 + 0.15 * cycle) + level * 0.08 * (rng.random() - 0.5)
            f.write(f"bench_metric_{m} {v:.4f} {t}\n")
    f.write("# EOF\n")
t0 = time.time()
subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", om, f"{work}/data"],
               check=True, stdout=subprocess.DEVNULL)
print(f"promtool: {a.metrics} series × {(end - start) // STEP + 1} points loaded in "
      f"{time.time() - t0:.1f} s", file=sys.stderr)

port = free_port()
with open(f"{work}/prometheus.yml", "w") as f:
    f.write("global:\n  scrape_interval: 15s\nscrape_configs: []\n")
prom = subprocess.Popen([prom_bin, f"--config.file={work}/prometheus.yml", f"--storage.tsdb.path={work}/data",
                         "--storage.tsdb.retention.time=60d", f"--web.listen-address=127.0.0.1:{port}",
                         "--log.level=warn"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    deadline = time.time() + 60
    while True:
        try:
            url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": "bench_metric_0"})
            if json.load(urllib.request.urlopen(url, timeout=2))["data"]["result"]:
                break
        except (OSError, ValueError, KeyError):
            pass
        if time.time() > deadline:
            sys.exit("Prometheus never answered with the loaded history")
        time.sleep(0.5)

    metrics = "".join(f"  m{m}: {{ query: 'bench_metric_{m}' }}\n" for m in range(a.metrics))
    rules = "".join(
        f"  - {{ name: m{m}-p95, metric: m{m}, detector: {{ baseline: {{ stat: p95, max_change: \"20%\" }} }}, "
        f"kind: HIGH_LATENCY, severity: critical }}\n" for m in range(a.metrics))
    with open(f"{work}/vz-monitor.yaml", "w") as f:
        f.write(f"deployment: bench\ninterval: 15s\nduration: 15m\nsource:\n  prometheus: "
                f"{{ url: \"http://127.0.0.1:{port}\", timeout: 60s, max_connections: 4 }}\n"
                f"metrics:\n{metrics}rules:\n{rules}rollback:\n  command: [\"true\"]\n  policy: {{ critical: 1 }}\n")

    def run(extra):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        out = subprocess.run([a.bin, "backtest", "--since", "7d", "--every", "1h", "--until", str(end),
                              "-o", "json", *extra], cwd=work, capture_output=True, text=True)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if out.returncode != 0:
            sys.exit(f"backtest exited {out.returncode}: {out.stderr}")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu, json.loads(out.stdout)

    results = {}
    for name, extra in [("with minimum detectable effect", []), ("history + replay only", ["--mde-windows", "0"])]:
        runs = [run(extra) for _ in range(a.runs)]
        results[name] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs), runs[-1][2])
    load = os.getloadavg()[0]
    print(f"\nbacktest of {a.metrics} metrics, a week at 15 s, windows every 1h "
          f"(medians of {a.runs} runs, load average {load:.1f}, {os.cpu_count()} cores):\n")
    print("| | wall s | CPU s |\n|---|---:|---:|")
    for name, (wall, cpu, _) in results.items():
        print(f"| {name} | {wall:.2f} | {cpu:.2f} |")
    r = results["with minimum detectable effect"][2]
    print(f"\nhistory: {r['source']}; windows {r['windows']}, judged {r['judged']}, "
          f"rollbacks {r['rollbacks']} (rate {100 * r['rate']:.2f} %, alpha {100 * r['alpha']:.0f} %)")
    mdes = [m["effect"] for m in r["min_detectable_effect"] if m["effect"] is not None]
    if mdes:
        print(f"minimum detectable effect over {len(mdes)} metrics: median {statistics.median(mdes)} %, "
              f"range {min(mdes)}–{max(mdes)} %")
finally:
    prom.terminate()
    prom.wait()
