//! Maps a field path (`rules[2].detector`) to its line and column in a YAML text, so that
//! errors found after parsing still name the place a person must edit.

use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Positions (1-based line, 1-based column) of every node, keyed by path.
#[derive(Debug, Default)]
pub struct Locations {
    map: HashMap<String, (usize, usize)>,
}

impl Locations {
    /// Parses `text` and records where each path starts. Unparseable text gives no positions.
    pub fn of(text: &str) -> Locations {
        let mut walker = Walker::default();
        let mut parser = Parser::new_from_str(text);
        if parser.load(&mut walker, false).is_err() {
            return Locations::default();
        }
        Locations { map: walker.map }
    }

    /// The same positions `lines` further down (a later document of a multi-document file).
    pub fn shifted(mut self, lines: usize) -> Locations {
        for pos in self.map.values_mut() {
            pos.0 += lines;
        }
        self
    }

    /// The position of `path`, or of its nearest ancestor that has one.
    pub fn find(&self, path: &str) -> Option<(usize, usize)> {
        let mut p = path.to_string();
        loop {
            if let Some(pos) = self.map.get(&p) {
                return Some(*pos);
            }
            let cut = p.rfind(['.', '['])?;
            p.truncate(cut);
        }
    }
}

enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, index: usize },
}

#[derive(Default)]
struct Walker {
    stack: Vec<Frame>,
    map: HashMap<String, (usize, usize)>,
}

impl Walker {
    /// Path of the value about to be read in the current container, or None for a map key.
    fn value_path(&self) -> Option<String> {
        match self.stack.last() {
            None => Some(String::new()),
            Some(Frame::Map { key: None, .. }) => None,
            Some(Frame::Map { path, key: Some(k) }) => Some(join(path, k)),
            Some(Frame::Seq { path, index }) => Some(format!("{path}[{index}]")),
        }
    }

    /// A value finished in the current container: a map wants its next key, a list its next item.
    fn advance(&mut self) {
        match self.stack.last_mut() {
            Some(Frame::Map { key, .. }) => *key = None,
            Some(Frame::Seq { index, .. }) => *index += 1,
            None => {}
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl MarkedEventReceiver for Walker {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let pos = (mark.line(), mark.col() + 1);
        match ev {
            Event::Scalar(s, ..) => match self.value_path() {
                None => {
                    if let Some(Frame::Map { path, key }) = self.stack.last_mut() {
                        let p = join(path, &s);
                        self.map.entry(p).or_insert(pos);
                        *key = Some(s);
                    }
                }
                Some(p) => {
                    self.map.entry(p).or_insert(pos);
                    self.advance();
                }
            },
            Event::Alias(_) => self.advance(),
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let path = self.value_path().unwrap_or_default();
                self.map.entry(path.clone()).or_insert(pos);
                self.stack.push(if matches!(ev, Event::MappingStart(..)) {
                    Frame::Map { path, key: None }
                } else {
                    Frame::Seq { path, index: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.advance();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_paths() {
        let text = "deployment: x\nrules:\n  - name: a\n    metric: m\n  - name: b\n    detector:\n      zscor: {}\n";
        let loc = Locations::of(text);
        assert_eq!(loc.find("deployment"), Some((1, 1)));
        assert_eq!(loc.find("rules[1].name"), Some((5, 5)));
        assert_eq!(loc.find("rules[1].detector"), Some((6, 5)));
        assert_eq!(loc.find("rules[1].detector.zscor"), Some((7, 7)));
        // Unknown leaf falls back to the nearest ancestor.
        assert_eq!(loc.find("rules[0].severity").map(|p| p.0), Some(3));
    }
}
