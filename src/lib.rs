//! vz-monitor: a deployment gate. Baseline → watch → detect → decide → roll back.
//!
//! The data flow is the module layout: `config` → `sources` (+ `sampler`) → `detect` →
//! `gate` (rules, `for`) → `policy` (the decision) → `rollback`, with `store` and `report`
//! beside.

#[macro_use]
pub mod output;

pub mod audit;
pub mod backends;
pub mod ci;
pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod exit;
pub mod export;
pub mod lifecycle;
pub mod notify;
pub mod observe;
pub mod offline;
pub mod redact;
pub mod report;
pub mod rollback;
pub mod ruletest;
pub mod sampler;
pub mod serve;
pub mod sources;
pub mod store;

// The pure core, re-exported where the binary has always found it (one name each).
pub use vz_core::{backtest, detect, gate, model, policy, run, units};

#[cfg(test)]
mod gate_control_tests;
#[cfg(test)]
mod gate_tests;
#[cfg(test)]
mod manifest_tests;
