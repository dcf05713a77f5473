//! Notifications against real local servers: an HTTP receiver in this process (Slack,
//! webhook, PagerDuty, Pushover), a real Prometheus Alertmanager and a real SMTP server
//! (aiosmtpd), all on 127.0.0.1. The watch is the real binary.

use crate::common;
#[path = "notify/real_servers.rs"]
mod real_servers;

use common::config::GateConfig;
use common::servers::{Answer, Receiver};
use common::{json, Project};
use hmac::{Hmac, Mac};
use std::process::Output;
use std::time::{Duration, Instant};

const RULE: &str = r#"{ name: high-errors, metric: err, detector: { threshold: { op: ">", value: 5 } }, kind: HIGH_ERROR_RATE, severity: critical }"#;

/// Writes vz-monitor.yaml: one command-probe metric `err` fed by `series`, one critical
/// rule, a policy that never rolls back (so the watch runs its whole window), and `notify`
/// (YAML indented by two spaces).
fn config(p: &Project, series: &str, duration: &str, notify: &str) {
    GateConfig::new("200ms", duration)
        .probe("err", series)
        .rule(RULE)
        .policy("critical: 0, high: 0")
        .tail(&format!("notify:\n{notify}"))
        .write(p);
}

fn watch(p: &Project) -> Output {
    p.cmd()
        .args(["watch", "--output", "json"])
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn history(p: &Project) -> Vec<serde_json::Value> {
    let o = p
        .cmd()
        .args(["notify", "history", "--limit", "500", "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    json(&o.stdout).as_array().unwrap().clone()
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut m = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    m.update(body);
    format!("sha256={}", hex::encode(m.finalize().into_bytes()))
}

#[test]
fn one_firing_per_anomaly_signed_shaped_and_one_verdict() {
    let r = Receiver::start();
    let p = Project::new();
    // Healthy at the first tick, then bad on every one of the ~20 ticks that follow.
    let s = p.series("bad", &["1", "50"]);
    let notify = format!(
        r#"  channels:
    team: {{ slack: {{ webhook_url: "{slack}" }} }}
    hook: {{ webhook: {{ url: "{hook}", secret: "s3cret-hmac", headers: {{ X-Team: web }} }} }}
    pager: {{ pagerduty: {{ routing_key: "pd-key-1", url: "{pd}" }} }}
    po: {{ pushover: {{ token: "po-token", user: "po-user", url: "{po}" }} }}
  routes:
    - {{ severity: [critical], channels: [team, hook, pager, po] }}
"#,
        slack = r.url("/slack"),
        hook = r.url("/hook"),
        pd = r.url("/pd"),
        po = r.url("/po")
    );
    config(&p, &s, "4s", &notify);
    let o = watch(&p);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let summary = json(&o.stdout);
    assert!(summary["ticks"].as_u64().unwrap() >= 10, "{summary}");
    // Every attempt and its outcome is part of the run summary (and of the stored run).
    let attempts = summary["notifications"]
        .as_array()
        .expect("notifications in the summary");
    assert!(
        attempts
            .iter()
            .any(|a| a["channel"] == "hook" && a["event"] == "firing" && a["outcome"] == "sent"),
        "{attempts:?}"
    );
    assert!(
        attempts
            .iter()
            .any(|a| a["event"] == "verdict" && a["outcome"] == "sent"),
        "{attempts:?}"
    );

    // Webhook: one firing for the anomaly that fired on every tick, one verdict, signed.
    let firing = r.events("/hook", "event", "firing");
    assert_eq!(firing.len(), 1, "{:?}", r.on("/hook"));
    let f = &firing[0];
    assert_eq!(f["deployment"], "web");
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["anomalies"][0]["rule"], "high-errors");
    assert_eq!(f["anomalies"][0]["kind"], "HIGH_ERROR_RATE");
    let key = f["dedup_key"].as_str().unwrap().to_string();
    let verdicts = r.events("/hook", "event", "verdict");
    assert_eq!(verdicts.len(), 1);
    assert_eq!(verdicts[0]["verdict"], "healthy");
    assert_eq!(verdicts[0]["exit_code"], 0);
    for req in r.on("/hook") {
        assert_eq!(
            req.headers.get("x-vz-signature"),
            Some(&hmac_hex("s3cret-hmac", &req.body)),
            "signature over the exact body"
        );
        assert_eq!(req.headers.get("x-team").map(String::as_str), Some("web"));
    }

    // Slack: readable blocks, firing + verdict.
    let slack = r.on("/slack");
    assert_eq!(slack.len(), 2, "{slack:?}");
    let b = slack[0].json();
    assert!(b["text"].as_str().unwrap().contains("high-errors"));
    let blocks = b["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    let all = b["blocks"].to_string();
    assert!(all.contains("*Deployment*\\nweb"), "{all}");
    assert!(all.contains("*Verdict*"), "{all}");
    assert!(all.contains("*Anomalies*"), "{all}");

    // PagerDuty: one trigger with the stable key; verdicts are not incidents.
    let pd = r.on("/pd");
    assert_eq!(pd.len(), 1, "{pd:?}");
    let t = pd[0].json();
    assert_eq!(t["routing_key"], "pd-key-1");
    assert_eq!(t["event_action"], "trigger");
    assert_eq!(t["dedup_key"], key.as_str());
    assert_eq!(t["payload"]["severity"], "critical");
    assert_eq!(t["payload"]["source"], "vz-monitor/web");

    // Pushover: firing (high priority) + verdict.
    let po = r.on("/po");
    assert_eq!(po.len(), 2);
    let m = po[0].json();
    assert_eq!(
        (m["token"].as_str(), m["user"].as_str()),
        (Some("po-token"), Some("po-user"))
    );
    assert_eq!(m["priority"], 1);
    assert!(m["message"].as_str().unwrap().contains("Deployment: web"));

    // Every attempt is stored: 4 firings + 3 verdicts (PagerDuty takes none), all sent.
    let h = history(&p);
    let sent: Vec<_> = h.iter().filter(|a| a["outcome"] == "sent").collect();
    assert_eq!(sent.len(), 7, "{h:#?}");
    assert!(h.iter().all(|a| a["run_id"] == summary["run_id"]));
}

#[test]
fn resolve_is_sent_and_cooldown_silences_flapping() {
    let flapping = ["1", "50", "1", "50", "1", "50", "1"];
    let notify = |r: &Receiver, cooldown: &str| {
        format!(
            "  channels:\n    hook: {{ webhook: {{ url: \"{}\" }} }}\n    pager: {{ pagerduty: {{ routing_key: k, url: \"{}\" }} }}\n  routes:\n    - {{ severity: [critical], channels: [hook, pager] }}\n  cooldown: {cooldown}\n",
            r.url("/hook"),
            r.url("/pd")
        )
    };

    // Cooldown 1h: the first firing and its resolve are told; the two re-fires are not.
    let r = Receiver::start();
    let p = Project::new();
    config(&p, &p.series("flap", &flapping), "2s", &notify(&r, "1h"));
    let o = watch(&p);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(r.events("/hook", "event", "firing").len(), 1);
    let resolved = r.events("/hook", "event", "resolved");
    assert_eq!(resolved.len(), 1, "{:?}", r.on("/hook"));
    assert!(resolved[0]["anomalies"][0]["resolved_at"].is_i64());
    let pd: Vec<_> = r.on("/pd").iter().map(|q| q.json()).collect();
    let actions: Vec<_> = pd.iter().map(|e| e["event_action"].clone()).collect();
    assert_eq!(actions, ["trigger", "resolve"]);
    assert_eq!(pd[0]["dedup_key"], pd[1]["dedup_key"]);
    let h = history(&p);
    assert_eq!(
        h.iter().filter(|a| a["outcome"] == "cooldown").count(),
        2,
        "{h:#?}"
    );

    // Cooldown 0s: every flap is told.
    let r = Receiver::start();
    let p = Project::new();
    config(&p, &p.series("flap", &flapping), "2s", &notify(&r, "0s"));
    let o = watch(&p);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(r.events("/hook", "event", "firing").len(), 3);
    assert_eq!(r.events("/hook", "event", "resolved").len(), 3);
}

#[test]
fn escalation_after_its_delay_and_dedup_across_runs() {
    let r = Receiver::start();
    let p = Project::new();
    let notify = format!(
        "  channels:\n    hook: {{ webhook: {{ url: \"{}\" }} }}\n    esc: {{ webhook: {{ url: \"{}\" }} }}\n    late: {{ webhook: {{ url: \"{}\" }} }}\n  routes:\n    - {{ severity: [critical], channels: [hook] }}\n  escalation:\n    - {{ after: 1s, severity: [critical], channels: [esc] }}\n    - {{ after: 1h, channels: [late] }}\n    - {{ after: 0s, severity: [low], channels: [late] }}\n  verdict: [hook]\n",
        r.url("/hook"),
        r.url("/esc"),
        r.url("/late")
    );
    config(&p, &p.series("bad", &["50"]), "3s", &notify);
    let o = watch(&p);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let firing = r.events("/hook", "event", "firing");
    assert_eq!(firing.len(), 1);
    let esc = r.on("/esc");
    assert_eq!(esc.len(), 1, "one escalation, after its delay: {esc:?}");
    let e = esc[0].json();
    assert_eq!(e["event"], "escalated");
    assert_eq!(e["stage"], 1);
    assert_eq!(e["dedup_key"], firing[0]["dedup_key"]);
    let fired_at = e["anomalies"][0]["fired_at"].as_i64().unwrap();
    let sent_at = chrono::DateTime::parse_from_rfc3339(e["timestamp"].as_str().unwrap())
        .unwrap()
        .timestamp_millis();
    assert!(
        sent_at - fired_at >= 1000,
        "escalated {} ms after firing",
        sent_at - fired_at
    );
    assert!(
        r.on("/late").is_empty(),
        "a 1h stage and a low-only stage never fire"
    );

    // Same deployment, still firing: the open alert is not told again, nor escalated again.
    let o = watch(&p);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(r.events("/hook", "event", "firing").len(), 1);
    assert_eq!(r.on("/esc").len(), 1);
    assert_eq!(
        r.events("/hook", "event", "verdict").len(),
        2,
        "one verdict per run"
    );
    let h = history(&p);
    assert_eq!(
        h.iter().filter(|a| a["outcome"] == "duplicate").count(),
        1,
        "{h:#?}"
    );
}

#[test]
fn hanging_or_failing_receivers_never_slow_the_watch_nor_change_its_exit_code() {
    let r = Receiver::start();
    r.answer("/hang", Answer::Hang);
    r.answer("/flaky", Answer::Statuses(vec![500, 503]));
    r.answer("/bad", Answer::Statuses(vec![400, 400, 400]));
    let p = Project::new();
    let notify = format!(
        "  channels:\n    hang: {{ webhook: {{ url: \"{}\", timeout: 1s, retries: 0 }} }}\n    flaky: {{ webhook: {{ url: \"{}\", retries: 3 }} }}\n    bad: {{ webhook: {{ url: \"{}\", retries: 3 }} }}\n  routes:\n    - {{ channels: [hang] }}\n",
        r.url("/hang"),
        r.url("/flaky"),
        r.url("/bad")
    );
    config(&p, &p.series("bad", &["50"]), "3s", &notify);
    let start = Instant::now();
    let o = watch(&p);
    let took = start.elapsed();
    eprintln!("watch (3 s window) with a hanging receiver took {took:?}");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let summary = json(&o.stdout);
    // 3 s at 200 ms is 16 ticks; the hanging receiver held none of them.
    assert!(summary["ticks"].as_u64().unwrap() >= 10, "{summary}");
    // Window + the hanging channel's 1 s timeout (+1 s guard) + generous slack for CI.
    assert!(
        took < Duration::from_secs(3 + 2 + 10),
        "watch took {took:?}"
    );
    assert!(
        r.on("/hang").len() >= 2,
        "firing and verdict were both attempted"
    );
    let h = history(&p);
    let failed: Vec<_> = h.iter().filter(|a| a["channel"] == "hang").collect();
    assert_eq!(failed.len(), 2, "{h:#?}");
    assert!(
        failed
            .iter()
            .all(|a| a["outcome"] == "failed" && a["detail"] == "timed out"),
        "{h:#?}"
    );
    assert!(
        text(&o).contains("notifications: 0 sent, 2 failed"),
        "{}",
        text(&o)
    );

    // 5xx is retried with backoff; 4xx is not.
    let o = p
        .cmd()
        .args(["notify", "test", "flaky", "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let a = json(&o.stdout);
    assert_eq!(
        (a["outcome"].as_str(), a["attempts"].as_u64()),
        (Some("sent"), Some(3))
    );
    assert_eq!(r.on("/flaky").len(), 3);
    assert_eq!(r.on("/flaky")[0].json()["event"], "test");
    let o = p
        .cmd()
        .args(["notify", "test", "bad", "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "a failed test send exits 1: {}",
        text(&o)
    );
    let a = json(&o.stdout);
    assert_eq!(
        (a["outcome"].as_str(), a["attempts"].as_u64()),
        (Some("failed"), Some(1))
    );
    assert!(a["detail"].as_str().unwrap().starts_with("HTTP 400"), "{a}");
    assert_eq!(r.on("/bad").len(), 1);
    let o = p.cmd().args(["notify", "test", "nope"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("unknown channel `nope`; notify.channels defines: bad, flaky, hang"),
        "{}",
        text(&o)
    );
}

#[test]
fn secrets_never_appear_in_output() {
    let r = Receiver::start();
    r.answer(
        "/services/T0/B0/SLACKTOKEN123",
        Answer::Statuses(vec![500; 20]),
    );
    r.answer("/pd", Answer::Statuses(vec![400; 20]));
    let p = Project::new();
    let notify = format!(
        "  channels:\n    team: {{ slack: {{ webhook_url: \"{}\" }} }}\n    pager: {{ pagerduty: {{ routing_key: PDROUTINGKEY987, url: \"{}\" }} }}\n    hook: {{ webhook: {{ url: \"{}\", secret: HOOKSECRET555, headers: {{ Authorization: \"Bearer HEADERTOKEN777\" }}, retries: 0 }} }}\n  routes:\n    - {{ channels: [team, pager, hook] }}\n",
        r.url("/services/T0/B0/SLACKTOKEN123"),
        r.url("/pd"),
        r.url("/hook")
    );
    config(&p, &p.series("bad", &["50"]), "1s", &notify);
    let mut out = String::new();
    let o = watch(&p);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    out += &text(&o);
    for args in [
        vec!["notify", "history"],
        vec!["notify", "history", "--output", "json"],
        vec!["notify", "test", "team"],
        vec!["notify", "test", "pager", "--output", "json"],
        vec!["check"],
    ] {
        out += &text(&p.cmd().args(&args).output().unwrap());
    }
    assert!(out.contains("HTTP 500"), "failures are reported: {out}");
    for secret in [
        "SLACKTOKEN123",
        "PDROUTINGKEY987",
        "HOOKSECRET555",
        "HEADERTOKEN777",
    ] {
        assert!(!out.contains(secret), "{secret} leaked:\n{out}");
    }
}

#[test]
fn check_names_the_bad_notify_field() {
    let p = Project::new();
    let s = p.series("ok", &["1"]);
    config(
        &p,
        &s,
        "1s",
        "  channels:\n    team: { slak: { webhook_url: x } }\n",
    );
    let o = p.cmd().arg("check").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = text(&o);
    let line = 1 + p
        .read("vz-monitor.yaml")
        .unwrap()
        .lines()
        .position(|l| l.contains("team:"))
        .unwrap();
    assert!(
        e.contains(&format!("vz-monitor.yaml:{line}:"))
            && e.contains("notify.channels.team.slak: unknown channel type `slak`"),
        "line {line}: {e}"
    );

    config(&p, &s, "1s", "  channels:\n    t: { log: {} }\n  routes:\n    - { severity: [critical], channels: [t, pager] }\n");
    let o = p.cmd().arg("check").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = text(&o);
    assert!(
        e.contains(
            "notify.routes[0].channels: unknown channel `pager`; defined in notify.channels: t"
        ),
        "{e}"
    );
}

#[test]
fn a_manual_rollback_is_notified_like_an_automatic_one() {
    let r = Receiver::start();
    let p = Project::new();
    let notify = format!(
        "  channels:\n    hook: {{ webhook: {{ url: \"{}\" }} }}\n  routes:\n    - {{ channels: [hook] }}\n",
        r.url("/hook")
    );
    GateConfig::new("200ms", "1s")
        .probe("err", &p.series("ok", &["1"]))
        .rule(RULE)
        .rollback(r#"["true"]"#)
        .policy("critical: 0, high: 0")
        .tail(&format!("notify:\n{notify}"))
        .write(&p);
    let o = p
        .cmd()
        .args(["rollback", "--reason", "bad canary"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = r.events("/hook", "event", "verdict");
    assert_eq!(v.len(), 1, "{:?}", r.on("/hook"));
    assert_eq!(v[0]["verdict"], "rolled_back");
    assert!(v[0]["summary"]
        .as_str()
        .unwrap()
        .contains("rolled back by hand"));
    assert!(
        v[0]["reasons"][0].as_str().unwrap().contains("bad canary"),
        "{}",
        v[0]
    );
}
