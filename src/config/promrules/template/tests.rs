use super::*;

fn labels() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("instance".to_string(), "10.0.0.7:9100".to_string()),
        ("job".to_string(), "node".to_string()),
    ])
}

#[test]
fn renders_labels_value_and_humanize_as_prometheus() {
    let l = labels();
    assert_eq!(
        render(
            "{{ $labels.instance }} of job {{ $labels.job }} is down",
            &l,
            0.0
        ),
        "10.0.0.7:9100 of job node is down"
    );
    assert_eq!(render("value {{ $value }}", &l, 0.25), "value 0.25");
    assert_eq!(
        render("{{ $value | humanize }}B/s", &l, 1_234_567.0),
        "1.235MB/s"
    );
    assert_eq!(render("{{ humanize $value }}", &l, 0.0012), "1.2m");
    assert_eq!(
        render("{{ $value | humanizePercentage }}", &l, 0.0512),
        "5.12%"
    );
    assert_eq!(render("{{ humanize1024 $value }}", &l, 2048.0), "2ki");
    assert_eq!(
        render("{{ humanizeDuration $value }}", &l, 3725.0),
        "1h 2m 5s"
    );
    assert_eq!(render(r#"{{ printf "%.2f" $value }}"#, &l, 1.23456), "1.23");
    assert_eq!(render(r#"{{ $value | printf "%.1f" }}"#, &l, 2.26), "2.3");
    assert_eq!(render("{{ .Labels.job }}={{ .Value }}", &l, 1.0), "node=1");
    assert_eq!(render("{{ $labels.missing }}!", &l, 1.0), "!");
    assert_eq!(render("a {{- $labels.job -}} b", &l, 1.0), "anodeb");
    assert_eq!(render("x{{/* note */}}y", &l, 1.0), "xy");
}

#[test]
fn actions_it_cannot_evaluate_are_kept_as_written() {
    let t = r#"{{ with query "up" }}{{ . | first | value }}{{ end }}"#;
    let out = render(t, &labels(), 1.0);
    assert!(out.contains("with query"), "{out}");
}

#[test]
fn check_accepts_what_prometheus_packs_write() {
    for t in [
        "{{ $labels.instance }} down for 5m (value {{ $value }})",
        "{{ $value | humanizePercentage }} of requests fail on {{ $labels.job }}",
        r#"{{ printf "%.2f" $value }}% ({{ $labels.namespace }}/{{ $labels.pod }})"#,
        r#"{{ if gt $value 0.9 }}critical{{ else }}warning{{ end }}"#,
        r#"{{ range $i, $v := query "up" }}{{ $v.Labels.job }}{{ end }}"#,
        r#"{{ $x := $labels.job }}{{ $x }}"#,
        r#"{{ with query "sum(x{a=\"}}\"})" }}{{ . | first | value | humanize }}{{ end }}"#,
        "{{ $externalLabels.cluster }} {{ $externalURL }}",
        "no template at all",
    ] {
        assert_eq!(check(t), Ok(()), "{t}");
    }
}

#[test]
fn check_names_what_is_wrong() {
    let e = check("{{ $labels.instance is down").unwrap_err();
    assert!(e.contains("no closing"), "{e}");
    let e = check("{{ $lables.instance }}").unwrap_err();
    assert!(e.contains("unknown variable `$lables`"), "{e}");
    let e = check("{{ humanise $value }}").unwrap_err();
    assert!(e.contains("unknown function `humanise`"), "{e}");
    let e = check("{{ if $value }}x").unwrap_err();
    assert!(e.contains("no `{{ end }}`"), "{e}");
    let e = check("x{{ end }}").unwrap_err();
    assert!(e.contains("without"), "{e}");
    assert!(check("{{ }}").is_err());
}
