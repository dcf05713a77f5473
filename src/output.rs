//! The one way text reaches stdout and stderr (DESIGN.md "Output that cannot hurt the run").
//!
//! - A closed pipe (`| head`, a dead log shipper) is not an error: writes that fail are
//!   dropped, never a panic, so the gate still decides, rolls back and stores the run.
//! - Every line is sanitized on the way out: ANSI escapes and control characters are
//!   neutralised, and a line that would start with `::` (a GitHub Actions workflow command)
//!   is indented, so no untrusted value — a backend error body, a label, probe output — can
//!   forge an annotation or move the cursor. The GitHub observer writes its own, intended
//!   workflow commands through [`raw_err`] after sanitizing their fields.
//!
//! Use [`outln!`](crate::outln), [`out!`](crate::out) and [`errln!`](crate::errln) instead of
//! `println!`, `print!` and `eprintln!`.

use std::io::Write;

/// Makes `text` safe to print: ESC sequences and C0/C1 control characters other than `\n`
/// and `\t` become visible `\u{..}` escapes (`\r` becomes `\r`), and a line starting with
/// `::` (after optional spaces) is prefixed with a space-free marker so GitHub ignores it.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let clean = sanitize_line(line);
        if clean.trim_start().starts_with("::") {
            out.push('\u{2024}'); // one dot leader: visible, and not a workflow command
        }
        out.push_str(&clean);
    }
    out
}

/// One line without its control characters: each becomes a visible escape.
pub fn sanitize_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        match c {
            '\t' => out.push(c),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\u{1b}' => out.push_str("\\e"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            // Bidi overrides reorder what a person reads; show them instead.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// Writes sanitized text to stdout; a failed write (closed pipe) is dropped.
pub fn stdout(text: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(sanitize(text).as_bytes());
    let _ = o.flush();
}

/// Writes sanitized text to stderr; a failed write (closed pipe) is dropped.
pub fn stderr(text: &str) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(sanitize(text).as_bytes());
}

/// Writes bytes to stdout as they are (completions, man pages, JSON): a failed write is
/// dropped. Only for output we generate entirely ourselves.
pub fn raw_out(bytes: &[u8]) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(bytes);
    let _ = o.flush();
}

/// Writes one line to stderr as it is: only for intended workflow commands whose fields
/// were sanitized by the caller.
pub fn raw_err(line: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{line}");
}

/// `println!` that never panics and sanitizes.
#[macro_export]
macro_rules! outln {
    () => { $crate::output::stdout("\n") };
    ($($arg:tt)*) => { $crate::output::stdout(&format!("{}\n", format_args!($($arg)*))) };
}

/// `print!` that never panics and sanitizes.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::stdout(&format!($($arg)*)) };
}

/// `eprintln!` that never panics and sanitizes.
#[macro_export]
macro_rules! errln {
    () => { $crate::output::stderr("\n") };
    ($($arg:tt)*) => { $crate::output::stderr(&format!("{}\n", format_args!($($arg)*))) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forged_workflow_commands_are_neutralised() {
        let body = "bad gateway\n::error title=forged::X\r::warning::Y";
        let s = sanitize(&format!("error: {body}"));
        assert!(!s.lines().any(|l| l.starts_with("::")), "{s:?}");
        assert!(!s.contains('\r'), "{s:?}");
        assert!(s.contains("::error title=forged::X"), "kept visible: {s:?}");
    }

    #[test]
    fn ansi_and_controls_become_visible() {
        let s = sanitize("a\u{1b}[31mred\u{7}\u{0}b\u{202e}c");
        assert_eq!(s, "a\\e[31mred\\u{7}\\u{0}b\\u{202e}c");
        assert_eq!(sanitize("tab\tand\nnewline"), "tab\tand\nnewline");
    }

    #[test]
    fn indented_commands_are_caught_too() {
        assert!(!sanitize("  ::error::x").trim_start().starts_with("::"));
    }
}
