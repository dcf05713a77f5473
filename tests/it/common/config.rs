//! The one way a test writes the config it runs (issue 25: seventeen test files each had
//! their own `format!` of the same YAML skeleton). A test states only what its case is
//! about; the skeleton — deployment, tick grid, sections in order, the rollback block — is
//! written here.
//!
//! ```ignore
//! GateConfig::new("200ms", "3s")
//!     .probe("error_rate", &p.series("error_rate", &["1", "9"]))
//!     .rule(r#"{ name: high-error-rate, metric: error_rate, detector: { threshold: { op: ">", value: 5 } }, kind: HIGH_ERROR_RATE }"#)
//!     .rollback(r#"["true"]"#)
//!     .policy("critical: 1")
//!     .write(&p);
//! ```
//!
//! For a command that reads little of the config (`hold`, `audit`, `health`, `check`,
//! `notify test`), [`GateConfig::bare`] writes the deployment line and only what is added.

use super::Project;

/// The rule most watches gate on: error rate above 5 is `HIGH_ERROR_RATE` (default severity).
pub const HIGH_ERROR_RATE: &str = r#"{ name: high-error-rate, metric: error_rate, detector: { threshold: { op: ">", value: 5 } }, kind: HIGH_ERROR_RATE }"#;

/// A `vz-monitor.yaml` under construction.
#[derive(Debug, Clone)]
pub struct GateConfig {
    deployment: String,
    /// `interval` and `duration`; `None` for [`GateConfig::bare`].
    timing: Option<(String, String)>,
    sections: Vec<String>,
    metrics: Vec<String>,
    rules: Vec<String>,
    rollback: Vec<String>,
    policy: Vec<String>,
    tail: Vec<String>,
}

impl GateConfig {
    /// Deployment `web`, a tick every `interval` for `duration`, no rules, rollback disabled
    /// until [`GateConfig::rollback`] names a command.
    pub fn new(interval: &str, duration: &str) -> GateConfig {
        GateConfig {
            deployment: "web".into(),
            timing: Some((interval.into(), duration.into())),
            sections: Vec::new(),
            metrics: Vec::new(),
            rules: Vec::new(),
            rollback: Vec::new(),
            policy: Vec::new(),
            tail: Vec::new(),
        }
    }

    /// Deployment `web` and nothing else until added: no tick grid (the defaults apply), and
    /// no `metrics:` or `rollback:` key unless a metric or a rollback is added.
    pub fn bare() -> GateConfig {
        GateConfig {
            timing: None,
            ..GateConfig::new("", "")
        }
    }

    pub fn deployment(mut self, name: &str) -> GateConfig {
        self.deployment = name.into();
        self
    }

    /// A top-level section written before `metrics:` (`source:`, `store:` …), as YAML text.
    pub fn section(mut self, yaml: &str) -> GateConfig {
        if !yaml.trim().is_empty() {
            self.sections.push(yaml.trim_end().into());
        }
        self
    }

    /// `metrics.NAME: YAML`, where YAML is a flow mapping on one line.
    pub fn metric(mut self, name: &str, yaml: &str) -> GateConfig {
        self.metrics.push(format!("  {name}: {yaml}"));
        self
    }

    /// Metric entries already written as block YAML (indented two spaces under `metrics:`).
    pub fn metrics_yaml(mut self, yaml: &str) -> GateConfig {
        if !yaml.trim().is_empty() {
            self.metrics.push(yaml.trim_end().into());
        }
        self
    }

    /// A command-probe metric: `argv` is a YAML sequence (e.g. from `Project::series`).
    pub fn probe(self, name: &str, argv: &str) -> GateConfig {
        self.metric(name, &format!("{{ probe: {{ command: {argv} }} }}"))
    }

    /// One rule, a flow mapping (`{ name: …, metric: …, detector: … }`).
    pub fn rule(mut self, yaml: &str) -> GateConfig {
        self.rules.push(format!("  - {yaml}"));
        self
    }

    /// Rules already written as block YAML (`  - name: …` lines).
    pub fn rules_yaml(mut self, yaml: &str) -> GateConfig {
        if !yaml.trim().is_empty() {
            self.rules.push(yaml.trim_end().into());
        }
        self
    }

    /// The rollback command (a YAML sequence), with any further `rollback:` fields as
    /// `key: value` lines (`timeout: 10s`).
    pub fn rollback(mut self, command: &str) -> GateConfig {
        self.rollback.insert(0, format!("  command: {command}"));
        self
    }

    /// One more `rollback:` field (`timeout: 10s`, `retries: 0`).
    pub fn rollback_field(mut self, line: &str) -> GateConfig {
        self.rollback.push(format!("  {line}"));
        self
    }

    /// Entries of `rollback.policy` (`critical: 1`, `max_missing: "20%"`), comma-joined.
    pub fn policy(mut self, entries: &str) -> GateConfig {
        let e = entries.trim().trim_start_matches(',').trim();
        if !e.is_empty() {
            self.policy.push(e.into());
        }
        self
    }

    /// Top-level YAML written after `rollback:` (`notify:` …).
    pub fn tail(mut self, yaml: &str) -> GateConfig {
        if !yaml.trim().is_empty() {
            self.tail.push(yaml.trim_end().into());
        }
        self
    }

    /// The YAML text.
    pub fn yaml(&self) -> String {
        let mut out = format!("deployment: {}\n", self.deployment);
        if let Some((interval, duration)) = &self.timing {
            out.push_str(&format!("interval: {interval}\nduration: {duration}\n"));
        }
        for s in &self.sections {
            out.push_str(s);
            out.push('\n');
        }
        let bare = self.timing.is_none();
        if !(bare && self.metrics.is_empty()) {
            out.push_str("metrics:\n");
        }
        for m in &self.metrics {
            out.push_str(m);
            out.push('\n');
        }
        if !self.rules.is_empty() {
            out.push_str("rules:\n");
            for r in &self.rules {
                out.push_str(r);
                out.push('\n');
            }
        }
        if self.rollback.is_empty() && self.policy.is_empty() {
            if !bare {
                out.push_str("rollback: { enabled: false }\n");
            }
        } else {
            out.push_str("rollback:\n");
            if self.rollback.is_empty() {
                out.push_str("  enabled: false\n");
            }
            for l in &self.rollback {
                out.push_str(l);
                out.push('\n');
            }
            if !self.policy.is_empty() {
                out.push_str(&format!("  policy: {{ {} }}\n", self.policy.join(", ")));
            }
        }
        for t in &self.tail {
            out.push_str(t);
            out.push('\n');
        }
        out
    }

    /// Writes `vz-monitor.yaml` in `p` and returns its text.
    pub fn write(&self, p: &Project) -> String {
        let text = self.yaml();
        p.write("vz-monitor.yaml", &text);
        text
    }
}
