//! # runway-notify
//!
//! Deployment notifiers: Slack incoming webhooks, generic JSON webhook, console.
