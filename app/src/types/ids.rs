//! Typed ids: one newtype per kind of thing, so that an account id cannot be passed where a
//! service id is asked for. On the wire and in the database each is its plain string (serde
//! `transparent`; SeaORM `DeriveValueType` under `ssr`).
//!
//! Swapped arguments do not compile:
//!
//! ```compile_fail
//! use app::types::ids::{AccountId, ServiceId};
//! fn update(account: &AccountId, service: &ServiceId) {}
//! let (account, service) = (AccountId::new("a"), ServiceId::new("s"));
//! update(&service, &account);
//! ```
//!
//! ```
//! # use app::types::ids::{AccountId, ServiceId};
//! # fn update(account: &AccountId, service: &ServiceId) {}
//! # let (account, service) = (AccountId::new("a"), ServiceId::new("s"));
//! update(&account, &service);
//! ```
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType, utoipa::ToSchema))]
        pub struct $name(String);

        impl $name {
            /// Wraps an id read from a trusted place (a row, a signed message, a generated id).
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as a string (for URLs, logs and limiter keys).
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id's string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        // The derived `Hash` hashes the inner string, so maps keyed by ids can be searched
        // with a `&str` read off the wire.
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl leptos::prelude::IntoRender for $name {
            type Output = String;
            fn into_render(self) -> String {
                self.0
            }
        }

        impl leptos::attr::IntoAttributeValue for $name {
            type Output = String;
            fn into_attribute_value(self) -> String {
                self.0
            }
        }

        // Ids are primary keys; none is ever made from an auto-increment integer.
        #[cfg(feature = "ssr")]
        impl sea_orm::TryFromU64 for $name {
            fn try_from_u64(_: u64) -> Result<Self, sea_orm::DbErr> {
                Err(sea_orm::DbErr::ConvertFromU64(stringify!($name)))
            }
        }

        #[cfg(feature = "ssr")]
        impl From<&$name> for sea_orm::Value {
            fn from(id: &$name) -> Self {
                id.0.as_str().into()
            }
        }
    };
}

id!(
    /// An account's id.
    AccountId
);
id!(
    /// A registered service's id.
    ServiceId
);
id!(
    /// An API key's id (not its secret).
    KeyId
);
id!(
    /// A mesh node's id as the control plane stores and shows it: the string form of the
    /// node's public-key identity.
    NodeId
);
id!(
    /// A finalized invoice's id.
    InvoiceId
);
id!(
    /// A node join token's id (not its secret).
    JoinTokenId
);
id!(
    /// A marketplace listing's id.
    ListingId
);
id!(
    /// A listing's plan's id.
    PlanId
);
id!(
    /// A subscription's id (a consumer's access to a listing on a plan).
    SubscriptionId
);
id!(
    /// A listing review's id.
    ReviewId
);
id!(
    /// A durable event consumer's id.
    ConsumerId
);
id!(
    /// A KV bucket's id (the memory context; the API names buckets by their name).
    BucketId
);
id!(
    /// A webhook endpoint's id.
    WebhookId
);
id!(
    /// One delivery of a message to a webhook endpoint.
    WebhookDeliveryId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_its_plain_string_on_the_wire() {
        let id = ServiceId::new("0192-abc");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"0192-abc\"");
        let back: ServiceId = serde_json::from_str("\"0192-abc\"").unwrap();
        assert_eq!(back, id);
        assert_eq!(id.to_string(), "0192-abc");
        assert_eq!(id, "0192-abc");
    }
}
