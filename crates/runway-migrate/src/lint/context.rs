//! Context-aware mode: what the target database knows about table sizes and applied migrations.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use sqlx::Connection;

use super::LintError;

/// The planner's size estimate of one table (`pg_class.reltuples`, `relpages`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TableEstimate {
    /// Estimated rows (`reltuples`; `-1` when never analyzed).
    pub rows: f64,
    /// Pages of 8 KiB (`relpages`).
    pub pages: i64,
}

impl TableEstimate {
    /// An estimate.
    pub fn new(rows: f64, pages: i64) -> Self {
        TableEstimate { rows, pages }
    }

    /// No rows and no pages: the table is empty.
    pub fn is_empty(&self) -> bool {
        self.rows <= 0.0 && self.pages == 0
    }

    /// Estimated heap size in bytes.
    pub fn bytes(&self) -> u64 {
        u64::try_from(self.pages.max(0)).unwrap_or(0) * 8192
    }
}

/// What the linter knows about the target database. Build it with [`LintContext::from_database`], or by
/// hand in tests with [`LintContext::with_table`].
#[derive(Clone, Default, PartialEq)]
pub struct LintContext {
    tables: HashMap<String, TableEstimate>,
    applied: Option<BTreeSet<String>>,
}

impl fmt::Debug for LintContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LintContext")
            .field("tables", &self.tables.len())
            .field("applied", &self.applied.as_ref().map(BTreeSet::len))
            .finish()
    }
}

const TABLES_SQL: &str = "SELECT n.nspname, c.relname, c.reltuples::float8, c.relpages::int8 \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
       AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'";

fn norm_version(v: &str) -> String {
    let t = v.trim().trim_start_matches('0');
    if t.is_empty() {
        "0".into()
    } else {
        t.to_string()
    }
}

impl LintContext {
    /// An empty context (no tables known).
    pub fn new() -> Self {
        LintContext::default()
    }

    /// Record a table's estimate (`schema.table`, or a bare name for `public`).
    #[must_use]
    pub fn with_table(mut self, name: impl Into<String>, estimate: TableEstimate) -> Self {
        let name = name.into();
        let name = name
            .strip_prefix("public.")
            .map(str::to_string)
            .unwrap_or(name);
        self.tables.insert(name, estimate);
        self
    }

    /// Record which migration versions are applied (released); only their deprecation markers count.
    #[must_use]
    pub fn with_applied_versions<I, S>(mut self, versions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.applied = Some(
            versions
                .into_iter()
                .map(|v| norm_version(&v.into()))
                .collect(),
        );
        self
    }

    /// Read table estimates from the database, and the applied versions from `history_table` when given
    /// and present (a table with a `version` column).
    ///
    /// # Errors
    /// [`LintError::Database`] when the database cannot be reached or queried.
    pub async fn from_database(
        url: &SecretString,
        history_table: Option<&str>,
    ) -> Result<Self, LintError> {
        let db = |step: &str| {
            let step = step.to_string();
            move |source| LintError::Database { step, source }
        };
        let mut conn = sqlx::PgConnection::connect(url.expose_secret())
            .await
            .map_err(db("connect for lint context"))?;
        let rows: Vec<(String, String, f64, i64)> = sqlx::query_as(TABLES_SQL)
            .fetch_all(&mut conn)
            .await
            .map_err(db("read table estimates"))?;
        let mut ctx = LintContext::new();
        for (schema, table, rows, pages) in rows {
            let name = if schema == "public" {
                table
            } else {
                format!("{schema}.{table}")
            };
            ctx.tables.insert(name, TableEstimate::new(rows, pages));
        }
        if let Some(history) = history_table
            && let Some(versions) = applied_versions(&mut conn, history).await?
        {
            ctx.applied = Some(versions.iter().map(|v| norm_version(v)).collect());
        }
        let _ = conn.close().await;
        Ok(ctx)
    }

    /// The estimate of a table, if the database has it.
    pub fn estimate(&self, table: &str) -> Option<TableEstimate> {
        self.tables.get(table).copied()
    }

    /// Whether any table is known (a context without tables changes nothing about existence).
    pub fn has_tables(&self) -> bool {
        !self.tables.is_empty()
    }

    /// The applied versions (leading zeros removed), if known.
    pub fn applied_versions(&self) -> Option<&BTreeSet<String>> {
        self.applied.as_ref()
    }

    /// Whether `version` is applied: `None` when the context does not know.
    pub fn is_applied(&self, version: &str) -> Option<bool> {
        self.applied
            .as_ref()
            .map(|a| a.contains(&norm_version(version)))
    }
}

/// The versions a history table lists as applied; `None` when the table does not exist. Rows of a
/// `success` column that is false (a failed, dirty migration, as the runner records them) do not count.
pub(crate) async fn applied_versions(
    conn: &mut sqlx::PgConnection,
    table: &str,
) -> Result<Option<Vec<String>>, LintError> {
    let db = |step: &'static str| {
        move |source| LintError::Database {
            step: step.to_string(),
            source,
        }
    };
    let regclass: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
        .bind(table)
        .fetch_one(&mut *conn)
        .await
        .map_err(db("look up the history table"))?;
    let Some(regclass) = regclass else {
        return Ok(None);
    };
    let has_success: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'success' \
         AND NOT attisdropped)",
    )
    .bind(&regclass)
    .fetch_one(&mut *conn)
    .await
    .map_err(db("inspect the history table"))?;
    let filter = if has_success { " WHERE success" } else { "" };
    let versions = sqlx::query_scalar(&format!("SELECT version::text FROM {regclass}{filter}"))
        .fetch_all(&mut *conn)
        .await
        .map_err(db("read applied versions"))?;
    Ok(Some(versions))
}
