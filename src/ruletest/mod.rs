//! Rule unit tests (`vz-monitor test FILE…`), in the spirit of `promtool test rules`: input
//! series per metric, a baseline, and the anomalies and decision expected. Each case is
//! replayed through the same [`Gate`] as `watch` and `analyze`, tick by tick, stopping at the
//! decision as `watch` would.

mod promtool;
pub mod series;

use crate::config::{self, dur, Config};
use crate::decide::Verdict;
use crate::detect::Baseline;
use crate::gate::Gate;
use crate::model::{Sample, Severity, Timestamp};
use serde::{Deserialize, Serialize};
use series::{expand_within, Point, SeriesText};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

/// A rule test file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// Rule files under test (our format or Prometheus alerting rules), relative to this file.
    #[serde(default)]
    pub rule_files: Vec<String>,
    /// Or a whole `vz-monitor.yaml`, relative to this file.
    pub config: Option<String>,
    /// Time between ticks.
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub interval: Option<Duration>,
    /// `rollback.policy` for `rule_files` (defaults otherwise).
    pub policy: Option<serde_yaml::Value>,
    pub tests: Vec<TestCase>,
}

/// One case: series in, anomalies and decision out.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    pub name: String,
    /// Pre-deploy series per metric (the rows of one `baseline` run).
    #[serde(default)]
    pub baseline: BTreeMap<String, SeriesText>,
    /// Watched series per metric; tick i of every series is one tick of the gate.
    pub input: BTreeMap<String, SeriesText>,
    #[serde(default)]
    pub expect: Expect,
}

/// What the case must produce.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Exactly these anomalies fire (until the decision), at these ticks.
    #[serde(default)]
    pub anomalies: Vec<ExpectedAnomaly>,
    /// The verdict: healthy, rollback or inconclusive.
    pub decision: Option<ExpectedVerdict>,
    /// Tick (0-based) at which the policy decided to roll back.
    pub decided_at: Option<usize>,
}

/// An anomaly expected to fire.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedAnomaly {
    pub rule: String,
    /// Tick (0-based) at which it fires.
    pub tick: usize,
    pub series: Option<String>,
    pub severity: Option<Severity>,
}

/// A verdict as written in a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpectedVerdict {
    Healthy,
    Rollback,
    Inconclusive,
}

/// The outcome of one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub file: String,
    pub name: String,
    pub passed: bool,
    /// Readable differences, one line each (`-` expected, `+` got).
    pub diff: Vec<String>,
}

/// Loads a test file and runs every case. Err: the file or its rules cannot be used (exit 2).
pub fn run_file(path: &Path) -> Result<Vec<CaseResult>, String> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: cannot read: {e}"))?;
    promtool::refuse(&name, &text)?;
    let file: TestFile = serde_yaml::from_str(&text).map_err(|e| format!("{name}: {e}"))?;
    let config = load_rules(path, &file)?;
    let interval = file.interval.unwrap_or(config.interval);
    file.tests
        .iter()
        .map(|case| run_case(&name, &config, interval, case))
        .collect()
}

fn load_rules(path: &Path, file: &TestFile) -> Result<Config, String> {
    let env = |n: &str| std::env::var(n).ok();
    let dir = path.parent().unwrap_or(Path::new("."));
    match (&file.config, file.rule_files.is_empty()) {
        (Some(c), true) => config::load(Some(&dir.join(c)), &env).map_err(|e| e.to_string()),
        (None, false) => load_rule_files(path, &file.rule_files, file.policy.as_ref()),
        _ => Err(format!(
            "{}: give either `rule_files` or `config`",
            path.display()
        )),
    }
}

/// A config made of rule files only (paths relative to `anchor`'s folder), with a placeholder
/// Prometheus URL so query metrics validate, and optionally a `rollback.policy`.
pub fn load_rule_files(
    anchor: &Path,
    files: &[String],
    policy: Option<&serde_yaml::Value>,
) -> Result<Config, String> {
    let env = |n: &str| std::env::var(n).ok();
    let mut main = serde_yaml::Mapping::new();
    let prom =
        serde_yaml::from_str::<serde_yaml::Value>("prometheus: { url: \"http://127.0.0.1:9\" }")
            .expect("static yaml");
    main.insert("source".into(), prom);
    let includes = files.iter().map(|f| f.as_str().into()).collect();
    main.insert("include".into(), serde_yaml::Value::Sequence(includes));
    if let Some(p) = policy {
        let mut rb = serde_yaml::Mapping::new();
        rb.insert("policy".into(), p.clone());
        main.insert("rollback".into(), rb.into());
    }
    let text = serde_yaml::to_string(&main).map_err(|e| e.to_string())?;
    config::parse_text(&text, Some(anchor), &env).map_err(|e| e.to_string())
}

fn expand_all(
    file: &str,
    case: &str,
    what: &str,
    m: &BTreeMap<String, SeriesText>,
    budget: &mut usize,
) -> Result<BTreeMap<String, Vec<Point>>, String> {
    m.iter()
        .map(|(k, s)| {
            expand_within(s, budget)
                .map(|v| (k.clone(), v))
                .map_err(|e| format!("{file}: test `{case}`: {what}.{k}: {e}"))
        })
        .collect()
}

/// Start of the replayed clock (any fixed instant works: the gate only sees differences).
const T0: Timestamp = 1_700_000_000_000;

fn run_case(
    file: &str,
    config: &Config,
    interval: Duration,
    case: &TestCase,
) -> Result<CaseResult, String> {
    let mut budget = series::MAX_POINTS;
    let input = expand_all(file, &case.name, "input", &case.input, &mut budget)?;
    let base = expand_all(file, &case.name, "baseline", &case.baseline, &mut budget)?;
    for m in input.keys().chain(base.keys()) {
        if config.metric(m).is_none() {
            return Err(format!(
                "{file}: test `{}`: `{m}` is not a metric of the rules under test",
                case.name
            ));
        }
    }
    let baselines: HashMap<String, Baseline> = base
        .iter()
        .filter_map(|(k, v)| {
            let vals: Vec<f64> = v.iter().map(Point::value).collect();
            Baseline::from_values(&vals).map(|b| (k.clone(), b))
        })
        .collect();
    let rows = base
        .iter()
        .map(|(k, v)| (k.clone(), v.iter().map(Point::value).collect()))
        .collect();
    // As `analyze`: only metrics given as input are replayed, and the rules on them.
    let given = |m: &String| input.contains_key(m);
    let metrics: Vec<_> = config
        .metrics
        .iter()
        .filter(|m| given(&m.name))
        .cloned()
        .collect();
    let rules: Vec<_> = config
        .rules
        .iter()
        .filter(|r| given(&r.metric) && r.detector.joint_metrics().unwrap_or(&[]).iter().all(given))
        .cloned()
        .collect();
    let mut policy = config.policy.clone();
    if policy
        .error_rate
        .as_ref()
        .is_some_and(|er| !given(&er.metric))
    {
        policy.error_rate = None;
    }
    let mut gate = Gate::new(rules, metrics, policy, baselines).with_baseline_rows(rows);
    let ticks = input.values().map(Vec::len).max().unwrap_or(0);
    let step = interval.as_millis() as Timestamp;
    let at = |i: usize| T0 + i as Timestamp * step;
    let mut decided = None;
    for i in 0..ticks {
        let samples: Vec<Sample> = input
            .iter()
            .filter_map(|(m, v)| v.get(i).map(|p| Sample::new(m, p.reading())))
            .collect();
        if let Some(d) = gate.tick(at(i), &samples).decision {
            decided = Some((i, d));
            break;
        }
    }
    let (decided_tick, decision) = match decided {
        Some((i, d)) => (Some(i), d),
        None => (None, gate.finish(at(ticks.saturating_sub(1)))),
    };
    let tick_of = |t: Timestamp| ((t - T0) / step.max(1)) as usize;
    let got: Vec<(String, String, usize, Severity)> = gate
        .anomalies()
        .iter()
        .map(|a| {
            (
                a.rule.clone(),
                a.series.clone(),
                tick_of(a.fired_at),
                a.severity,
            )
        })
        .collect();
    let mut diff = Vec::new();
    diff_anomalies(&case.expect.anomalies, &got, &mut diff);
    let verdict = match decision.verdict {
        Verdict::Healthy => ExpectedVerdict::Healthy,
        Verdict::Rollback => ExpectedVerdict::Rollback,
        Verdict::Inconclusive => ExpectedVerdict::Inconclusive,
    };
    if let Some(want) = case.expect.decision {
        if want != verdict {
            diff.push(format!(
                "decision: - {} + {} ({})",
                lower(want),
                lower(verdict),
                decision.reason()
            ));
        }
    }
    if let Some(want) = case.expect.decided_at {
        if decided_tick != Some(want) {
            let got = decided_tick.map_or("never".into(), |t| format!("tick {t}"));
            diff.push(format!("decided_at: - tick {want} + {got}"));
        }
    }
    Ok(CaseResult {
        file: file.to_string(),
        name: case.name.clone(),
        passed: diff.is_empty(),
        diff,
    })
}

fn lower(v: ExpectedVerdict) -> &'static str {
    match v {
        ExpectedVerdict::Healthy => "healthy",
        ExpectedVerdict::Rollback => "rollback",
        ExpectedVerdict::Inconclusive => "inconclusive",
    }
}

fn diff_anomalies(
    want: &[ExpectedAnomaly],
    got: &[(String, String, usize, Severity)],
    diff: &mut Vec<String>,
) {
    let mut used = vec![false; got.len()];
    let mut missing = Vec::new();
    for w in want {
        let hit = got.iter().enumerate().position(|(i, g)| {
            !used[i]
                && g.0 == w.rule
                && g.2 == w.tick
                && w.series.as_ref().is_none_or(|s| *s == g.1)
                && w.severity.is_none_or(|s| s == g.3)
        });
        match hit {
            Some(i) => used[i] = true,
            None => missing.push(w),
        }
    }
    for w in missing {
        let also = got
            .iter()
            .filter(|g| g.0 == w.rule)
            .map(|g| format!("tick {}", g.2))
            .collect::<Vec<_>>();
        let note = if also.is_empty() {
            "never fired".to_string()
        } else {
            format!("fired at {}", also.join(", "))
        };
        let sev = w
            .severity
            .map_or(String::new(), |s| format!(" {}", s.as_str()));
        diff.push(format!(
            "anomaly: - {}{} at tick {}{sev} ({note})",
            w.rule,
            w.series
                .as_ref()
                .map_or(String::new(), |s| format!(" on {s}")),
            w.tick
        ));
    }
    for (g, _) in got.iter().zip(&used).filter(|(_, u)| !**u) {
        diff.push(format!(
            "anomaly: + {} on {} at tick {} {} (not expected)",
            g.0,
            g.1,
            g.2,
            g.3.as_str()
        ));
    }
}
