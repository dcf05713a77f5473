//! A real PostgreSQL for the tests: Debian's `postgresql` binaries (`.ci/setup.sh` installs
//! them), `initdb` into a temp dir as a non-root user (created with `useradd` when the tests
//! run as root), started on a random loopback port, stopped when dropped. A server that
//! cannot start fails the test with the reason, never skips it.

use super::prometheus::free_port;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The user the server runs as when the tests run as root (initdb refuses root).
const SERVICE_USER: &str = "vz-pg-test";

/// A running PostgreSQL server.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_user: Option<&'static str>,
}

/// The newest `/usr/lib/postgresql/*/bin` holding `initdb`.
fn bin_dir() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, b)| b).unwrap_or_else(|| {
        panic!("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run .ci/setup.sh (Debian package `postgresql`)")
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Makes sure the unprivileged service user exists (as root only).
fn ensure_user() {
    let exists = Command::new("id")
        .arg(SERVICE_USER)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !exists {
        let out = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ])
            .output()
            .expect("run useradd");
        // Another test may have created it at the same moment.
        let again = Command::new("id")
            .arg(SERVICE_USER)
            .output()
            .map(|o| o.status.success());
        assert!(
            out.status.success() || again.unwrap_or(false),
            "cannot create the PostgreSQL test user {SERVICE_USER}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Postgres {
    /// initdb, start, wait until it accepts connections (at most 60 s).
    pub fn start() -> Postgres {
        let bin = bin_dir();
        let dir = tempfile::tempdir().expect("temp dir for PostgreSQL");
        let as_user = if is_root() {
            ensure_user();
            let out = Command::new("chown")
                .args([SERVICE_USER, &dir.path().display().to_string()])
                .output()
                .expect("run chown");
            assert!(
                out.status.success(),
                "chown of the PostgreSQL temp dir failed"
            );
            Some(SERVICE_USER)
        } else {
            None
        };
        let pg = Postgres {
            dir,
            bin,
            port: free_port(),
            as_user,
        };
        let data = pg.data();
        pg.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "vz",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            ],
        );
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200",
            pg.port,
            pg.dir.path().display()
        );
        let log = pg.dir.path().join("postgres.log").display().to_string();
        pg.run(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-o", &opts, "-w", "-t", "60", "start",
            ],
        );
        let start = Instant::now();
        loop {
            let ready = pg
                .command(
                    "pg_isready",
                    &["-h", "127.0.0.1", "-p", &pg.port.to_string()],
                )
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
            if ready {
                return pg;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "PostgreSQL did not accept connections within 60 s: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn command(&self, tool: &str, args: &[&str]) -> Command {
        let exe = self.bin.join(tool);
        match self.as_user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(exe).args(args);
                c
            }
            None => {
                let mut c = Command::new(exe);
                c.args(args);
                c
            }
        }
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let out = self
            .command(tool, args)
            .current_dir(Path::new("/"))
            .output()
            .unwrap_or_else(|e| panic!("cannot run {tool}: {e}"));
        assert!(
            out.status.success(),
            "PostgreSQL test server: {tool} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A URL for database `name`, created empty on first use.
    pub fn url(&self, name: &str) -> String {
        let out = self
            .command(
                "createdb",
                &[
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &self.port.to_string(),
                    "-U",
                    "vz",
                    name,
                ],
            )
            .output()
            .expect("run createdb");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() || err.contains("already exists"),
            "createdb {name}: {err}"
        );
        format!("postgres://vz@127.0.0.1:{}/{name}", self.port)
    }

    /// Runs one SQL statement through psql and returns its unaligned output.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = self
            .command(
                "psql",
                &[
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &self.port.to_string(),
                    "-U",
                    "vz",
                    "-d",
                    db,
                    "-At",
                    "-c",
                    sql,
                ],
            )
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"])
            .output();
    }
}
