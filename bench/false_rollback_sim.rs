//! Simulated deploys for the false-rollback benchmark (bench/false_rollback.rs) and its
//! short form in `cargo test` (bench/false_rollback_test.rs): unchanged deploys (baseline
//! and watch drawn from one distribution), shifted ones, replayed tick by tick through the
//! same `Gate` as `watch` and `analyze`. Deterministic: every deploy has its own seed.

#![allow(dead_code)]

use std::collections::HashMap;
use vz_monitor::config::Config;
use vz_monitor::detect::isolation_forest::SplitMix64;
use vz_monitor::detect::stats::dependence::Lag1;
use vz_monitor::detect::threshold::Op;
use vz_monitor::detect::DetectorSpec;
use vz_monitor::gate::{replay as replay_ticks, GatePlan, Tick};
use vz_monitor::model::{Reading, Sample, Timestamp};

/// 15 s ticks, as in issue 12.
pub const TICK_MS: Timestamp = 15_000;
/// Baseline ticks before the deploy (15 minutes).
pub const BASE_TICKS: usize = 60;
/// An hour of baseline at 15 s: what `vz-monitor baseline` takes by default (`--window 1h`,
/// step = the watch interval).
pub const HOUR_TICKS: usize = 240;
/// 6 h at 15 s: what `vz-monitor baseline` reads by default (`--lookback 6h`) to estimate the
/// dependence between ticks.
pub const LOOKBACK_TICKS: usize = 1440;
/// Ticks in a day at 15 s.
const DAY_TICKS: f64 = 5760.0;

/// How one metric's per-tick values are distributed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Noise {
    /// Lognormal around 100 with this σ of the log.
    LogNormal(f64),
    /// Low-traffic counts: Poisson, mean 3 per tick.
    Poisson3,
    /// A p95 latency series: lognormal σ 0.1 around 200, 1 % of ticks a lone outlier ×2–4.
    SpikyP95,
    /// Lognormal σ 0.3 around a daily cycle of ±30 % (the watch continues the baseline's day).
    Daily,
    /// Stationary AR(1) with this lag-1 autocorrelation on the log scale, σ 0.3 around 100:
    /// a series that wanders with nothing changed. Baseline and watch are one series.
    Ar1(f64),
    /// A `rate(x[w·15s])` sampled every 15 s: each tick the mean of the last `w` independent
    /// 15 s readings, lognormal σ 1 around 100 (consecutive ticks share (w − 1)/w of their data).
    RateMa(usize),
}

impl Noise {
    /// Name for tables.
    pub fn name(self) -> String {
        match self {
            Noise::LogNormal(s) => format!("lognormal σ {s}"),
            Noise::Poisson3 => "Poisson mean 3".into(),
            Noise::SpikyP95 => "spiky p95 (1 % ×2–4)".into(),
            Noise::Daily => "daily seasonality".into(),
            Noise::Ar1(phi) => format!("AR(1) φ {phi}"),
            Noise::RateMa(w) => format!("rate over {w} ticks"),
        }
    }

    /// The rule the README recommends for this kind of metric.
    pub fn rule(self) -> &'static str {
        match self {
            Noise::SpikyP95 => "{ stat: p95, max_change: \"20%\", p_value: 0.01 }",
            _ => "{ stat: mean, max_change: \"10%\", p_value: 0.01 }",
        }
    }
}

/// One cell of the benchmark.
#[derive(Debug, Clone, Copy)]
pub struct Cell {
    pub metrics: usize,
    pub ticks: usize,
    pub noise: Noise,
    /// Factor applied to metric 0 of the watch from its first tick (1: unchanged).
    pub shift: f64,
    /// Factor applied to every metric of the watch, canary and control alike (a surge).
    pub surge: f64,
    /// Each metric has a `control:` (the stable version, same noise and surge, never the
    /// shift), and its rule compares against it.
    pub control: bool,
    /// The shift starts at a watched tick drawn uniformly from this range (1-based, both
    /// ends included); (1, 1): from the deploy on.
    pub onset: (usize, usize),
    /// The rules treat ticks as independent (`dependence: none`): the method before issue 19.
    pub independent: bool,
    /// Baseline ticks before the deploy: [`BASE_TICKS`] (15 minutes), or 240 (an hour, what
    /// `baseline` takes by default at 15 s) for the dependent-ticks cells.
    pub base_ticks: usize,
    /// Ticks of history before the baseline the dependence is also estimated from
    /// (`baseline --lookback`), in hour-long stretches; 0: the baseline's ticks alone.
    pub lookback: usize,
    pub deploys: usize,
    pub seed: u64,
}

struct Rng(SplitMix64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0.next_f64().max(1e-300)
    }
    fn normal(&mut self) -> f64 {
        let (a, b) = (self.unit(), self.unit());
        (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
    }
    fn poisson(&mut self, mean: f64) -> f64 {
        // Knuth: multiply uniforms until below e^-mean.
        let limit = (-mean).exp();
        let (mut k, mut p) = (0.0, self.unit());
        while p > limit {
            k += 1.0;
            p *= self.unit();
        }
        k
    }
}

/// Seed of one deploy of a cell.
fn deploy_seed(cell: &Cell, deploy: usize) -> u64 {
    let mut s = SplitMix64::new(cell.seed ^ (deploy as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    s.next_u64()
}

/// `len` consecutive values of `noise` (`phase`: where the metric's day starts).
fn series(noise: Noise, rng: &mut Rng, len: usize, phase: f64) -> Vec<f64> {
    match noise {
        Noise::Ar1(phi) => {
            let mut x = rng.normal();
            (0..len)
                .map(|_| {
                    x = phi * x + (1.0 - phi * phi).sqrt() * rng.normal();
                    100.0 * (0.3 * x).exp()
                })
                .collect()
        }
        Noise::RateMa(w) => {
            let readings: Vec<f64> = (0..len + w)
                .map(|_| 100.0 * (rng.normal() - 0.5).exp())
                .collect();
            (0..len)
                .map(|t| readings[t + 1..t + 1 + w].iter().sum::<f64>() / w as f64)
                .collect()
        }
        _ => (0..len).map(|t| draw(noise, rng, t, phase)).collect(),
    }
}

/// One reading of `noise` at tick `t` (`phase`: where the metric's day starts).
fn draw(noise: Noise, rng: &mut Rng, t: usize, phase: f64) -> f64 {
    match noise {
        Noise::LogNormal(s) => 100.0 * (s * rng.normal()).exp(),
        Noise::Poisson3 => rng.poisson(3.0),
        Noise::SpikyP95 => {
            let v = 200.0 * (0.1 * rng.normal()).exp();
            let (u, k) = (rng.unit(), rng.unit());
            if u < 0.01 {
                v * (2.0 + 2.0 * k)
            } else {
                v
            }
        }
        Noise::Daily => {
            let day = (std::f64::consts::TAU * t as f64 / DAY_TICKS + phase).sin();
            100.0 * (1.0 + 0.3 * day) * (0.3 * rng.normal()).exp()
        }
        Noise::Ar1(_) | Noise::RateMa(_) => unreachable!("stateful: see series()"),
    }
}

/// Values of every metric of one deploy: `[metric][tick]`.
pub type Series = Vec<Vec<f64>>;

/// Baseline and watch values of every metric of one deploy: `[metric][tick]`.
pub fn generate(cell: &Cell, deploy: usize) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let (base, watch, _) = generate_with_control(cell, deploy);
    (base, watch)
}

/// [`generate`] plus, when the cell has controls, the control's watched values of every
/// metric (the stable version: same noise, same surge, no shift; its own draws, from a
/// stream of its own so the canary's values are those of the same cell without controls).
pub fn generate_with_control(cell: &Cell, deploy: usize) -> (Series, Series, Series) {
    let (base, watch, control, _) = generate_deploy(cell, deploy);
    (base, watch, control)
}

/// [`generate_with_control`] plus each metric's lookback: the cell's `lookback` ticks
/// before the baseline and the baseline itself, one series with it (empty without one).
pub fn generate_deploy(cell: &Cell, deploy: usize) -> (Series, Series, Series, Series) {
    let mut rng = Rng(SplitMix64::new(deploy_seed(cell, deploy)));
    let mut stable = Rng(SplitMix64::new(
        deploy_seed(cell, deploy) ^ 0x5EED_C0DE_0000_0001,
    ));
    let (mut base, mut watch, mut control) = (Vec::new(), Vec::new(), Vec::new());
    let mut lookback = Vec::new();
    let onset = if cell.onset.1 > cell.onset.0 {
        cell.onset.0 + (rng.unit() * (cell.onset.1 - cell.onset.0 + 1) as f64) as usize
    } else {
        cell.onset.0.max(1)
    };
    for m in 0..cell.metrics {
        let phase = rng.unit() * std::f64::consts::TAU;
        let base_ticks = cell.base_ticks;
        let len = cell.lookback + base_ticks + cell.ticks;
        let mut series = series(cell.noise, &mut rng, len, phase);
        if cell.lookback > 0 {
            lookback.push(series[..cell.lookback + base_ticks].to_vec());
            series.drain(..cell.lookback);
        }
        for (t, v) in series.iter_mut().enumerate() {
            let watched = t >= base_ticks;
            let shifted = watched && m == 0 && t + 1 >= base_ticks + onset;
            let shift = if shifted { cell.shift } else { 1.0 };
            let surge = if watched { cell.surge } else { 1.0 };
            *v *= shift * surge;
        }
        watch.push(series.split_off(base_ticks));
        base.push(series);
        if cell.control {
            control.push(match cell.noise {
                // A wandering control wanders on its own from before the deploy.
                Noise::Ar1(_) | Noise::RateMa(_) => {
                    let s = self::series(cell.noise, &mut stable, base_ticks + cell.ticks, phase);
                    s[base_ticks..].iter().map(|v| v * cell.surge).collect()
                }
                _ => (BASE_TICKS..BASE_TICKS + cell.ticks)
                    .map(|t| draw(cell.noise, &mut stable, t, phase) * cell.surge)
                    .collect(),
            });
        }
    }
    (base, watch, control, lookback)
}

/// The gate config of a cell: one `baseline` rule per metric, severity critical, default
/// policy (`alpha` 0.01), 15 s ticks over the cell's watch.
pub fn config(cell: &Cell) -> Config {
    let mut yaml = format!(
        "source: {{ prometheus: {{ url: \"http://127.0.0.1:9\" }} }}\ninterval: 15s\n\
         duration: {}s\nmetrics:\n",
        cell.ticks * 15
    );
    for m in 0..cell.metrics {
        if cell.control {
            yaml.push_str(&format!(
                "  m{m}: {{ query: \"m{m}\", control: {{ query: \"m{m}_stable\" }} }}\n"
            ));
        } else {
            yaml.push_str(&format!("  m{m}: {{ query: \"m{m}\" }}\n"));
        }
    }
    yaml.push_str("rules:\n");
    let rule = if cell.independent {
        cell.noise.rule().replacen("{ ", "{ dependence: none, ", 1)
    } else {
        cell.noise.rule().to_string()
    };
    for m in 0..cell.metrics {
        yaml.push_str(&format!(
            "  - {{ name: r{m}, metric: m{m}, severity: critical, detector: {{ baseline: {rule} }} }}\n"
        ));
    }
    vz_monitor::config::parse_text(&yaml, None, &|_| None).expect("bench config")
}

/// Replays one deploy through the gate (the one replay loop of `watch`, `analyze` and
/// `test`): the watch tick (1-based) of the rollback, if any. `control`: each metric's
/// control readings over the same ticks (empty: no controls).
pub fn replay(
    config: &Config,
    names: &[String],
    base: &[Vec<f64>],
    watch: &[Vec<f64>],
    control: &[Vec<f64>],
) -> Option<usize> {
    replay_with_lookback(config, names, (base, &[]), watch, control)
}

/// [`replay`] with each metric's lookback (empty: none), cut into hour-long stretches as
/// `baseline --lookback` does.
pub fn replay_with_lookback(
    config: &Config,
    names: &[String],
    (base, lookback): (&[Vec<f64>], &[Vec<f64>]),
    watch: &[Vec<f64>],
    control: &[Vec<f64>],
) -> Option<usize> {
    let rows: HashMap<String, Vec<f64>> = names.iter().cloned().zip(base.iter().cloned()).collect();
    let lag1: HashMap<String, Lag1> = names
        .iter()
        .cloned()
        .zip(lookback.iter().map(|v| Lag1::of_chunks(v, HOUR_TICKS)))
        .collect();
    let ticks = watch.first().map_or(0, Vec::len);
    let mut gate = GatePlan::new(
        config.rules.clone(),
        config.metric_specs(),
        config.policy.clone(),
    )
    .with_baseline(rows)
    .with_lookback(lag1)
    .with_planned_ticks(ticks as u32)
    .build();
    let feed = (0..ticks).map(|t| Tick {
        at: t as Timestamp * TICK_MS,
        samples: names
            .iter()
            .zip(watch)
            .map(|(n, v)| Sample::new(n, Reading::Value(v[t])))
            .chain(
                names
                    .iter()
                    .zip(control)
                    .map(|(n, v)| Sample::of_control(n, Reading::Value(v[t]))),
            )
            .collect(),
    });
    replay_ticks(&mut gate, feed)
        .decided_tick
        .map(|t| t as usize + 1)
}

/// Rollbacks of a cell and the tick of each.
pub struct CellResult {
    pub rollbacks: usize,
    pub delays: Vec<usize>,
}

/// Runs every deploy of a cell; `dump` receives each deploy's baseline, watch and control
/// values (control empty without controls), for the scipy side.
pub fn run_cell(
    cell: &Cell,
    mut dump: impl FnMut(&[Vec<f64>], &[Vec<f64>], &[Vec<f64>]),
) -> CellResult {
    let config = config(cell);
    let names: Vec<String> = (0..cell.metrics).map(|m| format!("m{m}")).collect();
    let mut delays = Vec::new();
    for d in 0..cell.deploys {
        let (base, watch, control, lookback) = generate_deploy(cell, d);
        dump(&base, &watch, &control);
        if let Some(t) = replay_with_lookback(&config, &names, (&base, &lookback), &watch, &control)
        {
            delays.push(t);
        }
    }
    CellResult {
        rollbacks: delays.len(),
        delays,
    }
}

/// Rollbacks of a shipped rule pack on unchanged deploys: every metric of the pack i.i.d.
/// lognormal σ 0.3, at a level its fixed thresholds leave alone (a quarter of the lowest
/// `>` bound, exactly the `<` bound), so what rolls back is the statistical rules' noise.
pub fn run_pack(config: &Config, ticks: usize, deploys: usize, seed: u64) -> usize {
    let metrics: Vec<String> = config
        .rules
        .iter()
        .map(|r| r.metric.clone())
        .filter(|m| !m.is_empty())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let level = |m: &str| -> (f64, f64) {
        let mut level: (f64, f64) = (100.0, 0.3);
        for r in config.rules.iter().filter(|r| r.metric == m) {
            if let DetectorSpec::Threshold(p) = &r.detector {
                match p.op {
                    Op::Gt | Op::Ge if p.value > 0.0 => level.0 = level.0.min(p.value / 4.0),
                    Op::Gt | Op::Ge => return (p.value.min(0.0), 0.0),
                    _ => return (p.value.max(1.0), 0.0),
                }
            }
        }
        level
    };
    let levels: Vec<(f64, f64)> = metrics.iter().map(|m| level(m)).collect();
    let mut rollbacks = 0;
    for d in 0..deploys {
        let mut rng = Rng(SplitMix64::new(
            seed ^ (d as u64).wrapping_mul(0xD1B5_4A32_D192_ED03),
        ));
        let mut series = |&(l, s): &(f64, f64), n: usize| -> Vec<f64> {
            (0..n).map(|_| l * (s * rng.normal()).exp()).collect()
        };
        let base: Vec<Vec<f64>> = levels.iter().map(|l| series(l, BASE_TICKS)).collect();
        let watch: Vec<Vec<f64>> = levels.iter().map(|l| series(l, ticks)).collect();
        if replay(config, &metrics, &base, &watch, &[]).is_some() {
            rollbacks += 1;
        }
    }
    rollbacks
}

/// Median of usizes (NaN when empty).
pub fn median(v: &[usize]) -> f64 {
    let mut v: Vec<usize> = v.to_vec();
    v.sort_unstable();
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2] as f64,
        n => (v[n / 2 - 1] + v[n / 2]) as f64 / 2.0,
    }
}
