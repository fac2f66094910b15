//! Database access: connecting (SQLite in WAL mode by default), entities and the query
//! functions the domain calls. Query functions take `&impl ConnectionTrait` so they run the
//! same inside or outside a transaction; nothing outside this module builds a query.
pub mod accounts;
pub mod billing;
pub mod entities;
pub mod events;
pub mod keys;
pub mod login_failures;
pub mod marketplace;
pub mod memory;
pub mod nodes;
pub mod observability;
pub mod services;
pub mod usage;
pub mod webhooks;

use anyhow::Context;
use sea_orm::{DatabaseConnection, DbBackend, DbErr, RuntimeErr, SqlxSqliteConnector, Statement, Value};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::{str::FromStr, time::Duration};

/// A raw SQLite statement with bound values (the queries SeaORM's builder does not express).
fn statement(sql: &str, values: impl IntoIterator<Item = Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
}

/// Opens the SQLite database at `url` (creating the file if missing) with the settings a
/// concurrent web server needs: WAL journal, `synchronous = NORMAL` (durable at checkpoints,
/// the usual pairing with WAL), foreign keys on, and a busy timeout instead of instant
/// `SQLITE_BUSY` errors when two writers meet. One connection: SQLite has one writer anyway,
/// and a transaction that reads then writes (`BEGIN DEFERRED`) fails with `SQLITE_BUSY_SNAPSHOT`
/// when another connection wrote in between — which the busy timeout cannot wait out. Queries
/// queue for the connection instead.
pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    let options = SqliteConnectOptions::from_str(url)
        .with_context(|| format!("invalid database URL {url:?}"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open the database at {url:?}"))?;
    Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

/// True when `err` is a unique-constraint violation: the one place that knows how the
/// database reports "already exists".
pub fn is_unique_violation(err: &DbErr) -> bool {
    if matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) {
        return true;
    }
    // `sql_err()` does not see through every wrapper (e.g. `exec` vs `query` paths).
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            e.as_database_error().is_some_and(|d| d.kind() == sqlx::error::ErrorKind::UniqueViolation)
        }
        _ => false,
    }
}
