//! `health`: every metric sampled once, as a table; exit 1 if any fails. A pipeline smoke
//! test that the probes and queries a watch relies on answer at all.

use super::{load_config, print_json};
use crate::cli::{Format, Global, HealthArgs};
use crate::error::{Exit, Result};
use crate::model::{fmt_num, Reading};
use crate::report::table::{fit, new_table};
use crate::sampler::Sampler;
use serde::Serialize;

/// One metric's (or series') reading.
#[derive(Debug, Serialize)]
struct Row {
    series: String,
    ok: bool,
    status: String,
    value: Option<f64>,
    detail: String,
}

/// Samples every metric once; exit 0 if all answered with a number, 1 otherwise.
pub async fn run(g: &Global, a: &HealthArgs) -> Result<Exit> {
    let config = load_config(g)?;
    let sampler = Sampler::new(&config);
    let rows: Vec<Row> = sampler
        .take()
        .await
        .into_iter()
        .map(|s| {
            let (ok, status, value, detail) = match s.reading {
                Reading::Value(v) if v.is_finite() => (true, "ok", Some(v), String::new()),
                Reading::Value(v) => (false, "error", None, format!("value is {v}")),
                Reading::Down(d) => (false, "down", None, d),
                Reading::Missing(d) => (false, "missing", None, d),
            };
            Row {
                series: s.series,
                ok,
                status: status.into(),
                value,
                detail,
            }
        })
        .collect();
    let failed = rows.iter().filter(|r| !r.ok).count();
    match a.output {
        Format::Json => print_json(&rows)?,
        Format::Table => {
            let mut t = new_table(&["metric", "status", "value / detail"]);
            for r in &rows {
                let shown = match r.value {
                    Some(v) => fmt_num(v),
                    None => r.detail.clone(),
                };
                t.add_row(vec![r.series.clone(), r.status.clone(), shown]);
            }
            fit(&mut t);
            outln!("{t}");
            outln!(
                "{} of {} metrics answered ({}){}",
                rows.len() - failed,
                rows.len(),
                config.origin(),
                if failed > 0 {
                    format!("; {failed} failed")
                } else {
                    String::new()
                }
            );
        }
    }
    Ok(if failed > 0 {
        Exit::Unhealthy
    } else {
        Exit::Healthy
    })
}
