//! The fake Railway API answers like Railway: schema validation, variable coercion, auth, faults.

use std::time::Duration;

use runway_testkit::fake_railway::{
    ACCOUNT_TOKEN, FakeRailway, Fault, PRODUCTION, PROJECT_ID, PROJECT_TOKEN, schema, sdl,
};
use serde_json::{Value, json};

async fn post(
    fake: &FakeRailway,
    auth: Option<(&str, String)>,
    body: Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = reqwest::Client::new().post(fake.url()).json(&body);
    if let Some((k, v)) = auth {
        req = req.header(k, v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn bearer() -> Option<(&'static str, String)> {
    Some(("authorization", format!("Bearer {ACCOUNT_TOKEN}")))
}

fn first_error(v: &Value) -> String {
    v["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn the_real_schema_loads() {
    let s = schema();
    assert!(s.types.contains_key("DeploymentStatus"));
    assert!(sdl().contains("serviceInstanceDeployV2"));
}

#[tokio::test(start_paused = true)]
async fn unknown_fields_and_selections_on_booleans_are_errors_in_a_200() {
    let fake = FakeRailway::start().await;
    let (status, _, body) = post(
        &fake,
        bearer(),
        json!({"query": "query { deployment(id: \"x\") { id bogusField } }"}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(first_error(&body).contains("bogusField"), "{body}");
    let (status, _, body) = post(
        &fake,
        bearer(),
        json!({"query": "mutation { deploymentRollback(id: \"x\") { id status } }"}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(!first_error(&body).is_empty(), "{body}");
    assert!(!fake.requests().last().unwrap().valid);
}

#[tokio::test(start_paused = true)]
async fn variables_are_coerced_to_their_declared_types() {
    let fake = FakeRailway::start().await;
    let (_, _, body) = post(
        &fake,
        bearer(),
        json!({
            "query": "query Q($input: DeploymentListInput!, $first: Int) { deployments(input: $input, first: $first) { edges { node { id } } } }",
            "variables": {"input": {"environmentId": PRODUCTION}, "first": "ten"},
        }),
    )
    .await;
    assert!(first_error(&body).contains("first"), "{body}");
    let (_, _, body) = post(
        &fake,
        bearer(),
        json!({
            "query": "query Q($input: DeploymentListInput!, $first: Int) { deployments(input: $input, first: $first) { edges { node { id status } } } }",
            "variables": {"input": {"environmentId": PRODUCTION, "serviceId": "svc-web"}, "first": 5},
        }),
    )
    .await;
    let edges = body["data"]["deployments"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0]["node"]["status"], "SUCCESS");
    // Exactly the selected fields come back.
    assert_eq!(edges[0]["node"].as_object().unwrap().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn auth_is_checked_like_railway() {
    let fake = FakeRailway::start().await;
    let q = json!({"query": format!("query {{ project(id: \"{PROJECT_ID}\") {{ id }} }}")});
    let (_, _, body) = post(&fake, None, q.clone()).await;
    assert_eq!(first_error(&body), "Not Authorized");
    let (_, _, body) = post(
        &fake,
        Some(("project-access-token", "bad".into())),
        q.clone(),
    )
    .await;
    assert_eq!(first_error(&body), "Project Token not found");
    let (_, headers, body) = post(
        &fake,
        Some(("project-access-token", PROJECT_TOKEN.into())),
        q,
    )
    .await;
    assert_eq!(body["data"]["project"]["id"], PROJECT_ID);
    assert!(headers.contains_key("x-ratelimit-remaining"));
}

#[tokio::test(start_paused = true)]
async fn deployments_progress_over_tokio_time() {
    let fake = FakeRailway::start().await;
    let (_, _, body) = post(
        &fake,
        bearer(),
        json!({"query": format!("mutation {{ serviceInstanceDeployV2(environmentId: \"{PRODUCTION}\", serviceId: \"svc-api-1\", commitSha: \"abc\") }}")}),
    )
    .await;
    let id = body["data"]["serviceInstanceDeployV2"]
        .as_str()
        .unwrap()
        .to_owned();
    let status = |fake: &FakeRailway, id: String| {
        let url = fake.url().to_owned();
        async move {
            let body: Value = reqwest::Client::new()
                .post(url)
                .header("authorization", format!("Bearer {ACCOUNT_TOKEN}"))
                .json(
                    &json!({"query": format!("query {{ deployment(id: \"{id}\") {{ status }} }}")}),
                )
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["data"]["deployment"]["status"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    assert_eq!(status(&fake, id.clone()).await, "INITIALIZING");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(status(&fake, id.clone()).await, "BUILDING");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(status(&fake, id.clone()).await, "DEPLOYING");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(status(&fake, id.clone()).await, "SUCCESS");
}

#[tokio::test(start_paused = true)]
async fn injected_faults_are_served_in_order() {
    let fake = FakeRailway::start().await;
    fake.push_fault(Fault::RateLimited {
        retry_after: Duration::from_secs(9),
    });
    fake.push_fault(Fault::Status(502));
    fake.push_fault(Fault::MalformedBody);
    let q = json!({"query": "query { projectToken { projectId } }"});
    let (s, h, _) = post(&fake, bearer(), q.clone()).await;
    assert_eq!(s, 429);
    assert_eq!(h["retry-after"], "9");
    assert_eq!(post(&fake, bearer(), q.clone()).await.0, 502);
    let (s, _, body) = post(&fake, bearer(), q.clone()).await;
    assert_eq!(s, 200);
    assert!(body.is_string(), "not JSON: {body}");
    let (_, _, body) = post(&fake, bearer(), q).await;
    assert_eq!(
        first_error(&body),
        "Project Token not found",
        "an account token has no project token"
    );
}
