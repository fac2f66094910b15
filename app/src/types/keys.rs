//! API keys as the Cloud API and the portal show them.
use super::Page;
use super::ids::KeyId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a key may do. A request needs the scope its method and path ask for:
/// `invoke` for anything under `/api/v1/invoke/`, `read` for other `GET`/`HEAD` requests,
/// `write` for every other method. Sessions (the portal) hold every scope.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Scope {
    /// Read registry, keys, usage and billing (`GET`).
    Read,
    /// Create, change and delete (`POST`, `PATCH`, `PUT`, `DELETE`).
    Write,
    /// Call services through `/api/v1/invoke/…`.
    Invoke,
}

impl Scope {
    /// Every scope, in display order.
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Invoke];

    /// The machine name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Parses the machine name.
    pub fn parse(s: &str) -> Option<Self> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == s)
    }

    /// One line for a person.
    pub fn describe(self) -> &'static str {
        match self {
            Scope::Read => "read services, keys, usage and invoices",
            Scope::Write => "register, change and delete services; create and revoke keys",
            Scope::Invoke => "call services through /api/v1/invoke",
        }
    }
}

/// Where a key stands.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString,
)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum KeyState {
    Active,
    Expired,
    Revoked,
}

impl KeyState {
    /// The machine name (also the badge's CSS modifier).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// An API key; never its secret, which is shown once, at creation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiKeyView {
    pub id: KeyId,
    pub name: String,
    /// The key's first characters, e.g. `w4k_AbC12x`, to tell keys apart.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub state: KeyState,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Updated within a few seconds of each use.
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// `POST /api/v1/keys`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// 1–100 characters, e.g. `ci deploys`.
    pub name: String,
    /// At least one; a key cannot create a key with scopes it does not hold itself.
    pub scopes: Vec<Scope>,
    /// When the key stops working; omitted: never. Must be in the future.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// The answer to creating a key: the only time its secret is ever sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedApiKey {
    pub key: ApiKeyView,
    /// `w4k_` and 43 base64url characters (256 random bits). Store it now: it cannot be
    /// shown again.
    pub secret: String,
}

/// The portal's keys page: a page of keys, and a key just created by a form posted before
/// hydration (its secret survives the redirect in the session, for this one page load).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiKeysView {
    pub page: Page<ApiKeyView>,
    pub created: Option<CreatedApiKey>,
}

/// The portal's key form, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiKeyForm {
    pub name: String,
    #[serde(default)]
    pub read: Option<String>,
    #[serde(default)]
    pub write: Option<String>,
    #[serde(default)]
    pub invoke: Option<String>,
    /// Days until expiry; empty for never.
    #[serde(default)]
    pub expires_in_days: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_names_round_trip() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
            assert_eq!(serde_json::to_string(&scope).unwrap(), format!("\"{}\"", scope.as_str()));
        }
        assert_eq!(Scope::parse("admin"), None);
    }
}
