//! Human tables (comfy-table). Colour only on a terminal and never with NO_COLOR.

use super::view::{plural, RuleView};
use super::{ts, Render, RunReport, RunSummary};
use crate::model::fmt_num;
use comfy_table::{
    presets::UTF8_FULL_CONDENSED, Cell, Color, ColumnConstraint, ContentArrangement, Table, Width,
};
use std::io::IsTerminal;

/// Whether to colour output.
pub fn colour() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// Width of a table when the terminal's is unknown (CI logs, pipes, `NO_COLOR`).
pub const LOG_WIDTH: u16 = 120;

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
/// characters), so wrapping happens between words and long free text (the last column)
/// absorbs the width. Call after adding the rows.
pub fn fit(t: &mut Table) {
    let mut longest: Vec<usize> = Vec::new();
    let cells = t
        .header()
        .into_iter()
        .chain(t.row_iter())
        .flat_map(|r| r.cell_iter().enumerate().collect::<Vec<_>>());
    for (i, c) in cells {
        let w = c
            .content()
            .split_whitespace()
            .map(|w| w.chars().count())
            .max()
            .unwrap_or(0);
        if longest.len() <= i {
            longest.resize(i + 1, 0);
        }
        longest[i] = longest[i].max(w);
    }
    let last = longest.len().saturating_sub(1);
    for (i, w) in longest.into_iter().enumerate() {
        if i == last {
            continue;
        }
        if let Some(col) = t.column_mut(i) {
            col.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(
                w.min(24) as u16 + 2,
            )));
        }
    }
}

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
            v.verdict.to_uppercase(),
            v.exit_code,
            ts(v.started_at),
            ts(v.ended_at),
            plural(v.ticks as usize, "tick", "ticks")
        ),
        None => format!(
            "verdict: {} (exit {}) for {} after {}, decided at {}\n",
            v.verdict.to_uppercase(),
            v.exit_code,
            v.deployment,
            plural(v.ticks as usize, "tick", "ticks"),
            ts(v.decided_at)
        ),
    };
    for r in &v.reasons {
        out.push_str(&format!("  why: {r}\n"));
    }
    if let Some(r) = v.rollback_line() {
        out.push_str(&format!("  rollback: {r}\n"));
    }
    if let Some(p) = policy_line(&v.policy) {
        out.push_str(&format!("  policy: {p}\n"));
    } else if let Some(f) = v.fail_mode() {
        out.push_str(&format!("  on_inconclusive: {f}\n"));
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
fn policy_line(p: &serde_json::Value) -> Option<String> {
    let n = |k: &str| p.get(k).and_then(serde_json::Value::as_u64);
    let (critical, high) = (n("critical")?, n("high")?);
    let mut parts = vec![format!("critical ≥ {critical}"), format!("high ≥ {high}")];
    for k in ["medium", "low"] {
        if let Some(l) = n(k).filter(|l| *l > 0) {
            parts.push(format!("{k} ≥ {l}"));
        }
    }
    if let Some(d) = p.get("max_downtime").and_then(serde_json::Value::as_str) {
        parts.push(format!("max_downtime {d}"));
    }
    if let Some(m) = p.get("max_missing").and_then(serde_json::Value::as_f64) {
        parts.push(format!("max_missing {}%", fmt_num(m)));
    }
    match p.get("on_inconclusive").and_then(serde_json::Value::as_str) {
        Some("fail") => parts.push("on_inconclusive: fail (fail-closed)".into()),
        Some(_) => parts.push("on_inconclusive: pass (fail-open)".into()),
        None => {}
    }
    Some(parts.join(", "))
}

/// The notification counts of a live run, one line (none when nothing was sent).
pub fn notification_lines(s: &RunSummary) -> Vec<String> {
    if s.notifications.is_empty() {
        return Vec::new();
    }
    let count = |o: &str| s.notifications.iter().filter(|a| a.outcome == o).count();
    let suppressed = s.notifications.len() - count("sent") - count("failed") - count("abandoned");
    vec![format!(
        "notifications: {} sent, {} failed, {} abandoned, {suppressed} suppressed (dedup/cooldown)",
        count("sent"),
        count("failed"),
        count("abandoned")
    )]
}
