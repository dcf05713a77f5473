//! The live feed: one task reads the watches in progress from the store every `--poll`
//! (only while a live page is open), turns them into [`LiveView`]s and publishes the frame
//! on a `watch` channel; every live page's server-sent event stream sends the newest frame.
//! However many pages are open, the store is read once per poll and each page holds one
//! frame at most: memory stays bounded.

use super::app::App;
use crate::gate::Evaluation;
use crate::policy::Completeness;
use crate::run::RunSummary;
use crate::store::live::{Counter, LiveRun};
use crate::store::RunStatus;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

/// Runs that ended this long ago still show, with their verdict.
const RECENT_MS: i64 = 15 * 60 * 1000;
/// Runs a frame holds at most.
const MAX_RUNS: usize = 100;

/// One rule of a live run: its state and latest value.
#[derive(Debug, Clone, Serialize)]
pub struct RuleView {
    pub rule: String,
    pub series: String,
    /// `ok`, `pending`, `FIRING`, `fired, resolved` … as the report spells it.
    pub state: String,
    /// The latest value, as the report prints it (`-` when none).
    pub value: String,
    pub fired: bool,
    pub severity: String,
}

/// Missing ticks of one metric against `max_missing`.
#[derive(Debug, Clone, Serialize)]
pub struct MissingView {
    pub metric: String,
    pub missing: u32,
    pub ticks: u32,
    /// `max_missing` in percent of ticks.
    pub max_missing: f64,
}

/// A watch as the live page shows it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LiveView {
    pub run_id: String,
    pub deployment: String,
    /// `running`, `abandoned`, `finished`, `interrupted`.
    pub status: String,
    /// The verdict once decided.
    pub verdict: Option<String>,
    pub exit_code: Option<i64>,
    pub actor: Option<String>,
    pub host: Option<String>,
    pub started_at: i64,
    /// Tick n of N.
    pub tick: u32,
    pub planned: u32,
    /// Time left in the window (ms), while it runs.
    pub time_left_ms: Option<i64>,
    pub rules: Vec<RuleView>,
    pub missing: Vec<MissingView>,
    pub counters: Vec<Counter>,
    pub hold: Option<String>,
    /// Why, once decided.
    pub reasons: Vec<String>,
}

/// What every live page receives: the watches at one moment, or why the store did not say.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Frame {
    /// When it was read (ms); 0 for the placeholder before the first read.
    pub at: i64,
    pub runs: Vec<LiveView>,
    /// The store's failure, when it could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The frame as JSON, made once for every page.
    #[serde(skip)]
    pub json: String,
}

fn rules_of(list: &[Evaluation]) -> Vec<RuleView> {
    list.iter()
        .map(|e| RuleView {
            rule: e.rule.clone(),
            series: e.series.clone(),
            state: e.status_text(),
            value: e.observed_text(),
            fired: e.has_fired(),
            severity: e.severity.as_str().to_string(),
        })
        .collect()
}

fn missing_of(list: &[Completeness], max_missing: f64) -> Vec<MissingView> {
    list.iter()
        .map(|c| MissingView {
            metric: c.metric.clone(),
            missing: c.missing,
            ticks: c.ticks,
            max_missing,
        })
        .collect()
}

/// The view of one run at `now`: from its latest tick while it runs, from its stored
/// summary (the one `report` reads) once it ended.
pub fn view(r: LiveRun, now: i64) -> LiveView {
    let h = &r.head;
    let mut v = LiveView {
        run_id: h.id.clone(),
        deployment: h.deployment.clone(),
        status: h.status.as_str().into(),
        verdict: h.verdict.map(|v| v.as_str().to_string()),
        exit_code: h.exit_code,
        actor: r.actor.clone(),
        host: r.host.clone(),
        started_at: h.started_at,
        ..Default::default()
    };
    if let Some(l) = &r.live {
        v.tick = l.tick;
        v.planned = l.planned;
        v.rules = rules_of(&l.rules);
        v.missing = missing_of(&l.completeness, l.max_missing);
        v.counters = l.counters.clone();
        v.hold = l.hold.clone();
        if h.ended_at.is_none() && h.status == RunStatus::Running {
            v.time_left_ms = Some((l.ends_at - now).max(0));
        }
    }
    let summary = r
        .summary
        .as_deref()
        .and_then(|s| serde_json::from_str::<RunSummary>(s).ok());
    if let Some(s) = summary.filter(|_| h.ended_at.is_some()) {
        v.verdict = Some(s.verdict.as_str().to_string());
        v.tick = s.ticks;
        v.planned = v.planned.max(s.ticks);
        v.rules = rules_of(&s.rules);
        v.missing = missing_of(&s.completeness, s.policy.max_missing);
        v.reasons = s.reasons.clone();
    } else if let Some(reason) = h.reason.clone().filter(|_| h.ended_at.is_some()) {
        v.reasons = vec![reason];
    }
    v
}

/// Reads one frame from the store.
pub async fn read(app: &Arc<App>) -> Frame {
    let now = crate::commands::now_ms();
    let read = app
        .read(move |store| store.live_runs(now - RECENT_MS, MAX_RUNS))
        .await;
    let mut frame = match read {
        Ok(runs) => Frame {
            at: now,
            runs: runs.into_iter().map(|r| view(r, now)).collect(),
            error: None,
            json: String::new(),
        },
        Err(e) => Frame {
            at: now,
            runs: Vec::new(),
            error: Some(app.mask(e.0)),
            json: String::new(),
        },
    };
    frame.json = app.mask(serde_json::to_string(&frame).unwrap_or_default());
    frame
}

/// Starts the task that reads a frame every `app.poll` while any live page listens.
pub fn spawn_feed(app: Arc<App>) {
    tokio::spawn(async move {
        loop {
            if app.live.receiver_count() > 0 {
                let frame = read(&app).await;
                app.live.send_replace(Arc::new(frame));
            }
            tokio::time::sleep(app.poll.max(Duration::from_millis(50))).await;
        }
    });
}

/// `GET /live/events`: a server-sent event stream of frames (`event: live`, or
/// `event: unavailable` while the store does not answer).
pub async fn events(State(app): State<Arc<App>>) -> Response {
    let Ok(permit) = Arc::clone(&app.live_clients).try_acquire_owned() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "too many live pages open; try again later\n",
        )
            .into_response();
    };
    let rx = app.live.subscribe();
    let stream = futures::stream::unfold((rx, permit), |(mut rx, permit)| async move {
        loop {
            rx.changed().await.ok()?;
            let frame = rx.borrow_and_update().clone();
            if frame.at == 0 {
                continue;
            }
            let event = match &frame.error {
                Some(e) => Event::default().event("unavailable").data(e.clone()),
                None => Event::default().event("live").data(frame.json.clone()),
            };
            return Some((Ok::<_, Infallible>(event), (rx, permit)));
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
