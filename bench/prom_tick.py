#!/usr/bin/env python3
"""One tick of 200 PromQL queries: vz-monitor vs a plain sequential client.

Starts the demo service (examples/prometheus-demo/demo_service.py) and a real Prometheus on
127.0.0.1 (free ports, temp TSDB), waits for data, then writes a config with N distinct
query metrics (rate windows 5s, 6s, … over the demo's counters and histogram).

- vz-monitor: `check --online` runs every query once, concurrently, exactly as one watch
  tick does (one shared client, `max_connections: 16` in flight: the figures below
  predate the default of 2). Measured per run: wall time and the
  child's CPU (user + sys, from rusage). The same config without `--online` (start-up, config
  parse, no query) is measured too and subtracted, giving the tick alone.
- plain client: the same N queries issued one after another over one keep-alive HTTP
  connection (http.client), wall time.

Prints medians over --runs and the ratio sequential wall / vz-monitor tick wall.

usage: bench/prom_tick.py [--runs 7] [--queries 200] [--bin target/release/vz-monitor]
"""
import argparse, http.client, json, os, resource, socket, statistics, subprocess, sys, tempfile, time
import urllib.parse

ap = argparse.ArgumentParser()
ap.add_argument("--runs", type=int, default=7)
ap.add_argument("--queries", type=int, default=200)
ap.add_argument("--bin", default="target/release/vz-monitor")
ap.add_argument("--prometheus", default=None)
a = ap.parse_args()
a.bin = os.path.abspath(a.bin)

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
prom_bin = a.prometheus or next(
    (p for p in [os.path.join(d, "prometheus") for d in os.environ.get("PATH", "").split(":")] + ["/usr/bin/prometheus"]
     if os.path.isfile(p)), None)
if not prom_bin:
    sys.exit("prometheus not found: run .ci/setup.sh or apt-get install prometheus")
if not os.path.isfile(a.bin):
    sys.exit(f"{a.bin} not found: cargo build --release")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


work = tempfile.mkdtemp(prefix="prom_tick.")
demo_port, prom_port = free_port(), free_port()
with open(os.path.join(work, "prometheus.yml"), "w") as f:
    f.write(f"global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: demo\n"
            f"    static_configs:\n      - targets: ['127.0.0.1:{demo_port}']\n")
procs = [
    subprocess.Popen([sys.executable, os.path.join(root, "examples/prometheus-demo/demo_service.py"),
                      "--port", str(demo_port)]),
    subprocess.Popen([prom_bin, f"--config.file={work}/prometheus.yml", f"--storage.tsdb.path={work}/data",
                      f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
]


def query_path(q):
    return "/api/v1/query?" + urllib.parse.urlencode({"query": q})


def wait_for_data():
    deadline = time.time() + 60
    q = 'sum(rate(http_requests_total{job="demo"}[5s])) > 0'
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", prom_port, timeout=2)
            c.request("GET", query_path(q))
            if json.loads(c.getresponse().read())["data"]["result"]:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.5)
    sys.exit("Prometheus never scraped the demo service")


# N distinct queries over the demo's series, shaped like real gate metrics.
shapes = [
    'sum(rate(http_requests_total{{job="demo"}}[{w}s]))',
    '100 * sum(rate(http_requests_total{{job="demo",code=~"5.."}}[{w}s])) / sum(rate(http_requests_total{{job="demo"}}[{w}s]))',
    '1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{{job="demo"}}[{w}s])))',
    'sum(rate(http_request_duration_seconds_sum{{job="demo"}}[{w}s])) / sum(rate(http_request_duration_seconds_count{{job="demo"}}[{w}s]))',
]
queries = [shapes[i % len(shapes)].format(w=5 + i // len(shapes)) for i in range(a.queries)]


def write_config(path, qs):
    with open(path, "w") as f:
        f.write(f"deployment: bench\nsource:\n  prometheus: {{ url: 'http://127.0.0.1:{prom_port}', timeout: 10s, max_connections: 16 }}\nmetrics:\n")
        for i, q in enumerate(qs):
            f.write(f"  m{i:03}:\n    query: '{q}'\n    on_empty: zero\n")


config = os.path.join(work, "vz-monitor.yaml")
write_config(config, queries)
config_one = os.path.join(work, "one.yaml")
write_config(config_one, queries[:1])


def prom_cpu():
    """Prometheus's CPU seconds so far (utime + stime from /proc)."""
    with open(f"/proc/{procs[1].pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child(args, cfg=None):
    """Runs the binary; returns (wall s, cpu s, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run([a.bin, "--config", cfg or config, "--db", os.path.join(work, "vz.db")] + args,
                       capture_output=True, text=True, cwd=work)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, p


def sequential():
    c = http.client.HTTPConnection("127.0.0.1", prom_port, timeout=10)
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    for q in queries:
        c.request("GET", query_path(q))
        r = c.getresponse()
        body = r.read()
        assert r.status == 200, body
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    c.close()
    return wall, cpu


try:
    wait_for_data()
    time.sleep(6)  # let the widest rate windows fill a little
    # Warm-up: both paths once (page cache, Prometheus's first evaluations).
    _, _, p = child(["check", "--online", "--output", "json"])
    report = json.loads(p.stdout)
    bad = [r for r in report["online"] if r["status"] not in ("ok", "empty")]
    if bad or len(report["online"]) != a.queries:
        sys.exit(f"not every query answered: {bad[:3]}")
    sequential()

    rows = {k: [] for k in ["vz_wall", "vz_cpu", "vz_prom", "start_wall", "start_cpu", "one_wall", "one_cpu", "seq_wall", "seq_cpu", "seq_prom"]}
    for _ in range(a.runs):
        p0 = prom_cpu()
        w, c, _ = child(["check", "--online", "--output", "json"])
        rows["vz_prom"].append(prom_cpu() - p0)
        rows["vz_wall"].append(w); rows["vz_cpu"].append(c)
        w, c, _ = child(["check", "--output", "json"])
        rows["start_wall"].append(w); rows["start_cpu"].append(c)
        w, c, _ = child(["check", "--online", "--output", "json"], config_one)
        rows["one_wall"].append(w); rows["one_cpu"].append(c)
        p0 = prom_cpu()
        w, c = sequential()
        rows["seq_prom"].append(prom_cpu() - p0)
        rows["seq_wall"].append(w); rows["seq_cpu"].append(c)
    med = {k: statistics.median(v) * 1000 for k, v in rows.items()}
    tick_wall = med["vz_wall"] - med["start_wall"]
    tick_cpu = med["vz_cpu"] - med["start_cpu"]
    print(f"{a.queries} PromQL queries, one tick, medians of {a.runs} runs (ms); Prometheus {prom_bin}")
    print(f"  vz-monitor check --online, whole process : wall {med['vz_wall']:8.1f}   cpu {med['vz_cpu']:7.1f}")
    print(f"  vz-monitor check (no queries), baseline   : wall {med['start_wall']:8.1f}   cpu {med['start_cpu']:7.1f}")
    print(f"  vz-monitor check --online, 1 query        : wall {med['one_wall']:8.1f}   cpu {med['one_cpu']:7.1f}")
    print(f"  vz-monitor tick (200 queries - no query)  : wall {tick_wall:8.1f}   cpu {tick_cpu:7.1f}")
    print(f"  sequential keep-alive client (python)     : wall {med['seq_wall']:8.1f}   cpu {med['seq_cpu']:7.1f}")
    print(f"  Prometheus CPU while vz-monitor ran       : {med['vz_prom']:7.1f}")
    print(f"  Prometheus CPU while the sequential ran   : {med['seq_prom']:7.1f}")
    print(f"  ratio sequential wall / vz tick wall      : {med['seq_wall'] / tick_wall:.2f}x")
    print(f"  ratio sequential wall / vz whole process  : {med['seq_wall'] / med['vz_wall']:.2f}x")
finally:
    for p in procs:
        p.terminate()
        p.wait()
    subprocess.run(["rm", "-rf", work])
