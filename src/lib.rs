//! vz-monitor: a deployment gate. Baseline → watch → detect → decide → roll back.

pub mod config;
pub mod detect;
pub mod model;
pub mod sources;
