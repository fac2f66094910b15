//! Where the log lives: [`EventStore`], shaped after a NATS JetStream stream with durable pull
//! consumers (publish with a message id deduplicated in a window, read from a sequence, fetch,
//! ack / nak with a delay / term, redelivery, a maximum delivery count), so a JetStream backend
//! can take its place without touching the façade; and [`SqliteEvents`], the embedded backend
//! on the platform's database (durable once a call returns, transactional).
use super::{EventsError, consumers, topics};
use crate::db::{
    self,
    entities::{event_consumers, event_deliveries, event_messages},
};
use app::types::{
    events::{MessageView, dead_letter},
    ids::{AccountId, ConsumerId},
};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::NotSet, DatabaseConnection, Set, TransactionTrait};
use std::collections::BTreeMap;

type Result<T> = std::result::Result<T, EventsError>;

/// A message to store.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub topic: String,
    pub data: String,
    pub headers: BTreeMap<String, String>,
    pub msg_id: Option<String>,
}

/// A durable consumer as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerRecord {
    pub id: ConsumerId,
    pub account: AccountId,
    pub name: String,
    pub filter: String,
    pub settings: consumers::Settings,
    /// The last sequence number handed out or passed over.
    pub cursor: i64,
    pub created_at: DateTime<Utc>,
}

/// A message handed to a consumer.
#[derive(Clone, Debug)]
pub struct Handed {
    pub message: MessageView,
    pub delivery: u32,
    pub due_at: DateTime<Utc>,
}

/// How a consumer settles a delivery.
#[derive(Clone, Debug)]
pub enum Settle {
    /// Done with it.
    Ack,
    /// Hand it out again at `due_at`.
    Nak { due_at: DateTime<Utc> },
    /// Never again: it goes to the dead-letter topic with `reason`.
    Term { reason: String },
}

/// The event log's storage.
#[async_trait::async_trait]
pub trait EventStore: Send + Sync {
    /// Stores `message` for `account` at `now`, unless its message id was stored since
    /// `dedupe_since`: then answers that message, and `true`.
    async fn publish(
        &self,
        account: &AccountId,
        message: Outgoing,
        now: DateTime<Utc>,
        dedupe_since: DateTime<Utc>,
    ) -> Result<(MessageView, bool)>;
    /// The account's messages after `after_seq` whose topic `filter` matches, at most `limit`.
    async fn read(
        &self,
        account: &AccountId,
        after_seq: i64,
        filter: &topics::Filter,
        limit: usize,
    ) -> Result<Vec<MessageView>>;
    /// The account's newest messages matching `filter`, newest first, looking at no more than
    /// `scan` of its messages.
    async fn recent(
        &self,
        account: &AccountId,
        filter: &topics::Filter,
        limit: usize,
        scan: u64,
    ) -> Result<Vec<MessageView>>;
    /// How many of the account's messages after the consumer's cursor its filter matches,
    /// looking at no more than `scan` messages.
    async fn lag(&self, consumer: &ConsumerRecord, scan: u64) -> Result<u64>;
    /// One of the account's messages.
    async fn message(&self, account: &AccountId, seq: i64) -> Result<Option<MessageView>>;
    /// The sequence number just before the account's first message at or after `time`.
    async fn seq_before(&self, account: &AccountId, time: DateTime<Utc>) -> Result<i64>;
    /// The newest sequence number of the log.
    async fn last_seq(&self) -> Result<i64>;
    /// Adds a consumer; [`EventsError::ConsumerExists`] when the account has one by that name.
    async fn add_consumer(&self, consumer: ConsumerRecord) -> Result<()>;
    async fn consumer(&self, account: &AccountId, name: &str) -> Result<Option<ConsumerRecord>>;
    async fn consumers(&self, account: &AccountId) -> Result<Vec<ConsumerRecord>>;
    async fn count_consumers(&self, account: &AccountId) -> Result<u64>;
    /// Deliveries the consumer has not settled.
    async fn pending(&self, consumer: &ConsumerId) -> Result<u64>;
    /// Deletes a consumer and its deliveries; false when there was none.
    async fn delete_consumer(&self, account: &AccountId, name: &str) -> Result<bool>;
    /// Hands out up to `batch` messages: first those due again (dead-lettering any past the
    /// maximum delivery count), then new ones matching the filter.
    async fn fetch(&self, consumer: &ConsumerRecord, batch: usize, now: DateTime<Utc>)
    -> Result<Vec<Handed>>;
    /// Settles a delivery; false when the consumer has no such unsettled delivery.
    async fn settle(
        &self,
        consumer: &ConsumerRecord,
        seq: i64,
        how: Settle,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// Forgets messages published before `before`, then all but each account's newest `keep`,
    /// then the oldest of an account whose messages' data pass `max_bytes`; answers how many.
    async fn prune(&self, before: DateTime<Utc>, keep: u64, max_bytes: u64) -> Result<u64>;
}

/// The embedded backend: the platform's SQLite database.
pub struct SqliteEvents {
    db: DatabaseConnection,
}

impl SqliteEvents {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn view(row: event_messages::Model) -> MessageView {
    MessageView {
        seq: row.seq,
        topic: row.topic,
        data: row.data,
        headers: row.headers.0,
        msg_id: row.msg_id,
        published_at: row.published_at,
    }
}

fn record(row: event_consumers::Model) -> Result<ConsumerRecord> {
    let number = |v: i64, what: &str| {
        u32::try_from(v)
            .map_err(|_| EventsError::Internal(anyhow::anyhow!("stored {what} {v} is out of range")))
    };
    Ok(ConsumerRecord {
        settings: consumers::Settings {
            ack_wait_ms: number(row.ack_wait_ms, "ack wait")?,
            backoff_ms: row.backoff_ms.0,
            max_deliver: number(i64::from(row.max_deliver), "max deliver")?,
        },
        id: row.id,
        account: row.account_id,
        name: row.name,
        filter: row.filter,
        cursor: row.cursor,
        created_at: row.created_at,
    })
}

fn message_row(account: &AccountId, message: Outgoing, now: DateTime<Utc>) -> event_messages::ActiveModel {
    event_messages::ActiveModel {
        seq: NotSet,
        account_id: Set(account.clone()),
        topic: Set(message.topic),
        data: Set(message.data),
        headers: Set(event_messages::Headers(message.headers)),
        msg_id: Set(message.msg_id),
        published_at: Set(now),
    }
}

/// Puts `message` on the consumer's dead-letter topic with why and after how many deliveries.
async fn dead_letter(
    db: &impl sea_orm::ConnectionTrait,
    consumer: &ConsumerRecord,
    message: MessageView,
    deliveries: i32,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut headers = message.headers;
    headers.insert(dead_letter::REASON.into(), reason.into());
    headers.insert(dead_letter::DELIVERIES.into(), deliveries.to_string());
    headers.insert(dead_letter::TOPIC.into(), message.topic);
    headers.insert(dead_letter::SEQ.into(), message.seq.to_string());
    headers.insert(dead_letter::CONSUMER.into(), consumer.name.clone());
    let outgoing = Outgoing {
        topic: topics::dead_letter_topic(&consumer.name),
        data: message.data,
        headers,
        msg_id: None,
    };
    db::events::insert_message(db, message_row(&consumer.account, outgoing, now)).await?;
    Ok(())
}

/// How long the store reads ahead per query while matching a filter.
const PAGE: u64 = 500;

#[async_trait::async_trait]
impl EventStore for SqliteEvents {
    async fn publish(
        &self,
        account: &AccountId,
        message: Outgoing,
        now: DateTime<Utc>,
        dedupe_since: DateTime<Utc>,
    ) -> Result<(MessageView, bool)> {
        // One transaction: two publishes of one message id cannot both miss the other.
        let txn = self.db.begin().await?;
        if let Some(id) = &message.msg_id
            && let Some(first) = db::events::recent_with_msg_id(&txn, account, id, dedupe_since).await?
        {
            return Ok((view(first), true));
        }
        let stored = db::events::insert_message(&txn, message_row(account, message, now)).await?;
        txn.commit().await?;
        Ok((view(stored), false))
    }

    async fn read(
        &self,
        account: &AccountId,
        after_seq: i64,
        filter: &topics::Filter,
        limit: usize,
    ) -> Result<Vec<MessageView>> {
        let mut found = Vec::new();
        let mut cursor = after_seq;
        while found.len() < limit {
            let page = db::events::messages_after(&self.db, account, cursor, PAGE).await?;
            let Some(last) = page.last() else { break };
            cursor = last.seq;
            let done = (page.len() as u64) < PAGE;
            found.extend(page.into_iter().filter(|m| filter.matches(&m.topic)).map(view));
            if done {
                break;
            }
        }
        found.truncate(limit);
        Ok(found)
    }

    async fn recent(
        &self,
        account: &AccountId,
        filter: &topics::Filter,
        limit: usize,
        scan: u64,
    ) -> Result<Vec<MessageView>> {
        let mut found = Vec::new();
        let (mut before, mut scanned) = (i64::MAX, 0);
        while found.len() < limit && scanned < scan {
            let page =
                db::events::messages_before(&self.db, account, before, PAGE.min(scan - scanned)).await?;
            let Some(last) = page.last() else { break };
            before = last.seq;
            scanned += page.len() as u64;
            found.extend(page.into_iter().filter(|m| filter.matches(&m.topic)).map(view));
        }
        found.truncate(limit);
        Ok(found)
    }

    async fn lag(&self, consumer: &ConsumerRecord, scan: u64) -> Result<u64> {
        let filter = topics::Filter::parse(&consumer.filter).map_err(|e| {
            EventsError::Internal(anyhow::anyhow!("stored filter {:?}: {e}", consumer.filter))
        })?;
        let (mut after, mut scanned, mut lag) = (consumer.cursor, 0, 0);
        while scanned < scan {
            let page =
                db::events::messages_after(&self.db, &consumer.account, after, PAGE.min(scan - scanned))
                    .await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            scanned += page.len() as u64;
            lag += page.iter().filter(|m| filter.matches(&m.topic)).count() as u64;
        }
        Ok(lag)
    }

    async fn message(&self, account: &AccountId, seq: i64) -> Result<Option<MessageView>> {
        Ok(db::events::message(&self.db, account, seq).await?.map(view))
    }

    async fn seq_before(&self, account: &AccountId, time: DateTime<Utc>) -> Result<i64> {
        Ok(db::events::seq_before(&self.db, account, time).await?)
    }

    async fn last_seq(&self) -> Result<i64> {
        Ok(db::events::last_seq(&self.db).await?)
    }

    async fn add_consumer(&self, consumer: ConsumerRecord) -> Result<()> {
        let row = event_consumers::Model {
            id: consumer.id,
            account_id: consumer.account,
            name: consumer.name,
            filter: consumer.filter,
            ack_wait_ms: i64::from(consumer.settings.ack_wait_ms),
            backoff_ms: event_consumers::Backoff(consumer.settings.backoff_ms),
            max_deliver: i32::try_from(consumer.settings.max_deliver).unwrap_or(i32::MAX),
            cursor: consumer.cursor,
            created_at: consumer.created_at,
        };
        match db::events::insert_consumer(&self.db, row).await {
            Err(err) if db::is_unique_violation(&err) => Err(EventsError::ConsumerExists),
            other => Ok(other?),
        }
    }

    async fn consumer(&self, account: &AccountId, name: &str) -> Result<Option<ConsumerRecord>> {
        db::events::consumer(&self.db, account, name).await?.map(record).transpose()
    }

    async fn consumers(&self, account: &AccountId) -> Result<Vec<ConsumerRecord>> {
        db::events::consumers(&self.db, account).await?.into_iter().map(record).collect()
    }

    async fn count_consumers(&self, account: &AccountId) -> Result<u64> {
        Ok(db::events::count_consumers(&self.db, account).await?)
    }

    async fn pending(&self, consumer: &ConsumerId) -> Result<u64> {
        Ok(db::events::pending(&self.db, consumer).await?)
    }

    async fn delete_consumer(&self, account: &AccountId, name: &str) -> Result<bool> {
        Ok(db::events::delete_consumer(&self.db, account, name).await?)
    }

    async fn fetch(
        &self,
        consumer: &ConsumerRecord,
        batch: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<Handed>> {
        let filter = topics::Filter::parse(&consumer.filter).map_err(|m| {
            EventsError::Internal(anyhow::anyhow!("stored filter {:?}: {m}", consumer.filter))
        })?;
        let settings = &consumer.settings;
        let due =
            |delivery: u32| now + consumers::ack_wait(delivery, settings.ack_wait_ms, &settings.backoff_ms);
        // One transaction: two fetches never hand out the same message, and the cursor moves
        // with the deliveries it made.
        let txn = self.db.begin().await?;
        let mut handed = Vec::new();
        for again in db::events::due_deliveries(&txn, &consumer.id, now, batch as u64).await? {
            let seq = again.seq;
            let Some(message) = db::events::message(&txn, &consumer.account, seq).await?.map(view) else {
                // Retention took the message: nothing left to deliver.
                db::events::delete_delivery(&txn, &consumer.id, seq).await?;
                continue;
            };
            let delivery = u32::try_from(again.deliveries).unwrap_or(0).saturating_add(1);
            if delivery > settings.max_deliver {
                db::events::delete_delivery(&txn, &consumer.id, seq).await?;
                let plural = if again.deliveries == 1 { "delivery" } else { "deliveries" };
                let reason = format!("not acknowledged after {} {plural}", again.deliveries);
                dead_letter(&txn, consumer, message, again.deliveries, &reason, now).await?;
                continue;
            }
            let due_at = due(delivery);
            let row = event_deliveries::Model {
                consumer_id: consumer.id.clone(),
                seq,
                deliveries: i32::try_from(delivery).unwrap_or(i32::MAX),
                due_at,
            };
            db::events::save_delivery(&txn, row).await?;
            handed.push(Handed { message, delivery, due_at });
        }
        // The cursor as stored now: the record may be older than another fetch.
        let stored = db::events::consumer(&txn, &consumer.account, &consumer.name)
            .await?
            .ok_or(EventsError::NotFound("consumer"))?;
        let mut cursor = stored.cursor;
        // A consumer never receives its own dead letters unless it asks for `dlq.…` by name:
        // a filter of `>` would otherwise feed a failing message back to itself forever.
        let own_dead_letters = topics::dead_letter_topic(&consumer.name);
        let wants_dead_letters = consumer.filter.starts_with(topics::DEAD_LETTERS);
        'pages: while handed.len() < batch {
            let page = db::events::messages_after(&txn, &consumer.account, cursor, PAGE).await?;
            if page.is_empty() {
                break;
            }
            for message in page {
                cursor = message.seq;
                let wanted = filter.matches(&message.topic)
                    && (wants_dead_letters || message.topic != own_dead_letters);
                if !wanted {
                    continue;
                }
                let due_at = due(1);
                let row = event_deliveries::Model {
                    consumer_id: consumer.id.clone(),
                    seq: message.seq,
                    deliveries: 1,
                    due_at,
                };
                db::events::save_delivery(&txn, row).await?;
                handed.push(Handed { message: view(message), delivery: 1, due_at });
                if handed.len() == batch {
                    break 'pages;
                }
            }
        }
        if cursor != stored.cursor {
            db::events::set_cursor(&txn, &consumer.id, cursor).await?;
        }
        txn.commit().await?;
        Ok(handed)
    }

    async fn settle(
        &self,
        consumer: &ConsumerRecord,
        seq: i64,
        how: Settle,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let txn = self.db.begin().await?;
        let Some(delivery) = db::events::delivery(&txn, &consumer.id, seq).await? else {
            return Ok(false);
        };
        match how {
            Settle::Ack => {
                db::events::delete_delivery(&txn, &consumer.id, seq).await?;
            }
            Settle::Nak { due_at } => {
                db::events::save_delivery(&txn, event_deliveries::Model { due_at, ..delivery }).await?;
            }
            Settle::Term { reason } => {
                db::events::delete_delivery(&txn, &consumer.id, seq).await?;
                if let Some(message) = db::events::message(&txn, &consumer.account, seq).await? {
                    dead_letter(&txn, consumer, view(message), delivery.deliveries, &reason, now).await?;
                }
            }
        }
        txn.commit().await?;
        Ok(true)
    }

    async fn prune(&self, before: DateTime<Utc>, keep: u64, max_bytes: u64) -> Result<u64> {
        let aged = db::events::delete_older_than(&self.db, before).await?;
        let counted = db::events::keep_newest(&self.db, keep).await?;
        Ok(aged + counted + db::events::keep_within_bytes(&self.db, max_bytes).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store on a fresh database with two accounts.
    async fn store() -> (tempfile::TempDir, SqliteEvents, AccountId, AccountId) {
        let dir = tempfile::tempdir().unwrap();
        let db = db::connect(&format!("sqlite://{}", dir.path().join("events.db").display())).await.unwrap();
        crate::startup::migrate(&db).await.unwrap();
        let (a, b) = (AccountId::new("0192-a"), AccountId::new("0192-b"));
        for (id, email) in [(&a, "a@example.com"), (&b, "b@example.com")] {
            let new = db::accounts::NewAccount { id, email, password_hash: "x", now: Utc::now() };
            db::accounts::insert(&db, new).await.unwrap();
        }
        (dir, SqliteEvents::new(db), a, b)
    }

    async fn publish(store: &SqliteEvents, account: &AccountId, data: &str) -> i64 {
        let outgoing = Outgoing {
            topic: format!("acct.{account}.t"),
            data: data.into(),
            headers: BTreeMap::new(),
            msg_id: None,
        };
        store.publish(account, outgoing, Utc::now(), Utc::now()).await.unwrap().0.seq
    }

    async fn kept(store: &SqliteEvents, account: &AccountId) -> Vec<i64> {
        let all = store.read(account, 0, &topics::Filter::everything(), 1000).await.unwrap();
        all.iter().map(|m| m.seq).collect()
    }

    #[tokio::test]
    async fn retention_keeps_each_accounts_newest_within_the_count_and_the_bytes_and_by_age() {
        let (_dir, store, a, b) = store().await;
        let mut a_seqs = Vec::new();
        for _ in 0..6 {
            a_seqs.push(publish(&store, &a, &"x".repeat(100)).await);
        }
        let b_seq = publish(&store, &b, &"y".repeat(1000)).await;
        let far_past = Utc::now() - chrono::Duration::days(1);

        // By count: a keeps its newest 5; b, under the count, is untouched.
        assert_eq!(store.prune(far_past, 5, u64::MAX).await.unwrap(), 1);
        assert_eq!(kept(&store, &a).await, a_seqs[1..]);
        // By bytes: at most 250 bytes of data each — a keeps its newest two, b (one message of
        // 1 000 bytes) loses it: a flood of large messages cannot fill the disk.
        assert_eq!(store.prune(far_past, 5, 250).await.unwrap(), 4);
        assert_eq!(kept(&store, &a).await, a_seqs[4..]);
        assert!(kept(&store, &b).await.is_empty(), "b's {b_seq} is over the bytes");
        // By age: everything published before now goes.
        publish(&store, &b, "z").await;
        store.prune(Utc::now() + chrono::Duration::seconds(1), 5, u64::MAX).await.unwrap();
        assert!(kept(&store, &a).await.is_empty() && kept(&store, &b).await.is_empty());
    }
}
