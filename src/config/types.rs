//! The validated configuration the rest of the program reads: never raw YAML.

use super::{Metric, MetricSpec, Policy, PrometheusConfig, Rule};
use crate::notify::NotifyConfig;
use std::path::PathBuf;
use std::time::Duration;

/// `rollback:` validated.
#[derive(Debug, Clone, PartialEq)]
pub struct RollbackConfig {
    pub enabled: bool,
    pub command: Vec<String>,
    pub timeout: Duration,
    /// Further attempts after a failed first one.
    pub retries: u32,
    /// `rollback.idempotent: true`: running the command twice is harmless, so a run may
    /// rerun it when the run that claimed it died mid-command (else: exit 4, a human acts).
    pub idempotent: bool,
}

/// The whole validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from; None for built-in defaults.
    pub path: Option<PathBuf>,
    pub deployment: String,
    pub interval: Duration,
    pub duration: Duration,
    /// `source.prometheus` (the same as `backends.prometheus`).
    pub prometheus: Option<PrometheusConfig>,
    /// Every backend's validated `source.<name>:` settings.
    pub backends: crate::backends::Settings,
    pub metrics: Vec<Metric>,
    pub rules: Vec<Rule>,
    pub rollback: RollbackConfig,
    pub policy: Policy,
    /// The validated `notify:` section.
    pub notify: Option<NotifyConfig>,
    pub store_path: Option<PathBuf>,
    pub retention: Duration,
    /// SHA-256 of every config text read, to tell runs made with different configs apart.
    pub digest: String,
    /// Things accepted but worth a line on stderr (e.g. skipped Prometheus recording rules).
    pub warnings: Vec<String>,
}

impl Metric {
    /// What the gate needs of this metric.
    pub fn spec(&self) -> MetricSpec {
        MetricSpec {
            name: self.name.clone(),
            on_missing: self.on_missing,
            consecutive_errors: self.consecutive_errors,
            control: self.control.is_some(),
            min_volume: self.min_volume.clone(),
        }
    }
}

impl Config {
    /// The metric specs the gate runs on.
    pub fn metric_specs(&self) -> Vec<MetricSpec> {
        self.metrics.iter().map(Metric::spec).collect()
    }

    /// The metric called `name`.
    pub fn metric(&self, name: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.name == name)
    }

    /// Where the config came from, for messages.
    pub fn origin(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => "built-in defaults".into(),
        }
    }
}
