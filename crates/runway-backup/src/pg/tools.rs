//! Finding and running the PostgreSQL client binaries, and database URLs that keep passwords secret.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use secrecy::{ExposeSecret, SecretString};
use tokio::io::AsyncReadExt;
use tokio::process::Command;

use crate::error::{BackupError, Result};

/// Find a PostgreSQL binary: the newest `/usr/lib/postgresql/<major>/bin` first (so client and server
/// versions match on Debian-style installs), then `PATH`.
pub fn find_pg_bin(name: &str) -> Option<PathBuf> {
    find_in(Path::new("/usr/lib/postgresql"), name).or_else(|| {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

fn find_in(root: &Path, name: &str) -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .ok()?
        .flatten()
        .filter_map(|e| {
            let major: u32 = e.file_name().to_str()?.parse().ok()?;
            let p = e.path().join("bin").join(name);
            p.is_file().then_some((major, p))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, p)| p)
}

/// The `pg_dump` and `pg_restore` binaries to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgTools {
    /// `pg_dump`.
    pub pg_dump: PathBuf,
    /// `pg_restore`.
    pub pg_restore: PathBuf,
}

impl PgTools {
    /// Look both up with [`find_pg_bin`].
    pub fn discover() -> Result<PgTools> {
        Ok(PgTools {
            pg_dump: find_pg_bin("pg_dump").ok_or(BackupError::ToolNotFound("pg_dump"))?,
            pg_restore: find_pg_bin("pg_restore").ok_or(BackupError::ToolNotFound("pg_restore"))?,
        })
    }

    /// Both from one directory.
    pub fn in_dir(dir: impl AsRef<Path>) -> Result<PgTools> {
        let dir = dir.as_ref();
        let get = |name: &'static str| {
            let p = dir.join(name);
            p.is_file()
                .then_some(p)
                .ok_or(BackupError::ToolNotFound(name))
        };
        Ok(PgTools {
            pg_dump: get("pg_dump")?,
            pg_restore: get("pg_restore")?,
        })
    }

    /// `pg_dump --version`, trimmed (`pg_dump (PostgreSQL) 15.10 (Debian 15.10-0+deb12u1)`).
    pub async fn pg_dump_version(&self) -> Result<String> {
        let out = Command::new(&self.pg_dump)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(BackupError::io("running pg_dump --version"))?;
        if !out.status.success() {
            return Err(tool_failed("pg_dump", out.status, &out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

pub(crate) fn tool_failed(
    tool: &'static str,
    status: std::process::ExitStatus,
    stderr: &[u8],
) -> BackupError {
    BackupError::ToolFailed {
        tool,
        status: status.code().unwrap_or(-1),
        stderr: tail(stderr),
    }
}

/// The last few lines of a tool's stderr (bounded).
pub(crate) fn tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(8);
    let mut s = lines[start..].join("\n");
    if s.len() > 4000 {
        let mut cut = s.len() - 4000;
        while !s.is_char_boundary(cut) {
            cut += 1;
        }
        s = s[cut..].to_string();
    }
    s
}

/// Collect a child's stderr in the background (so a chatty tool never blocks on a full pipe).
pub(crate) fn drain_stderr(
    stderr: Option<tokio::process::ChildStderr>,
) -> tokio::task::JoinHandle<Vec<u8>> {
    tokio::spawn(async move {
        let mut buf = Vec::new();
        if let Some(mut s) = stderr {
            let mut chunk = [0u8; 8192];
            while let Ok(n) = s.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                if buf.len() > 1 << 20 {
                    buf.drain(..buf.len() - (64 << 10));
                }
            }
        }
        buf
    })
}

/// A PostgreSQL connection URL. It may hold a password, so it is a [`SecretString`]: `Debug` and
/// `Display` show it without the password, and the tools get the password through `PGPASSWORD`, never
/// on their command line.
///
/// ```
/// let url = runway_backup::PgUrl::parse("postgres://app:hunter2@db.internal:5432/app").unwrap();
/// assert_eq!(url.database(), "app");
/// assert!(!format!("{url:?} {url}").contains("hunter2"));
/// ```
#[derive(Clone)]
pub struct PgUrl {
    secret: SecretString,
    redacted: url::Url,
    database: String,
}

impl PgUrl {
    /// Parse a `postgres://` or `postgresql://` URL; the database name is required.
    pub fn parse(url: &str) -> Result<PgUrl> {
        let parsed = url::Url::parse(url)
            .map_err(|e| BackupError::InvalidInput(format!("database URL: {e}")))?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err(BackupError::InvalidInput(format!(
                "database URL scheme must be postgres://, not {}://",
                parsed.scheme()
            )));
        }
        let database = decode(parsed.path().trim_start_matches('/'));
        if database.is_empty() {
            return Err(BackupError::InvalidInput(
                "database URL must name a database".into(),
            ));
        }
        let mut redacted = parsed.clone();
        let _ = redacted.set_password(None);
        Ok(PgUrl {
            secret: SecretString::from(url.to_string()),
            redacted,
            database,
        })
    }

    /// From a [`SecretString`].
    pub fn from_secret(url: &SecretString) -> Result<PgUrl> {
        Self::parse(url.expose_secret())
    }

    /// The database name.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// The same server and credentials, another database.
    pub fn with_database(&self, database: &str) -> PgUrl {
        let mut u = url::Url::parse(self.secret.expose_secret()).expect("parsed before");
        u.set_path(&format!("/{}", encode_path(database)));
        PgUrl::parse(u.as_str()).expect("a valid URL with a database")
    }

    /// The full URL, for the driver.
    pub(crate) fn expose(&self) -> &str {
        self.secret.expose_secret()
    }

    /// The URL without password, and the password (for `PGPASSWORD`).
    pub(crate) fn for_tool(&self) -> (String, Option<String>) {
        let full = url::Url::parse(self.secret.expose_secret()).expect("parsed before");
        let password = full.password().map(decode);
        (self.redacted.to_string(), password)
    }

    /// A tool command with the connection set up (`--dbname` and `PGPASSWORD`).
    pub(crate) fn command(&self, bin: &Path) -> Command {
        let (url, password) = self.for_tool();
        let mut cmd = Command::new(bin);
        cmd.arg("--dbname").arg(url).arg("--no-password");
        if let Some(p) = password {
            cmd.env("PGPASSWORD", p);
        }
        cmd.kill_on_drop(true);
        cmd
    }
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

fn encode_path(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PgUrl")
            .field(&self.redacted.as_str())
            .finish()
    }
}

impl fmt::Display for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.redacted.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_hides_password_and_swaps_database() {
        let u = PgUrl::parse("postgres://app:s%40cret@127.0.0.1:5432/app?sslmode=disable").unwrap();
        let shown = format!("{u} {u:?}");
        assert!(
            !shown.contains("s%40cret") && !shown.contains("s@cret"),
            "{shown}"
        );
        let (tool, pw) = u.for_tool();
        assert_eq!(pw.as_deref(), Some("s@cret"));
        assert!(!tool.contains("cret"));
        let other = u.with_database("scratch db");
        assert_eq!(other.database(), "scratch db");
        assert!(other.expose().contains("sslmode=disable"));
        assert!(PgUrl::parse("mysql://x/y").is_err());
        assert!(PgUrl::parse("postgres://h:5432").is_err());
    }

    #[test]
    fn finds_the_newest_versioned_binary() {
        let dir = tempfile::tempdir().unwrap();
        for v in ["13", "15", "notaversion"] {
            let bin = dir.path().join(v).join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            std::fs::write(bin.join("pg_dump"), "").unwrap();
        }
        assert_eq!(
            find_in(dir.path(), "pg_dump"),
            Some(dir.path().join("15/bin/pg_dump"))
        );
        assert_eq!(find_in(dir.path(), "pg_restore"), None);
    }
}
