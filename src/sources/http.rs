//! TODO(probes helper)

use super::{HttpProbe, Source};
use crate::model::Reading;
use futures::future::BoxFuture;
use std::time::Duration;

/// Stub.
pub struct HttpSource {
    spec: HttpProbe,
}

impl HttpSource {
    pub fn new(spec: HttpProbe) -> Self {
        Self { spec }
    }
}

impl Source for HttpSource {
    fn sample(&self) -> BoxFuture<'_, Reading> {
        Box::pin(async { Reading::Missing("not implemented".into()) })
    }
    fn timeout(&self) -> Duration {
        let _ = &self.spec;
        Duration::from_secs(5)
    }
}
