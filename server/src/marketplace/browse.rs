//! Browsing the marketplace: full-text search with ranking, filters, sorting and pages.
use super::{Marketplace, MarketplaceError, search, views};
use crate::{db, db::entities, pagination};
use app::types::{
    Page,
    ids::ListingId,
    marketplace::{BrowseQuery, ListingSummary, Sort},
};
use std::collections::HashMap;

type Result<T, E = MarketplaceError> = std::result::Result<T, E>;

impl Marketplace {
    /// Searches and filters the marketplace.
    pub async fn browse(&self, query: BrowseQuery) -> Result<Page<ListingSummary>> {
        let limit = pagination::limit(query.limit) as usize;
        let offset = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => 0,
            Some(c) => c.parse::<usize>().map_err(|_| MarketplaceError::BadCursor)?,
        };
        let fts = query.q.as_deref().and_then(search::fts_query);
        let tag = query.tag.as_deref().map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty());
        let found = db::marketplace::search(&self.db, fts.as_deref(), query.category, tag.as_deref()).await?;
        let rank: HashMap<ListingId, f64> = found.into_iter().map(|f| (f.id, f.rank)).collect();
        let ids: Vec<ListingId> = rank.keys().cloned().collect();
        let listings = db::marketplace::listings_by_id(&self.db, &ids).await?;
        let plans = db::marketplace::plans_of_all(&self.db, &ids).await?;
        let counts = db::marketplace::subscriber_counts(&self.db).await?;
        let ratings = db::marketplace::ratings(&self.db).await?;
        let mut rows: Vec<(f64, ListingSummary)> = listings
            .iter()
            .map(|l| {
                let mine: Vec<&entities::plans::Model> =
                    plans.iter().filter(|p| p.listing_id == l.id).collect();
                let subscribers = counts.get(&l.id).copied().unwrap_or(0);
                let rating = ratings.get(&l.id).copied();
                (rank.get(&l.id).copied().unwrap_or(0.0), views::summary(l, &mine, subscribers, rating))
            })
            .filter(|(_, s)| query.free != Some(true) || s.has_free_plan)
            .filter(|(_, s)| match query.max_price_micros {
                None => true,
                Some(max) => s.has_free_plan || s.lowest_price_micros.is_none_or(|p| p <= max),
            })
            .collect();
        let price = |s: &ListingSummary| if s.has_free_plan { 0 } else { s.lowest_price_micros.unwrap_or(0) };
        let newest = |a: &ListingSummary, b: &ListingSummary| {
            b.published_at.cmp(&a.published_at).then(a.id.cmp(&b.id))
        };
        match query.sort.unwrap_or_default() {
            Sort::Relevance if fts.is_some() => {
                rows.sort_by(|a, b| a.0.total_cmp(&b.0).then(newest(&a.1, &b.1)))
            }
            Sort::Relevance | Sort::Newest => rows.sort_by(|a, b| newest(&a.1, &b.1)),
            Sort::MostSubscribed => {
                rows.sort_by(|a, b| b.1.subscribers.cmp(&a.1.subscribers).then(newest(&a.1, &b.1)))
            }
            Sort::BestRated => rows.sort_by(|a, b| {
                let rated = |s: &ListingSummary| (s.rating_tenths.unwrap_or(0), s.reviews);
                rated(&b.1).cmp(&rated(&a.1)).then(newest(&a.1, &b.1))
            }),
            Sort::Cheapest => rows.sort_by(|a, b| price(&a.1).cmp(&price(&b.1)).then(newest(&a.1, &b.1))),
        }
        let total = rows.len();
        let items: Vec<ListingSummary> = rows.into_iter().skip(offset).take(limit).map(|(_, s)| s).collect();
        let next_cursor = (offset + limit < total).then(|| (offset + limit).to_string());
        Ok(Page { items, next_cursor })
    }
}
