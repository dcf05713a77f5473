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
        let r = run_cell(&cell(10, noise, 1.0, 200, seed), |_, _| {});
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
    let r = run_cell(&cell(10, Noise::LogNormal(0.3), 2.0, 60, 21), |_, _| {});
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
