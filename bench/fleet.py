#!/usr/bin/env python3
"""Fleet store figures, side by side in one run (issue 15):

- concurrent watches that kept their tick at 50 / 200 / 500 watches on one default
  Prometheus, on SQLite (own file, shared file) and PostgreSQL, with their CPU seconds
  (bench/fleet_scale.py, which says exactly what "kept its tick" means), started together
  and spread over --spread seconds;
- `history --limit 20` wall time at 10 / 1,000 / 100,000 runs, SQLite and PostgreSQL
  (unfiltered and --deployment), median of --runs process runs;
- bytes per stored sample (200 series x 300 ticks through Store::record_tick: SQLite file
  growth after a WAL checkpoint; PostgreSQL pg_total_relation_size of `samples`);
- rollbacks run per deployment when 8 watches of one regressing deployment start together
  (must be 1), --races times on each engine.

Starts its own PostgreSQL (initdb into a temp dir, as user vz-pg-test when run as root,
random loopback port; stopped at the end), like tests/it/common/postgres.rs.

    bash .ci/setup.sh && cargo build --release && python3 bench/fleet.py
"""
import argparse, glob, json, os, shutil, socket, sqlite3, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
USER = "vz-pg-test"
# Every watch of bench/fleet_scale.py holds PostgreSQL connections (a pool of up to 4):
# 500 watches need more than the server's default 100.
PG_MAX_CONNECTIONS = 1500


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Postgres:
    def __init__(self, max_connections=200):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
        if not bins:
            sys.exit("PostgreSQL is not installed: run .ci/setup.sh")
        self.bin = os.path.dirname(bins[-1])
        self.dir = tempfile.mkdtemp(prefix="vz-fleet-pg-")
        self.root = os.getuid() == 0
        if self.root:
            if subprocess.run(["id", USER], capture_output=True).returncode != 0:
                subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER], check=True)
            subprocess.run(["chown", USER, self.dir], check=True)
        self.port = free_port()
        data = os.path.join(self.dir, "data")
        self.tool("initdb", "-D", data, "-U", "vz", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C")
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections={max_connections}"
        self.tool("pg_ctl", "-D", data, "-l", os.path.join(self.dir, "log"), "-o", opts, "-w", "start")
        self.data = data

    def tool(self, name, *args, capture=False):
        cmd = [os.path.join(self.bin, name), *args]
        if self.root:
            cmd = ["runuser", "-u", USER, "--", *cmd]
        r = subprocess.run(cmd, capture_output=True, text=True, cwd="/")
        if r.returncode != 0:
            sys.exit(f"{name} failed: {r.stdout}{r.stderr}")
        return r.stdout.strip()

    def url(self, db):
        self.tool("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "vz", db)
        return f"postgres://vz@127.0.0.1:{self.port}/{db}"

    def psql(self, db, sql):
        return self.tool("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "vz", "-d", db, "-At", "-c", sql)

    def stop(self):
        self.tool("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


def vz(binary, args, cwd, url=None, check=True):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VZ_", "GITHUB_"))}
    env["NO_COLOR"] = "1"
    if url:
        env["VZ_STORE_URL"] = url
    r = subprocess.run([binary, *args], cwd=cwd, env=env, capture_output=True, text=True)
    if check and r.returncode != 0:
        sys.exit(f"vz-monitor {' '.join(args)} exited {r.returncode}: {r.stderr}")
    return r


def median_ms(binary, args, cwd, url, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        vz(binary, args, cwd, url)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


BASE = 1_764_000_000_000


def fill_sqlite(path, n):
    c = sqlite3.connect(path)
    runs = [(f"{i:08x}-bench-run", f"web-{i % 50}", "watch", BASE + i * 1000, BASE + i * 1000 + 900,
             "finished", "rollback" if i % 10 == 0 else "healthy", "r", 1 if i % 10 == 0 else 0, 0, "x", "{}", 10000, None)
            for i in range(n)]
    c.executemany("INSERT INTO runs (id, deployment, kind, started_at, ended_at, status, verdict, reason, exit_code, dry_run, config_digest, summary, lease_ms, lease_until) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", runs)
    c.execute("INSERT INTO anomalies (run_key, rule, series, kind, severity, fired_at, resolved_at, body) SELECT key, 'r', 's', 'K', 'critical', started_at, NULL, '{}' FROM runs")
    c.execute("INSERT INTO anomalies (run_key, rule, series, kind, severity, fired_at, resolved_at, body) SELECT key, 'r2', 's', 'K', 'warning', started_at, NULL, '{}' FROM runs")
    c.execute("INSERT INTO decisions (run_key, ts, verdict, reason) SELECT key, started_at, verdict, 'r' FROM runs")
    c.execute("INSERT INTO rollbacks (run_key, trigger, started_at, ended_at, attempts, argv, exit_status, ok, stdout, stderr, reason) SELECT key, 'auto', started_at, ended_at, 1, '[]', 0, 1, '', '', 'ok' FROM runs WHERE verdict = 'rollback'")
    c.commit()
    c.close()


def fill_pg(pg, db, n):
    pg.psql(db, f"""
      INSERT INTO runs (id, deployment, kind, started_at, ended_at, status, verdict, reason, exit_code, dry_run, config_digest, summary)
        SELECT lpad(to_hex(i), 8, '0') || '-bench-run', 'web-' || (i % 50), 'watch', {BASE} + i * 1000, {BASE} + i * 1000 + 900, 'finished',
               CASE WHEN i % 10 = 0 THEN 'rollback' ELSE 'healthy' END, 'r', CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END, 0, 'x', '{{}}'
        FROM generate_series(0, {n - 1}) i;
      INSERT INTO anomalies (run_key, rule, series, kind, severity, fired_at, body) SELECT key, 'r', 's', 'K', 'critical', started_at, '{{}}' FROM runs;
      INSERT INTO anomalies (run_key, rule, series, kind, severity, fired_at, body) SELECT key, 'r2', 's', 'K', 'warning', started_at, '{{}}' FROM runs;
      INSERT INTO decisions (run_key, ts, verdict, reason) SELECT key, started_at, verdict, 'r' FROM runs;
      INSERT INTO rollbacks (run_key, trigger, started_at, ended_at, attempts, argv, exit_status, ok, stdout, stderr, reason)
        SELECT key, 'auto', started_at, ended_at, 1, '[]', 0, 1, '', '', 'ok' FROM runs WHERE verdict = 'rollback';
      ANALYZE;""")


def race(binary, url):
    d = tempfile.mkdtemp(prefix="vz-fleet-race-")
    log = os.path.join(d, "rollback.log")
    with open(os.path.join(d, "vz-monitor.yaml"), "w") as f:
        f.write(f"""deployment: web
interval: 100ms
duration: 20s
metrics:
  error_rate:
    probe: {{ command: ["sh", "-c", "echo 12"] }}
rules:
  - name: high-error-rate
    metric: error_rate
    detector: {{ threshold: {{ op: ">", value: 5 }} }}
    for: 1500ms
    kind: HIGH_ERROR_RATE
rollback:
  command: ["sh", "-c", "echo $VZ_RUN_ID >> {log}; sleep 1"]
  timeout: 10s
""")
    vz(binary, ["history"], d, url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VZ_", "GITHUB_"))}
    if url:
        env["VZ_STORE_URL"] = url
    procs = [subprocess.Popen([binary, "watch"], cwd=d, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(8)]
    codes = [p.wait() for p in procs]
    ran = len(open(log).read().split()) if os.path.exists(log) else 0
    shutil.rmtree(d, ignore_errors=True)
    return ran, codes


def find_binary():
    binary = next((p for p in [os.path.join(TARGET, "release", "vz-monitor"), os.path.join(TARGET, "debug", "vz-monitor")] if os.path.exists(p)), None)
    return binary or sys.exit("build vz-monitor first: cargo build --release")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=None)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--races", type=int, default=3)
    ap.add_argument("--sizes", default="10,1000,100000")
    ap.add_argument("--watches", default="50,200,500", help="concurrent watches (bench/fleet_scale.py); empty: skip")
    ap.add_argument("--scale-duration", default="15s")
    ap.add_argument("--spread", type=float, default=5.0, help="second scale pass: starts spread over this many seconds")
    a = ap.parse_args()
    binary = os.path.abspath(a.bin or find_binary())
    print(f"binary: {binary}\nload average: {os.getloadavg()[0]:.2f}, cores: {os.cpu_count()}")
    pg = Postgres(max_connections=PG_MAX_CONNECTIONS)
    try:
        if a.watches:
            import fleet_scale
            print(f"\nconcurrent watches on one default Prometheus ({a.scale_duration} each)")
            for spread in (0.0, a.spread):
                print(f"\nstarted {'together' if not spread else f'evenly over {spread:g} s'}")
                fleet_scale.scale(binary, pg, [int(x) for x in a.watches.split(",")], a.scale_duration, spread=spread)
        rows = []
        for n in [int(x) for x in a.sizes.split(",")]:
            d = tempfile.mkdtemp(prefix="vz-fleet-hist-")
            db = os.path.join(d, "vz.db")
            vz(binary, ["--db", db, "history"], d)
            fill_sqlite(db, n)
            s_all = median_ms(binary, ["--db", db, "history", "--limit", "20"], d, None, a.runs)
            s_dep = median_ms(binary, ["--db", db, "history", "--limit", "20", "--deployment", "web-7"], d, None, a.runs)
            url = pg.url(f"hist{n}")
            vz(binary, ["history"], d, url)
            fill_pg(pg, f"hist{n}", n)
            p_all = median_ms(binary, ["history", "--limit", "20"], d, url, a.runs)
            p_dep = median_ms(binary, ["history", "--limit", "20", "--deployment", "web-7"], d, url, a.runs)
            rows.append((n, s_all, s_dep, p_all, p_dep))
            shutil.rmtree(d, ignore_errors=True)
        print("\n`history --limit 20`, median ms per process (start-up included)")
        print(f"{'runs':>8} | {'SQLite':>8} | {'SQLite --deployment':>20} | {'PostgreSQL':>10} | {'PostgreSQL --deployment':>24}")
        for n, s1, s2, p1, p2 in rows:
            print(f"{n:>8} | {s1:>8.1f} | {s2:>20.1f} | {p1:>10.1f} | {p2:>24.1f}")

        url = pg.url("bytes")
        env = dict(os.environ, CARGO_TARGET_DIR=TARGET)
        r = subprocess.run(["cargo", "bench", "--quiet", "--bench", "fleet_store", "--", url], cwd=ROOT, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"fleet_store bench failed: {r.stderr[-2000:]}")
        lines = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
        sqlite_bps = next(l["bytes_per_sample"] for l in lines if l["engine"] == "sqlite")
        pg_bps = float(pg.psql("bytes", "SELECT pg_total_relation_size('samples')::float8 / count(*) FROM samples"))
        print("\nbytes per stored sample (200 series x 300 ticks, table + indexes)")
        print(f"  SQLite     {sqlite_bps:.1f}")
        print(f"  PostgreSQL {pg_bps:.1f}")

        print(f"\nrollbacks run per deployment, 8 watches started together (x{a.races})")
        for name, u in [("SQLite", None), ("PostgreSQL", None)]:
            results = []
            for i in range(a.races):
                u = pg.url(f"race{i}") if name == "PostgreSQL" else None
                ran, codes = race(binary, u)
                results.append((ran, codes))
            print(f"  {name:<10} rollbacks: {[r for r, _ in results]}  exit codes: {[sorted(set(c)) for _, c in results]}")
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
