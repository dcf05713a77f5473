//! The command line (clap derive). Flags that matter in CI also read a `VZ_` variable.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

mod ops;
pub use ops::*;

/// Deployment gate for CI/CD: baseline before, watch after, roll back when unhealthy.
#[derive(Debug, Parser)]
#[command(name = "vz-monitor", version, about, long_about = None, after_help = TOP_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// The exit codes of a watch (DESIGN.md), under `--help` and `watch --help`.
macro_rules! exit_codes {
    () => {
        "Exit codes: 0 healthy, 1 rolled back (or would have), 2 usage/config error, \
3 inconclusive, 4 rollback failed (a human must act), 130 interrupted"
    };
}

const TOP_HELP: &str = concat!(
    "Examples:
  vz-monitor init                         # a commented vz-monitor.yaml and rules/ to start from
  vz-monitor check                        # validate config and rules
  vz-monitor baseline                     # before the deploy: record what normal looks like
  vz-monitor watch --duration 5m          # after it: watch, decide, roll back if unhealthy
  vz-monitor report latest --output html > report.html

",
    exit_codes!()
);

const WATCH_HELP: &str = concat!(
    "Examples:
  vz-monitor watch                                   # window and interval from the config
  vz-monitor watch --duration 5m --interval 15s
  vz-monitor watch --baseline baseline.json --dry-run
  VZ_DRY_RUN=1 vz-monitor watch -o json > run.json

",
    exit_codes!()
);

const BASELINE_HELP: &str = "Examples:
  vz-monitor baseline                          # probes: --samples readings; PromQL: --window
  vz-monitor baseline --window 2h --out baseline.json
  vz-monitor baseline --samples 60 --interval 5s";

const ROLLBACK_HELP: &str = "Examples:
  vz-monitor rollback --reason \"error rate after deploy\"
  vz-monitor rollback --deployment checkout --reason \"manual: bad release\" -o json

Exit codes: 0 the rollback ran and succeeded, 2 usage/config error, 4 it failed (a human must \
act), 130 interrupted";

const REPORT_HELP: &str = "Examples:
  vz-monitor report latest
  vz-monitor report latest --deployment checkout --output markdown
  vz-monitor report 3f2a9c1e --output junit > vz-junit.xml
  vz-monitor report latest --output html > report.html";

const HISTORY_HELP: &str = "Examples:
  vz-monitor history
  vz-monitor history --deployment checkout --verdict rollback --since 7d
  vz-monitor history -o json --limit 5";

const CHECK_HELP: &str = "Examples:
  vz-monitor check
  vz-monitor check --online            # also run each query and probe once
  vz-monitor --config staging.yaml check -o json";

const ANALYZE_HELP: &str = "Examples:
  vz-monitor analyze --baseline before.csv --current after.csv
  vz-monitor analyze --baseline before.csv --current after.csv -o table";

/// A boolean flag's `VZ_` variable: 1/0, true/false, yes/no, on/off. An error names the
/// variable (clap's names only the flag, and `VZ_DRY_RUN=0` was refused as "invalid value
/// '0' for '--dry-run'").
fn env_flag(var: &'static str) -> impl Fn(&str) -> Result<bool, String> + Clone + Send + Sync {
    move |s| match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(format!(
            "{var} (or the flag) must be 1, true, yes or on to set it, 0, false, no or off to \
             leave it unset"
        )),
    }
}

/// Options every command takes.
#[derive(Debug, Args, Clone)]
pub struct Global {
    /// Config file [default: ./vz-monitor.yaml, else built-in defaults]
    #[arg(long, short, global = true, env = "VZ_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Store: a SQLite file or a postgres:// URL [default: VZ_STORE_URL, else store.url or store.path from config, else .vz-monitor/vz.db]
    #[arg(long, global = true, env = "VZ_DB", value_name = "FILE")]
    pub db: Option<PathBuf>,
}

/// Output format of a command (`-o`/`--output` is always a format; files are `--out FILE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// A table for people
    #[default]
    Table,
    /// JSON for scripts
    Json,
}

impl From<Format> for crate::report::ReportFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Table => crate::report::ReportFormat::Table,
            Format::Json => crate::report::ReportFormat::Json,
        }
    }
}

/// A verdict a run can be stored with (`history --verdict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerdictFilter {
    /// The window passed
    Healthy,
    /// The policy said roll back (`watch`)
    Rollback,
    /// Too much data missing to decide
    Inconclusive,
    /// A manual `rollback` that succeeded
    RolledBack,
    /// A manual `rollback` whose command failed
    RollbackFailed,
}

impl From<VerdictFilter> for crate::report::RunVerdict {
    fn from(v: VerdictFilter) -> Self {
        use crate::report::RunVerdict;
        match v {
            VerdictFilter::Healthy => RunVerdict::Healthy,
            VerdictFilter::Rollback => RunVerdict::Rollback,
            VerdictFilter::Inconclusive => RunVerdict::Inconclusive,
            VerdictFilter::RolledBack => RunVerdict::RolledBack,
            VerdictFilter::RollbackFailed => RunVerdict::RollbackFailed,
        }
    }
}

/// The subcommands (DESIGN.md "Commands").
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented vz-monitor.yaml and a rules folder to start from
    Init(InitArgs),
    /// Validate config and rules without touching anything
    #[command(after_help = CHECK_HELP)]
    Check(CheckArgs),
    /// Capture the pre-deploy distribution of every metric
    #[command(after_help = BASELINE_HELP)]
    Baseline(BaselineArgs),
    /// Watch the window after a deploy: detect, decide, roll back
    #[command(after_help = WATCH_HELP)]
    Watch(WatchArgs),
    /// Run the configured rollback now, recorded like an automatic one
    #[command(after_help = ROLLBACK_HELP)]
    Rollback(RollbackArgs),
    /// Replay baseline and current series from CSV/JSON files through the same rules and policy
    #[command(after_help = ANALYZE_HELP)]
    Analyze(AnalyzeArgs),
    /// Run rule unit tests (input series, expected anomalies and decision), like promtool test rules
    Test(TestArgs),
    /// Replay the gate over many past windows of the service's own history: the false-rollback rate it would have had and the smallest shift it can catch per metric
    Backtest(BacktestArgs),
    /// Past runs
    #[command(after_help = HISTORY_HELP)]
    History(HistoryArgs),
    /// One stored run as a table, JSON, Markdown (PR comment), JUnit XML or an HTML page with charts
    #[command(after_help = REPORT_HELP)]
    Report(ReportArgs),
    /// Sample every metric once and print a table; exit 1 if any fails (pipeline smoke test)
    Health(HealthArgs),
    /// The audit log: verify its hash chain, export it
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Put a deployment's running or future watches on hold: detect and report, never roll back
    Hold(HoldArgs),
    /// Lift a hold: automatic rollback is allowed again
    Release(ReleaseArgs),
    /// Make a running watch of a deployment roll back now and exit 1
    Abort(AbortArgs),
    /// Apply retention: delete old samples and audit entries, leaving a signed checkpoint
    Prune(PruneArgs),
    /// Print the shell completion script for SHELL (also committed under completions/)
    Completions(CompletionsArgs),
    /// Print the man page (roff) of vz-monitor or of one subcommand, generated from this command line
    Man(ManArgs),
    /// Notifications: send a test message through a channel, list past attempts
    #[command(subcommand)]
    Notify(NotifyCommand),
    /// A read-only web dashboard over the store: runs, live watches, charts, alerts, audit, health
    Serve(ServeArgs),
}

/// `serve`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; any address but loopback needs a token (--token-env)
    #[arg(
        long,
        env = "VZ_SERVE_LISTEN",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    pub listen: String,
    /// Environment variable holding the bearer token clients must send (never printed)
    #[arg(long, default_value = "VZ_SERVE_TOKEN", value_name = "VAR")]
    pub token_env: String,
    /// Runs per deployment that the change-failure rate and time to rollback cover
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub window: usize,
    /// How often the live page reads the store
    #[arg(long, value_parser = parse_duration, default_value = "500ms")]
    pub poll: Duration,
}

/// A duration flag or `VZ_` variable: `500ms`, `30s`, `15m`, `1h`, `7d`, or bare seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    crate::config::dur::parse_duration(s)
}

/// A watch window: a duration above 0 and at most 24h.
fn parse_watch_duration(s: &str) -> Result<Duration, String> {
    crate::config::dur::parse_watch_duration(s)
}

/// `init`
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Folder to write into
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Overwrite existing files
    #[arg(long)]
    pub force: bool,
}

/// `check`
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Also run each PromQL query and probe once
    #[arg(long)]
    pub online: bool,
    /// Output format
    #[arg(long, short, value_enum, default_value_t, env = "VZ_OUTPUT")]
    pub output: Format,
}

/// `baseline`
#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// Deployment name [default: from config]
    #[arg(long, env = "VZ_DEPLOYMENT")]
    pub deployment: Option<String>,
    /// Probe readings to take per metric
    #[arg(long, default_value_t = 10, env = "VZ_BASELINE_SAMPLES")]
    pub samples: u32,
    /// Time between probe readings [default: config interval]
    #[arg(long, value_parser = parse_duration, env = "VZ_INTERVAL")]
    pub interval: Option<Duration>,
    /// Prometheus metrics: range before now to take (e.g. 1h)
    #[arg(long, value_parser = parse_duration, default_value = "1h", env = "VZ_BASELINE_WINDOW")]
    pub window: Duration,
    /// Metrics with a history (Prometheus): how far back, ending now, to estimate how
    /// consecutive ticks depend on each other, at the watch interval, in hour-long stretches
    /// (0 reads none: the baseline's own ticks only)
    #[arg(long, value_parser = parse_duration, default_value = "6h", env = "VZ_BASELINE_LOOKBACK")]
    pub lookback: Duration,
    /// Output format: `table` or `json` (a FILE here still works, as `--out FILE`)
    #[arg(
        long,
        short,
        default_value = "table",
        env = "VZ_OUTPUT",
        value_name = "table|json"
    )]
    pub output: String,
    /// Also write the baseline to this JSON file (what `watch --baseline` reads)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `watch`
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Deployment name [default: from config]
    #[arg(long, env = "VZ_DEPLOYMENT")]
    pub deployment: Option<String>,
    /// The deploy being watched (a commit SHA, a deploy id): every watch and manual rollback
    /// of one revision shares one rollback [default: GITHUB_SHA of this workflow run]
    #[arg(long, env = "VZ_REVISION")]
    pub revision: Option<String>,
    /// Length of the watched window, at most 24h (e.g. 15m; a bare number is seconds)
    /// [default: config duration]
    #[arg(long, value_parser = parse_watch_duration, env = "VZ_DURATION")]
    pub duration: Option<Duration>,
    /// Time between ticks [default: config interval]
    #[arg(long, value_parser = parse_duration, env = "VZ_INTERVAL")]
    pub interval: Option<Duration>,
    /// Baseline JSON file (from `baseline --out FILE`) [default: latest stored for the deployment]
    #[arg(long, env = "VZ_BASELINE", value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Evaluate and report, never run the rollback
    #[arg(long, env = "VZ_DRY_RUN", value_parser = env_flag("VZ_DRY_RUN"))]
    pub dry_run: bool,
    /// Detect and report only (same as rollback.enabled: false)
    #[arg(long, env = "VZ_NO_ROLLBACK", value_parser = env_flag("VZ_NO_ROLLBACK"))]
    pub no_rollback: bool,
    /// Serve live Prometheus metrics at http://ADDR/metrics while the watch runs
    #[arg(long, env = "VZ_LISTEN", value_name = "ADDR", value_parser = parse_listen)]
    pub listen: Option<String>,
    #[command(flatten)]
    pub export: ExportArgs,
    /// Output format
    #[arg(long, short, value_enum, default_value_t, env = "VZ_OUTPUT")]
    pub output: Format,
}

/// `rollback`
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Why (stored, passed as VZ_REASON)
    #[arg(long, required = true)]
    pub reason: String,
    #[command(flatten)]
    pub export: ExportArgs,
    /// Deployment to roll back [default: from config]
    #[arg(long, env = "VZ_DEPLOYMENT")]
    pub deployment: Option<String>,
    /// The deploy being rolled back (a commit SHA, a deploy id): every watch and manual
    /// rollback of one revision shares one rollback [default: GITHUB_SHA of this workflow run]
    #[arg(long, env = "VZ_REVISION")]
    pub revision: Option<String>,
    /// Output format
    #[arg(long, short, value_enum, default_value_t, env = "VZ_OUTPUT")]
    pub output: Format,
}

/// `test`
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Rule test files (YAML)
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format
    #[arg(long, short, value_enum, default_value_t, env = "VZ_OUTPUT")]
    pub output: Format,
}

/// `analyze`
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Pre-deploy series: CSV (timestamp,<metric>,…) or JSON
    #[arg(long, value_name = "FILE", required_unless_present = "control")]
    pub baseline: Option<PathBuf>,
    /// Post-deploy series to replay tick by tick
    #[arg(long, value_name = "FILE")]
    pub current: PathBuf,
    /// The control (stable version) over the same ticks, same shape as --current: baseline
    /// rules of its metrics compare the canary with it
    #[arg(long, value_name = "FILE")]
    pub control: Option<PathBuf>,
    /// Output format
    #[arg(long, short, value_enum, default_value_t = Format::Json, env = "VZ_OUTPUT")]
    pub output: Format,
}

/// `backtest`
#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// How far back the history goes (e.g. 7d)
    #[arg(long, value_parser = parse_duration, default_value = "7d")]
    pub since: Duration,
    /// Distance between two windows (e.g. 1h: one window ending at each hour)
    #[arg(long, value_parser = parse_duration, default_value = "1h")]
    pub every: Duration,
    /// At most this many windows, the most recent [default: every window that fits]
    #[arg(long)]
    pub windows: Option<usize>,
    /// The baseline of each window: this long a stretch of history just before it
    #[arg(long, value_parser = parse_duration, default_value = "1h")]
    pub baseline_window: Duration,
    /// Length of each replayed watch [default: config duration]
    #[arg(long, value_parser = parse_watch_duration)]
    pub duration: Option<Duration>,
    /// Time between points of the history [default: config interval]
    #[arg(long, value_parser = parse_duration)]
    pub interval: Option<Duration>,
    /// End of the history: RFC 3339, `YYYY-MM-DD HH:MM:SS` (UTC) or Unix seconds [default: now]
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    pub until: Option<i64>,
    /// Read the history from this CSV/JSON file (as `analyze` reads its files) instead of the
    /// metric backends
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Quiet windows the shifts are injected into for the minimum detectable effect (0: no
    /// minimum detectable effect)
    #[arg(long, default_value_t = 40, value_name = "N")]
    pub mde_windows: usize,
    /// Output format: `markdown` for a GitHub step summary, `html` for a page with a chart
    /// per metric
    #[arg(long, short, value_enum, default_value_t, env = "VZ_OUTPUT")]
    pub output: BacktestFormat,
}

/// Output format of `backtest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum BacktestFormat {
    /// Tables for people
    #[default]
    Table,
    /// JSON for scripts
    Json,
    /// For `$GITHUB_STEP_SUMMARY` or a pull-request comment
    Markdown,
    /// One self-contained page with a chart per metric
    Html,
}

/// A point in time: RFC 3339, `YYYY-MM-DD HH:MM:SS` (UTC) or Unix seconds; Unix ms out.
fn parse_time(s: &str) -> Result<i64, String> {
    crate::offline::parse_timestamp(s)
        .ok_or_else(|| format!("`{s}` is not RFC 3339, `YYYY-MM-DD HH:MM:SS` or Unix seconds"))
}

/// `history`
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only runs of this deployment [default: every deployment]
    #[arg(long, env = "VZ_DEPLOYMENT")]
    pub deployment: Option<String>,
    /// Only runs with this verdict
    #[arg(long, value_enum)]
    pub verdict: Option<VerdictFilter>,
    /// Only runs started within this long ago (e.g. 7d)
    #[arg(long, value_parser = parse_duration)]
    pub since: Option<Duration>,
    /// At most this many runs, newest first
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Output format
    #[arg(long, short, value_enum, default_value_t, env = "VZ_OUTPUT")]
    pub output: Format,
}

/// Where a run's results go besides stdout: Prometheus Pushgateway and Grafana annotations.
#[derive(Debug, Args, Clone, Default)]
pub struct ExportArgs {
    /// Push the run's result metrics to this Prometheus Pushgateway at the end
    #[arg(long, env = "VZ_PUSHGATEWAY", value_name = "URL", value_parser = parse_http_url)]
    pub pushgateway: Option<String>,
    /// Post start/rollback/end annotations to this Grafana (token from VZ_GRAFANA_TOKEN)
    #[arg(long, env = "VZ_GRAFANA_URL", value_name = "URL", value_parser = parse_http_url)]
    pub grafana_url: Option<String>,
}

fn parse_http_url(s: &str) -> Result<String, String> {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
        .ok_or_else(|| format!("`{s}` is not an http:// or https:// URL"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("`{s}` has no host"));
    }
    Ok(s.trim_end_matches('/').to_string())
}

fn parse_listen(s: &str) -> Result<String, String> {
    s.parse::<std::net::SocketAddr>()
        .map(|_| s.to_string())
        .map_err(|_| format!("`{s}` is not an address like 127.0.0.1:9464"))
}

/// `man`
#[derive(Debug, Args)]
pub struct ManArgs {
    /// A subcommand (e.g. watch) for its own page vz-monitor-SUBCOMMAND(1)
    pub subcommand: Option<String>,
}

/// `completions`
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, powershell or elvish
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Format of `report` (the formats and their renderers live in `report`).
pub use crate::report::ReportFormat;

/// `report`
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run id, a unique prefix of one, or `latest`
    pub run_id: String,
    /// With `latest`: the newest run of this deployment
    #[arg(long, env = "VZ_DEPLOYMENT")]
    pub deployment: Option<String>,
    /// Output format: table, json, markdown (PR comment), junit (GitLab, Jenkins) or html (one
    /// self-contained page with a chart per judged series; redirect it to a file)
    // `-f`/`--format`, the older spellings, stay accepted (hidden) so scripts keep working.
    #[arg(
        long = "output",
        short = 'o',
        alias = "format",
        short_alias = 'f',
        value_enum,
        default_value_t,
        env = "VZ_REPORT_FORMAT"
    )]
    pub format: ReportFormat,
}

/// `health`
#[derive(Debug, Args)]
pub struct HealthArgs {
    /// Output format
    #[arg(long, short, value_enum, default_value_t, env = "VZ_OUTPUT")]
    pub output: Format,
}
