//! `watch --grafana-url URL` posts annotations with the bearer token.

use super::support::project;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// Requests a local HTTP receiver got: (request line, headers lower-cased, body).
type Received = Arc<Mutex<Vec<(String, Vec<(String, String)>, String)>>>;

/// A minimal HTTP receiver standing in for Grafana's annotation API; answers 200.
fn receiver() -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let got: Received = Arc::default();
    let seen = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut r = BufReader::new(stream);
            let mut line = String::new();
            if r.read_line(&mut line).is_err() {
                continue;
            }
            let mut headers = Vec::new();
            let mut len = 0usize;
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = h.trim().split_once(':') {
                    let (k, v) = (k.trim().to_lowercase(), v.trim().to_string());
                    if k == "content-length" {
                        len = v.parse().unwrap_or(0);
                    }
                    headers.push((k, v));
                }
            }
            let mut body = vec![0; len];
            let _ = r.read_exact(&mut body);
            seen.lock().unwrap().push((
                line.trim().to_string(),
                headers,
                String::from_utf8_lossy(&body).into(),
            ));
            let reply = "{\"id\":1,\"message\":\"Annotation added\"}";
            let _ = write!(
                r.get_mut(),
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    (addr, got)
}

#[test]
fn grafana_annotations_reach_the_api_with_the_bearer_token() {
    let (addr, got) = receiver();
    let p = project(&["0", "0", "12"], "2s");
    let out = p
        .cmd()
        .args(["watch", "--grafana-url"])
        .arg(format!("http://{addr}/"))
        .env("VZ_GRAFANA_TOKEN", "glsa_secret_token")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("glsa_secret_token") && !stdout.contains("glsa_secret_token"));
    let got = got.lock().unwrap().clone();
    let events: Vec<String> = got
        .iter()
        .map(|(line, headers, body)| {
            assert_eq!(line, "POST /api/annotations HTTP/1.1");
            assert!(
                headers.contains(&("authorization".into(), "Bearer glsa_secret_token".into())),
                "{headers:?}"
            );
            let v: serde_json::Value = serde_json::from_str(body).unwrap();
            let tags = v["tags"].as_array().unwrap();
            assert_eq!(tags[0], "vz-monitor");
            assert_eq!(tags[1], "deployment:web");
            assert!(v["time"].as_i64().unwrap() > 1_700_000_000_000, "{v}");
            assert!(!v["text"].as_str().unwrap().is_empty());
            tags[2].as_str().unwrap().to_string()
        })
        .collect();
    let mut sorted = events.clone();
    sorted.sort();
    assert_eq!(sorted, ["end", "rollback", "start"], "{got:?}");
    let end = got.iter().find(|g| g.2.contains("\"end\"")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&end.2).unwrap();
    assert!(
        v["text"].as_str().unwrap().contains("ROLLBACK (exit 1)"),
        "{v}"
    );
    assert!(v["timeEnd"].as_i64().unwrap() >= v["time"].as_i64().unwrap());
}
