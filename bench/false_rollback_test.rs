//! Short form of bench/false_rollback.rs, run by `cargo test --test false_rollback`: the
//! whole-watch bound holds and the power stays, with bounds wide enough never to flake.

#[path = "false_rollback_sim.rs"]
mod sim;

use sim::{run_cell, Cell, Noise};

const ALPHA: f64 = 0.01;

fn cell(metrics: usize, noise: Noise, shift: f64, deploys: usize, seed: u64) -> Cell {
    Cell {
        metrics,
        ticks: 30,
        noise,
        shift,
        surge: 1.0,
        control: false,
        onset: (1, 1),
        independent: false,
        // An hour of baseline at 15 s: `baseline`'s default, long enough for the gate to
        // estimate how much consecutive ticks depend on each other (issue 19).
        base_ticks: sim::HOUR_TICKS,
        lookback: 0,
        deploys,
        seed,
    }
}

/// At most 5 × alpha + 4 binomial sd of `deploys` unchanged deploys.
fn limit(deploys: usize) -> usize {
    let n = deploys as f64;
    (5.0 * ALPHA * n + 4.0 * (n * ALPHA * (1.0 - ALPHA)).sqrt()).floor() as usize
}

#[test]
fn unchanged_deploys_are_rarely_rolled_back() {
    // Issue 12 measured 36 % of these rolled back with a per-tick p < 0.01.
    for (noise, seed) in [
        (Noise::LogNormal(0.3), 11),
        (Noise::Poisson3, 12),
        (Noise::SpikyP95, 13),
    ] {
        let r = run_cell(&cell(10, noise, 1.0, 200, seed), |_, _, _| {});
        assert!(
            r.rollbacks <= limit(200),
            "{}: {} of 200 unchanged deploys rolled back (limit {})",
            noise.name(),
            r.rollbacks,
            limit(200)
        );
    }
}

#[test]
fn a_doubled_metric_is_still_caught_quickly() {
    let r = run_cell(&cell(10, Noise::LogNormal(0.3), 2.0, 60, 21), |_, _, _| {});
    assert!(
        r.rollbacks >= 57,
        "only {} of 60 doubled deploys caught",
        r.rollbacks
    );
    assert!(
        sim::median(&r.delays) <= 8.0,
        "median tick {}",
        sim::median(&r.delays)
    );
}

#[test]
fn a_surge_on_canary_and_control_alike_is_not_rolled_back_but_a_regression_on_top_is() {
    let surged = |shift: f64, surge: f64, control: bool, deploys: usize, seed: u64| Cell {
        surge,
        control,
        ..cell(10, Noise::LogNormal(0.3), shift, deploys, seed)
    };
    // Against the pre-deploy baseline a 1.5x surge on every metric is a regression: nearly
    // every deploy is rolled back. That is what a control is for.
    let r = run_cell(&surged(1.0, 1.5, false, 40, 31), |_, _, _| {});
    assert!(
        r.rollbacks >= 36,
        "{} of 40 surged deploys rolled back",
        r.rollbacks
    );
    for (surge, seed) in [(1.5, 32), (2.0, 33)] {
        let r = run_cell(&surged(1.0, surge, true, 200, seed), |_, _, _| {});
        assert!(
            r.rollbacks <= limit(200),
            "{surge}x surge with a control: {} of 200 unchanged deploys rolled back (limit {})",
            r.rollbacks,
            limit(200)
        );
    }
    // A 1.5x regression of one metric in ten on top of a 2x surge: a control grows with the
    // window, so it carries less information than a fixed baseline (README "Honest
    // statistics"; the full form measures it).
    // With the dependence discounted (issue 19) this seed catches 47 of 60; 40 leaves
    // 2 binomial sd of room at 78 %.
    let r = run_cell(&surged(1.5, 2.0, true, 60, 34), |_, _, _| {});
    assert!(
        r.rollbacks >= 40,
        "only {} of 60 regressions on a surge caught",
        r.rollbacks
    );
    assert!(
        sim::median(&r.delays) <= 21.0,
        "median tick {}",
        sim::median(&r.delays)
    );
}

#[test]
fn daily_seasonality_judged_against_a_control_is_not_a_regression() {
    // Against the pre-deploy baseline the day's drift over a long watch is a real change
    // (the full form measures it); the control is at the same point of its day.
    let daily = Cell {
        ticks: 120,
        control: true,
        onset: (1, 1),
        independent: false,
        base_ticks: sim::BASE_TICKS,
        lookback: 0,
        ..cell(5, Noise::Daily, 1.0, 100, 41)
    };
    let r = run_cell(&daily, |_, _, _| {});
    assert!(
        r.rollbacks <= limit(100),
        "{} of 100 seasonal deploys against a control rolled back (limit {})",
        r.rollbacks,
        limit(100)
    );
}

#[test]
fn dependent_ticks_are_rarely_rolled_back() {
    // Issue 19 measured 82 % (AR(1) φ 0.8) and 71 % (a rate over 20 ticks) of these rolled
    // back while ticks were taken as independent.
    for (noise, seed) in [(Noise::Ar1(0.8), 41), (Noise::RateMa(20), 42)] {
        let r = run_cell(&cell(10, noise, 1.0, 200, seed), |_, _, _| {});
        assert!(
            r.rollbacks <= limit(200),
            "{}: {} of 200 unchanged deploys rolled back (limit {})",
            noise.name(),
            r.rollbacks,
            limit(200)
        );
        // The same deploys judged as independent ticks: the failure issue 19 reported.
        let before = run_cell(
            &Cell {
                independent: true,
                ..cell(10, noise, 1.0, 200, seed)
            },
            |_, _, _| {},
        );
        assert!(
            before.rollbacks >= 60,
            "{}: only {} of 200 rolled back as independent ticks",
            noise.name(),
            before.rollbacks
        );
    }
}

#[test]
fn a_six_hour_lookback_keeps_the_bound_and_gives_a_short_baseline_its_power() {
    // What `baseline` reads by default: an hour of baseline and 6 h of lookback for the
    // dependence. Wandering ticks stay within the bound…
    for (noise, seed) in [(Noise::Ar1(0.95), 51), (Noise::RateMa(4), 52)] {
        let r = run_cell(
            &Cell {
                lookback: sim::LOOKBACK_TICKS - sim::HOUR_TICKS,
                ..cell(10, noise, 1.0, 200, seed)
            },
            |_, _, _| {},
        );
        assert!(
            r.rollbacks <= limit(200),
            "{}: {} of 200 unchanged deploys rolled back (limit {})",
            noise.name(),
            r.rollbacks,
            limit(200)
        );
    }
    // …and a 15-minute baseline on independent ticks catches a 1.5x shift from tick 3-8 on
    // one metric in ten about as often as if the ticks were known to be independent: the
    // full form measures 85.6 % with the lookback, 78.0 % without and 86.5 % as independent
    // ticks (3,000 deploys); 70 of 100 leaves 4 binomial sd of room.
    let delayed = |lookback: usize| Cell {
        base_ticks: sim::BASE_TICKS,
        lookback,
        onset: (3, 8),
        ..cell(10, Noise::LogNormal(0.3), 1.5, 100, 53)
    };
    let with = run_cell(
        &delayed(sim::LOOKBACK_TICKS - sim::BASE_TICKS),
        |_, _, _| {},
    );
    assert!(
        with.rollbacks >= 70,
        "only {} of 100 delayed shifts caught",
        with.rollbacks
    );
}
