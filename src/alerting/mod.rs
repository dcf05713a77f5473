//! Prometheus alerting rules as the gate runs them, pure: an alert's spec and which way it
//! gets worse, which series already fired before the watch, and Go-template rendering of
//! `summary`/`description` (`$labels`, `$value`, `humanize`). A leaf: `config` builds these
//! from rule files and the Prometheus source runs them, without either importing the other.

pub mod alert;
mod gofmt;
pub mod template;

pub use alert::{AlertSpec, Direction, PreExisting, Prior, PriorRange};
