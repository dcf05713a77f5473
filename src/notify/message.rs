//! The one message every channel renders: what happened, to which deployment, how bad,
//! why. Serialized as is, it is the generic webhook's JSON body (documented in docs/notifications.md).

use crate::model::{fmt_num, Anomaly, Severity, Timestamp};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What a message announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// An anomaly started firing.
    Firing,
    /// An anomaly has been firing for an escalation stage's delay.
    Escalated,
    /// An anomaly cleared.
    Resolved,
    /// The run's final verdict.
    Verdict,
    /// `notify test`.
    Test,
    /// An open alert re-sent to a channel that forgets alerts not re-sent (Alertmanager).
    Refresh,
}

impl Event {
    /// The snake_case name used in payloads and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Firing => "firing",
            Event::Escalated => "escalated",
            Event::Resolved => "resolved",
            Event::Verdict => "verdict",
            Event::Test => "test",
            Event::Refresh => "refresh",
        }
    }
}

/// One notification, channel-neutral.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    /// Payload format version of the webhook body.
    pub version: u32,
    pub event: Event,
    pub deployment: String,
    pub run_id: Option<String>,
    /// RFC 3339 UTC.
    pub timestamp: String,
    pub severity: Severity,
    /// One line for titles and subjects.
    pub summary: String,
    /// Stable per (deployment, rule, series): PagerDuty dedup key, Alertmanager identity.
    pub dedup_key: Option<String>,
    /// `rollback`, `healthy`, `inconclusive`, `interrupted`; None while the watch runs.
    pub verdict: Option<String>,
    pub reasons: Vec<String>,
    pub anomalies: Vec<Anomaly>,
    pub link: Option<String>,
    /// 1-based escalation stage, for `escalated`.
    pub stage: Option<usize>,
    /// The run's exit code, for `verdict`.
    pub exit_code: Option<u8>,
    pub dry_run: bool,
}

/// The stable key of one alert: same deployment, rule and series → same key, across runs.
pub fn dedup_key(deployment: &str, rule: &str, series: &str) -> String {
    let h = Sha256::digest(format!("{deployment}\u{0}{rule}\u{0}{series}").as_bytes());
    format!("vz-monitor-{}", &hex::encode(h)[..24])
}

/// Formats a timestamp as RFC 3339 UTC.
pub fn rfc3339(t: Timestamp) -> String {
    crate::run::ts(t)
}

impl Message {
    /// A message about one anomaly (firing, escalated or resolved).
    pub fn anomaly(
        event: Event,
        deployment: &str,
        run_id: &str,
        now: Timestamp,
        a: &Anomaly,
    ) -> Message {
        let what = match event {
            Event::Resolved => "resolved",
            Event::Escalated => "still firing",
            _ => "firing",
        };
        Message {
            version: 1,
            event,
            deployment: deployment.into(),
            run_id: Some(run_id.into()),
            timestamp: rfc3339(now),
            severity: a.severity,
            summary: format!(
                "{} {} {what}: {} on {} ({})",
                a.severity.as_str().to_uppercase(),
                a.kind,
                a.rule,
                a.series,
                deployment
            ),
            dedup_key: Some(dedup_key(deployment, &a.rule, &a.series)),
            verdict: None,
            reasons: vec![a.reason.clone()],
            anomalies: vec![a.clone()],
            link: None,
            stage: None,
            exit_code: None,
            dry_run: a.dry_run,
        }
    }

    /// Whether this message tells of trouble (for colours and priorities).
    pub fn is_bad(&self) -> bool {
        match self.event {
            Event::Firing | Event::Escalated | Event::Refresh => true,
            Event::Verdict => self.verdict.as_deref() != Some("healthy"),
            Event::Resolved | Event::Test => false,
        }
    }

    /// Plain-text body: headline, deployment, verdict, reasons, anomalies, link.
    pub fn text(&self) -> String {
        let mut out = format!("{}\n\n", self.summary);
        out.push_str(&format!("Deployment: {}\n", self.deployment));
        out.push_str(&format!(
            "Verdict: {}\n",
            self.verdict.as_deref().unwrap_or("pending (watch running)")
        ));
        if let Some(r) = &self.run_id {
            out.push_str(&format!("Run: {r}\n"));
        }
        if let Some(s) = self.stage {
            out.push_str(&format!("Escalation stage: {s}\n"));
        }
        if self.dry_run {
            out.push_str("Dry run: evaluate and report, never act\n");
        }
        if !self.reasons.is_empty() {
            out.push_str("\nWhy:\n");
            for r in &self.reasons {
                out.push_str(&format!("- {r}\n"));
            }
        }
        if !self.anomalies.is_empty() {
            out.push_str("\nAnomalies:\n");
            for a in &self.anomalies {
                out.push_str(&format!("- {}\n", anomaly_line(a)));
            }
        }
        if let Some(l) = &self.link {
            out.push_str(&format!("\n{l}\n"));
        }
        out
    }
}

/// One line per anomaly: severity, kind, rule, series, observed vs expected.
pub fn anomaly_line(a: &Anomaly) -> String {
    format!(
        "[{}] {} `{}` on {}: observed {}, expected {}{}",
        a.severity,
        a.kind,
        a.rule,
        a.series,
        fmt_num(a.observed),
        a.expected,
        if a.resolved_at.is_some() {
            " (resolved)"
        } else {
            ""
        }
    )
}

/// Escapes text for HTML bodies.
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_key_is_stable_and_distinct() {
        let a = dedup_key("web", "high-errors", "error_rate");
        assert_eq!(a, dedup_key("web", "high-errors", "error_rate"));
        assert_ne!(a, dedup_key("web", "high-errors", "latency"));
        assert_ne!(a, dedup_key("api", "high-errors", "error_rate"));
        // No ambiguity from concatenation.
        assert_ne!(dedup_key("a", "bc", "d"), dedup_key("ab", "c", "d"));
        assert!(a.starts_with("vz-monitor-") && a.len() == 11 + 24);
    }
}
