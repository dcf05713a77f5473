//! Notifications reaching a real Prometheus Alertmanager and a real SMTP server.

use super::common::servers::{Alertmanager, Smtp};
use super::common::Project;
use super::{config, history, text, watch};
use std::time::{Duration, Instant};

#[test]
fn alertmanager_lists_the_alert_then_sees_it_resolved() {
    let am = Alertmanager::start();
    let p = Project::new();
    let notify = format!(
        "  channels:\n    am: {{ alertmanager: {{ url: \"{}\" }} }}\n  routes:\n    - {{ severity: [critical], channels: [am] }}\n",
        am.url()
    );
    config(&p, &p.series("bad", &["50"]), "1s", &notify);
    let o = watch(&p);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let ours = |a: &serde_json::Value| {
        a["labels"]["deployment"] == "web" && a["labels"]["alertname"] == "HIGH_ERROR_RATE"
    };
    let alerts = am.alerts();
    let alert = alerts
        .iter()
        .find(|a| ours(a))
        .unwrap_or_else(|| panic!("not listed: {alerts:#?}\n{}", am.log()));
    assert_eq!(alert["labels"]["rule"], "high-errors");
    assert_eq!(alert["labels"]["severity"], "critical");
    assert_eq!(alert["labels"]["series"], "err");
    assert!(alert["annotations"]["description"]
        .as_str()
        .unwrap()
        .contains('>'));
    assert_ne!(alert["status"]["state"], "resolved");

    // The next run of the deployment sees the metric healthy: the open alert is resolved.
    config(&p, &p.series("good", &["1"]), "1s", &notify);
    let o = watch(&p);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let h = history(&p);
    assert!(
        h.iter()
            .any(|a| a["event"] == "resolved" && a["outcome"] == "sent"),
        "{h:#?}"
    );
    let start = Instant::now();
    while am.alerts().iter().any(ours) {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "still active: {:#?}",
            am.alerts()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn email_reaches_a_real_smtp_server_with_auth_and_both_bodies() {
    let smtp = Smtp::start(Some(("alerts", "smtp-pw-4242")));
    let p = Project::new();
    let notify = format!(
        "  channels:\n    mail: {{ email: {{ smtp_host: 127.0.0.1, smtp_port: {}, from: \"vz <alerts@example.com>\", to: [ops@example.com, dev@example.com], username: alerts, password: smtp-pw-4242, starttls: false }} }}\n  routes:\n    - {{ severity: [critical], channels: [mail] }}\n",
        smtp.port
    );
    config(&p, &p.series("bad", &["50"]), "1s", &notify);
    let o = p.cmd().args(["notify", "test", "mail"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}\n{}", text(&o), smtp.log());
    let o = watch(&p);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!text(&o).contains("smtp-pw-4242"));
    let mails = smtp.messages();
    assert_eq!(mails.len(), 3, "test, firing, verdict: {mails:#?}");
    for m in &mails {
        assert!(m.contains("X-Auth-Login: alerts"), "{m}");
        assert!(
            m.contains("X-Envelope-To: ops@example.com,dev@example.com"),
            "{m}"
        );
        assert!(m.contains("multipart/alternative"), "{m}");
        assert!(m.contains("text/plain") && m.contains("text/html"), "{m}");
    }
    assert!(
        mails[0].contains("Subject: [vz-monitor] vz-monitor test message"),
        "{}",
        mails[0]
    );
    assert!(
        mails[1].contains("HIGH_ERROR_RATE firing: high-errors on err"),
        "{}",
        mails[1]
    );
    assert!(mails[1].contains("Deployment: web"), "{}", mails[1]);
    assert!(mails[2].contains("web: healthy (exit 0)"), "{}", mails[2]);
}
