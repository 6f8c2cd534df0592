//! JWT signing-key rotation: publish first, sign after the cache TTL, retire after the token lifetime.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, Validation};
use runway_core::{Clock, RequestToken, SecretStage, SecretStore, TokioClock};
use runway_secrets::rotators::jwt::verify_with_jwks;
use runway_secrets::{JwtRotator, KeyRing, MemoryJwks, MemorySecretStore, Rotate};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Claims {
    sub: String,
    exp: i64,
}

#[tokio::test(start_paused = true)]
async fn rotation_schedules_publish_sign_retire() {
    let start = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let clock = Arc::new(TokioClock::starting_at(start));
    let store = MemorySecretStore::new().with_clock(clock.clone());
    let ring = KeyRing::generate(clock.now()).unwrap();
    let old_kid = ring.keys()[0].kid.clone();
    store
        .create(
            "jwt",
            ring.to_secret(),
            &RequestToken::derive("jwt", "init"),
        )
        .await
        .unwrap();
    let jwks = MemoryJwks::new();
    let rotator = JwtRotator::new(Arc::new(jwks.clone()))
        .with_clock(clock.clone())
        .with_cache_ttl(Duration::from_secs(600))
        .with_max_token_lifetime(Duration::from_secs(3600))
        .with_clock_skew(Duration::from_secs(60));
    Rotate::new(Arc::new(store.clone()), Arc::new(rotator))
        .run("jwt", "2026")
        .await
        .unwrap();

    let ring =
        KeyRing::parse(&store.get("jwt", SecretStage::Current).await.unwrap().value).unwrap();
    assert_eq!(ring.keys().len(), 2);
    let new_kid = ring.keys()[1].kid.clone();
    let published: Vec<String> = jwks
        .get()
        .keys
        .iter()
        .filter_map(|k| k.common.key_id.clone())
        .collect();
    assert_eq!(
        published,
        [old_kid.clone(), new_kid.clone()],
        "both keys published"
    );

    let mut v = Validation::new(Algorithm::EdDSA);
    v.validate_exp = false;
    let claims = |exp| Claims {
        sub: "u1".into(),
        exp,
    };

    // Until the cache TTL (+ skew) has passed, the old key still signs.
    let now = clock.now();
    assert_eq!(ring.signing_key(now).unwrap().kid, old_kid);
    let t_old = ring.sign(&claims(1), now).unwrap();
    tokio::time::sleep(Duration::from_secs(661)).await;
    let now = clock.now();
    assert_eq!(ring.signing_key(now).unwrap().kid, new_kid);
    let t_new = ring.sign(&claims(2), now).unwrap();
    // Verifiers holding the published JWKS accept both.
    assert_eq!(
        verify_with_jwks::<Claims>(&t_old, &jwks.get(), &v).unwrap(),
        claims(1)
    );
    assert_eq!(
        verify_with_jwks::<Claims>(&t_new, &jwks.get(), &v).unwrap(),
        claims(2)
    );
    // The old key stays published for the longest token lifetime (+ skew), then retires.
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(ring.jwks(clock.now()).keys.len(), 2);
    tokio::time::sleep(Duration::from_secs(61)).await;
    let after = ring.jwks(clock.now());
    assert_eq!(after.keys.len(), 1);
    assert!(
        ring.verify::<Claims>(&t_old, clock.now(), &v).is_err(),
        "retired kid rejected"
    );
    assert!(ring.verify::<Claims>(&t_new, clock.now(), &v).is_ok());
    let sched = ring.schedule();
    assert_eq!(sched[1].sign_from, start + chrono::Duration::seconds(660));
    assert_eq!(
        sched[0].retire_at,
        Some(start + chrono::Duration::seconds(660 + 3660))
    );
}

#[test]
fn key_ring_debug_and_errors_hide_private_keys() {
    let ring = KeyRing::generate(chrono::Utc::now()).unwrap();
    let secret = ring.to_secret();
    let json: serde_json::Value =
        serde_json::from_str(secrecy::ExposeSecret::expose_secret(&secret)).unwrap();
    let pkcs8 = json["keys"][0]["pkcs8"].as_str().unwrap().to_owned();
    assert!(!format!("{ring:?}").contains(&pkcs8));
    let broken = secrecy::SecretString::from(format!(
        "{{\"format\":1,\"keys\":[{{\"kid\":1,\"pkcs8\":\"{pkcs8}\"}}]}}"
    ));
    let err = KeyRing::parse(&broken).unwrap_err();
    assert!(!err.to_string().contains(&pkcs8));
    assert!(!format!("{:?}", jwks_of(&ring)).contains(&pkcs8));
}

fn jwks_of(ring: &KeyRing) -> jsonwebtoken::jwk::JwkSet {
    ring.jwks(chrono::Utc::now())
}
