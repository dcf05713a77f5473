//! One Prometheus alert as the gate runs it: its expression as written, run per label set;
//! which series were already firing before the deploy; and the rendered annotations of each
//! series. Pure: the Prometheus source feeds it query results.

use super::promql::Direction;
use super::template;
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
}

/// The values one alert series had before the watch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriorRange {
    pub min: f64,
    pub max: f64,
}

/// Every alert series seen in the lookback window before the watch, by series name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prior {
    pub series: HashMap<String, PriorRange>,
}

impl Prior {
    /// From the rows of a range query: series name and the values it had (NaN ignored;
    /// a series present only with NaN still counts as present).
    pub fn from_rows<'a>(rows: impl IntoIterator<Item = (String, &'a [f64])>) -> Prior {
        let mut series = HashMap::new();
        for (name, values) in rows {
            let finite = values.iter().copied().filter(|v| v.is_finite());
            let range = finite.fold(None, |acc: Option<PriorRange>, v| {
                Some(match acc {
                    None => PriorRange { min: v, max: v },
                    Some(r) => PriorRange {
                        min: r.min.min(v),
                        max: r.max.max(v),
                    },
                })
            });
            series.insert(
                name,
                range.unwrap_or(PriorRange {
                    min: f64::NAN,
                    max: f64::NAN,
                }),
            );
        }
        Prior { series }
    }
}

/// How one series returned by the alert expression counts at this tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SeriesVerdict {
    /// Not firing before the watch (a new label set), or `pre_existing: count`.
    Counts,
    /// Firing before the watch, within its earlier range: not the deploy's doing.
    PreExisting(PriorRange),
    /// Firing before the watch and now past its earlier range in the alert's direction.
    Worse(PriorRange),
}

impl SeriesVerdict {
    /// Whether the gate sees this series' condition as active.
    pub fn active(&self) -> bool {
        !matches!(self, SeriesVerdict::PreExisting(_))
    }
}

impl AlertSpec {
    /// Judges one series (named as the gate names it) at value `value` against `prior`.
    pub fn judge(&self, prior: &Prior, series: &str, value: f64) -> SeriesVerdict {
        if self.pre_existing == PreExisting::Count {
            return SeriesVerdict::Counts;
        }
        let Some(range) = prior.series.get(series) else {
            return SeriesVerdict::Counts;
        };
        let worse = match self.direction {
            Direction::Up => value > range.max || range.max.is_nan() && value.is_finite(),
            Direction::Down => value < range.min || range.min.is_nan() && value.is_finite(),
            Direction::None => false,
        };
        if worse {
            SeriesVerdict::Worse(*range)
        } else {
            SeriesVerdict::PreExisting(*range)
        }
    }

    /// The annotations of one firing series: each template rendered with the series'
    /// labels and value, plus `label_<name>` for every label (the series' and the rule's,
    /// `severity` aside), `alertname`, `value` and the expression.
    pub fn annotations_for(
        &self,
        labels: &BTreeMap<String, String>,
        value: f64,
    ) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = self
            .annotations
            .iter()
            .map(|(k, t)| (k.clone(), template::render(t, labels, value)))
            .collect();
        for (k, v) in self.labels.iter().chain(labels) {
            if k != "severity" && k != "__name__" {
                let v = template::render(v, labels, value);
                out.insert(format!("label_{k}"), v);
            }
        }
        out.insert("alertname".into(), self.alert.clone());
        out.insert("value".into(), super::gofmt::fmt_v(value));
        out.insert("alert_expr".into(), self.expr.clone());
        out
    }

    /// The one-line reason of a firing series: its rendered `summary` (or `description`),
    /// else the alert name with its labels; the verdict says why it counts.
    pub fn reason(
        &self,
        labels: &BTreeMap<String, String>,
        value: f64,
        verdict: SeriesVerdict,
    ) -> String {
        let text = self
            .annotations
            .get("summary")
            .or(self.annotations.get("description"))
            .map(|t| template::render(t, labels, value))
            .unwrap_or_else(|| {
                let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("alert {} firing {{{}}}", self.alert, l.join(", "))
            });
        let value = super::gofmt::fmt_v(value);
        match verdict {
            SeriesVerdict::Counts => format!("{text} (value {value})"),
            SeriesVerdict::Worse(r) | SeriesVerdict::PreExisting(r) => format!(
                "{text} (value {value}; already firing before the deploy within {}..{}: \
                 worse now)",
                super::gofmt::fmt_v(r.min),
                super::gofmt::fmt_v(r.max)
            ),
        }
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
        }
    }

    fn prior() -> Prior {
        let a = [0.1, 0.2, f64::NAN];
        let b = [1.0];
        Prior::from_rows([
            ("m{instance=\"a\"}".to_string(), &a[..]),
            ("m{instance=\"b\"}".to_string(), &b[..]),
        ])
    }

    #[test]
    fn pre_existing_series_count_only_when_worse_in_the_alert_direction() {
        let up = spec(Direction::Up, PreExisting::Ignore);
        let p = prior();
        let range = PriorRange { min: 0.1, max: 0.2 };
        assert_eq!(
            up.judge(&p, "m{instance=\"a\"}", 0.15),
            SeriesVerdict::PreExisting(range)
        );
        assert_eq!(
            up.judge(&p, "m{instance=\"a\"}", 0.2),
            SeriesVerdict::PreExisting(range)
        );
        assert_eq!(
            up.judge(&p, "m{instance=\"a\"}", 0.21),
            SeriesVerdict::Worse(range)
        );
        assert!(up.judge(&p, "m{instance=\"a\"}", 0.21).active());
        // A new label set always counts.
        assert_eq!(
            up.judge(&p, "m{instance=\"c\"}", 0.01),
            SeriesVerdict::Counts
        );
        // Lower is worse for `<` alerts; `==` alerts (a dead target, a Watchdog) never get worse.
        let down = spec(Direction::Down, PreExisting::Ignore);
        assert!(down.judge(&p, "m{instance=\"a\"}", 0.05).active());
        assert!(!down.judge(&p, "m{instance=\"a\"}", 0.3).active());
        let flat = spec(Direction::None, PreExisting::Ignore);
        assert!(!flat.judge(&p, "m{instance=\"b\"}", 1e9).active());
        // pre_existing: count gates them like any other series.
        let count = spec(Direction::None, PreExisting::Count);
        assert_eq!(
            count.judge(&p, "m{instance=\"b\"}", 1.0),
            SeriesVerdict::Counts
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
        let r = s.reason(&labels, 0.125, SeriesVerdict::Counts);
        assert_eq!(r, "10.0.0.1:80 fails 12.5% (value 0.125)");
    }
}
