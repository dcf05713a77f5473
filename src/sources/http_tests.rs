//! HTTP probe tests against a small loopback server.

use super::*;
use std::collections::BTreeMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A hand-written HTTP/1.1 server on loopback. Paths:
/// `/ok` 200, `/fail` 503, `/slow` sleeps 10 s, `/moved` 302 to `/ok`,
/// `/loop` redirects to itself, `/token` 200 only with `x-token: abc` (else 401),
/// `/big` 200 with a 1 MiB body.
async fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer(stream));
        }
    });
    base
}

async fn answer(mut stream: TcpStream) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let request = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
    let (head, body) = match path.as_str() {
        "/ok" => ("200 OK".to_string(), "ok".to_string()),
        "/fail" => ("503 Service Unavailable".into(), "down".into()),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(10)).await;
            ("200 OK".into(), "late".into())
        }
        "/moved" => ("302 Found\r\nLocation: /ok".into(), String::new()),
        "/loop" => ("302 Found\r\nLocation: /loop".into(), String::new()),
        "/token" if request.contains("x-token: abc\r\n") => ("200 OK".into(), "ok".into()),
        "/token" => ("401 Unauthorized".into(), String::new()),
        "/big" => ("200 OK".into(), "x".repeat(1 << 20)),
        _ => ("404 Not Found".into(), String::new()),
    };
    let response = format!(
        "HTTP/1.1 {head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn probe(url: String) -> HttpProbe {
    HttpProbe {
        url,
        expect_status: None,
        timeout: Duration::from_secs(2),
        value: HttpValue::Up,
        method: "GET".into(),
        headers: BTreeMap::new(),
    }
}

async fn sample(spec: HttpProbe) -> Reading {
    HttpSource::new(spec).read().await
}

#[tokio::test]
async fn ok_is_up_and_reports_each_value() {
    let base = serve().await;
    let mut spec = probe(format!("{base}/ok"));
    assert_eq!(sample(spec.clone()).await, Reading::Value(1.0));

    spec.value = HttpValue::Status;
    assert_eq!(sample(spec.clone()).await, Reading::Value(200.0));

    spec.value = HttpValue::LatencyMs;
    let ms = sample(spec).await.value().expect("latency");
    assert!(ms.is_finite() && ms >= 0.0, "{ms}");
}

#[tokio::test]
async fn wrong_status_is_down_with_the_status() {
    let base = serve().await;
    let mut spec = probe(format!("{base}/fail"));
    assert_eq!(
        sample(spec.clone()).await,
        Reading::Down("HTTP 503 (expected 2xx)".into())
    );

    spec.url = format!("{base}/ok");
    spec.expect_status = Some(204);
    assert_eq!(
        sample(spec).await,
        Reading::Down("HTTP 200 (expected 204)".into())
    );
}

#[tokio::test]
async fn expected_non_2xx_status_is_up() {
    let base = serve().await;
    let mut spec = probe(format!("{base}/fail"));
    spec.expect_status = Some(503);
    spec.value = HttpValue::Status;
    assert_eq!(sample(spec).await, Reading::Value(503.0));
}

#[tokio::test]
async fn hanging_server_times_out_as_down() {
    let base = serve().await;
    let mut spec = probe(format!("{base}/slow"));
    spec.timeout = Duration::from_millis(300);
    let source = HttpSource::new(spec);
    // Generous outer bound: only catches a probe that ignores its own timeout.
    let reading = tokio::time::timeout(source.timeout() * 5, source.read())
        .await
        .expect("sample must respect its timeout");
    assert_eq!(reading, Reading::Down("timed out after 300ms".into()));
}

#[tokio::test]
async fn closed_port_is_down_refused() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    assert_eq!(
        sample(probe(format!("http://{addr}/ok"))).await,
        Reading::Down("connection refused".into())
    );
}

#[tokio::test]
async fn follows_redirects_but_not_forever() {
    let base = serve().await;
    let mut spec = probe(format!("{base}/moved"));
    spec.value = HttpValue::Status;
    assert_eq!(sample(spec.clone()).await, Reading::Value(200.0));

    spec.url = format!("{base}/loop");
    match sample(spec).await {
        Reading::Down(reason) => assert!(reason.contains("redirect"), "{reason}"),
        other => panic!("expected down, got {other:?}"),
    }
}

#[tokio::test]
async fn a_reason_never_carries_the_urls_password() {
    // Url::parse refuses the space, and its error names the URL it was given.
    let spec = probe("http://ops:s3cret-pw@bad host/health".into());
    let reading = HttpSource::new(spec).read().await;
    let Reading::Missing(why) = reading else {
        panic!("{reading:?}")
    };
    assert!(why.contains("invalid url"), "{why}");
    assert!(!why.contains("s3cret-pw"), "{why}");
    assert!(why.contains("***"), "{why}");
}

#[tokio::test]
async fn sends_method_and_headers() {
    let base = serve().await;
    let mut spec = probe(format!("{base}/token"));
    spec.method = "post".into();
    assert_eq!(
        sample(spec.clone()).await,
        Reading::Down("HTTP 401 (expected 2xx)".into())
    );
    spec.headers.insert("X-Token".into(), "abc".into());
    assert_eq!(sample(spec).await, Reading::Value(1.0));
}

#[tokio::test]
async fn big_body_is_read_only_in_part() {
    let base = serve().await;
    let mut spec = probe(format!("{base}/big"));
    spec.value = HttpValue::LatencyMs;
    let ms = sample(spec).await.value().expect("latency");
    assert!(ms.is_finite() && ms >= 0.0, "{ms}");
}

#[tokio::test]
async fn bad_spec_is_missing_not_down() {
    let mut spec = probe("not a url".into());
    assert!(matches!(sample(spec.clone()).await, Reading::Missing(_)));

    spec.url = "ftp://127.0.0.1:1/".into();
    assert_eq!(
        sample(spec.clone()).await,
        Reading::Missing("unsupported url scheme \"ftp\"".into())
    );

    spec.url = "http://127.0.0.1:1/".into();
    spec.method = "BAD METHOD".into();
    assert!(matches!(sample(spec.clone()).await, Reading::Missing(_)));

    spec.method = "GET".into();
    spec.headers.insert("bad header".into(), "x".into());
    assert!(matches!(sample(spec).await, Reading::Missing(_)));
}
