//! Alert annotation and label templates, as Prometheus expands them: Go's `text/template`
//! ([`parse`], [`exec`]: `if`/`else if`/`range`/`with`, variables, pipelines, `define`)
//! with Prometheus's data (`$labels`, `$value`, `$externalLabels`, `$externalURL`, and `.`
//! with `.Labels`, `.Value` …) and function set ([`funcs`]; `printf` in [`printf`]).
//!
//! Why not a crate: `gtmpl` (the one Go-template port, last released 2021) prints floats the
//! Rust way (`1000000`, `inf` where Go prints `1e+06`, `+Inf`), prints maps in Rust's debug
//! form, ranges over maps in hash order (Go sorts the keys), and gives `<no value>` for a
//! missing label where Prometheus gives `""`. Each of those changes what an annotation says.
//!
//! [`check`] validates a template offline (syntax with line:column, variables, functions);
//! [`expand`] renders it for one series. `query` (and the functions over its results)
//! needs a live Prometheus: [`render`] then keeps the template as written, and `check`
//! says so. Pure: no I/O.

mod exec;
mod funcs;
mod parse;
mod printf;
mod value;

pub use exec::Fail;
use exec::{Env, Exec};
use parse::{Arg, Node, Pipe};
use std::collections::BTreeMap;
use value::Val;

/// Variables Prometheus defines for an alert template.
const VARIABLES: [&str; 5] = ["$", "$labels", "$value", "$externalLabels", "$externalURL"];

/// What a template is rendered with: one alert series and the server's external settings.
#[derive(Debug, Clone, Copy)]
pub struct Data<'a> {
    pub labels: &'a BTreeMap<String, String>,
    pub value: f64,
    pub external_labels: &'a BTreeMap<String, String>,
    pub external_url: &'a str,
    /// The alert's name (Go names its template `__alert_<name>`, and errors say so).
    pub alert: &'a str,
}

static NO_LABELS: BTreeMap<String, String> = BTreeMap::new();

impl<'a> Data<'a> {
    /// A series with no external labels or URL.
    pub fn series(labels: &'a BTreeMap<String, String>, value: f64) -> Data<'a> {
        Data {
            labels,
            value,
            external_labels: &NO_LABELS,
            external_url: "",
            alert: "",
        }
    }
}

/// Expands `t` for `data` as Prometheus does (its `missingkey=zero`: a missing label is "").
pub fn expand(t: &str, data: &Data) -> Result<String, Fail> {
    let name = format!("__alert_{}", data.alert);
    let tree = parse::parse(t).map_err(|e| {
        Fail::Error(format!(
            "error parsing template {name}: template: {name}:{}: {}",
            e.line, e.msg
        ))
    })?;
    let labels = Val::str_map(data.labels);
    let external = Val::str_map(data.external_labels);
    let url = Val::Str(data.external_url.to_string());
    let value = Val::Float(data.value);
    let root = Val::Struct(BTreeMap::from([
        ("Labels".to_string(), labels.clone()),
        ("ExternalLabels".to_string(), external.clone()),
        ("ExternalURL".to_string(), url.clone()),
        ("Value".to_string(), value.clone()),
    ]));
    let env = Env {
        external_url: data.external_url,
        text: t,
        name: &name,
    };
    let mut exec = Exec::new(&tree, &env, root.clone());
    for (k, v) in [
        ("$labels", labels),
        ("$externalLabels", external),
        ("$externalURL", url),
        ("$value", value),
    ] {
        exec.define(k, v);
    }
    exec.run(&root).map_err(|f| match f {
        Fail::Error(m) => Fail::Error(format!("error executing template {name}: {m}")),
        f => f,
    })
}

/// Renders `t` for `data`: Prometheus's text, `<error expanding template: …>` where
/// Prometheus would show that, and the template as written where it needs a live
/// Prometheus (`query`).
pub fn render_with(t: &str, data: &Data) -> String {
    match expand(t, data) {
        Ok(s) => s,
        Err(Fail::Error(e)) => format!("<error expanding template: {e}>"),
        Err(Fail::Offline(_)) => t.to_string(),
    }
}

/// Renders `t` for one series with its `labels` and `value` (no external labels or URL).
pub fn render(t: &str, labels: &BTreeMap<String, String>, value: f64) -> String {
    render_with(t, &Data::series(labels, value))
}

/// What a template needs beyond the series: the functions that need a live Prometheus, and
/// whether it reads the external labels or URL.
#[derive(Debug, Default, PartialEq)]
pub struct Needs {
    pub online: Vec<String>,
    pub external: bool,
}

/// Checks a template offline: it parses as Go parses it, and every variable and function
/// exists. The error names what is wrong and where (line:column inside the template).
pub fn check(t: &str) -> Result<Needs, String> {
    let tree = parse::parse(t).map_err(|e| e.to_string())?;
    let mut scope: Vec<String> = VARIABLES.iter().map(|v| v.to_string()).collect();
    let mut needs = Needs::default();
    let mut all: Vec<&Vec<Node>> = vec![&tree.root];
    all.extend(tree.defines.values());
    for nodes in all {
        check_nodes(nodes, &mut scope, &mut needs)?;
    }
    needs.online.sort();
    needs.online.dedup();
    Ok(needs)
}

fn check_nodes(nodes: &[Node], scope: &mut Vec<String>, needs: &mut Needs) -> Result<(), String> {
    for n in nodes {
        match n {
            Node::Text(_) | Node::Break | Node::Continue => {}
            Node::Action(p) => check_pipe(p, scope, needs)?,
            Node::Template(_, p) => {
                if let Some(p) = p {
                    check_pipe(p, scope, needs)?;
                }
            }
            Node::If(p, a, b) | Node::With(p, a, b) | Node::Range(p, a, b) => {
                let mark = scope.len();
                check_pipe(p, scope, needs)?;
                check_nodes(a, scope, needs)?;
                check_nodes(b, scope, needs)?;
                scope.truncate(mark);
            }
        }
    }
    Ok(())
}

fn check_pipe(p: &Pipe, scope: &mut Vec<String>, needs: &mut Needs) -> Result<(), String> {
    for cmd in &p.cmds {
        for a in cmd {
            check_arg(a, scope, needs).map_err(|e| format!("{}:{}: {e}", p.at.0, p.at.1))?;
        }
    }
    if !p.assign {
        scope.extend(p.decl.iter().cloned());
    } else if let Some(v) = p.decl.iter().find(|v| !scope.contains(v)) {
        return Err(format!("{}:{}: undefined variable \"{v}\"", p.at.0, p.at.1));
    }
    Ok(())
}

fn check_arg(a: &Arg, scope: &mut Vec<String>, needs: &mut Needs) -> Result<(), String> {
    match a {
        Arg::Var(v, path) => {
            if !scope.contains(v) {
                return Err(format!(
                    "unknown variable `{v}` (Prometheus defines $labels, $value, \
                     $externalLabels, $externalURL)"
                ));
            }
            needs.external |= v == "$externalLabels" || v == "$externalURL";
            needs.external |= v == "$" && path.first().is_some_and(|f| f.starts_with("External"));
        }
        Arg::Dot(path) => {
            needs.external |= path.first().is_some_and(|f| f.starts_with("External"));
        }
        Arg::Ident(f) => {
            if !funcs::NAMES.contains(&f.as_str()) {
                return Err(format!("unknown function `{f}`"));
            }
            if funcs::ONLINE.contains(&f.as_str()) {
                needs.online.push(f.clone());
            }
            needs.external |= f == "externalURL" || f == "pathPrefix";
        }
        Arg::Sub(p, _) => {
            for a in p.cmds.iter().flatten() {
                check_arg(a, scope, needs)?;
            }
        }
        Arg::Str(_) | Arg::Num(_) | Arg::Bool(_) | Arg::Nil => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests;
