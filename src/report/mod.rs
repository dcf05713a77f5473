//! What a run looked like, as one plain value, and its renderings. Every format is one
//! file here implementing [`Render`]; [`ReportFormat::renderer`] is the one list of them.
//! A new format: copy `json.rs` (the smallest), add a variant and one line in `renderer`.

pub mod backtest;
pub mod backtest_html;
pub mod chart;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod series;
pub mod table;

use self::series::SeriesSamples;

pub use vz_core::run::{plural, ts, RollbackOutcome, RunSummary, RunVerdict, TickOverhead};

/// Everything a format may show of one run: the summary (live or as stored), the JSON it
/// was stored as, and, for charts, the samples of every judged series.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    /// The summary every format reads (a live run's, or a stored one read back).
    pub view: RunSummary,
    /// Whether the summary carries the policy it was judged by (a manual rollback or a
    /// run still going has none to show).
    pub has_policy: bool,
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
        let mut view = s.clone();
        view.explain_below_policy();
        RunReport {
            view,
            has_policy: true,
            json: serde_json::to_value(s).unwrap_or_default(),
            stored: None,
            series: Vec::new(),
            extra_lines: table::notification_lines(s),
        }
    }

    /// The report of a summary as `--output json` printed it (e.g. an `analyze` replay),
    /// with the samples its charts draw.
    pub fn from_json(json: serde_json::Value, series: Vec<SeriesSamples>) -> RunReport {
        let mut view: RunSummary = serde_json::from_value(json.clone()).unwrap_or_default();
        view.explain_below_policy();
        RunReport {
            view,
            has_policy: json.get("policy").is_some(),
            json,
            stored: None,
            series,
            extra_lines: Vec::new(),
        }
    }
}

impl RunReport {
    /// `on_inconclusive` as fail-open / fail-closed words, when the run has a policy.
    pub fn fail_mode(&self) -> Option<&'static str> {
        self.has_policy.then(|| self.view.fail_mode())
    }
}

/// One output format of a run report.
pub trait Render {
    /// The whole document (ends with a line break).
    fn render(&self, run: &RunReport) -> String;
}

/// The formats of `report --output`, and of every place that renders a run.
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
