//! Shared test helpers (included with `mod common;`).
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use runway_core::Error;
use runway_secrets::ApiKeyProvider;
use secrecy::{ExposeSecret, SecretString};

/// A fake API provider: keys it issued and did not revoke are valid.
#[derive(Debug, Default, Clone)]
pub struct FakeProvider {
    pub valid: Arc<Mutex<BTreeSet<String>>>,
    pub issued: Arc<Mutex<Vec<String>>>,
    pub counter: Arc<Mutex<u32>>,
}

impl FakeProvider {
    pub fn with_key(key: &str) -> Self {
        let p = FakeProvider::default();
        p.valid.lock().unwrap().insert(key.to_owned());
        p
    }

    pub fn accepts(&self, key: &SecretString) -> bool {
        self.valid.lock().unwrap().contains(key.expose_secret())
    }
}

#[async_trait]
impl ApiKeyProvider for FakeProvider {
    async fn issue(&self, _current: &SecretString) -> runway_core::Result<SecretString> {
        let mut c = self.counter.lock().unwrap();
        *c += 1;
        let key = format!("sk_live_{:04}_{}", *c, "Zq8vR2mT");
        self.valid.lock().unwrap().insert(key.clone());
        self.issued.lock().unwrap().push(key.clone());
        Ok(SecretString::from(key))
    }

    async fn verify(&self, key: &SecretString) -> runway_core::Result<()> {
        if self.accepts(key) {
            Ok(())
        } else {
            Err(Error::new(
                runway_core::ErrorKind::Unauthenticated,
                "key rejected",
            ))
        }
    }

    async fn revoke(&self, key: &SecretString) -> runway_core::Result<()> {
        self.valid.lock().unwrap().remove(key.expose_secret());
        Ok(())
    }
}
