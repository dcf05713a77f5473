//! `hold`, `release`, `abort`: a person's override of a deployment's watches, recorded in
//! the audit log. A running watch notices within one tick (`audit::overrides`).

use super::{load_config, now_ms, open_store};
use crate::audit::{actor, overrides};
use crate::cli::Global;
use crate::error::{Error, Exit, Result};

/// Which override to place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Hold,
    Release,
    Abort,
}

/// Places a hold, release or abort for `deployment` (default: the config's).
pub fn run(g: &Global, kind: Kind, deployment: Option<&str>, reason: &str) -> Result<Exit> {
    let config = load_config(g)?;
    let deployment = deployment
        .map(str::to_string)
        .unwrap_or_else(|| config.deployment.clone());
    if reason.trim().is_empty() {
        return Err(Error::Usage("--reason must not be empty".into()));
    }
    let mut store = open_store(g, Some(&config))?;
    let who = actor();
    let was_held = overrides::active_hold(&store, &deployment)?.is_some();
    let name = match kind {
        Kind::Hold => "hold",
        Kind::Release => "release",
        Kind::Abort => "abort",
    };
    overrides::place(&mut store, name, &deployment, &who, reason, now_ms())?;
    let running = overrides::running_watches(&store, &deployment)?;
    match kind {
        Kind::Hold => outln!(
            "{deployment} on hold by {who}: {reason}. Running ({running}) and future watches detect and report but never roll back until `vz-monitor release`."
        ),
        Kind::Release if was_held => outln!(
            "hold on {deployment} released by {who}: automatic rollback allowed again."
        ),
        Kind::Release => outln!("{deployment} was not on hold; release recorded."),
        Kind::Abort if running > 0 => outln!(
            "abort requested for {deployment} by {who}: {running} running watch(es) roll back within one tick and exit 1."
        ),
        Kind::Abort => {
            outln!("abort recorded for {deployment} by {who}: {reason}.");
            errln!(
                "warning: no running watch of {deployment} found in this store (runs whose lease lapsed are abandoned, not counted); an abort applies only to watches already running"
            );
        }
    }
    Ok(Exit::Healthy)
}
