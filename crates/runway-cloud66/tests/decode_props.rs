//! Arbitrary responses never panic the decoders, and every failure is typed.

use proptest::prelude::*;
use runway_cloud66::wire::{
    self, AsyncAction, EnvVar, RedeployResponse, Server, Stack, StackDeployment,
};
use runway_cloud66::{
    Cloud66Error, action_status, deployment_status, parse_deployment, parse_unit,
};
use runway_core::{DeploymentId, ErrorKind, UnitId};
use serde_json::Value;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u32>().prop_map(Value::from),
        ".{0,16}".prop_map(Value::String),
        Just(Value::String("2026-01-01T00:00:00Z".into())),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("response".to_owned()),
                    Just("pagination".to_owned()),
                    Just("id".to_owned()),
                    Just("uid".to_owned()),
                    Just("name".to_owned()),
                    Just("key".to_owned()),
                    Just("finished_at".to_owned()),
                    Just("outcome".to_owned()),
                    Just("next".to_owned()),
                    Just("current".to_owned()),
                    Just("error".to_owned()),
                    "[a-z_]{1,10}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn decode_all(body: &[u8]) {
    fn check<T>(r: Result<T, Cloud66Error>) {
        if let Err(e) = r {
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
        }
    }
    check(wire::decode_envelope::<Vec<Stack>>(body));
    check(wire::decode_envelope::<Stack>(body));
    check(wire::decode_envelope::<Vec<Server>>(body));
    check(wire::decode_envelope::<Vec<EnvVar>>(body));
    check(
        wire::decode_envelope::<Vec<StackDeployment>>(body).map(|(v, p)| {
            for d in &v {
                let _ = deployment_status(d);
            }
            p.and_then(|p| p.next_page())
        }),
    );
    check(wire::decode_envelope::<AsyncAction>(body).map(|(a, _)| action_status(&a)));
    check(wire::decode_plain::<RedeployResponse>(body, "redeploy"));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..256), status in 100u16..600) {
        decode_all(&body);
        let e = wire::decode_error(status, None, &body);
        let ok = matches!(e, Cloud66Error::Http { status: s, .. } if s == status);
        prop_assert!(ok);
    }

    #[test]
    fn arbitrary_json_never_panics(v in json_value(), status in 400u16..600) {
        let body = serde_json::to_vec(&v).unwrap();
        decode_all(&body);
        let wrapped = serde_json::to_vec(&serde_json::json!({"response": v, "pagination": {"current": 1, "next": 2}})).unwrap();
        decode_all(&wrapped);
        let e = wire::decode_error(status, None, &body);
        let _ = e.kind();
    }

    #[test]
    fn ids_parse_or_fail_typed(s in ".{0,40}") {
        if let Err(e) = parse_unit(&UnitId::new(s.clone())) {
            prop_assert_eq!(e.kind(), ErrorKind::NotFound);
        }
        match parse_deployment(&DeploymentId::new(s.clone())) {
            Ok(r) => prop_assert_eq!(parse_deployment(&r.id()).unwrap(), r),
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::NotFound),
        }
    }
}

#[test]
fn throttled_is_rate_limited_whatever_the_status() {
    let e = wire::decode_error(
        503,
        None,
        br#"{"error":"throttled","error_description":"slow down"}"#,
    );
    assert!(matches!(e.kind(), ErrorKind::RateLimited { .. }));
    let e = wire::decode_error(503, None, br#"{"error":"not_implemented"}"#);
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    let e = wire::decode_error(503, None, b"<html>");
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    let e = wire::decode_error(
        404,
        None,
        br#"{"error":"not_found","error_description":"d","details":"the stack"}"#,
    );
    assert!(
        e.to_string().contains("the stack"),
        "details preferred: {e}"
    );
}
