//! Plain data shared by every stage of the gate: readings, severities, anomalies, verdicts.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Milliseconds since the Unix epoch. Pure code never reads the clock; callers pass `now` in.
pub type Timestamp = i64;

/// Severity of an anomaly, most severe first (so `Critical < High` in `Ord`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl Severity {
    /// All severities, most severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// The lowercase name used in config and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    /// Parses a lowercase severity name.
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many anomalies fired, per severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct SeverityCounts([u32; 5]);

impl SeverityCounts {
    /// Counts of `[critical, high, medium, low, info]`.
    pub const fn of(counts: [u32; 5]) -> SeverityCounts {
        SeverityCounts(counts)
    }

    fn index(s: Severity) -> usize {
        Severity::ALL.iter().position(|v| *v == s).unwrap_or(4)
    }

    /// Counts one more anomaly of `severity`.
    pub fn add(&mut self, severity: Severity) {
        self.0[Self::index(severity)] += 1;
    }

    /// How many of `severity` fired.
    pub fn get(&self, severity: Severity) -> u32 {
        self.0[Self::index(severity)]
    }
}

/// The anomaly kinds DESIGN.md names, with their default severities. Rules may use other
/// upper-case kinds (Prometheus alert names, for instance); those default to `high`.
pub const KNOWN_KINDS: [(&str, Severity); 6] = [
    ("HIGH_ERROR_RATE", Severity::Critical),
    ("HIGH_LATENCY", Severity::High),
    ("MEMORY_LEAK", Severity::High),
    ("CPU_SPIKE", Severity::Medium),
    ("SERVICE_DOWN", Severity::Critical),
    ("DISK_FULL", Severity::High),
];

/// Default severity of an anomaly kind.
pub fn default_severity(kind: &str) -> Severity {
    KNOWN_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, s)| *s)
        .unwrap_or(Severity::High)
}

/// One sample of one metric at one tick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", content = "detail", rename_all = "lowercase")]
pub enum Reading {
    /// A measured number.
    Value(f64),
    /// The target was probed and answered badly or not at all: a measurement of "down".
    Down(String),
    /// We could not measure (source error, garbage, timeout): never "bad", never "fine".
    Missing(String),
}

impl Reading {
    /// The number, if this reading has one.
    pub fn value(&self) -> Option<f64> {
        match self {
            Reading::Value(v) => Some(*v),
            _ => None,
        }
    }

    /// Short status word for tables and the store.
    pub fn status(&self) -> &'static str {
        match self {
            Reading::Value(_) => "ok",
            Reading::Down(_) => "down",
            Reading::Missing(_) => "missing",
        }
    }
}

/// Direction of change a detector cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Increase,
    Decrease,
    #[default]
    Either,
}

impl Direction {
    /// Whether a signed change (current − expected) points the way this direction watches.
    pub fn admits(self, delta: f64) -> bool {
        match self {
            Direction::Increase => delta > 0.0,
            Direction::Decrease => delta < 0.0,
            Direction::Either => delta != 0.0,
        }
    }
}

/// What "normal" was, as shown next to an observed value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Expected {
    /// A fixed bound, e.g. `> 5`.
    Bound { op: String, value: f64 },
    /// An accepted range `[low, high]`.
    Range { low: f64, high: f64 },
    /// A single expected value (a baseline statistic).
    Value { value: f64 },
    /// The control's statistic over the same ticks, with its 95 % interval (`None` on a side
    /// the control's values cannot bound yet).
    Control {
        value: f64,
        low: Option<f64>,
        high: Option<f64>,
    },
    /// Nothing to compare against (e.g. `down`).
    #[default]
    None,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::Bound { op, value } => write!(f, "{op} {}", fmt_num(*value)),
            Expected::Range { low, high } => write!(f, "[{}, {}]", fmt_num(*low), fmt_num(*high)),
            Expected::Value { value } => write!(f, "{}", fmt_num(*value)),
            Expected::Control { value, low, high } => {
                let side = |v: &Option<f64>| v.map_or("?".to_string(), fmt_num);
                write!(
                    f,
                    "control {} (95% CI {} to {})",
                    fmt_num(*value),
                    side(low),
                    side(high)
                )
            }
            Expected::None => f.write_str("-"),
        }
    }
}

/// Formats a number compactly for humans: up to 4 significant decimals, no trailing zeros.
pub fn fmt_num(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let s = if v.abs() >= 1000.0 {
        format!("{v:.1}")
    } else if v.abs() >= 1.0 {
        format!("{v:.3}")
    } else {
        format!("{v:.4}")
    };
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

/// A rule that fired: what, where, how bad, and why — everything an alert or report shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    pub rule: String,
    pub metric: String,
    /// The series judged: the metric name, or `metric{label="…"}` for per-series queries.
    pub series: String,
    pub kind: String,
    pub severity: Severity,
    pub detector: String,
    pub observed: f64,
    pub expected: Expected,
    pub statistic: String,
    pub score: Option<f64>,
    pub p_value: Option<f64>,
    pub reason: String,
    pub fired_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    /// A dry-run rule's anomaly is reported but never counts toward the decision.
    pub dry_run: bool,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub annotations: std::collections::BTreeMap<String, String>,
}

/// One sample of one series, as a tick hands it to the gate.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub metric: String,
    pub series: String,
    pub reading: Reading,
    /// A reading of the metric's `control:` (the stable version over the same tick), not of
    /// the canary: the gate keeps it beside the series and never judges it by itself.
    pub control: bool,
}

impl Sample {
    /// A sample of a single-series metric.
    pub fn new(metric: &str, reading: Reading) -> Sample {
        Sample {
            metric: metric.to_string(),
            series: metric.to_string(),
            reading,
            control: false,
        }
    }

    /// A sample of a metric's control.
    pub fn of_control(metric: &str, reading: Reading) -> Sample {
        Sample {
            control: true,
            ..Sample::new(metric, reading)
        }
    }
}
