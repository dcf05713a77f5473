//! Log probe: counts lines matching patterns that appeared in a log file since the previous
//! sample (or in a command's output, run each tick), so a rule can gate on error or
//! security-event spikes. Ships pattern packs for common attacks and auth failures.

use super::{one_reading, Probe, Shared, Source};
use crate::model::{Reading, Sample};
use crate::units as dur;
use futures::future::BoxFuture;
use regex::RegexSet;
use serde::Deserialize;
use std::io::{Read, Seek, SeekFrom};
use std::sync::Mutex;
use std::time::Duration;

/// `probe: { log: { path: /var/log/app.log, patterns: ["ERROR"], packs: [sql_injection] } }`
/// or `probe: { log: { command: [journalctl, -u, app, --since, -30s], packs: [auth_failure] } }`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogProbe {
    /// The file to follow; only lines appended since the previous sample count.
    pub path: Option<String>,
    /// Or a command (argv, no shell) whose whole output is scanned each tick.
    pub command: Option<Vec<String>>,
    /// Regular expressions (Rust `regex` syntax); a line counts once if any matches.
    #[serde(default)]
    pub patterns: Vec<String>,
    /// Built-in pattern packs added to `patterns`.
    #[serde(default)]
    pub packs: Vec<PatternPack>,
    #[serde(default = "default_timeout", deserialize_with = "dur::duration")]
    pub timeout: Duration,
}

fn default_timeout() -> Duration {
    Duration::from_secs(5)
}

/// A built-in set of patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternPack {
    SqlInjection,
    Xss,
    PathTraversal,
    CommandInjection,
    AuthFailure,
    /// The four attack packs together (not auth failures).
    Security,
}

impl PatternPack {
    /// The pack's patterns (case-insensitive regexes for raw or URL-encoded request lines).
    pub fn patterns(self) -> Vec<&'static str> {
        match self {
            PatternPack::SqlInjection => vec![
                r"(?i)union(\s|%20|\+|/\*.*?\*/)+(all(\s|%20|\+)+)?select\b",
                r"(?i)('|%27)(\s|%20|\+)*(or|and)(\s|%20|\+)+('|%27)?\w*('|%27)?(\s|%20|\+)*(=|%3d|like)",
                r"(?i)(\b|%20|\+)(or|and)(\s|%20|\+)+1(\s|%20|\+)*(=|%3d)(\s|%20|\+)*1\b",
                r"(?i)(;|%3b)(\s|%20|\+)*(drop|delete|insert|update|truncate)(\s|%20|\+)+",
                r"(?i)\b(sleep|benchmark|pg_sleep|waitfor(\s|%20|\+)+delay)(\s|%20|\+)*\(",
                r"(?i)\binformation_schema\b|\bxp_cmdshell\b",
            ],
            PatternPack::Xss => vec![
                r"(?i)(<|%3c)(\s|%20)*script",
                r"(?i)javascript(:|%3a)",
                r"(?i)(\b|%20)on(error|load|mouseover|focus|click)(\s|%20)*(=|%3d)",
                r"(?i)(<|%3c)(\s|%20)*(iframe|svg|img|object|embed)\b[^>]*(on\w+|src)(\s|%20)*(=|%3d)",
                r"(?i)document\.(cookie|location)|\balert(\(|%28)",
            ],
            PatternPack::PathTraversal => vec![
                r"(?i)(\.\.|%2e%2e|%252e%252e)(/|\\|%2f|%5c|%252f)",
                r"(?i)/etc/(passwd|shadow|hosts)\b",
                r"(?i)(c:|%5c)(\\|%5c)windows(\\|%5c)",
            ],
            PatternPack::CommandInjection => vec![
                r"(?i)(;|\||%3b|%7c|&&|%26%26)(\s|%20|\+)*(cat|ls|id|whoami|uname|wget|curl|nc|bash|sh|python|perl)\b",
                r"(?i)(\$\(|%24%28|`)(\s|%20)*(cat|ls|id|whoami|uname|wget|curl)\b",
                r"(?i)/bin/(ba)?sh\b",
            ],
            PatternPack::AuthFailure => vec![
                r"(?i)\b(authentication|auth|login|logon|sign-?in)\b.{0,40}\b(fail(ed|ure)?|denied|invalid|rejected)\b",
                r"(?i)\b(invalid|wrong|bad|incorrect)\b.{0,20}\b(password|credentials|token|user(name)?)\b",
                r"(?i)\bFailed password for\b|\bInvalid user\b",
                r#"(?i)"\s*(POST|GET)\s+\S*(login|signin|auth|token)\S*\s+HTTP/[0-9.]+"\s+(401|403)\b"#,
                r"(?i)\bstatus[=: ]+(401|403)\b",
            ],
            PatternPack::Security => [
                PatternPack::SqlInjection,
                PatternPack::Xss,
                PatternPack::PathTraversal,
                PatternPack::CommandInjection,
            ]
            .iter()
            .flat_map(|p| p.patterns())
            .collect(),
        }
    }
}

impl LogProbe {
    /// Every pattern, packs included, compiled; the error names the bad pattern.
    pub fn compile(&self) -> Result<RegexSet, String> {
        let mut all: Vec<String> = self.patterns.clone();
        for p in &self.packs {
            all.extend(p.patterns().into_iter().map(String::from));
        }
        if all.is_empty() {
            return Err("log needs `patterns` or `packs`".into());
        }
        for p in &all {
            regex::Regex::new(p).map_err(|e| format!("log pattern `{p}`: {e}"))?;
        }
        RegexSet::new(&all).map_err(|e| e.to_string())
    }
}

impl Probe for LogProbe {
    fn unit(&self) -> Option<&'static str> {
        Some("matching lines")
    }

    /// Config check: exactly one of `path` / `command`, and patterns that compile.
    fn validate(&self) -> Result<(), String> {
        match (&self.path, &self.command) {
            (Some(_), Some(_)) => {
                return Err("log: give either `path` or `command`, not both".into())
            }
            (None, None) => return Err("log needs a `path` or a `command`".into()),
            (None, Some(c)) if c.first().is_none_or(|p| p.trim().is_empty()) => {
                return Err("log.command needs at least the program to run".into())
            }
            _ => {}
        }
        self.compile().map(|_| ())
    }

    fn build(&self, _shared: &Shared) -> Box<dyn Source> {
        Box::new(LogSource::new(self.clone()))
    }
}

/// Number of lines of `text` matching any pattern.
pub fn count_matches(set: &RegexSet, text: &str) -> usize {
    text.lines().filter(|l| set.is_match(l)).count()
}

/// The running log probe: remembers how far into the file it has read.
pub struct LogSource {
    spec: LogProbe,
    set: Option<RegexSet>,
    offset: Mutex<Option<u64>>,
}

/// The most a log probe's command may print per reading.
const MAX_OUTPUT: usize = 8 << 20;

impl LogSource {
    /// Builds the probe (patterns were validated with the config).
    pub fn new(spec: LogProbe) -> Self {
        let set = spec.compile().ok();
        LogSource {
            spec,
            set,
            offset: Mutex::new(None),
        }
    }

    /// Counts matching lines appended to `path` since the previous call. The first call
    /// starts at the end of the file and reports 0; a file that shrank (rotated,
    /// truncated) is read again from its start.
    fn follow(&self, path: &str, set: &RegexSet) -> Reading {
        let mut f = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => return Reading::Missing(format!("cannot open {path}: {e}")),
        };
        let len = match f.metadata() {
            Ok(m) => m.len(),
            Err(e) => return Reading::Missing(format!("cannot stat {path}: {e}")),
        };
        let mut offset = self.offset.lock().unwrap_or_else(|e| e.into_inner());
        let from = match *offset {
            None => {
                *offset = Some(len);
                return Reading::Value(0.0);
            }
            Some(o) if o > len => 0,
            Some(o) => o,
        };
        let mut buf = Vec::new();
        if let Err(e) = f
            .seek(SeekFrom::Start(from))
            .and_then(|_| f.take(len - from).read_to_end(&mut buf))
        {
            return Reading::Missing(format!("cannot read {path}: {e}"));
        }
        // Only whole lines count; a partial last line is read again next time.
        let whole = buf.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        *offset = Some(from + whole as u64);
        Reading::Value(count_matches(set, &String::from_utf8_lossy(&buf[..whole])) as f64)
    }

    async fn run_command(&self, argv: &[String], set: &RegexSet) -> Reading {
        let Some((program, args)) = argv.split_first() else {
            return Reading::Missing("empty command".into());
        };
        let child = tokio::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => return Reading::Missing(format!("cannot run {program}: {e}")),
        };
        // Read at most MAX_OUTPUT bytes: a command that never stops (`yes`) must not grow
        // this process until its timeout.
        let read = async {
            use tokio::io::AsyncReadExt;
            let mut kept = Vec::new();
            if let Some(out) = child.stdout.take() {
                out.take(MAX_OUTPUT as u64 + 1)
                    .read_to_end(&mut kept)
                    .await?;
            }
            if kept.len() > MAX_OUTPUT {
                return Ok((None, kept));
            }
            child.wait().await.map(|s| (Some(s), kept))
        };
        match tokio::time::timeout(self.spec.timeout, read).await {
            Err(_) => Reading::Missing(format!("timed out after {:?}", self.spec.timeout)),
            Ok(Err(e)) => Reading::Missing(format!("cannot run {program}: {e}")),
            Ok(Ok((None, _))) => Reading::Missing(format!(
                "{program} printed more than {MAX_OUTPUT} bytes: not counted"
            )),
            Ok(Ok((Some(status), _))) if !status.success() => {
                Reading::Missing(format!("{program} exited with {status}"))
            }
            Ok(Ok((Some(_), out))) => {
                let text = String::from_utf8_lossy(&out);
                Reading::Value(count_matches(set, &text) as f64)
            }
        }
    }
}

impl LogSource {
    /// Takes one reading now, within the probe's own timeout.
    pub fn read(&self) -> BoxFuture<'_, Reading> {
        Box::pin(async move {
            let Some(set) = &self.set else {
                return Reading::Missing("invalid log patterns".into());
            };
            match (&self.spec.path, &self.spec.command) {
                (Some(p), _) => self.follow(p, set),
                (None, Some(argv)) => self.run_command(argv, set).await,
                (None, None) => Reading::Missing("log probe without path or command".into()),
            }
        })
    }
}

impl Source for LogSource {
    fn sample<'a>(&'a self, metric: &'a str) -> BoxFuture<'a, Vec<Sample>> {
        one_reading(metric, self.read())
    }

    fn timeout(&self) -> Duration {
        self.spec.timeout
    }
}

#[cfg(test)]
#[path = "log_tests.rs"]
mod tests;
