//! Join challenges: random nonces a joining node must sign to prove it holds its key. Kept in
//! memory (they live a minute), bounded: when full, new challenges are refused (the caller
//! answers 503) rather than old ones evicted early.
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Outstanding challenges.
pub struct Challenges {
    open: Mutex<HashMap<[u8; 32], Instant>>,
    ttl: Duration,
    capacity: usize,
}

impl Challenges {
    /// A store whose challenges expire after `ttl`, holding at most `capacity`.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self { open: Mutex::new(HashMap::new()), ttl, capacity }
    }

    /// How long a challenge stays valid.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A new challenge, or `None` when too many are outstanding.
    pub fn issue(&self) -> Option<[u8; 32]> {
        let now = Instant::now();
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.retain(|_, expires| *expires > now);
        if open.len() >= self.capacity {
            return None;
        }
        let challenge: [u8; 32] = rand::random();
        open.insert(challenge, now + self.ttl);
        Some(challenge)
    }

    /// Consumes `challenge`: true once, if it was issued and has not expired.
    pub fn take(&self, challenge: &[u8]) -> bool {
        let Ok(key) = <[u8; 32]>::try_from(challenge) else { return false };
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.remove(&key).is_some_and(|expires| expires > Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_challenge_can_be_used_once() {
        let c = Challenges::new(Duration::from_secs(60), 10);
        let nonce = c.issue().unwrap();
        assert!(c.take(&nonce));
        assert!(!c.take(&nonce));
        assert!(!c.take(&[0; 32]));
        assert!(!c.take(b"short"));
    }

    #[test]
    fn expired_challenges_are_refused() {
        let c = Challenges::new(Duration::from_millis(0), 10);
        let nonce = c.issue().unwrap();
        std::thread::sleep(Duration::from_millis(2));
        assert!(!c.take(&nonce));
    }

    #[test]
    fn a_full_store_refuses_new_challenges() {
        let c = Challenges::new(Duration::from_secs(60), 2);
        assert!(c.issue().is_some());
        assert!(c.issue().is_some());
        assert!(c.issue().is_none());
    }
}
