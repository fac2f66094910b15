//! The service registry's use cases, as the Cloud API and the portal call them: each takes the
//! calling account and typed input, does every follow-up itself (a placement pass after a
//! change, the proxy secret shown once) and answers a view or one [`ServicesError`] /
//! [`InvokeError`]. The front ends only translate.
use super::{
    error::ServicesError,
    gateway::{Call, InvokeError, Invoked, invoke_id_for},
    registry,
    runtime::ServiceRuntime,
    views::NodeNames,
};
use crate::egress::EgressPolicy;
use crate::events::platform;
use app::types::{
    ids::{AccountId, KeyId, ServiceId},
    memory::NewBucket,
    services::{DiscoveryView, NewService, Page, ProxySecretView, ServiceKind, ServiceUpdate, ServiceView},
};
use axum::{
    body::{Body, to_bytes},
    http::{HeaderMap, Method, header},
};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use std::sync::Arc;

type Result<T, E = ServicesError> = std::result::Result<T, E>;

/// The service registry: registration, placement, discovery and invocation.
pub struct Services {
    db: DatabaseConnection,
    egress: Arc<EgressPolicy>,
    /// Services one account may register.
    max_services: u64,
    runtime: Arc<ServiceRuntime>,
    /// Where the registry's changes are told (`platform.service.*`).
    events: Arc<crate::events::Events>,
    /// Where a `kv` service's bucket is made.
    memory: Arc<crate::memory::Memory>,
}

/// Which service a call addresses.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    /// `{service}/{path}` as written after `/invoke/`: the service's id,
    /// `{owner-account-id}/{slug}`, or a slug of the caller's own.
    Route(&'a str),
    /// The service's id and the path to call (the portal's Try it).
    Service { id: &'a ServiceId, path: &'a str },
}

/// One call as a front end received it.
pub struct InvokeRequest<'a> {
    /// The calling account, which pays.
    pub payer: &'a AccountId,
    /// The API key it came with (`None` from the portal's session).
    pub key_id: Option<&'a KeyId>,
    /// The `Idempotency-Key` and when its record began: fixes the call's invoke id.
    pub idempotency: Option<(&'a str, DateTime<Utc>)>,
    pub target: Target<'a>,
    pub method: &'a Method,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    /// Read here, within the service's body limit and the body-read timeout.
    pub body: Body,
}

impl Services {
    /// The registry over `runtime`, refusing upstreams `egress` can never reach.
    pub fn new(
        db: DatabaseConnection,
        egress: Arc<EgressPolicy>,
        max_services: u64,
        runtime: Arc<ServiceRuntime>,
        events: Arc<crate::events::Events>,
        memory: Arc<crate::memory::Memory>,
    ) -> Self {
        Self { db, egress, max_services, runtime, events, memory }
    }

    /// Tells the account's event log about a change to one of its services.
    async fn tell(&self, account: &AccountId, topic: &'static str, view: &ServiceView) {
        let data = serde_json::json!({ "service_id": view.id, "slug": view.slug, "status": view.status });
        self.events.emit(account, topic, data).await;
    }

    /// The run time: placements, health, the catalog and the gateway.
    pub fn runtime(&self) -> &Arc<ServiceRuntime> {
        &self.runtime
    }

    async fn names(&self) -> Result<NodeNames> {
        self.runtime.names().await
    }

    /// A page of the account's services, newest first.
    pub async fn list(
        &self,
        account: &AccountId,
        cursor: Option<&str>,
        limit: Option<u64>,
    ) -> Result<Page<ServiceView>> {
        registry::list(&self.db, account, cursor, limit, &self.names().await?).await
    }

    /// The account's service, with its placements.
    pub async fn get(&self, account: &AccountId, id: &ServiceId) -> Result<ServiceView> {
        registry::get(&self.db, account, id, &self.names().await?).await
    }

    /// Registers a service and places it; the answer carries its first proxy secret, shown
    /// this once (only a service with an upstream has someone to send it to).
    ///
    /// A `kv` service exposes its owner's bucket named like its slug: it is made here when
    /// the account has none (before the registration, so a refused bucket — the account's
    /// bucket quota — refuses the service; a registration refused after it leaves an empty
    /// bucket). Deleting the service keeps the bucket: the data is the account's, deleted
    /// through the memory API only.
    pub async fn create(&self, account: &AccountId, input: NewService) -> Result<ServiceView> {
        if input.kind == ServiceKind::Kv && super::is_slug(input.slug.trim(), 63) {
            let bucket = NewBucket { name: input.slug.trim().to_owned(), ..NewBucket::default() };
            match self.memory.create_bucket(account, bucket).await {
                Ok(_) | Err(crate::memory::MemoryError::BucketExists(_)) => {}
                Err(err) => return Err(err.into()),
            }
        }
        let id =
            registry::create(&self.db, &self.egress, self.max_services, account, input, Utc::now()).await?;
        let mut view = self.settled(account, &id).await?;
        self.tell(account, platform::SERVICE_REGISTERED, &view).await;
        if view.http.is_some() {
            view.proxy_secret = Some(self.runtime.proxy_secret(&id, 1));
        }
        Ok(view)
    }

    /// Changes the fields given and places the service anew.
    pub async fn update(
        &self,
        account: &AccountId,
        id: &ServiceId,
        update: ServiceUpdate,
    ) -> Result<ServiceView> {
        registry::update(&self.db, &self.egress, account, id, update, Utc::now()).await?;
        let view = self.settled(account, id).await?;
        self.tell(account, platform::SERVICE_UPDATED, &view).await;
        Ok(view)
    }

    /// Deletes an inactive service and takes its placements down.
    pub async fn delete(&self, account: &AccountId, id: &ServiceId) -> Result<()> {
        registry::delete(&self.db, account, id).await?;
        self.runtime.reconcile().await?;
        self.events.emit(account, platform::SERVICE_DELETED, serde_json::json!({ "service_id": id })).await;
        Ok(())
    }

    /// Rotates the proxy secret and shows the new one, once; upstreams get it from the
    /// placement pass this runs.
    pub async fn rotate_proxy_secret(&self, account: &AccountId, id: &ServiceId) -> Result<ProxySecretView> {
        let generation = registry::rotate_proxy_secret(&self.db, account, id).await?;
        self.runtime.reconcile().await?;
        let proxy_secret = self.runtime.proxy_secret(id, generation);
        Ok(ProxySecretView { service_id: id.to_owned(), proxy_secret, generation })
    }

    /// The service's placements callers may use now.
    pub fn discover(&self, account: &AccountId, id: &ServiceId) -> Result<DiscoveryView> {
        self.runtime.discover(account, id)
    }

    /// After a change: one placement pass, then the service as it now stands.
    async fn settled(&self, account: &AccountId, id: &ServiceId) -> Result<ServiceView> {
        self.runtime.reconcile().await?;
        self.get(account, id).await
    }

    /// Calls a service through the mesh: resolves the target among the payer's services,
    /// checks status, kind and method before reading the body, reads the body within the
    /// service's limit and the read timeout, and makes the metered call.
    pub async fn invoke(&self, request: InvokeRequest<'_>) -> Result<Invoked, InvokeError> {
        let InvokeRequest { payer, key_id, idempotency, target, method, query, headers, body } = request;
        let (service, path) = match target {
            Target::Route(route) => self.runtime.resolve(payer, route)?,
            Target::Service { id, path } => (self.runtime.resolve(payer, id.as_str())?.0, path),
        };
        let admitted = self.runtime.admit(service.clone(), method)?;
        let ticket = self.runtime.entitle(payer, &service)?;
        let limit = admitted.body_limit();
        let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > u64::from(limit)) {
            return Err(InvokeError::BodyTooLarge { limit });
        }
        let wait = self.runtime.settings().body_read_timeout;
        let body = tokio::time::timeout(wait, to_bytes(body, limit as usize))
            .await
            .map_err(|_| InvokeError::BodyTimeout { ms: wait.as_millis() })?
            .map_err(|_| InvokeError::BodyTooLarge { limit })?;
        let path_and_query = match query {
            Some(q) => format!("{path}?{q}"),
            None => path.to_owned(),
        };
        self.runtime
            .invoke(Call {
                payer,
                key_id,
                invoke_id: idempotency.map(|(key, since)| invoke_id_for(payer, key, since)),
                service: admitted,
                method,
                path_and_query: &path_and_query,
                headers,
                body,
                ticket,
            })
            .await
    }
}
