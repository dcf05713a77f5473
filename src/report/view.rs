//! A run summary as read back from the store (`runs.summary` holds the JSON of a
//! [`RunSummary`]): the fields the Markdown, JUnit and table reports render.

use super::RunSummary;
use crate::model::{fmt_num, Anomaly, Expected, Severity, Timestamp};
use serde::Deserialize;
use serde_json::Value;

/// A stored run, tolerant of older or partial summaries (every field has a default).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SummaryView {
    pub run_id: String,
    pub deployment: String,
    pub started_at: Timestamp,
    pub ended_at: Timestamp,
    pub ticks: u32,
    pub verdict: String,
    pub decided_at: Timestamp,
    pub reasons: Vec<String>,
    pub exit_code: u8,
    pub dry_run: bool,
    pub interrupted: bool,
    pub rollback: RollbackView,
    /// The policy as `--output json` prints it.
    pub policy: Value,
    pub anomalies: Vec<Anomaly>,
    pub rules: Vec<RuleView>,
}

/// `summary.rollback`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RollbackView {
    pub needed: bool,
    pub ran: bool,
    pub ok: bool,
    pub attempts: u32,
    pub exit_status: Option<i32>,
    pub note: String,
}

/// One rule's evaluation on one series (`summary.rules[]`).
#[derive(Debug, Clone, Deserialize)]
pub struct RuleView {
    pub rule: String,
    #[serde(default)]
    pub series: String,
    #[serde(default)]
    pub detector: String,
    #[serde(default)]
    pub kind: String,
    pub severity: Severity,
    /// ok, pending, firing, no_data
    #[serde(default)]
    pub status: String,
    /// Whether the rule fired at any point in the run.
    #[serde(default)]
    pub fired: bool,
    pub observed: Option<f64>,
    #[serde(default = "no_expected")]
    pub expected: Expected,
    #[serde(default)]
    pub statistic: String,
    pub score: Option<f64>,
    pub p_value: Option<f64>,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub dry_run: bool,
}

/// `1 anomaly`, `2 anomalies`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn no_expected() -> Expected {
    Expected::None
}

impl SummaryView {
    /// The view of a live summary (through its JSON, the same form the store keeps).
    pub fn of(s: &RunSummary) -> SummaryView {
        let mut v: SummaryView = serde_json::to_value(s)
            .and_then(serde_json::from_value)
            .unwrap_or_default();
        v.explain_below_policy();
        v
    }

    /// A healthy window whose rules fired below the policy says so ("2 high fired; the
    /// policy rolls back at 3") instead of "no rollback trigger held".
    pub fn explain_below_policy(&mut self) {
        if self.verdict != "healthy" || self.reasons != [crate::decide::NOTHING_HELD] {
            return;
        }
        let mut fired = crate::model::SeverityCounts::default();
        let mut seen = std::collections::BTreeSet::new();
        for a in self.anomalies.iter().filter(|a| !a.dry_run) {
            if seen.insert((a.rule.as_str(), a.series.as_str())) {
                fired.add(a.severity);
            }
        }
        let limit = |s: Severity| {
            self.policy
                .get(s.as_str())
                .and_then(Value::as_u64)
                .unwrap_or(0) as u32
        };
        if let Some(why) = crate::decide::below_policy(limit, &fired) {
            self.reasons = vec![why];
        }
    }

    /// "N anomaly"/"N anomalies".
    pub fn anomaly_count(&self) -> String {
        plural(self.anomalies.len(), "anomaly", "anomalies")
    }

    /// `on_inconclusive` as fail-open / fail-closed words, if the policy says.
    pub fn fail_mode(&self) -> Option<&'static str> {
        match self.policy.get("on_inconclusive")?.as_str()? {
            "pass" => Some("pass (fail-open)"),
            "fail" => Some("fail (fail-closed)"),
            _ => None,
        }
    }

    /// One line on what the rollback did.
    pub fn rollback_line(&self) -> Option<String> {
        let r = &self.rollback;
        if !(r.needed || r.ran) {
            return None;
        }
        Some(if r.ran && r.ok {
            format!("ran, succeeded after {} attempt(s)", r.attempts)
        } else if r.ran {
            format!(
                "ran, FAILED after {} attempt(s): {} — a human must act",
                r.attempts, r.note
            )
        } else {
            format!("not run: {}", r.note)
        })
    }
}

impl RuleView {
    /// Status as a person reads it: FIRING, fired (resolved), pending, no data, ok.
    pub fn status_text(&self) -> String {
        let s = match (self.status.as_str(), self.fired) {
            ("firing", _) => "FIRING",
            (_, true) => "fired, resolved",
            ("pending", _) => "pending",
            ("no_data", _) => "no data",
            _ => "ok",
        };
        if self.dry_run {
            format!("{s} (dry-run)")
        } else {
            s.to_string()
        }
    }

    /// Score and p-value together, `-` when neither.
    pub fn score_text(&self) -> String {
        let p = |p: f64| {
            if p < 1e-4 {
                format!("{p:.1e}")
            } else {
                fmt_num(p)
            }
        };
        match (self.score, self.p_value) {
            (Some(s), Some(v)) => format!("{} / p={}", fmt_num(s), p(v)),
            (Some(s), None) => fmt_num(s),
            (None, Some(v)) => format!("p={}", p(v)),
            (None, None) => "-".into(),
        }
    }

    /// The observed value, `-` when none.
    pub fn observed_text(&self) -> String {
        self.observed.map(fmt_num).unwrap_or_else(|| "-".into())
    }

    /// The rule fired during the run (whether or not it still fires).
    pub fn has_fired(&self) -> bool {
        self.fired || self.status == "firing"
    }
}
