//! What the platform says about an account's resources: the topics it publishes on (under
//! `platform.`, which only it writes), each message owned by the account the resource belongs
//! to. Emitted by the application layer after a use case succeeded.
use super::{Events, store::Outgoing};
use app::types::ids::AccountId;
use std::collections::BTreeMap;

pub const SERVICE_REGISTERED: &str = "platform.service.registered";
pub const SERVICE_UPDATED: &str = "platform.service.updated";
pub const SERVICE_DELETED: &str = "platform.service.deleted";

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
}
