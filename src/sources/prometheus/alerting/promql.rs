//! PromQL checked offline with `promql-parser`: a `query:` or an `expr:` that Prometheus would
//! reject is a config error at `check`, not a missing sample at every tick of the watch.
//! The text is never rewritten: what Prometheus runs is what the user wrote.

use promql_parser::parser::value::ValueType;
use promql_parser::parser::{self, Expr};

/// Which way an alert's value goes when things get worse, read from its top-level comparison
/// (`x > 0.05`: up; `free < 10`: down; `up == 0`, `vector(1)`: no direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Higher values are worse (`>`, `>=`).
    Up,
    /// Lower values are worse (`<`, `<=`).
    Down,
    /// The value says nothing about severity (`==`, `!=`, no comparison).
    None,
}

/// What a parsed expression returns, in the words of an error message.
fn kind(t: ValueType) -> &'static str {
    match t {
        ValueType::Vector => "an instant vector",
        ValueType::Scalar => "a scalar",
        ValueType::Matrix => "a range vector",
        ValueType::String => "a string",
    }
}

/// Parses `text` as PromQL that an instant query can run and a gate can judge: a vector or a
/// scalar. Comments (`# …`) and line breaks are fine, as in Prometheus.
pub fn parse(text: &str) -> Result<Expr, String> {
    let expr = parser::parse(text).map_err(|e| {
        let e = e.to_string();
        match locate(text, &e) {
            Some((line, col)) => format!(
                "PromQL does not parse at {line}:{col} of the expression ({}): {e}",
                context(text, line, col)
            ),
            None => format!("PromQL does not parse: {e}"),
        }
    })?;
    match expr.value_type() {
        ValueType::Vector | ValueType::Scalar => Ok(expr),
        t => Err(format!(
            "PromQL returns {} (`{}`); a gate needs a vector or a scalar{}",
            kind(t),
            one_line(text),
            if t == ValueType::Matrix {
                ": wrap it in rate(), avg_over_time() …"
            } else {
                ""
            }
        )),
    }
}

/// 1-based line and column of byte `at` in `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.chars().rev().take_while(|c| *c != '\n').count() + 1;
    (line, col)
}

/// The text around `line:col`, marked: `…rate(x[5m]) >⟨here⟩`.
fn context(text: &str, line: usize, col: usize) -> String {
    let l = text.lines().nth(line - 1).unwrap_or("");
    let chars: Vec<char> = l.chars().collect();
    let at = (col - 1).min(chars.len());
    let from = at.saturating_sub(30);
    let to = (at + 20).min(chars.len());
    let before: String = chars[from..at].iter().collect();
    let after: String = chars[at..to].iter().collect();
    format!(
        "`{}{before}⟨here⟩{after}{}`",
        if from > 0 { "…" } else { "" },
        if to < chars.len() { "…" } else { "" }
    )
}

/// Where in `text` a parse error `msg` is (promql-parser does not say): the bracket that is
/// unmatched or unexpected, the end for an unexpected end of input, the unknown function.
pub fn locate(text: &str, msg: &str) -> Option<(usize, usize)> {
    let mut open: Vec<(char, usize)> = Vec::new();
    let mut quote: Option<char> = None;
    let mut comment = false;
    let mut prev = ' ';
    for (i, c) in text.char_indices() {
        if comment {
            comment = c != '\n';
            continue;
        }
        if let Some(q) = quote {
            if c == q && prev != '\\' {
                quote = None;
            }
            prev = if prev == '\\' { ' ' } else { c };
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '#' => comment = true,
            '(' | '{' | '[' => open.push((c, i)),
            ')' | '}' | ']' => {
                let want = match c {
                    ')' => '(',
                    '}' => '{',
                    _ => '[',
                };
                match open.pop() {
                    Some((o, _)) if o == want => {}
                    _ => return Some(line_col(text, i)),
                }
            }
            _ => {}
        }
        prev = c;
    }
    if let Some((_, i)) = open.first() {
        return Some(line_col(text, *i));
    }
    if let Some(name) = msg
        .split("unknown function with name '")
        .nth(1)
        .and_then(|r| r.split('\'').next())
    {
        return text.find(&format!("{name}(")).map(|i| line_col(text, i));
    }
    // An expression cut short (`x >`, `sum(x) by`): the error is at its end.
    let t = text.trim_end();
    let dangling = [
        ">",
        "<",
        "=",
        "+",
        "-",
        "*",
        "/",
        "%",
        "^",
        ",",
        "by",
        "without",
        "on",
        "ignoring",
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "group_left",
        "group_right",
    ];
    let cut_short = dangling.iter().any(|d| {
        t.strip_suffix(d).is_some_and(|rest| {
            d.len() == 1 || rest.ends_with(|c: char| c.is_whitespace() || c == ')')
        })
    });
    if msg.contains("end of input") || cut_short {
        return Some(line_col(text, t.len()));
    }
    None
}

/// The expression on one line, for messages.
fn one_line(text: &str) -> String {
    let s: Vec<&str> = text.split_whitespace().collect();
    let s = s.join(" ");
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

/// The direction of an alert expression: its outermost filtering comparison against a
/// constant (`and`/`unless` keep the left side's, parentheses are looked through).
pub fn direction(expr: &Expr) -> Direction {
    match expr {
        Expr::Paren(p) => direction(&p.expr),
        Expr::Binary(b) => {
            let op = b.op.to_string();
            let returns_bool = b.modifier.as_ref().is_some_and(|m| m.return_bool);
            if (op == "and" || op == "unless") && !returns_bool {
                return direction(&b.lhs);
            }
            if !b.op.is_comparison_operator() || returns_bool {
                return Direction::None;
            }
            let lhs_const = is_constant(&b.lhs);
            let up = match op.as_str() {
                ">" | ">=" => true,
                "<" | "<=" => false,
                _ => return Direction::None,
            };
            // `0.05 < x` keeps x's value when x is above: the same as `x > 0.05`.
            match (up, lhs_const && !is_constant(&b.rhs)) {
                (true, false) | (false, true) => Direction::Up,
                (false, false) | (true, true) => Direction::Down,
            }
        }
        _ => Direction::None,
    }
}

/// Calls `f` on `expr` and every expression inside it.
pub fn walk(expr: &Expr, f: &mut impl FnMut(&Expr)) {
    f(expr);
    match expr {
        Expr::Aggregate(a) => {
            walk(&a.expr, f);
            if let Some(p) = &a.param {
                walk(p, f);
            }
        }
        Expr::Unary(u) => walk(&u.expr, f),
        Expr::Binary(b) => {
            walk(&b.lhs, f);
            walk(&b.rhs, f);
        }
        Expr::Paren(p) => walk(&p.expr, f),
        Expr::Subquery(s) => walk(&s.expr, f),
        Expr::Call(c) => c.args.args.iter().for_each(|a| walk(a, f)),
        Expr::MatrixSelector(_)
        | Expr::VectorSelector(_)
        | Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::Extension(_) => {}
    }
}

/// The longest range the expression reads (`rate(x[5m])`, a subquery's `[30m:1m]`): two of
/// its values this far apart share no sample; zero for an expression without a range.
pub fn longest_range(expr: &Expr) -> std::time::Duration {
    let mut longest = std::time::Duration::ZERO;
    walk(expr, &mut |e| match e {
        Expr::MatrixSelector(m) => longest = longest.max(m.range),
        Expr::Subquery(s) => longest = longest.max(s.range),
        _ => {}
    });
    longest
}

/// The metric names the expression selects by name (`job:errors:rate5m{job="x"}`,
/// `{__name__="x"}`), each once, in order of appearance.
pub fn metric_names(expr: &Expr) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    walk(expr, &mut |e| {
        let vs = match e {
            Expr::VectorSelector(v) => v,
            Expr::MatrixSelector(m) => &m.vs,
            _ => return,
        };
        let by_matcher = vs.matchers.matchers.iter().find_map(|m| {
            (m.name == "__name__" && m.op.to_string() == "=").then(|| m.value.clone())
        });
        if let Some(n) = vs.name.clone().or(by_matcher) {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    });
    names
}

fn is_constant(e: &Expr) -> bool {
    match e {
        Expr::NumberLiteral(_) => true,
        Expr::Paren(p) => is_constant(&p.expr),
        Expr::Unary(u) => is_constant(&u.expr),
        Expr::Binary(b) => is_constant(&b.lhs) && is_constant(&b.rhs),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(q: &str) -> Direction {
        direction(&parse(q).unwrap())
    }

    #[test]
    fn unbalanced_and_non_vector_queries_are_rejected_offline() {
        let e = parse("sum(rate(x[5m])").unwrap_err();
        assert!(
            e.contains("does not parse") && e.contains("parenthes"),
            "{e}"
        );
        assert!(parse("foo{").is_err());
        assert!(parse("no_such_function(up)").is_err());
        let e = parse("http_requests_total[5m]").unwrap_err();
        assert!(e.contains("range vector"), "{e}");
        assert!(parse("\"text\"").is_err());
    }

    #[test]
    fn parse_errors_say_where_inside_the_expression() {
        let e = parse("sum(rate(x[5m]))\n  / on (job) sum(rate(y[5m]) > 1").unwrap_err();
        assert!(e.contains("at 2:17 of the expression"), "{e}");
        assert!(e.contains("⟨here⟩(rate(y"), "{e}");
        let e = parse("sum(rate(x[5m])))").unwrap_err();
        assert!(e.contains("at 1:17"), "{e}");
        let e = parse("foo{a=\"}\"").unwrap_err();
        assert!(e.contains("at 1:4"), "{e}");
        let e = parse("up ==\n  nosuch(x)").unwrap_err();
        assert!(e.contains("at 2:3"), "{e}");
        let e = parse("rate(x[5m]) >").unwrap_err();
        assert!(e.contains("at 1:14"), "{e}");
    }

    #[test]
    fn scalars_comments_and_label_replace_parse() {
        assert!(parse("1").is_ok());
        assert!(parse("vector(1)").is_ok());
        assert!(parse("up == 0\n# the target is down\n").is_ok());
        assert!(parse(r#"label_replace(up, "host", "${1}", "instance", "(.*):.*") == 0"#).is_ok());
    }

    #[test]
    fn ranges_and_names_are_read_from_the_whole_expression() {
        let e = parse(
            r#"increase(a[3m]) > 0 and on (job) max_over_time(b:rec{x="1"}[10m]) > 1
               or rate(c[1m:15s]) > 2 or {__name__="d"} > 0"#,
        )
        .unwrap();
        assert_eq!(longest_range(&e), std::time::Duration::from_secs(600));
        assert_eq!(metric_names(&e), ["a", "b:rec", "c", "d"]);
        assert!(longest_range(&parse("up == 0").unwrap()).is_zero());
    }

    #[test]
    fn direction_follows_the_top_level_comparison() {
        assert_eq!(
            dir("sum(rate(e[5m])) / sum(rate(r[5m])) > 0.05"),
            Direction::Up
        );
        assert_eq!(
            dir("node_filesystem_avail_bytes / node_filesystem_size_bytes < 0.1"),
            Direction::Down
        );
        assert_eq!(dir("0.05 < x"), Direction::Up);
        assert_eq!(dir("(x >= 3) and on (job) y"), Direction::Up);
        assert_eq!(dir("x > 3 unless z"), Direction::Up);
        assert_eq!(dir("up == 0"), Direction::None);
        assert_eq!(dir("vector(1)"), Direction::None);
        assert_eq!(dir("1"), Direction::None);
        assert_eq!(dir("x > bool 3"), Direction::None);
        assert_eq!(dir("x > 3 or y < 2"), Direction::None);
    }
}
