//! The lexical half: a template cut into text and actions (trim markers applied), and an
//! action's text into tokens with their offsets, strings unquoted as Go unquotes them.

use super::{err_at, ParseError};

/// A raw piece: text, or an action's inner text with its offset in the template.
pub(super) enum Raw<'a> {
    Text(String),
    Action(&'a str, usize),
}

/// Splits the template into text and actions, applying trim markers.
pub(super) fn split(t: &str) -> Result<Vec<Raw<'_>>, ParseError> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut trim_next = false;
    while let Some(k) = t[i..].find("{{") {
        let open = i + k;
        let mut text = &t[i..open];
        if trim_next {
            text = text.trim_start();
        }
        let mut start = open + 2;
        if t[start..].starts_with("- ")
            || t[start..].starts_with("-\t")
            || t[start..].starts_with("-\n")
        {
            text = text.trim_end();
            start += 1;
        }
        out.push(Raw::Text(text.to_string()));
        let close = find_close(&t[start..])
            .ok_or_else(|| err_at(t, open, "unclosed action: `{{` has no closing `}}`"))?;
        let mut inner = &t[start..start + close];
        trim_next = inner.ends_with(" -") || inner.ends_with("\t-") || inner.ends_with("\n-");
        if trim_next {
            inner = &inner[..inner.len() - 1];
        }
        out.push(Raw::Action(inner, start));
        i = start + close + 2;
    }
    let rest = &t[i..];
    out.push(Raw::Text(
        if trim_next { rest.trim_start() } else { rest }.to_string(),
    ));
    Ok(out)
}

/// Offset of the `}}` ending an action, skipping quoted strings and a comment.
fn find_close(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let lead = s.len() - s.trim_start().len();
    if s[lead..].starts_with("/*") {
        let end = s.find("*/")? + 2;
        return s[end..].find("}}").map(|k| end + k);
    }
    let mut i = 0;
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

/// A token of an action.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Word(String),
    Str(String),
    Char(char),
    Pipe,
    Open,
    Close,
    Comma,
    Declare,
    Assign,
    /// `.A.B` after a closing parenthesis.
    Fields(Vec<String>),
}

fn unquote(q: &str) -> Option<String> {
    let mut out = String::new();
    let mut it = q.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next()? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            '\'' => out.push('\''),
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            'x' => {
                let h: String = it.by_ref().take(2).collect();
                out.push(char::from(u8::from_str_radix(&h, 16).ok()?));
            }
            'u' | 'U' => return None,
            _ => return None,
        }
    }
    Some(out)
}

/// The tokens of action text `a`, each with its byte offset in `a`.
pub(super) fn tokens(a: &str) -> Result<Vec<(Tok, usize)>, String> {
    let byte: Vec<usize> = a.char_indices().map(|(b, _)| b).collect();
    let mut out = Vec::new();
    let mut pos = Vec::new();
    let cs: Vec<char> = a.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        let start = byte.get(i).copied().unwrap_or(a.len());
        let before = out.len();
        match c {
            c if c.is_whitespace() => i += 1,
            '|' => {
                out.push(Tok::Pipe);
                i += 1
            }
            '(' => {
                out.push(Tok::Open);
                i += 1
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
                let mut fields = Vec::new();
                while i < cs.len() && cs[i] == '.' {
                    let s = i + 1;
                    i = s;
                    while i < cs.len() && (cs[i].is_alphanumeric() || cs[i] == '_') {
                        i += 1;
                    }
                    fields.push(cs[s..i].iter().collect());
                }
                if !fields.is_empty() {
                    out.push(Tok::Fields(fields));
                }
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            ':' if cs.get(i + 1) == Some(&'=') => {
                out.push(Tok::Declare);
                i += 2
            }
            '=' => {
                out.push(Tok::Assign);
                i += 1
            }
            '"' | '`' | '\'' => {
                let s = i + 1;
                i = s;
                while i < cs.len() && cs[i] != c {
                    i += if cs[i] == '\\' && c != '`' { 2 } else { 1 };
                }
                if i >= cs.len() {
                    return Err(format!("unterminated quoted string in `{a}`"));
                }
                let raw: String = cs[s..i].iter().collect();
                i += 1;
                match c {
                    '`' => out.push(Tok::Str(raw)),
                    '"' => out.push(Tok::Str(
                        unquote(&raw).ok_or_else(|| format!("bad escape in \"{raw}\""))?,
                    )),
                    _ => {
                        let u = unquote(&raw).ok_or_else(|| format!("bad character '{raw}'"))?;
                        let mut it = u.chars();
                        match (it.next(), it.next()) {
                            (Some(ch), None) => out.push(Tok::Char(ch)),
                            _ => return Err(format!("bad character constant '{raw}'")),
                        }
                    }
                }
            }
            _ => {
                let s = i;
                while i < cs.len() && !cs[i].is_whitespace() && !"|(),=\"`'".contains(cs[i]) {
                    if cs[i] == ':' && cs.get(i + 1) == Some(&'=') {
                        break;
                    }
                    i += 1;
                }
                if i == s {
                    return Err(format!("unexpected `{c}` in `{a}`"));
                }
                out.push(Tok::Word(cs[s..i].iter().collect()));
            }
        }
        pos.resize(before, 0);
        pos.resize(out.len(), start);
    }
    Ok(out.into_iter().zip(pos).collect())
}
