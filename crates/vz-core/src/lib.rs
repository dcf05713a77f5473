//! vz-monitor's pure core: plain data in, plain data out. No clock, no network, no database.
//!
//! The data flow is the module layout: `model` (readings, anomalies) and `spec` (validated
//! rules) → `detect` (one file per detector) → `gate` (rules over ticks: `for`, limits,
//! composites, joint vectors, and the one replay loop that `watch`, `analyze` and `test`
//! drive) → `policy` (the rollback decision). `offline` parses replay files and `ruletest`
//! runs rule unit tests through the same loop. Callers pass `now` in.

pub mod backtest;
pub mod detect;
pub mod gate;
pub mod model;
pub mod offline;
pub mod policy;
pub mod ruletest;
pub mod run;
pub mod spec;
pub mod units;
