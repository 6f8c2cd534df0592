//! [`PostgresCheck`]: `SELECT 1`, connections in use against the limits, long-running queries.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::{Connection, PgConnection, Row};
use tokio::time::Instant;

use crate::check::{Check, CheckResult, ComponentType, DEFAULT_CHECK_TIMEOUT, Problem, ms};
use crate::error::HealthError;
use crate::status::Status;

enum Target {
    /// The application's own pool: its utilisation is measured too.
    Pool(PgPool),
    /// A new connection per run (detects a server that refuses new clients).
    Connect(Box<PgConnectOptions>),
}

/// A PostgreSQL check.
///
/// Each run executes `SELECT 1`, then reads `max_connections`, `superuser_reserved_connections`, the
/// database's `CONNECTION LIMIT` and `pg_stat_activity`: connection use is the highest of the server's
/// client connections over its non-reserved slots, the database's connections over its limit, and (for
/// [`from_pool`](PostgresCheck::from_pool)) the pool's connections in use over its maximum. At
/// [`with_connections_warn`](PostgresCheck::with_connections_warn) (0.8, the runbook's "pool < 80 %") it
/// warns; at [`with_connections_fail`](PostgresCheck::with_connections_fail) (1.0) it fails. Queries
/// running longer than [`with_long_query`](PostgresCheck::with_long_query) (30 s) warn.
///
/// A server refusing the connection because all slots are taken (SQLSTATE 53300) fails with
/// [`Problem::ConnectionsExhausted`]; bad credentials with [`Problem::AuthFailed`].
pub struct PostgresCheck {
    name: String,
    target: Target,
    timeout: Duration,
    warn_at: f64,
    fail_at: f64,
    long_query: Duration,
    critical: bool,
}

impl fmt::Debug for PostgresCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresCheck")
            .field("name", &self.name)
            .field(
                "target",
                &match self.target {
                    Target::Pool(_) => "pool",
                    Target::Connect(_) => "connect",
                },
            )
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl PostgresCheck {
    fn with_target(name: impl Into<String>, target: Target) -> Self {
        PostgresCheck {
            name: name.into(),
            target,
            timeout: DEFAULT_CHECK_TIMEOUT,
            warn_at: 0.8,
            fail_at: 1.0,
            long_query: Duration::from_secs(30),
            critical: true,
        }
    }

    /// Check through the application's pool (and measure its use).
    pub fn from_pool(name: impl Into<String>, pool: PgPool) -> Self {
        Self::with_target(name, Target::Pool(pool))
    }

    /// Check by opening a new connection to `url` on each run. The URL is a secret (it may hold a password).
    pub fn connect(name: impl Into<String>, url: &SecretString) -> Result<Self, HealthError> {
        let opts = PgConnectOptions::from_str(url.expose_secret())
            .map_err(|_| HealthError::config("postgres url", "not a valid PostgreSQL URL"))?;
        Ok(Self::with_target(name, Target::Connect(Box::new(opts))))
    }

    /// Check by opening a new connection with these options.
    pub fn connect_with(name: impl Into<String>, options: PgConnectOptions) -> Self {
        Self::with_target(name, Target::Connect(Box::new(options)))
    }

    /// The check's timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Warn at this share of connections in use (0..=1).
    #[must_use]
    pub fn with_connections_warn(mut self, ratio: f64) -> Self {
        self.warn_at = ratio;
        self
    }

    /// Fail at this share of connections in use (0..=1).
    #[must_use]
    pub fn with_connections_fail(mut self, ratio: f64) -> Self {
        self.fail_at = ratio;
        self
    }

    /// Warn when a query has been running for longer than this.
    #[must_use]
    pub fn with_long_query(mut self, threshold: Duration) -> Self {
        self.long_query = threshold;
        self
    }

    /// A failure only warns the service.
    #[must_use]
    pub fn non_critical(mut self) -> Self {
        self.critical = false;
        self
    }
}

/// The one place sqlx errors become problems.
pub(crate) fn sqlx_problem(e: &sqlx::Error) -> Problem {
    match e {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("53300") => Problem::ConnectionsExhausted,
            Some("28P01" | "28000") => Problem::AuthFailed,
            Some(code) => Problem::Rejected {
                code: code
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .take(5)
                    .collect(),
            },
            None => Problem::Protocol,
        },
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) => Problem::Unreachable,
        sqlx::Error::PoolTimedOut => Problem::ConnectionsExhausted,
        sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => Problem::Unreachable,
        _ => Problem::Protocol,
    }
}

const STATS: &str = "SELECT current_setting('max_connections')::int8 AS max_conn, \
    current_setting('superuser_reserved_connections')::int8 AS reserved, \
    (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int8 AS server_conns, \
    (SELECT datconnlimit::int8 FROM pg_database WHERE datname = current_database()) AS db_limit, \
    (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND datname = current_database())::int8 AS db_conns, \
    (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND state = 'active' \
        AND pid <> pg_backend_pid() AND now() - query_start > make_interval(secs => $1))::int8 AS long_queries";

struct Stats {
    usage: f64,
    in_use: i64,
    long_queries: i64,
}

async fn stats(conn: &mut PgConnection, long_query: Duration) -> Result<Stats, sqlx::Error> {
    let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&mut *conn).await?;
    if one != 1 {
        return Err(sqlx::Error::Protocol(
            "SELECT 1 returned another value".into(),
        ));
    }
    let row = sqlx::query(STATS)
        .bind(long_query.as_secs_f64())
        .fetch_one(&mut *conn)
        .await?;
    let max_conn: i64 = row.try_get("max_conn")?;
    let reserved: i64 = row.try_get("reserved")?;
    let server_conns: i64 = row.try_get("server_conns")?;
    let db_limit: Option<i64> = row.try_get("db_limit")?;
    let db_conns: i64 = row.try_get("db_conns")?;
    let long_queries: i64 = row.try_get("long_queries")?;
    let slots = (max_conn - reserved).max(1);
    let mut usage = server_conns as f64 / slots as f64;
    let mut in_use = server_conns;
    if let Some(limit) = db_limit.filter(|l| *l >= 0) {
        let db_usage = if limit == 0 {
            1.0
        } else {
            db_conns as f64 / limit as f64
        };
        if db_usage > usage {
            usage = db_usage;
            in_use = db_conns;
        }
    }
    Ok(Stats {
        usage,
        in_use,
        long_queries,
    })
}

#[async_trait]
impl Check for PostgresCheck {
    fn name(&self) -> &str {
        &self.name
    }
    fn component_type(&self) -> ComponentType {
        ComponentType::Datastore
    }
    fn timeout(&self) -> Duration {
        self.timeout
    }
    fn critical(&self) -> bool {
        self.critical
    }
    async fn check(&self) -> CheckResult {
        let started = Instant::now();
        let (outcome, pool_usage) = match &self.target {
            Target::Pool(pool) => {
                let max = pool.options().get_max_connections().max(1) as f64;
                match pool.acquire().await {
                    Ok(mut conn) => {
                        // Connections in use, counting the one just taken for the check.
                        let busy = pool.size() as f64 - pool.num_idle() as f64;
                        let out = stats(&mut conn, self.long_query).await;
                        (out, Some((busy / max).clamp(0.0, 1.0)))
                    }
                    Err(e) => (Err(e), None),
                }
            }
            Target::Connect(opts) => match PgConnection::connect_with(opts).await {
                Ok(mut conn) => {
                    let out = stats(&mut conn, self.long_query).await;
                    let _ = conn.close().await;
                    (out, None)
                }
                Err(e) => (Err(e), None),
            },
        };
        let latency = started.elapsed();
        let stats = match outcome {
            Ok(s) => s,
            Err(e) => return CheckResult::fail(sqlx_problem(&e)).with_detail(e.to_string()),
        };
        let usage = pool_usage.map_or(stats.usage, |p| p.max(stats.usage));
        let pct = (usage * 1000.0).round() / 10.0;
        let mut r = CheckResult::pass()
            .with_observation("responseTime", ms(latency).round(), "ms")
            .with_observation("connections", stats.in_use as f64, "connections")
            .with_observation("utilization", pct, "percent")
            .with_observation("longQueries", stats.long_queries as f64, "queries");
        let threshold = |limit: f64| Problem::Threshold {
            measurement: "utilization".into(),
            observed: pct,
            limit: (limit * 1000.0).round() / 10.0,
        };
        if usage >= self.fail_at {
            r = r.escalate(Status::Fail, Problem::ConnectionsExhausted);
        } else if usage >= self.warn_at {
            r = r.escalate(Status::Warn, threshold(self.warn_at));
        }
        if stats.long_queries > 0 {
            r = r.escalate(
                Status::Warn,
                Problem::Threshold {
                    measurement: "longQueries".into(),
                    observed: stats.long_queries as f64,
                    limit: 0.0,
                },
            );
        }
        r
    }
}
