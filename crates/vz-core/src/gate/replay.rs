//! The one tick loop. `watch` drives it from live samples on the clock, `analyze` from the
//! rows of a file, `test` from a rule test's series: each is a [`Feed`], and the loop that
//! turns ticks into a decision is this one, so a replay sees exactly what a watch saw.

use super::{Gate, SeriesNote, TickReport};
use crate::model::{Sample, Timestamp};
use crate::policy::Decision;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// One tick as a feed hands it to the gate.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub at: Timestamp,
    pub samples: Vec<Sample>,
}

/// Where ticks come from.
pub trait Feed {
    /// The next tick, or `None` when the window is over (or the feed was stopped).
    fn next_tick(&mut self) -> impl Future<Output = Option<Tick>>;

    /// Sees every judged tick, in order. May end the run with a decision taken outside the
    /// rules (a person's abort); the gate records it.
    fn judged(&mut self, _tick: &Tick, _report: &TickReport, _gate: &Gate) -> Option<Decision> {
        None
    }

    /// What the latest tick knew about its series beyond their readings (a Prometheus
    /// alert's value, rendered summary and labels), given to the gate before the tick.
    fn notes(&mut self) -> Vec<(String, SeriesNote)> {
        Vec::new()
    }
}

/// How a driven run ended, before the window's conclusion.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Driven {
    /// Ticks judged.
    pub ticks: u32,
    /// The decision taken during the window (policy or override), if any.
    pub decision: Option<Decision>,
    /// 0-based index of the tick at which it was taken.
    pub decided_tick: Option<u32>,
    /// Time of the first and last tick judged.
    pub first_at: Option<Timestamp>,
    pub last_at: Option<Timestamp>,
}

impl Driven {
    /// The run's decision: the one taken during the window, else the gate's conclusion at
    /// `end` (healthy or inconclusive).
    pub fn conclude(&self, gate: &mut Gate, end: Timestamp) -> Decision {
        match &self.decision {
            Some(d) => d.clone(),
            None => gate.finish(end),
        }
    }
}

/// Feeds every tick of `feed` through `gate` until the feed ends or a decision is taken.
pub async fn drive<F: Feed>(gate: &mut Gate, feed: &mut F) -> Driven {
    let mut out = Driven::default();
    while let Some(tick) = feed.next_tick().await {
        gate.set_notes(feed.notes());
        let report = gate.tick(tick.at, &tick.samples);
        out.first_at.get_or_insert(tick.at);
        out.last_at = Some(tick.at);
        out.ticks += 1;
        let forced = feed.judged(&tick, &report, gate);
        let decision = match (report.decision, forced) {
            (Some(d), _) => Some(d),
            (None, Some(d)) => {
                gate.force(d.clone());
                Some(d)
            }
            (None, None) => None,
        };
        if let Some(d) = decision {
            out.decided_tick = Some(out.ticks - 1);
            out.decision = Some(d);
            break;
        }
    }
    out
}

/// Ticks known in advance (a file's rows, a rule test's series).
pub struct Rows<I>(pub I);

impl<I: Iterator<Item = Tick>> Feed for Rows<I> {
    async fn next_tick(&mut self) -> Option<Tick> {
        self.0.next()
    }
}

/// Replays ticks known in advance: [`drive`] without a runtime (every tick is ready).
pub fn replay(gate: &mut Gate, ticks: impl IntoIterator<Item = Tick>) -> Driven {
    let mut feed = Rows(ticks.into_iter());
    let mut fut = pin!(drive(gate, &mut feed));
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(d) = fut.as_mut().poll(&mut cx) {
            return d;
        }
    }
}

/// A replay's end: how it was driven, the window's decision, and the gate (its anomalies
/// and evaluations, for reports).
pub struct Judged {
    pub driven: Driven,
    pub decision: Decision,
    pub gate: Gate,
}

/// Builds `plan`, replays `ticks` through it and concludes the window: what `analyze` does
/// with a file's rows and `backtest` with each past window, so the two agree by
/// construction. `start` is the window's conclusion time when no tick was judged.
pub fn judge(
    plan: super::GatePlan,
    ticks: impl IntoIterator<Item = Tick>,
    start: Timestamp,
) -> Judged {
    let mut gate = plan.build();
    let driven = replay(&mut gate, ticks);
    let last = driven.last_at.unwrap_or(start);
    let decision = driven.conclude(&mut gate, last);
    Judged {
        driven,
        decision,
        gate,
    }
}
