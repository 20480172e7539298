//! Statements as data: SQL text and its bound parameters, built by the use cases and run by an
//! adapter, D1 in the Worker (`crowdfund-worker`) or SQLite natively (`testing::Sqlite`), over
//! the same migrations. D1 is SQLite, so the SQL a test runs is the SQL production runs.
//!
//! A [`Database::batch`] is one round trip and one transaction, as D1's batch is: every
//! statement commits or none does, and other requests' batches run before or after it, never
//! inside. Between two round trips of one request, anything may happen.

use std::borrow::Cow;

use serde::de::DeserializeOwned;

/// A value bound to a statement. Integers go to D1 as JS numbers (D1 rejects BigInt), so they
/// must stay within 2^53: ids and counts do.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl From<i64> for Param {
    fn from(v: i64) -> Self {
        Param::Int(v)
    }
}

impl From<u64> for Param {
    fn from(v: u64) -> Self {
        Param::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<u32> for Param {
    fn from(v: u32) -> Self {
        Param::Int(i64::from(v))
    }
}

impl From<f64> for Param {
    fn from(v: f64) -> Self {
        Param::Real(v)
    }
}

impl From<&str> for Param {
    fn from(v: &str) -> Self {
        Param::Text(v.to_owned())
    }
}

impl From<&String> for Param {
    fn from(v: &String) -> Self {
        Param::Text(v.clone())
    }
}

impl From<String> for Param {
    fn from(v: String) -> Self {
        Param::Text(v)
    }
}

impl<T: Into<Param>> From<Option<T>> for Param {
    fn from(v: Option<T>) -> Self {
        v.map_or(Param::Null, Into::into)
    }
}

/// One SQL statement with its parameters (`?1`, `?2`, ... in the text).
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: Cow<'static, str>,
    pub params: Vec<Param>,
}

impl Statement {
    /// A statement over fixed SQL text.
    pub fn new(sql: &'static str, params: Vec<Param>) -> Self {
        Statement { sql: Cow::Borrowed(sql), params }
    }

    /// A statement whose text is built at run time (from constant fragments only: values are
    /// always bound, never formatted in).
    pub fn built(sql: String, params: Vec<Param>) -> Self {
        Statement { sql: Cow::Owned(sql), params }
    }
}

/// Builds a statement's parameter list from values of mixed types.
#[macro_export]
macro_rules! params {
    ($($value:expr),* $(,)?) => { vec![$($crate::sql::Param::from($value)),*] };
}

/// Why the database refused or failed a statement: its message, as SQLite (and D1, which
/// prefixes it) words it. The use cases recognise the few they answer differently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DbError {
    pub message: String,
}

impl DbError {
    /// Wraps an adapter's error.
    pub fn new(message: impl Into<String>) -> Self {
        DbError { message: message.into() }
    }

    /// Whether a UNIQUE or PRIMARY KEY constraint on `table.column` refused the write.
    pub fn is_unique_violation(&self, table_column: &str) -> bool {
        self.message.contains("UNIQUE constraint failed") && self.message.contains(table_column)
    }

    /// Whether any uniqueness constraint refused the write.
    pub fn is_any_unique_violation(&self) -> bool {
        self.message.contains("UNIQUE constraint failed") || self.message.contains("PRIMARY KEY")
    }

    /// Whether a foreign key constraint refused the write.
    pub fn is_foreign_key_violation(&self) -> bool {
        self.message.contains("FOREIGN KEY constraint failed")
    }

    /// Whether a trigger aborted the batch with `RAISE(ABORT, '<key>: ...')`.
    pub fn raised(&self, key: &str) -> bool {
        self.message.contains(&format!("{key}:"))
    }
}

/// The rows one statement returned.
pub trait Rows {
    /// Decodes every row into `T` (columns by name).
    fn decode<T: DeserializeOwned>(&self) -> Result<Vec<T>, DbError>;

    /// How many rows the statement wrote, for the log's figures.
    fn rows_written(&self) -> usize;

    /// Decodes the first row, if any.
    fn first<T: DeserializeOwned>(&self) -> Result<Option<T>, DbError> {
        Ok(self.decode::<T>()?.into_iter().next())
    }
}

/// A SQLite database reached one round trip at a time.
///
/// The futures need not be `Send`: the Worker is single-threaded, and so are the tests.
#[allow(async_fn_in_trait)]
pub trait Database {
    type Rows: Rows;

    /// Runs one statement (one round trip).
    async fn query(&self, statement: Statement) -> Result<Self::Rows, DbError>;

    /// Runs statements as one transaction (one round trip); returns each one's rows.
    async fn batch(&self, statements: Vec<Statement>) -> Result<Vec<Self::Rows>, DbError>;
}

/// Sums the rows a batch wrote.
pub fn rows_written<R: Rows>(results: &[R]) -> usize {
    results.iter().map(Rows::rows_written).sum()
}

/// Runs a query and decodes its rows.
pub async fn rows<T: DeserializeOwned>(db: &impl Database, statement: Statement) -> Result<Vec<T>, DbError> {
    db.query(statement).await?.decode()
}

/// Runs a `SELECT ... AS n` query and returns `n` (0 without a row).
pub async fn count(db: &impl Database, statement: Statement) -> Result<i64, DbError> {
    #[derive(serde::Deserialize)]
    struct N {
        n: i64,
    }
    Ok(db.query(statement).await?.first::<N>()?.map_or(0, |r| r.n))
}

/// Returns the rows of the `i`th statement of a batch, or an error naming what was expected.
pub fn nth<'a, R>(results: &'a [R], i: usize, what: &str) -> Result<&'a R, DbError> {
    results.get(i).ok_or_else(|| DbError::new(format!("{what}: the batch returned {} results", results.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_take_mixed_types() {
        let none: Option<i64> = None;
        assert_eq!(
            params![1_i64, "a", none, Some(2_i64), 3_u64],
            vec![Param::Int(1), Param::Text("a".into()), Param::Null, Param::Int(2), Param::Int(3)]
        );
    }

    #[test]
    fn errors_are_recognised_by_their_sqlite_wording() {
        let d1 = DbError::new("D1_ERROR: UNIQUE constraint failed: projects.name_key: SQLITE_CONSTRAINT");
        assert!(d1.is_unique_violation("projects.name_key"));
        assert!(!d1.is_unique_violation("idempotency.idem_key"));
        assert!(DbError::new("tag_limit: a project has at most 10 tags").raised("tag_limit"));
        assert!(!DbError::new("tag_limits are fine").raised("tag_limit"));
    }
}
