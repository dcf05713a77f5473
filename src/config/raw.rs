//! The YAML shape users write (`vz-monitor.yaml` and included rule files). Keys are part of
//! the contract; unknown keys are errors. Validated into [`super::Config`] before any I/O.

use super::dur;
use crate::detect::DetectorSpec;
use crate::model::Severity;
use crate::sources::prometheus::alerting::alert::{AlertSpec, PreExisting};
use crate::sources::ProbeSpec;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;
pub use vz_core::spec::{OnEmpty, OnMissing};

/// Top level of `vz-monitor.yaml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub deployment: Option<String>,
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub interval: Option<Duration>,
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub duration: Option<Duration>,
    /// Each backend's shared settings (`source.prometheus`, …): one list in `backends!`.
    pub source: Option<crate::backends::RawSources>,
    #[serde(default)]
    pub metrics: BTreeMap<String, RawMetric>,
    #[serde(default)]
    pub rules: Vec<RawRule>,
    #[serde(default)]
    pub include: Vec<String>,
    pub rollback: Option<RawRollback>,
    /// Notification channels and routes (validated by `notify::settings`).
    pub notify: Option<serde_yaml::Value>,
    pub store: Option<RawStore>,
    /// How included Prometheus alerting rules treat series already firing before the watch.
    pub alerting: Option<RawAlerting>,
}

/// `alerting:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlerting {
    #[serde(default)]
    pub pre_existing: PreExisting,
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub lookback: Option<Duration>,
    /// Prometheus's `global.external_labels`, for `$externalLabels` in alert templates.
    pub external_labels: Option<BTreeMap<String, String>>,
    /// Prometheus's `--web.external-url`, for `$externalURL` in alert templates.
    pub external_url: Option<String>,
}

/// An included rule file: our own format (`metrics`, `rules`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRuleFile {
    #[serde(default)]
    pub metrics: BTreeMap<String, RawMetric>,
    #[serde(default)]
    pub rules: Vec<RawRule>,
}

/// `source.prometheus:` (each backend's `source.<name>:` lives in its own file).
pub use crate::backends::prometheus::RawPrometheus;

/// `metrics.<name>:`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetric {
    pub query: Option<String>,
    #[serde(default, with = "serde_yaml::with::singleton_map")]
    pub probe: Option<ProbeSpec>,
    /// A query on another backend (`backend: { web: … }`).
    #[serde(default, with = "serde_yaml::with::singleton_map")]
    pub backend: Option<crate::backends::BackendQuery>,
    #[serde(default)]
    pub on_missing: OnMissing,
    #[serde(default)]
    pub on_empty: OnEmpty,
    pub consecutive_errors: Option<u32>,
    #[serde(default)]
    pub per_series: bool,
    /// The stable version of the same metric, over the same ticks (a query or a probe).
    pub control: Option<RawControl>,
    /// The request volume a tick needs for this metric's reading to count.
    pub min_volume: Option<vz_core::spec::MinVolume>,
    pub description: Option<String>,
    /// Set for the metric of a Prometheus alert (never written by users).
    #[serde(skip)]
    pub alert: Option<std::sync::Arc<AlertSpec>>,
}

/// `metrics.<name>.control:` as written: the stable version's query or probe.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawControl {
    pub query: Option<String>,
    #[serde(default, with = "serde_yaml::with::singleton_map")]
    pub probe: Option<ProbeSpec>,
    #[serde(default, with = "serde_yaml::with::singleton_map")]
    pub backend: Option<crate::backends::BackendQuery>,
}

/// `rules[i]:`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub name: String,
    /// Optional (empty) for `isolation_forest` (its `metrics`) and `composite` rules.
    #[serde(default)]
    pub metric: String,
    #[serde(with = "serde_yaml::with::singleton_map")]
    pub detector: DetectorSpec,
    #[serde(rename = "for", default, deserialize_with = "dur::opt_duration")]
    pub for_: Option<Duration>,
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub window: Option<Duration>,
    pub kind: Option<String>,
    pub severity: Option<Severity>,
    pub failure_limit: Option<u32>,
    pub consecutive_failures: Option<u32>,
    #[serde(default)]
    pub dry_run: bool,
    pub description: Option<String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// `rollback:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRollback {
    pub enabled: Option<bool>,
    #[serde(default, deserialize_with = "argv")]
    pub command: Vec<String>,
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub timeout: Option<Duration>,
    pub retries: Option<u32>,
    pub idempotent: Option<bool>,
    pub policy: Option<RawPolicy>,
}

/// A command as an argument list. A string is refused with the list it probably meant:
/// serde's "invalid type: string, expected a sequence" did not say that the command runs
/// without a shell, one argument per item.
fn argv<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct Argv;
    impl<'de> serde::de::Visitor<'de> for Argv {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of arguments, e.g. [\"kubectl\", \"rollout\", \"undo\", \"deployment/my-service\"]")
        }

        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
            let items: Vec<String> = s.split_whitespace().map(|w| format!("{w:?}")).collect();
            Err(E::custom(format!(
                "must be a list, one argument per item (it runs without a shell): \
                 command: [{}]",
                items.join(", ")
            )))
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(arg) = seq.next_element::<String>()? {
                out.push(arg);
            }
            Ok(out)
        }
    }
    d.deserialize_any(Argv)
}

/// `rollback.policy:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    pub critical: Option<u32>,
    pub high: Option<u32>,
    pub medium: Option<u32>,
    pub low: Option<u32>,
    pub error_rate: Option<RawErrorRate>,
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub max_downtime: Option<Duration>,
    #[serde(default, deserialize_with = "dur::opt_percent")]
    pub max_missing: Option<f64>,
    pub on_inconclusive: Option<super::OnInconclusive>,
    /// Whole-watch false-rollback bound of the statistical rules (default 0.01).
    pub alpha: Option<f64>,
}

/// `rollback.policy.error_rate:`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawErrorRate {
    pub metric: String,
    pub above: f64,
}

/// `store:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    pub path: Option<String>,
    /// `postgres://…`: a shared PostgreSQL store instead of the SQLite file.
    pub url: Option<String>,
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub retention: Option<Duration>,
}
