//! The data pages: KV buckets and their keys (`kv`), the event log (`events`).
mod events;
mod kv;

pub use events::EventsPage;
pub use kv::{KvBucketPage, KvPage};

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
