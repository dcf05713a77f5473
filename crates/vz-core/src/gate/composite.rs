//! Composite rules on the gate: evaluated after the plain rules of each tick, from whether
//! each referenced rule is firing at that tick.

use super::{Gate, RuleState, TickReport};
use crate::detect::composite;
use crate::model::Timestamp;

impl Gate {
    /// Creates one state per composite rule, ordered so a composite comes after every
    /// composite it references (config validation rules out cycles).
    pub(super) fn with_composites(mut self) -> Gate {
        let mut order: Vec<usize> = Vec::new();
        let composite_rules: Vec<usize> = (0..self.rules.len())
            .filter(|&r| self.rules[r].detector.composite().is_some())
            .collect();
        while order.len() < composite_rules.len() {
            let before = order.len();
            for &r in &composite_rules {
                if order.contains(&r) {
                    continue;
                }
                let refs = &self.rules[r].detector.composite().expect("composite").rules;
                let ready = refs.iter().all(|name| {
                    composite_rules
                        .iter()
                        .all(|&c| &self.rules[c].name != name || order.contains(&c))
                });
                if ready {
                    order.push(r);
                }
            }
            if order.len() == before {
                break; // a cycle slipped past validation: evaluate the rest never
            }
        }
        for r in order {
            self.composites.push(self.states.len());
            self.states.push(RuleState {
                rule: r,
                series: usize::MAX,
                streak_start: None,
                consecutive: 0,
                total: 0,
                firing: None,
                ever_fired: false,
                last: None,
            });
        }
        self
    }

    /// Whether any series of rule `name` is firing now.
    fn rule_firing(&self, name: &str) -> bool {
        self.states
            .iter()
            .any(|s| s.firing.is_some() && self.rules[s.rule].name == name)
    }

    pub(super) fn step_composites(&mut self, now: Timestamp, report: &mut TickReport) {
        for i in 0..self.composites.len() {
            let k = self.composites[i];
            let rule = &self.rules[self.states[k].rule];
            let params = rule.detector.composite().expect("composite").clone();
            let firing: Vec<bool> = params.rules.iter().map(|n| self.rule_firing(n)).collect();
            let finding = composite::evaluate(&params, &firing);
            let label = rule.name.clone();
            self.apply(k, now, Ok(finding), None, &label, report);
        }
    }
}
