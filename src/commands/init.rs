//! `init`: writes a commented config and a rules folder that pass `check` as they stand.

use crate::cli::InitArgs;
use crate::config::defaults::{INIT_CONFIG, INIT_RULES};
use crate::error::{Error, Exit, Result};

/// Writes `vz-monitor.yaml` and `rules/local.yaml` into `--dir`, refusing to overwrite.
pub fn run(a: &InitArgs) -> Result<Exit> {
    let config = a.dir.join(crate::config::DEFAULT_FILE);
    let rules = a.dir.join("rules").join("local.yaml");
    for p in [&config, &rules] {
        if p.exists() && !a.force {
            return Err(Error::Usage(format!(
                "{} already exists (use --force to overwrite)",
                p.display()
            )));
        }
    }
    std::fs::create_dir_all(a.dir.join("rules"))
        .map_err(|e| Error::io(format!("creating {}", a.dir.join("rules").display()), e))?;
    std::fs::write(&config, INIT_CONFIG)
        .map_err(|e| Error::io(format!("writing {}", config.display()), e))?;
    std::fs::write(&rules, INIT_RULES)
        .map_err(|e| Error::io(format!("writing {}", rules.display()), e))?;
    outln!("wrote {} and {}", config.display(), rules.display());
    // The README's quick start: about a minute on this machine's probes, no server.
    outln!("next (about a minute): vz-monitor check && vz-monitor baseline --samples 6 --interval 2s && vz-monitor watch --duration 30s --interval 5s");
    Ok(Exit::Healthy)
}
