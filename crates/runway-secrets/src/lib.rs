//! # runway-secrets
//!
//! Secret rotation engine, rotators (PostgreSQL password, API key, JWT signing key), schedule policy and env-var audit.
