//! The service page's cards that change it: edit its settings, and delete it.
use super::fields::ServiceFields;
use crate::{
    api::{DeleteService, UpdateService},
    types::{
        billing::plain_units,
        services::{ServiceForm, ServiceStatus, ServiceView},
    },
};
use leptos::prelude::*;

/// The collapsed "Edit settings" card: the service form, filled in with the service as it is.
#[component]
pub(super) fn EditService(service: ServiceView, update: ServerAction<UpdateService>) -> impl IntoView {
    let error =
        Signal::derive(move || update.value().with(|v| v.as_ref().and_then(|r| r.as_ref().err().cloned())));
    let saved = move || matches!(update.value().get(), Some(Ok(_)));
    let pending = update.pending();
    // Open when the last save failed (also after a plain form post came back with an error).
    let open = error.with_untracked(Option::is_some);
    view! {
        <Show when=saved>
            <p class="banner ok" role="status">"Saved."</p>
        </Show>
        <details class="card edit" open=open>
            <summary><h2>"Edit settings"</h2></summary>
            <ActionForm action=update attr:class="service-form">
                <input type="hidden" name="id" value=service.id.clone() />
                <ServiceFields initial=form_of(&service) error editing=true />
                <button type="submit" class="button primary" disabled=pending>
                    {move || if pending.get() { "Saving…" } else { "Save changes" }}
                </button>
            </ActionForm>
        </details>
    }
}

/// The "Delete" card: deleting takes a confirmation, and an inactive service.
#[component]
pub(super) fn DangerZone(service: ServiceView, delete: ServerAction<DeleteService>) -> impl IntoView {
    let error = move || delete.value().get().and_then(Result::err).map(|e| e.to_string());
    let pending = delete.pending();
    let active = service.status == ServiceStatus::Active;
    view! {
        <article class="card danger-zone">
            <h2>"Delete"</h2>
            <p class="muted">
                {if active { "Deactivate the service first. " } else { "" }}
                "Deleting removes the service and its settings for good; its invoke address stops working."
            </p>
            {move || error().map(|m| view! { <div class="banner error" role="alert" data-testid="delete-error">{m}</div> })}
            <ActionForm action=delete attr:class="remove-form">
                <input type="hidden" name="id" value=service.id.clone() />
                <label class="check">
                    <input type="checkbox" required />
                    " I understand this deletes "
                    <code>{service.slug.clone()}</code>
                </label>
                <button type="submit" class="button small danger" disabled=pending>"Delete service"</button>
            </ActionForm>
        </article>
    }
}

/// The edit form's starting values: the service as registered.
fn form_of(service: &ServiceView) -> ServiceForm {
    let http = service.http.as_ref();
    let check = service.health_check.as_ref();
    ServiceForm {
        slug: service.slug.clone(),
        name: service.name.clone(),
        description: service.description.clone(),
        version: service.version.clone(),
        tags: service.tags.join(", "),
        kind: service.kind.as_str().to_owned(),
        price_per_call: service.pricing.flat_price().map(plain_units).unwrap_or_default(),
        free_calls_per_month: service.pricing.free_calls_per_month.to_string(),
        tiers: service.pricing.tiers_text(),
        replicas: service.replicas.to_string(),
        upstream_url: http.map(|h| h.upstream_url.clone()).unwrap_or_default(),
        allowed_methods: http.map(|h| h.allowed_methods.join(", ")).unwrap_or_default(),
        timeout_ms: http.map(|h| h.timeout_ms.to_string()).unwrap_or_default(),
        max_body_bytes: http.map(|h| h.max_body_bytes.to_string()).unwrap_or_default(),
        health_path: check.map(|c| c.path.clone()).unwrap_or_default(),
        health_interval_ms: check.map(|c| c.interval_ms.to_string()).unwrap_or_default(),
        health_timeout_ms: check.map(|c| c.timeout_ms.to_string()).unwrap_or_default(),
        retries: service.policy.retries.to_string(),
        breaker_failures: service.policy.breaker_failures.to_string(),
        breaker_cooldown_ms: service.policy.breaker_cooldown_ms.to_string(),
    }
}
