//! Backup throughput against plain `pg_dump -Fc -f file`, and drill time against plain `pg_restore` into
//! an empty database, in the same run, on a pgbench database (scale 70, about 1 GB) and on a database of
//! random bytes that does not compress.
//!
//! ```text
//! cargo bench -p runway-backup --bench backup            # or scripts/bench-backup.sh
//! RUNWAY_BENCH_SCALE=10 cargo bench -p runway-backup --bench backup   # quicker, smaller
//! ```
//!
//! The server is `RUNWAY_BENCH_DATABASE_URL` (else `RUNWAY_TEST_DATABASE_URL`, else the local
//! `postgres://postgres@127.0.0.1:5432/postgres`); the bench creates and drops its own databases.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use runway_backup::{Backups, LocalDir, PgUrl, VerifyLevel, find_pg_bin};
use sqlx::{Connection, PgConnection};

const ROUNDS: usize = 2;

struct Db {
    admin: String,
    name: String,
}

impl Db {
    async fn create(admin: &str, name: &str) -> Db {
        let mut c = PgConnection::connect(admin)
            .await
            .expect("connect to the bench server");
        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE \"{name}\" TEMPLATE template0"))
            .execute(&mut c)
            .await
            .unwrap();
        Db {
            admin: admin.to_string(),
            name: name.to_string(),
        }
    }

    fn url(&self) -> String {
        PgUrl::parse(&self.admin)
            .unwrap()
            .with_database(&self.name)
            .to_string()
    }

    async fn size(&self) -> u64 {
        let mut c = PgConnection::connect(&self.url()).await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
            .fetch_one(&mut c)
            .await
            .unwrap();
        n as u64
    }

    async fn drop_now(&self) {
        if let Ok(mut c) = PgConnection::connect(&self.admin).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .execute(&mut c)
            .await;
        }
    }
}

fn run(cmd: &mut Command) -> Duration {
    let t = Instant::now();
    let out = cmd.output().expect("run a PostgreSQL tool");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    t.elapsed()
}

fn mb_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

struct Row {
    case: &'static str,
    db_bytes: u64,
    plain_dump: Duration,
    ours: Duration,
    dump_bytes: u64,
    ours_bytes: u64,
    plain_restore: Duration,
    drill_restore: Duration,
    drill_total: Duration,
}

async fn bench_case(case: &'static str, db: &Db, scratch: &Path) -> Row {
    let pg_dump = find_pg_bin("pg_dump").expect("pg_dump");
    let pg_restore = find_pg_bin("pg_restore").expect("pg_restore");
    let url = db.url();
    let db_bytes = db.size().await;
    let store = scratch.join(format!("{case}-ours"));
    let backups = Backups::builder()
        .with_storage(Arc::new(LocalDir::new(&store)))
        .with_drill_server(PgUrl::parse(&db.admin).unwrap())
        .build()
        .unwrap();

    let plain_file = scratch.join(format!("{case}-plain.dump"));
    let mut plain_best = Duration::MAX;
    let mut ours_best = Duration::MAX;
    let mut last = None;
    for _ in 0..ROUNDS {
        let _ = std::fs::remove_file(&plain_file);
        plain_best = plain_best.min(run(Command::new(&pg_dump)
            .arg("-Fc")
            .arg("-f")
            .arg(&plain_file)
            .arg(&url)));
        let t = Instant::now();
        let m = backups
            .backup_postgres(&PgUrl::parse(&url).unwrap())
            .await
            .unwrap();
        ours_best = ours_best.min(t.elapsed());
        last = Some(m);
    }
    let m = last.unwrap();
    let dump_bytes = std::fs::metadata(&plain_file).unwrap().len();

    // Plain pg_restore into an empty database, the same flags the drill uses.
    let target = Db::create(&db.admin, &format!("{}_restore", db.name)).await;
    let plain_restore = run(Command::new(&pg_restore)
        .args([
            "--no-owner",
            "--no-acl",
            "--exit-on-error",
            "--single-transaction",
            "-d",
        ])
        .arg(target.url())
        .arg(&plain_file));
    target.drop_now().await;

    let report = backups.verify(m.id, VerifyLevel::Drill).await.unwrap();
    let drill = report.drill.unwrap();
    Row {
        case,
        db_bytes,
        plain_dump: plain_best,
        ours: ours_best,
        dump_bytes,
        ours_bytes: m.size,
        plain_restore,
        drill_restore: drill.restore,
        drill_total: drill.total,
    }
}

async fn bench() {
    let admin = std::env::var("RUNWAY_BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("RUNWAY_TEST_DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let scale: u32 = std::env::var("RUNWAY_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(70);
    let random_mb: u32 = std::env::var("RUNWAY_BENCH_RANDOM_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let scratch = tempfile::tempdir().unwrap();
    let tag = format!("{:08x}", rand::random::<u32>());
    let mut rows = Vec::new();

    let pgbench_db = Db::create(&admin, &format!("runway_bench_pgbench_{tag}")).await;
    let t = Instant::now();
    run(Command::new(find_pg_bin("pgbench").expect("pgbench"))
        .args(["-i", "-q", "-s", &scale.to_string()])
        .arg(pgbench_db.url()));
    eprintln!("pgbench -i -s {scale}: {:.1} s", t.elapsed().as_secs_f64());
    rows.push(bench_case("pgbench", &pgbench_db, scratch.path()).await);
    pgbench_db.drop_now().await;

    let random_db = Db::create(&admin, &format!("runway_bench_random_{tag}")).await;
    {
        let mut c = PgConnection::connect(&random_db.url()).await.unwrap();
        sqlx::query("CREATE EXTENSION IF NOT EXISTS pgcrypto")
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE blobs (id int PRIMARY KEY, b bytea)")
            .execute(&mut c)
            .await
            .unwrap();
        // 1 KB of random bytes per row: stored uncompressed (random data does not shrink).
        sqlx::query(&format!(
            "INSERT INTO blobs SELECT g, gen_random_bytes(1024) FROM generate_series(1, {}) g",
            random_mb * 1000
        ))
        .execute(&mut c)
        .await
        .unwrap();
    }
    rows.push(bench_case("random bytea", &random_db, scratch.path()).await);
    random_db.drop_now().await;

    println!(
        "| case | database | pg_dump -Fc -f | runway backup | ratio | dump size (plain / ours) | pg_restore | drill restore | drill total |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {:.2} GB | {:.2} s ({:.0} MB/s) | {:.2} s ({:.0} MB/s) | {:.3} | {:.1} / {:.1} MB | {:.2} s | {:.2} s | {:.2} s |",
            r.case,
            r.db_bytes as f64 / 1e9,
            r.plain_dump.as_secs_f64(),
            mb_s(r.db_bytes, r.plain_dump),
            r.ours.as_secs_f64(),
            mb_s(r.db_bytes, r.ours),
            r.plain_dump.as_secs_f64() / r.ours.as_secs_f64(),
            r.dump_bytes as f64 / 1e6,
            r.ours_bytes as f64 / 1e6,
            r.plain_restore.as_secs_f64(),
            r.drill_restore.as_secs_f64(),
            r.drill_total.as_secs_f64(),
        );
    }
    println!(
        "\nratio = runway throughput / pg_dump throughput (best of {ROUNDS} rounds each, same database, same run)"
    );
}

fn main() {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(bench());
}
