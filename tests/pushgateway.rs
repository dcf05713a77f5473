//! Prometheus and Grafana exports of `watch`: result metrics pushed to a real Pushgateway
//! (Debian's `prometheus-pushgateway`, started here on a free loopback port), live
//! `/metrics` served by `--listen` during the run, and Grafana annotations posted to a
//! local HTTP receiver with the bearer token.

mod common;

use common::{logging_rollback, Project};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A project whose error rate goes from 0 to `errors` on the third tick.
fn project(errors: &[&str], duration: &str) -> Project {
    let p = Project::new();
    let er = p.series("error_rate", errors);
    let rollback = logging_rollback(p.dir.path());
    p.write(
        "vz-monitor.yaml",
        &format!(
            r#"deployment: web
interval: 200ms
duration: {duration}
metrics:
  error_rate:
    probe: {{ command: {er} }}
rules:
  - name: high-error-rate
    metric: error_rate
    detector: {{ threshold: {{ op: ">", value: 5 }} }}
    kind: HIGH_ERROR_RATE
rollback:
  command: {rollback}
  timeout: 10s
"#
        ),
    );
    p
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GET over plain HTTP/1.0 (so no chunked replies); the body if the status is 200.
fn http_get(addr: &str, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.lines().next()?.split_whitespace().nth(1)?;
    (status == "200").then(|| body.to_string())
}

/// The sample line of `name` whose labels include all of `labels`, if any.
fn sample<'a>(text: &'a str, name: &str, labels: &[&str]) -> Option<&'a str> {
    text.lines()
        .find(|l| l.starts_with(&format!("{name}{{")) && labels.iter().all(|want| l.contains(want)))
}

/// A Pushgateway on a free loopback port, killed on drop.
struct Pushgateway {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Pushgateway {
    fn start() -> Pushgateway {
        let bin = ["/usr/bin/prometheus-pushgateway", "/usr/bin/pushgateway"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .or_else(|| which("prometheus-pushgateway"))
            .unwrap_or_else(|| {
                panic!("prometheus-pushgateway is not installed: run `bash .ci/setup.sh` (Debian package prometheus-pushgateway)")
            });
        let dir = tempfile::tempdir().unwrap();
        let addr = format!("127.0.0.1:{}", free_port());
        let child = Command::new(bin)
            .arg(format!("--web.listen-address={addr}"))
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus-pushgateway");
        let pg = Pushgateway {
            child,
            addr,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while http_get(&pg.addr, "/-/ready").is_none() {
            assert!(
                Instant::now() < deadline,
                "Pushgateway did not get ready in 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        pg
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn metrics(&self) -> String {
        http_get(&self.addr, "/metrics").expect("Pushgateway /metrics")
    }
}

impl Drop for Pushgateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.exists())
    })
}

#[test]
fn pushgateway_holds_the_run_metrics_afterwards() {
    let pg = Pushgateway::start();
    let p = project(&["0", "0", "12"], "2s");
    let out = p
        .cmd()
        .args(["watch", "--output", "json", "--pushgateway"])
        .arg(pg.url())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("pushed run metrics"), "{stderr}");

    let m = pg.metrics();
    let grp = ["deployment=\"web\"", "job=\"vz_monitor\""];
    let verdict = |v: &str| {
        let want = format!("verdict=\"{v}\"");
        sample(&m, "vz_monitor_verdict", &[grp[0], grp[1], want.as_str()])
            .unwrap_or_else(|| panic!("no verdict {v} in:\n{m}"))
    };
    assert!(verdict("rollback").ends_with(" 1"));
    assert!(verdict("healthy").ends_with(" 0"));
    let anomalies = sample(
        &m,
        "vz_monitor_anomalies_total",
        &[grp[0], "kind=\"HIGH_ERROR_RATE\"", "severity=\"critical\""],
    )
    .unwrap_or_else(|| panic!("{m}"));
    assert!(anomalies.ends_with(" 1"), "{anomalies}");
    let ok = sample(&m, "vz_monitor_rollbacks_total", &[grp[0], "result=\"ok\""]).unwrap();
    assert!(ok.ends_with(" 1"), "{ok}");
    assert!(sample(&m, "vz_monitor_exit_code", &grp)
        .unwrap_or_else(|| panic!("{m}"))
        .ends_with(" 1"));
    assert!(sample(&m, "vz_monitor_ticks", &grp)
        .unwrap()
        .ends_with(" 3"));
    let last = sample(&m, "vz_monitor_last_run_timestamp_seconds", &grp).unwrap();
    let secs: f64 = last.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(secs > 1.7e9, "{last}");
    assert!(sample(&m, "vz_monitor_run_duration_seconds", &grp).is_some());

    // A second, healthy run replaces the group: the verdict flips.
    let p2 = project(&["0"], "600ms");
    let out = p2
        .cmd()
        .args(["watch", "--pushgateway"])
        .arg(pg.url())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let m = pg.metrics();
    let healthy = sample(&m, "vz_monitor_verdict", &[grp[0], "verdict=\"healthy\""]).unwrap();
    assert!(healthy.ends_with(" 1"), "{m}");
    assert!(
        sample(&m, "vz_monitor_anomalies_total", &[grp[0]]).is_none(),
        "the healthy run pushed no anomalies and replaced the group:\n{m}"
    );
}

#[test]
fn a_manual_rollback_pushes_to_its_own_group() {
    let pg = Pushgateway::start();
    let p = project(&["0"], "400ms");
    let out = p
        .cmd()
        .args(["watch", "--pushgateway"])
        .arg(pg.url())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = p
        .cmd()
        .args(["rollback", "--reason", "bad canary", "--pushgateway"])
        .arg(pg.url())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = pg.metrics();
    let manual = sample(
        &m,
        "vz_monitor_verdict",
        &["kind=\"manual_rollback\"", "verdict=\"rolled_back\""],
    );
    assert!(manual.is_some_and(|l| l.ends_with(" 1")), "{m}");
    let ok = sample(
        &m,
        "vz_monitor_rollbacks_total",
        &["kind=\"manual_rollback\"", "result=\"ok\""],
    );
    assert!(ok.is_some_and(|l| l.ends_with(" 1")), "{m}");
    // The last watch's group is still there, untouched.
    let watch = m.lines().find(|l| {
        l.starts_with("vz_monitor_verdict{")
            && !l.contains("kind=")
            && l.contains("verdict=\"healthy\"")
    });
    assert!(watch.is_some_and(|l| l.ends_with(" 1")), "{m}");
}

#[test]
fn deployment_names_with_slashes_reach_the_pushgateway_intact() {
    let pg = Pushgateway::start();
    let p = project(&["0"], "400ms");
    let out = p
        .cmd()
        .args(["watch", "--deployment", "shop/eu west", "--pushgateway"])
        .arg(pg.url())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = pg.metrics();
    assert!(
        sample(
            &m,
            "vz_monitor_verdict",
            &["deployment=\"shop/eu west\"", "verdict=\"healthy\""]
        )
        .is_some_and(|l| l.ends_with(" 1")),
        "{m}"
    );
}

#[test]
fn a_failing_push_is_a_warning_and_keeps_the_exit_code() {
    let p = project(&["0"], "400ms");
    let out = p
        .cmd()
        .args(["watch", "--pushgateway"])
        .arg(format!("http://127.0.0.1:{}", free_port()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("warning: pushing metrics to"), "{stderr}");
    // A Grafana that is down and a --listen port already taken are warnings too.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let out = p
        .cmd()
        .args(["watch", "--grafana-url"])
        .arg(format!("http://127.0.0.1:{}", free_port()))
        .arg("--listen")
        .arg(taken.local_addr().unwrap().to_string())
        .env("VZ_GRAFANA_TOKEN", "tok_do_not_print")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: Grafana annotation to"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: cannot serve metrics on"),
        "{stderr}"
    );
    assert!(!stderr.contains("tok_do_not_print"));
    // Usage errors in the URL are exit 2, before anything runs.
    let out = p
        .cmd()
        .args(["watch", "--pushgateway", "localhost:9091"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = p
        .cmd()
        .args(["watch", "--listen", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn listen_serves_live_metrics_during_the_watch() {
    let p = project(&["0", "0", "3"], "6s");
    let addr = format!("127.0.0.1:{}", free_port());
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("vz-monitor"));
    cmd.current_dir(p.dir.path())
        .args(["watch", "--output", "json", "--listen", &addr])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, _) in std::env::vars() {
        if k.starts_with("VZ_") || k.starts_with("GITHUB_") {
            cmd.env_remove(k);
        }
    }
    let mut child = cmd.spawn().unwrap();
    // Poll mid-run until a few ticks and the latest value are visible.
    let deadline = Instant::now() + Duration::from_secs(30);
    let live = loop {
        if let Some(body) = http_get(&addr, "/metrics") {
            let ticks = sample(&body, "vz_monitor_ticks", &["deployment=\"web\""])
                .and_then(|l| l.rsplit(' ').next()?.parse::<u32>().ok())
                .unwrap_or(0);
            if ticks >= 3 {
                break body;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no live metrics with 3 ticks within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        child.try_wait().unwrap().is_none(),
        "fetched while the watch still ran"
    );
    assert!(
        sample(&live, "vz_monitor_series_value", &["series=\"error_rate\""])
            .is_some_and(|l| l.ends_with(" 3")),
        "{live}"
    );
    assert!(
        sample(&live, "vz_monitor_run_info", &["deployment=\"web\""])
            .is_some_and(|l| l.ends_with(" 1"))
    );
    assert!(
        sample(
            &live,
            "vz_monitor_rule_firing",
            &["rule=\"high-error-rate\""]
        )
        .is_some_and(|l| l.ends_with(" 0")),
        "{live}"
    );
    assert!(
        sample(&live, "vz_monitor_verdict", &[]).is_none(),
        "no verdict yet:\n{live}"
    );
    assert_eq!(http_get(&addr, "/nope"), None, "unknown paths are 404");
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

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
