//! Arbitrary input to every decoder never panics, errors are typed, and errors never quote the input.

use proptest::prelude::*;
use runway_core::ErrorKind;
use runway_secrets::audit::parse_dotenv;
use runway_secrets::{KeyRing, PgCredentials, decode_store_file};
use secrecy::SecretString;

proptest! {
    #[test]
    fn store_file(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Err(e) = decode_store_file(&bytes) {
            prop_assert_eq!(e.kind(), ErrorKind::InvalidInput);
        }
    }

    #[test]
    fn store_file_jsonish(s in r#"\{"format":1,"secrets":\{"a":\[\{"id":"x","value":"[a-z]{0,8}","stages":\["(current|pending|previous)"\],"created_at":"2026-01-01T00:00:00Z"\}\]\}\}"#) {
        let _ = decode_store_file(s.as_bytes());
    }

    #[test]
    fn key_ring(s in ".{0,200}") {
        if let Err(e) = KeyRing::parse(&SecretString::from(s.clone())) {
            prop_assert_eq!(e.kind(), ErrorKind::InvalidInput);
            if s.len() > 12 {
                prop_assert!(!e.to_string().contains(&s));
            }
        }
    }

    #[test]
    fn pg_credentials(user in "[a-z]{0,8}", pass in "[A-Za-z0-9]{12,20}", junk in ".{0,20}") {
        let text = format!("{{\"username\":\"{user}\",\"password\":\"{pass}\"{junk}");
        match PgCredentials::parse(&SecretString::from(text)) {
            Ok(c) => prop_assert_eq!(c.username, user),
            Err(e) => {
                prop_assert_eq!(e.kind(), ErrorKind::InvalidInput);
                prop_assert!(!e.to_string().contains(&pass));
            }
        }
    }

    #[test]
    fn dotenv(s in ".{0,200}") {
        if let Err(e) = parse_dotenv(&s) {
            prop_assert_eq!(e.kind(), &ErrorKind::InvalidInput);
        }
    }
}
