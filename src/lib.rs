//! vz-monitor: a deployment gate. Baseline → watch → detect → decide → roll back.
//!
//! The data flow is the module layout: `config` → `sources` (+ `sampler`) → `detect` →
//! `gate` (rules, `for`) → `decide` (policy) → `rollback`, with `store` and `report` beside.

#[macro_use]
pub mod output;

pub mod audit;
pub mod ci;
pub mod cli;
pub mod commands;
pub mod config;
pub mod decide;
pub mod detect;
pub mod error;
pub mod gate;
pub mod model;
pub mod notify;
pub mod observe;
pub mod offline;
pub mod redact;
pub mod report;
pub mod rollback;
pub mod ruletest;
pub mod sampler;
pub mod sources;
pub mod store;
