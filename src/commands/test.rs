//! `test`: runs rule unit tests (YAML: input series, baseline, expected anomalies and
//! decision) and prints a readable diff for each failing case. Exit 1 when any case fails.

use super::print_json;
use crate::cli::{Format, TestArgs};
use crate::error::{Error, Exit, Result};
use crate::ruletest;

/// Runs every case of every file; file or rule errors are exit 2, failed cases exit 1.
pub fn run(a: &TestArgs) -> Result<Exit> {
    let mut results = Vec::new();
    for f in &a.files {
        results.extend(ruletest::run_file(f).map_err(Error::Usage)?);
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    match a.output {
        Format::Json => print_json(&results)?,
        Format::Table => {
            for r in &results {
                outln!(
                    "{} {}: {}",
                    if r.passed { "ok  " } else { "FAIL" },
                    r.file,
                    r.name
                );
                for line in &r.diff {
                    outln!("       {line}");
                }
            }
            outln!(
                "{} passed, {failed} failed ({} cases in {} files)",
                results.len() - failed,
                results.len(),
                a.files.len()
            );
        }
    }
    Ok(if failed == 0 {
        Exit::Healthy
    } else {
        Exit::Unhealthy
    })
}
