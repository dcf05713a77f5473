//! `prune`: retention. Deletes old samples and audit entries and leaves a checkpoint entry
//! in the chain so `audit verify` starts from it instead of seeing a gap.

use super::{load_config, now_ms, open_store, print_json};
use crate::cli::{Format, Global, PruneArgs};
use crate::error::{Exit, Result};
use crate::report::ts;

/// Prunes everything older than `--older-than` (default `store.retention`).
pub fn run(g: &Global, a: &PruneArgs) -> Result<Exit> {
    let config = load_config(g)?;
    let age = a.older_than.unwrap_or(config.retention);
    let mut store = open_store(g, Some(&config))?;
    let now = now_ms();
    let cutoff = now - age.as_millis().min(i64::MAX as u128) as i64;
    let retention = humantime::format_duration(age).to_string();
    let p = crate::audit::prune(&mut store, cutoff, &retention, now)?;
    match a.output {
        Format::Json => print_json(&p)?,
        Format::Table => {
            outln!(
                "pruned {} samples and {} audit entries older than {} ({retention}); checkpoint entry {}{}",
                p.samples_deleted,
                p.entries_deleted,
                ts(cutoff),
                p.checkpoint_seq,
                p.through_seq
                    .map(|s| format!(" accounts for entries 1..{s}"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(Exit::Healthy)
}
