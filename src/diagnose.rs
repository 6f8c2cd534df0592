//! The runbook emergency procedures as checks.
