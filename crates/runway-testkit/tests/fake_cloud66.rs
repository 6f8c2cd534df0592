//! The fake Cloud66 API answers with Cloud66's paths, wrapping, pagination and errors.

use std::time::Duration;

use runway_testkit::fake_cloud66::{FakeCloud66, Fault, PRODUCTION, TOKEN};
use serde_json::{Value, json};

async fn call(
    fake: &FakeCloud66,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", fake.base_url()))
        .bearer_auth(TOKEN);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test(start_paused = true)]
async fn lists_are_wrapped_and_paginated() {
    let fake = FakeCloud66::start().await;
    fake.set_per_page(1);
    let (s, body) = call(&fake, reqwest::Method::GET, "/stacks.json", None).await;
    assert_eq!(s, 200);
    assert_eq!(body["response"].as_array().unwrap().len(), 1);
    assert_eq!(body["count"], 2);
    assert_eq!(body["pagination"]["current"], 1);
    assert_eq!(body["pagination"]["next"], 2);
    let (_, body) = call(&fake, reqwest::Method::GET, "/stacks.json?page=2", None).await;
    assert!(body["pagination"]["next"].is_null());
    let (_, body) = call(
        &fake,
        reqwest::Method::GET,
        &format!("/stacks/{PRODUCTION}"),
        None,
    )
    .await;
    assert_eq!(body["response"]["uid"], PRODUCTION);
}

#[tokio::test(start_paused = true)]
async fn redeploy_returns_an_async_action_that_finishes() {
    let fake = FakeCloud66::start().await;
    let (_, body) = call(
        &fake,
        reqwest::Method::POST,
        &format!("/stacks/{PRODUCTION}/deployments.json"),
        Some(json!({"git_ref": "abc123"})),
    )
    .await;
    assert_eq!(body["ok"], true);
    let id = body["async_action_id"].as_u64().unwrap();
    let path = format!("/stacks/{PRODUCTION}/actions/{id}.json");
    let (_, a) = call(&fake, reqwest::Method::GET, &path, None).await;
    assert!(a["response"]["finished_at"].is_null());
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (_, a) = call(&fake, reqwest::Method::GET, &path, None).await;
    assert!(a["response"]["finished_at"].is_string());
    assert_eq!(a["response"]["finished_success"], true);
}

#[tokio::test(start_paused = true)]
async fn errors_use_the_envelope_and_throttling_is_503() {
    let fake = FakeCloud66::start().await;
    let (s, body) = call(&fake, reqwest::Method::GET, "/stacks/nope.json", None).await;
    assert_eq!(s, 404);
    assert_eq!(body["error"], "not_found");
    assert!(body["error_description"].is_string());
    fake.push_fault(Fault::Throttled);
    let (s, body) = call(&fake, reqwest::Method::GET, "/stacks.json", None).await;
    assert_eq!((s, body["error"].as_str()), (503, Some("throttled")));
    let unauth = reqwest::Client::new()
        .get(format!("{}/stacks.json", fake.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(unauth.status().as_u16(), 401);
    let (s, _) = call(
        &fake,
        reqwest::Method::POST,
        &format!("/stacks/{PRODUCTION}/environments.json"),
        Some(json!({"key": "K", "value": "v", "apply_strategy": "sometime"})),
    )
    .await;
    assert_eq!(s, 400, "apply_strategy is immediately or deployment");
}
