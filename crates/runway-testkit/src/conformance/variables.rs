//! The [`VariableStore`] conformance suite.

use std::sync::Arc;

use runway_core::secrecy::{ExposeSecret, SecretString};
use runway_core::{ErrorKind, SetOptions, VariableScope, VariableStore, Variables};

/// What the variables suite needs from a backend.
#[derive(Debug, Clone)]
pub struct VariablesFixture {
    /// The backend under test.
    pub store: Arc<dyn VariableStore>,
    /// A scope the suite may write (start empty or with variables the suite does not touch).
    pub scope: VariableScope,
    /// Another writable scope, to check isolation.
    pub other_scope: VariableScope,
}

impl VariablesFixture {
    /// A fixture over two scopes.
    pub fn new(
        store: Arc<dyn VariableStore>,
        scope: VariableScope,
        other_scope: VariableScope,
    ) -> Self {
        VariablesFixture {
            store,
            scope,
            other_scope,
        }
    }
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

fn value(vars: &Variables, name: &str) -> Option<String> {
    vars.get(name).map(|v| v.expose_secret().to_owned())
}

const NEXT: fn() -> SetOptions = SetOptions::default;

/// Set, get, list and delete one variable.
pub async fn set_get_list_delete(fx: &VariablesFixture) {
    let s = &fx.store;
    s.set(&fx.scope, "RW_CONF_A", secret("alpha"), &NEXT())
        .await
        .expect("set");
    let got = s.get(&fx.scope, "RW_CONF_A").await.expect("get");
    assert_eq!(
        got.map(|v| v.expose_secret().to_owned()).as_deref(),
        Some("alpha")
    );
    s.set(&fx.scope, "RW_CONF_A", secret("beta"), &NEXT())
        .await
        .expect("overwrite");
    let all = s.list(&fx.scope).await.expect("list");
    assert_eq!(value(&all, "RW_CONF_A").as_deref(), Some("beta"));
    s.delete(&fx.scope, "RW_CONF_A", &NEXT())
        .await
        .expect("delete");
    assert!(s.get(&fx.scope, "RW_CONF_A").await.expect("get").is_none());
}

/// `set_many` merges; with `replace` it deletes what is not in the map.
pub async fn set_many_merges_or_replaces(fx: &VariablesFixture) {
    let s = &fx.store;
    let mut first = Variables::new();
    first.insert("RW_CONF_M1".into(), secret("1"));
    first.insert("RW_CONF_M2".into(), secret("2"));
    s.set_many(&fx.scope, first, &NEXT())
        .await
        .expect("set_many");
    let mut second = Variables::new();
    second.insert("RW_CONF_M3".into(), secret("3"));
    s.set_many(&fx.scope, second.clone(), &NEXT())
        .await
        .expect("merge");
    let all = s.list(&fx.scope).await.expect("list");
    for n in ["RW_CONF_M1", "RW_CONF_M2", "RW_CONF_M3"] {
        assert!(all.contains_key(n), "merge lost {n}");
    }
    s.set_many(&fx.scope, second, &SetOptions::default().with_replace(true))
        .await
        .expect("replace");
    let all = s.list(&fx.scope).await.expect("list");
    assert!(
        !all.contains_key("RW_CONF_M1"),
        "replace kept a variable not in the map"
    );
    assert_eq!(value(&all, "RW_CONF_M3").as_deref(), Some("3"));
    s.delete(&fx.scope, "RW_CONF_M3", &NEXT())
        .await
        .expect("cleanup");
}

/// Deleting a variable that is not set is not an error.
pub async fn deleting_unset_variable_is_ok(fx: &VariablesFixture) {
    fx.store
        .delete(&fx.scope, "RW_CONF_NEVER_SET", &NEXT())
        .await
        .expect("delete of an unset variable");
}

/// Malformed names are `InvalidInput` and change nothing.
pub async fn invalid_names_are_rejected(fx: &VariablesFixture) {
    let before = fx.store.list(&fx.scope).await.expect("list");
    for bad in ["1ABC", "A-B", "", "A B"] {
        let e = fx
            .store
            .set(&fx.scope, bad, secret("x"), &NEXT())
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidInput, "name {bad:?}: {e}");
    }
    let after = fx.store.list(&fx.scope).await.expect("list");
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
}

/// A variable set in one scope is not visible in another.
pub async fn scopes_are_isolated(fx: &VariablesFixture) {
    fx.store
        .set(&fx.scope, "RW_CONF_ISO", secret("here"), &NEXT())
        .await
        .expect("set");
    let other = fx.store.list(&fx.other_scope).await.expect("list other");
    assert!(
        !other.contains_key("RW_CONF_ISO"),
        "variable leaked across scopes"
    );
    fx.store
        .delete(&fx.scope, "RW_CONF_ISO", &NEXT())
        .await
        .expect("cleanup");
}

/// Values never appear in `Debug` output of what the store returns, nor of the store itself.
pub async fn values_never_printed(fx: &VariablesFixture) {
    let marker = "rw-conf-secret-value-7d1e";
    fx.store
        .set(&fx.scope, "RW_CONF_SECRET", secret(marker), &NEXT())
        .await
        .expect("set");
    let all = fx.store.list(&fx.scope).await.expect("list");
    assert!(
        !format!("{all:?}").contains(marker),
        "a value was printed by Debug"
    );
    assert!(
        !format!("{:?}", fx.store).contains(marker),
        "the store's Debug prints a value"
    );
    fx.store
        .delete(&fx.scope, "RW_CONF_SECRET", &NEXT())
        .await
        .expect("cleanup");
}

/// Deferred application is accepted when the store claims it, and the value is readable at once.
pub async fn deferred_apply_accepted(fx: &VariablesFixture) {
    let opts = SetOptions::next_deploy();
    fx.store
        .set(&fx.scope, "RW_CONF_LATER", secret("later"), &opts)
        .await
        .expect("set with deferred apply");
    let got = fx.store.get(&fx.scope, "RW_CONF_LATER").await.expect("get");
    assert_eq!(
        got.map(|v| v.expose_secret().to_owned()).as_deref(),
        Some("later")
    );
    fx.store
        .delete(&fx.scope, "RW_CONF_LATER", &opts)
        .await
        .expect("cleanup");
}
