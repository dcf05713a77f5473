//! A REAL CloudWatch API for the integration tests: `moto_server` (PyPI `moto[server]`, in
//! the CI venv) on a free 127.0.0.1 port, in IAM mode: after the three unauthenticated calls
//! that create a user, its access key and an allow-all policy, every request must carry a
//! valid SigV4 signature of a known key (moto recomputes it with botocore and answers
//! `SignatureDoesNotMatch` / `InvalidClientTokenId` otherwise). One server per test binary
//! ([`Moto::shared`]); each test uses its own namespace. A missing moto_server FAILS the
//! test naming .ci/setup.sh.

use super::daemon::{kept_dir, unique, Daemon};
use super::prometheus::{encode, free_port};
use super::servers::binary;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use vz_monitor::backends::cloudwatch::sigv4;

/// One datapoint to put: metric name, dimensions, value, Unix seconds.
pub type Datum<'a> = (&'a str, &'a [(&'a str, &'a str)], f64, i64);

/// The region the tests sign for.
pub const REGION: &str = "us-east-1";

/// A running moto_server and the key pair it accepts.
pub struct Moto {
    pub port: u16,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// How long it took to answer and hand out the key.
    pub started_in: Duration,
    _daemon: Daemon,
}

/// moto_server: on PATH, else in the CI venv.
pub fn moto_binary() -> std::path::PathBuf {
    binary(
        &["moto_server"],
        &["/opt/vz-monitor-ci-venv/bin/moto_server"],
        "python3-venv; pip install 'moto[server]' into /opt/vz-monitor-ci-venv",
    )
}

impl Moto {
    /// The one moto_server of this test binary, started on first use.
    pub fn shared() -> &'static Moto {
        static ONE: OnceLock<Moto> = OnceLock::new();
        ONE.get_or_init(|| Moto::start_in(&kept_dir("vz-moto-"), true))
    }

    /// A moto_server of its own (killed on drop), logging in `dir`.
    pub fn start(dir: &Path) -> Moto {
        Moto::start_in(dir, false)
    }

    fn start_in(dir: &Path, shared: bool) -> Moto {
        let bin = moto_binary();
        let port = free_port();
        let started = Instant::now();
        let args: Vec<String> = vec![
            "-H".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string(),
        ];
        // The first three actions (user, key, policy) go unauthenticated; every later one is
        // checked against IAM, signature included.
        let env = [("INITIAL_NO_AUTH_ACTION_COUNT", "3".to_string())];
        let log = dir.join("moto.out");
        let mut daemon = if shared {
            Daemon::start_shared("moto_server", &bin, &args, &env, dir, &log)
        } else {
            Daemon::start("moto_server", &bin, &args, &env, &log)
        };
        daemon.wait_until(Duration::from_secs(30), || {
            request(port, "GET", "/moto-api/", &[], "").is_some_and(|(s, _)| s == 200)
        });
        let iam = |form: String| {
            let auth = format!(
                "AWS4-HMAC-SHA256 Credential=AKIDSETUP/20200101/{REGION}/iam/aws4_request, SignedHeaders=host, Signature=0"
            );
            let headers = [
                ("Authorization", auth.as_str()),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ];
            let (status, body) = request(port, "POST", "/", &headers, &form).expect("moto answers");
            assert_eq!(status, 200, "moto IAM setup: {body}");
            body
        };
        iam("Action=CreateUser&UserName=vz&Version=2010-05-08".into());
        let key = iam("Action=CreateAccessKey&UserName=vz&Version=2010-05-08".into());
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        iam(format!(
            "Action=PutUserPolicy&UserName=vz&PolicyName=all&Version=2010-05-08&PolicyDocument={}",
            encode(policy)
        ));
        let between = |open: &str, close: &str| {
            let start = key
                .find(open)
                .map(|i| i + open.len())
                .expect("key in answer");
            key[start..start + key[start..].find(close).unwrap()].to_string()
        };
        Moto {
            port,
            access_key_id: between("<AccessKeyId>", "</AccessKeyId>"),
            secret_access_key: between("<SecretAccessKey>", "</SecretAccessKey>"),
            started_in: started.elapsed(),
            _daemon: daemon,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment of a vz-monitor that signs with this server's key.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", self.access_key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.secret_access_key.clone()),
            ("AWS_REGION", REGION.to_string()),
        ]
    }

    /// A namespace no other test uses.
    pub fn namespace(&self) -> String {
        unique("T")
    }

    /// Calls a CloudWatch JSON-protocol operation, signed; returns (status, body).
    pub fn call(&self, operation: &str, body: &serde_json::Value) -> (u16, String) {
        self.call_as(
            &self.access_key_id,
            &self.secret_access_key,
            operation,
            body,
        )
    }

    /// [`Moto::call`] signed with another key pair (a wrong secret, an unknown key).
    pub fn call_as(
        &self,
        access_key_id: &str,
        secret_access_key: &str,
        operation: &str,
        body: &serde_json::Value,
    ) -> (u16, String) {
        let body = body.to_string();
        let host = format!("127.0.0.1:{}", self.port);
        let target = format!("GraniteServiceVersion20100801.{operation}");
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), host),
            ("content-type".into(), "application/x-amz-json-1.0".into()),
            ("x-amz-target".into(), target),
        ];
        let creds = sigv4::Credentials {
            access_key_id: access_key_id.to_string(),
            secret_access_key: secret_access_key.to_string(),
            session_token: None,
        };
        let req = sigv4::Request {
            method: "POST",
            path: "/",
            query: &[],
            headers: &headers,
            body: body.as_bytes(),
        };
        let now = chrono::Utc::now().timestamp();
        let added = sigv4::sign(&req, &creds, REGION, "monitoring", now);
        headers.extend(added);
        let refs: Vec<(&str, &str)> = headers
            .iter()
            .filter(|(k, _)| k != "host")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        request(self.port, "POST", "/", &refs, &body).expect("moto answers")
    }

    /// Puts `(metric, dimensions, value, unix seconds)` points into `namespace`.
    pub fn put(&self, namespace: &str, points: &[Datum]) {
        for chunk in points.chunks(500) {
            let data: Vec<serde_json::Value> = chunk
                .iter()
                .map(|(m, dims, v, t)| {
                    let dims: Vec<serde_json::Value> = dims
                        .iter()
                        .map(|(k, v)| serde_json::json!({"Name": k, "Value": v}))
                        .collect();
                    serde_json::json!({"MetricName": m, "Dimensions": dims, "Value": v, "Timestamp": t})
                })
                .collect();
            let (status, body) = self.call(
                "PutMetricData",
                &serde_json::json!({"Namespace": namespace, "MetricData": data}),
            );
            assert_eq!(status, 200, "PutMetricData: {body}");
        }
    }
}

/// A plain HTTP/1.0 request on loopback with extra headers; returns (status, body).
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let (head, body) = out.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}
