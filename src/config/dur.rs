//! Serde helpers for humantime durations (`500ms`, `30s`, `15m`) and percentages (`20`, `"20%"`).

use serde::{de, Deserialize, Deserializer};
use std::time::Duration;

/// Parses a humantime duration such as `500ms`, `30s`, `15m`, `1h`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("invalid duration `{s}` ({e}); use e.g. 500ms, 30s, 15m, 1h"))
}

/// Deserializes a humantime duration string (a bare number means seconds).
pub fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Secs(f64),
    }
    match Raw::deserialize(d)? {
        Raw::Text(s) => parse_duration(&s).map_err(de::Error::custom),
        Raw::Secs(n) if n >= 0.0 && n.is_finite() => Ok(Duration::from_secs_f64(n)),
        Raw::Secs(n) => Err(de::Error::custom(format!("invalid duration {n}"))),
    }
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
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Num(f64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Num(n) => parse_percent(&n.to_string()).map_err(de::Error::custom),
        Raw::Text(s) => parse_percent(&s).map_err(de::Error::custom),
    }
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
