//! Running a parsed template as Go's `text/template` runs it: variables scoped to their
//! control structure, `$` the data, pipelines passing their value as the last argument,
//! `and`/`or` short-circuiting, `range` over maps in key order. Bounded: output size,
//! `template` depth and loop steps are capped, so a hostile rule file cannot hang a check.

use super::funcs;
use super::parse::{show_command, Arg, Node, Pipe, Tree};
use super::value::Val;

/// Most bytes a rendering may produce.
const MAX_OUTPUT: usize = 64 * 1024;
/// Most nested `template` calls.
const MAX_DEPTH: usize = 32;
/// Most loop steps and function calls in one rendering.
const MAX_STEPS: usize = 100_000;

/// Why a rendering stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum Fail {
    /// What Go would report (Prometheus shows `<error expanding template: …>`).
    Error(String),
    /// It needs a live Prometheus (`query`): nothing wrong, but not renderable offline.
    Offline(String),
}

/// Control flow out of a list.
enum Flow {
    Normal,
    Break,
    Continue,
}

/// What a function sees besides its arguments, and what errors are named by.
pub struct Env<'a> {
    pub external_url: &'a str,
    /// The template's text and Go name (`__alert_<alert>`), for error positions.
    pub text: &'a str,
    pub name: &'a str,
}

/// Length of the variable definitions Prometheus puts before every alert template
/// (`{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL :=
/// .ExternalURL}}{{$value := .Value}}`): Go's columns on the first line count them.
const PROMETHEUS_DEFS_LEN: usize = 112;

impl Env<'_> {
    /// Go's `template: NAME:LINE:COL: executing "NAME" at <NODE>: MSG` for a command
    /// starting at byte `at` of the template.
    fn locate(&self, at: usize, node: &str, msg: &str) -> String {
        let before = &self.text[..at.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1);
        let col = if line == 1 {
            col + PROMETHEUS_DEFS_LEN
        } else {
            col
        };
        let name = self.name;
        format!("template: {name}:{line}:{col}: executing \"{name}\" at <{node}>: {msg}")
    }
}

pub struct Exec<'a> {
    tree: &'a Tree,
    env: &'a Env<'a>,
    vars: Vec<(String, Val)>,
    out: String,
    depth: usize,
    steps: usize,
}

type R<T> = Result<T, Fail>;

fn err<T>(m: impl Into<String>) -> R<T> {
    Err(Fail::Error(m.into()))
}

impl<'a> Exec<'a> {
    pub fn new(tree: &'a Tree, env: &'a Env<'a>, root: Val) -> Exec<'a> {
        Exec {
            tree,
            env,
            vars: vec![("$".into(), root)],
            out: String::new(),
            depth: 0,
            steps: 0,
        }
    }

    /// Defines a variable visible to the whole template.
    pub fn define(&mut self, name: &str, v: Val) {
        self.vars.push((name.to_string(), v));
    }

    /// Runs the main tree with `dot`; the text written.
    pub fn run(mut self, dot: &Val) -> R<String> {
        let tree = self.tree;
        self.list(&tree.root, dot)?;
        Ok(self.out)
    }

    fn step(&mut self) -> R<()> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return err(format!("more than {MAX_STEPS} steps"));
        }
        Ok(())
    }

    fn write(&mut self, s: &str) -> R<()> {
        if self.out.len() + s.len() > MAX_OUTPUT {
            return err(format!("output longer than {MAX_OUTPUT} bytes"));
        }
        self.out.push_str(s);
        Ok(())
    }

    fn list(&mut self, nodes: &[Node], dot: &Val) -> R<Flow> {
        for n in nodes {
            match self.node(n, dot)? {
                Flow::Normal => {}
                f => return Ok(f),
            }
        }
        Ok(Flow::Normal)
    }

    /// Runs `nodes` in a new variable scope.
    fn scoped(&mut self, nodes: &[Node], dot: &Val) -> R<Flow> {
        let mark = self.vars.len();
        let r = self.list(nodes, dot);
        self.vars.truncate(mark);
        r
    }

    fn node(&mut self, n: &Node, dot: &Val) -> R<Flow> {
        match n {
            Node::Text(t) => self.write(t)?,
            Node::Action(p) => {
                let v = self.pipe(p, dot)?;
                if p.decl.is_empty() {
                    self.write(&v.show())?;
                }
            }
            Node::If(p, yes, no) | Node::With(p, yes, no) => {
                let mark = self.vars.len();
                let v = self.pipe(p, dot)?;
                let with = matches!(n, Node::With(..));
                let r = if v.truth() {
                    self.scoped(yes, if with { &v } else { dot })
                } else {
                    self.scoped(no, dot)
                };
                self.vars.truncate(mark);
                return r;
            }
            Node::Range(p, body, none) => return self.range(p, body, none, dot),
            Node::Template(name, arg) => {
                let Some(body) = self.tree.defines.get(name) else {
                    return err(format!("no such template \"{name}\""));
                };
                if self.depth >= MAX_DEPTH {
                    return err(format!("exceeded maximum template depth ({MAX_DEPTH})"));
                }
                let d = match arg {
                    Some(p) => self.pipe(p, dot)?,
                    None => Val::Nil,
                };
                // A template sees only `$` = its argument.
                let saved = std::mem::replace(&mut self.vars, vec![("$".into(), d.clone())]);
                self.depth += 1;
                let r = self.list(body, &d);
                self.depth -= 1;
                self.vars = saved;
                r?;
            }
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn range(&mut self, p: &Pipe, body: &[Node], none: &[Node], dot: &Val) -> R<Flow> {
        let mark = self.vars.len();
        // The pipeline without its declarations; the variables are set per element.
        let bare = Pipe {
            decl: Vec::new(),
            cmds: p.cmds.clone(),
            ..Pipe::default()
        };
        let v = self.pipe(&bare, dot)?;
        let items: Vec<(Val, Val)> = match v {
            Val::Map(m, _) => m.into_iter().map(|(k, x)| (Val::Str(k), x)).collect(),
            // Bounded before anything is allocated: past MAX_STEPS the loop stops anyway.
            Val::Int(n) => (0..n.clamp(0, MAX_STEPS as i64 + 1))
                .map(|i| (Val::Int(i), Val::Int(i)))
                .collect(),
            Val::Nil => Vec::new(),
            other => return err(format!("range can't iterate over {}", other.show())),
        };
        if items.is_empty() {
            let r = self.scoped(none, dot);
            self.vars.truncate(mark);
            return r;
        }
        for (k, x) in items {
            self.step()?;
            let inner = self.vars.len();
            match p.decl.as_slice() {
                [v] => self.vars.push((v.clone(), x.clone())),
                [a, b] => {
                    self.vars.push((a.clone(), k));
                    self.vars.push((b.clone(), x.clone()));
                }
                _ => {}
            }
            let f = self.scoped(body, &x);
            self.vars.truncate(inner);
            if matches!(f?, Flow::Break) {
                break;
            }
        }
        self.vars.truncate(mark);
        Ok(Flow::Normal)
    }

    fn var(&self, name: &str) -> R<Val> {
        match self.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => err(format!("undefined variable \"{name}\"")),
        }
    }

    fn pipe(&mut self, p: &Pipe, dot: &Val) -> R<Val> {
        let mut prev: Option<Val> = None;
        for (i, cmd) in p.cmds.iter().enumerate() {
            let r = self.command(cmd, dot, prev);
            prev = Some(r.map_err(|f| match f {
                Fail::Error(m) if !m.starts_with("template: ") => {
                    let mut at = p.cmd_at.get(i).copied().unwrap_or(0);
                    // Go places `$x.a.b` at its first field.
                    if let [Arg::Var(v, path)] = cmd.as_slice() {
                        if !path.is_empty() {
                            at += v.len();
                        }
                    }
                    Fail::Error(self.env.locate(at, &show_command(cmd), &m))
                }
                f => f,
            })?);
        }
        let v = prev.unwrap_or(Val::Nil);
        match (p.decl.as_slice(), p.assign) {
            ([name], false) => self.vars.push((name.clone(), v.clone())),
            ([name], true) => match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                Some(slot) => slot.1 = v.clone(),
                None => return err(format!("undefined variable \"{name}\"")),
            },
            _ => {}
        }
        Ok(v)
    }

    fn command(&mut self, cmd: &[Arg], dot: &Val, prev: Option<Val>) -> R<Val> {
        self.step()?;
        let (head, rest) = cmd
            .split_first()
            .ok_or(Fail::Error("empty command".into()))?;
        let Arg::Ident(name) = head else {
            if !rest.is_empty() || prev.is_some() {
                return err("can't give argument to non-function");
            }
            return self.arg(head, dot);
        };
        if name == "and" || name == "or" {
            return self.and_or(name == "and", rest, dot, prev);
        }
        let mut args = Vec::with_capacity(rest.len() + 1);
        for a in rest {
            args.push(self.arg(a, dot)?);
        }
        args.extend(prev);
        funcs::call(name, args, self.env).map_err(|f| match f {
            Fail::Error(m) => Fail::Error(format!("error calling {name}: {m}")),
            o => o,
        })
    }

    /// `and`/`or`: the first falsy/truthy argument, else the last; later ones unevaluated.
    fn and_or(&mut self, and: bool, rest: &[Arg], dot: &Val, prev: Option<Val>) -> R<Val> {
        if rest.is_empty() && prev.is_none() {
            return err(format!(
                "wrong number of args for {}",
                if and { "and" } else { "or" }
            ));
        }
        let mut last = Val::Nil;
        for a in rest {
            last = self.arg(a, dot)?;
            if last.truth() != and {
                return Ok(last);
            }
        }
        Ok(prev.unwrap_or(last))
    }

    fn arg(&mut self, a: &Arg, dot: &Val) -> R<Val> {
        match a {
            Arg::Dot(path) => fields(dot.clone(), path),
            Arg::Var(name, path) => fields(self.var(name)?, path),
            Arg::Ident(name) => funcs::call(name, Vec::new(), self.env),
            Arg::Str(s) => Ok(Val::Str(s.clone())),
            Arg::Num(n) => number(n),
            Arg::Bool(b) => Ok(Val::Bool(*b)),
            Arg::Nil => err("nil is not a command"),
            Arg::Sub(p, path) => {
                let v = self.pipe(p, dot)?;
                fields(v, path)
            }
        }
    }
}

/// A number constant as Go types it for an `interface{}` argument: an integer unless it has
/// a point or an exponent (hex integers stay integers).
pub fn number(n: &str) -> R<Val> {
    let clean = n.replace('_', "");
    let (neg, body) = match clean.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, clean.trim_start_matches('+')),
    };
    let int = if let Some(h) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(b) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
        i64::from_str_radix(b, 2).ok()
    } else if body.len() > 1 && body.starts_with('0') && body.chars().all(|c| c.is_ascii_digit()) {
        i64::from_str_radix(body, 8).ok()
    } else if !body.contains(['.', 'e', 'E']) {
        body.parse().ok()
    } else {
        None
    };
    if let Some(i) = int {
        return Ok(Val::Int(if neg { -i } else { i }));
    }
    match clean.parse::<f64>() {
        Ok(f) => Ok(Val::Float(f)),
        Err(_) => err(format!("bad number syntax: \"{n}\"")),
    }
}

/// `v.A.B`: a field of a struct, a key of a map (missing: the map's zero value).
fn fields(mut v: Val, path: &[String]) -> R<Val> {
    for f in path {
        v = match v {
            Val::Struct(m) => match m.get(f) {
                Some(x) => x.clone(),
                None => return err(format!("can't evaluate field {f} in type struct")),
            },
            Val::Map(m, zero) => m.get(f).cloned().unwrap_or(*zero),
            Val::Nil => return err(format!("nil pointer evaluating interface {{}}.{f}")),
            other => {
                return err(format!(
                    "can't evaluate field {f} in type {}",
                    other.type_name()
                ))
            }
        };
    }
    Ok(v)
}
