//! # runway-backup
//!
//! pg_dump/pg_restore backups streamed through SHA-256 into local or object storage, manifests, verification, restore drills and retention.
