//! Per-peer trust: a state machine `unknown → probing → trusted → blocked`, where every
//! transition has a reason and a time. The rules are the security boundary, so they live in
//! one table-like `match` that the tests walk exhaustively.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How far a peer is trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "sea-orm", derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter))]
#[cfg_attr(feature = "sea-orm", sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case"))]
pub enum TrustLevel {
    /// Never seen, or seen without proof of anything.
    Unknown,
    /// Proved possession of its key (handshake) or was introduced by a trusted peer; not yet
    /// vouched for by the control plane.
    Probing,
    /// Attested by the control plane: its key was registered with a valid join token.
    Trusted,
    /// Refused: no traffic to or from it.
    Blocked,
}

/// What happened to a peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "sea-orm", derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter))]
#[cfg_attr(feature = "sea-orm", sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case"))]
pub enum TrustEvent {
    /// It completed an authenticated handshake (Noise, or a signed join challenge).
    Handshake,
    /// A trusted peer introduced it.
    IntroducedByTrustedPeer,
    /// The control plane attested its key.
    AttestedByControlPlane,
    /// It sent envelopes whose signatures did not verify, too often.
    RepeatedInvalidSignatures,
    /// An operator blocked it.
    OperatorBlock,
    /// The join token it was admitted with was revoked.
    TokenRevoked,
    /// An operator lifted a block: it must earn trust again.
    OperatorUnblock,
}

impl TrustLevel {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            TrustLevel::Unknown => "unknown",
            TrustLevel::Probing => "probing",
            TrustLevel::Trusted => "trusted",
            TrustLevel::Blocked => "blocked",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(s: &str) -> Option<Self> {
        [TrustLevel::Unknown, TrustLevel::Probing, TrustLevel::Trusted, TrustLevel::Blocked]
            .into_iter()
            .find(|l| l.as_str() == s)
    }

    /// The level after `event`, or `None` when the event does not apply in this state (the
    /// caller records nothing). The rules:
    /// - a handshake or a trusted peer's introduction lifts `unknown` to `probing`, never
    ///   higher: only the control plane makes a peer `trusted`, and only from `probing`;
    /// - misbehaviour, an operator's block or a revoked token block from any state;
    /// - only an operator unblocks, and back to `probing`, not to where it was.
    pub fn after(self, event: TrustEvent) -> Option<TrustLevel> {
        use TrustEvent::*;
        use TrustLevel::*;
        match (self, event) {
            (Unknown, Handshake | IntroducedByTrustedPeer) => Some(Probing),
            (Probing, AttestedByControlPlane) => Some(Trusted),
            (Unknown | Probing | Trusted, RepeatedInvalidSignatures | OperatorBlock | TokenRevoked) => {
                Some(Blocked)
            }
            (Blocked, OperatorUnblock) => Some(Probing),
            _ => None,
        }
    }
}

impl TrustEvent {
    /// Stable snake_case name (the recorded reason).
    pub fn as_str(self) -> &'static str {
        match self {
            TrustEvent::Handshake => "handshake",
            TrustEvent::IntroducedByTrustedPeer => "introduced_by_trusted_peer",
            TrustEvent::AttestedByControlPlane => "attested_by_control_plane",
            TrustEvent::RepeatedInvalidSignatures => "repeated_invalid_signatures",
            TrustEvent::OperatorBlock => "operator_block",
            TrustEvent::TokenRevoked => "token_revoked",
            TrustEvent::OperatorUnblock => "operator_unblock",
        }
    }
}

impl fmt::Display for TrustLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One recorded transition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustTransition {
    pub from: TrustLevel,
    pub to: TrustLevel,
    pub reason: TrustEvent,
    pub at: DateTime<Utc>,
}

/// A peer's trust with its history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustRecord {
    level: TrustLevel,
    history: Vec<TrustTransition>,
}

impl Default for TrustRecord {
    fn default() -> Self {
        Self { level: TrustLevel::Unknown, history: Vec::new() }
    }
}

impl TrustRecord {
    /// The current level.
    pub fn level(&self) -> TrustLevel {
        self.level
    }

    /// Every transition so far, oldest first.
    pub fn history(&self) -> &[TrustTransition] {
        &self.history
    }

    /// Applies `event` at `at`; returns the transition if the level changed.
    pub fn apply(&mut self, event: TrustEvent, at: DateTime<Utc>) -> Option<TrustTransition> {
        let to = self.level.after(event)?;
        let transition = TrustTransition { from: self.level, to, reason: event, at };
        self.level = to;
        self.history.push(transition.clone());
        Some(transition)
    }
}

#[cfg(test)]
mod tests {
    use super::{TrustEvent::*, TrustLevel::*, *};

    const LEVELS: [TrustLevel; 4] = [Unknown, Probing, Trusted, Blocked];
    const EVENTS: [TrustEvent; 7] = [
        Handshake,
        IntroducedByTrustedPeer,
        AttestedByControlPlane,
        RepeatedInvalidSignatures,
        OperatorBlock,
        TokenRevoked,
        OperatorUnblock,
    ];

    /// The whole transition table, written out: (from, event) → to, `None` = not applicable.
    fn expected(from: TrustLevel, event: TrustEvent) -> Option<TrustLevel> {
        let table: &[(TrustLevel, TrustEvent, TrustLevel)] = &[
            (Unknown, Handshake, Probing),
            (Unknown, IntroducedByTrustedPeer, Probing),
            (Unknown, RepeatedInvalidSignatures, Blocked),
            (Unknown, OperatorBlock, Blocked),
            (Unknown, TokenRevoked, Blocked),
            (Probing, AttestedByControlPlane, Trusted),
            (Probing, RepeatedInvalidSignatures, Blocked),
            (Probing, OperatorBlock, Blocked),
            (Probing, TokenRevoked, Blocked),
            (Trusted, RepeatedInvalidSignatures, Blocked),
            (Trusted, OperatorBlock, Blocked),
            (Trusted, TokenRevoked, Blocked),
            (Blocked, OperatorUnblock, Probing),
        ];
        table.iter().find(|(f, e, _)| *f == from && *e == event).map(|(_, _, to)| *to)
    }

    #[test]
    fn every_transition_follows_the_table() {
        for from in LEVELS {
            for event in EVENTS {
                assert_eq!(from.after(event), expected(from, event), "{from:?} + {event:?}");
            }
        }
    }

    #[test]
    fn no_event_makes_an_unknown_peer_trusted_directly() {
        for event in EVENTS {
            assert_ne!(Unknown.after(event), Some(Trusted), "{event:?}");
        }
    }

    #[test]
    fn an_introduction_never_raises_past_probing() {
        for from in LEVELS {
            assert_ne!(from.after(IntroducedByTrustedPeer), Some(Trusted));
        }
    }

    #[test]
    fn a_record_keeps_each_transition_with_its_reason_and_time() {
        let mut record = TrustRecord::default();
        let t0 = Utc::now();
        record.apply(Handshake, t0);
        record.apply(Handshake, t0); // not applicable: nothing recorded
        record.apply(AttestedByControlPlane, t0);
        record.apply(OperatorBlock, t0);
        assert_eq!(record.level(), Blocked);
        let reasons: Vec<_> = record.history().iter().map(|t| (t.from, t.to, t.reason)).collect();
        assert_eq!(
            reasons,
            vec![
                (Unknown, Probing, Handshake),
                (Probing, Trusted, AttestedByControlPlane),
                (Trusted, Blocked, OperatorBlock)
            ]
        );
    }

    #[test]
    fn level_names_round_trip() {
        for level in LEVELS {
            assert_eq!(TrustLevel::parse(level.as_str()), Some(level));
        }
    }
}
