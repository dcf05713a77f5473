//! `serve` at scale: a SQLite store of 100,000 runs (200 deployments, a tenth rolled back
//! with anomalies and rollback rows) plus one real watch's run (the real binary, command
//! probes) and 50 live watches whose state a writer renews every second. The dashboard runs
//! in this process (`serve::router`, the same code as `vz-monitor serve`) on 127.0.0.1.
//!
//! Measures: latency of the runs page, its JSON twin, a run page and the live page
//! (sequential requests; p50, p95, max), then 50 live clients (server-sent events) held
//! for 10 s — events each received, the runs page's latency meanwhile, and the process's
//! resident memory before and after. Prints one JSON line per measurement.
//!
//! `cargo bench --bench serve` (release build). Not a timed test: figures go to
//! bench/README.md.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vz_monitor::serve::{app::App, guard::Access};
use vz_monitor::store::Store;

const RUNS: i64 = 100_000;
const DEPLOYMENTS: i64 = 200;
const LIVE: i64 = 50;
const CLIENTS: usize = 50;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// One real run through the real binary: 20 ticks of three metrics, one rule fires.
fn real_run(dir: &Path, db: &Path) -> String {
    let series = dir.join("er.txt");
    std::fs::write(&series, "0.5\n0.6\n0.4\n0.5\n0.7\n0.5\n0.6\n0.4\n0.5\n12\n").unwrap();
    let probe = dir.join("er.sh");
    std::fs::write(
        &probe,
        "#!/bin/sh\nc=\"$1.count\"; n=$(cat \"$c\" 2>/dev/null || echo 0); n=$((n+1)); echo $n > \"$c\"\nv=$(sed -n \"${n}p\" \"$1\"); [ -n \"$v\" ] || v=$(tail -n 1 \"$1\"); echo \"$v\"\n",
    )
    .unwrap();
    let config = dir.join("vz-monitor.yaml");
    std::fs::write(
        &config,
        format!(
            "deployment: bench-real\ninterval: 100ms\nduration: 2s\nmetrics:\n  error_rate:\n    probe: {{ command: [\"sh\", \"{p}\", \"{s}\"] }}\n  latency_ms:\n    probe: {{ command: [\"sh\", \"-c\", \"echo 100\"] }}\n  queue:\n    probe: {{ command: [\"sh\", \"-c\", \"echo 3\"] }}\nrules:\n  - name: high-error-rate\n    metric: error_rate\n    detector: {{ threshold: {{ op: \">\", value: 5 }} }}\n    kind: HIGH_ERROR_RATE\n    severity: critical\n  - name: slow\n    metric: latency_ms\n    detector: {{ threshold: {{ op: \">\", value: 500 }} }}\n    kind: HIGH_LATENCY\n  - name: queue\n    metric: queue\n    detector: {{ threshold: {{ op: \">\", value: 50 }} }}\n    kind: HIGH_LATENCY\nrollback:\n  command: [\"true\"]\n",
            p = probe.display(),
            s = series.display()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vz-monitor"))
        .args(["watch", "--output", "json", "--config"])
        .arg(&config)
        .arg("--db")
        .arg(db)
        .output()
        .expect("run the real watch");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("watch JSON");
    v["run_id"].as_str().expect("a run id").to_string()
}

/// 100,000 runs, then 50 running watches with a live state, in one transaction.
fn fill(db: &Path, live_json: &str) {
    let mut c = rusqlite::Connection::open(db).unwrap();
    let tx = c.transaction().unwrap();
    let start = now_ms() - RUNS * 60_000;
    {
        let mut run = tx.prepare("INSERT INTO runs (id, deployment, kind, started_at, ended_at, status, verdict, reason, exit_code, dry_run, config_digest, summary, actor, host) VALUES (?1, ?2, 'watch', ?3, ?4, 'finished', ?5, ?6, ?7, 0, 'x', NULL, 'ci', ?8)").unwrap();
        let mut anomaly = tx.prepare("INSERT INTO anomalies (run_key, rule, series, kind, severity, fired_at, resolved_at, body) VALUES (?1, 'high-error-rate', 'error_rate', 'HIGH_ERROR_RATE', 'critical', ?2, NULL, '{\"observed\":12.5,\"reason\":\"value 12.5 > 5\",\"dry_run\":false}')").unwrap();
        let mut rollback = tx.prepare("INSERT INTO rollbacks (run_key, trigger, started_at, ended_at, attempts, argv, exit_status, ok, stdout, stderr, reason) VALUES (?1, 'auto', ?2, ?3, 1, '[\"true\"]', 0, 1, '', '', 'ok')").unwrap();
        for i in 0..RUNS {
            let t = start + i * 60_000;
            let bad = i % 10 == 0;
            run.execute(rusqlite::params![
                format!("bench-{i:08}"),
                format!("service-{:03}", i % DEPLOYMENTS),
                t,
                t + 45_000,
                if bad { "rollback" } else { "healthy" },
                if bad {
                    "1 critical anomaly"
                } else {
                    "window passed"
                },
                if bad { 1 } else { 0 },
                format!("runner-{}", i % 8),
            ])
            .unwrap();
            if bad {
                let key = tx.last_insert_rowid();
                anomaly.execute(rusqlite::params![key, t + 20_000]).unwrap();
                rollback
                    .execute(rusqlite::params![key, t + 21_000, t + 30_000])
                    .unwrap();
            }
        }
        let mut live = tx.prepare("INSERT INTO runs (id, deployment, kind, started_at, status, dry_run, config_digest, lease_ms, lease_until, live, actor, host) VALUES (?1, ?2, 'watch', ?3, 'running', 0, 'x', 10000, ?4, ?5, 'ci', ?6)").unwrap();
        for i in 0..LIVE {
            live.execute(rusqlite::params![
                format!("live-{i:04}"),
                format!("service-{:03}", i),
                now_ms() - 5_000,
                now_ms() + 3_600_000,
                live_json,
                format!("runner-{}", i % 8),
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();
}

fn get(port: u16, path: &str) -> (u16, usize) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let status = String::from_utf8_lossy(&raw[..12.min(raw.len())])
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, raw.len())
}

fn latency(port: u16, path: &str, n: usize) -> String {
    let mut ms: Vec<f64> = Vec::with_capacity(n);
    let mut bytes = 0;
    for _ in 0..n {
        let t = Instant::now();
        let (status, len) = get(port, path);
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(status, 200, "{path}");
        bytes = len;
    }
    ms.sort_by(f64::total_cmp);
    format!(
        "{{\"page\":\"{path}\",\"requests\":{n},\"bytes\":{bytes},\"p50_ms\":{:.2},\"p95_ms\":{:.2},\"max_ms\":{:.2}}}",
        ms[n / 2],
        ms[n * 95 / 100],
        ms[n - 1]
    )
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bench.db");
    let real = real_run(dir.path(), &db);
    // The live state of a watch at its tick 12 of 20, from the real run's own rules.
    let live_json: String = {
        let c = rusqlite::Connection::open(&db).unwrap();
        let summary: String = c
            .query_row("SELECT summary FROM runs WHERE id = ?1", [&real], |r| {
                r.get(0)
            })
            .expect("the real run's summary");
        let s: vz_monitor::run::RunSummary = serde_json::from_str(&summary).unwrap();
        let state = vz_monitor::store::live::LiveState {
            tick: 12,
            planned: 20,
            interval_ms: 1000,
            ends_at: now_ms() + 8_000,
            at: now_ms(),
            rules: s.rules,
            completeness: s.completeness,
            max_missing: s.policy.max_missing,
            counters: Vec::new(),
            hold: None,
        };
        serde_json::to_string(&state).unwrap()
    };
    let t = Instant::now();
    fill(&db, &live_json);
    println!(
        "{{\"store\":\"sqlite\",\"runs\":{},\"live_watches\":{LIVE},\"fill_s\":{:.1}}}",
        RUNS + LIVE + 1,
        t.elapsed().as_secs_f64()
    );

    // The 50 live watches tick: a writer renews their state and lease every second.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, stop) = (db.clone(), Arc::clone(&stop));
        let state: vz_monitor::store::live::LiveState = serde_json::from_str(&live_json).unwrap();
        std::thread::spawn(move || {
            let mut s = Store::open(&db).unwrap();
            while !stop.load(Ordering::SeqCst) {
                for i in 0..LIVE {
                    let mut st = state.clone();
                    st.at = now_ms();
                    s.record_live(&format!("live-{i:04}"), &st).unwrap();
                    s.extend_lease(&format!("live-{i:04}"), now_ms() + 3_600_000)
                        .unwrap();
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        })
    };

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = App::new(db.clone(), 20, Duration::from_millis(500), None);
    {
        let _inside = rt.enter();
        vz_monitor::serve::live::spawn_feed(Arc::clone(&app));
    }
    let router = vz_monitor::serve::router(app, Access { token: None });
    rt.spawn(async move { axum::serve(listener, router).await });

    // Warm the connections and caches once.
    get(port, "/runs");
    get(port, &format!("/runs/{real}"));
    for path in [
        "/runs".to_string(),
        "/api/runs".to_string(),
        "/runs?deployment=service-007".to_string(),
        format!("/runs/{real}"),
        format!("/api/runs/{real}"),
        "/live".to_string(),
        "/alerts".to_string(),
        "/health".to_string(),
    ] {
        println!("{}", latency(port, &path, 200));
    }

    // 50 live pages hold their event streams for 10 s.
    let rss_before = rss_kib();
    let events = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (events, done) = (Arc::clone(&events), Arc::clone(&done));
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
                write!(s, "GET /live/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n\r\n").unwrap();
                let mut r = BufReader::new(s);
                let mut line = String::new();
                let mut mine = 0usize;
                while !done.load(Ordering::SeqCst) {
                    line.clear();
                    match r.read_line(&mut line) {
                        Ok(0) => break,
                        Ok(_) if line.starts_with("event: live") => mine += 1,
                        _ => {}
                    }
                }
                events.fetch_add(mine, Ordering::SeqCst);
                mine
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    println!(
        "{}",
        latency(port, "/runs", 100).replace("{\"page\"", "{\"with_live_clients\":50,\"page\"")
    );
    std::thread::sleep(Duration::from_secs(8));
    let rss_during = rss_kib();
    done.store(true, Ordering::SeqCst);
    let per_client: Vec<usize> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let min = per_client.iter().min().copied().unwrap_or(0);
    println!(
        "{{\"live_clients\":{CLIENTS},\"held_s\":10,\"events_total\":{},\"events_min_per_client\":{min},\"rss_kib_before\":{rss_before},\"rss_kib_during\":{rss_during}}}",
        events.load(Ordering::SeqCst)
    );
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
}
