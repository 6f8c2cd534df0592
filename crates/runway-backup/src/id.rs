//! Backup names: `backup_YYYYMMDD_HHMMSS` in UTC, as in the runbook, with `_N` when a second holds several.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use crate::error::BackupError;

/// Which engine a backup belongs to; it decides the data file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// `pg_dump` custom format, `.dump`.
    Postgres,
    /// A SQLite database file (`VACUUM INTO`), `.sqlite`.
    Sqlite,
}

impl Engine {
    /// The data file extension (without the dot).
    pub fn extension(self) -> &'static str {
        match self {
            Engine::Postgres => "dump",
            Engine::Sqlite => "sqlite",
        }
    }

    /// `postgres` or `sqlite`.
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Sqlite => "sqlite",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A backup's identity: its UTC creation second and a sequence number for same-second backups.
///
/// ```
/// use runway_backup::BackupId;
/// let id: BackupId = "backup_20250115_103000".parse().unwrap();
/// assert_eq!(id.to_string(), "backup_20250115_103000");
/// assert_eq!(id.created_at().to_rfc3339(), "2025-01-15T10:30:00+00:00");
/// let next = id.next();
/// assert_eq!(next.to_string(), "backup_20250115_103000_2");
/// assert!(next > id);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BackupId {
    at: DateTime<Utc>,
    seq: u32,
}

const PREFIX: &str = "backup_";
const FORMAT: &str = "%Y%m%d_%H%M%S";

impl BackupId {
    /// The id for a backup started at `at` (truncated to the second).
    pub fn at(at: DateTime<Utc>) -> Self {
        BackupId {
            at: at.trunc_subsecs(0),
            seq: 1,
        }
    }

    /// The next id in the same second (`_2`, `_3`, ...).
    #[must_use]
    pub fn next(self) -> Self {
        BackupId {
            at: self.at,
            seq: self.seq.saturating_add(1),
        }
    }

    /// When the backup started (UTC, second precision).
    pub fn created_at(&self) -> DateTime<Utc> {
        self.at
    }

    /// 1 for the first backup of its second.
    pub fn seq(&self) -> u32 {
        self.seq
    }

    /// The data file's key: `backup_..._.dump` or `.sqlite`.
    pub fn data_key(&self, engine: Engine) -> String {
        format!("{self}.{}", engine.extension())
    }

    /// The manifest's key: `backup_....manifest.json`.
    pub fn manifest_key(&self) -> String {
        format!("{self}.manifest.json")
    }

    /// The verification record's key: `backup_....verification.json`.
    pub fn verification_key(&self) -> String {
        format!("{self}.verification.json")
    }

    /// Parse a name (`backup_20250115_103000` or `backup_20250115_103000_2`).
    pub fn parse(name: &str) -> Result<Self, BackupError> {
        let bad = |reason| BackupError::InvalidName {
            name: name.chars().take(200).collect(),
            reason,
        };
        let rest = name
            .strip_prefix(PREFIX)
            .ok_or_else(|| bad("missing backup_ prefix"))?;
        if rest.len() < 15 || !rest.is_char_boundary(15) {
            return Err(bad("expected YYYYMMDD_HHMMSS"));
        }
        let (stamp, tail) = rest.split_at(15);
        if !stamp.bytes().enumerate().all(|(i, b)| {
            if i == 8 {
                b == b'_'
            } else {
                b.is_ascii_digit()
            }
        }) {
            return Err(bad("expected YYYYMMDD_HHMMSS"));
        }
        let naive =
            NaiveDateTime::parse_from_str(stamp, FORMAT).map_err(|_| bad("not a valid date"))?;
        let seq = match tail {
            "" => 1,
            t => {
                let digits = t
                    .strip_prefix('_')
                    .ok_or_else(|| bad("unexpected suffix"))?;
                if digits.is_empty()
                    || digits.len() > 9
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                    || digits.starts_with('0')
                {
                    return Err(bad("sequence must be _2 .. _999999999"));
                }
                let n: u32 = digits.parse().map_err(|_| bad("sequence out of range"))?;
                if n < 2 {
                    return Err(bad("sequence must be _2 .. _999999999"));
                }
                n
            }
        };
        Ok(BackupId {
            at: naive.and_utc(),
            seq,
        })
    }
}

impl fmt::Display for BackupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}", self.at.format(FORMAT))?;
        if self.seq > 1 {
            write!(f, "_{}", self.seq)?;
        }
        Ok(())
    }
}

impl FromStr for BackupId {
    type Err = BackupError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BackupId::parse(s)
    }
}

impl TryFrom<String> for BackupId {
    type Error = BackupError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        BackupId::parse(&s)
    }
}

impl From<BackupId> for String {
    fn from(id: BackupId) -> String {
        id.to_string()
    }
}

/// What a storage key is, for a backup catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// A data file of this engine.
    Data(Engine),
    /// A manifest.
    Manifest,
    /// A verification record.
    Verification,
}

/// Parse one storage key (`backup_20250115_103000.dump`, `....manifest.json`, ...) into its id and kind.
///
/// Keys of other shapes give `None` (a backup folder may hold unrelated files). This is the parser
/// behind [`parse_listing`].
pub fn parse_key(key: &str) -> Option<(BackupId, KeyKind)> {
    let name = key.rsplit('/').next().unwrap_or(key);
    let (stem, kind) = if let Some(s) = name.strip_suffix(".manifest.json") {
        (s, KeyKind::Manifest)
    } else if let Some(s) = name.strip_suffix(".verification.json") {
        (s, KeyKind::Verification)
    } else if let Some(s) = name.strip_suffix(".dump") {
        (s, KeyKind::Data(Engine::Postgres))
    } else if let Some(s) = name.strip_suffix(".sqlite") {
        (s, KeyKind::Data(Engine::Sqlite))
    } else {
        return None;
    };
    BackupId::parse(stem).ok().map(|id| (id, kind))
}

/// The files one backup has in storage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListedBackup {
    /// The data file's engine, when present.
    pub data: Option<Engine>,
    /// Whether the manifest is present.
    pub manifest: bool,
    /// Whether the verification record is present.
    pub verification: bool,
}

/// Group a storage listing (one key per line or item) by backup, newest first; unrelated keys are ignored.
///
/// ```
/// let keys = ["backup_20250115_103000.dump", "backup_20250115_103000.manifest.json", "notes.txt"];
/// let listed = runway_backup::parse_listing(keys.iter().copied());
/// assert_eq!(listed.len(), 1);
/// assert!(listed[0].1.manifest);
/// ```
pub fn parse_listing<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<(BackupId, ListedBackup)> {
    let mut map: std::collections::BTreeMap<BackupId, ListedBackup> = Default::default();
    for key in keys {
        let Some((id, kind)) = parse_key(key.trim()) else {
            continue;
        };
        let entry = map.entry(id).or_default();
        match kind {
            KeyKind::Data(e) => entry.data = Some(e),
            KeyKind::Manifest => entry.manifest = true,
            KeyKind::Verification => entry.verification = true,
        }
    }
    map.into_iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_bad_names() {
        for bad in [
            "",
            "backup_",
            "backup_2025011_103000",
            "backup_20251315_103000",
            "backup_20250115-103000",
            "backup_20250115_103000_",
            "backup_20250115_103000_1",
            "backup_20250115_103000_02",
            "backup_20250115_103000x",
            "dump_20250115_103000",
        ] {
            let err = BackupId::parse(bad).unwrap_err();
            assert!(matches!(err, BackupError::InvalidName { .. }), "{bad}");
        }
    }

    #[test]
    fn keys_round_trip() {
        let id = BackupId::parse("backup_20250115_103000_3").unwrap();
        assert_eq!(
            parse_key(&id.data_key(Engine::Postgres)),
            Some((id, KeyKind::Data(Engine::Postgres)))
        );
        assert_eq!(
            parse_key(&format!("prefix/{}", id.manifest_key())),
            Some((id, KeyKind::Manifest))
        );
        assert_eq!(
            parse_key(&id.verification_key()),
            Some((id, KeyKind::Verification))
        );
        assert_eq!(parse_key("backup_20250115_103000.dump.partial"), None);
    }

    proptest! {
        #[test]
        fn arbitrary_names_never_panic(s in ".{0,64}") {
            match BackupId::parse(&s) {
                Ok(id) => prop_assert_eq!(BackupId::parse(&id.to_string()).unwrap(), id),
                Err(e) => prop_assert!(matches!(e, BackupError::InvalidName { .. }), "unexpected error {}", e),
            }
            let _ = parse_listing(s.lines());
        }

        #[test]
        fn display_parse_round_trip(secs in 0i64..4_000_000_000, seq in 1u32..1000) {
            let mut id = BackupId::at(DateTime::from_timestamp(secs, 0).unwrap());
            for _ in 1..seq { id = id.next(); }
            prop_assert_eq!(BackupId::parse(&id.to_string()).unwrap(), id);
        }
    }
}
