//! The Cloud66 client against the stateful fake API.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use runway_cloud66::Cloud66Client;
use runway_core::{
    DeployOptions, Deployment, DeploymentId, DeploymentStatus, EnvironmentId, EnvironmentKind,
    ErrorKind, ListDeployments, ListUnits, Platform, Release, RollbackTarget, SetOptions, UnitId,
    UnitState, VariableScope, VariableStore,
};
use runway_testkit::fake_cloud66::{FakeCloud66, PRODUCTION, STAGING};
use secrecy::{ExposeSecret, SecretString};

async fn wait_terminal(c: &Cloud66Client, id: &DeploymentId) -> Deployment {
    for _ in 0..200 {
        let d = c.deployment(id).await.unwrap();
        if d.status.is_terminal() {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("deployment {id} never finished");
}

#[tokio::test(start_paused = true)]
async fn stacks_are_environments_and_units() {
    let fake = FakeCloud66::start().await;
    let c = common::client(&fake);
    let envs = c.environments().await.unwrap();
    assert_eq!(envs.len(), 2);
    assert_eq!(
        envs.iter()
            .find(|e| e.id.as_str() == PRODUCTION)
            .unwrap()
            .kind,
        EnvironmentKind::Production
    );
    let services = c.services(&EnvironmentId::new(PRODUCTION)).await.unwrap();
    let names: Vec<_> = services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["yourapp-production", "web", "worker"]);
    let units = c
        .units(&EnvironmentId::new(PRODUCTION), &ListUnits::default())
        .await
        .unwrap();
    assert_eq!(units.len(), 1);
    let u = &units[0];
    assert_eq!(u.id.as_str(), PRODUCTION);
    assert_eq!(u.state, UnitState::Running);
    assert_eq!(u.replicas, 3);
    assert_eq!(u.release.as_ref().unwrap().as_str(), "v1.0");
    assert_eq!(&c.unit(&u.id).await.unwrap(), u);
    let web = c
        .units(&EnvironmentId::new(PRODUCTION), &ListUnits::service("web"))
        .await
        .unwrap();
    assert_eq!(web[0].id.as_str(), "stk-production/web");
    assert_eq!(
        c.unit(&UnitId::new("stk-production/nope"))
            .await
            .unwrap_err()
            .kind(),
        &ErrorKind::NotFound
    );
    let servers = c.servers(PRODUCTION).await.unwrap();
    assert_eq!(servers.len(), 3);
    assert!(
        servers
            .iter()
            .all(|s| s.server_roles.contains(&"web".to_owned()))
    );
}

#[tokio::test(start_paused = true)]
async fn pagination_follows_every_page() {
    let fake = FakeCloud66::start().await;
    fake.set_per_page(1);
    let c = common::client(&fake);
    assert_eq!(c.stacks().await.unwrap().len(), 2);
    assert_eq!(c.servers(STAGING).await.unwrap().len(), 3);
    assert_eq!(fake.count("GET", "/api/3/stacks.json"), 2);
}

#[tokio::test(start_paused = true)]
async fn deploy_is_an_async_action_polled_until_finished() {
    let fake = FakeCloud66::start().await;
    let c = common::client(&fake);
    let unit = UnitId::new(PRODUCTION);
    let d = c
        .deploy(&unit, &Release::new("v1.1"), &DeployOptions::default())
        .await
        .unwrap();
    assert!(
        d.id.as_str().starts_with("stk-production:deployment:"),
        "{}",
        d.id
    );
    assert_eq!(d.status, DeploymentStatus::Deploying);
    assert_eq!(
        c.unit(&unit).await.unwrap().state,
        UnitState::Running,
        "old release serves meanwhile"
    );
    let done = wait_terminal(&c, &d.id).await;
    assert_eq!(done.status, DeploymentStatus::Succeeded);
    assert_eq!(done.release.unwrap().as_str(), "v1.1");
    let list = c
        .deployments(&unit, &ListDeployments::default())
        .await
        .unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        list[0].id, d.id,
        "deploy returns the id deployments() lists"
    );
    assert_eq!(list[0].release.as_ref().unwrap().as_str(), "v1.1");
    assert_eq!(c.deployment(&list[0].id).await.unwrap(), list[0]);
    assert_eq!(
        c.unit(&unit).await.unwrap().release.unwrap().as_str(),
        "v1.1"
    );
}

#[tokio::test(start_paused = true)]
async fn service_units_deploy_an_image_tag() {
    let fake = FakeCloud66::start().await;
    let c = common::client(&fake);
    let unit = UnitId::new(format!("{STAGING}/web"));
    let d = c
        .deploy(
            &unit,
            &Release::new("v2").with_image("ghcr.io/acme/web:v2"),
            &DeployOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        wait_terminal(&c, &d.id).await.status,
        DeploymentStatus::Succeeded
    );
    let whole = UnitId::new(STAGING);
    let e = c
        .deploy(
            &whole,
            &Release::new("v2").with_image("x:v2"),
            &DeployOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
}

#[tokio::test(start_paused = true)]
async fn failed_deploys_and_rollback_by_redeploying_an_earlier_ref() {
    let fake = FakeCloud66::start().await;
    let c = common::client(&fake);
    let unit = UnitId::new(STAGING);
    let good = c
        .deploy(&unit, &Release::new("v1.1"), &DeployOptions::default())
        .await
        .unwrap();
    wait_terminal(&c, &good.id).await;
    fake.fail_next(STAGING);
    let bad = c
        .deploy(&unit, &Release::new("v1.2"), &DeployOptions::default())
        .await
        .unwrap();
    assert_eq!(
        wait_terminal(&c, &bad.id).await.status,
        DeploymentStatus::Failed
    );
    assert_eq!(c.unit(&unit).await.unwrap().state, UnitState::Unhealthy);
    let r = c.rollback(&unit, &RollbackTarget::Previous).await.unwrap();
    assert_eq!(r.release.as_ref().unwrap().as_str(), "v1.1");
    assert_eq!(
        wait_terminal(&c, &r.id).await.status,
        DeploymentStatus::Succeeded
    );
    let r = c
        .rollback(&unit, &RollbackTarget::Release("v1.0".into()))
        .await
        .unwrap();
    assert_eq!(r.release.unwrap().as_str(), "v1.0");
    let e = c
        .rollback(&unit, &RollbackTarget::Release("v1.2".into()))
        .await
        .unwrap_err();
    assert_eq!(
        e.kind(),
        &ErrorKind::NotFound,
        "a failed release is no rollback target"
    );
}

#[tokio::test(start_paused = true)]
async fn restart_is_a_stack_action() {
    let fake = FakeCloud66::start().await;
    let c = common::client(&fake);
    let unit = UnitId::new(PRODUCTION);
    let r = c.restart(&unit).await.unwrap();
    assert_eq!(r.status, DeploymentStatus::Deploying);
    assert_eq!(r.release.as_ref().unwrap().as_str(), "v1.0");
    assert_eq!(
        wait_terminal(&c, &r.id).await.status,
        DeploymentStatus::Succeeded
    );
    fake.fail_next(PRODUCTION);
    let r = c.restart(&unit).await.unwrap();
    assert_eq!(
        wait_terminal(&c, &r.id).await.status,
        DeploymentStatus::Failed
    );
    assert_eq!(
        fake.count("POST", "/api/3/stacks/stk-production/actions.json"),
        2
    );
}

#[tokio::test(start_paused = true)]
async fn idempotent_deploy_returns_the_existing_deployment() {
    let fake = FakeCloud66::start().await;
    let c = common::client(&fake);
    let unit = UnitId::new(PRODUCTION);
    let opts = DeployOptions::with_idempotency_key("k1");
    c.deploy(&unit, &Release::new("v3"), &opts).await.unwrap();
    let again = c.deploy(&unit, &Release::new("v3"), &opts).await.unwrap();
    assert_eq!(again.release.unwrap().as_str(), "v3");
    assert_eq!(
        fake.count("POST", "/api/3/stacks/stk-production/deployments.json"),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn environment_variables_with_apply_strategy() {
    let fake = FakeCloud66::start().await;
    let c = common::client(&fake);
    let scope = VariableScope::environment(STAGING);
    c.set(
        &scope,
        "NEW_VAR",
        SecretString::from("value-1"),
        &SetOptions::next_deploy(),
    )
    .await
    .unwrap();
    assert_eq!(
        fake.variable(STAGING, "NEW_VAR").as_deref(),
        Some("value-1")
    );
    c.set(
        &scope,
        "NEW_VAR",
        SecretString::from("value-2"),
        &SetOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        c.get(&scope, "NEW_VAR")
            .await
            .unwrap()
            .unwrap()
            .expose_secret(),
        "value-2"
    );
    let mut many = BTreeMap::new();
    many.insert("A".to_owned(), SecretString::from("1"));
    c.set_many(&scope, many.clone(), &SetOptions::default())
        .await
        .unwrap();
    assert_eq!(
        c.list(&scope).await.unwrap().len(),
        3,
        "STACK_BASE, NEW_VAR, A"
    );
    // Replacing deletes what is not in the map, except Cloud66's readonly variables, which it cannot delete.
    fake.add_variable(STAGING, "EXTRA", "x", false);
    c.set_many(
        &scope,
        many.clone(),
        &SetOptions::default().with_replace(true),
    )
    .await
    .unwrap();
    assert!(fake.variable(STAGING, "EXTRA").is_none());
    assert!(fake.variable(STAGING, "NEW_VAR").is_none());
    assert_eq!(
        fake.variable(STAGING, "STACK_BASE").as_deref(),
        Some("generated")
    );
    // Readonly variables cannot be changed.
    let e = c
        .set(
            &scope,
            "STACK_BASE",
            SecretString::from("x"),
            &SetOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    c.delete(&scope, "A", &SetOptions::default()).await.unwrap();
    c.delete(&scope, "NEVER_SET", &SetOptions::default())
        .await
        .unwrap();
    assert!(c.get(&scope, "A").await.unwrap().is_none());
    let e = c
        .list(&VariableScope::service(STAGING, "web"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Unsupported);
}
