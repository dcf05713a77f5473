//! `watch --listen ADDR` serves live metrics while the watch runs.

use super::support::{free_port, http_get, project, sample};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn listen_serves_live_metrics_during_the_watch() {
    let p = project(&["0", "0", "3"], "6s");
    let addr = format!("127.0.0.1:{}", free_port());
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("vz-monitor"));
    cmd.current_dir(p.dir.path())
        .args(["watch", "--output", "json", "--listen", &addr])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, _) in std::env::vars() {
        if k.starts_with("VZ_") || k.starts_with("GITHUB_") {
            cmd.env_remove(k);
        }
    }
    let mut child = cmd.spawn().unwrap();
    // Poll mid-run until a few ticks and the latest value are visible.
    let deadline = Instant::now() + Duration::from_secs(30);
    let live = loop {
        if let Some(body) = http_get(&addr, "/metrics") {
            let ticks = sample(&body, "vz_monitor_ticks", &["deployment=\"web\""])
                .and_then(|l| l.rsplit(' ').next()?.parse::<u32>().ok())
                .unwrap_or(0);
            if ticks >= 3 {
                break body;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no live metrics with 3 ticks within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        child.try_wait().unwrap().is_none(),
        "fetched while the watch still ran"
    );
    assert!(
        sample(&live, "vz_monitor_series_value", &["series=\"error_rate\""])
            .is_some_and(|l| l.ends_with(" 3")),
        "{live}"
    );
    assert!(
        sample(&live, "vz_monitor_run_info", &["deployment=\"web\""])
            .is_some_and(|l| l.ends_with(" 1"))
    );
    assert!(
        sample(
            &live,
            "vz_monitor_rule_firing",
            &["rule=\"high-error-rate\""]
        )
        .is_some_and(|l| l.ends_with(" 0")),
        "{live}"
    );
    assert!(
        sample(&live, "vz_monitor_verdict", &[]).is_none(),
        "no verdict yet:\n{live}"
    );
    assert_eq!(http_get(&addr, "/nope"), None, "unknown paths are 404");
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
