//! Typed errors a command can end with before it could act: all exit 2 ([`crate::exit`]
//! decides every other code from what happened).

use crate::config::ConfigError;
pub use crate::exit::Exit;
use crate::store::StoreError;

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
