//! Where migrations come from: files and folders on disk, or values built in memory.
//!
//! Accepted layouts (the version is the leading run of digits):
//! - `0003_add_phone.up.sql` with `0003_add_phone.down.sql` beside it;
//! - `0003_add_phone.sql` (up) with an optional `0003_add_phone.down.sql`;
//! - a folder `0003_add_phone/` holding `up.sql` and `down.sql`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::LintError;

/// A downgrade file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownFile {
    /// Path as shown in findings.
    pub path: String,
    /// The SQL text.
    pub sql: String,
}

/// One migration: its up SQL and, when there is one, its downgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The version (leading digits of the file name).
    pub version: String,
    /// The descriptive part of the name.
    pub name: String,
    /// Path of the up file as shown in findings.
    pub path: String,
    /// The up SQL.
    pub sql: String,
    /// The downgrade, if present.
    pub down: Option<DownFile>,
}

impl Migration {
    /// A migration from memory.
    pub fn new(
        version: impl Into<String>,
        name: impl Into<String>,
        path: impl Into<String>,
        sql: impl Into<String>,
    ) -> Self {
        Migration {
            version: version.into(),
            name: name.into(),
            path: path.into(),
            sql: sql.into(),
            down: None,
        }
    }

    /// Attach a downgrade.
    #[must_use]
    pub fn with_down(mut self, path: impl Into<String>, sql: impl Into<String>) -> Self {
        self.down = Some(DownFile {
            path: path.into(),
            sql: sql.into(),
        });
        self
    }
}

/// An ordered set of migrations (ascending version).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationSet {
    migrations: Vec<Migration>,
}

/// What a file name says about a migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationName {
    /// Leading digits.
    pub version: String,
    /// The rest, without separators and suffix.
    pub name: String,
    /// Whether this is a downgrade file.
    pub down: bool,
}

/// Split a migration file name (`0003_add_phone.up.sql`, `0003_add_phone.down.sql`, `0003_add_phone.sql`).
/// Returns `None` for names without a leading version or without a `.sql` suffix.
pub fn parse_migration_name(file_name: &str) -> Option<MigrationName> {
    let stem = file_name.strip_suffix(".sql")?;
    let (stem, down) = if let Some(s) = stem.strip_suffix(".down") {
        (s, true)
    } else if let Some(s) = stem.strip_suffix(".up") {
        (s, false)
    } else {
        (stem, false)
    };
    let digits = stem.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let version = stem[..digits].to_string();
    let name = stem[digits..]
        .trim_start_matches(['_', '-', '.'])
        .to_string();
    Some(MigrationName {
        version,
        name,
        down,
    })
}

fn version_key(v: &str) -> (usize, String) {
    let trimmed = v.trim_start_matches('0');
    (trimmed.len(), trimmed.to_string())
}

fn read(path: &Path) -> Result<String, LintError> {
    std::fs::read_to_string(path).map_err(|source| LintError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

#[derive(Default)]
struct Pending {
    name: String,
    up: Option<PathBuf>,
    down: Option<PathBuf>,
}

impl MigrationSet {
    /// A set from migrations built in memory; sorted by version.
    ///
    /// # Errors
    /// [`LintError::DuplicateVersion`] when two migrations share a version.
    pub fn new(mut migrations: Vec<Migration>) -> Result<Self, LintError> {
        migrations.sort_by_key(|m| version_key(&m.version));
        for w in migrations.windows(2) {
            if version_key(&w[0].version) == version_key(&w[1].version) {
                return Err(LintError::DuplicateVersion {
                    version: w[1].version.clone(),
                });
            }
        }
        Ok(MigrationSet { migrations })
    }

    /// Load migrations from files and folders. A folder is scanned for the layouts in the module docs;
    /// a file is taken as an up file (its `.down.sql` sibling is picked up when present).
    ///
    /// # Errors
    /// IO errors, names without a version inside a scanned folder, an up file missing for a down file,
    /// or a duplicate version.
    pub fn load<P: AsRef<Path>>(paths: &[P]) -> Result<Self, LintError> {
        let mut found: BTreeMap<(usize, String), Pending> = BTreeMap::new();
        for p in paths {
            let p = p.as_ref();
            if p.is_dir() {
                Self::scan_dir(p, &mut found)?;
            } else {
                let file_name = p.file_name().and_then(|f| f.to_str()).unwrap_or_default();
                let parsed = parse_migration_name(file_name).ok_or_else(|| {
                    LintError::InvalidMigrationName {
                        path: p.to_path_buf(),
                    }
                })?;
                let entry = found.entry(version_key(&parsed.version)).or_default();
                entry.name = parsed.name.clone();
                if parsed.down {
                    entry.down = Some(p.to_path_buf());
                } else {
                    entry.up = Some(p.to_path_buf());
                    if entry.down.is_none() {
                        let sibling = sibling_down(p, &parsed);
                        if sibling.is_file() {
                            entry.down = Some(sibling);
                        }
                    }
                }
            }
        }
        let mut migrations = Vec::with_capacity(found.len());
        for ((_, version), pending) in found {
            let Some(up) = pending.up else {
                let down = pending.down.unwrap_or_default();
                return Err(LintError::MissingUpFile { path: down });
            };
            let down = match pending.down {
                Some(d) => Some(DownFile {
                    sql: read(&d)?,
                    path: shown(&d),
                }),
                None => None,
            };
            migrations.push(Migration {
                version: version_from_path(&up).unwrap_or(version),
                name: pending.name,
                sql: read(&up)?,
                path: shown(&up),
                down,
            });
        }
        Self::new(migrations)
    }

    fn scan_dir(
        dir: &Path,
        found: &mut BTreeMap<(usize, String), Pending>,
    ) -> Result<(), LintError> {
        let io = |source| LintError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(io)?;
        entries.sort();
        for path in entries {
            let file_name = path
                .file_name()
                .and_then(|f| f.to_str())
                .unwrap_or_default()
                .to_string();
            if file_name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                // `0003_add_phone/{up,down}.sql`
                let Some(parsed) = parse_migration_name(&format!("{file_name}.sql")) else {
                    continue;
                };
                let up = path.join("up.sql");
                if !up.is_file() {
                    continue;
                }
                let down = path.join("down.sql");
                let entry = found.entry(version_key(&parsed.version)).or_default();
                entry.name = parsed.name;
                entry.up = Some(up);
                entry.down = down.is_file().then_some(down);
                continue;
            }
            if !file_name.ends_with(".sql") {
                continue;
            }
            let parsed = parse_migration_name(&file_name)
                .ok_or_else(|| LintError::InvalidMigrationName { path: path.clone() })?;
            let entry = found.entry(version_key(&parsed.version)).or_default();
            if parsed.down {
                entry.down = Some(path);
            } else {
                if entry.up.is_some() {
                    return Err(LintError::DuplicateVersion {
                        version: parsed.version,
                    });
                }
                entry.name = parsed.name;
                entry.up = Some(path);
            }
        }
        Ok(())
    }

    /// The migrations the runner loaded (so lint, rehearsal and runner read the same files).
    ///
    /// # Errors
    /// [`LintError::DuplicateVersion`] cannot happen for a valid source, but is kept for symmetry.
    pub fn from_source(source: &crate::MigrationSource) -> Result<Self, LintError> {
        let shown = |s: &crate::MigrationScript| {
            s.path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| s.file.clone())
        };
        let migrations = source
            .migrations()
            .iter()
            .map(|m| Migration {
                version: m.version.to_string(),
                name: m.name.clone(),
                path: shown(&m.up),
                sql: m.up.sql.clone(),
                down: m.down.as_ref().map(|d| DownFile {
                    path: shown(d),
                    sql: d.sql.clone(),
                }),
            })
            .collect();
        Self::new(migrations)
    }

    /// The migrations, ascending by version.
    pub fn migrations(&self) -> &[Migration] {
        &self.migrations
    }

    /// Number of migrations.
    pub fn len(&self) -> usize {
        self.migrations.len()
    }

    /// `true` when there are none.
    pub fn is_empty(&self) -> bool {
        self.migrations.is_empty()
    }
}

fn version_from_path(p: &Path) -> Option<String> {
    let name = p.file_name()?.to_str()?;
    if name == "up.sql" {
        let dir = p.parent()?.file_name()?.to_str()?;
        return parse_migration_name(&format!("{dir}.sql")).map(|m| m.version);
    }
    parse_migration_name(name).map(|m| m.version)
}

fn sibling_down(up: &Path, parsed: &MigrationName) -> PathBuf {
    let mut name = parsed.version.clone();
    if !parsed.name.is_empty() {
        name.push('_');
        name.push_str(&parsed.name);
    }
    let file = up.file_name().and_then(|f| f.to_str()).unwrap_or_default();
    // Keep the original separator and stem: replace the suffix only.
    let stem = file
        .strip_suffix(".up.sql")
        .or_else(|| file.strip_suffix(".sql"))
        .unwrap_or(&name);
    up.with_file_name(format!("{stem}.down.sql"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let m = parse_migration_name("0003_add_phone.up.sql").expect("name");
        assert_eq!(
            (m.version.as_str(), m.name.as_str(), m.down),
            ("0003", "add_phone", false)
        );
        let m = parse_migration_name("20250101120000-users.down.sql").expect("name");
        assert_eq!(
            (m.version.as_str(), m.name.as_str(), m.down),
            ("20250101120000", "users", true)
        );
        assert!(parse_migration_name("README.sql").is_none());
        assert!(parse_migration_name("0001_x.txt").is_none());
    }

    #[test]
    fn versions_sort_numerically() {
        let set = MigrationSet::new(vec![
            Migration::new("10", "b", "10_b.sql", ""),
            Migration::new("9", "a", "9_a.sql", ""),
        ])
        .expect("set");
        assert_eq!(set.migrations()[0].version, "9");
        assert!(matches!(
            MigrationSet::new(vec![
                Migration::new("01", "a", "a", ""),
                Migration::new("1", "b", "b", "")
            ]),
            Err(LintError::DuplicateVersion { .. })
        ));
    }
}
