//! Cloud API: the marketplace (`/listings`, `/subscriptions`). Browsing is public; the rest
//! needs an account.
use super::error::ErrorBody;
use super::{
    caller::Caller,
    error::ApiError,
    extract::{AppJson, AppPath, ClientIp},
};
use crate::{error::ErrorCode, state::AppState};
use app::types::{
    Page,
    ids::{ListingId, PlanId, ReviewId, SubscriptionId},
    marketplace::{
        BrowseQuery, CreatedPlan, Deprecation, ListingAction, ListingSummary, ListingUpdate, ListingView,
        NewListing, NewPlan, NewReview, NewSubscription, PlanView, ReviewReply, ReviewView, SubscriberAction,
        SubscriptionActivity, SubscriptionUpdate, SubscriptionView,
    },
};
use axum::{
    Router,
    extract::{Query, State, rejection::QueryRejection},
    http::{StatusCode, request::Parts},
    routing::{get, post},
};

/// Marketplace routes under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/listings", get(browse_listings).post(create_listing))
        .route("/listings/mine", get(list_my_listings))
        .route("/listings/{id}", get(get_listing).patch(update_listing))
        .route("/listings/{id}/publish", post(publish_listing))
        .route("/listings/{id}/deprecate", post(deprecate_listing))
        .route("/listings/{id}/unpublish", post(unpublish_listing))
        .route("/listings/{id}/plans", post(create_plan))
        .route("/listings/{id}/plans/{plan}", get(get_invited_plan))
        .route("/listings/{id}/subscribers", get(list_subscribers))
        .route("/listings/{id}/reviews", get(list_reviews).post(review_listing))
        .route("/reviews/{id}/reply", post(reply_to_review))
        .route("/subscriptions", get(list_subscriptions).post(subscribe))
        .route(
            "/subscriptions/{id}",
            get(get_subscription).patch(update_subscription).delete(cancel_subscription),
        )
        .route("/subscriptions/{id}/usage", get(subscription_activity))
        .route("/subscriptions/{id}/{action}", post(act_on_subscription))
}

/// `GET /listings`: search and filter the marketplace (public: no account needed).
#[utoipa::path(get, path = "/api/v1/listings", tag = "Marketplace", params(BrowseQuery), security(()), responses((status = 200, body = Page<ListingSummary>), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn browse_listings(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    query: Result<Query<BrowseQuery>, QueryRejection>,
) -> Result<AppJson<Page<ListingSummary>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::new(ErrorCode::BadQuery, e.body_text()))?;
    if query.limit.is_some_and(|l| !(1..=100).contains(&l)) {
        return Err(ApiError::new(ErrorCode::BadLimit, "limit must be between 1 and 100."));
    }
    Ok(AppJson(state.marketplace.browse(query, client).await?))
}

/// `POST /listings`: 201 with a draft listing of one of the caller's `http` services.
#[utoipa::path(post, path = "/api/v1/listings", tag = "Marketplace", request_body = NewListing, responses((status = 201, body = ListingView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn create_listing(
    caller: Caller,
    State(state): State<AppState>,
    AppJson(input): AppJson<NewListing>,
) -> Result<(StatusCode, AppJson<ListingView>), ApiError> {
    Ok((StatusCode::CREATED, AppJson(state.marketplace.create_listing(&caller.account.id, input).await?)))
}

/// `GET /listings/mine`: the caller's listings, drafts too, with every plan.
#[utoipa::path(get, path = "/api/v1/listings/mine", tag = "Marketplace", responses((status = 200, body = Vec<ListingView>), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn list_my_listings(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<AppJson<Vec<ListingView>>, ApiError> {
    Ok(AppJson(state.marketplace.list_my_listings(&caller.account.id).await?))
}

/// `GET /listings/{id}`: a listing's page (public for listed ones; drafts for their provider).
#[utoipa::path(get, path = "/api/v1/listings/{id}", tag = "Marketplace", params(("id" = String, Path, description = "The listing's id")), security((), ("api_key" = []), ("session" = [])), responses((status = 200, body = ListingView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn get_listing(
    parts: Parts,
    State(state): State<AppState>,
    AppPath(id): AppPath<ListingId>,
) -> Result<AppJson<ListingView>, ApiError> {
    let viewer = parts.extensions.get::<Caller>().map(|c| c.account.id.clone());
    Ok(AppJson(state.marketplace.get_listing(viewer.as_ref(), &id).await?))
}

/// `PATCH /listings/{id}`: changes the caller's listing.
#[utoipa::path(patch, path = "/api/v1/listings/{id}", tag = "Marketplace", params(("id" = String, Path, description = "The listing's id")), request_body = ListingUpdate, responses((status = 200, body = ListingView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn update_listing(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<ListingId>,
    AppJson(update): AppJson<ListingUpdate>,
) -> Result<AppJson<ListingView>, ApiError> {
    Ok(AppJson(state.marketplace.update_listing(&caller.account.id, &id, update).await?))
}

/// `POST /listings/{id}/publish`: into the marketplace (needs a public plan and a healthy service).
#[utoipa::path(post, path = "/api/v1/listings/{id}/publish", tag = "Marketplace", params(("id" = String, Path, description = "The listing's id")), responses((status = 200, body = ListingView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn publish_listing(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<ListingId>,
) -> Result<AppJson<ListingView>, ApiError> {
    Ok(AppJson(state.marketplace.act(&caller.account.id, &id, ListingAction::Publish, None).await?))
}

/// `POST /listings/{id}/deprecate`: no new subscriptions; subscribers keep calling until the sunset.
#[utoipa::path(post, path = "/api/v1/listings/{id}/deprecate", tag = "Marketplace", params(("id" = String, Path, description = "The listing's id")), request_body = Deprecation, responses((status = 200, body = ListingView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn deprecate_listing(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<ListingId>,
    AppJson(deprecation): AppJson<Deprecation>,
) -> Result<AppJson<ListingView>, ApiError> {
    let sunset = Some(deprecation.sunset_at);
    Ok(AppJson(state.marketplace.act(&caller.account.id, &id, ListingAction::Deprecate, sunset).await?))
}

/// `POST /listings/{id}/unpublish`: out of the marketplace (subscriptions keep working).
#[utoipa::path(post, path = "/api/v1/listings/{id}/unpublish", tag = "Marketplace", params(("id" = String, Path, description = "The listing's id")), responses((status = 200, body = ListingView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn unpublish_listing(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<ListingId>,
) -> Result<AppJson<ListingView>, ApiError> {
    Ok(AppJson(state.marketplace.act(&caller.account.id, &id, ListingAction::Unpublish, None).await?))
}

/// `POST /listings/{id}/plans`: 201 with the new plan (and a private plan's invitation, shown once).
#[utoipa::path(post, path = "/api/v1/listings/{id}/plans", tag = "Marketplace", params(("id" = String, Path, description = "The listing's id")), request_body = NewPlan, responses((status = 201, body = CreatedPlan), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn create_plan(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<ListingId>,
    AppJson(input): AppJson<NewPlan>,
) -> Result<(StatusCode, AppJson<CreatedPlan>), ApiError> {
    Ok((StatusCode::CREATED, AppJson(state.marketplace.create_plan(&caller.account.id, &id, input).await?)))
}

/// The secret of a private plan's invitation link.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct InvitationQuery {
    /// The `invitation` of the link (`w4i_…`); a public plan needs none.
    #[serde(default)]
    invitation: String,
}

/// `GET /listings/{id}/plans/{plan}`: a plan's terms for the holder of its invitation link
/// (public: the invitation is the credential). A wrong invitation is a 404, like a plan that
/// does not exist.
#[utoipa::path(get, path = "/api/v1/listings/{id}/plans/{plan}", tag = "Marketplace", params(("id" = String, Path, description = "The listing's id"), ("plan" = String, Path, description = "The plan's id"), InvitationQuery), security(()), responses((status = 200, body = PlanView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn get_invited_plan(
    State(state): State<AppState>,
    AppPath((id, plan)): AppPath<(ListingId, PlanId)>,
    query: Result<Query<InvitationQuery>, QueryRejection>,
) -> Result<AppJson<PlanView>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::new(ErrorCode::BadQuery, e.body_text()))?;
    Ok(AppJson(state.marketplace.invited_plan(&id, &plan, &query.invitation).await?))
}

/// `GET /listings/{id}/subscribers`: who subscribes to the caller's listing, on which plan,
/// and their calls this month.
#[utoipa::path(get, path = "/api/v1/listings/{id}/subscribers", tag = "Marketplace", params(("id" = String, Path, description = "The listing's id")), responses((status = 200, body = Vec<SubscriptionView>), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn list_subscribers(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<ListingId>,
) -> Result<AppJson<Vec<SubscriptionView>>, ApiError> {
    Ok(AppJson(state.marketplace.list_subscribers(&caller.account.id, &id).await?))
}

/// `GET /subscriptions`: the caller's subscriptions with this month's use.
#[utoipa::path(get, path = "/api/v1/subscriptions", tag = "Marketplace", responses((status = 200, body = Vec<SubscriptionView>), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn list_subscriptions(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<AppJson<Vec<SubscriptionView>>, ApiError> {
    Ok(AppJson(state.marketplace.list_subscriptions(&caller.account.id).await?))
}

/// `POST /subscriptions`: 201; from then on the caller's keys with the `invoke` scope call the
/// listing's service, billed at the plan's price.
#[utoipa::path(post, path = "/api/v1/subscriptions", tag = "Marketplace", request_body = NewSubscription, responses((status = 201, body = SubscriptionView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn subscribe(
    caller: Caller,
    State(state): State<AppState>,
    AppJson(input): AppJson<NewSubscription>,
) -> Result<(StatusCode, AppJson<SubscriptionView>), ApiError> {
    Ok((StatusCode::CREATED, AppJson(state.marketplace.subscribe(&caller.account.id, input).await?)))
}

/// `GET /subscriptions/{id}`: to its consumer or to the listing's provider.
#[utoipa::path(get, path = "/api/v1/subscriptions/{id}", tag = "Marketplace", params(("id" = String, Path, description = "The subscription's id")), responses((status = 200, body = SubscriptionView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn get_subscription(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<SubscriptionId>,
) -> Result<AppJson<SubscriptionView>, ApiError> {
    Ok(AppJson(state.marketplace.get_subscription(&caller.account.id, &id).await?))
}

/// `GET /subscriptions/{id}/usage`: calls per day over the last 30 days, to the consumer or to
/// the listing's provider.
#[utoipa::path(get, path = "/api/v1/subscriptions/{id}/usage", tag = "Marketplace", params(("id" = String, Path, description = "The subscription's id")), responses((status = 200, body = SubscriptionActivity), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn subscription_activity(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<SubscriptionId>,
) -> Result<AppJson<SubscriptionActivity>, ApiError> {
    Ok(AppJson(state.marketplace.subscription_activity(&caller.account.id, &id).await?))
}

/// `PATCH /subscriptions/{id}`: the consumer sets or removes the spending cap.
#[utoipa::path(patch, path = "/api/v1/subscriptions/{id}", tag = "Marketplace", params(("id" = String, Path, description = "The subscription's id")), request_body = SubscriptionUpdate, responses((status = 200, body = SubscriptionView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn update_subscription(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<SubscriptionId>,
    AppJson(update): AppJson<SubscriptionUpdate>,
) -> Result<AppJson<SubscriptionView>, ApiError> {
    Ok(AppJson(state.marketplace.update_subscription(&caller.account.id, &id, update).await?))
}

/// `DELETE /subscriptions/{id}`: the consumer cancels; calls are refused from the next one on.
#[utoipa::path(delete, path = "/api/v1/subscriptions/{id}", tag = "Marketplace", params(("id" = String, Path, description = "The subscription's id")), responses((status = 200, body = SubscriptionView, description = "Cancelled"), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn cancel_subscription(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<SubscriptionId>,
) -> Result<AppJson<SubscriptionView>, ApiError> {
    Ok(AppJson(state.marketplace.cancel(&caller.account.id, &id).await?))
}

/// `POST /subscriptions/{id}/{action}`: the provider approves, rejects, suspends or resumes.
#[utoipa::path(post, path = "/api/v1/subscriptions/{id}/{action}", tag = "Marketplace", params(("id" = String, Path, description = "The subscription's id"), ("action" = String, Path, description = "approve, reject, suspend or resume")), responses((status = 200, body = SubscriptionView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn act_on_subscription(
    caller: Caller,
    State(state): State<AppState>,
    AppPath((id, action)): AppPath<(SubscriptionId, SubscriberAction)>,
) -> Result<AppJson<SubscriptionView>, ApiError> {
    Ok(AppJson(state.marketplace.act_on_subscription(&caller.account.id, &id, action).await?))
}

/// `GET /listings/{id}/reviews`: a listed listing's verified reviews (public).
#[utoipa::path(get, path = "/api/v1/listings/{id}/reviews", tag = "Marketplace", params(("id" = String, Path, description = "The listing's id")), security((), ("api_key" = []), ("session" = [])), responses((status = 200, body = Vec<ReviewView>), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn list_reviews(
    parts: Parts,
    State(state): State<AppState>,
    AppPath(id): AppPath<ListingId>,
) -> Result<AppJson<Vec<ReviewView>>, ApiError> {
    let viewer = parts.extensions.get::<Caller>().map(|c| c.account.id.clone());
    Ok(AppJson(state.marketplace.list_reviews(viewer.as_ref(), &id).await?))
}

/// `POST /listings/{id}/reviews`: the caller's review (created, or changed); only subscribers
/// with a metered call may review (403 `review_not_verified`).
#[utoipa::path(post, path = "/api/v1/listings/{id}/reviews", tag = "Marketplace", params(("id" = String, Path, description = "The listing's id")), request_body = NewReview, responses((status = 200, body = ReviewView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn review_listing(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<ListingId>,
    AppJson(input): AppJson<NewReview>,
) -> Result<AppJson<ReviewView>, ApiError> {
    Ok(AppJson(state.marketplace.review(&caller.account.id, &id, input).await?))
}

/// `POST /reviews/{id}/reply`: the listing's provider replies, once.
#[utoipa::path(post, path = "/api/v1/reviews/{id}/reply", tag = "Marketplace", params(("id" = String, Path, description = "The review's id")), request_body = ReviewReply, responses((status = 200, body = ReviewView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn reply_to_review(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<ReviewId>,
    AppJson(input): AppJson<ReviewReply>,
) -> Result<AppJson<ReviewView>, ApiError> {
    Ok(AppJson(state.marketplace.reply(&caller.account.id, &id, input).await?))
}
