//! Arbitrary webhook answers never panic and always decode to a typed result.

use proptest::prelude::*;
use runway_notify::slack::{SlackError, parse_response, parse_retry_after};

proptest! {
    #[test]
    fn arbitrary_answers_are_typed(status in 100u16..600, retry in proptest::option::of(".{0,12}"), body in proptest::collection::vec(any::<u8>(), 0..200)) {
        match parse_response(status, retry.as_deref(), &body) {
            Ok(()) => prop_assert!(status == 200 && std::str::from_utf8(&body).unwrap().trim() == "ok"),
            Err(e) => {
                let _ = e.kind();
                if let SlackError::Other { code, .. } = &e {
                    prop_assert!(code.len() <= 64);
                    prop_assert!(code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
                }
                if status == 429 {
                    let is_rate_limited = matches!(e, SlackError::RateLimited { .. });
                    prop_assert!(is_rate_limited);
                }
            }
        }
    }

    #[test]
    fn retry_after_never_panics(s in ".{0,30}") {
        if let Some(d) = parse_retry_after(Some(&s)) {
            prop_assert!(d.as_secs() <= 86_400);
        }
    }
}
