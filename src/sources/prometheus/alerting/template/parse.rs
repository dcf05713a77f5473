//! Go `text/template` syntax into a tree: text, actions (`{{ pipeline }}`), `if`/`else if`/
//! `range`/`with` … `else` … `end`, `define`/`template`/`block`, `break`/`continue`,
//! comments and trim markers (`{{- ` and ` -}}`). Errors carry line:column inside the
//! template, as Go's do.

mod lex;
mod pipe;

use lex::{split, tokens, Raw, Tok};
use pipe::pipe;
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
