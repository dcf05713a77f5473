//! JUnit XML: one `<testsuite>` per run, one `<testcase>` per rule and series, a
//! `<failure>` for each rule that fired, so GitLab and Jenkins show gate results natively.

use super::{ts, Render, RunReport, RunSummary};
use vz_core::gate::{Evaluation, RuleStatus};

/// The JUnit XML format.
pub struct JunitFormat;

impl Render for JunitFormat {
    fn render(&self, run: &RunReport) -> String {
        render(&run.view)
    }
}

/// Escapes text for XML attributes and content; drops characters XML 1.0 forbids.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Renders a stored (or live) summary as JUnit XML.
pub fn render(s: &RunSummary) -> String {
    let tests = s.rules.len();
    let failures = s.rules.iter().filter(|r| r.has_fired()).count();
    let skipped = s
        .rules
        .iter()
        .filter(|r| !r.has_fired() && r.status == RuleStatus::NoData)
        .count();
    let secs = (s.ended_at - s.started_at).max(0) as f64 / 1000.0;
    let suite = format!("vz-monitor {}", s.deployment);
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!(
        "<testsuites name=\"vz-monitor\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{secs:.3}\">\n"
    ));
    x.push_str(&format!(
        "  <testsuite name=\"{}\" id=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" timestamp=\"{}\" time=\"{secs:.3}\">\n",
        esc(&suite),
        esc(&s.run_id),
        esc(&ts(s.started_at)),
    ));
    x.push_str("    <properties>\n");
    let mut props = vec![
        ("verdict", s.verdict.to_string()),
        ("deployment", s.deployment.clone()),
        ("run_id", s.run_id.clone()),
        ("exit_code", s.exit_code.to_string()),
        ("reasons", s.reasons.join("; ")),
        ("dry_run", s.dry_run.to_string()),
    ];
    if let Some(r) = s.rollback_line() {
        props.push(("rollback", r));
    }
    for (k, v) in props {
        x.push_str(&format!(
            "      <property name=\"{k}\" value=\"{}\"/>\n",
            esc(&v)
        ));
    }
    x.push_str("    </properties>\n");
    for r in &s.rules {
        testcase(&mut x, &s.deployment, r);
    }
    x.push_str(&format!(
        "    <system-out>{}</system-out>\n",
        esc(&format!(
            "verdict {} (exit {}): {}",
            s.verdict,
            s.exit_code,
            s.reasons.join("; ")
        ))
    ));
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}
/// One rule's `<testcase>`: a failure when it fired, skipped without data, passed otherwise.
fn testcase(x: &mut String, deployment: &str, r: &Evaluation) {
    let name = if r.series.is_empty() || r.series == r.rule {
        r.rule.clone()
    } else {
        format!("{} [{}]", r.rule, r.series)
    };
    x.push_str(&format!(
        "    <testcase name=\"{}\" classname=\"{}\" time=\"0\">\n",
        esc(&name),
        esc(&format!("vz-monitor.{deployment}"))
    ));
    let detail = format!(
        "{} {} {}: observed {}, expected {}, score {}\n{}",
        r.severity,
        r.kind,
        r.detector,
        r.observed_text(),
        r.expected,
        r.score_text(),
        r.reason
    );
    if r.has_fired() {
        let message = if r.dry_run {
            format!("(dry-run) {}", r.reason)
        } else {
            r.reason.clone()
        };
        x.push_str(&format!(
            "      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
            esc(&message),
            esc(&r.kind),
            esc(&detail)
        ));
    } else if r.status == RuleStatus::NoData {
        x.push_str(&format!(
            "      <skipped message=\"{}\"/>\n",
            esc(&format!("no data: {}", r.reason))
        ));
    } else {
        x.push_str(&format!(
            "      <system-out>{}</system-out>\n",
            esc(&detail)
        ));
    }
    x.push_str("    </testcase>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_forbidden_characters() {
        assert_eq!(esc("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
    }
}
