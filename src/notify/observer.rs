//! Follows a run and notifies: firing anomalies (routed, deduplicated, cooled down),
//! escalation stages, resolves, and one verdict message at the end. Every send runs on its
//! own tokio task, bounded by its channel's timeout; `on_finish` waits for them at most as
//! long as the slowest could take, then gives up on stragglers and records them.

use super::message::{dedup_key, rfc3339, Event, Message};
use super::routing::{self, FireAction};
use super::state::{AlertState, Attempt};
use super::NotifyConfig;
use super::{redact, Channel};
use crate::gate::{Gate, RuleStatus, TickReport};
use crate::model::{Anomaly, Timestamp};
use crate::observe::{At, Observer, RunContext};
use crate::run::{RunSummary, SendOutcome};
use crate::store::Store;
use futures::future::BoxFuture;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::{Id, JoinSet};

/// Longest `on_finish` ever waits for queued sends.
pub const MAX_FINISH_WAIT: Duration = Duration::from_secs(120);

/// The notification observer of one run.
pub struct NotifyObserver {
    config: NotifyConfig,
    channels: BTreeMap<String, Arc<dyn Channel>>,
    /// Attempts and alert states not yet written: written through the run's store handle at
    /// the end of each event (the observer never holds a store of its own).
    unstored: Vec<Attempt>,
    unsaved: Vec<(String, String)>,
    /// The time of the event being handled, from the run.
    now: Timestamp,
    alerts: HashMap<(String, String), AlertState>,
    tasks: JoinSet<Attempt>,
    /// What each running task will be recorded as if it never finishes.
    pending: HashMap<Id, (Attempt, Duration)>,
    link: Option<String>,
    secrets: Vec<String>,
    done: Vec<Attempt>,
    /// When each (alert, channel) was last told it fires, for channels that need refreshes.
    refreshed: HashMap<((String, String), String), Timestamp>,
}

impl NotifyObserver {
    /// Builds the channels; the deployment's alert state is read from the run's store when
    /// the run starts.
    pub fn new(config: NotifyConfig, ctx: &RunContext) -> Option<NotifyObserver> {
        let mut channels = BTreeMap::new();
        let mut secrets = Vec::new();
        for c in &config.channels {
            match super::build(c) {
                Ok(ch) => {
                    secrets.extend(ch.secrets());
                    channels.insert(c.name.clone(), ch);
                }
                Err(e) => errln!("warning: notify channel {}: {e}", c.name),
            }
        }
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let link = super::link(&config, &env);
        Some(NotifyObserver {
            config,
            channels,
            unstored: Vec::new(),
            unsaved: Vec::new(),
            now: ctx.started_at,
            alerts: HashMap::new(),
            tasks: JoinSet::new(),
            pending: HashMap::new(),
            link,
            secrets,
            done: Vec::new(),
            refreshed: HashMap::new(),
        })
    }

    /// Takes the event's time and run's store; what the event queued is written at the end.
    fn record(&mut self, a: Attempt) {
        self.unstored.push(a.clone());
        self.done.push(a);
    }

    fn save(&mut self, key: &(String, String)) {
        if !self.unsaved.contains(key) {
            self.unsaved.push(key.clone());
        }
    }

    /// Writes the attempts and alert states the event queued through the run's store.
    fn flush(&mut self, store: &mut Store) {
        for a in std::mem::take(&mut self.unstored) {
            if let Err(e) = store.record_attempt(&a) {
                errln!("warning: cannot store a notification attempt: {e}");
            }
        }
        for key in std::mem::take(&mut self.unsaved) {
            if let Some(a) = self.alerts.get(&key) {
                if let Err(e) = store.save_alert(a) {
                    errln!("warning: cannot store notification state: {e}");
                }
            }
        }
    }

    /// Records a suppressed alert (no channel was asked).
    fn suppressed(
        &mut self,
        ctx: &RunContext,
        msg: &Message,
        outcome: SendOutcome,
        detail: String,
    ) {
        let a = Attempt {
            run_id: Some(ctx.run_id.clone()),
            deployment: ctx.deployment.clone(),
            ts: self.now,
            channel: "-".into(),
            channel_type: "-".into(),
            event: msg.event.as_str().into(),
            dedup_key: msg.dedup_key.clone(),
            outcome,
            attempts: 0,
            duration_ms: 0,
            detail,
        };
        self.record(a);
    }

    /// Queues `msg` to each named channel that handles its event; never waits.
    fn dispatch(&mut self, ctx: &RunContext, mut msg: Message, names: &[String]) {
        msg.link = self.link.clone();
        msg.dry_run |= ctx.dry_run;
        let msg = Arc::new(msg);
        for name in names {
            let Some(ch) = self.channels.get(name).cloned() else {
                continue;
            };
            if !ch.handles(msg.event) {
                continue;
            }
            let template = Attempt {
                run_id: msg.run_id.clone(),
                deployment: ctx.deployment.clone(),
                ts: self.now,
                channel: name.clone(),
                channel_type: ch.kind().into(),
                event: msg.event.as_str().into(),
                dedup_key: msg.dedup_key.clone(),
                outcome: SendOutcome::Abandoned,
                attempts: 0,
                duration_ms: 0,
                detail: "still sending when the run ended".into(),
            };
            let bound = ch.bound() + Duration::from_secs(1);
            let (m, t, secrets) = (Arc::clone(&msg), template.clone(), self.secrets.clone());
            let handle = self.tasks.spawn(async move {
                let start = Instant::now();
                let d = match tokio::time::timeout(bound, ch.send(&m)).await {
                    Ok(d) => d,
                    Err(_) => super::Delivery::failed(1, "timed out"),
                };
                Attempt {
                    outcome: if d.ok {
                        SendOutcome::Sent
                    } else {
                        SendOutcome::Failed
                    },
                    attempts: d.attempts,
                    duration_ms: start.elapsed().as_millis() as i64,
                    detail: redact(&d.detail, &secrets),
                    ..t
                }
            });
            self.pending.insert(handle.id(), (template, bound));
        }
    }

    /// Stores the attempts that finished since the last call.
    fn reap(&mut self) {
        while let Some(r) = self.tasks.try_join_next_with_id() {
            self.finished(r);
        }
    }

    fn finished(&mut self, r: Result<(Id, Attempt), tokio::task::JoinError>) {
        match r {
            Ok((id, a)) => {
                self.pending.remove(&id);
                self.record(a);
            }
            Err(e) => {
                if let Some((mut a, _)) = self.pending.remove(&e.id()) {
                    a.outcome = SendOutcome::Failed;
                    a.detail = "the send task failed".into();
                    self.record(a);
                }
            }
        }
    }

    fn fire(&mut self, ctx: &RunContext, now: Timestamp, a: &Anomaly) {
        let key = (a.rule.clone(), a.series.clone());
        let cooldown = self.config.cooldown.as_millis() as i64;
        let msg = Message::anomaly(Event::Firing, &ctx.deployment, &ctx.run_id, now, a);
        let prev = self.alerts.get(&key);
        let action = routing::on_fire(prev, now, cooldown);
        let mut s = prev.cloned().unwrap_or_else(|| AlertState {
            deployment: ctx.deployment.clone(),
            rule: a.rule.clone(),
            series: a.series.clone(),
            dedup_key: dedup_key(&ctx.deployment, &a.rule, &a.series),
            firing: false,
            notified: false,
            fired_at: a.fired_at,
            last_sent_at: None,
            stages: 0,
            channels: Vec::new(),
            run_id: ctx.run_id.clone(),
            anomaly: a.clone(),
        });
        s.anomaly = a.clone();
        s.run_id = ctx.run_id.clone();
        match action {
            FireAction::Send => {
                let names = routing::channels_for(&self.config, a.severity, &a.kind);
                s.firing = true;
                s.notified = !names.is_empty();
                s.fired_at = a.fired_at;
                s.stages = 0;
                s.channels = names.clone();
                if s.notified {
                    s.last_sent_at = Some(now);
                }
                for n in &names {
                    self.refreshed.insert((key.clone(), n.clone()), now);
                }
                self.dispatch(ctx, msg, &names);
            }
            FireAction::Duplicate => {
                let since = rfc3339(s.fired_at);
                self.suppressed(
                    ctx,
                    &msg,
                    SendOutcome::Duplicate,
                    format!("already open since {since}"),
                );
            }
            FireAction::Cooldown => {
                s.firing = true;
                s.notified = false;
                s.fired_at = a.fired_at;
                s.stages = 0;
                s.channels = Vec::new();
                let until = s.last_sent_at.unwrap_or(now) + cooldown;
                self.suppressed(
                    ctx,
                    &msg,
                    SendOutcome::Cooldown,
                    format!("cooldown until {}", rfc3339(until)),
                );
            }
        }
        self.alerts.insert(key.clone(), s);
        self.save(&key);
    }

    fn resolve(&mut self, ctx: &RunContext, now: Timestamp, key: (String, String), a: &Anomaly) {
        let Some(s) = self.alerts.get_mut(&key) else {
            return;
        };
        if !s.firing {
            return;
        }
        s.firing = false;
        let told = s.notified;
        let names = std::mem::take(&mut s.channels);
        s.stages = 0;
        let mut a = a.clone();
        a.resolved_at.get_or_insert(now);
        s.anomaly = a.clone();
        if told {
            let msg = Message::anomaly(Event::Resolved, &ctx.deployment, &ctx.run_id, now, &a);
            self.dispatch(ctx, msg, &names);
        }
        self.save(&key);
    }

    fn escalate(&mut self, ctx: &RunContext, now: Timestamp) {
        let mut due: Vec<((String, String), usize)> = Vec::new();
        for (k, s) in &self.alerts {
            for i in routing::due_stages(&self.config, s, now) {
                due.push((k.clone(), i));
            }
        }
        for (key, i) in due {
            let stage = self.config.escalation[i].clone();
            let Some(s) = self.alerts.get_mut(&key) else {
                continue;
            };
            s.stages |= 1 << i;
            for c in &stage.channels {
                if !s.channels.contains(c) {
                    s.channels.push(c.clone());
                }
                self.refreshed.insert((key.clone(), c.clone()), now);
            }
            let mut msg = Message::anomaly(
                Event::Escalated,
                &ctx.deployment,
                &ctx.run_id,
                now,
                &s.anomaly,
            );
            msg.stage = Some(i + 1);
            msg.reasons.push(format!(
                "still firing after {} (escalation stage {})",
                humantime::format_duration(stage.after),
                i + 1
            ));
            self.dispatch(ctx, msg, &stage.channels);
            self.save(&key);
        }
    }

    /// Re-sends open alerts to channels that forget them otherwise (Alertmanager).
    fn refresh(&mut self, ctx: &RunContext, now: Timestamp) {
        let mut due: Vec<(Anomaly, String)> = Vec::new();
        for (k, s) in self.alerts.iter().filter(|(_, s)| s.firing && s.notified) {
            for name in &s.channels {
                let Some(every) = self.channels.get(name).and_then(|c| c.refresh_every()) else {
                    continue;
                };
                let last = self.refreshed.get(&(k.clone(), name.clone())).copied();
                if last.is_none_or(|t| now - t >= every.as_millis() as i64) {
                    due.push((s.anomaly.clone(), name.clone()));
                }
            }
        }
        for (a, name) in due {
            let key = (a.rule.clone(), a.series.clone());
            self.refreshed.insert((key, name.clone()), now);
            let msg = Message::anomaly(Event::Refresh, &ctx.deployment, &ctx.run_id, now, &a);
            self.dispatch(ctx, msg, &[name]);
        }
    }
}

impl Observer for NotifyObserver {
    fn on_start(&mut self, at: &mut At<'_>) {
        match at.store.alerts(&at.ctx.deployment) {
            Ok(list) => {
                for a in list {
                    self.alerts.insert((a.rule.clone(), a.series.clone()), a);
                }
            }
            Err(e) => errln!("warning: cannot read notification state: {e}"),
        }
    }

    fn on_tick(&mut self, at: &mut At<'_>, report: &TickReport, _gate: &Gate) {
        let (ctx, now) = (at.ctx, at.now);
        self.now = now;
        for a in &report.fired {
            self.fire(ctx, now, a);
        }
        for a in &report.resolved {
            self.resolve(ctx, now, (a.rule.clone(), a.series.clone()), a);
        }
        self.escalate(ctx, now);
        self.refresh(ctx, now);
        self.reap();
        self.flush(at.store);
    }

    fn on_finish<'a>(&'a mut self, at: At<'a>, s: &'a RunSummary) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let (ctx, now) = (at.ctx, at.now);
            self.now = now;
            if !s.interrupted {
                // Open alerts this run saw clear (their rule evaluated fine at the end),
                // including ones left open by an earlier run of the deployment.
                let clear: Vec<(String, String)> = s
                    .rules
                    .iter()
                    .filter(|e| e.status == RuleStatus::Ok)
                    .map(|e| (e.rule.clone(), e.series.clone()))
                    .filter(|k| self.alerts.get(k).is_some_and(|a| a.firing))
                    .collect();
                for key in clear {
                    let a = self.alerts[&key].anomaly.clone();
                    self.resolve(ctx, now, key, &a);
                }
            }
            let msg = super::verdict::message(ctx, s);
            let names = self.config.verdict.clone();
            self.dispatch(ctx, msg, &names);
            let wait = self
                .pending
                .values()
                .map(|(_, b)| *b)
                .max()
                .unwrap_or_default()
                .min(MAX_FINISH_WAIT);
            let deadline = tokio::time::Instant::now() + wait + Duration::from_millis(200);
            while !self.tasks.is_empty() {
                match tokio::time::timeout_at(deadline, self.tasks.join_next_with_id()).await {
                    Ok(Some(r)) => self.finished(r),
                    Ok(None) | Err(_) => break,
                }
            }
            self.tasks.abort_all();
            let left: Vec<Attempt> = self.pending.drain().map(|(_, (a, _))| a).collect();
            for a in left {
                self.record(a);
            }
            self.flush(at.store);
            super::verdict::report(&self.done);
        })
    }
}
