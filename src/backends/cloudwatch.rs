//! CloudWatch: GetMetricData (JSON protocol) signed with SigV4.

pub mod api;
pub mod sigv4;
