//! # runway
//!
//! The deployment runbook as code. This facade re-exports the capability crates and composes them.
pub use runway_core as core;
pub use runway_sim as sim;

pub mod assemble;
pub mod config;
pub mod diagnose;
pub mod preflight;
pub mod progress;
pub mod release;
pub mod timeline;
