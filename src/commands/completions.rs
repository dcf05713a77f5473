//! `completions SHELL` and `man`: generated from the clap definition, so they never drift
//! from the real command line (tests/completions.rs compares them with the committed files).

use crate::cli::{Cli, CompletionsArgs};
use crate::error::{Error, Exit, Result};
use clap::CommandFactory;
use std::io::Write;

/// The program name the scripts complete.
const BIN: &str = "vz-monitor";

/// Prints the completion script for one shell to stdout.
pub fn run(a: &CompletionsArgs) -> Result<Exit> {
    let mut out = Vec::new();
    clap_complete::generate(a.shell, &mut Cli::command(), BIN, &mut out);
    write_stdout(&out)
}

/// Prints the man page (roff) to stdout.
pub fn man() -> Result<Exit> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| Error::io("rendering the man page", e))?;
    write_stdout(&out)
}

fn write_stdout(bytes: &[u8]) -> Result<Exit> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|_| stdout.flush())
        .map_err(|e| Error::io("writing to stdout", e))?;
    Ok(Exit::Healthy)
}
