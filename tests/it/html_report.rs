//! `report --format html` in a real headless Chromium (Debian's `chromium`, installed by
//! `.ci/setup.sh`): the page loads with no console message (it has no script; a CSP
//! violation or error would be logged), and its screenshot is a drawn page, not a blank one.

use crate::common;

use common::config::GateConfig;
use common::{exits, json, logging_rollback, Project};
use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

/// Loads `page` in headless Chromium: (console lines from its log, PNG screenshot bytes).
pub(crate) fn chromium(page: &Path, shot: &Path) -> (Vec<String>, Vec<u8>) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1200,1600",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `chromium` ({e}): install it with `bash .ci/setup.sh` (Debian package chromium)")
        });
    let log = String::from_utf8_lossy(&out.stderr);
    let console: Vec<String> = log
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught") || l.contains("Refused to"))
        .map(String::from)
        .collect();
    let png = std::fs::read(shot)
        .unwrap_or_else(|e| panic!("chromium wrote no screenshot ({e}); its log:\n{log}"));
    (console, png)
}

/// Distinct colours and the share of pixels that are not the page background.
pub(crate) fn picture(png_bytes: &[u8]) -> (usize, f64) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px = info.color_type.samples();
    let data = &buf[..info.buffer_size()];
    let mut colours = HashSet::new();
    let mut drawn = 0usize;
    let pixels = data.len() / px;
    for p in data.chunks(px) {
        colours.insert(p[..3.min(px)].to_vec());
        if p[..3.min(px)].iter().any(|c| *c < 245) {
            drawn += 1;
        }
    }
    (colours.len(), drawn as f64 / pixels as f64)
}

#[test]
fn the_console_check_sees_an_error_and_the_picture_check_sees_a_blank_page() {
    // The checks below are only worth something if they can fail.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.html");
    std::fs::write(&bad, "<!DOCTYPE html><html><body style=\"background:#fff\"><script>console.error('boom')</script></body></html>").unwrap();
    let (console, png) = chromium(&bad, &dir.path().join("bad.png"));
    assert!(console.iter().any(|l| l.contains("boom")), "{console:?}");
    let (colours, drawn) = picture(&png);
    assert!(
        colours <= 2 && drawn < 0.001,
        "{colours} colours, {drawn} drawn"
    );
}

#[test]
fn the_html_report_loads_cleanly_and_draws_a_chart_per_judged_series() {
    let p = Project::new();
    let er = p.series(
        "error_rate",
        &["0.4", "0.6", "0.5", "0.5", "0.4", "0.6", "7", "9", "12"],
    );
    let lat = p.series(
        "latency_ms",
        &["100", "104", "98", "101", "99", "103", "100", "97", "180"],
    );
    GateConfig::new("100ms", "2s")
        .deployment("checkout")
        .probe("error_rate", &er)
        .probe("latency_ms", &lat)
        .rule(r#"{ name: high-error-rate, metric: error_rate, detector: { threshold: { op: ">", value: 5 } }, consecutive_failures: 2, kind: HIGH_ERROR_RATE, severity: critical }"#)
        .rule("{ name: latency-band, metric: latency_ms, detector: { zscore: { threshold: 4, robust: true } }, kind: HIGH_LATENCY, severity: high }")
        .rollback(&logging_rollback(p.dir.path()))
        .write(&p);
    exits(
        p.cmd()
            .args(["baseline", "--samples", "5", "--interval", "20ms"]),
        0,
    );
    let out = exits(p.cmd().args(["watch", "--output", "json"]), 1);
    let s = json(&out.stdout);
    assert_eq!(s["verdict"], "rollback");
    let html = exits(p.cmd().args(["report", "latest", "--format", "html"]), 0);
    let html = String::from_utf8(html.stdout).unwrap();
    assert_eq!(
        html.matches("<svg").count(),
        2,
        "one chart per judged series"
    );
    assert!(html.contains("▲ high-error-rate fired"), "anomaly marker");
    assert!(html.contains("decision: ROLLBACK"), "decision marker");
    assert!(html.contains("baseline range"), "baseline band");
    assert!(
        html.contains("control band"),
        "control band of the z-score rule"
    );
    assert!(
        html.contains("threshold high-error-rate (&gt; 5)"),
        "threshold line"
    );
    assert!(
        !html.contains("http://") || !html.contains("src=\"http"),
        "no network"
    );
    let page = p.write("report.html", &html);
    let shot = p.path("report.png");
    let (console, png) = chromium(&page, &shot);
    assert!(console.is_empty(), "console messages: {console:?}");
    let (colours, drawn) = picture(&png);
    assert!(
        colours > 50,
        "a blank-looking screenshot: {colours} colours"
    );
    assert!(
        drawn > 0.03,
        "a blank-looking screenshot: {drawn} of the pixels drawn"
    );
    if let Ok(keep) = std::env::var("VZ_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, &keep).unwrap();
        std::fs::copy(&page, format!("{keep}.html")).unwrap();
    }
}
