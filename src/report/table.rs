//! Human tables (comfy-table). Colour only on a terminal and never with NO_COLOR.

use super::view::{RuleView, SummaryView};
use super::{ts, RunSummary};
use crate::model::fmt_num;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, Color, ContentArrangement, Table};
use std::io::IsTerminal;

/// Whether to colour output.
pub fn colour() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// A table with the house style.
pub fn new_table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if !colour() {
        t.force_no_tty();
    }
    t.set_header(header.iter().map(Cell::new));
    t
}

/// The closing summary of a run: one row per rule and series, then the verdict.
pub fn summary(s: &RunSummary) -> String {
    let mut out = rules(&SummaryView::of(s).rules);
    out.push('\n');
    out.push_str(&verdict_lines(s));
    out
}

/// One row per rule and series: status, observed, expected, score and the reason. Shared by
/// the live summary (`watch`, `analyze`) and stored runs (`report`).
pub fn rules(rules: &[RuleView]) -> String {
    let mut t = new_table(&[
        "rule",
        "series",
        "detector",
        "severity",
        "status",
        "observed",
        "expected",
        "score / p",
        "reason",
    ]);
    for r in rules {
        let colour = match r.status.as_str() {
            _ if r.has_fired() => Color::Red,
            "pending" | "no_data" => Color::Yellow,
            _ => Color::Green,
        };
        t.add_row(vec![
            Cell::new(&r.rule),
            Cell::new(&r.series),
            Cell::new(&r.detector),
            Cell::new(r.severity),
            Cell::new(r.status_text()).fg(colour),
            Cell::new(r.observed_text()),
            Cell::new(r.expected.to_string()),
            Cell::new(r.score_text()),
            Cell::new(&r.reason),
        ]);
    }
    t.to_string()
}

/// The verdict block printed under the table.
pub fn verdict_lines(s: &RunSummary) -> String {
    let mut out = format!(
        "verdict: {} (exit {}) for {} after {} tick{}, decided at {}\n",
        s.verdict.to_uppercase(),
        s.exit_code,
        s.deployment,
        s.ticks,
        if s.ticks == 1 { "" } else { "s" },
        ts(s.decided_at)
    );
    for r in &s.reasons {
        out.push_str(&format!("  why: {r}\n"));
    }
    if s.rollback.needed || s.rollback.ran {
        let what = if s.rollback.ran {
            if s.rollback.ok {
                format!("ran, succeeded after {} attempt(s)", s.rollback.attempts)
            } else {
                format!(
                    "ran, FAILED after {} attempt(s): {} — a human must act",
                    s.rollback.attempts, s.rollback.note
                )
            }
        } else {
            format!("not run: {}", s.rollback.note)
        };
        out.push_str(&format!("  rollback: {what}\n"));
    }
    out.push_str(&format!(
        "  policy: critical ≥ {}, high ≥ {}, max_downtime {}, max_missing {}%, on_inconclusive: {}\n",
        s.policy.critical,
        s.policy.high,
        humantime::format_duration(s.policy.max_downtime),
        fmt_num(s.policy.max_missing),
        match s.policy.on_inconclusive {
            crate::policy::OnInconclusive::Pass => "pass (fail-open)",
            crate::policy::OnInconclusive::Fail => "fail (fail-closed)",
        }
    ));
    if !s.notifications.is_empty() {
        let count = |o: &str| s.notifications.iter().filter(|a| a.outcome == o).count();
        let suppressed =
            s.notifications.len() - count("sent") - count("failed") - count("abandoned");
        out.push_str(&format!(
            "  notifications: {} sent, {} failed, {} abandoned, {suppressed} suppressed (dedup/cooldown)\n",
            count("sent"),
            count("failed"),
            count("abandoned")
        ));
    }
    out.push_str(&format!("  run: {}\n", s.run_id));
    out
}
