//! Apply N (default 500) small generated migrations to an empty PostgreSQL database with runway-migrate and
//! with the peer, `sqlx migrate run`, on the same folder and server in the same run; then status and plan
//! latency (peer for status: `sqlx migrate info`).
//!
//! ```text
//! RUNWAY_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres scripts/bench-migrate.sh
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use runway_migrate::{MigrationSource, Migrator, PostgresTarget, Request};
use runway_testkit::TestDatabase;

fn sqlx_bin() -> PathBuf {
    runway_testkit::which("sqlx")
        .or_else(|| {
            let home = std::env::var_os("CARGO_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
            let p = home.join("bin").join("sqlx");
            p.is_file().then_some(p)
        })
        .expect("sqlx-cli is the peer of this benchmark: run scripts/bench-migrate.sh, which installs it")
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn generate(dir: &Path, n: usize) {
    for i in 1..=n {
        std::fs::write(
            dir.join(format!("{i}_create_t{i}.up.sql")),
            format!("CREATE TABLE t{i} (id BIGINT PRIMARY KEY, name TEXT NOT NULL);\n"),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{i}_create_t{i}.down.sql")),
            format!("DROP TABLE t{i};\n"),
        )
        .unwrap();
    }
}

async fn tables(db: &TestDatabase) -> i64 {
    let pool = db.pool().await;
    let n = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 't%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    n
}

async fn run_sqlx(sqlx: &Path, args: &[&str], dir: &Path, url: &str) -> Duration {
    let start = Instant::now();
    let out = tokio::process::Command::new(sqlx)
        .args(args)
        .arg("--source")
        .arg(dir)
        .arg("--database-url")
        .arg(url)
        .output()
        .await
        .unwrap();
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "sqlx failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn main() {
    let n: usize = std::env::var("RUNWAY_BENCH_MIGRATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let rounds: usize = std::env::var("RUNWAY_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let sqlx = sqlx_bin();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let folder = tempfile::tempdir().unwrap();
        generate(folder.path(), n);
        let mut ours = Vec::new();
        let mut peer = Vec::new();
        let mut last_db = None;
        for round in 0..rounds {
            // Alternate which tool goes first, so neither always gets the warmer server.
            for tool in if round % 2 == 0 { [0, 1] } else { [1, 0] } {
                let db = TestDatabase::create().await;
                if tool == 0 {
                    let start = Instant::now();
                    let source = MigrationSource::from_dir(folder.path()).unwrap();
                    let m = Migrator::new(source, PostgresTarget::from_url(db.url()).unwrap());
                    let report = m.up().await.unwrap();
                    ours.push(start.elapsed());
                    assert_eq!(report.versions.len(), n);
                    assert_eq!(tables(&db).await, n as i64);
                    last_db = Some(db);
                } else {
                    peer.push(run_sqlx(&sqlx, &["migrate", "run"], folder.path(), db.url()).await);
                    assert_eq!(tables(&db).await, n as i64);
                }
            }
        }
        let db = last_db.unwrap();
        let m = Migrator::new(
            MigrationSource::from_dir(folder.path()).unwrap(),
            PostgresTarget::from_url(db.url()).unwrap(),
        );
        let mut status = Vec::new();
        let mut plan_online = Vec::new();
        for _ in 0..15 {
            let t = Instant::now();
            let s = m.status().await.unwrap();
            status.push(t.elapsed());
            assert_eq!(s.current(), Some(n as i64));
            let t = Instant::now();
            assert!(m.plan(&Request::Up { to: None }).await.unwrap().is_empty());
            plan_online.push(t.elapsed());
        }
        let mut plan_offline = Vec::new();
        for _ in 0..15 {
            let t = Instant::now();
            let p = m.plan_against(&[], &Request::Up { to: None }).unwrap();
            let sql = p.to_sql();
            plan_offline.push(t.elapsed());
            assert_eq!(p.migrations.len(), n);
            assert!(!sql.is_empty());
        }
        let sqlx_db = TestDatabase::create().await;
        run_sqlx(&sqlx, &["migrate", "run"], folder.path(), sqlx_db.url()).await;
        let mut info = Vec::new();
        for _ in 0..5 {
            info.push(run_sqlx(&sqlx, &["migrate", "info"], folder.path(), sqlx_db.url()).await);
        }

        let (o, p) = (median(ours.clone()), median(peer.clone()));
        let (ob, pb) = (
            ours.iter().min().copied().unwrap(),
            peer.iter().min().copied().unwrap(),
        );
        println!("migrations: {n}, rounds: {rounds} (alternating order; medians, best of the rounds in brackets)");
        println!("| measurement | runway-migrate | sqlx-cli | ratio |");
        println!("|---|---|---|---|");
        println!(
            "| apply {n} migrations to an empty database | {} [{}] | {} [{}] (`sqlx migrate run`) | {:.2} [{:.2}] |",
            ms(o),
            ms(ob),
            ms(p),
            ms(pb),
            o.as_secs_f64() / p.as_secs_f64(),
            ob.as_secs_f64() / pb.as_secs_f64()
        );
        println!(
            "| status with {n} applied | {} | {} (`sqlx migrate info`) | {:.2} |",
            ms(median(status.clone())),
            ms(median(info.clone())),
            median(status).as_secs_f64() / median(info).as_secs_f64()
        );
        println!(
            "| plan `up` with {n} applied (reads the history) | {} | no equivalent | |",
            ms(median(plan_online))
        );
        println!(
            "| plan `up` of {n} offline (pure, renders SQL) | {} | no equivalent | |",
            ms(median(plan_offline))
        );
        println!(
            "all rounds, runway: {:?}",
            ours.iter().map(|d| ms(*d)).collect::<Vec<_>>()
        );
        println!(
            "all rounds, sqlx:   {:?}",
            peer.iter().map(|d| ms(*d)).collect::<Vec<_>>()
        );
    });
}
