//! A listing's reviews, on its page: the average rating, each review with the provider's
//! reply, the viewer's own review form (write or edit; only subscribers who made a billed call
//! may, and the refusal is shown next to the form) and, for the listing's provider, a Reply
//! form under each review not yet answered.
use crate::{
    AuthContext,
    api::{ReplyToReview, ReviewListing},
    error::PortalError,
    pages::common::when,
    types::{
        ids::{ListingId, ReviewId},
        marketplace::{ReviewView, rating_text},
    },
};
use leptos::prelude::*;

/// The labels of the five ratings, best first (as the select offers them).
const RATINGS: [(i64, &str); 5] =
    [(5, "5 — excellent"), (4, "4 — good"), (3, "3 — fair"), (2, "2 — poor"), (1, "1 — bad")];

/// "★★★★☆" for a rating of 4.
fn stars(rating: i64) -> String {
    let full = usize::try_from(rating.clamp(0, 5)).unwrap_or(0);
    format!("{}{}", "★".repeat(full), "☆".repeat(5 - full))
}

/// The last failure of an action, if any.
fn failed<T: Clone + Send + Sync + 'static>(
    value: MappedSignal<Option<Result<T, PortalError>>>,
) -> Option<PortalError> {
    value.with(|v| v.as_ref().and_then(|r| r.as_ref().err().cloned()))
}

#[component]
pub(super) fn Reviews(
    listing_id: ListingId,
    /// The listing's provider: they reply, and do not review.
    #[prop(into)]
    provider: crate::types::ids::AccountId,
    /// The average rating in tenths, as the marketplace keeps it on the listing.
    rating_tenths: Option<i64>,
    reviews: Vec<ReviewView>,
    review: ServerAction<ReviewListing>,
    reply: ServerAction<ReplyToReview>,
) -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    let viewer = auth.account.get_untracked().map(|a| a.id);
    let own_listing = viewer.as_ref() == Some(&provider);
    let mine = viewer.as_ref().and_then(|v| reviews.iter().find(|r| &r.author_id == v)).cloned();
    let summary = match rating_tenths {
        Some(tenths) => format!(
            "{} out of 5 · {} review{}",
            rating_text(tenths),
            reviews.len(),
            if reviews.len() == 1 { "" } else { "s" }
        ),
        None => "No reviews yet.".to_owned(),
    };
    let form = if own_listing {
        None
    } else if viewer.is_none() {
        Some(view! { <p class="muted small">"Subscribers who have called this API can review it once logged in."</p> }.into_any())
    } else {
        Some(view! { <ReviewFormView listing_id=listing_id.clone() mine review /> }.into_any())
    };
    let reply_error =
        move || failed(reply.value()).map(|e| e.field_error("body").unwrap_or_else(|| e.to_string()));
    view! {
        <section class="card reviews" data-testid="reviews" aria-labelledby="reviews-heading">
            <h2 id="reviews-heading">"Reviews"</h2>
            <p class="rating-summary" data-testid="rating-summary">
                {rating_tenths.map(|t| view! { <span class="stars" aria-hidden="true">{stars((t + 5) / 10)}</span> " " })}
                {summary}
            </p>
            {form}
            {own_listing.then(|| view! {
                {move || reply_error().map(|m| view! { <div class="banner error" role="alert" data-testid="reply-error">{m}</div> })}
            })}
            <ul class="review-list">
                {reviews
                    .into_iter()
                    .map(|r| {
                        let can_reply = own_listing && r.reply.is_none();
                        let id = r.id.clone();
                        view! {
                            <li class="review" data-testid="review">
                                <p>
                                    <span class="stars" aria-label=format!("{} out of 5", r.rating)>{stars(r.rating)}</span>
                                    " "
                                    <span class="muted small">{format!("Verified subscriber · {}", when(r.updated_at))}</span>
                                </p>
                                {(!r.body.is_empty()).then(|| view! { <p class="review-body">{r.body.clone()}</p> })}
                                {r.reply.clone().map(|text| view! {
                                    <blockquote class="review-reply" data-testid="review-reply">
                                        <strong>"Reply from the provider: "</strong>{text}
                                    </blockquote>
                                })}
                                {can_reply.then(|| view! { <ReplyForm listing_id=listing_id.clone() review_id=id reply /> })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}

/// Write (or edit) the viewer's review.
#[component]
fn ReviewFormView(
    listing_id: ListingId,
    mine: Option<ReviewView>,
    review: ServerAction<ReviewListing>,
) -> impl IntoView {
    let pending = review.pending();
    let error = move || failed(review.value());
    let field = move |name: &'static str| move || error().and_then(|e| e.field_error(name));
    let banner = move || error().filter(|e| !matches!(e, PortalError::Fields(_))).map(|e| e.to_string());
    let editing = mine.is_some();
    let current = mine.as_ref().map_or(5, |r| r.rating);
    let body = mine.map(|r| r.body).unwrap_or_default();
    let (rating_error, body_error) = (field("rating"), field("body"));
    view! {
        <ActionForm action=review attr:class="review-form" attr:data-testid="review-form">
            <h3>{if editing { "Edit your review" } else { "Write a review" }}</h3>
            {move || banner().map(|m| view! { <div class="banner error" role="alert" data-testid="review-error">{m}</div> })}
            <input type="hidden" name="listing_id" value=listing_id.to_string() />
            <div class="field">
                <label for="review-rating">"Rating"</label>
                <select id="review-rating" name="form[rating]" aria-describedby="review-rating-help">
                    {RATINGS.iter().map(|(value, label)| view! {
                        <option value=value.to_string() selected=*value == current>{*label}</option>
                    }).collect_view()}
                </select>
                <p id="review-rating-help" class="help field-error">{rating_error}</p>
            </div>
            <div class="field">
                <label for="review-body">"Your review"</label>
                <textarea id="review-body" name="form[body]" rows="3" maxlength="4000" aria-describedby="review-body-help">{body}</textarea>
                <p id="review-body-help" class="help" class:field-error=move || body_error().is_some()>
                    {move || body_error().unwrap_or_else(|| "Optional. Only subscribers who have called the API may review it.".into())}
                </p>
            </div>
            <button type="submit" class="button primary" disabled=pending data-testid="post-review">
                {move || match (pending.get(), editing) {
                    (true, _) => "Saving…",
                    (false, true) => "Update review",
                    (false, false) => "Post review",
                }}
            </button>
        </ActionForm>
    }
}

/// The provider's one reply to a review.
#[component]
fn ReplyForm(
    listing_id: ListingId,
    review_id: ReviewId,
    reply: ServerAction<ReplyToReview>,
) -> impl IntoView {
    let pending = reply.pending();
    let input_id = format!("reply-{review_id}");
    view! {
        <ActionForm action=reply attr:class="reply-form">
            <input type="hidden" name="listing_id" value=listing_id.to_string() />
            <input type="hidden" name="review_id" value=review_id.to_string() />
            <label for=input_id.clone()>"Reply (once, shown under the review)"</label>
            <textarea id=input_id name="body" rows="2" maxlength="4000" required></textarea>
            <button type="submit" class="button small" disabled=pending data-testid="post-reply">
                {move || if pending.get() { "Replying…" } else { "Reply" }}
            </button>
        </ActionForm>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_show_a_rating() {
        assert_eq!(stars(4), "★★★★☆");
    }
}
