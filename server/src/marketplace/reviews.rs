//! Reviews: one rating and text per subscriber who made a metered call on the listing's
//! service (a "verified" review), editable; one reply from the provider.
use super::{Marketplace, MarketplaceError, views};
use crate::db::{self, entities};
use app::types::{
    ids::{AccountId, ListingId, ReviewId},
    marketplace::{NewReview, ReviewReply, ReviewView},
};
use chrono::Utc;
use std::collections::BTreeMap;

type Result<T, E = MarketplaceError> = std::result::Result<T, E>;

const MAX_TEXT: usize = 4_000;

impl Marketplace {
    /// The account's review of a listed listing: created, or changed if it has one.
    pub async fn review(
        &self,
        account: &AccountId,
        listing: &ListingId,
        input: NewReview,
    ) -> Result<ReviewView> {
        let mut errors = BTreeMap::new();
        if !(1..=5).contains(&input.rating) {
            errors.insert("rating".to_owned(), "Rate from 1 to 5.".to_owned());
        }
        let body = input.body.trim().to_owned();
        if body.chars().count() > MAX_TEXT {
            errors.insert("body".to_owned(), format!("Use at most {MAX_TEXT} characters."));
        }
        if !errors.is_empty() {
            return Err(MarketplaceError::Invalid(errors));
        }
        let listed = db::marketplace::listing(&self.db, listing)
            .await?
            .filter(|l| views::is_listed(l.status) || l.account_id == *account)
            .ok_or(MarketplaceError::NotFound("listing"))?;
        if listed.account_id == *account {
            return Err(MarketplaceError::OwnListing);
        }
        if !db::marketplace::has_plan_call(&self.db, account, &listed.service_id).await? {
            return Err(MarketplaceError::NotVerified);
        }
        let now = Utc::now();
        let rating = i32::try_from(input.rating).unwrap_or(1);
        let row = match db::marketplace::review_of(&self.db, listing, account).await? {
            Some(mut row) => {
                row.rating = rating;
                row.body = body;
                row.updated_at = now;
                db::marketplace::save_review(&self.db, row.clone()).await?;
                row
            }
            None => {
                let row = entities::reviews::Model {
                    id: ReviewId::new(uuid::Uuid::now_v7().to_string()),
                    listing_id: listing.clone(),
                    account_id: account.clone(),
                    rating,
                    body,
                    reply: None,
                    replied_at: None,
                    created_at: now,
                    updated_at: now,
                };
                db::marketplace::insert_review(&self.db, row.clone()).await?;
                row
            }
        };
        self.restat(listing).await?;
        Ok(views::review_view(row))
    }

    /// A listed listing's reviews (its provider also sees those of an unlisted one).
    pub async fn list_reviews(
        &self,
        viewer: Option<&AccountId>,
        listing: &ListingId,
    ) -> Result<Vec<ReviewView>> {
        let row = db::marketplace::listing(&self.db, listing)
            .await?
            .ok_or(MarketplaceError::NotFound("listing"))?;
        if !views::is_listed(row.status) && viewer != Some(&row.account_id) {
            return Err(MarketplaceError::NotFound("listing"));
        }
        Ok(db::marketplace::reviews_of(&self.db, listing)
            .await?
            .into_iter()
            .map(views::review_view)
            .collect())
    }

    /// The provider replies to a review of their listing, once.
    pub async fn reply(&self, account: &AccountId, id: &ReviewId, input: ReviewReply) -> Result<ReviewView> {
        let not_found = || MarketplaceError::NotFound("review");
        let mut row = db::marketplace::review(&self.db, id).await?.ok_or_else(not_found)?;
        db::marketplace::owned_listing(&self.db, account, &row.listing_id).await?.ok_or_else(not_found)?;
        let body = input.body.trim().to_owned();
        if body.is_empty() || body.chars().count() > MAX_TEXT {
            return Err(MarketplaceError::field("body", "Use 1 to 4000 characters."));
        }
        if row.reply.is_some() {
            return Err(MarketplaceError::BadTransition("You have replied to this review already.".into()));
        }
        row.reply = Some(body);
        row.replied_at = Some(Utc::now());
        db::marketplace::save_review(&self.db, row.clone()).await?;
        Ok(views::review_view(row))
    }
}
