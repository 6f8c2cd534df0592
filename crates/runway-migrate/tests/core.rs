//! The runner's core guarantees, on real PostgreSQL and on SQLite (the same scenarios for both).

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::Fx;
use runway_core::event::MigrationEvent;
use runway_core::{Emitter, EventPayload, MemorySink};
use runway_migrate::{MigrateError, MigrationState, Resolution};

/// Instantiate each scenario for both backends.
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(#[tokio::test] async fn $name() { super::$name(super::Fx::pg().await).await })*
        }
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name(super::Fx::sqlite().await).await })*
        }
    };
}

both!(
    concurrent_runners_apply_each_migration_once,
    failing_transactional_migration_leaves_nothing,
    failing_no_transaction_migration_is_dirty_until_resolved,
    edited_applied_migration_is_refused_until_accepted,
    line_endings_and_trailing_spaces_keep_the_checksum,
    up_down_up_returns_the_same_schema,
    missing_and_out_of_order_are_refused,
    baseline_adopts_an_existing_schema,
    up_to_and_down_to_versions,
    failing_no_transaction_revert_is_dirty,
);

async fn failing_no_transaction_revert_is_dirty(fx: Fx) {
    fx.write(
        "1_pair.up.sql",
        "CREATE TABLE p1 (id INTEGER);\nCREATE TABLE p2 (id INTEGER);",
    );
    fx.write(
        "1_pair.down.sql",
        "-- runway: no-transaction\nDROP TABLE p1;\nDROP TABLE no_such_table;\nDROP TABLE p2;",
    );
    fx.migrator().up().await.unwrap();
    let err = fx.migrator().down(1).await.unwrap_err();
    assert!(
        matches!(
            err,
            MigrateError::Failed {
                version: 1,
                dirty: true,
                statement: Some(2),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!fx.table_exists("p1").await && fx.table_exists("p2").await);
    assert_eq!(fx.history().await, vec![(1, false)]);
    let blocked = fx.migrator().up().await.unwrap_err();
    assert!(
        matches!(blocked, MigrateError::Dirty { version: 1, .. }),
        "{blocked:?}"
    );
    // The operator finishes the revert by hand.
    fx.exec("DROP TABLE p2").await;
    fx.migrator()
        .resolve(1, Resolution::Reverted)
        .await
        .unwrap();
    assert_eq!(fx.migrator().up().await.unwrap().versions, vec![1]);
}

async fn concurrent_runners_apply_each_migration_once(fx: Fx) {
    fx.write(
        "1_log.up.sql",
        "CREATE TABLE applied_log (v INTEGER NOT NULL);",
    );
    for i in 2..=12 {
        fx.write(
            &format!("{i}_t{i}.up.sql"),
            &format!(
                "CREATE TABLE t{i} (id INTEGER);\nINSERT INTO applied_log (v) VALUES ({i});\n"
            ),
        );
    }
    let sink = MemorySink::new();
    let emitter = Emitter::new(Arc::new(sink.clone()));
    let runners: Vec<_> = (0..8)
        .map(|_| {
            let m = fx.migrator().with_emitter(emitter.clone());
            tokio::spawn(async move { m.up().await })
        })
        .collect();
    let mut applied_by: BTreeMap<i64, usize> = BTreeMap::new();
    for r in runners {
        let report = r.await.unwrap().expect("every runner succeeds");
        for v in report.versions {
            *applied_by.entry(v).or_default() += 1;
        }
    }
    assert_eq!(applied_by.len(), 12, "{applied_by:?}");
    assert!(applied_by.values().all(|n| *n == 1), "{applied_by:?}");
    assert_eq!(fx.scalar("SELECT COUNT(*) FROM applied_log").await, 11);
    assert_eq!(
        fx.scalar("SELECT COUNT(DISTINCT v) FROM applied_log").await,
        11
    );
    let history = fx.history().await;
    assert_eq!(history.len(), 12);
    assert!(history.iter().all(|(_, ok)| *ok));
    let payloads = sink.payloads();
    let acquired = payloads
        .iter()
        .filter(|p| matches!(p, EventPayload::Migration(MigrationEvent::LockAcquired)))
        .count();
    let released = payloads
        .iter()
        .filter(|p| matches!(p, EventPayload::Migration(MigrationEvent::LockReleased)))
        .count();
    assert_eq!((acquired, released), (8, 8));
}

async fn failing_transactional_migration_leaves_nothing(fx: Fx) {
    fx.write("1_ok.up.sql", "CREATE TABLE ok_table (id INTEGER);");
    fx.write(
        "2_broken.up.sql",
        "CREATE TABLE half_a (id INTEGER);\nCREATE TABLE half_b (id INTEGER);\nINSERT INTO no_such_table VALUES (1);\n",
    );
    let err = fx.migrator().up().await.unwrap_err();
    assert_eq!(err.version(), Some(2));
    assert!(
        err.to_string().contains("migration 2 (broken) failed up"),
        "{err}"
    );
    assert!(
        matches!(err, MigrateError::Failed { dirty: false, .. }),
        "{err:?}"
    );
    assert!(fx.table_exists("ok_table").await);
    assert!(!fx.table_exists("half_a").await);
    assert!(!fx.table_exists("half_b").await);
    assert_eq!(fx.history().await, vec![(1, true)]);

    // The lock was released on the error path: the next run gets it at once and, fixed, succeeds.
    fx.write(
        "2_broken.up.sql",
        "CREATE TABLE half_a (id INTEGER);\nCREATE TABLE half_b (id INTEGER);\n",
    );
    let report = fx
        .migrator()
        .with_lock_wait(std::time::Duration::from_secs(2))
        .up()
        .await
        .unwrap();
    assert_eq!(report.versions, vec![2]);
    assert!(fx.table_exists("half_b").await);
}

async fn failing_no_transaction_migration_is_dirty_until_resolved(fx: Fx) {
    fx.write("1_ok.up.sql", "CREATE TABLE ok_table (id INTEGER);");
    fx.write(
        "2_partial.up.sql",
        "-- runway: no-transaction\nCREATE TABLE nt_a (id INTEGER);\nINSERT INTO no_such_table VALUES (1);\nCREATE TABLE nt_b (id INTEGER);\n",
    );
    fx.write("2_partial.down.sql", "DROP TABLE nt_b;\nDROP TABLE nt_a;\n");
    let sink = MemorySink::new();
    let err = fx
        .migrator()
        .with_emitter(Emitter::new(Arc::new(sink.clone())))
        .up()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            MigrateError::Failed {
                version: 2,
                dirty: true,
                statement: Some(2),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(sink.payloads().iter().any(|p| matches!(
        p,
        EventPayload::Migration(MigrationEvent::Dirty { version: 2, .. })
    )));
    // The first statement committed on its own; the record says the migration is dirty.
    assert!(fx.table_exists("nt_a").await);
    assert_eq!(fx.history().await, vec![(1, true), (2, false)]);
    let status = fx.migrator().status().await.unwrap();
    assert_eq!(status.entries[1].state, MigrationState::Dirty);

    // Every run is blocked until the operator resolves it.
    for attempt in [fx.migrator().up().await, fx.migrator().down(1).await] {
        let e = attempt.unwrap_err();
        assert!(matches!(e, MigrateError::Dirty { version: 2, .. }), "{e:?}");
    }
    assert!(matches!(
        fx.migrator().resolve(1, Resolution::Applied).await,
        Err(MigrateError::NotDirty { version: 1 })
    ));

    // The operator undoes the partial work by hand, records that, fixes the file and runs again.
    fx.exec("DROP TABLE nt_a").await;
    fx.migrator()
        .resolve(2, Resolution::Reverted)
        .await
        .unwrap();
    assert_eq!(fx.history().await, vec![(1, true)]);
    fx.write(
        "2_partial.up.sql",
        "-- runway: no-transaction\nCREATE TABLE nt_a (id INTEGER);\nCREATE TABLE nt_b (id INTEGER);\n",
    );
    assert_eq!(fx.migrator().up().await.unwrap().versions, vec![2]);
    assert_eq!(fx.history().await, vec![(1, true), (2, true)]);

    // A dirty record resolved as applied also unblocks.
    fx.exec("UPDATE runway_migrations SET success = FALSE WHERE version = 2")
        .await;
    fx.migrator().resolve(2, Resolution::Applied).await.unwrap();
    assert_eq!(fx.migrator().down(1).await.unwrap().versions, vec![2]);
    assert!(!fx.table_exists("nt_a").await);
}

async fn edited_applied_migration_is_refused_until_accepted(fx: Fx) {
    fx.write("1_users.up.sql", "CREATE TABLE users (id INTEGER);\n");
    fx.migrator().up().await.unwrap();
    fx.write(
        "1_users.up.sql",
        "CREATE TABLE users (id INTEGER, extra INTEGER);\n",
    );
    fx.write("2_more.up.sql", "CREATE TABLE more (id INTEGER);\n");
    let err = fx.migrator().up().await.unwrap_err();
    assert!(
        matches!(err, MigrateError::Edited { version: 1, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("migration 1 (users) was edited"));
    let status = fx.migrator().status().await.unwrap();
    assert_eq!(status.entries[0].state, MigrationState::Edited);
    assert!(!fx.table_exists("more").await);

    fx.migrator().accept(1).await.unwrap();
    assert_eq!(fx.migrator().up().await.unwrap().versions, vec![2]);
}

async fn line_endings_and_trailing_spaces_keep_the_checksum(fx: Fx) {
    fx.write(
        "1_users.up.sql",
        "CREATE TABLE users (\n    id INTEGER\n);\n",
    );
    fx.migrator().up().await.unwrap();
    fx.write(
        "1_users.up.sql",
        "\u{feff}CREATE TABLE users (  \r\n    id INTEGER\t\r\n);\r\n\r\n",
    );
    fx.write("2_more.up.sql", "CREATE TABLE more (id INTEGER);\r\n");
    let report = fx.migrator().up().await.expect("CRLF is not an edit");
    assert_eq!(report.versions, vec![2]);
    let status = fx.migrator().status().await.unwrap();
    assert!(status.problems().is_empty(), "{status:?}");
}

async fn up_down_up_returns_the_same_schema(fx: Fx) {
    fx.write(
        "1_users.up.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);",
    );
    fx.write("1_users.down.sql", "DROP TABLE users;");
    fx.write(
        "2_phone.up.sql",
        "ALTER TABLE users ADD COLUMN phone VARCHAR(20);",
    );
    fx.write("2_phone.down.sql", "ALTER TABLE users DROP COLUMN phone;");
    if fx.is_pg() {
        fx.write(
            "3_phone_idx.up.sql",
            "-- runway: no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS users_phone_idx ON users (phone);",
        );
        fx.write(
            "3_phone_idx.down.sql",
            "-- runway: no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS users_phone_idx;",
        );
    } else {
        fx.write(
            "3_phone_idx.up.sql",
            "CREATE INDEX users_phone_idx ON users (phone);",
        );
        fx.write("3_phone_idx.down.sql", "DROP INDEX users_phone_idx;");
    }
    fx.write(
        "4_orders.up.sql",
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));\nCREATE VIEW order_count AS SELECT user_id, COUNT(*) AS n FROM orders GROUP BY user_id;",
    );
    fx.write(
        "4_orders.down.sql",
        "DROP VIEW order_count;\nDROP TABLE orders;",
    );

    let m = fx.migrator();
    m.up_to(1).await.unwrap();
    m.down_to(0).await.unwrap();
    let empty = fx.schema().await;
    m.up().await.unwrap();
    let first = fx.schema().await;
    assert!(first.contains("users_phone_idx"), "{first}");
    let down = m.down_to(0).await.unwrap();
    assert_eq!(down.versions, vec![4, 3, 2, 1]);
    assert_eq!(fx.schema().await, empty);
    m.up().await.unwrap();
    assert_eq!(fx.schema().await, first);
    assert_eq!(m.current().await.unwrap(), Some(4));
}

async fn missing_and_out_of_order_are_refused(fx: Fx) {
    fx.write("1_a.up.sql", "CREATE TABLE a (id INTEGER);");
    fx.write("3_c.up.sql", "CREATE TABLE c (id INTEGER);");
    fx.migrator().up().await.unwrap();
    fx.write("2_b.up.sql", "CREATE TABLE b (id INTEGER);");
    let err = fx.migrator().up().await.unwrap_err();
    assert!(
        matches!(
            err,
            MigrateError::OutOfOrder {
                version: 2,
                latest: 3
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        fx.migrator().status().await.unwrap().entries[1].state,
        MigrationState::PendingOutOfOrder
    );
    let report = fx.migrator().with_out_of_order(true).up().await.unwrap();
    assert_eq!(report.versions, vec![2]);

    fx.remove("3_c.up.sql");
    let err = fx.migrator().up().await.unwrap_err();
    assert!(
        matches!(err, MigrateError::MissingApplied { version: 3, .. }),
        "{err:?}"
    );
    assert!(fx.migrator().with_allow_missing(true).up().await.is_ok());
}

async fn baseline_adopts_an_existing_schema(fx: Fx) {
    fx.exec("CREATE TABLE legacy (id INTEGER)").await;
    fx.write("1_legacy.up.sql", "CREATE TABLE legacy (id INTEGER);");
    fx.write(
        "2_legacy_more.up.sql",
        "ALTER TABLE legacy ADD COLUMN more INTEGER;",
    );
    fx.write("3_new.up.sql", "CREATE TABLE fresh (id INTEGER);");
    fx.exec("ALTER TABLE legacy ADD COLUMN more INTEGER").await;
    let m = fx.migrator();
    assert_eq!(m.baseline(2).await.unwrap().versions, vec![2]);
    let status = m.status().await.unwrap();
    assert_eq!(status.entries[0].state, MigrationState::Baseline);
    assert_eq!(status.pending(), vec![3]);
    assert_eq!(m.up().await.unwrap().versions, vec![3]);
    assert!(matches!(
        m.baseline(3).await,
        Err(MigrateError::BaselineNotEmpty { version: 3, .. })
    ));
}

async fn up_to_and_down_to_versions(fx: Fx) {
    for i in 1..=4 {
        fx.write(
            &format!("{i}_t{i}.up.sql"),
            &format!("CREATE TABLE t{i} (id INTEGER);"),
        );
        fx.write(&format!("{i}_t{i}.down.sql"), &format!("DROP TABLE t{i};"));
    }
    let m = fx.migrator();
    assert_eq!(m.up_to(2).await.unwrap().versions, vec![1, 2]);
    assert_eq!(m.status().await.unwrap().pending(), vec![3, 4]);
    assert_eq!(m.up().await.unwrap().versions, vec![3, 4]);
    assert_eq!(m.down(2).await.unwrap().versions, vec![4, 3]);
    assert_eq!(m.down_to(1).await.unwrap().versions, vec![2]);
    assert!(m.down(0).await.unwrap().versions.is_empty());
    assert!(fx.table_exists("t1").await && !fx.table_exists("t2").await);
    assert!(matches!(
        m.up_to(9).await,
        Err(MigrateError::UnknownVersion { version: 9 })
    ));
}
