//! Preflight over the sample repositories in tests/fixtures/app: every seeded problem is found, exactly,
//! and the clean repository passes for production with a fresh verified backup.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use runway::preflight::scan::{DebugRule, SecretRule};
use runway::preflight::{CheckId, CheckStatus, FindingKind, Preflight, PreflightError, Severity};
use runway_backup::{Backups, LocalDir, VerifyLevel};
use runway_core::secrecy::SecretString;
use runway_core::{
    EnvironmentKind, ErrorKind, SetOptions, VariableScope, VariableStore, Variables,
};
use runway_sim::SimPlatform;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/app")
        .join(name)
}

/// A fresh folder under the system temp dir, unique per test and process.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("runway-preflight-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const PROD_URL: &str = "postgresql://app:Sup3r-S3cret-Pw@db.internal:5432/app";

async fn target(vars: &[(&str, &str)]) -> (Arc<SimPlatform>, VariableScope) {
    let sim = Arc::new(SimPlatform::builder().environment("production").build());
    let scope = VariableScope::environment("production");
    let vars: Variables = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), SecretString::from(*v)))
        .collect();
    sim.set_many(&scope, vars, &SetOptions::default())
        .await
        .unwrap();
    (sim, scope)
}

/// A short description of each finding: (check, severity, location, kind) for exact comparison.
fn described(
    report: &runway::preflight::PreflightReport,
) -> Vec<(CheckId, Severity, String, String)> {
    report
        .findings
        .iter()
        .map(|f| {
            let loc = f
                .location
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            let kind = match &f.kind {
                FindingKind::VariableMissing { name, .. } => format!("missing {name}"),
                FindingKind::VariableUndocumented { name, .. } => format!("undocumented {name}"),
                FindingKind::MigrationWithoutDowngrade { version } => {
                    format!("no downgrade {version}")
                }
                FindingKind::MigrationLint { rule, .. } => format!("lint {rule}"),
                FindingKind::AlembicWithoutDowngrade { empty } => format!("alembic empty={empty}"),
                FindingKind::UnpinnedRequirement { package, .. } => format!("unpinned {package}"),
                FindingKind::UnpinnedPackage { package, .. } => format!("unpinned {package}"),
                FindingKind::HardcodedSecret { rule, .. } => format!("secret {}", rule.as_str()),
                FindingKind::DebugStatement { rule, .. } => format!("debug {}", rule.as_str()),
                FindingKind::BackupNotFresh { none_verified, .. } => {
                    format!("backup none_verified={none_verified}")
                }
                other => format!("{other:?}"),
            };
            (f.check, f.severity, loc, kind)
        })
        .collect()
}

#[tokio::test]
async fn seeded_repository_reports_every_problem() {
    let (store, scope) = target(&[
        ("DATABASE_URL", PROD_URL),
        ("REDIS_URL", "redis://:r3d1s-pw@cache.internal:6379/0"),
        ("LEGACY_FLAG", "on"),
    ])
    .await;
    let backups_dir = scratch("seeded-backups");
    let backups = Backups::builder()
        .with_storage(Arc::new(LocalDir::new(&backups_dir)))
        .build()
        .unwrap();
    let report = Preflight::new(fixture("seeded"))
        .with_variables(store, scope)
        .with_backups(backups, Duration::from_secs(24 * 3600))
        .build()
        .unwrap()
        .run()
        .await;

    use CheckId::*;
    use Severity::{Error as E, Warning as W};
    let expected: Vec<(CheckId, Severity, &str, &str)> = vec![
        (EnvVars, E, ".env.example:4", "missing STRIPE_API_KEY"),
        (EnvVars, E, ".env.example:5", "missing SENTRY_DSN"),
        (EnvVars, W, "", "undocumented LEGACY_FLAG"),
        (
            Migrations,
            E,
            "alembic/versions/a1b2c3_add_phone.py:16",
            "alembic empty=true",
        ),
        (
            Migrations,
            E,
            "migrations/2_add_phone.up.sql:1",
            "no downgrade 2",
        ),
        (
            Migrations,
            E,
            "migrations/2_add_phone.up.sql:2",
            "lint adding-required-column",
        ),
        (
            Dependencies,
            E,
            "requirements-base.txt:3",
            "unpinned alembic",
        ),
        (Dependencies, E, "requirements.txt:5", "unpinned celery"),
        (Dependencies, E, "requirements.txt:6", "unpinned redis"),
        (Dependencies, E, "web/package.json:6", "unpinned axios"),
        (Dependencies, E, "web/package.json:9", "unpinned vite"),
        (Secrets, E, "app/config.py:4", "secret aws-access-key"),
        (Secrets, E, "app/config.py:5", "secret password-assignment"),
        (Secrets, E, "app/notify.py:3", "secret slack-webhook"),
        (Secrets, E, "deploy/id_rsa:1", "secret private-key"),
        (DebugStatements, W, "app/main.py:11", "debug print"),
        (DebugStatements, E, "app/main.py:12", "debug breakpoint"),
        (DebugStatements, E, "web/src/app.js:5", "debug console-log"),
        (DebugStatements, E, "web/src/app.js:7", "debug debugger"),
        (Backup, E, "", "backup none_verified=true"),
    ];
    // Built without the linter (`--no-default-features`), its finding is absent and the rest holds.
    let linted = cfg!(feature = "lint");
    let expected: Vec<(CheckId, Severity, String, String)> = expected
        .into_iter()
        .filter(|(_, _, _, k)| linted || !k.starts_with("lint "))
        .map(|(c, s, l, k)| (c, s, l.to_owned(), k.to_owned()))
        .collect();
    assert_eq!(described(&report), expected, "{}", report.render_text());

    assert!(!report.passed());
    let errors = if linted { 18 } else { 17 };
    assert_eq!((report.errors(), report.warnings()), (errors, 2));
    for c in CheckId::ALL {
        assert_eq!(report.status(c), CheckStatus::Failed, "{c}");
    }
    assert_eq!(report.environment.as_deref(), Some("production"));
    assert_eq!(report.environment_kind, EnvironmentKind::Production);

    // The undocumented variable is shown by fingerprint, never by value.
    let undocumented = report
        .findings
        .iter()
        .find_map(|f| match &f.kind {
            FindingKind::VariableUndocumented { fingerprint, .. } => Some(fingerprint.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        undocumented,
        runway_core::fingerprint(&SecretString::from("on"))
    );

    // No secret value (target variables, seeded secrets) in any rendering.
    let text = report.render_text();
    let json = report.to_json().to_string();
    let debug = format!("{report:?}");
    for secret in [
        "Sup3r-S3cret-Pw",
        "r3d1s-pw",
        "AKIAZ7Q3MX2W4PLKD9RT", // preflight:allow (the seeded key, checked absent)
        "Tr0ub4dor&3-prod",
        "q8ZkT2vR9xLm4PwN7bYc3HsJ",
        "bm90IGEgcmVhbCBrZXk",
    ] {
        for (name, out) in [("text", &text), ("json", &json), ("debug", &debug)] {
            assert!(!out.contains(secret), "{secret} leaked into {name}");
        }
    }
    assert!(json.contains("\"passed\":false"));
    // Finding fields and kind fields never collide in JSON (one `check`, one `message`).
    let v = report.to_json();
    let lint = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["type"] == "migration_lint");
    if let Some(lint) = lint {
        assert_eq!(lint["check"], "migrations");
        assert!(
            lint["message"]
                .as_str()
                .unwrap()
                .starts_with("[adding-required-column]")
        );
        assert_eq!(lint["location"]["line"], 2);
    }
    assert!(text.contains(&format!("BLOCKED: {errors} errors, 2 warnings")));

    // Skipped: node_modules, files the repository's .gitignore lists, tests' print, the AWS example key.
    assert!(!text.contains("node_modules"));
    assert!(!text.contains("debug.log"));
    assert!(!text.contains("tests/test_api.py"));
    std::fs::remove_dir_all(backups_dir).ok();
}

#[tokio::test]
async fn clean_repository_passes_for_production() {
    let (store, scope) = target(&[
        ("DATABASE_URL", PROD_URL),
        ("REDIS_URL", "redis://cache.internal:6379/0"),
    ])
    .await;
    // A verified backup taken just now: a SQLite backup plus a restore drill.
    let dir = scratch("clean-backups");
    let db = dir.join("app.db");
    runway_backup::demo::create_sqlite(&db, 5).await.unwrap();
    let backups = Backups::builder()
        .with_storage(Arc::new(LocalDir::new(dir.join("store"))))
        .build()
        .unwrap();
    let manifest = backups.backup_sqlite(&db).await.unwrap();
    assert!(
        backups
            .verify(manifest.id, VerifyLevel::Drill)
            .await
            .unwrap()
            .verified
    );

    let report = Preflight::new(fixture("clean"))
        .with_variables(store, scope)
        .with_backups(backups, Duration::from_secs(3600))
        .build()
        .unwrap()
        .run()
        .await;
    assert!(report.passed(), "{}", report.render_text());
    assert!(report.findings.is_empty(), "{}", report.render_text());
    for c in CheckId::ALL {
        assert_eq!(report.status(c), CheckStatus::Passed, "{c}");
    }
    let text = report.render_text();
    assert!(text.contains("PASSED"), "{text}");
    let migrations = if cfg!(feature = "lint") {
        "2 SQL migrations in migrations, linted: 0 errors"
    } else {
        "2 SQL migrations in migrations, not linted"
    };
    assert!(text.contains(migrations), "{text}");
    assert!(report.to_json()["passed"].as_bool().unwrap());
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn stale_backup_blocks_production_but_only_warns_for_staging() {
    let dir = scratch("stale-backups");
    let db = dir.join("app.db");
    runway_backup::demo::create_sqlite(&db, 2).await.unwrap();
    let backups = Backups::builder()
        .with_storage(Arc::new(LocalDir::new(dir.join("store"))))
        .build()
        .unwrap();
    let manifest = backups.backup_sqlite(&db).await.unwrap();
    backups
        .verify(manifest.id, VerifyLevel::Drill)
        .await
        .unwrap();
    // Any backup is older than zero seconds.
    for (kind, severity) in [
        (EnvironmentKind::Production, Severity::Error),
        (EnvironmentKind::Staging, Severity::Warning),
    ] {
        let report = Preflight::new(fixture("clean"))
            .with_backups(backups.clone(), Duration::ZERO)
            .with_environment_kind(kind)
            .build()
            .unwrap()
            .run()
            .await;
        let f: Vec<_> = report.findings_for(CheckId::Backup).collect();
        assert_eq!(f.len(), 1, "{}", report.render_text());
        assert!(matches!(
            f[0].kind,
            FindingKind::BackupNotFresh {
                none_verified: false,
                ..
            }
        ));
        assert_eq!(f[0].severity, severity);
    }
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn without_components_file_checks_still_run() {
    let report = Preflight::new(fixture("seeded"))
        .with_lint(false)
        .build()
        .unwrap()
        .run()
        .await;
    // No store: env-vars is skipped (the example parses); not production: no backup needed.
    assert_eq!(report.status(CheckId::EnvVars), CheckStatus::Skipped);
    assert_eq!(report.status(CheckId::Backup), CheckStatus::Skipped);
    assert_eq!(report.findings_for(CheckId::Secrets).count(), 4);
    // Lint off: the downgrade is still required, the NOT NULL column is not reported.
    let m: Vec<_> = report.findings_for(CheckId::Migrations).collect();
    assert_eq!(m.len(), 2, "{}", report.render_text());
    assert!(
        !m.iter()
            .any(|f| matches!(f.kind, FindingKind::MigrationLint { .. }))
    );
    assert!(report.findings.iter().any(|f| matches!(
        f.kind,
        FindingKind::DebugStatement {
            rule: DebugRule::ConsoleLog,
            ..
        }
    )));
    assert!(report.findings.iter().any(|f| matches!(
        f.kind,
        FindingKind::HardcodedSecret {
            rule: SecretRule::PrivateKey,
            ..
        }
    )));
}

#[tokio::test]
async fn ignore_patterns_and_a_failing_store() {
    #[derive(Debug)]
    struct Down;
    #[async_trait::async_trait]
    impl VariableStore for Down {
        fn capabilities(&self) -> runway_core::VariableCapabilities {
            runway_core::VariableCapabilities::new(false, false)
        }
        async fn list(&self, _: &VariableScope) -> runway_core::Result<Variables> {
            Err(runway_core::Error::unavailable("provider returned 503"))
        }
        async fn set(
            &self,
            _: &VariableScope,
            _: &str,
            _: SecretString,
            _: &SetOptions,
        ) -> runway_core::Result<()> {
            unreachable!("preflight never writes")
        }
        async fn set_many(
            &self,
            _: &VariableScope,
            _: Variables,
            _: &SetOptions,
        ) -> runway_core::Result<()> {
            unreachable!("preflight never writes")
        }
        async fn delete(
            &self,
            _: &VariableScope,
            _: &str,
            _: &SetOptions,
        ) -> runway_core::Result<()> {
            unreachable!("preflight never writes")
        }
    }
    let report = Preflight::new(fixture("seeded"))
        .with_variables(Arc::new(Down), VariableScope::environment("staging"))
        .with_ignore("app/")
        .with_ignore("deploy/id_rsa")
        .build()
        .unwrap()
        .run()
        .await;
    let env: Vec<_> = report.findings_for(CheckId::EnvVars).collect();
    assert_eq!(env.len(), 1);
    assert!(
        matches!(&env[0].kind, FindingKind::ComponentFailed { error_kind, .. } if error_kind == "Unavailable")
    );
    assert!(env[0].blocks());
    assert_eq!(
        report.findings_for(CheckId::Secrets).count(),
        0,
        "{}",
        report.render_text()
    );
    assert_eq!(report.environment_kind, EnvironmentKind::Staging);
}

#[test]
fn bad_configuration_is_typed() {
    let err = Preflight::new("/definitely/not/here").build().unwrap_err();
    assert!(matches!(err, PreflightError::Repo { .. }));
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = Preflight::new(fixture("clean"))
        .with_migrations_dir("../../etc")
        .build()
        .unwrap_err();
    assert!(matches!(err, PreflightError::BadPath { .. }));
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

/// Arbitrary input never panics the scanners (a deterministic generator over many shapes of input:
/// random bytes, fragments of every pattern, and mutations of real lines).
#[test]
fn scanners_never_panic_on_arbitrary_input() {
    use runway::preflight::scan;
    let fragments = [
        "AKIA",
        "password",
        " = ",
        ":",
        "\"",
        "'",
        "`",
        "=>",
        ":=",
        "==",
        "-----BEGIN ",
        "PRIVATE KEY-----",
        "hooks.slack.com/services/",
        "/",
        "xoxb-",
        "ghp_",
        "sk_live_",
        "console.log(",
        "debugger;",
        "print(",
        "breakpoint()",
        "import pdb",
        "#",
        "//",
        "\\",
        "\n",
        "\r\n",
        " ",
        "é",
        "日本",
        "\u{0}",
        "==1.*",
        "@",
        "git+",
        "-r ",
        "-e ",
        ";",
        "[",
        "]",
        "{",
        "}",
        "def downgrade(",
        "def upgrade(",
        "\"\"\"",
        "pass",
        "    ",
        "\t",
        "0123456789abcdef",
        "Q2W3E4R5T6Y7U8I9",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..4000 {
        let n = (next() % 24) as usize;
        let mut s = String::new();
        for _ in 0..n {
            if next() % 4 == 0 {
                s.push(char::from_u32((next() % 0x2FFF) as u32).unwrap_or('x'));
            } else {
                s.push_str(fragments[(next() as usize) % fragments.len()]);
            }
        }
        for file in [
            "a.py",
            "web/a.js",
            "config.ini",
            ".env",
            "requirements.txt",
            "alembic/versions/x.py",
        ] {
            let _ = scan::secrets(file, &s);
            let _ = scan::debug_statements(file, &s);
        }
        let _ = scan::requirements("requirements.txt", &s);
        let _ = scan::package_json("package.json", &s, false);
        let _ = scan::alembic_downgrade("alembic/versions/x.py", &s);
        let mut ig = scan::IgnoreSet::with_defaults();
        ig.add_file(&s);
        let _ = ig.is_ignored(&s, false);
        // Every finding of the secret scanner hides what it found.
        for f in scan::secrets("a.py", &s) {
            if let FindingKind::HardcodedSecret { preview, .. } = &f.kind {
                assert!(preview.contains("redacted"), "{preview}");
            }
        }
    }
}
