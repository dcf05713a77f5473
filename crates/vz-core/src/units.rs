//! Serde helpers for humantime durations (`500ms`, `30s`, `15m`) and percentages (`20`, `"20%"`).

use serde::{de, Deserializer};
use std::time::Duration;

/// Parses a humantime duration such as `500ms`, `30s`, `15m`, `1h`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("invalid duration `{s}` ({e}); use e.g. 500ms, 30s, 15m, 1h"))
}

/// Deserializes a humantime duration string (a bare number means seconds).
pub fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    struct V;
    impl de::Visitor<'_> for V {
        type Value = Duration;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a duration such as 500ms, 30s, 15m, 1h")
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Duration, E> {
            parse_duration(s).map_err(E::custom)
        }
        fn visit_u64<E: de::Error>(self, n: u64) -> Result<Duration, E> {
            Ok(Duration::from_secs(n))
        }
        fn visit_i64<E: de::Error>(self, n: i64) -> Result<Duration, E> {
            u64::try_from(n)
                .map(Duration::from_secs)
                .map_err(|_| E::custom(format!("invalid duration {n}: must not be negative")))
        }
        fn visit_f64<E: de::Error>(self, n: f64) -> Result<Duration, E> {
            Duration::try_from_secs_f64(n).map_err(|_| E::custom(format!("invalid duration {n}")))
        }
    }
    d.deserialize_any(V)
}

/// Deserializes an optional humantime duration.
pub fn opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    duration(d).map(Some)
}

/// Parses a percentage: `20`, `20.5`, `"20%"`. Returns the number of percent (20.0).
pub fn parse_percent(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let t = t.strip_suffix('%').unwrap_or(t).trim();
    t.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| format!("invalid percentage `{s}`; use e.g. 20 or \"20%\""))
}

/// Deserializes a percentage given as a number or a `"20%"` string.
pub fn percent<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    struct V;
    impl de::Visitor<'_> for V {
        type Value = f64;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a percentage such as 20 or \"20%\"")
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<f64, E> {
            parse_percent(s).map_err(E::custom)
        }
        fn visit_u64<E: de::Error>(self, n: u64) -> Result<f64, E> {
            Ok(n as f64)
        }
        fn visit_i64<E: de::Error>(self, n: i64) -> Result<f64, E> {
            parse_percent(&n.to_string()).map_err(E::custom)
        }
        fn visit_f64<E: de::Error>(self, n: f64) -> Result<f64, E> {
            parse_percent(&n.to_string()).map_err(E::custom)
        }
    }
    d.deserialize_any(V)
}

/// Deserializes an optional percentage.
pub fn opt_percent<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    percent(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_percents() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert!(parse_duration("fast").is_err());
        assert_eq!(parse_percent("20%").unwrap(), 20.0);
        assert_eq!(parse_percent(" 7.5 ").unwrap(), 7.5);
        assert!(parse_percent("-3").is_err());
        assert!(parse_percent("lots").is_err());
    }
}
