//! Issue 24's store faults, each reproduced against the real binary: a file-size limit
//! (`ulimit -f`), a SQLite store locked by another process, a PostgreSQL that freezes —
//! none may kill the watch, hold the rollback, or lose the record. `bench/faults.sh`
//! replays them N times beside `faults.rs`, `faults_input.rs` and `faults_run.rs`.

use crate::common;
use crate::common::faultkit;

use common::config::{GateConfig, HIGH_ERROR_RATE};
use common::Project;
use faultkit::{run_bounded, runs_store, stderr};
use std::time::Duration;

/// `faultkit::bad_watch_config`'s watch (critical error-rate rule, the rollback touches
/// `rolled-back` within 10 s), its error rate read by `probe` (a series). `patient`: a 90 s
/// watch that bears a stalled store — 100 probe errors in a row, 90 % missing ticks.
fn store_fault_watch(p: &Project, probe: &str, patient: bool) {
    let (duration, errors, policy) = if patient {
        (
            "90s",
            "consecutive_errors: 100, ",
            r#"critical: 1, max_missing: "90%""#,
        )
    } else {
        ("20s", "", "critical: 1")
    };
    GateConfig::new("200ms", duration)
        .metric(
            "error_rate",
            &format!("{{ {errors}probe: {{ command: {probe} }} }}"),
        )
        .rule(HIGH_ERROR_RATE)
        .rollback(&faultkit::touch_rollback(p, "rolled-back"))
        .rollback_field("timeout: 10s")
        .rollback_field("retries: 0")
        .policy(policy)
        .write(p);
}

/// Fault 5: `ulimit -f` (SIGXFSZ left at its default) does not kill the watch: the store
/// degrades, the rollback runs, and what the store missed is recorded at the next start.
#[test]
fn a_file_size_limit_neither_kills_the_watch_nor_loses_the_record() {
    use std::os::unix::process::CommandExt;
    let p = Project::new();
    let mut values = vec!["0"; 25];
    values.push("12");
    let probe = p.series("error_rate", &values);
    store_fault_watch(&p, &probe, false);
    runs_store(&p);
    let mut c = p.std_cmd();
    c.args(["watch", "--output", "json"]);
    // SAFETY: only setrlimit between fork and exec; SIGXFSZ stays at its default.
    unsafe {
        c.pre_exec(|| {
            let r = libc::rlimit {
                rlim_cur: 110_000,
                rlim_max: 110_000,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &r);
            libc::signal(libc::SIGXFSZ, libc::SIG_DFL);
            Ok(())
        });
    }
    let out = run_bounded(c);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{:?}: {}",
        out.status,
        stderr(&out)
    );
    assert!(p.path("rolled-back").exists());
    // The next command records what was spooled: the run is finished and rolled back.
    let r = faultkit::runs(&p);
    assert_eq!(r[0]["status"], "finished", "{r:?}");
    assert_eq!(r[0]["exit_code"], 1, "{r:?}");
    assert_eq!(r[0]["rolled_back"], true, "{r:?}");
}

/// Fault 4: the SQLite store is locked by another process mid-watch (and stays locked until
/// the rollback has run, or 25 s). The decision and the rollback do not wait for the store:
/// the rollback runs while the lock is still held, and the watch exits 1.
#[test]
fn a_locked_store_does_not_hold_the_rollback() {
    let p = Project::new();
    let mut values = vec!["0"; 10];
    values.push("12");
    let probe = p.series("error_rate", &values);
    // Ticks missed while the lock is first met are not what this test is about.
    store_fault_watch(&p, &probe, true);
    runs_store(&p);
    let child = p.spawn(&["watch", "--output", "json"]);
    let until = std::time::Instant::now() + Duration::from_secs(20);
    while p.calls("error_rate") < 2 && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let locker = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys, time, os\n\
             c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
             c.execute('BEGIN EXCLUSIVE')\n\
             open(sys.argv[3], 'w').close()\n\
             end = time.time() + 25\n\
             while not os.path.exists(sys.argv[2]) and time.time() < end: time.sleep(0.05)\n\
             if not os.path.exists(sys.argv[2]): open(sys.argv[4], 'w').close()\n\
             c.execute('ROLLBACK')\n",
        ])
        .arg(p.path(".vz-monitor/vz.db"))
        .arg(p.path("rolled-back"))
        .arg(p.path("locked"))
        .arg(p.path("lock-timed-out"))
        .spawn()
        .expect("python3 with sqlite3");
    let out = faultkit::wait_bounded(child, Duration::from_secs(120));
    let mut locker = locker;
    let _ = locker.wait();
    assert!(
        p.path("locked").exists(),
        "the lock was never taken: the fault was not injected"
    );
    assert!(
        !p.path("lock-timed-out").exists(),
        "the rollback waited for the locked store (25 s)"
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

/// A TCP proxy to `target` that can be frozen: connections stay open, nothing moves — what a
/// SIGSTOPped PostgreSQL looks like from the client.
struct FreezableProxy {
    port: u16,
    frozen: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl FreezableProxy {
    fn start(target: u16) -> FreezableProxy {
        use std::io::{Read, Write};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let frozen = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let f = frozen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let Ok(up) = std::net::TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                for (mut from, mut to) in [
                    (conn.try_clone().unwrap(), up.try_clone().unwrap()),
                    (up, conn),
                ] {
                    let f = f.clone();
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 16384];
                        loop {
                            let n = match from.read(&mut buf) {
                                Ok(0) | Err(_) => return,
                                Ok(n) => n,
                            };
                            while f.load(Ordering::SeqCst) {
                                std::thread::sleep(Duration::from_millis(20));
                            }
                            if to.write_all(&buf[..n]).is_err() {
                                return;
                            }
                        }
                    });
                }
            }
        });
        FreezableProxy { port, frozen }
    }

    fn freeze(&self, on: bool) {
        self.frozen.store(on, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Fault 4 on PostgreSQL: the server freezes mid-watch (connections open, no answer) until
/// the rollback has run, or 25 s. The decision and the rollback do not wait for it (each
/// store call has a deadline, and a store found unavailable is not waited for again).
#[test]
fn a_frozen_postgres_does_not_hold_the_rollback() {
    let pg = common::postgres::Postgres::start();
    let url = pg.url("frozen");
    let port: u16 = url
        .rsplit_once(':')
        .and_then(|(_, r)| r.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap();
    let proxy = FreezableProxy::start(port);
    let proxied = url.replace(&format!(":{port}/"), &format!(":{}/", proxy.port));
    let p = Project::new();
    let mut values = vec!["0"; 10];
    values.push("12");
    let probe = p.series("error_rate", &values);
    store_fault_watch(&p, &probe, true);
    let mut c = p.std_cmd();
    c.args(["--db", &proxied, "watch", "--output", "json"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = c.spawn().unwrap();
    let until = std::time::Instant::now() + Duration::from_secs(30);
    while p.calls("error_rate") < 3 && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    proxy.freeze(true);
    let held = std::time::Instant::now();
    while !p.path("rolled-back").exists() && held.elapsed() < Duration::from_secs(25) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let rolled_back_while_frozen = p.path("rolled-back").exists();
    proxy.freeze(false);
    let out = faultkit::wait_bounded(child, Duration::from_secs(120));
    assert!(
        rolled_back_while_frozen,
        "the rollback waited for the frozen store (25 s): {}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}
