//! What a backtest warns about: a false-rollback rate above `policy.alpha` (and the rules
//! behind it), and a `max_change` smaller than the shift the data lets the watch resolve.

use super::mde::{Mde, POWER};
use super::Tally;
use crate::detect::DetectorSpec;
use crate::gate::GatePlan;
use crate::model::fmt_num;

/// One sentence per problem, most important first.
pub fn warnings(plan: &GatePlan, tally: &Tally, mdes: &[Mde]) -> Vec<String> {
    let mut out = Vec::new();
    let alpha = plan.policy.alpha;
    if tally.judged > 0 && tally.rate > alpha {
        let rules: Vec<String> = tally
            .by_rule
            .iter()
            .take(3)
            .map(|c| format!("`{}` fired in {}", c.rule, c.windows))
            .collect();
        let cause = if rules.is_empty() {
            String::new()
        } else {
            format!("; {}", rules.join(", "))
        };
        out.push(format!(
            "the gate would have rolled back {} of {} windows ({} %), above policy.alpha {} %{cause}: \
             on history nobody deployed into each is a false rollback or an incident worth a look",
            tally.rollbacks,
            tally.judged,
            fmt_num(round2(tally.rate * 100.0)),
            fmt_num(alpha * 100.0),
        ));
    }
    for rule in plan.rules.iter().filter(|r| !r.dry_run) {
        let DetectorSpec::Baseline(p) = &rule.detector else {
            continue;
        };
        let Some(m) = mdes.iter().find(|m| m.metric == rule.metric) else {
            continue;
        };
        let (resolved, how) = match m.effect {
            Some(e) => (e, format!("{} %", fmt_num(e))),
            None if m.below.is_some() => (f64::INFINITY, "no shift tried".into()),
            None => continue,
        };
        if p.max_change < resolved {
            out.push(format!(
                "rule `{}`: max_change {} % is below what this history can resolve: the planned \
                 watch catches {how} on `{}` with {:.0} % power; smaller regressions pass \
                 unseen (raise max_change, or watch longer)",
                rule.name,
                fmt_num(p.max_change),
                rule.metric,
                POWER * 100.0,
            ));
        }
    }
    out
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
