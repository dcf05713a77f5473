//! Hostile YAML refused before any parser builds anything: a file nested 100,000 deep, or
//! anchors and aliases that expand to billions of nodes ("billion laughs"), is answered in
//! milliseconds with exit 2 instead of minutes of CPU or gigabytes of memory. Every place
//! that reads YAML (the config, its includes, Prometheus rule files, rule tests) calls
//! [`check_yaml`] first.
//!
//! The check walks the event stream (yaml-rust2's streaming parser: no tree, no alias
//! expansion) and stops at the first event past a limit, so its own cost is bounded by the
//! limits, not by the input.

use std::collections::HashMap;
use std::fmt;
use yaml_rust2::parser::{Event, Parser};

/// Largest YAML file read (a config of several thousand rules is well under 1 MiB).
pub const MAX_BYTES: usize = 8 * 1024 * 1024;
/// Deepest nesting of mappings and sequences (serde_yaml stops at 128; configs need < 10).
pub const MAX_DEPTH: usize = 64;
/// Most nodes the document may have once every alias is expanded.
pub const MAX_NODES: u64 = 250_000;

/// Why a text was refused, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitError {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What was exceeded.
    pub message: String,
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(l) = self.line {
            write!(f, "line {l}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for LimitError {}

/// A node being read: its anchor (0 for none) and the expanded nodes inside it so far.
struct Open {
    anchor: usize,
    nodes: u64,
}

/// Refuses `text` if it is too large, nested deeper than [`MAX_DEPTH`], or expands (through
/// aliases) to more than [`MAX_NODES`] nodes. Text the streaming parser cannot read is
/// passed on: the real parser reports the syntax error with its own words.
pub fn check_yaml(text: &str) -> Result<(), LimitError> {
    if text.len() > MAX_BYTES {
        return Err(LimitError {
            line: None,
            column: None,
            message: format!(
                "file is {} bytes; YAML files are limited to {MAX_BYTES} bytes",
                text.len()
            ),
        });
    }
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Open> = Vec::new();
    // Expanded size of each anchored node, by the parser's anchor id.
    let mut sizes: HashMap<usize, u64> = HashMap::new();
    let mut total: u64 = 0;
    loop {
        let (event, mark) = match parser.next_token() {
            Ok(e) => e,
            // The scanner's own guard (255 open flow collections) fires while it looks ahead.
            Err(e) if e.info().contains("recursion limit") => {
                return Err(LimitError {
                    line: Some(e.marker().line()),
                    column: Some(e.marker().col() + 1),
                    message: format!("nesting deeper than {MAX_DEPTH} levels (mappings and lists)"),
                })
            }
            Err(_) => return Ok(()),
        };
        let at = |message: String| LimitError {
            line: Some(mark.line()),
            column: Some(mark.col() + 1),
            message,
        };
        // The expanded size of a node that just ended, and its anchor.
        let finished = match event {
            Event::StreamEnd => return Ok(()),
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(at(format!(
                        "nesting deeper than {MAX_DEPTH} levels (mappings and lists)"
                    )));
                }
                stack.push(Open { anchor, nodes: 1 });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => stack.pop().map(|o| (o.anchor, o.nodes)),
            Event::Scalar(_, _, anchor, _) => Some((anchor, 1)),
            Event::Alias(id) => Some((0, sizes.get(&id).copied().unwrap_or(1))),
            _ => None,
        };
        let Some((anchor, nodes)) = finished else {
            continue;
        };
        if anchor != 0 {
            sizes.insert(anchor, nodes);
        }
        match stack.last_mut() {
            Some(parent) => parent.nodes = parent.nodes.saturating_add(nodes),
            None => total = total.saturating_add(nodes),
        }
        // Open nodes have not yet been added to their parents: together they are the count.
        let so_far = stack
            .iter()
            .fold(total, |sum, o| sum.saturating_add(o.nodes));
        if so_far > MAX_NODES {
            return Err(at(format!(
                "aliases expand to more than {MAX_NODES} nodes (anchors `&` used by `*` \
                 nest too many copies)"
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn billion_laughs(levels: usize) -> String {
        let mut s = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..levels {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            s.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        s
    }

    #[test]
    fn ordinary_configs_pass() {
        let text = "deployment: web\nrules:\n  - name: x\n    detector: { threshold: { op: '>', value: 1 } }\nbase: &b { k: 1 }\nother: *b\n";
        assert_eq!(check_yaml(text), Ok(()));
        assert_eq!(check_yaml(""), Ok(()));
        // Syntax errors are for serde_yaml to report.
        assert_eq!(check_yaml("a: [1, 2"), Ok(()));
    }

    #[test]
    fn deep_flow_and_block_nesting_are_refused_fast() {
        for text in [
            "[".repeat(100_000),
            "{a: ".repeat(100_000),
            "- ".repeat(100_000) + "x",
            (0..200).map(|i| format!("{}k:\n", " ".repeat(i))).collect(),
        ] {
            let t = Instant::now();
            let e = check_yaml(&text).expect_err(&text[..20]);
            assert!(e.message.contains("nesting deeper"), "{e}");
            assert!(t.elapsed().as_secs() < 2, "{:?}", t.elapsed());
        }
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert_eq!(check_yaml(&ok), Ok(()));
    }

    #[test]
    fn alias_bombs_are_refused_and_small_reuse_is_not() {
        let e = check_yaml(&billion_laughs(10)).unwrap_err();
        assert!(e.message.contains("aliases expand"), "{e}");
        assert_eq!(e.line, Some(6), "10^6 nodes are reached at a5");
        assert_eq!(check_yaml(&billion_laughs(3)), Ok(()));
    }
}
