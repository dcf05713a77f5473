//! One Prometheus alert as the gate runs it: its expression as written, run per label set;
//! which series were already firing before the deploy; and the rendered annotations of each
//! series. Pure: the Prometheus source feeds it query results.

use super::gofmt::fmt_v;
use super::promql::Direction;
use super::template::{self, Data};
use super::worse::{self, Watched, WorseTest};
use crate::model::Severity;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// What an alert series already firing before the watch means (`alerting.pre_existing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreExisting {
    /// It does not count unless it gets worse (a new label set always counts).
    #[default]
    Ignore,
    /// It counts like any other series.
    Count,
}

/// An alerting rule from a Prometheus rule file, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertSpec {
    /// `alert:` as written.
    pub alert: String,
    /// `file:group`, for messages.
    pub origin: String,
    /// `expr:` as written: run as is, every returned label set is a series.
    pub expr: String,
    /// Which way its value moves when things get worse.
    pub direction: Direction,
    /// Group `labels:` overlaid by the rule's own.
    pub labels: BTreeMap<String, String>,
    /// `annotations:` as templates.
    pub annotations: BTreeMap<String, String>,
    /// Series firing before the watch: ignored unless worse, or counted.
    pub pre_existing: PreExisting,
    /// How far before the watch to look for series already firing.
    pub lookback: Duration,
    /// Two values of the expression this far apart share no sample (its longest range, at
    /// least a minute): the unit in which "worse" is judged.
    pub block: Duration,
    /// Group `limit:`: more series than this in one answer is an evaluation error (as in
    /// Prometheus: nothing fires), so missing data.
    pub limit: Option<usize>,
    /// Group `query_offset:`: the expression is evaluated this far in the past.
    pub query_offset: Duration,
    /// Metrics the expression reads that a recording rule of the included files writes
    /// (name, `file:group`): an empty answer while they are absent is missing data.
    pub recorded_inputs: Vec<(String, String)>,
    /// Prometheus's external labels and URL (`alerting.external_labels`, `external_url`),
    /// for `$externalLabels` and `$externalURL`.
    pub external_labels: BTreeMap<String, String>,
    pub external_url: String,
}

/// Prometheus's `severity` label as a gate severity (case-insensitive; the table is in
/// the docs of `config::promrules`).
pub fn severity_of(label: &str) -> Option<Severity> {
    Some(match label.trim().to_ascii_lowercase().as_str() {
        "critical" | "page" | "fatal" | "emergency" => Severity::Critical,
        "error" | "high" | "major" => Severity::High,
        "warning" | "warn" | "medium" => Severity::Medium,
        "low" | "minor" => Severity::Low,
        "info" | "none" | "informational" => Severity::Info,
        _ => return None,
    })
}

/// The values one alert series had before the watch.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorSeries {
    /// Smallest and largest value seen (NaN when it had none).
    pub min: f64,
    pub max: f64,
    /// Its values thinned to one per block (see [`worse`]), for the test of "worse".
    pub values: Vec<f64>,
}

/// Every alert series firing in the lookback window before the watch, by series name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prior {
    pub series: HashMap<String, PriorSeries>,
}

impl Prior {
    /// From the rows of a range query sampled every `step`: series name and its
    /// (unix seconds, value) points. A series counts as firing before the watch when it has
    /// a point at or after `recent_from` (earlier points only tell its usual values); NaN is
    /// ignored, but a series present only with NaN still counts as present.
    pub fn from_rows<'a>(
        rows: impl IntoIterator<Item = (String, &'a [(f64, f64)])>,
        recent_from: f64,
        step: Duration,
        block: Duration,
    ) -> Prior {
        let mut series = HashMap::new();
        for (name, points) in rows {
            if !points.iter().any(|(t, _)| *t >= recent_from) {
                continue;
            }
            let values: Vec<f64> = points.iter().map(|p| p.1).collect();
            let finite = values.iter().copied().filter(|v| v.is_finite());
            let (min, max) = finite.fold((f64::NAN, f64::NAN), |(lo, hi), v| {
                (lo.min(v), hi.max(v)) // f64::min ignores a NaN side
            });
            let values = worse::thin(&values, step, block);
            series.insert(name, PriorSeries { min, max, values });
        }
        Prior { series }
    }
}

/// How a series firing before the watch was judged at this tick.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub min: f64,
    pub max: f64,
    /// The test of "worse" (None without a usable value on either side).
    pub test: Option<WorseTest>,
}

impl Judged {
    fn describe(&self, value: &str) -> String {
        let range = format!("{}..{}", fmt_v(self.min), fmt_v(self.max));
        match &self.test {
            Some(t) if t.worse() => format!(
                "value {value}; already firing before the deploy within {range}, worse now: {}",
                t.describe()
            ),
            Some(t) => format!(
                "value {value}; already firing before the deploy within {range}, not worse: {}",
                t.describe()
            ),
            None => format!(
                "value {value}; already firing before the deploy within {range}, no value to \
                 compare"
            ),
        }
    }
}

/// How one series returned by the alert expression counts at this tick.
#[derive(Debug, Clone, PartialEq)]
pub enum SeriesVerdict {
    /// Not firing before the watch (a new label set), or `pre_existing: count`.
    Counts,
    /// Firing before the watch and not shown worse than before: not the deploy's doing.
    PreExisting(Judged),
    /// Firing before the watch and now worse than before in the alert's direction.
    Worse(Judged),
}

impl SeriesVerdict {
    /// Whether the gate sees this series' condition as active.
    pub fn active(&self) -> bool {
        !matches!(self, SeriesVerdict::PreExisting(_))
    }

    /// Why the series counts or not, after its value (`value 3; already firing …`).
    pub fn describe(&self, value: f64) -> String {
        let value = fmt_v(value);
        match self {
            SeriesVerdict::Counts => format!("value {value}"),
            SeriesVerdict::PreExisting(j) | SeriesVerdict::Worse(j) => j.describe(&value),
        }
    }
}

impl AlertSpec {
    /// Judges one series (named as the gate names it) at value `value`, observed at
    /// `now_ms`, against `prior` and its values earlier in the watch (`watched`).
    pub fn judge(
        &self,
        prior: &Prior,
        watched: &mut Watched,
        series: &str,
        now_ms: i64,
        value: f64,
    ) -> SeriesVerdict {
        if self.pre_existing == PreExisting::Count {
            return SeriesVerdict::Counts;
        }
        let Some(before) = prior.series.get(series) else {
            return SeriesVerdict::Counts;
        };
        let kept = watched.observe(series, now_ms, value, self.block);
        let test = match self.direction {
            Direction::Up => worse::test(&before.values, kept, true),
            Direction::Down => worse::test(&before.values, kept, false),
            Direction::None => None,
        };
        let judged = Judged {
            min: before.min,
            max: before.max,
            test,
        };
        if test.is_some_and(|t| t.worse()) {
            SeriesVerdict::Worse(judged)
        } else {
            SeriesVerdict::PreExisting(judged)
        }
    }

    /// Why an answer of `series` series is an evaluation error: more than the group's
    /// `limit` (Prometheus then fires none of them and records the error).
    pub fn over_limit(&self, series: usize) -> Option<String> {
        let limit = self.limit.filter(|l| series > *l)?;
        Some(format!(
            "alert `{}` returned {series} series, over its group's limit {limit}: Prometheus \
             fires none of them and records an evaluation error",
            self.alert
        ))
    }

    /// What templates of one series are rendered with.
    fn data<'a>(&'a self, labels: &'a BTreeMap<String, String>, value: f64) -> Data<'a> {
        Data {
            labels,
            value,
            external_labels: &self.external_labels,
            external_url: &self.external_url,
            alert: &self.alert,
        }
    }

    /// The labels of one alert series as Prometheus gives them: the series' labels, then the
    /// rule's (group's overlaid by its own) rendered as templates over the series.
    pub fn labels_for(
        &self,
        labels: &BTreeMap<String, String>,
        value: f64,
    ) -> BTreeMap<String, String> {
        let data = self.data(labels, value);
        let mut out = labels.clone();
        for (k, t) in &self.labels {
            out.insert(k.clone(), template::render_with(t, &data));
        }
        out
    }

    /// The severity of one series from its rendered `severity` label (a templated severity
    /// varies by series); None without one, or one outside the documented mapping.
    pub fn severity_for(&self, labels: &BTreeMap<String, String>, value: f64) -> Option<Severity> {
        let t = self.labels.get("severity")?;
        severity_of(&template::render_with(t, &self.data(labels, value)))
    }

    /// The annotations of one series: each template rendered with the series' labels and
    /// value, plus `label_<name>` for every label (the series' and the rule's rendered,
    /// `severity` aside), `alertname`, `value` and the expression.
    pub fn annotations_for(
        &self,
        labels: &BTreeMap<String, String>,
        value: f64,
    ) -> BTreeMap<String, String> {
        let data = self.data(labels, value);
        let mut out: BTreeMap<String, String> = self
            .annotations
            .iter()
            .map(|(k, t)| (k.clone(), template::render_with(t, &data)))
            .collect();
        for (k, v) in self.labels_for(labels, value) {
            if k != "severity" && k != "__name__" {
                out.insert(format!("label_{k}"), v);
            }
        }
        out.insert("alertname".into(), self.alert.clone());
        out.insert("value".into(), fmt_v(value));
        out.insert("alert_expr".into(), self.expr.clone());
        out
    }

    /// The one-line reason of a firing series: its rendered `summary` (or `description`),
    /// else the alert name with its labels; the verdict says why it counts.
    pub fn reason(
        &self,
        labels: &BTreeMap<String, String>,
        value: f64,
        verdict: &SeriesVerdict,
    ) -> String {
        let text = self
            .annotations
            .get("summary")
            .or(self.annotations.get("description"))
            .map(|t| template::render_with(t, &self.data(labels, value)))
            .unwrap_or_else(|| {
                let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("alert {} firing {{{}}}", self.alert, l.join(", "))
            });
        format!("{text} ({})", verdict.describe(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(direction: Direction, pre_existing: PreExisting) -> AlertSpec {
        AlertSpec {
            alert: "HighErrorRate".into(),
            origin: "alerts.yml:web".into(),
            expr: "x > 0.05".into(),
            direction,
            labels: BTreeMap::from([
                ("severity".into(), "page".into()),
                ("team".into(), "checkout".into()),
            ]),
            annotations: BTreeMap::from([(
                "summary".into(),
                "{{ $labels.instance }} fails {{ $value | humanizePercentage }}".into(),
            )]),
            pre_existing,
            lookback: Duration::from_secs(900),
            block: Duration::from_secs(60),
            limit: None,
            query_offset: Duration::ZERO,
            recorded_inputs: Vec::new(),
            external_labels: BTreeMap::new(),
            external_url: String::new(),
        }
    }

    /// Series `a` fired over 20 minutes before the watch at 0.1–0.2 (one point a minute),
    /// `b` at 1.0 once in the lookback; `old` only before it.
    fn prior() -> Prior {
        let a: Vec<(f64, f64)> = (0..20)
            .map(|i| (i as f64 * 60.0, 0.1 + 0.1 * f64::from(i % 2)))
            .collect();
        let b = [(1140.0, 1.0)];
        let old = [(0.0, 5.0)];
        Prior::from_rows(
            [
                ("m{instance=\"a\"}".to_string(), &a[..]),
                ("m{instance=\"b\"}".to_string(), &b[..]),
                ("m{instance=\"old\"}".to_string(), &old[..]),
            ],
            300.0,
            Duration::from_secs(60),
            Duration::from_secs(60),
        )
    }

    #[test]
    fn pre_existing_series_count_only_when_shown_worse_in_the_alert_direction() {
        let up = spec(Direction::Up, PreExisting::Ignore);
        let p = prior();
        let a = "m{instance=\"a\"}";
        assert_eq!(p.series[a].values.len(), 20);
        assert!(
            !p.series.contains_key("m{instance=\"old\"}"),
            "fired before the lookback only"
        );
        let mut w = Watched::default();
        // A new maximum at the first tick is not evidence: one value against twenty.
        let v = up.judge(&p, &mut w, a, 0, 0.21);
        assert!(matches!(v, SeriesVerdict::PreExisting(_)), "{v:?}");
        assert!(
            v.describe(0.21).contains("not worse"),
            "{}",
            v.describe(0.21)
        );
        // Values within the prior's stay quiet however long.
        let mut w = Watched::default();
        for t in 0..30 {
            assert!(!up.judge(&p, &mut w, a, t * 60_000, 0.15).active());
        }
        // Three minutes all above every value before: worse (p = 1/1771 ≤ 0.01/12).
        let mut w = Watched::default();
        up.judge(&p, &mut w, a, 0, 0.5);
        up.judge(&p, &mut w, a, 60_000, 0.6);
        let v = up.judge(&p, &mut w, a, 120_000, 0.7);
        assert!(matches!(v, SeriesVerdict::Worse(_)), "{v:?}");
        assert!(v.describe(0.7).contains("worse now"), "{}", v.describe(0.7));
        // A new label set always counts.
        let mut w = Watched::default();
        assert_eq!(
            up.judge(&p, &mut w, "m{instance=\"c\"}", 0, 0.01),
            SeriesVerdict::Counts
        );
        // Lower is worse for `<` alerts.
        let down = spec(Direction::Down, PreExisting::Ignore);
        let mut w = Watched::default();
        for t in 0..3 {
            assert!(!down.judge(&p, &mut w, a, t * 60_000, 0.5).active());
        }
        // `==` alerts (a dead target, a Watchdog) never get worse.
        let flat = spec(Direction::None, PreExisting::Ignore);
        let mut w = Watched::default();
        for t in 0..30 {
            assert!(!flat
                .judge(&p, &mut w, "m{instance=\"b\"}", t * 60_000, 1e9)
                .active());
        }
        // pre_existing: count gates them like any other series.
        let count = spec(Direction::None, PreExisting::Count);
        assert_eq!(
            count.judge(&p, &mut w, "m{instance=\"b\"}", 0, 1.0),
            SeriesVerdict::Counts
        );
    }

    #[test]
    fn more_series_than_the_group_limit_is_an_error_not_alerts() {
        let mut s = spec(Direction::Up, PreExisting::Ignore);
        assert_eq!(s.over_limit(1000), None, "no limit");
        s.limit = Some(2);
        assert_eq!(s.over_limit(2), None);
        let e = s.over_limit(3).unwrap();
        assert!(
            e.contains("returned 3 series, over its group's limit 2"),
            "{e}"
        );
    }

    #[test]
    fn annotations_are_rendered_per_series_with_labels() {
        let s = spec(Direction::Up, PreExisting::Ignore);
        let labels = BTreeMap::from([("instance".to_string(), "10.0.0.1:80".to_string())]);
        let a = s.annotations_for(&labels, 0.125);
        assert_eq!(a["summary"], "10.0.0.1:80 fails 12.5%");
        assert_eq!(a["label_instance"], "10.0.0.1:80");
        assert_eq!(a["label_team"], "checkout");
        assert!(!a.contains_key("label_severity"));
        assert_eq!(a["value"], "0.125");
        assert_eq!(a["alertname"], "HighErrorRate");
        let r = s.reason(&labels, 0.125, &SeriesVerdict::Counts);
        assert_eq!(r, "10.0.0.1:80 fails 12.5% (value 0.125)");
    }
}
