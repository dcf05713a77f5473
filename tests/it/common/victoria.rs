//! A REAL VictoriaMetrics (single-node, Debian's `victoria-metrics`) for the integration
//! tests: a second server speaking the Prometheus HTTP API. It scrapes the test's REAL
//! target itself (`-promscrape.config`), listens on 127.0.0.1 on a free port, keeps its data
//! in a temp dir and is killed on drop. A missing binary or a server that never becomes ready
//! fails the test with a message saying so: it never skips.

use super::prometheus::{encode, free_port, http_get, Target};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `victoria-metrics` binary: on PATH, else /usr/bin/victoria-metrics. Panics (the test
/// FAILS) when there is none.
pub fn victoria_binary() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("victoria-metrics"))
            .find(|p| p.is_file())
    });
    on_path
        .or_else(|| Some(PathBuf::from("/usr/bin/victoria-metrics")).filter(|p| p.is_file()))
        .unwrap_or_else(|| {
            panic!(
                "victoria-metrics not found: run .ci/setup.sh or apt-get install victoria-metrics"
            )
        })
}

/// A running VictoriaMetrics server, killed on drop.
pub struct VictoriaMetrics {
    pub port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl VictoriaMetrics {
    /// Starts VictoriaMetrics on a free loopback port scraping `target` every second as job
    /// `target`, and waits until a query sees the target up.
    pub fn start(target: &Target) -> VictoriaMetrics {
        let bin = victoria_binary();
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("scrape.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: target\n    static_configs:\n      - targets: ['{}']\n",
                target.address()
            ),
        )
        .unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("victoria-metrics.log")).unwrap();
        let child = Command::new(&bin)
            .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
            .arg(format!(
                "-storageDataPath={}",
                dir.path().join("data").display()
            ))
            .arg(format!("-promscrape.config={}", config.display()))
            .arg("-promscrape.config.strictParse")
            // By default the newest 30 s are hidden from queries (data still arriving from
            // remote writers) and answers are cached: a 1 s-tick gate wants "now".
            .arg("-search.latencyOffset=0s")
            .arg("-search.disableCache")
            .arg("-loggerLevel=WARN")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut vm = VictoriaMetrics {
            port,
            child: Some(child),
            dir,
        };
        vm.wait_for("up{job=\"target\"} == 1", Duration::from_secs(30));
        vm
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The result rows of an instant query, or None when the server did not answer.
    pub fn query(&self, promql: &str) -> Option<Vec<serde_json::Value>> {
        let body = http_get(
            self.port,
            &format!("/api/v1/query?query={}", encode(promql)),
        )?;
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        v["data"]["result"].as_array().cloned()
    }

    /// Polls `promql` until it returns at least one series; fails the test with the server's
    /// log after `limit`, or at once if the server exited.
    pub fn wait_for(&mut self, promql: &str, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.query(promql).is_some_and(|r| !r.is_empty()) {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!(
                    "victoria-metrics exited ({status}) before answering; its log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "VictoriaMetrics never returned a series for `{promql}` within {limit:?}; its log:\n{}",
            self.log()
        );
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("victoria-metrics.log")).unwrap_or_default()
    }
}

impl Drop for VictoriaMetrics {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
