//! What the platform says about an account's resources: the topics it publishes on (under
//! `platform.`, which only it writes), each message owned by the account the resource belongs
//! to. Emitted by the application layer after a use case succeeded.
use super::{Events, store::Outgoing};
use app::types::ids::AccountId;
use std::collections::BTreeMap;

pub const SERVICE_REGISTERED: &str = "platform.service.registered";
pub const SERVICE_UPDATED: &str = "platform.service.updated";
pub const SERVICE_DELETED: &str = "platform.service.deleted";
/// A service became available (a healthy placement) or unavailable; to its owner.
pub const SERVICE_HEALTH_CHANGED: &str = "platform.service.health_changed";
/// A hosted node joined the mesh; to the operator.
pub const NODE_JOINED: &str = "platform.node.joined";
/// A node's state (online, degraded, offline) or status (active, draining, blocked) changed; to
/// the operator.
pub const NODE_STATE_CHANGED: &str = "platform.node.state_changed";
/// A node's trust level changed; to the operator.
pub const NODE_TRUST_CHANGED: &str = "platform.node.trust_changed";
/// The account's calls metered in the last interval, per service (one message per interval,
/// not per call); to the payer.
pub const USAGE_RECORDED: &str = "platform.usage.recorded";
/// An invoice was finalized; to its payer.
pub const INVOICE_FINALIZED: &str = "platform.invoice.finalized";
/// A listing was published, deprecated or unpublished; to its provider.
pub const LISTING_PUBLISHED: &str = "platform.listing.published";
pub const LISTING_DEPRECATED: &str = "platform.listing.deprecated";
pub const LISTING_UNPUBLISHED: &str = "platform.listing.unpublished";
/// A subscription was created or changed state, plan or cap; to its consumer and its provider.
pub const SUBSCRIPTION_CHANGED: &str = "platform.subscription.changed";
/// A listing the account subscribes to was deprecated: calls stop at its sunset; to each
/// consumer.
pub const DEPRECATION_NOTICE: &str = "platform.subscription.deprecation_notice";
/// A subscription's calls this month passed 75, 90 or 100 % of its quota or spending cap; to
/// its consumer.
pub const USAGE_ALERT: &str = "platform.subscription.usage_alert";

/// Every platform topic, for the documentation and the portal.
pub const TOPICS: &[&str] = &[
    SERVICE_REGISTERED,
    SERVICE_UPDATED,
    SERVICE_DELETED,
    SERVICE_HEALTH_CHANGED,
    NODE_JOINED,
    NODE_STATE_CHANGED,
    NODE_TRUST_CHANGED,
    USAGE_RECORDED,
    INVOICE_FINALIZED,
    LISTING_PUBLISHED,
    LISTING_DEPRECATED,
    LISTING_UNPUBLISHED,
    SUBSCRIPTION_CHANGED,
    DEPRECATION_NOTICE,
    USAGE_ALERT,
];

impl Events {
    /// Publishes a platform event about `account`'s resource. The use case that emits it has
    /// already happened, so a failure to store the event does not undo it: it is logged with
    /// the event, for the operator.
    pub async fn emit(&self, account: &AccountId, topic: &'static str, data: serde_json::Value) {
        let outgoing = Outgoing {
            topic: topic.to_owned(),
            data: data.to_string(),
            headers: BTreeMap::new(),
            msg_id: None,
        };
        if let Err(err) = self.store_message(account, outgoing).await {
            tracing::warn!(account_id = %account, topic, %data, error = %err, "a platform event was not stored");
        }
    }

    /// Publishes the same platform event to each of `accounts` (each its own message).
    pub async fn emit_to<'a>(
        &self,
        accounts: impl IntoIterator<Item = &'a AccountId>,
        topic: &'static str,
        data: serde_json::Value,
    ) {
        for account in accounts {
            self.emit(account, topic, data.clone()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_platform_topic_is_a_valid_topic_under_platform() {
        for topic in TOPICS {
            assert!(super::super::topics::check_topic(topic).is_ok(), "{topic}");
            assert!(topic.starts_with("platform."), "{topic}");
        }
        let unique: std::collections::BTreeSet<_> = TOPICS.iter().collect();
        assert_eq!(unique.len(), TOPICS.len());
    }
}
