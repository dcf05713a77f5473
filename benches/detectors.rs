//! Detector benchmarks over 1,000,000 points (single-threaded): `cargo bench --bench detectors`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;
use vz_monitor::detect::baseline::{self, BaselineParams};
use vz_monitor::detect::down::{self, DownParams};
use vz_monitor::detect::iqr::{Fences, IqrParams};
use vz_monitor::detect::stats::{
    mann_whitney_u, mann_whitney_u_both_sorted, median_mad, sort_values, Alternative,
};
use vz_monitor::detect::threshold::{self, Op, ThresholdParams};
use vz_monitor::detect::trend::{self, TrendParams};
use vz_monitor::detect::zscore::{self, ZscoreParams};
use vz_monitor::detect::{Baseline, Input, Window};
use vz_monitor::model::Direction;

const N: usize = 1_000_000;
const T0: i64 = 1_700_000_000_000;

/// Deterministic, roughly normal values (sum of 4 uniforms from a xorshift generator).
fn values(n: usize, seed: u64, center: f64) -> Vec<f64> {
    let mut x = seed.max(1);
    let mut uniform = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| center + 25.0 * (uniform() + uniform() + uniform() + uniform() - 2.0))
        .collect()
}

fn ticks(n: usize) -> Vec<i64> {
    (0..n as i64).map(|i| T0 + i * 1_000).collect()
}

fn input<'a>(times: &'a [i64], values: &'a [f64], baseline: Option<&'a Baseline>) -> Input<'a> {
    Input {
        now: *times.last().unwrap(),
        window: Window { times, values },
        latest_is_value: true,
        baseline,
        control: None,
        down_since: None,
    }
}

fn detectors(c: &mut Criterion) {
    let base_values = values(N, 0x9E37_79B9_7F4A_7C15, 200.0);
    let current = values(N, 0xD1B5_4A32_D192_ED03, 210.0);
    let times = ticks(N);
    let base = Baseline::from_values(&base_values).unwrap();

    c.bench_function("sort_values_1m", |b| {
        b.iter(|| {
            let mut v = black_box(&base_values).clone();
            sort_values(&mut v);
            v
        })
    });

    c.bench_function("median_mad_1m", |b| {
        b.iter(|| median_mad(black_box(&base_values)))
    });

    let mut cur_sorted = current.clone();
    sort_values(&mut cur_sorted);
    c.bench_function("mann_whitney_u_both_sorted_1m_each", |b| {
        b.iter(|| {
            mann_whitney_u_both_sorted(
                black_box(&base.sorted),
                black_box(&cur_sorted),
                Alternative::Greater,
            )
        })
    });

    c.bench_function("baseline_from_values_1m", |b| {
        b.iter(|| Baseline::from_values(black_box(&base_values)))
    });

    let tp = ThresholdParams {
        op: Op::Gt,
        value: 250.0,
    };
    c.bench_function("threshold_score_1m", |b| {
        b.iter(|| {
            black_box(&current)
                .iter()
                .filter(|&&v| threshold::is_active(&tp, v))
                .count()
        })
    });

    let zp = ZscoreParams {
        robust: true,
        ..ZscoreParams::default()
    };
    c.bench_function("zscore_score_1m", |b| {
        b.iter(|| {
            black_box(&current)
                .iter()
                .filter(|&&v| zscore::is_active(zscore::score(v, &base, &zp), &zp))
                .count()
        })
    });

    let ip = IqrParams::default();
    c.bench_function("iqr_score_1m", |b| {
        b.iter(|| {
            let fences = Fences::of(&base, ip.k);
            black_box(&current)
                .iter()
                .map(|&v| fences.score(v))
                .filter(|&s| s > 0.0)
                .count()
        })
    });

    let bp = BaselineParams::default();
    c.bench_function("baseline_detector_1m_window_vs_1m_baseline", |b| {
        b.iter(|| baseline::evaluate(&bp, &input(&times, black_box(&current), Some(&base))))
    });

    let leak: Vec<f64> = current
        .iter()
        .enumerate()
        .map(|(i, v)| v + i as f64 * 0.001)
        .collect();
    let trp = TrendParams {
        min_slope_per_min: 0.01,
        min_r2: 0.5,
        min_points: 5,
        direction: Direction::Increase,
    };
    c.bench_function("trend_1m", |b| {
        b.iter(|| trend::evaluate(&trp, &input(&times, black_box(&leak), None)))
    });

    // 1M ticks, down in runs of 0..=127 ticks: track down_since and test each tick.
    let is_down: Vec<bool> = (0..N)
        .map(|i| (i / 128) % 3 == 0 && i % 128 < 100)
        .collect();
    let dp = DownParams::default();
    c.bench_function("down_scan_1m", |b| {
        b.iter(|| {
            let mut since = None;
            let mut active = 0usize;
            for (&t, &d) in times.iter().zip(black_box(&is_down)) {
                since = if d { since.or(Some(t)) } else { None };
                active += usize::from(down::is_active(&dp, t, since));
            }
            active
        })
    });

    let a10k = values(10_000, 7, 100.0);
    let b10k = values(10_000, 11, 101.0);
    c.bench_function("mann_whitney_u_10k_each", |b| {
        b.iter(|| mann_whitney_u(black_box(&a10k), black_box(&b10k), Alternative::TwoSided))
    });

    let a500k = &base_values[..N / 2];
    let b500k = &current[..N / 2];
    c.bench_function("mann_whitney_u_500k_each_unsorted", |b| {
        b.iter(|| mann_whitney_u(black_box(a500k), black_box(b500k), Alternative::Greater))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = detectors
}
criterion_main!(benches);
