//! `history`: past runs, newest first, with filters.

use super::{now_ms, open_existing_store, print_json};
use crate::cli::{Format, Global, HistoryArgs};
use crate::error::{Exit, Result};
use crate::report::{
    table::{fit, new_table},
    ts,
};
use crate::store::RunFilter;

/// Lists runs from the store.
pub fn run(g: &Global, a: &HistoryArgs) -> Result<Exit> {
    let config = super::load_config(g).ok();
    let store = open_existing_store(g, config.as_ref())?;
    let filter = RunFilter {
        deployment: a.deployment.clone(),
        verdict: a.verdict.map(Into::into),
        since: a.since.map(|d| now_ms() - d.as_millis() as i64),
        limit: a.limit,
    };
    let runs = store.runs(&filter)?;
    match a.output {
        Format::Json => print_json(&runs)?,
        Format::Table => {
            let mut t = new_table(&[
                "run",
                "deployment",
                "kind",
                "started",
                "took",
                "verdict",
                "exit",
                "anomalies",
                "rolled back",
                "reason",
            ]);
            for r in &runs {
                let took = r
                    .head
                    .ended_at
                    .map(|e| {
                        humantime::format_duration(std::time::Duration::from_secs(
                            ((e - r.head.started_at).max(0) / 1000) as u64,
                        ))
                        .to_string()
                    })
                    .unwrap_or_else(|| "-".into());
                t.add_row(vec![
                    r.head.id.chars().take(8).collect::<String>(),
                    r.head.deployment.clone(),
                    r.head.kind.clone(),
                    ts(r.head.started_at),
                    took,
                    r.head
                        .verdict
                        .map_or(r.head.status.as_str(), |v| v.as_str())
                        .to_string(),
                    r.head
                        .exit_code
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "-".into()),
                    r.anomalies.to_string(),
                    if r.rolled_back {
                        "yes".into()
                    } else {
                        "no".into()
                    },
                    r.head.reason.clone().unwrap_or_default(),
                ]);
            }
            fit(&mut t);
            outln!("{t}");
        }
    }
    Ok(Exit::Healthy)
}
