//! The one seam between the store's SQL and its two engines: a statement runner that both
//! SQLite and PostgreSQL implement. Every query of the store is written once, in the SQL
//! both engines accept (`?N` parameters, rewritten to `$N` for PostgreSQL), so the two
//! back-ends cannot drift apart in behaviour.

use super::StoreError;

/// A parameter or a column value: the four types the schema uses.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// SQL NULL.
    Null,
    /// INTEGER / BIGINT (booleans are stored as 0/1).
    Int(i64),
    /// REAL / DOUBLE PRECISION.
    Real(f64),
    /// TEXT.
    Text(String),
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Val {
            fn from(v: $t) -> Val {
                Val::Int(v as i64)
            }
        }
    )*};
}
from_int!(i64, i32, u32, u8);

impl From<usize> for Val {
    fn from(v: usize) -> Val {
        Val::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<bool> for Val {
    fn from(v: bool) -> Val {
        Val::Int(v as i64)
    }
}

impl From<f64> for Val {
    fn from(v: f64) -> Val {
        if v.is_nan() {
            Val::Null
        } else {
            Val::Real(v)
        }
    }
}

impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(v.to_string())
    }
}

impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(v)
    }
}

impl From<&String> for Val {
    fn from(v: &String) -> Val {
        Val::Text(v.clone())
    }
}

impl<T: Clone + Into<Val>> From<&Option<T>> for Val {
    fn from(v: &Option<T>) -> Val {
        v.clone().map(Into::into).unwrap_or(Val::Null)
    }
}

impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Val {
        v.map(Into::into).unwrap_or(Val::Null)
    }
}

/// Builds a parameter list: `args![a, b, c]`.
macro_rules! args {
    ($($v:expr),* $(,)?) => { &[$($crate::store::db::Val::from($v)),*][..] };
}
pub(crate) use args;

/// One result row, read by column index.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Val>);

impl Row {
    fn at(&self, i: usize) -> &Val {
        self.0.get(i).unwrap_or(&Val::Null)
    }

    fn bad(&self, i: usize, want: &str) -> StoreError {
        StoreError::Column(format!(
            "column {i}: expected {want}, found {:?}",
            self.at(i)
        ))
    }

    /// An integer column that may be NULL.
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.at(i) {
            Val::Null => Ok(None),
            Val::Int(v) => Ok(Some(*v)),
            Val::Real(v) if v.fract() == 0.0 => Ok(Some(*v as i64)),
            _ => Err(self.bad(i, "an integer")),
        }
    }

    /// An integer column.
    pub fn int(&self, i: usize) -> Result<i64, StoreError> {
        self.opt_int(i)?.ok_or_else(|| self.bad(i, "an integer"))
    }

    /// A 0/1 column.
    pub fn flag(&self, i: usize) -> Result<bool, StoreError> {
        Ok(self.int(i)? != 0)
    }

    /// A text column that may be NULL.
    pub fn opt_real(&self, i: usize) -> Result<Option<f64>, StoreError> {
        match self.at(i) {
            Val::Null => Ok(None),
            Val::Real(v) => Ok(Some(*v)),
            Val::Int(v) => Ok(Some(*v as f64)),
            _ => Err(self.bad(i, "a number")),
        }
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.at(i) {
            Val::Null => Ok(None),
            Val::Text(s) => Ok(Some(s.clone())),
            Val::Int(v) => Ok(Some(v.to_string())),
            _ => Err(self.bad(i, "text")),
        }
    }

    /// A text column.
    pub fn text(&self, i: usize) -> Result<String, StoreError> {
        self.opt_text(i)?.ok_or_else(|| self.bad(i, "text"))
    }
}

/// What a transaction must exclude.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// Writes that must not interleave with other writers (SQLite: `BEGIN IMMEDIATE`;
    /// PostgreSQL: row locks of the statements themselves).
    Write,
    /// Appends to the audit chain: one appender at a time across every process (SQLite:
    /// `BEGIN IMMEDIATE`; PostgreSQL: a transaction-scoped advisory lock).
    Chain,
}

/// A statement runner: one SQLite connection or a PostgreSQL pool.
pub trait Db: Send {
    /// Runs a statement; returns the rows it changed.
    fn exec(&self, sql: &str, args: &[Val]) -> Result<u64, StoreError>;
    /// Runs a query; returns every row.
    fn query(&self, sql: &str, args: &[Val]) -> Result<Vec<Row>, StoreError>;
    /// Opens a transaction holding `lock`.
    fn begin(&mut self, lock: Lock) -> Result<(), StoreError>;
    /// Commits the open transaction.
    fn commit(&mut self) -> Result<(), StoreError>;
    /// Rolls the open transaction back (best effort: the connection may be gone).
    fn rollback(&mut self);
    /// The schema version after migrations.
    fn schema_version(&self) -> Result<i64, StoreError>;
    /// `sqlite` or `postgres`.
    fn engine(&self) -> &'static str;
}

/// Rewrites `?N` parameters to PostgreSQL's `$N` (the store's SQL has no `?` elsewhere).
pub fn to_dollar(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// The first row's first column as an integer (COUNT, MAX …), NULL or no row as `None`.
pub fn scalar(rows: &[Row]) -> Result<Option<i64>, StoreError> {
    match rows.first() {
        Some(r) => r.opt_int(0),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_marks_become_dollars_only_before_digits() {
        assert_eq!(
            to_dollar("SELECT ?1, ?12 WHERE a = '?'"),
            "SELECT $1, $12 WHERE a = '?'"
        );
    }

    #[test]
    fn nan_is_stored_as_null_and_options_map_to_null() {
        assert_eq!(Val::from(f64::NAN), Val::Null);
        assert_eq!(Val::from(None::<i64>), Val::Null);
        assert_eq!(Val::from(Some("x")), Val::Text("x".into()));
        let r = Row(vec![Val::Int(3), Val::Null, Val::Real(2.0)]);
        assert_eq!(r.int(0).unwrap(), 3);
        assert_eq!(r.opt_text(1).unwrap(), None);
        assert_eq!(r.int(2).unwrap(), 2);
        assert!(r.text(1).is_err());
    }
}
