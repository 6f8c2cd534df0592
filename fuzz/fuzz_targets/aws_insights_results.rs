//! Logs Insights GetQueryResults bodies: decode, then drive the polling state machine with the page.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use runway_aws::insights::{InsightsPage, InsightsPoll};

fuzz_target!(|data: &[u8]| {
    if let Ok(page) = InsightsPage::from_json(data) {
        let mut poll = InsightsPoll::new(
            "q",
            Duration::from_secs(1),
            Duration::from_secs(5),
            Duration::from_secs(3600),
            100,
        );
        let _ = poll.step(page, Duration::from_secs(1));
        let _ = poll.into_result();
    }
});
