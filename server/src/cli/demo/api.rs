//! The Cloud API calls the demo makes, one method per endpoint, typed with the shared wire
//! views of `app::types`: read it as the flow a real client follows (sign up, mint a key,
//! register, list, subscribe, call, read the bill).
use anyhow::{Context, bail};
use app::types::{
    AccountView, Credentials,
    billing::{EarningsView, InvoiceView},
    keys::{CreatedApiKey, NewApiKey, Scope},
    marketplace::{CreatedPlan, ListingView, NewListing, NewPlan, NewSubscription, SubscriptionView},
    nodes::NodeView,
    services::{DiscoveryView, NewService, ServiceView},
};
use reqwest::{RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use std::{sync::Arc, time::Duration};

/// One account's client of the Cloud API: a session cookie (right after sign-up) or an API
/// key (`Authorization: Bearer w4k_…`, what scripts and services use).
#[derive(Clone)]
pub struct Api {
    base: String,
    client: reqwest::Client,
}

impl Api {
    /// A client that keeps the session cookie sign-up sets.
    pub fn session(base: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .cookie_provider(Arc::new(reqwest::cookie::Jar::default()))
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self { base: base.to_owned(), client })
    }

    /// A client that presents the API key `secret` on every request.
    pub fn with_key(base: &str, secret: &str) -> anyhow::Result<Self> {
        let mut headers = reqwest::header::HeaderMap::new();
        let mut value = reqwest::header::HeaderValue::try_from(format!("Bearer {secret}"))?;
        value.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, value);
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .build()?;
        Ok(Self { base: base.to_owned(), client })
    }

    /// `{base}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The underlying HTTP client (the calls to the service use it directly, to time them).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// `POST /api/v1/auth/signup`: creates the account and logs this client in. The first
    /// account of a platform becomes its operator.
    pub async fn sign_up(&self, email: &str, password: &str) -> anyhow::Result<AccountView> {
        let credentials = Credentials { email: email.to_owned(), password: password.to_owned() };
        let request = self.client.post(self.url("/api/v1/auth/signup")).json(&credentials);
        expect(request, StatusCode::CREATED, "sign up").await
    }

    /// `POST /api/v1/keys`: an API key; its secret is in this answer only.
    pub async fn create_key(&self, name: &str, scopes: &[Scope]) -> anyhow::Result<CreatedApiKey> {
        let body = NewApiKey { name: name.to_owned(), scopes: scopes.to_vec(), expires_at: None };
        expect(
            self.client.post(self.url("/api/v1/keys")).json(&body),
            StatusCode::CREATED,
            "create an API key",
        )
        .await
    }

    /// `POST /api/v1/services`: registers a service; the platform places it on nodes and
    /// starts health-checking it.
    pub async fn register(&self, service: &NewService) -> anyhow::Result<ServiceView> {
        let request = self.client.post(self.url("/api/v1/services")).json(service);
        expect(request, StatusCode::CREATED, "register the service").await
    }

    /// `GET /api/v1/services/{id}/discovery`: the placements that can take calls now.
    pub async fn discovery(&self, service: &ServiceView) -> anyhow::Result<DiscoveryView> {
        let request = self.client.get(self.url(&format!("/api/v1/services/{}/discovery", service.id)));
        expect(request, StatusCode::OK, "discover the service").await
    }

    /// `POST /api/v1/listings`: a draft listing of one of the caller's services.
    pub async fn create_listing(&self, listing: &NewListing) -> anyhow::Result<ListingView> {
        let request = self.client.post(self.url("/api/v1/listings")).json(listing);
        expect(request, StatusCode::CREATED, "create the listing").await
    }

    /// `POST /api/v1/listings/{id}/plans`: a plan consumers can subscribe to.
    pub async fn create_plan(&self, listing: &ListingView, plan: &NewPlan) -> anyhow::Result<CreatedPlan> {
        let request =
            self.client.post(self.url(&format!("/api/v1/listings/{}/plans", listing.id))).json(plan);
        expect(request, StatusCode::CREATED, "create the plan").await
    }

    /// `POST /api/v1/listings/{id}/publish`: into the marketplace (needs a healthy service).
    pub async fn publish(&self, listing: &ListingView) -> anyhow::Result<ListingView> {
        let request = self.client.post(self.url(&format!("/api/v1/listings/{}/publish", listing.id)));
        expect(request, StatusCode::OK, "publish the listing").await
    }

    /// `POST /api/v1/subscriptions`: the caller subscribes to a plan.
    pub async fn subscribe(&self, subscription: &NewSubscription) -> anyhow::Result<SubscriptionView> {
        let request = self.client.post(self.url("/api/v1/subscriptions")).json(subscription);
        expect(request, StatusCode::CREATED, "subscribe").await
    }

    /// `GET /api/v1/nodes` (the operator only): the mesh's nodes, to name a route's hops.
    pub async fn nodes(&self) -> anyhow::Result<Vec<NodeView>> {
        expect(self.client.get(self.url("/api/v1/nodes")), StatusCode::OK, "list the nodes").await
    }

    /// `GET /api/v1/billing/preview`: the caller's bill for the open month, so far.
    pub async fn billing_preview(&self) -> anyhow::Result<InvoiceView> {
        expect(self.client.get(self.url("/api/v1/billing/preview")), StatusCode::OK, "preview the bill").await
    }

    /// `GET /api/v1/earnings`: what the caller's services earned, less the platform's fee.
    pub async fn earnings(&self) -> anyhow::Result<EarningsView> {
        expect(self.client.get(self.url("/api/v1/earnings")), StatusCode::OK, "read the earnings").await
    }
}

/// Sends `request`, insists on `status`, reads the JSON answer; any other status becomes an
/// error naming the step and the platform's own code and message.
async fn expect<T: DeserializeOwned>(
    request: RequestBuilder,
    status: StatusCode,
    what: &str,
) -> anyhow::Result<T> {
    let response = request.send().await.with_context(|| format!("cannot {what}: the request failed"))?;
    let got = response.status();
    let body = response.text().await.with_context(|| format!("cannot {what}: the answer was cut"))?;
    if got != status {
        let value: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        match (value["error"]["code"].as_str(), value["error"]["message"].as_str()) {
            (Some(code), Some(message)) => bail!("cannot {what}: {got} {code}: {message}"),
            _ => bail!("cannot {what}: {got}: {}", body.chars().take(300).collect::<String>()),
        }
    }
    serde_json::from_str(&body).with_context(|| format!("cannot {what}: unexpected answer {body}"))
}
