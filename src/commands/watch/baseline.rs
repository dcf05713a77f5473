//! Where a watch's baseline comes from: `--baseline FILE` or the latest one stored for the
//! deployment. Named in the summary line, with a warning when it belongs to another
//! deployment or is old.

use crate::config::Config;
use crate::detect::stats::dependence::Lag1;
use crate::error::{Error, Result};
use crate::model::Timestamp;
use crate::store::{BaselineSet, Store};
use std::collections::HashMap;
use std::path::Path;

/// A baseline older than this earns a warning: it may no longer be "normal".
const STALE_AFTER_MS: Timestamp = 7 * 24 * 3600 * 1000;

/// The baseline rows of a watch and a line saying which baseline they are.
pub struct Resolved {
    pub rows: HashMap<String, Vec<f64>>,
    /// Per series, the dependence between ticks over the baseline's lookback.
    pub lookback: HashMap<String, Lag1>,
    /// e.g. `baseline.json (deployment web, 2h old, 3 series, 30 samples)`, or `none`.
    pub described: String,
}

/// Loads the baseline from `file` or the store; warns on a deployment mismatch or staleness.
pub fn resolve(
    config: &Config,
    file: Option<&Path>,
    store: &Store,
    now: Timestamp,
) -> Result<Resolved> {
    let (set, origin) = match file {
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .map_err(|e| Error::io(format!("reading baseline {}", f.display()), e))?;
            let set: BaselineSet = serde_json::from_str(&text).map_err(|e| {
                Error::Input(format!(
                    "{}:{}:{}: not a baseline JSON file: {e}",
                    f.display(),
                    e.line(),
                    e.column()
                ))
            })?;
            (Some(set), f.display().to_string())
        }
        None => (
            store.latest_baseline(&config.deployment)?,
            "the store".to_string(),
        ),
    };
    let Some(set) = set else {
        return Ok(Resolved {
            rows: HashMap::new(),
            lookback: HashMap::new(),
            described: format!("none in {origin} for deployment {}", config.deployment),
        });
    };
    if set.deployment != config.deployment {
        errln!(
            "warning: baseline {origin} was recorded for deployment `{}`, not `{}`",
            set.deployment,
            config.deployment
        );
    }
    let age = now - set.created_at;
    if age > STALE_AFTER_MS {
        errln!(
            "warning: baseline {origin} is {} old: re-run `vz-monitor baseline` before the deploy",
            age_text(age)
        );
    }
    let samples: usize = set
        .series
        .values()
        .map(|v| v.iter().filter(|x| x.is_finite()).count())
        .sum();
    let described = format!(
        "{origin} (deployment {}, {} old, {} series, {samples} samples)",
        set.deployment,
        age_text(age),
        set.series.len()
    );
    Ok(Resolved {
        rows: set.series.into_iter().collect(),
        lookback: set.lookback.into_iter().collect(),
        described,
    })
}

fn age_text(ms: Timestamp) -> String {
    let secs = (ms.max(0) / 1000) as u64;
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}
