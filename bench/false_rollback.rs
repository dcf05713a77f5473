//! False-rollback rate, power and delay of the statistical rules, through the same `Gate`
//! as `watch` and `analyze` (issue 12). Deterministic seeds.
//!
//! ```sh
//! cargo bench --bench false_rollback                 # full form, ≈ minutes in release
//! cargo bench --bench false_rollback -- --deploys 100 --dump /tmp/vz-fr
//! cargo bench --bench false_rollback -- --surge      # only the surge-with-control cells
//! cargo bench --bench false_rollback -- --list       # every cell's label
//! cargo bench --bench false_rollback -- --deploys 3000 --only "unchanged 1x120 lognormal σ 0.6"
//! cargo bench --bench false_rollback -- --dependent --before   # issue 19's cells, before/after
//! cargo bench --bench false_rollback -- --dependent --base-ticks 60 --only "from tick"
//! cargo bench --bench false_rollback -- --dependent --lookback 0  # no lookback: the baseline alone
//! python3 bench/bonferroni.py                        # runs this and scipy side by side
//! python3 bench/bonferroni.py --dependent            # issue 19's cells with scipy
//! ```
//!
//! `--only TEXT` (repeatable) runs the cells whose label contains one of the texts; a cell
//! keeps its seed whatever is filtered, and deploy d of a cell is the same deploy at any
//! `--deploys`, so a larger N extends the published run rather than replacing it.
//!
//! `--dump DIR` writes every cell's values (`cellN.f32`: deploys × metrics × (60 + ticks)
//! little-endian f32, then for a cell with controls the control's watched ticks, deploys ×
//! metrics × ticks) and `cells.json` (each cell and its results), which bench/bonferroni.py
//! replays through plain Bonferroni over a geometric schedule of looks.

#[path = "false_rollback_sim.rs"]
mod sim;

use sim::{median, run_cell, run_pack, Cell, Noise};
use std::io::Write;
use std::path::{Path, PathBuf};

const ALPHA: f64 = 0.01;

struct Args {
    deploys: usize,
    dump: Option<PathBuf>,
    quick: bool,
    /// Only the surge-with-control cells.
    surge_only: bool,
    /// Only the cells whose label contains one of these.
    only: Vec<String>,
    /// Print the cells' labels and stop.
    list: bool,
    /// Only the cells of dependent ticks (issue 19): AR(1), rate-like moving averages, and
    /// shifts that start a few ticks into the watch.
    dependent: bool,
    /// Also replay every cell as before issue 19 (ticks taken as independent), side by side.
    before: bool,
    /// Baseline ticks of the dependent-ticks cells (default an hour at 15 s, 240).
    base_ticks: usize,
    /// Ticks of the lookback the dependent-ticks cells estimate the dependence from, ending
    /// with the baseline (`baseline --lookback`, default 6 h at 15 s: 1440; 0: the baseline's
    /// own ticks only).
    lookback: usize,
}

fn args() -> Args {
    let mut a = Args {
        deploys: 300,
        dump: None,
        quick: false,
        surge_only: false,
        only: Vec::new(),
        list: false,
        dependent: false,
        before: false,
        base_ticks: sim::HOUR_TICKS,
        lookback: sim::LOOKBACK_TICKS,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--deploys" => a.deploys = it.next().and_then(|v| v.parse().ok()).unwrap_or(300),
            "--dump" => a.dump = it.next().map(PathBuf::from),
            "--quick" => a.quick = true,
            "--surge" => a.surge_only = true,
            "--only" => a.only.extend(it.next()),
            "--list" => a.list = true,
            "--dependent" => a.dependent = true,
            "--before" => a.before = true,
            "--base-ticks" => {
                a.base_ticks = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(sim::HOUR_TICKS)
            }
            "--lookback" => {
                a.lookback = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(sim::LOOKBACK_TICKS)
            }
            _ => {} // cargo bench passes --bench
        }
    }
    a
}

/// `unchanged 1x120 lognormal σ 0.6`, `surge + control 10x30 lognormal σ 0.3 shift 1.5
/// surge 2`: what `--only` matches.
fn label(kind: &str, c: &Cell) -> String {
    let mut s = format!("{kind} {}x{} {}", c.metrics, c.ticks, c.noise.name());
    if c.shift != 1.0 {
        s.push_str(&format!(" shift {}", c.shift));
    }
    if c.surge != 1.0 {
        s.push_str(&format!(" surge {}", c.surge));
    }
    if c.onset != (1, 1) {
        s.push_str(&format!(" from tick {}-{}", c.onset.0, c.onset.1));
    }
    s
}

/// Issue 19's cells: unchanged deploys on dependent ticks (AR(1) φ 0.5, 0.8, 0.95; rates
/// over 4, 20 and 60 ticks) at 1, 10 and 50 metrics × 30, 120 and 240 ticks; power under
/// the same noise (10 metrics × 30 ticks, 1.3×, 1.5×, 2×); and power on independent ticks
/// for a shift that starts at tick 3–8 (10 metrics × 30 ticks, lognormal σ 0.3).
fn dependent_cells(a: &Args, out: &mut Vec<(&'static str, Cell)>) {
    let noises = [
        Noise::Ar1(0.5),
        Noise::Ar1(0.8),
        Noise::Ar1(0.95),
        Noise::RateMa(4),
        Noise::RateMa(20),
        Noise::RateMa(60),
    ];
    let base = Cell {
        metrics: 1,
        ticks: 30,
        noise: Noise::LogNormal(0.3),
        shift: 1.0,
        surge: 1.0,
        control: false,
        onset: (1, 1),
        independent: false,
        base_ticks: a.base_ticks,
        lookback: a.lookback.saturating_sub(a.base_ticks),
        deploys: a.deploys,
        seed: 0,
    };
    let mut seed = 4000;
    let (metric_counts, tick_counts): (&[usize], &[usize]) = if a.quick {
        (&[1, 10], &[30, 120])
    } else {
        (&[1, 10, 50], &[30, 120, 240])
    };
    for &metrics in metric_counts {
        for &ticks in tick_counts {
            for noise in noises {
                seed += 1;
                out.push((
                    "unchanged",
                    Cell {
                        metrics,
                        ticks,
                        noise,
                        seed,
                        ..base
                    },
                ));
            }
        }
    }
    for noise in noises {
        for shift in [1.3, 1.5, 2.0] {
            seed += 1;
            out.push((
                "shifted",
                Cell {
                    metrics: 10,
                    noise,
                    shift,
                    seed,
                    ..base
                },
            ));
        }
    }
    for shift in [1.3, 1.5, 2.0] {
        seed += 1;
        out.push((
            "shifted",
            Cell {
                metrics: 10,
                shift,
                onset: (3, 8),
                seed,
                ..base
            },
        ));
    }
}

fn cells(a: &Args) -> Vec<(&'static str, Cell)> {
    let noises = [
        Noise::LogNormal(0.1),
        Noise::LogNormal(0.3),
        Noise::LogNormal(0.6),
        Noise::Poisson3,
        Noise::SpikyP95,
        Noise::Daily,
    ];
    let (metric_counts, tick_counts): (&[usize], &[usize]) = if a.quick {
        (&[1, 10], &[30, 120])
    } else {
        (&[1, 10, 50], &[30, 120, 240])
    };
    let mut out = Vec::new();
    let mut seed = 1000;
    if a.surge_only {
        surge_cells(a, &mut out, 2000);
        return out;
    }
    if a.dependent {
        dependent_cells(a, &mut out);
        return out;
    }
    for &metrics in metric_counts {
        for &ticks in tick_counts {
            for noise in noises {
                seed += 1;
                out.push((
                    "unchanged",
                    Cell {
                        metrics,
                        ticks,
                        noise,
                        shift: 1.0,
                        surge: 1.0,
                        control: false,
                        onset: (1, 1),
                        independent: false,
                        base_ticks: sim::BASE_TICKS,
                        lookback: 0,
                        deploys: a.deploys,
                        seed,
                    },
                ));
            }
        }
    }
    for metrics in [1, 10] {
        for shift in [1.3, 1.5, 2.0] {
            seed += 1;
            out.push((
                "shifted",
                Cell {
                    metrics,
                    ticks: 30,
                    noise: Noise::LogNormal(0.3),
                    shift,
                    surge: 1.0,
                    control: false,
                    onset: (1, 1),
                    independent: false,
                    base_ticks: sim::BASE_TICKS,
                    lookback: 0,
                    deploys: a.deploys,
                    seed,
                },
            ));
        }
    }
    surge_cells(a, &mut out, 2000);
    // Daily seasonality judged against a control: the stable version over the same ticks, at
    // the same point of its day (same level), its own noise. Against the pre-deploy baseline
    // the day's drift between baseline and watch is a real change (the `unchanged … daily
    // seasonality` cells above); against the control it is not.
    let mut seed = 3000;
    for &metrics in metric_counts {
        for &ticks in tick_counts {
            seed += 1;
            out.push((
                "daily + control",
                Cell {
                    metrics,
                    ticks,
                    noise: Noise::Daily,
                    shift: 1.0,
                    surge: 1.0,
                    control: true,
                    onset: (1, 1),
                    independent: false,
                    base_ticks: sim::BASE_TICKS,
                    lookback: 0,
                    deploys: a.deploys,
                    seed,
                },
            ));
        }
    }
    out
}

/// A traffic surge on canary and control alike (every metric), without and with a
/// regression of metric 0 on top of it, judged against the control.
fn surge_cells(a: &Args, out: &mut Vec<(&'static str, Cell)>, mut seed: u64) {
    for metrics in [1, 10] {
        for surge in [1.5, 2.0] {
            for (kind, shift, control) in [
                ("surge, no control", 1.0, false),
                ("surge + control", 1.0, true),
                ("surge + control", 1.3, true),
                ("surge + control", 1.5, true),
                ("surge + control", 2.0, true),
            ] {
                if kind == "surge, no control" && metrics == 10 {
                    continue;
                }
                seed += 1;
                out.push((
                    kind,
                    Cell {
                        metrics,
                        ticks: 30,
                        noise: Noise::LogNormal(0.3),
                        shift,
                        surge,
                        control,
                        onset: (1, 1),
                        independent: false,
                        base_ticks: sim::BASE_TICKS,
                        lookback: 0,
                        deploys: a.deploys,
                        seed,
                    },
                ));
            }
        }
    }
}

fn main() {
    let a = args();
    if let Some(d) = &a.dump {
        std::fs::create_dir_all(d).expect("dump dir");
    }
    let se = (ALPHA * (1.0 - ALPHA) / a.deploys as f64).sqrt();
    if !a.list {
        println!("# vz-monitor false rollbacks (policy.alpha {ALPHA}, {} deploys a cell, binomial se {:.4})\n", a.deploys, se);
        if a.before {
            println!("| kind | metrics | ticks | noise | shift | surge | rolled back | rate | within α + 2 se | median tick | before: rate | before: median tick |");
            println!("|---|---:|---:|---|---:|---:|---:|---:|---|---:|---:|---:|");
        } else {
            println!("| kind | metrics | ticks | noise | shift | surge | rolled back | rate | within α + 2 se | median tick |");
            println!("|---|---:|---:|---|---:|---:|---:|---:|---|---:|");
        }
    }
    let mut index = Vec::new();
    for (id, (kind, cell)) in cells(&a).into_iter().enumerate() {
        let name = label(kind, &cell);
        if !a.only.is_empty() && !a.only.iter().any(|o| name.contains(o.as_str())) {
            continue;
        }
        if a.list {
            println!("{name}");
            continue;
        }
        let mut file = a.dump.as_ref().map(|d| {
            std::io::BufWriter::new(
                std::fs::File::create(d.join(format!("cell{id}.f32"))).expect("dump"),
            )
        });
        // The control's ticks go after every deploy's baseline and watch.
        let mut controls: Vec<f32> = Vec::new();
        let r = run_cell(&cell, |base, watch, control| {
            if let Some(f) = file.as_mut() {
                for (b, w) in base.iter().zip(watch) {
                    for v in b.iter().chain(w) {
                        f.write_all(&(*v as f32).to_le_bytes()).expect("dump");
                    }
                }
                controls.extend(control.iter().flatten().map(|v| *v as f32));
            }
        });
        if let Some(mut f) = file {
            for v in &controls {
                f.write_all(&v.to_le_bytes()).expect("dump");
            }
            f.flush().expect("dump");
        }
        let rate = r.rollbacks as f64 / cell.deploys as f64;
        let unchanged = cell.shift == 1.0 && (kind == "unchanged" || cell.control);
        let ok = if unchanged {
            if rate <= ALPHA + 2.0 * se {
                "yes"
            } else {
                "NO"
            }
        } else {
            ""
        };
        let old = a.before.then(|| {
            run_cell(
                &Cell {
                    independent: true,
                    ..cell
                },
                |_, _, _| {},
            )
        });
        let before = old.as_ref().map_or(String::new(), |old| {
            format!(
                " {:.3} | {} |",
                old.rollbacks as f64 / cell.deploys as f64,
                median(&old.delays)
            )
        });
        println!(
            "| {kind} | {} | {} | {} | {} | {} | {} / {} | {:.3} | {ok} | {} |{before}",
            cell.metrics,
            cell.ticks,
            cell.noise.name(),
            cell.shift,
            cell.surge,
            r.rollbacks,
            cell.deploys,
            rate,
            median(&r.delays)
        );
        std::io::stdout().flush().ok();
        index.push(format!(
            "{{\"id\": {id}, \"kind\": \"{kind}\", \"label\": \"{name}\", \"metrics\": {}, \
             \"ticks\": {}, \"noise\": \"{}\", \"stat\": \"{}\", \"max_change\": {}, \"shift\": {}, \
             \"surge\": {}, \"control\": {}, \"base_ticks\": {}, \"deploys\": {}, \"rollbacks\": {}, \"delays\": {:?}{}}}",
            cell.metrics,
            cell.ticks,
            cell.noise.name(),
            if cell.noise == Noise::SpikyP95 { "p95" } else { "mean" },
            if cell.noise == Noise::SpikyP95 { 20 } else { 10 },
            cell.shift,
            cell.surge,
            cell.control,
            cell.base_ticks,
            cell.deploys,
            r.rollbacks,
            r.delays,
            old.as_ref().map_or(String::new(), |o| format!(
                ", \"before_rollbacks\": {}, \"before_delays\": {:?}",
                o.rollbacks, o.delays
            ))
        ));
    }
    if a.list || !a.only.is_empty() || a.surge_only || a.dependent {
        write_index(&a, &index);
        return;
    }
    println!(
        "\n## Shipped rule packs, unchanged deploys (30 ticks, {} deploys)\n",
        a.deploys
    );
    println!("| pack | rolled back | rate |");
    println!("|---|---:|---:|");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for pack in [
        "rules/http-service.yaml",
        "rules/http-service-probes.yaml",
        "rules/web-app.yaml",
    ] {
        let config = vz_monitor::ruletest::load_rule_files(
            &root.join("vz-monitor.yaml"),
            &[pack.into()],
            None,
        )
        .expect("pack");
        let n = run_pack(&config, 30, a.deploys, 77);
        println!(
            "| {pack} | {n} / {} | {:.3} |",
            a.deploys,
            n as f64 / a.deploys as f64
        );
        index.push(format!(
            "{{\"kind\": \"pack\", \"pack\": \"{pack}\", \"deploys\": {}, \"rollbacks\": {n}}}",
            a.deploys
        ));
    }
    write_index(&a, &index);
}

fn write_index(a: &Args, index: &[String]) {
    if let Some(d) = a.dump.as_ref().filter(|_| !a.list) {
        std::fs::write(
            d.join("cells.json"),
            format!("[\n{}\n]\n", index.join(",\n")),
        )
        .expect("index");
    }
}
