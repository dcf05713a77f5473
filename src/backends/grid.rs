//! What every backend's `history` shares: the steps of a span, the stretches it is read in
//! (each within a server's limit), the newest point at each step, and `on_empty: zero`.

use super::{Points, Span};
use std::time::Duration;
use vz_core::spec::OnEmpty;

impl Span {
    /// The step of the span in whole seconds (1 s at least: backends take seconds).
    pub fn step_secs(&self) -> i64 {
        (self.step.as_secs() as i64).max(1)
    }

    /// The steps of the span, Unix ms: `end − window`, then every `step` up to `end`: the
    /// grid a history is put on.
    pub fn steps(&self) -> Vec<i64> {
        let step = self.step_secs() * 1000;
        let start = self.end_ms - self.window.as_millis() as i64;
        let n = self.window.as_millis() as i64 / step + 1;
        (0..n).map(|i| start + i * step).collect()
    }

    /// The span's steps cut into stretches of at most `max_steps` steps, in Unix seconds:
    /// `(first step, steps)`, oldest first, neither overlapping nor leaving a step out.
    pub fn stretches(&self, max_steps: usize) -> Vec<(i64, usize)> {
        let steps = self.steps();
        steps
            .chunks(max_steps.max(1))
            .map(|c| (c[0].div_euclid(1000), c.len()))
            .collect()
    }
}

/// `[from, until]` in Unix seconds as people read it, for an error naming the stretch a
/// server refused.
pub fn stretch(from: i64, until: i64) -> String {
    format!(
        "{} – {}",
        crate::report::ts(from * 1000),
        crate::report::ts(until * 1000)
    )
}

/// One series' points (Unix ms, in time order; `None`: the server has no value there) at
/// each of `steps`: the newest number within `reach` at or before the step — what a tick
/// at that step would read with that lookback. With `on_empty: zero`, a step with no number
/// but before the series' last number is 0 (a null inside the data); after it, nothing (no
/// data yet is never zero).
pub fn newest_at_steps(
    points: &[(i64, Option<f64>)],
    steps: &[i64],
    reach: Duration,
    on_empty: OnEmpty,
) -> Vec<(i64, f64)> {
    let reach = reach.as_millis() as i64;
    let numbers: Vec<(i64, f64)> = points
        .iter()
        .filter_map(|(t, v)| v.filter(|v| v.is_finite()).map(|v| (*t, v)))
        .collect();
    let last = numbers.last().map(|(t, _)| *t);
    let mut out = Vec::with_capacity(steps.len());
    let mut i = 0;
    for &g in steps {
        while i < numbers.len() && numbers[i].0 <= g {
            i += 1;
        }
        let newest = i.checked_sub(1).map(|j| numbers[j]);
        match newest {
            Some((t, v)) if g - t < reach => out.push((g, v)),
            _ if on_empty == OnEmpty::Zero && last.is_some_and(|l| g <= l) => out.push((g, 0.0)),
            _ => {}
        }
    }
    out
}

/// One series' timestamped points (Unix ms) on `n` steps of `step_ms` from `start`: each
/// point at the first step at or after it (what a tick at that step reads: the newest
/// point), NaN where a step has none. `backtest` puts every series of its history on one
/// grid so; `baseline --lookback` puts a series there so a gap ends a run of ticks.
pub fn on_grid(points: &[(i64, f64)], start: i64, step_ms: i64, n: usize) -> Vec<f64> {
    let mut values = vec![f64::NAN; n];
    for &(t, v) in points {
        let i = (t - start).div_euclid(step_ms) + i64::from((t - start).rem_euclid(step_ms) != 0);
        if (0..n as i64).contains(&i) {
            values[i as usize] = v;
        }
    }
    values
}

impl Points {
    /// With `on_empty: zero`, 0 at every step of `span` where a series has no point, and a
    /// series `metric` of zeros when nothing matched at all: a step with nothing is 0, as a
    /// tick reads it. Unchanged otherwise.
    pub fn zero_filled(mut self, span: &Span, metric: &str, on_empty: OnEmpty) -> Points {
        if on_empty != OnEmpty::Zero {
            return self;
        }
        if self.series.is_empty() {
            self.series.insert(metric.to_string(), Vec::new());
        }
        let steps = span.steps();
        for points in self.series.values_mut() {
            let have: std::collections::HashSet<i64> = points.iter().map(|(t, _)| *t).collect();
            points.extend(
                steps
                    .iter()
                    .filter(|g| !have.contains(g))
                    .map(|g| (*g, 0.0)),
            );
            points.sort_by_key(|(t, _)| *t);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(window: u64, step: u64) -> Span {
        Span {
            end_ms: 10_000_000,
            window: Duration::from_secs(window),
            step: Duration::from_secs(step),
        }
    }

    #[test]
    fn stretches_cover_every_step_once() {
        let s = span(3600, 60);
        assert_eq!(s.steps().len(), 61);
        let parts = s.stretches(25);
        assert_eq!(parts, vec![(6400, 25), (7900, 25), (9400, 11)]);
        assert_eq!(*s.steps().last().unwrap(), 10_000_000);
        assert_eq!(s.stretches(1000), vec![(6400, 61)]);
    }

    #[test]
    fn newest_point_within_reach_and_nulls_zero_only_inside_the_data() {
        let steps: Vec<i64> = (1..=6).map(|i| i * 60_000).collect();
        // A number at 50 s and 170 s, a null at 200 s; nothing after.
        let points = [(50_000, Some(1.0)), (170_000, Some(3.0)), (200_000, None)];
        let m = newest_at_steps(&points, &steps, Duration::from_secs(60), OnEmpty::Missing);
        assert_eq!(m, vec![(60_000, 1.0), (180_000, 3.0)]);
        // A longer reach carries the newest number further, as a tick's lookback does.
        let far = newest_at_steps(&points, &steps, Duration::from_secs(150), OnEmpty::Missing);
        assert_eq!(far.len(), 5, "{far:?}");
        assert_eq!(far[4], (300_000, 3.0));
        let z = newest_at_steps(&points, &steps, Duration::from_secs(60), OnEmpty::Zero);
        // 120 s lies inside the data (before 170 s): 0; 240 s and later after it: nothing.
        assert_eq!(z, vec![(60_000, 1.0), (120_000, 0.0), (180_000, 3.0)]);
    }

    #[test]
    fn zero_fill_gives_every_step_a_value() {
        let s = span(180, 60);
        let mut p = Points::default();
        p.series.insert("m".into(), vec![(9_940_000, 2.0)]);
        let filled = p.clone().zero_filled(&s, "m", OnEmpty::Zero);
        let got = &filled.series["m"];
        assert_eq!(got.len(), 4);
        assert_eq!(got[2], (9_940_000, 2.0));
        assert_eq!(p.clone().zero_filled(&s, "m", OnEmpty::Missing), p);
        let none = Points::default().zero_filled(&s, "x", OnEmpty::Zero);
        assert_eq!(none.series["x"].len(), 4);
    }
}
