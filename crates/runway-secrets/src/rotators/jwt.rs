//! JWT signing keys (Ed25519) with overlap: publish the new key, sign with it only after verifiers'
//! JWKS cache TTL, retire the old one after the longest token lifetime.
//!
//! The secret's value is a [`KeyRing`] (JSON). A rotation adds a key whose `sign_from` lies one cache TTL
//! (plus clock skew) ahead and gives the signing key a `retire_at` one maximum token lifetime (plus skew)
//! after that; [`KeyRing::signing_key`] and [`KeyRing::jwks`] follow those times, so applications reading
//! the current version switch keys on schedule without another rotation.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm,
    OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::signature::KeyPair;
use runway_core::{Clock, Error, SecretVersion, SystemClock};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{SecretsError, redacted_json};
use crate::rotation::Rotator;

/// One signing key.
#[derive(Clone, Serialize, Deserialize)]
pub struct SigningKey {
    /// Key id (the JOSE `kid`).
    pub kid: String,
    /// Private key, PKCS#8 DER, base64url.
    pkcs8: String,
    /// Public key, raw 32 bytes, base64url (the JWK `x`).
    pub x: String,
    /// When it was created (and published).
    pub created_at: DateTime<Utc>,
    /// When it starts signing.
    pub sign_from: DateTime<Utc>,
    /// When it leaves the key set, once a newer key replaced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retire_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("sign_from", &self.sign_from)
            .field("retire_at", &self.retire_at)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    fn generate(now: DateTime<Utc>, sign_from: DateTime<Utc>) -> Result<Self, SecretsError> {
        let rng = ring::rand::SystemRandom::new();
        let doc = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|_| SecretsError::InvalidInput("Ed25519 key generation failed".into()))?;
        let pair = ring::signature::Ed25519KeyPair::from_pkcs8(doc.as_ref())
            .map_err(|_| SecretsError::InvalidInput("Ed25519 key generation failed".into()))?;
        let x = B64URL.encode(pair.public_key().as_ref());
        let suffix: [u8; 4] = rand::random();
        Ok(SigningKey {
            kid: format!("{}-{}", now.format("%Y%m%d%H%M%S"), B64URL.encode(suffix)),
            pkcs8: B64URL.encode(doc.as_ref()),
            x,
            created_at: now,
            sign_from,
            retire_at: None,
        })
    }

    fn encoding_key(&self) -> Result<EncodingKey, SecretsError> {
        let der = B64URL.decode(&self.pkcs8).map_err(|_| {
            SecretsError::InvalidInput(format!("key {:?}: bad private key", self.kid))
        })?;
        ring::signature::Ed25519KeyPair::from_pkcs8(&der).map_err(|_| {
            SecretsError::InvalidInput(format!("key {:?}: bad private key", self.kid))
        })?;
        Ok(EncodingKey::from_ed_der(&der))
    }

    /// The public JWK.
    pub fn jwk(&self) -> Jwk {
        Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(KeyAlgorithm::EdDSA),
                key_id: Some(self.kid.clone()),
                ..CommonParameters::default()
            },
            algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: self.x.clone(),
            }),
        }
    }

    fn published(&self, now: DateTime<Utc>) -> bool {
        self.retire_at.is_none_or(|r| r > now)
    }
}

/// When one key is published, signs and retires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeySchedule {
    /// Key id.
    pub kid: String,
    /// Published in the JWKS from.
    pub published_at: DateTime<Utc>,
    /// Signs from.
    pub sign_from: DateTime<Utc>,
    /// Leaves the JWKS at.
    pub retire_at: Option<DateTime<Utc>>,
}

/// The keys of a JWT issuer (the value of a JWT signing secret).
#[derive(Clone, Serialize, Deserialize)]
pub struct KeyRing {
    format: u32,
    keys: Vec<SigningKey>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing").field("keys", &self.keys).finish()
    }
}

impl KeyRing {
    /// A ring with one key that signs from `now` (to create the secret).
    pub fn generate(now: DateTime<Utc>) -> Result<Self, SecretsError> {
        Ok(KeyRing {
            format: 1,
            keys: vec![SigningKey::generate(now, now)?],
        })
    }

    /// Decode a secret value. Errors never quote it. Checks every key's private key.
    pub fn parse(value: &SecretString) -> Result<Self, SecretsError> {
        let ring: KeyRing = serde_json::from_str(value.expose_secret())
            .map_err(|e| redacted_json("JWT key ring", &e))?;
        if ring.format != 1 {
            return Err(SecretsError::InvalidInput(format!(
                "JWT key ring has format {}, expected 1",
                ring.format
            )));
        }
        if ring.keys.is_empty() {
            return Err(SecretsError::InvalidInput(
                "JWT key ring has no keys".into(),
            ));
        }
        for k in &ring.keys {
            k.encoding_key()?;
            let x = B64URL.decode(&k.x).ok();
            if x.as_ref().map(Vec::len) != Some(32) {
                return Err(SecretsError::InvalidInput(format!(
                    "key {:?}: bad public key",
                    k.kid
                )));
            }
        }
        Ok(ring)
    }

    /// Encode as a secret value.
    pub fn to_secret(&self) -> SecretString {
        SecretString::from(serde_json::to_string(self).unwrap_or_default())
    }

    /// The keys, oldest first.
    pub fn keys(&self) -> &[SigningKey] {
        &self.keys
    }

    /// Each key's schedule.
    pub fn schedule(&self) -> Vec<KeySchedule> {
        self.keys
            .iter()
            .map(|k| KeySchedule {
                kid: k.kid.clone(),
                published_at: k.created_at,
                sign_from: k.sign_from,
                retire_at: k.retire_at,
            })
            .collect()
    }

    /// The key that signs at `now`: the newest whose `sign_from` has passed and that is not retired.
    pub fn signing_key(&self, now: DateTime<Utc>) -> Option<&SigningKey> {
        self.keys
            .iter()
            .filter(|k| k.sign_from <= now && k.published(now))
            .max_by_key(|k| k.sign_from)
    }

    /// The public keys verifiers must accept at `now` (upcoming, signing, and not yet retired ones).
    pub fn jwks(&self, now: DateTime<Utc>) -> JwkSet {
        JwkSet {
            keys: self
                .keys
                .iter()
                .filter(|k| k.published(now))
                .map(SigningKey::jwk)
                .collect(),
        }
    }

    /// Add a key signing from `now + cache_ttl + skew`; the keys without a retirement time retire
    /// `max_token_lifetime + skew` after that; already retired keys are dropped.
    pub fn rotate(
        &mut self,
        now: DateTime<Utc>,
        cache_ttl: Duration,
        max_token_lifetime: Duration,
        skew: Duration,
    ) -> Result<&SigningKey, SecretsError> {
        let d = |x: Duration| chrono::Duration::from_std(x).unwrap_or(chrono::Duration::MAX);
        let sign_from = now + d(cache_ttl) + d(skew);
        let retire_at = sign_from + d(max_token_lifetime) + d(skew);
        self.keys.retain(|k| k.published(now));
        for k in &mut self.keys {
            if k.retire_at.is_none() {
                k.retire_at = Some(retire_at);
            }
        }
        self.keys.push(SigningKey::generate(now, sign_from)?);
        Ok(self.keys.last().expect("just pushed"))
    }

    /// Sign `claims` with the key that signs at `now` (`kid` in the header).
    pub fn sign<T: Serialize>(
        &self,
        claims: &T,
        now: DateTime<Utc>,
    ) -> Result<String, SecretsError> {
        let key = self
            .signing_key(now)
            .ok_or_else(|| SecretsError::InvalidInput("no key signs at this time".into()))?;
        sign_with(key, claims)
    }

    /// Verify `token` against the keys published at `now` (by `kid`; unknown or missing `kid` is rejected).
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        now: DateTime<Utc>,
        validation: &Validation,
    ) -> Result<T, SecretsError> {
        verify_with_jwks(token, &self.jwks(now), validation)
    }
}

fn sign_with<T: Serialize>(key: &SigningKey, claims: &T) -> Result<String, SecretsError> {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding_key()?)
        .map_err(|e| SecretsError::InvalidInput(format!("cannot sign: {e}")))
}

/// Verify `token` against `jwks`, resolving its `kid` in that pinned set only.
pub fn verify_with_jwks<T: DeserializeOwned>(
    token: &str,
    jwks: &JwkSet,
    validation: &Validation,
) -> Result<T, SecretsError> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| SecretsError::InvalidInput("malformed token".into()))?;
    let kid = header
        .kid
        .ok_or_else(|| SecretsError::InvalidInput("token has no kid".into()))?;
    let jwk = jwks
        .find(&kid)
        .ok_or_else(|| SecretsError::InvalidInput(format!("unknown kid {kid:?}")))?;
    let key = DecodingKey::from_jwk(jwk)
        .map_err(|_| SecretsError::InvalidInput(format!("bad JWK {kid:?}")))?;
    jsonwebtoken::decode::<T>(token, &key, validation)
        .map(|d| d.claims)
        .map_err(|e| SecretsError::InvalidInput(format!("token rejected: {e}")))
}

/// Where the JWKS is published (a file served at `jwks_uri`, an object store, a config service).
#[async_trait]
pub trait JwksPublisher: Send + Sync + fmt::Debug + 'static {
    /// Replace the published set.
    async fn publish(&self, jwks: &JwkSet) -> runway_core::Result<()>;

    /// What is published now (what verifiers fetch).
    async fn published(&self) -> runway_core::Result<JwkSet>;
}

/// A [`JwksPublisher`] in memory (tests, embedded use).
#[derive(Debug, Clone)]
pub struct MemoryJwks(Arc<Mutex<JwkSet>>);

impl Default for MemoryJwks {
    fn default() -> Self {
        MemoryJwks(Arc::new(Mutex::new(JwkSet { keys: Vec::new() })))
    }
}

impl MemoryJwks {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The set.
    pub fn get(&self) -> JwkSet {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[async_trait]
impl JwksPublisher for MemoryJwks {
    async fn publish(&self, jwks: &JwkSet) -> runway_core::Result<()> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = jwks.clone();
        Ok(())
    }

    async fn published(&self) -> runway_core::Result<JwkSet> {
        Ok(self.get())
    }
}

/// A [`JwksPublisher`] writing `{"keys": [...]}` to a file (served by a web server as `jwks_uri`).
#[derive(Debug, Clone)]
pub struct FileJwks(pub std::path::PathBuf);

#[async_trait]
impl JwksPublisher for FileJwks {
    async fn publish(&self, jwks: &JwkSet) -> runway_core::Result<()> {
        let tmp = self.0.with_extension("tmp");
        tokio::fs::write(&tmp, serde_json::to_vec_pretty(jwks)?).await?;
        tokio::fs::rename(&tmp, &self.0).await?;
        Ok(())
    }

    async fn published(&self) -> runway_core::Result<JwkSet> {
        let bytes = tokio::fs::read(&self.0).await?;
        serde_json::from_slice(&bytes)
            .map_err(|_| Error::invalid_input("the published JWKS does not parse"))
    }
}

#[derive(Serialize, Deserialize)]
struct Probe {
    sub: String,
    exp: i64,
}

/// Rotates a JWT signing key ring.
#[derive(Debug, Clone)]
pub struct JwtRotator {
    publisher: Arc<dyn JwksPublisher>,
    clock: Arc<dyn Clock>,
    cache_ttl: Duration,
    max_token_lifetime: Duration,
    skew: Duration,
}

impl JwtRotator {
    /// Publish through `publisher`; defaults: 10-minute verifier cache, 1-hour tokens, 60 s skew.
    pub fn new(publisher: Arc<dyn JwksPublisher>) -> Self {
        JwtRotator {
            publisher,
            clock: Arc::new(SystemClock),
            cache_ttl: Duration::from_secs(600),
            max_token_lifetime: Duration::from_secs(3600),
            skew: Duration::from_secs(60),
        }
    }

    /// How long verifiers cache the JWKS.
    #[must_use]
    pub fn with_cache_ttl(mut self, d: Duration) -> Self {
        self.cache_ttl = d;
        self
    }

    /// The longest lifetime of an issued token.
    #[must_use]
    pub fn with_max_token_lifetime(mut self, d: Duration) -> Self {
        self.max_token_lifetime = d;
        self
    }

    /// Allowed clock skew between issuer and verifiers.
    #[must_use]
    pub fn with_clock_skew(mut self, d: Duration) -> Self {
        self.skew = d;
        self
    }

    /// The clock (a simulator's in tests).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

fn ring_of(v: &SecretVersion) -> runway_core::Result<KeyRing> {
    KeyRing::parse(&v.value).map_err(SecretsError::into_core)
}

#[async_trait]
impl Rotator for JwtRotator {
    fn name(&self) -> &str {
        "jwt-signing-key"
    }

    async fn create(&self, current: &SecretVersion) -> runway_core::Result<SecretString> {
        let mut ring = ring_of(current)?;
        ring.rotate(
            self.clock.now(),
            self.cache_ttl,
            self.max_token_lifetime,
            self.skew,
        )
        .map_err(SecretsError::into_core)?;
        Ok(ring.to_secret())
    }

    async fn set(
        &self,
        pending: &SecretVersion,
        _current: &SecretVersion,
    ) -> runway_core::Result<()> {
        let ring = ring_of(pending)?;
        self.publisher.publish(&ring.jwks(self.clock.now())).await
    }

    async fn test(&self, pending: &SecretVersion) -> runway_core::Result<()> {
        let ring = ring_of(pending)?;
        let newest = ring
            .keys()
            .last()
            .ok_or_else(|| Error::invalid_input("empty key ring"))?;
        let now = self.clock.now();
        let token = sign_with(
            newest,
            &Probe {
                sub: "runway-rotation-probe".into(),
                exp: now.timestamp() + 300,
            },
        )
        .map_err(SecretsError::into_core)?;
        let published = self.publisher.published().await?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.leeway = self.skew.as_secs();
        // Verifiers only ever see the clock's time through `exp`; a simulated clock may be far from the
        // system's, so check the signature and kid here, not the expiry.
        validation.validate_exp = false;
        verify_with_jwks::<Probe>(&token, &published, &validation)
            .map(|_| ())
            .map_err(|e| {
                Error::new(
                    runway_core::ErrorKind::Provider,
                    format!("the published JWKS does not verify the new key: {e}"),
                )
            })
    }

    async fn finish(
        &self,
        current: &SecretVersion,
        _previous: Option<&SecretVersion>,
    ) -> runway_core::Result<()> {
        let ring = ring_of(current)?;
        self.publisher.publish(&ring.jwks(self.clock.now())).await
    }
}
