//! What `backtest` found, as one plain value, and its renderings: tables for a terminal,
//! JSON, Markdown for a GitHub step summary, and an HTML page with a chart per metric
//! ([`super::backtest_html`]).

use super::table::{fit, new_table};
use crate::backtest::mde::{Mde, POWER};
use crate::backtest::{History, Tally, WindowResult};
use crate::cli::BacktestFormat;
use crate::model::{fmt_num, Direction, Timestamp};
use serde::Serialize;
use std::time::Duration;

/// How the backtest was set up.
#[derive(Debug, Clone)]
pub struct Setup {
    pub deployment: String,
    /// Where the history came from (`4 range queries over 7days every 15s`, a file).
    pub source: String,
    pub duration: Duration,
    pub interval: Duration,
    pub every: Duration,
    pub baseline_window: Duration,
    pub alpha: f64,
}

/// A backtest's result, as `--output json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Backtest {
    pub deployment: String,
    pub source: String,
    /// First and last point of the history (Unix ms).
    pub history_from: Timestamp,
    pub history_until: Timestamp,
    /// The watch replayed, its baseline and the distance between windows (`15m`).
    pub duration: String,
    pub interval: String,
    pub baseline_window: String,
    pub every: String,
    pub alpha: f64,
    /// Windows, judged windows, rollbacks, the false-rollback rate and the rules behind it.
    #[serde(flatten)]
    pub tally: Tally,
    /// Every window that would have rolled back, with its reason.
    pub rolled_back: Vec<WindowResult>,
    /// Per metric: the smallest shift caught with 80 % power.
    pub min_detectable_effect: Vec<Mde>,
    /// The ends (Unix ms) of the quiet windows the shifts were injected into.
    pub mde_windows: Vec<Timestamp>,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
    /// Every window replayed, oldest first.
    pub replayed: Vec<WindowResult>,
}

impl Backtest {
    /// Gathers what the command found.
    pub fn new(
        setup: Setup,
        history: &History,
        windows: Vec<WindowResult>,
        tally: Tally,
        (mdes, mde_windows): (Vec<Mde>, Vec<Timestamp>),
        warnings: Vec<String>,
        notes: Vec<String>,
    ) -> Backtest {
        let d = |d: Duration| humantime::format_duration(d).to_string();
        Backtest {
            deployment: setup.deployment,
            source: setup.source,
            history_from: history.times.first().copied().unwrap_or(0),
            history_until: history.times.last().copied().unwrap_or(0),
            duration: d(setup.duration),
            interval: d(setup.interval),
            baseline_window: d(setup.baseline_window),
            every: d(setup.every),
            alpha: setup.alpha,
            tally,
            rolled_back: windows.iter().filter(|w| w.rollback).cloned().collect(),
            min_detectable_effect: mdes,
            mde_windows,
            warnings,
            notes,
            replayed: windows,
        }
    }

    /// The output in `format`.
    pub fn render(&self, format: BacktestFormat, history: &History) -> String {
        match format {
            BacktestFormat::Table => self.table(),
            BacktestFormat::Json => serde_json::to_string_pretty(self).unwrap_or_default() + "\n",
            BacktestFormat::Markdown => self.markdown(),
            BacktestFormat::Html => super::backtest_html::page(self, history),
        }
    }

    /// One line: what was replayed.
    pub fn headline(&self) -> String {
        format!(
            "{} of {} every {}, each against the {} before it, {} – {}",
            plural(self.tally.windows, "window", "windows"),
            self.duration,
            self.every,
            self.baseline_window,
            minute(self.history_from),
            minute(self.history_until),
        )
    }

    /// One line: the false-rollback rate.
    pub fn rate_line(&self) -> String {
        let t = &self.tally;
        let mut s = format!(
            "would have rolled back {} of {} judged windows ({} %; policy.alpha {} %)",
            t.rollbacks,
            t.judged,
            fmt_num(round2(t.rate * 100.0)),
            fmt_num(self.alpha * 100.0)
        );
        if t.inconclusive > 0 {
            s.push_str(&format!(", {} inconclusive", t.inconclusive));
        }
        if t.windows > t.judged {
            s.push_str(&format!(", {} not judged (gaps)", t.windows - t.judged));
        }
        s
    }

    /// One line: the minimum detectable effect of one metric.
    pub fn mde_cell(m: &Mde) -> String {
        match (m.effect, m.power) {
            (Some(e), Some(p)) => format!(
                "{}{} % ({:.0} % of windows caught)",
                sign(m.direction),
                fmt_num(e),
                p * 100.0
            ),
            _ => format!("none: {}", m.note),
        }
    }

    fn table(&self) -> String {
        let mut o = format!(
            "backtest of {}: {}\nhistory: {}\n{}\n",
            self.deployment,
            self.headline(),
            self.source,
            self.rate_line()
        );
        if !self.rolled_back.is_empty() {
            let mut t = new_table(&["window", "decided", "rules", "reason"]);
            for w in &self.rolled_back {
                t.add_row(vec![
                    window_text(w),
                    w.decided_at
                        .map(minute)
                        .unwrap_or_else(|| "at the end".into()),
                    w.rules.join(", "),
                    why(w),
                ]);
            }
            fit(&mut t);
            o.push_str(&format!("{t}\n"));
        }
        let skipped: Vec<&WindowResult> = self.replayed.iter().filter(|w| !w.judged()).collect();
        for w in skipped.iter().take(5) {
            o.push_str(&format!("not judged {}: {}\n", window_text(w), w.reason));
        }
        if skipped.len() > 5 {
            o.push_str(&format!("… and {} more not judged\n", skipped.len() - 5));
        }
        if !self.min_detectable_effect.is_empty() {
            o.push_str(&format!("\n{}\n", self.mde_title()));
            let mut t = new_table(&["metric", "smallest shift caught", "below it"]);
            for m in &self.min_detectable_effect {
                t.add_row(vec![m.metric.clone(), Self::mde_cell(m), below(m)]);
            }
            fit(&mut t);
            o.push_str(&format!("{t}\n"));
        }
        for n in &self.notes {
            o.push_str(&format!("note: {n}\n"));
        }
        o
    }

    /// The heading of the minimum detectable effect table.
    pub fn mde_title(&self) -> String {
        let n = self
            .min_detectable_effect
            .first()
            .map(|m| m.windows)
            .unwrap_or(0);
        format!(
            "minimum detectable effect ({:.0} % power at policy.alpha {} %, a {} watch, shifts \
             injected into {}):",
            POWER * 100.0,
            fmt_num(self.alpha * 100.0),
            self.duration,
            plural(n, "quiet window", "quiet windows")
        )
    }

    fn markdown(&self) -> String {
        let icon = if self.tally.rate > self.alpha {
            "⚠️"
        } else {
            "✅"
        };
        let mut o = format!(
            "### {icon} vz-monitor backtest — `{}`\n\n{}.  \nHistory: {}.\n\n**{}.**\n\n",
            cell(&self.deployment),
            cell(&self.headline()),
            cell(&self.source),
            cell(&capitalized(&self.rate_line()))
        );
        if !self.rolled_back.is_empty() {
            o.push_str("| window | decided | rules | reason |\n|---|---|---|---|\n");
            for w in &self.rolled_back {
                o.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    cell(&window_text(w)),
                    w.decided_at
                        .map(minute)
                        .unwrap_or_else(|| "at the end".into()),
                    cell(&w.rules.join(", ")),
                    cell(&why(w))
                ));
            }
            o.push('\n');
        }
        if !self.min_detectable_effect.is_empty() {
            o.push_str(&format!(
                "{}\n\n| metric | smallest shift caught | below it |\n|---|---|---|\n",
                cell(&capitalized(&self.mde_title()))
            ));
            for m in &self.min_detectable_effect {
                o.push_str(&format!(
                    "| `{}` | {} | {} |\n",
                    cell(&m.metric),
                    cell(&Self::mde_cell(m)),
                    cell(&below(m))
                ));
            }
            o.push('\n');
        }
        for w in &self.warnings {
            o.push_str(&format!("> [!WARNING]\n> {}\n\n", cell(w)));
        }
        for n in &self.notes {
            o.push_str(&format!("- note: {}\n", cell(n)));
        }
        o
    }
}

/// Why a window rolled back: the policy's reason and what the first rule to fire saw.
pub fn why(w: &WindowResult) -> String {
    match w.findings.first() {
        Some(f) => format!("{}: {f}", w.reason),
        None => w.reason.clone(),
    }
}

/// `2026-12-01 14:00 – 14:15`
pub fn window_text(w: &WindowResult) -> String {
    let end = minute(w.window.end);
    let same_day = minute(w.window.start).get(..10) == end.get(..10);
    format!(
        "{} – {}",
        minute(w.window.start),
        if same_day {
            end.get(11..).unwrap_or(&end)
        } else {
            &end
        }
    )
}

/// A timestamp to the minute, UTC: `2026-12-01 14:00`.
pub fn minute(t: Timestamp) -> String {
    chrono::DateTime::from_timestamp_millis(t)
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| t.to_string())
}

fn below(m: &Mde) -> String {
    match m.below.filter(|_| m.effect.is_some()) {
        Some((s, p)) => format!("{}{} %: {:.0} %", sign(m.direction), fmt_num(s), p * 100.0),
        None => "-".into(),
    }
}

fn sign(d: Direction) -> &'static str {
    match d {
        Direction::Decrease => "−",
        _ => "+",
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    super::plural(n, one, many)
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Escapes a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace(['\n', '\r'], " ")
}
