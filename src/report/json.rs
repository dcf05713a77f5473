//! JSON: the summary as the store keeps it and `--output json` prints it. The smallest
//! format: copy this file to add one.

use super::{Render, RunReport};

/// The JSON format.
pub struct JsonFormat;

impl Render for JsonFormat {
    fn render(&self, run: &RunReport) -> String {
        let mut text = serde_json::to_string_pretty(&run.json).unwrap_or_else(|_| "null".into());
        text.push('\n');
        text
    }
}
