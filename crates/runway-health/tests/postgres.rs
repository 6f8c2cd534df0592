//! PostgreSQL checks against real servers: healthy, connections exhausted, near the limit, long queries,
//! server unreachable, and redaction.

mod common;

use std::time::Duration;

use runway_health::{Check, Exposure, HealthChecker, PostgresCheck, Problem, Status};
use std::sync::Arc;

use runway_testkit::{PgServer, TestDatabase};
use secrecy::SecretString;
use sqlx::{Connection, Executor, PgConnection};

/// A database on a private server, so other tests' connections never count against the limits.
async fn private_db() -> TestDatabase {
    let server = tokio::task::spawn_blocking(PgServer::start)
        .await
        .unwrap()
        .expect("a throwaway PostgreSQL server (initdb/pg_ctl)");
    TestDatabase::create_on_server(Arc::new(server)).await
}

/// `url` with its user replaced by `user`.
fn as_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    format!("{scheme}://{user}@{host}")
}

/// A non-superuser login role (database connection limits do not apply to superusers); dropped by the guard.
struct Role {
    name: String,
    admin: String,
}

impl Role {
    async fn create(db: &TestDatabase) -> Role {
        let name = format!("{}_app", db.name());
        let mut c = PgConnection::connect(db.admin_url()).await.unwrap();
        c.execute(format!("CREATE ROLE \"{name}\" LOGIN").as_str())
            .await
            .unwrap();
        Role {
            name,
            admin: db.admin_url().to_owned(),
        }
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Ok(mut c) = PgConnection::connect(&admin).await {
                    let _ = c
                        .execute(
                            format!(
                                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{name}'"
                            )
                            .as_str(),
                        )
                        .await;
                    let _ = c.execute(format!("DROP ROLE IF EXISTS \"{name}\"").as_str()).await;
                }
            });
        })
        .join();
    }
}

#[tokio::test]
async fn healthy_database_passes_with_measurements() {
    let db = private_db().await;
    let check = PostgresCheck::connect("database", &SecretString::from(db.url().to_owned()))
        .unwrap()
        .with_timeout(Duration::from_secs(3));
    let r = check.check().await;
    assert_eq!(r.status, Status::Pass, "{r:?}");
    assert!(r.observation("connections").unwrap() >= 1.0);
    assert!(r.observation("utilization").unwrap() > 0.0);
    assert_eq!(r.observation("longQueries"), Some(0.0));

    let pool = db.pool().await;
    let r = PostgresCheck::from_pool("database", pool).check().await;
    assert_eq!(r.status, Status::Pass, "{r:?}");
}

#[tokio::test]
async fn exhausted_connections_fail_and_near_limit_warns() {
    let db = private_db().await;
    let role = Role::create(&db).await;
    let user_url = as_user(db.url(), &role.name);
    {
        let mut admin = PgConnection::connect(db.url()).await.unwrap();
        admin
            .execute(format!("ALTER DATABASE \"{}\" CONNECTION LIMIT 5", db.name()).as_str())
            .await
            .unwrap();
    }
    // Hold 3 of 5: the check's own connection makes 4 of 5 = 80 %: a warning.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(PgConnection::connect(&user_url).await.unwrap());
    }
    let check = PostgresCheck::connect("database", &SecretString::from(user_url.clone())).unwrap();
    let r = check.check().await;
    assert_eq!(r.status, Status::Warn, "{r:?}");
    assert_eq!(r.observation("utilization"), Some(80.0));
    assert!(
        matches!(r.problem, Some(Problem::Threshold { ref measurement, .. }) if measurement == "utilization")
    );

    // Hold all 5: the server refuses the check's connection (SQLSTATE 53300).
    for _ in 0..2 {
        held.push(PgConnection::connect(&user_url).await.unwrap());
    }
    let r = check.check().await;
    assert_eq!(r.status, Status::Fail, "{r:?}");
    assert_eq!(r.problem, Some(Problem::ConnectionsExhausted));

    let checker = HealthChecker::builder().with_check(check).build().unwrap();
    let report = checker.report().await;
    assert_eq!(report.http_status(), 503);
    let public = report.to_health_json(Exposure::Public).to_string();
    assert!(public.contains("connections exhausted"), "{public}");
    for leak in [
        db.name(),
        role.name.as_str(),
        "127.0.0.1",
        "too many connections",
    ] {
        assert!(!public.contains(leak), "{leak} leaked: {public}");
    }
    // The internal detail has the server's message.
    let internal = report.to_health_json(Exposure::Internal).to_string();
    assert!(internal.contains("too many connections"), "{internal}");
    drop(held);
}

#[tokio::test]
async fn pool_use_counts_against_the_limit() {
    let db = private_db().await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_millis(300))
        .connect(db.url())
        .await
        .unwrap();
    let held = pool.acquire().await.unwrap();
    // One held plus the check's own = 2 of 2: exhausted.
    let check = PostgresCheck::from_pool("database", pool.clone());
    let r = check.check().await;
    assert_eq!(r.problem, Some(Problem::ConnectionsExhausted), "{r:?}");
    let held2 = pool.acquire().await.unwrap();
    // No connection left for the check at all: the pool times out.
    let r = check.check().await;
    assert_eq!(r.status, Status::Fail);
    assert_eq!(r.problem, Some(Problem::ConnectionsExhausted));
    drop((held, held2));
    // A roomier pool with nothing held: 1 of 4 in use (the check's own).
    let roomy = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(db.url())
        .await
        .unwrap();
    let r = PostgresCheck::from_pool("database", roomy).check().await;
    assert_eq!(r.status, Status::Pass, "{r:?}");
    assert_eq!(r.observation("utilization"), Some(25.0), "{r:?}");
}

#[tokio::test]
async fn long_running_queries_warn() {
    let db = TestDatabase::create().await;
    let url = db.url().to_owned();
    let sleeper = tokio::spawn(async move {
        let mut c = PgConnection::connect(&url).await.unwrap();
        let _ = c.execute("SELECT pg_sleep(3)").await;
    });
    let check = PostgresCheck::connect("database", &SecretString::from(db.url().to_owned()))
        .unwrap()
        .with_long_query(Duration::from_millis(200));
    let mut r = check.check().await;
    for _ in 0..40 {
        if r.status == Status::Warn {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        r = check.check().await;
    }
    assert_eq!(r.status, Status::Warn, "{r:?}");
    assert!(r.observation("longQueries").unwrap() >= 1.0);
    sleeper.abort();
}

#[tokio::test]
async fn unreachable_server_fails_without_leaking_the_password() {
    let port = common::closed_port();
    let url = format!("postgres://app:s3cr3t-pw@127.0.0.1:{port}/prod");
    let check = PostgresCheck::connect("database", &SecretString::from(url))
        .unwrap()
        .with_timeout(Duration::from_secs(2));
    assert!(!format!("{check:?}").contains("s3cr3t"));
    let checker = HealthChecker::builder().with_check(check).build().unwrap();
    let report = checker.report().await;
    let c = report.component("database").unwrap();
    assert_eq!(c.status, Status::Fail);
    assert_eq!(c.problem, Some(Problem::Unreachable));
    for exposure in [Exposure::Public, Exposure::Internal] {
        let text = report.to_runbook_json(exposure).to_string()
            + &report.to_health_json(exposure).to_string();
        assert!(!text.contains("s3cr3t"), "{text}");
    }
    assert!(
        PostgresCheck::connect("database", &SecretString::from("not a url".to_owned())).is_err()
    );
}
