//! The shared client's calls: one signed JSON request (`call`), ListMetrics for the
//! dimension sets a `*` matches, GetMetricData page by page.

use super::super::fetch;
use super::api::{self, DataResult, MetricId};
use super::{sigv4, CloudWatchClient, CloudWatchQuery, ANY, DEFAULT_PERIOD};
use std::collections::BTreeMap;

impl CloudWatchClient {
    /// Calls `operation` with a JSON body, signed afresh for each attempt.
    pub(super) async fn call(&self, operation: &str, body: serde_json::Value) -> Result<String, String> {
        let body = body.to_string();
        let target = format!("{}.{operation}", api::TARGET_PREFIX);
        let url = format!("{}/", self.config.endpoint);
        let answer = self
            .fetcher
            .send(|c| {
                let headers = vec![
                    ("host".to_string(), self.host.clone()),
                    ("content-type".to_string(), api::CONTENT_TYPE.to_string()),
                    ("x-amz-target".to_string(), target.clone()),
                ];
                let req = sigv4::Request {
                    method: "POST",
                    path: "/",
                    query: &[],
                    headers: &headers,
                    body: body.as_bytes(),
                };
                let now = chrono::Utc::now().timestamp();
                let signed = sigv4::sign(
                    &req,
                    &self.credentials,
                    &self.config.region,
                    "monitoring",
                    now,
                );
                let mut r = c
                    .post(&url)
                    .header("content-type", api::CONTENT_TYPE)
                    .header("x-amz-target", &target)
                    .body(body.clone());
                for (k, v) in signed {
                    r = r.header(k, v);
                }
                r
            })
            .await;
        answer.map_err(|e| {
            // The AWS error code and message say more than the status alone.
            if let fetch::FetchError::Status { code, body, .. } = &e {
                if let Some(aws) = api::error_of(body) {
                    let detail = self.fetcher.snippet(&aws);
                    let body = String::new();
                    return fetch::FetchError::Status {
                        code: *code,
                        detail,
                        body,
                    }
                    .describe("CloudWatch");
                }
            }
            e.describe("CloudWatch")
        })
    }

    /// Every metric named `metric` in `namespace` whose dimensions match (`*`: any value).
    pub(super) async fn list(&self, q: &CloudWatchQuery) -> Result<Vec<MetricId>, String> {
        self.list_counted(q, &mut 0).await
    }

    /// [`CloudWatchClient::list`], counting its calls in `calls`.
    pub(super) async fn list_counted(
        &self,
        q: &CloudWatchQuery,
        calls: &mut usize,
    ) -> Result<Vec<MetricId>, String> {
        let filters: BTreeMap<String, Option<String>> = q
            .dimensions
            .iter()
            .map(|(k, v)| (k.clone(), (v != ANY).then(|| v.clone())))
            .collect();
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let body = api::list_metrics(&q.namespace, &q.metric, &filters, token.as_deref());
            *calls += 1;
            let answer = self.call("ListMetrics", body).await?;
            let (metrics, next) = api::parse_list(&answer).map_err(|e| self.fetcher.clean(&e))?;
            // Only metrics with exactly the written dimension names: a set with more
            // dimensions is another series (CloudWatch treats it as another metric).
            out.extend(metrics.into_iter().filter(|m| {
                m.dimensions.len() == q.dimensions.len()
                    && q.dimensions.keys().all(|k| m.dimensions.contains_key(k))
            }));
            match next {
                Some(t) if out.len() < 10_000 => token = Some(t),
                _ => break,
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// GetMetricData for `metrics` over `[start, end)`, every page (NextToken followed), in
    /// the metrics' order; `calls` counts the requests sent.
    pub(super) async fn data(
        &self,
        metrics: &[MetricId],
        q: &CloudWatchQuery,
        span: (i64, i64),
        calls: &mut usize,
    ) -> Result<Vec<DataResult>, String> {
        self.data_in(metrics, api::MAX_QUERIES, q, span, calls)
            .await
    }

    /// [`CloudWatchClient::data`] with at most `per_call` metrics in one call.
    pub(super) async fn data_in(
        &self,
        metrics: &[MetricId],
        per_call: usize,
        q: &CloudWatchQuery,
        span: (i64, i64),
        calls: &mut usize,
    ) -> Result<Vec<DataResult>, String> {
        let period = q.period.unwrap_or(DEFAULT_PERIOD).as_secs();
        let mut out = Vec::new();
        for chunk in metrics.chunks(per_call.clamp(1, api::MAX_QUERIES)) {
            let mut results: BTreeMap<String, DataResult> = BTreeMap::new();
            let mut token: Option<String> = None;
            for pages in 1.. {
                let body = api::get_metric_data(chunk, &q.stat, period, span, token.as_deref());
                *calls += 1;
                let answer = self.call("GetMetricData", body).await?;
                let (page, next) = api::parse_data(&answer).map_err(|e| self.fetcher.clean(&e))?;
                for r in page {
                    if matches!(r.status.as_str(), "InternalError" | "Forbidden") {
                        let said = r.messages.join("; ");
                        return Err(self.fetcher.clean(&format!(
                            "CloudWatch could not compute {}/{}: {} {said}",
                            q.namespace, q.metric, r.status
                        )));
                    }
                    let entry = results.entry(r.id.clone()).or_insert_with(|| DataResult {
                        points: Vec::new(),
                        ..r.clone()
                    });
                    entry.points.extend(r.points);
                }
                match next {
                    Some(_) if pages >= api::MAX_PAGES => {
                        return Err(format!(
                            "CloudWatch still had pages after {} (NextToken): ask a shorter \
                             stretch",
                            api::MAX_PAGES
                        ))
                    }
                    Some(t) => token = Some(t),
                    None => break,
                }
            }
            for i in 0..chunk.len() {
                let r = results.remove(&format!("m{i}")).unwrap_or(DataResult {
                    id: format!("m{i}"),
                    points: Vec::new(),
                    status: "Complete".into(),
                    messages: Vec::new(),
                });
                out.push(r);
            }
        }
        Ok(out)
    }
}
