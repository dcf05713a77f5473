//! The `Kind` half of the backend: `source.cloudwatch:` and the AWS environment read into
//! settings, each metric's query checked before any request, and the one client a run shares.

use super::super::fetch::{self, Fetcher};
use super::super::{Backend, Env, Invalid, Kind, MetricInfo};
use super::{
    sigv4, CloudWatch, CloudWatchClient, CloudWatchConfig, CloudWatchMetric, CloudWatchQuery,
    RawCloudWatch, DEFAULT_LOOKBACK, DEFAULT_PERIOD,
};
use std::sync::Arc;

/// Statistics CloudWatch computes besides percentiles (`p99`, `p99.9`) and the like.
const STATS: [&str; 5] = ["Average", "Sum", "Minimum", "Maximum", "SampleCount"];

impl Kind for CloudWatch {
    type Raw = RawCloudWatch;
    type Settings = CloudWatchConfig;
    type Query = CloudWatchQuery;
    type Client = CloudWatchClient;
    const SERIES: bool = true;

    /// A config without `source.cloudwatch:` still has CloudWatch settings when the
    /// environment names a region (a metric may then use `backend: { cloudwatch: … }`).
    fn settings(raw: Option<RawCloudWatch>, env: Env) -> Result<Option<CloudWatchConfig>, Invalid> {
        let var = |k: &str| env(k).filter(|v| !v.is_empty());
        let env_region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"));
        let raw = match (raw, &env_region) {
            (None, None) => return Ok(None),
            (r, _) => r.unwrap_or_default(),
        };
        let region = raw
            .region
            .or(env_region)
            .ok_or_else(|| Invalid::new("region", "missing (or set AWS_REGION)"))?;
        if region.is_empty()
            || !region
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(Invalid::new(
                "region",
                format!("`{region}` is not an AWS region"),
            ));
        }
        let endpoint = raw
            .endpoint_url
            .unwrap_or_else(|| format!("https://monitoring.{region}.amazonaws.com"));
        fetch::check_url(&endpoint).map_err(|m| Invalid::new("endpoint_url", m))?;
        let credentials = match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
            (Some(id), Some(secret)) => Some(sigv4::Credentials {
                access_key_id: id,
                secret_access_key: secret,
                session_token: var("AWS_SESSION_TOKEN"),
            }),
            _ => None,
        };
        Ok(Some(CloudWatchConfig {
            region,
            endpoint: endpoint.trim_end_matches('/').to_string(),
            credentials,
            http: fetch::Http::new(raw.timeout, raw.retries, raw.max_connections)?,
            lookback: raw.lookback.unwrap_or(DEFAULT_LOOKBACK),
        }))
    }

    fn validate(
        query: &CloudWatchQuery,
        settings: Option<&CloudWatchConfig>,
    ) -> Result<(), Invalid> {
        if query.namespace.trim().is_empty() {
            return Err(Invalid::new("namespace", "must not be empty"));
        }
        if query.metric.trim().is_empty() {
            return Err(Invalid::new(
                "metric",
                "must not be empty (CloudWatch's MetricName)",
            ));
        }
        if !valid_stat(&query.stat) {
            return Err(Invalid::new(
                "stat",
                format!("`{}` is not a CloudWatch statistic (Average, Sum, Minimum, Maximum, SampleCount, p99, …)", query.stat),
            ));
        }
        let period = query.period.unwrap_or(DEFAULT_PERIOD).as_secs();
        if !(matches!(period, 1 | 5 | 10 | 30) || (period > 0 && period % 60 == 0)) {
            return Err(Invalid::new(
                "period",
                format!("{period}s: CloudWatch periods are 1s, 5s, 10s, 30s or a multiple of 60s"),
            ));
        }
        if query.lookback.is_some_and(|l| l.as_secs() == 0) {
            return Err(Invalid::new("lookback", "must be at least 1s"));
        }
        if settings.is_none() {
            return Err(Invalid::new(
                "",
                "a CloudWatch metric needs source.cloudwatch (or AWS_REGION) for its region",
            ));
        }
        Ok(())
    }

    fn connect(settings: Option<&CloudWatchConfig>) -> Result<CloudWatchClient, String> {
        let config = settings.ok_or("no source.cloudwatch configured")?.clone();
        let credentials = config.credentials.clone().ok_or(
            "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and \
             AWS_SESSION_TOKEN for temporary credentials)",
        )?;
        let url = url::Url::parse(&config.endpoint).map_err(|e| e.to_string())?;
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => return Err("endpoint_url has no host".into()),
        };
        let mut secrets = vec![credentials.secret_access_key.clone()];
        secrets.extend(credentials.session_token.iter().cloned());
        secrets.extend(crate::redact::url_with_credentials(&config.endpoint));
        let fetcher = Fetcher::new(&config.http, secrets)?;
        Ok(CloudWatchClient {
            config,
            credentials,
            host,
            fetcher,
        })
    }

    fn metric(
        query: &CloudWatchQuery,
        metric: &MetricInfo,
        client: Arc<CloudWatchClient>,
    ) -> Box<dyn Backend> {
        Box::new(CloudWatchMetric {
            query: query.clone(),
            info: metric.clone(),
            client,
        })
    }

    fn describe(query: &CloudWatchQuery) -> String {
        let dims: Vec<String> = query
            .dimensions
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let dims = if dims.is_empty() {
            String::new()
        } else {
            format!("{{{}}}", dims.join(","))
        };
        format!(
            "cloudwatch: {}/{}{dims} {}",
            query.namespace, query.metric, query.stat
        )
    }
}

fn valid_stat(s: &str) -> bool {
    STATS.contains(&s)
        || s.strip_prefix('p')
            .or_else(|| s.strip_prefix("tm"))
            .or_else(|| s.strip_prefix("wm"))
            .or_else(|| s.strip_prefix("tc"))
            .or_else(|| s.strip_prefix("ts"))
            .is_some_and(|n| n.parse::<f64>().is_ok_and(|n| (0.0..=100.0).contains(&n)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::time::Duration;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn settings_come_from_the_environment() {
        let e = env(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "tok"),
        ]);
        let s = CloudWatch::settings(None, &e).unwrap().unwrap();
        assert_eq!(s.endpoint, "https://monitoring.eu-west-1.amazonaws.com");
        let c = s.credentials.as_ref().unwrap();
        assert_eq!(c.session_token.as_deref(), Some("tok"));
        assert!(CloudWatch::settings(None, &env(&[])).unwrap().is_none());
        let no_region = CloudWatch::settings(Some(RawCloudWatch::default()), &env(&[]));
        assert_eq!(no_region.unwrap_err().field, "region");
        // No credentials: the settings load, the connection says what to set.
        let s = CloudWatch::settings(None, &env(&[("AWS_REGION", "us-east-1")])).unwrap();
        let err = CloudWatch::connect(s.as_ref()).err().unwrap();
        assert!(err.contains("AWS_ACCESS_KEY_ID"), "{err}");
    }

    #[test]
    fn queries_are_checked_before_any_request() {
        let s = CloudWatch::settings(None, &env(&[("AWS_REGION", "us-east-1")])).unwrap();
        let q = |stat: &str, period: u64| CloudWatchQuery {
            namespace: "App".into(),
            metric: "Errors".into(),
            dimensions: BTreeMap::new(),
            stat: stat.into(),
            period: Some(Duration::from_secs(period)),
            lookback: None,
        };
        assert!(CloudWatch::validate(&q("p99.9", 60), s.as_ref()).is_ok());
        assert!(CloudWatch::validate(&q("Average", 1), s.as_ref()).is_ok());
        assert_eq!(
            CloudWatch::validate(&q("Mean", 60), s.as_ref())
                .unwrap_err()
                .field,
            "stat"
        );
        assert_eq!(
            CloudWatch::validate(&q("Sum", 45), s.as_ref())
                .unwrap_err()
                .field,
            "period"
        );
        assert!(CloudWatch::validate(&q("Sum", 60), None).is_err());
    }
}
