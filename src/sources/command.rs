//! TODO(probes helper)

use super::{CommandProbe, Source};
use crate::model::Reading;
use futures::future::BoxFuture;
use std::time::Duration;

/// Stub.
pub struct CommandSource {
    spec: CommandProbe,
}

impl CommandSource {
    pub fn new(spec: CommandProbe) -> Self {
        Self { spec }
    }
}

impl Source for CommandSource {
    fn sample(&self) -> BoxFuture<'_, Reading> {
        Box::pin(async { Reading::Missing("not implemented".into()) })
    }
    fn timeout(&self) -> Duration {
        let _ = &self.spec;
        Duration::from_secs(5)
    }
}
