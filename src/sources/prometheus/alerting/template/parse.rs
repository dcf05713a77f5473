//! Go `text/template` syntax into a tree: text, actions (`{{ pipeline }}`), `if`/`else if`/
//! `range`/`with` … `else` … `end`, `define`/`template`/`block`, `break`/`continue`,
//! comments and trim markers (`{{- ` and ` -}}`). Errors carry line:column inside the
//! template, as Go's do.

use std::collections::BTreeMap;

/// A parse error: where (1-based line and column inside the template) and what.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub line: usize,
    pub col: usize,
    pub msg: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.col, self.msg)
    }
}

/// One operand of a command.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// `.`, `.A.B`: fields of the current value.
    Dot(Vec<String>),
    /// `$x.A.B` (`$` alone is the root).
    Var(String, Vec<String>),
    /// A function name.
    Ident(String),
    Str(String),
    /// A number as written (typed by Go's rules when used).
    Num(String),
    Bool(bool),
    Nil,
    /// `(pipeline).A.B`.
    Sub(Box<Pipe>, Vec<String>),
}

/// `$a, $b :=` or `$a =` before a pipeline.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pipe {
    pub decl: Vec<String>,
    /// `=` rather than `:=`.
    pub assign: bool,
    pub cmds: Vec<Vec<Arg>>,
    /// Byte offset in the template where each command starts (for Go's error positions).
    pub cmd_at: Vec<usize>,
    /// Line and column of its action in the template.
    pub at: (usize, usize),
}

impl std::fmt::Display for Arg {
    /// As Go's parse nodes print themselves (in error messages: `at <gt $value 80>`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = |p: &[String]| p.iter().map(|x| format!(".{x}")).collect::<String>();
        match self {
            Arg::Dot(p) if p.is_empty() => f.write_str("."),
            Arg::Dot(p) => f.write_str(&path(p)),
            Arg::Var(v, p) => write!(f, "{v}{}", path(p)),
            Arg::Ident(n) | Arg::Num(n) => f.write_str(n),
            Arg::Str(s) => write!(f, "{s:?}"),
            Arg::Bool(b) => write!(f, "{b}"),
            Arg::Nil => f.write_str("nil"),
            Arg::Sub(p, fields) => write!(f, "({p}){}", path(fields)),
        }
    }
}

impl std::fmt::Display for Pipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.decl.is_empty() {
            write!(
                f,
                "{} {} ",
                self.decl.join(", "),
                if self.assign { "=" } else { ":=" }
            )?;
        }
        let cmds: Vec<String> = self.cmds.iter().map(|c| show_command(c)).collect();
        f.write_str(&cmds.join(" | "))
    }
}

/// A command as Go prints it: its operands separated by spaces.
pub fn show_command(cmd: &[Arg]) -> String {
    cmd.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A node of the tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Text(String),
    Action(Pipe),
    If(Pipe, Vec<Node>, Vec<Node>),
    Range(Pipe, Vec<Node>, Vec<Node>),
    With(Pipe, Vec<Node>, Vec<Node>),
    Template(String, Option<Pipe>),
    Break,
    Continue,
}

/// A parsed template: the main tree and the `define`d ones.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    pub root: Vec<Node>,
    pub defines: BTreeMap<String, Vec<Node>>,
}

/// A raw piece: text, or an action's inner text with its offset in the template.
enum Raw<'a> {
    Text(String),
    Action(&'a str, usize),
}

fn pos_of(t: &str, off: usize) -> (usize, usize) {
    let before = &t[..off.min(t.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

fn err_at(t: &str, off: usize, msg: impl Into<String>) -> ParseError {
    let (line, col) = pos_of(t, off);
    ParseError {
        line,
        col,
        msg: msg.into(),
    }
}

/// Splits the template into text and actions, applying trim markers.
fn split(t: &str) -> Result<Vec<Raw<'_>>, ParseError> {
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
enum Tok {
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
fn tokens(a: &str) -> Result<Vec<(Tok, usize)>, String> {
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
fn pipe(toks: &[(Tok, usize)], decl_ok: bool, base: usize) -> Result<Pipe, String> {
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

/// How a list of nodes ended.
enum End {
    Eof,
    /// At `{{ end }}`.
    Closed,
    /// `else` and the tokens after it, with the offset of its action.
    Else(Vec<(Tok, usize)>, usize),
}

struct Parser<'a> {
    text: &'a str,
    raw: Vec<Raw<'a>>,
    at: usize,
    defines: BTreeMap<String, Vec<Node>>,
    loops: usize,
}

impl Parser<'_> {
    fn list(&mut self) -> Result<(Vec<Node>, End, usize), ParseError> {
        let mut nodes = Vec::new();
        while self.at < self.raw.len() {
            let i = self.at;
            self.at += 1;
            let (a, off) = match &self.raw[i] {
                Raw::Text(t) => {
                    if !t.is_empty() {
                        nodes.push(Node::Text(t.clone()));
                    }
                    continue;
                }
                Raw::Action(a, off) => (*a, *off),
            };
            let trimmed = a.trim();
            if trimmed.starts_with("/*") {
                if !trimmed.ends_with("*/") {
                    return Err(err_at(
                        self.text,
                        off,
                        "comment ends before closing delimiter",
                    ));
                }
                continue;
            }
            let e = |m: String| err_at(self.text, off, m);
            let toks = tokens(a).map_err(e)?;
            let kw = match toks.first().map(|t| &t.0) {
                Some(Tok::Word(w)) => w.as_str(),
                None => return Err(e("missing value for command".into())),
                _ => "",
            };
            match kw {
                "end" => return Ok((nodes, End::Closed, off)),
                "else" => return Ok((nodes, End::Else(toks[1..].to_vec(), off), off)),
                "if" | "with" | "range" => {
                    let node = self.control(kw, &toks[1..], off)?;
                    nodes.push(node);
                }
                "define" | "block" => {
                    let name = match toks.get(1).map(|t| &t.0) {
                        Some(Tok::Str(s)) => s.clone(),
                        _ => return Err(e(format!("`{kw}` needs a quoted template name"))),
                    };
                    let arg = if kw == "block" {
                        Some(pipe(&toks[2..], false, off).map_err(e)?)
                    } else {
                        None
                    };
                    let (body, end, _) = self.list()?;
                    if !matches!(end, End::Closed) {
                        return Err(e(format!("unexpected EOF or else in `{kw}`")));
                    }
                    self.defines.insert(name.clone(), body);
                    if kw == "block" {
                        nodes.push(Node::Template(name, arg));
                    }
                }
                "template" => {
                    let name = match toks.get(1).map(|t| &t.0) {
                        Some(Tok::Str(s)) => s.clone(),
                        _ => return Err(e("`template` needs a quoted template name".into())),
                    };
                    let arg = if toks.len() > 2 {
                        Some(pipe(&toks[2..], false, off).map_err(e)?)
                    } else {
                        None
                    };
                    nodes.push(Node::Template(name, arg));
                }
                "break" | "continue" if toks.len() == 1 => {
                    if self.loops == 0 {
                        return Err(e(format!("{{{{{kw}}}}} outside {{{{range}}}}")));
                    }
                    nodes.push(if kw == "break" {
                        Node::Break
                    } else {
                        Node::Continue
                    });
                }
                _ => {
                    let mut p = pipe(&toks, true, off).map_err(e)?;
                    p.at = pos_of(self.text, off);
                    nodes.push(Node::Action(p));
                }
            }
        }
        Ok((nodes, End::Eof, self.text.len()))
    }

    /// `if`/`with`/`range` after its keyword: body, optional else (or `else if` chain), end.
    fn control(&mut self, kw: &str, toks: &[(Tok, usize)], off: usize) -> Result<Node, ParseError> {
        let e = |m: String| err_at(self.text, off, m);
        let mut p = pipe(toks, true, off).map_err(e)?;
        p.at = pos_of(self.text, off);
        if kw == "range" {
            self.loops += 1;
        }
        let (body, end, end_off) = self.list()?;
        if kw == "range" {
            self.loops -= 1;
        }
        let other = match end {
            End::Eof => return Err(e(format!("`{{{{ {kw} … }}}}` has no `{{{{ end }}}}`"))),
            End::Closed => Vec::new(),
            End::Else(rest, _) if rest.is_empty() => {
                let (other, end2, o2) = self.list()?;
                if !matches!(end2, End::Closed) {
                    return Err(err_at(
                        self.text,
                        o2,
                        format!("expected `{{{{end}}}}` for `{kw}`"),
                    ));
                }
                other
            }
            // `else if …` / `else with …`: a nested control sharing this one's `end`.
            End::Else(rest, else_off) => match rest.first().map(|t| &t.0) {
                Some(Tok::Word(w)) if w == "if" || w == "with" => {
                    let w = w.clone();
                    vec![self.control(&w, &rest[1..], else_off)?]
                }
                _ => return Err(err_at(self.text, end_off, "unexpected words after `else`")),
            },
        };
        Ok(match kw {
            "if" => Node::If(p, body, other),
            "with" => Node::With(p, body, other),
            _ => Node::Range(p, body, other),
        })
    }
}

/// Parses a template.
pub fn parse(text: &str) -> Result<Tree, ParseError> {
    let mut p = Parser {
        text,
        raw: split(text)?,
        at: 0,
        defines: BTreeMap::new(),
        loops: 0,
    };
    let (root, end, off) = p.list()?;
    match end {
        End::Eof => Ok(Tree {
            root,
            defines: p.defines,
        }),
        End::Closed => Err(err_at(
            text,
            off,
            "`{{ end }}` without an `if`, `range` or `with`",
        )),
        End::Else(..) => Err(err_at(
            text,
            off,
            "`{{ else }}` without an `if`, `range` or `with`",
        )),
    }
}
