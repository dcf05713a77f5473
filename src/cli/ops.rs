//! Arguments of the operator commands: audit, hold/release/abort, prune, notify.

use super::{parse_duration, Format};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

/// `audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; exit 1 naming the first broken entry (2 if VZ_AUDIT_KEY is needed)
    Verify(AuditVerifyArgs),
    /// Write every entry as JSON lines
    Export(AuditExportArgs),
}

/// `audit verify`
#[derive(Debug, Args)]
pub struct AuditVerifyArgs {
    /// Output format
    #[arg(long, short, value_enum, default_value_t, env = "VZ_OUTPUT")]
    pub output: Format,
}

/// `audit export`
#[derive(Debug, Args)]
pub struct AuditExportArgs {
    /// File to write [default: stdout] (`--output` is accepted as an older spelling)
    #[arg(long = "out", alias = "output", value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `hold`
#[derive(Debug, Args)]
pub struct HoldArgs {
    /// Deployment [default: from config]
    #[arg(long, env = "VZ_DEPLOYMENT")]
    pub deployment: Option<String>,
    /// Why (recorded in the audit log)
    #[arg(long, default_value = "manual hold")]
    pub reason: String,
}

/// `release`
#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// Deployment [default: from config]
    #[arg(long, env = "VZ_DEPLOYMENT")]
    pub deployment: Option<String>,
    /// Why (recorded in the audit log)
    #[arg(long, default_value = "manual release")]
    pub reason: String,
}

/// `abort`
#[derive(Debug, Args)]
pub struct AbortArgs {
    /// Deployment [default: from config]
    #[arg(long, env = "VZ_DEPLOYMENT")]
    pub deployment: Option<String>,
    /// Why (recorded, passed to the rollback as VZ_REASON)
    #[arg(long, required = true)]
    pub reason: String,
}

/// `prune`
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Delete what is older than this (e.g. 30d; a bare number is seconds)
    /// [default: store.retention, 30d]
    #[arg(long, value_parser = parse_duration)]
    pub older_than: Option<Duration>,
    /// Output format
    #[arg(long, short, value_enum, default_value_t, env = "VZ_OUTPUT")]
    pub output: Format,
}

/// `notify`
#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Send a test message through one channel of notify.channels; exit 1 if it fails
    Test(NotifyTestArgs),
    /// Past notification attempts and their outcomes, newest first
    History(NotifyHistoryArgs),
}

/// `notify test`
#[derive(Debug, Args)]
pub struct NotifyTestArgs {
    /// Channel name (a key of notify.channels)
    pub channel: String,
    /// Deployment named in the message [default: from config]
    #[arg(long, env = "VZ_DEPLOYMENT")]
    pub deployment: Option<String>,
    /// Output format
    #[arg(long, short, value_enum, default_value_t, env = "VZ_OUTPUT")]
    pub output: Format,
}

/// `notify history`
#[derive(Debug, Args)]
pub struct NotifyHistoryArgs {
    /// Only this run (an id or its prefix)
    #[arg(long)]
    pub run: Option<String>,
    /// Only this deployment
    #[arg(long, env = "VZ_DEPLOYMENT")]
    pub deployment: Option<String>,
    /// At most this many attempts
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Output format
    #[arg(long, short, value_enum, default_value_t, env = "VZ_OUTPUT")]
    pub output: Format,
}
