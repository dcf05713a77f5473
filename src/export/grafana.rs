//! `--grafana-url URL`: Grafana annotations (start, rollback, end) through the HTTP API,
//! `POST /api/annotations` with a bearer token from `VZ_GRAFANA_TOKEN`. They are
//! organisation annotations tagged `vz-monitor` and the deployment, so any dashboard can
//! show them with a tag query. Failures are warnings; the token is never printed.

use super::{describe_http_error, http_client, redact_url, EXPORT_TIMEOUT};
use crate::observe::{At, Observer, RunContext};
use crate::run::RunSummary;
use crate::store::RollbackRecord;
use futures::future::BoxFuture;
use serde_json::{json, Value};
use tokio::task::JoinHandle;

/// The Grafana observer.
pub struct Grafana {
    url: String,
    token: Option<String>,
    client: Option<reqwest::Client>,
    pending: Vec<JoinHandle<()>>,
}

impl Grafana {
    /// Annotates the Grafana at `url`, authenticating with `token` when given.
    pub fn new(url: &str, token: Option<String>) -> Grafana {
        let token = token.filter(|t| !t.is_empty());
        if token.is_none() {
            errln!("warning: VZ_GRAFANA_TOKEN is not set; Grafana annotations are sent without a token");
        }
        Grafana {
            url: url.trim_end_matches('/').to_string(),
            token,
            client: http_client(),
            pending: Vec::new(),
        }
    }

    /// Sends one annotation in the background; `on_finish` waits for it, bounded.
    fn send(&mut self, body: Value) {
        let Some(client) = self.client.clone() else {
            return;
        };
        let url = format!("{}/api/annotations", self.url);
        let token = self.token.clone();
        let fut = async move { post(client, url, token, body).await };
        match tokio::runtime::Handle::try_current() {
            Ok(h) => self.pending.push(h.spawn(fut)),
            Err(_) => errln!("warning: no async runtime for Grafana annotations"),
        }
    }
}

async fn post(client: reqwest::Client, url: String, token: Option<String>, body: Value) {
    let mut req = client.post(&url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let shown = redact_url(&url);
    match req.send().await {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => errln!(
            "warning: Grafana annotation to {shown} answered {}",
            r.status()
        ),
        Err(e) => errln!(
            "warning: Grafana annotation to {shown} failed: {}",
            describe_http_error(e)
        ),
    }
}

/// The JSON body of one annotation.
pub fn annotation(
    ctx: &RunContext,
    event: &str,
    time: i64,
    end: Option<i64>,
    text: String,
) -> Value {
    let mut v = json!({
        "time": time,
        "tags": ["vz-monitor", format!("deployment:{}", ctx.deployment), event],
        "text": text,
    });
    if let Some(end) = end {
        v["timeEnd"] = json!(end);
    }
    v
}

impl Observer for Grafana {
    fn on_start(&mut self, at: &mut At<'_>) {
        let ctx = at.ctx;
        let text = format!(
            "vz-monitor {} started for {} (run {})",
            ctx.kind, ctx.deployment, ctx.run_id
        );
        self.send(annotation(ctx, "start", ctx.started_at, None, text));
    }

    fn on_rollback(&mut self, at: &mut At<'_>, r: &RollbackRecord) {
        let ctx = at.ctx;
        let outcome = if r.ok { "succeeded" } else { "FAILED" };
        let text = format!(
            "vz-monitor rollback of {} {outcome} after {} attempt(s) ({} rollback; run {})",
            ctx.deployment, r.attempts, r.trigger, ctx.run_id
        );
        self.send(annotation(
            ctx,
            "rollback",
            r.started_at,
            Some(r.ended_at),
            text,
        ));
    }

    fn on_finish<'a>(&'a mut self, at: At<'a>, s: &'a RunSummary) -> BoxFuture<'a, ()> {
        let ctx = at.ctx;
        let text = format!(
            "vz-monitor {}: {} (exit {}) — {}",
            s.deployment,
            s.verdict.as_str().to_uppercase(),
            s.exit_code,
            s.reasons.join("; ")
        );
        let body = annotation(ctx, "end", s.started_at, Some(s.ended_at), text);
        self.send(body);
        let pending = std::mem::take(&mut self.pending);
        Box::pin(async move {
            for h in pending {
                if tokio::time::timeout(EXPORT_TIMEOUT, h).await.is_err() {
                    errln!("warning: a Grafana annotation timed out");
                }
            }
        })
    }
}
