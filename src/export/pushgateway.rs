//! `--pushgateway URL`: at the end of a run, PUT its result metrics to a Prometheus
//! Pushgateway under `job="vz_monitor", deployment="<d>"`, replacing the previous run's.
//! A failed push is a warning; it never changes the exit code.

use super::promtext::{Exposition, CONTENT_TYPE};
use super::{describe_http_error, http_client, redact_url};
use crate::observe::{At, Observer, RunContext};
use crate::run::RunSummary;
use futures::future::BoxFuture;
use std::collections::BTreeMap;

/// The verdicts a watch can end with; the pushed gauge is one-hot over them.
pub const VERDICTS: [&str; 4] = ["healthy", "rollback", "inconclusive", "interrupted"];

/// The Pushgateway observer.
#[derive(Debug)]
pub struct Pushgateway {
    url: String,
}

impl Pushgateway {
    /// Pushes to the Pushgateway at `url` (no trailing slash needed).
    pub fn new(url: &str) -> Pushgateway {
        Pushgateway {
            url: url.trim_end_matches('/').to_string(),
        }
    }

    /// The grouping-key URL of this run: one group per deployment (and per run kind other
    /// than `watch`, so a manual rollback does not replace the last watch's metrics).
    pub fn group_url(&self, ctx: &RunContext) -> String {
        let mut u = format!(
            "{}/metrics/job/vz_monitor/{}",
            self.url,
            path_label("deployment", &ctx.deployment)
        );
        if ctx.kind != "watch" {
            u.push('/');
            u.push_str(&path_label("kind", &ctx.kind));
        }
        u
    }
}

/// `name/value` for a grouping-key path, base64url-encoded (`name@base64/…`) unless plain.
fn path_label(name: &str, value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b));
    if plain {
        format!("{name}/{value}")
    } else {
        format!("{name}@base64/{}", base64url(value.as_bytes()))
    }
}

/// Base64 with the URL-safe alphabet and padding, as the Pushgateway decodes it.
fn base64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    if bytes.is_empty() {
        return "=".into();
    }
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The result metrics of one finished run, in the text format.
pub fn result_metrics(s: &RunSummary, now_seconds: f64) -> String {
    let mut e = Exposition::new();
    e.family(
        "vz_monitor_verdict",
        "gauge",
        "The gate's verdict of the last run, one-hot by verdict.",
    );
    let mut verdicts: Vec<&str> = VERDICTS.to_vec();
    if !verdicts.contains(&s.verdict.as_str()) {
        verdicts.push(s.verdict.as_str());
    }
    for v in verdicts {
        let hot = if v == s.verdict.as_str() { 1.0 } else { 0.0 };
        e.sample("vz_monitor_verdict", &[("verdict", v)], hot);
    }
    e.family(
        "vz_monitor_anomalies_total",
        "counter",
        "Anomalies fired in the last run, by kind and severity.",
    );
    let mut by: BTreeMap<(&str, &str), u32> = BTreeMap::new();
    for a in &s.anomalies {
        *by.entry((a.kind.as_str(), a.severity.as_str()))
            .or_default() += 1;
    }
    for ((kind, severity), n) in by {
        e.sample(
            "vz_monitor_anomalies_total",
            &[("kind", kind), ("severity", severity)],
            n as f64,
        );
    }
    e.family(
        "vz_monitor_anomalies",
        "gauge",
        "All anomalies fired in the last run.",
    )
    .sample("vz_monitor_anomalies", &[], s.anomalies.len() as f64);
    e.family(
        "vz_monitor_rollbacks_total",
        "counter",
        "Rollbacks of the last run by result: ok, failed, or skipped (needed, not run).",
    );
    let r = &s.rollback;
    for (result, hit) in [
        ("ok", r.ran && r.ok),
        ("failed", r.ran && !r.ok),
        ("skipped", r.needed && !r.ran),
    ] {
        let v = if hit { 1.0 } else { 0.0 };
        e.sample("vz_monitor_rollbacks_total", &[("result", result)], v);
    }
    let duration = (s.ended_at - s.started_at).max(0) as f64 / 1000.0;
    e.family(
        "vz_monitor_run_duration_seconds",
        "gauge",
        "Wall-clock length of the last run.",
    )
    .sample("vz_monitor_run_duration_seconds", &[], duration);
    e.family("vz_monitor_ticks", "gauge", "Ticks the last run evaluated.")
        .sample("vz_monitor_ticks", &[], s.ticks as f64);
    e.family(
        "vz_monitor_exit_code",
        "gauge",
        "Exit code of the last run.",
    )
    .sample("vz_monitor_exit_code", &[], s.exit_code as f64);
    e.family(
        "vz_monitor_dry_run",
        "gauge",
        "1 when the last run was a dry run (evaluate and report, never act).",
    )
    .sample("vz_monitor_dry_run", &[], if s.dry_run { 1.0 } else { 0.0 });
    e.family(
        "vz_monitor_last_run_timestamp_seconds",
        "gauge",
        "When the last run ended, in Unix seconds.",
    )
    .sample("vz_monitor_last_run_timestamp_seconds", &[], now_seconds);
    e.finish()
}

impl Observer for Pushgateway {
    fn on_finish<'a>(&'a mut self, at: At<'a>, s: &'a RunSummary) -> BoxFuture<'a, ()> {
        let ctx = at.ctx;
        Box::pin(async move {
            let url = self.group_url(ctx);
            let shown = redact_url(&url);
            let body = result_metrics(s, s.ended_at as f64 / 1000.0);
            let Some(client) = http_client() else { return };
            let res = client
                .put(&url)
                .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
                .body(body)
                .send()
                .await;
            match res {
                Ok(r) if r.status().is_success() => {
                    errln!("pushed run metrics to {shown}");
                }
                Ok(r) => {
                    let status = r.status();
                    // A bounded read, and the URL's credentials (which the server may echo,
                    // e.g. as its `Authorization: Basic …`) never printed.
                    let text = crate::redact::capped_text(r, 4096).await;
                    let text =
                        crate::redact::redact(&text, &crate::redact::url_with_credentials(&url));
                    let text: String = text.trim().chars().take(200).collect();
                    errln!("warning: Pushgateway {shown} answered {status}: {text}");
                }
                Err(e) => errln!(
                    "warning: pushing metrics to {shown} failed: {}",
                    describe_http_error(e)
                ),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc4648_vectors() {
        // RFC 4648 section 10 test vectors (URL-safe alphabet, padded).
        assert_eq!(base64url(b"f"), "Zg==");
        assert_eq!(base64url(b"fo"), "Zm8=");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foob"), "Zm9vYg==");
        assert_eq!(base64url(b"\xfb\xff"), "-_8=");
    }

    #[test]
    fn grouping_key_encodes_unsafe_values() {
        assert_eq!(path_label("deployment", "web-1"), "deployment/web-1");
        assert_eq!(path_label("deployment", "a/b"), "deployment@base64/YS9i");
        assert_eq!(path_label("deployment", ""), "deployment@base64/=");
    }
}
