//! The integration tests, one binary (issue 25): each file is a module, the server
//! fixtures in `common` are compiled once and shared, and the crate is linked once
//! instead of once per file. `cargo test --test it MODULE::` runs one file's tests.

mod common;

mod action;
mod analyze;
mod audit;
mod backend_servers;
mod backtest;
mod cloudwatch;
mod completions;
mod config;
mod control;
mod docs;
mod faults;
mod faults_input;
mod faults_run;
mod faults_store;
mod fleet;
mod fuzz;
mod github;
mod graphite;
mod html_report;
mod influxdb;
mod lookback;
mod notify;
mod overrides;
mod packs;
mod prometheus;
mod prometheus_alerts;
mod prometheus_rules;
mod prometheus_templates;
mod pushgateway;
mod report;
mod serve;
mod snapshots;
mod snapshots_cli;
mod store;
mod victoria_metrics;
mod watch;
mod web;
