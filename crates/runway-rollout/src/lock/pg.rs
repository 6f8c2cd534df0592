use async_trait::async_trait;
use chrono::{DateTime, Utc};
use runway_core::EnvironmentId;
use secrecy::{ExposeSecret, SecretString};
use sqlx::{Connection, PgConnection};

use super::{DeployLock, Held, LockError, LockGuard, LockInfo};

/// A PostgreSQL deploy lock: a session advisory lock held on a dedicated connection, plus a row in
/// `runway_deploy_locks` with the owner and the holder's backend pid.
///
/// A client that dies loses its session and with it the lock. [`break_lock`](DeployLock::break_lock) terminates
/// a hung holder's backend (needs permission to signal it) and deletes its row.
#[derive(Clone)]
pub struct PgLock {
    url: SecretString,
}

impl std::fmt::Debug for PgLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgLock")
            .field("url", &"[redacted]")
            .finish()
    }
}

/// A stable 64-bit key for an environment (FNV-1a over a namespaced name).
fn key(environment: &EnvironmentId) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in b"runway-deploy-lock:"
        .iter()
        .chain(environment.as_str().as_bytes())
    {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

fn db(e: sqlx::Error) -> LockError {
    LockError::Database(e)
}

impl PgLock {
    /// Locks in the database at `url` (a secret: it may carry a password; never printed).
    pub fn new(url: SecretString) -> Self {
        PgLock { url }
    }

    async fn connect(&self) -> Result<PgConnection, LockError> {
        let mut c = PgConnection::connect(self.url.expose_secret())
            .await
            .map_err(db)?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS runway_deploy_locks (
                environment text PRIMARY KEY,
                owner text NOT NULL,
                run text,
                acquired_at timestamptz NOT NULL,
                backend_pid int NOT NULL)",
        )
        .execute(&mut c)
        .await
        .map_err(db)?;
        Ok(c)
    }

    async fn holder(
        c: &mut PgConnection,
        environment: &EnvironmentId,
    ) -> Result<Option<(i32, LockInfo)>, LockError> {
        let k = key(environment);
        let pid: Option<(i32,)> = sqlx::query_as(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
               AND classid = (($1::bigint >> 32) & 4294967295)::bigint::oid
               AND objid = ($1::bigint & 4294967295)::bigint::oid AND objsubid = 1 LIMIT 1",
        )
        .bind(k)
        .fetch_optional(&mut *c)
        .await
        .map_err(db)?;
        let Some((pid,)) = pid else { return Ok(None) };
        let row: Option<(String, Option<String>, DateTime<Utc>)> = sqlx::query_as(
            "SELECT owner, run, acquired_at FROM runway_deploy_locks WHERE environment = $1 AND backend_pid = $2",
        )
        .bind(environment.as_str())
        .bind(pid)
        .fetch_optional(&mut *c)
        .await
        .map_err(db)?;
        let (owner, run, acquired_at) =
            row.unwrap_or_else(|| (format!("backend {pid}"), None, Utc::now()));
        Ok(Some((
            pid,
            LockInfo {
                environment: environment.clone(),
                owner,
                run,
                acquired_at,
                pid: None,
            },
        )))
    }
}

pub(super) async fn release(mut c: PgConnection, k: i64, info: &LockInfo) -> Result<(), LockError> {
    sqlx::query(
        "DELETE FROM runway_deploy_locks WHERE environment = $1 AND backend_pid = pg_backend_pid()",
    )
    .bind(info.environment.as_str())
    .execute(&mut c)
    .await
    .map_err(db)?;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(k)
        .execute(&mut c)
        .await
        .map_err(db)?;
    c.close().await.map_err(db)
}

#[async_trait]
impl DeployLock for PgLock {
    async fn acquire(
        &self,
        environment: &EnvironmentId,
        owner: &str,
        run: Option<&str>,
    ) -> Result<LockGuard, LockError> {
        let mut c = self.connect().await?;
        let k = key(environment);
        let (ok,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
            .bind(k)
            .fetch_one(&mut c)
            .await
            .map_err(db)?;
        if !ok {
            let info = Self::holder(&mut c, environment)
                .await?
                .map(|(_, i)| i)
                .unwrap_or(LockInfo {
                    environment: environment.clone(),
                    owner: "unknown".into(),
                    run: None,
                    acquired_at: Utc::now(),
                    pid: None,
                });
            return Err(LockError::Held(Box::new(info)));
        }
        let (acquired_at,): (DateTime<Utc>,) = sqlx::query_as(
            "INSERT INTO runway_deploy_locks (environment, owner, run, acquired_at, backend_pid)
             VALUES ($1, $2, $3, now(), pg_backend_pid())
             ON CONFLICT (environment) DO UPDATE SET owner = EXCLUDED.owner, run = EXCLUDED.run,
               acquired_at = EXCLUDED.acquired_at, backend_pid = EXCLUDED.backend_pid
             RETURNING acquired_at",
        )
        .bind(environment.as_str())
        .bind(owner)
        .bind(run)
        .fetch_one(&mut c)
        .await
        .map_err(db)?;
        Ok(LockGuard {
            info: LockInfo {
                environment: environment.clone(),
                owner: owner.to_string(),
                run: run.map(str::to_string),
                acquired_at,
                pid: Some(std::process::id()),
            },
            held: Some(Held::Pg(Box::new(c), k)),
        })
    }

    async fn status(&self, environment: &EnvironmentId) -> Result<Option<LockInfo>, LockError> {
        let mut c = self.connect().await?;
        let h = Self::holder(&mut c, environment).await?.map(|(_, i)| i);
        let _ = c.close().await;
        Ok(h)
    }

    async fn break_lock(&self, environment: &EnvironmentId) -> Result<Option<LockInfo>, LockError> {
        let mut c = self.connect().await?;
        let h = Self::holder(&mut c, environment).await?;
        if let Some((pid, _)) = &h {
            sqlx::query("SELECT pg_terminate_backend($1)")
                .bind(*pid)
                .execute(&mut c)
                .await
                .map_err(db)?;
            sqlx::query("DELETE FROM runway_deploy_locks WHERE environment = $1")
                .bind(environment.as_str())
                .execute(&mut c)
                .await
                .map_err(db)?;
        }
        let _ = c.close().await;
        Ok(h.map(|(_, i)| i))
    }
}
