//! Baselines: per-series values captured before the deploy, newest per deployment.

use super::db::args;
use super::{Store, StoreError};
use crate::detect::stats::dependence::Lag1;
use crate::model::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A captured baseline: per-series values from before the deploy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineSet {
    /// The deployment it describes.
    pub deployment: String,
    /// When it was captured (ms).
    pub created_at: Timestamp,
    /// `probes (N samples every D)` or `prometheus (range 1h, step 30s)`.
    pub source: String,
    /// Digest of the config it was captured with.
    pub config_digest: String,
    /// Values in capture order; a tick without a value is NaN (JSON `null`).
    #[serde(deserialize_with = "nullable_series")]
    pub series: BTreeMap<String, Vec<f64>>,
    /// How consecutive ticks of each series depend on each other, from a lookback longer
    /// than the baseline (`--lookback`); the statistical rules judge with it where it has
    /// more lag pairs than the baseline's own ticks. Empty when none was read.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lookback: BTreeMap<String, Lag1>,
}

/// Reads `{series: [number | null]}`, null meaning "no value at that tick" (NaN).
fn nullable_series<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Vec<f64>>, D::Error> {
    let raw = BTreeMap::<String, Vec<Option<f64>>>::deserialize(d)?;
    Ok(raw
        .into_iter()
        .map(|(k, v)| (k, v.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect()))
        .collect())
}

/// Parses a stored baseline body (`{series: [number | null]}`).
fn parse_series(body: &str) -> Result<BTreeMap<String, Vec<f64>>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(body);
    nullable_series(&mut de)
}

impl Store {
    /// Stores a baseline; returns its id.
    pub fn save_baseline(&mut self, b: &BaselineSet) -> Result<i64, StoreError> {
        let body = serde_json::to_string(&b.series)?;
        let lookback = match b.lookback.is_empty() {
            true => None,
            false => Some(serde_json::to_string(&b.lookback)?),
        };
        let rows = self.db.query(
            "INSERT INTO baselines (deployment, created_at, source, config_digest, body, lookback) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
            args![&b.deployment, b.created_at, &b.source, &b.config_digest, body, lookback],
        )?;
        super::db::scalar(&rows)?.ok_or_else(|| StoreError::Column("no baseline id".into()))
    }

    /// The newest baseline of a deployment.
    pub fn latest_baseline(&self, deployment: &str) -> Result<Option<BaselineSet>, StoreError> {
        let rows = self.db.query(
            "SELECT created_at, source, config_digest, body, lookback FROM baselines WHERE deployment = ?1 ORDER BY created_at DESC, id DESC LIMIT 1",
            args![deployment],
        )?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        Ok(Some(BaselineSet {
            deployment: deployment.to_string(),
            created_at: r.int(0)?,
            source: r.text(1)?,
            config_digest: r.text(2)?,
            series: parse_series(&r.text(3)?)?,
            lookback: match r.opt_text(4)? {
                Some(l) => serde_json::from_str(&l)?,
                None => BTreeMap::new(),
            },
        }))
    }

    /// How many baselines are stored (all deployments).
    pub fn baseline_count(&self) -> Result<i64, StoreError> {
        let rows = self.db.query("SELECT COUNT(*) FROM baselines", args![])?;
        Ok(super::db::scalar(&rows)?.unwrap_or(0))
    }
}
