//! Test helper for the SIGKILL crash-resume test: runs (or resumes) a one-at-a-time rollout against a tiny
//! platform whose state lives in a JSON file, with a file journal and a file lock, on real (short) time.
//!
//! Usage: `rollout-crash-helper STATE JOURNAL LOCKDIR run|resume [bad]`. Prints the report as JSON.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use runway_core::{
    ControlModel, DeployOptions, Deployment, DeploymentId, DeploymentStatus, Environment,
    EnvironmentId, EnvironmentKind, Error, HealthProbe, ListDeployments, ListUnits, Platform,
    PlatformCapabilities, ProbeResult, Release, Result, Service, ServiceId, ServiceRole, Unit,
    UnitId, UnitState,
};
use runway_rollout::{
    FileJournal, FileLock, HealthGate, ResumePolicy, Rollout, RolloutConfig, Strategy,
};
use serde::{Deserialize, Serialize};

const START_MS: u64 = 120;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct FUnit {
    id: String,
    release: String,
    deployed_at_ms: Option<u64>,
    in_lb: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct FDeployment {
    id: String,
    unit: String,
    release: String,
    superseded: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct FState {
    units: Vec<FUnit>,
    deployments: Vec<FDeployment>,
}

#[derive(Debug, Clone)]
struct FilePlatform {
    path: PathBuf,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

impl FilePlatform {
    fn load(&self) -> Result<FState> {
        let text = std::fs::read_to_string(&self.path)?;
        Ok(serde_json::from_str(&text)?)
    }

    fn save(&self, st: &FState) -> Result<()> {
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec(st)?)?;
        std::fs::rename(&tmp, &self.path)?;
        Ok(())
    }

    fn state_of(u: &FUnit) -> UnitState {
        match u.deployed_at_ms {
            Some(d) if now_ms().saturating_sub(d) < START_MS => UnitState::Starting,
            _ if u.release == "bad" => UnitState::Unhealthy,
            _ => UnitState::Running,
        }
    }

    fn view(u: &FUnit) -> Unit {
        Unit {
            id: UnitId::new(u.id.clone()),
            name: u.id.clone(),
            service: ServiceId::new("api"),
            environment: EnvironmentId::new("production"),
            release: Some(u.release.clone().into()),
            state: Self::state_of(u),
            in_load_balancer: u.in_lb,
            replicas: 1,
        }
    }

    fn dep_view(st: &FState, d: &FDeployment) -> Deployment {
        let status = if d.superseded {
            DeploymentStatus::Removed
        } else {
            match st.units.iter().find(|u| u.id == d.unit).map(Self::state_of) {
                Some(UnitState::Starting) => DeploymentStatus::Deploying,
                Some(UnitState::Running) => DeploymentStatus::Succeeded,
                _ => DeploymentStatus::Failed,
            }
        };
        let at = chrono::Utc::now();
        Deployment {
            id: DeploymentId::new(d.id.clone()),
            unit: UnitId::new(d.unit.clone()),
            release: Some(d.release.clone().into()),
            status,
            created_at: at,
            updated_at: at,
            message: None,
        }
    }

    fn set_lb(&self, unit: &UnitId, on: bool) -> Result<()> {
        let mut st = self.load()?;
        let u = st
            .units
            .iter_mut()
            .find(|u| u.id == unit.as_str())
            .ok_or_else(|| Error::not_found("unit"))?;
        u.in_lb = on;
        self.save(&st)
    }
}

#[async_trait]
impl Platform for FilePlatform {
    fn name(&self) -> &str {
        "file"
    }
    fn capabilities(&self) -> PlatformCapabilities {
        PlatformCapabilities::new(ControlModel::Orchestrated).with_drain(true)
    }
    async fn environments(&self) -> Result<Vec<Environment>> {
        Ok(vec![Environment {
            id: "production".into(),
            name: "production".into(),
            kind: EnvironmentKind::Production,
        }])
    }
    async fn services(&self, _env: &EnvironmentId) -> Result<Vec<Service>> {
        Ok(vec![Service {
            id: "api".into(),
            name: "api".into(),
            environment: "production".into(),
            role: ServiceRole::Web,
        }])
    }
    async fn units(&self, _env: &EnvironmentId, _opts: &ListUnits) -> Result<Vec<Unit>> {
        Ok(self.load()?.units.iter().map(Self::view).collect())
    }
    async fn unit(&self, unit: &UnitId) -> Result<Unit> {
        self.load()?
            .units
            .iter()
            .find(|u| u.id == unit.as_str())
            .map(Self::view)
            .ok_or_else(|| Error::not_found("unit"))
    }
    async fn deploy(
        &self,
        unit: &UnitId,
        release: &Release,
        _o: &DeployOptions,
    ) -> Result<Deployment> {
        let mut st = self.load()?;
        for d in st
            .deployments
            .iter_mut()
            .filter(|d| d.unit == unit.as_str())
        {
            d.superseded = true;
        }
        let u = st
            .units
            .iter_mut()
            .find(|u| u.id == unit.as_str())
            .ok_or_else(|| Error::not_found("unit"))?;
        u.release = release.id.to_string();
        u.deployed_at_ms = Some(now_ms());
        let d = FDeployment {
            id: format!("dep-{}", st.deployments.len() + 1),
            unit: unit.to_string(),
            release: release.id.to_string(),
            superseded: false,
        };
        st.deployments.push(d.clone());
        self.save(&st)?;
        Ok(Self::dep_view(&st, &d))
    }
    async fn deployment(&self, id: &DeploymentId) -> Result<Deployment> {
        let st = self.load()?;
        let d = st
            .deployments
            .iter()
            .find(|d| d.id == id.as_str())
            .ok_or_else(|| Error::not_found("deployment"))?;
        Ok(Self::dep_view(&st, d))
    }
    async fn deployments(&self, _unit: &UnitId, _o: &ListDeployments) -> Result<Vec<Deployment>> {
        Ok(Vec::new())
    }
    async fn drain(&self, unit: &UnitId) -> Result<()> {
        self.set_lb(unit, false)
    }
    async fn restore(&self, unit: &UnitId) -> Result<()> {
        self.set_lb(unit, true)
    }
}

#[async_trait]
impl HealthProbe for FilePlatform {
    async fn probe(&self, unit: &Unit, _timeout: Duration) -> Result<ProbeResult> {
        let u = self.unit(&unit.id).await?;
        Ok(if u.state == UnitState::Running {
            ProbeResult::healthy(Duration::from_millis(1))
        } else {
            ProbeResult::unhealthy(Duration::from_millis(1), format!("{:?}", u.state))
        })
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let [_, state, journal, locks, mode, rest @ ..] = args.as_slice() else {
        eprintln!("usage: rollout-crash-helper STATE JOURNAL LOCKDIR run|resume [bad]");
        std::process::exit(2);
    };
    let release = if rest.first().map(String::as_str) == Some("bad") {
        "bad"
    } else {
        "v2"
    };
    let platform = Arc::new(FilePlatform {
        path: PathBuf::from(state),
    });
    let gate = HealthGate::default()
        .with_period(Duration::from_millis(20))
        .with_timeout(Duration::from_millis(20))
        .with_min_ready(Duration::from_millis(40));
    let cfg = RolloutConfig::default()
        .with_strategy(Strategy::OneAtATime)
        .with_gate(gate)
        .with_progress_deadline(Duration::from_secs(5));
    let mut b = Rollout::builder()
        .with_platform(platform.clone())
        .with_probe(platform)
        .with_journal(Arc::new(FileJournal::new(journal)))
        .with_lock(Arc::new(FileLock::new(locks)))
        .with_environment("production")
        .with_service("api")
        .with_config(cfg);
    b = if mode == "resume" {
        b.resume("crash-run", ResumePolicy::Continue)
    } else {
        b.with_run_id("crash-run")
            .with_release(Release::new(release))
    };
    let report = b
        .build()
        .map_err(|e| e.to_string())?
        .run()
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "{}",
        serde_json::to_string(&report).map_err(|e| e.to_string())?
    );
    Ok(())
}
