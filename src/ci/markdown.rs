//! A short Markdown summary of a run for `$GITHUB_STEP_SUMMARY`: verdict, reasons, the
//! rules table and the rollback outcome. (`report --format markdown` renders the full
//! report; this one is sized for a CI job page.)

use crate::config::OnInconclusive;
use crate::gate::RuleStatus;
use crate::model::fmt_num;
use crate::report::{ts, RunSummary};
use std::fmt::Write;

/// The Markdown block appended to the job summary.
pub fn step_summary(s: &RunSummary) -> String {
    let mut out = String::new();
    let icon = match s.exit_code {
        0 => "✅",
        1 | 4 => "❌",
        _ => "⚠️",
    };
    let _ = writeln!(
        out,
        "## {icon} vz-monitor: `{}` — {} (exit {})\n",
        cell(&s.deployment),
        s.verdict.to_uppercase(),
        s.exit_code
    );
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(out, "| verdict | **{}** |", cell(&s.verdict));
    let _ = writeln!(out, "| exit code | {} |", s.exit_code);
    let _ = writeln!(out, "| run | `{}` |", cell(&s.run_id));
    let _ = writeln!(
        out,
        "| window | {} → {}, {} tick(s) |",
        ts(s.started_at),
        ts(s.ended_at),
        s.ticks
    );
    let _ = writeln!(out, "| anomalies | {} |", s.anomalies.len());
    let _ = writeln!(out, "| rollback | {} |", cell(&rollback_outcome(s)));
    let _ = writeln!(
        out,
        "| policy | critical ≥ {}, high ≥ {}, on_inconclusive: {} |",
        s.policy.critical,
        s.policy.high,
        match s.policy.on_inconclusive {
            OnInconclusive::Pass => "pass (fail-open)",
            OnInconclusive::Fail => "fail (fail-closed)",
        }
    );
    if s.dry_run {
        let _ = writeln!(out, "| mode | dry run: evaluate and report, never act |");
    }
    out.push_str("\n### Reasons\n\n");
    for r in &s.reasons {
        let _ = writeln!(out, "- {}", r.replace('\n', " "));
    }
    if !s.rules.is_empty() {
        out.push_str("\n### Rules\n\n");
        out.push_str("| rule | series | severity | status | observed | expected | reason |\n");
        out.push_str("|---|---|---|---|---|---|---|\n");
        for e in &s.rules {
            let status = match (e.status, e.fired) {
                (RuleStatus::Firing, _) => "🔴 firing",
                (_, true) => "🟠 fired, resolved",
                (RuleStatus::Pending, _) => "🟡 pending",
                (RuleStatus::NoData, _) => "⚪ no data",
                (RuleStatus::Ok, _) => "🟢 ok",
            };
            let dry = if e.dry_run { " (dry-run)" } else { "" };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {status}{dry} | {} | {} | {} |",
                cell(&e.rule),
                cell(&e.series),
                e.severity,
                e.observed.map(fmt_num).unwrap_or_else(|| "-".into()),
                cell(&e.expected.to_string()),
                cell(&e.reason)
            );
        }
    }
    out.push('\n');
    out
}

/// What the rollback did, in one sentence.
pub fn rollback_outcome(s: &RunSummary) -> String {
    let r = &s.rollback;
    match (r.needed, r.ran, r.ok) {
        (_, true, true) => format!("ran, succeeded after {} attempt(s)", r.attempts),
        (_, true, false) => format!(
            "ran, FAILED after {} attempt(s): {} — a human must act",
            r.attempts, r.note
        ),
        (true, false, _) => format!("needed, not run: {}", r.note),
        (false, false, _) => "not needed".into(),
    }
}

/// A table cell: no pipes or newlines breaking the row.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_keep_the_row_intact() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
