//! Prometheus and Grafana exports of `watch`: result metrics pushed to a real Pushgateway
//! (Debian's `prometheus-pushgateway`, started here on a free loopback port), live
//! `/metrics` served by `--listen` during the run, and Grafana annotations posted to a
//! local HTTP receiver with the bearer token.

use crate::common;
#[path = "pushgateway/grafana.rs"]
mod grafana;
#[path = "pushgateway/listen.rs"]
mod listen;
#[path = "pushgateway/support.rs"]
mod support;

use common::exits;
use std::net::TcpListener;
use support::{free_port, project, sample, Pushgateway};

#[test]
fn pushgateway_holds_the_run_metrics_afterwards() {
    let pg = Pushgateway::start();
    let p = project(&["0", "0", "12"], "2s");
    let out = p
        .cmd()
        .args(["watch", "--output", "json", "--pushgateway"])
        .arg(pg.url())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("pushed run metrics"), "{stderr}");

    let m = pg.metrics();
    let grp = ["deployment=\"web\"", "job=\"vz_monitor\""];
    let verdict = |v: &str| {
        let want = format!("verdict=\"{v}\"");
        sample(&m, "vz_monitor_verdict", &[grp[0], grp[1], want.as_str()])
            .unwrap_or_else(|| panic!("no verdict {v} in:\n{m}"))
    };
    assert!(verdict("rollback").ends_with(" 1"));
    assert!(verdict("healthy").ends_with(" 0"));
    let anomalies = sample(
        &m,
        "vz_monitor_anomalies_total",
        &[grp[0], "kind=\"HIGH_ERROR_RATE\"", "severity=\"critical\""],
    )
    .unwrap_or_else(|| panic!("{m}"));
    assert!(anomalies.ends_with(" 1"), "{anomalies}");
    let ok = sample(&m, "vz_monitor_rollbacks_total", &[grp[0], "result=\"ok\""]).unwrap();
    assert!(ok.ends_with(" 1"), "{ok}");
    assert!(sample(&m, "vz_monitor_exit_code", &grp)
        .unwrap_or_else(|| panic!("{m}"))
        .ends_with(" 1"));
    assert!(sample(&m, "vz_monitor_ticks", &grp)
        .unwrap()
        .ends_with(" 3"));
    let last = sample(&m, "vz_monitor_last_run_timestamp_seconds", &grp).unwrap();
    let secs: f64 = last.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(secs > 1.7e9, "{last}");
    assert!(sample(&m, "vz_monitor_run_duration_seconds", &grp).is_some());

    // A second, healthy run replaces the group: the verdict flips.
    let p2 = project(&["0"], "600ms");
    let out = p2
        .cmd()
        .args(["watch", "--pushgateway"])
        .arg(pg.url())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let m = pg.metrics();
    let healthy = sample(&m, "vz_monitor_verdict", &[grp[0], "verdict=\"healthy\""]).unwrap();
    assert!(healthy.ends_with(" 1"), "{m}");
    assert!(
        sample(&m, "vz_monitor_anomalies_total", &[grp[0]]).is_none(),
        "the healthy run pushed no anomalies and replaced the group:\n{m}"
    );
}

#[test]
fn a_manual_rollback_pushes_to_its_own_group() {
    let pg = Pushgateway::start();
    let p = project(&["0"], "400ms");
    let out = p
        .cmd()
        .args(["watch", "--pushgateway"])
        .arg(pg.url())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    exits(
        p.cmd()
            .args(["rollback", "--reason", "bad canary", "--pushgateway"])
            .arg(pg.url()),
        0,
    );
    let m = pg.metrics();
    let manual = sample(
        &m,
        "vz_monitor_verdict",
        &["kind=\"manual_rollback\"", "verdict=\"rolled_back\""],
    );
    assert!(manual.is_some_and(|l| l.ends_with(" 1")), "{m}");
    let ok = sample(
        &m,
        "vz_monitor_rollbacks_total",
        &["kind=\"manual_rollback\"", "result=\"ok\""],
    );
    assert!(ok.is_some_and(|l| l.ends_with(" 1")), "{m}");
    // The last watch's group is still there, untouched.
    let watch = m.lines().find(|l| {
        l.starts_with("vz_monitor_verdict{")
            && !l.contains("kind=")
            && l.contains("verdict=\"healthy\"")
    });
    assert!(watch.is_some_and(|l| l.ends_with(" 1")), "{m}");
}

#[test]
fn deployment_names_with_slashes_reach_the_pushgateway_intact() {
    let pg = Pushgateway::start();
    let p = project(&["0"], "400ms");
    exits(
        p.cmd()
            .args(["watch", "--deployment", "shop/eu west", "--pushgateway"])
            .arg(pg.url()),
        0,
    );
    let m = pg.metrics();
    assert!(
        sample(
            &m,
            "vz_monitor_verdict",
            &["deployment=\"shop/eu west\"", "verdict=\"healthy\""]
        )
        .is_some_and(|l| l.ends_with(" 1")),
        "{m}"
    );
}

#[test]
fn a_failing_push_is_a_warning_and_keeps_the_exit_code() {
    let p = project(&["0"], "400ms");
    let out = p
        .cmd()
        .args(["watch", "--pushgateway"])
        .arg(format!("http://127.0.0.1:{}", free_port()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("warning: pushing metrics to"), "{stderr}");
    // A Grafana that is down and a --listen port already taken are warnings too.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let out = p
        .cmd()
        .args(["watch", "--grafana-url"])
        .arg(format!("http://127.0.0.1:{}", free_port()))
        .arg("--listen")
        .arg(taken.local_addr().unwrap().to_string())
        .env("VZ_GRAFANA_TOKEN", "tok_do_not_print")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: Grafana annotation to"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: cannot serve metrics on"),
        "{stderr}"
    );
    assert!(!stderr.contains("tok_do_not_print"));
    // Usage errors in the URL are exit 2, before anything runs.
    let out = p
        .cmd()
        .args(["watch", "--pushgateway", "localhost:9091"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = p
        .cmd()
        .args(["watch", "--listen", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
