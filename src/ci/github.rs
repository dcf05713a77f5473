//! GitHub Actions, active when `GITHUB_ACTIONS=true`: one workflow-command annotation per
//! fired anomaly and one for the verdict (on stderr, so `--output json` keeps stdout clean;
//! the runner reads workflow commands from both), a Markdown summary appended to
//! `$GITHUB_STEP_SUMMARY` (with a Mermaid chart per judged series, drawn from the series'
//! sampled value at every tick), and step outputs appended to `$GITHUB_OUTPUT`.

use crate::gate::{Gate, TickReport};
use crate::model::{Reading, Severity, Timestamp};
use crate::observe::{At, Observer, RunContext};
use crate::report::series::SeriesSamples;
use crate::report::{ReportFormat, RunReport};
use crate::run::RunSummary;
use futures::future::BoxFuture;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The GitHub Actions observer.
#[derive(Debug)]
pub struct GitHub {
    step_summary: Option<PathBuf>,
    output: Option<PathBuf>,
    /// Each judged series' observed value at every tick, for the summary's charts.
    seen: Vec<SeriesSamples>,
}

/// An annotation level (`::error`, `::warning`, `::notice`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Notice,
}

impl Level {
    /// The level of an anomaly: critical and high are errors, medium a warning, the rest notices.
    pub fn of(severity: Severity) -> Level {
        match severity {
            Severity::Critical | Severity::High => Level::Error,
            Severity::Medium => Level::Warning,
            Severity::Low | Severity::Info => Level::Notice,
        }
    }

    /// The level of a verdict, by the run's exit code.
    pub fn of_exit(code: u8) -> Level {
        match code {
            0 => Level::Notice,
            1 | 4 => Level::Error,
            _ => Level::Warning,
        }
    }

    fn command(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }
}

impl GitHub {
    /// The observer when `GITHUB_ACTIONS` is `true`, with the runner's file paths.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Option<GitHub> {
        if env("GITHUB_ACTIONS").as_deref() != Some("true") {
            return None;
        }
        let path = |k: &str| env(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        Some(GitHub {
            step_summary: path("GITHUB_STEP_SUMMARY"),
            output: path("GITHUB_OUTPUT"),
            seen: Vec::new(),
        })
    }
}

/// A workflow command line: `::level title=…::message`, escaped per GitHub's rules.
pub fn annotation(level: Level, title: &str, message: &str) -> String {
    format!(
        "::{} title={}::{}",
        level.command(),
        escape_property(title),
        escape_data(message)
    )
}

/// Escapes a workflow command's message: `%`, `\r`, `\n`.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value: as data, plus `:` and `,`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Step outputs in `$GITHUB_OUTPUT` syntax; a value with a line break uses a delimiter.
pub fn outputs(ctx: &RunContext, s: &RunSummary) -> String {
    let rolled_back = s.rollback.ran && s.rollback.ok;
    let pairs = [
        ("verdict", s.verdict.to_string()),
        ("exit-code", s.exit_code.to_string()),
        ("run-id", s.run_id.clone()),
        ("anomalies", s.anomalies.len().to_string()),
        ("rolled-back", rolled_back.to_string()),
        ("deployment", ctx.deployment.clone()),
    ];
    let mut out = String::new();
    for (k, v) in pairs {
        if v.contains(['\n', '\r']) {
            let delim = format!("vz_{}", uuid::Uuid::new_v4().simple());
            out.push_str(&format!("{k}<<{delim}\n{v}\n{delim}\n"));
        } else {
            out.push_str(&format!("{k}={v}\n"));
        }
    }
    out
}

/// The Markdown appended to the job summary: the report's Markdown (verdict, reasons,
/// rules table, rollback outcome), a Mermaid `xychart-beta` per judged series (at most 6)
/// and the full run id for `vz-monitor report`.
pub fn step_summary(s: &RunSummary, seen: &[SeriesSamples]) -> String {
    let mut run = RunReport::live(s);
    run.series = seen.to_vec();
    let mut out = ReportFormat::Markdown.render(&run);
    let charts: Vec<String> = crate::report::series::charts(&run.view, &run.series)
        .iter()
        .filter_map(crate::report::chart::mermaid)
        .take(6)
        .collect();
    if !charts.is_empty() {
        out.push('\n');
        out.push_str(&charts.join("\n"));
    }
    out.push_str(&format!(
        "\nFull report: `vz-monitor report {}` (`--output html` for a page with charts)\n\n",
        s.run_id
    ));
    out
}

/// Adds one tick's reading of every judged series: the sampled value, not a rule's
/// statistic (a `down` rule's observed value is how long the probe has been down, so a
/// healthy probe answering 1 was drawn at 0); a down reading is marked as such.
pub fn record_tick(
    seen: &mut Vec<SeriesSamples>,
    now: Timestamp,
    evaluations: &[crate::gate::Evaluation],
    readings: &[(&str, &Reading)],
) {
    for (series, reading) in readings {
        if !evaluations.iter().any(|e| e.series == *series) {
            continue;
        }
        let i = match seen.iter().position(|s| s.series == *series) {
            Some(i) => i,
            None => {
                seen.push(SeriesSamples::named(series));
                seen.len() - 1
            }
        };
        seen[i].push(now, reading.value(), matches!(reading, Reading::Down(_)));
    }
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

/// Appends `text` to a file GitHub renders or parses: raw control characters (ESC, BEL …:
/// terminal sequences from a label value or an error body) are dropped; lines and tabs stay.
fn append(path: &Path, text: &str, what: &str) {
    let text: String = text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect();
    let res = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = res {
        errln!(
            "warning: could not write the {what} to {}: {e}",
            path.display()
        );
    }
}

/// Annotations go to stderr, unbuffered and whole lines, so they never mix into stdout.
fn emit(line: &str) {
    crate::output::raw_err(&crate::output::sanitize_line(line));
}

impl Observer for GitHub {
    fn on_tick(&mut self, at: &mut At<'_>, report: &TickReport, gate: &Gate) {
        let (ctx, now) = (at.ctx, at.now);
        if self.step_summary.is_some() {
            record_tick(
                &mut self.seen,
                now,
                &gate.evaluations(),
                &gate.readings_at(now),
            );
        }
        for a in &report.fired {
            let dry = if a.dry_run { " [dry-run rule]" } else { "" };
            let title = format!("vz-monitor {} ({}): {}", a.kind, a.severity, a.rule);
            let message = format!(
                "{}: `{}` fired on {}{dry}: {}",
                ctx.deployment, a.rule, a.series, a.reason
            );
            emit(&annotation(Level::of(a.severity), &title, &message));
        }
    }

    fn on_finish<'a>(&'a mut self, at: At<'a>, s: &'a RunSummary) -> BoxFuture<'a, ()> {
        let ctx = at.ctx;
        Box::pin(async move {
            let title = format!("vz-monitor verdict: {} (exit {})", s.verdict, s.exit_code);
            let message = format!(
                "{}: {} — {}; rollback: {}",
                ctx.deployment,
                s.verdict.as_str().to_uppercase(),
                s.reasons.join("; "),
                rollback_outcome(s)
            );
            emit(&annotation(Level::of_exit(s.exit_code), &title, &message));
            if let Some(p) = &self.step_summary {
                append(p, &step_summary(s, &self.seen), "job summary");
            }
            if let Some(p) = &self.output {
                append(p, &outputs(ctx, s), "step outputs");
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_data_and_properties_as_github_does() {
        // The rules of actions/toolkit's command.ts (escapeData / escapeProperty).
        assert_eq!(escape_data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(escape_property("50% a\nb: c, d"), "50%25 a%0Ab%3A c%2C d");
        assert_eq!(
            annotation(Level::Error, "t: x", "m\n2"),
            "::error title=t%3A x::m%0A2"
        );
    }

    #[test]
    fn maps_severities_and_exit_codes_to_levels() {
        assert_eq!(Level::of(Severity::Critical), Level::Error);
        assert_eq!(Level::of(Severity::High), Level::Error);
        assert_eq!(Level::of(Severity::Medium), Level::Warning);
        assert_eq!(Level::of(Severity::Low), Level::Notice);
        assert_eq!(Level::of_exit(0), Level::Notice);
        assert_eq!(Level::of_exit(4), Level::Error);
        assert_eq!(Level::of_exit(3), Level::Warning);
    }

    fn evaluation(observed: f64) -> crate::gate::Evaluation {
        crate::gate::Evaluation {
            rule: "err".into(),
            series: "error_rate".into(),
            detector: "threshold".into(),
            kind: "HIGH_ERROR_RATE".into(),
            severity: Severity::Critical,
            status: crate::gate::RuleStatus::Firing,
            fired: true,
            observed: Some(observed),
            expected: crate::model::Expected::Bound {
                op: ">".into(),
                value: 5.0,
            },
            statistic: String::new(),
            score: None,
            p_value: None,
            reason: format!("value {observed} > 5"),
            dry_run: false,
        }
    }

    #[test]
    fn the_step_summary_draws_a_mermaid_chart_per_judged_series() {
        let mut seen = Vec::new();
        for (t, v) in [(0, 1.0), (1000, 2.0), (2000, 9.0), (3000, 12.0)] {
            let reading = Reading::Value(v);
            record_tick(
                &mut seen,
                t,
                &[evaluation(v), evaluation(v)],
                &[("error_rate", &reading)],
            );
        }
        assert_eq!(seen.len(), 1, "one series, however many rules judge it");
        let s = summary(vec![evaluation(12.0)]);
        let md = step_summary(&s, &seen);
        assert!(md.contains("```mermaid\nxychart-beta\n"), "{md}");
        assert!(
            md.contains("x-axis [\"+0s\", \"+1s\", \"+2s\", \"+3s\"]"),
            "{md}"
        );
        assert!(md.contains("line [1, 2, 9, 12]"), "{md}");
        assert!(md.contains("line [5, 5, 5, 5]"), "threshold line: {md}");
        assert!(md.contains("Full report: `vz-monitor report r-1`"), "{md}");
    }

    fn summary(rules: Vec<crate::gate::Evaluation>) -> RunSummary {
        RunSummary {
            run_id: "r-1".into(),
            deployment: "web".into(),
            started_at: 0,
            ended_at: 3000,
            ticks: 4,
            verdict: crate::report::RunVerdict::Rollback,
            decided_at: 3000,
            reasons: vec!["1 critical anomaly".into()],
            exit_code: 1,
            dry_run: false,
            interrupted: false,
            rollback: Default::default(),
            policy: crate::config::Policy::default(),
            anomalies: Vec::new(),
            rules,
            completeness: Vec::new(),
            notifications: Vec::new(),
            tick_overhead_ms: None,
        }
    }

    /// Issue 25.4: a healthy `down` probe (every sample 1) was drawn at 0, the `down`
    /// rule's observed value; an outage must be marked, not drawn as a gap or a flat line.
    #[test]
    fn the_step_summary_charts_what_a_probe_read_and_says_when_it_was_down() {
        let config = crate::config::parse_text(
            "metrics:\n  health:\n    probe: { http: { url: \"http://127.0.0.1:1/\" } }\nrules:\n  - { name: health-down, metric: health, detector: { down: { for: 60s } } }\n",
            Some(Path::new("t.yaml")),
            &|_| None,
        )
        .unwrap();
        let mut gate = Gate::new(
            config.rules.clone(),
            config.metric_specs(),
            config.policy.clone(),
            Default::default(),
        );
        let mut seen = Vec::new();
        let readings = [
            Reading::Value(1.0),
            Reading::Value(1.0),
            Reading::Down("HTTP 503".into()),
            Reading::Value(1.0),
        ];
        for (i, r) in readings.iter().enumerate() {
            let t = i as i64 * 1000;
            gate.tick(t, &[crate::model::Sample::new("health", r.clone())]);
            record_tick(&mut seen, t, &gate.evaluations(), &gate.readings_at(t));
        }
        assert_eq!(seen.len(), 1);
        assert_eq!(
            seen[0].points,
            vec![
                (0, Some(1.0)),
                (1000, Some(1.0)),
                (2000, None),
                (3000, Some(1.0))
            ]
        );
        assert_eq!(seen[0].down, vec![2000]);
        let mut s = summary(gate.evaluations());
        s.ended_at = 3000;
        let md = step_summary(&s, &seen);
        assert!(md.contains("line [1, 1, 1, 1]"), "{md}");
        assert!(md.contains("(down at 1 of 4 samples)"), "{md}");
        let mut report = RunReport::live(&s);
        report.series = seen;
        let html = ReportFormat::Html.render(&report);
        assert!(html.contains("✕ down at 1 of 4 samples"), "{html}");
    }

    #[test]
    fn inactive_outside_actions() {
        assert!(GitHub::from_env(&|_| None).is_none());
        assert!(GitHub::from_env(&|k| (k == "GITHUB_ACTIONS").then(|| "false".into())).is_none());
        let g = GitHub::from_env(&|k| match k {
            "GITHUB_ACTIONS" => Some("true".into()),
            "GITHUB_OUTPUT" => Some("/tmp/o".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(g.output, Some(PathBuf::from("/tmp/o")));
        assert_eq!(g.step_summary, None);
    }
}
