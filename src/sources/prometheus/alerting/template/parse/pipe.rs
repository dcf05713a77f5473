//! A pipeline from an action's tokens: `$x :=` declarations, commands separated by `|`,
//! parenthesised sub-pipelines and the operands Go's parser accepts.

use super::lex::Tok;
use super::{Arg, Pipe};

fn fields_of(path: &str) -> Vec<String> {
    path.split('.')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Parses one operand word.
fn word(w: &str) -> Result<Arg, String> {
    if w == "." {
        return Ok(Arg::Dot(Vec::new()));
    }
    if let Some(rest) = w.strip_prefix('.') {
        return Ok(Arg::Dot(fields_of(rest)));
    }
    if let Some(rest) = w.strip_prefix('$') {
        let (name, path) = rest.split_once('.').unwrap_or((rest, ""));
        return Ok(Arg::Var(format!("${name}"), fields_of(path)));
    }
    match w {
        "true" => return Ok(Arg::Bool(true)),
        "false" => return Ok(Arg::Bool(false)),
        "nil" => return Ok(Arg::Nil),
        _ => {}
    }
    let first = w.chars().next().unwrap_or(' ');
    if first.is_ascii_digit() || ((first == '-' || first == '+' || first == '.') && w.len() > 1) {
        return Ok(Arg::Num(w.to_string()));
    }
    if first.is_alphabetic() || first == '_' {
        if w.contains('.') {
            return Err(format!(
                "unexpected `.` after `{}`",
                w.split('.').next().unwrap_or(w)
            ));
        }
        return Ok(Arg::Ident(w.to_string()));
    }
    Err(format!("unexpected `{w}`"))
}

/// Parses a pipeline from tokens (`decl_ok`: `$x :=` allowed; `range`: `$i, $v :=`).
pub(super) fn pipe(toks: &[(Tok, usize)], decl_ok: bool, base: usize) -> Result<Pipe, String> {
    let mut p = Pipe::default();
    let mut rest = toks;
    if decl_ok {
        let var = |t: Option<&(Tok, usize)>| match t {
            Some((Tok::Word(w), _)) if w.starts_with('$') && !w.contains('.') => Some(w.clone()),
            _ => None,
        };
        let is = |i: usize, want: &[Tok]| rest.get(i).is_some_and(|t| want.contains(&t.0));
        let binds = [Tok::Declare, Tok::Assign];
        if let (Some(a), true) = (var(rest.first()), is(1, &binds)) {
            p.decl.push(a);
            p.assign = rest[1].0 == Tok::Assign;
            rest = &rest[2..];
        } else if let (Some(a), true, Some(b), true) = (
            var(rest.first()),
            is(1, &[Tok::Comma]),
            var(rest.get(2)),
            is(3, &binds),
        ) {
            p.decl = vec![a, b];
            p.assign = rest[3].0 == Tok::Assign;
            rest = &rest[4..];
        }
    }
    let mut i = 0;
    let mut cmd = Vec::new();
    while i < rest.len() {
        if cmd.is_empty() {
            p.cmd_at.push(base + rest[i].1);
        }
        match &rest[i].0 {
            Tok::Pipe => {
                if cmd.is_empty() {
                    return Err("missing command before `|`".into());
                }
                p.cmds.push(std::mem::take(&mut cmd));
            }
            Tok::Open => {
                let mut depth = 1;
                let s = i + 1;
                while depth > 0 {
                    i += 1;
                    match rest.get(i).map(|t| &t.0) {
                        Some(Tok::Open) => depth += 1,
                        Some(Tok::Close) => depth -= 1,
                        Some(_) => {}
                        None => return Err("unclosed left paren".into()),
                    }
                }
                let inner = pipe(&rest[s..i], false, base)?;
                let fields = match rest.get(i + 1).map(|t| &t.0) {
                    Some(Tok::Fields(f)) => {
                        i += 1;
                        f.clone()
                    }
                    _ => Vec::new(),
                };
                cmd.push(Arg::Sub(Box::new(inner), fields));
            }
            Tok::Close => return Err("unexpected right paren".into()),
            Tok::Word(w) => cmd.push(word(w)?),
            Tok::Str(s) => cmd.push(Arg::Str(s.clone())),
            Tok::Char(c) => cmd.push(Arg::Num((*c as u32).to_string())),
            Tok::Comma => return Err("unexpected `,`".into()),
            Tok::Declare | Tok::Assign => return Err("unexpected `:=` or `=`".into()),
            Tok::Fields(_) => return Err("unexpected field".into()),
        }
        i += 1;
    }
    if cmd.is_empty() {
        return Err(if p.cmds.is_empty() {
            "missing value for command".into()
        } else {
            "missing command after `|`".into()
        });
    }
    p.cmds.push(cmd);
    Ok(p)
}
