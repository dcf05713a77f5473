//! Progress of a watch on stderr: on a terminal a live bar with the time left, the ticks and
//! the rules firing; in CI logs one plain line per tick. Fired and resolved anomalies get a
//! line of their own either way.

use crate::gate::{Gate, RuleStatus, TickReport};
use crate::model::{Reading, Sample};
use indicatif::{ProgressBar, ProgressState, ProgressStyle};
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
            // Not indicatif's `{eta}`: it extrapolates from the tick rate, and a bar that moves
            // once per tick read "2h left" 82 s into a 15-minute watch. The watch ends on the
            // clock, so the time left is the window minus the time since the bar started.
            let left = move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&time_left(duration, s.elapsed()));
            };
            b.set_style(
                ProgressStyle::with_template(
                    "{spinner} {bar:30} {pos}/{len} ticks, {left} left {msg}",
                )
                .map(|s| s.with_key("left", left))
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

/// What is left of a `duration` watch `elapsed` into it, to the second: `13m 38s`, `0s`.
pub fn time_left(duration: Duration, elapsed: Duration) -> String {
    let left = duration.saturating_sub(elapsed);
    // Round up: "0s" only once the window is over.
    let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    humantime::format_duration(Duration::from_secs(secs)).to_string()
}

#[cfg(test)]
mod tests {
    use super::{planned_ticks, time_left};
    use std::time::Duration;

    #[test]
    fn time_left_comes_from_the_clock() {
        // Issue 25.3: 82 s into 15 minutes the bar said "2h left".
        let s = Duration::from_secs;
        assert_eq!(time_left(s(900), s(82)), "13m 38s");
        assert_eq!(time_left(s(900), Duration::from_millis(82_400)), "13m 38s");
        assert_eq!(time_left(s(900), s(0)), "15m");
        assert_eq!(time_left(s(60), s(59)), "1s");
        assert_eq!(time_left(s(60), s(75)), "0s", "past the end of the window");
    }

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
