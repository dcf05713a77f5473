//! The policy's triggers and conclusions, case by case.

use super::*;

fn input(fired: [u32; 5]) -> PolicyInput<'static> {
    PolicyInput {
        fired: SeverityCounts::of(fired),
        ..Default::default()
    }
}

#[test]
fn default_policy_rolls_back_on_one_critical_or_three_high() {
    let p = Policy::default();
    assert!(decide(&p, &input([0, 0, 0, 0, 0]), 0).is_none());
    assert!(decide(&p, &input([1, 0, 0, 0, 0]), 0).is_some());
    assert!(decide(&p, &input([0, 2, 0, 0, 0]), 0).is_none());
    let d = decide(&p, &input([0, 3, 0, 0, 0]), 7).unwrap();
    assert_eq!(d.verdict, Verdict::Rollback);
    assert_eq!(d.at, 7);
    assert!(d.reason().contains("3 high anomalies"), "{}", d.reason());
    // Medium, low and info never roll back by default.
    assert!(decide(&p, &input([0, 0, 50, 50, 50]), 0).is_none());
}

#[test]
fn below_policy_names_what_fired_and_the_limit() {
    let p = Policy::default();
    assert_eq!(
        below_policy(|s| p.limit(s), &SeverityCounts::of([0; 5])),
        None
    );
    assert_eq!(
        below_policy(|s| p.limit(s), &SeverityCounts::of([0, 2, 0, 0, 0])).unwrap(),
        "2 high fired; the policy rolls back at 3"
    );
    assert_eq!(
        below_policy(|s| p.limit(s), &SeverityCounts::of([0, 1, 1, 0, 0])).unwrap(),
        "1 high fired; the policy rolls back at 3; 1 medium fired; the policy never rolls back on medium"
    );
}

#[test]
fn zero_limit_disables_a_severity() {
    let p = Policy {
        critical: 0,
        ..Policy::default()
    };
    assert!(decide(&p, &input([5, 0, 0, 0, 0]), 0).is_none());
}

#[test]
fn error_rate_is_strictly_above() {
    let p = Policy {
        error_rate: Some(ErrorRatePolicy {
            metric: "er".into(),
            above: 10.0,
        }),
        ..Policy::default()
    };
    let at = |v| PolicyInput {
        error_rate: Some(v),
        ..Default::default()
    };
    assert!(decide(&p, &at(10.0), 0).is_none());
    assert!(decide(&p, &at(10.01), 0)
        .unwrap()
        .reason()
        .contains("error rate er"));
}

#[test]
fn downtime_at_the_limit_rolls_back() {
    let p = Policy::default();
    let down = |s| PolicyInput {
        longest_down: Some(("health", s)),
        ..Default::default()
    };
    assert!(decide(&p, &down(59.9), 0).is_none());
    assert!(decide(&p, &down(60.0), 0).is_some());
}

fn comp(ticks: u32, missing: u32, run: u32) -> Completeness {
    Completeness {
        metric: "m".into(),
        ticks,
        missing,
        max_consecutive_missing: run,
        consecutive_limit: 4,
    }
}

#[test]
fn missing_share_makes_the_run_inconclusive() {
    let p = Policy::default();
    // 2/10 = 20% is not more than 20%.
    assert_eq!(conclude(&p, &[comp(10, 2, 1)], 0).verdict, Verdict::Healthy);
    let d = conclude(&p, &[comp(10, 3, 1)], 0);
    assert_eq!(d.verdict, Verdict::Inconclusive);
    assert!(!d.fail_closed && !d.wants_rollback());
    assert!(d.reason().contains("fail-open"));
}

#[test]
fn consecutive_errors_and_fail_closed() {
    let p = Policy {
        on_inconclusive: OnInconclusive::Fail,
        max_downtime: Duration::from_secs(1),
        ..Policy::default()
    };
    let d = conclude(&p, &[comp(100, 4, 4)], 0);
    assert_eq!(d.verdict, Verdict::Inconclusive);
    assert!(d.fail_closed && d.wants_rollback());
    assert_eq!(
        conclude(&p, &[comp(100, 3, 3)], 0).verdict,
        Verdict::Healthy
    );
    assert_eq!(
        conclude(&p, &[comp(0, 0, 0)], 0).verdict,
        Verdict::Inconclusive
    );
}

#[test]
fn missing_data_ends_the_window_as_soon_as_the_outcome_is_certain() {
    let p = Policy::default(); // max_missing 20 %
                               // 3 of a planned 10 missing: 30 % whatever comes next.
    let d = inconclusive_early(&p, &[comp(4, 3, 1)], Some(10), 5).unwrap();
    assert_eq!((d.verdict, d.at), (Verdict::Inconclusive, 5));
    assert!(
        d.reason().contains("3/10 planned samples missing"),
        "{}",
        d.reason()
    );
    // 2 of 10 is still within 20 %: wait.
    assert!(inconclusive_early(&p, &[comp(4, 2, 1)], Some(10), 5).is_none());
    // The consecutive_errors limit is certain at once, window known or not.
    assert!(inconclusive_early(&p, &[comp(4, 4, 4)], None, 5).is_some());
    assert!(inconclusive_early(&p, &[comp(4, 3, 3)], None, 5).is_none());
    // Nothing sampled yet is not a verdict during the window.
    assert!(inconclusive_early(&p, &[comp(0, 0, 0)], Some(10), 5).is_none());
}
