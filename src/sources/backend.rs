//! One backend metric (any [`Backend`]) as a [`Source`]: what every backend's answers mean for the gate, in
//! one place — empty (`on_empty`), NaN/Inf, a series that vanished, an error — and the log
//! of missing samples (once when they start or change, once when data is back).

use super::Source;
use crate::backends::{Answer, Backend, MetricInfo};
use crate::model::{fmt_num, Reading, Sample};
use crate::sources::MissingLog;
use futures::future::BoxFuture;
use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;
use vz_core::spec::OnEmpty;

/// A metric read from a backend each tick.
pub struct BackendMetric {
    info: MetricInfo,
    backend: Box<dyn Backend>,
    /// Series seen so far (per-series metrics): an error or an empty answer makes each of
    /// them missing (or zero), so a failing backend never silently shrinks the watch.
    known: Mutex<BTreeSet<String>>,
    /// Missing samples logged when they start or change reason, and when data returns.
    logged: MissingLog,
}

/// A value as a reading: NaN and ±Inf are missing, with the reason.
fn reading_of(v: f64) -> Reading {
    if v.is_finite() {
        Reading::Value(v)
    } else {
        Reading::Missing(format!(
            "query returned {} (e.g. a division by zero with no traffic)",
            fmt_num(v)
        ))
    }
}

impl BackendMetric {
    /// The metric `info` read through `backend`.
    pub fn new(info: MetricInfo, backend: Box<dyn Backend>) -> BackendMetric {
        BackendMetric {
            info,
            backend,
            known: Mutex::new(BTreeSet::new()),
            logged: MissingLog::default(),
        }
    }

    /// The running query (for `range` and `check`).
    pub fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    /// One tick: a sample per series (one for a plain metric), each a value or a missing
    /// reading with its reason.
    pub async fn read(&self) -> Vec<Sample> {
        let answer = self.backend.sample().await;
        let samples = self.samples_of(answer);
        self.logged.log(&samples);
        samples
    }

    /// This tick's samples from the backend's answer.
    pub fn samples_of(&self, answer: Result<Answer, String>) -> Vec<Sample> {
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        let name = &self.info.name;
        let sample = |series: &str, reading: Reading| Sample {
            metric: name.clone(),
            series: series.to_string(),
            reading,
            control: false,
        };
        let empty = |why: String| match self.info.on_empty {
            OnEmpty::Zero => Reading::Value(0.0),
            OnEmpty::Missing => Reading::Missing(why),
        };
        let everyone: Vec<String> = if known.is_empty() || !self.info.per_series {
            vec![name.clone()]
        } else {
            known.iter().cloned().collect()
        };
        match answer {
            Err(e) => everyone
                .iter()
                .map(|s| sample(s, Reading::Missing(e.clone())))
                .collect(),
            Ok(Answer::Empty) => {
                let why = self.backend.empty_reason();
                everyone
                    .iter()
                    .map(|s| sample(s, empty(why.clone())))
                    .collect()
            }
            Ok(Answer::Values(values)) => {
                let mut out: Vec<Sample> = values
                    .iter()
                    .map(|(s, v)| sample(s, reading_of(*v)))
                    .collect();
                if self.info.per_series {
                    let present: BTreeSet<&String> = values.iter().map(|(s, _)| s).collect();
                    for gone in known.iter().filter(|s| !present.contains(s)) {
                        let why = "series absent from this result".to_string();
                        out.push(sample(gone, empty(why)));
                    }
                    known.extend(values.into_iter().map(|(s, _)| s));
                }
                out
            }
        }
    }
}

impl Source for BackendMetric {
    /// `metric` is this metric's own name: the series are named from it at construction.
    fn sample<'a>(&'a self, _metric: &'a str) -> BoxFuture<'a, Vec<Sample>> {
        Box::pin(self.read())
    }

    fn timeout(&self) -> Duration {
        self.backend.timeout()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::{Range, Span};

    /// A backend that is never asked: the tests feed answers to `samples_of` directly.
    struct Silent;

    impl Backend for Silent {
        fn sample(&self) -> BoxFuture<'_, Result<Answer, String>> {
            Box::pin(async { Err("not asked".to_string()) })
        }
        fn range(&self, _: Span) -> BoxFuture<'_, Result<Range, String>> {
            Box::pin(async { Ok(Range::default()) })
        }
        fn timeout(&self) -> Duration {
            Duration::from_secs(1)
        }
        fn max_connections(&self) -> usize {
            1
        }
        fn empty_reason(&self) -> String {
            "selected nothing".into()
        }
    }

    fn metric(on_empty: OnEmpty, per_series: bool) -> BackendMetric {
        let info = MetricInfo {
            name: "m".into(),
            per_series,
            on_empty,
        };
        BackendMetric::new(info, Box::new(Silent))
    }

    fn missing(s: &Sample) -> &str {
        match &s.reading {
            Reading::Missing(why) => why,
            other => panic!("{} is {other:?}, not missing", s.series),
        }
    }

    #[test]
    fn nan_inf_and_errors_are_missing_never_a_number() {
        let m = metric(OnEmpty::Zero, false);
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let s = m.samples_of(Ok(Answer::Values(vec![("m".into(), v)])));
            assert!(missing(&s[0]).contains("query returned"), "{s:?}");
        }
        let s = m.samples_of(Err("HTTP 500".into()));
        assert_eq!(missing(&s[0]), "HTTP 500");
    }

    #[test]
    fn empty_is_missing_with_the_backends_reason_unless_on_empty_zero() {
        let s = metric(OnEmpty::Missing, false).samples_of(Ok(Answer::Empty));
        assert_eq!(missing(&s[0]), "selected nothing");
        let s = metric(OnEmpty::Zero, false).samples_of(Ok(Answer::Empty));
        assert_eq!(s[0].reading, Reading::Value(0.0));
    }

    #[test]
    fn a_failure_reaches_every_known_series_and_a_vanished_one_is_missing() {
        let m = metric(OnEmpty::Missing, true);
        let (a, b) = (
            r#"m{code="200"}"#.to_string(),
            r#"m{code="500"}"#.to_string(),
        );
        m.samples_of(Ok(Answer::Values(vec![(a.clone(), 1.0), (b.clone(), 2.0)])));
        let s = m.samples_of(Err("down".into()));
        let names: Vec<&str> = s.iter().map(|s| s.series.as_str()).collect();
        assert_eq!(names, [a.as_str(), b.as_str()]);
        let s = m.samples_of(Ok(Answer::Values(vec![(a.clone(), 3.0)])));
        assert_eq!(s[0].reading, Reading::Value(3.0));
        assert_eq!(s[1].series, b);
        assert_eq!(missing(&s[1]), "series absent from this result");
    }
}
