//! Fuzz the Railway response decoders: the GraphQL envelope (status, errors[], data) and every typed decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runway_railway::wire::{self, RateLimitHeaders};

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data.split_first() {
        Some((s, rest)) => (if *s < 128 { 200 } else { 300 + u16::from(*s) }, rest),
        None => (200, data),
    };
    let limits = RateLimitHeaders::default();
    match wire::decode_response(status, &limits, body, &["fuzz-secret"]) {
        Ok(v) => {
            let _ = wire::decode_deployment(&v).map(|d| d.into_deployment());
            let _ = wire::decode_deployments(&v);
            let _ = wire::decode_instances(&v);
            let _ = wire::decode_instance(&v);
            let _ = wire::decode_environments(&v);
            let _ = wire::decode_variables(&v);
            let _ = wire::decode_logs(&v, "deploymentLogs");
            let _ = wire::decode_logs(&v, "environmentLogs");
            let _ = wire::decode_deploy_id(&v);
            let _ = wire::decode_true(&v, "variableUpsert");
            let _ = wire::decode_project_token(&v);
        }
        Err(e) => {
            let _ = e.kind();
            assert!(!e.to_string().contains("fuzz-secret"));
        }
    }
    if let Ok(s) = std::str::from_utf8(body) {
        let _ = wire::map_status(s);
        let _ = RateLimitHeaders::parse(|_| Some(s.to_owned()), 1_800_000_000);
    }
});
