//! The portal's marketplace: the [`PortalPort`](app::port::PortalPort) methods over
//! [`Marketplace`](crate::marketplace::Marketplace), apart from the module root so that each
//! stays one idea. Translation only: forms are read in [`super::marketplace_forms`], errors
//! come from the one classification.
use super::{
    PortalAdapter,
    errors::{form_error, portal_error},
    marketplace_forms as forms,
    respond::{is_plain_form, redirect_plain_form},
};
use app::{
    error::PortalError,
    types::{
        billing::Currency,
        ids::{AccountId, ListingId, PlanId, ReviewId, SubscriptionId},
        marketplace::{
            BrowseQuery, ConsumerSubscription, CreatedPlan, ListingAction, ListingForm, ListingSummary,
            ListingView, MyListingsView, NewSubscription, PlanForm, ProviderListing, ReviewForm, ReviewReply,
            ReviewView, SubscriberAction, SubscriptionUpdate, SubscriptionView,
        },
        services::Page,
    },
};

/// Session key of a private plan created by a plain form post (with its owner's id): its
/// invitation is shown once, on the next load of `/listings` (sealed: see [`super::flash`]).
const FLASH_PLAN: &str = "flash.plan";

impl PortalAdapter {
    pub(super) async fn browse_listings_impl(
        &self,
        query: BrowseQuery,
    ) -> Result<Page<ListingSummary>, PortalError> {
        let client = self.client_ip()?;
        self.state.marketplace.browse(query, client).await.map_err(portal_error)
    }

    pub(super) async fn get_listing_impl(&self, id: ListingId) -> Result<ListingView, PortalError> {
        let viewer = self.current_account_id().await?;
        self.state.marketplace.get_listing(viewer.as_ref(), &id).await.map_err(portal_error)
    }

    pub(super) async fn subscribe_impl(
        &self,
        plan_id: PlanId,
        spending_cap: String,
        invitation: Option<String>,
    ) -> Result<SubscriptionView, PortalError> {
        let account = self.account().await?;
        let spending_cap_minor =
            forms::spending_cap_minor(&spending_cap, &Currency::usd()).map_err(form_error)?;
        let invitation = invitation.map(|i| i.trim().to_owned()).filter(|i| !i.is_empty());
        let input = NewSubscription { plan_id, spending_cap_minor, invitation };
        let view = self.state.marketplace.subscribe(&account.id, input).await.map_err(portal_error)?;
        redirect_plain_form("/subscriptions");
        Ok(view)
    }

    pub(super) async fn list_subscriptions_impl(&self) -> Result<Vec<SubscriptionView>, PortalError> {
        let account = self.account().await?;
        self.state.marketplace.list_subscriptions(&account.id).await.map_err(portal_error)
    }

    pub(super) async fn cancel_subscription_impl(
        &self,
        id: SubscriptionId,
    ) -> Result<SubscriptionView, PortalError> {
        let account = self.account().await?;
        let view = self.state.marketplace.cancel(&account.id, &id).await.map_err(portal_error)?;
        redirect_plain_form("/subscriptions");
        Ok(view)
    }

    /// The provider's listings, each with its subscribers. Two reads of the façade (one per
    /// listing for its subscribers): the page shows both, and neither has a follow-up.
    pub(super) async fn list_my_listings_impl(&self) -> Result<MyListingsView, PortalError> {
        let account = self.account().await?;
        let marketplace = &self.state.marketplace;
        let mut listings = Vec::new();
        for listing in marketplace.list_my_listings(&account.id).await.map_err(portal_error)? {
            let subscribers =
                marketplace.list_subscribers(&account.id, &listing.id).await.map_err(portal_error)?;
            listings.push(ProviderListing { listing, subscribers });
        }
        // Taken only once the list has loaded, so a failed load does not lose the invitation,
        // and only by the account that created it.
        let flashed = self.unflash::<(AccountId, CreatedPlan)>(FLASH_PLAN).await?;
        let created_plan = flashed.filter(|(owner, _)| *owner == account.id).map(|(_, created)| created);
        Ok(MyListingsView { listings, created_plan })
    }

    pub(super) async fn create_listing_impl(&self, form: ListingForm) -> Result<ListingView, PortalError> {
        let account = self.account().await?;
        let input = forms::new_listing(&form).map_err(form_error)?;
        let view = self.state.marketplace.create_listing(&account.id, input).await.map_err(portal_error)?;
        redirect_plain_form("/listings");
        Ok(view)
    }

    pub(super) async fn create_plan_impl(
        &self,
        listing_id: ListingId,
        form: PlanForm,
    ) -> Result<CreatedPlan, PortalError> {
        let account = self.account().await?;
        let input = forms::new_plan(&form).map_err(form_error)?;
        let created = self
            .state
            .marketplace
            .create_plan(&account.id, &listing_id, input)
            .await
            .map_err(portal_error)?;
        if is_plain_form() {
            // The redirect would lose a private plan's invitation: keep it sealed for the next
            // page load only (never in the URL).
            if created.invitation.is_some() {
                self.flash(FLASH_PLAN, &(&account.id, &created)).await?;
            }
            redirect_plain_form("/listings");
        }
        Ok(created)
    }

    pub(super) async fn act_on_listing_impl(
        &self,
        id: ListingId,
        action: ListingAction,
        sunset: String,
    ) -> Result<ListingView, PortalError> {
        let account = self.account().await?;
        let sunset_at = forms::sunset(&sunset).map_err(form_error)?;
        let view =
            self.state.marketplace.act(&account.id, &id, action, sunset_at).await.map_err(portal_error)?;
        redirect_plain_form("/listings");
        Ok(view)
    }

    pub(super) async fn act_on_subscription_impl(
        &self,
        id: SubscriptionId,
        action: SubscriberAction,
    ) -> Result<SubscriptionView, PortalError> {
        let account = self.account().await?;
        let view = self
            .state
            .marketplace
            .act_on_subscription(&account.id, &id, action)
            .await
            .map_err(portal_error)?;
        redirect_plain_form("/listings");
        Ok(view)
    }

    pub(super) async fn list_my_subscriptions_impl(&self) -> Result<Vec<ConsumerSubscription>, PortalError> {
        let account = self.account().await?;
        self.state.marketplace.consumer_subscriptions(&account.id).await.map_err(portal_error)
    }

    pub(super) async fn change_plan_impl(
        &self,
        id: SubscriptionId,
        plan_id: PlanId,
    ) -> Result<SubscriptionView, PortalError> {
        let account = self.account().await?;
        let update = SubscriptionUpdate { plan_id: Some(plan_id), ..SubscriptionUpdate::default() };
        let view = self
            .state
            .marketplace
            .update_subscription(&account.id, &id, update)
            .await
            .map_err(portal_error)?;
        redirect_plain_form("/subscriptions");
        Ok(view)
    }

    pub(super) async fn set_spending_cap_impl(
        &self,
        id: SubscriptionId,
        spending_cap: String,
    ) -> Result<SubscriptionView, PortalError> {
        let account = self.account().await?;
        let cap = forms::spending_cap_minor(&spending_cap, &Currency::usd()).map_err(form_error)?;
        let update = SubscriptionUpdate { spending_cap_minor: Some(cap), ..SubscriptionUpdate::default() };
        let view = self
            .state
            .marketplace
            .update_subscription(&account.id, &id, update)
            .await
            .map_err(|e| rename_field(portal_error(e), "spending_cap_minor", "spending_cap"))?;
        redirect_plain_form("/subscriptions");
        Ok(view)
    }

    pub(super) async fn list_reviews_impl(
        &self,
        listing_id: ListingId,
    ) -> Result<Vec<ReviewView>, PortalError> {
        let viewer = self.current_account_id().await?;
        self.state.marketplace.list_reviews(viewer.as_ref(), &listing_id).await.map_err(portal_error)
    }

    pub(super) async fn review_listing_impl(
        &self,
        listing_id: ListingId,
        form: ReviewForm,
    ) -> Result<ReviewView, PortalError> {
        let account = self.account().await?;
        let input = forms::new_review(&form).map_err(form_error)?;
        let view =
            self.state.marketplace.review(&account.id, &listing_id, input).await.map_err(portal_error)?;
        redirect_plain_form(&format!("/marketplace/{listing_id}"));
        Ok(view)
    }

    pub(super) async fn reply_to_review_impl(
        &self,
        listing_id: ListingId,
        review_id: ReviewId,
        body: String,
    ) -> Result<ReviewView, PortalError> {
        let account = self.account().await?;
        let view = self
            .state
            .marketplace
            .reply(&account.id, &review_id, ReviewReply { body })
            .await
            .map_err(portal_error)?;
        redirect_plain_form(&format!("/marketplace/{listing_id}"));
        Ok(view)
    }

    /// The logged-in account's id, if any (public pages show more to a listing's provider).
    async fn current_account_id(&self) -> Result<Option<AccountId>, PortalError> {
        use app::port::PortalPort;
        Ok(self.current_account().await?.map(|a| a.id))
    }
}

/// A field error reported under the form's own input name.
fn rename_field(error: PortalError, from: &str, to: &str) -> PortalError {
    match error {
        PortalError::Fields(mut fields) => {
            if let Some(message) = fields.remove(from) {
                fields.insert(to.to_owned(), message);
            }
            PortalError::Fields(fields)
        }
        other => other,
    }
}
