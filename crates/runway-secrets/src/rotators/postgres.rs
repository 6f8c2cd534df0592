//! PostgreSQL passwords with two alternating login roles, so no connection ever fails.
//!
//! The secret's value is `{"username": ..., "password": ...}`. Two login roles (members of one group role
//! that owns the privileges) take turns: a rotation gives the *other* role a new password and `LOGIN`
//! (`set`), logs in with it on a fresh connection (`test`), promotes it, then waits until
//! `pg_stat_activity` shows the old role idle and only then sets it `NOLOGIN` (`finish`). Clients holding
//! the old credentials keep connecting until then.
//!
//! Passwords never travel in SQL text: the rotator sends a SCRAM-SHA-256 verifier computed locally, and
//! statement logging is off on its admin connection.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use runway_core::{Error, SecretVersion};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

use crate::error::{SecretsError, redacted_json};
use crate::rotation::Rotator;

use super::generate_password;

const SCRAM_ITERATIONS: u32 = 4096;

/// Database credentials, the value of a PostgreSQL secret.
#[derive(Clone)]
pub struct PgCredentials {
    /// The login role.
    pub username: String,
    /// Its password.
    pub password: SecretString,
}

impl std::fmt::Debug for PgCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgCredentials")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
struct Wire {
    username: String,
    password: String,
}

impl PgCredentials {
    /// Decode a secret value (`{"username": ..., "password": ...}`). Errors never quote the value.
    pub fn parse(value: &SecretString) -> Result<Self, SecretsError> {
        let w: Wire = serde_json::from_str(value.expose_secret())
            .map_err(|e| redacted_json("PostgreSQL secret", &e))?;
        if w.username.is_empty() {
            return Err(SecretsError::InvalidInput(
                "PostgreSQL secret has an empty username".into(),
            ));
        }
        Ok(PgCredentials {
            username: w.username,
            password: SecretString::from(w.password),
        })
    }

    /// Encode as a secret value.
    pub fn to_secret(&self) -> SecretString {
        let w = Wire {
            username: self.username.clone(),
            password: self.password.expose_secret().to_owned(),
        };
        SecretString::from(serde_json::to_string(&w).unwrap_or_default())
    }
}

/// `"name"` with embedded quotes doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    m.update(msg);
    m.finalize().into_bytes().into()
}

fn salted(password: &str, salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, iterations, &mut out);
    out
}

/// A SCRAM-SHA-256 verifier for `password` (what PostgreSQL stores in `pg_authid.rolpassword`).
/// Sent as the `PASSWORD` of `ALTER ROLE`, the server stores it as is, so the password itself never
/// reaches the server or its logs.
pub fn scram_verifier(password: &SecretString) -> String {
    let salt: [u8; 16] = rand::random();
    let sp = salted(password.expose_secret(), &salt, SCRAM_ITERATIONS);
    let stored = Sha256::digest(hmac(&sp, b"Client Key"));
    let server = hmac(&sp, b"Server Key");
    format!(
        "SCRAM-SHA-256${SCRAM_ITERATIONS}:{}${}:{}",
        B64.encode(salt),
        B64.encode(stored),
        B64.encode(server)
    )
}

/// Whether `verifier` (a SCRAM-SHA-256 `rolpassword`) was made from `password`. Malformed verifiers are
/// `false`.
pub fn scram_matches(verifier: &str, password: &SecretString) -> bool {
    let Some(rest) = verifier.strip_prefix("SCRAM-SHA-256$") else {
        return false;
    };
    let Some((iter_salt, keys)) = rest.split_once('$') else {
        return false;
    };
    let (Some((iter, salt)), Some((stored, _server))) =
        (iter_salt.split_once(':'), keys.split_once(':'))
    else {
        return false;
    };
    let (Ok(iter), Ok(salt), Ok(stored)) =
        (iter.parse::<u32>(), B64.decode(salt), B64.decode(stored))
    else {
        return false;
    };
    if !(1..=1_000_000).contains(&iter) {
        return false;
    }
    let sp = salted(password.expose_secret(), &salt, iter);
    Sha256::digest(hmac(&sp, b"Client Key")).as_slice() == stored.as_slice()
}

fn db_err(op: &str, e: sqlx::Error) -> Error {
    let kind = match &e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
            runway_core::ErrorKind::Unavailable
        }
        sqlx::Error::Tls(_) => runway_core::ErrorKind::Unavailable,
        sqlx::Error::Database(d) if d.code().as_deref() == Some("28P01") => {
            runway_core::ErrorKind::Unauthenticated
        }
        sqlx::Error::Database(d) if d.code().as_deref() == Some("28000") => {
            runway_core::ErrorKind::PermissionDenied
        }
        sqlx::Error::Database(d) if d.code().as_deref() == Some("42501") => {
            runway_core::ErrorKind::PermissionDenied
        }
        _ => runway_core::ErrorKind::Provider,
    };
    // sqlx's messages carry server text (role names, codes), not the statement or the password.
    Error::new(kind, format!("{op}: {e}")).with_backend("postgres")
}

/// Builds a [`PostgresRotator`].
pub struct PostgresRotatorBuilder {
    admin_url: SecretString,
    database_url: Option<String>,
    roles: [String; 2],
    drain_grace: Duration,
    drain_timeout: Duration,
    drain_poll: Duration,
    password_len: usize,
}

impl std::fmt::Debug for PostgresRotatorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresRotatorBuilder")
            .field("roles", &self.roles)
            .field("drain_grace", &self.drain_grace)
            .field("drain_timeout", &self.drain_timeout)
            .finish_non_exhaustive()
    }
}

impl PostgresRotatorBuilder {
    /// Rotate between `roles` using an admin connection (`CREATEROLE` or superuser) at `admin_url`.
    pub fn new(admin_url: SecretString, roles: [&str; 2]) -> Self {
        PostgresRotatorBuilder {
            admin_url,
            database_url: None,
            roles: roles.map(str::to_owned),
            drain_grace: Duration::from_secs(60),
            drain_timeout: Duration::from_secs(600),
            drain_poll: Duration::from_secs(1),
            password_len: 32,
        }
    }

    /// The application database the test step logs in to (host, port, database; credentials in it are
    /// ignored). Defaults to the admin URL's.
    #[must_use]
    pub fn with_database_url(mut self, url: impl Into<String>) -> Self {
        self.database_url = Some(url.into());
        self
    }

    /// How long clients may keep using the previous credentials after the promotion (their secret cache
    /// TTL) before the old role's sessions are checked.
    #[must_use]
    pub fn with_drain_grace(mut self, d: Duration) -> Self {
        self.drain_grace = d;
        self
    }

    /// How long to wait for the old role to go idle before giving up (it then stays able to log in).
    #[must_use]
    pub fn with_drain_timeout(mut self, d: Duration) -> Self {
        self.drain_timeout = d;
        self
    }

    /// How often `pg_stat_activity` is checked while draining.
    #[must_use]
    pub fn with_drain_poll(mut self, d: Duration) -> Self {
        self.drain_poll = d;
        self
    }

    /// Length of generated passwords (at least 16).
    #[must_use]
    pub fn with_password_length(mut self, n: usize) -> Self {
        self.password_len = n.max(16);
        self
    }

    /// Validate and connect the admin pool (lazily).
    pub fn build(self) -> Result<PostgresRotator, SecretsError> {
        if self.roles[0] == self.roles[1] || self.roles.iter().any(String::is_empty) {
            return Err(SecretsError::InvalidInput(
                "two distinct, non-empty role names are needed".into(),
            ));
        }
        let bad_url = || SecretsError::InvalidInput("the PostgreSQL URL does not parse".into());
        let admin = PgConnectOptions::from_str(self.admin_url.expose_secret())
            .map_err(|_| bad_url())?
            .disable_statement_logging();
        let target = match &self.database_url {
            Some(u) => PgConnectOptions::from_str(u).map_err(|_| bad_url())?,
            None => admin.clone(),
        }
        .disable_statement_logging();
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(10))
            .connect_lazy_with(admin);
        Ok(PostgresRotator {
            admin: pool,
            target,
            roles: self.roles,
            drain_grace: self.drain_grace,
            drain_timeout: self.drain_timeout,
            drain_poll: self.drain_poll,
            password_len: self.password_len,
        })
    }
}

/// The alternating-roles PostgreSQL rotator (see the module docs).
#[derive(Debug, Clone)]
pub struct PostgresRotator {
    admin: PgPool,
    target: PgConnectOptions,
    roles: [String; 2],
    drain_grace: Duration,
    drain_timeout: Duration,
    drain_poll: Duration,
    password_len: usize,
}

impl PostgresRotator {
    /// A builder.
    pub fn builder(admin_url: SecretString, roles: [&str; 2]) -> PostgresRotatorBuilder {
        PostgresRotatorBuilder::new(admin_url, roles)
    }

    /// The two roles.
    pub fn roles(&self) -> [&str; 2] {
        [&self.roles[0], &self.roles[1]]
    }

    /// Create the group role and the two login roles (the first able to log in with `password`, the second
    /// `NOLOGIN`), both members of `group` with `SET role` to it so objects they create belong to the group.
    /// Returns the first secret value.
    pub async fn bootstrap(
        &self,
        group: &str,
        password: &SecretString,
    ) -> Result<SecretString, SecretsError> {
        let g = quote_ident(group);
        let [a, b] = self.roles.clone().map(|r| quote_ident(&r));
        let lit = group.replace('\'', "''");
        let statements = [
            format!("CREATE ROLE {g} NOLOGIN"),
            format!(
                "CREATE ROLE {a} LOGIN PASSWORD '{}' IN ROLE {g}",
                scram_verifier(password)
            ),
            format!("CREATE ROLE {b} NOLOGIN IN ROLE {g}"),
            format!("ALTER ROLE {a} SET role = '{lit}'"),
            format!("ALTER ROLE {b} SET role = '{lit}'"),
        ];
        for s in statements {
            sqlx::raw_sql(&s)
                .execute(&self.admin)
                .await
                .map_err(|e| db_err("bootstrap", e))?;
        }
        Ok(PgCredentials {
            username: self.roles[0].clone(),
            password: password.clone(),
        }
        .to_secret())
    }

    /// Drop the two roles and the group (for tests and teardown).
    pub async fn drop_roles(&self, group: &str) -> Result<(), SecretsError> {
        for r in [&self.roles[0], &self.roles[1], &group.to_owned()] {
            sqlx::raw_sql(&format!("DROP ROLE IF EXISTS {}", quote_ident(r)))
                .execute(&self.admin)
                .await
                .map_err(|e| db_err("drop roles", e))?;
        }
        Ok(())
    }

    fn other_role(&self, user: &str) -> runway_core::Result<&str> {
        if user == self.roles[0] {
            Ok(&self.roles[1])
        } else if user == self.roles[1] {
            Ok(&self.roles[0])
        } else {
            Err(Error::invalid_input(format!(
                "the secret's user {user:?} is neither of the rotated roles {:?}",
                self.roles
            )))
        }
    }

    /// Sessions of `role` that are doing something (state other than idle).
    pub async fn busy_sessions(&self, role: &str) -> runway_core::Result<i64> {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE usename = $1 AND backend_type = 'client backend' \
             AND state IS DISTINCT FROM 'idle' AND pid <> pg_backend_pid()",
        )
        .bind(role)
        .fetch_one(&self.admin)
        .await
        .map_err(|e| db_err("pg_stat_activity", e))
    }

    /// Whether `role` may log in (`rolcanlogin`).
    pub async fn can_login(&self, role: &str) -> runway_core::Result<bool> {
        sqlx::query_scalar::<_, bool>("SELECT rolcanlogin FROM pg_roles WHERE rolname = $1")
            .bind(role)
            .fetch_optional(&self.admin)
            .await
            .map_err(|e| db_err("pg_roles", e))?
            .ok_or_else(|| Error::not_found(format!("no role {role:?}")))
    }
}

fn parse(v: &SecretVersion) -> runway_core::Result<PgCredentials> {
    PgCredentials::parse(&v.value).map_err(SecretsError::into_core)
}

#[async_trait]
impl Rotator for PostgresRotator {
    fn name(&self) -> &str {
        "postgres-password"
    }

    async fn create(&self, current: &SecretVersion) -> runway_core::Result<SecretString> {
        let cur = parse(current)?;
        let next = self.other_role(&cur.username)?.to_owned();
        Ok(PgCredentials {
            username: next,
            password: generate_password(self.password_len),
        }
        .to_secret())
    }

    async fn set(
        &self,
        pending: &SecretVersion,
        current: &SecretVersion,
    ) -> runway_core::Result<()> {
        let p = parse(pending)?;
        let c = parse(current)?;
        if p.username == c.username {
            return Err(Error::conflict(format!(
                "the pending credentials use the current role {:?}; changing its password would break new connections",
                c.username
            )));
        }
        self.other_role(&p.username)?;
        let sql = format!(
            "ALTER ROLE {} WITH LOGIN PASSWORD '{}'",
            quote_ident(&p.username),
            scram_verifier(&p.password)
        );
        sqlx::raw_sql(&sql)
            .execute(&self.admin)
            .await
            .map_err(|e| db_err("set password", e))?;
        Ok(())
    }

    async fn test(&self, pending: &SecretVersion) -> runway_core::Result<()> {
        let p = parse(pending)?;
        // The server may trust the connection without checking the password (trust auth): compare the
        // stored verifier too.
        // pg_authid needs a superuser; a CREATEROLE admin skips this check.
        let stored: Option<Option<String>> =
            match sqlx::query_scalar("SELECT rolpassword FROM pg_authid WHERE rolname = $1")
                .bind(&p.username)
                .fetch_optional(&self.admin)
                .await
            {
                Ok(v) => v,
                Err(e) => {
                    let e = db_err("pg_authid", e);
                    if e.kind() != &runway_core::ErrorKind::PermissionDenied {
                        return Err(e);
                    }
                    Some(Some(String::new()))
                }
            };
        match stored.flatten() {
            Some(v) if v.starts_with("SCRAM-SHA-256$") && !scram_matches(&v, &p.password) => {
                return Err(Error::new(
                    runway_core::ErrorKind::Unauthenticated,
                    format!("role {:?} does not have the pending password", p.username),
                ));
            }
            None => {
                return Err(Error::new(
                    runway_core::ErrorKind::Unauthenticated,
                    format!("role {:?} has no password", p.username),
                ));
            }
            _ => {}
        }
        let opts = self
            .target
            .clone()
            .username(&p.username)
            .password(p.password.expose_secret());
        let mut conn = sqlx::PgConnection::connect_with(&opts)
            .await
            .map_err(|e| db_err("test login", e))?;
        let user: String = sqlx::query_scalar("SELECT session_user::text")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| db_err("test query", e))?;
        let _ = conn.close().await;
        if user != p.username {
            return Err(Error::provider(format!(
                "logged in as {user:?}, expected {:?}",
                p.username
            )));
        }
        Ok(())
    }

    async fn finish(
        &self,
        current: &SecretVersion,
        previous: Option<&SecretVersion>,
    ) -> runway_core::Result<()> {
        let cur = parse(current)?;
        let Some(prev) = previous.map(parse).transpose()? else {
            return Ok(());
        };
        if prev.username == cur.username || self.other_role(&prev.username).is_err() {
            return Ok(());
        }
        tokio::time::sleep(self.drain_grace).await;
        let start = tokio::time::Instant::now();
        loop {
            let busy = self.busy_sessions(&prev.username).await?;
            if busy == 0 {
                break;
            }
            if start.elapsed() >= self.drain_timeout {
                return Err(Error::conflict(format!(
                    "role {:?} still has {busy} active sessions after {:?}; it was left able to log in",
                    prev.username, self.drain_timeout
                )));
            }
            tracing::debug!(target: "runway_secrets", role = %prev.username, busy, "waiting for the old role to go idle");
            tokio::time::sleep(self.drain_poll).await;
        }
        sqlx::raw_sql(&format!(
            "ALTER ROLE {} NOLOGIN",
            quote_ident(&prev.username)
        ))
        .execute(&self.admin)
        .await
        .map_err(|e| db_err("disable old role", e))?;
        tracing::info!(target: "runway_secrets", role = %prev.username, "old role disabled");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scram_round_trip() {
        let pw = SecretString::from("hunter2hunter2");
        let v = scram_verifier(&pw);
        assert!(v.starts_with("SCRAM-SHA-256$4096:"));
        assert!(!v.contains("hunter2"));
        assert!(scram_matches(&v, &pw));
        assert!(!scram_matches(&v, &SecretString::from("other")));
        assert!(!scram_matches("garbage", &pw));
    }

    #[test]
    fn credentials_parse_redacts() {
        let err = PgCredentials::parse(&SecretString::from(
            "{\"username\": 5, \"password\": \"hunter2\"}",
        ))
        .unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
        let c = PgCredentials::parse(&SecretString::from(r#"{"username":"a","password":"p"}"#))
            .unwrap();
        assert_eq!(c.username, "a");
        assert!(!format!("{c:?}").contains("\"p\""));
    }

    #[test]
    fn idents_are_quoted() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
