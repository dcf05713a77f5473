//! False-rollback rate, power and delay of the statistical rules, through the same `Gate`
//! as `watch` and `analyze` (issue 12). Deterministic seeds.
//!
//! ```sh
//! cargo bench --bench false_rollback                 # full form, ≈ minutes in release
//! cargo bench --bench false_rollback -- --deploys 100 --dump /tmp/vz-fr
//! cargo bench --bench false_rollback -- --surge      # only the surge-with-control cells
//! /tmp/vz-bench-venv/bin/python bench/bonferroni.py  # runs this and scipy side by side
//! ```
//!
//! `--dump DIR` writes every cell's values (`cellN.f32`: deploys × metrics × (60 + ticks)
//! little-endian f32) and `cells.json` (each cell and its results), which
//! bench/bonferroni.py replays through plain Bonferroni over a geometric schedule of looks.

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
}

fn args() -> Args {
    let mut a = Args {
        deploys: 300,
        dump: None,
        quick: false,
        surge_only: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--deploys" => a.deploys = it.next().and_then(|v| v.parse().ok()).unwrap_or(300),
            "--dump" => a.dump = it.next().map(PathBuf::from),
            "--quick" => a.quick = true,
            "--surge" => a.surge_only = true,
            _ => {} // cargo bench passes --bench
        }
    }
    a
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
                    deploys: a.deploys,
                    seed,
                },
            ));
        }
    }
    surge_cells(a, &mut out, 2000);
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
    println!("# vz-monitor false rollbacks (policy.alpha {ALPHA}, {} deploys a cell, binomial se {:.4})\n", a.deploys, se);
    println!("| kind | metrics | ticks | noise | shift | surge | rolled back | rate | within α + 2 se | median tick |");
    println!("|---|---:|---:|---|---:|---:|---:|---:|---|---:|");
    let mut index = Vec::new();
    for (id, (kind, cell)) in cells(&a).into_iter().enumerate() {
        // The scipy side (bench/bonferroni.py) compares with the baseline only: surge cells
        // are not dumped.
        let dumped = !kind.starts_with("surge");
        let mut file = a.dump.as_ref().filter(|_| dumped).map(|d| {
            std::io::BufWriter::new(
                std::fs::File::create(d.join(format!("cell{id}.f32"))).expect("dump"),
            )
        });
        let r = run_cell(&cell, |base, watch| {
            if let Some(f) = file.as_mut() {
                for (b, w) in base.iter().zip(watch) {
                    for v in b.iter().chain(w) {
                        f.write_all(&(*v as f32).to_le_bytes()).expect("dump");
                    }
                }
            }
        });
        drop(file);
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
        println!(
            "| {kind} | {} | {} | {} | {} | {} | {} / {} | {:.3} | {ok} | {} |",
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
        if !dumped {
            continue;
        }
        index.push(format!(
            "{{\"id\": {id}, \"kind\": \"{kind}\", \"metrics\": {}, \"ticks\": {}, \"noise\": \"{}\", \
             \"stat\": \"{}\", \"max_change\": {}, \"shift\": {}, \"deploys\": {}, \"rollbacks\": {}, \
             \"delays\": {:?}}}",
            cell.metrics,
            cell.ticks,
            cell.noise.name(),
            if cell.noise == Noise::SpikyP95 { "p95" } else { "mean" },
            if cell.noise == Noise::SpikyP95 { 20 } else { 10 },
            cell.shift,
            cell.deploys,
            r.rollbacks,
            r.delays
        ));
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
    if let Some(d) = &a.dump {
        std::fs::write(
            d.join("cells.json"),
            format!("[\n{}\n]\n", index.join(",\n")),
        )
        .expect("index");
    }
}
