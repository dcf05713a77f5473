//! `audit verify` and `audit export`: the hash chain of the audit log.

use super::{open_existing_store, print_json, write_atomically};
use crate::audit::chain::{self, key_from_env};
use crate::audit::verify::{verify, ChainState};
use crate::cli::{AuditCommand, AuditExportArgs, AuditVerifyArgs, Format, Global};
use crate::error::{Error, Exit, Result};
use crate::store::Store;

/// Runs `audit verify` or `audit export`.
pub fn run(g: &Global, c: &AuditCommand) -> Result<Exit> {
    let config = super::load_config(g).ok();
    let mut store = open_existing_store(g, config.as_ref())?;
    match c {
        AuditCommand::Verify(a) => verify_cmd(&mut store, a),
        AuditCommand::Export(a) => export(&mut store, a),
    }
}

/// Exit 0 when intact, 1 naming the first broken entry, 2 when `VZ_AUDIT_KEY` is needed.
fn verify_cmd(store: &mut Store, a: &AuditVerifyArgs) -> Result<Exit> {
    let rows = chain::read_all(store)?;
    let key = key_from_env();
    let v = verify(&rows, key.as_deref());
    if let ChainState::NeedsKey { seq } = v.outcome {
        return Err(Error::Usage(format!(
            "audit entry {seq} is keyed with HMAC-SHA256: set VZ_AUDIT_KEY to the key it was written with to verify the chain"
        )));
    }
    if a.output == Format::Json {
        print_json(&v)?;
    } else {
        let range = match (v.first_seq, &v.head) {
            (Some(f), Some((h, _))) => format!(" (seq {f}..{h})"),
            _ => String::new(),
        };
        match &v.outcome {
            ChainState::Broken { seq, problem } => {
                outln!("audit log BROKEN at entry {seq}: {problem}");
                outln!(
                    "{} entries{range}; nothing from entry {seq} on can be trusted",
                    v.entries
                );
            }
            _ => {
                outln!("audit log intact: {} entries{range}", v.entries);
                if let Some(c) = &v.checkpoint {
                    outln!(
                        "  entries 1..{} were pruned; checkpoint entry {} accounts for them",
                        c.through_seq,
                        c.seq
                    );
                }
                if v.keyed > 0 {
                    outln!(
                        "  {} entries keyed with HMAC-SHA256 (VZ_AUDIT_KEY)",
                        v.keyed
                    );
                }
                if key.is_some() && v.unkeyed_prefix > 0 {
                    outln!(
                        "  {} older entries were written before keying began (plain SHA-256)",
                        v.unkeyed_prefix
                    );
                }
                if let Some((seq, hash)) = &v.head {
                    outln!("  head: entry {seq} {hash} (keep it to detect a truncated tail)");
                }
            }
        }
    }
    Ok(match v.outcome {
        ChainState::Intact => Exit::Healthy,
        _ => Exit::Unhealthy,
    })
}

/// Writes every entry as one JSON object per line, in `seq` order.
fn export(store: &mut Store, a: &AuditExportArgs) -> Result<Exit> {
    let rows = chain::read_all(store)?;
    let mut text = String::new();
    for r in &rows {
        let mut v = serde_json::to_value(&r.entry)
            .map_err(|e| Error::Input(format!("cannot encode JSON: {e}")))?;
        if let Some(bad) = &r.bad_details {
            v["details"] = serde_json::Value::String(bad.clone());
        }
        text.push_str(&v.to_string());
        text.push('\n');
    }
    match &a.out {
        Some(path) => {
            write_atomically(path, &text)?;
            errln!(
                "exported {} audit entries to {}",
                rows.len(),
                path.display()
            );
        }
        None => out!("{text}"),
    }
    Ok(Exit::Healthy)
}
