//! Command probe: run a program (no shell); its stdout must be exactly one finite number.

use super::reason::{io_reason, one_line, timed_out, GRACE};
use super::{default_timeout, one_reading, Probe, Shared, Source};
use crate::model::{Reading, Sample};
use crate::units as dur;
use futures::future::BoxFuture;
use serde::Deserialize;
use std::io;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

/// `probe: { command: ["./queue-depth.sh", "--json"] }` or
/// `probe: { command: { argv: [...], timeout: 10s } }`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum CommandProbe {
    Argv(Vec<String>),
    Full {
        argv: Vec<String>,
        #[serde(default = "default_timeout", deserialize_with = "dur::duration")]
        timeout: Duration,
    },
}

impl CommandProbe {
    /// The program and its arguments.
    pub fn argv(&self) -> &[String] {
        match self {
            CommandProbe::Argv(a) | CommandProbe::Full { argv: a, .. } => a,
        }
    }

    /// How long the program may run.
    pub fn timeout(&self) -> Duration {
        match self {
            CommandProbe::Argv(_) => default_timeout(),
            CommandProbe::Full { timeout, .. } => *timeout,
        }
    }
}

impl Probe for CommandProbe {
    fn validate(&self) -> Result<(), String> {
        if self.argv().is_empty() || self.argv()[0].trim().is_empty() {
            return Err("command needs at least the program to run".into());
        }
        Ok(())
    }

    fn build(&self, _shared: &Shared) -> Box<dyn Source> {
        Box::new(CommandSource::new(self.clone()))
    }
}

/// Most of stdout/stderr we keep; the rest is drained and dropped so the child never blocks.
const OUTPUT_LIMIT: u64 = 64 * 1024;

/// Longest piece of bad stdout quoted back in a reason.
const QUOTE_LIMIT: usize = 60;

/// Runs one command per sample and reads one number from its stdout.
pub struct CommandSource {
    spec: CommandProbe,
}

impl CommandSource {
    /// Creates the probe; nothing runs until `sample`.
    pub fn new(spec: CommandProbe) -> Self {
        Self { spec }
    }

    async fn run(&self) -> Reading {
        let Some((program, args)) = self.spec.argv().split_first() else {
            return Reading::Missing("empty command".into());
        };
        let mut child = match Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
        {
            Ok(child) => child,
            Err(e) => return Reading::Missing(format!("cannot run {program}: {}", io_reason(&e))),
        };
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();

        let timeout = self.spec.timeout();
        let finished = tokio::time::timeout(timeout, async {
            tokio::join!(read_capped(stdout), read_capped(stderr), child.wait())
        })
        .await;
        let (stdout, stderr, status) = match finished {
            Ok(outputs) => outputs,
            Err(_) => {
                // kill_on_drop would do it too; killing now frees the process right away.
                let _ = child.start_kill();
                return Reading::Missing(timed_out(timeout));
            }
        };

        let status = match status {
            Ok(status) => status,
            Err(e) => return Reading::Missing(format!("waiting for {program}: {}", io_reason(&e))),
        };
        if !status.success() {
            let stderr = stderr.unwrap_or_default();
            let first = one_line(&String::from_utf8_lossy(&stderr));
            return Reading::Missing(if first.is_empty() {
                exit_reason(status)
            } else {
                format!("{}: {first}", exit_reason(status))
            });
        }
        match stdout {
            Ok(out) => parse_number(&String::from_utf8_lossy(&out)),
            Err(e) => Reading::Missing(format!("reading stdout: {}", io_reason(&e))),
        }
    }
}

impl CommandSource {
    /// Takes one reading now, within the probe's own timeout.
    pub fn read(&self) -> BoxFuture<'_, Reading> {
        Box::pin(self.run())
    }
}

impl Source for CommandSource {
    fn sample<'a>(&'a self, metric: &'a str) -> BoxFuture<'a, Vec<Sample>> {
        one_reading(metric, self.read())
    }

    fn timeout(&self) -> Duration {
        self.spec.timeout() + GRACE
    }
}

/// Reads up to `OUTPUT_LIMIT` bytes of a pipe, then drains the rest to EOF.
async fn read_capped<R: AsyncRead + Unpin>(pipe: Option<R>) -> io::Result<Vec<u8>> {
    let mut kept = Vec::new();
    if let Some(mut pipe) = pipe {
        (&mut pipe)
            .take(OUTPUT_LIMIT)
            .read_to_end(&mut kept)
            .await?;
        tokio::io::copy(&mut pipe, &mut tokio::io::sink()).await?;
    }
    Ok(kept)
}

/// "exit status 3", or how the process died when it has no exit code (a signal).
fn exit_reason(status: ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("exit status {code}"),
        None => status.to_string(),
    }
}

/// One finite number, surrounded by whitespace at most; anything else is `missing`.
fn parse_number(stdout: &str) -> Reading {
    let text = stdout.trim();
    if text.is_empty() {
        return Reading::Missing("stdout is empty".into());
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Reading::Value(v),
        _ => {
            let quoted: String = text.chars().take(QUOTE_LIMIT).collect();
            let more = if quoted.len() < text.len() { "…" } else { "" };
            Reading::Missing(format!("stdout is not a number: {quoted:?}{more}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> CommandSource {
        CommandSource::new(CommandProbe::Argv(vec![
            "sh".into(),
            "-c".into(),
            script.into(),
        ]))
    }

    #[tokio::test]
    async fn number_on_stdout_is_a_value() {
        assert_eq!(sh("echo 42.5").read().await, Reading::Value(42.5));
        assert_eq!(
            sh("printf '  -3e2 \\n\\n'").read().await,
            Reading::Value(-300.0)
        );
    }

    #[tokio::test]
    async fn non_zero_exit_is_missing_with_stderr() {
        assert_eq!(
            sh("echo 7; echo 'queue unreachable' >&2; echo more >&2; exit 3")
                .read()
                .await,
            Reading::Missing("exit status 3: queue unreachable".into())
        );
        assert_eq!(
            sh("exit 1").read().await,
            Reading::Missing("exit status 1".into())
        );
    }

    #[tokio::test]
    async fn garbage_is_missing() {
        assert_eq!(
            sh("echo abc").read().await,
            Reading::Missing("stdout is not a number: \"abc\"".into())
        );
        for script in [
            "echo NaN",
            "echo inf",
            "echo -infinity",
            "echo 1 2",
            "printf '1\\n2'",
        ] {
            match sh(script).read().await {
                Reading::Missing(r) => assert!(r.starts_with("stdout is not a number"), "{r}"),
                other => panic!("{script}: expected missing, got {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn empty_output_is_missing() {
        assert_eq!(
            sh("true").read().await,
            Reading::Missing("stdout is empty".into())
        );
    }

    #[tokio::test]
    async fn slow_command_is_killed_and_missing() {
        let source = CommandSource::new(CommandProbe::Full {
            argv: vec!["sleep".into(), "10".into()],
            timeout: Duration::from_millis(300),
        });
        // Generous outer bound: only catches a probe that ignores its own timeout.
        let reading = tokio::time::timeout(source.timeout() * 5, source.read())
            .await
            .expect("sample must respect its timeout");
        assert_eq!(reading, Reading::Missing("timed out after 300ms".into()));
    }

    #[tokio::test]
    async fn missing_program_is_missing() {
        let source = CommandSource::new(CommandProbe::Argv(vec!["./no-such-probe-x".into()]));
        assert_eq!(
            source.read().await,
            Reading::Missing("cannot run ./no-such-probe-x: No such file or directory".into())
        );
        let empty = CommandSource::new(CommandProbe::Argv(vec![]));
        assert_eq!(empty.read().await, Reading::Missing("empty command".into()));
    }

    #[tokio::test]
    async fn no_shell_is_involved() {
        // Passed as one argv element, `$HOME` reaches echo literally.
        let source = CommandSource::new(CommandProbe::Argv(vec!["echo".into(), "$HOME".into()]));
        assert_eq!(
            source.read().await,
            Reading::Missing("stdout is not a number: \"$HOME\"".into())
        );
    }

    #[tokio::test]
    async fn large_output_does_not_block_the_child() {
        // 1 MiB of noise on stderr, then a number: the child must not stall on a full pipe.
        let reading = sh("head -c 1048576 /dev/zero >&2; echo 5").read().await;
        assert_eq!(reading, Reading::Value(5.0));
    }
}
