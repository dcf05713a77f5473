//! Reading YAML with its positions, and errors that name file, line and field.

use super::locate::Locations;
use super::{interp, limits};
use sha2::{Digest, Sha256};
use std::fmt;

/// A config problem, pointing at the place to edit.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub field: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        if self.field.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// A YAML text with its positions, for turning paths back into lines.
pub(super) struct Source {
    pub(super) name: String,
    pub(super) locations: Locations,
}

impl Source {
    pub(super) fn err(&self, field: &str, message: impl Into<String>) -> ConfigError {
        let pos = self.locations.find(field);
        ConfigError {
            file: self.name.clone(),
            line: pos.map(|p| p.0),
            column: pos.map(|p| p.1),
            field: field.to_string(),
            message: message.into(),
        }
    }
}

pub(super) fn read_yaml<T: serde::de::DeserializeOwned + Default>(
    name: &str,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
    digest: &mut Sha256,
) -> Result<(T, Source), ConfigError> {
    digest.update(text.as_bytes());
    let text = interp::interpolate(text, env).map_err(|(line, col, msg)| ConfigError {
        file: name.to_string(),
        line: Some(line),
        column: Some(col),
        field: String::new(),
        message: msg,
    })?;
    refuse_hostile(name, &text)?;
    let source = Source {
        name: name.to_string(),
        locations: Locations::of(&text),
    };
    if text.trim().is_empty() {
        return Ok((T::default(), source));
    }
    let value = serde_yaml::from_str::<T>(&text)
        .map_err(|e| explain_tab(&text, yaml_error_in(&source, &e)))?;
    Ok((value, source))
}

/// A tab where YAML wants spaces reads "found character that cannot start any token",
/// which says nothing of tabs: say it, and where the tab is.
fn explain_tab(text: &str, mut err: ConfigError) -> ConfigError {
    let Some(line) = err.line else {
        return err;
    };
    let Some(tab) = text
        .lines()
        .nth(line.saturating_sub(1))
        .and_then(|l| l.find('\t'))
    else {
        return err;
    };
    if err.message.contains("cannot start any token") || err.message.contains("tab") {
        err.column = Some(tab + 1);
        err.message = format!(
            "a tab character at column {}: YAML indents with spaces, never tabs — replace it \
             with spaces ({})",
            tab + 1,
            err.message
        );
    }
    err
}

/// Refuses YAML nested too deep or expanding too far through aliases, before any parser
/// builds it (see [`limits`]).
pub(super) fn refuse_hostile(name: &str, text: &str) -> Result<(), ConfigError> {
    limits::check_yaml(text).map_err(|e| ConfigError {
        file: name.to_string(),
        line: e.line,
        column: e.column,
        field: String::new(),
        message: e.message,
    })
}

/// A serde_yaml error placed in `source`. serde_yaml loses the position inside buffered
/// values (durations, untagged enums): the field path is exact, so prefer where it points.
pub(super) fn yaml_error_in(source: &Source, e: &serde_yaml::Error) -> ConfigError {
    let mut err = yaml_error(&source.name, e);
    if let Some((line, col)) = (!err.field.is_empty())
        .then(|| source.locations.find(&err.field))
        .flatten()
    {
        if err.line.is_none_or(|l| l < line) {
            err.line = Some(line);
            err.column = Some(col);
        }
    }
    err
}

/// Turns a serde_yaml error ("rules[2].detector: unknown variant `x` … at line 14 column 5")
/// into file:line:col: field: message.
fn yaml_error(file: &str, e: &serde_yaml::Error) -> ConfigError {
    let mut msg = e.to_string();
    if let Some(i) = msg.rfind(" at line ") {
        msg.truncate(i);
    }
    let (field, message) = match msg.split_once(": ") {
        Some((f, m))
            if !f.contains(' ') && f.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) =>
        {
            (f.to_string(), m.to_string())
        }
        _ => (String::new(), msg.clone()),
    };
    let message = message.replace("unknown variant", "unknown value").replace(
        "data did not match any variant of untagged enum Raw",
        "invalid value",
    );
    ConfigError {
        file: file.to_string(),
        line: e.location().map(|l| l.line()),
        column: e.location().map(|l| l.column()),
        field,
        message,
    }
}
