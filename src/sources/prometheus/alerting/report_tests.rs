//! What the rules table shows for alert series: a series already firing before the deploy
//! shows its real value and why it does not count; a firing one shows the alert's value,
//! its labels (the series) and its rendered summary, and no `> 0` bound on the 1/0 the gate
//! sees; off a terminal, long series names leave the reason readable.

use super::super::alerts::judge;
use super::alert::Prior;
use super::worse::Watched;
use crate::config::parse_text;
use crate::gate::Gate;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

const RULES: &str = r#"groups:
  - name: kube
    rules:
      - alert: KubePodCrashLooping
        expr: max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}[5m]) >= 1
        labels:
          severity: '{{ if eq $labels.namespace "payments" }}critical{{ else }}warning{{ end }}'
        annotations:
          summary: 'Pod {{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is in waiting state (reason: "CrashLoopBackOff").'
"#;

#[test]
fn alert_rows_show_values_labels_and_summaries() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("kube.yml"), RULES).unwrap();
    let main = dir.path().join("vz-monitor.yaml");
    let text = "source: { prometheus: { url: http://127.0.0.1:9 } }\ninclude: [kube.yml]\n";
    let c = parse_text(text, Some(Path::new(&main)), &|_| None).unwrap();
    let metric = c.metrics[0].name.clone();
    let spec = c.metrics[0].alert.clone().unwrap();
    let mut gate = Gate::new(c.rules.clone(), c.metric_specs(), c.policy, HashMap::new());
    let row = |ns: &str, pod: &str| {
        let labels = BTreeMap::from([
            ("container".to_string(), "app".to_string()),
            ("namespace".to_string(), ns.to_string()),
            ("pod".to_string(), pod.to_string()),
            ("reason".to_string(), "CrashLoopBackOff".to_string()),
        ]);
        let hm: HashMap<String, String> = labels.clone().into_iter().collect();
        (
            crate::sources::prometheus::series_name(&metric, &hm),
            labels,
            1.0,
        )
    };
    let old = row("monitoring", "exporter-6f9c");
    let new = row("payments", "checkout-api-7d4b9c-x2x9q");
    let m = Duration::from_secs(60);
    let prior = Prior::from_rows([(old.0.clone(), &[(0.0, 1.0), (60.0, 1.0)][..])], 0.0, m, m);
    let mut watched = Watched::default();
    let mut known = BTreeSet::new();
    let (samples, notes) = judge(
        &spec,
        (&prior, &mut watched, 0),
        &metric,
        vec![old, new],
        &mut known,
    );
    gate.set_notes(notes);
    let report = gate.tick(0, &samples);
    assert_eq!(report.fired.len(), 1);
    assert_eq!(
        report.fired[0].severity,
        crate::model::Severity::Critical,
        "the templated severity, rendered for the payments series"
    );
    insta::assert_snapshot!(crate::report::table::rules(&gate.evaluations()));
}
