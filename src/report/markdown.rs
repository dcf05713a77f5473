//! Markdown: a summary fit for a pull-request comment or `$GITHUB_STEP_SUMMARY`.

use super::{ts, Render, RunReport, RunSummary, RunVerdict};

/// The Markdown format.
pub struct MarkdownFormat;

impl Render for MarkdownFormat {
    fn render(&self, run: &RunReport) -> String {
        render(&run.view, run.fail_mode())
    }
}

/// Escapes a table cell: pipes, line breaks and `<` (which could open an HTML tag).
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace("\r\n", "<br>")
        .replace(['\n', '\r'], "<br>")
}

fn icon(verdict: RunVerdict) -> &'static str {
    match verdict {
        RunVerdict::Healthy => "✅",
        RunVerdict::Inconclusive => "⚠️",
        RunVerdict::Interrupted => "⏹️",
        _ => "❌",
    }
}

/// Renders a stored (or live) summary as Markdown; `fail_mode` when it has a policy.
pub fn render(s: &RunSummary, fail_mode: Option<&str>) -> String {
    let mut out = format!(
        "### {} vz-monitor: {} — `{}`\n\n",
        icon(s.verdict),
        s.verdict.as_str().to_uppercase(),
        cell(&s.deployment)
    );
    let short: String = s.run_id.chars().take(8).collect();
    let mut facts: Vec<(&str, String)> = vec![
        (
            "Verdict",
            format!("**{}** (exit {})", cell(s.verdict.as_str()), s.exit_code),
        ),
        ("Run", format!("`{}`", cell(&short))),
        (
            "Window",
            format!(
                "{} → {} ({} tick{})",
                ts(s.started_at),
                ts(s.ended_at),
                s.ticks,
                if s.ticks == 1 { "" } else { "s" }
            ),
        ),
    ];
    if !s.reasons.is_empty() {
        facts.push(("Why", cell(&s.reasons.join("; "))));
    }
    if let Some(r) = s.rollback_line() {
        facts.push(("Rollback", cell(&r)));
    }
    if s.dry_run {
        facts.push(("Mode", "dry run: evaluate and report, never act".into()));
    }
    if let Some(f) = fail_mode {
        facts.push(("On inconclusive", f.into()));
    }
    let fired = s.rules.iter().filter(|r| r.has_fired()).count();
    facts.push((
        "Rules",
        format!(
            "{} evaluated, {} fired, {}",
            s.rules.len(),
            fired,
            s.anomaly_count()
        ),
    ));
    out.push_str("| | |\n|---|---|\n");
    for (k, v) in facts {
        out.push_str(&format!("| {k} | {v} |\n"));
    }
    if !s.rules.is_empty() {
        out.push_str(
            "\n| Rule | Series | Severity | Status | Observed | Expected | Score / p | Reason |\n",
        );
        out.push_str("|---|---|---|---|---|---|---|---|\n");
        for r in &s.rules {
            let status = if r.has_fired() {
                format!("**{}**", r.status_text())
            } else {
                r.status_text()
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
                cell(&r.rule),
                cell(&r.series),
                r.severity,
                status,
                r.observed_text(),
                cell(&r.expected.to_string()),
                r.score_text(),
                cell(&r.reason)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_cells_so_a_reason_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc <x>"), "a\\|b<br>c &lt;x>");
    }

    #[test]
    fn renders_verdict_and_one_row_per_rule() {
        let v: RunSummary = serde_json::from_value(serde_json::json!({
            "run_id": "0123456789", "deployment": "web", "verdict": "rollback", "exit_code": 1,
            "reasons": ["1 critical anomaly"], "ticks": 3,
            "policy": { "on_inconclusive": "pass" },
            "rollback": { "needed": true, "ran": true, "ok": true, "attempts": 1, "note": "" },
            "rules": [
                { "rule": "err", "series": "error_rate", "severity": "critical", "status": "firing", "fired": true, "observed": 12.0, "expected": { "type": "bound", "op": ">", "value": 5.0 }, "reason": "12 > 5" },
                { "rule": "lat", "series": "latency", "severity": "medium", "status": "ok", "fired": false, "observed": null, "reason": "fine | ok" }
            ]
        }))
        .unwrap();
        let md = render(&v, Some(v.fail_mode()));
        assert!(
            md.starts_with("### ❌ vz-monitor: ROLLBACK — `web`"),
            "{md}"
        );
        assert!(
            md.contains("| Rollback | ran, succeeded after 1 attempt(s) |"),
            "{md}"
        );
        assert!(
            md.contains("| err | error_rate | critical | **FIRING** | 12 | > 5 |"),
            "{md}"
        );
        assert!(md.contains("fine \\| ok"), "{md}");
        assert!(
            md.contains("| On inconclusive | pass (fail-open) |"),
            "{md}"
        );
    }
}
