//! How alive a node is, from the age of its last heartbeat: the one rule the control plane
//! (node views, trust) and the service registry (placements) both read.
use app::types::nodes::NodeState;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Timing of heartbeats and the liveness they imply.
#[derive(Clone, Copy, Debug)]
pub struct Liveness {
    pub heartbeat_interval: Duration,
    /// A node whose last heartbeat is older than this is `degraded`...
    pub degraded_after: Duration,
    /// ...and older than this, `offline`.
    pub offline_after: Duration,
}

impl Default for Liveness {
    fn default() -> Self {
        Self {
            heartbeat_interval: Duration::from_secs(1),
            degraded_after: Duration::from_secs(5),
            offline_after: Duration::from_secs(15),
        }
    }
}

/// Liveness from the age of the last heartbeat.
pub fn state_of(last: Option<DateTime<Utc>>, now: DateTime<Utc>, s: &Liveness) -> NodeState {
    let Some(last) = last else { return NodeState::Offline };
    let age = (now - last).to_std().unwrap_or_default();
    if age <= s.degraded_after {
        NodeState::Online
    } else if age <= s.offline_after {
        NodeState::Degraded
    } else {
        NodeState::Offline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn liveness_follows_the_age_of_the_last_heartbeat() {
        let s = Liveness::default();
        let now = Utc::now();
        let ago = |secs| Some(now - chrono::Duration::seconds(secs));
        assert_eq!(state_of(ago(1), now, &s), NodeState::Online);
        assert_eq!(state_of(ago(5), now, &s), NodeState::Online);
        assert_eq!(state_of(ago(6), now, &s), NodeState::Degraded);
        assert_eq!(state_of(ago(15), now, &s), NodeState::Degraded);
        assert_eq!(state_of(ago(16), now, &s), NodeState::Offline);
        assert_eq!(state_of(None, now, &s), NodeState::Offline);
    }
}
