//! Typed errors and the one place that maps outcomes to exit codes (DESIGN.md "Exit codes").

use crate::config::ConfigError;
use crate::store::StoreError;
use std::process::ExitCode;

/// How a command ended, as the pipeline sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: healthy, or the command succeeded.
    Healthy,
    /// 1: the policy decided to roll back and the rollback succeeded (or was not to be run).
    Unhealthy,
    /// 2: usage, config or rule error; nothing was run.
    Usage,
    /// 3: too much data missing to decide.
    Inconclusive,
    /// 4: rollback needed but it failed or timed out: a human must act.
    RollbackFailed,
    /// 130: interrupted; state saved, no rollback started by the interrupt.
    Interrupted,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Healthy => 0,
            Exit::Unhealthy => 1,
            Exit::Usage => 2,
            Exit::Inconclusive => 3,
            Exit::RollbackFailed => 4,
            Exit::Interrupted => 130,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}

/// Errors a command can end with before it could do its job. All exit 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Input(String),
}

impl Error {
    /// The exit code for this error.
    pub fn exit(&self) -> Exit {
        Exit::Usage
    }

    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// Result of a command.
pub type Result<T> = std::result::Result<T, Error>;
