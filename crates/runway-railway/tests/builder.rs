//! Builders from the environment: token precedence, validation, no secrets in output.

use runway_core::ErrorKind;
use runway_railway::{RailwayBuilder, RailwayClient};

fn lookup(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |k| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| (*v).to_owned())
    }
}

#[test]
fn railway_token_wins_over_the_api_token() {
    let c = RailwayBuilder::from_lookup(lookup(&[
        ("RAILWAY_TOKEN", "project-secret-1"),
        ("RAILWAY_API_TOKEN", "account-secret-2"),
    ]))
    .build()
    .unwrap();
    assert_eq!(c.token_kind(), "project");
    let text = format!("{c:?}");
    assert!(
        !text.contains("project-secret-1") && !text.contains("account-secret-2"),
        "{text}"
    );
}

#[test]
fn the_api_token_needs_a_project() {
    let e = RailwayBuilder::from_lookup(lookup(&[("RAILWAY_API_TOKEN", "account-secret")]))
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    assert!(!e.to_string().contains("account-secret"));
    let c = RailwayBuilder::from_lookup(lookup(&[
        ("RAILWAY_API_TOKEN", "account-secret"),
        ("RAILWAY_PROJECT_ID", "p1"),
        ("RAILWAY_API_URL", "http://127.0.0.1:1/graphql/v2"),
    ]))
    .build()
    .unwrap();
    assert_eq!(c.token_kind(), "api");
    assert!(format!("{c:?}").contains("127.0.0.1:1"));
}

#[test]
fn missing_or_empty_tokens_and_bad_urls_are_rejected() {
    let e = RailwayBuilder::from_lookup(|_| None).build().unwrap_err();
    assert!(e.to_string().contains("RAILWAY_TOKEN"));
    let e = RailwayBuilder::from_lookup(lookup(&[("RAILWAY_TOKEN", "  ")]))
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    let e = RailwayClient::builder()
        .with_project_token("t")
        .with_base_url("not a url")
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    let e = RailwayClient::builder()
        .with_project_token("t")
        .with_base_url("ftp://x/graphql")
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
}
