//! A Prometheus alert as a gate source: its expression runs as written, each returned label
//! set is a series (`alert_x{instance="…"}`) that the gate sees as 1 (condition active) or 0
//! (absent, or already firing before the watch and no worse). The series already firing are
//! found once, at the first tick, by a range query over the lookback window before it:
//! Prometheus holds that history, so no stored baseline is needed.

use super::alerting::alert::{AlertSpec, PreExisting, Prior};
use super::{series_name, PromClient, QueryError};
use crate::gate::SeriesNote;
use crate::model::{Reading, Sample};
use prometheus_http_query::response::Data;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;

/// Points of the lookback range query per series, at most.
const LOOKBACK_POINTS: u64 = 1000;

/// The alert-specific state of a query metric.
pub(super) struct AlertState {
    spec: Arc<AlertSpec>,
    /// Series firing before the watch; None when `pre_existing: count` needs none.
    prior: OnceCell<Option<Prior>>,
    /// Notes of the series returned at the latest tick.
    notes: Mutex<HashMap<String, SeriesNote>>,
}

/// One series of an alert answer: its name, labels and value.
type Row = (String, BTreeMap<String, String>, f64);

/// The rows of an alert expression's instant answer (a scalar is one unlabelled series).
fn rows(metric: &str, data: Data) -> Result<Vec<Row>, QueryError> {
    match data {
        Data::Scalar(s) => Ok(vec![(metric.to_string(), BTreeMap::new(), s.value())]),
        Data::Vector(v) => Ok(v
            .into_iter()
            .map(|s| {
                let labels: BTreeMap<String, String> = s
                    .metric()
                    .iter()
                    .filter(|(k, _)| *k != "__name__")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                (series_name(metric, s.metric()), labels, s.sample().value())
            })
            .collect()),
        Data::Matrix(_) => Err(QueryError::Result(
            "the alert expression returns a range vector".into(),
        )),
    }
}

/// Series and their values in a range answer (a scalar expression is one series).
pub fn prior_of(metric: &str, data: Data) -> Prior {
    let rows: Vec<(String, Vec<f64>)> = match data {
        Data::Matrix(m) => m
            .iter()
            .map(|r| {
                let values = r.samples().iter().map(|p| p.value()).collect();
                (series_name(metric, r.metric()), values)
            })
            .collect(),
        Data::Scalar(s) => vec![(metric.to_string(), vec![s.value()])],
        Data::Vector(v) => v
            .iter()
            .map(|s| (series_name(metric, s.metric()), vec![s.sample().value()]))
            .collect(),
    };
    Prior::from_rows(rows.iter().map(|(n, v)| (n.clone(), &v[..])))
}

impl AlertState {
    /// The state of a query metric running `spec`.
    pub(super) fn new(spec: Arc<AlertSpec>) -> AlertState {
        AlertState {
            spec,
            prior: OnceCell::new(),
            notes: Mutex::new(HashMap::new()),
        }
    }

    /// The notes of the series returned at the latest tick.
    pub(super) fn notes(&self) -> Vec<(String, SeriesNote)> {
        let notes = self.notes.lock().unwrap_or_else(|e| e.into_inner());
        notes.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// Finds the series already firing over the lookback window before now (once). A failed
    /// range query falls back to the series of the first answer, with a warning: a gate
    /// that cannot tell old incidents from new ones must not blame the deploy for them.
    async fn prior(&self, metric: &str, client: &PromClient) -> Option<&Prior> {
        self.prior
            .get_or_init(|| async {
                if self.spec.pre_existing == PreExisting::Count {
                    return None;
                }
                let lookback = self.spec.lookback;
                let step = Duration::from_secs((lookback.as_secs() / LOOKBACK_POINTS).max(1));
                // Rounded up: a sample scraped within the current second is already history.
                let end = (chrono::Utc::now().timestamp_millis() + 999).div_euclid(1000);
                let start = end - lookback.as_secs() as i64;
                match client.range(&self.spec.expr, start, end, step).await {
                    Ok(data) => {
                        let p = prior_of(metric, data);
                        if !p.series.is_empty() {
                            errln!(
                                "{metric}: {} series already firing before the watch (alert \
                                 `{}`): they count only if they get worse",
                                p.series.len(),
                                self.spec.alert
                            );
                        }
                        Some(p)
                    }
                    Err(e) => {
                        errln!(
                            "warning: {metric}: cannot look back {} for series already \
                             firing ({e}); the series of the first answer are taken as such",
                            humantime::format_duration(lookback)
                        );
                        match client.instant(&self.spec.expr).await {
                            Ok(data) => Some(prior_of(metric, data)),
                            Err(_) => Some(Prior::default()),
                        }
                    }
                }
            })
            .await
            .as_ref()
    }

    /// One tick of the alert: a 1/0 sample per series seen (Missing on a query error), with
    /// the notes of the series returned now.
    pub(super) async fn sample(
        &self,
        metric: &str,
        client: &PromClient,
        known: &Mutex<std::collections::BTreeSet<String>>,
    ) -> Vec<Sample> {
        let prior = self
            .prior(metric, client)
            .await
            .cloned()
            .unwrap_or_default();
        let answer = client
            .instant(&self.spec.expr)
            .await
            .and_then(|d| rows(metric, d));
        let mut known = known.lock().unwrap_or_else(|e| e.into_inner());
        let sample = |series: &str, reading: Reading| Sample {
            metric: metric.to_string(),
            series: series.to_string(),
            reading,
            control: false,
        };
        let rows = match answer {
            Err(e) => {
                let all: Vec<String> = if known.is_empty() {
                    vec![metric.to_string()]
                } else {
                    known.iter().cloned().collect()
                };
                return all
                    .iter()
                    .map(|s| sample(s, Reading::Missing(e.to_string())))
                    .collect();
            }
            Ok(rows) => rows,
        };
        let (samples, notes) = judge(&self.spec, &prior, metric, rows, &mut known);
        *self.notes.lock().unwrap_or_else(|e| e.into_inner()) = notes;
        samples
    }
}

/// The gate's samples and notes for one answer: 1 for a series that counts, 0 for one
/// already firing before the watch and no worse, and 0 for every series seen earlier and
/// absent now (its condition cleared). Pure.
pub fn judge(
    spec: &AlertSpec,
    prior: &Prior,
    metric: &str,
    rows: Vec<Row>,
    known: &mut std::collections::BTreeSet<String>,
) -> (Vec<Sample>, HashMap<String, SeriesNote>) {
    let mut samples = Vec::new();
    let mut notes = HashMap::new();
    if rows.is_empty() && known.is_empty() {
        samples.push(Sample::new(metric, Reading::Value(0.0)));
    }
    for (name, labels, value) in &rows {
        let verdict = spec.judge(prior, name, *value);
        let active = verdict.active();
        samples.push(Sample {
            metric: metric.to_string(),
            series: name.clone(),
            reading: Reading::Value(if active { 1.0 } else { 0.0 }),
            control: false,
        });
        if active {
            notes.insert(
                name.clone(),
                SeriesNote {
                    observed: *value,
                    reason: spec.reason(labels, *value, verdict),
                    annotations: spec.annotations_for(labels, *value),
                },
            );
        }
    }
    for gone in known.iter().filter(|k| !rows.iter().any(|r| &r.0 == *k)) {
        samples.push(Sample {
            metric: metric.to_string(),
            series: gone.clone(),
            reading: Reading::Value(0.0),
            control: false,
        });
    }
    known.extend(rows.into_iter().map(|r| r.0));
    (samples, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::prometheus::alerting::promql::Direction;
    use std::collections::BTreeSet;

    fn spec() -> AlertSpec {
        AlertSpec {
            alert: "TargetDown".into(),
            origin: "a.yml:g".into(),
            expr: "up == 0".into(),
            direction: Direction::None,
            labels: BTreeMap::new(),
            annotations: BTreeMap::from([(
                "summary".into(),
                "{{ $labels.instance }} is down".into(),
            )]),
            pre_existing: PreExisting::Ignore,
            lookback: Duration::from_secs(900),
        }
    }

    fn row(instance: &str) -> Row {
        let labels = BTreeMap::from([("instance".to_string(), instance.to_string())]);
        let hm: HashMap<String, String> = labels.clone().into_iter().collect();
        (series_name("alert_target_down", &hm), labels, 0.0)
    }

    fn reading(samples: &[Sample], series: &str) -> f64 {
        match samples
            .iter()
            .find(|s| s.series == series)
            .map(|s| &s.reading)
        {
            Some(Reading::Value(v)) => *v,
            other => panic!("{series}: {other:?}"),
        }
    }

    #[test]
    fn old_series_are_quiet_new_ones_count_and_gone_ones_clear() {
        let old = row("dead:9100");
        let new = row("web:8080");
        let prior = Prior::from_rows([(old.0.clone(), &[0.0][..])]);
        let mut known = BTreeSet::new();
        let (samples, notes) = judge(
            &spec(),
            &prior,
            "alert_target_down",
            vec![old.clone(), new.clone()],
            &mut known,
        );
        assert_eq!(
            reading(&samples, &old.0),
            0.0,
            "firing before the watch: quiet"
        );
        assert_eq!(reading(&samples, &new.0), 1.0, "a new label set counts");
        assert!(!notes.contains_key(&old.0));
        let note = &notes[&new.0];
        assert_eq!(note.reason, "web:8080 is down (value 0)");
        assert_eq!(note.annotations["summary"], "web:8080 is down");
        assert_eq!(note.annotations["label_instance"], "web:8080");

        // Next tick the new series is gone: 0, so its anomaly resolves.
        let (samples, notes) = judge(
            &spec(),
            &prior,
            "alert_target_down",
            vec![old.clone()],
            &mut known,
        );
        assert_eq!(reading(&samples, &new.0), 0.0);
        assert!(notes.is_empty());
    }

    #[test]
    fn an_empty_answer_is_one_quiet_sample_and_a_scalar_one_series() {
        let mut known = BTreeSet::new();
        let (samples, _) = judge(
            &spec(),
            &Prior::default(),
            "alert_x",
            Vec::new(),
            &mut known,
        );
        assert_eq!(samples, vec![Sample::new("alert_x", Reading::Value(0.0))]);
        let data: Data =
            serde_json::from_str(r#"{"resultType":"scalar","result":[1700000000,"1"]}"#).unwrap();
        let rows = rows("alert_x", data).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0, "alert_x");
        let (samples, notes) = judge(&spec(), &Prior::default(), "alert_x", rows, &mut known);
        assert_eq!(reading(&samples, "alert_x"), 1.0);
        assert!(notes.contains_key("alert_x"));
    }
}
