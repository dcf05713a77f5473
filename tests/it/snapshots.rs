//! Snapshot tests (insta) of every report format — table, JSON, Markdown, JUnit, HTML — for
//! a watch that rolls back, a failed rollback, an inconclusive run, a healthy run whose
//! rules fired below the policy, and `analyze` replays of a clearly broken machine through
//! the starter configs (built-in defaults and `init`). Run ids, timestamps, temp paths and
//! time-dependent coordinates are replaced before comparing; everything else is exact.
//! Review changes with `cargo insta review` (or `INSTA_UPDATE=always`).

use crate::common;

use common::{exits, json, logging_rollback, Project};
use vz_monitor::report::series::SeriesSamples;
use vz_monitor::report::{ReportFormat, RunReport};

const FORMATS: [(&str, ReportFormat); 5] = [
    ("table", ReportFormat::Table),
    ("json", ReportFormat::Json),
    ("markdown", ReportFormat::Markdown),
    ("junit", ReportFormat::Junit),
    ("html", ReportFormat::Html),
];

/// Replaces what changes from run to run: the run id, the project folder, timestamps,
/// durations, per-tick overhead, tick counts and chart x coordinates (they follow the clock).
fn scrub(text: &str, id: &str, p: &Project) -> String {
    // `analyze` runs are all called `analyze` (and their times come from the CSV).
    let mut t = text.to_string();
    if id != "analyze" {
        t = t.replace(id, "[RUN_ID]").replace(&id[..8], "[RUN]");
    }
    t = t.replace(&p.dir.path().display().to_string(), "[DIR]");
    let rules: [(&str, &str); 12] = [
        (
            r#""(ticks|missing|max_consecutive_missing)": \d+"#,
            "\"$1\": \"[N]\"",
        ),
        (
            r"\d+/\d+ (planned )?samples missing \([0-9.]+%",
            "[N]/[N] ${1}samples missing ([P]%",
        ),
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", "[TS]"),
        (r#""(\w+_at)": \d+"#, "\"$1\": \"[MS]\""),
        (r#""(median|max)": [0-9.e-]+"#, "\"$1\": \"[MS]\""),
        (r#"time="[0-9.]+""#, "time=\"[SECS]\""),
        (r#"\b(x|x1|x2|cx|width)="[0-9.-]+""#, "$1=\"[X]\""),
        (r#"points="[^"]*""#, "points=\"[XY]\""),
        // A fired marker's label sits left or right of it by where on the clock it fired.
        (
            r#"text-anchor="(start|end)">▲"#,
            "text-anchor=\"[ANCHOR]\">▲",
        ),
        (r">\+[0-9.]+s<", ">+[T]s<"),
        (r"(after|,) \d+ ticks?", "$1 [N] ticks"),
        (r"\(\d+ ticks?\)", "([N] ticks)"),
    ];
    for (re, with) in rules {
        t = regex::Regex::new(re)
            .unwrap()
            .replace_all(&t, with)
            .into_owned();
    }
    // A window's tick count follows the clock: repeated identical sample dots collapse.
    let mut lines: Vec<&str> = t.lines().collect();
    lines.dedup_by(|a, b| a == b && a.starts_with("<circle"));
    lines.join("\n") + "\n"
}

/// `report ID --format F` for every format, each compared with its snapshot.
fn snapshot_reports(p: &Project, name: &str, id: &str) {
    for (f, _) in FORMATS {
        let out = exits(p.cmd().args(["report", id, "--format", f]), 0);
        let text = String::from_utf8(out.stdout).unwrap();
        insta::assert_snapshot!(format!("{name}__{f}"), scrub(&text, id, p));
    }
}

/// Two rules over probe series; `rollback` is the YAML of the rollback section.
fn project(p: &Project, errors: &[&str], latency: &[&str], rules: &str, rollback: &str) {
    let er = p.series("error_rate", errors);
    let lat = p.series("latency_ms", latency);
    p.write(
        "vz-monitor.yaml",
        &format!(
            "deployment: checkout\ninterval: 250ms\nduration: 1250ms\nmetrics:\n  error_rate:\n    probe: {{ command: {er} }}\n  latency_ms:\n    probe: {{ command: {lat} }}\n{rules}\n{rollback}\n"
        ),
    );
}

const RULES: &str = "rules:\n  - name: high-error-rate\n    metric: error_rate\n    detector: { threshold: { op: \">\", value: 5 } }\n    kind: HIGH_ERROR_RATE\n    severity: critical\n  - name: slow\n    metric: latency_ms\n    detector: { threshold: { op: \">\", value: 500 } }\n    kind: HIGH_LATENCY\n    severity: high";

fn watch(p: &Project, code: i32) -> (serde_json::Value, String) {
    let out = exits(p.cmd().args(["watch", "--output", "json"]), code);
    let s = json(&out.stdout);
    let id = s["run_id"].as_str().unwrap().to_string();
    (s, id)
}

#[test]
fn a_watch_that_rolls_back() {
    let p = Project::new();
    let rb = format!("rollback:\n  command: {}", logging_rollback(p.dir.path()));
    project(&p, &["0.5", "12"], &["120"], RULES, &rb);
    let (s, id) = watch(&p, 1);
    assert_eq!(s["verdict"], "rollback");
    snapshot_reports(&p, "watch_rollback", &id);
}

#[test]
fn a_failed_rollback_shows_the_tail_of_its_stderr_everywhere() {
    let p = Project::new();
    let rb = "rollback:\n  retries: 0\n  command: [\"sh\", \"-c\", \"echo 'kubectl: rolling back'; echo 'Error from server (NotFound): deployments.apps \\\"checkout\\\" not found' >&2; exit 1\"]";
    project(&p, &["0.5", "12"], &["120"], RULES, rb);
    let (s, id) = watch(&p, 4);
    let note = s["rollback"]["note"].as_str().unwrap();
    assert!(
        note.contains("deployments.apps \"checkout\" not found"),
        "{note}"
    );
    for f in ["table", "markdown"] {
        let out = exits(p.cmd().args(["report", &id, "--format", f]), 0);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("checkout\\\" not found") || text.contains("\"checkout\" not found"),
            "{f}: {text}"
        );
    }
    snapshot_reports(&p, "rollback_failed", &id);
}

#[test]
fn an_inconclusive_run() {
    let p = Project::new();
    project(
        &p,
        &["0.5", "fail", "fail", "fail", "fail", "fail"],
        &["120"],
        RULES,
        "rollback:\n  enabled: false",
    );
    let (s, id) = watch(&p, 3);
    assert_eq!(s["verdict"], "inconclusive");
    snapshot_reports(&p, "inconclusive", &id);
}

#[test]
fn a_healthy_run_says_what_fired_below_the_policy() {
    let p = Project::new();
    project(
        &p,
        &["0.5"],
        &["120", "900"],
        RULES,
        "rollback:\n  enabled: false",
    );
    let out = exits(p.cmd().arg("watch"), 0);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("why: 1 high fired; the policy rolls back at 3"),
        "{text}"
    );
    assert!(!text.contains("no rollback trigger held"), "{text}");
    let id = exits(p.cmd().args(["history", "-o", "json"]), 0);
    let id = json(&id.stdout)[0]["id"].as_str().unwrap().to_string();
    snapshot_reports(&p, "healthy_below_policy", &id);
}

/// CSV of a clearly broken machine: CPU and disk at 99 %, memory climbing 100 MB a minute
/// (and its percentage with it), one row every 10 s for 5 minutes.
fn broken_machine(p: &Project, disk: f64) {
    let mut base = String::from("timestamp,cpu,memory,memory_mb,disk\n");
    for i in 0..30 {
        let cpu = 18.0 + (i % 5) as f64;
        base.push_str(&format!(
            "{},{cpu},{},{},{}\n",
            1_700_000_000 + i * 10,
            40 + i % 3,
            4000 + (i % 4) * 5,
            50
        ));
    }
    let mut cur = String::from("timestamp,cpu,memory,memory_mb,disk\n");
    for i in 0..31 {
        let mb = 4000.0 + 100.0 * (i as f64 * 10.0 / 60.0);
        cur.push_str(&format!(
            "{},99,{},{mb:.1},{disk}\n",
            1_700_001_000 + i * 10,
            80.0 + i as f64 * 0.6
        ));
    }
    p.write("baseline.csv", &base);
    p.write("current.csv", &cur);
}

/// The replay's samples from the CSV, for the HTML charts.
fn csv_series(p: &Project) -> Vec<SeriesSamples> {
    let text = p.read("current.csv").unwrap();
    let mut lines = text.lines();
    let names: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .skip(1)
        .map(String::from)
        .collect();
    let mut out: Vec<SeriesSamples> = names.iter().map(|n| SeriesSamples::named(n)).collect();
    for l in lines {
        let cells: Vec<&str> = l.split(',').collect();
        let t: i64 = cells[0].parse::<i64>().unwrap() * 1000;
        for (i, c) in cells[1..].iter().enumerate() {
            out[i].points.push((t, c.parse().ok()));
        }
    }
    out
}

/// `analyze` as JSON (exit 1) and as a table, then every format through the renderers.
fn snapshot_analyze(p: &Project, name: &str) -> serde_json::Value {
    let args = [
        "analyze",
        "--baseline",
        "baseline.csv",
        "--current",
        "current.csv",
    ];
    let out = exits(p.cmd().args(args), 1);
    let s = json(&out.stdout);
    let id = s["run_id"].as_str().unwrap_or("-").to_string();
    let table = exits(p.cmd().args(args).args(["-o", "table"]), 1);
    insta::assert_snapshot!(
        format!("{name}__analyze_table"),
        scrub(&String::from_utf8(table.stdout).unwrap(), &id, p)
    );
    let report = RunReport::from_json(s.clone(), csv_series(p));
    for (f, format) in FORMATS {
        insta::assert_snapshot!(
            format!("{name}__{f}"),
            scrub(&format.render(&report), &id, p)
        );
    }
    s
}

#[test]
fn the_built_in_defaults_roll_back_a_clearly_broken_machine() {
    let p = Project::new();
    broken_machine(&p, 99.0);
    let s = snapshot_analyze(&p, "analyze_defaults");
    assert_eq!(s["verdict"], "rollback", "{s}");
}

/// Issue 25.6: `init`'s cpu-spike fired on an idle machine — 3 % CPU is hundreds of robust
/// deviations from a 10-sample baseline around 0.3 %. The generated rule now also asks for
/// 20 points of change (`min_delta`); the table says why it stays quiet.
#[test]
fn the_init_config_stays_quiet_on_an_idle_machine() {
    let p = Project::new();
    exits(p.cmd().arg("init"), 0);
    let mut base = String::from("timestamp,cpu,memory_mb,disk\n");
    for i in 0..10 {
        let cpu = [0.2, 0.3, 0.4][i % 3];
        base.push_str(&format!("{},{cpu},4000,50\n", 1_700_000_000 + i * 10));
    }
    let mut cur = String::from("timestamp,cpu,memory_mb,disk\n");
    for i in 0..31 {
        let cpu = [2.8, 3.0, 3.2][i % 3];
        cur.push_str(&format!(
            "{},{cpu},{},50\n",
            1_700_001_000 + i * 30,
            4000 + i % 2
        ));
    }
    p.write("baseline.csv", &base);
    p.write("current.csv", &cur);
    let args = [
        "analyze",
        "--baseline",
        "baseline.csv",
        "--current",
        "current.csv",
    ];
    let out = exits(p.cmd().args(args), 0);
    let s = json(&out.stdout);
    assert_eq!(s["verdict"], "healthy", "{s}");
    assert_eq!(s["anomalies"].as_array().unwrap().len(), 0, "{s}");
    let table = exits(p.cmd().args(args).args(["-o", "table"]), 0);
    let table = String::from_utf8(table.stdout).unwrap();
    let cpu = s["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "cpu-spike")
        .unwrap();
    assert!(
        cpu["reason"]
            .as_str()
            .unwrap()
            .ends_with("beyond the threshold 4 but only 2.5 above it, below min_delta 20"),
        "{cpu}"
    );
    insta::assert_snapshot!(
        "analyze_init_idle__analyze_table",
        scrub(&table, "analyze", &p)
    );
}

#[test]
fn the_init_config_rolls_back_a_clearly_broken_machine_even_with_a_healthy_disk() {
    let p = Project::new();
    exits(p.cmd().arg("init"), 0);
    let check = exits(p.cmd().arg("check"), 0);
    let err = String::from_utf8_lossy(&check.stderr);
    assert!(
        !err.contains("warning"),
        "init's config passes check cleanly: {err}"
    );
    broken_machine(&p, 99.0);
    let s = snapshot_analyze(&p, "analyze_init");
    assert_eq!(s["verdict"], "rollback");
    // Without the full disk: CPU and the memory leak are two high anomalies (policy: 2).
    broken_machine(&p, 50.0);
    let out = exits(
        p.cmd().args([
            "analyze",
            "--baseline",
            "baseline.csv",
            "--current",
            "current.csv",
        ]),
        1,
    );
    let s = json(&out.stdout);
    let fired: Vec<&str> = s["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["rule"].as_str().unwrap())
        .collect();
    assert!(
        fired.contains(&"cpu-spike") && fired.contains(&"memory-leak"),
        "{s}"
    );
}
