//! The end of a run: its one verdict message, and the notification tally on stderr.

use super::message::{rfc3339, Event, Message};
use super::state::Attempt;
use crate::model::Severity;
use crate::observe::RunContext;
use crate::run::{RunSummary, RunVerdict, SendOutcome};

/// The one verdict message of a run, from its summary.
pub fn message(ctx: &RunContext, s: &RunSummary) -> Message {
    let verdict = if s.interrupted {
        RunVerdict::Interrupted
    } else {
        s.verdict
    };
    let severity = match verdict {
        RunVerdict::Rollback | RunVerdict::RollbackFailed => Severity::Critical,
        RunVerdict::RolledBack | RunVerdict::Inconclusive => Severity::High,
        RunVerdict::Interrupted => Severity::Medium,
        _ => Severity::Info,
    };
    let what = match (ctx.kind.as_str(), verdict) {
        ("manual_rollback", _) if s.rollback.ok => "rolled back by hand".to_string(),
        ("manual_rollback", _) => "MANUAL ROLLBACK FAILED, a human must act".into(),
        (_, RunVerdict::Rollback) if s.rollback.ran && s.rollback.ok => "rolled back".into(),
        (_, RunVerdict::Rollback) if s.rollback.ran => "ROLLBACK FAILED, a human must act".into(),
        (_, RunVerdict::Rollback) => "unhealthy (rollback not run)".into(),
        (_, v) => v.to_string(),
    };
    let mut reasons = s.reasons.clone();
    if !s.rollback.note.is_empty() {
        reasons.push(format!("rollback: {}", s.rollback.note));
    }
    Message {
        version: 1,
        event: Event::Verdict,
        deployment: ctx.deployment.clone(),
        run_id: Some(ctx.run_id.clone()),
        timestamp: rfc3339(s.ended_at),
        severity,
        summary: format!("{}: {what} (exit {})", ctx.deployment, s.exit_code),
        dedup_key: None,
        verdict: Some(verdict.to_string()),
        reasons,
        anomalies: s.anomalies.clone(),
        link: None,
        stage: None,
        exit_code: Some(s.exit_code),
        dry_run: s.dry_run,
    }
}

/// One stderr line of counts, then one per failed or abandoned send.
pub fn report(done: &[Attempt]) {
    let count = |o: SendOutcome| done.iter().filter(|a| a.outcome == o).count();
    let sent = count(SendOutcome::Sent);
    let failed = count(SendOutcome::Failed) + count(SendOutcome::Abandoned);
    let quiet = count(SendOutcome::Duplicate) + count(SendOutcome::Cooldown);
    if done.is_empty() {
        return;
    }
    errln!("notifications: {sent} sent, {failed} failed, {quiet} suppressed (vz-monitor notify history)");
    for a in done.iter().filter(|a| a.outcome.failed()) {
        errln!(
            "  {} {} ({}): {} — {}",
            a.channel,
            a.event,
            a.channel_type,
            a.outcome,
            a.detail
        );
    }
}
