//! Object storage against moto's S3 server.
#![cfg(feature = "s3")]

use std::sync::Arc;

use runway_backup::{
    BackupError, BackupStorage, Backups, PgUrl, RestoreOptions, S3Storage, VerifyLevel,
};
use runway_testkit::{MotoServer, TestDatabase};
use secrecy::SecretString;

async fn bucket(moto: &MotoServer) -> (String, S3Storage) {
    let name = format!("runway-backups-{:08x}", rand::random::<u32>());
    // moto accepts any credentials; the bucket is created with a plain path-style PUT.
    let status = reqwest::Client::new()
        .put(format!("{}/{name}", moto.url()))
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "create bucket: {status}");
    let storage = S3Storage::builder()
        .with_bucket(&name)
        .with_prefix("prod/app")
        .with_region("us-east-1")
        .with_endpoint(moto.url())
        .with_allow_http(true)
        .with_part_size(5 << 20)
        .with_credentials("testing", SecretString::from("testing-secret"))
        .build()
        .unwrap();
    (name, storage)
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_backups_in_s3_verify_drill_and_restore() {
    let moto = MotoServer::start();
    let (_name, storage) = bucket(&moto).await;
    assert!(!format!("{storage:?}").contains("testing-secret"));
    let storage = Arc::new(storage);
    let db = TestDatabase::create().await;
    let pool = db.pool().await;
    sqlx::query("CREATE TABLE t (id int, payload text)")
        .execute(&pool)
        .await
        .unwrap();
    // Random text compresses little, so the dump spans several 5 MiB upload parts.
    sqlx::query("INSERT INTO t SELECT g, md5(random()::text) || md5(random()::text) || md5(random()::text) FROM generate_series(1, 250000) g")
        .execute(&pool)
        .await
        .unwrap();
    let backups = Backups::builder()
        .with_storage(storage.clone())
        .with_drill_server(PgUrl::parse(db.admin_url()).unwrap())
        .build()
        .unwrap();
    let m = backups
        .backup_postgres(&PgUrl::parse(db.url()).unwrap())
        .await
        .unwrap();
    assert!(m.size > 10 << 20, "multipart upload: {} bytes", m.size);
    assert_eq!(m.tables["public.t"], 250_000);
    let keys: Vec<String> = storage
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert_eq!(keys, vec![m.id.data_key(m.engine), m.id.manifest_key()]);
    assert!(storage.local_path(&m.file).is_none());

    let report = backups.verify(m.id, VerifyLevel::Drill).await.unwrap();
    assert!(report.verified);
    assert!(backups.list().await.unwrap()[0].is_verified());

    // Streamed restore (one job) and downloaded restore (two jobs).
    for jobs in [1, 2] {
        let target = db.sibling().await;
        backups
            .restore_postgres(
                m.id,
                &PgUrl::parse(target.url()).unwrap(),
                &RestoreOptions::new().with_jobs(jobs).with_no_owner(true),
            )
            .await
            .unwrap();
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
            .fetch_one(&target.pool().await)
            .await
            .unwrap();
        assert_eq!(n, 250_000);
    }

    // A corrupted object fails verification.
    let mut bytes = storage.get(&m.file).await.unwrap().to_vec();
    bytes[1000] ^= 0x10;
    storage.put(&m.file, bytes.into()).await.unwrap();
    let err = backups
        .verify(m.id, VerifyLevel::Checksum)
        .await
        .unwrap_err();
    assert!(matches!(err, BackupError::ChecksumMismatch { .. }), "{err}");
    // A missing object is a typed not-found.
    storage.delete(&m.file).await.unwrap();
    let err = backups
        .verify(m.id, VerifyLevel::Checksum)
        .await
        .unwrap_err();
    assert!(matches!(err, BackupError::NotFound(_)), "{err}");
    assert_eq!(err.kind(), runway_core::ErrorKind::NotFound);
}

#[tokio::test]
async fn aborted_uploads_leave_nothing() {
    use tokio::io::AsyncWriteExt;
    let moto = MotoServer::start();
    let (_name, storage) = bucket(&moto).await;
    let mut w = storage.create("backup_20260101_000000.dump").await.unwrap();
    w.write_all(&vec![7u8; 1 << 20]).await.unwrap();
    w.abort().await.unwrap();
    assert!(storage.list().await.unwrap().is_empty());
    let err = storage
        .get("backup_20260101_000000.dump")
        .await
        .unwrap_err();
    assert_eq!(*err.kind(), runway_core::ErrorKind::NotFound);
    assert!(storage.create("../escape").await.is_err());
    let err = S3Storage::builder()
        .with_bucket("b")
        .with_part_size(1024)
        .build()
        .unwrap_err();
    assert_eq!(*err.kind(), runway_core::ErrorKind::InvalidInput);
    assert!(
        S3Storage::builder().build().is_err(),
        "a bucket is required"
    );
}
