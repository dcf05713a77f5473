//! Alert annotation templates, as Prometheus writes them (Go `text/template`):
//! `{{ $labels.instance }}`, `{{ $value }}`, `{{ $value | humanize }}`,
//! `{{ humanizePercentage $value }}`, `{{ printf "%.2f" $value }}`.
//!
//! [`check`] validates a template offline: balanced `{{ }}` (strings inside actions are
//! skipped), matched `if`/`range`/`with` … `end`, known variables and functions.
//! [`render`] fills in one alert series: the common forms above are rendered as Prometheus
//! renders them; an action it cannot evaluate (`query`, `if`, `range` …) is kept as written.
//! Pure: no I/O.

use super::gofmt::{fmt_g, fmt_v, humanize, humanize1024, humanize_duration, printf};
use std::collections::BTreeMap;

/// Variables Prometheus defines for an alert template.
const VARIABLES: [&str; 5] = ["$", "$labels", "$value", "$externalLabels", "$externalURL"];

/// Functions of Go templates and of Prometheus's template library.
const FUNCTIONS: &[&str] = &[
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
    "pathPrefix",
    "externalURL",
    "parseDuration",
    "toDuration",
    "now",
];

/// Words of the template language itself.
const KEYWORDS: &[&str] = &[
    "if", "else", "end", "range", "with", "define", "block", "template", "break", "continue",
    "nil", "true", "false",
];

/// One piece of a template: literal text, or the inside of a `{{ … }}` action.
#[derive(Debug, PartialEq)]
enum Piece<'a> {
    Text(&'a str),
    Action(&'a str),
}

/// Splits a template into text and actions; Err on a `{{` without its `}}`. Trim markers
/// (`{{-`, `-}}`) are applied to the neighbouring text.
fn pieces(t: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = t;
    let mut trim_next = false;
    while let Some(open) = rest.find("{{") {
        let mut text = &rest[..open];
        if trim_next {
            text = text.trim_start();
        }
        let mut inner_start = open + 2;
        if rest[inner_start..].starts_with("- ") {
            text = text.trim_end();
            inner_start += 1;
        }
        out.push(Piece::Text(text));
        let close = find_close(&rest[inner_start..]).ok_or_else(|| {
            format!(
                "`{{{{` at `{}` has no closing `}}}}`",
                snippet(&rest[open..])
            )
        })?;
        let mut inner = &rest[inner_start..inner_start + close];
        trim_next = inner.ends_with(" -");
        if trim_next {
            inner = &inner[..inner.len() - 1];
        }
        out.push(Piece::Action(inner.trim()));
        rest = &rest[inner_start + close + 2..];
    }
    out.push(Piece::Text(if trim_next {
        rest.trim_start()
    } else {
        rest
    }));
    Ok(out)
}

fn snippet(s: &str) -> String {
    s.chars().take(30).collect()
}

/// Offset of the `}}` ending an action, skipping quoted strings and comments.
fn find_close(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    if s.trim_start().starts_with("/*") {
        let end = s.find("*/")?;
        return s[end..].find("}}").map(|k| end + k);
    }
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'`' | b'\'') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += if b[i] == b'\\' && q != b'`' { 2 } else { 1 };
                }
            }
            b'}' if b.get(i + 1) == Some(&b'}') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Tokens of an action: quoted strings kept whole, `|`, `(`, `)` and `,` on their own.
fn tokens(action: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = action.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' | '`' | '\'' => {
                let mut s = String::from(c);
                while let Some(d) = chars.next() {
                    s.push(d);
                    if d == '\\' && c != '`' {
                        if let Some(e) = chars.next() {
                            s.push(e);
                        }
                    } else if d == c {
                        break;
                    }
                }
                out.push(s);
            }
            '|' | '(' | ')' | ',' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                out.push(c.to_string());
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Checks a template offline (see the module doc). The error names what is wrong.
pub fn check(t: &str) -> Result<(), String> {
    let mut open: Vec<String> = Vec::new();
    let mut declared: Vec<String> = Vec::new();
    for piece in pieces(t)? {
        let Piece::Action(a) = piece else { continue };
        if a.starts_with("/*") {
            continue;
        }
        let toks = tokens(a);
        let first = toks.first().map(String::as_str).unwrap_or("");
        match first {
            "if" | "range" | "with" | "define" | "block" => open.push(first.to_string()),
            "end" => {
                open.pop()
                    .ok_or_else(|| "`{{ end }}` without an `if`, `range` or `with`".to_string())?;
            }
            "else" if open.is_empty() => {
                return Err("`{{ else }}` without an `if`, `range` or `with`".into())
            }
            "" => return Err("empty action `{{ }}`".into()),
            _ => {}
        }
        for (i, tok) in toks.iter().enumerate() {
            if tok.starts_with(['"', '`', '\'']) {
                continue;
            }
            if let Some(var) = tok.strip_prefix('$') {
                let name = format!("${}", var.split('.').next().unwrap_or(""));
                let assigns = matches!(toks.get(i + 1).map(String::as_str), Some(":=" | "="))
                    || (toks.get(i + 1).map(String::as_str) == Some(",")
                        && toks.get(i + 3).map(String::as_str) == Some(":="));
                if assigns {
                    declared.push(name);
                } else if !VARIABLES.contains(&name.as_str()) && !declared.contains(&name) {
                    return Err(format!(
                        "unknown variable `{name}` in `{{{{ {a} }}}}` (Prometheus defines \
                         $labels, $value, $externalLabels, $externalURL)"
                    ));
                }
                continue;
            }
            let word = tok.as_str();
            let is_ident = word
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
            if is_ident
                && !word.contains('.')
                && !KEYWORDS.contains(&word)
                && !FUNCTIONS.contains(&word)
            {
                return Err(format!("unknown function `{word}` in `{{{{ {a} }}}}`"));
            }
        }
    }
    match open.last() {
        Some(kw) => Err(format!("`{{{{ {kw} … }}}}` has no `{{{{ end }}}}`")),
        None => Ok(()),
    }
}

/// A value inside a template pipeline.
#[derive(Debug, Clone)]
enum Val {
    Num(f64),
    Str(String),
}

impl Val {
    fn text(&self) -> String {
        match self {
            Val::Num(v) => fmt_v(*v),
            Val::Str(s) => s.clone(),
        }
    }
    fn num(&self) -> Option<f64> {
        match self {
            Val::Num(v) => Some(*v),
            Val::Str(s) => s.trim().parse().ok(),
        }
    }
}

/// Renders `t` for one alert series with its `labels` and `value`. Actions that cannot be
/// evaluated here are kept as written, so nothing is silently dropped.
pub fn render(t: &str, labels: &BTreeMap<String, String>, value: f64) -> String {
    let Ok(parts) = pieces(t) else {
        return t.to_string();
    };
    let mut out = String::new();
    for p in parts {
        match p {
            Piece::Text(s) => out.push_str(s),
            Piece::Action(a) if a.starts_with("/*") => {}
            Piece::Action(a) => match eval(a, labels, value) {
                Some(v) => out.push_str(&v.text()),
                None => out.push_str(&format!("{{{{ {a} }}}}")),
            },
        }
    }
    out
}

fn eval(action: &str, labels: &BTreeMap<String, String>, value: f64) -> Option<Val> {
    let toks = tokens(action);
    let mut acc: Option<Val> = None;
    for cmd in toks.split(|t| t == "|") {
        let (head, args) = cmd.split_first()?;
        let mut args: Vec<Val> = args
            .iter()
            .map(|a| operand(a, labels, value))
            .collect::<Option<_>>()?;
        args.extend(acc.take());
        acc = Some(match operand(head, labels, value) {
            Some(v) if args.is_empty() => v,
            Some(_) => return None,
            None => call(head, &args)?,
        });
    }
    acc
}

fn operand(tok: &str, labels: &BTreeMap<String, String>, value: f64) -> Option<Val> {
    let label = |k: &str| Val::Str(labels.get(k).cloned().unwrap_or_default());
    if let Some(k) = tok
        .strip_prefix("$labels.")
        .or(tok.strip_prefix(".Labels."))
    {
        return Some(label(k));
    }
    if tok.starts_with("$externalLabels.") || tok.starts_with(".ExternalLabels.") {
        return Some(Val::Str(String::new()));
    }
    match tok {
        "$value" | ".Value" => return Some(Val::Num(value)),
        _ => {}
    }
    if let Some(s) = tok.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return Some(Val::Str(
            s.replace("\\\"", "\"")
                .replace("\\n", "\n")
                .replace("\\\\", "\\"),
        ));
    }
    if let Some(s) = tok.strip_prefix('`').and_then(|s| s.strip_suffix('`')) {
        return Some(Val::Str(s.to_string()));
    }
    tok.parse::<f64>().ok().map(Val::Num)
}

fn call(f: &str, args: &[Val]) -> Option<Val> {
    let one = || args.first().and_then(Val::num).filter(|_| args.len() == 1);
    Some(Val::Str(match f {
        "humanize" => humanize(one()?),
        "humanize1024" => humanize1024(one()?),
        "humanizePercentage" => format!("{}%", fmt_g(one()? * 100.0, 4)),
        "humanizeDuration" => humanize_duration(one()?),
        "toUpper" if args.len() == 1 => args[0].text().to_uppercase(),
        "toLower" if args.len() == 1 => args[0].text().to_lowercase(),
        "title" if args.len() == 1 => title(&args[0].text()),
        "printf" => {
            let (fmt, rest) = args.split_first()?;
            let Val::Str(fmt) = fmt else { return None };
            let nums: Vec<(Option<f64>, String)> =
                rest.iter().map(|a| (a.num(), a.text())).collect();
            printf(fmt, &nums)?
        }
        "print" => args.iter().map(Val::text).collect::<Vec<_>>().join(""),
        _ => return None,
    }))
}

fn title(s: &str) -> String {
    let mut out = String::new();
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !c.is_alphanumeric();
    }
    out
}

#[cfg(test)]
mod tests;
