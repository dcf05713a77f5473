//! REAL servers for the notification tests, all on 127.0.0.1 with free ports and temp dirs,
//! killed on drop: an HTTP receiver in the test process (Slack, webhook, PagerDuty,
//! Pushover payloads), Prometheus Alertmanager, and an aiosmtpd SMTP server. A missing
//! binary FAILS the test with a message naming .ci/setup.sh; nothing is skipped.

use super::prometheus::free_port;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    /// Header names lower-cased.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Request {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} body is not JSON ({e}): {}",
                self.path,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// How the receiver answers on a path.
#[derive(Debug, Clone)]
pub enum Answer {
    /// These statuses in turn, then 200 for ever.
    Statuses(Vec<u16>),
    /// Never answer (the connection stays open until the client gives up).
    Hang,
}

/// An HTTP/1.1 receiver that records every request and answers 200 unless told otherwise.
pub struct Receiver {
    pub port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
    answers: Arc<Mutex<HashMap<String, Answer>>>,
    stop: Arc<AtomicBool>,
}

impl Receiver {
    /// Starts listening on a free loopback port.
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let answers: Arc<Mutex<HashMap<String, Answer>>> = Arc::new(Mutex::new(HashMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, a, s) = (requests.clone(), answers.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (r, a, s) = (r.clone(), a.clone(), s.clone());
                std::thread::spawn(move || handle(conn, &r, &a, &s));
            }
        });
        Receiver {
            port,
            requests,
            answers,
            stop,
        }
    }

    /// `http://127.0.0.1:PORT/path`
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Sets how `path` is answered.
    pub fn answer(&self, path: &str, a: Answer) {
        self.answers.lock().unwrap().insert(path.to_string(), a);
    }

    /// Requests received on `path`, in order.
    pub fn on(&self, path: &str) -> Vec<Request> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// JSON bodies received on `path` whose `field` equals `value`.
    pub fn events(&self, path: &str, field: &str, value: &str) -> Vec<serde_json::Value> {
        self.on(path)
            .iter()
            .map(Request::json)
            .filter(|j| j[field] == value)
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn handle(
    conn: TcpStream,
    requests: &Mutex<Vec<Request>>,
    answers: &Mutex<HashMap<String, Answer>>,
    stop: &AtomicBool,
) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    requests.lock().unwrap().push(Request {
        path: path.clone(),
        headers,
        body,
    });
    let status = {
        let mut map = answers.lock().unwrap();
        match map.get_mut(&path) {
            Some(Answer::Hang) => None,
            Some(Answer::Statuses(list)) if !list.is_empty() => Some(list.remove(0)),
            _ => Some(200),
        }
    };
    let Some(status) = status else {
        // Hold the connection without answering until the test ends.
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50));
        }
        return;
    };
    let body = if status == 200 { "ok" } else { "nope" };
    let mut conn = conn;
    let _ = write!(
        conn,
        "HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A binary on PATH or at one of `fallbacks`; panics (the test FAILS) naming .ci/setup.sh.
pub fn binary(names: &[&str], fallbacks: &[&str], package: &str) -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .flat_map(|d| names.iter().map(move |n| d.join(n)))
            .find(|p| p.is_file())
    });
    on_path
        .or_else(|| fallbacks.iter().map(PathBuf::from).find(|p| p.is_file()))
        .unwrap_or_else(|| {
            panic!(
                "{} not found: run .ci/setup.sh (apt-get install {package})",
                names[0]
            )
        })
}

/// A plain HTTP/1.0 request on loopback; returns (status, body).
pub fn http(port: u16, method: &str, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let (head, body) = out.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

/// A running Prometheus Alertmanager, killed on drop.
pub struct Alertmanager {
    pub port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

impl Alertmanager {
    /// Starts Alertmanager on a free loopback port with clustering off, a temp storage
    /// folder and a config that routes everything to a receiver with no integrations.
    pub fn start() -> Alertmanager {
        let bin = binary(
            &["prometheus-alertmanager", "alertmanager"],
            &["/usr/bin/prometheus-alertmanager"],
            "prometheus-alertmanager",
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("alertmanager.yml");
        std::fs::write(
            &config,
            "route:\n  receiver: quiet\n  group_wait: 1s\nreceivers:\n  - name: quiet\n",
        )
        .unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("alertmanager.log")).unwrap();
        let child = Command::new(&bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let am = Alertmanager { port, child, dir };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if http(port, "GET", "/-/ready").is_some_and(|(s, _)| s == 200) {
                return am;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("alertmanager did not become ready:\n{}", am.log());
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `GET /api/v2/alerts` (active, silenced, inhibited and unprocessed alerts).
    pub fn alerts(&self) -> Vec<serde_json::Value> {
        let (status, body) =
            http(self.port, "GET", "/api/v2/alerts").expect("alertmanager answers");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<Vec<serde_json::Value>>(&body).expect("alerts JSON")
    }

    /// The server log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("alertmanager.log")).unwrap_or_default()
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An SMTP server (aiosmtpd) that writes each received message to `DIR/N.eml`, with the
/// envelope and any AUTH login as header lines. Killed on drop.
pub struct Smtp {
    pub port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

const SMTP_SCRIPT: &str = r#"
import os, sys, time, itertools
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
out, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
n = itertools.count(1)
class Handler:
    async def handle_DATA(self, server, session, envelope):
        login = session.auth_data.login.decode() if hasattr(getattr(session, "auth_data", None), "login") else "-"
        head = "X-Envelope-From: %s\nX-Envelope-To: %s\nX-Auth-Login: %s\n" % (envelope.mail_from, ",".join(envelope.rcpt_tos), login)
        path = os.path.join(out, "%d.eml" % next(n))
        with open(path + ".tmp", "wb") as f:
            f.write(head.encode() + envelope.original_content)
        os.rename(path + ".tmp", path)
        return "250 OK"
def auth(server, session, envelope, mechanism, data):
    ok = data.login.decode() == user and data.password.decode() == password
    return AuthResult(success=ok, auth_data=data)
kw = {}
if user:
    kw = dict(authenticator=auth, auth_require_tls=False, auth_required=True)
c = Controller(Handler(), hostname="127.0.0.1", port=port, **kw)
c.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
"#;

impl Smtp {
    /// Starts the server; with `auth`, it requires AUTH with that (user, password).
    pub fn start(auth: Option<(&str, &str)>) -> Smtp {
        let python = ["/usr/bin/python3", "python3"]
            .into_iter()
            .find(|p| {
                Command::new(p)
                    .args(["-c", "import aiosmtpd"])
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            })
            .unwrap_or_else(|| {
                panic!("python3 with aiosmtpd not found: run .ci/setup.sh (apt-get install python3-aiosmtpd)")
            });
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("mail")).unwrap();
        let script = dir.path().join("smtpd.py");
        std::fs::write(&script, SMTP_SCRIPT).unwrap();
        let port = free_port();
        let (user, password) = auth.unwrap_or(("", ""));
        let log = std::fs::File::create(dir.path().join("smtpd.log")).unwrap();
        let mut child = Command::new(python)
            .arg(&script)
            .arg(dir.path().join("mail"))
            .arg(port.to_string())
            .args([user, password])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start aiosmtpd");
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let _ = out.read_line(&mut line);
        let smtp = Smtp { port, child, dir };
        assert_eq!(
            line.trim(),
            "ready",
            "aiosmtpd did not start: {}",
            smtp.log()
        );
        smtp
    }

    /// The messages received so far, in order.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("mail"))
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort_by_key(|p| {
            p.file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.parse::<u32>().ok())
        });
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    /// The server's stderr, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("smtpd.log")).unwrap_or_default()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
