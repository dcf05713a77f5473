//! Pure decisions: which channels an anomaly goes to, whether a firing is new, a
//! duplicate of an open alert, or inside the cooldown, and which escalation stages are due.
//! No clock, no I/O: the observer passes `now` and the stored state in.

use super::state::AlertState;
use super::NotifyConfig;
use crate::model::{Severity, Timestamp};

/// Channels for an anomaly of this severity and kind: every matching route adds its own,
/// in route order, without repeats.
pub fn channels_for(config: &NotifyConfig, severity: Severity, kind: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in &config.routes {
        if matches(&r.severity, &r.kinds, severity, kind) {
            for c in &r.channels {
                if !out.contains(c) {
                    out.push(c.clone());
                }
            }
        }
    }
    out
}

fn matches(severities: &[Severity], kinds: &[String], severity: Severity, kind: &str) -> bool {
    (severities.is_empty() || severities.contains(&severity))
        && (kinds.is_empty() || kinds.iter().any(|k| k == kind))
}

/// What to do when an anomaly fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FireAction {
    /// Tell the routed channels.
    Send,
    /// The alert is already open and was told: nothing new to say.
    Duplicate,
    /// Told less than the cooldown ago: stay quiet (and quiet about its resolve too).
    Cooldown,
}

/// Dedup by (deployment, rule, series), then cooldown since the last alert sent.
pub fn on_fire(prev: Option<&AlertState>, now: Timestamp, cooldown_ms: i64) -> FireAction {
    match prev {
        None => FireAction::Send,
        Some(s) if s.firing && s.notified => FireAction::Duplicate,
        Some(s) => match s.last_sent_at {
            Some(t) if now - t < cooldown_ms => FireAction::Cooldown,
            _ => FireAction::Send,
        },
    }
}

/// Escalation stages (indexes) now due for an open, told alert: its delay has passed since
/// it fired, it matches the stage, and the stage was not sent yet.
pub fn due_stages(config: &NotifyConfig, s: &AlertState, now: Timestamp) -> Vec<usize> {
    if !(s.firing && s.notified) {
        return Vec::new();
    }
    config
        .escalation
        .iter()
        .enumerate()
        .filter(|(i, e)| {
            s.stages & (1u64 << i) == 0
                && matches(&e.severity, &e.kinds, s.anomaly.severity, &s.anomaly.kind)
                && now - s.fired_at >= e.after.as_millis() as i64
        })
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Anomaly, Expected};

    fn config() -> NotifyConfig {
        NotifyConfig::from_value(
            &serde_yaml::from_str(
                r#"
channels: { a: { log: {} }, b: { log: {} }, c: { log: {} }, m: { log: {} } }
routes:
  - { severity: [critical], channels: [a, b] }
  - { severity: [critical, high], kinds: [CPU_SPIKE], channels: [b, c] }
  - { channels: [m] }
escalation:
  - { after: 5m, severity: [critical], channels: [c] }
  - { after: 1m, channels: [m] }
"#,
            )
            .unwrap(),
        )
        .unwrap()
    }

    fn state(firing: bool, notified: bool, last_sent_at: Option<i64>) -> AlertState {
        AlertState {
            deployment: "web".into(),
            rule: "r".into(),
            series: "s".into(),
            dedup_key: "k".into(),
            firing,
            notified,
            fired_at: 0,
            last_sent_at,
            stages: 0,
            channels: vec![],
            run_id: "run".into(),
            anomaly: Anomaly {
                rule: "r".into(),
                metric: "s".into(),
                series: "s".into(),
                kind: "HIGH_ERROR_RATE".into(),
                severity: Severity::Critical,
                detector: "threshold".into(),
                observed: 1.0,
                expected: Expected::None,
                statistic: String::new(),
                score: None,
                p_value: None,
                reason: "x".into(),
                fired_at: 0,
                resolved_at: None,
                dry_run: false,
                annotations: Default::default(),
            },
        }
    }

    #[test]
    fn routes_union_in_order_and_filter_by_kind() {
        let c = config();
        assert_eq!(
            channels_for(&c, Severity::Critical, "HIGH_ERROR_RATE"),
            ["a", "b", "m"]
        );
        assert_eq!(
            channels_for(&c, Severity::Critical, "CPU_SPIKE"),
            ["a", "b", "c", "m"]
        );
        assert_eq!(channels_for(&c, Severity::High, "HIGH_LATENCY"), ["m"]);
        assert_eq!(
            channels_for(&c, Severity::High, "CPU_SPIKE"),
            ["b", "c", "m"]
        );
    }

    #[test]
    fn fire_is_new_duplicate_or_cooled_down() {
        let min = 60_000;
        assert_eq!(on_fire(None, 0, min), FireAction::Send);
        assert_eq!(
            on_fire(Some(&state(true, true, Some(0))), 10, min),
            FireAction::Duplicate
        );
        // Resolved, fired again 30 s after the last alert: inside a 1 min cooldown.
        assert_eq!(
            on_fire(Some(&state(false, true, Some(0))), 30_000, min),
            FireAction::Cooldown
        );
        assert_eq!(
            on_fire(Some(&state(false, true, Some(0))), 60_000, min),
            FireAction::Send
        );
        // Open but never told (it fired inside a cooldown): the cooldown still decides.
        assert_eq!(
            on_fire(Some(&state(true, false, Some(0))), 61_000, min),
            FireAction::Send
        );
        assert_eq!(
            on_fire(Some(&state(false, true, Some(0))), 1, 0),
            FireAction::Send
        );
    }

    #[test]
    fn stages_come_due_once_after_their_delay() {
        let c = config();
        let mut s = state(true, true, Some(0));
        assert!(due_stages(&c, &s, 59_000).is_empty());
        assert_eq!(due_stages(&c, &s, 60_000), [1]);
        s.stages |= 1 << 1;
        assert!(due_stages(&c, &s, 299_999).is_empty());
        assert_eq!(due_stages(&c, &s, 300_000), [0]);
        s.stages |= 1;
        assert!(due_stages(&c, &s, 10_000_000).is_empty());
        assert!(due_stages(&c, &state(false, true, Some(0)), 10_000_000).is_empty());
    }
}
