//! How runway's unit ids map onto Railway service instances.

use runway_core::UnitId;

use crate::error::RailwayError;

/// The unit id of the service instance `service` in `environment`: `"<environmentId>:<serviceId>"`.
pub fn unit_id(environment: &str, service: &str) -> UnitId {
    UnitId::new(format!("{environment}:{service}"))
}

/// Split a unit id back into `(environmentId, serviceId)`.
pub fn parse_unit(unit: &UnitId) -> Result<(&str, &str), RailwayError> {
    match unit.as_str().split_once(':') {
        Some((e, s)) if !e.is_empty() && !s.is_empty() && !s.contains(':') => Ok((e, s)),
        // An id that is not "<environmentId>:<serviceId>" names no unit.
        _ => Err(RailwayError::NotFound(format!(
            "no unit {:?}: Railway unit ids are \"<environmentId>:<serviceId>\"",
            unit.as_str().chars().take(80).collect::<String>()
        ))),
    }
}
