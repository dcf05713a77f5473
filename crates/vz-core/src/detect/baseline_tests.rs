//! The baseline detector against hand-computed and scipy values.

use super::*;
use crate::detect::stats::sequential::growing_threshold;
use crate::detect::{Baseline, Window};
use crate::model::Expected;

/// The detector on the values as given, ticks taken as independent (`dependence: none`):
/// these tests pin scipy's plain Mann-Whitney numbers on hand-made monotone series, whose
/// time order would otherwise read as near-total dependence (`baseline_dependence_tests.rs`
/// covers `auto`).
fn run(params: &BaselineParams, baseline: Option<&Baseline>, values: &[f64]) -> Outcome {
    let params = &BaselineParams {
        dependence: DependenceMode::None,
        ..*params
    };
    let times: Vec<i64> = (0..values.len() as i64).map(|i| i * 30_000).collect();
    evaluate(
        params,
        &Input {
            now: times.last().copied().unwrap_or(0),
            window: Window {
                times: &times,
                values,
            },
            latest_is_value: true,
            baseline,
            control: None,
            down_since: None,
        },
    )
}

fn params(yaml: &str) -> BaselineParams {
    serde_yaml::from_str(yaml).unwrap()
}

// Baseline 100..=119 (20 values); np.quantile(b, 0.95) = 118.05, mean 109.5.
fn latency() -> Baseline {
    let v: Vec<f64> = (100..120).map(f64::from).collect();
    Baseline::from_values(&v).unwrap()
}
// Window 150..=159; np.quantile(w, 0.95) = 158.55.
fn slow() -> Vec<f64> {
    (150..160).map(f64::from).collect()
}

#[test]
fn regression_is_detected() {
    let b = latency();
    let f = run(&BaselineParams::default(), Some(&b), &slow()).unwrap();
    assert!(f.active, "{}", f.reason);
    assert!((f.observed - 158.55).abs() < 1e-9);
    assert_eq!(f.expected, Expected::Value { value: 118.05 });
    // (158.55 − 118.05) / 118.05 · 100 = 34.307496…
    assert!((f.score.unwrap() - 34.30749682338).abs() < 1e-8);
    // scipy: mannwhitneyu(w, b, alternative='greater', method='asymptotic').pvalue
    //        = 6.004720542203106e-06 (no ties, n = 10 and 20)
    assert!((f.p_value.unwrap() - 6.004720542203106e-06).abs() < 1e-14);
    assert_eq!(f.statistic, "p95");
    assert_eq!(
        f.reason,
        "p95 158.55 is 34.307% above baseline 118.05 (max 20%; its 95% lower confidence \
         bound 157 is 32.994% above), and the shift is significant: Mann-Whitney U \
         p=6.0e-6 < 0.01; Hodges–Lehmann shift +45 (95% CI +40 to +50)"
    );
}

#[test]
fn small_change_is_within_max_change() {
    let b = latency();
    // Window 110..=125: p95 124.25, +5.25%, although the distributions differ
    // (scipy greater p = 0.00024308978397105478).
    let w: Vec<f64> = (110..126).map(f64::from).collect();
    let f = run(&BaselineParams::default(), Some(&b), &w).unwrap();
    assert!(!f.active);
    assert!(
        f.reason.starts_with(
            "p95 124.25 is 5.252% above baseline 118.05 (max 20%; its 95% lower \
             confidence bound 123 is 4.193% above), within the allowed change; \
             Mann-Whitney U p="
        ),
        "{}",
        f.reason
    );
}

#[test]
fn large_but_insignificant_change_is_not_active() {
    // Same distribution apart from one outlier that moves the p95 a lot.
    let b = latency();
    let mut w: Vec<f64> = (100..119).map(f64::from).collect();
    w.push(400.0);
    let f = run(&params("{ max_change: 10 }"), Some(&b), &w).unwrap();
    // np.quantile(w, .95) = 132.1, +11.9% vs 118.05 (> max 10%); scipy greater p = 0.5.
    assert!((f.observed - 132.1).abs() < 1e-9);
    assert!((f.p_value.unwrap() - 0.5).abs() < 1e-12);
    assert!(!f.active);
    // One outlier moves the point p95 past max_change but not its confidence bound.
    assert!(
        f.reason.contains(
            "its 95% lower confidence bound 116 is 1.737% below), but the confidence \
             bound is within the allowed change"
        ),
        "{}",
        f.reason
    );
}

#[test]
fn directions() {
    let b = latency();
    let fast: Vec<f64> = (50..60).map(f64::from).collect();
    let up = BaselineParams::default();
    let f = run(&up, Some(&b), &fast).unwrap();
    assert!(!f.active);
    assert!(f.score.unwrap() < -20.0);
    assert!(f.reason.contains("below baseline"), "{}", f.reason);
    assert!(
        f.reason.contains(", but only increases are watched; "),
        "{}",
        f.reason
    );
    // scipy: mannwhitneyu(fast, b, alternative='greater') = 0.9999950970663984
    assert!((f.p_value.unwrap() - 0.9999950970663984).abs() < 1e-12);

    // A p95 fall needs an upper confidence bound on the window's p95, which 10 values
    // cannot give (P(all 10 below the true p95) = 0.95¹⁰ = 0.60): not a proven change.
    let down = params("{ direction: decrease }");
    let f = run(&down, Some(&b), &fast).unwrap();
    assert!(!f.active, "{}", f.reason);
    assert!(
        f.reason
            .contains("(max 20%; no 95% upper confidence bound from 10 values)"),
        "{}",
        f.reason
    );
    // 60 such values give one (X₍₆₀₎ bounds it at P = 1 − 0.95⁶⁰ = 0.954).
    let many: Vec<f64> = (0..60).map(|i| 50.0 + f64::from(i % 10)).collect();
    assert!(run(&down, Some(&b), &many).unwrap().active);
    let down = params("{ direction: decrease, stat: p50 }");
    let f = run(&down, Some(&b), &fast).unwrap();
    assert!(f.active, "{}", f.reason);
    // scipy: mannwhitneyu(fast, b, alternative='less') = 6.004720542203106e-06
    assert!((f.p_value.unwrap() - 6.004720542203106e-06).abs() < 1e-14);
    assert!(!run(&down, Some(&b), &slow()).unwrap().active);

    let either = params("{ direction: either }");
    let f = run(&either, Some(&b), &slow()).unwrap();
    assert!(f.active);
    // scipy: mannwhitneyu(w, b, alternative='two-sided') = 1.2009441084406213e-05
    assert!((f.p_value.unwrap() - 1.2009441084406213e-05).abs() < 1e-14);
    assert!(run(&either, Some(&b), &many).unwrap().active);
}

#[test]
fn each_stat() {
    let b = latency();
    let w = slow();
    // np.mean / np.quantile(x, q) of w and b.
    for (stat, cur, base) in [
        (Stat::Mean, 154.5, 109.5),
        (Stat::P50, 154.5, 109.5),
        (Stat::P95, 158.55, 118.05),
        (Stat::P99, 158.91, 118.81),
    ] {
        let p = params(&format!("{{ stat: {} }}", stat.as_str()));
        let f = run(&p, Some(&b), &w).unwrap();
        assert_eq!(f.statistic, stat.as_str());
        assert!((f.observed - cur).abs() < 1e-9, "{stat:?}: {}", f.observed);
        let Expected::Value { value } = f.expected else {
            panic!("{:?}", f.expected)
        };
        assert!((value - base).abs() < 1e-9, "{stat:?}: {value}");
        assert!(f.active);
    }
}

#[test]
fn max_change_boundary_is_exclusive() {
    // Baseline all 10 but one 20 → p50 10; window all 12 → p50 12: exactly +20%.
    let mut bv = vec![10.0; 19];
    bv.push(20.0);
    let b = Baseline::from_values(&bv).unwrap();
    let p = params("{ stat: p50, max_change: 20 }");
    let f = run(&p, Some(&b), &[12.0; 10]).unwrap();
    assert_eq!(f.score, Some(20.0));
    assert!(f.p_value.unwrap() < 0.01);
    assert!(!f.active, "{}", f.reason);
    let p = params("{ stat: p50, max_change: \"19.9%\" }");
    assert!(run(&p, Some(&b), &[12.0; 10]).unwrap().active);
}

#[test]
fn min_delta_guards_small_absolute_changes() {
    let mut bv = vec![10.0; 19];
    bv.push(20.0);
    let b = Baseline::from_values(&bv).unwrap();
    // +50% but only +5 absolute.
    let p = params("{ stat: p50, min_delta: 6 }");
    let f = run(&p, Some(&b), &[15.0; 10]).unwrap();
    assert!(!f.active);
    assert!(
        f.reason.starts_with(
            "p50 15 is 50% above baseline 10 (max 20%, min_delta 6), but the change 5 is \
             below min_delta 6; Mann-Whitney U p="
        ),
        "{}",
        f.reason
    );
    // Boundary: |delta| ≥ min_delta counts.
    let p = params("{ stat: p50, min_delta: 5 }");
    assert!(run(&p, Some(&b), &[15.0; 10]).unwrap().active);
}

#[test]
fn zero_baseline_is_compared_absolutely() {
    let b = Baseline::from_values(&[0.0; 30]).unwrap();
    let p = params("{ stat: mean, min_delta: 0.5 }");
    let f = run(&p, Some(&b), &[1.0, 2.0, 3.0, 1.0, 2.0]).unwrap();
    assert!(f.active, "{}", f.reason);
    assert_eq!(f.score, Some(1.8)); // absolute delta, no division by zero
    assert!(f.score.unwrap().is_finite());
    assert_eq!(
        f.reason,
        format!(
            "mean 1.8 is 1.8 above baseline 0 (baseline is 0, relative change undefined; \
             compared absolutely, min_delta 0.5), and the shift is significant: \
             Mann-Whitney U p={} < 0.01; Hodges–Lehmann shift +2 (95% CI +1 to +2)",
            fmt_p(f.p_value.unwrap())
        )
    );
    // Change not above min_delta (strict for the absolute comparison).
    let f = run(&p, Some(&b), &[0.5; 5]).unwrap();
    assert!(!f.active);
    assert!(
        f.reason.contains(", no more than min_delta 0.5; "),
        "{}",
        f.reason
    );
    // All zero: no change at all, test not significant (every value tied: p = 1).
    let f = run(&p, Some(&b), &[0.0; 5]).unwrap();
    assert!(!f.active);
    assert_eq!(f.p_value, Some(1.0));
    assert!(
        f.reason.starts_with("mean 0 equals baseline 0"),
        "{}",
        f.reason
    );
    // Near-zero counts as zero.
    let tiny = Baseline::from_values(&[1e-12; 30]).unwrap();
    let f = run(&p, Some(&tiny), &[1.0; 5]).unwrap();
    assert!(f.active && f.reason.contains("relative change undefined"));
}

#[test]
fn negative_baseline_uses_magnitude() {
    // Baseline mean −10 → window mean −5: delta +5, relative +50% (an increase).
    let b = Baseline::from_values(&[-11.0, -10.0, -9.0, -10.0, -10.0, -11.0, -9.0, -10.0]).unwrap();
    let p = params("{ stat: mean }");
    let f = run(&p, Some(&b), &[-5.0, -4.0, -6.0, -5.0, -5.0]).unwrap();
    assert!((f.score.unwrap() - 50.0).abs() < 1e-9);
    assert!(f.active, "{}", f.reason);
}

#[test]
fn not_enough_data_and_no_baseline() {
    let b = latency();
    let p = BaselineParams::default();
    assert_eq!(
        run(&p, Some(&b), &[1.0, 2.0]),
        Err(NoAnswer::NotEnoughData(
            "3 window values needed, 2 so far".into()
        ))
    );
    // NaN and Inf are dropped before counting.
    assert!(matches!(
        run(&p, Some(&b), &[1.0, f64::NAN, 2.0, f64::INFINITY]),
        Err(NoAnswer::NotEnoughData(_))
    ));
    assert!(matches!(
        run(&params("{ min_samples: 0 }"), Some(&b), &[]),
        Err(NoAnswer::NotEnoughData(_))
    ));
    assert_eq!(run(&p, None, &slow()), Err(NoAnswer::NoBaseline));
    // NaN in the window is ignored, not propagated.
    let mut w = slow();
    w.insert(3, f64::NAN);
    let f = run(&p, Some(&b), &w).unwrap();
    assert!(f.active && (f.observed - 158.55).abs() < 1e-9);
}

#[test]
fn a_planned_watch_holds_each_look_to_the_corrected_threshold() {
    // Baseline 100..=159 (60 values); a window 10 % up in the mean.
    let b = Baseline::from_values(&(100..160).map(f64::from).collect::<Vec<_>>()).unwrap();
    let mut p = params("{ stat: mean, max_change: 5, p_value: 0.05 }");
    let w: Vec<f64> = (115..175).step_by(6).map(f64::from).collect(); // 10 values
                                                                      // scipy mannwhitneyu(w, b, greater, asymptotic) = 0.0306: significant at a per-tick 0.05…
    let fixed = run(&p, Some(&b), &w).unwrap();
    assert!(fixed.active, "{}", fixed.reason);
    let raw = fixed.p_value.unwrap();
    assert!((raw - 0.030637530276929517).abs() < 1e-9, "{raw}");
    // … but not at a whole-watch 0.05 spread over 30 planned looks.
    p.plan = LookPlan {
        looks: 30,
        alpha: 0.05,
        sliding: false,
    };
    let f = run(&p, Some(&b), &w).unwrap();
    assert!(!f.active, "{}", f.reason);
    let t = growing_threshold(0.05, 30, 3, 60, 10);
    assert!(t.nominal < raw && t.nominal > 0.05 / 30.0, "{t:?}");
    assert!(
        f.reason.ends_with(&format!(
            "Mann-Whitney U p={} ≥ {} (the corrected threshold at 10 values of 30 planned: \
             whole-watch alpha 0.05, {} spent by this look; Lan-DeMets power-spending \
             boundary z {})",
            fmt_p(raw),
            fmt_level(t.nominal),
            fmt_level(t.spent),
            fmt_num(t.z)
        )),
        "{}",
        f.reason
    );
    // A clear regression crosses it, and says by how much with its interval.
    let f = run(&p, Some(&b), &slow_by(60.0)).unwrap();
    assert!(f.active, "{}", f.reason);
    assert!(
        f.reason.contains("; Hodges–Lehmann shift +"),
        "{}",
        f.reason
    );
    // Past the planned looks nothing is left to spend.
    p.plan.looks = 8;
    let f = run(&p, Some(&b), &slow_by(60.0)).unwrap();
    assert!(!f.active);
    assert!(
        f.reason
            .contains("(past the 8 planned looks: the whole-watch alpha 0.05 is spent)"),
        "{}",
        f.reason
    );
    // A sliding window: Bonferroni over the planned looks.
    p.plan = LookPlan {
        looks: 40,
        alpha: 0.01,
        sliding: true,
    };
    let f = run(&p, Some(&b), &slow_by(60.0)).unwrap();
    assert!(f.active, "{}", f.reason);
    assert!(
        f.reason.contains(
            "< 2.5e-4 (whole-watch alpha 0.01 over 40 planned looks, Bonferroni: 2.5e-4 \
             per look)"
        ),
        "{}",
        f.reason
    );
}

/// Ten values 100 + by .. 110 + by.
fn slow_by(by: f64) -> Vec<f64> {
    (0..10).map(|i| 100.0 + by + f64::from(i)).collect()
}

#[test]
fn config_defaults_and_shape() {
    assert_eq!(params("{}"), BaselineParams::default());
    let p = params(
        "{ stat: p99, direction: either, max_change: \"12.5%\", p_value: 0.05, \
         min_delta: 3, min_samples: 10 }",
    );
    assert_eq!(
        p,
        BaselineParams {
            stat: Stat::P99,
            direction: Direction::Either,
            max_change: 12.5,
            p_value: 0.05,
            min_delta: 3.0,
            min_samples: 10,
            against: None,
            dependence: DependenceMode::Auto,
            compare: Against::Baseline,
            plan: LookPlan::default(),
        }
    );
    assert_eq!(
        params("{ dependence: none }").dependence,
        DependenceMode::None
    );
    assert!(serde_yaml::from_str::<BaselineParams>("{ dependence: maybe }").is_err());
    assert_eq!(
        params("{ against: control }").against,
        Some(Against::Control)
    );
    assert!(serde_yaml::from_str::<BaselineParams>("{ against: canary }").is_err());
    assert_eq!(params("{ max_change: 30 }").max_change, 30.0);
    assert!(serde_yaml::from_str::<BaselineParams>("{ max_change: lots }").is_err());
    assert!(serde_yaml::from_str::<BaselineParams>("{ stat: p90 }").is_err());
    assert!(serde_yaml::from_str::<BaselineParams>("{ pvalue: 0.1 }").is_err());
}
