//! A picture of a rollout from its journal: one row per unit, time across, colour by release and state.
//!
//! ```
//! use runway_core::{event::DeployEvent, Event, EventPayload, ReleaseId, UnitId};
//! let at = |s: i64| chrono::DateTime::from_timestamp(s, 0).unwrap();
//! let ev = |seq, s, e| Event { seq, at: at(s), run: None, payload: EventPayload::Deploy(e) };
//! let events = vec![
//!     ev(0, 0, DeployEvent::RolloutStarted { environment: "production".into(), release: ReleaseId::new("v2"),
//!         previous: Some(ReleaseId::new("v1")), units: 1, strategy: "one-at-a-time".into() }),
//!     ev(1, 1, DeployEvent::UnitDrained { unit: UnitId::new("api-1") }),
//!     ev(2, 2, DeployEvent::UnitDeploying { unit: UnitId::new("api-1"), deployment: "d1".into(), release: ReleaseId::new("v2") }),
//!     ev(3, 5, DeployEvent::UnitRestored { unit: UnitId::new("api-1") }),
//! ];
//! let svg = runway::timeline::svg(&events);
//! assert!(svg.starts_with("<svg") && svg.contains("api-1") && svg.contains("v2"));
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use runway_core::event::DeployEvent;
use runway_core::{Event, EventPayload, ReleaseId, UnitId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Serving,
    Drained,
    Deploying,
    Checking,
}

#[derive(Debug, Clone)]
struct Segment {
    from: DateTime<Utc>,
    release: ReleaseId,
    phase: Phase,
}

#[derive(Debug, Default)]
struct Row {
    segments: Vec<Segment>,
    unhealthy: Vec<DateTime<Utc>>,
}

impl Row {
    fn push(&mut self, at: DateTime<Utc>, release: Option<ReleaseId>, phase: Phase) {
        let release = release
            .or_else(|| self.segments.last().map(|s| s.release.clone()))
            .unwrap_or_else(|| ReleaseId::new("?"));
        self.segments.push(Segment {
            from: at,
            release,
            phase,
        });
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The events of the last run in a journal (a journal file holds every run of an environment).
pub fn last_run(events: &[Event]) -> Vec<Event> {
    let run = events.iter().rev().find_map(|e| e.run.clone());
    events.iter().filter(|e| e.run == run).cloned().collect()
}

/// Render the rollout events among `events` as an SVG document.
pub fn svg(events: &[Event]) -> String {
    let mut rows: BTreeMap<UnitId, Row> = BTreeMap::new();
    let mut previous: Option<ReleaseId> = None;
    let mut target: Option<ReleaseId> = None;
    let mut start: Option<DateTime<Utc>> = None;
    let mut end: Option<DateTime<Utc>> = None;
    let mut rollback_at: Option<DateTime<Utc>> = None;
    let mut outcome = String::new();
    for e in events {
        let EventPayload::Deploy(d) = &e.payload else {
            continue;
        };
        start.get_or_insert(e.at);
        end = Some(e.at);
        match d {
            DeployEvent::RolloutStarted {
                release,
                previous: p,
                ..
            } => {
                target = Some(release.clone());
                previous = p.clone();
            }
            DeployEvent::FleetObserved {
                units_by_release, ..
            } => {
                for (release, units) in units_by_release {
                    for unit in units {
                        let row = rows.entry(unit.clone()).or_default();
                        if row.segments.is_empty() {
                            row.push(e.at, Some(release.clone()), Phase::Serving);
                        }
                    }
                }
            }
            DeployEvent::UnitDrained { unit } => {
                let row = rows.entry(unit.clone()).or_default();
                if row.segments.is_empty() {
                    row.push(start.unwrap_or(e.at), previous.clone(), Phase::Serving);
                }
                row.push(e.at, None, Phase::Drained);
            }
            DeployEvent::UnitDeploying { unit, release, .. } => {
                let row = rows.entry(unit.clone()).or_default();
                if row.segments.is_empty() {
                    row.push(start.unwrap_or(e.at), previous.clone(), Phase::Serving);
                }
                row.push(e.at, Some(release.clone()), Phase::Deploying);
            }
            DeployEvent::UnitReady { unit } => {
                rows.entry(unit.clone())
                    .or_default()
                    .push(e.at, None, Phase::Checking);
            }
            DeployEvent::UnitRestored { unit } => {
                rows.entry(unit.clone())
                    .or_default()
                    .push(e.at, None, Phase::Serving);
            }
            DeployEvent::UnitUnhealthy { unit, .. } => {
                rows.entry(unit.clone()).or_default().unhealthy.push(e.at);
            }
            DeployEvent::RollbackStarted { .. } => rollback_at = Some(e.at),
            DeployEvent::RolloutFinished { outcome: o, .. } => outcome = o.clone(),
            _ => {}
        }
    }
    let (Some(start), Some(end)) = (start, end) else {
        return r#"<svg xmlns="http://www.w3.org/2000/svg" width="400" height="40"><text x="10" y="25">no rollout events</text></svg>"#.to_owned();
    };
    let span = ((end - start).num_milliseconds().max(1)) as f64;
    let (left, width, row_h, top) = (110.0, 760.0, 26.0, 50.0);
    let x = |t: DateTime<Utc>| left + width * ((t - start).num_milliseconds() as f64 / span);
    let height = top + row_h * rows.len() as f64 + 60.0;
    let colour = |release: &ReleaseId, phase: Phase| -> &'static str {
        let new = target.as_ref() == Some(release);
        match (new, phase) {
            (_, Phase::Drained) => "#d0d4da",
            (true, Phase::Serving) => "#2e9d5b",
            (true, _) => "#9fd8b4",
            (false, Phase::Serving) => "#4a78b8",
            (false, _) => "#a9c1e4",
        }
    };
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" font-family="sans-serif" font-size="12">"#,
        w = left + width + 30.0
    );
    let title = format!(
        "rollout {} -> {}: {} ({:.1} s)",
        previous.as_ref().map_or("?", |p| p.as_str()),
        target.as_ref().map_or("?", |t| t.as_str()),
        if outcome.is_empty() {
            "unfinished"
        } else {
            &outcome
        },
        span / 1000.0
    );
    let _ = write!(
        out,
        r#"<text x="10" y="22" font-size="14">{}</text>"#,
        escape(&title)
    );
    for (i, (unit, row)) in rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        let _ = write!(
            out,
            r#"<text x="10" y="{}">{}</text>"#,
            y + 16.0,
            escape(unit.as_str())
        );
        for (j, seg) in row.segments.iter().enumerate() {
            let until = row.segments.get(j + 1).map_or(end, |n| n.from);
            let (x0, x1) = (x(seg.from), x(until).max(x(seg.from) + 1.0));
            let _ = write!(
                out,
                r#"<rect x="{x0:.1}" y="{y:.1}" width="{:.1}" height="{}" fill="{}"><title>{} {:?}</title></rect>"#,
                x1 - x0,
                row_h - 6.0,
                colour(&seg.release, seg.phase),
                escape(seg.release.as_str()),
                seg.phase
            );
        }
        for t in &row.unhealthy {
            let _ = write!(
                out,
                r##"<circle cx="{:.1}" cy="{:.1}" r="5" fill="#d6443a"><title>unhealthy</title></circle>"##,
                x(*t),
                y + (row_h - 6.0) / 2.0
            );
        }
    }
    if let Some(t) = rollback_at {
        let _ = write!(
            out,
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="{1}" y2="{2}" stroke="#d6443a" stroke-dasharray="4 3"/><text x="{3:.1}" y="{1}" fill="#d6443a">rollback</text>"##,
            x(t),
            top - 6.0,
            top + row_h * rows.len() as f64,
            x(t) + 4.0
        );
    }
    let legend_y = top + row_h * rows.len() as f64 + 25.0;
    let mut lx = left;
    for (label, fill) in [
        ("old release serving", "#4a78b8"),
        ("new release serving", "#2e9d5b"),
        ("deploying / checking", "#9fd8b4"),
        ("drained", "#d0d4da"),
    ] {
        let _ = write!(
            out,
            r#"<rect x="{lx}" y="{}" width="12" height="12" fill="{fill}"/><text x="{}" y="{}">{label}</text>"#,
            legend_y - 10.0,
            lx + 16.0,
            legend_y
        );
        lx += 170.0;
    }
    out.push_str("</svg>");
    out
}
