//! Rule unit test files (`vz-monitor test FILE…`): reading the file and the rules under test.
//! Running a case is the core's [`vz_core::ruletest::run_case`], through the same replay
//! loop as `watch` and `analyze`.

mod promql;
mod promtool;

pub use vz_core::ruletest::{
    run_case, series, CaseResult, Expect, ExpectedAnomaly, ExpectedVerdict, TestCase,
};

use crate::config::{self, dur, Config};
use crate::gate::GatePlan;
use serde::Deserialize;
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

/// Loads a test file and runs every case. Err: the file or its rules cannot be used (exit 2).
pub fn run_file(path: &Path) -> Result<Vec<CaseResult>, String> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: cannot read: {e}"))?;
    // Limits first: the promtool sniff parses the text, and a bomb must not reach a parser.
    crate::config::limits::check_yaml(&text).map_err(|e| match e.line {
        Some(l) => format!("{name}:{l}: {}", e.message),
        None => format!("{name}: {}", e.message),
    })?;
    if promtool::is_promtool(&text) {
        return promtool::run(path, &text);
    }
    let file: TestFile = serde_yaml::from_str(&text).map_err(|e| format!("{name}: {e}"))?;
    let config = load_rules(path, &file)?;
    let interval = file.interval.unwrap_or(config.interval);
    let plan = GatePlan::new(
        config.rules.clone(),
        config.metric_specs(),
        config.policy.clone(),
    );
    file.tests
        .iter()
        .map(|case| run_case(&name, &plan, interval, case))
        .collect()
}

fn load_rules(path: &Path, file: &TestFile) -> Result<Config, String> {
    let env = |n: &str| std::env::var(n).ok();
    let dir = path.parent().unwrap_or(Path::new("."));
    match (&file.config, file.rule_files.is_empty()) {
        (Some(c), true) => config::load_offline(&dir.join(c), &env).map_err(|e| e.to_string()),
        (None, false) => load_rule_files(path, &file.rule_files, file.policy.as_ref()),
        _ => Err(format!(
            "{}: give either `rule_files` or `config`",
            path.display()
        )),
    }
}

/// A config made of rule files only (paths relative to `anchor`'s folder), and optionally a
/// `rollback.policy`, loaded offline: rule tests give every value, so nothing is queried.
pub fn load_rule_files(
    anchor: &Path,
    files: &[String],
    policy: Option<&serde_yaml::Value>,
) -> Result<Config, String> {
    let env = |n: &str| std::env::var(n).ok();
    let mut main = serde_yaml::Mapping::new();
    let includes = files.iter().map(|f| f.as_str().into()).collect();
    main.insert("include".into(), serde_yaml::Value::Sequence(includes));
    if let Some(p) = policy {
        let mut rb = serde_yaml::Mapping::new();
        rb.insert("policy".into(), p.clone());
        main.insert("rollback".into(), rb.into());
    }
    let text = serde_yaml::to_string(&main).map_err(|e| e.to_string())?;
    config::parse(&text, Some(anchor), &env, config::Needs::Offline).map_err(|e| e.to_string())
}
