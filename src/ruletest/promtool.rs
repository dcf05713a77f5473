//! `promtool test rules` files, run as promtool runs them: `input_series` (series
//! selectors with values in the same notation as ours) are loaded, every rule group is
//! evaluated every `evaluation_interval` from 0 to the last `eval_time` (recording rules
//! write series, alerts go pending and firing after their `for`, as Prometheus's rules
//! manager does), and at each `eval_time` the firing alerts (labels and rendered
//! annotations) are compared with `exp_alerts`, and `promql_expr_test` expressions with
//! `exp_samples`. PromQL is evaluated by [`super::promql`]; what it does not support is an
//! error naming it, and the case fails with that message rather than passing.

mod compare;
mod eval;
mod file;

use super::promql::Labels;
use super::CaseResult;
use crate::config::promrules::{self, PromRule};
use eval::run_case;
use file::File;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

/// Keys only a promtool unit-test file has, at the top level or in a test case.
const PROMTOOL_TOP: [&str; 3] = ["evaluation_interval", "group_eval_order", "fuzzy_compare"];
const PROMTOOL_CASE: [&str; 5] = [
    "input_series",
    "alert_rule_test",
    "promql_expr_test",
    "external_labels",
    "external_url",
];

/// Whether `text` is a promtool unit-test file (not ours).
pub fn is_promtool(text: &str) -> bool {
    let Ok(serde_yaml::Value::Mapping(top)) = serde_yaml::from_str::<serde_yaml::Value>(text)
    else {
        return false;
    };
    PROMTOOL_TOP.iter().any(|k| top.contains_key(*k))
        || matches!(top.get("tests"), Some(serde_yaml::Value::Sequence(cases))
            if cases.iter().any(|c| matches!(c, serde_yaml::Value::Mapping(m)
                if PROMTOOL_CASE.iter().any(|k| m.contains_key(*k)))))
}

/// A rule with where it came from, in evaluation order.
struct Rule {
    group: String,
    rule: PromRule,
    /// Group labels overlaid by the rule's own.
    labels: BTreeMap<String, String>,
}

/// Runs every case of promtool unit-test file `path`. Err: the file or its rules cannot be
/// read (exit 2).
pub fn run(path: &Path, text: &str) -> Result<Vec<CaseResult>, String> {
    let name = path.display().to_string();
    let file: File = serde_yaml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut rules = Vec::new();
    let mut order: Vec<String> = Vec::new();
    for f in &file.rule_files {
        let p = dir.join(f);
        let t = std::fs::read_to_string(&p)
            .map_err(|e| format!("{name}: rule file {}: {e}", p.display()))?;
        let groups = promrules::first_document_groups(&p.display().to_string(), &t)
            .map_err(|e| e.to_string())?;
        for g in groups {
            order.push(g.name.clone());
            for r in g.rules {
                let mut labels = g.labels.clone();
                labels.extend(r.labels.clone());
                rules.push(Rule {
                    group: g.name.clone(),
                    rule: r,
                    labels,
                });
            }
        }
    }
    if !file.group_eval_order.is_empty() {
        let pos = |g: &str| file.group_eval_order.iter().position(|x| x == g);
        if let Some(g) = order.iter().find(|g| pos(g).is_none()) {
            return Err(format!(
                "{name}: group_eval_order does not name group `{g}`"
            ));
        }
        rules.sort_by_key(|r| pos(&r.group));
    }
    let every = file.evaluation_interval.unwrap_or(Duration::from_secs(60));
    Ok(file
        .tests
        .iter()
        .enumerate()
        .map(|(i, case)| {
            let case_name = case.name.clone().unwrap_or_else(|| format!("tests[{i}]"));
            let diff = match run_case(&rules, every, file.fuzzy_compare, case) {
                Ok(d) => d,
                Err(e) => vec![format!("cannot run: {e}")],
            };
            CaseResult {
                file: name.clone(),
                name: case_name,
                passed: diff.is_empty(),
                diff,
            }
        })
        .collect())
}

/// Per alerting rule and label set: when it became active, and whether it fires.
#[derive(Debug, Clone)]
struct Active {
    labels: Labels,
    annotations: BTreeMap<String, String>,
    active_at: i64,
    firing: bool,
    /// Since when the expression no longer returns it (`keep_firing_for`).
    gone_since: Option<i64>,
}

/// What the rules hold between evaluations.
#[derive(Default)]
struct State {
    alerts: HashMap<usize, BTreeMap<Labels, Active>>,
    recorded: HashMap<usize, Vec<Labels>>,
    /// The `ALERTS` series each alerting rule wrote at its last evaluation.
    alerts_series: HashMap<usize, Vec<Labels>>,
}
