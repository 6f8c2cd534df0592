//! Rotate a secret through create -> set -> test -> finish, then show what the schedule says is due.
//!
//! ```text
//! cargo run --example rotate                                  # a JWT signing key in memory
//! cargo run --example rotate -- --kind api-key [--fail-at test]
//! cargo run --example rotate -- --store file:.runway/secrets.json --secret jwt/signing
//! cargo run --example rotate -- --kind postgres --admin-url postgres://postgres@127.0.0.1/app --roles app_blue,app_green --bootstrap
//! cargo run --example rotate --features aws -- --store aws --secret prod/jwt   # Secrets Manager
//! ```
//! Re-running with the same `--rotation-id` resumes a rotation that stopped; events print as JSON lines
//! (names and version ids only, never values).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use clap::{Parser, ValueEnum};
use runway_core::secrecy::SecretString;
use runway_core::{
    Clock, Emitter, ErrorKind, Event, EventSink, RequestToken, SecretStage, SecretStore,
    SystemClock,
};
use runway_secrets::schedule::inventory;
use runway_secrets::testing::FailingRotator;
use runway_secrets::{
    ApiKeyProvider, ApiKeyRotator, FileSecretStore, JwtRotator, KeyRing, MemoryJwks,
    MemorySecretStore, PostgresRotator, Rotate, RotationPolicy, RotationStep, Rotator, SecretClass,
};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Kind {
    Jwt,
    ApiKey,
    Postgres,
}

#[derive(Parser, Debug)]
#[command(about = "Rotate a secret (resumable, idempotent) and report what is due")]
struct Args {
    /// What the secret is.
    #[arg(long, value_enum, default_value = "jwt")]
    kind: Kind,
    /// The secret's name.
    #[arg(long)]
    secret: Option<String>,
    /// memory, file:PATH, or aws (needs the aws feature).
    #[arg(long, default_value = "memory")]
    store: String,
    /// Identifies this rotation (reuse it to resume).
    #[arg(long)]
    rotation_id: Option<String>,
    /// Inject a failure at a step (create, set, test, finish) to see the current version survive.
    #[arg(long)]
    fail_at: Option<String>,
    /// PostgreSQL admin URL (for --kind postgres).
    #[arg(long, env = "RUNWAY_PG_ADMIN_URL")]
    admin_url: Option<String>,
    /// The two alternating login roles (for --kind postgres).
    #[arg(long, default_value = "app_blue,app_green")]
    roles: String,
    /// Create the roles and the secret first (for --kind postgres on a scratch database).
    #[arg(long)]
    bootstrap: bool,
}

#[derive(Debug)]
struct PrintSink;

#[async_trait]
impl EventSink for PrintSink {
    async fn emit(&self, event: &Event) -> runway_core::Result<()> {
        println!("{}", serde_json::to_string(&event.payload)?);
        Ok(())
    }
}

/// A stand-in API provider for the demo: any key it issued is valid until revoked.
#[derive(Debug, Default)]
struct DemoProvider(std::sync::Mutex<Vec<String>>);

#[async_trait]
impl ApiKeyProvider for DemoProvider {
    async fn issue(&self, _current: &SecretString) -> runway_core::Result<SecretString> {
        let key = format!("sk_demo_{:016x}", rand_u64());
        self.0.lock().unwrap().push(key.clone());
        Ok(SecretString::from(key))
    }
    async fn verify(&self, _key: &SecretString) -> runway_core::Result<()> {
        Ok(())
    }
    async fn revoke(&self, _key: &SecretString) -> runway_core::Result<()> {
        Ok(())
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(SystemClock.now().timestamp_micros() as u64);
    h.finish()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let secret = args.secret.clone().unwrap_or_else(|| match args.kind {
        Kind::Jwt => "jwt/signing".into(),
        Kind::ApiKey => "payments/api-key".into(),
        Kind::Postgres => "db/app".into(),
    });
    let store = open_store(&args.store).await?;
    let rotator: Arc<dyn Rotator> = match args.kind {
        Kind::Jwt => Arc::new(JwtRotator::new(Arc::new(MemoryJwks::new()))),
        Kind::ApiKey => Arc::new(ApiKeyRotator::new(Arc::new(DemoProvider::default()))),
        Kind::Postgres => {
            let url = args
                .admin_url
                .clone()
                .ok_or_else(|| anyhow::anyhow!("--admin-url is required for postgres"))?;
            let roles: Vec<&str> = args.roles.split(',').collect();
            anyhow::ensure!(roles.len() == 2, "--roles takes two names");
            let pg = PostgresRotator::builder(SecretString::from(url), [roles[0], roles[1]])
                .with_drain_grace(Duration::from_secs(2))
                .build()?;
            if args.bootstrap {
                let initial = runway_secrets::rotators::generate_password(32);
                let value = pg
                    .bootstrap(&format!("{}_group", roles[0]), &initial)
                    .await?;
                store
                    .create(&secret, value, &RequestToken::derive(&secret, "bootstrap"))
                    .await?;
            }
            Arc::new(pg)
        }
    };
    seed_if_missing(store.as_ref(), &secret, args.kind).await?;
    let rotator = match args.fail_at.as_deref() {
        None => rotator,
        Some(s) => Arc::new(FailingRotator::new(rotator, parse_step(s)?)),
    };
    let rotation_id = args
        .rotation_id
        .clone()
        .unwrap_or_else(|| SystemClock.now().format("%Y%m%dT%H%M%S").to_string());
    let rotate =
        Rotate::new(store.clone(), rotator).with_emitter(Emitter::new(Arc::new(PrintSink)));
    match rotate.run(&secret, &rotation_id).await {
        Ok(r) => println!(
            "rotated {secret}: current {} (previous {})",
            r.current,
            r.previous.as_deref().unwrap_or("-")
        ),
        Err(e) => {
            let cur = store.get(&secret, SecretStage::Current).await?;
            println!(
                "rotation failed ({e}); current version {} still in place",
                cur.info.version_id
            );
        }
    }
    let class = match args.kind {
        Kind::Jwt => SecretClass::JwtSigningKey,
        Kind::ApiKey => SecretClass::ApiKey,
        Kind::Postgres => SecretClass::DatabasePassword,
    };
    let records = inventory(store.as_ref(), &[(secret.as_str(), class)]).await?;
    print!(
        "\n{}",
        RotationPolicy::runbook().report(&records, SystemClock.now())
    );
    Ok(())
}

async fn open_store(spec: &str) -> anyhow::Result<Arc<dyn SecretStore>> {
    if spec == "memory" {
        return Ok(Arc::new(MemorySecretStore::new()));
    }
    if let Some(path) = spec.strip_prefix("file:") {
        return Ok(Arc::new(FileSecretStore::open(path).await?));
    }
    if spec == "aws" {
        #[cfg(feature = "aws")]
        {
            let config = runway_aws::AwsConfigBuilder::from_env().build().await?;
            return Ok(Arc::new(runway_aws::SecretsManagerStore::new(&config)));
        }
        #[cfg(not(feature = "aws"))]
        anyhow::bail!(
            "--store aws needs the aws feature (cargo run --example rotate --features aws)"
        );
    }
    anyhow::bail!("unknown store {spec:?}: memory, file:PATH or aws")
}

/// Create the secret with a first value when it does not exist yet (demo convenience).
async fn seed_if_missing(store: &dyn SecretStore, secret: &str, kind: Kind) -> anyhow::Result<()> {
    match store.get(secret, SecretStage::Current).await {
        Ok(_) => return Ok(()),
        Err(e) if e.kind() == &ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    let value = match kind {
        Kind::Jwt => KeyRing::generate(SystemClock.now())?.to_secret(),
        Kind::ApiKey => SecretString::from(format!("sk_demo_{:016x}", rand_u64())),
        Kind::Postgres => {
            anyhow::bail!("secret {secret:?} not found: create it, or pass --bootstrap")
        }
    };
    store
        .create(secret, value, &RequestToken::derive(secret, "initial"))
        .await?;
    println!("created {secret}");
    Ok(())
}

fn parse_step(s: &str) -> anyhow::Result<RotationStep> {
    Ok(match s {
        "create" => RotationStep::Create,
        "set" => RotationStep::Set,
        "test" => RotationStep::Test,
        "finish" => RotationStep::Finish,
        _ => anyhow::bail!("unknown step {s:?}"),
    })
}
