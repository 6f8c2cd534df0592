//! # runway-rollout
//!
//! Rolling-deploy strategy engine: rolling, one-at-a-time, canary and blue-green with health gates, automatic rollback, a journal and a deploy lock.
