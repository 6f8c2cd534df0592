//! Arbitrary GetQueryResults bodies and AWS error codes never panic and decode to typed results.

use proptest::prelude::*;
use runway_aws::insights::{InsightsPage, QueryState};
use runway_aws::kind_for_aws_code;
use runway_core::ErrorKind;

proptest! {
    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Err(e) = InsightsPage::from_json(&bytes) {
            prop_assert_eq!(e.kind(), &ErrorKind::InvalidInput);
        }
    }

    #[test]
    fn shaped_bodies(status in "(Complete|Running|Scheduled|Failed|Timeout|Cancelled|Unknown|[A-Za-z]{0,8})",
                     fields in proptest::collection::vec(("[@a-z_]{0,6}", ".{0,10}"), 0..6),
                     token in proptest::option::of("[a-z0-9]{0,6}")) {
        let row: Vec<serde_json::Value> = fields.iter().map(|(f, v)| serde_json::json!({"field": f, "value": v})).collect();
        let body = serde_json::json!({"status": status, "results": [row], "nextToken": token, "statistics": {"recordsScanned": 3.0}});
        let page = InsightsPage::from_json(body.to_string().as_bytes()).unwrap();
        prop_assert!(page.rows[0].keys().all(|k| k != "@ptr"));
        if let QueryState::Unknown(s) = &page.state { prop_assert!(s.chars().count() <= 40); }
        prop_assert!(page.next_token.as_deref().is_none_or(|t| !t.is_empty()));
    }

    #[test]
    fn codes(code in proptest::option::of(".{0,30}"), status in proptest::option::of(100u16..600)) {
        let _ = kind_for_aws_code(code.as_deref(), status);
    }
}
