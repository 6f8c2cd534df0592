//! Redis and queue-depth checks against real servers, including a stopped one.

use std::time::Duration;

use redis::AsyncCommands;
use runway_health::{Check, Exposure, HealthChecker, Problem, QueueDepthCheck, RedisCheck, Status};
use runway_testkit::TestRedis;
use secrecy::SecretString;

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

#[tokio::test]
async fn ping_and_memory() {
    let (redis, _server) = TestRedis::private();
    let check = RedisCheck::new("redis", &secret(redis.url())).unwrap();
    let r = check.check().await;
    assert_eq!(r.status, Status::Pass, "{r:?}");
    assert!(r.observation("memory").unwrap() > 0.0);
    assert_eq!(r.observation("utilization"), None);

    // A maxmemory just above what is used: memory use is above 80 %.
    let mut conn = redis.connection().await;
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(&mut conn)
        .await
        .unwrap();
    let used: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg(used * 100 / 90)
        .query_async(&mut conn)
        .await
        .unwrap();
    let r = check.check().await;
    assert_eq!(r.status, Status::Warn, "{r:?}");
    let r = RedisCheck::new("redis", &secret(redis.url()))
        .unwrap()
        .with_memory_fail(0.5)
        .check()
        .await;
    assert_eq!(r.status, Status::Fail, "{r:?}");
}

#[tokio::test]
async fn queue_depth_of_celery_lists() {
    let redis = TestRedis::start().await;
    let (q1, q2) = (redis.key("celery"), redis.key("emails"));
    let mut conn = redis.connection().await;
    let tasks: Vec<String> = (0..60).map(|i| format!("task-{i}")).collect();
    let _: () = conn.rpush(&q1, &tasks).await.unwrap();
    let check = QueueDepthCheck::new("queue", &secret(redis.url()))
        .unwrap()
        .with_queues([q1.clone(), q2.clone()]);
    let r = check.check().await;
    assert_eq!(r.status, Status::Pass);
    assert_eq!(r.observation("queueDepth"), Some(60.0));
    let _: () = conn.rpush(&q2, &tasks[..40]).await.unwrap();
    let r = check.check().await;
    assert_eq!(r.observation("queueDepth"), Some(100.0));
    assert_eq!(
        r.status,
        Status::Warn,
        "100 tasks reaches the runbook's limit"
    );
    let r = QueueDepthCheck::new("queue", &secret(redis.url()))
        .unwrap()
        .with_queues([q1.clone(), q2.clone()])
        .with_fail_at(100)
        .check()
        .await;
    assert_eq!(r.status, Status::Fail);
    let _: () = conn.del(&[&q1, &q2]).await.unwrap();
}

#[tokio::test]
async fn stopped_redis_fails_and_recovers_nothing_leaks() {
    let (redis, server) = TestRedis::private();
    let url_with_password = redis.url().replace("redis://", "redis://:hunter2@");
    let check = RedisCheck::new("redis", &secret(redis.url()))
        .unwrap()
        .with_timeout(Duration::from_millis(800));
    let queue = QueueDepthCheck::new("queue", &secret(redis.url()))
        .unwrap()
        .with_timeout(Duration::from_millis(800));
    assert_eq!(check.check().await.status, Status::Pass);
    assert_eq!(queue.check().await.status, Status::Pass);
    server.stop();
    let checker = HealthChecker::builder()
        .with_check(check)
        .with_check(queue)
        .with_check(
            RedisCheck::new("cache", &secret(&url_with_password))
                .unwrap()
                .with_timeout(Duration::from_millis(800)),
        )
        .build()
        .unwrap();
    let report = checker.report().await;
    assert_eq!(report.status, Status::Fail);
    assert_eq!(report.http_status(), 503);
    for name in ["redis", "queue", "cache"] {
        let c = report.component(name).unwrap();
        assert_eq!(c.status, Status::Fail, "{name}: {c:?}");
        assert!(
            matches!(
                c.problem,
                Some(Problem::Unreachable | Problem::Timeout { .. })
            ),
            "{name}: {c:?}"
        );
    }
    let runbook = report.to_runbook_json(Exposure::Public);
    assert_eq!(runbook["checks"]["redis"], "unhealthy");
    let port = redis.url().rsplit(':').next().unwrap().to_owned();
    for exposure in [Exposure::Public, Exposure::Internal] {
        let text = report.to_health_json(exposure).to_string()
            + &report.to_runbook_json(exposure).to_string();
        assert!(!text.contains("hunter2"), "{text}");
        if exposure == Exposure::Public {
            assert!(!text.contains(&port) && !text.contains("refused"), "{text}");
        }
    }
}
