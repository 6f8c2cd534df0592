//! # runway-testkit
//!
//! What runway's own tests, and users' tests of their deploy code, are built from:
//!
//! - [`conformance`]: one async scenario function per behaviour of each provider trait, which every backend
//!   must pass, and macros ([`platform_conformance!`](crate::platform_conformance), ...) that turn the whole
//!   suite into `#[tokio::test]`s for a backend;
//! - [`services`]: real PostgreSQL, Redis and moto servers for tests ([`TestDatabase`], [`TestRedis`],
//!   [`MotoServer`]), from environment variables or started as throwaway servers, never skipped.
//!
//! Fake provider APIs (Railway, Cloud66) live in modules added by their provider crates' work.

pub mod conformance;
pub mod services;
pub mod traces;

pub use services::{
    MotoServer, PgServer, RedisServer, TestDatabase, TestRedis, free_port, pg_bin, which,
};

pub mod fake_cloud66;
pub mod fake_railway;
