//! PostgreSQL: `pg_dump` backups in one exported snapshot, `pg_restore` restores and drills.

pub(crate) mod tools;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;

use sqlx::{Connection, PgConnection, Row};

use crate::error::{BackupError, Refusal, Result};
use crate::manifest::Source;
use crate::storage::ByteStream;
use tools::{PgUrl, drain_stderr, tool_failed};

/// Schemas never counted or restored (catalogs, toast, temp).
const USER_TABLES: &str = "SELECT n.nspname, c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r'
   AND c.relpersistence <> 't'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\\_toast%'
   AND n.nspname NOT LIKE 'pg\\_temp%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
 ORDER BY 1, 2";

pub(crate) async fn connect(url: &PgUrl, operation: &'static str) -> Result<PgConnection> {
    PgConnection::connect(url.expose())
        .await
        .map_err(BackupError::db(operation))
}

/// The database's identity: its name and the cluster's system identifier (or address).
pub(crate) async fn identity(conn: &mut PgConnection) -> Result<(Source, String)> {
    let row = sqlx::query(
        "SELECT current_database()::text, current_setting('server_version'),
                coalesce(inet_server_addr()::text, 'local') || ':' || current_setting('port')",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(BackupError::db("reading server identity"))?;
    let database: String = row.get(0);
    let version: String = row.get(1);
    let addr: String = row.get(2);
    let sysid: Option<String> =
        sqlx::query_scalar("SELECT system_identifier::text FROM pg_control_system()")
            .fetch_one(&mut *conn)
            .await
            .ok();
    Ok((
        Source {
            database,
            server: sysid.unwrap_or(addr),
        },
        version,
    ))
}

/// Exact row counts of every user table (`FROM ONLY`, so inheritance children are counted once).
pub(crate) async fn count_tables(conn: &mut PgConnection) -> Result<BTreeMap<String, u64>> {
    let tables: Vec<(String, String)> = sqlx::query_as(USER_TABLES)
        .fetch_all(&mut *conn)
        .await
        .map_err(BackupError::db("listing tables"))?;
    let mut out = BTreeMap::new();
    for (schema, table) in tables {
        let sql = format!(
            "SELECT count(*) FROM ONLY {}.{}",
            quote_ident(&schema),
            quote_ident(&table)
        );
        let n: i64 = sqlx::query_scalar(&sql)
            .fetch_one(&mut *conn)
            .await
            .map_err(BackupError::db("counting rows"))?;
        out.insert(format!("{schema}.{table}"), n.max(0) as u64);
    }
    Ok(out)
}

/// User relations (tables, views, sequences, ...) and functions in a database.
pub(crate) async fn user_objects(conn: &mut PgConnection) -> Result<u64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
                    AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%')
              + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema'))",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(BackupError::db("checking whether the target is empty"))?;
    Ok(n.max(0) as u64)
}

pub(crate) fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Where `pg_restore` reads the archive from.
pub(crate) enum ArchiveInput<'a> {
    /// A local file (seekable; allows `--jobs`).
    File(&'a Path),
    /// A stream fed to stdin.
    Stream(ByteStream),
}

/// `pg_restore` flags.
#[derive(Debug, Clone, Default)]
pub(crate) struct RestoreFlags {
    pub clean: bool,
    pub single_transaction: bool,
    pub jobs: u32,
    pub no_owner: bool,
    pub no_acl: bool,
}

/// Run `pg_restore` into `target`.
pub(crate) async fn pg_restore(
    bin: &Path,
    target: &PgUrl,
    input: ArchiveInput<'_>,
    flags: &RestoreFlags,
) -> Result<()> {
    let mut cmd = target.command(bin);
    cmd.arg("--exit-on-error");
    if flags.clean {
        cmd.args(["--clean", "--if-exists"]);
    }
    if flags.jobs > 1 {
        cmd.arg(format!("--jobs={}", flags.jobs));
    } else if flags.single_transaction {
        cmd.arg("--single-transaction");
    }
    if flags.no_owner {
        cmd.arg("--no-owner");
    }
    if flags.no_acl {
        cmd.arg("--no-acl");
    }
    run_with_input(cmd, input, "pg_restore", false)
        .await
        .map(|_| ())
}

/// Run `pg_restore --list` and return its output.
pub(crate) async fn pg_restore_list(bin: &Path, input: ArchiveInput<'_>) -> Result<String> {
    let mut cmd = tokio::process::Command::new(bin);
    cmd.arg("--list").kill_on_drop(true);
    run_with_input(cmd, input, "pg_restore", true).await
}

async fn run_with_input(
    mut cmd: tokio::process::Command,
    input: ArchiveInput<'_>,
    tool: &'static str,
    tolerate_early_close: bool,
) -> Result<String> {
    let stream = match input {
        ArchiveInput::File(p) => {
            cmd.arg(p);
            cmd.stdin(Stdio::null());
            None
        }
        ArchiveInput::Stream(s) => {
            cmd.stdin(Stdio::piped());
            Some(s)
        }
    };
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(BackupError::io("starting pg_restore"))?;
    let stderr = drain_stderr(child.stderr.take());
    let mut stdout = child.stdout.take();
    let out_task = tokio::spawn(async move {
        let mut buf = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = tokio::io::AsyncReadExt::read_to_end(s, &mut buf).await;
        }
        buf
    });
    if let Some(stream) = stream {
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let fed = crate::pipe::drain_hashed(stream, Some(&mut stdin), true, |_| async {}).await;
        drop(stdin);
        if let Err(e) = fed
            && !(tolerate_early_close && e.kind() == std::io::ErrorKind::BrokenPipe)
        {
            let status = child
                .wait()
                .await
                .map_err(BackupError::io("waiting for pg_restore"))?;
            let err = stderr.await.unwrap_or_default();
            if !status.success() {
                return Err(tool_failed(tool, status, &err));
            }
            return Err(BackupError::Io {
                operation: "feeding pg_restore",
                source: e,
            });
        }
    }
    let status = child
        .wait()
        .await
        .map_err(BackupError::io("waiting for pg_restore"))?;
    let err = stderr.await.unwrap_or_default();
    let out = out_task.await.unwrap_or_default();
    if !status.success() {
        return Err(tool_failed(tool, status, &err));
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The restore guard: refuse the source database and non-empty targets unless allowed.
pub(crate) async fn guard(
    conn: &mut PgConnection,
    source: &Source,
    allow_source: bool,
    allow_non_empty: bool,
) -> Result<()> {
    let (target, _) = identity(conn).await?;
    if target == *source && !allow_source {
        return Err(BackupError::RestoreRefused(Refusal::SourceDatabase {
            database: target.database,
        }));
    }
    let objects = user_objects(conn).await?;
    if objects > 0 && !allow_non_empty && !(allow_source && target == *source) {
        return Err(BackupError::RestoreRefused(Refusal::NotEmpty {
            database: target.database,
            relations: objects,
        }));
    }
    Ok(())
}

/// Create a scratch database from `template0` on the drill server.
pub(crate) async fn create_scratch(admin: &PgUrl) -> Result<PgUrl> {
    let name = format!("runway_drill_{:016x}", rand::random::<u64>());
    let mut conn = connect(admin, "connecting to the drill server").await?;
    sqlx::query(&format!(
        "CREATE DATABASE {} TEMPLATE template0",
        quote_ident(&name)
    ))
    .execute(&mut conn)
    .await
    .map_err(BackupError::db("creating the scratch database"))?;
    let _ = conn.close().await;
    Ok(admin.with_database(&name))
}

pub(crate) async fn drop_scratch(admin: &PgUrl, scratch: &PgUrl) -> Result<()> {
    let mut conn = connect(admin, "connecting to the drill server").await?;
    sqlx::query(&format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        quote_ident(scratch.database())
    ))
    .execute(&mut conn)
    .await
    .map_err(BackupError::db("dropping the scratch database"))?;
    let _ = conn.close().await;
    Ok(())
}

/// Start `pg_dump -Fc --snapshot` writing to a pipe.
pub(crate) fn spawn_pg_dump(
    bin: &Path,
    url: &PgUrl,
    snapshot: &str,
    compress: Option<u8>,
) -> Result<tokio::process::Child> {
    let mut cmd = url.command(bin);
    cmd.arg("--format=custom")
        .arg(format!("--snapshot={snapshot}"));
    if let Some(level) = compress {
        cmd.arg(format!("--compress={level}"));
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(BackupError::io("starting pg_dump"))
}
