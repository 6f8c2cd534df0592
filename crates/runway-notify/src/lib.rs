//! # runway-notify
//!
//! Deployment notifiers implementing [`runway_core::Notifier`]:
//!
//! | notifier | for |
//! |---|---|
//! | [`SlackNotifier`] | Slack incoming webhooks: the runbook's messages as Block Kit plus a text fallback |
//! | [`ConsoleNotifier`] | the embedded default: the runbook's message on stdout or any writer |
//! | [`WebhookNotifier`] | any HTTP endpoint taking JSON ([`webhook::WebhookPayload`]) |
//! | [`MultiNotifier`] | several at once; [`multi::from_env`] picks Slack / webhook / console from the environment |
//!
//! Slack answers `200 ok` on success and a plain-text error code otherwise; [`slack::parse_response`]
//! maps the documented codes to [`SlackError`] (400 `invalid_payload`, 404 `no_service`, 410
//! `channel_is_archived`, ...), each with a [`runway_core::ErrorKind`]. 429 is retried after its
//! `Retry-After`. Webhook URLs are credentials: they are [`secrecy::SecretString`] and never appear in
//! `Debug`, errors or logs.
//!
//! ```
//! use runway_core::{Notification, NotificationKind, Notifier, Release};
//! use runway_notify::ConsoleNotifier;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> runway_core::Result<()> {
//! let release = Release::new("v1.1")
//!     .with_message("feat(webhooks): add subscription endpoints")
//!     .with_author("john-doe");
//! let started = Notification::new(NotificationKind::Started, "production".into(), "Production", release);
//! ConsoleNotifier::stdout().notify(&started).await?;
//! assert!(runway_notify::console::format(&started).starts_with("🚀 Deployment Started\n"));
//! # Ok(()) }
//! ```

pub mod console;
mod error;
pub mod multi;
pub mod slack;
pub mod webhook;

pub use console::ConsoleNotifier;
pub use error::{NotifyError, Result};
pub use multi::MultiNotifier;
pub use slack::{SlackError, SlackMessage, SlackNotifier, SlackNotifierBuilder};
pub use webhook::{WebhookNotifier, WebhookNotifierBuilder};
