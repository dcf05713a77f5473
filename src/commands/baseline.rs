//! `baseline`: captures what "normal" looks like before the deploy, and stores it.

use super::{load_config, now_ms, open_store, print_json};
use crate::cli::{BaselineArgs, Global};
use crate::detect::Baseline;
use crate::error::{Error, Exit, Result};
use crate::model::{fmt_num, Reading};
use crate::report::table::new_table;
use crate::sampler::Sampler;
use crate::store::BaselineSet;
use std::collections::BTreeMap;
use std::path::Path;

/// Takes `--samples` probe readings `--interval` apart, stores them, optionally writes JSON.
pub async fn run(g: &Global, a: &BaselineArgs) -> Result<Exit> {
    let config = load_config(g)?;
    if a.samples == 0 {
        return Err(Error::Usage("--samples must be at least 1".into()));
    }
    let (format_json, file) = match a.output.as_str() {
        "table" => (false, None),
        "json" => (true, None),
        path => (false, Some(Path::new(path))),
    };
    let deployment = a
        .deployment
        .clone()
        .unwrap_or_else(|| config.deployment.clone());
    let interval = a.interval.unwrap_or(config.interval);
    let mut store = open_store(g, Some(&config))?;
    let sampler = Sampler::new(&config);

    let mut series: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut failures: BTreeMap<String, (u32, String)> = BTreeMap::new();
    let start = tokio::time::Instant::now();
    for i in 0..a.samples {
        if i > 0 {
            tokio::time::sleep_until(start + interval * i).await;
        }
        for s in sampler.take().await {
            match s.reading {
                Reading::Value(v) if v.is_finite() => series.entry(s.series).or_default().push(v),
                Reading::Value(v) => note(&mut failures, s.series, format!("value is {v}")),
                Reading::Down(d) | Reading::Missing(d) => note(&mut failures, s.series, d),
            }
        }
        eprintln!("baseline: sample {}/{} taken", i + 1, a.samples);
    }

    let set = BaselineSet {
        deployment: deployment.clone(),
        created_at: now_ms(),
        source: format!(
            "probes ({} samples every {})",
            a.samples,
            humantime::format_duration(interval)
        ),
        config_digest: config.digest.clone(),
        series,
    };
    let id = store.save_baseline(&set)?;
    if let Some(path) = file {
        let text = serde_json::to_string_pretty(&set).map_err(|e| Error::Input(e.to_string()))?;
        write_atomically(path, &text)?;
    }

    for (series, (n, why)) in &failures {
        eprintln!(
            "warning: {series}: {n} of {} samples failed (last: {why})",
            a.samples
        );
    }
    if format_json {
        print_json(&set)?;
    } else {
        let mut t = new_table(&["series", "n", "mean", "p50", "p95", "min", "max", "failed"]);
        for m in &config.metrics {
            let values = set.series.get(&m.name);
            let failed = failures.get(&m.name).map(|f| f.0).unwrap_or(0).to_string();
            match values.and_then(|v| Baseline::from_values(v)) {
                Some(b) => t.add_row(vec![
                    m.name.clone(),
                    b.sorted.len().to_string(),
                    fmt_num(b.mean),
                    fmt_num(b.quantile(0.5)),
                    fmt_num(b.quantile(0.95)),
                    fmt_num(b.sorted[0]),
                    fmt_num(*b.sorted.last().unwrap_or(&f64::NAN)),
                    failed,
                ]),
                None => t.add_row(vec![
                    m.name.clone(),
                    "0".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    failed,
                ]),
            };
        }
        println!("{t}");
        println!(
            "baseline #{id} stored for deployment {deployment}{}",
            file.map(|f| format!(", written to {}", f.display()))
                .unwrap_or_default()
        );
    }
    Ok(Exit::Healthy)
}

fn note(failures: &mut BTreeMap<String, (u32, String)>, series: String, why: String) {
    let e = failures.entry(series).or_insert((0, String::new()));
    e.0 += 1;
    e.1 = why;
}

/// Writes via a temporary file and a rename, so a reader never sees half a file.
pub fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("tmp~");
    std::fs::write(&tmp, text).map_err(|e| Error::io(format!("writing {}", tmp.display()), e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(format!("renaming to {}", path.display()), e))
}
