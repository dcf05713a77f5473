//! Telling a `promtool test rules` file apart from ours, with an error that says what
//! differs. Both have `rule_files` and `tests`, but promtool's evaluates PromQL over
//! `input_series` written as series selectors (`up{job="x"}`) at `eval_time`s; ours replays
//! per-metric readings through the gate and expects anomalies and a decision at ticks.
//! Evaluating PromQL offline would need a PromQL engine, so such a file is refused, not
//! half-run.

/// Keys only a promtool unit-test file has, at the top level or in a test case.
const PROMTOOL_TOP: [&str; 3] = ["evaluation_interval", "group_eval_order", "fuzzy_compare"];
const PROMTOOL_CASE: [&str; 5] = [
    "input_series",
    "alert_rule_test",
    "promql_expr_test",
    "external_labels",
    "external_url",
];

/// Err naming the promtool keys found and how our format differs, when `text` is a
/// promtool unit-test file; Ok otherwise (including text that is not YAML at all).
pub fn refuse(name: &str, text: &str) -> Result<(), String> {
    let Ok(serde_yaml::Value::Mapping(top)) = serde_yaml::from_str::<serde_yaml::Value>(text)
    else {
        return Ok(());
    };
    let mut found: Vec<String> = PROMTOOL_TOP
        .iter()
        .filter(|k| top.contains_key(**k))
        .map(|k| k.to_string())
        .collect();
    if let Some(serde_yaml::Value::Sequence(cases)) = top.get("tests") {
        for (i, case) in cases.iter().enumerate() {
            if let serde_yaml::Value::Mapping(m) = case {
                for k in PROMTOOL_CASE.iter().filter(|k| m.contains_key(**k)) {
                    found.push(format!("tests[{i}].{k}"));
                }
            }
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    found.truncate(4);
    Err(format!(
        "{name}: a `promtool test rules` file ({}), not a vz-monitor rule test: promtool \
         evaluates PromQL over `input_series` given as series selectors at `eval_time`s; \
         vz-monitor replays readings per metric (`input: {{ metric: \"1 2 3\" }}`, same series \
         notation) through the gate and expects `anomalies` at ticks and a `decision`. Run it \
         with `promtool test rules {name}`, or write the cases as `input`/`expect`",
        found.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promtool_files_are_refused_naming_what_differs() {
        let text = "rule_files: [alerts.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n      - series: 'up{job=\"x\"}'\n        values: '1 0x5'\n    alert_rule_test:\n      - eval_time: 5m\n        alertname: Down\n";
        let e = refuse("t.yml", text).unwrap_err();
        assert!(e.contains("promtool test rules"), "{e}");
        assert!(e.contains("evaluation_interval"), "{e}");
        assert!(e.contains("tests[0].input_series"), "{e}");
        assert!(e.contains("tests[0].alert_rule_test"), "{e}");
        let ours = "rule_files: [a.yml]\ntests:\n  - name: x\n    input: { m: \"1 2\" }\n";
        assert_eq!(refuse("t.yml", ours), Ok(()));
    }
}
