//! The JSON manifest written next to every backup, and the verification record written after checks.
//!
//! The manifest is written once, after the data file is complete, and never changed: it describes the bytes.
//! Verification results go to a separate record (`<id>.verification.json`), so re-verifying never rewrites
//! the manifest and a manifest's hash can be compared across copies.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::BackupError;
use crate::id::{BackupId, Engine};
use crate::verify::VerifyLevel;

/// The manifest format version this crate writes and reads.
pub const MANIFEST_VERSION: u32 = 1;

/// Largest manifest or verification record accepted (16 MiB; a manifest with 100,000 tables fits).
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// Where a backup came from (never a credential).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// Database name (PostgreSQL) or file name (SQLite).
    pub database: String,
    /// PostgreSQL: the cluster's system identifier when readable, else `host:port` as the server saw it.
    /// SQLite: the canonical path of the file.
    pub server: String,
}

/// Everything recorded about one backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_VERSION`].
    pub version: u32,
    /// The backup's id.
    pub id: BackupId,
    /// PostgreSQL or SQLite.
    pub engine: Engine,
    /// The data file's storage key.
    pub file: String,
    /// The source database.
    pub source: Source,
    /// `SHOW server_version` (PostgreSQL) or `sqlite_version()`.
    pub server_version: String,
    /// `pg_dump --version` (PostgreSQL) or the method (`VACUUM INTO`, SQLite).
    pub tool_version: String,
    /// Size of the data file in bytes.
    pub size: u64,
    /// SHA-256 of the data file, lowercase hex.
    pub sha256: String,
    /// When the backup started.
    pub created_at: DateTime<Utc>,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// Row count per table (`schema.table` for PostgreSQL), taken in the same snapshot as the dump.
    pub tables: BTreeMap<String, u64>,
}

impl Manifest {
    /// Decode and validate a manifest from JSON bytes.
    ///
    /// ```
    /// let err = runway_backup::Manifest::from_json(b"{\"version\": 1}").unwrap_err();
    /// assert!(matches!(err, runway_backup::BackupError::InvalidManifest { .. }));
    /// ```
    pub fn from_json(bytes: &[u8]) -> Result<Manifest, BackupError> {
        let m: Manifest = decode(bytes)?;
        m.validate()?;
        Ok(m)
    }

    /// Encode as pretty JSON.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("a manifest always serialises")
    }

    /// Check the invariants a decoded manifest must hold.
    pub fn validate(&self) -> Result<(), BackupError> {
        let bad = |reason: String| BackupError::InvalidManifest {
            reason,
            source: None,
        };
        if self.version != MANIFEST_VERSION {
            return Err(bad(format!("unsupported version {}", self.version)));
        }
        if !is_sha256_hex(&self.sha256) {
            return Err(bad("sha256 must be 64 lowercase hex digits".into()));
        }
        if self.file != self.id.data_key(self.engine) {
            return Err(bad(format!(
                "file {:?} does not match id {} and engine {}",
                self.file.chars().take(200).collect::<String>(),
                self.id,
                self.engine
            )));
        }
        Ok(())
    }
}

pub(crate) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, BackupError> {
    if bytes.len() > MAX_RECORD_BYTES {
        return Err(BackupError::InvalidManifest {
            reason: format!("{} bytes is larger than {MAX_RECORD_BYTES}", bytes.len()),
            source: None,
        });
    }
    serde_json::from_slice(bytes).map_err(|e| BackupError::InvalidManifest {
        reason: "malformed JSON".into(),
        source: Some(e),
    })
}

/// The result of one verification level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// When it ran.
    pub at: DateTime<Utc>,
    /// Whether it passed.
    pub ok: bool,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a restore drill proved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillRecord {
    /// The outcome.
    #[serde(flatten)]
    pub check: Check,
    /// Tables whose counts were compared.
    pub tables_checked: usize,
    /// Rows counted in the restored copy.
    pub rows_checked: u64,
    /// How long the restore itself took (without counting), in milliseconds.
    pub restore_ms: u64,
}

/// The verification record of one backup (`<id>.verification.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    /// [`MANIFEST_VERSION`].
    pub version: u32,
    /// The backup.
    pub id: BackupId,
    /// The hash that was verified (the manifest's, at the time).
    pub sha256: String,
    /// The last checksum check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<Check>,
    /// The last `pg_restore --list` (or SQLite integrity) check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing: Option<Check>,
    /// The last restore drill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drill: Option<DrillRecord>,
}

impl Verification {
    /// An empty record for `manifest`.
    pub fn new(manifest: &Manifest) -> Self {
        Verification {
            version: MANIFEST_VERSION,
            id: manifest.id,
            sha256: manifest.sha256.clone(),
            checksum: None,
            listing: None,
            drill: None,
        }
    }

    /// Decode a record from JSON bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Verification, BackupError> {
        let v: Verification = decode(bytes)?;
        if v.version != MANIFEST_VERSION {
            return Err(BackupError::InvalidManifest {
                reason: format!("unsupported verification version {}", v.version),
                source: None,
            });
        }
        Ok(v)
    }

    /// Encode as pretty JSON.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("a verification record always serialises")
    }

    /// Whether this backup is *verified*: its last restore drill passed, for the manifest's current hash,
    /// and no checksum or listing check failed since (a backup corrupted after its drill is not verified).
    pub fn is_verified_for(&self, manifest: &Manifest) -> bool {
        let Some(drill) = self.drill.as_ref().filter(|d| d.check.ok) else {
            return false;
        };
        let failed_since = [&self.checksum, &self.listing]
            .into_iter()
            .flatten()
            .any(|c| !c.ok && c.at >= drill.check.at);
        self.sha256 == manifest.sha256 && self.id == manifest.id && !failed_since
    }

    /// The highest level that passed, most recently, for this hash.
    pub fn highest_passed(&self) -> Option<VerifyLevel> {
        if self.drill.as_ref().is_some_and(|d| d.check.ok) {
            Some(VerifyLevel::Drill)
        } else if self.listing.as_ref().is_some_and(|c| c.ok) {
            Some(VerifyLevel::Listing)
        } else if self.checksum.as_ref().is_some_and(|c| c.ok) {
            Some(VerifyLevel::Checksum)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn sample() -> Manifest {
        let id = BackupId::parse("backup_20250115_103000").unwrap();
        Manifest {
            version: MANIFEST_VERSION,
            id,
            engine: Engine::Postgres,
            file: id.data_key(Engine::Postgres),
            source: Source {
                database: "app".into(),
                server: "7300000000000000001".into(),
            },
            server_version: "15.10".into(),
            tool_version: "pg_dump (PostgreSQL) 15.10".into(),
            size: 1234,
            sha256: "ab".repeat(32),
            created_at: id.created_at(),
            duration_ms: 1500,
            tables: [("public.users".to_string(), 42u64)].into_iter().collect(),
        }
    }

    #[test]
    fn round_trip_and_validation() {
        let m = sample();
        assert_eq!(Manifest::from_json(&m.to_json()).unwrap(), m);

        let mut wrong_hash = m.clone();
        wrong_hash.sha256 = "AB".repeat(32);
        assert!(matches!(
            Manifest::from_json(&wrong_hash.to_json()),
            Err(BackupError::InvalidManifest { .. })
        ));
        let mut wrong_file = m.clone();
        wrong_file.file = "other.dump".into();
        assert!(Manifest::from_json(&wrong_file.to_json()).is_err());
        let mut wrong_version = m;
        wrong_version.version = 9;
        assert!(Manifest::from_json(&wrong_version.to_json()).is_err());
    }

    #[test]
    fn verified_only_after_a_passing_drill_of_the_same_hash() {
        let m = sample();
        let mut v = Verification::new(&m);
        let ok = Check {
            at: m.created_at,
            ok: true,
            duration_ms: 1,
            error: None,
        };
        v.checksum = Some(ok.clone());
        v.listing = Some(ok.clone());
        assert!(!v.is_verified_for(&m));
        assert_eq!(v.highest_passed(), Some(VerifyLevel::Listing));
        v.drill = Some(DrillRecord {
            check: ok,
            tables_checked: 1,
            rows_checked: 42,
            restore_ms: 1,
        });
        assert!(v.is_verified_for(&m));
        // A checksum failure after the drill revokes it.
        let mut later = v.clone();
        later.checksum = Some(Check {
            at: m.created_at + chrono::Duration::hours(1),
            ok: false,
            duration_ms: 1,
            error: Some("sha256 differs".into()),
        });
        assert!(!later.is_verified_for(&m));
        let mut other = m.clone();
        other.sha256 = "cd".repeat(32);
        assert!(!v.is_verified_for(&other));
        assert_eq!(Verification::from_json(&v.to_json()).unwrap(), v);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            match Manifest::from_json(&bytes) {
                Ok(m) => prop_assert!(m.validate().is_ok()),
                Err(e) => prop_assert!(matches!(e, BackupError::InvalidManifest { .. }), "unexpected error {}", e),
            }
            if let Err(e) = Verification::from_json(&bytes) {
                prop_assert!(matches!(e, BackupError::InvalidManifest { .. }), "unexpected error {}", e);
            }
        }

        #[test]
        fn mutated_manifests_never_panic(pos in 0usize..2000, byte in any::<u8>()) {
            let mut json = sample().to_json();
            let i = pos % json.len();
            json[i] = byte;
            if let Err(e) = Manifest::from_json(&json) {
                prop_assert!(matches!(e, BackupError::InvalidManifest { .. }), "unexpected error {}", e);
            }
        }
    }
}
