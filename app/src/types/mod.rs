//! Wire types shared by the portal, the server functions and the Cloud API (serde only: no
//! database entity ever crosses into this crate).
use chrono::{DateTime, Utc};
use ids::AccountId;
use serde::{Deserialize, Serialize};

pub mod billing;
pub mod docs;
pub mod events;
pub mod ids;
pub mod keys;
pub mod marketplace;
pub mod memory;
pub mod nodes;
pub mod observability;
pub mod services;
pub mod webhooks;

/// What an account may do on the platform.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString,
)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case"))]
pub enum Role {
    /// Runs the platform: nodes, join tokens, platform metrics. The first account is one.
    Operator,
    /// Registers and calls services, publishes to and subscribes from the marketplace.
    Developer,
}

impl Role {
    /// The stable machine name stored in the database and sent on the wire.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Parses the machine name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }

    /// How the portal names the role to a person.
    pub fn label(self) -> &'static str {
        match self {
            Role::Operator => "Operator",
            Role::Developer => "Developer",
        }
    }
}

/// An account as the portal and the API show it (never the password hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AccountView {
    pub id: AccountId,
    pub email: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// The account a request's session is logged in as, put into the request's extensions by the
/// server before the portal renders, so pages know it without waiting on a resource.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionAccount(pub Option<AccountView>);

/// The origin services are called on when the operator gives invokes a host of their own
/// (`invoke_origin`, e.g. `https://invoke.example.com`): provided by the server while
/// rendering, and written into the page's head for the browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvokeOrigin(pub String);

/// A page of a list; pass `next_cursor` back as `cursor` for the next one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Email and password, as typed at sign-up or log-in.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

// Hand-written so that a password never reaches a log line through `{:?}`.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("email", &self.email).field("password", &"<redacted>").finish()
    }
}

/// Per-field validation messages for the sign-up and log-in forms.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FieldErrors {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

impl FieldErrors {
    /// True when no field has a message.
    pub fn is_empty(&self) -> bool {
        self.email.is_none() && self.password.is_none()
    }
}

/// Answer of `GET /healthz` and `GET /readyz`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HealthReport {
    /// `"ok"` or `"unavailable"`.
    pub status: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_debug_never_shows_the_password() {
        let c = Credentials { email: "a@example.com".into(), password: "hunter2hunter2".into() };
        let shown = format!("{c:?}");
        assert!(shown.contains("a@example.com"));
        assert!(!shown.contains("hunter2"));
    }

    #[test]
    fn role_names_round_trip() {
        for role in [Role::Operator, Role::Developer] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(Role::parse("admin"), None, "the old name is not read back");
    }
}
