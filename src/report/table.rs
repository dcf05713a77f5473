//! Human tables (comfy-table). Colour only on a terminal and never with NO_COLOR.

use super::{plural, ts, Render, RunReport, RunSummary};
use crate::gate::{Evaluation, RuleStatus};
use crate::model::fmt_num;
use crate::policy::{OnInconclusive, Policy};
use comfy_table::{
    presets::UTF8_FULL_CONDENSED, Cell, Color, ColumnConstraint, ContentArrangement, Table, Width,
};
use std::io::IsTerminal;
use vz_core::run::SendOutcome;

/// Whether to colour output.
pub fn colour() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// Width of a table when the terminal's is unknown (CI logs, pipes, `NO_COLOR`).
pub const LOG_WIDTH: u16 = 120;

/// The longest text a table cell shows: a 1 MB error body in a reason must not make the
/// renderer's wrapping quadratic (48 s for 300 KB). The JSON output keeps the whole text.
pub const MAX_CELL: usize = 600;

/// `text` cut to [`MAX_CELL`] characters, marked when cut.
pub fn capped(text: &str) -> String {
    match text.char_indices().nth(MAX_CELL) {
        None => text.to_string(),
        Some((at, _)) => format!(
            "{}… ({} characters cut)",
            &text[..at],
            text.chars().count() - MAX_CELL
        ),
    }
}

/// A table with the house style: on a terminal as wide as it; elsewhere at most
/// [`LOG_WIDTH`] columns, so CI logs stay readable.
pub fn new_table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if !colour() {
        t.force_no_tty();
        t.set_width(LOG_WIDTH);
    }
    t.set_header(header.iter().map(Cell::new));
    t
}

/// Keeps words whole: every column is at least as wide as its longest word (up to 24
/// characters, so a timestamp stays whole), so wrapping happens between words and long
/// free text (the last column) absorbs the width. Every table calls it after adding its
/// rows: the tables without it broke words in CI logs (`Mann-Whitne|y U`, timestamps;
/// issue 25.6).
pub fn fit(t: &mut Table) {
    let mut longest: Vec<usize> = Vec::new();
    let cells = t
        .header()
        .into_iter()
        .chain(t.row_iter())
        .flat_map(|r| r.cell_iter().enumerate().collect::<Vec<_>>());
    for (i, c) in cells {
        let word = c
            .content()
            .split_whitespace()
            .map(|w| w.chars().count())
            .max()
            .unwrap_or(0);
        if longest.len() <= i {
            longest.resize(i + 1, 0);
        }
        longest[i] = longest[i].max(word);
    }
    let last = longest.len().saturating_sub(1);
    let mut fixed: u16 = 1;
    let mut last_room = MIN_LAST;
    for (i, word) in longest.into_iter().enumerate() {
        let word = word.min(24) as u16 + 2;
        if i == last {
            // Unconstrained, so it absorbs the width; the table is made wide enough for it
            // to keep [`MIN_LAST`] columns.
            last_room = MIN_LAST.max(word);
            continue;
        }
        fixed += word + 1;
        if let Some(col) = t.column_mut(i) {
            col.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(word)));
        }
    }
    // Wider than the log width when the columns need it, rather than breaking words.
    let room = fixed + last_room + 3;
    if t.width().is_some_and(|w| w < room) {
        t.set_width(room);
    }
}

/// Columns the last (free-text) column keeps at least.
const MIN_LAST: u16 = 40;

/// The table format: one row per rule and series, then the verdict block.
pub struct TableFormat;

impl Render for TableFormat {
    fn render(&self, run: &RunReport) -> String {
        let v = &run.view;
        let mut out = if v.rules.is_empty() {
            String::new()
        } else {
            format!("{}\n", rules(&v.rules))
        };
        out.push_str(&verdict_block(run));
        out
    }
}

/// One row per rule and series: status, observed, expected, score and the reason. Shared by
/// the live summary (`watch`, `analyze`) and stored runs (`report`).
pub fn rules(rules: &[Evaluation]) -> String {
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
        let colour = match r.status {
            _ if r.has_fired() => Color::Red,
            RuleStatus::Pending | RuleStatus::NoData => Color::Yellow,
            _ => Color::Green,
        };
        t.add_row(vec![
            Cell::new(capped(&r.rule)),
            Cell::new(capped(&r.series)),
            Cell::new(&r.detector),
            Cell::new(r.severity),
            Cell::new(r.status_text()).fg(colour),
            Cell::new(r.observed_text()),
            Cell::new(r.expected.to_string()),
            Cell::new(r.score_text()),
            Cell::new(capped(&r.reason)),
        ]);
    }
    fit(&mut t);
    t.to_string()
}

/// The verdict block printed under the table: the verdict, why, the rollback (with the
/// tail of a failed command's stderr), the policy and the run id.
fn verdict_block(run: &RunReport) -> String {
    let v = &run.view;
    let mut out = match &run.stored {
        Some((kind, status)) => format!(
            "run {} ({kind}, {status}) of {}: {} (exit {}), {} → {}, {}\n",
            v.run_id,
            v.deployment,
            v.verdict.as_str().to_uppercase(),
            v.exit_code,
            ts(v.started_at),
            ts(v.ended_at),
            plural(v.ticks as usize, "tick", "ticks")
        ),
        None => format!(
            "verdict: {} (exit {}) for {} after {}, decided at {}\n",
            v.verdict.as_str().to_uppercase(),
            v.exit_code,
            v.deployment,
            plural(v.ticks as usize, "tick", "ticks"),
            ts(v.decided_at)
        ),
    };
    for r in &v.reasons {
        out.push_str(&format!("  why: {}\n", capped(r)));
    }
    if let Some(r) = v.rollback_line() {
        out.push_str(&format!("  rollback: {r}\n"));
    }
    if run.has_policy {
        out.push_str(&format!("  policy: {}\n", policy_line(&v.policy)));
    }
    for l in &run.extra_lines {
        out.push_str(&format!("  {l}\n"));
    }
    if run.stored.is_none() {
        out.push_str(&format!("  run: {}\n", v.run_id));
    }
    out
}

/// `critical ≥ 1, high ≥ 3, max_downtime 1m, max_missing 20%, on_inconclusive: pass (fail-open)`
fn policy_line(p: &Policy) -> String {
    let mut parts = vec![
        format!("critical ≥ {}", p.critical),
        format!("high ≥ {}", p.high),
    ];
    for (k, l) in [("medium", p.medium), ("low", p.low)] {
        if l > 0 {
            parts.push(format!("{k} ≥ {l}"));
        }
    }
    parts.push(format!(
        "max_downtime {}",
        humantime::format_duration(p.max_downtime)
    ));
    parts.push(format!("max_missing {}%", fmt_num(p.max_missing)));
    parts.push(match p.on_inconclusive {
        OnInconclusive::Fail => "on_inconclusive: fail (fail-closed)".into(),
        OnInconclusive::Pass => "on_inconclusive: pass (fail-open)".into(),
    });
    parts.join(", ")
}

/// The notification counts of a live run, one line (none when nothing was sent).
pub fn notification_lines(s: &RunSummary) -> Vec<String> {
    if s.notifications.is_empty() {
        return Vec::new();
    }
    let count = |o: SendOutcome| s.notifications.iter().filter(|a| a.outcome == o).count();
    let (sent, failed, abandoned) = (
        count(SendOutcome::Sent),
        count(SendOutcome::Failed),
        count(SendOutcome::Abandoned),
    );
    let suppressed = s.notifications.len() - sent - failed - abandoned;
    vec![format!(
        "notifications: {sent} sent, {failed} failed, {abandoned} abandoned, {suppressed} suppressed (dedup/cooldown)"
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1 MB reason (a backend's error body) renders cut, in one screen: the uncut cell
    /// took over a minute of wrapping.
    #[test]
    fn a_huge_reason_is_cut_before_it_is_wrapped() {
        let e = Evaluation {
            rule: "r".into(),
            series: "s".into(),
            detector: "threshold".into(),
            kind: "HIGH_ERROR_RATE".into(),
            severity: crate::model::Severity::Critical,
            status: crate::gate::RuleStatus::NoData,
            fired: false,
            observed: None,
            expected: Default::default(),
            statistic: String::new(),
            score: None,
            p_value: None,
            reason: "overloaded ".repeat(100_000),
            dry_run: false,
        };
        let text = rules(&[e]);
        assert!(text.contains("characters cut"), "{}", &text[..200]);
        assert!(text.len() < 20_000, "{} bytes", text.len());
        assert_eq!(capped("short"), "short");
    }
}
