#!/usr/bin/env python3
"""Concurrent watches on one Prometheus and one store (issue 15): how many keep their tick.

Starts its own target (examples/prometheus-demo/demo_service.py, a real HTTP /metrics on
127.0.0.1), its own Prometheus with default flags (so `--web.max-connections=512`) scraping
it every second, and uses the PostgreSQL that bench/fleet.py starts (or starts one itself
when run alone). Then, for each N of --watches and each store:

- SQLite, own file: every watch has its own `--db`;
- SQLite, shared file: all watches write one `--db`;
- PostgreSQL: all watches write one database (VZ_STORE_URL);

it starts N watches at once, each of its own deployment, each with 5 PromQL queries
(rate, error ratio, p95 and mean latency, up), `interval: 1s`, `duration: --duration`,
the default `source.prometheus` settings (so `max_connections: 2`), and waits for all.

A watch KEPT ITS TICK when it exited 0 with verdict healthy, ran every planned tick
(`ticks` = duration / interval + 1 in its JSON summary: one at 0 s, one each second), and has 0 missing samples over its 5
metrics. A sample not in by the next tick's due time is missing (the watch's clock cuts
each tick at the next one; a tick whose slot went by before it started is all missing), so
"0 missing" means: every query of every tick answered within the interval (--interval, 1 s by default).

Also counted: watches that KEPT THEIR TICK AFTER START-UP: ran every planned tick and missed
no sample after the first 5 ticks (N processes starting in the same second on a few cores is
a burst of CPU a real fleet, whose CI jobs start spread out, rarely sees; the per-tick counts
printed show where the misses fall). --spread S starts the N watches evenly over S seconds.

Reported per cell: watches that kept their tick, exit codes, the watches' CPU seconds
(user + sys of the N processes, from getrusage(RUSAGE_CHILDREN) around the batch), the
wall time of the batch, Prometheus's own CPU seconds over the batch (/proc/PID/stat), and
the most and the mean TCP connections to Prometheus open at once (/proc/net/tcp, sampled
every 100 ms).

    python3 bench/fleet_scale.py --watches 50,200,500 --duration 15s [--spread 5] [--interval 5]
        [--max-connections 16]   # 16: what one watch could hold before the bound (issue 15)
"""
import argparse, collections, itertools, json, os, re, resource, shutil, subprocess, sys, tempfile, threading, time
import urllib.parse, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fleet  # noqa: E402  (Postgres, free_port, the binary's location)

ROOT = fleet.ROOT
QUERIES = {
    "rps": 'sum(rate(http_requests_total{job="demo"}[5s]))',
    "error_rate": '100 * sum(rate(http_requests_total{job="demo",code=~"5.."}[5s])) / sum(rate(http_requests_total{job="demo"}[5s]))',
    "p95_ms": '1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="demo"}[5s])))',
    "mean_ms": '1000 * sum(rate(http_request_duration_seconds_sum{job="demo"}[5s])) / sum(rate(http_request_duration_seconds_count{job="demo"}[5s]))',
    "up": 'max(up{job="demo"})',
}
ENGINES = ["SQLite own file", "SQLite shared file", "PostgreSQL"]
# Ticks during which the batch is still starting (N processes at once on a few cores):
# "kept after start-up" ignores misses in these.
STARTUP_TICKS = 5
DATABASES = itertools.count()  # one fresh PostgreSQL database per batch


def prometheus_binary():
    for d in os.environ.get("PATH", "").split(":") + ["/usr/bin"]:
        p = os.path.join(d, "prometheus")
        if os.path.isfile(p):
            return p
    sys.exit("prometheus not found: run .ci/setup.sh")


class Monitoring:
    """The demo target and a default-flag Prometheus scraping it every second."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="vz-fleet-prom-")
        demo_port, self.port = fleet.free_port(), fleet.free_port()
        with open(os.path.join(self.dir, "prometheus.yml"), "w") as f:
            f.write(f"global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: demo\n"
                    f"    static_configs:\n      - targets: ['127.0.0.1:{demo_port}']\n")
        self.demo = subprocess.Popen([sys.executable, os.path.join(ROOT, "examples/prometheus-demo/demo_service.py"),
                                      "--port", str(demo_port)])
        self.prom = subprocess.Popen([prometheus_binary(), f"--config.file={self.dir}/prometheus.yml",
                                      f"--storage.tsdb.path={self.dir}/data",
                                      f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.value(QUERIES["rps"] + " > 0") is not None:
                return
            time.sleep(0.5)
        self.stop()
        sys.exit("Prometheus never scraped the demo target")

    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def value(self, q):
        try:
            with urllib.request.urlopen(f"{self.url()}/api/v1/query?" + urllib.parse.urlencode({"query": q}), timeout=2) as r:
                rows = json.load(r)["data"]["result"]
            return float(rows[0]["value"][1]) if rows else None
        except (OSError, ValueError, KeyError):
            return None

    def cpu_seconds(self):
        with open(f"/proc/{self.prom.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def open_connections(self):
        """TCP connections to Prometheus's port in state ESTABLISHED (accepted or queued)."""
        n = 0
        for path in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(path) as f:
                    next(f)
                    for line in f:
                        parts = line.split()
                        if parts[3] == "01" and int(parts[1].rsplit(":", 1)[1], 16) == self.port:
                            n += 1
            except OSError:
                pass
        return n

    def stop(self):
        for p in (self.prom, self.demo):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def write_config(d, prom_url, duration, max_connections=None, interval=1):
    metrics = "".join(f"  {n}:\n    query: '{q}'\n" + ("    on_empty: zero\n" if n == "error_rate" else "")
                      for n, q in QUERIES.items())
    # A rule on every metric (none fires on the demo's healthy traffic), so each metric's
    # completeness is in the summary.
    rules = "".join(f"\n  - {{ name: {n}, metric: {n}, kind: {k}, detector: {{ threshold: {{ op: '{op}', value: {v} }} }} }}"
                    for n, k, op, v in [("rps", "SERVICE_DOWN", "<", 1), ("error_rate", "HIGH_ERROR_RATE", ">", 50),
                                        ("p95_ms", "HIGH_LATENCY", ">", 5000), ("mean_ms", "HIGH_LATENCY", ">", 5000),
                                        ("up", "SERVICE_DOWN", "<", 1)])
    limit = f", max_connections: {max_connections}" if max_connections else ""
    with open(os.path.join(d, "vz-monitor.yaml"), "w") as f:
        f.write(f"""interval: {interval}s
duration: {duration}
source:
  prometheus: {{ url: "{prom_url}", timeout: {interval}s{limit} }}
metrics:
{metrics}rules:{rules}
rollback:
  command: ["sh", "-c", "echo $VZ_DEPLOYMENT >> rollback.log"]
""")


def kept_tick(code, out, planned):
    try:
        s = json.loads(out)
    except ValueError:
        return False
    return (code == 0 and s.get("verdict") == "healthy" and s.get("ticks") == planned
            and len(s.get("completeness", [])) == len(QUERIES)
            and all(c["missing"] == 0 for c in s["completeness"]))


def steady(err, planned, skip):
    """Ran every planned tick, and none after the first `skip` missed a sample."""
    ticks = {int(m.group(1)): int(m.group(2))
             for m in re.finditer(r"^tick (\d+)/\d+: .*?(\d+) missing", err, re.M)}
    return len(ticks) == planned and all(v == 0 for k, v in ticks.items() if k > skip)


def batch(binary, n, engine, mon, pg_url, duration, planned, max_connections=None, spread=0.0, interval=1):
    d = tempfile.mkdtemp(prefix="vz-fleet-scale-")
    write_config(d, mon.url(), duration, max_connections, interval)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VZ_", "GITHUB_"))}
    env["NO_COLOR"] = "1"
    shared = os.path.join(d, "shared.db")
    if engine == "PostgreSQL":
        env["VZ_STORE_URL"] = pg_url
    if engine == "SQLite shared file":  # the shared store exists (migrated) before the batch
        fleet.vz(binary, ["--db", shared, "history"], d)
    elif engine == "PostgreSQL":
        fleet.vz(binary, ["history"], d, pg_url)
    seen, stop = [], threading.Event()

    def watch_connections():
        while not stop.is_set():
            seen.append(mon.open_connections())
            time.sleep(0.1)

    sampler = threading.Thread(target=watch_connections)
    sampler.start()
    before, prom_before, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), mon.cpu_seconds(), time.time()
    procs = []
    for i in range(n):
        time.sleep(max(0.0, t0 + spread * i / n - time.time()))
        db = {"SQLite own file": ["--db", os.path.join(d, f"w{i}.db")], "SQLite shared file": ["--db", shared]}
        procs.append(subprocess.Popen([binary, *db.get(engine, []), "watch", "--output", "json", "--deployment", f"web-{i}"],
                                      cwd=d, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = [(*p.communicate(), p.returncode) for p in procs]
    wall, prom_cpu = time.time() - t0, mon.cpu_seconds() - prom_before
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stop.set()
    sampler.join()
    kept = sum(kept_tick(code, out, planned) for out, _, code in results)
    skip = STARTUP_TICKS
    kept_after_start = sum(steady(err, planned, skip) for _, err, _ in results)
    codes = collections.Counter(code for _, _, code in results)
    # Which ticks missed samples (tick k of the watches' own clocks), from their progress lines.
    by_tick = [0] * planned
    for _, err, _ in results:
        for m in re.finditer(r"^tick (\d+)/\d+: .*?(\d+) missing", err, re.M):
            if int(m.group(2)) > 0 and int(m.group(1)) <= planned:
                by_tick[int(m.group(1)) - 1] += 1
    # Why the others did not: each watch's missing-sample reasons, digits blurred.
    why = collections.Counter()
    for out, err, code in results:
        if not kept_tick(code, out, planned):
            why.update({re.sub(r"[0-9.]+", "N", line.split("missing sample: ", 1)[1])[:90]
                        for line in err.splitlines() if "missing sample: " in line} or {f"exit {code}, no missing sample logged": 1})
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    shutil.rmtree(d, ignore_errors=True)
    time.sleep(2)  # let the last connections close before the next batch
    return {"kept": kept, "steady": kept_after_start, "codes": dict(sorted(codes.items())), "cpu": cpu, "wall": wall,
            "prom_cpu": prom_cpu, "peak_conns": max(seen, default=0),
            "mean_conns": sum(seen) / max(len(seen), 1), "why": why.most_common(3), "by_tick": by_tick}


def parse_duration(s):
    return int(s[:-1]) if s.endswith("s") else int(s)


def scale(binary, pg, watches, duration, engines=ENGINES, max_connections=None, spread=0.0, interval=1):
    """Runs every batch and prints the table; returns the rows."""
    mon = Monitoring()
    try:
        planned = parse_duration(duration) // interval + 1  # a tick at 0 s and one each interval
        # One watch alone first: the definition must hold on an idle machine.
        solo = batch(binary, 1, "SQLite own file", mon, None, duration, planned, interval=interval)
        if solo["kept"] != 1:
            sys.exit(f"a single watch did not keep its tick: {solo}")
        rows = []
        for n in watches:
            for engine in engines:
                url = pg.url(f"scale_{n}_{next(DATABASES)}") if engine == "PostgreSQL" else None
                r = batch(binary, n, engine, mon, url, duration, planned, max_connections, spread, interval)
                rows.append((n, engine, r))
                print(f"  {n:>4} watches, {engine:<18} kept {r['kept']:>4} (after start-up {r['steady']:>4})  exits {r['codes']}  "
                      f"CPU {r['cpu']:.1f} s  wall {r['wall']:.1f} s  Prometheus CPU {r['prom_cpu']:.1f} s  "
                      f"connections to Prometheus peak {r['peak_conns']} mean {r['mean_conns']:.0f}", flush=True)
                print(f"        watches missing samples at tick 1..{planned}: {r['by_tick']}")
                for reason, count in r["why"]:
                    print(f"        {count:>4} watches missed samples: {reason}")
    finally:
        mon.stop()
    print(f"\nwatches that kept their tick: every tick (after the first {STARTUP_TICKS}) — {planned} ticks of {interval} s, "
          f"5 queries each, default Prometheus, max_connections {max_connections or 'default'}, "
          f"started {'together' if not spread else f'evenly over {spread:g} s'}")
    print(f"{'watches':>8} | " + " | ".join(f"{e:>22}" for e in engines) + " | CPU s (" + " / ".join(engines) + ")")
    for n in watches:
        cells = [r for m, _, r in rows if m == n]
        print(f"{n:>8} | " + " | ".join(f"{c['kept']} ({c['steady']}) / {n}".rjust(22) for c in cells) + " | "
              + " / ".join(f"{c['cpu']:.1f}" for c in cells))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=None)
    ap.add_argument("--watches", default="50,200,500")
    ap.add_argument("--duration", default="15s")
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--spread", type=float, default=0.0, help="start the N watches evenly over this many seconds")
    ap.add_argument("--max-connections", type=int, default=None, help="source.prometheus.max_connections (default: vz-monitor's)")
    ap.add_argument("--interval", type=int, default=1, help="the watches' tick, in seconds (the query timeout is the same)")
    a = ap.parse_args()
    binary = os.path.abspath(a.bin or fleet.find_binary())
    print(f"binary: {binary}\nload average: {os.getloadavg()[0]:.2f}, cores: {os.cpu_count()}")
    pg = fleet.Postgres(max_connections=fleet.PG_MAX_CONNECTIONS)
    try:
        scale(binary, pg, [int(x) for x in a.watches.split(",")], a.duration, a.engines.split(","), a.max_connections,
              a.spread, a.interval)
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
