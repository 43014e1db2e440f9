//! An SQL pool over SQLite or PostgreSQL, chosen by URL.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

use crate::{Error, Result};

/// Which SQL engine a [`Database`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (one file in the data directory).
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// A connection pool plus the backend it talks to.
///
/// Statements written for it use `$1`-style placeholders and the types both engines share
/// (`BIGINT`, `TEXT`, `DOUBLE PRECISION`, binary), so one query text serves both; schemas that must
/// differ live in per-backend migration folders.
#[derive(Debug, Clone)]
pub struct Database {
    pool: AnyPool,
    backend: Backend,
}

impl Database {
    /// Connects to `sqlite://PATH` (created when missing; WAL journal, `synchronous=FULL` so a
    /// committed transaction survives power loss) or `postgres://…`.
    ///
    /// # Errors
    /// [`Error::InvalidDatabaseUrl`] for other schemes, [`Error::Database`] when unreachable.
    pub async fn connect(url: &str) -> Result<Database> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(Error::InvalidDatabaseUrl);
        };
        let url = match backend {
            Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url).map_err(Error::db("parse database url"))?;
        let pool_options = match backend {
            // One writer at a time is SQLite's model; a single connection also keeps
            // transactions strictly serial without busy retries.
            Backend::Sqlite => AnyPoolOptions::new()
                .max_connections(1)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute(
                            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; \
                         PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;",
                        )
                        .await?;
                        Ok(())
                    })
                }),
            Backend::Postgres => AnyPoolOptions::new().max_connections(4),
        };
        let pool = pool_options
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(Error::db("connect to database"))?;
        Ok(Database { pool, backend })
    }

    /// Applies the migrations for this backend.
    ///
    /// # Errors
    /// [`Error::Migration`] when a migration fails or a applied one was changed.
    pub async fn migrate(&self, sqlite: &Migrator, postgres: &Migrator) -> Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// The pool, for running statements.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `($1, $2), ($3, $4), …` for a multi-row `INSERT … VALUES` of `n_rows` rows of `n_cols`
/// columns, in the `$n` style both backends accept (sqlx's `QueryBuilder` writes `?` for the
/// `Any` driver, which PostgreSQL rejects).
pub fn values_placeholders(n_rows: usize, n_cols: usize) -> String {
    let mut out = String::with_capacity(n_rows * n_cols * 5);
    for r in 0..n_rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..n_cols {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(r * n_cols + c + 1).to_string());
        }
        out.push(')');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_rows_then_columns() {
        assert_eq!(
            super::values_placeholders(2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(super::values_placeholders(0, 3), "");
    }
}
