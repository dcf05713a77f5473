//! Exit codes (DESIGN.md "Exit codes"), decided in one place from what happened to the
//! deployment — never from which error type surfaced last. A store that failed after the
//! rollback ran, or a closed stdout, does not turn "rolled back" into "nothing was run".

use std::process::ExitCode;

/// How a command ended, as the pipeline sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: healthy, or the command succeeded.
    Healthy,
    /// 1: the policy decided to roll back and the rollback succeeded (or was not to be run).
    Unhealthy,
    /// 2: usage, config or rule error; nothing was run.
    Usage,
    /// 3: too much data missing to decide (fail-open).
    Inconclusive,
    /// 4: rollback needed but it failed or timed out: a human must act.
    RollbackFailed,
    /// 130: interrupted before any rollback started; state saved.
    Interrupted,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Healthy => 0,
            Exit::Unhealthy => 1,
            Exit::Usage => 2,
            Exit::Inconclusive => 3,
            Exit::RollbackFailed => 4,
            Exit::Interrupted => 130,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}

/// What the gate concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concluded {
    /// The window passed.
    Healthy,
    /// The policy (or a person's abort) asked for a rollback.
    Rollback,
    /// Too much data missing; `fail_closed` turns it into a rollback.
    Inconclusive { fail_closed: bool },
    /// A signal ended the watch before any decision.
    Interrupted,
}

impl Concluded {
    /// The conclusion a gate decision stands for.
    pub fn of(d: &vz_core::policy::Decision) -> Concluded {
        use vz_core::policy::Verdict;
        match d.verdict {
            Verdict::Healthy => Concluded::Healthy,
            Verdict::Rollback => Concluded::Rollback,
            Verdict::Inconclusive => Concluded::Inconclusive {
                fail_closed: d.fail_closed,
            },
        }
    }

    /// Whether the rollback must run.
    pub fn wants_rollback(self) -> bool {
        matches!(
            self,
            Concluded::Rollback | Concluded::Inconclusive { fail_closed: true }
        )
    }
}

/// What happened to the rollback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackResult {
    /// Not asked for.
    NotNeeded,
    /// Asked for and deliberately not run: `--dry-run`, `--no-rollback`, a hold,
    /// `rollback.enabled: false`, an offline replay.
    Withheld,
    /// Another run already rolled this deployment back.
    DoneByOtherRun,
    /// The command ran and succeeded.
    Succeeded,
    /// The command ran and failed or timed out (after its retries).
    Failed,
}

/// Everything that decides the exit code of a watch (or a replay).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub concluded: Concluded,
    pub rollback: RollbackResult,
    /// A signal arrived while the rollback ran; it was let finish.
    pub interrupted_during_rollback: bool,
    /// The store failed at some point: reported, never changes what happened.
    pub store_failed: bool,
}

impl Outcome {
    /// A run with this conclusion and rollback result, nothing else of note.
    pub fn new(concluded: Concluded, rollback: RollbackResult) -> Outcome {
        Outcome {
            concluded,
            rollback,
            interrupted_during_rollback: false,
            store_failed: false,
        }
    }

    /// The exit code, from what happened to the deployment.
    pub fn exit(&self) -> Exit {
        match self.rollback {
            RollbackResult::Failed => Exit::RollbackFailed,
            RollbackResult::Succeeded
            | RollbackResult::DoneByOtherRun
            | RollbackResult::Withheld => Exit::Unhealthy,
            RollbackResult::NotNeeded => match self.concluded {
                Concluded::Healthy => Exit::Healthy,
                Concluded::Inconclusive { fail_closed: false } => Exit::Inconclusive,
                Concluded::Interrupted => Exit::Interrupted,
                // Asked for a rollback but nothing says what became of it: a human must look.
                Concluded::Rollback | Concluded::Inconclusive { fail_closed: true } => {
                    Exit::RollbackFailed
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Concluded as C;
    use RollbackResult as R;

    /// Every combination of conclusion, rollback result, interruption and store failure.
    #[test]
    fn exit_table() {
        let concl = [
            C::Healthy,
            C::Rollback,
            C::Inconclusive { fail_closed: false },
            C::Inconclusive { fail_closed: true },
            C::Interrupted,
        ];
        let results = [
            R::NotNeeded,
            R::Withheld,
            R::DoneByOtherRun,
            R::Succeeded,
            R::Failed,
        ];
        for c in concl {
            for r in results {
                for during in [false, true] {
                    for store_failed in [false, true] {
                        let o = Outcome {
                            concluded: c,
                            rollback: r,
                            interrupted_during_rollback: during,
                            store_failed,
                        };
                        let want = match (c, r) {
                            (_, R::Failed) => 4,
                            (_, R::Succeeded | R::Withheld | R::DoneByOtherRun) => 1,
                            (C::Healthy, R::NotNeeded) => 0,
                            (C::Inconclusive { fail_closed: false }, R::NotNeeded) => 3,
                            (C::Interrupted, R::NotNeeded) => 130,
                            (_, R::NotNeeded) => 4,
                        };
                        assert_eq!(o.exit().code(), want, "{o:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_store_failure_after_the_rollback_ran_is_still_exit_1() {
        let mut o = Outcome::new(C::Rollback, R::Succeeded);
        o.store_failed = true;
        assert_eq!(o.exit(), Exit::Unhealthy);
        o.interrupted_during_rollback = true;
        assert_eq!(o.exit(), Exit::Unhealthy);
    }
}
