//! The data pages: KV buckets and their keys (`kv`), the event log (`events`), webhooks
//! (`webhooks`).
mod events;
mod kv;
mod webhooks;

pub use events::EventsPage;
pub use kv::{KvBucketPage, KvPage};
pub use webhooks::{WebhookPage, WebhooksPage};

/// The first `n` characters of `text`, with "…" when it was longer.
fn clip(text: &str, n: usize) -> String {
    match text.char_indices().nth(n) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn clip_cuts_at_a_character_boundary() {
        assert_eq!(super::clip("héllo", 2), "hé…");
        assert_eq!(super::clip("hé", 2), "hé");
    }
}
