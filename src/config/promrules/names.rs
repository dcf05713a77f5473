//! Names derived from alert names: the metric (`alert_<snake>`), the anomaly kind
//! (`UPPER_SNAKE`) and, for an alert name used twice, a numbered one.

use std::collections::HashSet;

/// Words of an alert name: split at `_`, `-`, spaces and lower→upper case changes
/// (`HighErrorRate` → high, error, rate; `KubePodCrashLooping` → kube, pod, crash, looping).
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1);
        let boundary = c.is_ascii_uppercase()
            && !cur.is_empty()
            && (prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
                || next.is_some_and(|n| n.is_ascii_lowercase()));
        if boundary {
            words.push(std::mem::take(&mut cur));
        }
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// `HighErrorRate` → `high_error_rate`.
pub fn snake(name: &str) -> String {
    let s = words(name).join("_");
    if s.is_empty() {
        "unnamed".into()
    } else {
        s
    }
}

/// `HighErrorRate` → `HIGH_ERROR_RATE` (the anomaly kind).
pub fn upper_snake(name: &str) -> String {
    snake(name).to_ascii_uppercase()
}

/// `base`, or `base<sep>2`, `base<sep>3` … when already taken (Prometheus allows the same
/// alert name twice, e.g. a warning and a critical threshold).
pub(super) fn unique(base: &str, taken: &mut HashSet<String>, sep: &str) -> String {
    let mut name = base.to_string();
    let mut n = 1;
    while !taken.insert(name.clone()) {
        n += 1;
        name = format!("{base}{sep}{n}");
    }
    name
}
