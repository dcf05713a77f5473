//! Values inside a template, printed as Go's `fmt` prints them (`%v`).

use super::super::gofmt::fmt_v;
use std::collections::BTreeMap;

/// A value of a pipeline (Go's types as far as alert templates see them).
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// An untyped nil, or a missing key of a map of interfaces: prints `<no value>`.
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A map with sorted keys; `zero` is what a missing key gives (`""` for labels).
    Map(BTreeMap<String, Val>, Box<Val>),
    /// A `time.Time` (UTC): seconds and nanoseconds since the epoch.
    Time(i64, u32),
    /// A `time.Duration` in nanoseconds.
    Duration(i64),
    /// Prometheus's alert data (`.`): `.Labels`, `.ExternalLabels`, `.ExternalURL`, `.Value`.
    Struct(BTreeMap<String, Val>),
}

impl Val {
    /// A `map[string]string`.
    pub fn str_map(m: &BTreeMap<String, String>) -> Val {
        Val::Map(
            m.iter()
                .map(|(k, v)| (k.clone(), Val::Str(v.clone())))
                .collect(),
            Box::new(Val::Str(String::new())),
        )
    }

    /// Go's truth: false, 0, nil, and empty strings, maps and lists are false.
    pub fn truth(&self) -> bool {
        match self {
            Val::Nil => false,
            Val::Bool(b) => *b,
            Val::Int(i) => *i != 0,
            Val::Float(f) => *f != 0.0,
            Val::Str(s) => !s.is_empty(),
            Val::Map(m, _) => !m.is_empty(),
            Val::Time(..) | Val::Struct(_) => true,
            Val::Duration(d) => *d != 0,
        }
    }

    /// Go's type name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Nil => "nil",
            Val::Bool(_) => "bool",
            Val::Int(_) => "int",
            Val::Float(_) => "float64",
            Val::Str(_) => "string",
            Val::Map(..) => "map",
            Val::Time(..) => "*time.Time",
            Val::Duration(_) => "*time.Duration",
            Val::Struct(_) => "struct",
        }
    }

    /// `%v`.
    pub fn show(&self) -> String {
        match self {
            Val::Nil => "<no value>".into(),
            Val::Bool(b) => b.to_string(),
            Val::Int(i) => i.to_string(),
            Val::Float(f) => fmt_v(*f),
            Val::Str(s) => s.clone(),
            Val::Map(m, _) => {
                let kv: Vec<String> = m
                    .iter()
                    .map(|(k, v)| format!("{k}:{}", v.inner()))
                    .collect();
                format!("map[{}]", kv.join(" "))
            }
            Val::Time(s, n) => go_time(*s, *n),
            Val::Duration(d) => go_duration(*d),
            Val::Struct(m) => {
                let v: Vec<String> = m.values().map(Val::inner).collect();
                format!("{{{}}}", v.join(" "))
            }
        }
    }

    /// `%v` of a value inside a map or slice (nil prints `<nil>` there).
    fn inner(&self) -> String {
        match self {
            Val::Nil => "<nil>".into(),
            v => v.show(),
        }
    }
}

/// Go's `time.Time.String()` in UTC: `2006-01-02 15:04:05.999999999 +0000 UTC`.
pub fn go_time(secs: i64, nanos: u32) -> String {
    let Some(t) = chrono::DateTime::from_timestamp(secs, nanos) else {
        return format!("{secs}.{nanos:09}");
    };
    let frac = if nanos == 0 {
        String::new()
    } else {
        format!(".{nanos:09}").trim_end_matches('0').to_string()
    };
    format!("{}{frac} +0000 UTC", t.format("%Y-%m-%d %H:%M:%S"))
}

/// Go's `time.Duration.String()`: `1h2m3.5s`, `150ms`, `0s`.
pub fn go_duration(d: i64) -> String {
    if d == 0 {
        return "0s".into();
    }
    let sign = if d < 0 { "-" } else { "" };
    let u = d.unsigned_abs();
    if u < 1_000_000_000 {
        let (unit, div) = match u {
            0..=999 => ("ns", 1u64),
            1_000..=999_999 => ("µs", 1_000),
            _ => ("ms", 1_000_000),
        };
        return format!("{sign}{}{unit}", frac(u, div));
    }
    let h = u / 3_600_000_000_000;
    let m = (u / 60_000_000_000) % 60;
    let s = u % 60_000_000_000;
    let mut out = String::from(sign);
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&format!("{}s", frac(s, 1_000_000_000)));
    out
}

/// `v / div` with its fraction, trailing zeros dropped.
fn frac(v: u64, div: u64) -> String {
    let whole = v / div;
    let rest = v % div;
    if rest == 0 {
        return whole.to_string();
    }
    let width = div.to_string().len() - 1;
    let f = format!("{rest:0width$}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}
