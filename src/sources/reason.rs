//! The short reasons the probes give for a failure, so every probe words the same failure
//! the same way ("timed out after 2s", "connection refused").

use std::io;
use std::time::Duration;

/// Slack on top of a probe's own deadline, so the probe's reason ("timed out after 2s")
/// reaches the caller before an outer runner's deadline fires.
pub(super) const GRACE: Duration = Duration::from_millis(250);

/// Longest reason we keep; reasons are one short line.
const MAX_REASON: usize = 200;

/// "timed out after 2s", with the configured duration written the way users write it.
pub(super) fn timed_out(timeout: Duration) -> String {
    format!("timed out after {}", humantime::format_duration(timeout))
}

/// One-line reason for an I/O error, without the "(os error N)" suffix.
pub(super) fn io_reason(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::ConnectionReset => "connection reset".into(),
        _ => one_line(&err.to_string()),
    }
}

/// First non-empty line of `text`, trimmed, without an "(os error N)" suffix, and capped
/// at a couple of hundred characters.
pub(super) fn one_line(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let line = match line.rfind(" (os error ") {
        Some(i) if line.ends_with(')') => &line[..i],
        _ => line,
    };
    match line.char_indices().nth(MAX_REASON) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_one_clean_line() {
        let e = io::Error::from_raw_os_error(2);
        assert_eq!(io_reason(&e), "No such file or directory");
        assert_eq!(one_line("\n  first \nsecond"), "first");
        assert_eq!(one_line(&"x".repeat(500)).chars().count(), MAX_REASON + 1);
        assert_eq!(
            timed_out(Duration::from_millis(300)),
            "timed out after 300ms"
        );
        assert_eq!(timed_out(Duration::from_secs(2)), "timed out after 2s");
    }
}
