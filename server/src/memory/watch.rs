//! Watching a bucket: the changes written after a revision (read from the store), then the
//! live ones as they are committed — JetStream KV's `Watch` with `IncludeHistory` from a
//! sequence. A backend publishes every committed entry (puts, delete and purge markers, the
//! sweeper's expiry markers) on a process-wide [`Feed`]; [`start`] turns that feed and the
//! backend's [`Backlog`] into one stream per watcher.
//!
//! Decisions:
//! - **No gap, no duplicate.** A watcher subscribes to the feed *before* it reads the store;
//!   whatever the read returned is sent, and a live entry at or below the last revision sent
//!   is skipped. That needs the feed in commit order per bucket: the SQLite backend publishes
//!   while it still holds its write lock.
//! - **Bounded.** Each watcher has a buffer of `buffer` changes between the feed and its
//!   connection. A live change that finds it full, or a feed that overran the watcher
//!   (`broadcast` lagged), ends the watcher: what is buffered is still sent, then one
//!   [`Watched::Lagged`] with the last revision sent, so the client resumes from there. A
//!   client that stops reading therefore holds at most its buffer. While the backlog is read
//!   the watcher waits for its client instead (the backlog is the client's to read at its
//!   pace), holding only its buffer and its place in the feed.
pub use super::store::{Event, Filter, Watch};
use super::{
    MemoryError,
    store::{Bucket, Entry},
};
use app::types::{ids::BucketId, memory::KvEntryView};
use std::sync::{Arc, OnceLock};
use tokio::sync::{broadcast, mpsc};

/// Changes the feed keeps for watchers that have not taken them yet; a watcher further
/// behind than this has lagged.
pub const FEED_CAPACITY: usize = 4096;
/// Entries read from the store at a time while catching up.
const BACKLOG_PAGE: u64 = 256;

/// One committed entry of a bucket, as the feed carries it.
#[derive(Clone, Debug)]
pub struct Change {
    pub bucket: BucketId,
    pub entry: Entry,
}

/// What a watcher's client receives (the entries as the rest of the API shows them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Watched {
    Change(KvEntryView),
    CaughtUp { revision: u64 },
    Lagged { last_revision: u64 },
}

/// The process-wide feed of committed entries.
#[derive(Clone)]
pub struct Feed(broadcast::Sender<Arc<Change>>);

impl Default for Feed {
    fn default() -> Self {
        Self(broadcast::channel(FEED_CAPACITY).0)
    }
}

impl Feed {
    /// Tells the watchers of `change` (nothing happens without any).
    pub fn publish(&self, change: Change) {
        if self.0.receiver_count() > 0 {
            let _ = self.0.send(Arc::new(change));
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.0.subscribe()
    }
}

/// How a backend reads what a watcher missed.
#[async_trait::async_trait]
pub trait Backlog: Send + Sync + 'static {
    /// Up to `limit` kept entries of `bucket` after revision `after` whose key `filter`
    /// matches, oldest first.
    async fn after(
        &self,
        bucket: &Bucket,
        filter: &Filter,
        after: u64,
        limit: u64,
    ) -> Result<Vec<Entry>, MemoryError>;
    /// The newest revision written in `bucket`.
    async fn revision(&self, bucket: &Bucket) -> Result<u64, MemoryError>;
}

/// Starts a watcher of `bucket` on `live` (subscribed before anything was read): from the
/// store after `from`, then live; or, with `from` `None`, live changes after `now` (the
/// bucket's revision read after subscribing).
pub fn start(
    live: broadcast::Receiver<Arc<Change>>,
    backlog: impl Backlog,
    bucket: Bucket,
    filter: Filter,
    from: Result<u64, u64>,
    buffer: usize,
) -> Watch {
    let (tx, rx) = mpsc::channel(buffer.max(1));
    let lagged = Arc::new(OnceLock::new());
    tokio::spawn(run(live, backlog, bucket, filter, from, tx, lagged.clone()));
    Box::pin(futures::stream::unfold((rx, lagged, false), |(mut rx, lagged, told)| async move {
        if told {
            return None;
        }
        match rx.recv().await {
            Some(event) => Some((event, (rx, lagged, false))),
            None => {
                let last_revision = *lagged.get()?;
                Some((Event::Lagged { last_revision }, (rx, lagged, true)))
            }
        }
    }))
}

/// The watcher's task: `from` is `Ok(revision)` to send the store's entries after it first,
/// `Err(revision)` to start live after it.
async fn run(
    mut live: broadcast::Receiver<Arc<Change>>,
    backlog: impl Backlog,
    bucket: Bucket,
    filter: Filter,
    from: Result<u64, u64>,
    tx: mpsc::Sender<Event>,
    lagged: Arc<OnceLock<u64>>,
) {
    let mut sent = match from {
        Ok(revision) | Err(revision) => revision,
    };
    if from.is_ok() {
        // Every entry up to the revision read here is committed, so the reads below cover it
        // even where the filter leaves nothing to send: `caught_up` names it.
        let covered = match backlog.revision(&bucket).await {
            Ok(revision) => revision,
            Err(err) => {
                tracing::warn!(bucket = %bucket.id, error = %err, "reading a watched bucket failed");
                return;
            }
        };
        loop {
            let page = match backlog.after(&bucket, &filter, sent, BACKLOG_PAGE).await {
                Ok(page) => page,
                Err(err) => {
                    tracing::warn!(bucket = %bucket.id, error = %err, "reading a watcher's backlog failed");
                    return;
                }
            };
            let full = page.len() as u64 == BACKLOG_PAGE;
            for entry in page {
                let revision = entry.revision;
                if tx.send(Event::Entry(entry)).await.is_err() {
                    return;
                }
                sent = revision;
            }
            if !full {
                break;
            }
        }
        sent = sent.max(covered);
    }
    if tx.send(Event::CaughtUp { revision: sent }).await.is_err() {
        return;
    }
    loop {
        let change = tokio::select! {
            () = tx.closed() => return,
            change = live.recv() => change,
        };
        let change = match change {
            Ok(change) => change,
            Err(broadcast::error::RecvError::Lagged(_)) => {
                let _ = lagged.set(sent);
                return;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let entry = &change.entry;
        if change.bucket != bucket.id || entry.revision <= sent || !filter.matches(&entry.key) {
            continue;
        }
        match tx.try_send(Event::Entry(entry.clone())) {
            Ok(()) => sent = entry.revision,
            Err(mpsc::error::TrySendError::Full(_)) => {
                let _ = lagged.set(sent);
                return;
            }
            Err(mpsc::error::TrySendError::Closed(_)) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::types::{ids::AccountId, memory::KvOperation};
    use futures::StreamExt;

    fn bucket() -> Bucket {
        Bucket {
            id: BucketId::new("b1"),
            account_id: AccountId::new("a1"),
            name: "b".into(),
            history: 1,
            max_value_bytes: 10,
            revision: 0,
            live_keys: 0,
            created_at: chrono::Utc::now(),
        }
    }

    fn entry(key: &str, revision: u64) -> Entry {
        Entry {
            key: key.into(),
            revision,
            operation: KvOperation::Put,
            value: vec![1],
            created_at: chrono::Utc::now(),
            expires_at: None,
        }
    }

    /// A store whose backlog is fixed.
    struct Fixed(Vec<Entry>);

    #[async_trait::async_trait]
    impl Backlog for Fixed {
        async fn after(
            &self,
            _: &Bucket,
            f: &Filter,
            after: u64,
            limit: u64,
        ) -> Result<Vec<Entry>, MemoryError> {
            let it = self.0.iter().filter(|e| e.revision > after && f.matches(&e.key));
            Ok(it.take(limit as usize).cloned().collect())
        }

        async fn revision(&self, _: &Bucket) -> Result<u64, MemoryError> {
            Ok(self.0.iter().map(|e| e.revision).max().unwrap_or_default())
        }
    }

    fn change(key: &str, revision: u64) -> Change {
        Change { bucket: BucketId::new("b1"), entry: entry(key, revision) }
    }

    #[tokio::test]
    async fn the_backlog_then_caught_up_then_live_changes_without_repeating_one() {
        let feed = Feed::default();
        let live = feed.subscribe();
        // Revision 3 was written after the subscription but is also in the backlog.
        feed.publish(change("a", 3));
        let backlog = Fixed(vec![entry("a", 2), entry("x", 3)]);
        let filter = Filter::Prefix(String::new());
        let mut watch = start(live, backlog, bucket(), filter, Ok(1), 8);
        feed.publish(Change { bucket: BucketId::new("other"), entry: entry("a", 4) });
        feed.publish(change("b", 4));

        let got: Vec<Event> = watch.by_ref().take(4).collect().await;

        let revisions: Vec<_> = got
            .iter()
            .map(|e| match e {
                Event::Entry(e) => e.revision,
                Event::CaughtUp { revision } => 100 + revision,
                Event::Lagged { .. } => 0,
            })
            .collect();
        assert_eq!(revisions, [2, 3, 103, 4]);
    }

    #[tokio::test]
    async fn a_watcher_whose_buffer_fills_is_told_it_lagged_with_the_last_revision_it_was_sent() {
        let feed = Feed::default();
        let mut watch =
            start(feed.subscribe(), Fixed(vec![]), bucket(), Filter::Prefix("".into()), Err(0), 2);
        // The caught-up event takes one slot; one change fits, the next does not.
        tokio::task::yield_now().await;
        for revision in 1..=5 {
            feed.publish(change("k", revision));
            tokio::task::yield_now().await;
        }

        let got: Vec<Event> = watch.by_ref().collect().await;

        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0], Event::CaughtUp { revision: 0 });
        assert!(matches!(&got[1], Event::Entry(e) if e.revision == 1));
        assert_eq!(got[2], Event::Lagged { last_revision: 1 });
    }
}
