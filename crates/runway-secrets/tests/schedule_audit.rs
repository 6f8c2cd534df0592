//! The runbook's rotation schedule and the env-var audit.

use chrono::{DateTime, Utc};
use runway_core::{
    EnvExample, RequestToken, SecretStore, SetOptions, VariableScope, VariableStore,
};
use runway_secrets::audit::{audit, audit_stores};
use runway_secrets::schedule::inventory;
use runway_secrets::{
    DotenvStore, DueStatus, MemorySecretStore, RotationPolicy, SecretClass, SecretRecord,
};
use secrecy::SecretString;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn rec(name: &str, class: SecretClass, last: Option<&str>, compromised: bool) -> SecretRecord {
    SecretRecord {
        name: name.into(),
        class,
        last_rotated: last.map(at),
        compromised,
    }
}

#[test]
fn runbook_schedule_reports_what_is_due() {
    let policy = RotationPolicy::runbook();
    let now = at("2026-12-01T00:00:00Z");
    let report = policy.report(
        &[
            rec(
                "db/app",
                SecretClass::DatabasePassword,
                Some("2026-08-15T00:00:00Z"),
                false,
            ),
            rec(
                "db/reporting",
                SecretClass::DatabasePassword,
                Some("2026-09-10T00:00:00Z"),
                false,
            ),
            rec(
                "api/stripe",
                SecretClass::ApiKey,
                Some("2026-06-01T00:00:00Z"),
                true,
            ),
            rec(
                "api/mail",
                SecretClass::ApiKey,
                Some("2026-01-01T00:00:00Z"),
                false,
            ),
            rec(
                "jwt/signing",
                SecretClass::JwtSigningKey,
                Some("2025-11-20T00:00:00Z"),
                false,
            ),
            rec("jwt/legacy", SecretClass::JwtSigningKey, None, false),
        ],
        now,
    );
    let by: Vec<(&str, DueStatus)> = report
        .items
        .iter()
        .map(|i| (i.name.as_str(), i.status))
        .collect();
    assert_eq!(
        by,
        [
            ("api/stripe", DueStatus::Compromised),
            // due 2026-11-15 (three months after 08-15)
            ("db/app", DueStatus::Overdue { days: 16 }),
            // due 2026-11-20 (a year after)
            ("jwt/signing", DueStatus::Overdue { days: 11 }),
            ("jwt/legacy", DueStatus::NeverRotated),
            ("db/reporting", DueStatus::DueSoon { days: 9 }),
            ("api/mail", DueStatus::Ok),
        ]
    );
    assert_eq!(report.due().count(), 4);
    let text = report.to_string();
    assert!(text.contains("COMPROMISED"));
    assert!(text.contains("db/app"));
}

#[tokio::test]
async fn inventory_reads_last_rotation_from_the_store() {
    let store = MemorySecretStore::new();
    store
        .create(
            "db/app",
            SecretString::from("x"),
            &RequestToken::derive("db/app", "0"),
        )
        .await
        .unwrap();
    let inv = inventory(
        &store,
        &[
            ("db/app", SecretClass::DatabasePassword),
            ("api/none", SecretClass::ApiKey),
        ],
    )
    .await
    .unwrap();
    assert!(inv[0].last_rotated.is_some());
    assert_eq!(inv[1].last_rotated, None);
}

#[tokio::test]
async fn env_audit_uses_fingerprints_only() {
    let dir = tempfile::tempdir().unwrap();
    let example = EnvExample::parse(
        "DATABASE_URL=postgresql://localhost/app\nREDIS_URL=redis://localhost\nSECRET_KEY=\nNEW_FLAG=\n",
    )
    .unwrap();
    let store = DotenvStore::new(dir.path());
    let staging = VariableScope::environment("staging");
    let production = VariableScope::environment("production");
    let o = SetOptions::default();
    for (k, v) in [
        ("DATABASE_URL", "postgres://stg-pass-111@db/app"),
        ("REDIS_URL", "redis://shared"),
        ("SECRET_KEY", "stg-secret-value-zzz"),
        ("NEW_FLAG", "on"),
        ("DEBUG_TOOLBAR", "1"),
    ] {
        store
            .set(&staging, k, SecretString::from(v), &o)
            .await
            .unwrap();
    }
    for (k, v) in [
        ("DATABASE_URL", "postgres://prod-pass-222@db/app"),
        ("REDIS_URL", "redis://shared"),
        ("SECRET_KEY", "prod-secret-value-yyy"),
        ("HOTFIX_ONLY", "x"),
    ] {
        store
            .set(&production, k, SecretString::from(v), &o)
            .await
            .unwrap();
    }
    let report = audit_stores(
        &example,
        &[
            ("staging", &store, staging.clone()),
            ("production", &store, production.clone()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(report.environments[0].undocumented, ["DEBUG_TOOLBAR"]);
    assert_eq!(report.environments[1].missing, ["NEW_FLAG"]);
    assert_eq!(report.environments[1].undocumented, ["HOTFIX_ONLY"]);
    let c = report.comparison.as_ref().unwrap();
    let differing: Vec<&str> = c.differing.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(differing, ["DATABASE_URL", "SECRET_KEY"]);
    assert_eq!(c.identical.len(), 1);
    assert_eq!(c.identical[0].0, "REDIS_URL");
    assert_eq!(c.right_only, ["HOTFIX_ONLY"]);
    assert!(!report.is_clean());
    let text = format!(
        "{report}\n{report:?}\n{}",
        serde_json::to_string(&report).unwrap()
    );
    for v in [
        "stg-pass-111",
        "prod-pass-222",
        "stg-secret-value-zzz",
        "prod-secret-value-yyy",
        "redis://shared",
    ] {
        assert!(!text.contains(v), "value {v} leaked");
    }
    assert!(text.contains(&runway_core::fingerprint(&SecretString::from(
        "stg-secret-value-zzz"
    ))));

    // The same through the pure function.
    let s = store.list(&staging).await.unwrap();
    let p = store.list(&production).await.unwrap();
    let again = audit(
        &example,
        &[("staging", &s), ("production", &p)],
        Some(("staging", "production")),
    );
    assert_eq!(again, report);
}
