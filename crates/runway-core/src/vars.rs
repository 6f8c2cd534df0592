//! Environment variables: the [`VariableStore`] trait, diffs between environments, and `.env.example` parsing.
//!
//! Every value is a [`SecretString`]: a variable may hold a password, so values never reach `Debug`, logs or
//! diffs. Diffs compare [`fingerprint`]s (a truncated SHA-256), never values.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::types::{EnvironmentId, ServiceId};

/// Variables by name; values are secret.
pub type Variables = BTreeMap<String, SecretString>;

/// Whose variables: an environment's shared ones, or one service's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VariableScope {
    /// The environment.
    pub environment: EnvironmentId,
    /// The service, or `None` for the environment's shared variables.
    pub service: Option<ServiceId>,
}

impl VariableScope {
    /// The shared variables of `environment`.
    pub fn environment(environment: impl Into<EnvironmentId>) -> Self {
        VariableScope {
            environment: environment.into(),
            service: None,
        }
    }

    /// The variables of `service` in `environment`.
    pub fn service(environment: impl Into<EnvironmentId>, service: impl Into<ServiceId>) -> Self {
        VariableScope {
            environment: environment.into(),
            service: Some(service.into()),
        }
    }
}

/// When a variable change takes effect.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplyStrategy {
    /// Now: the platform restarts or redeploys affected services.
    #[default]
    Immediately,
    /// With the next deployment (Railway `skipDeploys`, Cloud66 `apply_strategy=deployment`).
    NextDeploy,
}

/// Options for writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SetOptions {
    /// When the change takes effect.
    pub apply: ApplyStrategy,
    /// For [`VariableStore::set_many`]: delete every variable not in the map.
    pub replace: bool,
}

impl SetOptions {
    /// Apply with the next deployment.
    pub fn next_deploy() -> Self {
        SetOptions {
            apply: ApplyStrategy::NextDeploy,
            replace: false,
        }
    }

    /// Set the apply strategy.
    #[must_use]
    pub fn with_apply(mut self, apply: ApplyStrategy) -> Self {
        self.apply = apply;
        self
    }

    /// Replace the whole set.
    #[must_use]
    pub fn with_replace(mut self, replace: bool) -> Self {
        self.replace = replace;
        self
    }
}

/// What a variable store supports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VariableCapabilities {
    /// [`SetOptions::apply`] with [`ApplyStrategy::NextDeploy`] is honoured.
    pub deferred_apply: bool,
    /// Per-service scopes exist (not only environment-wide).
    pub service_scope: bool,
}

impl VariableCapabilities {
    /// Both capabilities set as given.
    pub fn new(deferred_apply: bool, service_scope: bool) -> Self {
        VariableCapabilities {
            deferred_apply,
            service_scope,
        }
    }
}

/// An environment's variables (Railway variables, Cloud66 environment variables, the simulator's).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait VariableStore: Send + Sync + Debug + 'static {
    /// What this store supports.
    fn capabilities(&self) -> VariableCapabilities;

    /// Every variable in `scope`.
    async fn list(&self, scope: &VariableScope) -> Result<Variables>;

    /// One variable, `None` when unset.
    async fn get(&self, scope: &VariableScope, name: &str) -> Result<Option<SecretString>> {
        Ok(self.list(scope).await?.remove(name))
    }

    /// Set one variable.
    async fn set(
        &self,
        scope: &VariableScope,
        name: &str,
        value: SecretString,
        opts: &SetOptions,
    ) -> Result<()>;

    /// Set many at once (and with `opts.replace`, delete the rest).
    async fn set_many(
        &self,
        scope: &VariableScope,
        vars: Variables,
        opts: &SetOptions,
    ) -> Result<()>;

    /// Delete one variable; deleting an unset variable is not an error.
    async fn delete(&self, scope: &VariableScope, name: &str, opts: &SetOptions) -> Result<()>;
}

/// A short, stable fingerprint of a value (first 12 hex digits of its SHA-256), safe to print.
pub fn fingerprint(value: &SecretString) -> String {
    let digest = Sha256::digest(value.expose_secret().as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// Check a variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn validate_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok = matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "invalid variable name {name:?}: use letters, digits and underscores, not starting with a digit"
        )))
    }
}

/// The difference between two sets of variables, by name and fingerprint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariableDiff {
    /// Set on the left only.
    pub only_left: Vec<String>,
    /// Set on the right only.
    pub only_right: Vec<String>,
    /// Set on both with different values: `(name, left fingerprint, right fingerprint)`.
    pub differing: Vec<(String, String, String)>,
    /// Set on both with the same value.
    pub same: Vec<String>,
}

impl VariableDiff {
    /// Compare `left` against `right`.
    pub fn between(left: &Variables, right: &Variables) -> Self {
        let mut d = VariableDiff::default();
        for (name, lv) in left {
            match right.get(name) {
                None => d.only_left.push(name.clone()),
                Some(rv) => {
                    let (lf, rf) = (fingerprint(lv), fingerprint(rv));
                    if lf == rf {
                        d.same.push(name.clone());
                    } else {
                        d.differing.push((name.clone(), lf, rf));
                    }
                }
            }
        }
        d.only_right = right
            .keys()
            .filter(|k| !left.contains_key(*k))
            .cloned()
            .collect();
        d
    }

    /// Whether both sides hold the same names and values.
    pub fn is_empty(&self) -> bool {
        self.only_left.is_empty() && self.only_right.is_empty() && self.differing.is_empty()
    }
}

/// The variables documented in a `.env.example` file: names, with the example value when one is given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvExample {
    /// Documented names, in file order, with their example values (examples are not secrets).
    pub entries: Vec<(String, String)>,
}

impl EnvExample {
    /// Parse `.env` syntax (`NAME=value`, `export NAME=value`, quotes, comments), reading values literally:
    /// `$VAR` references are not expanded (see [`parse_dotenv`](crate::parse_dotenv)).
    ///
    /// A malformed line is an [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error naming its line;
    /// nothing is half-parsed.
    pub fn parse(text: &str) -> Result<Self> {
        Ok(EnvExample {
            entries: crate::dotenv::parse_dotenv(text)?,
        })
    }

    /// The documented names.
    pub fn names(&self) -> BTreeSet<String> {
        self.entries.iter().map(|(n, _)| n.clone()).collect()
    }

    /// Compare against an environment: documented but unset, and set but undocumented.
    pub fn audit(&self, actual: &Variables) -> (Vec<String>, Vec<String>) {
        let documented = self.names();
        let missing = documented
            .iter()
            .filter(|n| !actual.contains_key(*n))
            .cloned()
            .collect();
        let undocumented = actual
            .keys()
            .filter(|n| !documented.contains(*n))
            .cloned()
            .collect();
        (missing, undocumented)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Variables {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), SecretString::from(*v)))
            .collect()
    }

    #[test]
    fn diff_by_fingerprint() {
        let a = vars(&[("A", "1"), ("B", "2"), ("C", "3")]);
        let b = vars(&[("B", "2"), ("C", "x"), ("D", "4")]);
        let d = VariableDiff::between(&a, &b);
        assert_eq!(d.only_left, vec!["A"]);
        assert_eq!(d.only_right, vec!["D"]);
        assert_eq!(d.same, vec!["B"]);
        assert_eq!(d.differing.len(), 1);
        let printed = format!("{d:?}");
        assert!(!printed.contains("\"x\""));
        assert!(!d.is_empty());
    }

    #[test]
    fn env_example_parse_and_audit() {
        let ex = EnvExample::parse(
            "# comment\nDATABASE_URL=postgresql://localhost/app\nexport REDIS_URL=\"redis://x\"\nSECRET_KEY=\n",
        )
        .unwrap();
        assert_eq!(ex.names().len(), 3);
        let (missing, undocumented) = ex.audit(&vars(&[("DATABASE_URL", "p"), ("EXTRA", "e")]));
        assert_eq!(missing, vec!["REDIS_URL", "SECRET_KEY"]);
        assert_eq!(undocumented, vec!["EXTRA"]);
    }

    #[test]
    fn env_example_malformed_is_typed_and_redacted() {
        let err = EnvExample::parse("GOOD=1\nBAD LINE hunter2\n").unwrap_err();
        assert_eq!(err.kind(), &crate::ErrorKind::InvalidInput);
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn names_validated() {
        assert!(validate_name("DATABASE_URL").is_ok());
        assert!(validate_name("_X1").is_ok());
        assert!(validate_name("1X").is_err());
        assert!(validate_name("A-B").is_err());
        assert!(validate_name("").is_err());
    }

    proptest::proptest! {
        #[test]
        fn env_example_never_panics_and_never_echoes(text in "\\PC{0,200}", secret in "[a-z]{12}") {
            let doc = format!("{text}\nBROKEN LINE {secret}\n");
            match EnvExample::parse(&doc) {
                Ok(ex) => for n in ex.names() { proptest::prop_assert!(validate_name(&n).is_ok()); },
                Err(e) => {
                    proptest::prop_assert_eq!(e.kind(), &crate::ErrorKind::InvalidInput);
                    proptest::prop_assert!(!e.to_string().contains(&secret));
                }
            }
        }
    }

    #[test]
    fn fingerprint_is_stable_and_short() {
        let f = fingerprint(&SecretString::from("hunter2"));
        assert_eq!(f.len(), 12);
        assert_eq!(f, fingerprint(&SecretString::from("hunter2")));
        assert_ne!(f, fingerprint(&SecretString::from("hunter3")));
    }
}
