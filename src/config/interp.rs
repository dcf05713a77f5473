//! `${ENV_VAR}` interpolation in config text, keeping every line where it was.

/// Replaces `${NAME}` and `${NAME:-default}` with the environment's value; `$${` stays a
/// literal `${`. An unset variable without a default is an error naming line and column.
pub fn interpolate(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, (usize, usize, String)> {
    let mut out = String::with_capacity(text.len());
    for (ln, full) in text.split_inclusive('\n').enumerate() {
        // YAML comments are left alone: a commented-out `${TOKEN}` must not be required.
        let cut = comment_start(full);
        let (line, comment) = full.split_at(cut);
        let mut rest = line;
        let mut col = 1;
        while let Some(i) = rest.find("${") {
            if rest[..i].ends_with('$') {
                out.push_str(&rest[..i - 1]);
                out.push_str("${");
                col += i + 2;
                rest = &rest[i + 2..];
                continue;
            }
            out.push_str(&rest[..i]);
            let Some(end) = rest[i..].find('}') else {
                return Err((ln + 1, col + i, "unterminated `${`".into()));
            };
            let inner = &rest[i + 2..i + end];
            let (name, default) = match inner.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            let valid = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit());
            if !valid {
                return Err((ln + 1, col + i, format!("invalid variable name `{name}`")));
            }
            match (lookup(name), default) {
                (Some(v), None) => out.push_str(&v),
                (Some(v), Some(d)) => out.push_str(if v.is_empty() { d } else { &v }),
                (None, Some(d)) => out.push_str(d),
                (None, None) => {
                    return Err((
                        ln + 1,
                        col + i,
                        format!("environment variable `{name}` is not set (write ${{{name}:-default}} for a fallback)"),
                    ))
                }
            }
            col += i + end + 1;
            rest = &rest[i + end + 1..];
        }
        out.push_str(rest);
        out.push_str(comment);
    }
    Ok(out)
}

/// Byte index where a YAML comment starts on this line (`#` at the start or after white
/// space, outside quotes), or the line's length.
fn comment_start(line: &str) -> usize {
    let (mut single, mut double) = (false, false);
    let mut prev_space = true;
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && prev_space => return i,
            _ => {}
        }
        prev_space = c == ' ' || c == '\t';
    }
    line.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("s3cret".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn substitutes_defaults_and_escapes() {
        let got = interpolate(
            "a: ${TOKEN}\nb: ${NOPE:-x}\nc: $${TOKEN}\nd: ${EMPTY:-y}\n",
            env,
        )
        .unwrap();
        assert_eq!(got, "a: s3cret\nb: x\nc: ${TOKEN}\nd: y\n");
    }

    #[test]
    fn comments_are_not_interpolated() {
        let got = interpolate("# token: ${NOPE}\na: \"x # ${TOKEN}\" # ${NOPE}\n", env).unwrap();
        assert_eq!(got, "# token: ${NOPE}\na: \"x # s3cret\" # ${NOPE}\n");
    }

    #[test]
    fn unset_variable_names_line_and_column() {
        let err = interpolate("a: 1\nb: \"Bearer ${PROM_TOKEN}\"\n", env).unwrap_err();
        assert_eq!((err.0, err.1), (2, 12));
        assert!(err.2.contains("PROM_TOKEN"));
    }
}
