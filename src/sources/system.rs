//! TODO(probes helper)

use super::{Source, SystemMetric};
use crate::model::Reading;
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

/// Shared sampler of this machine's CPU, memory, disk and network counters.
pub struct SystemSampler {}

impl SystemSampler {
    pub fn new() -> Self {
        Self {}
    }
}

impl Default for SystemSampler {
    fn default() -> Self {
        Self::new()
    }
}

/// Stub.
pub struct SystemSource {
    metric: SystemMetric,
    sampler: Arc<SystemSampler>,
}

impl SystemSource {
    pub fn new(metric: SystemMetric, sampler: Arc<SystemSampler>) -> Self {
        Self { metric, sampler }
    }
}

impl Source for SystemSource {
    fn sample(&self) -> BoxFuture<'_, Reading> {
        let _ = (&self.metric, &self.sampler);
        Box::pin(async { Reading::Missing("not implemented".into()) })
    }
    fn timeout(&self) -> Duration {
        Duration::from_secs(5)
    }
}
