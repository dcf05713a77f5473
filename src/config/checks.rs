//! Cross-rule checks: composite references and names.

use super::Rule;

/// Composite rules reference existing rules without cycles; each gets as its `metric` the
/// metric of the first plain rule it reaches (its anchor, so `analyze` keeps it with that column).
pub(super) fn check_composites(rules: &mut [Rule]) -> Result<(), (usize, String)> {
    for (i, r) in rules.iter().enumerate() {
        for name in r.detector.composite().map(|c| &c.rules[..]).unwrap_or(&[]) {
            if !rules.iter().any(|o| &o.name == name) {
                return Err((i, format!("unknown rule `{name}`")));
            }
            if name == &r.name {
                return Err((i, "a composite rule cannot reference itself".into()));
            }
        }
    }
    let graph: Vec<(&str, &[String])> = rules
        .iter()
        .filter_map(|r| {
            r.detector
                .composite()
                .map(|c| (r.name.as_str(), &c.rules[..]))
        })
        .collect();
    if let Some(cycle) = crate::detect::composite::find_cycle(&graph) {
        let i = rules.iter().position(|r| r.name == cycle[0]).unwrap_or(0);
        return Err((i, format!("reference cycle: {}", cycle.join(" -> "))));
    }
    for i in 0..rules.len() {
        let mut at = i;
        while let Some(c) = rules[at].detector.composite() {
            at = rules
                .iter()
                .position(|o| o.name == c.rules[0])
                .unwrap_or(at);
        }
        if rules[i].metric.is_empty() {
            rules[i].metric = rules[at].metric.clone();
        }
    }
    Ok(())
}

pub(super) fn join_field(base: &str, sub: &str) -> String {
    if sub.is_empty() {
        base.to_string()
    } else {
        format!("{base}.{sub}")
    }
}

pub(super) fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
