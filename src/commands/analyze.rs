//! `analyze`: replays baseline and current series from files through the same loop as
//! `watch`, tick by tick, and prints the verdict. Nothing is run or stored.

use super::load_config;
use crate::cli::{AnalyzeArgs, Global};
use crate::error::{Error, Exit, Result};
use crate::exit::{Concluded, Outcome, RollbackResult};
use crate::gate::{replay, GatePlan, Tick};
use crate::offline;
use crate::report::{RollbackOutcome, RunSummary};

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

    // Only metrics present in the current file are replayed; rules on others are skipped, and said so.
    let mut plan = GatePlan::new(
        config.rules.clone(),
        config.metric_specs(),
        config.policy.clone(),
    )
    .with_baseline(base.aligned().into_iter().collect())
    .with_planned_ticks(current.rows.len() as u32);
    for r in plan.restrict_to(|m| current.columns.iter().any(|c| c == m)) {
        errln!(
            "note: rule `{}` skipped: metric `{}` is not a column of {}",
            r.name,
            r.metric,
            a.current.display()
        );
    }
    if let Some(m) = plan.missing_baseline() {
        return Err(Error::Usage(format!(
            "rule `{}` ({} detector) needs a baseline of `{}`, but {} has no values for it",
            m.rule,
            m.detector,
            m.metric,
            a.baseline.display()
        )));
    }
    let policy = plan.policy.clone();
    let mut gate = plan.build();
    let driven = replay(
        &mut gate,
        current.rows.iter().map(|r| Tick {
            at: r.at,
            samples: r.samples.clone(),
        }),
    );
    let last = driven.last_at.unwrap_or(current.rows[0].at);
    let d = driven.conclude(&mut gate, last);
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
    super::print_run(a.output, &summary);
    Ok(exit)
}
