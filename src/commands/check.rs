//! `check`: validates config and rules; nothing is run (`--online` runs each query and probe
//! once and says per metric: ok, empty, error — with the server's message — or down).

use super::{load_config, print_json};
use crate::backends::Answer;
use crate::cli::{CheckArgs, Format, Global};
use crate::config::{Config, MetricSource, OnEmpty};
use crate::error::{Exit, Result};
use crate::model::{fmt_num, Reading};
use crate::report::table::{fit, new_table};
use crate::sampler::Sampler;
use crate::sources::Shared;
use futures::future::join_all;
use serde::Serialize;

#[derive(Serialize)]
struct CheckReport {
    config: String,
    deployment: String,
    metrics: usize,
    rules: usize,
    rollback_enabled: bool,
    /// Rules that can never fire within the watch (their `for` is longer than `duration`),
    /// and why this gate may never roll back (no rules, or none that reaches the policy).
    warnings: Vec<String>,
    online: Vec<OnlineResult>,
    /// `--online`: per metric, the smallest shift a watch catches with 80 % power, from the
    /// current baseline (the last hour).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    min_detectable_effect: Vec<crate::backtest::mde::Mde>,
}

#[derive(Serialize)]
struct OnlineResult {
    metric: String,
    /// `ok`, `empty` (the query matched no series), `error` (with the server's message) or
    /// `down` (a probe's target answered badly).
    status: String,
    detail: String,
    /// Whether this result makes `check --online` exit non-zero: an empty result is fine
    /// for an `on_empty: zero` metric.
    #[serde(skip)]
    failed: bool,
}

/// Runs every query and probe once, concurrently. Backend metrics are asked directly (one
/// shared client per backend) so an empty answer is told apart from an error.
async fn online(config: &Config) -> Vec<OnlineResult> {
    let shared = Shared::new(&config.backends);
    let asked = join_all(config.metrics.iter().filter_map(|m| {
        let backend = m.source.backend()?.connect(&m.info(), &shared.backends);
        Some(async move {
            match backend {
                Ok(b) => (m, b.check().await),
                Err(e) => (m, Err(e)),
            }
        })
    }));
    let probes = Sampler::of(config, |m| matches!(m.source, MetricSource::Probe(_)));
    let (asked, probed) = futures::join!(asked, probes.take());

    let mut out = Vec::new();
    for (m, answer) in asked {
        out.push(match answer {
            Ok(Answer::Values(values)) => {
                let detail = values
                    .iter()
                    .map(|(s, v)| match values.len() {
                        1 => fmt_num(*v),
                        _ => format!("{s} = {}", fmt_num(*v)),
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                if values.iter().all(|(_, v)| v.is_finite()) {
                    result(&m.name, "ok", detail, false)
                } else {
                    result(
                        &m.name,
                        "error",
                        format!("not a finite number: {detail}"),
                        true,
                    )
                }
            }
            Ok(Answer::Empty) => match m.on_empty {
                OnEmpty::Zero => result(
                    &m.name,
                    "empty",
                    "no series (on_empty: zero: counts as 0)",
                    false,
                ),
                OnEmpty::Missing => result(
                    &m.name,
                    "empty",
                    "no series: a missing sample each tick (on_empty: zero if that means 0)",
                    true,
                ),
            },
            Err(e) => result(&m.name, "error", e, true),
        });
    }
    for s in probed {
        let (status, detail) = match &s.reading {
            Reading::Value(v) => ("ok", fmt_num(*v)),
            Reading::Down(d) => ("down", d.clone()),
            Reading::Missing(d) => ("error", d.clone()),
        };
        out.push(result(&s.series, status, detail, status != "ok"));
    }
    // Config order, so the table reads like the file.
    let order = |name: &str| config.metrics.iter().position(|m| m.name == name);
    out.sort_by_key(|r| order(&r.metric));
    out
}

fn result(metric: &str, status: &str, detail: impl Into<String>, failed: bool) -> OnlineResult {
    OnlineResult {
        metric: metric.to_string(),
        status: status.to_string(),
        detail: detail.into(),
        failed,
    }
}

/// One line per rule whose `for` is longer than the watch: it can never fire.
fn for_too_long(config: &Config) -> Vec<String> {
    config
        .rules
        .iter()
        .filter(|r| r.for_ > config.duration)
        .map(|r| {
            format!(
                "{}: rule `{}`: `for: {}` is longer than the watch ({}): it can never fire; \
                 shorten its `for` or lengthen `duration`",
                r.origin,
                r.name,
                humantime::format_duration(r.for_),
                humantime::format_duration(config.duration)
            )
        })
        .collect()
}

/// One line per statistical rule judged against a probe baseline: `baseline --samples`
/// (default 10) is too short to show how much consecutive ticks depend on each other, so the
/// rule takes them as independent (issue 19) — say what that costs and the fix.
fn short_probe_baselines(config: &Config) -> Vec<String> {
    use crate::detect::against::Against;
    use crate::detect::baseline::DependenceMode;
    use crate::detect::stats::dependence::MIN_PAIRS;
    use crate::detect::DetectorSpec;
    config
        .rules
        .iter()
        .filter(|r| match &r.detector {
            DetectorSpec::Baseline(p) => {
                p.compare == Against::Baseline && p.dependence == DependenceMode::Auto
            }
            _ => false,
        })
        .filter(|r| {
            config
                .metric(&r.metric)
                .is_some_and(|m| matches!(m.source, MetricSource::Probe(_)))
        })
        .map(|r| {
            format!(
                "{}: rule `{}` compares probe metric `{}` with a probe baseline: the default \
                 `baseline --samples 10` is too short to show how much consecutive ticks \
                 depend on each other (at least {} samples are needed), so the rule takes the \
                 ticks as independent and its false-rollback bound holds only if they are; \
                 capture `baseline --samples 60`, or give the metric a `control:`",
                r.origin,
                r.name,
                r.metric,
                MIN_PAIRS + 1
            )
        })
        .collect()
}

/// A warning when the rollback command's program is not installed (not on `PATH`, or no
/// executable at the path given): the watch would find a bad deploy and then fail to roll
/// it back (exit 4). `check` passed such a config before (issue 25.7).
fn rollback_program(config: &Config, path: Option<&std::ffi::OsStr>) -> Option<String> {
    let program = config.rollback.command.first()?;
    if !config.rollback.enabled || program_exists(program, path) {
        return None;
    }
    let where_ = if program.contains('/') {
        format!("there is no executable file at `{program}`")
    } else {
        format!("`{program}` is not on PATH")
    };
    Some(format!(
        "{}: rollback.command: {where_}: a rollback would fail (exit 4); install it, or give \
         its full path",
        config.origin()
    ))
}

/// Whether `program` names an executable file: a path as it stands, else one in `path`
/// (the `PATH` list), as the rollback will look it up.
fn program_exists(program: &str, path: Option<&std::ffi::OsStr>) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &std::path::Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        return executable(std::path::Path::new(program));
    }
    path.is_some_and(|path| std::env::split_paths(path).any(|dir| executable(&dir.join(program))))
}

/// The config with each metric's `control:` as one more metric, `<name> (control)`, so
/// `--online` runs the stable version's query or probe too.
fn with_controls(config: &Config) -> Config {
    let mut out = config.clone();
    out.metrics.extend(config.metrics.iter().filter_map(|m| {
        Some(crate::config::Metric {
            name: format!("{} (control)", m.name),
            source: m.control.clone()?,
            control: None,
            alert: None,
            ..m.clone()
        })
    }));
    out
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
        warnings: Vec::new(),
        online: Vec::new(),
        min_detectable_effect: Vec::new(),
    };
    // The config's own warnings were printed as it loaded; the report carries them too.
    let mut warnings = config.warnings.clone();
    let printed = warnings.len();
    warnings.extend(for_too_long(&config));
    warnings.extend(policy_warnings(&config));
    warnings.extend(short_probe_baselines(&config));
    let missing_program = rollback_program(&config, std::env::var_os("PATH").as_deref());
    warnings.extend(missing_program.clone());
    // `--online` checks this machine: a rollback that cannot run fails it.
    let mut failed = a.online && missing_program.is_some();
    if a.online {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| crate::error::Error::io("starting the async runtime", e))?;
        report.online = rt.block_on(online(&with_controls(&config)));
        failed |= report.online.iter().any(|r| r.failed);
        if !failed && config.metrics.iter().any(|m| m.source.backend().is_some()) {
            match rt.block_on(super::backtest::current_mde(&config)) {
                Ok(m) => report.min_detectable_effect = m,
                // Not a problem of the config: a new service has no hour of history yet.
                Err(e) => errln!("note: no minimum detectable effect: {e}"),
            }
        }
    }
    for w in &warnings[printed..] {
        errln!("warning: {w}");
    }
    report.warnings = warnings;
    match a.output {
        Format::Json => print_json(&report)?,
        Format::Table => {
            outln!(
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
                    let checked = with_controls(&config);
                    let src = match checked.metric(&r.metric) {
                        Some(m) => m.source.describe(),
                        None => "-".into(),
                    };
                    t.add_row(vec![
                        r.metric.clone(),
                        src,
                        r.status.clone(),
                        r.detail.clone(),
                    ]);
                }
                fit(&mut t);
                outln!("{t}");
                for m in &report.min_detectable_effect {
                    outln!("{}", super::backtest::mde_line(m));
                }
            }
        }
    }
    Ok(if failed {
        Exit::Inconclusive
    } else {
        Exit::Healthy
    })
}

/// Whether the configured rules can ever make the policy roll back, as warnings: a gate
/// with no rules, or whose rules fire at severities the policy ignores or in numbers below
/// its limits, passes every deploy. Each rule counts once per severity (a `per_series`
/// metric may fire once per series, so it counts as unbounded); the error-rate trigger and
/// `max_downtime` on an HTTP/TCP probe can roll back on their own.
fn policy_warnings(config: &Config) -> Vec<String> {
    use crate::model::Severity;
    use crate::sources::ProbeSpec;
    if config.rules.is_empty() {
        return vec![format!(
            "{}: `rules` is empty: nothing is judged and every watch passes",
            config.origin()
        )];
    }
    let policy = &config.policy;
    if policy.error_rate.is_some() {
        return Vec::new();
    }
    let can_be_down = config.metrics.iter().any(|m| {
        matches!(
            m.source,
            MetricSource::Probe(ProbeSpec::Http(_) | ProbeSpec::Tcp(_))
        )
    });
    if can_be_down && !policy.max_downtime.is_zero() {
        return Vec::new();
    }
    let mut counts = [0u32; 5];
    for r in config.rules.iter().filter(|r| !r.dry_run) {
        let unbounded = config.metric(&r.metric).is_some_and(|m| m.per_series);
        let i = Severity::ALL
            .iter()
            .position(|s| *s == r.severity)
            .unwrap_or(4);
        counts[i] = if unbounded {
            u32::MAX
        } else {
            counts[i].saturating_add(1)
        };
    }
    let reachable = Severity::ALL.iter().zip(counts).any(|(s, n)| {
        let limit = policy.limit(*s);
        limit > 0 && n >= limit
    });
    if reachable {
        return Vec::new();
    }
    let have: Vec<String> = Severity::ALL
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        // A per-series rule (an alert) gives one anomaly per label set: no fixed count.
        .map(|(s, n)| match n {
            u32::MAX => format!("any number of {s} (one per alert series)"),
            n => format!("{n} {s}"),
        })
        .collect();
    let wants: Vec<String> = Severity::ALL
        .iter()
        .filter(|s| policy.limit(**s) > 0)
        .map(|s| format!("{} at {}", s, policy.limit(*s)))
        .collect();
    vec![format!(
        "{}: no combination of the rules can reach the rollback policy: the rules give {} \
         (dry-run rules excluded) and the policy rolls back on {}; this gate can never fail \
         (raise a rule's severity or lower rollback.policy)",
        config.origin(),
        if have.is_empty() {
            "none".into()
        } else {
            have.join(", ")
        },
        if wants.is_empty() {
            "nothing".into()
        } else {
            wants.join(" or ")
        }
    )]
}
