//! Decoding a large `deployments` response: runway-railway's typed decoder (envelope, errors check,
//! deployments, status mapping, conversion to runway's `Deployment`) against the peer, a bare
//! `serde_json::from_slice::<serde_json::Value>` of the same bytes, in the same run.
//!
//! `cargo bench -p runway-railway --bench decode`

use std::hint::black_box;
use std::time::{Duration, Instant};

use runway_railway::wire::{self, RateLimitHeaders};
use serde_json::json;

fn body(n: usize) -> Vec<u8> {
    let statuses = wire::STATUSES;
    let edges: Vec<_> = (0..n)
        .map(|i| {
            json!({"node": {
                "id": format!("0b5f3f48-{i:08}"),
                "status": statuses[i % statuses.len()],
                "createdAt": "2026-01-15T10:30:00.000Z",
                "updatedAt": "2026-01-15T10:31:00.000Z",
                "statusUpdatedAt": "2026-01-15T10:31:00.000Z",
                "meta": {"commitHash": format!("{i:040x}"), "reason": "deploy", "branch": "main", "commitMessage": "feat(webhooks): add subscription endpoints"},
                "environmentId": "env-production",
                "serviceId": "svc-api-1",
                "canRollback": i % 2 == 0,
            }})
        })
        .collect();
    serde_json::to_vec(&json!({"data": {"deployments": {"edges": edges}}})).unwrap()
}

fn time<F: FnMut()>(iters: u32, mut f: F) -> Duration {
    f(); // warm up
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed() / iters
}

fn main() {
    let n = 1000;
    let bytes = body(n);
    let iters = 200;
    let ours = time(iters, || {
        let data = wire::decode_response(200, &RateLimitHeaders::default(), black_box(&bytes), &[])
            .unwrap();
        let list = wire::decode_deployments(&data).unwrap();
        let out: Vec<_> = list
            .into_iter()
            .map(|d| d.into_deployment().unwrap())
            .collect();
        black_box(out);
    });
    let peer = time(iters, || {
        let v: serde_json::Value = serde_json::from_slice(black_box(&bytes)).unwrap();
        black_box(v);
    });
    let mb = bytes.len() as f64 / 1e6;
    println!(
        "railway deployments response: {n} deployments, {:.2} MB",
        mb
    );
    println!(
        "  runway-railway typed decode: {:>8.3} ms  ({:.0} MB/s)",
        ours.as_secs_f64() * 1e3,
        mb / ours.as_secs_f64()
    );
    println!(
        "  peer serde_json::Value parse: {:>7.3} ms  ({:.0} MB/s)",
        peer.as_secs_f64() * 1e3,
        mb / peer.as_secs_f64()
    );
    println!(
        "  ratio typed / bare parse: {:.2}",
        ours.as_secs_f64() / peer.as_secs_f64()
    );
}
