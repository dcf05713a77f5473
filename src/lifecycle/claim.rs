//! One rollback per deploy, across processes and runners (DESIGN.md "Rollback"): every run
//! that would act — a watch that decided to roll back, a manual `rollback` — claims the
//! deploy first ([`crate::store::claims`]). The holder runs the command; the others report
//! "rolled back by run X" and take that rollback's real outcome (1 if it succeeded, 4 if it
//! failed). A holder that died mid-command leaves an outcome nobody knows: the command is run
//! again only when declared idempotent, else a human must act (exit 4, naming the run).

use super::signals::Signals;
use crate::model::Timestamp;
use crate::store::{Claim, Holder, Store, CLAIM_HEARTBEAT, CLAIM_LEASE};

/// The deploy a run acts on: the deployment, and the revision (deploy id) the pipeline gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deploy {
    /// The deployment (`deployment:`, `--deployment`).
    pub deployment: String,
    /// `--revision` / `VZ_REVISION`, else what the CI names (see [`revision_from_ci`]).
    pub revision: Option<String>,
}

impl Deploy {
    /// The key its claim is stored under: `deployment@revision`, or the deployment alone.
    pub fn key(&self) -> String {
        match &self.revision {
            Some(r) => format!("{}@{r}", self.deployment),
            None => self.deployment.clone(),
        }
    }

    /// The deploy named `deployment`, at `revision` when given, else the CI's.
    pub fn new(deployment: &str, revision: Option<&str>) -> Deploy {
        let revision = revision
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(String::from)
            .or_else(|| revision_from_ci(&|k| std::env::var(k).ok()));
        Deploy {
            deployment: deployment.to_string(),
            revision,
        }
    }
}

/// The deploy id a CI gives when `--revision` is not set: GitHub Actions
/// `GITHUB_SHA` of this workflow run attempt (`GITHUB_RUN_ID`, `GITHUB_RUN_ATTEMPT`: every job
/// of one run shares it, a re-run is a new deploy), GitLab `CI_COMMIT_SHA` of the pipeline
/// (`CI_PIPELINE_ID`). None elsewhere: then a claim made before a run started belongs to an
/// earlier deploy (the fallback, by start time).
pub fn revision_from_ci(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    if let Some(sha) = get("GITHUB_SHA") {
        let run = get("GITHUB_RUN_ID").unwrap_or_default();
        let attempt = get("GITHUB_RUN_ATTEMPT").unwrap_or_default();
        return Some(format!("{sha}/{run}.{attempt}"));
    }
    get("CI_COMMIT_SHA").map(|sha| format!("{sha}/{}", get("CI_PIPELINE_ID").unwrap_or_default()))
}

/// What claiming a deploy's rollback came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    /// This run holds the claim: run the command. `took_over` names the dead holder whose
    /// claim was taken (idempotent commands only).
    Run { took_over: Option<String> },
    /// Another run rolled the deploy back: this is its outcome.
    ByOther { by: String, ok: bool },
    /// Nobody knows what became of the rollback: a human must act (exit 4).
    Unknown { by: String, why: String },
}

/// Claims `deploy` for `run_id` (started at `started_at`), waiting while a live holder runs
/// its command. A store that fails never stops the rollback (the claim is then this run's);
/// a signal while waiting stops the wait with the outcome unknown.
pub async fn claim(
    store: &mut Store,
    deploy: &Deploy,
    run_id: &str,
    started_at: Timestamp,
    idempotent: bool,
    signals: &mut Signals,
) -> Claimed {
    let key = deploy.key();
    let earlier = deploy.revision.is_none().then_some(started_at);
    let lease = CLAIM_LEASE.as_millis() as i64;
    loop {
        let now = now_ms();
        let by = match store.claim_rollback(&key, run_id, earlier, now, now + lease) {
            Ok(Claim::Lost { by, .. }) => by,
            Ok(Claim::Won) => return Claimed::Run { took_over: None },
            Err(e) => {
                errln!("warning: could not claim the rollback in the store ({e}): running it");
                return Claimed::Run { took_over: None };
            }
        };
        match store.claim_holder(&by, now_ms()) {
            Ok(Holder::Done { ok: Some(ok) }) => return Claimed::ByOther { by, ok },
            Ok(Holder::Done { ok: None }) | Err(_) => {
                let why = format!(
                    "run {by} claimed the rollback of {key}; its outcome is not known here"
                );
                return Claimed::Unknown { by, why };
            }
            Ok(Holder::Lapsed) if idempotent => {
                let now = now_ms();
                if let Ok(true) = store.take_over_claim(&key, &by, run_id, now, now + lease) {
                    errln!(
                        "run {by} claimed the rollback of {key} and died before recording it; \
                         the command is idempotent (rollback.idempotent): taking over"
                    );
                    return Claimed::Run {
                        took_over: Some(by),
                    };
                }
            }
            Ok(Holder::Lapsed) => {
                let why = format!(
                    "run {by} claimed the rollback of {key} and died before recording its \
                     outcome; the command is not declared idempotent (rollback.idempotent), so \
                     it is not run again"
                );
                return Claimed::Unknown { by, why };
            }
            Ok(Holder::Live) => {
                // This run's own ticks have stopped: keep it live while it waits.
                let _ = store.extend_lease(run_id, now_ms() + lease);
                tokio::select! {
                    _ = tokio::time::sleep(CLAIM_HEARTBEAT / 2) => {}
                    _ = signals.recv() => {
                        let why = format!(
                            "interrupted while run {by} was rolling {key} back; its outcome is not known here"
                        );
                        return Claimed::Unknown { by, why };
                    }
                }
            }
        }
    }
}

fn now_ms() -> Timestamp {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ci_names_the_deploy_when_no_revision_is_given() {
        let gh = |k: &str| match k {
            "GITHUB_SHA" => Some("abc".to_string()),
            "GITHUB_RUN_ID" => Some("42".into()),
            "GITHUB_RUN_ATTEMPT" => Some("2".into()),
            _ => None,
        };
        assert_eq!(revision_from_ci(&gh).as_deref(), Some("abc/42.2"));
        let gl = |k: &str| (k == "CI_COMMIT_SHA").then(|| "def".to_string());
        assert_eq!(revision_from_ci(&gl).as_deref(), Some("def/"));
        assert_eq!(revision_from_ci(&|_| None), None);
        let d = Deploy {
            deployment: "web".into(),
            revision: Some("r1".into()),
        };
        assert_eq!(d.key(), "web@r1");
    }
}
