//! Browsing the marketplace: full-text search with ranking, filters, sorting and pages — one
//! indexed query over the listings' own figures (kept by [`Marketplace::restat`]).
use super::{Marketplace, MarketplaceError, search, views};
use crate::{db, pagination};
use app::types::{
    Page,
    ids::ListingId,
    marketplace::{BrowseQuery, ListingSummary, Sort},
};
use std::net::IpAddr;

type Result<T, E = MarketplaceError> = std::result::Result<T, E>;

/// The `ORDER BY` of each sort (a fixed set: nothing of the query reaches it). Ties go to the
/// newest, then the id, so pages never overlap.
fn order(sort: Sort, searching: bool) -> &'static str {
    match sort {
        Sort::Relevance if searching => "rank, l.published_at DESC, l.id DESC",
        Sort::Relevance | Sort::Newest => "l.published_at DESC, l.id DESC",
        Sort::MostSubscribed => "l.subscribers DESC, l.published_at DESC, l.id DESC",
        Sort::BestRated => {
            "COALESCE(l.rating_tenths, 0) DESC, l.reviews DESC, l.published_at DESC, l.id DESC"
        }
        Sort::Cheapest => {
            "CASE WHEN l.has_free_plan = 1 THEN 0 ELSE COALESCE(l.lowest_price_micros, 0) END, \
             l.published_at DESC, l.id DESC"
        }
    }
}

impl Marketplace {
    /// Searches and filters the marketplace for a visitor at `client` (public: searches are
    /// limited per address).
    pub async fn browse(&self, query: BrowseQuery, client: IpAddr) -> Result<Page<ListingSummary>> {
        self.limits.search(&client.to_string()).map_err(MarketplaceError::TooManySearches)?;
        let limit = pagination::limit(query.limit);
        let offset = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => 0,
            Some(c) => c.parse::<u64>().map_err(|_| MarketplaceError::BadCursor)?,
        };
        let fts = query.q.as_deref().and_then(search::fts_query);
        let tag = query.tag.as_deref().map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty());
        let mut rows = db::marketplace::browse(
            &self.db,
            fts.as_deref(),
            query.category,
            tag.as_deref(),
            query.free == Some(true),
            query.max_price_micros,
            order(query.sort.unwrap_or_default(), fts.is_some()),
            limit + 1,
            offset,
        )
        .await?;
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let items = rows.iter().map(views::summary).collect();
        Ok(Page { items, next_cursor: more.then(|| (offset + limit).to_string()) })
    }

    /// Brings a listing's browsing figures up to date (after a plan, a subscription or a
    /// review changed).
    pub(super) async fn restat(&self, listing: &ListingId) -> Result<()> {
        let plans = db::marketplace::plans_of(&self.db, listing).await?;
        let (has_free_plan, lowest) = views::plan_figures(&plans);
        db::marketplace::restat(&self.db, listing, has_free_plan, lowest).await?;
        Ok(())
    }
}
