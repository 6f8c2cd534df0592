//! Environment-variable audit: `.env.example` against each environment's [`VariableStore`].
//!
//! The runbook's procedure is: document the variable in `.env.example`, add it to staging, test, add it to
//! production. The audit reports per environment what is documented but unset (missing) and set but
//! undocumented, and between staging and production which variables differ, which are only in one of them
//! (set in production but never in staging skips the test step) and which hold the identical value (a
//! production secret reused in staging). Values appear only as [`fingerprint`]s.

use std::fmt;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use runway_core::{
    EnvExample, SetOptions, VariableCapabilities, VariableDiff, VariableScope, VariableStore,
    Variables, fingerprint, validate_name,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::error::Result;

/// One environment's findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvironmentFindings {
    /// The environment's name.
    pub environment: String,
    /// Variables set.
    pub set: usize,
    /// Documented in `.env.example`, not set here.
    pub missing: Vec<String>,
    /// Set here, not documented.
    pub undocumented: Vec<String>,
}

/// A variable set in both compared environments with different values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Differing {
    /// Name.
    pub name: String,
    /// Fingerprint on the left (staging).
    pub left: String,
    /// Fingerprint on the right (production).
    pub right: String,
}

/// The comparison of two environments (staging and production).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// Left environment (staging).
    pub left: String,
    /// Right environment (production).
    pub right: String,
    /// Set in both with different values.
    pub differing: Vec<Differing>,
    /// Set in both with the same value: `(name, fingerprint)`.
    pub identical: Vec<(String, String)>,
    /// Set on the left only (not yet promoted).
    pub left_only: Vec<String>,
    /// Set on the right only (never tested on the left).
    pub right_only: Vec<String>,
}

/// The audit's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// Per environment.
    pub environments: Vec<EnvironmentFindings>,
    /// Staging vs production, when both were audited.
    pub comparison: Option<Comparison>,
}

impl AuditReport {
    /// No variable missing or undocumented anywhere, and none only in the right environment.
    pub fn is_clean(&self) -> bool {
        self.environments
            .iter()
            .all(|e| e.missing.is_empty() && e.undocumented.is_empty())
            && self
                .comparison
                .as_ref()
                .is_none_or(|c| c.right_only.is_empty())
    }
}

impl fmt::Display for AuditReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.environments {
            writeln!(f, "{} ({} set)", e.environment, e.set)?;
            for n in &e.missing {
                writeln!(
                    f,
                    "  missing       {n}   (documented in .env.example, not set)"
                )?;
            }
            for n in &e.undocumented {
                writeln!(f, "  undocumented  {n}   (set, not in .env.example)")?;
            }
            if e.missing.is_empty() && e.undocumented.is_empty() {
                writeln!(f, "  ok")?;
            }
        }
        if let Some(c) = &self.comparison {
            writeln!(f, "{} vs {}", c.left, c.right)?;
            for d in &c.differing {
                writeln!(f, "  differs       {}   {} != {}", d.name, d.left, d.right)?;
            }
            for (n, fp) in &c.identical {
                writeln!(f, "  same value    {n}   {fp}")?;
            }
            for n in &c.left_only {
                writeln!(f, "  only in {}  {n}", c.left)?;
            }
            for n in &c.right_only {
                writeln!(f, "  only in {}  {n}   (skipped {})", c.right, c.left)?;
            }
        }
        Ok(())
    }
}

/// The audit over already-read variables: `envs` are `(name, variables)`; `compare` names the two
/// environments to compare (staging, production).
pub fn audit(
    example: &EnvExample,
    envs: &[(&str, &Variables)],
    compare: Option<(&str, &str)>,
) -> AuditReport {
    let environments = envs
        .iter()
        .map(|(name, vars)| {
            let (missing, undocumented) = example.audit(vars);
            EnvironmentFindings {
                environment: (*name).to_owned(),
                set: vars.len(),
                missing,
                undocumented,
            }
        })
        .collect();
    let find = |n: &str| envs.iter().find(|(e, _)| *e == n).map(|(_, v)| *v);
    let comparison = compare.and_then(|(l, r)| {
        let (lv, rv) = (find(l)?, find(r)?);
        let d = VariableDiff::between(lv, rv);
        Some(Comparison {
            left: l.to_owned(),
            right: r.to_owned(),
            differing: d
                .differing
                .into_iter()
                .map(|(name, left, right)| Differing { name, left, right })
                .collect(),
            identical: d
                .same
                .into_iter()
                .map(|n| {
                    let fp = lv.get(&n).map(fingerprint).unwrap_or_default();
                    (n, fp)
                })
                .collect(),
            left_only: d.only_left,
            right_only: d.only_right,
        })
    });
    AuditReport {
        environments,
        comparison,
    }
}

/// Read each environment from its store and [`audit`] them; `staging` and `production` are compared when
/// both are present.
pub async fn audit_stores(
    example: &EnvExample,
    envs: &[(&str, &dyn VariableStore, VariableScope)],
) -> Result<AuditReport> {
    let mut read = Vec::with_capacity(envs.len());
    for (name, store, scope) in envs {
        read.push(((*name).to_owned(), store.list(scope).await?));
    }
    let refs: Vec<(&str, &Variables)> = read.iter().map(|(n, v)| (n.as_str(), v)).collect();
    let compare = ["staging", "production"]
        .iter()
        .all(|n| refs.iter().any(|(e, _)| e == n))
        .then_some(("staging", "production"));
    Ok(audit(example, &refs, compare))
}

/// A [`VariableStore`] over dotenv files, one per environment: `<dir>/.env.<environment>` (the embedded
/// default, and `railway variables set --from-file .env.production`-style workflows).
#[derive(Debug, Clone)]
pub struct DotenvStore {
    dir: PathBuf,
    lock: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl DotenvStore {
    /// Files in `dir`.
    pub fn new(dir: impl AsRef<Path>) -> Self {
        DotenvStore {
            dir: dir.as_ref().to_owned(),
            lock: Default::default(),
        }
    }

    /// The file of `scope` (service scopes use `.env.<environment>.<service>`).
    pub fn path(&self, scope: &VariableScope) -> PathBuf {
        match &scope.service {
            None => self
                .dir
                .join(format!(".env.{}", scope.environment.as_str())),
            Some(s) => self.dir.join(format!(
                ".env.{}.{}",
                scope.environment.as_str(),
                s.as_str()
            )),
        }
    }

    async fn write(&self, scope: &VariableScope, vars: &Variables) -> runway_core::Result<()> {
        let mut out = String::new();
        for (k, v) in vars {
            let escaped = v
                .expose_secret()
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            out.push_str(&format!("{k}=\"{escaped}\"\n"));
        }
        let path = self.path(scope);
        let tmp = path.with_extension("tmp");
        tokio::fs::write(&tmp, out).await?;
        tokio::fs::rename(&tmp, &path).await?;
        Ok(())
    }
}

/// Parse dotenv text into variables. Errors give the position only, never a value.
pub fn parse_dotenv(text: &str) -> runway_core::Result<Variables> {
    // runway-core's parser reads values literally: no `$VAR` expansion, so no exponential blow-up.
    Ok(runway_core::parse_dotenv(text)?
        .into_iter()
        .map(|(k, v)| (k, SecretString::from(v)))
        .collect())
}

#[async_trait]
impl VariableStore for DotenvStore {
    fn capabilities(&self) -> VariableCapabilities {
        VariableCapabilities::new(false, true)
    }

    async fn list(&self, scope: &VariableScope) -> runway_core::Result<Variables> {
        match tokio::fs::read_to_string(self.path(scope)).await {
            Ok(text) => parse_dotenv(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Variables::new()),
            Err(e) => Err(e.into()),
        }
    }

    async fn set(
        &self,
        scope: &VariableScope,
        name: &str,
        value: SecretString,
        _opts: &SetOptions,
    ) -> runway_core::Result<()> {
        validate_name(name)?;
        let _g = self.lock.lock().await;
        let mut vars = self.list(scope).await?;
        vars.insert(name.to_owned(), value);
        self.write(scope, &vars).await
    }

    async fn set_many(
        &self,
        scope: &VariableScope,
        vars: Variables,
        opts: &SetOptions,
    ) -> runway_core::Result<()> {
        for k in vars.keys() {
            validate_name(k)?;
        }
        let _g = self.lock.lock().await;
        let mut all = if opts.replace {
            Variables::new()
        } else {
            self.list(scope).await?
        };
        all.extend(vars);
        self.write(scope, &all).await
    }

    async fn delete(
        &self,
        scope: &VariableScope,
        name: &str,
        _opts: &SetOptions,
    ) -> runway_core::Result<()> {
        let _g = self.lock.lock().await;
        let mut vars = self.list(scope).await?;
        if vars.remove(name).is_some() {
            self.write(scope, &vars).await?;
        }
        Ok(())
    }
}
