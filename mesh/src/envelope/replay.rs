//! The guard against replayed envelopes.
use super::{Freshness, Header};
use crate::{DropReason, NodeId};
use std::collections::{HashMap, VecDeque};

/// Remembers the envelopes a node has accepted, so a replayed one is refused. An entry is
/// kept until its envelope would be refused as expired anyway, so memory is bounded by the
/// traffic of one freshness window. Each origin has its own budget of `per_origin` ids (its
/// rate × the window): past it, that origin's new envelopes are refused with `Backpressure`
/// rather than forgetting ids early (which would open a replay hole) — and one busy or
/// malicious origin cannot use up the budget of the others.
pub struct ReplayGuard {
    seen: HashMap<(NodeId, [u8; 16]), u64>,
    order: VecDeque<(u64, NodeId, [u8; 16])>,
    held: HashMap<NodeId, usize>,
    per_origin: usize,
    max_age_ms: u64,
}

impl ReplayGuard {
    /// A guard for envelopes accepted under `freshness`, holding at most `per_origin` ids of
    /// each origin.
    pub fn new(freshness: Freshness, per_origin: usize) -> Self {
        Self {
            seen: HashMap::new(),
            order: VecDeque::new(),
            held: HashMap::new(),
            per_origin,
            max_age_ms: freshness.max_age_ms,
        }
    }

    /// Records `header`'s id; `Err(Replay)` if it was already recorded.
    pub fn check(&mut self, header: &Header, now_ms: u64) -> Result<(), DropReason> {
        self.forget_expired(now_ms);
        self.record(header)
    }

    /// Forgets the ids whose envelopes would now be refused as expired, giving their origins'
    /// budget back.
    fn forget_expired(&mut self, now_ms: u64) {
        while let Some(&(expires, origin, id)) = self.order.front() {
            if expires >= now_ms {
                break;
            }
            self.order.pop_front();
            if self.seen.get(&(origin, id)) == Some(&expires) {
                self.seen.remove(&(origin, id));
                if let Some(held) = self.held.get_mut(&origin) {
                    *held -= 1;
                    if *held == 0 {
                        self.held.remove(&origin);
                    }
                }
            }
        }
    }

    /// Remembers `header`'s id until its envelope expires, unless it is already remembered
    /// (`Replay`) or its origin's budget is used up (`Backpressure`).
    fn record(&mut self, header: &Header) -> Result<(), DropReason> {
        let key = (header.origin, header.id);
        if self.seen.contains_key(&key) {
            return Err(DropReason::Replay);
        }
        let held = self.held.entry(header.origin).or_default();
        if *held >= self.per_origin {
            return Err(DropReason::Backpressure);
        }
        *held += 1;
        // Kept monotonic so the queue stays ordered by expiry; an envelope that arrives out
        // of creation order is only remembered a little longer than it needs to be.
        let expires = header
            .created_at_ms
            .saturating_add(self.max_age_ms)
            .max(self.order.back().map_or(0, |last| last.0));
        self.seen.insert(key, expires);
        self.order.push_back((expires, header.origin, header.id));
        Ok(())
    }

    /// How many ids are remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// True when no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}
