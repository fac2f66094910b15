//! Durable consumers' rules: their settings and limits, and when an unsettled delivery is
//! handed out again (the ack wait, then the backoff schedule).
use super::{EventsError, topics};
use app::types::events::NewConsumer;
use std::time::Duration;

/// The shortest and longest ack wait or backoff step.
pub const MIN_WAIT_MS: u32 = 100;
pub const MAX_WAIT_MS: u32 = 12 * 60 * 60 * 1000;
/// The ack wait when none is given.
pub const DEFAULT_ACK_WAIT_MS: u32 = 30_000;
/// The most backoff steps.
pub const MAX_BACKOFF_STEPS: usize = 10;
/// Deliveries before a message is dead-lettered, when not given; and the most allowed.
pub const DEFAULT_MAX_DELIVER: u32 = 5;
pub const MAX_MAX_DELIVER: u32 = 100;
/// Consumers per account.
pub const MAX_CONSUMERS: u64 = 100;
/// The most messages one fetch returns, and the default.
pub const MAX_BATCH: u32 = 100;
pub const DEFAULT_BATCH: u32 = 10;

/// A consumer's settings, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub ack_wait_ms: u32,
    pub backoff_ms: Vec<u32>,
    pub max_deliver: u32,
}

/// Checks a new consumer's name, filter and settings (every problem at once).
pub fn settings(input: &NewConsumer) -> Result<Settings, EventsError> {
    let mut fields = std::collections::BTreeMap::new();
    let name_ok = !input.name.is_empty()
        && input.name.len() <= 64
        && input.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !name_ok {
        fields.insert("name".into(), "1 to 64 letters, digits, '_' or '-'.".into());
    }
    if let Err(message) = topics::Filter::parse(&input.filter) {
        fields.insert("filter".into(), message);
    }
    let wait_ok = |ms: u32| (MIN_WAIT_MS..=MAX_WAIT_MS).contains(&ms);
    let ack_wait_ms = input.ack_wait_ms.unwrap_or(DEFAULT_ACK_WAIT_MS);
    if !wait_ok(ack_wait_ms) {
        fields.insert("ack_wait_ms".into(), format!("Between {MIN_WAIT_MS} ms and 12 hours."));
    }
    let backoff_ms = input.backoff_ms.clone().unwrap_or_default();
    if backoff_ms.len() > MAX_BACKOFF_STEPS || !backoff_ms.iter().all(|ms| wait_ok(*ms)) {
        fields.insert(
            "backoff_ms".into(),
            format!("Up to {MAX_BACKOFF_STEPS} steps, each between {MIN_WAIT_MS} ms and 12 hours."),
        );
    }
    let max_deliver = input.max_deliver.unwrap_or(DEFAULT_MAX_DELIVER);
    if !(1..=MAX_MAX_DELIVER).contains(&max_deliver) {
        fields.insert("max_deliver".into(), format!("Between 1 and {MAX_MAX_DELIVER}."));
    }
    if !fields.is_empty() {
        return Err(EventsError::Invalid(fields));
    }
    Ok(Settings { ack_wait_ms, backoff_ms, max_deliver })
}

/// How long the `delivery`-th hand-out of a message (1 for the first) waits for its ack:
/// the ack wait the first time; then the backoff schedule in order, its last step repeating
/// (the ack wait again when there is none).
pub fn ack_wait(delivery: u32, ack_wait_ms: u32, backoff_ms: &[u32]) -> Duration {
    let ms = match (delivery, backoff_ms.last()) {
        (0 | 1, _) | (_, None) => ack_wait_ms,
        (n, Some(last)) => backoff_ms.get(n as usize - 2).copied().unwrap_or(*last),
    };
    Duration::from_millis(u64::from(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_delivery_waits_the_ack_wait_then_the_backoff_steps_in_order_the_last_repeating() {
        let backoff = [1_000, 5_000, 30_000];
        let waits: Vec<u64> = (1..=6).map(|n| ack_wait(n, 200, &backoff).as_millis() as u64).collect();
        assert_eq!(waits, [200, 1_000, 5_000, 30_000, 30_000, 30_000]);
        assert_eq!(ack_wait(4, 750, &[]), Duration::from_millis(750), "no backoff: the ack wait each time");
    }

    #[test]
    fn settings_are_checked_together() {
        let input = NewConsumer {
            name: "bad name".into(),
            filter: "a.>.b".into(),
            deliver: Default::default(),
            ack_wait_ms: Some(5),
            backoff_ms: Some(vec![100; 11]),
            max_deliver: Some(0),
        };
        let Err(EventsError::Invalid(fields)) = settings(&input) else { panic!("refused") };
        let named: Vec<&str> = fields.keys().map(String::as_str).collect();
        assert_eq!(named, ["ack_wait_ms", "backoff_ms", "filter", "max_deliver", "name"]);
        let good = NewConsumer { name: "worker-1".into(), filter: "acct.x.>".into(), ..input };
        let good = NewConsumer { ack_wait_ms: None, backoff_ms: None, max_deliver: None, ..good };
        assert_eq!(
            settings(&good).unwrap(),
            Settings {
                ack_wait_ms: DEFAULT_ACK_WAIT_MS,
                backoff_ms: vec![],
                max_deliver: DEFAULT_MAX_DELIVER
            }
        );
    }
}
