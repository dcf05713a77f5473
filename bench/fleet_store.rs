//! Bytes per stored sample, through the store's own code path (`Store::record_tick`), on
//! SQLite and (with a URL argument) PostgreSQL. Run by `bench/fleet.py`, or alone:
//! `cargo bench --bench fleet_store -- [postgres://…]`. Prints one JSON line per engine.

use std::path::Path;
use vz_monitor::model::{Reading, Sample};
use vz_monitor::store::Store;

const SERIES: usize = 200;
const TICKS: i64 = 300;

fn ticks(store: &mut Store, run: &str, from: i64, to: i64) {
    let names: Vec<String> = (0..SERIES).map(|i| format!("metric_{i}")).collect();
    for t in from..to {
        let samples: Vec<Sample> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                Sample::new(
                    n,
                    Reading::Value((t as f64 * 0.37 + i as f64).sin() * 100.0),
                )
            })
            .collect();
        store
            .record_tick(run, 1_764_000_000_000 + t * 1000, &samples, &[], &[])
            .expect("record a tick");
    }
}

fn file_bytes(path: &Path) -> u64 {
    let c = rusqlite::Connection::open(path).unwrap();
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
    let size: i64 = c.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
    let free: i64 = c
        .query_row("PRAGMA freelist_count", [], |r| r.get(0))
        .unwrap();
    ((pages - free) * size) as u64
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let mut s = Store::open(&path).unwrap();
    s.start_run("bench-run", "bench", "watch", 0, false, "x")
        .unwrap();
    // One tick first: the run, its series and the first pages exist before measuring.
    ticks(&mut s, "bench-run", 0, 1);
    let before = file_bytes(&path);
    ticks(&mut s, "bench-run", 1, TICKS + 1);
    let after = file_bytes(&path);
    let n = SERIES as f64 * TICKS as f64;
    println!(
        "{{\"engine\":\"sqlite\",\"samples\":{},\"bytes_per_sample\":{:.1}}}",
        n,
        (after - before) as f64 / n
    );
    if let Some(url) = args.first() {
        let mut s = Store::open(Path::new(url)).unwrap();
        s.start_run("bench-run", "bench", "watch", 0, false, "x")
            .unwrap();
        ticks(&mut s, "bench-run", 0, TICKS);
        // Table, TOAST and indexes, measured by the server (psql, run by bench/fleet.py).
        println!("{{\"engine\":\"postgres\",\"samples\":{n}}}");
    }
}
