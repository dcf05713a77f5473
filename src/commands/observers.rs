//! The single list of a run's observers (notifications, audit, CI integrations, export).

use crate::config::Config;
use crate::observe::{Observer, RunContext};

/// Every observer the config and environment ask for, in the order they are told things.
pub fn observers(config: &Config, ctx: &RunContext) -> Vec<Box<dyn Observer>> {
    let mut list: Vec<Box<dyn Observer>> = Vec::new();
    // One line per observer.
    list.extend(crate::ci::observers());
    list.extend(crate::export::observers(ctx));
    list.extend(crate::audit::observers(config));
    list.extend(crate::notify::observer(config.notify.as_ref(), ctx));
    list
}
