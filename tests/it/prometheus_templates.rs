//! Alert templates side by side with Prometheus: each template below is rendered by
//! vz-monitor, then the real `promtool test rules` (Debian's prometheus package, as
//! `.ci/setup.sh` installs it) is asked whether Prometheus renders exactly that text for the
//! same series, value and external labels and URL. Each shape the issue named is here:
//! `$labels`, if/range/with/else, variables, pipelines, stripPort, reReplaceAll, humanize*,
//! humanizeTimestamp, toTime, match, title/toUpper/toLower, printf, $externalURL,
//! $externalLabels, Go's errors.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use vz_monitor::sources::prometheus::alerting::template::{render_with, Data};

/// (template, the alert's value).
const CASES: &[(&str, f64)] = &[
    ("{{ $labels.instance }} of {{ $labels.job }} is down", 0.0),
    ("value {{ $value }}", 0.25),
    ("{{ $value }}", 1_000_000.0),
    ("{{ $value | humanize }}B/s", 1_234_567.0),
    ("{{ humanize $value }}", 0.0012),
    ("{{ $value | humanizePercentage }}", 0.0512),
    ("{{ humanize1024 $value }}", 2048.0),
    ("{{ humanizeDuration $value }}", 3725.0),
    ("{{ humanizeDuration $value }}", 0.25),
    (r#"{{ printf "%.2f" $value }}%"#, 1.23456),
    (r#"{{ $value | printf "%.1f" }}"#, 2.26),
    (r#"{{ printf "%d %s %v" 3 "x" $value }}"#, 2.0),
    (r#"{{ printf "%.2f" 80 }}"#, 2.0),
    ("{{ $labels }}", 1.0),
    ("{{ .Labels.job }}={{ .Value }}", 1.0),
    ("{{ $labels.missing }}!", 1.0),
    ("a {{- $labels.job -}} b", 1.0),
    (
        "{{ if gt $value 0.9 }}critical{{ else if gt $value 0.5 }}warning{{ else }}ok{{ end }}",
        0.7,
    ),
    ("{{ if gt $value 80 }}hot{{ end }}", 90.0),
    (
        "{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}",
        1.0,
    ),
    (
        "{{ with $labels.pod }}pod {{ . }}{{ else }}no pod{{ end }}",
        1.0,
    ),
    (
        r#"{{ $x := $labels.job }}{{ $x = printf "%s!" $x }}{{ $x }}"#,
        1.0,
    ),
    (
        r#"{{ if and $labels.job (not $labels.pod) }}y{{ end }}{{ or $labels.pod "none" }}"#,
        1.0,
    ),
    ("{{ $labels.instance | stripPort }}", 1.0),
    (
        r#"{{ reReplaceAll "(.*):(.*)" "$2@$1" $labels.instance }}"#,
        1.0,
    ),
    (
        r#"{{ if match "^10\\." $labels.instance }}private{{ end }}"#,
        1.0,
    ),
    (
        r#"{{ title "node down" }} {{ toUpper $labels.job }} {{ toLower "A" }}"#,
        1.0,
    ),
    ("{{ humanizeTimestamp $value }}", 1_700_000_000.5),
    ("{{ $value | toTime }}", 1_700_000_000.0),
    ("{{ $externalLabels.cluster }} {{ $externalURL }}", 1.0),
    (
        r#"{{ index $labels "job" }} {{ len $labels }} {{ print 1 2 "a" 3 }}"#,
        1.0,
    ),
    (
        r#"{{ define "x" }}<{{ . }}>{{ end }}{{ template "x" $labels.job }}"#,
        1.0,
    ),
    (r#"{{ graphLink "up == 0" }}"#, 1.0),
    (
        r#"{{ toUpper (printf "%s-%s" $labels.job "x") }} {{ printf "%s" $value }}"#,
        1.0,
    ),
    ("{{ $labels.job.x }}", 1.0),
    ("first line\n  {{ if gt $value 80 }}x{{ end }}", 1.0),
    (
        "{{ range $i, $v := $labels }}{{ if eq $i \"job\" }}{{ break }}{{ end }}{{ $v }}{{ end }}",
        1.0,
    ),
];

fn promtool() -> PathBuf {
    let p = PathBuf::from("/usr/bin/promtool");
    assert!(
        p.is_file(),
        "promtool not found: run .ci/setup.sh (Debian's prometheus package)"
    );
    p
}

/// Whether promtool renders `template` over the series as `want`; promtool's words if not.
fn promtool_agrees(
    dir: &std::path::Path,
    template: &str,
    value: f64,
    want: &str,
) -> Result<(), String> {
    let rules = serde_json::json!({"groups": [{"name": "g", "rules": [{
        "alert": "Case",
        "expr": "m + 0",
        "annotations": {"summary": template},
    }]}]});
    std::fs::write(dir.join("rules.json"), rules.to_string()).unwrap();
    let test = serde_json::json!({
        "rule_files": ["rules.json"],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "external_labels": {"cluster": "eu-1"},
            "external_url": "https://prom.example.com/prometheus/",
            "input_series": [{
                "series": "m{instance=\"10.0.0.7:9100\", job=\"node\"}",
                "values": format!("{value}x2"),
            }],
            "alert_rule_test": [{
                "eval_time": "1m",
                "alertname": "Case",
                "exp_alerts": [{
                    "exp_labels": {"instance": "10.0.0.7:9100", "job": "node"},
                    "exp_annotations": {"summary": want},
                }],
            }],
        }],
    });
    std::fs::write(dir.join("test.json"), test.to_string()).unwrap();
    let out = Command::new(promtool())
        .args(["test", "rules", "test.json"])
        .current_dir(dir)
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr))
    }
}

#[test]
fn every_template_renders_as_prometheus_renders_it() {
    let dir = tempfile::tempdir().unwrap();
    let labels = BTreeMap::from([
        ("instance".to_string(), "10.0.0.7:9100".to_string()),
        ("job".to_string(), "node".to_string()),
    ]);
    let external = BTreeMap::from([("cluster".to_string(), "eu-1".to_string())]);
    let mut differ = Vec::new();
    for (t, value) in CASES {
        let data = Data {
            labels: &labels,
            value: *value,
            external_labels: &external,
            external_url: "https://prom.example.com/prometheus/",
            alert: "Case",
        };
        let ours = render_with(t, &data);
        if let Err(e) = promtool_agrees(dir.path(), t, *value, &ours) {
            differ.push(format!("{t}\n  vz-monitor: {ours}\n  promtool: {e}"));
        }
    }
    assert!(
        differ.is_empty(),
        "{} of {} templates render differently:\n{}",
        differ.len(),
        CASES.len(),
        differ.join("\n")
    );
}
