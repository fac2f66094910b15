//! The marketplace as the Cloud API and the portal show it: listings of providers' services,
//! their plans, and consumers' subscriptions.
use super::{
    billing::{PriceTier, Pricing},
    ids::{AccountId, ListingId, PlanId, ReviewId, ServiceId, SubscriptionId},
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

macro_rules! stored_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $label:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            strum::IntoStaticStr, strum::EnumString, strum::VariantArray,
        )]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        #[cfg_attr(feature = "ssr", derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter))]
        #[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case"))]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// The stable machine name (stored, sent on the wire, used in URLs).
            pub fn as_str(self) -> &'static str {
                self.into()
            }

            /// Parses the machine name.
            pub fn parse(s: &str) -> Option<Self> {
                s.parse().ok()
            }

            /// How the portal names it to a person.
            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label),+
                }
            }

            /// Every value, in display order.
            pub fn all() -> &'static [Self] {
                <Self as strum::VariantArray>::VARIANTS
            }
        }
    };
}

stored_enum!(
    /// The fixed taxonomy listings are filed under.
    Category {
        Ai => "AI and machine learning",
        Data => "Data and analytics",
        DeveloperTools => "Developer tools",
        Finance => "Finance and payments",
        Location => "Maps and location",
        Media => "Images, audio and video",
        Messaging => "Email and messaging",
        Security => "Security and identity",
        Text => "Text and language",
        Weather => "Weather",
        Other => "Other",
    }
);

stored_enum!(
    /// Where a listing is in its life.
    ListingStatus {
        /// Only its provider sees it.
        Draft => "Draft",
        /// In the marketplace; anyone may subscribe.
        Published => "Published",
        /// Still served to its subscribers until the sunset date; no new subscriptions.
        Deprecated => "Deprecated",
        /// Out of the marketplace; existing subscriptions keep working until cancelled.
        Unpublished => "Unpublished",
    }
);

stored_enum!(
    /// How a listing takes new subscribers.
    Approval {
        /// At once.
        Automatic => "Automatic",
        /// Pending until the provider approves.
        Manual => "Provider approves each",
    }
);

stored_enum!(
    /// What happens past a plan's monthly quota.
    QuotaKind {
        /// Refused: 429 `quota_exhausted` until the month ends.
        Hard => "Hard (calls refused)",
        /// Served, and the overage billed at the plan's price.
        Soft => "Soft (overage billed)",
    }
);

stored_enum!(
    /// Who may subscribe to a plan.
    Visibility {
        /// Anyone who finds the listing.
        Public => "Public",
        /// Only holders of the plan's invitation link.
        Private => "Private (invitation link)",
    }
);

stored_enum!(
    /// Where a subscription stands.
    SubscriptionStatus {
        /// Waiting for the provider's approval; calls are refused.
        Pending => "Pending approval",
        /// Calls are served and billed.
        Active => "Active",
        /// Stopped by the provider; calls are refused.
        Suspended => "Suspended",
        /// Ended by the consumer (or refused by the provider); calls are refused.
        Cancelled => "Cancelled",
    }
);

/// A plan as a provider sends it. A plan's pricing is a flat per-call price or graduated
/// tiers, after the free calls; omitted: free.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewPlan {
    /// 1–40 characters, unique within the listing.
    pub name: String,
    /// Calls per consumer per calendar month (UTC) that are free; default 0.
    #[serde(default)]
    pub free_calls_per_month: Option<i64>,
    /// A flat price per call in micros; give either this or `tiers`.
    #[serde(default)]
    pub price_per_call_micros: Option<i64>,
    #[serde(default)]
    pub tiers: Option<Vec<PriceTier>>,
    /// Calls per calendar month (UTC) the plan includes; omitted: no quota.
    #[serde(default)]
    pub quota_per_month: Option<i64>,
    /// What happens past the quota; default `hard`.
    #[serde(default)]
    pub quota_kind: Option<QuotaKind>,
    /// Default `public`. A private plan gets an invitation link, shown once.
    #[serde(default)]
    pub visibility: Option<Visibility>,
    /// Calls per minute per subscriber (1–1,000,000); omitted: only the account's own limits.
    #[serde(default)]
    pub rate_per_minute: Option<u32>,
}

/// A plan as everyone sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PlanView {
    pub id: PlanId,
    pub listing_id: ListingId,
    pub name: String,
    pub pricing: Pricing,
    pub quota_per_month: Option<i64>,
    pub quota_kind: QuotaKind,
    pub visibility: Visibility,
    pub rate_per_minute: Option<u32>,
}

impl PlanView {
    /// Whether every call on the plan is free.
    pub fn is_free(&self) -> bool {
        self.pricing.tiers.iter().all(|t| t.price_per_call_micros == 0)
    }
}

/// A plan just created: a private plan's invitation link is in it, and nowhere else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedPlan {
    pub plan: PlanView,
    /// The secret a consumer needs to subscribe to a private plan (`None` for public ones).
    pub invitation: Option<String>,
}

/// What a provider sends to list one of their services (`POST /api/v1/listings`). The
/// listing starts as a draft.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewListing {
    /// One of the provider's own `http` services; a service has at most one listing.
    pub service_id: ServiceId,
    /// 3–80 characters.
    pub title: String,
    /// One line, up to 160 characters.
    pub summary: String,
    /// Markdown, up to 20 000 characters; rendered to sanitised HTML.
    #[serde(default)]
    pub description: String,
    pub category: Category,
    /// Up to 10 tags, each a slug of up to 32 characters.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Who the listing says provides it (1–60 characters); default: the part of the
    /// provider's email before the `@`.
    #[serde(default)]
    pub publisher: Option<String>,
    /// An OpenAPI 3 document (JSON) of the upstream; its operations are shown on the listing.
    #[serde(default)]
    pub openapi: Option<String>,
    /// Default `automatic`.
    #[serde(default)]
    pub approval: Option<Approval>,
}

/// A change to a listing; omitted fields stay.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ListingUpdate {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub category: Option<Category>,
    pub tags: Option<Vec<String>>,
    pub publisher: Option<String>,
    /// An empty string removes the document.
    pub openapi: Option<String>,
    pub approval: Option<Approval>,
}

/// A move in a listing's life (`POST /api/v1/listings/{id}/{action}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ListingAction {
    /// Draft or unpublished → published: needs a healthy service and a public plan.
    Publish,
    /// Published → deprecated: no new subscriptions; the sunset date is announced.
    Deprecate,
    /// Out of the marketplace.
    Unpublish,
}

/// The sunset date of a deprecation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Deprecation {
    /// When the listing stops serving; at least a day ahead.
    pub sunset_at: DateTime<Utc>,
}

/// An operation of the upstream, from the listing's OpenAPI document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Endpoint {
    pub method: String,
    pub path: String,
    pub summary: String,
}

/// What the mesh measured of a listing's service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ListingStats {
    /// Whether the service takes calls now (a healthy placement, as the mesh checked it).
    pub available: bool,
    /// The share of the service's health checks over the last 30 days (UTC days, today
    /// included) that found it up — passing or warning — in thousandths (`999` is 99.9 %);
    /// `None` before the first check.
    pub uptime_permille: Option<i64>,
    /// Subscriptions that are active now.
    pub subscribers: i64,
    /// Billed calls in the last 30 days, by every caller.
    pub calls_30d: i64,
    /// Latency of those calls as the entry node measured them, in microseconds.
    pub p50_us: Option<i64>,
    pub p95_us: Option<i64>,
    /// Verified reviews, and their average rating in tenths (`45` is 4.5; `None` without one).
    pub reviews: i64,
    pub rating_tenths: Option<i64>,
}

/// A listing as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ListingView {
    pub id: ListingId,
    pub service_id: ServiceId,
    pub provider_id: AccountId,
    pub publisher: String,
    pub title: String,
    pub summary: String,
    /// As written (Markdown).
    pub description: String,
    /// The description rendered and sanitised: safe to put in a page as it is.
    pub description_html: String,
    pub category: Category,
    pub tags: Vec<String>,
    pub status: ListingStatus,
    pub approval: Approval,
    pub sunset_at: Option<DateTime<Utc>>,
    /// The plans a visitor may pick (the provider sees private ones too).
    pub plans: Vec<PlanView>,
    pub endpoints: Vec<Endpoint>,
    pub stats: ListingStats,
    /// What to put after `/api/v1/invoke/` to call the service.
    pub invoke_path: String,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A listing in search results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ListingSummary {
    pub id: ListingId,
    pub title: String,
    pub summary: String,
    pub publisher: String,
    pub category: Category,
    pub tags: Vec<String>,
    pub status: ListingStatus,
    /// Whether a public plan is free.
    pub has_free_plan: bool,
    /// The lowest first paid per-call price among the public plans, in micros (`None`: all free).
    pub lowest_price_micros: Option<i64>,
    pub subscribers: i64,
    pub reviews: i64,
    /// Average rating in tenths (`45` is 4.5).
    pub rating_tenths: Option<i64>,
    pub published_at: Option<DateTime<Utc>>,
}

/// How browse results are ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Best match first (newest without a search).
    #[default]
    Relevance,
    MostSubscribed,
    BestRated,
    Newest,
    Cheapest,
}

impl Sort {
    /// Every order, as the browse page offers them.
    pub const ALL: [Sort; 5] =
        [Sort::Relevance, Sort::MostSubscribed, Sort::BestRated, Sort::Newest, Sort::Cheapest];

    /// The machine name (the `sort` query parameter).
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::MostSubscribed => "most_subscribed",
            Sort::BestRated => "best_rated",
            Sort::Newest => "newest",
            Sort::Cheapest => "cheapest",
        }
    }

    /// How the browse page names it.
    pub fn label(self) -> &'static str {
        match self {
            Sort::Relevance => "Best match",
            Sort::MostSubscribed => "Most subscribed",
            Sort::BestRated => "Best rated",
            Sort::Newest => "Newest",
            Sort::Cheapest => "Cheapest",
        }
    }
}

/// A search of the marketplace (`GET /api/v1/listings`); every field is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct BrowseQuery {
    /// Words to find in the title, summary, description or tags (every word must match; the
    /// last may be a prefix).
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub category: Option<Category>,
    #[serde(default)]
    pub tag: Option<String>,
    /// Only listings with a free public plan.
    #[serde(default)]
    pub free: Option<bool>,
    /// Only listings whose lowest public per-call price is at most this (micros).
    #[serde(default)]
    pub max_price_micros: Option<i64>,
    #[serde(default)]
    pub sort: Option<Sort>,
    /// From a previous page's `next_cursor`.
    #[serde(default)]
    pub cursor: Option<String>,
    /// 1–100, default 20.
    #[serde(default)]
    pub limit: Option<u64>,
}

/// A consumer's request to subscribe (`POST /api/v1/subscriptions`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSubscription {
    pub plan_id: PlanId,
    /// The most the subscription may cost in a calendar month, in minor units; past it calls
    /// answer 402 `spending_cap_reached`. Omitted: no cap.
    #[serde(default)]
    pub spending_cap_minor: Option<i64>,
    /// A private plan's invitation.
    #[serde(default)]
    pub invitation: Option<String>,
}

/// A change a consumer makes to their subscription; omitted fields stay.
///
/// A plan change takes effect at once and keeps every API key working. It is priced by the
/// month's calls: those made before the change at the earlier plan, those after at the new
/// one, and the new plan's free calls, tiers and quota count from where the month's calls
/// stand (a change does not restart the month).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SubscriptionUpdate {
    /// Another plan of the same listing.
    #[serde(default)]
    pub plan_id: Option<PlanId>,
    /// The invitation of a private plan to change to.
    #[serde(default)]
    pub invitation: Option<String>,
    /// `null` removes the cap.
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<i64>))]
    pub spending_cap_minor: Option<Option<i64>>,
}

/// Where a subscription stands this month.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SubscriptionUsage {
    /// Billed calls this calendar month (UTC).
    pub calls: i64,
    /// What those calls cost at the plan's price, in minor units.
    pub spent_minor: i64,
    /// When the month's count starts again.
    pub resets_at: Option<DateTime<Utc>>,
    /// An alert once 75, 90 or 100 % of the quota or of the spending cap is used this month
    /// (the highest threshold passed by either).
    pub alert_percent: Option<u8>,
    /// The subscriber's last metered call through this subscription (`None`: none yet).
    pub last_called_at: Option<DateTime<Utc>>,
}

/// A subscription's metered calls on one day (UTC).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SubscriptionDay {
    pub day: NaiveDate,
    pub calls: i64,
    /// Calls the upstream answered with a 5xx status.
    pub errors: i64,
}

/// `GET /api/v1/subscriptions/{id}/usage`: a subscription's calls per day over the last 30 days
/// (days without calls are left out), for its consumer and for the listing's provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SubscriptionActivity {
    pub subscription_id: SubscriptionId,
    pub from: NaiveDate,
    /// Inclusive.
    pub to: NaiveDate,
    pub days: Vec<SubscriptionDay>,
    pub total_calls: i64,
}

/// The usage alert for `used` of `limit` (75, 90 or 100 %), if any.
pub fn alert_percent(used: i64, limit: i64) -> Option<u8> {
    let share = if limit <= 0 { 100 } else { used.saturating_mul(100) / limit };
    [100u8, 90, 75].into_iter().find(|t| share >= i64::from(*t))
}

/// A subscription as its consumer and its provider see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SubscriptionView {
    pub id: SubscriptionId,
    pub listing_id: ListingId,
    pub listing_title: String,
    /// The listing's state: a deprecated listing's subscribers are told when calls stop.
    pub listing_status: ListingStatus,
    /// When a deprecated listing stops taking calls.
    pub sunset_at: Option<DateTime<Utc>>,
    pub service_id: ServiceId,
    pub consumer_id: AccountId,
    /// The consumer's email: shown to the consumer and to the listing's provider only (the two
    /// parties of the subscription).
    pub consumer_email: String,
    pub plan: PlanView,
    pub status: SubscriptionStatus,
    pub spending_cap_minor: Option<i64>,
    pub usage: SubscriptionUsage,
    /// What to put after `/api/v1/invoke/` to call the service.
    pub invoke_path: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a provider does with a subscription to one of their listings
/// (`POST /api/v1/subscriptions/{id}/{action}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SubscriberAction {
    /// Pending → active.
    Approve,
    /// Pending → cancelled.
    Reject,
    /// Active → suspended: calls are refused at once.
    Suspend,
    /// Suspended → active.
    Resume,
}

/// `Option<Option<T>>` that tells "absent" from `null`.
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, T: Serialize>(v: &Option<Option<T>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// A subscriber's review (`POST /api/v1/listings/{id}/reviews`): creates theirs, or changes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewReview {
    /// 1–5.
    pub rating: i64,
    /// Up to 4 000 characters (may be empty).
    #[serde(default)]
    pub body: String,
}

/// The provider's one reply to a review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReviewReply {
    /// 1–4 000 characters.
    pub body: String,
}

/// A review as everyone sees it. Every review is verified: its author made metered calls on
/// the listing's service through a subscription.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReviewView {
    pub id: ReviewId,
    pub listing_id: ListingId,
    pub author_id: AccountId,
    pub rating: i64,
    pub body: String,
    pub reply: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

// ---- the portal's forms and pages ----

/// The portal's "New listing" form, every field as typed (so a form posted before hydration
/// works and each field's error can sit next to it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingForm {
    pub service_id: String,
    pub title: String,
    pub summary: String,
    /// Markdown.
    pub description: String,
    /// A [`Category`]'s machine name.
    pub category: String,
    /// Comma-separated.
    pub tags: String,
}

/// The portal's "Add plan" form, every field as typed. Prices are in currency units
/// (`0.002`), read into micros by the server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanForm {
    pub name: String,
    pub free_calls_per_month: String,
    pub price_per_call: String,
    pub quota_per_month: String,
    /// Calls per minute per subscriber; empty for no rate limit.
    #[serde(default)]
    pub rate_per_minute: String,
    /// A [`QuotaKind`]'s machine name.
    pub quota_kind: String,
    /// A [`Visibility`]'s machine name.
    pub visibility: String,
}

/// One of the provider's listings with who subscribes to it (the "My listings" page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderListing {
    pub listing: ListingView,
    pub subscribers: Vec<SubscriptionView>,
}

/// The "My listings" page: the provider's listings, and a private plan just created by a plain
/// form post, whose invitation is shown this once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyListingsView {
    pub listings: Vec<ProviderListing>,
    pub created_plan: Option<CreatedPlan>,
}

/// One of the consumer's subscriptions on `/subscriptions`, with the public plans of its
/// listing it may change to (empty when the listing is no longer listed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerSubscription {
    pub subscription: SubscriptionView,
    /// The public plans of its listing it may change to (none once the listing left the
    /// marketplace).
    pub plans: Vec<PlanView>,
    /// Its calls per day over the last 30 days.
    pub activity: SubscriptionActivity,
}

/// A review form as typed: the rating (1–5) as the select sends it, and the text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewForm {
    pub rating: String,
    #[serde(default)]
    pub body: String,
}

/// An average rating in tenths as a person reads it: `45` is "4.5".
pub fn rating_text(tenths: i64) -> String {
    format!("{}.{}", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::alert_percent;

    #[test]
    fn alerts_at_75_90_and_100_percent() {
        assert_eq!(alert_percent(74, 100), None);
        assert_eq!(alert_percent(75, 100), Some(75));
        assert_eq!(alert_percent(95, 100), Some(90));
        assert_eq!(alert_percent(100, 100), Some(100));
        assert_eq!(alert_percent(0, 0), Some(100), "a cap of 0 is reached at once");
    }
}
