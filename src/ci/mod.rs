//! CI integrations, each one [`Observer`]: GitHub Actions (annotations, step summary,
//! outputs). Metrics exports (Pushgateway, live `/metrics`, Grafana) are in
//! [`crate::export`]. None can change the gate's decision or its exit code: a failure is a
//! warning on stderr.

pub mod github;

use crate::observe::Observer;

/// The CI observers the environment asks for.
pub fn observers() -> Vec<Box<dyn Observer>> {
    let env = |k: &str| std::env::var(k).ok();
    let mut list: Vec<Box<dyn Observer>> = Vec::new();
    if let Some(o) = github::GitHub::from_env(&env) {
        list.push(Box::new(o));
    }
    list
}
