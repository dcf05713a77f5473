//! HTML: one self-contained page (inline CSS and SVG, no script, no network — a Content
//! Security Policy forbids any fetch) with a chart per judged series and the explanation
//! table.

use super::chart::{esc, svg};
use super::series::charts;
use super::{plural, ts, Render, RunReport, RunSummary, RunVerdict};

/// The HTML page format.
pub struct HtmlFormat;

impl Render for HtmlFormat {
    fn render(&self, run: &RunReport) -> String {
        page(run)
    }
}

pub(crate) const STYLE: &str = "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1000px;color:#1d2330;background:#fff}\
h1{font-size:22px;margin:0 0 12px}h2{font-size:17px;margin:28px 0 8px}\
.badge{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:600}\
.healthy{background:#2e7d32}.rollback,.rolled_back,.rollback_failed{background:#c62828}.inconclusive{background:#b26a00}.other{background:#555}\
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{border:1px solid #d5d9e0;padding:4px 8px;text-align:left;vertical-align:top}\
th{background:#f1f3f7}td.fired{color:#c62828;font-weight:600}\
figure{margin:16px 0;padding:8px;border:1px solid #e3e6ec;border-radius:6px}figcaption{font-weight:600;margin-bottom:4px}\
svg{max-width:100%;height:auto}svg .tick{font-size:11px;fill:#555}svg .mark{font-size:12px;font-weight:600}svg .empty{font-size:14px;fill:#888}\
.legend span{margin-right:14px}.sw{display:inline-block;width:18px;height:10px;margin-right:4px;vertical-align:middle}\
code{background:#f1f3f7;padding:1px 4px;border-radius:3px}";

fn badge_class(verdict: RunVerdict) -> &'static str {
    match verdict {
        RunVerdict::Healthy => "healthy",
        RunVerdict::Rollback | RunVerdict::RolledBack | RunVerdict::RollbackFailed => "rollback",
        RunVerdict::Inconclusive => "inconclusive",
        _ => "other",
    }
}

/// The page.
pub fn page(run: &RunReport) -> String {
    let v = &run.view;
    let mut o =
        String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    o.push_str(&format!(
        "<title>vz-monitor: {} — {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&v.verdict.as_str().to_uppercase()),
        esc(&v.deployment)
    ));
    o.push_str(&format!(
        "<h1>vz-monitor <span class=\"badge {}\">{}</span> <code>{}</code></h1>\n",
        badge_class(v.verdict),
        esc(&v.verdict.as_str().to_uppercase()),
        esc(&v.deployment)
    ));
    o.push_str(&facts(v, run.fail_mode()));
    let charts = charts(v, &run.series);
    if !charts.is_empty() {
        o.push_str("<h2>Judged series</h2>\n<p class=\"legend\"><span><i class=\"sw\" style=\"background:#1f5fbf\"></i>watched values</span><span><i class=\"sw\" style=\"background:#9aa3b2;opacity:.5\"></i>baseline range</span><span><i class=\"sw\" style=\"background:#2ca02c;opacity:.4\"></i>control band</span><span><i class=\"sw\" style=\"background:#ff7f0e\"></i>threshold</span><span><i class=\"sw\" style=\"background:#d62728\"></i>anomaly fired</span><span><i class=\"sw\" style=\"background:#111\"></i>decision</span></p>\n");
    }
    for c in &charts {
        let rules: Vec<String> = c
            .rules
            .iter()
            .map(|r| format!("{} ({})", r.rule, r.status_text()))
            .collect();
        o.push_str(&format!(
            "<figure>\n<figcaption>{} — {}</figcaption>\n{}</figure>\n",
            esc(c.series),
            esc(&rules.join(", ")),
            svg(c)
        ));
    }
    o.push_str(&rules_table(v));
    o.push_str("</body>\n</html>\n");
    o
}

fn facts(v: &RunSummary, fail_mode: Option<&str>) -> String {
    let mut rows: Vec<(&str, String)> = vec![
        ("Verdict", format!("{} (exit {})", v.verdict, v.exit_code)),
        ("Run", format!("<code>{}</code>", esc(&v.run_id))),
        (
            "Window",
            esc(&format!(
                "{} → {} ({})",
                ts(v.started_at),
                ts(v.ended_at),
                plural(v.ticks as usize, "tick", "ticks")
            )),
        ),
        ("Decided at", esc(&ts(v.decided_at))),
    ];
    for r in &v.reasons {
        rows.push(("Why", esc(r)));
    }
    if let Some(r) = v.rollback_line() {
        rows.push(("Rollback", esc(&r)));
    }
    if v.dry_run {
        rows.push(("Mode", "dry run: evaluate and report, never act".into()));
    }
    if let Some(f) = fail_mode {
        rows.push(("On inconclusive", f.into()));
    }
    rows.push((
        "Rules",
        esc(&format!(
            "{} evaluated, {} fired, {}",
            v.rules.len(),
            v.rules.iter().filter(|r| r.has_fired()).count(),
            v.anomaly_count()
        )),
    ));
    let mut o = String::from("<table class=\"facts\">\n");
    for (k, val) in rows {
        o.push_str(&format!("<tr><th>{k}</th><td>{val}</td></tr>\n"));
    }
    o.push_str("</table>\n");
    o
}

fn rules_table(v: &RunSummary) -> String {
    if v.rules.is_empty() {
        return String::new();
    }
    let mut o = String::from("<h2>Explanation</h2>\n<table class=\"rules\">\n<tr><th>Rule</th><th>Series</th><th>Detector</th><th>Severity</th><th>Status</th><th>Observed</th><th>Expected</th><th>Score / p</th><th>Reason</th></tr>\n");
    for r in &v.rules {
        o.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td{}>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&r.rule),
            esc(&r.series),
            esc(&r.detector),
            r.severity,
            if r.has_fired() { " class=\"fired\"" } else { "" },
            esc(&r.status_text()),
            esc(&r.observed_text()),
            esc(&r.expected.to_string()),
            esc(&r.score_text()),
            esc(&r.reason)
        ));
    }
    o.push_str("</table>\n");
    o
}
