//! `analyze`: replays baseline and current series from files through the same loop as
//! `watch`, tick by tick, and prints the verdict. Nothing is run or stored. `--control` adds
//! the stable version's readings of the same ticks.

use super::load_config;
use crate::cli::{AnalyzeArgs, Global};
use crate::error::{Error, Exit, Result};
use crate::exit::{Concluded, Outcome, RollbackResult};
use crate::gate::{judge, GatePlan, Judged, Tick};
use crate::offline;
use crate::report::{RollbackOutcome, RunSummary};

/// Replays `--current` against `--baseline` and prints what the gate decided and when.
pub fn run(g: &Global, a: &AnalyzeArgs) -> Result<Exit> {
    let config = load_config(g)?;
    let base = match &a.baseline {
        Some(path) => offline::read(path).map_err(Error::Input)?,
        None => offline::SeriesFile::default(),
    };
    let current = offline::read(&a.current).map_err(Error::Input)?;
    let control = match &a.control {
        Some(path) => Some(offline::read(path).map_err(Error::Input)?),
        None => None,
    };
    if current.rows.is_empty() {
        return Err(Error::Input(format!(
            "{}: no rows to replay",
            a.current.display()
        )));
    }

    // Only metrics present in the current file are replayed; rules on others are skipped, and said so.
    let mut plan = GatePlan::new(
        config.rules.clone(),
        config.metric_specs(),
        config.policy.clone(),
    )
    .with_baseline(base.aligned().into_iter().collect())
    .with_planned_ticks(current.rows.len() as u32)
    .with_controls(|m| {
        control
            .as_ref()
            .is_some_and(|c| c.columns.iter().any(|k| k == m))
    });
    for r in plan.restrict_to(|m| current.columns.iter().any(|c| c == m)) {
        errln!(
            "note: rule `{}` skipped: metric `{}` is not a column of {}",
            r.name,
            r.metric,
            a.current.display()
        );
    }
    if let Some(m) = plan.missing_baseline() {
        let file = a
            .baseline
            .as_ref()
            .map_or("no --baseline was given".into(), |p| {
                format!("{} has no values for it", p.display())
            });
        return Err(Error::Usage(format!(
            "rule `{}` ({} detector) needs a baseline of `{}`, but {file}",
            m.rule, m.detector, m.metric
        )));
    }
    if let Some((rule, metric)) = plan.missing_control() {
        return Err(Error::Usage(format!(
            "rule `{rule}` compares against a control, but `{metric}` is not a column of \
             --control FILE"
        )));
    }
    let ticks = offline::with_control(&current, control.as_ref()).map_err(Error::Input)?;
    let policy = plan.policy.clone();
    let Judged {
        driven,
        decision: d,
        gate,
    } = judge(
        plan,
        ticks.into_iter().map(|r| Tick {
            at: r.at,
            samples: r.samples,
        }),
        current.rows[0].at,
    );
    let last = driven.last_at.unwrap_or(current.rows[0].at);
    let concluded = Concluded::of(&d);
    let rollback = if concluded.wants_rollback() {
        RollbackResult::Withheld
    } else {
        RollbackResult::NotNeeded
    };
    let exit = Outcome::new(concluded, rollback).exit();
    let mut summary = RunSummary {
        run_id: "analyze".into(),
        deployment: config.deployment.clone(),
        started_at: current.rows[0].at,
        ended_at: last,
        ticks: driven.ticks,
        verdict: d.verdict.into(),
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
    summary.explain_below_policy();
    super::print_run(a.output, &summary);
    Ok(exit)
}
