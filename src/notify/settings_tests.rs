//! Unit tests of `notify:` validation.

use super::*;

fn parse(yaml: &str) -> Result<NotifyConfig, FieldError> {
    NotifyConfig::from_value(&serde_yaml::from_str(yaml).unwrap())
}

#[test]
fn full_example_parses() {
    let c = parse(
        r#"
channels:
  team: { slack: { webhook_url: "https://hooks.slack.test/T/B/x" } }
  pager: { pagerduty: { routing_key: "k" } }
  hook: { webhook: { url: "http://127.0.0.1:1/h", secret: s, retries: 3, timeout: 5s, headers: { X-A: b } } }
  mail: { email: { smtp_host: localhost, smtp_port: 25, from: "a@b.c", to: ["o@b.c"], starttls: false } }
  am: { alertmanager: { url: "http://127.0.0.1:9093" } }
  po: { pushover: { token: t, user: u } }
  out: { log: {} }
  bare: { log: }
routes:
  - { severity: [critical], channels: [pager, team] }
  - { severity: [high, medium], kinds: [CPU_SPIKE], channels: [team] }
cooldown: 10m
escalation:
  - { after: 5m, severity: [critical], channels: [mail] }
"#,
    )
    .unwrap();
    assert_eq!(c.channels.len(), 8);
    assert_eq!(c.cooldown, Duration::from_secs(600));
    assert_eq!(c.escalation[0].after, Duration::from_secs(300));
    assert_eq!(c.verdict, vec!["pager".to_string(), "team".to_string()]);
    assert_eq!(c.channel("hook").unwrap().kind(), "webhook");
}

#[test]
fn unknown_type_names_the_field() {
    let e = parse("channels: { team: { slak: { webhook_url: x } } }").unwrap_err();
    assert_eq!(e.0, "notify.channels.team.slak");
    assert!(e.1.contains("unknown channel type `slak`"), "{}", e.1);
}

#[test]
fn unknown_channel_in_route_names_the_field() {
    let e = parse(
        "channels: { t: { log: {} } }\nroutes: [ { severity: [critical], channels: [t, nope] } ]",
    )
    .unwrap_err();
    assert_eq!(e.0, "notify.routes[0].channels");
    assert!(e.1.contains("unknown channel `nope`"), "{}", e.1);
}

#[test]
fn unknown_key_in_channel_is_an_error_and_url_is_not_echoed() {
    let e = parse("channels: { h: { webhook: { url: x, retry: 1 } } }").unwrap_err();
    assert_eq!(e.0, "notify.channels.h.webhook");
    assert!(e.1.contains("retry"), "{}", e.1);
    let e = parse("channels: { h: { slack: { webhook_url: secret-token } } }").unwrap_err();
    assert!(!e.1.contains("secret-token"));
}

#[test]
fn bad_severity_and_escalation_are_errors() {
    let e =
        parse("channels: { t: { log: {} } }\nroutes: [ { severity: [urgent], channels: [t] } ]")
            .unwrap_err();
    assert_eq!(e.0, "notify.routes[0]");
    let e = parse("channels: { t: { log: {} } }\nescalation: [ { after: soon, channels: [t] } ]")
        .unwrap_err();
    assert_eq!(e.0, "notify.escalation[0]");
}
