//! Audit environment variables: `.env.example` against staging and production, values shown only as
//! fingerprints.
//!
//! ```text
//! cargo run --example env-diff                          # simulator with demo variables
//! cargo run --example env-diff -- --dir . --example .env.example [--env staging --env production] [--json] [--check]
//! ```
//! With `--dir`, each environment's variables come from `<dir>/.env.<environment>`.

use std::sync::Arc;

use clap::Parser;
use runway_core::secrecy::SecretString;
use runway_core::{EnvExample, SetOptions, VariableScope, VariableStore};
use runway_secrets::DotenvStore;
use runway_secrets::audit::audit_stores;

#[derive(Parser, Debug)]
#[command(
    about = "Compare .env.example with each environment's variables (fingerprints, never values)"
)]
struct Args {
    /// The documented variables.
    #[arg(long)]
    example: Option<std::path::PathBuf>,
    /// Read `.env.<environment>` files from this folder instead of the simulator.
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
    /// Environments to audit.
    #[arg(long = "env", default_values = ["staging", "production"])]
    envs: Vec<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Exit with status 1 when something is missing, undocumented or only in production (for CI).
    #[arg(long)]
    check: bool,
}

const DEMO_EXAMPLE: &str = "DATABASE_URL=postgresql://localhost/app\nREDIS_URL=redis://localhost:6379\nSECRET_KEY=\nSTRIPE_API_KEY=\nNEW_FEATURE_FLAG=false\n";

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let example_text = match &args.example {
        Some(p) => std::fs::read_to_string(p)?,
        None => DEMO_EXAMPLE.to_owned(),
    };
    let example = EnvExample::parse(&example_text)?;
    let store: Arc<dyn VariableStore> = match &args.dir {
        Some(dir) => Arc::new(DotenvStore::new(dir)),
        None => demo_sim(&args.envs).await?,
    };
    let envs: Vec<(&str, &dyn VariableStore, VariableScope)> = args
        .envs
        .iter()
        .map(|e| {
            (
                e.as_str(),
                store.as_ref(),
                VariableScope::environment(e.as_str()),
            )
        })
        .collect();
    let report = audit_stores(&example, &envs).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    if args.check && !report.is_clean() {
        std::process::exit(1);
    }
    Ok(())
}

/// The simulator, with staging a step ahead of production (a flag not yet promoted, a hotfix variable
/// set in production only).
async fn demo_sim(envs: &[String]) -> anyhow::Result<Arc<dyn VariableStore>> {
    let mut b = runway_sim::SimPlatform::builder();
    for e in envs {
        b = b.environment(e.as_str());
    }
    let sim = Arc::new(b.build());
    let o = SetOptions::default();
    let vars: [(&str, &[(&str, &str)]); 2] = [
        (
            "staging",
            &[
                ("DATABASE_URL", "postgresql://stg:pw@db/app"),
                ("REDIS_URL", "redis://cache:6379"),
                ("SECRET_KEY", "stg-secret"),
                ("STRIPE_API_KEY", "sk_test_123"),
                ("NEW_FEATURE_FLAG", "true"),
            ],
        ),
        (
            "production",
            &[
                ("DATABASE_URL", "postgresql://prod:pw@db/app"),
                ("REDIS_URL", "redis://cache:6379"),
                ("SECRET_KEY", "prod-secret"),
                ("STRIPE_API_KEY", "sk_live_456"),
                ("HOTFIX_TIMEOUT", "30"),
            ],
        ),
    ];
    for (env, pairs) in vars {
        if envs.iter().any(|e| e == env) {
            for (k, v) in pairs {
                sim.set(
                    &VariableScope::environment(env),
                    k,
                    SecretString::from(*v),
                    &o,
                )
                .await?;
            }
        }
    }
    Ok(sim)
}
