//! Durations (`500ms`, `30s`, `15m`, `1h`, `7d`; a bare number is seconds) and
//! percentages (`20`, `"20%"`), one parser for YAML, flags and `VZ_` variables alike.

use serde::{de, Deserializer};
use std::time::Duration;

/// The longest watch window accepted: a gate that watches for days is a monitor, and a
/// typo (`15h` for `15m`) should not hold a pipeline that long.
pub const MAX_WATCH: Duration = Duration::from_secs(24 * 60 * 60);

/// Parses a duration such as `500ms`, `30s`, `15m`, `1h`, `7d`; a bare number (`90`,
/// `1.5`) is seconds. Months and years are refused: `15M` is a typo for `15m` far more
/// often than a wish to wait 15 months.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if let Ok(secs) = t.parse::<f64>() {
        return Duration::try_from_secs_f64(secs)
            .map_err(|_| format!("invalid duration `{s}`: seconds must be a finite number ≥ 0"));
    }
    for unit in t
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|u| !u.is_empty())
    {
        if matches!(unit, "M" | "month" | "months" | "y" | "year" | "years") {
            let hint = t.replace('M', "m");
            return Err(format!(
                "invalid duration `{s}`: months and years are not accepted{}",
                if unit == "M" {
                    format!(" (`M` is months; for minutes use `{hint}`)")
                } else {
                    "; use days (e.g. 30d) or less".to_string()
                }
            ));
        }
    }
    humantime::parse_duration(t).map_err(|e| {
        format!(
            "invalid duration `{s}` ({e}); use e.g. 500ms, 30s, 15m, 1h, or a number of seconds"
        )
    })
}

/// Parses the length of a watch window: a duration above 0 and at most [`MAX_WATCH`].
pub fn parse_watch_duration(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    check_watch(d).map(|_| d)
}

/// Checks a watch window's length: above 0, at most [`MAX_WATCH`] (24h).
pub fn check_watch(d: Duration) -> Result<(), String> {
    if d.is_zero() {
        return Err("must be greater than 0".into());
    }
    if d > MAX_WATCH {
        return Err(format!(
            "{} is longer than the 24h a watch may last; a deployment gate decides within hours \
             (did you mean minutes, e.g. `15m`?)",
            humantime::format_duration(d)
        ));
    }
    Ok(())
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

/// The unit a metric's name says by convention (`p95_latency_ms`, `…_seconds`,
/// `…_bytes`, `cpu_percent`); None when it says none.
pub fn unit_of_name(series: &str) -> Option<&'static str> {
    let name = series
        .split('{')
        .next()
        .unwrap_or(series)
        .to_ascii_lowercase();
    const SUFFIXES: [(&str, &str); 9] = [
        ("_ms", "ms"),
        ("_milliseconds", "ms"),
        ("_seconds", "s"),
        ("_bytes_per_sec", "bytes/s"),
        ("_bytes", "bytes"),
        ("_mb", "MB"),
        ("_percent", "%"),
        ("_pct", "%"),
        ("_ratio", "ratio"),
    ];
    SUFFIXES
        .iter()
        .find(|(suffix, _)| name.ends_with(suffix))
        .map(|(_, unit)| *unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_years_are_refused_with_a_hint() {
        let e = parse_duration("15M").unwrap_err();
        assert!(e.contains("months") && e.contains("use `15m`"), "{e}");
        for s in ["1y", "2 months", "1year", "3mon"] {
            assert!(parse_duration(s).is_err(), "{s}");
        }
        assert_eq!(parse_duration("1h 30m").unwrap(), Duration::from_secs(5400));
    }

    #[test]
    fn a_watch_lasts_at_most_a_day() {
        assert!(parse_watch_duration("24h").is_ok());
        let e = parse_watch_duration("25h").unwrap_err();
        assert!(e.contains("24h"), "{e}");
        assert!(parse_watch_duration("0").is_err());
    }

    #[test]
    fn durations_and_percents() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert!(parse_duration("fast").is_err());
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(
            parse_duration(" 1.5 ").unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(
            parse_duration("7d").unwrap(),
            Duration::from_secs(7 * 86400)
        );
        assert!(parse_duration("-3").is_err());
        assert_eq!(parse_percent("20%").unwrap(), 20.0);
        assert_eq!(parse_percent(" 7.5 ").unwrap(), 7.5);
        assert!(parse_percent("-3").is_err());
        assert!(parse_percent("lots").is_err());
    }
}
