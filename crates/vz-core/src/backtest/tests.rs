use super::mde::{min_detectable_effect, power, quiet_windows};
use super::*;
use crate::model::{Direction, Severity};
use crate::policy::Policy;
use crate::spec::{MetricSpec, Rule};
use std::time::Duration;

fn rule(name: &str, metric: &str, detector: &str) -> Rule {
    Rule {
        name: name.into(),
        metric: metric.into(),
        detector: serde_yaml::with::singleton_map::deserialize(serde_yaml::Deserializer::from_str(
            detector,
        ))
        .unwrap(),
        for_: Duration::ZERO,
        window: None,
        kind: "HIGH_LATENCY".into(),
        severity: Severity::Critical,
        failure_limit: 0,
        consecutive_failures: 1,
        dry_run: false,
        description: None,
        annotations: Default::default(),
        origin: "test".into(),
    }
}

fn plan(rules: Vec<Rule>) -> GatePlan {
    GatePlan::new(rules, vec![MetricSpec::named("lat")], Policy::default())
}

/// `n` points 15 s apart of a noisy level 100 (a fixed pseudo-random sequence).
fn history(n: usize) -> History {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let values = (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            100.0 + 10.0 * ((x >> 11) as f64 / (1u64 << 53) as f64)
        })
        .collect();
    History {
        times: (0..n as i64).map(|i| 1_000_000 + i * 15_000).collect(),
        series: [("lat".to_string(), values)].into(),
    }
}

const MIN: i64 = 60_000;

fn every_hour(max: Option<usize>) -> WindowPlan {
    WindowPlan {
        baseline_ms: 60 * MIN,
        watch_ms: 15 * MIN,
        every_ms: 60 * MIN,
        max_windows: max,
    }
}

#[test]
fn windows_end_every_step_back_from_the_last_point_and_hold_whole_baselines() {
    // 5 h of 15 s points: windows end at the last point and each hour before it, as long as
    // 1 h of baseline + 15 min of watch fit.
    let h = history(5 * 240);
    let ws = windows(&h, &every_hour(None)).unwrap();
    assert_eq!(ws.len(), 4, "{ws:?}");
    let last = ws.last().unwrap();
    assert_eq!(last.end, *h.times.last().unwrap());
    for w in &ws {
        assert_eq!(w.watch.1 - w.watch.0, 60, "15 min at 15 s");
        assert_eq!(w.baseline.1 - w.baseline.0, 240, "1 h at 15 s");
        assert_eq!(
            w.baseline.1, w.watch.0,
            "the baseline ends where the watch starts"
        );
    }
    assert!(ws.windows(2).all(|p| p[1].end - p[0].end == 60 * MIN));
    assert_eq!(windows(&h, &every_hour(Some(2))).unwrap().len(), 2);
    // Exactly one window's worth of points is one window.
    assert_eq!(windows(&history(300), &every_hour(None)).unwrap().len(), 1);
}

#[test]
fn a_history_shorter_than_one_window_is_a_clear_error() {
    let e = windows(&history(100), &every_hour(None)).unwrap_err();
    assert!(
        e.contains("covers 25m") && e.contains("needs 1h 15m"),
        "{e}"
    );
    assert!(windows(&History::default(), &every_hour(None))
        .unwrap_err()
        .contains("no points"));
}

#[test]
fn a_shift_is_caught_and_a_quiet_window_is_not() {
    let p = plan(vec![rule(
        "lat",
        "lat",
        "{ baseline: { stat: mean, max_change: 5 } }",
    )]);
    let h = history(5 * 240);
    let ws = windows(&h, &every_hour(None)).unwrap();
    let results = replay_all(&p, &h, &ws, || {});
    assert!(
        results.iter().all(|r| r.judged() && !r.rollback),
        "{results:?}"
    );
    let t = tally(&results);
    assert_eq!((t.judged, t.rollbacks, t.rate), (4, 0, 0.0));
    // 50 % up: a mean of ~105 becomes ~157, far past 5 %.
    let shifted = replay_window(
        &p,
        &h,
        &ws[0],
        Some(Shift {
            metric: "lat",
            factor: 1.5,
        }),
    );
    assert!(shifted.rollback, "{shifted:?}");
    assert_eq!(shifted.rules, vec!["lat".to_string()]);
    assert!(shifted.decided_at.is_some());
    // A shift of another metric changes nothing.
    let other = replay_window(
        &p,
        &h,
        &ws[0],
        Some(Shift {
            metric: "err",
            factor: 1.5,
        }),
    );
    assert!(!other.rollback);
}

#[test]
fn a_gap_before_a_window_leaves_it_unjudged_with_the_reason() {
    let p = plan(vec![rule("lat", "lat", "{ baseline: {} }")]);
    let mut h = history(5 * 240);
    // No value in the hour before the last window.
    let ws = windows(&h, &every_hour(None)).unwrap();
    let last = *ws.last().unwrap();
    for v in &mut h.series.get_mut("lat").unwrap()[last.baseline.0..last.baseline.1] {
        *v = f64::NAN;
    }
    let r = replay_window(&p, &h, &last, None);
    assert!(!r.judged() && !r.rollback);
    assert!(
        r.reason.contains("no baseline") && r.reason.contains("`lat`"),
        "{}",
        r.reason
    );
    let t = tally(&[r, replay_window(&p, &h, &ws[0], None)]);
    assert_eq!((t.windows, t.judged), (2, 1));
}

#[test]
fn tally_counts_rollbacks_per_rule() {
    let p = plan(vec![
        rule("mean", "lat", "{ baseline: { stat: mean, max_change: 5 } }"),
        rule("cap", "lat", "{ threshold: { op: \">\", value: 130 } }"),
    ]);
    let mut h = history(5 * 240);
    let ws = windows(&h, &every_hour(None)).unwrap();
    // An incident in the second window: +60 %.
    let (a, b) = ws[1].watch;
    for v in &mut h.series.get_mut("lat").unwrap()[a..b] {
        *v *= 1.6;
    }
    let results = replay_all(&p, &h, &ws, || {});
    let t = tally(&results);
    assert_eq!(t.rollbacks, 1, "{results:?}");
    assert!(results[1].rollback);
    assert_eq!(t.rate, 0.25);
    assert!(
        t.by_rule.iter().any(|c| c.rule == "cap" && c.windows == 1),
        "{t:?}"
    );
    let w = warnings(&p, &t, &[]);
    assert!(
        w[0].contains("1 of 4 windows (25 %)") && w[0].contains("above policy.alpha 1 %"),
        "{w:?}"
    );
}

#[test]
fn the_minimum_detectable_effect_is_the_smallest_shift_with_80_percent_power() {
    let p = plan(vec![rule(
        "lat",
        "lat",
        "{ baseline: { stat: mean, max_change: 1 } }",
    )]);
    let h = history(12 * 240);
    let ws = windows(&h, &every_hour(None)).unwrap();
    let results = replay_all(&p, &h, &ws, || {});
    let quiet = quiet_windows(&results, 50);
    assert_eq!(quiet.len(), 11);
    let m = min_detectable_effect(&p, &h, &quiet, "lat");
    let e = m.effect.expect("a figure");
    assert_eq!(m.direction, Direction::Increase);
    // Its power reaches 80 %; the shift tried below it does not.
    assert!(power(&p, &h, &quiet, "lat", m.direction, e) >= 0.8);
    if let Some((s, pw)) = m.below {
        assert!(s < e && pw < 0.8);
        assert_eq!(power(&p, &h, &quiet, "lat", m.direction, s), pw);
    }
    // The ~10 % spread of the data (uniform 100–110) and a 1 % max_change: the test of
    // 60 ticks against 240 needs a few percent, never 50 %.
    assert!((1.0..=20.0).contains(&e), "{m:?}");
    // max_change 1 % below a figure above 1 %: warned.
    let t = tally(&results);
    let w = warnings(&p, &t, std::slice::from_ref(&m));
    if e > 1.0 {
        assert!(
            w.iter().any(|s| s.contains("rule `lat`: max_change 1 %")),
            "{w:?}"
        );
    }
}

#[test]
fn no_figure_without_a_rule_or_for_an_all_zero_metric() {
    let p = plan(vec![rule("lat", "lat", "{ baseline: {} }")]);
    let mut h = history(5 * 240);
    let ws = windows(&h, &every_hour(None)).unwrap();
    assert_eq!(
        min_detectable_effect(&p, &h, &ws, "err").note,
        "no rule watches it"
    );
    h.series.insert("lat".into(), vec![0.0; 5 * 240]);
    let m = min_detectable_effect(&p, &h, &ws, "lat");
    assert!(m.effect.is_none() && m.note.contains("all 0"), "{m:?}");
}

#[test]
fn a_decrease_rule_is_probed_downwards() {
    let p = plan(vec![rule(
        "lat",
        "lat",
        "{ baseline: { stat: mean, direction: decrease, max_change: 5 } }",
    )]);
    assert_eq!(mde::direction(&p, "lat"), Some(Direction::Decrease));
    assert_eq!(mde::factor(Direction::Decrease, 20.0), 0.8);
}

#[test]
fn windows_within_one_baseline_overlap_by_half_and_judge_against_all_of_it() {
    let h = history(240);
    let ws = windows_within(&h, 15 * MIN, 20);
    // 1 h of points: watches of 15 min ending every 7.5 min back from the last point.
    assert_eq!(ws.len(), 7, "{ws:?}");
    for w in &ws {
        assert_eq!(w.baseline, (0, 240));
        assert_eq!(w.watch.1 - w.watch.0, 60);
    }
    assert_eq!(windows_within(&h, 15 * MIN, 3).len(), 3);
    assert!(windows_within(&history(10), 15 * MIN, 20).is_empty());
}

#[test]
fn a_gap_in_a_file_becomes_missing_points_on_its_step() {
    let h = History {
        times: vec![0, 15_000, 30_000, 90_000, 105_000, 121_000],
        series: [("lat".to_string(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])].into(),
    }
    .fill_gaps();
    // The step is the median (15 s); a point a second late is on its step, not a gap.
    assert_eq!(
        h.times,
        vec![0, 15_000, 30_000, 45_000, 60_000, 75_000, 90_000, 105_000, 121_000]
    );
    let v = &h.series["lat"];
    assert!(v[3].is_nan() && v[4].is_nan() && v[5].is_nan());
    assert_eq!((v[6], v[7], v[8]), (4.0, 5.0, 6.0));
}

/// A history of `lat` and its control `lat (control)`: both follow the same noise, and both
/// surge 50 % over the last window (traffic that hits old and new alike); the canary alone
/// moves 50 % in the window before it.
fn with_control() -> History {
    let mut h = history(6 * 240);
    let lat = h.series["lat"].clone();
    let n = lat.len();
    let mut canary = lat.clone();
    let mut control: Vec<f64> = lat.iter().map(|v| v - 1.0).collect();
    for i in n - 60..n {
        canary[i] *= 1.5;
        control[i] *= 1.5;
    }
    // The window ending an hour before the last: the canary alone regresses.
    for v in &mut canary[n - 240 - 60..n - 240] {
        *v *= 1.5;
    }
    h.series.insert("lat".into(), canary);
    h.series.insert(format!("lat{CONTROL_SUFFIX}"), control);
    h
}

#[test]
fn a_rule_against_the_control_reads_the_control_column_and_ignores_a_surge_both_share() {
    let mut spec = MetricSpec::named("lat");
    spec.control = true;
    let detector = "{ baseline: { stat: mean, max_change: 5, against: control } }";
    let p = GatePlan::new(
        vec![rule("lat", "lat", detector)],
        vec![spec],
        Policy::default(),
    );
    assert_eq!(p.missing_control(), None);
    let h = with_control();
    assert!(h.has_metric("lat") && h.has_control("lat"));
    assert!(!h.has_metric("lat (control)") && !h.has_control("other"));
    let ws = windows(&h, &every_hour(None)).unwrap();
    let results = replay_all(&p, &h, &ws, || {});
    let rolled: Vec<bool> = results.iter().map(|r| r.rollback).collect();
    // Only the canary's own regression rolls back; the shared surge (last window) does not.
    assert_eq!(rolled, [false, false, false, true, false], "{results:?}");
    assert!(results.iter().all(WindowResult::judged));
    // The same surge judged against the baseline (no control) is a rollback: the control is
    // what tells a surge from a regression.
    let against_baseline = plan(vec![rule(
        "lat",
        "lat",
        "{ baseline: { stat: mean, max_change: 5 } }",
    )]);
    let last = replay_window(&against_baseline, &h, ws.last().unwrap(), None);
    assert!(last.rollback, "{last:?}");
    // An injected shift moves the canary, never its control.
    let shifted = replay_window(
        &p,
        &h,
        &ws[0],
        Some(Shift {
            metric: "lat",
            factor: 1.5,
        }),
    );
    assert!(shifted.rollback, "{shifted:?}");
    // A control that is missing over the watch is missing data, never a pass.
    let mut dead = h.clone();
    let (s0, s1) = ws[0].watch;
    for v in &mut dead.series.get_mut("lat (control)").unwrap()[s0..s1] {
        *v = f64::NAN;
    }
    let r = replay_window(&p, &dead, &ws[0], None);
    assert_ne!(r.verdict, Some(crate::policy::Verdict::Healthy), "{r:?}");
}
