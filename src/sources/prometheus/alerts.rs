//! A Prometheus alert as a gate source: its expression runs as written, each returned label
//! set is a series (`alert_x{instance="…"}`) that the gate sees as 1 (condition active) or 0
//! (absent, or already firing before the watch and no worse). The series already firing are
//! found once, at the first tick, by a range query over the lookback window before it:
//! Prometheus holds that history, so no stored baseline is needed.

use super::alerting::alert::{AlertSpec, PreExisting, Prior};
use super::alerting::worse::{Watched, PRIOR_BLOCKS};
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
    /// The watch's values of the series firing before it, one per block.
    watched: Mutex<Watched>,
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

/// The series of a range answer sampled every `step`, as firing before the watch when seen
/// at or after `recent_from` (unix seconds); a scalar expression is one series.
pub fn prior_of(
    metric: &str,
    data: Data,
    recent_from: f64,
    step: Duration,
    block: Duration,
) -> Prior {
    let rows: Vec<(String, Vec<(f64, f64)>)> = match data {
        Data::Matrix(m) => m
            .iter()
            .map(|r| {
                let points = r
                    .samples()
                    .iter()
                    .map(|p| (p.timestamp(), p.value()))
                    .collect();
                (series_name(metric, r.metric()), points)
            })
            .collect(),
        Data::Scalar(s) => vec![(metric.to_string(), vec![(s.timestamp(), s.value())])],
        Data::Vector(v) => v
            .iter()
            .map(|s| {
                let p = s.sample();
                (
                    series_name(metric, s.metric()),
                    vec![(p.timestamp(), p.value())],
                )
            })
            .collect(),
    };
    Prior::from_rows(
        rows.iter().map(|(n, v)| (n.clone(), &v[..])),
        recent_from,
        step,
        block,
    )
}

/// The longest look back for the values of series already firing.
const MAX_PRIOR_WINDOW: Duration = Duration::from_secs(6 * 3600);

impl AlertState {
    /// The state of a query metric running `spec`.
    pub(super) fn new(spec: Arc<AlertSpec>) -> AlertState {
        AlertState {
            spec,
            prior: OnceCell::new(),
            notes: Mutex::new(HashMap::new()),
            watched: Mutex::new(Watched::default()),
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
                // Series seen in the lookback are the ones already firing; their usual
                // values come from a window long enough for PRIOR_BLOCKS independent ones.
                let lookback = self.spec.lookback;
                let window = lookback
                    .max(self.spec.block * PRIOR_BLOCKS)
                    .min(MAX_PRIOR_WINDOW.max(lookback));
                let step = Duration::from_secs((window.as_secs() / LOOKBACK_POINTS).max(1));
                // Rounded up: a sample scraped within the current second is already history.
                let end = (chrono::Utc::now().timestamp_millis() + 999).div_euclid(1000)
                    - self.spec.query_offset.as_secs() as i64;
                let start = end - window.as_secs() as i64;
                let recent_from = (end - lookback.as_secs() as i64) as f64;
                let prior_of = |d| prior_of(metric, d, recent_from, step, self.spec.block);
                match client.range(&self.spec.expr, start, end, step).await {
                    Ok(data) => {
                        let p = prior_of(data);
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
                        match self.instant(client).await {
                            Ok(data) => Some(prior_of(data)),
                            Err(_) => Some(Prior::default()),
                        }
                    }
                }
            })
            .await
            .as_ref()
    }

    /// The alert expression evaluated now, or `query_offset` ago as Prometheus does.
    async fn instant(&self, client: &PromClient) -> Result<Data, QueryError> {
        let offset = self.spec.query_offset;
        if offset.is_zero() {
            return client.instant(&self.spec.expr).await;
        }
        let at = chrono::Utc::now().timestamp() - offset.as_secs() as i64;
        client.instant_at(&self.spec.expr, Some(at)).await
    }

    /// Why an empty answer means nothing: a recorded series the expression reads is absent
    /// from this Prometheus (its recording rule is not loaded there). None when all are
    /// present, or the check itself fails (the answer then stands).
    async fn unrecorded(&self, client: &PromClient) -> Option<String> {
        let mut absent = Vec::new();
        for (name, origin) in &self.spec.recorded_inputs {
            let q = format!("absent({{__name__=\"{name}\"}})");
            if let Ok(Data::Vector(v)) = client.instant(&q).await {
                if !v.is_empty() {
                    absent.push(format!("`{name}` (recorded by {origin})"));
                }
            }
        }
        (!absent.is_empty()).then(|| {
            format!(
                "alert `{}` reads {}, which this Prometheus does not have: load the recording \
                 rule there; an empty answer is not a healthy one",
                self.spec.alert,
                absent.join(", ")
            )
        })
    }

    /// One tick of the alert: a 1/0 sample per series seen (Missing on a query error, on
    /// more series than the group's `limit`, or on an empty answer over an absent recorded
    /// series), with the notes of the series returned now.
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
        let mut answer = self.instant(client).await.and_then(|d| rows(metric, d));
        if let Some(why) = answer
            .as_ref()
            .ok()
            .and_then(|r| self.spec.over_limit(r.len()))
        {
            answer = Err(QueryError::Result(why));
        }
        if matches!(&answer, Ok(r) if r.is_empty()) && !self.spec.recorded_inputs.is_empty() {
            if let Some(why) = self.unrecorded(client).await {
                answer = Err(QueryError::Result(why));
            }
        }
        let now_ms = chrono::Utc::now().timestamp_millis();
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
        let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        let (samples, notes) = judge(
            &self.spec,
            (&prior, &mut watched, now_ms),
            metric,
            rows,
            &mut known,
        );
        *self.notes.lock().unwrap_or_else(|e| e.into_inner()) = notes;
        samples
    }
}

/// The gate's samples and notes for one answer: 1 for a series that counts, 0 for one
/// already firing before the watch and no worse, and 0 for every series seen earlier and
/// absent now (its condition cleared). Pure.
pub fn judge(
    spec: &AlertSpec,
    (prior, watched, now_ms): (&Prior, &mut Watched, i64),
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
        let verdict = spec.judge(prior, watched, name, now_ms, *value);
        let active = verdict.active();
        samples.push(Sample {
            metric: metric.to_string(),
            series: name.clone(),
            reading: Reading::Value(if active { 1.0 } else { 0.0 }),
            control: false,
        });
        // Every series gets its note: a quiet one (already firing, not worse) shows its
        // value and why it does not count, not the 0 the gate sees.
        notes.insert(
            name.clone(),
            SeriesNote {
                observed: *value,
                reason: spec.reason(labels, *value, &verdict),
                annotations: spec.annotations_for(labels, *value),
                severity: spec.severity_for(labels, *value),
            },
        );
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
            block: Duration::from_secs(60),
            limit: None,
            query_offset: Duration::ZERO,
            recorded_inputs: Vec::new(),
            external_labels: BTreeMap::new(),
            external_url: String::new(),
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
        let m = Duration::from_secs(60);
        let prior = Prior::from_rows([(old.0.clone(), &[(0.0, 0.0)][..])], 0.0, m, m);
        let mut w = Watched::default();
        let mut known = BTreeSet::new();
        let (samples, notes) = judge(
            &spec(),
            (&prior, &mut w, 0),
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
        assert!(notes[&old.0]
            .reason
            .contains("already firing before the deploy"));
        let note = &notes[&new.0];
        assert_eq!(note.reason, "web:8080 is down (value 0)");
        assert_eq!(note.annotations["summary"], "web:8080 is down");
        assert_eq!(note.annotations["label_instance"], "web:8080");

        // Next tick the new series is gone: 0, so its anomaly resolves.
        let (samples, notes) = judge(
            &spec(),
            (&prior, &mut w, 0),
            "alert_target_down",
            vec![old.clone()],
            &mut known,
        );
        assert_eq!(reading(&samples, &new.0), 0.0);
        assert!(!notes.contains_key(&new.0));
    }

    #[test]
    fn an_empty_answer_is_one_quiet_sample_and_a_scalar_one_series() {
        let mut known = BTreeSet::new();
        let (samples, _) = judge(
            &spec(),
            (&Prior::default(), &mut Watched::default(), 0),
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
        let (samples, notes) = judge(
            &spec(),
            (&Prior::default(), &mut Watched::default(), 0),
            "alert_x",
            rows,
            &mut known,
        );
        assert_eq!(reading(&samples, "alert_x"), 1.0);
        assert!(notes.contains_key("alert_x"));
    }
}
