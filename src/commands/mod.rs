//! One function per subcommand; this module only dispatches and holds what they share.

mod analyze;
mod audit;
mod backtest;
mod baseline;
mod check;
mod completions;
mod health;
mod history;
mod hold;
mod init;
mod notify;
mod observers;
mod prune;
pub(crate) mod report;
mod rollback;
mod test;
mod watch;

pub use observers::observers;

use crate::cli::{Cli, Command, Global};
use crate::config::{self, Config};
use crate::error::{Error, Exit, Result};
use crate::model::Timestamp;
use crate::store::Store;
use std::path::{Path, PathBuf};

/// Runs the command the user asked for.
pub fn run(cli: Cli) -> Result<Exit> {
    let g = &cli.global;
    // Commands that act take the signals caught since `main` began; the others end as the
    // default action would.
    if !matches!(cli.command, Command::Watch(_) | Command::Rollback(_)) {
        crate::lifecycle::signals::release();
    }
    match cli.command {
        Command::Init(a) => init::run(&a),
        Command::Check(a) => check::run(g, &a),
        Command::Baseline(a) => block_on(baseline::run(g, &a)),
        Command::Watch(a) => block_on(watch::run(g, &a)),
        Command::Rollback(a) => block_on(rollback::run(g, &a)),
        Command::Analyze(a) => analyze::run(g, &a),
        Command::Test(a) => test::run(&a),
        Command::Backtest(a) => block_on(backtest::run(g, &a)),
        Command::History(a) => history::run(g, &a),
        Command::Report(a) => report::run(g, &a),
        Command::Health(a) => block_on(health::run(g, &a)),
        Command::Audit(c) => audit::run(g, &c),
        Command::Hold(a) => hold::run(g, hold::Kind::Hold, a.deployment.as_deref(), &a.reason),
        Command::Release(a) => {
            hold::run(g, hold::Kind::Release, a.deployment.as_deref(), &a.reason)
        }
        Command::Abort(a) => hold::run(g, hold::Kind::Abort, a.deployment.as_deref(), &a.reason),
        Command::Prune(a) => prune::run(g, &a),
        Command::Completions(a) => completions::run(&a),
        Command::Man(a) => completions::man(&a),
        Command::Notify(c) => notify::run(g, &c),
        Command::Serve(a) => crate::serve::run(g, &a),
    }
}

fn block_on<F: std::future::Future<Output = Result<Exit>>>(f: F) -> Result<Exit> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the async runtime", e))?;
    let result = rt.block_on(f);
    // Work left on the blocking pool (a gate still being built when a signal came) must not
    // hold the exit.
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    result
}

/// Loads the config named by `--config`, else `./vz-monitor.yaml`, else built-in defaults.
pub fn load_config(g: &Global) -> Result<Config> {
    let env = |name: &str| std::env::var(name).ok();
    Ok(config::load(g.config.as_deref(), &env)?)
}

/// Store location: `--db`, else `VZ_STORE_URL`, else `store.url` or `store.path` from
/// config, else `.vz-monitor/vz.db`. A `postgres://` location is a PostgreSQL server.
pub fn store_path(g: &Global, config: Option<&Config>) -> PathBuf {
    let env_url = std::env::var("VZ_STORE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .map(PathBuf::from);
    g.db.clone()
        .or(env_url)
        .or_else(|| config.and_then(|c| c.store_path.clone()))
        .unwrap_or_else(|| PathBuf::from(".vz-monitor/vz.db"))
}

/// Opens the store.
/// Opens the store, first recording what an earlier run spooled when the store failed it.
pub fn open_store(g: &Global, config: Option<&Config>) -> Result<Store> {
    let path = store_path(g, config);
    let mut store = Store::open(&path)?;
    crate::lifecycle::spool::replay(&mut store, &path);
    Ok(store)
}

/// Opens the store for a command that only reads it (`history`, `report`, `audit`): a
/// SQLite file that does not exist is "no store at X" (exit 2), never a new empty store
/// (and its folders) created by a read.
pub fn open_existing_store(g: &Global, config: Option<&Config>) -> Result<Store> {
    let path = store_path(g, config);
    if !crate::store::is_url(&path.to_string_lossy()) && !path.exists() {
        return Err(Error::Usage(format!(
            "no store at {}: nothing has been recorded there (watch, baseline and rollback \
             create it); give the store with --db, VZ_STORE_URL or store: in the config",
            path.display()
        )));
    }
    open_store(g, config)
}

/// Wall clock in ms. The only clock the commands read; pure code gets `now` passed in.
pub fn now_ms() -> Timestamp {
    chrono::Utc::now().timestamp_millis()
}

/// Prints a JSON value to stdout.
pub fn print_json<T: serde::Serialize>(v: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(v)
        .map_err(|e| Error::Input(format!("cannot encode JSON: {e}")))?;
    outln!("{text}");
    Ok(())
}

/// Prints a live run's summary (`watch`, `analyze`) in `format`, through the same
/// [`crate::report::Render`] that `report` uses for stored runs.
pub fn print_run(format: crate::cli::Format, summary: &crate::report::RunSummary) {
    let run = crate::report::RunReport::live(summary);
    out!("{}", crate::report::ReportFormat::from(format).render(&run));
}

/// Writes via a temporary file and a rename, so a reader never sees half a file.
pub fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("tmp~");
    std::fs::write(&tmp, text).map_err(|e| Error::io(format!("writing {}", tmp.display()), e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(format!("renaming to {}", path.display()), e))
}

/// Where a run's `VZ_ANOMALIES_FILE` lives: `runs/<run_id>.anomalies.json` beside the store
/// (under `.vz-monitor/` when the store is a PostgreSQL server).
pub fn anomalies_file(store_path: &Path, run_id: &str) -> PathBuf {
    let dir = if crate::store::is_url(&store_path.to_string_lossy()) {
        PathBuf::from(".vz-monitor")
    } else {
        store_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    };
    dir.join("runs").join(format!("{run_id}.anomalies.json"))
}

/// Writes the JSON the rollback command reads through `VZ_ANOMALIES_FILE`.
pub fn write_anomalies_file(file: &Path, body: &serde_json::Value) -> Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("creating runs folder", e))?;
    }
    write_atomically(file, &body.to_string())
}
