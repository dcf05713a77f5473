//! The notify state kept in the store (dedup, cooldown and escalation across runs and
//! runners, and every send attempt). The types and their SQL live in `store::notify`;
//! they are re-exported here under the names the notify module uses.

pub use crate::store::notify::{AlertState, Attempt, AttemptFilter};
