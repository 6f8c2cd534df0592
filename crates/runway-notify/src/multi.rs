//! Several notifiers as one, and the environment-driven default.

use std::sync::Arc;

use async_trait::async_trait;
use runway_core::{Notification, Notifier};

use crate::{ConsoleNotifier, SlackNotifier, WebhookNotifier, slack, webhook};

/// Sends every notification to each notifier in order. A failing notifier does not stop the others; the
/// first error is returned after all were tried.
#[derive(Debug, Clone, Default)]
pub struct MultiNotifier {
    notifiers: Vec<Arc<dyn Notifier>>,
}

impl MultiNotifier {
    /// None yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a notifier.
    #[must_use]
    pub fn with(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifiers.push(notifier);
        self
    }

    /// How many notifiers.
    pub fn len(&self) -> usize {
        self.notifiers.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.notifiers.is_empty()
    }
}

#[async_trait]
impl Notifier for MultiNotifier {
    async fn notify(&self, notification: &Notification) -> runway_core::Result<()> {
        let mut first = None;
        for n in &self.notifiers {
            if let Err(e) = n.notify(notification).await {
                tracing::warn!(target: "runway_notify", error = %e, "a notifier failed");
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

/// The notifiers the environment asks for: Slack when [`slack::WEBHOOK_ENV`] is set, the JSON webhook when
/// `RUNWAY_WEBHOOK_URL` is set, and the console otherwise (the embedded default).
pub fn from_env() -> crate::Result<MultiNotifier> {
    let mut m = MultiNotifier::new();
    if std::env::var(slack::WEBHOOK_ENV).is_ok_and(|v| !v.is_empty()) {
        m = m.with(Arc::new(
            SlackNotifier::builder().with_webhook_from_env().build()?,
        ));
    }
    if std::env::var(webhook::URL_ENV).is_ok_and(|v| !v.is_empty()) {
        m = m.with(Arc::new(
            WebhookNotifier::builder().from_env_vars().build()?,
        ));
    }
    if m.is_empty() {
        m = m.with(Arc::new(ConsoleNotifier::stdout()));
    }
    Ok(m)
}
