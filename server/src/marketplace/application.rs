//! The marketplace's use cases, as the Cloud API and the portal call them. Every change that
//! affects who may call what ends by giving the service runtime a fresh picture of the grants
//! (`refresh`), so a cancelled or suspended subscriber is refused from the next call on.
use super::{
    MarketplaceError,
    validation::{self, MAX_PLANS},
    views::{self, is_listed},
};
use crate::{
    db::{self, entities},
    events::Events,
    ratelimit::RateLimits,
    secrets,
    services::{
        entitlements::{month_of, next_month_start},
        runtime::ServiceRuntime,
    },
};
use app::types::{
    ids::{AccountId, ListingId, PlanId, SubscriptionId},
    marketplace::{
        Approval, CreatedPlan, ListingAction, ListingStats, ListingStatus, ListingUpdate, ListingView,
        NewListing, NewPlan, NewSubscription, PlanView, SubscriberAction, SubscriptionStatus,
        SubscriptionUpdate, SubscriptionUsage, SubscriptionView, Visibility, alert_percent,
    },
    services::ServiceKind,
};
use chrono::{DateTime, Duration, Utc};
use sea_orm::DatabaseConnection;
use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

type Result<T, E = MarketplaceError> = std::result::Result<T, E>;

/// Largest spending cap (minor units).
const MAX_CAP_MINOR: i64 = 1_000_000_000_000;

/// The marketplace's use cases.
pub struct Marketplace {
    pub(super) db: DatabaseConnection,
    pub(super) runtime: Arc<ServiceRuntime>,
    /// Per-address limits on what strangers may do without an account (searching).
    pub(super) limits: Arc<RateLimits>,
    /// One refresh at a time, so an older picture never replaces a newer one.
    pub(super) refreshing: tokio::sync::Mutex<()>,
    /// Told about listings and subscriptions (`platform.listing.*`, `platform.subscription.*`).
    pub(super) events: Arc<Events>,
}

impl Marketplace {
    /// The marketplace over `db`, granting calls through `runtime`; the grants are loaded
    /// before this returns.
    pub async fn new(
        db: DatabaseConnection,
        runtime: Arc<ServiceRuntime>,
        limits: Arc<RateLimits>,
        events: Arc<Events>,
    ) -> anyhow::Result<Self> {
        let marketplace = Self { db, runtime, limits, refreshing: tokio::sync::Mutex::new(()), events };
        marketplace.refresh().await.map_err(|e| anyhow::anyhow!("loading the marketplace's grants: {e}"))?;
        Ok(marketplace)
    }

    // ---- listings (provider) ----

    /// Lists one of the provider's own `http` services, as a draft.
    pub async fn create_listing(&self, account: &AccountId, input: NewListing) -> Result<ListingView> {
        let service = db::services::owned(&self.db, account, &input.service_id)
            .await?
            .ok_or(MarketplaceError::NotFound("service"))?;
        if service.kind != ServiceKind::Http {
            return Err(MarketplaceError::field("service_id", "Only http services can be listed."));
        }
        let publisher = match input.publisher {
            Some(p) => p,
            None => db::accounts::find_by_id(&self.db, account)
                .await?
                .map(|a| a.email.split('@').next().unwrap_or_default().to_owned())
                .unwrap_or_default(),
        };
        let mut errors = BTreeMap::new();
        let text = validation::text(
            &input.title,
            &input.summary,
            &input.description,
            &input.tags,
            &publisher,
            &mut errors,
        );
        let openapi = input.openapi.filter(|d| !d.trim().is_empty());
        if let Some(doc) = &openapi {
            validation::endpoints(doc, &mut errors);
        }
        if !errors.is_empty() {
            return Err(MarketplaceError::Invalid(errors));
        }
        if db::marketplace::listing_of_service(&self.db, &service.id).await?.is_some() {
            return Err(MarketplaceError::ListingExists);
        }
        let now = Utc::now();
        let row = entities::listings::Model {
            id: ListingId::new(uuid::Uuid::now_v7().to_string()),
            account_id: account.clone(),
            service_id: service.id,
            publisher: text.publisher,
            title: text.title,
            summary: text.summary,
            description: text.description,
            category: input.category,
            tags: entities::services::Tags(text.tags),
            openapi,
            status: ListingStatus::Draft,
            approval: input.approval.unwrap_or(Approval::Automatic),
            sunset_at: None,
            published_at: None,
            created_at: now,
            updated_at: now,
            has_free_plan: false,
            lowest_price_micros: None,
            subscribers: 0,
            reviews: 0,
            rating_tenths: None,
        };
        match db::marketplace::insert_listing(&self.db, row.clone()).await {
            Err(e) if db::is_unique_violation(&e) => return Err(MarketplaceError::ListingExists),
            other => other?,
        }
        tracing::info!(listing_id = %row.id, service_id = %row.service_id, "listing created");
        self.provider_view(row).await
    }

    /// Changes the provider's listing.
    pub async fn update_listing(
        &self,
        account: &AccountId,
        id: &ListingId,
        update: ListingUpdate,
    ) -> Result<ListingView> {
        let mut row = self.owned(account, id).await?;
        let mut errors = BTreeMap::new();
        let text = validation::text(
            update.title.as_deref().unwrap_or(&row.title),
            update.summary.as_deref().unwrap_or(&row.summary),
            update.description.as_deref().unwrap_or(&row.description),
            update.tags.as_deref().unwrap_or(&row.tags.0),
            update.publisher.as_deref().unwrap_or(&row.publisher),
            &mut errors,
        );
        if let Some(doc) = &update.openapi {
            row.openapi = Some(doc.clone()).filter(|d| !d.trim().is_empty());
        }
        if let Some(doc) = &row.openapi {
            validation::endpoints(doc, &mut errors);
        }
        if !errors.is_empty() {
            return Err(MarketplaceError::Invalid(errors));
        }
        row.title = text.title;
        row.summary = text.summary;
        row.description = text.description;
        row.tags = entities::services::Tags(text.tags);
        row.publisher = text.publisher;
        row.category = update.category.unwrap_or(row.category);
        row.approval = update.approval.unwrap_or(row.approval);
        row.updated_at = Utc::now();
        db::marketplace::save_listing(&self.db, row.clone()).await?;
        self.refresh().await?;
        self.provider_view(row).await
    }

    /// The provider's listings, newest first.
    pub async fn list_my_listings(&self, account: &AccountId) -> Result<Vec<ListingView>> {
        let mut out = Vec::new();
        for row in db::marketplace::listings_of(&self.db, account).await? {
            out.push(self.provider_view(row).await?);
        }
        Ok(out)
    }

    /// Publishes, deprecates (with `sunset_at`) or unpublishes the provider's listing.
    pub async fn act(
        &self,
        account: &AccountId,
        id: &ListingId,
        action: ListingAction,
        sunset_at: Option<DateTime<Utc>>,
    ) -> Result<ListingView> {
        let mut row = self.owned(account, id).await?;
        let now = Utc::now();
        use ListingStatus as S;
        match (action, row.status) {
            (ListingAction::Publish, S::Draft | S::Unpublished) => {
                let plans = db::marketplace::plans_of(&self.db, &row.id).await?;
                if !plans.iter().any(|p| p.visibility == Visibility::Public) {
                    return Err(MarketplaceError::NotReady("Add a public plan before publishing.".into()));
                }
                let healthy = self.runtime.catalog().get(row.service_id.as_str()).is_some_and(|e| {
                    e.status == app::types::services::ServiceStatus::Active && !e.healthy.is_empty()
                });
                if !healthy {
                    return Err(MarketplaceError::NotReady(
                        "The service must be active with a healthy placement before its listing is published."
                            .into(),
                    ));
                }
                row.status = S::Published;
                row.sunset_at = None;
                row.published_at.get_or_insert(now);
            }
            (ListingAction::Deprecate, S::Published) => {
                let sunset =
                    sunset_at.ok_or_else(|| MarketplaceError::field("sunset_at", "Give the sunset date."))?;
                if sunset < now + Duration::days(1) {
                    return Err(MarketplaceError::field(
                        "sunset_at",
                        "The sunset date must be at least a day ahead.",
                    ));
                }
                row.status = S::Deprecated;
                row.sunset_at = Some(sunset);
            }
            (ListingAction::Unpublish, S::Published | S::Deprecated) => row.status = S::Unpublished,
            (action, status) => {
                return Err(MarketplaceError::BadTransition(format!(
                    "A listing that is {} cannot be {}.",
                    status.as_str(),
                    match action {
                        ListingAction::Publish => "published",
                        ListingAction::Deprecate => "deprecated",
                        ListingAction::Unpublish => "unpublished",
                    }
                )));
            }
        }
        row.updated_at = now;
        db::marketplace::save_listing(&self.db, row.clone()).await?;
        tracing::info!(listing_id = %row.id, status = row.status.as_str(), "listing state changed");
        self.refresh().await?;
        self.tell_listing(&row, action).await?;
        self.provider_view(row).await
    }

    /// Adds a plan to the provider's listing; a private plan's invitation is in the answer and
    /// nowhere else.
    pub async fn create_plan(
        &self,
        account: &AccountId,
        listing: &ListingId,
        input: NewPlan,
    ) -> Result<CreatedPlan> {
        let row = self.owned(account, listing).await?;
        let existing = db::marketplace::plans_of(&self.db, &row.id).await?;
        if existing.len() >= MAX_PLANS {
            return Err(MarketplaceError::PlanLimitReached(MAX_PLANS));
        }
        let valid = validation::plan(input, "")?;
        let invitation = (valid.visibility == Visibility::Private)
            .then(|| secrets::new_secret(secrets::INVITATION_PREFIX));
        let plan = entities::plans::Model {
            id: PlanId::new(uuid::Uuid::now_v7().to_string()),
            listing_id: row.id,
            name: valid.name,
            position: i32::try_from(existing.len()).unwrap_or(0),
            pricing: valid.pricing,
            quota_per_month: valid.quota_per_month,
            quota_kind: valid.quota_kind,
            visibility: valid.visibility,
            invitation_hash: invitation.as_deref().map(secrets::hash_secret),
            created_at: Utc::now(),
            rate_per_minute: valid.rate_per_minute.map(|r| i32::try_from(r).unwrap_or(i32::MAX)),
        };
        match db::marketplace::insert_plan(&self.db, plan.clone()).await {
            Err(e) if db::is_unique_violation(&e) => {
                return Err(MarketplaceError::field(
                    "name",
                    "This listing already has a plan with that name.",
                ));
            }
            other => other?,
        }
        self.restat(&plan.listing_id).await?;
        Ok(CreatedPlan { plan: views::plan_view(&plan), invitation })
    }

    // ---- browsing (anyone) ----

    /// A listing's page: listed ones for everyone, drafts for their provider only.
    pub async fn get_listing(&self, viewer: Option<&AccountId>, id: &ListingId) -> Result<ListingView> {
        let row =
            db::marketplace::listing(&self.db, id).await?.ok_or(MarketplaceError::NotFound("listing"))?;
        let is_provider = viewer == Some(&row.account_id);
        if !is_provider && !is_listed(row.status) {
            return Err(MarketplaceError::NotFound("listing"));
        }
        self.view(row, is_provider).await
    }

    /// A plan's terms for whoever holds its invitation link: a private plan with the right
    /// invitation (a public plan needs none), of this listing, while it is listed. Anything
    /// else — a wrong invitation, another listing's plan, a plan that does not exist — is told
    /// alike, so the answer reveals no more than subscribing would.
    pub async fn invited_plan(
        &self,
        listing: &ListingId,
        plan: &PlanId,
        invitation: &str,
    ) -> Result<PlanView> {
        let row = self.reachable_plan(plan, Some(invitation)).await?;
        if row.listing_id != *listing {
            return Err(MarketplaceError::NotFound("plan"));
        }
        Ok(views::plan_view(&row))
    }

    // ---- subscriptions (consumer) ----

    /// Subscribes the account to a plan: active at once, or pending until the provider approves.
    pub async fn subscribe(&self, account: &AccountId, input: NewSubscription) -> Result<SubscriptionView> {
        // A missing plan, a plan of an unlisted listing and a private plan without its
        // invitation are told alike: nothing reveals that a plan exists.
        let plan = self.reachable_plan(&input.plan_id, input.invitation.as_deref()).await?;
        let listing = db::marketplace::listing(&self.db, &plan.listing_id)
            .await?
            .ok_or(MarketplaceError::NotFound("plan"))?;
        if listing.account_id == *account {
            return Err(MarketplaceError::OwnListing);
        }
        if listing.status != ListingStatus::Published {
            return Err(MarketplaceError::NotOpen);
        }
        if let Some(cap) = input.spending_cap_minor
            && !(0..=MAX_CAP_MINOR).contains(&cap)
        {
            return Err(MarketplaceError::field(
                "spending_cap_minor",
                "Give a cap between 0 and 1,000,000,000,000 minor units.",
            ));
        }
        let now = Utc::now();
        let status = match listing.approval {
            Approval::Automatic => SubscriptionStatus::Active,
            Approval::Manual => SubscriptionStatus::Pending,
        };
        let row = entities::subscriptions::Model {
            id: SubscriptionId::new(uuid::Uuid::now_v7().to_string()),
            listing_id: listing.id.clone(),
            plan_id: plan.id.clone(),
            account_id: account.clone(),
            status,
            spending_cap_minor: input.spending_cap_minor,
            created_at: now,
            updated_at: now,
        };
        match db::marketplace::insert_subscription(&self.db, row.clone()).await {
            Err(e) if db::is_unique_violation(&e) => return Err(MarketplaceError::AlreadySubscribed),
            other => other?,
        }
        tracing::info!(subscription_id = %row.id, listing_id = %listing.id, status = status.as_str(), "subscribed");
        self.restat(&listing.id).await?;
        self.refresh().await?;
        self.tell_subscription(&row, &listing, "created").await;
        self.subscription_view(row, &listing, &plan).await
    }

    /// The account's subscriptions, newest first.
    pub async fn list_subscriptions(&self, account: &AccountId) -> Result<Vec<SubscriptionView>> {
        let rows = db::marketplace::subscriptions_of(&self.db, account).await?;
        self.subscription_views(rows).await
    }

    /// A subscription, to its consumer or to the listing's provider.
    pub async fn get_subscription(
        &self,
        account: &AccountId,
        id: &SubscriptionId,
    ) -> Result<SubscriptionView> {
        let (row, listing, plan) = self.visible_subscription(account, id).await?;
        self.subscription_view(row, &listing, &plan).await
    }

    /// The consumer changes their spending cap.
    pub async fn update_subscription(
        &self,
        account: &AccountId,
        id: &SubscriptionId,
        update: SubscriptionUpdate,
    ) -> Result<SubscriptionView> {
        let (mut row, listing, mut plan) = self.consumers(account, id).await?;
        if row.status == SubscriptionStatus::Cancelled {
            return Err(MarketplaceError::BadTransition(
                "The subscription is cancelled: subscribe again.".into(),
            ));
        }
        let mut changes = Vec::new();
        if let Some(plan_id) = update.plan_id.filter(|p| *p != row.plan_id) {
            plan = self.reachable_plan(&plan_id, update.invitation.as_deref()).await?;
            if plan.listing_id != listing.id {
                return Err(MarketplaceError::field("plan_id", "Choose a plan of the same listing."));
            }
            tracing::info!(subscription_id = %row.id, from = %row.plan_id, to = %plan.id, "plan changed");
            row.plan_id = plan.id.clone();
            changes.push("plan_changed");
        }
        if let Some(cap) = update.spending_cap_minor {
            if cap.is_some_and(|c| !(0..=MAX_CAP_MINOR).contains(&c)) {
                return Err(MarketplaceError::field(
                    "spending_cap_minor",
                    "Give a cap between 0 and 1,000,000,000,000 minor units.",
                ));
            }
            if cap != row.spending_cap_minor {
                changes.push("cap_changed");
            }
            row.spending_cap_minor = cap;
        }
        row.updated_at = Utc::now();
        db::marketplace::save_subscription(&self.db, row.clone()).await?;
        self.refresh().await?;
        for change in changes {
            self.tell_subscription(&row, &listing, change).await;
        }
        self.subscription_view(row, &listing, &plan).await
    }

    /// The consumer cancels: calls are refused from the next one on.
    pub async fn cancel(&self, account: &AccountId, id: &SubscriptionId) -> Result<SubscriptionView> {
        let (mut row, listing, plan) = self.consumers(account, id).await?;
        if row.status != SubscriptionStatus::Cancelled {
            row.status = SubscriptionStatus::Cancelled;
            row.updated_at = Utc::now();
            db::marketplace::save_subscription(&self.db, row.clone()).await?;
            tracing::info!(subscription_id = %row.id, "subscription cancelled");
            self.restat(&listing.id).await?;
            self.refresh().await?;
            self.tell_subscription(&row, &listing, "cancelled").await;
        }
        self.subscription_view(row, &listing, &plan).await
    }

    // ---- subscribers (provider) ----

    /// Who subscribes to the provider's listing.
    pub async fn list_subscribers(
        &self,
        account: &AccountId,
        listing: &ListingId,
    ) -> Result<Vec<SubscriptionView>> {
        let row = self.owned(account, listing).await?;
        let rows = db::marketplace::subscriptions_to(&self.db, &row.id).await?;
        self.subscription_views(rows).await
    }

    /// The provider approves, rejects, suspends or resumes a subscription to their listing.
    pub async fn act_on_subscription(
        &self,
        account: &AccountId,
        id: &SubscriptionId,
        action: SubscriberAction,
    ) -> Result<SubscriptionView> {
        let (mut row, listing, plan) = self.visible_subscription(account, id).await?;
        if listing.account_id != *account {
            return Err(MarketplaceError::NotFound("subscription"));
        }
        use SubscriptionStatus as S;
        let change = match action {
            SubscriberAction::Approve => "approved",
            SubscriberAction::Reject => "rejected",
            SubscriberAction::Suspend => "suspended",
            SubscriberAction::Resume => "resumed",
        };
        row.status = match (action, row.status) {
            (SubscriberAction::Approve, S::Pending) | (SubscriberAction::Resume, S::Suspended) => S::Active,
            (SubscriberAction::Reject, S::Pending) => S::Cancelled,
            (SubscriberAction::Suspend, S::Active) => S::Suspended,
            (_, status) => {
                return Err(MarketplaceError::BadTransition(format!(
                    "A subscription that is {} cannot be changed that way.",
                    status.as_str()
                )));
            }
        };
        row.updated_at = Utc::now();
        db::marketplace::save_subscription(&self.db, row.clone()).await?;
        tracing::info!(subscription_id = %row.id, status = row.status.as_str(), "subscription changed by its provider");
        self.restat(&listing.id).await?;
        self.refresh().await?;
        self.tell_subscription(&row, &listing, change).await;
        self.subscription_view(row, &listing, &plan).await
    }

    // ---- helpers ----

    /// A plan the caller may pick: of a listed listing, and public or with its invitation.
    /// Anything else is told as a plan that does not exist.
    async fn reachable_plan(&self, id: &PlanId, invitation: Option<&str>) -> Result<entities::plans::Model> {
        let not_found = || MarketplaceError::NotFound("plan");
        let plan = db::marketplace::plan(&self.db, id).await?.ok_or_else(not_found)?;
        let listing = db::marketplace::listing(&self.db, &plan.listing_id).await?.ok_or_else(not_found)?;
        if !is_listed(listing.status) {
            return Err(not_found());
        }
        if plan.visibility == Visibility::Private {
            let given = invitation.map(|i| secrets::hash_secret(i.trim()));
            if given.is_none() || given != plan.invitation_hash {
                return Err(not_found());
            }
        }
        Ok(plan)
    }

    async fn owned(&self, account: &AccountId, id: &ListingId) -> Result<entities::listings::Model> {
        db::marketplace::owned_listing(&self.db, account, id)
            .await?
            .ok_or(MarketplaceError::NotFound("listing"))
    }

    async fn provider_view(&self, row: entities::listings::Model) -> Result<ListingView> {
        self.view(row, true).await
    }

    async fn view(&self, row: entities::listings::Model, for_provider: bool) -> Result<ListingView> {
        let plans = db::marketplace::plans_of(&self.db, &row.id).await?;
        let since = Utc::now() - Duration::days(30);
        let measured = db::marketplace::call_stats(&self.db, &row.service_id, since).await?;
        let uptime_permille = db::services::uptime_permille(
            &self.db,
            &row.service_id,
            (since + Duration::days(1)).date_naive(),
        )
        .await?;
        let entry = self.runtime.catalog().get(row.service_id.as_str()).cloned();
        let stats = ListingStats {
            available: entry.as_ref().is_some_and(|e| e.available && !e.healthy.is_empty()),
            uptime_permille,
            subscribers: row.subscribers,
            calls_30d: measured.calls,
            p50_us: measured.p50_us,
            p95_us: measured.p95_us,
            reviews: row.reviews,
            rating_tenths: row.rating_tenths,
        };
        let invoke_path =
            entry.map_or_else(|| row.service_id.to_string(), |e| format!("{}/{}", e.owner, e.slug));
        Ok(views::listing_view(row, &plans, stats, invoke_path, for_provider))
    }

    /// The subscription if `account` is its consumer or the listing's provider.
    pub(super) async fn visible_subscription(
        &self,
        account: &AccountId,
        id: &SubscriptionId,
    ) -> Result<(entities::subscriptions::Model, entities::listings::Model, entities::plans::Model)> {
        let not_found = || MarketplaceError::NotFound("subscription");
        let row = db::marketplace::subscription(&self.db, id).await?.ok_or_else(not_found)?;
        let listing = db::marketplace::listing(&self.db, &row.listing_id).await?.ok_or_else(not_found)?;
        if row.account_id != *account && listing.account_id != *account {
            return Err(not_found());
        }
        let plan = db::marketplace::plan(&self.db, &row.plan_id).await?.ok_or_else(not_found)?;
        Ok((row, listing, plan))
    }

    /// The subscription if `account` is its consumer.
    async fn consumers(
        &self,
        account: &AccountId,
        id: &SubscriptionId,
    ) -> Result<(entities::subscriptions::Model, entities::listings::Model, entities::plans::Model)> {
        let found = self.visible_subscription(account, id).await?;
        if found.0.account_id != *account {
            return Err(MarketplaceError::NotFound("subscription"));
        }
        Ok(found)
    }

    /// The views of `rows`, reading their listings, plans, consumers and last calls in a few
    /// queries however many there are (a provider may have thousands of subscribers).
    async fn subscription_views(
        &self,
        rows: Vec<entities::subscriptions::Model>,
    ) -> Result<Vec<SubscriptionView>> {
        let listing_ids: Vec<ListingId> =
            rows.iter().map(|r| r.listing_id.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        let plan_ids: Vec<PlanId> =
            rows.iter().map(|r| r.plan_id.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        let listings = db::marketplace::listings_by_id(&self.db, &listing_ids).await?;
        let plans = db::marketplace::plans_by_id(&self.db, &plan_ids).await?;
        let mut parts = Vec::with_capacity(rows.len());
        for row in rows {
            let (Some(listing), Some(plan)) = (listings.get(&row.listing_id), plans.get(&row.plan_id)) else {
                return Err(anyhow::anyhow!("subscription {} names a missing listing or plan", row.id).into());
            };
            parts.push((row, listing, plan));
        }
        self.views_of(parts).await
    }

    async fn subscription_view(
        &self,
        row: entities::subscriptions::Model,
        listing: &entities::listings::Model,
        plan: &entities::plans::Model,
    ) -> Result<SubscriptionView> {
        let id = row.id.clone();
        let view = self.views_of(vec![(row, listing, plan)]).await?.pop();
        view.ok_or_else(|| anyhow::anyhow!("no view of subscription {id}").into())
    }

    /// Subscriptions with their listing and plan, as views: this month's use from the
    /// entitlements (memory), the consumers' emails and last calls in two queries.
    async fn views_of(
        &self,
        parts: Vec<(entities::subscriptions::Model, &entities::listings::Model, &entities::plans::Model)>,
    ) -> Result<Vec<SubscriptionView>> {
        let accounts: Vec<AccountId> =
            parts.iter().map(|(r, ..)| r.account_id.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        let emails = db::accounts::emails(&self.db, &accounts).await?;
        let ids: Vec<SubscriptionId> = parts.iter().map(|(r, ..)| r.id.clone()).collect();
        let last_calls = db::marketplace::last_calls(&self.db, &ids).await?;
        let now = Utc::now();
        let catalog = self.runtime.catalog();
        let entitlements = self.runtime.entitlements();
        parts
            .into_iter()
            .map(|(row, listing, plan)| {
                let (calls, spent_minor) = entitlements.usage(&row.id, now).unwrap_or((0, 0));
                let quota_alert = plan.quota_per_month.and_then(|q| alert_percent(calls, q));
                let cap_alert = row.spending_cap_minor.and_then(|c| alert_percent(spent_minor, c));
                let usage = SubscriptionUsage {
                    calls,
                    spent_minor,
                    resets_at: Some(next_month_start(month_of(now))),
                    alert_percent: quota_alert.max(cap_alert),
                    last_called_at: last_calls.get(&row.id).copied(),
                };
                let email = emails
                    .get(&row.account_id)
                    .cloned()
                    .ok_or_else(|| anyhow::anyhow!("subscription {} names a missing account", row.id))?;
                let invoke_path = catalog
                    .get(listing.service_id.as_str())
                    .map_or_else(|| listing.service_id.to_string(), |e| format!("{}/{}", e.owner, e.slug));
                Ok(views::subscription_view(row, listing, plan, usage, invoke_path, email))
            })
            .collect()
    }
}
