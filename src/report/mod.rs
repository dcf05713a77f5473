//! Renderings of a run (table, JSON, Markdown, JUnit); the run itself is
//! [`vz_core::run::RunSummary`].

pub mod junit;
pub mod markdown;
pub mod table;
pub mod view;

pub use vz_core::run::{ts, RollbackOutcome, RunSummary, TickOverhead};
