//! Progress of a watch on stderr: on a terminal a live bar with the time left, the ticks and
//! the rules firing; in CI logs one plain line per tick. Fired and resolved anomalies get a
//! line of their own either way.

use crate::gate::{Gate, RuleStatus, TickReport};
use crate::model::{Reading, Sample};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

pub use vz_core::policy::planned_ticks;

/// The watch's progress display.
pub struct Progress {
    bar: Option<ProgressBar>,
    planned: u32,
}

impl Progress {
    /// A bar on a terminal, plain lines otherwise.
    pub fn new(duration: Duration, interval: Duration) -> Progress {
        let planned = planned_ticks(duration, interval);
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::new(planned as u64);
            b.set_style(
                ProgressStyle::with_template(
                    "{spinner} {bar:30} {pos}/{len} ticks, {eta} left {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b.enable_steady_tick(Duration::from_millis(250));
            b
        });
        Progress { bar, planned }
    }

    fn line(&self, line: String) {
        match &self.bar {
            Some(b) => b.println(crate::output::sanitize(&line)),
            None => errln!("{line}"),
        }
    }

    /// Shows one judged tick.
    pub fn tick(&self, n: u32, samples: &[Sample], report: &TickReport, gate: &Gate) {
        let samples: Vec<&Sample> = samples.iter().filter(|s| !s.control).collect();
        let count = |f: fn(&Reading) -> bool| samples.iter().filter(|s| f(&s.reading)).count();
        let down = count(|r| matches!(r, Reading::Down(_)));
        let missing = count(|r| matches!(r, Reading::Missing(_)));
        let firing: Vec<String> = gate
            .evaluations()
            .into_iter()
            .filter(|e| e.status == RuleStatus::Firing)
            .map(|e| e.rule)
            .collect();
        let firing_text = if firing.is_empty() {
            "0 firing".to_string()
        } else {
            format!("{} firing: {}", firing.len(), firing.join(", "))
        };
        let msg = format!(
            "{} ok, {down} down, {missing} missing, {firing_text}",
            samples.len() - down - missing
        );
        for a in &report.fired {
            self.line(format!(
                "FIRED {} {} `{}` on {}: {}",
                a.severity, a.kind, a.rule, a.series, a.reason
            ));
        }
        for a in &report.resolved {
            self.line(format!("resolved `{}` on {}", a.rule, a.series));
        }
        match &self.bar {
            Some(b) => {
                b.set_position(n as u64);
                b.set_message(crate::output::sanitize_line(&msg));
            }
            None => errln!("tick {}/{}: {msg}", n.min(self.planned), self.planned),
        }
    }

    /// A plain line that does not break the bar.
    pub fn note(&self, line: String) {
        self.line(line);
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::planned_ticks;
    use std::time::Duration;

    #[test]
    fn planned_ticks_never_undercount() {
        let ms = Duration::from_millis;
        assert_eq!(planned_ticks(ms(300), ms(100)), 4); // 0, 100, 200, 300
        assert_eq!(planned_ticks(ms(250), ms(100)), 3);
        assert_eq!(
            planned_ticks(Duration::from_secs(900), Duration::from_secs(30)),
            31
        );
    }
}
