//! Shared fixture: a migrations folder plus a PostgreSQL or SQLite database.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::time::Duration;

use runway_migrate::{MigrationSource, Migrator, PostgresTarget, SqliteTarget};
use runway_testkit::TestDatabase;
use sqlx::Row;

pub enum Db {
    Pg(TestDatabase, sqlx::PgPool),
    Sqlite(PathBuf, sqlx::SqlitePool),
}

pub struct Fx {
    pub db: Db,
    pub dir: tempfile::TempDir,
}

impl Fx {
    pub async fn pg() -> Fx {
        let db = TestDatabase::create().await;
        let pool = db.pool().await;
        Fx {
            db: Db::Pg(db, pool),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub async fn sqlite() -> Fx {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(opts)
            .await
            .unwrap();
        Fx {
            db: Db::Sqlite(path, pool),
            dir,
        }
    }

    pub fn is_pg(&self) -> bool {
        matches!(self.db, Db::Pg(..))
    }

    pub fn migrations(&self) -> PathBuf {
        let p = self.dir.path().join("migrations");
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    pub fn write(&self, file: &str, contents: &str) {
        std::fs::write(self.migrations().join(file), contents).unwrap();
    }

    pub fn remove(&self, file: &str) {
        std::fs::remove_file(self.migrations().join(file)).unwrap();
    }

    pub fn source(&self) -> MigrationSource {
        MigrationSource::from_dir(self.migrations()).unwrap()
    }

    /// A migrator over the folder as it is now, with fast lock polling.
    pub fn migrator(&self) -> Migrator {
        let m = match &self.db {
            Db::Pg(db, _) => {
                Migrator::new(self.source(), PostgresTarget::from_url(db.url()).unwrap())
            }
            Db::Sqlite(path, _) => Migrator::new(self.source(), SqliteTarget::new(path).unwrap()),
        };
        m.with_lock_poll(Duration::from_millis(10))
            .with_lock_wait(Duration::from_secs(30))
    }

    pub async fn exec(&self, sql: &str) {
        match &self.db {
            Db::Pg(_, p) => {
                sqlx::raw_sql(sql).execute(p).await.unwrap();
            }
            Db::Sqlite(_, p) => {
                sqlx::raw_sql(sql).execute(p).await.unwrap();
            }
        }
    }

    pub async fn scalar(&self, sql: &str) -> i64 {
        match &self.db {
            Db::Pg(_, p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
            Db::Sqlite(_, p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        }
    }

    pub async fn table_exists(&self, name: &str) -> bool {
        match &self.db {
            Db::Pg(_, p) => sqlx::query_scalar::<_, bool>("SELECT to_regclass($1) IS NOT NULL")
                .bind(name)
                .fetch_one(p)
                .await
                .unwrap(),
            Db::Sqlite(_, p) => {
                sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                )
                .bind(name)
                .fetch_one(p)
                .await
                .unwrap()
                    > 0
            }
        }
    }

    /// The history as (version, success) pairs.
    pub async fn history(&self) -> Vec<(i64, bool)> {
        let sql = "SELECT version, success FROM runway_migrations ORDER BY version";
        match &self.db {
            Db::Pg(_, p) => sqlx::query(sql)
                .fetch_all(p)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect(),
            Db::Sqlite(_, p) => sqlx::query(sql)
                .fetch_all(p)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect(),
        }
    }

    /// The schema as text: `pg_dump --schema-only` for PostgreSQL, `sqlite_master` for SQLite.
    pub async fn schema(&self) -> String {
        match &self.db {
            Db::Pg(db, _) => {
                let pg_dump = runway_testkit::pg_bin("pg_dump").expect("pg_dump is needed");
                let out = tokio::process::Command::new(pg_dump)
                    .args(["--schema-only", "--no-owner", "--no-privileges", "--dbname"])
                    .arg(db.url())
                    .output()
                    .await
                    .unwrap();
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                String::from_utf8(out.stdout)
                    .unwrap()
                    .lines()
                    .filter(|l| !l.starts_with("--") && !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
            Db::Sqlite(_, p) => sqlx::query(
                "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
            )
            .fetch_all(p)
            .await
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{} {} {}",
                    r.get::<String, _>(0),
                    r.get::<String, _>(1),
                    r.get::<Option<String>, _>(2).unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
        }
    }
}
