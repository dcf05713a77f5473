//! Helpers of the Pushgateway/Grafana tests: a scratch project, a real Pushgateway, and a
//! plain HTTP GET.

use super::common::config::{GateConfig, HIGH_ERROR_RATE};
use super::common::{logging_rollback, Project};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A project whose error rate goes from 0 to `errors` on the third tick.
pub fn project(errors: &[&str], duration: &str) -> Project {
    let p = Project::new();
    GateConfig::new("200ms", duration)
        .probe("error_rate", &p.series("error_rate", errors))
        .rule(HIGH_ERROR_RATE)
        .rollback(&logging_rollback(p.dir.path()))
        .rollback_field("timeout: 10s")
        .write(&p);
    p
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GET over plain HTTP/1.0 (so no chunked replies); the body if the status is 200.
pub fn http_get(addr: &str, path: &str) -> Option<String> {
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
pub fn sample<'a>(text: &'a str, name: &str, labels: &[&str]) -> Option<&'a str> {
    text.lines()
        .find(|l| l.starts_with(&format!("{name}{{")) && labels.iter().all(|want| l.contains(want)))
}

/// A Pushgateway on a free loopback port, killed on drop.
pub struct Pushgateway {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Pushgateway {
    pub fn start() -> Pushgateway {
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

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn metrics(&self) -> String {
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
