//! # runway-aws
//!
//! AWS CloudWatch Logs (LogSource, Logs Insights) and Secrets Manager (SecretStore) for runway.
