//! Detection quality of the default rule pack (rules/http-service.yaml), reproducible from a
//! seed: 200 simulated good deploys and 200 bad ones, each replayed tick by tick through the
//! same `Gate` as `watch`/`analyze`. Prints false rollbacks, missed bad deploys and the median
//! ticks from fault onset to the rollback decision (also minus the firing rule's `for`).
//!
//! `cargo test --release --test quality -- --nocapture` (seed: VZ_QUALITY_SEED, default 1).

use std::collections::HashMap;
use std::path::Path;
use vz_monitor::detect::isolation_forest::SplitMix64;
use vz_monitor::gate::{replay, GatePlan, Tick};
use vz_monitor::model::{Reading, Sample, Timestamp};

const TICK_MS: Timestamp = 30_000;
const BASE_TICKS: usize = 60; // 30 minutes of baseline
const WATCH_TICKS: usize = 30; // 15-minute watch
const METRICS: [&str; 6] = [
    "error_rate",
    "p95_latency_ms",
    "memory_mb",
    "cpu_percent",
    "up",
    "disk_percent",
];

struct Rng(SplitMix64);
impl Rng {
    fn u(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.0.next_f64()
    }
    fn n(&mut self) -> f64 {
        // Box-Muller
        let (a, b) = (self.0.next_f64().max(1e-12), self.0.next_f64());
        (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
    }
}

/// One service's levels and how the watch differs from the baseline.
#[derive(Clone, Copy, Debug)]
enum Scenario {
    Noise,
    Seasonality,
    TrafficRamp,
    SingleOutlier,
    BenignDrift,
    ErrorStep(f64),
    LatencyShift(f64),
    MemoryLeak(f64),
    ServiceDown,
    CpuSaturation,
}

impl Scenario {
    fn is_bad(self) -> bool {
        matches!(
            self,
            Scenario::ErrorStep(_)
                | Scenario::LatencyShift(_)
                | Scenario::MemoryLeak(_)
                | Scenario::ServiceDown
                | Scenario::CpuSaturation
        )
    }
    fn class(self) -> &'static str {
        match self {
            Scenario::Noise => "noise",
            Scenario::Seasonality => "daily seasonality",
            Scenario::TrafficRamp => "traffic ramp",
            Scenario::SingleOutlier => "single outlier",
            Scenario::BenignDrift => "slow benign drift",
            Scenario::ErrorStep(_) => "error-rate step",
            Scenario::LatencyShift(_) => "latency shift",
            Scenario::MemoryLeak(_) => "memory leak",
            Scenario::ServiceDown => "service down",
            Scenario::CpuSaturation => "cpu saturation",
        }
    }
}

/// Rows of one deploy: (baseline rows, watch rows, fault onset tick in the watch).
fn simulate(s: Scenario, rng: &mut Rng) -> (Vec<[f64; 6]>, Vec<[f64; 6]>, usize) {
    let err0 = rng.u(0.1, 1.0);
    let lat0 = rng.u(80.0, 400.0);
    let mem0 = rng.u(200.0, 1500.0);
    let cpu0 = rng.u(15.0, 45.0);
    let disk0 = rng.u(30.0, 70.0);
    let phase = rng.u(0.0, std::f64::consts::TAU);
    let onset = 2 + (rng.0.next_u64() % 8) as usize;
    let outlier_at = 3 + (rng.0.next_u64() % 20) as usize;
    let row = |t: usize, watch: bool, rng: &mut Rng| -> [f64; 6] {
        // Daily cycle in traffic (2880 ticks of 30 s); baseline ends where the watch starts.
        let day = 2880.0;
        let tt = t as f64 - if watch { 0.0 } else { BASE_TICKS as f64 };
        let season = if matches!(s, Scenario::Seasonality) {
            0.3
        } else {
            0.05
        };
        let mut traffic = 1.0 + season * (std::f64::consts::TAU * tt / day + phase).sin();
        let mut err = err0 * (1.0 + 0.3 * rng.n()).max(0.0);
        let mut lat = lat0 * (1.0 + 0.05 * rng.n()) * (1.0 + 0.1 * (traffic - 1.0));
        let mut mem = mem0 + 2.0 * rng.n();
        let mut up = 1.0;
        let disk = disk0 + 0.1 * rng.n();
        let minutes = tt / 2.0;
        if watch {
            let after = t >= onset;
            let since = (t as f64 - onset as f64 + 1.0).max(0.0) / 2.0; // minutes since onset
            match s {
                Scenario::TrafficRamp => {
                    traffic *= 1.0 + 0.5 * (t as f64 / 20.0).min(1.0);
                    lat *= 1.0 + 0.04 * (t as f64 / 20.0).min(1.0);
                }
                Scenario::SingleOutlier if t == outlier_at => match rng.0.next_u64() % 3 {
                    0 => lat *= 3.0,
                    1 => err *= 5.0,
                    _ => traffic *= 1.8,
                },
                Scenario::BenignDrift => {
                    mem += 1.0 * minutes;
                    lat *= 1.0 + 0.002 * minutes;
                }
                Scenario::ErrorStep(pp) if after => err += pp * (1.0 + 0.1 * rng.n()),
                Scenario::LatencyShift(f) if after => lat *= 1.0 + f,
                Scenario::MemoryLeak(mb) if after => mem += mb * since,
                Scenario::ServiceDown if after => up = 0.0,
                _ => {}
            }
        }
        let mut cpu = (cpu0 * traffic + 3.0 * rng.n()).clamp(0.0, 100.0);
        if watch && matches!(s, Scenario::CpuSaturation) && t >= onset {
            cpu = rng.u(92.0, 100.0);
        }
        [err, lat, mem, cpu, up, disk]
    };
    let base = (0..BASE_TICKS).map(|t| row(t, false, rng)).collect();
    let watch = (0..WATCH_TICKS).map(|t| row(t, true, rng)).collect();
    let onset = if s.is_bad() { onset } else { 0 };
    (base, watch, onset)
}

struct Outcome {
    decided_at: Option<usize>,
    for_ticks: usize,
    rules: Vec<String>,
}

fn run_deploy(
    config: &vz_monitor::config::Config,
    base: &[[f64; 6]],
    watch: &[[f64; 6]],
) -> Outcome {
    let rows: HashMap<String, Vec<f64>> = METRICS
        .iter()
        .enumerate()
        .map(|(i, m)| (m.to_string(), base.iter().map(|r| r[i]).collect()))
        .collect();
    let mut gate = GatePlan::new(
        config.rules.clone(),
        config.metric_specs(),
        config.policy.clone(),
    )
    .with_baseline(rows)
    .build();
    let ticks = watch.iter().enumerate().map(|(t, r)| Tick {
        at: t as Timestamp * TICK_MS,
        samples: METRICS
            .iter()
            .zip(r)
            .map(|(m, v)| Sample::new(m, Reading::Value(*v)))
            .collect(),
    });
    let driven = replay(&mut gate, ticks);
    let rules = gate.anomalies().iter().map(|a| a.rule.clone()).collect();
    match driven.decided_tick {
        Some(t) => {
            let first = &gate.anomalies()[0];
            let rule = config.rules.iter().find(|r| r.name == first.rule).unwrap();
            Outcome {
                decided_at: Some(t as usize),
                for_ticks: (rule.for_.as_millis() as Timestamp / TICK_MS) as usize,
                rules,
            }
        }
        None => Outcome {
            decided_at: None,
            for_ticks: 0,
            rules,
        },
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[test]
fn default_pack_detection_quality() {
    let seed: u64 = std::env::var("VZ_QUALITY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = vz_monitor::ruletest::load_rule_files(
        &root.join("vz-monitor.yaml"),
        &["rules/http-service.yaml".into()],
        None,
    )
    .unwrap();
    let mut rng = Rng(SplitMix64::new(seed));
    let good = [
        Scenario::Noise,
        Scenario::Seasonality,
        Scenario::TrafficRamp,
        Scenario::SingleOutlier,
        Scenario::BenignDrift,
    ];
    let errs = [1.0, 2.0, 5.0, 10.0, 25.0];
    let lats = [0.15, 0.2, 0.3, 0.5, 1.0];
    let leaks = [5.0, 10.0, 20.0, 50.0];
    let mut bad = Vec::new();
    for i in 0..40 {
        bad.push(Scenario::ErrorStep(errs[i % errs.len()]));
        bad.push(Scenario::LatencyShift(lats[i % lats.len()]));
        bad.push(Scenario::MemoryLeak(leaks[i % leaks.len()]));
        bad.push(Scenario::ServiceDown);
        bad.push(Scenario::CpuSaturation);
    }
    let mut false_rollbacks = Vec::new();
    for i in 0..200 {
        let s = good[i % good.len()];
        let (b, w, _) = simulate(s, &mut rng);
        let o = run_deploy(&config, &b, &w);
        if o.decided_at.is_some() {
            false_rollbacks.push(format!("{} #{i}: {:?}", s.class(), o.rules));
        }
    }
    let mut missed = Vec::new();
    let mut delays = Vec::new();
    let mut after_for = Vec::new();
    let mut by_class: HashMap<&str, Vec<f64>> = HashMap::new();
    for (i, s) in bad.iter().enumerate() {
        let (b, w, onset) = simulate(*s, &mut rng);
        let o = run_deploy(&config, &b, &w);
        match o.decided_at {
            None => missed.push(format!("{:?} #{i}: {:?}", s, o.rules)),
            Some(t) => {
                let d = t as f64 - onset as f64;
                delays.push(d);
                after_for.push(d - o.for_ticks as f64);
                by_class
                    .entry(s.class())
                    .or_default()
                    .push(d - o.for_ticks as f64);
            }
        }
    }
    let caught = bad.len() - missed.len();
    println!("detection quality, seed {seed}, pack rules/http-service.yaml, 30 s ticks");
    println!(
        "  good deploys: {} of 200 falsely rolled back {:?}",
        false_rollbacks.len(),
        false_rollbacks
    );
    println!(
        "  bad deploys: {caught} of {} caught ({:.1} %), missed: {:?}",
        bad.len(),
        100.0 * caught as f64 / bad.len() as f64,
        missed
    );
    println!(
        "  median ticks from fault onset to rollback: {}; after the firing rule's `for`: {}",
        median(&mut delays),
        median(&mut after_for)
    );
    let mut classes: Vec<_> = by_class.into_iter().collect();
    classes.sort_by_key(|(k, _)| *k);
    for (k, mut v) in classes {
        println!("    {k}: median {} ticks after `for`", median(&mut v));
    }
    assert!(
        false_rollbacks.is_empty(),
        "false rollbacks: {false_rollbacks:?}"
    );
    assert!(caught * 100 >= 98 * bad.len(), "missed: {missed:?}");
    assert!(median(&mut after_for) <= 2.0);
}
