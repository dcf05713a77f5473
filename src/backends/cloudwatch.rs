//! CloudWatch: GetMetricData (JSON protocol) signed with SigV4.

pub mod sigv4;
