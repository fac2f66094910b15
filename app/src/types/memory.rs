//! Wire types of the memory context: KV buckets and their entries. Values travel as standard
//! base64 (with padding) both ways, so any bytes can be stored.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What one revision of a key records (as JetStream's `KV-Operation`, plus expiry).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString,
)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case"))]
pub enum KvOperation {
    /// A value was written.
    Put,
    /// A tombstone: the key reads as absent; its history is kept.
    Delete,
    /// The key's history was removed; this marker is all that is left.
    Purge,
    /// The sweeper's tombstone for a value whose TTL ran out (so expiry shows in history).
    Expire,
}

impl KvOperation {
    /// The stable machine name stored in the database and sent on the wire.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// `POST /api/v1/kv/buckets`: a new bucket.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewBucket {
    /// 1–64 characters of `A-Z a-z 0-9 _ -`, unique in your account.
    pub name: String,
    /// Revisions kept per key, 1–64 (default 1: the current value only).
    #[serde(default)]
    pub history: Option<u32>,
    /// Largest value this bucket takes, 1 B – 1 MiB (default 1 MiB).
    #[serde(default)]
    pub max_value_bytes: Option<u32>,
}

/// A bucket as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BucketView {
    pub name: String,
    /// Revisions kept per key.
    pub history: u32,
    pub max_value_bytes: u32,
    /// The bucket's latest revision (revisions increase per bucket).
    pub revision: u64,
    /// Keys whose newest entry is a value (an expired one counts until the sweeper's tombstone).
    pub live_keys: u64,
    pub created_at: DateTime<Utc>,
}

/// `PUT /api/v1/kv/buckets/{bucket}/keys/{key}`: write a value.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct KvPut {
    /// The value, standard base64 (at most the bucket's `max_value_bytes` once decoded).
    pub value: String,
    /// Seconds until the value expires (1 – 31 536 000); refreshed by `touch`.
    #[serde(default)]
    pub ttl_seconds: Option<u64>,
    /// Compare-and-swap: write only if the key's current revision is this one (0: the key has
    /// never been written). A mismatch is 409 `kv_revision_mismatch` with the current revision.
    #[serde(default)]
    pub expected_revision: Option<u64>,
    /// Write only if the key is absent (never written, deleted, purged or expired); otherwise
    /// 409 `kv_key_exists` with the current revision.
    #[serde(default)]
    pub create_only: bool,
}

/// `POST /api/v1/kv/buckets/{bucket}/keys/{key}/touch`: push a value's expiry back.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct KvTouch {
    /// The new TTL from now; the value's own TTL when left out.
    #[serde(default)]
    pub ttl_seconds: Option<u64>,
}

/// One revision of a key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct KvEntryView {
    pub bucket: String,
    pub key: String,
    pub revision: u64,
    pub operation: KvOperation,
    /// Standard base64; `null` for delete, purge and expire markers.
    pub value: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the value stops being readable, if it has a TTL.
    pub expires_at: Option<DateTime<Utc>>,
}

/// One revision of a key as the portal's KV browser shows it: the value as text when it is
/// UTF-8 (values are bytes; the Cloud API carries them in base64).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvShownRevision {
    pub revision: u64,
    pub operation: KvOperation,
    /// `None` for a marker (delete, purge, expiry) or a value that is not UTF-8.
    pub text: Option<String>,
    /// The value's size in bytes (0 for a marker).
    pub size: usize,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A key opened in the KV browser: its kept revisions, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvOpenedKey {
    pub key: String,
    pub revisions: Vec<KvShownRevision>,
}

/// The portal's KV browser of one bucket: a page of its keys (by prefix) and the key opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvBrowserView {
    pub bucket: BucketView,
    pub prefix: String,
    pub keys: super::Page<String>,
    /// `None` when no key is opened, or the one asked for has no revision kept.
    pub opened: Option<KvOpenedKey>,
}
