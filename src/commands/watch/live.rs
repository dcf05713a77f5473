//! The live [`Feed`] of a watch: one tick every interval on the clock's grid, from the start
//! of the watch to the end of its window. The window is measured by the clock, not by
//! counting ticks: a sample that has not arrived by the next tick is missing for its tick,
//! and a tick the process could not even start in time (a stalled machine) is recorded as
//! missing too — never silently skipped, so `max_missing` sees every gap.

use super::progress::Progress;
use crate::gate::{Feed, Gate, Tick, TickReport};
use crate::lifecycle::Signals;
use crate::model::{Reading, Sample, Severity, Timestamp};
use crate::observe::{At, Observer, Override, RunContext};
use crate::policy::{Decision, Verdict};
use crate::sampler::Sampler;
use crate::store::live::{Counter, LiveState};
use crate::store::Store;
use std::time::{Duration, Instant as StdInstant};
use tokio::time::Instant;

/// Everything a live tick touches.
pub struct LiveFeed<'a> {
    pub sampler: &'a Sampler,
    pub signals: &'a mut Signals,
    pub store: &'a mut Store,
    pub observers: &'a mut [Box<dyn Observer>],
    pub ctx: &'a RunContext,
    pub progress: &'a Progress,
    pub clock: Clock,
    /// Set when a signal ended the window.
    pub interrupted: bool,
    /// A person's hold: no automatic rollback while set.
    pub hold: Option<String>,
    /// A store write failed during the window (reported, never changes the decision).
    pub store_failed: bool,
    /// Time vz-monitor itself spent per tick (gate + store + observers), in ms.
    pub overheads: Vec<f64>,
    /// Series of each metric seen at the latest tick (per-series queries have several).
    series: Vec<(String, Vec<String>)>,
    judged_at: Option<StdInstant>,
}

/// The watch's tick grid: tick `k` is due at `start + k·interval`, for k = 0..planned.
pub struct Clock {
    pub start: Instant,
    pub start_ms: Timestamp,
    pub interval: Duration,
    pub planned: u32,
    /// Index of the next tick.
    next: u32,
}

impl Clock {
    /// A grid starting now.
    pub fn start(start_ms: Timestamp, interval: Duration, planned: u32) -> Clock {
        Clock {
            start: Instant::now(),
            start_ms,
            interval,
            planned,
            next: 0,
        }
    }

    fn due(&self, k: u32) -> Instant {
        self.start + self.interval * k
    }

    fn due_ms(&self, k: u32) -> Timestamp {
        self.start_ms + (self.interval * k).as_millis() as Timestamp
    }
}

impl<'a> LiveFeed<'a> {
    /// A feed over `sampler` on `clock`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        sampler: &'a Sampler,
        signals: &'a mut Signals,
        store: &'a mut Store,
        observers: &'a mut [Box<dyn Observer>],
        ctx: &'a RunContext,
        progress: &'a Progress,
        clock: Clock,
    ) -> LiveFeed<'a> {
        let series = sampler
            .names()
            .map(|n| (n.to_string(), vec![n.to_string()]))
            .collect();
        LiveFeed {
            sampler,
            signals,
            store,
            observers,
            ctx,
            progress,
            clock,
            interrupted: false,
            hold: None,
            store_failed: false,
            overheads: Vec::new(),
            series,
            judged_at: None,
        }
    }

    /// Missing samples for every series known, with why.
    fn all_missing(&self, why: &str) -> Vec<Sample> {
        self.series
            .iter()
            .flat_map(|(metric, series)| {
                series.iter().map(move |s| Sample {
                    metric: metric.clone(),
                    series: s.clone(),
                    reading: Reading::Missing(why.to_string()),
                    control: false,
                })
            })
            .collect()
    }

    /// A whole-metric failure of a per-series query counts as missing for each of its series.
    fn spread_missing(&self, samples: Vec<Sample>) -> Vec<Sample> {
        samples
            .into_iter()
            .flat_map(|s| {
                let known = self
                    .series
                    .iter()
                    .find(|(m, _)| *m == s.metric)
                    .map(|(_, v)| v.as_slice())
                    .unwrap_or(&[]);
                let whole = s.series == s.metric && !known.contains(&s.series);
                match (&s.reading, whole && !known.is_empty()) {
                    (Reading::Missing(why), true) => known
                        .iter()
                        .map(|k| Sample {
                            metric: s.metric.clone(),
                            series: k.clone(),
                            reading: Reading::Missing(why.clone()),
                            control: s.control,
                        })
                        .collect(),
                    _ => vec![s],
                }
            })
            .collect()
    }

    fn remember_series(&mut self, samples: &[Sample]) {
        for (metric, series) in self.series.iter_mut() {
            let seen: Vec<String> = samples
                .iter()
                .filter(|s| !s.control && &s.metric == metric)
                .filter(|s| matches!(s.reading, Reading::Value(_)))
                .map(|s| s.series.clone())
                .collect();
            if !seen.is_empty() {
                *series = seen;
            }
        }
    }
}

impl LiveFeed<'_> {
    /// The state after this tick, for `serve`'s live page.
    fn live_state(&self, gate: &Gate, at: Timestamp) -> LiveState {
        let policy = gate.policy();
        let counts = gate.fired_counts();
        let counters = [
            (Severity::Critical, policy.critical),
            (Severity::High, policy.high),
            (Severity::Medium, policy.medium),
            (Severity::Low, policy.low),
        ]
        .into_iter()
        .map(|(s, limit)| Counter {
            severity: s.as_str().to_string(),
            fired: counts.get(s),
            limit,
        })
        .collect();
        let window = self.clock.interval * self.clock.planned.saturating_sub(1);
        LiveState {
            tick: self.clock.next,
            planned: self.clock.planned,
            interval_ms: self.clock.interval.as_millis() as u64,
            ends_at: self.clock.start_ms + window.as_millis() as Timestamp,
            at,
            rules: gate.evaluations(),
            completeness: gate.completeness(),
            max_missing: policy.max_missing,
            counters,
            hold: self.hold.clone(),
        }
    }
}

impl Feed for LiveFeed<'_> {
    fn notes(&mut self) -> Vec<(String, crate::gate::SeriesNote)> {
        self.sampler.notes()
    }

    async fn next_tick(&mut self) -> Option<Tick> {
        let k = self.clock.next;
        if self.interrupted || k >= self.clock.planned {
            return None;
        }
        self.clock.next += 1;
        let due = self.clock.due(k);
        let next_due = self.clock.due(k + 1);
        if Instant::now() >= next_due {
            // This tick's whole slot went by before it could start: missing, on the grid.
            let samples = self.all_missing("tick skipped: the previous tick overran its interval");
            return Some(Tick {
                at: self.clock.due_ms(k),
                samples,
            });
        }
        tokio::select! {
            _ = tokio::time::sleep_until(due) => {}
            _ = self.signals.recv() => { self.interrupted = true; return None; }
        }
        let at = crate::commands::now_ms();
        let samples = tokio::select! {
            s = self.sampler.take_by(Some(next_due)) => s,
            _ = self.signals.recv() => { self.interrupted = true; return None; }
        };
        self.judged_at = Some(StdInstant::now());
        Some(Tick {
            at,
            samples: self.spread_missing(samples),
        })
    }

    fn judged(&mut self, tick: &Tick, report: &TickReport, gate: &Gate) -> Option<Decision> {
        self.remember_series(&tick.samples);
        // The dashboard's view of the tick goes with it, in the same transaction.
        let live = self.live_state(gate, tick.at);
        if let Err(e) = self.store.record_tick_live(
            &self.ctx.run_id,
            tick.at,
            &tick.samples,
            &report.fired,
            &report.resolved,
            Some(&live),
        ) {
            self.store_failed = true;
            errln!("warning: could not store tick: {e}");
        }
        if let Some(t) = self.judged_at.take() {
            self.overheads.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        self.progress
            .tick(self.clock.next, &tick.samples, report, gate);
        let mut at = At::new(self.ctx, self.store, tick.at);
        for o in self.observers.iter_mut() {
            o.on_tick(&mut at, report, gate);
        }
        // A person's hold or abort, noticed within one tick.
        let mut abort = None;
        for o in self.observers.iter_mut() {
            match o.poll_override(&mut at) {
                Some(Override::Hold { by, reason }) if self.hold.is_none() => {
                    self.progress
                        .note(format!("on hold by {by}: {reason} (no automatic rollback)"));
                    self.hold = Some(format!("on hold by {by}: {reason}"));
                }
                Some(Override::Release { by }) if self.hold.is_some() => {
                    self.progress.note(format!(
                        "hold released by {by}: automatic rollback allowed again"
                    ));
                    self.hold = None;
                }
                Some(Override::Abort { by, reason }) if abort.is_none() => {
                    abort = Some(Decision {
                        verdict: Verdict::Rollback,
                        at: tick.at,
                        reasons: vec![format!("aborted by {by}: {reason}")],
                        fail_closed: false,
                    });
                    self.hold = None;
                }
                _ => {}
            }
        }
        abort
    }
}
