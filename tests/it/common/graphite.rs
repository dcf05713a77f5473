//! A REAL Graphite for the integration tests: Debian's `carbon-cache` (graphite-carbon)
//! receiving the plaintext protocol, and Debian's `graphite-web` under `gunicorn` answering
//! `/render`, both on free 127.0.0.1 ports with their whisper files in a temp dir.
//! graphite-web asks carbon's cache (CARBONLINK) for points not yet written, so a point sent
//! is readable at once. One pair per test binary ([`Graphite::shared`]); each test writes
//! under its own prefix. A missing package FAILS the test naming .ci/setup.sh.

use super::daemon::{kept_dir, listening, unique, Daemon};
use super::prometheus::{encode, free_port};
use super::servers::{binary, http};
use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// carbon-cache + graphite-web on loopback.
pub struct Graphite {
    /// graphite-web's HTTP port.
    pub port: u16,
    /// carbon's plaintext (line protocol) port.
    pub line_port: u16,
    /// How long both took to accept requests.
    pub started_in: Duration,
    _carbon: Daemon,
    _web: Daemon,
}

const GRAPHITE_WEB: &str = "/usr/lib/python3/dist-packages/graphite";

impl Graphite {
    /// The one Graphite of this test binary, started on first use.
    pub fn shared() -> &'static Graphite {
        static ONE: OnceLock<Graphite> = OnceLock::new();
        ONE.get_or_init(|| Graphite::start_in(&kept_dir("vz-graphite-"), true))
    }

    /// A Graphite of its own (killed on drop), in `dir`.
    pub fn start(dir: &Path) -> Graphite {
        Graphite::start_in(dir, false)
    }

    fn start_in(dir: &Path, shared: bool) -> Graphite {
        let carbon = binary(
            &["carbon-cache"],
            &["/usr/bin/carbon-cache"],
            "graphite-carbon",
        );
        let gunicorn = binary(
            &["gunicorn", "gunicorn3"],
            &["/usr/bin/gunicorn"],
            "gunicorn",
        );
        assert!(
            Path::new(GRAPHITE_WEB).is_dir(),
            "graphite-web not found at {GRAPHITE_WEB}: run .ci/setup.sh (apt-get install graphite-web)"
        );
        let (port, line_port, pickle, query) = (free_port(), free_port(), free_port(), free_port());
        let d = dir.display();
        for sub in ["whisper", "log", "conf"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        std::fs::write(
            dir.join("conf/carbon.conf"),
            format!(
                "[cache]\nSTORAGE_DIR = {d}/\nLOCAL_DATA_DIR = {d}/whisper/\nCONF_DIR = {d}/conf/\n\
                 LOG_DIR = {d}/log/\nPID_DIR = {d}/\nDATABASE = whisper\nENABLE_LOGROTATION = False\n\
                 MAX_CACHE_SIZE = inf\nMAX_UPDATES_PER_SECOND = 100000\nMAX_CREATES_PER_MINUTE = inf\n\
                 ENABLE_TAGS = False\nLINE_RECEIVER_INTERFACE = 127.0.0.1\nLINE_RECEIVER_PORT = {line_port}\n\
                 ENABLE_UDP_LISTENER = False\nPICKLE_RECEIVER_INTERFACE = 127.0.0.1\n\
                 PICKLE_RECEIVER_PORT = {pickle}\nCACHE_QUERY_INTERFACE = 127.0.0.1\n\
                 CACHE_QUERY_PORT = {query}\n"
            ),
        )
        .unwrap();
        // One-second points kept six hours: a 1 s-tick watch reads what it would in production
        // at a coarser step.
        std::fs::write(
            dir.join("conf/storage-schemas.conf"),
            "[all]\npattern = .*\nretentions = 1s:6h\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("conf/storage-aggregation.conf"),
            "[all]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("vz_graphite_settings.py"),
            format!(
                "SECRET_KEY = 'vz-monitor-test'\nSTORAGE_DIR = '{d}'\nWHISPER_DIR = '{d}/whisper'\n\
                 LOG_DIR = '{d}/log'\nINDEX_FILE = '{d}/index'\nCARBONLINK_HOSTS = ['127.0.0.1:{query}']\n\
                 DEFAULT_XFILES_FACTOR = 0\nDATABASES = {{'default': {{'NAME': '{d}/graphite.db', \
                 'ENGINE': 'django.db.backends.sqlite3'}}}}\n"
            ),
        )
        .unwrap();
        let started = Instant::now();
        let carbon_args: Vec<String> = vec![
            format!("--config={d}/conf/carbon.conf"),
            format!("--pidfile={d}/carbon.pid"),
            "--nodaemon".into(),
            format!("--logdir={d}/log"),
            "start".into(),
        ];
        let web_args: Vec<String> = vec![
            "--bind".into(),
            format!("127.0.0.1:{port}"),
            "--workers".into(),
            "2".into(),
            "--chdir".into(),
            d.to_string(),
            "graphite.wsgi:application".into(),
        ];
        let env = [
            ("PYTHONPATH", d.to_string()),
            (
                "GRAPHITE_SETTINGS_MODULE",
                "vz_graphite_settings".to_string(),
            ),
        ];
        let (carbon_log, web_log) = (dir.join("carbon.out"), dir.join("gunicorn.out"));
        let (mut c, mut w) = if shared {
            (
                Daemon::start_shared("carbon-cache", &carbon, &carbon_args, &[], dir, &carbon_log),
                Daemon::start_shared("graphite-web", &gunicorn, &web_args, &env, dir, &web_log),
            )
        } else {
            (
                Daemon::start("carbon-cache", &carbon, &carbon_args, &[], &carbon_log),
                Daemon::start("graphite-web", &gunicorn, &web_args, &env, &web_log),
            )
        };
        c.wait_until(Duration::from_secs(30), || {
            listening(line_port) && listening(query)
        });
        w.wait_until(Duration::from_secs(30), || {
            http(port, "GET", "/render?target=none&format=json").is_some_and(|(s, _)| s == 200)
        });
        Graphite {
            port,
            line_port,
            started_in: started.elapsed(),
            _carbon: c,
            _web: w,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A metric prefix no other test uses.
    pub fn prefix(&self) -> String {
        unique("t")
    }

    /// Sends `(path, value, unix seconds)` points over carbon's plaintext protocol.
    pub fn send(&self, points: &[(&str, f64, i64)]) {
        let mut s = TcpStream::connect(("127.0.0.1", self.line_port)).expect("carbon line port");
        let text: String = points
            .iter()
            .map(|(p, v, t)| format!("{p} {v} {t}\n"))
            .collect();
        s.write_all(text.as_bytes()).expect("send to carbon");
    }

    /// `/render` JSON for `target` over the last `seconds`.
    pub fn render(&self, target: &str, seconds: u64) -> Option<serde_json::Value> {
        let (status, body) = http(
            self.port,
            "GET",
            &format!(
                "/render?format=json&from=-{seconds}s&target={}",
                encode(target)
            ),
        )?;
        (status == 200).then(|| serde_json::from_str(&body).ok())?
    }

    /// Waits until `target` has a non-null point in the last minute (carbon has it).
    pub fn wait_for(&self, target: &str) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            let seen = self.render(target, 60).is_some_and(|v| {
                v.as_array().is_some_and(|series| {
                    series.iter().any(|s| {
                        s["datapoints"]
                            .as_array()
                            .is_some_and(|p| p.iter().any(|p| p[0].is_number()))
                    })
                })
            });
            if seen {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("graphite never showed a point of `{target}`");
    }
}
