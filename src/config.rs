//! `runway.toml`: what a release deploys where, with environment overrides.
//!
//! Sources, later ones winning: built-in defaults (the embedded default: simulator, SQLite, local backups,
//! console notifications), the file, then environment variables `RUNWAY_<SECTION>__<KEY>`
//! (`RUNWAY_PLATFORM__UNITS=5`, `RUNWAY_ENVIRONMENT__NAME=staging`).
//!
//! **Secrets never come from the file**: the database URL comes from `RUNWAY_DATABASE_URL` (or
//! `DATABASE_URL`) and the Slack webhook from `SLACK_WEBHOOK_URL`; a file that carries either is rejected.
//!
//! ```
//! let cfg = runway::config::Config::from_toml_str(r#"
//!     [environment]
//!     name = "staging"
//!     [platform]
//!     units = 5
//!     [backup]
//!     max_age = "6h"
//! "#).unwrap();
//! assert_eq!(cfg.environment.name, "staging");
//! assert_eq!(cfg.platform.units, 5);
//! assert_eq!(cfg.backup.max_age, std::time::Duration::from_secs(6 * 3600));
//! assert!(runway::config::Config::from_toml_str("[platform]\nunits = \"many\"").is_err());
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// A configuration problem, naming the key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A value is malformed or a key unknown.
    #[error("invalid configuration: {0}")]
    Invalid(String),
    /// A secret was put in the file.
    #[error("{key} is a secret: set it in the environment ({env}), not in the file")]
    SecretInFile {
        /// The key.
        key: &'static str,
        /// The environment variable to use instead.
        env: &'static str,
    },
}

impl ConfigError {
    /// Always [`runway_core::ErrorKind::InvalidInput`].
    pub fn kind(&self) -> runway_core::ErrorKind {
        runway_core::ErrorKind::InvalidInput
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where state lives (lock, journal, SQLite database, backups) for the embedded default.
    pub state_dir: PathBuf,
    /// The target environment.
    pub environment: EnvironmentConfig,
    /// The release.
    pub release: ReleaseConfig,
    /// The platform.
    pub platform: PlatformConfig,
    /// The database.
    pub database: DatabaseConfig,
    /// Migrations.
    pub migrations: MigrationsConfig,
    /// Backups.
    pub backup: BackupConfig,
    /// The rollout.
    pub rollout: RolloutSection,
    /// Post-deploy verification.
    pub verify: VerifySection,
    /// Notifications.
    pub notify: NotifySection,
    /// The pre-deployment checklist.
    pub preflight: PreflightSection,
}

/// `[preflight]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PreflightSection {
    /// The application repository to check before releasing; unset: no preflight.
    pub repo: Option<PathBuf>,
}

/// `[environment]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnvironmentConfig {
    /// Its name (`production`, `staging`); the kind follows from it.
    pub name: String,
}

impl Default for EnvironmentConfig {
    fn default() -> Self {
        EnvironmentConfig {
            name: "production".into(),
        }
    }
}

/// `[release]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReleaseConfig {
    /// Version label.
    pub version: String,
    /// The release the units run before (simulator only).
    pub previous: String,
    /// Commit message for notifications.
    pub message: Option<String>,
    /// Author for notifications.
    pub author: Option<String>,
}

impl Default for ReleaseConfig {
    fn default() -> Self {
        ReleaseConfig {
            version: "v1.1".into(),
            previous: "v1.0".into(),
            message: Some("feat(users): add phone numbers".into()),
            author: Some("demo".into()),
        }
    }
}

/// Which platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlatformKind {
    /// The built-in simulator.
    Sim,
    /// Railway (feature `railway`).
    Railway,
    /// Cloud66 (feature `cloud66`).
    Cloud66,
}

/// `[platform]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlatformConfig {
    /// Which platform.
    pub kind: PlatformKind,
    /// Simulated units (the runbook's three API servers).
    pub units: usize,
    /// Simulator: make the new release fail its health checks (shows the automatic rollback).
    pub bad_release: bool,
    /// Simulator: the share of requests the new release answers with 5xx while passing its health checks
    /// (shows the rollback after a failed post-deploy verification).
    pub error_rate: f64,
    /// Simulator: the variables the environment starts with, in `.env` syntax.
    pub env_file: Option<PathBuf>,
    /// Simulator: time from deploy to process start.
    #[serde(with = "humantime_serde")]
    pub start_time: Duration,
    /// Simulator: time from start to ready.
    #[serde(with = "humantime_serde")]
    pub ready_time: Duration,
}

impl Default for PlatformConfig {
    fn default() -> Self {
        PlatformConfig {
            kind: PlatformKind::Sim,
            units: 3,
            bad_release: false,
            error_rate: 0.001,
            env_file: None,
            start_time: Duration::from_millis(800),
            ready_time: Duration::from_millis(1200),
        }
    }
}

/// `[database]`. The URL is a secret and comes from the environment only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// The SQLite file of the embedded default, relative to `state_dir`.
    pub sqlite: PathBuf,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            sqlite: "app.db".into(),
        }
    }
}

/// `[migrations]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MigrationsConfig {
    /// The folder; unset: the built-in demo migrations (the runbook's `users.phone` example).
    pub dir: Option<PathBuf>,
    /// Lint PostgreSQL migrations before applying them.
    pub lint: bool,
}

impl Default for MigrationsConfig {
    fn default() -> Self {
        MigrationsConfig {
            dir: None,
            lint: true,
        }
    }
}

/// `[backup]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupConfig {
    /// Where backups go, relative to `state_dir`.
    pub dir: PathBuf,
    /// Take (and drill) a backup before migrating.
    pub take: bool,
    /// The newest verified backup must be younger than this.
    #[serde(with = "humantime_serde")]
    pub max_age: Duration,
}

impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig {
            dir: "backups".into(),
            take: true,
            max_age: Duration::from_secs(24 * 3600),
        }
    }
}

/// `[rollout]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RolloutSection {
    /// `one-at-a-time` (the runbook's default) or `rolling`.
    pub strategy: String,
    /// For `rolling`: surge, as a count or a percentage.
    pub max_surge: String,
    /// For `rolling`: unavailability, as a count or a percentage.
    pub max_unavailable: String,
    /// Health probe period.
    #[serde(with = "humantime_serde")]
    pub period: Duration,
    /// Consecutive failures that fail a unit.
    pub failure_threshold: u32,
    /// Time a unit must stay healthy before the next batch.
    #[serde(with = "humantime_serde")]
    pub bake: Duration,
    /// No progress within this is a failure.
    #[serde(with = "humantime_serde")]
    pub progress_deadline: Duration,
}

impl Default for RolloutSection {
    fn default() -> Self {
        RolloutSection {
            strategy: "one-at-a-time".into(),
            max_surge: "25%".into(),
            max_unavailable: "0".into(),
            period: Duration::from_millis(250),
            failure_threshold: 3,
            bake: Duration::from_millis(500),
            progress_deadline: Duration::from_secs(120),
        }
    }
}

/// `[verify]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerifySection {
    /// The monitoring window (the runbook's 5 to 30 minutes; short for the simulator).
    #[serde(with = "humantime_serde")]
    pub window: Duration,
    /// How often metrics are read.
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// Requests needed before any verdict.
    pub min_requests: u64,
}

impl Default for VerifySection {
    fn default() -> Self {
        VerifySection {
            window: Duration::from_secs(6),
            interval: Duration::from_secs(2),
            min_requests: 400,
        }
    }
}

/// `[notify]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifySection {
    /// `console` or `slack` (the webhook URL from `SLACK_WEBHOOK_URL`).
    pub kind: String,
}

impl Default for NotifySection {
    fn default() -> Self {
        NotifySection {
            kind: "console".into(),
        }
    }
}

impl Config {
    /// Defaults, then `path` when it exists, then `RUNWAY_*` environment variables.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(p) = path {
            let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                path: p.to_owned(),
                source,
            })?;
            check_no_secrets(&text)?;
            fig = fig.merge(Toml::string(&text));
        }
        fig = fig.merge(Env::prefixed("RUNWAY_").split("__").filter(|k| {
            // RUNWAY_DATABASE_URL and the test fixtures' variables are not configuration keys.
            let k = k.as_str();
            !k.eq_ignore_ascii_case("database_url") && !k.to_ascii_lowercase().starts_with("test_")
        }));
        finish(fig)
    }

    /// Defaults, then a TOML document (no environment): the decoder behind [`load`](Self::load).
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        check_no_secrets(text)?;
        finish(Figment::from(Serialized::defaults(Config::default())).merge(Toml::string(text)))
    }

    /// The database URL from `RUNWAY_DATABASE_URL` or `DATABASE_URL`; `None`: the embedded SQLite file.
    pub fn database_url() -> Option<SecretString> {
        ["RUNWAY_DATABASE_URL", "DATABASE_URL"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
            .map(SecretString::from)
    }

    /// The Slack webhook URL from `SLACK_WEBHOOK_URL`.
    pub fn slack_webhook() -> Option<SecretString> {
        std::env::var("SLACK_WEBHOOK_URL")
            .ok()
            .filter(|v| !v.is_empty())
            .map(SecretString::from)
    }
}

fn finish(fig: Figment) -> Result<Config, ConfigError> {
    let cfg: Config = fig
        .extract()
        .map_err(|e| ConfigError::Invalid(e.to_string()))?;
    if !(0.0..=1.0).contains(&cfg.platform.error_rate) {
        return Err(ConfigError::Invalid(
            "platform.error_rate must be between 0 and 1".into(),
        ));
    }
    if cfg.platform.units == 0 {
        return Err(ConfigError::Invalid(
            "platform.units must be at least 1".into(),
        ));
    }
    if !matches!(cfg.rollout.strategy.as_str(), "one-at-a-time" | "rolling") {
        return Err(ConfigError::Invalid(format!(
            "rollout.strategy {:?}: use one-at-a-time or rolling",
            cfg.rollout.strategy
        )));
    }
    if !matches!(cfg.notify.kind.as_str(), "console" | "slack") {
        return Err(ConfigError::Invalid(format!(
            "notify.kind {:?}: use console or slack",
            cfg.notify.kind
        )));
    }
    Ok(cfg)
}

/// Reject secrets in the file before anything else reads it (the error never quotes the value).
fn check_no_secrets(text: &str) -> Result<(), ConfigError> {
    let value: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        ConfigError::Invalid(format!("not valid TOML: {}", e.message()))
    })?;
    let has = |section: &str, key: &str| {
        value
            .get(section)
            .and_then(|s| s.as_table())
            .is_some_and(|t| t.contains_key(key))
    };
    if has("database", "url") {
        return Err(ConfigError::SecretInFile {
            key: "database.url",
            env: "RUNWAY_DATABASE_URL",
        });
    }
    if has("notify", "webhook_url") || has("notify", "slack_webhook_url") {
        return Err(ConfigError::SecretInFile {
            key: "notify.webhook_url",
            env: "SLACK_WEBHOOK_URL",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn arbitrary_documents_are_typed_errors_or_configs(text in "\\PC{0,300}") {
            if let Err(e) = Config::from_toml_str(&text) {
                proptest::prop_assert_eq!(e.kind(), runway_core::ErrorKind::InvalidInput);
            }
        }

        #[test]
        fn arbitrary_sections_and_values(section in "[a-z]{1,10}", key in "[a-z_]{1,12}", value in "\\PC{0,20}") {
            let doc = format!("[{section}]\n{key} = {value:?}\n");
            if let Err(e) = Config::from_toml_str(&doc) {
                proptest::prop_assert_eq!(e.kind(), runway_core::ErrorKind::InvalidInput);
            }
        }
    }

    #[test]
    fn defaults_are_the_embedded_default() {
        let c = Config::from_toml_str("").unwrap();
        assert_eq!(c.platform.kind, PlatformKind::Sim);
        assert_eq!(c.platform.units, 3);
        assert_eq!(c.notify.kind, "console");
        assert!(c.backup.take);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_typed_errors() {
        for bad in [
            "[platform]\nunitz = 3",
            "[platform]\nkind = \"heroku\"",
            "[backup]\nmax_age = \"soon\"",
            "[rollout]\nstrategy = \"yolo\"",
            "[platform]\nunits = 0",
            "not toml [",
        ] {
            let e = Config::from_toml_str(bad).unwrap_err();
            assert_eq!(e.kind(), runway_core::ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn secrets_in_the_file_are_rejected_without_quoting_them() {
        let e =
            Config::from_toml_str("[database]\nurl = \"postgres://u:hunter2@db/app\"").unwrap_err();
        assert!(matches!(e, ConfigError::SecretInFile { .. }));
        assert!(!e.to_string().contains("hunter2"));
        let e = Config::from_toml_str(
            "[notify]\nwebhook_url = \"https://hooks.slack.com/services/T/B/x\"",
        )
        .unwrap_err();
        assert!(!e.to_string().contains("hooks.slack.com"));
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own (large) error type
    fn file_and_environment_layering() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runway.toml");
        std::fs::write(
            &path,
            "[environment]\nname = \"staging\"\n[platform]\nunits = 4\n",
        )
        .unwrap();
        figment::Jail::expect_with(|jail| {
            jail.set_env("RUNWAY_PLATFORM__UNITS", "7");
            let c = Config::load(Some(&path)).map_err(|e| e.to_string())?;
            assert_eq!(c.environment.name, "staging");
            assert_eq!(c.platform.units, 7);
            Ok(())
        });
    }
}
