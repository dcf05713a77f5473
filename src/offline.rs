//! Replay files for `analyze` (and `backtest`): the file-system half of
//! [`vz_core::offline`], which only parses. A file is read up to [`MAX_BYTES`], so a wrong
//! path to a multi-gigabyte log is one line of error, not a machine out of memory.

pub use vz_core::offline::*;

use std::io::Read;
use std::path::Path;

/// Largest replay file read: a week of 15 s ticks of 20 metrics is about 8 MiB of CSV.
pub const MAX_BYTES: u64 = 256 * 1024 * 1024;

/// Reads and parses a CSV or JSON series file (by extension; `.json` is JSON, else CSV).
pub fn read(path: &Path) -> Result<SeriesFile, String> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| format!("{name}: cannot read: {e}"))?;
    let mut text = String::new();
    file.take(MAX_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("{name}: cannot read: {e}"))?;
    if text.len() as u64 > MAX_BYTES {
        return Err(format!(
            "{name}: larger than {} MiB; replay a shorter stretch",
            MAX_BYTES >> 20
        ));
    }
    parse(&name, &text)
}
