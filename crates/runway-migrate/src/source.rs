//! Where migrations come from: a folder of `<version>_<name>.up.sql` / `.down.sql` files (sqlx's reversible
//! layout), plain `<version>_<name>.sql` files (up only, optionally with a `.down.sql`), or the same files
//! embedded at compile time with [`embed_migrations!`](crate::embed_migrations).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::directive::Directives;
use crate::error::{MigrateError, Result};

/// One file of a migration: its SQL (without a byte-order mark), directives and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationScript {
    /// The SQL text.
    pub sql: String,
    /// Directives from the leading comment.
    pub directives: Directives,
    /// The file name (`0003_add_phone.up.sql`).
    pub file: String,
    /// The path on disk, when loaded from a folder.
    pub path: Option<PathBuf>,
}

/// One migration: a version, a name, an up script and, when reversible, a down script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The version (the leading number of the file name).
    pub version: i64,
    /// The name (the rest of the file name, as written).
    pub name: String,
    /// The up script.
    pub up: MigrationScript,
    /// The down script, if any.
    pub down: Option<MigrationScript>,
    /// The checksum of the up script, normalised (see [`Checksum`]).
    pub checksum: Checksum,
}

impl Migration {
    /// A migration built in memory (tests, generated migrations). Directives are parsed from the SQL.
    pub fn new(
        version: i64,
        name: impl Into<String>,
        up: impl Into<String>,
        down: Option<String>,
    ) -> Result<Migration> {
        let name = name.into();
        let file = format!("{version}_{name}.up.sql");
        let up = script(version, file, None, strip_bom(up.into()))?;
        let down = down
            .map(|d| {
                script(
                    version,
                    format!("{version}_{name}.down.sql"),
                    None,
                    strip_bom(d),
                )
            })
            .transpose()?;
        Ok(Migration {
            version,
            name,
            checksum: Checksum::of(&up.sql),
            up,
            down,
        })
    }

    /// Whether it has a down script.
    pub fn is_reversible(&self) -> bool {
        self.down.is_some()
    }
}

/// A SHA-256 over the up script with line endings, trailing whitespace, trailing blank lines and a byte-order
/// mark normalised away, so a checkout on Windows or an editor that trims spaces does not "edit" a migration.
/// Shown as lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Checksum(String);

impl Checksum {
    /// The checksum of `sql`.
    ///
    /// ```
    /// use runway_migrate::Checksum;
    /// assert_eq!(Checksum::of("SELECT 1;\n"), Checksum::of("\u{feff}SELECT 1;  \r\n\r\n"));
    /// assert_ne!(Checksum::of("SELECT 1;"), Checksum::of("SELECT 2;"));
    /// ```
    pub fn of(sql: &str) -> Checksum {
        let sql = sql.strip_prefix('\u{feff}').unwrap_or(sql);
        let mut lines: Vec<&str> = sql.split('\n').map(|l| l.trim_end()).collect();
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        let mut h = Sha256::new();
        for (i, l) in lines.iter().enumerate() {
            if i > 0 {
                h.update(b"\n");
            }
            h.update(l.as_bytes());
        }
        let digest = h.finalize();
        let mut hex = String::with_capacity(64);
        for byte in digest {
            hex.push_str(&format!("{byte:02x}"));
        }
        Checksum(hex)
    }

    /// A checksum read back from the history table.
    pub fn from_hex(hex: impl Into<String>) -> Checksum {
        Checksum(hex.into())
    }

    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a migration file name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    /// The version.
    pub version: i64,
    /// The name.
    pub name: String,
    /// Up or down.
    pub kind: FileKind,
}

/// The role of a migration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `<v>_<name>.up.sql`.
    Up,
    /// `<v>_<name>.down.sql`.
    Down,
    /// `<v>_<name>.sql` (an up script).
    Plain,
}

/// Why a `.sql` file name is not a migration name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FileNameError {
    /// No `_` between version and name.
    #[error("expected <version>_<name>.sql")]
    NoSeparator,
    /// The version part is not a number.
    #[error("the version must be digits")]
    BadVersion,
    /// The version does not fit in 64 bits.
    #[error("the version is too large")]
    VersionTooLarge,
    /// The name part is empty.
    #[error("the name is empty")]
    EmptyName,
}

/// Parse a migration file name. `Ok(None)` for files that are not `.sql` or are hidden.
///
/// ```
/// use runway_migrate::{FileKind, parse_file_name};
/// let f = parse_file_name("20240101_add_phone.down.sql").unwrap().unwrap();
/// assert_eq!((f.version, f.name.as_str(), f.kind), (20240101, "add_phone", FileKind::Down));
/// assert!(parse_file_name("README.md").unwrap().is_none());
/// assert!(parse_file_name("add_phone.sql").is_err());
/// ```
pub fn parse_file_name(file: &str) -> Result<Option<FileName>, FileNameError> {
    if file.starts_with('.') {
        return Ok(None);
    }
    let (stem, kind) = if let Some(s) = file.strip_suffix(".up.sql") {
        (s, FileKind::Up)
    } else if let Some(s) = file.strip_suffix(".down.sql") {
        (s, FileKind::Down)
    } else if let Some(s) = file.strip_suffix(".sql") {
        (s, FileKind::Plain)
    } else {
        return Ok(None);
    };
    let (version, name) = stem.split_once('_').ok_or(FileNameError::NoSeparator)?;
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FileNameError::BadVersion);
    }
    let version: i64 = version
        .parse()
        .map_err(|_| FileNameError::VersionTooLarge)?;
    if name.is_empty() {
        return Err(FileNameError::EmptyName);
    }
    Ok(Some(FileName {
        version,
        name: name.to_string(),
        kind,
    }))
}

fn strip_bom(s: String) -> String {
    match s.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => s,
    }
}

fn script(
    version: i64,
    file: String,
    path: Option<PathBuf>,
    sql: String,
) -> Result<MigrationScript> {
    let directives = Directives::parse(&sql).map_err(|source| MigrateError::Directive {
        version,
        file: file.clone(),
        source,
    })?;
    Ok(MigrationScript {
        sql,
        directives,
        file,
        path,
    })
}

/// A file handed to [`MigrationSource::from_files`]: its name, contents and optional path.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The file name (no folders).
    pub file: String,
    /// The raw contents.
    pub contents: Vec<u8>,
    /// Where it lives on disk, if it does.
    pub path: Option<PathBuf>,
}

/// An ordered, validated set of migrations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationSource {
    migrations: Vec<Migration>,
    origin: String,
}

impl MigrationSource {
    /// Load every migration in `dir` (not recursive; non-`.sql` and hidden files are ignored).
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<MigrationSource> {
        let dir = dir.as_ref();
        let io = |path: &Path, source| MigrateError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
            let entry = entry.map_err(|e| io(dir, e))?;
            let path = entry.path();
            if !entry.file_type().map_err(|e| io(&path, e))?.is_file() {
                continue;
            }
            let Some(file) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if !file.ends_with(".sql") {
                continue;
            }
            let contents = std::fs::read(&path).map_err(|e| io(&path, e))?;
            files.push(SourceFile {
                file,
                contents,
                path: Some(path),
            });
        }
        let mut source = Self::from_files(files)?;
        source.origin = dir.display().to_string();
        Ok(source)
    }

    /// Build a source from files (as [`from_dir`](Self::from_dir) would read them).
    pub fn from_files(files: impl IntoIterator<Item = SourceFile>) -> Result<MigrationSource> {
        struct Pending {
            name: String,
            up: Option<MigrationScript>,
            down: Option<MigrationScript>,
        }
        let mut by_version: BTreeMap<i64, Pending> = BTreeMap::new();
        let mut files: Vec<SourceFile> = files.into_iter().collect();
        files.sort_by(|a, b| a.file.cmp(&b.file));
        for f in files {
            let parsed = parse_file_name(&f.file).map_err(|reason| MigrateError::BadFileName {
                file: f.file.clone(),
                reason,
            })?;
            let Some(parsed) = parsed else { continue };
            let sql = String::from_utf8(f.contents).map_err(|_| MigrateError::NotUtf8 {
                file: f.file.clone(),
            })?;
            let s = script(parsed.version, f.file.clone(), f.path, strip_bom(sql))?;
            let entry = by_version.entry(parsed.version).or_insert(Pending {
                name: parsed.name.clone(),
                up: None,
                down: None,
            });
            let slot = match parsed.kind {
                FileKind::Up | FileKind::Plain => &mut entry.up,
                FileKind::Down => &mut entry.down,
            };
            if let Some(existing) = slot {
                return Err(MigrateError::DuplicateVersion {
                    version: parsed.version,
                    first: existing.file.clone(),
                    second: f.file,
                });
            }
            if matches!(parsed.kind, FileKind::Up | FileKind::Plain) {
                entry.name = parsed.name;
            }
            *slot = Some(s);
        }
        let mut migrations = Vec::with_capacity(by_version.len());
        for (version, p) in by_version {
            let Some(up) = p.up else {
                let file = p.down.map(|d| d.file).unwrap_or_default();
                return Err(MigrateError::OrphanDown { version, file });
            };
            migrations.push(Migration {
                version,
                name: p.name,
                checksum: Checksum::of(&up.sql),
                up,
                down: p.down,
            });
        }
        Ok(MigrationSource {
            migrations,
            origin: "files".into(),
        })
    }

    /// Build a source from migrations made in memory; they are sorted by version and must be unique.
    pub fn from_migrations(
        migrations: impl IntoIterator<Item = Migration>,
    ) -> Result<MigrationSource> {
        let mut migrations: Vec<Migration> = migrations.into_iter().collect();
        migrations.sort_by_key(|m| m.version);
        for w in migrations.windows(2) {
            if w[0].version == w[1].version {
                return Err(MigrateError::DuplicateVersion {
                    version: w[0].version,
                    first: w[0].up.file.clone(),
                    second: w[1].up.file.clone(),
                });
            }
        }
        Ok(MigrationSource {
            migrations,
            origin: "memory".into(),
        })
    }

    /// Build a source from a folder embedded with `include_dir` (what
    /// [`embed_migrations!`](crate::embed_migrations) expands to).
    pub fn from_embedded(dir: &include_dir::Dir<'_>) -> Result<MigrationSource> {
        let files = dir.files().filter_map(|f| {
            let file = f.path().file_name()?.to_str()?.to_string();
            Some(SourceFile {
                file,
                contents: f.contents().to_vec(),
                path: None,
            })
        });
        let mut source = Self::from_files(files)?;
        source.origin = "embedded".into();
        Ok(source)
    }

    /// The migrations, by ascending version.
    pub fn migrations(&self) -> &[Migration] {
        &self.migrations
    }

    /// The migration with `version`.
    pub fn get(&self, version: i64) -> Option<&Migration> {
        self.migrations
            .binary_search_by_key(&version, |m| m.version)
            .ok()
            .map(|i| &self.migrations[i])
    }

    /// The newest version.
    pub fn latest(&self) -> Option<i64> {
        self.migrations.last().map(|m| m.version)
    }

    /// How many migrations.
    pub fn len(&self) -> usize {
        self.migrations.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.migrations.is_empty()
    }

    /// Versions without a down script (the runbook's "migration has rollback" check).
    pub fn irreversible(&self) -> Vec<i64> {
        self.migrations
            .iter()
            .filter(|m| m.down.is_none())
            .map(|m| m.version)
            .collect()
    }

    /// Where it was loaded from (a folder path, `embedded`, `files` or `memory`).
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, body: &str) -> SourceFile {
        SourceFile {
            file: name.into(),
            contents: body.as_bytes().to_vec(),
            path: None,
        }
    }

    #[test]
    fn pairs_up_and_down_and_sorts() {
        let s = MigrationSource::from_files([
            f("2_b.up.sql", "SELECT 2;"),
            f("1_a.sql", "SELECT 1;"),
            f("2_b.down.sql", "-- runway: no-transaction\nSELECT 3;"),
            f("notes.txt", "ignored"),
        ])
        .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s.irreversible(), vec![1]);
        assert_eq!(s.migrations()[0].version, 1);
        assert!(!s.migrations()[0].is_reversible());
        let b = s.get(2).unwrap();
        assert_eq!(b.name, "b");
        assert!(b.down.as_ref().unwrap().directives.no_transaction);
    }

    #[test]
    fn typed_errors_name_the_version() {
        let e = MigrationSource::from_files([f("1_a.sql", "x"), f("1_b.up.sql", "y")]).unwrap_err();
        assert_eq!(e.version(), Some(1));
        assert!(matches!(e, MigrateError::DuplicateVersion { .. }));
        let e = MigrationSource::from_files([f("7_a.down.sql", "x")]).unwrap_err();
        assert!(matches!(e, MigrateError::OrphanDown { version: 7, .. }));
        let e = MigrationSource::from_files([f("x_a.sql", "x")]).unwrap_err();
        assert!(matches!(e, MigrateError::BadFileName { .. }));
        let e = MigrationSource::from_files([SourceFile {
            file: "1_a.sql".into(),
            contents: vec![0xff, 0xfe],
            path: None,
        }])
        .unwrap_err();
        assert!(matches!(e, MigrateError::NotUtf8 { .. }));
        let e = MigrationSource::from_files([f("3_a.sql", "-- runway: bogus\n")]).unwrap_err();
        assert_eq!(e.version(), Some(3));
    }

    #[test]
    fn checksum_ignores_line_endings_and_trailing_space() {
        let lf = "CREATE TABLE t (\n  a int\n);\n";
        let crlf = "CREATE TABLE t (  \r\n  a int\t\r\n);\r\n\r\n";
        assert_eq!(Checksum::of(lf), Checksum::of(crlf));
        assert_ne!(
            Checksum::of(lf),
            Checksum::of("CREATE TABLE t (\n  b int\n);\n")
        );
        assert_eq!(Checksum::of(lf).as_str().len(), 64);
    }
}
