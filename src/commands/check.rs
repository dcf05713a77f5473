//! `check`: validates config and rules; nothing is run (`--online` samples each metric once).

use super::{load_config, print_json};
use crate::cli::{CheckArgs, Format, Global};
use crate::config::MetricSource;
use crate::error::{Exit, Result};
use crate::model::Reading;
use crate::report::table::new_table;
use crate::sampler::Sampler;
use serde::Serialize;

#[derive(Serialize)]
struct CheckReport {
    config: String,
    deployment: String,
    metrics: usize,
    rules: usize,
    rollback_enabled: bool,
    online: Vec<OnlineResult>,
}

#[derive(Serialize)]
struct OnlineResult {
    metric: String,
    status: String,
    detail: String,
}

/// Validates the config; with `--online` also samples every metric once.
pub fn run(g: &Global, a: &CheckArgs) -> Result<Exit> {
    let config = load_config(g)?;
    let mut report = CheckReport {
        config: config.origin(),
        deployment: config.deployment.clone(),
        metrics: config.metrics.len(),
        rules: config.rules.len(),
        rollback_enabled: config.rollback.enabled,
        online: Vec::new(),
    };
    let mut failed = false;
    if a.online {
        let sampler = Sampler::new(&config);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| crate::error::Error::io("starting the async runtime", e))?;
        let samples = rt.block_on(sampler.take());
        for s in samples {
            let (status, detail) = match &s.reading {
                Reading::Value(v) => ("ok", crate::model::fmt_num(*v)),
                Reading::Down(d) => ("down", d.clone()),
                Reading::Missing(d) if d.contains("empty") => ("empty", d.clone()),
                Reading::Missing(d) => ("error", d.clone()),
            };
            failed |= status != "ok";
            report.online.push(OnlineResult {
                metric: s.series,
                status: status.into(),
                detail,
            });
        }
    }
    match a.output {
        Format::Json => print_json(&report)?,
        Format::Table => {
            println!(
                "ok: {} — deployment {}, {} metric(s), {} rule(s), rollback {}",
                report.config,
                report.deployment,
                report.metrics,
                report.rules,
                if report.rollback_enabled {
                    "enabled"
                } else {
                    "disabled (detect and report only)"
                }
            );
            if a.online {
                let mut t = new_table(&["metric", "source", "status", "detail"]);
                for r in &report.online {
                    let src = match config.metric(&r.metric).map(|m| &m.source) {
                        Some(MetricSource::Query(q)) => q.clone(),
                        Some(MetricSource::Probe(_)) => "probe".into(),
                        None => "-".into(),
                    };
                    t.add_row(vec![
                        r.metric.clone(),
                        src,
                        r.status.clone(),
                        r.detail.clone(),
                    ]);
                }
                println!("{t}");
            }
        }
    }
    Ok(if failed {
        Exit::Inconclusive
    } else {
        Exit::Healthy
    })
}
