//! Where a config comes from: an explicit file, `./vz-monitor.yaml`, or the built-in
//! defaults, loaded for live sampling or offline judging.

use super::{defaults, parse, parse_text, Config, ConfigError};
use std::path::{Path, PathBuf};

/// Default config file looked for in the working directory.
pub const DEFAULT_FILE: &str = "vz-monitor.yaml";

/// Loads the config: `explicit` must exist; otherwise `./vz-monitor.yaml` if present, else
/// the built-in defaults. `env` resolves `${VAR}`.
pub fn load(
    explicit: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None if Path::new(DEFAULT_FILE).exists() => PathBuf::from(DEFAULT_FILE),
        None => return parse_text(defaults::YAML, None, env),
    };
    let config = load_file(&path, env, Needs::Sources)?;
    for w in &config.warnings {
        errln!("warning: {w}");
    }
    Ok(config)
}

/// What a config is loaded for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Sampling live: a PromQL metric needs `source.prometheus`.
    Sources,
    /// Judging given values only (rule tests): nothing is queried, so no source is needed.
    Offline,
}

/// Loads a config file for offline use: the rules and metrics, no source required.
pub fn load_offline(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let config = load_file(path, env, Needs::Offline)?;
    for w in &config.warnings {
        errln!("warning: {w}");
    }
    Ok(config)
}

fn load_file(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    needs: Needs,
) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.display().to_string(),
        line: None,
        column: None,
        field: String::new(),
        message: format!("cannot read config: {e}"),
    })?;
    parse(&text, Some(path), env, needs)
}
