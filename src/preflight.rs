//! The runbook's pre-deployment checklist as checks on an application repository.
//!
//! [`Preflight`] takes a repository path and optional components, runs every check, and returns a
//! [`PreflightReport`]: typed [`Finding`]s, each with a [`Severity`] (an error blocks the release, a warning
//! does not), a message, a location when there is one, and the runbook's fix.
//!
//! | check ([`CheckId`]) | what it looks at | needs |
//! |---|---|---|
//! | `env-vars` | `.env.example` against the target's variables (names and fingerprints only) | a [`VariableStore`] and scope |
//! | `migrations` | SQL migrations: downgrades and the safety linter; Alembic revisions: a real `downgrade()` | - |
//! | `dependencies` | `requirements*.txt` pinned with `==`; `package.json` exact or a lockfile | - |
//! | `secrets` | AWS keys, private keys, Slack webhooks and tokens, password and token assignments | - |
//! | `debug-statements` | `console.log(`, `debugger;`, `breakpoint()`, `pdb`, Python `print(` (warning) | - |
//! | `backup` | a fresh verified backup for production ([`Backups::freshness_gate`]) | [`Backups`] |
//!
//! The file checks are pure functions in [`scan`] (contents in, findings out), so most of their behaviour
//! is testable without a file system. The walker skips `.git/`, `node_modules/`, `target/`, virtualenvs and
//! build output ([`scan::DEFAULT_IGNORES`]), whatever the repository's `.gitignore` and `.preflightignore`
//! list, binary files and files over 1 MiB. A line holding `preflight:allow` is never reported.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), runway::preflight::PreflightError> {
//! use runway::preflight::{CheckId, Preflight};
//!
//! let repo = tempfile_dir();
//! std::fs::write(repo.join("requirements.txt"), "fastapi==0.110.0\ncelery>=5\n").unwrap();
//! std::fs::write(repo.join("app.js"), "console.log('debug');\n").unwrap();
//!
//! let report = Preflight::new(&repo).build()?.run().await;
//! assert!(!report.passed());
//! assert_eq!(report.errors_for(CheckId::Dependencies).count(), 1);
//! assert_eq!(report.errors_for(CheckId::DebugStatements).count(), 1);
//! println!("{}", report.render_text());
//! # std::fs::remove_dir_all(&repo).ok();
//! # Ok(()) }
//! # fn tempfile_dir() -> std::path::PathBuf {
//! #     let d = std::env::temp_dir().join(format!("runway-preflight-doc-{}", std::process::id()));
//! #     let _ = std::fs::remove_dir_all(&d);
//! #     std::fs::create_dir_all(&d).unwrap();
//! #     d
//! # }
//! ```

pub mod scan;

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use runway_backup::{Backups, GateFailure, GateOutcome};
use runway_core::{
    EnvExample, EnvironmentKind, ErrorKind, VariableScope, VariableStore, fingerprint,
};
use runway_migrate::MigrationSource;
#[cfg(feature = "lint")]
use runway_migrate::lint::{self, Linter, RuleId};
use serde::Serialize;

use scan::{DebugRule, IgnoreSet, SecretRule};

/// Files larger than this are not scanned.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The default age limit for the production backup (24 hours).
pub const DEFAULT_BACKUP_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// Folders searched for SQL migrations when none is configured, in order.
pub const MIGRATION_DIRS: &[&str] = &["migrations", "db/migrations", "database/migrations"];

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth fixing; does not block the release.
    Warning,
    /// Blocks the release.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// The checklist items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckId {
    /// Environment variables documented (`.env.example`) and set in the target.
    EnvVars,
    /// Migrations have downgrades and pass the linter.
    Migrations,
    /// Dependencies version-pinned.
    Dependencies,
    /// No hardcoded secrets or API keys.
    Secrets,
    /// No `console.log` or debug statements.
    DebugStatements,
    /// A fresh verified backup (production).
    Backup,
}

impl CheckId {
    /// Every check, in report order.
    pub const ALL: [CheckId; 6] = [
        CheckId::EnvVars,
        CheckId::Migrations,
        CheckId::Dependencies,
        CheckId::Secrets,
        CheckId::DebugStatements,
        CheckId::Backup,
    ];

    /// The stable kebab-case id.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::EnvVars => "env-vars",
            CheckId::Migrations => "migrations",
            CheckId::Dependencies => "dependencies",
            CheckId::Secrets => "secrets",
            CheckId::DebugStatements => "debug-statements",
            CheckId::Backup => "backup",
        }
    }

    /// The runbook's checklist wording.
    pub fn title(self) -> &'static str {
        match self {
            CheckId::EnvVars => "Environment variables documented and set",
            CheckId::Migrations => "Migrations have a rollback and pass the linter",
            CheckId::Dependencies => "Dependencies version-pinned",
            CheckId::Secrets => "No hardcoded secrets or API keys",
            CheckId::DebugStatements => "No console.log or debug statements",
            CheckId::Backup => "Backup verified",
        }
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a finding is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Location {
    /// Path relative to the repository, `/`-separated.
    pub file: String,
    /// 1-based line.
    pub line: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// What was found. Never carries a secret: variables appear by name and [`fingerprint`], secrets in code by
/// a redacted preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FindingKind {
    /// There is no `.env.example` to document the variables.
    EnvExampleMissing {
        /// Variables set in the target (when a store was given), all undocumented.
        set_in_target: usize,
    },
    /// `.env.example` does not parse.
    EnvExampleMalformed {
        /// Why (no values quoted).
        reason: String,
    },
    /// Documented in `.env.example` but not set in the target.
    VariableMissing {
        /// The variable.
        name: String,
        /// The target environment.
        environment: String,
    },
    /// Set in the target but not documented in `.env.example`.
    VariableUndocumented {
        /// The variable.
        name: String,
        /// The fingerprint of its value in the target.
        fingerprint: String,
        /// The target environment.
        environment: String,
    },
    /// A component (variable store, backup storage) could not be read.
    ComponentFailed {
        /// Which component.
        component: String,
        /// The runway error kind.
        error_kind: String,
        /// The error, as displayed (runway errors never carry secrets).
        reason: String,
    },
    /// The migrations folder does not load (bad names, duplicate versions, orphan downgrades).
    MigrationsInvalid {
        /// The folder.
        dir: String,
        /// Why.
        reason: String,
    },
    /// A SQL migration without a downgrade file.
    MigrationWithoutDowngrade {
        /// The version.
        version: i64,
    },
    /// A finding of the migration safety linter.
    MigrationLint {
        /// The rule id.
        rule: String,
        /// What is wrong, in the linter's words.
        detail: String,
        /// The safe alternative.
        alternative: String,
    },
    /// An Alembic revision without a usable `downgrade()`.
    AlembicWithoutDowngrade {
        /// `true` when `downgrade()` exists but does nothing.
        empty: bool,
    },
    /// A pip requirement not pinned with `==`.
    UnpinnedRequirement {
        /// The package.
        package: String,
        /// Its version specification as written (or a description).
        spec: String,
    },
    /// A `package.json` dependency with a range and no lockfile.
    UnpinnedPackage {
        /// The package.
        package: String,
        /// Its version range.
        spec: String,
        /// `dependencies`, `devDependencies` or `optionalDependencies`.
        section: String,
    },
    /// A dependency manifest that does not parse.
    MalformedManifest {
        /// Why.
        reason: String,
    },
    /// A hardcoded secret.
    HardcodedSecret {
        /// Which pattern.
        rule: SecretRule,
        /// The line with the secret redacted.
        preview: String,
    },
    /// A debug statement.
    DebugStatement {
        /// Which statement.
        rule: DebugRule,
        /// The line (trimmed).
        preview: String,
    },
    /// A production release without a backup storage to check.
    BackupNotConfigured,
    /// The backup freshness gate failed.
    BackupNotFresh {
        /// What the gate said.
        outcome: String,
        /// No verified backup at all (rather than a stale one).
        none_verified: bool,
    },
}

impl FindingKind {
    /// The check this kind belongs to.
    pub fn check(&self) -> CheckId {
        use FindingKind as K;
        match self {
            K::EnvExampleMissing { .. }
            | K::EnvExampleMalformed { .. }
            | K::VariableMissing { .. }
            | K::VariableUndocumented { .. } => CheckId::EnvVars,
            K::ComponentFailed { component, .. } if component == "backups" => CheckId::Backup,
            K::ComponentFailed { .. } => CheckId::EnvVars,
            K::MigrationsInvalid { .. }
            | K::MigrationWithoutDowngrade { .. }
            | K::MigrationLint { .. }
            | K::AlembicWithoutDowngrade { .. } => CheckId::Migrations,
            K::UnpinnedRequirement { .. }
            | K::UnpinnedPackage { .. }
            | K::MalformedManifest { .. } => CheckId::Dependencies,
            K::HardcodedSecret { .. } => CheckId::Secrets,
            K::DebugStatement { .. } => CheckId::DebugStatements,
            K::BackupNotConfigured | K::BackupNotFresh { .. } => CheckId::Backup,
        }
    }

    /// The severity of this kind.
    pub fn severity(&self) -> Severity {
        use FindingKind as K;
        match self {
            K::VariableUndocumented { .. } => Severity::Warning,
            K::EnvExampleMissing { set_in_target } if *set_in_target == 0 => Severity::Warning,
            K::HardcodedSecret { rule, .. } if !rule.blocks() => Severity::Warning,
            K::DebugStatement { rule, .. } if !rule.blocks() => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// What is wrong, in one line.
    pub fn message(&self) -> String {
        use FindingKind as K;
        match self {
            K::EnvExampleMissing { set_in_target } => format!(
                "no .env.example documents the environment variables ({set_in_target} set in the target)"
            ),
            K::EnvExampleMalformed { reason } => format!(".env.example does not parse: {reason}"),
            K::VariableMissing { name, environment } => {
                format!("{name} is documented in .env.example but not set in {environment}")
            }
            K::VariableUndocumented {
                name,
                fingerprint,
                environment,
            } => format!(
                "{name} (value fingerprint {fingerprint}) is set in {environment} but not documented in .env.example"
            ),
            K::ComponentFailed {
                component,
                error_kind,
                reason,
            } => format!("could not read the {component} ({error_kind}): {reason}"),
            K::MigrationsInvalid { dir, reason } => {
                format!("migrations in {dir} do not load: {reason}")
            }
            K::MigrationWithoutDowngrade { version } => {
                format!("migration {version} has no downgrade (down) file")
            }
            K::MigrationLint { rule, detail, .. } => format!("[{rule}] {detail}"),
            K::AlembicWithoutDowngrade { empty: false } => {
                "Alembic revision has no downgrade() function".to_owned()
            }
            K::AlembicWithoutDowngrade { empty: true } => {
                "Alembic revision's downgrade() does nothing".to_owned()
            }
            K::UnpinnedRequirement { package, spec } => {
                format!("{package} is not pinned with == ({spec})")
            }
            K::UnpinnedPackage {
                package,
                spec,
                section,
            } => format!("{package} in {section} uses the range {spec:?} and no lockfile pins it"),
            K::MalformedManifest { reason } => {
                format!("dependency manifest does not parse: {reason}")
            }
            K::HardcodedSecret { rule, preview } => format!("{}: {preview}", rule.describe()),
            K::DebugStatement { rule, preview } => {
                format!("{} statement: {preview}", rule.as_str())
            }
            K::BackupNotConfigured => {
                "production release without a backup storage to check for a fresh verified backup"
                    .to_owned()
            }
            K::BackupNotFresh { outcome, .. } => format!("backup gate {outcome}"),
        }
    }

    /// The runbook's fix.
    pub fn fix(&self) -> String {
        use FindingKind as K;
        match self {
            K::EnvExampleMissing { .. } => {
                "add .env.example with every variable the app reads (runbook: Adding New Variables, step 1)".into()
            }
            K::EnvExampleMalformed { .. } => "use NAME=value lines, # comments, optional export and quotes".into(),
            K::VariableMissing { name, environment } => format!(
                "railway variables set {name}=\"...\" --environment {environment} (runbook: Adding New Variables)"
            ),
            K::VariableUndocumented { name, .. } => {
                format!("add {name} to .env.example with an example value, or delete it from the target")
            }
            K::ComponentFailed { .. } => "check the provider credentials and connectivity, then run preflight again".into(),
            K::MigrationsInvalid { .. } => {
                "name files <version>_<name>.up.sql / .down.sql with unique versions".into()
            }
            K::MigrationWithoutDowngrade { .. } => {
                "add a .down.sql that undoes the migration (runbook: Migration has rollback)".into()
            }
            K::MigrationLint { alternative, .. } => alternative.clone(),
            K::AlembicWithoutDowngrade { .. } => {
                "implement downgrade() to undo upgrade() (runbook: Include rollback (downgrade) function)".into()
            }
            K::UnpinnedRequirement { package, .. } => format!(
                "pin it: {package}==<version> (pip freeze shows the installed one)"
            ),
            K::UnpinnedPackage { package, .. } => format!(
                "use an exact version for {package}, or commit the lockfile (npm install writes package-lock.json)"
            ),
            K::MalformedManifest { .. } => "fix the JSON syntax".into(),
            K::HardcodedSecret { .. } => {
                "remove it, rotate it (it is in the history now), and read it from the environment or a secret store (runbook: Secrets Management)".into()
            }
            K::DebugStatement { rule: DebugRule::Print, .. } => {
                "use the logging module instead of print()".into()
            }
            K::DebugStatement { .. } => "remove the debug statement".into(),
            K::BackupNotConfigured => "configure backups (RUNWAY_BACKUP_DIR) and take one before a production release".into(),
            K::BackupNotFresh { none_verified: true, .. } => {
                "take a backup and verify it with a restore drill (cargo run --example backup, --example restore-drill)".into()
            }
            K::BackupNotFresh { .. } => {
                "take a fresh backup and verify it (runbook: Backup first, before every production release)".into()
            }
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The checklist item.
    pub check: CheckId,
    /// Error (blocks) or warning.
    pub severity: Severity,
    /// What was found.
    #[serde(flatten)]
    pub kind: FindingKind,
    /// Where, when it is in a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// What is wrong, in one line.
    pub message: String,
    /// The runbook's fix.
    pub fix: String,
}

impl Finding {
    /// A finding of `kind` (check, severity, message and fix follow from it).
    pub fn new(kind: FindingKind, location: Option<Location>) -> Self {
        Finding {
            check: kind.check(),
            severity: kind.severity(),
            message: kind.message(),
            fix: kind.fix(),
            kind,
            location,
        }
    }

    /// Whether it blocks the release.
    pub fn blocks(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}] ", self.severity, self.check)?;
        if let Some(l) = &self.location {
            write!(f, "{l}: ")?;
        }
        write!(f, "{}\n  fix: {}", self.message, self.fix)
    }
}

/// How one check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// No findings.
    Passed,
    /// Warnings only.
    Warned,
    /// At least one error.
    Failed,
    /// Not run (a component is missing or the check is off).
    Skipped,
}

impl fmt::Display for CheckStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CheckStatus::Passed => "PASS",
            CheckStatus::Warned => "WARN",
            CheckStatus::Failed => "FAIL",
            CheckStatus::Skipped => "SKIP",
        })
    }
}

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckSummary {
    /// The check.
    pub check: CheckId,
    /// Its status.
    pub status: CheckStatus,
    /// What was looked at, or why it was skipped.
    pub summary: String,
}

/// The result of a preflight run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreflightReport {
    /// The repository.
    pub repo: PathBuf,
    /// The target environment, when known.
    pub environment: Option<String>,
    /// Its kind.
    pub environment_kind: EnvironmentKind,
    /// One line per check, in [`CheckId::ALL`] order.
    pub checks: Vec<CheckSummary>,
    /// Every finding, by check, then file and line.
    pub findings: Vec<Finding>,
    /// Files scanned.
    pub files_scanned: usize,
    /// Files skipped as binary or too large.
    pub files_skipped: usize,
}

impl PreflightReport {
    /// Whether nothing blocks the release (no errors; warnings are fine).
    pub fn passed(&self) -> bool {
        !self.findings.iter().any(Finding::blocks)
    }

    /// Number of blocking findings.
    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.blocks()).count()
    }

    /// Number of warnings.
    pub fn warnings(&self) -> usize {
        self.findings.len() - self.errors()
    }

    /// Findings of one check.
    pub fn findings_for(&self, check: CheckId) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.check == check)
    }

    /// Blocking findings of one check.
    pub fn errors_for(&self, check: CheckId) -> impl Iterator<Item = &Finding> {
        self.findings_for(check).filter(|f| f.blocks())
    }

    /// The status of one check.
    pub fn status(&self, check: CheckId) -> CheckStatus {
        self.checks
            .iter()
            .find(|c| c.check == check)
            .map_or(CheckStatus::Skipped, |c| c.status)
    }

    /// The report as JSON (`passed`, `errors`, `warnings`, `checks`, `findings`, ...).
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.insert("passed".into(), self.passed().into());
            o.insert("errors".into(), self.errors().into());
            o.insert("warnings".into(), self.warnings().into());
        }
        v
    }

    /// A human table: one line per check, then every finding with its fix, then the verdict.
    pub fn render_text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let env = match &self.environment {
            Some(e) => format!(" for {e} ({})", kind_name(self.environment_kind)),
            None => String::new(),
        };
        let _ = writeln!(s, "Preflight of {}{env}", self.repo.display());
        let _ = writeln!(s, "{:<18} {:<6} SUMMARY", "CHECK", "STATUS");
        for c in &self.checks {
            let _ = writeln!(
                s,
                "{:<18} {:<6} {}",
                c.check.as_str(),
                c.status.to_string(),
                c.summary
            );
        }
        if !self.findings.is_empty() {
            let _ = writeln!(s);
            for f in &self.findings {
                let loc = f
                    .location
                    .as_ref()
                    .map(|l| format!("{l}: "))
                    .unwrap_or_default();
                let _ = writeln!(
                    s,
                    "{:<7} {:<16} {loc}{}",
                    f.severity.to_string(),
                    f.check.as_str(),
                    f.message
                );
                let _ = writeln!(s, "{:<24} fix: {}", "", f.fix);
            }
        }
        let _ = writeln!(s);
        if self.passed() {
            let _ = writeln!(
                s,
                "PASSED: nothing blocks the release ({} warnings, {} files scanned)",
                self.warnings(),
                self.files_scanned
            );
        } else {
            let _ = writeln!(
                s,
                "BLOCKED: {} errors, {} warnings ({} files scanned)",
                self.errors(),
                self.warnings(),
                self.files_scanned
            );
        }
        s
    }
}

fn kind_name(k: EnvironmentKind) -> &'static str {
    match k {
        EnvironmentKind::Production => "production",
        EnvironmentKind::Staging => "staging",
        _ => "other",
    }
}

/// Bad preflight configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PreflightError {
    /// The repository path is not a readable folder.
    #[error("repository {path} is not a readable folder: {source}")]
    Repo {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A configured path (migrations folder, `.env.example`) is absolute or leaves the repository.
    #[error("{what} path {path:?} must be relative to the repository and stay inside it")]
    BadPath {
        /// Which setting.
        what: &'static str,
        /// The path as given.
        path: String,
    },
}

impl PreflightError {
    /// The runway-wide classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            PreflightError::Repo { source, .. }
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                ErrorKind::NotFound
            }
            PreflightError::Repo { source, .. }
                if source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                ErrorKind::PermissionDenied
            }
            _ => ErrorKind::InvalidInput,
        }
    }
}

/// Builds a [`Preflight`]: the repository plus optional components.
#[derive(Debug)]
pub struct PreflightBuilder {
    repo: PathBuf,
    variables: Option<(Arc<dyn VariableStore>, VariableScope)>,
    backups: Option<(Backups, Duration)>,
    backup_by_release: bool,
    lint: bool,
    kind: Option<EnvironmentKind>,
    migrations_dir: Option<String>,
    env_example: String,
    extra_ignores: Vec<String>,
}

impl PreflightBuilder {
    /// The release this preflight guards takes and drills its own backup before migrating, so the checklist
    /// item "backup verified" is the release's backup step, not a precondition here.
    #[must_use]
    pub fn with_backup_taken_by_release(mut self, yes: bool) -> Self {
        self.backup_by_release = yes;
        self
    }

    /// Compare `.env.example` with the variables of `scope` in `store`.
    #[must_use]
    pub fn with_variables(mut self, store: Arc<dyn VariableStore>, scope: VariableScope) -> Self {
        self.variables = Some((store, scope));
        self
    }

    /// Check for a verified backup younger than `max_age` (required for production).
    #[must_use]
    pub fn with_backups(mut self, backups: Backups, max_age: Duration) -> Self {
        self.backups = Some((backups, max_age));
        self
    }

    /// Run the migration safety linter (default on). Downgrades are checked either way.
    #[must_use]
    pub fn with_lint(mut self, on: bool) -> Self {
        self.lint = on;
        self
    }

    /// The target's kind (default: guessed from the variable scope's environment name).
    #[must_use]
    pub fn with_environment_kind(mut self, kind: EnvironmentKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// The SQL migrations folder, relative to the repository (default: the first of [`MIGRATION_DIRS`]
    /// holding `.sql` files).
    #[must_use]
    pub fn with_migrations_dir(mut self, dir: impl Into<String>) -> Self {
        self.migrations_dir = Some(dir.into());
        self
    }

    /// The env example file, relative to the repository (default `.env.example`).
    #[must_use]
    pub fn with_env_example(mut self, file: impl Into<String>) -> Self {
        self.env_example = file.into();
        self
    }

    /// Also skip paths matching this gitignore-style pattern.
    #[must_use]
    pub fn with_ignore(mut self, pattern: impl Into<String>) -> Self {
        self.extra_ignores.push(pattern.into());
        self
    }

    /// Validate and build.
    ///
    /// # Errors
    /// [`PreflightError::Repo`] when the repository is not a readable folder; [`PreflightError::BadPath`]
    /// for a configured path that is absolute or leaves the repository.
    pub fn build(self) -> Result<Preflight, PreflightError> {
        let meta = std::fs::metadata(&self.repo).map_err(|source| PreflightError::Repo {
            path: self.repo.clone(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(PreflightError::Repo {
                path: self.repo.clone(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a folder"),
            });
        }
        for (what, p) in [
            ("migrations", self.migrations_dir.as_deref()),
            ("env example", Some(self.env_example.as_str())),
        ] {
            if let Some(p) = p {
                let path = Path::new(p);
                if p.is_empty()
                    || path.is_absolute()
                    || path
                        .components()
                        .any(|c| matches!(c, std::path::Component::ParentDir))
                {
                    return Err(PreflightError::BadPath {
                        what,
                        path: p.to_owned(),
                    });
                }
            }
        }
        Ok(Preflight { cfg: self })
    }
}

/// The pre-deployment checklist for one repository. Build with [`Preflight::new`].
#[derive(Debug)]
pub struct Preflight {
    cfg: PreflightBuilder,
}

/// A file read from the repository.
struct RepoFile {
    rel: String,
    text: String,
}

impl Preflight {
    /// Start building a preflight of the repository at `repo`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(repo: impl Into<PathBuf>) -> PreflightBuilder {
        PreflightBuilder {
            repo: repo.into(),
            variables: None,
            backups: None,
            backup_by_release: false,
            lint: true,
            kind: None,
            migrations_dir: None,
            env_example: ".env.example".into(),
            extra_ignores: Vec::new(),
        }
    }

    fn environment(&self) -> Option<String> {
        self.cfg
            .variables
            .as_ref()
            .map(|(_, s)| s.environment.to_string())
    }

    fn kind(&self) -> EnvironmentKind {
        self.cfg.kind.unwrap_or_else(|| {
            self.environment()
                .map_or(EnvironmentKind::Other, |e| EnvironmentKind::from_name(&e))
        })
    }

    /// Run every check. Components that fail (an unreachable variable store) become blocking findings.
    pub async fn run(&self) -> PreflightReport {
        let (files, skipped) = self.walk();
        let mut findings = Vec::new();
        let mut checks = Vec::new();

        let (f, summary, ran) = self.check_env(&files).await;
        checks.push((CheckId::EnvVars, summary, ran));
        findings.extend(f);

        let (f, summary) = self.check_migrations(&files);
        checks.push((CheckId::Migrations, summary, true));
        findings.extend(f);

        let (f, summary) = check_dependencies(&files, &self.cfg.repo);
        checks.push((CheckId::Dependencies, summary, true));
        findings.extend(f);

        let mut secrets = Vec::new();
        let mut debug = Vec::new();
        for file in &files {
            if !skip_for_secrets(&file.rel) {
                secrets.extend(scan::secrets(&file.rel, &file.text));
            }
            debug.extend(scan::debug_statements(&file.rel, &file.text));
        }
        checks.push((
            CheckId::Secrets,
            format!(
                "{} files scanned (lockfiles and .env.example skipped)",
                files.len()
            ),
            true,
        ));
        checks.push((
            CheckId::DebugStatements,
            format!(
                "{} source files scanned",
                files.iter().filter(|f| is_source(&f.rel)).count()
            ),
            true,
        ));
        findings.extend(secrets);
        findings.extend(debug);

        let (f, summary, ran) = self.check_backup().await;
        checks.push((CheckId::Backup, summary, ran));
        findings.extend(f);

        findings.sort_by(|a, b| {
            (a.check, a.location.is_none(), &a.location).cmp(&(
                b.check,
                b.location.is_none(),
                &b.location,
            ))
        });
        let checks = checks
            .into_iter()
            .map(|(check, summary, ran)| {
                let mine: Vec<&Finding> = findings.iter().filter(|f| f.check == check).collect();
                let status = if mine.iter().any(|f| f.blocks()) {
                    CheckStatus::Failed
                } else if !mine.is_empty() {
                    CheckStatus::Warned
                } else if !ran {
                    CheckStatus::Skipped
                } else {
                    CheckStatus::Passed
                };
                CheckSummary {
                    check,
                    status,
                    summary,
                }
            })
            .collect();
        PreflightReport {
            repo: self.cfg.repo.clone(),
            environment: self.environment(),
            environment_kind: self.kind(),
            checks,
            findings,
            files_scanned: files.len(),
            files_skipped: skipped,
        }
    }

    fn ignores(&self) -> IgnoreSet {
        let mut set = IgnoreSet::with_defaults();
        for name in [".gitignore", ".preflightignore"] {
            if let Ok(text) = std::fs::read_to_string(self.cfg.repo.join(name)) {
                set.add_file(&text);
            }
        }
        for p in &self.cfg.extra_ignores {
            set.add(p);
        }
        set
    }

    /// Every text file of the repository (sorted), and how many were skipped as binary or too large.
    fn walk(&self) -> (Vec<RepoFile>, usize) {
        let ignores = self.ignores();
        let mut files = Vec::new();
        let mut skipped = 0;
        let mut stack = vec![(self.cfg.repo.clone(), String::new())];
        while let Some((dir, rel)) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut entries: Vec<_> = rd.filter_map(Result::ok).collect();
            entries.sort_by_key(|e| std::cmp::Reverse(e.file_name()));
            for e in entries {
                let Some(name) = e.file_name().to_str().map(str::to_owned) else {
                    skipped += 1;
                    continue;
                };
                let Ok(ft) = e.file_type() else { continue };
                if ft.is_symlink() {
                    continue;
                }
                let child = if rel.is_empty() {
                    name.clone()
                } else {
                    format!("{rel}/{name}")
                };
                if ignores.is_ignored(&child, ft.is_dir()) {
                    continue;
                }
                if ft.is_dir() {
                    stack.push((e.path(), child));
                } else if ft.is_file() {
                    let too_big = e
                        .metadata()
                        .map(|m| m.len() > MAX_FILE_BYTES)
                        .unwrap_or(true);
                    if too_big {
                        skipped += 1;
                        continue;
                    }
                    match std::fs::read(e.path()) {
                        Ok(bytes) if !bytes.iter().take(8000).any(|b| *b == 0) => {
                            match String::from_utf8(bytes) {
                                Ok(text) => files.push(RepoFile { rel: child, text }),
                                Err(_) => skipped += 1,
                            }
                        }
                        _ => skipped += 1,
                    }
                }
            }
        }
        files.sort_by(|a, b| a.rel.cmp(&b.rel));
        (files, skipped)
    }

    async fn check_env(&self, files: &[RepoFile]) -> (Vec<Finding>, String, bool) {
        let mut out = Vec::new();
        let example_text = files
            .iter()
            .find(|f| f.rel == self.cfg.env_example)
            .map(|f| f.text.clone())
            .or_else(|| std::fs::read_to_string(self.cfg.repo.join(&self.cfg.env_example)).ok());
        let example = match example_text.as_deref().map(EnvExample::parse) {
            Some(Ok(e)) => Some(e),
            Some(Err(e)) => {
                out.push(Finding::new(
                    FindingKind::EnvExampleMalformed {
                        reason: e.to_string(),
                    },
                    Some(Location {
                        file: self.cfg.env_example.clone(),
                        line: 1,
                    }),
                ));
                return (
                    out,
                    format!("{} does not parse", self.cfg.env_example),
                    true,
                );
            }
            None => None,
        };
        let Some((store, scope)) = &self.cfg.variables else {
            return match example {
                Some(e) => (
                    out,
                    format!(
                        "{} documents {} variables; no target to compare (give a variable store)",
                        self.cfg.env_example,
                        e.entries.len()
                    ),
                    false,
                ),
                None => {
                    out.push(Finding::new(
                        FindingKind::EnvExampleMissing { set_in_target: 0 },
                        None,
                    ));
                    (out, format!("no {}", self.cfg.env_example), true)
                }
            };
        };
        let environment = scope.environment.to_string();
        let actual = match store.list(scope).await {
            Ok(v) => v,
            Err(e) => {
                out.push(Finding::new(
                    FindingKind::ComponentFailed {
                        component: "variable store".into(),
                        error_kind: format!("{:?}", e.kind()),
                        reason: e.to_string(),
                    },
                    None,
                ));
                return (out, format!("variables of {environment} unavailable"), true);
            }
        };
        let Some(example) = example else {
            out.push(Finding::new(
                FindingKind::EnvExampleMissing {
                    set_in_target: actual.len(),
                },
                None,
            ));
            return (out, format!("no {}", self.cfg.env_example), true);
        };
        let (missing, undocumented) = example.audit(&actual);
        for name in &missing {
            let line = example_text
                .as_deref()
                .and_then(|t| line_of_var(t, name))
                .unwrap_or(1);
            out.push(Finding::new(
                FindingKind::VariableMissing {
                    name: name.clone(),
                    environment: environment.clone(),
                },
                Some(Location {
                    file: self.cfg.env_example.clone(),
                    line,
                }),
            ));
        }
        for name in &undocumented {
            let fp = actual.get(name).map(fingerprint).unwrap_or_default();
            out.push(Finding::new(
                FindingKind::VariableUndocumented {
                    name: name.clone(),
                    fingerprint: fp,
                    environment: environment.clone(),
                },
                None,
            ));
        }
        let summary = format!(
            "{} documented, {} set in {environment}: {} missing, {} undocumented",
            example.entries.len(),
            actual.len(),
            missing.len(),
            undocumented.len()
        );
        (out, summary, true)
    }

    fn migrations_dir(&self) -> Option<String> {
        if let Some(d) = &self.cfg.migrations_dir {
            return Some(d.clone());
        }
        MIGRATION_DIRS
            .iter()
            .find(|d| {
                std::fs::read_dir(self.cfg.repo.join(d)).is_ok_and(|rd| {
                    rd.filter_map(Result::ok)
                        .any(|e| e.file_name().to_string_lossy().ends_with(".sql"))
                })
            })
            .map(|d| (*d).to_owned())
    }

    fn check_migrations(&self, files: &[RepoFile]) -> (Vec<Finding>, String) {
        let mut out = Vec::new();
        let mut parts = Vec::new();
        if let Some(dir) = self.migrations_dir() {
            let (f, summary) = sql_migrations(&self.cfg.repo, &dir, self.cfg.lint);
            out.extend(f);
            parts.push(summary);
        }
        let revisions: Vec<&RepoFile> = files
            .iter()
            .filter(|f| scan::is_alembic_revision(&f.rel))
            .collect();
        for r in &revisions {
            out.extend(scan::alembic_downgrade(&r.rel, &r.text));
        }
        if !revisions.is_empty() {
            parts.push(format!("{} Alembic revisions", revisions.len()));
        }
        if parts.is_empty() {
            parts.push("no migrations found".into());
        }
        (out, parts.join("; "))
    }

    async fn check_backup(&self) -> (Vec<Finding>, String, bool) {
        let kind = self.kind();
        if self.cfg.backup_by_release {
            return (
                Vec::new(),
                "the release takes and drills a backup before migrating".into(),
                true,
            );
        }
        let Some((backups, max_age)) = &self.cfg.backups else {
            if kind == EnvironmentKind::Production {
                return (
                    vec![Finding::new(FindingKind::BackupNotConfigured, None)],
                    "production needs a fresh verified backup".into(),
                    true,
                );
            }
            return (
                Vec::new(),
                "not production: no backup required".into(),
                false,
            );
        };
        match backups.freshness_gate(*max_age).await {
            Ok(GateOutcome::Pass { id, age }) => (
                Vec::new(),
                format!(
                    "verified backup {id} is {} old (limit {})",
                    runway_core::human_duration(age),
                    runway_core::human_duration(*max_age)
                ),
                true,
            ),
            Ok(outcome @ GateOutcome::Fail(_)) => {
                let none_verified = matches!(
                    outcome,
                    GateOutcome::Fail(GateFailure::NoVerifiedBackup { .. })
                );
                let finding = Finding::new(
                    FindingKind::BackupNotFresh {
                        outcome: outcome.to_string(),
                        none_verified,
                    },
                    None,
                );
                // Outside production a stale backup is worth a warning only.
                let finding = if kind == EnvironmentKind::Production {
                    finding
                } else {
                    Finding {
                        severity: Severity::Warning,
                        ..finding
                    }
                };
                (vec![finding], outcome.to_string(), true)
            }
            Err(e) => (
                vec![Finding::new(
                    FindingKind::ComponentFailed {
                        component: "backups".into(),
                        error_kind: format!("{:?}", e.kind()),
                        reason: e.to_string(),
                    },
                    None,
                )],
                "backup storage unavailable".into(),
                true,
            ),
        }
    }
}

fn line_of_var(text: &str, name: &str) -> Option<u32> {
    text.lines()
        .position(|l| {
            let t = l.trim_start();
            let t = t.strip_prefix("export ").unwrap_or(t).trim_start();
            t.strip_prefix(name)
                .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .and_then(|i| u32::try_from(i + 1).ok())
}

fn is_source(rel: &str) -> bool {
    let l = rel.to_ascii_lowercase();
    [
        ".py", ".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".vue", ".svelte",
    ]
    .iter()
    .any(|e| l.ends_with(e))
}

/// `.env.example` (and its siblings) hold example values; lockfiles hold hashes.
fn skip_for_secrets(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    const SKIP: &[&str] = &[
        ".env.example",
        ".env.sample",
        ".env.template",
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lock",
        "Cargo.lock",
        "poetry.lock",
        "Pipfile.lock",
        "composer.lock",
        "Gemfile.lock",
        "go.sum",
        "uv.lock",
    ];
    SKIP.contains(&name)
}

/// Lint and downgrade checks on a SQL migrations folder.
fn sql_migrations(repo: &Path, dir: &str, lint_on: bool) -> (Vec<Finding>, String) {
    let mut out = Vec::new();
    let source = match MigrationSource::from_dir(repo.join(dir)) {
        Ok(s) => s,
        Err(e) => {
            out.push(Finding::new(
                FindingKind::MigrationsInvalid {
                    dir: dir.to_owned(),
                    reason: e.to_string(),
                },
                None,
            ));
            return (out, format!("{dir} does not load"));
        }
    };
    let rel = |file: &str| format!("{dir}/{file}");
    for m in source.migrations() {
        if !m.is_reversible() {
            out.push(Finding::new(
                FindingKind::MigrationWithoutDowngrade { version: m.version },
                Some(Location {
                    file: rel(&m.up.file),
                    line: 1,
                }),
            ));
        }
    }
    let mut summary = format!("{} SQL migrations in {dir}", source.len());
    if lint_on {
        lint_source(&source, dir, &mut out, &mut summary);
    } else {
        summary.push_str(", lint off");
    }
    (out, summary)
}

/// The migration safety linter's findings on the runner's view of the folder.
#[cfg(feature = "lint")]
fn lint_source(source: &MigrationSource, dir: &str, out: &mut Vec<Finding>, summary: &mut String) {
    let rel = |file: &str| format!("{dir}/{file}");
    let set = lint::MigrationSet::new(
        source
            .migrations()
            .iter()
            .map(|m| {
                let l = lint::Migration::new(
                    m.version.to_string(),
                    m.name.clone(),
                    rel(&m.up.file),
                    m.up.sql.clone(),
                );
                match &m.down {
                    Some(d) => l.with_down(rel(&d.file), d.sql.clone()),
                    None => l,
                }
            })
            .collect(),
    );
    match set {
        Ok(set) => {
            let report = Linter::default().lint_set(&set);
            summary.push_str(&format!(
                ", linted: {} errors, {} warnings",
                report.errors(),
                report.warnings()
            ));
            for f in report.findings {
                if f.rule == RuleId::MissingDowngrade || f.severity == lint::Severity::Info {
                    continue; // downgrades are checked above, on the runner's view of the folder
                }
                let mut finding = Finding::new(
                    FindingKind::MigrationLint {
                        rule: f.rule.as_str().to_owned(),
                        detail: f.message.clone(),
                        alternative: f.alternative.clone(),
                    },
                    Some(Location {
                        file: f.file.clone(),
                        line: f.line,
                    }),
                );
                if f.severity == lint::Severity::Warning {
                    finding.severity = Severity::Warning;
                }
                out.push(finding);
            }
        }
        Err(e) => out.push(Finding::new(
            FindingKind::MigrationsInvalid {
                dir: dir.to_owned(),
                reason: e.to_string(),
            },
            None,
        )),
    }
}

/// Built without the linter: say so instead of pretending the migrations were linted.
#[cfg(not(feature = "lint"))]
fn lint_source(_: &MigrationSource, _: &str, _: &mut Vec<Finding>, summary: &mut String) {
    summary.push_str(", not linted (runway built without the `lint` feature)");
}

fn check_dependencies(files: &[RepoFile], repo: &Path) -> (Vec<Finding>, String) {
    let mut out = Vec::new();
    let names: BTreeSet<&str> = files.iter().map(|f| f.rel.as_str()).collect();
    let mut req_files: Vec<String> = files
        .iter()
        .filter(|f| scan::is_requirements_file(&f.rel))
        .map(|f| f.rel.clone())
        .collect();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut i = 0;
    while i < req_files.len() {
        let rel = req_files[i].clone();
        i += 1;
        if !seen.insert(rel.clone()) {
            continue;
        }
        let text = match files.iter().find(|f| f.rel == rel) {
            Some(f) => f.text.clone(),
            None => match std::fs::read_to_string(repo.join(&rel)) {
                Ok(t) => t,
                Err(_) => continue,
            },
        };
        let (f, includes) = scan::requirements(&rel, &text);
        out.extend(f);
        let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
        for inc in includes {
            if let Some(joined) = join_rel(dir, &inc)
                && (names.contains(joined.as_str()) || repo.join(&joined).is_file())
            {
                req_files.push(joined);
            }
        }
    }
    let manifests: Vec<&RepoFile> = files
        .iter()
        .filter(|f| f.rel == "package.json" || f.rel.ends_with("/package.json"))
        .collect();
    for m in &manifests {
        let dir = m.rel.rsplit_once('/').map_or("", |(d, _)| d);
        let locked = lockfile_for(dir, repo);
        out.extend(scan::package_json(&m.rel, &m.text, locked));
    }
    let summary = if seen.is_empty() && manifests.is_empty() {
        "no requirements*.txt or package.json".to_owned()
    } else {
        format!(
            "{} requirements files, {} package.json",
            seen.len(),
            manifests.len()
        )
    };
    (out, summary)
}

/// A lockfile next to the manifest or in any folder above it, up to the repository root.
fn lockfile_for(dir: &str, repo: &Path) -> bool {
    let mut d = Some(dir);
    while let Some(cur) = d {
        let base = if cur.is_empty() {
            repo.to_path_buf()
        } else {
            repo.join(cur)
        };
        if scan::NODE_LOCKFILES.iter().any(|l| base.join(l).is_file()) {
            return true;
        }
        d = if cur.is_empty() {
            None
        } else {
            Some(cur.rsplit_once('/').map_or("", |(p, _)| p))
        };
    }
    false
}

/// `dir` + `inc`, normalised, refusing paths that leave the repository.
fn join_rel(dir: &str, inc: &str) -> Option<String> {
    if inc.starts_with('/') || inc.contains("://") {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for p in inc.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}
