//! The functions an alert template can call: Go's built-ins (`printf`, `eq`, `len`,
//! `index` …) and Prometheus's (`humanize*`, `toTime`, `stripPort`, `reReplaceAll`,
//! `match`, `title` …), with Go's argument types and errors. `query` and the functions over
//! its results need a live Prometheus: they stop the rendering as not renderable offline.

use super::super::gofmt::{fmt_g, fmt_v, humanize, humanize1024, humanize_duration};
use super::exec::{Env, Fail};
use super::value::Val;
use std::collections::BTreeMap;

type R<T> = Result<T, Fail>;

fn err<T>(m: impl Into<String>) -> R<T> {
    Err(Fail::Error(m.into()))
}

/// Every function name, for `check`.
pub const NAMES: &[&str] = &[
    "and",
    "or",
    "not",
    "len",
    "index",
    "slice",
    "print",
    "printf",
    "println",
    "html",
    "js",
    "urlquery",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "call",
    "query",
    "first",
    "label",
    "value",
    "strvalue",
    "args",
    "reReplaceAll",
    "safeHtml",
    "match",
    "title",
    "toUpper",
    "toLower",
    "graphLink",
    "tableLink",
    "sortByLabel",
    "stripPort",
    "stripDomain",
    "humanize",
    "humanize1024",
    "humanizeDuration",
    "humanizePercentage",
    "humanizeTimestamp",
    "toTime",
    "toDuration",
    "pathPrefix",
    "externalURL",
    "parseDuration",
    "now",
];

/// The functions that need a live Prometheus.
pub const ONLINE: &[&str] = &[
    "query",
    "first",
    "label",
    "value",
    "strvalue",
    "sortByLabel",
    "now",
];

fn want(name: &str, args: &[Val], n: usize) -> R<()> {
    if args.len() != n {
        return err(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        ));
    }
    Ok(())
}

fn string(v: &Val) -> R<String> {
    match v {
        Val::Str(s) => Ok(s.clone()),
        o => err(format!(
            "wrong type for value; expected string; got {}",
            o.type_name()
        )),
    }
}

/// Prometheus's `convertToFloat`: numbers, numeric strings and durations (in seconds).
fn float(v: &Val) -> R<f64> {
    match v {
        Val::Float(f) => Ok(*f),
        Val::Int(i) => Ok(*i as f64),
        Val::Duration(d) => Ok(*d as f64 / 1e9),
        Val::Str(s) => s.parse().or_else(|_| {
            err(format!(
                "strconv.ParseFloat: parsing \"{s}\": invalid syntax"
            ))
        }),
        o => err(format!("can't convert {} to float", o.type_name())),
    }
}

/// Prometheus's `floatToTime`: millisecond precision, UTC.
fn to_time(v: f64) -> R<Val> {
    if !v.is_finite() {
        return err("value is NaN or Inf");
    }
    let nanos = v * 1e9;
    if nanos.abs() > i64::MAX as f64 {
        return err(format!(
            "{} cannot be represented as a nanoseconds timestamp since it overflows int64",
            fmt_v(v)
        ));
    }
    let ms = (nanos as i64) / 1_000_000;
    Ok(Val::Time(
        ms.div_euclid(1000),
        (ms.rem_euclid(1000) * 1_000_000) as u32,
    ))
}

/// Go's `net.SplitHostPort`, None where it errs.
fn split_host_port(s: &str) -> Option<(String, String)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = after.strip_prefix(':')?;
        return (!port.contains(':')).then(|| (host.to_string(), port.to_string()));
    }
    let (host, port) = s.rsplit_once(':')?;
    (!host.contains(':')).then(|| (host.to_string(), port.to_string()))
}

fn strip_domain(s: &str) -> String {
    let (host, port) = split_host_port(s).unwrap_or((s.to_string(), String::new()));
    if host.parse::<std::net::IpAddr>().is_ok() {
        return s.to_string();
    }
    let host = host.split('.').next().unwrap_or("").to_string();
    if port.is_empty() {
        host
    } else if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Go's `strings.Title`: upper-cases the first letter of each word.
fn title(s: &str) -> String {
    let sep = |c: char| {
        if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else {
            !c.is_alphanumeric() && c.is_whitespace()
        }
    };
    let mut out = String::new();
    let mut prev = ' ';
    for c in s.chars() {
        if sep(prev) {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev = c;
    }
    out
}

fn regex(p: &str) -> R<regex::Regex> {
    regex::Regex::new(p).or_else(|e| err(format!("regexp: Compile({p:?}): {e}")))
}

/// Prometheus's duration syntax (`1h30m`, `2d`, `500ms`), in seconds.
fn parse_duration(s: &str) -> R<f64> {
    let bad = || err(format!("not a valid duration string: \"{s}\""));
    if s == "0" {
        return Ok(0.0);
    }
    let mut total = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return bad();
        }
        let n: f64 = rest[..digits].parse().or_else(|_| bad())?;
        rest = &rest[digits..];
        let Some(unit) = ["ms", "s", "m", "h", "d", "w", "y"]
            .into_iter()
            .find(|u| rest.starts_with(u))
        else {
            return bad();
        };
        rest = &rest[unit.len()..];
        total += n * match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            "w" => 604_800.0,
            _ => 31_536_000.0,
        };
    }
    Ok(total)
}

/// Go's `fmt.Sprint`: a space between operands when neither is a string.
fn sprint(args: &[Val]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        let is_str = |v: &Val| matches!(v, Val::Str(_));
        if i > 0 && !is_str(a) && !is_str(&args[i - 1]) {
            out.push(' ');
        }
        out.push_str(&a.show());
    }
    out
}

fn html_escape(s: &str) -> String {
    let mut o = String::new();
    for c in s.chars() {
        match c {
            '"' => o.push_str("&#34;"),
            '\'' => o.push_str("&#39;"),
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '\0' => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

fn js_escape(s: &str) -> String {
    let mut o = String::new();
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '\'' => o.push_str("\\'"),
            '"' => o.push_str("\\\""),
            '<' => o.push_str("\\u003C"),
            '>' => o.push_str("\\u003E"),
            '&' => o.push_str("\\u0026"),
            '=' => o.push_str("\\u003D"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04X}", c as u32)),
            c => o.push(c),
        }
    }
    o
}

fn query_escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Go's basic kinds for comparisons.
fn kind(v: &Val) -> Option<u8> {
    Some(match v {
        Val::Bool(_) => 0,
        Val::Int(_) => 1,
        Val::Float(_) => 2,
        Val::Str(_) => 3,
        _ => return None,
    })
}

fn compare(a: &Val, b: &Val, ordered: bool) -> R<std::cmp::Ordering> {
    let (ka, kb) = (kind(a), kind(b));
    if ka.is_none() || kb.is_none() || (ordered && ka == Some(0)) {
        return err("invalid type for comparison");
    }
    if ka != kb {
        return err("incompatible types for comparison");
    }
    Ok(match (a, b) {
        (Val::Bool(x), Val::Bool(y)) => x.cmp(y),
        (Val::Int(x), Val::Int(y)) => x.cmp(y),
        (Val::Float(x), Val::Float(y)) => x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Less),
        (Val::Str(x), Val::Str(y)) => x.cmp(y),
        _ => return err("invalid type for comparison"),
    })
}

/// Calls function `name` (the piped value, if any, is the last of `args`).
pub fn call(name: &str, args: Vec<Val>, env: &Env) -> R<Val> {
    use std::cmp::Ordering::*;
    let a = &args;
    let f1 = |f: fn(f64) -> String| -> R<Val> {
        want(name, a, 1)?;
        Ok(Val::Str(f(float(&a[0])?)))
    };
    let s1 = |f: fn(&str) -> String| -> R<Val> {
        want(name, a, 1)?;
        Ok(Val::Str(f(&string(&a[0])?)))
    };
    Ok(match name {
        n if ONLINE.contains(&n) => {
            return Err(Fail::Offline(format!(
                "`{n}` needs a live Prometheus: not renderable offline"
            )))
        }
        "not" => {
            want(name, a, 1)?;
            Val::Bool(!a[0].truth())
        }
        "len" => {
            want(name, a, 1)?;
            Val::Int(match &a[0] {
                Val::Str(s) => s.len(),
                Val::Map(m, _) => m.len(),
                o => return err(format!("len of type {}", o.type_name())),
            } as i64)
        }
        "index" => {
            let (first, keys) = a
                .split_first()
                .ok_or(Fail::Error("index of nothing".into()))?;
            let mut v = first.clone();
            for k in keys {
                v = match (&v, k) {
                    (Val::Map(m, zero), Val::Str(s)) => m.get(s).cloned().unwrap_or(*zero.clone()),
                    (Val::Nil, _) => return err("index of untyped nil"),
                    (o, _) => return err(format!("can't index item of type {}", o.type_name())),
                };
            }
            v
        }
        "slice" => {
            let (s, idx) = a
                .split_first()
                .ok_or(Fail::Error("slice of nothing".into()))?;
            let Val::Str(s) = s else {
                return err("slice of a non-string");
            };
            let n: Vec<usize> = idx
                .iter()
                .map(|v| match v {
                    Val::Int(i) if *i >= 0 => Ok(*i as usize),
                    _ => err("slice index must be a non-negative integer"),
                })
                .collect::<R<_>>()?;
            let (lo, hi) = (
                n.first().copied().unwrap_or(0),
                n.get(1).copied().unwrap_or(s.len()),
            );
            match s.get(lo..hi) {
                Some(x) => Val::Str(x.into()),
                None => return err(format!("index out of range: {hi}")),
            }
        }
        "print" => Val::Str(sprint(a)),
        "println" => {
            let v: Vec<String> = a.iter().map(Val::show).collect();
            Val::Str(format!("{}\n", v.join(" ")))
        }
        "printf" => {
            let (f, rest) = a
                .split_first()
                .ok_or(Fail::Error("printf of nothing".into()))?;
            Val::Str(super::printf::sprintf(&string(f)?, rest))
        }
        "html" => Val::Str(html_escape(&sprint(a))),
        "js" => Val::Str(js_escape(&sprint(a))),
        "urlquery" => Val::Str(query_escape(&sprint(a))),
        "eq" | "ne" => {
            if a.len() < 2 {
                return err("missing argument for comparison");
            }
            let mut hit = false;
            for b in &a[1..] {
                hit |= compare(&a[0], b, false)? == Equal;
            }
            Val::Bool(hit == (name == "eq"))
        }
        "lt" | "le" | "gt" | "ge" => {
            want(name, a, 2)?;
            let o = compare(&a[0], &a[1], true)?;
            Val::Bool(match name {
                "lt" => o == Less,
                "le" => o != Greater,
                "gt" => o == Greater,
                _ => o != Less,
            })
        }
        "call" => return err("call of a non-function"),
        "args" => Val::Map(
            a.iter()
                .enumerate()
                .map(|(i, v)| (format!("arg{i}"), v.clone()))
                .collect::<BTreeMap<_, _>>(),
            Box::new(Val::Nil),
        ),
        "reReplaceAll" => {
            want(name, a, 3)?;
            let re = regex(&string(&a[0])?)?;
            let repl = string(&a[1])?;
            Val::Str(re.replace_all(&string(&a[2])?, repl.as_str()).into_owned())
        }
        "match" => {
            want(name, a, 2)?;
            Val::Bool(regex(&string(&a[0])?)?.is_match(&string(&a[1])?))
        }
        "safeHtml" => s1(|s| s.to_string())?,
        "title" => s1(title)?,
        "toUpper" => s1(str::to_uppercase)?,
        "toLower" => s1(str::to_lowercase)?,
        "graphLink" => s1(|e| format!("/graph?g0.expr={}&g0.tab=0", query_escape(e)))?,
        "tableLink" => s1(|e| format!("/graph?g0.expr={}&g0.tab=1", query_escape(e)))?,
        "stripPort" => s1(|s| split_host_port(s).map_or(s.to_string(), |(h, _)| h))?,
        "stripDomain" => s1(strip_domain)?,
        "humanize" => f1(humanize)?,
        "humanize1024" => f1(humanize1024)?,
        "humanizeDuration" => f1(humanize_duration)?,
        "humanizePercentage" => f1(|v| format!("{}%", fmt_g(v * 100.0, 4)))?,
        "humanizeTimestamp" => {
            want(name, a, 1)?;
            let v = float(&a[0])?;
            if !v.is_finite() {
                Val::Str(fmt_g(v, 4))
            } else {
                Val::Str(to_time(v)?.show())
            }
        }
        "toTime" => {
            want(name, a, 1)?;
            to_time(float(&a[0])?)?
        }
        "toDuration" => {
            want(name, a, 1)?;
            let v = float(&a[0])?;
            if !v.is_finite() {
                return err("value is NaN or Inf");
            }
            Val::Duration((v * 1e9) as i64)
        }
        "parseDuration" => {
            want(name, a, 1)?;
            Val::Float(parse_duration(&string(&a[0])?)?)
        }
        "pathPrefix" => {
            want(name, a, 0)?;
            let path = url::Url::parse(env.external_url)
                .map(|u| u.path().trim_end_matches('/').to_string())
                .unwrap_or_default();
            Val::Str(path)
        }
        "externalURL" => {
            want(name, a, 0)?;
            Val::Str(env.external_url.to_string())
        }
        other => return err(format!("function \"{other}\" not defined")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_duration_helpers_follow_go() {
        assert_eq!(split_host_port("10.0.0.1:9100").unwrap().0, "10.0.0.1");
        assert_eq!(split_host_port("[::1]:80").unwrap().0, "::1");
        assert!(split_host_port("node-1").is_none());
        assert!(split_host_port("::1").is_none());
        assert_eq!(strip_domain("node-1.example.com:9100"), "node-1:9100");
        assert_eq!(strip_domain("10.0.0.1:9100"), "10.0.0.1:9100");
        assert_eq!(strip_domain("db.internal"), "db");
        assert_eq!(parse_duration("1h30m").unwrap(), 5400.0);
        assert_eq!(parse_duration("500ms").unwrap(), 0.5);
        assert!(parse_duration("1x").is_err());
        assert_eq!(
            title("node exporter_down is-bad"),
            "Node Exporter_down Is-Bad"
        );
    }
}
