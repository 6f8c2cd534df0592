//! The PostgreSQL samples behind the "Database Issues" procedure: `pg_stat_activity`, `pg_locks`,
//! `pg_database_size`. Read-only; one connection.

use sqlx::{PgConnection, Row};

use super::analyze::{ActiveQuery, BlockedSession, Blocker, PoolSample, redact_sql};

/// Make the diagnosis session safe on a sick server: it never waits long for a lock or a statement.
pub(crate) async fn prepare(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("SET lock_timeout = '500ms'")
        .execute(&mut *conn)
        .await?;
    sqlx::query("SET statement_timeout = '5s'")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Connection counts (client backends only) and the server's limits.
pub(crate) async fn pool(conn: &mut PgConnection) -> sqlx::Result<PoolSample> {
    let row = sqlx::query(
        "SELECT count(*)::int8 AS total,
                count(*) FILTER (WHERE datname = current_database())::int8 AS this_db,
                count(*) FILTER (WHERE state = 'active')::int8 AS active,
                count(*) FILTER (WHERE state = 'idle')::int8 AS idle,
                count(*) FILTER (WHERE state LIKE 'idle in transaction%')::int8 AS idle_tx,
                current_setting('max_connections')::int8 AS max_conn,
                current_setting('superuser_reserved_connections')::int8 AS reserved
           FROM pg_stat_activity
          WHERE backend_type = 'client backend'",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(PoolSample {
        total: row.try_get("total")?,
        this_database: row.try_get("this_db")?,
        active: row.try_get("active")?,
        idle: row.try_get("idle")?,
        idle_in_transaction: row.try_get("idle_tx")?,
        max_connections: row.try_get("max_conn")?,
        reserved: row.try_get("reserved")?,
    })
}

/// Active statements running longer than `min_seconds` (this database only unless `all_databases`).
pub(crate) async fn slow(
    conn: &mut PgConnection,
    min_seconds: f64,
    all_databases: bool,
) -> sqlx::Result<Vec<ActiveQuery>> {
    let rows = sqlx::query(
        "SELECT pid, coalesce(usename, '') AS usename, coalesce(application_name, '') AS app,
                extract(epoch FROM (now() - query_start))::float8 AS secs,
                coalesce(wait_event_type, '') AS wait, coalesce(query, '') AS query
           FROM pg_stat_activity
          WHERE state = 'active'
            AND backend_type = 'client backend'
            AND pid <> pg_backend_pid()
            AND query_start IS NOT NULL
            AND now() - query_start > make_interval(secs => $1)
            AND ($2 OR datname = current_database())
          ORDER BY query_start
          LIMIT 50",
    )
    .bind(min_seconds)
    .bind(all_databases)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ActiveQuery {
                pid: r.try_get("pid")?,
                user: r.try_get("usename")?,
                application: r.try_get("app")?,
                seconds: r.try_get("secs")?,
                wait_event_type: r.try_get("wait")?,
                query: redact_sql(r.try_get::<&str, _>("query")?),
            })
        })
        .collect()
}

/// Sessions waiting on a lock, with `pg_blocking_pids` and what the blockers are doing.
pub(crate) async fn blocked(
    conn: &mut PgConnection,
    all_databases: bool,
) -> sqlx::Result<Vec<BlockedSession>> {
    let rows = sqlx::query(
        "SELECT a.pid, pg_blocking_pids(a.pid) AS blocking,
                extract(epoch FROM (now() - coalesce(a.query_start, now())))::float8 AS waiting,
                coalesce(a.query, '') AS query,
                coalesce((SELECT l.mode FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted LIMIT 1), '') AS mode,
                (SELECT l.relation::regclass::text FROM pg_locks l
                  WHERE l.pid = a.pid AND NOT l.granted AND l.relation IS NOT NULL LIMIT 1) AS relation
           FROM pg_stat_activity a
          WHERE cardinality(pg_blocking_pids(a.pid)) > 0
            AND ($1 OR a.datname = current_database())
          ORDER BY a.query_start
          LIMIT 50",
    )
    .bind(all_databases)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let blocking: Vec<i32> = r.try_get("blocking")?;
        let blockers = sqlx::query(
            "SELECT pid, coalesce(state, '') AS state,
                    extract(epoch FROM (now() - coalesce(xact_start, now())))::float8 AS xact,
                    coalesce(query, '') AS query
               FROM pg_stat_activity WHERE pid = ANY($1) ORDER BY pid",
        )
        .bind(&blocking)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|b| {
            Ok(Blocker {
                pid: b.try_get("pid")?,
                state: b.try_get("state")?,
                transaction_seconds: b.try_get("xact")?,
                query: redact_sql(b.try_get::<&str, _>("query")?),
            })
        })
        .collect::<sqlx::Result<Vec<_>>>()?;
        out.push(BlockedSession {
            pid: r.try_get("pid")?,
            blocking_pids: blocking,
            waiting_seconds: r.try_get("waiting")?,
            mode: r.try_get("mode")?,
            relation: r.try_get("relation")?,
            query: redact_sql(r.try_get::<&str, _>("query")?),
            blockers,
        });
    }
    Ok(out)
}

/// `pg_database_size(current_database())` and the five largest tables.
pub(crate) async fn size(
    conn: &mut PgConnection,
) -> sqlx::Result<(String, i64, Vec<(String, i64)>)> {
    let row = sqlx::query(
        "SELECT current_database()::text AS db, pg_database_size(current_database())::int8 AS bytes",
    )
    .fetch_one(&mut *conn)
    .await?;
    // Sizes from the catalog (pages as of the last VACUUM/ANALYZE): no relation locks, so a table held
    // ACCESS EXCLUSIVE by a stuck migration cannot stall the diagnosis.
    let tables = sqlx::query(
        "SELECT n.nspname || '.' || c.relname AS name,
                ((c.relpages::int8 + coalesce(t.relpages, 0)::int8) * current_setting('block_size')::int8) AS bytes
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
          WHERE c.relkind IN ('r', 'm', 'p')
            AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            AND n.nspname NOT LIKE 'pg_toast%'
          ORDER BY 2 DESC, 1 LIMIT 5",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("name")?, r.try_get("bytes")?)))
    .collect::<sqlx::Result<Vec<_>>>()?;
    Ok((row.try_get("db")?, row.try_get("bytes")?, tables))
}
