//! Decoders of outside input never panic and fail with typed errors: the journal file, budgets, strategies.

use proptest::prelude::*;
use runway_core::ErrorKind;
use runway_rollout::{
    Budget, JournalError, RolloutError, Strategy as RolloutStrategy, decode_journal,
};

const SAMPLE: &str = r#"{"seq":0,"at":"2026-01-01T00:00:00Z","run":"r","payload":{"domain":"deploy","event":{"type":"unit_ready","unit":"api-1"}}}"#;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn journal_decoder_never_panics(text in ".{0,400}") {
        match decode_journal(&text) {
            Ok(d) => prop_assert!(d.events.len() <= text.lines().count()),
            Err(e) => {
                let corrupt = matches!(e, JournalError::Corrupt { .. });
                prop_assert!(corrupt);
                prop_assert_eq!(e.kind(), ErrorKind::InvalidInput);
            }
        }
    }

    #[test]
    fn journal_decoder_survives_mutated_lines(cut in 0usize..SAMPLE.len(), byte in any::<u8>(), at in 0usize..SAMPLE.len(), lines in 1usize..4) {
        let mut bytes = SAMPLE.as_bytes().to_vec();
        bytes[at] = byte;
        prop_assume!(byte != b'\n');
        let mutated = String::from_utf8_lossy(&bytes).to_string();
        let torn = String::from_utf8_lossy(&mutated.as_bytes()[..cut.min(mutated.len())]).to_string();
        let mut text = String::new();
        for _ in 0..lines {
            text.push_str(SAMPLE);
            text.push('\n');
        }
        text.push_str(&torn);
        // Truncated last line: a torn write, never an error.
        let d = decode_journal(&text).unwrap_or_else(|e| panic!("{e}"));
        prop_assert!(d.events.len() >= lines);
        // The same garbage in the middle is a typed error (or still valid JSON).
        let middle = format!("{mutated}\n{SAMPLE}\n");
        if let Err(e) = decode_journal(&middle) {
            let is_corrupt_line_one = matches!(e, JournalError::Corrupt { line: 1, .. });
            prop_assert!(is_corrupt_line_one);
        }
    }

    #[test]
    fn budget_and_strategy_parsers_never_panic(s in ".{0,40}") {
        if let Err(e) = s.parse::<Budget>() {
            let invalid = matches!(e, RolloutError::InvalidConfig { .. });
            prop_assert!(invalid);
            prop_assert_eq!(e.kind(), ErrorKind::InvalidInput);
        }
        if let Err(e) = s.parse::<RolloutStrategy>() {
            prop_assert_eq!(e.kind(), ErrorKind::InvalidInput);
        }
    }
}

#[test]
fn sample_line_decodes() {
    let d = decode_journal(&format!("{SAMPLE}\n\n{SAMPLE}")).unwrap();
    assert_eq!(d.events.len(), 2);
    assert!(!d.torn_tail);
}
