//! The purpose-built JSON server of the `web` backend tests (tests/web/server.py, Python's
//! standard library) on 127.0.0.1, plain, TLS or mutual TLS, with certificates made by
//! `openssl` at test time. Killed on drop. A missing `python3` or `openssl` FAILS the test
//! with a message naming .ci/setup.sh; nothing is skipped.

use super::prometheus::free_port;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The secrets the server expects; a test asserts none of them is ever printed.
pub const API_KEY: &str = "k3y-9d2e";
pub const PASSWORD: &str = "pa55-w0rd-61";
pub const BEARER: &str = "s3cr3t-bearer-77";
pub const CLIENT_SECRET: &str = "cl1ent-s3cret-42";
pub const ACCESS_TOKEN: &str = "acc3ss-t0ken-5150";

/// A running tests/web/server.py.
pub struct JsonServer {
    pub port: u16,
    pub scheme: &'static str,
    child: Child,
}

impl JsonServer {
    /// Plain HTTP.
    pub fn start() -> JsonServer {
        JsonServer::launch(&[], "http")
    }

    /// HTTPS with `pki`'s server certificate; with `mutual`, clients must present a
    /// certificate signed by `pki`'s CA.
    pub fn tls(pki: &Pki, mutual: bool) -> JsonServer {
        let mut args = vec![
            "--cert".to_string(),
            pki.path("server.pem"),
            "--key".into(),
            pki.path("server.key"),
        ];
        if mutual {
            args.extend(["--client-ca".to_string(), pki.path("ca.pem")]);
        }
        JsonServer::launch(&args, "https")
    }

    fn launch(args: &[String], scheme: &'static str) -> JsonServer {
        let port = free_port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/web/server.py");
        let child = Command::new("python3")
            .arg(&script)
            .args(["--port", &port.to_string()])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start python3 {} ({e}): run .ci/setup.sh",
                    script.display()
                )
            });
        let server = JsonServer {
            port,
            scheme,
            child,
        };
        let until = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < until,
                "tests/web/server.py did not listen on 127.0.0.1:{port} within 15s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// `scheme://127.0.0.1:port/path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}://127.0.0.1:{}{path}", self.scheme, self.port)
    }

    /// GET `path` on a plain server, the JSON answer.
    pub fn get(&self, path: &str) -> serde_json::Value {
        let body = super::prometheus::http_get(self.port, path)
            .unwrap_or_else(|| panic!("GET {path} on 127.0.0.1:{} failed", self.port));
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
    }
}

impl Drop for JsonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, made by `openssl`.
pub struct Pki {
    pub dir: tempfile::TempDir,
}

impl Pki {
    pub fn new() -> Pki {
        let dir = tempfile::tempdir().expect("temp dir");
        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .output()
                .unwrap_or_else(|e| panic!("cannot run openssl ({e}): run .ci/setup.sh"));
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let mut ca = vec![
            "req",
            "-x509",
            "-days",
            "2",
            "-subj",
            "/CN=vz-monitor test CA",
        ];
        ca.extend(ec);
        ca.extend([
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        run(&ca);
        for (name, cn, usage, san) in [
            (
                "server",
                "127.0.0.1",
                "serverAuth",
                "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
            ),
            ("client", "vz-client", "clientAuth", ""),
        ] {
            let mut req = vec!["req", "-subj"];
            let subj = format!("/CN={cn}");
            req.push(&subj);
            req.extend(ec);
            let (key, csr, pem, ext) = (
                format!("{name}.key"),
                format!("{name}.csr"),
                format!("{name}.pem"),
                format!("{name}.ext"),
            );
            req.extend(["-keyout", &key, "-out", &csr]);
            run(&req);
            std::fs::write(
                dir.path().join(&ext),
                format!("basicConstraints=CA:FALSE\nextendedKeyUsage={usage}\n{san}"),
            )
            .unwrap();
            run(&[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-out",
                &pem,
                "-extfile",
                &ext,
            ]);
        }
        Pki { dir }
    }

    /// The absolute path of one of its files (`ca.pem`, `client.key` …).
    pub fn path(&self, file: &str) -> String {
        let p: PathBuf = self.dir.path().join(file);
        p.display().to_string()
    }
}
