//! `notify test CHANNEL` sends a test message through one channel; `notify history` lists
//! stored attempts. Neither prints a secret: failures are described without URLs or keys.

use super::{load_config, now_ms, open_store, print_json};
use crate::cli::{Format, Global, NotifyCommand, NotifyHistoryArgs, NotifyTestArgs};
use crate::error::{Error, Exit, Result};
use crate::model::Severity;
use crate::notify::message::{rfc3339, Event, Message};
use crate::notify::state::{Attempt, AttemptFilter};
use crate::notify::{self as notify, redact};
use crate::report::{
    table::{fit, new_table},
    ts,
};
use crate::run::SendOutcome;
use std::time::Instant;

/// Runs a `notify` subcommand.
pub fn run(g: &Global, c: &NotifyCommand) -> Result<Exit> {
    match c {
        NotifyCommand::Test(a) => super::block_on(test(g, a)),
        NotifyCommand::History(a) => history(g, a),
    }
}

async fn test(g: &Global, a: &NotifyTestArgs) -> Result<Exit> {
    let config = load_config(g)?;
    let deployment = a.deployment.clone().unwrap_or(config.deployment.clone());
    let Some(n) = config.notify.as_ref() else {
        return Err(Error::Usage(format!(
            "{}: no notify.channels configured",
            config.origin()
        )));
    };
    let Some(cc) = n.channel(&a.channel) else {
        let known: Vec<&str> = n.channels.iter().map(|c| c.name.as_str()).collect();
        return Err(Error::Usage(format!(
            "unknown channel `{}`; notify.channels defines: {}",
            a.channel,
            if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            }
        )));
    };
    let ch = notify::build(cc).map_err(Error::Usage)?;
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let now = now_ms();
    let msg = Message {
        version: 1,
        event: Event::Test,
        deployment: deployment.clone(),
        run_id: None,
        timestamp: rfc3339(now),
        severity: Severity::Info,
        summary: format!("vz-monitor test message for {deployment} via {}", a.channel),
        dedup_key: None,
        verdict: None,
        reasons: vec!["sent by `vz-monitor notify test`: the channel works".into()],
        anomalies: Vec::new(),
        link: notify::link(n, &env),
        stage: None,
        exit_code: None,
        dry_run: false,
    };
    let start = Instant::now();
    let d = ch.send(&msg).await;
    let attempt = Attempt {
        run_id: None,
        deployment,
        ts: now,
        channel: a.channel.clone(),
        channel_type: ch.kind().into(),
        event: "test".into(),
        dedup_key: None,
        outcome: if d.ok {
            SendOutcome::Sent
        } else {
            SendOutcome::Failed
        },
        attempts: d.attempts,
        duration_ms: start.elapsed().as_millis() as i64,
        detail: redact(&d.detail, &ch.secrets()),
    };
    match open_store(g, Some(&config)) {
        Ok(mut s) => {
            if let Err(e) = s.record_attempt(&attempt) {
                errln!("warning: cannot store the attempt: {e}");
            }
        }
        Err(e) => errln!("warning: {e}"),
    }
    match a.output {
        Format::Json => print_json(&attempt)?,
        Format::Table => outln!(
            "{} ({}): {} after {} attempt{} in {} ms — {}",
            attempt.channel,
            attempt.channel_type,
            attempt.outcome,
            attempt.attempts,
            if attempt.attempts == 1 { "" } else { "s" },
            attempt.duration_ms,
            attempt.detail
        ),
    }
    Ok(if d.ok { Exit::Healthy } else { Exit::Unhealthy })
}

fn history(g: &Global, a: &NotifyHistoryArgs) -> Result<Exit> {
    let config = load_config(g).ok();
    let store = open_store(g, config.as_ref())?;
    let f = AttemptFilter {
        run_id: a.run.clone(),
        deployment: a.deployment.clone(),
        limit: a.limit,
    };
    let list = store.attempts(&f)?;
    match a.output {
        Format::Json => print_json(&list)?,
        Format::Table => {
            let mut t = new_table(&[
                "time", "run", "channel", "type", "event", "outcome", "attempts", "ms", "detail",
            ]);
            for x in &list {
                t.add_row(vec![
                    ts(x.ts),
                    x.run_id
                        .as_deref()
                        .map(|r| r.chars().take(8).collect())
                        .unwrap_or_else(|| "-".into()),
                    x.channel.clone(),
                    x.channel_type.clone(),
                    x.event.clone(),
                    x.outcome.to_string(),
                    x.attempts.to_string(),
                    x.duration_ms.to_string(),
                    x.detail.clone(),
                ]);
            }
            fit(&mut t);
            outln!("{t}");
        }
    }
    Ok(Exit::Healthy)
}
