//! Builders from the environment.

use runway_cloud66::Cloud66Builder;
use runway_core::ErrorKind;

#[test]
fn token_from_either_variable_and_never_printed() {
    let b = Cloud66Builder::from_lookup(|k| {
        (k == "CLOUD66_ACCESS_TOKEN").then(|| "tok-secret-9".to_owned())
    });
    assert!(!format!("{b:?}").contains("tok-secret-9"));
    let c = b.build().unwrap();
    assert!(!format!("{c:?}").contains("tok-secret-9"));
    let c = Cloud66Builder::from_lookup(|k| match k {
        "CLOUD66_TOKEN" => Some("a".into()),
        "CLOUD66_API_URL" => Some("http://127.0.0.1:1/api/3/".into()),
        "CLOUD66_ACCOUNT" => Some("acct-7".into()),
        _ => None,
    })
    .build()
    .unwrap();
    let text = format!("{c:?}");
    assert!(
        text.contains("127.0.0.1:1/api/3") && text.contains("acct-7"),
        "{text}"
    );
}

#[test]
fn missing_token_and_bad_urls_are_rejected() {
    let e = Cloud66Builder::from_lookup(|_| None).build().unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    assert!(e.to_string().contains("CLOUD66_TOKEN"));
    let e = Cloud66Builder::new()
        .with_token("t")
        .with_base_url("::")
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    let e = Cloud66Builder::new().with_token(" ").build().unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
}
