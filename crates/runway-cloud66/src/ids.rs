//! Unit and deployment ids for Cloud66.
//!
//! A unit is a stack (`"<stack uid>"`) or one docker service of a stack (`"<stack uid>/<service>"`).
//! A deployment id names its stack and either the async action that runs it (`"<stack>:action:<id>"`,
//! returned by deploy, rollback and restart) or a deployment record (`"<stack>:deployment:<id>"`, listed by
//! [`Platform::deployments`](runway_core::Platform::deployments)).

use runway_core::{DeploymentId, UnitId};

use crate::error::Cloud66Error;

/// What a unit id names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRef {
    /// The stack uid.
    pub stack: String,
    /// One docker service, or the whole stack.
    pub service: Option<String>,
}

/// Parse a unit id.
pub fn parse_unit(unit: &UnitId) -> Result<UnitRef, Cloud66Error> {
    let s = unit.as_str();
    let (stack, service) = match s.split_once('/') {
        Some((st, sv)) => (st, Some(sv)),
        None => (s, None),
    };
    if stack.is_empty()
        || service.is_some_and(|v| v.is_empty() || v.contains('/'))
        || stack.contains(':')
    {
        return Err(Cloud66Error::NotFound(format!(
            "no unit {:?}: Cloud66 unit ids are \"<stack>\" or \"<stack>/<service>\"",
            s.chars().take(80).collect::<String>()
        )));
    }
    Ok(UnitRef {
        stack: stack.to_owned(),
        service: service.map(str::to_owned),
    })
}

/// What a deployment id names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploymentRef {
    /// An async action of a stack.
    Action {
        /// Stack uid.
        stack: String,
        /// Action id.
        id: u64,
    },
    /// A deployment record of a stack.
    Deployment {
        /// Stack uid.
        stack: String,
        /// Deployment id.
        id: u64,
    },
}

impl DeploymentRef {
    /// The id string.
    pub fn id(&self) -> DeploymentId {
        match self {
            DeploymentRef::Action { stack, id } => {
                DeploymentId::new(format!("{stack}:action:{id}"))
            }
            DeploymentRef::Deployment { stack, id } => {
                DeploymentId::new(format!("{stack}:deployment:{id}"))
            }
        }
    }
}

/// Parse a deployment id.
pub fn parse_deployment(id: &DeploymentId) -> Result<DeploymentRef, Cloud66Error> {
    let mut parts = id.as_str().splitn(3, ':');
    let bad = || {
        Cloud66Error::NotFound(format!(
            "no deployment {:?}: Cloud66 deployment ids are \"<stack>:action:<n>\" or \"<stack>:deployment:<n>\"",
            id.as_str().chars().take(80).collect::<String>()
        ))
    };
    let (Some(stack), Some(kind), Some(n)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let n: u64 = n.parse().map_err(|_| bad())?;
    if stack.is_empty() {
        return Err(bad());
    }
    match kind {
        "action" => Ok(DeploymentRef::Action {
            stack: stack.into(),
            id: n,
        }),
        "deployment" => Ok(DeploymentRef::Deployment {
            stack: stack.into(),
            id: n,
        }),
        _ => Err(bad()),
    }
}
