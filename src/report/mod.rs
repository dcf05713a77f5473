//! What a run looked like, as one plain value, and its renderings. Every format is one
//! file here implementing [`Render`]; [`ReportFormat::renderer`] is the one list of them.
//! A new format: copy `json.rs` (the smallest), add a variant and one line in `renderer`.

pub mod chart;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod series;
pub mod table;
pub mod view;

use self::series::SeriesSamples;
use self::view::SummaryView;

use crate::config::Policy;
use crate::decide::{Completeness, Decision};
use crate::gate::Evaluation;
use crate::model::{Anomaly, Timestamp};
use serde::Serialize;

/// Whether and how the rollback ran.
#[derive(Debug, Clone, Serialize, Default)]
pub struct RollbackOutcome {
    /// The policy asked for a rollback.
    pub needed: bool,
    /// The command was run.
    pub ran: bool,
    pub ok: bool,
    pub attempts: u32,
    pub exit_status: Option<i32>,
    /// Why it was not run (dry run, disabled) or how it failed (with the command's last
    /// stderr lines when it failed).
    pub note: String,
}

/// Summary of a `watch` or an `analyze` replay: verdict, why, and every rule's explanation.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub run_id: String,
    pub deployment: String,
    pub started_at: Timestamp,
    pub ended_at: Timestamp,
    pub ticks: u32,
    pub verdict: String,
    /// When the policy decided (the tick of the rollback decision, or the window's end).
    pub decided_at: Timestamp,
    pub reasons: Vec<String>,
    pub exit_code: u8,
    pub dry_run: bool,
    pub interrupted: bool,
    pub rollback: RollbackOutcome,
    pub policy: Policy,
    pub anomalies: Vec<Anomaly>,
    pub rules: Vec<Evaluation>,
    pub completeness: Vec<Completeness>,
    /// Every notification attempt of the run and its outcome (sent, failed, cooldown, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<crate::notify::state::Attempt>,
    /// Median and max time vz-monitor itself spent per tick (detect + decide + store), in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tick_overhead_ms: Option<TickOverhead>,
}

/// Per-tick overhead figures, excluding the wait for probes.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TickOverhead {
    pub median: f64,
    pub max: f64,
}

impl RunSummary {
    /// Fills verdict fields from a decision.
    pub fn set_decision(&mut self, d: &Decision) {
        self.verdict = d.verdict.to_string();
        self.decided_at = d.at;
        self.reasons = d.reasons.clone();
    }
}

/// Formats a timestamp as RFC 3339 UTC with seconds.
pub fn ts(t: Timestamp) -> String {
    chrono::DateTime::from_timestamp_millis(t)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_else(|| t.to_string())
}

/// Everything a format may show of one run: the summary (live or as stored), the JSON it
/// was stored as, and, for charts, the samples of every judged series.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    /// The summary every format reads.
    pub view: SummaryView,
    /// The summary as `--output json` prints it and the store keeps it.
    pub json: serde_json::Value,
    /// For a stored run: its kind (`watch`, `rollback`) and status (`finished`, `running`).
    pub stored: Option<(String, String)>,
    /// Sample values per series (empty when the format needs none or none were stored).
    pub series: Vec<SeriesSamples>,
    /// Per-tick overhead and notification counts (live runs only).
    pub extra_lines: Vec<String>,
}

impl RunReport {
    /// The report of a live run (`watch`, `analyze`) from its summary.
    pub fn live(s: &RunSummary) -> RunReport {
        RunReport {
            view: SummaryView::of(s),
            json: serde_json::to_value(s).unwrap_or_default(),
            stored: None,
            series: Vec::new(),
            extra_lines: table::notification_lines(s),
        }
    }

    /// The report of a summary as `--output json` printed it (e.g. an `analyze` replay),
    /// with the samples its charts draw.
    pub fn from_json(json: serde_json::Value, series: Vec<SeriesSamples>) -> RunReport {
        let mut view: SummaryView = serde_json::from_value(json.clone()).unwrap_or_default();
        view.explain_below_policy();
        RunReport {
            view,
            json,
            stored: None,
            series,
            extra_lines: Vec::new(),
        }
    }
}

/// One output format of a run report.
pub trait Render {
    /// The whole document (ends with a line break).
    fn render(&self, run: &RunReport) -> String;
}

/// The formats of `report --format`, and of every place that renders a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ReportFormat {
    /// Rules table and verdict block, for a terminal or a CI log
    #[default]
    Table,
    /// The stored summary, as `watch --output json` printed it
    Json,
    /// For a pull-request comment or `$GITHUB_STEP_SUMMARY`
    Markdown,
    /// JUnit XML, for GitLab and Jenkins test reports
    Junit,
    /// One self-contained page with a chart per judged series (no network needed)
    Html,
}

impl ReportFormat {
    /// The one list of formats: which [`Render`] draws each.
    pub fn renderer(self) -> &'static dyn Render {
        match self {
            ReportFormat::Table => &table::TableFormat,
            ReportFormat::Json => &json::JsonFormat,
            ReportFormat::Markdown => &markdown::MarkdownFormat,
            ReportFormat::Junit => &junit::JunitFormat,
            ReportFormat::Html => &html::HtmlFormat,
        }
    }

    /// Whether the format draws samples (so `report` reads them from the store).
    pub fn needs_samples(self) -> bool {
        self == ReportFormat::Html
    }

    /// Renders `run` in this format.
    pub fn render(self, run: &RunReport) -> String {
        self.renderer().render(run)
    }
}
