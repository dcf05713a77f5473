//! A REAL InfluxDB 1.x (Debian's `influxdb`, `influxd`) for the integration tests, on free
//! 127.0.0.1 ports with its data in a temp dir, authentication ON (one admin user, so a wrong
//! password is a real 401). One server per test binary ([`InfluxDb::shared`]); each test
//! writes to its own database. A missing package FAILS the test naming .ci/setup.sh.

use super::daemon::{kept_dir, unique, Daemon};
use super::prometheus::{encode, free_port};
use super::servers::binary;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The admin user every test authenticates as.
pub const USER: &str = "vzadmin";
/// Its password (a test checks it never appears in any output).
pub const PASSWORD: &str = "s3cret-influx-pw";

/// A running influxd.
pub struct InfluxDb {
    pub port: u16,
    /// How long it took to answer `/ping` and accept the admin user.
    pub started_in: Duration,
    _daemon: Daemon,
}

impl InfluxDb {
    /// The one InfluxDB of this test binary, started on first use.
    pub fn shared() -> &'static InfluxDb {
        static ONE: OnceLock<InfluxDb> = OnceLock::new();
        ONE.get_or_init(|| InfluxDb::start_in(&kept_dir("vz-influxdb-"), true, ""))
    }

    /// An InfluxDB of its own (killed on drop), in `dir`.
    pub fn start(dir: &Path) -> InfluxDb {
        InfluxDb::start_in(dir, false, "")
    }

    /// An InfluxDB of its own with `http` settings added to its `[http]` section and
    /// `coordinator` settings in its `[coordinator]` section (limits a test needs).
    pub fn start_with(dir: &Path, http: &str, coordinator: &str) -> InfluxDb {
        InfluxDb::start_in(
            dir,
            false,
            &format!("{http}\n[coordinator]\n{coordinator}\n"),
        )
    }

    fn start_in(dir: &Path, shared: bool, extra: &str) -> InfluxDb {
        let influxd = binary(&["influxd"], &["/usr/bin/influxd"], "influxdb");
        let (port, rpc) = (free_port(), free_port());
        let d = dir.display();
        std::fs::write(
            dir.join("influxdb.conf"),
            format!(
                "reporting-disabled = true\nbind-address = \"127.0.0.1:{rpc}\"\n\
                 [meta]\n  dir = \"{d}/meta\"\n\
                 [data]\n  dir = \"{d}/data\"\n  wal-dir = \"{d}/wal\"\n  query-log-enabled = false\n\
                 [retention]\n  enabled = false\n[shard-precreation]\n  enabled = false\n\
                 [monitor]\n  store-enabled = false\n[subscriber]\n  enabled = false\n\
                 [continuous_queries]\n  enabled = false\n[logging]\n  level = \"warn\"\n\
                 [http]\n  bind-address = \"127.0.0.1:{port}\"\n  auth-enabled = true\n  log-enabled = false\n{extra}"
            ),
        )
        .unwrap();
        let started = Instant::now();
        let args = vec!["-config".to_string(), format!("{d}/influxdb.conf")];
        let log = dir.join("influxd.out");
        let mut daemon = if shared {
            Daemon::start_shared("influxd", &influxd, &args, &[], dir, &log)
        } else {
            Daemon::start("influxd", &influxd, &args, &[], &log)
        };
        daemon.wait_until(Duration::from_secs(30), || {
            request(port, "GET", "/ping", "").is_some_and(|(s, _)| s == 204)
        });
        // With no user yet, InfluxDB accepts exactly this statement unauthenticated.
        let (status, body) = request(
            port,
            "POST",
            &format!(
                "/query?q={}",
                encode(&format!(
                    "CREATE USER {USER} WITH PASSWORD '{PASSWORD}' WITH ALL PRIVILEGES"
                ))
            ),
            "",
        )
        .expect("influxd answers");
        assert_eq!(status, 200, "creating the admin user: {body}");
        InfluxDb {
            port,
            started_in: started.elapsed(),
            _daemon: daemon,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A new database no other test uses.
    pub fn database(&self) -> String {
        let db = unique("t");
        self.query(&format!("CREATE DATABASE {db}"));
        db
    }

    /// Runs an InfluxQL statement as the admin; panics unless it answers 200.
    pub fn query(&self, q: &str) -> serde_json::Value {
        let (status, body) = request(
            self.port,
            "POST",
            &format!("/query?u={USER}&p={PASSWORD}&q={}", encode(q)),
            "",
        )
        .expect("influxd answers");
        assert_eq!(status, 200, "{q}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Writes line-protocol `lines` (second precision) into `db`.
    pub fn write(&self, db: &str, lines: &str) {
        let (status, body) = request(
            self.port,
            "POST",
            &format!("/write?db={db}&precision=s&u={USER}&p={PASSWORD}"),
            lines,
        )
        .expect("influxd answers");
        assert_eq!(status, 204, "write: {body}");
    }
}

/// A plain HTTP/1.0 request on loopback; returns (status, body).
pub fn request(port: u16, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let (head, body) = out.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}
