//! A backtest as one self-contained HTML page: the figures, then a chart per metric (its
//! history, the windows replayed along the time axis, the ones that would have rolled back
//! marked as the run charts mark anomalies), drawn by [`super::chart::svg`].

use super::backtest::{minute, why, window_text, Backtest};
use super::chart::{esc, svg};
use super::html::STYLE;
use super::series::Chart;
use crate::backtest::{metric_of, History};
use crate::model::{Anomaly, Expected, Severity};

/// At most this many points per chart (a week at 15 s is 40 000): each is the mean of its
/// stretch of history.
const CHART_POINTS: usize = 600;

/// The page.
pub fn page(b: &Backtest, history: &History) -> String {
    let mut o =
        String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n");
    o.push_str(&format!(
        "<title>vz-monitor backtest — {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&b.deployment)
    ));
    let class = if b.tally.rate > b.alpha {
        "rollback"
    } else {
        "healthy"
    };
    o.push_str(&format!(
        "<h1>vz-monitor backtest <span class=\"badge {class}\">{} %</span> <code>{}</code></h1>\n",
        esc(&crate::model::fmt_num(
            (b.tally.rate * 10_000.0).round() / 100.0
        )),
        esc(&b.deployment)
    ));
    o.push_str("<table class=\"facts\">\n");
    for (k, v) in [
        ("Windows", b.headline()),
        ("History", b.source.clone()),
        ("Rollbacks", b.rate_line()),
    ] {
        o.push_str(&format!("<tr><th>{k}</th><td>{}</td></tr>\n", esc(&v)));
    }
    for w in &b.warnings {
        o.push_str(&format!("<tr><th>Warning</th><td>{}</td></tr>\n", esc(w)));
    }
    o.push_str("</table>\n");
    if !b.rolled_back.is_empty() {
        o.push_str("<h2>Windows that would have rolled back</h2>\n<table>\n<tr><th>Window</th><th>Decided</th><th>Rules</th><th>Reason</th></tr>\n");
        for w in &b.rolled_back {
            o.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                esc(&window_text(w)),
                esc(&w.decided_at.map(minute).unwrap_or_default()),
                esc(&w.rules.join(", ")),
                esc(&why(w))
            ));
        }
        o.push_str("</table>\n");
    }
    if !b.min_detectable_effect.is_empty() {
        o.push_str(&format!(
            "<h2>Minimum detectable effect</h2>\n<p>{}</p>\n<table>\n<tr><th>Metric</th><th>Smallest shift caught</th></tr>\n",
            esc(&b.mde_title())
        ));
        for m in &b.min_detectable_effect {
            o.push_str(&format!(
                "<tr><td>{}</td><td>{}</td></tr>\n",
                esc(&m.metric),
                esc(&Backtest::mde_cell(m))
            ));
        }
        o.push_str("</table>\n");
    }
    o.push_str("<h2>History</h2>\n<p class=\"legend\"><span><i class=\"sw\" style=\"background:#1f5fbf\"></i>values (mean per stretch)</span><span><i class=\"sw\" style=\"background:#9aa3b2\"></i>windows replayed</span><span><i class=\"sw\" style=\"background:#d62728\"></i>would have rolled back</span></p>\n");
    for (series, values) in &history.series {
        let points = downsample(&history.times, values);
        let anomalies = rollbacks(b, series);
        let chart = Chart {
            series,
            rules: Vec::new(),
            points: &points,
            baseline: &[],
            guides: Vec::new(),
            anomalies: anomalies.iter().collect(),
            start: b.history_from,
            end: b.history_until,
            decided_at: 0,
            verdict: "",
            down: &[],
            unit: None,
            spans: b
                .replayed
                .iter()
                .map(|w| (w.window.start, w.window.end))
                .collect(),
        };
        o.push_str(&format!(
            "<figure>\n<figcaption>{}</figcaption>\n{}</figure>\n",
            esc(series),
            svg(&chart)
        ));
    }
    o.push_str("</body>\n</html>\n");
    o
}

/// Each rolled-back window in which a rule fired on this series, as a marked stretch.
fn rollbacks(b: &Backtest, series: &str) -> Vec<Anomaly> {
    let on = format!(" on {series}: ");
    b.rolled_back
        .iter()
        .filter(|w| w.findings.iter().any(|f| f.contains(&on)))
        .map(|w| Anomaly {
            rule: "rollback".into(),
            metric: metric_of(series).into(),
            series: series.into(),
            kind: String::new(),
            severity: Severity::Critical,
            detector: String::new(),
            observed: f64::NAN,
            expected: Expected::None,
            statistic: String::new(),
            score: None,
            p_value: None,
            reason: format!("{}: {}", window_text(w), why(w)),
            fired_at: w.window.start,
            resolved_at: Some(w.window.end),
            dry_run: false,
            annotations: Default::default(),
        })
        .collect()
}

/// At most [`CHART_POINTS`] points: the mean of each stretch's finite values (None: none).
fn downsample(times: &[i64], values: &[f64]) -> Vec<(i64, Option<f64>)> {
    let per = times.len().div_ceil(CHART_POINTS).max(1);
    times
        .chunks(per)
        .zip(values.chunks(per))
        .map(|(t, v)| {
            let finite: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
            let mean =
                (!finite.is_empty()).then(|| finite.iter().sum::<f64>() / finite.len() as f64);
            (t[0], mean)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_week_is_drawn_with_at_most_600_points_and_gaps_kept() {
        let times: Vec<i64> = (0..40_320).map(|i| i * 15_000).collect();
        let mut values = vec![1.0; 40_320];
        values[..100].fill(f64::NAN);
        let p = downsample(&times, &values);
        assert!(p.len() <= CHART_POINTS, "{}", p.len());
        assert_eq!(p[0], (0, None));
        assert_eq!(p[2].1, Some(1.0));
    }
}
