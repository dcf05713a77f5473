//! Helpers of the `serve` tests: the dashboard as a child process on a free port, a plain
//! HTTP/1.1 client, and a quick watch that fills a store.

use super::common::{exits, logging_rollback, Project};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `vz-monitor serve` on a free port, killed on drop.
pub struct Server {
    child: Child,
    pub port: u16,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Serves `db` on 127.0.0.1 (a free port), with `env` set.
    pub fn start(p: &Project, db: &str, env: &[(&str, &str)]) -> Server {
        Server::start_with(p, db, "127.0.0.1:0", env)
    }

    /// Serves `db` on `listen`, with `env` set.
    pub fn start_with(p: &Project, db: &str, listen: &str, env: &[(&str, &str)]) -> Server {
        let mut cmd = p.std_cmd();
        cmd.args(["serve", "--listen", listen, "--db", db, "--poll", "200ms"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start vz-monitor serve");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx): (_, Receiver<String>) = channel();
        let kept = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                kept.lock().unwrap().push_str(&format!("{line}\n"));
                let _ = tx.send(line);
            }
        });
        let port = loop {
            match rx.recv_timeout(Duration::from_secs(20)) {
                Ok(line) if line.contains("serving the dashboard") => {
                    let addr = line
                        .split("http://")
                        .nth(1)
                        .and_then(|s| s.split('/').next())
                        .expect("an address in the serving line");
                    break addr.rsplit(':').next().unwrap().parse().unwrap();
                }
                Ok(_) => continue,
                Err(_) => panic!("serve did not start: {}", log.lock().unwrap()),
            }
        };
        Server { child, port, log }
    }

    /// Stops the server; what it printed.
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(100));
        let log = self.log.lock().unwrap().clone();
        log
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn unchunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

/// One request over a fresh connection (`Connection: close`).
pub fn request(port: u16, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to serve");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut text = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        text.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    if method != "GET" && method != "HEAD" {
        text.push_str("Content-Length: 0\r\n");
    }
    text.push_str("\r\n");
    s.write_all(text.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {raw:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        unchunk(body)
    } else {
        body.to_string()
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// Runs a short watch of `deployment` (command probes: 0.4, 0.6, then 12 % errors) into
/// `db`; it rolls back (exit 1).
pub fn quick_watch(p: &Project, db: &str, deployment: &str, env: &[(&str, &str)]) {
    if p.read("quick.yaml").is_none() {
        let er = p.series("error_rate", &["0.4", "0.6", "12"]);
        p.write(
            "quick.yaml",
            &format!(
                "interval: 100ms\nduration: 600ms\nmetrics:\n  error_rate:\n    probe: {{ command: {er} }}\nrules:\n  - name: high-error-rate\n    metric: error_rate\n    detector: {{ threshold: {{ op: \">\", value: 5 }} }}\n    kind: HIGH_ERROR_RATE\n    severity: critical\nrollback:\n  command: {}\n",
                logging_rollback(p.dir.path())
            ),
        );
    }
    let _ = std::fs::remove_file(p.path("series/error_rate.txt.count"));
    let mut cmd = p.cmd();
    cmd.args([
        "watch",
        "--config",
        "quick.yaml",
        "--db",
        db,
        "--deployment",
        deployment,
    ]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    exits(&mut cmd, 1);
}
