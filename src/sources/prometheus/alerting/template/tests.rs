//! Expected texts are what Prometheus 2.42 renders (promtool test rules with
//! exp_annotations over the same labels and value; see tests/it/prometheus_templates.rs for the
//! side-by-side run against the real promtool).

use super::*;

fn labels() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("instance".to_string(), "10.0.0.7:9100".to_string()),
        ("job".to_string(), "node".to_string()),
    ])
}

fn r(t: &str, value: f64) -> String {
    render(t, &labels(), value)
}

#[test]
fn renders_labels_value_and_humanize_as_prometheus() {
    assert_eq!(
        r(
            "{{ $labels.instance }} of job {{ $labels.job }} is down",
            0.0
        ),
        "10.0.0.7:9100 of job node is down"
    );
    assert_eq!(r("value {{ $value }}", 0.25), "value 0.25");
    assert_eq!(r("{{ $value }}", 1e6), "1e+06");
    assert_eq!(r("{{ $value | humanize }}B/s", 1_234_567.0), "1.235MB/s");
    assert_eq!(r("{{ humanize $value }}", 0.0012), "1.2m");
    assert_eq!(r("{{ $value | humanizePercentage }}", 0.0512), "5.12%");
    assert_eq!(r("{{ humanize1024 $value }}", 2048.0), "2ki");
    assert_eq!(r("{{ humanizeDuration $value }}", 3725.0), "1h 2m 5s");
    assert_eq!(r(r#"{{ printf "%.2f" $value }}"#, 1.23456), "1.23");
    assert_eq!(r(r#"{{ $value | printf "%.1f" }}"#, 2.26), "2.3");
    assert_eq!(r("{{ .Labels.job }}={{ .Value }}", 1.0), "node=1");
    assert_eq!(r("{{ $labels.missing }}!", 1.0), "!");
    assert_eq!(r("a {{- $labels.job -}} b", 1.0), "anodeb");
    assert_eq!(r("x{{/* note */}}y", 1.0), "xy");
    assert_eq!(r("x {{- /* note */ -}} y", 1.0), "xy");
}

#[test]
fn renders_go_control_structures_and_variables() {
    assert_eq!(
        r("{{ $labels }}", 1.0),
        "map[instance:10.0.0.7:9100 job:node]"
    );
    assert_eq!(
        r(
            "{{ if gt $value 0.9 }}critical{{ else if gt $value 0.5 }}warning{{ else }}ok{{ end }}",
            0.7
        ),
        "warning"
    );
    assert_eq!(
        r(
            "{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}",
            1.0
        ),
        "instance=10.0.0.7:9100;job=node;"
    );
    assert_eq!(
        r("{{ range $labels }}[{{ . }}]{{ end }}", 1.0),
        "[10.0.0.7:9100][node]"
    );
    assert_eq!(
        r("{{ with $labels.job }}job {{ . }}{{ end }}", 1.0),
        "job node"
    );
    assert_eq!(
        r(
            "{{ with $labels.pod }}pod {{ . }}{{ else }}no pod{{ end }}",
            1.0
        ),
        "no pod"
    );
    assert_eq!(
        r(
            "{{ $x := $labels.job }}{{ $x = printf \"%s!\" $x }}{{ $x }}",
            1.0
        ),
        "node!"
    );
    assert_eq!(
        r("{{ if and $labels.job (not $labels.pod) }}y{{ end }}", 1.0),
        "y"
    );
    assert_eq!(r("{{ or $labels.pod \"none\" }}", 1.0), "none");
    assert_eq!(r("{{ index $labels \"job\" }}", 1.0), "node");
    assert_eq!(r("{{ len $labels }}", 1.0), "2");
    assert_eq!(
        r(
            "{{ define \"x\" }}<{{ . }}>{{ end }}{{ template \"x\" $labels.job }}",
            1.0
        ),
        "<node>"
    );
    assert_eq!(
        r("{{ range $i, $e := $labels }}{{ if eq $i \"job\" }}{{ break }}{{ end }}{{ $e }}{{ end }}", 1.0),
        "10.0.0.7:9100"
    );
    assert_eq!(r("{{ print 1 2 \"a\" 3 }}", 1.0), "1 2a3");
    assert_eq!(
        r("{{ $ := 1 }}", 1.0).len(),
        0,
        "a declaration prints nothing"
    );
}

#[test]
fn renders_prometheus_functions() {
    assert_eq!(r("{{ $labels.instance | stripPort }}", 1.0), "10.0.0.7");
    assert_eq!(
        r("{{ stripDomain \"db-1.example.com:5432\" }}", 1.0),
        "db-1:5432"
    );
    assert_eq!(
        r(r#"{{ reReplaceAll ":[0-9]+" "" $labels.instance }}"#, 1.0),
        "10.0.0.7"
    );
    assert_eq!(
        r(
            r#"{{ reReplaceAll "(.*):(.*)" "$2@$1" $labels.instance }}"#,
            1.0
        ),
        "9100@10.0.0.7"
    );
    assert_eq!(
        r(
            r#"{{ if match "^10\\." $labels.instance }}private{{ end }}"#,
            1.0
        ),
        "private"
    );
    assert_eq!(
        r(
            "{{ title \"node down\" }} {{ toUpper $labels.job }} {{ toLower \"A\" }}",
            1.0
        ),
        "Node Down NODE a"
    );
    assert_eq!(
        r("{{ humanizeTimestamp $value }}", 1_700_000_000.5),
        "2023-11-14 22:13:20.5 +0000 UTC"
    );
    assert_eq!(
        r("{{ $value | toTime }}", 0.0),
        "1970-01-01 00:00:00 +0000 UTC"
    );
    assert_eq!(r("{{ toDuration 90 }}", 1.0), "1m30s");
    assert_eq!(r(r#"{{ parseDuration "1h" }}"#, 1.0), "3600");
    assert_eq!(r("{{ humanize \"2048\" }}", 1.0), "2.048k");
    assert_eq!(
        r(r#"{{ graphLink "up == 0" }}"#, 1.0),
        "/graph?g0.expr=up+%3D%3D+0&g0.tab=0"
    );
    assert_eq!(r(r#"{{ (args 1 "a").arg1 }}"#, 1.0), "a");
}

#[test]
fn external_labels_and_url_come_from_the_data() {
    let l = labels();
    let ext = BTreeMap::from([("cluster".to_string(), "eu-1".to_string())]);
    let d = Data {
        labels: &l,
        value: 1.0,
        external_labels: &ext,
        external_url: "https://prom.example.com/prometheus/",
        alert: "X",
    };
    assert_eq!(
        render_with(
            "{{ $externalLabels.cluster }} {{ $externalURL }} {{ pathPrefix }}",
            &d
        ),
        "eu-1 https://prom.example.com/prometheus/ /prometheus"
    );
    assert_eq!(r("[{{ $externalLabels.cluster }}]", 1.0), "[]");
}

#[test]
fn errors_render_as_prometheus_shows_them_and_query_is_kept() {
    // Go compares an int constant with a float64 value only by erroring.
    let out = r("{{ if gt $value 80 }}hot{{ end }}", 90.0);
    assert!(out.starts_with("<error expanding template: "), "{out}");
    assert!(out.contains("incompatible types for comparison"), "{out}");
    assert_eq!(r("{{ if gt $value 80.0 }}hot{{ end }}", 90.0), "hot");
    assert!(r("{{ $labels.job.x }}", 1.0).contains("can't evaluate field x"));
    let t = r#"{{ with query "up" }}{{ . | first | value }}{{ end }}"#;
    assert_eq!(r(t, 1.0), t, "needs a live Prometheus: kept as written");
    assert!(matches!(
        expand(t, &Data::series(&labels(), 1.0)),
        Err(Fail::Offline(_))
    ));
}

#[test]
fn hostile_templates_are_bounded() {
    let t = "{{ define \"a\" }}{{ template \"a\" . }}{{ end }}{{ template \"a\" . }}";
    assert!(r(t, 1.0).contains("maximum template depth"));
    let t = "{{ range $i := 100000000 }}xxxxxxxxxx{{ end }}";
    assert!(r(t, 1.0).starts_with("<error expanding template"));
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
        assert!(check(t).is_ok(), "{t}: {:?}", check(t));
    }
    let needs = check(r#"{{ with query "up" }}{{ . | first | value }}{{ end }}"#).unwrap();
    assert_eq!(needs.online, ["first", "query", "value"]);
    assert!(!needs.external);
    assert!(check("{{ $externalLabels.cluster }}").unwrap().external);
}

#[test]
fn check_names_what_is_wrong_and_where() {
    let e = check("{{ $labels.instance is down").unwrap_err();
    assert!(e.contains("no closing") && e.starts_with("1:1:"), "{e}");
    let e = check("ok\n  {{ $lables.instance }}").unwrap_err();
    assert!(
        e.contains("unknown variable `$lables`") && e.starts_with("2:5:"),
        "{e}"
    );
    let e = check("{{ humanise $value }}").unwrap_err();
    assert!(e.contains("unknown function `humanise`"), "{e}");
    let e = check("{{ if $value }}x").unwrap_err();
    assert!(e.contains("no `{{ end }}`"), "{e}");
    let e = check("x{{ end }}").unwrap_err();
    assert!(e.contains("without"), "{e}");
    assert!(check("{{ }}").is_err());
    assert!(check("{{ break }}").is_err(), "break outside range");
    assert!(
        check("{{ $x = 1 }}").is_err(),
        "assigning an undeclared variable"
    );
    // A variable lives until the end of its control structure.
    assert!(check("{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}").is_err());
}
