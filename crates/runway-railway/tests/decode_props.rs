//! Arbitrary responses never panic the decoders, and every failure is a typed error.

use proptest::prelude::*;
use runway_core::ErrorKind;
use runway_railway::RailwayError;
use runway_railway::wire::{self, RateLimitHeaders};
use serde_json::Value;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[A-Z_]{0,12}".prop_map(Value::String),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("data".to_owned()),
                    Just("errors".to_owned()),
                    Just("deployment".to_owned()),
                    Just("deployments".to_owned()),
                    Just("edges".to_owned()),
                    Just("node".to_owned()),
                    Just("variables".to_owned()),
                    Just("status".to_owned()),
                    Just("message".to_owned()),
                    "[a-z]{1,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn decode_everything(status: u16, body: &[u8]) {
    let limits = RateLimitHeaders::default();
    match wire::decode_response(status, &limits, body, &["s3cret"]) {
        Ok(data) => {
            let _ = wire::decode_deployment(&data).map(|d| d.into_deployment());
            let _ = wire::decode_deployments(&data);
            let _ = wire::decode_instances(&data);
            let _ = wire::decode_instance(&data);
            let _ = wire::decode_environments(&data);
            let _ = wire::decode_variables(&data);
            let _ = wire::decode_logs(&data, "deploymentLogs");
            let _ = wire::decode_deploy_id(&data);
            let _ = wire::decode_true(&data, "deploymentRollback");
            let _ = wire::decode_project_token(&data);
        }
        Err(e) => {
            // Typed, losing nothing: a non-2xx keeps its status; a 2xx is a decode or GraphQL error.
            match (&e, status) {
                (RailwayError::Http { status: s, .. }, st) => assert_eq!(*s, st),
                (RailwayError::Decode { .. }, 200..=299) => {
                    assert_eq!(e.kind(), ErrorKind::InvalidInput)
                }
                (RailwayError::Graphql(errors), 200..=299) => assert!(!errors.is_empty()),
                other => panic!("unexpected {other:?} for status {status}"),
            }
            assert!(!e.to_string().contains("s3cret"));
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(status in prop_oneof![Just(200u16), 100u16..600], body in prop::collection::vec(any::<u8>(), 0..256)) {
        decode_everything(status, &body);
    }

    #[test]
    fn arbitrary_json_never_panics(status in prop_oneof![Just(200u16), Just(400u16), Just(429u16), Just(503u16)], v in json_value()) {
        let body = serde_json::to_vec(&v).unwrap();
        decode_everything(status, &body);
        // Wrapped as data, so the typed decoders see it too.
        let wrapped = serde_json::to_vec(&serde_json::json!({"data": {"deployment": v.clone(), "deployments": v.clone(), "variables": v.clone(), "deploymentLogs": v}})).unwrap();
        decode_everything(200, &wrapped);
    }

    #[test]
    fn status_strings_map_or_fail_typed(s in "[A-Z_]{0,16}") {
        match wire::map_status(&s) {
            Ok(_) => prop_assert!(wire::STATUSES.contains(&s.as_str())),
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::InvalidInput),
        }
    }

    #[test]
    fn rate_limit_headers_never_panic(limit in ".{0,12}", reset in ".{0,12}", retry in ".{0,12}") {
        let _ = RateLimitHeaders::parse(|k| match k {
            "x-ratelimit-limit" => Some(limit.clone()),
            "x-ratelimit-reset" => Some(reset.clone()),
            "retry-after" => Some(retry.clone()),
            _ => None,
        }, 1_800_000_000);
    }
}

#[test]
fn all_thirteen_statuses_are_mapped() {
    use runway_core::DeploymentStatus as S;
    let expect = [
        ("BUILDING", S::Building),
        ("CRASHED", S::Crashed),
        ("DEPLOYING", S::Deploying),
        ("FAILED", S::Failed),
        ("INITIALIZING", S::Queued),
        ("NEEDS_APPROVAL", S::WaitingApproval),
        ("QUEUED", S::Queued),
        ("REMOVED", S::Removed),
        ("REMOVING", S::Removed),
        ("SKIPPED", S::Cancelled),
        ("SLEEPING", S::Sleeping),
        ("SUCCESS", S::Succeeded),
        ("WAITING", S::WaitingApproval),
    ];
    assert_eq!(expect.len(), wire::STATUSES.len());
    for (railway, runway) in expect {
        assert_eq!(wire::map_status(railway).unwrap(), runway, "{railway}");
    }
    assert!(wire::map_status("EXPLODED").is_err());
}

#[test]
fn rate_limit_reset_accepts_epoch_and_delta() {
    let h = RateLimitHeaders::parse(
        |k| match k {
            "x-ratelimit-reset" => Some("1800000030".into()),
            "x-ratelimit-remaining" => Some("0".into()),
            "retry-after" => Some("12".into()),
            _ => None,
        },
        1_800_000_000,
    );
    assert_eq!(h.reset, Some(std::time::Duration::from_secs(30)));
    assert_eq!(h.remaining, Some(0));
    assert_eq!(h.retry_after, Some(std::time::Duration::from_secs(12)));
}

#[test]
fn images_map_to_their_tag() {
    assert_eq!(wire::image_tag("ghcr.io/acme/app:v2"), "v2");
    assert_eq!(wire::image_tag("localhost:5000/app"), "localhost:5000/app");
    assert_eq!(wire::image_tag("app"), "app");
}
