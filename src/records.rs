//! Plain records shared by the layers that produce, store and report them (a leaf module:
//! it imports only the model), so `report` and `store` need not import `notify`.

use crate::model::Timestamp;
use serde::Serialize;

/// One send attempt (or suppression) as stored and listed.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    pub run_id: Option<String>,
    pub deployment: String,
    pub ts: Timestamp,
    pub channel: String,
    pub channel_type: String,
    pub event: String,
    pub dedup_key: Option<String>,
    /// `sent`, `failed`, `duplicate`, `cooldown` or `abandoned`.
    pub outcome: String,
    pub attempts: u32,
    pub duration_ms: i64,
    pub detail: String,
}
