//! Metric backends beyond local probes: each one file (its config, client and running
//! source), listed here.

pub mod cloudwatch;
pub mod fetch;
pub mod graphite;
pub mod influxdb;
