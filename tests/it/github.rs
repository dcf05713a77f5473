//! GitHub Actions behaviour of `watch`: annotations on stderr, the job summary and the
//! step outputs, through the real binary with the runner's environment variables.

use crate::common;

use common::{json, logging_rollback, Project};

/// A project whose error rate goes from 0 to `errors` after two ticks (or stays 0).
fn project(errors: &str, deployment: &str) -> Project {
    let p = Project::new();
    let er = p.series("error_rate", &["0", "0", errors]);
    let rollback = logging_rollback(p.dir.path());
    p.write(
        "vz-monitor.yaml",
        &format!(
            r#"deployment: {deployment}
interval: 200ms
duration: 1500ms
metrics:
  error_rate:
    probe: {{ command: {er} }}
rules:
  - name: high-error-rate
    metric: error_rate
    detector: {{ threshold: {{ op: ">", value: 5 }} }}
    kind: HIGH_ERROR_RATE
  - name: error-rate-elevated
    metric: error_rate
    detector: {{ threshold: {{ op: ">", value: 1 }} }}
    kind: ERRORS_UP
    severity: medium
rollback:
  command: {rollback}
  timeout: 10s
"#
        ),
    );
    p
}

/// Runs `watch --output json` as inside GitHub Actions; returns (exit, stdout JSON, stderr).
fn watch_in_actions(p: &Project) -> (i32, serde_json::Value, String) {
    let out = p
        .cmd()
        .args(["watch", "--output", "json"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", p.path("step_summary.md"))
        .env("GITHUB_OUTPUT", p.path("github_output"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    (
        out.status.code().unwrap(),
        json(&out.stdout), // stdout stays pure JSON: annotations went to stderr
        stderr,
    )
}

#[test]
fn rollback_writes_annotations_summary_and_outputs() {
    let p = project("12", "web");
    p.write("github_output", "earlier=kept\n");
    let (code, s, stderr) = watch_in_actions(&p);
    assert_eq!(code, 1, "stderr: {stderr}");
    assert_eq!(s["verdict"], "rollback");
    let run_id = s["run_id"].as_str().unwrap();

    // One annotation per fired anomaly, level by severity, title escaped (`:` → %3A).
    let critical: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            l.starts_with(
                "::error title=vz-monitor HIGH_ERROR_RATE (critical)%3A high-error-rate::",
            )
        })
        .collect();
    assert_eq!(critical.len(), 1, "stderr: {stderr}");
    assert!(critical[0].contains("web: `high-error-rate` fired on error_rate"));
    assert!(
        stderr.lines().any(|l| l
            .starts_with("::warning title=vz-monitor ERRORS_UP (medium)%3A error-rate-elevated::")),
        "a medium anomaly is a warning: {stderr}"
    );
    // And one for the verdict.
    assert!(
        stderr.lines().any(|l| l
            .starts_with("::error title=vz-monitor verdict%3A rollback (exit 1)::web: ROLLBACK")),
        "verdict annotation: {stderr}"
    );

    let summary = p.read("step_summary.md").expect("job summary written");
    assert!(
        summary.contains("### ❌ vz-monitor: ROLLBACK — `web`"),
        "{summary}"
    );
    assert!(
        summary.contains("| Verdict | **rollback** (exit 1) |"),
        "{summary}"
    );
    assert!(summary.contains(&format!("vz-monitor report {run_id}")));
    assert!(
        summary.contains("| Rollback | ran, succeeded after 1 attempt(s) |"),
        "{summary}"
    );
    assert!(
        summary.contains("| Why | ") && summary.contains("critical"),
        "{summary}"
    );
    assert!(
        summary.contains("| high-error-rate | error_rate | critical | **"),
        "{summary}"
    );

    let outputs = p.read("github_output").unwrap();
    let lines: Vec<&str> = outputs.lines().collect();
    assert_eq!(lines[0], "earlier=kept", "appended, not overwritten");
    for want in [
        "verdict=rollback".to_string(),
        "exit-code=1".into(),
        format!("run-id={run_id}"),
        "anomalies=2".into(),
        "rolled-back=true".into(),
        "deployment=web".into(),
    ] {
        assert!(lines.contains(&want.as_str()), "missing {want}: {outputs}");
    }
    assert!(p.read("rollback.log").is_some(), "the rollback ran");
}

#[test]
fn healthy_run_gives_a_notice_and_healthy_outputs() {
    let p = project("0", "web");
    let (code, s, stderr) = watch_in_actions(&p);
    assert_eq!(code, 0, "stderr: {stderr}");
    assert_eq!(s["verdict"], "healthy");
    assert!(!stderr.contains("::error"), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("::notice title=vz-monitor verdict%3A healthy (exit 0)::")),
        "{stderr}"
    );
    let outputs = p.read("github_output").unwrap();
    assert!(outputs.lines().any(|l| l == "verdict=healthy"), "{outputs}");
    assert!(outputs.lines().any(|l| l == "exit-code=0"));
    assert!(outputs.lines().any(|l| l == "anomalies=0"));
    assert!(outputs.lines().any(|l| l == "rolled-back=false"));
    let summary = p.read("step_summary.md").unwrap();
    assert!(
        summary.contains("### ✅ vz-monitor: HEALTHY — `web`"),
        "{summary}"
    );
    assert!(
        summary.contains("| Verdict | **healthy** (exit 0) |"),
        "{summary}"
    );
}

#[test]
fn annotation_data_is_escaped() {
    // A deployment name with `%` and `,` reaches messages escaped per GitHub's rules.
    let p = project("12", "\"web,100%\"");
    let (code, _, stderr) = watch_in_actions(&p);
    assert_eq!(code, 1, "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("::error title=vz-monitor HIGH_ERROR_RATE"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(line.contains("::web,100%25: `high-error-rate`"), "{line}");
}

#[test]
fn outside_actions_nothing_is_written() {
    let p = project("12", "web");
    let out = p
        .cmd()
        .args(["watch", "--output", "json"])
        .env("GITHUB_STEP_SUMMARY", p.path("step_summary.md"))
        .env("GITHUB_OUTPUT", p.path("github_output"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("::error"), "{stderr}");
    assert!(p.read("step_summary.md").is_none());
    assert!(p.read("github_output").is_none());
}
