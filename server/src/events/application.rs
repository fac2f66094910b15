//! The events use cases: one method each, every one scoped to the caller's account.
use super::{
    EventsError, consumers,
    store::{ConsumerRecord, EventStore, Handed, Outgoing, Settle, SqliteEvents},
    topics,
};
use app::types::{
    events::{
        ConsumerView, DeliverFrom, Delivery, EventsOverview, FetchRequest, MessageView, NewConsumer,
        NewMessage, Published, ReplayQuery, Settle as SettleInput, dead_letter,
    },
    ids::{AccountId, ConsumerId},
};
use chrono::Utc;
use sea_orm::DatabaseConnection;
use std::{collections::BTreeMap, sync::Arc, time::Duration};

type Result<T> = std::result::Result<T, EventsError>;

/// The largest payload, in bytes.
pub const MAX_DATA_BYTES: usize = 256 * 1024;
/// The most headers, and their names' and values' longest.
pub const MAX_HEADERS: usize = 16;
pub const MAX_HEADER_NAME: usize = 64;
pub const MAX_HEADER_VALUE: usize = 1024;
/// The longest message id.
pub const MAX_MSG_ID: usize = 128;
/// The most messages a replay returns, and the default.
pub const MAX_REPLAY: u64 = 100;
/// How many of an account's messages a consumer's lag is counted over, at most.
const LAG_SCAN: u64 = 10_000;
/// How many of an account's newest messages the overview looks through, at most.
const RECENT_SCAN: u64 = 5_000;
/// How many recent messages (and dead letters) the overview shows.
pub const RECENT: usize = 50;

/// How long messages are kept and how duplicates are told.
#[derive(Clone, Debug)]
pub struct EventSettings {
    /// Messages older than this are forgotten.
    pub max_age: Duration,
    /// Each account keeps at most this many messages (the oldest go first).
    pub keep_per_account: u64,
    /// Each account's messages' data add up to at most this many bytes (the oldest go first).
    pub max_bytes_per_account: u64,
    /// A message id published again within this window stores nothing.
    pub dedupe_window: Duration,
    /// How often retention runs.
    pub prune_every: Duration,
}

impl Default for EventSettings {
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(7 * 24 * 3600),
            keep_per_account: 100_000,
            max_bytes_per_account: 64 * 1024 * 1024,
            dedupe_window: Duration::from_secs(120),
            prune_every: Duration::from_secs(60),
        }
    }
}

/// The event log's façade.
pub struct Events {
    store: Arc<dyn EventStore>,
    settings: EventSettings,
}

fn since(window: Duration) -> chrono::DateTime<Utc> {
    Utc::now() - chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX)
}

/// Checks a message's size, id and headers.
fn check_message(input: &NewMessage) -> Result<()> {
    if input.data.len() > MAX_DATA_BYTES {
        return Err(EventsError::TooLarge(format!(
            "A message's data is at most {} KiB.",
            MAX_DATA_BYTES / 1024
        )));
    }
    if input.msg_id.as_ref().is_some_and(|id| id.is_empty() || id.chars().count() > MAX_MSG_ID) {
        return Err(EventsError::field("msg_id", &format!("1 to {MAX_MSG_ID} characters.")));
    }
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.len() <= MAX_HEADER_NAME
            && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if input.headers.len() > MAX_HEADERS
        || !input.headers.iter().all(|(k, v)| name_ok(k) && v.chars().count() <= MAX_HEADER_VALUE)
    {
        return Err(EventsError::field(
            "headers",
            &format!(
                "Up to {MAX_HEADERS} headers; names of 1 to {MAX_HEADER_NAME} letters, digits, '-' or '_', \
                 values up to {MAX_HEADER_VALUE} characters."
            ),
        ));
    }
    Ok(())
}

impl Events {
    pub fn new(store: Arc<dyn EventStore>, settings: EventSettings) -> Self {
        Self { store, settings }
    }

    /// The embedded backend on the platform's database.
    pub fn sqlite(db: DatabaseConnection, settings: EventSettings) -> Self {
        Self::new(Arc::new(SqliteEvents::new(db)), settings)
    }

    /// Publishes the account's message on one of its topics (`acct.<its id>.…`).
    pub async fn publish(&self, account: &AccountId, topic: &str, input: NewMessage) -> Result<Published> {
        topics::publishable(account, topic)?;
        check_message(&input)?;
        let outgoing = Outgoing {
            topic: topic.to_owned(),
            data: input.data,
            headers: input.headers,
            msg_id: input.msg_id,
        };
        self.store_message(account, outgoing).await
    }

    pub(super) async fn store_message(&self, account: &AccountId, outgoing: Outgoing) -> Result<Published> {
        let (stored, duplicate) =
            self.store.publish(account, outgoing, Utc::now(), since(self.settings.dedupe_window)).await?;
        Ok(Published { seq: stored.seq, topic: stored.topic, duplicate })
    }

    /// The account's messages after a sequence number or since a time, on topics `filter`
    /// matches (everything by default). Moves no consumer.
    pub async fn replay(&self, account: &AccountId, query: ReplayQuery) -> Result<Vec<MessageView>> {
        let filter = match &query.filter {
            Some(filter) => topics::readable(account, filter)?,
            None => topics::Filter::everything(),
        };
        let limit = query.limit.unwrap_or(MAX_REPLAY);
        if !(1..=MAX_REPLAY).contains(&limit) {
            return Err(EventsError::field("limit", &format!("Between 1 and {MAX_REPLAY}.")));
        }
        let after = match (query.after_seq, query.since) {
            (Some(_), Some(_)) => {
                return Err(EventsError::field("since", "Give after_seq or since, not both."));
            }
            (Some(seq), None) => seq,
            (None, Some(time)) => self.store.seq_before(account, time).await?,
            (None, None) => 0,
        };
        self.store.read(account, after, &filter, limit as usize).await
    }

    /// What the portal's events page shows: the newest messages (on topics `filter` matches),
    /// the consumers with their lag, and the newest dead letters.
    pub async fn overview(&self, account: &AccountId, filter: Option<&str>) -> Result<EventsOverview> {
        let filter = match filter.map(str::trim).filter(|f| !f.is_empty()) {
            Some(filter) => topics::readable(account, filter)?,
            None => topics::Filter::everything(),
        };
        let dead = topics::Filter::parse(&format!("{}.>", topics::DEAD_LETTERS))
            .map_err(|e| EventsError::Internal(anyhow::anyhow!("the dead-letter filter: {e}")))?;
        Ok(EventsOverview {
            recent: self.store.recent(account, &filter, RECENT, RECENT_SCAN).await?,
            consumers: self.list_consumers(account).await?,
            dead_letters: self.store.recent(account, &dead, RECENT, RECENT_SCAN).await?,
        })
    }

    /// Every message of the account after `after_seq`, at most `limit`, oldest first (what
    /// the webhooks dispatcher matches against an endpoint's filters).
    pub async fn after(&self, account: &AccountId, after_seq: i64, limit: usize) -> Result<Vec<MessageView>> {
        self.store.read(account, after_seq, &topics::Filter::everything(), limit).await
    }

    /// The sequence number just before the account's first message at or after `time`.
    pub async fn seq_before(&self, account: &AccountId, time: chrono::DateTime<Utc>) -> Result<i64> {
        self.store.seq_before(account, time).await
    }

    /// The newest sequence number of the log.
    pub async fn last_seq(&self) -> Result<i64> {
        self.store.last_seq().await
    }

    /// Creates a durable consumer.
    pub async fn create_consumer(&self, account: &AccountId, input: NewConsumer) -> Result<ConsumerView> {
        let settings = consumers::settings(&input)?;
        topics::readable(account, &input.filter)?;
        if self.store.count_consumers(account).await? >= consumers::MAX_CONSUMERS {
            return Err(EventsError::ConsumerLimitReached(consumers::MAX_CONSUMERS));
        }
        let cursor = match input.deliver {
            DeliverFrom::All => 0,
            DeliverFrom::New => self.store.last_seq().await?,
            DeliverFrom::Seq { seq } => seq.saturating_sub(1).max(0),
            DeliverFrom::Time { time } => self.store.seq_before(account, time).await?,
        };
        let record = ConsumerRecord {
            id: ConsumerId::new(uuid::Uuid::now_v7().to_string()),
            account: account.clone(),
            name: input.name,
            filter: input.filter,
            settings,
            cursor,
            created_at: Utc::now(),
        };
        self.store.add_consumer(record.clone()).await?;
        self.consumer_view(record).await
    }

    /// The account's consumers by name.
    pub async fn list_consumers(&self, account: &AccountId) -> Result<Vec<ConsumerView>> {
        let mut views = Vec::new();
        for record in self.store.consumers(account).await? {
            views.push(self.consumer_view(record).await?);
        }
        Ok(views)
    }

    /// One of the account's consumers.
    pub async fn get_consumer(&self, account: &AccountId, name: &str) -> Result<ConsumerView> {
        let record = self.record(account, name).await?;
        self.consumer_view(record).await
    }

    /// Deletes one of the account's consumers and what it had not settled.
    pub async fn delete_consumer(&self, account: &AccountId, name: &str) -> Result<()> {
        if self.store.delete_consumer(account, name).await? {
            Ok(())
        } else {
            Err(EventsError::NotFound("consumer"))
        }
    }

    /// Hands the consumer up to `batch` messages: those due again first, then new ones.
    pub async fn fetch(
        &self,
        account: &AccountId,
        name: &str,
        request: FetchRequest,
    ) -> Result<Vec<Delivery>> {
        let batch = request.batch.unwrap_or(consumers::DEFAULT_BATCH);
        if !(1..=consumers::MAX_BATCH).contains(&batch) {
            return Err(EventsError::field("batch", &format!("Between 1 and {}.", consumers::MAX_BATCH)));
        }
        let record = self.record(account, name).await?;
        let handed = self.store.fetch(&record, batch as usize, Utc::now()).await?;
        Ok(handed
            .into_iter()
            .map(|Handed { message, delivery, due_at }| Delivery { message, delivery, ack_by: due_at })
            .collect())
    }

    /// Done with a delivery.
    pub async fn ack(&self, account: &AccountId, name: &str, seq: i64) -> Result<()> {
        self.settle(account, name, seq, Settle::Ack).await
    }

    /// Hand a delivery out again, after `delay_ms` if given.
    pub async fn nak(&self, account: &AccountId, name: &str, seq: i64, input: SettleInput) -> Result<()> {
        let delay = Duration::from_millis(u64::from(input.delay_ms.unwrap_or(0).min(consumers::MAX_WAIT_MS)));
        let due_at = Utc::now() + delay;
        self.settle(account, name, seq, Settle::Nak { due_at }).await
    }

    /// Never hand a delivery out again: it goes to the dead-letter topic with the reason.
    pub async fn term(&self, account: &AccountId, name: &str, seq: i64, input: SettleInput) -> Result<()> {
        let reason = input
            .reason
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| "terminated by the consumer".into());
        if reason.chars().count() > MAX_HEADER_VALUE {
            return Err(EventsError::field("reason", &format!("Up to {MAX_HEADER_VALUE} characters.")));
        }
        self.settle(account, name, seq, Settle::Term { reason }).await
    }

    async fn settle(&self, account: &AccountId, name: &str, seq: i64, how: Settle) -> Result<()> {
        let record = self.record(account, name).await?;
        if self.store.settle(&record, seq, how, Utc::now()).await? {
            Ok(())
        } else {
            Err(EventsError::NotFound("unsettled delivery"))
        }
    }

    /// Publishes a dead letter again on the topic it came from, without its `dlq-*` headers.
    pub async fn republish(&self, account: &AccountId, seq: i64) -> Result<Published> {
        let letter = self.store.message(account, seq).await?.ok_or(EventsError::NotFound("message"))?;
        let topic = letter.headers.get(dead_letter::TOPIC).filter(|_| letter.topic.starts_with("dlq."));
        let Some(topic) = topic.cloned() else {
            return Err(EventsError::field(
                "seq",
                "Only a dead letter (a message on dlq.…) can be published again.",
            ));
        };
        let headers: BTreeMap<String, String> =
            letter.headers.into_iter().filter(|(k, _)| !k.starts_with("dlq-")).collect();
        self.store_message(account, Outgoing { topic, data: letter.data, headers, msg_id: None }).await
    }

    /// Forgets what retention says to; answers how many messages went.
    pub async fn prune(&self) -> Result<u64> {
        let settings = &self.settings;
        self.store
            .prune(since(settings.max_age), settings.keep_per_account, settings.max_bytes_per_account)
            .await
    }

    /// Runs retention every `prune_every` until the task is aborted.
    pub fn start(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let events = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(events.settings.prune_every);
            loop {
                tick.tick().await;
                if let Err(err) = events.prune().await {
                    tracing::warn!(error = %err, "event retention failed");
                }
            }
        })
    }

    async fn record(&self, account: &AccountId, name: &str) -> Result<ConsumerRecord> {
        self.store.consumer(account, name).await?.ok_or(EventsError::NotFound("consumer"))
    }

    async fn consumer_view(&self, record: ConsumerRecord) -> Result<ConsumerView> {
        let pending = self.store.pending(&record.id).await?;
        let lag = self.store.lag(&record, LAG_SCAN).await?;
        Ok(ConsumerView {
            lag,
            dead_letter_topic: topics::dead_letter_topic(&record.name),
            id: record.id,
            name: record.name,
            filter: record.filter,
            ack_wait_ms: record.settings.ack_wait_ms,
            backoff_ms: record.settings.backoff_ms,
            max_deliver: record.settings.max_deliver,
            cursor: record.cursor,
            pending,
            created_at: record.created_at,
        })
    }
}
