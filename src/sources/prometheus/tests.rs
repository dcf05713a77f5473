use super::*;
use crate::model::{Reading, Sample};
use crate::sources::{Metric, MetricSource};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use vz_core::spec::OnMissing;

fn data(json: &str) -> Data {
    serde_json::from_str(json).expect("test JSON is a Prometheus result")
}

fn vector(rows: &[(&str, &str)]) -> Data {
    let rows: Vec<String> = rows
        .iter()
        .map(|(labels, v)| format!(r#"{{"metric":{{{labels}}},"value":[1700000000,"{v}"]}}"#))
        .collect();
    data(&format!(
        r#"{{"resultType":"vector","result":[{}]}}"#,
        rows.join(",")
    ))
}

fn config(url: &str, timeout_ms: u64, retries: u32) -> PrometheusConfig {
    PrometheusConfig {
        url: url.into(),
        headers: BTreeMap::from([("Authorization".into(), "Bearer t0ken".into())]),
        timeout: Duration::from_millis(timeout_ms),
        retries,
        max_connections: 2,
    }
}

fn metric(name: &str, query: &str, on_empty: OnEmpty, per_series: bool) -> Metric {
    Metric {
        name: name.into(),
        source: MetricSource::Query(query.into()),
        control: None,
        min_volume: None,
        on_missing: OnMissing::Inconclusive,
        on_empty,
        consecutive_errors: 4,
        per_series,
        alert: None,
    }
}

fn query_metric(url: &str, on_empty: OnEmpty, per_series: bool) -> QueryMetric {
    let client = Arc::new(PromClient::new(&config(url, 2000, 2)).unwrap());
    QueryMetric::new(&metric("m", "up", on_empty, per_series), client).unwrap()
}

fn missing(s: &Sample) -> &str {
    match &s.reading {
        Reading::Missing(why) => why,
        other => panic!("expected a missing reading, got {other:?}"),
    }
}

#[test]
fn series_names_sort_labels_drop_name_and_escape() {
    let labels = HashMap::from([
        ("__name__".to_string(), "http_requests_total".to_string()),
        ("path".to_string(), "/a\"b".to_string()),
        ("code".to_string(), "500".to_string()),
    ]);
    assert_eq!(
        series_name("req", &labels),
        r#"req{code="500",path="/a\"b"}"#
    );
    assert_eq!(series_name("req", &HashMap::new()), "req");
}

#[test]
fn one_series_and_scalars_are_values() {
    assert_eq!(
        interpret("m", false, vector(&[(r#""job":"x""#, "1.5")])).unwrap(),
        Answer::Values(vec![("m".into(), 1.5)])
    );
    let scalar = data(r#"{"resultType":"scalar","result":[1700000000,"42"]}"#);
    assert_eq!(
        interpret("m", false, scalar).unwrap(),
        Answer::Values(vec![("m".into(), 42.0)])
    );
    assert_eq!(interpret("m", false, vector(&[])).unwrap(), Answer::Empty);
}

#[test]
fn several_series_are_an_error_unless_per_series() {
    let two = || vector(&[(r#""code":"200""#, "1"), (r#""code":"500""#, "2")]);
    let err = interpret("m", false, two()).unwrap_err().to_string();
    assert!(err.contains("2 series where one was expected"), "{err}");
    assert!(err.contains(r#"{code="200"}"#), "{err}");
    assert!(err.contains("per_series: true"), "{err}");
    assert_eq!(
        interpret("m", true, two()).unwrap(),
        Answer::Values(vec![
            (r#"m{code="200"}"#.into(), 1.0),
            (r#"m{code="500"}"#.into(), 2.0)
        ])
    );
}

#[test]
fn range_vectors_are_refused_with_a_hint() {
    let m = data(r#"{"resultType":"matrix","result":[]}"#);
    assert!(interpret("m", false, m)
        .unwrap_err()
        .to_string()
        .contains("rate()"));
}

#[test]
fn nan_and_inf_are_missing_never_zero() {
    let q = query_metric("http://127.0.0.1:1", OnEmpty::Zero, false);
    for v in [f64::NAN, f64::INFINITY] {
        let s = q.samples_of(Ok(Answer::Values(vec![("m".into(), v)])));
        assert!(missing(&s[0]).contains("query returned"), "{:?}", s);
    }
}

#[test]
fn empty_means_what_the_metric_says() {
    let q = query_metric("http://127.0.0.1:1", OnEmpty::Missing, false);
    let s = q.samples_of(Ok(Answer::Empty));
    assert!(missing(&s[0]).starts_with("empty result"));
    let q = query_metric("http://127.0.0.1:1", OnEmpty::Zero, false);
    assert_eq!(
        q.samples_of(Ok(Answer::Empty))[0].reading,
        Reading::Value(0.0)
    );
}

#[test]
fn per_series_failures_reach_every_known_series() {
    let q = query_metric("http://127.0.0.1:1", OnEmpty::Missing, true);
    let a = r#"m{code="200"}"#.to_string();
    let b = r#"m{code="500"}"#.to_string();
    let s = q.samples_of(Ok(Answer::Values(vec![(a.clone(), 1.0), (b.clone(), 2.0)])));
    assert_eq!(s.len(), 2);
    // One series gone: it is missing, not silently dropped.
    let s = q.samples_of(Ok(Answer::Values(vec![(a.clone(), 1.0)])));
    assert_eq!(s.len(), 2);
    assert_eq!(s[1].series, b);
    assert!(missing(&s[1]).contains("absent"));
    // The server fails: every known series is missing with the reason.
    let s = q.samples_of(Err(QueryError::Timeout(Duration::from_secs(1))));
    let names: Vec<_> = s.iter().map(|s| s.series.as_str()).collect();
    assert_eq!(names, vec![a.as_str(), b.as_str()]);
    assert!(missing(&s[0]).contains("no answer"));
}

#[test]
fn range_steps_fill_zero_or_skip_and_drop_nan() {
    let m = data(
        r#"{"resultType":"matrix","result":[{"metric":{"code":"500"},"values":[[100,"1"],[102,"NaN"],[103,"3"]]}]}"#,
    );
    let (out, dropped) = range_values(
        "e",
        false,
        OnEmpty::Zero,
        m.clone(),
        (100, 104, Duration::from_secs(1)),
    )
    .unwrap();
    assert_eq!(out["e"], vec![1.0, 0.0, 3.0, 0.0]);
    assert_eq!(dropped, 1);
    let (out, _) = range_values(
        "e",
        true,
        OnEmpty::Missing,
        m,
        (100, 104, Duration::from_secs(1)),
    )
    .unwrap();
    assert_eq!(out[r#"e{code="500"}"#], vec![1.0, 3.0]);
    let empty = data(r#"{"resultType":"matrix","result":[]}"#);
    let (out, _) = range_values(
        "e",
        false,
        OnEmpty::Zero,
        empty,
        (100, 102, Duration::from_secs(1)),
    )
    .unwrap();
    assert_eq!(out["e"], vec![0.0; 3]);
}

#[test]
fn range_step_respects_the_point_limit() {
    let s = range_step(Duration::from_secs(86_400), Duration::from_secs(1));
    assert_eq!(s, Duration::from_secs(8));
    assert_eq!(
        range_step(Duration::from_secs(3600), Duration::from_secs(30)),
        Duration::from_secs(30)
    );
}

/// A one-shot-per-connection HTTP server on loopback answering every request with
/// `response`, or never answering when it is None. Counts requests; records the last one.
async fn fake(response: Option<&'static str>) -> (String, Arc<AtomicUsize>, Arc<Mutex<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let last = Arc::new(Mutex::new(String::new()));
    let (h, l) = (Arc::clone(&hits), Arc::clone(&last));
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let (h, l) = (Arc::clone(&h), Arc::clone(&l));
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                h.fetch_add(1, Ordering::SeqCst);
                *l.lock().unwrap() = String::from_utf8_lossy(&buf[..n]).into_owned();
                match response {
                    Some(r) => {
                        let _ = sock.write_all(r.as_bytes()).await;
                        let _ = sock.shutdown().await;
                    }
                    None => tokio::time::sleep(Duration::from_secs(30)).await,
                }
            });
        }
    });
    (url, hits, last)
}

fn http(status: &str, content_type: &str, body: &str) -> &'static str {
    Box::leak(
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_boxed_str(),
    )
}

#[tokio::test]
async fn a_good_answer_sends_headers_and_a_server_timeout() {
    let body = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"7"]}]}}"#;
    let (url, hits, last) = fake(Some(http("200 OK", "application/json", body))).await;
    let q = query_metric(&url, OnEmpty::Missing, false);
    let s = q.read().await;
    assert_eq!(s[0].reading, Reading::Value(7.0));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    let req = last.lock().unwrap().to_lowercase();
    assert!(req.contains("authorization: bearer t0ken"), "{req}");
    assert!(req.contains("timeout="), "{req}");
}

#[tokio::test]
async fn a_promql_error_is_missing_with_the_servers_message_and_not_retried() {
    let body = r#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unclosed left parenthesis"}"#;
    let (url, hits, _) = fake(Some(http("400 Bad Request", "application/json", body))).await;
    let q = query_metric(&url, OnEmpty::Missing, false);
    let s = q.read().await;
    let why = missing(&s[0]);
    assert!(
        why.contains("bad_data") && why.contains("unclosed left parenthesis"),
        "{why}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn http_5xx_is_missing_after_the_retries() {
    let (url, hits, _) = fake(Some(http("502 Bad Gateway", "text/html", "<h1>bad</h1>"))).await;
    let q = query_metric(&url, OnEmpty::Zero, false);
    let s = q.read().await;
    let why = missing(&s[0]);
    assert!(why.contains("HTTP 502"), "{why}");
    assert_eq!(hits.load(Ordering::SeqCst), 3, "1 try + 2 retries");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let (url, _, _) = fake(None).await;
    let client = Arc::new(PromClient::new(&config(&url, 300, 2)).unwrap());
    let q = QueryMetric::new(&metric("m", "up", OnEmpty::Zero, false), client).unwrap();
    let s = q.read().await;
    assert!(missing(&s[0]).contains("no answer from Prometheus within 300ms"));
}

#[tokio::test]
async fn a_refused_connection_is_missing_and_says_so() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let q = query_metric(&format!("http://127.0.0.1:{port}"), OnEmpty::Zero, false);
    let s = q.read().await;
    let why = missing(&s[0]);
    assert!(why.starts_with("cannot reach Prometheus"), "{why}");
    assert!(why.to_lowercase().contains("refused"), "{why}");
}

#[test]
fn invalid_headers_are_refused_up_front() {
    let mut c = config("http://127.0.0.1:1", 1000, 0);
    c.headers.insert("Bad Header".into(), "x".into());
    let err = PromClient::new(&c).err().expect("a bad header is refused");
    assert!(err.contains("Bad Header"), "{err}");
}

/// A keep-alive HTTP server on loopback that holds every request 50 ms before answering
/// `up 1`, and records the most requests it was answering at once and the most connections
/// it had open at once.
async fn slow_keep_alive() -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (busy, open) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (max_busy, max_open) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (mb, mo) = (Arc::clone(&max_busy), Arc::clone(&max_open));
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (busy, open, mb, mo) = (
                Arc::clone(&busy),
                Arc::clone(&open),
                Arc::clone(&mb),
                Arc::clone(&mo),
            );
            tokio::spawn(async move {
                mo.fetch_max(open.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                let body = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1"]}]}}"#;
                let mut buf = vec![0u8; 8192];
                let mut req = Vec::new();
                loop {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                    if !req.windows(4).any(|w| w == b"\r\n\r\n") {
                        continue;
                    }
                    req.clear();
                    mb.fetch_max(busy.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    busy.fetch_sub(1, Ordering::SeqCst);
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    if sock.write_all((head + body).as_bytes()).await.is_err() {
                        break;
                    }
                }
                open.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    (url, max_busy, max_open)
}

#[tokio::test]
async fn max_connections_bounds_the_queries_in_flight_and_the_sockets() {
    for n in [1, 2, 5] {
        let (url, max_busy, max_open) = slow_keep_alive().await;
        let mut c = config(&url, 5000, 0);
        c.max_connections = n;
        let client = PromClient::new(&c).unwrap();
        // A tick of 12 queries issued at once.
        let answers = futures::future::join_all((0..12).map(|_| client.instant("up"))).await;
        assert!(answers.iter().all(Result::is_ok), "{answers:?}");
        // Every permit was used (the queries ran concurrently), and never more than that.
        assert_eq!(max_busy.load(Ordering::SeqCst), n, "requests in flight");
        let open = max_open.load(Ordering::SeqCst);
        assert!(
            open <= n,
            "{open} connections open at once with max_connections {n}"
        );
    }
}
