//! `down`: has the probe failed / the series been down for at least N?
//!
//! Like Prometheus' `for`: down at ticks 0 s, 30 s and 60 s with `for: 60s` is active at the
//! 60 s tick. A missing reading ("could not measure") is neither up nor down: no answer.

use super::{invalid, Detector, Finding, Input, NoAnswer, Outcome};
use crate::model::{fmt_num, Expected, Timestamp};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Config of the `down` detector: `{ for: 60s }`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DownParams {
    /// How long the target must have been down (config key `for`, default 60s).
    #[serde(
        rename = "for",
        default = "default_for",
        deserialize_with = "crate::units::duration",
        serialize_with = "serialize_humantime"
    )]
    pub for_duration: Duration,
}

/// Writes a duration the way config reads it (`1m 30s`).
fn serialize_humantime<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&humantime::format_duration(*d))
}

fn default_for() -> Duration {
    Duration::from_secs(60)
}

impl Default for DownParams {
    fn default() -> Self {
        DownParams {
            for_duration: default_for(),
        }
    }
}

/// Milliseconds down at `now` (0 when up; never negative, even if the clock stepped back).
pub fn down_ms(now: Timestamp, down_since: Option<Timestamp>) -> i64 {
    down_since.map_or(0, |since| now.saturating_sub(since).max(0))
}

/// The core per-tick test: down for at least `for` (inclusive, to the nanosecond).
pub fn is_active(params: &DownParams, now: Timestamp, down_since: Option<Timestamp>) -> bool {
    down_since.is_some()
        && down_ms(now, down_since) as u128 * 1_000_000 >= params.for_duration.as_nanos()
}

/// Judges how long the target has been down.
pub fn evaluate(params: &DownParams, input: &Input) -> Outcome {
    let limit = humantime::format_duration(params.for_duration);
    let Some(since) = input.down_since else {
        if !input.latest_is_value {
            return Err(NoAnswer::NotEnoughData(
                "the latest reading is missing: cannot tell up from down".into(),
            ));
        }
        return Ok(Finding {
            active: false,
            observed: 0.0,
            expected: Expected::None,
            score: None,
            p_value: None,
            statistic: "down seconds",
            reason: format!("up: the latest reading is a value (down limit {limit})"),
        });
    };
    let ms = down_ms(input.now, Some(since));
    let secs = ms as f64 / 1000.0;
    let active = is_active(params, input.now, Some(since));
    let reason = if active {
        format!("down for {}s, at least the limit {limit}", fmt_num(secs))
    } else {
        format!("down for {}s, less than the limit {limit}", fmt_num(secs))
    };
    Ok(Finding {
        active,
        observed: secs,
        expected: Expected::None,
        score: None,
        p_value: None,
        statistic: "down seconds",
        reason,
    })
}

impl Detector for DownParams {
    fn name(&self) -> &'static str {
        "down"
    }

    fn validate(&self) -> Result<(), (String, String)> {
        if self.for_duration.is_zero() {
            return invalid("for", "must be greater than 0");
        }
        Ok(())
    }

    fn evaluate(&self, input: &Input) -> Outcome {
        evaluate(self, input)
    }

    fn watches_down(&self) -> bool {
        true
    }

    fn default_kind(&self) -> Option<&'static str> {
        Some("SERVICE_DOWN")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Window;

    fn run(
        params: &DownParams,
        now: i64,
        down_since: Option<i64>,
        latest_is_value: bool,
    ) -> Outcome {
        let values = [1.0];
        let times = [0];
        evaluate(
            params,
            &Input {
                now,
                window: Window {
                    times: &times,
                    values: if latest_is_value { &values } else { &[] },
                },
                latest_is_value,
                baseline: None,
                control: None,
                down_since,
            },
        )
    }

    fn params(yaml: &str) -> DownParams {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn for_boundary_like_prometheus() {
        // Down at ticks 0 s, 30 s, 60 s with for 60s: active at the 60 s tick, not before.
        let p = DownParams::default();
        let at = |now| run(&p, now, Some(0), false).unwrap();
        let f = at(0);
        assert!(!f.active);
        assert_eq!(f.observed, 0.0);
        let f = at(30_000);
        assert!(!f.active);
        assert_eq!(f.observed, 30.0);
        assert_eq!(f.reason, "down for 30s, less than the limit 1m");
        let f = at(60_000);
        assert!(f.active);
        assert_eq!(f.observed, 60.0);
        assert_eq!(f.reason, "down for 60s, at least the limit 1m");
        assert_eq!(f.expected, Expected::None);
        assert_eq!(f.statistic, "down seconds");
        assert!(!at(59_999).active);
        assert!(at(90_000).active);
    }

    #[test]
    fn for_zero_fires_at_once() {
        let p = params("{ for: 0s }");
        assert!(run(&p, 5_000, Some(5_000), false).unwrap().active);
    }

    #[test]
    fn sub_millisecond_limits_are_not_rounded_down() {
        let p = params("{ for: 1500us }");
        assert!(!is_active(&p, 1, Some(0)));
        assert!(is_active(&p, 2, Some(0)));
    }

    #[test]
    fn up_is_inactive_missing_is_no_answer() {
        let p = DownParams::default();
        let f = run(&p, 120_000, None, true).unwrap();
        assert!(!f.active);
        assert_eq!(f.observed, 0.0);
        assert_eq!(
            f.reason,
            "up: the latest reading is a value (down limit 1m)"
        );
        assert!(matches!(
            run(&p, 120_000, None, false),
            Err(NoAnswer::NotEnoughData(_))
        ));
    }

    #[test]
    fn clock_stepping_back_is_not_negative() {
        let p = DownParams::default();
        let f = run(&p, 10_000, Some(20_000), false).unwrap();
        assert_eq!(f.observed, 0.0);
        assert!(!f.active);
        assert_eq!(down_ms(i64::MAX, Some(i64::MIN)), i64::MAX);
    }

    #[test]
    fn config_shape() {
        assert_eq!(params("{}").for_duration, Duration::from_secs(60));
        assert_eq!(params("{ for: 2m }").for_duration, Duration::from_secs(120));
        assert_eq!(params("{ for: 90 }").for_duration, Duration::from_secs(90));
        assert!(serde_yaml::from_str::<DownParams>("{ for: soon }").is_err());
        assert!(serde_yaml::from_str::<DownParams>("{ after: 1m }").is_err());
        let p = params("{ for: 90s }");
        let yaml = serde_yaml::to_string(&p).unwrap();
        assert_eq!(yaml.trim(), "for: 1m 30s");
        assert_eq!(params(&yaml), p);
    }
}
