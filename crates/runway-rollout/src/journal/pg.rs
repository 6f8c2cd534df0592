use async_trait::async_trait;
use runway_core::Event;
use sqlx::PgPool;

use super::{Journal, JournalError};

/// A PostgreSQL journal: table `runway_rollout_journal (run, seq, at, event jsonb)`, primary key `(run, seq)`.
///
/// [`ensure_schema`](Self::ensure_schema) creates the table. Appends are idempotent per `(run, seq)`.
#[derive(Debug, Clone)]
pub struct PgJournal {
    pool: PgPool,
}

impl PgJournal {
    /// A journal on `pool`.
    pub fn new(pool: PgPool) -> Self {
        PgJournal { pool }
    }

    /// Create the table if it does not exist.
    pub async fn ensure_schema(&self) -> Result<(), JournalError> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS runway_rollout_journal (
                run text NOT NULL,
                seq bigint NOT NULL,
                at timestamptz NOT NULL,
                event jsonb NOT NULL,
                PRIMARY KEY (run, seq))",
        )
        .execute(&self.pool)
        .await
        .map_err(JournalError::Database)?;
        Ok(())
    }
}

#[async_trait]
impl Journal for PgJournal {
    async fn append(&self, event: &Event) -> Result<(), JournalError> {
        let json = serde_json::to_value(event).map_err(JournalError::Encode)?;
        sqlx::query(
            "INSERT INTO runway_rollout_journal (run, seq, at, event) VALUES ($1, $2, $3, $4)
             ON CONFLICT (run, seq) DO NOTHING",
        )
        .bind(event.run.clone().unwrap_or_default())
        .bind(i64::try_from(event.seq).unwrap_or(i64::MAX))
        .bind(event.at)
        .bind(json)
        .execute(&self.pool)
        .await
        .map_err(JournalError::Database)?;
        Ok(())
    }

    async fn load(&self, run: &str) -> Result<Vec<Event>, JournalError> {
        let rows: Vec<(serde_json::Value,)> =
            sqlx::query_as("SELECT event FROM runway_rollout_journal WHERE run = $1 ORDER BY seq")
                .bind(run)
                .fetch_all(&self.pool)
                .await
                .map_err(JournalError::Database)?;
        rows.into_iter()
            .enumerate()
            .map(|(i, (v,))| {
                serde_json::from_value(v).map_err(|e| JournalError::Corrupt {
                    line: i + 1,
                    reason: e.to_string(),
                })
            })
            .collect()
    }

    async fn unfinished(&self) -> Result<Vec<String>, JournalError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT run FROM runway_rollout_journal GROUP BY run
             HAVING bool_and(coalesce(event->'payload'->'event'->>'type', '') <> 'rollout_finished')
             ORDER BY min(at)",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(JournalError::Database)?;
        Ok(rows.into_iter().map(|(r,)| r).collect())
    }
}
