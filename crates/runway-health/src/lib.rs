//! # runway-health
//!
//! Health checks (HTTP, PostgreSQL, Redis, queue depth, TCP), health reports, and post-deploy verification against SLO thresholds.
