//! The real-service fixtures connect for real and isolate tests.

use redis::AsyncCommands;
use runway_testkit::{PgServer, TestDatabase, TestRedis};
use std::sync::Arc;

#[tokio::test]
async fn postgres_select_one() {
    let db = TestDatabase::create().await;
    let pool = db.pool().await;
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(one, 1);
    let current: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(current, db.name());
}

#[tokio::test]
async fn two_tests_get_different_databases() {
    let a = TestDatabase::create().await;
    let b = TestDatabase::create().await;
    assert_ne!(a.name(), b.name());
    let pa = a.pool().await;
    let pb = b.pool().await;
    sqlx::query("CREATE TABLE only_in_a (id int)")
        .execute(&pa)
        .await
        .unwrap();
    let in_b: Option<String> = sqlx::query_scalar("SELECT to_regclass('only_in_a')::text")
        .fetch_one(&pb)
        .await
        .unwrap();
    assert_eq!(
        in_b, None,
        "a table created in one test database is visible in another"
    );
}

#[tokio::test]
async fn dropped_database_is_removed() {
    let db = TestDatabase::create().await;
    let keeper = db.sibling().await;
    let name = db.name().to_owned();
    drop(db);
    let pool = keeper.pool().await;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(
        !exists,
        "database {name} should be dropped with its fixture"
    );
}

#[tokio::test]
async fn throwaway_postgres_server_starts_and_stops() {
    let server = Arc::new(
        tokio::task::spawn_blocking(PgServer::start)
            .await
            .unwrap()
            .expect("initdb/pg_ctl must be installed (apt-get install postgresql)"),
    );
    let port = server.port();
    let db = TestDatabase::create_on_server(server.clone()).await;
    let pool = db.pool().await;
    let v: String = sqlx::query_scalar("SHOW port")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(v, port.to_string());
    pool.close().await;
    drop(db);
    drop(server);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "server still listening after drop"
    );
}

#[tokio::test]
async fn redis_ping_and_prefix_isolation() {
    let a = TestRedis::start().await;
    let b = TestRedis::start().await;
    assert_ne!(a.prefix(), b.prefix());
    let mut conn = a.connection().await;
    let pong: String = redis::cmd("PING").query_async(&mut conn).await.unwrap();
    assert_eq!(pong, "PONG");
    let _: () = conn.set(a.key("k"), "v").await.unwrap();
    let other: Option<String> = conn.get(b.key("k")).await.unwrap();
    assert_eq!(other, None);
    let _: () = conn.del(a.key("k")).await.unwrap();
}

#[tokio::test]
async fn private_redis_can_be_stopped() {
    let (redis, server) = TestRedis::private();
    let mut conn = redis.connection().await;
    let pong: String = redis::cmd("PING").query_async(&mut conn).await.unwrap();
    assert_eq!(pong, "PONG");
    server.stop();
    let client = redis::Client::open(redis.url()).unwrap();
    assert!(client.get_multiplexed_async_connection().await.is_err());
}
