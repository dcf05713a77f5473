//! `completions SHELL` and `man`: generated from the clap definition, so they never drift
//! from the real command line (tests/it/completions.rs compares them with the committed files).

use crate::cli::{Cli, CompletionsArgs, ManArgs};
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

/// Prints the man page (roff) of vz-monitor, or of one subcommand, to stdout.
pub fn man(a: &ManArgs) -> Result<Exit> {
    let page = man_page(a.subcommand.as_deref())?;
    write_stdout(&page)
}

/// The roff text of `vz-monitor(1)` or `vz-monitor-SUBCOMMAND(1)`.
pub fn man_page(subcommand: Option<&str>) -> Result<Vec<u8>> {
    let mut cli = Cli::command();
    // Building propagates the global options (--config, --db) into every subcommand.
    cli.build();
    let cmd = match subcommand {
        None => cli,
        Some(name) => {
            let sub = cli
                .get_subcommands()
                .find(|c| c.get_name() == name)
                .ok_or_else(|| Error::Usage(format!("no subcommand `{name}`")))?;
            // clap (without its `string` feature) wants a 'static name; one page per process.
            let page: &'static str = Box::leak(format!("{BIN}-{name}").into_boxed_str());
            sub.clone()
                .name(page)
                .bin_name(format!("{BIN} {name}"))
                .version(env!("CARGO_PKG_VERSION"))
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut out)
        .map_err(|e| Error::io("rendering the man page", e))?;
    Ok(out)
}

fn write_stdout(bytes: &[u8]) -> Result<Exit> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|_| stdout.flush())
        .map_err(|e| Error::io("writing to stdout", e))?;
    Ok(Exit::Healthy)
}
