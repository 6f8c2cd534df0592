//! # runway-migrate
//!
//! PostgreSQL and SQLite migration runner with a history table, safe locking, dry-run plans, and a
//! migration safety linter ([`lint`]).

pub mod lint;
