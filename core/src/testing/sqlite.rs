//! The native database adapter: SQLite (rusqlite's bundled build) with the migrations of
//! `data/migrations/`, in the semantics D1 gives: a batch is one transaction, statements run in
//! order on one connection (so `changes()` sees the statement before), foreign keys enforced.

use std::cell::RefCell;
use std::path::PathBuf;

use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::Connection;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::sql::{Database, DbError, Param, Rows, Statement};

/// An in-memory SQLite database with the real schema.
pub struct Sqlite {
    conn: RefCell<Connection>,
}

/// The rows of one statement, as JSON objects (columns by name), like D1's results.
#[derive(Debug, Clone, Default)]
pub struct SqliteRows {
    pub rows: Vec<Map<String, Value>>,
    pub written: usize,
}

impl Rows for SqliteRows {
    fn decode<T: DeserializeOwned>(&self) -> Result<Vec<T>, DbError> {
        self.rows
            .iter()
            .map(|row| serde_json::from_value(Value::Object(row.clone())).map_err(|e| DbError::new(e.to_string())))
            .collect()
    }

    fn rows_written(&self) -> usize {
        self.written
    }
}

/// The migrations directory of the repository.
pub fn migrations_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/migrations")
}

impl Sqlite {
    /// A fresh database with every migration applied, in file-name order.
    pub fn migrated() -> Self {
        let conn = Connection::open_in_memory().expect("an in-memory SQLite database");
        conn.execute_batch("PRAGMA foreign_keys = ON;").expect("foreign keys on");
        let mut files: Vec<PathBuf> = std::fs::read_dir(migrations_dir())
            .expect("data/migrations")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect();
        files.sort();
        for file in files {
            let sql = std::fs::read_to_string(&file).expect("a migration");
            conn.execute_batch(&sql).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        }
        Sqlite { conn: RefCell::new(conn) }
    }

    /// Runs SQL directly (test setup and inspection).
    pub fn execute(&self, sql: &str) {
        self.conn.borrow().execute_batch(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Runs a query directly and decodes its rows (test inspection).
    pub fn select<T: DeserializeOwned>(&self, sql: &str) -> Vec<T> {
        let conn = self.conn.borrow();
        let rows = run(&conn, &Statement::built(sql.to_owned(), Vec::new())).unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.decode().unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

fn bind(param: &Param) -> SqlValue {
    match param {
        Param::Null => SqlValue::Null,
        Param::Int(v) => SqlValue::Integer(*v),
        Param::Real(v) => SqlValue::Real(*v),
        Param::Text(v) => SqlValue::Text(v.clone()),
    }
}

fn column(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(v) => Value::from(v),
        ValueRef::Real(v) => Value::from(v),
        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Array(b.iter().map(|x| Value::from(*x)).collect()),
    }
}

fn run(conn: &Connection, statement: &Statement) -> Result<SqliteRows, DbError> {
    let err = |e: rusqlite::Error| DbError::new(e.to_string());
    let before = conn.total_changes();
    let mut prepared = conn.prepare(&statement.sql).map_err(err)?;
    let names: Vec<String> = prepared.column_names().map(str::to_owned).collect();
    let mut rows = prepared.query(rusqlite::params_from_iter(statement.params.iter().map(bind))).map_err(err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(err)? {
        let mut object = Map::new();
        for (i, name) in names.iter().enumerate() {
            object.insert(name.clone(), column(row.get_ref(i).map_err(err)?));
        }
        out.push(object);
    }
    drop(rows);
    let written = usize::try_from(conn.total_changes().saturating_sub(before)).unwrap_or(0);
    Ok(SqliteRows { rows: out, written })
}

impl Database for Sqlite {
    type Rows = SqliteRows;

    async fn query(&self, statement: Statement) -> Result<SqliteRows, DbError> {
        run(&self.conn.borrow(), &statement)
    }

    async fn batch(&self, statements: Vec<Statement>) -> Result<Vec<SqliteRows>, DbError> {
        let mut conn = self.conn.borrow_mut();
        let tx = conn.transaction().map_err(|e| DbError::new(e.to_string()))?;
        let mut results = Vec::with_capacity(statements.len());
        for statement in &statements {
            // Dropping the transaction on error rolls it back: all or nothing, as in D1.
            results.push(run(&tx, statement)?);
        }
        tx.commit().map_err(|e| DbError::new(e.to_string()))?;
        Ok(results)
    }
}
