//! `analyze`: replays baseline and current series from files through the same gate as
//! `watch`, tick by tick, and prints the JSON verdict. Nothing is run or stored.

use super::{load_config, print_json};
use crate::cli::{AnalyzeArgs, Format, Global};
use crate::decide::Verdict;
use crate::detect::Baseline;
use crate::error::{Error, Exit, Result};
use crate::gate::Gate;
use crate::offline;
use crate::report::{table, RollbackOutcome, RunSummary};
use std::collections::HashMap;

/// Replays `--current` against `--baseline` and prints what the gate decided and when.
pub fn run(g: &Global, a: &AnalyzeArgs) -> Result<Exit> {
    let config = load_config(g)?;
    let base = offline::read(&a.baseline).map_err(Error::Input)?;
    let current = offline::read(&a.current).map_err(Error::Input)?;
    if current.rows.is_empty() {
        return Err(Error::Input(format!(
            "{}: no rows to replay",
            a.current.display()
        )));
    }
    let baselines: HashMap<String, Baseline> = base
        .values()
        .into_iter()
        .filter_map(|(k, v)| Baseline::from_values(&v).map(|b| (k, b)))
        .collect();

    // Only metrics present in the current file are replayed; rules on others are skipped, and said so.
    let metrics: Vec<_> = config
        .metrics
        .iter()
        .filter(|m| current.columns.contains(&m.name))
        .cloned()
        .collect();
    let (rules, skipped): (Vec<_>, Vec<_>) = config
        .rules
        .iter()
        .cloned()
        .partition(|r| current.columns.contains(&r.metric));
    for r in &skipped {
        errln!(
            "note: rule `{}` skipped: metric `{}` is not a column of {}",
            r.name,
            r.metric,
            a.current.display()
        );
    }
    for r in rules.iter().filter(|r| r.detector.needs_baseline()) {
        if !baselines.contains_key(&r.metric) {
            return Err(Error::Usage(format!(
                "rule `{}` needs a baseline of `{}`, but {} has no values for it",
                r.name,
                r.metric,
                a.baseline.display()
            )));
        }
    }
    let mut policy = config.policy.clone();
    if policy
        .error_rate
        .as_ref()
        .is_some_and(|er| !current.columns.contains(&er.metric))
    {
        policy.error_rate = None;
    }
    // The replay is the watch: statistical rules spread their alpha over its rows.
    policy.looks = (current.rows.len() as u32).max(1);

    // isolation_forest rules train on the baseline rows, paired by index.
    let mut gate = Gate::new(rules, metrics, policy.clone(), baselines)
        .with_baseline_rows(base.aligned().into_iter().collect());
    let mut ticks = 0;
    let mut decision = None;
    for row in &current.rows {
        ticks += 1;
        if let Some(d) = gate.tick(row.at, &row.samples).decision {
            decision = Some(d);
            break;
        }
    }
    let last = current.rows[ticks as usize - 1].at;
    let d = decision.unwrap_or_else(|| gate.finish(last));
    let exit = match d.verdict {
        _ if d.wants_rollback() => Exit::Unhealthy,
        Verdict::Inconclusive => Exit::Inconclusive,
        _ => Exit::Healthy,
    };
    let mut summary = RunSummary {
        run_id: "analyze".into(),
        deployment: config.deployment.clone(),
        started_at: current.rows[0].at,
        ended_at: last,
        ticks,
        verdict: String::new(),
        decided_at: d.at,
        reasons: Vec::new(),
        exit_code: exit.code(),
        dry_run: true,
        interrupted: false,
        rollback: RollbackOutcome {
            needed: d.wants_rollback(),
            note: "analyze never runs the rollback".into(),
            ..Default::default()
        },
        policy,
        anomalies: gate.anomalies().to_vec(),
        rules: gate.evaluations(),
        completeness: gate.completeness(),
        notifications: Vec::new(),
        tick_overhead_ms: None,
    };
    summary.set_decision(&d);
    match a.output {
        Format::Json => print_json(&summary)?,
        Format::Table => out!("{}", table::summary(&summary)),
    }
    Ok(exit)
}
