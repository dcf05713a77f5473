//! vz-monitor: parse the command line, run one command, map the outcome to an exit code.

use clap::Parser;
use std::process::ExitCode;
use vz_monitor::cli::Cli;

fn main() -> ExitCode {
    // Before anything else: no signal may find this process without its handlers.
    vz_monitor::lifecycle::signals::arm();
    let cli = Cli::parse();
    match vz_monitor::commands::run(cli) {
        Ok(exit) => exit.into(),
        Err(e) => {
            vz_monitor::errln!("error: {e}");
            e.exit().into()
        }
    }
}
